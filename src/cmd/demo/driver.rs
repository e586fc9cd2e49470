//! Types into a real `fixcast rec` on a real PTY, as a person would: a key at a time
//! with uneven pauses, and the next line only once the shell shows its prompt again.
//! The recorder under test is this very binary (`current_exe() rec`), so a demo session
//! is recorded exactly as a user's is.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use portable_pty::{native_pty_system, Child, CommandBuilder, MasterPty, PtySize};

/// How long one typed line may take to give the prompt back before the scenario fails:
/// generous for a loaded machine, short enough that a stuck step is told, not waited on.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);
/// The primary prompt's start, as fixcast's bash integration marks it (OSC 133;A, ST).
/// Continuation prompts carry `;k=s` and do not count.
const PROMPT_MARK: &[u8] = b"\x1b]133;A\x1b\\";
/// The size the demo's terminal has: what the web player shows.
pub const COLS: u16 = 100;
pub const ROWS: u16 = 30;

/// What a recorded shell is started with.
pub struct Start<'a> {
    pub exe: &'a Path,
    pub home: &'a Path,
    pub sandbox: &'a Path,
    pub cwd: &'a Path,
    pub title: &'a str,
    pub tags: &'a [&'a str],
    /// Names the scenario in errors.
    pub scenario: &'a str,
}

/// `fixcast rec` running on a PTY, its screen output collected as it comes.
pub struct Shell {
    child: Box<dyn Child + Send + Sync>,
    _master: Box<dyn MasterPty + Send>,
    writer: Box<dyn Write + Send>,
    output: Arc<Mutex<Vec<u8>>>,
    /// Ends at the PTY's end of file; never joined (see `exit`).
    _reader: JoinHandle<()>,
    rng: u64,
    scenario: String,
}

impl Shell {
    /// Starts `fixcast rec` in `cwd` and waits for the first prompt.
    pub fn start(s: &Start<'_>) -> anyhow::Result<Shell> {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .map_err(|e| anyhow::anyhow!("cannot open a PTY: {e}"))?;
        let mut cmd = CommandBuilder::new(s.exe);
        cmd.arg("--home");
        cmd.arg(s.home);
        cmd.args(["rec", "--title", s.title]);
        for t in s.tags {
            cmd.args(["--tag", t]);
        }
        cmd.cwd(s.cwd);
        // The shell lives in the sandbox: its HOME (so no dotfile or history of the
        // user's is read or written), a plain bash, and no outer session to refuse.
        cmd.env("HOME", s.sandbox);
        cmd.env("SHELL", "/bin/bash");
        cmd.env("TERM", "xterm-256color");
        cmd.env("LANG", "C.UTF-8");
        cmd.env("LC_ALL", "C.UTF-8");
        // The sandbox's own tools (the stand-in `kubectl`) come first; the sbin folders
        // hold mkfs.ext4 and debugfs, which a normal user's PATH may lack.
        let path = std::env::var("PATH").unwrap_or_default();
        cmd.env(
            "PATH",
            format!("{}/bin:{path}:/usr/sbin:/sbin", s.sandbox.display()),
        );
        cmd.env_remove("FIXCAST_SESSION");
        cmd.env_remove("FIXCAST_SERVER");
        cmd.env_remove("FIXCAST_HOME");
        cmd.env_remove("PROMPT_COMMAND");
        cmd.env_remove("BASH_ENV");
        let child = pair
            .slave
            .spawn_command(cmd)
            .map_err(|e| anyhow::anyhow!("{}: cannot start fixcast rec: {e}", s.scenario))?;
        drop(pair.slave);
        let mut reader = pair
            .master
            .try_clone_reader()
            .map_err(|e| anyhow::anyhow!("cannot read the PTY: {e}"))?;
        let writer = pair
            .master
            .take_writer()
            .map_err(|e| anyhow::anyhow!("cannot write to the PTY: {e}"))?;
        let output = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&output);
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .extend_from_slice(&buf[..n]);
            }
        });
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
            | 1;
        let mut shell = Shell {
            child,
            _master: pair.master,
            writer,
            output,
            _reader: reader,
            rng: seed,
            scenario: s.scenario.to_owned(),
        };
        shell.wait_prompts(1, "the first prompt")?;
        Ok(shell)
    }

    /// Types a command line and waits for the prompt that follows it.
    pub fn line(&mut self, line: &str) -> anyhow::Result<()> {
        let before = self.prompts();
        self.type_text(line)?;
        self.pause(150, 350);
        self.send(b"\r")?;
        self.wait_prompts(before + 1, line)
    }

    /// Types a command line that starts a full-screen program, then the keys it is driven
    /// with (each after a pause, as someone reading the screen), then waits for the prompt.
    pub fn full_screen(&mut self, line: &str, keys: &[&str]) -> anyhow::Result<()> {
        let before = self.prompts();
        self.type_text(line)?;
        self.pause(150, 350);
        self.send(b"\r")?;
        for k in keys {
            self.pause(700, 1100);
            self.type_text(k)?;
        }
        self.wait_prompts(before + 1, line)
    }

    /// Ends the shell (`exit`) and waits for `fixcast rec` to save the session.
    pub fn exit(mut self) -> anyhow::Result<()> {
        self.type_text("exit")?;
        self.send(b"\r")?;
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            // The shell's status is that of its last command: not a failure of rec. The
            // reader is not waited for: it ends with the PTY, which a process the shell
            // left behind could put off.
            if self
                .child
                .try_wait()
                .context("cannot wait for fixcast rec")?
                .is_some()
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                bail!(
                    "{}: fixcast rec did not end after exit; stopped it",
                    self.scenario
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn prompts(&self) -> usize {
        let out = self.output.lock().unwrap_or_else(|p| p.into_inner());
        out.windows(PROMPT_MARK.len())
            .filter(|w| *w == PROMPT_MARK)
            .count()
    }

    fn wait_prompts(&mut self, n: usize, what: &str) -> anyhow::Result<()> {
        let deadline = Instant::now() + STEP_TIMEOUT;
        while self.prompts() < n {
            if let Some(status) = self
                .child
                .try_wait()
                .context("cannot wait for fixcast rec")?
            {
                bail!(
                    "{}: fixcast rec ended ({status:?}) while waiting for {what:?}; its screen ended with: {}",
                    self.scenario,
                    self.tail()
                );
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                bail!(
                    "{}: no prompt {} s after {what:?}; stopped it. Its screen ended with: {}",
                    self.scenario,
                    STEP_TIMEOUT.as_secs(),
                    self.tail()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// The last few hundred bytes of output, printable, for an error.
    fn tail(&self) -> String {
        let out = self.output.lock().unwrap_or_else(|p| p.into_inner());
        let from = out.len().saturating_sub(300);
        super::super::printable(&String::from_utf8_lossy(&out[from..])).into_owned()
    }

    /// One key at a time, 8–40 ms apart, a word gap now and then: a quick typist.
    fn type_text(&mut self, text: &str) -> anyhow::Result<()> {
        let mut buf = [0u8; 4];
        for c in text.chars() {
            self.send(c.encode_utf8(&mut buf).as_bytes())?;
            if c == ' ' {
                self.pause(30, 90);
            } else {
                self.pause(8, 40);
            }
        }
        Ok(())
    }

    fn send(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        self.writer
            .write_all(bytes)
            .and_then(|()| self.writer.flush())
            .with_context(|| format!("{}: cannot type into the shell", self.scenario))
    }

    /// Sleeps between `lo` and `hi` ms (xorshift: the jitter needs no quality).
    fn pause(&mut self, lo: u64, hi: u64) {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let ms = lo + self.rng % (hi - lo + 1);
        std::thread::sleep(Duration::from_millis(ms));
    }
}

impl Drop for Shell {
    fn drop(&mut self) {
        // A scenario that failed half way leaves no recorder behind.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
