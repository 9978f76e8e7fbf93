//! The CMSDK APB UART (Cortex-M System Design Kit TRM, Arm DDI0479), behaving as QEMU's
//! `hw/char/cmsdk-apb-uart.c` does, so firmware written against QEMU's MPS2 boards sees
//! the same thing:
//!
//! - Transmission is instantaneous: a byte written to DATA with TXEN set goes to the
//!   backend at once, TXFULL clears again, and if TXINTEN is set the TX interrupt status is
//!   set (the TXFULL set-to-clear edge). With TXEN clear the byte stays in the buffer with
//!   TXFULL set and is *not* sent when TXEN is set later (QEMU only sends on a DATA write);
//!   further writes overrun. Enabling TXINTEN with an empty buffer raises nothing.
//! - A byte is only taken from the backend while RXEN is set and the receive buffer is
//!   empty, so the receive overrun never happens (as in QEMU, whose character backends wait
//!   for `can_receive`).
//! - The TX and RX interrupt status bits latch until written 1 to INTSTATUS; the overrun
//!   interrupt bits are STATE's overrun bits ANDed with their enables.
//!
//! Input is polled from the [`Serial`] backend when the guest reads DATA, STATE or
//! INTSTATUS, and every character time (10 × BAUDDIV clocks, at least 1000 cycles) while
//! RXEN and RXINTEN are set and the buffer is empty.

use super::common::{
    cmsdk_id, cycles_for, default_char_cycles, size_mask, GuestLog, RxPoller, Time,
};
use crate::device::{Device, DeviceCtx, Serial};
use armlet_cpu::BusError;

const DATA: u32 = 0x00;
const STATE: u32 = 0x04;
const CTRL: u32 = 0x08;
const INTSTATUS: u32 = 0x0c;
const BAUDDIV: u32 = 0x10;

const STATE_TXFULL: u32 = 1 << 0;
const STATE_RXFULL: u32 = 1 << 1;
const STATE_TXOVR: u32 = 1 << 2;
const STATE_RXOVR: u32 = 1 << 3;

const CTRL_TXEN: u32 = 1 << 0;
const CTRL_RXEN: u32 = 1 << 1;
const CTRL_TXINTEN: u32 = 1 << 2;
const CTRL_RXINTEN: u32 = 1 << 3;

const INT_TX: u32 = 1 << 0;
const INT_RX: u32 = 1 << 1;
const INT_TXO: u32 = 1 << 2;
const INT_RXO: u32 = 1 << 3;

/// PID4..7, PID0..3, CID0..3 (QEMU's values for the APB UART).
const ID: [u8; 12] = [
    0x04, 0x00, 0x00, 0x00, 0x21, 0xb8, 0x1b, 0x00, 0x0d, 0xf0, 0x05, 0xb1,
];

/// IRQ outputs, in machine-file order.
pub const OUTPUTS: &[&str] = &["rx", "tx", "overflow (tx or rx overrun)", "combined"];

/// A CMSDK APB UART.
#[derive(Debug)]
pub struct CmsdkUart {
    name: String,
    /// PCLK (the baud-rate clock); `None` for the CPU clock.
    pclk_hz: Option<u64>,
    rx: RxPoller,
    state: u32,
    ctrl: u32,
    intstatus: u32,
    bauddiv: u32,
    txbuf: u8,
    rxbuf: u8,
    log: GuestLog,
}

impl CmsdkUart {
    /// A UART called `name` on `serial`, clocked by `pclk_hz` (`None`: the CPU clock).
    pub fn new(name: &str, serial: Box<dyn Serial>, pclk_hz: Option<u64>) -> Self {
        CmsdkUart {
            name: name.into(),
            pclk_hz,
            rx: RxPoller::new(serial),
            state: 0,
            ctrl: 0,
            intstatus: 0,
            bauddiv: 0,
            txbuf: 0,
            rxbuf: 0,
            log: GuestLog::default(),
        }
    }

    fn update(&mut self, ctx: &mut DeviceCtx<'_>) {
        let o = INT_TXO | INT_RXO;
        self.intstatus = (self.intstatus & !o) | (self.state & (self.ctrl >> 2) & o);
        let s = self.intstatus;
        ctx.set_irq(0, s & INT_RX != 0);
        ctx.set_irq(1, s & INT_TX != 0);
        ctx.set_irq(2, s & o != 0);
        ctx.set_irq(3, s != 0);
    }

    fn baud_ok(&self, t: Time) -> bool {
        let pclk = self.pclk_hz.unwrap_or(t.cpu_hz);
        self.bauddiv >= 16 && u64::from(self.bauddiv) <= pclk
    }

    /// Take a byte from the backend if the receiver can hold one.
    fn receive(&mut self, ctx: &mut DeviceCtx<'_>) {
        if self.ctrl & CTRL_RXEN == 0 || self.state & STATE_RXFULL != 0 {
            return;
        }
        if let Some(b) = self.rx.poll() {
            self.rxbuf = b;
            self.state |= STATE_RXFULL;
            if self.ctrl & CTRL_RXINTEN != 0 {
                self.intstatus |= INT_RX;
            }
            self.update(ctx);
        }
    }

    fn schedule_rx(&mut self, ctx: &mut DeviceCtx<'_>) {
        let t = Time::of(ctx);
        let wanted = self.ctrl & (CTRL_RXEN | CTRL_RXINTEN) == CTRL_RXEN | CTRL_RXINTEN
            && self.state & STATE_RXFULL == 0;
        let char_cycles = if self.baud_ok(t) {
            let pclk = self.pclk_hz.unwrap_or(t.cpu_hz);
            cycles_for(10 * u64::from(self.bauddiv), t.cpu_hz, pclk, 1)
        } else {
            default_char_cycles(t.cpu_hz)
        };
        self.rx.schedule(wanted, char_cycles, ctx);
    }

    fn transmit(&mut self, ctx: &mut DeviceCtx<'_>) {
        if self.ctrl & CTRL_TXEN == 0 || self.state & STATE_TXFULL == 0 {
            return;
        }
        self.rx.serial.write(&[self.txbuf]);
        self.state &= !STATE_TXFULL;
        // Going from TXFULL set to clear is what raises the TX interrupt.
        if self.ctrl & CTRL_TXINTEN != 0 {
            self.intstatus |= INT_TX;
        }
        self.update(ctx);
    }

    /// A register's value, without side effects.
    fn reg(&self, offset: u32) -> Option<u32> {
        Some(match offset {
            DATA => u32::from(self.rxbuf),
            STATE => self.state,
            CTRL => self.ctrl,
            INTSTATUS => self.intstatus,
            BAUDDIV => self.bauddiv,
            0xfd0..=0xfff => cmsdk_id(&ID, offset),
            _ => return None,
        })
    }
}

impl Device for CmsdkUart {
    fn read(&mut self, offset: u32, size: u8, ctx: &mut DeviceCtx<'_>) -> Result<u32, BusError> {
        if matches!(offset, DATA | STATE | INTSTATUS) {
            self.receive(ctx);
        }
        let v = match self.reg(offset) {
            Some(v) => v,
            None => {
                self.log.bad(&self.name, offset, false, 0);
                0
            }
        };
        if offset == DATA {
            self.state &= !STATE_RXFULL;
            self.update(ctx);
        }
        self.schedule_rx(ctx);
        Ok(v & size_mask(size))
    }

    fn write(
        &mut self,
        offset: u32,
        _size: u8,
        value: u32,
        ctx: &mut DeviceCtx<'_>,
    ) -> Result<(), BusError> {
        match offset {
            DATA => {
                self.txbuf = value as u8;
                if self.state & STATE_TXFULL != 0 {
                    // Still holding the previous byte (TXEN clear): overrun; the new byte
                    // replaces it.
                    self.state |= STATE_TXOVR;
                    self.update(ctx);
                } else {
                    self.state |= STATE_TXFULL;
                    self.transmit(ctx);
                }
            }
            STATE => {
                // TXFULL/RXFULL read-only; the overrun bits are write-1-to-clear.
                self.state &= !(value & (STATE_TXOVR | STATE_RXOVR));
                self.update(ctx);
            }
            CTRL => {
                self.ctrl = value & 0x7f;
                if self.ctrl & CTRL_TXEN != 0 && !self.baud_ok(Time::of(ctx)) {
                    self.log.unimp(
                        &self.name,
                        1,
                        "CMSDK UART: TX enabled with an invalid BAUDDIV",
                    );
                }
                self.update(ctx);
            }
            INTSTATUS => {
                // Write 1 to clear; clearing an overrun interrupt clears the STATE bit.
                self.state &= !(value & (INT_TXO | INT_RXO));
                self.intstatus &= !value;
                self.update(ctx);
            }
            BAUDDIV => self.bauddiv = value & 0xf_ffff,
            _ => self.log.bad(&self.name, offset, true, value),
        }
        self.schedule_rx(ctx);
        Ok(())
    }

    fn may_dma(&self) -> bool {
        false
    }
    fn peek(&self, offset: u32, size: u8) -> Option<u32> {
        self.reg(offset).map(|v| v & size_mask(size))
    }

    fn reset(&mut self, ctx: &mut DeviceCtx<'_>) {
        self.state = 0;
        self.ctrl = 0;
        self.intstatus = 0;
        self.bauddiv = 0;
        self.txbuf = 0;
        self.rxbuf = 0;
        self.rx.reset(ctx);
        self.update(ctx);
    }

    fn event(&mut self, token: u64, ctx: &mut DeviceCtx<'_>) {
        if token == RxPoller::TOKEN {
            self.rx.fired();
            self.receive(ctx);
            self.schedule_rx(ctx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::common::bench::{Bench, TestSerial};

    fn uart() -> (Bench<CmsdkUart>, TestSerial) {
        let s = TestSerial::default();
        let b = Bench::new(
            CmsdkUart::new("uart0", s.boxed(), None),
            25_000_000,
            &[0, 1, 12, 13],
        );
        (b, s)
    }

    #[test]
    fn transmits_immediately_and_latches_tx_interrupt() {
        let (mut b, s) = uart();
        b.wr(BAUDDIV, 217);
        b.wr(CTRL, CTRL_TXEN);
        b.write(DATA, 1, u32::from(b'h'));
        b.wr(DATA, u32::from(b'i'));
        assert_eq!(s.out(), b"hi");
        assert_eq!(b.rd(STATE) & STATE_TXFULL, 0);
        assert_eq!(b.rd(INTSTATUS), 0, "TXINTEN clear: no TX status");
        assert!(!b.irq(1));
        // Enabling TXINTEN with an empty buffer raises nothing (QEMU) ...
        b.wr(CTRL, CTRL_TXEN | CTRL_TXINTEN);
        assert!(!b.irq(1));
        // ... the next byte does, and it stays until cleared.
        b.wr(DATA, u32::from(b'!'));
        assert_eq!(b.rd(INTSTATUS), INT_TX);
        assert!(b.irq(1) && b.irq(3) && !b.irq(0) && !b.irq(2));
        b.wr(INTSTATUS, INT_TX);
        assert!(!b.irq(1) && !b.irq(3));
        assert_eq!(b.rd(INTSTATUS), 0);
    }

    #[test]
    fn tx_disabled_holds_the_byte_and_overruns() {
        let (mut b, s) = uart();
        b.wr(CTRL, CTRL_TXOINTEN);
        b.wr(DATA, u32::from(b'a'));
        assert_eq!(b.rd(STATE), STATE_TXFULL);
        b.wr(DATA, u32::from(b'b'));
        assert_eq!(b.rd(STATE), STATE_TXFULL | STATE_TXOVR);
        assert_eq!(b.rd(INTSTATUS), INT_TXO);
        assert!(b.irq(2), "overflow output");
        // Enabling TX does not send the held byte (as QEMU).
        b.wr(CTRL, CTRL_TXOINTEN | CTRL_TXEN);
        assert!(s.out().is_empty());
        // Clearing the overrun through INTSTATUS clears STATE too.
        b.wr(INTSTATUS, INT_TXO);
        assert_eq!(b.rd(STATE), STATE_TXFULL);
        assert!(!b.irq(2));
        b.reset();
        assert_eq!(b.rd(STATE), 0);
    }

    const CTRL_TXOINTEN: u32 = 1 << 4;

    #[test]
    fn receives_on_status_reads_and_by_polling() {
        let (mut b, s) = uart();
        s.feed(b"xy");
        // RX disabled: nothing is taken from the backend.
        assert_eq!(b.rd(STATE), 0);
        assert_eq!(s.reads(), 0);
        b.wr(CTRL, CTRL_RXEN);
        assert_eq!(b.rd(STATE), STATE_RXFULL);
        assert_eq!(b.rd(INTSTATUS), 0, "RXINTEN clear");
        assert_eq!(b.rd(DATA), u32::from(b'x'));
        // Reading DATA with the buffer empty takes the next byte at once.
        assert_eq!(b.rd(DATA), u32::from(b'y'));
        assert_eq!(b.rd(STATE), 0);
        assert_eq!(b.next_event(), None, "no polling without RXINTEN");

        // With RXINTEN, polled every character time: 10 * BAUDDIV cycles.
        b.wr(BAUDDIV, 217);
        b.wr(CTRL, CTRL_RXEN | CTRL_RXINTEN);
        let t0 = b.now();
        assert_eq!(b.next_event(), Some(t0 + 2170));
        b.step(2169);
        s.feed(b"z");
        assert!(!b.irq(0));
        b.step(1);
        assert!(b.irq(0), "RX interrupt at the poll");
        assert_eq!(b.next_event(), None, "buffer full: polling paused");
        assert_eq!(b.rd(DATA), u32::from(b'z'));
        assert!(b.irq(0), "RX status latches after the read");
        b.wr(INTSTATUS, INT_RX);
        assert!(!b.irq(0));
        assert!(b.next_event().is_some(), "polling resumes");
        // End of input stops polling for good.
        s.close();
        b.step(2170);
        assert_eq!(b.next_event(), None);
        let reads = s.reads();
        assert_eq!(b.rd(STATE), 0);
        assert_eq!(s.reads(), reads, "no reads after EOF");
    }

    #[test]
    fn registers_ids_and_bad_offsets() {
        let (mut b, _s) = uart();
        b.wr(BAUDDIV, 0xfff_ffff);
        assert_eq!(b.rd(BAUDDIV), 0xf_ffff);
        b.wr(CTRL, 0xffff_ffff);
        assert_eq!(b.rd(CTRL), 0x7f);
        b.wr(CTRL, 0);
        assert_eq!(b.rd(0xfe0), 0x21);
        assert_eq!(b.rd(0xfd0), 0x04);
        assert_eq!(b.rd(0xffc), 0xb1);
        assert_eq!(b.read(0xff0, 1), 0x0d);
        assert_eq!(b.rd(0x14), 0);
        b.wr(0x800, 5);
        b.wr(0xfe0, 5);
        assert_eq!(b.rd(0xfe0), 0x21);
        assert_eq!(b.dev.peek(0xfe4, 4), Some(0xb8));
        assert_eq!(b.dev.peek(0x40, 4), None);
        for off in (0..0x1000).step_by(1) {
            for size in [1, 2, 4] {
                b.read(off, size);
            }
        }
    }
}
