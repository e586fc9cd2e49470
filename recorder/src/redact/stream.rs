//! A redactor over one stream of text that arrives in pieces (PTY reads): a secret cut
//! between two reads is still found, because the unfinished last line is held back
//! until its line end comes, the line grows past [`HOLD_BYTES`], [`HOLD_TIME`] passes,
//! or the caller flushes (before an event of another kind, to keep the order).
//!
//! Held text keeps the time it arrived: a recording replays as it happened.

use std::time::{Duration, Instant};

use super::blocks::Blocks;
use super::{Edit, Rules};

/// The longest unfinished line held back.
pub const HOLD_BYTES: usize = 8 << 10;
/// The longest time text is held back.
pub const HOLD_TIME: Duration = Duration::from_secs(1);
/// When a long line is cut, it is cut after a blank within this distance of its end.
const BLANK_WITHIN: usize = 1 << 10;

/// Redacts a stream of text; see the module docs.
pub struct Redactor {
    rules: Rules,
    pending: String,
    /// Where each piece of `pending` starts, its time, and when it arrived.
    pieces: Vec<(usize, u64, Instant)>,
    blocks: Blocks,
    edits: Vec<Edit>,
    redacted: u64,
}

impl Redactor {
    pub(super) fn new(rules: Rules) -> Self {
        Redactor {
            rules,
            pending: String::new(),
            pieces: Vec::new(),
            blocks: Blocks::default(),
            edits: Vec::new(),
            redacted: 0,
        }
    }

    /// Takes `text` that arrived at `time`; appends to `out` what is decided, as
    /// `(time, text)` pieces in order.
    pub fn push(&mut self, time: u64, text: &str, out: &mut Vec<(u64, String)>) {
        if text.is_empty() {
            return;
        }
        self.pieces.push((self.pending.len(), time, Instant::now()));
        self.pending.push_str(text);
        let cut = self.cut_point();
        if cut > 0 {
            self.release(cut, out);
        }
    }

    /// Decides everything held, as it is.
    pub fn flush(&mut self, out: &mut Vec<(u64, String)>) {
        if !self.pending.is_empty() {
            self.release(self.pending.len(), out);
        }
    }

    /// When the text held now must be released at the latest; `None` if none is held.
    pub fn release_at(&self) -> Option<Instant> {
        self.pieces.first().map(|p| p.2 + HOLD_TIME)
    }

    /// The rules this redactor runs.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// Secrets replaced so far.
    pub fn redacted(&self) -> u64 {
        self.redacted
    }

    /// How much of `pending` can be decided now: up to its last line end, unless the
    /// unfinished line is too long to hold.
    fn cut_point(&self) -> usize {
        let bytes = self.pending.as_bytes();
        // A `\r` at the very end may be the first half of a `\r\n`: its line waits.
        let search = match bytes.last() {
            Some(b'\r') => &bytes[..bytes.len() - 1],
            _ => bytes,
        };
        let line_end = memchr::memrchr2(b'\n', b'\r', search).map_or(0, |i| i + 1);
        let cut = line_end + after_command_start(&bytes[line_end..]);
        if bytes.len() - cut <= HOLD_BYTES {
            return cut;
        }
        let blank = bytes[bytes.len() - BLANK_WITHIN..]
            .iter()
            .rposition(|b| b.is_ascii_whitespace() || b.is_ascii_control());
        match blank {
            Some(i) => bytes.len() - BLANK_WITHIN + i + 1,
            None => bytes.len(),
        }
    }

    fn release(&mut self, cut: usize, out: &mut Vec<(u64, String)>) {
        let mut edits = std::mem::take(&mut self.edits);
        edits.clear();
        self.rules
            .scan(&self.pending[..cut], &mut self.blocks, &mut edits);
        self.redacted += edits.iter().filter(|e| e.kind.is_some()).count() as u64;
        let region = &self.pending[..cut];
        if edits.is_empty() && self.pieces.len() == 1 {
            out.push((self.pieces[0].1, region.to_owned()));
        } else {
            self.apply(region, &edits, out);
        }
        self.edits = edits;
        self.pending.drain(..cut);
        // Pieces wholly released go; the one cut in two starts the held text.
        let keep_from = self.pieces.iter().rposition(|p| p.0 <= cut).unwrap_or(0);
        self.pieces.drain(..keep_from);
        if self.pending.is_empty() {
            self.pieces.clear();
        } else {
            for p in &mut self.pieces {
                p.0 = p.0.saturating_sub(cut);
            }
        }
    }

    /// Writes `region` with `edits` applied, piece by piece; a replacement goes with the
    /// piece where its secret started.
    fn apply(&self, region: &str, edits: &[Edit], out: &mut Vec<(u64, String)>) {
        let mut next_edit = 0;
        let mut pos = 0;
        for (i, &(start, time, _)) in self.pieces.iter().enumerate() {
            if start >= region.len() {
                break;
            }
            let end = self
                .pieces
                .get(i + 1)
                .map_or(region.len(), |p| p.0.min(region.len()));
            pos = pos.max(start);
            let mut text = String::new();
            while pos < end {
                match edits.get(next_edit).filter(|e| e.start < end) {
                    Some(e) => {
                        text.push_str(&region[pos..e.start.max(pos)]);
                        e.push_replacement(&mut text);
                        pos = pos.max(e.end);
                        next_edit += 1;
                    }
                    None => {
                        text.push_str(&region[pos..end]);
                        pos = end;
                    }
                }
            }
            if !text.is_empty() {
                out.push((time, text));
            }
        }
    }
}

/// Where the last complete command-start mark (`ESC ] 133;C … ST`, from the shell
/// integration) in `line` ends, or 0. What comes before it is decided at once: the
/// command line is announced just before it, and waits on nothing (the look-alike
/// warning reacts to it as the command starts; a `sleep 3` after it would otherwise
/// hold it back), and a secret does not span a mark.
fn after_command_start(line: &[u8]) -> usize {
    const MARK: &[u8] = b"\x1b]133;C";
    let Some(at) = memchr::memmem::rfind(line, MARK) else {
        return 0;
    };
    let from = at + MARK.len();
    let Some(i) = memchr::memchr2(0x07, 0x1b, &line[from..]) else {
        return 0;
    };
    let end = from + i;
    match line[end] {
        0x07 => end + 1,
        _ if line.get(end + 1) == Some(&b'\\') => end + 2,
        _ => 0,
    }
}
