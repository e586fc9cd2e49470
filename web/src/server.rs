//! The accept loop behind [`crate::serve`]: hyper's HTTP/1 connections, with the bounds
//! that `axum::serve` does not set, so that a slow or hostile client holds little for
//! long:
//!
//! - a request's headers must arrive within [`Limits::header_read`] of the connection
//!   becoming ready for them: at its start, and after each answer on a kept-alive one
//!   (hyper starts that timer as the connection waits for a request, so the same bound
//!   also closes idle kept-alive connections);
//! - a request's body must keep up a minimum rate (see [`crate::body`]);
//! - an answer whose client stops reading for [`Limits::write_stall`] is dropped (a live
//!   session's event stream writes at least every 15 s, and is only ever stalled by a
//!   client that stopped reading);
//! - one client address holds at most [`Limits::per_ip`] connections at once (an IPv6
//!   client counts per /64, what one host usually gets); more are answered 429 and
//!   closed.
//!
//! Shutdown is graceful: no new connections, the answers in flight finish (a live
//! stream never does, so the wait is bounded by [`Limits::shutdown_grace`]).

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv6Addr};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::Sleep;

/// The bounds of [`crate::serve_with`]; the defaults suit a server of a team.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Time for a request's headers to arrive, and for an idle kept-alive connection to
    /// send its next request.
    pub header_read: Duration,
    /// Time an answer may wait for its client to read.
    pub write_stall: Duration,
    /// Connections one client address may hold at once.
    pub per_ip: usize,
    /// Time the answers in flight get to finish at shutdown.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read: Duration::from_secs(10),
            write_stall: Duration::from_secs(30),
            per_ip: 64,
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

/// Largest buffer a connection reads into.
const MAX_BUF: usize = 64 * 1024;
/// The most a request's line and headers may take (hyper answers 431 beyond).
const MAX_HEAD: usize = 32 * 1024;

pub(crate) async fn run(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let per_ip = Arc::new(PerIp::default());
    // Each connection holds a receiver: `closed()` resolves when the last one ends.
    let (stop, stopping) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    accept_failed(&e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = per_ip.take(peer.ip(), limits.per_ip) else {
            too_many(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(Stall::new(stream, limits.write_stall));
        let service = TowerToHyperService::new(app.clone());
        let mut stopping = stopping.clone();
        let header_read = limits.header_read;
        tokio::spawn(async move {
            let _slot = slot;
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_read)
                .max_buf_size(MAX_BUF)
                .max_header_size(MAX_HEAD)
                .serve_connection(io, service);
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                () = async { drop(stopping.wait_for(|s| *s).await) } => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    drop(listener);
    let _ = stop.send(true);
    drop(stopping);
    let _ = tokio::time::timeout(limits.shutdown_grace, stop.closed()).await;
    Ok(())
}

/// A failed `accept`: the client gave up (nothing to do), or the process is out of file
/// descriptors or memory, which connections ending will free: wait a little, never spin.
async fn accept_failed(e: &io::Error) {
    use io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        return;
    }
    eprintln!("fixcast serve: cannot accept a connection: {e}");
    tokio::time::sleep(Duration::from_millis(200)).await;
}

/// Tells a client over its limit why, and closes. What it sent is read (for at most
/// [`DRAIN`]) before the close: closing a socket with unread bytes resets it, and the
/// client would lose the answer. At most [`MAX_DRAINING`] are kept so at once (a flood
/// of refused connections must not eat the file descriptors); beyond, the answer is
/// written if the socket takes it at once and the socket closed.
fn too_many(stream: TcpStream) {
    let body = "too many connections from your address; close some and retry\n";
    let res = format!(
        "HTTP/1.1 429 Too Many Requests\r\ncontent-type: text/plain; charset=utf-8\r\nx-content-type-options: nosniff\r\nretry-after: 5\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    static DRAINING: AtomicUsize = AtomicUsize::new(0);
    if DRAINING.fetch_add(1, Ordering::Relaxed) >= MAX_DRAINING {
        DRAINING.fetch_sub(1, Ordering::Relaxed);
        let _ = stream.try_write(res.as_bytes());
        return;
    }
    let mut stream = stream;
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let _ = tokio::time::timeout(DRAIN, async {
            stream.write_all(res.as_bytes()).await?;
            stream.shutdown().await?;
            let mut buf = [0u8; 4096];
            let mut left = MAX_BUF;
            while left > 0 {
                match stream.read(&mut buf).await? {
                    0 => break,
                    n => left = left.saturating_sub(n),
                }
            }
            Ok::<(), io::Error>(())
        })
        .await;
        drop(stream);
        DRAINING.fetch_sub(1, Ordering::Relaxed);
    });
}

/// How long a refused connection is kept to say why.
const DRAIN: Duration = Duration::from_millis(200);
/// Refused connections kept at once to say why.
const MAX_DRAINING: usize = 256;

/// Open connections per client: an IPv4 address, or an IPv6 /64.
#[derive(Default)]
struct PerIp {
    open: Mutex<HashMap<IpAddr, usize>>,
}

fn client_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1))),
        },
        v4 => v4,
    }
}

impl PerIp {
    fn take(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<Slot> {
        let client = client_of(ip);
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(client).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(Slot {
            table: self.clone(),
            client,
        })
    }
}

/// One open connection of a client; given back when dropped.
struct Slot {
    table: Arc<PerIp>,
    client: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.table.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.client);
            }
        }
    }
}

/// A socket whose writes fail once they have waited [`Limits::write_stall`] for the
/// client to read.
struct Stall<T> {
    inner: T,
    limit: Duration,
    /// Set while a write waits.
    waiting: Option<Pin<Box<Sleep>>>,
}

impl<T> Stall<T> {
    fn new(inner: T, limit: Duration) -> Self {
        Stall {
            inner,
            limit,
            waiting: None,
        }
    }

    /// The write could not go on: still Pending, or an error once it waited too long.
    fn stalled<R>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<R>> {
        let limit = self.limit;
        let timer = self
            .waiting
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client stopped reading",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }

    /// The write went through (or failed for another reason): no longer waiting.
    fn went<R>(&mut self, done: Poll<io::Result<R>>) -> Poll<io::Result<R>> {
        self.waiting = None;
        done
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Stall<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Stall<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write(cx, buf) {
            Poll::Pending => self.stalled(cx),
            done => self.went(done),
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write_vectored(cx, bufs) {
            Poll::Pending => self.stalled(cx),
            done => self.went(done),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.inner).poll_flush(cx) {
            Poll::Pending => self.stalled(cx),
            done => self.went(done),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.inner).poll_shutdown(cx) {
            Poll::Pending => self.stalled(cx),
            done => self.went(done),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_are_counted_by_address_and_ipv6_by_64() {
        let t = Arc::new(PerIp::default());
        let a: IpAddr = "2001:db8:1:2:3:4:5:6".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::1".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        let first = t.take(a, 2).unwrap();
        let _second = t.take(b, 2).unwrap();
        assert!(t.take(a, 2).is_none(), "same /64");
        assert!(t.take(c, 2).is_some(), "another /64");
        drop(first);
        assert!(t.take(b, 2).is_some(), "a slot given back");
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert_eq!(client_of(mapped), "127.0.0.1".parse::<IpAddr>().unwrap());
    }
}
