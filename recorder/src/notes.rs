//! Notes shown to the user just before the prompt that follows a failed command (fixcast's
//! "seen before" hints), never recorded.
//!
//! Whoever writes a note learns of the failure from the events (on the writer thread or
//! later) while the passthrough has already sent the command's end mark to the terminal,
//! with the prompt right behind it. So the passthrough, at the end mark (`133;D;status`)
//! of a failed command, stops before the prompt's bytes and waits a bounded time for
//! that failure's note: it is written to the terminal (stderr) in its place, before the
//! prompt, and a note that comes later is dropped. Both sides number failures the same
//! way, by counting failed end marks in the output with [`FailedEnds`], so a late note
//! can never be shown after another failure.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use fixcast_sessions::failed_status;

use crate::commands::{Mark, MarkScanner};

/// Finds the end marks of failed commands in output that arrives in pieces.
#[derive(Debug, Default)]
pub struct FailedEnds {
    scanner: MarkScanner,
    starts: u64,
}

impl FailedEnds {
    /// Where in `bytes` the next failed command's end mark ends (the byte after it),
    /// with its exit status; `None` once no more end in `bytes`. Call again with the
    /// bytes after the returned offset.
    pub fn next(&mut self, bytes: &[u8]) -> Option<(usize, i32)> {
        let mut at = 0;
        while at < bytes.len() {
            let (n, mark) = self.scanner.next(&bytes[at..]);
            at += n;
            match mark {
                Some(Mark::CommandEnd(Some(status))) if failed_status(status) => {
                    return Some((at, status));
                }
                Some(Mark::CommandStart(_)) => self.starts += 1,
                _ => {}
            }
            if n == 0 {
                break;
            }
        }
        None
    }

    /// How many commands started (`133;C`) in what was scanned so far.
    pub fn starts(&self) -> u64 {
        self.starts
    }

    /// How many failed commands end in `bytes`, with their statuses in order.
    pub fn all(&mut self, mut bytes: &[u8]) -> Vec<i32> {
        let mut found = Vec::new();
        while let Some((end, status)) = self.next(bytes) {
            found.push(status);
            bytes = &bytes[end..];
        }
        found
    }
}

#[derive(Debug, Default)]
struct State {
    /// The failure (numbered from 1) last answered, and its note.
    answered: u64,
    note: Option<String>,
}

/// Where notes are handed to the passthrough. Cheap to clone: every clone is the same.
#[derive(Debug, Clone)]
pub struct PromptNotes {
    shared: Arc<(Mutex<State>, Condvar)>,
    wait: Duration,
}

impl PromptNotes {
    /// Notes the passthrough waits for at most `wait` after each failure.
    pub fn new(wait: Duration) -> PromptNotes {
        PromptNotes {
            shared: Arc::default(),
            wait,
        }
    }

    /// The answer for failure `n` (the `n`th failed end mark of the output, from 1): a
    /// line to show (without its line end), or none. Answers must come in order.
    pub fn answer(&self, n: u64, note: Option<String>) {
        let (state, ready) = &*self.shared;
        let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
        if n > s.answered {
            s.answered = n;
            s.note = note;
            ready.notify_all();
        }
    }

    /// Waits (at most the bound) for failure `n`'s answer; its note, if it has one.
    pub(crate) fn wait_for(&self, n: u64) -> Option<String> {
        let (state, ready) = &*self.shared;
        let deadline = Instant::now() + self.wait;
        let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
        while s.answered < n {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            s = ready
                .wait_timeout(s, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        if s.answered == n {
            s.note.take()
        } else {
            None
        }
    }
}

/// The passthrough's side: finds failed ends in what it writes, and writes each one's
/// note after it.
pub(crate) struct NotePass {
    notes: PromptNotes,
    ends: FailedEnds,
    failures: u64,
    /// Whether the cursor is at the start of a line (what was written last was a line
    /// end), roughly: escape sequences are skipped by [`Column`].
    column: Column,
}

impl NotePass {
    pub(crate) fn new(notes: PromptNotes) -> NotePass {
        NotePass {
            notes,
            ends: FailedEnds::default(),
            failures: 0,
            column: Column::default(),
        }
    }

    /// Writes `bytes` with `write`, and each failure's note (if it comes in time) after
    /// its end mark with `write_note`, calling `before_wait` before it waits for a note
    /// (the writer thread, which passes the failure on, must be awake). Returns false
    /// once `write` fails. Bytes that were not `recorded` (the writer fell behind) never
    /// reach the note writer: their failures are not numbered, nor waited for.
    pub(crate) fn pass(
        &mut self,
        mut bytes: &[u8],
        recorded: bool,
        write: &mut impl FnMut(&[u8]) -> bool,
        write_note: &mut impl FnMut(&[u8]),
        before_wait: &mut impl FnMut(),
    ) -> bool {
        if !recorded {
            self.ends.all(bytes);
            self.column.see(bytes);
            return write(bytes);
        }
        while let Some((end, _)) = self.ends.next(bytes) {
            let (before, after) = bytes.split_at(end);
            self.column.see(before);
            if !write(before) {
                return false;
            }
            self.failures += 1;
            before_wait();
            if let Some(note) = self.notes.wait_for(self.failures) {
                // The terminal is raw: lines need their `\r`.
                let lead = if self.column.at_start { "" } else { "\r\n" };
                write_note(format!("{lead}{note}\r\n").as_bytes());
            }
            bytes = after;
        }
        self.column.see(bytes);
        write(bytes)
    }
}

/// Follows whether the cursor is at a line's start, skipping escape sequences.
#[derive(Debug)]
struct Column {
    at_start: bool,
    state: Seq,
}

impl Default for Column {
    fn default() -> Self {
        Column {
            at_start: true,
            state: Seq::Ground,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seq {
    Ground,
    Esc,
    /// `ESC [`: until a final byte.
    Csi,
    /// `ESC ]`: until BEL or `ESC \`.
    Osc,
    OscEsc,
}

impl Column {
    fn see(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.state = match (self.state, b) {
                (Seq::Ground, 0x1b) => Seq::Esc,
                (Seq::Ground, b'\n' | b'\r') => {
                    self.at_start = true;
                    Seq::Ground
                }
                (Seq::Ground, b) => {
                    if b >= 0x20 && b != 0x7f {
                        self.at_start = false;
                    }
                    Seq::Ground
                }
                (Seq::Esc, b'[') => Seq::Csi,
                (Seq::Esc, b']') => Seq::Osc,
                (Seq::Esc, _) => Seq::Ground,
                (Seq::Csi, 0x40..=0x7e) => Seq::Ground,
                (Seq::Csi, _) => Seq::Csi,
                (Seq::Osc, 0x07) => Seq::Ground,
                (Seq::Osc, 0x1b) => Seq::OscEsc,
                (Seq::Osc, _) => Seq::Osc,
                (Seq::OscEsc, b'\\') => Seq::Ground,
                (Seq::OscEsc, _) => Seq::Osc,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_ends_are_found_across_reads_and_counted_alike() {
        let stream: &[&[u8]] = &[
            b"ok\r\n\x1b]133;D;0\x1b\\\x1b]133;A\x1b\\$ ",
            b"boom\r\n\x1b]133;D;",
            b"1\x1b\\\x1b]133;A\x1b\\$ x\x1b]133;D;130\x07\x1b]133;D;2\x07$ ",
        ];
        let mut a = FailedEnds::default();
        let got: Vec<i32> = stream.iter().flat_map(|b| a.all(b)).collect();
        assert_eq!(got, [1, 2], "0 and 130 (Ctrl-C) are not failures");
        let mut b = FailedEnds::default();
        assert_eq!(b.next(stream[1]), None);
        assert_eq!(b.next(stream[2]), Some((3, 1)));
        assert_eq!(b.starts(), 0);
        b.all(b"\x1b]133;C\x1b\\out\x1b]133;C;cmdline_url=ls\x07");
        assert_eq!(b.starts(), 2);
    }

    #[test]
    fn the_note_comes_after_the_end_mark_and_before_the_prompt() {
        let notes = PromptNotes::new(Duration::from_secs(5));
        notes.answer(1, Some("fixcast: seen before".into()));
        let mut pass = NotePass::new(notes.clone());
        // Both writes land in one stream, as on a terminal.
        let written = std::cell::RefCell::new(Vec::new());
        let bytes = b"err\r\n\x1b]133;D;1\x1b\\\x1b]133;A\x1b\\$ ";
        let ok = pass.pass(
            bytes,
            true,
            &mut |b| {
                written.borrow_mut().extend_from_slice(b);
                true
            },
            &mut |n| written.borrow_mut().extend_from_slice(n),
            &mut || {},
        );
        assert!(ok);
        assert_eq!(
            String::from_utf8(written.into_inner()).unwrap(),
            "err\r\n\x1b]133;D;1\x1b\\fixcast: seen before\r\n\x1b]133;A\x1b\\$ "
        );
    }

    #[test]
    fn a_note_that_comes_late_is_dropped_and_the_wait_is_bounded() {
        let notes = PromptNotes::new(Duration::from_millis(30));
        let mut pass = NotePass::new(notes.clone());
        let mut noted = Vec::new();
        let started = Instant::now();
        pass.pass(
            b"x\x1b]133;D;1\x07",
            true,
            &mut |_| true,
            &mut |n| noted.push(n.to_vec()),
            &mut || {},
        );
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(noted.is_empty());
        // Failure 1's note, late: never shown, not even at failure 2.
        notes.answer(1, Some("late".into()));
        notes.answer(2, Some("second".into()));
        pass.pass(
            b"\x1b]133;D;1\x07",
            true,
            &mut |_| true,
            &mut |n| noted.push(n.to_vec()),
            &mut || {},
        );
        assert_eq!(noted, [b"\r\nsecond\r\n".to_vec()], "not at a line start");
        // A failure in output the writer never got is not numbered: the next recorded
        // one is failure 3, as the writer's side counts it, and is not waited for.
        pass.pass(
            b"\x1b]133;D;1\x07",
            false,
            &mut |_| true,
            &mut |n| noted.push(n.to_vec()),
            &mut || {},
        );
        notes.answer(3, Some("third".into()));
        pass.pass(
            b"\r\n\x1b]133;D;1\x07",
            true,
            &mut |_| true,
            &mut |n| noted.push(n.to_vec()),
            &mut || {},
        );
        assert_eq!(noted.last().unwrap(), b"third\r\n");
    }
}
