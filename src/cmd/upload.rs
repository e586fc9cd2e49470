//! `fixcast rec --server URL`: the recording goes to a remote `fixcast serve` too.
//!
//! The uploader ships the bytes of the local `session.cast.zst` (which only grows by
//! appending, each flush ending a zstd block) from the offset the server last
//! acknowledged, so the server's copy ends byte-identical to the local one, and a network
//! blip or a server restart loses nothing: it resumes from the server's size. Protocol
//! ([`fixcast_sessions::upload_protocol`], served by `web/src/upload.rs`): `start` with
//! meta.json answers the server's size; `append?offset=N` with bytes; `finish?offset=N`
//! with the final meta.json, over http or https (`ureq`, rustls). Every request
//! carries this recording's key (`Fixcast-Upload-Key`, 256 random bits made here): the
//! server lets only the uploader that started a session write it, and since the key is
//! ours from the first `start`, a `start` whose answer was lost is simply sent again.
//!
//! It runs on its own thread: the recorder's writer thread only pokes it (a `try_send`,
//! never a wait). It wakes on each flush or every half second, retries with exponential
//! backoff (up to [`MAX_BACKOFF`]) for as long as the recording lasts, and at the end
//! gets a bounded time to finish; the local session is complete whatever happens.

use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use anyhow::bail;
use fixcast_recorder::{Sink, SinkError};
use fixcast_sessions::upload_protocol::{
    APPEND, CHUNK, FINISH, KEY_HEADER, OFFSET, START, UPLOAD_PATH,
};
use fixcast_sessions::{Event, SessionId, Store};

/// Fewest, after the server found requests too slow (it waits 10 s, then 1 s per 16 KiB).
const MIN_CHUNK: u64 = 64 * 1024;
/// How long `rec` waits, once the recording ends, for the server to take the rest.
pub const FINISH_WITHIN: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(500);
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Longest wait for one read or one write: a server that stops answering is retried.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// Most bytes of a reply read (a reply is a line of JSON).
const MAX_REPLY: u64 = 1024 * 1024;

/// Where to upload: `http(s)://host[:port][/prefix]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUrl {
    /// `http` or `https`.
    scheme: &'static str,
    /// `host:port`, for connecting and for the Host header.
    authority: String,
    /// Path prefix without a trailing slash (empty at the root).
    prefix: String,
}

impl ServerUrl {
    pub fn parse(url: &str) -> anyhow::Result<ServerUrl> {
        let url = url.trim();
        let (scheme, rest, port) = if let Some(rest) = url.strip_prefix("https://") {
            ("https", rest, 443)
        } else if let Some(rest) = url.strip_prefix("http://") {
            ("http", rest, 80)
        } else {
            bail!("--server {url}: expected an address like http://host:7878 or https://host");
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
            format!("{host}:{port}")
        };
        Ok(ServerUrl {
            scheme,
            authority,
            prefix: path.trim_end_matches('/').to_owned(),
        })
    }

    fn show(&self) -> String {
        format!("{}://{}{}", self.scheme, self.authority, self.prefix)
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
    agent: ureq::Agent,
}

/// A new upload key: 256 bits from the OS's random numbers, hex.
fn new_key() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("no random numbers for an upload key: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

impl Client {
    fn new(url: ServerUrl, token: Option<String>, key: String) -> Client {
        let agent = ureq::Agent::config_builder()
            // Every answer is read here, whatever its status: a 409 carries the size.
            .http_status_as_error(false)
            // Straight to the server, as given: no proxy from the environment.
            .proxy(None)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_per_read(Some(IO_TIMEOUT))
            .timeout_per_write(Some(IO_TIMEOUT))
            .build()
            .into();
        Client {
            url,
            token,
            key,
            agent,
        }
    }

    /// One request: `path` below the upload routes (`{id}/start`, ...).
    fn post(&self, path: &str, kind: &str, body: &[u8]) -> Result<Reply, String> {
        let url = format!("{}{UPLOAD_PATH}/{path}", self.url.show());
        let mut req = self
            .agent
            .post(&url)
            .header("Content-Type", kind)
            .header(KEY_HEADER, &self.key);
        if let Some(t) = &self.token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        let net = |e: ureq::Error| format!("{}: {}", self.url.show(), failure(e, self.url.scheme));
        let mut reply = req.send(body).map_err(net)?;
        let status = reply.status().as_u16();
        let body = reply
            .body_mut()
            .with_config()
            .limit(MAX_REPLY)
            .read_to_vec()
            .map_err(net)?;
        Ok(Reply { status, body })
    }
}

/// What went wrong on the way, said plainly. A TLS failure says it is one: rustls's
/// errors reach here as invalid data read from an `https://` connection, as when the
/// server speaks plain http.
fn failure(e: ureq::Error, scheme: &str) -> String {
    match e {
        ureq::Error::Io(e) if scheme == "https" && e.kind() == std::io::ErrorKind::InvalidData => {
            format!("tls: {e} (does the server speak https?)")
        }
        ureq::Error::Rustls(e) => format!("tls: {e}"),
        ureq::Error::Tls(e) => format!("tls: {e}"),
        e => e.to_string(),
    }
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
                let r = self.call(&format!("{id}{START}"), "application/json", &meta)?;
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
                &format!("{id}{APPEND}?{OFFSET}={acked}"),
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
            &format!("{id}{FINISH}?{OFFSET}={local}"),
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
            client: Client::new(url, token, key),
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
        let u = ServerUrl::parse("https://example.org/f").unwrap();
        assert_eq!(u.authority, "example.org:443");
        assert_eq!(u.show(), "https://example.org:443/f");
        assert_eq!(ServerUrl::parse("http://h:1").unwrap().show(), "http://h:1");
        assert!(ServerUrl::parse("example.org:7878").is_err());
        assert!(ServerUrl::parse("http:///x").is_err());
    }
}
