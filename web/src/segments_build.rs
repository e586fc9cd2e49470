//! Building a session's segments: the recording replayed through `vt100` once, cut every
//! [`SEGMENT_BYTES`] of output, each cut's screen kept as its segment's snapshot (see the
//! parent module for where they are kept).

use std::io::Write;

use fixcast_sessions::{
    emulated_size, write_atomic, write_atomic_with, CacheKey, Event, EventKind, Session,
};
use serde_json::json;

use super::read::{pack_snapshots, Prefixes};
use super::{io_err, Built, Entry, DATA_FILE, INDEX_FILE, SEGMENT_BYTES, VERSION};
use super::{SNAPSHOT_GROUP, SNAPSHOT_LEVEL};
use crate::error::{Error, Result};

/// The segment being filled.
pub(super) struct Segment {
    start: f64,
    snapshot: String,
    events: String,
    count: usize,
    bytes: usize,
    last: u64,
    /// The recording's event (counting every kind) it starts with.
    first: u64,
    /// Whether its events are only counted, not kept (a build keeps the snapshots alone:
    /// writing each event's JSON took a third of its time).
    counted: bool,
}

impl Segment {
    fn new(start: f64, cols: u16, rows: u16, init: String) -> Segment {
        Segment::with_snapshot(
            start,
            json!({ "cols": cols, "rows": rows, "init": init }).to_string(),
        )
    }

    pub(super) fn with_snapshot(start: f64, snapshot: String) -> Segment {
        Segment {
            start,
            snapshot,
            events: String::new(),
            count: 0,
            bytes: 0,
            last: 0,
            first: 0,
            counted: false,
        }
    }

    fn push(&mut self, time: u64, code: &str, data: &str) {
        if !self.counted {
            if self.count > 0 {
                self.events.push(',');
            }
            let ev = json!([secs(time), code, data]);
            self.events.push_str(&ev.to_string());
        }
        self.count += 1;
        self.bytes += data.len();
        self.last = time;
    }

    /// Adds an event as the player takes it; false for one it does not (markers, input).
    pub(super) fn push_event(&mut self, ev: &Event) -> bool {
        match &ev.kind {
            EventKind::Output(s) => self.push(ev.time, "o", s),
            // The player is told the recorded size; only the emulation is clamped.
            EventKind::Resize { cols, rows } => self.push(ev.time, "r", &format!("{cols}x{rows}")),
            _ => return false,
        }
        true
    }

    /// A segment holds one event at least (the player's format wants one).
    pub(super) fn finish(&mut self) {
        if self.count == 0 {
            self.push(0, "o", "");
        }
    }

    pub(super) fn json(&self) -> String {
        format!(
            "{{\"snapshot\":{},\"events\":[{}]}}",
            self.snapshot, self.events
        )
    }
}

fn secs(micros: u64) -> f64 {
    micros as f64 / 1_000_000.0
}

/// The segments of a recording's asciicast text (decompressed), each as the JSON the
/// player downloads, cut every `segment_bytes` of output; as far as the text parses. What
/// the server serves, without the cache: for the fuzz target (`fuzz/`) and tests.
pub fn segments_of(text: &[u8], segment_bytes: usize) -> Vec<String> {
    let Ok(mut stream) = fixcast_sessions::asciicast::CastStream::open(text) else {
        return Vec::new();
    };
    let bounded = |n: u16| Some(n).filter(|&n| n > 0 && n <= fixcast_sessions::MAX_SIDE);
    let size = {
        let h = stream.header();
        (bounded(h.cols).unwrap_or(80), bounded(h.rows).unwrap_or(24))
    };
    let mut segments = Vec::new();
    let _ = cut(
        size,
        segment_bytes.max(1),
        true,
        || Ok(stream.next_event().ok().flatten()),
        |seg| {
            segments.push(seg.json());
            Ok(())
        },
    );
    segments
}

/// Replays events through a `vt100` screen and hands `flush` each segment, in order
/// (finished: see [`Segment::finish`]), cut every `segment_bytes` of output only between
/// events of different times, as the player requires; the recording's duration. The
/// segments hold their events only if `events` (else they are counted).
fn cut(
    (mut cols, mut rows): (u16, u16),
    segment_bytes: usize,
    events: bool,
    mut next: impl FnMut() -> Result<Option<Event>>,
    mut flush: impl FnMut(&Segment) -> Result<()>,
) -> Result<f64> {
    // The player is told the recorded sizes; the snapshots are drawn at the size `vt100`
    // is safe at (a 1-row or 1-column terminal is emulated at 2).
    let emulated = |cols, rows| {
        let (c, r) = emulated_size(cols, rows);
        (r, c)
    };
    let (r, c) = emulated(cols, rows);
    let mut screen = vt100::Parser::new(r, c, 0);
    let mut seg = Segment::new(0.0, cols, rows, String::new());
    seg.counted = !events;
    let mut index = 0u64;
    while let Some(ev) = next()? {
        index += 1;
        if !matches!(ev.kind, EventKind::Output(_) | EventKind::Resize { .. }) {
            continue;
        }
        if seg.count > 0 && seg.bytes >= segment_bytes && ev.time > seg.last {
            flush(&seg)?;
            let init = String::from_utf8_lossy(&screen.screen().contents_formatted()).into_owned();
            seg = Segment::new(secs(ev.time), cols, rows, init);
            (seg.first, seg.counted) = (index - 1, !events);
        }
        match &ev.kind {
            EventKind::Output(s) => screen.process(s.as_bytes()),
            EventKind::Resize { cols: c, rows: r } => {
                (cols, rows) = (*c, *r);
                let (r, c) = emulated(cols, rows);
                screen.screen_mut().set_size(r, c);
            }
            _ => {}
        }
        seg.push_event(&ev);
    }
    seg.finish();
    let duration = secs(seg.last);
    flush(&seg)?;
    Ok(duration)
}

/// A session's segments as built: the snapshots held in memory (`Some`) for a recording
/// of less than `disk_from` bytes of output, else written to the data file (`None`).
pub(super) struct Made {
    pub(super) built: Built,
    pub(super) snapshots: Option<Vec<String>>,
}

/// Where a segment's first event is: its line's place in its frame's text, the time
/// before it, its frame and that frame's offset.
type Place = (u64, u64, usize, u64);

/// Builds the segments in one pass through `vt100`. A recording of less than `disk_from`
/// bytes of output keeps its snapshots in memory and writes nothing (the caller removes
/// a cache left of it, see `Cache::drop_stale`); a longer one's are packed into the data
/// file (see [`write_snapshots`]) and the index written beside it.
pub(super) fn build(session: Session<'_>, key: CacheKey, disk_from: u64) -> Result<Made> {
    // The store's reader: whole events, as far as they go past any damage.
    let mut reader = session.cast_reader()?;
    let tracked = reader.track_lines();
    let (mut cols, mut rows) = (80u16, 24u16);
    if let Some(h) = reader.header()? {
        let size = |n: u16| Some(n).filter(|&n| n > 0 && n <= 1000);
        cols = size(h.cols).unwrap_or(80);
        rows = size(h.rows).unwrap_or(24);
    }
    // (start, first event) and the snapshot of each segment; the place of the event
    // just read, of the first one, and of each segment's first but the first's.
    let mut cuts: Vec<(f64, u64)> = Vec::new();
    let mut snapshots: Vec<String> = Vec::new();
    let mut events = 0u64;
    let current = std::cell::Cell::new((0u64, 0u64, 0usize, 0u64));
    let (mut first_place, mut last_time) = ((0u64, 0u64), 0u64);
    let mut starts: Vec<Place> = Vec::new();
    let mut output = 0u64;
    let duration = cut(
        (cols, rows),
        SEGMENT_BYTES,
        false,
        || {
            let Some((ev, at)) = reader.next_event_at()? else {
                return Ok(None);
            };
            // The last frame begun at or before it holds it (see `frames` below).
            let begun = reader.decoder().frames();
            let k = begun.partition_point(|f| f.0 <= events);
            let (frame, offset) = if k == 0 { (0, 0) } else { (k, begun[k - 1].1) };
            current.set((at, last_time, frame, offset));
            if events == 0 {
                first_place = (at, 0);
            }
            last_time = ev.time;
            events += 1;
            Ok(Some(ev))
        },
        |seg| {
            // Flushed as the next segment begins, at the event just read.
            starts.push(current.get());
            cuts.push((seg.start, seg.first));
            snapshots.push(seg.snapshot.clone());
            output += seg.bytes as u64;
            Ok(())
        },
    )?;
    let fast = tracked && reader.damage().is_empty();
    // Each frame as (events before it, its offset); the file's start is frame 0.
    let mut frames = vec![(0u64, 0u64)];
    frames.extend_from_slice(reader.decoder().frames());
    let ends: Vec<u64> = cuts.iter().skip(1).map(|c| c.1).chain([events]).collect();
    let mut segments: Vec<Entry> = cuts
        .iter()
        .zip(ends)
        .zip(&snapshots)
        .enumerate()
        .map(|(i, ((&(start, first), end), snapshot))| {
            // The last frame begun at or before its first event holds it.
            let frame = frames.partition_point(|f| f.0 <= first) - 1;
            let (text_at, base) = match i {
                0 => first_place,
                _ => (starts[i - 1].0, starts[i - 1].1),
            };
            Entry {
                text_at: fast.then_some(text_at),
                base,
                start,
                offset: 0,
                len: 0,
                within: 0,
                size: snapshot.len() as u64,
                frame,
                at: frames[frame].1,
                skip: first - frames[frame].0,
                count: end - first,
                prefix: 0,
            }
        })
        .collect();
    let index = session.derived_path(INDEX_FILE);
    let on_disk = output >= disk_from;
    if on_disk {
        write_snapshots(session, fast, &snapshots, &starts, &mut segments)?;
    }
    let built = Built {
        version: VERSION,
        key,
        cols,
        rows,
        duration,
        segments,
        output: Some(output),
    };
    if on_disk {
        write_index(&index, &built)?;
        return Ok(Made {
            built,
            snapshots: None,
        });
    }
    Ok(Made {
        built,
        snapshots: Some(snapshots),
    })
}

/// Writes the snapshots to the data file and says in `segments` where each one is: each
/// compressed against the recording's text before its segment (`starts[i - 1]` is where
/// segment `i` starts) when the recording is undamaged (`fast`) and that text is where
/// its events said, else on their own, [`SNAPSHOT_GROUP`] to a frame.
fn write_snapshots(
    session: Session<'_>,
    fast: bool,
    snapshots: &[String],
    starts: &[Place],
    segments: &mut [Entry],
) -> Result<()> {
    let data = session.derived_path(DATA_FILE);
    if fast {
        let mut prefixes = Prefixes::new(session.cast_path());
        let mut places = Vec::with_capacity(snapshots.len());
        // Written whole or not at all.
        let written = write_atomic_with(&data, |out| {
            let (mut written, mut prefix) = (0u64, Vec::new());
            for (i, snapshot) in snapshots.iter().enumerate() {
                prefix.clear();
                if i > 0 {
                    let (text_at, _, frame, offset) = starts[i - 1];
                    if !prefixes.before(frame, offset, text_at, &mut prefix) {
                        return Ok(false);
                    }
                }
                let packed = pack_snapshots(snapshot.as_bytes(), &prefix).map_err(io_err(&data))?;
                out.write_all(&packed).map_err(io_err(&data))?;
                places.push((written, packed.len() as u64, prefix.len() as u64));
                written += packed.len() as u64;
            }
            Ok::<_, Error>(true)
        })?;
        if written {
            for (e, (offset, len, prefix)) in segments.iter_mut().zip(places) {
                (e.offset, e.len, e.within, e.prefix) = (offset, len, 0, prefix);
            }
            return Ok(());
        }
        // The text was not where its events said: snapshots on their own.
    }
    let mut places = Vec::with_capacity(snapshots.len());
    write_atomic_with(&data, |out| {
        let mut written = 0u64;
        for group in snapshots.chunks(SNAPSHOT_GROUP) {
            let packed = pack_snapshots(group.concat().as_bytes(), &[]).map_err(io_err(&data))?;
            out.write_all(&packed).map_err(io_err(&data))?;
            let mut within = 0u64;
            for s in group {
                places.push((written, packed.len() as u64, within));
                within += s.len() as u64;
            }
            written += packed.len() as u64;
        }
        Ok::<_, Error>(())
    })?;
    for (e, (offset, len, within)) in segments.iter_mut().zip(places) {
        (e.offset, e.len, e.within, e.prefix) = (offset, len, within, 0);
    }
    Ok(())
}

/// The index, as compressed JSON (a long session's is tens of KiB of numbers).
pub(super) fn write_index(path: &std::path::Path, built: &Built) -> Result<()> {
    let json = serde_json::to_vec(built).unwrap_or_default();
    let packed = zstd::encode_all(&json[..], SNAPSHOT_LEVEL).map_err(io_err(path))?;
    Ok(write_atomic(path, &packed)?)
}
