//! The machine: CPU + bus + semihosting, and the run loop.

use crate::board::{Board, RegionKind};
use crate::loader::{load_elf, Image, LoadError, Symbols};
use crate::memory::{Memory, MemoryMapError};
use crate::semihosting::{self, Console, HeapInfo, SemihostConfig, Semihosting};
use armlet_cpu::{Bus, BusError, Cpu, Fault, StopReason};
use std::fmt::Write as _;
use std::path::PathBuf;

/// How to build a machine.
#[derive(Debug, Clone, Default)]
pub struct MachineOptions {
    /// Use the decoded-instruction cache (the default); `false` decodes every instruction
    /// each time it executes.
    pub no_icache: bool,
    /// Directory that semihosting file operations are confined to; `None` refuses them.
    pub semihosting_root: Option<PathBuf>,
    /// Allow SYS_SYSTEM (runs host shell commands inside the root).
    pub allow_system: bool,
    /// The command line SYS_GET_CMDLINE returns: program name then arguments.
    pub cmdline: Vec<String>,
    /// Treat `BKPT #0xAB` as a plain breakpoint instead of a semihosting call (QEMU without
    /// `-semihosting`).
    pub no_semihosting: bool,
}

/// Why [`Machine::run`] returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// The firmware exited through semihosting with this status.
    Exited(i32),
    /// The instruction budget given to `run` is used up.
    Budget,
    /// A fault with nothing to handle it (the exception model is not there yet).
    Fault(Fault),
    /// A BKPT other than semihosting with no debugger attached.
    Breakpoint(u8),
    /// The guest did something armlet does not support yet.
    Unsupported(String),
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exit::Fault(fault) => write!(f, "guest fault: {fault}"),
            Exit::Breakpoint(imm) => {
                write!(f, "guest hit BKPT #{imm:#x} with no debugger attached")
            }
            Exit::Unsupported(what) => write!(f, "unsupported: {what}"),
            Exit::Exited(c) => write!(f, "exited with status {c}"),
            Exit::Budget => write!(f, "instruction budget used up"),
        }
    }
}

/// Process exit statuses for outcomes other than the firmware's own exit (documented in the
/// README and `armlet run --help`).
pub mod exit_code {
    /// Instruction limit, virtual-time limit or wall-clock timeout reached.
    pub const LIMIT: i32 = 124;
    /// Bad input or emulator error.
    pub const ERROR: i32 = 125;
    /// Guest fault, lockup or unhandled breakpoint.
    pub const FAULT: i32 = 126;
    /// Interrupted by a signal: 128 + the signal number.
    pub const SIGNAL_BASE: i32 = 128;
}

impl Outcome {
    /// The process exit status `armlet run` gives for this outcome.
    pub fn exit_status(&self) -> i32 {
        match self {
            Outcome::Exited(c) => c & 0xff,
            Outcome::InstructionLimit(_) | Outcome::Timeout => exit_code::LIMIT,
            Outcome::Interrupted(sig) => exit_code::SIGNAL_BASE + *sig as i32,
            Outcome::Guest(_) => exit_code::FAULT,
        }
    }
}

/// Limits for [`Machine::run_to_end`].
#[derive(Debug, Default)]
pub struct Limits<'a> {
    /// Stop after this many instructions since reset.
    pub max_instructions: Option<u64>,
    /// Stop at this wall-clock instant.
    pub deadline: Option<std::time::Instant>,
    /// Stop when this becomes non-zero (a signal number, set by a signal handler).
    pub stop: Option<&'a std::sync::atomic::AtomicUsize>,
}

/// How a run to completion ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The firmware exited with this status.
    Exited(i32),
    /// The instruction limit was reached.
    InstructionLimit(u64),
    /// The wall-clock deadline passed.
    Timeout,
    /// The stop flag was raised with this value.
    Interrupted(usize),
    /// The guest stopped in a way armlet reports as a failure (fault, BKPT, unsupported).
    Guest(Exit),
}

/// Instructions per `run` call inside [`Machine::run_to_end`]: limits and the stop flag are
/// checked this often (a few milliseconds).
const CHUNK: u64 = 1 << 20;

/// Errors building a machine or loading firmware.
#[derive(Debug, thiserror::Error)]
pub enum MachineError {
    /// The board's memory map is inconsistent.
    #[error("bad memory map: {0}")]
    MemoryMap(#[from] MemoryMapError),
    /// The ELF could not be loaded.
    #[error(transparent)]
    Load(#[from] LoadError),
}

/// A board with firmware in it.
#[derive(Debug)]
pub struct Machine {
    /// The core.
    pub cpu: Cpu,
    /// The system bus.
    pub mem: Memory,
    /// Semihosting state (open files, console).
    pub semihosting: Semihosting,
    /// The board description.
    pub board: Board,
    /// Symbols of the loaded image.
    pub symbols: Symbols,
    image: Option<Image>,
    semihosting_enabled: bool,
}

/// A bus that remembers where semihosting wrote guest memory, so decoded code there is
/// dropped.
struct TrackingBus<'a> {
    mem: &'a mut Memory,
    writes: Vec<(u32, u32)>,
}

impl Bus for TrackingBus<'_> {
    fn read8(&mut self, addr: u32) -> Result<u8, BusError> {
        self.mem.read8(addr)
    }
    fn read16(&mut self, addr: u32) -> Result<u16, BusError> {
        self.mem.read16(addr)
    }
    fn read32(&mut self, addr: u32) -> Result<u32, BusError> {
        self.mem.read32(addr)
    }
    fn write8(&mut self, addr: u32, val: u8) -> Result<(), BusError> {
        self.writes.push((addr, 1));
        self.mem.write8(addr, val)
    }
    fn write16(&mut self, addr: u32, val: u16) -> Result<(), BusError> {
        self.writes.push((addr, 2));
        self.mem.write16(addr, val)
    }
    fn write32(&mut self, addr: u32, val: u32) -> Result<(), BusError> {
        self.writes.push((addr, 4));
        self.mem.write32(addr, val)
    }
}

/// Side-effect-free word read; 0 where nothing readable is mapped.
fn peek32(mem: &Memory, addr: u32) -> u32 {
    let mut b = [0u8; 4];
    match mem.peek(addr, &mut b) {
        Ok(()) => u32::from_le_bytes(b),
        Err(_) => 0,
    }
}

impl Machine {
    /// Build a machine for `board`. Semihosting console I/O goes to `console`.
    pub fn new(
        board: Board,
        opts: MachineOptions,
        console: Box<dyn Console>,
    ) -> Result<Machine, MachineError> {
        let mem = Memory::from_board(&board)?;
        let mut cpu = Cpu::new();
        cpu.set_icache(!opts.no_icache);
        let config = SemihostConfig {
            root: opts.semihosting_root.clone(),
            allow_system: opts.allow_system,
            cmdline: opts.cmdline.join(" "),
            cpu_hz: board.cpu_hz,
            heap: HeapInfo::default(),
        };
        tracing::debug!(board = %board.name, "machine built");
        Ok(Machine {
            cpu,
            mem,
            semihosting: Semihosting::new(config, console),
            board,
            symbols: Symbols::default(),
            image: None,
            semihosting_enabled: !opts.no_semihosting,
        })
    }

    /// Load an ELF image and reset the core from its vector table.
    pub fn load_elf(&mut self, bytes: &[u8]) -> Result<(), MachineError> {
        let image = load_elf(bytes, &mut self.mem)?;
        for &(addr, len) in &image.segments {
            self.cpu.invalidate(addr, len);
        }
        self.symbols = image.symbols.clone();
        self.semihosting.set_heap(self.heap_info(&image));
        self.image = Some(image);
        self.reset();
        Ok(())
    }

    /// HEAPINFO as QEMU (6.0 and later) answers it: the largest gap left by the loaded image
    /// in the largest RAM region, split as heap (bottom up) and stack (top down).
    fn heap_info(&self, image: &Image) -> HeapInfo {
        let mut best: Option<&crate::board::RegionDesc> = None;
        for r in self
            .board
            .regions
            .iter()
            .filter(|r| r.kind == RegionKind::Ram)
        {
            if best.is_none_or(|b| r.size > b.size) {
                best = Some(r);
            }
        }
        let Some(ram) = best else {
            return HeapInfo::default();
        };
        let (lo, hi) = (
            u64::from(ram.base),
            u64::from(ram.base) + u64::from(ram.size),
        );
        let mut used: Vec<(u64, u64)> = image
            .segments
            .iter()
            .map(|&(a, n)| (u64::from(a), u64::from(a) + u64::from(n)))
            .filter(|&(a, e)| a < hi && e > lo)
            .map(|(a, e)| (a.max(lo), e.min(hi)))
            .collect();
        used.sort_unstable();
        let (mut gap, mut cursor) = ((0u64, 0u64), lo);
        for (a, e) in used.into_iter().chain([(hi, hi)]) {
            if a > cursor && a - cursor > gap.1 - gap.0 {
                gap = (cursor, a);
            }
            cursor = cursor.max(e);
        }
        let (base, limit) = (gap.0 as u32, gap.1.min(u64::from(u32::MAX)) as u32);
        HeapInfo {
            heap_base: base,
            heap_limit: limit,
            stack_base: limit,
            stack_limit: base,
        }
    }

    /// Cortex-M reset: SP and PC from the vector table at address 0 (B1.5.5).
    pub fn reset(&mut self) {
        let vtor = 0;
        let sp = peek32(&self.mem, vtor);
        let mut pc = peek32(&self.mem, vtor + 4);
        if pc == 0 {
            if let Some(img) = &self.image {
                tracing::warn!(
                    "no reset vector at {:#x}; starting at the ELF entry point {:#x}",
                    vtor + 4,
                    img.entry
                );
                pc = img.entry | 1;
            }
        }
        let config = self.cpu.state.config;
        self.cpu.state = armlet_cpu::CpuState {
            config,
            ..Default::default()
        };
        self.cpu.state.r[13] = sp & !3;
        self.cpu.state.r[14] = 0xffff_ffff;
        self.cpu.state.r[15] = pc & !1;
        self.cpu.state.thumb = pc & 1 != 0;
        self.cpu.icount = 0;
    }

    /// Instructions executed since reset.
    pub fn instructions(&self) -> u64 {
        self.cpu.icount
    }

    /// Virtual time since reset, in nanoseconds (one cycle per instruction).
    pub fn virtual_ns(&self) -> u64 {
        (u128::from(self.cpu.icount) * 1_000_000_000 / u128::from(self.board.cpu_hz.max(1))) as u64
    }

    /// Run at most `budget` instructions.
    pub fn run(&mut self, budget: u64) -> Exit {
        let end = self.cpu.icount.saturating_add(budget);
        loop {
            let left = end.saturating_sub(self.cpu.icount);
            if left == 0 {
                return Exit::Budget;
            }
            match self.cpu.run(&mut self.mem, left) {
                StopReason::Budget => return Exit::Budget,
                StopReason::Bkpt { imm: 0xab } if self.semihosting_enabled => {
                    if let Some(exit) = self.semihosting_call() {
                        return exit;
                    }
                }
                StopReason::Bkpt { imm: 0xab } => {
                    return Exit::Unsupported(
                        "semihosting call (BKPT #0xab) with semihosting disabled (for QEMU command lines: add -semihosting)"
                            .into(),
                    )
                }
                StopReason::Bkpt { imm } => return Exit::Breakpoint(imm),
                StopReason::Svc { imm } => {
                    return Exit::Unsupported(format!(
                        "SVC #{imm} at {}: exceptions are not emulated yet",
                        self.location(self.cpu.state.r[15].wrapping_sub(2))
                    ))
                }
                // No interrupt can be pending yet, so WFI/WFE behave as NOPs (which the
                // architecture allows).
                StopReason::Wfi | StopReason::Wfe | StopReason::Sync => {}
                StopReason::Fault(f) => return Exit::Fault(f),
                StopReason::ExceptionReturn { exc_return } => {
                    return Exit::Unsupported(format!(
                        "exception return ({exc_return:#010x}) outside an exception"
                    ))
                }
            }
        }
    }

    /// Run until the firmware exits or a limit is reached.
    pub fn run_to_end(&mut self, limits: &Limits<'_>) -> Outcome {
        let max = limits.max_instructions.unwrap_or(u64::MAX);
        loop {
            let left = max.saturating_sub(self.cpu.icount);
            if left == 0 {
                return Outcome::InstructionLimit(max);
            }
            match self.run(left.min(CHUNK)) {
                Exit::Budget => {}
                Exit::Exited(code) => return Outcome::Exited(code),
                other => return Outcome::Guest(other),
            }
            if limits
                .deadline
                .is_some_and(|d| std::time::Instant::now() >= d)
            {
                return Outcome::Timeout;
            }
            if let Some(flag) = limits.stop {
                let v = flag.load(std::sync::atomic::Ordering::Relaxed);
                if v != 0 {
                    return Outcome::Interrupted(v);
                }
            }
        }
    }

    fn semihosting_call(&mut self) -> Option<Exit> {
        let op = self.cpu.state.r[0];
        let param = self.cpu.state.r[1];
        let mut bus = TrackingBus {
            mem: &mut self.mem,
            writes: Vec::new(),
        };
        let outcome = self.semihosting.call(op, param, &mut bus, self.cpu.icount);
        let writes = std::mem::take(&mut bus.writes);
        for (addr, len) in writes {
            self.cpu.invalidate(addr, len);
        }
        self.cpu.step_over_bkpt();
        match outcome {
            semihosting::Outcome::Return(v) => {
                self.cpu.state.r[0] = v;
                None
            }
            semihosting::Outcome::Exit(code) => Some(Exit::Exited(code)),
        }
    }

    /// `symbol+0xoff (0xaddr)` for an address.
    pub fn location(&self, addr: u32) -> String {
        match self.symbols.lookup(addr) {
            Some((name, 0)) => format!("{addr:#010x} <{name}>"),
            Some((name, off)) => format!("{addr:#010x} <{name}+{off:#x}>"),
            None => format!("{addr:#010x}"),
        }
    }

    /// The last traced instructions, disassembled, one per line (see `Cpu::enable_trace`).
    pub fn trace_report(&mut self) -> String {
        let mut out = String::new();
        for pc in self.cpu.traced() {
            let line = match armlet_cpu::decode_at(&mut self.mem, pc, 0) {
                Ok(i) => i.disasm(),
                Err(_) => "<cannot fetch>".into(),
            };
            let _ = writeln!(out, "  {}: {line}", self.location(pc));
        }
        out
    }

    /// A multi-line report of the core's state: registers, the instruction at PC
    /// (disassembled) and the nearest symbol.
    pub fn state_report(&mut self) -> String {
        let s = &self.cpu.state;
        let mut out = String::new();
        for row in 0..4 {
            for col in 0..4 {
                let i = row * 4 + col;
                let name = armlet_cpu::ops::REG_NAMES[i];
                let _ = write!(out, "  {name:>3}={:08x}", s.r[i]);
            }
            out.push('\n');
        }
        let flags: String = [(s.n, 'N'), (s.z, 'Z'), (s.c, 'C'), (s.v, 'V'), (s.q, 'Q')]
            .iter()
            .map(|&(b, c)| if b { c } else { c.to_ascii_lowercase() })
            .collect();
        let _ = writeln!(
            out,
            "  xpsr={:08x} [{flags}] msp={:08x} psp={:08x} primask={} control={}",
            s.xpsr(),
            s.msp(),
            s.psp(),
            s.primask as u8,
            s.control
        );
        let pc = s.r[15];
        let insn = match self.cpu.current_insn(&mut self.mem) {
            Ok(i) => {
                let bytes = if i.len == 4 {
                    format!("{:08x}", i.raw)
                } else {
                    format!("{:04x}    ", i.raw)
                };
                format!("{bytes}  {}", i.disasm())
            }
            Err(_) => "<cannot fetch>".into(),
        };
        let _ = writeln!(out, "  at {}: {insn}", self.location(pc));
        let _ = write!(
            out,
            "  after {} instructions ({} ns virtual time)",
            self.cpu.icount,
            self.virtual_ns()
        );
        out
    }
}
