//! The marks shell integration leaves in the output stream, found by a byte scan:
//! OSC 133 (semantic prompt: A prompt (`A;k=s` a continuation prompt), B input, C output,
//! D;status finished), VS Code's
//! OSC 633;E (the command line) and OSC 7 (the working directory). Terminated by BEL or
//! ST (`ESC \`). Everything else passes untouched.
//!
//! Shells that print OSC 133 themselves may add `;key=value` options; the one read is
//! `133;C;cmdline_url=<percent-encoded command line>`, which fish 4 prints (before its
//! `fish_preexec`, so before any `633;E` a hook could add). Others (`A;special_key=1`,
//! `A;click_events=1`, `aid=`) are ignored.

/// A mark, in stream order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mark {
    PromptStart,
    /// A continuation prompt (PS2) starts: `133;A;k=s`, kitty's secondary prompt.
    ContinuationStart,
    InputStart,
    /// Output starts; with the command line when the mark itself carries it
    /// (`cmdline_url=`).
    CommandStart(Option<String>),
    /// The command finished, with its exit status when given.
    CommandEnd(Option<i32>),
    /// The command line about to run.
    CommandLine(String),
    /// The shell's working directory.
    Cwd(String),
}

const ESC: u8 = 0x1b;
const BEL: u8 = 0x07;
/// Longest OSC payload kept; longer ones are not marks fixcast reads (a huge command
/// line is cut to this).
const MAX_PAYLOAD: usize = 1 << 20;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
    #[default]
    Ground,
    Esc,
    Osc,
    OscEsc,
}

/// Finds marks in a stream that arrives in pieces (a mark may be split between two).
#[derive(Debug, Default)]
pub struct MarkScanner {
    state: State,
    payload: Vec<u8>,
}

impl MarkScanner {
    /// Returns how many bytes of `bytes` come before and including the end of the next
    /// mark, and the mark; `(bytes.len(), None)` when no mark ends in `bytes`.
    pub fn next(&mut self, bytes: &[u8]) -> (usize, Option<Mark>) {
        let mut i = 0;
        while i < bytes.len() {
            match self.state {
                State::Ground => match bytes[i..].iter().position(|&b| b == ESC) {
                    Some(p) => {
                        i += p + 1;
                        self.state = State::Esc;
                    }
                    None => return (bytes.len(), None),
                },
                State::Esc => {
                    self.state = if bytes[i] == b']' {
                        self.payload.clear();
                        State::Osc
                    } else if bytes[i] == ESC {
                        State::Esc
                    } else {
                        State::Ground
                    };
                    i += 1;
                }
                State::Osc => {
                    let rest = &bytes[i..];
                    match rest.iter().position(|&b| b == BEL || b == ESC) {
                        Some(p) => {
                            self.push_payload(&rest[..p]);
                            i += p + 1;
                            if rest[p] == BEL {
                                self.state = State::Ground;
                                if let Some(mark) = self.mark() {
                                    return (i, Some(mark));
                                }
                            } else {
                                self.state = State::OscEsc;
                            }
                        }
                        None => {
                            self.push_payload(rest);
                            return (bytes.len(), None);
                        }
                    }
                }
                State::OscEsc => {
                    // ST ends the string; any other ESC sequence aborts it.
                    let b = bytes[i];
                    i += 1;
                    if b == b'\\' {
                        self.state = State::Ground;
                        if let Some(mark) = self.mark() {
                            return (i, Some(mark));
                        }
                    } else {
                        self.state = if b == ESC { State::Esc } else { State::Ground };
                    }
                }
            }
        }
        (bytes.len(), None)
    }

    fn push_payload(&mut self, part: &[u8]) {
        let room = MAX_PAYLOAD.saturating_sub(self.payload.len());
        self.payload
            .extend_from_slice(&part[..part.len().min(room)]);
    }

    fn mark(&mut self) -> Option<Mark> {
        let p = std::mem::take(&mut self.payload);
        parse(&p)
    }
}

fn parse(p: &[u8]) -> Option<Mark> {
    if let Some(rest) = p.strip_prefix(b"133;") {
        let mut parts = rest.split(|&b| b == b';');
        return match parts.next()? {
            b"A" if parts.any(|p| p == b"k=s") => Some(Mark::ContinuationStart),
            b"A" => Some(Mark::PromptStart),
            b"B" => Some(Mark::InputStart),
            b"C" => Some(Mark::CommandStart(parts.find_map(|opt| {
                let url = opt.strip_prefix(b"cmdline_url=")?;
                Some(percent_decode(std::str::from_utf8(url).ok()?))
            }))),
            b"D" => Some(Mark::CommandEnd(
                parts
                    .next()
                    .and_then(|s| std::str::from_utf8(s).ok())
                    .and_then(|s| s.trim().parse().ok()),
            )),
            _ => None,
        };
    }
    if let Some(rest) = p.strip_prefix(b"633;E;") {
        // A nonce may follow the command line after an (unescaped) `;`.
        let line = rest.split(|&b| b == b';').next().unwrap_or_default();
        return Some(Mark::CommandLine(unescape_633(line)));
    }
    if let Some(url) = p.strip_prefix(b"7;") {
        let url = std::str::from_utf8(url).ok()?;
        let path = url.strip_prefix("file://")?;
        let path = &path[path.find('/')?..];
        return Some(Mark::Cwd(percent_decode(path)));
    }
    None
}

/// VS Code's escaping: `\\` is a backslash, `\xNN` a byte.
fn unescape_633(s: &[u8]) -> String {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'\\' {
            if s.get(i + 1) == Some(&b'\\') {
                out.push(b'\\');
                i += 2;
                continue;
            }
            if s.get(i + 1) == Some(&b'x') {
                if let Some(b) = s.get(i + 2..i + 4).and_then(hex_byte) {
                    out.push(b);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(s[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_byte(h: &[u8]) -> Option<u8> {
    u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if let Some(v) = b.get(i + 1..i + 3).and_then(hex_byte) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marks(chunks: &[&[u8]]) -> Vec<Mark> {
        let mut s = MarkScanner::default();
        let mut out = Vec::new();
        for c in chunks {
            let mut rest = *c;
            while !rest.is_empty() {
                let (n, m) = s.next(rest);
                out.extend(m);
                rest = &rest[n..];
            }
        }
        out
    }

    #[test]
    fn marks_are_found_across_pieces_with_either_terminator() {
        let got = marks(&[
            b"x\x1b]133;A\x07$ \x1b]133;B\x1b\\ls\r\n\x1b]633;E;ls -la\\x3b echo \\\\o/\\x0anext;nonce\x07\x1b]13",
            b"3;C\x07out\x1b[31mred\x1b]133;D;2\x1b",
            b"\\\x1b]7;file://host/tmp/a%20b\x07\x1b]0;title\x07",
        ]);
        assert_eq!(
            got,
            vec![
                Mark::PromptStart,
                Mark::InputStart,
                Mark::CommandLine("ls -la; echo \\o/\nnext".into()),
                Mark::CommandStart(None),
                Mark::CommandEnd(Some(2)),
                Mark::Cwd("/tmp/a b".into()),
            ]
        );
    }

    #[test]
    fn a_continuation_prompt_is_told_from_a_prompt() {
        assert_eq!(
            marks(&[b"\x1b]133;A;k=s\x07> \x1b]133;A;aid=7;k=s\x1b\\\x1b]133;A;aid=7\x07"]),
            vec![
                Mark::ContinuationStart,
                Mark::ContinuationStart,
                Mark::PromptStart
            ]
        );
    }

    #[test]
    fn split_points_are_right_after_each_mark() {
        let mut s = MarkScanner::default();
        let bytes = b"ab\x1b]133;C\x07cd";
        assert_eq!(s.next(bytes), (10, Some(Mark::CommandStart(None))));
        assert_eq!(s.next(&bytes[10..]), (2, None));
    }

    #[test]
    fn fish_4_marks_carry_options_and_the_command_line() {
        let got = marks(&[
            b"\x1b]133;A;special_key=1\x07> \x1b]133;C;cmdline_url=for%20i%20in%201%0Aecho%20%22n%3B%24i%22%20%C3%A9t%C3%A9%0Aend\x07",
            b"\x1b]133;D;0\x07\x1b]133;C;aid=7;cmdline_url=%25%2\x07\x1b]133;C;cmdline_url=\xff\x07",
        ]);
        assert_eq!(
            got,
            vec![
                Mark::PromptStart,
                Mark::CommandStart(Some("for i in 1\necho \"n;$i\" été\nend".into())),
                Mark::CommandEnd(Some(0)),
                Mark::CommandStart(Some("%%2".into())),
                Mark::CommandStart(None),
            ]
        );
    }

    #[test]
    fn junk_is_not_a_mark() {
        assert!(
            marks(&[b"\x1b]133;Z\x07\x1b]7;http://x\x07\x1b]633;P;Cwd=/\x07\x1b]133;D\x07"])
                .iter()
                .eq([Mark::CommandEnd(None)].iter())
        );
    }
}
