//! Seeds (real inputs) and structured random inputs for each harness: the seeded tier runs
//! them, and `examples/write_corpus.rs` writes the seeds as cargo-fuzz's initial corpora.

use crate::rng::Rng;
use crate::HELLO_ELF;

/// `$body#cc`.
pub fn packet(body: &[u8]) -> Vec<u8> {
    let sum = body.iter().fold(0u8, |a, &x| a.wrapping_add(x));
    let mut v = vec![b'$'];
    v.extend_from_slice(body);
    v.extend_from_slice(format!("#{sum:02x}").as_bytes());
    v
}

pub use armlet_machine::loader::tiny_elf;

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

/// Packet bodies a real GDB session sends (and a few it should not).
pub fn gdb_bodies() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = [
        "qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;fork-events+;vfork-events+;exec-events+;vContSupported+;QThreadEvents+;no-resumed+;xmlRegisters=arm",
        "vMustReplyEmpty",
        "QStartNoAckMode",
        "Hg0",
        "Hc-1",
        "qXfer:features:read:target.xml:0,ffb",
        "qXfer:features:read:target.xml:7fffffff,ffff",
        "qXfer:memory-map:read::0,ffb",
        "qXfer:threads:read::0,ffb",
        "qTStatus",
        "?",
        "qfThreadInfo",
        "qsThreadInfo",
        "qAttached",
        "qC",
        "qOffsets",
        "qSymbol::",
        "g",
        "p0",
        "pf",
        "p19",
        "p2a",
        "pffffffff",
        "P0=78563412",
        "Pf=01000000",
        "P19=00000001",
        "m0,4",
        "m0,100",
        "m20000000,40",
        "mfffffffc,10",
        "m40004000,20",
        "me000ed00,40",
        "m60000000,4",
        "m0,4400",
        "M20000000,4:01020304",
        "Me000ed0c,4:0400fa05",
        "Z0,100,2",
        "z0,100,2",
        "Z1,20000000,4",
        "Z2,20000000,4",
        "Z3,20000000,4",
        "Z4,ffffffff,4",
        "vCont?",
        "vCont;c",
        "vCont;s",
        "vCont;r100,200",
        "vCont;c:1;s:1",
        "c",
        "s",
        "vFlashErase:00000000,00001000",
        "vFlashWrite:0:\u{1}\u{2}",
        "vFlashDone",
        "qRcmd,",
        "QNonStop:1",
        "vAttach;1",
        "vRun;",
        "!",
        "R00",
        "T1",
        "D",
        "k",
        "vKill;1",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    for cmd in [
        "help",
        "reset",
        "reset halt",
        "info",
        "fault",
        "icount",
        "step-irq on",
        "detach halt",
        "state",
        "bogus",
    ] {
        v.push(format!("qRcmd,{}", hex(cmd)).into_bytes());
    }
    // G with every core register, X with binary data needing escapes.
    v.push(format!("G{}", "00000000".repeat(17)).into_bytes());
    let mut x = b"X20000000,8:".to_vec();
    x.extend_from_slice(&[
        b'}',
        b'$' ^ 0x20,
        b'}',
        b'#' ^ 0x20,
        b'}',
        b'}' ^ 0x20,
        0,
        0xff,
        1,
        2,
    ]);
    v.push(x);
    v
}

/// The bodies that end a session or the server (kept for the end of generated streams).
fn ends_session(body: &[u8]) -> bool {
    matches!(body, b"D" | b"k" | b"vKill;1") || body.starts_with(b"R")
}

/// The real seeds of a harness.
pub fn seeds(name: &str) -> Vec<Vec<u8>> {
    match name {
        "elf_loader" => vec![
            HELLO_ELF.to_vec(),
            tiny_elf(0x100, &[0x00, 0xbf, 0xfe, 0xe7]),
            tiny_elf(0x2000_0000, &[0xab, 0xbe]),
        ],
        "machine_file" => armlet_machine::Board::builtin()
            .iter()
            .filter_map(|b| armlet_machine::Board::builtin_source(&b.name))
            .map(|s| s.as_bytes().to_vec())
            .collect(),
        "gdb_packets" => {
            let b = gdb_bodies();
            let mut session = vec![0u8, b'+'];
            for body in b.iter().filter(|x| !ends_session(x)) {
                session.extend(packet(body));
                session.push(b'+');
            }
            let mut out = vec![session];
            for (i, body) in b.iter().enumerate() {
                let mut s = vec![i as u8, b'+'];
                s.extend(packet(body));
                out.push(s);
            }
            out.push([&[0x80u8][..], b"+$g#67+$m0,100#8a\x03$vCont;c#a8\x03"].concat());
            out
        }
        "decoder" => {
            // nop, bl, ldr.w, vadd.f32, it eq, sdiv, qadd16, udf, bkpt.
            let enc: [(u16, u16); 9] = [
                (0xbf00, 0),
                (0xf000, 0xf800),
                (0xf8d0, 0x0004),
                (0xee30, 0x0a20),
                (0xbf08, 0),
                (0xfb90, 0xf0f1),
                (0xfa91, 0xf012),
                (0xdeff, 0),
                (0xbeab, 0),
            ];
            let mut v = Vec::new();
            for (a, b) in enc {
                v.extend(a.to_le_bytes());
                v.extend(b.to_le_bytes());
                v.extend([0x08, 0x5a]);
            }
            vec![v]
        }
        "semihosting" => {
            let mut r = Rng::new(7);
            (0..4).map(|_| generate("semihosting", &mut r)).collect()
        }
        "guest_memory" => {
            let mut r = Rng::new(9);
            (0..4).map(|_| generate("guest_memory", &mut r)).collect()
        }
        _ => Vec::new(),
    }
}

const TOML_VALUES: &[&str] = &[
    "0",
    "1",
    "-1",
    "0xffff_ffff",
    "0x1_0000_0000",
    "4294967296",
    "9223372036854775807",
    "18446744073709551616",
    "1e308",
    "nan",
    "\"\"",
    "\"ram\"",
    "\"rom\"",
    "\"alias\"",
    "\"cortex-m7\"",
    "\"cmsdk-uart\"",
    "\"cmsdk-timer\"",
    "\"unimplemented\"",
    "\"mps2-scc\"",
    "\"stellaris-uart\"",
    "[]",
    "[479]",
    "[0, 0, 0, 0, 0, 0, 0, 0]",
    "{}",
    "{ id = -1 }",
    "{ id = \"x\" }",
    "{ baud = 0 }",
    "true",
    "1979-05-27T07:32:00Z",
];

const TOML_LINES: &[&str] = &[
    "[[region]]",
    "[[device]]",
    "name = \"x\"",
    "kind = \"alias\"",
    "target = 0",
    "size = 0",
    "size = 0xffff_ffff",
    "base = 0xffff_f000",
    "base = 0xe000_0000",
    "irq = [479, 480]",
    "params = { id = 1, x = [1, 2] }",
    "console = \"nonexistent\"",
    "num_irq = 480",
    "prio_bits = 8",
    "systick_ref_hz = 0",
    "cpu_hz = 1",
    "[device.params]",
    "unknown_key = 1",
];

fn mutate_toml(r: &mut Rng, text: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for _ in 0..1 + r.below(6) {
        let n = lines.len().max(1);
        match r.below(6) {
            0 if !lines.is_empty() => {
                lines.remove(r.below(n));
            }
            1 if !lines.is_empty() => {
                let l = lines[r.below(n)].clone();
                lines.insert(r.below(n), l);
            }
            2 => {
                let l = r.pick(TOML_LINES).to_string();
                lines.insert(r.below(n + 1).min(lines.len()), l);
            }
            _ if !lines.is_empty() => {
                // Replace a value.
                let i = r.below(n);
                if let Some(eq) = lines[i].find(" = ") {
                    let key = lines[i][..eq].to_string();
                    lines[i] = format!("{key} = {}", r.pick(TOML_VALUES));
                }
            }
            _ => {}
        }
    }
    let mut s = lines.join("\n");
    s.push('\n');
    s
}

fn gdb_stream(r: &mut Rng) -> Vec<u8> {
    let bodies = gdb_bodies();
    let mut v = vec![r.next_u64() as u8];
    if !r.one_in(4) {
        v.push(b'+');
    }
    let n = 1 + r.below(12);
    for i in 0..n {
        let mut body = r.pick(&bodies).clone();
        if ends_session(&body) && i + 1 < n && !r.one_in(4) {
            continue;
        }
        if r.one_in(3) {
            // Rewrite the numbers in it.
            let text = String::from_utf8_lossy(&body).into_owned();
            let mut out = String::new();
            let mut digits = false;
            for c in text.chars() {
                if c.is_ascii_hexdigit() && !digits {
                    out.push_str(&format!("{:x}", r.word()));
                }
                digits = c.is_ascii_hexdigit();
                if !digits {
                    out.push(c);
                }
            }
            body = out.into_bytes();
        }
        if r.one_in(4) {
            body = r.mutate(&body);
        }
        let mut p = packet(&body);
        match r.below(12) {
            0 => {
                let l = p.len();
                p[l - 1] ^= 1; // bad checksum
            }
            1 => p.insert(0, 0x03),
            2 => p.extend(r.bytes(4)),
            3 => p.truncate(r.below(p.len())),
            _ => {}
        }
        v.extend(p);
        if !r.one_in(3) {
            v.push(b'+');
        }
    }
    if r.one_in(8) {
        // An oversized packet.
        v.push(b'$');
        v.extend(std::iter::repeat_n(b'a', 0x4400 + r.below(64)));
        v.extend(b"#00");
    }
    v
}

fn semihosting_input(r: &mut Rng) -> Vec<u8> {
    let mut v = vec![r.next_u64() as u8];
    let raw = r.below(64);
    v.extend((raw as u16).to_le_bytes());
    for _ in 0..raw {
        let b = if r.one_in(2) {
            r.word().to_le_bytes()[0]
        } else {
            r.next_u64() as u8
        };
        v.push(b);
    }
    for _ in 0..1 + r.below(12) {
        v.push(r.next_u64() as u8); // op
        v.push(r.next_u64() as u8); // pointer kind
        v.extend(r.word().to_le_bytes());
        for _ in 0..2 {
            v.push(r.next_u64() as u8);
            v.push(r.below(4) as u8);
            v.extend(r.word().to_le_bytes());
        }
    }
    v
}

/// A structured random input for harness `name`: a generated one or a mutated seed.
pub fn generate(name: &str, r: &mut Rng) -> Vec<u8> {
    match name {
        "elf_loader" => {
            let s = seeds(name);
            let mut e = r.pick(&s).clone();
            let phoff = 52usize.min(e.len());
            let fields: Vec<(usize, usize)> = vec![
                (24, 4),
                (28, 4),
                (32, 4),
                (42, 2),
                (44, 2),
                (46, 2),
                (48, 2),
                (50, 2),
                (phoff + 4, 4),
                (phoff + 8, 4),
                (phoff + 12, 4),
                (phoff + 16, 4),
                (phoff + 20, 4),
                (phoff + 36, 4),
                (phoff + 48, 4),
                (phoff + 52, 4),
            ];
            for _ in 0..1 + r.below(3) {
                let (at, n) = *r.pick(&fields);
                let w = r.word().to_le_bytes();
                if at + n <= e.len() {
                    e[at..at + n].copy_from_slice(&w[..n]);
                }
            }
            if r.one_in(2) {
                e = r.mutate(&e);
            }
            e
        }
        "machine_file" => {
            let s = seeds(name);
            let text = String::from_utf8_lossy(&s[r.below(s.len())]).into_owned();
            let t = mutate_toml(r, &text).into_bytes();
            if r.one_in(4) {
                r.mutate(&t)
            } else {
                t
            }
        }
        "gdb_packets" => gdb_stream(r),
        "decoder" => {
            let n = 1 + r.below(64);
            r.bytes(6 * n)
        }
        "semihosting" => semihosting_input(r),
        "guest_memory" => {
            let mut v = vec![r.next_u64() as u8];
            for _ in 0..1 + r.below(48) {
                v.push(r.next_u64() as u8);
                v.push(r.next_u64() as u8);
                v.extend(r.word().to_le_bytes());
                v.extend(r.word().to_le_bytes());
            }
            v
        }
        _ => r.bytes(64),
    }
}
