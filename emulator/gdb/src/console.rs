//! The firmware's console output (semihosting, the console UART, ITM) reaches GDB as `O`
//! packets while a debugger is attached, and armlet's stdout as always.

use armlet_machine::device::Rx;
use armlet_machine::semihosting::{Console, SharedConsole};
use std::sync::{Arc, Mutex};

/// At most this much output is kept for GDB between two drains (the rest still reaches
/// stdout).
const MAX_PENDING: usize = 1 << 20;

#[derive(Debug, Default)]
struct TapState {
    enabled: bool,
    pending: Vec<u8>,
}

/// A copy of the console output, taken while enabled.
#[derive(Debug, Clone, Default)]
pub struct ConsoleTap(Arc<Mutex<TapState>>);

impl ConsoleTap {
    fn lock(&self) -> std::sync::MutexGuard<'_, TapState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Start or stop copying (a debugger attached or went away); stopping drops what is
    /// pending.
    pub fn set_enabled(&self, on: bool) {
        let mut s = self.lock();
        s.enabled = on;
        if !on {
            s.pending.clear();
        }
    }

    /// Take what was written since the last call.
    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut self.lock().pending)
    }

    fn push(&self, b: &[u8]) {
        let mut s = self.lock();
        if s.enabled && s.pending.len() + b.len() <= MAX_PENDING {
            s.pending.extend_from_slice(b);
        }
    }
}

/// Writes go to the original console and to the tap.
#[derive(Debug)]
struct TeeConsole {
    inner: Box<dyn Console>,
    tap: ConsoleTap,
}

impl Console for TeeConsole {
    fn write_out(&mut self, b: &[u8]) {
        self.inner.write_out(b);
        self.tap.push(b);
    }
    fn write_err(&mut self, b: &[u8]) {
        self.inner.write_err(b);
        self.tap.push(b);
    }
    fn read_in(&mut self, buf: &mut [u8]) -> usize {
        self.inner.read_in(buf)
    }
    fn try_read_in(&mut self) -> Rx {
        self.inner.try_read_in()
    }
}

/// A console that is never used (a placeholder while swapping).
#[derive(Debug)]
struct Nothing;

impl Console for Nothing {
    fn write_out(&mut self, _: &[u8]) {}
    fn write_err(&mut self, _: &[u8]) {}
    fn read_in(&mut self, _: &mut [u8]) -> usize {
        0
    }
}

/// Put a tap into the machine's shared console; returns it (disabled).
pub fn install(console: &SharedConsole) -> ConsoleTap {
    let tap = ConsoleTap::default();
    let mut slot = console.0.lock().unwrap_or_else(|e| e.into_inner());
    let inner = std::mem::replace(&mut *slot, Box::new(Nothing));
    *slot = Box::new(TeeConsole {
        inner,
        tap: tap.clone(),
    });
    tap
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);
    impl Console for Capture {
        fn write_out(&mut self, b: &[u8]) {
            self.0.lock().unwrap().extend_from_slice(b);
        }
        fn write_err(&mut self, _: &[u8]) {}
        fn read_in(&mut self, _: &mut [u8]) -> usize {
            0
        }
    }

    #[test]
    fn output_reaches_both_while_enabled() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut shared = SharedConsole::new(Box::new(Capture(seen.clone())));
        let tap = install(&shared);
        shared.write_out(b"before ");
        tap.set_enabled(true);
        shared.write_out(b"during");
        tap.set_enabled(false);
        shared.write_out(b" after");
        assert_eq!(&*seen.lock().unwrap(), b"before during after");
        assert!(tap.take().is_empty());
        tap.set_enabled(true);
        shared.write_err(b"err");
        assert_eq!(tap.take(), b"err");
    }
}
