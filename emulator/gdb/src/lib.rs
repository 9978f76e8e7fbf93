//! armlet's GDB remote server: debug firmware running on armlet with `gdb-multiarch` or
//! `arm-none-eabi-gdb` as if it were on the bench.
//!
//! # Shape
//!
//! [`serve`] takes a loaded [`Machine`] and runs it on a thread of its own (the *machine
//! thread*) while the calling thread runs a tokio runtime that owns the socket: it accepts
//! connections, reads bytes and writes replies (`net`). The two talk over channels. The
//! machine thread frames the incoming bytes (`framing`: garbage, bad checksums and oversized
//! packets never reach the protocol engine), feeds them to `gdbstub`'s
//! `GdbStubStateMachine`, and while the debugger has the target running, runs the machine
//! in slices of virtual time sized to a few milliseconds of host time, looking for the
//! interrupt byte between slices (`server`). Virtual time only advances inside those
//! slices, so it is frozen while the target is halted.
//!
//! The target (`target`) is the machine plus the debugger's breakpoints and watchpoints,
//! which are handed to the machine when it resumes. One file per debugger feature:
//! `arch` (registers and the target description: m-profile, m-system and a system feature
//! with PRIMASK/BASEPRI/FAULTMASK/CONTROL), `breakpoints` (software and hardware
//! breakpoints, watchpoints), `exec` (continue, step, range step, stop reasons),
//! `memory_map` (the memory map from the machine's regions, flash operations for `load`),
//! `monitor` (`monitor` commands), `console` (console output to GDB as `O` packets),
//! `registers` (`p`/`P`, answered in front of gdbstub, which would end the session on a
//! `p` it cannot parse).
//!
//! # Sessions
//!
//! One debugger at a time; a second one is told so and disconnected. On connection the
//! target halts. Detaching leaves it running (or halted: `monitor detach halt`) and the
//! server waits for the next debugger; so does a lost connection. `kill` ends armlet with
//! status 137 ([`KILL_SIGNAL`] + 128); the firmware exiting ends it with the firmware's
//! status. A guest stop with no debugger attached (fault, lockup, deadlock, BKPT) halts the
//! core and waits for one.

#![warn(missing_docs)]

pub mod arch;
mod breakpoints;
pub mod console;
mod exec;
pub mod framing;
mod memory_map;
mod monitor;
mod net;
mod registers;
pub mod scripted;
mod server;
pub mod target;

use armlet_machine::{Limits, Machine, Outcome};
use std::net::{SocketAddr, ToSocketAddrs};

pub use memory_map::memory_map_xml;
pub use monitor::HELP as MONITOR_HELP;
pub use server::KILL_SIGNAL;

/// How to serve.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where to listen.
    pub addr: SocketAddr,
    /// Start halted at the reset vector; the firmware runs when the debugger continues.
    pub wait: bool,
}

/// Parse `[HOST:]PORT` (also QEMU's `tcp::PORT` / `tcp:HOST:PORT`). Without a host the
/// server listens on 127.0.0.1 only.
pub fn parse_addr(spec: &str) -> Result<SocketAddr, String> {
    let s = spec.strip_prefix("tcp:").unwrap_or(spec);
    let s = s.split(',').next().unwrap_or_default();
    let bad = || format!("--gdb {spec}: expected [HOST:]PORT, e.g. 1234 or 0.0.0.0:1234");
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) => (h.trim_start_matches('[').trim_end_matches(']'), p),
        None => ("", s),
    };
    let port: u16 = port.parse().map_err(|_| bad())?;
    let host = if host.is_empty() { "127.0.0.1" } else { host };
    (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("--gdb {spec}: {e}"))?
        .next()
        .ok_or_else(bad)
}

/// Serve the GDB remote protocol for `machine` until the firmware exits, the debugger kills
/// it, or `limits` end the run; returns the machine (for reports) and how the run ended.
/// Prints `armlet: GDB server listening on ADDR` to stderr once listening (with the real
/// port when port 0 was asked for).
pub fn serve(
    machine: Machine,
    opts: &Options,
    limits: &Limits<'_>,
) -> std::io::Result<(Machine, Outcome)> {
    let listener = std::net::TcpListener::bind(opts.addr)?;
    let local = listener.local_addr()?;
    eprintln!(
        "armlet: GDB server listening on {local}{}",
        if opts.wait {
            "; the core is halted at the reset vector until the debugger continues"
        } else {
            ""
        }
    );
    let tap = console::install(&machine.console());
    let mut target = target::GdbTarget::new(machine, tap);
    target.listen = local.to_string();
    let (ev_tx, ev_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::scope(|scope| {
        let machine_thread = std::thread::Builder::new()
            .name("armlet-machine".into())
            .spawn_scoped(scope, move || {
                let r = server::Server::new(target, ev_rx, limits, opts.wait).run();
                let _ = stop_tx.send(());
                r
            })?;
        let net = rt.block_on(net::serve(listener, ev_tx, stop_rx));
        // Dropping the runtime drops every connection task and with them the senders, so
        // the machine thread notices if the network side failed.
        drop(rt);
        let (target, outcome) = machine_thread
            .join()
            .map_err(|_| std::io::Error::other("the machine thread panicked"))?;
        net?;
        Ok((target.m, outcome))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hostile client: a 1.7 GB `m` read, an `m` past the end of the address space and a
    /// 4 GiB flash erase are answered at once (found by `armlet-fuzz`'s `gdb_packets`).
    #[test]
    fn huge_reads_and_erases_are_bounded() {
        use crate::framing::packet;
        use crate::scripted::{replay, Event};
        let board = armlet_machine::Board::mps2_an385();
        let m = Machine::new(
            board,
            armlet_machine::MachineOptions::default(),
            Box::new(armlet_machine::semihosting::StdConsole::new()),
        )
        .unwrap();
        let mut bytes = b"+".to_vec();
        for body in [
            &b"m8000,6847df67"[..],
            b"mffffff00,10000",
            b"m0,ffffffffffffffff",
            b"vFlashErase:00000000,ffffffff",
            b"vFlashErase:fffff000,00002000",
        ] {
            bytes.extend(packet(body));
        }
        let t0 = std::time::Instant::now();
        let limits = Limits {
            max_instructions: Some(1000),
            ..Limits::default()
        };
        let r = replay(
            m,
            &[Event::Connect(1), Event::Data(1, bytes), Event::Close(1)],
            &limits,
        );
        assert!(t0.elapsed().as_secs() < 5, "took {:?}", t0.elapsed());
        let out = &r.replies[0].1;
        // Three reads of at most 0x2200 bytes as hex, two short answers.
        assert!(out.len() < 3 * (2 * 0x2200 + 8) + 64, "{} bytes", out.len());
        assert_eq!(r.unprocessed, 0);
    }

    #[test]
    fn addresses() {
        assert_eq!(parse_addr("1234").unwrap().to_string(), "127.0.0.1:1234");
        assert_eq!(parse_addr(":1234").unwrap().to_string(), "127.0.0.1:1234");
        assert_eq!(
            parse_addr("tcp::1234").unwrap().to_string(),
            "127.0.0.1:1234"
        );
        assert_eq!(
            parse_addr("0.0.0.0:3333").unwrap().to_string(),
            "0.0.0.0:3333"
        );
        assert_eq!(parse_addr("[::1]:3333").unwrap().to_string(), "[::1]:3333");
        assert_eq!(
            parse_addr("tcp:127.0.0.1:1234,server,nowait")
                .unwrap()
                .to_string(),
            "127.0.0.1:1234"
        );
        assert!(parse_addr("x").is_err());
        assert!(parse_addr("70000").is_err());
    }
}
