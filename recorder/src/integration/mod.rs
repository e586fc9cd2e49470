//! Shell integration: how `fixcast rec` starts bash, zsh or fish so that each command
//! the user runs is marked in the output, without touching the user's dotfiles.
//!
//! The shell prints, every sequence ending with ST (`ESC \`), never BEL:
//!
//! - `ESC ] 133 ; A ESC \` where the prompt starts, `ESC ] 133 ; B ESC \` where it ends
//!   and input starts (both inside PS1, marked zero-width, so the prompt looks and
//!   measures the same);
//! - `ESC ] 633 ; E ; <command line> ESC \` then `ESC ] 133 ; C ESC \` just before a
//!   command runs; the command line is escaped as VS Code does: `\` → `\\`,
//!   `;` → `\x3b`, bytes 0x01–0x1f and 0x7f → `\xNN` (lowercase), other UTF-8 as is;
//! - `ESC ] 133 ; D ; <exit status> ESC \` when it finished (before the next prompt);
//! - `ESC ] 7 ; file://<host><cwd, percent-encoded> ESC \` at each prompt.
//!
//! A prompt where nothing ran (an empty line) gets no C and no D; bash also prints
//! `D;130` without a C when Ctrl-C abandons a line at the prompt (not for a second
//! Ctrl-C in a row: bash leaves nothing to tell it from an empty line).
//!
//! How each shell is started, and what it gives as the command line:
//!
//! - **bash**: `--rcfile <generated>`, which sources `~/.bashrc` (bash itself still
//!   reads `/etc/bash.bashrc` when built with it, as on Debian, also with --rcfile),
//!   then extends PROMPT_COMMAND (ours first, for `$?`, and last, to wrap PS1 after
//!   starship and themes), PS0 and the DEBUG trap (the user's trap still runs, with
//!   `$?` and `$_`), or, when bash-preexec is loaded, registers in its
//!   `precmd_functions` (first) and `preexec_functions` and still wraps PS1 last in
//!   PROMPT_COMMAND (bash-preexec runs its hooks before what PROMPT_COMMAND held when it
//!   was sourced, where a starship set up before it sets PS1). A key binding that runs
//!   the line itself and calls the preexec hooks (atuin's Ctrl-R with `enter_accept`) is
//!   marked with the line it passes. The command line is `history 1`, which is
//!   what bash saved: with `cmdhist` (the default) a multi-line command (a `for` over
//!   several lines) is one entry with its lines joined by `;`, with `lithist` the
//!   newlines are kept, here-documents keep theirs, and a backslash-newline is removed.
//!   When the line did not reach the history (HISTCONTROL=ignorespace, HISTIGNORE,
//!   `set +o history`), it is `$BASH_COMMAND`: only the first simple command. The
//!   user's `shopt` settings are never changed.
//! - **zsh**: `ZDOTDIR=<generated>`, whose `.zshenv`, `.zprofile`, `.zshrc` and `.zlogin`
//!   each source the user's file with the user's ZDOTDIR (or `$HOME`) in place, which
//!   is restored for good after the last one; hooks are added with `add-zsh-hook`. The
//!   command line is preexec's `$1`: exactly what was typed, newlines included.
//! - **fish**: `--init-command 'source <generated>'`, after the user's config; events
//!   `fish_preexec` / `fish_postexec` / `fish_prompt`. The command line is exactly
//!   what was typed. fish 4 and later print OSC 133 themselves (`133;A;special_key=1`,
//!   no B, `133;C;cmdline_url=<the line, percent-encoded>`, `133;D;<status>`, BEL
//!   terminated): then only OSC 7 is added, as fish's own C carries the command line
//!   and a 633;E from `fish_preexec` would only come after it.
//!
//! Any other shell (sh, dash, busybox, tcsh, nushell…) gets no integration.
//!
//! The generated files live in a private folder (mode 0700) under `$XDG_RUNTIME_DIR`,
//! else the system temp folder, removed when the [`Integration`] is dropped: keep it
//! until the recording ends. Its name, `fixcast-<session id>-<recorder pid>`, says whose
//! it is: a recorder that was killed (SIGKILL, a crash) cannot remove its folder, so each
//! new one removes those of recorders that are gone.

use std::fs::{DirBuilder, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

const BASH: &str = include_str!("bash.sh");
const ZSH_STARTUP: &str = include_str!("zsh-startup.zsh");
const ZSH: &str = include_str!("zsh.zsh");
const FISH: &str = include_str!("fish.fish");

/// Why the integration files could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum IntegrationError {
    #[error("shell integration: session id {0:?} is not a file name")]
    SessionId(String),
    /// The cause is `source()`'s, not the message's: told once.
    #[error("shell integration: cannot write {}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The shells that get integration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

impl Shell {
    /// The shell a path runs, from its file name: `bash`, `/usr/bin/zsh`, `-bash`
    /// (a login shell's name), `zsh-5.9`. None for any other shell.
    pub fn detect(path: &Path) -> Option<Shell> {
        let name = path.file_name()?.to_str()?;
        let name = name.strip_prefix('-').unwrap_or(name);
        let base = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.' || c == '-');
        match base {
            "bash" => Some(Shell::Bash),
            "zsh" => Some(Shell::Zsh),
            "fish" => Some(Shell::Fish),
            _ => None,
        }
    }
}

/// How to start an interactive shell with integration. The generated files are
/// removed when this is dropped.
#[derive(Debug)]
pub struct Integration {
    pub shell: Shell,
    pub program: String,
    pub args: Vec<String>,
    /// Added to the shell's environment.
    pub env: Vec<(String, String)>,
    dir: ScriptDir,
}

impl Integration {
    /// The private folder of the generated files.
    pub fn dir(&self) -> &Path {
        &self.dir.0
    }
}

/// Prepares `shell` (an interactive shell, started with no `-c`) for a recording:
/// None when it is not a shell that fixcast integrates with.
pub fn integrate(shell: &Path, session_id: &str) -> Result<Option<Integration>, IntegrationError> {
    let base = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|d| d.is_absolute() && d.is_dir())
        .unwrap_or_else(std::env::temp_dir);
    integrate_in(&base, shell, session_id)
}

fn integrate_in(
    base: &Path,
    shell: &Path,
    session_id: &str,
) -> Result<Option<Integration>, IntegrationError> {
    let Some(kind) = Shell::detect(shell) else {
        return Ok(None);
    };
    if session_id.is_empty() || !session_id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(IntegrationError::SessionId(session_id.to_owned()));
    }
    remove_stale(base);
    let path = base.join(format!("fixcast-{session_id}-{}", std::process::id()));
    // Not create_all: a folder already there (someone else's) is an error, not reused.
    DirBuilder::new()
        .mode(0o700)
        .create(&path)
        .map_err(|source| IntegrationError::Write {
            path: path.clone(),
            source,
        })?;
    let dir = ScriptDir(path);
    let program = shell.to_string_lossy().into_owned();
    let (args, env) = match kind {
        Shell::Bash => {
            let rc = dir.write("bashrc", BASH)?;
            (vec!["--rcfile".to_owned(), rc], vec![])
        }
        Shell::Zsh => {
            for file in [".zshenv", ".zprofile", ".zshrc", ".zlogin"] {
                dir.write(file, &ZSH_STARTUP.replace("@FILE@", file))?;
            }
            dir.write("fixcast.zsh", ZSH)?;
            let user = std::env::var("ZDOTDIR").unwrap_or_default();
            let env = vec![
                ("ZDOTDIR".to_owned(), dir.0.display().to_string()),
                ("FIXCAST_USER_ZDOTDIR".to_owned(), user),
            ];
            (vec![], env)
        }
        Shell::Fish => {
            let script = dir.write("fixcast.fish", FISH)?;
            let quoted = script.replace('\\', "\\\\").replace('\'', "\\'");
            (
                vec!["--init-command".to_owned(), format!("source '{quoted}'")],
                vec![],
            )
        }
    };
    Ok(Some(Integration {
        shell: kind,
        program,
        args,
        env,
        dir,
    }))
}

/// Removes the folders in `base` left by recorders that are gone: `fixcast-<id>-<pid>`,
/// ours (the same user), and no process `pid` runs. Best effort: what cannot be read or
/// removed is left, and a pid now reused by another process keeps its folder until that
/// one ends too.
fn remove_stale(base: &Path) {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    let me = rustix::process::getuid().as_raw();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(recorder_of) else {
            continue;
        };
        let gone = rustix::process::Pid::from_raw(pid).is_some_and(|pid| {
            rustix::process::test_kill_process(pid) == Err(rustix::io::Errno::SRCH)
        });
        // symlink_metadata: a link is never followed (nor removed through).
        let ours =
            std::fs::symlink_metadata(entry.path()).is_ok_and(|m| m.is_dir() && m.uid() == me);
        if gone && ours {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The recorder pid in a folder name `fixcast-<session id>-<pid>`.
fn recorder_of(name: &str) -> Option<i32> {
    let (id, pid) = name.strip_prefix("fixcast-")?.rsplit_once('-')?;
    let valid = !id.is_empty()
        && id.chars().all(|c| c.is_ascii_alphanumeric())
        && !pid.is_empty()
        && pid.chars().all(|c| c.is_ascii_digit());
    valid.then(|| pid.parse().ok()).flatten()
}

/// The folder of generated files, removed on drop.
#[derive(Debug)]
struct ScriptDir(PathBuf);

impl ScriptDir {
    /// Writes a file readable by the user only; its path.
    fn write(&self, name: &str, text: &str) -> Result<String, IntegrationError> {
        let path = self.0.join(name);
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .map_err(|source| IntegrationError::Write {
                path: path.clone(),
                source,
            })?;
        Ok(path.display().to_string())
    }
}

impl Drop for ScriptDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn shells_are_told_by_file_name() {
        for (path, want) in [
            ("/bin/bash", Some(Shell::Bash)),
            ("-bash", Some(Shell::Bash)),
            ("/usr/local/bin/bash5.2", Some(Shell::Bash)),
            ("/usr/bin/zsh", Some(Shell::Zsh)),
            ("zsh-5.9", Some(Shell::Zsh)),
            ("/usr/bin/fish", Some(Shell::Fish)),
            ("/bin/sh", None),
            ("/bin/dash", None),
            ("/bin/busybox", None),
            ("/usr/bin/tcsh", None),
            ("/usr/bin/nu", None),
            ("/tmp/plain-bash", None),
            ("/", None),
        ] {
            assert_eq!(Shell::detect(Path::new(path)), want, "{path}");
        }
    }

    fn base(test: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("fixcast-unit-{}-{test}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn files_live_in_a_private_folder_removed_on_drop() {
        let base = base("private");
        let i = integrate_in(&base, Path::new("/bin/bash"), "01TESTBASH")
            .unwrap()
            .unwrap();
        let dir = i.dir().to_owned();
        let name = format!("fixcast-01TESTBASH-{}", std::process::id());
        assert_eq!(dir, base.join(name));
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        assert_eq!(i.args[0], "--rcfile");
        assert_eq!(std::fs::read_to_string(&i.args[1]).unwrap(), BASH);
        assert!(
            integrate_in(&base, Path::new("/bin/bash"), "01TESTBASH").is_err(),
            "an existing folder is not reused"
        );
        drop(i);
        assert!(!dir.exists());
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn zsh_and_fish_are_pointed_at_their_files() {
        let base = base("zsh-fish");
        let z = integrate_in(&base, Path::new("/usr/bin/zsh"), "01Z")
            .unwrap()
            .unwrap();
        assert_eq!(z.env[0], ("ZDOTDIR".into(), z.dir().display().to_string()));
        let rc = std::fs::read_to_string(z.dir().join(".zshrc")).unwrap();
        assert!(rc.contains("/.zshrc") && !rc.contains("@FILE@"));
        let f = integrate_in(&base, Path::new("fish"), "01F")
            .unwrap()
            .unwrap();
        assert_eq!(f.args[0], "--init-command");
        assert!(f.args[1].starts_with("source '/") && f.args[1].ends_with("fixcast.fish'"));
        assert!(integrate_in(&base, Path::new("/bin/sh"), "01S")
            .unwrap()
            .is_none());
        assert!(integrate_in(&base, Path::new("bash"), "../x").is_err());
        drop((z, f));
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn folders_of_recorders_that_are_gone_are_removed() {
        assert_eq!(recorder_of("fixcast-01ABC-123"), Some(123));
        for name in [
            "fixcast-01ABC",
            "fixcast--1",
            "fixcast-01ABC-",
            "fixcast-a.b-1",
            "x-1-2",
        ] {
            assert_eq!(recorder_of(name), None, "{name}");
        }
        let base = base("stale");
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let stale = base.join(format!("fixcast-01DEAD-{dead}"));
        std::fs::create_dir(&stale).unwrap();
        std::fs::write(stale.join("bashrc"), "x").unwrap();
        let live = base.join(format!("fixcast-01LIVE-{}", std::process::id()));
        std::fs::create_dir(&live).unwrap();
        let file = base.join(format!("fixcast-01FILE-{dead}"));
        std::fs::write(&file, "not a folder").unwrap();
        let i = integrate_in(&base, Path::new("/bin/bash"), "01NEW")
            .unwrap()
            .unwrap();
        assert!(!stale.exists(), "its recorder is gone");
        assert!(live.exists() && file.exists() && i.dir().exists());
        drop(i);
        std::fs::remove_dir_all(&base).unwrap();
    }
}
