//! The FP extension's system behaviour, written from the ARMv7-M ARM pseudocode (B1.5.6
//! PushStack/UpdateFPCCR, B1.5.7 ExecuteFPCheck/PreserveFPState/CheckVFPEnabled, B1.5.8
//! ExceptionReturn/PopStack): CPACR gating, automatic state preservation (ASPEN: FPCA and
//! FPDSCR), the extended frame, lazy stacking and its faults, and the FP EXC_RETURN forms.
//! Encodings were assembled with arm-none-eabi-as (-mfpu=fpv4-sp-d16).

use armlet_cpu::fpstate::{fpccr, FpControl, CONTROL_FPCA};
use armlet_cpu::{Bus, BusError, Cpu, Fault, Features, StopReason};

/// RAM at 0..0x8000 plus the FP system registers an SCS would hold.
struct Sys {
    ram: Vec<u8>,
    ctl: FpControl,
}

impl Sys {
    fn new(ctl: FpControl) -> Sys {
        Sys {
            ram: vec![0; 0x8000],
            ctl,
        }
    }
    fn at(&mut self, a: u32, n: usize) -> Result<&mut [u8], BusError> {
        let a = a as usize;
        self.ram.get_mut(a..a + n).ok_or(BusError::Unmapped)
    }
    fn code(&mut self, at: u32, hws: &[u16]) {
        for (i, h) in hws.iter().enumerate() {
            self.write16(at + 2 * i as u32, *h).unwrap();
        }
    }
    fn word(&mut self, a: u32) -> u32 {
        self.read32(a).unwrap()
    }
}

impl Bus for Sys {
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
        self.at(a, 1)?[0] = v;
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
    fn fp_control(&mut self) -> FpControl {
        self.ctl
    }
    fn set_fp_control(&mut self, ctl: FpControl) {
        self.ctl = ctl;
    }
}

const FULL: u32 = 0x00f0_0000;
const VADD: [u16; 2] = [0xee30, 0x0a81]; // vadd.f32 s0, s1, s2
const VMOV_S0_R0: [u16; 2] = [0xee00, 0x0a10]; // vmov s0, r0
const BKPT: u16 = 0xbe00;
const VECTORS: u32 = 0x0000;
const HANDLER: u32 = 0x1000;
const THREAD: u32 = 0x0800;

fn m4() -> Cpu {
    let mut cpu = Cpu::with_features(Features::CORTEX_M4F);
    cpu.state.r[15] = THREAD;
    cpu.state.r[13] = 0x7000;
    cpu
}

fn run_to_bkpt(cpu: &mut Cpu, bus: &mut Sys) -> StopReason {
    cpu.run(bus, 100)
}

/// Fill S0–S15 with recognisable values and FPSCR with flags.
fn fill_fp(cpu: &mut Cpu) {
    for i in 0..32 {
        cpu.state.fp.s[i] = 0x4000_0000 + i as u32;
    }
    cpu.state.fp.fpscr = 0xa000_0011;
}

fn setup_vector(bus: &mut Sys, exc: u16) {
    bus.write32(VECTORS + 4 * u32::from(exc), HANDLER | 1)
        .unwrap();
}

#[test]
fn cpacr_off_is_nocp_and_the_instruction_does_not_execute() {
    let mut bus = Sys::new(FpControl::RESET);
    bus.code(THREAD, &[VADD[0], VADD[1], BKPT]);
    let mut cpu = m4();
    fill_fp(&mut cpu);
    let before = cpu.state.fp.clone();
    let stop = run_to_bkpt(&mut cpu, &mut bus);
    assert_eq!(
        stop,
        StopReason::Fault(Fault::NoCoprocessor { raw: 0xee30_0a81 })
    );
    assert_eq!(cpu.state.r[15], THREAD);
    assert_eq!(cpu.state.fp, before);
    assert_eq!(cpu.state.control & CONTROL_FPCA, 0);
}

#[test]
fn cpacr_privileged_only() {
    let ctl = FpControl {
        cpacr: 0x0050_0000, // CP10 = CP11 = 0b01
        fpccr: 0,
        ..FpControl::RESET
    };
    let mut bus = Sys::new(ctl);
    bus.code(THREAD, &[VMOV_S0_R0[0], VMOV_S0_R0[1], BKPT]);
    let mut cpu = m4();
    cpu.state.r[0] = 0x1234_5678;
    cpu.state.control = 1; // unprivileged Thread
    assert!(matches!(
        run_to_bkpt(&mut cpu, &mut bus),
        StopReason::Fault(Fault::NoCoprocessor { .. })
    ));
    cpu.state.control = 0;
    assert_eq!(run_to_bkpt(&mut cpu, &mut bus), StopReason::Bkpt { imm: 0 });
    assert_eq!(cpu.state.fp.s[0], 0x1234_5678);
}

#[test]
fn a_core_without_fpu_takes_nocp_even_with_cpacr_set() {
    let mut bus = Sys::new(FpControl::NO_SCS);
    bus.code(THREAD, &[VADD[0], VADD[1], BKPT]);
    let mut cpu = Cpu::new();
    cpu.state.r[15] = THREAD;
    assert!(matches!(
        cpu.run(&mut bus, 10),
        StopReason::Fault(Fault::NoCoprocessor { raw: 0xee30_0a81 })
    ));
}

#[test]
fn aspen_starts_a_context_from_fpdscr_once() {
    let ctl = FpControl {
        cpacr: FULL,
        fpccr: fpccr::ASPEN,
        fpcar: 0,
        fpdscr: 0xffff_ffff, // only AHP/DN/FZ/RMode are kept
    };
    let mut bus = Sys::new(ctl);
    bus.code(
        THREAD,
        &[
            VMOV_S0_R0[0],
            VMOV_S0_R0[1],
            VMOV_S0_R0[0],
            VMOV_S0_R0[1],
            BKPT,
        ],
    );
    let mut cpu = m4();
    cpu.state.fp.fpscr = 0xf000_009f;
    // The first FP instruction: FPSCR = FPDSCR, CONTROL.FPCA = 1.
    assert_eq!(cpu.run(&mut bus, 1), StopReason::Budget);
    assert_eq!(cpu.state.fp.fpscr, 0x07c0_0000);
    assert_eq!(cpu.state.control & CONTROL_FPCA, CONTROL_FPCA);
    // With FPCA set, the next one leaves FPSCR alone.
    cpu.state.fp.fpscr = 0x8000_0001;
    assert_eq!(run_to_bkpt(&mut cpu, &mut bus), StopReason::Bkpt { imm: 0 });
    assert_eq!(cpu.state.fp.fpscr, 0x8000_0001);
}

#[test]
fn without_aspen_fpca_stays_clear_and_frames_are_basic() {
    let mut bus = Sys::new(FpControl {
        cpacr: FULL,
        fpccr: 0,
        ..FpControl::RESET
    });
    setup_vector(&mut bus, 15);
    bus.code(THREAD, &[VADD[0], VADD[1], BKPT]);
    let mut cpu = m4();
    run_to_bkpt(&mut cpu, &mut bus);
    assert_eq!(cpu.state.control & CONTROL_FPCA, 0);
    cpu.exception_entry(&mut bus, 15, VECTORS, THREAD, true, 0)
        .unwrap();
    assert_eq!(cpu.state.r[14], 0xffff_fff9);
    assert_eq!(cpu.state.r[13], 0x7000 - 0x20);
}

#[test]
fn extended_frame_without_lazy_stacking_round_trips() {
    let mut bus = Sys::new(FpControl {
        cpacr: FULL,
        fpccr: fpccr::ASPEN,
        ..FpControl::RESET
    });
    setup_vector(&mut bus, 15);
    let mut cpu = m4();
    fill_fp(&mut cpu);
    cpu.state.control = CONTROL_FPCA;
    cpu.state.r[13] = 0x7004; // not 8-byte aligned: the FP frame always realigns
                              // STKALIGN off: the extended frame is aligned anyway (forcealign).
    cpu.exception_entry(&mut bus, 15, VECTORS, 0x0900, false, 0)
        .unwrap();
    let frame = (0x7004 - 0x68) & !7;
    assert_eq!(cpu.state.r[13], frame);
    assert_eq!(cpu.state.r[14], 0xffff_ffe9, "EXC_RETURN bit 4 clear");
    assert_eq!(cpu.state.control & CONTROL_FPCA, 0, "FPCA cleared on entry");
    assert_eq!(cpu.state.r[15], HANDLER);
    assert_eq!(
        bus.word(frame + 0x1c) & (1 << 9),
        1 << 9,
        "realignment in xPSR bit 9"
    );
    for i in 0..16 {
        assert_eq!(bus.word(frame + 0x20 + 4 * i), 0x4000_0000 + i);
    }
    assert_eq!(bus.word(frame + 0x60), 0xa000_0011);
    assert_eq!(bus.ctl.fpccr & fpccr::LSPACT, 0);
    // The handler clobbers the FP registers; the return restores S0-S15 and FPSCR only.
    for i in 0..32 {
        cpu.state.fp.s[i] = 0xdead_0000 + i as u32;
    }
    cpu.state.fp.fpscr = 0;
    cpu.exception_return(&mut bus, 0xffff_ffe9, false).unwrap();
    for i in 0..16 {
        assert_eq!(cpu.state.fp.s[i], 0x4000_0000 + i as u32);
    }
    assert_eq!(
        cpu.state.fp.s[16], 0xdead_0010,
        "S16-S31 are not in the frame"
    );
    assert_eq!(cpu.state.fp.fpscr, 0xa000_0011);
    assert_eq!(cpu.state.r[13], 0x7004);
    assert_eq!(cpu.state.r[15], 0x0900);
    assert_eq!(cpu.state.control & CONTROL_FPCA, CONTROL_FPCA);
}

#[test]
fn lazy_entry_reserves_the_frame_and_the_handlers_first_fp_instruction_saves() {
    let mut bus = Sys::new(FpControl {
        cpacr: FULL,
        fpccr: fpccr::ASPEN | fpccr::LSPEN,
        fpcar: 0,
        fpdscr: 0x0040_0000, // RMode = +inf for new contexts
    });
    setup_vector(&mut bus, 15);
    bus.code(HANDLER, &[VMOV_S0_R0[0], VMOV_S0_R0[1], BKPT]);
    let mut cpu = m4();
    fill_fp(&mut cpu);
    // Unprivileged Thread mode on PSP, with an active FP context.
    cpu.state.r[13] = 0x7000; // MSP
    cpu.state.set_psp(0x6000);
    cpu.state.set_control(2);
    cpu.state.control |= CONTROL_FPCA | 1;
    let ready = fpccr::HFRDY | fpccr::BFRDY;
    cpu.exception_entry(&mut bus, 15, VECTORS, 0x0900, true, ready)
        .unwrap();
    let frame = 0x6000 - 0x68;
    assert_eq!(cpu.state.psp(), frame);
    assert_eq!(cpu.state.r[14], 0xffff_ffed);
    assert_eq!(bus.ctl.fpcar, frame + 0x20);
    let want = fpccr::ASPEN
        | fpccr::LSPEN
        | fpccr::LSPACT
        | fpccr::USER
        | fpccr::THREAD
        | fpccr::HFRDY
        | fpccr::BFRDY;
    assert_eq!(bus.ctl.fpccr, want);
    assert_eq!(bus.word(frame + 0x20), 0, "space reserved, not written");
    // The handler's first FP instruction preserves the interrupted context's registers.
    cpu.state.r[0] = 0x3f80_0000;
    assert_eq!(run_to_bkpt(&mut cpu, &mut bus), StopReason::Bkpt { imm: 0 });
    for i in 0..16 {
        assert_eq!(bus.word(frame + 0x20 + 4 * i), 0x4000_0000 + i);
    }
    assert_eq!(bus.word(frame + 0x60), 0xa000_0011);
    assert_eq!(bus.ctl.fpccr & fpccr::LSPACT, 0);
    assert_eq!(cpu.state.fp.s[0], 0x3f80_0000);
    assert_eq!(cpu.state.fp.fpscr, 0x0040_0000, "new context from FPDSCR");
    assert_eq!(cpu.state.control & CONTROL_FPCA, CONTROL_FPCA);
    // Return: the saved state comes back, FPCA is set again, PSP unwinds.
    cpu.exception_return(&mut bus, 0xffff_ffed, true).unwrap();
    assert_eq!(cpu.state.fp.s[0], 0x4000_0000);
    assert_eq!(cpu.state.fp.fpscr, 0xa000_0011);
    assert_eq!(cpu.state.psp(), 0x6000);
    assert!(cpu.state.psp_active());
    assert_eq!(cpu.state.control & CONTROL_FPCA, CONTROL_FPCA);
}

#[test]
fn lazy_return_without_fp_use_keeps_the_registers() {
    let mut bus = Sys::new(FpControl {
        cpacr: FULL,
        fpccr: fpccr::ASPEN | fpccr::LSPEN,
        ..FpControl::RESET
    });
    setup_vector(&mut bus, 11);
    let mut cpu = m4();
    fill_fp(&mut cpu);
    cpu.state.control = CONTROL_FPCA;
    cpu.exception_entry(&mut bus, 11, VECTORS, 0x0900, true, fpccr::HFRDY)
        .unwrap();
    assert_eq!(cpu.state.r[14], 0xffff_ffe9);
    let frame = cpu.state.r[13];
    // Garbage in the reserved space proves it is not read back.
    for i in 0..17 {
        bus.write32(frame + 0x20 + 4 * i, 0x5555_5555).unwrap();
    }
    cpu.exception_return(&mut bus, 0xffff_ffe9, true).unwrap();
    assert_eq!(bus.ctl.fpccr & fpccr::LSPACT, 0);
    assert_eq!(cpu.state.fp.s[3], 0x4000_0003);
    assert_eq!(cpu.state.fp.fpscr, 0xa000_0011);
    assert_eq!(cpu.state.r[13], 0x7000);
}

#[test]
fn nested_handler_frames_and_exc_return_e1() {
    let mut bus = Sys::new(FpControl {
        cpacr: FULL,
        fpccr: fpccr::ASPEN | fpccr::LSPEN,
        ..FpControl::RESET
    });
    setup_vector(&mut bus, 15);
    setup_vector(&mut bus, 16);
    bus.code(HANDLER, &[VMOV_S0_R0[0], VMOV_S0_R0[1], BKPT]);
    let mut cpu = m4();
    cpu.exception_entry(&mut bus, 15, VECTORS, 0x0900, true, 0)
        .unwrap();
    assert_eq!(cpu.state.r[14], 0xffff_fff9, "no FP context: basic frame");
    // The handler uses the FPU (FPCA set), then is preempted: extended frame, LR = E1.
    run_to_bkpt(&mut cpu, &mut bus);
    assert_eq!(cpu.state.control & CONTROL_FPCA, CONTROL_FPCA);
    let sp = cpu.state.r[13];
    cpu.exception_entry(&mut bus, 16, VECTORS, HANDLER + 4, true, 0)
        .unwrap();
    assert_eq!(cpu.state.r[14], 0xffff_ffe1);
    assert_eq!(cpu.state.r[13], (sp - 0x68) & !7);
    assert_eq!(bus.ctl.fpccr & (fpccr::THREAD | fpccr::USER), 0);
    cpu.exception_return(&mut bus, 0xffff_ffe1, true).unwrap();
    assert_eq!(cpu.state.ipsr, 15);
    assert_eq!(cpu.state.r[13], sp);
}

#[test]
fn lazy_preservation_fault_leaves_lspact_and_the_instruction_unexecuted() {
    let mut bus = Sys::new(FpControl {
        cpacr: FULL,
        fpccr: fpccr::ASPEN | fpccr::LSPEN | fpccr::LSPACT,
        fpcar: 0x0010_0000, // unmapped
        fpdscr: 0,
    });
    bus.code(HANDLER, &[VMOV_S0_R0[0], VMOV_S0_R0[1], BKPT]);
    let mut cpu = m4();
    cpu.state.ipsr = 15;
    cpu.state.r[15] = HANDLER;
    cpu.state.r[0] = 7;
    let stop = run_to_bkpt(&mut cpu, &mut bus);
    assert_eq!(
        stop,
        StopReason::Fault(Fault::LazyStacking {
            addr: 0x0010_0000,
            error: Some(BusError::Unmapped)
        })
    );
    assert_eq!(cpu.state.r[15], HANDLER);
    assert_ne!(cpu.state.fp.s[0], 7);
    assert_ne!(bus.ctl.fpccr & fpccr::LSPACT, 0);
    // Background context without FPU access (FPCCR.USER with privileged-only CPACR): NOCP.
    bus.ctl = FpControl {
        cpacr: 0x0050_0000,
        fpccr: fpccr::LSPACT | fpccr::USER,
        fpcar: 0x2000,
        fpdscr: 0,
    };
    assert_eq!(
        run_to_bkpt(&mut cpu, &mut bus),
        StopReason::Fault(Fault::LazyStacking {
            addr: 0x2000,
            error: None
        })
    );
}

#[test]
fn fp_exc_return_needs_an_fpu() {
    let mut bus = Sys::new(FpControl::NO_SCS);
    let mut cpu = Cpu::new();
    cpu.state.ipsr = 15;
    assert_eq!(
        cpu.exception_return(&mut bus, 0xffff_ffe9, true),
        Err(Fault::InvalidPc)
    );
}

#[test]
fn msr_control_writes_fpca_only_with_an_fpu() {
    // msr CONTROL, r0 ; bkpt
    let prog = [0xf380u16, 0x8814, BKPT];
    for (features, want) in [(Features::CORTEX_M4F, 4u8), (Features::CORTEX_M3, 0)] {
        let mut bus = Sys::new(FpControl::NO_SCS);
        bus.code(THREAD, &prog);
        let mut cpu = Cpu::with_features(features);
        cpu.state.r[15] = THREAD;
        cpu.state.r[0] = 4;
        while cpu.run(&mut bus, 10) == StopReason::Sync {}
        assert_eq!(cpu.state.control & 4, want);
    }
}
