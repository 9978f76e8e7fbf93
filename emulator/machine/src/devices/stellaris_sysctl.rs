//! The Stellaris system control block (LM3S6965 data sheet, "System Control"), behaving as
//! QEMU's `hw/arm/stellaris.c` `ssys_*`:
//!
//! - Identification and capabilities: DID0, DID1, DC0-DC4 (params, LM3S6965 values by
//!   default) and USER0/USER1 (params; by default what QEMU puts there from its default
//!   NIC's MAC address 52:54:00:12:34:56).
//! - The PLL locks at once: clearing RCC.PWRDN or RCC2.PWRDN2 (bit 13) sets RIS.PLLLRIS
//!   (bit 6), which firmware polls after setting the PLL up. MISC is the masked status
//!   (write 1 to clear), IMC the mask; the IRQ output is RIS AND IMC.
//! - RCC (reset 0x078E3AC0), RCC2 (reset 0x07802810; ignored on Sandstorm-class parts),
//!   PLLCFG (from RCC.XTAL, QEMU's tables), the clock gating registers RCGC/SCGC/DCGC
//!   (reset 1 in the first of each), PBORCTL, LDOPCTL, RESC, CLKVCLR, LDOARST are stored.
//!   Clock settings do not change the speed of anything: armlet's board clock is fixed
//!   (QEMU derives the SysTick and timer clocks from RCC's SYSDIV).
//! - SRCR0-2 (peripheral resets) read 0; writes are logged and ignored (QEMU).
//! - DSLPCLKCFG (0x144, reset 0x07800000) is stored; QEMU does not have it.

use super::common::{size_mask, GuestLog};
use crate::device::{Device, DeviceCtx};
use armlet_cpu::BusError;

const DID0: u32 = 0x000;
const DID1: u32 = 0x004;
const DC0: u32 = 0x008;
const DC1: u32 = 0x010;
const DC2: u32 = 0x014;
const DC3: u32 = 0x018;
const DC4: u32 = 0x01c;
const PBORCTL: u32 = 0x030;
const LDOPCTL: u32 = 0x034;
const SRCR0: u32 = 0x040;
const SRCR2: u32 = 0x048;
const RIS: u32 = 0x050;
const IMC: u32 = 0x054;
const MISC: u32 = 0x058;
const RESC: u32 = 0x05c;
const RCC: u32 = 0x060;
const PLLCFG: u32 = 0x064;
const RCC2: u32 = 0x070;
const RCGC0: u32 = 0x100;
const SCGC0: u32 = 0x110;
const DCGC0: u32 = 0x120;
const DSLPCLKCFG: u32 = 0x144;
const CLKVCLR: u32 = 0x150;
const LDOARST: u32 = 0x160;
const USER0: u32 = 0x1e0;
const USER1: u32 = 0x1e4;

const PWRDN: u32 = 1 << 13;
const PLLLRIS: u32 = 1 << 6;

/// PLLCFG by RCC.XTAL, Sandstorm class (QEMU's table).
const PLLCFG_SANDSTORM: [u32; 16] = [
    0x31c0, 0x1ae0, 0x18c0, 0xd573, 0x37a6, 0x1ae2, 0x0c40, 0x98bc, 0x935b, 0x09c0, 0x4dee, 0x0c41,
    0x75db, 0x1ae6, 0x0600, 0x585b,
];
/// PLLCFG by RCC.XTAL, Fury class (QEMU's table).
const PLLCFG_FURY: [u32; 16] = [
    0x3200, 0x1b20, 0x1900, 0xf42b, 0x37e3, 0x1b21, 0x0c80, 0x98ee, 0xd5b4, 0x0a00, 0x4e27, 0x1902,
    0xec1c, 0x1b23, 0x0640, 0xb11c,
];

/// IRQ outputs, in machine-file order.
pub const OUTPUTS: &[&str] = &["system control (PLL lock, brown-out)"];

/// The read-only identification values (machine-file params).
#[derive(Debug, Clone)]
pub struct SysctlConfig {
    pub did0: u32,
    pub did1: u32,
    pub dc: [u32; 5],
    pub user0: u32,
    pub user1: u32,
}

impl Default for SysctlConfig {
    /// The LM3S6965 as QEMU's `lm3s6965evb` has it.
    fn default() -> Self {
        SysctlConfig {
            did0: 0x1001_0002,
            did1: 0x1073_402e,
            dc: [
                0x00ff_007f,
                0x0011_33ff,
                0x030f_5317,
                0x0f0f_87ff,
                0x5000_007f,
            ],
            user0: 0x0000_5452,
            user1: 0x0056_3412,
        }
    }
}

/// The system control block.
#[derive(Debug)]
pub struct StellarisSysctl {
    name: String,
    cfg: SysctlConfig,
    pborctl: u32,
    ldopctl: u32,
    ris: u32,
    imc: u32,
    resc: u32,
    rcc: u32,
    rcc2: u32,
    rcgc: [u32; 3],
    scgc: [u32; 3],
    dcgc: [u32; 3],
    dslpclkcfg: u32,
    clkvclr: u32,
    ldoarst: u32,
    log: GuestLog,
}

impl StellarisSysctl {
    /// A system control block called `name`.
    pub fn new(name: &str, cfg: SysctlConfig) -> Self {
        let mut s = StellarisSysctl {
            name: name.into(),
            cfg,
            pborctl: 0,
            ldopctl: 0,
            ris: 0,
            imc: 0,
            resc: 0,
            rcc: 0,
            rcc2: 0,
            rcgc: [0; 3],
            scgc: [0; 3],
            dcgc: [0; 3],
            dslpclkcfg: 0,
            clkvclr: 0,
            ldoarst: 0,
            log: GuestLog::default(),
        };
        s.reset_regs();
        s
    }

    /// Sandstorm-class parts (DID0 version 0, or version 1 class 0) have no RCC2 and their
    /// own PLLCFG table; everything else is treated as Fury class.
    fn sandstorm(&self) -> bool {
        let d = self.cfg.did0;
        match d & 0x7000_0000 {
            0 => true,
            0x1000_0000 => d & 0x00ff_0000 == 0,
            _ => false,
        }
    }

    fn reset_regs(&mut self) {
        self.pborctl = 0x7ffd;
        self.ldopctl = 0;
        self.ris = 0;
        self.imc = 0;
        self.resc = 0;
        self.rcc = 0x078e_3ac0;
        self.rcc2 = if self.sandstorm() { 0 } else { 0x0780_2810 };
        self.rcgc = [1, 0, 0];
        self.scgc = [1, 0, 0];
        self.dcgc = [1, 0, 0];
        self.dslpclkcfg = 0x0780_0000;
        self.clkvclr = 0;
        self.ldoarst = 0;
    }

    fn reg(&self, offset: u32) -> Option<u32> {
        let c = &self.cfg;
        let gate = |base: u32, regs: &[u32; 3]| regs.get(((offset - base) / 4) as usize).copied();
        Some(match offset {
            DID0 => c.did0,
            DID1 => c.did1,
            DC0 => c.dc[0],
            DC1 => c.dc[1],
            DC2 => c.dc[2],
            DC3 => c.dc[3],
            DC4 => c.dc[4],
            PBORCTL => self.pborctl,
            LDOPCTL => self.ldopctl,
            SRCR0 | 0x044 | SRCR2 => 0,
            RIS => self.ris,
            IMC => self.imc,
            MISC => self.ris & self.imc,
            RESC => self.resc,
            RCC => self.rcc,
            PLLCFG => {
                let xtal = ((self.rcc >> 6) & 0xf) as usize;
                if self.sandstorm() {
                    PLLCFG_SANDSTORM[xtal]
                } else {
                    PLLCFG_FURY[xtal]
                }
            }
            RCC2 => self.rcc2,
            0x100 | 0x104 | 0x108 => gate(RCGC0, &self.rcgc)?,
            0x110 | 0x114 | 0x118 => gate(SCGC0, &self.scgc)?,
            0x120 | 0x124 | 0x128 => gate(DCGC0, &self.dcgc)?,
            DSLPCLKCFG => self.dslpclkcfg,
            CLKVCLR => self.clkvclr,
            LDOARST => self.ldoarst,
            USER0 => c.user0,
            USER1 => c.user1,
            _ => return None,
        })
    }
}

impl Device for StellarisSysctl {
    fn read(&mut self, offset: u32, size: u8, _ctx: &mut DeviceCtx<'_>) -> Result<u32, BusError> {
        let v = self.reg(offset).unwrap_or_else(|| {
            self.log.bad(&self.name, offset, false, 0);
            0
        });
        Ok(v & size_mask(size))
    }

    fn write(
        &mut self,
        offset: u32,
        _size: u8,
        value: u32,
        ctx: &mut DeviceCtx<'_>,
    ) -> Result<(), BusError> {
        match offset {
            PBORCTL => self.pborctl = value & 0xffff,
            LDOPCTL => self.ldopctl = value & 0x1f,
            SRCR0 | 0x044 | SRCR2 => self.log.unimp(
                &self.name,
                offset,
                "peripheral reset through SRCR (ignored)",
            ),
            IMC => self.imc = value & 0x7f,
            MISC => self.ris &= !value,
            RESC => self.resc = value & 0x3f,
            RCC => {
                if self.rcc & PWRDN != 0 && value & PWRDN == 0 {
                    // PLL powered up: it locks at once.
                    self.ris |= PLLLRIS;
                }
                self.rcc = value;
            }
            RCC2 => {
                if !self.sandstorm() {
                    if self.rcc2 & PWRDN != 0 && value & PWRDN == 0 {
                        self.ris |= PLLLRIS;
                    }
                    self.rcc2 = value;
                }
            }
            0x100 | 0x104 | 0x108 => self.rcgc[((offset - RCGC0) / 4) as usize] = value,
            0x110 | 0x114 | 0x118 => self.scgc[((offset - SCGC0) / 4) as usize] = value,
            0x120 | 0x124 | 0x128 => self.dcgc[((offset - DCGC0) / 4) as usize] = value,
            DSLPCLKCFG => self.dslpclkcfg = value & 0x1f80_0070,
            CLKVCLR => self.clkvclr = value,
            LDOARST => self.ldoarst = value,
            _ => self.log.bad(&self.name, offset, true, value),
        }
        ctx.set_irq(0, self.ris & self.imc != 0);
        Ok(())
    }

    fn may_dma(&self) -> bool {
        false
    }
    fn peek(&self, offset: u32, size: u8) -> Option<u32> {
        self.reg(offset).map(|v| v & size_mask(size))
    }

    fn reset(&mut self, ctx: &mut DeviceCtx<'_>) {
        self.reset_regs();
        ctx.set_irq(0, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::common::bench::Bench;

    fn sysctl(cfg: SysctlConfig) -> Bench<StellarisSysctl> {
        Bench::new(StellarisSysctl::new("sysctl", cfg), 50_000_000, &[28])
    }

    #[test]
    fn identification() {
        let mut b = sysctl(SysctlConfig::default());
        assert_eq!(b.rd(DID0), 0x1001_0002);
        assert_eq!(b.rd(DID1), 0x1073_402e);
        assert_eq!(b.rd(DC0), 0x00ff_007f);
        assert_eq!(b.rd(DC4), 0x5000_007f);
        assert_eq!(b.rd(0x00c), 0, "no register between DC0 and DC1");
        assert_eq!((b.rd(USER0), b.rd(USER1)), (0x5452, 0x0056_3412));
        b.wr(DID0, 0);
        assert_eq!(b.rd(DID0), 0x1001_0002);
        assert_eq!(b.read(DID1 + 2, 2), 0, "exact offsets only (QEMU)");
        assert_eq!(b.read(DID1, 2), 0x402e);
    }

    #[test]
    fn pll_locks_when_powered_up() {
        let mut b = sysctl(SysctlConfig::default());
        assert_eq!(b.rd(RCC), 0x078e_3ac0);
        assert_eq!(b.rd(RCC2), 0x0780_2810);
        assert_eq!(b.rd(PLLCFG), 0x1902, "XTAL 6 MHz at reset");
        assert_eq!(b.rd(RIS), 0);
        // The usual sequence: clear the lock status, power the PLL, poll.
        b.wr(MISC, PLLLRIS);
        b.wr(RCC, 0x078e_3ac0 & !PWRDN & !(0xf << 6) | (0xe << 6));
        assert_eq!(b.rd(RIS) & PLLLRIS, PLLLRIS);
        assert_eq!(b.rd(PLLCFG), 0x0640);
        assert!(!b.irq(0), "masked");
        b.wr(IMC, 0xff);
        assert_eq!(b.rd(IMC), 0x7f);
        assert!(b.irq(0));
        assert_eq!(b.rd(MISC), PLLLRIS);
        b.wr(MISC, PLLLRIS);
        assert!(!b.irq(0));
        assert_eq!(b.rd(RIS), 0);
        // Already powered: no new lock event (QEMU).
        b.wr(RCC, 0x0100_0000);
        assert_eq!(b.rd(RIS), 0);
        // RCC2 too.
        b.wr(RCC2, 0x8000_0000);
        assert_eq!(b.rd(RIS), PLLLRIS);
        assert_eq!(b.rd(RCC2), 0x8000_0000);
        b.reset();
        assert!(!b.irq(0));
        assert_eq!(b.rd(RCC), 0x078e_3ac0);
    }

    #[test]
    fn clock_gating_and_other_registers() {
        let mut b = sysctl(SysctlConfig::default());
        assert_eq!((b.rd(RCGC0), b.rd(SCGC0), b.rd(DCGC0)), (1, 1, 1));
        b.wr(0x108, 0x7f);
        b.wr(0x114, 0x10);
        assert_eq!((b.rd(0x108), b.rd(0x114)), (0x7f, 0x10));
        assert_eq!(b.rd(PBORCTL), 0x7ffd);
        b.wr(PBORCTL, 0xffff_ffff);
        assert_eq!(b.rd(PBORCTL), 0xffff);
        b.wr(SRCR0, 0xffff_ffff);
        assert_eq!(b.rd(SRCR0), 0);
        assert_eq!(b.rd(DSLPCLKCFG), 0x0780_0000);
        b.wr(RESC, 0xff);
        assert_eq!(b.rd(RESC), 0x3f);
        assert_eq!(b.rd(0x200), 0);
        assert_eq!(b.dev.peek(0x200, 4), None);
        for off in 0..0x1000 {
            b.read(off, 4);
        }
        // A Sandstorm-class part has no RCC2.
        let mut b = sysctl(SysctlConfig {
            did0: 0x0000_0000,
            ..Default::default()
        });
        assert_eq!(b.rd(RCC2), 0);
        b.wr(RCC2, 0x8000_0000);
        assert_eq!(b.rd(RCC2), 0);
        assert_eq!(b.rd(PLLCFG), 0x0c41);
    }
}
