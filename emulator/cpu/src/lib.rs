//! armlet's ARMv7-M CPU core: architectural state, a table-driven Thumb/Thumb-2 decoder,
//! a decoded-instruction cache and the executor.
//!
//! The core knows nothing about boards: it talks to memory through [`Bus`] and reports
//! why it stopped as a small [`StopReason`].
//!
//! Data flow: [`Cpu::run`] looks up the block for (PC, ITSTATE) in the cache, decoding it
//! with [`decode`] on a miss (the decoder is the table in [`decode::T16`]/[`decode::T32`]),
//! then executes its operations. Stores that hit a page holding decoded code end the block
//! and drop the blocks of that page before anything else executes.

pub mod alu;
pub mod bus;
mod codepages;
mod cpu;
pub mod decode;
pub mod dsp;
mod exception;
mod exec;
mod fast;
pub mod fparith;
pub mod fpstate;
pub mod ops;
pub mod state;
pub mod vfp;

pub use bus::{Bus, BusError};
pub use cpu::{decode_at, Block, Cpu, DecodedInsn};
pub use decode::decode;
pub use exception::StackingError;
pub use state::{CoreConfig, CpuState, Fault, Features, FpuKind, StopReason};
