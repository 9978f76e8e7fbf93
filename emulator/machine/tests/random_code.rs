//! Robustness: random bytes as firmware (code, vector table, stack pointer) on every
//! built-in board. Whatever the guest does — undefined instructions, wild stores into RAM,
//! MMIO and the PPB, bad exception returns, faults inside handlers — the machine must never
//! panic or hang: each run ends with an exit, a lockup, a deadlock or the budget.

use armlet_machine::semihosting::Console;
use armlet_machine::{Board, Exit, Machine, MachineOptions};

#[derive(Debug, Default)]
struct Quiet;

impl Console for Quiet {
    fn write_out(&mut self, _b: &[u8]) {}
    fn write_err(&mut self, _b: &[u8]) {}
    fn read_in(&mut self, _buf: &mut [u8]) -> usize {
        0
    }
}

fn xorshift(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

#[test]
fn random_firmware_never_panics_or_hangs() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut outcomes = std::collections::BTreeMap::<String, u32>::new();
    for board in Board::builtin() {
        for round in 0..60 {
            let mut m = Machine::new(board.clone(), MachineOptions::default(), Box::new(Quiet))
                .expect("board builds");
            // 16 KiB of random code at 0, with a plausible vector table half of the time.
            let mut code = vec![0u8; 16 * 1024];
            for b in code.iter_mut() {
                *b = xorshift(&mut seed) as u8;
            }
            if round % 2 == 0 {
                let sp: u32 = 0x2000_8000;
                code[0..4].copy_from_slice(&sp.to_le_bytes());
                for v in 1..16u32 {
                    let target = (0x100 + (xorshift(&mut seed) as u32 % 0x3e00)) | 1;
                    let at = 4 * v as usize;
                    code[at..at + 4].copy_from_slice(&target.to_le_bytes());
                }
            }
            // Sprinkle stores to peripheral/system space: `str r0, [r1]` with r1 loaded from
            // a literal pool is too structured for random bytes, so also aim some words there.
            for _ in 0..64 {
                let at = (xorshift(&mut seed) as usize % (code.len() / 4)) * 4;
                let addr = [0x4000_0000u32, 0xe000_e000, 0xe000_ed00, 0x400f_e000][at % 4]
                    + (xorshift(&mut seed) as u32 & 0xffc);
                code[at..at + 4].copy_from_slice(&addr.to_le_bytes());
            }
            m.mem.load(0, &code).expect("load");
            m.reset();
            let start = std::time::Instant::now();
            let exit = m.run(200_000);
            assert!(
                start.elapsed().as_secs() < 10,
                "{} round {round}: took {:?}",
                board.name,
                start.elapsed()
            );
            let kind = match exit {
                Exit::Exited(_) => "exited",
                Exit::Budget => "budget",
                Exit::Fault(_) => "stuck in fault handler",
                Exit::Lockup(_) => "lockup",
                Exit::Deadlock => "deadlock",
                Exit::Breakpoint(_) => "bkpt",
                Exit::DebugBreakpoint | Exit::Watchpoint { .. } => "debug",
                Exit::Unsupported(_) => "unsupported",
            };
            *outcomes.entry(kind.to_string()).or_default() += 1;
            // Reports must not panic either.
            let _ = m.state_report();
            let _ = m.fault_status();
        }
    }
    eprintln!("outcomes: {outcomes:?}");
    assert!(outcomes.len() >= 3, "too little variety: {outcomes:?}");
}
