//! Running `fixcast` on a terminal (a PTY) from a test, which has none of its own.

use std::io::{Read, Write};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use portable_pty::{native_pty_system, CommandBuilder, PtySize};

use crate::util::{bin, Home};

/// `fixcast ARGS` on a PTY: its output arrives on a channel, keys go to its input.
pub struct OnTerminal {
    child: Box<dyn portable_pty::Child + Send + Sync>,
    master: Box<dyn portable_pty::MasterPty + Send>,
    keys: Box<dyn Write + Send>,
    output: mpsc::Receiver<u8>,
    seen: Vec<u8>,
}

impl OnTerminal {
    pub fn start(home: &Home, args: &[&str]) -> OnTerminal {
        Self::start_with(home, args, &[])
    }

    /// Like [`start`](Self::start), with extra environment variables.
    pub fn start_with(home: &Home, args: &[&str], env: &[(&str, &str)]) -> OnTerminal {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: 24,
                cols: 80,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new(bin());
        cmd.args(args);
        cmd.env("FIXCAST_HOME", home.path());
        cmd.env_remove("FIXCAST_SESSION");
        cmd.env_remove("NO_COLOR");
        // As `Home::cmd`: no background compaction racing the test for the index's
        // writer lock or the recording's bytes.
        cmd.env("FIXCAST_NO_COMPACT", "1");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().unwrap();
        let keys = pair.master.take_writer().unwrap();
        let (tx, output) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 || buf[..n].iter().any(|b| tx.send(*b).is_err()) {
                    break;
                }
            }
        });
        OnTerminal {
            child,
            master: pair.master,
            keys,
            output,
            seen: Vec::new(),
        }
    }

    /// Waits until `text` has been printed; false after `limit`.
    pub fn wait_for(&mut self, text: &str, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            if contains(&self.seen, text.as_bytes()) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.output.recv_timeout(left) {
                Ok(b) => self.seen.push(b),
                Err(_) => return false,
            }
        }
    }

    /// Waits until `text` has been printed `n` times in all; false after `limit`.
    pub fn wait_for_count(&mut self, text: &str, n: usize, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            if count(&self.seen, text.as_bytes()) >= n {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.output.recv_timeout(left) {
                Ok(b) => {
                    self.seen.push(b);
                    // Drain what is already there before counting again.
                    self.seen.extend(self.output.try_iter());
                }
                Err(_) => return false,
            }
        }
    }

    pub fn press(&mut self, key: &[u8]) {
        self.keys.write_all(key).unwrap();
        self.keys.flush().unwrap();
    }

    /// Waits for the player to exit; its status code.
    pub fn exit_code(&mut self, limit: Duration) -> u32 {
        self.exited_within(limit).expect("player still running")
    }

    /// The player's status code once it has exited; `None` if it still runs after `limit`.
    pub fn exited_within(&mut self, limit: Duration) -> Option<u32> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status.exit_code());
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Resizes the terminal (the kernel tells its foreground process with SIGWINCH).
    pub fn resize(&self, cols: u16, rows: u16) {
        self.master
            .resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
    }

    /// The process id of fixcast.
    pub fn pid(&self) -> u32 {
        self.child.process_id().unwrap()
    }

    /// Everything printed so far.
    pub fn seen_text(&self) -> String {
        String::from_utf8_lossy(&self.seen).into_owned()
    }

    /// Reads what is printed until the terminal closes (fixcast and its children have
    /// exited), or `limit`.
    pub fn read_to_end(&mut self, limit: Duration) {
        let deadline = Instant::now() + limit;
        let left = || deadline.saturating_duration_since(Instant::now());
        while let Ok(b) = self.output.recv_timeout(left()) {
            self.seen.push(b);
        }
    }

    /// Sends `signal` to fixcast.
    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        let pid = nix::unistd::Pid::from_raw(self.pid() as i32);
        nix::sys::signal::kill(pid, signal).unwrap();
    }

    /// The terminal as everything printed so far left it (an 80x24 `vt100` screen).
    pub fn screen(&self) -> vt100::Parser {
        let mut p = vt100::Parser::new(24, 80, 0);
        p.process(&self.seen);
        p
    }

    /// Whether the terminal is back in its usual (cooked, echoing) mode.
    pub fn terminal_restored(&self) -> bool {
        use nix::sys::termios::LocalFlags;
        // portable-pty's termios, compared by bits: they hold whichever nix it uses.
        let t = self.master.get_termios().expect("termios of the pty");
        LocalFlags::from_bits_truncate(t.local_flags.bits())
            .contains(LocalFlags::ICANON | LocalFlags::ECHO | LocalFlags::ISIG)
    }
}

impl Drop for OnTerminal {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

fn count(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}
