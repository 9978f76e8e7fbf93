//! The UART of the Stellaris LM3S parts: an Arm PrimeCell PL011 with Luminary's
//! identification bytes, behaving as QEMU's `hw/char/pl011.c` (`pl011_luminary`):
//!
//! - Transmission is instantaneous: a write to DR goes to the backend whatever CR's
//!   UARTEN/TXE say (QEMU does not check them), FR always shows TXFE and never TXFF or
//!   BUSY, and every write sets the TX raw interrupt, which stays until cleared in ICR.
//! - The receive FIFO holds 16 characters with LCR_H.FEN, otherwise 1; changing FEN
//!   empties it. The RX raw interrupt is set when the FIFO goes from empty to one
//!   character and cleared when it is read empty (QEMU's trigger level is always 1, not
//!   IFLS: the receive-timeout interrupt is never needed and never raised).
//! - Characters are only taken from the backend while the FIFO has room, so the overrun
//!   error never happens. In loopback (CR.LBE) transmitted characters are received
//!   instead, and CR's RTS/DTR/Out1/Out2 appear as FR's CTS/DSR/DCD/RI with their modem
//!   interrupts.
//! - IBRD (16 bits) and FBRD (6 bits) are stored and set the receive poll interval; the
//!   line format does not matter. DMA is not modelled.
//! - Registers are words; narrower accesses act on the containing word (QEMU).
//!
//! Input is polled from the [`Serial`] backend when the guest reads DR, FR, RIS or MIS, and
//! every character time (at least 1000 cycles) while the RX interrupt is unmasked and the
//! FIFO has room.

use super::common::{
    cycles_for, default_char_cycles, word_from_lane, word_lane, GuestLog, RxPoller, Time,
};
use crate::device::{Device, DeviceCtx, Serial};
use armlet_cpu::BusError;

const DR: u32 = 0x000;
const RSR: u32 = 0x004;
const FR: u32 = 0x018;
const ILPR: u32 = 0x020;
const IBRD: u32 = 0x024;
const FBRD: u32 = 0x028;
const LCR_H: u32 = 0x02c;
const CR: u32 = 0x030;
const IFLS: u32 = 0x034;
const IMSC: u32 = 0x038;
const RIS: u32 = 0x03c;
const MIS: u32 = 0x040;
const ICR: u32 = 0x044;
const DMACR: u32 = 0x048;

const FR_RI: u32 = 0x100;
const FR_TXFE: u32 = 0x80;
const FR_RXFF: u32 = 0x40;
const FR_RXFE: u32 = 0x10;
const FR_DCD: u32 = 0x04;
const FR_DSR: u32 = 0x02;
const FR_CTS: u32 = 0x01;

const DR_BE: u32 = 1 << 10;

const INT_OE: u32 = 1 << 10;
const INT_BE: u32 = 1 << 9;
const INT_PE: u32 = 1 << 8;
const INT_FE: u32 = 1 << 7;
const INT_RT: u32 = 1 << 6;
const INT_TX: u32 = 1 << 5;
const INT_RX: u32 = 1 << 4;
const INT_DSR: u32 = 1 << 3;
const INT_DCD: u32 = 1 << 2;
const INT_CTS: u32 = 1 << 1;
const INT_RI: u32 = 1 << 0;
const INT_E: u32 = INT_OE | INT_BE | INT_PE | INT_FE;
const INT_MS: u32 = INT_RI | INT_DSR | INT_DCD | INT_CTS;

const LCR_FEN: u32 = 1 << 4;
const LCR_BRK: u32 = 1 << 0;

const CR_OUT2: u32 = 1 << 13;
const CR_OUT1: u32 = 1 << 12;
const CR_RTS: u32 = 1 << 11;
const CR_DTR: u32 = 1 << 10;
const CR_LBE: u32 = 1 << 7;

const FIFO_DEPTH: usize = 16;

/// PeriphID0..3, PCellID0..3 of the Luminary variant.
const ID_LUMINARY: [u8; 8] = [0x11, 0x00, 0x18, 0x01, 0x0d, 0xf0, 0x05, 0xb1];

/// IRQ outputs, in machine-file order (QEMU's sysbus IRQs).
pub const OUTPUTS: &[&str] = &[
    "combined (UARTINTR)",
    "rx",
    "tx",
    "receive timeout",
    "modem status",
    "error",
];

/// Which interrupt bits drive each output.
const OUTPUT_MASKS: [u32; 6] = [
    INT_E | INT_MS | INT_RT | INT_TX | INT_RX,
    INT_RX,
    INT_TX,
    INT_RT,
    INT_MS,
    INT_E,
];

/// A Stellaris (PL011 Luminary) UART.
#[derive(Debug)]
pub struct StellarisUart {
    name: String,
    /// UARTCLK; `None` for the CPU clock (the Stellaris system clock).
    clk_hz: Option<u64>,
    rx: RxPoller,
    lcr: u32,
    rsr: u32,
    cr: u32,
    dmacr: u32,
    imsc: u32,
    ris: u32,
    ilpr: u32,
    ibrd: u32,
    fbrd: u32,
    ifls: u32,
    /// FR's modem status bits (only ever set in loopback).
    modem: u32,
    fifo: [u32; FIFO_DEPTH],
    read_pos: usize,
    read_count: usize,
    log: GuestLog,
}

impl StellarisUart {
    /// A UART called `name` on `serial`, with UARTCLK `clk_hz` (`None`: the CPU clock).
    pub fn new(name: &str, serial: Box<dyn Serial>, clk_hz: Option<u64>) -> Self {
        let mut u = StellarisUart {
            name: name.into(),
            clk_hz,
            rx: RxPoller::new(serial),
            lcr: 0,
            rsr: 0,
            cr: 0,
            dmacr: 0,
            imsc: 0,
            ris: 0,
            ilpr: 0,
            ibrd: 0,
            fbrd: 0,
            ifls: 0,
            modem: 0,
            fifo: [0; FIFO_DEPTH],
            read_pos: 0,
            read_count: 0,
            log: GuestLog::default(),
        };
        u.reset_regs();
        u
    }

    fn reset_regs(&mut self) {
        self.lcr = 0;
        self.rsr = 0;
        self.dmacr = 0;
        self.imsc = 0;
        self.ris = 0;
        self.ilpr = 0;
        self.ibrd = 0;
        self.fbrd = 0;
        self.ifls = 0x12;
        self.cr = 0x300;
        self.modem = 0;
        self.reset_fifo();
    }

    fn reset_fifo(&mut self) {
        self.read_pos = 0;
        self.read_count = 0;
    }

    fn depth(&self) -> usize {
        if self.lcr & LCR_FEN != 0 {
            FIFO_DEPTH
        } else {
            1
        }
    }

    fn loopback(&self) -> bool {
        self.cr & CR_LBE != 0
    }

    fn flags(&self) -> u32 {
        let mut f = FR_TXFE | self.modem;
        if self.read_count == 0 {
            f |= FR_RXFE;
        }
        if self.read_count >= self.depth() {
            f |= FR_RXFF;
        }
        f
    }

    fn update(&self, ctx: &mut DeviceCtx<'_>) {
        let active = self.ris & self.imsc;
        for (i, m) in OUTPUT_MASKS.iter().enumerate() {
            ctx.set_irq(i, active & m != 0);
        }
    }

    fn put_fifo(&mut self, value: u32) {
        let depth = self.depth();
        if self.read_count >= depth {
            return;
        }
        let slot = (self.read_pos + self.read_count) & (depth - 1);
        self.fifo[slot] = value;
        self.read_count += 1;
        if self.read_count == 1 {
            self.ris |= INT_RX;
        }
    }

    /// Take characters from the backend while the FIFO has room.
    fn receive(&mut self, ctx: &mut DeviceCtx<'_>) {
        if self.loopback() {
            return;
        }
        let mut got = false;
        while self.read_count < self.depth() {
            match self.rx.poll() {
                Some(b) => {
                    self.put_fifo(u32::from(b));
                    got = true;
                }
                None => break,
            }
        }
        if got {
            self.update(ctx);
        }
    }

    fn schedule_rx(&mut self, ctx: &mut DeviceCtx<'_>) {
        let t = Time::of(ctx);
        let wanted = self.imsc & INT_RX != 0 && !self.loopback() && self.read_count < self.depth();
        let brd = u64::from(self.ibrd) * 64 + u64::from(self.fbrd);
        let char_cycles = if self.ibrd != 0 {
            // A bit is 16 * BRD UARTCLK periods, BRD = IBRD + FBRD/64; 10 bits a character.
            let clk = self.clk_hz.unwrap_or(t.cpu_hz);
            cycles_for(10 * brd, t.cpu_hz, clk.saturating_mul(4), 1)
        } else {
            default_char_cycles(t.cpu_hz)
        };
        self.rx.schedule(wanted, char_cycles, ctx);
    }

    /// Loopback of the modem control outputs to the modem status inputs.
    fn loopback_modem(&mut self) {
        if !self.loopback() {
            return;
        }
        let cr = self.cr;
        let mut fr = 0;
        let mut il = self.ris & !INT_MS;
        if cr & CR_OUT2 != 0 {
            fr |= FR_RI;
            il |= INT_RI;
        }
        if cr & CR_OUT1 != 0 {
            fr |= FR_DCD;
            il |= INT_DCD;
        }
        if cr & CR_RTS != 0 {
            fr |= FR_CTS;
            il |= INT_CTS;
        }
        if cr & CR_DTR != 0 {
            fr |= FR_DSR;
            il |= INT_DSR;
        }
        self.modem = fr;
        self.ris = il;
    }

    fn reg(&self, offset: u32) -> Option<u32> {
        Some(match offset {
            DR => self.fifo[self.read_pos],
            RSR => self.rsr,
            FR => self.flags(),
            ILPR => self.ilpr,
            IBRD => self.ibrd,
            FBRD => self.fbrd,
            LCR_H => self.lcr,
            CR => self.cr,
            IFLS => self.ifls,
            IMSC => self.imsc,
            RIS => self.ris,
            MIS => self.ris & self.imsc,
            DMACR => self.dmacr,
            0xfe0..=0xffc => u32::from(ID_LUMINARY[((offset - 0xfe0) >> 2) as usize]),
            _ => return None,
        })
    }

    fn read_word(&mut self, offset: u32, ctx: &mut DeviceCtx<'_>) -> u32 {
        if matches!(offset, DR | FR | RIS | MIS) {
            self.receive(ctx);
        }
        let Some(v) = self.reg(offset) else {
            self.log.bad(&self.name, offset, false, 0);
            return 0;
        };
        if offset == DR {
            if self.read_count > 0 {
                self.read_count -= 1;
                self.read_pos = (self.read_pos + 1) & (self.depth() - 1);
            }
            if self.read_count == 0 {
                self.ris &= !INT_RX;
            }
            self.rsr = v >> 8;
            self.update(ctx);
        }
        v
    }

    fn write_word(&mut self, offset: u32, value: u32, ctx: &mut DeviceCtx<'_>) {
        match offset {
            DR => {
                let ch = value as u8;
                self.rx.serial.write(&[ch]);
                if self.loopback() {
                    self.put_fifo(u32::from(ch));
                }
                self.ris |= INT_TX;
            }
            RSR => self.rsr = 0,
            FR => {} // writes ignored
            ILPR => self.ilpr = value,
            IBRD => self.ibrd = value & 0xffff,
            FBRD => self.fbrd = value & 0x3f,
            LCR_H => {
                if (self.lcr ^ value) & LCR_FEN != 0 {
                    self.reset_fifo();
                }
                if (self.lcr ^ value) & value & LCR_BRK != 0 && self.loopback() {
                    self.put_fifo(DR_BE);
                }
                self.lcr = value;
            }
            CR => {
                self.cr = value;
                self.loopback_modem();
            }
            IFLS => self.ifls = value,
            IMSC => self.imsc = value,
            ICR => self.ris &= !value,
            DMACR => {
                self.dmacr = value;
                if value & 3 != 0 {
                    self.log.unimp(&self.name, 1, "PL011 DMA");
                }
            }
            _ => self.log.bad(&self.name, offset, true, value),
        }
        self.update(ctx);
    }
}

impl Device for StellarisUart {
    fn read(&mut self, offset: u32, size: u8, ctx: &mut DeviceCtx<'_>) -> Result<u32, BusError> {
        let v = self.read_word(offset & !3, ctx);
        self.schedule_rx(ctx);
        Ok(word_lane(offset, size, v))
    }

    fn write(
        &mut self,
        offset: u32,
        size: u8,
        value: u32,
        ctx: &mut DeviceCtx<'_>,
    ) -> Result<(), BusError> {
        self.write_word(offset & !3, word_from_lane(offset, size, value), ctx);
        self.schedule_rx(ctx);
        Ok(())
    }

    fn may_dma(&self) -> bool {
        false
    }
    fn peek(&self, offset: u32, size: u8) -> Option<u32> {
        self.reg(offset & !3).map(|v| word_lane(offset, size, v))
    }

    fn reset(&mut self, ctx: &mut DeviceCtx<'_>) {
        self.reset_regs();
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

    fn uart() -> (Bench<StellarisUart>, TestSerial) {
        let s = TestSerial::default();
        let b = Bench::new(
            StellarisUart::new("uart0", s.boxed(), None),
            50_000_000,
            &[5, 40, 41, 42, 43, 44],
        );
        (b, s)
    }

    #[test]
    fn reset_values_and_ids() {
        let (mut b, _) = uart();
        assert_eq!(b.rd(FR), FR_TXFE | FR_RXFE);
        assert_eq!(b.rd(CR), 0x300);
        assert_eq!(b.rd(IFLS), 0x12);
        let id: Vec<u32> = (0..8).map(|i| b.rd(0xfe0 + 4 * i)).collect();
        assert_eq!(id, [0x11, 0x00, 0x18, 0x01, 0x0d, 0xf0, 0x05, 0xb1]);
        assert_eq!(b.rd(0xfd0), 0);
        assert_eq!(b.rd(ICR), 0, "write-only");
        b.wr(IBRD, 0x12_3456);
        b.wr(FBRD, 0xff);
        assert_eq!((b.rd(IBRD), b.rd(FBRD)), (0x3456, 0x3f));
        assert_eq!(b.read(0xfe8, 1), 0x18);
        assert_eq!(b.read(CR + 1, 1), 0x03);
        for off in 0..0x1000 {
            for size in [1, 2, 4] {
                b.read(off, size);
            }
        }
    }

    #[test]
    fn transmit_sets_tx_interrupt_until_cleared() {
        let (mut b, s) = uart();
        b.wr(CR, 0); // disabled: QEMU transmits anyway
        b.write(DR, 1, u32::from(b'o'));
        b.wr(DR, u32::from(b'k') | 0xf00);
        assert_eq!(s.out(), b"ok");
        assert_eq!(b.rd(RIS), INT_TX);
        assert!(!b.irq(0));
        b.wr(IMSC, INT_TX);
        assert!(b.irq(0) && b.irq(2) && !b.irq(1));
        assert_eq!(b.rd(MIS), INT_TX);
        b.wr(ICR, INT_TX);
        assert!(!b.irq(0));
        assert_eq!(b.rd(FR) & FR_TXFE, FR_TXFE);
    }

    #[test]
    fn receive_fifo_and_interrupt() {
        let (mut b, s) = uart();
        s.feed(b"abc");
        // FIFO off: one character at a time.
        assert_eq!(b.rd(FR), FR_TXFE | FR_RXFF);
        assert_eq!(b.rd(RIS), INT_RX);
        assert_eq!(b.rd(DR), u32::from(b'a'));
        assert_eq!(
            b.rd(RIS),
            INT_RX,
            "next character arrives on the status read"
        );
        b.wr(LCR_H, LCR_FEN | 0x60);
        assert_eq!(
            b.rd(FR),
            FR_TXFE,
            "FIFO reset then refilled with what is left"
        );
        assert_eq!(b.rd(DR), u32::from(b'c'));
        assert_eq!(b.rd(FR), FR_TXFE | FR_RXFE);
        assert_eq!(b.rd(RIS), 0);

        // RX interrupt unmasked: polled every character time. 115200 baud at 50 MHz:
        // IBRD 27, FBRD 8 -> 10 * (27 * 64 + 8) / 4 = 4340 cycles.
        b.wr(IBRD, 27);
        b.wr(FBRD, 8);
        b.wr(IMSC, INT_RX);
        let t0 = b.now();
        assert_eq!(b.next_event(), Some(t0 + 4340));
        s.feed(b"xyz");
        b.step(4339);
        assert!(!b.irq(1));
        b.step(1);
        assert!(b.irq(1) && b.irq(0));
        let got: Vec<u32> = (0..3).map(|_| b.rd(DR)).collect();
        assert_eq!(got, [u32::from(b'x'), u32::from(b'y'), u32::from(b'z')]);
        assert!(!b.irq(1), "read empty: RX interrupt clear");
        s.close();
        b.step(10_000);
        assert_eq!(b.next_event(), None, "end of input");
    }

    #[test]
    fn loopback() {
        let (mut b, s) = uart();
        s.feed(b"ignored");
        b.wr(LCR_H, LCR_FEN);
        b.wr(CR, 0x301 | CR_LBE | CR_RTS);
        assert_eq!(b.rd(FR) & FR_CTS, FR_CTS);
        assert_eq!(b.rd(RIS) & INT_CTS, INT_CTS);
        b.wr(DR, u32::from(b'q'));
        assert_eq!(s.out(), b"q");
        assert_eq!(b.rd(DR), u32::from(b'q'));
        assert_eq!(
            b.rd(FR) & FR_RXFE,
            FR_RXFE,
            "backend input ignored in loopback"
        );
        b.wr(LCR_H, LCR_FEN | LCR_BRK);
        assert_eq!(b.rd(DR), DR_BE);
        assert_eq!(b.rd(RSR), DR_BE >> 8);
        b.wr(RSR, 0);
        assert_eq!(b.rd(RSR), 0);
    }
}
