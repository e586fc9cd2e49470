//! `index`: the knowledge base at scale. A synthetic corpus (see [`crate::corpus`]) is
//! indexed through the indexer's API; then 50 fixed queries are timed against the index
//! and, for comparison, `grep -c` over the same corpus exported as text.

use std::io::{BufWriter, Write};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context;
use fixcast_indexer::{parse, ParseContext};

use crate::corpus;
use crate::util::{dir_bytes, mb, median_f64, output_of, percentile, TempDir};

/// The queries, each with the fixed string `grep -c -i -F` looks for to answer it
/// (grep has no fields: it gets the main literal).
const QUERIES: &[(&str, &str)] = &[
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

pub fn run(sizes: &[usize]) -> anyhow::Result<()> {
    assert_eq!(QUERIES.len(), 50);
    for &n in sizes {
        one(n)?;
    }
    Ok(())
}

fn one(n: usize) -> anyhow::Result<()> {
    println!("index: {n} commands");
    let tmp = TempDir::new("index")?;
    let dir = tmp.path().join("index");
    let text_path = tmp.path().join("corpus.txt");

    // Build: generation and export happen outside the timed part.
    let t = Instant::now();
    let sessions: Vec<_> = corpus::sessions(n, 42).collect();
    let mut text = BufWriter::new(std::fs::File::create(&text_path)?);
    let mut raw = 0u64;
    for (_, cmds) in &sessions {
        for c in cmds {
            writeln!(text, "$ {}\n{}", c.command, c.output)?;
            raw += (c.command.len() + c.output.len()) as u64;
        }
    }
    text.flush()?;
    drop(text);
    println!(
        "  corpus: {} sessions, {} of command + output text (generated in {:.1} s)",
        sessions.len(),
        mb(raw),
        t.elapsed().as_secs_f64()
    );

    let (index, build) = crate::corpus::build_index(&dir, &sessions)?;
    drop(sessions);
    index.reload()?;
    let size = dir_bytes(&dir)?;
    if std::env::var_os("FIXCAST_BENCH_SIZES").is_some() {
        let mut by_ext = std::collections::BTreeMap::new();
        for e in std::fs::read_dir(&dir)? {
            let p = e?.path();
            let ext = p
                .extension()
                .map(|x| x.to_string_lossy().into_owned())
                .unwrap_or_default();
            *by_ext.entry(ext).or_insert(0u64) += std::fs::metadata(&p)?.len();
        }
        println!("  by file type: {by_ext:?}");
    }
    println!(
        "  build: {:.1} s, {:.0} commands/s (goal >= 20000), 2 threads, 200 MB writer heap",
        build,
        n as f64 / build
    );
    println!(
        "  size: {} on disk = {:.0} bytes/command, {:.2} x the raw text (goal <= 0.5)",
        mb(size),
        size as f64 / n as f64,
        size as f64 / raw as f64
    );

    // Queries: one warm-up pass, then three timed passes over the 50.
    let ctx = ParseContext::default();
    let parsed: Vec<_> = QUERIES
        .iter()
        .map(|(q, _)| parse(q, &ctx).map_err(|e| anyhow::anyhow!("{q}: {e}")))
        .collect::<anyhow::Result<_>>()?;
    let mut total_hits = 0;
    for q in &parsed {
        total_hits += index.search(q, 10)?.len();
    }
    let mut ms = Vec::new();
    let mut per_query = vec![Vec::new(); parsed.len()];
    for _ in 0..3 {
        for (i, q) in parsed.iter().enumerate() {
            let t = Instant::now();
            let hits = index.search(q, 10)?;
            let e = t.elapsed().as_secs_f64() * 1e3;
            std::hint::black_box(hits);
            ms.push(e);
            per_query[i].push(e);
        }
    }
    let slowest = per_query
        .iter()
        .enumerate()
        .map(|(i, v)| (median_f64(v), QUERIES[i].0))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .unwrap_or((0.0, ""));
    println!(
        "  query (top 10 with snippets, 50 queries x 3): p50 {:.2} ms, p99 {:.2} ms (goal p99 <= 20 ms); slowest {} ({:.2} ms); {} hits in all",
        percentile(&ms, 50.0),
        percentile(&ms, 99.0),
        slowest.1,
        slowest.0,
        total_hits
    );

    // The same queries as `grep -c -i -F` over the exported text.
    let mut grep_ms = Vec::new();
    for (_, literal) in QUERIES {
        let t = Instant::now();
        let mut cmd = Command::new("grep");
        cmd.args(["-c", "-i", "-F", "--", literal]).arg(&text_path);
        // grep exits 1 when nothing matches: that is an answer, not a failure.
        let _ = output_of(&mut cmd, Duration::from_secs(300), "grep")
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
    let (g50, f50) = (percentile(&grep_ms, 50.0), percentile(&ms, 50.0));
    println!(
        "  grep -c -i -F over {} of exported text: p50 {:.0} ms, p99 {:.0} ms; index is {:.0}x faster at p50 (goal >= 100x)",
        mb(std::fs::metadata(&text_path)?.len()),
        g50,
        percentile(&grep_ms, 99.0),
        g50 / f50.max(1e-6)
    );
    Ok(())
}
