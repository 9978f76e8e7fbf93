//! Execution under the debugger: continue in slices, single steps that honour
//! watchpoints, range stepping, and what each machine stop means to GDB.

use crate::target::{GdbTarget, Resume};
use armlet_machine::Exit;
use gdbstub::common::Signal;
use gdbstub::stub::SingleThreadStopReason;

/// Steps per slice of range stepping (the interrupt byte is checked between slices).
const RANGE_SLICE: u32 = 4096;

/// The target stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stopped {
    /// What to tell GDB.
    pub reason: SingleThreadStopReason<u32>,
    /// The firmware's exit status, if it exited.
    pub exit: Option<i32>,
    /// A line for the GDB console explaining an unusual stop (fault, deadlock, ...).
    pub note: Option<String>,
}

impl Stopped {
    fn plain(reason: SingleThreadStopReason<u32>) -> Stopped {
        Stopped {
            reason,
            exit: None,
            note: None,
        }
    }

    fn signal(sig: Signal, note: String) -> Stopped {
        Stopped {
            reason: SingleThreadStopReason::Signal(sig),
            exit: None,
            note: Some(note),
        }
    }
}

impl GdbTarget {
    /// Carry the pending resume request forward by about `budget` cycles (continue) or one
    /// slice of steps. `None`: still running.
    pub fn exec(&mut self, budget: u64) -> Option<Stopped> {
        let mode = self.resume?;
        self.sync_debug();
        let stop = match mode {
            Resume::Continue => {
                if self.debug_stop_pc.take() == Some(self.pc()) {
                    self.m.resume();
                }
                let exit = self.m.run(budget);
                self.classify(exit)
            }
            Resume::Step => {
                let exit = self.step_once();
                Some(
                    self.classify(exit)
                        .unwrap_or(Stopped::plain(SingleThreadStopReason::DoneStep)),
                )
            }
            Resume::Range { start, end } => self.range_slice(start, end),
        };
        if stop.is_some() {
            self.resume = None;
        }
        stop
    }

    fn range_slice(&mut self, start: u32, end: u32) -> Option<Stopped> {
        for _ in 0..RANGE_SLICE {
            let exit = self.step_once();
            if let Some(stop) = self.classify(exit) {
                return Some(stop);
            }
            let pc = self.pc();
            if !(start..end).contains(&pc) {
                return Some(Stopped::plain(SingleThreadStopReason::DoneStep));
            }
            if let Some(hw) = self.breakpoint_at(pc) {
                self.debug_stop_pc = Some(pc);
                return Some(Stopped::plain(if hw {
                    SingleThreadStopReason::HwBreak(())
                } else {
                    SingleThreadStopReason::SwBreak(())
                }));
            }
        }
        None
    }

    /// One instruction (or the entry to a pending exception). `Machine::step` executes the
    /// instruction without checking watchpoints (it is meant for resuming from one); so
    /// unless we are resuming from a watchpoint here, the instruction runs with watchpoints
    /// checked (`Machine::step_watched`). Either way an exception the instruction raises is
    /// entered and the step ends at the handler's first instruction.
    fn step_once(&mut self) -> Exit {
        let pc = self.pc();
        let resuming = self.debug_stop_pc.take() == Some(pc);
        if self.m.debug.watchpoints.is_empty() || resuming {
            return self.m.step();
        }
        self.m.step_watched()
    }

    /// What a machine exit means to GDB; `None` for "still running".
    pub fn classify(&mut self, exit: Exit) -> Option<Stopped> {
        let pc = self.pc();
        let stop = match exit {
            Exit::Budget => return None,
            Exit::Exited(code) => Stopped {
                reason: SingleThreadStopReason::Exited(code as u8),
                exit: Some(code),
                note: None,
            },
            Exit::DebugBreakpoint => {
                self.debug_stop_pc = Some(pc);
                let hw = self.breakpoint_at(pc).unwrap_or(false);
                Stopped::plain(if hw {
                    SingleThreadStopReason::HwBreak(())
                } else {
                    SingleThreadStopReason::SwBreak(())
                })
            }
            Exit::Watchpoint { addr, write } => {
                self.debug_stop_pc = Some(pc);
                match self.watch_hit(addr, write) {
                    Some((kind, addr)) => Stopped::plain(SingleThreadStopReason::Watch {
                        tid: (),
                        kind,
                        addr,
                    }),
                    None => Stopped::plain(SingleThreadStopReason::Signal(Signal::SIGTRAP)),
                }
            }
            Exit::Breakpoint(imm) => Stopped::signal(
                Signal::SIGTRAP,
                format!("armlet: BKPT #{imm:#x} at {}", self.m.location(pc)),
            ),
            e @ (Exit::Fault(_) | Exit::Lockup(_)) => Stopped::signal(
                Signal::SIGSEGV,
                format!("armlet: {e}\narmlet: {}", self.m.fault_status()),
            ),
            e @ Exit::Deadlock => Stopped::signal(
                Signal::SIGSTOP,
                match self.m.deadlock_report() {
                    Some(d) => format!("armlet: {e}\narmlet: the core {d}"),
                    None => format!("armlet: {e}"),
                },
            ),
            e @ Exit::Unsupported(_) => Stopped::signal(Signal::SIGILL, format!("armlet: {e}")),
        };
        Some(stop)
    }
}
