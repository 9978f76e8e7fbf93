//! `armlet test`: the firmware-tests manifest in parallel, JUnit, partitions, failures.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fw_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../firmware-tests")
}

fn armlet_test(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_armlet"))
        .arg("test")
        .args(args)
        .output()
        .expect("run armlet test")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn junit_names(path: &Path) -> (Vec<String>, usize) {
    let file = std::fs::File::open(path).expect("junit file");
    let suites = junit_parser::from_reader(std::io::BufReader::new(file)).expect("valid JUnit XML");
    let mut names = Vec::new();
    let mut failures = 0;
    for suite in &suites.suites {
        for case in &suite.cases {
            names.push(case.name.clone());
            if case.status.is_failure() || case.status.is_error() {
                failures += 1;
            }
        }
    }
    (names, failures)
}

#[test]
fn whole_manifest_passes_in_parallel_with_parseable_junit() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("report.xml");
    let manifest = fw_dir().join("tests.toml");
    let o = armlet_test(&[
        manifest.to_str().unwrap(),
        "-j",
        "2",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "stdout: {}\nstderr: {}",
        text(&o.stdout),
        text(&o.stderr)
    );
    let (names, failures) = junit_names(&junit);
    let stdout = text(&o.stdout);
    assert_eq!(
        stdout.trim_end().lines().last(),
        Some(format!("{} passed, 0 failed", names.len()).as_str())
    );
    assert!(names.len() >= 15, "{names:?}");
    assert_eq!(failures, 0);
}

#[test]
fn partitions_cover_every_test_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = fw_dir().join("tests.toml");
    let mut all = Vec::new();
    for k in ["1/2", "2/2"] {
        let junit = dir.path().join(format!("p{}.xml", &k[..1]));
        let o = armlet_test(&[
            manifest.to_str().unwrap(),
            "--partition",
            k,
            "--junit",
            junit.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        all.extend(junit_names(&junit).0);
    }
    let unique: BTreeSet<&String> = all.iter().collect();
    assert_eq!(
        unique.len(),
        all.len(),
        "a test ran in both partitions: {all:?}"
    );
    let full = dir.path().join("full.xml");
    armlet_test(&[
        manifest.to_str().unwrap(),
        "--junit",
        full.to_str().unwrap(),
    ]);
    let (everything, _) = junit_names(&full);
    assert_eq!(
        unique,
        everything.iter().collect(),
        "partitions missed tests"
    );
}

#[test]
fn filter_selects_by_name() {
    let manifest = fw_dir().join("tests.toml");
    let o = armlet_test(&[manifest.to_str().unwrap(), "--filter", "printf"]);
    assert_eq!(text(&o.stdout).trim(), "3 passed, 0 failed");
}

fn write_manifest(dir: &Path, body: &str) -> PathBuf {
    let p = dir.join("m.toml");
    let fw = fw_dir().join("build");
    std::fs::write(&p, body.replace("@FW@", fw.to_str().unwrap())).unwrap();
    p
}

#[test]
fn failing_test_shows_a_diff_and_exits_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let m = write_manifest(
        dir.path(),
        r#"
[[test]]
name = "wrong-greeting"
firmware = "@FW@/hello.elf"
stdout = "Hello from QEMU!\n"

[[test]]
name = "right-greeting"
firmware = "@FW@/hello.elf"
stdout_regex = "^Hello from [a-z]+!\n$"
"#,
    );
    let o = armlet_test(&[m.to_str().unwrap()]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(text(&o.stdout).trim(), "1 passed, 1 failed");
    assert!(err.contains("FAIL   wrong-greeting"), "{err}");
    assert!(
        err.contains("-Hello from QEMU!") && err.contains("+Hello from armlet!"),
        "no diff: {err}"
    );
}

#[test]
fn hanging_firmware_is_stopped_by_its_timeouts() {
    let dir = tempfile::tempdir().unwrap();
    let m = write_manifest(
        dir.path(),
        r#"
[[test]]
name = "wall"
firmware = "@FW@/loop.elf"
timeout = 0.5

[[test]]
name = "virtual"
firmware = "@FW@/loop.elf"
virtual_timeout = 0.01

[[test]]
name = "expected-to-hang"
firmware = "@FW@/loop.elf"
virtual_timeout = 0.01
exit_code = 124
stdout = "looping\n"
"#,
    );
    let start = std::time::Instant::now();
    let o = armlet_test(&[m.to_str().unwrap()]);
    let err = text(&o.stderr);
    assert!(start.elapsed().as_secs_f64() < 10.0);
    assert_eq!(text(&o.stdout).trim(), "1 passed, 2 failed", "{err}");
    assert!(err.contains("wall-clock timeout"), "{err}");
    assert!(err.contains("virtual-time timeout"), "{err}");
    assert!(
        err.contains("250000 instructions"),
        "0.01 s at 25 MHz: {err}"
    );
}

#[test]
fn bad_manifest_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let m = write_manifest(
        dir.path(),
        "[[test]]\nname = \"x\"\nfirmware = \"a.elf\"\nbogus_key = 1\n",
    );
    let o = armlet_test(&[m.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(125));
    let err = text(&o.stderr);
    assert!(err.contains("m.toml") && err.contains("bogus_key"), "{err}");
}
