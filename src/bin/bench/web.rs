//! `web`: `fixcast serve` under load (issue 5).
//!
//! 1. Opening a long session at its very end: about `--mb` MB of output (default 1 GB)
//!    whose final screen carries a unique marker. Headless Chromium (a fresh profile per
//!    open, see `web.mjs`) times navigation start → the marker in the player's terminal
//!    text, for the session page as served (segmented) and with `?player=cast` (the plain
//!    cast to the same player), interleaved, medians of `--runs`. The segment cache is
//!    built once before (its time reported apart). A plain-cast open that fails (the
//!    player gives up, or 60 s pass) skips that candidate's remaining runs, and the
//!    comparison is made again at 100 MB, so there is still a ratio.
//! 2. The search API under 50 concurrent keep-alive clients (std threads, a minimal
//!    HTTP/1.1 client) against a store of a few thousand commands from the seeded corpus
//!    of `index`, imported as sessions with shell-integration marks: p50/p99/max latency
//!    and requests/s, for 10 s or 20,000 requests, whichever comes first.
//!
//! Loopback only; the servers and browsers are stopped and the temp dirs removed at the
//! end (and on error).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use fixcast_sessions::asciicast::{Header, Recording};
use fixcast_sessions::{CommandRecord, Event, EventKind, SessionId, SessionMeta, Store};

use crate::util::{self, list, mb, median_f64, percentile, Rng, TempDir};

/// The goal for opening the long session at its end, segmented.
const GOAL_OPEN_MS: f64 = 300.0;
/// How long one browser open may take before it counts as failed.
const OPEN_LIMIT: Duration = Duration::from_secs(60);
/// When the plain cast cannot be played at the size asked for, the comparison is made
/// again at this size too.
const FALLBACK_MB: usize = 100;
/// Building the segments (and cutting the commands) of the long session, first open.
const BUILD_LIMIT: Duration = Duration::from_secs(600);
/// The script behind each browser open; written to the temp dir.
const WEB_MJS: &str = include_str!("web.mjs");

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

pub fn run(fixcast: &Path, runs: usize, size_mb: usize) -> anyhow::Result<()> {
    let web_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("web");
    let tmp = TempDir::new("web")?;
    println!(
        "web: load average {} (1, 5, 15 min) on {} CPUs at the start; other work on the machine shows in these figures",
        load_average(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let open = open_at_end(fixcast, runs, size_mb, &web_dir, tmp.path());
    if let Err(e) = &open {
        println!("web: open: ERROR {e:#}");
    }
    let search = search_load(fixcast, tmp.path());
    if let Err(e) = &search {
        println!("web: search: ERROR {e:#}");
    }
    println!("web: load average {} at the end", load_average());
    match (open, search) {
        (Ok(()), Ok(())) => Ok(()),
        (Err(e), _) | (_, Err(e)) => Err(e),
    }
}

// ---------------------------------------------------------------------------------------
// 1. Opening a long session at its end

fn open_at_end(
    fixcast: &Path,
    runs: usize,
    size_mb: usize,
    web_dir: &Path,
    tmp: &Path,
) -> anyhow::Result<()> {
    println!(
        "== web open: a session with {size_mb} MB of output opened at its very end; headless Chromium, fresh profile per open, \
         navigation start -> the final screen's marker in the player's terminal text; segmented (the default page) vs \
         ?player=cast (the plain cast, same player), interleaved, medians of {runs}; goal <= {GOAL_OPEN_MS:.0} ms segmented"
    );
    if !web_dir.join("node_modules/playwright-core").is_dir() {
        bail!(
            "no playwright-core in {}: run `npm ci` there (it drives /usr/bin/chromium)",
            web_dir.display()
        );
    }
    if !have("node") || !Path::new(&chromium()).is_file() {
        bail!("needs node and Chromium ({} or $CHROMIUM)", chromium());
    }
    let script = tmp.join("web.mjs");
    std::fs::write(&script, WEB_MJS)?;

    let home = tmp.join("long");
    std::fs::create_dir(&home)?;
    let long = stored_long(&home, size_mb)?;
    let server = Server::start(fixcast, &home, tmp)?;
    let cast_failed = compare(&server, &home, &long, runs, &script, web_dir, "")?;
    if cast_failed && size_mb > FALLBACK_MB {
        println!(
            "web open: the plain cast cannot be played at {size_mb} MB; the same comparison at {FALLBACK_MB} MB, for a ratio:"
        );
        let small = stored_long(&home, FALLBACK_MB)?;
        let tag = format!("{FALLBACK_MB} MB: ");
        compare(&server, &home, &small, runs, &script, web_dir, &tag)?;
    }
    Ok(())
}

/// A long session of `size_mb` MB, stored in `home`, with what it took.
fn stored_long(home: &Path, size_mb: usize) -> anyhow::Result<Long> {
    let t = Instant::now();
    let long = long_session(home, size_mb)?;
    let stored = util::dir_bytes(&home.join("sessions").join(long.id.to_string()))?;
    println!(
        "web open: {} of output stored in {:.1} s: {} events over {:.0} s, {} on disk (zstd)",
        mb(long.output_bytes),
        t.elapsed().as_secs_f64(),
        long.events,
        long.duration,
        mb(stored)
    );
    Ok(long)
}

/// Builds the segment cache of `long` (timed), then opens it at its end, segmented and
/// as a plain cast in turn, and prints the figures, each line after `tag`. Whether the
/// plain cast failed.
fn compare(
    server: &Server,
    home: &Path,
    long: &Long,
    runs: usize,
    script: &Path,
    web_dir: &Path,
    tag: &str,
) -> anyhow::Result<bool> {
    let id = long.id.to_string();
    // The first open builds the segments, then the page cuts the commands: each cached
    // beside the session. Timed apart, through the API the page calls.
    let t = Instant::now();
    let (status, index) = http_get(
        server.addr,
        &format!("/api/sessions/{id}/segments"),
        BUILD_LIMIT,
    )?;
    if status != 200 {
        bail!(
            "segments index: HTTP {status}: {}",
            String::from_utf8_lossy(&index)
        );
    }
    let build_s = t.elapsed().as_secs_f64();
    let index: serde_json::Value = serde_json::from_slice(&index).context("segments index")?;
    let segments = index["segments"].as_array().map_or(0, Vec::len);
    let t = Instant::now();
    let (status, _) = http_get(server.addr, &format!("/api/sessions/{id}"), BUILD_LIMIT)?;
    if status != 200 {
        bail!("session: HTTP {status}");
    }
    let commands_s = t.elapsed().as_secs_f64();
    let cache = ["segments.v1.json", "segments.v1.bin"]
        .iter()
        .map(|f| std::fs::metadata(home.join("sessions").join(&id).join(f)).map_or(0, |m| m.len()))
        .sum::<u64>();
    println!(
        "web open: {tag}first open builds the segment cache: {build_s:.1} s ({:.0} MB/s of output; {segments} segments, {} on disk), \
         then cuts the commands: {commands_s:.2} s (both cached for later opens)",
        long.output_bytes as f64 / 1e6 / build_s,
        mb(cache)
    );

    let page = |cast: bool| {
        format!(
            "{}s/{id}?t={}{}",
            server.url,
            long.duration,
            if cast { "&player=cast" } else { "" }
        )
    };
    // One open of the segmented page unmeasured: the OS has the cache files and
    // Chromium's binary in memory for every run alike.
    let warm = open_once(script, web_dir, &page(false), &long.marker, false)?;
    println!(
        "web open: {tag}warm-up (segmented, not counted): {:.0} ms; final screen: {:?}",
        warm.ms,
        warm.screen.trim_end()
    );
    let mut seg: Vec<Opened> = Vec::new();
    let mut cast: Vec<Opened> = Vec::new();
    let mut cast_failed: Option<String> = None;
    for i in 0..runs {
        match open_once(script, web_dir, &page(false), &long.marker, true) {
            Ok(o) => seg.push(o),
            Err(e) => bail!("segmented open {}: {e:#}", i + 1),
        }
        if cast_failed.is_none() {
            match open_once(script, web_dir, &page(true), &long.marker, false) {
                Ok(o) => cast.push(o),
                Err(e) => cast_failed = Some(format!("run {}: {e:#}", i + 1)),
            }
        }
    }

    let med =
        |v: &[Opened], f: fn(&Opened) -> f64| median_f64(&v.iter().map(f).collect::<Vec<_>>());
    let ms = |v: &[Opened]| v.iter().map(|o| o.ms).collect::<Vec<_>>();
    let detail = |v: &[Opened]| {
        // The run nearest the median, for its slowest request.
        let m = med(v, |o| o.ms);
        let near = v
            .iter()
            .min_by(|a, b| (a.ms - m).abs().total_cmp(&(b.ms - m).abs()));
        format!(
            "first byte of the page at {:.0} ms, DOMContentLoaded {:.0} ms, {} downloaded; last API request (median run): {}",
            med(v, |o| o.ttfb_ms),
            med(v, |o| o.dcl_ms),
            mb(med(v, |o| o.bytes as f64) as u64),
            near.map_or("", |o| o.slowest.as_str())
        )
    };
    let s = med(&seg, |o| o.ms);
    println!(
        "web open: {tag}segmented: median {s:.0} ms (goal <= {GOAL_OPEN_MS:.0} ms: {}), runs {}",
        if s <= GOAL_OPEN_MS { "met" } else { "MISSED" },
        list(&ms(&seg), 0),
    );
    println!("web open: {tag}segmented: {}", detail(&seg));
    let again: Vec<f64> = seg.iter().filter_map(|o| o.again_ms).collect();
    println!(
        "web open: {tag}segmented, opened again in the same browser (assets and segments cached): median {:.0} ms, runs {}",
        median_f64(&again),
        list(&again, 0)
    );
    if !cast.is_empty() {
        let c = med(&cast, |o| o.ms);
        println!(
            "web open: {tag}plain cast: median {c:.0} ms, runs {}; segmented is {:.1}x faster",
            list(&ms(&cast), 0),
            c / s
        );
        println!("web open: {tag}plain cast: {}", detail(&cast));
    }
    let failed = cast_failed.is_some();
    if let Some(why) = cast_failed {
        println!(
            "web open: {tag}plain cast: FAILED to show the final screen ({why}); {} of {runs} runs done, the rest skipped \
             (the player reads the whole cast, {} of output as asciicast text, in one piece)",
            cast.len(),
            mb(long.output_bytes)
        );
    }
    Ok(failed)
}

struct Long {
    id: SessionId,
    marker: String,
    duration: f64,
    output_bytes: u64,
    events: usize,
}

/// About `size_mb` MB of base64-like build log (64 KiB every 0.2 s), then a cleared
/// screen with a unique marker; stored straight through the store (as `fixcast import`
/// does after parsing, without a gigabyte of JSON to parse first).
fn long_session(home: &Path, size_mb: usize) -> anyhow::Result<Long> {
    const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let store = Store::open(home)?;
    let mut r = Rng::new(0x5eed_0005);
    let marker = format!(
        "FIXCAST-BENCH-END-{:016x}",
        r.next_u64() ^ std::process::id() as u64
    );
    let target = size_mb as u64 * 1_000_000;
    let mut events = Vec::new();
    let (mut time, mut total, mut n) = (0u64, 0u64, 0u64);
    let mut line = [0u8; 76];
    while total < target {
        let mut chunk = String::with_capacity(66 * 1024);
        while chunk.len() < 64 * 1024 {
            n += 1;
            for part in line.chunks_mut(10) {
                let mut x = r.next_u64();
                for b in part {
                    *b = B64[(x & 63) as usize];
                    x >>= 6;
                }
            }
            chunk.push_str(&format!("\x1b[32m{n:>9}\x1b[0m "));
            chunk.push_str(std::str::from_utf8(&line).unwrap_or_default());
            chunk.push_str("\r\n");
        }
        total += chunk.len() as u64;
        time += 200_000;
        events.push(Event::new(time, EventKind::Output(chunk)));
    }
    time += 1_000_000;
    let last = format!("\x1b[2J\x1b[H\x1b[1m{marker}\x1b[0m after {n} lines\r\n$ ");
    total += last.len() as u64;
    events.push(Event::new(time, EventKind::Output(last)));
    let count = events.len();
    let rec = Recording {
        header: Header {
            cols: 120,
            rows: 30,
            ..Header::default()
        },
        events,
    };
    let mut meta = SessionMeta::new(SessionId::generate(), 120, 30);
    meta.title = Some(format!("{size_mb} MB of build output"));
    let meta = store.import(&rec, meta)?;
    Ok(Long {
        id: meta.id,
        marker,
        duration: time as f64 / 1e6,
        output_bytes: total,
        events: count,
    })
}

/// One measured open.
struct Opened {
    /// Navigation start -> the marker on screen.
    ms: f64,
    /// Navigation start -> the page's first byte, and its DOMContentLoaded end.
    ttfb_ms: f64,
    dcl_ms: f64,
    /// Bodies downloaded (page, assets, API).
    bytes: u64,
    /// The request that finished last, with its start and end.
    slowest: String,
    screen: String,
    /// A second open in the same browser (its cache warm).
    again_ms: Option<f64>,
}

/// Opens `url` in a fresh headless Chromium until `marker` is on the player's screen.
/// With `again`, opens it a second time in the same browser.
fn open_once(
    script: &Path,
    web_dir: &Path,
    url: &str,
    marker: &str,
    again: bool,
) -> anyhow::Result<Opened> {
    let mut cmd = Command::new("node");
    cmd.arg(script)
        .arg(web_dir)
        .arg(url)
        .arg(marker)
        .arg(OPEN_LIMIT.as_millis().to_string())
        .arg(if again { "1" } else { "0" })
        .current_dir(web_dir);
    // The script stops itself at OPEN_LIMIT (and reports failures as JSON, exit 0);
    // this only catches a hung or broken node.
    let out = util::output_of(
        &mut cmd,
        OPEN_LIMIT + Duration::from_secs(60),
        "node web.mjs",
    )?;
    let text = String::from_utf8_lossy(&out);
    let v: serde_json::Value = text
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok())
        .with_context(|| format!("no result from web.mjs: {text}"))?;
    if let Some(e) = v.get("error") {
        bail!("{}", e.as_str().unwrap_or("error"));
    }
    if let Some(p) = v["problems"].as_array().filter(|p| !p.is_empty()) {
        println!("web open: page problems: {p:?}");
    }
    Ok(Opened {
        ms: v["ms"].as_f64().context("no time")?,
        ttfb_ms: v["ttfbMs"].as_f64().unwrap_or(f64::NAN),
        dcl_ms: v["dclMs"].as_f64().unwrap_or(f64::NAN),
        bytes: v["bytes"].as_u64().unwrap_or(0),
        slowest: v["slowest"].as_str().unwrap_or("").to_owned(),
        screen: v["screen"].as_str().unwrap_or("").to_owned(),
        again_ms: v["againMs"].as_f64(),
    })
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "unknown".into(),
        |l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    )
}

fn chromium() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

fn have(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
}

// ---------------------------------------------------------------------------------------
// 2. The search API under concurrent clients

fn search_load(fixcast: &Path, tmp: &Path) -> anyhow::Result<()> {
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
        let (status, body) = http_get(server.addr, p, Duration::from_secs(60))?;
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
    let mut conn: Option<Conn> = None;
    let mut i = k;
    while Instant::now() < deadline && sent.fetch_add(1, Ordering::Relaxed) < LOAD_REQUESTS {
        let path = &paths[i % paths.len()];
        i += 1;
        let t = Instant::now();
        let r = (|| -> anyhow::Result<(u16, Vec<u8>)> {
            if conn.is_none() {
                conn = Some(Conn::open(addr, Duration::from_secs(30))?);
            }
            let c = conn.as_mut().expect("just opened");
            let r = c.get(path);
            if r.as_ref().map_or(true, |r| r.close) {
                conn = None;
            }
            r.map(|r| (r.status, r.body))
        })();
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

// ---------------------------------------------------------------------------------------
// The server and a minimal HTTP/1.1 client

/// `fixcast serve --bind 127.0.0.1:0` on a home; stopped (SIGTERM, then killed) on drop.
struct Server {
    child: Child,
    addr: SocketAddr,
    url: String,
}

impl Server {
    fn start(fixcast: &Path, home: &Path, tmp: &Path) -> anyhow::Result<Server> {
        let log = std::fs::File::create(tmp.join(format!(
            "serve-{}.log",
            home.file_name().and_then(|n| n.to_str()).unwrap_or("home")
        )))?;
        let mut child = util::fixcast_cmd(fixcast, home, &["serve", "--bind", "127.0.0.1:0"])
            .env_remove("FIXCAST_TOKEN")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .context("cannot start fixcast serve")?;
        let out = child.stdout.take().context("stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(out).read_line(&mut line);
            let _ = tx.send(line);
        });
        let mut server = Server {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            url: String::new(),
        };
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .context("fixcast serve printed no address within 30 s")?;
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .with_context(|| format!("no address in {line:?}"))?;
        server.addr = url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .with_context(|| format!("bad address in {line:?}"))?;
        server.url = url.to_owned();
        Ok(server)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // SAFETY: plain syscall on our own child, not reaped yet.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 connection, kept alive between requests.
struct Conn {
    stream: BufReader<TcpStream>,
    host: String,
}

struct Answer {
    status: u16,
    body: Vec<u8>,
    /// The server closes the connection after this answer.
    close: bool,
}

impl Conn {
    fn open(addr: SocketAddr, timeout: Duration) -> anyhow::Result<Conn> {
        let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
            .with_context(|| format!("cannot connect to {addr}"))?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(timeout))?;
        s.set_write_timeout(Some(timeout))?;
        Ok(Conn {
            stream: BufReader::with_capacity(64 * 1024, s),
            host: addr.to_string(),
        })
    }

    fn get(&mut self, path: &str) -> anyhow::Result<Answer> {
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nAccept: */*\r\n\r\n",
            self.host
        );
        self.stream.get_mut().write_all(req.as_bytes())?;
        let mut line = String::new();
        self.read_line(&mut line)?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .with_context(|| format!("bad status line {line:?}"))?;
        let (mut length, mut chunked, mut close) = (None, false, false);
        loop {
            line.clear();
            self.read_line(&mut line)?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let Some((name, value)) = l.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.parse::<usize>().ok(),
                "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
                "connection" => close = value.eq_ignore_ascii_case("close"),
                _ => {}
            }
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                line.clear();
                self.read_line(&mut line)?;
                let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                    .with_context(|| format!("bad chunk size {line:?}"))?;
                if size == 0 {
                    // Trailers, up to the empty line.
                    loop {
                        line.clear();
                        self.read_line(&mut line)?;
                        if line.trim_end().is_empty() {
                            break;
                        }
                    }
                    break;
                }
                let at = body.len();
                body.resize(at + size, 0);
                self.stream.read_exact(&mut body[at..])?;
                line.clear();
                self.read_line(&mut line)?;
            }
        } else if let Some(n) = length {
            body.resize(n, 0);
            self.stream.read_exact(&mut body)?;
        } else {
            self.stream.read_to_end(&mut body)?;
            close = true;
        }
        Ok(Answer {
            status,
            body,
            close,
        })
    }

    fn read_line(&mut self, line: &mut String) -> anyhow::Result<()> {
        if self.stream.read_line(line)? == 0 {
            bail!("connection closed by the server");
        }
        Ok(())
    }
}

/// One request on a fresh connection.
fn http_get(addr: SocketAddr, path: &str, timeout: Duration) -> anyhow::Result<(u16, Vec<u8>)> {
    let a = Conn::open(addr, timeout)?.get(path)?;
    Ok((a.status, a.body))
}
