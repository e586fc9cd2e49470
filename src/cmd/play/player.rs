//! Timed play on a terminal: the clock, the keys, and a screen model run alongside what
//! is written (see `model`): to step to the next visible change, to redraw an earlier
//! moment, to put back what the paused badge covered, and to give the terminal back from
//! the state the replay left.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use super::model::Model;
use super::restore::{reset_sequence, Terminal};
use super::tty::{Key, RawInput, Stop};
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
    let stop = Stop::on_signals()?;
    let terminal = Terminal::take(keys)?;
    let mut player = Player::new(plan, io::stdout().lock(), &terminal);
    let ending = if keys {
        player.run(&RawInput::new(), &stop)
    } else {
        player.write_all(&stop)
    };
    let finished = player.finish();
    let model_lost = player.screen.lost();
    drop(player);
    let given_back = terminal.give_back();
    let ending = ending.map_err(|e| anyhow::anyhow!("cannot write to the terminal: {e}"))?;
    // After a hangup there is no terminal left to reset: the signal is the news.
    if !matches!(ending, Ending::Signal(_)) {
        finished
            .and(given_back)
            .map_err(|e| anyhow::anyhow!("cannot reset the terminal: {e}"))?;
    }
    if keys && model_lost {
        super::warn(
            "the screen emulator failed on this recording: `.` stepped event by event, \
             and going back replayed from the start",
        );
    }
    Ok(ending)
}

struct Player<'p, 'a, W: Write> {
    plan: &'p Plan<'a>,
    out: W,
    terminal: &'p Terminal,
    /// What the terminal shows.
    screen: Model,
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
        Player {
            plan,
            out,
            terminal,
            screen: Model::new(plan.size),
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
    fn write_all(&mut self, stop: &Stop) -> io::Result<Ending> {
        for i in 0..self.plan.frames.len() {
            if let Some(sig) = stop.signal() {
                return Ok(Ending::Signal(sig));
            }
            self.write_frame(i)?;
        }
        self.out.flush()?;
        Ok(Ending::End)
    }

    fn run(&mut self, input: &RawInput<io::Stdin>, stop: &Stop) -> io::Result<Ending> {
        self.jump(self.plan.start)?;
        loop {
            if let Some(sig) = stop.signal() {
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
            for key in input.keys(wait, stop)? {
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
        if let Act::Output(data) = f.act {
            self.out.write_all(data.as_bytes())?;
        }
        self.screen.apply(f.act);
        self.next = i + 1;
        self.pos = self.pos.max(f.time);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()?;
        // Only the panic path needs this: the others end through `finish`.
        self.terminal.note(self.screen.alt_screen(), false);
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

    /// Draws the screen as it was before frame `target`, from a model fed up to there; if
    /// the model cannot be had, the terminal replays everything up to there itself.
    fn redraw_at(&mut self, target: usize) -> io::Result<()> {
        let was_alt = self.screen.alt_screen();
        let mut model = Model::new(self.plan.size);
        for f in &self.plan.frames[..target] {
            model.apply(f.act);
        }
        let drawn = model.drawn_over(was_alt);
        self.screen = model;
        self.next = target;
        self.pos = 0;
        if let Some(bytes) = drawn {
            return self.out.write_all(&bytes);
        }
        self.out.write_all(&reset_sequence(was_alt))?;
        self.out.write_all(b"\x1b[H\x1b[2J")?;
        for f in &self.plan.frames[..target] {
            if let Act::Output(data) = f.act {
                self.out.write_all(data.as_bytes())?;
            }
        }
        Ok(())
    }

    /// `.`: writes frames until one changes what the screen shows, then stops there.
    fn step(&mut self) -> io::Result<()> {
        let before = self.screen.visible();
        while self.next < self.plan.frames.len() {
            let at = self.plan.frames[self.next].at;
            self.write_frame(self.next)?;
            self.base = at;
            // Without a model, each event is a step.
            if before.is_none() || self.screen.visible() != before {
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
        let Some((rows, cols)) = self.screen.size() else {
            return Ok(());
        };
        let (tcols, trows) = fixcast_recorder::tty::size_of(io::stdout()).unwrap_or((cols, rows));
        let (row, end) = (rows.min(trows), cols.min(tcols));
        let width = BADGE.len() as u16;
        if row == 0 || end < width {
            return Ok(());
        }
        let col = end - width;
        let Some(back) = self.screen.cursor_and_colours() else {
            return Ok(());
        };
        let mut bytes = format!("\x1b[{row};{}H\x1b[0;7m{BADGE}", col + 1).into_bytes();
        bytes.extend(back);
        self.badge = Some((row - 1, col));
        self.out.write_all(&bytes)?;
        self.out.flush()
    }

    /// Puts back what the badge covered, from the screen model.
    fn hide_badge(&mut self) -> io::Result<()> {
        let Some((row, col)) = self.badge.take() else {
            return Ok(());
        };
        let width = BADGE.len() as u16;
        // Cleared first: the model's row leaves blank cells as they are.
        let mut bytes = format!("\x1b[{};{}H\x1b[0m\x1b[{width}X", row + 1, col + 1).into_bytes();
        bytes.extend(self.screen.cells(row, col, width).unwrap_or_default());
        bytes.extend(self.screen.cursor_and_colours().unwrap_or_default());
        self.out.write_all(&bytes)?;
        self.out.flush()
    }

    /// Before the terminal is given back: the badge gone, and where the replay left the
    /// cursor (a line of its own for the prompt).
    fn finish(&mut self) -> io::Result<()> {
        self.hide_badge()?;
        self.out.flush()?;
        let (alt, at_line_start) = self.screen.ending();
        self.terminal.note(alt, at_line_start);
        Ok(())
    }
}
