//! Safe replay: output from a recording, made unable to drive the viewer's terminal
//! beyond drawing on it. A recording (imported from anywhere) is a program's output, and
//! a terminal obeys more than drawing: it writes the clipboard (OSC 52), opens links
//! (OSC 8), takes device control strings (DCS, APC, PM, SOS), sets titles, and answers
//! queries by typing the answer into whoever reads the terminal — here the player.
//!
//! Kept: text, C0 controls but ENQ, CSI drawing sequences, mode switches that only change
//! how the screen or the keys look to the program (alternate screen, cursor visibility,
//! application cursor keys and keypad, bracketed paste: bash turns it on at every prompt),
//! titles of plain text, `http(s)` links, colour settings, shell-integration marks.
//! Removed, and counted by [`Kind`] so that the viewer is told what was not played:
//! everything that makes the terminal answer (DA, DSR, window reports, DECRQM, XTVERSION,
//! colour queries), clipboard writes, window operations, links to anything but the web,
//! device control strings (DCS, APC, PM, SOS: DECRQSS, XTGETTCAP, graphics), other OSC
//! strings. Removed without a word: switches that would make the viewer's mouse and keys
//! send reports to the player (mouse and focus reporting, keyboard protocols; nothing on
//! the screen changes without them), and fragments of sequences that another one cut off
//! (a terminal drops them too).
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

/// What a removed sequence could have done to the viewer's terminal; the warning names
/// these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// OSC 52: write (or read) the clipboard.
    Clipboard,
    /// Makes the terminal type an answer: DA, DSR, window and colour reports, DECRQM,
    /// XTVERSION, DECID, ENQ.
    Query,
    /// Moves, resizes, raises or iconifies the window (`CSI … t`).
    Window,
    /// OSC 8 to a file, a program or anything but `http(s)`.
    Link,
    /// DCS, APC, PM, SOS: requests, graphics, key definitions.
    DeviceString,
    /// A title with control characters in it.
    Title,
    /// Any other OSC string (notifications, file transfers, palette changes).
    Osc,
    /// C1 controls, media copy, over-long sequences.
    Other,
}

impl Kind {
    const ALL: [Kind; 8] = [
        Kind::Clipboard,
        Kind::Query,
        Kind::Window,
        Kind::Link,
        Kind::DeviceString,
        Kind::Title,
        Kind::Osc,
        Kind::Other,
    ];

    /// `1 clipboard write`, `2 terminal queries`.
    fn count(self, n: u64) -> String {
        let (one, many) = match self {
            Kind::Clipboard => ("clipboard write", "clipboard writes"),
            Kind::Query => ("terminal query", "terminal queries"),
            Kind::Window => ("window operation", "window operations"),
            Kind::Link => ("link to a file or program", "links to files or programs"),
            Kind::DeviceString => ("device control string", "device control strings"),
            Kind::Title => (
                "title with control characters",
                "titles with control characters",
            ),
            Kind::Osc => ("other OSC command", "other OSC commands"),
            Kind::Other => ("other control sequence", "other control sequences"),
        };
        format!("{n} {}", if n == 1 { one } else { many })
    }
}

/// The filter; see the module docs.
#[derive(Debug)]
pub struct SafeReplay {
    state: State,
    seq: String,
    dropped: [u64; Kind::ALL.len()],
}

impl Default for SafeReplay {
    fn default() -> Self {
        SafeReplay {
            state: State::Ground,
            seq: String::new(),
            dropped: [0; Kind::ALL.len()],
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

    /// Sequences removed so far that could have acted on the viewer's terminal.
    #[cfg(test)]
    pub fn dropped(&self) -> u64 {
        self.dropped.iter().sum()
    }

    /// What was removed, by kind: `2 clipboard writes, 1 terminal query`; `None` when
    /// nothing was.
    pub fn summary(&self) -> Option<String> {
        let parts: Vec<String> = Kind::ALL
            .iter()
            .zip(self.dropped)
            .filter(|(_, n)| *n > 0)
            .map(|(k, n)| k.count(n))
            .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }

    fn count(&mut self, kind: Kind) {
        self.dropped[kind as usize] += 1;
    }

    fn drop_seq(&mut self, kind: Kind, next: State) {
        self.count(kind);
        self.drop_quietly(next);
    }

    /// Drops the sequence being read without counting it (see the module docs).
    fn drop_quietly(&mut self, next: State) {
        self.seq.clear();
        self.state = next;
    }

    /// Starts discarding a string of `kind` (counted once, whether it ends or is cut off).
    fn discard(&mut self, kind: Kind, next: State) {
        self.drop_seq(kind, next);
    }

    fn char(&mut self, c: char, out: &mut String) {
        // CAN and SUB cancel any sequence; other C0 controls act inside one.
        if self.state != State::Ground && matches!(c, '\x18' | '\x1a') {
            self.drop_quietly(State::Ground);
            return;
        }
        match self.state {
            State::Ground => match c {
                '\x1b' => self.start(State::Esc, "\x1b"),
                '\x05' => self.count(Kind::Query),
                // C1 controls: the 8-bit forms of ESC sequences.
                '\u{9b}' => self.start(State::Csi, "\x1b["),
                '\u{9d}' => self.start(State::Osc, "\x1b]"),
                '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => {
                    self.discard(Kind::DeviceString, State::Discard)
                }
                '\u{80}'..='\u{9f}' => self.count(Kind::Other),
                _ => out.push(c),
            },
            State::Esc => match c {
                '[' => self.push(c, State::Csi),
                ']' => self.push(c, State::Osc),
                'P' | 'X' | '^' | '_' => self.discard(Kind::DeviceString, State::Discard),
                // DECID: the terminal would answer.
                'Z' => self.drop_seq(Kind::Query, State::Ground),
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
                _ => self.drop_quietly(State::Ground),
            },
            State::Csi => match c {
                '@'..='~' => {
                    self.seq.push(c);
                    match csi_verdict(&self.seq) {
                        Verdict::Pass => {
                            out.push_str(&self.seq);
                            self.seq.clear();
                            self.state = State::Ground;
                        }
                        Verdict::Quiet => self.drop_quietly(State::Ground),
                        Verdict::Drop(kind) => self.drop_seq(kind, State::Ground),
                    }
                }
                '\x1b' => {
                    self.drop_quietly(State::Esc);
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
                    self.drop_quietly(State::Esc);
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

    /// Starts a sequence; an unfinished one before it is cut off, as a terminal does.
    fn start(&mut self, state: State, seq: &str) {
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
            self.discard(Kind::Other, discard);
        }
    }

    fn emit(&mut self, c: char, out: &mut String) {
        self.seq.push(c);
        out.push_str(&self.seq);
        self.seq.clear();
        self.state = State::Ground;
    }

    fn osc_end(&mut self, terminator: &str, out: &mut String) {
        match osc_verdict(&self.seq[2..]) {
            None => {
                out.push_str(&self.seq);
                out.push_str(terminator);
                self.seq.clear();
                self.state = State::Ground;
            }
            Some(kind) => self.drop_seq(kind, State::Ground),
        }
    }
}

/// A C0 control met inside a sequence: the terminal acts on it at once.
fn control(c: char, out: &mut String) {
    if c != '\x05' {
        out.push(c);
    }
}

/// What becomes of a whole sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Pass,
    /// Removed, counted as this kind.
    Drop(Kind),
    /// Removed without a word: it would only change what the viewer's keys and mouse
    /// send to the player, nothing on the screen.
    Quiet,
}

/// Modes that make the terminal send reports as input: mouse (X10, normal, button,
/// any-event, and their encodings), focus, and the alternate-scroll and pixel forms.
const REPORTING_MODES: &[&str] = &[
    "9", "1000", "1001", "1002", "1003", "1004", "1005", "1006", "1015", "1016",
];

/// `CSI … t` reports (the terminal answers); the other window operations act on it.
const WINDOW_REPORTS: &[&str] = &["11", "13", "14", "15", "16", "18", "19", "20", "21"];

/// Whether a whole CSI sequence (`ESC [` … final) only draws.
fn csi_verdict(seq: &str) -> Verdict {
    let body = &seq[2..];
    let final_byte = body.chars().last().unwrap_or(' ');
    let private = body
        .chars()
        .next()
        .filter(|c| matches!(c, '<' | '=' | '>' | '?'));
    let inner = &body[..body.len() - 1];
    let intermediate = inner.chars().find(|c| (' '..='/').contains(c));
    let params = inner.trim_start_matches(['<', '=', '>', '?']);
    let first = params.split(';').next().unwrap_or("");
    match (final_byte, private, intermediate) {
        // Device attributes, status and cursor reports, DECREQTPARM: answers.
        ('c' | 'n' | 'x', _, _) => Verdict::Drop(Kind::Query),
        ('t', _, _) if WINDOW_REPORTS.contains(&first) => Verdict::Drop(Kind::Query),
        ('t', _, _) => Verdict::Drop(Kind::Window),
        // Media copy: printing.
        ('i', _, _) => Verdict::Drop(Kind::Other),
        // DECRQM, DECRQPSR, DECRQTSR.
        (_, _, Some('$')) if matches!(final_byte, 'p' | 'w' | 'u') => Verdict::Drop(Kind::Query),
        // XTVERSION, XTSMGRAPHICS, the kitty keyboard protocol's query of its flags.
        ('q' | 'S', Some(_), _) | ('u', Some('?'), _) => Verdict::Drop(Kind::Query),
        // Key modifier options (XTMODKEYS) and keyboard protocol changes.
        ('m' | 'u' | 'f', Some(_), _) => Verdict::Quiet,
        ('h', Some('?'), _) if params.split(';').any(|p| REPORTING_MODES.contains(&p)) => {
            Verdict::Quiet
        }
        _ => Verdict::Pass,
    }
}

/// Whether an OSC payload (after `ESC ]`, before its terminator) is safe to pass on
/// (`None`), or what it is.
fn osc_verdict(payload: &str) -> Option<Kind> {
    let (number, rest) = payload.split_once(';').unwrap_or((payload, ""));
    if payload.chars().any(char::is_control) || payload.len() > 2048 {
        return Some(match number {
            "0" | "1" | "2" => Kind::Title,
            _ => Kind::Other,
        });
    }
    match number {
        // Titles (checked above for control characters).
        "0" | "1" | "2" => None,
        "52" => Some(Kind::Clipboard),
        // Hyperlinks: `8;params;URI`, to the web only; an empty URI closes a link.
        "8" => {
            let uri = rest.split_once(';').map_or("", |(_, u)| u);
            let lower = uri.to_ascii_lowercase();
            let web =
                uri.is_empty() || lower.starts_with("http://") || lower.starts_with("https://");
            (!web).then_some(Kind::Link)
        }
        // Working directory and shell-integration marks.
        "7" | "133" | "633" => None,
        // Colours, set but not queried.
        "4" | "10" | "11" | "12" | "13" | "14" | "15" | "16" | "17" | "19" | "104" | "110"
        | "111" | "112" | "117" | "119" => rest.contains('?').then_some(Kind::Query),
        _ => Some(Kind::Osc),
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
        let s = "a\x1b[1;31mred\x1b[0m\x1b[2J\x1b[H\x1b[?25l\x1b[?1049h\x1b[?1h\x1b=\x1b[?2004h\x1b[?2004l\x1b(B\x1b7\x1b8\r\n\x1b]0;my title\x07\x1b]8;;https://example.com\x1b\\link\x1b]8;;\x1b\\ é中";
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
    fn what_is_removed_is_counted_by_kind_and_benign_switches_are_not() {
        let mut f = SafeReplay::default();
        let prompt = "\x1b[?2004h$ \x1b[?1000h\x1b[?1006h\x1b[>1u\x1b[<u\x1b[>4;1m";
        for _ in 0..32 {
            assert_eq!(f.filter(prompt), "\x1b[?2004h$ ");
        }
        assert_eq!(f.summary(), None);
        assert_eq!(f.dropped(), 0);
        f.filter("\x1b]52;c;eA==\x07\x1b]52;c;eQ==\x1b\\\x1b[6n\x1b[8;1;1t\x1b]8;;file:///x\x07");
        assert_eq!(
            f.summary().as_deref(),
            Some("2 clipboard writes, 1 terminal query, 1 window operation, 1 link to a file or program")
        );
        assert_eq!(f.dropped(), 5);
        let mut f = SafeReplay::default();
        f.filter("\x1bP$qm\x1b\\\x1b]0;a\nb\x07\x1b]9;note\x07\x1b[c\x1b[18t");
        assert_eq!(
            f.summary().as_deref(),
            Some("2 terminal queries, 1 device control string, 1 title with control characters, 1 other OSC command")
        );
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
