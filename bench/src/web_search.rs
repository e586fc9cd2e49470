//! `web`, part 2: the search API under concurrent clients.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use fixcast_sessions::asciicast::{Header, Recording};
use fixcast_sessions::{CommandRecord, Event, EventKind, Store};

use crate::http::Conn;
use crate::serve::Server;
use crate::util::{self, percentile};

/// Commands in the search store, and the load.
const SEARCH_COMMANDS: usize = 5_000;
const CLIENTS: usize = 50;
const LOAD_FOR: Duration = Duration::from_secs(10);
const LOAD_REQUESTS: usize = 20_000;
/// Queries the clients take turns with (a mix of words, phrases, fields and a miss).
const QUERIES: &[&str] = &[
    "chattr -i",
    "\"Operation not permitted\"",
    "CrashLoopBackOff",
    "exit:!0 kubectl",
    "cmd:journalctl nginx",
    "OOMKilled",
    "\"connection refused\"",
    "host:node-7 df",
    "resolv.conf",
    "systemctl status postgresql",
    "NullPointerException",
    "tag:incident payments",
    "ImagePullBackOff OR ErrImagePull",
    "coredns",
    "/var/log",
    "zzzz-not-there",
];

pub fn run(fixcast: &Path, tmp: &Path) -> anyhow::Result<()> {
    println!(
        "== web search: GET /api/search?q=...&limit=20 from {CLIENTS} concurrent keep-alive clients on loopback \
         ({} queries in turn), for {} s or {LOAD_REQUESTS} requests; a store of {SEARCH_COMMANDS} commands",
        QUERIES.len(),
        LOAD_FOR.as_secs()
    );
    let home = tmp.join("search");
    std::fs::create_dir(&home)?;
    let t = Instant::now();
    let (sessions, commands) = search_store(&home)?;
    let stored_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    util::output_of(
        &mut util::fixcast_cmd(fixcast, &home, &["reindex"]),
        Duration::from_secs(300),
        "fixcast reindex",
    )?;
    println!(
        "web search: {commands} commands in {sessions} sessions stored in {stored_s:.1} s, indexed (fixcast reindex) in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let server = Server::start(fixcast, &home, tmp)?;
    // Every query once: the first opens the index; all must answer, most with hits.
    let paths: Vec<String> = QUERIES
        .iter()
        .map(|q| format!("/api/search?q={}&limit=20", percent_encode(q)))
        .collect();
    let mut with_hits = 0;
    for (q, p) in QUERIES.iter().zip(&paths) {
        let (status, body) = crate::http::get(server.addr, p, Duration::from_secs(60))?;
        if status != 200 {
            bail!(
                "search {q:?}: HTTP {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
        let v: serde_json::Value = serde_json::from_slice(&body).context("search answer")?;
        if v["hits"].as_array().is_some_and(|h| !h.is_empty()) {
            with_hits += 1;
        }
    }
    if with_hits < QUERIES.len() / 2 {
        bail!(
            "only {with_hits} of {} queries have hits: the store was not cut into commands?",
            QUERIES.len()
        );
    }

    let paths = Arc::new(paths);
    let sent = Arc::new(AtomicUsize::new(0));
    let t0 = Instant::now();
    let deadline = t0 + LOAD_FOR;
    let workers: Vec<_> = (0..CLIENTS)
        .map(|k| {
            let (paths, sent, addr) = (paths.clone(), sent.clone(), server.addr);
            std::thread::spawn(move || client(addr, &paths, k, &sent, deadline))
        })
        .collect();
    let mut lat = Vec::new();
    let mut errors = 0;
    let mut first_error = None;
    for w in workers {
        let r = w
            .join()
            .map_err(|_| anyhow::anyhow!("a client thread panicked"))?;
        lat.extend(r.latencies);
        errors += r.errors;
        first_error = first_error.or(r.first_error);
    }
    let wall = t0.elapsed().as_secs_f64();
    drop(server);
    if lat.is_empty() {
        bail!(
            "no request answered ({errors} errors: {})",
            first_error.unwrap_or_default()
        );
    }
    let ms: Vec<f64> = lat.iter().map(|d| d * 1e3).collect();
    let max = ms.iter().copied().fold(0.0, f64::max);
    println!(
        "web search: {n} requests in {wall:.1} s = {rate:.0} requests/s; latency p50 {p50:.1} ms, p99 {p99:.1} ms, max {max:.1} ms; \
         {errors} errors{first}; {with_hits} of {queries} queries have hits",
        n = ms.len(),
        rate = ms.len() as f64 / wall,
        p50 = percentile(&ms, 50.0),
        p99 = percentile(&ms, 99.0),
        queries = QUERIES.len(),
        first = first_error.map_or(String::new(), |e| format!(" (first: {e})"))
    );
    println!(
        "web search: note: the {CLIENTS} clients share the machine's {} CPUs with the server",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    Ok(())
}

/// What one client measured.
struct Load {
    latencies: Vec<f64>,
    errors: usize,
    first_error: Option<String>,
}

/// One keep-alive client: requests back to back (queries in turn, starting at its own)
/// until the deadline or the shared request budget is spent.
fn client(
    addr: SocketAddr,
    paths: &[String],
    k: usize,
    sent: &AtomicUsize,
    deadline: Instant,
) -> Load {
    let mut load = Load {
        latencies: Vec::new(),
        errors: 0,
        first_error: None,
    };
    let conn = Conn::open(addr, Duration::from_secs(30));
    let mut i = k;
    while Instant::now() < deadline && sent.fetch_add(1, Ordering::Relaxed) < LOAD_REQUESTS {
        let path = &paths[i % paths.len()];
        i += 1;
        let t = Instant::now();
        let r = conn.get(path).map(|r| (r.status, r.body));
        match r {
            Ok((200, _)) => load.latencies.push(t.elapsed().as_secs_f64()),
            Ok((status, body)) => {
                load.errors += 1;
                load.first_error.get_or_insert_with(|| {
                    format!("HTTP {status}: {}", String::from_utf8_lossy(&body))
                });
            }
            Err(e) => {
                load.errors += 1;
                load.first_error.get_or_insert_with(|| format!("{e:#}"));
            }
        }
    }
    load
}

/// The store for the load: the corpus's sessions as recordings an integrated bash would
/// have made (OSC 7/133/633 around each command), so the commands are cut as usual.
fn search_store(home: &Path) -> anyhow::Result<(usize, usize)> {
    let store = Store::open(home)?;
    let (mut sessions, mut commands) = (0, 0);
    for (meta, cmds) in crate::corpus::sessions(SEARCH_COMMANDS, 0xF1C5_0005) {
        let started = meta.started.unix_timestamp();
        let rec = Recording {
            header: Header {
                cols: meta.term.cols,
                rows: meta.term.rows,
                timestamp: Some(started),
                ..Header::default()
            },
            events: integrated_events(&cmds),
            damage: Vec::new(),
        };
        commands += cmds.len();
        sessions += 1;
        store.import(&rec, meta)?;
    }
    Ok((sessions, commands))
}

fn integrated_events(cmds: &[CommandRecord]) -> Vec<Event> {
    let osc = |s: &str| format!("\x1b]{s}\x07");
    let micros = |s: f64| (s * 1e6) as u64;
    let mut events = Vec::with_capacity(cmds.len() * 2 + 1);
    let mut end = 0.0;
    for c in cmds {
        let cwd = c.cwd.as_deref().unwrap_or("/");
        let escaped = c
            .command
            .replace('\\', "\\\\")
            .replace(';', "\\x3b")
            .replace('\n', "\\x0a");
        events.push(Event::new(
            micros(c.start - 0.5),
            EventKind::Output(format!(
                "{}{}\x1b[1;32mroot@host\x1b[0m:{cwd}# {}",
                osc(&format!("7;file://host{cwd}")),
                osc("133;A"),
                osc("133;B"),
            )),
        ));
        events.push(Event::new(
            micros(c.start),
            EventKind::Output(format!(
                "{}\r\n{}{}{}",
                c.command.replace('\n', "\r\n> "),
                osc(&format!("633;E;{escaped}")),
                osc("133;C"),
                c.output.replace('\n', "\r\n"),
            )),
        ));
        events.push(Event::new(
            micros(c.end),
            EventKind::Output(osc(&format!("133;D;{}", c.exit.unwrap_or(0)))),
        ));
        end = c.end;
    }
    events.push(Event::new(
        micros(end + 1.0),
        EventKind::Output(format!("{}{}# ", osc("133;A"), osc("133;B"))),
    ));
    events
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
