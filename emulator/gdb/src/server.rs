//! The machine thread: runs the machine in slices, drives `gdbstub`'s state machine with
//! the bytes the network side hands over, and decides what happens between sessions.

use crate::arch::CortexMRegId;
use crate::exec::Stopped;
use crate::framing::{console_packet, Frame, Framer};
use crate::net::{NetEvent, Out};
use crate::target::{GdbTarget, OnDetach};
use armlet_machine::{Limits, Outcome};
use gdbstub::common::Signal;
use gdbstub::conn::Connection;
use gdbstub::stub::state_machine::GdbStubStateMachine;
use gdbstub::stub::{DisconnectReason, GdbStub, SingleThreadStopReason};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedSender;

/// The stub's packet buffer (and so the `PacketSize` GDB is told): GDB caps its memory
/// packets at 16 KiB, which this allows in full.
pub const PACKET_SIZE: usize = 0x4400;

/// The most bytes one `m` packet reads: what fits in a reply of `PACKET_SIZE` as hex.
pub const MAX_MEMORY_READ: usize = PACKET_SIZE / 2;

/// The signal number `kill` is reported as (exit status 128 + 9 = 137, like SIGKILL).
pub const KILL_SIGNAL: usize = 9;

/// Slices of virtual time are sized to take about this long, so an interrupt is noticed
/// within a few milliseconds.
const SLICE_TARGET: Duration = Duration::from_millis(5);
const MIN_SLICE: u64 = 1_000;
const MAX_SLICE: u64 = 1 << 24;

/// How often a halted machine thread looks at the stop flag and the deadline.
const IDLE_POLL: Duration = Duration::from_millis(50);

/// What a session shares with its `Conn` (which gdbstub owns).
#[derive(Default)]
struct Shared {
    /// The last packet sent to the debugger (`$...#cc`), sent again when it answers `-`.
    last: RefCell<Vec<u8>>,
    /// Drop the stub's output (while a restarted stub is brought up to date).
    mute: Cell<bool>,
}

/// `gdbstub`'s view of a connection: bytes are collected and handed to the socket task on
/// flush.
pub struct Conn {
    tx: UnboundedSender<Out>,
    buf: Vec<u8>,
    shared: Rc<Shared>,
}

impl Connection for Conn {
    type Error = &'static str;

    fn write(&mut self, byte: u8) -> Result<(), Self::Error> {
        self.buf.push(byte);
        Ok(())
    }

    fn write_all(&mut self, buf: &[u8]) -> Result<(), Self::Error> {
        self.buf.extend_from_slice(buf);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let bytes = std::mem::take(&mut self.buf);
        if self.shared.mute.get() {
            return Ok(());
        }
        if let Some(at) = bytes.iter().position(|&b| b == b'$') {
            *self.shared.last.borrow_mut() = bytes[at..].to_vec();
        }
        self.tx
            .send(Out::Bytes(bytes))
            .map_err(|_| "connection closed")
    }
}

type Stub = GdbStubStateMachine<'static, GdbTarget, Conn>;

struct Session {
    id: u64,
    peer: String,
    /// `None` only transiently, while a transition is computed.
    gdb: Option<Stub>,
    framer: Framer,
    tx: UnboundedSender<Out>,
    /// The debugger switched acknowledgements off (`QStartNoAckMode`).
    no_ack: bool,
    /// The debugger's `qSupported`, for a restarted stub.
    qsupported: Option<Vec<u8>>,
    /// The last command was `k` (not `vKill`): LLDB waits for an exit status.
    plain_kill: bool,
    shared: Rc<Shared>,
}

impl Session {
    /// Send a reply packet (after the `+` for the command, in acknowledgement mode).
    fn reply(&self, body: &[u8]) {
        self.reply_after(&[], body);
    }

    /// Send `console` as an `O` packet (if not empty), then the reply packet.
    fn reply_after(&self, console: &[u8], body: &[u8]) {
        let p = crate::framing::packet(body);
        *self.shared.last.borrow_mut() = p.clone();
        let mut bytes = Vec::with_capacity(p.len() + 1);
        if !self.no_ack {
            bytes.push(b'+');
        }
        if !console.is_empty() {
            bytes.extend(console_packet(console));
        }
        bytes.extend(p);
        let _ = self.tx.send(Out::Bytes(bytes));
    }
}

/// How a session ended.
enum End {
    /// `D`: the debugger detached.
    Detach,
    /// The socket closed, or the protocol failed.
    Lost,
    /// `k`.
    Kill,
    /// The firmware exited while attached.
    Exited(i32),
}

/// The machine thread's state.
pub struct Server<'l> {
    pub(crate) target: GdbTarget,
    events: Receiver<NetEvent>,
    limits: &'l Limits<'l>,
    session: Option<Session>,
    /// Without a session: the machine runs (else it is halted, waiting for a debugger).
    running_free: bool,
    slice: u64,
}

impl<'l> Server<'l> {
    /// A server for `target`; `wait`: start halted.
    pub fn new(
        target: GdbTarget,
        events: Receiver<NetEvent>,
        limits: &'l Limits<'l>,
        wait: bool,
    ) -> Server<'l> {
        Server {
            target,
            events,
            limits,
            session: None,
            running_free: !wait,
            slice: 100_000,
        }
    }

    /// Serve until the firmware exits, the debugger kills it, or a limit is reached.
    pub fn run(self) -> (GdbTarget, Outcome) {
        let (target, outcome, _) = self.run_counting();
        (target, outcome)
    }

    /// [`Server::run`], also returning how many network events were still queued when it
    /// ended (for scripted sessions: 0 means the server consumed the whole script).
    pub(crate) fn run_counting(mut self) -> (GdbTarget, Outcome, usize) {
        let outcome = self.main_loop();
        if let Some(s) = self.session.take() {
            let _ = s.tx.send(Out::Close);
        }
        self.target.tap.set_enabled(false);
        let left = self.events.try_iter().count();
        (self.target, outcome, left)
    }

    fn main_loop(&mut self) -> Outcome {
        loop {
            if let Some(o) = self.check_limits() {
                return o;
            }
            if self.busy() {
                if let Some(o) = self.run_slice() {
                    return o;
                }
                loop {
                    match self.events.try_recv() {
                        Ok(ev) => {
                            if let Some(o) = self.handle(ev) {
                                return o;
                            }
                        }
                        Err(TryRecvError::Empty) => break,
                        Err(TryRecvError::Disconnected) => {
                            return Outcome::Interrupted(KILL_SIGNAL)
                        }
                    }
                }
            } else {
                match self.events.recv_timeout(IDLE_POLL) {
                    Ok(ev) => {
                        if let Some(o) = self.handle(ev) {
                            return o;
                        }
                    }
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => {
                        return Outcome::Interrupted(KILL_SIGNAL)
                    }
                }
            }
        }
    }

    fn check_limits(&self) -> Option<Outcome> {
        let l = self.limits;
        if let Some(flag) = l.stop {
            let v = flag.load(std::sync::atomic::Ordering::Relaxed);
            if v != 0 {
                return Some(Outcome::Interrupted(v));
            }
        }
        if l.deadline.is_some_and(|d| Instant::now() >= d) {
            return Some(Outcome::Timeout);
        }
        let n = self.target.m.instructions();
        if l.max_instructions.is_some_and(|max| n >= max) {
            return Some(Outcome::InstructionLimit(n));
        }
        None
    }

    /// Is the machine supposed to be running?
    fn busy(&self) -> bool {
        match &self.session {
            None => self.running_free,
            Some(s) => match s.gdb {
                Some(GdbStubStateMachine::Running(_)) => true,
                Some(GdbStubStateMachine::Idle(_)) => self.target.free_run,
                _ => false,
            },
        }
    }

    /// Run one slice: for the debugger's resume request, or free-running without one.
    fn run_slice(&mut self) -> Option<Outcome> {
        let mut budget = self.slice;
        if let Some(max) = self.limits.max_instructions {
            budget = budget.min(max.saturating_sub(self.target.m.instructions()).max(1));
        }
        let t0 = Instant::now();
        // Without a session, or after `monitor resume` (GDB is not waiting for a stop).
        let free = self.session.is_none() || self.target.free_run;
        if free {
            self.target.resume = Some(crate::target::Resume::Continue);
        }
        let stop = self.target.exec(budget);
        self.adapt_slice(t0.elapsed());
        if free && self.session.is_some() {
            // GDB is not waiting: its console shows nothing until it resumes the target.
            self.target.resume = None;
            let _ = self.target.tap.take();
            let stop = stop?;
            self.target.free_run = false;
            if let Some(code) = stop.exit {
                return Some(Outcome::Exited(code));
            }
            eprintln!(
                "{}\narmlet: the core is halted (it was running without the debugger waiting for it: monitor resume, go or reset run)",
                stop.note.unwrap_or_else(|| "armlet: stopped".into()),
            );
            return None;
        }
        if free {
            self.target.resume = None;
            let stop = stop?;
            if let Some(code) = stop.exit {
                return Some(Outcome::Exited(code));
            }
            self.running_free = false;
            eprintln!(
                "{}\narmlet: the core is halted; a debugger can attach to it at {}",
                stop.note.unwrap_or_else(|| "armlet: stopped".into()),
                self.target.listen
            );
            eprintln!("{}", self.target.m.state_report());
            return None;
        }
        self.flush_console();
        match stop {
            Some(stop) => self.report(stop),
            None => None,
        }
    }

    fn adapt_slice(&mut self, took: Duration) {
        if took < SLICE_TARGET / 2 {
            self.slice = (self.slice * 2).min(MAX_SLICE);
        } else if took > SLICE_TARGET * 2 {
            self.slice = (self.slice / 2).max(MIN_SLICE);
        }
    }

    /// Send console output as `O` packets (only while GDB waits for a stop reply).
    fn flush_console(&mut self) {
        let out = self.target.tap.take();
        if out.is_empty() {
            return;
        }
        if let Some(s) = &self.session {
            if matches!(s.gdb, Some(GdbStubStateMachine::Running(_))) {
                for chunk in out.chunks(1024) {
                    let _ = s.tx.send(Out::Bytes(console_packet(chunk)));
                }
            }
        }
    }

    /// Tell GDB the target stopped.
    fn report(&mut self, stop: Stopped) -> Option<Outcome> {
        let Stopped { reason, note, exit } = stop;
        let outcome = self.report_to_gdb(reason, note);
        // The firmware exited: armlet ends with its status even if GDB is gone already.
        match exit {
            Some(code) => Some(outcome.unwrap_or(Outcome::Exited(code))),
            None => outcome,
        }
    }

    fn report_to_gdb(
        &mut self,
        reason: SingleThreadStopReason<u32>,
        note: Option<String>,
    ) -> Option<Outcome> {
        let s = self.session.as_mut()?;
        if let Some(note) = &note {
            let _ =
                s.tx.send(Out::Bytes(console_packet(format!("{note}\n").as_bytes())));
        }
        let Some(GdbStubStateMachine::Running(gdb)) = s.gdb.take() else {
            return None;
        };
        // Every register goes with the stop reply, so GDB needs no `g` round trip; that
        // takes a T packet, so plain signals (and "step done", a SIGTRAP) name the thread.
        let reason = match reason {
            SingleThreadStopReason::DoneStep => SingleThreadStopReason::SignalWithThread {
                tid: (),
                signal: Signal::SIGTRAP,
            },
            SingleThreadStopReason::Signal(signal) => {
                SingleThreadStopReason::SignalWithThread { tid: (), signal }
            }
            other => other,
        };
        let regs = self.target.regs();
        // The core registers are expedited; GDB asks for the FP ones when it needs them.
        let values: Vec<_> = CortexMRegId::ALL
            .iter()
            .filter(|id| !id.is_fp())
            .map(|&id| (id, id.value(&regs)))
            .collect();
        let mut it = values.iter().map(|(id, (b, n))| (*id, &b[..*n]));
        let next = gdb.report_stop_with_regs(&mut self.target, reason, &mut it);
        self.settle(next, false)
    }

    fn handle(&mut self, ev: NetEvent) -> Option<Outcome> {
        match ev {
            NetEvent::Connected { id, tx, peer } => {
                if self.session.is_some() {
                    let _ = tx.send(Out::Bytes(crate::net::refusal()));
                    let _ = tx.send(Out::Close);
                    return None;
                }
                self.attach(id, tx, peer);
                None
            }
            NetEvent::Data { id, bytes } => {
                let s = self.session.as_mut().filter(|s| s.id == id)?;
                // Running after `monitor resume`: the debugger's next packet halts it.
                self.target.free_run = false;
                let mut frames = Vec::new();
                s.framer.push(&bytes, &mut frames);
                self.feed(frames)
            }
            NetEvent::Closed { id } => {
                if self.session.as_ref().is_some_and(|s| s.id == id) {
                    return self.end(End::Lost);
                }
                None
            }
        }
    }

    fn attach(&mut self, id: u64, tx: UnboundedSender<Out>, peer: String) {
        let shared = Rc::new(Shared::default());
        match new_stub(&tx, &shared, &mut self.target) {
            Ok(gdb) => {
                tracing::info!("gdb: debugger connected from {peer}");
                self.target.resume = None;
                self.target.tap.set_enabled(true);
                self.target.m.mem.scs.debugger_attached = true;
                self.session = Some(Session {
                    id,
                    peer,
                    gdb: Some(gdb),
                    framer: Framer::new(PACKET_SIZE),
                    tx,
                    no_ack: false,
                    qsupported: None,
                    plain_kill: false,
                    shared,
                });
            }
            Err(e) => {
                tracing::warn!("gdb: cannot start a session: {e}");
                let _ = tx.send(Out::Close);
            }
        }
    }

    /// Feed whole frames to the stub. Some never reach it: gdbstub ends the session on a
    /// `-` and on a command it cannot parse, so `-` is answered here (the last packet
    /// again; ignored without acknowledgements), and so are `p`/`P` (`crate::registers`).
    /// Any other command the stub fails on while halted is answered `E16` by a new stub
    /// (`restart_stub`); while the target runs, a failure still ends the session.
    fn feed(&mut self, frames: Vec<Frame>) -> Option<Outcome> {
        for frame in frames {
            let s = self.session.as_mut()?;
            let bytes = match frame {
                Frame::Packet(p) => crate::framing::clamp_memory_read(p, MAX_MEMORY_READ),
                Frame::Interrupt => vec![0x03],
                Frame::Ack => vec![b'+'],
                Frame::Nack => {
                    let last = s.shared.last.borrow().clone();
                    if !s.no_ack && !last.is_empty() {
                        let _ = s.tx.send(Out::Bytes(last));
                    }
                    continue;
                }
                Frame::Rejected => {
                    if !s.no_ack {
                        let _ = s.tx.send(Out::Bytes(vec![b'-']));
                    }
                    continue;
                }
            };
            let stub_reads = matches!(
                s.gdb,
                Some(GdbStubStateMachine::Idle(_) | GdbStubStateMachine::Running(_))
            );
            if stub_reads && bytes.first() == Some(&b'$') && bytes.len() >= 4 {
                let body = &bytes[1..bytes.len() - 3];
                if let Some(reply) = crate::registers::reply(&mut self.target, body) {
                    s.reply(&reply);
                    continue;
                }
                if let Some(msg) = crate::monitor::rejected(body) {
                    // GDB prints the text, then fails the command ("Protocol error with
                    // Rcmd"), so a script stops here.
                    s.reply_after(format!("{msg}\n").as_bytes(), b"E01");
                    continue;
                }
                if let Some(reply) = crate::memory_map::region_info(&self.target.m, body) {
                    s.reply(&reply);
                    continue;
                }
            }
            let no_ack = bytes.starts_with(b"$QStartNoAckMode#");
            s.plain_kill = bytes.starts_with(b"$k#");
            let mut qsupported = bytes.starts_with(b"$qSupported").then(|| bytes.clone());
            for b in bytes {
                let s = self.session.as_mut()?;
                let from_idle = matches!(s.gdb, Some(GdbStubStateMachine::Idle(_)));
                let r = match s.gdb.take() {
                    Some(GdbStubStateMachine::Idle(g)) => g.incoming_data(&mut self.target, b),
                    Some(GdbStubStateMachine::Running(g)) => g.incoming_data(&mut self.target, b),
                    other => {
                        s.gdb = other;
                        continue;
                    }
                };
                let r = match r {
                    // A command gdbstub could not parse or handle, while halted: answer it
                    // with an error and go on with a new stub rather than end the session.
                    Err(e) if from_idle && !e.is_connection_error() => {
                        tracing::warn!("gdb: {e}; answering E16 and going on");
                        qsupported = None;
                        if let Some(o) = self.restart_stub() {
                            return Some(o);
                        }
                        continue;
                    }
                    r => r,
                };
                if let Some(o) = self.settle(r, from_idle) {
                    return Some(o);
                }
            }
            if let (Some(q), Some(s)) = (qsupported, self.session.as_mut()) {
                s.qsupported = Some(q);
            }
            if no_ack {
                if let Some(s) = self.session.as_mut() {
                    s.no_ack = true;
                }
            }
        }
        None
    }

    /// Replace a session's failed stub with a new one (idle), told the debugger's
    /// `qSupported` and `QStartNoAckMode` again with its answers dropped, and answer the
    /// failed command `E16`.
    fn restart_stub(&mut self) -> Option<Outcome> {
        let s = self.session.as_mut()?;
        let mut replay = Vec::new();
        if let Some(q) = &s.qsupported {
            replay.push(q.clone());
        }
        if s.no_ack {
            replay.push(crate::framing::packet(b"QStartNoAckMode"));
        }
        s.shared.mute.set(true);
        let mut gdb = new_stub(&s.tx, &s.shared, &mut self.target);
        for b in replay.concat() {
            gdb = match gdb {
                Ok(GdbStubStateMachine::Idle(g)) => g
                    .incoming_data(&mut self.target, b)
                    .map_err(|e| format!("{e:?}")),
                Ok(_) => Err("the restarted stub is not idle".into()),
                Err(e) => Err(e),
            };
        }
        s.shared.mute.set(false);
        match gdb {
            Ok(g @ GdbStubStateMachine::Idle(_)) => {
                s.gdb = Some(g);
                s.reply(crate::registers::E_MALFORMED);
                None
            }
            Ok(_) => self.end(End::Lost),
            Err(e) => {
                tracing::warn!("gdb: cannot restart the protocol engine: {e}");
                self.end(End::Lost)
            }
        }
    }

    /// Put the stub's new state in place, resolving interrupts and disconnections.
    fn settle<E: std::fmt::Debug>(
        &mut self,
        next: Result<Stub, E>,
        from_idle: bool,
    ) -> Option<Outcome> {
        let mut next = match next {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!("gdb: protocol error, closing the connection: {e:?}");
                return self.end(End::Lost);
            }
        };
        loop {
            match next {
                GdbStubStateMachine::CtrlCInterrupt(g) => {
                    self.target.resume = None;
                    let reason =
                        (!from_idle).then_some(SingleThreadStopReason::Signal(Signal::SIGINT));
                    match g.interrupt_handled(&mut self.target, reason) {
                        Ok(n) => next = n,
                        Err(e) => {
                            tracing::warn!("gdb: protocol error: {e:?}");
                            return self.end(End::Lost);
                        }
                    }
                }
                GdbStubStateMachine::Disconnected(g) => {
                    let end = match g.get_reason() {
                        DisconnectReason::Disconnect => End::Detach,
                        DisconnectReason::Kill => End::Kill,
                        DisconnectReason::TargetExited(c) => End::Exited(i32::from(c)),
                        DisconnectReason::TargetTerminated(_) => End::Kill,
                    };
                    return self.end(end);
                }
                other => {
                    if let Some(s) = self.session.as_mut() {
                        s.gdb = Some(other);
                    }
                    return None;
                }
            }
        }
    }

    /// The session is over.
    fn end(&mut self, how: End) -> Option<Outcome> {
        let s = self.session.take()?;
        let was_running =
            matches!(s.gdb, Some(GdbStubStateMachine::Running(_))) || self.target.free_run;
        self.target.free_run = false;
        if matches!(how, End::Kill) {
            // `vKill` wants an answer (gdbstub gives none outside extended mode); after `k`
            // GDB reads none and LLDB wants the exit status (killed by signal 9).
            let reply: &[u8] = if s.plain_kill { b"X09" } else { b"OK" };
            let _ = s.tx.send(Out::Bytes(crate::framing::packet(reply)));
        }
        let _ = s.tx.send(Out::Close);
        self.target.tap.set_enabled(false);
        self.target.m.mem.scs.debugger_attached = false;
        self.target.clear_debug();
        self.target.resume = None;
        match how {
            End::Detach => {
                self.running_free = self.target.on_detach == OnDetach::Run;
                eprintln!(
                    "armlet: debugger at {} detached; the target {}",
                    s.peer,
                    if self.running_free {
                        "runs on"
                    } else {
                        "stays halted"
                    }
                );
                None
            }
            End::Lost => {
                self.running_free = was_running;
                eprintln!(
                    "armlet: debugger at {} disconnected; the target {}",
                    s.peer,
                    if self.running_free {
                        "runs on"
                    } else {
                        "stays halted"
                    }
                );
                None
            }
            End::Kill => {
                eprintln!("armlet: killed by the debugger");
                Some(Outcome::Interrupted(KILL_SIGNAL))
            }
            End::Exited(code) => Some(Outcome::Exited(code)),
        }
    }
}

/// A stub for a new session (or a restarted one) on the connection `tx`.
fn new_stub(
    tx: &UnboundedSender<Out>,
    shared: &Rc<Shared>,
    target: &mut GdbTarget,
) -> Result<Stub, String> {
    let conn = Conn {
        tx: tx.clone(),
        buf: Vec::new(),
        shared: shared.clone(),
    };
    GdbStub::builder(conn)
        .packet_buffer_size(PACKET_SIZE)
        .build()
        .map_err(|e| format!("{e:?}"))
        .and_then(|stub| stub.run_state_machine(target).map_err(|e| format!("{e:?}")))
}
