//! asciinema-player's segmented recording format (3.17+): an index
//! `{version: 1, duration, term, markers, segments: [{start, url}]}` and segments
//! `{snapshot: {cols, rows, init}, events}`, where `init` is the screen at the segment's
//! start as escape codes (`vt100`'s formatted contents). A seek downloads one segment
//! and replays at most [`SEGMENT_BYTES`] of output, wherever it lands.
//!
//! Segments are derived data, cached where the store keeps a session's caches
//! ([`Session::derived_path`]) in `segments.v3.json.zst` (the index) and `segments.v3.bin`
//! (the segments' snapshots): only what cannot be had cheaply again. A snapshot is a
//! zstd frame of its own, compressed against the recording's text just before its
//! segment ([`PREFIX_BYTES`] of it, as a zstd prefix): a screen shows what was just
//! printed, so most of it is a match into that text and a snapshot costs tens of bytes
//! instead of hundreds. A request decodes that text anyway on its way to the segment's
//! first event. A segment's
//! events stay in the recording: the index says which zstd frame its first event is in
//! (its seek mark's offset, see `fixcast_sessions::frame_marks`) and how many events of
//! that frame come before it, and a request decodes them from there. The cache is keyed
//! like the commands cache by the recording's size and mtime; a recording compacted
//! since (the same events in the same frames, see `fixcast compact`) keeps it, its frames'
//! new offsets looked up once.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path as FsPath;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use fixcast_sessions::{
    compacted_from, contain, emulated_size, frame_marks, write_atomic, write_atomic_with, CacheKey,
    Event, EventKind, Session, SessionId, Status, Store,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::access::{blocking, load, session_commands};

#[path = "segments_read.rs"]
mod read;
use crate::error::{Error, Result};
use crate::AppState;
use read::{pack_snapshots, read_segment};

/// Output a segment holds before the next one starts: a seek replays at most this much
/// in the browser (a few milliseconds) and downloads about as much.
pub const SEGMENT_BYTES: usize = 512 * 1024;

const VERSION: u32 = 3;
const INDEX_FILE: &str = "segments.v3.json.zst";
const DATA_FILE: &str = "segments.v3.bin";
/// The caches of earlier versions, removed when this one is built.
const OLD_FILES: &[&str] = &["segments.v2.json.zst", "segments.v2.bin"];
/// A snapshot of a damaged recording (read event by event, no text to lean on) is
/// compressed with this many others (neighbouring screens share most of their text).
const SNAPSHOT_GROUP: usize = 16;
const SNAPSHOT_LEVEL: i32 = 19;
/// The recording's text (of the same frame) before a segment that its snapshot is
/// compressed against: a 200x50 screen is a few KiB of it, and indexing more costs the
/// build time (at level 19, about 10 ms for 64 KiB).
pub(crate) const PREFIX_BYTES: u64 = 64 << 10;
/// What a segment request reads of the recording at a time.
const READ_BYTES: usize = 256 << 10;

/// A session's segments as cached: where each one is in the data file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Built {
    version: u32,
    key: CacheKey,
    cols: u16,
    rows: u16,
    duration: f64,
    segments: Vec<Entry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    start: f64,
    /// Where its group of snapshots is in the data file, and its snapshot in the group.
    offset: u64,
    len: u64,
    within: u64,
    size: u64,
    /// The recording's frame its first event is in (0: the file's start) and that
    /// frame's offset (its seek mark's).
    frame: usize,
    at: u64,
    /// Events (of any kind) of that frame before the segment's first, and the events
    /// from its first on up to the next segment's (markers among them are left out).
    skip: u64,
    count: u64,
    /// Where the first event's line starts in its frame's text, and the time (µs) of the
    /// event before it: a request decompresses to there and parses only the segment's
    /// lines. `None` for a damaged recording, read event by event instead.
    #[serde(default)]
    text_at: Option<u64>,
    #[serde(default)]
    base: u64,
    /// How much of the frame's text before `text_at` the snapshot was compressed
    /// against (a zstd prefix); 0: none.
    #[serde(default)]
    prefix: u64,
}

/// Segments built or read in this process, and one build at a time.
#[derive(Default)]
pub(crate) struct Cache {
    built: Mutex<HashMap<SessionId, Arc<Built>>>,
    /// Recordings the screen emulator panicked on, as they were then, and why: asked
    /// again, the answer comes at once.
    failed: Mutex<HashMap<SessionId, (CacheKey, String)>>,
    building: Mutex<()>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn io_err(path: &FsPath) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| {
        Error::Store(fixcast_sessions::Error::Io {
            path: path.to_owned(),
            source,
        })
    }
}

impl Cache {
    /// Drops what this process holds of a session's segments: its recording turned out
    /// not to be the one they were made from.
    fn forget(&self, id: &SessionId) {
        lock(&self.built).remove(id);
    }

    /// The session's segments, built now if there is no fresh cache.
    fn get(&self, store: &Store, id: &SessionId) -> Result<Arc<Built>> {
        let session = store.session(id);
        let key = session.cast_key()?;
        if let Some(b) = lock(&self.built).get(id).filter(|b| b.key == key) {
            return Ok(b.clone());
        }
        let unreadable = |reason: String| {
            Error::Store(fixcast_sessions::Error::Unreadable {
                id: id.to_string(),
                what: "cut into segments",
                reason,
            })
        };
        if let Some((_, reason)) = lock(&self.failed).get(id).filter(|(k, _)| *k == key) {
            return Err(unreadable(reason.clone()));
        }
        let _one = lock(&self.building);
        let built = match read_index(session, &key) {
            Some(b) => b,
            // `vt100` may panic on a recording: that session is a 422, never the server.
            None => match contain(|| build(session, key.clone())) {
                Ok(b) => b?,
                Err(panic) => {
                    lock(&self.failed).insert(id.clone(), (key, panic.to_string()));
                    return Err(unreadable(panic.to_string()));
                }
            },
        };
        let built = Arc::new(built);
        lock(&self.built).insert(id.clone(), built.clone());
        Ok(built)
    }
}

fn read_index(session: Session<'_>, key: &CacheKey) -> Option<Built> {
    let path = session.derived_path(INDEX_FILE);
    let index = zstd::decode_all(&std::fs::read(&path).ok()?[..]).ok()?;
    let mut b: Built = serde_json::from_slice(&index).ok()?;
    let data = session.derived_path(DATA_FILE).is_file();
    if b.version != VERSION || !data {
        return None;
    }
    if b.key == *key {
        return Some(b);
    }
    // Compacted since it was built: the same events in the same frames, at new offsets.
    let cast = session.cast_path();
    let compacted =
        b.key.cast_mtime == key.cast_mtime && compacted_from(&cast).ok()? == Some(b.key.cast_size);
    if !compacted {
        return None;
    }
    let marks = frame_marks(&std::fs::read(&cast).ok()?);
    for e in &mut b.segments {
        e.at = marks.get(e.frame)?.offset;
    }
    b.key = key.clone();
    let _ = write_index(&path, &b);
    Some(b)
}

/// The segment being filled.
struct Segment {
    start: f64,
    snapshot: String,
    events: String,
    count: usize,
    bytes: usize,
    last: u64,
    /// The recording's event (counting every kind) it starts with.
    first: u64,
}

impl Segment {
    fn new(start: f64, cols: u16, rows: u16, init: String) -> Segment {
        Segment::with_snapshot(
            start,
            json!({ "cols": cols, "rows": rows, "init": init }).to_string(),
        )
    }

    fn with_snapshot(start: f64, snapshot: String) -> Segment {
        Segment {
            start,
            snapshot,
            events: String::new(),
            count: 0,
            bytes: 0,
            last: 0,
            first: 0,
        }
    }

    fn push(&mut self, time: u64, code: &str, data: &str) {
        if self.count > 0 {
            self.events.push(',');
        }
        let ev = json!([secs(time), code, data]);
        self.events.push_str(&ev.to_string());
        self.count += 1;
        self.bytes += data.len();
        self.last = time;
    }

    /// Adds an event as the player takes it; false for one it does not (markers, input).
    fn push_event(&mut self, ev: &Event) -> bool {
        match &ev.kind {
            EventKind::Output(s) => self.push(ev.time, "o", s),
            // The player is told the recorded size; only the emulation is clamped.
            EventKind::Resize { cols, rows } => self.push(ev.time, "r", &format!("{cols}x{rows}")),
            _ => return false,
        }
        true
    }

    /// A segment holds one event at least (the player's format wants one).
    fn finish(&mut self) {
        if self.count == 0 {
            self.push(0, "o", "");
        }
    }

    fn json(&self) -> String {
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
/// events of different times, as the player requires; the recording's duration.
fn cut(
    (mut cols, mut rows): (u16, u16),
    segment_bytes: usize,
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
            seg.first = index - 1;
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

fn build(session: Session<'_>, key: CacheKey) -> Result<Built> {
    for old in OLD_FILES {
        let _ = std::fs::remove_file(session.derived_path(old));
    }
    match build_with(session, key.clone(), true)? {
        Some(b) => Ok(b),
        // Damaged, or its text not as the index would say: snapshots on their own.
        None => Ok(build_with(session, key, false)?.expect("no prefixes, no retry")),
    }
}

/// Builds the segments, their snapshots compressed against the recording's text before
/// them when `prefixed`; `None` if that turned out not to hold (a damaged recording).
fn build_with(session: Session<'_>, key: CacheKey, prefixed: bool) -> Result<Option<Built>> {
    // The store's reader: whole events, as far as they go past any damage.
    let mut reader = session.cast_reader()?;
    let tracked = reader.track_lines();
    let (mut cols, mut rows) = (80u16, 24u16);
    if let Some(h) = reader.header()? {
        let size = |n: u16| Some(n).filter(|&n| n > 0 && n <= 1000);
        cols = size(h.cols).unwrap_or(80);
        rows = size(h.rows).unwrap_or(24);
    }
    let (term_cols, term_rows) = (cols, rows);
    let data = session.derived_path(DATA_FILE);
    // (start, first event, its snapshot's place in its group) of each segment, and
    // where each group of snapshots is in the data file (with the prefix it was
    // compressed against, when one is).
    let mut cuts: Vec<(f64, u64, u64, u64)> = Vec::new();
    let mut groups: Vec<(u64, u64, u64)> = Vec::new();
    let mut events = 0u64;
    // (where its line is in its frame, the time before it, its frame and that frame's
    // offset) of the event just read, of the first one, and of each segment's first but
    // the first's.
    let current = std::cell::Cell::new((0u64, 0u64, 0usize, 0u64));
    let (mut first_place, mut last_time) = ((0u64, 0u64), 0u64);
    let mut starts: Vec<(u64, u64)> = Vec::new();
    let mut prefixes = prefixed.then(|| read::Prefixes::new(session.cast_path()));
    // The prefix of the segment begun last (its snapshot is packed once it is flushed).
    let mut pending: Vec<u8> = Vec::new();
    // Written whole or not at all: a panic in `vt100` leaves no half-written file.
    let duration = write_atomic_with(&data, |out| {
        let mut group = String::new();
        let mut written = 0u64;
        let mut pack = |group: &mut String, prefix: &[u8]| -> Result<()> {
            let packed = pack_snapshots(group.as_bytes(), prefix).map_err(io_err(&data))?;
            out.write_all(&packed).map_err(io_err(&data))?;
            groups.push((written, packed.len() as u64, prefix.len() as u64));
            written += packed.len() as u64;
            group.clear();
            Ok(())
        };
        let duration = cut(
            (cols, rows),
            SEGMENT_BYTES,
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
                let (text_at, base, frame, offset) = current.get();
                starts.push((text_at, base));
                let at = group.len() as u64;
                group.push_str(&seg.snapshot);
                cuts.push((seg.start, seg.first, at, seg.snapshot.len() as u64));
                match prefixes.as_mut() {
                    Some(p) => {
                        pack(&mut group, &pending)?;
                        // The text before the segment begun now, for its snapshot.
                        pending.clear();
                        if !p.before(frame, offset, text_at, &mut pending) {
                            return Err(Error::Store(fixcast_sessions::Error::Unreadable {
                                id: String::new(),
                                what: "cut into segments",
                                reason: NO_PREFIX.into(),
                            }));
                        }
                    }
                    None if cuts.len().is_multiple_of(SNAPSHOT_GROUP) => {
                        pack(&mut group, &[])?;
                    }
                    None => {}
                }
                Ok(())
            },
        )?;
        if !group.is_empty() {
            pack(&mut group, &[])?;
        }
        Ok::<_, Error>(duration)
    });
    let duration = match duration {
        Err(Error::Store(fixcast_sessions::Error::Unreadable { reason, .. }))
            if reason == NO_PREFIX =>
        {
            return Ok(None);
        }
        d => d?,
    };
    let fast = tracked && reader.damage().is_empty();
    if prefixed && !fast {
        return Ok(None);
    }
    let per_group = if prefixed { 1 } else { SNAPSHOT_GROUP };
    // Each frame as (events before it, its offset); the file's start is frame 0.
    let mut frames = vec![(0u64, 0u64)];
    frames.extend_from_slice(reader.decoder().frames());
    let ends: Vec<u64> = cuts.iter().skip(1).map(|c| c.1).chain([events]).collect();
    let segments = cuts
        .iter()
        .zip(ends)
        .enumerate()
        .map(|(i, (&(start, first, within, size), end))| {
            // The last frame begun at or before its first event holds it.
            let frame = frames.partition_point(|f| f.0 <= first) - 1;
            let (offset, len, prefix) = groups[i / per_group];
            let (text_at, base) = match i {
                0 => first_place,
                _ => starts[i - 1],
            };
            Entry {
                text_at: fast.then_some(text_at),
                base,
                start,
                offset,
                len,
                within,
                size,
                frame,
                at: frames[frame].1,
                skip: first - frames[frame].0,
                count: end - first,
                prefix,
            }
        })
        .collect();
    let built = Built {
        version: VERSION,
        key,
        cols: term_cols,
        rows: term_rows,
        duration,
        segments,
    };
    write_index(&session.derived_path(INDEX_FILE), &built)?;
    Ok(Some(built))
}

/// What a build that found the recording's text not as its reader said fails with,
/// to be built again without prefixes.
const NO_PREFIX: &str = "the recording's text is not where its events are";

/// The index, as compressed JSON (a long session's is tens of KiB of numbers).
fn write_index(path: &FsPath, built: &Built) -> Result<()> {
    let json = serde_json::to_vec(built).unwrap_or_default();
    let packed = zstd::encode_all(&json[..], SNAPSHOT_LEVEL).map_err(io_err(path))?;
    Ok(write_atomic(path, &packed)?)
}

async fn built(state: &AppState, id: &SessionId) -> Result<Arc<Built>> {
    let (s, id) = (state.clone(), id.clone());
    blocking(move || s.inner.segments.get(s.store(), &id)).await
}

/// The player's segmented index: the screen size, the commands as markers (`[time,
/// label]`, as the player takes them) and where each segment starts.
#[derive(Serialize)]
struct SegmentIndex {
    version: u32,
    duration: f64,
    term: Term,
    markers: Vec<(f64, String)>,
    segments: Vec<SegmentLink>,
}

#[derive(Serialize)]
struct Term {
    cols: u16,
    rows: u16,
}

#[derive(Serialize)]
struct SegmentLink {
    start: f64,
    url: String,
}

/// `GET /api/sessions/{id}/segments`: the index, with the commands as markers.
pub async fn index(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response> {
    let meta = load(&state, id).await?;
    let b = built(&state, &meta.id).await?;
    let cmds = session_commands(&state, &meta, false)
        .await
        .unwrap_or_default();
    let mut markers: Vec<(f64, String)> = cmds
        .iter()
        .map(|c| (c.start.clamp(0.0, b.duration), marker_label(&c.command)))
        .collect();
    markers.sort_by(|a, b| a.0.total_cmp(&b.0));
    let segments = b
        .segments
        .iter()
        .enumerate()
        .map(|(i, s)| SegmentLink {
            start: s.start,
            url: format!("/api/sessions/{}/segments/{i}", meta.id),
        })
        .collect();
    let body = SegmentIndex {
        version: 1,
        duration: b.duration,
        term: Term {
            cols: b.cols,
            rows: b.rows,
        },
        markers,
        segments,
    };
    Ok(([(header::CACHE_CONTROL, "no-cache")], Json(body)).into_response())
}

/// A marker's label: the command's first line, not too long.
fn marker_label(command: &str) -> String {
    let first = command.lines().next().unwrap_or("");
    let mut s: String = first.chars().take(80).collect();
    if s.len() < first.len() || command.contains('\n') {
        s.push('…');
    }
    s
}

/// `GET /api/sessions/{id}/segments/{n}`.
pub async fn segment(
    State(state): State<AppState>,
    Path((id, n)): Path<(String, String)>,
) -> Result<Response> {
    let n: usize = n
        .parse()
        .map_err(|_| Error::BadRequest(format!("segment: {n:?} is not a segment number")))?;
    let meta = load(&state, id).await?;
    let session = state.store().session(&meta.id);
    let (cast, data) = (session.cast_path(), session.derived_path(DATA_FILE));
    let mut json = None;
    // A recording rewritten since the index was read (compacted, redacted) is looked at
    // again once: its index is then remapped or rebuilt.
    for _ in 0..2 {
        let b = built(&state, &meta.id).await?;
        let entry = b.segments.get(n).cloned().ok_or_else(|| {
            Error::NotFound(format!("session {}: no segment {n}", meta.id.short()))
        })?;
        let (cast, data) = (cast.clone(), data.clone());
        json = blocking(move || read_segment(cast, data, &entry)).await?;
        if json.is_some() {
            break;
        }
        state.inner.segments.forget(&meta.id);
    }
    let json = json.ok_or_else(|| {
        Error::Conflict(format!(
            "session {}: the recording changed while it was read; reload the page",
            meta.id.short()
        ))
    })?;
    let cache = if meta.status == Status::Recording {
        "no-cache"
    } else {
        "private, max-age=3600"
    };
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, cache),
        ],
        json,
    )
        .into_response())
}
