//! What fix records cost on top of the cut: deriving them (`derive_fixes`, which parses
//! every command line and looks for retries) against cutting the same recording, and
//! indexing (which derives them for every session it writes) against the cut too. On the
//! cut benchmark's 2,000-command session, and on one with failures in it: every 10th
//! command fails and is retried after two diagnostics and a fix, as debugging goes.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use fixcast_indexer::{CommandIndex, WriterOptions};
use fixcast_recorder::cut_commands;
use fixcast_sessions::{derive_fixes, read_cast, CommandRecord, ReadOnly, SessionId, SessionMeta};

use crate::util::{list, median_f64};

/// Derivations timed together per run: one takes a few milliseconds, too short alone to
/// stand out of a loaded machine's noise.
const DERIVE_REPS: usize = 10;

/// The keys typed for the session with failures: `filler` (commands that succeed or
/// fail as they do) with, in every 10 commands, a failure, two looks, a fix and the
/// retry, in a folder of its own under `work`.
pub fn keys_with_failures(filler: &[String], work: &Path) -> String {
    let mut keys = format!("cd {}\n", work.display());
    let mut filler = filler.iter().cycle();
    for i in 0..crate::size::COMMANDS / 10 {
        for _ in 0..5 {
            keys.push_str(filler.next().map_or("true", String::as_str));
            keys.push('\n');
        }
        let episode = if i % 2 == 0 {
            [
                format!("cat app{i}.conf"),
                "ls -l | tail -3".to_owned(),
                "stat -c %s .".to_owned(),
                format!("echo 'port = {i}' > app{i}.conf"),
                format!("cat app{i}.conf"),
            ]
        } else {
            [
                format!("wc -l data{i}.csv"),
                "ls -la | head -3".to_owned(),
                "df -h . | tail -1".to_owned(),
                format!("printf 'a,b\\n{i},2\\n' > data{i}.csv"),
                format!("wc -l data{i}.csv"),
            ]
        };
        for line in episode {
            keys.push_str(&line);
            keys.push('\n');
        }
    }
    keys.push_str("exit\n");
    keys
}

/// Cut, derivation and indexing of one recorded session, medians of `runs`.
pub fn measure(name: &str, cast: &Path, runs: usize) -> anyhow::Result<()> {
    let contents = read_cast(cast).with_context(|| format!("reading {}", cast.display()))?;
    let read_only = ReadOnly::default();
    let meta = SessionMeta::new(
        SessionId::generate(),
        contents.header.cols,
        contents.header.rows,
    );
    let (mut cut_s, mut derive_s, mut index_s) = (Vec::new(), Vec::new(), Vec::new());
    let mut commands: Vec<CommandRecord> = Vec::new();
    let (mut records, mut with_fix) = (0, 0);
    for _ in 0..runs {
        let t = Instant::now();
        commands = cut_commands(
            contents.header.cols,
            contents.header.rows,
            contents.header.command.as_deref(),
            &contents.events,
        );
        cut_s.push(t.elapsed().as_secs_f64());

        let t = Instant::now();
        for _ in 0..DERIVE_REPS {
            let derived = std::hint::black_box(derive_fixes(
                std::hint::black_box(&commands),
                None,
                &read_only,
            ));
            records = derived.len();
            with_fix = derived.iter().filter(|r| !r.fix.is_empty()).count();
        }
        derive_s.push(t.elapsed().as_secs_f64() / DERIVE_REPS as f64);

        // In memory, one thread: the document building and tokenising, fix records
        // derived as every writer does, without the disk's noise.
        let index = CommandIndex::in_ram();
        let t = Instant::now();
        let mut w = index.writer(WriterOptions {
            heap_bytes: 50_000_000,
            threads: 1,
        })?;
        w.add_session(&meta, &commands)?;
        w.finish()?;
        index_s.push(t.elapsed().as_secs_f64());
    }
    let n = commands.len().max(1) as f64;
    let failed = commands
        .iter()
        .filter(|c| fixcast_sessions::failed(c))
        .count();
    let (cut, derive, index) = (
        median_f64(&cut_s),
        median_f64(&derive_s),
        median_f64(&index_s),
    );
    let ns = |s: f64| s * 1e9 / n;
    println!(
        "cut: fixes: {name}: {} commands, {failed} failed, {records} fix records ({with_fix} with a fix); load {}; cut {:.0} ns/command, \
         fix records {:.0} ns/command = {:.3}x the cut; indexing (with them) {:.0} ns/command = {:.2}x the cut, \
         of which the fix records are {:.1}%",
        commands.len(),
        crate::util::load_average(),
        ns(cut),
        ns(derive),
        derive / cut,
        ns(index),
        index / cut,
        100.0 * derive / index
    );
    println!(
        "cut: fixes: {name}: runs (ms) cut {}, fix records {}, indexing {}",
        list(&cut_s.iter().map(|s| s * 1e3).collect::<Vec<_>>(), 2),
        list(&derive_s.iter().map(|s| s * 1e3).collect::<Vec<_>>(), 3),
        list(&index_s.iter().map(|s| s * 1e3).collect::<Vec<_>>(), 2)
    );
    Ok(())
}
