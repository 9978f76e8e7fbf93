//! Packet framing in front of `gdbstub`: only well-formed frames reach the stub.
//!
//! Bytes outside a packet other than `+`, `-` and the interrupt byte are ignored (as
//! gdbserver does); a packet with a bad checksum or longer than the stub's buffer becomes a
//! [`Frame::Rejected`], in its place among the other frames, which the server answers with
//! `-` in acknowledgement mode (GDB retransmits). Garbage on the socket therefore never
//! reaches the protocol engine.

/// A unit for the protocol engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A whole packet, `$body#cc`, checksum verified.
    Packet(Vec<u8>),
    /// The interrupt byte (Ctrl-C, 0x03) outside a packet.
    Interrupt,
    /// `+`.
    Ack,
    /// `-`.
    Nack,
    /// A packet dropped here (bad checksum, oversized): `-` in acknowledgement mode.
    Rejected,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Between,
    Body,
    Checksum1,
    Checksum2,
    /// Skipping the rest of an oversized packet.
    Overflow,
}

/// Splits a byte stream into frames.
#[derive(Debug)]
pub struct Framer {
    state: State,
    buf: Vec<u8>,
    max: usize,
    /// Frames dropped so far (bad checksum, oversized).
    pub dropped: u64,
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

impl Framer {
    /// A framer for packets of at most `max` bytes (including `$`, `#` and the checksum).
    pub fn new(max: usize) -> Framer {
        Framer {
            state: State::Between,
            buf: Vec::new(),
            max,
            dropped: 0,
        }
    }

    /// Feed bytes; complete frames are appended to `frames`.
    pub fn push(&mut self, bytes: &[u8], frames: &mut Vec<Frame>) {
        for &b in bytes {
            match self.state {
                State::Between => match b {
                    b'$' => {
                        self.buf.clear();
                        self.buf.push(b);
                        self.state = State::Body;
                    }
                    0x03 => frames.push(Frame::Interrupt),
                    b'+' => frames.push(Frame::Ack),
                    b'-' => frames.push(Frame::Nack),
                    _ => {}
                },
                State::Body | State::Checksum1 | State::Checksum2 => {
                    if self.buf.len() >= self.max {
                        self.dropped += 1;
                        self.buf.clear();
                        self.state = if self.state == State::Body {
                            State::Overflow
                        } else {
                            State::Between
                        };
                        frames.push(Frame::Rejected);
                        continue;
                    }
                    self.buf.push(b);
                    self.state = match (self.state, b) {
                        (State::Body, b'#') => State::Checksum1,
                        (State::Body, _) => State::Body,
                        (State::Checksum1, _) => State::Checksum2,
                        _ => {
                            self.finish(frames);
                            State::Between
                        }
                    };
                }
                State::Overflow => {
                    if b == b'#' {
                        // Two checksum characters follow; they are skipped as garbage.
                        self.state = State::Between;
                    }
                }
            }
        }
    }

    fn finish(&mut self, frames: &mut Vec<Frame>) {
        let n = self.buf.len();
        let body = &self.buf[1..n - 3];
        let sum = body.iter().fold(0u8, |a, &x| a.wrapping_add(x));
        let given = match (hex(self.buf[n - 2]), hex(self.buf[n - 1])) {
            (Some(h), Some(l)) => Some(h << 4 | l),
            _ => None,
        };
        if given == Some(sum) {
            frames.push(Frame::Packet(std::mem::take(&mut self.buf)));
        } else {
            self.dropped += 1;
            tracing::debug!(
                "gdb: dropped a packet with a bad checksum: {}",
                String::from_utf8_lossy(&self.buf)
            );
            frames.push(Frame::Rejected);
        }
    }
}

/// Clamp the length of an `m` (read memory) packet to `max` bytes, recomputing the
/// checksum; other packets are returned unchanged. `gdbstub` answers `m` by reading the
/// whole length in buffer-sized chunks into one reply, so `m0,ffffffff` from a hostile
/// client would make armlet read (and buffer as hex) every mapped byte — and a length past
/// the end of the address space overflows its address arithmetic. A reply with fewer bytes
/// than asked is allowed by the protocol; GDB never asks for more than `PacketSize` allows.
pub fn clamp_memory_read(frame: Vec<u8>, max: usize) -> Vec<u8> {
    let n = frame.len();
    if n < 5 || !frame.starts_with(b"$m") {
        return frame;
    }
    let body = &frame[1..n - 3];
    let Some(comma) = body.iter().position(|&b| b == b',') else {
        return frame;
    };
    let len_hex = &body[comma + 1..];
    let len = std::str::from_utf8(len_hex)
        .ok()
        .and_then(|h| u128::from_str_radix(h, 16).ok());
    match len {
        Some(len) if len > max as u128 => {
            let mut b = body[..=comma].to_vec();
            b.extend_from_slice(format!("{max:x}").as_bytes());
            packet(&b)
        }
        _ => frame,
    }
}

/// `$body#cc` for `body`.
pub fn packet(body: &[u8]) -> Vec<u8> {
    let sum = body.iter().fold(0u8, |a, &x| a.wrapping_add(x));
    let mut out = Vec::with_capacity(body.len() + 4);
    out.push(b'$');
    out.extend_from_slice(body);
    out.extend_from_slice(format!("#{sum:02x}").as_bytes());
    out
}

/// An `O` (console output) packet carrying `text`.
pub fn console_packet(text: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(1 + 2 * text.len());
    body.push(b'O');
    for b in text {
        body.extend_from_slice(format!("{b:02x}").as_bytes());
    }
    packet(&body)
}

#[cfg(test)]
mod tests {
    #[test]
    fn memory_reads_are_clamped_to_a_reply() {
        let clamp = |p: &[u8]| clamp_memory_read(packet(p), 0x2200);
        assert_eq!(clamp(b"m0,4"), packet(b"m0,4"));
        assert_eq!(clamp(b"m20000000,2200"), packet(b"m20000000,2200"));
        assert_eq!(clamp(b"m8000,6847df67"), packet(b"m8000,2200"));
        assert_eq!(
            clamp(b"mffffff00,ffffffffffffffffffff"),
            packet(b"mffffff00,2200")
        );
        // Not `m`, or not a length gdbstub would parse: unchanged.
        assert_eq!(clamp(b"M0,4:00000000"), packet(b"M0,4:00000000"));
        assert_eq!(clamp(b"m0"), packet(b"m0"));
        assert_eq!(clamp(b"m0,zz"), packet(b"m0,zz"));
    }

    use super::*;

    fn run(f: &mut Framer, bytes: &[u8]) -> Vec<Frame> {
        let mut frames = Vec::new();
        f.push(bytes, &mut frames);
        frames
    }

    #[test]
    fn packets_acks_and_interrupts() {
        let mut f = Framer::new(4096);
        let mut input = b"+".to_vec();
        input.extend(packet(b"qSupported:multiprocess+"));
        input.push(0x03);
        input.extend(b"-");
        let frames = run(&mut f, &input);
        assert_eq!(
            frames,
            vec![
                Frame::Ack,
                Frame::Packet(packet(b"qSupported:multiprocess+")),
                Frame::Interrupt,
                Frame::Nack
            ]
        );
    }

    #[test]
    fn split_anywhere() {
        let p = packet(b"m20000000,4");
        for cut in 0..p.len() {
            let mut f = Framer::new(4096);
            let mut a = run(&mut f, &p[..cut]);
            let b = run(&mut f, &p[cut..]);
            a.extend(b);
            assert_eq!(a, vec![Frame::Packet(p.clone())], "cut at {cut}");
        }
    }

    #[test]
    fn garbage_is_ignored_and_bad_checksums_are_refused() {
        let mut f = Framer::new(64);
        let frames = run(&mut f, b"hello\x00\xff$m0,4#00");
        assert_eq!(frames, vec![Frame::Rejected]);
        let frames = run(&mut f, b"$g#zz");
        assert_eq!(frames, vec![Frame::Rejected]);
        let mut big = b"$".to_vec();
        big.extend(std::iter::repeat_n(b'a', 1000));
        big.extend(b"#00");
        big.extend(packet(b"g"));
        let frames = run(&mut f, &big);
        assert_eq!(frames, vec![Frame::Rejected, Frame::Packet(packet(b"g"))]);
        assert_eq!(f.dropped, 3);
    }

    #[test]
    fn rejections_keep_their_place_among_packets() {
        let mut f = Framer::new(4096);
        let mut input = packet(b"p0");
        input.extend(b"$pf#00");
        input.extend(packet(b"p10"));
        let frames = run(&mut f, &input);
        assert_eq!(
            frames,
            vec![
                Frame::Packet(packet(b"p0")),
                Frame::Rejected,
                Frame::Packet(packet(b"p10"))
            ]
        );
    }

    #[test]
    fn interrupt_byte_inside_a_packet_is_data() {
        let mut f = Framer::new(4096);
        let p = packet(b"X20000000,1:\x03");
        let frames = run(&mut f, &p);
        assert_eq!(frames, vec![Frame::Packet(p)]);
    }

    #[test]
    fn console_packets_are_hex() {
        assert_eq!(console_packet(b"hi\n"), packet(b"O68690a"));
    }
}
