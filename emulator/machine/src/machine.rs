//! The machine: CPU + bus + system control space + devices + semihosting, the exception
//! model (ARMv7-M ARM B1.5) and the run loop with virtual time.

use crate::board::{Board, RegionKind};
use crate::device::Serial;
use crate::io::{exc, EventOwner};
use crate::loader::{load_elf, Image, LoadError, Symbols};
use crate::memory::{Memory, MemoryMapError};
use crate::scs::{cfsr, dfsr, hfsr, Access, Mpu};
use crate::semihosting::{self, Console, HeapInfo, SemihostConfig, Semihosting, SharedConsole};
use crate::spin::ProofBus;
use armlet_cpu::{Bus, BusError, Cpu, Fault, StackingError, StopReason};
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
    /// Serial backends for UARTs by device name; the console UART defaults to the console,
    /// other UARTs to nothing.
    pub serial: Vec<(String, Box<dyn SerialFactory>)>,
    /// Pace virtual time to the wall clock.
    pub realtime: bool,
    /// Plugin libraries whose device types machine files may use (`--plugin PATH`).
    pub plugins: Vec<PathBuf>,
    /// Every UNPREDICTABLE encoding is UNDEFINED (`--strict`), instead of executing those
    /// that Cortex-M cores and QEMU execute (`emulator/cpu/UNPREDICTABLE.md`).
    pub strict: bool,
    /// Enable the ITM at reset as a debug probe does (`--itm`; see [`crate::scs::Scs::set_itm_probe`]).
    pub itm: bool,
    /// ITM stimulus ports written to files (created or truncated) instead of the default:
    /// port 0 to the console, the others nowhere (`--itm-port N=PATH`).
    pub itm_ports: Vec<(u8, PathBuf)>,
}

/// Makes a serial backend for a UART (called once per machine build and reset-safe).
pub trait SerialFactory: Send + Sync + std::fmt::Debug {
    /// The backend; `console` is the machine's console, for `stdio`.
    fn open(&self, console: &SharedConsole) -> Box<dyn Serial>;
    /// A copy of this factory.
    fn clone_box(&self) -> Box<dyn SerialFactory>;
}

impl Clone for Box<dyn SerialFactory> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// Why [`Machine::run`] returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// The firmware exited through semihosting with this status.
    Exited(i32),
    /// The instruction budget given to `run` is used up.
    Budget,
    /// A fault the core could not handle: it locked up (a fault inside HardFault or NMI,
    /// or with FAULTMASK set), or it is spinning in a fault handler's `b .` loop with
    /// nothing that could ever preempt it.
    Fault(Fault),
    /// Lockup (B1.5.15): a fault at priority -1 or higher; execution cannot continue.
    Lockup(Fault),
    /// The core sleeps (WFI/WFE, or spins in `b .`) and nothing can ever wake it.
    Deadlock,
    /// A BKPT instruction other than semihosting.
    Breakpoint(u8),
    /// A debugger breakpoint address was reached (PC is at it; it has not executed).
    DebugBreakpoint,
    /// A debugger watchpoint matched an access of the instruction at PC (which has not
    /// executed).
    Watchpoint {
        /// The address accessed.
        addr: u32,
        /// A write (true) or a read.
        write: bool,
    },
    /// The guest did something armlet does not support yet.
    Unsupported(String),
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exit::Fault(fault) => write!(
                f,
                "guest fault: {fault} (the core is stuck in its fault handler with nothing that could preempt it)"
            ),
            Exit::Lockup(fault) => write!(
                f,
                "lockup: {fault}, raised at priority -1 or higher (in HardFault or NMI, or with FAULTMASK set)"
            ),
            Exit::Deadlock => write!(
                f,
                "deadlock: the core sleeps (WFI/WFE) or spins in a loop that changes nothing, and no interrupt or event can ever wake it"
            ),
            Exit::Breakpoint(imm) => {
                write!(f, "guest hit BKPT #{imm:#x} with no debugger attached")
            }
            Exit::DebugBreakpoint => write!(f, "breakpoint"),
            Exit::Watchpoint { addr, write } => write!(
                f,
                "watchpoint: {} {addr:#010x}",
                if *write { "write to" } else { "read from" }
            ),
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
    /// Deadlock: the core sleeps with nothing that could wake it.
    pub const DEADLOCK: i32 = 123;
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
            Outcome::Guest(Exit::Deadlock) => exit_code::DEADLOCK,
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
    /// Stop after this many cycles of virtual time since reset.
    pub max_cycles: Option<u64>,
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

/// Virtual cycles per `run` call inside [`Machine::run_to_end`]: limits and the stop flag
/// are checked this often (a few milliseconds).
const CHUNK: u64 = 1 << 20;

/// Errors building a machine or loading firmware.
#[derive(Debug, thiserror::Error)]
pub enum MachineError {
    /// The board's memory map is inconsistent.
    #[error("bad memory map: {0}")]
    MemoryMap(#[from] MemoryMapError),
    /// The board's devices or serial settings cannot be built.
    #[error("{0}")]
    Board(String),
    /// The ELF could not be loaded.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// A segment of the ELF lies outside the board's memory: the error with the board's
    /// regions and the machine-file way to give it memory there.
    #[error("{0}")]
    OutsideMemory(String),
}

/// A board with firmware in it.
#[derive(Debug)]
pub struct Machine {
    /// The core.
    pub cpu: Cpu,
    /// The system bus, with the SCS, the NVIC state, the devices and virtual time.
    pub mem: Memory,
    /// Semihosting state (open files, console).
    pub semihosting: Semihosting,
    /// The board description.
    pub board: Board,
    /// Symbols of the loaded image.
    pub symbols: Symbols,
    image: Option<Image>,
    semihosting_enabled: bool,
    /// Asleep in WFI (false) or WFE (true).
    sleeping: Option<bool>,
    /// The last fault taken, for reports when the core gets stuck in its handler.
    /// (fault, PC, IPSR when it was raised).
    last_fault: Option<(Fault, u32, u16)>,
    /// Where and why the core deadlocked (for the report), once it has.
    deadlock: Option<String>,
    /// Wall-clock pacing (`--realtime`): the instant virtual time 0 corresponds to.
    realtime: Option<std::time::Instant>,
    console: SharedConsole,
    /// Debugger state: watchpoints and stepping options.
    pub debug: DebugState,
    /// Run the next instruction without watchpoint checks (resuming from a watchpoint).
    skip_watch: bool,
    /// Single-stepping without interrupts (`step_irq` off).
    stepping_masked: bool,
    /// A debugger step: the run ends once its instruction has executed or raised an
    /// exception (a faulting instruction consumes no cycle, so the budget alone would let
    /// the handler's first instruction run too).
    single_step: bool,
    /// For each active exception, innermost last: where the core stacked the frame it
    /// entered the handler on ([`Machine::entry_frame`]).
    entry_frames: Vec<EntryFrame>,
    /// The cycle count at which the run loop next looks for a spin that nothing can
    /// end ([`Machine::prove_spin`]).
    spin_check_at: u64,
}

/// An exception frame the core stacked on exception entry (B1.5.6): what the debugger's
/// fault report decodes, whatever the handler has done to SP and LR since.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryFrame {
    /// The frame's address (the stacked R0).
    pub addr: u32,
    /// The EXC_RETURN value the core put in LR on entry (bit 2: the frame is on the PSP;
    /// bit 4 clear: an extended frame with the FP registers).
    pub exc_return: u32,
}

/// What a watchpoint watches for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchKind {
    /// Writes.
    Write,
    /// Reads.
    Read,
    /// Reads and writes.
    Access,
}

/// A debugger watchpoint on `[addr, addr + len)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Watch {
    /// First address.
    pub addr: u32,
    /// Length in bytes.
    pub len: u32,
    /// What it matches.
    pub kind: WatchKind,
}

/// Debugger state kept by the machine.
#[derive(Debug, Clone)]
pub struct DebugState {
    /// Watchpoints; every data access of the core is checked against them.
    pub watchpoints: Vec<Watch>,
    /// Whether interrupts may be taken during a single step (`monitor step-irq`).
    pub step_irq: bool,
}

impl Default for DebugState {
    fn default() -> Self {
        DebugState {
            watchpoints: Vec::new(),
            step_irq: true,
        }
    }
}

/// A bus that stops accesses matching a watchpoint before they happen.
struct WatchBus<'a, B: Bus> {
    inner: &'a mut B,
    watches: &'a [Watch],
}

impl<B: Bus> WatchBus<'_, B> {
    #[inline]
    fn check(&self, addr: u32, size: u32, write: bool) -> Result<(), BusError> {
        let hit = self.watches.iter().any(|w| {
            let kind_ok = match w.kind {
                WatchKind::Write => write,
                WatchKind::Read => !write,
                WatchKind::Access => true,
            };
            kind_ok
                && u64::from(addr) < u64::from(w.addr) + u64::from(w.len.max(1))
                && u64::from(w.addr) < u64::from(addr) + u64::from(size)
        });
        if hit {
            Err(BusError::Watch)
        } else {
            Ok(())
        }
    }
}

impl<B: Bus> Bus for WatchBus<'_, B> {
    fn fp_control(&mut self) -> armlet_cpu::fpstate::FpControl {
        self.inner.fp_control()
    }
    fn set_fp_control(&mut self, ctl: armlet_cpu::fpstate::FpControl) {
        self.inner.set_fp_control(ctl);
    }
    fn at_instruction(&mut self, icount: u64) {
        self.inner.at_instruction(icount);
    }
    fn read8(&mut self, addr: u32) -> Result<u8, BusError> {
        self.check(addr, 1, false)?;
        self.inner.read8(addr)
    }
    fn read16(&mut self, addr: u32) -> Result<u16, BusError> {
        self.check(addr, 2, false)?;
        self.inner.read16(addr)
    }
    fn read32(&mut self, addr: u32) -> Result<u32, BusError> {
        self.check(addr, 4, false)?;
        self.inner.read32(addr)
    }
    fn write8(&mut self, addr: u32, val: u8) -> Result<(), BusError> {
        self.check(addr, 1, true)?;
        self.inner.write8(addr, val)
    }
    fn write16(&mut self, addr: u32, val: u16) -> Result<(), BusError> {
        self.check(addr, 2, true)?;
        self.inner.write16(addr, val)
    }
    fn write32(&mut self, addr: u32, val: u32) -> Result<(), BusError> {
        self.check(addr, 4, true)?;
        self.inner.write32(addr, val)
    }
    fn fetch16(&mut self, addr: u32) -> Result<u16, BusError> {
        self.inner.fetch16(addr)
    }
    fn unprivileged_access(&mut self, on: bool) {
        self.inner.unprivileged_access(on);
    }
}

/// How often, in cycles (instructions and time asleep), the run loop looks for a loop that
/// nothing can end
/// ([`Machine::prove_spin`]).
const SPIN_CHECK_INTERVAL: u64 = 1 << 22;
/// The most instructions the spin proof single-steps (the longest loop it recognises).
const SPIN_PROOF_STEPS: u64 = 256;

/// What [`Machine::prove_spin`] found.
enum Spin {
    /// The core repeats a state forever: the run ends with this.
    Stuck(Exit),
    /// A stepped instruction stopped the core (an exception, a semihosting call...): the
    /// run loop handles it as if the core had run normally.
    Stop(StopReason),
    /// Nothing proven (or not tried); the core ran normally.
    Unproven,
}

/// Run the core on `bus`, through a [`WatchBus`] when watchpoints are set.
fn run_on<B: Bus>(cpu: &mut Cpu, bus: &mut B, watches: &[Watch], n: u64) -> StopReason {
    if watches.is_empty() {
        cpu.run(bus, n)
    } else {
        cpu.run(
            &mut WatchBus {
                inner: bus,
                watches,
            },
            n,
        )
    }
}

/// A bus that remembers where semihosting wrote guest memory, so decoded code there is
/// dropped.
struct TrackingBus<'a> {
    mem: &'a mut Memory,
    writes: Vec<(u32, u32)>,
}

impl Bus for TrackingBus<'_> {
    fn fp_control(&mut self) -> armlet_cpu::fpstate::FpControl {
        self.mem.fp_control()
    }
    fn set_fp_control(&mut self, ctl: armlet_cpu::fpstate::FpControl) {
        self.mem.set_fp_control(ctl);
    }
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

/// The bus as the core sees it with the MPU enabled: every access checked against the
/// regions (B3.5) for the current privilege. Built afresh for each run, since MPU
/// reconfiguration and privilege changes stop the core.
struct MpuBus<'a> {
    mem: &'a mut Memory,
    mpu: Mpu,
    privileged: bool,
}

impl MpuBus<'_> {
    #[inline]
    fn check(&self, addr: u32, size: u32, access: Access) -> Result<(), BusError> {
        let last = addr.wrapping_add(size - 1);
        if self.mpu.allows(addr, access, self.privileged)
            && (last == addr || self.mpu.allows(last, access, self.privileged))
        {
            Ok(())
        } else {
            Err(BusError::Mpu)
        }
    }
}

impl Bus for MpuBus<'_> {
    fn fp_control(&mut self) -> armlet_cpu::fpstate::FpControl {
        self.mem.fp_control()
    }
    fn set_fp_control(&mut self, ctl: armlet_cpu::fpstate::FpControl) {
        self.mem.set_fp_control(ctl);
    }
    fn at_instruction(&mut self, icount: u64) {
        self.mem.at_instruction(icount);
    }
    fn read8(&mut self, addr: u32) -> Result<u8, BusError> {
        self.check(addr, 1, Access::Read)?;
        self.mem.read8(addr)
    }
    fn read16(&mut self, addr: u32) -> Result<u16, BusError> {
        self.check(addr, 2, Access::Read)?;
        self.mem.read16(addr)
    }
    fn read32(&mut self, addr: u32) -> Result<u32, BusError> {
        self.check(addr, 4, Access::Read)?;
        self.mem.read32(addr)
    }
    fn write8(&mut self, addr: u32, val: u8) -> Result<(), BusError> {
        self.check(addr, 1, Access::Write)?;
        self.mem.write8(addr, val)
    }
    fn write16(&mut self, addr: u32, val: u16) -> Result<(), BusError> {
        self.check(addr, 2, Access::Write)?;
        self.mem.write16(addr, val)
    }
    fn write32(&mut self, addr: u32, val: u32) -> Result<(), BusError> {
        self.check(addr, 4, Access::Write)?;
        self.mem.write32(addr, val)
    }
    fn fetch16(&mut self, addr: u32) -> Result<u16, BusError> {
        self.check(addr, 2, Access::Exec)?;
        self.mem.fetch16(addr)
    }
    fn unprivileged_access(&mut self, on: bool) {
        self.privileged = !on;
        self.mem.unprivileged_access(on);
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

/// The status bits, fault address and exception a synchronous fault raises.
fn classify(f: Fault) -> (usize, u32, Option<u32>) {
    match f {
        Fault::UndefinedInstruction { .. } => (exc::USAGEFAULT, cfsr::UNDEFINSTR, None),
        Fault::InvalidState => (exc::USAGEFAULT, cfsr::INVSTATE, None),
        Fault::InvalidPc => (exc::USAGEFAULT, cfsr::INVPC, None),
        Fault::NoCoprocessor { .. } => (exc::USAGEFAULT, cfsr::NOCP, None),
        Fault::Unaligned { .. } => (exc::USAGEFAULT, cfsr::UNALIGNED, None),
        Fault::DivideByZero => (exc::USAGEFAULT, cfsr::DIVBYZERO, None),
        Fault::LazyStacking { error: None, .. } => (exc::USAGEFAULT, cfsr::NOCP, None),
        Fault::LazyStacking {
            error: Some(BusError::Mpu),
            ..
        } => (exc::MEMMANAGE, cfsr::MLSPERR, None),
        Fault::LazyStacking { .. } => (exc::BUSFAULT, cfsr::LSPERR, None),
        Fault::DataBus {
            addr,
            error: BusError::Mpu,
            ..
        } => (exc::MEMMANAGE, cfsr::DACCVIOL | cfsr::MMARVALID, Some(addr)),
        Fault::DataBus { addr, .. } => {
            (exc::BUSFAULT, cfsr::PRECISERR | cfsr::BFARVALID, Some(addr))
        }
        Fault::InstructionBus {
            error: BusError::Mpu,
            ..
        } => (exc::MEMMANAGE, cfsr::IACCVIOL, None),
        Fault::InstructionBus { .. } => (exc::BUSFAULT, cfsr::IBUSERR, None),
    }
}

impl Machine {
    /// Build a machine for `board`. Console I/O (semihosting, the console UART, ITM) goes
    /// to `console`.
    pub fn new(
        board: Board,
        opts: MachineOptions,
        console: Box<dyn Console>,
    ) -> Result<Machine, MachineError> {
        let console = SharedConsole::new(console);
        let mut mem = Memory::from_board(&board)?;
        mem.scs.set_itm_output(0, Box::new(console.clone()));
        for (port, path) in &opts.itm_ports {
            if *port > 31 {
                return Err(MachineError::Board(format!(
                    "--itm-port {port}: the ITM has stimulus ports 0-31"
                )));
            }
            let f = std::fs::File::create(path).map_err(|e| {
                MachineError::Board(format!("--itm-port {port}={}: {e}", path.display()))
            })?;
            mem.scs
                .set_itm_output(*port, Box::new(crate::serial::FileSerial(f)));
        }
        mem.scs.set_itm_probe(opts.itm);
        mem.scs.set_systick_ref_hz(board.systick_ref_hz);
        for (name, _) in &opts.serial {
            if !board.devices.iter().any(|d| &d.name == name) {
                let uarts: Vec<&str> = board.uart_names();
                return Err(MachineError::Board(format!(
                    "--serial {name}=...: {} has no device named '{name}' (its UARTs: {})",
                    board.name,
                    if uarts.is_empty() {
                        "none".to_string()
                    } else {
                        uarts.join(", ")
                    }
                )));
            }
        }
        let mut serial_for = |name: &str| -> Box<dyn Serial> {
            if let Some((_, f)) = opts.serial.iter().find(|(n, _)| n == name) {
                return f.open(&console);
            }
            if board.console.as_deref() == Some(name) {
                Box::new(console.clone())
            } else {
                Box::new(crate::device::NullSerial)
            }
        };
        for d in &board.devices {
            let built = if crate::plugin::is_plugin_device(d, &opts.plugins) {
                crate::plugin::create(d, &opts.plugins, board.cpu_hz)
            } else {
                crate::devices::create(d, &mut serial_for)
            }
            .map_err(MachineError::Board)?;
            let size = d.size.unwrap_or(built.size);
            if d.kind == "unimplemented" && d.irq.is_empty() {
                mem.add_filler_device(&d.name, d.base, size, built.device)
            } else {
                mem.add_device(&d.name, d.base, size, built.device, d.irq.clone())
            }
            .map_err(|e| MachineError::Board(format!("device '{}': {e}", d.name)))?;
        }
        let mut cpu = Cpu::with_features(armlet_cpu::Features {
            strict: opts.strict,
            ..board.cpu.features()
        });
        cpu.set_icache(!opts.no_icache);
        let config = SemihostConfig {
            root: opts.semihosting_root.clone(),
            allow_system: opts.allow_system,
            cmdline: opts.cmdline.join(" "),
            cpu_hz: board.cpu_hz,
            heap: HeapInfo::default(),
        };
        tracing::debug!(board = %board.name, "machine built");
        let mut m = Machine {
            cpu,
            mem,
            semihosting: Semihosting::new(config, Box::new(console.clone())),
            board,
            symbols: Symbols::default(),
            image: None,
            semihosting_enabled: !opts.no_semihosting,
            sleeping: None,
            last_fault: None,
            deadlock: None,
            realtime: opts.realtime.then(std::time::Instant::now),
            console,
            debug: DebugState::default(),
            skip_watch: false,
            stepping_masked: false,
            single_step: false,
            entry_frames: Vec::new(),
            spin_check_at: SPIN_CHECK_INTERVAL,
        };
        m.mem.reset();
        Ok(m)
    }

    /// The console shared by semihosting, the console UART and ITM.
    pub fn console(&self) -> SharedConsole {
        self.console.clone()
    }

    /// Load an ELF image and reset the core from its vector table.
    pub fn load_elf(&mut self, bytes: &[u8]) -> Result<(), MachineError> {
        let image = load_elf(bytes, &mut self.mem).map_err(|e| match e {
            LoadError::OutOfRange { addr, len } => {
                MachineError::OutsideMemory(self.outside_memory(&e, addr, len))
            }
            e => MachineError::Load(e),
        })?;
        for &(addr, len) in &image.segments {
            self.cpu.invalidate(addr, len);
        }
        self.symbols = image.symbols.clone();
        self.semihosting.set_heap(self.heap_info(&image));
        self.image = Some(image);
        self.reset();
        for w in self.image_warnings() {
            tracing::warn!("{w}");
        }
        Ok(())
    }

    /// The board's RAM (and mirrors of RAM), as "name 0xBASE..0xLAST" items.
    fn ram_ranges(&self) -> Vec<(&str, u32, u32)> {
        let regions = &self.board.regions;
        let is_ram = |base: u32| {
            regions
                .iter()
                .any(|t| t.base == base && t.kind == RegionKind::Ram)
        };
        regions
            .iter()
            .filter(|r| match r.kind {
                RegionKind::Ram => true,
                RegionKind::Alias(t) => is_ram(t),
                RegionKind::Rom => false,
            })
            .map(|r| {
                (
                    r.name.as_str(),
                    r.base,
                    (u64::from(r.base) + u64::from(r.size) - 1) as u32,
                )
            })
            .collect()
    }

    /// Mistakes in the loaded image that make the core fault at once or soon, found before
    /// it runs: FP code for a board without (that) FPU, an initial SP outside RAM, an empty
    /// vector table, a reset vector without the Thumb bit or outside memory.
    pub fn image_warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        let Some(img) = &self.image else { return out };
        let board = &self.board;
        let attrs = &img.attributes;
        let fpu = self.cpu.features().fpu;
        let cpu = board.cpu.name();
        const BOARDS: &str = "mps2-an386 (Cortex-M4F, single precision) and mps2-an500 (Cortex-M7, double precision)";
        if attrs.uses_fpu() && fpu == armlet_cpu::FpuKind::None {
            out.push(format!(
                "the ELF is built for hard float (Tag_FP_arch {}{}), but {} ({cpu}) has no FPU: its first FP instruction takes UsageFault NOCP. Boards with an FPU: {BOARDS}, e.g. --machine mps2-an386 (or build with -mfloat-abi=soft)",
                attrs.fp_arch_name(),
                if attrs.vfp_args == Some(1) { ", FP arguments in VFP registers" } else { "" },
                board.name
            ));
        } else if attrs.uses_double() && fpu == armlet_cpu::FpuKind::Fpv4Sp {
            out.push(format!(
                "the ELF may use double-precision FP instructions (Tag_FP_arch {}), but {} ({cpu}) has a single-precision FPU (FPv4-SP): they are UNDEFINED there. The board with a double-precision FPU: mps2-an500 (Cortex-M7), --machine mps2-an500",
                attrs.fp_arch_name(),
                board.name
            ));
        }
        let sp = peek32(&self.mem, 0);
        let pc = peek32(&self.mem, 4);
        let ram = self.ram_ranges();
        let ram_list = || {
            ram.iter()
                .map(|(n, a, b)| format!("{n} {a:#010x}..{b:#010x}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if sp == 0 && pc == 0 {
            out.push(format!(
                "the vector table at 0x00000000 is empty (initial SP and reset vector are 0): put the vector table first in the image at address 0 (a `.isr_vector`/`.vectors` section placed first by the linker script; for cortex-m-rt, its `memory.x` FLASH ORIGIN must be where {} has code memory)",
                board.name
            ));
        } else {
            let first_push = sp.wrapping_sub(4) & !3;
            if !ram.iter().any(|&(_, a, b)| (a..=b).contains(&first_push)) {
                out.push(format!(
                    "the initial SP (vector 0 at 0x00000000) is {sp:#010x}, which is not in RAM: the first push faults. {} RAM: {}",
                    board.name,
                    ram_list()
                ));
            }
            if pc != 0 && pc & 1 == 0 {
                out.push(format!(
                    "the reset vector (0x00000004) is {pc:#010x}, without the Thumb bit (bit 0): the core takes an INVSTATE UsageFault at once. Mark the reset handler as a Thumb function (`.thumb_func` or `.type Reset_Handler, %function` in assembly)"
                ));
            }
            let code = pc & !1;
            if pc != 0
                && !board.regions.iter().any(|r| {
                    u64::from(code) + 2 <= u64::from(r.base) + u64::from(r.size) && code >= r.base
                })
            {
                out.push(format!(
                    "the reset vector (0x00000004) is {pc:#010x}, where {} has no memory",
                    board.name
                ));
            }
        }
        out
    }

    /// The message for a segment at `addr` (`len` bytes) outside the board's memory: the
    /// board's regions, and the machine file that would give it memory there (an alias of
    /// the board's code memory, as an STM32 mirrors its flash at 0).
    fn outside_memory(&self, err: &LoadError, addr: u32, len: u32) -> String {
        let b = &self.board;
        let mut out = format!("{err}\n  {} has:", b.name);
        for r in &b.regions {
            let kind = match r.kind {
                RegionKind::Ram => "ram".to_string(),
                RegionKind::Rom => "rom".to_string(),
                RegionKind::Alias(t) => format!("alias of {t:#010x}"),
            };
            let _ = write!(
                out,
                "\n    {:<18} {:#010x}..{:#010x} ({kind})",
                r.name,
                r.base,
                u64::from(r.base) + u64::from(r.size) - 1
            );
        }
        // The memory to mirror there: the code memory at 0 for addresses below SRAM's
        // 0x2000_0000, else the largest RAM.
        let plain = |r: &&crate::board::RegionDesc| !matches!(r.kind, RegionKind::Alias(_));
        let target = if addr < 0x2000_0000 {
            b.regions
                .iter()
                .filter(plain)
                .find(|r| r.base == 0)
                .or_else(|| {
                    b.regions
                        .iter()
                        .filter(plain)
                        .find(|r| r.base < 0x2000_0000)
                })
        } else if addr < 0x4000_0000 || (0x6000_0000..0xA000_0000).contains(&addr) {
            b.regions
                .iter()
                .filter(|r| r.kind == RegionKind::Ram)
                .max_by_key(|r| r.size)
        } else {
            None // peripheral or system space: no memory to mirror there
        };
        let _ = write!(
            out,
            "\n  The firmware is linked for memory this board does not have: link it for the board \
             (see `armlet machines show {}`), or describe your memory in a machine file.",
            b.name
        );
        if let Some(t) = target {
            let base = if t.size.is_power_of_two() {
                addr & !(t.size - 1)
            } else {
                addr & !0xfff
            };
            let fits = u64::from(addr) + u64::from(len) <= u64::from(base) + u64::from(t.size);
            let start = if Board::builtin_source(&b.name).is_some() {
                format!(
                    "armlet machines show {} > board.toml\n    # append:",
                    b.name
                )
            } else {
                "# append to your machine file (board.toml):".to_string()
            };
            let _ = write!(
                out,
                "\n  For example, to mirror '{}' at {base:#010x} (as an STM32 mirrors its flash at 0):\n\
                 \x20   {start}\n\
                 \x20   [[region]]\n\
                 \x20   name = \"{}-at-{base:x}\"\n\
                 \x20   base = {base:#010x}\n\
                 \x20   size = {:#x}\n\
                 \x20   kind = \"alias\"\n\
                 \x20   target = {:#010x}\n\
                 \x20   armlet run FIRMWARE --machine-file board.toml",
                t.name,
                t.name,
                t.size,
                t.base
            );
            if !fits {
                let _ = write!(
                    out,
                    "\n  ('{}' is {:#x} bytes: too small for this segment; add a larger `ram` or `rom` region instead)",
                    t.name, t.size
                );
            }
        }
        out
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

    /// Power-on reset of the core only: SP and PC from the vector table at address 0
    /// (B1.5.5). The instruction count and virtual time start again from zero.
    pub fn reset(&mut self) {
        self.mem.reset();
        self.mem.io.slept = 0;
        self.cpu.icount = 0;
        self.reset_core();
    }

    /// System reset requested by the guest (AIRCR.SYSRESETREQ): the SCS, the NVIC and
    /// every device return to their reset state and the core restarts from the vector
    /// table; memory and virtual time go on.
    pub fn system_reset(&mut self) {
        tracing::info!("system reset requested by the guest (AIRCR.SYSRESETREQ)");
        self.mem.reset();
        self.reset_core();
    }

    fn reset_core(&mut self) {
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
        self.cpu.state = armlet_cpu::CpuState::default();
        self.entry_frames.clear();
        self.cpu.state.r[13] = sp & !3;
        self.cpu.state.r[14] = 0xffff_ffff;
        self.cpu.state.r[15] = pc & !1;
        self.cpu.state.thumb = pc & 1 != 0;
        self.cpu.state.fp.kind = self.cpu.features().fpu;
        self.sleeping = None;
        self.last_fault = None;
        self.deadlock = None;
        self.sync_config();
    }

    /// Copy the SCS configuration the core caches (CCR traps, priority bits).
    fn sync_config(&mut self) {
        let ccr = self.mem.scs.ccr;
        let c = &mut self.cpu.state.config;
        c.unalign_trp = ccr & (1 << 3) != 0;
        c.div_0_trp = ccr & (1 << 4) != 0;
        c.prio_mask = self.mem.io.nvic.prio_mask();
        self.mem.scs.config_changed = false;
        if std::mem::take(&mut self.mem.scs.mpu_changed) {
            // Execute permissions were checked when blocks were decoded.
            self.cpu.flush_icache();
        }
    }

    /// Instructions executed since reset.
    pub fn instructions(&self) -> u64 {
        self.cpu.icount
    }

    /// Virtual time in CPU cycles since reset (instructions plus time asleep).
    pub fn cycles(&self) -> u64 {
        self.cpu.icount + self.mem.io.slept
    }

    /// Virtual time since reset, in nanoseconds.
    pub fn virtual_ns(&self) -> u64 {
        (u128::from(self.cycles()) * 1_000_000_000 / u128::from(self.board.cpu_hz.max(1))) as u64
    }

    fn execution_priority(&self) -> i32 {
        let s = &self.cpu.state;
        self.mem
            .io
            .nvic
            .execution_priority(s.primask, s.faultmask, s.basepri)
    }

    /// Run at most `budget` cycles of virtual time (instructions, plus time asleep).
    pub fn run(&mut self, budget: u64) -> Exit {
        let start = self.cycles();
        let mut end = start.saturating_add(budget);
        self.mem.io.attention = true;
        loop {
            if let Some(exit) = self.service() {
                return exit;
            }
            let now = self.cycles();
            if now >= end {
                return Exit::Budget;
            }
            if let Some(wfe) = self.sleeping {
                if let Some(exit) = self.sleep(wfe, end) {
                    return exit;
                }
                continue;
            }
            let mut proof_stop = None;
            if now >= self.spin_check_at {
                self.spin_check_at = now.saturating_add(SPIN_CHECK_INTERVAL);
                match self.prove_spin(end) {
                    Spin::Stuck(exit) => return exit,
                    Spin::Stop(stop) => proof_stop = Some(stop),
                    Spin::Unproven => continue,
                }
            }
            let stop = if let Some(stop) = proof_stop {
                stop
            } else {
                let mut n = (end - now).min(self.spin_check_at.saturating_sub(now).max(1));
                if let Some(due) = self.mem.io.events.next_due() {
                    n = n.min(due.saturating_sub(now).max(1));
                }
                let s = &self.cpu.state;
                self.mem.io.ipsr = s.ipsr;
                self.mem.io.privileged = s.privileged();
                let exec_prio = self.execution_priority();
                let watches: &[Watch] = if std::mem::take(&mut self.skip_watch) {
                    n = 1;
                    &[]
                } else {
                    &self.debug.watchpoints
                };
                let mpu_active = self.mem.scs.mpu.active(exec_prio);
                // Blocks decoded under the MPU (privileged or not) and without it are kept apart.
                self.cpu.fetch_domain = match (mpu_active, self.cpu.state.privileged()) {
                    (false, _) => 0,
                    (true, true) => 1 << 62,
                    (true, false) => 3 << 62,
                };
                let stop = if mpu_active {
                    let mut bus = MpuBus {
                        mpu: self.mem.scs.mpu.clone(),
                        privileged: self.cpu.state.privileged(),
                        mem: &mut self.mem,
                    };
                    run_on(&mut self.cpu, &mut bus, watches, n)
                } else {
                    run_on(&mut self.cpu, &mut self.mem, watches, n)
                };
                self.mem.io.icount = self.cpu.icount;
                stop
            };
            match stop {
                StopReason::Budget => {}
                StopReason::Sync => self.mem.io.attention = true,
                StopReason::Bkpt { imm: 0xab } if self.semihosting_enabled => {
                    if let Some(exit) = self.semihosting_call() {
                        return exit;
                    }
                }
                StopReason::Bkpt { imm }
                    if self.mem.scs.monitor_enabled() && !self.mem.scs.debugger_attached =>
                {
                    if let Some(exit) = self.bkpt_debug_event(imm) {
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
                StopReason::Svc { .. } => {
                    if let Some(exit) = self.raise(exc::SVCALL, None) {
                        return exit;
                    }
                }
                StopReason::Wfi => self.sleeping = Some(false),
                StopReason::Wfe => {
                    self.sleeping = Some(true);
                    self.mem.io.pended = false;
                }
                StopReason::Idle => {
                    if let Some(exit) = self.idle(end) {
                        return exit;
                    }
                }
                StopReason::Fault(Fault::DataBus {
                    addr,
                    write,
                    error: BusError::Watch,
                }) => return Exit::Watchpoint { addr, write },
                StopReason::Fault(f @ Fault::LazyStacking { .. }) => {
                    if let Some(exit) = self.lazy_fp_fault(f) {
                        return exit;
                    }
                }
                StopReason::Breakpoint => return Exit::DebugBreakpoint,
                StopReason::Fault(f) => {
                    if let Some(exit) = self.fault(f) {
                        return exit;
                    }
                }
                StopReason::ExceptionReturn { exc_return } => {
                    if let Some(exit) = self.exception_return(exc_return) {
                        return exit;
                    }
                }
            }
            if self.single_step {
                // The stepped instruction is done, or raised an exception that has been
                // entered: the step ends at the handler's first instruction (as on
                // silicon and QEMU), once pending interrupts the step may take are taken.
                end = end.min(self.cycles());
            }
        }
    }

    /// Between instructions: deliver due events, act on reset requests and configuration
    /// changes, and take the highest-priority pending exception if it preempts.
    fn service(&mut self) -> Option<Exit> {
        let now = self.cycles();
        self.mem.io.icount = self.cpu.icount;
        while let Some((_, owner, token)) = self.mem.io.events.pop_due(now) {
            match owner {
                EventOwner::SysTick => self.mem.scs.systick_event(&mut self.mem.io),
                EventOwner::Device(i) => self.mem.device_event(i, token),
            }
        }
        for (addr, len) in std::mem::take(&mut self.mem.io.dma_writes) {
            self.cpu.invalidate(addr, len);
        }
        if self.mem.scs.reset_requested {
            self.system_reset();
        }
        if self.mem.scs.config_changed {
            self.sync_config();
        }
        if !self.mem.io.attention || self.stepping_masked {
            return None;
        }
        self.mem.io.attention = false;
        while let Some(e) = self.mem.io.nvic.to_take(self.execution_priority()) {
            self.sleeping = None;
            if let Some(exit) = self.take(e) {
                return Some(exit);
            }
        }
        None
    }

    /// Asleep: wake for an exception that would preempt if PRIMASK were clear (B1.5.19),
    /// for WFE also for the event register; otherwise skip virtual time to the next event.
    fn sleep(&mut self, wfe: bool, end: u64) -> Option<Exit> {
        if wfe && self.mem.scs.scr & (1 << 4) != 0 && std::mem::take(&mut self.mem.io.pended) {
            // SEVONPEND: an exception that became pending since the WFE (even one that is
            // disabled or cannot preempt) is a wake-up event (B1.5.18).
            self.cpu.state.event = true;
        }
        let s = &self.cpu.state;
        let prio = self
            .mem
            .io
            .nvic
            .execution_priority(false, s.faultmask, s.basepri);
        let wake = self.mem.io.nvic.to_take(prio).is_some()
            || (wfe && std::mem::take(&mut self.cpu.state.event));
        if wake {
            self.sleeping = None;
            self.mem.io.attention = true;
            return None;
        }
        // With SEVONPEND, WFE also wakes for an interrupt that becomes pending without
        // being able to preempt (even a disabled one).
        let any = wfe && self.mem.scs.scr & (1 << 4) != 0;
        if !self.wake_possible(prio, any) {
            return Some(self.stuck(if wfe { "WFE" } else { "WFI" }, prio));
        }
        let Some(due) = self.mem.io.events.next_due() else {
            return self.wait_for_wake();
        };
        let target = due.min(end);
        let now = self.cycles();
        if target > now {
            self.mem.io.slept += target - now;
            self.pace();
        }
        None
    }

    /// The core spins in `b .`: skip to the next event, counting the skipped cycles as
    /// executed instructions (one per cycle), or report a deadlock or a stuck fault handler
    /// when nothing can ever preempt the loop ([`Machine::wake_possible`]).
    fn idle(&mut self, end: u64) -> Option<Exit> {
        if self.cpu.state.itstate != 0 {
            self.cpu.step_idle();
            return None;
        }
        let prio = self.execution_priority();
        if self.mem.io.nvic.to_take(prio).is_some() {
            self.mem.io.attention = true;
            self.cpu.step_idle();
            return None;
        }
        if !self.wake_possible(prio, false) {
            return Some(self.stuck("a `b .` loop", prio));
        }
        let now = self.cycles();
        match self.mem.io.events.next_due() {
            Some(due) => {
                let target = due.min(end).max(now + 1);
                self.cpu.icount += target - now;
                self.mem.io.icount = self.cpu.icount;
                self.pace();
                None
            }
            None => self.wait_for_wake(),
        }
    }

    /// Does the core spin forever in a loop that nothing can end? Tried every
    /// [`SPIN_CHECK_INTERVAL`] instructions, and only when nothing can preempt the core
    /// ([`Machine::wake_possible`] is false, nothing pending can be taken, no device with a
    /// scheduled event may write memory, no debugger, no MPU): then the core is
    /// single-stepped for up to [`SPIN_PROOF_STEPS`] instructions on a [`ProofBus`]. If its
    /// whole architectural state (registers, flags, ITSTATE, masks, CONTROL, the exclusive
    /// monitor, the FP registers) repeats with every access in between to plain RAM/ROM and
    /// no store changing memory, the same instructions will run again forever: it is the
    /// deadlock of a `b .` loop ([`Machine::stuck`]). Otherwise the steps were ordinary
    /// execution (a step that stops the core, e.g. on an exception, is handed back to the
    /// run loop). `end`: the run's end in cycles, not to be overrun.
    fn prove_spin(&mut self, end: u64) -> Spin {
        if self.single_step
            || self.stepping_masked
            || self.skip_watch
            || !self.debug.watchpoints.is_empty()
            || !self.cpu.breakpoints().is_empty()
            || self.mem.scs.debugger_attached
            || self.cpu.state.itstate != 0
        {
            return Spin::Unproven;
        }
        let prio = self.execution_priority();
        if self.mem.scs.mpu.active(prio)
            || self.mem.io.nvic.to_take(prio).is_some()
            || self.wake_possible(prio, false)
        {
            return Spin::Unproven;
        }
        let dma = self.mem.io.events.owners().any(|o| match o {
            EventOwner::SysTick => false,
            EventOwner::Device(i) => self.mem.device_may_dma(i),
        });
        if dma {
            return Spin::Unproven;
        }
        let now = self.cycles();
        // Stop before the next event is due (it is delivered between instructions) and
        // before the run's end.
        let mut steps = SPIN_PROOF_STEPS.min(end.saturating_sub(now));
        if let Some(due) = self.mem.io.events.next_due() {
            steps = steps.min(due.saturating_sub(now));
        }
        let s = &self.cpu.state;
        self.mem.io.ipsr = s.ipsr;
        self.mem.io.privileged = s.privileged();
        self.cpu.fetch_domain = 0;
        // The states seen, and their PCs apart (a cheap scan before a full comparison).
        let mut seen = vec![self.cpu.state.clone()];
        let mut pcs = vec![self.cpu.state.r[15]];
        for _ in 0..steps {
            let mut bus = ProofBus::new(&mut self.mem);
            let stop = self.cpu.run(&mut bus, 1);
            let plain = !bus.foreign && !bus.changed;
            self.mem.io.icount = self.cpu.icount;
            if !matches!(stop, StopReason::Budget) {
                return Spin::Stop(stop);
            }
            if !plain {
                return Spin::Unproven;
            }
            let pc = self.cpu.state.r[15];
            let again = pcs
                .iter()
                .enumerate()
                .position(|(i, &p)| p == pc && seen[i] == self.cpu.state);
            if let Some(i) = again {
                let how = format!(
                    "a loop of {} instructions that changes nothing",
                    seen.len() - i
                );
                return Spin::Stuck(self.stuck(&how, prio));
            }
            seen.push(self.cpu.state.clone());
            pcs.push(pc);
        }
        Spin::Unproven
    }

    /// Can anything that goes on without the core ever pend an exception whose group
    /// priority beats `prio` (B1.5.4)? The core itself cannot: it spins in `b .` or sleeps,
    /// so SVCall, PendSV, NMI and the faults stay as they are, and so do the enables,
    /// priorities and masks. What can: SysTick (its event is scheduled only with TICKINT
    /// set) and each device with a scheduled event, through the NVIC lines its outputs
    /// drive. While a device may signal from another thread (a plugin's worker), what it
    /// will do is unknown: the machine keeps waiting for it, as before. `any`: any pending
    /// at all counts (WFE with SCR.SEVONPEND).
    fn wake_possible(&self, prio: i32, any: bool) -> bool {
        let nvic = &self.mem.io.nvic;
        let beats = |e: usize| {
            e < nvic.len() && (any || (nvic.enabled[e] && nvic.group(nvic.priority(e)) < prio))
        };
        let device_can = |i: usize| {
            self.mem
                .device_irqs(i)
                .iter()
                .any(|&l| beats(exc::IRQ0 + l as usize))
        };
        // A device woken from another thread (a plugin's worker) can only drive its IRQ
        // lines: it matters while some enabled line could preempt (in a HardFault handler,
        // at priority -1, none can, and the stuck handler is reported as before).
        if crate::device::wake_signal().possible() && (exc::IRQ0..nvic.len()).any(beats) {
            return true;
        }
        self.mem.io.events.owners().any(|o| match o {
            EventOwner::SysTick => beats(exc::SYSTICK),
            EventOwner::Device(i) => device_can(i),
        })
    }

    /// The core waits (`how`: WFI, WFE or a `b .` loop) at execution priority `prio` and
    /// nothing can ever preempt it: in a fault handler after a fault, the run ends with that
    /// fault's report (exit 126, as before); anywhere else it is a deadlock (exit 123), whose
    /// report names the exception being handled, the PC and what masks it.
    fn stuck(&mut self, how: &str, prio: i32) -> Exit {
        let ipsr = usize::from(self.cpu.state.ipsr);
        if (exc::HARDFAULT..=exc::USAGEFAULT).contains(&ipsr) {
            if let Some((f, _, _)) = self.last_fault {
                return Exit::Fault(f);
            }
        }
        let s = &self.cpu.state;
        let mut masks = Vec::new();
        if s.primask {
            masks.push("PRIMASK set".to_string());
        }
        if s.faultmask {
            masks.push("FAULTMASK set".to_string());
        }
        if s.basepri != 0 {
            masks.push(format!("BASEPRI {:#04x}", s.basepri));
        }
        let prio = match prio {
            256 => "none".to_string(),
            p if p < 0 => p.to_string(),
            p => format!("{p:#04x}"),
        };
        let place = if ipsr == 0 {
            "Thread mode".to_string()
        } else {
            format!("the {} handler (exception {ipsr})", exc::name(ipsr))
        };
        let masks = if masks.is_empty() {
            String::new()
        } else {
            format!(", {}", masks.join(", "))
        };
        let at = self.location(self.cpu.state.r[15]);
        let what = if how.starts_with('W') {
            format!("sleeps in {how} in {place}, resuming at {at}")
        } else {
            format!("spins in {how} in {place} at {at}")
        };
        self.deadlock = Some(format!(
            "{what}, execution priority {prio}{masks}: no enabled source (SysTick, device interrupts) can pend an exception that preempts it"
        ));
        Exit::Deadlock
    }

    /// Where and why the core deadlocked, if the last run ended in a deadlock.
    pub fn deadlock_report(&self) -> Option<&str> {
        self.deadlock.as_deref()
    }

    /// Nothing scheduled can wake the core. If a device may still be woken from another
    /// thread (a plugin waiting on a socket), wait a little for it and let the devices take
    /// their input; the run loop's limits and stop flags are checked in between. Otherwise
    /// this is a deadlock.
    fn wait_for_wake(&mut self) -> Option<Exit> {
        let signal = crate::device::wake_signal();
        if !signal.possible() {
            let prio = self.execution_priority();
            return Some(self.stuck(
                if self.sleeping.is_some() {
                    "WFI/WFE"
                } else {
                    "a `b .` loop"
                },
                prio,
            ));
        }
        signal.wait(std::time::Duration::from_millis(20));
        self.mem.wake_devices();
        self.mem.io.attention = true;
        Some(Exit::Budget)
    }

    /// With `--realtime`, wait until the wall clock catches up with virtual time.
    fn pace(&self) {
        if let Some(t0) = self.realtime {
            let target = t0 + std::time::Duration::from_nanos(self.virtual_ns());
            let now = std::time::Instant::now();
            if target > now {
                std::thread::sleep(target - now);
            }
        }
    }

    /// Take exception `e` now: stack, enter the handler. Stacking goes through the MPU as
    /// the interrupted context (its privilege and execution priority); a stacking fault
    /// raises the derived fault ([`Machine::stacking_fault`]), a vector-table fault the
    /// forced HardFault ([`Machine::enter_vector`]).
    fn take(&mut self, e: usize) -> Option<Exit> {
        // UpdateFPCCR() runs during stacking, at the preempted context's priority.
        let fp_ready = self.fp_ready();
        // The execution priority costs a scan of the NVIC: only worked out for the MPU.
        let mpu_on =
            self.mem.scs.mpu.enabled() && self.mem.scs.mpu.active(self.execution_priority());
        let privileged = self.cpu.state.privileged();
        let nvic = &mut self.mem.io.nvic;
        nvic.pending.set(e, false);
        nvic.active.set(e, true);
        let return_address = self.cpu.state.r[15];
        let stkalign = self.mem.scs.ccr & (1 << 9) != 0;
        // FAULTMASK is not changed by entry; the handler's priority comes from `active`.
        let r = if mpu_on {
            let mut bus = MpuBus {
                mpu: self.mem.scs.mpu.clone(),
                privileged,
                mem: &mut self.mem,
            };
            self.cpu
                .push_stack(&mut bus, e as u16, return_address, stkalign, fp_ready)
        } else {
            self.cpu
                .push_stack(&mut self.mem, e as u16, return_address, stkalign, fp_ready)
        };
        self.mem.io.attention = true;
        let target = match r {
            Ok(()) => e,
            Err(err) => match self.stacking_fault(e, err, true) {
                Ok(t) => t,
                Err(exit) => return Some(exit),
            },
        };
        self.record_entry_frame();
        self.enter_vector(target)
    }

    /// Remember the frame just stacked (LR holds its EXC_RETURN) for the exception now
    /// entered; frames of exceptions no longer active are dropped first.
    fn record_entry_frame(&mut self) {
        let s = &self.cpu.state;
        let exc_return = s.r[14];
        let addr = if exc_return & 4 != 0 {
            s.psp()
        } else {
            s.msp()
        };
        let outer = self.mem.io.nvic.active_count().saturating_sub(1);
        self.entry_frames.truncate(outer);
        self.entry_frames.push(EntryFrame { addr, exc_return });
    }

    /// The frame the core stacked when it entered the handler now running (IPSR != 0),
    /// recorded at entry: right even after the handler's prologue has pushed registers,
    /// moved SP or overwritten LR. `None` in Thread mode, or when the exception state was
    /// changed behind the core's back (a debugger writing IPSR).
    pub fn entry_frame(&self) -> Option<EntryFrame> {
        if self.cpu.state.ipsr == 0 {
            return None;
        }
        let nvic = &self.mem.io.nvic;
        let ipsr = usize::from(self.cpu.state.ipsr);
        let consistent = ipsr < nvic.len()
            && nvic.active[ipsr]
            && self.entry_frames.len() == nvic.active_count();
        consistent
            .then(|| self.entry_frames.last().copied())
            .flatten()
    }

    /// A derived exception (B1.5.6, B1.5.8; `DerivedLateArrival()`): the frame of exception
    /// `e` could not be written (`entry`, STKERR or MSTKERR) or the frame being returned to
    /// could not be read (UNSTKERR or MUNSTKERR). The MemManage fault (an MPU refusal) or
    /// BusFault is pended, escalated to HardFault (HFSR.FORCED) if it is disabled or cannot
    /// preempt the execution priority of the interrupted context (on entry, `e` goes back
    /// to pending first) or of the context returned to, and a core already at priority -1
    /// or below locks up. Then the highest-priority pending exception is
    /// taken at once without stacking again, on the frame already there (late arrival, or
    /// tail-chaining after a return), so the fault handler sees the interrupted context and
    /// `e` follows when it returns, as on the hardware and in QEMU. Returns the exception
    /// now active, whose vector the caller enters.
    fn stacking_fault(
        &mut self,
        e: usize,
        StackingError { addr, error }: StackingError,
        entry: bool,
    ) -> Result<usize, Exit> {
        let (d, bit) = match (error, entry) {
            (BusError::Mpu, true) => (exc::MEMMANAGE, cfsr::MSTKERR),
            (BusError::Mpu, false) => (exc::MEMMANAGE, cfsr::MUNSTKERR),
            (_, true) => (exc::BUSFAULT, cfsr::STKERR),
            (_, false) => (exc::BUSFAULT, cfsr::UNSTKERR),
        };
        let fault = Fault::DataBus {
            addr,
            write: entry,
            error,
        };
        tracing::debug!(
            exception = e,
            "{} at {addr:#010x} failed",
            if entry { "stacking" } else { "unstacking" }
        );
        self.mem.scs.cfsr |= bit;
        self.last_fault = Some((fault, self.cpu.state.r[15], self.cpu.state.ipsr));
        if entry {
            let nvic = &mut self.mem.io.nvic;
            nvic.active.set(e, false);
            nvic.pending.set(e, true);
        }
        let exec_prio = self.execution_priority();
        let nvic = &self.mem.io.nvic;
        let d = if nvic.enabled[d] && nvic.group(nvic.priority(d)) < exec_prio {
            d
        } else if exec_prio <= -1 {
            return Err(Exit::Lockup(fault));
        } else {
            self.mem.scs.hfsr |= hfsr::FORCED;
            exc::HARDFAULT
        };
        let nvic = &mut self.mem.io.nvic;
        nvic.pending.set(d, true);
        let t = nvic.to_take(exec_prio).unwrap_or(d);
        nvic.pending.set(t, false);
        nvic.active.set(t, true);
        let control = self.cpu.state.control;
        self.cpu.state.set_mode(t as u16, control & 1);
        Ok(t)
    }

    /// Branch to the handler of `e`, now active. The vector read does not go through the
    /// MPU; if it fails, HardFault is forced (HFSR.VECTTBL) — or the core locks up if `e`
    /// is already HardFault or NMI.
    fn enter_vector(&mut self, e: usize) -> Option<Exit> {
        let vtor = self.mem.scs.vtor;
        let Err(StackingError { addr, error }) =
            self.cpu.branch_to_vector(&mut self.mem, e as u16, vtor)
        else {
            return None;
        };
        self.mem.scs.hfsr |= hfsr::VECTTBL;
        tracing::warn!(exception = e, "vector table read at {addr:#010x} failed");
        let fault = Fault::DataBus {
            addr,
            write: false,
            error,
        };
        if e == exc::HARDFAULT || e == exc::NMI {
            return Some(Exit::Lockup(fault));
        }
        self.mem.io.nvic.active.set(e, false);
        self.mem.io.nvic.active.set(exc::HARDFAULT, true);
        let control = self.cpu.state.control;
        self.cpu.state.set_mode(exc::HARDFAULT as u16, control & 1);
        self.cpu
            .branch_to_vector(&mut self.mem, exc::HARDFAULT as u16, vtor)
            .err()
            .map(|_| Exit::Lockup(fault))
    }

    /// The FPCCR HFRDY/MMRDY/BFRDY/MONRDY bits for a lazy FP frame reserved now
    /// (`UpdateFPCCR()`): whether each exception could be pended at the current execution
    /// priority (the entering exception is not active yet).
    fn fp_ready(&self) -> u32 {
        use armlet_cpu::fpstate::fpccr::*;
        let prio = self.execution_priority();
        let nvic = &self.mem.io.nvic;
        let can = |e: usize| nvic.enabled[e] && nvic.group(nvic.priority(e)) < prio;
        let mut r = 0;
        if prio > -1 {
            r |= HFRDY;
        }
        if can(exc::MEMMANAGE) {
            r |= MMRDY;
        }
        if can(exc::BUSFAULT) {
            r |= BFRDY;
        }
        if self.mem.scs.monitor_enabled() && nvic.group(nvic.priority(exc::DEBUGMON)) < prio {
            r |= MONRDY;
        }
        r
    }

    /// A lazy FP state preservation failed (`PreserveFPState()`): the fault is pended —
    /// as HardFault when the *RDY bits recorded at stacking say the handler could not have
    /// been — and taken before the FP instruction if its priority allows; otherwise the
    /// preservation is abandoned (LSPACT cleared, S0–S15 become the new context's) and the
    /// instruction goes ahead, the fault being taken later.
    fn lazy_fp_fault(&mut self, f: Fault) -> Option<Exit> {
        use armlet_cpu::fpstate::fpccr::*;
        let (e, bits, _) = classify(f);
        self.mem.scs.cfsr |= bits;
        self.last_fault = Some((f, self.cpu.state.r[15], self.cpu.state.ipsr));
        let fpccr = self.mem.scs.fp.fpccr;
        let ready = match e {
            exc::MEMMANAGE => fpccr & MMRDY != 0,
            exc::BUSFAULT => fpccr & BFRDY != 0,
            _ => true,
        };
        let target = if self.mem.io.nvic.enabled[e] && ready {
            e
        } else {
            self.mem.scs.hfsr |= hfsr::FORCED;
            exc::HARDFAULT
        };
        self.mem.io.nvic.pending.set(target, true);
        self.mem.io.attention = true;
        if self
            .mem
            .io
            .nvic
            .to_take(self.execution_priority())
            .is_none()
        {
            self.mem.scs.fp.fpccr &= !LSPACT;
        }
        None
    }

    /// Raise a synchronous exception (a fault, or SVCall): take it if enabled and its
    /// priority preempts, otherwise escalate to HardFault (HFSR.FORCED), or lock up.
    fn raise(&mut self, e: usize, fault: Option<Fault>) -> Option<Exit> {
        let exec_prio = self.execution_priority();
        let nvic = &self.mem.io.nvic;
        let target = if nvic.enabled[e] && nvic.group(nvic.priority(e)) < exec_prio {
            e
        } else {
            if exec_prio <= -1 {
                let f = fault.unwrap_or(Fault::InvalidPc);
                return Some(Exit::Lockup(f));
            }
            self.mem.scs.hfsr |= hfsr::FORCED;
            exc::HARDFAULT
        };
        self.take(target)
    }

    /// A BKPT with DEMCR.MON_EN set and no debugger attached (C1.6, B1.5.2): a synchronous
    /// debug event with DFSR.BKPT set, taken as the DebugMonitor exception with the return
    /// address at the BKPT if that can preempt; otherwise it escalates to HardFault with
    /// HFSR.DEBUGEVT. In HardFault or NMI (priority -1 or below) the run stops as for a
    /// BKPT without the monitor.
    fn bkpt_debug_event(&mut self, imm: u8) -> Option<Exit> {
        self.mem.scs.dfsr |= dfsr::BKPT;
        let exec_prio = self.execution_priority();
        let nvic = &self.mem.io.nvic;
        if nvic.group(nvic.priority(exc::DEBUGMON)) < exec_prio {
            return self.take(exc::DEBUGMON);
        }
        if exec_prio <= -1 {
            return Some(Exit::Breakpoint(imm));
        }
        self.mem.scs.hfsr |= hfsr::DEBUGEVT;
        self.take(exc::HARDFAULT)
    }

    /// A synchronous fault: record its status bits and take it.
    fn fault(&mut self, f: Fault) -> Option<Exit> {
        let (e, bits, addr) = classify(f);
        let scs = &mut self.mem.scs;
        scs.cfsr |= bits;
        if let Some(a) = addr {
            if e == exc::MEMMANAGE {
                scs.mmfar = a;
            } else {
                scs.bfar = a;
            }
        }
        self.last_fault = Some((f, self.cpu.state.r[15], self.cpu.state.ipsr));
        tracing::debug!(pc = self.cpu.state.r[15], "fault: {f}");
        self.raise(e, Some(f))
    }

    /// An EXC_RETURN was loaded into PC (B1.5.8): check it against the exception state,
    /// deactivate, unstack; tail-chaining falls out of the next `service`.
    fn exception_return(&mut self, exc_return: u32) -> Option<Exit> {
        let ipsr = usize::from(self.cpu.state.ipsr);
        let nvic = &self.mem.io.nvic;
        let nested = nvic.active_count();
        let nonbase = self.mem.scs.ccr & 1 != 0;
        // With an FPU, bit 4 selects the extended frame; without one it must be set.
        let fixed = if self.cpu.state.fp.present() {
            0x0fff_ffe0
        } else {
            0x0fff_fff0
        };
        let ok = exc_return & fixed == fixed
            && ipsr < nvic.len()
            && nvic.active[ipsr]
            && match exc_return & 0xf {
                0x1 => nested > 1,
                0x9 | 0xd => nested == 1 || nonbase,
                _ => false,
            };
        if !ok {
            self.cpu.state.r[15] = exc_return & !1;
            return self.fault(Fault::InvalidPc);
        }
        self.mem.io.nvic.deactivate(ipsr);
        if ipsr != exc::NMI {
            self.cpu.state.faultmask = false;
        }
        let stkalign = self.mem.scs.ccr & (1 << 9) != 0;
        // Unstacking goes through the MPU as the context returned to: its privilege, and
        // the execution priority once the returning exception is no longer active.
        let r = if self.mem.scs.mpu.enabled() && self.mem.scs.mpu.active(self.execution_priority())
        {
            let privileged = exc_return & 0xf == 1 || self.cpu.state.control & 1 == 0;
            let mut bus = MpuBus {
                mpu: self.mem.scs.mpu.clone(),
                privileged,
                mem: &mut self.mem,
            };
            self.cpu.exception_return(&mut bus, exc_return, stkalign)
        } else {
            self.cpu
                .exception_return(&mut self.mem, exc_return, stkalign)
        };
        self.mem.io.attention = true;
        match r {
            Ok(()) => {
                self.entry_frames.truncate(self.mem.io.nvic.active_count());
                if self.cpu.state.ipsr == 0 && self.mem.scs.scr & 2 != 0 {
                    // SLEEPONEXIT: back to Thread mode means back to sleep.
                    self.sleeping = Some(false);
                }
                None
            }
            Err(Fault::DataBus { addr, error, .. }) => {
                // The frame stays on the stack; the derived fault is tail-chained, and its
                // handler returns with the same EXC_RETURN to try again.
                let err = StackingError { addr, error };
                match self.stacking_fault(ipsr, err, false) {
                    Ok(t) => {
                        self.cpu.state.r[14] = exc_return;
                        self.enter_vector(t)
                    }
                    Err(exit) => Some(exit),
                }
            }
            Err(f) => self.fault(f),
        }
    }

    /// Resume after a debugger stop: the instruction at PC executes even if it is a
    /// breakpoint or its access matches a watchpoint.
    pub fn resume(&mut self) {
        self.cpu.skip_breakpoint_once();
        self.skip_watch = true;
    }

    /// Execute one instruction (a debugger `stepi`). Exceptions it raises are entered (PC
    /// at the handler's first instruction, which has not run); pending interrupts are taken
    /// first only if `debug.step_irq`. Watchpoints are not checked (see
    /// [`Machine::step_watched`]).
    pub fn step(&mut self) -> Exit {
        self.resume();
        self.step_inner()
    }

    /// [`Machine::step`], with the instruction's accesses checked against the watchpoints
    /// (a hit stops before the access); a breakpoint at PC does not stop it.
    pub fn step_watched(&mut self) -> Exit {
        self.cpu.skip_breakpoint_once();
        self.step_inner()
    }

    fn step_inner(&mut self) -> Exit {
        self.stepping_masked = !self.debug.step_irq;
        if self.sleeping.is_some() && self.stepping_masked {
            // Asleep with interrupts off while stepping: stay put, like a halted core.
            self.stepping_masked = false;
            return Exit::Budget;
        }
        // Interrupts due now are taken first: the step then ends at the handler's first
        // instruction ("stepi across exception entry").
        let before = (self.cpu.state.r[15], self.cpu.state.ipsr);
        self.mem.io.attention = true;
        let exit = match self.service() {
            Some(exit) => exit,
            None if (self.cpu.state.r[15], self.cpu.state.ipsr) != before => Exit::Budget,
            None => {
                self.single_step = true;
                let exit = self.run(1);
                self.single_step = false;
                exit
            }
        };
        self.stepping_masked = false;
        self.skip_watch = false;
        exit
    }

    /// Debugger memory read: side-effect free (devices answer through `peek`).
    pub fn debug_read(&self, addr: u32, buf: &mut [u8]) -> Result<(), BusError> {
        self.mem.peek(addr, buf)
    }

    /// Debugger memory write: RAM and ROM/flash are written directly (so `load` works),
    /// device registers through the bus; decoded code there is dropped.
    pub fn debug_write(&mut self, addr: u32, bytes: &[u8]) -> Result<(), BusError> {
        if self.mem.load(addr, bytes).is_err() {
            for (i, &b) in bytes.iter().enumerate() {
                let a = addr.wrapping_add(i as u32);
                if self.mem.load(a, &[b]).is_err() {
                    self.mem.write8(a, b)?;
                }
            }
        }
        self.cpu.invalidate(addr, bytes.len() as u32);
        Ok(())
    }

    /// Run until the firmware exits or a limit is reached.
    pub fn run_to_end(&mut self, limits: &Limits<'_>) -> Outcome {
        let max = limits.max_instructions.unwrap_or(u64::MAX);
        let max_cycles = limits.max_cycles.unwrap_or(u64::MAX);
        loop {
            let left = max.saturating_sub(self.cpu.icount);
            let left_cycles = max_cycles.saturating_sub(self.cycles());
            if left == 0 || left_cycles == 0 {
                return Outcome::InstructionLimit(self.cpu.icount);
            }
            match self.run(left.min(left_cycles).min(CHUNK)) {
                Exit::Budget => {}
                Exit::Exited(code) => return Outcome::Exited(code),
                other => return Outcome::Guest(other),
            }
            self.pace();
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

    /// A human-readable account of the fault status registers (CFSR/HFSR/MMFAR/BFAR).
    pub fn fault_status(&self) -> String {
        let s = &self.mem.scs;
        let names: &[(u32, &str)] = &[
            (cfsr::IACCVIOL, "IACCVIOL (instruction access violation)"),
            (cfsr::DACCVIOL, "DACCVIOL (data access violation)"),
            (cfsr::MUNSTKERR, "MUNSTKERR"),
            (cfsr::MSTKERR, "MSTKERR"),
            (cfsr::MLSPERR, "MLSPERR (lazy FP state preservation)"),
            (cfsr::MMARVALID, "MMARVALID"),
            (cfsr::IBUSERR, "IBUSERR (instruction bus error)"),
            (cfsr::PRECISERR, "PRECISERR (precise data bus error)"),
            (cfsr::UNSTKERR, "UNSTKERR"),
            (cfsr::STKERR, "STKERR"),
            (cfsr::LSPERR, "LSPERR (lazy FP state preservation)"),
            (cfsr::BFARVALID, "BFARVALID"),
            (cfsr::UNDEFINSTR, "UNDEFINSTR (undefined instruction)"),
            (cfsr::INVSTATE, "INVSTATE (Thumb bit clear)"),
            (cfsr::INVPC, "INVPC (bad exception return)"),
            (cfsr::NOCP, "NOCP (no coprocessor)"),
            (cfsr::UNALIGNED, "UNALIGNED"),
            (cfsr::DIVBYZERO, "DIVBYZERO"),
        ];
        let mut out = format!("CFSR={:#010x} HFSR={:#010x}", s.cfsr, s.hfsr);
        for (bit, name) in names {
            if s.cfsr & bit != 0 {
                let _ = write!(out, " {name}");
            }
        }
        if s.hfsr & hfsr::FORCED != 0 {
            out += " FORCED (escalated to HardFault)";
        }
        if s.hfsr & hfsr::VECTTBL != 0 {
            out += " VECTTBL (vector table read failed)";
        }
        if s.cfsr & cfsr::MMARVALID != 0 {
            let _ = write!(out, " MMFAR={:#010x}", s.mmfar);
        }
        if s.cfsr & cfsr::BFARVALID != 0 {
            let _ = write!(out, " BFAR={:#010x}", s.bfar);
        }
        out
    }

    fn semihosting_call(&mut self) -> Option<Exit> {
        let now = self.cycles();
        let op = self.cpu.state.r[0];
        let param = self.cpu.state.r[1];
        let mut bus = TrackingBus {
            mem: &mut self.mem,
            writes: Vec::new(),
        };
        let outcome = self.semihosting.call(op, param, &mut bus, now);
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

    /// What the core is running for IPSR value `ipsr`: "Thread mode", "SysTick", "IRQ 0
    /// (uart0 rx)" (the board's devices driving that line, by output name).
    pub fn exception_name(&self, ipsr: u16) -> String {
        let n = usize::from(ipsr);
        let fixed = match n {
            0 => "Thread mode",
            exc::RESET => "Reset",
            exc::NMI => "NMI",
            exc::HARDFAULT => "HardFault",
            exc::MEMMANAGE => "MemManage",
            exc::BUSFAULT => "BusFault",
            exc::USAGEFAULT => "UsageFault",
            exc::SVCALL => "SVCall",
            exc::DEBUGMON => "DebugMonitor",
            exc::PENDSV => "PendSV",
            exc::SYSTICK => "SysTick",
            n if n < exc::IRQ0 => return format!("reserved exception {n}"),
            _ => "",
        };
        if !fixed.is_empty() {
            return fixed.to_string();
        }
        let line = (n - exc::IRQ0) as u32;
        let sources: Vec<String> = self
            .board
            .devices
            .iter()
            .flat_map(|d| {
                let mut names: Vec<String> = crate::devices::irq_output_names(&d.kind)
                    .iter()
                    .map(|n| n.to_string())
                    .collect();
                if names.is_empty() && d.irq.contains(&line) {
                    names = crate::plugin::loaded_irq_outputs(&d.kind);
                }
                d.irq
                    .iter()
                    .enumerate()
                    .filter(move |&(_, &l)| l == line)
                    .map(move |(i, _)| match names.get(i) {
                        Some(o) => format!("{} {o}", d.name),
                        None => format!("{} output {i}", d.name),
                    })
            })
            .collect();
        if sources.is_empty() {
            format!("IRQ {line}")
        } else {
            format!("IRQ {line} ({})", sources.join(", "))
        }
    }

    /// A hint for a fault a user's build or board choice explains.
    fn fault_hint(&self, fault: Fault) -> Option<String> {
        let fpu = self.cpu.features().fpu;
        match fault {
            Fault::NoCoprocessor { .. } if fpu == armlet_cpu::FpuKind::None => {
                let hard = self
                    .image
                    .as_ref()
                    .is_some_and(|i| i.attributes.uses_fpu());
                Some(format!(
                    "{}{} ({}) has no FPU; boards with one: mps2-an386 (Cortex-M4F, single precision) and mps2-an500 (Cortex-M7, double precision), e.g. --machine mps2-an386",
                    if hard { "the ELF is built for hard float, but " } else { "" },
                    self.board.name,
                    self.board.cpu.name()
                ))
            }
            Fault::NoCoprocessor { .. } => Some(
                "the FPU is disabled: enable CP10/CP11 in CPACR (0xE000ED88 |= 0xF << 20) before FP code, as CMSIS SystemInit does".into(),
            ),
            Fault::DataBus { addr, error, .. } if error != BusError::Mpu => {
                let r = self
                    .mem
                    .regions()
                    .find(|r| addr.wrapping_sub(r.base) < r.size && r.kind.is_none())?;
                let plugin = self
                    .board
                    .devices
                    .iter()
                    .find(|d| d.name == r.name)
                    .filter(|d| {
                        crate::plugin::is_plugin_device(d, &[]) || !crate::devices::types().iter().any(|t| t.0 == d.kind)
                    })
                    .map(|d| format!(" (plugin type \"{}\"; its refusal is logged above)", d.kind))
                    .unwrap_or_default();
                Some(format!(
                    "{addr:#010x} is offset {:#x} of device '{}' ({:#010x}..{:#010x}){plugin}",
                    addr - r.base,
                    r.name,
                    r.base,
                    u64::from(r.base) + u64::from(r.size) - 1
                ))
            }
            _ => None,
        }
    }

    /// The last traced instructions, disassembled, one per line (see `Cpu::enable_trace`).
    pub fn trace_report(&mut self) -> String {
        let mut out = String::new();
        for pc in self.cpu.traced() {
            let line = match armlet_cpu::decode_at(&mut self.mem, pc, 0, self.cpu.features()) {
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
        let mut out = String::new();
        if let Some(d) = &self.deadlock {
            let _ = writeln!(out, "  the core {d}");
        }
        let s = &self.cpu.state;
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
        if let Some((fault, at, ipsr)) = self.last_fault {
            let insn = match armlet_cpu::decode_at(&mut self.mem, at, 0, self.cpu.features()) {
                Ok(i) => i.disasm(),
                Err(_) => "<cannot fetch>".into(),
            };
            let _ = writeln!(
                out,
                "  last fault, in {}: {fault}\n    at {}: {insn}\n    {}",
                self.exception_name(ipsr),
                self.location(at),
                self.fault_status()
            );
            if let Some(hint) = self.fault_hint(fault) {
                let _ = writeln!(out, "    {hint}");
            }
        }
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
        let _ = writeln!(
            out,
            "  at {} (in {}): {insn}",
            self.location(pc),
            self.exception_name(self.cpu.state.ipsr)
        );
        let _ = write!(
            out,
            "  after {} instructions ({} ns virtual time)",
            self.cpu.icount,
            self.virtual_ns()
        );
        out
    }
}
