//! armlet machines: the memory bus, the ELF loader, semihosting, boards and the run loop.
//!
//! `Machine::run(budget)` is the one way to execute guest code; the CLI runner and (later)
//! the GDB server both drive a `Machine`.

pub mod board;
pub mod device;
pub mod devices;
pub mod io;
pub mod loader;
pub mod machine;
pub mod memory;
pub mod plugin;
pub mod scs;
pub mod semihosting;
pub mod serial;
mod spin;
pub mod watchdog;

pub use board::Board;
pub use machine::{
    exit_code, DebugState, EntryFrame, Exit, Limits, Machine, MachineError, MachineOptions,
    Outcome, SerialFactory, Watch, WatchKind,
};
