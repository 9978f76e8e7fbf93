//! The decoded-instruction cache stays invisible when code changes: guest stores into code
//! (in another block or in the running block) and writes from outside (`Cpu::invalidate`).

mod common;

use armlet_cpu::{Cpu, StopReason};
use common::Ram;

const MOVS_R0_1: u16 = 0x2001;
const MOVS_R0_2: u16 = 0x2002;
const MOVS_R0_3: u16 = 0x2003;
const MOVS_R0_5: u16 = 0x2005;
const STR_R2_R1: u16 = 0x600a; // str r2, [r1]
const STRH_R2_R1: u16 = 0x800a; // strh r2, [r1]
const BKPT: u16 = 0xbe00;

fn run_at(cpu: &mut Cpu, bus: &mut Ram, pc: u32) -> StopReason {
    cpu.state.r[15] = pc;
    cpu.run(bus, 100)
}

#[test]
fn store_into_another_block_is_seen() {
    for icache in [true, false] {
        let mut bus = Ram(vec![0; 0x10000]);
        bus.put16(0x1000, MOVS_R0_1);
        bus.put16(0x1002, BKPT);
        bus.put16(0x2000, STR_R2_R1);
        bus.put16(0x2002, BKPT);
        let mut cpu = Cpu::new();
        cpu.set_icache(icache);
        assert_eq!(
            run_at(&mut cpu, &mut bus, 0x1000),
            StopReason::Bkpt { imm: 0 }
        );
        assert_eq!(cpu.state.r[0], 1);
        cpu.state.r[1] = 0x1000;
        cpu.state.r[2] = u32::from(MOVS_R0_2) | (u32::from(BKPT) << 16);
        run_at(&mut cpu, &mut bus, 0x2000);
        run_at(&mut cpu, &mut bus, 0x1000);
        assert_eq!(cpu.state.r[0], 2, "stale block executed (icache {icache})");
    }
}

#[test]
fn store_into_the_running_block_is_seen() {
    let mut results = Vec::new();
    for icache in [true, false] {
        let mut bus = Ram(vec![0; 0x10000]);
        bus.put16(0x3000, STRH_R2_R1);
        bus.put16(0x3002, MOVS_R0_3);
        bus.put16(0x3004, BKPT);
        let mut cpu = Cpu::new();
        cpu.set_icache(icache);
        cpu.state.r[1] = 0x3002;
        cpu.state.r[2] = u32::from(MOVS_R0_5);
        assert_eq!(
            run_at(&mut cpu, &mut bus, 0x3000),
            StopReason::Bkpt { imm: 0 }
        );
        results.push((cpu.state.r[0], cpu.icount));
    }
    assert_eq!(results[0], (5, 2), "the rewritten instruction must run");
    assert_eq!(results[0], results[1], "icache and no-icache differ");
}

#[test]
fn external_writes_need_invalidate_and_get_it() {
    let mut bus = Ram(vec![0; 0x10000]);
    bus.put16(0x4000, MOVS_R0_1);
    bus.put16(0x4002, BKPT);
    let mut cpu = Cpu::new();
    run_at(&mut cpu, &mut bus, 0x4000);
    assert_eq!(cpu.state.r[0], 1);
    assert!(cpu.cached_blocks() > 0);
    bus.put16(0x4000, MOVS_R0_2); // a debugger or loader write
    cpu.invalidate(0x4000, 2);
    run_at(&mut cpu, &mut bus, 0x4000);
    assert_eq!(cpu.state.r[0], 2);
}

#[test]
fn invalidating_a_range_that_wraps_past_the_top_is_quick_and_complete() {
    // An exception frame stacked just below address 0 covers the top page and page 0. The
    // page loop once ran until a 32-bit page counter wrapped (seconds, found by the ELF
    // loader fuzzer); now it visits exactly the pages of the range.
    let mut bus = Ram(vec![0; 0x10000]);
    bus.put16(0x0100, MOVS_R0_1);
    bus.put16(0x0102, BKPT);
    let mut cpu = Cpu::new();
    run_at(&mut cpu, &mut bus, 0x0100);
    assert_eq!(cpu.state.r[0], 1);
    // A hang guard, not a speed test: the old loop took seconds, this takes microseconds.
    let t = std::time::Instant::now();
    bus.put16(0x0100, MOVS_R0_2);
    cpu.invalidate(0xffff_fff0, 0x120);
    assert!(t.elapsed() < std::time::Duration::from_secs(2));
    assert_eq!(cpu.cached_blocks(), 0);
    run_at(&mut cpu, &mut bus, 0x0100);
    assert_eq!(cpu.state.r[0], 2);
    // The whole address space, starting at the top page: every page, page 0 included.
    bus.put16(0x0100, MOVS_R0_3);
    cpu.invalidate(0xffff_ffff, u32::MAX);
    assert_eq!(cpu.cached_blocks(), 0);
    run_at(&mut cpu, &mut bus, 0x0100);
    assert_eq!(cpu.state.r[0], 3);
}
