//! A down-counter in virtual time with the behaviour of QEMU's `ptimer` under the policies
//! the CMSDK timers use (`WRAP_AFTER_ONE_PERIOD | TRIGGER_ONLY_ON_DECREMENT |
//! NO_IMMEDIATE_RELOAD | NO_COUNTER_ROUND_DOWN`), computed lazily:
//!
//! - Started with count D > 0, it reads D, D-1, ... and reaches 0 (the interrupt) D ticks
//!   after the start.
//! - Periodic with a reload value L > 0, it then reads 0 for one tick and L, L-1, ... 1,
//!   so zeros (interrupts) come every L+1 ticks, as the CMSDK TRM describes.
//! - Started at 0 (periodic, L > 0) it does the same without an interrupt for the zero it
//!   started at; one-shot, or with L = 0, it does not start at all.
//! - A one-shot counter, or a periodic one whose reload value is 0, stops at 0.
//!
//! The counter value is a function of the time; nothing ticks. The owner schedules an event
//! at [`Countdown::next_zero_at`] and calls [`Countdown::expire`] whenever it runs (late
//! calls are fine: several missed periods count as one interrupt, like a latched status bit).
//!
//! Changes go through a "transaction" like ptimer's: the mutators record that the counter
//! must restart and [`Countdown::commit`] restarts it once, from the count and reload value
//! as they are at the end.
//!
//! QEMU differs in one way firmware cannot rely on: without `-icount` it stretches periodic
//! timers shorter than 10 us to 10 us for host performance; armlet runs them at their
//! programmed rate.

use super::common::{cycles_for, ticks_in, Time};

/// How the counter runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Stopped,
    Periodic,
    OneShot,
}

/// Where a running counter is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Timing {
    /// The cycle the current run started at.
    base: u64,
    /// The tick (since `base`) of the next zero.
    next_zero: u64,
    /// The tick at which the counter reads 0 before reloading (the previous zero).
    hold: Option<u64>,
}

/// A lazily computed down-counter.
#[derive(Debug, Clone)]
pub(crate) struct Countdown {
    limit: u64,
    /// The count while stopped (or to start from, when a restart is pending).
    delta: u64,
    /// The input clock; `None` for the CPU clock.
    clk_hz: Option<u64>,
    /// Prescaler: one count per `div` input clocks.
    div: u64,
    mode: Mode,
    timing: Timing,
    need_reload: bool,
}

impl Countdown {
    /// A stopped counter at 0 with reload value 0, counting a `clk_hz` clock (`None`: the
    /// CPU clock).
    pub fn new(clk_hz: Option<u64>) -> Self {
        Countdown {
            limit: 0,
            delta: 0,
            clk_hz: clk_hz.map(|c| c.max(1)),
            div: 1,
            mode: Mode::Stopped,
            timing: Timing {
                base: 0,
                next_zero: 0,
                hold: None,
            },
            need_reload: false,
        }
    }

    /// The reload value.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// How it runs.
    #[cfg(test)]
    pub fn mode(&self) -> Mode {
        self.mode
    }

    fn elapsed(&self, t: Time) -> u64 {
        let clk = self.clk_hz.unwrap_or(t.cpu_hz);
        ticks_in(
            t.now.saturating_sub(self.timing.base),
            t.cpu_hz,
            clk,
            self.div,
        )
    }

    /// The counter value now.
    pub fn count(&self, t: Time) -> u64 {
        if self.mode == Mode::Stopped || self.need_reload {
            return self.delta;
        }
        let Timing {
            next_zero, hold, ..
        } = self.timing;
        let e = self.elapsed(t);
        if e < next_zero {
            if hold == Some(e) {
                0
            } else {
                next_zero - e
            }
        } else if self.mode == Mode::OneShot || self.limit == 0 {
            0
        } else {
            // Past a zero whose expiry has not been processed yet: keep wrapping.
            let f = (e - next_zero) % (self.limit + 1);
            if f == 0 {
                0
            } else {
                self.limit + 1 - f
            }
        }
    }

    /// Stop, keeping the current count.
    pub fn stop(&mut self, t: Time) {
        if self.mode != Mode::Stopped {
            self.delta = self.count(t);
            self.mode = Mode::Stopped;
            self.need_reload = false;
        }
    }

    /// Set the count; a running counter restarts from it at commit.
    pub fn set_count(&mut self, count: u64) {
        self.delta = count;
        if self.mode != Mode::Stopped {
            self.need_reload = true;
        }
    }

    /// Set the reload value; with `reload` also the count (restarting a running counter).
    pub fn set_limit(&mut self, limit: u64, reload: bool) {
        self.limit = limit;
        if reload {
            self.set_count(limit);
        }
    }

    /// Run (periodic or one-shot). A counter already running only changes mode.
    pub fn run(&mut self, oneshot: bool) {
        let was_stopped = self.mode == Mode::Stopped;
        self.mode = if oneshot {
            Mode::OneShot
        } else {
            Mode::Periodic
        };
        if was_stopped {
            self.need_reload = true;
        }
    }

    /// Change the prescaler; a running counter restarts from its current count at commit.
    pub fn set_divisor(&mut self, div: u64, t: Time) {
        let div = div.max(1);
        if div == self.div {
            return;
        }
        self.delta = self.count(t);
        self.div = div;
        if self.mode != Mode::Stopped {
            self.need_reload = true;
        }
    }

    /// End of a register write: restart if a change asked for it.
    pub fn commit(&mut self, t: Time) {
        if std::mem::take(&mut self.need_reload) && self.mode != Mode::Stopped {
            self.restart(t);
        }
    }

    /// ptimer_reload() for a start or a count write: count down from `delta`; from 0, a
    /// periodic counter holds 0 for a tick and reloads without an interrupt, anything else
    /// stops.
    fn restart(&mut self, t: Time) {
        if self.delta > 0 {
            self.timing = Timing {
                base: t.now,
                next_zero: self.delta,
                hold: None,
            };
        } else if self.mode == Mode::Periodic && self.limit != 0 {
            self.timing = Timing {
                base: t.now,
                next_zero: self.limit + 1,
                hold: Some(0),
            };
        } else {
            self.mode = Mode::Stopped;
        }
    }

    /// The cycle of the next zero (the next interrupt), if running.
    pub fn next_zero_at(&self, cpu_hz: u64) -> Option<u64> {
        if self.mode == Mode::Stopped || self.need_reload {
            return None;
        }
        let clk = self.clk_hz.unwrap_or(cpu_hz);
        let d = cycles_for(self.timing.next_zero, cpu_hz, clk, self.div);
        Some(self.timing.base.saturating_add(d))
    }

    /// Process the zeros reached by now; true if there was at least one (the interrupt).
    pub fn expire(&mut self, t: Time) -> bool {
        if self.mode == Mode::Stopped || self.need_reload {
            return false;
        }
        let e = self.elapsed(t);
        let z = self.timing.next_zero;
        if e < z {
            return false;
        }
        if self.mode == Mode::OneShot || self.limit == 0 {
            self.mode = Mode::Stopped;
            self.delta = 0;
        } else {
            let period = self.limit + 1;
            let last = z + (e - z) / period * period;
            self.timing.hold = Some(last);
            self.timing.next_zero = last + period;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HZ: u64 = 1_000_000;

    fn t(now: u64) -> Time {
        Time { now, cpu_hz: HZ }
    }

    fn counts(c: &Countdown, from: u64, to: u64) -> Vec<u64> {
        (from..=to).map(|n| c.count(t(n))).collect()
    }

    #[test]
    fn periodic_counts_down_then_holds_zero_for_a_tick() {
        let mut c = Countdown::new(None);
        c.set_limit(3, true);
        c.run(false);
        c.commit(t(100));
        assert_eq!(counts(&c, 100, 103), [3, 2, 1, 0]);
        assert_eq!(c.next_zero_at(HZ), Some(103));
        assert!(!c.expire(t(102)));
        assert!(c.expire(t(103)));
        assert_eq!(counts(&c, 103, 111), [0, 3, 2, 1, 0, 3, 2, 1, 0]);
        assert_eq!(c.next_zero_at(HZ), Some(107));
        // Late: two periods missed count as one expiry.
        assert!(c.expire(t(112)));
        assert_eq!(c.next_zero_at(HZ), Some(115));
        assert_eq!(c.count(t(112)), 3);
    }

    #[test]
    fn one_shot_stops_at_zero_and_zero_start_rules() {
        let mut c = Countdown::new(None);
        c.set_count(5);
        c.run(true);
        c.commit(t(0));
        assert!(c.expire(t(5)));
        assert_eq!(c.mode(), Mode::Stopped);
        assert_eq!(c.count(t(50)), 0);
        // Starting a one-shot at 0 does nothing.
        c.run(true);
        c.commit(t(60));
        assert_eq!(c.mode(), Mode::Stopped);
        // Periodic from 0 with a reload value: zero for one tick, then L ticks.
        c.set_limit(4, false);
        c.run(false);
        c.commit(t(70));
        assert_eq!(counts(&c, 70, 75), [0, 4, 3, 2, 1, 0]);
        assert_eq!(c.next_zero_at(HZ), Some(75));
        // Stop keeps the count; restarting counts on from it.
        c.stop(t(72));
        assert_eq!(c.count(t(90)), 3);
        c.run(false);
        c.commit(t(90));
        assert_eq!(c.next_zero_at(HZ), Some(93));
    }

    #[test]
    fn prescaler_and_slow_clocks() {
        let mut c = Countdown::new(None);
        c.set_divisor(16, t(0));
        c.set_limit(2, true);
        c.run(false);
        c.commit(t(1000));
        assert_eq!(c.count(t(1015)), 2);
        assert_eq!(c.count(t(1016)), 1);
        assert_eq!(c.next_zero_at(HZ), Some(1032));
        // Changing the prescaler mid-count restarts from the current count.
        c.set_divisor(1, t(1020));
        c.commit(t(1020));
        assert_eq!(c.next_zero_at(HZ), Some(1021));
        // A 300 kHz clock on a 1 MHz CPU: tick n lands on cycle ceil(n * 10 / 3).
        let mut c = Countdown::new(Some(300_000));
        c.set_count(3);
        c.run(true);
        c.commit(t(0));
        assert_eq!(c.next_zero_at(HZ), Some(10));
        let mut c = Countdown::new(Some(300_000));
        c.set_count(4);
        c.run(true);
        c.commit(t(0));
        assert_eq!(c.next_zero_at(HZ), Some(14));
    }
}
