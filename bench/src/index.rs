//! `index`: the knowledge base at scale. A synthetic corpus (see [`crate::corpus`]) is
//! recorded into a real store as bash with fixcast's integration would have printed it,
//! cut by the product's cutter (see [`crate::corpus_cast`]), and the cut commands are
//! indexed through the indexer's API, as `reindex` indexes them; then 50 fixed queries
//! are timed against the index and, for comparison, `grep -c` over the same cut commands
//! exported as text.
//!
//! The corpus streams: it is generated, recorded, cut, exported and indexed a batch of
//! sessions at a time, so 10M commands never sit in memory at once (the writer's heap
//! and a batch do); the recordings stay on disk, where a search reads output back.

use std::io::{BufWriter, Write};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context;
use fixcast_indexer::{parse, CommandIndex, Outputs, ParseContext, SpaceUsage};
use fixcast_recorder::outputs_again;
use fixcast_sessions::{Again, CastReader, Plan, SessionId, Store};

use crate::report::{count, figure};
use crate::util::{dir_bytes, list, mb, median_f64, output_of, percentile, TempDir};
use crate::{corpus, corpus_cast};

/// The queries, each with the fixed string `grep -c -i -F` looks for to answer it
/// (grep has no fields: it gets the main literal).
pub(crate) const QUERIES: &[(&str, &str)] = &[
    ("lsattr", "lsattr"),
    ("chattr -i", "chattr -i"),
    ("\"Operation not permitted\"", "Operation not permitted"),
    ("exit:!0 chattr", "chattr"),
    ("cmd:echo out:permitted", "permitted"),
    ("CrashLoopBackOff", "CrashLoopBackOff"),
    ("\"connection refused\"", "connection refused"),
    ("OOMKilled", "OOMKilled"),
    ("\"Out of memory\"", "Out of memory"),
    ("kube-system", "kube-system"),
    ("coredns", "coredns"),
    ("exit:!0 kubectl", "kubectl"),
    ("cmd:journalctl nginx", "journalctl"),
    ("10.0.3.17", "10.0.3.17"),
    (":8443", ":8443"),
    ("10.1.7.42:8080", "10.1.7.42:8080"),
    ("NullPointerException", "NullPointerException"),
    (
        "\"Traceback (most recent call last)\"",
        "Traceback (most recent call last)",
    ),
    ("ModuleNotFoundError psycopg2", "psycopg2"),
    ("EXT4-fs error", "EXT4-fs error"),
    ("nf_conntrack", "nf_conntrack"),
    ("apparmor DENIED", "apparmor"),
    ("host:node-7 df", "node-7"),
    ("user:deploy systemctl", "systemctl"),
    ("tag:incident payments", "payments"),
    ("title:\"disk full\"", "disk full"),
    ("systemctl status postgresql", "systemctl status postgresql"),
    ("\"Failed to start\"", "Failed to start"),
    ("/etc/resolv.conf", "/etc/resolv.conf"),
    ("resolv.conf", "resolv.conf"),
    ("nginx.conf", "nginx.conf"),
    ("cwd:/var/log ls", "/var/log"),
    ("ImagePullBackOff OR ErrImagePull", "ImagePullBackOff"),
    ("Readiness probe failed", "Readiness probe failed"),
    ("checkout -staging", "checkout"),
    ("ledger", "ledger"),
    ("/usr/sbin/haproxy", "/usr/sbin/haproxy"),
    ("curl healthz exit:7", "healthz"),
    ("\"HTTP/1.1 200 OK\"", "HTTP/1.1 200 OK"),
    ("sha256sum", "sha256sum"),
    ("chown \"root:root\"", "chown root:root"),
    ("Forbidden namespace", "Forbidden"),
    ("java.lang.OutOfMemoryError", "java.lang.OutOfMemoryError"),
    ("KeyError DATABASE_URL", "DATABASE_URL"),
    ("after:2026-03-01 etcd", "etcd"),
    ("before:2026-02-01 redis-server", "redis-server"),
    (
        "\"table full, dropping packet\"",
        "table full, dropping packet",
    ),
    ("inode lblock", "lblock"),
    ("id_rsa.pub", "id_rsa.pub"),
    ("zzzz-not-there", "zzzz-not-there"),
];

/// Sessions generated, recorded, cut (and exported) before they are indexed: about 50k
/// commands, some 30 MB of text, whatever the size of the corpus.
const BATCH_SESSIONS: usize = 1_000;

/// The goals (fixcast issue 15), read at every size.
const GOAL_SIZE: f64 = 0.6;
const GOAL_P99_MS: f64 = 15.0;
const GOAL_VS_GREP: f64 = 150.0;
const GOAL_RATE: f64 = 20_000.0;

/// What one command costs (for the estimate told before a long run), measured at 10M on
/// 2 quiet cores: bytes of exported text and of index, seconds for the whole size
/// (generate, build, merge: 560 s; 150 queries and 50 greps over 6 GB, a few minutes
/// more). The merge into one segment holds the old segments and the new one at once:
/// twice the index at its peak. Recording and cutting (measured at 1M, busy cores) add
/// their bytes and seconds.
const TEXT_PER_COMMAND: f64 = 610.0;
const INDEX_PER_COMMAND: f64 = 550.0;
const SECONDS_PER_COMMAND: f64 = 1.0 / 11_000.0;
const RECORDING_PER_COMMAND: f64 = RECORDING_BYTES_PER_COMMAND;
const RECORDING_SECONDS_PER_COMMAND: f64 = RECORDING_SECONDS_PER_1M / 1e6;

/// `per_query`: also print each query's times and first page (`index_per_query.rs`).
/// `keep`: build in that folder and keep it, or query what a run kept there (one size).
pub fn run(sizes: &[usize], per_query: bool, keep: Option<&std::path::Path>) -> anyhow::Result<()> {
    assert_eq!(QUERIES.len(), 50);
    for &n in sizes {
        one(n, per_query, keep)?;
    }
    Ok(())
}

fn one(n: usize, per_query: bool, keep: Option<&std::path::Path>) -> anyhow::Result<()> {
    let t_all = Instant::now();
    println!("index: {n} commands");
    if n >= 2_000_000 {
        // A long run says what it costs before it starts (measured per command at 1M).
        println!(
            "  expect about {:.0} min on 2 cores and up to {} of temp disk ({} of recordings, {} of exported text for grep, {} of index, twice that while it merges)",
            n as f64 * (SECONDS_PER_COMMAND + RECORDING_SECONDS_PER_COMMAND) / 60.0,
            mb((n as f64 * (RECORDING_PER_COMMAND + TEXT_PER_COMMAND + 2.0 * INDEX_PER_COMMAND)) as u64),
            mb((n as f64 * RECORDING_PER_COMMAND) as u64),
            mb((n as f64 * TEXT_PER_COMMAND) as u64),
            mb((n as f64 * INDEX_PER_COMMAND) as u64),
        );
    }
    let tmp;
    let root = match keep {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            dir
        }
        None => {
            tmp = TempDir::new("index")?;
            tmp.path()
        }
    };
    let dir = root.join("index");
    let text_path = root.join("corpus.txt");
    let store = Store::open(root.join("home"))?;

    let built = crate::index_keep::built_or(n, root, || build(n, &dir, &store, &text_path))?;
    let Built { index, figures } = built;
    let BuildFigures {
        raw,
        sessions,
        build,
        generated,
        recorded,
        stored,
    } = figures;
    index.reload()?;
    let size = dir_bytes(&dir)?;
    println!(
        "  corpus: {sessions} sessions, {} of command + output text as cut from their recordings (generated and exported in {generated:.1} s, untimed)",
        mb(raw),
    );
    println!(
        "  recordings: {} on disk ({:.0} bytes/command; the home with metadata and command caches {}), written, read back, cut and cached in {recorded:.1} s on {RECORD_THREADS} threads (untimed)",
        mb(stored),
        stored as f64 / n as f64,
        mb(tree_bytes(store.home())?),
    );
    let rate = n as f64 / build;
    println!(
        "  build: {build:.1} s, {rate:.0} commands/s (goal >= {GOAL_RATE:.0}), 2 threads, 200 MB writer heap, then merged into one segment",
    );
    let ratio = size as f64 / raw as f64;
    println!(
        "  size: {} on disk = {:.0} bytes/command, {ratio:.2} x the raw text (goal <= {GOAL_SIZE})",
        mb(size),
        size as f64 / n as f64,
    );
    print_space(&index.space_usage()?);
    let label = count(n);
    figure(
        "index",
        format!("index size vs raw text, {label} commands"),
        format!("{ratio:.2}× ({} of {})", mb(size), mb(raw)),
        "—",
        format!("≤ {GOAL_SIZE}×"),
        Some(ratio <= GOAL_SIZE),
    );
    figure(
        "index",
        format!("build rate, {label} commands"),
        format!("{rate:.0} commands/s ({build:.1} s)"),
        "—",
        format!("≥ {GOAL_RATE:.0}/s"),
        Some(rate >= GOAL_RATE),
    );

    let q = queries(&index, &store, per_query)?;
    let grep = grep(&text_path)?;
    let (g50, f50, f99, s50) = (
        percentile(&grep, 50.0),
        percentile(&q.ms, 50.0),
        percentile(&q.ms, 99.0),
        percentile(&q.search_ms, 50.0),
    );
    println!(
        "  grep -c -i -F over {} of exported text: p50 {g50:.0} ms, p99 {:.0} ms; index is {:.0}x faster at p50 (goal >= {GOAL_VS_GREP:.0}x); the search alone, no snippets: p50 {s50:.2} ms, {:.0}x",
        mb(std::fs::metadata(&text_path)?.len()),
        percentile(&grep, 99.0),
        g50 / f50.max(1e-6),
        g50 / s50.max(1e-6)
    );
    figure(
        "index",
        format!("query p50 / p99, 50 queries x 3, {label} commands"),
        format!(
            "p50 {f50:.2} ms, p99 {f99:.2} ms (CPU p50 {:.2}, p99 {:.2} ms)",
            percentile(&q.cpu_ms, 50.0),
            percentile(&q.cpu_ms, 99.0)
        ),
        "—",
        format!("p99 ≤ {GOAL_P99_MS} ms"),
        Some(f99 <= GOAL_P99_MS),
    );
    let speed = g50 / f50.max(1e-6);
    figure(
        "index",
        format!("query speed vs grep at p50, {label} commands"),
        format!(
            "{speed:.0}× ({f50:.2} ms vs {g50:.0} ms; the search alone, no snippets: {s50:.2} ms, {:.0}×)",
            g50 / s50.max(1e-6)
        ),
        format!("`grep -c -i -F` p50 {g50:.0} ms"),
        format!("≥ {GOAL_VS_GREP:.0}×"),
        Some(speed >= GOAL_VS_GREP),
    );
    // The merge held the old segments beside the new one: the index twice at the peak.
    println!(
        "  this size took {:.1} min and up to {} of temp disk",
        t_all.elapsed().as_secs_f64() / 60.0,
        mb(tree_bytes(root)? + size)
    );
    Ok(())
}

pub(crate) struct Built {
    pub index: CommandIndex,
    pub figures: BuildFigures,
}

/// What a build measured (kept beside the index by `--keep`, see `index_keep.rs`).
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub(crate) struct BuildFigures {
    /// Bytes of the cut commands' command and output text.
    raw: u64,
    sessions: usize,
    /// Seconds spent indexing (the writer's calls, its commit, the merge).
    build: f64,
    /// Seconds spent generating and exporting the corpus (not counted in `build`).
    generated: f64,
    /// Seconds spent writing, reading back, cutting and caching the recordings (not
    /// counted in `build`).
    recorded: f64,
    /// Bytes of recordings on disk.
    stored: u64,
}

/// Threads that write and cut recordings while the writer waits: more than the 2 cores,
/// as much of a session's time is the store's fsyncs (3 a session: the header, the
/// finished file, its metadata), which overlap.
const RECORD_THREADS: usize = 6;

/// Measured at 1M commands (2 cores shared with other work, load 5-7): bytes of the home
/// per command (172 of recording, 75 of metadata and command cache), seconds to write,
/// read back, cut and cache a million commands (on 6 threads).
const RECORDING_BYTES_PER_COMMAND: f64 = 250.0;
const RECORDING_SECONDS_PER_1M: f64 = 175.0;

/// Generates the corpus a batch at a time, records each session into `store` and cuts
/// it ([`corpus_cast::record_all`]), exports the cut commands and indexes them as a
/// rebuild does (a large heap, both cores), merged into one segment at the end (as
/// `reindex` leaves it). Only the indexing is timed; the writer's threads may go on for
/// a moment while the next batch is generated and recorded (bounded by tantivy's queue of
/// documents).
fn build(
    n: usize,
    dir: &std::path::Path,
    store: &Store,
    text_path: &std::path::Path,
) -> anyhow::Result<Built> {
    let index = CommandIndex::create(dir)?;
    let mut w = index.writer(fixcast_indexer::WriterOptions {
        heap_bytes: 200_000_000,
        threads: 2,
    })?;
    let mut text = BufWriter::new(std::fs::File::create(text_path)?);
    let mut corpus = corpus::sessions(n, 42);
    let (mut raw, mut sessions, mut done, mut stored) = (0u64, 0usize, 0usize, 0u64);
    let (mut build, mut generated, mut recorded) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let mut told = 0;
    loop {
        let t = Instant::now();
        let generated_batch: Vec<_> = corpus.by_ref().take(BATCH_SESSIONS).collect();
        if generated_batch.is_empty() {
            break;
        }
        generated += t.elapsed();
        let t = Instant::now();
        let batch = corpus_cast::record_all(store, generated_batch, RECORD_THREADS)?;
        recorded += t.elapsed();
        let t = Instant::now();
        for s in &batch {
            stored += s.stored;
            for c in &s.commands {
                writeln!(text, "$ {}\n{}", c.command, c.output)?;
                raw += (c.command.len() + c.output.len()) as u64;
            }
        }
        generated += t.elapsed();
        let t = Instant::now();
        for s in &batch {
            w.add_session(&s.meta, &s.commands)?;
            done += s.commands.len();
        }
        build += t.elapsed();
        sessions += batch.len();
        // Progress for the long runs: every tenth.
        if n >= 1_000_000 && done * 10 / n > told {
            told = done * 10 / n;
            println!(
                "  ... {done} commands indexed ({:.0} s indexing, {:.0} s generating, {:.0} s recording and cutting)",
                build.as_secs_f64(),
                generated.as_secs_f64(),
                recorded.as_secs_f64()
            );
        }
    }
    text.flush()?;
    drop(text);
    let t = Instant::now();
    w.finish_compact()?;
    build += t.elapsed();
    Ok(Built {
        index,
        figures: BuildFigures {
            raw,
            sessions,
            build: build.as_secs_f64(),
            generated: generated.as_secs_f64(),
            recorded: recorded.as_secs_f64(),
            stored,
        },
    })
}

/// Bytes of the files under `dir`, at any depth.
fn tree_bytes(dir: &std::path::Path) -> anyhow::Result<u64> {
    let mut total = 0;
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let m = e.metadata()?;
        if m.is_dir() {
            total += tree_bytes(&e.path())?;
        } else if m.is_file() {
            total += m.len();
        }
    }
    Ok(total)
}

/// Where the bytes are: by part, and the largest fields.
fn print_space(s: &SpaceUsage) {
    let parts = [
        "termdict",
        "postings",
        "positions",
        "store",
        "fast",
        "fieldnorms",
    ];
    let by_part: Vec<String> = parts
        .iter()
        .map(|p| format!("{p} {}", mb(s.part(p))))
        .collect();
    println!(
        "  by part ({} segment(s)): {}",
        s.segments,
        by_part.join(", ")
    );
    let mut by_field: Vec<(&str, &str, u64)> = s
        .by_part_field
        .iter()
        .filter(|((p, f), _)| !f.is_empty() && p != "store")
        .map(|((p, f), b)| (p.as_str(), f.as_str(), *b))
        .collect();
    by_field.sort_by_key(|r| std::cmp::Reverse(r.2));
    let top: Vec<String> = by_field
        .iter()
        .take(12)
        .map(|(p, f, b)| format!("{f}.{p} {}", mb(*b)))
        .collect();
    println!("  largest: {}", top.join(", "));
}

struct Timed {
    /// Wall time of each of the 150 timed queries.
    ms: Vec<f64>,
    /// CPU time of the process for each (the machine may be busy).
    cpu_ms: Vec<f64>,
    /// Wall time of each query again with no snippets (no output rendered again): the
    /// search alone.
    search_ms: Vec<f64>,
}

/// One warm-up pass over the 50 queries (each hit checked against the store: it is a
/// command cut from a recording there), then three timed passes. `store` holds the
/// recordings the commands were cut from.
fn queries(index: &CommandIndex, store: &Store, print_each: bool) -> anyhow::Result<Timed> {
    let ctx = ParseContext::default();
    let parsed: Vec<_> = QUERIES
        .iter()
        .map(|(q, _)| parse(q, &ctx).map_err(|e| anyhow::anyhow!("{q}: {e}")))
        .collect::<anyhow::Result<_>>()?;
    let (mut total_hits, mut with_snippet) = (0, 0);
    let mut pages = Vec::with_capacity(parsed.len());
    for q in &parsed {
        let hits = index.search(q, 10, &FromRecordings(store))?;
        for h in &hits {
            in_store(store, h)?;
        }
        with_snippet += hits.iter().filter(|h| !h.snippet.text.is_empty()).count();
        total_hits += hits.len();
        pages.push(hits);
    }
    let mut timed = Timed {
        ms: Vec::new(),
        cpu_ms: Vec::new(),
        search_ms: Vec::new(),
    };
    let mut per_query = vec![Vec::new(); parsed.len()];
    let mut per_query_cpu = vec![Vec::new(); parsed.len()];
    for _ in 0..3 {
        for (i, q) in parsed.iter().enumerate() {
            let (t, c) = (Instant::now(), cpu_ns());
            let hits = index.search(q, 10, &FromRecordings(store))?;
            let e = t.elapsed().as_secs_f64() * 1e3;
            let cpu = cpu_ns().saturating_sub(c) as f64 / 1e6;
            std::hint::black_box(hits);
            timed.ms.push(e);
            timed.cpu_ms.push(cpu);
            per_query[i].push(e);
            per_query_cpu[i].push(cpu);
        }
    }
    let mut per_query_search = vec![Vec::new(); parsed.len()];
    for _ in 0..3 {
        for (i, q) in parsed.iter().enumerate() {
            let t = Instant::now();
            std::hint::black_box(index.search(q, 10, &fixcast_indexer::NoOutputs)?);
            let e = t.elapsed().as_secs_f64() * 1e3;
            timed.search_ms.push(e);
            per_query_search[i].push(e);
        }
    }
    let mut slowest: Vec<(f64, &str, &Vec<f64>)> = per_query
        .iter()
        .enumerate()
        .map(|(i, v)| (median_f64(v), QUERIES[i].0, v))
        .collect();
    slowest.sort_by(|a, b| b.0.total_cmp(&a.0));
    println!(
        "  query (top 10 with snippets, 50 queries x 3): p50 {:.2} ms, p99 {:.2} ms (goal p99 <= {GOAL_P99_MS} ms); CPU p50 {:.2} ms, p99 {:.2} ms; {total_hits} hits in all, {with_snippet} with a snippet cut again from its recording or kept",
        percentile(&timed.ms, 50.0),
        percentile(&timed.ms, 99.0),
        percentile(&timed.cpu_ms, 50.0),
        percentile(&timed.cpu_ms, 99.0),
    );
    let top: Vec<String> = slowest
        .iter()
        .take(5)
        .map(|(m, q, v)| format!("{q} {m:.2} ms {}", list(v, 1)))
        .collect();
    println!("  slowest (median of 3): {}", top.join("; "));
    if print_each {
        crate::index_per_query::print(&per_query, &per_query_cpu, &per_query_search, &pages);
    }
    Ok(timed)
}

/// Checks that a hit is a command of a session in `store`, as cut from its recording.
fn in_store(store: &Store, hit: &fixcast_indexer::Hit) -> anyhow::Result<()> {
    let cached = store
        .cached_commands(&hit.session)?
        .with_context(|| format!("session {}: no command cache in the store", hit.session))?;
    let found = cached
        .iter()
        .find(|c| c.seq == hit.seq)
        .is_some_and(|c| c.command == hit.command);
    anyhow::ensure!(
        found,
        "session {}: the index's command {} ({:?}) is not the one cut from its recording",
        hit.session,
        hit.seq,
        hit.command
    );
    Ok(())
}

/// CPU time of this process so far, in nanoseconds (0 where it cannot be read): a page
/// is made on several threads, and nothing else runs while queries are timed.
fn cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into the one we own.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return 0;
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// The same queries as `grep -c -i -F` over the exported text: the wall time of each.
fn grep(text_path: &std::path::Path) -> anyhow::Result<Vec<f64>> {
    let mut grep_ms = Vec::new();
    for (_, literal) in QUERIES {
        let t = Instant::now();
        let mut cmd = Command::new("grep");
        cmd.args(["-c", "-i", "-F", "--", literal]).arg(text_path);
        // grep exits 1 when nothing matches: that is an answer, not a failure.
        let _ = output_of(&mut cmd, Duration::from_secs(600), "grep")
            .or_else(|e| {
                if e.to_string().contains("exit status: 1") {
                    Ok(Vec::new())
                } else {
                    Err(e)
                }
            })
            .context("grep -c")?;
        grep_ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    Ok(grep_ms)
}

/// The hits' output rendered again from the bench's recordings, as `fixcast search` does
/// it (src/cmd/outputs.rs, for a finished session): the product's path to a snippet.
struct FromRecordings<'a>(&'a Store);

impl Outputs for FromRecordings<'_> {
    fn outputs(&self, session: &str, wanted: &[Again]) -> std::collections::HashMap<u32, String> {
        let rendered = || -> Option<std::collections::HashMap<u32, String>> {
            let id: SessionId = session.parse().ok()?;
            let meta = self.0.load(&id).ok()?.meta;
            let plan = Plan::of(wanted.to_vec())?;
            let path = self.0.cast_path(&id);
            let mut reader = CastReader::open_between(&path, plan.from, plan.until).ok()?;
            let wanted = plan.wanted;
            let size = match reader.header().ok()? {
                Some(h) => (h.cols, h.rows),
                None => (meta.term.cols, meta.term.rows),
            };
            let events = std::iter::from_fn(|| reader.next_event().ok().flatten());
            let texts = outputs_again(size, meta.command.as_deref(), events, &wanted);
            Some(
                wanted
                    .iter()
                    .zip(texts)
                    .filter_map(|(w, t)| Some((w.record.seq, t?)))
                    .collect(),
            )
        };
        rendered().unwrap_or_default()
    }
}
