//! What the HTTP suite (`tests/http.rs`) needs: raw HTTP/1.1 over loopback sockets, a
//! look at the server's memory and open files in `/proc`, and the long form's switch.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// `FIXCAST_RELIABILITY=long`: more, bigger rounds, with figures printed.
pub fn long() -> bool {
    std::env::var("FIXCAST_RELIABILITY").is_ok_and(|v| v == "long")
}

/// `host:port` of a server's `http://host:port/`.
pub fn addr_of(url: &str) -> SocketAddr {
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap()
}

/// An answer: the status, the head as text, the body (dechunked).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_default()
    }
}

pub fn parse(raw: &[u8]) -> Option<Answer> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let status = head.get(9..12)?.parse().ok()?;
    let mut body = raw[end + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    Some(Answer { status, head, body })
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(i) = b.windows(2).position(|w| w == b"\r\n") {
        let n = std::str::from_utf8(&b[..i])
            .ok()
            .and_then(|h| usize::from_str_radix(h.trim(), 16).ok())
            .unwrap_or(0);
        b = &b[i + 2..];
        if n == 0 || n > b.len() {
            break;
        }
        out.extend_from_slice(&b[..n]);
        b = b.get(n + 2..).unwrap_or(&[]);
    }
    out
}

pub fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(20))).unwrap();
    s
}

/// Sends `raw` (a whole request that asks `Connection: close`) and reads to the end.
pub fn send_raw(addr: SocketAddr, raw: &[u8]) -> Answer {
    let mut s = connect(addr);
    // The server may answer (413, 431) and close before it read everything.
    let _ = s.write_all(raw);
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    parse(&got).unwrap_or_else(|| {
        panic!(
            "no HTTP answer to {:?}: {:?}",
            String::from_utf8_lossy(&raw[..raw.len().min(200)]),
            String::from_utf8_lossy(&got)
        )
    })
}

/// A request with the usual headers (Host, `Connection: close`) and `extra` ones.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    extra: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    let mut raw = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in extra {
        raw.push_str(&format!("{k}: {v}\r\n"));
    }
    raw.push_str("\r\n");
    let mut raw = raw.into_bytes();
    raw.extend_from_slice(body);
    send_raw(addr, &raw)
}

pub fn get(addr: SocketAddr, path: &str) -> Answer {
    request(addr, "GET", path, &[], b"")
}

/// How a connection ended, as its client saw it.
#[derive(Debug)]
pub struct Ending {
    /// From the first byte sent (or the connection) to the close.
    pub after: Duration,
    /// The answer the server sent before closing, if any.
    pub status: Option<u16>,
}

/// Sends `head` and then `drip` one byte a second (cycling), until the server answers
/// or closes, at most `limit`; `None` if it held on that long.
pub fn drip(mut s: TcpStream, head: &[u8], drip: &[u8], limit: Duration) -> Option<Ending> {
    let start = Instant::now();
    s.set_read_timeout(Some(Duration::from_millis(1000)))
        .unwrap();
    let _ = s.write_all(head);
    let mut got = Vec::new();
    let mut i = 0;
    while start.elapsed() < limit {
        let mut buf = [0u8; 4096];
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                got.extend_from_slice(&buf[..n]);
                continue;
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
        if !drip.is_empty() && s.write_all(&drip[i % drip.len()..][..1]).is_err() {
            // Closed on us: what it said, if anything, is still to be read.
            let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
            let _ = s.read_to_end(&mut got);
            break;
        }
        i += 1;
    }
    if start.elapsed() >= limit {
        return None;
    }
    Some(Ending {
        after: start.elapsed(),
        status: parse(&got).map(|a| a.status),
    })
}

/// The server process as `/proc` shows it.
pub struct Proc(pub u32);

impl Proc {
    pub fn fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.0))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    /// Resident memory, KiB.
    pub fn rss_kib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.0))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    }

    /// Waits (at most `limit`) for the open files to come down to `at_most`; the count.
    pub fn settle_fds(&self, at_most: usize, limit: Duration) -> usize {
        let start = Instant::now();
        loop {
            let n = self.fds();
            if n <= at_most || start.elapsed() > limit {
                return n;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// A connection from another loopback address (127.0.0.2), as another client; `None`
/// where this machine's loopback takes only 127.0.0.1.
pub fn connect_from_other(addr: SocketAddr) -> Option<TcpStream> {
    let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).ok()?;
    let from: SocketAddr = "127.0.0.2:0".parse().unwrap();
    s.bind(&from.into()).ok()?;
    s.connect_timeout(&addr.into(), Duration::from_secs(5))
        .ok()?;
    let s: TcpStream = s.into();
    s.set_read_timeout(Some(Duration::from_secs(20))).ok()?;
    Some(s)
}

/// Percentiles of durations, in seconds, for the long form's figures.
pub fn spread(mut v: Vec<Duration>) -> String {
    if v.is_empty() {
        return "none".into();
    }
    v.sort();
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize].as_secs_f64();
    format!(
        "min {:.1} s, p50 {:.1} s, max {:.1} s (n={})",
        at(0.0),
        at(0.5),
        at(1.0),
        v.len()
    )
}
