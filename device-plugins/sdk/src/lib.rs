//! Write armlet peripheral plugins in safe Rust.
//!
//! A plugin is a `cdylib` exporting the C ABI of `device-plugins/include/armlet_plugin.h`.
//! With this crate you implement [`Device`] for each device type and name them in
//! [`export_plugin!`]; the SDK builds the descriptions, the function tables and the two
//! exported symbols, and wraps every entry point in `catch_unwind`: a panic becomes
//! `ARMLET_FAILED` with the panic message logged through the host, and the host marks that
//! instance failed (the guest sees bus errors) instead of the process aborting.
//!
//! ```ignore
//! use armlet_plugin::{export_plugin, BusError, Config, Device, Host, Param, Region, TypeDesc};
//!
//! #[derive(Debug)]
//! struct Scratch { word: u32 }
//!
//! impl Device for Scratch {
//!     fn describe() -> TypeDesc {
//!         TypeDesc::new("scratch", "one read/write word")
//!             .region(Region::new("regs", 4))
//!             .param(Param::int("init", 0, "reset value").range(0, u32::MAX.into()))
//!     }
//!     fn create(cfg: &Config, _host: &mut Host<'_>) -> Result<Self, String> {
//!         Ok(Scratch { word: cfg.int("init") as u32 })
//!     }
//!     fn read(&mut self, _: &mut Host<'_>, _region: u32, _offset: u32, _size: u32) -> Result<u32, BusError> {
//!         Ok(self.word)
//!     }
//!     fn write(&mut self, _: &mut Host<'_>, _region: u32, _offset: u32, _size: u32, v: u32) -> Result<(), BusError> {
//!         self.word = v;
//!         Ok(())
//!     }
//! }
//!
//! export_plugin! { name: "scratch", version: env!("CARGO_PKG_VERSION"), devices: [Scratch] }
//! ```
//!
//! Build with `panic = "unwind"` (Cargo's default): under `panic = "abort"` a panic cannot be
//! caught and ends the emulator.

pub mod ffi;

use std::ffi::c_void;
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

pub use ffi::{ACCESS_16, ACCESS_32, ACCESS_8, ACCESS_ALL};

/// The one recoverable access error: the guest sees a precise bus error (BusFault), the
/// device stays usable. For a broken device, panic: the host marks the instance failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusError;

/// Log levels for [`Host::log`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Something failed.
    Error,
    /// Something is wrong but the device goes on.
    Warn,
    /// Noteworthy state changes.
    Info,
    /// Details.
    Debug,
    /// Everything.
    Trace,
}

impl Level {
    fn raw(self) -> u32 {
        match self {
            Level::Error => ffi::LOG_ERROR,
            Level::Warn => ffi::LOG_WARN,
            Level::Info => ffi::LOG_INFO,
            Level::Debug => ffi::LOG_DEBUG,
            Level::Trace => ffi::LOG_TRACE,
        }
    }
}

/// A parameter value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `true`/`false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A string.
    Str(String),
}

/// One parameter a device type takes.
#[derive(Debug, Clone)]
pub struct Param {
    name: String,
    doc: String,
    default: Value,
    required: bool,
    min: i64,
    max: i64,
}

impl Param {
    fn new(name: &str, default: Value, doc: &str) -> Param {
        Param {
            name: name.into(),
            doc: doc.into(),
            default,
            required: false,
            min: i64::MIN,
            max: i64::MAX,
        }
    }
    /// An integer parameter with a default.
    pub fn int(name: &str, default: i64, doc: &str) -> Param {
        Param::new(name, Value::Int(default), doc)
    }
    /// A boolean parameter with a default.
    pub fn bool(name: &str, default: bool, doc: &str) -> Param {
        Param::new(name, Value::Bool(default), doc)
    }
    /// A string parameter with a default.
    pub fn string(name: &str, default: &str, doc: &str) -> Param {
        Param::new(name, Value::Str(default.into()), doc)
    }
    /// The machine file must give it (the default is only its kind).
    pub fn required(mut self) -> Param {
        self.required = true;
        self
    }
    /// Integers: the allowed range (inclusive); the host rejects values outside it.
    pub fn range(mut self, min: i64, max: i64) -> Param {
        self.min = min;
        self.max = max;
        self
    }
}

/// One register region.
#[derive(Debug, Clone)]
pub struct Region {
    name: String,
    size: u32,
    access: u32,
}

impl Region {
    /// A region of `size` bytes (a multiple of 4) taking every access size.
    pub fn new(name: &str, size: u32) -> Region {
        Region {
            name: name.into(),
            size,
            access: ffi::ACCESS_ALL,
        }
    }
    /// The access sizes allowed ([`ACCESS_8`] | [`ACCESS_16`] | [`ACCESS_32`]); the host
    /// refuses others with a bus error before calling the device.
    pub fn access(mut self, mask: u32) -> Region {
        self.access = mask;
        self
    }
}

/// What a device type says about itself: name, parameters, regions, IRQ outputs, GPIO
/// inputs and snapshot format version.
#[derive(Debug, Clone)]
pub struct TypeDesc {
    name: String,
    doc: String,
    params: Vec<Param>,
    regions: Vec<Region>,
    irq_outputs: Vec<String>,
    gpio_inputs: Vec<String>,
    state_version: u32,
}

impl TypeDesc {
    /// A type called `name` (the machine file's `type`), with a one-line description.
    pub fn new(name: &str, doc: &str) -> TypeDesc {
        TypeDesc {
            name: name.into(),
            doc: doc.into(),
            params: Vec::new(),
            regions: Vec::new(),
            irq_outputs: Vec::new(),
            gpio_inputs: Vec::new(),
            state_version: 0,
        }
    }
    /// Add a parameter.
    pub fn param(mut self, p: Param) -> TypeDesc {
        self.params.push(p);
        self
    }
    /// Add a register region (laid out after the previous ones).
    pub fn region(mut self, r: Region) -> TypeDesc {
        self.regions.push(r);
        self
    }
    /// Add an IRQ output (machine-file `irq` entries are wired in this order).
    pub fn irq_output(mut self, name: &str) -> TypeDesc {
        self.irq_outputs.push(name.into());
        self
    }
    /// Add a GPIO input.
    pub fn gpio_input(mut self, name: &str) -> TypeDesc {
        self.gpio_inputs.push(name.into());
        self
    }
    /// The version of the [`Device::save`] format (0, the default: no snapshots).
    pub fn state_version(mut self, v: u32) -> TypeDesc {
        self.state_version = v;
        self
    }
}

/// How an instance is configured: its name, parameters (validated by the host against the
/// type's description, defaults filled in) and its [`Waker`].
#[derive(Debug)]
pub struct Config {
    name: String,
    params: Vec<(String, Value)>,
    waker: Waker,
}

impl Config {
    /// The instance name from the machine file.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// A parameter's value. Panics if the type does not declare `name` (the panic names the
    /// caller's line, as do the typed accessors').
    #[track_caller]
    pub fn get(&self, name: &str) -> &Value {
        match self.params.iter().find(|(n, _)| n == name) {
            Some((_, v)) => v,
            None => panic!("parameter `{name}` is not declared by this type"),
        }
    }
    /// An integer parameter. Panics if `name` is not an integer parameter of this type.
    #[track_caller]
    pub fn int(&self, name: &str) -> i64 {
        match self.get(name) {
            Value::Int(v) => *v,
            other => panic!("parameter `{name}` is {other:?}, not an integer"),
        }
    }
    /// A boolean parameter. Panics if `name` is not a boolean parameter of this type.
    #[track_caller]
    pub fn bool(&self, name: &str) -> bool {
        match self.get(name) {
            Value::Bool(v) => *v,
            other => panic!("parameter `{name}` is {other:?}, not a boolean"),
        }
    }
    /// A string parameter. Panics if `name` is not a string parameter of this type.
    #[track_caller]
    pub fn str(&self, name: &str) -> &str {
        match self.get(name) {
            Value::Str(v) => v,
            other => panic!("parameter `{name}` is {other:?}, not a string"),
        }
    }
    /// The handle a worker thread uses to tell the host that input is ready.
    pub fn waker(&self) -> Waker {
        self.waker.clone()
    }
}

/// Tells the host, from any thread, that the device has input ready: the host then calls
/// [`Device::wake`] on the emulator thread before the instance's next callback. While the
/// guest may sleep waiting for such input, keep a timer scheduled: the wake is noticed at
/// the latest when it fires.
#[derive(Debug, Clone)]
pub struct Waker {
    waker: *mut ffi::Waker,
    wake: Option<unsafe extern "C" fn(*mut ffi::Waker)>,
}

// SAFETY: the ABI makes `wake` thread-safe and the waker valid for as long as the library
// is loaded; a `Waker` only ever calls `wake` with it.
unsafe impl Send for Waker {}
// SAFETY: as for Send: `wake` may be called concurrently from any thread.
unsafe impl Sync for Waker {}

impl Waker {
    /// Signal that input is ready.
    pub fn wake(&self) {
        if let Some(f) = self.wake {
            // SAFETY: the host gave this function and waker together; `wake` is callable
            // from any thread at any time.
            unsafe { f(self.waker) }
        }
    }
}

/// The host's services during one callback: log, virtual time, IRQ lines, timers, DMA.
/// Only exists inside a callback, so a device cannot call the host at the wrong time.
#[derive(Debug)]
pub struct Host<'a> {
    ctx: *mut ffi::Ctx,
    api: ffi::HostApi,
    _call: PhantomData<&'a mut ffi::Ctx>,
}

impl Host<'_> {
    /// # Safety
    /// `ctx` must be the valid, non-null context of the callback running now.
    unsafe fn new(ctx: *mut ffi::Ctx) -> Self {
        // SAFETY: the caller guarantees `ctx` and the API table it points to are valid.
        let api = unsafe { *(*ctx).api };
        Host {
            ctx,
            api,
            _call: PhantomData,
        }
    }

    /// Log a message; the host adds the plugin and instance names.
    pub fn log(&mut self, level: Level, msg: &str) {
        if let Some(f) = self.api.log {
            // SAFETY: `ctx` is valid during this callback; `msg` outlives the call.
            unsafe { f(self.ctx, level.raw(), ffi::Str::of(msg)) }
        }
    }
    /// Whether a message at `level` would be logged: check it before formatting an
    /// expensive message on a hot path.
    pub fn log_enabled(&mut self, level: Level) -> bool {
        match self.api.log_enabled {
            // SAFETY: `ctx` is valid during this callback.
            Some(f) => unsafe { f(self.ctx, level.raw()) != 0 },
            None => true,
        }
    }
    /// Log at info level.
    pub fn info(&mut self, msg: &str) {
        self.log(Level::Info, msg);
    }
    /// Log at warn level.
    pub fn warn(&mut self, msg: &str) {
        self.log(Level::Warn, msg);
    }
    /// Log at debug level.
    pub fn debug(&mut self, msg: &str) {
        self.log(Level::Debug, msg);
    }
    /// Virtual time now, in CPU cycles since power-on.
    pub fn now(&mut self) -> u64 {
        match self.api.now {
            // SAFETY: `ctx` is valid during this callback.
            Some(f) => unsafe { f(self.ctx) },
            None => 0,
        }
    }
    /// The CPU clock in Hz.
    pub fn cpu_hz(&mut self) -> u64 {
        match self.api.cpu_hz {
            // SAFETY: `ctx` is valid during this callback.
            Some(f) => unsafe { f(self.ctx) },
            None => 0,
        }
    }
    /// Drive IRQ output `output` (in [`TypeDesc::irq_output`] order) to `level`.
    pub fn set_irq(&mut self, output: u32, level: bool) {
        if let Some(f) = self.api.set_irq {
            // SAFETY: `ctx` is valid during this callback.
            unsafe { f(self.ctx, output, u32::from(level)) }
        }
    }
    /// Call [`Device::timer`] with `token` when virtual time reaches `at` (CPU cycles);
    /// replaces a timer with the same token.
    pub fn schedule(&mut self, at: u64, token: u64) {
        if let Some(f) = self.api.schedule {
            // SAFETY: `ctx` is valid during this callback.
            unsafe { f(self.ctx, at, token) }
        }
    }
    /// Cancel the timer with `token`, if any.
    pub fn cancel(&mut self, token: u64) {
        if let Some(f) = self.api.cancel {
            // SAFETY: `ctx` is valid during this callback.
            unsafe { f(self.ctx, token) }
        }
    }
    /// Read guest RAM/ROM at `addr` (all or nothing).
    pub fn dma_read(&mut self, addr: u32, buf: &mut [u8]) -> Result<(), BusError> {
        let f = self.api.dma_read.ok_or(BusError)?;
        // SAFETY: `ctx` is valid during this callback; `buf` is valid for `len` bytes.
        match unsafe { f(self.ctx, addr, buf.as_mut_ptr(), buf.len()) } {
            ffi::OK => Ok(()),
            _ => Err(BusError),
        }
    }
    /// Write guest RAM at `addr` (all or nothing; ROM and devices are refused).
    pub fn dma_write(&mut self, addr: u32, bytes: &[u8]) -> Result<(), BusError> {
        let f = self.api.dma_write.ok_or(BusError)?;
        // SAFETY: `ctx` is valid during this callback; `bytes` is valid for `len` bytes.
        match unsafe { f(self.ctx, addr, bytes.as_ptr(), bytes.len()) } {
            ffi::OK => Ok(()),
            _ => Err(BusError),
        }
    }
}

/// A device model. The host validates accesses against the declared regions and sizes
/// before calling `read`/`write`, so `region` is a valid index and `offset + size` lies
/// inside it. Register offsets are relative to the region; the device never sees its
/// address.
pub trait Device: Sized + Send + 'static {
    /// The type's description (called once, when the host loads the plugin).
    fn describe() -> TypeDesc;
    /// Make an instance. An `Err` is reported to the user as a configuration error.
    fn create(cfg: &Config, host: &mut Host<'_>) -> Result<Self, String>;
    /// MMIO read of `size` (1, 2 or 4) bytes.
    fn read(
        &mut self,
        host: &mut Host<'_>,
        region: u32,
        offset: u32,
        size: u32,
    ) -> Result<u32, BusError>;
    /// MMIO write of `size` (1, 2 or 4) bytes.
    fn write(
        &mut self,
        host: &mut Host<'_>,
        region: u32,
        offset: u32,
        size: u32,
        value: u32,
    ) -> Result<(), BusError>;
    /// Side-effect-free read for debuggers; `None` if the register cannot be read so.
    fn peek(&self, _region: u32, _offset: u32, _size: u32) -> Option<u32> {
        None
    }
    /// Machine reset (also right after `create`): back to the power-on state, IRQs low.
    fn reset(&mut self, _host: &mut Host<'_>) {}
    /// A timer set with [`Host::schedule`] is due.
    fn timer(&mut self, _host: &mut Host<'_>, _token: u64) {}
    /// [`Waker::wake`] was called since the last callback.
    fn wake(&mut self, _host: &mut Host<'_>) {}
    /// GPIO input `line` changed to `level`.
    fn gpio_in(&mut self, _host: &mut Host<'_>, _line: u32, _level: bool) {}
    /// Append the device state to `out` (format version: [`TypeDesc::state_version`]).
    /// The default says the type cannot snapshot.
    fn save(&self, _out: &mut Vec<u8>) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    /// Restore a state written by [`Device::save`] in format `version`.
    fn restore(&mut self, _bytes: &[u8], version: u32) -> Result<(), String> {
        Err(format!(
            "cannot restore state version {version}: no snapshot support"
        ))
    }
}

/// A device type cannot do this (e.g. snapshots).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsupported;

/// A plugin: its name, version and device types (built by [`export_plugin!`]).
#[derive(Debug)]
pub struct Plugin {
    name: String,
    version: String,
    types: Vec<(TypeDesc, ffi::DeviceOps)>,
}

impl Plugin {
    /// A plugin called `name`, at `version`.
    pub fn new(name: &str, version: &str) -> Plugin {
        Plugin {
            name: name.into(),
            version: version.into(),
            types: Vec::new(),
        }
    }

    /// Add device type `D`.
    pub fn device<D: Device>(mut self) -> Plugin {
        self.types.push((D::describe(), ops::<D>()));
        self
    }
}

fn leak_str(s: &str) -> ffi::Str {
    ffi::Str::of(Box::leak(s.to_owned().into_boxed_str()))
}

fn leak_slice<T>(v: Vec<T>) -> *const T {
    if v.is_empty() {
        std::ptr::null()
    } else {
        Box::leak(v.into_boxed_slice()).as_ptr()
    }
}

fn to_ffi(p: &Plugin) -> ffi::PluginInfo {
    let types: Vec<ffi::DeviceType> = p
        .types
        .iter()
        .map(|(t, ops)| {
            let params: Vec<ffi::ParamDesc> = t
                .params
                .iter()
                .map(|p| {
                    let (kind, default_int, default_str) = match &p.default {
                        Value::Bool(b) => (ffi::PARAM_BOOL, i64::from(*b), ffi::Str::EMPTY),
                        Value::Int(i) => (ffi::PARAM_INT, *i, ffi::Str::EMPTY),
                        Value::Str(s) => (ffi::PARAM_STRING, 0, leak_str(s)),
                    };
                    ffi::ParamDesc {
                        struct_size: ffi::size_of_u32::<ffi::ParamDesc>(),
                        kind,
                        name: leak_str(&p.name),
                        doc: leak_str(&p.doc),
                        required: u32::from(p.required),
                        reserved: 0,
                        default_int,
                        default_str,
                        min: p.min,
                        max: p.max,
                    }
                })
                .collect();
            let regions: Vec<ffi::RegionDesc> = t
                .regions
                .iter()
                .map(|r| ffi::RegionDesc {
                    struct_size: ffi::size_of_u32::<ffi::RegionDesc>(),
                    size: r.size,
                    access: r.access,
                    reserved: 0,
                    name: leak_str(&r.name),
                })
                .collect();
            let irqs: Vec<ffi::Str> = t.irq_outputs.iter().map(|s| leak_str(s)).collect();
            let gpios: Vec<ffi::Str> = t.gpio_inputs.iter().map(|s| leak_str(s)).collect();
            ffi::DeviceType {
                struct_size: ffi::size_of_u32::<ffi::DeviceType>(),
                state_version: t.state_version,
                name: leak_str(&t.name),
                doc: leak_str(&t.doc),
                num_params: params.len(),
                params: leak_slice(params),
                num_regions: regions.len(),
                regions: leak_slice(regions),
                num_irq_outputs: irqs.len(),
                irq_outputs: leak_slice(irqs),
                num_gpio_inputs: gpios.len(),
                gpio_inputs: leak_slice(gpios),
                ops: Box::leak(Box::new(*ops)),
            }
        })
        .collect();
    ffi::PluginInfo {
        struct_size: ffi::size_of_u32::<ffi::PluginInfo>(),
        abi_version: ffi::ABI_VERSION,
        name: leak_str(&p.name),
        version: leak_str(&p.version),
        num_types: types.len(),
        types: leak_slice(types),
    }
}

fn ops<D: Device>() -> ffi::DeviceOps {
    ffi::DeviceOps {
        struct_size: ffi::size_of_u32::<ffi::DeviceOps>(),
        reserved: 0,
        create: Some(create::<D>),
        destroy: Some(destroy::<D>),
        read: Some(read::<D>),
        write: Some(write::<D>),
        debug_peek: Some(debug_peek::<D>),
        reset: Some(reset::<D>),
        timer: Some(timer::<D>),
        wake: Some(wake::<D>),
        gpio_in: Some(gpio_in::<D>),
        save: Some(save::<D>),
        restore: Some(restore::<D>),
    }
}

/// The text of a panic payload.
fn panic_message(e: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = e.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = e.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".into()
    }
}

thread_local! {
    /// Set while a callback runs inside [`guard`]: its panics are reported through the host
    /// (once, with their location), not printed by the default panic hook.
    static IN_GUARD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// Where the last guarded panic happened (`file:line:column`).
    static PANIC_AT: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Install (once per plugin library: a cdylib has its own copy of std) a panic hook that
/// records the location of a panic inside [`guard`] instead of printing it to stderr with a
/// backtrace; panics elsewhere (a plugin's own threads) go to the previous hook.
fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_GUARD.with(|g| g.get()) {
                let at = info
                    .location()
                    .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
                PANIC_AT.with(|p| *p.borrow_mut() = at);
            } else {
                previous(info);
            }
        }));
    });
}

/// Run `f` catching panics: a panic is logged through `ctx` (when there is one), once and
/// with its location, and becomes `ARMLET_FAILED`.
fn guard(ctx: *mut ffi::Ctx, what: &str, f: impl FnOnce() -> ffi::Status) -> ffi::Status {
    install_panic_hook();
    let outer = IN_GUARD.with(|g| g.replace(true));
    let r = catch_unwind(AssertUnwindSafe(f));
    IN_GUARD.with(|g| g.set(outer));
    match r {
        Ok(s) => s,
        Err(e) => {
            let at = PANIC_AT
                .with(|p| p.borrow_mut().take())
                .map(|a| format!(" (at {a})"))
                .unwrap_or_default();
            let msg = format!("panicked in {what}: {}{at}", panic_message(&*e));
            if !ctx.is_null() {
                // Logging must not unwind out of here either.
                let _ = catch_unwind(AssertUnwindSafe(|| {
                    // SAFETY: `ctx` is the non-null context of the callback running now.
                    let mut host = unsafe { Host::new(ctx) };
                    host.log(Level::Error, &msg);
                }));
            }
            ffi::FAILED
        }
    }
}

/// # Safety
/// `s` must point to `len` readable bytes or be `{NULL, 0}`.
unsafe fn str_of(s: ffi::Str) -> String {
    if s.ptr.is_null() || s.len == 0 {
        return String::new();
    }
    // SAFETY: the caller guarantees `ptr` is valid for `len` bytes.
    let bytes = unsafe { std::slice::from_raw_parts(s.ptr, s.len) };
    String::from_utf8_lossy(bytes).into_owned()
}

unsafe extern "C" fn create<D: Device>(
    ctx: *mut ffi::Ctx,
    args: *const ffi::CreateArgs,
    out: *mut *mut c_void,
) -> ffi::Status {
    guard(ctx, "create", || {
        if ctx.is_null() || args.is_null() || out.is_null() {
            return ffi::INVALID;
        }
        // SAFETY: the host passes a valid args struct for the duration of this call.
        let a = unsafe { *args };
        if a.num_params > 0 && a.params.is_null() {
            return ffi::INVALID;
        }
        let mut params = Vec::with_capacity(a.num_params);
        for i in 0..a.num_params {
            // SAFETY: `params` holds `num_params` structs whose stride is the first one's
            // `struct_size` (the ABI's array rule); the host's structs are never older than
            // ours, so every field we read is present.
            let v = unsafe {
                let stride = (*a.params).struct_size as usize;
                *a.params
                    .cast::<u8>()
                    .add(i * stride)
                    .cast::<ffi::ParamValue>()
            };
            // SAFETY: strings from the host are valid during this call.
            let name = unsafe { str_of(v.name) };
            let value = match v.kind {
                ffi::PARAM_BOOL => Value::Bool(v.int_value != 0),
                ffi::PARAM_INT => Value::Int(v.int_value),
                // SAFETY: as above.
                ffi::PARAM_STRING => Value::Str(unsafe { str_of(v.str_value) }),
                _ => return ffi::INVALID,
            };
            params.push((name, value));
        }
        let cfg = Config {
            // SAFETY: as above.
            name: unsafe { str_of(a.instance_name) },
            params,
            waker: Waker {
                waker: a.waker,
                // SAFETY: `ctx` is valid during this call.
                wake: unsafe { (*(*ctx).api).wake },
            },
        };
        // SAFETY: `ctx` is the valid context of this call.
        let mut host = unsafe { Host::new(ctx) };
        match D::create(&cfg, &mut host) {
            Ok(dev) => {
                // SAFETY: `out` is a valid pointer the host gave us for the result.
                unsafe { *out = Box::into_raw(Box::new(dev)).cast() };
                ffi::OK
            }
            Err(msg) => {
                host.log(Level::Error, &msg);
                ffi::INVALID
            }
        }
    })
}

unsafe extern "C" fn destroy<D: Device>(dev: *mut c_void) {
    if dev.is_null() {
        return;
    }
    let _ = guard(std::ptr::null_mut(), "destroy", || {
        // SAFETY: `dev` came from `Box::into_raw` in `create` and the host destroys it once.
        drop(unsafe { Box::from_raw(dev.cast::<D>()) });
        ffi::OK
    });
}

/// Run a callback on instance `dev` with a host context.
///
/// # Safety
/// `dev` must be an instance made by `create::<D>` and not yet destroyed, not used by any
/// other call now; `ctx` the valid context of this callback.
unsafe fn with_dev<D: Device>(
    dev: *mut c_void,
    ctx: *mut ffi::Ctx,
    what: &str,
    f: impl FnOnce(&mut D, &mut Host<'_>) -> ffi::Status,
) -> ffi::Status {
    if dev.is_null() || ctx.is_null() {
        return ffi::INVALID;
    }
    guard(ctx, what, || {
        // SAFETY: the caller guarantees `dev` is a live `D` we have exclusive use of now.
        let d = unsafe { &mut *dev.cast::<D>() };
        // SAFETY: the caller guarantees `ctx` is valid during this callback.
        let mut host = unsafe { Host::new(ctx) };
        f(d, &mut host)
    })
}

unsafe extern "C" fn read<D: Device>(
    dev: *mut c_void,
    ctx: *mut ffi::Ctx,
    region: u32,
    offset: u32,
    size: u32,
    value: *mut u32,
) -> ffi::Status {
    if value.is_null() {
        return ffi::INVALID;
    }
    // SAFETY: the host calls `read` with a live instance and the callback's context.
    unsafe {
        with_dev::<D>(dev, ctx, "read", |d, h| {
            match d.read(h, region, offset, size) {
                Ok(v) => {
                    // SAFETY: `value` is a valid, non-null out pointer for this call.
                    *value = v;
                    ffi::OK
                }
                Err(BusError) => ffi::BUS_ERROR,
            }
        })
    }
}

unsafe extern "C" fn write<D: Device>(
    dev: *mut c_void,
    ctx: *mut ffi::Ctx,
    region: u32,
    offset: u32,
    size: u32,
    value: u32,
) -> ffi::Status {
    // SAFETY: the host calls `write` with a live instance and the callback's context.
    unsafe {
        with_dev::<D>(dev, ctx, "write", |d, h| {
            match d.write(h, region, offset, size, value) {
                Ok(()) => ffi::OK,
                Err(BusError) => ffi::BUS_ERROR,
            }
        })
    }
}

unsafe extern "C" fn debug_peek<D: Device>(
    dev: *mut c_void,
    region: u32,
    offset: u32,
    size: u32,
    value: *mut u32,
) -> ffi::Status {
    if dev.is_null() || value.is_null() {
        return ffi::INVALID;
    }
    guard(std::ptr::null_mut(), "debug_peek", || {
        // SAFETY: the host passes a live instance that no other call is using.
        let d = unsafe { &*dev.cast::<D>() };
        match d.peek(region, offset, size) {
            Some(v) => {
                // SAFETY: `value` is a valid, non-null out pointer for this call.
                unsafe { *value = v };
                ffi::OK
            }
            None => ffi::BUS_ERROR,
        }
    })
}

unsafe extern "C" fn reset<D: Device>(dev: *mut c_void, ctx: *mut ffi::Ctx) -> ffi::Status {
    // SAFETY: the host calls `reset` with a live instance and the callback's context.
    unsafe {
        with_dev::<D>(dev, ctx, "reset", |d, h| {
            d.reset(h);
            ffi::OK
        })
    }
}

unsafe extern "C" fn timer<D: Device>(
    dev: *mut c_void,
    ctx: *mut ffi::Ctx,
    token: u64,
) -> ffi::Status {
    // SAFETY: the host calls `timer` with a live instance and the callback's context.
    unsafe {
        with_dev::<D>(dev, ctx, "timer", |d, h| {
            d.timer(h, token);
            ffi::OK
        })
    }
}

unsafe extern "C" fn wake<D: Device>(dev: *mut c_void, ctx: *mut ffi::Ctx) -> ffi::Status {
    // SAFETY: the host calls `wake` with a live instance and the callback's context.
    unsafe {
        with_dev::<D>(dev, ctx, "wake", |d, h| {
            d.wake(h);
            ffi::OK
        })
    }
}

unsafe extern "C" fn gpio_in<D: Device>(
    dev: *mut c_void,
    ctx: *mut ffi::Ctx,
    line: u32,
    level: u32,
) -> ffi::Status {
    // SAFETY: the host calls `gpio_in` with a live instance and the callback's context.
    unsafe {
        with_dev::<D>(dev, ctx, "gpio_in", |d, h| {
            d.gpio_in(h, line, level != 0);
            ffi::OK
        })
    }
}

unsafe extern "C" fn save<D: Device>(dev: *mut c_void, w: *mut ffi::Writer) -> ffi::Status {
    if dev.is_null() || w.is_null() {
        return ffi::INVALID;
    }
    guard(std::ptr::null_mut(), "save", || {
        // SAFETY: the host passes a live instance that no other call is using.
        let d = unsafe { &*dev.cast::<D>() };
        let mut out = Vec::new();
        if d.save(&mut out).is_err() {
            return ffi::UNSUPPORTED;
        }
        // SAFETY: `w` is the host's valid writer for this call.
        match unsafe { (*w).write } {
            // SAFETY: `w` is valid and `out` is valid for `out.len()` bytes.
            Some(f) => unsafe { f(w, out.as_ptr(), out.len()) },
            None => ffi::INVALID,
        }
    })
}

unsafe extern "C" fn restore<D: Device>(
    dev: *mut c_void,
    bytes: *const u8,
    len: usize,
    version: u32,
) -> ffi::Status {
    if dev.is_null() || (bytes.is_null() && len != 0) {
        return ffi::INVALID;
    }
    guard(std::ptr::null_mut(), "restore", || {
        // SAFETY: the host passes a live instance that no other call is using.
        let d = unsafe { &mut *dev.cast::<D>() };
        let data = if len == 0 {
            &[][..]
        } else {
            // SAFETY: the host's buffer holds `len` bytes for the duration of this call.
            unsafe { std::slice::from_raw_parts(bytes, len) }
        };
        match d.restore(data, version) {
            Ok(()) => ffi::OK,
            Err(_) => ffi::INVALID,
        }
    })
}

#[doc(hidden)]
pub mod __private {
    use super::*;

    /// The address of this library's leaked description (one per cdylib: each has its own
    /// copy of the SDK and so of this static).
    static INFO: OnceLock<usize> = OnceLock::new();

    /// `armlet_plugin_entry`: describe the plugin, once. Never unwinds: a panic while
    /// describing (e.g. in [`Device::describe`]) returns NULL, which the host reports.
    pub fn entry(host_abi_version: u32, build: fn() -> Plugin) -> *const ffi::PluginInfo {
        if host_abi_version >> 16 != ffi::ABI_MAJOR {
            return std::ptr::null();
        }
        let built = catch_unwind(|| {
            *INFO.get_or_init(|| {
                let info: &'static ffi::PluginInfo = Box::leak(Box::new(to_ffi(&build())));
                info as *const ffi::PluginInfo as usize
            })
        });
        match built {
            Ok(addr) => addr as *const ffi::PluginInfo,
            Err(_) => std::ptr::null(),
        }
    }
}

/// Export a plugin: the `armlet_plugin_abi_version` data symbol and the
/// `armlet_plugin_entry` function, describing the listed [`Device`] types.
///
/// ```ignore
/// armlet_plugin::export_plugin! {
///     name: "my-plugin",
///     version: env!("CARGO_PKG_VERSION"),
///     devices: [MyUart, MyTimer],
/// }
/// ```
#[macro_export]
macro_rules! export_plugin {
    (name: $name:expr, version: $version:expr, devices: [$($dev:ty),+ $(,)?] $(,)?) => {
        /// The ABI version this plugin was built against (read by the host first).
        #[no_mangle]
        #[allow(unsafe_code, non_upper_case_globals)]
        pub static armlet_plugin_abi_version: u32 = $crate::ffi::ABI_VERSION;

        /// The plugin's entry point: its description.
        #[no_mangle]
        #[allow(unsafe_code)]
        pub extern "C" fn armlet_plugin_entry(host_abi_version: u32) -> *const $crate::ffi::PluginInfo {
            $crate::__private::entry(host_abi_version, || {
                $crate::Plugin::new($name, $version)$(.device::<$dev>())+
            })
        }
    };
}

#[cfg(test)]
mod tests {
    //! The trampolines against a fake host: every entry point catches panics, reports them
    //! through the host's log and returns `FAILED`; values and errors cross correctly.
    use super::*;
    use std::sync::Mutex;

    static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

    unsafe extern "C" fn log(_: *mut ffi::Ctx, _level: u32, msg: ffi::Str) {
        // SAFETY: the SDK passes a valid string for the call.
        let s = unsafe { str_of(msg) };
        LOG.lock().unwrap_or_else(|e| e.into_inner()).push(s);
    }

    static API: ffi::HostApi = ffi::HostApi {
        struct_size: ffi::size_of_u32::<ffi::HostApi>(),
        reserved: 0,
        log: Some(log),
        now: None,
        cpu_hz: None,
        set_irq: None,
        schedule: None,
        cancel: None,
        dma_read: None,
        dma_write: None,
        wake: None,
        log_enabled: None,
    };

    #[derive(Debug)]
    struct Bomb {
        word: u32,
    }

    impl Device for Bomb {
        fn describe() -> TypeDesc {
            TypeDesc::new("bomb", "panics on demand")
                .param(Param::int("arm", 0, "panic in create if 1"))
                .region(Region::new("regs", 8))
        }
        fn create(cfg: &Config, _host: &mut Host<'_>) -> Result<Self, String> {
            match cfg.int("arm") {
                1 => panic!("create exploded"),
                2 => Err("arm = 2 is not allowed".into()),
                3 => Ok(Bomb {
                    word: cfg.int("not_declared") as u32,
                }),
                _ => Ok(Bomb { word: 7 }),
            }
        }
        fn read(&mut self, _: &mut Host<'_>, _: u32, offset: u32, _: u32) -> Result<u32, BusError> {
            match offset {
                0 => Ok(self.word),
                4 => Err(BusError),
                _ => panic!("read exploded"),
            }
        }
        fn write(
            &mut self,
            _: &mut Host<'_>,
            _: u32,
            _: u32,
            _: u32,
            v: u32,
        ) -> Result<(), BusError> {
            if v == 0xdead {
                panic!("write exploded");
            }
            self.word = v;
            Ok(())
        }
        fn timer(&mut self, _: &mut Host<'_>, _: u64) {
            panic!("timer exploded");
        }
        fn peek(&self, _: u32, _: u32, _: u32) -> Option<u32> {
            panic!("peek exploded")
        }
    }

    fn ctx() -> ffi::Ctx {
        ffi::Ctx {
            struct_size: ffi::size_of_u32::<ffi::Ctx>(),
            reserved: 0,
            api: &API,
        }
    }

    fn create_with(arm: i64) -> (ffi::Status, *mut c_void) {
        let ops = ops::<Bomb>();
        let p = ffi::ParamValue {
            struct_size: ffi::size_of_u32::<ffi::ParamValue>(),
            kind: ffi::PARAM_INT,
            name: ffi::Str::of("arm"),
            int_value: arm,
            str_value: ffi::Str::EMPTY,
        };
        let args = ffi::CreateArgs {
            struct_size: ffi::size_of_u32::<ffi::CreateArgs>(),
            reserved: 0,
            instance_name: ffi::Str::of("b0"),
            params: &p,
            num_params: 1,
            waker: std::ptr::null_mut(),
            cpu_hz: 1,
        };
        let mut c = ctx();
        let mut dev = std::ptr::null_mut();
        // SAFETY: valid context, args and out pointer for the call.
        let st = unsafe { ops.create.unwrap()(&mut c, &args, &mut dev) };
        (st, dev)
    }

    fn logged(what: &str) -> bool {
        LOG.lock().unwrap().iter().any(|l| l.contains(what))
    }

    #[test]
    fn every_entry_point_catches_panics_and_reports_them() {
        let ops = ops::<Bomb>();
        assert_eq!(create_with(1).0, ffi::FAILED);
        assert!(logged("panicked in create: create exploded"));
        assert_eq!(create_with(2).0, ffi::INVALID);
        assert!(logged("arm = 2 is not allowed"));
        let (st, dev) = create_with(0);
        assert_eq!(st, ffi::OK);
        let mut c = ctx();
        let mut v = 0;
        // SAFETY: `dev` is a live Bomb from `create`; `c` and `v` are valid.
        unsafe {
            assert_eq!(ops.read.unwrap()(dev, &mut c, 0, 0, 4, &mut v), ffi::OK);
            assert_eq!(v, 7);
            assert_eq!(
                ops.read.unwrap()(dev, &mut c, 0, 4, 4, &mut v),
                ffi::BUS_ERROR
            );
            assert_eq!(ops.write.unwrap()(dev, &mut c, 0, 0, 4, 9), ffi::OK);
            assert_eq!(ops.read.unwrap()(dev, &mut c, 0, 0, 4, &mut v), ffi::OK);
            assert_eq!(v, 9);
            assert_eq!(
                ops.write.unwrap()(dev, &mut c, 0, 0, 4, 0xdead),
                ffi::FAILED
            );
            assert!(logged("panicked in write: write exploded"));
            assert_eq!(ops.read.unwrap()(dev, &mut c, 0, 8, 4, &mut v), ffi::FAILED);
            assert!(logged("panicked in read: read exploded"));
            assert_eq!(ops.timer.unwrap()(dev, &mut c, 1), ffi::FAILED);
            assert!(logged("panicked in timer: timer exploded"));
            // No context for peek: the panic is still caught.
            assert_eq!(ops.debug_peek.unwrap()(dev, 0, 0, 4, &mut v), ffi::FAILED);
            // No snapshot support by default.
            let mut w = ffi::Writer {
                struct_size: ffi::size_of_u32::<ffi::Writer>(),
                reserved: 0,
                write: None,
            };
            assert_eq!(ops.save.unwrap()(dev, &mut w), ffi::UNSUPPORTED);
            assert_eq!(
                ops.restore.unwrap()(dev, std::ptr::null(), 0, 1),
                ffi::INVALID
            );
            // Null pointers are refused, not dereferenced.
            assert_eq!(
                ops.read.unwrap()(dev, &mut c, 0, 0, 4, std::ptr::null_mut()),
                ffi::INVALID
            );
            assert_eq!(
                ops.reset.unwrap()(std::ptr::null_mut(), &mut c),
                ffi::INVALID
            );
            ops.destroy.unwrap()(dev);
        }
    }

    #[test]
    fn a_panic_is_reported_once_with_the_line_of_the_config_accessor_call() {
        // The accessor panics for an undeclared parameter; with #[track_caller] the report
        // names the device's line, not the SDK's accessor.
        let line = include_str!("lib.rs")
            .lines()
            .position(|l| l.contains("cfg.int(\"not_declared\")"))
            .expect("the call")
            + 1;
        assert_eq!(create_with(3).0, ffi::FAILED);
        let want = format!(
            "panicked in create: parameter `not_declared` is not declared by this type (at {}:{line}:",
            file!()
        );
        let log = LOG.lock().unwrap_or_else(|e| e.into_inner()).clone();
        assert!(
            log.iter().any(|l| l.contains(&want)),
            "{want:?} not in {log:?}"
        );
    }

    #[test]
    fn entry_describes_once_and_refuses_another_major() {
        fn build() -> Plugin {
            Plugin::new("p", "1.2.3").device::<Bomb>()
        }
        assert!(__private::entry(2 << 16, build).is_null());
        let a = __private::entry(ffi::ABI_VERSION, build);
        let b = __private::entry(ffi::ABI_VERSION, build);
        assert!(!a.is_null());
        assert_eq!(a, b, "described once");
        // SAFETY: a non-null description lives forever (leaked).
        let info = unsafe { &*a };
        assert_eq!(info.abi_version, ffi::ABI_VERSION);
        assert_eq!(info.num_types, 1);
        // SAFETY: as above.
        let t = unsafe { &*info.types };
        // SAFETY: strings of the leaked description.
        assert_eq!(unsafe { str_of(t.name) }, "bomb");
        assert_eq!(t.num_params, 1);
        assert_eq!(t.num_regions, 1);
        assert_eq!(t.state_version, 0);
    }
}
