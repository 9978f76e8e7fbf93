//! `p` and `P` (read or write one register), answered by armlet itself in front of
//! `gdbstub`.
//!
//! gdbstub parses a command before the target sees it, and a command it cannot parse
//! (`pzz`, a bare `p`, LLDB's `p0;thread:1;`, an overlong number) is an error out of its
//! state machine, which ends the session; a register number outside the description gets an
//! empty reply ("not supported"), which makes GDB stop using `p` altogether. Here every
//! `p`/`P` gets an answer and the session goes on:
//!
//! - `pN` → the register's bytes, exactly as in the `g` packet;
//! - `PN=VV..` → `OK`, with exactly the register's size in bytes (2 hex digits each);
//! - a number that is not in the board's target description (0–22; 23–39 only on cores
//!   with an FPU) → [`E_NO_REGISTER`];
//! - anything malformed (no number, non-hex digits, a value of the wrong size) →
//!   [`E_MALFORMED`].
//!
//! A `;thread:ID;` suffix (LLDB, `QThreadSuffixSupported`) is accepted and ignored: there is
//! one thread.

use crate::arch::CortexMRegId;
use crate::target::GdbTarget;

/// The reply to a `p`/`P` for a register the target does not have.
pub const E_NO_REGISTER: &[u8] = b"E01";
/// The reply to a malformed `p`/`P` (EINVAL).
pub const E_MALFORMED: &[u8] = b"E16";

/// A parsed request.
#[derive(Debug, PartialEq, Eq)]
enum Request {
    /// `pN`.
    Read(usize),
    /// `PN=value`.
    Write(usize, Vec<u8>),
}

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// A register number: hex digits, at least one. Too large for `usize` reads as
/// `usize::MAX` (well-formed, but no such register).
fn number(s: &[u8]) -> Option<usize> {
    if s.is_empty() {
        return None;
    }
    s.iter().try_fold(0usize, |n, &b| {
        let d = hex_digit(b)?;
        Some(
            n.checked_mul(16)
                .and_then(|n| n.checked_add(d.into()))
                .unwrap_or(usize::MAX),
        )
    })
}

/// Hex pairs to bytes.
fn bytes(s: &[u8]) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    s.chunks(2)
        .map(|p| Some(hex_digit(p[0])? << 4 | hex_digit(p[1])?))
        .collect()
}

/// The arguments without a `;thread:ID[;]` suffix; `None` if something else follows `;`.
fn without_thread_suffix(args: &[u8]) -> Option<&[u8]> {
    let Some(at) = args.iter().position(|&b| b == b';') else {
        return Some(args);
    };
    let id = args[at + 1..].strip_prefix(b"thread:")?;
    let id = id.strip_suffix(b";").unwrap_or(id);
    let ok = !id.is_empty()
        && id
            .iter()
            .all(|&b| hex_digit(b).is_some() || matches!(b, b'p' | b'.' | b'-'));
    ok.then_some(&args[..at])
}

/// `Some(Ok(request))`, `Some(Err(()))` for a malformed `p`/`P`, `None` for other packets.
fn parse(body: &[u8]) -> Option<Result<Request, ()>> {
    let (&kind, args) = body.split_first()?;
    if kind != b'p' && kind != b'P' {
        return None;
    }
    let req = (|| {
        let args = without_thread_suffix(args)?;
        if kind == b'p' {
            return Some(Request::Read(number(args)?));
        }
        let eq = args.iter().position(|&b| b == b'=')?;
        Some(Request::Write(
            number(&args[..eq])?,
            bytes(&args[eq + 1..])?,
        ))
    })();
    Some(req.ok_or(()))
}

/// The reply body for a `p`/`P` packet body (the bytes between `$` and `#`); `None` if the
/// packet is something else.
pub fn reply(t: &mut GdbTarget, body: &[u8]) -> Option<Vec<u8>> {
    let req = match parse(body)? {
        Ok(r) => r,
        Err(()) => return Some(E_MALFORMED.to_vec()),
    };
    Some(match req {
        Request::Read(n) => match t.reg_by_number(n) {
            None => E_NO_REGISTER.to_vec(),
            Some(id) => {
                let (b, len) = id.value(&t.regs());
                b[..len].iter().flat_map(|x| hex_pair(*x)).collect()
            }
        },
        Request::Write(n, val) => match t.reg_by_number(n) {
            None => E_NO_REGISTER.to_vec(),
            Some(id) if val.len() != id.size() => E_MALFORMED.to_vec(),
            Some(id) => {
                write(t, id, &val);
                b"OK".to_vec()
            }
        },
    })
}

/// Write `id` from its little-endian bytes (as many as the register has).
pub(crate) fn write(t: &mut GdbTarget, id: CortexMRegId, val: &[u8]) {
    let mut b = [0u8; 8];
    for (d, s) in b.iter_mut().zip(val) {
        *d = *s;
    }
    t.write_reg(id, u64::from_le_bytes(b));
}

fn hex_pair(b: u8) -> [u8; 2] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    [HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::tests::{target, target_on};
    use gdbstub::arch::Registers;

    fn ask(t: &mut GdbTarget, body: &str) -> String {
        String::from_utf8(reply(t, body.as_bytes()).expect("a p/P packet")).unwrap()
    }

    fn g(t: &GdbTarget) -> Vec<u8> {
        let mut v = Vec::new();
        t.regs().gdb_serialize(|b| v.push(b.unwrap()));
        v
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn parsing() {
        assert_eq!(parse(b"g"), None);
        assert_eq!(parse(b""), None);
        assert_eq!(parse(b"p0"), Some(Ok(Request::Read(0))));
        assert_eq!(parse(b"p1F"), Some(Ok(Request::Read(31))));
        assert_eq!(parse(b"p0010"), Some(Ok(Request::Read(16))));
        assert_eq!(parse(b"pf;thread:1;"), Some(Ok(Request::Read(15))));
        assert_eq!(parse(b"pf;thread:p1.1"), Some(Ok(Request::Read(15))));
        assert_eq!(
            parse(b"p100000000000000000000"),
            Some(Ok(Request::Read(usize::MAX)))
        );
        assert_eq!(
            parse(b"P10=01020304"),
            Some(Ok(Request::Write(16, vec![1, 2, 3, 4])))
        );
        assert_eq!(parse(b"P10="), Some(Ok(Request::Write(16, vec![]))));
        for bad in [
            "p",
            "pzz",
            "p-1",
            "p 0",
            "p0;",
            "p0;x",
            "p0;thread:",
            "P",
            "P1",
            "Pzz=00",
            "P=00",
            "P1=0",
            "P1=zz",
            "P1=00;thread:",
            "p0=00",
        ] {
            assert_eq!(parse(bad.as_bytes()), Some(Err(())), "{bad}");
        }
    }

    #[test]
    fn every_register_reads_as_its_part_of_g_and_writes_back() {
        for fpu in [false, true] {
            let mut t = if fpu {
                target_on("mps2-an386")
            } else {
                target()
            };
            assert_eq!(t.m.cpu.state.fp.present(), fpu);
            // Distinct values everywhere (through P, checking the answers).
            for (n, id) in CortexMRegId::ALL.iter().enumerate() {
                if id.is_fp() && !fpu {
                    continue;
                }
                let val: Vec<u8> = (0..id.size()).map(|k| (0x11 * (n + k)) as u8).collect();
                let val = match id {
                    // Values the core keeps as written.
                    CortexMRegId::Core(13) | CortexMRegId::Msp | CortexMRegId::Psp => {
                        0x2000_1000u32.to_le_bytes().to_vec()
                    }
                    CortexMRegId::Core(15) => 0x0000_1234u32.to_le_bytes().to_vec(),
                    CortexMRegId::Xpsr => 0x0100_0000u32.to_le_bytes().to_vec(),
                    CortexMRegId::Primask | CortexMRegId::Faultmask => vec![1],
                    CortexMRegId::Basepri => vec![0xa0],
                    CortexMRegId::Control => vec![0],
                    CortexMRegId::Fpscr => 0xf000_009fu32.to_le_bytes().to_vec(),
                    _ => val,
                };
                assert_eq!(
                    ask(&mut t, &format!("P{n:x}={}", hex(&val))),
                    "OK",
                    "{id:?}"
                );
                assert_eq!(ask(&mut t, &format!("p{n:x}")), hex(&val), "{id:?}");
            }
            // Every p answer is its slice of g.
            let g = g(&t);
            let mut at = 0;
            for (n, id) in CortexMRegId::ALL.iter().enumerate() {
                if id.is_fp() && !fpu {
                    assert_eq!(ask(&mut t, &format!("p{n:x}")), "E01");
                    assert_eq!(ask(&mut t, &format!("P{n:x}=00000000")), "E01");
                    continue;
                }
                let want = hex(&g[at..at + id.size()]);
                assert_eq!(ask(&mut t, &format!("p{n:x}")), want, "{id:?}");
                assert_eq!(ask(&mut t, &format!("p{n:X};thread:1;")), want);
                at += id.size();
            }
            assert_eq!(at, g.len());
            for n in [40usize, 41, 0x100, usize::MAX] {
                assert_eq!(ask(&mut t, &format!("p{n:x}")), "E01");
                assert_eq!(ask(&mut t, &format!("P{n:x}=00000000")), "E01");
            }
            // A value of the wrong size changes nothing.
            let before = g.clone();
            for bad in ["P0=01", "P0=0102030405", "P13=0000", "P10=", "P0=zz000000"] {
                assert_eq!(ask(&mut t, bad), "E16", "{bad}");
            }
            assert_eq!(crate::registers::tests::g(&t), before);
        }
    }
}
