//! The guest's wall clock: `--epoch now|SECONDS|DATE` (`armlet run`, `armlet test`), the
//! manifests' `epoch` key and the drop-in's `-rtc base=...`.
//!
//! Semihosting SYS_TIME (and newlib's/picolibc's `time()` and `gettimeofday()` on top of it)
//! answers the epoch plus the virtual time elapsed. The default is a fixed, recent epoch
//! ([`armlet_machine::semihosting::DEFAULT_EPOCH`], 2026-01-01T00:00:00Z), so runs stay
//! reproducible; `now` is the host's clock when the run starts.

use armlet_machine::semihosting::DEFAULT_EPOCH;
use std::time::{SystemTime, UNIX_EPOCH};

/// The last second SYS_TIME's 32-bit answer can hold: 2106-02-07T06:28:15Z.
const MAX_EPOCH: u64 = u32::MAX as u64;

/// What a user asked the guest's clock to start at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Epoch {
    /// The host's current time (UTC) when the run starts.
    Now,
    /// The host's current local time when the run starts (QEMU's `-rtc base=localtime`).
    NowLocal,
    /// Seconds since 1970-01-01T00:00:00Z.
    At(u64),
}

impl Default for Epoch {
    fn default() -> Self {
        Epoch::At(DEFAULT_EPOCH)
    }
}

const FORMS: &str = "`now`, seconds since 1970 (e.g. 1767225600) or an ISO 8601 date or \
date-time, UTC unless an offset is given (e.g. 2026-01-01, 2026-01-01T12:30:00Z, \
2026-01-01T12:30:00+02:00)";

impl Epoch {
    /// Parse `now`, `SECONDS` or an ISO 8601 date / date-time (UTC unless it has an offset).
    pub fn parse(s: &str) -> Result<Epoch, String> {
        let t = s.trim();
        let e = if t.eq_ignore_ascii_case("now") {
            Epoch::Now
        } else if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
            Epoch::At(
                t.parse::<u64>()
                    .map_err(|_| format!("'{s}' is out of range"))?,
            )
        } else {
            Epoch::At(
                parse_iso8601(t)
                    .map_err(|why| format!("invalid epoch '{s}': {why}; expected {FORMS}"))?,
            )
        };
        if let Epoch::At(secs) = e {
            if secs > MAX_EPOCH {
                return Err(format!(
                    "epoch '{s}' is after {}, the last second semihosting SYS_TIME (32 bits) can \
                     answer",
                    format_utc(MAX_EPOCH)
                ));
            }
        }
        Ok(e)
    }

    /// The epoch in seconds since 1970 (reading the host clock for `now`).
    pub fn seconds(self) -> u64 {
        match self {
            Epoch::At(s) => s,
            Epoch::Now => host_now(),
            Epoch::NowLocal => host_now().saturating_add_signed(local_offset(host_now())),
        }
    }
}

/// clap value parser for `--epoch`.
pub fn parse_arg(s: &str) -> Result<Epoch, String> {
    Epoch::parse(s)
}

fn host_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        .min(MAX_EPOCH)
}

/// The host's offset from UTC at `secs`, in seconds (east positive), from its time zone
/// settings (`TZ`, /etc/localtime).
fn local_offset(secs: u64) -> i64 {
    let t = secs as libc::time_t;
    // SAFETY: `tm` is a plain C struct for which all-zero bytes are a valid value.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the call; localtime_r is the thread-safe variant
    // and writes only into `tm`.
    let ok = unsafe { !libc::localtime_r(&t, &mut tm).is_null() };
    if ok {
        tm.tm_gmtoff as i64
    } else {
        0
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// `secs` as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// A fixed-width decimal field of `s` at `at..at + n`, within `lo..=hi`.
fn field(s: &str, at: usize, n: usize, lo: i64, hi: i64, what: &str) -> Result<i64, String> {
    let f = s
        .get(at..at + n)
        .filter(|f| f.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| format!("expected {n} digits for the {what}"))?;
    let v: i64 = f.parse().map_err(|_| format!("bad {what}"))?;
    if !(lo..=hi).contains(&v) {
        return Err(format!("{what} {v} is out of range ({lo}-{hi})"));
    }
    Ok(v)
}

fn expect(s: &str, at: usize, c: u8, what: &str) -> Result<(), String> {
    if s.as_bytes().get(at) == Some(&c) {
        Ok(())
    } else {
        Err(format!("expected '{}' {what}", c as char))
    }
}

/// `YYYY-MM-DD[(T|t| )HH:MM[:SS[.fff]]][Z|z|(+|-)HH[:MM]]` to seconds since 1970.
/// Fractions of a second are dropped.
fn parse_iso8601(s: &str) -> Result<u64, String> {
    if !s.starts_with(|c: char| c.is_ascii_digit()) {
        return Err("not `now`, a number of seconds or a date".into());
    }
    let year = field(s, 0, 4, 1970, 9999, "year")?;
    expect(s, 4, b'-', "after the year")?;
    let month = field(s, 5, 2, 1, 12, "month")?;
    expect(s, 7, b'-', "after the month")?;
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let mdays = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let day = field(s, 8, 2, 1, mdays[(month - 1) as usize], "day")?;
    let mut secs = days_from_civil(year, month, day) * 86_400;
    let mut at = 10;
    if at < s.len() {
        if !matches!(s.as_bytes()[at], b'T' | b't' | b' ') {
            return Err("expected 'T' between the date and the time".into());
        }
        let hour = field(s, at + 1, 2, 0, 23, "hour")?;
        expect(s, at + 3, b':', "after the hour")?;
        let minute = field(s, at + 4, 2, 0, 59, "minute")?;
        at += 6;
        let mut second = 0;
        if s.as_bytes().get(at) == Some(&b':') {
            second = field(s, at + 1, 2, 0, 59, "second")?;
            at += 3;
            if matches!(s.as_bytes().get(at), Some(b'.' | b',')) {
                at += 1;
                let digits = s[at..].bytes().take_while(u8::is_ascii_digit).count();
                if digits == 0 {
                    return Err("expected digits after the decimal point".into());
                }
                at += digits;
            }
        }
        secs += hour * 3600 + minute * 60 + second;
        match s.as_bytes().get(at) {
            None => {}
            Some(b'Z' | b'z') => at += 1,
            Some(&sign @ (b'+' | b'-')) => {
                let oh = field(s, at + 1, 2, 0, 23, "offset hours")?;
                at += 3;
                let mut om = 0;
                if s.as_bytes().get(at) == Some(&b':') {
                    at += 1;
                }
                if at < s.len() {
                    om = field(s, at, 2, 0, 59, "offset minutes")?;
                    at += 2;
                }
                let off = oh * 3600 + om * 60;
                // 12:00+02:00 is 10:00Z.
                secs -= if sign == b'+' { off } else { -off };
            }
            Some(_) => return Err("unexpected text after the time".into()),
        }
    }
    if at != s.len() {
        return Err(format!("unexpected '{}' at the end", &s[at..]));
    }
    u64::try_from(secs).map_err(|_| "before 1970-01-01T00:00:00Z".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let at = |s: &str| Epoch::parse(s).unwrap();
        assert_eq!(at("now"), Epoch::Now);
        assert_eq!(at("NOW"), Epoch::Now);
        assert_eq!(at("0"), Epoch::At(0));
        assert_eq!(at("1700000000"), Epoch::At(1_700_000_000));
        // Reference values from `date -u -d ... +%s`.
        assert_eq!(at("2026-01-01"), Epoch::At(DEFAULT_EPOCH));
        assert_eq!(at("2020-09-13T12:26:40Z"), Epoch::At(1_600_000_000));
        assert_eq!(at("2024-02-29T12:00:00Z"), Epoch::At(1_709_208_000));
        assert_eq!(at("2024-02-29t12:00:00"), Epoch::At(1_709_208_000));
        assert_eq!(at("2024-02-29 12:00"), Epoch::At(1_709_208_000));
        assert_eq!(at("2024-02-29T12:00:00.999Z"), Epoch::At(1_709_208_000));
        assert_eq!(at("2024-02-29T14:00:00+02:00"), Epoch::At(1_709_208_000));
        assert_eq!(at("2024-02-29T14:00:00+0200"), Epoch::At(1_709_208_000));
        assert_eq!(at("2024-02-29T07:30:00-04:30"), Epoch::At(1_709_208_000));
        assert_eq!(at("2000-01-01"), Epoch::At(946_684_800));
        assert_eq!(at("1970-01-01T00:00:00Z"), Epoch::At(0));
        assert_eq!(at("2106-02-07T06:28:15Z"), Epoch::At(u64::from(u32::MAX)));
    }

    #[test]
    fn errors_are_clear() {
        for (bad, why) in [
            ("", "not `now`, a number of seconds or a date"),
            ("yesterday", "not `now`, a number of seconds or a date"),
            ("2023-02-29", "day 29 is out of range (1-28)"),
            ("2024-13-01", "month 13 is out of range"),
            ("2024-01-01T25:00", "hour 25 is out of range"),
            ("2024-01-01T12", "expected ':' after the hour"),
            ("2024-01-01X12:00", "expected 'T'"),
            ("2024-01-01T12:00:00Q", "unexpected text"),
            ("1969-12-31", "year 1969 is out of range"),
            ("-5", "not `now`"),
            ("2024-1-01", "expected 2 digits for the month"),
            ("2106-02-07T06:28:16Z", "after 2106-02-07T06:28:15Z"),
            ("4294967296", "after 2106-02-07T06:28:15Z"),
            ("99999999999999999999999", "out of range"),
        ] {
            let e = Epoch::parse(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
        assert!(Epoch::parse("2023-02-29")
            .unwrap_err()
            .contains("expected `now`"));
    }

    #[test]
    fn format_round_trips() {
        for s in [
            0,
            946_684_800,
            1_600_000_000,
            DEFAULT_EPOCH,
            1_709_208_000,
            MAX_EPOCH,
        ] {
            assert_eq!(Epoch::parse(&format_utc(s)), Ok(Epoch::At(s)));
        }
        assert_eq!(format_utc(DEFAULT_EPOCH), "2026-01-01T00:00:00Z");
    }

    #[test]
    fn now_reads_the_host_clock() {
        let host = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(Epoch::Now.seconds().abs_diff(host) <= 2);
    }
}
