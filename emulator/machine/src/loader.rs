//! ELF loading with `goblin`: PT_LOAD segments at their physical addresses, symbols kept.
//!
//! The header, program headers and section headers are bounds-checked before `goblin` parses
//! the file, so a malformed file gets a one-line error that says what is wrong.

use crate::memory::Memory;
use goblin::elf::{program_header::PT_LOAD, Elf};

/// Why an ELF could not be loaded. Messages are one line.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum LoadError {
    /// Zero bytes.
    #[error("empty file")]
    Empty,
    /// No ELF magic.
    #[error("not an ELF file")]
    NotElf,
    /// Something the headers promise lies past the end of the file.
    #[error("truncated ELF file ({0})")]
    Truncated(String),
    /// ELFCLASS64.
    #[error("64-bit ELF; armlet runs 32-bit ARM firmware")]
    SixtyFourBit,
    /// ELFDATA2MSB.
    #[error("big-endian ELF not supported")]
    BigEndian,
    /// e_machine is not ARM.
    #[error("ELF is for {0}, not ARM")]
    WrongMachine(String),
    /// Other malformations.
    #[error("malformed ELF: {0}")]
    Malformed(String),
    /// Nothing to load.
    #[error("no loadable segments")]
    NoSegments,
    /// The build attributes say the ELF is for an A- or R-profile core.
    #[error("ELF is built for {0}, not for a Cortex-M (M-profile) core: armlet runs Cortex-M firmware (build with e.g. -mcpu=cortex-m3 -mthumb, or Rust's thumbv7m-none-eabi)")]
    NotMProfile(String),
    /// A segment lies outside RAM/ROM.
    #[error("segment at {addr:#010x} ({len} bytes) is outside the board's memory")]
    OutOfRange {
        /// Segment physical address.
        addr: u32,
        /// Segment size in memory.
        len: u32,
    },
}

/// Symbols of the loaded image, sorted by address.
#[derive(Debug, Clone, Default)]
pub struct Symbols {
    syms: Vec<(u32, u32, String)>,
}

impl Symbols {
    /// The symbol at or below `addr`, preferring one whose size covers it, with the offset.
    pub fn lookup(&self, addr: u32) -> Option<(&str, u32)> {
        let idx = self.syms.partition_point(|s| s.0 <= addr);
        let candidates = &self.syms[..idx];
        let covering = candidates
            .iter()
            .rev()
            .take(64)
            .find(|s| s.1 > 0 && addr - s.0 < s.1);
        let s = covering.or_else(|| candidates.last())?;
        Some((s.2.as_str(), addr - s.0))
    }

    /// The address of a named symbol.
    pub fn address_of(&self, name: &str) -> Option<u32> {
        self.syms.iter().find(|s| s.2 == name).map(|s| s.0)
    }

    /// Number of symbols.
    pub fn len(&self) -> usize {
        self.syms.len()
    }

    /// True if there are none.
    pub fn is_empty(&self) -> bool {
        self.syms.is_empty()
    }
}

/// A loaded image.
#[derive(Debug, Clone)]
pub struct Image {
    /// ELF entry point.
    pub entry: u32,
    /// Symbols.
    pub symbols: Symbols,
    /// Loaded segments: (physical address, size in memory).
    pub segments: Vec<(u32, u32)>,
    /// What the `.ARM.attributes` section says about the target (all `None` without one).
    pub attributes: Attributes,
}

/// The build attributes of an ELF (`.ARM.attributes`, "aeabi" file scope) armlet checks
/// against the board: Addenda to, and Errata in, the ABI for the Arm Architecture.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attributes {
    /// Tag_CPU_name (5), e.g. "7E-M" or "cortex-m4".
    pub cpu_name: Option<String>,
    /// Tag_CPU_arch (6): 10 = v7, 11 = v6-M, 13 = v7E-M, ...
    pub cpu_arch: Option<u64>,
    /// Tag_CPU_arch_profile (7): b'A', b'R', b'M' or b'S'.
    pub profile: Option<u8>,
    /// Tag_FP_arch (10): 0 none, 5/6 VFPv4(-D16), 7/8 FPv5, ...
    pub fp_arch: Option<u64>,
    /// Tag_ABI_HardFP_use (27): 1 single precision only, 2 double only, 0/3 both.
    pub hardfp_use: Option<u64>,
    /// Tag_ABI_VFP_args (28): 1 = floating-point arguments in VFP registers (hard float).
    pub vfp_args: Option<u64>,
}

impl Attributes {
    /// True if the code uses FP instructions (an FP architecture or the hard-float ABI).
    pub fn uses_fpu(&self) -> bool {
        self.fp_arch.is_some_and(|a| a != 0) || self.vfp_args == Some(1)
    }

    /// True if the FP code may use double-precision arithmetic: an FP architecture and no
    /// Tag_ABI_HardFP_use "single precision only".
    pub fn uses_double(&self) -> bool {
        self.fp_arch.is_some_and(|a| a != 0) && self.hardfp_use != Some(1)
    }

    /// Tag_FP_arch as readelf names it.
    pub fn fp_arch_name(&self) -> String {
        match self.fp_arch {
            Some(1) => "VFPv1".into(),
            Some(2) => "VFPv2".into(),
            Some(3) => "VFPv3".into(),
            Some(4) => "VFPv3-D16".into(),
            Some(5) => "VFPv4".into(),
            Some(6) => "VFPv4-D16".into(),
            Some(7) => "FP for ARMv8".into(),
            Some(8) => "FPv5/FP-D16 for ARMv8".into(),
            Some(n) => format!("FP architecture {n}"),
            None => "none".into(),
        }
    }

    /// Parse the contents of a `.ARM.attributes` section; `None` if it is malformed.
    pub fn parse(b: &[u8]) -> Option<Attributes> {
        fn uleb(b: &[u8], i: &mut usize) -> Option<u64> {
            let (mut v, mut shift) = (0u64, 0u32);
            loop {
                let byte = *b.get(*i)?;
                *i += 1;
                if shift < 64 {
                    v |= u64::from(byte & 0x7f) << shift;
                }
                shift += 7;
                if byte & 0x80 == 0 {
                    return Some(v);
                }
            }
        }
        fn ntbs(b: &[u8], i: &mut usize) -> Option<String> {
            let len = b.get(*i..)?.iter().position(|&c| c == 0)?;
            let s = String::from_utf8_lossy(&b[*i..*i + len]).into_owned();
            *i += len + 1;
            Some(s)
        }
        let mut a = Attributes::default();
        if b.first() != Some(&b'A') {
            return None;
        }
        let mut i = 1;
        while i + 4 <= b.len() {
            let len = u32le(b, i);
            let sub = b.get(i..i.checked_add(len)?)?;
            i += len.max(1);
            let mut j = 4;
            if ntbs(sub, &mut j)? != "aeabi" {
                continue;
            }
            while j + 5 <= sub.len() {
                let (tag, size) = (sub[j], u32le(sub, j + 1));
                let attrs = sub.get(j + 5..j.checked_add(size)?)?;
                j += size.max(1);
                if tag != 1 {
                    continue; // section or symbol scope: not about the whole file
                }
                let mut k = 0;
                while k < attrs.len() {
                    let t = uleb(attrs, &mut k)?;
                    match t {
                        4 | 5 | 65 | 67 => {
                            let v = ntbs(attrs, &mut k)?;
                            if t == 5 {
                                a.cpu_name = Some(v);
                            }
                        }
                        32 => {
                            uleb(attrs, &mut k)?;
                            ntbs(attrs, &mut k)?;
                        }
                        t if t > 32 && t % 2 == 1 => {
                            ntbs(attrs, &mut k)?;
                        }
                        t => {
                            let v = uleb(attrs, &mut k)?;
                            match t {
                                6 => a.cpu_arch = Some(v),
                                7 => a.profile = Some(v as u8),
                                10 => a.fp_arch = Some(v),
                                27 => a.hardfp_use = Some(v),
                                28 => a.vfp_args = Some(v),
                                _ => {}
                            }
                        }
                    }
                }
            }
        }
        Some(a)
    }
}

fn machine_name(m: u16) -> String {
    match m {
        3 => "x86".into(),
        8 => "MIPS".into(),
        20 => "PowerPC".into(),
        21 => "PowerPC64".into(),
        43 => "SPARC V9".into(),
        62 => "x86-64".into(),
        183 => "AArch64".into(),
        243 => "RISC-V".into(),
        n => format!("machine type {n}"),
    }
}

fn u16le(b: &[u8], o: usize) -> usize {
    usize::from(u16::from_le_bytes([b[o], b[o + 1]]))
}
fn u32le(b: &[u8], o: usize) -> usize {
    u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]) as usize
}

/// Check the ELF32 header and tables against the file size before parsing.
fn precheck(b: &[u8]) -> Result<(), LoadError> {
    if b.is_empty() {
        return Err(LoadError::Empty);
    }
    if b.len() < 4 || &b[..4] != b"\x7fELF" {
        return Err(LoadError::NotElf);
    }
    if b.len() < 20 {
        return Err(LoadError::Truncated(format!(
            "{} bytes, shorter than the ELF header",
            b.len()
        )));
    }
    // e_machine sits at the same offset in ELF32 and ELF64; name the architecture first.
    let machine = if b[5] == 2 {
        u16::from_be_bytes([b[18], b[19]])
    } else {
        u16le(b, 18) as u16
    };
    if machine != 40 {
        return Err(LoadError::WrongMachine(machine_name(machine)));
    }
    match b[4] {
        1 => {}
        2 => return Err(LoadError::SixtyFourBit),
        c => return Err(LoadError::Malformed(format!("bad ELF class {c}"))),
    }
    match b[5] {
        1 => {}
        2 => return Err(LoadError::BigEndian),
        d => return Err(LoadError::Malformed(format!("bad data encoding {d}"))),
    }
    if b.len() < 52 {
        return Err(LoadError::Truncated(format!(
            "{} bytes, shorter than the ELF header",
            b.len()
        )));
    }
    let (phoff, phentsize, phnum) = (u32le(b, 28), u16le(b, 42), u16le(b, 44));
    let (shoff, shentsize, shnum) = (u32le(b, 32), u16le(b, 46), u16le(b, 48));
    if phnum > 0 && phentsize < 32 {
        return Err(LoadError::Malformed(format!(
            "program header size {phentsize}"
        )));
    }
    if phoff.saturating_add(phentsize.saturating_mul(phnum)) > b.len() {
        return Err(LoadError::Truncated(
            "program headers past the end of the file".into(),
        ));
    }
    if shnum > 0 && shoff.saturating_add(shentsize.saturating_mul(shnum)) > b.len() {
        return Err(LoadError::Truncated(
            "section headers past the end of the file".into(),
        ));
    }
    for i in 0..phnum {
        let p = phoff + i * phentsize;
        let (ptype, off, filesz, memsz) = (
            u32le(b, p),
            u32le(b, p + 4),
            u32le(b, p + 16),
            u32le(b, p + 20),
        );
        if ptype == PT_LOAD as usize && off.saturating_add(filesz) > b.len() {
            return Err(LoadError::Truncated(format!(
                "segment {i} data past the end of the file"
            )));
        }
        if ptype == PT_LOAD as usize && filesz > memsz {
            return Err(LoadError::Malformed(format!(
                "segment {i} file size exceeds its memory size"
            )));
        }
    }
    Ok(())
}

/// Load `bytes` into `mem`.
pub fn load_elf(bytes: &[u8], mem: &mut Memory) -> Result<Image, LoadError> {
    precheck(bytes)?;
    let elf = Elf::parse(bytes).map_err(|e| match e {
        goblin::error::Error::Malformed(m) if m.contains("size") || m.contains("offset") => {
            LoadError::Truncated(m)
        }
        goblin::error::Error::Scroll(_) => {
            LoadError::Truncated("a table lies past the end of the file".into())
        }
        e => LoadError::Malformed(e.to_string()),
    })?;
    let mut segments = Vec::new();
    for ph in elf
        .program_headers
        .iter()
        .filter(|p| p.p_type == PT_LOAD && p.p_memsz > 0)
    {
        let (addr, memsz, filesz, off) = (
            ph.p_paddr as u32,
            ph.p_memsz as u32,
            ph.p_filesz as usize,
            ph.p_offset as usize,
        );
        let out = LoadError::OutOfRange { addr, len: memsz };
        if u64::from(addr) + u64::from(memsz) > 1 << 32 {
            return Err(out);
        }
        let data = bytes
            .get(off..off + filesz)
            .ok_or_else(|| LoadError::Truncated("segment data".into()))?;
        mem.load(addr, data).map_err(|_| out.clone())?;
        // Zero-fill the rest in chunks to avoid a large temporary buffer.
        let zeros = [0u8; 4096];
        let mut a = filesz as u32;
        while a < memsz {
            let n = (memsz - a).min(zeros.len() as u32);
            mem.load(addr + a, &zeros[..n as usize])
                .map_err(|_| out.clone())?;
            a += n;
        }
        segments.push((addr, memsz));
    }
    if segments.is_empty() {
        return Err(LoadError::NoSegments);
    }
    let attributes = elf
        .section_headers
        .iter()
        .find(|sh| sh.sh_type == 0x7000_0003) // SHT_ARM_ATTRIBUTES
        .and_then(|sh| {
            let off = usize::try_from(sh.sh_offset).ok()?;
            bytes.get(off..off.checked_add(usize::try_from(sh.sh_size).ok()?)?)
        })
        .and_then(Attributes::parse)
        .unwrap_or_default();
    if let Some(p @ (b'A' | b'R')) = attributes.profile {
        let name = attributes.cpu_name.as_deref().unwrap_or("?");
        return Err(LoadError::NotMProfile(format!(
            "an {}-profile core (Tag_CPU_arch_profile '{}', Tag_CPU_name \"{name}\")",
            p as char, p as char
        )));
    }
    let mut syms: Vec<(u32, u32, String)> = elf
        .syms
        .iter()
        .filter(|s| s.st_name != 0 && s.st_shndx != 0 && matches!(s.st_type(), 0..=2))
        .filter_map(|s| {
            let name = elf.strtab.get_at(s.st_name)?;
            if name.is_empty() || name.starts_with('$') {
                return None;
            }
            let mut addr = s.st_value as u32;
            if s.st_type() == goblin::elf::sym::STT_FUNC {
                addr &= !1;
            }
            Some((addr, s.st_size as u32, name.to_string()))
        })
        .collect();
    syms.sort();
    syms.dedup_by(|a, b| a.0 == b.0 && a.2 == b.2);
    Ok(Image {
        entry: elf.entry as u32,
        symbols: Symbols { syms },
        segments,
        attributes,
    })
}

/// A minimal ELF32 ARM executable: one PT_LOAD of `code` at `addr` (for tests and the
/// fuzzers' seeds).
pub fn tiny_elf(addr: u32, code: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; 52 + 32];
    b[..4].copy_from_slice(b"\x7fELF");
    b[4] = 1;
    b[5] = 1;
    b[6] = 1;
    b[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    b[18..20].copy_from_slice(&40u16.to_le_bytes()); // EM_ARM
    b[20..24].copy_from_slice(&1u32.to_le_bytes());
    b[24..28].copy_from_slice(&(addr | 1).to_le_bytes());
    b[28..32].copy_from_slice(&52u32.to_le_bytes()); // phoff
    b[40..42].copy_from_slice(&52u16.to_le_bytes()); // ehsize
    b[42..44].copy_from_slice(&32u16.to_le_bytes()); // phentsize
    b[44..46].copy_from_slice(&1u16.to_le_bytes()); // phnum
    let p = 52;
    b[p..p + 4].copy_from_slice(&1u32.to_le_bytes()); // PT_LOAD
    b[p + 4..p + 8].copy_from_slice(&84u32.to_le_bytes()); // offset
    b[p + 8..p + 12].copy_from_slice(&addr.to_le_bytes());
    b[p + 12..p + 16].copy_from_slice(&addr.to_le_bytes());
    b[p + 16..p + 20].copy_from_slice(&(code.len() as u32).to_le_bytes());
    b[p + 20..p + 24].copy_from_slice(&(code.len() as u32 + 16).to_le_bytes());
    b[p + 24..p + 28].copy_from_slice(&5u32.to_le_bytes());
    b.extend_from_slice(code);
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::Board;

    fn mem() -> Memory {
        Memory::from_board(&Board::mps2_an385()).unwrap()
    }

    #[test]
    fn loads_a_minimal_elf() {
        let mut m = mem();
        let img = load_elf(&tiny_elf(0x100, &[1, 2, 3, 4]), &mut m).unwrap();
        assert_eq!(img.entry, 0x101);
        assert_eq!(img.segments, vec![(0x100, 20)]);
        let mut b = [0u8; 4];
        m.peek(0x100, &mut b).unwrap();
        assert_eq!(b, [1, 2, 3, 4]);
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let elf = tiny_elf(0x100, &[1, 2, 3, 4, 5, 6, 7, 8]);
        for cut in 0..elf.len() {
            let r = load_elf(&elf[..cut], &mut mem());
            assert!(r.is_err(), "cut at {cut} loaded");
            if cut >= 20 {
                assert!(
                    matches!(r, Err(LoadError::Truncated(_))),
                    "cut at {cut}: {r:?}"
                );
            }
        }
    }

    #[test]
    fn rejects_bad_files_with_clear_messages() {
        assert_eq!(
            load_elf(b"", &mut mem()).unwrap_err().to_string(),
            "empty file"
        );
        assert_eq!(
            load_elf(b"hello world", &mut mem())
                .unwrap_err()
                .to_string(),
            "not an ELF file"
        );
        let mut x86 = tiny_elf(0x100, &[0; 4]);
        x86[18] = 62;
        assert_eq!(
            load_elf(&x86, &mut mem()).unwrap_err().to_string(),
            "ELF is for x86-64, not ARM"
        );
        let mut wide = tiny_elf(0x100, &[0; 4]);
        wide[4] = 2;
        assert_eq!(
            load_elf(&wide, &mut mem()).unwrap_err(),
            LoadError::SixtyFourBit
        );
        let out = load_elf(&tiny_elf(0x1000_0000, &[0; 4]), &mut mem()).unwrap_err();
        assert_eq!(
            out.to_string(),
            "segment at 0x10000000 (20 bytes) is outside the board's memory"
        );
    }

    #[test]
    fn build_attributes_are_parsed_and_garbage_is_ignored() {
        // What GCC writes for -mcpu=cortex-m4 -mfloat-abi=hard -mfpu=fpv4-sp-d16.
        let attrs: &[u8] = &[
            5, b'7', b'E', b'-', b'M', 0, 6, 13, 7, b'M', 10, 6, 27, 1, 28, 1,
        ];
        let mut sub = Vec::new();
        sub.extend_from_slice(b"aeabi\0");
        sub.push(1);
        sub.extend_from_slice(&(5 + attrs.len() as u32).to_le_bytes());
        sub.extend_from_slice(attrs);
        let mut sec = vec![b'A'];
        sec.extend_from_slice(&(4 + sub.len() as u32).to_le_bytes());
        sec.extend_from_slice(&sub);
        let a = Attributes::parse(&sec).unwrap();
        assert_eq!(a.cpu_name.as_deref(), Some("7E-M"));
        assert_eq!((a.cpu_arch, a.profile), (Some(13), Some(b'M')));
        assert_eq!(a.fp_arch_name(), "VFPv4-D16");
        assert!(a.uses_fpu() && !a.uses_double());
        for cut in 0..sec.len() {
            let _ = Attributes::parse(&sec[..cut]);
        }
        assert_eq!(Attributes::parse(b"B"), None);
    }

    #[test]
    fn random_corruption_never_panics() {
        let base = tiny_elf(0x100, &[0xaa; 64]);
        let mut seed = 7u64;
        // One memory for every case: building one (an 8 MiB page table) 5000 times cost
        // minutes of system time on a loaded machine.
        let mut m = mem();
        for _ in 0..5000 {
            let mut e = base.clone();
            for _ in 0..4 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let i = (seed as usize) % e.len();
                e[i] = (seed >> 32) as u8;
            }
            let _ = load_elf(&e, &mut m);
        }
    }

    #[test]
    fn prebuilt_hello_has_symbols() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../firmware-tests/prebuilt/hello.elf"
        );
        let Ok(bytes) = std::fs::read(path) else {
            panic!("{path} missing");
        };
        let img = load_elf(&bytes, &mut mem()).unwrap();
        let main = img.symbols.address_of("main").expect("main");
        assert_eq!(img.symbols.lookup(main + 2).map(|s| s.0), Some("main"));
    }
}
