//! `armlet qemu ARGS...` (and armlet invoked as `qemu-system-arm`): accept the
//! qemu-system-arm command lines embedded test runners use, and run the firmware on armlet
//! with the same exit-status semantics.

use anyhow::{bail, Context as _};
use armlet_machine::Board;

/// The options understood, for `--help` and error messages.
pub const SUPPORTED: &str = "\
\x20 -machine/-M [type=]NAME[,accel=tcg][,usb=off|graphics=off|dump-guest-core=off|mem-merge=off]
                           board (see `armlet machines`); `-M help` lists them
  -accel tcg               accepted (armlet is an emulator; kvm/hvf/xen are refused)
  -cpu NAME                the board's core (cortex-m3 for mps2-an385; lm3s6965evb takes
                           cortex-m3/m4/m7, as QEMU); `-cpu help` lists them
  -kernel FILE             the firmware: an ELF, or a raw image loaded at address 0
  -device loader,file=FILE[,addr=ADDR][,cpu-num=N][,force-raw=on]
                           load an ELF (or a raw image at ADDR); with cpu-num the core starts
                           at the ELF's entry point (or at ADDR), as QEMU's generic loader
  -m SIZE                  accepted; the board's memory map is fixed
  -nographic, -display none, -vga none, -net none, -nic none, -nodefaults
  -semihosting             enable semihosting (file access confined to the current directory)
  -semihosting-config enable=on|off,target=native|auto[,arg=A]...[,chardev=ID][,userspace=on]
  -chardev stdio|null,id=ID[,mux=on|off][,signal=on|off], file|pipe,id=ID,path=PATH,
           socket,id=ID,host=H,port=P[,server=on|off][,wait=on|off]  (TCP client by default)
                           stdio or /dev/stdout for semihosting; any for -serial chardev:ID
  -serial stdio|null|none|mon:stdio|chardev:ID|file:PATH|pipe:PATH|tcp:[HOST]:PORT[,server[,nowait]]
                           (tcp: without server connects to HOST:PORT, as QEMU)
                           one per UART, in order (the first is the console UART)
  -monitor none|null, -mon chardev=ID[,mode=readline]   accepted (there is no monitor)
  -icount ...              accepted (armlet always counts instructions)
  -d ITEMS, -D FILE        accepted (use -v/RUST_LOG for armlet's logs)
  -no-reboot, -no-shutdown accepted
  -pidfile FILE            the process id is written to FILE (removed at exit)
  -gdb tcp:[HOST]:PORT     GDB server (armlet run --gdb; 127.0.0.1 unless HOST is given)
  -s                       GDB server on port 1234 (-gdb tcp::1234)
  -S                       halted at the reset vector until the debugger continues (--wait)
  -rtc [base=utc|localtime|DATE][,clock=host|rt|vm][,driftfix=none|slew]
                           where semihosting SYS_TIME starts (armlet run --epoch): utc = the
                           host's time, DATE = 2006-06-17[T16:01:21]; then virtual time.
                           Without it: the fixed 2026-01-01T00:00:00Z (reproducible)
  -version, --version      print the version (first line as QEMU's, naming armlet)
  -help, -h                this list";

/// The cores armlet emulates, as `-cpu help` lists them.
pub const CPUS: [&str; 3] = ["cortex-m3", "cortex-m4", "cortex-m7"];

/// Boards on which QEMU takes any M-profile `-cpu` (the MPS2 images fix theirs): Rust's
/// cargo runners pass `-cpu cortex-m4 -machine lm3s6965evb` for thumbv7em targets.
const ANY_CPU: [&str; 1] = ["lm3s6965evb"];

/// The cores `-cpu` may name on board `b`.
fn cpus_for(b: &Board) -> Vec<&'static str> {
    if ANY_CPU.contains(&b.name.as_str()) {
        CPUS.to_vec()
    } else {
        vec![b.cpu.name()]
    }
}

/// One image to load: `-kernel FILE` or `-device loader,file=FILE,...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Load {
    /// The file.
    pub file: String,
    /// `addr=`: where a raw image goes (QEMU's default: 0).
    pub addr: u32,
    /// `force-raw=on`: load the file as raw bytes even if it is an ELF.
    pub force_raw: bool,
    /// `cpu-num=`: start the core at the ELF's entry point (or at `addr` for a raw image)
    /// instead of the vector table's reset vector, as QEMU's generic loader does.
    pub set_pc: bool,
}

/// What a QEMU command line asks for.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct QemuRun {
    /// Board name.
    pub machine: Option<String>,
    /// Firmware (`-kernel`).
    pub kernel: Option<String>,
    /// `-device loader` images, in order (after the kernel).
    pub loaders: Vec<Load>,
    /// Semihosting enabled.
    pub semihosting: bool,
    /// `arg=` values of -semihosting-config, in order.
    pub args: Vec<String>,
    /// `-M help` was given.
    pub list_machines: bool,
    /// `-cpu help` was given.
    pub list_cpus: bool,
    /// `-version` was given.
    pub version: bool,
    /// `-serial` backends, in UART order (`armlet run --serial` syntax).
    pub serial: Vec<String>,
    /// `-gdb`/`-s`: the GDB server address (`armlet run --gdb` syntax).
    pub gdb: Option<String>,
    /// `-S`: start halted, waiting for the debugger.
    pub wait: bool,
    /// `-rtc base=...`: the epoch (`armlet run --epoch` syntax).
    pub epoch: Option<String>,
    /// `-pidfile FILE`.
    pub pidfile: Option<String>,
    /// `-cpu NAME` where it replaces the board's core (`-M lm3s6965evb -cpu cortex-m4`).
    pub cpu: Option<String>,
}

impl QemuRun {
    /// Everything to load, in QEMU's order: the kernel, then each loader.
    pub fn loads(&self) -> Vec<Load> {
        let kernel = self.kernel.iter().map(|k| Load {
            file: k.clone(),
            addr: 0,
            force_raw: false,
            set_pc: false,
        });
        kernel.chain(self.loaders.iter().cloned()).collect()
    }
}

fn unsupported(opt: &str, why: &str) -> anyhow::Error {
    anyhow::anyhow!("qemu option '{opt}' is not supported{why}\nsupported options:\n{SUPPORTED}")
}

/// Split a QEMU option string (`a,b=c,d=e,,f`) at commas; `,,` is a literal comma.
pub fn split_opts(s: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ',' {
            if chars.peek() == Some(&',') {
                chars.next();
                out.last_mut().expect("never empty").push(',');
            } else {
                out.push(String::new());
            }
        } else {
            out.last_mut().expect("never empty").push(c);
        }
    }
    out
}

/// QEMU's boolean option values.
fn on_off(opt: &str, v: &str) -> anyhow::Result<bool> {
    match v {
        "on" | "yes" | "true" | "" => Ok(true),
        "off" | "no" | "false" => Ok(false),
        _ => bail!("{opt}: '{v}' is not on or off"),
    }
}

/// A number as QEMU takes it: decimal, 0x hex or 0 octal.
fn number(opt: &str, v: &str) -> anyhow::Result<u64> {
    let r = if let Some(h) = v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        u64::from_str_radix(h, 16)
    } else if v.len() > 1 && v.starts_with('0') {
        u64::from_str_radix(&v[1..], 8)
    } else {
        v.parse()
    };
    r.map_err(|_| anyhow::anyhow!("{opt}: '{v}' is not a number"))
}

/// `-device loader,...` (the only device a QEMU command line can add to these boards).
fn parse_loader(v: &str) -> anyhow::Result<Load> {
    let opts = split_opts(v);
    let mut file = None;
    let mut addr = None;
    let mut force_raw = false;
    let mut cpu_num = None;
    for kv in &opts[1..] {
        let (k, val) = kv.split_once('=').unwrap_or((kv, ""));
        let what = format!("-device loader,{k}");
        match k {
            "file" => file = Some(val.to_string()),
            "addr" => {
                let a = number(&what, val)?;
                addr = Some(
                    u32::try_from(a).map_err(|_| anyhow::anyhow!("{what}: {val} is past 4 GiB"))?,
                );
            }
            "cpu-num" => cpu_num = Some(number(&what, val)?),
            "force-raw" => force_raw = on_off(&what, val)?,
            "id" => {}
            "data" | "data-len" | "data-be" => {
                return Err(unsupported(
                    &what,
                    ": armlet's loader loads files (file=...), not values",
                ))
            }
            _ => return Err(unsupported(&what, "")),
        }
    }
    let file = file.ok_or_else(|| {
        anyhow::anyhow!("-device loader: file=FILE is missing (setting values is not supported)")
    })?;
    if let Some(n) = cpu_num.filter(|&n| n != 0) {
        bail!("-device loader,cpu-num={n}: the board has one core (cpu-num=0)");
    }
    Ok(Load {
        file,
        addr: addr.unwrap_or(0),
        force_raw,
        set_pc: cpu_num.is_some(),
    })
}

/// A `-chardev`: what it is, for `-serial chardev:ID` and `-semihosting-config chardev=ID`.
#[derive(Debug, Clone)]
enum Chardev {
    Stdio,
    Null,
    File(String),
    Pipe(String),
    /// An `armlet run --serial` TCP spec (server or client).
    Tcp(String),
}

/// `-chardev socket,id=ID,host=H,port=P[,server=on|off][,wait=on|off][,telnet=off]...`:
/// a TCP server (`server=on`) or client (the default, as defmt's qemu-run uses it).
fn parse_socket(v: &str) -> anyhow::Result<(String, Chardev)> {
    let (mut id, mut host, mut port) = (None, None, None);
    let (mut server, mut wait) = (false, None);
    for kv in &split_opts(v)[1..] {
        let (k, val) = kv.split_once('=').unwrap_or((kv, ""));
        let what = format!("-chardev socket,{k}");
        match k {
            "id" => id = Some(val.to_string()),
            "host" => host = Some(val.to_string()),
            "port" => port = Some(val.to_string()),
            "server" => server = on_off(&what, val)?,
            "wait" => wait = Some(on_off(&what, val)?),
            "nowait" => wait = Some(false),
            "nodelay" | "ipv4" | "ipv6" => {
                on_off(&what, val)?;
            }
            "telnet" | "tn3270" | "websocket" | "reconnect" if !on_off(&what, val)? => {}
            _ => {
                return Err(unsupported(
                    &format!("-chardev socket,{kv}"),
                    " (TCP sockets take id=, host=, port=, server=, wait=, nodelay=)",
                ))
            }
        }
    }
    let id = id.with_context(|| format!("-chardev {v}: id=ID is missing"))?;
    let port = port.with_context(|| {
        format!("-chardev {v}: port=PORT is missing (unix sockets are not supported)")
    })?;
    let spec = if server {
        let host = host.unwrap_or_default();
        let wait = if wait.unwrap_or(true) {
            "wait"
        } else {
            "nowait"
        };
        format!("tcp:{host}:{port},server,{wait}")
    } else {
        format!(
            "tcp-client:{}:{port}",
            host.as_deref().unwrap_or("localhost")
        )
    };
    armlet_machine::serial::SerialSpec::parse(&spec)
        .map_err(|e| anyhow::anyhow!("-chardev {v}: {e}"))?;
    Ok((id, Chardev::Tcp(spec)))
}

fn parse_chardev(v: &str) -> anyhow::Result<(String, Chardev)> {
    let opts = split_opts(v);
    let backend = opts[0].as_str();
    if backend == "socket" {
        return parse_socket(v);
    }
    let mut id = None;
    let mut path = None;
    for kv in &opts[1..] {
        let (k, val) = kv.split_once('=').unwrap_or((kv, ""));
        match k {
            "id" => id = Some(val.to_string()),
            "path" if matches!(backend, "file" | "pipe") => path = Some(val.to_string()),
            // Multiplexing and Ctrl-C handling change nothing without a monitor.
            "mux" | "signal" => {
                on_off(&format!("-chardev {backend},{k}"), val)?;
            }
            "append" if backend == "file" => {}
            _ => return Err(unsupported(
                &format!("-chardev {backend},{kv}"),
                " (stdio and null take id=, mux= and signal=; file and pipe take id= and path=)",
            )),
        }
    }
    let id = id.with_context(|| format!("-chardev {v}: id=ID is missing"))?;
    let dev = match backend {
        "stdio" => Chardev::Stdio,
        "null" => Chardev::Null,
        "file" => match path {
            Some(p) if matches!(p.as_str(), "/dev/stdout" | "/dev/fd/1") => Chardev::Stdio,
            Some(p) => Chardev::File(p),
            None => bail!("-chardev {v}: path=PATH is missing"),
        },
        "pipe" => {
            Chardev::Pipe(path.with_context(|| format!("-chardev {v}: path=PATH is missing"))?)
        }
        other => {
            return Err(unsupported(
                &format!("-chardev {other}"),
                ": chardevs are stdio, null, file, pipe or socket (TCP)",
            ))
        }
    };
    Ok((id, dev))
}

/// A `pipe:PATH` must exist (QEMU does not create it): `PATH.in` and `PATH.out`, or `PATH`.
fn check_pipe(p: &str) -> anyhow::Result<()> {
    let (i, o) = armlet_machine::serial::PipeSerial::paths(std::path::Path::new(p));
    if !i.exists() || !o.exists() {
        bail!(
            "-serial pipe:{p}: neither {p}.in and {p}.out nor {p} exist (create them with mkfifo)"
        );
    }
    Ok(())
}

/// `-machine [type=]NAME[,opt=val...]`: the name (if given), after checking the options.
fn parse_machine(v: &str, r: &mut QemuRun) -> anyhow::Result<()> {
    for (i, kv) in split_opts(v).iter().enumerate() {
        let (k, val) = match kv.split_once('=') {
            Some((k, val)) => (k, val),
            None if i == 0 => ("type", kv.as_str()),
            None => (kv.as_str(), ""),
        };
        let what = format!("-machine {k}={val}");
        match k {
            "type" if matches!(val, "help" | "?") => r.list_machines = true,
            "type" => r.machine = Some(val.to_string()),
            "accel" => accel(val)?,
            // No USB, no graphics, no guest core dumps, no KSM: nothing to change.
            "usb" | "graphics" | "dump-guest-core" | "mem-merge" | "suppress-vmdesc" => {
                on_off(&what, val)?;
            }
            "kernel" => r.kernel = Some(val.to_string()),
            _ => return Err(unsupported(&format!("-machine {kv}"), "")),
        }
    }
    Ok(())
}

/// `accel=` / `-accel`: armlet is an emulator, as QEMU's TCG.
fn accel(v: &str) -> anyhow::Result<()> {
    let first = split_opts(v).remove(0);
    if first.split(':').any(|a| a == "tcg") {
        return Ok(());
    }
    Err(unsupported(
        &format!("accel={first}"),
        ": armlet is an emulator (accel=tcg)",
    ))
}

/// Parse a qemu-system-arm argument list.
pub fn parse(args: &[String]) -> anyhow::Result<QemuRun> {
    let mut r = QemuRun::default();
    let mut cpu: Option<String> = None;
    let mut chardevs: Vec<(String, Chardev)> = Vec::new();
    let mut semi_chardev: Option<String> = None;
    let mut serial_chardevs: Vec<(usize, String)> = Vec::new();
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
            "-machine" | "-M" => parse_machine(&value(&opt)?, &mut r)?,
            "-accel" => accel(&value(&opt)?)?,
            "-cpu" => {
                let v = value(&opt)?;
                let name = split_opts(&v).remove(0);
                if matches!(name.as_str(), "help" | "?") {
                    r.list_cpus = true;
                } else {
                    cpu = Some(name);
                }
            }
            "-kernel" => r.kernel = Some(value(&opt)?),
            "-device" => {
                let v = value(&opt)?;
                match split_opts(&v)[0].as_str() {
                    "loader" => r.loaders.push(parse_loader(&v)?),
                    d => {
                        return Err(unsupported(
                            &format!("-device {d}"),
                            ": the board's devices are fixed (a machine file adds devices; \
                             -device loader,file=FILE loads an image)",
                        ))
                    }
                }
            }
            "-version" => r.version = true,
            "-pidfile" => r.pidfile = Some(value(&opt)?),
            "-m" | "-icount" | "-d" | "-D" => {
                value(&opt)?;
            }
            "-nographic" | "-no-reboot" | "-no-shutdown" | "-nodefaults" | "-no-user-config" => {}
            "-display" | "-vga" | "-net" | "-nic" => {
                let v = value(&opt)?;
                if v != "none" {
                    return Err(unsupported(
                        &format!("{opt} {v}"),
                        ": armlet is headless and has no network (only `none`)",
                    ));
                }
            }
            "-semihosting" => r.semihosting = true,
            "-semihosting-config" => {
                for kv in split_opts(&value(&opt)?) {
                    let (k, v) = kv.split_once('=').unwrap_or((&kv, ""));
                    match k {
                        "enable" => r.semihosting = on_off("-semihosting-config enable", v)?,
                        "on" => r.semihosting = true,
                        "target" if matches!(v, "native" | "auto") => {}
                        "target" => {
                            return Err(unsupported(&format!("-semihosting-config target={v}"), ""))
                        }
                        "arg" => r.args.push(v.to_string()),
                        "chardev" => semi_chardev = Some(v.to_string()),
                        "userspace" => {}
                        _ => return Err(unsupported(&format!("-semihosting-config {kv}"), "")),
                    }
                }
            }
            "-chardev" => {
                let (id, dev) = parse_chardev(&value(&opt)?)?;
                chardevs.retain(|(i, _)| *i != id);
                chardevs.push((id, dev));
            }
            "-serial" => {
                let v = value(&opt)?;
                let spec = match v.as_str() {
                    "none" | "null" => "null".to_string(),
                    "stdio" | "mon:stdio" => "stdio".to_string(),
                    // QEMU connects to HOST:PORT unless told to be the server.
                    c if c.starts_with("tcp:")
                        && !c.split(',').any(|o| matches!(o, "server" | "server=on")) =>
                    {
                        let mut parts = c["tcp:".len()..].split(',');
                        let addr = parts.next().unwrap_or_default();
                        if let Some(o) = parts.find(|o| !matches!(*o, "nodelay" | "nodelay=on")) {
                            return Err(unsupported(
                                &format!("-serial {c}"),
                                &format!(": option '{o}'"),
                            ));
                        }
                        match addr.rsplit_once(':') {
                            Some(("", port)) => format!("tcp-client:localhost:{port}"),
                            _ => format!("tcp-client:{addr}"),
                        }
                    }
                    c if c.starts_with("chardev:") => {
                        serial_chardevs.push((r.serial.len(), c["chardev:".len()..].to_string()));
                        "null".to_string()
                    }
                    other => other.to_string(),
                };
                armlet_machine::serial::SerialSpec::parse(&spec)
                    .map_err(|e| unsupported(&format!("-serial {v}"), &format!(": {e}")))?;
                if let Some(p) = spec.strip_prefix("pipe:") {
                    check_pipe(p)?;
                }
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
            // A monitor on a (muxed) chardev: there is no monitor, so nothing to attach.
            "-mon" => {
                value(&opt)?;
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
            "-rtc" => {
                let v = value(&opt)?;
                for kv in v.split(',') {
                    let (k, val) = kv.split_once('=').unwrap_or(("base", kv));
                    match (k, val) {
                        // As QEMU: `utc` is the host's clock, `localtime` the host's local
                        // time; armlet then advances it with virtual time.
                        ("base", "utc") => r.epoch = Some("now".into()),
                        ("base", "localtime") => {
                            r.epoch = Some(crate::epoch::Epoch::NowLocal.seconds().to_string())
                        }
                        ("base", date) => {
                            crate::epoch::Epoch::parse(date)
                                .map_err(|e| anyhow::anyhow!("-rtc base={date}: {e}"))?;
                            r.epoch = Some(date.to_string());
                        }
                        // Armlet's clock always follows virtual time (QEMU's clock=vm).
                        ("clock", "host" | "rt" | "vm") | ("driftfix", "none" | "slew") => {}
                        _ => return Err(unsupported(&format!("-rtc {kv}"), "")),
                    }
                }
            }
            "-append" | "-initrd" | "-dtb" => {
                return Err(unsupported(
                    &opt,
                    ": Cortex-M firmware has no kernel command line, initrd or device tree",
                ));
            }
            "-enable-kvm" => return Err(unsupported(&opt, ": armlet is an emulator (accel=tcg)")),
            o if o.starts_with('-') => return Err(unsupported(o, "")),
            other => {
                return Err(unsupported(
                    other,
                    ": disk images are not supported (use -kernel FILE)",
                ))
            }
        }
    }
    let chardev = |id: &str, user: &str| -> anyhow::Result<Chardev> {
        chardevs
            .iter()
            .find(|(i, _)| i == id)
            .map(|(_, d)| d.clone())
            .with_context(|| {
                format!("{user}: chardev '{id}' is not defined (-chardev ...,id={id})")
            })
    };
    for (uart, id) in serial_chardevs {
        r.serial[uart] = match chardev(&id, &format!("-serial chardev:{id}"))? {
            Chardev::Stdio => "stdio".into(),
            Chardev::Null => "null".into(),
            Chardev::File(p) => format!("file:{p}"),
            Chardev::Pipe(p) => {
                check_pipe(&p)?;
                format!("pipe:{p}")
            }
            Chardev::Tcp(spec) => spec,
        };
    }
    if let Some(id) = semi_chardev {
        match chardev(&id, &format!("-semihosting-config chardev={id}"))? {
            Chardev::Stdio => {}
            Chardev::Null | Chardev::File(_) | Chardev::Pipe(_) | Chardev::Tcp(_) => {
                return Err(unsupported(
                    &format!("-semihosting-config chardev={id}"),
                    ": semihosting output goes to stdout (a stdio chardev, or a file chardev on /dev/stdout)",
                ))
            }
        }
    }
    if r.wait && r.gdb.is_none() {
        bail!("-S without -gdb or -s: the core would wait for a debugger that cannot connect");
    }
    if let Some(c) = &cpu {
        match &r.machine {
            Some(m) => {
                if let Some(b) = Board::by_name(m) {
                    let ok = cpus_for(&b);
                    if !ok.contains(&c.as_str()) {
                        bail!(
                            "-cpu {c}: machine {m} takes {} (it has a {})",
                            ok.join(", "),
                            b.cpu.name()
                        );
                    }
                    if c != b.cpu.name() {
                        r.cpu = Some(c.clone());
                    }
                }
            }
            None if !CPUS.contains(&c.as_str()) => {
                bail!("-cpu {c}: armlet emulates {}", CPUS.join(", "))
            }
            None => {}
        }
    }
    Ok(r)
}

/// `-machine help` in QEMU's format (`^NAME ` matches a machine).
pub fn machine_help() -> String {
    let mut s = String::from("Supported machines are:\n");
    for b in Board::builtin() {
        s.push_str(&format!("{:<20} {}\n", b.name, b.description));
    }
    s
}

/// `-cpu help` in QEMU's format; with `-machine`, only the cores that machine accepts.
pub fn cpu_help(machine: Option<&str>) -> anyhow::Result<String> {
    let cpus: Vec<String> = match machine {
        Some(m) => {
            let b = Board::by_name(m).with_context(|| Board::unknown_machine(m))?;
            cpus_for(&b).into_iter().map(String::from).collect()
        }
        None => CPUS.iter().map(|c| c.to_string()).collect(),
    };
    let mut s = String::from("Available CPUs:\n");
    for c in cpus {
        s.push_str(&format!("  {c}\n"));
    }
    Ok(s)
}

/// `-version`: QEMU's first line (scripts parse the version from it), naming armlet.
pub fn version() -> String {
    format!(
        "QEMU emulator version 7.2.0 (armlet {})\n\
         armlet runs qemu-system-arm command lines for the Cortex-M boards mps2-an385, \
         mps2-an386, mps2-an500 and lm3s6965evb\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// The `armlet run` arguments for a parsed QEMU command line. The first image to load is
/// the firmware argument; `run` loads them all (see [`QemuRun::loads`]).
pub fn to_run_args(q: &QemuRun) -> anyhow::Result<Vec<String>> {
    let kernel = q
        .loads()
        .first()
        .map(|l| l.file.clone())
        .context("no firmware given: use -kernel FILE or -device loader,file=FILE")?;
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
    if let Some(e) = &q.epoch {
        v.push("--epoch".into());
        v.push(e.clone());
    }
    if q.semihosting {
        // QEMU resolves semihosting file names in the current directory; armlet does the same
        // but keeps them there (no absolute paths, no `..`), unless ARMLET_SEMIHOSTING_ROOT
        // names another directory.
        if std::env::var_os("ARMLET_SEMIHOSTING_ROOT").is_none_or(|r| r.is_empty()) {
            v.push("--semihosting-root".into());
            v.push(".".into());
        }
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
    fn rtc_sets_the_epoch() {
        let epoch = |line: &str| {
            let r = p(&format!("-M mps2-an385 -kernel x {line}")).unwrap();
            let args = to_run_args(&r).unwrap();
            args.iter()
                .position(|a| a == "--epoch")
                .map(|i| args[i + 1].clone())
        };
        assert_eq!(epoch(""), None, "the default epoch");
        assert_eq!(epoch("-rtc base=utc").as_deref(), Some("now"));
        assert_eq!(epoch("-rtc base=utc,clock=host").as_deref(), Some("now"));
        assert_eq!(
            epoch("-rtc base=2006-06-17T16:01:21,clock=vm,driftfix=slew").as_deref(),
            Some("2006-06-17T16:01:21")
        );
        assert_eq!(epoch("-rtc base=2006-06-17").as_deref(), Some("2006-06-17"));
        assert_eq!(epoch("-rtc clock=vm"), None);
        let host = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let local: u64 = epoch("-rtc base=localtime").unwrap().parse().unwrap();
        assert!(local.abs_diff(host) <= 14 * 3600 + 60, "{local} vs {host}");
        for (bad, why) in [
            ("-rtc base=yesterday", "expected `now`"),
            ("-rtc base=2006-13-01", "month 13 is out of range"),
        ] {
            let e = p(&format!("-M mps2-an385 {bad}")).unwrap_err().to_string();
            assert!(e.contains(why) && e.contains(bad), "{bad}: {e}");
        }
        for bad in ["-rtc clock=wall", "-rtc driftfix=fast", "-rtc bogus=1"] {
            let e = p(&format!("-M mps2-an385 {bad}")).unwrap_err().to_string();
            assert!(e.contains("not supported"), "{bad}: {e}");
        }
    }

    #[test]
    fn picolibc_run_arm_line() {
        let line = [
            "-chardev",
            "stdio,mux=on,id=stdio0",
            "-semihosting-config",
            "enable=on,chardev=stdio0,arg=program-name one two",
            "-monitor",
            "none",
            "-serial",
            "none",
            "-machine",
            "mps2-an385,accel=tcg",
            "-cpu",
            "cortex-m3",
            "-device",
            "loader,file=t.elf,cpu-num=0",
            "-nographic",
        ];
        let r = parse(&line.map(String::from)).unwrap();
        assert_eq!(r.machine.as_deref(), Some("mps2-an385"));
        assert_eq!(r.args, vec!["program-name one two"]);
        assert_eq!(
            r.loads(),
            vec![Load {
                file: "t.elf".into(),
                addr: 0,
                force_raw: false,
                set_pc: true
            }]
        );
        assert_eq!(r.serial, vec!["null"]);
        assert_eq!(to_run_args(&r).unwrap()[0], "t.elf");
    }

    #[test]
    fn qemu_option_syntax() {
        assert_eq!(split_opts("a,b=c,,d,e"), vec!["a", "b=c,d", "e"]);
        let l = parse_loader("loader,file=x.bin,addr=0x20000000,force-raw=on").unwrap();
        assert_eq!((l.addr, l.force_raw, l.set_pc), (0x2000_0000, true, false));
        assert_eq!(parse_loader("loader,file=x,addr=010").unwrap().addr, 8);
        assert!(parse_loader("loader,file=x,addr=0x100000000").is_err());
        let r = p("-M type=lm3s6965evb,accel=kvm:tcg -machine usb=off").unwrap();
        assert_eq!(r.machine.as_deref(), Some("lm3s6965evb"));
        assert!(p("-M mps2-an385,graphics=maybe").is_err());
        let r =
            p("-chardev file,id=f,path=/tmp/u.txt -serial chardev:f -serial chardev:f").unwrap();
        assert_eq!(r.serial, vec!["file:/tmp/u.txt", "file:/tmp/u.txt"]);
        assert!(p("-cpu help").unwrap().list_cpus);
        assert!(p("-M ?").unwrap().list_machines);
        assert!(p("-cpu cortex-a9").is_err());
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
        assert!(p("-M mps2-an385 -cpu cortex-m4").is_err());
        assert!(p("-M lm3s6965evb -cpu cortex-m0").is_err());
        let r = p("-cpu cortex-m4 -M lm3s6965evb").unwrap();
        assert_eq!(r.cpu.as_deref(), Some("cortex-m4"));
        assert_eq!(p("-cpu cortex-m3 -M lm3s6965evb").unwrap().cpu, None);
    }
}
