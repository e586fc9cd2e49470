//! `fixcast rec --server URL`: the recording goes to a remote `fixcast serve` too.
//!
//! The uploader ships the bytes of the local `session.cast.zst` (which only grows by
//! appending, each flush ending a zstd block) from the offset the server last
//! acknowledged, so the server's copy ends byte-identical to the local one, and a network
//! blip or a server restart loses nothing: it resumes from the server's size. Protocol
//! (see `web/src/upload.rs`): `start` with meta.json answers the server's size; `append
//! ?offset=N` with bytes; `finish?offset=N` with the final meta.json. Every request
//! carries this recording's key (`Fixcast-Upload-Key`, 256 random bits made here): the
//! server lets only the uploader that started a session write it, and since the key is
//! ours from the first `start`, a `start` whose answer was lost is simply sent again.
//!
//! It runs on its own thread: the recorder's writer thread only pokes it (a `try_send`,
//! never a wait). It wakes on each flush or every half second, retries with exponential
//! backoff (up to [`MAX_BACKOFF`]) for as long as the recording lasts, and at the end
//! gets a bounded time to finish; the local session is complete whatever happens.

use std::io::{Read, Seek, SeekFrom, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use anyhow::bail;
use fixcast_recorder::{Sink, SinkError};
use fixcast_sessions::{Event, SessionId, Store};

/// Most bytes one request carries (the server accepts up to `fixcast_web::UPLOAD_LIMIT`).
const CHUNK: u64 = 4 * 1024 * 1024;
/// Fewest, after the server found requests too slow (it waits 10 s, then 1 s per 16 KiB).
const MIN_CHUNK: u64 = 64 * 1024;
/// How long `rec` waits, once the recording ends, for the server to take the rest.
pub const FINISH_WITHIN: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(500);
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// Where to upload: `http://host[:port][/prefix]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUrl {
    /// `host:port`, for connecting and for the Host header.
    authority: String,
    /// Path prefix without a trailing slash (empty at the root).
    prefix: String,
}

impl ServerUrl {
    pub fn parse(url: &str) -> anyhow::Result<ServerUrl> {
        let url = url.trim();
        if url.starts_with("https://") {
            bail!("--server {url}: https is not supported yet; give an http:// address (on a trusted network, or through an SSH tunnel)");
        }
        let Some(rest) = url.strip_prefix("http://") else {
            bail!("--server {url}: expected an address like http://host:7878");
        };
        let (host, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if host.is_empty() || host.contains('@') || host.chars().any(char::is_whitespace) {
            bail!("--server {url}: no host name");
        }
        let has_port = match host.rfind(':') {
            Some(i) => !host[i..].contains(']'),
            None => false,
        };
        let authority = if has_port {
            host.to_owned()
        } else {
            format!("{host}:80")
        };
        Ok(ServerUrl {
            authority,
            prefix: path.trim_end_matches('/').to_owned(),
        })
    }

    fn show(&self) -> String {
        format!("http://{}{}", self.authority, self.prefix)
    }
}

/// An HTTP failure: worth retrying (network, 5xx) or not (refused, bad request).
enum Failure {
    Retry(String),
    Stop(String),
}

struct Reply {
    status: u16,
    body: Vec<u8>,
}

impl Reply {
    fn size(&self) -> Option<u64> {
        serde_json::from_slice::<serde_json::Value>(&self.body)
            .ok()?
            .get("size")?
            .as_u64()
    }

    fn message(&self) -> String {
        let text = serde_json::from_slice::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| v.get("error")?.as_str().map(str::to_owned))
            .unwrap_or_else(|| String::from_utf8_lossy(&self.body).trim().to_owned());
        let text: String = text.chars().take(300).collect();
        format!("HTTP {}: {}", self.status, super::printable(&text))
    }
}

struct Client {
    url: ServerUrl,
    token: Option<String>,
    /// This recording's upload key.
    key: String,
}

/// A new upload key: 256 bits from the OS's random numbers, hex.
fn new_key() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("no random numbers for an upload key: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

impl Client {
    /// One request on its own connection (`Connection: close`).
    fn post(&self, path: &str, kind: &str, body: &[u8]) -> Result<Reply, String> {
        let addrs: Vec<_> = self
            .url
            .authority
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve {}: {e}", self.url.authority))?
            .collect();
        let mut last = format!("cannot resolve {}", self.url.authority);
        let mut stream = None;
        for a in addrs {
            match TcpStream::connect_timeout(&a, CONNECT_TIMEOUT) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last = format!("cannot connect to {a}: {e}"),
            }
        }
        let mut s = stream.ok_or(last)?;
        let net = |e: std::io::Error| format!("{}: {e}", self.url.show());
        s.set_read_timeout(Some(IO_TIMEOUT)).map_err(net)?;
        s.set_write_timeout(Some(IO_TIMEOUT)).map_err(net)?;
        let mut head = format!(
            "POST {}/api/upload/{path} HTTP/1.1\r\nHost: {}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nFixcast-Upload-Key: {}\r\nConnection: close\r\n",
            self.url.prefix,
            self.url.authority,
            body.len(),
            self.key
        );
        if let Some(t) = &self.token {
            head.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        head.push_str("\r\n");
        s.write_all(head.as_bytes()).map_err(net)?;
        s.write_all(body).map_err(net)?;
        let mut raw = Vec::new();
        s.take(1024 * 1024).read_to_end(&mut raw).map_err(net)?;
        parse_reply(&raw).ok_or_else(|| format!("{}: not an HTTP answer", self.url.show()))
    }
}

fn parse_reply(raw: &[u8]) -> Option<Reply> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).ok()?;
    let status: u16 = head
        .lines()
        .next()?
        .strip_prefix("HTTP/1.")?
        .get(2..5)?
        .parse()
        .ok()?;
    let mut body = raw[end + 4..].to_vec();
    let chunked = head
        .lines()
        .any(|l| l.to_ascii_lowercase().starts_with("transfer-encoding:") && l.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Some(Reply { status, body })
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(i) = b.windows(2).position(|w| w == b"\r\n") {
        let n = std::str::from_utf8(&b[..i])
            .ok()
            .and_then(|h| usize::from_str_radix(h.split(';').next()?.trim(), 16).ok())
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

/// What one round of uploading came to.
enum Step {
    /// Caught up with the local file; wait for more.
    Idle,
    /// More to send right away.
    More,
    /// The server holds the whole session and its final metadata.
    Done,
}

struct Worker {
    client: Client,
    id: SessionId,
    cast: PathBuf,
    meta: PathBuf,
    /// What the server acknowledged; `None` until (re)started.
    acked: Option<u64>,
    /// Most bytes the next append sends.
    chunk: u64,
}

impl Worker {
    fn call(&mut self, path: &str, kind: &str, body: &[u8]) -> Result<Reply, Failure> {
        let r = self.client.post(path, kind, body).map_err(Failure::Retry)?;
        match r.status {
            200..=299 | 409 => Ok(r),
            401 => Err(Failure::Stop(format!(
                "{} (the server needs a token: give --token or FIXCAST_TOKEN)",
                r.message()
            ))),
            // The body came slower than the server waits for: send less at once.
            408 => {
                self.chunk = (self.chunk / 4).max(MIN_CHUNK);
                Err(Failure::Retry(r.message()))
            }
            // Too many connections from here just now.
            429 | 500..=599 => Err(Failure::Retry(r.message())),
            _ => Err(Failure::Stop(r.message())),
        }
    }

    fn read_meta(&self) -> Result<Vec<u8>, Failure> {
        std::fs::read(&self.meta)
            .map_err(|e| Failure::Stop(format!("{}: {e}", self.meta.display())))
    }

    fn step(&mut self, finishing: bool) -> Result<Step, Failure> {
        let id = self.id.as_str().to_owned();
        let acked = match self.acked {
            Some(n) => n,
            None => {
                let meta = self.read_meta()?;
                let r = self.call(&format!("{id}/start"), "application/json", &meta)?;
                if r.status == 409 {
                    return Err(Failure::Stop(r.message()));
                }
                let n = r
                    .size()
                    .ok_or_else(|| Failure::Retry("the server did not tell its size".into()))?;
                self.acked = Some(n);
                n
            }
        };
        let mut f = std::fs::File::open(&self.cast)
            .map_err(|e| Failure::Stop(format!("{}: {e}", self.cast.display())))?;
        let local = f.metadata().map(|m| m.len()).unwrap_or(0);
        if acked > local {
            return Err(Failure::Stop(format!(
                "the server holds {acked} bytes of this session, more than the {local} recorded here"
            )));
        }
        if acked < local {
            let want = (local - acked).min(self.chunk);
            let mut buf = Vec::with_capacity(want as usize);
            f.seek(SeekFrom::Start(acked))
                .and_then(|_| (&mut f).take(want).read_to_end(&mut buf))
                .map_err(|e| Failure::Stop(format!("{}: {e}", self.cast.display())))?;
            let r = self.call(
                &format!("{id}/append?offset={acked}"),
                "application/octet-stream",
                &buf,
            )?;
            match r.size() {
                Some(n) if r.status == 409 || n == acked + buf.len() as u64 => {
                    self.acked = Some(n);
                }
                _ => self.acked = None,
            }
            return Ok(Step::More);
        }
        if !finishing {
            return Ok(Step::Idle);
        }
        let meta = self.read_meta()?;
        let r = self.call(
            &format!("{id}/finish?offset={local}"),
            "application/json",
            &meta,
        )?;
        if r.status == 409 {
            self.acked = r.size();
            return Ok(Step::More);
        }
        Ok(Step::Done)
    }
}

/// Prints on the user's terminal, which may be in raw mode (lines need their `\r`).
fn say(msg: &str) {
    eprint!("\r\nfixcast: {msg}\r\n");
}

/// The uploading thread's handle, kept by `rec` until the recording is saved.
pub struct Uploader {
    wake: SyncSender<()>,
    finishing: Arc<AtomicBool>,
    done: Receiver<Result<(), String>>,
    shown: String,
}

/// The recorder's side: pokes the uploader at each flush, never waiting.
pub struct UploadSink {
    wake: SyncSender<()>,
}

impl Sink for UploadSink {
    fn event(&mut self, _ev: &Event) -> Result<(), SinkError> {
        Ok(())
    }
    fn flush(&mut self) -> Result<(), SinkError> {
        // Full: a wake-up is pending already; disconnected: the uploader is done.
        let _ = self.wake.try_send(());
        Ok(())
    }
    fn finish(&mut self) -> Result<(), SinkError> {
        Ok(())
    }
}

impl Uploader {
    /// Starts uploading the session (its folder and meta.json must exist).
    pub fn start(
        store: &Store,
        id: &SessionId,
        url: ServerUrl,
        token: Option<String>,
    ) -> (Uploader, UploadSink) {
        let (wake, woken) = mpsc::sync_channel::<()>(1);
        let (done_tx, done) = mpsc::channel();
        let finishing = Arc::new(AtomicBool::new(false));
        let shown = url.show();
        let (key, no_key) = match new_key() {
            Ok(k) => (k, None),
            Err(e) => (String::new(), Some(e)),
        };
        let mut worker = Worker {
            client: Client { url, token, key },
            id: id.clone(),
            cast: store.session(id).cast_path(),
            meta: store.session(id).meta_path(),
            acked: None,
            chunk: CHUNK,
        };
        let fin = finishing.clone();
        let server = shown.clone();
        thread::Builder::new()
            .name("fixcast-upload".into())
            .spawn(move || {
                if let Some(e) = no_key {
                    say(&format!(
                        "cannot upload to {server}: {e}; recording locally only"
                    ));
                    let _ = done_tx.send(Err(e));
                    return;
                }
                let mut backoff = FIRST_BACKOFF;
                let mut down = false;
                loop {
                    match worker.step(fin.load(Ordering::Acquire)) {
                        Ok(Step::Done) => {
                            let _ = done_tx.send(Ok(()));
                            return;
                        }
                        Ok(step) => {
                            if down {
                                say(&format!(
                                    "reconnected to {server}; streaming again (nothing lost)"
                                ));
                                down = false;
                            }
                            backoff = FIRST_BACKOFF;
                            if let Step::Idle = step {
                                match woken.recv_timeout(POLL) {
                                    Ok(()) | Err(RecvTimeoutError::Timeout) => {}
                                    Err(RecvTimeoutError::Disconnected) => thread::sleep(POLL),
                                }
                            }
                        }
                        Err(Failure::Retry(e)) => {
                            worker.acked = None;
                            if !down {
                                say(&format!(
                                    "cannot reach {server} ({e}); still recording locally, retrying"
                                ));
                                down = true;
                            }
                            thread::sleep(backoff);
                            backoff = (backoff * 2).min(MAX_BACKOFF);
                        }
                        Err(Failure::Stop(e)) => {
                            say(&format!(
                                "{server} refused the upload: {e}; recording locally only"
                            ));
                            let _ = done_tx.send(Err(e));
                            return;
                        }
                    }
                }
            })
            .expect("cannot start the upload thread");
        (
            Uploader {
                wake: wake.clone(),
                finishing,
                done,
                shown,
            },
            UploadSink { wake },
        )
    }

    /// The recording is saved locally: sends the rest and the final metadata, waiting at
    /// most `limit`; says how it ended.
    pub fn finish(self, id: &SessionId, limit: Duration) {
        self.finishing.store(true, Ordering::Release);
        let _ = self.wake.try_send(());
        let short = id.short();
        let incomplete = |why: &str| {
            eprintln!(
                "fixcast: warning: the copy of session {short} on {} is incomplete ({why}); the local session is complete (fixcast play {short})",
                self.shown
            )
        };
        match self.done.recv_timeout(limit) {
            Ok(Ok(())) => eprintln!(
                "fixcast: session {short} uploaded to {}/s/{}",
                self.shown, id
            ),
            Ok(Err(e)) => incomplete(&e),
            Err(_) => incomplete(&format!(
                "the server did not take it within {} s",
                limit.as_secs()
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_addresses() {
        let u = ServerUrl::parse("http://example.org:7878/").unwrap();
        assert_eq!(u.authority, "example.org:7878");
        assert_eq!(u.prefix, "");
        let u = ServerUrl::parse("http://[::1]/fixcast/").unwrap();
        assert_eq!(u.authority, "[::1]:80");
        assert_eq!(u.prefix, "/fixcast");
        assert!(ServerUrl::parse("https://example.org").is_err());
        assert!(ServerUrl::parse("example.org:7878").is_err());
        assert!(ServerUrl::parse("http:///x").is_err());
    }

    #[test]
    fn replies_are_read_plain_or_chunked() {
        let r = parse_reply(b"HTTP/1.1 409 Conflict\r\ncontent-length: 12\r\n\r\n{\"size\":42}\n")
            .unwrap();
        assert_eq!((r.status, r.size()), (409, Some(42)));
        let r = parse_reply(
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n4\r\n{\"si\r\n7\r\nze\":7}\n\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!((r.status, r.size()), (200, Some(7)));
    }
}
