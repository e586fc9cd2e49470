//! Plain text as the screen showed it: every line that scrolled off the top, in order,
//! then the final screen. Rendered by the `vt100` screen model, so cursor movement,
//! overwrites, colours and wide characters come out as a person saw them.
//!
//! `vt100` keeps scrolled-off rows in a bounded scrollback but has no way to take them
//! out, so lines are collected as they scroll: the output is fed in small pieces, and
//! after each piece the rows that piece pushed are read from the scrollback. The count
//! comes from the scrollback *view offset*, which `vt100` advances by one for every row
//! pushed while it is non-zero (so the view stays put): parked at 1 before a piece, it is
//! `1 + pushed` after. Three things reset the offset — entering the alternate screen,
//! a full reset (`ESC c`), and emptiness — so escape sequences are fed as pieces of
//! their own, and those cases are told apart from the screen's state. Memory stays
//! bounded whatever the length of the recording.

use std::collections::VecDeque;

use fixcast_sessions::emulated_size;

mod plain;

/// Rows the scrollback holds; must exceed what one piece can push (see the limits below,
/// and [`fixcast_sessions::MAX_SIDE`]: one `CSI n S` pushes at most that many rows). No
/// more than that: its rows are most of the memory a render takes (32 bytes a cell, 7 MiB
/// at 200 columns; 4,096 rows took 26 MiB).
const SCROLLBACK: usize = TEXT_PIECE + 64;
const _: () = assert!(SCROLLBACK > fixcast_sessions::MAX_SIDE as usize && SCROLLBACK > ESC_PIECE);
/// A piece of text with no escape sequence: it pushes at most one row per byte.
const TEXT_PIECE: usize = 1024;
/// An escape sequence longer than this is fed in parts (only its C0 bytes can push rows).
const ESC_PIECE: usize = 256;
const ESC: u8 = 0x1b;

/// Text rendered from a terminal stream.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rendered {
    /// One line per screen line, trailing spaces trimmed, ending in a newline (or empty).
    pub text: String,
    /// Bytes of text left out in the middle to stay under the cap (0: nothing cut).
    pub cut_bytes: u64,
    /// The last screen a full-screen program showed (the alternate screen) before it
    /// went away, if one ran.
    pub alternate: Option<String>,
}

/// Plain text as a person saw it, built from a terminal stream.
pub struct ScreenText {
    parser: vt100::Parser,
    split: Splitter,
    /// Whether the main screen's view offset is parked at 1 (so it counts pushes).
    counting: bool,
    /// Finished lines.
    text: Capped,
    /// A line that wrapped onto the next row, not finished yet.
    line: String,
    /// The alternate screen as it was when last left (full-screen programs).
    last_alternate: Option<String>,
    /// What the plain-lines shortcut needs to know (see [`plain`]).
    plain: plain::State,
}

impl ScreenText {
    /// A screen of this size, keeping all text.
    pub fn new(rows: u16, cols: u16) -> Self {
        Self::with_cap(rows, cols, usize::MAX)
    }

    /// Keeps at most about `cap` bytes of text: the first half and the last half.
    pub fn with_cap(rows: u16, cols: u16, cap: usize) -> Self {
        // The size `vt100` is safe at (see `emulated_size`): sides of 2 to 1000.
        let (cols, rows) = emulated_size(cols, rows);
        ScreenText {
            parser: vt100::Parser::new(rows, cols, SCROLLBACK),
            split: Splitter::default(),
            counting: false,
            text: Capped::new(cap),
            line: String::new(),
            last_alternate: None,
            plain: plain::State::default(),
        }
    }

    /// Runs `f` on the screen as it stands after the bytes written so far (as shown, not
    /// scrolled back).
    pub fn with_screen<R>(&mut self, f: impl FnOnce(&vt100::Screen) -> R) -> R {
        let screen = self.parser.screen_mut();
        let parked = screen.scrollback();
        screen.set_scrollback(0);
        let r = f(self.parser.screen());
        self.parser.screen_mut().set_scrollback(parked);
        r
    }

    /// Whether no escape sequence or string is open: text with no ESC written next is
    /// read the same whether it comes in one write or in several.
    pub fn idle(&self) -> bool {
        self.split.idle() && self.plain.settled()
    }

    /// Feeds terminal output.
    pub fn write(&mut self, bytes: &[u8]) {
        self.write_plain_lines(bytes);
    }

    /// Feeds terminal output through the parser, piece by piece.
    fn write_pieces(&mut self, bytes: &[u8]) {
        let mut split = std::mem::take(&mut self.split);
        split.split(bytes, |piece, kind| self.feed(piece, kind));
        self.split = split;
    }

    /// Feeds one piece (text, or one escape sequence or a part of one) and collects what
    /// it scrolled off.
    fn feed(&mut self, piece: &[u8], kind: Piece) {
        let main_before = !self.parser.screen().alternate_screen();
        self.plain.note(piece, kind, main_before);
        if !main_before {
            // Keep a full-screen program's last screen before it goes away (only a
            // mode reset `CSI ? … l` or a full reset `ESC c` can leave it).
            let may_leave =
                piece.first() == Some(&ESC) && matches!(piece.last(), Some(b'l' | b'c'));
            if !may_leave {
                self.parser.process(piece);
                return;
            }
            let before = self.parser.screen().contents();
            self.parser.process(piece);
            if !self.parser.screen().alternate_screen() {
                self.last_alternate = Some(before);
                // Back on the main screen: nothing reached its scrollback meanwhile.
                let screen = self.parser.screen_mut();
                screen.set_scrollback(1);
                self.counting = screen.scrollback() == 1;
            }
            return;
        }
        if clears_screen(piece, self.parser.screen().cursor_position()) {
            // `clear` would erase lines nobody scrolled past: keep them as seen.
            self.take_screen();
        }
        self.parser.process(piece);
        let screen = self.parser.screen_mut();
        if screen.alternate_screen() {
            // The main screen cannot change while the alternate one is shown.
            return;
        }
        let pushed = if self.counting {
            // 0 after a full reset, which also emptied the scrollback.
            screen.scrollback().saturating_sub(1)
        } else {
            // The scrollback was empty when the piece started: all of it is new.
            screen.set_scrollback(usize::MAX);
            screen.scrollback()
        };
        // The oldest rows pushed may be ones the shortcut already took (see `plain`).
        let taken = pushed.min(self.plain.discard);
        self.plain.discard -= taken;
        self.take_scrolled(pushed - taken);
        let screen = self.parser.screen_mut();
        screen.set_scrollback(1);
        self.counting = screen.scrollback() == 1;
    }

    /// Moves the `n` newest scrollback rows into the text, oldest first.
    fn take_scrolled(&mut self, n: usize) {
        let mut left = n;
        while left > 0 {
            let screen = self.parser.screen_mut();
            screen.set_scrollback(left);
            let rows = usize::from(screen.size().0);
            let take = left.min(rows).min(screen.scrollback());
            if take == 0 {
                break;
            }
            self.take_visible(take);
            left -= take;
        }
    }

    /// Moves the first `n` rows in view into the text.
    fn take_visible(&mut self, n: usize) {
        copy_rows(self.parser.screen(), n, &mut self.text, &mut self.line);
    }

    /// Copies the screen's rows down to the last one with text.
    fn take_screen(&mut self) {
        let screen = self.parser.screen_mut();
        let parked = screen.scrollback();
        screen.set_scrollback(0);
        let used = screen
            .rows(0, u16::MAX)
            .enumerate()
            .filter(|(_, r)| !r.trim().is_empty())
            .last()
            .map_or(0, |(i, _)| i + 1);
        self.take_visible(used);
        self.parser.screen_mut().set_scrollback(parked);
    }

    /// Follows a terminal resize.
    pub fn resize(&mut self, rows: u16, cols: u16) {
        let (cols, rows) = emulated_size(cols, rows);
        let (cur_row, _) = self.parser.screen().cursor_position();
        if rows <= cur_row && !self.parser.screen().alternate_screen() && self.split.idle() {
            // `vt100` drops the rows below a shrinking screen's new bottom; a terminal
            // scrolls them up instead, keeping the cursor's line. Do as a terminal does.
            let n = cur_row + 1 - rows;
            self.write(format!("\x1b[{n}S\x1b[{n}A").as_bytes());
        }
        self.parser.screen_mut().set_size(rows, cols);
    }

    /// Bytes of finished lines held, which [`ScreenText::drain_text`] would hand over.
    pub fn text_len(&self) -> usize {
        self.text.head.len()
    }

    /// Hands `f` the lines finished so far and forgets them, so that a long stream is
    /// written out as it goes instead of held whole. Each line ends in a newline, its
    /// trailing spaces trimmed (a blank line is just the newline).
    /// [`ScreenText::finish`] then gives the rest, trimmed on its own: a caller that
    /// streams holds back the blank lines it was handed last, and drops them if the rest
    /// is empty, to write what `finish` alone would have given. With a cap, only the
    /// head is handed over: the tail is kept for the end.
    pub fn drain_text<R>(&mut self, f: impl FnOnce(&str) -> R) -> R {
        let r = f(&self.text.head);
        self.text.taken += self.text.head.len();
        self.text.head.clear();
        r
    }

    /// All the text: what scrolled off, then the screen down to its last line of text.
    pub fn finish(mut self) -> Rendered {
        let alternate = self.alternate_now();
        self.parser.screen_mut().set_scrollback(0);
        render(self.parser.screen(), self.text, self.line, alternate)
    }

    /// What [`ScreenText::finish`] would give if the stream ended here, leaving the
    /// stream open (a command still running in a live session).
    pub fn peek(&mut self) -> Rendered {
        let alternate = self.alternate_now();
        let (text, line) = (self.text.clone(), self.line.clone());
        self.with_screen(|screen| render(screen, text, line, alternate))
    }

    fn alternate_now(&self) -> Option<String> {
        let screen = self.parser.screen();
        if screen.alternate_screen() {
            Some(screen.contents())
        } else {
            self.last_alternate.clone()
        }
    }
}

/// The text collected so far plus every row of `screen` (shown without scrollback).
fn render(
    screen: &vt100::Screen,
    mut text: Capped,
    mut line: String,
    alternate: Option<String>,
) -> Rendered {
    copy_rows(screen, usize::from(screen.size().0), &mut text, &mut line);
    if !line.is_empty() {
        end_line(&mut text, &mut line);
    }
    let (mut text, cut_bytes) = text.finish();
    let keep = text.trim_end().len();
    text.truncate(keep);
    if !text.is_empty() {
        text.push('\n');
    }
    Rendered {
        text,
        cut_bytes,
        alternate: alternate.map(|a| trim_lines(&a)),
    }
}

/// Appends the first `n` rows in view to `text`, joining wrapped rows through `line`.
fn copy_rows(screen: &vt100::Screen, n: usize, text: &mut Capped, line: &mut String) {
    for (i, row) in screen.rows(0, u16::MAX).take(n).enumerate() {
        line.push_str(&row);
        if !screen.row_wrapped(i as u16) {
            end_line(text, line);
        }
    }
}

/// Trailing spaces of each line and trailing blank lines removed.
fn trim_lines(text: &str) -> String {
    let mut out: String = text
        .lines()
        .map(|l| format!("{}\n", l.trim_end()))
        .collect();
    out.truncate(out.trim_end().len());
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

fn end_line(text: &mut Capped, line: &mut String) {
    text.push_line(line.trim_end());
    line.clear();
}

/// Text that keeps its head and tail once it outgrows its cap.
#[derive(Clone)]
struct Capped {
    cap: usize,
    head: String,
    /// Bytes of the head already handed over (see [`ScreenText::drain_text`]).
    taken: usize,
    tail: VecDeque<String>,
    tail_bytes: usize,
    cut: u64,
}

impl Capped {
    fn new(cap: usize) -> Self {
        Capped {
            cap,
            head: String::new(),
            taken: 0,
            tail: VecDeque::new(),
            tail_bytes: 0,
            cut: 0,
        }
    }

    fn push_line(&mut self, line: &str) {
        if self.cap == usize::MAX || self.taken + self.head.len() + line.len() < self.cap / 2 {
            self.head.push_str(line);
            self.head.push('\n');
            return;
        }
        self.tail_bytes += line.len() + 1;
        self.tail.push_back(format!("{line}\n"));
        while self.tail_bytes > self.cap / 2 {
            let Some(old) = self.tail.pop_front() else {
                break;
            };
            self.tail_bytes -= old.len();
            self.cut += old.len() as u64;
        }
    }

    fn finish(self) -> (String, u64) {
        let mut text = self.head;
        if self.cut > 0 {
            text.push_str(&format!(
                "[fixcast: {} bytes of output cut here]\n",
                self.cut
            ));
        }
        text.extend(self.tail);
        (text, self.cut)
    }
}

/// Whether a piece erases the whole screen: `ESC[2J`, `ESC[J` from the top left, or a
/// full reset.
fn clears_screen(piece: &[u8], cursor: (u16, u16)) -> bool {
    if piece == b"\x1bc" {
        return true;
    }
    let Some(params) = piece
        .strip_prefix(b"\x1b[")
        .and_then(|p| p.strip_suffix(b"J"))
    else {
        return false;
    };
    let params = params.strip_prefix(b"?").unwrap_or(params);
    params == b"2" || (matches!(params, b"" | b"0") && cursor == (0, 0))
}

/// Cuts an output stream into pieces: runs of text with no escape sequence (at most
/// [`TEXT_PIECE`] bytes), and single escape sequences. Keeps its state across calls, as a
/// sequence may be split between two output events.
#[derive(Debug, Default)]
struct Splitter {
    /// Bytes of the current escape sequence seen so far; 0 between sequences.
    in_escape: usize,
}

impl Splitter {
    fn idle(&self) -> bool {
        self.in_escape == 0
    }

    /// Hands `piece` each piece, and what kind of piece it is.
    fn split(&mut self, mut bytes: &[u8], mut piece: impl FnMut(&[u8], Piece)) {
        while !bytes.is_empty() {
            let (end, kind) = if self.in_escape == 0 && bytes[0] != ESC {
                let max = bytes.len().min(TEXT_PIECE);
                let end = bytes[..max].iter().position(|&b| b == ESC).unwrap_or(max);
                (end, Piece::Text)
            } else {
                self.escape_end(bytes)
            };
            if end > 0 {
                piece(&bytes[..end], kind);
            }
            bytes = &bytes[end..];
        }
    }

    /// Where the escape sequence at the start of `bytes` (or continuing into it) ends.
    fn escape_end(&mut self, bytes: &[u8]) -> (usize, Piece) {
        let mut i = 0;
        if self.in_escape == 0 {
            self.in_escape = 1;
            i = 1;
        }
        while i < bytes.len() {
            let b = bytes[i];
            if b == ESC {
                // A new sequence cancels this one (as in the terminal's parser).
                self.in_escape = 0;
                return (i, Piece::Escape);
            }
            let at = self.in_escape;
            self.in_escape += 1;
            i += 1;
            // ESC X ends at X, unless X opens a CSI or is an intermediate byte; a CSI
            // (and the rest) ends at its final byte. OSC and DCS strings thus end early,
            // which is harmless: their payload cannot scroll anything.
            let ends = if at == 1 {
                b != b'[' && !(0x20..=0x2f).contains(&b)
            } else {
                (0x40..=0x7e).contains(&b)
            };
            if ends {
                self.in_escape = 0;
                return (i, Piece::Escape);
            }
            if self.in_escape >= ESC_PIECE {
                self.in_escape = 0;
                return (i, Piece::EscapeCut);
            }
        }
        (i, Piece::Escape)
    }
}

/// What a piece of the stream is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece {
    /// Text with no escape sequence in it.
    Text,
    /// An escape sequence, or a part of one.
    Escape,
    /// The part of an escape sequence too long to feed whole that ends it here, for the
    /// splitter (the terminal's parser may still be inside it).
    EscapeCut,
}

#[cfg(test)]
mod tests;
