//! The player's keyboard: keys read from a raw standard input, the keys the player
//! understands, and the signals that stop it.

use std::io;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::io::Errno;

/// Keys from a terminal: standard input, put in raw mode by [`super::restore::Terminal`].
pub struct RawInput<F> {
    keyboard: F,
}

impl RawInput<io::Stdin> {
    pub fn new() -> Self {
        RawInput::on(io::stdin())
    }
}

impl<F: AsFd> RawInput<F> {
    /// Keys read from `keyboard`.
    pub fn on(keyboard: F) -> Self {
        RawInput { keyboard }
    }

    /// Waits up to `timeout` (forever if `None`) for keys; returns those pressed, in order
    /// (none on timeout, or once `stop` has been signalled: even by a signal that came
    /// before the wait began).
    pub fn keys(&self, timeout: Option<Duration>, stop: &Stop) -> io::Result<Vec<Key>> {
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
        let mut fds = [
            PollFd::new(&self.keyboard, PollFlags::IN),
            PollFd::new(&stop.woken, PollFlags::IN),
        ];
        match poll(&mut fds, timeout.as_ref()) {
            Ok(0) | Err(Errno::INTR) => return Ok(Vec::new()),
            Ok(_) => {}
            Err(e) => return Err(e.into()),
        }
        if stop.signal().is_some() {
            return Ok(Vec::new());
        }
        if !fds[0].revents().contains(PollFlags::IN) {
            // The terminal hung up: nobody is watching any more.
            return Ok(vec![Key::Quit]);
        }
        let mut buf = [0u8; 256];
        // Read the fd itself: std's buffered stdin could keep keys from the next poll.
        let n = match rustix::io::read(&self.keyboard, &mut buf) {
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

/// What stops the player: SIGINT, SIGTERM or SIGHUP, so that it stops cleanly (and gives
/// the terminal back) instead of dying with the terminal in the recording's modes.
///
/// A flag says which signal came; a byte on a socket wakes a wait for keys. A flag alone
/// is not enough: a signal that lands after the player last looked at it but before it
/// begins to wait would leave it waiting, up to forever when paused.
pub struct Stop {
    flag: Arc<AtomicUsize>,
    /// Readable once a signal has come.
    woken: UnixStream,
}

impl Stop {
    /// Stops on SIGINT, SIGTERM and SIGHUP.
    pub fn on_signals() -> io::Result<Stop> {
        Stop::on(&[
            signal_hook::consts::SIGINT,
            signal_hook::consts::SIGTERM,
            signal_hook::consts::SIGHUP,
        ])
    }

    fn on(signals: &[i32]) -> io::Result<Stop> {
        let flag = Arc::new(AtomicUsize::new(0));
        let (woken, wake) = UnixStream::pair()?;
        for &sig in signals {
            // The flag first: actions run in the order registered, so a woken wait
            // always finds it set.
            signal_hook::flag::register_usize(sig, Arc::clone(&flag), sig as usize)?;
            signal_hook::low_level::pipe::register(sig, wake.try_clone()?)?;
        }
        Ok(Stop { flag, woken })
    }

    /// The signal that asked the player to stop, if one did.
    pub fn signal(&self) -> Option<i32> {
        match self.flag.load(Ordering::SeqCst) {
            0 => None,
            sig => Some(sig as i32),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::time::Instant;

    #[test]
    fn a_signal_that_comes_before_the_wait_ends_it_at_once() {
        // The player looked at the flag, then the signal came, then it waited for keys.
        let stop = Stop::on(&[signal_hook::consts::SIGUSR1]).unwrap();
        signal_hook::low_level::raise(signal_hook::consts::SIGUSR1).unwrap();
        let (keyboard, _typist) = UnixStream::pair().unwrap();
        let start = Instant::now();
        let keys = RawInput::on(keyboard)
            .keys(Some(Duration::from_secs(20)), &stop)
            .unwrap();
        assert!(keys.is_empty());
        assert!(start.elapsed() < Duration::from_secs(5), "waited on");
        assert_eq!(stop.signal(), Some(signal_hook::consts::SIGUSR1));
    }

    #[test]
    fn keys_are_read_until_the_keyboard_goes_away() {
        let stop = Stop::on(&[signal_hook::consts::SIGUSR2]).unwrap();
        let (keyboard, mut typist) = UnixStream::pair().unwrap();
        let input = RawInput::on(keyboard);
        let none = input.keys(Some(Duration::from_millis(50)), &stop).unwrap();
        assert!(none.is_empty());
        typist.write_all(b" q").unwrap();
        let keys = input.keys(Some(Duration::from_secs(20)), &stop).unwrap();
        assert_eq!(keys, [Key::Pause, Key::Quit]);
        drop(typist);
        let keys = input.keys(None, &stop).unwrap();
        assert_eq!(keys, [Key::Quit]);
        assert_eq!(stop.signal(), None);
    }

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
