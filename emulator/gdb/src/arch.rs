//! The Cortex-M (ARMv7-M) architecture as GDB sees it: registers, their numbering and the
//! target description.
//!
//! Registers are numbered consecutively, with no gaps, so that the `g` packet, `p`/`P`
//! numbers and the XML agree whatever a GDB build does with `regnum` (gdb-multiarch has been
//! seen to ignore it): r0–r12, sp, lr, pc (0–15), xpsr (16), msp, psp (17, 18), primask,
//! basepri, faultmask, control (19–22), and on cores with an FPU d0–d15 (23–38) and fpscr
//! (39) in the `org.gnu.gdb.arm.vfp` feature (GDB shows s0–s31 as pseudo registers). GDB
//! maps them to its own numbers by name.

use core::num::NonZeroUsize;
use gdbstub::arch::{Arch, RegId, Registers};

/// The Cortex-M architecture. The static description is the FPU-less one; the target
/// answers `qXfer:features:read` itself ([`target_xml`]) so FPU boards add the VFP feature.
#[derive(Debug)]
pub enum CortexM {}

impl Arch for CortexM {
    type Usize = u32;
    type Registers = CortexMRegs;
    type BreakpointKind = gdbstub_arch::arm::ArmBreakpointKind;
    type RegId = CortexMRegId;

    fn target_description_xml() -> Option<&'static str> {
        Some(TARGET_XML)
    }
}

/// The target description: GDB switches to M-profile handling on
/// `org.gnu.gdb.arm.m-profile` (xPSR, Thumb state from its T bit) and knows MSP/PSP from
/// `org.gnu.gdb.arm.m-system`; the masks and CONTROL are in a feature of their own, in
/// the `system` group like OpenOCD's.
pub const TARGET_XML: &str = r#"<?xml version="1.0"?>
<!DOCTYPE target SYSTEM "gdb-target.dtd">
<target version="1.0">
  <architecture>arm</architecture>
  <feature name="org.gnu.gdb.arm.m-profile">
    <reg name="r0" bitsize="32" regnum="0" type="uint32" group="general"/>
    <reg name="r1" bitsize="32" regnum="1" type="uint32" group="general"/>
    <reg name="r2" bitsize="32" regnum="2" type="uint32" group="general"/>
    <reg name="r3" bitsize="32" regnum="3" type="uint32" group="general"/>
    <reg name="r4" bitsize="32" regnum="4" type="uint32" group="general"/>
    <reg name="r5" bitsize="32" regnum="5" type="uint32" group="general"/>
    <reg name="r6" bitsize="32" regnum="6" type="uint32" group="general"/>
    <reg name="r7" bitsize="32" regnum="7" type="uint32" group="general"/>
    <reg name="r8" bitsize="32" regnum="8" type="uint32" group="general"/>
    <reg name="r9" bitsize="32" regnum="9" type="uint32" group="general"/>
    <reg name="r10" bitsize="32" regnum="10" type="uint32" group="general"/>
    <reg name="r11" bitsize="32" regnum="11" type="uint32" group="general"/>
    <reg name="r12" bitsize="32" regnum="12" type="uint32" group="general"/>
    <reg name="sp" bitsize="32" regnum="13" type="data_ptr" group="general"/>
    <reg name="lr" bitsize="32" regnum="14" type="uint32" group="general"/>
    <reg name="pc" bitsize="32" regnum="15" type="code_ptr" group="general"/>
    <reg name="xpsr" bitsize="32" regnum="16" type="uint32" group="general"/>
  </feature>
  <feature name="org.gnu.gdb.arm.m-system">
    <reg name="msp" bitsize="32" regnum="17" type="data_ptr" group="system"/>
    <reg name="psp" bitsize="32" regnum="18" type="data_ptr" group="system"/>
  </feature>
  <feature name="org.armlet.cortex-m.system">
    <reg name="primask" bitsize="8" regnum="19" type="uint8" group="system"/>
    <reg name="basepri" bitsize="8" regnum="20" type="uint8" group="system"/>
    <reg name="faultmask" bitsize="8" regnum="21" type="uint8" group="system"/>
    <reg name="control" bitsize="8" regnum="22" type="uint8" group="system"/>
  </feature>
</target>
"#;

/// The VFP feature (D0–D15, FPSCR), numbered after the system registers.
fn vfp_feature() -> String {
    let mut x = String::from("  <feature name=\"org.gnu.gdb.arm.vfp\">\n");
    for i in 0..16 {
        x += &format!(
            "    <reg name=\"d{i}\" bitsize=\"64\" regnum=\"{}\" type=\"ieee_double\" group=\"float\"/>\n",
            23 + i
        );
    }
    x += "    <reg name=\"fpscr\" bitsize=\"32\" regnum=\"39\" type=\"int\" group=\"float\"/>\n  </feature>\n";
    x
}

/// The target description for a core with (`fpu`) or without an FPU.
pub fn target_xml(fpu: bool) -> &'static str {
    static FP: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if !fpu {
        return TARGET_XML;
    }
    FP.get_or_init(|| TARGET_XML.replace("</target>", &(vfp_feature() + "</target>")))
}

/// The FP registers as GDB sees them.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct VfpRegs {
    /// D0–D15.
    pub d: [u64; 16],
    /// FPSCR.
    pub fpscr: u32,
}

/// Every register GDB sees, in `g`-packet order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CortexMRegs {
    /// R0–R15 (R13 is the active stack pointer).
    pub r: [u32; 16],
    /// xPSR (APSR | EPSR | IPSR).
    pub xpsr: u32,
    /// Main stack pointer.
    pub msp: u32,
    /// Process stack pointer.
    pub psp: u32,
    /// PRIMASK (bit 0).
    pub primask: u8,
    /// BASEPRI.
    pub basepri: u8,
    /// FAULTMASK (bit 0).
    pub faultmask: u8,
    /// CONTROL (nPRIV, SPSEL, FPCA).
    pub control: u8,
    /// The FP registers, on cores with an FPU.
    pub fp: Option<VfpRegs>,
}

/// Bytes of the `g` packet without an FPU.
const G_LEN: usize = 19 * 4 + 4;
/// Bytes the FP registers add.
const G_FP_LEN: usize = 16 * 8 + 4;

impl Registers for CortexMRegs {
    type ProgramCounter = u32;

    fn pc(&self) -> u32 {
        self.r[15]
    }

    fn gdb_serialize(&self, mut write_byte: impl FnMut(Option<u8>)) {
        let words = self.r.iter().chain([&self.xpsr, &self.msp, &self.psp]);
        for w in words {
            w.to_le_bytes()
                .into_iter()
                .for_each(|b| write_byte(Some(b)));
        }
        for b in [self.primask, self.basepri, self.faultmask, self.control] {
            write_byte(Some(b));
        }
        if let Some(fp) = &self.fp {
            for d in fp.d {
                d.to_le_bytes()
                    .into_iter()
                    .for_each(|b| write_byte(Some(b)));
            }
            fp.fpscr
                .to_le_bytes()
                .into_iter()
                .for_each(|b| write_byte(Some(b)));
        }
    }

    fn gdb_deserialize(&mut self, bytes: &[u8]) -> Result<(), ()> {
        if bytes.len() < G_LEN {
            return Err(());
        }
        let word = |i: usize| u32::from_le_bytes([0, 1, 2, 3].map(|k| bytes[4 * i + k]));
        for i in 0..16 {
            self.r[i] = word(i);
        }
        self.xpsr = word(16);
        self.msp = word(17);
        self.psp = word(18);
        [self.primask, self.basepri, self.faultmask, self.control] =
            [0, 1, 2, 3].map(|k| bytes[76 + k]);
        if bytes.len() >= G_LEN + G_FP_LEN {
            let mut fp = VfpRegs::default();
            for (i, d) in fp.d.iter_mut().enumerate() {
                let at = G_LEN + 8 * i;
                *d = u64::from_le_bytes([0, 1, 2, 3, 4, 5, 6, 7].map(|k| bytes[at + k]));
            }
            fp.fpscr = u32::from_le_bytes([0, 1, 2, 3].map(|k| bytes[G_LEN + 128 + k]));
            self.fp = Some(fp);
        }
        Ok(())
    }
}

/// One register, for `p`/`P` packets and expedited registers in stop replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CortexMRegId {
    /// R0–R15.
    Core(u8),
    /// xPSR.
    Xpsr,
    /// MSP.
    Msp,
    /// PSP.
    Psp,
    /// PRIMASK.
    Primask,
    /// BASEPRI.
    Basepri,
    /// FAULTMASK.
    Faultmask,
    /// CONTROL.
    Control,
    /// D0–D15 (FPU only).
    D(u8),
    /// FPSCR (FPU only).
    Fpscr,
}

impl CortexMRegId {
    /// Every register, in number order.
    pub const ALL: [CortexMRegId; 40] = {
        let mut all = [CortexMRegId::Xpsr; 40];
        let mut i = 0;
        while i < 16 {
            all[i] = CortexMRegId::Core(i as u8);
            i += 1;
        }
        all[17] = CortexMRegId::Msp;
        all[18] = CortexMRegId::Psp;
        all[19] = CortexMRegId::Primask;
        all[20] = CortexMRegId::Basepri;
        all[21] = CortexMRegId::Faultmask;
        all[22] = CortexMRegId::Control;
        let mut d = 0;
        while d < 16 {
            all[23 + d] = CortexMRegId::D(d as u8);
            d += 1;
        }
        all[39] = CortexMRegId::Fpscr;
        all
    };

    /// True for the FP registers (absent without an FPU).
    pub fn is_fp(self) -> bool {
        matches!(self, CortexMRegId::D(_) | CortexMRegId::Fpscr)
    }

    /// The register's size in bytes.
    pub fn size(self) -> usize {
        match self {
            CortexMRegId::Primask
            | CortexMRegId::Basepri
            | CortexMRegId::Faultmask
            | CortexMRegId::Control => 1,
            CortexMRegId::D(_) => 8,
            _ => 4,
        }
    }

    /// The register's value in `regs`, little-endian, `size()` bytes long (FP registers
    /// read as zero without an FPU).
    pub fn value(self, regs: &CortexMRegs) -> ([u8; 8], usize) {
        let v: u64 = match self {
            CortexMRegId::Core(n) => regs.r[usize::from(n)].into(),
            CortexMRegId::Xpsr => regs.xpsr.into(),
            CortexMRegId::Msp => regs.msp.into(),
            CortexMRegId::Psp => regs.psp.into(),
            CortexMRegId::Primask => regs.primask.into(),
            CortexMRegId::Basepri => regs.basepri.into(),
            CortexMRegId::Faultmask => regs.faultmask.into(),
            CortexMRegId::Control => regs.control.into(),
            CortexMRegId::D(n) => regs.fp.as_ref().map_or(0, |f| f.d[usize::from(n & 15)]),
            CortexMRegId::Fpscr => regs.fp.as_ref().map_or(0, |f| f.fpscr.into()),
        };
        (v.to_le_bytes(), self.size())
    }

    /// Set this register in `regs` from little-endian bytes (missing bytes read as 0).
    pub fn set(self, regs: &mut CortexMRegs, bytes: &[u8]) {
        let mut b = [0u8; 4];
        for (d, s) in b.iter_mut().zip(bytes) {
            *d = *s;
        }
        let v = u32::from_le_bytes(b);
        match self {
            CortexMRegId::Core(n) => regs.r[usize::from(n)] = v,
            CortexMRegId::D(n) => {
                let mut b8 = [0u8; 8];
                for (d, s) in b8.iter_mut().zip(bytes) {
                    *d = *s;
                }
                if let Some(f) = regs.fp.as_mut() {
                    f.d[usize::from(n & 15)] = u64::from_le_bytes(b8);
                }
            }
            CortexMRegId::Fpscr => {
                if let Some(f) = regs.fp.as_mut() {
                    f.fpscr = v;
                }
            }
            CortexMRegId::Xpsr => regs.xpsr = v,
            CortexMRegId::Msp => regs.msp = v,
            CortexMRegId::Psp => regs.psp = v,
            CortexMRegId::Primask => regs.primask = v as u8,
            CortexMRegId::Basepri => regs.basepri = v as u8,
            CortexMRegId::Faultmask => regs.faultmask = v as u8,
            CortexMRegId::Control => regs.control = v as u8,
        }
    }
}

impl RegId for CortexMRegId {
    fn from_raw_id(id: usize) -> Option<(Self, Option<NonZeroUsize>)> {
        let reg = *CortexMRegId::ALL.get(id)?;
        Some((reg, NonZeroUsize::new(reg.size())))
    }

    fn to_raw_id(&self) -> Option<usize> {
        CortexMRegId::ALL.iter().position(|r| r == self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g_packet_round_trips() {
        let mut regs = CortexMRegs::default();
        for (i, r) in regs.r.iter_mut().enumerate() {
            *r = 0x1000_0000 + i as u32;
        }
        regs.xpsr = 0x0100_0003;
        regs.msp = 0x2000_1000;
        regs.psp = 0x2000_2000;
        regs.primask = 1;
        regs.basepri = 0x80;
        regs.faultmask = 0;
        regs.control = 2;
        let mut bytes = Vec::new();
        regs.gdb_serialize(|b| bytes.push(b.unwrap()));
        assert_eq!(bytes.len(), G_LEN);
        let mut back = CortexMRegs::default();
        back.gdb_deserialize(&bytes).unwrap();
        assert_eq!(back, regs);
        assert!(back.gdb_deserialize(&bytes[..10]).is_err());
        // With the FP registers appended.
        regs.fp = Some(VfpRegs {
            d: core::array::from_fn(|i| 0x4000_0000_0000_0000 + i as u64),
            fpscr: 0x03c0_0010,
        });
        let mut bytes = Vec::new();
        regs.gdb_serialize(|b| bytes.push(b.unwrap()));
        assert_eq!(bytes.len(), G_LEN + G_FP_LEN);
        let mut back = CortexMRegs::default();
        back.gdb_deserialize(&bytes).unwrap();
        assert_eq!(back, regs);
    }

    #[test]
    fn register_numbers_match_the_xml_and_the_g_packet() {
        for (i, reg) in CortexMRegId::ALL.iter().enumerate() {
            assert_eq!(reg.to_raw_id(), Some(i));
            let (back, size) = CortexMRegId::from_raw_id(i).unwrap();
            assert_eq!(back, *reg);
            assert_eq!(size.unwrap().get(), reg.size());
            assert!(
                target_xml(true).contains(&format!("regnum=\"{i}\"")),
                "register {i} missing from the XML"
            );
            assert_eq!(
                target_xml(false).contains(&format!("regnum=\"{i}\"")),
                !reg.is_fp()
            );
        }
        assert!(CortexMRegId::from_raw_id(40).is_none());
        // The g packet is the registers in number order.
        let sizes = |fp: bool| -> usize {
            CortexMRegId::ALL
                .iter()
                .filter(|r| fp || !r.is_fp())
                .map(|r| r.size())
                .sum()
        };
        assert_eq!(sizes(false), G_LEN);
        assert_eq!(sizes(true), G_LEN + G_FP_LEN);
    }

    #[test]
    fn single_register_values_agree_with_the_g_packet() {
        let mut regs = CortexMRegs::default();
        CortexMRegId::Basepri.set(&mut regs, &[0xa0]);
        CortexMRegId::Core(15).set(&mut regs, &0x0000_1234u32.to_le_bytes());
        assert_eq!(regs.basepri, 0xa0);
        assert_eq!(regs.pc(), 0x1234);
        assert_eq!(CortexMRegId::Basepri.value(&regs).0[0], 0xa0);
        assert_eq!(CortexMRegId::Basepri.value(&regs).1, 1);
    }
}
