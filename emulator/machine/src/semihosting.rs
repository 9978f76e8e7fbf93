//! Arm semihosting (v2) as QEMU implements it for 32-bit Arm, with two deliberate
//! differences: time comes from the virtual clock (runs are reproducible: SYS_TIME is a
//! fixed epoch, [`DEFAULT_EPOCH`] unless the user chose another, plus the virtual time
//! elapsed), and host file access is confined to a directory the user names.
//!
//! Guest-visible details follow QEMU (`semihosting/arm-compat-semi.c`): handles start at 1;
//! `:tt` opened for reading is stdin, for writing stdout, for appending stderr; WRITE and READ
//! return the number of bytes *not* transferred; errno values are the host's (Linux), which
//! match newlib's for the common ones; SYS_EXIT with ADP_Stopped_ApplicationExit exits 0 and
//! anything else 1; SYS_EXIT_EXTENDED passes its subcode through.

use crate::device::{Rx, Serial};
use armlet_cpu::Bus;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Component, Path, PathBuf};

/// `ADP_Stopped_ApplicationExit`: the "normal exit" reason.
pub const ADP_STOPPED_APPLICATION_EXIT: u32 = 0x20026;
/// What SYS_TIME answers at virtual time 0 unless the user chooses another epoch
/// ([`Semihosting::set_epoch`]): 2026-01-01T00:00:00Z, in seconds since 1970. Fixed, so runs
/// are reproducible, and recent, so libraries' "is the clock plausible" checks pass
/// (picolibc's tests want a date after 2020-09-13).
pub const DEFAULT_EPOCH: u64 = 1_767_225_600;
/// Longest file name or command accepted from the guest.
const MAX_NAME: u32 = 4096;
/// Longest string SYS_WRITE0 prints.
const MAX_WRITE0: u32 = 1 << 20;
/// Most files open at once.
const MAX_HANDLES: usize = 256;
/// What `:semihosting-features` reads: magic and feature byte (EXIT_EXTENDED | STDOUT_STDERR).
const FEATURES: [u8; 5] = [b'S', b'H', b'F', b'B', 0x03];

const EPERM: u32 = 1;
#[cfg(test)]
const ENOENT: u32 = 2;
const EBADF: u32 = 9;
const EACCES: u32 = 13;
const EFAULT: u32 = 14;
const EINVAL: u32 = 22;
#[cfg(test)]
const EISDIR: u32 = 21;
const EMFILE: u32 = 24;
const ENOSYS: u32 = 38;

/// The HEAPINFO answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeapInfo {
    /// Heap base.
    pub heap_base: u32,
    /// Heap limit.
    pub heap_limit: u32,
    /// Stack base (initial SP, the top).
    pub stack_base: u32,
    /// Stack limit (lowest address).
    pub stack_limit: u32,
}

/// Semihosting settings.
#[derive(Debug, Clone, Default)]
pub struct SemihostConfig {
    /// Directory file operations are confined to; `None` refuses them all.
    pub root: Option<PathBuf>,
    /// Allow SYS_SYSTEM.
    pub allow_system: bool,
    /// What SYS_GET_CMDLINE returns.
    pub cmdline: String,
    /// Virtual clock frequency (ticks per second).
    pub cpu_hz: u64,
    /// The HEAPINFO answer.
    pub heap: HeapInfo,
}

/// What a call asks of the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Put this in R0 and continue.
    Return(u32),
    /// The program exits with this status.
    Exit(i32),
}

/// Where console I/O goes.
pub trait Console: Send + std::fmt::Debug {
    /// Write to stdout; must not lose output (flush).
    fn write_out(&mut self, b: &[u8]);
    /// Write to stderr.
    fn write_err(&mut self, b: &[u8]);
    /// Read from stdin, blocking until something is there; 0 at end of input.
    fn read_in(&mut self, buf: &mut [u8]) -> usize;
    /// Read one byte of stdin without blocking (UART receive).
    fn try_read_in(&mut self) -> Rx {
        Rx::Eof
    }
}

/// The process's own stdin/stdout/stderr; stdout is flushed after every write. Stdin is
/// read by a background thread (started on first use) so that UARTs can poll it: a
/// terminal is polled without blocking, piped or redirected input is delivered as if it
/// were all there from the start (deterministic).
#[derive(Debug, Default)]
pub struct StdConsole {
    stdin: Option<std::sync::mpsc::Receiver<u8>>,
    eof: bool,
    interactive: Option<bool>,
}

impl StdConsole {
    /// A console on the process's standard streams.
    pub fn new() -> Self {
        StdConsole::default()
    }

    /// True if stdin is a terminal: input then arrives when the user types it.
    fn interactive(&mut self) -> bool {
        use std::io::IsTerminal;
        *self
            .interactive
            .get_or_insert_with(|| std::io::stdin().is_terminal())
    }

    fn stdin(&mut self) -> &std::sync::mpsc::Receiver<u8> {
        self.stdin.get_or_insert_with(|| {
            let (tx, rx) = std::sync::mpsc::sync_channel(4096);
            std::thread::spawn(move || {
                let mut buf = [0u8; 1024];
                let mut input = std::io::stdin();
                while let Ok(n @ 1..) = input.read(&mut buf) {
                    for &b in &buf[..n] {
                        if tx.send(b).is_err() {
                            return;
                        }
                    }
                }
            });
            rx
        })
    }
}

impl Console for StdConsole {
    fn write_out(&mut self, b: &[u8]) {
        let mut out = std::io::stdout().lock();
        // A closed stdout (e.g. `| head`) must not stop the emulation.
        let _ = out.write_all(b).and_then(|_| out.flush());
    }
    fn write_err(&mut self, b: &[u8]) {
        let _ = std::io::stderr().lock().write_all(b);
    }
    fn read_in(&mut self, buf: &mut [u8]) -> usize {
        if buf.is_empty() || self.eof {
            return 0;
        }
        let rx = self.stdin();
        let Ok(first) = rx.recv() else {
            self.eof = true;
            return 0;
        };
        buf[0] = first;
        let mut n = 1;
        while n < buf.len() {
            match rx.try_recv() {
                Ok(b) => {
                    buf[n] = b;
                    n += 1;
                    if b == b'\n' {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        n
    }
    fn try_read_in(&mut self) -> Rx {
        if self.eof {
            return Rx::Eof;
        }
        if !self.interactive() {
            // Piped or redirected input is read as if it were all there from the start:
            // wait for the next byte (or the end), so runs stay deterministic.
            return match self.stdin().recv() {
                Ok(b) => Rx::Byte(b),
                Err(_) => {
                    self.eof = true;
                    Rx::Eof
                }
            };
        }
        match self.stdin().try_recv() {
            Ok(b) => Rx::Byte(b),
            Err(std::sync::mpsc::TryRecvError::Empty) => Rx::Empty,
            Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                self.eof = true;
                Rx::Eof
            }
        }
    }
}

/// One console shared by semihosting, the console UART and ITM.
#[derive(Debug, Clone)]
pub struct SharedConsole(pub std::sync::Arc<std::sync::Mutex<Box<dyn Console>>>);

impl SharedConsole {
    /// Share `console`.
    pub fn new(console: Box<dyn Console>) -> Self {
        SharedConsole(std::sync::Arc::new(std::sync::Mutex::new(console)))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Box<dyn Console>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Console for SharedConsole {
    fn write_out(&mut self, b: &[u8]) {
        self.lock().write_out(b);
    }
    fn write_err(&mut self, b: &[u8]) {
        self.lock().write_err(b);
    }
    fn read_in(&mut self, buf: &mut [u8]) -> usize {
        self.lock().read_in(buf)
    }
    fn try_read_in(&mut self) -> Rx {
        self.lock().try_read_in()
    }
}

impl Serial for SharedConsole {
    fn write(&mut self, bytes: &[u8]) {
        self.write_out(bytes);
    }
    fn read(&mut self) -> Rx {
        self.try_read_in()
    }
}

#[derive(Debug)]
enum Handle {
    Stdin,
    Stdout,
    Stderr,
    Features(usize),
    File(File),
}

/// Semihosting state: configuration, open handles, errno.
#[derive(Debug)]
pub struct Semihosting {
    config: SemihostConfig,
    console: Box<dyn Console>,
    handles: Vec<Option<Handle>>,
    errno: u32,
    /// SYS_TIME at virtual time 0, seconds since 1970.
    epoch: u64,
}

type Res = Result<u32, u32>;

fn read_bytes(mem: &mut impl Bus, addr: u32, len: u32) -> Result<Vec<u8>, u32> {
    (0..len)
        .map(|i| mem.read8(addr.wrapping_add(i)).map_err(|_| EFAULT))
        .collect()
}

fn read_cstr(mem: &mut impl Bus, addr: u32, max: u32) -> Result<Vec<u8>, u32> {
    let mut v = Vec::new();
    for i in 0..max {
        match mem.read8(addr.wrapping_add(i)).map_err(|_| EFAULT)? {
            0 => return Ok(v),
            b => v.push(b),
        }
    }
    Err(EINVAL)
}

fn write_bytes(mem: &mut impl Bus, addr: u32, b: &[u8]) -> Result<(), u32> {
    for (i, &x) in b.iter().enumerate() {
        mem.write8(addr.wrapping_add(i as u32), x)
            .map_err(|_| EFAULT)?;
    }
    Ok(())
}

fn args<const N: usize>(mem: &mut impl Bus, block: u32) -> Result<[u32; N], u32> {
    let mut a = [0u32; N];
    for (i, v) in a.iter_mut().enumerate() {
        *v = mem
            .read32(block.wrapping_add(4 * i as u32))
            .map_err(|_| EFAULT)?;
    }
    Ok(a)
}

fn io_errno(e: &std::io::Error) -> u32 {
    e.raw_os_error().map_or(EINVAL, |n| n as u32)
}

impl Semihosting {
    /// Semihosting with `config`, console I/O through `console`.
    pub fn new(config: SemihostConfig, console: Box<dyn Console>) -> Self {
        Semihosting {
            config,
            console,
            handles: Vec::new(),
            errno: 0,
            epoch: DEFAULT_EPOCH,
        }
    }

    /// Set what SYS_TIME answers at virtual time 0 (seconds since 1970, UTC); it then
    /// advances with virtual time. SYS_CLOCK and SYS_ELAPSED count from the start of the run
    /// whatever the epoch (as QEMU's count from its start).
    pub fn set_epoch(&mut self, seconds: u64) {
        self.epoch = seconds;
    }

    /// What SYS_TIME answers at virtual time 0 (seconds since 1970, UTC).
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Set the HEAPINFO answer (the machine computes it after loading an image).
    pub fn set_heap(&mut self, heap: HeapInfo) {
        self.config.heap = heap;
    }

    /// Close every handle (machine reset).
    pub fn reset(&mut self) {
        self.handles.clear();
        self.errno = 0;
    }

    /// Perform operation `op` with parameter `param` (R0 and R1 at the BKPT). `ticks` is
    /// the virtual cycle count since reset.
    pub fn call(&mut self, op: u32, param: u32, mem: &mut impl Bus, ticks: u64) -> Outcome {
        let r = match op {
            0x18 => {
                return Outcome::Exit(if param == ADP_STOPPED_APPLICATION_EXIT {
                    0
                } else {
                    1
                })
            }
            0x20 => match args::<2>(mem, param) {
                Ok([reason, sub]) => {
                    return Outcome::Exit(if reason == ADP_STOPPED_APPLICATION_EXIT {
                        sub as i32
                    } else {
                        1
                    })
                }
                Err(e) => Err(e),
            },
            0x01 => self.open(mem, param),
            0x02 => self.close(mem, param),
            0x03 => mem.read8(param).map_err(|_| EFAULT).map(|c| {
                self.console.write_out(&[c]);
                0
            }),
            0x04 => read_cstr(mem, param, MAX_WRITE0).map(|s| {
                self.console.write_out(&s);
                0
            }),
            0x05 => self.write(mem, param),
            0x06 => self.read(mem, param),
            0x07 => {
                let mut b = [0u8; 1];
                Ok(if self.console.read_in(&mut b) == 1 {
                    u32::from(b[0])
                } else {
                    u32::MAX
                })
            }
            0x08 => args::<1>(mem, param).map(|[s]| u32::from((s as i32) < 0)),
            0x09 => self.istty(mem, param),
            0x0a => self.seek(mem, param),
            0x0c => self.flen(mem, param),
            0x0d => self.tmpnam(mem, param),
            0x0e => self.remove(mem, param),
            0x0f => self.rename(mem, param),
            0x10 => Ok((u128::from(ticks) * 100 / u128::from(self.config.cpu_hz.max(1))) as u32),
            // A 32-bit result, as QEMU's on a 32-bit target: it wraps in 2106.
            0x11 => Ok(self.epoch.wrapping_add(ticks / self.config.cpu_hz.max(1)) as u32),
            0x12 => self.system(mem, param),
            0x13 => Ok(self.errno),
            0x15 => self.cmdline(mem, param),
            0x16 => self.heapinfo(mem, param),
            0x30 => args::<1>(mem, param).and(
                write_bytes(mem, param, &(ticks as u32).to_le_bytes())
                    .and_then(|_| {
                        write_bytes(
                            mem,
                            param.wrapping_add(4),
                            &((ticks >> 32) as u32).to_le_bytes(),
                        )
                    })
                    .map(|_| 0),
            ),
            0x31 => Ok(self.config.cpu_hz as u32),
            _ => {
                tracing::warn!("semihosting: unsupported operation {op:#x}");
                Err(ENOSYS)
            }
        };
        match r {
            Ok(v) => Outcome::Return(v),
            Err(e) => {
                self.errno = e;
                Outcome::Return(u32::MAX)
            }
        }
    }

    fn handle(&mut self, h: u32) -> Result<&mut Handle, u32> {
        let i = (h as usize).checked_sub(1).ok_or(EBADF)?;
        self.handles
            .get_mut(i)
            .and_then(Option::as_mut)
            .ok_or(EBADF)
    }

    fn alloc(&mut self, h: Handle) -> Res {
        if let Some(i) = self.handles.iter().position(Option::is_none) {
            self.handles[i] = Some(h);
            return Ok(i as u32 + 1);
        }
        if self.handles.len() >= MAX_HANDLES {
            return Err(EMFILE);
        }
        self.handles.push(Some(h));
        Ok(self.handles.len() as u32)
    }

    /// Resolve a guest file name inside the root, refusing anything that could leave it.
    /// `open` follows a final symlink (and the target must be a regular file inside the
    /// root); `remove` and `rename` act on the directory entry itself, like POSIX `remove`
    /// and `rename`, so a link is removed or renamed, never its target.
    fn resolve(&self, op: &str, name: &[u8]) -> Result<PathBuf, u32> {
        let follow = op == "open";
        let shown = String::from_utf8_lossy(name);
        let Some(root) = &self.config.root else {
            tracing::warn!("semihosting: {op} '{shown}' refused: no --semihosting-root given (or ARMLET_SEMIHOSTING_ROOT)");
            return Err(EPERM);
        };
        let refuse = |why: &str| {
            tracing::warn!("semihosting: {op} '{shown}' refused: {why}");
            EACCES
        };
        let s = std::str::from_utf8(name).map_err(|_| EINVAL)?;
        if s.is_empty() || s.contains('\0') {
            return Err(EINVAL);
        }
        let p = Path::new(s);
        if !p
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
        {
            return Err(refuse("absolute paths and '..' are not allowed"));
        }
        let croot = root.canonicalize().map_err(|e| io_errno(&e))?;
        let full = croot.join(p);
        let file_name = full.file_name().ok_or(EINVAL)?.to_owned();
        let parent = full
            .parent()
            .ok_or(EINVAL)?
            .canonicalize()
            .map_err(|e| io_errno(&e))?;
        if !parent.starts_with(&croot) {
            return Err(refuse("path leaves the semihosting root"));
        }
        let target = parent.join(file_name);
        if !follow {
            return Ok(target);
        }
        if let Ok(meta) = std::fs::symlink_metadata(&target) {
            let real = target.canonicalize().map_err(|e| io_errno(&e))?;
            if !real.starts_with(&croot) {
                return Err(refuse("symlink leads out of the semihosting root"));
            }
            let real_meta = std::fs::metadata(&real).map_err(|e| io_errno(&e))?;
            if !real_meta.is_file() && !real_meta.is_dir()
                || meta.file_type().is_symlink() && !real_meta.is_file()
            {
                return Err(refuse("not a regular file"));
            }
            return Ok(real);
        }
        Ok(target)
    }

    fn open(&mut self, mem: &mut impl Bus, param: u32) -> Res {
        let [name_ptr, mode, len] = args::<3>(mem, param)?;
        if len > MAX_NAME {
            return Err(EINVAL);
        }
        let name = read_bytes(mem, name_ptr, len)?;
        if mode > 11 {
            return Err(EINVAL);
        }
        if name == b":tt" {
            let h = match mode {
                0..=3 => Handle::Stdin,
                4..=7 => Handle::Stdout,
                _ => Handle::Stderr,
            };
            return self.alloc(h);
        }
        if name == b":semihosting-features" {
            if mode > 1 {
                return Err(EACCES);
            }
            return self.alloc(Handle::Features(0));
        }
        let path = self.resolve("open", &name)?;
        let mut o = OpenOptions::new();
        match mode / 2 {
            0 => o.read(true),
            1 => o.read(true).write(true),
            2 => o.write(true).create(true).truncate(true),
            3 => o.read(true).write(true).create(true).truncate(true),
            4 => o.append(true).create(true),
            _ => o.read(true).append(true).create(true),
        };
        // No symlink as the last component (`resolve` returned the real path: one appearing
        // now was swapped in since), and no blocking on a FIFO swapped in either.
        o.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC);
        let f = o.open(&path).map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => {
                tracing::warn!("semihosting: open '{}' refused: a symlink", path.display());
                EACCES
            }
            _ => io_errno(&e),
        })?;
        self.check_opened(&f, &path)?;
        self.alloc(Handle::File(f))
    }

    /// What was actually opened must be a regular file inside the root: checked on the open
    /// file itself (fstat, and the kernel's name for the descriptor), so a path component
    /// swapped for a symlink between `resolve` and `open` cannot lead out.
    fn check_opened(&self, f: &File, path: &Path) -> Result<(), u32> {
        use std::os::fd::AsRawFd;
        let refuse = |why: &str| {
            tracing::warn!("semihosting: open '{}' refused: {why}", path.display());
            EACCES
        };
        let meta = f.metadata().map_err(|e| io_errno(&e))?;
        if !meta.is_file() {
            return Err(refuse("not a regular file"));
        }
        let Some(root) = &self.config.root else {
            return Err(EPERM);
        };
        let croot = root.canonicalize().map_err(|e| io_errno(&e))?;
        if let Ok(real) = std::fs::read_link(format!("/proc/self/fd/{}", f.as_raw_fd())) {
            if !real.starts_with(&croot) {
                return Err(refuse("the file opened is outside the semihosting root"));
            }
        }
        Ok(())
    }

    fn close(&mut self, mem: &mut impl Bus, param: u32) -> Res {
        let [h] = args::<1>(mem, param)?;
        self.handle(h)?;
        self.handles[h as usize - 1] = None;
        Ok(0)
    }

    fn write(&mut self, mem: &mut impl Bus, param: u32) -> Res {
        let [h, buf, len] = args::<3>(mem, param)?;
        self.handle(h)?;
        let mut done = 0u32;
        while done < len {
            let n = (len - done).min(64 * 1024);
            let data = read_bytes(mem, buf.wrapping_add(done), n)?;
            match self.handle(h)? {
                Handle::Stdout => self.console.write_out(&data),
                Handle::Stderr => self.console.write_err(&data),
                Handle::File(f) => f.write_all(&data).map_err(|e| io_errno(&e))?,
                Handle::Stdin | Handle::Features(_) => return Err(EBADF),
            }
            done += n;
        }
        Ok(len - done)
    }

    fn read(&mut self, mem: &mut impl Bus, param: u32) -> Res {
        let [h, buf, len] = args::<3>(mem, param)?;
        let mut chunk = vec![0u8; len.min(64 * 1024) as usize];
        let mut done = 0u32;
        while done < len {
            let want = ((len - done) as usize).min(chunk.len());
            let got = match self.handle(h)? {
                Handle::Stdin => self.console.read_in(&mut chunk[..want]),
                Handle::File(f) => f.read(&mut chunk[..want]).map_err(|e| io_errno(&e))?,
                Handle::Features(pos) => {
                    let rest = FEATURES.get(*pos..).unwrap_or(&[]);
                    let n = rest.len().min(want);
                    chunk[..n].copy_from_slice(&rest[..n]);
                    *pos += n;
                    n
                }
                Handle::Stdout | Handle::Stderr => return Err(EBADF),
            };
            write_bytes(mem, buf.wrapping_add(done), &chunk[..got])?;
            done += got as u32;
            if got < want || matches!(self.handle(h)?, Handle::Stdin) {
                break; // end of file, or a console read that returned what was available
            }
        }
        Ok(len - done)
    }

    fn istty(&mut self, mem: &mut impl Bus, param: u32) -> Res {
        let [h] = args::<1>(mem, param)?;
        Ok(match self.handle(h)? {
            Handle::Stdin | Handle::Stdout | Handle::Stderr => 1,
            _ => 0,
        })
    }

    fn seek(&mut self, mem: &mut impl Bus, param: u32) -> Res {
        let [h, pos] = args::<2>(mem, param)?;
        match self.handle(h)? {
            Handle::File(f) => f
                .seek(SeekFrom::Start(u64::from(pos)))
                .map(|_| 0)
                .map_err(|e| io_errno(&e)),
            Handle::Features(p) => {
                *p = pos as usize;
                Ok(0)
            }
            _ => Err(EBADF),
        }
    }

    fn flen(&mut self, mem: &mut impl Bus, param: u32) -> Res {
        let [h] = args::<1>(mem, param)?;
        match self.handle(h)? {
            Handle::File(f) => f
                .metadata()
                .map(|m| m.len() as u32)
                .map_err(|e| io_errno(&e)),
            Handle::Features(_) => Ok(FEATURES.len() as u32),
            _ => Ok(0),
        }
    }

    fn tmpnam(&mut self, mem: &mut impl Bus, param: u32) -> Res {
        let [buf, id, len] = args::<3>(mem, param)?;
        let name = format!("armlet-tmp-{:03}\0", id & 0xff);
        if (len as usize) < name.len() {
            return Err(EINVAL);
        }
        write_bytes(mem, buf, name.as_bytes())?;
        Ok(0)
    }

    fn remove(&mut self, mem: &mut impl Bus, param: u32) -> Res {
        let [ptr, len] = args::<2>(mem, param)?;
        if len > MAX_NAME {
            return Err(EINVAL);
        }
        let name = read_bytes(mem, ptr, len)?;
        let path = self.resolve("remove", &name)?;
        std::fs::remove_file(path)
            .map(|_| 0)
            .map_err(|e| io_errno(&e))
    }

    fn rename(&mut self, mem: &mut impl Bus, param: u32) -> Res {
        let [a, alen, b, blen] = args::<4>(mem, param)?;
        if alen > MAX_NAME || blen > MAX_NAME {
            return Err(EINVAL);
        }
        let from = read_bytes(mem, a, alen)?;
        let to = read_bytes(mem, b, blen)?;
        let from = self.resolve("rename", &from)?;
        let to = self.resolve("rename", &to)?;
        std::fs::rename(from, to)
            .map(|_| 0)
            .map_err(|e| io_errno(&e))
    }

    fn system(&mut self, mem: &mut impl Bus, param: u32) -> Res {
        let [ptr, len] = args::<2>(mem, param)?;
        if len > MAX_NAME {
            return Err(EINVAL);
        }
        let cmd = String::from_utf8_lossy(&read_bytes(mem, ptr, len)?).into_owned();
        let root = match (&self.config.root, self.config.allow_system) {
            (Some(root), true) => root.clone(),
            _ => {
                tracing::warn!("semihosting: SYS_SYSTEM '{cmd}' refused (needs --allow-system or ARMLET_ALLOW_SYSTEM=1)");
                return Err(EPERM);
            }
        };
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg(&cmd)
            .current_dir(root)
            .status()
            .map_err(|e| io_errno(&e))?;
        Ok(status.code().unwrap_or(-1) as u32)
    }

    fn cmdline(&mut self, mem: &mut impl Bus, param: u32) -> Res {
        let [buf, len] = args::<2>(mem, param)?;
        let mut s = self.config.cmdline.clone().into_bytes();
        s.push(0);
        if s.len() > len as usize {
            return Err(EINVAL);
        }
        write_bytes(mem, buf, &s)?;
        write_bytes(
            mem,
            param.wrapping_add(4),
            &(s.len() as u32 - 1).to_le_bytes(),
        )?;
        Ok(0)
    }

    fn heapinfo(&mut self, mem: &mut impl Bus, param: u32) -> Res {
        let [ptr] = args::<1>(mem, param)?;
        let h = self.config.heap;
        for (i, v) in [h.heap_base, h.heap_limit, h.stack_base, h.stack_limit]
            .iter()
            .enumerate()
        {
            write_bytes(mem, ptr.wrapping_add(4 * i as u32), &v.to_le_bytes())?;
        }
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::Board;
    use crate::memory::Memory;
    use std::sync::{Arc, Mutex};

    #[derive(Debug, Default, Clone)]
    struct Captured {
        out: Arc<Mutex<Vec<u8>>>,
        err: Arc<Mutex<Vec<u8>>>,
        input: Arc<Mutex<Vec<u8>>>,
    }
    impl Console for Captured {
        fn write_out(&mut self, b: &[u8]) {
            self.out.lock().unwrap().extend_from_slice(b);
        }
        fn write_err(&mut self, b: &[u8]) {
            self.err.lock().unwrap().extend_from_slice(b);
        }
        fn read_in(&mut self, buf: &mut [u8]) -> usize {
            let mut i = self.input.lock().unwrap();
            let n = i.len().min(buf.len());
            buf[..n].copy_from_slice(&i[..n]);
            i.drain(..n);
            n
        }
    }

    const BLOCK: u32 = 0x2000_0000;
    const DATA: u32 = 0x2000_1000;

    struct T {
        sh: Semihosting,
        mem: Memory,
        con: Captured,
        _dir: Option<tempfile::TempDir>,
    }

    impl T {
        fn new(root: bool) -> T {
            let dir = root.then(|| tempfile::tempdir().unwrap());
            let con = Captured::default();
            let config = SemihostConfig {
                root: dir.as_ref().map(|d| d.path().to_path_buf()),
                cmdline: "fw.elf one two".into(),
                cpu_hz: 25_000_000,
                ..Default::default()
            };
            T {
                sh: Semihosting::new(config, Box::new(con.clone())),
                mem: Memory::from_board(&Board::mps2_an385()).unwrap(),
                con,
                _dir: dir,
            }
        }
        fn root(&self) -> &Path {
            self._dir.as_ref().unwrap().path()
        }
        fn call(&mut self, op: u32, words: &[u32]) -> u32 {
            for (i, w) in words.iter().enumerate() {
                self.mem.write32(BLOCK + 4 * i as u32, *w).unwrap();
            }
            match self.sh.call(op, BLOCK, &mut self.mem, 50_000_000) {
                Outcome::Return(v) => v,
                Outcome::Exit(c) => panic!("exit {c}"),
            }
        }
        fn put(&mut self, addr: u32, s: &[u8]) {
            self.mem.load(addr, s).unwrap();
        }
        fn open(&mut self, name: &str, mode: u32) -> u32 {
            self.put(DATA, name.as_bytes());
            self.call(0x01, &[DATA, mode, name.len() as u32])
        }
    }

    #[test]
    fn exit_semantics_match_qemu() {
        let mut t = T::new(false);
        assert_eq!(
            t.sh.call(0x18, ADP_STOPPED_APPLICATION_EXIT, &mut t.mem, 0),
            Outcome::Exit(0)
        );
        assert_eq!(t.sh.call(0x18, 0x20023, &mut t.mem, 0), Outcome::Exit(1));
        t.mem.write32(BLOCK, ADP_STOPPED_APPLICATION_EXIT).unwrap();
        t.mem.write32(BLOCK + 4, 3).unwrap();
        assert_eq!(t.sh.call(0x20, BLOCK, &mut t.mem, 0), Outcome::Exit(3));
        t.mem.write32(BLOCK, 0x20023).unwrap();
        assert_eq!(t.sh.call(0x20, BLOCK, &mut t.mem, 0), Outcome::Exit(1));
    }

    #[test]
    fn console_output_and_input() {
        let mut t = T::new(false);
        t.put(DATA, b"hi\0");
        assert_eq!(t.sh.call(0x04, DATA, &mut t.mem, 0), Outcome::Return(0));
        assert_eq!(t.sh.call(0x03, DATA + 1, &mut t.mem, 0), Outcome::Return(0));
        let out = t.open(":tt", 4);
        let err = t.open(":tt", 8);
        let inp = t.open(":tt", 0);
        assert_eq!((out, err, inp), (1, 2, 3), "handles start at 1");
        t.put(DATA, b"abc");
        assert_eq!(
            t.call(0x05, &[out, DATA, 3]),
            0,
            "WRITE returns bytes not written"
        );
        assert_eq!(t.call(0x05, &[err, DATA, 2]), 0);
        assert_eq!(*t.con.out.lock().unwrap(), b"hiiabc");
        assert_eq!(*t.con.err.lock().unwrap(), b"ab");
        t.con.input.lock().unwrap().extend_from_slice(b"xyz");
        assert_eq!(
            t.call(0x06, &[inp, DATA, 10]),
            7,
            "READ returns bytes not read"
        );
        let mut b = [0u8; 3];
        t.mem.peek(DATA, &mut b).unwrap();
        assert_eq!(&b, b"xyz");
        assert_eq!(t.call(0x09, &[out]), 1);
        assert_eq!(t.call(0x02, &[out]), 0);
        assert_eq!(t.call(0x02, &[out]), u32::MAX, "double close");
        assert_eq!(t.call(0x13, &[]), EBADF);
    }

    #[test]
    fn features_pseudo_file() {
        let mut t = T::new(false);
        let h = t.open(":semihosting-features", 0);
        assert_eq!(t.call(0x0c, &[h]), 5);
        assert_eq!(t.call(0x06, &[h, DATA, 8]), 3);
        let mut b = [0u8; 5];
        t.mem.peek(DATA, &mut b).unwrap();
        assert_eq!(b, FEATURES);
    }

    #[test]
    fn files_inside_the_root() {
        let mut t = T::new(true);
        let h = t.open("data.txt", 4);
        assert_ne!(h, u32::MAX);
        t.put(DATA + 0x100, b"hello file");
        assert_eq!(t.call(0x05, &[h, DATA + 0x100, 10]), 0);
        assert_eq!(t.call(0x0c, &[h]), 10);
        assert_eq!(t.call(0x09, &[h]), 0);
        t.call(0x02, &[h]);
        assert_eq!(
            std::fs::read(t.root().join("data.txt")).unwrap(),
            b"hello file"
        );
        let h = t.open("data.txt", 0);
        assert_eq!(t.call(0x0a, &[h, 6]), 0);
        assert_eq!(t.call(0x06, &[h, DATA + 0x200, 10]), 6);
        let mut b = [0u8; 4];
        t.mem.peek(DATA + 0x200, &mut b).unwrap();
        assert_eq!(&b, b"file");
        t.call(0x02, &[h]);
        t.put(DATA + 0x300, b"data.txt");
        t.put(DATA + 0x400, b"renamed.txt");
        assert_eq!(t.call(0x0f, &[DATA + 0x300, 8, DATA + 0x400, 11]), 0);
        assert!(t.root().join("renamed.txt").exists());
        assert_eq!(t.call(0x0e, &[DATA + 0x400, 11]), 0);
        assert!(!t.root().join("renamed.txt").exists());
        assert_eq!(t.open("missing", 0), u32::MAX);
        assert_eq!(t.call(0x13, &[]), ENOENT);
    }

    #[test]
    fn escapes_are_refused() {
        let mut t = T::new(true);
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), b"x").unwrap();
        std::os::unix::fs::symlink(outside.path(), t.root().join("link")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), t.root().join("filelink"))
            .unwrap();
        for name in [
            "../x",
            "/etc/passwd",
            "a/../../x",
            "link/secret",
            "filelink",
            "link/new",
        ] {
            assert_eq!(t.open(name, 4), u32::MAX, "{name} opened");
            assert!(matches!(t.call(0x13, &[]), EACCES | ENOENT), "{name}");
        }
        assert_eq!(std::fs::read(outside.path().join("secret")).unwrap(), b"x");
        // a FIFO inside the root is not a regular file
        let fifo = t.root().join("fifo");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        assert_eq!(t.open("fifo", 0), u32::MAX);
        // without a root nothing opens
        let mut n = T::new(false);
        assert_eq!(n.open("file", 4), u32::MAX);
        assert_eq!(n.call(0x13, &[]), EPERM);
        // SYS_SYSTEM is off by default
        t.put(DATA, b"touch pwned");
        assert_eq!(t.call(0x12, &[DATA, 11]), u32::MAX);
        assert!(!t.root().join("pwned").exists());
    }

    /// Every way out of `--semihosting-root` the threat model names (emulator/SECURITY.md):
    /// `..`, absolute paths, symlinks leading out (file, directory component, chains,
    /// dangling), special files (devices through symlinks, FIFOs, sockets, device nodes,
    /// directories), and rename/remove across the boundary. Nothing outside is read, created,
    /// changed or deleted.
    #[test]
    fn sandbox_cannot_be_escaped() {
        use std::os::unix::fs::symlink;
        let mut t = T::new(true);
        let root = t.root().to_path_buf();
        let outside = tempfile::tempdir().unwrap();
        let out = outside.path();
        std::fs::write(out.join("secret"), b"x").unwrap();
        std::fs::create_dir(root.join("sub")).unwrap();
        std::fs::write(root.join("sub/inside"), b"in").unwrap();
        symlink(out, root.join("dirlink")).unwrap();
        symlink(out.join("secret"), root.join("filelink")).unwrap();
        symlink(root.join("filelink"), root.join("chain")).unwrap();
        symlink(out.join("created"), root.join("dangling")).unwrap();
        symlink("/dev/zero", root.join("zero")).unwrap();
        symlink("/dev/null", root.join("null")).unwrap();
        symlink("/etc", root.join("etc")).unwrap();
        let fifo = root.join("fifo");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        symlink(&fifo, root.join("fifolink")).unwrap();
        let _sock = std::os::unix::net::UnixListener::bind(root.join("sock")).unwrap();
        // A device node inside the root (only root may make one).
        let have_dev = std::process::Command::new("mknod")
            .arg(root.join("devnode"))
            .args(["c", "1", "5"])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        // Allowed: a symlink inside the root to a file inside it.
        symlink(root.join("sub/inside"), root.join("inlink")).unwrap();
        let h = t.open("inlink", 0);
        assert_ne!(h, u32::MAX, "a symlink staying inside the root works");
        t.call(0x02, &[h]);

        let mut names = vec![
            "../x",
            "./../x",
            "sub/../../x",
            "sub/..",
            "/etc/passwd",
            "//etc/passwd",
            "dirlink/secret",
            "dirlink/new",
            "filelink",
            "chain",
            "dangling",
            "zero",
            "null",
            "etc/passwd",
            "fifo",
            "fifolink",
            "sock",
            "sub",
            ".",
        ];
        if have_dev {
            names.push("devnode");
        }
        for name in names {
            for mode in [0, 2, 4, 8] {
                assert_eq!(t.open(name, mode), u32::MAX, "{name} opened (mode {mode})");
                let e = t.call(0x13, &[]);
                assert!(
                    matches!(e, EACCES | ENOENT | EINVAL | EISDIR),
                    "{name}: errno {e}"
                );
            }
        }
        // rename and remove across the boundary.
        std::fs::write(root.join("mine"), b"m").unwrap();
        for (from, to) in [
            ("mine", "../stolen"),
            ("mine", "dirlink/stolen"),
            ("mine", "/tmp/stolen"),
            ("dirlink/secret", "grabbed"),
        ] {
            t.put(DATA + 0x300, from.as_bytes());
            t.put(DATA + 0x400, to.as_bytes());
            let r = t.call(
                0x0f,
                &[
                    DATA + 0x300,
                    from.len() as u32,
                    DATA + 0x400,
                    to.len() as u32,
                ],
            );
            assert_eq!(r, u32::MAX, "rename {from} -> {to}");
        }
        for name in ["dirlink/secret", "dirlink/new", "../x", "/tmp"] {
            t.put(DATA + 0x300, name.as_bytes());
            assert_eq!(
                t.call(0x0e, &[DATA + 0x300, name.len() as u32]),
                u32::MAX,
                "remove {name}"
            );
        }
        assert_eq!(std::fs::read(out.join("secret")).unwrap(), b"x");
        assert!(
            !out.join("created").exists(),
            "created through a dangling link"
        );
        assert!(!out.join("stolen").exists() && !root.join("grabbed").exists());
        assert_eq!(
            std::fs::read_dir(out).unwrap().count(),
            1,
            "outside changed"
        );
        assert!(root.join("mine").exists());
        assert!(!Path::new("/tmp/stolen").exists());
    }

    /// `remove` and `rename` of a symlink act on the link (POSIX), inside the root or not:
    /// the file it points to is never touched.
    #[test]
    fn remove_and_rename_act_on_links_not_their_targets() {
        use std::os::unix::fs::symlink;
        let mut t = T::new(true);
        let root = t.root().to_path_buf();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), b"x").unwrap();
        std::fs::write(root.join("inside"), b"in").unwrap();
        symlink(root.join("inside"), root.join("inlink")).unwrap();
        symlink(outside.path().join("secret"), root.join("outlink")).unwrap();
        let call = |t: &mut T, op: u32, a: &str, b: Option<&str>| {
            t.put(DATA + 0x300, a.as_bytes());
            let mut args = vec![DATA + 0x300, a.len() as u32];
            if let Some(b) = b {
                t.put(DATA + 0x400, b.as_bytes());
                args.extend([DATA + 0x400, b.len() as u32]);
            }
            t.call(op, &args)
        };
        assert_eq!(call(&mut t, 0x0f, "inlink", Some("moved")), 0);
        assert!(std::fs::symlink_metadata(root.join("moved"))
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(std::fs::symlink_metadata(root.join("inlink")).is_err());
        assert_eq!(call(&mut t, 0x0e, "moved", None), 0);
        assert!(std::fs::symlink_metadata(root.join("moved")).is_err());
        assert_eq!(std::fs::read(root.join("inside")).unwrap(), b"in");
        assert_eq!(call(&mut t, 0x0f, "outlink", Some("renamed")), 0);
        assert_eq!(call(&mut t, 0x0e, "renamed", None), 0);
        assert!(std::fs::symlink_metadata(root.join("renamed")).is_err());
        assert_eq!(std::fs::read(outside.path().join("secret")).unwrap(), b"x");
        // Renaming over a link replaces the link, not the file it points to.
        symlink(outside.path().join("secret"), root.join("outlink2")).unwrap();
        assert_eq!(call(&mut t, 0x0f, "inside", Some("outlink2")), 0);
        assert_eq!(std::fs::read(root.join("outlink2")).unwrap(), b"in");
        assert_eq!(std::fs::read(outside.path().join("secret")).unwrap(), b"x");
    }

    #[test]
    fn system_is_refused_without_allow_system() {
        let mut t = T::new(true);
        t.put(DATA, b"touch pwned");
        assert_eq!(t.call(0x12, &[DATA, 11]), u32::MAX);
        assert_eq!(t.call(0x13, &[]), EPERM);
        assert!(!t.root().join("pwned").exists());
        // And without a root, even with --allow-system (the command's directory is the root).
        let mut n = T::new(false);
        n.sh.config.allow_system = true;
        n.put(DATA, b"touch /tmp/armlet-pwned");
        assert_eq!(n.call(0x12, &[DATA, 23]), u32::MAX);
        assert!(!Path::new("/tmp/armlet-pwned").exists());
    }

    #[test]
    fn hostile_parameter_blocks_return_errors() {
        let mut t = T::new(true);
        assert_eq!(
            t.sh.call(0x05, 0xffff_fff0, &mut t.mem, 0),
            Outcome::Return(u32::MAX)
        );
        assert_eq!(t.call(0x13, &[]), EFAULT);
        let out = t.open(":tt", 4);
        assert_eq!(
            t.call(0x05, &[out, 0x3000_0000, 100]),
            u32::MAX,
            "unmapped buffer"
        );
        assert_eq!(
            t.call(0x05, &[out, DATA, u32::MAX]),
            u32::MAX,
            "huge length runs into unmapped memory"
        );
        assert_eq!(t.call(0x01, &[DATA, 0, 1 << 30]), u32::MAX, "huge name");
        assert_eq!(t.call(0x01, &[DATA, 99, 3]), u32::MAX, "bad mode");
        // WRITE0 without a terminator inside mapped memory
        // The last bytes of the SSRAM2/3 mirror, with nothing mapped after it.
        t.mem.load(0x2080_0000 - 4, b"abcd").unwrap();
        assert_eq!(
            t.sh.call(0x04, 0x2080_0000 - 4, &mut t.mem, 0),
            Outcome::Return(u32::MAX)
        );
        assert_eq!(t.sh.call(0x99, 0, &mut t.mem, 0), Outcome::Return(u32::MAX));
    }

    #[test]
    fn time_and_cmdline() {
        let mut t = T::new(false);
        assert_eq!(t.call(0x10, &[]), 200, "2 s at 25 MHz = 200 cs");
        assert_eq!(t.call(0x11, &[]) as u64, DEFAULT_EPOCH + 2);
        assert_eq!(
            DEFAULT_EPOCH, 1_767_225_600,
            "2026-01-01T00:00:00Z, as documented"
        );
        t.sh.set_epoch(1_700_000_000);
        assert_eq!(t.call(0x11, &[]), 1_700_000_002, "epoch + elapsed seconds");
        assert_eq!(
            t.call(0x10, &[]),
            200,
            "SYS_CLOCK does not depend on the epoch"
        );
        assert_eq!(t.call(0x31, &[]), 25_000_000);
        assert_eq!(t.call(0x30, &[0, 0]), 0);
        assert_eq!(t.mem.read32(BLOCK), Ok(50_000_000));
        assert_eq!(t.call(0x15, &[DATA, 64]), 0);
        let mut b = [0u8; 15];
        t.mem.peek(DATA, &mut b).unwrap();
        assert_eq!(&b, b"fw.elf one two\0");
        assert_eq!(t.mem.read32(BLOCK + 4), Ok(14));
        assert_eq!(t.call(0x15, &[DATA, 5]), u32::MAX, "buffer too small");
        t.sh.set_heap(HeapInfo {
            heap_base: 1,
            heap_limit: 2,
            stack_base: 3,
            stack_limit: 4,
        });
        assert_eq!(t.call(0x16, &[DATA]), 0);
        assert_eq!(t.mem.read32(DATA + 8), Ok(3));
    }
}
