//! The armlet side of the differential harness (`difftest.py` is the other side).
//!
//! A case is one line: `[@CPU] SEED ENC[_ENC...] R0 .. R12 SP LR APSR`, all hex (APSR with
//! N Z C V Q in bits 31..27 and GE in bits 19..16); `@cortex-m4` and the like pick the core
//! model for that case, otherwise the runner's `--cpu` (default `cortex-m3`). The encodings are
//! placed at [`CODE`] and executed (as many instructions as there are encodings) on a fresh
//! [`Cpu`] whose scratch memory `[SCRATCH, SCRATCH + SCRATCH_LEN)` is filled from `SEED`.
//! The result is one line: the decoder-table entries of the encodings, the stop kind, the
//! registers, APSR with EPSR.T (bit 24), ITSTATE and the scratch words that changed — the same things the
//! Python side reads out of Unicorn.
//!
//! A case for a core with an FPU may carry 33 more fields after APSR: S0–S31 and FPSCR. Its
//! result then has S0–S31 and FPSCR after ITSTATE (before the scratch words). The runner's
//! bus has no system control space: FP access is enabled and FPSCR is not reloaded from
//! FPDSCR (Unicorn's side starts each case with CONTROL.FPCA set, to the same effect).

pub mod fpcase;

use armlet_cpu::decode::{is_32bit, lookup16, lookup32, T16, T32};
use armlet_cpu::{Bus, BusError, Cpu, Fault, Features, FpuKind, StopReason};

/// The core models a case can run on, by the names `--cpu` and `@CPU` take.
pub const CPU_MODELS: &[(&str, Features)] = &[
    ("cortex-m3", Features::CORTEX_M3),
    ("cortex-m4", Features::CORTEX_M4F),
    ("cortex-m7", Features::CORTEX_M7),
];

/// The features of a core model named as `--cpu` takes it.
pub fn cpu_features(name: &str) -> Option<Features> {
    CPU_MODELS.iter().find(|(n, _)| *n == name).map(|&(_, f)| f)
}

/// One line describing a model's features, e.g. `# cpu cortex-m4 dsp=1 fpu=fpv4-sp`.
pub fn features_line(name: &str, f: Features) -> String {
    let fpu = match f.fpu {
        FpuKind::None => "none",
        FpuKind::Fpv4Sp => "fpv4-sp",
        FpuKind::Fpv5Dp => "fpv5-dp",
    };
    format!("# cpu {name} dsp={} fpu={fpu}", u8::from(f.dsp))
}

/// Where case code is placed.
pub const CODE: u32 = 0x0010_0000;
/// Scratch data memory.
pub const SCRATCH: u32 = 0x2000_0000;
/// Size of the scratch memory.
pub const SCRATCH_LEN: u32 = 0x1000;
/// Code region size.
const CODE_LEN: u32 = 0x1000;

/// Code and scratch memory; everything else is unmapped.
#[derive(Debug)]
pub struct CaseBus {
    code: Vec<u8>,
    scratch: Vec<u8>,
}

/// The scratch fill both sides use: xorshift32 words from the seed.
pub fn scratch_fill(seed: u32) -> Vec<u8> {
    let mut x = seed | 1;
    let mut v = Vec::with_capacity(SCRATCH_LEN as usize);
    for _ in 0..SCRATCH_LEN / 4 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v
}

impl CaseBus {
    fn slot(&mut self, a: u32) -> Result<&mut u8, BusError> {
        if let Some(o) = a.checked_sub(CODE).filter(|&o| o < CODE_LEN) {
            Ok(&mut self.code[o as usize])
        } else if let Some(o) = a.checked_sub(SCRATCH).filter(|&o| o < SCRATCH_LEN) {
            Ok(&mut self.scratch[o as usize])
        } else {
            Err(BusError::Unmapped)
        }
    }
    fn rd(&mut self, a: u32, n: u32) -> Result<u32, BusError> {
        // check all bytes first: an access is all or nothing
        for i in 0..n {
            self.slot(a.wrapping_add(i))?;
        }
        let mut v = 0;
        for i in (0..n).rev() {
            v = (v << 8) | u32::from(*self.slot(a.wrapping_add(i))?);
        }
        Ok(v)
    }
    fn wr(&mut self, a: u32, n: u32, v: u32) -> Result<(), BusError> {
        for i in 0..n {
            self.slot(a.wrapping_add(i))?;
        }
        for i in 0..n {
            *self.slot(a.wrapping_add(i))? = (v >> (8 * i)) as u8;
        }
        Ok(())
    }
}

impl Bus for CaseBus {
    fn read8(&mut self, a: u32) -> Result<u8, BusError> {
        self.rd(a, 1).map(|v| v as u8)
    }
    fn read16(&mut self, a: u32) -> Result<u16, BusError> {
        self.rd(a, 2).map(|v| v as u16)
    }
    fn read32(&mut self, a: u32) -> Result<u32, BusError> {
        self.rd(a, 4)
    }
    fn write8(&mut self, a: u32, v: u8) -> Result<(), BusError> {
        self.wr(a, 1, u32::from(v))
    }
    fn write16(&mut self, a: u32, v: u16) -> Result<(), BusError> {
        self.wr(a, 2, u32::from(v))
    }
    fn write32(&mut self, a: u32, v: u32) -> Result<(), BusError> {
        self.wr(a, 4, v)
    }
    // The scratch area is plain memory: answering the run loop's RAM fast path too makes
    // the differential cases exercise it (as firmware on a board does).
    fn fast_load<const N: usize>(&mut self, a: u32) -> Option<[u8; N]> {
        let v = self.rd(a, N as u32).ok()?;
        let mut b = [0; N];
        b.copy_from_slice(&v.to_le_bytes()[..N]);
        Some(b)
    }
    fn fast_store<const N: usize>(&mut self, a: u32, v: [u8; N]) -> bool {
        let mut w = [0; 4];
        w[..N].copy_from_slice(&v);
        self.wr(a, N as u32, u32::from_le_bytes(w)).is_ok()
    }
}

/// Index of the table entry an encoding decodes through: 16-bit entries first, then
/// 32-bit ones offset by `T16.len()`; `None` if no entry matches.
pub fn entry_index(raw: u32, len: u8) -> Option<usize> {
    if len == 2 {
        let e = lookup16(raw as u16)?;
        T16.iter().position(|x| std::ptr::eq(x, e))
    } else {
        let e = lookup32(raw)?;
        T32.iter()
            .position(|x| std::ptr::eq(x, e))
            .map(|i| i + T16.len())
    }
}

/// The decoder table, one line per entry: `INDEX WIDTH MASK VALUE PATTERN EXT NAME` (EXT is
/// `base` or the extension the entry belongs to, e.g. `dsp`).
pub fn table() -> String {
    let mut s = String::new();
    for (i, e) in T16.iter().enumerate() {
        s += &format!(
            "{i} 16 {:08x} {:08x} {} {} {}\n",
            e.mask,
            e.value,
            e.pattern,
            e.ext.name(),
            e.name
        );
    }
    for (i, e) in T32.iter().enumerate() {
        s += &format!(
            "{} 32 {:08x} {:08x} {} {} {}\n",
            i + T16.len(),
            e.mask,
            e.value,
            e.pattern,
            e.ext.name(),
            e.name
        );
    }
    s
}

fn stop_kind(s: &StopReason) -> String {
    match s {
        StopReason::Budget => "ok".into(),
        StopReason::Fault(Fault::UndefinedInstruction { .. }) => "undef".into(),
        StopReason::Fault(Fault::NoCoprocessor { .. }) => "nocp".into(),
        StopReason::Fault(Fault::DataBus { .. })
        | StopReason::Fault(Fault::InstructionBus { .. }) => "bus".into(),
        StopReason::Fault(Fault::Unaligned { .. }) => "unaligned".into(),
        StopReason::Fault(f) => format!("fault:{f:?}").replace(' ', ""),
        StopReason::Bkpt { .. } => "bkpt".into(),
        StopReason::Svc { .. } => "svc".into(),
        StopReason::Wfi | StopReason::Wfe | StopReason::Sync => "ok".into(),
        StopReason::Idle => "idle".into(),
        StopReason::Breakpoint => "breakpoint".into(),
        StopReason::ExceptionReturn { .. } => "excreturn".into(),
    }
}

/// Run one case line on a Cortex-M3 (unless the line names a model); `Err` describes a
/// malformed line.
pub fn run_case(line: &str) -> Result<String, String> {
    run_case_on(line, Features::CORTEX_M3)
}

/// Run one case line on a core with `features` (unless the line names a model with `@CPU`).
pub fn run_case_on(line: &str, features: Features) -> Result<String, String> {
    let mut f: Vec<&str> = line.split_whitespace().collect();
    let mut features = features;
    if let Some(model) = f.first().and_then(|m| m.strip_prefix('@')) {
        features = cpu_features(model).ok_or_else(|| format!("unknown cpu model {model}"))?;
        f.remove(0);
    }
    let with_fp = f.len() == 2 + 16 + 33;
    if f.len() != 2 + 16 && !with_fp {
        return Err(format!("want 18 (or 51, with FP) fields, got {}", f.len()));
    }
    let hex = |s: &str| u32::from_str_radix(s, 16).map_err(|e| format!("{s}: {e}"));
    let seed = hex(f[0])?;
    let mut bus = CaseBus {
        code: vec![0; CODE_LEN as usize],
        scratch: scratch_fill(seed),
    };
    let mut addr = CODE;
    let mut entries = Vec::new();
    let mut count = 0u64;
    for e in f[1].split('_') {
        let raw = hex(e)?;
        let len = if e.len() == 8 { 4 } else { 2 };
        if len == 4 {
            if !is_32bit((raw >> 16) as u16) {
                return Err(format!("{e} is not a 32-bit encoding"));
            }
            bus.wr(addr, 2, raw >> 16).map_err(|_| "code too long")?;
            bus.wr(addr + 2, 2, raw & 0xffff)
                .map_err(|_| "code too long")?;
        } else {
            bus.wr(addr, 2, raw).map_err(|_| "code too long")?;
        }
        let op = armlet_cpu::decode(
            raw,
            len,
            &armlet_cpu::decode::Ctx {
                pc: addr,
                in_it: false,
                last_in_it: true,
                features,
            },
        );
        let undef = matches!(
            op,
            armlet_cpu::ops::Op::Undefined { .. } | armlet_cpu::ops::Op::NoCoprocessor { .. }
        );
        let mark = if undef { "!" } else { "" };
        entries.push(entry_index(raw, len).map_or("-".to_string(), |i| format!("{i}{mark}")));
        addr += u32::from(len);
        count += 1;
    }
    let mut cpu = Cpu::with_features(features);
    for i in 0..15 {
        cpu.state.r[i] = hex(f[2 + i])?;
    }
    cpu.state.r[15] = CODE;
    cpu.state.set_apsr(hex(f[17])?);
    if with_fp {
        for i in 0..32 {
            cpu.state.fp.s[i] = hex(f[18 + i])?;
        }
        cpu.state.fp.fpscr = hex(f[50])? & armlet_cpu::fpstate::FPSCR_MASK;
    }
    let mut stop = cpu.run(&mut bus, count);
    // MSR/CPS and peripheral stores return to the machine (to look at interrupts); carry on.
    // and a taken `b .` stops as Idle: execute it once and carry on.
    while matches!(stop, StopReason::Sync | StopReason::Idle) {
        if stop == StopReason::Idle {
            cpu.step_idle();
        }
        stop = cpu.run(&mut bus, count - cpu.icount);
    }
    let s = &cpu.state;
    let mut out = format!("{} {}", entries.join(","), stop_kind(&stop));
    if matches!(
        stop,
        StopReason::Budget | StopReason::Wfi | StopReason::Wfe | StopReason::Svc { .. }
    ) {
        for r in s.r {
            out += &format!(" {r:08x}");
        }
        out += &format!(
            " {:08x} {:02x}",
            s.apsr() | (u32::from(s.thumb) << 24),
            s.itstate
        );
        if with_fp {
            for v in s.fp.s {
                out += &format!(" {v:08x}");
            }
            out += &format!(" {:08x}", s.fp.fpscr);
        }
        let orig = scratch_fill(seed);
        for (i, (a, b)) in orig.chunks(4).zip(bus.scratch.chunks(4)).enumerate() {
            if a != b {
                let v = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                out += &format!(" {:08x}={v:08x}", SCRATCH + 4 * i as u32);
            }
        }
    }
    Ok(out)
}
