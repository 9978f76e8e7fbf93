//! ELF loading with `goblin`.
//!
//! TODO(helper): implement `load_elf(bytes, &mut Memory) -> Result<Image, LoadError>`:
//! PT_LOAD segments (p_filesz bytes, zero-fill to p_memsz) at their physical addresses
//! (p_paddr), 32-bit little-endian ARM ELF only; symbols kept (`Symbols::lookup(addr)` gives the
//! nearest symbol at or below `addr` with offset; function symbols with the Thumb bit cleared).
//! Errors are one line and name the problem: not an ELF / empty / truncated / wrong class /
//! wrong machine (names it, e.g. "x86-64") / no loadable segments / segment outside board
//! memory (names the address range).
