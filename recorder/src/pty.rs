//! The recorded program in a pseudo-terminal. Dropping a [`Pty`] whose child still runs
//! hangs the child up and reaps it, so no recording leaves an orphan behind.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use portable_pty::{native_pty_system, CommandBuilder, MasterPty, PtySize};
use rustix::process::{self, Pid, Signal, WaitOptions};

use crate::error::Error;

/// What to run.
#[derive(Debug, Clone)]
pub struct Command {
    pub program: String,
    pub args: Vec<String>,
    /// Added to (or overriding) the inherited environment.
    pub env: Vec<(String, String)>,
    pub cwd: Option<PathBuf>,
}

pub struct Pty {
    master: Mutex<Box<dyn MasterPty + Send>>,
    // Kept so portable-pty's handle lives as long as the process; we reap it ourselves.
    _child: Box<dyn portable_pty::Child + Send + Sync>,
    pid: Pid,
    exit: Mutex<Option<i32>>,
}

fn size(cols: u16, rows: u16) -> PtySize {
    PtySize {
        rows,
        cols,
        pixel_width: 0,
        pixel_height: 0,
    }
}

impl Pty {
    pub fn spawn(cmd: &Command, cols: u16, rows: u16) -> Result<Pty, Error> {
        let pair = native_pty_system()
            .openpty(size(cols, rows))
            .map_err(|e| Error::Pty(e.to_string()))?;
        let mut builder = CommandBuilder::new(&cmd.program);
        builder.args(&cmd.args);
        for (k, v) in &cmd.env {
            builder.env(k, v);
        }
        if let Some(cwd) = &cmd.cwd {
            builder.cwd(cwd);
        }
        let spawn_err = |e: &dyn std::fmt::Display| Error::Spawn {
            program: cmd.program.clone(),
            reason: e.to_string(),
        };
        let child = pair
            .slave
            .spawn_command(builder)
            .map_err(|e| spawn_err(&e))?;
        // Only the child may hold the slave side, or reads never see the end of it.
        drop(pair.slave);
        let pid = child
            .process_id()
            .and_then(|p| Pid::from_raw(p as i32))
            .ok_or_else(|| spawn_err(&"no process id"))?;
        Ok(Pty {
            master: Mutex::new(pair.master),
            _child: child,
            pid,
            exit: Mutex::new(None),
        })
    }

    pub fn reader(&self) -> Result<Box<dyn Read + Send>, Error> {
        self.lock()
            .try_clone_reader()
            .map_err(|e| Error::Pty(e.to_string()))
    }

    pub fn writer(&self) -> Result<Box<dyn Write + Send>, Error> {
        self.lock()
            .take_writer()
            .map_err(|e| Error::Pty(e.to_string()))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Box<dyn MasterPty + Send>> {
        self.master.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn resize(&self, cols: u16, rows: u16) {
        let _ = self.lock().resize(size(cols, rows));
    }

    /// Whether the terminal reads a password now: line mode with echo off (sudo, ssh,
    /// `read -s`). Readline and full-screen programs turn echo off too, but leave line
    /// mode. What is typed at a password prompt is never recorded, and its Enter is not
    /// a command.
    pub fn reads_secret(&self) -> bool {
        use nix::sys::termios::LocalFlags;
        self.lock().get_termios().is_some_and(|t| {
            !t.local_flags.contains(LocalFlags::ECHO) && t.local_flags.contains(LocalFlags::ICANON)
        })
    }

    /// Sends `sig` to the foreground process group of the terminal (what a key like
    /// Ctrl-C would reach), or to the child when there is none.
    pub fn signal_foreground(&self, sig: Signal) {
        let leader = self.lock().process_group_leader().and_then(Pid::from_raw);
        match leader {
            Some(pg) => {
                let _ = process::kill_process_group(pg, sig);
            }
            None => {
                let _ = process::kill_process(self.pid, sig);
            }
        }
    }

    /// Hangs up the child, as closing a terminal window would.
    pub fn hangup(&self) {
        let _ = process::kill_process(self.pid, Signal::HUP);
    }

    /// Waits for the child; its exit status, or 128 + the signal that killed it.
    pub fn wait(&self) -> i32 {
        if let Some(code) = *self.exit() {
            return code;
        }
        let code = loop {
            match process::waitpid(Some(self.pid), WaitOptions::empty()) {
                Ok(Some((_, status))) => break exit_code(status),
                Ok(None) => continue,
                Err(rustix::io::Errno::INTR) => continue,
                Err(_) => break 1,
            }
        };
        *self.exit() = Some(code);
        code
    }

    fn exit(&self) -> std::sync::MutexGuard<'_, Option<i32>> {
        self.exit.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn try_wait(&self) -> Option<i32> {
        match process::waitpid(Some(self.pid), WaitOptions::NOHANG) {
            Ok(Some((_, status))) => {
                let code = exit_code(status);
                *self.exit() = Some(code);
                Some(code)
            }
            _ => None,
        }
    }
}

fn exit_code(status: process::WaitStatus) -> i32 {
    if let Some(code) = status.exit_status() {
        code
    } else if let Some(sig) = status.terminating_signal() {
        128 + sig
    } else {
        1
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        if self.exit().is_some() {
            return;
        }
        self.hangup();
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if self.try_wait().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = process::kill_process(self.pid, Signal::KILL);
        self.wait();
    }
}
