//! The decoded-instruction cache must not outlive execute permissions: code run (and
//! cached) before the MPU makes its region execute-never must fault when run again.

use armlet_cpu::Bus;
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

#[test]
fn mpu_reconfiguration_drops_blocks_decoded_under_the_old_permissions() {
    for no_icache in [false, true] {
        let opts = MachineOptions {
            no_icache,
            ..Default::default()
        };
        let mut m = Machine::new(Board::mps2_an385(), opts, Box::new(Quiet)).unwrap();
        // Vector table: SP, reset, NMI, HardFault -> 0x100 (`bkpt #1`).
        let mut vt = Vec::new();
        for w in [0x2000_1000u32, 0x101, 0x101, 0x101] {
            vt.extend_from_slice(&w.to_le_bytes());
        }
        m.mem.load(0, &vt).unwrap();
        m.mem.load(0x100, &0xbe01u16.to_le_bytes()).unwrap();
        // The code under test: `movs r0, #1; bkpt #0` in SRAM.
        m.mem.load(0x2000_0000, &[0x01, 0x20, 0x00, 0xbe]).unwrap();
        m.reset();
        m.cpu.state.r[15] = 0x2000_0000;
        assert_eq!(m.run(1000), Exit::Breakpoint(0), "runs (and is cached)");
        // MPU region 0: SRAM 0x2000_0000, 4 KiB, full access, execute-never; background
        // region for privileged code; enable.
        m.mem.write32(0xe000_ed9c, 0x2000_0000 | 0x10).unwrap(); // RBAR, VALID, region 0
        m.mem
            .write32(0xe000_eda0, (1 << 28) | (0b011 << 24) | (11 << 1) | 1)
            .unwrap(); // RASR
        m.mem.write32(0xe000_ed94, 0b101).unwrap(); // CTRL: PRIVDEFENA | ENABLE
        m.cpu.state.r[15] = 0x2000_0000;
        assert_eq!(
            m.run(1000),
            Exit::Breakpoint(1),
            "fetch from an XN region escalates to HardFault (no_icache {no_icache})"
        );
        assert_eq!(m.mem.scs.cfsr & 1, 1, "MMFSR.IACCVIOL");
    }
}
