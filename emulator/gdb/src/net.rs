//! The socket side, on tokio: accept connections, pass bytes to the machine thread, write
//! what it sends back. One debugger at a time; a second one is refused with a message.

use crate::framing::packet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

/// From the network to the machine thread.
#[derive(Debug)]
pub enum NetEvent {
    /// A debugger connected; bytes for it go to `tx`.
    Connected {
        /// Connection number.
        id: u64,
        /// Where to send bytes for this connection.
        tx: UnboundedSender<Out>,
        /// The peer, for messages.
        peer: String,
    },
    /// Bytes arrived.
    Data {
        /// Connection number.
        id: u64,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// The connection is gone.
    Closed {
        /// Connection number.
        id: u64,
    },
}

/// From the machine thread to a connection.
#[derive(Debug)]
pub enum Out {
    /// Write these bytes.
    Bytes(Vec<u8>),
    /// Close the connection (after writing what came before).
    Close,
}

/// How long a new connection waits for the previous session to finish closing before it is
/// refused (a debugger that detaches and reconnects at once).
const CLAIM_WAIT: Duration = Duration::from_millis(500);

/// The refusal a second debugger sees.
pub const BUSY: &str =
    "armlet: another debugger is already connected to this target (one at a time)";

/// Accept connections until `shutdown` fires; then wait briefly for connections to finish
/// writing.
pub async fn serve(
    listener: std::net::TcpListener,
    events: mpsc::Sender<NetEvent>,
    shutdown: tokio::sync::oneshot::Receiver<()>,
) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let active = Arc::new(AtomicBool::new(false));
    let mut tasks = tokio::task::JoinSet::new();
    let mut next_id = 0u64;
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            r = listener.accept() => match r {
                Ok((sock, peer)) => {
                    let _ = sock.set_nodelay(true);
                    next_id += 1;
                    tasks.spawn(connection(next_id, sock, peer.to_string(), events.clone(), active.clone()));
                }
                Err(e) => {
                    tracing::warn!("gdb: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    Ok(())
}

async fn connection(
    id: u64,
    mut sock: TcpStream,
    peer: String,
    events: mpsc::Sender<NetEvent>,
    active: Arc<AtomicBool>,
) {
    let claimed = async {
        let start = tokio::time::Instant::now();
        loop {
            if active
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                return true;
            }
            if start.elapsed() >= CLAIM_WAIT {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    if !claimed.await {
        refuse(sock, &peer).await;
        return;
    }
    let (tx, rx) = unbounded_channel();
    if events
        .send(NetEvent::Connected {
            id,
            tx,
            peer: peer.clone(),
        })
        .is_ok()
    {
        pump(id, &mut sock, rx, &events).await;
    }
    let _ = sock.shutdown().await;
    let _ = events.send(NetEvent::Closed { id });
    active.store(false, Ordering::Release);
}

/// Move bytes both ways until either side is done.
async fn pump(
    id: u64,
    sock: &mut TcpStream,
    mut rx: UnboundedReceiver<Out>,
    events: &mpsc::Sender<NetEvent>,
) {
    let (mut rd, mut wr) = sock.split();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        tokio::select! {
            r = rd.read(&mut buf) => match r {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if events.send(NetEvent::Data { id, bytes: buf[..n].to_vec() }).is_err() {
                        break;
                    }
                }
            },
            out = rx.recv() => match out {
                Some(Out::Bytes(b)) => {
                    if wr.write_all(&b).await.is_err() {
                        break;
                    }
                }
                Some(Out::Close) | None => break,
            },
        }
    }
    // Whatever was queued before the close is still written.
    while let Ok(Out::Bytes(b)) = rx.try_recv() {
        if wr.write_all(&b).await.is_err() {
            break;
        }
    }
    let _ = wr.flush().await;
}

/// Tell a second debugger that the target is taken: answer each of its packets (for up to
/// two seconds, or until it hangs up) with an error carrying the message, then close. GDB
/// shows it ("Remote failure reply: E.armlet: another debugger ...") and gives up on the
/// connection; a console `O` packet here would break its `qSupported` exchange instead.
async fn refuse(mut sock: TcpStream, peer: &str) {
    tracing::warn!("gdb: refused a second debugger from {peer}: one is already connected");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    let mut buf = [0u8; 4096];
    let mut pending = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let n = match tokio::time::timeout(left, sock.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => n,
            _ => break,
        };
        pending.extend_from_slice(&buf[..n]);
        let mut reply = Vec::new();
        while let Some(start) = pending.iter().position(|&b| b == b'$') {
            let Some(hash) = pending[start..].iter().position(|&b| b == b'#') else {
                break;
            };
            let end = start + hash + 3;
            if pending.len() < end {
                break;
            }
            pending.drain(..end);
            reply.push(b'+');
            reply.extend(refusal());
        }
        if pending.len() > 64 * 1024 {
            break;
        }
        if !reply.is_empty() && sock.write_all(&reply).await.is_err() {
            break;
        }
    }
    let _ = sock.shutdown().await;
}

/// The error packet a refused debugger gets for each of its packets.
pub fn refusal() -> Vec<u8> {
    packet(format!("E.{BUSY}").as_bytes())
}
