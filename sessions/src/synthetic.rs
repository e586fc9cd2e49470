//! Long synthetic sessions, for tests and benchmarks (cargo feature `synthetic`): lines
//! of output gathered into events of a given size at a steady pace, then a screen of
//! their own to end on, stored straight through the store (as `fixcast import` does
//! after parsing, without a gigabyte of JSON to parse first). What the lines say is the
//! caller's: each test looks for something else on the screen.

use crate::asciicast::{Header, Recording};
use crate::{Event, EventKind, Result, SessionMeta, Store};

/// How a long session is laid out; the lines and the last screen are given to
/// [`long_session`].
#[derive(Debug, Clone)]
pub struct Long {
    /// Output to write, at least (the last event that reaches it is written whole).
    pub bytes: u64,
    /// Lines are gathered into one event until it holds this many bytes.
    pub event_bytes: usize,
    /// Microseconds from one event to the next, and to the first.
    pub step: u64,
    /// The first event's time, when not `step`.
    pub first: Option<u64>,
    /// Microseconds from the last line to the last screen.
    pub pause: u64,
}

impl Long {
    /// About `mb` MB of output, 64 KiB every 0.2 s, the last screen 1 s after.
    pub fn mb(mb: usize) -> Long {
        Long {
            bytes: mb as u64 * 1_000_000,
            event_bytes: 64 * 1024,
            step: 200_000,
            first: None,
            pause: 1_000_000,
        }
    }
}

/// What was stored.
#[derive(Debug, Clone)]
pub struct Built {
    pub meta: SessionMeta,
    /// Seconds, up to the last screen.
    pub duration: f64,
    /// Output bytes, the last screen's too.
    pub output_bytes: u64,
    /// Events, the last screen's too.
    pub events: usize,
    /// Lines written before the last screen.
    pub lines: u64,
}

/// Stores a session laid out as `long` under `meta` (its id, title, tags, terminal size):
/// `line(n)` is line `n` (from 1, with its line ending), `last(lines)` the output that
/// ends it.
pub fn long_session(
    store: &Store,
    meta: SessionMeta,
    long: &Long,
    mut line: impl FnMut(u64) -> String,
    last: impl FnOnce(u64) -> String,
) -> Result<Built> {
    let mut events = Vec::new();
    let (mut time, mut total, mut n) = (0u64, 0u64, 0u64);
    while total < long.bytes {
        let mut chunk = String::with_capacity(long.event_bytes + 256);
        while chunk.len() < long.event_bytes.max(1) {
            n += 1;
            chunk.push_str(&line(n));
        }
        total += chunk.len() as u64;
        time = match (events.is_empty(), long.first) {
            (true, Some(first)) => first,
            _ => time + long.step,
        };
        events.push(Event::new(time, EventKind::Output(chunk)));
    }
    time += long.pause;
    let end = last(n);
    total += end.len() as u64;
    events.push(Event::new(time, EventKind::Output(end)));
    let count = events.len();
    let rec = Recording {
        header: Header {
            cols: meta.term.cols,
            rows: meta.term.rows,
            ..Header::default()
        },
        events,
        damage: Vec::new(),
    };
    let meta = store.import(&rec, meta)?;
    Ok(Built {
        meta,
        duration: time as f64 / 1e6,
        output_bytes: total,
        events: count,
        lines: n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SessionId;

    #[test]
    fn a_long_session_is_laid_out_as_asked() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let long = Long {
            bytes: 100,
            event_bytes: 1,
            step: 1000,
            first: Some(0),
            pause: 1000,
        };
        let meta = SessionMeta::new(SessionId::generate(), 80, 24);
        let built = long_session(
            &store,
            meta,
            &long,
            |n| format!("{n:08}\r\n"),
            |n| format!("THE END {n}"),
        )
        .unwrap();
        // Ten lines of ten bytes, one an event, from 0 ms; the end 1 ms after the last.
        assert_eq!((built.lines, built.events), (10, 11));
        assert_eq!(built.output_bytes, 100 + "THE END 10".len() as u64);
        assert!((built.duration - 0.010).abs() < 1e-9, "{}", built.duration);
        let read = crate::read_cast(&store.cast_path(&built.meta.id)).unwrap();
        assert_eq!(read.events[0].time, 0);
        assert_eq!(read.events.len(), 11);
    }
}
