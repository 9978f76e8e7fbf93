//! `cargo bench -p armlet-machine --bench plugin_mmio`: the cost of one MMIO access to a
//! plugin device register against a built-in device register, through the same bus path the
//! CPU uses (`Bus::read32`/`write32` on `Memory`). Builds the example plugins (release) first.
//! Prints ns per access (best of 5 runs of 1,000,000 accesses).

use armlet_cpu::Bus;
use armlet_machine::board::DeviceDesc;
use armlet_machine::memory::Memory;
use armlet_machine::{devices, plugin, Board};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const N: u32 = 1_000_000;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn build_plugins() -> PathBuf {
    let exe = std::env::current_exe().expect("bench exe");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("profile dir")
        .to_path_buf();
    let mut cargo = Command::new(env!("CARGO"));
    cargo.current_dir(root()).args([
        "build",
        "-q",
        "-p",
        "armlet-plugin-gpio",
        "-p",
        "armlet-plugin-timer",
    ]);
    if dir.ends_with("release") {
        cargo.arg("--release");
    }
    assert!(
        cargo.status().expect("cargo").success(),
        "cargo build of the plugins"
    );
    let ok = Command::new("make")
        .arg("-s")
        .arg("-C")
        .arg(root().join("device-plugins/examples/crc"))
        .arg(format!("O={}", dir.join("c-plugins").display()))
        .status()
        .expect("make");
    assert!(ok.success(), "make of the C plugin");
    dir
}

fn desc(name: &str, kind: &str, base: u32, plugin: Option<PathBuf>) -> DeviceDesc {
    DeviceDesc {
        name: name.into(),
        kind: kind.into(),
        base,
        size: None,
        irq: vec![],
        params: toml::Table::new(),
        plugin,
    }
}

/// Best time per call of `f` over 5 runs of N calls, in ns.
fn ns_per(mut f: impl FnMut()) -> f64 {
    (0..5)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..N {
                f();
            }
            t.elapsed().as_secs_f64() * 1e9 / f64::from(N)
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let dir = build_plugins();
    let board = Board::mps2_an385();
    let mut mem = Memory::from_board(&board).expect("memory");
    let mut null = |_: &str| -> Box<dyn armlet_machine::device::Serial> {
        Box::new(armlet_machine::device::NullSerial)
    };
    // Built-in devices at free addresses (the board's own are not mapped here).
    let builtins = [
        desc("scc", "mps2-scc", 0x6000_0000, None),
        desc("timer", "cmsdk-timer", 0x6000_1000, None),
    ];
    for d in &builtins {
        let b = devices::create(d, &mut null).expect("built-in");
        mem.add_device(&d.name, d.base, b.size, b.device, vec![])
            .expect("map");
    }
    let plugins = [
        desc(
            "leds",
            "gpio-leds",
            0x6001_0000,
            Some(dir.join("libarmlet_plugin_gpio.so")),
        ),
        desc(
            "ptimer",
            "periodic-timer",
            0x6001_1000,
            Some(dir.join("libarmlet_plugin_timer.so")),
        ),
        desc(
            "crc",
            "crc32",
            0x6001_2000,
            Some(dir.join("c-plugins/libarmlet_plugin_crc.so")),
        ),
    ];
    for d in &plugins {
        let b = plugin::create(d, &[], board.cpu_hz).unwrap_or_else(|e| panic!("{e}"));
        mem.add_device(&d.name, d.base, b.size, b.device, vec![])
            .expect("map");
    }
    mem.reset();

    let mut rows: Vec<(&str, f64)> = Vec::new();
    let mut read = |mem: &mut Memory, what, addr: u32| {
        let ns = ns_per(|| {
            black_box(mem.read32(black_box(addr)).expect("read"));
        });
        rows.push((what, ns));
    };
    read(
        &mut mem,
        "read  built-in  mps2-scc ID (plain register)",
        0x6000_0FFC,
    );
    read(&mut mem, "read  built-in  cmsdk-timer RELOAD", 0x6000_1008);
    read(
        &mut mem,
        "read  plugin    gpio-leds OUT (Rust)",
        0x6001_0000,
    );
    read(
        &mut mem,
        "read  plugin    periodic-timer PERIOD (Rust)",
        0x6001_1004,
    );
    read(&mut mem, "read  plugin    crc32 INIT (C)", 0x6001_200C);
    let mut write = |mem: &mut Memory, what, addr: u32| {
        let mut v = 0u32;
        let ns = ns_per(|| {
            v = v.wrapping_add(1) & 0xff;
            mem.write32(black_box(addr), black_box(v)).expect("write");
        });
        rows.push((what, ns));
    };
    write(&mut mem, "write built-in  cmsdk-timer RELOAD", 0x6000_1008);
    write(&mut mem, "write plugin    crc32 INIT (C)", 0x6001_200C);
    let mut mem2 = mem;
    // LED writes log nothing at the default level but count changes: a realistic write.
    write(
        &mut mem2,
        "write plugin    gpio-leds OUT (Rust)",
        0x6001_0000,
    );
    let ram = ns_per(|| {
        black_box(mem2.read32(black_box(0x2000_0000)).expect("read"));
    });
    println!("MMIO access cost, ns per 32-bit access (best of 5 x {N}):");
    println!("  {:<48} {:>7.1}", "read  RAM (fast path, for scale)", ram);
    for (what, ns) in rows {
        println!("  {what:<48} {ns:>7.1}");
    }
}
