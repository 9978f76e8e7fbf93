//! The Private Peripheral Bus: ITM, DWT, and the System Control Space (SCB, NVIC, SysTick,
//! MPU) of ARMv7-M (ARMv7-M ARM B3.2–B3.5, C1.7–C1.8).
//!
//! Register state lives here; the NVIC's exception state (pending/active/enabled/priority)
//! lives in [`IoState::nvic`] so that devices can pend interrupts. SysTick and DWT CYCCNT are
//! lazy: their counters are computed from virtual time when read, and SysTick schedules an
//! event for its next wrap.

use crate::board::CpuModel;
use crate::device::Serial;
use crate::io::{exc, EventOwner, IoState};
use armlet_cpu::fpstate::{fpccr, FpControl};
use armlet_cpu::BusError;

/// Base of the Private Peripheral Bus.
pub const PPB_BASE: u32 = 0xe000_0000;
/// Size of the Private Peripheral Bus.
pub const PPB_SIZE: u32 = 0x0010_0000;

/// Configurable Fault Status Register bits (B3.2.15).
pub mod cfsr {
    /// MemManage: instruction access violation.
    pub const IACCVIOL: u32 = 1 << 0;
    /// MemManage: data access violation.
    pub const DACCVIOL: u32 = 1 << 1;
    /// MemManage: unstacking error.
    pub const MUNSTKERR: u32 = 1 << 3;
    /// MemManage: stacking error.
    pub const MSTKERR: u32 = 1 << 4;
    /// MemManage: lazy FP state preservation error.
    pub const MLSPERR: u32 = 1 << 5;
    /// MMFAR holds the faulting address.
    pub const MMARVALID: u32 = 1 << 7;
    /// BusFault: instruction bus error.
    pub const IBUSERR: u32 = 1 << 8;
    /// BusFault: precise data bus error.
    pub const PRECISERR: u32 = 1 << 9;
    /// BusFault: unstacking error.
    pub const UNSTKERR: u32 = 1 << 11;
    /// BusFault: stacking error.
    pub const STKERR: u32 = 1 << 12;
    /// BusFault: lazy FP state preservation error.
    pub const LSPERR: u32 = 1 << 13;
    /// BFAR holds the faulting address.
    pub const BFARVALID: u32 = 1 << 15;
    /// UsageFault: undefined instruction.
    pub const UNDEFINSTR: u32 = 1 << 16;
    /// UsageFault: invalid EPSR state (T bit clear).
    pub const INVSTATE: u32 = 1 << 17;
    /// UsageFault: invalid EXC_RETURN / exception return.
    pub const INVPC: u32 = 1 << 18;
    /// UsageFault: no coprocessor.
    pub const NOCP: u32 = 1 << 19;
    /// UsageFault: unaligned access.
    pub const UNALIGNED: u32 = 1 << 24;
    /// UsageFault: divide by zero.
    pub const DIVBYZERO: u32 = 1 << 25;
}

/// DEMCR bits (C1.6.5).
pub mod demcr {
    /// The DebugMonitor exception is enabled.
    pub const MON_EN: u32 = 1 << 16;
    /// The DebugMonitor exception is pending.
    pub const MON_PEND: u32 = 1 << 17;
    /// Global enable of the DWT and ITM.
    pub const TRCENA: u32 = 1 << 24;
}

/// DFSR bits (C1.6.1).
pub mod dfsr {
    /// A BKPT instruction was executed.
    pub const BKPT: u32 = 1 << 1;
}

/// HardFault Status Register bits.
pub mod hfsr {
    /// A vector table read failed.
    pub const VECTTBL: u32 = 1 << 1;
    /// A configurable fault was escalated.
    pub const FORCED: u32 = 1 << 30;
    /// A debug event (BKPT with debug disabled).
    pub const DEBUGEVT: u32 = 1 << 31;
}

/// Kinds of access the MPU checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Data read.
    Read,
    /// Data write.
    Write,
    /// Instruction fetch.
    Exec,
}

/// True if `addr` is execute-never in the default memory map (B3.1): the Peripheral,
/// Device and System regions.
#[inline]
pub fn default_xn(addr: u32) -> bool {
    (0x4000_0000..0x6000_0000).contains(&addr) || addr >= 0xa000_0000
}

/// The PMSAv7 MPU (B3.5) with 8 regions.
#[derive(Debug, Clone, Default)]
pub struct Mpu {
    /// MPU_CTRL: ENABLE, HFNMIENA, PRIVDEFENA.
    pub ctrl: u32,
    /// MPU_RNR.
    pub rnr: u32,
    /// Region base addresses (MPU_RBAR ADDR field).
    pub rbar: [u32; 8],
    /// Region attributes and sizes (MPU_RASR).
    pub rasr: [u32; 8],
}

impl Mpu {
    /// Number of regions.
    pub const REGIONS: usize = 8;

    /// MPU_CTRL.ENABLE.
    pub fn enabled(&self) -> bool {
        self.ctrl & 1 != 0
    }

    /// True if the MPU checks accesses at this execution priority.
    pub fn active(&self, exec_prio: i32) -> bool {
        self.ctrl & 1 != 0 && (exec_prio >= 0 || self.ctrl & 2 != 0)
    }

    /// True if the access is permitted (the MPU is assumed enabled for it).
    pub fn allows(&self, addr: u32, access: Access, privileged: bool) -> bool {
        // The PPB always uses the default map.
        if (PPB_BASE..PPB_BASE + PPB_SIZE).contains(&addr) {
            return access != Access::Exec;
        }
        let mut hit = None;
        for r in (0..Self::REGIONS).rev() {
            let rasr = self.rasr[r];
            if rasr & 1 == 0 {
                continue;
            }
            let size_log2 = ((rasr >> 1) & 0x1f) + 1;
            if size_log2 < 5 {
                continue; // UNPREDICTABLE sizes below 32 bytes: treat as disabled
            }
            let base = if size_log2 >= 32 {
                0
            } else {
                self.rbar[r] & !((1u32 << size_log2) - 1)
            };
            let off = u64::from(addr.wrapping_sub(base));
            if off >= 1u64 << size_log2 {
                continue;
            }
            if size_log2 >= 8 {
                let sub = (off >> (size_log2 - 3)) as u32;
                if (rasr >> 8) & (1 << sub) != 0 {
                    continue; // subregion disabled: this region does not match
                }
            }
            hit = Some(rasr);
            break;
        }
        let Some(rasr) = hit else {
            // Background region: the default map for privileged code with PRIVDEFENA.
            return privileged
                && self.ctrl & 4 != 0
                && !(access == Access::Exec && default_xn(addr));
        };
        if access == Access::Exec && (rasr & (1 << 28) != 0 || default_xn(addr)) {
            return false;
        }
        let ap = (rasr >> 24) & 7;
        let (pr, pw, ur, uw) = match ap {
            0b001 => (true, true, false, false),
            0b010 => (true, true, true, false),
            0b011 => (true, true, true, true),
            0b101 => (true, false, false, false),
            0b110 | 0b111 => (true, false, true, false),
            _ => (false, false, false, false),
        };
        match (access, privileged) {
            (Access::Read | Access::Exec, true) => pr,
            (Access::Read | Access::Exec, false) => ur,
            (Access::Write, true) => pw,
            (Access::Write, false) => uw,
        }
    }
}

/// SysTick (B3.3), computed lazily from virtual time.
#[derive(Debug, Clone, Default)]
struct SysTick {
    csr: u32,
    rvr: u32,
    /// Counter value at `t0` (in ticks of the selected clock).
    c0: u32,
    t0: u64,
    /// Wraps already folded into COUNTFLAG up to `t0`.
    flag: bool,
}

/// System registers.
#[derive(Debug)]
pub struct Scs {
    cpu: CpuModel,
    /// SysTick external reference clock in Hz (CLKSOURCE = 0), if the board has one.
    systick_ref_hz: Option<u64>,
    systick: SysTick,
    /// SCB->VTOR.
    pub vtor: u32,
    /// SCB->SCR.
    pub scr: u32,
    /// SCB->CCR.
    pub ccr: u32,
    /// SCB->CFSR.
    pub cfsr: u32,
    /// SCB->HFSR.
    pub hfsr: u32,
    /// SCB->DFSR.
    pub dfsr: u32,
    /// SCB->MMFAR.
    pub mmfar: u32,
    /// SCB->BFAR.
    pub bfar: u32,
    /// SCB->AFSR.
    afsr: u32,
    /// The FP system registers (CPACR, FPCCR, FPCAR, FPDSCR); the core reaches them
    /// through `Bus::fp_control`.
    pub fp: FpControl,
    actlr: u32,
    /// The MPU.
    pub mpu: Mpu,
    demcr: u32,
    dwt_ctrl: u32,
    /// CYCCNT at `cyc_t0` (counting) or its frozen value.
    cyccnt: u32,
    cyc_t0: u64,
    itm_tcr: u32,
    itm_ter: u32,
    itm_tpr: u32,
    /// Where each ITM stimulus port's writes go (port 0: the console by default).
    itm_out: Vec<Option<Box<dyn Serial>>>,
    /// Ports whose dropped output was logged (once each).
    itm_warned: u32,
    /// Enable the ITM at every reset as a debug probe does (`--itm`).
    itm_probe: bool,
    /// The guest asked for a system reset (AIRCR.SYSRESETREQ).
    pub reset_requested: bool,
    /// Set by writes that change configuration the CPU or the machine caches (CCR, MPU).
    pub config_changed: bool,
    /// Set by MPU writes: decoded blocks were fetch-checked under the old settings.
    pub mpu_changed: bool,
    /// A debugger is attached (DHCSR.C_DEBUGEN): guest BKPTs halt the core for it instead
    /// of taking the DebugMonitor exception. Not changed by a system reset.
    pub debugger_attached: bool,
}

const CCR_RESET: u32 = 1 << 9; // STKALIGN
const AIRCR_VECTKEY: u32 = 0x05fa;

impl Scs {
    /// The SCS of a `cpu` core in reset state.
    pub fn new(cpu: CpuModel) -> Scs {
        Scs {
            cpu,
            systick_ref_hz: None,
            systick: SysTick::default(),
            vtor: 0,
            scr: 0,
            ccr: CCR_RESET,
            cfsr: 0,
            hfsr: 0,
            dfsr: 0,
            mmfar: 0,
            bfar: 0,
            afsr: 0,
            fp: FpControl::RESET,
            actlr: 0,
            mpu: Mpu::default(),
            demcr: 0,
            dwt_ctrl: 0,
            cyccnt: 0,
            cyc_t0: 0,
            itm_tcr: 0,
            itm_ter: 0,
            itm_tpr: 0,
            itm_out: (0..32).map(|_| None).collect(),
            itm_warned: 0,
            itm_probe: false,
            reset_requested: false,
            config_changed: true,
            mpu_changed: false,
            debugger_attached: false,
        }
    }

    /// DEMCR.MON_EN: the DebugMonitor exception is enabled.
    pub fn monitor_enabled(&self) -> bool {
        self.demcr & demcr::MON_EN != 0
    }

    /// True if the core has an FPU (CPACR, FPCCR, FPCAR, FPDSCR, MVFRn exist).
    pub fn has_fpu(&self) -> bool {
        self.cpu.features().fpu != armlet_cpu::FpuKind::None
    }

    /// Give SysTick an external reference clock (CLKSOURCE = 0).
    pub fn set_systick_ref_hz(&mut self, hz: Option<u64>) {
        self.systick_ref_hz = hz.filter(|&h| h > 0);
    }

    /// Send ITM stimulus port `port` (0-31) output here.
    pub fn set_itm_output(&mut self, port: u8, out: Box<dyn Serial>) {
        if let Some(slot) = self.itm_out.get_mut(usize::from(port)) {
            *slot = Some(out);
        }
    }

    /// Act as a debug probe that enables the ITM (`--itm`): after every reset, DEMCR.TRCENA,
    /// ITM_TCR.ITMENA (with SYNCENA and trace bus ID 1, as OpenOCD and probe-rs set it) and
    /// every stimulus port in ITM_TER are set; ITM_TPR stays 0 (all ports unprivileged).
    /// These registers live in the debug power domain, so a system reset keeps what the probe
    /// wrote; the firmware may still change them.
    pub fn set_itm_probe(&mut self, on: bool) {
        self.itm_probe = on;
    }

    fn itm_probe_setup(&mut self) {
        self.demcr |= demcr::TRCENA;
        self.itm_tcr = 0x0001_0005; // TraceBusID 1, SYNCENA, ITMENA
        self.itm_ter = 0xffff_ffff;
        self.itm_tpr = 0;
    }

    /// System reset: every register to its reset value (SysTick stops).
    pub fn reset(&mut self, io: &mut IoState) {
        io.events.cancel_all(EventOwner::SysTick);
        self.systick = SysTick::default();
        self.vtor = 0;
        self.scr = 0;
        self.ccr = CCR_RESET;
        self.cfsr = 0;
        self.hfsr = 0;
        self.dfsr = 0;
        self.mmfar = 0;
        self.bfar = 0;
        self.afsr = 0;
        self.fp = FpControl::RESET;
        self.actlr = 0;
        self.mpu = Mpu::default();
        self.mpu_changed = true;
        self.demcr = 0;
        self.dwt_ctrl = 0;
        self.cyccnt = 0;
        self.itm_tcr = 0;
        self.itm_ter = 0;
        self.itm_tpr = 0;
        if self.itm_probe {
            self.itm_probe_setup();
        }
        self.reset_requested = false;
        self.config_changed = true;
    }

    // ---- SysTick -------------------------------------------------------------------

    /// Ticks of the selected SysTick clock at `cycles` (0 forever without a clock).
    fn tick_at(&self, io: &IoState, cycles: u64) -> u64 {
        match (self.systick.csr & 4 != 0, self.systick_ref_hz) {
            (true, _) => cycles,
            (false, Some(hz)) => {
                (u128::from(cycles) * u128::from(hz) / u128::from(io.cpu_hz)) as u64
            }
            (false, None) => 0,
        }
    }

    /// The first cycle at which the selected clock has made `tick` ticks.
    fn cycle_of_tick(&self, io: &IoState, tick: u64) -> Option<u64> {
        match (self.systick.csr & 4 != 0, self.systick_ref_hz) {
            (true, _) => Some(tick),
            (false, Some(hz)) => {
                let num = u128::from(tick) * u128::from(io.cpu_hz);
                Some(num.div_ceil(u128::from(hz)) as u64)
            }
            (false, None) => None,
        }
    }

    fn st_running(&self) -> bool {
        self.systick.csr & 1 != 0
    }

    /// (current value, wrapped since t0) at tick `t`.
    fn st_state(&self, t: u64) -> (u32, bool) {
        let st = &self.systick;
        if !self.st_running() {
            return (st.c0, false);
        }
        let k = t.saturating_sub(st.t0);
        let (c0, n) = (u64::from(st.c0), u64::from(st.rvr & 0xff_ffff));
        if k <= c0 {
            return ((c0 - k) as u32, k == c0 && c0 > 0);
        }
        let wrapped_first = c0 > 0;
        if n == 0 {
            return (0, wrapped_first);
        }
        let j = k - c0 - 1; // ticks since the reload after reaching 0
        let v = n - (j % (n + 1));
        // Wraps (1 -> 0) happen at k = c0 + m (n + 1) for m >= 1, or m = 0 when c0 > 0.
        let wrapped = wrapped_first || j >= n;
        (v as u32, wrapped)
    }

    /// The tick (> now) of the next 1 -> 0 transition, if any.
    fn st_next_wrap(&self, t: u64) -> Option<u64> {
        let st = &self.systick;
        if !self.st_running() {
            return None;
        }
        let k = t.saturating_sub(st.t0);
        let (c0, n) = (u64::from(st.c0), u64::from(st.rvr & 0xff_ffff));
        if c0 > 0 && k < c0 {
            return Some(st.t0 + c0);
        }
        if n == 0 {
            return None;
        }
        // Wraps at c0 + m(n+1), m >= 1.
        let m = if k < c0 + n + 1 {
            1
        } else {
            (k - c0) / (n + 1) + 1
        };
        Some(st.t0 + c0 + m * (n + 1))
    }

    /// Fold the counter's progress into (c0, t0, flag) at the current time.
    fn st_materialize(&mut self, io: &IoState) {
        let t = self.tick_at(io, io.now());
        let (v, wrapped) = self.st_state(t);
        self.systick.flag |= wrapped;
        self.systick.c0 = v;
        self.systick.t0 = t;
    }

    fn st_reschedule(&mut self, io: &mut IoState) {
        io.events.cancel_all(EventOwner::SysTick);
        if self.systick.csr & 2 == 0 {
            return; // no interrupt: COUNTFLAG and CVR are computed when read
        }
        let t = self.tick_at(io, io.now());
        if let Some(w) = self.st_next_wrap(t) {
            if let Some(c) = self.cycle_of_tick(io, w) {
                io.events.schedule(c.max(io.now()), EventOwner::SysTick, 0);
            }
        }
    }

    /// The SysTick event: the counter reached 0.
    pub fn systick_event(&mut self, io: &mut IoState) {
        self.st_materialize(io);
        if self.systick.csr & 2 != 0 && self.st_running() {
            io.pend(exc::SYSTICK);
        }
        self.st_reschedule(io);
    }

    // ---- DWT -----------------------------------------------------------------------

    fn cyc_counting(&self) -> bool {
        self.demcr & (1 << 24) != 0 && self.dwt_ctrl & 1 != 0
    }

    fn cyccnt_now(&self, io: &IoState) -> u32 {
        if self.cyc_counting() {
            self.cyccnt
                .wrapping_add(io.now().wrapping_sub(self.cyc_t0) as u32)
        } else {
            self.cyccnt
        }
    }

    /// Call around a change of DEMCR/DWT_CTRL/CYCCNT: freeze then restart the counter.
    fn cyc_update(&mut self, io: &IoState, f: impl FnOnce(&mut Self)) {
        self.cyccnt = self.cyccnt_now(io);
        f(self);
        self.cyc_t0 = io.now();
    }

    // ---- register file -----------------------------------------------------------------

    fn shcsr(&self, io: &IoState) -> u32 {
        let n = &io.nvic;
        let bit = |c: bool, b: u32| u32::from(c) << b;
        bit(n.active[exc::MEMMANAGE], 0)
            | bit(n.active[exc::BUSFAULT], 1)
            | bit(n.active[exc::USAGEFAULT], 3)
            | bit(n.active[exc::SVCALL], 7)
            | bit(n.active[exc::DEBUGMON], 8)
            | bit(n.active[exc::PENDSV], 10)
            | bit(n.active[exc::SYSTICK], 11)
            | bit(n.pending[exc::USAGEFAULT], 12)
            | bit(n.pending[exc::MEMMANAGE], 13)
            | bit(n.pending[exc::BUSFAULT], 14)
            | bit(n.pending[exc::SVCALL], 15)
            | bit(n.enabled[exc::MEMMANAGE], 16)
            | bit(n.enabled[exc::BUSFAULT], 17)
            | bit(n.enabled[exc::USAGEFAULT], 18)
    }

    fn icsr(&self, io: &IoState) -> u32 {
        let n = &io.nvic;
        let vectpending = n.highest_pending().unwrap_or(0) as u32;
        let isrpending = (exc::IRQ0..n.len()).any(|e| n.pending[e]);
        let rettobase = io.ipsr != 0 && n.active_count() <= 1;
        (u32::from(n.pending[exc::NMI]) << 31)
            | (u32::from(n.pending[exc::PENDSV]) << 28)
            | (u32::from(n.pending[exc::SYSTICK]) << 26)
            | (u32::from(isrpending) << 22)
            | ((vectpending & 0x1ff) << 12)
            | (u32::from(rettobase) << 11)
            | u32::from(io.ipsr & 0x1ff)
    }

    /// The word at `off` (aligned), without side effects.
    pub fn peek(&self, off: u32, io: &IoState) -> Option<u32> {
        let n = &io.nvic;
        let v = match off {
            // ITM
            0x0000..=0x007c => u32::from(self.itm_tcr & 1 != 0), // FIFOREADY
            0x0e00 => self.itm_ter,
            0x0e40 => self.itm_tpr,
            0x0e80 => self.itm_tcr,
            // DWT: four comparators, cycle counter present
            0x1000 => (4 << 28) | self.dwt_ctrl,
            0x1004 => self.cyccnt_now(io),
            // SCS
            0xe004 => (n.num_irq.div_ceil(32).max(1) - 1) as u32, // ICTR
            0xe008 => self.actlr,
            0xe010 => {
                let t = self.tick_at(io, io.now());
                let (_, wrapped) = self.st_state(t);
                self.systick.csr | (u32::from(self.systick.flag || wrapped) << 16)
            }
            0xe014 => self.systick.rvr,
            0xe018 => self.st_state(self.tick_at(io, io.now())).0,
            0xe01c => match self.systick_ref_hz {
                // CALIB as QEMU's boards answer: TENMS = ticks of the reference clock in
                // 10 ms, minus one; NOREF when there is no reference clock.
                Some(hz) => ((hz / 100).saturating_sub(1) as u32) & 0x00ff_ffff,
                None => 1 << 31,
            },
            0xe100..=0xe13c => self.bits(io, off - 0xe100, |e| n.enabled[e]),
            0xe180..=0xe1bc => self.bits(io, off - 0xe180, |e| n.enabled[e]),
            0xe200..=0xe23c => self.bits(io, off - 0xe200, |e| n.pending[e]),
            0xe280..=0xe2bc => self.bits(io, off - 0xe280, |e| n.pending[e]),
            0xe300..=0xe33c => self.bits(io, off - 0xe300, |e| n.active[e]),
            0xe400..=0xe5ec => {
                let first = exc::IRQ0 + (off - 0xe400) as usize;
                (0..4).fold(0, |v, k| {
                    v | u32::from(n.prio.get(first + k).copied().unwrap_or(0)) << (8 * k)
                })
            }
            0xed00 => self.cpu.cpuid(),
            0xed04 => self.icsr(io),
            0xed08 => self.vtor,
            0xed0c => (0xfa05 << 16) | (u32::from(n.prigroup) << 8),
            0xed10 => self.scr,
            0xed14 => self.ccr,
            0xed18..=0xed20 => {
                let first = 4 + (off - 0xed18) as usize;
                (0..4).fold(0, |v, k| {
                    let e = first + k;
                    let p = if has_shpr_field(e) { n.prio[e] } else { 0 };
                    v | u32::from(p) << (8 * k)
                })
            }
            0xed24 => self.shcsr(io),
            0xed28 => self.cfsr,
            0xed2c => self.hfsr,
            0xed30 => self.dfsr,
            0xed34 => self.mmfar,
            0xed38 => self.bfar,
            0xed3c => self.afsr,
            // CPUID scheme (B4.1): values of the Cortex-M3/M4 TRMs.
            0xed40 => 0x0000_0030,
            0xed44 => 0x0000_0200,
            0xed48 => 0x0010_0000,
            0xed4c => 0,
            0xed50 => 0x0010_0030,
            0xed54 => 0,
            0xed58 => 0x0100_0000,
            0xed5c => 0,
            0xed60 => match self.cpu {
                CpuModel::CortexM3 => 0x0114_1110,
                _ => 0x0110_1110,
            },
            0xed64 => 0x0211_1000,
            0xed68 => match self.cpu {
                CpuModel::CortexM3 => 0x2111_2231,
                _ => 0x2111_2231,
            },
            0xed6c => match self.cpu {
                CpuModel::CortexM3 => 0x0111_1110,
                _ => 0x0111_1131,
            },
            0xed70 => 0x0131_0132,
            0xed88 => self.fp.cpacr,
            // FP extension (B3.2.21-B3.2.24, MVFR0-2 from the M4/M7 TRMs)
            0xef34 if self.has_fpu() => self.fp.fpccr,
            0xef38 if self.has_fpu() => self.fp.fpcar,
            0xef3c if self.has_fpu() => self.fp.fpdscr,
            0xef40..=0xef48 if self.has_fpu() => mvfr(self.cpu, (off - 0xef40) / 4),
            // MPU
            0xed90 => (Mpu::REGIONS as u32) << 8,
            0xed94 => self.mpu.ctrl,
            0xed98 => self.mpu.rnr,
            0xed9c | 0xeda4 | 0xedac | 0xedb4 => {
                let r = self.mpu.rnr as usize & 7;
                self.mpu.rbar[r] | r as u32
            }
            0xeda0 | 0xeda8 | 0xedb0 | 0xedb8 => self.mpu.rasr[self.mpu.rnr as usize & 7],
            // Debug: DHCSR (C_DEBUGEN while a debugger is attached), DEMCR (MON_PEND is
            // the DebugMonitor exception's pending state)
            0xedf0 => u32::from(self.debugger_attached),
            0xedfc => {
                (self.demcr & !demcr::MON_PEND)
                    | if io.nvic.pending[exc::DEBUGMON] {
                        demcr::MON_PEND
                    } else {
                        0
                    }
            }
            // SCS peripheral/component ID (CoreSight)
            0xefd0..=0xeffc => scs_id(off),
            0x1fd0..=0x1ffc => dwt_id(off),
            0x0fd0..=0x0ffc => itm_id(off),
            _ => 0,
        };
        Some(v)
    }

    fn bits(&self, io: &IoState, rel: u32, f: impl Fn(usize) -> bool) -> u32 {
        let first = exc::IRQ0 + 8 * rel as usize;
        (0..32).fold(0, |v, k| {
            let e = first + k;
            v | (u32::from(e < io.nvic.len() && f(e)) << k)
        })
    }

    /// Guest read of `size` bytes at `off`.
    pub fn read(&mut self, off: u32, size: u8, io: &mut IoState) -> Result<u32, BusError> {
        let unpriv_ok = off < 0x80 && self.itm_unpriv_ok(off);
        if !(io.privileged || unpriv_ok) {
            return Err(BusError::Denied);
        }
        let word = self.peek(off & !3, io).unwrap_or(0);
        if off & !3 == 0xe010 {
            // Reading CSR clears COUNTFLAG.
            self.st_materialize(io);
            self.systick.flag = false;
        }
        let shift = 8 * (off & 3);
        Ok(match size {
            1 => (word >> shift) & 0xff,
            2 => (word >> shift) & 0xffff,
            _ => word,
        })
    }

    fn itm_unpriv_ok(&self, off: u32) -> bool {
        // TPR bit n covers stimulus ports 8n..8n+7: set means privileged only.
        self.itm_tpr & (1 << (off / 4 / 8)) == 0
    }

    /// Guest write of `size` bytes at `off`.
    pub fn write(&mut self, off: u32, size: u8, v: u32, io: &mut IoState) -> Result<(), BusError> {
        let word_off = off & !3;
        let unpriv_ok =
            (off < 0x80 && self.itm_unpriv_ok(off)) || (word_off == 0xef00 && self.ccr & 2 != 0);
        if !io.privileged && !unpriv_ok {
            return Err(BusError::Denied);
        }
        let shift = 8 * (off & 3);
        let (mask, val) = match size {
            1 => (0xffu32 << shift, (v & 0xff) << shift),
            2 => (0xffffu32 << shift, (v & 0xffff) << shift),
            _ => (u32::MAX, v),
        };
        self.write_word(word_off, mask, val, io, size);
        Ok(())
    }

    fn set_bits(io: &mut IoState, rel: u32, val: u32, f: impl Fn(&mut IoState, usize)) {
        let first = exc::IRQ0 + 8 * rel as usize;
        for k in 0..32 {
            let e = first + k;
            if val & (1 << k) != 0 && e < io.nvic.len() {
                f(io, e);
            }
        }
    }

    fn write_word(&mut self, off: u32, mask: u32, val: u32, io: &mut IoState, size: u8) {
        let merge = |old: u32| (old & !mask) | (val & mask);
        let w1 = val & mask;
        match off {
            0x0000..=0x007c => {
                let port = off / 4;
                if self.itm_tcr & 1 != 0 && self.itm_ter & (1 << port) != 0 {
                    let bytes = val.to_le_bytes();
                    let n = usize::from(size);
                    let start = (mask.trailing_zeros() / 8) as usize;
                    match &mut self.itm_out[port as usize] {
                        Some(out) => out.write(&bytes[start..start + n]),
                        None if self.itm_warned & (1 << port) == 0 => {
                            self.itm_warned |= 1 << port;
                            tracing::info!(
                                "ITM stimulus port {port} is not connected (--itm-port {port}=PATH); its output is dropped"
                            );
                        }
                        None => {}
                    }
                }
            }
            0x0e00 => self.itm_ter = merge(self.itm_ter),
            0x0e40 => self.itm_tpr = merge(self.itm_tpr) & 0xf,
            0x0e80 => self.itm_tcr = merge(self.itm_tcr) & 0x00ff_ff1f,
            0x1000 => {
                let v = merge(self.dwt_ctrl) & 0x1fff_ffff;
                self.cyc_update(io, |s| s.dwt_ctrl = v);
            }
            0x1004 => {
                let v = merge(self.cyccnt_now(io));
                self.cyc_update(io, |s| s.cyccnt = v);
            }
            0xe008 => self.actlr = merge(self.actlr) & 0x307,
            0xe010 => {
                self.st_materialize(io);
                let old = self.systick.csr;
                self.systick.csr = merge(old) & 7;
                if old & 4 != self.systick.csr & 4 {
                    // Changing the clock source re-bases the tick count.
                    self.systick.t0 = self.tick_at(io, io.now());
                }
                if old & 1 == 0 && self.systick.csr & 1 != 0 {
                    self.systick.t0 = self.tick_at(io, io.now());
                }
                self.st_reschedule(io);
            }
            0xe014 => {
                self.st_materialize(io);
                self.systick.rvr = merge(self.systick.rvr) & 0xff_ffff;
                self.st_reschedule(io);
            }
            0xe018 => {
                // Any write clears the counter and COUNTFLAG.
                self.st_materialize(io);
                self.systick.c0 = 0;
                self.systick.flag = false;
                self.st_reschedule(io);
            }
            0xe100..=0xe13c => Self::set_bits(io, off - 0xe100, w1, |io, e| {
                io.nvic.enabled.set(e, true);
                io.attention = true;
            }),
            0xe180..=0xe1bc => {
                Self::set_bits(io, off - 0xe180, w1, |io, e| io.nvic.enabled.set(e, false))
            }
            0xe200..=0xe23c => Self::set_bits(io, off - 0xe200, w1, |io, e| io.pend(e)),
            0xe280..=0xe2bc => {
                Self::set_bits(io, off - 0xe280, w1, |io, e| io.nvic.clear_pending(e))
            }
            0xe400..=0xe5ec => {
                let first = exc::IRQ0 + (off - 0xe400) as usize;
                let pm = io.nvic.prio_mask();
                for k in 0..4 {
                    if mask & (0xff << (8 * k)) != 0 {
                        if let Some(p) = io.nvic.prio.get_mut(first + k) {
                            *p = (val >> (8 * k)) as u8 & pm;
                        }
                    }
                }
                io.attention = true;
            }
            0xed04 => {
                if w1 & (1 << 31) != 0 {
                    io.pend(exc::NMI);
                }
                if w1 & (1 << 28) != 0 {
                    io.pend(exc::PENDSV);
                } else if w1 & (1 << 27) != 0 {
                    io.nvic.pending.set(exc::PENDSV, false);
                }
                if w1 & (1 << 26) != 0 {
                    io.pend(exc::SYSTICK);
                } else if w1 & (1 << 25) != 0 {
                    io.nvic.pending.set(exc::SYSTICK, false);
                }
            }
            0xed08 => self.vtor = merge(self.vtor) & 0xffff_ff80,
            0xed0c => {
                let v = merge(self.peek(0xed0c, io).unwrap_or(0));
                if mask == u32::MAX && v >> 16 == AIRCR_VECTKEY {
                    io.nvic.prigroup = ((v >> 8) & 7) as u8;
                    io.attention = true;
                    if v & 4 != 0 {
                        self.reset_requested = true;
                        io.attention = true;
                    }
                } else {
                    tracing::debug!("AIRCR write without VECTKEY ignored");
                }
            }
            0xed10 => self.scr = merge(self.scr) & 0x16,
            0xed14 => {
                self.ccr = merge(self.ccr) & 0x31b;
                self.config_changed = true;
            }
            0xed18..=0xed20 => {
                let first = 4 + (off - 0xed18) as usize;
                let pm = io.nvic.prio_mask();
                for k in 0..4 {
                    let e = first + k;
                    if mask & (0xff << (8 * k)) != 0 && has_shpr_field(e) {
                        io.nvic.prio[e] = (val >> (8 * k)) as u8 & pm;
                    }
                }
                io.attention = true;
            }
            0xed24 => {
                let v = merge(self.shcsr(io));
                let n = &mut io.nvic;
                let b = |bit: u32| v & (1 << bit) != 0;
                n.active.set(exc::MEMMANAGE, b(0));
                n.active.set(exc::BUSFAULT, b(1));
                n.active.set(exc::USAGEFAULT, b(3));
                n.active.set(exc::SVCALL, b(7));
                n.active.set(exc::DEBUGMON, b(8));
                n.active.set(exc::PENDSV, b(10));
                n.active.set(exc::SYSTICK, b(11));
                n.pending.set(exc::USAGEFAULT, b(12));
                n.pending.set(exc::MEMMANAGE, b(13));
                n.pending.set(exc::BUSFAULT, b(14));
                n.pending.set(exc::SVCALL, b(15));
                n.enabled.set(exc::MEMMANAGE, b(16));
                n.enabled.set(exc::BUSFAULT, b(17));
                n.enabled.set(exc::USAGEFAULT, b(18));
                io.attention = true;
            }
            0xed28 => self.cfsr &= !w1,
            0xed2c => self.hfsr &= !w1,
            0xed30 => self.dfsr &= !w1,
            0xed34 => self.mmfar = merge(self.mmfar),
            0xed38 => self.bfar = merge(self.bfar),
            0xed3c => self.afsr &= !w1,
            // CPACR: CP10/CP11 access on cores with an FPU option; RAZ/WI on the M3.
            0xed88 if self.has_fpu() => {
                self.fp.cpacr = merge(self.fp.cpacr) & 0x00f0_0000;
            }
            0xef34 if self.has_fpu() => self.fp.fpccr = merge(self.fp.fpccr) & fpccr::MASK,
            0xef38 if self.has_fpu() => self.fp.fpcar = merge(self.fp.fpcar) & !7,
            0xef3c if self.has_fpu() => {
                self.fp.fpdscr = merge(self.fp.fpdscr) & armlet_cpu::fpstate::FPDSCR_MASK;
            }
            0xed94 => {
                self.mpu.ctrl = merge(self.mpu.ctrl) & 7;
                self.config_changed = true;
                self.mpu_changed = true;
            }
            0xed98 => self.mpu.rnr = merge(self.mpu.rnr) & 0xff,
            0xed9c | 0xeda4 | 0xedac | 0xedb4 => {
                let v = merge(self.peek(off, io).unwrap_or(0));
                if v & 0x10 != 0 {
                    self.mpu.rnr = v & 0xf;
                }
                let r = self.mpu.rnr as usize & 7;
                self.mpu.rbar[r] = v & !0x1f;
                self.config_changed = true;
                self.mpu_changed = true;
            }
            0xeda0 | 0xeda8 | 0xedb0 | 0xedb8 => {
                let r = self.mpu.rnr as usize & 7;
                self.mpu.rasr[r] = merge(self.mpu.rasr[r]) & 0x173f_ff3f;
                self.config_changed = true;
                self.mpu_changed = true;
            }
            0xedfc => {
                let v = merge(self.demcr) & 0x010f_07f1;
                self.cyc_update(io, |s| s.demcr = v);
                // MON_EN enables the DebugMonitor exception; MON_PEND sets or clears its
                // pending state.
                io.nvic.enabled.set(exc::DEBUGMON, v & demcr::MON_EN != 0);
                io.nvic.pending.set(exc::DEBUGMON, v & demcr::MON_PEND != 0);
                io.attention = true;
            }
            0xef00 => {
                let e = exc::IRQ0 + (val & 0x1ff) as usize;
                io.pend(e);
            }
            _ => {}
        }
    }
}

/// MVFR0/1/2 (index 0..=2) of a core's FPU: Cortex-M4F FPv4-SP-D16 and Cortex-M7 FPv5-D16
/// with double precision, as their TRMs (and QEMU) give them.
fn mvfr(cpu: CpuModel, i: u32) -> u32 {
    match (cpu, i) {
        (CpuModel::CortexM4, 0) => 0x1011_0021,
        (CpuModel::CortexM4, 1) => 0x1100_0011,
        (CpuModel::CortexM7, 0) => 0x1011_0221,
        (CpuModel::CortexM7, 1) => 0x1200_0011,
        (CpuModel::CortexM7, 2) => 0x0000_0040,
        _ => 0,
    }
}

/// True if exception `e` has a priority field in SHPR1–3 (the others read as zero).
fn has_shpr_field(e: usize) -> bool {
    matches!(
        e,
        exc::MEMMANAGE
            | exc::BUSFAULT
            | exc::USAGEFAULT
            | exc::SVCALL
            | exc::DEBUGMON
            | exc::PENDSV
            | exc::SYSTICK
    )
}

/// CoreSight ID registers of the SCS (PID4..PID7, PID0..PID3, CID0..CID3).
fn scs_id(off: u32) -> u32 {
    const ID: [u32; 12] = [
        0x04, 0, 0, 0, 0x00, 0xb0, 0x0b, 0x00, 0x0d, 0xe0, 0x05, 0xb1,
    ];
    ID[((off - 0xefd0) / 4) as usize]
}

fn dwt_id(off: u32) -> u32 {
    const ID: [u32; 12] = [
        0x04, 0, 0, 0, 0x02, 0xb0, 0x3b, 0x00, 0x0d, 0xe0, 0x05, 0xb1,
    ];
    ID[((off - 0x1fd0) / 4) as usize]
}

fn itm_id(off: u32) -> u32 {
    const ID: [u32; 12] = [
        0x04, 0, 0, 0, 0x01, 0xb0, 0x3b, 0x00, 0x0d, 0xe0, 0x05, 0xb1,
    ];
    ID[((off - 0x0fd0) / 4) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (Scs, IoState) {
        let mut io = IoState::new(1_000_000, 32, 3);
        io.privileged = true;
        (Scs::new(CpuModel::CortexM3), io)
    }

    fn fire(scs: &mut Scs, io: &mut IoState) -> usize {
        let mut n = 0;
        while let Some((_, EventOwner::SysTick, _)) = io.events.pop_due(io.now()) {
            scs.systick_event(io);
            n += 1;
        }
        n
    }

    #[test]
    fn systick_counts_down_wraps_and_pends() {
        let (mut s, mut io) = setup();
        s.write(0xe014, 4, 99, &mut io).unwrap(); // period 100 cycles
        s.write(0xe018, 4, 0, &mut io).unwrap();
        s.write(0xe010, 4, 0b111, &mut io).unwrap();
        assert_eq!(s.read(0xe018, 4, &mut io), Ok(0));
        io.icount = 1;
        assert_eq!(
            s.read(0xe018, 4, &mut io),
            Ok(99),
            "reload on the first tick"
        );
        io.icount = 50;
        assert_eq!(s.read(0xe018, 4, &mut io), Ok(50));
        assert_eq!(fire(&mut s, &mut io), 0);
        io.icount = 100;
        assert_eq!(fire(&mut s, &mut io), 1);
        assert!(io.nvic.pending[exc::SYSTICK]);
        assert_eq!(s.read(0xe018, 4, &mut io), Ok(0));
        assert_eq!(s.read(0xe010, 4, &mut io).unwrap() >> 16, 1, "COUNTFLAG");
        assert_eq!(
            s.read(0xe010, 4, &mut io).unwrap() >> 16,
            0,
            "cleared by reading"
        );
        io.icount = 200;
        assert_eq!(fire(&mut s, &mut io), 1);
        io.icount = 250;
        assert_eq!(s.read(0xe018, 4, &mut io), Ok(50));
        assert_eq!(io.events.next_due(), Some(300));
    }

    #[test]
    fn systick_reference_clock_and_calib() {
        let mut io = IoState::new(25_000_000, 32, 3);
        io.privileged = true;
        let mut s = Scs::new(CpuModel::CortexM3);
        assert_eq!(
            s.read(0xe01c, 4, &mut io),
            Ok(1 << 31),
            "NOREF without a clock"
        );
        s.set_systick_ref_hz(Some(1_000_000));
        assert_eq!(
            s.read(0xe01c, 4, &mut io),
            Ok(9999),
            "TENMS of a 1 MHz clock"
        );
        s.write(0xe014, 4, 9, &mut io).unwrap(); // 10 ticks of 1 MHz = 250 CPU cycles
        s.write(0xe010, 4, 0b011, &mut io).unwrap(); // CLKSOURCE = reference, TICKINT
        io.icount = 249;
        assert_eq!(fire(&mut s, &mut io), 0);
        io.icount = 250;
        assert_eq!(s.read(0xe018, 4, &mut io), Ok(0));
        io.icount = 275;
        assert_eq!(
            s.read(0xe018, 4, &mut io),
            Ok(9),
            "reloaded on the 11th tick"
        );
        io.icount = 500;
        assert!(fire(&mut s, &mut io) >= 1);
        assert!(io.nvic.pending[exc::SYSTICK]);
    }

    #[test]
    fn aircr_needs_vectkey_and_prio_bits_are_masked() {
        let (mut s, mut io) = setup();
        s.write(0xed0c, 4, 0x0000_0504, &mut io).unwrap();
        assert!(!s.reset_requested);
        assert_eq!(io.nvic.prigroup, 0);
        s.write(0xed0c, 4, 0x05fa_0500, &mut io).unwrap();
        assert_eq!(io.nvic.prigroup, 5);
        assert_eq!(s.read(0xed0c, 4, &mut io), Ok(0xfa05_0500));
        s.write(0xe400, 1, 0xff, &mut io).unwrap();
        assert_eq!(s.read(0xe400, 4, &mut io), Ok(0xe0));
        s.write(0xed23, 1, 0x40, &mut io).unwrap(); // SHPR3 byte 3 = SysTick
        assert_eq!(io.nvic.prio[exc::SYSTICK], 0x40);
    }

    #[test]
    fn cfsr_is_write_one_to_clear_per_byte() {
        let (mut s, mut io) = setup();
        s.cfsr = cfsr::DIVBYZERO | cfsr::PRECISERR | cfsr::BFARVALID | cfsr::DACCVIOL;
        s.write(0xed29, 1, 0x02, &mut io).unwrap(); // BFSR.PRECISERR
        assert_eq!(s.cfsr, cfsr::DIVBYZERO | cfsr::BFARVALID | cfsr::DACCVIOL);
        assert_eq!(s.read(0xed2a, 2, &mut io), Ok(0x0200));
    }

    #[test]
    fn unprivileged_scs_access_is_a_bus_error() {
        let (mut s, mut io) = setup();
        io.privileged = false;
        assert_eq!(s.read(0xed00, 4, &mut io), Err(BusError::Denied));
        assert_eq!(s.write(0xef00, 4, 3, &mut io), Err(BusError::Denied));
        io.privileged = true;
        s.write(0xed14, 4, CCR_RESET | 2, &mut io).unwrap(); // USERSETMPEND
        io.privileged = false;
        s.write(0xef00, 4, 3, &mut io).unwrap();
        assert!(io.nvic.pending[exc::IRQ0 + 3]);
    }

    #[test]
    fn mpu_regions_subregions_and_background() {
        let mut m = Mpu {
            ctrl: 1,
            ..Default::default()
        };
        // region 0: 0x2000_0000, 64 KiB, full access; region 1: 0x2000_0000, 1 KiB, priv RO,
        // XN; region 2: 0x2000_8000 32 KiB, subregion 0 disabled, no access
        m.rbar[0] = 0x2000_0000;
        m.rasr[0] = (0b011 << 24) | (15 << 1) | 1;
        m.rbar[1] = 0x2000_0000;
        m.rasr[1] = (1 << 28) | (0b101 << 24) | (9 << 1) | 1;
        m.rbar[2] = 0x2000_8000;
        m.rasr[2] = (1 << 8) | (14 << 1) | 1;
        assert!(m.allows(0x2000_0400, Access::Write, false));
        assert!(m.allows(0x2000_0000, Access::Read, true));
        assert!(
            !m.allows(0x2000_0000, Access::Write, true),
            "higher region wins"
        );
        assert!(!m.allows(0x2000_0000, Access::Read, false));
        assert!(!m.allows(0x2000_0010, Access::Exec, true), "XN");
        assert!(
            m.allows(0x2000_8000, Access::Write, false),
            "subregion 0 disabled"
        );
        assert!(!m.allows(0x2000_9000, Access::Read, true));
        assert!(
            !m.allows(0x0000_0100, Access::Exec, true),
            "no background region"
        );
        m.ctrl |= 4;
        assert!(m.allows(0x0000_0100, Access::Exec, true));
        assert!(!m.allows(0x0000_0100, Access::Exec, false));
        assert!(
            m.allows(0xe000_ed00, Access::Read, false),
            "PPB uses the default map"
        );
    }
}
