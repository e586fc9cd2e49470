//! A shortcut for floods of plain lines: lines that would only scroll through the screen
//! are taken as text without going through `vt100`.
//!
//! Most of a long recording is often plain lines (`cat`, build logs, `base64`): printable
//! ASCII, each ended by CR LF. Once the cursor stands at the start of a blank bottom row
//! of the main screen, with no scroll region set, each such line is drawn on a fresh row
//! at column 0 and wraps as it is, so its text is exactly its bytes (trailing spaces
//! trimmed), and the screen after a run of them is decided by the last screenful alone.
//! So of a run of `n` lines (`n` well over the screen's height) the first `n - rows` are
//! taken as text as they are, after the rows above the cursor (which they would have
//! pushed off first), and only the last `rows` are fed to the parser. Those push the
//! `rows - 1` rows above the cursor off first, already taken: `discard` drops them. The
//! screen ends as it would have, and the text is the same.
//!
//! Anything else goes through the parser: a scroll region (set and not reset since the
//! last full reset), the alternate screen, the parser inside a string (OSC, DCS…) or a
//! sequence the splitter cut, a cursor anywhere else, a bottom row with text.

use super::{Piece, ScreenText, ESC};

/// Runs shorter than this many lines beyond a screenful are fed as they are.
const MIN_SKIP: usize = 8;

/// What the shortcut must know of the stream that `vt100` does not tell.
#[derive(Debug, Default)]
pub(super) struct State {
    /// Rows about to be pushed off the screen that were taken already.
    pub(super) discard: usize,
    /// A scroll region may be set on the main screen.
    region: bool,
    /// The parser may be inside a string (`ESC ]`, `ESC P`, `ESC X`, `ESC ^`, `ESC _`),
    /// or inside a sequence the splitter cut: its bytes are not drawn.
    unsure: bool,
    /// The string is an OSC (a BEL ends it).
    osc: bool,
    /// The last escape piece was a lone ESC: the next piece goes on from it.
    lone_esc: bool,
    /// Whether the shortcut is taken at all (tests compare with it off).
    pub(super) off: bool,
    /// Lines taken the short way, for tests.
    pub(super) lines: u64,
}

impl State {
    /// Whether the parser is known to be between sequences and strings.
    pub(super) fn settled(&self) -> bool {
        !self.unsure && !self.lone_esc
    }

    /// Follows what a piece about to be fed does to the parser's state.
    pub(super) fn note(&mut self, piece: &[u8], kind: Piece, main: bool) {
        match kind {
            Piece::Text => {
                self.lone_esc = false;
                // A string ends at BEL (OSC only), CAN or SUB, or at the next ESC.
                if self.unsure
                    && piece
                        .iter()
                        .any(|&b| b == 0x18 || b == 0x1a || (self.osc && b == 0x07))
                {
                    self.unsure = false;
                }
            }
            Piece::EscapeCut => {
                self.unsure = true;
                self.lone_esc = false;
            }
            Piece::Escape => {
                // The byte after an ESC: it says whether a string starts.
                let second = match piece.first() {
                    Some(&ESC) => Some(piece.get(1).copied()),
                    _ if self.lone_esc => Some(piece.first().copied()),
                    _ => None,
                };
                if let Some(second) = second {
                    // A new sequence takes the parser out of any string (and a lone ESC
                    // leaves it unsure until the next piece).
                    self.unsure = matches!(second, None | Some(b']' | b'P' | b'X' | b'^' | b'_'));
                    self.osc = second == Some(b']');
                }
                // A full reset (`ESC c`) resets the scroll region.
                if piece == b"\x1bc" || (self.lone_esc && piece == b"c") {
                    self.region = false;
                }
                self.lone_esc = piece == [ESC];
                // `CSI top ; bottom r`; only `CSI r` is known to reset it.
                if main && piece.last() == Some(&b'r') && !piece.contains(&b'?') {
                    self.region = piece != b"\x1b[r";
                }
            }
        }
    }
}

impl ScreenText {
    /// Feeds terminal output, taking runs of plain lines the short way where it can.
    pub(super) fn write_plain_lines(&mut self, mut bytes: &[u8]) {
        let rows = usize::from(self.parser.screen().size().0);
        while let Some((start, skip, end)) = next_run(bytes, rows).filter(|_| !self.plain.off) {
            self.write_pieces(&bytes[..start]);
            if !self.quiet() {
                self.write_pieces(&bytes[start..]);
                return;
            }
            if !self.at_blank_bottom() {
                // Feed the lines that take the cursor to the bottom row (the rest of its
                // line, if it is there), then look again.
                let row = usize::from(self.parser.screen().cursor_position().0);
                let n = (rows - 1).saturating_sub(row).max(1);
                let fed = start
                    + line_ends(&bytes[start..end])
                        .nth(n - 1)
                        .unwrap_or(end - start);
                self.write_pieces(&bytes[start..fed]);
                bytes = &bytes[fed..];
                continue;
            }
            self.take_lines(&bytes[start..skip]);
            bytes = &bytes[skip..];
        }
        self.write_pieces(bytes);
    }

    /// Whether the state the shortcut needs holds, apart from the cursor.
    fn quiet(&self) -> bool {
        self.split.idle()
            && !self.plain.unsure
            && !self.plain.region
            && self.plain.discard == 0
            && !self.parser.screen().alternate_screen()
    }

    /// Whether the cursor is at the start of the bottom row, which is blank, and the row
    /// above does not wrap onto it.
    fn at_blank_bottom(&mut self) -> bool {
        let screen = self.parser.screen();
        let (rows, cols) = screen.size();
        if screen.cursor_position() != (rows - 1, 0) {
            return false;
        }
        // Rows in view are the screen's only when the view is not scrolled back.
        let parked = self.parser.screen().scrollback();
        self.parser.screen_mut().set_scrollback(0);
        let screen = self.parser.screen();
        let blank = !screen.row_wrapped(rows - 2)
            && (0..cols).all(|c| screen.cell(rows - 1, c).is_none_or(|c| !c.has_contents()));
        self.parser.screen_mut().set_scrollback(parked);
        blank
    }

    /// Takes the rows above the cursor, then `lines` (plain lines, each ending in CR LF)
    /// as text; the parser will push those rows off when it is fed the next lines.
    fn take_lines(&mut self, lines: &[u8]) {
        let rows = usize::from(self.parser.screen().size().0);
        let parked = self.parser.screen().scrollback();
        self.parser.screen_mut().set_scrollback(0);
        self.take_visible(rows - 1);
        self.parser.screen_mut().set_scrollback(parked);
        self.plain.discard = rows - 1;
        let mut from = 0;
        for end in line_ends(lines) {
            let line = &lines[from..end - 2];
            from = end;
            // Printable ASCII: UTF-8 as it is.
            let line = std::str::from_utf8(line).unwrap_or_default();
            self.text.push_line(line.trim_end());
            self.plain.lines += 1;
        }
    }
}

/// Where each line of `bytes` ends (after its CR LF).
fn line_ends(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    bytes
        .windows(2)
        .enumerate()
        .filter(|(_, w)| w == b"\r\n")
        .map(|(i, _)| i + 2)
}

/// The next run of plain lines (printable ASCII, each ended by CR LF) long enough to
/// take the short way, from the start of `bytes` or of a line: where it starts, where its
/// last `rows` lines start, and where it ends.
fn next_run(bytes: &[u8], rows: usize) -> Option<(usize, usize, usize)> {
    let mut at = 0;
    loop {
        let (len, lines) = plain_lines(&bytes[at..]);
        if lines >= rows + MIN_SKIP {
            let end = at + len;
            // Back `rows` line ends from the end: the start of the last `rows` lines.
            let mut skip = end;
            for _ in 0..rows {
                skip = bytes[at..skip - 1]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(at, |i| at + i + 1);
            }
            return Some((at, skip, end));
        }
        let after = at + len;
        at = after + bytes[after..].iter().position(|&b| b == b'\n')? + 1;
    }
}

/// The length of the plain lines at the start of `bytes`, and how many there are.
fn plain_lines(bytes: &[u8]) -> (usize, usize) {
    let (mut len, mut lines, mut i) = (0, 0, 0);
    loop {
        while i < bytes.len() && (0x20..=0x7e).contains(&bytes[i]) {
            i += 1;
        }
        if bytes.get(i..i + 2) != Some(b"\r\n") {
            return (len, lines);
        }
        i += 2;
        len = i;
        lines += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::super::ScreenText;

    fn both(rows: u16, cols: u16, chunks: &[&[u8]]) -> (String, u64) {
        let mut fast = ScreenText::new(rows, cols);
        let mut slow = ScreenText::new(rows, cols);
        slow.plain.off = true;
        for c in chunks {
            fast.write(c);
            slow.write(c);
        }
        let taken = fast.plain.lines;
        let (f, s) = (fast.finish(), slow.finish());
        assert_eq!(f, s);
        (f.text, taken)
    }

    #[test]
    fn a_flood_of_lines_is_taken_the_short_way() {
        let text: String = (0..200).map(|i| format!("line {i}\r\n")).collect();
        let (out, taken) = both(24, 80, &[text.as_bytes()]);
        assert!(taken > 100, "{taken} lines taken");
        assert!(out.starts_with("line 0\nline 1\n") && out.ends_with("line 199\n"));
        // Lines across writes, cut anywhere.
        let text: String = (0..2000).map(|i| format!("{i:076}\r\n")).collect();
        let chunks: Vec<&[u8]> = text.as_bytes().chunks(4183).collect();
        let (_, taken) = both(24, 80, &chunks);
        assert!(taken > 1000, "{taken} lines taken");
    }

    /// Random streams of plain lines mixed with everything that must stop the shortcut
    /// or that it must survive, cut anywhere, at odd sizes: the same text either way.
    #[test]
    fn the_short_way_gives_the_text_of_the_long_way() {
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        let mut rnd = |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n as u64) as usize
        };
        let odd: [&[u8]; 24] = [
            b"\x1b[31m",
            b"\x1b[0m",
            b"\x1b[H",
            b"\x1b[5;3H",
            b"\x1b[3A",
            b"\x1b[2J",
            b"\x1b[J",
            b"\x1b[K",
            b"\x1b[?1049h",
            b"\x1b[?1049l",
            b"\x1b[3;8r",
            b"\x1b[r",
            b"\x1b]0;title\x07",
            b"\x1b]0;no end ",
            b"\x1b\\",
            b"\x1bPq",
            b"\x18",
            b"\x1bc",
            b"\x1b[2S",
            "中文 wide\r\n".as_bytes(),
            b"tab\there\r\n",
            b"over\rO",
            b"bare\n",
            b"\x1b[",
        ];
        for round in 0..300 {
            let (rows, cols) = (2 + rnd(30) as u16, 2 + rnd(100) as u16);
            let mut stream = Vec::new();
            for _ in 0..40 {
                if rnd(3) == 0 {
                    stream.extend_from_slice(odd[rnd(odd.len())]);
                    if rnd(20) == 0 {
                        // A sequence too long for one piece.
                        stream.extend_from_slice(&b"1;".repeat(200));
                        stream.push(b'm');
                    }
                    continue;
                }
                for _ in 0..rnd(120) {
                    let len = if rnd(8) == 0 {
                        rnd(3 * usize::from(cols))
                    } else {
                        rnd(20)
                    };
                    stream.extend((0..len).map(|_| b" !09AZaz~"[rnd(9)]));
                    stream.extend_from_slice(b"\r\n");
                }
            }
            let mut chunks: Vec<&[u8]> = Vec::new();
            let mut rest = &stream[..];
            while !rest.is_empty() {
                let n = (1 + rnd(5000)).min(rest.len());
                chunks.push(&rest[..n]);
                rest = &rest[n..];
            }
            let _ = (round, both(rows, cols, &chunks));
        }
    }
}
