//! `live-growth`: what a look at a session being recorded costs as the recording grows.
//!
//! `fixcast serve` follows each live session incrementally (a look reads what the
//! recording gained since the last look), where it used to read and cut the whole
//! recording at every look. This grows one live session and measures, at each size:
//!
//! a. `GET /api/sessions/<id>`: the live page's poll (every second per viewer);
//! b. `GET /api/search?q=<word>`: a search that catches the index up with the session
//!    (the server reuses its index for 500 ms; the samples are further apart than that);
//! c. `fixcast show <id> --commands --json`, one-shot on the same home: it reads and cuts
//!    the whole recording, as every look used to (it also prints the commands' output as
//!    JSON, to /dev/null).
//!
//! The session: `fixcast rec` (no `-c`) running bash, its stdin a pipe (so bash runs
//! interactively with fixcast's shell integration and each line written is a command),
//! `HOME` a temp dir whose `.bashrc` sets a plain prompt, no history file, and a
//! `PROMPT_COMMAND` counting prompts into a file: a command is written only once the
//! previous one is done. It grows by commands printing ~20 kB each (alternately
//! `head -c 15000 /dev/urandom | base64` and a `seq` from a random start), each with a
//! marker word of its own. The size reported is the bytes of `o` (output) events in the
//! recording as flushed so far (the prompts, echo and integration sequences included),
//! followed by this benchmark with the same incremental reader the server uses.
//!
//! While it grows, a viewer polls `GET /api/sessions/<id>` every second, as a live page
//! does. At each checkpoint the growth pauses, one untimed look and search catch up with
//! it (the search indexes everything the session gained since the last one: its time, and
//! how long the server stays busy after it, are printed too), and each of `--runs`
//! samples first runs one small new command (`printf` of a fresh word), waits until the
//! recorder has flushed it and the server is idle (under 10% of a CPU: its index merges
//! segments in the background, which would slow down c as much as a and b), then times
//! c, a, and b (searching that word: the hit must be this session's newest command).
//! Also checked at each checkpoint (untimed): the commands the server gives equal those of
//! the whole-recording cut. The server's RSS is split into anonymous memory and mapped
//! files (the index) from `/proc/<pid>/status`.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use fixcast_sessions::{SessionId, Store};

use crate::live_session::{word, Follow, Poller, Shell, COMMAND_LIMIT, HTTP_TIMEOUT};
use crate::serve::Server;
use crate::util::{self, median_f64, percentile, Rng, TempDir};

/// Output per growth command, about (what the sizes are estimated with between reads).
const BYTES_PER_COMMAND: u64 = 20_500;
/// The server reuses an opened index this long before catching it up again.
const INDEX_REUSE: Duration = Duration::from_millis(500);
/// Between two searches, so that each catches up.
const SEARCH_GAP: Duration = Duration::from_millis(650);
/// Once the growth pauses: at least this long for the recorder's flush.
const FLUSH_WAIT: Duration = Duration::from_millis(1500);
const SHOW_LIMIT: Duration = Duration::from_secs(120);
/// Before each sample, the server is given this long to finish what it was doing.
const IDLE_LIMIT: Duration = Duration::from_secs(20);

pub fn run(fixcast: &Path, runs: usize, max_mb: usize) -> anyhow::Result<()> {
    let runs = runs.max(1);
    let checkpoints = checkpoints(max_mb.max(1));
    println!(
        "== live-growth: one live session (`fixcast rec` running bash, commands written into its stdin) grown to {max_mb} MB \
         of output; at {} MB, {runs} samples each (after one small new command, flushed) of \
         (a) GET /api/sessions/<id> (the live page's poll), (b) GET /api/search?q=<a word only the newest command printed> \
         (a catch-up of the index; samples > {} ms apart), (c) the old per-look cost: `fixcast show <id> --commands --json` \
         one-shot (a whole read and cut; its JSON, output included, to /dev/null). MB = bytes of output events flushed \
         so far (prompts and echo included). A viewer polls (a) every second while the session grows",
        checkpoints
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        INDEX_REUSE.as_millis()
    );
    let tmp = TempDir::new("live-growth")?;
    let home = tmp.path().join("home");
    let user = tmp.path().join("user");
    std::fs::create_dir(&home)?;
    std::fs::create_dir(&user)?;
    let progress = tmp.path().join("prompts");
    std::fs::write(
        user.join(".bashrc"),
        "PS1='$ '\nHISTFILE=/dev/null\n\
         PROMPT_COMMAND='__lg_n=$((__lg_n+1)); echo \"$__lg_n\" > \"$LG_PROMPTS\"'\n",
    )?;
    let server = Server::start(fixcast, &home, tmp.path())?;
    let mut shell = Shell::start(fixcast, &home, &user, &progress, tmp.path())?;
    let result = measure(fixcast, &home, &server, &mut shell, runs, &checkpoints);
    let ended = shell.end();
    drop(server);
    if let Err(e) = &result {
        // What the recorder said, if anything: often the reason.
        let err = std::fs::read_to_string(tmp.path().join("rec.err")).unwrap_or_default();
        if !err.trim().is_empty() {
            println!(
                "live-growth: fixcast rec's stderr: {}",
                err.trim().lines().take(10).collect::<Vec<_>>().join(" | ")
            );
        }
        bail!("{e:#}");
    }
    match ended {
        Ok(s) => println!("live-growth: the session ended ({s})"),
        Err(e) => println!("live-growth: WARNING ending the session: {e:#}"),
    }
    Ok(())
}

/// 1, 5, 10, 20, then doubling, up to `max` (which is always the last).
fn checkpoints(max: usize) -> Vec<usize> {
    let mut v: Vec<usize> = [1, 5, 10, 20].into_iter().filter(|&c| c < max).collect();
    let mut c = 40;
    while c < max {
        v.push(c);
        c *= 2;
    }
    v.push(max);
    v
}

/// The figures at one checkpoint.
struct Point {
    bytes: u64,
    commands: usize,
    a: Vec<f64>,
    b: Vec<f64>,
    c: Vec<f64>,
}

fn measure(
    fixcast: &Path,
    home: &Path,
    server: &Server,
    shell: &mut Shell,
    runs: usize,
    checkpoints: &[usize],
) -> anyhow::Result<()> {
    shell.wait_prompts(1, COMMAND_LIMIT)?;
    let id = crate::live::live_id(server.addr, Duration::from_secs(20))?;
    let (store, sid) = (Store::open(home)?, id.parse::<SessionId>()?);
    let mut tail = Follow::new(store.session(&sid).cast_path());
    let session_path = format!("/api/sessions/{id}");
    let mut rng = Rng::new(0x6c69_7665_6772_6f77);
    let mut points: Vec<Point> = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    let mut last_search = Instant::now() - SEARCH_GAP;
    let t_growth = Instant::now();
    let mut growth_time = Duration::ZERO;
    for &target_mb in checkpoints {
        let target = target_mb as u64 * 1_000_000;
        // Grow, with a viewer polling.
        let t = Instant::now();
        let viewer = Poller::start(server.addr, session_path.clone());
        while tail.bytes + (shell.commands - tail.newest) as u64 * BYTES_PER_COMMAND < target {
            shell.command(&growth_command(shell.commands + 1, &mut rng))?;
            if shell.commands.is_multiple_of(10) {
                // What was flushed, plus an estimate for the commands not flushed yet.
                tail.update()?;
            }
        }
        let polls = viewer.stop();
        let grew = t.elapsed();
        growth_time += grew;
        // Pause: the recorder flushes within a second.
        let last = shell.commands;
        tail.wait_for(last, COMMAND_LIMIT)?;
        std::thread::sleep(FLUSH_WAIT.saturating_sub(Instant::now() - shell.last_write));
        tail.update()?;
        let t = Instant::now();
        look(server.addr, &session_path)?;
        let first_look = t.elapsed().as_secs_f64() * 1e3;
        sleep_until(last_search + SEARCH_GAP);
        let t = Instant::now();
        let _ = search(server.addr, &word(last))?;
        let first_search = t.elapsed().as_secs_f64() * 1e3;
        last_search = Instant::now();
        let busy = wait_idle(server, Duration::from_secs(120));

        let mut p = Point {
            bytes: 0,
            commands: 0,
            a: Vec::new(),
            b: Vec::new(),
            c: Vec::new(),
        };
        let mut misses = (0, 0);
        for _ in 0..runs {
            let k = shell.commands + 1;
            shell.command(&format!("printf 'growth%smark\\n' {k}"))?;
            tail.wait_for(k, COMMAND_LIMIT)?;
            // Nothing else running in the server (its index merging segments in the
            // background would slow down c as much as a and b).
            wait_idle(server, IDLE_LIMIT);
            // c. The old cost of a look: a whole read and cut.
            let m = util::run_measured(
                &mut util::fixcast_cmd(fixcast, home, &["show", &id, "--commands", "--json"]),
                SHOW_LIMIT,
                "fixcast show --commands --json",
            )?;
            p.c.push(m.wall.as_secs_f64() * 1e3);
            sleep_until(last_search + SEARCH_GAP);
            // a. The live page's poll.
            let t = Instant::now();
            let v = look(server.addr, &session_path)?;
            p.a.push(t.elapsed().as_secs_f64() * 1e3);
            let newest = v["commands"]
                .as_array()
                .and_then(|c| c.last())
                .and_then(|c| c["command"].as_str())
                .unwrap_or("");
            if !newest.ends_with(&format!(" {k}")) {
                misses.0 += 1;
                if misses.0 == 1 {
                    problems.push(format!(
                        "at {target_mb} MB: GET /api/sessions/<id>: the newest command is {newest:?}, not command {k}"
                    ));
                }
            }
            // b. A search that catches the index up.
            let t = Instant::now();
            let hits = search(server.addr, &word(k))?;
            p.b.push(t.elapsed().as_secs_f64() * 1e3);
            last_search = Instant::now();
            let found = hits.iter().any(|h| {
                h["session"].as_str() == Some(id.as_str())
                    && h["command"]
                        .as_str()
                        .is_some_and(|c| c.ends_with(&format!(" {k}")))
            });
            if !found {
                misses.1 += 1;
                if misses.1 == 1 {
                    problems.push(format!(
                        "at {target_mb} MB: search {}: {} hits, none is command {k} of the session",
                        word(k),
                        hits.len()
                    ));
                }
            }
        }
        tail.update()?;
        p.bytes = tail.bytes;
        p.commands = shell.commands;
        // Untimed: the server's incremental cut equals a whole cut.
        let same = compare_cuts(fixcast, home, server.addr, &id, &session_path);
        if let Err(e) = &same {
            problems.push(format!("at {target_mb} MB: {e:#}"));
        }
        println!(
            "live-growth: {:>6.1} MB, {:>5} commands: (a) poll {} | (b) search {} | (c) show {} \
             [grew in {:.1} s, viewer poll while growing p50 {:.1} / max {:.1} ms over {}; \
             first look / search after growth {first_look:.1} / {first_search:.1} ms, then the server busy {busy:.1} s; \
             hits missing: poll {}, search {}; server cut = whole cut: {}; server RSS {}]",
            p.bytes as f64 / 1e6,
            p.commands,
            fig(&p.a),
            fig(&p.b),
            fig(&p.c),
            grew.as_secs_f64(),
            percentile(&polls, 50.0),
            polls.iter().copied().fold(f64::NAN, f64::max),
            polls.len(),
            misses.0,
            misses.1,
            if same.is_ok() { "yes" } else { "NO" },
            rss(server),
        );
        points.push(p);
    }
    let (first, last) = (&points[0], &points[points.len() - 1]);
    let ratio = |f: fn(&Point) -> &Vec<f64>| median_f64(f(last)) / median_f64(f(first));
    println!(
        "live-growth: from {:.1} to {:.1} MB ({:.1}x the output, {:.1}x the commands), median time grew: \
         (a) poll {:.2}x, (b) search {:.2}x, (c) show (old per-look cost) {:.2}x",
        first.bytes as f64 / 1e6,
        last.bytes as f64 / 1e6,
        last.bytes as f64 / first.bytes.max(1) as f64,
        last.commands as f64 / first.commands.max(1) as f64,
        ratio(|p| &p.a),
        ratio(|p| &p.b),
        ratio(|p| &p.c),
    );
    println!(
        "live-growth: growing took {:.1} s of {:.1} s; server RSS {} (peak {:.1} MB), CPU {:.1} s; load average {}",
        growth_time.as_secs_f64(),
        t_growth.elapsed().as_secs_f64(),
        rss(server),
        server.memory().1 as f64 / 1024.0,
        server.cpu(),
        util::load_average()
    );
    for p in &problems {
        println!("live-growth: WARNING {p}");
    }
    Ok(())
}

/// `median ms (max ms)`.
fn fig(xs: &[f64]) -> String {
    format!(
        "{:.1} ms (max {:.1})",
        median_f64(xs),
        xs.iter().copied().fold(f64::NAN, f64::max)
    )
}

/// A command printing its word, then ~20 kB: random base64, or a `seq` from a random start.
fn growth_command(k: usize, rng: &mut Rng) -> String {
    if k.is_multiple_of(2) {
        format!("printf 'growth%smark\\n' {k}; head -c 15000 /dev/urandom | base64")
    } else {
        let from = 1_000_000 + rng.below(8_000_000);
        format!("printf 'growth%smark\\n' {k}; seq {from} {}", from + 2_199)
    }
}

/// Waits until the server uses under 10% of a CPU (over 200 ms), at most `limit`; the
/// seconds waited.
fn wait_idle(server: &Server, limit: Duration) -> f64 {
    let t = Instant::now();
    loop {
        let before = server.cpu();
        std::thread::sleep(Duration::from_millis(200));
        let used = server.cpu() - before;
        // NaN (no /proc): do not wait.
        if used.is_nan() || used < 0.02 || t.elapsed() > limit {
            return t.elapsed().as_secs_f64();
        }
    }
}

/// The server's `VmRSS`, and how much of it is anonymous memory vs mapped files (the
/// index), from `/proc/<pid>/status`.
fn rss(server: &Server) -> String {
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", server.pid())).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
            .map_or(f64::NAN, |kib| kib / 1024.0)
    };
    format!(
        "{:.0} MB: {:.0} anon, {:.0} files",
        field("VmRSS:"),
        field("RssAnon:"),
        field("RssFile:")
    )
}

fn sleep_until(t: Instant) {
    let now = Instant::now();
    if t > now {
        std::thread::sleep(t - now);
    }
}

/// `GET /api/sessions/<id>`, parsed.
fn look(addr: SocketAddr, path: &str) -> anyhow::Result<serde_json::Value> {
    let (status, body) = crate::http::get(addr, path, HTTP_TIMEOUT)?;
    if status != 200 {
        bail!(
            "GET {path}: HTTP {status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        );
    }
    serde_json::from_slice(&body).with_context(|| format!("GET {path}: not JSON"))
}

/// `GET /api/search?q=<word>`: the hits.
fn search(addr: SocketAddr, word: &str) -> anyhow::Result<Vec<serde_json::Value>> {
    let path = format!("/api/search?q={word}&limit=10");
    let (status, body) = crate::http::get(addr, &path, HTTP_TIMEOUT)?;
    if status != 200 {
        bail!(
            "GET {path}: HTTP {status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        );
    }
    let v: serde_json::Value =
        serde_json::from_slice(&body).with_context(|| format!("GET {path}: not JSON"))?;
    Ok(v["hits"].as_array().cloned().unwrap_or_default())
}

/// The commands of `GET /api/sessions/<id>` against those of `fixcast show --json`: seq,
/// command line, exit status and start.
fn compare_cuts(
    fixcast: &Path,
    home: &Path,
    addr: SocketAddr,
    id: &str,
    path: &str,
) -> anyhow::Result<()> {
    let served = look(addr, path)?;
    let served = served["commands"].as_array().cloned().unwrap_or_default();
    let out = util::output_of(
        &mut util::fixcast_cmd(fixcast, home, &["show", id, "--commands", "--json"]),
        SHOW_LIMIT,
        "fixcast show --commands --json",
    )?;
    let whole: serde_json::Value =
        serde_json::from_slice(&out).context("fixcast show --commands --json printed no JSON")?;
    let whole = whole.as_array().cloned().unwrap_or_default();
    if served.len() != whole.len() {
        bail!(
            "the server gives {} commands, a whole cut {}",
            served.len(),
            whole.len()
        );
    }
    for (s, w) in served.iter().zip(&whole) {
        let differs = ["seq", "command", "exit"].iter().any(|f| s[f] != w[f])
            || (s["start"].as_f64().unwrap_or(f64::NAN) - w["start"].as_f64().unwrap_or(0.0)).abs()
                > 1e-3;
        if differs {
            let brief = |c: &serde_json::Value| {
                format!(
                    "seq {} {:?} exit {} at {}",
                    c["seq"], c["command"], c["exit"], c["start"]
                )
            };
            bail!(
                "the server's command differs from the whole cut's: {} vs {}",
                brief(s),
                brief(w)
            );
        }
    }
    Ok(())
}
