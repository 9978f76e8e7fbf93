//! `monitor` commands (`qRcmd`).

use crate::target::{GdbTarget, OnDetach};
use armlet_machine::io::exc;
use armlet_machine::EntryFrame;
use gdbstub::target::ext::monitor_cmd::{outputln, ConsoleOutput, MonitorCmd};

/// The `monitor help` text.
pub const HELP: &str = "\
armlet monitor commands:
  reset [halt|init]   reset the board (core from the vector table, NVIC, SCS, devices; memory
                      is kept, instruction count and virtual time restart at 0); the core
                      stays halted at the reset vector until you continue. GDB caches
                      registers: gdb-scripts/armlet.gdb refreshes them after every monitor
                      command (or run `maintenance flush register-cache`)
  reset run           reset the board and let it run (as `resume`)
  halt                halt the core (it is halted whenever GDB can send a command; after
                      `resume` this stops it) and show where
  resume | go         let the core run without GDB waiting for it (OpenOCD's `resume`,
                      J-Link's `go`): it runs until GDB's next command halts it; use
                      `continue` to run it under GDB's control
  info                board, core, state, instruction count, virtual time, breakpoints
  fault               fault status (CFSR/HFSR/MMFAR/BFAR) in words, and where the fault
                      happened (the frame the core stacked on exception entry)
  icount              instructions executed since reset
  step-irq [on|off]   whether interrupts may be taken during a single step (default off:
                      they stay pending and are taken when the core runs)
  detach [run|halt]   what the target does when the debugger detaches (default run)
  state               armlet's register report with the instruction at PC
  help                this text
An unknown command or bad argument is an error (GDB shows it; a script stops there).";

/// A parsed `monitor` command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmd {
    /// `help` (or nothing).
    Help,
    /// `reset`, `reset halt`, `reset init`: reset, stay halted; `reset run`: reset and run.
    Reset {
        /// Run after the reset.
        run: bool,
    },
    /// `halt`.
    Halt,
    /// `resume`, `go`.
    Resume,
    /// `info`.
    Info,
    /// `fault`.
    Fault,
    /// `icount`.
    Icount,
    /// `step-irq` (show) or `step-irq on|off`.
    StepIrq(Option<bool>),
    /// `detach` (show) or `detach run|halt`.
    Detach(Option<OnDetach>),
    /// `state`.
    State,
}

/// Parse a monitor command line; an unknown command or a bad argument is an error message
/// (the server answers it with an error packet, so GDB shows it and scripts stop).
pub fn parse(text: &str) -> Result<Cmd, String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    Ok(match words.as_slice() {
        [] | ["help"] => Cmd::Help,
        ["reset"] | ["reset", "halt"] | ["reset", "init"] => Cmd::Reset { run: false },
        ["reset", "run"] => Cmd::Reset { run: true },
        ["reset", other] => {
            return Err(format!(
                "monitor reset: unknown mode '{other}' (halt, init or run)"
            ))
        }
        ["halt"] => Cmd::Halt,
        ["resume"] | ["go"] => Cmd::Resume,
        ["info"] => Cmd::Info,
        ["fault"] | ["faults"] => Cmd::Fault,
        ["icount"] => Cmd::Icount,
        ["step-irq"] => Cmd::StepIrq(None),
        ["step-irq", v] => match parse_on_off(v) {
            Some(on) => Cmd::StepIrq(Some(on)),
            None => return Err(format!("monitor step-irq: expected on or off, not '{v}'")),
        },
        ["detach"] => Cmd::Detach(None),
        ["detach", "run"] => Cmd::Detach(Some(OnDetach::Run)),
        ["detach", "halt"] => Cmd::Detach(Some(OnDetach::Halt)),
        ["detach", v] => return Err(format!("monitor detach: expected run or halt, not '{v}'")),
        ["state"] | ["regs"] => Cmd::State,
        _ => {
            return Err(format!(
                "unknown monitor command '{}' (try `monitor help`)",
                text.trim()
            ))
        }
    })
}

/// For a `qRcmd,HEX` packet body whose command does not parse: the error message (the
/// server sends it as console output, then `E01`, which GDB reports as an error). `None`
/// for other packets and for commands that parse (gdbstub runs those).
pub fn rejected(body: &[u8]) -> Option<String> {
    let hex = body.strip_prefix(b"qRcmd,")?;
    if hex.len() % 2 != 0 {
        return Some("monitor: malformed qRcmd packet (odd number of hex digits)".into());
    }
    let mut bytes = Vec::with_capacity(hex.len() / 2);
    for pair in hex.chunks(2) {
        let digits = std::str::from_utf8(pair).ok();
        match digits.and_then(|d| u8::from_str_radix(d, 16).ok()) {
            Some(b) => bytes.push(b),
            None => return Some("monitor: malformed qRcmd packet (not hex)".into()),
        }
    }
    parse(&String::from_utf8_lossy(&bytes)).err()
}

impl MonitorCmd for GdbTarget {
    fn handle_monitor_cmd(
        &mut self,
        cmd: &[u8],
        mut out: ConsoleOutput<'_>,
    ) -> Result<(), Self::Error> {
        let text = String::from_utf8_lossy(cmd);
        // The server answers commands that do not parse before they get here.
        let cmd = match parse(&text) {
            Ok(c) => c,
            Err(e) => {
                outputln!(out, "{e}");
                return Ok(());
            }
        };
        match cmd {
            Cmd::Help => outputln!(out, "{HELP}"),
            Cmd::Reset { run } => {
                self.m.reset();
                self.resume = None;
                self.debug_stop_pc = None;
                let s = &self.m.cpu.state;
                if run {
                    self.free_run = true;
                    outputln!(
                        out,
                        "reset: running from {} (until GDB's next command halts it)",
                        location(&self.m, s.r[15])
                    );
                } else {
                    outputln!(
                        out,
                        "reset: halted at {} (sp={:#010x})",
                        location(&self.m, s.r[15]),
                        s.r[13]
                    );
                }
            }
            Cmd::Halt => outputln!(out, "halted at {}", location(&self.m, self.pc())),
            Cmd::Resume => {
                self.free_run = true;
                outputln!(
                    out,
                    "running from {} until GDB's next command halts it (`continue` runs it under GDB's control)",
                    location(&self.m, self.pc())
                );
            }
            Cmd::Info => self.info(&mut out),
            Cmd::Fault => self.fault(&mut out),
            Cmd::Icount => outputln!(out, "{}", self.m.instructions()),
            Cmd::StepIrq(None) => outputln!(out, "step-irq {}", on_off(self.m.debug.step_irq)),
            Cmd::StepIrq(Some(on)) => {
                self.m.debug.step_irq = on;
                outputln!(
                    out,
                    "step-irq {}: interrupts {} be taken during a single step",
                    on_off(on),
                    if on { "may" } else { "will not" }
                );
            }
            Cmd::Detach(None) => outputln!(out, "detach {}", detach_word(self.on_detach)),
            Cmd::Detach(Some(d)) => {
                self.on_detach = d;
                match d {
                    OnDetach::Run => outputln!(out, "on detach the target runs on"),
                    OnDetach::Halt => outputln!(out, "on detach the target stays halted"),
                }
            }
            Cmd::State => outputln!(out, "{}", self.m.state_report()),
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
        let sp = f
            .addr
            .wrapping_add(size)
            .wrapping_add(if w(7) & (1 << 9) != 0 { 4 } else { 0 });
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

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let mut v = b"qRcmd,".to_vec();
        v.extend(s.bytes().flat_map(|b| format!("{b:02x}").into_bytes()));
        v
    }

    #[test]
    fn probe_spellings_parse_and_unknown_commands_are_rejected() {
        for (text, cmd) in [
            ("", Cmd::Help),
            ("reset", Cmd::Reset { run: false }),
            ("reset halt", Cmd::Reset { run: false }),
            ("reset init", Cmd::Reset { run: false }),
            ("reset run", Cmd::Reset { run: true }),
            ("halt", Cmd::Halt),
            ("resume", Cmd::Resume),
            ("go", Cmd::Resume),
            ("  step-irq   on ", Cmd::StepIrq(Some(true))),
            ("detach halt", Cmd::Detach(Some(OnDetach::Halt))),
        ] {
            assert_eq!(parse(text), Ok(cmd), "{text:?}");
            assert_eq!(rejected(&hex(text)), None, "{text:?}");
        }
        for bad in [
            "bogus",
            "reset now",
            "step-irq maybe",
            "detach later",
            "halt now",
        ] {
            let msg = rejected(&hex(bad)).expect(bad);
            assert!(msg.contains(bad.split(' ').next_back().unwrap()), "{msg}");
        }
        assert!(rejected(b"qRcmd,6").is_some());
        assert!(rejected(b"qRcmd,zz").is_some());
        assert_eq!(rejected(b"qSupported"), None);
    }
}
