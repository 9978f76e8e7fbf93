//! The debug target: a [`Machine`] plus what the debugger has set on it (breakpoints,
//! watchpoints, the pending resume), with registers and memory for `gdbstub`.

use crate::arch::{CortexM, CortexMRegId, CortexMRegs, VfpRegs};
use crate::console::ConsoleTap;
use armlet_machine::{Machine, Watch};
use gdbstub::target::ext::base::single_register_access::{
    SingleRegisterAccess, SingleRegisterAccessOps,
};
use gdbstub::target::ext::base::singlethread::{
    SingleThreadBase, SingleThreadRangeStepping, SingleThreadRangeSteppingOps, SingleThreadResume,
    SingleThreadResumeOps, SingleThreadSingleStep, SingleThreadSingleStepOps,
};
use gdbstub::target::ext::base::BaseOps;
use gdbstub::target::ext::breakpoints::BreakpointsOps;
use gdbstub::target::ext::flash::FlashOps;
use gdbstub::target::ext::memory_map::MemoryMapOps;
use gdbstub::target::ext::monitor_cmd::MonitorCmdOps;
use gdbstub::target::ext::target_description_xml_override::{
    TargetDescriptionXmlOverride, TargetDescriptionXmlOverrideOps,
};
use gdbstub::target::{Target, TargetError, TargetResult};
use std::collections::BTreeSet;

/// What the debugger asked the core to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resume {
    /// Run until something stops it.
    Continue,
    /// Execute one instruction.
    Step,
    /// Step while the PC stays in `[start, end)` (GDB's range stepping, for `next`/`step`).
    Range {
        /// First address of the range.
        start: u32,
        /// One past the last address.
        end: u32,
    },
}

/// What a detach leaves the target doing (`monitor detach run|halt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDetach {
    /// The firmware runs on (as QEMU and OpenOCD do).
    Run,
    /// The core stays halted until the next debugger continues it.
    Halt,
}

/// The machine as the debugger sees it.
#[derive(Debug)]
pub struct GdbTarget {
    /// The machine.
    pub m: Machine,
    /// The pending resume request; `None` while halted.
    pub resume: Option<Resume>,
    /// Software breakpoints (armlet's are not written into memory, so they are unlimited
    /// and work in ROM too).
    pub(crate) sw_breaks: BTreeSet<u32>,
    /// Hardware breakpoints (unlimited as well; GDB uses them in flash regions).
    pub(crate) hw_breaks: BTreeSet<u32>,
    /// Watchpoints.
    pub(crate) watches: Vec<Watch>,
    /// The last stop was a breakpoint or watchpoint at this PC: resuming from there executes
    /// the instruction instead of stopping again.
    pub(crate) debug_stop_pc: Option<u32>,
    /// What a detach does.
    pub on_detach: OnDetach,
    /// Console output for `O` packets.
    pub tap: ConsoleTap,
    /// Where the debugger server listens (for `monitor info`).
    pub(crate) listen: String,
    /// `monitor resume`/`go`/`reset run`: the core runs while GDB is not waiting for it,
    /// until the debugger's next packet halts it.
    pub(crate) free_run: bool,
}

impl GdbTarget {
    /// Wrap a machine; console output is copied to `tap` while a debugger is attached.
    pub fn new(mut m: Machine, tap: ConsoleTap) -> GdbTarget {
        // Interrupts stay pending during single steps unless `monitor step-irq on` (as with
        // QEMU's gdbstub and OpenOCD's `cortex_m maskisr auto`): stepping over a breakpoint
        // or through a line does not wander into handlers.
        m.debug.step_irq = false;
        GdbTarget {
            m,
            resume: None,
            sw_breaks: BTreeSet::new(),
            hw_breaks: BTreeSet::new(),
            watches: Vec::new(),
            debug_stop_pc: None,
            on_detach: OnDetach::Run,
            tap,
            listen: String::new(),
            free_run: false,
        }
    }

    /// The current PC.
    pub fn pc(&self) -> u32 {
        self.m.cpu.state.r[15]
    }

    /// Forget every breakpoint and watchpoint (the debugger went away).
    pub fn clear_debug(&mut self) {
        self.sw_breaks.clear();
        self.hw_breaks.clear();
        self.watches.clear();
        self.debug_stop_pc = None;
        self.sync_debug();
    }

    /// Hand breakpoints and watchpoints to the machine. Done when resuming rather than on
    /// every `Z`/`z` packet: GDB removes and re-inserts them around every stop, and an
    /// unchanged set keeps the decoded-instruction cache.
    pub fn sync_debug(&mut self) {
        let all: Vec<u32> = self.sw_breaks.union(&self.hw_breaks).copied().collect();
        if all.as_slice() != self.m.cpu.breakpoints() {
            self.m.cpu.set_breakpoints(all);
        }
        if self.m.debug.watchpoints != self.watches {
            self.m.debug.watchpoints = self.watches.clone();
        }
    }

    /// The registers as GDB sees them.
    pub fn regs(&self) -> CortexMRegs {
        let s = &self.m.cpu.state;
        CortexMRegs {
            r: s.r,
            xpsr: s.xpsr(),
            msp: s.msp(),
            psp: s.psp(),
            primask: s.primask.into(),
            basepri: s.basepri,
            faultmask: s.faultmask.into(),
            control: s.control,
            fp: s.fp.present().then(|| VfpRegs {
                d: core::array::from_fn(|i| s.fp.d(i as u8)),
                fpscr: s.fp.fpscr,
            }),
        }
    }

    /// The register numbered `n` in this board's target description: FP registers only on
    /// cores with an FPU.
    pub fn reg_by_number(&self, n: usize) -> Option<CortexMRegId> {
        let fpu = self.m.cpu.state.fp.present();
        CortexMRegId::ALL
            .get(n)
            .copied()
            .filter(|id| fpu || !id.is_fp())
    }

    /// Write one register with the effect it has on silicon: SP bits 1:0 and PC bit 0 read
    /// as zero, writing IPSR or CONTROL.SPSEL switches the active stack pointer, BASEPRI
    /// keeps only the implemented priority bits. Interrupts the new masks allow are taken
    /// when the core next runs.
    pub fn write_reg(&mut self, id: CortexMRegId, v64: u64) {
        let prio_mask = self.m.mem.io.nvic.prio_mask();
        let dsp = self.m.cpu.features().dsp;
        let s = &mut self.m.cpu.state;
        let v = v64 as u32;
        match id {
            CortexMRegId::D(n) if s.fp.present() => s.fp.set_d(n, v64),
            CortexMRegId::Fpscr if s.fp.present() => {
                s.fp.fpscr = v & armlet_cpu::fpstate::FPSCR_MASK;
            }
            CortexMRegId::D(_) | CortexMRegId::Fpscr => {}
            CortexMRegId::Core(13) => s.r[13] = v & !3,
            CortexMRegId::Core(15) => s.r[15] = v & !1,
            CortexMRegId::Core(n) => s.r[usize::from(n & 15)] = v,
            CortexMRegId::Xpsr => {
                let ipsr = (v & 0x1ff) as u16;
                s.set_xpsr((v & !0x1ff) | u32::from(s.ipsr));
                if !dsp {
                    s.ge = 0; // GE[3:0] exist only with the DSP extension
                }
                if ipsr != s.ipsr {
                    let control = s.control;
                    s.set_mode(ipsr, control);
                }
            }
            CortexMRegId::Msp => s.set_msp(v),
            CortexMRegId::Psp => s.set_psp(v),
            CortexMRegId::Primask => s.primask = v & 1 != 0,
            CortexMRegId::Faultmask => s.faultmask = v & 1 != 0,
            CortexMRegId::Basepri => s.basepri = v as u8 & prio_mask,
            CortexMRegId::Control => {
                let ipsr = s.ipsr;
                let fpca = if s.fp.present() { 4 } else { 0 };
                s.set_mode(ipsr, v as u8 & (3 | fpca));
            }
        }
    }
}

impl Target for GdbTarget {
    type Arch = CortexM;
    type Error = &'static str;

    fn base_ops(&mut self) -> BaseOps<'_, Self::Arch, Self::Error> {
        BaseOps::SingleThread(self)
    }

    fn support_breakpoints(&mut self) -> Option<BreakpointsOps<'_, Self>> {
        Some(self)
    }

    fn support_monitor_cmd(&mut self) -> Option<MonitorCmdOps<'_, Self>> {
        Some(self)
    }

    fn support_memory_map(&mut self) -> Option<MemoryMapOps<'_, Self>> {
        Some(self)
    }

    fn support_flash_operations(&mut self) -> Option<FlashOps<'_, Self>> {
        Some(self)
    }

    fn support_target_description_xml_override(
        &mut self,
    ) -> Option<TargetDescriptionXmlOverrideOps<'_, Self>> {
        Some(self)
    }
}

impl TargetDescriptionXmlOverride for GdbTarget {
    /// The description matching the board's core: with the VFP feature on FPU cores.
    fn target_description_xml(
        &self,
        annex: &[u8],
        offset: u64,
        length: usize,
        buf: &mut [u8],
    ) -> TargetResult<usize, Self> {
        if annex != b"target.xml" {
            return Err(TargetError::NonFatal);
        }
        let xml = crate::arch::target_xml(self.m.cpu.state.fp.present()).as_bytes();
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(xml.len());
        let n = length.min(buf.len()).min(xml.len() - start);
        buf[..n].copy_from_slice(&xml[start..start + n]);
        Ok(n)
    }
}

impl SingleThreadBase for GdbTarget {
    fn read_registers(&mut self, regs: &mut CortexMRegs) -> TargetResult<(), Self> {
        *regs = self.regs();
        Ok(())
    }

    fn write_registers(&mut self, regs: &CortexMRegs) -> TargetResult<(), Self> {
        // A `G` packet carries every register; write only those that change, so that
        // SP, MSP and PSP (three views of two registers) do not undo each other.
        let now = self.regs();
        for id in CortexMRegId::ALL {
            let (new, n) = id.value(regs);
            if id.is_fp() && regs.fp.is_none() {
                continue;
            }
            if id.value(&now).0[..n] != new[..n] {
                self.write_reg(id, u64::from_le_bytes(new));
            }
        }
        Ok(())
    }

    fn support_single_register_access(&mut self) -> Option<SingleRegisterAccessOps<'_, (), Self>> {
        Some(self)
    }

    fn read_addrs(&mut self, start: u32, data: &mut [u8]) -> TargetResult<usize, Self> {
        if self.m.debug_read(start, data).is_ok() {
            return Ok(data.len());
        }
        // Partly readable: return what can be read up to the first hole.
        let mut n = 0;
        for (i, b) in data.iter_mut().enumerate() {
            let mut one = [0u8];
            if self
                .m
                .debug_read(start.wrapping_add(i as u32), &mut one)
                .is_err()
            {
                break;
            }
            *b = one[0];
            n += 1;
        }
        if n == 0 {
            Err(TargetError::Errno(14)) // EFAULT
        } else {
            Ok(n)
        }
    }

    fn write_addrs(&mut self, start: u32, data: &[u8]) -> TargetResult<(), Self> {
        self.m
            .debug_write(start, data)
            .map_err(|_| TargetError::Errno(14))
    }

    fn support_resume(&mut self) -> Option<SingleThreadResumeOps<'_, Self>> {
        Some(self)
    }
}

/// Not reached in a session (`crate::registers` answers `p`/`P` before gdbstub sees them),
/// but kept equivalent: absent registers and values of the wrong size are errors.
impl SingleRegisterAccess<()> for GdbTarget {
    fn read_register(
        &mut self,
        _tid: (),
        id: CortexMRegId,
        buf: &mut [u8],
    ) -> TargetResult<usize, Self> {
        if id.is_fp() && !self.m.cpu.state.fp.present() {
            return Err(TargetError::NonFatal);
        }
        let (bytes, n) = id.value(&self.regs());
        let dst = buf.get_mut(..n).ok_or(TargetError::NonFatal)?;
        dst.copy_from_slice(&bytes[..n]);
        Ok(n)
    }

    fn write_register(&mut self, _tid: (), id: CortexMRegId, val: &[u8]) -> TargetResult<(), Self> {
        if (id.is_fp() && !self.m.cpu.state.fp.present()) || val.len() != id.size() {
            return Err(TargetError::NonFatal);
        }
        crate::registers::write(self, id, val);
        Ok(())
    }
}

impl SingleThreadResume for GdbTarget {
    fn resume(&mut self, _signal: Option<gdbstub::common::Signal>) -> Result<(), Self::Error> {
        self.resume = Some(Resume::Continue);
        Ok(())
    }

    fn support_single_step(&mut self) -> Option<SingleThreadSingleStepOps<'_, Self>> {
        Some(self)
    }

    fn support_range_step(&mut self) -> Option<SingleThreadRangeSteppingOps<'_, Self>> {
        Some(self)
    }
}

impl SingleThreadSingleStep for GdbTarget {
    fn step(&mut self, _signal: Option<gdbstub::common::Signal>) -> Result<(), Self::Error> {
        self.resume = Some(Resume::Step);
        Ok(())
    }
}

impl SingleThreadRangeStepping for GdbTarget {
    fn resume_range_step(&mut self, start: u32, end: u32) -> Result<(), Self::Error> {
        self.resume = Some(Resume::Range { start, end });
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use armlet_machine::semihosting::Console;
    use armlet_machine::{Board, MachineOptions};

    #[derive(Debug)]
    struct Quiet;
    impl Console for Quiet {
        fn write_out(&mut self, _: &[u8]) {}
        fn write_err(&mut self, _: &[u8]) {}
        fn read_in(&mut self, _: &mut [u8]) -> usize {
            0
        }
    }

    /// A target on an mps2-an385 with nothing loaded.
    pub(crate) fn target() -> GdbTarget {
        target_on("mps2-an385")
    }

    /// A target on `board` with nothing loaded.
    pub(crate) fn target_on(board: &str) -> GdbTarget {
        let board = Board::by_name(board).unwrap();
        let m = Machine::new(board, MachineOptions::default(), Box::new(Quiet))
            .ok()
            .unwrap();
        GdbTarget::new(m, ConsoleTap::default())
    }

    #[test]
    fn writing_control_switches_the_stack_pointer() {
        let mut t = target();
        t.write_reg(CortexMRegId::Msp, 0x2000_1000);
        t.write_reg(CortexMRegId::Psp, 0x2000_2000);
        assert_eq!(t.regs().r[13], 0x2000_1000);
        t.write_reg(CortexMRegId::Control, 2);
        let r = t.regs();
        assert_eq!(
            (r.r[13], r.msp, r.psp, r.control),
            (0x2000_2000, 0x2000_1000, 0x2000_2000, 2)
        );
        // SP writes go to the active stack pointer, with bits 1:0 clear.
        t.write_reg(CortexMRegId::Core(13), 0x2000_2ff3);
        assert_eq!(t.regs().psp, 0x2000_2ff0);
        t.write_reg(CortexMRegId::Control, 0);
        assert_eq!(t.regs().r[13], 0x2000_1000);
    }

    #[test]
    fn writing_ipsr_keeps_both_stacks() {
        let mut t = target();
        t.write_reg(CortexMRegId::Msp, 0x2000_1000);
        t.write_reg(CortexMRegId::Psp, 0x2000_2000);
        t.write_reg(CortexMRegId::Control, 2);
        // Into Handler mode (IPSR=15): SP becomes the MSP.
        t.write_reg(CortexMRegId::Xpsr, 0x0100_000f);
        let r = t.regs();
        assert_eq!(
            (r.xpsr, r.r[13], r.psp),
            (0x0100_000f, 0x2000_1000, 0x2000_2000)
        );
        t.write_reg(CortexMRegId::Xpsr, 0x2100_0000);
        assert_eq!(t.regs().r[13], 0x2000_2000);
        assert!(t.m.cpu.state.c);
    }

    #[test]
    fn masks_keep_only_what_the_core_implements() {
        let mut t = target();
        t.write_reg(CortexMRegId::Basepri, 0xff);
        assert_eq!(
            t.regs().basepri,
            0xff,
            "QEMU's 8 priority bits on mps2-an385"
        );
        let mut board = Board::by_name("mps2-an385").unwrap();
        board.prio_bits = 3;
        let m = Machine::new(board, MachineOptions::default(), Box::new(Quiet))
            .ok()
            .unwrap();
        let mut t3 = GdbTarget::new(m, ConsoleTap::default());
        t3.write_reg(CortexMRegId::Basepri, 0xff);
        assert_eq!(
            t3.regs().basepri,
            0xe0,
            "3 priority bits, as the AN385's Cortex-M3"
        );
        t.write_reg(CortexMRegId::Primask, 3);
        t.write_reg(CortexMRegId::Faultmask, 1);
        let r = t.regs();
        assert_eq!((r.primask, r.faultmask), (1, 1));
        t.write_reg(CortexMRegId::Core(15), 0x1235);
        assert_eq!(t.pc(), 0x1234);
    }

    #[test]
    fn a_g_packet_writes_only_what_changed() {
        let mut t = target();
        t.write_reg(CortexMRegId::Msp, 0x2000_1000);
        t.write_reg(CortexMRegId::Psp, 0x2000_2000);
        let mut regs = t.regs();
        regs.r[13] = 0x2000_0800;
        regs.r[0] = 7;
        SingleThreadBase::write_registers(&mut t, &regs)
            .ok()
            .unwrap();
        let r = t.regs();
        assert_eq!(
            (r.r[0], r.r[13], r.msp, r.psp),
            (7, 0x2000_0800, 0x2000_0800, 0x2000_2000)
        );
    }
}
