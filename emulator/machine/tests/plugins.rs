//! The plugin host at the FFI level: example plugins (built here) instantiated directly and
//! driven through the machine's `Device` trait with a bare `IoState`: snapshot hooks through
//! the ABI, `wake` from a plugin thread, GPIO inputs, access checks before the plugin runs,
//! timers in virtual time, DMA, a failed instance, and `Machine::new` building plugin
//! devices from `MachineOptions::plugins`.

use armlet_cpu::BusError;
use armlet_machine::device::{Device, DeviceCtx, Dma};
use armlet_machine::io::IoState;
use armlet_machine::plugin::{self, PluginDevice};
use armlet_machine::{Board, Machine, MachineOptions};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// target/<profile> (this test runs from target/<profile>/deps).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("profile dir")
        .to_path_buf()
}

fn run_ok(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Build the example plugins once and return the path of `name` ("gpio", "crc", ...).
fn lib(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    let dir = profile_dir();
    BUILT.get_or_init(|| {
        let mut cargo = Command::new(env!("CARGO"));
        cargo.current_dir(root()).args(["build", "-q"]);
        for p in ["gpio", "timer", "dma", "testkit"] {
            cargo.arg("-p").arg(format!("armlet-plugin-{p}"));
        }
        if dir.ends_with("release") {
            cargo.arg("--release");
        }
        run_ok(&mut cargo, "cargo build of the plugins");
        run_ok(
            Command::new("make")
                .arg("-s")
                .arg("-C")
                .arg(root().join("device-plugins/examples/crc"))
                .arg(format!("O={}", dir.join("c-plugins").display())),
            "make of the C plugin",
        );
    });
    match name {
        "crc" => dir.join("c-plugins/libarmlet_plugin_crc.so"),
        n => dir.join(format!("libarmlet_plugin_{n}.so")),
    }
}

fn instance(lib_name: &str, ty: &str, params: &str) -> PluginDevice {
    let lib = plugin::load(&lib(lib_name)).expect("load");
    let t = lib.find(ty).expect("type");
    let params: toml::Table = toml::from_str(params).expect("params");
    PluginDevice::new(lib, t, "dut", &params, 25_000_000).expect("create")
}

const IRQ_LINE: u32 = 7;

/// Virtual time, events and an NVIC for one device (id 0, IRQ output 0 on line 7).
struct Bench {
    io: IoState,
    irqs: Vec<u32>,
}

impl Bench {
    fn new() -> Self {
        Bench {
            io: IoState::new(25_000_000, 32, 3),
            irqs: vec![IRQ_LINE],
        }
    }
    fn ctx(&mut self) -> DeviceCtx<'_> {
        DeviceCtx::new(&mut self.io, 0, &self.irqs)
    }
    fn irq(&self) -> bool {
        self.io.nvic.line_level(IRQ_LINE as usize)
    }
    fn rd(&mut self, d: &mut PluginDevice, off: u32) -> u32 {
        d.read(off, 4, &mut self.ctx()).expect("read")
    }
    fn wr(&mut self, d: &mut PluginDevice, off: u32, v: u32) {
        d.write(off, 4, v, &mut self.ctx()).expect("write")
    }
}

/// (plugin, type, params, registers to compare, writes before saving).
type SnapshotCase = (
    &'static str,
    &'static str,
    &'static str,
    &'static [u32],
    &'static [(u32, u32)],
);

#[test]
fn snapshots_round_trip_through_the_abi() {
    let mut b = Bench::new();
    // (plugin, type, params, registers to compare, writes before saving)
    let cases: &[SnapshotCase] = &[
        (
            "gpio",
            "gpio-leds",
            "",
            &[0x00, 0x10, 0x1c],
            &[(0x04, 0x0f), (0x08, 0x02), (0x1c, 0x3)],
        ),
        (
            "timer",
            "periodic-timer",
            "",
            &[0x00, 0x04, 0x0c],
            &[(0x04, 77), (0x00, 1)],
        ),
        (
            "dma",
            "dma-engine",
            "",
            &[0x00, 0x04, 0x08],
            &[(0x00, 0x1234), (0x04, 0x5678), (0x08, 9)],
        ),
        (
            "crc",
            "crc32",
            "",
            &[0x04, 0x0c, 0x10],
            &[(0x0c, 0), (0x08, 1), (0x00, 0x3433_3231)],
        ),
    ];
    for (lib, ty, params, regs, writes) in cases {
        let mut a = instance(lib, ty, params);
        a.reset(&mut b.ctx());
        for &(off, v) in *writes {
            b.wr(&mut a, off, v);
        }
        let (version, bytes) = a.save().unwrap_or_else(|e| panic!("{ty}: {e}"));
        assert_eq!(version, 1, "{ty}");
        assert!(!bytes.is_empty(), "{ty}");
        let mut c = instance(lib, ty, params);
        c.reset(&mut b.ctx());
        c.restore(version, &bytes)
            .unwrap_or_else(|e| panic!("{ty}: {e}"));
        for &r in *regs {
            assert_eq!(c.peek(r, 4), a.peek(r, 4), "{ty}: register {r:#x}");
            assert!(a.peek(r, 4).is_some(), "{ty}: {r:#x} peekable");
        }
        let e = c.restore(99, &bytes).unwrap_err();
        assert!(e.contains("state version 99"), "{ty}: {e}");
        assert!(c.restore(1, &bytes[1..]).is_err(), "{ty}: truncated blob");
    }
    // A type that cannot snapshot says so.
    let mut f = instance("testkit", "faulty", "label = \"x\"");
    assert!(f.save().unwrap_err().contains("cannot snapshot"));
    assert!(f.restore(1, &[]).unwrap_err().contains("cannot snapshot"));
}

#[test]
fn wake_from_a_plugin_thread_is_delivered_before_the_next_callback() {
    let mut b = Bench::new();
    let mut d = instance("testkit", "waker", "");
    d.reset(&mut b.ctx());
    assert_eq!(b.rd(&mut d, 0x4), 0, "no wake yet");
    b.wr(&mut d, 0x0, 1); // the plugin starts a thread that calls wake
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while b.rd(&mut d, 0x8) == 0 {
        assert!(std::time::Instant::now() < deadline, "worker never ran");
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    // The worker has called wake; the host delivers it on the emulator thread before the
    // next callback (this read), exactly once.
    assert_eq!(b.rd(&mut d, 0x4), 1);
    assert_eq!(b.rd(&mut d, 0x4), 1);
    // A wake is delivered before a timer callback too.
    b.wr(&mut d, 0x0, 1);
    while b.rd(&mut d, 0x8) == 0 {}
    std::thread::sleep(std::time::Duration::from_millis(5));
    d.event(42, &mut b.ctx());
    assert_eq!(b.rd(&mut d, 0x4), 2);
}

#[test]
fn gpio_inputs_drive_the_irq_line() {
    let mut b = Bench::new();
    let mut d = instance("gpio", "gpio-leds", "");
    d.reset(&mut b.ctx());
    assert_eq!(d.type_info().gpio_inputs.len(), 4);
    b.wr(&mut d, 0x1c, 0b0010); // INTEN: button1
    d.gpio_in(0, true, &mut b.ctx()).unwrap();
    assert!(!b.irq(), "button0 is not enabled");
    d.gpio_in(1, true, &mut b.ctx()).unwrap();
    assert!(b.irq(), "rising edge of button1");
    assert_eq!(b.rd(&mut d, 0x18), 0b0011, "IN");
    assert_eq!(b.rd(&mut d, 0x20), 0b0011, "INTSTAT");
    b.wr(&mut d, 0x20, 0b0010);
    assert!(!b.irq(), "cleared");
    assert!(d.gpio_in(4, true, &mut b.ctx()).is_err(), "no input 4");
}

#[test]
fn accesses_are_checked_against_regions_and_sizes_before_the_plugin_runs() {
    let mut b = Bench::new();
    let mut leds = instance("gpio", "gpio-leds", "");
    leds.reset(&mut b.ctx());
    let mut ctx = b.ctx();
    assert_eq!(
        leds.read(0x00, 1, &mut ctx),
        Err(BusError::Denied),
        "word-only"
    );
    assert_eq!(
        leds.write(0x00, 2, 1, &mut ctx),
        Err(BusError::Denied),
        "word-only"
    );
    assert_eq!(
        leds.read(0x02, 4, &mut ctx),
        Err(BusError::Denied),
        "unaligned"
    );
    assert_eq!(
        leds.read(0x40, 4, &mut ctx),
        Err(BusError::Denied),
        "past the region"
    );
    assert_eq!(
        leds.read(0x24, 4, &mut ctx),
        Err(BusError::Denied),
        "plugin: no register"
    );
    assert_eq!(leds.read(0x14, 4, &mut ctx), Ok(8), "still fine");
    let mut crc = instance("crc", "crc32", "");
    crc.reset(&mut b.ctx());
    let mut ctx = b.ctx();
    for &c in b"123456789" {
        crc.write(0, 1, u32::from(c), &mut ctx).unwrap();
    }
    assert_eq!(crc.read(4, 4, &mut ctx), Ok(0xCBF4_3926));
    assert_eq!(
        crc.read(4, 2, &mut ctx),
        Ok(0x3926),
        "narrow reads are masked"
    );
    assert_eq!(crc.read(0x14, 4, &mut ctx), Err(BusError::Denied));
    // Debug peeks have no side effects and need no context.
    assert_eq!(crc.peek(0x10, 4), Some(9));
    assert_eq!(crc.peek(0x10, 4), Some(9));
}

#[test]
fn timers_fire_in_virtual_time() {
    let mut b = Bench::new();
    let mut t = instance("timer", "periodic-timer", "tick_hz = 1000");
    t.reset(&mut b.ctx());
    b.io.icount = 1000;
    b.wr(&mut t, 0x04, 2); // 2 ms at 25 MHz: 50_000 cycles
    b.wr(&mut t, 0x00, 3); // EN | IRQEN
    assert_eq!(b.io.events.next_due(), Some(51_000));
    assert!(!b.irq());
    b.io.icount = 51_000;
    let (_, owner, token) = b.io.events.pop_due(51_000).expect("due");
    let _ = owner;
    t.event(token, &mut b.ctx());
    assert!(b.irq(), "expired");
    assert_eq!(b.rd(&mut t, 0x10), 51_000, "LAST_LO");
    assert_eq!(b.rd(&mut t, 0x0c), 1, "COUNT");
    assert_eq!(b.io.events.next_due(), Some(101_000), "next period");
    b.wr(&mut t, 0x08, 1);
    assert!(!b.irq(), "STATUS cleared");
    b.wr(&mut t, 0x00, 0);
    assert_eq!(b.io.events.next_due(), None, "disabled: no event");
}

/// 64 KiB of guest RAM at 0x2000_0000 for DMA.
struct Ram(Vec<u8>);

impl Dma for Ram {
    fn dma_read(&mut self, addr: u32, buf: &mut [u8]) -> Result<(), BusError> {
        let off = addr.checked_sub(0x2000_0000).ok_or(BusError::Unmapped)? as usize;
        let src = self.0.get(off..off + buf.len()).ok_or(BusError::Unmapped)?;
        buf.copy_from_slice(src);
        Ok(())
    }
    fn dma_write(&mut self, addr: u32, bytes: &[u8]) -> Result<(), BusError> {
        let off = addr.checked_sub(0x2000_0000).ok_or(BusError::Unmapped)? as usize;
        let dst = self
            .0
            .get_mut(off..off + bytes.len())
            .ok_or(BusError::Unmapped)?;
        dst.copy_from_slice(bytes);
        Ok(())
    }
}

#[test]
fn dma_copies_guest_memory_through_the_host() {
    let mut io = IoState::new(25_000_000, 32, 3);
    let irqs = vec![IRQ_LINE];
    let mut ram = Ram((0..65536u32).map(|i| i as u8).collect());
    let mut d = instance("dma", "dma-engine", "cycles_per_byte = 2");
    let wr = |d: &mut PluginDevice, io: &mut IoState, ram: &mut Ram, off, v| {
        d.write(off, 4, v, &mut DeviceCtx::with_dma(io, 0, &irqs, ram))
            .unwrap()
    };
    d.reset(&mut DeviceCtx::with_dma(&mut io, 0, &irqs, &mut ram));
    wr(&mut d, &mut io, &mut ram, 0x00, 0x2000_0010);
    wr(&mut d, &mut io, &mut ram, 0x04, 0x2000_8000);
    wr(&mut d, &mut io, &mut ram, 0x08, 100);
    wr(&mut d, &mut io, &mut ram, 0x0c, 3); // START | IRQEN
    assert_eq!(io.events.next_due(), Some(200));
    io.icount = 200;
    let (_, _, token) = io.events.pop_due(200).unwrap();
    d.event(token, &mut DeviceCtx::with_dma(&mut io, 0, &irqs, &mut ram));
    assert_eq!(&ram.0[0x8000..0x8064], &ram.0[0x10..0x74]);
    assert!(io.nvic.line_level(IRQ_LINE as usize));
    assert_eq!(d.peek(0x10, 4), Some(2), "DONE");
    assert_eq!(
        io.dma_writes,
        vec![(0x2000_8000, 100)],
        "the machine hears of the write"
    );
}

#[test]
fn a_failed_instance_lowers_its_irqs_and_every_access_is_a_device_error() {
    let mut b = Bench::new();
    let mut f = instance("testkit", "faulty", "label = \"x\"");
    f.reset(&mut b.ctx());
    b.wr(&mut f, 0x8, 1);
    assert!(b.irq(), "the plugin raised its IRQ");
    assert_eq!(
        f.read(0x4, 4, &mut b.ctx()),
        Err(BusError::Denied),
        "recoverable"
    );
    assert!(!f.is_failed());
    assert_eq!(
        f.write(0x0, 4, 1, &mut b.ctx()),
        Err(BusError::DeviceError),
        "the panic is caught"
    );
    assert!(f.is_failed());
    assert!(!b.irq(), "a failed device drives no IRQ");
    assert_eq!(f.read(0x0, 4, &mut b.ctx()), Err(BusError::DeviceError));
    assert_eq!(f.write(0x8, 4, 1, &mut b.ctx()), Err(BusError::DeviceError));
    assert_eq!(f.peek(0x0, 4), None);
    assert!(!b.irq());
    f.reset(&mut b.ctx());
    assert_eq!(
        f.read(0x0, 4, &mut b.ctx()),
        Err(BusError::DeviceError),
        "stays failed"
    );
}

#[derive(Debug, Default)]
struct Quiet;

impl armlet_machine::semihosting::Console for Quiet {
    fn write_out(&mut self, _: &[u8]) {}
    fn write_err(&mut self, _: &[u8]) {}
    fn read_in(&mut self, _: &mut [u8]) -> usize {
        0
    }
}

#[test]
fn machine_builds_plugin_devices_from_the_plugins_option_and_the_plugin_key() {
    let text = "name = \"t\"\ndescription = \"d\"\ncpu = \"cortex-m3\"\ncpu_hz = 1000\n\
        [[region]]\nname = \"ram\"\nbase = 0x2000_0000\nsize = 0x1000\nkind = \"ram\"\n\
        [[device]]\nname = \"leds\"\ntype = \"gpio-leds\"\nbase = 0x5000_0000\n[device.params]\ncount = 12\n";
    let board = Board::from_toml(text, "t.toml").unwrap();
    let opts = |plugins: Vec<PathBuf>| MachineOptions {
        plugins,
        ..Default::default()
    };
    let e = Machine::new(board.clone(), opts(vec![]), Box::new(Quiet)).unwrap_err();
    assert!(e.to_string().contains("unknown type 'gpio-leds'"), "{e}");
    let m = Machine::new(board.clone(), opts(vec![lib("gpio")]), Box::new(Quiet)).unwrap();
    let mut buf = [0u8; 4];
    m.debug_read(0x5000_0014, &mut buf).unwrap();
    assert_eq!(
        u32::from_le_bytes(buf),
        12,
        "COUNT through the debugger (peek)"
    );
    let mut with_key = board;
    with_key.devices[0].plugin = Some(lib("gpio"));
    let m = Machine::new(with_key, opts(vec![]), Box::new(Quiet)).unwrap();
    m.debug_read(0x5000_0014, &mut buf).unwrap();
    assert_eq!(u32::from_le_bytes(buf), 12);
}

#[test]
fn loading_twice_returns_the_same_library() {
    let a = plugin::load(&lib("crc")).unwrap();
    let b = plugin::load(&lib("crc")).unwrap();
    assert!(std::ptr::eq(a, b));
    assert_eq!(a.abi_version, armlet_plugin::ffi::ABI_VERSION);
    assert_eq!(a.name, "armlet-plugin-crc");
    let t = a.find("crc32").unwrap();
    assert_eq!(t.regions[0].access, 7);
    assert_eq!(t.state_version, 1);
}

#[test]
fn regions_are_laid_out_back_to_back_with_their_own_access_sizes() {
    let mut b = Bench::new();
    let mut d = instance("testkit", "two-regions", "");
    let t = d.type_info();
    assert_eq!((t.regions[1].offset, t.size()), (0x10, 0x18));
    let mut ctx = b.ctx();
    assert_eq!(d.read(0x0c, 4, &mut ctx), Ok(0x0c), "ctrl, offset 0xc");
    assert_eq!(d.read(0x14, 1, &mut ctx), Ok(0x44), "fifo, offset 4");
    assert_eq!(d.read(0x17, 1, &mut ctx), Ok(0x47), "fifo, last byte");
    assert_eq!(
        d.read(0x14, 4, &mut ctx),
        Err(BusError::Denied),
        "fifo is bytes only"
    );
    assert_eq!(
        d.read(0x0c, 1, &mut ctx),
        Err(BusError::Denied),
        "ctrl is words only"
    );
    assert_eq!(
        d.read(0x18, 1, &mut ctx),
        Err(BusError::Denied),
        "past the last region"
    );
}

#[test]
fn a_plugin_wake_reaches_a_core_asleep_with_nothing_scheduled() {
    let text = "name = \"t\"\ndescription = \"d\"\ncpu = \"cortex-m3\"\ncpu_hz = 1000000\n\
        [[region]]\nname = \"code\"\nbase = 0\nsize = 0x1000\nkind = \"ram\"\n\
        [[region]]\nname = \"ram\"\nbase = 0x2000_0000\nsize = 0x1000\nkind = \"ram\"\n\
        [[device]]\nname = \"w\"\ntype = \"waker\"\nbase = 0x5000_0000\n";
    let board = Board::from_toml(text, "t.toml").unwrap();
    let opts = MachineOptions {
        plugins: vec![lib("testkit")],
        ..Default::default()
    };
    let mut m = Machine::new(board, opts, Box::new(Quiet)).unwrap();
    // SP, reset vector; then: ldr r0,=0x50000000; movs r1,#0; str r1,[r0] (the plugin starts
    // a thread that calls wake); ldr r2,=NVIC_ISER0; movs r3,#1; str r3,[r2] (IRQ 0 enabled:
    // a device woken from another thread could drive it, so the sleep is not a deadlock);
    // 1: wfi; b 1b
    let mut code = Vec::new();
    code.extend_from_slice(&0x2000_1000u32.to_le_bytes());
    code.extend_from_slice(&0x0000_0009u32.to_le_bytes());
    for hw in [
        0x4803u16, 0x2100, 0x6001, 0x4a03, 0x2301, 0x6013, 0xbf30, 0xe7fd,
    ] {
        code.extend_from_slice(&hw.to_le_bytes());
    }
    code.extend_from_slice(&0x5000_0000u32.to_le_bytes());
    code.extend_from_slice(&0xe000_e100u32.to_le_bytes());
    m.mem.load(0, &code).unwrap();
    m.reset();
    // Before the worker calls wake nothing is scheduled: the machine must wait for it (and
    // return to its caller between waits), not report a deadlock.
    for _ in 0..25 {
        let exit = m.run(10_000);
        assert_eq!(exit, armlet_machine::Exit::Budget, "asleep, not a deadlock");
    }
    use armlet_cpu::Bus;
    assert_eq!(m.mem.read32(0x5000_0008), Ok(1), "the worker thread ran");
    assert_eq!(
        m.mem.read32(0x5000_0004),
        Ok(1),
        "its wake was delivered once"
    );
}

/// The same sleep with no IRQ line enabled: whatever the plugin's thread does, it can only
/// drive IRQ lines, and none could wake WFI, so this is the deadlock (not a wait forever).
#[test]
fn a_plugin_thread_cannot_wake_a_core_with_no_interrupt_enabled() {
    let text = "name = \"t\"\ndescription = \"d\"\ncpu = \"cortex-m3\"\ncpu_hz = 1000000\n\
        [[region]]\nname = \"code\"\nbase = 0\nsize = 0x1000\nkind = \"ram\"\n\
        [[region]]\nname = \"ram\"\nbase = 0x2000_0000\nsize = 0x1000\nkind = \"ram\"\n\
        [[device]]\nname = \"w\"\ntype = \"waker\"\nbase = 0x5000_0000\n";
    let board = Board::from_toml(text, "t.toml").unwrap();
    let opts = MachineOptions {
        plugins: vec![lib("testkit")],
        ..Default::default()
    };
    let mut m = Machine::new(board, opts, Box::new(Quiet)).unwrap();
    // ldr r0,=0x50000000; movs r1,#0; str r1,[r0] (the worker starts); 1: wfi; b 1b
    let mut code = Vec::new();
    code.extend_from_slice(&0x2000_1000u32.to_le_bytes());
    code.extend_from_slice(&0x0000_0009u32.to_le_bytes());
    for hw in [0x4802u16, 0x2100, 0x6001, 0xbf30, 0xe7fd, 0xbf00] {
        code.extend_from_slice(&hw.to_le_bytes());
    }
    code.extend_from_slice(&0x5000_0000u32.to_le_bytes());
    m.mem.load(0, &code).unwrap();
    m.reset();
    let mut exit = m.run(10_000);
    for _ in 0..25 {
        if exit != armlet_machine::Exit::Budget {
            break;
        }
        exit = m.run(10_000);
    }
    assert_eq!(exit, armlet_machine::Exit::Deadlock);
}
