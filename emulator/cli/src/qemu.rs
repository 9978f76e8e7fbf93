//! `armlet qemu ARGS...` (and armlet invoked as `qemu-system-arm`): accept the
//! qemu-system-arm command lines embedded test runners use, and run the firmware on armlet
//! with the same exit-status semantics.

use anyhow::{bail, Context as _};
use armlet_machine::Board;

/// The options understood, for `--help` and error messages.
pub const SUPPORTED: &str = "\
\x20 -machine/-M NAME[,...]   board (see `armlet machines`); `-M help` lists them
  -cpu NAME                must be the board's core (cortex-m3 for mps2-an385)
  -kernel FILE             the firmware ELF
  -m SIZE                  accepted; the board's memory map is fixed
  -nographic, -display none
  -semihosting             enable semihosting (file access confined to the current directory)
  -semihosting-config enable=on|off,target=native|auto[,arg=A]...[,chardev=ID][,userspace=on]
  -chardev stdio|null,id=ID, file,id=ID,path=/dev/stdout   (semihosting output goes to stdout)
  -serial stdio|null|none|mon:stdio|file:PATH|tcp:[HOST]:PORT[,server,nowait]
                           one per UART, in order (the first is the console UART)
  -monitor none|null       accepted
  -icount ...              accepted (armlet always counts instructions)
  -d ITEMS                 accepted (use -v/RUST_LOG for armlet's logs)
  -no-reboot, -no-shutdown accepted
  -gdb tcp:[HOST]:PORT     GDB server (armlet run --gdb; 127.0.0.1 unless HOST is given)
  -s                       GDB server on port 1234 (-gdb tcp::1234)
  -S                       halted at the reset vector until the debugger continues (--wait)";

/// What a QEMU command line asks for.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct QemuRun {
    /// Board name.
    pub machine: Option<String>,
    /// Firmware.
    pub kernel: Option<String>,
    /// Semihosting enabled.
    pub semihosting: bool,
    /// `arg=` values of -semihosting-config, in order.
    pub args: Vec<String>,
    /// `-M help` was given.
    pub list_machines: bool,
    /// `-serial` backends, in UART order (`armlet run --serial` syntax).
    pub serial: Vec<String>,
    /// `-gdb`/`-s`: the GDB server address (`armlet run --gdb` syntax).
    pub gdb: Option<String>,
    /// `-S`: start halted, waiting for the debugger.
    pub wait: bool,
}

fn unsupported(opt: &str, why: &str) -> anyhow::Error {
    anyhow::anyhow!("qemu option '{opt}' is not supported{why}\nsupported options:\n{SUPPORTED}")
}

/// Parse a qemu-system-arm argument list.
pub fn parse(args: &[String]) -> anyhow::Result<QemuRun> {
    let mut r = QemuRun::default();
    let mut cpu: Option<String> = None;
    let mut it = args.iter();
    while let Some(raw) = it.next() {
        // QEMU accepts --opt as well as -opt, and -opt=value.
        let norm = raw
            .strip_prefix("--")
            .map(|s| format!("-{s}"))
            .unwrap_or_else(|| raw.clone());
        let (opt, inline) = match norm.split_once('=') {
            Some((o, v)) if o.starts_with('-') && !o.contains(',') => {
                (o.to_string(), Some(v.to_string()))
            }
            _ => (norm.clone(), None),
        };
        let mut value = |name: &str| -> anyhow::Result<String> {
            match &inline {
                Some(v) => Ok(v.clone()),
                None => it
                    .next()
                    .cloned()
                    .with_context(|| format!("qemu option '{name}' needs a value")),
            }
        };
        match opt.as_str() {
            "-machine" | "-M" => {
                let v = value(&opt)?;
                let name = v
                    .split(',')
                    .next()
                    .unwrap_or_default()
                    .trim_start_matches("type=")
                    .to_string();
                if name == "help" || name == "?" {
                    r.list_machines = true;
                } else {
                    r.machine = Some(name);
                }
            }
            "-cpu" => cpu = Some(value(&opt)?),
            "-kernel" => r.kernel = Some(value(&opt)?),
            "-m" | "-icount" | "-d" => {
                value(&opt)?;
            }
            "-nographic" | "-no-reboot" | "-no-shutdown" => {}
            "-display" => {
                let v = value(&opt)?;
                if v != "none" {
                    return Err(unsupported(
                        &format!("-display {v}"),
                        ": armlet is headless",
                    ));
                }
            }
            "-semihosting" => r.semihosting = true,
            "-semihosting-config" => {
                for kv in value(&opt)?.split(',') {
                    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                    match k {
                        "enable" => r.semihosting = matches!(v, "on" | "true" | "yes"),
                        "on" => r.semihosting = true,
                        "target" if matches!(v, "native" | "auto") => {}
                        "target" => {
                            return Err(unsupported(&format!("-semihosting-config target={v}"), ""))
                        }
                        "arg" => r.args.push(v.to_string()),
                        "chardev" | "userspace" => {}
                        _ => return Err(unsupported(&format!("-semihosting-config {kv}"), "")),
                    }
                }
            }
            "-chardev" => {
                let v = value(&opt)?;
                let backend = v.split(',').next().unwrap_or_default();
                let path = v.split(',').find_map(|kv| kv.strip_prefix("path="));
                let ok = match backend {
                    "stdio" | "null" => true,
                    // A file chardev on the standard output is how scripts merge semihosting
                    // output into the UART's stdio stream.
                    "file" => matches!(path, Some("/dev/stdout" | "/dev/fd/1")),
                    _ => false,
                };
                if !ok {
                    return Err(unsupported(
                        &format!("-chardev {v}"),
                        ": semihosting output always goes to stdout",
                    ));
                }
            }
            "-serial" => {
                let v = value(&opt)?;
                let spec = match v.as_str() {
                    "none" | "null" => "null".to_string(),
                    "stdio" | "mon:stdio" => "stdio".to_string(),
                    c if c.starts_with("chardev:") => "stdio".to_string(),
                    other => other.to_string(),
                };
                armlet_machine::serial::SerialSpec::parse(&spec)
                    .map_err(|e| unsupported(&format!("-serial {v}"), &format!(": {e}")))?;
                r.serial.push(spec);
            }
            "-monitor" => {
                let v = value(&opt)?;
                if !matches!(v.as_str(), "none" | "null") {
                    return Err(unsupported(
                        &format!("-monitor {v}"),
                        ": there is no QEMU monitor",
                    ));
                }
            }
            "-s" => r.gdb = Some("1234".into()),
            "-S" => r.wait = true,
            "-gdb" => {
                let v = value(&opt)?;
                match v.strip_prefix("tcp:") {
                    Some(addr) => r.gdb = Some(addr.split(',').next().unwrap_or_default().into()),
                    None if v == "none" => r.gdb = None,
                    None => {
                        return Err(unsupported(&format!("-gdb {v}"), ": only tcp:[HOST]:PORT"))
                    }
                }
            }
            "-append" | "-initrd" | "-dtb" => {
                return Err(unsupported(
                    &opt,
                    ": Cortex-M firmware has no kernel command line, initrd or device tree",
                ));
            }
            o if o.starts_with('-') => return Err(unsupported(o, "")),
            other => {
                return Err(unsupported(
                    other,
                    ": disk images are not supported (use -kernel FILE)",
                ))
            }
        }
    }
    if r.wait && r.gdb.is_none() {
        bail!("-S without -gdb or -s: the core would wait for a debugger that cannot connect");
    }
    if let (Some(c), Some(m)) = (&cpu, &r.machine) {
        if let Some(b) = Board::by_name(m) {
            let want = b.cpu.name();
            if c != want {
                bail!("-cpu {c}: machine {m} has a {want}");
            }
        }
    }
    Ok(r)
}

/// The `armlet run` arguments for a parsed QEMU command line.
pub fn to_run_args(q: &QemuRun) -> anyhow::Result<Vec<String>> {
    let kernel = q
        .kernel
        .clone()
        .context("no firmware given: use -kernel FILE")?;
    let machine = q
        .machine
        .clone()
        .context("no machine given: use -M NAME (see `armlet machines`)")?;
    if Board::by_name(&machine).is_none() {
        bail!("{}", Board::unknown_machine(&machine));
    }
    let mut v = vec![kernel, "--machine".into(), machine];
    for s in &q.serial {
        v.push("--serial".into());
        v.push(s.clone());
    }
    if let Some(addr) = &q.gdb {
        v.push("--gdb".into());
        v.push(addr.clone());
        if q.wait {
            v.push("--wait".into());
        }
    }
    if q.semihosting {
        // QEMU resolves semihosting file names in the current directory; armlet does the same
        // but keeps them there (no absolute paths, no `..`).
        v.push("--semihosting-root".into());
        v.push(".".into());
    } else {
        v.push("--no-semihosting".into());
    }
    if !q.args.is_empty() {
        // QEMU's command line is the arg= values; armlet's `--` list follows the program name.
        v.push("--program-name".into());
        v.push(q.args[0].clone());
        v.push("--".into());
        v.extend(q.args[1..].iter().cloned());
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> anyhow::Result<QemuRun> {
        parse(&s.split_whitespace().map(String::from).collect::<Vec<_>>())
    }

    #[test]
    fn cargo_runner_line() {
        let r = p("-cpu cortex-m3 -machine lm3s6965evb -nographic -semihosting-config enable=on,target=native -kernel fw.elf")
            .unwrap();
        assert_eq!(r.machine.as_deref(), Some("lm3s6965evb"));
        assert_eq!(r.kernel.as_deref(), Some("fw.elf"));
        assert!(r.semihosting);
    }

    #[test]
    fn args_and_double_dash_forms() {
        let r = p("--machine=mps2-an385 -semihosting-config enable=on,arg=prog,arg=one -kernel x")
            .unwrap();
        assert_eq!(r.args, vec!["prog", "one"]);
        assert_eq!(r.machine.as_deref(), Some("mps2-an385"));
    }

    #[test]
    fn gdb_options_map_to_the_gdb_server() {
        let r = p("-M mps2-an385 -kernel x -s -S").unwrap();
        let args = to_run_args(&r).unwrap();
        let at = args.iter().position(|a| a == "--gdb").unwrap();
        assert_eq!(args[at + 1], "1234");
        assert_eq!(args[at + 2], "--wait");
        let r = p("-M mps2-an385 -kernel x -gdb tcp:0.0.0.0:3333,server,nowait").unwrap();
        assert_eq!(r.gdb.as_deref(), Some("0.0.0.0:3333"));
        assert!(!r.wait);
        assert_eq!(
            p("-M mps2-an385 -gdb tcp::1234").unwrap().gdb.as_deref(),
            Some(":1234")
        );
        let e = p("-M mps2-an385 -kernel x -S").unwrap_err().to_string();
        assert!(e.contains("-S without -gdb"), "{e}");
    }

    #[test]
    fn unsupported_options_say_what_is_supported() {
        for bad in [
            "-device foo",
            "-gdb unix:/tmp/sock",
            "-append x",
            "-monitor stdio",
            "-display gtk",
            "disk.img",
        ] {
            let e = p(&format!("-M mps2-an385 {bad}")).unwrap_err().to_string();
            assert!(
                e.contains("not supported") && e.contains("supported options"),
                "{bad}: {e}"
            );
        }
        assert!(p("-M mps2-an385 -cpu cortex-a15")
            .unwrap_err()
            .to_string()
            .contains("cortex-m3"));
    }
}
