//! The seeded (stable) tier of the fuzz harnesses: each harness on its real seeds, structured
//! random inputs and mutations of them, from fixed seeds. `ARMLET_FUZZ_ITERS=N` runs N
//! inputs per harness instead of the defaults (sized for well under a minute in all on a
//! small machine in the dev profile); `ARMLET_FUZZ_SEED` changes the stream.

use armlet_fuzz::rng::Rng;
use armlet_fuzz::seeds::{generate, seeds};

fn iters(default: usize) -> usize {
    std::env::var("ARMLET_FUZZ_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn base_seed() -> u64 {
    std::env::var("ARMLET_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_a51e)
}

/// Run `f` on the seeds, then `n` inputs: structured, mutated structured, or raw random.
fn run(name: &str, f: fn(&[u8]), n: usize) {
    let t0 = std::time::Instant::now();
    for s in seeds(name) {
        f(&s);
    }
    let mut r = Rng::new(base_seed() ^ name.len() as u64 ^ u64::from(name.as_bytes()[0]) << 8);
    for i in 0..n {
        let input = match i % 4 {
            0 | 1 => generate(name, &mut r),
            2 => {
                let g = generate(name, &mut r);
                r.mutate(&g)
            }
            _ => {
                let len = r.below(256);
                r.bytes(len)
            }
        };
        // Name the failing input so it can be replayed (and added as a regression case).
        let res = std::panic::catch_unwind(|| f(&input));
        if let Err(e) = res {
            let path = std::env::temp_dir().join(format!("armlet-fuzz-{name}-{i}.bin"));
            let _ = std::fs::write(&path, &input);
            eprintln!("{name}: input {i} failed; saved to {}", path.display());
            std::panic::resume_unwind(e);
        }
    }
    eprintln!("{name}: {} inputs in {:?}", n, t0.elapsed());
}

#[test]
fn elf_loader() {
    run("elf_loader", armlet_fuzz::elf_loader, iters(400));
}

#[test]
fn machine_file() {
    run("machine_file", armlet_fuzz::machine_file, iters(300));
}

#[test]
fn gdb_packets() {
    run("gdb_packets", armlet_fuzz::gdb_packets, iters(150));
}

#[test]
fn decoder() {
    run("decoder", armlet_fuzz::decoder, iters(200));
}

#[test]
fn semihosting() {
    run("semihosting", armlet_fuzz::semihosting, iters(300));
}

#[test]
fn guest_memory() {
    run("guest_memory", armlet_fuzz::guest_memory, iters(300));
}

/// Every 16-bit halfword (and each as the first half of a 32-bit encoding with a random
/// second half), on every core model, in and out of IT blocks: decode, disassemble, lower,
/// execute.
#[test]
fn decoder_every_halfword() {
    let mut r = Rng::new(base_seed());
    for hw in 0..=0xffffu32 {
        let it = if hw % 3 == 0 { 0x18 } else { 0 };
        armlet_fuzz::decode_one(hw as u16, r.u32() as u16, it, r.next_u64());
    }
}

/// Regression inputs found by fuzzing (`regressions/HARNESS/`), each named after its bug.
#[test]
fn regressions() {
    for (name, f) in armlet_fuzz::HARNESSES {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("regressions")
            .join(name);
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            let input = std::fs::read(e.path()).expect("read regression input");
            eprintln!("{name}: {}", e.path().display());
            f(&input);
        }
    }
}
