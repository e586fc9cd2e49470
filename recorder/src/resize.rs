//! Window size changes of the user's terminal, forwarded to the PTY and recorded once
//! each. Two threads forward them: the signal thread on SIGWINCH, and the input thread
//! before it passes on each key. The second makes "resize, then type" reach the program
//! in that order: keys typed right after a resize would otherwise race the signal (a
//! `stty size` typed at once would print the old size).

use std::sync::Mutex;

use crate::pty::Pty;
use crate::queue::{Chunk, Queue};
use crate::tty;

/// The user's terminal's size as last forwarded.
pub(crate) struct Resizer {
    size: Mutex<(u16, u16)>,
}

impl Resizer {
    /// Follows changes from `size` (cols, rows) on.
    pub(crate) fn new(size: (u16, u16)) -> Resizer {
        Resizer {
            size: Mutex::new(size),
        }
    }

    /// Gives the PTY the user's terminal's size if it changed, and records it (`r`).
    /// Returns once the PTY has it: whatever is written to the PTY afterwards comes after
    /// the change.
    pub(crate) fn follow(&self, pty: &Pty, queue: &Queue, now: u64) {
        let Some(size) = tty::size_of(std::io::stdin()) else {
            return;
        };
        let mut current = self.size.lock().unwrap_or_else(|p| p.into_inner());
        if *current != size {
            *current = size;
            pty.resize(size.0, size.1);
            queue.push(now, Chunk::Resize(size.0, size.1));
        }
    }
}
