//! What the reliability suites (`kill`, `concurrency`; see RELIABILITY.md) share. Their
//! short forms run in every `cargo test`; `FIXCAST_RELIABILITY=long` runs the long forms,
//! and both print their figures (seen with `--nocapture`).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::util::{exit_within, Home};

/// Whether the long forms run (`FIXCAST_RELIABILITY=long`).
pub fn long() -> bool {
    std::env::var("FIXCAST_RELIABILITY").is_ok_and(|v| v == "long")
}

/// How many trials: `short` normally, `long` in the long form.
pub fn trials(short: usize, long_form: usize) -> usize {
    if long() {
        long_form
    } else {
        short
    }
}

/// The suite's figures, on one line each, marked for grepping.
pub fn figures(suite: &str, lines: &[String]) {
    let form = if long() { "long" } else { "short" };
    for l in lines {
        eprintln!("[{suite} {form}] {l}");
    }
}

/// Seconds since the epoch, as the recorded programs print it (bash's $EPOCHREALTIME).
pub fn epoch_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// A small random source (xorshift); its seed is printed, and `FIXCAST_RELIABILITY_SEED`
/// replays one.
pub struct Rng(u64);

impl Rng {
    pub fn new(suite: &str) -> Rng {
        let seed = std::env::var("FIXCAST_RELIABILITY_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
            })
            | 1;
        eprintln!("[{suite}] seed {seed} (FIXCAST_RELIABILITY_SEED={seed} replays it)");
        Rng(seed)
    }

    /// Seeded by the caller (from a printed [`Rng::new`]), so nothing to print.
    pub fn quiet(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A duration drawn uniformly from `[lo, hi)`.
    pub fn between(&mut self, lo: Duration, hi: Duration) -> Duration {
        let span = (hi - lo).as_micros().max(1) as u64;
        lo + Duration::from_micros(self.next() % span)
    }
}

/// `fixcast serve` on a free port of 127.0.0.1, its stderr kept in a file.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    stderr: std::path::PathBuf,
}

impl Server {
    pub fn start(home: &Home, stderr: &Path) -> Server {
        let mut child = home
            .cmd(&["serve", "--bind", "127.0.0.1:0"])
            .env_remove("FIXCAST_TOKEN")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(stderr).unwrap())
            .spawn()
            .unwrap();
        let mut out = child.stdout.take().unwrap();
        // The first line names the address; read byte by byte so nothing else is eaten.
        let mut line = Vec::new();
        let mut b = [0u8; 1];
        while out.read(&mut b).unwrap_or(0) == 1 && b[0] != b'\n' {
            line.push(b[0]);
        }
        let line = String::from_utf8_lossy(&line).into_owned();
        let addr = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("http://"))
            .and_then(|a| a.trim_end_matches('/').parse().ok())
            .unwrap_or_else(|| panic!("serve printed no address: {line:?}"));
        Server {
            child,
            addr,
            stderr: stderr.to_owned(),
        }
    }

    /// Whether the server process still runs.
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Stops it with SIGTERM, as a user would; its exit status.
    pub fn stop(mut self) -> Option<std::process::ExitStatus> {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        exit_within(&mut self.child, Duration::from_secs(30))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET path` over HTTP/1.1 with `Connection: close`: the status and the body.
pub fn http_get(addr: SocketAddr, path: &str, timeout: Duration) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(10))?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut res = Vec::new();
    s.read_to_end(&mut res)?;
    let res = String::from_utf8_lossy(&res).into_owned();
    let status = res
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = res.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    // A chunked body: the JSON is between the chunk sizes; keep the lines that are not.
    let body = if res
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Ok((status, body))
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// The sessions whose commands `fixcast search WORD` finds (full ids).
pub fn cli_search(home: &Home, word: &str) -> Vec<String> {
    let out = home.run(&["search", "--json", "-n", "50", word]);
    assert!(
        out.status.success(),
        "search {word}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "search {word}: {e}: {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    let mut ids: Vec<String> = v
        .as_array()
        .map(|hits| {
            hits.iter()
                .filter_map(|h| h["session"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids.dedup();
    ids
}

/// Waits until `cond` holds or `limit` passes; whether it held.
pub fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Lines of `stderr` that are not one of fixcast's normal notices: what a user would
/// read as something having gone wrong.
pub fn error_lines(stderr: &str) -> Vec<String> {
    let normal = |l: &str| {
        l.starts_with("fixcast: recording session ")
            || (l.starts_with("fixcast: session ") && l.contains(" saved ("))
            // Recorders and the server take turns at the index: whoever finds it busy
            // says so, and the next writer catches up (the suites check that it does).
            || (l.starts_with("fixcast: the search index is busy")
                && l.contains("is queued and will be indexed"))
            || l == "fixcast: warning: the search index is busy (another fixcast is writing it); sessions queued for it are not searchable yet"
            || l.starts_with("fixcast: no search index yet; building it")
            || l == "fixcast: stopping the server"
    };
    stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !normal(l))
        .map(str::to_owned)
        .collect()
}
