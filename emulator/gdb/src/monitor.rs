//! `monitor` commands (`qRcmd`).

use crate::target::{GdbTarget, OnDetach};
use armlet_machine::io::exc;
use armlet_machine::EntryFrame;
use gdbstub::target::ext::monitor_cmd::{outputln, ConsoleOutput, MonitorCmd};

/// The `monitor help` text.
pub const HELP: &str = "\
armlet monitor commands:
  reset [halt]        reset the board (core from the vector table, NVIC, SCS, devices; memory
                      is kept, instruction count and virtual time restart at 0); the core
                      stays halted at the reset vector until you continue. GDB caches
                      registers: gdb-scripts/armlet.gdb refreshes them after every monitor
                      command (or run `maintenance flush register-cache`)
  info                board, core, state, instruction count, virtual time, breakpoints
  fault               fault status (CFSR/HFSR/MMFAR/BFAR) in words, and where the fault
                      happened (the stacked exception frame)
  icount              instructions executed since reset
  step-irq [on|off]   whether interrupts may be taken during a single step (default off:
                      they stay pending and are taken when the core runs)
  detach [run|halt]   what the target does when the debugger detaches (default run)
  state               armlet's register report with the instruction at PC
  help                this text";

impl MonitorCmd for GdbTarget {
    fn handle_monitor_cmd(
        &mut self,
        cmd: &[u8],
        mut out: ConsoleOutput<'_>,
    ) -> Result<(), Self::Error> {
        let text = String::from_utf8_lossy(cmd);
        let words: Vec<&str> = text.split_whitespace().collect();
        match words.as_slice() {
            [] | ["help"] => outputln!(out, "{HELP}"),
            ["reset"] | ["reset", "halt"] | ["reset", "init"] => {
                self.m.reset();
                self.resume = None;
                self.debug_stop_pc = None;
                let s = &self.m.cpu.state;
                outputln!(
                    out,
                    "reset: halted at {} (sp={:#010x})",
                    location(&self.m, s.r[15]),
                    s.r[13]
                );
            }
            ["info"] => self.info(&mut out),
            ["fault"] | ["faults"] => self.fault(&mut out),
            ["icount"] => outputln!(out, "{}", self.m.instructions()),
            ["step-irq"] => outputln!(out, "step-irq {}", on_off(self.m.debug.step_irq)),
            ["step-irq", v] => match parse_on_off(v) {
                Some(on) => {
                    self.m.debug.step_irq = on;
                    outputln!(
                        out,
                        "step-irq {}: interrupts {} be taken during a single step",
                        on_off(on),
                        if on { "may" } else { "will not" }
                    );
                }
                None => outputln!(out, "usage: monitor step-irq on|off"),
            },
            ["detach"] => outputln!(out, "detach {}", detach_word(self.on_detach)),
            ["detach", "run"] => {
                self.on_detach = OnDetach::Run;
                outputln!(out, "on detach the target runs on");
            }
            ["detach", "halt"] => {
                self.on_detach = OnDetach::Halt;
                outputln!(out, "on detach the target stays halted");
            }
            ["state"] | ["regs"] => outputln!(out, "{}", self.m.state_report()),
            _ => outputln!(
                out,
                "unknown monitor command '{}' (try `monitor help`)",
                text.trim()
            ),
        }
        Ok(())
    }
}

fn on_off(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

fn parse_on_off(v: &str) -> Option<bool> {
    match v {
        "on" | "1" | "true" | "yes" => Some(true),
        "off" | "0" | "false" | "no" => Some(false),
        _ => None,
    }
}

fn detach_word(d: OnDetach) -> &'static str {
    match d {
        OnDetach::Run => "run",
        OnDetach::Halt => "halt",
    }
}

/// `0xaddr <symbol+off>`, naming a symbol only when the address is plausibly inside it.
fn location(m: &armlet_machine::Machine, addr: u32) -> String {
    match m.symbols.lookup(addr) {
        Some((name, 0)) => format!("{addr:#010x} <{name}>"),
        Some((name, off)) if off < 0x1000 => format!("{addr:#010x} <{name}+{off:#x}>"),
        _ => format!("{addr:#010x}"),
    }
}

/// Names of the system exceptions, by number.
fn exception_name(e: usize) -> String {
    match e {
        exc::RESET => "Reset".into(),
        exc::NMI => "NMI".into(),
        exc::HARDFAULT => "HardFault".into(),
        exc::MEMMANAGE => "MemManage".into(),
        exc::BUSFAULT => "BusFault".into(),
        exc::USAGEFAULT => "UsageFault".into(),
        exc::SVCALL => "SVCall".into(),
        exc::DEBUGMON => "DebugMonitor".into(),
        exc::PENDSV => "PendSV".into(),
        exc::SYSTICK => "SysTick".into(),
        e if e >= exc::IRQ0 => format!("IRQ{}", e - exc::IRQ0),
        e => format!("exception {e}"),
    }
}

impl GdbTarget {
    fn info(&self, out: &mut ConsoleOutput<'_>) {
        let m = &self.m;
        let b = &m.board;
        outputln!(out, "board:        {} ({})", b.name, b.description);
        outputln!(out, "core:         {} at {} Hz", b.cpu.name(), b.cpu_hz);
        outputln!(out, "state:        halted at {}", location(m, self.pc()));
        outputln!(out, "instructions: {}", m.instructions());
        let ns = m.virtual_ns();
        outputln!(
            out,
            "virtual time: {}.{:09} s ({} cycles)",
            ns / 1_000_000_000,
            ns % 1_000_000_000,
            m.cycles()
        );
        outputln!(
            out,
            "breakpoints:  {} software, {} hardware; watchpoints: {}",
            self.sw_breaks.len(),
            self.hw_breaks.len(),
            self.watches.len()
        );
        outputln!(
            out,
            "step-irq:     {}; on detach: {}",
            on_off(m.debug.step_irq),
            detach_word(self.on_detach)
        );
        if !self.listen.is_empty() {
            outputln!(out, "gdb server:   {}", self.listen);
        }
    }

    /// The interrupted context from the frame stacked at `f`: PC (the faulting instruction
    /// for a precise fault), LR, xPSR, R0-R3, R12 and the SP before the exception.
    fn describe_frame(&self, out: &mut ConsoleOutput<'_>, f: EntryFrame) {
        let stack = if f.exc_return & 4 != 0 { "PSP" } else { "MSP" };
        let mut frame = [0u8; 32];
        if self.m.debug_read(f.addr, &mut frame).is_err() {
            outputln!(
                out,
                "the frame stacked on {stack} at {:#010x} cannot be read",
                f.addr
            );
            return;
        }
        let w = |i: usize| u32::from_le_bytes([0, 1, 2, 3].map(|k| frame[4 * i + k]));
        let extended = f.exc_return & 0x10 == 0;
        let size = if extended { 0x68 } else { 0x20 };
        // xPSR bit 9: the core skipped a word to align the frame to 8 bytes.
        let sp = f.addr + size + if w(7) & (1 << 9) != 0 { 4 } else { 0 };
        outputln!(
            out,
            "interrupted context (frame stacked on {stack} at {:#010x}, EXC_RETURN={:#010x}): pc={} lr={:#010x} xpsr={:#010x}",
            f.addr,
            f.exc_return,
            location(&self.m, w(6)),
            w(5),
            w(7)
        );
        outputln!(
            out,
            "  r0={:#010x} r1={:#010x} r2={:#010x} r3={:#010x} r12={:#010x} sp={sp:#010x}{}",
            w(0),
            w(1),
            w(2),
            w(3),
            w(4),
            if extended { " (with FP state)" } else { "" }
        );
    }

    fn fault(&mut self, out: &mut ConsoleOutput<'_>) {
        let status = self.m.fault_status();
        outputln!(out, "{status}");
        let nvic = &self.m.mem.io.nvic;
        let active: Vec<String> = (1..nvic.len())
            .filter(|&e| nvic.active[e])
            .map(exception_name)
            .collect();
        let s = &self.m.cpu.state;
        if s.ipsr == 0 {
            outputln!(
                out,
                "the core is in Thread mode (no exception handler running)"
            );
        } else {
            outputln!(
                out,
                "the core is in {} (IPSR={}); active: {}",
                exception_name(usize::from(s.ipsr)),
                s.ipsr,
                if active.is_empty() {
                    "none".into()
                } else {
                    active.join(", ")
                }
            );
            // The frame the core stacked on entry (B1.5.6), as recorded then: SP and LR
            // may have changed since (the handler's prologue, calls).
            match self.m.entry_frame() {
                Some(f) => self.describe_frame(out, f),
                None => outputln!(
                    out,
                    "the frame stacked on entry is unknown (the exception state was changed by the debugger)"
                ),
            }
        }
    }
}
