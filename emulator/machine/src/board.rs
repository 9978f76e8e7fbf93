//! Board descriptions: the memory map and clock of a machine.

/// One memory region of a board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionDesc {
    /// Human-readable name used in errors and the GDB memory map.
    pub name: &'static str,
    /// First address.
    pub base: u32,
    /// Size in bytes.
    pub size: u32,
    /// What kind of memory it is.
    pub kind: RegionKind,
}

/// Kinds of board memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionKind {
    /// Readable and writable by the guest.
    Ram,
    /// Readable by the guest; only the loader and the debugger write it.
    Rom,
    /// A mirror of the region whose base is given.
    Alias(u32),
}

/// A board: core model, clock and memory map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Board {
    /// Name as given to `--machine`.
    pub name: &'static str,
    /// One-line description.
    pub description: &'static str,
    /// CPU clock in Hz: virtual time advances one cycle per instruction.
    pub cpu_hz: u64,
    /// Memory regions.
    pub regions: Vec<RegionDesc>,
}

impl Board {
    /// The built-in boards.
    pub fn builtin() -> Vec<Board> {
        vec![Self::mps2_an385(), Self::lm3s6965evb()]
    }

    /// Look a built-in board up by name.
    pub fn by_name(name: &str) -> Option<Board> {
        Self::builtin().into_iter().find(|b| b.name == name)
    }

    /// TI Stellaris LM3S6965 evaluation board (Cortex-M3), memory map as QEMU's
    /// `lm3s6965evb`: 256 KiB flash (read-only to the guest) and 64 KiB SRAM. Its peripherals
    /// are not modelled yet.
    pub fn lm3s6965evb() -> Board {
        Board {
            name: "lm3s6965evb",
            description:
                "TI Stellaris LM3S6965 evaluation board (Cortex-M3, 50 MHz; no peripherals yet)",
            cpu_hz: 50_000_000,
            regions: vec![
                RegionDesc {
                    name: "flash",
                    base: 0x0000_0000,
                    size: 0x0004_0000,
                    kind: RegionKind::Rom,
                },
                RegionDesc {
                    name: "sram",
                    base: 0x2000_0000,
                    size: 0x0001_0000,
                    kind: RegionKind::Ram,
                },
            ],
        }
    }

    /// Arm MPS2 with AN385 (Cortex-M3), memory map as QEMU's `mps2-an385`.
    pub fn mps2_an385() -> Board {
        Board {
            name: "mps2-an385",
            description: "Arm MPS2 FPGA board with AN385 image (Cortex-M3, 25 MHz)",
            cpu_hz: 25_000_000,
            regions: vec![
                RegionDesc {
                    name: "ssram1",
                    base: 0x0000_0000,
                    size: 0x0040_0000,
                    kind: RegionKind::Ram,
                },
                RegionDesc {
                    name: "ssram1-mirror",
                    base: 0x0040_0000,
                    size: 0x0040_0000,
                    kind: RegionKind::Alias(0),
                },
                RegionDesc {
                    name: "blockram",
                    base: 0x0100_0000,
                    size: 0x0000_4000,
                    kind: RegionKind::Ram,
                },
                RegionDesc {
                    name: "ssram23",
                    base: 0x2000_0000,
                    size: 0x0040_0000,
                    kind: RegionKind::Ram,
                },
                RegionDesc {
                    name: "ssram23-mirror",
                    base: 0x2040_0000,
                    size: 0x0040_0000,
                    kind: RegionKind::Alias(0x2000_0000),
                },
                RegionDesc {
                    name: "psram",
                    base: 0x2100_0000,
                    size: 0x0100_0000,
                    kind: RegionKind::Ram,
                },
            ],
        }
    }
}
