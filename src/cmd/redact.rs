//! Redaction's command side: the user's patterns from the config file, and `fixcast
//! redact ID`, which rewrites a recorded session with the current patterns.
//!
//! The user's patterns come from the config file's `[redact] patterns` (see `config`).

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context};
use fixcast_recorder::Rules;
use fixcast_sessions::{Redaction, SessionMeta, Store};

use super::{index, open_session, read_recording};
use crate::cli::RedactArgs;
use crate::config::Config;

/// The built-in detectors and the config file's patterns. A config file that cannot be
/// read or a pattern that does not compile is an error: recording with a pattern
/// silently dropped would store what the user asked to keep out.
pub fn rules(store: &Store) -> anyhow::Result<Rules> {
    let (config, path) = crate::config::load(store)?;
    rules_of(&config, path.as_deref())
}

/// [`rules`] from a config already read (from `path`).
pub fn rules_of(config: &Config, path: Option<&Path>) -> anyhow::Result<Rules> {
    Rules::with_patterns(&config.redact.patterns).with_context(|| {
        format!(
            "{}: fix or remove the pattern",
            path.map_or_else(|| "config".into(), |p| p.display().to_string())
        )
    })
}

pub fn run(store: Store, args: RedactArgs) -> anyhow::Result<ExitCode> {
    let rules = rules(&store)?;
    for prefix in &args.ids {
        let meta = open_session(&store, prefix)?.meta;
        if store.is_being_recorded(&meta.id) {
            bail!(
                "session {}: still being recorded; redact it once it has ended",
                meta.id
            );
        }
        let short = meta.id.short().to_owned();
        let count = redact_session(&store, meta, &rules)?;
        println!(
            "session {short}: {} redacted",
            super::count(count, "secret")
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Rewrites a session's recording redacted (see [`fixcast_sessions::Session::replace_recording`]),
/// which drops its caches, and indexes it again.
fn redact_session(store: &Store, mut meta: SessionMeta, rules: &Rules) -> anyhow::Result<u64> {
    let id = meta.id.clone();
    let contents = read_recording(store, &id)?;
    let (events, count) = rules.redact_events(&contents.events);
    let mut header = contents.header.clone();
    header.command = header.command.map(|c| rules.redact_text(&c));
    header.title = header.title.map(|t| rules.redact_text(&t));
    // A new file renamed over the old one, and the caches go with it: the commands
    // cache would be stale anyway (its key is the recording's size and time), but no
    // copy of a secret may outlive the rewrite.
    let stored = store.session(&id).replace_recording(&header, &events)?;
    meta.command = meta.command.map(|c| rules.redact_text(&c));
    meta.title = meta.title.map(|t| rules.redact_text(&t));
    let before = meta.redaction.as_ref().map_or(0, |r| r.count);
    meta.redaction = Some(Redaction {
        redacted: true,
        count: before + count,
    });
    meta.bytes.stored = stored;
    store.save_meta(&meta)?;
    index::index_session_quietly(store, &meta);
    Ok(count)
}
