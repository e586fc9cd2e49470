//! The recorded program in a pseudo-terminal. Dropping a [`Pty`] whose child still runs
//! hangs the child up and reaps it, so no recording leaves an orphan behind.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use filedescriptor::FileDescriptor;
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

    /// Two descriptors of the master, one for each passthrough thread, **non-blocking**.
    /// A blocking write to a terminal whose program does not read waits until it does,
    /// and Linux may never wake it once the program has gone (seen with piped input the
    /// program left unread), so the input side writes only what fits and waits for room
    /// with `poll`, where it also sees the recording stop. The flag belongs to the shared
    /// open file, so the reading side must wait with `poll` too.
    pub fn endpoints(&self) -> Result<(FileDescriptor, FileDescriptor), Error> {
        let master = self.lock();
        let fd = master
            .as_raw_fd()
            .ok_or_else(|| Error::Pty("the terminal has no file descriptor".into()))?;
        let pty_err = |e: filedescriptor::Error| Error::Pty(e.to_string());
        // `dup` of the master's own descriptor, valid while `master` (held) lives.
        let mut reader = FileDescriptor::dup(&fd).map_err(pty_err)?;
        let writer = FileDescriptor::dup(&fd).map_err(pty_err)?;
        reader.set_non_blocking(true).map_err(pty_err)?;
        Ok((reader, writer))
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

    /// Hangs up the child, as closing a terminal window would, and makes sure it goes:
    /// the hangup is repeated while it runs (a shell can miss one that lands between a
    /// command and its next prompt, as bash 5.2 does, and then waits for a key for
    /// ever), and after `grace` the child is killed. Returns once the child has exited.
    pub fn hang_up_until_gone(&self, grace: Duration) {
        let start = Instant::now();
        let mut last_hangup: Option<Instant> = None;
        while !self.exited() {
            if start.elapsed() >= grace {
                self.signal_child(&[Signal::KILL]);
                return;
            }
            if last_hangup.is_none_or(|t| t.elapsed() >= HANGUP_REPEAT) {
                // A stopped child acts on nothing until it is continued.
                self.signal_child(&[Signal::HUP, Signal::CONT]);
                last_hangup = Some(Instant::now());
            }
            self.try_wait();
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends `signals` to the child unless it has exited. The exit is noted before the
    /// child is reaped (see [`Pty::note_exit`]), so its pid cannot have been reused.
    fn signal_child(&self, signals: &[Signal]) {
        let exit = self.exit();
        if exit.is_none() {
            for &sig in signals {
                let _ = process::kill_process(self.pid, sig);
            }
        }
    }

    fn exited(&self) -> bool {
        self.exit().is_some()
    }

    /// Waits for the child; its exit status, or 128 + the signal that killed it.
    pub fn wait(&self) -> i32 {
        loop {
            if let Some(code) = *self.exit() {
                return code;
            }
            let opts = process::WaitIdOptions::EXITED | process::WaitIdOptions::NOWAIT;
            match process::waitid(process::WaitId::Pid(self.pid), opts) {
                Ok(Some(status)) => self.note_exit(&status),
                Ok(None) | Err(rustix::io::Errno::INTR) => continue,
                Err(_) => self.note_exit_code(1),
            }
        }
    }

    fn exit(&self) -> std::sync::MutexGuard<'_, Option<i32>> {
        self.exit.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Like [`Pty::wait`], without blocking: `None` while the child runs.
    fn try_wait(&self) -> Option<i32> {
        if let Some(code) = *self.exit() {
            return Some(code);
        }
        let opts = process::WaitIdOptions::EXITED
            | process::WaitIdOptions::NOWAIT
            | process::WaitIdOptions::NOHANG;
        if let Ok(Some(status)) = process::waitid(process::WaitId::Pid(self.pid), opts) {
            self.note_exit(&status);
        }
        *self.exit()
    }

    /// Records the exit of a child that `waitid(WNOWAIT)` saw end, then reaps it; the
    /// order keeps [`Pty::signal_child`] from ever signalling a reused pid.
    fn note_exit(&self, status: &process::WaitIdStatus) {
        let code = if let Some(code) = status.exit_status() {
            code
        } else if let Some(sig) = status.terminating_signal() {
            128 + sig
        } else {
            1
        };
        self.note_exit_code(code);
    }

    fn note_exit_code(&self, code: i32) {
        let mut exit = self.exit();
        if exit.is_none() {
            *exit = Some(code);
            drop(exit);
            let _ = process::waitpid(Some(self.pid), WaitOptions::NOHANG);
        }
    }
}

/// How often a child that was hung up and still runs is hung up again.
const HANGUP_REPEAT: Duration = Duration::from_millis(500);

impl Drop for Pty {
    fn drop(&mut self) {
        self.hang_up_until_gone(Duration::from_secs(2));
        self.wait();
    }
}
