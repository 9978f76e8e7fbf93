//! Breakpoints and watchpoints (`Z`/`z` packets).
//!
//! Neither kind of breakpoint is written into memory: the CPU's run loop checks addresses
//! (decoded blocks are split at them), so there is no limit on either kind and they work in
//! ROM. Watchpoints stop before the access, with the PC at the accessing instruction, which
//! is what GDB expects on Arm ("non-steppable" watchpoints).

use crate::target::GdbTarget;
use armlet_machine::{Watch, WatchKind};
use gdbstub::target::ext::breakpoints::{
    Breakpoints, HwBreakpoint, HwBreakpointOps, HwWatchpoint, HwWatchpointOps, SwBreakpoint,
    SwBreakpointOps, WatchKind as GdbWatchKind,
};
use gdbstub::target::TargetResult;
use gdbstub_arch::arm::ArmBreakpointKind;

impl Breakpoints for GdbTarget {
    fn support_sw_breakpoint(&mut self) -> Option<SwBreakpointOps<'_, Self>> {
        Some(self)
    }
    fn support_hw_breakpoint(&mut self) -> Option<HwBreakpointOps<'_, Self>> {
        Some(self)
    }
    fn support_hw_watchpoint(&mut self) -> Option<HwWatchpointOps<'_, Self>> {
        Some(self)
    }
}

impl SwBreakpoint for GdbTarget {
    fn add_sw_breakpoint(
        &mut self,
        addr: u32,
        _kind: ArmBreakpointKind,
    ) -> TargetResult<bool, Self> {
        self.sw_breaks.insert(addr & !1);
        Ok(true)
    }
    fn remove_sw_breakpoint(
        &mut self,
        addr: u32,
        _kind: ArmBreakpointKind,
    ) -> TargetResult<bool, Self> {
        Ok(self.sw_breaks.remove(&(addr & !1)))
    }
}

impl HwBreakpoint for GdbTarget {
    fn add_hw_breakpoint(
        &mut self,
        addr: u32,
        _kind: ArmBreakpointKind,
    ) -> TargetResult<bool, Self> {
        self.hw_breaks.insert(addr & !1);
        Ok(true)
    }
    fn remove_hw_breakpoint(
        &mut self,
        addr: u32,
        _kind: ArmBreakpointKind,
    ) -> TargetResult<bool, Self> {
        Ok(self.hw_breaks.remove(&(addr & !1)))
    }
}

fn watch(addr: u32, len: u32, kind: GdbWatchKind) -> Watch {
    Watch {
        addr,
        len: len.max(1),
        kind: match kind {
            GdbWatchKind::Write => WatchKind::Write,
            GdbWatchKind::Read => WatchKind::Read,
            GdbWatchKind::ReadWrite => WatchKind::Access,
        },
    }
}

impl HwWatchpoint for GdbTarget {
    fn add_hw_watchpoint(
        &mut self,
        addr: u32,
        len: u32,
        kind: GdbWatchKind,
    ) -> TargetResult<bool, Self> {
        self.watches.push(watch(addr, len, kind));
        Ok(true)
    }
    fn remove_hw_watchpoint(
        &mut self,
        addr: u32,
        len: u32,
        kind: GdbWatchKind,
    ) -> TargetResult<bool, Self> {
        let w = watch(addr, len, kind);
        match self.watches.iter().position(|x| *x == w) {
            Some(i) => {
                self.watches.remove(i);
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

impl GdbTarget {
    /// The watchpoint an access at `addr` (a write if `write`) matched, and the address to
    /// report: inside the watched range, as GDB checks the reported address against it
    /// (an access may start below a watched byte).
    pub fn watch_hit(&self, addr: u32, write: bool) -> Option<(GdbWatchKind, u32)> {
        // Single accesses are at most 4 bytes (LDRD/LDM are several word accesses).
        let kind_ok = |w: &Watch| match w.kind {
            WatchKind::Write => write,
            WatchKind::Read => !write,
            WatchKind::Access => true,
        };
        let span = |w: &Watch| (u64::from(w.addr), u64::from(w.addr) + u64::from(w.len));
        let a = u64::from(addr);
        let exact = self.watches.iter().find(|w| {
            let (lo, hi) = span(w);
            kind_ok(w) && lo <= a && a < hi
        });
        let w = exact.or_else(|| {
            self.watches
                .iter()
                .filter(|w| {
                    let (lo, hi) = span(w);
                    kind_ok(w) && a < hi && lo < a + 4
                })
                .min_by_key(|w| w.addr)
        })?;
        let reported = addr.clamp(w.addr, w.addr.saturating_add(w.len - 1));
        let kind = match w.kind {
            WatchKind::Write => GdbWatchKind::Write,
            WatchKind::Read => GdbWatchKind::Read,
            WatchKind::Access => GdbWatchKind::ReadWrite,
        };
        Some((kind, reported))
    }

    /// The stop reason for a breakpoint at `pc`, if there is one.
    pub fn breakpoint_at(&self, pc: u32) -> Option<bool> {
        if self.sw_breaks.contains(&pc) {
            Some(false)
        } else if self.hw_breaks.contains(&pc) {
            Some(true)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watch_hits_report_an_address_inside_the_watched_range() {
        let mut t = crate::target::tests::target();
        t.add_hw_watchpoint(0x2000_0002, 1, GdbWatchKind::Write)
            .ok()
            .unwrap();
        t.add_hw_watchpoint(0x2000_0010, 4, GdbWatchKind::ReadWrite)
            .ok()
            .unwrap();
        // A word store at 0x2000_0000 covers the watched byte at 0x2000_0002.
        assert_eq!(
            t.watch_hit(0x2000_0000, true),
            Some((GdbWatchKind::Write, 0x2000_0002))
        );
        assert_eq!(t.watch_hit(0x2000_0000, false), None, "a read: not watched");
        assert_eq!(
            t.watch_hit(0x2000_0012, false),
            Some((GdbWatchKind::ReadWrite, 0x2000_0012))
        );
        assert!(t
            .remove_hw_watchpoint(0x2000_0002, 1, GdbWatchKind::Write)
            .ok()
            .unwrap());
        assert!(!t
            .remove_hw_watchpoint(0x2000_0002, 1, GdbWatchKind::Write)
            .ok()
            .unwrap());
        assert_eq!(t.watch_hit(0x2000_0000, true), None);
    }

    #[test]
    fn breakpoints_reach_the_cpu_only_when_resuming() {
        let mut t = crate::target::tests::target();
        t.add_sw_breakpoint(0x101, ArmBreakpointKind::Thumb16)
            .ok()
            .unwrap();
        t.add_hw_breakpoint(0x200, ArmBreakpointKind::Thumb32)
            .ok()
            .unwrap();
        assert!(t.m.cpu.breakpoints().is_empty());
        t.sync_debug();
        assert_eq!(t.m.cpu.breakpoints(), &[0x100, 0x200]);
        assert_eq!(t.breakpoint_at(0x100), Some(false));
        assert_eq!(t.breakpoint_at(0x200), Some(true));
        t.clear_debug();
        assert!(t.m.cpu.breakpoints().is_empty());
    }
}
