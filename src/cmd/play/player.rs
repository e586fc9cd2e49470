//! Timed play on a terminal: the clock, the keys, and a screen model (`vt100`) run
//! alongside what is written, so that the player knows what the terminal shows: to step
//! to the next visible change, to redraw an earlier moment, to put back what the paused
//! badge covered, and to give the terminal back from the state the replay left.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use super::restore::Terminal;
use super::tty::{self, Key, RawInput};
use super::{Act, Plan};

/// How a replay ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The recording ended.
    End,
    /// `q` or Ctrl-C, or the terminal went away.
    Quit,
    /// This signal asked it to stop.
    Signal(i32),
}

/// The paused badge: reverse video, at the bottom right of the replayed screen.
const BADGE: &str = " paused ";

/// Plays `plan` on the terminal; with `keys`, standard input steers it (raw, until the
/// end). The terminal is given back on every way out.
pub fn play(plan: &Plan, keys: bool) -> anyhow::Result<Ending> {
    let stop = tty::stop_flag()?;
    let terminal = Terminal::take(keys)?;
    let mut player = Player::new(plan, io::stdout().lock(), &terminal);
    let ending = if keys {
        player.run(&RawInput::new(), &stop)
    } else {
        player.write_all(&stop)
    };
    let finished = player.finish();
    drop(player);
    let given_back = terminal.give_back();
    let ending = ending.map_err(|e| anyhow::anyhow!("cannot write to the terminal: {e}"))?;
    // After a hangup there is no terminal left to reset: the signal is the news.
    if !matches!(ending, Ending::Signal(_)) {
        finished
            .and(given_back)
            .map_err(|e| anyhow::anyhow!("cannot reset the terminal: {e}"))?;
    }
    Ok(ending)
}

struct Player<'p, 'a, W: Write> {
    plan: &'p Plan<'a>,
    out: W,
    terminal: &'p Terminal,
    /// What the terminal shows (at the recording's size).
    screen: vt100::Parser,
    /// The next frame to write.
    next: usize,
    /// Where play is, in microseconds of the recording.
    pos: u64,
    /// The playback clock: `base` at `since`, running unless paused.
    base: Duration,
    since: Instant,
    paused: bool,
    /// Where the badge is drawn: row, first column (0-based, on the replayed screen).
    badge: Option<(u16, u16)>,
}

impl<'p, 'a, W: Write> Player<'p, 'a, W> {
    fn new(plan: &'p Plan<'a>, out: W, terminal: &'p Terminal) -> Self {
        let (cols, rows) = plan.size;
        Player {
            plan,
            out,
            terminal,
            screen: vt100::Parser::new(rows.max(1), cols.max(1), 0),
            next: 0,
            pos: 0,
            base: Duration::ZERO,
            since: Instant::now(),
            paused: false,
            badge: None,
        }
    }

    fn clock(&self) -> Duration {
        if self.paused {
            self.base
        } else {
            self.base.saturating_add(self.since.elapsed())
        }
    }

    /// Without keys: everything at once (a signal still stops it).
    fn write_all(&mut self, stop: &tty::StopFlag) -> io::Result<Ending> {
        for i in 0..self.plan.frames.len() {
            if let Some(sig) = tty::stopped(stop) {
                return Ok(Ending::Signal(sig));
            }
            self.write_frame(i)?;
        }
        self.out.flush()?;
        Ok(Ending::End)
    }

    fn run(&mut self, input: &RawInput, stop: &tty::StopFlag) -> io::Result<Ending> {
        self.jump(self.plan.start)?;
        loop {
            if let Some(sig) = tty::stopped(stop) {
                return Ok(Ending::Signal(sig));
            }
            if self.next >= self.plan.frames.len() {
                return Ok(Ending::End);
            }
            let wait = if self.paused {
                None
            } else {
                let now = self.clock();
                let due = self.plan.frames[self.next].at.saturating_sub(now);
                if due.is_zero() {
                    // Write everything that is due in one go: a flood stays a flood.
                    while self.plan.frames.get(self.next).is_some_and(|f| f.at <= now) {
                        self.write_frame(self.next)?;
                    }
                    self.flush()?;
                    continue;
                }
                Some(due)
            };
            for key in input.keys(wait)? {
                match key {
                    Key::Quit => return Ok(Ending::Quit),
                    Key::Pause => self.toggle_pause()?,
                    Key::Step if self.paused => self.under_badge(Self::step)?,
                    Key::Step => {}
                    Key::Next => {
                        if let Some(t) = self.plan.next_chapter(self.pos) {
                            self.under_badge(|p| p.jump(t))?;
                        }
                    }
                    Key::Prev => {
                        let t = self.plan.prev_chapter(self.pos);
                        self.under_badge(|p| p.jump(t))?;
                    }
                }
            }
        }
    }

    /// Writes frame `i` (unflushed) and moves past it.
    fn write_frame(&mut self, i: usize) -> io::Result<()> {
        let f = &self.plan.frames[i];
        match f.act {
            Act::Output(data) => {
                self.out.write_all(data.as_bytes())?;
                self.screen.process(data.as_bytes());
            }
            Act::Resize { cols, rows } => {
                self.screen.screen_mut().set_size(rows.max(1), cols.max(1));
            }
        }
        self.next = i + 1;
        self.pos = self.pos.max(f.time);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()?;
        let s = self.screen.screen();
        // Only the panic path needs this: the others end through `finish`.
        self.terminal.note(s.alternate_screen(), false);
        Ok(())
    }

    /// Goes to `time` in the recording, as `--at` would start there: forward, what comes
    /// up to it is written at once; back, the screen at that moment is drawn anew.
    fn jump(&mut self, time: u64) -> io::Result<()> {
        let target = self.plan.index_after(time);
        if target >= self.next {
            while self.next < target {
                self.write_frame(self.next)?;
            }
        } else {
            self.redraw_at(target)?;
        }
        self.pos = time;
        self.base = self.plan.clock_at(time);
        self.since = Instant::now();
        self.flush()
    }

    /// Draws the screen as it was before frame `target`, from a model fed up to there.
    fn redraw_at(&mut self, target: usize) -> io::Result<()> {
        let (cols, rows) = self.plan.size;
        let was_alt = self.screen.screen().alternate_screen();
        self.screen = vt100::Parser::new(rows.max(1), cols.max(1), 0);
        self.next = 0;
        self.pos = 0;
        for f in &self.plan.frames[..target] {
            match f.act {
                Act::Output(data) => self.screen.process(data.as_bytes()),
                Act::Resize { cols, rows } => {
                    self.screen.screen_mut().set_size(rows.max(1), cols.max(1))
                }
            }
        }
        self.next = target;
        let s = self.screen.screen();
        let mut bytes = Vec::new();
        match (was_alt, s.alternate_screen()) {
            (true, false) => bytes.extend_from_slice(b"\x1b[?1049l"),
            (false, true) => bytes.extend_from_slice(b"\x1b[?1049h"),
            _ => {}
        }
        // The model keeps no scroll region: the whole screen scrolls, as it draws.
        bytes.extend_from_slice(b"\x1b[r");
        bytes.extend(s.contents_formatted());
        bytes.extend(s.input_mode_formatted());
        self.out.write_all(&bytes)
    }

    /// `.`: writes frames until one changes what the screen shows, then stops there.
    fn step(&mut self) -> io::Result<()> {
        let before = Visible::of(self.screen.screen());
        while self.next < self.plan.frames.len() {
            let at = self.plan.frames[self.next].at;
            self.write_frame(self.next)?;
            self.base = at;
            if Visible::of(self.screen.screen()) != before {
                break;
            }
        }
        self.flush()
    }

    fn toggle_pause(&mut self) -> io::Result<()> {
        self.base = self.clock();
        self.since = Instant::now();
        self.paused = !self.paused;
        if self.paused {
            self.show_badge()
        } else {
            self.hide_badge()
        }
    }

    /// Does `f` with the badge out of the way, and puts it back (on what `f` drew).
    fn under_badge(&mut self, f: impl FnOnce(&mut Self) -> io::Result<()>) -> io::Result<()> {
        let shown = self.badge.is_some();
        self.hide_badge()?;
        f(self)?;
        if shown {
            self.show_badge()?;
        }
        Ok(())
    }

    /// Draws the badge at the bottom right of the part of the screen that both the
    /// recording and this terminal have, then puts the cursor and colours back.
    fn show_badge(&mut self) -> io::Result<()> {
        let s = self.screen.screen();
        let (rows, cols) = s.size();
        let (tcols, trows) = fixcast_recorder::tty::size_of(io::stdout()).unwrap_or((cols, rows));
        let (row, end) = (rows.min(trows), cols.min(tcols));
        let width = BADGE.len() as u16;
        if row == 0 || end < width {
            return Ok(());
        }
        let col = end - width;
        let mut bytes = format!("\x1b[{row};{}H\x1b[0;7m{BADGE}", col + 1).into_bytes();
        bytes.extend(s.attributes_formatted());
        bytes.extend(s.cursor_state_formatted());
        self.badge = Some((row - 1, col));
        self.out.write_all(&bytes)?;
        self.out.flush()
    }

    /// Puts back what the badge covered, from the screen model.
    fn hide_badge(&mut self) -> io::Result<()> {
        let Some((row, col)) = self.badge.take() else {
            return Ok(());
        };
        let s = self.screen.screen();
        let width = BADGE.len() as u16;
        // Cleared first: the model's row leaves blank cells as they are.
        let mut bytes = format!("\x1b[{};{}H\x1b[0m\x1b[{width}X", row + 1, col + 1).into_bytes();
        if let Some(cells) = s.rows_formatted(col, width).nth(usize::from(row)) {
            bytes.extend(cells);
        }
        bytes.extend(s.attributes_formatted());
        bytes.extend(s.cursor_state_formatted());
        self.out.write_all(&bytes)?;
        self.out.flush()
    }

    /// Before the terminal is given back: the badge gone, and where the replay left the
    /// cursor (a line of its own for the prompt).
    fn finish(&mut self) -> io::Result<()> {
        self.hide_badge()?;
        self.out.flush()?;
        let alt = self.screen.screen().alternate_screen();
        if alt {
            // The main screen's cursor, as it will be once the main screen is back.
            self.screen.process(b"\x1b[?1049l");
        }
        let at_line_start = self.screen.screen().cursor_position().1 == 0;
        self.terminal.note(alt, at_line_start);
        Ok(())
    }
}

/// What a person sees of a screen: its cells, which screen, and the cursor when shown.
#[derive(PartialEq, Eq)]
struct Visible {
    rows: Vec<Vec<u8>>,
    alt: bool,
    cursor: Option<(u16, u16)>,
}

impl Visible {
    fn of(s: &vt100::Screen) -> Self {
        Visible {
            rows: s.rows_formatted(0, s.size().1).collect(),
            alt: s.alternate_screen(),
            cursor: (!s.hide_cursor()).then(|| s.cursor_position()),
        }
    }
}
