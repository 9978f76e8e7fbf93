//! `armlet`: the command-line front end.

mod epoch;
mod qemu;
mod test_runner;

use anyhow::Context as _;
use armlet_machine::semihosting::StdConsole;
use armlet_machine::{Board, Limits, Machine, MachineOptions, Outcome};
use clap::{ArgAction, Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Process exit codes other than the firmware's own (see `armlet_machine::exit_code`).
mod code {
    use armlet_machine::exit_code as c;
    pub const LIMIT: u8 = c::LIMIT as u8;
    pub const ERROR: u8 = c::ERROR as u8;
    pub const SIGNAL_BASE: u8 = c::SIGNAL_BASE as u8;
}

const AFTER_HELP: &str = "\
Exit status of `armlet run`:
  0-255  the firmware's own exit status (semihosting SYS_EXIT / SYS_EXIT_EXTENDED)
  123    deadlock: the core sleeps (WFI/WFE) or spins (`b .`, or any loop that changes
         nothing: panic-halt at -O0, `while (!flag);`) and nothing can ever wake it, also
         inside a handler that no enabled interrupt can preempt (panic-halt in an ISR)
  124    instruction limit or timeout reached
  125    bad input or emulator error (e.g. not an ELF, unknown machine, bad machine file,
         a plugin that cannot be loaded, a failed plugin device with --on-plugin-failure stop)
  126    guest lockup, stuck in a fault handler, or unhandled breakpoint
  130    interrupted (SIGINT); 143 for SIGTERM
  137    killed from the debugger (GDB `kill`, with --gdb)
  2      bad command line";

#[derive(Parser, Debug)]
#[command(name = "armlet", version, about = "A headless ARMv7-M full-system emulator", after_help = AFTER_HELP)]
struct Cli {
    /// More log output (-v info, -vv debug, -vvv trace). RUST_LOG overrides.
    #[arg(short, long, action = ArgAction::Count, global = true)]
    verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a firmware ELF until it exits; its exit status becomes armlet's.
    #[command(after_help = AFTER_HELP)]
    Run(RunArgs),
    /// Run firmware tests listed in TOML manifests, in parallel; prints `N passed, N failed`.
    Test(test_runner::TestArgs),
    /// Accept a qemu-system-arm command line and run it on armlet (also: invoke armlet as
    /// `qemu-system-arm`); `armlet qemu -help` lists the QEMU options it takes.
    #[command(disable_help_flag = true)]
    Qemu {
        /// qemu-system-arm options, e.g. `-M mps2-an385 -nographic -semihosting -kernel fw.elf`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// List the built-in machines; `machines show NAME` prints one's machine file.
    Machines {
        #[command(subcommand)]
        action: Option<MachinesCmd>,
    },
    /// Peripheral plugins (device models in shared libraries; see device-plugins/README.md).
    Plugin {
        #[command(subcommand)]
        action: PluginCmd,
    },
}

#[derive(Subcommand, Debug)]
enum PluginCmd {
    /// Load a plugin and print its ABI version, device types, parameters, regions and IRQs.
    Inspect {
        /// The plugin library (.so).
        path: PathBuf,
    },
}

/// What `armlet run` does when a plugin device fails (e.g. panics).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum OnPluginFailure {
    /// The device is disabled, the guest sees bus errors, the run goes on.
    Continue,
    /// The run ends with exit status 125.
    Stop,
}

/// `Outcome::Interrupted` value meaning "a plugin device failed" (signals are below 64).
const PLUGIN_FAILED: usize = 1 << 16;

/// How long a run that should stop (a signal, `--timeout`, a failed plugin with
/// `--on-plugin-failure stop`) may take to notice before the stop enforcer steps in.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// Ends the process when the run should stop but cannot, because a plugin callback does not
/// return: the run loop checks its stop flag and deadline only between chunks of
/// instructions, and a plugin callback is native code that cannot be interrupted. After
/// [`STOP_GRACE`], if the plugin watchdog reports a callback still running, this names it on
/// stderr and exits with the status the stop asked for (130/143, 124, 125). Console output
/// is written through as it happens, so nothing written before is lost.
struct StopEnforcer {
    done: Arc<std::sync::atomic::AtomicBool>,
}

impl StopEnforcer {
    fn start(signal: Arc<AtomicUsize>, deadline: Option<Instant>) -> StopEnforcer {
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let d = Arc::clone(&done);
        let _ = std::thread::Builder::new()
            .name("armlet-stop-enforcer".into())
            .spawn(move || {
                let mut since: Option<Instant> = None;
                while !d.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(100));
                    let sig = signal.load(Ordering::Relaxed);
                    let why = match sig {
                        0 if deadline.is_some_and(|t| Instant::now() >= t) => {
                            Some(("timeout (wall clock)".to_string(), code::LIMIT))
                        }
                        0 => None,
                        PLUGIN_FAILED => Some((
                            "a plugin device failed (--on-plugin-failure stop)".to_string(),
                            code::ERROR,
                        )),
                        s => Some((
                            format!("interrupted by signal {s}"),
                            code::SIGNAL_BASE.wrapping_add(s as u8),
                        )),
                    };
                    let Some((why, status)) = why else { continue };
                    let t = *since.get_or_insert_with(Instant::now);
                    if t.elapsed() < STOP_GRACE || d.load(Ordering::Relaxed) {
                        continue;
                    }
                    let stuck = armlet_machine::watchdog::stuck_callbacks();
                    if stuck.is_empty() {
                        continue;
                    }
                    eprintln!(
                        "armlet: {why}, but the run cannot stop: {}; a plugin callback cannot be interrupted, so armlet exits now",
                        stuck.join("; ")
                    );
                    std::process::exit(i32::from(status));
                }
            });
        StopEnforcer { done }
    }
}

impl Drop for StopEnforcer {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
    }
}

#[derive(Subcommand, Debug)]
enum MachinesCmd {
    /// Print the machine file of a built-in board (a starting point for a custom board).
    Show {
        /// Board name.
        name: String,
    },
    /// List the device types a machine file can use.
    Types,
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    /// Firmware ELF file.
    firmware: PathBuf,
    /// Board to run on (see `armlet machines`).
    #[arg(long, short = 'M', default_value = "mps2-an385")]
    machine: String,
    /// Run on the board described by this machine file (TOML; see `armlet machines show`).
    #[arg(long, value_name = "FILE", conflicts_with = "machine")]
    machine_file: Option<PathBuf>,
    /// Serial port backend:
    /// [UART=]stdio|null|file:PATH|pipe:PATH|tcp:[HOST]:PORT|tcp-client:HOST:PORT. Without
    /// UART=, successive --serial options go to the board's UARTs in order. The console UART
    /// defaults to stdio, the others to null.
    #[arg(long, value_name = "[UART=]SPEC")]
    serial: Vec<String>,
    /// Pace virtual time to the wall clock (for interactive use).
    #[arg(long)]
    realtime: bool,
    /// Where the guest's wall clock (semihosting SYS_TIME: time(), gettimeofday()) starts:
    /// `now` (the host's clock), SECONDS since 1970, or an ISO 8601 DATE or date-time (UTC
    /// unless an offset is given). It then advances with virtual time. Default: the fixed
    /// 2026-01-01T00:00:00Z, so runs are reproducible.
    #[arg(long, value_name = "now|SECONDS|DATE", value_parser = epoch::parse_arg)]
    epoch: Option<epoch::Epoch>,
    /// Stop after this many guest instructions (exit status 124).
    #[arg(long, value_name = "N")]
    max_instructions: Option<u64>,
    /// Stop after this many seconds of wall-clock time (exit status 124).
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<f64>,
    /// Decode every instruction each time instead of using the decoded-instruction cache.
    #[arg(long)]
    no_icache: bool,
    /// Allow semihosting file operations, confined to DIR (default: $ARMLET_SEMIHOSTING_ROOT
    /// if set, else none).
    #[arg(long, value_name = "DIR")]
    semihosting_root: Option<PathBuf>,
    /// Allow semihosting SYS_SYSTEM (runs host commands inside the semihosting root); also
    /// with ARMLET_ALLOW_SYSTEM=1.
    #[arg(long, requires = "semihosting_root")]
    allow_system: bool,
    /// Print instruction count, virtual time and speed to stderr at exit.
    #[arg(long)]
    stats: bool,
    /// Treat BKPT #0xAB as a plain breakpoint, not a semihosting call.
    #[arg(long)]
    no_semihosting: bool,
    /// Program name reported by SYS_GET_CMDLINE (default: the firmware path).
    #[arg(long, hide = true)]
    program_name: Option<String>,
    /// Serve the GDB remote protocol on [HOST:]PORT (127.0.0.1 unless HOST is given; port
    /// 0 picks a free one). The firmware runs at once unless --wait is given.
    #[arg(long, value_name = "[HOST:]PORT")]
    gdb: Option<String>,
    /// With --gdb: stay halted at the reset vector until the debugger continues.
    #[arg(long, requires = "gdb")]
    wait: bool,
    /// Load device types from this plugin library (repeatable); machine files can then use
    /// its types without naming the library.
    #[arg(long, value_name = "PATH")]
    plugin: Vec<PathBuf>,
    /// When a plugin device fails: `continue` (it reads as bus errors) or `stop` (exit 125:
    /// the run ends at its next limit check, within 2^20 instructions, or when it ends).
    #[arg(long, value_enum, default_value = "continue")]
    on_plugin_failure: OnPluginFailure,
    /// Enable the ITM as a debug probe would (DEMCR.TRCENA, ITM_TCR.ITMENA, every port in
    /// ITM_TER, after every reset), for firmware that waits for a debugger to do it
    /// (defmt-itm, cortex-m's iprintln!). Port 0 goes to stdout, the others to --itm-port files.
    #[arg(long)]
    itm: bool,
    /// Write ITM stimulus port N (0-31) to the file PATH (created or truncated; raw bytes as
    /// the firmware wrote them). Repeatable; implies --itm.
    #[arg(long, value_name = "N=PATH", value_parser = parse_itm_port)]
    itm_port: Vec<(u8, PathBuf)>,
    /// Arguments for the firmware (SYS_GET_CMDLINE).
    #[arg(last = true)]
    args: Vec<String>,
    /// Every UNPREDICTABLE encoding is UNDEFINED (UsageFault UNDEFINSTR). Without it, those
    /// Cortex-M cores and QEMU execute run as they do (logged once per address with -v).
    #[arg(long)]
    strict: bool,
}

/// `--itm-port N=PATH`.
fn parse_itm_port(s: &str) -> Result<(u8, PathBuf), String> {
    let (n, path) = s
        .split_once('=')
        .ok_or_else(|| format!("'{s}': expected N=PATH (a stimulus port 0-31 and a file)"))?;
    let port: u8 = n
        .parse()
        .ok()
        .filter(|&p| p < 32)
        .ok_or_else(|| format!("'{n}' is not an ITM stimulus port (0-31)"))?;
    if path.is_empty() {
        return Err(format!("port {port}: no file given (N=PATH)"));
    }
    Ok((port, PathBuf::from(path)))
}

fn init_logging(verbose: u8, quiet: bool) {
    use tracing_subscriber::EnvFilter;
    let level = if quiet {
        "error"
    } else {
        match verbose {
            0 => "warn",
            1 => "info",
            2 => "debug",
            _ => "trace",
        }
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(colour_logs(
            std::io::IsTerminal::is_terminal(&std::io::stderr()),
            std::env::var_os("NO_COLOR").as_deref(),
        ))
        .init();
}

/// Logs are coloured only on a terminal, and never with `NO_COLOR` set to a non-empty
/// value (https://no-color.org).
fn colour_logs(stderr_is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    stderr_is_terminal && no_color.is_none_or(|v| v.is_empty())
}

/// Write `text` to stdout in one go. A closed stdout (`armlet machines | head -1`, a
/// `grep -q` that has seen its match) is not an error: the reader has what it wanted, so
/// nothing is reported and the caller goes on to its normal exit status.
pub(crate) fn out(text: &str) {
    use std::io::Write as _;
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(text.as_bytes()).and_then(|()| o.flush());
}

/// `println!`/`eprintln!` panic when the stream is a closed pipe; the paths that print
/// go through [`out`], and this catches any other: a write to a closed stdout or stderr
/// ends the process quietly with status 141 (as a process killed by SIGPIPE) instead of
/// a panic message and a backtrace.
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if msg.starts_with("failed printing to std") && msg.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}

fn main() -> ExitCode {
    // Invoked as qemu-system-arm (e.g. through a symlink): every argument is a QEMU option.
    let mut argv: Vec<String> = std::env::args().collect();
    let invoked_as = argv.first().map(|a| {
        Path::new(a)
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    });
    if invoked_as.as_deref() == Some("qemu-system-arm") {
        argv.insert(1, "qemu".into());
    }
    quiet_on_closed_pipe();
    let cli = Cli::parse_from(argv);
    init_logging(cli.verbose, cli.quiet);
    let result = match cli.command {
        Command::Run(args) => run(args),
        Command::Test(args) => test_runner::main(args).map(ExitCode::from),
        Command::Qemu { args } => run_qemu(&args),
        Command::Machines { action } => machines(action),
        Command::Plugin {
            action: PluginCmd::Inspect { path },
        } => armlet_machine::plugin::load(&path)
            .map(|lib| {
                out(&lib.describe());
                ExitCode::SUCCESS
            })
            .map_err(Into::into),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("armlet: error: {e:#}");
            ExitCode::from(code::ERROR)
        }
    }
}

fn run_qemu(args: &[String]) -> anyhow::Result<ExitCode> {
    if args
        .iter()
        .any(|a| matches!(a.as_str(), "-help" | "--help" | "-h"))
    {
        out(&format!(
            "armlet qemu: qemu-system-arm compatible command line.\nSupported options:\n{}\n",
            qemu::SUPPORTED
        ));
        return Ok(ExitCode::SUCCESS);
    }
    let q = qemu::parse(args)?;
    if q.version {
        out(&qemu::version());
        return Ok(ExitCode::SUCCESS);
    }
    if q.list_machines {
        out(&qemu::machine_help());
        return Ok(ExitCode::SUCCESS);
    }
    if q.list_cpus {
        out(&qemu::cpu_help(q.machine.as_deref())?);
        return Ok(ExitCode::SUCCESS);
    }
    let mut argv = vec!["armlet".to_string(), "run".to_string()];
    argv.extend(qemu::to_run_args(&q)?);
    let run_args = match Cli::try_parse_from(argv)?.command {
        Command::Run(run_args) => run_args,
        _ => anyhow::bail!("internal error: qemu translation did not produce a run command"),
    };
    // QEMU writes the pid file once the options are accepted and removes it at exit.
    let pidfile = q.pidfile.as_ref().map(PathBuf::from);
    if let Some(p) = &pidfile {
        std::fs::write(p, format!("{}\n", std::process::id()))
            .with_context(|| format!("-pidfile {}: cannot write", p.display()))?;
    }
    let result = run_loading(run_args, &q.loads(), q.cpu.as_deref());
    if let Some(p) = &pidfile {
        let _ = std::fs::remove_file(p);
    }
    result
}

fn machines(action: Option<MachinesCmd>) -> anyhow::Result<ExitCode> {
    match action {
        None => {
            let mut s = String::new();
            for b in Board::builtin() {
                s.push_str(&format!("{:<16} {}\n", b.name, b.description));
            }
            out(&s);
        }
        Some(MachinesCmd::Show { name }) => {
            let text =
                Board::builtin_source(&name).with_context(|| Board::unknown_machine(&name))?;
            out(text);
        }
        Some(MachinesCmd::Types) => {
            let mut s = String::new();
            for (t, doc) in armlet_machine::devices::types() {
                s.push_str(&format!("{t:<20} {doc}\n"));
            }
            out(&s);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The board for `--machine NAME` or `--machine-file FILE`.
pub(crate) fn resolve_board(name: &str, file: Option<&Path>) -> anyhow::Result<Board> {
    if let Some(f) = file {
        let mut board = Board::from_file(f)?;
        // Plugin paths in a machine file are relative to the file: resolved to absolute
        // paths here, so every later message shows the file armlet actually opens.
        for d in &mut board.devices {
            if let Some(p) = d.plugin.as_mut().filter(|p| p.is_relative()) {
                let dir = std::path::absolute(f.parent().unwrap_or(Path::new("")))
                    .unwrap_or_else(|_| f.parent().unwrap_or(Path::new("")).to_path_buf());
                let resolved = dir.join(&*p);
                if !resolved.exists() {
                    anyhow::bail!(
                        "{}: device '{}': plugin \"{}\" is relative to the machine file's directory {}: {} does not exist",
                        f.display(),
                        d.name,
                        p.display(),
                        dir.display(),
                        resolved.display()
                    );
                }
                *p = resolved;
            }
        }
        return Ok(board);
    }
    Board::by_name(name).with_context(|| Board::unknown_machine(name))
}

/// `--serial` values to (UART name, backend), for `board`.
pub(crate) fn serial_options(
    board: &Board,
    specs: &[String],
) -> anyhow::Result<Vec<(String, Box<dyn armlet_machine::SerialFactory>)>> {
    use armlet_machine::serial::SerialSpec;
    let uarts: Vec<&str> = board.uart_names();
    let mut out: Vec<(String, Box<dyn armlet_machine::SerialFactory>)> = Vec::new();
    let mut next = 0;
    for s in specs {
        let (name, spec) = match s.split_once('=') {
            Some((n, sp)) if !n.contains(':') => (n.to_string(), sp),
            _ => {
                let n = uarts.get(next).with_context(|| {
                    format!("--serial {s}: the board has only {} UART(s)", uarts.len())
                })?;
                next += 1;
                (n.to_string(), s.as_str())
            }
        };
        let spec = SerialSpec::parse(spec).map_err(|e| anyhow::anyhow!("--serial {s}: {e}"))?;
        out.push((name, Box::new(spec)));
    }
    Ok(out)
}

fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    run_loading(args, &[], None)
}

/// `ARMLET_SEMIHOSTING_ROOT` and `ARMLET_ALLOW_SYSTEM`: opting in to QEMU's semihosting
/// freedom without editing the command line (a script, a cargo runner). Options on the
/// command line win. Returns the root and whether SYS_SYSTEM is allowed.
fn semihosting_policy(args: &RunArgs) -> anyhow::Result<(Option<PathBuf>, bool)> {
    const ROOT: &str = "ARMLET_SEMIHOSTING_ROOT";
    const SYSTEM: &str = "ARMLET_ALLOW_SYSTEM";
    let env_root = std::env::var_os(ROOT).filter(|v| !v.is_empty());
    let env_system = match std::env::var(SYSTEM).as_deref() {
        Err(_) | Ok("" | "0" | "no" | "off" | "false") => false,
        Ok("1" | "yes" | "on" | "true") => true,
        Ok(v) => anyhow::bail!("{SYSTEM}={v}: expected 1 (allow) or 0"),
    };
    if args.no_semihosting {
        return Ok((None, false));
    }
    let root = match (&args.semihosting_root, env_root) {
        (Some(r), _) => Some(r.clone()),
        (None, Some(r)) => {
            tracing::info!("semihosting file access confined to {r:?} ({ROOT})");
            Some(PathBuf::from(r))
        }
        (None, None) => None,
    };
    let system = args.allow_system || env_system;
    if system && root.is_none() {
        anyhow::bail!(
            "{SYSTEM}=1: SYS_SYSTEM runs commands inside the semihosting root; give one with \
             --semihosting-root DIR or {ROOT}=DIR"
        );
    }
    if env_system && !args.allow_system {
        tracing::info!("semihosting SYS_SYSTEM allowed ({SYSTEM})");
    }
    Ok((root, system))
}

/// The address ranges an ELF32 file's PT_LOAD segments occupy (physical addresses, memory
/// size), as far as its headers can be read.
fn elf_ranges(bytes: &[u8]) -> Vec<(u64, u64)> {
    let u16_at = |o: usize| {
        bytes
            .get(o..o + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    let u32_at = |o: usize| {
        bytes
            .get(o..o + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let (Some(phoff), Some(phentsize), Some(phnum)) = (u32_at(28), u16_at(42), u16_at(44)) else {
        return Vec::new();
    };
    (0..usize::from(phnum))
        .filter_map(|i| {
            let ph = phoff as usize + i * usize::from(phentsize);
            let (kind, paddr, memsz) = (u32_at(ph)?, u32_at(ph + 12)?, u32_at(ph + 20)?);
            (kind == 1 && memsz > 0)
                .then(|| (u64::from(paddr), u64::from(paddr) + u64::from(memsz)))
        })
        .collect()
}

/// Load one `armlet qemu` image (`-kernel`, `-device loader`) as QEMU does: an ELF by its
/// segments, anything else (or `force-raw=on`) as raw bytes at its address. Images may not
/// overlap (QEMU refuses that too); `loaded` holds the ranges loaded so far. Returns the PC
/// the core starts at, when the loader sets it (`cpu-num=`).
fn load_image(
    m: &mut Machine,
    l: &qemu::Load,
    loaded: &mut Vec<(u64, u64, String)>,
) -> anyhow::Result<Option<u32>> {
    let bytes = std::fs::read(&l.file).with_context(|| format!("{}: cannot read", l.file))?;
    let elf = !l.force_raw && bytes.starts_with(b"\x7fELF");
    let ranges = if elf {
        elf_ranges(&bytes)
    } else {
        vec![(u64::from(l.addr), u64::from(l.addr) + bytes.len() as u64)]
    };
    for &(a, e) in &ranges {
        if let Some((pa, pe, pf)) = loaded.iter().find(|(pa, pe, _)| a < *pe && *pa < e) {
            anyhow::bail!(
                "{}: its bytes at {a:#x}..{e:#x} overlap {pf} ({pa:#x}..{pe:#x}); \
                 as on QEMU, images may not overlap",
                l.file
            );
        }
    }
    loaded.extend(ranges.into_iter().map(|(a, e)| (a, e, l.file.clone())));
    if elf {
        m.load_elf(&bytes).with_context(|| l.file.clone())?;
        // e_entry of an ELF32 header (the loader has checked the class and byte order).
        let entry = bytes
            .get(24..28)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .unwrap_or_default();
        return Ok(l.set_pc.then_some(entry));
    }
    let fits = u64::from(l.addr) + bytes.len() as u64 <= 1 << 32;
    if !fits || m.debug_write(l.addr, &bytes).is_err() {
        anyhow::bail!(
            "{}: {} bytes at {:#x} do not fit the board's memory",
            l.file,
            bytes.len(),
            l.addr
        );
    }
    if l.set_pc && l.addr & 1 == 0 {
        tracing::warn!(
            "-device loader,file={},cpu-num=...: the core starts at {:#x} in ARM state, as on \
             QEMU, and takes an INVSTATE UsageFault (drop cpu-num= to start from the vector table)",
            l.file,
            l.addr
        );
    }
    Ok(l.set_pc.then_some(l.addr))
}

/// `run`, loading `loads` (from `armlet qemu`) instead of the firmware ELF when given, on
/// the board with its core replaced by `cpu` when given (`-M lm3s6965evb -cpu cortex-m4`).
fn run_loading(args: RunArgs, loads: &[qemu::Load], cpu: Option<&str>) -> anyhow::Result<ExitCode> {
    use armlet_machine::board::CpuModel;
    let mut board = resolve_board(&args.machine, args.machine_file.as_deref())?;
    if let Some(name) = cpu {
        board.cpu = [CpuModel::CortexM3, CpuModel::CortexM4, CpuModel::CortexM7]
            .into_iter()
            .find(|c| c.name() == name)
            .with_context(|| format!("-cpu {name}: not a core armlet emulates"))?;
    }
    let serial = serial_options(&board, &args.serial)?;
    let path = &args.firmware;
    if loads.is_empty() && path.is_dir() {
        anyhow::bail!(
            "{}: is a directory, not a firmware ELF file",
            path.display()
        );
    }
    let bytes = if loads.is_empty() {
        std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?
    } else {
        Vec::new()
    };
    let (semihosting_root, allow_system) = semihosting_policy(&args)?;
    let mut cmdline = vec![args
        .program_name
        .clone()
        .unwrap_or_else(|| path.display().to_string())];
    cmdline.extend(args.args.iter().cloned());
    let opts = MachineOptions {
        no_icache: args.no_icache,
        semihosting_root,
        allow_system,
        cmdline,
        no_semihosting: args.no_semihosting,
        serial,
        realtime: args.realtime,
        plugins: args.plugin.clone(),
        strict: args.strict,
        itm: args.itm || !args.itm_port.is_empty(),
        itm_ports: args.itm_port.clone(),
    };
    for p in &args.plugin {
        armlet_machine::plugin::load(p)?;
    }
    let mut m = Machine::new(board, opts, Box::new(StdConsole::new()))?;
    if loads.is_empty() {
        m.load_elf(&bytes)
            .with_context(|| path.display().to_string())?;
    } else {
        let (mut pc, mut loaded) = (None, Vec::new());
        for l in loads {
            pc = load_image(&mut m, l, &mut loaded)?.or(pc);
        }
        // The core resets from the vector table of everything loaded; a loader with
        // cpu-num= then sets the PC (the last one wins), as QEMU's generic loader.
        m.reset();
        if let Some(pc) = pc {
            m.cpu.state.r[15] = pc & !1;
            m.cpu.state.thumb = pc & 1 != 0;
        }
    }
    let epoch = args.epoch.unwrap_or_default().seconds();
    m.semihosting.set_epoch(epoch);
    tracing::info!(
        "epoch {epoch} ({}): SYS_TIME at virtual time 0",
        epoch::format_utc(epoch)
    );

    let signal = Arc::new(AtomicUsize::new(0));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register_usize(sig, Arc::clone(&signal), sig as usize)
            .context("cannot install signal handler")?;
    }
    let plugin_failed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    if args.on_plugin_failure == OnPluginFailure::Stop {
        let (flag, failed) = (Arc::clone(&signal), Arc::clone(&plugin_failed));
        armlet_machine::plugin::on_failure(Box::new(move |_| {
            failed.store(true, std::sync::atomic::Ordering::Relaxed);
            flag.store(PLUGIN_FAILED, std::sync::atomic::Ordering::Relaxed)
        }));
    }
    let start = Instant::now();
    let limits = Limits {
        max_instructions: args.max_instructions,
        deadline: args
            .timeout
            .map(|t| start + Duration::from_secs_f64(t.max(0.0))),
        stop: Some(&signal),
        ..Default::default()
    };
    // Only plugin callbacks can keep the run loop from noticing a stop, so without plugins
    // there is nothing to enforce (and no thread to start).
    let _enforcer = armlet_machine::plugin::any_loaded()
        .then(|| StopEnforcer::start(Arc::clone(&signal), limits.deadline));
    let outcome = match &args.gdb {
        Some(addr) => {
            let opts = armlet_gdb::Options {
                addr: armlet_gdb::parse_addr(addr).map_err(anyhow::Error::msg)?,
                wait: args.wait,
            };
            let (machine, outcome) = armlet_gdb::serve(m, &opts, &limits)
                .with_context(|| format!("--gdb {addr}: cannot serve"))?;
            m = machine;
            outcome
        }
        None => m.run_to_end(&limits),
    };
    let code = match outcome {
        _ if plugin_failed.load(std::sync::atomic::Ordering::Relaxed) => {
            eprintln!(
                "armlet: stopped: a plugin device failed (--on-plugin-failure stop)\n{}",
                m.state_report()
            );
            ExitCode::from(code::ERROR)
        }
        Outcome::Exited(status) => ExitCode::from(status as u8),
        Outcome::InstructionLimit(n) => {
            eprintln!(
                "armlet: instruction limit reached ({n} instructions)\n{}",
                m.state_report()
            );
            ExitCode::from(code::LIMIT)
        }
        Outcome::Timeout => {
            eprintln!(
                "armlet: timeout after {:.3} s (wall clock)\n{}",
                start.elapsed().as_secs_f64(),
                m.state_report()
            );
            ExitCode::from(code::LIMIT)
        }
        Outcome::Interrupted(sig) => {
            eprintln!("armlet: interrupted by signal {sig}\n{}", m.state_report());
            ExitCode::from(code::SIGNAL_BASE + sig as u8)
        }
        Outcome::Guest(exit) => {
            eprintln!("armlet: {exit}\n{}", m.state_report());
            ExitCode::from(Outcome::Guest(exit).exit_status() as u8)
        }
    };
    if args.stats {
        let secs = start.elapsed().as_secs_f64();
        let n = m.instructions();
        eprintln!(
            "armlet: stats: instructions={n} cycles={} virtual_ns={} wall_s={secs:.6} mips={:.1} epoch={epoch}",
            m.cycles(),
            m.virtual_ns(),
            n as f64 / secs.max(1e-9) / 1e6
        );
    }
    Ok(code)
}
