//! `fixcast serve` under attack, over real sockets on loopback: slow and idle clients are
//! cut off, bodies over the limit refused, path parameters never leave the home, tokens
//! and host names are checked, uploads write only their own sessions, and hundreds of
//! held connections leave the server's memory and open files as they were. Every
//! answer is a 4xx (never a 5xx), and the server answers a normal request afterwards.
//!
//! `FIXCAST_RELIABILITY=long` adds bigger rounds and prints figures (see
//! `http_long.rs`): `FIXCAST_RELIABILITY=long cargo test --test integration http -- --nocapture --test-threads 1`.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::thread;
use std::time::{Duration, Instant};

use crate::http_util::*;
use crate::util::Home;
use crate::web::{long_session, Server};

/// A server on a home with one session.
pub struct Site {
    pub home: Home,
    /// Kept for its lifetime: the server stops when the site is dropped.
    pub _server: Server,
    pub addr: SocketAddr,
    pub id: String,
    pub proc: Proc,
}

pub fn site(token: Option<&str>, mb: usize) -> Site {
    let home = Home::new();
    let (id, _) = long_session(home.path(), mb);
    let server = Server::start(home.path(), token);
    let addr = addr_of(&server.url);
    let proc = Proc(server.pid());
    Site {
        home,
        _server: server,
        addr,
        id: id.to_string(),
        proc,
    }
}

impl Site {
    /// A normal request is answered, and quickly.
    pub fn answers(&self) {
        let start = Instant::now();
        let a = get(self.addr, "/api/sessions");
        assert_eq!(a.status, 200, "{a:?}");
        assert_eq!(a.json()["total"], 1);
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
    }
}

/// Headers must come within 10 s; bodies at a steady pace; an idle connection is let go.
const CUT_OFF: Duration = Duration::from_secs(10);
/// What the cut-off may take beyond that on a loaded machine.
const SLACK: Duration = Duration::from_secs(6);

#[test]
fn slow_and_idle_clients_are_cut_off() {
    let s = site(None, 1);
    let fds = s.proc.fds();
    let addr = s.addr;
    let new_id = fixcast_sessions::SessionId::generate();
    let cases: Vec<(&str, String, &'static [u8], Option<u16>)> = vec![
        ("an idle socket", String::new(), b"", None),
        (
            "headers a byte a second",
            format!("GET /api/sessions HTTP/1.1\r\nHost: {addr}\r\n"),
            b"X-Slow: 1\r\n",
            None,
        ),
        (
            "an edit's body a byte a second",
            format!(
                "PATCH /api/sessions/{} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n",
                s.id
            ),
            b"{",
            Some(408),
        ),
        (
            "an upload's body a byte a second",
            format!(
                "POST /api/upload/{new_id}/append?offset=0 HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 8000000\r\n\r\n"
            ),
            b"x",
            Some(408),
        ),
    ];
    let mut threads = Vec::new();
    for (what, head, bytes, want) in cases {
        threads.push(thread::spawn(move || {
            let end = drip(connect(addr), head.as_bytes(), bytes, CUT_OFF * 3);
            (what, end, want)
        }));
    }
    // An idle kept-alive connection, after one answer.
    let idle = thread::spawn(move || {
        let mut c = connect(addr);
        write!(c, "GET /api/sessions HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 65536];
        while parse(&got).is_none_or(|a| a.body.len() < body_len(&a)) {
            let n = c.read(&mut buf).unwrap();
            assert!(n > 0, "closed before the answer");
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(parse(&got).unwrap().status, 200);
        (
            "an idle kept-alive connection",
            drip(c, b"", b"", CUT_OFF * 3),
            None,
        )
    });
    threads.push(idle);
    // Meanwhile, others are served.
    thread::sleep(Duration::from_secs(2));
    s.answers();
    for t in threads {
        let (what, end, want) = t.join().unwrap();
        let end = end.unwrap_or_else(|| panic!("{what}: held for {:?}", CUT_OFF * 3));
        assert!(
            end.after <= CUT_OFF + SLACK && end.after >= CUT_OFF / 2,
            "{what}: cut off after {:?}",
            end.after
        );
        assert_eq!(end.status, want, "{what}");
    }
    let after = s.proc.settle_fds(fds, Duration::from_secs(5));
    assert!(after <= fds, "open files {fds} before, {after} after");
    s.answers();
}

fn body_len(a: &Answer) -> usize {
    a.header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(usize::MAX)
}

/// Opens `n` connections that each send part of their headers, and keeps them.
pub fn hold(addr: SocketAddr, n: usize) -> Vec<std::net::TcpStream> {
    (0..n)
        .filter_map(|_| {
            let mut c = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5)).ok()?;
            let _ = write!(c, "GET / HTTP/1.1\r\nHost: {addr}\r\nX-Held: ");
            Some(c)
        })
        .collect()
}

/// What each held connection got: an answer's status, or 0 for a close without one.
/// Connections still open (held by the server) count as `None`.
pub fn outcomes(held: &mut [std::net::TcpStream]) -> Vec<Option<u16>> {
    held.iter_mut()
        .map(|c| {
            // What has come by now; a connection with nothing to read is still held.
            c.set_nonblocking(true).unwrap();
            let mut got = Vec::new();
            let end = match c.read_to_end(&mut got) {
                Ok(_) => Some(parse(&got).map_or(0, |a| a.status)),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => Some(0),
                Err(_) => parse(&got).map(|a| a.status),
            };
            c.set_nonblocking(false).unwrap();
            end
        })
        .collect()
}

#[test]
fn two_hundred_held_connections_leave_the_server_as_it_was() {
    let s = site(None, 1);
    let (fds, rss) = (s.proc.fds(), s.proc.rss_kib());
    let mut held = hold(s.addr, 200);
    assert_eq!(held.len(), 200);
    // Past the refused ones' last words (200 ms each).
    thread::sleep(Duration::from_millis(1000));
    let during = s.proc.fds();
    // One address gets 64 connections; the rest are told 429 and closed.
    assert!(
        during <= fds + 64 + 4,
        "open files {fds} before, {during} during"
    );
    if let Some(mut other) = connect_from_other(s.addr) {
        write!(
            other,
            "GET /api/sessions HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            s.addr
        )
        .unwrap();
        let mut got = Vec::new();
        other.read_to_end(&mut got).unwrap();
        let a = parse(&got).expect("an answer to another client");
        assert_eq!(a.status, 200, "another client is served meanwhile: {a:?}");
    } else {
        eprintln!("note: 127.0.0.2 is not usable here; another client's answer not checked");
    }
    let got = outcomes(&mut held);
    let refused = got.iter().filter(|o| **o == Some(429)).count();
    assert!(refused >= 200 - 64 - 4, "{refused} told 429: {got:?}");
    assert!(
        got.iter()
            .flatten()
            .all(|s| *s == 0 || (400..500).contains(s)),
        "{got:?}"
    );
    drop(held);
    let after = s.proc.settle_fds(fds, Duration::from_secs(10));
    let grown = s.proc.rss_kib().saturating_sub(rss);
    assert!(after <= fds, "open files {fds} before, {after} after");
    assert!(grown < 32 * 1024, "RSS grew by {grown} KiB");
    s.answers();
}

#[test]
fn bodies_and_headers_over_the_limit_are_refused() {
    let s = site(None, 1);
    let (addr, id) = (s.addr, s.id.clone());
    let edit = format!("/api/sessions/{id}");
    let json = [("Content-Type", "application/json")];
    let big = vec![b'n'; 200 * 1024];
    let mut answers = vec![
        ("an edit of 200 KiB", request(addr, "PATCH", &edit, &json, &big)),
        (
            "an upload said to be 9 MiB, not sent",
            send_raw(
                addr,
                format!(
                    "POST /api/upload/{}/append?offset=0 HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    fixcast_sessions::SessionId::generate(),
                    9 * 1024 * 1024
                )
                .as_bytes(),
            ),
        ),
    ];
    let mut chunked = format!(
        "PATCH {edit} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    for _ in 0..20 {
        chunked.extend_from_slice(format!("{:x}\r\n{}\r\n", 8192, "n".repeat(8192)).as_bytes());
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    answers.push(("an edit of 160 KiB in chunks", send_raw(addr, &chunked)));
    let long_header = format!(
        "GET /api/sessions HTTP/1.1\r\nHost: {addr}\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        "h".repeat(100 * 1024)
    );
    answers.push(("a 100 KiB header", send_raw(addr, long_header.as_bytes())));
    let mut many = format!("GET /api/sessions HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for i in 0..200 {
        many.push_str(&format!("X-H{i}: {i}\r\n"));
    }
    many.push_str("\r\n");
    answers.push(("200 headers", send_raw(addr, many.as_bytes())));
    answers.push(("junk", send_raw(addr, b"GARBAGE \x00\x01\r\n\r\n")));
    for (what, a) in &answers {
        assert!((400..500).contains(&a.status), "{what}: {a:?}");
    }
    assert_eq!(answers[0].1.status, 413);
    assert_eq!(answers[1].1.status, 413);
    assert_eq!(answers[2].1.status, 413);
    assert_eq!(answers[3].1.status, 431);
    let saved = std::fs::read_to_string(s.home.path().join("sessions").join(&id).join("meta.json"))
        .unwrap();
    assert!(!saved.contains("nnnn"), "an edit over the limit was saved");
    s.answers();
}

/// Every route with a path parameter.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/s/{id}"),
    ("GET", "/assets/{name}"),
    ("GET", "/api/sessions/{id}"),
    ("PATCH", "/api/sessions/{id}"),
    ("GET", "/api/sessions/{id}/commands"),
    ("GET", "/api/sessions/{id}/commands/{seq}"),
    ("GET", "/api/sessions/{id}/cast"),
    ("GET", "/api/sessions/{id}/segments"),
    ("GET", "/api/sessions/{id}/segments/{n}"),
    ("GET", "/api/sessions/{id}/live"),
    ("POST", "/api/upload/{id}/start"),
    ("POST", "/api/upload/{id}/append?offset=0"),
    ("POST", "/api/upload/{id}/finish?offset=0"),
];

/// Ways out of a folder: plain, encoded, double-encoded, absolute, Windows-style.
const ESCAPES: &[&str] = &[
    "..",
    "../../secret.txt",
    "%2e%2e",
    "%2E%2E%2F%2E%2E%2Fsecret.txt",
    "..%2F..%2Fsecret.txt",
    "..%5C..%5Csecret.txt",
    "%252e%252e%252fsecret.txt",
    "%2Fetc%2Fpasswd",
    "%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "....%2F%2F....%2F%2Fsecret.txt",
    "%00",
    "01ABCDEFGHJKMNPQRSTVWXYZ0%2F..",
];

#[test]
fn path_parameters_never_leave_the_home() {
    let s = site(None, 1);
    std::fs::write(s.home.path().join("secret.txt"), "TOP-SECRET-CONTENT").unwrap();
    let listing = |dir: &std::path::Path| {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let sessions = s.home.path().join("sessions");
    let before = listing(&sessions);
    let top = listing(s.home.path());
    let key = [
        ("Fixcast-Upload-Key", "a3f1c0d2e4b5968778695a4b3c2d1e0f"),
        ("Content-Type", "application/json"),
    ];
    let mut tried = 0;
    for (method, route) in ROUTES {
        for param in ["{id}", "{name}", "{seq}", "{n}"] {
            if !route.contains(param) {
                continue;
            }
            for escape in ESCAPES.iter().chain(["/etc/passwd", "%2F"].iter()) {
                let path = route
                    .replace(param, escape)
                    .replace("{id}", &s.id)
                    .replace("{name}", "app.js")
                    .replace("{seq}", "1")
                    .replace("{n}", "0");
                let a = request(s.addr, method, &path, &key, b"{}");
                tried += 1;
                assert!(
                    (400..500).contains(&a.status),
                    "{method} {path}: {} {}",
                    a.status,
                    a.text()
                );
                let text = a.text();
                assert!(
                    !text.contains("TOP-SECRET") && !text.contains("root:x:0:0"),
                    "{method} {path}: {text}"
                );
            }
        }
    }
    assert!(tried > 150, "{tried}");
    assert_eq!(before, listing(&sessions), "sessions/ changed");
    for entry in listing(s.home.path()) {
        assert!(
            top.contains(&entry) || ["index", "live"].contains(&entry.as_str()),
            "{entry} appeared in the home"
        );
    }
    s.answers();
}

#[test]
fn tokens_and_host_names_are_checked_on_a_real_server() {
    let token = "correct-horse-battery-staple";
    let s = site(Some(token), 1);
    let addr = s.addr;
    let bearer = format!("Bearer {token}");
    let cookie = format!("fixcast_token={token}");
    let sessions = "/api/sessions";
    let cases: Vec<(&str, Answer, u16)> = vec![
        ("no token", get(addr, sessions), 401),
        ("a wrong token", request(addr, "GET", sessions, &[("Authorization", "Bearer nope")], b""), 401),
        ("a prefix of it", request(addr, "GET", sessions, &[("Authorization", &bearer[..12])], b""), 401),
        ("the token", request(addr, "GET", sessions, &[("Authorization", &bearer)], b""), 200),
        ("its cookie", request(addr, "GET", sessions, &[("Cookie", &cookie)], b""), 200),
        (
            "the token for another host name",
            send_raw(
                addr,
                format!("GET {sessions} HTTP/1.1\r\nHost: evil.example\r\nAuthorization: {bearer}\r\nConnection: close\r\n\r\n").as_bytes(),
            ),
            403,
        ),
        ("a wrong link", get(addr, "/?token=wrong"), 401),
        ("a huge token", get(addr, &format!("/?token={}", "t".repeat(20_000))), 401),
        ("a link to another site", get(addr, &format!("//evil.example/x?token={token}")), 303),
    ];
    for (what, a, want) in &cases {
        assert_eq!(a.status, *want, "{what}: {}", a.text());
        assert_eq!(
            a.header("x-content-type-options").as_deref(),
            Some("nosniff"),
            "{what}"
        );
    }
    let to = cases.last().unwrap().1.header("location").unwrap();
    assert_eq!(to, "/evil.example/x");
    s.answers_with(&bearer);
}

impl Site {
    fn answers_with(&self, bearer: &str) {
        let a = request(
            self.addr,
            "GET",
            "/api/sessions",
            &[("Authorization", bearer)],
            b"",
        );
        assert_eq!(a.status, 200, "{a:?}");
    }
}

const KEY_A: &str = "a3f1c0d2e4b5968778695a4b3c2d1e0f";
const KEY_B: &str = "b3f1c0d2e4b5968778695a4b3c2d1e0f";

fn upload(addr: SocketAddr, path: &str, key: Option<&str>, body: &[u8]) -> Answer {
    let mut h = vec![("Content-Type", "application/json")];
    if let Some(k) = key {
        h.push(("Fixcast-Upload-Key", k));
    }
    request(addr, "POST", &format!("/api/upload/{path}"), &h, body)
}

/// Every file of a session, to see that a refused upload changed nothing.
fn files(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn uploads_write_only_the_sessions_they_started() {
    let s = site(None, 1);
    let addr = s.addr;
    // Sessions recorded on the server's machine: one by `fixcast rec`, one whose
    // recorder was killed (what it flushed is there, nobody holds its lock).
    s.home
        .ok(&["rec", "-c", "echo recorded here", "-t", "local work"]);
    let killed = killed_recording(s.home.path());
    let locals: Vec<String> = s.home.ids().into_iter().filter(|i| *i != s.id).collect();
    assert_eq!(locals.len(), 2);
    for local in &locals {
        refuses_to_write(&s, local);
    }
    let a = get(addr, &format!("/api/sessions/{killed}"));
    assert_eq!(a.json()["session"]["title"], "killed work", "{}", a.text());

    // One started by an uploader is written by that uploader only.
    let meta = fixcast_sessions::SessionMeta::new(fixcast_sessions::SessionId::generate(), 80, 24);
    let id = meta.id.to_string();
    let json = serde_json::to_vec(&meta).unwrap();
    let a = upload(addr, &format!("{id}/start"), Some(KEY_A), &json);
    assert_eq!(a.status, 200, "{}", a.text());
    for key in [None, Some(KEY_B)] {
        let a = upload(addr, &format!("{id}/start"), key, &json);
        assert_eq!(a.status, 403, "{}", a.text());
        let a = upload(addr, &format!("{id}/append?offset=0"), key, b"theirs");
        assert_eq!(a.status, 403, "{}", a.text());
    }
    let a = upload(addr, &format!("{id}/append?offset=0"), Some(KEY_A), b"mine");
    assert_eq!(a.json()["size"], 4, "{}", a.text());
    let stored = s
        .home
        .path()
        .join("sessions")
        .join(&id)
        .join("session.cast.zst");
    assert_eq!(std::fs::read(stored).unwrap(), b"mine");
    // Ids past the 48-bit time, or dated in the far future, are not sessions.
    for bad in ["ZZZZZZZZZZZZZZZZZZZZZZZZZZ", "7ZZZZZZZZZZZZZZZZZZZZZZZZZ"] {
        let a = upload(addr, &format!("{bad}/start"), Some(KEY_A), &json);
        assert_eq!(a.status, 400, "{}", a.text());
    }
}

/// A session whose recorder died: created through the store, some output flushed, its
/// writer dropped without finishing. Its id.
fn killed_recording(home: &std::path::Path) -> String {
    use fixcast_sessions::{asciicast::Header, Event, EventKind, SessionId, SessionMeta, Store};
    let store = Store::open(home).unwrap();
    let mut meta = SessionMeta::new(SessionId::generate(), 80, 24);
    meta.title = Some("killed work".into());
    let header = Header {
        cols: 80,
        rows: 24,
        ..Header::default()
    };
    let mut w = store.create(&meta, &header).unwrap();
    w.write(&Event::new(
        100_000,
        EventKind::Output("$ make\r\nok\r\n".into()),
    ))
    .unwrap();
    w.flush().unwrap();
    drop(w);
    meta.id.to_string()
}

/// Every upload request on a session recorded here, with or without a key, is refused
/// with 403 and changes not a byte of it; it still exports.
fn refuses_to_write(s: &Site, local: &str) {
    let dir = s.home.path().join("sessions").join(local);
    // Read once (a killed recording is marked interrupted then); from then on, as it is.
    let _ = get(s.addr, &format!("/api/sessions/{local}"));
    let before = files(&dir);
    let size = std::fs::metadata(dir.join("session.cast.zst"))
        .unwrap()
        .len();
    let mut meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("meta.json")).unwrap()).unwrap();
    meta["title"] = "taken over".into();
    meta["host"] = "elsewhere".into();
    meta["status"] = "recording".into();
    let start = serde_json::to_vec(&meta).unwrap();
    meta["status"] = "complete".into();
    let done = serde_json::to_vec(&meta).unwrap();
    for key in [None, Some(KEY_A)] {
        for (path, body) in [
            (format!("{local}/start"), &start[..]),
            (format!("{local}/append?offset={size}"), &b"junk"[..]),
            (format!("{local}/finish?offset={size}"), &done[..]),
        ] {
            let a = upload(s.addr, &path, key, body);
            assert_eq!(a.status, 403, "{path}: {}", a.text());
            let msg = a.json()["error"].as_str().unwrap_or("").to_owned();
            assert!(msg.contains("not uploaded"), "{}", a.text());
        }
    }
    assert!(before == files(&dir), "session {local} changed");
    let out = s.home.path().join(format!("{local}.cast"));
    s.home.ok(&["export", local, "-o", out.to_str().unwrap()]);
}
