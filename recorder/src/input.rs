//! Passthrough in: the user's keys (or piped input) to the PTY, a copy to the queue only
//! with `record_input`.
//!
//! The PTY master is non-blocking (see [`Pty::endpoints`]): input a program leaves
//! unread fills the terminal's buffer, and a blocking write would then hold the
//! recording open after the program has gone, SIGTERM or not. Every wait here is a
//! `poll` that also watches the stop pipe, so the input side always notices the end.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use filedescriptor::FileDescriptor;
use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::io::Errno;

use crate::pty::Pty;
use crate::queue::{Chunk, Queue};
use crate::resize::Resizer;

/// How the input side behaves.
pub(crate) struct Input {
    pub pty: Arc<Pty>,
    pub record: bool,
    pub interactive: bool,
    /// Time (µs) of the latest output, to tell when the program waits for input.
    pub last_output: Arc<AtomicU64>,
    pub resizer: Arc<Resizer>,
}

/// How long the program must be quiet before piped input's end-of-file is (re)sent.
const EOF_IDLE: u64 = 300_000;

/// How long a wait for room in the terminal lasts before the write is tried again
/// anyway (a wake-up the kernel missed then costs this, not the rest of the recording).
const RETRY_WRITE: Timespec = Timespec {
    tv_sec: 0,
    tv_nsec: 100_000_000,
};

/// Keys to the PTY until stdin ends or `stop` becomes readable. Returns bytes recorded
/// and bytes withheld (typed at a password prompt while recording input).
pub(crate) fn pass_input(
    pty_in: FileDescriptor,
    stop: OwnedFd,
    queue: &Queue,
    micros: impl Fn() -> u64,
    input: Input,
) -> (u64, u64) {
    let stdin = std::io::stdin();
    let mut buf = vec![0u8; 64 << 10];
    let mut recorded = 0u64;
    let mut withheld = 0u64;
    loop {
        let mut fds = [
            PollFd::new(&stop, PollFlags::IN),
            PollFd::new(&stdin, PollFlags::IN),
        ];
        match poll(&mut fds, None) {
            Ok(_) => {}
            Err(Errno::INTR) => continue,
            Err(_) => break,
        }
        if !fds[0].revents().is_empty() {
            return (recorded, withheld);
        }
        if fds[1].revents().is_empty() {
            continue;
        }
        let n = match rustix::io::read(&stdin, &mut buf) {
            Ok(n) => n,
            Err(Errno::INTR | Errno::AGAIN) => continue,
            Err(_) => 0,
        };
        if n == 0 {
            break;
        }
        let keys = &buf[..n];
        if input.interactive {
            // A resize just before these keys reaches the program before them.
            input.resizer.follow(&input.pty, queue, micros());
        }
        let enter = keys.iter().any(|&b| b == b'\r' || b == b'\n');
        // Read before the keys reach the program: what it set while they were typed.
        let hidden = (input.record || enter) && input.pty.reads_secret();
        // Queued before the keys reach the program, so that their echo (queued by the
        // output thread) always comes after them in the recording.
        if input.record && !hidden {
            recorded += n as u64;
            queue.push(micros(), Chunk::Input(keys.to_vec()));
        } else if enter && !hidden {
            queue.push(micros(), Chunk::Enter);
        } else if input.record && hidden {
            withheld += n as u64;
        }
        if !write_or_stop(pty_in.as_fd(), keys, stop.as_fd()) {
            return (recorded, withheld);
        }
    }
    if !input.interactive {
        send_eof_when_idle(pty_in.as_fd(), stop.as_fd(), &micros, &input.last_output);
    }
    (recorded, withheld)
}

/// Writes all of `bytes` to the non-blocking `pty`, waiting for room as long as it takes
/// unless `stop` becomes readable first. False when the bytes cannot all go: the
/// recording stops, or the terminal is closed.
fn write_or_stop(pty: BorrowedFd<'_>, mut bytes: &[u8], stop: BorrowedFd<'_>) -> bool {
    while !bytes.is_empty() {
        match rustix::io::write(pty, bytes) {
            Ok(0) => return false,
            Ok(n) => bytes = &bytes[n..],
            Err(Errno::INTR) => {}
            Err(Errno::AGAIN) => {
                let mut fds = [
                    PollFd::new(&stop, PollFlags::IN),
                    PollFd::new(&pty, PollFlags::OUT),
                ];
                match poll(&mut fds, Some(&RETRY_WRITE)) {
                    Ok(_) | Err(Errno::INTR) => {}
                    Err(_) => return false,
                }
                if !fds[0].revents().is_empty() {
                    return false;
                }
                // Hung up with no room: the program's side is closed, nothing will read.
                let out = fds[1].revents();
                if out.intersects(PollFlags::HUP | PollFlags::ERR | PollFlags::NVAL)
                    && !out.contains(PollFlags::OUT)
                {
                    return false;
                }
            }
            Err(_) => return false,
        }
    }
    true
}

/// Piped input has ended: the program should see end-of-file, as if Ctrl-D were typed at
/// a terminal. A Ctrl-D typed ahead can be lost while a shell switches its terminal mode
/// (readline), so it is sent whenever the program has been quiet for a moment, until the
/// recording stops. A terminal with no room for it gets it at the next quiet moment.
fn send_eof_when_idle(
    pty: BorrowedFd<'_>,
    stop: BorrowedFd<'_>,
    micros: &impl Fn() -> u64,
    last_output: &AtomicU64,
) {
    let mut last_sent = 0u64;
    loop {
        let now = micros();
        let quiet_since = last_output.load(Ordering::Relaxed).max(last_sent);
        if now.saturating_sub(quiet_since) >= EOF_IDLE {
            match rustix::io::write(pty, &[0x04]) {
                Ok(_) => last_sent = now,
                Err(Errno::INTR | Errno::AGAIN) => {}
                Err(_) => return,
            }
        }
        let mut fds = [PollFd::new(&stop, PollFlags::IN)];
        let wait = Timespec {
            tv_sec: 0,
            tv_nsec: 100_000_000,
        };
        match poll(&mut fds, Some(&wait)) {
            Ok(_) if !fds[0].revents().is_empty() => return,
            Err(e) if e != Errno::INTR => return,
            _ => {}
        }
    }
}
