//! Soak tests: long runs must not grow armlet's memory. Each measures the resident set size
//! (VmRSS from /proc) of one armlet process during the run and prints the figures.
//!
//! The small versions run in CI; the full-size ones are `#[ignore]`d:
//!
//! ```sh
//! cargo build --release
//! ARMLET_SOAK_BIN=target/release/armlet cargo test -p armlet --test soak -- --ignored --nocapture
//! ```
//!
//! - 10^10 guest instructions (`loop.elf`, `--max-instructions`), RSS sampled every 0.5 s;
//! - 1,000 GDB connect / `?` / step / detach / disconnect cycles against one armlet process,
//!   over the raw remote protocol;
//! - 100,000 plugin MMIO calls (the crc32 C plugin, `soak_plugin.elf`).
//!
//! The firmware is built by `make -C firmware-tests` (arm-none-eabi-gcc); Linux only (/proc).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The armlet binary: `ARMLET_SOAK_BIN` (e.g. a release build) or this test's build.
fn bin() -> PathBuf {
    std::env::var_os("ARMLET_SOAK_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_armlet")))
}

fn firmware(name: &str) -> PathBuf {
    let ok = Command::new("make")
        .arg("-s")
        .arg("-C")
        .arg(root().join("firmware-tests"))
        .arg(format!("build/{name}.elf"))
        .status()
        .expect("make (needs arm-none-eabi-gcc)");
    assert!(ok.success(), "make build/{name}.elf");
    root().join(format!("firmware-tests/build/{name}.elf"))
}

/// Resident set size of `pid` in KiB.
fn rss_kib(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Wait for `child` to exit, returning its status code and stderr.
fn finish(child: Child) -> (Option<i32>, String) {
    let o = child.wait_with_output().unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

// ---- Instructions ------------------------------------------------------------------------

fn instructions(n: u64) {
    let start = Instant::now();
    let mut child = Command::new(bin())
        .arg("run")
        .arg(firmware("loop"))
        .args(["--max-instructions", &n.to_string(), "--stats"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut samples = Vec::new();
    while child.try_wait().unwrap().is_none() {
        std::thread::sleep(Duration::from_millis(500));
        let r = rss_kib(pid);
        if r > 0 {
            samples.push(r);
        }
    }
    let (code, se) = finish(child);
    assert_eq!(code, Some(124), "{se}");
    assert!(se.contains(&format!("instructions={n} ")), "{se}");
    let secs = start.elapsed().as_secs_f64();
    println!(
        "soak: {n} instructions in {secs:.1} s ({:.0} MIPS); RSS samples (KiB): {} taken, first {}, max {}, last {}",
        n as f64 / secs / 1e6,
        samples.len(),
        samples.first().unwrap_or(&0),
        samples.iter().max().unwrap_or(&0),
        samples.last().unwrap_or(&0)
    );
    // Flat: after the first sample (everything is mapped by then), RSS may not grow by more
    // than 1 MiB.
    if let (Some(&first), Some(&max)) = (samples.first(), samples.iter().max()) {
        assert!(
            max <= first + 1024,
            "RSS grew from {first} KiB to {max} KiB"
        );
    }
}

#[test]
fn soak_instructions_small() {
    instructions(300_000_000);
}

#[test]
#[ignore = "10^10 instructions: about a minute in a release build (ARMLET_SOAK_BIN)"]
fn soak_instructions_1e10() {
    instructions(10_000_000_000);
}

// ---- GDB connect / step / disconnect -----------------------------------------------------

/// A minimal GDB remote-protocol client (with acknowledgements).
struct Rsp {
    s: TcpStream,
}

impl Rsp {
    fn connect(addr: &str) -> Rsp {
        let s = TcpStream::connect(addr).expect("connect to the GDB server");
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s.set_nodelay(true).unwrap();
        Rsp { s }
    }

    /// Send `payload`, wait for the `+` and the reply packet; acknowledge it.
    fn ask(&mut self, payload: &str) -> String {
        let sum = payload.bytes().fold(0u8, |a, b| a.wrapping_add(b));
        write!(self.s, "${payload}#{sum:02x}").unwrap();
        let mut reply = Vec::new();
        let mut b = [0u8; 1];
        // Skip acks until the start of a packet.
        loop {
            self.s.read_exact(&mut b).expect("reply");
            if b[0] == b'$' {
                break;
            }
        }
        loop {
            self.s.read_exact(&mut b).expect("reply");
            if b[0] == b'#' {
                break;
            }
            reply.push(b[0]);
        }
        let mut cs = [0u8; 2];
        self.s.read_exact(&mut cs).unwrap();
        self.s.write_all(b"+").unwrap();
        String::from_utf8_lossy(&reply).into_owned()
    }
}

fn gdb_cycles(n: usize) {
    let mut child = Command::new(bin())
        .arg("run")
        .arg(firmware("loop"))
        .args(["--gdb", "127.0.0.1:0", "--wait"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let addr = loop {
        line.clear();
        assert!(err.read_line(&mut line).unwrap() > 0, "no listening line");
        if let Some(a) = line.trim().strip_prefix("armlet: GDB server listening on ") {
            break a.split([' ', ';']).next().unwrap().to_string();
        }
    };
    // Drain stderr so the server never blocks on it.
    std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
    let start = Instant::now();
    let mut before = 0;
    let (mut first_tenth, mut last_tenth_start) = (Duration::ZERO, Duration::ZERO);
    for i in 0..n {
        if i == n - n / 10 {
            last_tenth_start = start.elapsed();
        }
        let mut c = Rsp::connect(&addr);
        assert!(c
            .ask("qSupported:multiprocess+;swbreak+;hwbreak+;vContSupported+")
            .contains("PacketSize"));
        let stop = c.ask("?");
        assert!(stop.starts_with('T') || stop.starts_with('S'), "{stop}");
        let regs0 = c.ask("g");
        let step = c.ask("vCont;s:1");
        assert!(step.starts_with('T') || step.starts_with('S'), "{step}");
        assert_ne!(c.ask("g"), regs0, "cycle {i}: the step changed no register");
        assert_eq!(c.ask("D"), "OK");
        drop(c);
        if i == 9 {
            before = rss_kib(pid);
        }
        if i == n / 10 - 1 {
            first_tenth = start.elapsed();
        }
    }
    let after = rss_kib(pid);
    let total = start.elapsed();
    println!(
        "soak: {n} GDB connect/step/detach cycles in {:.1} s (first tenth {:.1} s, last tenth {:.1} s); RSS after 10 cycles {before} KiB, after {n} {after} KiB",
        total.as_secs_f64(),
        first_tenth.as_secs_f64(),
        (total - last_tenth_start).as_secs_f64()
    );
    child.kill().unwrap();
    let _ = child.wait();
    assert!(
        after <= before + 1024,
        "RSS grew from {before} KiB to {after} KiB"
    );
}

#[test]
fn soak_gdb_cycles_small() {
    gdb_cycles(50);
}

#[test]
#[ignore = "1,000 GDB cycles"]
fn soak_gdb_cycles_1000() {
    gdb_cycles(1000);
}

// ---- Plugin MMIO -------------------------------------------------------------------------

fn plugin_mmio(calls: u32) {
    let c_dir = Path::new(env!("CARGO_BIN_EXE_armlet"))
        .parent()
        .unwrap()
        .join("c-plugins");
    let ok = Command::new("make")
        .arg("-s")
        .arg("-C")
        .arg(root().join("device-plugins/examples/crc"))
        .arg(format!("O={}", c_dir.display()))
        .status()
        .unwrap();
    assert!(ok.success(), "make of the crc plugin");
    let start = Instant::now();
    let mut child = Command::new(bin())
        .arg("run")
        .arg(firmware("soak_plugin"))
        .arg("--machine-file")
        .arg(root().join("firmware-tests/machines/plugin_crc.toml"))
        .arg("--plugin")
        .arg(c_dir.join("libarmlet_plugin_crc.so"))
        .args(["--", &calls.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = BufReader::new(child.stdout.take().unwrap());
    let mut rss = Vec::new();
    let mut done = None;
    for l in out.lines() {
        let l = l.unwrap();
        if l.starts_with("calls ") {
            rss.push(rss_kib(pid));
        } else if let Some(n) = l.strip_prefix("done ") {
            done = n.trim().parse::<u32>().ok();
        } else {
            panic!("unexpected output {l:?}");
        }
    }
    let (code, se) = finish(child);
    assert_eq!(code, Some(0), "{se}");
    assert!(done.is_some_and(|d| d >= calls), "{done:?}");
    let (first, last) = (rss[0], *rss.last().unwrap());
    println!(
        "soak: {calls} plugin MMIO calls in {:.2} s; RSS after the first 20,000 calls {first} KiB, at the end {last} KiB",
        start.elapsed().as_secs_f64()
    );
    assert!(
        last <= first + 1024,
        "RSS grew from {first} KiB to {last} KiB"
    );
}

#[test]
fn soak_plugin_mmio_small() {
    plugin_mmio(100_000);
}

#[test]
#[ignore = "10^7 plugin MMIO calls"]
fn soak_plugin_mmio_1e7() {
    plugin_mmio(10_000_000);
}
