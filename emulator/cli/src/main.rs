//! `armlet`: the command-line front end.

mod qemu;
mod test_runner;

use anyhow::Context as _;
use armlet_machine::semihosting::StdConsole;
use armlet_machine::{Board, Limits, Machine, MachineOptions, Outcome};
use clap::{ArgAction, Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Process exit codes other than the firmware's own (see `armlet_machine::exit_code`).
mod code {
    use armlet_machine::exit_code as c;
    pub const LIMIT: u8 = c::LIMIT as u8;
    pub const ERROR: u8 = c::ERROR as u8;
    pub const FAULT: u8 = c::FAULT as u8;
    pub const SIGNAL_BASE: u8 = c::SIGNAL_BASE as u8;
}

const AFTER_HELP: &str = "\
Exit status of `armlet run`:
  0-255  the firmware's own exit status (semihosting SYS_EXIT / SYS_EXIT_EXTENDED)
  124    instruction limit or timeout reached
  125    bad input or emulator error (e.g. not an ELF, unknown machine)
  126    guest fault, lockup or unhandled breakpoint
  130    interrupted (SIGINT); 143 for SIGTERM
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
    /// `qemu-system-arm`).
    #[command(after_help = concat!("Supported options:\n", "see `armlet qemu -help`"))]
    Qemu {
        /// qemu-system-arm options, e.g. `-M mps2-an385 -nographic -semihosting -kernel fw.elf`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// List the built-in machines.
    Machines,
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    /// Firmware ELF file.
    firmware: PathBuf,
    /// Board to run on (see `armlet machines`).
    #[arg(long, short = 'M', default_value = "mps2-an385")]
    machine: String,
    /// Stop after this many guest instructions (exit status 124).
    #[arg(long, value_name = "N")]
    max_instructions: Option<u64>,
    /// Stop after this many seconds of wall-clock time (exit status 124).
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<f64>,
    /// Decode every instruction each time instead of using the decoded-instruction cache.
    #[arg(long)]
    no_icache: bool,
    /// Allow semihosting file operations, confined to DIR.
    #[arg(long, value_name = "DIR")]
    semihosting_root: Option<PathBuf>,
    /// Allow semihosting SYS_SYSTEM (runs host commands inside the semihosting root).
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
    /// Arguments for the firmware (SYS_GET_CMDLINE).
    #[arg(last = true)]
    args: Vec<String>,
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
        .init();
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
    let cli = Cli::parse_from(argv);
    init_logging(cli.verbose, cli.quiet);
    let result = match cli.command {
        Command::Run(args) => run(args),
        Command::Test(args) => test_runner::main(args).map(ExitCode::from),
        Command::Qemu { args } => run_qemu(&args),
        Command::Machines => {
            for b in Board::builtin() {
                println!("{:<16} {}", b.name, b.description);
            }
            Ok(ExitCode::SUCCESS)
        }
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
        println!(
            "armlet qemu: qemu-system-arm compatible command line.\nSupported options:\n{}",
            qemu::SUPPORTED
        );
        return Ok(ExitCode::SUCCESS);
    }
    let q = qemu::parse(args)?;
    if q.list_machines {
        for b in Board::builtin() {
            println!("{:<16} {}", b.name, b.description);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut argv = vec!["armlet".to_string(), "run".to_string()];
    argv.extend(qemu::to_run_args(&q)?);
    match Cli::try_parse_from(argv)?.command {
        Command::Run(run_args) => run(run_args),
        _ => anyhow::bail!("internal error: qemu translation did not produce a run command"),
    }
}

fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let board = Board::by_name(&args.machine).with_context(|| {
        let names: Vec<String> = Board::builtin().into_iter().map(|b| b.name).collect();
        format!(
            "unknown machine '{}' (built-in machines: {})",
            args.machine,
            names.join(", ")
        )
    })?;
    let path = &args.firmware;
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let mut cmdline = vec![args
        .program_name
        .clone()
        .unwrap_or_else(|| path.display().to_string())];
    cmdline.extend(args.args.iter().cloned());
    let opts = MachineOptions {
        no_icache: args.no_icache,
        semihosting_root: args.semihosting_root.clone(),
        allow_system: args.allow_system,
        cmdline,
        no_semihosting: args.no_semihosting,
    };
    let mut m = Machine::new(board, opts, Box::new(StdConsole::new()))?;
    m.load_elf(&bytes)
        .with_context(|| path.display().to_string())?;

    let signal = Arc::new(AtomicUsize::new(0));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register_usize(sig, Arc::clone(&signal), sig as usize)
            .context("cannot install signal handler")?;
    }
    let start = Instant::now();
    let limits = Limits {
        max_instructions: args.max_instructions,
        deadline: args
            .timeout
            .map(|t| start + Duration::from_secs_f64(t.max(0.0))),
        stop: Some(&signal),
    };
    let code = match m.run_to_end(&limits) {
        Outcome::Exited(status) => ExitCode::from(status as u8),
        Outcome::InstructionLimit(n) => {
            eprintln!("armlet: instruction limit reached ({n} instructions)");
            ExitCode::from(code::LIMIT)
        }
        Outcome::Timeout => {
            eprintln!(
                "armlet: timeout after {:.3} s (wall clock)",
                start.elapsed().as_secs_f64()
            );
            ExitCode::from(code::LIMIT)
        }
        Outcome::Interrupted(sig) => {
            eprintln!("armlet: interrupted by signal {sig}\n{}", m.state_report());
            ExitCode::from(code::SIGNAL_BASE + sig as u8)
        }
        Outcome::Guest(exit) => {
            eprintln!("armlet: {exit}\n{}", m.state_report());
            ExitCode::from(code::FAULT)
        }
    };
    if args.stats {
        let secs = start.elapsed().as_secs_f64();
        let n = m.instructions();
        eprintln!(
            "armlet: stats: instructions={n} virtual_ns={} wall_s={secs:.6} mips={:.1}",
            m.virtual_ns(),
            n as f64 / secs.max(1e-9) / 1e6
        );
    }
    Ok(code)
}
