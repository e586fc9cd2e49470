//! The player's model of the terminal: a `vt100` screen fed what is written, at the
//! recording's size (bounded as everywhere, see [`emulated_size`]), so that the player
//! knows what the terminal shows.
//!
//! `vt100` can panic on an odd recording (see [`fixcast_sessions::contain`]). The replay
//! must not die of it: the model is then dropped and play goes on without it (a step
//! plays one event, no badge is drawn, a jump back has the terminal replay from the
//! start, and the terminal is given back as if the replay were in the alternate screen).

use fixcast_sessions::{contain, emulated_size};

use super::Act;

pub struct Model {
    /// `None` once `vt100` has panicked.
    parser: Option<vt100::Parser>,
}

/// What a person sees of a screen: its cells, which screen, and the cursor when shown.
#[derive(PartialEq, Eq)]
pub struct Visible {
    rows: Vec<Vec<u8>>,
    alt: bool,
    cursor: Option<(u16, u16)>,
}

impl Model {
    /// A blank screen of the recording's size, `(cols, rows)`.
    pub fn new((cols, rows): (u16, u16)) -> Self {
        let (cols, rows) = emulated_size(cols, rows);
        Model {
            parser: contain(|| vt100::Parser::new(rows, cols, 0)).ok(),
        }
    }

    /// Runs `f` on the parser; a panic in it drops the model.
    fn with<T>(&mut self, f: impl FnOnce(&mut vt100::Parser) -> T) -> Option<T> {
        let parser = self.parser.as_mut()?;
        let result = contain(|| f(parser)).ok();
        if result.is_none() {
            self.parser = None;
        }
        result
    }

    /// Whether the model is gone (`vt100` panicked).
    pub fn lost(&self) -> bool {
        self.parser.is_none()
    }

    pub fn apply(&mut self, act: Act) {
        self.with(|p| match act {
            Act::Output(data) => p.process(data.as_bytes()),
            Act::Resize { cols, rows } => {
                let (cols, rows) = emulated_size(cols, rows);
                p.screen_mut().set_size(rows, cols);
            }
        });
    }

    pub fn visible(&mut self) -> Option<Visible> {
        self.with(|p| {
            let s = p.screen();
            Visible {
                rows: s.rows_formatted(0, s.size().1).collect(),
                alt: s.alternate_screen(),
                cursor: (!s.hide_cursor()).then(|| s.cursor_position()),
            }
        })
    }

    /// Whether the alternate screen is on; `true` when unknown, so that it is left.
    pub fn alt_screen(&mut self) -> bool {
        self.with(|p| p.screen().alternate_screen()).unwrap_or(true)
    }

    /// `(rows, cols)` of the screen.
    pub fn size(&mut self) -> Option<(u16, u16)> {
        self.with(|p| p.screen().size())
    }

    /// Puts the cursor, its visibility and the drawing colours back as the screen has
    /// them (after drawing over it).
    pub fn cursor_and_colours(&mut self) -> Option<Vec<u8>> {
        self.with(|p| {
            let s = p.screen();
            let mut bytes = s.attributes_formatted();
            bytes.extend(s.cursor_state_formatted());
            bytes
        })
    }

    /// The cells of `row` from `col`, `width` of them, drawn from the cursor at `col`.
    pub fn cells(&mut self, row: u16, col: u16, width: u16) -> Option<Vec<u8>> {
        self.with(|p| p.screen().rows_formatted(col, width).nth(usize::from(row)))
            .flatten()
    }

    /// What draws this screen on a terminal now in the alternate screen or not
    /// (`from_alt`): the right screen, its cells, cursor, colours and input modes.
    pub fn drawn_over(&mut self, from_alt: bool) -> Option<Vec<u8>> {
        self.with(|p| {
            let s = p.screen();
            let mut bytes = Vec::new();
            match (from_alt, s.alternate_screen()) {
                (true, false) => bytes.extend_from_slice(b"\x1b[?1049l"),
                (false, true) => bytes.extend_from_slice(b"\x1b[?1049h"),
                _ => {}
            }
            // The model keeps no scroll region: the whole screen scrolls, as it draws.
            bytes.extend_from_slice(b"\x1b[r");
            bytes.extend(s.contents_formatted());
            bytes.extend(s.input_mode_formatted());
            bytes
        })
    }

    /// As the replay ends: whether it left the alternate screen on, and whether the
    /// main screen's cursor is at the start of a line (for the prompt after).
    pub fn ending(&mut self) -> (bool, bool) {
        let alt = self.alt_screen();
        let at_line_start = self
            .with(|p| {
                if p.screen().alternate_screen() {
                    // The main screen's cursor, as it will be once the main screen is back.
                    p.process(b"\x1b[?1049l");
                }
                p.screen().cursor_position().1 == 0
            })
            .unwrap_or(false);
        (alt, at_line_start)
    }
}
