//! The live session `live-growth` grows: `fixcast rec` running bash driven through its
//! stdin, the recording followed as it grows, and a viewer polling it.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use fixcast_sessions::{CastTail, EventKind};

use crate::serve::stop_child;
use crate::util;

/// A command (or a flush) taking longer than this fails the bench.
pub const COMMAND_LIMIT: Duration = Duration::from_secs(30);
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(60);

/// The word command `k` prints, and no other.
pub fn word(k: usize) -> String {
    format!("growth{k}mark")
}

// ---------------------------------------------------------------------------------------
// The recorded shell

/// `fixcast rec` running bash, driven through its stdin; the prompts counted in a file.
pub struct Shell {
    pub child: Child,
    pub stdin: Option<ChildStdin>,
    pub prompts: PathBuf,
    /// Commands written (and finished: each waits for the next prompt).
    pub commands: usize,
    pub last_write: Instant,
}

impl Shell {
    pub fn start(
        fixcast: &Path,
        home: &Path,
        user: &Path,
        prompts: &Path,
        tmp: &Path,
    ) -> anyhow::Result<Shell> {
        let err = std::fs::File::create(tmp.join("rec.err"))?;
        let mut child = util::fixcast_cmd(fixcast, home, &["rec"])
            .env("SHELL", "/bin/bash")
            .env("HOME", user)
            .env("LC_ALL", "C")
            .env("TERM", "xterm-256color")
            .env("LG_PROMPTS", prompts)
            .env_remove("PROMPT_COMMAND")
            .env_remove("BASH_ENV")
            .env_remove("ENV")
            .current_dir(user)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .context("cannot start fixcast rec")?;
        let stdin = child.stdin.take();
        Ok(Shell {
            child,
            stdin,
            prompts: prompts.to_owned(),
            commands: 0,
            last_write: Instant::now(),
        })
    }

    pub fn prompts(&self) -> usize {
        std::fs::read_to_string(&self.prompts)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0)
    }

    /// Waits until the shell has shown `n` prompts.
    pub fn wait_prompts(&mut self, n: usize, limit: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + limit;
        loop {
            if self.prompts() >= n {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                bail!("fixcast rec ended ({status}) before prompt {n}");
            }
            if Instant::now() > deadline {
                bail!(
                    "the shell showed {} prompts, not {n}, within {} s",
                    self.prompts(),
                    limit.as_secs()
                );
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Writes one command line and waits for the prompt after it.
    pub fn command(&mut self, line: &str) -> anyhow::Result<()> {
        let stdin = self.stdin.as_mut().context("the shell's stdin is closed")?;
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .and_then(|()| stdin.flush())
            .context("writing to fixcast rec's stdin")?;
        self.last_write = Instant::now();
        self.commands += 1;
        self.wait_prompts(self.commands + 1, COMMAND_LIMIT)?;
        // Let readline take the terminal before the next line arrives (else the line
        // discipline echoes it ahead of the prompt).
        std::thread::sleep(Duration::from_millis(2));
        Ok(())
    }

    /// `exit`, then the end of input; waits for `fixcast rec` to finish.
    pub fn end(&mut self) -> anyhow::Result<String> {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.write_all(b"exit\n");
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(s) = self.child.try_wait()? {
                return Ok(format!("fixcast rec {s}"));
            }
            if Instant::now() > deadline {
                stop_child(&mut self.child);
                bail!("fixcast rec did not end within 60 s of `exit`; stopped");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Shell {
    fn drop(&mut self) {
        drop(self.stdin.take());
        stop_child(&mut self.child);
    }
}

// ---------------------------------------------------------------------------------------
// The recording, followed as it grows

pub struct Follow {
    pub path: PathBuf,
    pub tail: Option<CastTail>,
    /// Bytes of output events so far.
    pub bytes: u64,
    /// The newest command whose word is in the recording.
    pub newest: usize,
    /// The last few kB of output (a word may straddle two events).
    pub recent: String,
}

impl Follow {
    pub fn new(path: PathBuf) -> Follow {
        Follow {
            path,
            tail: None,
            bytes: 0,
            newest: 0,
            recent: String::new(),
        }
    }

    pub fn update(&mut self) -> anyhow::Result<()> {
        if self.tail.is_none() {
            if !self.path.exists() {
                return Ok(());
            }
            self.tail = Some(CastTail::open(&self.path)?);
        }
        let tail = self.tail.as_mut().expect("opened");
        let events = tail.read_events()?;
        if events.is_empty() {
            return Ok(());
        }
        // From a little before the new output: a word cut in two is found whole.
        let mut from = self.recent.len().saturating_sub(64);
        while !self.recent.is_char_boundary(from) {
            from -= 1;
        }
        for ev in events {
            if let EventKind::Output(s) = ev.kind {
                self.bytes += s.len() as u64;
                self.recent.push_str(&s);
            }
        }
        // Words end their line: `growth<k>mark\r\n` (the typed `'growth%smark\n'` has
        // no digits).
        for (at, _) in self.recent[from..].match_indices("growth") {
            let rest = &self.recent[from + at + 6..];
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if rest[digits..].starts_with("mark\r") {
                if let Ok(k) = rest[..digits].parse::<usize>() {
                    self.newest = self.newest.max(k);
                }
            }
        }
        if self.recent.len() > 64 << 10 {
            let mut cut = self.recent.len() - 1024;
            while !self.recent.is_char_boundary(cut) {
                cut += 1;
            }
            self.recent.drain(..cut);
        }
        Ok(())
    }

    /// Waits until the recording holds the word of command `k`.
    pub fn wait_for(&mut self, k: usize, limit: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + limit;
        loop {
            self.update()?;
            if self.newest >= k {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "{} was not in the recording within {} s (newest: command {})",
                    word(k),
                    limit.as_secs(),
                    self.newest
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

// ---------------------------------------------------------------------------------------
// A viewer polling the session every second while it grows

pub struct Poller {
    pub stop: Arc<AtomicBool>,
    pub times: Arc<Mutex<Vec<f64>>>,
    pub thread: Option<JoinHandle<()>>,
}

impl Poller {
    pub fn start(addr: SocketAddr, path: String) -> Poller {
        let stop = Arc::new(AtomicBool::new(false));
        let times = Arc::new(Mutex::new(Vec::new()));
        let (s, t) = (stop.clone(), times.clone());
        let thread = std::thread::spawn(move || {
            let mut next = Instant::now();
            while !s.load(Ordering::Relaxed) {
                if Instant::now() >= next {
                    next += Duration::from_secs(1);
                    let t0 = Instant::now();
                    if let Ok((200, _)) = crate::http::get(addr, &path, HTTP_TIMEOUT) {
                        t.lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(t0.elapsed().as_secs_f64() * 1e3);
                    }
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        Poller {
            stop,
            times,
            thread: Some(thread),
        }
    }

    /// Stops polling: the latencies, ms.
    pub fn stop(mut self) -> Vec<f64> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        std::mem::take(&mut *self.times.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
