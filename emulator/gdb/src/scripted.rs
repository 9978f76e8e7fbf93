//! Scripted debugger sessions in memory, for tests and fuzzing: the real server (framing,
//! `gdbstub`'s state machine, the target) fed from a list of connection events instead of
//! a socket, on the calling thread.

use crate::net::{NetEvent, Out};
use crate::server::Server;
use crate::target::GdbTarget;
use armlet_machine::{Limits, Machine, Outcome};

/// One step of a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Debugger `conn` connects.
    Connect(u64),
    /// Bytes arrive from debugger `conn`.
    Data(u64, Vec<u8>),
    /// Debugger `conn` goes away.
    Close(u64),
}

/// What a scripted session produced.
#[derive(Debug)]
pub struct Replay {
    /// The machine afterwards.
    pub machine: Machine,
    /// How the server ended: when the whole script was consumed, the end of the script
    /// reads as the network side going away (`Interrupted(KILL_SIGNAL)`).
    pub outcome: Outcome,
    /// Events still queued when the server ended (0: it consumed the whole script).
    pub unprocessed: usize,
    /// For each connection that appeared in the script, in order of first appearance: its
    /// id, every byte the server sent it, and whether the server closed it.
    pub replies: Vec<(u64, Vec<u8>, bool)>,
}

/// Run the server on `machine` over `script`. The core starts halted (as with
/// `--gdb-wait`); `limits` bound the run (give it an instruction limit and a deadline).
pub fn replay(machine: Machine, script: &[Event], limits: &Limits<'_>) -> Replay {
    let tap = crate::console::install(&machine.console());
    let target = GdbTarget::new(machine, tap);
    let (ev_tx, ev_rx) = std::sync::mpsc::channel();
    let mut conns = Vec::new();
    for ev in script {
        let id = match ev {
            Event::Connect(id) | Event::Data(id, _) | Event::Close(id) => *id,
        };
        if !conns.iter().any(|(c, _)| *c == id) {
            conns.push((id, tokio::sync::mpsc::unbounded_channel::<Out>()));
        }
        let net = match ev {
            Event::Connect(id) => {
                let tx = conns
                    .iter()
                    .find(|(c, _)| c == id)
                    .map(|(_, ch)| ch.0.clone());
                NetEvent::Connected {
                    id: *id,
                    tx: tx.expect("registered above"),
                    peer: format!("script#{id}"),
                }
            }
            Event::Data(id, bytes) => NetEvent::Data {
                id: *id,
                bytes: bytes.clone(),
            },
            Event::Close(id) => NetEvent::Closed { id: *id },
        };
        ev_tx.send(net).expect("the receiver is alive");
    }
    drop(ev_tx);
    let (target, outcome, unprocessed) = Server::new(target, ev_rx, limits, true).run_counting();
    let replies = conns
        .into_iter()
        .map(|(id, (tx, mut rx))| {
            drop(tx);
            let (mut bytes, mut closed) = (Vec::new(), false);
            while let Ok(out) = rx.try_recv() {
                match out {
                    Out::Bytes(b) => bytes.extend_from_slice(&b),
                    Out::Close => closed = true,
                }
            }
            (id, bytes, closed)
        })
        .collect();
    Replay {
        machine: target.m,
        outcome,
        unprocessed,
        replies,
    }
}
