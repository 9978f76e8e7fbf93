//! Board descriptions ("machine files"): core model, clock, memory map, devices and the
//! console UART, in TOML. The built-in boards are files of the same format embedded in the
//! binary (`boards/*.toml`); `armlet machines show NAME` prints one as a starting point.

use serde::{Deserialize, Serialize};
use std::path::Path;

/// The core a board uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CpuModel {
    /// Cortex-M3 (ARMv7-M).
    #[serde(rename = "cortex-m3")]
    CortexM3,
    /// Cortex-M4F (ARMv7E-M with the DSP extension and FPv4-SP).
    #[serde(rename = "cortex-m4")]
    CortexM4,
    /// Cortex-M7 (ARMv7E-M with the DSP extension and double-precision FPv5).
    #[serde(rename = "cortex-m7")]
    CortexM7,
}

impl CpuModel {
    /// The CPUID register value (SCB->CPUID) of this core.
    pub fn cpuid(self) -> u32 {
        match self {
            CpuModel::CortexM3 => 0x412f_c231, // r2p1
            CpuModel::CortexM4 => 0x410f_c241, // r0p1
            CpuModel::CortexM7 => 0x411f_c272, // r1p2
        }
    }

    /// The optional architecture extensions this core implements.
    pub fn features(self) -> armlet_cpu::Features {
        match self {
            CpuModel::CortexM3 => armlet_cpu::Features::CORTEX_M3,
            CpuModel::CortexM4 => armlet_cpu::Features::CORTEX_M4F,
            CpuModel::CortexM7 => armlet_cpu::Features::CORTEX_M7,
        }
    }

    /// The name used in machine files and `-cpu`.
    pub fn name(self) -> &'static str {
        match self {
            CpuModel::CortexM3 => "cortex-m3",
            CpuModel::CortexM4 => "cortex-m4",
            CpuModel::CortexM7 => "cortex-m7",
        }
    }
}

/// One memory region of a board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, try_from = "RawRegion", into = "RawRegion")]
pub struct RegionDesc {
    /// Human-readable name used in errors and the GDB memory map.
    pub name: String,
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

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegion {
    name: String,
    base: u32,
    size: u32,
    /// "ram", "rom" or "alias".
    kind: String,
    /// For aliases: the base of the region mirrored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    target: Option<u32>,
}

impl TryFrom<RawRegion> for RegionDesc {
    type Error = String;
    fn try_from(r: RawRegion) -> Result<Self, String> {
        let kind = match (r.kind.as_str(), r.target) {
            ("ram", None) => RegionKind::Ram,
            ("rom", None) => RegionKind::Rom,
            ("alias", Some(t)) => RegionKind::Alias(t),
            ("alias", None) => {
                return Err(format!(
                    "region '{}': an alias needs `target` (the base of the region it mirrors)",
                    r.name
                ))
            }
            ("ram" | "rom", Some(_)) => {
                return Err(format!(
                    "region '{}': `target` is only for kind = \"alias\"",
                    r.name
                ))
            }
            (k, _) => {
                return Err(format!(
                    "region '{}': unknown kind '{k}' (expected \"ram\", \"rom\" or \"alias\")",
                    r.name
                ))
            }
        };
        Ok(RegionDesc {
            name: r.name,
            base: r.base,
            size: r.size,
            kind,
        })
    }
}

impl From<RegionDesc> for RawRegion {
    fn from(r: RegionDesc) -> Self {
        let (kind, target) = match r.kind {
            RegionKind::Ram => ("ram", None),
            RegionKind::Rom => ("rom", None),
            RegionKind::Alias(t) => ("alias", Some(t)),
        };
        RawRegion {
            name: r.name,
            base: r.base,
            size: r.size,
            kind: kind.into(),
            target,
        }
    }
}

/// One device of a board.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceDesc {
    /// Instance name (used by `--serial NAME=...`, logs and the console setting).
    pub name: String,
    /// Device type, e.g. "cmsdk-uart" (see `armlet machines types`).
    #[serde(rename = "type")]
    pub kind: String,
    /// Base address of its register region.
    pub base: u32,
    /// Size of its register region; the type's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u32>,
    /// NVIC lines its IRQ outputs are wired to, in the type's output order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub irq: Vec<u32>,
    /// Type-specific parameters.
    #[serde(default, skip_serializing_if = "toml::Table::is_empty")]
    pub params: toml::Table,
    /// A plugin library providing the type (relative paths are relative to the machine file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin: Option<std::path::PathBuf>,
}

/// A board: core model, clock, interrupt controller, memory map and devices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Board {
    /// Name as given to `--machine`.
    pub name: String,
    /// One-line description.
    pub description: String,
    /// The core.
    pub cpu: CpuModel,
    /// CPU clock in Hz: virtual time advances one cycle per instruction.
    pub cpu_hz: u64,
    /// Number of external interrupt lines of the NVIC.
    #[serde(default = "default_num_irq")]
    pub num_irq: u32,
    /// Implemented priority bits (2..=8).
    #[serde(default = "default_prio_bits")]
    pub prio_bits: u8,
    /// SysTick's external reference clock in Hz (CLKSOURCE = 0); none if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub systick_ref_hz: Option<u64>,
    /// Name of the UART that is the console (stdout/stdin by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub console: Option<String>,
    /// Memory regions.
    #[serde(rename = "region", default)]
    pub regions: Vec<RegionDesc>,
    /// Devices.
    #[serde(rename = "device", default)]
    pub devices: Vec<DeviceDesc>,
}

fn default_num_irq() -> u32 {
    32
}

fn default_prio_bits() -> u8 {
    3
}

/// A machine file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum BoardError {
    /// The file could not be read.
    #[error("{path}: cannot read: {err}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        err: std::io::Error,
    },
    /// The file is not a valid machine description.
    #[error("{path}: {msg}")]
    Parse {
        /// The file.
        path: String,
        /// What is wrong, with line and key.
        msg: String,
    },
}

/// The built-in boards' machine files.
const BUILTIN: &[(&str, &str)] = &[
    ("mps2-an385", include_str!("../boards/mps2-an385.toml")),
    ("mps2-an386", include_str!("../boards/mps2-an386.toml")),
    ("mps2-an500", include_str!("../boards/mps2-an500.toml")),
    ("lm3s6965evb", include_str!("../boards/lm3s6965evb.toml")),
];

impl Board {
    /// The names of the board's UARTs (the devices `--serial` can name), in board order.
    pub fn uart_names(&self) -> Vec<&str> {
        self.devices
            .iter()
            .filter(|d| d.kind.contains("uart"))
            .map(|d| d.name.as_str())
            .collect()
    }

    /// Parse a machine description; `path` names it in errors.
    pub fn from_toml(text: &str, path: &str) -> Result<Board, BoardError> {
        let board: Board = toml::from_str(text).map_err(|e| BoardError::Parse {
            path: path.into(),
            msg: e.to_string().trim_end().to_string(),
        })?;
        board.validate().map_err(|msg| BoardError::Parse {
            path: path.into(),
            msg,
        })?;
        Ok(board)
    }

    /// Read and parse a machine file.
    pub fn from_file(path: &Path) -> Result<Board, BoardError> {
        let text = std::fs::read_to_string(path).map_err(|err| BoardError::Read {
            path: path.display().to_string(),
            err,
        })?;
        Self::from_toml(&text, &path.display().to_string())
    }

    fn validate(&self) -> Result<(), String> {
        if self.cpu_hz == 0 {
            return Err("key `cpu_hz`: must be more than 0".into());
        }
        if !(2..=8).contains(&self.prio_bits) {
            return Err(format!(
                "key `prio_bits`: {} is not in 2..=8",
                self.prio_bits
            ));
        }
        if self.num_irq > 480 {
            return Err(format!("key `num_irq`: {} is more than 480", self.num_irq));
        }
        for d in &self.devices {
            if let Some(&bad) = d.irq.iter().find(|&&l| l >= self.num_irq) {
                return Err(format!(
                    "device '{}': key `irq`: line {bad} is out of range (the NVIC has {} lines)",
                    d.name, self.num_irq
                ));
            }
        }
        if let Some(c) = &self.console {
            if !self.devices.iter().any(|d| &d.name == c) {
                return Err(format!("key `console`: no device is named '{c}'"));
            }
        }
        Ok(())
    }

    /// The built-in boards.
    pub fn builtin() -> Vec<Board> {
        BUILTIN
            .iter()
            .map(|(name, text)| {
                Self::from_toml(text, name).expect("built-in machine files are valid (tested)")
            })
            .collect()
    }

    /// The machine file of a built-in board.
    pub fn builtin_source(name: &str) -> Option<&'static str> {
        BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
    }

    /// Look a built-in board up by name (parsing only its file: start-up time matters).
    pub fn by_name(name: &str) -> Option<Board> {
        let text = Self::builtin_source(name)?;
        Some(Self::from_toml(text, name).expect("built-in machine files are valid (tested)"))
    }

    /// The error for a machine name that is not built in: the closest built-in names
    /// ("did you mean") and the list of all of them.
    pub fn unknown_machine(name: &str) -> String {
        let names: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
        let lower = name.to_ascii_lowercase();
        let mut close: Vec<(usize, &str)> = names
            .iter()
            .map(|n| {
                let d = if !lower.is_empty() && (n.contains(&lower) || lower.contains(n)) {
                    0
                } else {
                    edit_distance(&lower, n)
                };
                (d, *n)
            })
            .filter(|&(d, n)| d <= 3.max(n.len() / 4))
            .collect();
        close.sort();
        let best = close.first().map(|c| c.0);
        let hint: Vec<String> = close
            .iter()
            .filter(|c| Some(c.0) == best)
            .map(|c| format!("'{}'", c.1))
            .collect();
        let mean = if hint.is_empty() {
            String::new()
        } else {
            format!("; did you mean {}?", hint.join(" or "))
        };
        format!(
            "unknown machine '{name}'{mean} (built-in machines: {}; a custom board: --machine-file FILE)",
            names.join(", ")
        )
    }

    /// Arm MPS2 with AN385 (Cortex-M3), as QEMU's `mps2-an385`.
    pub fn mps2_an385() -> Board {
        Self::by_name("mps2-an385").expect("built in")
    }
}

/// Levenshtein distance (names are short ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, &ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_boards_parse_and_round_trip() {
        for (key, _) in BUILTIN {
            assert_eq!(Board::by_name(key).map(|b| b.name), Some(key.to_string()));
        }
        for b in Board::builtin() {
            let text = toml::to_string(&b).unwrap();
            assert_eq!(Board::from_toml(&text, "x").unwrap(), b, "{}", b.name);
        }
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let text =
            "name = \"x\"\ndescription = \"d\"\ncpu = \"cortex-m3\"\ncpu_hz = 1\nbogus = 3\n";
        let e = Board::from_toml(text, "board.toml")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("board.toml: "), "{e}");
        assert!(e.contains("line 5"), "{e}");
        assert!(e.contains("bogus"), "{e}");
        let text = "name = \"x\"\ndescription = \"d\"\ncpu = \"cortex-m9\"\ncpu_hz = 1\n";
        let e = Board::from_toml(text, "board.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3") && e.contains("cortex-m9"), "{e}");
    }
}
