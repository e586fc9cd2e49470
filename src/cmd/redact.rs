//! Redaction's command side: the user's patterns from the config file, and `fixcast
//! redact ID`, which rewrites a recorded session with the current patterns.
//!
//! The config file is `$FIXCAST_HOME/config.toml` (the home given by `--home`, or the
//! default home) if it exists, else `$XDG_CONFIG_HOME/fixcast/config.toml`
//! (`~/.config/fixcast/config.toml`):
//!
//! ```toml
//! [redact]
//! patterns = ["corp-[0-9a-f]{32}", "(?i)internal-token: \\S+"]
//! ```

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use fixcast_recorder::Rules;
use fixcast_sessions::{CastWriter, Redaction, SessionMeta, Store, COMMANDS_FILE};
use serde::Deserialize;

use super::{index, open_session, read_recording};
use crate::cli::RedactArgs;

#[derive(Debug, Default, Deserialize)]
struct Config {
    #[serde(default)]
    redact: RedactConfig,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RedactConfig {
    /// Regexes (`regex` crate syntax) whose matches are redacted as `custom`.
    #[serde(default)]
    patterns: Vec<String>,
}

/// The config file in use, if there is one.
pub fn config_path(store: &Store) -> Option<PathBuf> {
    let in_home = store.home().join("config.toml");
    if in_home.is_file() {
        return Some(in_home);
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".config")))?;
    Some(base.join("fixcast/config.toml")).filter(|p| p.is_file())
}

/// The built-in detectors and the config file's patterns. A config file that cannot be
/// read or a pattern that does not compile is an error: recording with a pattern
/// silently dropped would store what the user asked to keep out.
pub fn rules(store: &Store) -> anyhow::Result<Rules> {
    let Some(path) = config_path(store) else {
        return Ok(Rules::builtin());
    };
    let text = fs::read_to_string(&path)
        .with_context(|| format!("{}: cannot read the config file", path.display()))?;
    let config: Config = toml::from_str(&text)
        .with_context(|| format!("{}: not a valid config file", path.display()))?;
    Rules::with_patterns(&config.redact.patterns)
        .with_context(|| format!("{}: fix or remove the pattern", path.display()))
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
        println!("session {short}: {count} secrets redacted");
    }
    Ok(ExitCode::SUCCESS)
}

/// Rewrites a session's recording redacted (a new file renamed over the old one, so a
/// failure leaves the old one whole), drops its command cache and indexes it again.
fn redact_session(store: &Store, mut meta: SessionMeta, rules: &Rules) -> anyhow::Result<u64> {
    let id = meta.id.clone();
    let contents = read_recording(store, &id)?;
    let (events, count) = rules.redact_events(&contents.events);
    let mut header = contents.header.clone();
    header.command = header.command.map(|c| rules.redact_text(&c));
    header.title = header.title.map(|t| rules.redact_text(&t));
    let path = store.cast_path(&id);
    let tmp = path.with_file_name(format!(".redact-{}.cast.zst", std::process::id()));
    let _ = fs::remove_file(&tmp);
    let write = || -> anyhow::Result<u64> {
        let mut w = CastWriter::create(&tmp, &header)?;
        for ev in &events {
            w.write(ev)?;
        }
        let stored = w.finish()?;
        fs::rename(&tmp, &path)?;
        Ok(stored)
    };
    let stored = write().inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })?;
    // The cache would be stale anyway (its key is the recording's size and time); it
    // goes now so that no copy of a secret outlives the rewrite.
    let cache = store.dir(&id).join(COMMANDS_FILE);
    if cache.exists() {
        fs::remove_file(&cache).with_context(|| format!("{}: cannot remove", cache.display()))?;
    }
    meta.command = meta.command.map(|c| rules.redact_text(&c));
    meta.title = meta.title.map(|t| rules.redact_text(&t));
    let before = meta.redaction.as_ref().map_or(0, |r| r.count);
    meta.redaction = Some(Redaction {
        redacted: true,
        count: before + count,
    });
    meta.bytes.stored = fs::metadata(&path).map_or(stored, |m| m.len());
    store.save_meta(&meta)?;
    index::index_session_quietly(store, &meta);
    Ok(count)
}
