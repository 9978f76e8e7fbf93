//! `armlet qemu` takes qemu-system-arm command lines; run the firmware tests that QEMU can run
//! through both with identical command lines and compare exit status and output.

use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[derive(Debug, Deserialize)]
struct Manifest {
    test: Vec<Case>,
}

#[derive(Debug, Deserialize)]
struct Case {
    name: String,
    firmware: String,
    exit_code: i32,
    #[serde(default)]
    args: Vec<String>,
    qemu: Option<bool>,
    machine: Option<String>,
    stdin: Option<String>,
    skip: Option<String>,
}

fn fw_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../firmware-tests")
}

/// The command line `firmware-tests/qemu-check.py` uses: the console UART on stdio (fed the
/// test's stdin), semihosting output merged into stdout.
fn qemu_line(machine: &str, elf: &Path, args: &[String]) -> Vec<String> {
    let mut semi = String::from("enable=on,target=native");
    for a in std::iter::once("fw").chain(args.iter().map(String::as_str)) {
        semi.push_str(&format!(",arg={a}"));
    }
    semi.push_str(",chardev=con");
    [
        "-M",
        machine,
        "-nographic",
        "-monitor",
        "none",
        "-serial",
        "stdio",
        "-chardev",
        "file,id=con,path=/dev/stdout",
        "-semihosting-config",
        &semi,
        "-kernel",
        elf.to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn run_in_tempdir(program: &str, pre: &[&str], args: &[String], stdin: &str) -> Output {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(program)
        .args(pre)
        .args(args)
        .current_dir(dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut input = child.stdin.take().unwrap();
    let data = stdin.as_bytes().to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait");
    let _ = feeder.join();
    out
}

#[test]
fn firmware_tests_behave_the_same_under_armlet_qemu_and_qemu_system_arm() {
    let have_qemu = Command::new("qemu-system-arm")
        .arg("--version")
        .output()
        .is_ok();
    if !have_qemu && std::env::var_os("ARMLET_SKIP_QEMU").is_some() {
        eprintln!("qemu-system-arm missing and ARMLET_SKIP_QEMU set: skipping");
        return;
    }
    assert!(
        have_qemu,
        "qemu-system-arm is not installed (set ARMLET_SKIP_QEMU=1 to skip deliberately)"
    );
    let m: Manifest =
        toml::from_str(&std::fs::read_to_string(fw_dir().join("tests.toml")).unwrap()).unwrap();
    let mut compared = 0;
    let mut failures = Vec::new();
    for case in m
        .test
        .iter()
        .filter(|c| c.qemu != Some(false) && c.skip.is_none())
    {
        let machine = case.machine.as_deref().unwrap_or("mps2-an385");
        let line = qemu_line(machine, &fw_dir().join(&case.firmware), &case.args);
        let input = case.stdin.as_deref().unwrap_or("");
        let a = run_in_tempdir(env!("CARGO_BIN_EXE_armlet"), &["qemu"], &line, input);
        let q = run_in_tempdir("qemu-system-arm", &[], &line, input);
        if a.status.code() != q.status.code() || a.stdout != q.stdout {
            failures.push(format!(
                "{}: armlet exit {:?} stdout {:?}\n  qemu exit {:?} stdout {:?}\n  armlet stderr {}",
                case.name,
                a.status.code(),
                String::from_utf8_lossy(&a.stdout),
                q.status.code(),
                String::from_utf8_lossy(&q.stdout),
                String::from_utf8_lossy(&a.stderr)
            ));
        }
        assert_eq!(a.status.code(), Some(case.exit_code), "{}", case.name);
        compared += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(compared >= 10, "only {compared} tests compared");
}

#[test]
fn invoked_as_qemu_system_arm_through_a_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("qemu-system-arm");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_armlet"), &link).unwrap();
    let hello = fw_dir().join("prebuilt/hello.elf");
    let o = Command::new(&link)
        .args([
            "-machine",
            "mps2-an385",
            "-nographic",
            "-semihosting-config",
            "enable=on,target=native",
            "-kernel",
        ])
        .arg(&hello)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&o.stdout), "Hello from armlet!\n");
}

#[test]
fn unsupported_options_give_the_documented_error() {
    for bad in [
        &["-device", "foo"][..],
        &["-gdb", "unix:/tmp/gdb.sock"],
        &["-append", "x"],
        &["-monitor", "stdio"],
        &["-bios", "x"],
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_armlet"))
            .args(["qemu", "-M", "mps2-an385"])
            .args(bad)
            .args(["-kernel", "x.elf"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(125), "{bad:?}: {err}");
        assert!(
            err.contains(&format!("qemu option '{}'", bad[0])) || err.contains(bad[0]),
            "{bad:?}: {err}"
        );
        assert!(
            err.contains("supported options:") && err.contains("-semihosting-config"),
            "{bad:?}: {err}"
        );
    }
}
