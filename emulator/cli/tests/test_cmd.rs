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

/// The bytes `binary_out.elf` writes (known by construction; the same on qemu-system-arm).
fn binary_out_bytes() -> Vec<u8> {
    let mut b: Vec<u8> = (0..=255u8).collect();
    b.extend_from_slice(b"\x1b[31mred\x1b[0m\\x41\r\n");
    b
}

fn parse_junit(path: &Path) -> junit_parser::TestSuites {
    let file = std::fs::File::open(path).expect("junit file");
    junit_parser::from_reader(std::io::BufReader::new(file)).expect("valid JUnit XML")
}

fn case<'a>(suites: &'a junit_parser::TestSuites, name: &str) -> &'a junit_parser::TestCase {
    suites
        .suites
        .iter()
        .flat_map(|s| &s.cases)
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no test case {name}"))
}

#[test]
fn a_test_that_cannot_run_is_an_error_not_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("not-an-elf.elf"), b"hello").unwrap();
    let junit = dir.path().join("report.xml");
    let m = write_manifest(
        dir.path(),
        r#"
[[test]]
name = "missing-firmware"
firmware = "no-such.elf"

[[test]]
name = "not-an-elf"
firmware = "not-an-elf.elf"

[[test]]
name = "unknown-machine"
firmware = "@FW@/hello.elf"
machine = "mps2-an999"

[[test]]
name = "missing-expected-output"
firmware = "@FW@/hello.elf"
stdout_file = "no-such.stdout"

[[test]]
name = "bad-regex"
firmware = "@FW@/hello.elf"
stdout_regex = "(unclosed"

[[test]]
name = "wrong-output"
firmware = "@FW@/hello.elf"
stdout = "Hello from QEMU!\n"

[[test]]
name = "passes"
firmware = "@FW@/hello.elf"
"#,
    );
    let o = armlet_test(&[m.to_str().unwrap(), "--junit", junit.to_str().unwrap()]);
    let err = text(&o.stderr);
    assert_eq!(
        text(&o.stdout).trim(),
        "1 passed, 1 failed, 5 errors (could not run)",
        "{err}"
    );
    assert_eq!(o.status.code(), Some(125), "errors exit 125: {err}");
    for name in [
        "missing-firmware",
        "not-an-elf",
        "unknown-machine",
        "missing-expected-output",
        "bad-regex",
    ] {
        assert!(err.contains(&format!("ERROR  {name}: ")), "{name}: {err}");
    }
    assert!(err.contains("FAIL   wrong-output"), "{err}");
    let suites = parse_junit(&junit);
    assert_eq!(suites.suites[0].errors, 5);
    assert_eq!(suites.suites[0].failures, 1);
    for name in [
        "missing-firmware",
        "not-an-elf",
        "unknown-machine",
        "bad-regex",
    ] {
        let c = case(&suites, name);
        assert!(c.status.is_error(), "{name}: {:?}", c.status);
    }
    assert!(case(&suites, "wrong-output").status.is_failure());
    assert!(case(&suites, "passes").status.is_success());
    let e = case(&suites, "missing-firmware")
        .status
        .error_as_ref()
        .clone();
    assert!(
        e.message.contains("cannot run") && e.message.contains("no-such.elf"),
        "{e:?}"
    );

    // Failures alone still exit 1.
    let m = write_manifest(
        dir.path(),
        "[[test]]\nname = \"w\"\nfirmware = \"@FW@/hello.elf\"\nstdout = \"x\"\n",
    );
    assert_eq!(armlet_test(&[m.to_str().unwrap()]).status.code(), Some(1));
}

/// The text of `<system-out>` of test case `name`, with XML 1.0's predefined entities decoded.
fn raw_system_out(junit: &Path, name: &str) -> String {
    let xml = std::fs::read_to_string(junit).unwrap();
    let at = xml
        .find(&format!("<testcase name=\"{name}\""))
        .expect("test case");
    let start = at + xml[at..].find("<system-out>").expect("system-out") + "<system-out>".len();
    let end = start + xml[start..].find("</system-out>").unwrap();
    assert!(!xml[start..end].contains("<![CDATA["));
    xml[start..end]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// Undo the report's escaped text: `\\` is a backslash, `\xNN` a byte.
fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && b.get(i + 1) == Some(&b'\\') {
            out.push(b'\\');
            i += 2;
        } else if b[i] == b'\\' && b.get(i + 1) == Some(&b'x') {
            out.push(u8::from_str_radix(&s[i + 2..i + 4], 16).unwrap());
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

fn base64_decode(s: &str) -> Vec<u8> {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|&c| c != b'=') {
        acc = acc << 6 | A.iter().position(|&a| a == c).expect("base64 alphabet") as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

#[test]
fn binary_output_is_compared_and_reported_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = binary_out_bytes();
    std::fs::write(dir.path().join("exact.bin"), &bytes).unwrap();
    let mut off_by_one = bytes.clone();
    off_by_one[0xfe] = 0xfd; // invalid UTF-8 either way: only a byte comparison tells
    std::fs::write(dir.path().join("other.bin"), &off_by_one).unwrap();
    let junit = dir.path().join("report.xml");
    let m = write_manifest(
        dir.path(),
        r#"
[[test]]
name = "exact"
firmware = "@FW@/binary_out.elf"
stdout_file = "exact.bin"

[[test]]
name = "contains-nul"
firmware = "@FW@/binary_out.elf"
stdout_contains = "\u0000\u0001\u0002"

[[test]]
name = "regex-on-bytes"
firmware = "@FW@/binary_out.elf"
stdout_regex = '(?-u)\xFE\xFF\x1b\[31mred'

[[test]]
name = "one-byte-off"
firmware = "@FW@/binary_out.elf"
stdout_file = "other.bin"

[[test]]
name = "text"
firmware = "@FW@/hello.elf"
"#,
    );
    let o = armlet_test(&[m.to_str().unwrap(), "--junit", junit.to_str().unwrap()]);
    let err = text(&o.stderr);
    assert_eq!(text(&o.stdout).trim(), "4 passed, 1 failed", "{err}");
    assert!(err.contains("FAIL   one-byte-off"), "{err}");
    let suites = parse_junit(&junit);
    for name in ["exact", "one-byte-off"] {
        let c = case(&suites, name);
        let props = &c.properties.hashmap;
        assert_eq!(
            props.get("stdout-encoding").map(String::as_str),
            Some("escaped")
        );
        let b64 = props.get("stdout-base64").expect("base64 copy");
        assert_eq!(base64_decode(b64), bytes, "{name}: base64 copy");
        // junit-parser drops entity references (&lt; &amp; ...) from text, so read the
        // element from the file and decode XML's predefined entities here.
        let out = raw_system_out(&junit, name);
        assert_eq!(unescape(&out), bytes, "{name}: escaped text: {out:?}");
        assert!(
            out.contains("\\x1B[31mred\\x1B[0m\\\\x41\\x0D\n"),
            "{out:?}"
        );
    }
    // Semihosting stderr goes to <system-err>, the same way.
    let c = case(&suites, "exact");
    let b64 = c
        .properties
        .hashmap
        .get("stderr-base64")
        .expect("stderr copy");
    assert_eq!(base64_decode(b64), b"err\x00\xff\n");
    // Plain text stays plain, without the extra properties.
    let c = case(&suites, "text");
    assert_eq!(c.system_out.as_deref(), Some("Hello from armlet!\n"));
    assert!(!c.properties.hashmap.contains_key("stdout-base64"));
    assert_eq!(c.system_err, None, "no stderr output, no <system-err>");
}

#[test]
fn epoch_from_the_manifest_and_the_command_line_is_used_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("report.xml");
    let m = write_manifest(
        dir.path(),
        r#"
[[test]]
name = "seconds"
firmware = "@FW@/time_libc.elf"
args = ["show"]
epoch = 1700000000
stdout_regex = '(?m)^time: 1700000000 \(2023-11-14 22:13:20 UTC\)\ngettimeofday: 0 1700000000\.000000\nafter 1\.5 s: 1700000001 '

[[test]]
name = "date-string"
firmware = "@FW@/time_libc.elf"
args = ["show"]
epoch = "2024-02-29"
stdout_contains = "time: 1709164800 (2024-02-29 00:00:00 UTC)"

[[test]]
name = "toml-datetime"
firmware = "@FW@/time_libc.elf"
args = ["show"]
epoch = 2024-02-29T14:00:00+02:00
stdout_contains = "time: 1709208000 (2024-02-29 12:00:00 UTC)"

[[test]]
name = "from-the-command-line"
firmware = "@FW@/time_libc.elf"
args = ["show"]
stdout_contains = "time: 1650000000 (2022-04-15 05:20:00 UTC)"

[[test]]
name = "fails-and-says-how-to-reproduce"
firmware = "@FW@/time_libc.elf"
args = ["show"]
epoch = 1500000000
"#,
    );
    let o = armlet_test(&[
        m.to_str().unwrap(),
        "--epoch",
        "1650000000",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    let err = text(&o.stderr);
    assert_eq!(text(&o.stdout).trim(), "4 passed, 1 failed", "{err}");
    assert!(
        err.contains("FAIL: time() = 1500000000 is not a plausible current date"),
        "{err}"
    );
    assert!(
        err.contains("epoch: 1500000000 (2017-07-14T02:40:00Z)"),
        "{err}"
    );
    let suites = parse_junit(&junit);
    let epoch = |name: &str| case(&suites, name).properties.hashmap.get("epoch").cloned();
    assert_eq!(epoch("seconds").as_deref(), Some("1700000000"));
    assert_eq!(epoch("toml-datetime").as_deref(), Some("1709208000"));
    assert_eq!(
        epoch("from-the-command-line").as_deref(),
        Some("1650000000")
    );
    assert_eq!(
        suites.suites[0]
            .properties
            .hashmap
            .get("epoch")
            .map(String::as_str),
        Some("1650000000")
    );
    // The failure's replay command line reproduces it exactly.
    let line = err
        .lines()
        .find_map(|l| l.trim().strip_prefix("reproduce: armlet "))
        .unwrap_or_else(|| panic!("no reproduce line: {err}"));
    assert!(line.contains("--epoch 1500000000"), "{line}");
    let replay = Command::new("sh")
        .arg("-c")
        .arg(format!("'{}' {line}", env!("CARGO_BIN_EXE_armlet")))
        .output()
        .unwrap();
    assert_eq!(replay.status.code(), Some(1));
    assert!(text(&replay.stdout).starts_with("time: 1500000000 (2017-07-14 02:40:00 UTC)\n"));

    // A manifest's `now` and the default.
    let m = write_manifest(
        dir.path(),
        r#"
[[test]]
name = "now"
firmware = "@FW@/time_libc.elf"
epoch = "now"
stdout = "PASS time_libc\n"

[[test]]
name = "default"
firmware = "@FW@/time_libc.elf"
args = ["show"]
stdout_contains = "time: 1767225600 (2026-01-01 00:00:00 UTC)"
"#,
    );
    let host = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let o = armlet_test(&[m.to_str().unwrap(), "--junit", junit.to_str().unwrap()]);
    assert_eq!(
        text(&o.stdout).trim(),
        "2 passed, 0 failed",
        "{}",
        text(&o.stderr)
    );
    let suites = parse_junit(&junit);
    let now: u64 = case(&suites, "now").properties.hashmap["epoch"]
        .parse()
        .unwrap();
    assert!(now.abs_diff(host) <= 5, "{now} vs {host}");
}

#[test]
fn a_bad_epoch_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    for (value, why) in [
        ("\"yesterday\"", "invalid epoch 'yesterday'"),
        ("\"2023-02-29\"", "day 29 is out of range (1-28)"),
        ("-1", "before 1970"),
        ("1.5", "not float"),
        ("5000000000", "after 2106-02-07T06:28:15Z"),
    ] {
        let m = write_manifest(
            dir.path(),
            &format!("[[test]]\nname = \"t\"\nfirmware = \"@FW@/hello.elf\"\nepoch = {value}\n"),
        );
        let o = armlet_test(&[m.to_str().unwrap()]);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(125), "{value}: {err}");
        assert!(
            err.contains("m.toml") && err.contains("test 't'") && err.contains(why),
            "{value}: {err}"
        );
    }
    let o = armlet_test(&["--epoch", "soon", "x.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("invalid epoch 'soon'"));
}
