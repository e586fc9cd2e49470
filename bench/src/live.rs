//! `live`: `fixcast serve` streaming a session being recorded (issue 6).
//!
//! 1. Latency: one `fixcast rec -c` session prints `tick <µs since the epoch>` every
//!    10 ms (bash's `$EPOCHREALTIME`, no fork); `--viewers` EventSource clients (std
//!    threads, raw HTTP/1.1 over loopback) subscribe to `GET /api/sessions/<id>/live` and
//!    compare each tick with the clock when its `data:` line arrives: p50/p99/max over a
//!    10 s window. Output reaches the server when the recorder flushes (at least once a
//!    second), so about a second is the design, not a fault.
//! 2. Capacity: more viewers join the same session, doubling up to `--max-viewers`; at
//!    each step, how many are served (got the snapshot and received an event in the last
//!    2.5 s), the latency over a 5 s window, and the server's RSS (`VmRSS` of its
//!    `/proc/<pid>/status`; peak `VmHWM`).
//! 3. The recorder with 0 vs `--viewers` viewers: `fixcast rec -c 'sleep 1; cat FILE'` on
//!    ~135 MB of base64 with a server on the same home; the viewers subscribe during the
//!    `sleep 1` (the session is found through `/api/sessions`), and only count bytes.
//!    Interleaved, medians of `--runs`; the wall time of `fixcast rec` and of `cat` in
//!    its PTY (timed by the shell), the CPU of the recorder, the server and the viewer
//!    clients (all on the same machine: on few CPUs they compete with the recorder), and
//!    a check that nothing was dropped.
//!
//! Loopback only. Every read has a timeout; the servers and recorders are stopped by pid
//! and the temp dirs removed at the end (and on error).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};

use crate::live_viewers::Pool;
use crate::serve::{stop_child, Server};
use crate::util::{self, list, mb, median_f64, percentile, TempDir};

/// Random bytes before base64 for the flood (as in `throughput`: ~135 MB of text).
const FLOOD_RAW_BYTES: usize = 100_000_000;
/// A recording of the flood that takes longer than this is killed (and the bench fails).
const REC_LIMIT: Duration = Duration::from_secs(180);
/// The ticking session stops by itself after this, whatever happens to the bench.
const TICK_LIMIT_S: u64 = 900;
/// Window of the latency figures at `--viewers`, and at each later step of the ramp.
const FIRST_WINDOW: Duration = Duration::from_secs(10);
const STEP_WINDOW: Duration = Duration::from_secs(5);
/// Before a window: time for the newcomers to settle.
const SETTLE: Duration = Duration::from_secs(2);
/// A viewer counts as served if it received an event this recently.
const FRESH: Duration = Duration::from_millis(2500);
/// How long the viewers of a step may take to get their snapshot.
const JOIN_LIMIT: Duration = Duration::from_secs(30);
/// The server's RSS goal.
const GOAL_RSS_MB: f64 = 500.0;

pub fn run(fixcast: &Path, runs: usize, viewers: usize, max_viewers: usize) -> anyhow::Result<()> {
    let tmp = TempDir::new("live")?;
    let max_viewers = max_viewers.max(viewers);
    let ramp = ramp_and_latency(fixcast, tmp.path(), viewers, max_viewers);
    if let Err(e) = &ramp {
        println!("live: latency/capacity: ERROR {e:#}");
    }
    let flood = flood(fixcast, tmp.path(), runs, viewers);
    if let Err(e) = &flood {
        println!("live: recorder throughput: ERROR {e:#}");
    }
    match (ramp, flood) {
        (Ok(()), Ok(())) => Ok(()),
        (Err(e), _) | (_, Err(e)) => Err(e),
    }
}

// ---------------------------------------------------------------------------------------
// 1 and 2. Latency and capacity

fn ramp_and_latency(
    fixcast: &Path,
    tmp: &Path,
    viewers: usize,
    max_viewers: usize,
) -> anyhow::Result<()> {
    println!(
        "== live latency: one `fixcast rec -c` session printing `tick <µs since the epoch>` every 10 ms (bash $EPOCHREALTIME); \
         {viewers} EventSource viewers (std threads, raw HTTP/1.1 on loopback) on GET /api/sessions/<id>/live; \
         latency = clock at the `data:` line's arrival - the tick's time; the recorder flushes at least once a second"
    );
    let home = tmp.join("ticks");
    std::fs::create_dir(&home)?;
    let server = Server::start(fixcast, &home, tmp)?;
    let stop_file = tmp.join("ticks.stop");
    let script = format!(
        "end=$((SECONDS+{TICK_LIMIT_S})); while [ ! -e '{}' ] && [ $SECONDS -lt $end ]; do \
         printf 'tick %s\\n' \"${{EPOCHREALTIME//[.,]/}}\"; sleep 0.01; done",
        stop_file.display()
    );
    let mut cmd = util::fixcast_cmd(
        fixcast,
        &home,
        &["rec", "-c", &script, "--cols", "120", "--rows", "30"],
    );
    cmd.env("SHELL", "/bin/bash").env("LC_ALL", "C");
    let rec = Recorder::start(cmd, stop_file)?;
    let id = live_id(server.addr, Duration::from_secs(20))?;
    let path = format!("/api/sessions/{id}/live");

    let t0 = Instant::now();
    let mut pool = Pool::new(server.addr, path, true, t0);
    let mut steps = vec![viewers];
    let mut n = viewers;
    while n < max_viewers {
        n = (n * 2).min(max_viewers);
        steps.push(n);
    }
    let mut first = true;
    for &n in &steps {
        let t = Instant::now();
        pool.grow_to(n)?;
        let joined = pool.wait_snapshots(JOIN_LIMIT);
        let join_s = t.elapsed().as_secs_f64();
        std::thread::sleep(SETTLE);
        let window = if first { FIRST_WINDOW } else { STEP_WINDOW };
        let from = t0.elapsed();
        std::thread::sleep(window);
        let to = t0.elapsed();
        let lat = pool.latencies(from, to);
        let served = pool.served(to, FRESH);
        let errors = pool.errors();
        let resyncs = pool.resyncs();
        let (rss, hwm, threads) = server.memory();
        let per_viewer = lat.len() as f64 / n.max(1) as f64 / window.as_secs_f64();
        if first {
            crate::report::figure(
                "live",
                format!("PTY output → {n} EventSource viewers, latency"),
                format!(
                    "p50 {:.0} ms, p99 {:.0} ms",
                    percentile(&lat, 50.0),
                    percentile(&lat, 99.0)
                ),
                "—",
                "—",
                None,
            );
            println!(
                "live latency: {n} viewers: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms, min {:.0} ms over {} ticks received in {:.0} s \
                 ({per_viewer:.0} ticks/s per viewer)",
                percentile(&lat, 50.0),
                percentile(&lat, 99.0),
                lat.iter().copied().fold(f64::NAN, f64::max),
                lat.iter().copied().fold(f64::NAN, f64::min),
                lat.len(),
                window.as_secs_f64()
            );
            println!(
                "== live capacity: more viewers on the same session, doubling up to {max_viewers}; served = got the snapshot and \
                 received an event in the last {:.1} s; server RSS from /proc/<pid>/status; goal: 1,000 viewers, RSS < {GOAL_RSS_MB:.0} MB",
                FRESH.as_secs_f64()
            );
            first = false;
        }
        println!(
            "live capacity: {n:>5} viewers: {served} served, {joined} got the snapshot (in {join_s:.1} s), {errors} failed, \
             {resyncs} resynchronised; latency p50 {:.0} ms p99 {:.0} ms ({per_viewer:.0} ticks/s per viewer); \
             server RSS {:.1} MB (peak {:.1} MB), {threads} threads",
            percentile(&lat, 50.0),
            percentile(&lat, 99.0),
            rss as f64 / 1024.0,
            hwm as f64 / 1024.0
        );
        if let Some(e) = pool.first_error() {
            println!("live capacity: first viewer error: {e}");
        }
        if served * 2 < n {
            println!("live capacity: fewer than half served; the ramp stops here");
            break;
        }
    }
    let (_, hwm, _) = server.memory();
    let held = pool.served(t0.elapsed(), FRESH);
    crate::report::figure(
        "live",
        "viewers one `serve` holds on a live session",
        format!(
            "{held} of {} served, peak RSS {:.1} MB",
            pool.len(),
            hwm as f64 / 1024.0
        ),
        "—",
        format!("{max_viewers} viewers, RSS < {GOAL_RSS_MB:.0} MB"),
        Some(held >= max_viewers && (hwm as f64 / 1024.0) < GOAL_RSS_MB),
    );
    println!(
        "live capacity: {held} of {} viewers served at the end; server peak RSS {:.1} MB (goal < {GOAL_RSS_MB:.0} MB)",
        pool.len(),
        hwm as f64 / 1024.0
    );
    drop(pool);
    rec.stop();
    drop(server);
    Ok(())
}

/// The id of the first session the server lists as live.
pub fn live_id(addr: SocketAddr, limit: Duration) -> anyhow::Result<String> {
    let deadline = Instant::now() + limit;
    loop {
        if let Ok((200, body)) = crate::http::get(
            addr,
            "/api/sessions?status=recording",
            Duration::from_secs(10),
        ) {
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let found = v["sessions"].as_array().and_then(|a| {
                a.iter()
                    .find(|s| s["live"] == true)
                    .and_then(|s| s["id"].as_str().map(str::to_owned))
            });
            if let Some(id) = found {
                return Ok(id);
            }
        }
        if Instant::now() > deadline {
            bail!(
                "no live session listed by the server within {} s",
                limit.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

// ---------------------------------------------------------------------------------------
// 3. The recorder's throughput with 0 vs N viewers

struct FloodRun {
    wall: f64,
    cat: f64,
    /// The viewers were all subscribed this long before `cat` started (negative: after).
    margin: f64,
    connected: usize,
    done: usize,
    bytes_median: f64,
    resyncs: usize,
    rss_peak_kib: u64,
    /// `bytes.dropped` of the recording (output the recorder's writer fell too far behind on).
    dropped: u64,
    /// CPU seconds (user + system): `fixcast rec` and its children, the server, and this
    /// process (the viewer clients) during the run.
    cpu_rec: f64,
    cpu_server: f64,
    cpu_clients: f64,
}

fn flood(fixcast: &Path, tmp: &Path, runs: usize, viewers: usize) -> anyhow::Result<()> {
    let file = tmp.join("flood.b64");
    let t = Instant::now();
    let size = crate::throughput::write_base64_file(&file, FLOOD_RAW_BYTES)?;
    println!(
        "== live recorder: wall time of `fixcast rec -c 'sleep 1; cat FILE' --cols 200 --rows 50` (FILE = {} of base64) with \
         `fixcast serve` running on its home and 0 vs {viewers} viewers subscribed to the session during the `sleep 1` \
         (the viewers only count bytes); also `cat`'s own time in the PTY (timed by the shell); interleaved, medians of {runs} \
         after one untimed warm-up each; goal: no measurable slowdown (file generated in {:.1} s)",
        mb(size),
        t.elapsed().as_secs_f64()
    );
    let mut zero: Vec<FloodRun> = Vec::new();
    let mut many: Vec<FloodRun> = Vec::new();
    let mut problems = Vec::new();
    for i in 0..=runs {
        let order = if i.is_multiple_of(2) {
            [0, viewers]
        } else {
            [viewers, 0]
        };
        for n in order {
            let home = TempDir::new("live-home")?;
            let r = {
                let before = problems.len();
                let r = flood_once(fixcast, tmp, home.path(), &file, size, n, &mut problems)?;
                let label = if i == 0 {
                    "warm-up".to_owned()
                } else {
                    format!("run {i}")
                };
                for p in &mut problems[before..] {
                    *p = format!("{label}: {p}");
                }
                r
            };
            drop(home);
            if i > 0 {
                if n == 0 { &mut zero } else { &mut many }.push(r);
            }
        }
    }
    let wall = |v: &[FloodRun]| v.iter().map(|r| r.wall).collect::<Vec<_>>();
    let cat = |v: &[FloodRun]| v.iter().map(|r| r.cat).collect::<Vec<_>>();
    let (w0, wn) = (median_f64(&wall(&zero)), median_f64(&wall(&many)));
    let (c0, cn) = (median_f64(&cat(&zero)), median_f64(&cat(&many)));
    let mbs = |t: f64| size as f64 / 1e6 / t;
    crate::report::figure(
        "live",
        format!("`rec` on the flood with {viewers} viewers vs none, wall"),
        crate::report::ratio(wn, w0),
        format!("0 viewers: {w0:.2} s"),
        "—",
        None,
    );
    println!(
        "live recorder: fixcast rec (incl. the 1 s sleep) 0 viewers {w0:.3} s, {viewers} viewers {wn:.3} s: ratio {:.3}x",
        wn / w0
    );
    println!(
        "live recorder: cat in the PTY 0 viewers {c0:.3} s ({:.0} MB/s), {viewers} viewers {cn:.3} s ({:.0} MB/s): ratio {:.3}x",
        mbs(c0),
        mbs(cn),
        cn / c0
    );
    if !many.is_empty() {
        let margins: Vec<f64> = many.iter().map(|r| r.margin).collect();
        println!(
            "live recorder: viewers subscribed {} s before cat started (per run); connected {:?}, got `done` {:?}, \
             median bytes received per viewer {}, resynchronised (snapshot instead of backlog) {:?}",
            list(&margins, 2),
            many.iter().map(|r| r.connected).collect::<Vec<_>>(),
            many.iter().map(|r| r.done).collect::<Vec<_>>(),
            many.iter()
                .map(|r| mb(r.bytes_median as u64))
                .collect::<Vec<_>>()
                .join(", "),
            many.iter().map(|r| r.resyncs).collect::<Vec<_>>(),
        );
    }
    let peak = |v: &[FloodRun]| v.iter().map(|r| r.rss_peak_kib).max().unwrap_or(0) as f64 / 1024.0;
    println!(
        "live recorder: server peak RSS during the flood: {:.1} MB with 0 viewers, {:.1} MB with {viewers}",
        peak(&zero),
        peak(&many)
    );
    println!(
        "live recorder: wall s per run: 0 viewers {}, {viewers} viewers {}; cat s: 0 viewers {}, {viewers} viewers {}",
        list(&wall(&zero), 3),
        list(&wall(&many), 3),
        list(&cat(&zero), 3),
        list(&cat(&many), 3)
    );
    let med =
        |v: &[FloodRun], f: fn(&FloodRun) -> f64| median_f64(&v.iter().map(f).collect::<Vec<_>>());
    println!(
        "live recorder: CPU s per run (user+sys, medians; {} CPUs): fixcast rec + cat {:.2} vs {:.2}, the server {:.2} vs {:.2}, \
         the bench's viewer clients {:.2} vs {:.2} (0 vs {viewers} viewers)",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        med(&zero, |r| r.cpu_rec),
        med(&many, |r| r.cpu_rec),
        med(&zero, |r| r.cpu_server),
        med(&many, |r| r.cpu_server),
        med(&zero, |r| r.cpu_clients),
        med(&many, |r| r.cpu_clients),
    );
    let dropped = |v: &[FloodRun]| {
        v.iter()
            .map(|r| r.dropped.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "live recorder: bytes.dropped per run (recorder's writer too far behind): 0 viewers [{}], {viewers} viewers [{}]; \
         load average at the end {}",
        dropped(&zero),
        dropped(&many),
        util::load_average()
    );
    for p in &problems {
        println!("live recorder: WARNING {p}");
    }
    Ok(())
}

fn flood_once(
    fixcast: &Path,
    tmp: &Path,
    home: &Path,
    file: &Path,
    size: u64,
    viewers: usize,
    problems: &mut Vec<String>,
) -> anyhow::Result<FloodRun> {
    let server = Server::start(fixcast, home, tmp)?;
    let times = home.join("cat.times");
    let script = format!(
        "sleep 1; s=$EPOCHREALTIME; cat '{}'; e=$EPOCHREALTIME; printf '%s %s\\n' \"$s\" \"$e\" > '{}'",
        file.display(),
        times.display()
    );
    let mut cmd = util::fixcast_cmd(
        fixcast,
        home,
        &["rec", "-c", &script, "--cols", "200", "--rows", "50"],
    );
    cmd.env("SHELL", "/bin/bash")
        .env("LC_ALL", "C")
        .current_dir(tmp);
    let self_cpu0 = self_cpu();
    let rec = std::thread::spawn(move || util::run_measured(&mut cmd, REC_LIMIT, "fixcast rec"));
    let t0 = Instant::now();
    let mut pool = None;
    let mut subscribed_at = f64::NAN;
    let mut rss_peak = 0;
    if viewers > 0 {
        let setup = (|| -> anyhow::Result<Pool> {
            let id = live_id(server.addr, Duration::from_secs(20))?;
            let mut p = Pool::new(server.addr, format!("/api/sessions/{id}/live"), false, t0);
            p.grow_to(viewers)?;
            p.wait_connected(JOIN_LIMIT);
            Ok(p)
        })();
        subscribed_at = epoch_secs();
        match setup {
            Ok(p) => pool = Some(p),
            Err(e) => problems.push(format!("viewers: {e:#}")),
        }
    }
    // Watch the server's memory while the recording runs.
    while !rec.is_finished() {
        rss_peak = rss_peak.max(server.memory().1);
        std::thread::sleep(Duration::from_millis(100));
    }
    let measured = rec
        .join()
        .map_err(|_| anyhow::anyhow!("the recorder thread panicked"))??;
    let (mut connected, mut done, mut bytes_median, mut resyncs) = (0, 0, 0.0, 0);
    if let Some(p) = &pool {
        // The stream ends once the server sees the recording unlocked (within ~0.5 s).
        let deadline = Instant::now() + Duration::from_secs(15);
        while p.done() < p.connected() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        connected = p.connected();
        done = p.done();
        bytes_median = median_f64(&p.bytes());
        resyncs = p.resyncs();
        if let Some(e) = p.first_error() {
            problems.push(format!("a viewer failed: {e}"));
        }
    }
    rss_peak = rss_peak.max(server.memory().1);
    let cpu_clients = self_cpu() - self_cpu0;
    let cpu_server = server.cpu();
    drop(pool);
    drop(server);
    let text = std::fs::read_to_string(&times).context("cat's times were not written")?;
    let t: Vec<f64> = text
        .split_whitespace()
        .filter_map(|s| s.replace(',', ".").parse().ok())
        .collect();
    let [s, e] = t[..] else {
        bail!("bad cat times {text:?}");
    };
    let sessions = util::sessions(fixcast, home)?;
    let mut dropped = 0;
    if let [s] = sessions.as_slice() {
        let output = s["bytes"]["output"].as_u64().unwrap_or(0);
        dropped = s["bytes"]["dropped"].as_u64().unwrap_or(0);
        let status = s["status"].as_str().unwrap_or("?");
        if output < size || dropped > 0 || status != "complete" {
            problems.push(format!(
                "{viewers} viewers: bytes.output {output} (file {size}), bytes.dropped {dropped}, status {status}"
            ));
        }
    } else {
        problems.push(format!("{} sessions after one rec", sessions.len()));
    }
    Ok(FloodRun {
        wall: measured.wall.as_secs_f64(),
        cat: e - s,
        margin: s - subscribed_at,
        connected,
        done,
        bytes_median,
        resyncs,
        rss_peak_kib: rss_peak,
        dropped,
        cpu_rec: measured.cpu.as_secs_f64(),
        cpu_server,
        cpu_clients,
    })
}

/// CPU seconds (user + system) of this process so far.
fn self_cpu() -> f64 {
    // SAFETY: rusage is plain old data; getrusage fills it.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid pointer to a local.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return f64::NAN;
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn epoch_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

// ---------------------------------------------------------------------------------------
// Processes and HTTP

/// The ticking `fixcast rec`: asked to stop through a file its loop checks, killed by pid
/// if it does not within 10 s (or on drop).
struct Recorder {
    child: Child,
    stop_file: PathBuf,
}

impl Recorder {
    fn start(mut cmd: Command, stop_file: PathBuf) -> anyhow::Result<Recorder> {
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start fixcast rec")?;
        Ok(Recorder { child, stop_file })
    }

    fn stop(mut self) {
        let _ = std::fs::write(&self.stop_file, b"");
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let _ = std::fs::write(&self.stop_file, b"");
        stop_child(&mut self.child);
    }
}
