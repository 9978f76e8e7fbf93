//! The `armlet` command line as a user sees it: exit codes, error messages, limits.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const EXIT_LIMIT: i32 = 124;
const EXIT_ERROR: i32 = 125;
const EXIT_FAULT: i32 = 126;
const EXIT_DEADLOCK: i32 = 123;

fn fw(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../firmware-tests")
        .join(rel)
}

fn built(name: &str) -> PathBuf {
    let p = fw(&format!("build/{name}.elf"));
    assert!(
        p.exists(),
        "{} missing: run `make -C firmware-tests`",
        p.display()
    );
    p
}

fn armlet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_armlet"))
        .args(args)
        .output()
        .expect("run armlet")
}

fn run_file(path: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["run", path.to_str().expect("utf-8 path")];
    args.extend_from_slice(extra);
    armlet(&args)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// One line on stderr naming the file, the documented exit code, and no panic.
fn assert_bad_input(o: &Output, path: &Path, what: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(EXIT_ERROR), "stderr: {err}");
    assert!(!err.contains("panicked"), "panic: {err}");
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "want one line, got: {err}"
    );
    assert!(
        err.contains(&path.display().to_string()),
        "error does not name the file: {err}"
    );
    assert!(
        err.to_lowercase().contains(what),
        "error does not say '{what}': {err}"
    );
}

#[test]
fn prebuilt_hello_greets_and_exits_zero() {
    let o = run_file(&fw("prebuilt/hello.elf"), &[]);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    assert_eq!(stdout(&o), "Hello from armlet!\n");
}

#[test]
fn garbage_file_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("garbage.elf");
    std::fs::write(&p, b"this is certainly not an ELF file, just text\n").unwrap();
    assert_bad_input(&run_file(&p, &[]), &p, "not an elf");
}

#[test]
fn empty_file_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("empty.elf");
    std::fs::write(&p, b"").unwrap();
    assert_bad_input(&run_file(&p, &[]), &p, "empty");
}

#[test]
fn truncated_elf_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let hello = std::fs::read(fw("prebuilt/hello.elf")).unwrap();
    for cut in [20, 52, 100, hello.len() / 2] {
        let p = dir.path().join(format!("cut{cut}.elf"));
        std::fs::write(&p, &hello[..cut]).unwrap();
        assert_bad_input(&run_file(&p, &[]), &p, "truncated");
    }
}

#[test]
fn x86_64_elf_is_rejected() {
    let p = PathBuf::from("/bin/true");
    let bytes = std::fs::read(&p).unwrap();
    assert_eq!(&bytes[..4], b"\x7fELF");
    assert_bad_input(&run_file(&p, &[]), &p, "x86-64");
}

#[test]
fn missing_file_is_rejected() {
    let p = PathBuf::from("/nonexistent/firmware.elf");
    assert_bad_input(&run_file(&p, &[]), &p, "cannot read");
}

#[test]
fn unknown_machine_lists_the_known_ones() {
    let o = run_file(&fw("prebuilt/hello.elf"), &["--machine", "pdp11"]);
    assert_eq!(o.status.code(), Some(EXIT_ERROR));
    assert!(stderr(&o).contains("mps2-an385"), "{}", stderr(&o));
}

#[test]
fn exit_extended_passes_the_subcode_through() {
    let o = run_file(&built("exit3"), &[]);
    assert_eq!(o.status.code(), Some(3), "stderr: {}", stderr(&o));
}

#[test]
fn instruction_limit_stops_a_spinning_firmware_and_keeps_its_output() {
    let o = run_file(&built("loop"), &["--max-instructions", "100000", "--stats"]);
    assert_eq!(o.status.code(), Some(EXIT_LIMIT), "stderr: {}", stderr(&o));
    assert_eq!(stdout(&o), "looping\n");
    assert!(stderr(&o).contains("instruction limit"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("instructions=100000 "),
        "{}",
        stderr(&o)
    );
}

#[test]
fn timeout_stops_a_spinning_firmware_and_keeps_its_output() {
    let start = std::time::Instant::now();
    let o = run_file(&built("loop"), &["--timeout", "1"]);
    let took = start.elapsed().as_secs_f64();
    assert_eq!(o.status.code(), Some(EXIT_LIMIT), "stderr: {}", stderr(&o));
    assert_eq!(stdout(&o), "looping\n");
    assert!(stderr(&o).contains("timeout"), "{}", stderr(&o));
    assert!((0.9..5.0).contains(&took), "took {took} s");
}

#[test]
fn sigint_stops_the_run_and_keeps_the_output() {
    let child = Command::new(env!("CARGO_BIN_EXE_armlet"))
        .args(["run", built("loop").to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn armlet");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let start = std::time::Instant::now();
    let o = child.wait_with_output().unwrap();
    assert!(start.elapsed().as_secs_f64() < 2.0, "took too long to stop");
    assert_eq!(o.status.code(), Some(130), "stderr: {}", stderr(&o));
    assert_eq!(stdout(&o), "looping\n");
    assert!(stderr(&o).contains("interrupted"), "{}", stderr(&o));
}

#[test]
fn undefined_instruction_reports_the_fault() {
    let o = run_file(&built("udf"), &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(EXIT_FAULT), "stderr: {err}");
    assert_eq!(stdout(&o), "about to fault\n");
    assert!(err.contains("UNDEFINSTR"), "{err}");
    assert!(err.contains("udf #0"), "no disassembly: {err}");
    assert!(err.contains("pc="), "no registers: {err}");
    assert!(err.contains("<main"), "no symbol: {err}");
}

#[test]
fn help_documents_exit_codes() {
    let o = armlet(&["run", "--help"]);
    assert_eq!(o.status.code(), Some(0));
    let s = stdout(&o);
    for code in ["124", "125", "126"] {
        assert!(s.contains(code), "--help lacks exit code {code}: {s}");
    }
}

#[test]
fn wfi_with_nothing_to_wake_it_is_a_deadlock() {
    let o = run_file(&built("wfi_deadlock"), &["--timeout", "20"]);
    assert_eq!(
        o.status.code(),
        Some(EXIT_DEADLOCK),
        "stderr: {}",
        stderr(&o)
    );
    assert_eq!(stdout(&o), "going to sleep for good\n");
    assert!(stderr(&o).contains("deadlock"), "{}", stderr(&o));
}

#[test]
fn ten_seconds_of_wfi_sleep_take_well_under_a_second() {
    let start = std::time::Instant::now();
    let o = run_file(&built("sys_sleep10"), &["--stats", "--timeout", "20"]);
    let took = start.elapsed().as_secs_f64();
    assert_eq!(
        o.status.code(),
        Some(0),
        "stdout: {}\nstderr: {}",
        stdout(&o),
        stderr(&o)
    );
    let err = stderr(&o);
    let ns: u64 = err
        .split("virtual_ns=")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("stats line");
    assert!(ns >= 10_000_000_000, "only {ns} ns of virtual time");
    assert!(
        took < 1.0,
        "10 s of virtual sleep took {took:.3} s of wall time"
    );
}

#[test]
fn machines_show_prints_a_machine_file_that_runs() {
    let o = armlet(&["machines", "show", "mps2-an385"]);
    assert_eq!(o.status.code(), Some(0));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("board.toml");
    std::fs::write(
        &file,
        stdout(&o).replace("name = \"mps2-an385\"", "name = \"custom\""),
    )
    .unwrap();
    let o = run_file(&built("hello"), &["--machine-file", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    assert_eq!(stdout(&o), "Hello from armlet!\n");
}

#[test]
fn bad_machine_file_names_the_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("board.toml");
    std::fs::write(
        &file,
        "name = \"b\"\ndescription = \"d\"\ncpu = \"cortex-m3\"\ncpu_hz = 1000\n\n[[region]]\nname = \"ram\"\nbase = 0\nsize = 4096\nkind = \"ram\"\nflavour = 1\n",
    )
    .unwrap();
    let o = run_file(&built("hello"), &["--machine-file", file.to_str().unwrap()]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(EXIT_ERROR), "{err}");
    assert!(err.contains(file.to_str().unwrap()), "{err}");
    assert!(err.contains("line 11"), "{err}");
    assert!(err.contains("flavour"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn serial_file_and_null_backends() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("uart0.txt");
    let spec = format!("uart0=file:{}", file.display());
    let o = run_file(&built("uart_hello_an385"), &["--serial", &spec]);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("Hello from mps2-an385 UART"),
        "file: {text:?}"
    );
    assert!(
        !stdout(&o).contains("Hello from mps2-an385 UART"),
        "UART output went to stdout too: {}",
        stdout(&o)
    );
    let o = run_file(&built("uart_hello_an385"), &["--serial", "null"]);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    assert!(!stdout(&o).contains("UART"), "{}", stdout(&o));
    let o = run_file(&built("uart_hello_an385"), &["--serial", "uart9=null"]);
    assert_eq!(o.status.code(), Some(EXIT_ERROR));
    assert!(stderr(&o).contains("uart9"), "{}", stderr(&o));
}

#[test]
fn serial_tcp_bridge_waits_for_a_client_and_delivers_everything() {
    use std::io::Read;
    // Find a free port, then let armlet listen on it and wait for us.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_armlet"))
        .args([
            "run",
            built("uart_hello_an385").to_str().unwrap(),
            "--serial",
            &format!("tcp:127.0.0.1:{port},wait"),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut sock = None;
    for _ in 0..200 {
        if let Ok(s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            sock = Some(s);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let mut sock = sock.expect("armlet did not listen");
    let mut got = String::new();
    sock.read_to_string(&mut got).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    assert!(
        got.contains("Hello from mps2-an385 UART"),
        "tcp got {got:?}"
    );
}

// ---- Output is never lost --------------------------------------------------------------

/// `firmware-tests/build/NAME.elf`, built with make if missing (for firmware not in `make`'s
/// default target list).
fn make_built(name: &str) -> PathBuf {
    let p = fw(&format!("build/{name}.elf"));
    let ok = Command::new("make")
        .arg("-s")
        .arg("-C")
        .arg(fw(""))
        .arg(format!("build/{name}.elf"))
        .status()
        .expect("make (needs arm-none-eabi-gcc)");
    assert!(ok.success(), "make build/{name}.elf failed");
    p
}

/// The instruction count `--stats` printed.
fn stats_instructions(stderr: &str) -> u64 {
    let at = stderr.find("instructions=").expect("--stats line") + "instructions=".len();
    stderr[at..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .expect("a count")
}

/// Run `print_flood` (numbered lines as fast as it can, via semihosting or the UART), send
/// `signal` once some output has arrived, and check that stdout holds every line the guest
/// wrote before the run stopped: numbered without gaps, well formed, and byte for byte what
/// a deterministic run stopped at the same instruction count (`--max-instructions`) prints.
fn flood_then_signal(signal: &str, status: i32, uart: bool) {
    use std::io::Read;
    let elf = make_built("print_flood");
    let mut args = vec![
        "run".to_string(),
        elf.display().to_string(),
        "--stats".into(),
    ];
    if uart {
        args.extend(["--".into(), "uart".into()]);
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_armlet"))
        .args(&args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn armlet");
    let mut out = child.stdout.take().unwrap();
    let mut got = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    // Some output first (and keep reading: a full pipe would block the emulator).
    while got.len() < 256 * 1024 {
        let n = out.read(&mut buf).unwrap();
        assert!(n > 0, "armlet ended early");
        got.extend_from_slice(&buf[..n]);
    }
    assert!(Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    out.read_to_end(&mut got).unwrap();
    let o = child.wait_with_output().unwrap();
    let se = stderr(&o);
    assert_eq!(o.status.code(), Some(status), "{se}");
    assert!(se.contains("interrupted by signal"), "{se}");

    // Well formed and numbered without gaps; for semihosting (a line per call) no partial
    // line, for the UART (a byte at a time) at most a prefix of the next line.
    const FILLER: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMN\n";
    let text = String::from_utf8(got.clone()).expect("utf-8");
    let mut lines = 0usize;
    let mut rest = text.as_str();
    while let Some(end) = rest.find('\n') {
        let want = format!("line {lines:08} {FILLER}");
        assert_eq!(&rest[..=end], want, "line {lines}");
        rest = &rest[end + 1..];
        lines += 1;
    }
    let next = format!("line {lines:08} {FILLER}");
    assert!(next.starts_with(rest), "partial last line {rest:?}");
    if !uart {
        assert_eq!(rest, "", "semihosting writes whole lines");
    }
    assert!(lines > 1000, "{lines} lines");

    // Exactly what the guest wrote up to the instruction where the run stopped.
    let n = stats_instructions(&se);
    let mut again = vec![
        "run".to_string(),
        elf.display().to_string(),
        "--max-instructions".into(),
        n.to_string(),
    ];
    if uart {
        again.extend(["--".into(), "uart".into()]);
    }
    let refs: Vec<&str> = again.iter().map(String::as_str).collect();
    let r = armlet(&refs);
    assert_eq!(r.status.code(), Some(EXIT_LIMIT), "{}", stderr(&r));
    assert!(
        r.stdout == got,
        "stopped by {signal} after {n} instructions: {} bytes on stdout, but the guest wrote {} by then",
        got.len(),
        r.stdout.len()
    );
}

#[test]
fn sigint_during_heavy_semihosting_output_loses_nothing() {
    flood_then_signal("INT", 130, false);
}

#[test]
fn sigterm_during_heavy_semihosting_output_loses_nothing() {
    flood_then_signal("TERM", 143, false);
}

#[test]
fn sigint_during_heavy_uart_output_loses_nothing() {
    flood_then_signal("INT", 130, true);
}

#[test]
fn sigterm_during_heavy_uart_output_loses_nothing() {
    flood_then_signal("TERM", 143, true);
}

// ---- Network defaults ------------------------------------------------------------------

/// Local addresses of the TCP sockets `pid` listens on, from /proc/PID/net/tcp{,6}, as
/// (hex address, port).
fn listening(pid: u32) -> Vec<(String, u16)> {
    let mut v = Vec::new();
    // Inodes of the process's own sockets, to ignore other processes' listeners.
    let mut mine = std::collections::HashSet::new();
    for e in std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .flatten()
    {
        if let Ok(l) = std::fs::read_link(e.path()) {
            let l = l.display().to_string();
            if let Some(i) = l.strip_prefix("socket:[") {
                mine.insert(i.trim_end_matches(']').to_string());
            }
        }
    }
    for f in ["tcp", "tcp6"] {
        let t = std::fs::read_to_string(format!("/proc/{pid}/net/{f}")).unwrap_or_default();
        for l in t.lines().skip(1) {
            let c: Vec<&str> = l.split_whitespace().collect();
            if c.len() > 9 && c[3] == "0A" && mine.contains(c[9]) {
                let (addr, port) = c[1].split_once(':').unwrap();
                v.push((addr.to_string(), u16::from_str_radix(port, 16).unwrap()));
            }
        }
    }
    v
}

/// Spawn armlet with `args`, wait until it listens, and return what it listens on.
fn listens_on(args: &[&str]) -> Vec<(String, u16)> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_armlet"))
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut found = Vec::new();
    for _ in 0..100 {
        std::thread::sleep(std::time::Duration::from_millis(50));
        found = listening(child.id());
        if !found.is_empty() {
            break;
        }
    }
    child.kill().unwrap();
    let _ = child.wait();
    found
}

#[test]
fn gdb_and_tcp_serial_listen_on_loopback_by_default() {
    let lp = built("loop");
    let fw = lp.to_str().unwrap();
    let gdb = listens_on(&["run", fw, "--gdb", "0", "--wait"]);
    assert_eq!(gdb.len(), 1, "{gdb:?}");
    assert_eq!(
        gdb[0].0, "0100007F",
        "GDB listens on {gdb:?}, not 127.0.0.1"
    );
    let serial = listens_on(&["run", fw, "--serial", "tcp::0"]);
    assert_eq!(serial.len(), 1, "{serial:?}");
    assert_eq!(
        serial[0].0, "0100007F",
        "serial listens on {serial:?}, not 127.0.0.1"
    );
    // Told otherwise, they listen where they are told.
    let any = listens_on(&["run", fw, "--gdb", "0.0.0.0:0", "--wait"]);
    assert_eq!(
        any.first().map(|a| a.0.as_str()),
        Some("00000000"),
        "{any:?}"
    );
}

/// The first line `time_libc.elf show` prints: `time: SECONDS (DATE UTC)`.
fn guest_time(o: &Output) -> u64 {
    let out = stdout(o);
    out.lines()
        .find_map(|l| l.strip_prefix("time: "))
        .and_then(|l| l.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no time line: {out}\n{}", stderr(o)))
}

fn host_time() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn epoch_sets_the_guest_wall_clock() {
    let elf = built("time_libc");
    // Default: the documented fixed epoch, a plausible date (picolibc: after 2020-09-13).
    let o = run_file(&elf, &["--stats", "--", "show"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "time: 1767225600 (2026-01-01 00:00:00 UTC)\ngettimeofday: 0 1767225600.000000\n\
         after 1.5 s: 1767225601 (2026-01-01 00:00:01 UTC)\nPASS time_libc\n"
    );
    assert!(stderr(&o).contains(" epoch=1767225600"), "{}", stderr(&o));
    // Reference values: `date -u -d @SECONDS`.
    for (arg, want) in [
        ("1700000000", 1_700_000_000),
        ("2024-02-29", 1_709_164_800),
        ("2024-02-29T12:00:00Z", 1_709_208_000),
        ("2024-02-29T12:00:00", 1_709_208_000),
        ("2024-02-29 13:00:00+01:00", 1_709_208_000),
    ] {
        let o = run_file(&elf, &["--epoch", arg, "--stats", "--", "show"]);
        assert_eq!(guest_time(&o), want, "--epoch {arg}");
        assert!(
            stderr(&o).contains(&format!(" epoch={want}")),
            "{}",
            stderr(&o)
        );
    }
    let o = run_file(&elf, &["--epoch", "now", "--", "show"]);
    assert!(guest_time(&o).abs_diff(host_time()) <= 5);
    // An old epoch: the firmware's own plausibility check fails, as on a board with a flat
    // RTC battery.
    let o = run_file(&elf, &["--epoch", "2019-01-01", "--", "show"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("not a plausible current date"));
}

#[test]
fn bad_epoch_values_are_clear_errors() {
    let elf = built("time_libc");
    for (arg, why) in [
        ("yesterday", "invalid epoch 'yesterday'"),
        ("2024-02-30", "day 30 is out of range (1-29)"),
        ("2024-02-29T24:00", "hour 24 is out of range"),
        ("-1", "not `now`, a number of seconds or a date"),
        ("1969-12-31", "year 1969 is out of range"),
        ("4294967296", "after 2106-02-07T06:28:15Z"),
    ] {
        let o = run_file(&elf, &[&format!("--epoch={arg}")]);
        assert_eq!(o.status.code(), Some(2), "{arg}");
        let err = stderr(&o);
        assert!(
            err.contains(why) && !err.contains("panicked"),
            "{arg}: {err}"
        );
    }
}

#[test]
fn qemu_rtc_base_sets_the_epoch() {
    let elf = built("time_libc");
    let qemu = |rtc: &[&str]| {
        let mut args = vec![
            "qemu",
            "-M",
            "mps2-an385",
            "-nographic",
            "-semihosting-config",
            "enable=on,target=native,arg=fw,arg=show",
        ];
        args.extend_from_slice(rtc);
        args.extend(["-kernel", elf.to_str().unwrap()]);
        armlet(&args)
    };
    assert_eq!(guest_time(&qemu(&[])), 1_767_225_600, "the default epoch");
    assert_eq!(
        guest_time(&qemu(&["-rtc", "base=2006-06-17T16:01:21"])),
        1_150_560_081
    );
    assert_eq!(
        guest_time(&qemu(&["-rtc", "base=2006-06-17,clock=vm,driftfix=slew"])),
        1_150_502_400
    );
    // base=utc is the host's clock, as in QEMU.
    let t = guest_time(&qemu(&["-rtc", "base=utc,clock=host"]));
    assert!(t.abs_diff(host_time()) <= 5, "{t}");
    let t = guest_time(&qemu(&["-rtc", "base=localtime"]));
    assert!(t.abs_diff(host_time()) <= 14 * 3600 + 5, "{t}");
    let o = qemu(&["-rtc", "base=someday"]);
    assert_eq!(o.status.code(), Some(EXIT_ERROR));
    assert!(
        stderr(&o).contains("-rtc base=someday: invalid epoch"),
        "{}",
        stderr(&o)
    );
}

/// LLVM's -O0 atomics use the UNPREDICTABLE 16-bit `cmp r0, r1` (CMP T2, both registers
/// low), which Cortex-M cores and QEMU execute as CMP: by default it runs to completion and
/// says so once per address at -v, with and without the decoded-instruction cache; with
/// `--strict` it is UNDEFINED (UsageFault UNDEFINSTR, here escalated into HardFault's `b .`).
#[test]
fn unpredictable_cmp_runs_by_default_and_faults_with_strict() {
    let elf = built("atomic_o0");
    for extra in [&["-v"][..], &["-v", "--no-icache"][..]] {
        let o = run_file(&elf, extra);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(0), "{extra:?}: {err}");
        assert_eq!(stdout(&o), "PASS atomic_o0\n");
        // The loop is inlined at a few call sites, each executed thousands of times: one
        // note per address.
        let notes: Vec<&str> = err
            .lines()
            .filter(|l| l.contains("UNPREDICTABLE"))
            .collect();
        let mut addrs: Vec<&str> = notes
            .iter()
            .map(|l| {
                l.split("UNPREDICTABLE at ")
                    .nth(1)
                    .unwrap_or("")
                    .split(':')
                    .next()
                    .unwrap_or("")
            })
            .collect();
        assert!((1..=8).contains(&notes.len()), "{extra:?}: {err}");
        addrs.sort_unstable();
        addrs.dedup();
        assert_eq!(
            addrs.len(),
            notes.len(),
            "{extra:?}: once per address: {err}"
        );
        for n in &notes {
            assert!(n.contains("0x4508 `cmp r0, r1`"), "{n}");
            assert!(n.contains("--strict"), "{n}");
        }
    }
    // Not without -v.
    assert!(!stderr(&run_file(&elf, &[])).contains("UNPREDICTABLE"));
    let o = run_file(&elf, &["--strict"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(EXIT_FAULT), "{err}");
    assert!(err.contains("UNDEFINSTR"), "{err}");
    assert!(
        err.contains("UNPREDICTABLE encoding 0x4508 (CMP (register) T2): UNDEFINED with --strict"),
        "{err}"
    );
    assert!(err.contains("<main+"), "no symbol: {err}");
    // `armlet test --strict` makes every test strict.
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = dir.path().join("t.toml");
    std::fs::write(
        &manifest,
        format!(
            "[[test]]\nname = \"atomics\"\nfirmware = \"{}\"\nexit_code = 0\n",
            elf.display()
        ),
    )
    .expect("write manifest");
    let m = manifest.to_str().expect("utf-8");
    assert_eq!(armlet(&["test", m]).status.code(), Some(0));
    let o = armlet(&["test", "--strict", m]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

/// panic-halt in an interrupt handler: a `b .` in timer0's handler (priority 0x40) while
/// SysTick (0x80) and timer0 itself keep interrupting and timer1 runs on a disabled line.
/// Nothing can preempt it: a deadlock at once (not 2,000,000 instructions of skipped time),
/// with a report that names the handler, its exception number and the PC's symbol; the same
/// with and without the decoded-instruction cache.
#[test]
fn a_b_dot_in_a_handler_nothing_can_preempt_is_a_deadlock_naming_the_handler() {
    let fw = built("handler_spin");
    for cache in [&[][..], &["--no-icache"][..]] {
        let mut args = vec!["--max-instructions", "2000000", "--timeout", "20"];
        args.extend_from_slice(cache);
        args.extend_from_slice(&["--", "irq"]);
        let o = run_file(&fw, &args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(EXIT_DEADLOCK), "{cache:?}: {err}");
        assert_eq!(stdout(&o), "b . in IRQ 8\n");
        assert!(err.contains("deadlock"), "{err}");
        assert!(
            err.contains("in the IRQ 8 handler (exception 24) at 0x"),
            "{err}"
        );
        assert!(err.contains("<IRQ8_Handler+0x"), "{err}");
        assert!(err.contains("execution priority 0x40"), "{err}");
    }
}

/// Firmware that waits for a debugger to enable the ITM (defmt-itm, cortex-m's iprintln!):
/// with `--itm` armlet enables it as a probe does, port 0 goes to stdout in order with the
/// semihosting output and port 1's binary stream reaches its `--itm-port` file byte for
/// byte; without it the firmware spins, deterministically, with no output.
#[test]
fn itm_enabled_like_a_probe_routes_port_0_to_stdout_and_port_1_to_a_file() {
    let fw = built("itm_probe");
    let dir = tempfile::tempdir().unwrap();
    let p1 = dir.path().join("port1.bin");
    let spec = format!("1={}", p1.display());
    for cache in [&[][..], &["--no-icache"][..]] {
        let mut args = vec!["--itm", "--itm-port", spec.as_str(), "--timeout", "20"];
        args.extend_from_slice(cache);
        let o = run_file(&fw, &args);
        assert_eq!(o.status.code(), Some(0), "{cache:?}: {}", stderr(&o));
        assert_eq!(
            stdout(&o),
            "Hello from ITM port 0\n\
             demcr.trcena set by the probe: ok\n\
             itm_tcr.itmena set by the probe: ok\n\
             itm_ter: every port: ok\n\
             itm_tpr: unprivileged access: ok\n\
             PASS itm_probe (4 checks)\n"
        );
        assert_eq!(
            std::fs::read(&p1).unwrap(),
            [0x00, 0xff, 0x0a, 0x34, 0x12, 0xef, 0xbe, 0xad, 0xde],
            "port 1, truncated at each run"
        );
    }
    // --itm-port alone implies --itm.
    let o = run_file(&fw, &["--itm-port", &spec, "--timeout", "20"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // Without a probe: it spins in the FIFOREADY poll, as on a board with no debugger.
    let o = run_file(&fw, &["--max-instructions", "200000"]);
    assert_eq!(o.status.code(), Some(124), "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
    // Bad ports and unwritable files are clear errors.
    let o = run_file(&fw, &["--itm-port", "32=x"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("not an ITM stimulus port (0-31)"),
        "{}",
        stderr(&o)
    );
    let bad = format!("1={}", dir.path().join("no/such/dir").display());
    let o = run_file(&fw, &["--itm-port", &bad]);
    assert_eq!(o.status.code(), Some(125));
    assert!(stderr(&o).contains("--itm-port 1="), "{}", stderr(&o));
}

/// A loop of several instructions that changes nothing (a -O0 panic-halt that calls a
/// function each iteration, inside SysTick with only a lower-priority timer interrupting) is
/// proven to repeat forever: a deadlock naming the handler and the loop, with the same
/// instruction count with and without the decoded-instruction cache; a `while (!flag);`
/// polling a device register instead runs to the instruction limit.
#[test]
fn a_multi_instruction_spin_that_changes_nothing_is_a_deadlock() {
    let fw = built("spin_loop");
    let mut counts = Vec::new();
    for cache in [&[][..], &["--no-icache"][..]] {
        let mut args = vec![
            "--max-instructions",
            "6000000",
            "--timeout",
            "20",
            "--stats",
        ];
        args.extend_from_slice(cache);
        args.extend_from_slice(&["--", "call"]);
        let o = run_file(&fw, &args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(EXIT_DEADLOCK), "{cache:?}: {err}");
        assert_eq!(stdout(&o), "-O0 loop with a call in SysTick\n");
        assert!(
            err.contains("spins in a loop of 13 instructions that changes nothing in the SysTick handler (exception 15)"),
            "{err}"
        );
        assert!(err.contains("execution priority 0x80"), "{err}");
        counts.push(stats_instructions(&err));
    }
    assert_eq!(
        counts[0], counts[1],
        "instruction counts with and without the cache"
    );
    let o = run_file(&fw, &["--max-instructions", "6000000", "--", "device"]);
    assert_eq!(o.status.code(), Some(EXIT_LIMIT), "{}", stderr(&o));
}
