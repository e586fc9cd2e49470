//! The player's keyboard: keys read from a raw standard input, the keys the player
//! understands, and the signals that stop it.

use std::io::{self, Stdin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::io::Errno;

/// Keys from standard input (put in raw mode by [`super::restore::Terminal`]).
pub struct RawInput {
    stdin: Stdin,
}

impl RawInput {
    pub fn new() -> Self {
        RawInput { stdin: io::stdin() }
    }

    /// Waits up to `timeout` (forever if `None`) for keys; returns those pressed, in order
    /// (none on timeout or when a signal arrived).
    pub fn keys(&self, timeout: Option<Duration>) -> io::Result<Vec<Key>> {
        // Rounded up, so that a wait never ends just before its deadline.
        let timeout = timeout.map(|d| {
            let ms = u64::try_from(d.as_millis())
                .unwrap_or(u64::MAX)
                .saturating_add(1);
            Timespec::try_from(Duration::from_millis(ms)).unwrap_or(Timespec {
                tv_sec: i64::MAX,
                tv_nsec: 0,
            })
        });
        let mut fds = [PollFd::new(&self.stdin, PollFlags::IN)];
        match poll(&mut fds, timeout.as_ref()) {
            Ok(0) | Err(Errno::INTR) => return Ok(Vec::new()),
            Ok(_) => {}
            Err(e) => return Err(e.into()),
        }
        if !fds[0].revents().contains(PollFlags::IN) {
            // The terminal hung up: nobody is watching any more.
            return Ok(vec![Key::Quit]);
        }
        let mut buf = [0u8; 256];
        // Read the fd itself: std's buffered stdin could keep keys from the next poll.
        let n = match rustix::io::read(&self.stdin, &mut buf) {
            Ok(n) => n,
            Err(Errno::INTR | Errno::AGAIN) => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        if n == 0 {
            return Ok(vec![Key::Quit]);
        }
        Ok(keys_of(&buf[..n]))
    }
}

/// What a key press asks of the player.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// Space: pause, or resume.
    Pause,
    /// `.`: while paused, play up to the next change on the screen.
    Step,
    /// `]`: jump to the next command.
    Next,
    /// `[`: jump to the start of this command, or of the one before when just there.
    Prev,
    /// `q` or Ctrl-C.
    Quit,
}

impl Key {
    fn from_byte(b: u8) -> Option<Key> {
        match b {
            b' ' => Some(Key::Pause),
            b'.' => Some(Key::Step),
            b']' => Some(Key::Next),
            b'[' => Some(Key::Prev),
            b'q' | b'Q' | 0x03 => Some(Key::Quit),
            _ => None,
        }
    }
}

/// The keys in what the terminal sent. Escape sequences (arrows, function keys, mouse
/// and focus reports) are skipped whole: an arrow's `ESC [ A` is not a `[`.
fn keys_of(bytes: &[u8]) -> Vec<Key> {
    let mut keys = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == 0x1b {
            i += escape_len(&bytes[i..]);
            continue;
        }
        keys.extend(Key::from_byte(bytes[i]));
        i += 1;
    }
    keys
}

/// The length of the escape sequence `s` starts with (`s[0]` is ESC).
fn escape_len(s: &[u8]) -> usize {
    match s.get(1) {
        // CSI: parameters up to a final byte; an X10 mouse report (`CSI M`) then carries
        // three raw bytes, which may well read as keys.
        Some(b'[') => {
            let end = s[2..]
                .iter()
                .position(|b| (0x40..=0x7e).contains(b))
                .map_or(s.len(), |p| p + 2);
            if end == 2 && s.get(2) == Some(&b'M') {
                return s.len().min(6);
            }
            s.len().min(end + 1)
        }
        // SS3: F1-F4, and the arrows in application cursor mode.
        Some(b'O') => s.len().min(3),
        // Alt and a key.
        Some(_) => 2,
        // The Escape key alone.
        None => 1,
    }
}

/// The number of the signal that asked the player to stop; see [`stop_flag`].
pub type StopFlag = Arc<AtomicUsize>;

/// Set to the number of the signal (SIGINT, SIGTERM or SIGHUP) that asked the player to
/// stop, so that it stops cleanly (and gives the terminal back) instead of dying with the
/// terminal in the recording's modes; 0 until then.
pub fn stop_flag() -> io::Result<StopFlag> {
    let flag = Arc::new(AtomicUsize::new(0));
    for sig in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        signal_hook::flag::register_usize(sig, Arc::clone(&flag), sig as usize)?;
    }
    Ok(flag)
}

/// The signal that stopped the player, if one did.
pub fn stopped(flag: &AtomicUsize) -> Option<i32> {
    match flag.load(Ordering::Relaxed) {
        0 => None,
        sig => Some(sig as i32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_from_bytes() {
        assert_eq!(Key::from_byte(b' '), Some(Key::Pause));
        assert_eq!(Key::from_byte(b'.'), Some(Key::Step));
        assert_eq!(Key::from_byte(b']'), Some(Key::Next));
        assert_eq!(Key::from_byte(b'['), Some(Key::Prev));
        assert_eq!(Key::from_byte(3), Some(Key::Quit));
        assert_eq!(Key::from_byte(b'q'), Some(Key::Quit));
        assert_eq!(Key::from_byte(b'x'), None);
    }

    #[test]
    fn escape_sequences_are_not_keys() {
        // Up, Right (normal and application mode), F5, a focus report, an SGR mouse
        // click, an X10 mouse click (button 0 is a space), Alt-q, a lone Escape.
        let noise = b"\x1b[A\x1b[1;5C\x1bOC\x1b[15~\x1b[I\x1b[<0;10;5M\x1b[M !!\x1bq";
        assert_eq!(keys_of(noise), []);
        let mut typed = noise.to_vec();
        typed.extend_from_slice(b"[ ].q\x1b");
        assert_eq!(
            keys_of(&typed),
            [Key::Prev, Key::Pause, Key::Next, Key::Step, Key::Quit]
        );
    }
}
