//! The GDB server (`armlet run FW --gdb ADDR`) driven by a real `gdb-multiarch` in batch
//! mode (scripts in `gdb-scripts/tests/`), by a minimal remote-protocol client for what GDB
//! does not show (stop packets, latency), and side by side with QEMU's gdbstub.
//!
//! Needs gdb-multiarch (skipped with a message when it is missing) and the firmware from
//! `make -C firmware-tests` (built here on demand when arm-none-eabi-gcc is present).

use armlet_machine::semihosting::Console;
use armlet_machine::{Board, Machine, MachineOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// False (and a message) when gdb-multiarch is not installed.
fn gdb_available() -> bool {
    static HAVE: OnceLock<bool> = OnceLock::new();
    let ok = *HAVE.get_or_init(|| have("gdb-multiarch"));
    if !ok {
        eprintln!("gdb-multiarch not installed: skipping (apt-get install gdb-multiarch)");
    }
    ok
}

/// A firmware ELF from firmware-tests/build, built on first use if the cross compiler is
/// here.
fn firmware(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        if have("arm-none-eabi-gcc") {
            let st = Command::new("make")
                .arg("-C")
                .arg(root().join("firmware-tests"))
                .args(["build/gdb_target.elf", "build/gdb_second.elf"])
                .args(["build/hello_lm3s.elf", "build/fp_lazy.elf"])
                .args(["build/gdb_fault_O0.elf", "build/gdb_fault_O2.elf"])
                .arg("build/gdb_fault_psp.elf")
                .arg("build/handler_spin.elf")
                .stdout(Stdio::null())
                .status()
                .expect("run make");
            assert!(st.success(), "make -C firmware-tests failed");
        }
    });
    let p = root()
        .join("firmware-tests/build")
        .join(format!("{name}.elf"));
    assert!(
        p.exists(),
        "{} not built (run `make -C firmware-tests`)",
        p.display()
    );
    p
}

fn symbol(elf: &Path, name: &str) -> u32 {
    let m = machine(elf, false);
    m.symbols
        .address_of(name)
        .unwrap_or_else(|| panic!("no symbol {name}"))
}

#[derive(Debug)]
struct Quiet;
impl Console for Quiet {
    fn write_out(&mut self, _: &[u8]) {}
    fn write_err(&mut self, _: &[u8]) {}
    fn read_in(&mut self, _: &mut [u8]) -> usize {
        0
    }
}

fn machine(elf: &Path, no_icache: bool) -> Machine {
    let board = Board::by_name("mps2-an385").unwrap();
    let opts = MachineOptions {
        no_icache,
        ..Default::default()
    };
    let mut m = Machine::new(board, opts, Box::new(Quiet)).unwrap();
    m.load_elf(&std::fs::read(elf).unwrap()).unwrap();
    m
}

/// Collects a child's output stream in the background, with the time each line arrived.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<(Instant, String)>>>);

impl Lines {
    fn spawn(self, r: impl Read + Send + 'static) -> Lines {
        let me = self.clone();
        std::thread::spawn(move || {
            let mut r = BufReader::new(r);
            let mut buf = Vec::new();
            // Not `lines()`: GDB's remote debug output carries binary packets.
            while r.read_until(b'\n', &mut buf).is_ok_and(|n| n > 0) {
                let line = String::from_utf8_lossy(&buf);
                let line = line.trim_end_matches(['\n', '\r']).to_string();
                me.0.lock().unwrap().push((Instant::now(), line));
                buf.clear();
            }
        });
        self
    }

    fn text(&self) -> String {
        let v = self.0.lock().unwrap();
        v.iter().map(|(_, l)| format!("{l}\n")).collect()
    }

    /// Wait for a line containing `pat`; when it arrived.
    fn wait_for(&self, pat: &str, timeout: Duration) -> Option<(Instant, String)> {
        let end = Instant::now() + timeout;
        loop {
            if let Some(hit) = self
                .0
                .lock()
                .unwrap()
                .iter()
                .find(|(_, l)| l.contains(pat))
                .cloned()
            {
                return Some(hit);
            }
            if Instant::now() > end {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

fn wait_child(child: &mut Child, timeout: Duration) -> Option<i32> {
    let end = Instant::now() + timeout;
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st.code();
        }
        if Instant::now() > end {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `armlet run FW --gdb 127.0.0.1:0 ...` with the port it picked.
struct Armlet {
    child: Child,
    addr: String,
    out: Lines,
    err: Lines,
}

impl Armlet {
    fn start(fw: &Path, extra: &[&str]) -> Armlet {
        Armlet::start_bin(env!("CARGO_BIN_EXE_armlet"), fw, extra)
    }

    fn start_bin(bin: &str, fw: &Path, extra: &[&str]) -> Armlet {
        let mut child = Command::new(bin)
            .arg("run")
            .arg(fw)
            .args(["--gdb", "127.0.0.1:0", "--timeout", "120"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start armlet");
        let out = Lines::default().spawn(child.stdout.take().unwrap());
        let err = Lines::default().spawn(child.stderr.take().unwrap());
        let (_, line) = err
            .wait_for("GDB server listening on ", Duration::from_secs(20))
            .unwrap_or_else(|| panic!("armlet did not start listening:\n{}", err.text()));
        let addr = line
            .split("listening on ")
            .nth(1)
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .trim()
            .to_string();
        Armlet {
            child,
            addr,
            out,
            err,
        }
    }

    fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Wait for armlet to end: (status, stdout, stderr).
    fn finish(mut self) -> (Option<i32>, String, String) {
        let code = wait_child(&mut self.child, Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(50));
        (code, self.out.text(), self.err.text())
    }
}

impl Drop for Armlet {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// gdb-multiarch in batch mode connected to `addr`, with `pre` commands, then a script from
/// gdb-scripts/tests, then `post` commands.
fn gdb_command(
    addr: &str,
    fw: &Path,
    pre: &[&str],
    script: Option<&str>,
    post: &[&str],
) -> Command {
    let mut c = Command::new("gdb-multiarch");
    c.current_dir(root())
        .args(["-nx", "-batch"])
        .args(["-ex", "set pagination off", "-ex", "set confirm off"])
        .args(["-ex", "set width 0"])
        .arg("-ex")
        .arg(format!("target remote {addr}"));
    for p in pre {
        c.arg("-ex").arg(p);
    }
    if let Some(s) = script {
        c.arg("-x").arg(format!("gdb-scripts/tests/{s}"));
    }
    for p in post {
        c.arg("-ex").arg(p);
    }
    c.arg(fw)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// Run GDB to the end; its stdout and stderr together.
fn gdb(addr: &str, fw: &Path, pre: &[&str], script: Option<&str>, post: &[&str]) -> String {
    let mut child = gdb_command(addr, fw, pre, script, post)
        .spawn()
        .expect("run gdb-multiarch");
    let out = Lines::default().spawn(child.stdout.take().unwrap());
    let err = Lines::default().spawn(child.stderr.take().unwrap());
    let code = wait_child(&mut child, Duration::from_secs(90));
    std::thread::sleep(Duration::from_millis(50));
    let text = format!("{}{}", out.text(), err.text());
    assert!(code.is_some(), "gdb-multiarch timed out:\n{text}");
    text
}

/// The numbers after `key` on the first line containing it.
fn num_after(text: &str, key: &str) -> u64 {
    let rest = text
        .lines()
        .find_map(|l| l.split(key).nth(1))
        .unwrap_or_else(|| panic!("no '{key}' in:\n{text}"));
    let word = rest.split_whitespace().next().unwrap();
    match word.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).unwrap(),
        None => word.parse().unwrap(),
    }
}

#[test]
fn break_continue_bt_finish_and_registers() {
    if !gdb_available() {
        return;
    }
    let fw = firmware("gdb_target");
    let a = Armlet::start(&fw, &["--wait"]);
    let out = gdb(&a.addr, &fw, &[], Some("break-bt-finish.gdb"), &[]);
    assert!(out.contains("Breakpoint 1, leaf (x=6)"), "{out}");
    let bt: Vec<&str> = out.lines().filter(|l| l.starts_with('#')).collect();
    assert!(bt.len() >= 3, "{out}");
    assert!(bt[0].contains("leaf (x=6)"), "{out}");
    assert!(bt[1].contains("in middle"), "{out}");
    assert!(bt[2].contains("in main ()"), "{out}");
    assert!(out.contains("Value returned is $1 = 19"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("xpsr ")), "{out}");
    for reg in ["msp", "psp", "primask", "basepri", "faultmask", "control"] {
        assert!(
            out.lines().any(|l| l.starts_with(&format!("{reg} "))),
            "{reg} missing:\n{out}"
        );
    }
    // Console output reaches GDB while attached, and armlet's stdout.
    assert!(out.contains("gdb_target: start"), "{out}");
    assert!(out.contains("exited normally"), "{out}");
    let (code, stdout, stderr) = a.finish();
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout, "gdb_target: start\ngdb_target: done\n");
}

#[test]
fn writing_primask_basepri_and_control_changes_behaviour() {
    if !gdb_available() {
        return;
    }
    let fw = firmware("gdb_target");
    let a = Armlet::start(&fw, &["--wait"]);
    let out = gdb(&a.addr, &fw, &[], Some("masks.gdb"), &[]);
    let t1 = num_after(&out, "TICKS1 ");
    let t2 = num_after(&out, "TICKS2 ");
    let t3 = num_after(&out, "TICKS3 ");
    let t4 = num_after(&out, "TICKS4 ");
    assert!(t1 > 3, "SysTick runs: {out}");
    assert_eq!(t2, t1, "PRIMASK=1 masks SysTick: {out}");
    assert_eq!(num_after(&out, "PRIMASK "), 1, "{out}");
    assert_eq!(t3, t2, "BASEPRI=0x80 masks priority 0x80: {out}");
    assert_eq!(num_after(&out, "BASEPRI "), 0x80, "{out}");
    assert!(t4 > t3 + 3, "unmasked again: {out}");
    // CONTROL.SPSEL=1 from the debugger: SP is the PSP at once, and the firmware sees it.
    let psp_top = u64::from(symbol(&fw, "psp_stack")) + 256;
    assert_eq!(num_after(&out, "AFTER-WRITE CONTROL "), 2, "{out}");
    assert_eq!(num_after(&out, " SP "), psp_top, "{out}");
    assert_eq!(num_after(&out, " PSP "), psp_top, "{out}");
    assert_eq!(num_after(&out, "PROBE CONTROL "), 2, "{out}");
    let probe_line = out.lines().find(|l| l.starts_with("PROBE")).unwrap();
    assert_eq!(num_after(probe_line, " SP "), psp_top, "{out}");
    let back = out.lines().find(|l| l.starts_with("BACK")).unwrap();
    assert_eq!(num_after(back, "CONTROL "), 0, "{out}");
    assert_eq!(num_after(back, " SP "), num_after(back, " MSP "), "{out}");
    assert!(out.contains("exited normally"), "{out}");
    let (code, _, stderr) = a.finish();
    assert_eq!(code, Some(0), "{stderr}");
}

/// PCs printed by stepi-1000.gdb.
fn stepped_pcs(out: &str) -> Vec<u32> {
    out.lines()
        .filter_map(|l| l.strip_prefix("PC "))
        .map(|h| u32::from_str_radix(h.trim(), 16).unwrap())
        .collect()
}

/// A free TCP port on 127.0.0.1 (for QEMU, which cannot report the one it picked).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// qemu-system-arm halted at reset with its gdbstub on a free port.
struct Qemu {
    child: Child,
    addr: String,
}

impl Qemu {
    fn start(fw: &Path) -> Option<Qemu> {
        if !have("qemu-system-arm") {
            eprintln!("qemu-system-arm not installed: skipping the QEMU comparison");
            return None;
        }
        let port = free_port();
        let child = Command::new("qemu-system-arm")
            .args(["-M", "mps2-an385", "-nographic", "-monitor", "none"])
            .args(["-semihosting-config", "enable=on,target=native"])
            .arg("-kernel")
            .arg(fw)
            .args(["-S", "-gdb", &format!("tcp:127.0.0.1:{port}")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start qemu-system-arm");
        let addr = format!("127.0.0.1:{port}");
        let end = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(&addr).is_err() {
            assert!(Instant::now() < end, "QEMU's gdbstub did not come up");
            std::thread::sleep(Duration::from_millis(20));
        }
        // That probe connection was QEMU's one client; give it time to notice it went.
        std::thread::sleep(Duration::from_millis(100));
        Some(Qemu { child, addr })
    }
}

impl Drop for Qemu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn stepi_1000_matches_the_uncached_trace_and_qemu() {
    if !gdb_available() {
        return;
    }
    let fw = firmware("gdb_target");
    // armlet's own trace of the first 1,000 instructions, decoded-instruction cache off.
    let mut m = machine(&fw, true);
    m.cpu.enable_trace(1000);
    assert_eq!(m.run(1000), armlet_machine::Exit::Budget);
    let trace = m.cpu.traced();
    assert_eq!(trace.len(), 1000);

    let a = Armlet::start(&fw, &["--wait"]);
    let out = gdb(&a.addr, &fw, &[], Some("stepi-1000.gdb"), &["kill"]);
    let pcs = stepped_pcs(&out);
    assert_eq!(pcs.len(), 1001, "{out}");
    let first_diff = pcs.iter().zip(&trace).position(|(a, b)| a != b);
    assert_eq!(first_diff, None, "stepi and the trace differ");
    let (code, _, _) = a.finish();
    assert_eq!(code, Some(137), "kill ends armlet with 137");

    if let Some(q) = Qemu::start(&fw) {
        let qout = gdb(&q.addr, &fw, &[], Some("stepi-1000.gdb"), &[]);
        let qpcs = stepped_pcs(&qout);
        assert_eq!(qpcs.len(), 1001, "{qout}");
        let first_diff = qpcs.iter().zip(&pcs).position(|(a, b)| a != b);
        assert_eq!(
            first_diff, None,
            "armlet and QEMU step differently (index into the 1,001 PCs)"
        );
    }
}

#[test]
fn watch_rwatch_awatch_report_the_right_values() {
    if !gdb_available() {
        return;
    }
    let fw = firmware("gdb_target");
    let a = Armlet::start(&fw, &["--wait"]);
    let out = gdb(&a.addr, &fw, &[], Some("watch.gdb"), &[]);
    let after = |key: &str| {
        out.split(key)
            .nth(1)
            .unwrap_or_else(|| panic!("{key}:\n{out}"))
    };
    let w = out.split("AFTER-WATCH").next().unwrap();
    assert!(w.contains("Hardware watchpoint 2: wvar"), "{out}");
    assert!(w.contains("Old value = 1\nNew value = 2"), "{out}");
    let r = after("AFTER-WATCH").split("AFTER-RWATCH").next().unwrap();
    assert!(r.contains("Hardware read watchpoint 3: wvar"), "{out}");
    assert!(r.contains("Value = 2"), "{out}");
    let aw = after("AFTER-RWATCH").split("AFTER-AWATCH").next().unwrap();
    assert!(
        aw.contains("Hardware access (read/write) watchpoint 4: wvar"),
        "{out}"
    );
    assert!(aw.contains("Old value = 2\nNew value = 42"), "{out}");
    assert!(out.contains("WVAR 42"), "{out}");
    assert!(out.contains("exited normally"), "{out}");
    assert_eq!(a.finish().0, Some(0));
}

/// A minimal remote-protocol client (no-acknowledgement mode once connected).
struct Rsp {
    s: TcpStream,
    pending: Vec<u8>,
}

fn frame(body: &str) -> Vec<u8> {
    let sum = body.bytes().fold(0u8, |a, b| a.wrapping_add(b));
    format!("${body}#{sum:02x}").into_bytes()
}

/// Undo run-length encoding (`X*N`: N - 29 more copies of X).
fn unrle(body: &[u8]) -> String {
    let mut out: Vec<u8> = Vec::new();
    let mut i = 0;
    while i < body.len() {
        if body[i] == b'*' && i + 1 < body.len() {
            let last = *out.last().expect("run without a character");
            out.extend(std::iter::repeat_n(last, usize::from(body[i + 1] - 29)));
            i += 2;
        } else {
            out.push(body[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Rsp {
    /// Connected, acknowledgements still on.
    fn connect_acked(addr: &str) -> Rsp {
        let s = TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s.set_nodelay(true).unwrap();
        Rsp {
            s,
            pending: Vec::new(),
        }
    }

    fn connect(addr: &str) -> Rsp {
        let mut r = Rsp::connect_acked(addr);
        r.raw(b"+");
        assert!(r.cmd("qSupported:swbreak+;hwbreak+").contains("PacketSize"));
        assert_eq!(r.cmd("QStartNoAckMode"), "OK");
        r
    }

    fn raw(&mut self, bytes: &[u8]) {
        self.s.write_all(bytes).unwrap();
    }

    fn send(&mut self, body: &str) {
        let f = frame(body);
        self.raw(&f);
    }

    /// The next packet body (console `O` packets included), skipping acknowledgements.
    fn recv(&mut self) -> String {
        loop {
            if let Some(start) = self.pending.iter().position(|&b| b == b'$') {
                if let Some(hash) = self.pending[start..].iter().position(|&b| b == b'#') {
                    let end = start + hash + 3;
                    if self.pending.len() >= end {
                        let body = unrle(&self.pending[start + 1..start + hash]);
                        self.pending.drain(..end);
                        return body;
                    }
                }
            }
            let mut buf = [0u8; 4096];
            let n = self.s.read(&mut buf).expect("read");
            assert!(n > 0, "connection closed");
            self.pending.extend_from_slice(&buf[..n]);
        }
    }

    /// The next reply that is not console output.
    fn reply(&mut self) -> String {
        loop {
            let r = self.recv();
            if !(r.starts_with('O') && r != "OK") {
                return r;
            }
        }
    }

    fn cmd(&mut self, body: &str) -> String {
        self.send(body);
        self.reply()
    }

    fn reg(&mut self, n: u32) -> u32 {
        let hex = self.cmd(&format!("p{n:x}"));
        let mut b = [0u8; 4];
        for (i, byte) in b.iter_mut().enumerate().take(hex.len() / 2) {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
        }
        u32::from_le_bytes(b)
    }

    fn read_u32(&mut self, addr: u32) -> u32 {
        let hex = self.cmd(&format!("m{addr:x},4"));
        assert_eq!(hex.len(), 8, "{hex}");
        let b: Vec<u8> = (0..4)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
            .collect();
        u32::from_le_bytes([b[0], b[1], b[2], b[3]])
    }

    /// `monitor CMD`: the console output.
    fn monitor(&mut self, cmd: &str) -> String {
        let hex: String = cmd.bytes().map(|b| format!("{b:02x}")).collect();
        self.send(&format!("qRcmd,{hex}"));
        let mut text = Vec::new();
        loop {
            let r = self.recv();
            match r.strip_prefix('O') {
                Some(h) if r != "OK" => {
                    text.extend(
                        (0..h.len() / 2)
                            .map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).unwrap()),
                    );
                }
                _ => {
                    assert_eq!(r, "OK");
                    return String::from_utf8_lossy(&text).into_owned();
                }
            }
        }
    }

    fn run_to(&mut self, addr: u32) -> String {
        assert_eq!(self.cmd(&format!("Z0,{addr:x},2")), "OK");
        let stop = self.cmd("c");
        assert_eq!(self.cmd(&format!("z0,{addr:x},2")), "OK");
        stop
    }
}

#[test]
fn watchpoint_stops_before_the_access_with_the_address_in_the_stop_packet() {
    let fw = firmware("gdb_target");
    let (wt, wvar) = (symbol(&fw, "watch_test"), symbol(&fw, "wvar"));
    let a = Armlet::start(&fw, &["--wait"]);
    let mut r = Rsp::connect(&a.addr);
    assert!(r.run_to(wt).starts_with("T05"));
    assert_eq!(r.read_u32(wvar), 1);
    // A write watchpoint on the second byte of wvar: the word store starts below it.
    assert_eq!(r.cmd(&format!("Z2,{:x},1", wvar + 1)), "OK");
    let stop = r.cmd("c");
    assert!(
        stop.starts_with("T05") && stop.contains(&format!("watch:{:x};", wvar + 1)),
        "{stop}"
    );
    let pc = r.reg(15);
    assert!(pc > wt && pc < wt + 0x14, "PC {pc:#x} in watch_test");
    assert_eq!(r.read_u32(wvar), 1, "the store has not happened yet");
    // Resuming executes the store once; GDB removes the watchpoint first, as here.
    assert_eq!(r.cmd(&format!("z2,{:x},1", wvar + 1)), "OK");
    assert!(r.cmd("s").starts_with("T05"));
    assert_eq!(r.read_u32(wvar), 2);
    assert!(r.reg(15) == pc + 2 || r.reg(15) == pc + 4);
    // A read watchpoint: the load that follows.
    assert_eq!(r.cmd(&format!("Z3,{wvar:x},4")), "OK");
    let stop = r.cmd("c");
    assert!(stop.contains(&format!("rwatch:{wvar:x};")), "{stop}");
    // Stepping onto an access with a watchpoint set reports it too (before the access).
    assert_eq!(r.cmd(&format!("z3,{wvar:x},4")), "OK");
    assert!(r.cmd("s").starts_with("T05"));
    assert_eq!(r.cmd(&format!("Z4,{wvar:x},4")), "OK");
    let mut stop = String::new();
    for _ in 0..4 {
        stop = r.cmd("s");
        if stop.contains("awatch") {
            break;
        }
    }
    assert!(stop.contains(&format!("awatch:{wvar:x};")), "{stop}");
    assert_eq!(r.read_u32(wvar), 2, "not written yet");
    r.send("k");
    assert_eq!(a.finish().0, Some(137));
}

#[test]
fn interrupt_packet_stops_an_endless_loop_within_100_ms() {
    let fw = firmware("gdb_target");
    let (main, mode, counter) = (
        symbol(&fw, "main"),
        symbol(&fw, "mode"),
        symbol(&fw, "counter"),
    );
    let a = Armlet::start(&fw, &["--wait"]);
    let mut r = Rsp::connect(&a.addr);
    r.run_to(main);
    assert_eq!(r.cmd(&format!("M{mode:x},4:01000000")), "OK");
    let mut took = Vec::new();
    for round in 0..5 {
        r.send("c");
        std::thread::sleep(Duration::from_millis(150));
        let t0 = Instant::now();
        r.raw(&[0x03]);
        let stop = r.reply();
        took.push(t0.elapsed());
        assert!(
            stop.starts_with("T02") || stop.starts_with("S02"),
            "SIGINT stop: {stop}"
        );
        assert!(
            took[round] < Duration::from_secs(1),
            "round {round}: the interrupt took {:?}",
            took[round]
        );
        let spin = symbol(&fw, "spin");
        let pc = r.reg(15);
        assert!(pc >= spin && pc < spin + 16, "in spin(): {pc:#x}");
    }
    // The median, so that one unlucky scheduling delay on a loaded machine does not count.
    took.sort();
    eprintln!("interrupt latencies: {took:?}");
    assert!(
        took[2] < Duration::from_millis(100),
        "interrupt latencies {took:?}"
    );
    let n = r.read_u32(counter);
    assert!(n > 1000, "the loop ran: {n}");
    // Halted means halted: virtual time does not move.
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(r.read_u32(counter), n);
    r.send("k");
    assert_eq!(a.finish().0, Some(137));
}

#[test]
fn ctrl_c_in_gdb_interrupts_an_endless_loop_within_1_s() {
    if !gdb_available() {
        return;
    }
    let fw = firmware("gdb_target");
    let a = Armlet::start(&fw, &["--wait"]);
    let mut child = gdb_command(&a.addr, &fw, &[], Some("spin.gdb"), &["kill"])
        .spawn()
        .expect("gdb-multiarch");
    let out = Lines::default().spawn(child.stdout.take().unwrap());
    let err = Lines::default().spawn(child.stderr.take().unwrap());
    out.wait_for("CONTINUING", Duration::from_secs(30))
        .unwrap_or_else(|| panic!("{}{}", out.text(), err.text()));
    std::thread::sleep(Duration::from_millis(300));
    let t0 = Instant::now();
    let st = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let (t1, _) = out
        .wait_for("Program received signal SIGINT", Duration::from_secs(10))
        .unwrap_or_else(|| panic!("not interrupted:\n{}{}", out.text(), err.text()));
    let took = t1.duration_since(t0);
    assert!(took < Duration::from_secs(1), "interrupt took {took:?}");
    assert_eq!(wait_child(&mut child, Duration::from_secs(30)), Some(0));
    std::thread::sleep(Duration::from_millis(50));
    let text = out.text();
    assert!(num_after(&text, "INTERRUPTED COUNTER ") > 0, "{text}");
    assert!(text.contains("#0  spin ()"), "{text}");
    assert_eq!(a.finish().0, Some(137));
}

#[test]
fn load_a_second_elf_reset_halt_and_run_it() {
    if !gdb_available() {
        return;
    }
    let fw = firmware("gdb_target");
    let second = firmware("gdb_second");
    let reset = symbol(&second, "Reset_Handler");
    let a = Armlet::start(&fw, &["--wait"]);
    let out = gdb(&a.addr, &fw, &[], Some("load-second.gdb"), &[]);
    assert!(out.contains("Transfer rate"), "{out}");
    assert_eq!(
        num_after(&out, "AFTER-RESET PC "),
        u64::from(reset),
        "{out}"
    );
    assert!(
        out.contains("gdb_second: hello from the second image"),
        "{out}"
    );
    assert!(out.contains("exited with code 052"), "{out}");
    let (code, stdout, stderr) = a.finish();
    assert_eq!(code, Some(42), "{stderr}");
    assert!(
        stdout.ends_with("gdb_second: hello from the second image\n"),
        "{stdout}"
    );
}

#[test]
fn detach_leaves_it_running_and_a_new_debugger_can_attach() {
    if !gdb_available() {
        return;
    }
    let fw = firmware("gdb_target");
    let mut a = Armlet::start(&fw, &["--wait"]);
    let first = gdb(
        &a.addr,
        &fw,
        &["break main", "continue", "set var mode = 1", "delete"],
        None,
        &["detach"],
    );
    assert!(first.contains("detached]"), "{first}");
    std::thread::sleep(Duration::from_millis(200));
    assert!(a.alive());
    // Attaching halts it where it runs: in spin(), counting.
    let second = gdb(
        &a.addr,
        &fw,
        &[],
        None,
        &[
            "printf \"COUNT1 %u\\n\", counter",
            "bt",
            "monitor detach halt",
            "detach",
        ],
    );
    assert!(num_after(&second, "COUNT1 ") > 0, "{second}");
    assert!(second.contains("spin ()"), "{second}");
    std::thread::sleep(Duration::from_millis(200));
    // Detached halted: the counter stands still until the next debugger continues.
    let third = gdb(
        &a.addr,
        &fw,
        &[],
        None,
        &[
            "printf \"COUNT2 %u\\n\", counter",
            "shell sleep 0.2",
            "printf \"COUNT3 %u\\n\", counter",
            "kill",
        ],
    );
    assert_eq!(
        num_after(&third, "COUNT2 "),
        num_after(&third, "COUNT3 "),
        "{third}"
    );
    assert_eq!(
        num_after(&second, "COUNT1 "),
        num_after(&third, "COUNT2 "),
        "halted since the second debugger detached"
    );
    let (code, _, stderr) = a.finish();
    assert_eq!(code, Some(137), "{stderr}");
    assert!(stderr.contains("detached; the target runs on"), "{stderr}");
    assert!(
        stderr.contains("detached; the target stays halted"),
        "{stderr}"
    );
}

#[test]
fn an_attached_debugger_sets_c_debugen_and_halting_takes_bkpt_before_the_monitor() {
    let fw = firmware("sys_debugmon");
    let a = Armlet::start(&fw, &["--wait"]);
    let mut r = Rsp::connect(&a.addr);
    assert_eq!(
        r.read_u32(0xe000_edf0) & 1,
        1,
        "DHCSR.C_DEBUGEN while attached"
    );
    // The firmware sets DEMCR.MON_EN and executes BKPT #7: with a debugger attached the
    // core halts for it (as halting debug does on the chip) instead of entering DebugMon.
    let stop = r.cmd("c");
    assert!(stop.starts_with("T05"), "{stop}");
    let pc = r.reg(15);
    assert_eq!(
        r.cmd(&format!("m{pc:x},2")),
        "07be",
        "stopped at the BKPT #7"
    );
    assert_eq!(r.read_u32(0xe000_edfc) & (1 << 16), 1 << 16, "MON_EN set");
    assert_eq!(
        r.read_u32(0xe000_ed30) & 2,
        0,
        "no DFSR.BKPT: not a monitor event"
    );
}

#[test]
fn a_second_debugger_is_refused_while_one_is_attached() {
    let fw = firmware("gdb_target");
    let a = Armlet::start(&fw, &["--wait"]);
    let mut first = Rsp::connect(&a.addr);
    let mut second = TcpStream::connect(&a.addr).unwrap();
    second
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    second.write_all(&frame("qSupported")).unwrap();
    let mut got = Vec::new();
    let _ = second.read_to_end(&mut got);
    let got = String::from_utf8_lossy(&got);
    assert!(
        got.contains("$E.armlet: another debugger is already connected"),
        "{got}"
    );
    // The first session is unaffected; after it detaches, a new one is accepted.
    let q = first.cmd("?");
    assert!(q.starts_with('T') || q.starts_with('S'), "{q}");
    assert!(first.monitor("detach halt").contains("stays halted"));
    assert_eq!(first.cmd("D"), "OK");
    let mut third = Rsp::connect(&a.addr);
    assert!(!third.cmd("g").is_empty());
    third.send("k");
    assert_eq!(a.finish().0, Some(137));
}

/// xorshift64*: deterministic noise.
struct Noise(u64);
impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

#[test]
fn garbage_and_malformed_packets_never_wedge_the_server() {
    let fw = firmware("gdb_target");
    let (main, mode) = (symbol(&fw, "main"), symbol(&fw, "mode"));
    let mut a = Armlet::start(&fw, &["--wait"]);
    // Make the firmware spin forever, so that no `c` among the noise ends it.
    let mut r = Rsp::connect(&a.addr);
    r.run_to(main);
    assert_eq!(r.cmd(&format!("M{mode:x},4:01000000")), "OK");
    assert_eq!(r.cmd("D"), "OK");
    drop(r);
    let malformed: Vec<Vec<u8>> = [
        "m",
        "mzz,4",
        "m20000000",
        "m20000000,",
        "M20000000,4:zz",
        "X20000000,4:",
        "g1",
        "Gzz",
        "pzz",
        "P1",
        "Pzz=00",
        "Z0",
        "Z0,zz,2",
        "Z9,0,0",
        "z2,0,",
        "vCont;q",
        "vCont;c:zz",
        "vCont",
        "qXfer:features:read:target.xml:zz",
        "qXfer:memory-map:read::0,",
        "qRcmd,zz",
        "qRcmd,",
        "H",
        "Hgzz",
        "T",
        "c zz",
        "s1234",
        "vFlashErase:zz",
        "vFlashWrite:0:",
        "qSupported:xxxxxxxx",
        "?",
        "QStartNoAckMode",
    ]
    .iter()
    .map(|b| frame(b))
    .collect();
    let mut noise = Noise(0x5eed_1234_abcd_ef01);
    for round in 0..200 {
        let mut s = match TcpStream::connect(&a.addr) {
            Ok(s) => s,
            Err(e) => {
                let (code, _, err) = a.finish();
                panic!("round {round}: connect: {e}; armlet ended with {code:?}:\n{err}")
            }
        };
        s.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
        let mut payload = Vec::new();
        match round % 5 {
            0 => {
                let n = 1 + (noise.next() % 4096) as usize;
                payload = noise.bytes(n);
            }
            1 => {
                for _ in 0..4 {
                    let i = (noise.next() as usize) % malformed.len();
                    payload.extend(&malformed[i]);
                }
            }
            2 => {
                // A packet cut short, and one far bigger than the buffer.
                payload.extend(b"$m20000000,4");
                if round % 2 == 0 {
                    payload.push(b'$');
                    payload.extend(std::iter::repeat_n(b'A', 100_000));
                }
            }
            3 => {
                payload.extend(b"$g#00$qSupported#zz\x03\x03+-");
                payload.extend(noise.bytes(64));
                payload.extend(frame("qRcmd,696e666f"));
            }
            _ => {
                let mut p = frame("c");
                p.extend(noise.bytes(32));
                p.push(0x03);
                payload = p;
            }
        }
        let _ = s.write_all(&payload);
        let mut sink = [0u8; 4096];
        let _ = s.read(&mut sink);
        drop(s); // abrupt
    }
    assert!(a.alive(), "armlet died");
    // A real debugger still gets everything right.
    if gdb_available() {
        let out = gdb(
            &a.addr,
            &fw,
            &[],
            None,
            &[
                "bt",
                "printf \"COUNT %u\\n\", counter",
                "stepi",
                "info registers pc",
                "kill",
            ],
        );
        assert!(out.contains("spin ()"), "{out}");
        assert!(num_after(&out, "COUNT ") > 0, "{out}");
        assert!(out.contains("pc "), "{out}");
        assert_eq!(a.finish().0, Some(137));
    } else {
        let mut r = Rsp::connect(&a.addr);
        assert_eq!(r.cmd("m0,4").len(), 8);
        r.send("k");
        assert_eq!(a.finish().0, Some(137));
    }
}

#[test]
fn step_irq_decides_whether_steps_enter_interrupt_handlers() {
    if !gdb_available() {
        return;
    }
    let fw = firmware("gdb_target");
    let ipsrs = |setting: &str| {
        let a = Armlet::start(&fw, &["--wait"]);
        let out = gdb(
            &a.addr,
            &fw,
            &[&format!("monitor step-irq {setting}")],
            Some("step-irq.gdb"),
            &["kill"],
        );
        let v: Vec<u64> = out
            .lines()
            .filter(|l| l.starts_with("IPSR "))
            .map(|l| num_after(l, "IPSR "))
            .collect();
        assert_eq!(v.len(), 3000, "{out}");
        v
    };
    let on = ipsrs("on");
    assert!(
        on.contains(&15),
        "steps enter SysTick_Handler with step-irq on"
    );
    let off = ipsrs("off");
    assert!(off.iter().all(|&i| i == 0), "no handler with step-irq off");
}

#[test]
fn monitor_commands_and_a_fault_report() {
    if !gdb_available() {
        return;
    }
    let fw = firmware("gdb_target");
    let a = Armlet::start(&fw, &["--wait"]);
    let out = gdb(
        &a.addr,
        &fw,
        &[
            "monitor help",
            "monitor icount",
            "monitor step-irq",
            "info mem",
        ],
        Some("fault.gdb"),
        &["kill"],
    );
    assert!(out.contains("armlet monitor commands:"), "{out}");
    assert!(out.contains("step-irq off"), "the default: {out}");
    // The memory map comes from the board: code and data RAM, devices, the PPB.
    assert!(out.contains("0x20000000 0x20400000 rw nocache"), "{out}");
    assert!(out.contains("0xe0000000"), "{out}");
    // The fault: an instruction fetch from nowhere, escalated to HardFault.
    assert!(out.contains("IBUSERR"), "{out}");
    assert!(out.contains("FORCED"), "{out}");
    assert!(out.contains("the core is in HardFault"), "{out}");
    assert!(out.contains("pc=0x30000000"), "{out}");
    assert!(out.contains("<signal handler called>"), "{out}");
    assert!(out.contains("board:        mps2-an385"), "{out}");
    assert_eq!(a.finish().0, Some(137));
}

#[test]
fn load_into_flash_uses_flash_packets_and_hardware_breakpoints() {
    if !gdb_available() {
        return;
    }
    // lm3s6965evb has flash (ROM) at 0: the memory map says so, GDB loads it with vFlash
    // packets and breaks there with hardware breakpoints.
    let fw = firmware("hello_lm3s");
    let a = Armlet::start(&fw, &["--wait", "-M", "lm3s6965evb"]);
    let out = gdb(
        &a.addr,
        &fw,
        &[
            "info mem",
            "set debug remote 1",
            "load",
            "set debug remote 0",
            "source gdb-scripts/armlet.gdb",
            "monitor reset halt",
            "break main",
            "continue",
            "continue",
        ],
        None,
        &[],
    );
    assert!(out.contains("flash blocksize 0x400"), "{out}");
    assert!(out.contains("vFlashErase"), "{out}");
    assert!(out.contains("vFlashDone"), "{out}");
    assert!(
        out.contains("hardware breakpoints for read-only addresses"),
        "{out}"
    );
    assert!(out.contains("Breakpoint 1, main ()"), "{out}");
    assert!(out.contains("exited normally"), "{out}");
    let (code, stdout, _) = a.finish();
    assert_eq!(code, Some(0));
    assert_eq!(stdout, "Hello from armlet!\n");
}

#[test]
fn qemu_command_line_with_s_capital_s_and_gdb_serves_a_debugger() {
    if !gdb_available() {
        return;
    }
    let fw = firmware("gdb_target");
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_armlet"))
        .args(["qemu", "-M", "mps2-an385", "-nographic"])
        .args(["-semihosting-config", "enable=on,target=native", "-kernel"])
        .arg(&fw)
        .args(["-S", "-gdb", &format!("tcp::{port}")])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let err = Lines::default().spawn(child.stderr.take().unwrap());
    let _out = Lines::default().spawn(child.stdout.take().unwrap());
    err.wait_for(
        "GDB server listening on 127.0.0.1:",
        Duration::from_secs(20),
    )
    .unwrap_or_else(|| panic!("{}", err.text()));
    let out = gdb(
        &format!("127.0.0.1:{port}"),
        &fw,
        &[],
        Some("break-bt-finish.gdb"),
        &[],
    );
    assert!(out.contains("Value returned is $1 = 19"), "{out}");
    assert_eq!(wait_child(&mut child, Duration::from_secs(30)), Some(0));
}

/// stepi/s through gdb-multiarch and `dump binary memory` of 256 KiB, for armlet and for
/// QEMU's gdbstub in the same run: `cargo test -p armlet --test gdb -- --ignored --nocapture`
/// (`ARMLET_BIN=target/release/armlet` measures another build of armlet).
#[test]
#[ignore]
fn measure_stepi_and_memory_read_against_qemu() {
    assert!(gdb_available());
    let fw = firmware("gdb_target");
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump.bin");
    let steps = 2000;
    let measure = |addr: &str| -> (f64, f64) {
        let script = dir.path().join("measure.gdb");
        std::fs::write(
            &script,
            format!(
                "set $t0 = 0\nshell date +%s.%N > {d}/t0\nset $i = 0\nwhile $i < {steps}\n  stepi\n  set $i = $i + 1\nend\nshell date +%s.%N > {d}/t1\ndump binary memory {dump} 0x20000000 0x20040000\nshell date +%s.%N > {d}/t2\n",
                d = dir.path().display(),
                dump = dump.display()
            ),
        )
        .unwrap();
        let mut c = Command::new("gdb-multiarch");
        c.args(["-nx", "-batch", "-ex", "set pagination off"])
            .arg("-ex")
            .arg(format!("target remote {addr}"))
            .arg("-x")
            .arg(&script)
            .args(["-ex", "kill"])
            .arg(&fw)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        assert!(c.status().unwrap().success());
        let t = |n: &str| -> f64 {
            std::fs::read_to_string(dir.path().join(n))
                .unwrap()
                .trim()
                .parse()
                .unwrap()
        };
        let (t0, t1, t2) = (t("t0"), t("t1"), t("t2"));
        assert_eq!(std::fs::metadata(&dump).unwrap().len(), 256 * 1024);
        (f64::from(steps) / (t1 - t0), 0.262144 / (t2 - t1))
    };
    let bin = std::env::var("ARMLET_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_armlet").into());
    let a = Armlet::start_bin(&bin, &fw, &["--wait"]);
    let (a_steps, a_mbs) = measure(&a.addr);
    drop(a);
    println!("armlet: {a_steps:.0} stepi/s, {a_mbs:.1} MB/s memory read");
    if let Some(q) = Qemu::start(&fw) {
        let (q_steps, q_mbs) = measure(&q.addr);
        println!("qemu:   {q_steps:.0} stepi/s, {q_mbs:.1} MB/s memory read");
    }
}

#[test]
fn fpu_boards_show_d0_d15_and_fpscr_and_the_m3_does_not() {
    if !gdb_available() {
        return;
    }
    // mps2-an386 (Cortex-M4F): stop in the SysTick handler of fp_lazy, where the thread's
    // values are still in the registers (lazy stacking has not saved them yet).
    let fw = firmware("fp_lazy");
    let a = Armlet::start(&fw, &["--wait", "-M", "mps2-an386"]);
    let out = gdb(
        &a.addr,
        &fw,
        &[
            "break tick",
            "continue",
            "info registers d0",
            "p/x $fpscr",
            "p $s1",
            "set $d5 = 1.5",
            "p $d5",
            "p/x $s10",
            "p/x $s11",
            "set $fpscr = 0x80000010",
            "p/x $fpscr",
            "info registers float",
            "kill",
        ],
        None,
        &[],
    );
    // in[i] = 0x3f800000 + i * 0x10001: d0 = in[1]:in[0]
    assert!(
        out.lines()
            .any(|l| l.starts_with("d0 ") && l.contains("0x3f8100013f800000")),
        "{out}"
    );
    assert!(out.contains("= 0xf000009f"), "thread FPSCR: {out}");
    assert!(out.contains("= 1.00781262"), "s1 = 0x3f810001: {out}");
    assert!(out.contains("= 1.5"), "{out}");
    assert!(out.contains("= 0x0\n"), "s10 is d5's low word: {out}");
    assert!(out.contains("= 0x3ff80000"), "s11 is d5's high word: {out}");
    assert!(out.contains("= 0x80000010"), "FPSCR written: {out}");
    assert!(out.lines().any(|l| l.starts_with("d15 ")), "{out}");
    drop(a);
    // mps2-an385 (Cortex-M3): no FP registers.
    let fw = firmware("gdb_target");
    let a = Armlet::start(&fw, &["--wait"]);
    let out = gdb(
        &a.addr,
        &fw,
        &["info registers d0", "info registers fpscr", "kill"],
        None,
        &[],
    );
    assert!(out.contains("Invalid register `d0'"), "{out}");
    assert!(out.contains("Invalid register `fpscr'"), "{out}");
}

fn unhex(h: &str) -> Vec<u8> {
    assert!(h.len().is_multiple_of(2), "odd hex {h:?}");
    (0..h.len() / 2)
        .map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).unwrap_or_else(|_| panic!("{h}")))
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Sizes of the registers in the target description, in number order (no FP registers
/// without an FPU).
fn register_sizes(fpu: bool) -> Vec<usize> {
    let mut v = vec![4; 19]; // r0-r15, xpsr, msp, psp
    v.extend([1; 4]); // primask, basepri, faultmask, control
    if fpu {
        v.extend([8; 16]); // d0-d15
        v.push(4); // fpscr
    }
    v
}

/// The error reply (`Enn`) to a `p`/`P` packet.
fn is_error(reply: &str) -> bool {
    reply.len() == 3 && reply.starts_with('E') && reply[1..].chars().all(|c| c.is_ascii_hexdigit())
}

/// `p` for every register number (and ones that do not exist, and malformed ones) answers
/// the register's bytes from `g`, or an error, and the session goes on: a soak test found
/// gdbstub ending it on `p` packets it could not parse.
#[test]
fn p_and_capital_p_answer_every_register_like_g_and_keep_the_connection() {
    for (board, name, stop_at, fpu) in [
        ("mps2-an385", "gdb_target", "leaf", false),
        ("mps2-an386", "fp_lazy", "tick", true),
    ] {
        let fw = firmware(name);
        let at = symbol(&fw, stop_at) & !1;
        let a = Armlet::start(&fw, &["--wait", "-M", board]);
        // Acknowledgement mode first: `-` gets the last reply again, a packet with a bad
        // checksum gets `-` in its place, and neither ends the session.
        let mut r = Rsp::connect_acked(&a.addr);
        r.raw(&frame("p0"));
        r.raw(b"$pf#00");
        r.raw(&frame("pf"));
        let mut got = vec![0u8; 0];
        let complete = |g: &[u8]| {
            g.iter().filter(|&&b| b == b'#').count() == 2
                && g.len() - g.iter().rposition(|&b| b == b'#').unwrap() == 3
        };
        while !complete(&got) {
            let mut buf = [0u8; 256];
            let n = r.s.read(&mut buf).unwrap();
            assert!(n > 0, "{board}: connection closed");
            got.extend(&buf[..n]);
        }
        let got = String::from_utf8(got).unwrap();
        // + (p0) $reply + ... for p0; - for the bad one; + $reply for pf
        let parts: Vec<&str> = got.split('$').collect();
        assert_eq!(parts[0], "+", "{got}");
        assert!(
            parts[1].ends_with("-+"),
            "the rejection in its place: {got}"
        );
        r.raw(b"+-");
        assert_eq!(r.recv(), parts[2].split('#').next().unwrap(), "sent again");
        r.raw(b"+");
        assert!(r.cmd("?").starts_with('T'), "{board}");
        r.raw(b"+");
        drop(r);

        let mut r = Rsp::connect(&a.addr);
        assert!(r.run_to(at).starts_with("T05"), "{board}");
        let g = unhex(&r.cmd("g"));
        let sizes = register_sizes(fpu);
        assert_eq!(g.len(), sizes.iter().sum::<usize>(), "{board}: g");
        let mut off = 0;
        for (n, &size) in sizes.iter().enumerate() {
            let want = hex(&g[off..off + size]);
            off += size;
            assert_eq!(r.cmd(&format!("p{n:x}")), want, "{board}: p{n:x}");
            assert_eq!(r.cmd(&format!("p{n:X}")), want, "{board}: p{n:X}");
            assert_eq!(r.cmd(&format!("p{n:04x}")), want, "{board}: p{n:04x}");
            assert_eq!(
                r.cmd(&format!("p{n:x};thread:1;")),
                want,
                "{board}: LLDB's thread suffix"
            );
        }
        // Registers this board does not have.
        let absent: Vec<String> = (sizes.len()..41)
            .chain([0x100, 0xffff_ffff])
            .map(|n| format!("p{n:x}"))
            .chain(["p100000000000000000000".to_string()])
            .collect();
        for p in &absent {
            let reply = r.cmd(p);
            assert!(is_error(&reply), "{board}: {p} -> {reply:?}");
        }
        // Malformed packets: an error each, nothing written.
        for p in [
            "p",
            "pzz",
            "p-1",
            "p 0",
            "p0;",
            "p0;zz",
            "pf0z",
            "P",
            "P1",
            "P0=",
            "P0=01",
            "P0=0102030405",
            "P0=zz000000",
            "Pzz=00",
            "P=00000000",
            "P13=0000",
        ] {
            let reply = r.cmd(p);
            assert!(is_error(&reply), "{board}: {p} -> {reply:?}");
        }
        assert_eq!(unhex(&r.cmd("g")), g, "{board}: errors wrote nothing");
        // Other commands gdbstub cannot parse: an error too, and the session goes on (with
        // no stray acknowledgement: the stub behind it was restarted in no-ack mode).
        for p in [
            "mzz,4",
            "m",
            "g1",
            "Z0",
            "Hgzz",
            "qRcmd,zz",
            "vFlashErase:zz",
        ] {
            let reply = r.cmd(p);
            assert!(is_error(&reply), "{board}: {p} -> {reply:?}");
        }
        assert_eq!(unhex(&r.cmd("g")), g, "{board}");
        r.s.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        assert!(
            r.pending.is_empty() && r.s.read(&mut [0u8; 16]).is_err(),
            "{board}"
        );
        r.s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        // P writes what p and g then show (r0, basepri, and d1 on the M4F).
        assert_eq!(r.cmd("P0=efbeadde"), "OK");
        assert_eq!(r.cmd("P14=80"), "OK");
        assert_eq!(r.reg(0), 0xdead_beef);
        assert_eq!(r.cmd("p14"), "80");
        let g2 = unhex(&r.cmd("g"));
        assert_eq!(&g2[..4], &0xdead_beefu32.to_le_bytes());
        assert_eq!(g2[76 + 1], 0x80, "{board}: basepri in g");
        if fpu {
            assert_eq!(r.cmd("P18=0000000000000040"), "OK"); // d1 = 2.0
            assert_eq!(r.cmd("p18"), "0000000000000040");
            assert_eq!(&unhex(&r.cmd("g"))[80 + 8..80 + 16], &2.0f64.to_le_bytes());
        }
        // Still the same session: it answers, steps and reports.
        assert!(r.cmd("?").starts_with('T'), "{board}");
        assert!(r.cmd("s").starts_with("T05"), "{board}");
        let g3 = unhex(&r.cmd("g"));
        assert_eq!(r.cmd("pf"), hex(&g3[60..64]), "{board}");
        r.send("k");
        assert_eq!(a.finish().0, Some(137), "{board}");
    }
}

/// gdb-multiarch on the M4F: system and FP registers by name, raw `p` packets through
/// `maint packet`, and the session still works after them.
#[test]
fn gdb_reads_single_registers_and_raw_p_packets_on_the_m4f() {
    if !gdb_available() {
        return;
    }
    let fw = firmware("fp_lazy");
    let a = Armlet::start(&fw, &["--wait", "-M", "mps2-an386"]);
    let out = gdb(
        &a.addr,
        &fw,
        &[
            "break tick",
            "continue",
            "printf \"MSP %#x\\n\", $msp",
            "printf \"FPSCR %#x\\n\", $fpscr",
            "maint packet p11",
            "maint packet p27",
            "maint packet p28",
            "maint packet pzz",
            "maint packet p",
            "maint packet P28=00000000",
            "maint packet mzz,4",
            "stepi",
            "printf \"PC %#x\\n\", $pc",
            "p $xpsr",
            "p $basepri",
            "info registers",
            "info registers float",
            "kill",
        ],
        None,
        &[],
    );
    let received: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("received: \""))
        .map(|l| l.trim_end_matches('"'))
        .collect();
    assert_eq!(received.len(), 7, "{out}");
    let msp = num_after(&out, "MSP ") as u32;
    assert_eq!(received[0], hex(&msp.to_le_bytes()), "p11 is msp: {out}");
    let fpscr = num_after(&out, "FPSCR ") as u32;
    assert_eq!(
        received[1],
        hex(&fpscr.to_le_bytes()),
        "p27 is fpscr: {out}"
    );
    assert_eq!(fpscr, 0xf000_009f, "the thread's FPSCR: {out}");
    for r in &received[2..] {
        assert!(is_error(r), "{r}: {out}");
    }
    // The session went on after them: a step reports where it stopped.
    assert!(num_after(&out, "PC ") > 0x3e8, "{out}");
    assert!(out.lines().any(|l| l.starts_with("xpsr ")), "{out}");
    assert!(out.lines().any(|l| l.starts_with("control ")), "{out}");
    assert!(out.lines().any(|l| l.starts_with("d15 ")), "{out}");
    assert!(out.lines().any(|l| l.starts_with("fpscr ")), "{out}");
    assert_eq!(a.finish().0, Some(137), "killed by GDB");
}

/// Stepping over a faulting instruction stops at the handler's first instruction (not
/// one further, as armlet did), like QEMU and silicon; stepping into SVC, over a store that
/// pends an interrupt and over a semihosting call match QEMU too, with watchpoints set (the
/// other step path) or not. With `step-irq on` the step over the store ends at the
/// interrupt handler's first instruction.
#[test]
fn stepi_into_exception_handlers_stops_at_their_first_instruction() {
    if !gdb_available() {
        return;
    }
    for opt in ["O0", "O2"] {
        let fw = firmware(&format!("gdb_fault_{opt}"));
        let hardfault = symbol(&fw, "HardFault_Handler");
        let svc = symbol(&fw, "SVC_Handler");
        let load = symbol(&fw, "faulting_load");
        let steps = |pre: &[&str]| {
            let a = Armlet::start(&fw, &["--wait"]);
            let out = gdb(&a.addr, &fw, pre, Some("stepi-fault.gdb"), &["kill"]);
            let pcs = stepped_pcs(&out);
            assert!(pcs.len() > 10 && pcs.len() < 400, "{out}");
            (pcs, out)
        };
        let (pcs, out) = steps(&[]);
        let at = pcs.iter().position(|&p| p == hardfault).expect(&out);
        // The step before the handler was the load in faulting_load (ARM ARM B1.5.6: the
        // return address of a precise fault is the faulting instruction; the handler's
        // first instruction has not run).
        assert!((load..load + 0x40).contains(&pcs[at - 1]), "{opt}: {out}");
        assert_eq!(
            pcs.len(),
            at + 4,
            "{opt}: three steps inside the handler: {out}"
        );
        assert!(pcs.contains(&svc), "{opt}: stepi into SVC_Handler: {out}");
        let (watched, wout) = steps(&["watch psp_stack[0]"]);
        assert_eq!(watched, pcs, "{opt}: with a watchpoint set: {wout}");
        if let Some(q) = Qemu::start(&fw) {
            let qout = gdb(&q.addr, &fw, &[], Some("stepi-fault.gdb"), &[]);
            let qpcs = stepped_pcs(&qout);
            assert_eq!(
                qpcs, pcs,
                "{opt}: armlet and QEMU step differently:\n{qout}"
            );
        }
        let irq0 = symbol(&fw, "IRQ0_Handler");
        let (on, oout) = steps(&["monitor step-irq on"]);
        let i = on.iter().position(|&p| p == irq0).expect(&oout);
        assert!(
            !pcs.contains(&irq0),
            "{opt}: step-irq off keeps IRQ0 pending"
        );
        // The same steps up to the store to NVIC_ISPR0, which ends at the handler's first
        // instruction.
        assert_eq!(on[..i], pcs[..i], "{opt}: {oout}");
    }
}

/// The line of `src/gdb_fault.c` holding `marker`.
fn fault_source_line(marker: &str) -> usize {
    let src = std::fs::read_to_string(root().join("firmware-tests/src/gdb_fault.c")).unwrap();
    1 + src.lines().position(|l| l.contains(marker)).unwrap()
}

/// `monitor fault` and gdb-scripts' `armlet-fault` decode the frame the core stacked, not
/// the one at the current SP: stopped in a HardFault_Handler written in C after its
/// prologue (at -O0 and -O2, Thread mode on MSP or PSP), or in a function it called, they
/// name the faulting load in faulting_load and its source line.
#[test]
fn fault_report_from_a_c_handler_after_its_prologue_finds_the_stacked_frame() {
    if !gdb_available() {
        return;
    }
    let in_handler = format!(
        "break gdb_fault.c:{}",
        fault_source_line("note_fault(words, 4);")
    );
    let fault_line = fault_source_line("FAULT HERE");
    for (fw, stop, stack) in [
        ("gdb_fault_O0", in_handler.as_str(), "MSP"),
        ("gdb_fault_O2", in_handler.as_str(), "MSP"),
        ("gdb_fault_psp", in_handler.as_str(), "PSP"),
        ("gdb_fault_O2", "break note_fault", "MSP"),
    ] {
        let fw = firmware(fw);
        let load = symbol(&fw, "faulting_load");
        let a = Armlet::start(&fw, &["--wait"]);
        let out = gdb(&a.addr, &fw, &[stop], Some("fault-c.gdb"), &["kill"]);
        let ctx = out
            .lines()
            .find(|l| l.starts_with("interrupted context"))
            .unwrap_or_else(|| panic!("{out}"));
        assert!(ctx.contains(&format!("frame stacked on {stack}")), "{out}");
        let pc = num_after(ctx, "pc=") as u32;
        assert!((load..load + 0x40).contains(&pc), "{out}");
        assert!(ctx.contains("<faulting_load"), "{out}");
        assert!(
            out.contains("faulting instruction (the stacked PC): faulting_load"),
            "{out}"
        );
        assert!(
            out.contains(&format!("Line {fault_line} of \"src/gdb_fault.c\"")),
            "{out}"
        );
        assert!(out.contains(&format!("{pc:#x} <faulting_load")), "{out}");
        assert!(out.contains("\tldr\t"), "the faulting instruction: {out}");
        assert!(out.contains("<signal handler called>"), "{out}");
        assert_eq!(a.finish().0, Some(137));
    }
}

/// False (and a message) when lldb is not installed.
fn lldb_available() -> bool {
    let ok = have("lldb");
    if !ok {
        eprintln!("lldb not installed: skipping (apt-get install lldb)");
    }
    ok
}

/// LLDB connects (`gdb-remote`), reads registers and memory, asks `qMemoryRegionInfo` for
/// mapped and unmapped addresses (answered from the board's map), steps into the HardFault
/// handler and kills the target with an exit status it understands.
#[test]
fn lldb_connects_reads_memory_regions_and_steps() {
    if !lldb_available() {
        return;
    }
    let fw = firmware("gdb_fault_O2");
    let hardfault = symbol(&fw, "HardFault_Handler");
    let a = Armlet::start(&fw, &["--wait"]);
    let mut c = Command::new("lldb");
    c.arg("--batch")
        .args(["-o", &format!("file {}", fw.display())])
        .args(["-o", &format!("gdb-remote {}", a.addr)])
        .args(["-o", "register read pc sp"])
        .args(["-o", "memory read -f x -s 4 -c 2 0"])
        .args(["-o", "memory region 0x100"])
        .args(["-o", "memory region 0x20001000"])
        .args(["-o", "memory region 0x30000000"])
        .args(["-o", "breakpoint set -n faulting_load"])
        .args(["-o", "continue"])
        .args(["-o", "thread step-inst"])
        .args(["-o", "register read pc"])
        .args(["-o", "kill"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("run lldb");
    let out = Lines::default().spawn(child.stdout.take().unwrap());
    let err = Lines::default().spawn(child.stderr.take().unwrap());
    let code = wait_child(&mut child, Duration::from_secs(90));
    std::thread::sleep(Duration::from_millis(50));
    let text = format!("{}{}", out.text(), err.text());
    assert!(code.is_some(), "lldb timed out:\n{text}");
    // The reset vector: initial SP and the reset handler, as in the ELF.
    let m = machine(&fw, false);
    let mut v = [0u8; 8];
    m.debug_read(0, &mut v).unwrap();
    let sp = u32::from_le_bytes([v[0], v[1], v[2], v[3]]);
    let reset = u32::from_le_bytes([v[4], v[5], v[6], v[7]]);
    assert!(
        text.contains(&format!("0x00000000: {sp:#010x} {reset:#010x}")),
        "{text}"
    );
    assert!(text.contains(&format!("sp = {sp:#010x}")), "{text}");
    assert!(
        text.contains("[0x0000000000000000-0x0000000000400000) rwx"),
        "{text}"
    );
    assert!(
        text.contains("[0x0000000020000000-0x0000000020400000) rwx"),
        "{text}"
    );
    let gap = text
        .lines()
        .find(|l| l.contains(") ---"))
        .unwrap_or_else(|| panic!("an unmapped region for 0x30000000:\n{text}"));
    assert!(!text.contains("not supported"), "{text}");
    assert!(gap.starts_with('['), "{gap}");
    assert!(text.contains("stop reason = breakpoint 1.1"), "{text}");
    assert!(
        text.contains("stop reason = instruction step into"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "pc = {hardfault:#010x}  gdb_fault_O2.elf`HardFault_Handler"
        )),
        "{text}"
    );
    assert!(text.contains("exited with status = 9"), "{text}");
    assert_eq!(a.finish().0, Some(137));
}

/// `qMemoryRegionInfo` at the packet level, and `monitor` errors: an unknown command or a
/// bad argument is its text as console output, then `E01`; the session goes on.
#[test]
fn memory_region_info_and_monitor_errors_at_the_packet_level() {
    let fw = firmware("gdb_fault_O2");
    let a = Armlet::start(&fw, &["--wait"]);
    let mut r = Rsp::connect(&a.addr);
    let hex = |s: &str| -> String { s.bytes().map(|b| format!("{b:02x}")).collect() };
    assert_eq!(
        r.cmd("qMemoryRegionInfo:20000010"),
        format!(
            "start:20000000;size:400000;permissions:rwx;name:{};",
            hex("ssram23")
        )
    );
    let gap = r.cmd("qMemoryRegionInfo:30000000");
    assert!(
        gap.starts_with("start:") && !gap.contains("permissions"),
        "{gap}"
    );
    assert_eq!(r.cmd("qMemoryRegionInfo:xyz"), "E16");
    for (cmd, want) in [
        ("bogus", "unknown monitor command 'bogus'"),
        ("reset later", "unknown mode 'later'"),
        ("step-irq maybe", "expected on or off"),
    ] {
        r.send(&format!("qRcmd,{}", hex(cmd)));
        let out = r.recv();
        let text = String::from_utf8(unhex(out.strip_prefix('O').unwrap())).unwrap();
        assert!(text.contains(want), "{cmd}: {text}");
        assert_eq!(r.recv(), "E01", "{cmd}");
    }
    assert!(r.monitor("halt").contains("halted at"));
    assert!(r.monitor("reset init").contains("reset: halted at"));
    // The session goes on.
    assert!(r.cmd("?").starts_with('T'));
    r.send("k");
    assert_eq!(a.finish().0, Some(137));
}

/// `monitor resume`/`go`/`reset run` let the core run while GDB does not wait for it; the
/// debugger's next packet halts it. Here it runs into the fault and stops in the handler.
#[test]
fn monitor_go_runs_the_core_until_the_next_packet() {
    let fw = firmware("gdb_fault_O2");
    let hardfault = symbol(&fw, "HardFault_Handler");
    for go in ["go", "resume", "reset run"] {
        let a = Armlet::start(&fw, &["--wait"]);
        let mut r = Rsp::connect(&a.addr);
        let before = r.monitor("icount");
        assert_eq!(before.trim(), "0");
        let said = r.monitor(go);
        assert!(said.contains("until GDB's next command halts it"), "{said}");
        // Until the firmware reaches its fault (a few hundred instructions).
        let end = Instant::now() + Duration::from_secs(20);
        while a
            .err
            .wait_for("the core is halted", Duration::from_millis(0))
            .is_none()
        {
            assert!(Instant::now() < end, "{}", a.err.text());
            std::thread::sleep(Duration::from_millis(10));
        }
        let pc = r.reg(15);
        assert!(
            (hardfault..hardfault + 0x40).contains(&pc),
            "{go}: pc={pc:#x}"
        );
        assert!(r.monitor("icount").trim().parse::<u64>().unwrap() > 100);
        r.send("k");
        assert_eq!(a.finish().0, Some(137));
    }
}

/// With real GDB: an unknown monitor command is an error GDB shows, and it stops a script;
/// the probe spellings users copy from OpenOCD/pyOCD/J-Link scripts work.
#[test]
fn gdb_stops_a_script_at_an_unknown_monitor_command_and_knows_the_probe_spellings() {
    if !gdb_available() {
        return;
    }
    let fw = firmware("gdb_fault_O2");
    let a = Armlet::start(&fw, &["--wait"]);
    let out = gdb(
        &a.addr,
        &fw,
        &[
            "monitor reset halt",
            "monitor reset init",
            "monitor halt",
            "monitor help",
        ],
        Some("monitor-bogus.gdb"),
        &["kill"],
    );
    assert!(out.contains("reset: halted at"), "{out}");
    assert!(out.contains("halted at 0x"), "{out}");
    for spelling in ["reset run", "resume | go", "halt"] {
        assert!(out.contains(spelling), "help lists {spelling}: {out}");
    }
    assert!(out.contains("unknown monitor command 'bogus'"), "{out}");
    assert!(out.contains("Protocol error with Rcmd"), "{out}");
    assert!(!out.contains("AFTER-BOGUS"), "the script went on: {out}");
    // GDB's -batch went on to `kill` after the failed script.
    assert_eq!(a.finish().0, Some(137));
}

/// A second gdb-multiarch is refused with an error it shows ("Remote failure reply:
/// E.armlet: another debugger ..."), not a broken `qSupported` exchange; the first session
/// goes on.
#[test]
fn a_second_gdb_is_told_why_it_is_refused() {
    if !gdb_available() {
        return;
    }
    let fw = firmware("gdb_fault_O2");
    let a = Armlet::start(&fw, &["--wait"]);
    let mut first = Rsp::connect(&a.addr);
    let out = gdb(&a.addr, &fw, &[], None, &["echo AFTER-REFUSAL\\n"]);
    assert!(
        out.contains("Remote failure reply: E.armlet: another debugger is already connected"),
        "{out}"
    );
    assert!(!out.contains("unrecognized item"), "{out}");
    assert!(!out.contains("Broken pipe"), "{out}");
    assert!(out.contains("AFTER-REFUSAL"), "{out}");
    assert!(first.cmd("?").starts_with('T'));
    first.send("k");
    assert_eq!(a.finish().0, Some(137));
}

/// A `b .` in the SysTick handler that nothing can preempt is a deadlock under the GDB
/// server too: `continue` comes back with a stop (SIGSTOP and the report, PC in the handler),
/// not a hang.
#[test]
fn a_deadlock_in_a_handler_stops_the_debugger_with_a_report() {
    if !gdb_available() {
        return;
    }
    let fw = firmware("handler_spin");
    let a = Armlet::start(&fw, &["--wait", "--", "systick"]);
    let t0 = Instant::now();
    let out = gdb(
        &a.addr,
        &fw,
        &["continue", "info symbol $pc", "p/x $xpsr & 0x1ff"],
        None,
        &["kill"],
    );
    assert!(t0.elapsed() < Duration::from_secs(30), "{out}");
    assert!(out.contains("SIGSTOP"), "{out}");
    assert!(
        out.contains("the SysTick handler (exception 15)"),
        "the report names the handler: {out}"
    );
    assert!(out.contains("SysTick_Handler"), "{out}");
    assert!(out.contains("= 0xf"), "IPSR is SysTick's: {out}");
    assert_eq!(a.finish().0, Some(137));
}
