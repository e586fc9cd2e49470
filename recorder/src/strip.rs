//! Takes the shell integration's marks (OSC 133, 633 and 7, see [`crate::integration`])
//! out of the output passed through to something that is not a terminal: a CI log or a
//! file would show them as `]133;A\`. The recording keeps them (commands are cut by
//! them); only the passthrough copy is filtered.
//!
//! A mark may be split between two reads, so the filter keeps its place across calls.
//! Marks never hold a raw line break (the integration escapes control bytes), so a line
//! break ends one that was never terminated: a stray `ESC ] 7 ;` costs at most a line.

const ESC: u8 = 0x1b;
const BEL: u8 = 0x07;
/// What follows `ESC ]` in the marks taken out.
const PREFIXES: [&[u8]; 3] = [b"133;", b"633;", b"7;"];
/// The longest prefix: past it, a sequence is decided.
const LONGEST: usize = 4;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
    #[default]
    Ground,
    /// An `ESC` was seen (held back).
    Esc,
    /// `ESC ]` and the bytes of `held` after it, which may still start a mark.
    Prefix,
    /// Inside a mark: dropped up to its terminator.
    Mark,
    /// An `ESC` inside a mark: `\` ends it.
    MarkEsc,
}

/// The filter, for one stream.
#[derive(Debug, Default)]
pub(crate) struct MarkStripper {
    state: State,
    /// Bytes held back while it is not yet known whether they start a mark.
    held: Vec<u8>,
}

impl MarkStripper {
    /// Appends to `out` what of `bytes` is not a mark (clearing `out` first).
    pub(crate) fn filter(&mut self, mut bytes: &[u8], out: &mut Vec<u8>) {
        out.clear();
        while !bytes.is_empty() {
            match self.state {
                State::Ground => match memchr::memchr(ESC, bytes) {
                    Some(i) => {
                        out.extend_from_slice(&bytes[..i]);
                        self.state = State::Esc;
                        bytes = &bytes[i + 1..];
                    }
                    None => {
                        out.extend_from_slice(bytes);
                        return;
                    }
                },
                State::Esc => {
                    if bytes[0] == b']' {
                        self.held.clear();
                        self.state = State::Prefix;
                        bytes = &bytes[1..];
                    } else {
                        // Not an OSC: the ESC goes out, the byte is looked at afresh.
                        out.push(ESC);
                        self.state = State::Ground;
                    }
                }
                State::Prefix => {
                    self.held.push(bytes[0]);
                    bytes = &bytes[1..];
                    let held = &self.held[..];
                    if PREFIXES.contains(&held) {
                        self.state = State::Mark;
                    } else if held.len() >= LONGEST || !PREFIXES.iter().any(|p| p.starts_with(held))
                    {
                        // Another OSC (a window title, a hyperlink): it goes out whole.
                        out.extend_from_slice(&[ESC, b']']);
                        out.append(&mut self.held);
                        self.state = State::Ground;
                    }
                }
                State::Mark => match bytes.iter().position(|&b| matches!(b, BEL | ESC | b'\n')) {
                    Some(i) => {
                        self.state = match bytes[i] {
                            BEL => State::Ground,
                            ESC => State::MarkEsc,
                            _ => {
                                out.push(b'\n');
                                State::Ground
                            }
                        };
                        bytes = &bytes[i + 1..];
                    }
                    None => return,
                },
                State::MarkEsc => {
                    if bytes[0] == b'\\' {
                        bytes = &bytes[1..];
                        self.state = State::Ground;
                    } else {
                        // Any other ESC sequence cuts the mark short and is kept.
                        self.state = State::Esc;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip_in_pieces(input: &[u8], piece: usize) -> Vec<u8> {
        let mut s = MarkStripper::default();
        let (mut all, mut out) = (Vec::new(), Vec::new());
        for chunk in input.chunks(piece) {
            s.filter(chunk, &mut out);
            all.extend_from_slice(&out);
        }
        all
    }

    #[test]
    fn marks_go_and_everything_else_stays_however_the_stream_is_cut() {
        let input = b"\x1b]7;file://h/tmp\x1b\\\x1b[?2004h\x1b]133;A\x1b\\root@h:/tmp# \
\x1b]133;B\x1b\\ls /\r\n\x1b]633;E;ls /\x1b\\\x1b]133;C\x1b\\bin  etc\r\n\x1b]133;D;0\x07\
\x1b]0;title\x07\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\ \x1b]1337;x\x07\x1b\x1b[1mbold\x1b[0m";
        let want = b"\x1b[?2004hroot@h:/tmp# ls /\r\nbin  etc\r\n\
\x1b]0;title\x07\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\ \x1b]1337;x\x07\x1b\x1b[1mbold\x1b[0m";
        for piece in [1, 2, 3, 5, 7, input.len()] {
            assert_eq!(
                String::from_utf8_lossy(&strip_in_pieces(input, piece)),
                String::from_utf8_lossy(want),
                "in pieces of {piece}"
            );
        }
    }

    #[test]
    fn an_unterminated_mark_ends_at_the_line_break() {
        let got = strip_in_pieces(b"a\x1b]7;oops\r\nnext line\n", 4);
        assert_eq!(got, b"a\nnext line\n");
        let got = strip_in_pieces(b"a\x1b]133;A\x1b[1mb", 3);
        assert_eq!(got, b"a\x1b[1mb", "another sequence cuts it short");
    }
}
