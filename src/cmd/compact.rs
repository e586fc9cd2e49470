//! `fixcast compact [ID…|--all]`: rewrites finished sessions' recordings once, strongly
//! compressed ([`fixcast_sessions::Store::compact`]). `rec` and `import` start it on
//! their own session in the background ([`spawn_background`]); this command is for
//! sessions recorded before, or to see what it saves.

use std::path::Path;
use std::process::{ExitCode, Stdio};

use fixcast_sessions::{error_chain, CompactError, Compacted, SessionId, Status, Store};

use super::{format_size, index, resolve, warn};
use crate::cli::CompactArgs;

/// Set (to anything) to keep `rec` and `import` from compacting in the background: for
/// scripts that read or damage a recording's bytes right after it was made.
pub const NO_COMPACT_ENV: &str = "FIXCAST_NO_COMPACT";

pub fn run(store: Store, args: CompactArgs) -> anyhow::Result<ExitCode> {
    if args.quiet {
        // In the background, after `rec`: the user's shell comes first.
        let _ = rustix::process::setpriority_process(None, 10);
    }
    let ids: Vec<SessionId> = if args.all {
        store.remove_stale_imports();
        let (sessions, unreadable) = store.list()?;
        for e in unreadable {
            warn(format_args!("{}", error_chain(&e)));
        }
        // Oldest first, and only those there is something to do for.
        sessions
            .into_iter()
            .rev()
            .filter(|l| l.meta.status != Status::Recording)
            .filter(|l| {
                !fixcast_sessions::is_compacted(&store.cast_path(&l.meta.id)).unwrap_or(true)
            })
            .map(|l| l.meta.id)
            .collect()
    } else {
        args.ids
            .iter()
            .map(|p| resolve(&store, p))
            .collect::<anyhow::Result<_>>()?
    };
    let (mut failed, mut before, mut after) = (0usize, 0u64, 0u64);
    let total = ids.len();
    for (n, id) in ids.iter().enumerate() {
        let short = id.short();
        let step = if total > 1 {
            format!("[{}/{total}] ", n + 1)
        } else {
            String::new()
        };
        match store.compact(id) {
            Ok(Compacted::Done {
                before: b,
                after: a,
                millis,
                ..
            }) => {
                before += b;
                after += a;
                if let Ok(l) = store.load(id) {
                    // The index keeps the recording's size to notice changes: tell it.
                    index::index_session_quietly(&store, &l.meta);
                }
                if !args.quiet {
                    println!(
                        "{step}session {short}: {} -> {} ({:.2}x) in {:.1} s",
                        format_size(b),
                        format_size(a),
                        a as f64 / b.max(1) as f64,
                        millis as f64 / 1000.0
                    );
                }
            }
            Ok(Compacted::Already) => {
                if !args.quiet {
                    println!("{step}session {short}: compacted already");
                }
            }
            Ok(Compacted::Skipped(why)) => {
                if !args.quiet {
                    println!("{step}session {short}: left as it is: {why}");
                }
            }
            // A live session named on purpose is the user's mistake; with --all it
            // started after the list was made.
            Err(CompactError::Recording(_)) if args.all => {}
            Err(e) => {
                failed += 1;
                eprintln!("fixcast: {}", error_chain(&e));
            }
        }
    }
    if !args.quiet && total > 1 && before > 0 {
        println!(
            "{} -> {} ({:.2}x)",
            format_size(before),
            format_size(after),
            after as f64 / before as f64
        );
    }
    if !args.quiet && args.all && total == 0 {
        println!("nothing to compact");
    }
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Starts `fixcast compact --quiet ID…` on its own, detached: nobody waits for it, its
/// output goes nowhere, and it is in a process group of its own, so the terminal's
/// Ctrl-C or hangup does not reach it. Best effort: a session left uncompacted is only
/// larger. Skipped when [`NO_COMPACT_ENV`] is set.
pub fn spawn_background(home: &Path, ids: &[SessionId]) {
    use std::os::unix::process::CommandExt;
    if ids.is_empty() || std::env::var_os(NO_COMPACT_ENV).is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let _ = std::process::Command::new(exe)
        .arg("--home")
        .arg(home)
        .args(["compact", "--quiet"])
        .args(ids.iter().map(|id| id.as_str()))
        .env_remove("FIXCAST_SESSION")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn();
}
