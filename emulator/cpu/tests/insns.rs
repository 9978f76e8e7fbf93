//! Instruction tests as data: `tests/data/insns.txt`, one case per line —
//! `ENCODING[_ENCODING...] "disassembly" INPUTS => OUTPUTS` (registers, flags n/z/c/v/q and
//! memory words `m32@ADDR`; a case of several instructions runs them all) — recorded from Unicorn (an independent
//! Cortex-M3 model) by `tests/data/gen_insns.py` and readable against the ARM ARM.

use armlet_cpu::{Bus, BusError, Cpu, StopReason};

const CODE: u32 = 0x10_0000;
const RAM: u32 = 0x2000_0000;

/// Flat test memory: 4 MiB at 0 and 64 KiB at 0x2000_0000.
struct TestBus {
    low: Vec<u8>,
    ram: Vec<u8>,
}

impl TestBus {
    fn new() -> Self {
        TestBus {
            low: vec![0; 0x40_0000],
            ram: vec![0; 0x1_0000],
        }
    }
    fn slot(&mut self, addr: u32) -> Result<&mut u8, BusError> {
        if (addr as usize) < self.low.len() {
            Ok(&mut self.low[addr as usize])
        } else if addr >= RAM && ((addr - RAM) as usize) < self.ram.len() {
            Ok(&mut self.ram[(addr - RAM) as usize])
        } else {
            Err(BusError::Unmapped)
        }
    }
    fn read(&mut self, addr: u32, n: u32) -> Result<u32, BusError> {
        let mut v = 0;
        for i in (0..n).rev() {
            v = (v << 8) | u32::from(*self.slot(addr.wrapping_add(i))?);
        }
        Ok(v)
    }
    fn write(&mut self, addr: u32, n: u32, v: u32) -> Result<(), BusError> {
        for i in 0..n {
            *self.slot(addr.wrapping_add(i))? = (v >> (8 * i)) as u8;
        }
        Ok(())
    }
}

impl Bus for TestBus {
    fn read8(&mut self, a: u32) -> Result<u8, BusError> {
        self.read(a, 1).map(|v| v as u8)
    }
    fn read16(&mut self, a: u32) -> Result<u16, BusError> {
        self.read(a, 2).map(|v| v as u16)
    }
    fn read32(&mut self, a: u32) -> Result<u32, BusError> {
        self.read(a, 4)
    }
    fn write8(&mut self, a: u32, v: u8) -> Result<(), BusError> {
        self.write(a, 1, u32::from(v))
    }
    fn write16(&mut self, a: u32, v: u16) -> Result<(), BusError> {
        self.write(a, 2, u32::from(v))
    }
    fn write32(&mut self, a: u32, v: u32) -> Result<(), BusError> {
        self.write(a, 4, v)
    }
}

fn reg_index(name: &str) -> Option<usize> {
    match name {
        "sp" => Some(13),
        "lr" => Some(14),
        "pc" => Some(15),
        _ => name
            .strip_prefix('r')?
            .parse()
            .ok()
            .filter(|&n: &usize| n < 13),
    }
}

fn parse_num(s: &str) -> u32 {
    match s.strip_prefix("0x") {
        Some(h) => u32::from_str_radix(h, 16).expect("hex"),
        None => s.parse().expect("number"),
    }
}

fn apply(cpu: &mut Cpu, bus: &mut TestBus, assignments: &str) {
    for tok in assignments.split_whitespace() {
        let (k, v) = tok.split_once('=').expect("key=value");
        let v = parse_num(v);
        if let Some(addr) = k.strip_prefix("m32@") {
            bus.write(parse_num(addr), 4, v)
                .expect("m32 address in test RAM");
            continue;
        }
        let s = &mut cpu.state;
        match k {
            "n" => s.n = v != 0,
            "z" => s.z = v != 0,
            "c" => s.c = v != 0,
            "v" => s.v = v != 0,
            "q" => s.q = v != 0,
            _ => s.r[reg_index(k).unwrap_or_else(|| panic!("unknown register {k}"))] = v,
        }
    }
}

fn check(cpu: &Cpu, bus: &mut TestBus, expected: &str, next_pc: u32) -> Vec<String> {
    let mut errs = Vec::new();
    let mut pc_checked = false;
    for tok in expected.split_whitespace() {
        let (k, v) = tok.split_once('=').expect("key=value");
        let want = parse_num(v);
        if let Some(addr) = k.strip_prefix("m32@") {
            let got = bus
                .read(parse_num(addr), 4)
                .expect("m32 address in test RAM");
            if got != want {
                errs.push(format!("{k}: got {got:#x}, want {want:#x}"));
            }
            continue;
        }
        let s = &cpu.state;
        let got = match k {
            "n" => s.n as u32,
            "z" => s.z as u32,
            "c" => s.c as u32,
            "v" => s.v as u32,
            "q" => s.q as u32,
            _ => {
                let i = reg_index(k).expect("register");
                pc_checked |= i == 15;
                s.r[i]
            }
        };
        if got != want {
            errs.push(format!("{k}: got {got:#x}, want {want:#x}"));
        }
    }
    if !pc_checked && cpu.state.r[15] != next_pc {
        errs.push(format!("pc: got {:#x}, want {next_pc:#x}", cpu.state.r[15]));
    }
    errs
}

#[test]
fn instruction_cases_match_the_reference() {
    let text = include_str!("data/insns.txt");
    let mut failures = Vec::new();
    let mut count = 0;
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (enc, rest) = line.split_once(' ').expect("encoding");
        let (_, rest) = rest.split_once('"').expect("disassembly");
        let (asm, rest) = rest.split_once('"').expect("disassembly");
        let (inputs, outputs) = rest.split_once("=>").expect("=>");
        let encodings: Vec<&str> = enc.split('_').collect();
        for icache in [true, false] {
            let mut bus = TestBus::new();
            let mut addr = CODE;
            for e in &encodings {
                let raw = u32::from_str_radix(e, 16).expect("hex encoding");
                if e.len() == 8 {
                    bus.write(addr, 2, raw >> 16).unwrap();
                    bus.write(addr + 2, 2, raw & 0xffff).unwrap();
                    addr += 4;
                } else {
                    bus.write(addr, 2, raw).unwrap();
                    addr += 2;
                }
            }
            let mut cpu = Cpu::new();
            cpu.set_icache(icache);
            cpu.state.r[13] = RAM + 0x8000;
            cpu.state.r[15] = CODE;
            apply(&mut cpu, &mut bus, inputs);
            let n = encodings.len() as u64;
            let mut stop = cpu.run(&mut bus, n);
            while matches!(stop, StopReason::Sync | StopReason::Idle) {
                if stop == StopReason::Idle {
                    cpu.step_idle();
                }
                stop = cpu.run(&mut bus, n - cpu.icount);
            }
            let mut errs = check(&cpu, &mut bus, outputs, addr);
            if stop != StopReason::Budget {
                errs.push(format!("stopped: {stop:?}"));
            }
            if cpu.icount != n {
                errs.push(format!("icount {}", cpu.icount));
            }
            if !errs.is_empty() {
                failures.push(format!(
                    "{enc} \"{asm}\" (icache {icache}): {}",
                    errs.join("; ")
                ));
            }
        }
        count += 1;
    }
    assert!(count > 100, "only {count} cases");
    assert!(
        failures.is_empty(),
        "{} failing cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
