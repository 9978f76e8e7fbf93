//! Runs every firmware test listed in `firmware-tests/tests.toml` through the `armlet`
//! binary three times — twice with the decoded-instruction cache, once without — and checks
//! exit status, exact output, and that all three runs are identical: same output, same
//! instruction count, same virtual time (determinism, and the cache being invisible).
//!
//! The firmware is built by `make -C firmware-tests` (arm-none-eabi-gcc). Missing firmware is
//! a failure, not a skip: set `ARMLET_SKIP_FIRMWARE=1` to skip deliberately.

use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, Deserialize)]
struct Manifest {
    test: Vec<TestCase>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct TestCase {
    name: String,
    firmware: String,
    exit_code: i32,
    stdout_file: Option<String>,
    stdout_contains: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    semihosting_root: bool,
    max_instructions: Option<u64>,
    machine: Option<String>,
    machine_file: Option<String>,
    #[serde(default)]
    itm: bool,
    stdin: Option<String>,
    #[serde(default)]
    serial: Vec<String>,
    /// `--epoch`: seconds, a string or a TOML date-time.
    epoch: Option<toml::Value>,
    #[serde(default)]
    strict: bool,
}

fn firmware_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../firmware-tests")
}

struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    instructions: Option<u64>,
    cycles: Option<u64>,
}

fn run(case: &TestCase, no_icache: bool) -> Outcome {
    let dir = firmware_dir();
    let root = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_armlet"));
    cmd.arg("run").arg(dir.join(&case.firmware)).arg("--stats");
    if let Some(m) = &case.machine {
        cmd.arg("--machine").arg(m);
    }
    if let Some(f) = &case.machine_file {
        cmd.arg("--machine-file").arg(dir.join(f));
    }
    if case.itm {
        cmd.arg("--itm");
    }
    for s in &case.serial {
        cmd.arg("--serial").arg(s);
    }
    if no_icache {
        cmd.arg("--no-icache");
    }
    match &case.epoch {
        Some(toml::Value::String(e)) => {
            cmd.arg("--epoch").arg(e);
        }
        Some(toml::Value::Datetime(d)) => {
            cmd.arg("--epoch").arg(d.to_string());
        }
        Some(e) => {
            cmd.arg("--epoch").arg(e.to_string());
        }
        None => {}
    }
    if case.strict {
        cmd.arg("--strict");
    }
    if case.semihosting_root {
        cmd.arg("--semihosting-root").arg(root.path());
    }
    if let Some(n) = case.max_instructions {
        cmd.arg("--max-instructions").arg(n.to_string());
    }
    cmd.arg("--timeout").arg("120");
    if !case.args.is_empty() {
        cmd.arg("--").args(&case.args);
    }
    cmd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("run armlet");
    let input = case.stdin.clone().unwrap_or_default();
    let mut stdin = child.stdin.take().expect("stdin");
    let feeder = std::thread::spawn(move || {
        use std::io::Write;
        let _ = stdin.write_all(input.as_bytes());
    });
    let out = child.wait_with_output().expect("run armlet");
    let _ = feeder.join();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let stat = |key: &str| -> Option<u64> {
        stderr
            .lines()
            .find_map(|l| l.split(key).nth(1))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
    };
    Outcome {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        instructions: stat(" instructions="),
        cycles: stat(" cycles="),
        stderr,
    }
}

#[test]
fn firmware_tests_pass_deterministically_with_and_without_icache() {
    if std::env::var_os("ARMLET_SKIP_FIRMWARE").is_some() {
        eprintln!("ARMLET_SKIP_FIRMWARE set: skipping firmware tests");
        return;
    }
    let dir = firmware_dir();
    let manifest: Manifest = toml::from_str(
        &std::fs::read_to_string(dir.join("tests.toml")).expect("read firmware-tests/tests.toml"),
    )
    .expect("parse tests.toml");
    let mut failures = Vec::new();
    let mut ran = 0;
    for case in &manifest.test {
        if !dir.join(&case.firmware).exists() {
            failures.push(format!(
                "{}: {} not built (run `make -C firmware-tests`)",
                case.name, case.firmware
            ));
            continue;
        }
        let expected = case
            .stdout_file
            .as_ref()
            .map(|f| std::fs::read_to_string(dir.join(f)).expect("expected stdout file"));
        let mut counts = Vec::new();
        let mut outputs = Vec::new();
        for (no_icache, mode) in [
            (false, "icache"),
            (false, "icache, again"),
            (true, "--no-icache"),
        ] {
            let o = run(case, no_icache);
            if o.code != Some(case.exit_code) {
                failures.push(format!(
                    "{} ({mode}): exit {:?}, want {}\nstdout:\n{}\nstderr:\n{}",
                    case.name, o.code, case.exit_code, o.stdout, o.stderr
                ));
            }
            if let Some(want) = &expected {
                if &o.stdout != want {
                    failures.push(format!(
                        "{} ({mode}): stdout differs\n--- want\n{want}\n--- got\n{}",
                        case.name, o.stdout
                    ));
                }
            }
            if let Some(want) = &case.stdout_contains {
                if !o.stdout.contains(want.as_str()) {
                    failures.push(format!(
                        "{} ({mode}): stdout lacks {want:?}\n--- got\n{}",
                        case.name, o.stdout
                    ));
                }
            }
            counts.push((o.instructions, o.cycles));
            outputs.push(o.stdout);
        }
        if counts[0].0.is_none() || counts[0] != counts[1] || counts[0] != counts[2] {
            failures.push(format!(
                "{}: (instructions, cycles) differ: icache {:?}, again {:?}, no-icache {:?}",
                case.name, counts[0], counts[1], counts[2]
            ));
        }
        if outputs[0] != outputs[1] || outputs[0] != outputs[2] {
            failures.push(format!(
                "{}: output differs between runs (icache, again, --no-icache)",
                case.name
            ));
        }
        eprintln!(
            "firmware {}: ok? {} instructions",
            case.name,
            counts[0].0.unwrap_or(0)
        );
        ran += 1;
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(ran >= 10, "only {ran} firmware tests ran");
}
