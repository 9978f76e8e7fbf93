//! armlet's ARMv7-M CPU core: architectural state, a table-driven Thumb/Thumb-2 decoder,
//! a decoded-instruction cache and the executor.
//!
//! The core knows nothing about boards: it talks to memory through [`Bus`] and reports
//! why it stopped as a small `StopReason`.

pub mod bus;

pub use bus::{Bus, BusError};
