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
#[command(after_help = "\
Exit status of `armlet test`:
  0    every test passed (or was skipped)
  1    a test failed: the firmware ran and did not do what its manifest expects
  125  a test could not run (missing or unloadable firmware, unknown machine, unreadable
       expected output, bad regex: a JUnit <error>), or a bad manifest
  2    bad command line")]
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
    /// Where the guest's wall clock (SYS_TIME) starts for tests without an `epoch` key: `now`,
    /// SECONDS since 1970 or an ISO 8601 DATE (see `armlet run --epoch`). `now` is read once,
    /// so every test (and a failure's replay) sees the same epoch. Default 2026-01-01T00:00:00Z.
    #[arg(long, value_name = "now|SECONDS|DATE", value_parser = crate::epoch::parse_arg)]
    epoch: Option<crate::epoch::Epoch>,
    /// Every UNPREDICTABLE encoding is UNDEFINED in every test (see `armlet run --strict`).
    #[arg(long)]
    strict: bool,
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
    /// Where the guest's wall clock starts, as `--epoch`: `"now"`, seconds since 1970 (a
    /// number or a string) or an ISO 8601 date (a string or a TOML date/date-time).
    epoch: Option<toml::Value>,
    /// Whether `qemu-check.py` runs it under QEMU (ignored here).
    #[serde(default)]
    #[allow(dead_code)]
    qemu: Option<bool>,
    /// Every UNPREDICTABLE encoding is UNDEFINED, as `armlet run --strict`.
    #[serde(default)]
    strict: bool,
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
    /// The manifest's `epoch`, if it has one.
    epoch: Option<crate::epoch::Epoch>,
    /// The epoch this test runs with, in seconds (resolved once: replays see the same).
    epoch_secs: u64,
}

#[derive(Debug)]
enum Status {
    Pass,
    /// The firmware ran and did not do what the manifest expects (JUnit `<failure>`).
    Fail(String),
    /// The test could not run or be checked: firmware missing or not loadable, machine or
    /// manifest error, unreadable expected output (JUnit `<error>`).
    Error(String),
    Skip(String),
}

struct Result {
    name: String,
    status: Status,
    time: Duration,
    instructions: u64,
    /// The console output, byte for byte.
    stdout: Vec<u8>,
    /// What the firmware wrote to semihosting stderr, byte for byte.
    stderr: Vec<u8>,
    epoch: u64,
}

/// Failures of runs up to this long are replayed with a trace (tracing runs uncached).
const TRACE_REPLAY_MAX: u64 = 10_000_000;
/// The longest a failure's traced replay may take (wall clock).
const REPLAY_WALL_MAX: Duration = Duration::from_secs(20);

/// What running one test left behind: how it ended, the machine, its captured stdout and
/// stderr.
type Finished = (Outcome, Machine, Arc<Mutex<Vec<u8>>>, Arc<Mutex<Vec<u8>>>);

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

/// A manifest's `epoch` value.
fn manifest_epoch(v: &toml::Value) -> std::result::Result<crate::epoch::Epoch, String> {
    use crate::epoch::Epoch;
    match v {
        toml::Value::Integer(n) => u64::try_from(*n)
            .map_err(|_| format!("epoch {n} is before 1970"))
            .and_then(|n| Epoch::parse(&n.to_string())),
        toml::Value::String(s) => Epoch::parse(s),
        toml::Value::Datetime(d) => Epoch::parse(&d.to_string()),
        other => Err(format!(
            "epoch must be \"now\", seconds or an ISO 8601 date, not {}",
            other.type_str()
        )),
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
            let epoch = spec
                .epoch
                .as_ref()
                .map(manifest_epoch)
                .transpose()
                .map_err(|e| anyhow::anyhow!("{}: test '{}': {e}", p.display(), spec.name))?;
            tests.push(Test {
                spec,
                dir: dir.clone(),
                epoch,
                epoch_secs: 0,
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
    let err = Arc::clone(&cap.err);
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
        strict: spec.strict,
        itm: spec.itm,
        ..Default::default()
    };
    let mut m = Machine::new(board, opts, Box::new(cap))?;
    m.load_elf(&bytes)
        .with_context(|| fw.display().to_string())?;
    m.semihosting.set_epoch(t.epoch_secs);
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
            // The replay stops where the run did (instruction count), and like it at the
            // virtual-time limit; a wall-clock bound too, so a failure that sleeps (a core
            // waiting for a plugin's thread) can never hang the report.
            m.run_to_end(&Limits {
                max_instructions: Some(count),
                max_cycles: virt,
                deadline: Some(Instant::now() + REPLAY_WALL_MAX),
                stop: None,
            })
        }
        None => m.run_to_end(&limits),
    };
    drop(root);
    Ok((outcome, m, out, err))
}

/// Quote `s` for a POSIX shell if it needs it.
fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The `armlet run` command line that reproduces a test (same firmware, board, serial
/// backends, epoch, arguments and limits).
fn replay_command(t: &Test) -> String {
    let spec = &t.spec;
    let mut v = vec!["armlet".to_string(), "run".into()];
    v.push(t.dir.join(&spec.firmware).display().to_string());
    match &spec.machine_file {
        Some(f) => v.extend(["--machine-file".into(), t.dir.join(f).display().to_string()]),
        None => v.extend([
            "--machine".into(),
            spec.machine.clone().unwrap_or_else(|| "mps2-an385".into()),
        ]),
    }
    for s in &spec.serial {
        v.extend(["--serial".into(), s.clone()]);
    }
    for p in &spec.plugins {
        v.extend(["--plugin".into(), t.dir.join(p).display().to_string()]);
    }
    v.extend(["--epoch".into(), t.epoch_secs.to_string()]);
    if spec.strict {
        v.push("--strict".into());
    }
    if spec.itm {
        v.push("--itm".into());
    }
    if let Some(n) = spec.max_instructions {
        v.extend(["--max-instructions".into(), n.to_string()]);
    }
    let mut line: Vec<String> = v.iter().map(|a| shell_quote(a)).collect();
    if spec.semihosting_root {
        // A fresh empty directory, as the test had.
        line.push("--semihosting-root \"$(mktemp -d)\"".into());
    }
    if !spec.args.is_empty() {
        line.push("--".into());
        line.extend(spec.args.iter().map(|a| shell_quote(a)));
    }
    match (&spec.stdin, &spec.stdin_file) {
        (Some(text), _) => line.insert(0, format!("printf '%s' {} |", shell_quote(text))),
        (None, Some(f)) => line.push(format!(
            "< {}",
            shell_quote(&t.dir.join(f).display().to_string())
        )),
        (None, None) => {}
    }
    line.join(" ")
}

/// Bytes for display in a report: UTF-8 as is, anything else escaped.
fn shown(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).unwrap_or_else(|_| escape_text(b))
}

fn run_one(t: &Test, no_icache: bool) -> Result {
    let spec = &t.spec;
    let start = Instant::now();
    let mut res = Result {
        name: spec.name.clone(),
        status: Status::Pass,
        time: Duration::ZERO,
        instructions: 0,
        stdout: Vec::new(),
        stderr: Vec::new(),
        epoch: t.epoch_secs,
    };
    if let Some(why) = &spec.skip {
        res.status = Status::Skip(why.clone());
        return res;
    }
    let outcome = execute(t, no_icache, None, start);
    res.time = start.elapsed();
    let (outcome, mut m, out, err) = match outcome {
        Ok(x) => x,
        Err(e) => {
            res.status = Status::Error(format!("cannot run: {e:#}"));
            return res;
        }
    };
    res.instructions = m.instructions();
    res.stdout = out.lock().unwrap_or_else(|e| e.into_inner()).clone();
    res.stderr = err.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut problems = Vec::new();
    // Problems of the test itself (not of the firmware): the result is an error.
    let mut errors = Vec::new();
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
    if let Outcome::Guest(armlet_machine::Exit::Unsupported(_)) = &outcome {
        // armlet's limitation, not the firmware's behaviour.
        errors.push(format!("armlet cannot run this test: {reason}"));
    } else if status != spec.exit_code {
        let mut p = format!(
            "exit status {status}, expected {}: {reason}",
            spec.exit_code
        );
        let shown_later = spec.stdout.is_some()
            || spec.stdout_file.is_some()
            || spec.stdout_contains.is_some()
            || spec.stdout_regex.is_some();
        if !shown_later && !res.stdout.is_empty() {
            let text = shown(&res.stdout);
            let lines: Vec<&str> = text.lines().collect();
            let tail = &lines[lines.len().saturating_sub(20)..];
            p.push_str(&format!(
                "\noutput (last {} lines):\n{}",
                tail.len(),
                tail.join("\n")
            ));
        }
        problems.push(p);
    }
    // Expected output is compared byte for byte.
    let want = match (&spec.stdout, &spec.stdout_file) {
        (Some(s), _) => Some(s.clone().into_bytes()),
        (None, Some(f)) => match std::fs::read(t.dir.join(f)) {
            Ok(s) => Some(s),
            Err(e) => {
                errors.push(format!("{}: cannot read: {e}", t.dir.join(f).display()));
                None
            }
        },
        _ => None,
    };
    let got = shown(&res.stdout);
    if let Some(want) = want {
        if want != res.stdout {
            problems.push(format!("output differs:\n{}", diff(&shown(&want), &got)));
        }
    }
    if let Some(sub) = &spec.stdout_contains {
        let found = sub.is_empty() || res.stdout.windows(sub.len()).any(|w| w == sub.as_bytes());
        if !found {
            problems.push(format!("output does not contain {sub:?}:\n{got}"));
        }
    }
    if let Some(re) = &spec.stdout_regex {
        match regex::bytes::Regex::new(re) {
            Ok(r) if r.is_match(&res.stdout) => {}
            Ok(_) => problems.push(format!("output does not match /{re}/:\n{got}")),
            Err(e) => errors.push(format!("bad stdout_regex: {e}")),
        }
    }
    if !problems.is_empty() || !errors.is_empty() {
        let is_error = !errors.is_empty();
        errors.extend(problems);
        let mut text = errors.join("\n");
        if !matches!(outcome, Outcome::Exited(_)) {
            text.push_str("\nstate at the end:\n");
            text.push_str(&m.state_report());
            // Runs are deterministic: replay with a trace to show how it got there.
            if res.instructions <= TRACE_REPLAY_MAX {
                if let Ok((_, mut replay, _, _)) =
                    execute(t, true, Some((16, res.instructions + 1)), Instant::now())
                {
                    text.push_str("\nlast instructions (replayed):\n");
                    text.push_str(&replay.trace_report());
                }
            }
        }
        text.push_str(&format!(
            "\nepoch: {} ({})\nreproduce: {}",
            t.epoch_secs,
            crate::epoch::format_utc(t.epoch_secs),
            replay_command(t)
        ));
        res.status = if is_error {
            Status::Error(text)
        } else {
            Status::Fail(text)
        };
    }
    res
}

/// True for the characters a JUnit report holds as they are: XML 1.0 text that parsers and
/// `quick-junit` neither drop nor normalise (no control characters but LF: not CR, which XML
/// parsers turn into LF, nor TAB, which `quick-junit` drops; no noncharacters U+FFFE/U+FFFF).
fn xml_safe(c: char) -> bool {
    matches!(c, '\n' | ' '..='~' | '\u{a0}'..='\u{fffd}' | '\u{10000}'..)
}

/// The escaped text of output that is not all XML-safe: each byte of an unsafe character and
/// each byte that is not UTF-8 becomes `\xNN`, a backslash becomes `\\`; everything else is
/// as it is. Reversible.
fn escape_text(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len());
    for chunk in b.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => s.push_str("\\\\"),
                c if xml_safe(c) => s.push(c),
                c => {
                    let mut buf = [0u8; 4];
                    for byte in c.encode_utf8(&mut buf).bytes() {
                        s.push_str(&format!("\\x{byte:02X}"));
                    }
                }
            }
        }
        for byte in chunk.invalid() {
            s.push_str(&format!("\\x{byte:02X}"));
        }
    }
    s
}

/// Standard base64 (RFC 4648, with padding).
fn base64(b: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(b.len().div_ceil(3) * 4);
    for c in b.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                s.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

fn junit(results: &[Result], path: &Path, epoch: u64) -> anyhow::Result<()> {
    use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};
    let mut report = Report::new("armlet");
    let mut suite = TestSuite::new("firmware");
    suite.add_property(Property::new("epoch", epoch.to_string()));
    for r in results {
        let status = match &r.status {
            Status::Pass => TestCaseStatus::success(),
            Status::Fail(msg) | Status::Error(msg) => {
                let kind = match r.status {
                    Status::Error(_) => NonSuccessKind::Error,
                    _ => NonSuccessKind::Failure,
                };
                let mut s = TestCaseStatus::non_success(kind);
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
        tc.add_property(Property::new("epoch", r.epoch.to_string()));
        for (stream, bytes) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
            if stream == "stderr" && bytes.is_empty() {
                continue;
            }
            let text = match std::str::from_utf8(bytes) {
                Ok(text) if text.chars().all(xml_safe) => text.to_string(),
                _ => {
                    // Not representable as XML text: an escaped copy to read, the exact
                    // bytes in base64 (see the README).
                    tc.add_property(Property::new(format!("{stream}-encoding"), "escaped"));
                    tc.add_property(Property::new(format!("{stream}-base64"), base64(bytes)));
                    escape_text(bytes)
                }
            };
            if stream == "stdout" {
                tc.set_system_out(text);
            } else {
                tc.set_system_err(text);
            }
        }
        suite.add_test_case(tc);
    }
    report.add_test_suite(suite);
    let xml = report.to_string().context("cannot render JUnit XML")?;
    std::fs::write(path, xml).with_context(|| format!("{}: cannot write", path.display()))
}

/// Run `armlet test`; returns the process exit status: 0 all passed (or skipped), 1 a test
/// failed, 125 a test could not run (an error; this wins over failures).
pub fn main(args: TestArgs) -> anyhow::Result<u8> {
    let mut tests = load(&args.manifests)?;
    // `now` is read once: every test and every replay sees the same epoch.
    let epoch = args.epoch.unwrap_or_default().seconds();
    let now = crate::epoch::Epoch::Now.seconds();
    for t in &mut tests {
        t.epoch_secs = match t.epoch {
            Some(crate::epoch::Epoch::Now) => now,
            Some(e) => e.seconds(),
            None => epoch,
        };
    }
    for t in &mut tests {
        let cwd = std::env::current_dir().unwrap_or_default();
        t.spec
            .plugins
            .extend(args.plugin.iter().map(|p| cwd.join(p)));
        t.spec.strict |= args.strict;
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
                    Status::Fail(_) | Status::Error(_) => (p, f + 1),
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
                    Status::Error(msg) => {
                        let _ =
                            writeln!(err, "ERROR  {}: {}", r.name, msg.replace('\n', "\n       "));
                    }
                    Status::Skip(why) => {
                        let _ = writeln!(err, "skip   {}: {why}", r.name);
                    }
                }
                let (p, f) = match r.status {
                    Status::Pass => (p + 1, f),
                    Status::Fail(_) | Status::Error(_) => (p, f + 1),
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
        junit(&results, path, epoch)?;
    }
    let passed = results
        .iter()
        .filter(|r| matches!(r.status, Status::Pass))
        .count();
    let failed = results
        .iter()
        .filter(|r| matches!(r.status, Status::Fail(_)))
        .count();
    let errors = results
        .iter()
        .filter(|r| matches!(r.status, Status::Error(_)))
        .count();
    let skipped = results.len() - passed - failed - errors;
    let mut summary = format!("{passed} passed, {failed} failed");
    if skipped > 0 {
        summary.push_str(&format!(", {skipped} skipped"));
    }
    if errors > 0 {
        summary.push_str(&format!(
            ", {errors} {} (could not run)",
            if errors == 1 { "error" } else { "errors" }
        ));
    }
    crate::out(&format!("{summary}\n"));
    eprintln!(
        "armlet test: {total} tests in {:.2} s with {jobs} jobs",
        started.elapsed().as_secs_f64()
    );
    Ok(if errors > 0 {
        crate::code::ERROR
    } else if failed > 0 {
        1
    } else {
        0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (plain, enc) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), enc);
        }
        assert_eq!(base64(&[0, 0xff, 0xfe]), "AP/+");
    }

    #[test]
    fn escaped_text_is_xml_safe_and_marks_only_what_it_must() {
        let s = escape_text(b"a\\b\tc\r\n\x00\x1b\xc3\xa9\xc2\x85\xef\xbf\xbf\xff");
        assert_eq!(
            s,
            "a\\\\b\\x09c\\x0D\n\\x00\\x1B\u{e9}\\xC2\\x85\\xEF\\xBF\\xBF\\xFF"
        );
        assert!(s.chars().all(xml_safe));
    }

    #[test]
    fn replay_lines_quote_for_the_shell() {
        assert_eq!(shell_quote("a/b-c.elf"), "a/b-c.elf");
        assert_eq!(shell_quote("it's here"), "'it'\\''s here'");
        assert_eq!(shell_quote(""), "''");
        let spec: Spec = toml::from_str(
            "name = \"t\"\nfirmware = \"fw.elf\"\nstdin = \"x y\"\nargs = [\"a b\"]\nsemihosting_root = true\n",
        )
        .unwrap();
        let t = Test {
            spec,
            dir: PathBuf::from("/d"),
            epoch: None,
            epoch_secs: 5,
        };
        assert_eq!(
            replay_command(&t),
            "printf '%s' 'x y' | armlet run /d/fw.elf --machine mps2-an385 --epoch 5 \
             --semihosting-root \"$(mktemp -d)\" -- 'a b'"
        );
        // Every manifest key that changes the run is on the line.
        let spec: Spec =
            toml::from_str("name = \"t\"\nfirmware = \"fw.elf\"\nstrict = true\nitm = true\n")
                .unwrap();
        let t = Test {
            spec,
            dir: PathBuf::from("/d"),
            epoch: None,
            epoch_secs: 5,
        };
        assert_eq!(
            replay_command(&t),
            "armlet run /d/fw.elf --machine mps2-an385 --epoch 5 --strict --itm"
        );
    }
}
