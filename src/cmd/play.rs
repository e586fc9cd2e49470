//! `fixcast play`: replays a session's output in the terminal, in time.
//!
//! On a terminal (standard input and output both), keys steer it: space pauses, `.`
//! steps while paused, `q` or Ctrl-C quits. Anywhere else the output is written at once.

mod tty;

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use fixcast_sessions::{Event, EventKind, Store};

use super::safe_replay::SafeReplay;
use super::{open_session, read_recording, warn};
use crate::cli::PlayArgs;
use tty::{Key, RawInput};

/// Exit status of a usage error, as clap gives.
const USAGE: u8 = 2;

pub fn run(store: Store, args: PlayArgs) -> anyhow::Result<ExitCode> {
    if let Err(msg) = check_args(&args) {
        eprintln!("fixcast: {msg}");
        return Ok(ExitCode::from(USAGE));
    }
    let listed = open_session(&store, &args.id)?;
    let mut contents = read_recording(&store, &listed.meta.id)?;
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
    let plan = Plan::new(&contents.events, args.at, args.speed, limit);
    let mut out = io::stdout().lock();
    if io::stdin().is_terminal() && io::stdout().is_terminal() {
        play_timed(&plan, &mut out)?;
    } else {
        for data in plan
            .before
            .iter()
            .chain(plan.frames.iter().map(|f| &f.data))
        {
            out.write_all(data.as_bytes())?;
        }
    }
    out.flush()?;
    if let Some(summary) = filter.and_then(|f| f.summary()) {
        warn(format_args!("not played: {summary} (--trust plays them)"));
    }
    Ok(ExitCode::SUCCESS)
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

/// What to write and when: the output before `--at` at once, then frames in time.
#[derive(Debug)]
struct Plan<'a> {
    before: Vec<&'a str>,
    frames: Vec<Frame<'a>>,
}

/// Output to write `at` after timed play started (speed and idle limit applied).
#[derive(Debug)]
struct Frame<'a> {
    at: Duration,
    data: &'a str,
}

/// The longest wait a plan holds (a very slow speed must not overflow a clock).
const MAX_WAIT: f64 = 1e9;

impl<'a> Plan<'a> {
    fn new(events: &'a [Event], at_secs: f64, speed: f64, limit: Option<f64>) -> Self {
        let start = (at_secs * 1e6).round().min(u64::MAX as f64) as u64;
        let mut before = Vec::new();
        let mut frames = Vec::new();
        let mut prev = start;
        let mut clock = 0.0f64;
        for ev in events {
            let EventKind::Output(data) = &ev.kind else {
                continue;
            };
            if ev.time < start {
                before.push(data.as_str());
                continue;
            }
            // Pauses are capped as they look: between outputs, whatever came in between.
            let mut gap = ev.time.saturating_sub(prev) as f64 / 1e6;
            if let Some(l) = limit {
                gap = gap.min(l);
            }
            prev = ev.time;
            clock = (clock + gap / speed).min(MAX_WAIT);
            frames.push(Frame {
                at: Duration::from_secs_f64(clock),
                data,
            });
        }
        Plan { before, frames }
    }
}

/// Plays on a terminal, with the keyboard in raw mode until the end (however it comes).
fn play_timed(plan: &Plan, out: &mut impl Write) -> anyhow::Result<()> {
    let stop = tty::stop_flag()?;
    let input = RawInput::enable()?;
    for data in &plan.before {
        out.write_all(data.as_bytes())?;
    }
    out.flush()?;
    // The playback clock: `base` at `since`, running unless paused.
    let mut base = Duration::ZERO;
    let mut since = Instant::now();
    let mut paused = false;
    let clock = |base: Duration, since: Instant, paused: bool| {
        if paused {
            base
        } else {
            base.saturating_add(since.elapsed())
        }
    };
    let mut next = 0;
    while next < plan.frames.len() && !tty::stopped(&stop) {
        let wait = if paused {
            None
        } else {
            let due = plan.frames[next]
                .at
                .saturating_sub(clock(base, since, paused));
            if due.is_zero() {
                // Write everything that is due in one go: a flood stays a flood.
                let now = clock(base, since, paused);
                while next < plan.frames.len() && plan.frames[next].at <= now {
                    out.write_all(plan.frames[next].data.as_bytes())?;
                    next += 1;
                }
                out.flush()?;
                continue;
            }
            Some(due)
        };
        for key in input.keys(wait)? {
            match key {
                Key::Quit => return finish(out, input),
                Key::Pause => {
                    base = clock(base, since, paused);
                    since = Instant::now();
                    paused = !paused;
                }
                Key::Step if paused && next < plan.frames.len() => {
                    out.write_all(plan.frames[next].data.as_bytes())?;
                    out.flush()?;
                    base = plan.frames[next].at;
                    next += 1;
                }
                Key::Step => {}
            }
        }
    }
    finish(out, input)
}

/// Leaves the terminal usable whatever the recording left it in: default colours, a
/// visible cursor, keys cooked again.
fn finish(out: &mut impl Write, input: RawInput) -> anyhow::Result<()> {
    let r = out.write_all(b"\x1b[0m\x1b[?25h").and_then(|_| out.flush());
    drop(input);
    Ok(r?)
}

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
    fn plan_writes_what_comes_before_at_at_once() {
        let evs = [out(0, "a"), out(1_000_000, "b"), out(3_000_000, "c")];
        let p = Plan::new(&evs, 2.0, 1.0, None);
        assert_eq!(p.before, ["a", "b"]);
        assert_eq!(times(&p), [1000]);
        let p = Plan::new(&evs, 100.0, 1.0, None);
        assert_eq!(p.before.len(), 3);
        assert!(p.frames.is_empty());
    }

    #[test]
    fn tiny_speeds_do_not_overflow() {
        let evs = [out(5_000_000, "a")];
        let p = Plan::new(&evs, 0.0, f64::MIN_POSITIVE, None);
        assert_eq!(p.frames[0].at, Duration::from_secs_f64(MAX_WAIT));
    }
}
