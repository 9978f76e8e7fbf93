//! The plugin host: device models loaded from shared libraries through the C ABI of
//! `device-plugins/include/armlet_plugin.h` (Rust definitions in `armlet_plugin::ffi`).
//!
//! - [`load`] opens a library (once per process; libraries are never unloaded), reads the
//!   `armlet_plugin_abi_version` data symbol and refuses another major or a newer minor
//!   *before any plugin function runs*, then calls `armlet_plugin_entry` and copies and
//!   validates the description (struct sizes, strings, kinds, regions, required operations).
//! - [`create`] builds a device for a machine-file entry: finds the type (in the entry's
//!   `plugin` library, or among the `--plugin` libraries), validates `params` against the
//!   declared schema and `irq` against the declared outputs, and instantiates it.
//! - [`PluginDevice`] adapts an instance to the machine's one [`Device`] trait: it checks
//!   regions and access sizes before calling the plugin, hands the plugin a context whose
//!   host services work only during that callback, delivers `wake`s, and marks the instance
//!   failed when a callback reports failure (a caught panic): its IRQs are lowered, the
//!   failure is logged naming the plugin, and every later access is
//!   `BusError::DeviceError` (a precise BusFault for the guest).
//!
//! All `unsafe` of the host lives in this file.

use crate::board::DeviceDesc;
use crate::device::{Device, DeviceCtx};
use crate::devices::Built;
use armlet_cpu::BusError;
use armlet_plugin::ffi;
use std::cell::Cell;
use std::ffi::c_void;
use std::fmt::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// Why a plugin library could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// The file does not exist or cannot be read.
    #[error("plugin {path}: cannot read: {err}")]
    Missing {
        /// The file.
        path: String,
        /// Why.
        err: std::io::Error,
    },
    /// The file is not a shared library this system can load.
    #[error("plugin {path}: not a loadable shared library: {msg}")]
    NotALibrary {
        /// The file.
        path: String,
        /// The loader's message.
        msg: String,
    },
    /// A required symbol is not exported.
    #[error("plugin {path}: missing symbol `{symbol}`: not an armlet plugin (it must export `{}` and `{}`)", ffi::VERSION_SYMBOL, ffi::ENTRY_SYMBOL)]
    MissingSymbol {
        /// The file.
        path: String,
        /// The symbol.
        symbol: &'static str,
    },
    /// The plugin was built for an ABI this host does not speak.
    #[error(
        "plugin {path}: built for plugin ABI {}.{}, but this armlet supports ABI {}.0 to {}.{} (rebuild the plugin against this armlet's armlet_plugin.h / armlet-plugin crate)",
        plugin >> 16, plugin & 0xffff, ffi::ABI_MAJOR, ffi::ABI_MAJOR, ffi::ABI_MINOR
    )]
    AbiMismatch {
        /// The file.
        path: String,
        /// The plugin's `(major << 16) | minor`.
        plugin: u32,
    },
    /// The plugin's description is malformed.
    #[error("plugin {path}: bad description: {msg}")]
    BadDescription {
        /// The file.
        path: String,
        /// What is wrong.
        msg: String,
    },
}

/// One parameter of a plugin device type.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamInfo {
    /// Key in `params`.
    pub name: String,
    /// One line.
    pub doc: String,
    /// Kind and default (`None`: required).
    pub kind: ParamKind,
    /// The default value, `None` if the parameter is required.
    pub default: Option<toml::Value>,
}

/// The kind of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// `true`/`false`.
    Bool,
    /// An integer in `min..=max`.
    Int {
        /// Smallest allowed.
        min: i64,
        /// Largest allowed.
        max: i64,
    },
    /// A string.
    Str,
}

impl std::fmt::Display for ParamKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            ParamKind::Bool => f.write_str("true or false"),
            ParamKind::Int { min, max } if min == i64::MIN && max == i64::MAX => {
                f.write_str("an integer")
            }
            ParamKind::Int { min, max } => write!(f, "an integer in {min}..={max}"),
            ParamKind::Str => f.write_str("a string"),
        }
    }
}

/// One register region of a plugin device type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionInfo {
    /// Name.
    pub name: String,
    /// Offset from the device's base (regions are laid out one after the other).
    pub offset: u32,
    /// Size in bytes.
    pub size: u32,
    /// Allowed access sizes (bit `n` set: `n`-byte accesses).
    pub access: u32,
}

/// A device type a plugin provides.
#[derive(Debug, Clone)]
pub struct TypeInfo {
    /// The machine file's `type`.
    pub name: String,
    /// One line.
    pub doc: String,
    /// Parameters.
    pub params: Vec<ParamInfo>,
    /// Register regions.
    pub regions: Vec<RegionInfo>,
    /// IRQ output names, in `irq` order.
    pub irq_outputs: Vec<String>,
    /// GPIO input names.
    pub gpio_inputs: Vec<String>,
    /// Snapshot format version (0: no snapshots).
    pub state_version: u32,
    ops: ffi::DeviceOps,
}

impl TypeInfo {
    /// Bytes from the first region's start to the last one's end.
    pub fn size(&self) -> u32 {
        self.regions.last().map_or(0, |r| r.offset + r.size)
    }
}

/// A loaded plugin library (never unloaded).
#[derive(Debug)]
pub struct Library {
    /// The file it was loaded from.
    pub path: PathBuf,
    /// The plugin's name.
    pub name: String,
    /// The plugin's own version.
    pub version: String,
    /// The ABI version it was built for, `(major << 16) | minor`.
    pub abi_version: u32,
    /// Its device types.
    pub types: Vec<TypeInfo>,
    /// True if the file looks like Rust code built with `panic = "abort"` (see
    /// [`built_with_panic_abort`]): a panic in it ends the armlet process.
    pub panic_abort: bool,
    _lib: libloading::Library,
}

/// Whether the library at `path` is Rust code built with `panic = "abort"`, as far as its
/// bytes tell: the Rust runtime is there (`rust_begin_unwind`) with the `panic_abort`
/// runtime crate and without `panic_unwind`. A stripped library may not tell (false).
pub fn built_with_panic_abort(path: &Path) -> bool {
    let Ok(bytes) = std::fs::read(path) else {
        return false;
    };
    let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    has(b"rust_begin_unwind") && has(b"panic_abort") && !has(b"panic_unwind")
}

impl Library {
    /// The type called `name`.
    pub fn find(&self, name: &str) -> Option<&TypeInfo> {
        self.types.iter().find(|t| t.name == name)
    }

    /// What `armlet plugin inspect` prints.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "plugin:  {} {}", self.name, self.version);
        let _ = writeln!(s, "file:    {}", self.path.display());
        if self.panic_abort {
            let _ = writeln!(
                s,
                "panic:   abort (warning: a panic in this plugin ends armlet; build it with panic = \"unwind\")"
            );
        }
        let _ = writeln!(
            s,
            "ABI:     {}.{} (this armlet: {}.0 to {}.{})",
            self.abi_version >> 16,
            self.abi_version & 0xffff,
            ffi::ABI_MAJOR,
            ffi::ABI_MAJOR,
            ffi::ABI_MINOR
        );
        for t in &self.types {
            let _ = writeln!(s, "\ndevice type \"{}\": {}", t.name, t.doc);
            let _ = writeln!(s, "  size: {:#x} bytes", t.size());
            for r in &t.regions {
                let sizes: Vec<String> = [1, 2, 4]
                    .iter()
                    .filter(|&&n| r.access & n != 0)
                    .map(|n| (n * 8).to_string())
                    .collect();
                let _ = writeln!(
                    s,
                    "  region {:<12} offset {:#06x} size {:#06x} access {}-bit",
                    r.name,
                    r.offset,
                    r.size,
                    sizes.join("/")
                );
            }
            let list = |v: &[String]| {
                if v.is_empty() {
                    "none".to_string()
                } else {
                    v.iter()
                        .enumerate()
                        .map(|(i, n)| format!("{i}: {n}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            };
            let _ = writeln!(s, "  IRQ outputs: {}", list(&t.irq_outputs));
            let _ = writeln!(s, "  GPIO inputs: {}", list(&t.gpio_inputs));
            if t.params.is_empty() {
                let _ = writeln!(s, "  params: none");
            } else {
                let _ = writeln!(s, "  params:");
            }
            for p in &t.params {
                let default = match &p.default {
                    Some(v) => format!("default {v}"),
                    None => "required".into(),
                };
                let _ = writeln!(s, "    {:<14} {} ({default}): {}", p.name, p.kind, p.doc);
            }
            let _ = match t.state_version {
                0 => writeln!(s, "  snapshots: not supported"),
                v => writeln!(s, "  snapshots: state version {v}"),
            };
        }
        s
    }
}

/// Libraries loaded so far, by canonical path.
static LOADED: Mutex<Vec<&'static Library>> = Mutex::new(Vec::new());

/// True once this process has loaded a plugin library (from `--plugin` or a machine file).
pub fn any_loaded() -> bool {
    !LOADED.lock().unwrap_or_else(|e| e.into_inner()).is_empty()
}

/// The IRQ output names of device type `kind` from the plugin libraries loaded so far (for
/// reports naming an interrupt's source).
pub fn loaded_irq_outputs(kind: &str) -> Vec<String> {
    LOADED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .find_map(|l| l.find(kind))
        .map(|t| t.irq_outputs.clone())
        .unwrap_or_default()
}

/// Load a plugin library (or return it if this process already loaded it). Loading runs the
/// library's initialisers, so load only paths the user named.
pub fn load(path: &Path) -> Result<&'static Library, PluginError> {
    // Errors show the file armlet opens: a relative path is shown resolved, with what it was
    // relative to.
    let shown = match std::path::absolute(path) {
        Ok(abs) if path.is_relative() => format!(
            "{} (`{}`, relative to the current directory)",
            abs.display(),
            path.display()
        ),
        _ => path.display().to_string(),
    };
    let canon = std::fs::canonicalize(path).map_err(|err| PluginError::Missing {
        path: shown.clone(),
        err,
    })?;
    std::fs::File::open(&canon).map_err(|err| PluginError::Missing {
        path: shown.clone(),
        err,
    })?;
    let mut loaded = LOADED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(l) = loaded.iter().find(|l| l.path == canon) {
        return Ok(l);
    }
    let lib = open(&canon, &shown)?;
    let lib: &'static Library = Box::leak(Box::new(lib));
    loaded.push(lib);
    Ok(lib)
}

fn open(path: &Path, shown: &str) -> Result<Library, PluginError> {
    // SAFETY: loading a library runs its initialisers; we only load files the user named
    // (machine file or --plugin), which is the documented trust model of plugins.
    let lib = unsafe { libloading::Library::new(path) }.map_err(|e| PluginError::NotALibrary {
        path: shown.into(),
        msg: e.to_string(),
    })?;
    let missing = |symbol| PluginError::MissingSymbol {
        path: shown.into(),
        symbol,
    };
    // SAFETY: the ABI defines `armlet_plugin_abi_version` as a `const uint32_t`; we only read
    // the address of the data symbol here, not call anything.
    let version_ptr: *const u32 = unsafe {
        *lib.get::<*const u32>(ffi::VERSION_SYMBOL.as_bytes())
            .map_err(|_| missing(ffi::VERSION_SYMBOL))?
    };
    if version_ptr.is_null() {
        return Err(missing(ffi::VERSION_SYMBOL));
    }
    // SAFETY: the symbol is a `uint32_t` object exported by the library, readable for as
    // long as the library is loaded (it stays loaded: `lib` is kept).
    let version = unsafe { version_ptr.read_unaligned() };
    if version >> 16 != ffi::ABI_MAJOR || version & 0xffff > ffi::ABI_MINOR {
        return Err(PluginError::AbiMismatch {
            path: shown.into(),
            plugin: version,
        });
    }
    // SAFETY: the ABI defines `armlet_plugin_entry` with exactly the type `EntryFn`; the
    // version check above established that this library speaks our ABI.
    let entry: ffi::EntryFn = unsafe {
        *lib.get::<ffi::EntryFn>(ffi::ENTRY_SYMBOL.as_bytes())
            .map_err(|_| missing(ffi::ENTRY_SYMBOL))?
    };
    let bad = |msg: String| PluginError::BadDescription {
        path: shown.into(),
        msg,
    };
    // SAFETY: calling the entry function as the ABI defines it. It must not unwind (the SDK
    // catches panics; C cannot unwind).
    let info = unsafe { entry(ffi::ABI_VERSION) };
    if info.is_null() {
        return Err(bad(format!(
            "`{}` returned NULL (the plugin refused host ABI {}.{})",
            ffi::ENTRY_SYMBOL,
            ffi::ABI_MAJOR,
            ffi::ABI_MINOR
        )));
    }
    // SAFETY: a non-null description from the entry function lives as long as the library,
    // with `struct_size` readable bytes.
    let info: ffi::PluginInfo =
        unsafe { read_sized(info) }.map_err(|m| bad(format!("plugin info: {m}")))?;
    // SAFETY: the strings of a valid description are valid while the library is loaded.
    let name = unsafe { string(info.name) }.map_err(|m| bad(format!("plugin name: {m}")))?;
    // SAFETY: as above.
    let version_str =
        unsafe { string(info.version) }.map_err(|m| bad(format!("plugin version: {m}")))?;
    let mut types = Vec::new();
    // SAFETY: `types` holds `num_types` size-prefixed structs (the ABI's array rule).
    for (i, t) in unsafe { read_array(info.types, info.num_types) }
        .map_err(|m| bad(format!("device types: {m}")))?
        .into_iter()
        .enumerate()
    {
        // SAFETY: the type description comes from the plugin's valid description.
        let ty = unsafe { type_info(&t) }.map_err(|m| bad(format!("device type #{i}: {m}")))?;
        if types.iter().any(|x: &TypeInfo| x.name == ty.name) {
            return Err(bad(format!(
                "device type \"{}\" is declared twice",
                ty.name
            )));
        }
        types.push(ty);
    }
    let panic_abort = built_with_panic_abort(path);
    if panic_abort {
        tracing::warn!("{}", panic_abort_warning(shown));
    }
    Ok(Library {
        path: path.to_path_buf(),
        name,
        version: version_str,
        abi_version: version,
        types,
        panic_abort,
        _lib: lib,
    })
}

fn panic_abort_warning(shown: &str) -> String {
    format!(
        "plugin {shown} is built with panic = \"abort\": a panic in it ends the armlet process instead of failing only its device; build it with panic = \"unwind\" (e.g. [profile.release] panic = \"unwind\" in the plugin's workspace Cargo.toml)"
    )
}

/// The longest string a description may hold.
const MAX_STR: usize = 1 << 16;
/// The most entries an array of a description may hold.
const MAX_ARRAY: usize = 1 << 12;

/// A copy of a size-prefixed struct written by a plugin: at most `struct_size` bytes are
/// read; fields beyond it (a plugin built for an older minor) stay zero.
///
/// # Safety
/// `p` must be null or point to a struct whose first `struct_size` bytes are readable. `T`
/// must be one of the `ffi` structs starting with `struct_size: u32`, for which all-zero
/// bytes are a valid value (integers, raw pointers, `Option` of function pointers).
unsafe fn read_sized<T: Copy>(p: *const T) -> Result<T, String> {
    if p.is_null() {
        return Err("NULL pointer".into());
    }
    // SAFETY: the caller guarantees the leading `struct_size` field is readable.
    let size = unsafe { p.cast::<u32>().read_unaligned() } as usize;
    // Every field of ABI 1.0 must be there: the 1.0 structs are today's.
    if size < std::mem::size_of::<T>() {
        return Err(format!(
            "struct_size {size} is smaller than the {} bytes of ABI {}.0",
            std::mem::size_of::<T>(),
            ffi::ABI_MAJOR
        ));
    }
    let mut out = std::mem::MaybeUninit::<T>::zeroed();
    // SAFETY: we copy at most size_of::<T>() bytes from a struct that has at least `size`
    // readable bytes into `out`, which is size_of::<T>() bytes long and does not overlap.
    unsafe {
        std::ptr::copy_nonoverlapping(
            p.cast::<u8>(),
            out.as_mut_ptr().cast::<u8>(),
            size.min(std::mem::size_of::<T>()),
        );
    }
    // SAFETY: all-zero is valid for `T` (caller's guarantee) and the copied prefix came from
    // a value of the same type.
    Ok(unsafe { out.assume_init() })
}

/// Copies of the `n` size-prefixed structs at `p`, stepping by the first one's size.
///
/// # Safety
/// As [`read_sized`], for each of the `n` elements.
unsafe fn read_array<T: Copy>(p: *const T, n: usize) -> Result<Vec<T>, String> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if n > MAX_ARRAY {
        return Err(format!("{n} entries (at most {MAX_ARRAY})"));
    }
    if p.is_null() {
        return Err(format!("NULL array of {n} entries"));
    }
    // SAFETY: the first element's size field is readable (caller's guarantee).
    let stride = unsafe { p.cast::<u32>().read_unaligned() } as usize;
    let mut v = Vec::with_capacity(n);
    for i in 0..n {
        // SAFETY: element `i` lies `i * stride` bytes after the first (the ABI's array rule).
        let e = unsafe { p.cast::<u8>().add(i * stride).cast::<T>() };
        // SAFETY: as above.
        v.push(unsafe { read_sized(e) }.map_err(|m| format!("entry {i}: {m}"))?);
    }
    Ok(v)
}

/// A description string, checked to be UTF-8.
///
/// # Safety
/// `s.ptr` must be valid for `s.len` bytes (or `s` be `{NULL, 0}`).
unsafe fn string(s: ffi::Str) -> Result<String, String> {
    if s.len == 0 {
        return Ok(String::new());
    }
    if s.ptr.is_null() {
        return Err(format!("NULL string of length {}", s.len));
    }
    if s.len > MAX_STR {
        return Err(format!("string of {} bytes (at most {MAX_STR})", s.len));
    }
    // SAFETY: the caller guarantees `ptr` is valid for `len` bytes.
    let bytes = unsafe { std::slice::from_raw_parts(s.ptr, s.len) };
    std::str::from_utf8(bytes)
        .map(str::to_owned)
        .map_err(|_| "string is not UTF-8".into())
}

/// Names from an array of `ffi::Str`.
///
/// # Safety
/// `p` must be valid for `n` `Str`s, each valid as for [`string`].
unsafe fn names(p: *const ffi::Str, n: usize) -> Result<Vec<String>, String> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if p.is_null() || n > MAX_ARRAY {
        return Err(format!("bad array of {n} names"));
    }
    (0..n)
        // SAFETY: `p` holds `n` strings (caller's guarantee).
        .map(|i| unsafe { string(*p.add(i)) })
        .collect()
}

/// A checked copy of a device type description.
///
/// # Safety
/// `t` must come from a plugin description valid while its library is loaded.
unsafe fn type_info(t: &ffi::DeviceType) -> Result<TypeInfo, String> {
    // SAFETY: strings of a valid description.
    let name = unsafe { string(t.name) }?;
    if name.is_empty() {
        return Err("empty type name".into());
    }
    let at = |m: String| format!("\"{name}\": {m}");
    // SAFETY: as above.
    let doc = unsafe { string(t.doc) }.map_err(at)?;
    let mut params = Vec::new();
    // SAFETY: `params` holds `num_params` size-prefixed structs.
    let param_descs = unsafe { read_array(t.params, t.num_params) };
    for p in param_descs.map_err(|m| at(format!("params: {m}")))? {
        // SAFETY: strings of a valid description.
        let pname = unsafe { string(p.name) }.map_err(at)?;
        let pat = |m: String| at(format!("param `{pname}`: {m}"));
        if pname.is_empty() || params.iter().any(|x: &ParamInfo| x.name == pname) {
            return Err(pat("empty or duplicate name".into()));
        }
        // SAFETY: as above.
        let pdoc = unsafe { string(p.doc) }.map_err(pat)?;
        let (kind, default) = match p.kind {
            ffi::PARAM_BOOL => {
                if p.default_int != 0 && p.default_int != 1 {
                    return Err(pat(format!("bool default {} is not 0 or 1", p.default_int)));
                }
                (ParamKind::Bool, toml::Value::Boolean(p.default_int == 1))
            }
            ffi::PARAM_INT => {
                if p.min > p.max {
                    return Err(pat(format!("min {} > max {}", p.min, p.max)));
                }
                if p.required == 0 && !(p.min..=p.max).contains(&p.default_int) {
                    return Err(pat(format!(
                        "default {} is not in {}..={}",
                        p.default_int, p.min, p.max
                    )));
                }
                (
                    ParamKind::Int {
                        min: p.min,
                        max: p.max,
                    },
                    toml::Value::Integer(p.default_int),
                )
            }
            ffi::PARAM_STRING => (
                ParamKind::Str,
                // SAFETY: as above.
                toml::Value::String(unsafe { string(p.default_str) }.map_err(pat)?),
            ),
            k => return Err(pat(format!("unknown kind {k}"))),
        };
        params.push(ParamInfo {
            name: pname,
            doc: pdoc,
            kind,
            default: (p.required == 0).then_some(default),
        });
    }
    let mut regions: Vec<RegionInfo> = Vec::new();
    let mut offset = 0u32;
    // SAFETY: `regions` holds `num_regions` size-prefixed structs.
    for (i, r) in unsafe { read_array(t.regions, t.num_regions) }
        .map_err(|m| at(format!("regions: {m}")))?
        .into_iter()
        .enumerate()
    {
        // SAFETY: strings of a valid description.
        let rname = unsafe { string(r.name) }.map_err(at)?;
        if r.size == 0 || r.size % 4 != 0 {
            return Err(at(format!(
                "region #{i}: size {:#x} is not a non-zero multiple of 4",
                r.size
            )));
        }
        if r.access == 0 || r.access & !ffi::ACCESS_ALL != 0 {
            return Err(at(format!("region #{i}: bad access mask {:#x}", r.access)));
        }
        regions.push(RegionInfo {
            name: rname,
            offset,
            size: r.size,
            access: r.access,
        });
        offset = offset
            .checked_add(r.size)
            .ok_or_else(|| at("regions add up to more than 4 GiB".into()))?;
    }
    if regions.is_empty() {
        return Err(at("no register region".into()));
    }
    // SAFETY: name arrays of a valid description.
    let irq_outputs = unsafe { names(t.irq_outputs, t.num_irq_outputs) }.map_err(at)?;
    // SAFETY: as above.
    let gpio_inputs = unsafe { names(t.gpio_inputs, t.num_gpio_inputs) }.map_err(at)?;
    // SAFETY: `ops` points to a size-prefixed operations table.
    let ops: ffi::DeviceOps = unsafe { read_sized(t.ops) }.map_err(|m| at(format!("ops: {m}")))?;
    for (f, n) in [
        (ops.create.is_some(), "create"),
        (ops.destroy.is_some(), "destroy"),
        (ops.read.is_some(), "read"),
        (ops.write.is_some(), "write"),
    ] {
        if !f {
            return Err(at(format!("operation `{n}` is NULL")));
        }
    }
    if t.state_version != 0 && (ops.save.is_none() || ops.restore.is_none()) {
        return Err(at("state_version set but `save`/`restore` is NULL".into()));
    }
    Ok(TypeInfo {
        name,
        doc,
        params,
        regions,
        irq_outputs,
        gpio_inputs,
        state_version: t.state_version,
        ops,
    })
}

/// True if the machine-file entry is a plugin device: it names a `plugin`, or `plugins`
/// (from `--plugin`) are given and its type is not built in (built-in types win).
pub fn is_plugin_device(desc: &DeviceDesc, plugins: &[PathBuf]) -> bool {
    desc.plugin.is_some()
        || (!plugins.is_empty()
            && !crate::devices::types()
                .iter()
                .any(|(t, _)| *t == desc.kind.as_str()))
}

/// Build the plugin device for a machine-file entry: its type from the entry's `plugin`
/// library or the one `--plugin` library that declares it; `params` and `irq` checked
/// against the type. Errors name the device.
pub fn create(desc: &DeviceDesc, plugins: &[PathBuf], cpu_hz: u64) -> Result<Built, String> {
    let name = &desc.name;
    let (lib, ty) = match &desc.plugin {
        Some(p) => {
            let lib = load(p).map_err(|e| format!("device '{name}': {e}"))?;
            let ty = lib.find(&desc.kind).ok_or_else(|| {
                format!(
                    "device '{name}': plugin {} has no device type \"{}\" (it has: {})",
                    p.display(),
                    desc.kind,
                    type_list(lib)
                )
            })?;
            (lib, ty)
        }
        None => {
            let mut found = Vec::new();
            let mut libs = Vec::new();
            for p in plugins {
                let lib = load(p).map_err(|e| format!("device '{name}': {e}"))?;
                libs.push(lib);
                if let Some(t) = lib.find(&desc.kind) {
                    found.push((lib, t));
                }
            }
            match found.len() {
                1 => found[0],
                0 => {
                    let mut from = String::new();
                    for l in &libs {
                        let _ = write!(from, "; {}: {}", l.path.display(), type_list(l));
                    }
                    return Err(format!(
                        "device '{name}': unknown type \"{}\" (built in: {}{from})",
                        desc.kind,
                        crate::devices::types()
                            .iter()
                            .map(|t| t.0)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                _ => {
                    return Err(format!(
                        "device '{name}': type \"{}\" is provided by several plugins ({}); name one with `plugin = \"...\"`",
                        desc.kind,
                        found
                            .iter()
                            .map(|(l, _)| l.path.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                }
            }
        }
    };
    let what = format!("device '{name}' (type \"{}\")", desc.kind);
    // Accesses reach the plugin as offsets checked for natural alignment, so the base must
    // be aligned to the largest access size the type allows.
    let align = ty
        .regions
        .iter()
        .map(|r| {
            if r.access & 4 != 0 {
                4
            } else if r.access & 2 != 0 {
                2
            } else {
                1
            }
        })
        .max()
        .unwrap_or(1);
    if !desc.base.is_multiple_of(align) {
        return Err(format!(
            "{what}: key `base`: {:#010x} is not aligned to {align} bytes (the type's registers take {}-bit accesses); use e.g. {:#010x}",
            desc.base,
            align * 8,
            desc.base & !(align - 1)
        ));
    }
    if desc.irq.len() > ty.irq_outputs.len() {
        return Err(format!(
            "{what}: key `irq`: {} line{} given, but the type has {} IRQ output{} ({})",
            desc.irq.len(),
            if desc.irq.len() == 1 { "" } else { "s" },
            ty.irq_outputs.len(),
            if ty.irq_outputs.len() == 1 { "" } else { "s" },
            if ty.irq_outputs.is_empty() {
                "none".to_string()
            } else {
                ty.irq_outputs.join(", ")
            }
        ));
    }
    if let Some(size) = desc.size {
        if size < ty.size() {
            return Err(format!(
                "{what}: key `size`: {size:#x} is smaller than the {:#x} bytes of the type's register regions",
                ty.size()
            ));
        }
    }
    let dev = PluginDevice::new(lib, ty, name, &desc.params, cpu_hz)
        .map_err(|e| format!("{what}: {e}"))?;
    Ok(Built {
        device: Box::new(dev),
        size: ty.size(),
        is_uart: false,
    })
}

fn type_list(lib: &Library) -> String {
    if lib.types.is_empty() {
        return "no types".into();
    }
    lib.types
        .iter()
        .map(|t| format!("\"{}\"", t.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Check `params` against the type's schema: every key declared, of the right kind and in
/// range, every required one given. Returns the values in declaration order.
fn check_params(ty: &TypeInfo, params: &toml::Table) -> Result<Vec<toml::Value>, String> {
    let known = || {
        if ty.params.is_empty() {
            "it takes none".to_string()
        } else {
            format!(
                "known: {}",
                ty.params
                    .iter()
                    .map(|p| format!("`{}`", p.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    };
    if let Some(k) = params
        .keys()
        .find(|k| !ty.params.iter().any(|p| &p.name == *k))
    {
        return Err(format!("unknown param `{k}` ({})", known()));
    }
    let mut out = Vec::new();
    for p in &ty.params {
        let v = match (params.get(&p.name), &p.default) {
            (Some(v), _) => v.clone(),
            (None, Some(d)) => d.clone(),
            (None, None) => {
                return Err(format!(
                    "missing param `{}` ({}: {}); it has no default",
                    p.name, p.kind, p.doc
                ))
            }
        };
        let ok = match (p.kind, &v) {
            (ParamKind::Bool, toml::Value::Boolean(_)) => true,
            (ParamKind::Int { min, max }, toml::Value::Integer(i)) => (min..=max).contains(i),
            (ParamKind::Str, toml::Value::String(_)) => true,
            _ => false,
        };
        if !ok {
            return Err(format!(
                "param `{}`: expected {}, got {} ({v})",
                p.name,
                p.kind,
                v.type_str()
            ));
        }
        out.push(v);
    }
    Ok(out)
}

/// What to do when a plugin device instance fails (besides the bus errors and the log).
pub type FailureHook = Box<dyn Fn(&str) + Send + Sync>;

static FAILURE_HOOK: OnceLock<FailureHook> = OnceLock::new();

/// Install the process-wide hook called (with the logged message) whenever a plugin device
/// instance fails; `armlet run --on-plugin-failure stop` uses it to end the run. Returns
/// false if a hook was already installed.
pub fn on_failure(hook: FailureHook) -> bool {
    FAILURE_HOOK.set(hook).is_ok()
}

/// Set by `wake` from any thread; taken on the emulator thread.
#[derive(Debug, Default)]
struct WakeFlag {
    pending: AtomicBool,
}

/// What a plugin instance is handed and may keep a pointer to: the ABI context (`ffi::Ctx`
/// first, so a `*mut ffi::Ctx` is a `*mut Handle`) and the out-buffer armlet passes to
/// `read`/`debug_peek` (a 4-byte value) and `create` (the instance pointer). Leaked: never
/// freed and never reused, so a context or out-pointer a buggy plugin keeps past its callback
/// still points at memory reserved for it, not at armlet's state. The host never trusts a
/// context pointer by dereferencing it: it compares it with the handle of the callback in
/// progress on this thread ([`ACTIVE`]) and looks anything else up in [`HANDLES`].
#[repr(C)]
struct Handle {
    ffi: ffi::Ctx,
    slot: Slot,
}

/// Out-buffer bytes: the first `len` are the value the callback may write, the rest hold
/// [`CANARY`]; a callback that writes past its value damages them and is reported. Kept as
/// words so arming and checking cost four stores and four compares per callback.
#[repr(C, align(8))]
struct Slot(std::cell::UnsafeCell<[u64; SLOT_WORDS]>);

const SLOT_BYTES: usize = 32;
const SLOT_WORDS: usize = SLOT_BYTES / 8;
const CANARY: u8 = 0xa5;
const CANARY_WORD: u64 = u64::from_ne_bytes([CANARY; 8]);

// SAFETY: the slot is written only by the plugin callback in progress (through the raw
// pointer it was given) and read by the host thread that made that call, after it returned;
// the rest of `Handle` is immutable after construction.
unsafe impl Sync for Handle {}

/// The bits of word `i` of a slot that hold canary bytes when the first `len` bytes are the
/// value (in memory order, so the low-address bytes are the value's).
fn canary_mask(i: usize, len: usize) -> u64 {
    let value_bytes = len.saturating_sub(8 * i).min(8);
    let mut mask = [0xffu8; 8];
    mask[..value_bytes].fill(0);
    u64::from_ne_bytes(mask)
}

impl Slot {
    fn new() -> Slot {
        Slot(std::cell::UnsafeCell::new([CANARY_WORD; SLOT_WORDS]))
    }
    fn ptr(&self) -> *mut u8 {
        self.0.get().cast()
    }
    /// Zero the first `len` bytes and fill the rest with the canary.
    fn arm(&self, len: usize) {
        let w = self.0.get().cast::<u64>();
        for i in 0..SLOT_WORDS {
            // SAFETY: the slot is ours, `SLOT_WORDS` aligned words; no callback is running
            // on it now. Volatile: the plugin writes it behind the compiler's back.
            unsafe { w.add(i).write_volatile(CANARY_WORD & canary_mask(i, len)) }
        }
    }
    /// The bytes after the call; `Err` if anything past the first `len` changed.
    fn take(&self, len: usize) -> Result<[u8; SLOT_BYTES], ()> {
        let w = self.0.get().cast::<u64>();
        let mut out = [0u8; SLOT_BYTES];
        let mut damaged = 0;
        for i in 0..SLOT_WORDS {
            // SAFETY: as in `arm`: the callback has returned.
            let v = unsafe { w.add(i).read_volatile() };
            damaged |= (v ^ CANARY_WORD) & canary_mask(i, len);
            out[8 * i..8 * i + 8].copy_from_slice(&v.to_ne_bytes());
        }
        if damaged == 0 {
            Ok(out)
        } else {
            Err(())
        }
    }
}

/// The host's private state of an instance's context (owned by the `PluginDevice`).
struct CtxCell {
    /// The `DeviceCtx` of the callback in progress, or null between callbacks and during
    /// `create`/`debug_peek`/`save`/`restore`. Host services other than log/now/cpu_hz work
    /// only while it is set.
    dctx: Cell<*mut c_void>,
    cpu_hz: u64,
    plugin: String,
    instance: String,
    misuse_logged: Cell<bool>,
    /// Errors the plugin logged during the callback in progress: reported when it returns,
    /// folded into the one failure report if the callback failed (a Rust panic is then one
    /// line, not the plugin's message and the host's).
    errors: std::cell::RefCell<Vec<String>>,
}

/// How many error messages of one callback are kept for its report.
const MAX_CALLBACK_ERRORS: usize = 8;

thread_local! {
    /// The handle and host state of the plugin callback in progress on this thread, if any.
    static ACTIVE: Cell<(*const Handle, *const CtxCell)> =
        const { Cell::new((std::ptr::null(), std::ptr::null())) };
    /// The writer of the `save` in progress on this thread, if any.
    static ACTIVE_WRITER: Cell<*const VecWriter> = const { Cell::new(std::ptr::null()) };
}

/// Every handle ever given to a plugin (address → "plugin device 'x' (plugin ...)"), to name
/// the culprit when a context is used outside its callback; consulted only then.
static HANDLES: Mutex<Option<std::collections::HashMap<usize, Arc<str>>>> = Mutex::new(None);
/// Misuses already logged (handle address or 0, service): each is logged once.
static MISUSES: Mutex<Option<std::collections::HashSet<(usize, &'static str)>>> = Mutex::new(None);

/// A plugin called host service `what` with `ctx`, which is not the context of the callback
/// in progress on this thread: refuse (the caller returns its default) and log it, naming the
/// plugin if `ctx` is one of ours. `ctx` is never dereferenced.
fn misuse(ctx: *mut ffi::Ctx, what: &'static str) {
    let addr = ctx as usize;
    let owner = HANDLES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .and_then(|m| m.get(&addr).cloned());
    let key = (if owner.is_some() { addr } else { 0 }, what);
    {
        let mut logged = MISUSES.lock().unwrap_or_else(|e| e.into_inner());
        let set = logged.get_or_insert_with(Default::default);
        if set.len() > 4096 || !set.insert(key) {
            return;
        }
    }
    let _ = catch_unwind(|| {
        let active = ACTIVE.with(|a| a.get().1);
        match owner {
            Some(who) => tracing::warn!(
                "{who}: called host service `{what}` outside a callback that received its context; refused (host services work only during a callback, on the thread that made it)"
            ),
            None if !active.is_null() => {
                // SAFETY: `active` is the live host state of the callback in progress on
                // this thread (set and cleared by `PluginDevice::call`).
                let c = unsafe { &*active };
                tracing::warn!(
                    "plugin device '{}' ({}): called host service `{what}` with an unknown context pointer {ctx:p}; refused",
                    c.instance,
                    c.plugin
                )
            }
            None => tracing::warn!(
                "a plugin called host service `{what}` with an unknown context pointer {ctx:p} outside any callback; refused"
            ),
        }
    });
}

static HOST_API: ffi::HostApi = ffi::HostApi {
    struct_size: ffi::size_of_u32::<ffi::HostApi>(),
    reserved: 0,
    log: Some(host_log),
    now: Some(host_now),
    cpu_hz: Some(host_cpu_hz),
    set_irq: Some(host_set_irq),
    schedule: Some(host_schedule),
    cancel: Some(host_cancel),
    dma_read: Some(host_dma_read),
    dma_write: Some(host_dma_write),
    wake: Some(host_wake),
    log_enabled: Some(host_log_enabled),
};

/// The host's state behind a context the plugin passed back, if it is the context of the
/// callback in progress on this thread (otherwise the misuse is logged and `None` returned).
fn cell<'a>(ctx: *mut ffi::Ctx, what: &'static str) -> Option<&'a CtxCell> {
    let (handle, state) = ACTIVE.with(Cell::get);
    if ctx.is_null() || ctx.cast_const().cast::<Handle>() != handle {
        misuse(ctx, what);
        return None;
    }
    // SAFETY: `state` belongs to the callback in progress on this thread, which outlives
    // this host call (it is cleared when the callback returns); accessed only through `&`
    // and `Cell`s.
    Some(unsafe { &*state })
}

/// Run `f` with the `DeviceCtx` of the callback in progress (`default` when there is none).
fn with_dctx<R>(
    ctx: *mut ffi::Ctx,
    what: &'static str,
    default: R,
    f: impl FnOnce(&mut DeviceCtx<'_>) -> R,
) -> R {
    let Some(c) = cell(ctx, what) else {
        return default;
    };
    let p = c.dctx.get();
    if p.is_null() {
        if !c.misuse_logged.replace(true) {
            tracing::warn!(
                "plugin device '{}' ({}): host service `{what}` is not available in this callback; ignored",
                c.instance,
                c.plugin
            );
        }
        return default;
    }
    // SAFETY: `dctx` is set only for the duration of a callback to a `DeviceCtx` that the
    // adapter borrows mutably for that whole call and does not touch while the plugin runs.
    let d = unsafe { &mut *p.cast::<DeviceCtx<'_>>() };
    // Host services must not unwind into the plugin.
    catch_unwind(AssertUnwindSafe(|| f(d))).unwrap_or(default)
}

unsafe extern "C" fn host_log(ctx: *mut ffi::Ctx, level: u32, msg: ffi::Str) {
    let Some(c) = cell(ctx, "log") else {
        return;
    };
    // SAFETY: the plugin passes a string valid for this call.
    let text = unsafe { string(msg) }.unwrap_or_else(|e| format!("(bad log message: {e})"));
    let _ = catch_unwind(AssertUnwindSafe(|| {
        let (who, plugin) = (&c.instance, &c.plugin);
        match level {
            ffi::LOG_ERROR => {
                let mut errors = c.errors.borrow_mut();
                if errors.len() < MAX_CALLBACK_ERRORS {
                    errors.push(text);
                }
            }
            ffi::LOG_WARN => tracing::warn!("plugin device '{who}' ({plugin}): {text}"),
            ffi::LOG_INFO => tracing::info!("plugin device '{who}' ({plugin}): {text}"),
            ffi::LOG_DEBUG => tracing::debug!("plugin device '{who}' ({plugin}): {text}"),
            _ => tracing::trace!("plugin device '{who}' ({plugin}): {text}"),
        }
    }));
}

unsafe extern "C" fn host_log_enabled(ctx: *mut ffi::Ctx, level: u32) -> u32 {
    if cell(ctx, "log_enabled").is_none() {
        return 0;
    }
    let on = match level {
        ffi::LOG_ERROR => tracing::enabled!(tracing::Level::ERROR),
        ffi::LOG_WARN => tracing::enabled!(tracing::Level::WARN),
        ffi::LOG_INFO => tracing::enabled!(tracing::Level::INFO),
        ffi::LOG_DEBUG => tracing::enabled!(tracing::Level::DEBUG),
        _ => tracing::enabled!(tracing::Level::TRACE),
    };
    u32::from(on)
}

unsafe extern "C" fn host_now(ctx: *mut ffi::Ctx) -> u64 {
    let Some(c) = cell(ctx, "now") else {
        return 0;
    };
    let p = c.dctx.get();
    if p.is_null() {
        return 0;
    }
    // SAFETY: as in `with_dctx`: set only during a callback, to a live `DeviceCtx`.
    unsafe { (*p.cast::<DeviceCtx<'_>>()).now() }
}

unsafe extern "C" fn host_cpu_hz(ctx: *mut ffi::Ctx) -> u64 {
    cell(ctx, "cpu_hz").map_or(0, |c| c.cpu_hz)
}

unsafe extern "C" fn host_set_irq(ctx: *mut ffi::Ctx, output: u32, level: u32) {
    with_dctx(ctx, "set_irq", (), |d| {
        d.set_irq(output as usize, level != 0)
    })
}

unsafe extern "C" fn host_schedule(ctx: *mut ffi::Ctx, at: u64, token: u64) {
    with_dctx(ctx, "schedule", (), |d| d.schedule(at, token))
}

unsafe extern "C" fn host_cancel(ctx: *mut ffi::Ctx, token: u64) {
    with_dctx(ctx, "cancel", (), |d| d.cancel(token))
}

unsafe extern "C" fn host_dma_read(
    ctx: *mut ffi::Ctx,
    addr: u32,
    buf: *mut u8,
    len: usize,
) -> ffi::Status {
    if buf.is_null() && len != 0 {
        return ffi::INVALID;
    }
    // A length past the end of the 4 GiB guest address space is garbage: refused before a
    // slice of it is made.
    if (len as u64).saturating_add(u64::from(addr)) > 1 << 32 {
        return if cell(ctx, "dma_read").is_some() {
            ffi::BUS_ERROR
        } else {
            ffi::INVALID
        };
    }
    with_dctx(ctx, "dma_read", ffi::INVALID, |d| {
        let slice: &mut [u8] = if len == 0 {
            &mut []
        } else {
            // SAFETY: the plugin passes a buffer valid for `len` bytes (at most 4 GiB) for
            // this call.
            unsafe { std::slice::from_raw_parts_mut(buf, len) }
        };
        match d.dma_read(addr, slice) {
            Ok(()) => ffi::OK,
            Err(_) => ffi::BUS_ERROR,
        }
    })
}

unsafe extern "C" fn host_dma_write(
    ctx: *mut ffi::Ctx,
    addr: u32,
    bytes: *const u8,
    len: usize,
) -> ffi::Status {
    if bytes.is_null() && len != 0 {
        return ffi::INVALID;
    }
    if (len as u64).saturating_add(u64::from(addr)) > 1 << 32 {
        return if cell(ctx, "dma_write").is_some() {
            ffi::BUS_ERROR
        } else {
            ffi::INVALID
        };
    }
    with_dctx(ctx, "dma_write", ffi::INVALID, |d| {
        let slice: &[u8] = if len == 0 {
            &[]
        } else {
            // SAFETY: the plugin passes bytes valid for `len` (at most 4 GiB) for this call.
            unsafe { std::slice::from_raw_parts(bytes, len) }
        };
        match d.dma_write(addr, slice) {
            Ok(()) => ffi::OK,
            Err(_) => ffi::BUS_ERROR,
        }
    })
}

unsafe extern "C" fn host_wake(waker: *mut ffi::Waker) {
    if waker.is_null() {
        return;
    }
    let known = WAKERS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .is_some_and(|w| w.contains(&(waker as usize)));
    if !known {
        misuse(waker.cast(), "wake");
        return;
    }
    // SAFETY: `waker` is one we handed out (checked above): a leaked `Arc<WakeFlag>`, never
    // freed, so valid forever, and `WakeFlag` is thread-safe.
    let flag = unsafe { &*waker.cast::<WakeFlag>() };
    flag.pending.store(true, Ordering::Release);
    crate::device::wake_signal().notify();
}

/// The largest chunk a plugin may hand the snapshot writer at once (anything larger is a
/// garbage length).
const MAX_SNAPSHOT_CHUNK: usize = 1 << 30;

/// Every waker handed out (leaked `Arc<WakeFlag>` addresses), so `wake` can check its
/// argument before using it.
static WAKERS: Mutex<Option<std::collections::HashSet<usize>>> = Mutex::new(None);

/// Collects `save` output.
#[repr(C)]
struct VecWriter {
    ffi: ffi::Writer,
    out: Vec<u8>,
}

unsafe extern "C" fn writer_write(
    w: *mut ffi::Writer,
    bytes: *const u8,
    len: usize,
) -> ffi::Status {
    let active = ACTIVE_WRITER.with(Cell::get);
    if w.is_null() || w.cast_const().cast::<VecWriter>() != active {
        misuse(w.cast(), "writer.write");
        return ffi::INVALID;
    }
    if (bytes.is_null() && len != 0) || len > MAX_SNAPSHOT_CHUNK {
        return ffi::INVALID;
    }
    if len == 0 {
        return ffi::OK;
    }
    // SAFETY: `w` is the `VecWriter` of the `save` in progress on this thread (checked
    // above; `ffi` is its first field, repr(C)), alive and not otherwise borrowed during
    // that call; `bytes` is valid for `len` (at most 1 GiB).
    unsafe {
        let vw = &mut *w.cast::<VecWriter>();
        vw.out
            .extend_from_slice(std::slice::from_raw_parts(bytes, len));
    }
    ffi::OK
}

/// A plugin device instance, adapted to the machine's [`Device`] trait.
pub struct PluginDevice {
    lib: &'static Library,
    ty: &'static TypeInfo,
    /// The plugin's instance (from `create`), destroyed on drop.
    dev: *mut c_void,
    /// What the plugin holds: context and out-buffer (leaked, never freed).
    handle: &'static Handle,
    /// Our state behind the context (`Box::into_raw`), freed on drop.
    ctx: *mut CtxCell,
    wake: Arc<WakeFlag>,
    failed: bool,
    /// Refused accesses already logged: (offset, size, write); at most `MAX_REFUSALS_LOGGED`.
    refusals_logged: Vec<(u32, u8, bool)>,
    /// Callbacks made so far (the watchdog tells them apart by this number).
    calls: u64,
    watch: Arc<crate::watchdog::Watch>,
    /// The `create` arguments' parameter names and strings: kept alive for the instance's
    /// life, so a plugin that keeps pointers to them (instead of copying) reads valid data.
    _params: (Vec<ffi::ParamValue>, Vec<String>, Box<str>),
}

/// How many distinct refused accesses of one device are logged.
const MAX_REFUSALS_LOGGED: usize = 16;

/// Callback kinds (indexes into `watchdog::OPS`).
mod op {
    pub const CREATE: usize = 0;
    pub const READ: usize = 1;
    pub const WRITE: usize = 2;
    pub const RESET: usize = 4;
    pub const TIMER: usize = 5;
    pub const WAKE: usize = 6;
    pub const GPIO_IN: usize = 7;
    pub const SAVE: usize = 8;
    pub const RESTORE: usize = 9;
    pub const DESTROY: usize = 10;
}

// SAFETY: the ABI allows an instance to be called from any thread as long as calls never
// overlap; `&mut self` on every call that reaches the plugin (and `&self` for the
// side-effect-free `peek`, never concurrent with `&mut` uses) guarantees that. The context
// cell is only touched from the thread running a callback.
unsafe impl Send for PluginDevice {}

impl std::fmt::Debug for PluginDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginDevice")
            .field("plugin", &self.lib.name)
            .field("type", &self.ty.name)
            .field("instance", &self.instance())
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

impl PluginDevice {
    /// Instantiate `ty` of `lib` as `instance` with machine-file `params` (checked against
    /// the type first). The instance is not reset yet (the machine resets every device).
    pub fn new(
        lib: &'static Library,
        ty: &'static TypeInfo,
        instance: &str,
        params: &toml::Table,
        cpu_hz: u64,
    ) -> Result<PluginDevice, String> {
        let values = check_params(ty, params)?;
        let strings: Vec<String> = values
            .iter()
            .map(|v| match v {
                toml::Value::String(s) => s.clone(),
                _ => String::new(),
            })
            .collect();
        let names: Vec<ffi::ParamValue> = ty
            .params
            .iter()
            .zip(&values)
            .zip(&strings)
            .map(|((p, v), s)| ffi::ParamValue {
                struct_size: ffi::size_of_u32::<ffi::ParamValue>(),
                kind: match p.kind {
                    ParamKind::Bool => ffi::PARAM_BOOL,
                    ParamKind::Int { .. } => ffi::PARAM_INT,
                    ParamKind::Str => ffi::PARAM_STRING,
                },
                name: ffi::Str::of(&p.name),
                int_value: match v {
                    toml::Value::Boolean(b) => i64::from(*b),
                    toml::Value::Integer(i) => *i,
                    _ => 0,
                },
                str_value: ffi::Str::of(s),
            })
            .collect();
        let wake = Arc::new(WakeFlag::default());
        if ty.ops.wake.is_some() {
            // This instance may wake a sleeping machine from its own threads.
            crate::device::wake_signal()
                .sources
                .fetch_add(1, Ordering::Relaxed);
        }
        // Leaked on purpose: a plugin thread may call `wake` at any time, even after the
        // instance is gone, so the waker must stay valid forever (one flag per instance).
        let waker = Arc::into_raw(Arc::clone(&wake)) as *mut ffi::Waker;
        WAKERS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert_with(Default::default)
            .insert(waker as usize);
        let instance_name: Box<str> = instance.into();
        let args = ffi::CreateArgs {
            struct_size: ffi::size_of_u32::<ffi::CreateArgs>(),
            reserved: 0,
            instance_name: ffi::Str::of(&instance_name),
            params: if names.is_empty() {
                std::ptr::null()
            } else {
                names.as_ptr()
            },
            num_params: names.len(),
            waker,
            cpu_hz,
        };
        let label = format!(
            "plugin device '{instance}' (type \"{}\", plugin {} {})",
            ty.name,
            lib.name,
            lib.path.display()
        );
        // Leaked on purpose (a few dozen bytes per instance): see `Handle`.
        let handle: &'static Handle = Box::leak(Box::new(Handle {
            ffi: ffi::Ctx {
                struct_size: ffi::size_of_u32::<ffi::Ctx>(),
                reserved: 0,
                api: &HOST_API,
            },
            slot: Slot::new(),
        }));
        HANDLES
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert_with(Default::default)
            .insert(handle as *const Handle as usize, label.as_str().into());
        let ctx = Box::into_raw(Box::new(CtxCell {
            dctx: Cell::new(std::ptr::null_mut()),
            cpu_hz,
            plugin: format!("plugin {} {}", lib.name, lib.path.display()),
            instance: instance.to_string(),
            misuse_logged: Cell::new(false),
            errors: Default::default(),
        }));
        let mut d = PluginDevice {
            lib,
            ty,
            dev: std::ptr::null_mut(),
            handle,
            ctx,
            wake,
            failed: false,
            refusals_logged: Vec::new(),
            calls: 0,
            watch: crate::watchdog::register(label),
            _params: (names, strings, instance_name),
        };
        let create = ty.ops.create.expect("checked at load");
        let out = handle.slot.ptr().cast::<*mut c_void>();
        let argp: *const ffi::CreateArgs = &args;
        // SAFETY: the context is active during the call; `args` and everything it points to
        // (kept in `d._params`) outlive it; `out` is our slot, 8-aligned and large enough.
        let r = d.call(
            None,
            op::CREATE,
            std::mem::size_of::<*mut c_void>(),
            |_, c| unsafe { create(c, argp, out) },
        );
        let dev = match r {
            // SAFETY: the slot holds the pointer-sized value `create` wrote (or zero).
            Ok((ffi::OK, b)) => unsafe { b.as_ptr().cast::<*mut c_void>().read_unaligned() },
            Ok((status, _)) => {
                let why = d.take_errors().join("; ");
                return Err(if why.is_empty() {
                    format!("the plugin refused to create it (status {status})")
                } else {
                    format!("the plugin refused to create it (status {status}): {why}")
                });
            }
            Err(msg) => return Err(format!("the plugin misbehaved in `create`: {msg}")),
        };
        if dev.is_null() {
            return Err(
                "the plugin's `create` returned OK but no instance (a NULL pointer)".into(),
            );
        }
        d.dev = dev;
        Ok(d)
    }

    /// The instance name.
    pub fn instance(&self) -> &str {
        // SAFETY: `ctx` is live until drop.
        unsafe { &(*self.ctx).instance }
    }

    /// The plugin library.
    pub fn library(&self) -> &'static Library {
        self.lib
    }

    /// The device type.
    pub fn type_info(&self) -> &'static TypeInfo {
        self.ty
    }

    /// True once a callback failed (a caught panic): every access is then a bus error.
    pub fn is_failed(&self) -> bool {
        self.failed
    }

    /// Call the plugin with our context active for the duration of the call: `f` gets the
    /// instance, the context and the out-buffer, whose first `out_len` bytes it may write.
    /// Returns the status and the out-buffer, or what went wrong if the plugin wrote past
    /// `out_len` bytes of it.
    fn call(
        &mut self,
        dctx: Option<&mut DeviceCtx<'_>>,
        what: usize,
        out_len: usize,
        f: impl FnOnce(*mut c_void, *mut ffi::Ctx) -> ffi::Status,
    ) -> Result<(ffi::Status, [u8; SLOT_BYTES]), String> {
        let p = dctx.map_or(std::ptr::null_mut(), |d| {
            d as *mut DeviceCtx<'_> as *mut c_void
        });
        // SAFETY: `self.ctx` is live until drop; the plugin reaches it only through host
        // services during `f`, while the `DeviceCtx` it points to is mutably borrowed by us and
        // not otherwise touched.
        unsafe { (*self.ctx).dctx.set(p) };
        self.handle.slot.arm(out_len);
        let handle: *const Handle = self.handle;
        let prev = ACTIVE.with(|a| a.replace((handle, self.ctx)));
        self.flush_errors(); // any left from a failed callback whose caller did not report them
        self.calls += 1;
        self.watch.enter(self.calls, what);
        let status = f(self.dev, handle.cast_mut().cast());
        self.watch.leave();
        ACTIVE.with(|a| a.set(prev));
        if status != ffi::FAILED && what != op::CREATE {
            self.flush_errors();
        }
        // SAFETY: as above.
        unsafe { (*self.ctx).dctx.set(std::ptr::null_mut()) };
        match self.handle.slot.take(out_len) {
            Ok(b) => Ok((status, b)),
            Err(()) => {
                self.handle.slot.arm(0);
                Err(if out_len == 0 {
                    "it wrote through a pointer to armlet's out-buffer kept from an earlier callback"
                        .to_string()
                } else {
                    format!("it wrote past the end of the {out_len}-byte out-buffer armlet gave it")
                })
            }
        }
    }

    /// A callback without out-buffer: its status, or a failure status if it misbehaved.
    fn call_status(
        &mut self,
        dctx: Option<&mut DeviceCtx<'_>>,
        what: usize,
        f: impl FnOnce(*mut c_void, *mut ffi::Ctx) -> ffi::Status,
    ) -> (ffi::Status, Option<String>) {
        match self.call(dctx, what, 0, f) {
            Ok((st, _)) => (st, None),
            Err(m) => (ffi::FAILED, Some(m)),
        }
    }

    /// The errors the plugin logged in the last callback, not reported yet.
    fn take_errors(&mut self) -> Vec<String> {
        // SAFETY: `ctx` is live until drop; no callback is in progress (we are the caller).
        std::mem::take(&mut *unsafe { &*self.ctx }.errors.borrow_mut())
    }

    /// Report the errors the plugin logged in its last callback.
    fn flush_errors(&mut self) {
        for e in self.take_errors() {
            tracing::error!(
                "plugin device '{}' (plugin {} {}): {e}",
                self.instance(),
                self.lib.name,
                self.lib.path.display()
            );
        }
    }

    /// Mark the instance failed after `what` returned `status` (`detail`: how it misbehaved,
    /// if it did more than return a failure status).
    fn fail(
        &mut self,
        what: &str,
        status: ffi::Status,
        detail: Option<String>,
        ctx: Option<&mut DeviceCtx<'_>>,
    ) {
        self.failed = true;
        if let Some(ctx) = ctx {
            for i in 0..self.ty.irq_outputs.len() {
                ctx.set_irq(i, false);
            }
        }
        let logged = self.take_errors();
        let why = match detail {
            Some(d) => d,
            None if !logged.is_empty() => logged.join("; "),
            None => format!("status {status}"),
        };
        let msg = format!(
            "plugin device '{}' (type \"{}\", plugin {} {}) failed in `{what}` ({why}): it is disabled, every further access to it is a bus error",
            self.instance(),
            self.ty.name,
            self.lib.name,
            self.lib.path.display()
        );
        tracing::error!("{msg}");
        if let Some(hook) = FAILURE_HOOK.get() {
            hook(&msg);
        }
    }

    /// Deliver a pending `wake` before another callback.
    fn deliver_wake(&mut self, ctx: &mut DeviceCtx<'_>) {
        // A plain load first: the locked swap costs more than the rest of the check, and a
        // wake is rare next to register accesses.
        if !self.wake.pending.load(Ordering::Relaxed)
            || !self.wake.pending.swap(false, Ordering::Acquire)
        {
            return;
        }
        let Some(f) = self.ty.ops.wake else { return };
        // SAFETY: `dev` is our live instance and the context is active during the call.
        let (st, bad) = self.call_status(Some(ctx), op::WAKE, |dev, c| unsafe { f(dev, c) });
        if st != ffi::OK {
            self.fail("wake", st, bad, Some(ctx));
        }
    }

    /// Log a refused access (once per offset, size and direction; the first
    /// `MAX_REFUSALS_LOGGED` of them): the guest takes a BusFault for it.
    fn refused(&mut self, offset: u32, size: u8, write: bool, why: &str) {
        let key = (offset, size, write);
        if self.refusals_logged.contains(&key) || self.refusals_logged.len() >= MAX_REFUSALS_LOGGED
        {
            return;
        }
        self.refusals_logged.push(key);
        let more = if self.refusals_logged.len() == MAX_REFUSALS_LOGGED {
            " (further refusals of this device are not logged)"
        } else {
            ""
        };
        tracing::warn!(
            "plugin device '{}' (type \"{}\", plugin {}): {}-bit {} at offset {offset:#x} refused: {why}; the guest gets a BusFault{more}",
            self.instance(),
            self.ty.name,
            self.lib.name,
            u32::from(size) * 8,
            if write { "write" } else { "read" },
        );
    }

    /// Why the host refuses a `size`-byte access at `offset` before calling the plugin.
    fn why_not(&self, offset: u32, size: u8) -> String {
        let size32 = u32::from(size);
        let Some(r) = self
            .ty
            .regions
            .iter()
            .find(|r| offset.checked_sub(r.offset).is_some_and(|o| o < r.size))
        else {
            let list: Vec<String> = self
                .ty
                .regions
                .iter()
                .map(|r| format!("'{}' {:#x}..{:#x}", r.name, r.offset, r.offset + r.size - 1))
                .collect();
            return format!("outside the type's register regions ({})", list.join(", "));
        };
        if !offset.is_multiple_of(size32) {
            return format!(
                "misaligned ({size}-byte access at an offset not a multiple of {size})"
            );
        }
        if r.access & size32 == 0 {
            let sizes: Vec<String> = [1u32, 2, 4]
                .iter()
                .filter(|&&n| r.access & n != 0)
                .map(|n| format!("{}-bit", n * 8))
                .collect();
            return format!(
                "region '{}' allows only {} accesses",
                r.name,
                sizes.join(" and ")
            );
        }
        format!(
            "the access runs past the end of region '{}' ({:#x}..{:#x})",
            r.name,
            r.offset,
            r.offset + r.size - 1
        )
    }

    /// (region index, offset in region) of a `size`-byte access at `offset`, if the type
    /// allows it: inside one region, a declared size, aligned.
    fn locate(&self, offset: u32, size: u8) -> Option<(u32, u32)> {
        let size = u32::from(size);
        if !matches!(size, 1 | 2 | 4) || !offset.is_multiple_of(size) {
            return None;
        }
        self.ty.regions.iter().enumerate().find_map(|(i, r)| {
            let off = offset.checked_sub(r.offset)?;
            (off < r.size && off + size <= r.size && r.access & size != 0)
                .then_some((i as u32, off))
        })
    }

    /// Drive GPIO input `line` to `level` (no machine wiring exists yet: for tests and
    /// future boards).
    pub fn gpio_in(
        &mut self,
        line: u32,
        level: bool,
        ctx: &mut DeviceCtx<'_>,
    ) -> Result<(), String> {
        if self.failed {
            return Err("the device has failed".into());
        }
        if line as usize >= self.ty.gpio_inputs.len() {
            return Err(format!("no GPIO input {line}"));
        }
        self.deliver_wake(ctx);
        let Some(f) = self.ty.ops.gpio_in else {
            return Ok(());
        };
        // SAFETY: `dev` is our live instance and the context is active during the call.
        let (st, bad) = self.call_status(Some(ctx), op::GPIO_IN, |dev, c| unsafe {
            f(dev, c, line, u32::from(level))
        });
        if st != ffi::OK {
            self.fail("gpio_in", st, bad, Some(ctx));
            return Err("the device failed".into());
        }
        Ok(())
    }

    /// Snapshot the instance: (state version, bytes). An error if the type cannot snapshot
    /// (the host must then refuse to snapshot rather than write a broken one).
    pub fn save(&mut self) -> Result<(u32, Vec<u8>), String> {
        let f = match self.ty.ops.save {
            Some(f) if self.ty.state_version != 0 => f,
            _ => return Err(format!("device type \"{}\" cannot snapshot", self.ty.name)),
        };
        let mut w = VecWriter {
            ffi: ffi::Writer {
                struct_size: ffi::size_of_u32::<ffi::Writer>(),
                reserved: 0,
                write: Some(writer_write),
            },
            out: Vec::new(),
        };
        let wp: *mut VecWriter = &mut w;
        let prev = ACTIVE_WRITER.with(|a| a.replace(wp));
        // SAFETY: `dev` is our live instance; `wp` is a live writer for this call.
        let r = self.call_status(None, op::SAVE, |dev, _| unsafe { f(dev, wp.cast()) });
        ACTIVE_WRITER.with(|a| a.set(prev));
        match r {
            (ffi::OK, None) => Ok((self.ty.state_version, w.out)),
            (_, Some(m)) => Err(format!("`save` misbehaved: {m}")),
            (s, None) => Err(format!("`save` failed (status {s})")),
        }
    }

    /// Restore a snapshot written by [`PluginDevice::save`] with state version `version`.
    pub fn restore(&mut self, version: u32, bytes: &[u8]) -> Result<(), String> {
        let Some(f) = self.ty.ops.restore.filter(|_| self.ty.state_version != 0) else {
            return Err(format!("device type \"{}\" cannot snapshot", self.ty.name));
        };
        let (p, n) = (bytes.as_ptr(), bytes.len());
        // SAFETY: `dev` is our live instance; `bytes` is valid for `n` bytes for the call.
        let r = self.call_status(None, op::RESTORE, |dev, _| unsafe { f(dev, p, n, version) });
        match r {
            (ffi::OK, None) => {
                self.failed = false;
                Ok(())
            }
            (_, Some(m)) => Err(format!("`restore` misbehaved: {m}")),
            (s, None) => Err(format!(
                "`restore` of state version {version} failed (status {s})"
            )),
        }
    }
}

fn size_mask(size: u8) -> u32 {
    match size {
        1 => 0xff,
        2 => 0xffff,
        _ => u32::MAX,
    }
}

impl Device for PluginDevice {
    fn read(&mut self, offset: u32, size: u8, ctx: &mut DeviceCtx<'_>) -> Result<u32, BusError> {
        if self.failed {
            return Err(BusError::DeviceError);
        }
        let Some((region, off)) = self.locate(offset, size) else {
            let why = self.why_not(offset, size);
            self.refused(offset, size, false, &why);
            return Err(BusError::Denied);
        };
        self.deliver_wake(ctx);
        if self.failed {
            return Err(BusError::DeviceError);
        }
        let read = self.ty.ops.read.expect("checked at load");
        let vp = self.handle.slot.ptr().cast::<u32>();
        // SAFETY: `dev` is our live instance, the context is active during the call and `vp`
        // is our 8-aligned out-buffer (4 bytes for the value, canaries after).
        let r = self.call(Some(ctx), op::READ, 4, |dev, c| unsafe {
            read(dev, c, region, off, u32::from(size), vp)
        });
        match r {
            Ok((ffi::OK, b)) => Ok(u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) & size_mask(size)),
            Ok((ffi::BUS_ERROR, _)) => {
                self.refused(offset, size, false, "the plugin answered with a bus error");
                Err(BusError::Denied)
            }
            Ok((s, _)) => {
                self.fail("read", s, None, Some(ctx));
                Err(BusError::DeviceError)
            }
            Err(m) => {
                self.fail("read", ffi::FAILED, Some(m), Some(ctx));
                Err(BusError::DeviceError)
            }
        }
    }

    fn write(
        &mut self,
        offset: u32,
        size: u8,
        value: u32,
        ctx: &mut DeviceCtx<'_>,
    ) -> Result<(), BusError> {
        if self.failed {
            return Err(BusError::DeviceError);
        }
        let Some((region, off)) = self.locate(offset, size) else {
            let why = self.why_not(offset, size);
            self.refused(offset, size, true, &why);
            return Err(BusError::Denied);
        };
        self.deliver_wake(ctx);
        if self.failed {
            return Err(BusError::DeviceError);
        }
        let write = self.ty.ops.write.expect("checked at load");
        let value = value & size_mask(size);
        // SAFETY: `dev` is our live instance and the context is active during the call.
        let (st, bad) = self.call_status(Some(ctx), op::WRITE, |dev, c| unsafe {
            write(dev, c, region, off, u32::from(size), value)
        });
        match st {
            ffi::OK => Ok(()),
            ffi::BUS_ERROR if bad.is_none() => {
                self.refused(offset, size, true, "the plugin answered with a bus error");
                Err(BusError::Denied)
            }
            s => {
                self.fail("write", s, bad, Some(ctx));
                Err(BusError::DeviceError)
            }
        }
    }

    fn peek(&self, offset: u32, size: u8) -> Option<u32> {
        if self.failed {
            return None;
        }
        let (region, off) = self.locate(offset, size).or_else(|| {
            // Debuggers read words: allow any size the region holds, side-effect free.
            let size32 = u32::from(size);
            self.ty.regions.iter().enumerate().find_map(|(i, r)| {
                let o = offset.checked_sub(r.offset)?;
                (o < r.size && o + size32 <= r.size).then_some((i as u32, o))
            })
        })?;
        let f = self.ty.ops.debug_peek?;
        let slot = &self.handle.slot;
        slot.arm(4);
        let vp = slot.ptr().cast::<u32>();
        // SAFETY: `dev` is our live instance; `debug_peek` gets no context and must not have
        // side effects; `vp` is our 8-aligned out-buffer (4 bytes for the value).
        let st = unsafe { f(self.dev, region, off, u32::from(size), vp) };
        match slot.take(4) {
            Ok(b) if st == ffi::OK => {
                Some(u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) & size_mask(size))
            }
            Ok(_) => None,
            Err(()) => {
                slot.arm(0);
                tracing::error!(
                    "plugin device '{}' (type \"{}\", plugin {} {}): `debug_peek` wrote past the end of the 4-byte out-buffer armlet gave it; value ignored",
                    self.instance(),
                    self.ty.name,
                    self.lib.name,
                    self.lib.path.display()
                );
                None
            }
        }
    }

    fn reset(&mut self, ctx: &mut DeviceCtx<'_>) {
        if self.failed {
            return;
        }
        self.wake.pending.store(false, Ordering::Relaxed);
        let Some(f) = self.ty.ops.reset else { return };
        // SAFETY: `dev` is our live instance and the context is active during the call.
        let (st, bad) = self.call_status(Some(ctx), op::RESET, |dev, c| unsafe { f(dev, c) });
        if st != ffi::OK {
            self.fail("reset", st, bad, Some(ctx));
        }
    }

    fn wake(&mut self, ctx: &mut DeviceCtx<'_>) {
        if !self.failed {
            self.deliver_wake(ctx);
        }
    }

    fn event(&mut self, token: u64, ctx: &mut DeviceCtx<'_>) {
        if self.failed {
            return;
        }
        self.deliver_wake(ctx);
        if self.failed {
            return;
        }
        let Some(f) = self.ty.ops.timer else { return };
        // SAFETY: `dev` is our live instance and the context is active during the call.
        let (st, bad) =
            self.call_status(Some(ctx), op::TIMER, |dev, c| unsafe { f(dev, c, token) });
        if st != ffi::OK {
            self.fail("timer", st, bad, Some(ctx));
        }
    }
}

impl Drop for PluginDevice {
    fn drop(&mut self) {
        if let (Some(destroy), false) = (self.ty.ops.destroy, self.dev.is_null()) {
            let dev = self.dev;
            // `destroy` gets no context: host services called from it are refused.
            self.calls += 1;
            self.watch.enter(self.calls, op::DESTROY);
            // SAFETY: `dev` came from this type's `create` and is destroyed exactly once.
            unsafe { destroy(dev) };
            self.watch.leave();
        }
        crate::watchdog::unregister(&self.watch);
        // SAFETY: `ctx` came from Box::into_raw in `new` and the plugin may no longer use it.
        drop(unsafe { Box::from_raw(self.ctx) });
    }
}
