//! What the debugger relies on for faults: `Machine::entry_frame` names the frame the core
//! stacked on exception entry (B1.5.6) after the handler has moved SP and replaced LR,
//! also for nested exceptions, and a single step over a faulting instruction or an SVC
//! ends at the handler's first instruction.

use armlet_machine::semihosting::Console;
use armlet_machine::{Board, EntryFrame, Exit, Machine, MachineOptions};

#[derive(Debug, Default)]
struct Quiet;

impl Console for Quiet {
    fn write_out(&mut self, _b: &[u8]) {}
    fn write_err(&mut self, _b: &[u8]) {}
    fn read_in(&mut self, _buf: &mut [u8]) -> usize {
        0
    }
}

fn halfwords(m: &mut Machine, at: u32, code: &[u16]) {
    let bytes: Vec<u8> = code.iter().flat_map(|h| h.to_le_bytes()).collect();
    m.mem.load(at, &bytes).unwrap();
}

/// Thread code at 0x2000_0000 (`svc #0`), an SVC handler at 0x300 that pushes, moves SP
/// and loads from unmapped 0x3000_0000 at 0x304 (`push {r4, lr}; sub sp, #8; ldr r0,
/// [r2]`), a HardFault handler at 0x200 (`push {r4-r7, lr}; bkpt #1`).
fn machine() -> Machine {
    let mut m = Machine::new(
        Board::mps2_an385(),
        MachineOptions::default(),
        Box::new(Quiet),
    )
    .unwrap();
    let mut vt = [0u32; 16];
    vt[0] = 0x2000_1000;
    vt[1] = 0x2000_0001;
    vt[3] = 0x201;
    vt[11] = 0x301;
    let bytes: Vec<u8> = vt.iter().flat_map(|w| w.to_le_bytes()).collect();
    m.mem.load(0, &bytes).unwrap();
    halfwords(&mut m, 0x200, &[0xb5f0, 0xbe01]);
    halfwords(&mut m, 0x300, &[0xb510, 0xb082, 0x6810]);
    halfwords(&mut m, 0x2000_0000, &[0xdf00, 0xbe02]);
    m.reset();
    m.cpu.state.r[2] = 0x3000_0000;
    m
}

fn word(m: &Machine, a: u32) -> u32 {
    let mut b = [0u8; 4];
    m.debug_read(a, &mut b).unwrap();
    u32::from_le_bytes(b)
}

#[test]
fn the_frame_stacked_on_entry_survives_the_handler_prologue() {
    let mut m = machine();
    assert_eq!(m.entry_frame(), None, "Thread mode");
    assert_eq!(m.run(1000), Exit::Breakpoint(1));
    assert_eq!(m.cpu.state.ipsr, 3, "in HardFault");
    // SVC entry stacked 8 words below 0x2000_1000; its handler pushed 2 words and took 8
    // bytes; the fault stacked 8 words below that. The HardFault handler pushed 5 more.
    let f = m.entry_frame().expect("a recorded frame");
    assert_eq!(
        f,
        EntryFrame {
            addr: 0x2000_0fb0,
            exc_return: 0xffff_fff1
        }
    );
    assert_eq!(
        m.cpu.state.r[13],
        0x2000_0fb0 - 20,
        "SP moved by the prologue"
    );
    assert_eq!(
        word(&m, f.addr + 24),
        0x304,
        "stacked PC: the faulting load"
    );
    assert_eq!(word(&m, f.addr + 8), 0x3000_0000, "stacked R2");
}

#[test]
fn a_step_over_a_fault_or_svc_ends_at_the_handlers_first_instruction() {
    let mut m = machine();
    m.debug.step_irq = false;
    assert_eq!(m.step(), Exit::Budget);
    assert_eq!(m.cpu.state.r[15], 0x300, "svc: SVC handler, not yet run");
    assert_eq!(m.entry_frame().map(|f| f.addr), Some(0x2000_0fe0));
    assert_eq!(m.step(), Exit::Budget);
    assert_eq!(m.step(), Exit::Budget);
    assert_eq!(m.cpu.state.r[15], 0x304);
    let icount = m.instructions();
    assert_eq!(m.step(), Exit::Budget);
    assert_eq!(
        m.cpu.state.r[15], 0x200,
        "the load faulted: HardFault's first instruction"
    );
    assert_eq!(m.cpu.state.r[13], 0x2000_0fb0, "its prologue has not run");
    assert_eq!(
        m.instructions(),
        icount,
        "a faulting instruction does not complete"
    );
    // The same with watchpoints checked.
    let mut m = machine();
    for _ in 0..3 {
        assert_eq!(m.step_watched(), Exit::Budget);
    }
    assert_eq!(m.step_watched(), Exit::Budget);
    assert_eq!(m.cpu.state.r[15], 0x200);
}
