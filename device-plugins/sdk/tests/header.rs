//! The C header is the ABI's source of truth: compile it (C11, -Wall -Wextra -Werror
//! -pedantic) into a program printing every struct's size and alignment and every field's
//! offset, plus the constants, and compare with the Rust definitions in `armlet_plugin::ffi`.
//! Also compiles the header as C++ when a C++ compiler is there.

use armlet_plugin::ffi;
use std::mem::{align_of, offset_of, size_of};
use std::path::Path;
use std::process::Command;

macro_rules! layout {
    ($out:ident, $c:literal, $t:ty, [$($f:ident),* $(,)?]) => {
        $out.push((format!("{}#size", $c), size_of::<$t>() as u64));
        $out.push((format!("{}#align", $c), align_of::<$t>() as u64));
        $( $out.push((format!("{}.{}", $c, stringify!($f)), offset_of!($t, $f) as u64)); )*
    };
}

/// (key, value) as Rust sees them, and the C expression for each key.
fn rust_side() -> Vec<(String, u64)> {
    let mut v = Vec::new();
    layout!(v, "armlet_str", ffi::Str, [ptr, len]);
    layout!(v, "armlet_ctx", ffi::Ctx, [struct_size, reserved, api]);
    layout!(
        v,
        "armlet_writer",
        ffi::Writer,
        [struct_size, reserved, write]
    );
    layout!(
        v,
        "armlet_host_api",
        ffi::HostApi,
        [
            struct_size,
            reserved,
            log,
            now,
            cpu_hz,
            set_irq,
            schedule,
            cancel,
            dma_read,
            dma_write,
            wake,
            log_enabled
        ]
    );
    layout!(
        v,
        "armlet_param_desc",
        ffi::ParamDesc,
        [
            struct_size,
            kind,
            name,
            doc,
            required,
            reserved,
            default_int,
            default_str,
            min,
            max
        ]
    );
    layout!(
        v,
        "armlet_region_desc",
        ffi::RegionDesc,
        [struct_size, size, access, reserved, name]
    );
    layout!(
        v,
        "armlet_param_value",
        ffi::ParamValue,
        [struct_size, kind, name, int_value, str_value]
    );
    layout!(
        v,
        "armlet_create_args",
        ffi::CreateArgs,
        [
            struct_size,
            reserved,
            instance_name,
            params,
            num_params,
            waker,
            cpu_hz
        ]
    );
    layout!(
        v,
        "armlet_device_ops",
        ffi::DeviceOps,
        [
            struct_size,
            reserved,
            create,
            destroy,
            read,
            write,
            debug_peek,
            reset,
            timer,
            wake,
            gpio_in,
            save,
            restore
        ]
    );
    layout!(
        v,
        "armlet_device_type",
        ffi::DeviceType,
        [
            struct_size,
            state_version,
            name,
            doc,
            params,
            num_params,
            regions,
            num_regions,
            irq_outputs,
            num_irq_outputs,
            gpio_inputs,
            num_gpio_inputs,
            ops
        ]
    );
    layout!(
        v,
        "armlet_plugin_info",
        ffi::PluginInfo,
        [struct_size, abi_version, name, version, types, num_types]
    );
    for (k, c) in [
        ("ARMLET_PLUGIN_ABI_MAJOR", u64::from(ffi::ABI_MAJOR)),
        ("ARMLET_PLUGIN_ABI_MINOR", u64::from(ffi::ABI_MINOR)),
        ("ARMLET_PLUGIN_ABI_VERSION", u64::from(ffi::ABI_VERSION)),
        ("ARMLET_OK", ffi::OK as u64),
        ("ARMLET_BUS_ERROR", ffi::BUS_ERROR as u64),
        ("ARMLET_FAILED", ffi::FAILED as u64),
        ("ARMLET_UNSUPPORTED", ffi::UNSUPPORTED as u64),
        ("ARMLET_INVALID", ffi::INVALID as u64),
        ("ARMLET_LOG_ERROR", u64::from(ffi::LOG_ERROR)),
        ("ARMLET_LOG_WARN", u64::from(ffi::LOG_WARN)),
        ("ARMLET_LOG_INFO", u64::from(ffi::LOG_INFO)),
        ("ARMLET_LOG_DEBUG", u64::from(ffi::LOG_DEBUG)),
        ("ARMLET_LOG_TRACE", u64::from(ffi::LOG_TRACE)),
        ("ARMLET_PARAM_BOOL", u64::from(ffi::PARAM_BOOL)),
        ("ARMLET_PARAM_INT", u64::from(ffi::PARAM_INT)),
        ("ARMLET_PARAM_STRING", u64::from(ffi::PARAM_STRING)),
        ("ARMLET_ACCESS_8", u64::from(ffi::ACCESS_8)),
        ("ARMLET_ACCESS_16", u64::from(ffi::ACCESS_16)),
        ("ARMLET_ACCESS_32", u64::from(ffi::ACCESS_32)),
        ("ARMLET_ACCESS_ALL", u64::from(ffi::ACCESS_ALL)),
    ] {
        v.push((k.to_string(), c));
    }
    v
}

fn c_expr(key: &str) -> String {
    if let Some((t, what)) = key.split_once('#') {
        return match what {
            "size" => format!("sizeof({t})"),
            _ => format!("_Alignof({t})"),
        };
    }
    match key.split_once('.') {
        Some((t, f)) => format!("offsetof({t}, {f})"),
        None => key.to_string(),
    }
}

fn include_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../include")
}

#[test]
fn header_matches_the_rust_definitions() {
    let rust = rust_side();
    let mut src = String::from(
        "#include <stdio.h>\n#include <stddef.h>\n#include \"armlet_plugin.h\"\nint main(void) {\n",
    );
    for (k, _) in &rust {
        src += &format!(
            "    printf(\"%s %llu\\n\", \"{k}\", (unsigned long long)({}));\n",
            c_expr(k)
        );
    }
    src += "    return 0;\n}\n";
    let dir = tempfile_dir();
    let c = dir.join("layout.c");
    let exe = dir.join("layout");
    std::fs::write(&c, src).unwrap();
    let out = Command::new("cc")
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-I"])
        .arg(include_dir())
        .arg(&c)
        .arg("-o")
        .arg(&exe)
        .output()
        .expect("run cc");
    assert!(
        out.status.success(),
        "cc: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(&exe).output().expect("run the layout program");
    let text = String::from_utf8(out.stdout).unwrap();
    let c_side: Vec<(String, u64)> = text
        .lines()
        .map(|l| {
            let (k, v) = l.split_once(' ').unwrap();
            (k.to_string(), v.parse().unwrap())
        })
        .collect();
    let mismatches: Vec<String> = rust
        .iter()
        .zip(&c_side)
        .filter(|(r, c)| r != c)
        .map(|(r, c)| format!("{}: Rust {} / C {}", r.0, r.1, c.1))
        .collect();
    assert_eq!(rust.len(), c_side.len());
    assert!(
        mismatches.is_empty(),
        "header and ffi.rs differ:\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn header_compiles_as_cpp() {
    if Command::new("c++").arg("--version").output().is_err() {
        eprintln!("no C++ compiler: skipped");
        return;
    }
    let dir = tempfile_dir();
    let src = dir.join("h.cpp");
    std::fs::write(
        &src,
        "#include \"armlet_plugin.h\"\nextern \"C\" ARMLET_EXPORT const uint32_t armlet_plugin_abi_version = ARMLET_PLUGIN_ABI_VERSION;\n\
         static armlet_str s = ARMLET_STR(\"x\");\nint main() { return (int)s.len - 1; }\n",
    )
    .unwrap();
    let out = Command::new("c++")
        .args(["-std=c++17", "-Wall", "-Wextra", "-Werror", "-I"])
        .arg(include_dir())
        .arg(&src)
        .arg("-o")
        .arg(dir.join("h"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "c++: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn tempfile_dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "armlet-plugin-header-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}
