//! The MPS2 Serial Communication Controller (MPS2 TRM and the FPGA application notes;
//! QEMU's `hw/misc/mps2-scc.c`): board configuration registers, the SYS_CFG channel to the
//! motherboard configuration controller (which here only has the OSCCLK clock settings),
//! the DLL lock status and the FPGA image identification.
//!
//! | Offset | Register | |
//! |---|---|---|
//! | 0x000 | CFG0 | read/write (bit 0 is the remap control; no effect here, as in QEMU) |
//! | 0x004 | CFG1 | read/write (the MCC LEDs) |
//! | 0x00C | CFG3 | reads 0 (the board's DIP switches) |
//! | 0x010 | CFG4 | read-only, param `cfg4` (board revision) |
//! | 0x008, 0x014-0x01C | CFG2, CFG5-7 | only for the AN524/AN536/AN547 images, as in QEMU |
//! | 0x0A0 | CFGDATA_RTN | data read through SYS_CFG |
//! | 0x0A4 | CFGDATA_OUT | data to write through SYS_CFG |
//! | 0x0A8 | CFGCTRL | START (31), WRITE (30), FUNCTION (25:20), DEVICE (11:0): a write with START does the transfer at once |
//! | 0x0AC | CFGSTAT | DONE (0), ERROR (1: a function other than 1 (OSCCLK) or a device past `oscclk`) |
//! | 0x100 | DLL | bits 31:24 writable; the DLLs are always locked (0xFFFF0001 at reset) |
//! | 0xFF8 | AID | param `aid` |
//! | 0xFFC | ID | param `id` |

use super::common::{size_mask, GuestLog};
use crate::device::{Device, DeviceCtx};
use armlet_cpu::BusError;

const CFG0: u32 = 0x00;
const CFG1: u32 = 0x04;
const CFG2: u32 = 0x08;
const CFG3: u32 = 0x0c;
const CFG4: u32 = 0x10;
const CFG5: u32 = 0x14;
const CFG6: u32 = 0x18;
const CFG7: u32 = 0x1c;
const CFGDATA_RTN: u32 = 0xa0;
const CFGDATA_OUT: u32 = 0xa4;
const CFGCTRL: u32 = 0xa8;
const CFGSTAT: u32 = 0xac;
const DLL: u32 = 0x100;
const AID: u32 = 0xff8;
const ID: u32 = 0xffc;

const CFGCTRL_START: u32 = 1 << 31;
const CFGCTRL_WRITE: u32 = 1 << 30;
const CFGCTRL_RES: u32 = (0xff << 12) | (0xf << 26);
const CFGSTAT_DONE: u32 = 1 << 0;
const CFGSTAT_ERROR: u32 = 1 << 1;

/// IRQ outputs: none.
pub const OUTPUTS: &[&str] = &[];

/// Configuration (machine-file params).
#[derive(Debug, Clone)]
pub struct SccConfig {
    /// SCC_ID (default AN385's).
    pub id: u32,
    /// SCC_AID.
    pub aid: u32,
    /// CFG4 (board revision).
    pub cfg4: u32,
    /// CFG0 reset value.
    pub cfg0: u32,
    /// OSCCLK settings reachable through SYS_CFG.
    pub oscclk: Vec<u32>,
}

impl SccConfig {
    /// SCC_ID of QEMU's `mps2-an385`.
    pub const ID_AN385: u32 = 0x4104_3850;
    /// SCC_ID of QEMU's `mps2-an386`.
    pub const ID_AN386: u32 = 0x4104_3860;
    /// SCC_ID of QEMU's `mps2-an500`.
    pub const ID_AN500: u32 = 0x4104_5000;
}

impl Default for SccConfig {
    /// QEMU's values for the MPS2 boards (hw/arm/mps2.c).
    fn default() -> Self {
        SccConfig {
            id: Self::ID_AN385,
            aid: 0x0020_0008,
            cfg4: 0x2,
            cfg0: 0,
            oscclk: vec![50_000_000, 24_576_000, 25_000_000],
        }
    }
}

/// The SCC.
#[derive(Debug)]
pub struct Mps2Scc {
    name: String,
    cfg: SccConfig,
    cfg0: u32,
    cfg1: u32,
    cfg2: u32,
    cfg5: u32,
    cfg6: u32,
    cfg7: u32,
    cfgdata_rtn: u32,
    cfgdata_out: u32,
    cfgctrl: u32,
    cfgstat: u32,
    dll: u32,
    oscclk: Vec<u32>,
    log: GuestLog,
}

impl Mps2Scc {
    /// An SCC called `name`.
    pub fn new(name: &str, cfg: SccConfig) -> Self {
        let mut s = Mps2Scc {
            name: name.into(),
            oscclk: cfg.oscclk.clone(),
            cfg,
            cfg0: 0,
            cfg1: 0,
            cfg2: 0,
            cfg5: 0,
            cfg6: 0,
            cfg7: 0,
            cfgdata_rtn: 0,
            cfgdata_out: 0,
            cfgctrl: 0,
            cfgstat: 0,
            dll: 0,
            log: GuestLog::default(),
        };
        s.reset_regs();
        s
    }

    fn reset_regs(&mut self) {
        self.cfg0 = self.cfg.cfg0;
        self.cfg1 = 0;
        self.cfg2 = 0;
        self.cfg5 = 0;
        self.cfg6 = 0;
        self.cfg7 = 0;
        self.cfgdata_rtn = 0;
        self.cfgdata_out = 0;
        self.cfgctrl = 0x0010_0000;
        self.cfgstat = 0;
        self.dll = 0xffff_0001;
        self.oscclk = self.cfg.oscclk.clone();
    }

    /// The FPGA image's part number (0x385, 0x524, ...). QEMU extracts 8 bits here (a
    /// slip that makes its AN524/AN536/AN547 checks never match); for the MPS2 images
    /// armlet models the result is the same either way.
    fn partno(&self) -> u32 {
        (self.cfg.id >> 4) & 0xfff
    }

    fn has_cfg2_5(&self) -> bool {
        matches!(self.partno(), 0x524 | 0x547 | 0x536)
    }

    fn has_cfg6(&self) -> bool {
        matches!(self.partno(), 0x524 | 0x536)
    }

    fn has_cfg7(&self) -> bool {
        self.partno() == 0x536
    }

    fn reg(&self, offset: u32) -> Option<u32> {
        Some(match offset {
            CFG0 => self.cfg0,
            CFG1 => self.cfg1,
            CFG2 if self.has_cfg2_5() => self.cfg2,
            CFG3 if !self.has_cfg2_5() => 0,
            CFG4 => self.cfg.cfg4,
            CFG5 if self.has_cfg2_5() => self.cfg5,
            CFG6 if self.has_cfg6() => self.cfg6,
            CFG7 if self.has_cfg7() => self.cfg7,
            CFGDATA_RTN => self.cfgdata_rtn,
            CFGDATA_OUT => self.cfgdata_out,
            CFGCTRL => self.cfgctrl,
            CFGSTAT => self.cfgstat,
            DLL => self.dll,
            AID => self.cfg.aid,
            ID => self.cfg.id,
            _ => return None,
        })
    }

    /// A SYS_CFG transfer; false on error.
    fn sys_cfg(&mut self, function: u32, device: u32, write: bool) -> bool {
        let Some(osc) = self
            .oscclk
            .get_mut(device as usize)
            .filter(|_| function == 1)
        else {
            self.log.unimp(
                &self.name,
                (function << 12) | (device & 0xfff),
                &format!("SCC SYS_CFG: bad function {function} device {device}"),
            );
            return false;
        };
        if write {
            *osc = self.cfgdata_out;
        } else {
            self.cfgdata_rtn = *osc;
        }
        true
    }
}

impl Device for Mps2Scc {
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
        _ctx: &mut DeviceCtx<'_>,
    ) -> Result<(), BusError> {
        match offset {
            CFG0 => self.cfg0 = value,
            CFG1 => {
                if value != self.cfg1 {
                    tracing::debug!(device = %self.name, "SCC LEDs {:#010b}", value & 0xff);
                }
                self.cfg1 = value;
            }
            CFG2 if self.has_cfg2_5() => self.cfg2 = value,
            CFG5 if self.has_cfg2_5() => self.cfg5 = value,
            CFG6 if self.has_cfg6() => self.cfg6 = value,
            CFG7 if self.has_cfg7() => self.cfg7 = value,
            CFGDATA_OUT => self.cfgdata_out = value,
            CFGCTRL => {
                self.cfgstat = 0;
                self.cfgctrl = value & !(CFGCTRL_RES | CFGCTRL_START);
                if value & CFGCTRL_START != 0 {
                    let device = self.cfgctrl & 0xfff;
                    let function = (self.cfgctrl >> 20) & 0x3f;
                    let write = self.cfgctrl & CFGCTRL_WRITE != 0;
                    self.cfgstat = CFGSTAT_DONE;
                    if !self.sys_cfg(function, device, write) {
                        self.cfgstat |= CFGSTAT_ERROR;
                    }
                }
            }
            DLL => self.dll = (self.dll & 0x00ff_ffff) | (value & 0xff00_0000),
            _ => self.log.bad(&self.name, offset, true, value),
        }
        Ok(())
    }

    fn may_dma(&self) -> bool {
        false
    }
    fn peek(&self, offset: u32, size: u8) -> Option<u32> {
        self.reg(offset).map(|v| v & size_mask(size))
    }

    fn reset(&mut self, _ctx: &mut DeviceCtx<'_>) {
        self.reset_regs();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::common::bench::Bench;

    fn scc(cfg: SccConfig) -> Bench<Mps2Scc> {
        Bench::new(Mps2Scc::new("scc", cfg), 25_000_000, &[])
    }

    #[test]
    fn identification_and_config_registers() {
        let mut b = scc(SccConfig {
            id: SccConfig::ID_AN386,
            ..Default::default()
        });
        assert_eq!(b.rd(ID), 0x4104_3860);
        assert_eq!(b.rd(AID), 0x0020_0008);
        assert_eq!(b.rd(CFG4), 2);
        assert_eq!(b.rd(DLL), 0xffff_0001);
        assert_eq!(b.rd(CFGCTRL), 0x0010_0000);
        b.wr(CFG0, 1);
        b.wr(CFG1, 0xa5);
        assert_eq!((b.rd(CFG0), b.rd(CFG1)), (1, 0xa5));
        assert_eq!(b.rd(CFG3), 0);
        b.wr(CFG4, 7);
        assert_eq!(b.rd(CFG4), 2, "read-only");
        b.wr(CFG2, 7);
        assert_eq!(b.rd(CFG2), 0, "no CFG2 on AN386");
        assert_eq!(b.dev.peek(CFG5, 4), None);
        b.wr(DLL, 0x1234_5678);
        assert_eq!(b.rd(DLL), 0x12ff_0001);
        b.reset();
        assert_eq!((b.rd(CFG0), b.rd(CFG1), b.rd(DLL)), (0, 0, 0xffff_0001));
    }

    #[test]
    fn sys_cfg_reads_and_writes_oscclk() {
        let mut b = scc(SccConfig::default());
        let read = |dev: u32| CFGCTRL_START | (1 << 20) | dev;
        b.wr(CFGCTRL, read(2));
        assert_eq!(b.rd(CFGSTAT), CFGSTAT_DONE);
        assert_eq!(b.rd(CFGDATA_RTN), 25_000_000);
        assert_eq!(b.rd(CFGCTRL), (1 << 20) | 2, "START is not stored");
        b.wr(CFGDATA_OUT, 12_345);
        b.wr(CFGCTRL, read(0) | CFGCTRL_WRITE);
        assert_eq!(b.rd(CFGSTAT), CFGSTAT_DONE);
        b.wr(CFGCTRL, read(0));
        assert_eq!(b.rd(CFGDATA_RTN), 12_345);
        // Bad device, bad function: DONE | ERROR, data unchanged.
        b.wr(CFGCTRL, read(3));
        assert_eq!(b.rd(CFGSTAT), CFGSTAT_DONE | CFGSTAT_ERROR);
        b.wr(CFGCTRL, CFGCTRL_START | (7 << 20));
        assert_eq!(b.rd(CFGSTAT), CFGSTAT_DONE | CFGSTAT_ERROR);
        assert_eq!(b.rd(CFGDATA_RTN), 12_345);
        // Writing CFGCTRL without START clears CFGSTAT.
        b.wr(CFGCTRL, 0);
        assert_eq!(b.rd(CFGSTAT), 0);
        b.reset();
        b.wr(CFGCTRL, read(0));
        assert_eq!(b.rd(CFGDATA_RTN), 50_000_000, "reset restores OSCCLK");
    }
}
