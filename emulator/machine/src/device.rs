//! The one device trait every memory-mapped peripheral implements (built-in models, and
//! plugins through an adapter), and the context through which devices reach the machine:
//! virtual time, timer events and interrupt lines. Devices see offsets, never addresses,
//! and never call into the CPU.

use crate::io::{EventOwner, IoState};
use armlet_cpu::BusError;

/// A memory-mapped device.
///
/// `read`/`write` get the offset inside the device's region and the access size (1, 2 or 4;
/// the bus never passes an access that runs past the region's end). Returning
/// `Err(BusError::Denied)` makes the guest take a BusFault (e.g. a size the register does
/// not support).
pub trait Device: Send + std::fmt::Debug {
    /// Read `size` bytes at `offset`.
    fn read(&mut self, offset: u32, size: u8, ctx: &mut DeviceCtx<'_>) -> Result<u32, BusError>;
    /// Write `size` bytes at `offset`.
    fn write(
        &mut self,
        offset: u32,
        size: u8,
        value: u32,
        ctx: &mut DeviceCtx<'_>,
    ) -> Result<(), BusError>;
    /// Side-effect-free read for the debugger and reports; `None` if the register cannot be
    /// read without side effects or does not exist.
    fn peek(&self, offset: u32, size: u8) -> Option<u32>;
    /// Return to the power-on state (machine reset). Lower any IRQ outputs you raised.
    fn reset(&mut self, _ctx: &mut DeviceCtx<'_>) {}
    /// A timer event scheduled with [`DeviceCtx::schedule`] is due (virtual time has reached
    /// it: `ctx.now()` is the scheduled time).
    fn event(&mut self, _token: u64, _ctx: &mut DeviceCtx<'_>) {}
    /// Another thread signalled input for this device (see [`wake_signal`]): take it now.
    /// Called by the machine while the core sleeps with nothing else to wait for.
    fn wake(&mut self, _ctx: &mut DeviceCtx<'_>) {}
    /// May this device write guest memory (DMA) when its events fire? The machine's proof
    /// that a core spins forever ([`crate::machine::Machine::run`]) relies on a device that
    /// answers `false` never doing so. Defaults to `true` (plugins may DMA).
    fn may_dma(&self) -> bool {
        true
    }
}

/// The process-wide signal with which device worker threads (plugins waiting on sockets or
/// simulators) wake a machine that sleeps with no timer pending: [`WakeSignal::notify`]
/// from any thread; the machine then calls every device's [`Device::wake`].
#[derive(Debug, Default)]
pub struct WakeSignal {
    /// Devices that may call `notify` (while there are any, a sleeping core is not a
    /// deadlock).
    pub sources: std::sync::atomic::AtomicUsize,
    pending: std::sync::Mutex<bool>,
    cond: std::sync::Condvar,
}

impl WakeSignal {
    /// Signal from any thread.
    pub fn notify(&self) {
        *self.pending.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.cond.notify_all();
    }

    /// True if some device may wake the machine from another thread.
    pub fn possible(&self) -> bool {
        self.sources.load(std::sync::atomic::Ordering::Relaxed) > 0
    }

    /// Wait up to `timeout` for a signal; true if there was one (and take it).
    pub fn wait(&self, timeout: std::time::Duration) -> bool {
        let guard = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let (mut guard, _) = self
            .cond
            .wait_timeout_while(guard, timeout, |p| !*p)
            .unwrap_or_else(|e| e.into_inner());
        std::mem::take(&mut *guard)
    }
}

/// The process-wide [`WakeSignal`].
pub fn wake_signal() -> &'static WakeSignal {
    static SIGNAL: std::sync::OnceLock<WakeSignal> = std::sync::OnceLock::new();
    SIGNAL.get_or_init(WakeSignal::default)
}

/// Guest RAM as a DMA engine sees it.
pub trait Dma {
    /// Read guest RAM/ROM at `addr`.
    fn dma_read(&mut self, addr: u32, buf: &mut [u8]) -> Result<(), BusError>;
    /// Write guest RAM at `addr` (ROM and unmapped addresses are refused, nothing written).
    fn dma_write(&mut self, addr: u32, bytes: &[u8]) -> Result<(), BusError>;
}

/// What a device may do to the machine during a call.
pub struct DeviceCtx<'a> {
    pub(crate) io: &'a mut IoState,
    pub(crate) id: usize,
    /// The NVIC lines this device's IRQ outputs are wired to (from the board description).
    pub(crate) irqs: &'a [u32],
    pub(crate) dma: Option<&'a mut dyn Dma>,
}

impl std::fmt::Debug for DeviceCtx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceCtx")
            .field("id", &self.id)
            .field("irqs", &self.irqs)
            .field("now", &self.io.now())
            .finish_non_exhaustive()
    }
}

impl<'a> DeviceCtx<'a> {
    /// A context for device `id` whose outputs go to NVIC lines `irqs` (no DMA access).
    pub fn new(io: &'a mut IoState, id: usize, irqs: &'a [u32]) -> Self {
        DeviceCtx {
            io,
            id,
            irqs,
            dma: None,
        }
    }

    /// A context that can also read and write guest memory.
    pub fn with_dma(io: &'a mut IoState, id: usize, irqs: &'a [u32], dma: &'a mut dyn Dma) -> Self {
        DeviceCtx {
            io,
            id,
            irqs,
            dma: Some(dma),
        }
    }

    /// Read guest memory (RAM or ROM) for DMA.
    pub fn dma_read(&mut self, addr: u32, buf: &mut [u8]) -> Result<(), BusError> {
        match &mut self.dma {
            Some(d) => d.dma_read(addr, buf),
            None => Err(BusError::Unmapped),
        }
    }

    /// Write guest RAM for DMA; decoded code there is dropped before the core runs on.
    pub fn dma_write(&mut self, addr: u32, bytes: &[u8]) -> Result<(), BusError> {
        match &mut self.dma {
            Some(d) => {
                d.dma_write(addr, bytes)?;
                self.io.dma_writes.push((addr, bytes.len() as u32));
                Ok(())
            }
            None => Err(BusError::Unmapped),
        }
    }

    /// Virtual time now, in CPU cycles since power-on.
    pub fn now(&self) -> u64 {
        self.io.now()
    }

    /// The CPU clock in Hz (cycles per virtual second).
    pub fn cpu_hz(&self) -> u64 {
        self.io.cpu_hz
    }

    /// Drive IRQ output `output` (an index into the device's `irq` list) to `level`.
    /// Outputs wired to the same NVIC line are ORed. An output the board did not wire is
    /// ignored.
    pub fn set_irq(&mut self, output: usize, level: bool) {
        if let Some(&line) = self.irqs.get(output) {
            self.io.set_source(self.id, output, line, level);
        }
    }

    /// Call [`Device::event`] with `token` when virtual time reaches `at` (CPU cycles). A
    /// time in the past fires at the next instruction boundary. Replaces an event with the
    /// same token.
    pub fn schedule(&mut self, at: u64, token: u64) {
        self.io
            .events
            .schedule(at, EventOwner::Device(self.id), token);
    }

    /// Cancel the event with `token`, if any.
    pub fn cancel(&mut self, token: u64) {
        self.io.events.cancel(EventOwner::Device(self.id), token);
    }
}

/// Where a UART's bytes go and come from (`--serial stdio|null|file:PATH|tcp:HOST:PORT`).
pub trait Serial: Send + std::fmt::Debug {
    /// Transmit bytes; they must reach their destination without further calls (flush).
    fn write(&mut self, bytes: &[u8]);
    /// Receive one byte without blocking.
    fn read(&mut self) -> Rx;
}

/// The result of [`Serial::read`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rx {
    /// A byte arrived.
    Byte(u8),
    /// Nothing now; more may come later.
    Empty,
    /// Nothing now and nothing ever again (input closed).
    Eof,
}

/// A serial port that discards output and never receives anything.
#[derive(Debug, Default)]
pub struct NullSerial;

impl Serial for NullSerial {
    fn write(&mut self, _bytes: &[u8]) {}
    fn read(&mut self) -> Rx {
        Rx::Eof
    }
}
