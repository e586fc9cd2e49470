//! `fixcast play`: replays a session's output in the terminal, in time.
//!
//! On a terminal (standard input and output both), keys steer it: space pauses (a
//! "paused" badge shows at the bottom right), `.` steps to the next change on the screen,
//! `]` and `[` jump to the next and previous command, `q` or Ctrl-C quits. Anywhere else
//! the output is written at once. On a terminal, whichever way it ends, the terminal is
//! given back as it was found (see `restore`).

mod model;
mod player;
mod restore;
mod tty;

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use fixcast_recorder::SafeReplay;
use fixcast_sessions::asciicast::Recording;
use fixcast_sessions::{Event, EventKind, Listed, Store};

use super::commands::{session_commands, Output};
use super::{open_session, read_recording, warn};
use crate::cli::PlayArgs;
use player::Ending;

/// Exit status of a usage error, as clap gives.
const USAGE: u8 = 2;

pub fn run(store: Store, args: PlayArgs) -> anyhow::Result<ExitCode> {
    if let Err(msg) = check_args(&args) {
        eprintln!("fixcast: {msg}");
        return Ok(ExitCode::from(USAGE));
    }
    let listed = open_session(&store, &args.id)?;
    let mut contents = read_recording(&store, &listed.meta.id)?;
    let chapters = chapters(&store, &listed, &contents);
    // Drawing only, unless the viewer trusts where the recording comes from.
    let mut filter = (!args.trust).then(SafeReplay::default);
    if let Some(f) = &mut filter {
        for ev in &mut contents.events {
            if let EventKind::Output(data) = &mut ev.kind {
                *data = f.filter(data);
            }
        }
    }
    let limit = args
        .idle_time_limit
        .or(contents.header.idle_time_limit)
        .or(listed.meta.idle_time_limit)
        .filter(|l| l.is_finite() && *l > 0.0);
    let plan = Plan::new(&contents.events, args.at, args.speed, limit)
        .with_chapters(chapters)
        .with_size(contents.header.cols, contents.header.rows);
    let ending = if io::stdout().is_terminal() {
        warn_if_larger(&contents);
        player::play(&plan, io::stdin().is_terminal())?
    } else {
        let mut out = io::stdout().lock();
        for f in &plan.frames {
            if let Act::Output(data) = f.act {
                out.write_all(data.as_bytes())?;
            }
        }
        out.flush()?;
        Ending::End
    };
    // After the terminal is given back, on a line of its own.
    if let Some(summary) = filter.and_then(|f| f.summary()) {
        warn(format_args!("not played: {summary} (--trust plays them)"));
    }
    Ok(match ending {
        Ending::End | Ending::Quit => ExitCode::SUCCESS,
        // As a shell reports a program a signal ended.
        Ending::Signal(sig) => ExitCode::from(128u8.saturating_add(sig as u8)),
    })
}

/// When each command starts: the session's commands, and the recording's own markers (an
/// imported recording may have chapters and no commands fixcast can cut).
fn chapters(store: &Store, listed: &Listed, contents: &Recording) -> Vec<u64> {
    let mut starts: Vec<u64> = contents
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Marker(_)))
        .map(|e| e.time)
        .collect();
    // A recording that cannot be cut still plays, with its markers alone.
    if let Ok(commands) = session_commands(store, &listed.meta, Some(contents), Output::Skip) {
        starts.extend(commands.iter().map(|c| (c.start * 1e6).round() as u64));
    }
    starts
}

/// Says so when the recording does not fit this terminal: it would wrap, or scroll.
fn warn_if_larger(contents: &Recording) {
    let (mut cols, mut rows) = (contents.header.cols, contents.header.rows);
    for e in &contents.events {
        if let EventKind::Resize { cols: c, rows: r } = e.kind {
            cols = cols.max(c);
            rows = rows.max(r);
        }
    }
    if let Some((tc, tr)) = fixcast_recorder::tty::size_of(io::stdout()) {
        if cols > tc || rows > tr {
            warn(format_args!(
                "recording is {cols}\u{d7}{rows}, this terminal is {tc}\u{d7}{tr}: the replay will wrap"
            ));
        }
    }
}

fn check_args(args: &PlayArgs) -> Result<(), String> {
    if !(args.speed.is_finite() && args.speed > 0.0) {
        return Err(format!(
            "--speed must be a number above 0, not {}",
            args.speed
        ));
    }
    if let Some(l) = args.idle_time_limit {
        if !(l.is_finite() && l > 0.0) {
            return Err(format!(
                "--idle-time-limit must be a number of seconds above 0, not {l}"
            ));
        }
    }
    if !(args.at.is_finite() && args.at >= 0.0) {
        return Err(format!(
            "--at must be a number of seconds from 0 up, not {}",
            args.at
        ));
    }
    Ok(())
}

/// What to write and when: every output of the recording (and its resizes, which the
/// screen model follows), on one playback clock from the recording's start; `--at`, and
/// the jumps from command to command, move along it.
#[derive(Debug)]
pub struct Plan<'a> {
    frames: Vec<Frame<'a>>,
    /// Where play starts (`--at`), in microseconds of the recording.
    start: u64,
    /// When each command starts, in microseconds of the recording, in order.
    chapters: Vec<u64>,
    /// The recording's size at its start, `(cols, rows)`.
    size: (u16, u16),
    speed: f64,
    limit: Option<f64>,
}

/// One step of the recording, due `at` on the playback clock (speed and idle limit
/// applied).
#[derive(Debug)]
struct Frame<'a> {
    at: Duration,
    /// Microseconds into the recording.
    time: u64,
    act: Act<'a>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Act<'a> {
    Output(&'a str),
    Resize { cols: u16, rows: u16 },
}

/// The longest wait a plan holds (a very slow speed must not overflow a clock).
const MAX_WAIT: f64 = 1e9;

impl<'a> Plan<'a> {
    fn new(events: &'a [Event], at_secs: f64, speed: f64, limit: Option<f64>) -> Self {
        let mut plan = Plan {
            frames: Vec::new(),
            start: (at_secs * 1e6).round().min(u64::MAX as f64) as u64,
            chapters: Vec::new(),
            size: (80, 24),
            speed,
            limit,
        };
        let mut prev = 0;
        let mut clock = 0.0f64;
        for ev in events {
            let act = match &ev.kind {
                EventKind::Output(data) => Act::Output(data),
                &EventKind::Resize { cols, rows } => Act::Resize { cols, rows },
                _ => continue,
            };
            // Pauses are capped as they look: between outputs, whatever came in between.
            if let Act::Output(_) = act {
                clock = (clock + plan.wait(ev.time.saturating_sub(prev))).min(MAX_WAIT);
                prev = ev.time;
            }
            plan.frames.push(Frame {
                at: Duration::from_secs_f64(clock),
                time: ev.time,
                act,
            });
        }
        plan
    }

    /// The chapters to jump between: when each command starts, in microseconds.
    fn with_chapters(mut self, mut starts: Vec<u64>) -> Self {
        starts.sort_unstable();
        // A marker and its command are the same chapter.
        starts.dedup_by(|later, earlier| *later - *earlier < CHAPTER_GAP);
        self.chapters = starts;
        self
    }

    fn with_size(mut self, cols: u16, rows: u16) -> Self {
        self.size = (cols, rows);
        self
    }

    /// The playback time of a wait of `micros` in the recording.
    fn wait(&self, micros: u64) -> f64 {
        let mut gap = micros as f64 / 1e6;
        if let Some(l) = self.limit {
            gap = gap.min(l);
        }
        gap / self.speed
    }

    /// The first frame after `time`: a moment includes what happens at it (a command's
    /// chapter starts with the output that holds its mark).
    fn index_after(&self, time: u64) -> usize {
        self.frames.partition_point(|f| f.time <= time)
    }

    /// The playback clock at `time` in the recording: as long before the next frame as the
    /// recording waits until it (capped, at speed), so a jump keeps the pause ahead.
    fn clock_at(&self, time: u64) -> Duration {
        match self.frames.get(self.index_after(time)) {
            Some(f) => f.at.saturating_sub(Duration::from_secs_f64(
                self.wait(f.time - time).min(MAX_WAIT),
            )),
            None => self.frames.last().map_or(Duration::ZERO, |f| f.at),
        }
    }

    /// The first chapter after `pos`.
    fn next_chapter(&self, pos: u64) -> Option<u64> {
        self.chapters.iter().copied().find(|&c| c > pos)
    }

    /// The start of the chapter `pos` is in; the one before if `pos` is just past its start
    /// (a second in), or the recording's start before the first.
    fn prev_chapter(&self, pos: u64) -> u64 {
        let mut earlier = self.chapters.iter().copied().filter(|&c| c < pos).rev();
        match earlier.next() {
            Some(c) if pos - c >= REWIND_GRACE => c,
            Some(_) => earlier.next().unwrap_or(0),
            None => 0,
        }
    }
}

/// Chapters closer than this (in microseconds) are one.
const CHAPTER_GAP: u64 = 50_000;

/// `[` this soon (in microseconds of the recording) after a command's start goes to the
/// command before, as a media player's "previous" does.
const REWIND_GRACE: u64 = 1_000_000;

#[cfg(test)]
mod tests {
    use super::*;

    fn out(t: u64, s: &str) -> Event {
        Event::new(t, EventKind::Output(s.into()))
    }

    fn times(p: &Plan) -> Vec<u128> {
        p.frames.iter().map(|f| f.at.as_millis()).collect()
    }

    #[test]
    fn plan_scales_by_speed_and_caps_idle_time() {
        let evs = [
            out(1_000_000, "a"),
            Event::new(1_500_000, EventKind::Marker("m".into())),
            out(2_000_000, "b"),
            out(12_000_000, "c"),
        ];
        assert_eq!(times(&Plan::new(&evs, 0.0, 1.0, None)), [1000, 2000, 12000]);
        assert_eq!(times(&Plan::new(&evs, 0.0, 2.0, None)), [500, 1000, 6000]);
        assert_eq!(
            times(&Plan::new(&evs, 0.0, 1.0, Some(2.0))),
            [1000, 2000, 4000]
        );
    }

    #[test]
    fn at_starts_with_what_comes_before_it_and_keeps_the_pause_ahead() {
        let evs = [out(0, "a"), out(1_000_000, "b"), out(3_000_000, "c")];
        let p = Plan::new(&evs, 2.0, 1.0, None);
        assert_eq!(p.index_after(p.start), 2);
        // "c" is a second after 2 s.
        assert_eq!((p.frames[2].at - p.clock_at(p.start)).as_millis(), 1000);
        let p = Plan::new(&evs, 2.0, 1.0, Some(0.2));
        assert_eq!((p.frames[2].at - p.clock_at(p.start)).as_millis(), 200);
        let p = Plan::new(&evs, 100.0, 1.0, None);
        assert_eq!(p.index_after(p.start), 3);
        assert_eq!(p.clock_at(p.start), p.frames[2].at);
    }

    #[test]
    fn chapters_go_forward_and_back_like_a_media_player() {
        let p = Plan::new(&[], 0.0, 1.0, None)
            .with_chapters(vec![5_000_000, 2_000_000, 2_010_000, 9_000_000]);
        // A marker and its command, 10 ms apart, are one chapter.
        assert_eq!(p.chapters, [2_000_000, 5_000_000, 9_000_000]);
        assert_eq!(p.next_chapter(0), Some(2_000_000));
        assert_eq!(p.next_chapter(2_000_000), Some(5_000_000));
        assert_eq!(p.next_chapter(9_000_000), None);
        // Inside a command: its start; just after its start: the one before.
        assert_eq!(p.prev_chapter(7_000_000), 5_000_000);
        assert_eq!(p.prev_chapter(5_500_000), 2_000_000);
        assert_eq!(p.prev_chapter(2_500_000), 0);
        assert_eq!(p.prev_chapter(1_000_000), 0);
    }

    #[test]
    fn tiny_speeds_do_not_overflow() {
        let evs = [out(5_000_000, "a")];
        let p = Plan::new(&evs, 0.0, f64::MIN_POSITIVE, None);
        assert_eq!(p.frames[0].at, Duration::from_secs_f64(MAX_WAIT));
    }
}
