//! What a new user is told about their mistakes (issue 16, item 9): hard-float firmware on a
//! board without an FPU, an initial SP outside RAM, an image linked for memory the board does
//! not have, an unknown machine name, limits that end a run, a fault inside a handler, and
//! their siblings (directories, wrong architecture, empty vector tables, the Thumb bit).
//!
//! The firmware comes from `make -C firmware-tests`; the small images are built here with
//! `armlet_machine::loader::tiny_elf` (so their bytes are known exactly).

use armlet_machine::loader::tiny_elf;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fw(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../firmware-tests/build")
        .join(format!("{name}.elf"));
    assert!(
        p.exists(),
        "{} missing: run `make -C firmware-tests`",
        p.display()
    );
    p
}

fn armlet<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Command::new(env!("CARGO_BIN_EXE_armlet"))
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run armlet")
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_has(text: &str, wants: &[&str]) {
    for w in wants {
        assert!(text.contains(w), "lacks {w:?}:\n{text}");
    }
    assert!(!text.contains("panicked"), "panic:\n{text}");
}

/// Thumb code after an 8-byte vector table at `base`: semihosting SYS_EXIT with
/// ADP_Stopped_ApplicationExit (exit status 0), then `b .`.
fn exit0_image(sp: u32, reset: u32) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&sp.to_le_bytes());
    v.extend_from_slice(&reset.to_le_bytes());
    // base+8: movs r0, #0x18; ldr r1, [pc, #4]; bkpt 0xab; b .   base+16: 0x20026
    for h in [0x2018u16, 0x4901, 0xbeab, 0xe7fe] {
        v.extend_from_slice(&h.to_le_bytes());
    }
    v.extend_from_slice(&0x0002_0026u32.to_le_bytes());
    v
}

fn write_elf(dir: &Path, name: &str, base: u32, code: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, tiny_elf(base, code)).unwrap();
    p
}

#[test]
fn hard_float_elf_on_a_board_without_fpu_is_warned_at_load_naming_the_boards_with_one() {
    let out = armlet([
        "run".as_ref(),
        fw("fp_math_m4").as_os_str(),
        "-M".as_ref(),
        "mps2-an385".as_ref(),
    ]);
    assert_has(
        &err(&out),
        &[
            "the ELF is built for hard float (Tag_FP_arch VFPv4-D16",
            "mps2-an385 (cortex-m3) has no FPU",
            "mps2-an386 (Cortex-M4F, single precision)",
            "mps2-an500 (Cortex-M7, double precision)",
            "--machine mps2-an386",
        ],
    );
    // Double-precision code on the single-precision FPU.
    let out = armlet([
        "run".as_ref(),
        fw("fp_math_m7").as_os_str(),
        "-M".as_ref(),
        "mps2-an386".as_ref(),
    ]);
    assert_has(&err(&out), &["double-precision", "--machine mps2-an500"]);
    // The right boards: no warning.
    for (f, m) in [("fp_math_m4", "mps2-an386"), ("fp_math_m7", "mps2-an500")] {
        let out = armlet(["run".as_ref(), fw(f).as_os_str(), "-M".as_ref(), m.as_ref()]);
        assert_eq!(out.status.code(), Some(0), "{}", err(&out));
        assert!(!err(&out).contains("FPU"), "{}", err(&out));
    }
}

#[test]
fn nocp_fault_report_names_the_boards_with_an_fpu() {
    let out = armlet([
        "run".as_ref(),
        fw("diag_fault_in").as_os_str(),
        "--".as_ref(),
        "nocp".as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(126), "{}", err(&out));
    assert_has(
        &err(&out),
        &[
            "UsageFault (NOCP)",
            "mps2-an385 (cortex-m3) has no FPU; boards with one: mps2-an386 (Cortex-M4F, single precision) and mps2-an500 (Cortex-M7, double precision)",
        ],
    );
}

#[test]
fn nocp_with_the_fpu_disabled_says_how_to_enable_it() {
    // The same FP instruction on the Cortex-M4F, with CPACR still at its reset value.
    let out = armlet([
        "run".as_ref(),
        fw("diag_fault_in").as_os_str(),
        "-M".as_ref(),
        "mps2-an386".as_ref(),
        "--".as_ref(),
        "nocp".as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(126), "{}", err(&out));
    assert_has(
        &err(&out),
        &[
            "UsageFault (NOCP)",
            "the FPU is disabled: enable CP10/CP11 in CPACR",
        ],
    );
    assert!(!err(&out).contains("has no FPU"), "{}", err(&out));
}

#[test]
fn fault_report_names_the_exception_the_core_was_handling() {
    for (arg, want) in [
        ("systick", "last fault, in SysTick: UsageFault (UNDEFINSTR): undefined instruction 0xde01"),
        ("irq0", "last fault, in IRQ 0 (uart0 rx): UsageFault (UNDEFINSTR): undefined instruction 0xde02"),
        ("thread", "last fault, in Thread mode: UsageFault (UNDEFINSTR): undefined instruction 0xde03"),
    ] {
        let out = armlet(["run".as_ref(), fw("diag_fault_in").as_os_str(), "--".as_ref(), arg.as_ref()]);
        assert_eq!(out.status.code(), Some(126), "{}", err(&out));
        assert_has(&err(&out), &[want, "<HardFault_Handler> (in HardFault)"]);
    }
}

#[test]
fn initial_sp_outside_ram_is_reported_at_reset_with_where_ram_is() {
    let dir = tempfile::tempdir().unwrap();
    let elf = write_elf(dir.path(), "sp.elf", 0, &exit0_image(0x3000_0000, 9));
    let out = armlet(["run".as_ref(), elf.as_os_str()]);
    assert_has(
        &err(&out),
        &[
            "the initial SP (vector 0 at 0x00000000) is 0x30000000, which is not in RAM",
            "mps2-an385 RAM: ssram1 0x00000000..0x003fffff",
            "ssram23 0x20000000..0x203fffff",
        ],
    );
    // A good one says nothing.
    let ok = write_elf(dir.path(), "ok.elf", 0, &exit0_image(0x2000_1000, 9));
    let out = armlet(["run".as_ref(), ok.as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", err(&out));
    assert_eq!(err(&out), "");
}

#[test]
fn empty_vector_table_and_reset_vector_without_thumb_bit_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let empty = write_elf(dir.path(), "empty.elf", 0, &exit0_image(0, 0));
    assert_has(
        &err(&armlet(["run".as_ref(), empty.as_os_str()])),
        &["the vector table at 0x00000000 is empty"],
    );
    let arm = write_elf(dir.path(), "arm.elf", 0, &exit0_image(0x2000_1000, 8));
    let out = armlet(["run".as_ref(), arm.as_os_str()]);
    assert_eq!(out.status.code(), Some(126), "{}", err(&out));
    assert_has(
        &err(&out),
        &[
            "the reset vector (0x00000004) is 0x00000008, without the Thumb bit",
            "INVSTATE",
        ],
    );
}

#[test]
fn segment_outside_the_board_lists_regions_and_the_alias_snippet_works() {
    let dir = tempfile::tempdir().unwrap();
    let base = 0x0800_0000;
    let elf = write_elf(
        dir.path(),
        "stm32.elf",
        base,
        &exit0_image(0x2000_1000, base + 9),
    );
    let out = armlet(["run".as_ref(), elf.as_os_str()]);
    let e = err(&out);
    assert_eq!(out.status.code(), Some(125), "{e}");
    assert_has(
        &e,
        &[
            "segment at 0x08000000",
            "is outside the board's memory",
            "mps2-an385 has:",
            "ssram1             0x00000000..0x003fffff (ram)",
            "ssram23            0x20000000..0x203fffff (ram)",
            "armlet machines show mps2-an385 > board.toml",
            "kind = \"alias\"",
        ],
    );
    // Follow the advice literally: the printed [[region]] lines appended to the board.
    let snippet: String = e
        .lines()
        .skip_while(|l| l.trim() != "[[region]]")
        .take_while(|l| !l.trim().starts_with("armlet run"))
        .map(|l| format!("{}\n", l.trim()))
        .collect();
    assert!(snippet.contains("base = 0x08000000"), "{snippet}");
    assert!(snippet.contains("target = 0x00000000"), "{snippet}");
    let show = armlet(["machines", "show", "mps2-an385"]);
    let board = dir.path().join("board.toml");
    std::fs::write(
        &board,
        format!("{}{snippet}", String::from_utf8_lossy(&show.stdout)),
    )
    .unwrap();
    let out = armlet([
        "run".as_ref(),
        elf.as_os_str(),
        "--machine-file".as_ref(),
        board.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", err(&out));
}

#[test]
fn unknown_machine_suggests_the_closest_name_everywhere() {
    let hello = fw("hello");
    for args in [
        vec!["run", hello.to_str().unwrap(), "-M", "mps2-an38"],
        vec!["run", hello.to_str().unwrap(), "--machine", "MPS2-AN386"],
        vec!["machines", "show", "an385"],
        vec![
            "qemu",
            "-M",
            "mps2-an358",
            "-nographic",
            "-kernel",
            hello.to_str().unwrap(),
        ],
    ] {
        let out = armlet(&args);
        assert_eq!(out.status.code(), Some(125), "{args:?}: {}", err(&out));
        assert_has(
            &err(&out),
            &[
                "unknown machine",
                "did you mean 'mps2-an3",
                "built-in machines: mps2-an385",
            ],
        );
    }
    let out = armlet(["machines", "show", "lm3s"]);
    assert_has(&err(&out), &["did you mean 'lm3s6965evb'?"]);
    // Nothing close: no guess, still the list.
    let out = armlet(["machines", "show", "raspberrypi"]);
    assert_has(
        &err(&out),
        &["unknown machine 'raspberrypi' (built-in machines:"],
    );
    assert!(!err(&out).contains("did you mean"), "{}", err(&out));
}

#[test]
fn limits_print_the_same_state_report_as_a_signal() {
    for extra in [["--max-instructions", "5000"], ["--timeout", "0.2"]] {
        let out = armlet(["run", fw("loop").to_str().unwrap(), extra[0], extra[1]]);
        assert_eq!(out.status.code(), Some(124), "{}", err(&out));
        assert_has(
            &err(&out),
            &[
                "   r0=",
                "  xpsr=",
                " <main",
                "(in Thread mode): ",
                "after ",
            ],
        );
    }
}

#[test]
fn sibling_mistakes_get_clear_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = armlet(["run", d]);
    assert_eq!(out.status.code(), Some(125));
    assert_eq!(
        err(&out).trim_end(),
        format!("armlet: error: {d}: is a directory, not a firmware ELF file")
    );
    let hello = fw("hello");
    let out = armlet(["run", hello.to_str().unwrap(), "--serial", "uart9=stdio"]);
    assert_has(
        &err(&out),
        &["mps2-an385 has no device named 'uart9' (its UARTs: uart0, uart1, uart2, uart3, uart4)"],
    );
}

#[test]
fn an_a_profile_elf_is_refused_saying_what_it_is_built_for() {
    if std::env::var_os("ARMLET_SKIP_FIRMWARE").is_some() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("a.c");
    std::fs::write(
        &src,
        "int main(void) { return 0; }\nvoid _start(void) { main(); for (;;) ; }\n",
    )
    .unwrap();
    let elf = dir.path().join("a.elf");
    let st = Command::new("arm-none-eabi-gcc")
        .args(["-mcpu=cortex-a9", "-marm", "-nostdlib", "-Ttext=0x0", "-o"])
        .arg(&elf)
        .arg(&src)
        .status()
        .expect("arm-none-eabi-gcc");
    assert!(st.success());
    let out = armlet(["run".as_ref(), elf.as_os_str()]);
    assert_eq!(out.status.code(), Some(125), "{}", err(&out));
    assert_has(
        &err(&out),
        &[
            "ELF is built for an A-profile core (Tag_CPU_arch_profile 'A', Tag_CPU_name \"7-A\")",
            "-mcpu=cortex-m3",
        ],
    );
}
