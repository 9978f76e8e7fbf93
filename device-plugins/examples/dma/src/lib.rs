//! Example plugin: a one-channel DMA engine. Writing CTRL.START copies LEN bytes of guest
//! memory from SRC to DST; the transfer takes `cycles_per_byte * LEN` CPU cycles of virtual
//! time, then STATUS.DONE (or STATUS.ERROR if either range is not RAM, or DST is ROM) is set
//! and the IRQ raised if enabled. Nothing is written on error (transfers are all or nothing).
//!
//! | Offset | Register | |
//! |---|---|---|
//! | 0x00 | SRC | source address |
//! | 0x04 | DST | destination address |
//! | 0x08 | LEN | bytes (at most param `max_len`) |
//! | 0x0c | CTRL | bit 0 START (write 1; reads 0), bit 1 IRQEN |
//! | 0x10 | STATUS | bit 0 BUSY, bit 1 DONE, bit 2 ERROR (write 1 to clear DONE/ERROR) |
//! | 0x14 | COPIED | bytes copied by the last transfer |
//!
//! The IRQ is `IRQEN && (DONE || ERROR)`. START while BUSY, or with LEN > max_len, sets
//! ERROR at once.
#![deny(unsafe_code)]

use armlet_plugin::{
    export_plugin, BusError, Config, Device, Host, Param, Region, TypeDesc, ACCESS_32,
};

const SRC: u32 = 0x00;
const DST: u32 = 0x04;
const LEN: u32 = 0x08;
const CTRL: u32 = 0x0c;
const STATUS: u32 = 0x10;
const COPIED: u32 = 0x14;

const START: u32 = 1;
const IRQEN: u32 = 2;
const BUSY: u32 = 1;
const DONE: u32 = 2;
const ERROR: u32 = 4;
const TOKEN: u64 = 1;

#[derive(Debug)]
struct Dma {
    cycles_per_byte: u64,
    max_len: u32,
    src: u32,
    dst: u32,
    len: u32,
    ctrl: u32,
    status: u32,
    copied: u32,
    /// The transfer in flight: (src, dst, len).
    job: Option<(u32, u32, u32)>,
}

impl Dma {
    fn update_irq(&self, host: &mut Host<'_>) {
        host.set_irq(
            0,
            self.ctrl & IRQEN != 0 && self.status & (DONE | ERROR) != 0,
        );
    }

    fn reg(&self, offset: u32) -> Option<u32> {
        Some(match offset {
            SRC => self.src,
            DST => self.dst,
            LEN => self.len,
            CTRL => self.ctrl,
            STATUS => self.status,
            COPIED => self.copied,
            _ => return None,
        })
    }

    fn start(&mut self, host: &mut Host<'_>) {
        if self.status & BUSY != 0 || self.len > self.max_len {
            host.warn(&format!(
                "START refused: {}",
                if self.status & BUSY != 0 {
                    "busy".to_string()
                } else {
                    format!("LEN {} > max_len {}", self.len, self.max_len)
                }
            ));
            self.status |= ERROR;
            return;
        }
        self.status = (self.status | BUSY) & !(DONE | ERROR);
        self.job = Some((self.src, self.dst, self.len));
        let at = host
            .now()
            .saturating_add(u64::from(self.len) * self.cycles_per_byte);
        host.schedule(at, TOKEN);
    }
}

impl Device for Dma {
    fn describe() -> TypeDesc {
        TypeDesc::new(
            "dma-engine",
            "one-channel memory-to-memory DMA with a completion IRQ",
        )
        .param(
            Param::int(
                "cycles_per_byte",
                1,
                "virtual time a transfer takes per byte",
            )
            .range(0, 1000),
        )
        .param(Param::int("max_len", 65536, "longest transfer in bytes").range(1, 1 << 24))
        .region(Region::new("regs", 0x20).access(ACCESS_32))
        .irq_output("done")
        .state_version(1)
    }

    fn create(cfg: &Config, _host: &mut Host<'_>) -> Result<Self, String> {
        Ok(Dma {
            cycles_per_byte: cfg.int("cycles_per_byte") as u64,
            max_len: cfg.int("max_len") as u32,
            src: 0,
            dst: 0,
            len: 0,
            ctrl: 0,
            status: 0,
            copied: 0,
            job: None,
        })
    }

    fn read(
        &mut self,
        _host: &mut Host<'_>,
        _region: u32,
        offset: u32,
        _size: u32,
    ) -> Result<u32, BusError> {
        self.reg(offset).ok_or(BusError)
    }

    fn write(
        &mut self,
        host: &mut Host<'_>,
        _region: u32,
        offset: u32,
        _size: u32,
        value: u32,
    ) -> Result<(), BusError> {
        match offset {
            SRC => self.src = value,
            DST => self.dst = value,
            LEN => self.len = value,
            CTRL => {
                self.ctrl = value & IRQEN;
                if value & START != 0 {
                    self.start(host);
                }
            }
            STATUS => self.status &= !(value & (DONE | ERROR)),
            COPIED => {}
            _ => return Err(BusError),
        }
        self.update_irq(host);
        Ok(())
    }

    fn peek(&self, _region: u32, offset: u32, _size: u32) -> Option<u32> {
        self.reg(offset)
    }

    fn reset(&mut self, host: &mut Host<'_>) {
        self.src = 0;
        self.dst = 0;
        self.len = 0;
        self.ctrl = 0;
        self.status = 0;
        self.copied = 0;
        self.job = None;
        host.cancel(TOKEN);
        host.set_irq(0, false);
    }

    fn timer(&mut self, host: &mut Host<'_>, token: u64) {
        let Some((src, dst, len)) = self.job.take().filter(|_| token == TOKEN) else {
            return;
        };
        let mut buf = vec![0u8; len as usize];
        let ok = host.dma_read(src, &mut buf).is_ok() && host.dma_write(dst, &buf).is_ok();
        self.status &= !BUSY;
        if ok {
            self.status |= DONE;
            self.copied = len;
            host.debug(&format!("copied {len} bytes {src:#010x} -> {dst:#010x}"));
        } else {
            self.status |= ERROR;
            self.copied = 0;
            host.warn(&format!(
                "transfer {src:#010x} -> {dst:#010x} ({len} bytes) failed: not RAM"
            ));
        }
        self.update_irq(host);
    }

    fn save(&self, out: &mut Vec<u8>) -> Result<(), armlet_plugin::Unsupported> {
        let (js, jd, jl) = self.job.unwrap_or((0, 0, 0));
        let has_job = u32::from(self.job.is_some());
        for v in [
            self.src,
            self.dst,
            self.len,
            self.ctrl,
            self.status,
            self.copied,
            has_job,
            js,
            jd,
            jl,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        Ok(())
    }

    fn restore(&mut self, bytes: &[u8], version: u32) -> Result<(), String> {
        if version != 1 || bytes.len() != 40 {
            return Err(format!(
                "unknown state (version {version}, {} bytes)",
                bytes.len()
            ));
        }
        let w: Vec<u32> = bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        (
            self.src,
            self.dst,
            self.len,
            self.ctrl,
            self.status,
            self.copied,
        ) = (w[0], w[1], w[2], w[3], w[4], w[5]);
        self.job = (w[6] != 0).then_some((w[7], w[8], w[9]));
        Ok(())
    }
}

export_plugin! {
    name: "armlet-plugin-dma",
    version: env!("CARGO_PKG_VERSION"),
    devices: [Dma],
}
