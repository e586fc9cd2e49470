//! Where a command's output is rendered again from its recording, for a snippet: the
//! index keeps no copy of most output, the recording has it (the rendering itself is the
//! recorder's `outputs_again`).
//!
//! A command's output text is its own screen's, opened afresh when it starts, so it does
//! not depend on what came before: a fresh cutter fed the recording from a little before
//! the command cuts it again with the same text. From the end of the command before it
//! for one the shell reported (its marks follow), from its own Enter for one cut at Enter.
//! The index keeps that moment with each command, so a search renders a hit without
//! reading its session's commands.

use crate::command::{CommandRecord, CommandSource};

/// A command to render again, and where in the recording its rendering starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Again {
    /// What rendering it again needs of it (no output): its seq, start, end and source,
    /// and the terminal's size when it started.
    pub record: CommandRecord,
    /// Microseconds into the recording (see [`again_from`]); 0 reads from the start.
    pub from: u64,
}

/// How long after its recorded end a command is read for (µs): one cut at Enter ends
/// when the next Enter's line break is printed.
pub const END_SLACK: u64 = 5_000_000;

/// Where command `i` of a session's `commands` (in order) is rendered again from, in
/// microseconds: 0 when the recording's start is needed (the first command the shell
/// reported, or one whose terminal size is not known, which is then tracked from the
/// start).
pub fn again_from(commands: &[CommandRecord], i: usize) -> u64 {
    let Some(c) = commands.get(i) else {
        return 0;
    };
    if c.size.is_none() {
        return 0;
    }
    match (c.source, i.checked_sub(1).and_then(|b| commands.get(b))) {
        (CommandSource::Heuristic, _) => micros(c.start),
        (CommandSource::Integration, Some(before)) => micros(before.end.min(c.start)),
        (CommandSource::Integration, None) => 0,
    }
}

/// Commands to render again and the part of the recording to read for them.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub wanted: Vec<Again>,
    /// Read from here (µs): the earliest `from`.
    pub from: u64,
    /// ... to here (µs): past the last one's end by [`END_SLACK`].
    pub until: u64,
}

impl Plan {
    /// The plan for `wanted` (commands of one session); `None` when it is empty.
    pub fn of(wanted: Vec<Again>) -> Option<Plan> {
        let from = wanted.iter().map(|w| w.from).min()?;
        let end = wanted.iter().map(|w| micros(w.record.end)).max()?;
        Some(Plan {
            from,
            until: end.saturating_add(END_SLACK),
            wanted,
        })
    }
}

/// Seconds as the recording's whole microseconds (0 for a negative or not-a-number time).
pub fn micros(secs: f64) -> u64 {
    (secs.max(0.0) * 1e6).round().min(u64::MAX as f64) as u64
}
