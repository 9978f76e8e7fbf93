//! State shared between the machine and its devices: virtual time, the event queue and the
//! NVIC's exception state (pending/active/enabled/priorities and the external lines that
//! feed it).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Who an event belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventOwner {
    /// A device (index in the bus's device list).
    Device(usize),
    /// The SysTick timer in the System Control Space.
    SysTick,
}

/// Timer events in virtual time (CPU cycles), fired in time order, ties in scheduling order.
#[derive(Debug, Default)]
pub struct EventQueue {
    heap: BinaryHeap<Reverse<(u64, u64, EventOwner, u64)>>,
    seq: u64,
}

impl EventQueue {
    /// Schedule (owner, token) at `at`, replacing an earlier schedule of the same pair.
    pub fn schedule(&mut self, at: u64, owner: EventOwner, token: u64) {
        self.cancel(owner, token);
        self.seq += 1;
        self.heap.push(Reverse((at, self.seq, owner, token)));
    }

    /// Remove (owner, token) if scheduled.
    pub fn cancel(&mut self, owner: EventOwner, token: u64) {
        if self.heap.iter().any(|e| e.0 .2 == owner && e.0 .3 == token) {
            self.heap.retain(|e| !(e.0 .2 == owner && e.0 .3 == token));
        }
    }

    /// Remove every event of `owner`.
    pub fn cancel_all(&mut self, owner: EventOwner) {
        self.heap.retain(|e| e.0 .2 != owner);
    }

    /// When the next event is due.
    pub fn next_due(&self) -> Option<u64> {
        self.heap.peek().map(|e| e.0 .0)
    }

    /// Take the next event if it is due at or before `now`.
    pub fn pop_due(&mut self, now: u64) -> Option<(u64, EventOwner, u64)> {
        if self.heap.peek()?.0 .0 <= now {
            let Reverse((at, _, owner, token)) = self.heap.pop()?;
            Some((at, owner, token))
        } else {
            None
        }
    }

    /// The owners of the scheduled events (in no particular order, repeats possible).
    pub fn owners(&self) -> impl Iterator<Item = EventOwner> + '_ {
        self.heap.iter().map(|e| e.0 .2)
    }

    /// True if nothing is scheduled.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

/// Exception numbers (B1.5.2).
pub mod exc {
    /// Reset.
    pub const RESET: usize = 1;
    /// Non-maskable interrupt.
    pub const NMI: usize = 2;
    /// HardFault.
    pub const HARDFAULT: usize = 3;
    /// MemManage fault.
    pub const MEMMANAGE: usize = 4;
    /// BusFault.
    pub const BUSFAULT: usize = 5;
    /// UsageFault.
    pub const USAGEFAULT: usize = 6;
    /// Supervisor call.
    pub const SVCALL: usize = 11;
    /// Debug monitor.
    pub const DEBUGMON: usize = 12;
    /// PendSV.
    pub const PENDSV: usize = 14;
    /// SysTick.
    pub const SYSTICK: usize = 15;
    /// The first external interrupt.
    pub const IRQ0: usize = 16;

    /// The exception's name as the ARMv7-M ARM writes it: "SysTick", "IRQ 3", ...
    pub fn name(e: usize) -> String {
        match e {
            0 => "Thread mode".into(),
            RESET => "Reset".into(),
            NMI => "NMI".into(),
            HARDFAULT => "HardFault".into(),
            MEMMANAGE => "MemManage".into(),
            BUSFAULT => "BusFault".into(),
            USAGEFAULT => "UsageFault".into(),
            SVCALL => "SVCall".into(),
            DEBUGMON => "DebugMonitor".into(),
            PENDSV => "PendSV".into(),
            SYSTICK => "SysTick".into(),
            e if e >= IRQ0 => format!("IRQ {}", e - IRQ0),
            e => format!("reserved exception {e}"),
        }
    }
}

/// The NVIC's view of every exception: enabled, pending, active, priority.
/// A set of exception numbers, one bit each: the NVIC's scans for the highest pending or
/// active exception visit only the set bits. Reads index like a `Vec<bool>`; writes go
/// through [`ExcBits::set`]. Indexing past the end panics, as a slice does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExcBits {
    words: Vec<u64>,
    len: usize,
}

impl ExcBits {
    /// `len` bits, all clear.
    pub fn new(len: usize) -> ExcBits {
        ExcBits {
            words: vec![0; len.div_ceil(64)],
            len,
        }
    }

    /// The number of bits.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if there are no bits at all.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bit `e`.
    #[inline]
    pub fn get(&self, e: usize) -> bool {
        assert!(e < self.len, "exception {e} out of range ({})", self.len);
        self.words[e / 64] >> (e % 64) & 1 != 0
    }

    /// Set bit `e` to `v`.
    #[inline]
    pub fn set(&mut self, e: usize, v: bool) {
        assert!(e < self.len, "exception {e} out of range ({})", self.len);
        let (w, b) = (e / 64, 1u64 << (e % 64));
        if v {
            self.words[w] |= b;
        } else {
            self.words[w] &= !b;
        }
    }

    /// Clear every bit.
    pub fn clear(&mut self) {
        self.words.fill(0);
    }

    /// The number of set bits.
    pub fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The set bits from `from` on, in increasing order.
    pub fn ones_from(&self, from: usize) -> impl Iterator<Item = usize> + '_ {
        self.ones_and(self, from)
    }

    /// The bits set in both `self` and `other` from `from` on, in increasing order.
    pub fn ones_and<'a>(
        &'a self,
        other: &'a ExcBits,
        from: usize,
    ) -> impl Iterator<Item = usize> + 'a {
        self.words
            .iter()
            .zip(&other.words)
            .enumerate()
            .flat_map(move |(i, (&a, &b))| {
                let below = (64 * i..64 * i + 64).contains(&from);
                let mut w = a
                    & b
                    & if below {
                        !0u64 << (from % 64)
                    } else if 64 * i < from {
                        0
                    } else {
                        !0
                    };
                std::iter::from_fn(move || {
                    (w != 0).then(|| {
                        let bit = w.trailing_zeros() as usize;
                        w &= w - 1;
                        64 * i + bit
                    })
                })
            })
    }
}

impl std::ops::Index<usize> for ExcBits {
    type Output = bool;
    #[inline]
    fn index(&self, e: usize) -> &bool {
        if self.get(e) {
            &true
        } else {
            &false
        }
    }
}

#[derive(Debug, Clone)]
pub struct Nvic {
    /// Number of external interrupt lines.
    pub num_irq: usize,
    /// Implemented priority bits (the top bits of each 8-bit priority field).
    pub prio_bits: u8,
    /// Enabled, by exception number (faults via SHCSR, IRQs via ISER; others always).
    pub enabled: ExcBits,
    /// Pending, by exception number.
    pub pending: ExcBits,
    /// Active, by exception number.
    pub active: ExcBits,
    /// Priority register values (masked to the implemented bits), by exception number.
    pub prio: Vec<u8>,
    /// AIRCR.PRIGROUP.
    pub prigroup: u8,
    /// Per external line: how many device outputs drive it high.
    line_high: Vec<u16>,
}

impl Nvic {
    /// An NVIC with `num_irq` external lines and `prio_bits` priority bits, in reset state.
    pub fn new(num_irq: usize, prio_bits: u8) -> Nvic {
        let n = exc::IRQ0 + num_irq;
        let mut nvic = Nvic {
            num_irq,
            prio_bits: prio_bits.clamp(2, 8),
            enabled: ExcBits::new(n),
            pending: ExcBits::new(n),
            active: ExcBits::new(n),
            prio: vec![0; n],
            prigroup: 0,
            line_high: vec![0; num_irq],
        };
        nvic.reset();
        nvic
    }

    /// Reset state: nothing pending or active, priorities 0, IRQs disabled. External line
    /// levels are kept (devices lower their own outputs when they reset).
    pub fn reset(&mut self) {
        self.pending.clear();
        self.active.clear();
        self.prio.fill(0);
        self.enabled.clear();
        for e in [
            exc::RESET,
            exc::NMI,
            exc::HARDFAULT,
            exc::SVCALL,
            exc::PENDSV,
            exc::SYSTICK,
        ] {
            self.enabled.set(e, true);
        }
        self.prigroup = 0;
    }

    /// Number of exceptions (16 + external lines).
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Always false: there are at least the 16 system exceptions.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The mask of implemented priority bits.
    pub fn prio_mask(&self) -> u8 {
        (0xffu16 << (8 - self.prio_bits)) as u8
    }

    /// Priority of an exception: -3/-2/-1 for reset/NMI/HardFault, else its register.
    pub fn priority(&self, e: usize) -> i32 {
        match e {
            exc::RESET => -3,
            exc::NMI => -2,
            exc::HARDFAULT => -1,
            _ => i32::from(self.prio[e]),
        }
    }

    /// A priority with its subpriority bits removed (PRIGROUP).
    pub fn group(&self, p: i32) -> i32 {
        if p < 0 {
            p
        } else {
            p & !((2i32 << self.prigroup) - 1)
        }
    }

    /// `ExecutionPriority()` (B1.5.4) for the given masks, from the active exceptions.
    pub fn execution_priority(&self, primask: bool, faultmask: bool, basepri: u8) -> i32 {
        let highest = if self.active[exc::NMI] {
            -2
        } else if self.active[exc::HARDFAULT] {
            -1
        } else {
            // PRIGROUP masking keeps the order: mask the lowest configurable priority.
            self.active
                .ones_from(exc::MEMMANAGE)
                .map(|e| self.prio[e])
                .min()
                .map_or(256, |p| self.group(i32::from(p)))
        };
        let mut boosted = 256;
        if basepri & self.prio_mask() != 0 {
            boosted = self.group(i32::from(basepri & self.prio_mask()));
        }
        if primask {
            boosted = 0;
        }
        if faultmask {
            boosted = -1;
        }
        highest.min(boosted)
    }

    /// The pending, enabled exception that would be taken next (highest priority, lowest
    /// number on ties), regardless of masking.
    pub fn highest_pending(&self) -> Option<usize> {
        for e in [exc::NMI, exc::HARDFAULT] {
            if self.pending[e] && self.enabled[e] {
                return Some(e);
            }
        }
        let mut best: Option<(u8, usize)> = None;
        for e in self.pending.ones_and(&self.enabled, exc::MEMMANAGE) {
            let p = self.prio[e];
            if best.is_none_or(|(bp, _)| p < bp) {
                best = Some((p, e));
            }
        }
        best.map(|(_, e)| e)
    }

    /// The exception to take now, if one preempts execution priority `exec_prio`.
    pub fn to_take(&self, exec_prio: i32) -> Option<usize> {
        let e = self.highest_pending()?;
        (self.group(self.priority(e)) < exec_prio).then_some(e)
    }

    /// Number of active exceptions.
    pub fn active_count(&self) -> usize {
        self.active.count()
    }

    /// Deactivate `e` (exception return); a level-sensitive line still high pends again.
    pub fn deactivate(&mut self, e: usize) {
        self.active.set(e, false);
        if e >= exc::IRQ0 && self.line_high[e - exc::IRQ0] > 0 {
            self.pending.set(e, true);
        }
    }

    /// Clear pending (ICPR); a line still driven high stays pending.
    pub fn clear_pending(&mut self, e: usize) {
        self.pending.set(
            e,
            e >= exc::IRQ0 && self.line_high[e - exc::IRQ0] > 0 && !self.active[e],
        );
    }

    /// True if external line `n` is driven high.
    pub fn line_level(&self, n: usize) -> bool {
        self.line_high.get(n).is_some_and(|&c| c > 0)
    }
}

/// Shared machine I/O state: the clock, the event queue, the NVIC and the device IRQ
/// outputs wired to it.
#[derive(Debug)]
pub struct IoState {
    /// CPU clock in Hz.
    pub cpu_hz: u64,
    /// Instructions executed at the current instruction (kept current by the CPU through
    /// [`armlet_cpu::Bus::at_instruction`]).
    pub icount: u64,
    /// Cycles spent asleep (WFI/WFE skipping ahead), added to the instruction count.
    pub slept: u64,
    /// Timer events.
    pub events: EventQueue,
    /// Exception state.
    pub nvic: Nvic,
    /// Levels of device outputs: (device, output) -> (line, level).
    sources: rustc_hash::FxHashMap<(usize, usize), (u32, bool)>,
    /// Set when something changed that the machine must look at before the next
    /// instruction (an interrupt became pending).
    pub attention: bool,
    /// IPSR of the core (mirrored by the machine before it runs the CPU).
    pub ipsr: u16,
    /// Guest memory ranges written by device DMA since the machine last looked (their
    /// decoded code must be dropped).
    pub dma_writes: Vec<(u32, u32)>,
    /// True if the core runs privileged (mirrored by the machine).
    pub privileged: bool,
    /// An exception became pending since the core last entered WFE (for SCR.SEVONPEND; the
    /// machine clears it when the core goes to sleep).
    pub pended: bool,
}

impl IoState {
    /// Fresh state for a board.
    pub fn new(cpu_hz: u64, num_irq: usize, prio_bits: u8) -> IoState {
        IoState {
            cpu_hz: cpu_hz.max(1),
            icount: 0,
            slept: 0,
            events: EventQueue::default(),
            nvic: Nvic::new(num_irq, prio_bits),
            sources: Default::default(),
            attention: false,
            ipsr: 0,
            dma_writes: Vec::new(),
            privileged: true,
            pended: false,
        }
    }

    /// Virtual time in CPU cycles: one per instruction plus time slept.
    #[inline]
    pub fn now(&self) -> u64 {
        self.icount + self.slept
    }

    /// Drive a device output wired to external line `line`.
    pub fn set_source(&mut self, dev: usize, output: usize, line: u32, level: bool) {
        let old = self
            .sources
            .insert((dev, output), (line, level))
            .is_some_and(|(_, l)| l);
        if old == level {
            return;
        }
        let n = line as usize;
        let Some(count) = self.nvic.line_high.get_mut(n) else {
            tracing::warn!(
                line,
                "device drives IRQ line {line}, which the NVIC does not have"
            );
            return;
        };
        if level {
            *count += 1;
            if *count == 1 {
                // Rising edge: the interrupt becomes pending (B3.4.1).
                self.nvic.pending.set(exc::IRQ0 + n, true);
                self.attention = true;
                self.pended = true;
            }
        } else {
            *count = count.saturating_sub(1);
        }
    }

    /// Pend exception `e` (software or a system timer).
    pub fn pend(&mut self, e: usize) {
        if e < self.nvic.len() {
            self.nvic.pending.set(e, true);
            self.attention = true;
            self.pended = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bit-set scans against the plain definitions (B1.5.4): random NVIC states on
    /// boards of 48, 80 and 256 exceptions, random PRIGROUP and masks.
    #[test]
    fn bitset_scans_match_the_definitions() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rnd = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for num_irq in [32usize, 64, 240] {
            let mut n = Nvic::new(num_irq, 8);
            for _ in 0..2000 {
                n.reset();
                n.prigroup = rnd(8) as u8;
                let density = 1 + rnd(20);
                for e in exc::NMI..n.len() {
                    n.prio[e] = rnd(256) as u8;
                    n.enabled.set(e, rnd(4) != 0);
                    n.pending.set(e, rnd(density) == 0);
                    n.active.set(e, rnd(density * 2) == 0);
                }
                // The reference: every exception, in order.
                let mut best: Option<(i32, usize)> = None;
                for e in exc::NMI..n.len() {
                    if n.pending[e] && n.enabled[e] && best.is_none_or(|(bp, _)| n.priority(e) < bp)
                    {
                        best = Some((n.priority(e), e));
                    }
                }
                assert_eq!(n.highest_pending(), best.map(|(_, e)| e));
                let (primask, faultmask, basepri) = (rnd(8) == 0, rnd(16) == 0, rnd(256) as u8);
                let mut highest = 256;
                for e in exc::NMI..n.len() {
                    if n.active[e] {
                        highest = highest.min(n.group(n.priority(e)));
                    }
                }
                let mut want = highest;
                if basepri != 0 {
                    want = want.min(n.group(i32::from(basepri)));
                }
                if primask {
                    want = want.min(0);
                }
                if faultmask {
                    want = want.min(-1);
                }
                assert_eq!(n.execution_priority(primask, faultmask, basepri), want);
                let count = (0..n.len()).filter(|&e| n.active[e]).count();
                assert_eq!(n.active_count(), count);
            }
        }
    }

    #[test]
    fn events_fire_in_time_then_schedule_order() {
        let mut q = EventQueue::default();
        q.schedule(10, EventOwner::Device(1), 1);
        q.schedule(5, EventOwner::Device(2), 1);
        q.schedule(10, EventOwner::SysTick, 0);
        q.schedule(7, EventOwner::Device(1), 1); // replaces the one at 10
        assert_eq!(q.next_due(), Some(5));
        assert_eq!(q.pop_due(4), None);
        assert_eq!(q.pop_due(100), Some((5, EventOwner::Device(2), 1)));
        assert_eq!(q.pop_due(100), Some((7, EventOwner::Device(1), 1)));
        assert_eq!(q.pop_due(100), Some((10, EventOwner::SysTick, 0)));
        assert!(q.is_empty());
    }

    #[test]
    fn priorities_and_grouping() {
        let mut n = Nvic::new(8, 3);
        assert_eq!(n.prio_mask(), 0xe0);
        n.prio[exc::IRQ0] = 0x40;
        n.prio[exc::IRQ0 + 1] = 0x60;
        n.enabled.set(exc::IRQ0, true);
        n.enabled.set(exc::IRQ0 + 1, true);
        n.pending.set(exc::IRQ0 + 1, true);
        assert_eq!(n.to_take(256), Some(exc::IRQ0 + 1));
        // 0x60 active; 0x40 preempts with PRIGROUP 0 ...
        n.pending.set(exc::IRQ0 + 1, false);
        n.active.set(exc::IRQ0 + 1, true);
        n.pending.set(exc::IRQ0, true);
        let ep = n.execution_priority(false, false, 0);
        assert_eq!(n.to_take(ep), Some(exc::IRQ0));
        // ... but not with PRIGROUP 6 (one group bit: 0x40 and 0x60 are both group 0x00)
        n.prigroup = 6;
        let ep = n.execution_priority(false, false, 0);
        assert_eq!(ep, 0);
        assert_eq!(n.to_take(ep), None);
        // BASEPRI masks priorities >= its value; PRIMASK everything but NMI/HardFault
        n.prigroup = 0;
        n.active.set(exc::IRQ0 + 1, false);
        assert_eq!(n.to_take(n.execution_priority(false, false, 0x40)), None);
        assert_eq!(
            n.to_take(n.execution_priority(false, false, 0x60)),
            Some(exc::IRQ0)
        );
        assert_eq!(n.to_take(n.execution_priority(true, false, 0)), None);
        n.pending.set(exc::NMI, true);
        assert_eq!(
            n.to_take(n.execution_priority(true, true, 0)),
            Some(exc::NMI)
        );
    }

    #[test]
    fn level_lines_repend_after_return() {
        let mut io = IoState::new(1000, 4, 3);
        io.nvic.enabled.set(exc::IRQ0 + 2, true);
        io.set_source(0, 0, 2, true);
        io.set_source(1, 0, 2, true); // ORed
        assert!(io.nvic.pending[exc::IRQ0 + 2]);
        io.nvic.pending.set(exc::IRQ0 + 2, false);
        io.nvic.active.set(exc::IRQ0 + 2, true);
        io.set_source(0, 0, 2, false);
        io.nvic.deactivate(exc::IRQ0 + 2);
        assert!(io.nvic.pending[exc::IRQ0 + 2], "still driven by device 1");
        io.nvic.pending.set(exc::IRQ0 + 2, false);
        io.set_source(1, 0, 2, false);
        io.nvic.deactivate(exc::IRQ0 + 2);
        assert!(!io.nvic.pending[exc::IRQ0 + 2]);
    }
}
