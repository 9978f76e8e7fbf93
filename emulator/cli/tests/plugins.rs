//! Peripheral plugins end to end, through the `armlet` binary: the example plugins (built
//! here: the Rust ones with cargo, the C one with make) driven by firmware, logging, a
//! panicking plugin, `armlet plugin inspect`, exported symbols, and one test per load or
//! configuration error.
//!
//! The firmware is built by `make -C firmware-tests` (arm-none-eabi-gcc); as in firmware.rs,
//! `ARMLET_SKIP_FIRMWARE=1` skips the tests that need it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// target/<profile>, where cargo put the armlet binary and puts the plugin cdylibs.
fn profile_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_armlet"))
        .parent()
        .expect("binary dir")
        .to_path_buf()
}

fn run_ok(cmd: &mut Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

struct Plugins {
    gpio: PathBuf,
    timer: PathBuf,
    dma: PathBuf,
    testkit: PathBuf,
    crc: PathBuf,
    misbehave: PathBuf,
    /// The directory of the C plugins (the misbehave plugin's bad-description variants).
    c_dir: PathBuf,
}

impl Plugins {
    fn all(&self) -> [&Path; 6] {
        [
            &self.gpio,
            &self.timer,
            &self.dma,
            &self.testkit,
            &self.crc,
            &self.misbehave,
        ]
    }
}

/// Build the example plugins once: the Rust cdylibs with cargo (same profile as this test),
/// the C one with its Makefile (-Wall -Wextra -Werror -fvisibility=hidden).
fn plugins() -> &'static Plugins {
    static P: OnceLock<Plugins> = OnceLock::new();
    P.get_or_init(|| {
        let dir = profile_dir();
        let mut cargo = Command::new(env!("CARGO"));
        cargo.current_dir(root()).args([
            "build",
            "-q",
            "-p",
            "armlet-plugin-gpio",
            "-p",
            "armlet-plugin-timer",
            "-p",
            "armlet-plugin-dma",
            "-p",
            "armlet-plugin-testkit",
        ]);
        if dir.ends_with("release") {
            cargo.arg("--release");
        }
        run_ok(&mut cargo, "cargo build of the plugins");
        let c_dir = dir.join("c-plugins");
        run_ok(
            Command::new("make")
                .arg("-s")
                .arg("-C")
                .arg(root().join("device-plugins/examples/crc"))
                .arg(format!("O={}", c_dir.display())),
            "make of the C plugin",
        );
        run_ok(
            Command::new("make")
                .arg("-s")
                .arg("-C")
                .arg(root().join("device-plugins/examples/misbehave"))
                .arg(format!("O={}", c_dir.display()))
                .arg(c_dir.join("libarmlet_plugin_misbehave.so"))
                .arg("bad-descriptions"),
            "make of the misbehaving C plugin",
        );
        let so = |n: &str| dir.join(format!("libarmlet_plugin_{n}.so"));
        Plugins {
            gpio: so("gpio"),
            timer: so("timer"),
            dma: so("dma"),
            testkit: so("testkit"),
            crc: c_dir.join("libarmlet_plugin_crc.so"),
            misbehave: c_dir.join("libarmlet_plugin_misbehave.so"),
            c_dir,
        }
    })
}

/// Build the plugin firmware tests once; false if firmware is skipped deliberately.
fn firmware() -> bool {
    static F: OnceLock<bool> = OnceLock::new();
    *F.get_or_init(|| {
        if std::env::var_os("ARMLET_SKIP_FIRMWARE").is_some() {
            eprintln!("ARMLET_SKIP_FIRMWARE set: skipping plugin firmware tests");
            return false;
        }
        let mut make = Command::new("make");
        make.arg("-s").arg("-C").arg(root().join("firmware-tests"));
        for t in ["gpio", "timer", "crc", "dma", "panic", "misbehave"] {
            make.arg(format!("build/plugin_{t}.elf"));
        }
        make.arg("build/diag_fault_in.elf");
        run_ok(
            &mut make,
            "make of the plugin firmware (needs arm-none-eabi-gcc)",
        );
        true
    })
}

fn armlet(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_armlet"))
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run armlet")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `armlet [-v] run FIRMWARE --machine-file MACHINE --plugin ... EXTRA`.
fn run_fw(test: &str, verbose: bool, extra: &[&str]) -> Output {
    let p = plugins();
    let fw = root().join(format!("firmware-tests/build/plugin_{test}.elf"));
    let machine = root().join(format!("firmware-tests/machines/plugin_{test}.toml"));
    let mut args: Vec<std::ffi::OsString> = Vec::new();
    if verbose {
        args.push("-v".into());
    }
    args.extend([
        "run".into(),
        fw.into(),
        "--machine-file".into(),
        machine.into(),
    ]);
    for lib in p.all() {
        args.push("--plugin".into());
        args.push(lib.into());
    }
    args.extend(extra.iter().map(Into::into));
    let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    armlet(&refs)
}

#[test]
fn firmware_tests_drive_every_example_plugin_with_and_without_the_cache() {
    if !firmware() {
        return;
    }
    let p = plugins();
    for extra in [None, Some("--no-icache")] {
        let mut args: Vec<std::ffi::OsString> = vec![
            "test".into(),
            root().join("firmware-tests/plugins.toml").into(),
            "--jobs".into(),
            "2".into(),
        ];
        args.extend(extra.map(Into::into));
        for lib in p.all() {
            args.push("--plugin".into());
            args.push(lib.into());
        }
        let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        let out = armlet(&refs);
        let (so, se) = (text(&out.stdout), text(&out.stderr));
        assert!(
            out.status.success()
                && (so.contains("5 passed, 0 failed") || se.contains("5 passed, 0 failed")),
            "{extra:?}\nstdout:\n{so}\nstderr:\n{se}"
        );
    }
}

#[test]
fn firmware_runs_are_deterministic() {
    if !firmware() {
        return;
    }
    for t in ["timer", "dma"] {
        let stats = |extra: &[&str]| {
            let mut args = vec!["--stats"];
            args.extend_from_slice(extra);
            let out = run_fw(t, false, &args);
            assert_eq!(out.status.code(), Some(0), "{t}: {}", text(&out.stderr));
            let se = text(&out.stderr);
            let line = se
                .lines()
                .find(|l| l.contains("stats:"))
                .expect("stats line")
                .to_string();
            let fields: Vec<&str> = line
                .split_whitespace()
                .filter(|f| f.starts_with("instructions=") || f.starts_with("cycles="))
                .collect();
            (fields.join(" "), text(&out.stdout))
        };
        let a = stats(&[]);
        assert_eq!(a, stats(&[]), "{t}: two runs differ");
        assert_eq!(a, stats(&["--no-icache"]), "{t}: the cache is visible");
    }
}

#[test]
fn gpio_led_changes_are_logged_naming_device_and_plugin() {
    if !firmware() {
        return;
    }
    let out = run_fw("gpio", true, &[]);
    let se = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{se}");
    assert!(text(&out.stdout).contains("PASS plugin_gpio"));
    for want in [
        "plugin device 'leds' (plugin armlet-plugin-gpio",
        "LEDs 0b000111: LED 1 on",
        "LEDs 0b000110: LED 0 off",
        "LED 0 on, LED 1 off, LED 2 off, LED 3 on, LED 4 on, LED 5 on",
    ] {
        assert!(se.contains(want), "stderr lacks {want:?}:\n{se}");
    }
    // Without -v: nothing logged.
    let out = run_fw("gpio", false, &[]);
    assert!(!text(&out.stderr).contains("LED"), "{}", text(&out.stderr));
}

#[test]
fn panic_in_write_is_a_bus_error_the_run_goes_on_and_the_log_names_the_plugin() {
    if !firmware() {
        return;
    }
    let out = run_fw("panic", false, &[]);
    let (so, se) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "stdout:\n{so}\nstderr:\n{se}");
    // The firmware saw precise BusFaults (PRECISERR|BFARVALID, BFAR = the register) for the
    // panicking write and every access after it, and ran on.
    for want in [
        "write that panics:\n  one fault: ok\n  exception number: ok\n  cfsr: ok",
        "read after the failure:\n  one fault: ok",
        "still running\n",
        "PASS plugin_panic",
    ] {
        assert!(so.contains(want), "stdout lacks {want:?}:\n{so}");
    }
    for want in [
        "plugin device 'faulty0' (type \"faulty\", plugin armlet-plugin-testkit",
        "panicked in write: boom: write of 0x1",
        "failed in `write`",
        "libarmlet_plugin_testkit.so",
    ] {
        assert!(se.contains(want), "stderr lacks {want:?}:\n{se}");
    }
}

#[test]
fn on_plugin_failure_stop_exits_125() {
    if !firmware() {
        return;
    }
    let out = run_fw("panic", false, &["--on-plugin-failure", "stop"]);
    let se = text(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{se}");
    assert!(
        se.contains("a plugin device failed (--on-plugin-failure stop)"),
        "{se}"
    );
    assert!(se.contains("panicked in write: boom"), "{se}");
    // Firmware that never touches a failing device is unaffected by the option.
    let out = run_fw("crc", false, &["--on-plugin-failure", "stop"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

fn defined_dynamic_symbols(lib: &Path) -> Vec<String> {
    let out = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(lib)
        .output()
        .expect("run nm");
    assert!(
        out.status.success(),
        "nm {}: {}",
        lib.display(),
        text(&out.stderr)
    );
    let mut syms: Vec<String> = text(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2).map(str::to_string))
        .collect();
    syms.sort();
    syms
}

#[test]
fn c_plugin_builds_with_werror_and_hidden_visibility_and_exports_only_the_abi_symbols() {
    let p = plugins();
    let makefile =
        std::fs::read_to_string(root().join("device-plugins/examples/crc/Makefile")).unwrap();
    for flag in ["-Wall", "-Werror", "-fvisibility=hidden"] {
        assert!(
            makefile.contains(flag),
            "the C example is built without {flag}"
        );
    }
    assert_eq!(
        defined_dynamic_symbols(&p.crc),
        ["armlet_plugin_abi_version", "armlet_plugin_entry"]
    );
}

#[test]
fn rust_plugins_export_only_the_abi_symbols() {
    let p = plugins();
    for lib in [&p.gpio, &p.timer, &p.dma, &p.testkit] {
        assert_eq!(
            defined_dynamic_symbols(lib),
            ["armlet_plugin_abi_version", "armlet_plugin_entry"],
            "{}",
            lib.display()
        );
    }
}

#[test]
fn inspect_prints_abi_types_params_regions_and_irqs() {
    let p = plugins();
    let out = armlet(&["plugin".as_ref(), "inspect".as_ref(), p.timer.as_os_str()]);
    let so = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    for want in [
        "plugin:  armlet-plugin-timer",
        "ABI:     1.0 (this armlet: 1.0 to 1.0)",
        "device type \"periodic-timer\": periodic timer in virtual time",
        "region regs         offset 0x0000 size 0x0020 access 32-bit",
        "IRQ outputs: 0: expired",
        "GPIO inputs: none",
        "tick_hz        an integer in 1..=1099511627776 (default 1000000): frequency of the PERIOD unit",
        "snapshots: state version 1",
    ] {
        assert!(so.contains(want), "inspect lacks {want:?}:\n{so}");
    }
    let out = armlet(&["plugin".as_ref(), "inspect".as_ref(), p.crc.as_os_str()]);
    let so = text(&out.stdout);
    assert!(so.contains("device type \"crc32\""), "{so}");
    assert!(so.contains("access 8/16/32-bit"), "{so}");
    let out = armlet(&["plugin".as_ref(), "inspect".as_ref(), p.gpio.as_os_str()]);
    let so = text(&out.stdout);
    assert!(so.contains("GPIO inputs: 0: button0, 1: button1"), "{so}");
    assert!(
        so.contains("log_changes    true or false (default true)"),
        "{so}"
    );
    let out = armlet(&["plugin".as_ref(), "inspect".as_ref(), p.testkit.as_os_str()]);
    let so = text(&out.stdout);
    assert!(
        so.contains("label          a string (required): any text"),
        "{so}"
    );
    assert!(so.contains("snapshots: not supported"), "{so}");
}

// ---- Errors --------------------------------------------------------------------------

/// A C file compiled into a shared library in `dir`.
fn c_library(dir: &Path, name: &str, source: &str) -> PathBuf {
    let src = dir.join(format!("{name}.c"));
    std::fs::write(&src, source).unwrap();
    let lib = dir.join(format!("lib{name}.so"));
    run_ok(
        Command::new("cc")
            .args(["-shared", "-fPIC", "-Wall", "-Werror", "-o"])
            .arg(&lib)
            .arg(&src),
        "cc",
    );
    lib
}

fn hello_elf() -> PathBuf {
    root().join("firmware-tests/prebuilt/hello.elf")
}

/// A machine file in `dir` with `devices` (TOML) after a minimal memory map.
fn machine_file(dir: &Path, devices: &str) -> PathBuf {
    let text = format!(
        "name = \"t\"\ndescription = \"plugin test\"\ncpu = \"cortex-m3\"\ncpu_hz = 25_000_000\nnum_irq = 32\n\
         [[region]]\nname = \"ssram1\"\nbase = 0\nsize = 0x40_0000\nkind = \"ram\"\n\
         [[region]]\nname = \"ssram23\"\nbase = 0x2000_0000\nsize = 0x40_0000\nkind = \"ram\"\n{devices}"
    );
    let f = dir.join("machine.toml");
    std::fs::write(&f, text).unwrap();
    f
}

/// `armlet run hello.elf --machine-file` with `devices`; `--plugin` for each of `libs`.
fn run_machine(devices: &str, libs: &[&Path]) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let m = machine_file(dir.path(), devices);
    let mut args: Vec<std::ffi::OsString> = vec![
        "run".into(),
        hello_elf().into(),
        "--machine-file".into(),
        m.into(),
    ];
    for l in libs {
        args.push("--plugin".into());
        args.push(l.into());
    }
    let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let out = armlet(&refs);
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

fn toml_path(p: &Path) -> String {
    toml::Value::String(p.display().to_string()).to_string()
}

/// A `faulty` device entry naming the test plugin, with extra lines.
fn faulty(extra: &str) -> String {
    format!(
        "[[device]]\nname = \"f0\"\ntype = \"faulty\"\nbase = 0x5000_0000\nplugin = {}\n{extra}",
        toml_path(&plugins().testkit)
    )
}

fn assert_error(r: (Option<i32>, String, String), wants: &[&str]) {
    let (code, _, se) = r;
    assert_eq!(code, Some(125), "{se}");
    assert!(se.starts_with("armlet: error: "), "{se}");
    for w in wants {
        assert!(se.contains(w), "error lacks {w:?}:\n{se}");
    }
}

#[test]
fn plugins_work_from_the_machine_file_relative_to_it_and_hello_still_runs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("libs")).unwrap();
    std::fs::copy(&plugins().testkit, dir.path().join("libs/libtk.so")).unwrap();
    let m = machine_file(
        dir.path(),
        "[[device]]\nname = \"f0\"\ntype = \"faulty\"\nbase = 0x5000_0000\nplugin = \"libs/libtk.so\"\n[device.params]\nlabel = \"x\"\n",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_armlet"))
        .arg("run")
        .arg(hello_elf())
        .arg("--machine-file")
        .arg(&m)
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Hello"), "{}", text(&out.stdout));
}

#[test]
fn error_missing_file() {
    let (code, _, se) = run_machine("", &[Path::new("/nonexistent/libnope.so")]);
    assert_eq!(code, Some(125), "{se}");
    assert!(
        se.contains("plugin /nonexistent/libnope.so: cannot read: No such file"),
        "{se}"
    );
    // And named in a machine file.
    assert_error(
        run_machine(
            "[[device]]\nname = \"x\"\ntype = \"y\"\nbase = 0x5000_0000\nplugin = \"/nonexistent/libnope.so\"\n",
            &[],
        ),
        &["device 'x': plugin /nonexistent/libnope.so: cannot read"],
    );
}

#[test]
fn error_not_a_library() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("libtext.so");
    std::fs::write(&f, "this is not a shared library\n").unwrap();
    assert_error(
        run_machine("", &[&f]),
        &["libtext.so: not a loadable shared library"],
    );
}

#[test]
fn error_missing_symbols() {
    let dir = tempfile::tempdir().unwrap();
    let none = c_library(
        dir.path(),
        "nosyms",
        "int some_function(void) { return 1; }\n",
    );
    assert_error(
        run_machine("", &[&none]),
        &["libnosyms.so: missing symbol `armlet_plugin_abi_version`: not an armlet plugin"],
    );
    let no_entry = c_library(
        dir.path(),
        "noentry",
        "#include <stdint.h>\nconst uint32_t armlet_plugin_abi_version = 1u << 16;\n",
    );
    assert_error(
        run_machine("", &[&no_entry]),
        &["libnoentry.so: missing symbol `armlet_plugin_entry`"],
    );
}

/// A plugin whose entry function must never run: it aborts the process.
fn foreign_abi_plugin(dir: &Path, name: &str, version: &str) -> PathBuf {
    c_library(
        dir,
        name,
        &format!(
            "#include <stdint.h>\n#include <stdlib.h>\n\
             const uint32_t armlet_plugin_abi_version = {version};\n\
             const void *armlet_plugin_entry(uint32_t v) {{ (void)v; abort(); }}\n"
        ),
    )
}

#[test]
fn error_abi_major_mismatch_names_both_versions_before_running_plugin_code() {
    let dir = tempfile::tempdir().unwrap();
    let v2 = foreign_abi_plugin(dir.path(), "abi2", "(2u << 16) | 3u");
    assert_error(
        run_machine("", &[&v2]),
        &[
            "libabi2.so: built for plugin ABI 2.3",
            "this armlet supports ABI 1.0 to 1.0",
        ],
    );
    let v0 = foreign_abi_plugin(dir.path(), "abi0", "7u");
    assert_error(run_machine("", &[&v0]), &["built for plugin ABI 0.7"]);
    // A newer minor of our major is refused too (it may use fields this host lacks).
    let newer = foreign_abi_plugin(dir.path(), "abi1_9", "(1u << 16) | 9u");
    assert_error(
        run_machine("", &[&newer]),
        &["built for plugin ABI 1.9", "supports ABI 1.0 to 1.0"],
    );
    // inspect says the same.
    let out = armlet(&["plugin".as_ref(), "inspect".as_ref(), v2.as_os_str()]);
    assert_eq!(out.status.code(), Some(125));
    assert!(text(&out.stderr).contains("built for plugin ABI 2.3"));
}

#[test]
fn error_unknown_device_type() {
    let p = plugins();
    // In the library the machine file names.
    assert_error(
        run_machine(
            &format!(
                "[[device]]\nname = \"x\"\ntype = \"gpio-ledz\"\nbase = 0x5000_0000\nplugin = {}\n",
                toml_path(&p.gpio)
            ),
            &[],
        ),
        &[
            "device 'x': plugin",
            "has no device type \"gpio-ledz\" (it has: \"gpio-leds\")",
        ],
    );
    // Among the --plugin libraries: the error lists built-in and plugin types.
    assert_error(
        run_machine(
            "[[device]]\nname = \"x\"\ntype = \"gpio-ledz\"\nbase = 0x5000_0000\n",
            &[&p.gpio, &p.crc],
        ),
        &[
            "device 'x': unknown type \"gpio-ledz\"",
            "cmsdk-uart",
            "libarmlet_plugin_gpio.so: \"gpio-leds\"",
            "libarmlet_plugin_crc.so: \"crc32\"",
        ],
    );
}

#[test]
fn error_missing_param() {
    assert_error(
        run_machine(&faulty(""), &[]),
        &[
            "device 'f0' (type \"faulty\"): missing param `label` (a string: any text); it has no default",
        ],
    );
}

#[test]
fn error_unknown_param() {
    assert_error(
        run_machine(&faulty("[device.params]\nlabel = \"a\"\ncolour = \"red\"\n"), &[]),
        &["device 'f0' (type \"faulty\"): unknown param `colour` (known: `label`, `count`, `verbose`)"],
    );
}

#[test]
fn error_mistyped_param() {
    assert_error(
        run_machine(
            &faulty("[device.params]\nlabel = \"a\"\ncount = \"three\"\n"),
            &[],
        ),
        &["param `count`: expected an integer in 0..=10, got string (\"three\")"],
    );
    assert_error(
        run_machine(&faulty("[device.params]\nlabel = \"a\"\ncount = 11\n"), &[]),
        &["param `count`: expected an integer in 0..=10, got integer (11)"],
    );
    assert_error(
        run_machine(
            &faulty("[device.params]\nlabel = \"a\"\nverbose = 1\n"),
            &[],
        ),
        &["param `verbose`: expected true or false, got integer (1)"],
    );
    assert_error(
        run_machine(&faulty("[device.params]\nlabel = 5\n"), &[]),
        &["param `label`: expected a string, got integer (5)"],
    );
}

#[test]
fn error_overlapping_regions() {
    let p = plugins();
    let two = format!(
        "{}[device.params]\nlabel = \"a\"\n[[device]]\nname = \"crc\"\ntype = \"crc32\"\nbase = 0x5000_0008\nplugin = {}\n",
        faulty(""),
        toml_path(&p.crc)
    );
    assert_error(
        run_machine(&two, &[]),
        &["device 'crc': region 'crc' (0x50000008..0x50000027) overlaps region 'f0' (0x50000000..0x5000000f)"],
    );
    assert_error(
        run_machine(
            &format!(
                "[[device]]\nname = \"leds\"\ntype = \"gpio-leds\"\nbase = 0x2000_1000\nplugin = {}\n",
                toml_path(&p.gpio)
            ),
            &[],
        ),
        &["device 'leds': region 'leds' (0x20001000..0x2000103f) overlaps region 'ssram23' (0x20000000..0x203fffff)"],
    );
}

#[test]
fn error_irq_out_of_range() {
    let p = plugins();
    assert_error(
        run_machine(
            &format!(
                "[[device]]\nname = \"t\"\ntype = \"periodic-timer\"\nbase = 0x5000_0000\nirq = [40]\nplugin = {}\n",
                toml_path(&p.timer)
            ),
            &[],
        ),
        &["device 't': key `irq`: line 40 is out of range (the NVIC has 32 lines)"],
    );
    assert_error(
        run_machine(
            &format!(
                "[[device]]\nname = \"t\"\ntype = \"periodic-timer\"\nbase = 0x5000_0000\nirq = [3, 4]\nplugin = {}\n",
                toml_path(&p.timer)
            ),
            &[],
        ),
        &["device 't' (type \"periodic-timer\"): key `irq`: 2 lines given, but the type has 1 IRQ output (expired)"],
    );
    assert_error(
        run_machine(
            &format!(
                "[[device]]\nname = \"c\"\ntype = \"crc32\"\nbase = 0x5000_0000\nirq = [3]\nplugin = {}\n",
                toml_path(&p.crc)
            ),
            &[],
        ),
        &["key `irq`: 1 line given, but the type has 0 IRQ outputs (none)"],
    );
}

#[test]
fn error_size_smaller_than_the_regions_and_plugin_refusing_create() {
    let p = plugins();
    assert_error(
        run_machine(
            &format!(
                "[[device]]\nname = \"l\"\ntype = \"gpio-leds\"\nbase = 0x5000_0000\nsize = 0x10\nplugin = {}\n",
                toml_path(&p.gpio)
            ),
            &[],
        ),
        &["key `size`: 0x10 is smaller than the 0x40 bytes of the type's register regions"],
    );
    // Valid by the schema, refused by the plugin itself: its message is logged.
    let (code, _, se) = run_machine(
        &format!(
            "[[device]]\nname = \"l\"\ntype = \"gpio-leds\"\nbase = 0x5000_0000\nplugin = {}\n[device.params]\ncount = 2\ninitial = 7\n",
            toml_path(&p.gpio)
        ),
        &[],
    );
    assert_eq!(code, Some(125), "{se}");
    assert!(
        se.contains("initial 0x7 has bits beyond the 2 LEDs"),
        "{se}"
    );
    assert!(se.contains("the plugin refused to create it"), "{se}");
}

#[test]
fn error_type_in_two_plugins_and_builtins_win() {
    let p = plugins();
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("libgpio_copy.so");
    std::fs::copy(&p.gpio, &copy).unwrap();
    assert_error(
        run_machine(
            "[[device]]\nname = \"x\"\ntype = \"gpio-leds\"\nbase = 0x5000_0000\n",
            &[&p.gpio, &copy],
        ),
        &[
            "type \"gpio-leds\" is provided by several plugins",
            "name one with `plugin = \"...\"`",
        ],
    );
    // Built-in types are unaffected by --plugin.
    let (code, so, se) = run_machine(
        "[[device]]\nname = \"t0\"\ntype = \"cmsdk-timer\"\nbase = 0x4000_0000\n",
        &[&p.gpio],
    );
    assert_eq!(code, Some(0), "{se}");
    assert!(so.contains("Hello"));
}

#[test]
fn manifest_plugins_key_loads_plugins_relative_to_the_manifest() {
    if !firmware() {
        return;
    }
    let p = plugins();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(&p.crc, dir.path().join("libcrc.so")).unwrap();
    let fw = root().join("firmware-tests");
    let manifest = dir.path().join("m.toml");
    std::fs::write(
        &manifest,
        format!(
            "[[test]]\nname = \"crc\"\nfirmware = {}\nmachine_file = {}\nplugins = [\"libcrc.so\"]\nstdout_contains = \"PASS plugin_crc\"\n",
            toml_path(&fw.join("build/plugin_crc.elf")),
            toml_path(&fw.join("machines/plugin_crc.toml"))
        ),
    )
    .unwrap();
    let out = armlet(&["test".as_ref(), manifest.as_os_str()]);
    let all = text(&out.stdout) + &text(&out.stderr);
    assert!(
        out.status.success() && all.contains("1 passed, 0 failed"),
        "{all}"
    );
}

#[test]
fn readme_c_example_builds_warning_free_and_loads() {
    let readme = std::fs::read_to_string(root().join("device-plugins/README.md")).unwrap();
    let start = readme
        .find("```c\n#include \"armlet_plugin.h\"")
        .expect("C example")
        + 5;
    let src = &readme[start..start + readme[start..].find("```").unwrap()];
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path().join("my_sensor.c");
    std::fs::write(&c, src).unwrap();
    let lib = dir.path().join("libmy_sensor.so");
    run_ok(
        Command::new("cc")
            .args([
                "-std=c11", "-O2", "-fPIC", "-shared", "-Wall", "-Wextra", "-Werror",
            ])
            .arg("-fvisibility=hidden")
            .arg("-I")
            .arg(root().join("device-plugins/include"))
            .arg("-o")
            .arg(&lib)
            .arg(&c),
        "cc of the README example",
    );
    assert_eq!(
        defined_dynamic_symbols(&lib),
        ["armlet_plugin_abi_version", "armlet_plugin_entry"]
    );
    let out = armlet(&["plugin".as_ref(), "inspect".as_ref(), lib.as_os_str()]);
    assert!(
        text(&out.stdout).contains("device type \"temp-sensor\""),
        "{}",
        text(&out.stderr)
    );
}

// ---- Containment of a misbehaving C plugin (device-plugins/examples/misbehave) ------------

#[test]
fn misbehaving_plugin_is_reported_by_name_and_the_machine_stays_intact() {
    if !firmware() {
        return;
    }
    let lib = plugins().misbehave.display().to_string();
    for extra in [&[][..], &["--no-icache"][..]] {
        let o = run_fw("misbehave", false, extra);
        let (so, se) = (text(&o.stdout), text(&o.stderr));
        assert_eq!(o.status.code(), Some(0), "{so}\n{se}");
        assert!(so.contains("PASS plugin_misbehave"), "{so}");
        assert!(!so.contains("FAIL"), "{so}");
        let dev = |name: &str| {
            format!("plugin device '{name}' (type \"misbehave\", plugin misbehave {lib})")
        };
        for want in [
            format!("{} failed in `write` (status 77)", dev("mstatus")),
            format!(
                "{} failed in `read` (it wrote past the end of the 4-byte out-buffer armlet gave it)",
                dev("moverrun")
            ),
            format!(
                "{} failed in `write` (it wrote through a pointer to armlet's out-buffer kept from an earlier callback)",
                dev("mkeep")
            ),
            format!(
                "{}: called host service `set_irq` outside a callback that received its context; refused",
                dev("moutside")
            ),
            format!(
                "{}: called host service `log` outside a callback",
                dev("moutside")
            ),
            format!(
                "plugin device 'moutside' (plugin misbehave {lib}): called host service `set_irq` with an unknown context pointer 0x1234; refused"
            ),
            "called host service `dma_write` with an unknown context pointer 0x1234".into(),
            format!("plugin device 'mdma' (plugin misbehave {lib}): (bad log message: string of 1048576 bytes"),
            format!(
                "{}: callback `write` has been running for 1",
                dev("mslow")
            ),
        ] {
            assert!(se.contains(&want), "stderr lacks {want:?}:\n{se}");
        }
    }
}

/// A callback that never returns: the watchdog names it, and `--timeout` (or a signal) still
/// ends the run with its status, naming the plugin.
#[test]
fn a_hung_callback_is_named_and_timeout_and_signals_still_end_the_run() {
    if !firmware() {
        return;
    }
    let start = std::time::Instant::now();
    let o = run_fw("misbehave", false, &["--timeout", "1", "--", "hang"]);
    let took = start.elapsed().as_secs_f64();
    let (so, se) = (text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(124), "{so}\n{se}");
    assert!(
        so.contains("writing to the device that never returns"),
        "{so}"
    );
    assert!(
        se.contains("armlet: timeout (wall clock), but the run cannot stop: plugin device 'mhang' (type \"misbehave\"")
            && se.contains("callback `write` has been running for"),
        "{se}"
    );
    assert!((2.5..10.0).contains(&took), "took {took} s");

    // SIGTERM while the callback hangs: 143.
    let p = plugins();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_armlet"));
    cmd.arg("run")
        .arg(root().join("firmware-tests/build/plugin_misbehave.elf"))
        .arg("--machine-file")
        .arg(root().join("firmware-tests/machines/plugin_misbehave.toml"))
        .arg("--plugin")
        .arg(&p.misbehave)
        .args(["--", "hang"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    let o = child.wait_with_output().unwrap();
    let se = text(&o.stderr);
    assert_eq!(o.status.code(), Some(143), "{se}");
    assert!(
        se.contains("interrupted by signal 15, but the run cannot stop: plugin device 'mhang'"),
        "{se}"
    );
}

#[test]
fn garbage_self_descriptions_are_refused_naming_the_file() {
    let dir = &plugins().c_dir;
    for (n, want) in [
        (1, "region #0: size 0x0 is not a non-zero multiple of 4"),
        (2, "region #0: size 0x6 is not a non-zero multiple of 4"),
        (3, "region #0: bad access mask 0x80"),
        (4, "struct_size 4 is smaller than"),
        (5, "1048576 entries (at most 4096)"),
        (6, "operation `read` is NULL"),
        (7, "NULL string of length 5"),
        (8, "regions add up to more than 4 GiB"),
        (9, "string is not UTF-8"),
        (10, "NULL array of 1 entries"),
    ] {
        let lib = dir.join(format!("libmisbehave_desc{n}.so"));
        let o = armlet(&["plugin".as_ref(), "inspect".as_ref(), lib.as_os_str()]);
        let se = text(&o.stderr);
        assert_eq!(o.status.code(), Some(125), "#{n}: {se}");
        assert!(
            se.contains(&format!("plugin {}: bad description: ", lib.display()))
                && se.contains(want),
            "#{n}: {se}"
        );
        assert_error(run_machine("", &[&lib]), &[want]);
    }
}

#[test]
fn create_returning_ok_without_an_instance_is_refused() {
    let dev = format!(
        "[[device]]\nname = \"m0\"\ntype = \"misbehave\"\nbase = 0x5000_0000\nplugin = {}\nparams = {{ mode = \"null-create\" }}\n",
        toml_path(&plugins().misbehave)
    );
    assert_error(
        run_machine(&dev, &[]),
        &[
            "device 'm0' (type \"misbehave\")",
            "`create` returned OK but no instance",
        ],
    );
}

/// The plugin firmware tests under valgrind (memcheck): the example plugins, the Rust
/// plugin that panics and every containable misbehaviour of the C one must leave armlet
/// without a single invalid read/write, use of uninitialised memory or bad free. Skipped
/// (with a note) when valgrind is not installed; `.ci/test` installs it.
#[test]
fn plugin_runs_are_clean_under_valgrind() {
    if Command::new("valgrind").arg("--version").output().is_err() {
        eprintln!("valgrind not installed: skipping");
        return;
    }
    if !firmware() {
        return;
    }
    let p = plugins();
    for test in ["crc", "gpio", "dma", "timer", "panic", "misbehave"] {
        let mut cmd = Command::new("valgrind");
        cmd.args([
            "--error-exitcode=99",
            "--leak-check=no",
            "--track-origins=no",
            "-q",
        ])
        .arg(env!("CARGO_BIN_EXE_armlet"))
        .arg("run")
        .arg(root().join(format!("firmware-tests/build/plugin_{test}.elf")))
        .arg("--machine-file")
        .arg(root().join(format!("firmware-tests/machines/plugin_{test}.toml")));
        for lib in p.all() {
            cmd.arg("--plugin").arg(lib);
        }
        let o = cmd.stdin(std::process::Stdio::null()).output().unwrap();
        let (so, se) = (text(&o.stdout), text(&o.stderr));
        assert_eq!(
            o.status.code(),
            Some(0),
            "{test} under valgrind:\n{so}\n{se}"
        );
        assert!(!se.contains("=="), "{test}: valgrind reported:\n{se}");
    }
}

// ---- Diagnostics (issue 16, item 12) -----------------------------------------------------

/// `armlet run diag_fault_in.elf --machine-file machines/diag_plugin.toml --plugin testkit -- ARG`.
fn run_diag(arg: &str) -> Output {
    let fw = root().join("firmware-tests/build/diag_fault_in.elf");
    let machine = root().join("firmware-tests/machines/diag_plugin.toml");
    armlet(&[
        "run".as_ref(),
        fw.as_os_str(),
        "--machine-file".as_ref(),
        machine.as_os_str(),
        "--plugin".as_ref(),
        plugins().testkit.as_os_str(),
        "--".as_ref(),
        arg.as_ref(),
    ])
}

#[test]
fn a_refused_access_is_logged_with_device_and_reason_and_the_busfault_report_names_the_device() {
    if !firmware() {
        return;
    }
    // Refused by the host: a 16-bit read of a word-only region.
    let out = run_diag("plugin-size");
    let se = text(&out.stderr);
    assert_eq!(out.status.code(), Some(126), "{se}");
    for want in [
        "plugin device 'tworeg0' (type \"two-regions\", plugin armlet-plugin-testkit): 16-bit read at offset 0x0 refused: region 'ctrl' allows only 32-bit accesses; the guest gets a BusFault",
        "BusFault (PRECISERR): read from 0x50005000",
        "0x50005000 is offset 0x0 of device 'tworeg0' (0x50005000..0x50005017) (plugin type \"two-regions\"",
    ] {
        assert!(se.contains(want), "stderr lacks {want:?}:\n{se}");
    }
    // Refused by the plugin: it answered with a bus error.
    let out = run_diag("plugin-refuse");
    let se = text(&out.stderr);
    assert_eq!(out.status.code(), Some(126), "{se}");
    for want in [
        "plugin device 'faulty0' (type \"faulty\", plugin armlet-plugin-testkit): 32-bit read at offset 0x4 refused: the plugin answered with a bus error",
        "0x50004004 is offset 0x4 of device 'faulty0' (0x50004000..0x5000400f)",
    ] {
        assert!(se.contains(want), "stderr lacks {want:?}:\n{se}");
    }
    // A fault in the handler of a plugin device's interrupt names the device and output.
    let out = run_diag("plugin-irq");
    let se = text(&out.stderr);
    assert_eq!(out.status.code(), Some(126), "{se}");
    assert!(
        se.contains("last fault, in IRQ 26 (faulty0 irq): UsageFault (UNDEFINSTR): undefined instruction 0xde04"),
        "{se}"
    );
    // Logged once per access kind: the panic firmware reads 0x4 twice but one line is logged.
    let out = run_fw("panic", false, &[]);
    let se = text(&out.stderr);
    assert_eq!(
        se.matches("32-bit read at offset 0x4 refused").count(),
        1,
        "{se}"
    );
}

#[test]
fn a_rust_plugin_panic_is_reported_once_with_its_location() {
    if !firmware() {
        return;
    }
    let p = plugins();
    let fw = root().join("firmware-tests/build/plugin_panic.elf");
    let machine = root().join("firmware-tests/machines/plugin_panic.toml");
    let out = Command::new(env!("CARGO_BIN_EXE_armlet"))
        .arg("run")
        .arg(fw)
        .arg("--machine-file")
        .arg(machine)
        .arg("--plugin")
        .arg(&p.testkit)
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let se = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{se}");
    // One line: no "thread panicked" from the default hook, no backtrace, no second report.
    assert_eq!(se.matches("boom").count(), 1, "{se}");
    assert!(!se.contains("stack backtrace"), "{se}");
    assert!(!se.contains("thread '"), "{se}");
    assert!(
        se.contains("failed in `write` (panicked in write: boom: write of 0x1 (at device-plugins/testkit/src/lib.rs:"),
        "{se}"
    );
}

#[test]
fn error_misaligned_base_names_the_device_and_the_alignment() {
    assert_error(
        run_machine(
            &format!(
                "{}[device.params]\nlabel = \"a\"\n",
                faulty("").replace("0x5000_0000", "0x5000_0002")
            ),
            &[],
        ),
        &["device 'f0' (type \"faulty\"): key `base`: 0x50000002 is not aligned to 4 bytes (the type's registers take 32-bit accesses); use e.g. 0x50000000"],
    );
}

#[test]
fn plugin_paths_in_errors_are_shown_resolved_and_relative_to_what() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = std::fs::canonicalize(dir.path()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_armlet"))
        .args(["run"])
        .arg(hello_elf())
        .args(["--plugin", "libs/libnope.so"])
        .current_dir(&cwd)
        .output()
        .unwrap();
    let se = text(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{se}");
    let want = format!(
        "plugin {}/libs/libnope.so (`libs/libnope.so`, relative to the current directory): cannot read",
        cwd.display()
    );
    assert!(se.contains(&want), "{want:?} not in:\n{se}");
    // In a machine file given by a relative path: relative to the machine file.
    std::fs::create_dir(cwd.join("boards")).unwrap();
    machine_file(
        &cwd.join("boards"),
        "[[device]]\nname = \"x\"\ntype = \"y\"\nbase = 0x5000_0000\nplugin = \"libs/libx.so\"\n",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_armlet"))
        .args(["run"])
        .arg(hello_elf())
        .args(["--machine-file", "boards/machine.toml"])
        .current_dir(&cwd)
        .output()
        .unwrap();
    let se = text(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{se}");
    let want = format!(
        "boards/machine.toml: device 'x': plugin \"libs/libx.so\" is relative to the machine file's directory {0}/boards: {0}/boards/libs/libx.so does not exist",
        cwd.display()
    );
    assert!(se.contains(&want), "{want:?} not in:\n{se}");
}

#[test]
fn inspect_warns_about_a_rust_plugin_built_with_panic_abort() {
    let p = plugins();
    // The same test plugin, built with panic = "abort" (as this workspace's release profile).
    let target = profile_dir().join("../panic-abort");
    run_ok(
        Command::new(env!("CARGO"))
            .current_dir(root())
            .env("CARGO_PROFILE_DEV_PANIC", "abort")
            .args(["build", "-q", "-p", "armlet-plugin-testkit", "--target-dir"])
            .arg(&target),
        "cargo build of the test plugin with panic = abort",
    );
    let lib = target.join("debug/libarmlet_plugin_testkit.so");
    let out = armlet(&["plugin".as_ref(), "inspect".as_ref(), lib.as_os_str()]);
    let (so, se) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{se}");
    assert!(
        so.contains("panic:   abort (warning: a panic in this plugin ends armlet; build it with panic = \"unwind\")"),
        "{so}"
    );
    assert!(se.contains("is built with panic = \"abort\""), "{se}");
    // Built with unwinding (and the C plugin): nothing to warn about.
    for lib in [&p.testkit, &p.crc] {
        let out = armlet(&["plugin".as_ref(), "inspect".as_ref(), lib.as_os_str()]);
        assert!(
            !text(&out.stdout).contains("panic:"),
            "{}",
            text(&out.stdout)
        );
        assert!(
            !text(&out.stderr).contains("abort"),
            "{}",
            text(&out.stderr)
        );
    }
}

#[test]
fn readme_plugin_example_runs_on_mps2_an385() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let section = &readme[readme.find("## Peripheral plugins").expect("section")..];
    let start = section.find("```toml\n").expect("toml block") + 8;
    let block = &section[start..start + section[start..].find("```").unwrap()];
    // The example's plugin, at the path the example names, next to the machine file.
    let dir = tempfile::tempdir().unwrap();
    let name = block
        .lines()
        .find_map(|l| l.trim().strip_prefix("plugin = \""))
        .and_then(|l| l.split('"').next())
        .expect("plugin key");
    std::fs::copy(&plugins().crc, dir.path().join(name)).unwrap();
    let show = armlet(&["machines".as_ref(), "show".as_ref(), "mps2-an385".as_ref()]);
    let board = dir.path().join("board.toml");
    std::fs::write(&board, format!("{}\n{block}", text(&show.stdout))).unwrap();
    let out = armlet(&[
        "run".as_ref(),
        hello_elf().as_os_str(),
        "--machine-file".as_ref(),
        board.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}
