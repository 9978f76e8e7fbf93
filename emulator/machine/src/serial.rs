//! Serial backends for UARTs: `stdio` (the console), `null`, `file:PATH`, `pipe:PATH`,
//! `tcp:HOST:PORT` (a server), `tcp-client:HOST:PORT`.
//!
//! The TCP bridge runs on a small `tokio` runtime of its own thread: it listens (127.0.0.1
//! unless a host is given), serves one client at a time, and exchanges bytes with the
//! machine thread through channels, so the machine never blocks on the network. Output
//! written while no client is connected is kept (up to 1 MiB) and sent when one connects.

use crate::device::{NullSerial, Rx, Serial};
use crate::machine::SerialFactory;
use crate::semihosting::SharedConsole;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::mpsc;

/// A parsed `--serial` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SerialSpec {
    /// The console (stdout/stdin, or the test runner's capture).
    Stdio,
    /// Nothing.
    Null,
    /// Append output to a file (created if missing); no input.
    File(PathBuf),
    /// QEMU's `pipe:PATH`: `PATH.in` (input) and `PATH.out` (output) when both exist, else
    /// `PATH` both ways; opened read-write, as QEMU does, so FIFOs never block the open.
    Pipe(PathBuf),
    /// A TCP client of this HOST:PORT (QEMU's `-chardev socket,server=off`, which defmt's
    /// qemu-run uses), connected when the machine is built.
    TcpClient(String),
    /// A TCP server on this address; with `wait`, the run starts only once a client is
    /// connected.
    Tcp {
        /// HOST:PORT.
        addr: String,
        /// Wait for a client before the run starts.
        wait: bool,
    },
}

impl SerialSpec {
    /// Parse `stdio`, `null`, `file:PATH` or `tcp:[HOST]:PORT`.
    pub fn parse(s: &str) -> Result<SerialSpec, String> {
        match s {
            "stdio" | "mon:stdio" => return Ok(SerialSpec::Stdio),
            "null" | "none" => return Ok(SerialSpec::Null),
            _ => {}
        }
        if let Some(p) = s.strip_prefix("file:") {
            if p.is_empty() {
                return Err("file: needs a path (file:PATH)".into());
            }
            return Ok(SerialSpec::File(p.into()));
        }
        if let Some(p) = s.strip_prefix("pipe:") {
            if p.is_empty() {
                return Err("pipe: needs a path (pipe:PATH)".into());
            }
            return Ok(SerialSpec::Pipe(p.into()));
        }
        if let Some(a) = s.strip_prefix("tcp-client:") {
            let (host, port) = a
                .rsplit_once(':')
                .filter(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok())
                .ok_or_else(|| format!("tcp-client:{a}: expected tcp-client:HOST:PORT"))?;
            return Ok(SerialSpec::TcpClient(format!("{host}:{port}")));
        }
        if let Some(a) = s.strip_prefix("tcp:") {
            // QEMU-style options after the address: `server` (armlet always serves), and
            // `wait`/`nowait`/`wait=on|off`; a QEMU `server` waits unless told not to.
            let mut parts = a.split(',');
            let addr = parts.next().unwrap_or_default();
            let mut server = false;
            let mut wait = None;
            for o in parts {
                match o {
                    "server" | "server=on" => server = true,
                    "wait" | "wait=on" => wait = Some(true),
                    "nowait" | "wait=off" => wait = Some(false),
                    "nodelay" | "nodelay=on" => {}
                    other => return Err(format!("tcp:{a}: unknown option '{other}'")),
                }
            }
            let (host, port) = addr
                .rsplit_once(':')
                .ok_or_else(|| format!("tcp:{a}: expected tcp:[HOST]:PORT"))?;
            let port: u16 = port
                .parse()
                .map_err(|_| format!("tcp:{a}: '{port}' is not a port number"))?;
            let host = if host.is_empty() { "127.0.0.1" } else { host };
            return Ok(SerialSpec::Tcp {
                addr: format!("{host}:{port}"),
                wait: wait.unwrap_or(server),
            });
        }
        Err(format!(
            "unknown serial backend '{s}' (expected stdio, null, file:PATH, pipe:PATH, tcp:[HOST]:PORT or tcp-client:HOST:PORT)"
        ))
    }
}

impl SerialFactory for SerialSpec {
    fn open(&self, console: &SharedConsole) -> Box<dyn Serial> {
        match self {
            SerialSpec::Stdio => Box::new(console.clone()),
            SerialSpec::Null => Box::new(NullSerial),
            SerialSpec::File(p) => {
                match std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
                {
                    Ok(f) => Box::new(FileSerial(f)),
                    Err(e) => {
                        tracing::error!("serial file {}: {e}; output dropped", p.display());
                        Box::new(NullSerial)
                    }
                }
            }
            SerialSpec::Pipe(p) => match PipeSerial::open(p) {
                Ok(s) => Box::new(s),
                Err(e) => {
                    tracing::error!("serial pipe:{}: {e}; output dropped", p.display());
                    Box::new(NullSerial)
                }
            },
            SerialSpec::TcpClient(addr) => match StreamSerial::connect(addr) {
                Ok(s) => Box::new(s),
                Err(e) => {
                    tracing::error!("serial tcp-client:{addr}: {e}; output dropped");
                    Box::new(NullSerial)
                }
            },
            SerialSpec::Tcp { addr, wait } => match TcpSerial::listen(addr) {
                Ok(t) => {
                    if *wait {
                        eprintln!("armlet: waiting for a client on tcp:{}", t.local_addr);
                        t.wait_for_client();
                    }
                    Box::new(t)
                }
                Err(e) => {
                    tracing::error!("serial tcp:{addr}: {e}; output dropped");
                    Box::new(NullSerial)
                }
            },
        }
    }
    fn clone_box(&self) -> Box<dyn SerialFactory> {
        Box::new(self.clone())
    }
}

/// Output to a file, written through (flushed) at every write.
#[derive(Debug)]
pub(crate) struct FileSerial(pub(crate) std::fs::File);

impl Serial for FileSerial {
    fn write(&mut self, bytes: &[u8]) {
        let _ = self.0.write_all(bytes).and_then(|_| self.0.flush());
    }
    fn read(&mut self) -> Rx {
        Rx::Eof
    }
}

/// A UART whose output is written through to `W` and whose input a thread of its own reads
/// (so the run loop never blocks): the `pipe:PATH` and `tcp-client:` backends.
#[derive(Debug)]
pub struct ThreadedSerial<W> {
    out: W,
    rx: mpsc::Receiver<u8>,
}

/// `pipe:PATH`: a pair of FIFOs, as QEMU's pipe chardev.
pub type PipeSerial = ThreadedSerial<std::fs::File>;
/// `tcp-client:HOST:PORT`: a TCP connection armlet opened.
pub type StreamSerial = ThreadedSerial<std::net::TcpStream>;

impl<W> ThreadedSerial<W> {
    /// Start a thread named `name` that feeds what `input` reads to the UART.
    fn start(
        out: W,
        name: String,
        mut input: impl std::io::Read + Send + 'static,
    ) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::sync_channel::<u8>(1 << 16);
        std::thread::Builder::new().name(name).spawn(move || {
            let mut buf = [0u8; 1024];
            // A FIFO held open for writing too never reads end of file: the thread then
            // ends with the process.
            while let Ok(n @ 1..) = input.read(&mut buf) {
                if buf[..n].iter().any(|&b| tx.send(b).is_err()) {
                    return;
                }
            }
        })?;
        Ok(ThreadedSerial { out, rx })
    }
}

impl ThreadedSerial<std::fs::File> {
    /// The (input, output) paths for `pipe:PATH`, as QEMU picks them.
    pub fn paths(path: &std::path::Path) -> (PathBuf, PathBuf) {
        let with = |ext: &str| {
            let mut p = path.as_os_str().to_owned();
            p.push(ext);
            PathBuf::from(p)
        };
        let (i, o) = (with(".in"), with(".out"));
        if i.exists() && o.exists() {
            (i, o)
        } else {
            (path.to_path_buf(), path.to_path_buf())
        }
    }

    /// Open the pipes (they must exist) and start reading the input.
    pub fn open(path: &std::path::Path) -> std::io::Result<PipeSerial> {
        let (i, o) = Self::paths(path);
        let rw = |p: &PathBuf| std::fs::OpenOptions::new().read(true).write(true).open(p);
        let out = rw(&o)?;
        let input = rw(&i)?;
        Self::start(out, "serial-pipe".into(), input)
    }
}

impl ThreadedSerial<std::net::TcpStream> {
    /// Connect to `addr` (HOST:PORT) and start reading.
    pub fn connect(addr: &str) -> std::io::Result<StreamSerial> {
        let out = std::net::TcpStream::connect(addr)?;
        let _ = out.set_nodelay(true);
        let input = out.try_clone()?;
        let s = Self::start(out, format!("serial-tcp-client-{addr}"), input)?;
        tracing::info!("serial: connected to tcp:{addr}");
        Ok(s)
    }
}

impl<W: std::io::Write + Send + std::fmt::Debug> Serial for ThreadedSerial<W> {
    fn write(&mut self, bytes: &[u8]) {
        let _ = self.out.write_all(bytes).and_then(|_| self.out.flush());
    }
    fn read(&mut self) -> Rx {
        match self.rx.try_recv() {
            Ok(b) => Rx::Byte(b),
            Err(mpsc::TryRecvError::Empty) => Rx::Empty,
            Err(mpsc::TryRecvError::Disconnected) => Rx::Eof,
        }
    }
}

/// A UART bridged to a TCP socket.
#[derive(Debug)]
pub struct TcpSerial {
    tx: Option<tokio::sync::mpsc::UnboundedSender<Vec<u8>>>,
    rx: mpsc::Receiver<u8>,
    /// The address actually bound (useful with port 0).
    pub local_addr: std::net::SocketAddr,
    connected: mpsc::Receiver<()>,
    done: mpsc::Receiver<()>,
}

impl TcpSerial {
    /// Listen on `addr`; returns once the socket is bound.
    pub fn listen(addr: &str) -> std::io::Result<TcpSerial> {
        let std_listener = std::net::TcpListener::bind(addr)?;
        std_listener.set_nonblocking(true)?;
        let local_addr = std_listener.local_addr()?;
        let (out_tx, mut out_rx) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
        let (in_tx, in_rx) = mpsc::sync_channel::<u8>(1 << 16);
        let (conn_tx, conn_rx) = mpsc::sync_channel::<()>(16);
        let (done_tx, done_rx) = mpsc::sync_channel::<()>(1);
        tracing::info!("serial: listening on tcp:{local_addr}");
        std::thread::Builder::new()
            .name(format!("serial-tcp-{local_addr}"))
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_io()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        tracing::error!("serial tcp: cannot start runtime: {e}");
                        return;
                    }
                };
                let _done = done_tx; // dropped when the bridge ends: the output is flushed
                rt.block_on(async move {
                    use tokio::io::{AsyncReadExt, AsyncWriteExt};
                    let Ok(listener) = tokio::net::TcpListener::from_std(std_listener) else {
                        return;
                    };
                    let mut pending: Vec<u8> = Vec::new();
                    loop {
                        // No client: keep output (bounded) until one connects.
                        let (mut sock, peer) = loop {
                            tokio::select! {
                                acc = listener.accept() => match acc {
                                    Ok(x) => break x,
                                    Err(_) => continue,
                                },
                                msg = out_rx.recv() => match msg {
                                    Some(b) => {
                                        pending.extend_from_slice(&b);
                                        let over = pending.len().saturating_sub(1 << 20);
                                        pending.drain(..over);
                                    }
                                    None => return,
                                },
                            }
                        };
                        tracing::info!("serial: client {peer} connected");
                        let _ = conn_tx.try_send(());
                        if !pending.is_empty() && sock.write_all(&pending).await.is_err() {
                            continue;
                        }
                        pending.clear();
                        let mut buf = [0u8; 1024];
                        loop {
                            tokio::select! {
                                n = sock.read(&mut buf) => match n {
                                    Ok(0) | Err(_) => break,
                                    Ok(n) => {
                                        for &b in &buf[..n] {
                                            if in_tx.send(b).is_err() {
                                                return;
                                            }
                                        }
                                    }
                                },
                                msg = out_rx.recv() => match msg {
                                    Some(b) => {
                                        if sock.write_all(&b).await.is_err() {
                                            pending.extend_from_slice(&b);
                                            break;
                                        }
                                    }
                                    None => {
                                        let _ = sock.flush().await;
                                        return;
                                    }
                                },
                            }
                        }
                        tracing::info!("serial: client {peer} disconnected");
                    }
                });
            })?;
        Ok(TcpSerial {
            tx: Some(out_tx),
            rx: in_rx,
            local_addr,
            connected: conn_rx,
            done: done_rx,
        })
    }

    /// Block until a client connects.
    pub fn wait_for_client(&self) {
        let _ = self.connected.recv();
    }
}

impl Drop for TcpSerial {
    fn drop(&mut self) {
        // Close the output channel and give the bridge a moment to deliver what is queued to
        // a connected client.
        self.tx = None;
        let _ = self.done.recv_timeout(std::time::Duration::from_secs(2));
    }
}

impl Serial for TcpSerial {
    fn write(&mut self, bytes: &[u8]) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(bytes.to_vec());
        }
    }
    fn read(&mut self) -> Rx {
        match self.rx.try_recv() {
            Ok(b) => Rx::Byte(b),
            Err(mpsc::TryRecvError::Empty) => Rx::Empty,
            Err(mpsc::TryRecvError::Disconnected) => Rx::Eof,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn parse_specs() {
        assert_eq!(
            SerialSpec::parse("pipe:/tmp/f"),
            Ok(SerialSpec::Pipe("/tmp/f".into()))
        );
        assert!(SerialSpec::parse("pipe:").is_err());
        assert_eq!(
            SerialSpec::parse("tcp-client:localhost:4444"),
            Ok(SerialSpec::TcpClient("localhost:4444".into()))
        );
        assert!(SerialSpec::parse("tcp-client::4444").is_err());
        assert_eq!(SerialSpec::parse("stdio"), Ok(SerialSpec::Stdio));
        assert_eq!(SerialSpec::parse("null"), Ok(SerialSpec::Null));
        assert_eq!(
            SerialSpec::parse("tcp::4444,server,nowait"),
            Ok(SerialSpec::Tcp {
                addr: "127.0.0.1:4444".into(),
                wait: false
            })
        );
        assert_eq!(
            SerialSpec::parse("tcp:0.0.0.0:5555,server"),
            Ok(SerialSpec::Tcp {
                addr: "0.0.0.0:5555".into(),
                wait: true
            })
        );
        assert_eq!(
            SerialSpec::parse("tcp::1,wait"),
            Ok(SerialSpec::Tcp {
                addr: "127.0.0.1:1".into(),
                wait: true
            })
        );
        assert_eq!(
            SerialSpec::parse("file:/tmp/x"),
            Ok(SerialSpec::File("/tmp/x".into()))
        );
        assert!(SerialSpec::parse("tcp:host").is_err());
        assert!(SerialSpec::parse("pty")
            .unwrap_err()
            .contains("unknown serial backend"));
    }

    #[test]
    fn tcp_bridge_keeps_output_until_a_client_connects_and_carries_input() {
        let mut s = TcpSerial::listen("127.0.0.1:0").unwrap();
        s.write(b"before ");
        let mut c = std::net::TcpStream::connect(s.local_addr).unwrap();
        s.write(b"after");
        let mut got = vec![0u8; 12];
        c.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"before after");
        c.write_all(b"hi").unwrap();
        let mut rx = Vec::new();
        let t0 = std::time::Instant::now();
        while rx.len() < 2 && t0.elapsed().as_secs() < 5 {
            match s.read() {
                Rx::Byte(b) => rx.push(b),
                _ => std::thread::sleep(std::time::Duration::from_millis(5)),
            }
        }
        assert_eq!(rx, b"hi");
    }
}
