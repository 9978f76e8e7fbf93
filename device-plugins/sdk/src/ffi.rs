//! The raw C ABI, exactly as `device-plugins/include/armlet_plugin.h` declares it (a test
//! compiles the header and compares every size and field offset). The host
//! (`armlet-machine`) and the safe SDK both use these definitions.
//!
//! Only `#[repr(C)]` structs, fixed-width integers, [`Str`] and nullable function pointers
//! appear here; enumerations are `u32` constants that readers validate.

use std::ffi::c_void;

/// ABI major version: a plugin built for another major is refused.
pub const ABI_MAJOR: u32 = 1;
/// ABI minor version: the host accepts plugins with a minor up to its own.
pub const ABI_MINOR: u32 = 0;
/// `(major << 16) | minor`, the value of the `armlet_plugin_abi_version` symbol.
pub const ABI_VERSION: u32 = (ABI_MAJOR << 16) | ABI_MINOR;

/// The exported data symbol holding the plugin's ABI version.
pub const VERSION_SYMBOL: &str = "armlet_plugin_abi_version";
/// The exported entry function.
pub const ENTRY_SYMBOL: &str = "armlet_plugin_entry";

/// `armlet_status`.
pub type Status = i32;
/// Success.
pub const OK: Status = 0;
/// This access fails: the guest sees a bus error; the device stays usable.
pub const BUS_ERROR: Status = 1;
/// The instance is broken: the host marks it failed.
pub const FAILED: Status = 2;
/// Not supported (e.g. `save` without snapshot support).
pub const UNSUPPORTED: Status = 3;
/// Bad arguments (`create` parameters, `restore` version).
pub const INVALID: Status = 4;

/// Log levels.
pub const LOG_ERROR: u32 = 1;
/// Log level warn.
pub const LOG_WARN: u32 = 2;
/// Log level info.
pub const LOG_INFO: u32 = 3;
/// Log level debug.
pub const LOG_DEBUG: u32 = 4;
/// Log level trace.
pub const LOG_TRACE: u32 = 5;

/// Parameter kind: boolean (`int_value` 0 or 1).
pub const PARAM_BOOL: u32 = 1;
/// Parameter kind: integer in `[min, max]`.
pub const PARAM_INT: u32 = 2;
/// Parameter kind: string.
pub const PARAM_STRING: u32 = 3;

/// Byte accesses allowed.
pub const ACCESS_8: u32 = 1;
/// Halfword accesses allowed.
pub const ACCESS_16: u32 = 2;
/// Word accesses allowed.
pub const ACCESS_32: u32 = 4;
/// Any access size.
pub const ACCESS_ALL: u32 = 7;

/// `armlet_str`: UTF-8 bytes, not NUL-terminated; `{NULL, 0}` is "".
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Str {
    /// First byte.
    pub ptr: *const u8,
    /// Length in bytes.
    pub len: usize,
}

impl Str {
    /// The empty string.
    pub const EMPTY: Str = Str {
        ptr: std::ptr::null(),
        len: 0,
    };

    /// A `Str` pointing at `s` (valid as long as `s` is).
    pub fn of(s: &str) -> Str {
        Str {
            ptr: s.as_ptr(),
            len: s.len(),
        }
    }
}

/// `armlet_ctx`: the context of one callback; the host's private data follows.
#[repr(C)]
#[derive(Debug)]
pub struct Ctx {
    /// `sizeof(armlet_ctx)` as the host compiled it.
    pub struct_size: u32,
    /// Zero.
    pub reserved: u32,
    /// The host's services.
    pub api: *const HostApi,
}

/// `armlet_waker`: opaque.
#[repr(C)]
#[derive(Debug)]
pub struct Waker {
    _private: [u8; 0],
}

/// `armlet_writer`: a sink for snapshot bytes.
#[repr(C)]
#[derive(Debug)]
pub struct Writer {
    /// Size of this struct.
    pub struct_size: u32,
    /// Zero.
    pub reserved: u32,
    /// Append bytes.
    pub write: Option<unsafe extern "C" fn(w: *mut Writer, bytes: *const u8, len: usize) -> Status>,
}

/// `armlet_host_api`: the host's services.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct HostApi {
    /// Size of this struct.
    pub struct_size: u32,
    /// Zero.
    pub reserved: u32,
    /// Log a message.
    pub log: Option<unsafe extern "C" fn(ctx: *mut Ctx, level: u32, msg: Str)>,
    /// Virtual time in CPU cycles.
    pub now: Option<unsafe extern "C" fn(ctx: *mut Ctx) -> u64>,
    /// CPU clock in Hz.
    pub cpu_hz: Option<unsafe extern "C" fn(ctx: *mut Ctx) -> u64>,
    /// Drive an IRQ output.
    pub set_irq: Option<unsafe extern "C" fn(ctx: *mut Ctx, output: u32, level: u32)>,
    /// Schedule a timer callback at a virtual time.
    pub schedule: Option<unsafe extern "C" fn(ctx: *mut Ctx, at: u64, token: u64)>,
    /// Cancel a timer callback.
    pub cancel: Option<unsafe extern "C" fn(ctx: *mut Ctx, token: u64)>,
    /// Read guest memory.
    pub dma_read:
        Option<unsafe extern "C" fn(ctx: *mut Ctx, addr: u32, buf: *mut u8, len: usize) -> Status>,
    /// Write guest memory.
    pub dma_write: Option<
        unsafe extern "C" fn(ctx: *mut Ctx, addr: u32, bytes: *const u8, len: usize) -> Status,
    >,
    /// Thread-safe: the device has input ready.
    pub wake: Option<unsafe extern "C" fn(waker: *mut Waker)>,
    /// 1 if a message at `level` would be logged.
    pub log_enabled: Option<unsafe extern "C" fn(ctx: *mut Ctx, level: u32) -> u32>,
}

/// `armlet_param_desc`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ParamDesc {
    /// Size of this struct.
    pub struct_size: u32,
    /// `PARAM_*`.
    pub kind: u32,
    /// Key in the machine file's `params`.
    pub name: Str,
    /// One line.
    pub doc: Str,
    /// 1: no default.
    pub required: u32,
    /// Zero.
    pub reserved: u32,
    /// Default of a BOOL (0/1) or INT.
    pub default_int: i64,
    /// Default of a STRING.
    pub default_str: Str,
    /// INT: smallest allowed value.
    pub min: i64,
    /// INT: largest allowed value.
    pub max: i64,
}

/// `armlet_region_desc`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RegionDesc {
    /// Size of this struct.
    pub struct_size: u32,
    /// Bytes (> 0, a multiple of 4).
    pub size: u32,
    /// `ACCESS_*` mask.
    pub access: u32,
    /// Zero.
    pub reserved: u32,
    /// Name.
    pub name: Str,
}

/// `armlet_param_value`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ParamValue {
    /// Size of this struct.
    pub struct_size: u32,
    /// `PARAM_*`.
    pub kind: u32,
    /// Parameter name.
    pub name: Str,
    /// BOOL, INT value.
    pub int_value: i64,
    /// STRING value.
    pub str_value: Str,
}

/// `armlet_create_args`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct CreateArgs {
    /// Size of this struct.
    pub struct_size: u32,
    /// Zero.
    pub reserved: u32,
    /// The machine file's `name`.
    pub instance_name: Str,
    /// One value per declared parameter, in order.
    pub params: *const ParamValue,
    /// Number of values.
    pub num_params: usize,
    /// Handle for `wake`.
    pub waker: *mut Waker,
    /// CPU clock in Hz.
    pub cpu_hz: u64,
}

/// `armlet_device_ops`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct DeviceOps {
    /// Size of this struct.
    pub struct_size: u32,
    /// Zero.
    pub reserved: u32,
    /// Make an instance.
    pub create: Option<
        unsafe extern "C" fn(
            ctx: *mut Ctx,
            args: *const CreateArgs,
            out_dev: *mut *mut c_void,
        ) -> Status,
    >,
    /// Free an instance.
    pub destroy: Option<unsafe extern "C" fn(dev: *mut c_void)>,
    /// MMIO read.
    pub read: Option<
        unsafe extern "C" fn(
            dev: *mut c_void,
            ctx: *mut Ctx,
            region: u32,
            offset: u32,
            size: u32,
            value: *mut u32,
        ) -> Status,
    >,
    /// MMIO write.
    pub write: Option<
        unsafe extern "C" fn(
            dev: *mut c_void,
            ctx: *mut Ctx,
            region: u32,
            offset: u32,
            size: u32,
            value: u32,
        ) -> Status,
    >,
    /// Side-effect-free read.
    pub debug_peek: Option<
        unsafe extern "C" fn(
            dev: *mut c_void,
            region: u32,
            offset: u32,
            size: u32,
            value: *mut u32,
        ) -> Status,
    >,
    /// Machine reset.
    pub reset: Option<unsafe extern "C" fn(dev: *mut c_void, ctx: *mut Ctx) -> Status>,
    /// A timer is due.
    pub timer: Option<unsafe extern "C" fn(dev: *mut c_void, ctx: *mut Ctx, token: u64) -> Status>,
    /// Input is ready (after `wake`).
    pub wake: Option<unsafe extern "C" fn(dev: *mut c_void, ctx: *mut Ctx) -> Status>,
    /// A GPIO input changed.
    pub gpio_in: Option<
        unsafe extern "C" fn(dev: *mut c_void, ctx: *mut Ctx, line: u32, level: u32) -> Status,
    >,
    /// Write a snapshot.
    pub save: Option<unsafe extern "C" fn(dev: *mut c_void, w: *mut Writer) -> Status>,
    /// Restore a snapshot.
    pub restore: Option<
        unsafe extern "C" fn(
            dev: *mut c_void,
            bytes: *const u8,
            len: usize,
            version: u32,
        ) -> Status,
    >,
}

/// `armlet_device_type`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct DeviceType {
    /// Size of this struct.
    pub struct_size: u32,
    /// Version of the `save` format; 0: cannot snapshot.
    pub state_version: u32,
    /// The machine file's `type`.
    pub name: Str,
    /// One line.
    pub doc: Str,
    /// Parameters.
    pub params: *const ParamDesc,
    /// Number of parameters.
    pub num_params: usize,
    /// Register regions.
    pub regions: *const RegionDesc,
    /// Number of regions.
    pub num_regions: usize,
    /// IRQ output names.
    pub irq_outputs: *const Str,
    /// Number of IRQ outputs.
    pub num_irq_outputs: usize,
    /// GPIO input names.
    pub gpio_inputs: *const Str,
    /// Number of GPIO inputs.
    pub num_gpio_inputs: usize,
    /// Operations.
    pub ops: *const DeviceOps,
}

/// `armlet_plugin_info`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct PluginInfo {
    /// Size of this struct.
    pub struct_size: u32,
    /// `ABI_VERSION` again.
    pub abi_version: u32,
    /// The plugin's name.
    pub name: Str,
    /// The plugin's own version.
    pub version: Str,
    /// Device types.
    pub types: *const DeviceType,
    /// Number of types.
    pub num_types: usize,
}

/// The type of `armlet_plugin_entry`.
pub type EntryFn = unsafe extern "C" fn(host_abi_version: u32) -> *const PluginInfo;

/// `struct_size` of `T` as a `u32`.
pub const fn size_of_u32<T>() -> u32 {
    std::mem::size_of::<T>() as u32
}
