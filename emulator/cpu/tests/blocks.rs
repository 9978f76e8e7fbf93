//! The run loop's block machinery against the architecture: branches made conditional by an
//! IT block (ARM ARM A7.3.3: the unconditional B encodings take the IT condition), blocks that
//! continue past a conditional branch, a loop block re-run in place, and exact instruction
//! counts when a budget ends inside any of them — each compared with the uncached path
//! (one instruction per block, no fast forms chained).

mod common;

use armlet_cpu::{Cpu, StopReason};
use common::Ram;

/// Run `code` from 0 with `budget`, with or without the cache: (stop, r0, r1, icount, pc).
fn run(code: &[u16], r0: u32, budget: u64, icache: bool) -> (StopReason, u32, u32, u64, u32) {
    let mut bus = Ram::with_code(0x1000, code);
    let mut cpu = Cpu::new();
    cpu.set_icache(icache);
    cpu.state.r[0] = r0;
    cpu.state.r[15] = 0;
    let stop = cpu.run(&mut bus, budget);
    (
        stop,
        cpu.state.r[0],
        cpu.state.r[1],
        cpu.icount,
        cpu.state.r[15],
    )
}

#[test]
fn a_branch_in_an_it_block_takes_the_it_condition() {
    let code = [
        0x2801, // cmp r0, #1
        0xbf08, // it eq
        0xe001, // b.n 0xa (unconditional encoding T2: condition EQ from the IT block)
        0x2005, // movs r0, #5
        0xbe00, // bkpt
        0x2007, // movs r0, #7   @ 0xa
        0xbe00, // bkpt
    ];
    for icache in [true, false] {
        let (stop, r0, ..) = run(&code, 1, 100, icache);
        assert_eq!(stop, StopReason::Bkpt { imm: 0 });
        assert_eq!(r0, 7, "EQ holds: the branch is taken (icache {icache})");
        let (stop, r0, ..) = run(&code, 2, 100, icache);
        assert_eq!(stop, StopReason::Bkpt { imm: 0 });
        assert_eq!(r0, 5, "EQ fails: the branch is skipped (icache {icache})");
    }
}

#[test]
fn a_block_goes_on_past_an_untaken_conditional_branch() {
    let code = [
        0x2801, // cmp r0, #1
        0xd002, // beq 0xa
        0x2105, // movs r1, #5
        0x3101, // adds r1, #1
        0xbe00, // bkpt
        0x2107, // movs r1, #7   @ 0xa
        0xbe00, // bkpt
    ];
    for icache in [true, false] {
        assert_eq!(run(&code, 0, 100, icache).2, 6, "fall-through path");
        assert_eq!(run(&code, 1, 100, icache).2, 7, "taken branch");
    }
}

#[test]
fn loop_blocks_count_exactly_under_every_budget() {
    let code = [
        0x2000, // movs r0, #0
        0x3001, // adds r0, #1     @ 2: loop
        0x2864, // cmp r0, #100
        0xd1fc, // bne 2
        0xbe00, // bkpt
    ];
    let full = run(&code, 0, 10_000, true);
    assert_eq!(full.0, StopReason::Bkpt { imm: 0 });
    assert_eq!(full.1, 100);
    assert_eq!(full.3, 1 + 3 * 100, "MOVS, then 100 iterations of three");
    for budget in [1, 2, 3, 4, 5, 50, 151, 299, 300, 301] {
        let cached = run(&code, 0, budget, true);
        let uncached = run(&code, 0, budget, false);
        assert_eq!(cached, uncached, "budget {budget}");
        assert_eq!(cached.3, budget.min(301), "budget {budget}");
        // After `budget` instructions: one MOVS, then an ADDS every three.
        assert_eq!(
            cached.1 as u64,
            budget.min(301).saturating_sub(1).div_ceil(3).min(100)
        );
    }
}
