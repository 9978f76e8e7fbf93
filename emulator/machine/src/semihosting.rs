//! Arm semihosting (v2) as QEMU implements it, with a sandbox and virtual time.
//!
//! TODO(helper): implement.
