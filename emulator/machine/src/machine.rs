//! The machine: CPU + bus + semihosting, and the run loop.
//!
//! TODO(lead): implement.
