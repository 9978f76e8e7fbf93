//! Firmware benchmarks: armlet side by side with qemu-system-arm, in the same invocation.
//!
//! ```sh
//! make -C firmware-tests                       # builds firmware-tests/build/bench_*.elf
//! cargo bench -p armlet --bench firmware       # BENCH_RUNS=5 runs each, QEMU if installed
//! cargo bench -p armlet --bench firmware -- coremark hello   # only these (name substrings)
//! BENCH_QUICK=1 cargo bench --profile dev -p armlet --bench firmware   # CI (.ci/test)
//! ```
//!
//! `BENCH_QUICK=1` runs each benchmark once on armlet only and checks its result: what CI
//! does, with the dev profile so it reuses the test build (the figures then mean nothing).
//! A full run takes about two minutes with QEMU, which needs the real 10 s per run of the
//! sleepy benchmark (its SysTick runs in host time).
//!
//! The benchmarks are listed in `firmware-tests/bench/benchmarks.toml`. Each firmware checks
//! its own result; every run (armlet and QEMU) must exit 0 and print the manifest's `expect`
//! line, and armlet's instruction count must be identical from run to run, or the bench fails.
//! It reports per benchmark: guest instructions (armlet's `--stats`), median wall time of the
//! whole process (spawn to exit), guest MIPS (instructions / wall), peak memory (the child's
//! max RSS from `wait4`), and the same for QEMU with the ratios armlet/QEMU. QEMU's MIPS uses
//! armlet's instruction count: the programs are deterministic, so both execute the same
//! instructions (interrupt benchmarks excepted: see `baseline` in the manifest). Runs of
//! armlet and QEMU alternate, so load on the machine affects both alike.
//!
//! Environment: `BENCH_RUNS` (default 5), `BENCH_QUICK=1`, `BENCH_QEMU` (path of
//! qemu-system-arm, or `off`), `BENCH_TIMEOUT` (seconds per run, default 300), `BENCH_JSON`
//! (default `<target dir>/bench/results.json`).

use serde::Deserialize;
use std::fmt::Write as _;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    bench: Vec<Bench>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct Bench {
    name: String,
    what: String,
    firmware: String,
    expect: String,
    machine: Option<String>,
    #[serde(default = "yes")]
    qemu: bool,
    baseline: Option<String>,
    count_line: Option<String>,
    target_mips_vs_qemu: Option<f64>,
    target_wall_s: Option<f64>,
    target_rss_mib: Option<f64>,
    target_of_baseline: Option<f64>,
}

fn yes() -> bool {
    true
}

/// One measured process.
#[derive(Debug)]
struct Proc {
    /// Exit status, or None if killed by a signal.
    status: Option<i32>,
    signal: Option<i32>,
    wall: f64,
    /// User + system CPU seconds of the child.
    cpu: f64,
    /// Peak resident set size, KiB (None where wait4 is not available).
    max_rss_kib: Option<u64>,
    stdout: String,
    stderr: String,
    timed_out: bool,
}

#[cfg(target_os = "linux")]
mod sys {
    use std::ffi::{c_int, c_long};

    #[repr(C)]
    #[derive(Default)]
    pub struct Timeval {
        pub sec: c_long,
        pub usec: c_long,
    }

    /// `struct rusage` (Linux): two timevals, then 14 longs, the first being ru_maxrss (KiB).
    #[repr(C)]
    #[derive(Default)]
    pub struct Rusage {
        pub utime: Timeval,
        pub stime: Timeval,
        pub maxrss: c_long,
        pub rest: [c_long; 13],
    }

    extern "C" {
        pub fn wait4(pid: c_int, status: *mut c_int, options: c_int, rusage: *mut Rusage) -> c_int;
        pub fn kill(pid: c_int, sig: c_int) -> c_int;
    }

    pub const SIGKILL: c_int = 9;
    pub const EINTR: i32 = 4;
}

/// Runs `cmd` to completion, measuring wall time (spawn to exit), CPU time and peak RSS of
/// this child alone (`wait4`), capturing stdout and stderr; kills it after `timeout`.
fn measure(cmd: &mut Command, timeout: Duration) -> std::io::Result<Proc> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd.spawn()?;
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    // A watchdog that kills the child if it overruns; told to stand down once it is reaped.
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let pid = child.id();
    let watchdog = std::thread::spawn(move || {
        if done_rx.recv_timeout(timeout).is_err() {
            kill_pid(pid);
            true
        } else {
            false
        }
    });
    let (status, signal, cpu, max_rss_kib) = wait_child(&mut child)?;
    let wall = start.elapsed().as_secs_f64();
    let _ = done_tx.send(());
    let timed_out = watchdog.join().unwrap_or(false);
    let stdout = String::from_utf8_lossy(&t_out.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&t_err.join().unwrap_or_default()).into_owned();
    Ok(Proc {
        status,
        signal,
        wall,
        cpu,
        max_rss_kib,
        stdout,
        stderr,
        timed_out,
    })
}

type Waited = (Option<i32>, Option<i32>, f64, Option<u64>);

#[cfg(target_os = "linux")]
fn wait_child(child: &mut std::process::Child) -> std::io::Result<Waited> {
    let pid = child.id() as i32;
    let mut status: i32 = 0;
    let mut ru = sys::Rusage::default();
    loop {
        // SAFETY: `pid` is our own child, not yet reaped (std only reaps in wait/try_wait,
        // which are never called on it); `status` and `ru` are valid for writes and `Rusage`
        // has the layout of Linux's `struct rusage` (2 timevals + 14 longs).
        let r = unsafe { sys::wait4(pid, &mut status, 0, &mut ru) };
        if r == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        if r == -1 && e.raw_os_error() == Some(sys::EINTR) {
            continue;
        }
        return Err(e);
    }
    let (code, sig) = if status & 0x7f == 0 {
        (Some((status >> 8) & 0xff), None)
    } else {
        (None, Some(status & 0x7f))
    };
    let tv = |t: &sys::Timeval| t.sec as f64 + t.usec as f64 * 1e-6;
    let cpu = tv(&ru.utime) + tv(&ru.stime);
    Ok((code, sig, cpu, Some(ru.maxrss as u64)))
}

#[cfg(not(target_os = "linux"))]
fn wait_child(child: &mut std::process::Child) -> std::io::Result<Waited> {
    let st = child.wait()?;
    Ok((st.code(), None, f64::NAN, None))
}

#[cfg(target_os = "linux")]
fn kill_pid(pid: u32) {
    // SAFETY: plain kill(2) on our child's pid; it has not been reaped yet (the watchdog is
    // told to stand down right after the reap), so the pid cannot have been reused.
    unsafe {
        sys::kill(pid as i32, sys::SIGKILL);
    }
}

#[cfg(not(target_os = "linux"))]
fn kill_pid(_pid: u32) {}

/// armlet's `--stats` line: `armlet: stats: instructions=N cycles=N virtual_ns=N wall_s=S mips=M`.
#[derive(Debug, Clone, Copy, Default)]
struct Stats {
    instructions: u64,
    virtual_ns: u64,
    wall_s: f64,
}

fn parse_stats(stderr: &str) -> Option<Stats> {
    let line = stderr
        .lines()
        .rev()
        .find(|l| l.contains("stats: instructions="))?;
    let mut s = Stats::default();
    let mut have = false;
    for kv in line.split_whitespace() {
        let Some((k, v)) = kv.split_once('=') else {
            continue;
        };
        match k {
            "instructions" => {
                s.instructions = v.parse().ok()?;
                have = true;
            }
            "virtual_ns" => s.virtual_ns = v.parse().ok()?,
            "wall_s" => s.wall_s = v.parse().ok()?,
            _ => {}
        }
    }
    have.then_some(s)
}

fn count_from(stdout: &str, prefix: &str) -> Option<u64> {
    stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix(prefix.trim_end()))
        .and_then(|v| v.trim().parse().ok())
}

fn median(v: &[f64]) -> f64 {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
    if s.is_empty() {
        return f64::NAN;
    }
    s.sort_by(|a, b| a.total_cmp(b));
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

/// Measurements of one emulator on one benchmark.
#[derive(Debug, Default)]
struct Side {
    walls: Vec<f64>,
    cpus: Vec<f64>,
    rss_kib: Vec<u64>,
    /// Interrupt counts ("irqs N"), when the benchmark prints one.
    counts: Vec<u64>,
}

impl Side {
    fn wall(&self) -> f64 {
        median(&self.walls)
    }
    fn cpu(&self) -> f64 {
        median(&self.cpus)
    }
    fn peak_rss_mib(&self) -> Option<f64> {
        self.rss_kib.iter().max().map(|&k| k as f64 / 1024.0)
    }
    fn count(&self) -> Option<f64> {
        (!self.counts.is_empty())
            .then(|| median(&self.counts.iter().map(|&c| c as f64).collect::<Vec<_>>()))
    }
}

#[derive(Debug)]
struct BenchResult {
    bench: Bench,
    instructions: u64,
    virtual_ns: u64,
    armlet_internal_wall: Vec<f64>,
    armlet: Side,
    qemu: Option<Side>,
    /// QEMU's instruction count when it differs from armlet's (interrupt benchmarks).
    qemu_instructions: Option<f64>,
}

impl BenchResult {
    fn mips(&self) -> f64 {
        self.instructions as f64 / self.armlet.wall() / 1e6
    }
    fn qemu_insns(&self) -> f64 {
        self.qemu_instructions.unwrap_or(self.instructions as f64)
    }
    fn qemu_mips(&self) -> Option<f64> {
        self.qemu
            .as_ref()
            .map(|q| self.qemu_insns() / q.wall() / 1e6)
    }
}

struct Ctx {
    root: PathBuf,
    armlet: PathBuf,
    qemu: Option<PathBuf>,
    runs: usize,
    timeout: Duration,
}

fn describe_failure(who: &str, b: &Bench, p: &Proc, why: &str) -> String {
    let tail = |s: &str| {
        let lines: Vec<&str> = s.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n    ")
    };
    format!(
        "{who} on {}: {why}\n  status: {}\n  stdout:\n    {}\n  stderr:\n    {}",
        b.name,
        match (p.status, p.signal, p.timed_out) {
            (_, _, true) => "killed after the timeout (BENCH_TIMEOUT)".to_string(),
            (Some(c), _, _) => format!("exit {c}"),
            (None, Some(s), _) => format!("killed by signal {s}"),
            _ => "unknown".to_string(),
        },
        tail(&p.stdout),
        tail(&p.stderr)
    )
}

/// Checks a run's correctness: exit 0 and the expected line (on stdout, or for QEMU on
/// either stream: its semihosting console may go to stderr).
fn check(who: &str, b: &Bench, p: &Proc, both_streams: bool) -> Result<(), String> {
    if p.timed_out || p.status != Some(0) {
        return Err(describe_failure(who, b, p, "did not exit 0"));
    }
    let found = p.stdout.contains(&b.expect) || (both_streams && p.stderr.contains(&b.expect));
    if !found {
        return Err(describe_failure(
            who,
            b,
            p,
            &format!("output lacks the expected line {:?}", b.expect),
        ));
    }
    Ok(())
}

fn run_bench(ctx: &Ctx, b: &Bench) -> Result<BenchResult, String> {
    let elf = ctx.root.join("firmware-tests/bench").join(&b.firmware);
    let machine = b
        .machine
        .clone()
        .unwrap_or_else(|| "mps2-an385".to_string());
    let mut res = BenchResult {
        bench: b.clone(),
        instructions: 0,
        virtual_ns: 0,
        armlet_internal_wall: Vec::new(),
        armlet: Side::default(),
        qemu: None,
        qemu_instructions: None,
    };
    let qemu = ctx.qemu.as_ref().filter(|_| b.qemu);
    let mut qside = qemu.map(|_| Side::default());
    let tty = std::io::stderr().is_terminal();
    if !tty {
        eprintln!(
            "  {}: {} run(s) on armlet{}",
            b.name,
            ctx.runs,
            if qemu.is_some() {
                " and qemu-system-arm"
            } else {
                ""
            }
        );
    }
    for i in 0..ctx.runs {
        if tty {
            eprint!(
                "\r  {:<10} run {}/{} armlet{}   ",
                b.name,
                i + 1,
                ctx.runs,
                if qemu.is_some() { " + qemu" } else { "" }
            );
        }
        // armlet
        let p = measure(
            Command::new(&ctx.armlet)
                .arg("run")
                .arg(&elf)
                .arg("--machine")
                .arg(&machine)
                .arg("--stats"),
            ctx.timeout,
        )
        .map_err(|e| {
            format!(
                "armlet on {}: cannot run {}: {e}",
                b.name,
                ctx.armlet.display()
            )
        })?;
        check("armlet", b, &p, false)?;
        let st = parse_stats(&p.stderr)
            .ok_or_else(|| describe_failure("armlet", b, &p, "no --stats line on stderr"))?;
        if i == 0 {
            res.instructions = st.instructions;
            res.virtual_ns = st.virtual_ns;
        } else if st.instructions != res.instructions || st.virtual_ns != res.virtual_ns {
            return Err(format!(
                "armlet on {}: not deterministic: run 1 executed {} instructions ({} ns virtual), \
                 run {} {} ({} ns)",
                b.name,
                res.instructions,
                res.virtual_ns,
                i + 1,
                st.instructions,
                st.virtual_ns
            ));
        }
        res.armlet_internal_wall.push(st.wall_s);
        res.armlet.walls.push(p.wall);
        res.armlet.cpus.push(p.cpu);
        res.armlet.rss_kib.extend(p.max_rss_kib);
        if let Some(prefix) = &b.count_line {
            let n = count_from(&p.stdout, prefix)
                .ok_or_else(|| describe_failure("armlet", b, &p, &format!("no {prefix:?} line")))?;
            res.armlet.counts.push(n);
        }
        // QEMU, interleaved
        if let (Some(q), Some(side)) = (qemu, qside.as_mut()) {
            let p = measure(
                Command::new(q)
                    .arg("-M")
                    .arg(&machine)
                    .arg("-nographic")
                    .arg("-semihosting-config")
                    .arg("enable=on,target=native")
                    .arg("-kernel")
                    .arg(&elf),
                ctx.timeout,
            )
            .map_err(|e| format!("qemu on {}: cannot run {}: {e}", b.name, q.display()))?;
            check("qemu-system-arm", b, &p, true)?;
            side.walls.push(p.wall);
            side.cpus.push(p.cpu);
            side.rss_kib.extend(p.max_rss_kib);
            if let Some(prefix) = &b.count_line {
                let all = format!("{}\n{}", p.stdout, p.stderr);
                let n = count_from(&all, prefix).ok_or_else(|| {
                    describe_failure("qemu-system-arm", b, &p, &format!("no {prefix:?} line"))
                })?;
                side.counts.push(n);
            }
        }
    }
    if tty {
        eprint!("\r{:60}\r", "");
    }
    res.qemu = qside;
    Ok(res)
}

/// For a benchmark with a baseline (the same work without interrupts): QEMU's instruction
/// count, from the per-interrupt cost armlet measured and the interrupts QEMU took.
fn estimate_qemu_instructions(results: &mut [BenchResult]) {
    let base: Vec<(String, u64)> = results
        .iter()
        .map(|r| (r.bench.name.clone(), r.instructions))
        .collect();
    for r in results.iter_mut() {
        let Some(bname) = &r.bench.baseline else {
            continue;
        };
        let Some(&(_, base_insns)) = base.iter().find(|(n, _)| n == bname) else {
            continue;
        };
        let (Some(na), Some(nq)) = (r.armlet.count(), r.qemu.as_ref().and_then(Side::count)) else {
            continue;
        };
        if na > 0.0 {
            let per_irq = (r.instructions as f64 - base_insns as f64) / na;
            r.qemu_instructions = Some(base_insns as f64 + per_irq * nq);
        }
    }
}

fn baseline_fraction(results: &[BenchResult], r: &BenchResult) -> Option<f64> {
    let b = results
        .iter()
        .find(|x| Some(&x.bench.name) == r.bench.baseline.as_ref())?;
    Some(r.mips() / b.mips())
}

fn fmt_time(s: f64) -> String {
    if s.is_nan() {
        "-".into()
    } else if s < 0.1 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{s:.3} s")
    }
}

fn fmt_count(n: f64) -> String {
    if n >= 1e6 {
        format!("{:.1}M", n / 1e6)
    } else if n >= 1e3 {
        format!("{:.1}k", n / 1e3)
    } else {
        format!("{n:.0}")
    }
}

fn fmt_opt(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    v.filter(|x| x.is_finite())
        .map(f)
        .unwrap_or_else(|| "-".into())
}

fn table(ctx: &Ctx, results: &[BenchResult]) -> String {
    let mut t = String::new();
    let q = ctx.qemu.is_some();
    let _ = write!(t, "{:<10} {:>7} {:>8} |", "", "guest", "virtual");
    let _ = write!(t, " {:<38}", "armlet");
    if q {
        let _ = write!(t, "| {:<38}| {:<17}", "qemu-system-arm", "armlet / qemu");
    }
    t.push('\n');
    let _ = write!(
        t,
        "{:<10} {:>7} {:>8} | {:>9} {:>9} {:>8} {:>8} ",
        "benchmark", "insns", "time", "wall", "cpu", "MIPS", "RSS MiB"
    );
    if q {
        let _ = write!(
            t,
            "| {:>9} {:>9} {:>8} {:>8} | {:>7} {:>8}",
            "wall", "cpu", "MIPS", "RSS MiB", "wall", "MIPS"
        );
    }
    let t: String = t.lines().map(|l| l.trim_end().to_string() + "\n").collect();
    let width = t.lines().map(str::len).max().unwrap_or(0);
    let mut t = t + &"-".repeat(width) + "\n";
    for r in results {
        let _ = write!(
            t,
            "{:<10} {:>7} {:>8} | {:>9} {:>9} {:>8.1} {:>8} ",
            r.bench.name,
            fmt_count(r.instructions as f64),
            format!("{:.3}s", r.virtual_ns as f64 * 1e-9),
            fmt_time(r.armlet.wall()),
            fmt_time(r.armlet.cpu()),
            r.mips(),
            fmt_opt(r.armlet.peak_rss_mib(), |m| format!("{m:.1}")),
        );
        if q {
            match &r.qemu {
                Some(qs) => {
                    let est = if r.qemu_instructions.is_some() {
                        "~"
                    } else {
                        ""
                    };
                    let _ = write!(
                        t,
                        "| {:>9} {:>9} {:>8} {:>8} | {:>7} {:>8}",
                        fmt_time(qs.wall()),
                        fmt_time(qs.cpu()),
                        format!("{est}{:.1}", r.qemu_mips().unwrap_or(f64::NAN)),
                        fmt_opt(qs.peak_rss_mib(), |m| format!("{m:.1}")),
                        format!("{:.3}x", r.armlet.wall() / qs.wall()),
                        format!("{est}{:.3}x", r.mips() / r.qemu_mips().unwrap_or(f64::NAN)),
                    );
                }
                None => {
                    let _ = write!(t, "| (not run)");
                }
            }
        }
        t = t.trim_end().to_string();
        t.push('\n');
    }
    t
}

fn notes(results: &[BenchResult], targets_too: bool) -> String {
    let mut t = String::new();
    for r in results {
        if let (Some(f), None) = (baseline_fraction(results, r), r.armlet.count()) {
            // No interrupt count: the baseline is the reference compute benchmark (rtos vs
            // coremark), and QEMU's real-time SysTick makes its instruction count differ.
            let _ = writeln!(
                t,
                "{}: armlet MIPS is {:.1}% of {}'s{}",
                r.bench.name,
                f * 100.0,
                r.bench.baseline.as_deref().unwrap_or("?"),
                if r.qemu.is_some() {
                    " (QEMU's timers run in real time, so it executes a different number of \
                     instructions: its MIPS here is approximate)"
                } else {
                    ""
                }
            );
        } else if let Some(f) = baseline_fraction(results, r) {
            let _ = writeln!(
                t,
                "{}: armlet MIPS is {:.1}% of {}'s; {} interrupts on armlet{}",
                r.bench.name,
                f * 100.0,
                r.bench.baseline.as_deref().unwrap_or("?"),
                fmt_opt(r.armlet.count(), |n| format!("{n:.0}")),
                match (&r.qemu, r.qemu_instructions) {
                    (Some(q), Some(qi)) => format!(
                        ", {} on QEMU (its timers run in real time), so QEMU executed ~{} \
                         instructions (~: estimated)",
                        fmt_opt(q.count(), |n| format!("{n:.0}")),
                        fmt_count(qi)
                    ),
                    _ => String::new(),
                }
            );
        }
        if !targets_too {
            continue;
        }
        let mut targets = Vec::new();
        if let Some(t) = r.bench.target_mips_vs_qemu {
            if let Some(qm) = r.qemu_mips() {
                let v = r.mips() / qm;
                targets.push(format!(
                    "MIPS vs QEMU {v:.3}x (target >= {t}x) {}",
                    verdict(v >= t)
                ));
            }
        }
        if let Some(t) = r.bench.target_wall_s {
            let v = r.armlet.wall();
            targets.push(format!(
                "wall {} (target <= {}) {}",
                fmt_time(v),
                fmt_time(t),
                verdict(v <= t)
            ));
        }
        if let Some(t) = r.bench.target_rss_mib {
            if let Some(v) = r.armlet.peak_rss_mib() {
                targets.push(format!(
                    "peak RSS {v:.1} MiB (target <= {t} MiB) {}",
                    verdict(v <= t)
                ));
            }
        }
        if let (Some(t), Some(v)) = (r.bench.target_of_baseline, baseline_fraction(results, r)) {
            targets.push(format!(
                "{:.1}% of {}'s MIPS (target >= {:.0}%) {}",
                v * 100.0,
                r.bench.baseline.as_deref().unwrap_or("?"),
                t * 100.0,
                verdict(v >= t)
            ));
        }
        if !targets.is_empty() {
            let _ = writeln!(t, "target {}: {}", r.bench.name, targets.join("; "));
        }
    }
    t
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "NOT met"
    }
}

fn json_str(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn json_num(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        "null".into()
    }
}

fn json_opt(v: Option<f64>) -> String {
    v.map(json_num).unwrap_or_else(|| "null".into())
}

fn json_list(v: &[f64]) -> String {
    format!(
        "[{}]",
        v.iter()
            .map(|&x| json_num(x))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn json_side(s: &Side, insns: f64) -> String {
    format!(
        "{{\"wall_s_median\": {}, \"wall_s\": {}, \"cpu_s_median\": {}, \"mips\": {}, \
         \"mips_cpu\": {}, \"peak_rss_kib\": {}, \"interrupts\": {}}}",
        json_num(s.wall()),
        json_list(&s.walls),
        json_num(s.cpu()),
        json_num(insns / s.wall() / 1e6),
        json_num(insns / s.cpu() / 1e6),
        s.rss_kib
            .iter()
            .max()
            .map(|k| k.to_string())
            .unwrap_or_else(|| "null".into()),
        json_list(&s.counts.iter().map(|&c| c as f64).collect::<Vec<_>>()),
    )
}

fn to_json(ctx: &Ctx, results: &[BenchResult], load: (&str, &str), quick: bool) -> String {
    let mut j = String::from("{\n");
    let _ = writeln!(j, "  \"runs\": {},", ctx.runs);
    let _ = writeln!(j, "  \"quick\": {quick},");
    let _ = writeln!(
        j,
        "  \"armlet\": {},",
        json_str(&ctx.armlet.display().to_string())
    );
    let _ = writeln!(
        j,
        "  \"qemu\": {},",
        ctx.qemu
            .as_ref()
            .map(|q| json_str(&q.display().to_string()))
            .unwrap_or_else(|| "null".into())
    );
    let _ = writeln!(j, "  \"loadavg_start\": {},", json_str(load.0));
    let _ = writeln!(j, "  \"loadavg_end\": {},", json_str(load.1));
    let _ = writeln!(
        j,
        "  \"host_cpus\": {},",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    j.push_str("  \"benchmarks\": [\n");
    for (i, r) in results.iter().enumerate() {
        let insns = r.instructions as f64;
        j.push_str("    {");
        let _ = write!(
            j,
            "\"name\": {}, \"what\": {}, \"firmware\": {}, \"instructions\": {}, \
             \"virtual_ns\": {},\n     \"armlet\": {},\n     \"armlet_internal_wall_s\": {},\n",
            json_str(&r.bench.name),
            json_str(&r.bench.what),
            json_str(&r.bench.firmware),
            r.instructions,
            r.virtual_ns,
            json_side(&r.armlet, insns),
            json_list(&r.armlet_internal_wall),
        );
        let _ = write!(
            j,
            "     \"qemu\": {},\n     \"qemu_instructions\": {}, \"qemu_instructions_estimated\": {},\n",
            r.qemu
                .as_ref()
                .map(|q| json_side(q, r.qemu_insns()))
                .unwrap_or_else(|| "null".into()),
            r.qemu.as_ref().map_or("null".into(), |_| json_num(r.qemu_insns())),
            r.qemu_instructions.is_some(),
        );
        let _ = write!(
            j,
            "     \"wall_ratio_armlet_over_qemu\": {}, \"mips_ratio_armlet_over_qemu\": {}, \
             \"baseline\": {}, \"mips_fraction_of_baseline\": {}}}",
            json_opt(r.qemu.as_ref().map(|q| r.armlet.wall() / q.wall())),
            json_opt(r.qemu_mips().map(|qm| r.mips() / qm)),
            r.bench
                .baseline
                .as_deref()
                .map(json_str)
                .unwrap_or_else(|| "null".into()),
            json_opt(baseline_fraction(results, r)),
        );
        j.push_str(if i + 1 < results.len() { ",\n" } else { "\n" });
    }
    j.push_str("  ]\n}\n");
    j
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|f| f.is_file())
    })
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn main() -> ExitCode {
    match real_main() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn real_main() -> Result<ExitCode, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let root = root.canonicalize().unwrap_or(root);
    let armlet = PathBuf::from(env!("CARGO_BIN_EXE_armlet"));
    // cargo passes --bench; anything else not starting with '-' selects benchmarks by name.
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let quick = std::env::var("BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
    let runs = if quick {
        1
    } else {
        match std::env::var("BENCH_RUNS") {
            Ok(v) => v
                .parse::<usize>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("BENCH_RUNS={v:?}: want a positive integer"))?,
            Err(_) => 5,
        }
    };
    let timeout = match std::env::var("BENCH_TIMEOUT") {
        Ok(v) => Duration::from_secs_f64(
            v.parse::<f64>()
                .ok()
                .filter(|&s| s > 0.0)
                .ok_or_else(|| format!("BENCH_TIMEOUT={v:?}: want seconds"))?,
        ),
        Err(_) => Duration::from_secs(300),
    };
    let qemu = if quick {
        None
    } else {
        match std::env::var("BENCH_QEMU") {
            Ok(v) if v == "off" || v == "0" || v.is_empty() => None,
            Ok(v) => Some(PathBuf::from(v)),
            Err(_) => find_on_path("qemu-system-arm"),
        }
    };

    let manifest_path = root.join("firmware-tests/bench/benchmarks.toml");
    let text = std::fs::read_to_string(&manifest_path)
        .map_err(|e| format!("{}: {e}", manifest_path.display()))?;
    let manifest: Manifest =
        toml::from_str(&text).map_err(|e| format!("{}: {e}", manifest_path.display()))?;
    let mut benches: Vec<Bench> = manifest
        .bench
        .into_iter()
        .filter(|b| filters.is_empty() || filters.iter().any(|f| b.name.contains(f.as_str())))
        .collect();
    if benches.is_empty() {
        return Err(format!("no benchmark matches {filters:?}"));
    }
    // A benchmark with a baseline needs the baseline measured too.
    let wanted: Vec<String> = benches.iter().filter_map(|b| b.baseline.clone()).collect();
    let all: Manifest = toml::from_str(&text).map_err(|e| e.to_string())?;
    for w in wanted {
        if !benches.iter().any(|b| b.name == w) {
            if let Some(b) = all.bench.iter().find(|b| b.name == w) {
                benches.insert(0, b.clone());
            }
        }
    }

    let missing: Vec<String> = benches
        .iter()
        .map(|b| root.join("firmware-tests/bench").join(&b.firmware))
        .filter(|p| !p.is_file())
        .map(|p| p.display().to_string())
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "error: benchmark firmware not built:\n  {}\nbuild it first with `make -C firmware-tests` \
             (needs arm-none-eabi-gcc and newlib: \
             sudo apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)",
            missing.join("\n  ")
        );
        return Ok(ExitCode::FAILURE);
    }
    if !armlet.is_file() {
        return Err(format!("armlet binary not found at {}", armlet.display()));
    }

    let ctx = Ctx {
        root,
        armlet,
        qemu,
        runs,
        timeout,
    };
    let load_start = loadavg();
    eprintln!(
        "armlet firmware benchmarks: {} benchmark(s), {} run(s) each{}; armlet {}{}; load average {}",
        benches.len(),
        ctx.runs,
        if quick { " (BENCH_QUICK)" } else { "" },
        ctx.armlet.display(),
        match &ctx.qemu {
            Some(q) => format!(", alternating with {}", q.display()),
            None if quick => String::new(),
            None if std::env::var_os("BENCH_QEMU").is_some() => ", QEMU off (BENCH_QEMU)".into(),
            None => ", qemu-system-arm not found: armlet only".to_string(),
        },
        load_start
    );

    let mut results = Vec::new();
    let mut failures = Vec::new();
    for b in &benches {
        match run_bench(&ctx, b) {
            Ok(r) => results.push(r),
            Err(e) => {
                eprintln!("\nFAIL {e}");
                failures.push(b.name.clone());
            }
        }
    }
    estimate_qemu_instructions(&mut results);
    let load_end = loadavg();

    println!();
    print!("{}", table(&ctx, &results));
    println!(
        "medians of {} run(s). wall: the whole process, spawn to exit; cpu: its user + system \
         time; MIPS: guest instructions / wall; RSS: peak resident memory.",
        ctx.runs
    );
    if ctx.qemu.is_some() {
        println!(
            "armlet / qemu: wall below 1 and MIPS above 1 favour armlet. ~: QEMU's instruction \
             count estimated (interrupt counts differ)."
        );
    }
    println!("load average (1/5/15 min): {load_start} at start, {load_end} at end");
    let n = notes(&results, !quick);
    if !n.is_empty() {
        print!("{n}");
    }

    let json_path = match std::env::var_os("BENCH_JSON") {
        Some(p) => PathBuf::from(p),
        None => {
            // <target dir>/<profile>/armlet -> <target dir>/bench/results.json
            let target = ctx
                .armlet
                .parent()
                .and_then(Path::parent)
                .map(Path::to_path_buf)
                .unwrap_or_else(|| ctx.root.join("target"));
            target.join("bench/results.json")
        }
    };
    let json = to_json(&ctx, &results, (&load_start, &load_end), quick);
    if let Some(dir) = json_path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    match std::fs::write(&json_path, json) {
        Ok(()) => println!("results written to {}", json_path.display()),
        Err(e) => {
            eprintln!("error: cannot write {}: {e}", json_path.display());
            return Ok(ExitCode::FAILURE);
        }
    }

    if !failures.is_empty() {
        eprintln!(
            "error: {} benchmark(s) failed (wrong result, bad exit status or nondeterminism): {}",
            failures.len(),
            failures.join(", ")
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
