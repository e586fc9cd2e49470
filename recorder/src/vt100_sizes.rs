//! Keeps [`fixcast_sessions::emulated_size`] proven: `vt100` driven at every size the
//! rule can give, through random terminal streams (a fixed seed, a bounded count), never
//! panics. The streams mix what breaks small screens: text that wraps, wide and
//! combining characters, scroll regions, insert and delete line and character, scrolls,
//! cursor moves with absurd counts, the alternate screen, resets, random bytes, and
//! resizes.
//!
//! Resizes here never narrow the screen: a narrowing resize through a wide character
//! leaves half of it behind in `vt100` 0.16 at any size (a later write there panics),
//! which no size rule avoids; derivations contain that panic instead.

use fixcast_sessions::emulated_size;

use crate::screen_text::ScreenText;

/// xorshift64: reproducible without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    /// A side as a recording may claim it: degenerate, small, ordinary or absurd.
    fn side(&mut self) -> u16 {
        match self.below(6) {
            0 => 0,
            1 => 1,
            2 | 3 => 2 + self.below(4) as u16,
            4 => self.below(120) as u16,
            // Absurd sides are clamped to 1000: a few, as each screen is a million cells.
            _ if self.below(10) == 0 => u16::MAX,
            _ => self.below(40) as u16,
        }
    }

    /// A CSI parameter: none, small, or past any screen.
    fn param(&mut self) -> String {
        match self.below(4) {
            0 => String::new(),
            1 => self.below(4).to_string(),
            2 => self.below(12).to_string(),
            _ => self.below(300).to_string(),
        }
    }
}

const TEXT: &[&str] = &[
    "a",
    "bc",
    "hello",
    " ",
    "-",
    "中",
    "🎉",
    "中中中",
    "\u{301}",
    "e\u{301}",
    "\u{200b}",
    "\u{1100}\u{1161}",
    "\r",
    "\n",
    "\r\n",
    "\t",
    "\x08",
    "\x0b\x0c",
];
const FINALS: &[&str] = &[
    "A", "B", "C", "D", "E", "F", "G", "H", "d", "`", "L", "M", "@", "P", "X", "J", "K", "S", "T",
    "f", "a", "e", "I", "Z", "b", "m",
];
const MODES: &[&str] = &[
    "\x1bM",
    "\x1bD",
    "\x1bE",
    "\x1b7",
    "\x1b8",
    "\x1b[s",
    "\x1b[u",
    "\x1bc",
    "\x1b[?6h",
    "\x1b[?6l",
    "\x1b[?7h",
    "\x1b[?7l",
    "\x1b[?1049h",
    "\x1b[?1049l",
    "\x1b[?47h",
    "\x1b[?47l",
    "\x1b[?1047h",
    "\x1b[4h",
    "\x1b[4l",
    "\x1b]0;title\x07",
];

enum Step {
    Bytes(Vec<u8>),
    Resize,
}

fn step(r: &mut Rng) -> Step {
    let s = match r.below(12) {
        0..=4 => r.pick(TEXT).to_owned(),
        5 => format!("\x1b[{}{}", r.param(), r.pick(FINALS)),
        6 => format!("\x1b[{};{}H", r.param(), r.param()),
        7 => format!("\x1b[{};{}r", r.param(), r.param()),
        8 => r.pick(MODES).to_owned(),
        9 => {
            let n = r.below(8) as usize;
            return Step::Bytes((0..n).map(|_| r.below(256) as u8).collect());
        }
        10 if r.below(3) == 0 => return Step::Resize,
        _ => format!("{}\r\n", r.pick(TEXT)),
    };
    Step::Bytes(s.into_bytes())
}

/// Everything the derivations read of a screen.
fn read_all(screen: &vt100::Screen, prev: &vt100::Screen) {
    let (rows, cols) = screen.size();
    let _ = screen.contents();
    let _ = screen.contents_formatted();
    let _ = screen.contents_diff(prev);
    let _ = screen.contents_between(0, 0, rows - 1, cols);
    let _: Vec<String> = screen.rows(0, u16::MAX).collect();
    for row in 0..rows {
        let _ = screen.row_wrapped(row);
    }
    let _ = screen.cursor_position();
}

#[test]
fn vt100_never_panics_at_an_emulated_size() {
    let mut r = Rng(0x5eed_f1c5_ca57_0001);
    for _ in 0..400 {
        let (cols, rows) = (r.side(), r.side());
        let (c, w) = emulated_size(cols, rows);
        let mut parser = vt100::Parser::new(w, c, 20);
        let mut prev = parser.screen().clone();
        let mut text = ScreenText::new(rows, cols);
        let mut trace = format!("{cols}x{rows}");
        for _ in 0..150 {
            match step(&mut r) {
                Step::Bytes(b) => {
                    trace.push_str(&format!(" {:?}", String::from_utf8_lossy(&b)));
                    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        parser.process(&b);
                        text.write(&b);
                    }));
                    assert!(run.is_ok(), "{trace}");
                }
                Step::Resize => {
                    let (c, w) = emulated_size(r.side(), r.side());
                    let c = c.max(parser.screen().size().1);
                    trace.push_str(&format!(" resize {c}x{w}"));
                    parser.screen_mut().set_size(w, c);
                    text.resize(w, c);
                }
            }
            if r.below(10) == 0 {
                read_all(parser.screen(), &prev);
                prev = parser.screen().clone();
            }
        }
        read_all(parser.screen(), &prev);
        let _ = text.finish();
    }
}

/// The one panic no size avoids (see the module doc), kept as a canary: when `vt100`
/// fixes it, narrowing resizes can join the test above, and the containment tests need
/// another trigger.
#[test]
fn narrowing_through_a_wide_character_still_panics_in_vt100() {
    let got = fixcast_sessions::contain(|| {
        let mut parser = vt100::Parser::new(3, 5, 0);
        parser.process("abc中".as_bytes());
        parser.screen_mut().set_size(3, 4);
        parser.process(b"\x1b[1;4Hx");
    });
    assert!(
        got.is_err(),
        "vt100 no longer panics here: see the module doc"
    );
}
