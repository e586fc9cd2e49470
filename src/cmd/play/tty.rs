//! The player's side of the terminal: raw keyboard input that is always given back,
//! and the keys the player understands.

use std::io::{self, Stdin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::termios::{self, SetArg, Termios};

/// The settings to restore if the player panics while raw (the panic hook reads them).
static SAVED: Mutex<Option<Termios>> = Mutex::new(None);

/// Standard input in raw mode (keys arrive one by one, unechoed, Ctrl-C as a byte) for
/// as long as this lives; dropped on every way out, unwinding included.
pub struct RawInput {
    stdin: Stdin,
    saved: Termios,
}

impl RawInput {
    pub fn enable() -> io::Result<Self> {
        let stdin = io::stdin();
        let saved = termios::tcgetattr(&stdin)?;
        let mut raw = saved.clone();
        termios::cfmakeraw(&mut raw);
        // Raw for input only: the recording's `\n`s still reach the screen as new lines.
        raw.output_flags = saved.output_flags;
        *SAVED.lock().unwrap_or_else(|e| e.into_inner()) = Some(saved.clone());
        install_panic_hook();
        termios::tcsetattr(&stdin, SetArg::TCSADRAIN, &raw)?;
        Ok(RawInput { stdin, saved })
    }

    /// Waits up to `timeout` (forever if `None`) for keys; returns those pressed, in order
    /// (none on timeout or when a signal arrived).
    pub fn keys(&self, timeout: Option<Duration>) -> io::Result<Vec<Key>> {
        let timeout = match timeout {
            None => PollTimeout::NONE,
            // Rounded up, so that a wait never ends just before its deadline.
            Some(d) => {
                PollTimeout::try_from(d.as_millis().saturating_add(1)).unwrap_or(PollTimeout::MAX)
            }
        };
        let mut fds = [PollFd::new(
            std::os::fd::AsFd::as_fd(&self.stdin),
            PollFlags::POLLIN,
        )];
        match poll(&mut fds, timeout) {
            Ok(0) | Err(nix::errno::Errno::EINTR) => return Ok(Vec::new()),
            Ok(_) => {}
            Err(e) => return Err(e.into()),
        }
        let revents = fds[0].revents().unwrap_or(PollFlags::empty());
        if !revents.contains(PollFlags::POLLIN) {
            // The terminal hung up: nobody is watching any more.
            return Ok(vec![Key::Quit]);
        }
        let mut buf = [0u8; 64];
        // Read the fd itself: std's buffered stdin could keep keys from the next poll.
        let n = match nix::unistd::read(&self.stdin, &mut buf) {
            Ok(n) => n,
            Err(nix::errno::Errno::EINTR | nix::errno::Errno::EAGAIN) => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        if n == 0 {
            return Ok(vec![Key::Quit]);
        }
        Ok(buf[..n].iter().filter_map(|&b| Key::from_byte(b)).collect())
    }
}

impl Drop for RawInput {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(&self.stdin, SetArg::TCSADRAIN, &self.saved);
        *SAVED.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

/// Gives the terminal back before a panic message is printed (the guard's drop comes only
/// after, during unwinding, and would leave the message garbled by raw mode).
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // A contained panic is no crash: the player goes on, raw.
            let contained = fixcast_sessions::containing();
            if let Some(saved) = SAVED
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_ref()
                .filter(|_| !contained)
            {
                let _ = termios::tcsetattr(io::stdin(), SetArg::TCSADRAIN, saved);
            }
            previous(info);
        }));
    });
}

/// What a key press asks of the player.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// Space: pause, or resume.
    Pause,
    /// `.`: while paused, play the next event.
    Step,
    /// `q` or Ctrl-C.
    Quit,
}

impl Key {
    fn from_byte(b: u8) -> Option<Key> {
        match b {
            b' ' => Some(Key::Pause),
            b'.' => Some(Key::Step),
            b'q' | b'Q' | 0x03 => Some(Key::Quit),
            _ => None,
        }
    }
}

/// A flag raised by SIGINT, SIGTERM or SIGHUP, so that the player stops cleanly (and gives
/// the terminal back) instead of dying in raw mode.
pub fn stop_flag() -> io::Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    for sig in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        signal_hook::flag::register(sig, Arc::clone(&flag))?;
    }
    Ok(flag)
}

pub fn stopped(flag: &AtomicBool) -> bool {
    flag.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_from_bytes() {
        assert_eq!(Key::from_byte(b' '), Some(Key::Pause));
        assert_eq!(Key::from_byte(b'.'), Some(Key::Step));
        assert_eq!(Key::from_byte(3), Some(Key::Quit));
        assert_eq!(Key::from_byte(b'q'), Some(Key::Quit));
        assert_eq!(Key::from_byte(b'x'), None);
    }
}
