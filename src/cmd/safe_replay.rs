//! Safe replay: output from a recording, made unable to drive the viewer's terminal
//! beyond drawing on it. A recording (imported from anywhere) is a program's output, and
//! a terminal obeys more than drawing: it writes the clipboard (OSC 52), opens links
//! (OSC 8), takes device control strings (DCS, APC, PM, SOS), sets titles, and answers
//! queries by typing the answer into whoever reads the terminal — here the player.
//!
//! Kept: text, C0 controls but ENQ, CSI drawing sequences, titles of plain text, `http(s)`
//! links, colour settings, shell-integration marks. Removed: everything else, including
//! every sequence that makes the terminal answer (DA, DSR, window reports, DECRQM,
//! XTVERSION, DECRQSS and XTGETTCAP, which are DCS) or changes what keys send (mouse,
//! focus and paste reporting, keyboard protocols).
//!
//! The filter is a stream: a sequence split across two events is judged whole.

/// Sequences longer than this are dropped (no drawing sequence comes near it).
const MAX_SEQ: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Ground,
    Esc,
    EscIntermediate,
    Csi,
    Osc,
    OscEsc,
    /// A string to drop (DCS, SOS, PM, APC, or an over-long sequence).
    Discard,
    /// An over-long OSC to drop: it ends at BEL too.
    DiscardOsc,
    /// An over-long CSI to drop, up to its final byte.
    DiscardCsi,
    DiscardEsc,
}

/// The filter; see the module docs.
#[derive(Debug)]
pub struct SafeReplay {
    state: State,
    seq: String,
    dropped: u64,
}

impl Default for SafeReplay {
    fn default() -> Self {
        SafeReplay {
            state: State::Ground,
            seq: String::new(),
            dropped: 0,
        }
    }
}

impl SafeReplay {
    /// `text` filtered; an unfinished sequence at its end waits for the next call.
    pub fn filter(&mut self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            self.char(c, &mut out);
        }
        out
    }

    /// Sequences removed so far.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    fn drop_seq(&mut self, next: State) {
        self.dropped += 1;
        self.seq.clear();
        self.state = next;
    }

    fn char(&mut self, c: char, out: &mut String) {
        // CAN and SUB cancel any sequence; other C0 controls act inside one.
        if self.state != State::Ground && matches!(c, '\x18' | '\x1a') {
            self.drop_seq(State::Ground);
            return;
        }
        match self.state {
            State::Ground => match c {
                '\x1b' => self.start(State::Esc, "\x1b"),
                '\x05' => self.dropped += 1,
                // C1 controls: the 8-bit forms of ESC sequences.
                '\u{9b}' => self.start(State::Csi, "\x1b["),
                '\u{9d}' => self.start(State::Osc, "\x1b]"),
                '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => self.drop_seq(State::Discard),
                '\u{80}'..='\u{9f}' => self.dropped += 1,
                _ => out.push(c),
            },
            State::Esc => match c {
                '[' => self.push(c, State::Csi),
                ']' => self.push(c, State::Osc),
                'P' | 'X' | '^' | '_' => self.drop_seq(State::Discard),
                // DECID: the terminal would answer.
                'Z' => self.drop_seq(State::Ground),
                '\x1b' => self.start(State::Esc, "\x1b"),
                ' '..='/' => self.push(c, State::EscIntermediate),
                c if (c as u32) < 0x20 => control(c, out),
                _ => self.emit(c, out),
            },
            State::EscIntermediate => match c {
                ' '..='/' => self.push(c, State::EscIntermediate),
                '0'..='~' => self.emit(c, out),
                '\x1b' => self.start(State::Esc, "\x1b"),
                c if (c as u32) < 0x20 => control(c, out),
                _ => self.drop_seq(State::Ground),
            },
            State::Csi => match c {
                '@'..='~' => {
                    self.seq.push(c);
                    if csi_is_safe(&self.seq) {
                        out.push_str(&self.seq);
                        self.seq.clear();
                        self.state = State::Ground;
                    } else {
                        self.drop_seq(State::Ground);
                    }
                }
                '\x1b' => {
                    self.drop_seq(State::Esc);
                    self.seq.push('\x1b');
                }
                c if (c as u32) < 0x20 => control(c, out),
                _ => self.push(c, State::Csi),
            },
            State::Osc => match c {
                '\x07' => self.osc_end("\x07", out),
                '\x1b' => self.state = State::OscEsc,
                _ => self.push(c, State::Osc),
            },
            State::OscEsc => {
                if c == '\\' {
                    self.osc_end("\x1b\\", out);
                } else {
                    // An ESC that does not end the string cancels it and starts anew.
                    self.drop_seq(State::Esc);
                    self.seq.push('\x1b');
                    self.char(c, out);
                }
            }
            State::Discard | State::DiscardOsc => match c {
                '\x1b' => self.state = State::DiscardEsc,
                '\x07' if self.state == State::DiscardOsc => self.state = State::Ground,
                _ => {}
            },
            State::DiscardCsi => {
                if ('@'..='~').contains(&c) {
                    self.state = State::Ground;
                }
            }
            State::DiscardEsc => {
                if c == '\\' {
                    self.state = State::Ground;
                } else {
                    self.state = State::Esc;
                    self.seq.push('\x1b');
                    self.char(c, out);
                }
            }
        }
    }

    fn start(&mut self, state: State, seq: &str) {
        if !self.seq.is_empty() {
            self.dropped += 1;
        }
        self.seq.clear();
        self.seq.push_str(seq);
        self.state = state;
    }

    fn push(&mut self, c: char, state: State) {
        self.seq.push(c);
        self.state = state;
        if self.seq.len() > MAX_SEQ {
            let discard = match state {
                State::Osc => State::DiscardOsc,
                State::Csi => State::DiscardCsi,
                _ => State::Discard,
            };
            self.drop_seq(discard);
        }
    }

    fn emit(&mut self, c: char, out: &mut String) {
        self.seq.push(c);
        out.push_str(&self.seq);
        self.seq.clear();
        self.state = State::Ground;
    }

    fn osc_end(&mut self, terminator: &str, out: &mut String) {
        if osc_is_safe(&self.seq[2..]) {
            out.push_str(&self.seq);
            out.push_str(terminator);
            self.seq.clear();
            self.state = State::Ground;
        } else {
            self.drop_seq(State::Ground);
        }
    }
}

/// A C0 control met inside a sequence: the terminal acts on it at once.
fn control(c: char, out: &mut String) {
    if c != '\x05' {
        out.push(c);
    }
}

/// Whether a whole CSI sequence (`ESC [` … final) only draws.
fn csi_is_safe(seq: &str) -> bool {
    let body = &seq[2..];
    let final_byte = body.chars().last().unwrap_or(' ');
    let private = body
        .chars()
        .next()
        .filter(|c| matches!(c, '<' | '=' | '>' | '?'));
    let inner = &body[..body.len() - 1];
    let intermediate = inner.chars().find(|c| (' '..='/').contains(c));
    let params = inner.trim_start_matches(['<', '=', '>', '?']);
    match (final_byte, private, intermediate) {
        // Device attributes, status and cursor reports, window ops and reports,
        // DECREQTPARM, media copy: answers or more than drawing.
        ('c' | 'n' | 't' | 'x' | 'i', _, _) => false,
        // DECRQM, DECRQPSR, DECRQTSR.
        (_, _, Some('$')) if matches!(final_byte, 'p' | 'w' | 'u') => false,
        // XTVERSION, key modifier and keyboard protocol changes, graphics queries.
        ('q' | 'm' | 'u' | 'S' | 'f', Some(_), _) => false,
        // Modes that make the terminal send reports as input (mouse, focus, paste).
        ('h', Some('?'), _) => !params.split(';').any(|p| {
            matches!(
                p,
                "9" | "1000"
                    | "1001"
                    | "1002"
                    | "1003"
                    | "1004"
                    | "1005"
                    | "1006"
                    | "1015"
                    | "1016"
                    | "2004"
            )
        }),
        _ => true,
    }
}

/// Whether an OSC payload (after `ESC ]`, before its terminator) is safe to pass on.
fn osc_is_safe(payload: &str) -> bool {
    if payload.chars().any(char::is_control) || payload.len() > 2048 {
        return false;
    }
    let (number, rest) = payload.split_once(';').unwrap_or((payload, ""));
    match number {
        // Titles (checked above for control characters).
        "0" | "1" | "2" => true,
        // Hyperlinks: `8;params;URI`, to the web only; an empty URI closes a link.
        "8" => {
            let uri = rest.split_once(';').map_or("", |(_, u)| u);
            let lower = uri.to_ascii_lowercase();
            uri.is_empty() || lower.starts_with("http://") || lower.starts_with("https://")
        }
        // Working directory and shell-integration marks.
        "7" | "133" | "633" => true,
        // Colours, set but not queried.
        "4" | "10" | "11" | "12" | "13" | "14" | "15" | "16" | "17" | "19" | "104" | "110"
        | "111" | "112" | "117" | "119" => !rest.contains('?'),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn safe(s: &str) -> String {
        SafeReplay::default().filter(s)
    }

    #[test]
    fn drawing_passes_untouched() {
        let s = "a\x1b[1;31mred\x1b[0m\x1b[2J\x1b[H\x1b[?25l\x1b[?1049h\x1b(B\x1b7\x1b8\r\n\x1b]0;my title\x07\x1b]8;;https://example.com\x1b\\link\x1b]8;;\x1b\\ é中";
        assert_eq!(safe(s), s);
    }

    #[test]
    fn hostile_sequences_are_removed() {
        for s in [
            "\x1b]52;c;ZWNobyBoaQ==\x07",
            "\x1b]8;;file:///etc/passwd\x1b\\",
            "\x1b]8;;javascript:alert(1)\x07",
            "\x1bP$qm\x1b\\",
            "\x1bP+q544e\x1b\\",
            "\x1b_Gf=100;AAAA\x1b\\",
            "\x1b^privacy\x1b\\",
            "\x1bXsos\x1b\\",
            "\x1b]0;a\nb\x07",
            "\x1b[c",
            "\x1b[>c",
            "\x1b[5n",
            "\x1b[6n",
            "\x1b[14t",
            "\x1b[18t",
            "\x1b[21t",
            "\x1b[8;100;100t",
            "\x1b[?1000h",
            "\x1b[?2004h",
            "\x1b[>0q",
            "\x1b[?2026$p",
            "\x1bZ",
            "\x05",
            "\x1b]1337;File=name=eA==:AAAA\x07",
            "\x1b]4;1;?\x07",
            "\u{9b}6n",
            "\u{9d}52;c;eA==\x07",
        ] {
            assert_eq!(safe(&format!("<{s}>")), "<>", "{s:?}");
        }
    }

    #[test]
    fn a_title_cannot_smuggle_a_query() {
        let out = safe("<\x1b]2;evil\x1b[6n\x07>");
        assert!(!out.contains('\x1b'), "{out:?}");
    }

    #[test]
    fn a_sequence_split_across_events_is_judged_whole() {
        let s = "x\x1b]52;c;ZWNobyBoaQ==\x07y\x1b[6nz\x1b[31mr";
        for cut in 1..s.len() {
            let mut f = SafeReplay::default();
            let out = f.filter(&s[..cut]) + &f.filter(&s[cut..]);
            assert_eq!(out, "xyz\x1b[31mr", "cut at {cut}");
            assert_eq!(f.dropped(), 2);
        }
    }

    #[test]
    fn an_endless_string_swallows_only_itself() {
        let mut f = SafeReplay::default();
        let long = format!("\x1b]2;{}\x07after", "t".repeat(MAX_SEQ * 2));
        assert_eq!(f.filter(&long), "after");
        let long = format!("\x1b[{}mafter", "1;".repeat(MAX_SEQ));
        assert_eq!(f.filter(&long), "after");
    }
}
