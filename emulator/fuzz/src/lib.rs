//! Fuzz harnesses for armlet's input surfaces.
//!
//! Each harness is `pub fn NAME(data: &[u8])`: it drives the real code with arbitrary bytes
//! and panics only if armlet misbehaves — an armlet panic, a hang (every run is bounded by
//! an instruction budget and checked against a wall-clock bound), or a broken invariant
//! (a bad pointer given to semihosting must come back as an error, garbage ELF must be a
//! one-line `Err`, disassembly is never empty, the GDB server keeps answering...).
//!
//! The same functions back two tiers:
//! - `tests/seeded.rs`: fixed-seed random inputs and structured mutations of real seeds
//!   (see [`seeds`]), on stable, in `cargo test` (`ARMLET_FUZZ_ITERS` scales it);
//! - `fuzz/`: a cargo-fuzz (libFuzzer) project with one target per harness (see README.md).

use armlet_cpu::{decode::is_32bit, decode_at, Bus, BusError, Cpu, Features};
use armlet_machine::board::RegionKind;
use armlet_machine::memory::RegionInfo;
use armlet_machine::semihosting::Console;
use armlet_machine::{Board, Exit, Limits, Machine, MachineOptions, Outcome};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub mod rng;
pub mod seeds;

/// A single harness call taking longer than this is a hang.
pub const HANG: Duration = Duration::from_secs(20);

/// A harness: arbitrary bytes in, a panic only if armlet misbehaves.
pub type Harness = fn(&[u8]);

/// The harnesses by name (the cargo-fuzz targets have the same names).
pub const HARNESSES: &[(&str, Harness)] = &[
    ("elf_loader", elf_loader),
    ("machine_file", machine_file),
    ("gdb_packets", gdb_packets),
    ("decoder", decoder),
    ("semihosting", semihosting),
    ("guest_memory", guest_memory),
];

/// A real firmware image (semihosting "hello"), for the ELF and GDB seeds.
pub static HELLO_ELF: &[u8] = include_bytes!("../../../firmware-tests/prebuilt/hello.elf");

/// A console that drops output and has no input.
#[derive(Debug, Default)]
pub struct Quiet;

impl Console for Quiet {
    fn write_out(&mut self, _b: &[u8]) {}
    fn write_err(&mut self, _b: &[u8]) {}
    fn read_in(&mut self, _buf: &mut [u8]) -> usize {
        0
    }
}

/// Reads fields from fuzz input; past the end every field reads as zero.
#[derive(Debug)]
pub struct Input<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Input<'a> {
    /// A reader over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Input { data, pos: 0 }
    }
    /// True when everything has been read.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }
    /// The next byte.
    pub fn u8(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }
    /// The next little-endian halfword.
    pub fn u16(&mut self) -> u16 {
        u16::from(self.u8()) | u16::from(self.u8()) << 8
    }
    /// The next little-endian word.
    pub fn u32(&mut self) -> u32 {
        u32::from(self.u16()) | u32::from(self.u16()) << 16
    }
    /// Up to `n` next bytes.
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let start = self.pos.min(self.data.len());
        let end = start.saturating_add(n).min(self.data.len());
        self.pos = self.pos.saturating_add(n);
        &self.data[start..end]
    }
}

/// The built-in boards, parsed once.
pub fn boards() -> &'static [Board] {
    static B: OnceLock<Vec<Board>> = OnceLock::new();
    B.get_or_init(Board::builtin)
}

fn machine(board: &Board, opts: MachineOptions) -> Machine {
    Machine::new(board.clone(), opts, Box::new(Quiet)).expect("built-in boards build")
}

fn check_time(t0: Instant, what: &str) {
    assert!(
        t0.elapsed() < HANG,
        "{what}: took {:?} (hang?)",
        t0.elapsed()
    );
}

/// True if no byte of `[addr, addr + len)` is in any mapping.
fn unmapped(regions: &[RegionInfo], addr: u32, len: u32) -> bool {
    let (a, e) = (u64::from(addr), u64::from(addr) + u64::from(len));
    e <= 1 << 32
        && regions.iter().all(|r| {
            let (b, re) = (u64::from(r.base), u64::from(r.base) + u64::from(r.size));
            e <= b || a >= re
        })
}

/// True if `[addr, addr + len)` lies inside one RAM region (not an alias).
fn in_ram(regions: &[RegionInfo], addr: u32, len: u32) -> bool {
    regions.iter().any(|r| {
        r.kind == Some(RegionKind::Ram)
            && addr >= r.base
            && u64::from(addr) + u64::from(len) <= u64::from(r.base) + u64::from(r.size)
    })
}

fn largest_ram(regions: &[RegionInfo]) -> RegionInfo {
    regions
        .iter()
        .filter(|r| r.kind == Some(RegionKind::Ram))
        .max_by_key(|r| r.size)
        .cloned()
        .expect("every built-in board has RAM")
}

/// An address range of `len` bytes no mapping touches.
fn find_unmapped(regions: &[RegionInfo], len: u32) -> u32 {
    [
        0x6000_0000u32,
        0x9000_0000,
        0xa000_0000,
        0xd000_0000,
        0xf000_0000,
        0xffff_0000,
    ]
    .into_iter()
    .find(|&a| unmapped(regions, a, len))
    .expect("some unmapped space on every built-in board")
}

// ---------------------------------------------------------------------------------------
// ELF loader

/// The ELF loader: `data` is the file. Garbage must be a one-line error; anything that
/// loads must run (briefly) and report without panicking.
pub fn elf_loader(data: &[u8]) {
    let t0 = Instant::now();
    let mut m = machine(&boards()[0], MachineOptions::default());
    match m.load_elf(data) {
        Err(e) => {
            // One line, or one line of error followed by indented advice (a segment outside
            // the board lists its regions and a machine-file snippet).
            let msg = e.to_string();
            assert!(
                !msg.is_empty()
                    && !msg.starts_with(' ')
                    && msg.lines().skip(1).all(|l| l.starts_with("  ")),
                "loader error is not one line (plus indented advice): {msg:?}"
            );
        }
        Ok(()) => {
            let _ = m.run(20_000);
            let _ = m.state_report();
            let _ = m.fault_status();
            let pc = m.cpu.state.r[15];
            let _ = m.location(pc);
            let _ = m.symbols.lookup(pc);
        }
    }
    check_time(t0, "elf_loader");
}

// ---------------------------------------------------------------------------------------
// Machine files

/// Boards whose RAM/ROM add up to more than this are parsed and validated but not built
/// (the host allocation is legitimate but too large for a fuzzer's memory limit).
const MAX_BUILD_MEMORY: u64 = 256 << 20;

/// The machine-file parser, its validation and building the machine: `data` is the file
/// (invalid UTF-8 replaced). Errors must name the file; a machine that builds must survive
/// an access to every mapping and a short run.
pub fn machine_file(data: &[u8]) {
    let t0 = Instant::now();
    let text = String::from_utf8_lossy(data);
    let board = match Board::from_toml(&text, "fuzz.toml") {
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.starts_with("fuzz.toml: ") && msg.len() > "fuzz.toml: ".len(),
                "machine-file error does not name the file: {msg:?}"
            );
            return;
        }
        Ok(b) => b,
    };
    // A `plugin` entry would load a shared library from the fuzzed path.
    if board.devices.iter().any(|d| d.plugin.is_some()) {
        return;
    }
    let memory: u64 = board
        .regions
        .iter()
        .filter(|r| matches!(r.kind, RegionKind::Ram | RegionKind::Rom))
        .map(|r| u64::from(r.size))
        .sum();
    if memory > MAX_BUILD_MEMORY {
        return;
    }
    let mut m = match Machine::new(board, MachineOptions::default(), Box::new(Quiet)) {
        Err(e) => {
            assert!(!e.to_string().is_empty(), "empty machine error");
            return;
        }
        Ok(m) => m,
    };
    let regions: Vec<RegionInfo> = m.mem.regions().collect();
    for r in &regions {
        let last = r.base.wrapping_add(r.size.saturating_sub(4));
        for a in [r.base, r.base.wrapping_add(r.size / 2), last] {
            let _ = m.mem.read32(a);
            let _ = m.mem.read8(a);
            let _ = m.mem.write32(a, 0x5555_aaaa);
            let _ = m.mem.write16(a, 0x1234);
            let mut buf = [0u8; 8];
            let _ = m.mem.peek(a, &mut buf);
        }
    }
    m.reset();
    let _ = m.run(5_000);
    let _ = m.state_report();
    let _ = m.fault_status();
    m.system_reset();
    let _ = m.run(1_000);
    check_time(t0, "machine_file");
}

// ---------------------------------------------------------------------------------------
// GDB packets

/// Check that `bytes` (what the server sent) is acknowledgements and well-formed packets
/// with correct checksums; returns the number of packets.
pub fn check_gdb_stream(bytes: &[u8]) -> Result<usize, String> {
    let (mut i, mut packets) = (0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'+' | b'-' => i += 1,
            b'$' => {
                let mut j = i + 1;
                let mut sum = 0u8;
                while j < bytes.len() && bytes[j] != b'#' {
                    sum = sum.wrapping_add(bytes[j]);
                    j += 1;
                }
                let cs = bytes
                    .get(j + 1..j + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| format!("unterminated packet at byte {i}"))?;
                if cs != sum {
                    return Err(format!("bad checksum {cs:02x} (sum {sum:02x}) at byte {i}"));
                }
                packets += 1;
                i = j + 3;
            }
            b => return Err(format!("stray byte {b:#04x} at {i}")),
        }
    }
    Ok(packets)
}

/// Instructions a scripted GDB session may run in total.
const GDB_MAX_INSNS: u64 = 300_000;

/// The GDB server: `data[0]` chooses how the rest is split into socket reads; the rest is
/// what debugger 1 sends. Then debugger 1 sends an interrupt and `?`, disconnects, and
/// debugger 2 connects and sends `?`. The server must never panic or wedge, everything it
/// sends must be well-formed, and (unless the session ended armlet: kill, firmware exit,
/// limit) debugger 2 gets an answer.
pub fn gdb_packets(data: &[u8]) {
    use armlet_gdb::scripted::{replay, Event};
    let t0 = Instant::now();
    let mut m = machine(&boards()[0], MachineOptions::default());
    m.load_elf(HELLO_ELF).expect("hello.elf loads");
    let (&split, stream) = data.split_first().unwrap_or((&0, &[]));
    let mut script = vec![Event::Connect(1)];
    let (mut rest, mut s) = (stream, u32::from(split) | 0x100);
    while !rest.is_empty() {
        s = s.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let n = if split & 0x80 != 0 {
            rest.len()
        } else {
            1 + (s >> 16) as usize % 97
        }
        .min(rest.len());
        script.push(Event::Data(1, rest[..n].to_vec()));
        rest = &rest[n..];
    }
    // "#00" closes any packet left open, so the interrupt and `?` are seen as such.
    script.push(Event::Data(1, b"#00\x03$?#3f".to_vec()));
    script.push(Event::Close(1));
    script.push(Event::Connect(2));
    script.push(Event::Data(2, b"+$?#3f".to_vec()));
    script.push(Event::Close(2));
    let limits = Limits {
        max_instructions: Some(GDB_MAX_INSNS),
        deadline: Some(Instant::now() + HANG),
        ..Limits::default()
    };
    let r = replay(m, &script, &limits);
    assert_ne!(r.outcome, Outcome::Timeout, "the GDB server wedged");
    for (id, bytes, _) in &r.replies {
        if let Err(e) = check_gdb_stream(bytes) {
            panic!(
                "debugger {id} got a malformed stream ({e}): {:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }
    // The server consumed the second debugger's `?` (at most its Close was left).
    if r.unprocessed <= 1 {
        let (_, bytes, _) = r
            .replies
            .iter()
            .find(|(id, _, _)| *id == 2)
            .expect("debugger 2 is in the script");
        assert!(
            check_gdb_stream(bytes).unwrap_or(0) >= 1,
            "the server did not answer a new debugger after the fuzzed session \
             (outcome {:?}): {:?}",
            r.outcome,
            String::from_utf8_lossy(bytes)
        );
    }
    let mut m = r.machine;
    let _ = m.state_report();
    check_time(t0, "gdb_packets");
}

// ---------------------------------------------------------------------------------------
// Decoder

/// Flat RAM at 0 for the decoder harness.
#[derive(Debug)]
pub struct Ram(pub Vec<u8>);

impl Ram {
    fn get(&mut self, a: u32, n: usize) -> Result<&mut [u8], BusError> {
        let a = a as usize;
        self.0.get_mut(a..a + n).ok_or(BusError::Unmapped)
    }
}

impl Bus for Ram {
    fn read8(&mut self, a: u32) -> Result<u8, BusError> {
        Ok(self.get(a, 1)?[0])
    }
    fn read16(&mut self, a: u32) -> Result<u16, BusError> {
        let b = self.get(a, 2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn read32(&mut self, a: u32) -> Result<u32, BusError> {
        let b = self.get(a, 4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn write8(&mut self, a: u32, v: u8) -> Result<(), BusError> {
        self.get(a, 1)?[0] = v;
        Ok(())
    }
    fn write16(&mut self, a: u32, v: u16) -> Result<(), BusError> {
        self.get(a, 2)?.copy_from_slice(&v.to_le_bytes());
        Ok(())
    }
    fn write32(&mut self, a: u32, v: u32) -> Result<(), BusError> {
        self.get(a, 4)?.copy_from_slice(&v.to_le_bytes());
        Ok(())
    }
}

/// The core models: Cortex-M3, M4F, M7.
pub const FEATURES: [Features; 3] = [
    Features::CORTEX_M3,
    Features::CORTEX_M4F,
    Features::CORTEX_M7,
];

const DECODE_RAM: usize = 0x1_0000;
const DECODE_PC: u32 = 0x8000;

thread_local! {
    /// One core per model, with its reset state (reused: a `Cpu` is not small).
    static CORES: std::cell::RefCell<Vec<(Cpu, armlet_cpu::CpuState)>> =
        std::cell::RefCell::new(
            FEATURES
                .iter()
                .map(|&f| {
                    let mut c = Cpu::with_features(f);
                    c.set_icache(false);
                    let fresh = c.state.clone();
                    (c, fresh)
                })
                .collect(),
        );
}

/// Decode, disassemble, lower and execute one encoding (`hw1`, and `hw2` when `hw1` starts
/// a 32-bit instruction) with ITSTATE `it` on every core model; `regs` seeds the registers
/// and flags.
pub fn decode_one(hw1: u16, hw2: u16, it: u8, regs: u64) {
    let mut ram = Ram(vec![0; DECODE_RAM]);
    CORES.with(|cores| {
        let mut cores = cores.borrow_mut();
        for ((cpu, fresh), &features) in cores.iter_mut().zip(FEATURES.iter()) {
            let pc = DECODE_PC;
            ram.write16(pc, hw1).expect("in RAM");
            ram.write16(pc + 2, hw2).expect("in RAM");
            ram.write16(pc + 4, 0xbe01).expect("in RAM"); // bkpt #1
            let insn = match decode_at(&mut ram, pc, it, features) {
                Ok(i) => i,
                Err(f) => panic!("decode_at faulted fetching from RAM: {f:?}"),
            };
            let want_len = if is_32bit(hw1) { 4 } else { 2 };
            assert_eq!(insn.len, want_len, "length of {hw1:#06x} {hw2:#06x}");
            let text = insn.disasm();
            assert!(
                !text.trim().is_empty(),
                "empty disassembly for {:#010x} ({:?})",
                insn.raw,
                insn.op
            );
            let _ = insn.fast_form();
            // Execute it: registers half in RAM, half anywhere.
            let mut s = regs | 1;
            cpu.state = fresh.clone();
            for (i, r) in cpu.state.r.iter_mut().enumerate().take(15) {
                s = rng::xorshift(s);
                *r = if (s >> 40) & 1 == 0 {
                    (s as u32 ^ i as u32) % DECODE_RAM as u32
                } else {
                    s as u32
                };
            }
            cpu.state.r[13] &= !3;
            cpu.state.r[15] = pc;
            cpu.state.itstate = it;
            cpu.state.n = regs & 1 != 0;
            cpu.state.z = regs & 2 != 0;
            cpu.state.c = regs & 4 != 0;
            cpu.state.v = regs & 8 != 0;
            for (i, v) in cpu.state.fp.s.iter_mut().enumerate() {
                *v = rng::xorshift(s.wrapping_add(i as u64)) as u32;
            }
            cpu.icount = 0;
            let _ = cpu.run(&mut ram, 2);
            let _ = cpu.current_insn(&mut ram).map(|i| i.disasm());
        }
    });
}

/// The Thumb-2 decoder: every 6 bytes are an encoding (two halfwords), an ITSTATE and a
/// byte of register seed, decoded for every core model (see [`decode_one`]).
pub fn decoder(data: &[u8]) {
    let t0 = Instant::now();
    for chunk in data.chunks(6) {
        let mut inp = Input::new(chunk);
        let (hw1, hw2, it, seed) = (inp.u16(), inp.u16(), inp.u8(), inp.u8());
        decode_one(
            hw1,
            hw2,
            it,
            u64::from(seed) << 32 | u64::from(hw1) << 16 | u64::from(hw2),
        );
    }
    check_time(t0, "decoder");
}

// ---------------------------------------------------------------------------------------
// Semihosting

/// Semihosting operations the harness picks from (every implemented one plus unknown ones).
pub const SEMIHOST_OPS: &[u32] = &[
    0x01,
    0x02,
    0x03,
    0x04,
    0x05,
    0x06,
    0x07,
    0x08,
    0x09,
    0x0a,
    0x0c,
    0x0d,
    0x0e,
    0x0f,
    0x10,
    0x11,
    0x12,
    0x13,
    0x15,
    0x16,
    0x18,
    0x20,
    0x30,
    0x31,
    0x00,
    0x0b,
    0x14,
    0x17,
    0x19,
    0x32,
    0x100,
    0xffff_ffff,
];

/// Operations that read a parameter block at R1 before doing anything else: with R1
/// unmapped they must fail (-1, errno EFAULT).
const PARAM_BLOCK_OPS: &[u32] = &[
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x08, 0x09, 0x0a, 0x0c, 0x0d, 0x0e, 0x0f, 0x12, 0x15, 0x16,
    0x20, 0x30,
];

const EFAULT: u32 = 14;
const ENOSYS: u32 = 38;

/// File names planted in guest memory for the parameter blocks to point at.
pub const HOSTILE_NAMES: &[&[u8]] = &[
    b"file.txt",
    b"../escape",
    b"/etc/passwd",
    b"sub/../../x",
    b":tt",
    b":semihosting-features",
    b"a/b",
    b".",
    b"..",
    b"\xff\xfe",
    b"dir/./f",
    b"x\0y",
    b"../outside/planted",
    b"././../root/../outside/p",
];

struct Sandbox {
    _dir: tempfile::TempDir,
    base: std::path::PathBuf,
    root: std::path::PathBuf,
    outside: std::path::PathBuf,
}

fn sandbox() -> &'static Mutex<Sandbox> {
    static S: OnceLock<Mutex<Sandbox>> = OnceLock::new();
    S.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let base = dir.path().canonicalize().expect("canonical temp dir");
        let (root, outside) = (base.join("root"), base.join("outside"));
        std::fs::create_dir(&root).expect("create root");
        std::fs::create_dir(&outside).expect("create outside");
        Mutex::new(Sandbox {
            _dir: dir,
            base,
            root,
            outside,
        })
    })
}

fn list(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Pick a pointer of a hostile kind.
fn hostile_ptr(sel: u8, raw: u32, block: u32, names: u32, ram: &RegionInfo, hole: u32) -> u32 {
    match sel % 10 {
        0..=2 => block.wrapping_add(raw % 0x800),
        3 => hole.wrapping_add(raw & 0xff),
        4 => ram.base.wrapping_add(ram.size).wrapping_sub(raw % 16), // straddles the end
        5 => 0x4000_0000 + (raw & 0xf_fffc),
        6 => 0xe000_e000 + (raw & 0xffc),
        7 => names + 32 * (raw % HOSTILE_NAMES.len() as u32),
        8 => 0xffff_fff0 | (raw & 0xf),
        _ => raw,
    }
}

/// A hostile length.
fn hostile_len(sel: u8, raw: u32) -> u32 {
    [
        0,
        1,
        raw % 64,
        4096,
        4097,
        0x7fff_ffff,
        0xffff_ffff,
        raw,
        raw % 0x10_0000,
    ][sel as usize % 9]
}

/// Semihosting calls from a guest with hostile parameter blocks: `data` sets the options
/// (root or none), a parameter area in RAM (raw bytes, hostile names, patched pointer and
/// length fields) and a series of `BKPT #0xAB` calls with R0 = operation, R1 = pointer.
/// Calls with an unmapped R1 must return -1 with errno EFAULT, SYS_SYSTEM is always refused
/// (`allow_system` is off), file operations without a root are refused, unknown operations
/// return -1/ENOSYS, and nothing may appear outside the root.
pub fn semihosting(data: &[u8]) {
    let t0 = Instant::now();
    let sb = sandbox().lock().unwrap_or_else(|e| e.into_inner());
    let _ = std::fs::remove_dir_all(&sb.root);
    std::fs::create_dir(&sb.root).expect("recreate root");
    std::fs::write(sb.root.join("file.txt"), b"contents\n").expect("plant a file");
    let mut inp = Input::new(data);
    let flags = inp.u8();
    let with_root = flags & 1 != 0;
    let board = &boards()[usize::from(flags >> 1) % boards().len()];
    let opts = MachineOptions {
        semihosting_root: with_root.then(|| sb.root.clone()),
        cmdline: vec!["fuzz".into(), "arg".into()],
        ..MachineOptions::default()
    };
    let mut m = machine(board, opts);
    let regions: Vec<RegionInfo> = m.mem.regions().collect();
    let ram = largest_ram(&regions);
    let hole = find_unmapped(&regions, 0x100);
    let code = ram.base + 0x100;
    let names = ram.base + 0x1000;
    let block = ram.base + 0x2000;
    // Raw parameter area from the input, then the names.
    let raw_len = usize::from(inp.u16()) % 0x800;
    let raw = inp.bytes(raw_len).to_vec();
    m.mem.load(block, &raw).expect("block in RAM");
    for (i, n) in HOSTILE_NAMES.iter().enumerate() {
        let mut z = n.to_vec();
        z.push(0);
        m.mem.load(names + 32 * i as u32, &z).expect("names in RAM");
    }
    let sp = ram.base + 0x8000;
    for call in 0..24 {
        if inp.is_empty() {
            break;
        }
        let (op_sel, ptr_sel, ptr_raw) = (inp.u8(), inp.u8(), inp.u32());
        // Patch up to two fields of the block with a pointer or a length.
        for _ in 0..2 {
            let (patch, field, val) = (inp.u8(), inp.u8(), inp.u32());
            if patch & 0x80 != 0 {
                continue;
            }
            let v = if patch & 1 != 0 {
                hostile_ptr(patch >> 1, val, block, names, &ram, hole)
            } else {
                hostile_len(patch >> 1, val)
            };
            let at = block + 4 * u32::from(field % 8);
            m.mem.load(at, &v.to_le_bytes()).expect("block in RAM");
        }
        let op = SEMIHOST_OPS[usize::from(op_sel) % SEMIHOST_OPS.len()];
        let ptr = hostile_ptr(ptr_sel, ptr_raw, block, names, &ram, hole);
        let r0 = match semihost_call(&mut m, code, sp, op, ptr) {
            Call::Returned(r0) => r0,
            Call::Exited => break,
            Call::Disturbed => continue,
        };
        let errno = |m: &mut Machine| match semihost_call(m, code, sp, 0x13, 0) {
            Call::Returned(e) => e,
            _ => panic!("call {call}: SYS_ERRNO did not return"),
        };
        let bad_ptr = unmapped(&regions, ptr, 16);
        if bad_ptr && PARAM_BLOCK_OPS.contains(&op) {
            assert_eq!(
                r0,
                u32::MAX,
                "call {call}: op {op:#x} with R1 = {ptr:#x} (unmapped)"
            );
            let e = errno(&mut m);
            assert_eq!(e, EFAULT, "call {call}: errno after op {op:#x} at {ptr:#x}");
        }
        if op == 0x12 || (!with_root && matches!(op, 0x0e | 0x0f)) {
            assert_eq!(r0, u32::MAX, "call {call}: op {op:#x} must be refused");
        }
        if !SEMIHOST_OPS[..24].contains(&op) {
            assert_eq!(r0, u32::MAX, "call {call}: unknown op {op:#x}");
            let e = errno(&mut m);
            assert_eq!(e, ENOSYS, "call {call}: errno after unknown op {op:#x}");
        }
        check_time(t0, "semihosting");
    }
    let base = list(&sb.base);
    assert_eq!(
        base,
        ["outside", "root"],
        "something appeared beside the semihosting root"
    );
    assert!(
        list(&sb.outside).is_empty(),
        "something appeared outside the semihosting root: {:?}",
        list(&sb.outside)
    );
    check_time(t0, "semihosting");
}

/// How a semihosting call from the harness's guest ended.
enum Call {
    /// The call returned this in R0 and the guest went on to the next instruction.
    Returned(u32),
    /// The guest exited.
    Exited,
    /// Something else: the call wrote over the code or into the system space (a reset,
    /// VTOR...). The machine has been reset.
    Disturbed,
}

/// Execute `BKPT #0xAB` at `code` with R0 = `op`, R1 = `ptr`.
fn semihost_call(m: &mut Machine, code: u32, sp: u32, op: u32, ptr: u32) -> Call {
    // bkpt #0xab; bkpt #1 — reloaded every call (a call may have written over it).
    m.mem
        .load(code, &[0xab, 0xbe, 0x01, 0xbe])
        .expect("code in RAM");
    m.cpu.invalidate(code, 4);
    let s = &mut m.cpu.state;
    s.r[0] = op;
    s.r[1] = ptr;
    s.r[13] = sp;
    s.r[15] = code;
    match m.run(16) {
        Exit::Exited(_) => Call::Exited,
        Exit::Breakpoint(1) if m.cpu.state.r[15] == code + 2 => Call::Returned(m.cpu.state.r[0]),
        _ => {
            m.reset();
            Call::Disturbed
        }
    }
}

// ---------------------------------------------------------------------------------------
// Guest memory traffic

/// Loads and stores (R0 = value, R1 = address), each followed by `bkpt #1`.
const ACCESS_CODE: [u16; 14] = [
    0x7808, 0xbe01, // ldrb r0, [r1]
    0x8808, 0xbe01, // ldrh r0, [r1]
    0x6808, 0xbe01, // ldr r0, [r1]
    0x7008, 0xbe01, // strb r0, [r1]
    0x8008, 0xbe01, // strh r0, [r1]
    0x6008, 0xbe01, // str r0, [r1]
    0xc901, 0xbe01, // ldm r1!, {r0}
];

/// A fault handler: `bkpt #2`.
const HANDLER: u16 = 0xbe02;

/// Random guest memory traffic on a built-in board (`data[0]` picks it): direct bus
/// accesses of every size to RAM, ROM, devices, the PPB, unmapped space and the top of the
/// address space; the same through LDR/STR executed by the core (faults taken through a
/// vector table in RAM); debugger reads/writes; short runs. Never a panic or a hang; an
/// access to unmapped space must fail (bus) or fault (core); RAM reads back what was
/// written.
pub fn guest_memory(data: &[u8]) {
    let t0 = Instant::now();
    let mut inp = Input::new(data);
    let board = &boards()[usize::from(inp.u8()) % boards().len()];
    let mut m = machine(board, MachineOptions::default());
    let regions: Vec<RegionInfo> = m.mem.regions().collect();
    let ram = largest_ram(&regions);
    let hole = find_unmapped(&regions, 0x1000);
    let vectors = ram.base;
    let code = ram.base + 0x200;
    let handler = ram.base + 0x180;
    let sp = ram.base + 0x8000;
    let setup = |m: &mut Machine| {
        let mut vt = vec![0u8; 0x40 * 4];
        vt[..4].copy_from_slice(&sp.to_le_bytes());
        vt[4..8].copy_from_slice(&(code | 1).to_le_bytes());
        for v in 2..0x40usize {
            vt[4 * v..4 * v + 4].copy_from_slice(&(handler | 1).to_le_bytes());
        }
        m.mem.load(vectors, &vt).expect("vectors in RAM");
        m.mem
            .load(handler, &HANDLER.to_le_bytes())
            .expect("handler in RAM");
        let c: Vec<u8> = ACCESS_CODE.iter().flat_map(|h| h.to_le_bytes()).collect();
        m.mem.load(code, &c).expect("code in RAM");
        m.cpu.invalidate(ram.base, 0x1000);
        // VTOR: the vector table in RAM.
        let _ = m.mem.write32(0xe000_ed08, vectors);
    };
    setup(&mut m);
    let devices: Vec<&RegionInfo> = regions.iter().filter(|r| r.kind.is_none()).collect();
    for step in 0..64 {
        if inp.is_empty() {
            break;
        }
        let (kind, class, raw, val) = (inp.u8(), inp.u8(), inp.u32(), inp.u32());
        let addr = match class % 9 {
            0 => ram.base.wrapping_add(0x1000 + raw % (ram.size - 0x1000)),
            1 => {
                let d = devices[raw as usize % devices.len()];
                d.base.wrapping_add((raw >> 8) % d.size)
            }
            2 => 0xe000_0000 | (raw & 0xf_ffff),
            3 => 0xe000_e000 | (raw & 0xfff),
            4 => hole.wrapping_add(raw & 0xfff),
            5 => {
                let r = &regions[raw as usize % regions.len()];
                r.base.wrapping_add(r.size).wrapping_sub((raw >> 8) % 8)
            }
            6 => 0xffff_fff8 | (raw & 7),
            7 => 0x4000_0000 | (raw & 0xff_ffff),
            _ => raw,
        };
        let size = [1u32, 2, 4][usize::from(kind >> 4) % 3];
        let what = format!("step {step}: kind {kind} at {addr:#x} ({})", board.name);
        match kind % 8 {
            0 | 1 => {
                // Direct bus access.
                let store = kind % 8 == 1;
                let r = match (store, size) {
                    (false, 1) => m.mem.read8(addr).map(u32::from),
                    (false, 2) => m.mem.read16(addr).map(u32::from),
                    (false, _) => m.mem.read32(addr),
                    (true, 1) => m.mem.write8(addr, val as u8).map(|_| 0),
                    (true, 2) => m.mem.write16(addr, val as u16).map(|_| 0),
                    (true, _) => m.mem.write32(addr, val).map(|_| 0),
                };
                if unmapped(&regions, addr, size) {
                    assert!(r.is_err(), "{what}: unmapped access succeeded");
                }
                if store && r.is_ok() && in_ram(&regions, addr, size) {
                    let back = match size {
                        1 => m.mem.read8(addr).map(u32::from),
                        2 => m.mem.read16(addr).map(u32::from),
                        _ => m.mem.read32(addr),
                    };
                    let mask = if size == 4 {
                        u32::MAX
                    } else {
                        (1 << (8 * size)) - 1
                    };
                    assert_eq!(back, Ok(val & mask), "{what}: RAM read back");
                }
                if store && addr >= 0xe000_0000 {
                    // A write to the SCS may have moved VTOR or reset the machine.
                    setup(&mut m);
                }
            }
            2..=5 => {
                // Through the core.
                let insn = usize::from(kind >> 3) % (ACCESS_CODE.len() / 2);
                let s = &mut m.cpu.state;
                s.r[0] = val;
                s.r[1] = addr;
                s.r[15] = code + 4 * insn as u32;
                let exit = m.run(64);
                let done_at = code + 4 * insn as u32 + 2;
                let retired = matches!(exit, Exit::Breakpoint(1)) && m.cpu.state.r[15] == done_at;
                let width = match insn {
                    0 | 3 => 1,
                    1 | 4 => 2,
                    _ => 4,
                };
                if unmapped(&regions, addr, width) && insn != 3 && insn != 4 && insn != 5 {
                    assert!(!retired, "{what}: a load from unmapped space retired");
                }
                if !retired {
                    // Out of the fault handler (or wherever it went): start over.
                    m.reset();
                    setup(&mut m);
                }
            }
            6 => {
                let mut buf = vec![0u8; (val % 64) as usize];
                let r = m.debug_read(addr, &mut buf);
                if !buf.is_empty() && unmapped(&regions, addr, 1) {
                    assert!(r.is_err(), "{what}: debugger read of unmapped space");
                }
                let bytes = val.to_le_bytes();
                let _ = m.debug_write(addr, &bytes[..size as usize]);
                setup(&mut m);
            }
            _ => {
                let _ = m.run(u64::from(val % 5_000));
                let _ = m.fault_status();
                m.reset();
                setup(&mut m);
            }
        }
        check_time(t0, "guest_memory");
    }
    let _ = m.state_report();
    check_time(t0, "guest_memory");
}
