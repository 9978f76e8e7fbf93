//! `armlet test MANIFEST...`: run firmware tests from TOML manifests, in parallel.

use anyhow::{bail, Context as _};
use armlet_machine::semihosting::Console;
use armlet_machine::{Limits, Machine, MachineOptions, Outcome};
use serde::Deserialize;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `armlet test` options.
#[derive(clap::Args, Debug)]
pub struct TestArgs {
    /// Test manifests (TOML).
    #[arg(required = true)]
    manifests: Vec<PathBuf>,
    /// Tests to run at once (default: number of cores).
    #[arg(short, long)]
    jobs: Option<usize>,
    /// Write a JUnit XML report to FILE.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Run only shard K of N (1-based), e.g. `--partition 2/4`, to split tests across machines.
    #[arg(long, value_name = "K/N")]
    partition: Option<String>,
    /// Run only tests whose name contains one of these strings.
    #[arg(long, short = 'f', value_name = "TEXT")]
    filter: Vec<String>,
    /// Decode every instruction each time (see `armlet run --no-icache`).
    #[arg(long)]
    no_icache: bool,
    /// Load device types from this plugin library for every test (repeatable; see
    /// `armlet run --plugin`).
    #[arg(long, value_name = "PATH")]
    plugin: Vec<PathBuf>,
}

/// One test as written in a manifest.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    name: String,
    #[serde(alias = "elf")]
    firmware: PathBuf,
    #[serde(default)]
    machine: Option<String>,
    /// A machine file (relative to the manifest) instead of a built-in machine.
    machine_file: Option<PathBuf>,
    /// Plugin libraries (relative to the manifest), as `armlet run --plugin`.
    #[serde(default)]
    plugins: Vec<PathBuf>,
    /// Serial backends, as `armlet run --serial`.
    #[serde(default)]
    serial: Vec<String>,
    #[serde(default)]
    args: Vec<String>,
    stdin: Option<String>,
    stdin_file: Option<PathBuf>,
    #[serde(default)]
    exit_code: i32,
    stdout: Option<String>,
    stdout_file: Option<PathBuf>,
    stdout_contains: Option<String>,
    stdout_regex: Option<String>,
    /// Wall-clock timeout in seconds.
    timeout: Option<f64>,
    /// Virtual-time timeout in seconds.
    virtual_timeout: Option<f64>,
    max_instructions: Option<u64>,
    #[serde(default)]
    semihosting_root: bool,
    skip: Option<String>,
    /// Whether `qemu-check.py` runs it under QEMU (ignored here).
    #[serde(default)]
    #[allow(dead_code)]
    qemu: Option<bool>,
    /// Enable the ITM as a debug probe would (`armlet run --itm`): port 0 is captured as
    /// stdout.
    #[serde(default)]
    itm: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    #[serde(default)]
    test: Vec<Spec>,
}

struct Test {
    spec: Spec,
    dir: PathBuf,
}

#[derive(Debug)]
enum Status {
    Pass,
    Fail(String),
    Skip(String),
}

struct Result {
    name: String,
    status: Status,
    time: Duration,
    instructions: u64,
    stdout: String,
}

/// Failures of runs up to this long are replayed with a trace (tracing runs uncached).
const TRACE_REPLAY_MAX: u64 = 10_000_000;

/// What running one test left behind: how it ended, the machine, its captured stdout.
type Finished = (Outcome, Machine, Arc<Mutex<Vec<u8>>>);

/// Console capture for one test.
#[derive(Debug, Default)]
struct Capture {
    out: Arc<Mutex<Vec<u8>>>,
    err: Arc<Mutex<Vec<u8>>>,
    input: Vec<u8>,
    pos: usize,
}

impl Console for Capture {
    fn write_out(&mut self, b: &[u8]) {
        self.out
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(b);
    }
    fn write_err(&mut self, b: &[u8]) {
        self.err
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(b);
    }
    fn read_in(&mut self, buf: &mut [u8]) -> usize {
        let n = (self.input.len() - self.pos).min(buf.len());
        buf[..n].copy_from_slice(&self.input[self.pos..self.pos + n]);
        self.pos += n;
        n
    }
    fn try_read_in(&mut self) -> armlet_machine::device::Rx {
        match self.input.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                armlet_machine::device::Rx::Byte(b)
            }
            None => armlet_machine::device::Rx::Eof,
        }
    }
}

fn load(paths: &[PathBuf]) -> anyhow::Result<Vec<Test>> {
    let mut tests = Vec::new();
    for p in paths {
        let text =
            std::fs::read_to_string(p).with_context(|| format!("{}: cannot read", p.display()))?;
        let m: Manifest =
            toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
        let dir = p.parent().map(Path::to_path_buf).unwrap_or_default();
        for spec in m.test {
            let outputs = [spec.stdout.is_some(), spec.stdout_file.is_some()]
                .iter()
                .filter(|&&b| b)
                .count();
            if outputs > 1 {
                bail!(
                    "{}: test '{}': give at most one of stdout, stdout_file",
                    p.display(),
                    spec.name
                );
            }
            if tests.iter().any(|t: &Test| t.spec.name == spec.name) {
                bail!("{}: duplicate test name '{}'", p.display(), spec.name);
            }
            tests.push(Test {
                spec,
                dir: dir.clone(),
            });
        }
    }
    Ok(tests)
}

fn parse_partition(s: &str) -> anyhow::Result<(usize, usize)> {
    let (k, n) = s
        .split_once('/')
        .context("--partition wants K/N, e.g. 1/2")?;
    let (k, n): (usize, usize) = (k.trim().parse()?, n.trim().parse()?);
    if n == 0 || k == 0 || k > n {
        bail!("--partition {s}: need 1 <= K <= N");
    }
    Ok((k, n))
}

/// A line-based diff of expected and actual output.
fn diff(want: &str, got: &str) -> String {
    let d = similar::TextDiff::from_lines(want, got);
    let mut s = String::from("--- expected\n+++ actual\n");
    for change in d.iter_all_changes() {
        let sign = match change.tag() {
            similar::ChangeTag::Delete => '-',
            similar::ChangeTag::Insert => '+',
            similar::ChangeTag::Equal => ' ',
        };
        s.push(sign);
        s.push_str(change.value());
        if !change.value().ends_with('\n') {
            s.push_str("\n\\ no newline at end\n");
        }
    }
    s
}

/// Build the test's machine and run it. `trace`: re-run for diagnosis, recording the last
/// instructions (how many) and stopping after at most `count` instructions.
fn execute(
    t: &Test,
    no_icache: bool,
    trace: Option<(usize, u64)>,
    start: Instant,
) -> anyhow::Result<Finished> {
    let spec = &t.spec;
    let board_name = spec.machine.as_deref().unwrap_or("mps2-an385");
    let file = spec.machine_file.as_ref().map(|f| t.dir.join(f));
    let board = crate::resolve_board(board_name, file.as_deref())?;
    let serial = crate::serial_options(&board, &spec.serial)?;
    let cpu_hz = board.cpu_hz;
    let fw = t.dir.join(&spec.firmware);
    let bytes = std::fs::read(&fw).with_context(|| format!("{}: cannot read", fw.display()))?;
    let input = match (&spec.stdin, &spec.stdin_file) {
        (Some(s), _) => s.clone().into_bytes(),
        (None, Some(f)) => {
            std::fs::read(t.dir.join(f)).with_context(|| format!("{}: cannot read", f.display()))?
        }
        (None, None) => Vec::new(),
    };
    let root = if spec.semihosting_root {
        Some(tempfile::tempdir()?)
    } else {
        None
    };
    let cap = Capture {
        input,
        ..Default::default()
    };
    let out = Arc::clone(&cap.out);
    let mut cmdline = vec![spec.firmware.display().to_string()];
    cmdline.extend(spec.args.iter().cloned());
    let opts = MachineOptions {
        no_icache,
        semihosting_root: root.as_ref().map(|d| d.path().to_path_buf()),
        allow_system: false,
        cmdline,
        no_semihosting: false,
        serial,
        realtime: false,
        plugins: spec.plugins.iter().map(|p| t.dir.join(p)).collect(),
        itm: spec.itm,
        ..Default::default()
    };
    let mut m = Machine::new(board, opts, Box::new(cap))?;
    m.load_elf(&bytes)
        .with_context(|| fw.display().to_string())?;
    let virt = spec
        .virtual_timeout
        .map(|v| (v.max(0.0) * cpu_hz as f64) as u64);

    let limits = Limits {
        max_instructions: spec.max_instructions,
        max_cycles: virt,
        deadline: Some(start + Duration::from_secs_f64(spec.timeout.unwrap_or(60.0).max(0.0))),
        stop: None,
    };
    let outcome = match trace {
        Some((n, count)) => {
            m.cpu.enable_trace(n);
            m.run_to_end(&Limits {
                max_instructions: Some(count),
                ..Default::default()
            })
        }
        None => m.run_to_end(&limits),
    };
    drop(root);
    Ok((outcome, m, out))
}

fn run_one(t: &Test, no_icache: bool) -> Result {
    let spec = &t.spec;
    let start = Instant::now();
    let mut res = Result {
        name: spec.name.clone(),
        status: Status::Pass,
        time: Duration::ZERO,
        instructions: 0,
        stdout: String::new(),
    };
    if let Some(why) = &spec.skip {
        res.status = Status::Skip(why.clone());
        return res;
    }
    let outcome = execute(t, no_icache, None, start);
    res.time = start.elapsed();
    let (outcome, mut m, out) = match outcome {
        Ok(x) => x,
        Err(e) => {
            res.status = Status::Fail(format!("cannot run: {e:#}"));
            return res;
        }
    };
    res.instructions = m.instructions();
    res.stdout =
        String::from_utf8_lossy(&out.lock().unwrap_or_else(|e| e.into_inner())).into_owned();
    let mut problems = Vec::new();
    // The expected status is what `armlet run` would exit with: the firmware's own, or 124
    // (limit/timeout), 126 (fault) ...
    let status = outcome.exit_status();
    let reason = match &outcome {
        Outcome::Exited(c) => format!("firmware exited with status {c}"),
        Outcome::InstructionLimit(n) if spec.virtual_timeout.is_some() => {
            format!(
                "stopped by its virtual-time timeout or instruction limit after {n} instructions"
            )
        }
        Outcome::InstructionLimit(n) => {
            format!("stopped by its instruction limit after {n} instructions")
        }
        Outcome::Timeout => format!(
            "stopped by its wall-clock timeout after {:.1} s",
            res.time.as_secs_f64()
        ),
        Outcome::Interrupted(s) => format!("interrupted by signal {s}"),
        Outcome::Guest(e) => e.to_string(),
    };
    if status != spec.exit_code {
        problems.push(format!(
            "exit status {status}, expected {}: {reason}",
            spec.exit_code
        ));
    }
    let want = match (&spec.stdout, &spec.stdout_file) {
        (Some(s), _) => Some(s.clone()),
        (None, Some(f)) => match std::fs::read_to_string(t.dir.join(f)) {
            Ok(s) => Some(s),
            Err(e) => {
                problems.push(format!("{}: {e}", f.display()));
                None
            }
        },
        _ => None,
    };
    if let Some(want) = want {
        if want != res.stdout {
            problems.push(format!("output differs:\n{}", diff(&want, &res.stdout)));
        }
    }
    if let Some(sub) = &spec.stdout_contains {
        if !res.stdout.contains(sub.as_str()) {
            problems.push(format!("output does not contain {sub:?}:\n{}", res.stdout));
        }
    }
    if let Some(re) = &spec.stdout_regex {
        match regex::Regex::new(re) {
            Ok(r) if r.is_match(&res.stdout) => {}
            Ok(_) => problems.push(format!("output does not match /{re}/:\n{}", res.stdout)),
            Err(e) => problems.push(format!("bad stdout_regex: {e}")),
        }
    }
    if !problems.is_empty() {
        let mut text = problems.join("\n");
        if !matches!(outcome, Outcome::Exited(_)) {
            text.push_str("\nstate at the end:\n");
            text.push_str(&m.state_report());
            // Runs are deterministic: replay with a trace to show how it got there.
            if res.instructions <= TRACE_REPLAY_MAX {
                if let Ok((_, mut replay, _)) =
                    execute(t, true, Some((16, res.instructions + 1)), Instant::now())
                {
                    text.push_str("\nlast instructions (replayed):\n");
                    text.push_str(&replay.trace_report());
                }
            }
        }
        res.status = Status::Fail(text);
    }
    res
}

fn junit(results: &[Result], path: &Path) -> anyhow::Result<()> {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let mut report = Report::new("armlet");
    let mut suite = TestSuite::new("firmware");
    for r in results {
        let status = match &r.status {
            Status::Pass => TestCaseStatus::success(),
            Status::Fail(msg) => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(msg.lines().next().unwrap_or("failed"));
                s.set_description(msg.as_str());
                s
            }
            Status::Skip(why) => {
                let mut s = TestCaseStatus::skipped();
                s.set_message(why.as_str());
                s
            }
        };
        let mut tc = TestCase::new(r.name.as_str(), status);
        tc.set_time(r.time);
        tc.set_system_out(r.stdout.as_str());
        suite.add_test_case(tc);
    }
    report.add_test_suite(suite);
    let xml = report.to_string().context("cannot render JUnit XML")?;
    std::fs::write(path, xml).with_context(|| format!("{}: cannot write", path.display()))
}

/// Run `armlet test`; returns the process exit status (0 all passed, 1 otherwise).
pub fn main(args: TestArgs) -> anyhow::Result<u8> {
    let mut tests = load(&args.manifests)?;
    for t in &mut tests {
        let cwd = std::env::current_dir().unwrap_or_default();
        t.spec
            .plugins
            .extend(args.plugin.iter().map(|p| cwd.join(p)));
    }
    if !args.filter.is_empty() {
        tests.retain(|t| args.filter.iter().any(|f| t.spec.name.contains(f.as_str())));
    }
    if let Some(p) = &args.partition {
        let (k, n) = parse_partition(p)?;
        let mut i = 0;
        tests.retain(|_| {
            i += 1;
            (i - 1) % n == k - 1
        });
    }
    let total = tests.len();
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let tty = std::io::stderr().is_terminal();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Result)>> = Mutex::new(Vec::new());
    let running: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(total.max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(t) = tests.get(i) else { break };
                running
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(t.spec.name.clone());
                let r = run_one(t, args.no_icache);
                let mut run = running.lock().unwrap_or_else(|e| e.into_inner());
                run.retain(|n| n != &t.spec.name);
                let mut all = results.lock().unwrap_or_else(|e| e.into_inner());
                let (p, f) = all.iter().fold((0, 0), |(p, f), (_, r)| match r.status {
                    Status::Pass => (p + 1, f),
                    Status::Fail(_) => (p, f + 1),
                    Status::Skip(_) => (p, f),
                });
                let mut err = std::io::stderr().lock();
                if tty {
                    let _ = write!(err, "\r\x1b[K");
                }
                match &r.status {
                    Status::Pass => {
                        let _ = writeln!(
                            err,
                            "ok     {} ({:.0} ms, {} instructions)",
                            r.name,
                            r.time.as_secs_f64() * 1e3,
                            r.instructions
                        );
                    }
                    Status::Fail(msg) => {
                        let _ =
                            writeln!(err, "FAIL   {}: {}", r.name, msg.replace('\n', "\n       "));
                    }
                    Status::Skip(why) => {
                        let _ = writeln!(err, "skip   {}: {why}", r.name);
                    }
                }
                let (p, f) = match r.status {
                    Status::Pass => (p + 1, f),
                    Status::Fail(_) => (p, f + 1),
                    Status::Skip(_) => (p, f),
                };
                if tty {
                    let _ = write!(
                        err,
                        "[{}/{total}] {p} passed, {f} failed; running: {}",
                        all.len() + 1,
                        run.join(", ")
                    );
                    let _ = err.flush();
                }
                all.push((i, r));
            });
        }
    });
    let mut results: Vec<(usize, Result)> = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by_key(|(i, _)| *i);
    let results: Vec<Result> = results.into_iter().map(|(_, r)| r).collect();
    if tty {
        eprint!("\r\x1b[K");
    }
    if let Some(path) = &args.junit {
        junit(&results, path)?;
    }
    let passed = results
        .iter()
        .filter(|r| matches!(r.status, Status::Pass))
        .count();
    let failed = results
        .iter()
        .filter(|r| matches!(r.status, Status::Fail(_)))
        .count();
    let skipped = results.len() - passed - failed;
    let mut summary = format!("{passed} passed, {failed} failed");
    if skipped > 0 {
        summary.push_str(&format!(", {skipped} skipped"));
    }
    println!("{summary}");
    eprintln!(
        "armlet test: {total} tests in {:.2} s with {jobs} jobs",
        started.elapsed().as_secs_f64()
    );
    Ok(if failed == 0 { 0 } else { 1 })
}
