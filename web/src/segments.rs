//! asciinema-player's segmented recording format (3.17+): an index
//! `{version: 1, duration, term, markers, segments: [{start, url}]}` and segments
//! `{snapshot: {cols, rows, init}, events}`, where `init` is the screen at the segment's
//! start as escape codes (`vt100`'s formatted contents). A seek downloads one segment
//! and replays at most [`SEGMENT_BYTES`] of output, wherever it lands.
//!
//! Segments are derived data, cached where the store keeps a session's caches
//! ([`Session::derived_path`]) in `segments.v1.json` (the index with each segment's
//! place) and `segments.v1.bin` (each segment's JSON, zstd), keyed like the commands
//! cache by the recording's size and mtime.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path as FsPath, PathBuf};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use fixcast_sessions::{
    contain, emulated_size, write_atomic, write_atomic_with, CacheKey, EventKind, Session,
    SessionId, Status, Store,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::access::{blocking, load, session_commands};
use crate::error::{Error, Result};
use crate::AppState;

/// Output a segment holds before the next one starts: a seek replays at most this much
/// in the browser (a few milliseconds) and downloads about as much.
pub const SEGMENT_BYTES: usize = 512 * 1024;

const VERSION: u32 = 1;
const INDEX_FILE: &str = "segments.v1.json";
const DATA_FILE: &str = "segments.v1.bin";

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
    offset: u64,
    len: u64,
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
    let index = std::fs::read(session.derived_path(INDEX_FILE)).ok()?;
    let b: Built = serde_json::from_slice(&index).ok()?;
    let data = session.derived_path(DATA_FILE).is_file();
    (b.version == VERSION && b.key == *key && data).then_some(b)
}

/// The segment being filled.
struct Segment {
    start: f64,
    snapshot: String,
    events: String,
    count: usize,
    bytes: usize,
    last: u64,
}

impl Segment {
    fn new(start: f64, cols: u16, rows: u16, init: String) -> Segment {
        Segment {
            start,
            snapshot: json!({ "cols": cols, "rows": rows, "init": init }).to_string(),
            events: String::new(),
            count: 0,
            bytes: 0,
            last: 0,
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

/// Reads the recording once through a `vt100` screen, cutting a segment every
/// [`SEGMENT_BYTES`] of output (only between events of different times, as the player
/// requires), and writes the cache.
/// The segments of a recording's asciicast text (decompressed), each as the JSON the
/// player downloads, cut every `segment_bytes` of output; as far as the text parses. What
/// the server caches, without the cache: for the fuzz target (`fuzz/`) and tests.
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

/// Replays events through a `vt100` screen and hands `flush` each segment, in order, cut
/// every `segment_bytes` of output; the recording's duration.
fn cut(
    (mut cols, mut rows): (u16, u16),
    segment_bytes: usize,
    mut next: impl FnMut() -> Result<Option<fixcast_sessions::Event>>,
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
    while let Some(ev) = next()? {
        let (code, data) = match &ev.kind {
            EventKind::Output(s) => ("o", s.as_str()),
            EventKind::Resize { .. } => ("r", ""),
            _ => continue,
        };
        if seg.count > 0 && seg.bytes >= segment_bytes && ev.time > seg.last {
            flush(&seg)?;
            let init = String::from_utf8_lossy(&screen.screen().contents_formatted()).into_owned();
            seg = Segment::new(secs(ev.time), cols, rows, init);
        }
        match &ev.kind {
            EventKind::Output(s) => {
                screen.process(s.as_bytes());
                seg.push(ev.time, code, data);
            }
            EventKind::Resize { cols: c, rows: r } => {
                (cols, rows) = (*c, *r);
                let (r, c) = emulated(cols, rows);
                screen.screen_mut().set_size(r, c);
                // The player is told the recorded size; only the emulation is clamped.
                seg.push(ev.time, code, &format!("{cols}x{rows}"));
            }
            _ => {}
        }
    }
    if seg.count == 0 {
        seg.push(0, "o", "");
    }
    let duration = secs(seg.last);
    flush(&seg)?;
    Ok(duration)
}

fn build(session: Session<'_>, key: CacheKey) -> Result<Built> {
    // The store's reader: whole events, as far as they go past any damage.
    let mut reader = session.cast_reader()?;
    let (mut cols, mut rows) = (80u16, 24u16);
    if let Some(h) = reader.header()? {
        let size = |n: u16| Some(n).filter(|&n| n > 0 && n <= 1000);
        cols = size(h.cols).unwrap_or(80);
        rows = size(h.rows).unwrap_or(24);
    }
    let (term_cols, term_rows) = (cols, rows);
    let data = session.derived_path(DATA_FILE);
    let mut entries = Vec::new();
    // Written whole or not at all: a panic in `vt100` leaves no half-written file.
    let duration = write_atomic_with(&data, |out| {
        let mut written = 0u64;
        cut(
            (cols, rows),
            SEGMENT_BYTES,
            || Ok(reader.next_event()?),
            |seg| {
                let packed = zstd::encode_all(seg.json().as_bytes(), 3).map_err(io_err(&data))?;
                out.write_all(&packed).map_err(io_err(&data))?;
                entries.push(Entry {
                    start: seg.start,
                    offset: written,
                    len: packed.len() as u64,
                });
                written += packed.len() as u64;
                Ok(())
            },
        )
    })?;
    let built = Built {
        version: VERSION,
        key,
        cols: term_cols,
        rows: term_rows,
        duration,
        segments: entries,
    };
    let index = session.derived_path(INDEX_FILE);
    write_atomic(&index, &serde_json::to_vec(&built).unwrap_or_default())?;
    Ok(built)
}

fn read_segment(path: PathBuf, e: &Entry) -> Result<Vec<u8>> {
    let mut f = File::open(&path).map_err(io_err(&path))?;
    f.seek(SeekFrom::Start(e.offset)).map_err(io_err(&path))?;
    let mut packed = vec![0; e.len as usize];
    f.read_exact(&mut packed).map_err(io_err(&path))?;
    zstd::decode_all(&packed[..]).map_err(io_err(&path))
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
    let b = built(&state, &meta.id).await?;
    let entry =
        b.segments.get(n).cloned().ok_or_else(|| {
            Error::NotFound(format!("session {}: no segment {n}", meta.id.short()))
        })?;
    let data = state.store().session(&meta.id).derived_path(DATA_FILE);
    let json = blocking(move || read_segment(data, &entry)).await?;
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
