//! Built-in device models and the factory that builds them from machine-file entries.
//!
//! # Devices
//!
//! Each `[[device]]` of a machine file names a `type` below, a `base`, optionally a `size`
//! (default 0x1000 for all but `unimplemented`), the NVIC lines its IRQ outputs drive
//! (`irq`, in the order listed; fewer is fine, more is an error) and type-specific
//! `params` (unknown ones are an error). Clock parameters default to the board's CPU
//! clock. The models follow QEMU's (`hw/...` named in each module), so firmware written
//! against `qemu-system-arm` behaves the same; each module lists where it deviates.
//!
//! | Type | Registers | IRQ outputs | Params |
//! |---|---|---|---|
//! | `unimplemented` | none: reads 0, writes ignored, first access to each word logged | none | none; `size` required |
//! | `cmsdk-uart` | DATA, STATE, CTRL, INTSTATUS, BAUDDIV, PID/CID | rx, tx, overflow (TX or RX overrun), combined | `pclk_hz` |
//! | `cmsdk-timer` | CTRL, VALUE, RELOAD, INTSTATUS, PID/CID | timer | `pclk_hz` |
//! | `cmsdk-dualtimer` | per timer (at 0x00, 0x20): LOAD, VALUE, CONTROL, INTCLR, RIS, MIS, BGLOAD; ITCR, ITOP, PID/CID | combined, timer 1, timer 2 | `timclk_hz` |
//! | `mps2-fpgaio` | LED0, DBGCTRL¹, BUTTON, CLK1HZ, CLK100HZ, COUNTER, PRESCALE, PSCNTR, SWITCH¹, MISC | none | `prescale_hz`, `num_leds` (2), `has_switches`, `has_dbgctrl` (false) |
//! | `mps2-scc` | CFG0-CFG4, CFGDATA_RTN, CFGDATA_OUT, CFGCTRL, CFGSTAT, DLL, AID, ID | none | `id`, `aid` (0x00200008), `cfg4` (2), `cfg0` (0), `oscclk` (\[50000000, 24576000, 25000000\]) |
//! | `stellaris-uart` | DR, RSR/ECR, FR, ILPR, IBRD, FBRD, LCR_H, CR, IFLS, IMSC, RIS, MIS, ICR, DMACR, PeriphID/PCellID | combined, rx, tx, receive timeout, modem status, error | `clk_hz` |
//! | `stellaris-gptm` | CFG, TAMR, TBMR, CTL, IMR, RIS, MIS, ICR, TAILR, TBILR, TAMATCHR, TBMATCHR, TAPR, TBPR, TAPMR, TBPMR, TAR, TBR | timer | `clk_hz` |
//! | `stellaris-sysctl` | DID0, DID1, DC0-DC4, PBORCTL, LDOPCTL, SRCR0-2, RIS, IMC, MISC, RESC, RCC, PLLCFG, RCC2, RCGC0-2, SCGC0-2, DCGC0-2, DSLPCLKCFG, CLKVCLR, LDOARST, USER0, USER1 | system control | `did0`, `did1`, `dc0`-`dc4`, `user0`, `user1` (LM3S6965 values as in QEMU) |
//!
//! ¹ only with the `has_*` param.
//!
//! The `mps2-scc` `id` defaults to AN385's; QEMU's values are AN385 0x41043850, AN386
//! 0x41043860, AN500 0x41045000 (`hw/arm/mps2.c`), set by the built-in boards.
//!
//! The UARTs transmit instantly to their serial backend and poll it for input (when the
//! guest reads a status or data register, and every character time while a receive
//! interrupt is enabled). The timers are computed from virtual time when read and schedule
//! one event for their next interrupt; nothing ticks per cycle.

mod cmsdk_dualtimer;
mod cmsdk_timer;
mod cmsdk_uart;
mod common;
mod countdown;
mod mps2_fpgaio;
mod mps2_scc;
mod stellaris_gptm;
mod stellaris_sysctl;
mod stellaris_uart;
mod unimplemented;

pub use cmsdk_dualtimer::CmsdkDualTimer;
pub use cmsdk_timer::CmsdkTimer;
pub use cmsdk_uart::CmsdkUart;
pub use mps2_fpgaio::{FpgaioConfig, Mps2Fpgaio};
pub use mps2_scc::{Mps2Scc, SccConfig};
pub use stellaris_gptm::StellarisGptm;
pub use stellaris_sysctl::{StellarisSysctl, SysctlConfig};
pub use stellaris_uart::StellarisUart;
pub use unimplemented::Unimplemented;

use crate::board::DeviceDesc;
use crate::device::{Device, Serial};
use common::Params;

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

/// The register region size of every type but `unimplemented`.
const DEFAULT_SIZE: u32 = 0x1000;

/// The device types armlet has: (type name, one-line description).
pub fn types() -> &'static [(&'static str, &'static str)] {
    &[
        (
            "unimplemented",
            "a region the board has but armlet does not model: reads as zero, writes ignored, first access to each register logged",
        ),
        (
            "cmsdk-uart",
            "Arm CMSDK APB UART (MPS2); IRQs rx, tx, overflow, combined; param pclk_hz",
        ),
        (
            "cmsdk-timer",
            "Arm CMSDK APB timer (MPS2); IRQ timer; param pclk_hz",
        ),
        (
            "cmsdk-dualtimer",
            "Arm CMSDK APB dual timer, SP804-like (MPS2); IRQs combined, timer 1, timer 2; param timclk_hz",
        ),
        (
            "mps2-fpgaio",
            "MPS2 FPGA I/O: LEDs, buttons, 1 Hz/100 Hz/prescaled counters; params prescale_hz, num_leds, has_switches, has_dbgctrl",
        ),
        (
            "mps2-scc",
            "MPS2 serial configuration controller: board config, SYS_CFG (OSCCLK), image ID; params id, aid, cfg4, cfg0, oscclk",
        ),
        (
            "stellaris-uart",
            "PL011 UART with Luminary IDs (LM3S); IRQs combined, rx, tx, rt, ms, e; param clk_hz",
        ),
        (
            "stellaris-gptm",
            "Stellaris general-purpose timer module (32-bit periodic/one-shot, RTC); IRQ timer; param clk_hz",
        ),
        (
            "stellaris-sysctl",
            "Stellaris system control (IDs, clocks, PLL lock); IRQ system control; params did0, did1, dc0-dc4, user0, user1",
        ),
    ]
}

/// The names of a built-in type's IRQ outputs, in the order of a machine file's `irq`.
pub fn irq_output_names(kind: &str) -> &'static [&'static str] {
    match kind {
        "cmsdk-uart" => &["rx", "tx", "overflow", "combined"],
        "cmsdk-timer" | "stellaris-gptm" => &["timer"],
        "cmsdk-dualtimer" => &["combined", "timer 1", "timer 2"],
        "stellaris-uart" => &["combined", "rx", "tx", "rt", "ms", "e"],
        "stellaris-sysctl" => &["system control"],
        _ => &[],
    }
}

/// Build a device from its machine-file entry. `serial` gives a UART its backend (asked for
/// only once the entry has been checked).
pub fn create(desc: &DeviceDesc, serial: &mut SerialFor<'_>) -> Result<Built, String> {
    let name = desc.name.as_str();
    let mut p = Params::new(desc);
    let size = desc.size.unwrap_or(DEFAULT_SIZE);
    let device = |d: Box<dyn Device>| {
        Ok(Built {
            device: d,
            size,
            is_uart: false,
        })
    };
    match desc.kind.as_str() {
        "unimplemented" => {
            p.finish(&[])?;
            let size = desc
                .size
                .ok_or_else(|| format!("device '{name}': type \"unimplemented\" needs `size`"))?;
            Ok(Built {
                device: Box::new(Unimplemented::new(name)),
                size,
                is_uart: false,
            })
        }
        "cmsdk-uart" => {
            let pclk = p.hz("pclk_hz")?;
            p.finish(cmsdk_uart::OUTPUTS)?;
            Ok(Built {
                device: Box::new(CmsdkUart::new(name, serial(name), pclk)),
                size,
                is_uart: true,
            })
        }
        "cmsdk-timer" => {
            let pclk = p.hz("pclk_hz")?;
            p.finish(cmsdk_timer::OUTPUTS)?;
            device(Box::new(CmsdkTimer::new(name, pclk)))
        }
        "cmsdk-dualtimer" => {
            let clk = p.hz("timclk_hz")?;
            p.finish(cmsdk_dualtimer::OUTPUTS)?;
            device(Box::new(CmsdkDualTimer::new(name, clk)))
        }
        "mps2-fpgaio" => {
            let d = FpgaioConfig::default();
            let cfg = FpgaioConfig {
                prescale_hz: p.hz("prescale_hz")?,
                num_leds: p.int("num_leds", 0, 32)?.map_or(d.num_leds, |n| n as u32),
                has_switches: p.bool("has_switches")?.unwrap_or(d.has_switches),
                has_dbgctrl: p.bool("has_dbgctrl")?.unwrap_or(d.has_dbgctrl),
            };
            p.finish(mps2_fpgaio::OUTPUTS)?;
            device(Box::new(Mps2Fpgaio::new(name, cfg)))
        }
        "mps2-scc" => {
            let d = SccConfig::default();
            let cfg = SccConfig {
                id: p.u32("id")?.unwrap_or(d.id),
                aid: p.u32("aid")?.unwrap_or(d.aid),
                cfg4: p.u32("cfg4")?.unwrap_or(d.cfg4),
                cfg0: p.u32("cfg0")?.unwrap_or(d.cfg0),
                oscclk: p.u32_list("oscclk", 4096)?.unwrap_or(d.oscclk),
            };
            p.finish(mps2_scc::OUTPUTS)?;
            device(Box::new(Mps2Scc::new(name, cfg)))
        }
        "stellaris-uart" => {
            let clk = p.hz("clk_hz")?;
            p.finish(stellaris_uart::OUTPUTS)?;
            Ok(Built {
                device: Box::new(StellarisUart::new(name, serial(name), clk)),
                size,
                is_uart: true,
            })
        }
        "stellaris-gptm" => {
            let clk = p.hz("clk_hz")?;
            p.finish(stellaris_gptm::OUTPUTS)?;
            device(Box::new(StellarisGptm::new(name, clk)))
        }
        "stellaris-sysctl" => {
            let d = SysctlConfig::default();
            let mut dc = d.dc;
            for (i, key) in ["dc0", "dc1", "dc2", "dc3", "dc4"].into_iter().enumerate() {
                if let Some(v) = p.u32(key)? {
                    dc[i] = v;
                }
            }
            let cfg = SysctlConfig {
                did0: p.u32("did0")?.unwrap_or(d.did0),
                did1: p.u32("did1")?.unwrap_or(d.did1),
                dc,
                user0: p.u32("user0")?.unwrap_or(d.user0),
                user1: p.u32("user1")?.unwrap_or(d.user1),
            };
            p.finish(stellaris_sysctl::OUTPUTS)?;
            device(Box::new(StellarisSysctl::new(name, cfg)))
        }
        other => Err(format!(
            "device '{name}': unknown type '{other}' (known: {})",
            types().iter().map(|t| t.0).collect::<Vec<_>>().join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::Board;
    use crate::device::{DeviceCtx, NullSerial};
    use crate::io::IoState;

    fn null(_: &str) -> Box<dyn Serial> {
        Box::new(NullSerial)
    }

    fn desc(text: &str) -> DeviceDesc {
        toml::from_str(text).expect("valid entry")
    }

    #[test]
    fn every_builtin_board_device_builds_and_survives_reset_and_reads() {
        let boards = Board::builtin();
        assert!(boards.len() >= 4);
        for b in boards {
            let mut io = IoState::new(b.cpu_hz, b.num_irq as usize, b.prio_bits);
            let mut uarts = Vec::new();
            for (i, d) in b.devices.iter().enumerate() {
                let mut asked = Vec::new();
                let mut serial = |n: &str| -> Box<dyn Serial> {
                    asked.push(n.to_string());
                    Box::new(NullSerial)
                };
                let mut built = create(d, &mut serial)
                    .unwrap_or_else(|e| panic!("{}: device '{}': {e}", b.name, d.name));
                assert_eq!(built.is_uart, !asked.is_empty(), "{}: {}", b.name, d.name);
                if built.is_uart {
                    assert_eq!(asked, std::slice::from_ref(&d.name));
                    uarts.push(d.name.clone());
                }
                assert!(built.size > 0);
                let mut ctx = DeviceCtx::new(&mut io, i, &d.irq);
                built.device.reset(&mut ctx);
                for off in (0..built.size.min(0x1000)).step_by(4) {
                    built
                        .device
                        .read(off, 4, &mut ctx)
                        .expect("device reads never fault");
                    let _ = built.device.peek(off, 4);
                }
            }
            if let Some(c) = &b.console {
                assert!(uarts.contains(c), "{}: console '{c}' is a UART", b.name);
            }
        }
    }

    #[test]
    fn builtin_board_maps_have_no_overlaps() {
        for b in Board::builtin() {
            let mut mem =
                crate::memory::Memory::from_board(&b).unwrap_or_else(|e| panic!("{}: {e}", b.name));
            for d in &b.devices {
                let built = create(d, &mut null).unwrap();
                mem.add_device(
                    &d.name,
                    d.base,
                    d.size.unwrap_or(built.size),
                    built.device,
                    d.irq.clone(),
                )
                .unwrap_or_else(|e| panic!("{}: device '{}': {e}", b.name, d.name));
            }
        }
    }

    #[test]
    fn builtin_mps2_boards_match_qemu() {
        for (name, id) in [
            ("mps2-an385", SccConfig::ID_AN385),
            ("mps2-an386", SccConfig::ID_AN386),
            ("mps2-an500", SccConfig::ID_AN500),
        ] {
            let b = Board::by_name(name).unwrap_or_else(|| panic!("{name} is built in"));
            let dev = |n: &str| {
                b.devices
                    .iter()
                    .find(|d| d.name == n)
                    .unwrap_or_else(|| panic!("{name}: {n}"))
            };
            let scc = dev("scc");
            assert_eq!(
                scc.params.get("id").and_then(|v| v.as_integer()),
                Some(i64::from(id))
            );
            for (uart, base, rx) in [
                ("uart0", 0x4000_4000, 0),
                ("uart1", 0x4000_5000, 2),
                ("uart2", 0x4000_6000, 4),
                ("uart3", 0x4000_7000, 18),
                ("uart4", 0x4000_9000, 20),
            ] {
                let d = dev(uart);
                assert_eq!((d.kind.as_str(), d.base), ("cmsdk-uart", base));
                let want: Vec<u32> = if rx < 18 {
                    vec![rx, rx + 1, 12]
                } else {
                    vec![rx, rx + 1]
                };
                assert_eq!(d.irq, want, "{name}: {uart}");
            }
            assert_eq!(
                (dev("timer0").base, dev("timer0").irq.as_slice()),
                (0x4000_0000, &[8][..])
            );
            assert_eq!(
                (dev("timer1").base, dev("timer1").irq.as_slice()),
                (0x4000_1000, &[9][..])
            );
            assert_eq!(
                (dev("dualtimer").base, dev("dualtimer").irq.as_slice()),
                (0x4000_2000, &[10][..])
            );
            assert_eq!(dev("fpgaio").base, 0x4002_8000);
            assert_eq!(scc.base, 0x4002_f000);
            assert_eq!(b.console.as_deref(), Some("uart0"));
        }
    }

    #[test]
    fn bad_entries_are_errors_naming_device_and_key() {
        let err = |text: &str| create(&desc(text), &mut null).unwrap_err();
        let e = err("name = \"t0\"\ntype = \"cmsdk-timer\"\nbase = 0\n[params]\nspeed = 3\n");
        assert!(
            e.contains("'t0'") && e.contains("`speed`") && e.contains("pclk_hz"),
            "{e}"
        );
        let e = err("name = \"t0\"\ntype = \"cmsdk-timer\"\nbase = 0\n[params]\npclk_hz = 0\n");
        assert!(e.contains("'t0'") && e.contains("`pclk_hz`"), "{e}");
        let e =
            err("name = \"t0\"\ntype = \"cmsdk-timer\"\nbase = 0\n[params]\npclk_hz = \"fast\"\n");
        assert!(e.contains("`pclk_hz`") && e.contains("integer"), "{e}");
        let e = err("name = \"t0\"\ntype = \"cmsdk-timer\"\nbase = 0\nirq = [1, 2]\n");
        assert!(
            e.contains("'t0'") && e.contains("`irq`") && e.contains("1 IRQ output"),
            "{e}"
        );
        let e = err("name = \"u\"\ntype = \"cmsdk-uart\"\nbase = 0\nirq = [1, 2, 3, 4, 5]\n");
        assert!(e.contains("4 IRQ outputs"), "{e}");
        let e = err("name = \"s\"\ntype = \"mps2-scc\"\nbase = 0\n[params]\nid = -1\n");
        assert!(e.contains("'s'") && e.contains("`id`"), "{e}");
        let e = err("name = \"s\"\ntype = \"mps2-scc\"\nbase = 0\n[params]\noscclk = [1, \"x\"]\n");
        assert!(e.contains("`oscclk`"), "{e}");
        let e = err("name = \"f\"\ntype = \"mps2-fpgaio\"\nbase = 0\n[params]\nnum_leds = 33\n");
        assert!(e.contains("`num_leds`") && e.contains("33"), "{e}");
        let e = err("name = \"f\"\ntype = \"mps2-fpgaio\"\nbase = 0\n[params]\nhas_switches = 1\n");
        assert!(
            e.contains("`has_switches`") && e.contains("true or false"),
            "{e}"
        );
        let e = err("name = \"x\"\ntype = \"unimplemented\"\nbase = 0\n");
        assert!(e.contains("`size`"), "{e}");
        let e =
            err("name = \"x\"\ntype = \"unimplemented\"\nbase = 0\nsize = 16\n[params]\na = 1\n");
        assert!(e.contains("`a`") && e.contains("takes none"), "{e}");
        let e = err("name = \"x\"\ntype = \"cmsdk-timer\"\nbase = 0\nsize = 0\n");
        assert!(e.contains("`size`"), "{e}");
        let e = err("name = \"x\"\ntype = \"pl999\"\nbase = 0\n");
        assert!(e.contains("pl999") && e.contains("cmsdk-uart"), "{e}");
    }

    #[test]
    fn uart_backend_is_opened_only_for_valid_entries() {
        let mut opened = 0;
        let mut serial = |_: &str| -> Box<dyn Serial> {
            opened += 1;
            Box::new(NullSerial)
        };
        let bad =
            desc("name = \"u\"\ntype = \"stellaris-uart\"\nbase = 0\n[params]\nbaud = 9600\n");
        assert!(create(&bad, &mut serial).is_err());
        let good = desc("name = \"u\"\ntype = \"stellaris-uart\"\nbase = 0\nirq = [5]\n");
        let built = create(&good, &mut serial).unwrap();
        assert!(built.is_uart);
        assert_eq!(built.size, 0x1000);
        assert_eq!(opened, 1);
    }

    #[test]
    fn types_are_all_buildable() {
        for (t, _) in types() {
            let text = format!("name = \"d\"\ntype = \"{t}\"\nbase = 0\nsize = 0x1000\n");
            create(&desc(&text), &mut null).unwrap_or_else(|e| panic!("{t}: {e}"));
        }
    }
}
