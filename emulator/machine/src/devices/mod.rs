//! Built-in device models and the factory that builds them from machine-file entries.

mod unimplemented;

pub use unimplemented::Unimplemented;

use crate::board::DeviceDesc;
use crate::device::{Device, Serial};

/// A device built from its description.
#[derive(Debug)]
pub struct Built {
    /// The model.
    pub device: Box<dyn Device>,
    /// Size of its register region.
    pub size: u32,
    /// True if the device is a UART (it took a serial backend).
    pub is_uart: bool,
}

/// Serial backends for UARTs, by device name.
pub type SerialFor<'a> = dyn FnMut(&str) -> Box<dyn Serial> + 'a;

/// The device types armlet has: (type name, one-line description).
pub fn types() -> &'static [(&'static str, &'static str)] {
    &[(
        "unimplemented",
        "a region the board has but armlet does not model: reads as zero, writes ignored, first access to each register logged",
    )]
}

/// Build a device from its machine-file entry. `serial` gives a UART its backend.
pub fn create(desc: &DeviceDesc, _serial: &mut SerialFor<'_>) -> Result<Built, String> {
    match desc.kind.as_str() {
        "unimplemented" => {
            let size = desc
                .size
                .ok_or_else(|| format!("device '{}': type \"unimplemented\" needs `size`", desc.name))?;
            Ok(Built {
                device: Box::new(Unimplemented::new(&desc.name)),
                size,
                is_uart: false,
            })
        }
        other => Err(format!(
            "device '{}': unknown type '{other}' (known: {})",
            desc.name,
            types().iter().map(|t| t.0).collect::<Vec<_>>().join(", ")
        )),
    }
}
