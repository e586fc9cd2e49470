//! The config file: `$FIXCAST_HOME/config.toml` (the home given by `--home`, or the
//! default home) if it exists, else `$XDG_CONFIG_HOME/fixcast/config.toml`
//! (`~/.config/fixcast/config.toml`). Every key is optional; a flag or its environment
//! variable wins over the file.
//!
//! ```toml
//! [redact]
//! patterns = ["corp-[0-9a-f]{32}", "(?i)internal-token: \\S+"]
//!
//! [server]            # where `fixcast rec` streams (as --server / --token)
//! url = "http://kb.example:7878"
//! token = "…"
//!
//! [serve]             # `fixcast serve` (as --bind / --token)
//! bind = "0.0.0.0:7878"
//! token = "…"
//!
//! [rec]
//! hints = false       # no "seen before" line after a known failure (as --no-hints)
//!
//! [fixes]             # programs (or program + subcommand) that only look
//! read_only = ["helm status", "mycheck"]
//! ```
//!
//! A file that cannot be read or parsed, or an unknown key, is an error naming the file:
//! a setting silently ignored (a redaction pattern above all) would do what the user
//! asked not to.

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use fixcast_sessions::{ReadOnly, Store};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub redact: RedactConfig,
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub serve: ServeConfig,
    #[serde(default)]
    pub fixes: FixesConfig,
    #[serde(default)]
    pub rec: RecConfig,
}

/// `fixcast rec`'s own settings.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecConfig {
    /// "Seen before" hints after a failed command (on unless `false`).
    pub hints: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedactConfig {
    /// Regexes (`regex` crate syntax) whose matches are redacted as `custom`.
    #[serde(default)]
    pub patterns: Vec<String>,
}

/// The `fixcast serve` that `fixcast rec` streams to.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    pub url: Option<String>,
    pub token: Option<String>,
}

/// `fixcast serve`'s own settings.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeConfig {
    pub bind: Option<SocketAddr>,
    pub token: Option<String>,
}

/// How fix records are derived.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixesConfig {
    /// Added to the built-in read-only list: a program (`mycheck`) or a program and
    /// subcommand words (`helm status`) whose runs are diagnostics, never a fix.
    #[serde(default)]
    pub read_only: Vec<String>,
}

impl FixesConfig {
    fn check(&self) -> anyhow::Result<()> {
        for (i, entry) in self.read_only.iter().enumerate() {
            if entry.trim().is_empty() {
                anyhow::bail!(
                    "[fixes] read_only: entry {} is empty; give a program, or a program and its subcommand (\"helm status\")",
                    i + 1
                );
            }
        }
        Ok(())
    }
}

/// The config file in use, if there is one.
pub fn path(store: &Store) -> Option<PathBuf> {
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

/// The config, with the path it came from; the defaults when there is no file.
pub fn load(store: &Store) -> anyhow::Result<(Config, Option<PathBuf>)> {
    let Some(path) = path(store) else {
        return Ok((Config::default(), None));
    };
    let text = fs::read_to_string(&path)
        .with_context(|| format!("{}: cannot read the config file", path.display()))?;
    let config =
        parse(&text).with_context(|| format!("{}: not a valid config file", path.display()))?;
    if config.server.token.is_some() || config.serve.token.is_some() {
        warn_if_others_can_read(&path);
    }
    Ok((config, Some(path)))
}

fn parse(text: &str) -> anyhow::Result<Config> {
    let config: Config = toml::from_str(text)?;
    config.fixes.check()?;
    Ok(config)
}

/// How often a long-running process (`fixcast serve`) looks at the config file again.
const RECHECK_EVERY: Duration = Duration::from_secs(1);

/// What a config file was when it was read: a change of path, time or size means read
/// it again. `None`: there was no file.
type Stamp = Option<(PathBuf, Option<SystemTime>, u64)>;

fn stamp(store: &Store) -> Stamp {
    let path = path(store)?;
    let (modified, len) = match fs::metadata(&path) {
        Ok(m) => (m.modified().ok(), m.len()),
        Err(_) => (None, 0),
    };
    Some((path, modified, len))
}

/// The list read for one home, and when its file was last looked at.
struct Loaded {
    home: PathBuf,
    stamp: Stamp,
    checked: Instant,
    ro: ReadOnly,
}

/// The read-only list in force for this store: the built-in one and the config file's
/// `[fixes] read_only`, so the CLI, the index and the web all derive with the same
/// list. Kept per process and home (a server derives fix records for every search),
/// and read again when the file changes, looked at no more than once a second: a
/// running server follows an edit without a restart.
///
/// A file that cannot be read or parsed is an error the first time; once a list is in
/// force (a server), a bad edit keeps it, with a warning, until the file is fixed.
pub fn read_only(store: &Store) -> anyhow::Result<ReadOnly> {
    static LOADED: Mutex<Vec<Loaded>> = Mutex::new(Vec::new());
    let mut loaded = LOADED.lock().unwrap_or_else(|p| p.into_inner());
    let at = loaded.iter().position(|l| l.home == store.home());
    if let Some(l) = at.map(|i| &mut loaded[i]) {
        if l.checked.elapsed() < RECHECK_EVERY {
            return Ok(l.ro.clone());
        }
        l.checked = Instant::now();
        let now = stamp(store);
        if now == l.stamp {
            return Ok(l.ro.clone());
        }
        l.stamp = now;
        match load(store) {
            Ok((config, _)) => l.ro = ReadOnly::with(&config.fixes.read_only),
            Err(e) => eprintln!(
                "fixcast: warning: {e:#}; the [fixes] read_only list read before stays in force until the file is fixed"
            ),
        }
        return Ok(l.ro.clone());
    }
    let before = stamp(store);
    let (config, _) = load(store)?;
    let ro = ReadOnly::with(&config.fixes.read_only);
    loaded.push(Loaded {
        home: store.home().to_owned(),
        stamp: before,
        checked: Instant::now(),
        ro: ro.clone(),
    });
    Ok(ro)
}

/// A token in a file others can read is a token others have: say so, as ssh does.
fn warn_if_others_can_read(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(m) = fs::metadata(path) {
        if m.permissions().mode() & 0o077 != 0 {
            eprintln!(
                "fixcast: warning: {} holds a token and others can read it (chmod 600 it)",
                path.display()
            );
        }
    }
}

/// The first of `values` that is set and not empty.
pub fn first_set(values: [Option<&String>; 2]) -> Option<String> {
    values
        .into_iter()
        .flatten()
        .find(|v| !v.is_empty())
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixes_read_only_adds_to_the_built_in_list() {
        let c = parse("[fixes]\nread_only = [\"helm status\", \"mycheck\"]\n").unwrap();
        assert_eq!(c.fixes.read_only, ["helm status", "mycheck"]);
        let ro = ReadOnly::with(&c.fixes.read_only);
        assert!(ro.is_read_only("helm status web"));
        assert!(!ro.is_read_only("helm upgrade web"));
        assert!(ro.is_read_only("mycheck --all"));
        assert!(
            ro.is_read_only("lsattr app.conf"),
            "the built-in list stays"
        );
        assert!(parse("").unwrap().fixes.read_only.is_empty());
        assert!(parse("[fixes]\n").unwrap().fixes.read_only.is_empty());
    }

    #[test]
    fn rec_hints_can_be_turned_off() {
        assert_eq!(parse("").unwrap().rec.hints, None);
        assert_eq!(
            parse("[rec]\nhints = false\n").unwrap().rec.hints,
            Some(false)
        );
        let e = parse("[rec]\nhints = \"no\"\n").unwrap_err();
        assert!(format!("{e:#}").contains("hints"), "{e:#}");
    }

    #[test]
    fn a_bad_fixes_section_is_an_error() {
        let e = parse("[fixes]\nread_only = [\"ls\", \"  \"]\n").unwrap_err();
        assert!(format!("{e:#}").contains("entry 2 is empty"), "{e:#}");
        let e = parse("[fixes]\nread_only = [\"\"]\n").unwrap_err();
        assert!(format!("{e:#}").contains("entry 1 is empty"), "{e:#}");
        let e = parse("[fixes]\nread_only = \"helm status\"\n").unwrap_err();
        assert!(format!("{e:#}").contains("read_only"), "{e:#}");
        let e = parse("[fixes]\nreadonly = [\"x\"]\n").unwrap_err();
        assert!(format!("{e:#}").contains("unknown field"), "{e:#}");
    }
}
