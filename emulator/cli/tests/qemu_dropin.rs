//! The drop-in against the command lines in the wild: picolibc's run-arm (its probes and its
//! run line, through a PATH shim named `qemu-system-arm`), `-device loader`, `-machine`
//! sub-options, chardevs; the semihosting opt-in variables; output hygiene (a closed stdout,
//! colour in logs). Where qemu-system-arm is installed, the same command lines run on it and
//! the results must match.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const ARMLET: &str = env!("CARGO_BIN_EXE_armlet");

fn fw_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../firmware-tests")
}

fn build(name: &str) -> PathBuf {
    let p = fw_dir().join("build").join(name);
    assert!(
        p.exists(),
        "{} missing: run `make -C firmware-tests` (needs picolibc-arm-none-eabi)",
        p.display()
    );
    p
}

fn have_qemu() -> bool {
    Command::new("qemu-system-arm")
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).starts_with("QEMU emulator"))
}

/// A directory with `qemu-system-arm` -> armlet, to put first on PATH.
fn shim() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(ARMLET, dir.path().join("qemu-system-arm")).unwrap();
    dir
}

fn path_with(dir: &Path) -> String {
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// picolibc's run-arm command lines (firmware-tests/picolibc/run-arm, or picolibc's own
/// scripts/run-arm named by PICOLIBC_RUN_ARM), with `qemu-system-arm` resolved through `path`.
fn run_arm(path: &str, elf: &Path, args: &[&str]) -> Output {
    let cwd = tempfile::tempdir().unwrap();
    let script = std::env::var_os("PICOLIBC_RUN_ARM")
        .map(PathBuf::from)
        .unwrap_or_else(|| fw_dir().join("picolibc/run-arm"));
    Command::new("bash")
        .arg(script)
        .arg(elf)
        .args(args)
        .env("PATH", path)
        .current_dir(cwd.path())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn picolibc_run_arm_through_a_path_shim_gets_qemus_results() {
    let cases: [(&str, &[&str], i32, &str); 3] = [
        ("pass", &[], 0, "picolibc pass: 42-ok-beef\n"),
        ("fail", &[], 3, "picolibc fail: exit(3)\n"),
        (
            "args",
            &["one", "two"],
            0,
            // picolibc's crt0 puts "program-name" first, then splits run-arm's arg=.
            "argc=4\nargv[0]=program-name\nargv[1]=program-name\nargv[2]=one\nargv[3]=two\n",
        ),
    ];
    let shim = shim();
    let qemu = have_qemu();
    for (name, args, status, stdout) in cases {
        let elf = build(&format!("picolibc_{name}.elf"));
        let a = run_arm(&path_with(shim.path()), &elf, args);
        assert_eq!(
            (a.status.code(), text(&a.stdout).as_str()),
            (Some(status), stdout),
            "{name} on armlet; stderr:\n{}",
            text(&a.stderr)
        );
        assert!(a.stderr.is_empty(), "{name}: {}", text(&a.stderr));
        if qemu {
            let q = run_arm(&std::env::var("PATH").unwrap_or_default(), &elf, args);
            assert_eq!(
                (q.status.code(), text(&q.stdout)),
                (a.status.code(), text(&a.stdout)),
                "{name}: qemu-system-arm and armlet differ"
            );
        }
    }
}

fn qemu_line(program: &str, args: &[&str]) -> Output {
    let cwd = tempfile::tempdir().unwrap();
    Command::new(program)
        .args(if program == ARMLET {
            &["qemu"][..]
        } else {
            &[]
        })
        .args(args)
        .current_dir(cwd.path())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Each command line on armlet gets the expected result, and the same as qemu-system-arm's.
fn same_as_qemu(lines: &[(Vec<String>, i32, &str)]) {
    let qemu = have_qemu();
    for (line, status, stdout) in lines {
        let line: Vec<&str> = line.iter().map(String::as_str).collect();
        let a = qemu_line(ARMLET, &line);
        assert_eq!(
            (a.status.code(), text(&a.stdout).as_str()),
            (Some(*status), *stdout),
            "{line:?} on armlet; stderr:\n{}",
            text(&a.stderr)
        );
        if qemu {
            let q = qemu_line("qemu-system-arm", &line);
            assert_eq!(
                (q.status.code(), text(&q.stdout).as_str()),
                (Some(*status), *stdout),
                "{line:?} on qemu-system-arm; stderr:\n{}",
                text(&q.stderr)
            );
        }
    }
}

fn base(extra: &[&str]) -> Vec<String> {
    // QEMU writes semihosting output to stderr unless it has a chardev.
    [
        "-M",
        "mps2-an385",
        "-nographic",
        "-monitor",
        "none",
        "-serial",
        "none",
        "-chardev",
        "stdio,mux=on,id=stdio0",
        "-semihosting-config",
        "enable=on,target=native,chardev=stdio0",
    ]
    .iter()
    .chain(extra)
    .map(|s| s.to_string())
    .collect()
}

#[test]
fn device_loader_and_kernel_load_and_start_as_on_qemu() {
    let entry = build("picolibc_entry.elf");
    let entry = entry.to_str().unwrap();
    let bin = build("picolibc_pass.bin");
    let bin = bin.to_str().unwrap();
    let pass = "picolibc pass: 42-ok-beef\n";
    same_as_qemu(&[
        // Without cpu-num the core starts from the vector table...
        (
            base(&["-device", &format!("loader,file={entry}")]),
            0,
            "from the reset vector\n",
        ),
        // ...with it, at the ELF's entry point.
        (
            base(&["-device", &format!("loader,file={entry},cpu-num=0")]),
            5,
            "from the ELF entry point\n",
        ),
        // A raw image at addr=, and a raw -kernel (loaded at 0).
        (
            base(&["-device", &format!("loader,file={bin},addr=0x0")]),
            0,
            pass,
        ),
        (base(&["-kernel", bin]), 0, pass),
        // Two images: the ELF by -kernel, raw bytes (here the ELF file itself) in RAM.
        (
            base(&[
                "-kernel",
                bin,
                "-device",
                &format!("loader,file={entry},addr=0x20200000,force-raw=on"),
            ]),
            0,
            pass,
        ),
        (base(&["-accel", "tcg", "-kernel", bin]), 0, pass),
        // -machine sub-options QEMU users pass, -vga none, -net none.
        (
            base(&[
                "-machine",
                "mps2-an385,accel=tcg,usb=off",
                "-vga",
                "none",
                "-net",
                "none",
                "-kernel",
                bin,
            ]),
            0,
            pass,
        ),
    ]);
}

#[test]
fn lm3s6965evb_takes_any_core_as_on_qemu() {
    // Rust's cargo runners for thumbv7em: `-cpu cortex-m4 -machine lm3s6965evb`. The CPUID
    // PARTNO of each core is in its Technical Reference Manual.
    let elf = build("picolibc_cpuid_lm3s.elf");
    let elf = elf.to_str().unwrap();
    let line = |cpu: &str| -> Vec<String> {
        [
            "-cpu",
            cpu,
            "-machine",
            "lm3s6965evb",
            "-nographic",
            "-monitor",
            "none",
            "-serial",
            "none",
            "-chardev",
            "stdio,mux=on,id=c",
            "-semihosting-config",
            "enable=on,target=native,chardev=c",
            "-kernel",
            elf,
        ]
        .map(String::from)
        .to_vec()
    };
    same_as_qemu(&[
        (line("cortex-m3"), 0, "PARTNO c23\n"),
        (line("cortex-m4"), 0, "PARTNO c24\n"),
        (line("cortex-m7"), 0, "PARTNO c27\n"),
    ]);
}

#[test]
fn rust_cargo_runner_lines() {
    // cortex-m-quickstart's runner and the `-display none -semihosting` form, with the cores
    // Rust's thumbv7m/thumbv7em runners name. QEMU (no semihosting chardev) writes the
    // output to stderr, armlet to stdout: statuses are compared, outputs checked.
    let elf = build("hello_lm3s.elf");
    let elf = elf.to_str().unwrap();
    for cpu in ["cortex-m3", "cortex-m4"] {
        for line in [
            &["-cpu", cpu, "-machine", "lm3s6965evb", "-nographic"][..],
            &["-M", "lm3s6965evb", "-cpu", cpu, "-display", "none"],
        ] {
            let mut line = line.to_vec();
            line.extend([
                "-semihosting-config",
                "enable=on,target=native",
                "-kernel",
                elf,
            ]);
            let a = qemu_line(ARMLET, &line);
            assert_eq!(
                (a.status.code(), text(&a.stdout).as_str()),
                (Some(0), "Hello from armlet!\n"),
                "{line:?}: {}",
                text(&a.stderr)
            );
            if have_qemu() {
                let q = qemu_line("qemu-system-arm", &line);
                assert_eq!(q.status.code(), Some(0), "{line:?}");
                assert!(
                    text(&q.stdout).contains("Hello from armlet!")
                        || text(&q.stderr).contains("Hello from armlet!")
                );
            }
        }
    }
}

/// Zephyr's twister (QEMU_PIPE): the console UART on `-serial pipe:FIFO`, with FIFO.in and
/// FIFO.out made by mkfifo; input written to FIFO.in, output read from FIFO.out.
fn run_on_pipes(program: &str, elf: &Path, input: &str) -> (Option<i32>, String, String) {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("qemu-fifo");
    for ext in ["in", "out"] {
        let st = Command::new("mkfifo")
            .arg(fifo.with_extension(ext))
            .status()
            .unwrap();
        assert!(st.success());
    }
    let mut c = Command::new(program);
    if program == ARMLET {
        c.arg("qemu");
    }
    let child = c
        .args(["-M", "mps2-an385", "-nographic", "-monitor", "none"])
        .arg("-serial")
        .arg(format!("pipe:{}", fifo.display()))
        .args(["-chardev", "stdio,mux=on,id=c"])
        .args(["-semihosting-config", "enable=on,target=native,chardev=c"])
        .arg("-kernel")
        .arg(elf)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // As twister: open the emulator's input for writing, then its output for reading (in a
    // thread: the opens block until the emulator has opened its ends, which a broken one
    // never does).
    let (tx, rx) = std::sync::mpsc::channel();
    let (fin, fout, input) = (
        fifo.with_extension("in"),
        fifo.with_extension("out"),
        input.to_string(),
    );
    std::thread::spawn(move || {
        let mut to = std::fs::OpenOptions::new().write(true).open(fin).unwrap();
        let mut from = std::fs::File::open(fout).unwrap();
        to.write_all(input.as_bytes()).unwrap();
        let mut uart = String::new();
        let _ = from.read_to_string(&mut uart);
        let _ = tx.send(uart);
    });
    let o = child.wait_with_output().unwrap();
    let uart = rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .unwrap_or_else(|_| format!("<the pipes were never opened: {}>", text(&o.stderr)));
    (o.status.code(), text(&o.stdout), uart)
}

#[test]
fn serial_on_named_pipes_as_zephyr_twister_uses_them() {
    let elf = build("uart_echo.elf");
    let want = (
        Some(0),
        "received 21 characters before the newline\n".to_string(),
        "HELLO, UART ECHO 123!\n".to_string(),
    );
    assert_eq!(
        run_on_pipes(ARMLET, &elf, "Hello, UART echo 123!\nnot read\n"),
        want
    );
    if have_qemu() {
        assert_eq!(
            run_on_pipes("qemu-system-arm", &elf, "Hello, UART echo 123!\nnot read\n"),
            want
        );
    }
    // Missing pipes: an error naming them, before anything runs.
    let o = Command::new(ARMLET)
        .args([
            "qemu",
            "-M",
            "mps2-an385",
            "-serial",
            "pipe:/nonexistent/fifo",
            "-kernel",
        ])
        .arg(&elf)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(125));
    assert!(text(&o.stderr).contains("mkfifo"), "{}", text(&o.stderr));
}

/// defmt's qemu-run: the UART connects to a TCP server of the runner's
/// (`-chardev socket,...,server=off` and `-serial chardev:ID`), or QEMU's `-serial tcp:H:P`.
fn run_to_tcp_server(program: &str, serial: &[String]) -> (Option<i32>, String) {
    use std::io::Read;
    let listener = std::net::TcpListener::bind("localhost:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let (mut sock, _) = listener.accept().unwrap();
        let mut got = String::new();
        let _ = sock.read_to_string(&mut got);
        let _ = tx.send(got);
    });
    let serial: Vec<String> = serial
        .iter()
        .map(|a| a.replace("PORT", &port.to_string()))
        .collect();
    let mut c = Command::new(program);
    if program == ARMLET {
        c.arg("qemu");
    }
    let o = c
        .args(["-machine", "mps2-an385", "-cpu", "cortex-m3"])
        .args(&serial)
        .args(["-nographic", "-monitor", "none"])
        .args(["-semihosting-config", "enable=on,target=native", "-kernel"])
        .arg(build("uart_hello_an385.elf"))
        .output()
        .unwrap();
    let got = rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .unwrap_or_else(|_| format!("<no connection: {}>", text(&o.stderr)));
    (o.status.code(), got)
}

#[test]
fn serial_to_a_tcp_server_as_defmt_qemu_run() {
    let want = std::fs::read_to_string(fw_dir().join("expected/uart_hello_an385.stdout")).unwrap();
    for serial in [
        vec![
            "-chardev".to_string(),
            "socket,id=sock0,server=off,telnet=off,port=PORT,host=localhost".into(),
            "-serial".into(),
            "chardev:sock0".into(),
        ],
        vec!["-serial".to_string(), "tcp:localhost:PORT".into()],
    ] {
        assert_eq!(
            run_to_tcp_server(ARMLET, &serial),
            (Some(0), want.clone()),
            "{serial:?}"
        );
        if have_qemu() {
            assert_eq!(
                run_to_tcp_server("qemu-system-arm", &serial),
                (Some(0), want.clone()),
                "{serial:?} on QEMU"
            );
        }
    }
}

#[test]
fn overlapping_images_are_refused_as_on_qemu() {
    let entry = build("picolibc_entry.elf");
    let bin = build("picolibc_pass.bin");
    let line = base(&[
        "-kernel",
        entry.to_str().unwrap(),
        "-device",
        &format!("loader,file={},addr=0x100", bin.display()),
    ]);
    let line: Vec<&str> = line.iter().map(String::as_str).collect();
    let a = qemu_line(ARMLET, &line);
    let err = text(&a.stderr);
    assert_eq!(a.status.code(), Some(125), "{err}");
    assert!(
        err.contains("overlap") && err.contains("picolibc_pass.bin"),
        "{err}"
    );
    if have_qemu() {
        let q = qemu_line("qemu-system-arm", &line);
        assert_ne!(q.status.code(), Some(0));
        assert!(
            text(&q.stderr).contains("overlapping"),
            "{}",
            text(&q.stderr)
        );
    }
}

#[test]
fn cmdline_commas_and_chardevs_as_on_qemu() {
    let args = build("picolibc_args.elf");
    let uart = fw_dir().join("build/uart_hello_an385.elf");
    same_as_qemu(&[
        (
            vec![
                "-M".into(),
                "mps2-an385".into(),
                "-nographic".into(),
                "-monitor".into(),
                "none".into(),
                "-chardev".into(),
                "stdio,mux=on,id=con".into(),
                "-serial".into(),
                "none".into(),
                "-semihosting-config".into(),
                "enable=on,chardev=con,arg=a,,b c".into(),
                "-kernel".into(),
                args.display().to_string(),
            ],
            0,
            "argc=3\nargv[0]=program-name\nargv[1]=a,b\nargv[2]=c\n",
        ),
        // The console UART on a chardev by id.
        (
            vec![
                "-M".into(),
                "mps2-an385".into(),
                "-nographic".into(),
                "-monitor".into(),
                "none".into(),
                "-chardev".into(),
                "stdio,id=uart,signal=off".into(),
                "-serial".into(),
                "chardev:uart".into(),
                "-semihosting-config".into(),
                "enable=on,target=native".into(),
                "-kernel".into(),
                uart.display().to_string(),
            ],
            0,
            &std::fs::read_to_string(fw_dir().join("expected/uart_hello_an385.stdout")).unwrap(),
        ),
    ]);
}

#[test]
fn probes_answer_in_qemus_format() {
    let shim = shim();
    let q = shim.path().join("qemu-system-arm");
    let run = |args: &[&str]| {
        let o = Command::new(&q).args(args).output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", text(&o.stderr));
        text(&o.stdout)
    };
    let machines = run(&["-machine", "help"]);
    assert!(
        machines.starts_with("Supported machines are:\n"),
        "{machines}"
    );
    // The MPS2 images fix their core; lm3s6965evb takes any (as QEMU).
    let cpus = [
        ("mps2-an385", "cortex-m3"),
        ("mps2-an386", "cortex-m4"),
        ("mps2-an500", "cortex-m7"),
        ("lm3s6965evb", "cortex-m3\n  cortex-m4\n  cortex-m7"),
    ];
    for (m, cpu) in cpus {
        // QEMU: `printf("%-20s %s\n", name, desc)`; picolibc greps "^NAME ".
        let line = machines
            .lines()
            .find(|l| l.starts_with(&format!("{m} ")))
            .unwrap_or_else(|| panic!("{m} not listed:\n{machines}"));
        assert!(
            line[20..].starts_with(' ') && !line[21..].starts_with(' '),
            "{line:?}"
        );
        assert_eq!(
            run(&["-machine", m, "-cpu", "help"]),
            format!("Available CPUs:\n  {cpu}\n")
        );
        assert_eq!(
            run(&["-M", &format!("{m},accel=tcg"), "-cpu", "?"]),
            run(&["-machine", m, "-cpu", "help"])
        );
    }
    assert_eq!(
        run(&["-cpu", "help"]),
        "Available CPUs:\n  cortex-m3\n  cortex-m4\n  cortex-m7\n"
    );
    for h in ["-help", "--help", "-h"] {
        let out = run(&[h]);
        assert!(
            out.contains("-device loader,file=FILE") && out.contains("-cpu NAME"),
            "{h}: {out}"
        );
    }
    for v in ["-version", "--version"] {
        let out = run(&[v]);
        let first = out.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("QEMU emulator version ") && first.contains("armlet"),
            "{out}"
        );
    }
    if have_qemu() {
        // The same probes on QEMU give lines of the same shape.
        let o = Command::new("qemu-system-arm")
            .args(["-machine", "help"])
            .output()
            .unwrap();
        let real = text(&o.stdout);
        assert!(real.starts_with("Supported machines are:\n"));
        for (m, cpu) in cpus {
            let line = real
                .lines()
                .find(|l| l.starts_with(&format!("{m} ")))
                .unwrap();
            let ours = machines
                .lines()
                .find(|l| l.starts_with(&format!("{m} ")))
                .unwrap();
            let col = |l: &str| l[m.len()..].find(|c| c != ' ').map(|i| i + m.len());
            assert_eq!(col(line), col(ours), "{line:?} vs {ours:?}");
            let o = Command::new("qemu-system-arm")
                .args(["-machine", m, "-cpu", "help"])
                .output()
                .unwrap();
            for cpu in cpu.split('\n') {
                assert!(text(&o.stdout)
                    .lines()
                    .any(|l| l == cpu || l == format!("  {cpu}")));
            }
        }
        let o = Command::new("qemu-system-arm")
            .arg("-version")
            .output()
            .unwrap();
        assert!(text(&o.stdout).starts_with("QEMU emulator version "));
    }
}

#[test]
fn options_armlet_cannot_honour_are_refused_by_name() {
    let hello = fw_dir().join("prebuilt/hello.elf");
    let hello = hello.to_str().unwrap();
    for (args, want) in [
        (vec!["-M", "mps2-an385,accel=kvm"], "accel=kvm"),
        (
            vec!["-M", "mps2-an385,memory-backend=ram0"],
            "memory-backend=ram0",
        ),
        (
            vec!["-M", "mps2-an385", "-device", "loader,data=0x1,addr=0x0"],
            "data",
        ),
        (
            vec!["-M", "mps2-an385", "-device", "loader,file=x,cpu-num=1"],
            "one core",
        ),
        (
            vec!["-M", "mps2-an385", "-device", "virtio-net-device"],
            "virtio-net-device",
        ),
        (
            vec!["-M", "mps2-an385", "-chardev", "socket,id=s,path=/tmp/s"],
            "-chardev socket",
        ),
        (
            vec!["-M", "mps2-an385", "-chardev", "pty,id=p"],
            "-chardev pty",
        ),
        (
            vec!["-M", "mps2-an385", "-serial", "chardev:nope"],
            "chardev 'nope' is not defined",
        ),
        (
            vec![
                "-M",
                "mps2-an385",
                "-chardev",
                "null,id=n",
                "-semihosting-config",
                "enable=on,chardev=n",
            ],
            "chardev=n",
        ),
        (
            vec!["-M", "mps2-an385", "-cpu", "cortex-m4"],
            "has a cortex-m3",
        ),
        (vec!["-M", "mps2-an385", "-vga", "std"], "-vga std"),
    ] {
        let o = Command::new(ARMLET)
            .arg("qemu")
            .args(&args)
            .args(["-kernel", hello])
            .output()
            .unwrap();
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(125), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn pidfile_is_written_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let pid = dir.path().join("qemu.pid");
    // Zephyr's line: the pid file holds the process id while the firmware (a `b .` loop
    // that never exits) runs, and is gone after SIGTERM ends the run.
    let mut child = Command::new(ARMLET)
        .args([
            "qemu",
            "-cpu",
            "cortex-m3",
            "-machine",
            "mps2-an385",
            "-nographic",
        ])
        .args([
            "-vga",
            "none",
            "-serial",
            "mon:stdio",
            "-semihosting",
            "-pidfile",
        ])
        .arg(&pid)
        .arg("-kernel")
        .arg(build("loop.elf"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = std::time::Instant::now();
    while std::fs::read_to_string(&pid).unwrap_or_default() != format!("{}\n", child.id()) {
        assert!(t0.elapsed().as_secs() < 20, "no pid file");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let st = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(child.wait().unwrap().code(), Some(143));
    assert!(!pid.exists(), "the pid file is removed at exit");
    let o = Command::new(ARMLET)
        .args(["qemu", "-M", "mps2-an385", "-pidfile"])
        .arg(dir.path().join("no/such/dir/qemu.pid"))
        .args(["-kernel", "x.elf"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(125));
    assert!(text(&o.stderr).contains("-pidfile"));
}

// ---- #6: the semihosting opt-in variables ----

fn run_files(cwd: &Path, env: &[(&str, &Path)], system: Option<&str>, opts: &[&str]) -> Output {
    let mut c = Command::new(ARMLET);
    c.args(opts)
        .current_dir(cwd)
        .env_remove("ARMLET_SEMIHOSTING_ROOT")
        .env_remove("ARMLET_ALLOW_SYSTEM");
    for (k, v) in env {
        c.env(k, v);
    }
    if let Some(s) = system {
        c.env("ARMLET_ALLOW_SYSTEM", s);
    }
    c.output().unwrap()
}

#[test]
fn semihosting_root_and_allow_system_from_the_environment() {
    let elf = build("picolibc_files.elf");
    let elf = elf.to_str().unwrap();
    let run = ["run", elf];
    let qemu = [
        "qemu",
        "-M",
        "mps2-an385",
        "-nographic",
        "-semihosting",
        "-kernel",
        elf,
    ];
    let cwd = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let env = [("ARMLET_SEMIHOSTING_ROOT", root.path())];

    // The confined defaults: no file access for `run`, the current directory for `qemu`.
    let o = run_files(cwd.path(), &[], None, &run);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stdout));
    let o = run_files(cwd.path(), &[], None, &qemu);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stdout));
    assert!(cwd.path().join("picolibc_files.txt").exists());
    std::fs::remove_file(cwd.path().join("picolibc_files.txt")).unwrap();

    // ARMLET_SEMIHOSTING_ROOT: files there, SYS_SYSTEM still refused.
    for line in [&run[..], &qemu[..]] {
        let o = run_files(cwd.path(), &env, None, line);
        assert_eq!(o.status.code(), Some(2), "{line:?}: {}", text(&o.stdout));
        assert!(root.path().join("picolibc_files.txt").exists(), "{line:?}");
        assert!(!cwd.path().join("picolibc_files.txt").exists(), "{line:?}");
        std::fs::remove_file(root.path().join("picolibc_files.txt")).unwrap();
    }
    // ARMLET_ALLOW_SYSTEM=1 as well: the host command runs in the root.
    for line in [&run[..], &qemu[..]] {
        let o = run_files(cwd.path(), &env, Some("1"), line);
        assert_eq!(o.status.code(), Some(0), "{line:?}: {}", text(&o.stdout));
        assert_eq!(
            std::fs::read_to_string(root.path().join("picolibc_system.txt")).unwrap(),
            "from-system\n"
        );
        std::fs::remove_file(root.path().join("picolibc_system.txt")).unwrap();
        std::fs::remove_file(root.path().join("picolibc_files.txt")).unwrap();
    }
    // `armlet qemu` in a directory: ARMLET_ALLOW_SYSTEM=1 alone runs commands there.
    let o = run_files(cwd.path(), &[], Some("1"), &qemu);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    assert!(cwd.path().join("picolibc_system.txt").exists());
    // ARMLET_ALLOW_SYSTEM=0 is off.
    let o = run_files(cwd.path(), &env, Some("0"), &run);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stdout));
    std::fs::remove_file(root.path().join("picolibc_files.txt")).unwrap();

    // The command line wins over the environment.
    let other = tempfile::tempdir().unwrap();
    let root_opt = other.path().to_str().unwrap();
    let o = run_files(
        cwd.path(),
        &env,
        None,
        &["run", elf, "--semihosting-root", root_opt],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stdout));
    assert!(other.path().join("picolibc_files.txt").exists());
    assert!(!root.path().join("picolibc_files.txt").exists());

    // `armlet run` with ARMLET_ALLOW_SYSTEM=1 but no root, and a bad value: clear errors.
    let o = run_files(cwd.path(), &[], Some("1"), &run);
    assert_eq!(o.status.code(), Some(125));
    assert!(
        text(&o.stderr).contains("ARMLET_SEMIHOSTING_ROOT"),
        "{}",
        text(&o.stderr)
    );
    let o = run_files(cwd.path(), &env, Some("maybe"), &run);
    assert_eq!(o.status.code(), Some(125));
    assert!(
        text(&o.stderr).contains("ARMLET_ALLOW_SYSTEM=maybe"),
        "{}",
        text(&o.stderr)
    );
}

// ---- #7: output hygiene ----

/// Run armlet with stdout connected to a socket whose other end is already closed: every
/// write to stdout fails with EPIPE.
fn with_closed_stdout(args: &[&str]) -> Output {
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    drop(ours);
    let child = Command::new(ARMLET)
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .stdout(Stdio::from(std::os::fd::OwnedFd::from(theirs)))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn a_closed_stdout_is_a_quiet_exit() {
    let hello = fw_dir().join("prebuilt/hello.elf");
    let hello = hello.to_str().unwrap();
    let manifest = tempfile::tempdir().unwrap();
    let toml = manifest.path().join("t.toml");
    std::fs::write(
        &toml,
        format!("[[test]]\nname = \"hello\"\nfirmware = \"{hello}\"\nstdout = \"Hello from armlet!\\n\"\n"),
    )
    .unwrap();
    let toml = toml.to_str().unwrap();
    for (args, status) in [
        (&["qemu", "-machine", "help"][..], 0),
        (&["qemu", "-machine", "mps2-an385", "-cpu", "help"], 0),
        (&["qemu", "-help"], 0),
        (&["qemu", "-version"], 0),
        (&["machines"], 0),
        (&["machines", "types"], 0),
        (&["machines", "show", "mps2-an385"], 0),
        (&["--help"], 0),
        (&["run", "--help"], 0),
        (&["--version"], 0),
        // Guest output: the run goes on to the firmware's own exit status, as on QEMU.
        (&["run", hello], 0),
        (
            &["qemu", "-M", "mps2-an385", "-semihosting", "-kernel", hello],
            0,
        ),
        (&["test", toml, "-j", "1"], 0),
    ] {
        let o = with_closed_stdout(args);
        let err = text(&o.stderr);
        assert!(
            !err.contains("panicked") && !err.contains("backtrace") && !err.contains("Broken pipe"),
            "{args:?}: {err}"
        );
        assert_eq!(o.status.code(), Some(status), "{args:?}: {err}");
    }
}

#[test]
fn a_closed_stderr_is_a_quiet_exit() {
    // A fault report to a stderr nobody reads: no panic (status 101), a quiet end instead.
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    drop(ours);
    let o = Command::new(ARMLET)
        .arg("run")
        .arg(build("udf.elf"))
        .env("RUST_BACKTRACE", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(std::os::fd::OwnedFd::from(theirs)))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(141));
}

#[test]
fn logs_in_a_pipe_have_no_colour() {
    let hello = fw_dir().join("prebuilt/hello.elf");
    let o = Command::new(ARMLET)
        .args(["-vv", "run"])
        .arg(&hello)
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    let err = text(&o.stderr);
    assert!(err.contains("DEBUG"), "no log lines to check: {err}");
    assert!(!err.contains('\x1b'), "escape bytes in piped logs: {err:?}");

    // On a terminal (util-linux `script` gives one): colour, unless NO_COLOR is set.
    let Ok(script) = which("script") else {
        eprintln!("`script` not installed: terminal case not checked");
        return;
    };
    let on_tty = |no_color: Option<&str>| {
        let mut c = Command::new(&script);
        c.args(["-qec"])
            .arg(format!("{ARMLET} -vv run {} >/dev/null", hello.display()))
            .arg("/dev/null")
            .env_remove("NO_COLOR");
        if let Some(v) = no_color {
            c.env("NO_COLOR", v);
        }
        text(&c.output().unwrap().stdout)
    };
    let coloured = on_tty(None);
    assert!(coloured.contains("DEBUG"), "{coloured:?}");
    assert!(
        coloured.contains("\x1b["),
        "no colour on a terminal: {coloured:?}"
    );
    let plain = on_tty(Some("1"));
    assert!(plain.contains("DEBUG"), "{plain:?}");
    assert!(
        !plain.contains('\x1b'),
        "colour despite NO_COLOR: {plain:?}"
    );
}

fn which(name: &str) -> Result<PathBuf, ()> {
    std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
        .ok_or(())
}
