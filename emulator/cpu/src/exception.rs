//! The mechanics of exception entry and return (ARMv7-M ARM B1.5.6–B1.5.8): stacking,
//! vector fetch, mode and stack switches. Which exception to take and whether a return is
//! legal is the machine's business (NVIC state); the CPU only moves the bits.

use crate::bus::{Bus, BusError};
use crate::cpu::Cpu;
use crate::fpstate::{fpccr, CONTROL_FPCA, FPSCR_MASK};
use crate::state::Fault;

/// The stack frame could not be written or read (STKERR/UNSTKERR or MSTKERR/MUNSTKERR).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StackingError {
    /// The address that failed.
    pub addr: u32,
    /// Why: [`BusError::Mpu`] makes it a MemManage fault (MSTKERR), anything else a
    /// BusFault (STKERR).
    pub error: BusError,
}

impl Cpu {
    /// `PushStack()` + `ExceptionTaken()` ([`Cpu::push_stack`], then the vector from
    /// `vtor + 4 * exc` through the same bus). The machine calls the two halves itself, so
    /// that stacking goes through the MPU and the vector read does not.
    pub fn exception_entry<B: Bus>(
        &mut self,
        bus: &mut B,
        exc: u16,
        vtor: u32,
        return_address: u32,
        stkalign: bool,
        fp_ready: u32,
    ) -> Result<(), StackingError> {
        self.push_stack(bus, exc, return_address, stkalign, fp_ready)?;
        self.branch_to_vector(bus, exc, vtor)
    }

    /// `PushStack()` + `ExceptionTaken()`: stack R0–R3, R12, LR, the return address and xPSR
    /// on the current stack (8-byte aligned when `stkalign`, recording the realignment in
    /// the stacked xPSR bit 9), set LR to EXC_RETURN, and enter Handler mode on MSP (IPSR = `exc`).
    ///
    /// With an FPU and CONTROL.FPCA set the frame is the extended one (0x68 bytes, always
    /// 8-byte aligned): S0–S15 and FPSCR follow at +0x20, written now, or with FPCCR.LSPEN
    /// only reserved (FPCAR, FPCCR.LSPACT/USER/THREAD and the `fp_ready` bits — HFRDY,
    /// MMRDY, BFRDY, MONRDY as the machine computed them from the NVIC — are recorded for
    /// `PreserveFPState()`). EXC_RETURN bit 4 is clear for an extended frame, and
    /// CONTROL.FPCA is cleared.
    ///
    /// `return_address` is the address the handler returns to (the next instruction for
    /// SVC and interrupts, the faulting instruction for faults).
    ///
    /// A failed write does not stop the entry (B1.5.6: the stack pointer moves and the mode
    /// changes all the same); the first failure is returned, and the caller raises the
    /// derived fault.
    pub fn push_stack<B: Bus>(
        &mut self,
        bus: &mut B,
        exc: u16,
        return_address: u32,
        stkalign: bool,
        fp_ready: u32,
    ) -> Result<(), StackingError> {
        let s = &mut self.state;
        let on_psp = s.psp_active();
        let fpca = s.fp.present() && s.control & CONTROL_FPCA != 0;
        let (framesize, forcealign) = if fpca { (0x68, true) } else { (0x20, stkalign) };
        let sp = s.r[13];
        let realign = forcealign && sp & 4 != 0;
        let frame = sp.wrapping_sub(framesize) & !(u32::from(realign) << 2);
        let xpsr = (s.xpsr() & !(1 << 9)) | (u32::from(realign) << 9);
        let words = [
            s.r[0],
            s.r[1],
            s.r[2],
            s.r[3],
            s.r[12],
            s.r[14],
            return_address & !1,
            xpsr,
        ];
        // The stack pointer moves even if stacking fails part way (B1.5.6).
        s.r[13] = frame;
        let mut failed = None;
        let mut put = |a: u32, w: u32| {
            if let Err(error) = bus.write32(a, w) {
                failed.get_or_insert(StackingError { addr: a, error });
            }
        };
        for (i, w) in words.iter().enumerate() {
            put(frame.wrapping_add(4 * i as u32), *w);
        }
        if fpca {
            let mut ctl = bus.fp_control();
            if ctl.fpccr & fpccr::LSPEN == 0 {
                let mut put = |a: u32, w: u32| {
                    if let Err(error) = bus.write32(a, w) {
                        failed.get_or_insert(StackingError { addr: a, error });
                    }
                };
                for i in 0..16 {
                    put(frame.wrapping_add(0x20 + 4 * i as u32), s.fp.s[i]);
                }
                put(frame.wrapping_add(0x60), s.fp.fpscr);
            } else {
                // UpdateFPCCR()
                use fpccr::*;
                ctl.fpcar = frame.wrapping_add(0x20);
                ctl.fpccr &= !(USER | THREAD | HFRDY | MMRDY | BFRDY | MONRDY);
                ctl.fpccr |= LSPACT
                    | if s.privileged() { 0 } else { USER }
                    | if s.ipsr == 0 { THREAD } else { 0 }
                    | (fp_ready & (HFRDY | MMRDY | BFRDY | MONRDY));
                bus.set_fp_control(ctl);
            }
        }
        self.invalidate(frame, framesize);
        let s = &mut self.state;
        let not_fpca = if fpca { 0 } else { 0x10 };
        s.r[14] = not_fpca
            | if s.ipsr != 0 {
                0xffff_ffe1
            } else if on_psp {
                0xffff_ffed
            } else {
                0xffff_ffe9
            };
        // Handler mode on MSP; CONTROL.FPCA is cleared (a new context has no FP state yet).
        s.set_mode(exc, s.control & 1);
        s.itstate = 0;
        s.monitor = None;
        s.event = true;
        failed.map_or(Ok(()), Err)
    }

    /// Load PC and the Thumb bit from the vector table entry of `exc`.
    pub fn branch_to_vector<B: Bus>(
        &mut self,
        bus: &mut B,
        exc: u16,
        vtor: u32,
    ) -> Result<(), StackingError> {
        let addr = vtor.wrapping_add(4 * u32::from(exc));
        let target = bus
            .read32(addr)
            .map_err(|error| StackingError { addr, error })?;
        self.state.r[15] = target & !1;
        self.state.thumb = target & 1 != 0;
        Ok(())
    }

    /// The second half of an exception return (B1.5.8), after the machine has validated
    /// `exc_return` and deactivated the returning exception: switch to the mode and stack it
    /// names and pop the frame (`PopStack()`). `exc_return` must be one of
    /// 0xFFFFFFF1/9/D, or with an FPU 0xFFFFFFE1/9/D (an extended frame: S0–S15 and FPSCR
    /// are restored unless FPCCR.LSPACT says they were never saved, in which case LSPACT is
    /// just cleared); CONTROL.FPCA becomes NOT(EXC_RETURN bit 4).
    pub fn exception_return<B: Bus>(
        &mut self,
        bus: &mut B,
        exc_return: u32,
        stkalign: bool,
    ) -> Result<(), Fault> {
        let s = &mut self.state;
        let has_fp = s.fp.present();
        let (to_thread, psp) = match exc_return & 0xf {
            0x1 => (false, false),
            0x9 => (true, false),
            0xd => (true, true),
            _ => return Err(Fault::InvalidPc),
        };
        let fp_frame = exc_return & 0x10 == 0;
        if fp_frame && !has_fp {
            return Err(Fault::InvalidPc);
        }
        let (framesize, forcealign) = if fp_frame {
            (0x68, true)
        } else {
            (0x20, stkalign)
        };
        // Enter the target mode first so R13 is the stack the frame is on. IPSR is replaced
        // from the stacked xPSR below.
        s.set_mode(
            if to_thread { 0 } else { s.ipsr.max(1) },
            (s.control & 1) | if psp { 2 } else { 0 },
        );
        let frame = s.r[13];
        let read = |bus: &mut B, a: u32| {
            bus.read32(a).map_err(|error| Fault::DataBus {
                addr: a,
                write: false,
                error,
            })
        };
        let mut w = [0u32; 8];
        for (i, v) in w.iter_mut().enumerate() {
            *v = read(bus, frame.wrapping_add(4 * i as u32))?;
        }
        if fp_frame {
            let mut ctl = bus.fp_control();
            if ctl.fpccr & fpccr::LSPACT != 0 {
                // The state was never saved: the registers still hold it.
                ctl.fpccr &= !fpccr::LSPACT;
                bus.set_fp_control(ctl);
            } else {
                let mut regs = [0u32; 17];
                for (i, v) in regs.iter_mut().enumerate() {
                    *v = read(bus, frame.wrapping_add(0x20 + 4 * i as u32))?;
                }
                let s = &mut self.state;
                s.fp.s[..16].copy_from_slice(&regs[..16]);
                s.fp.fpscr = regs[16] & FPSCR_MASK;
            }
        }
        let dsp = self.features().dsp;
        let s = &mut self.state;
        s.r[0] = w[0];
        s.r[1] = w[1];
        s.r[2] = w[2];
        s.r[3] = w[3];
        s.r[12] = w[4];
        s.r[14] = w[5];
        s.r[15] = w[6] & !1;
        let psr = w[7];
        let realigned = forcealign && psr & (1 << 9) != 0;
        s.r[13] = frame.wrapping_add(framesize) | (u32::from(realigned) << 2);
        let ipsr = (psr & 0x1ff) as u16;
        // GE[3:0] exist only with the DSP extension; elsewhere those xPSR bits are reserved.
        let ge_bits = if dsp { 0x000f_0000 } else { 0 };
        s.set_apsr(psr & (0xf800_0000 | ge_bits));
        s.thumb = psr & (1 << 24) != 0;
        s.itstate = (((psr >> 25) & 3) | (((psr >> 10) & 0x3f) << 2)) as u8;
        // IPSR comes from the frame; the mode must agree with EXC_RETURN (checked by caller).
        let mut control = s.control & !CONTROL_FPCA;
        if fp_frame {
            control |= CONTROL_FPCA;
        }
        s.set_mode(if to_thread { 0 } else { ipsr }, control);
        if to_thread && ipsr != 0 || !to_thread && ipsr == 0 {
            return Err(Fault::InvalidPc);
        }
        s.monitor = None;
        s.event = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::BusError;

    struct Ram(Vec<u8>);
    const BASE: u32 = 0x2000_0000;
    impl Ram {
        fn at(&mut self, a: u32, n: u32) -> Result<&mut [u8], BusError> {
            let o = a.wrapping_sub(BASE) as usize;
            self.0.get_mut(o..o + n as usize).ok_or(BusError::Unmapped)
        }
    }
    impl Bus for Ram {
        fn read8(&mut self, a: u32) -> Result<u8, BusError> {
            Ok(self.at(a, 1)?[0])
        }
        fn read16(&mut self, a: u32) -> Result<u16, BusError> {
            Ok(u16::from_le_bytes(self.at(a, 2)?.try_into().unwrap()))
        }
        fn read32(&mut self, a: u32) -> Result<u32, BusError> {
            Ok(u32::from_le_bytes(self.at(a, 4)?.try_into().unwrap()))
        }
        fn write8(&mut self, a: u32, v: u8) -> Result<(), BusError> {
            self.at(a, 1)?.copy_from_slice(&[v]);
            Ok(())
        }
        fn write16(&mut self, a: u32, v: u16) -> Result<(), BusError> {
            self.at(a, 2)?.copy_from_slice(&v.to_le_bytes());
            Ok(())
        }
        fn write32(&mut self, a: u32, v: u32) -> Result<(), BusError> {
            self.at(a, 4)?.copy_from_slice(&v.to_le_bytes());
            Ok(())
        }
    }

    #[test]
    fn entry_and_return_round_trip_with_realignment() {
        let mut bus = Ram(vec![0; 0x2000]);
        // vector table at BASE: exception 15 (SysTick) handler at 0x1235
        bus.write32(BASE + 15 * 4, 0x1235).unwrap();
        let mut cpu = Cpu::new();
        let s = &mut cpu.state;
        for i in 0..13 {
            s.r[i] = 0x100 + i as u32;
        }
        s.r[13] = BASE + 0x1004; // not 8-byte aligned
        s.r[14] = 0x0800_0001;
        s.n = true;
        s.itstate = 0x08; // pretend we are in an IT block: IT bits must be stacked
        cpu.exception_entry(&mut bus, 15, BASE, 0x4000, true, 0)
            .unwrap();
        let s = &cpu.state;
        assert_eq!(s.r[13], BASE + 0x1004 - 0x24, "frame realigned to 8 bytes");
        assert_eq!(s.r[14], 0xffff_fff9);
        assert_eq!(s.r[15], 0x1234);
        assert_eq!(s.ipsr, 15);
        assert_eq!(s.itstate, 0);
        let psr = bus.read32(s.r[13] + 0x1c).unwrap();
        assert_eq!(
            psr & (1 << 9),
            1 << 9,
            "realignment recorded in stacked xPSR bit 9"
        );
        assert_eq!(psr >> 31, 1);
        assert_eq!(bus.read32(s.r[13] + 0x18).unwrap(), 0x4000);
        assert_eq!(bus.read32(s.r[13] + 0x14).unwrap(), 0x0800_0001);
        // clobber and return
        cpu.state.r[0] = 0xdead;
        cpu.state.n = false;
        cpu.exception_return(&mut bus, 0xffff_fff9, true).unwrap();
        let s = &cpu.state;
        assert_eq!(s.r[0], 0x100);
        assert_eq!(s.r[12], 0x10c);
        assert_eq!(s.r[13], BASE + 0x1004);
        assert_eq!(s.r[15], 0x4000);
        assert_eq!(s.ipsr, 0);
        assert!(s.n);
        assert_eq!(s.itstate, 0x08);
    }

    #[test]
    fn thread_on_psp_returns_to_psp() {
        let mut bus = Ram(vec![0; 0x2000]);
        bus.write32(BASE + 11 * 4, 0x2001).unwrap();
        let mut cpu = Cpu::new();
        cpu.state.r[13] = BASE + 0x1800; // MSP
        cpu.state.set_psp(BASE + 0x1000);
        cpu.state.set_control(2);
        cpu.exception_entry(&mut bus, 11, BASE, 0x3000, true, 0)
            .unwrap();
        assert_eq!(cpu.state.r[14], 0xffff_fffd);
        assert_eq!(cpu.state.r[13], BASE + 0x1800, "handler runs on MSP");
        assert_eq!(cpu.state.psp(), BASE + 0x1000 - 0x20);
        cpu.exception_return(&mut bus, 0xffff_fffd, true).unwrap();
        assert!(cpu.state.psp_active());
        assert_eq!(cpu.state.r[13], BASE + 0x1000);
        assert_eq!(cpu.state.msp(), BASE + 0x1800);
    }

    #[test]
    fn bad_exc_return_is_invpc() {
        let mut bus = Ram(vec![0; 0x2000]);
        let mut cpu = Cpu::new();
        cpu.state.ipsr = 3;
        assert_eq!(
            cpu.exception_return(&mut bus, 0xffff_fff5, true),
            Err(Fault::InvalidPc)
        );
    }
}
