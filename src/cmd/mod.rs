//! One module per subcommand; the only place that wires the crates together.

mod commands;
mod compact;
mod completions;
mod demo;
mod edit;
mod export;
mod fix;
mod fixes;
mod hint;
mod import;
mod index;
mod live_cut;
mod ls;
mod outputs;
mod play;
mod rec;
mod redact;
mod reindex;
mod rm;
mod runbook;
mod runbook_html;
mod search;
mod serve;
mod show;
mod upload;

use std::process::ExitCode;

use anyhow::Context;
use fixcast_sessions::asciicast::Recording;
use fixcast_sessions::{Listed, SessionId, Store};

use crate::cli::{Cli, Command};

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let home = cli.home.clone();
    let store = || open_store(home.clone());
    match cli.command {
        Command::Rec(a) => rec::run(store()?, a),
        Command::Ls(a) => ls::run(store()?, a),
        Command::Show(a) => show::run(store()?, a),
        Command::Play(a) => play::run(store()?, a),
        Command::Export(a) => export::run(store()?, a),
        Command::Import(a) => import::run(store()?, a),
        Command::Edit(a) => edit::run(store()?, a),
        Command::Rm(a) => rm::run(store()?, a),
        Command::Search(a) => search::run(store()?, a),
        Command::Fix(a) => fix::run(store()?, a),
        Command::Reindex(a) => reindex::run(store()?, a),
        Command::Serve(a) => serve::run(store()?, a),
        Command::Redact(a) => redact::run(store()?, a),
        Command::Compact(a) => compact::run(store()?, a),
        // The demo's home is its own: `--home`, else beside the user's.
        Command::Demo(a) => demo::run(cli.home, a),
        Command::Completions(a) => completions::completions(a),
        Command::Man(a) => completions::man(a),
    }
}

fn open_store(home: Option<std::path::PathBuf>) -> anyhow::Result<Store> {
    let home = home
        .or_else(Store::default_home)
        .context("no home folder: set FIXCAST_HOME or pass --home")?;
    Ok(Store::open(home)?)
}

/// Resolves a user-typed id or prefix to a full id.
fn resolve(store: &Store, prefix: &str) -> anyhow::Result<SessionId> {
    Ok(store.resolve(prefix)?)
}

/// Resolves a user-typed id or prefix and loads the session, warning when it was just
/// repaired (its recorder had died).
fn open_session(store: &Store, prefix: &str) -> anyhow::Result<Listed> {
    let id = resolve(store, prefix)?;
    let listed = store.load(&id)?;
    if listed.repaired {
        warn_repaired(&listed.meta.id);
    }
    Ok(listed)
}

/// A problem worth telling about that does not stop the command.
fn warn(msg: impl std::fmt::Display) {
    eprintln!("fixcast: warning: {msg}");
}

/// Warnings told in this process: a build that is tried again (in place, then afresh;
/// on disk, then in memory), or a session read twice, does not tell the same problem twice.
static TOLD: std::sync::Mutex<std::collections::BTreeSet<String>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

fn warn_once(msg: std::fmt::Arguments<'_>) {
    let msg = msg.to_string();
    if TOLD
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(msg.clone())
    {
        warn(msg);
    }
}

fn warn_repaired(id: &SessionId) {
    warn(format_args!(
        "session {id}: recorder is gone; marked interrupted"
    ));
}

/// Reads a session's recording, warning when it could only be read in part. A session
/// still being recorded is read as far as its recorder has flushed: its cut tail is no
/// damage, and is told as such.
fn read_recording(store: &Store, id: &SessionId) -> anyhow::Result<Recording> {
    let contents = store.read(id)?;
    if store.is_being_recorded(id) {
        warn(format_args!(
            "session {id}: still being recorded; using what it has saved so far"
        ));
    } else {
        warn_damage(id, &contents.damage);
    }
    Ok(contents)
}

fn warn_damage(id: &SessionId, damage: &[String]) {
    if let Some(first) = damage.first() {
        let more = match damage.len() {
            1 => String::new(),
            n => format!(" (and {} more)", n - 1),
        };
        warn_once(format_args!(
            "session {id}: recording is damaged, using what could be read: {first}{more}"
        ));
    }
}

/// Text from a recording or an imported file, made safe to print on a terminal:
/// control characters are shown escaped instead of being obeyed.
fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return s.into();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
}

/// `1:02:03` (hours not padded).
fn format_duration(seconds: f64) -> String {
    let s = if seconds.is_finite() && seconds > 0.0 {
        seconds.round() as u64
    } else {
        0
    };
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// How long a session has lasted. A live session's metadata says 0 until it ends: its
/// time so far is the time since it started (its recorder's, when the clock allows).
fn duration_so_far(m: &fixcast_sessions::SessionMeta) -> f64 {
    match m.status {
        fixcast_sessions::Status::Recording => {
            let so_far = (time::OffsetDateTime::now_utc() - m.started).as_seconds_f64();
            so_far.max(m.duration)
        }
        _ => m.duration,
    }
}

/// `1 secret`, `2 secrets`, `0 secrets`.
fn count(n: u64, thing: &str) -> String {
    match n {
        1 => format!("1 {thing}"),
        n => format!("{n} {thing}s"),
    }
}

/// `1.2 MiB`.
fn format_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// A time in the local time zone, to the minute (UTC when the zone is unknown).
fn format_local(t: time::OffsetDateTime) -> String {
    let offset = time::UtcOffset::current_local_offset().unwrap_or(time::UtcOffset::UTC);
    let t = t.to_offset(offset);
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    t.format(&fmt).unwrap_or_else(|_| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes_read_well() {
        assert_eq!(format_duration(0.0), "0:00:00");
        assert_eq!(format_duration(3723.4), "1:02:03");
        assert_eq!(format_duration(f64::NAN), "0:00:00");
        assert_eq!(format_size(12), "12 B");
        assert_eq!(format_size(1_258_291), "1.2 MiB");
        assert_eq!(count(1, "secret"), "1 secret");
        assert_eq!(count(0, "secret"), "0 secrets");
        assert_eq!(count(2, "secret"), "2 secrets");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(printable("plain é 中"), "plain é 中");
        assert_eq!(printable("a\x1b[31mb\n"), r"a\u{1b}[31mb\n");
    }
}
