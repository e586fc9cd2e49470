//! `live`, the viewers: EventSource clients on their own threads, each recording what it
//! saw (snapshot, events, tick latencies), bounded by read timeouts.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};

/// Viewer sockets wake this often to see whether they should stop.
const READ_TICK: Duration = Duration::from_millis(500);

fn epoch_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// What one viewer saw, updated by its thread.
#[derive(Default)]
pub struct Seen {
    /// HTTP 200 and the headers read.
    connected: AtomicBool,
    /// Snapshots (`{cols, rows, init, time}`) received: the first, then resyncs.
    snapshots: AtomicU64,
    /// When the last event arrived, ms since the pool's start + 1 (0: none yet).
    last_event_ms: AtomicU64,
    bytes: AtomicU64,
    done: AtomicBool,
    failed: AtomicBool,
    error: Mutex<Option<String>>,
    /// (arrival, s since the pool's start; latency, ms) for each tick.
    ticks: Mutex<Vec<(f64, f64)>>,
}

/// Viewers of one live session, each on its own thread; stopped and joined on drop.
pub struct Pool {
    addr: SocketAddr,
    path: String,
    parse: bool,
    t0: Instant,
    stop: Arc<AtomicBool>,
    viewers: Vec<(Arc<Seen>, JoinHandle<()>)>,
}

impl Pool {
    pub fn new(addr: SocketAddr, path: String, parse: bool, t0: Instant) -> Pool {
        Pool {
            addr,
            path,
            parse,
            t0,
            stop: Arc::new(AtomicBool::new(false)),
            viewers: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.viewers.len()
    }

    pub fn grow_to(&mut self, n: usize) -> anyhow::Result<()> {
        while self.viewers.len() < n {
            let seen = Arc::new(Seen::default());
            let (addr, path, parse, t0, stop) = (
                self.addr,
                self.path.clone(),
                self.parse,
                self.t0,
                self.stop.clone(),
            );
            let s = seen.clone();
            let h = std::thread::Builder::new()
                .name("live-viewer".into())
                .stack_size(256 << 10)
                .spawn(move || {
                    if let Err(e) = view(addr, &path, parse, t0, &stop, &s) {
                        if !stop.load(Ordering::Relaxed) {
                            s.failed.store(true, Ordering::Relaxed);
                            *s.error.lock().unwrap_or_else(|p| p.into_inner()) =
                                Some(format!("{e:#}"));
                        }
                    }
                })
                .context("cannot start a viewer thread")?;
            self.viewers.push((seen, h));
            // Don't flood the listen queue: a short pause every 50 connections.
            if self.viewers.len().is_multiple_of(50) {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        Ok(())
    }

    pub fn count(&self, f: impl Fn(&Seen) -> bool) -> usize {
        self.viewers.iter().filter(|(s, _)| f(s)).count()
    }

    pub fn wait_until(&self, limit: Duration, f: impl Fn(&Seen) -> bool) -> usize {
        let deadline = Instant::now() + limit;
        loop {
            let n = self.count(|s| f(s) || s.failed.load(Ordering::Relaxed));
            if n == self.viewers.len() || Instant::now() > deadline {
                return self.count(&f);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn wait_snapshots(&self, limit: Duration) -> usize {
        self.wait_until(limit, |s| s.snapshots.load(Ordering::Relaxed) > 0)
    }

    pub fn wait_connected(&self, limit: Duration) -> usize {
        self.wait_until(limit, |s| s.connected.load(Ordering::Relaxed))
    }

    pub fn connected(&self) -> usize {
        self.count(|s| s.connected.load(Ordering::Relaxed))
    }

    pub fn done(&self) -> usize {
        self.count(|s| s.done.load(Ordering::Relaxed))
    }

    pub fn errors(&self) -> usize {
        self.count(|s| s.failed.load(Ordering::Relaxed))
    }

    pub fn resyncs(&self) -> usize {
        self.viewers
            .iter()
            .map(|(s, _)| s.snapshots.load(Ordering::Relaxed).saturating_sub(1) as usize)
            .sum()
    }

    pub fn first_error(&self) -> Option<String> {
        self.viewers
            .iter()
            .find_map(|(s, _)| s.error.lock().unwrap_or_else(|p| p.into_inner()).clone())
    }

    pub fn bytes(&self) -> Vec<f64> {
        self.viewers
            .iter()
            .map(|(s, _)| s.bytes.load(Ordering::Relaxed) as f64)
            .collect()
    }

    /// Served at `now`: got the snapshot and an event within `fresh`.
    pub fn served(&self, now: Duration, fresh: Duration) -> usize {
        let now_ms = now.as_millis() as u64 + 1;
        let fresh_ms = fresh.as_millis() as u64;
        self.count(|s| {
            let last = s.last_event_ms.load(Ordering::Relaxed);
            !s.failed.load(Ordering::Relaxed)
                && s.snapshots.load(Ordering::Relaxed) > 0
                && last > 0
                && now_ms.saturating_sub(last) <= fresh_ms
        })
    }

    /// Latencies (ms) of the ticks that arrived between `from` and `to`, all viewers.
    pub fn latencies(&self, from: Duration, to: Duration) -> Vec<f64> {
        let (from, to) = (from.as_secs_f64(), to.as_secs_f64());
        let mut out = Vec::new();
        for (s, _) in &self.viewers {
            let ticks = s.ticks.lock().unwrap_or_else(|p| p.into_inner());
            out.extend(
                ticks
                    .iter()
                    .filter(|(at, _)| *at >= from && *at < to)
                    .map(|(_, l)| *l),
            );
        }
        out
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for (_, h) in self.viewers.drain(..) {
            let _ = h.join();
        }
    }
}

/// One EventSource viewer: reads the stream line by line until `done`, the end of the
/// connection, or `stop`.
fn view(
    addr: SocketAddr,
    path: &str,
    parse: bool,
    t0: Instant,
    stop: &AtomicBool,
    seen: &Seen,
) -> anyhow::Result<()> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(10))
        .with_context(|| format!("cannot connect to {addr}"))?;
    s.set_read_timeout(Some(READ_TICK))?;
    s.set_write_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n"
    )?;
    let mut r = BufReader::with_capacity(if parse { 16 << 10 } else { 64 << 10 }, s);
    let mut line = Vec::with_capacity(4096);
    let mut status_seen = false;
    let mut in_body = false;
    let connect_deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        match r.read_until(b'\n', &mut line) {
            Ok(0) => {
                if seen.done.load(Ordering::Relaxed) {
                    return Ok(());
                }
                bail!("the server closed the stream before `done`");
            }
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                ) =>
            {
                if !in_body && Instant::now() > connect_deadline {
                    bail!("no answer from the server within 30 s");
                }
                continue;
            }
            Err(e) => return Err(e).context("reading the stream"),
        }
        if line.last() != Some(&b'\n') {
            continue; // the rest comes with the next read (EOF shows as Ok(0) then)
        }
        seen.bytes.fetch_add(line.len() as u64, Ordering::Relaxed);
        let l = trim_end(&line);
        if !status_seen {
            status_seen = true;
            let text = String::from_utf8_lossy(l);
            if text.split_whitespace().nth(1) != Some("200") {
                bail!("answer {text:?}");
            }
        } else if !in_body {
            if l.is_empty() {
                in_body = true;
                seen.connected.store(true, Ordering::Relaxed);
            }
        } else if let Some(d) = l.strip_prefix(b"data:") {
            let d = d.strip_prefix(b" ").unwrap_or(d);
            match d.first() {
                Some(b'{') => {
                    seen.snapshots.fetch_add(1, Ordering::Relaxed);
                }
                Some(b'[') => {
                    seen.last_event_ms
                        .store(t0.elapsed().as_millis() as u64 + 1, Ordering::Relaxed);
                    if parse {
                        let now = epoch_micros();
                        let at = t0.elapsed().as_secs_f64();
                        let mut ticks = seen.ticks.lock().unwrap_or_else(|p| p.into_inner());
                        for t in tick_times(d) {
                            ticks.push((at, now.saturating_sub(t) as f64 / 1000.0));
                        }
                    }
                }
                _ => {}
            }
        } else if l == b"event: done" || l == b"event:done" {
            seen.done.store(true, Ordering::Relaxed);
            return Ok(());
        }
        line.clear();
    }
}

fn trim_end(mut l: &[u8]) -> &[u8] {
    while let [rest @ .., b'\n' | b'\r'] = l {
        l = rest;
    }
    l
}

/// The µs timestamps of the `tick <16 digits>` in a message (a tick cut in two by the
/// PTY's reads has fewer digits on each side, and is skipped).
fn tick_times(d: &[u8]) -> Vec<u64> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(p) = find(&d[i..], b"tick ") {
        let start = i + p + 5;
        let digits = d[start..].iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 16 {
            if let Ok(t) = std::str::from_utf8(&d[start..start + 16])
                .unwrap_or("")
                .parse()
            {
                out.push(t);
            }
        }
        i = start + digits;
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
