//! The plugin callback watchdog: notices a plugin callback that runs for too long and says
//! which one, by name.
//!
//! A callback into a plugin is native code on the emulator thread; it cannot be preempted or
//! cancelled safely. What armlet can do is *notice*: each plugin device instance has a
//! [`Watch`] whose `busy` word the emulator thread sets on entering a callback (a call
//! number, never 0) and clears on return — two relaxed stores per callback. A thread started
//! with the first plugin device samples every watch every [`PERIOD`]: a callback seen busy
//! with the same call number for longer than the threshold (1 s by default) is logged as
//! `plugin device '...' (type "...", plugin ...): callback `write` has been running for N
//! ms`, again at every doubling of that time, and once more when it returns. The CLI asks
//! [`stuck_callbacks`] when a run that should stop (signal, `--timeout`) does not, to name
//! the plugin before it exits the process.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How often the watchdog samples.
pub const PERIOD: Duration = Duration::from_millis(50);

/// Names of the callbacks, indexed by [`Watch::enter`]'s `op`.
pub(crate) const OPS: [&str; 11] = [
    "create",
    "read",
    "write",
    "debug_peek",
    "reset",
    "timer",
    "wake",
    "gpio_in",
    "save",
    "restore",
    "destroy",
];

/// One plugin device instance's callback state, shared with the watchdog thread.
#[derive(Debug)]
pub(crate) struct Watch {
    label: String,
    busy: AtomicU64,
    op: AtomicUsize,
}

impl Watch {
    /// The emulator thread enters callback number `n` (> 0) of kind `OPS[op]`.
    #[inline]
    pub(crate) fn enter(&self, n: u64, op: usize) {
        self.op.store(op, Ordering::Relaxed);
        self.busy.store(n, Ordering::Release);
    }

    /// The callback returned.
    #[inline]
    pub(crate) fn leave(&self) {
        self.busy.store(0, Ordering::Release);
    }
}

static WATCHES: Mutex<Vec<Arc<Watch>>> = Mutex::new(Vec::new());
static THRESHOLD_MS: AtomicU64 = AtomicU64::new(1000);

/// What the watchdog knows of a busy callback.
#[derive(Debug)]
struct Seen {
    call: u64,
    op: usize,
    label: String,
    since: Instant,
    /// Report when it has run this long (doubles after each report).
    next: Duration,
    reported: bool,
}

static SEEN: Mutex<Option<HashMap<usize, Seen>>> = Mutex::new(None);

/// Report callbacks running longer than `d` (default 1 s).
pub fn set_slow_callback_threshold(d: Duration) {
    THRESHOLD_MS.store(d.as_millis().max(1) as u64, Ordering::Relaxed);
}

fn threshold() -> Duration {
    Duration::from_millis(THRESHOLD_MS.load(Ordering::Relaxed))
}

/// Callbacks in progress for longer than the threshold, described by name (plugin, device,
/// type, callback, time so far).
pub fn stuck_callbacks() -> Vec<String> {
    let seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    let mut out: Vec<String> = seen
        .iter()
        .flat_map(|m| m.values())
        .filter(|s| s.since.elapsed() >= threshold())
        .map(|s| {
            format!(
                "{}: callback `{}` has been running for {} ms",
                s.label,
                OPS[s.op],
                s.since.elapsed().as_millis()
            )
        })
        .collect();
    out.sort();
    out
}

/// A watch for a new plugin device instance described by `label`; starts the watchdog
/// thread the first time.
pub(crate) fn register(label: String) -> Arc<Watch> {
    static THREAD: OnceLock<()> = OnceLock::new();
    THREAD.get_or_init(|| {
        let _ = std::thread::Builder::new()
            .name("armlet-plugin-watchdog".into())
            .spawn(run);
    });
    let w = Arc::new(Watch {
        label,
        busy: AtomicU64::new(0),
        op: AtomicUsize::new(0),
    });
    WATCHES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(Arc::clone(&w));
    w
}

/// The instance is gone.
pub(crate) fn unregister(w: &Arc<Watch>) {
    WATCHES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|x| !Arc::ptr_eq(x, w));
}

fn run() {
    loop {
        std::thread::sleep(PERIOD);
        sample();
    }
}

/// One look at every watch.
fn sample() {
    let watches: Vec<Arc<Watch>> = WATCHES.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    let seen = seen.get_or_insert_with(HashMap::new);
    let limit = threshold();
    let mut live = Vec::with_capacity(watches.len());
    for w in &watches {
        let key = Arc::as_ptr(w) as usize;
        live.push(key);
        let call = w.busy.load(Ordering::Acquire);
        let op = w.op.load(Ordering::Relaxed).min(OPS.len() - 1);
        if let Some(s) = seen.get_mut(&key) {
            if s.call == call {
                let ran = s.since.elapsed();
                if ran >= s.next {
                    tracing::warn!(
                        "{}: callback `{}` has been running for {} ms (a plugin callback cannot be interrupted; armlet waits for it)",
                        s.label,
                        OPS[s.op],
                        ran.as_millis()
                    );
                    s.reported = true;
                    s.next = ran * 2;
                }
                continue;
            }
            if s.reported {
                tracing::warn!(
                    "{}: callback `{}` returned after about {} ms",
                    s.label,
                    OPS[s.op],
                    s.since.elapsed().as_millis()
                );
            }
            seen.remove(&key);
        }
        if call != 0 {
            seen.insert(
                key,
                Seen {
                    call,
                    op,
                    label: w.label.clone(),
                    since: Instant::now(),
                    next: limit,
                    reported: false,
                },
            );
        }
    }
    seen.retain(|k, _| live.contains(k));
}
