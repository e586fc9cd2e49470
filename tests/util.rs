//! What every end-to-end test needs: a fresh home and the `fixcast` binary pointed at it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A temp home that is removed when the test ends.
pub struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    pub fn new() -> Self {
        Home {
            dir: tempfile::Builder::new()
                .prefix("fixcast-test")
                .tempdir()
                .unwrap(),
        }
    }

    /// A temp home inside `dir` (a file system the test mounted itself).
    pub fn inside(dir: &Path) -> Self {
        Home {
            dir: tempfile::Builder::new()
                .prefix("fixcast-test")
                .tempdir_in(dir)
                .unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `fixcast ARGS` with this home, no stdin, outside any recorded session.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(bin());
        c.args(args)
            .env("FIXCAST_HOME", self.path())
            .env_remove("FIXCAST_SESSION")
            // No background compaction after rec and import: tests read and damage the
            // recordings' bytes (tests/compact.rs turns it back on).
            .env("FIXCAST_NO_COMPACT", "1")
            .env("SHELL", "/bin/bash")
            .stdin(Stdio::null());
        c
    }

    /// Runs and returns the output, whatever the exit status.
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// Runs, asserts success, returns stdout as text.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "fixcast {args:?} failed ({}):\nstdout: {}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// A SHELL for interactive tests: bash with no user config and a plain `$ ` prompt.
    pub fn plain_bash(&self) -> String {
        let path = self.path().join("plain-bash");
        std::fs::write(
            &path,
            "#!/bin/bash\nexport PS1='$ '\nexec /bin/bash --norc --noprofile \"$@\"\n",
        )
        .unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        path.display().to_string()
    }

    /// A session's recording file.
    pub fn cast_path(&self, id: &str) -> PathBuf {
        self.path()
            .join("sessions")
            .join(id)
            .join("session.cast.zst")
    }

    /// `zstd -dc` of a session's recording: what any standard decoder sees.
    pub fn zstd_dc(&self, id: &str) -> Output {
        Command::new("zstd")
            .arg("-dc")
            .arg(self.cast_path(id))
            .output()
            .unwrap()
    }

    /// The session folders in this home, without asking `fixcast` (which would repair a
    /// session whose recorder is still starting).
    pub fn ids_quiet(&self) -> Vec<String> {
        let mut ids: Vec<String> = std::fs::read_dir(self.path().join("sessions"))
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| !n.starts_with('.'))
                    .collect()
            })
            .unwrap_or_default();
        ids.sort();
        ids
    }

    /// The ids in this home, oldest first (full ids from `ls --json`).
    pub fn ids(&self) -> Vec<String> {
        let v: serde_json::Value = serde_json::from_str(&self.ok(&["ls", "--json"])).unwrap();
        let mut ids: Vec<String> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    }
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_fixcast"))
}

/// Path of a checked-in fixture.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Whether a tool is on PATH; tests that need it skip with a printed reason locally
/// (CI installs every tool, and sets CI=true so that a missing one fails instead).
pub fn have(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !found {
        assert!(std::env::var_os("CI").is_none(), "{tool} is required in CI");
        eprintln!("skipped: {tool} not installed");
    }
    found
}

/// Waits up to `limit` for `child` to exit; `None` (and the child killed and reaped)
/// if it does not, so that a hang fails the test instead of stalling it.
pub fn exit_within(
    child: &mut std::process::Child,
    limit: std::time::Duration,
) -> Option<std::process::ExitStatus> {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if std::time::Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
