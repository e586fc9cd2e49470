//! asciinema-player's segmented recording format (3.17+): an index
//! `{version: 1, duration, term, markers, segments: [{start, url}]}` and segments
//! `{snapshot: {cols, rows, init}, events}`, where `init` is the screen at the segment's
//! start as escape codes (`vt100`'s formatted contents). A seek downloads one segment
//! and replays at most [`SEGMENT_BYTES`] of output, wherever it lands.
//!
//! Segments are derived data, cached beside the recording in `segments.v1.json` (the
//! index with each segment's place) and `segments.v1.bin` (each segment's JSON, zstd),
//! keyed like the commands cache by the recording's size and mtime.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path as FsPath, PathBuf};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use fixcast_sessions::asciicast::parse_v3_line;
use fixcast_sessions::{CacheKey, EventKind, SessionId, Status, Store};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::api::{blocking, load, session_commands};
use crate::error::{Error, Result};
use crate::AppState;

/// Output a segment holds before the next one starts: a seek replays at most this much
/// in the browser (a few milliseconds) and downloads about as much.
pub const SEGMENT_BYTES: usize = 512 * 1024;

/// The largest screen side replayed (a header beyond it is taken as 80x24, a resize
/// beyond it is clamped to it).
const MAX_SIDE: u16 = 1000;

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
        let cast = store.cast_path(id);
        let key = CacheKey::of(&cast)?;
        if let Some(b) = lock(&self.built).get(id).filter(|b| b.key == key) {
            return Ok(b.clone());
        }
        let dir = store.dir(id);
        let _one = lock(&self.building);
        let built = match read_index(&dir, &key) {
            Some(b) => b,
            None => build(&cast, &dir, key)?,
        };
        let built = Arc::new(built);
        lock(&self.built).insert(id.clone(), built.clone());
        Ok(built)
    }
}

fn read_index(dir: &FsPath, key: &CacheKey) -> Option<Built> {
    let b: Built = serde_json::from_slice(&std::fs::read(dir.join(INDEX_FILE)).ok()?).ok()?;
    (b.version == VERSION && b.key == *key && dir.join(DATA_FILE).is_file()).then_some(b)
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
fn build(cast: &FsPath, dir: &FsPath, key: CacheKey) -> Result<Built> {
    let file = File::open(cast).map_err(io_err(cast))?;
    let decoder = zstd::stream::read::Decoder::new(file).map_err(io_err(cast))?;
    let mut lines = BufReader::with_capacity(1 << 20, decoder);
    let tmp_data = dir.join(format!("{DATA_FILE}.tmp{}", std::process::id()));
    let mut out = BufWriter::new(File::create(&tmp_data).map_err(io_err(&tmp_data))?);
    let mut entries = Vec::new();
    let mut written = 0u64;
    let flush = |seg: &Segment| -> Result<()> {
        let packed = zstd::encode_all(seg.json().as_bytes(), 3).map_err(io_err(&tmp_data))?;
        out.write_all(&packed).map_err(io_err(&tmp_data))?;
        entries.push(Entry {
            start: seg.start,
            offset: written,
            len: packed.len() as u64,
        });
        written += packed.len() as u64;
        Ok(())
    };
    let cut = cut(&mut lines, SEGMENT_BYTES, flush)?;
    out.into_inner()
        .map_err(|e| e.into_error())
        .and_then(|f| f.sync_all())
        .map_err(io_err(&tmp_data))?;
    let built = Built {
        version: VERSION,
        key,
        cols: cut.cols,
        rows: cut.rows,
        duration: cut.duration,
        segments: entries,
    };
    let data = dir.join(DATA_FILE);
    std::fs::rename(&tmp_data, &data).map_err(io_err(&data))?;
    let index = dir.join(INDEX_FILE);
    let tmp_index = dir.join(format!("{INDEX_FILE}.tmp{}", std::process::id()));
    std::fs::write(&tmp_index, serde_json::to_vec(&built).unwrap_or_default())
        .and_then(|_| std::fs::rename(&tmp_index, &index))
        .map_err(io_err(&index))?;
    Ok(built)
}

/// The segments of a recording's asciicast v3 text (decompressed), each as the JSON the
/// player downloads, cut every `segment_bytes` of output. What the server caches, without
/// the cache: for the fuzz target (`fuzz/`) and tests.
pub fn segments_of(text: &[u8], segment_bytes: usize) -> Vec<String> {
    let mut segments = Vec::new();
    let mut lines = text;
    let _ = cut(&mut lines, segment_bytes, |seg: &Segment| {
        segments.push(seg.json());
        Ok(())
    });
    segments
}

/// What [`cut`] found besides the segments: the header's size and the duration.
struct Cut {
    cols: u16,
    rows: u16,
    duration: f64,
}

/// Replays the lines through a `vt100` screen and hands `flush` each segment, in order.
fn cut(
    lines: &mut impl BufRead,
    segment_bytes: usize,
    mut flush: impl FnMut(&Segment) -> Result<()>,
) -> Result<Cut> {
    let mut line = String::new();
    let (mut cols, mut rows) = (80u16, 24u16);
    if lines.read_line(&mut line).is_ok() {
        if let Ok(h) = serde_json::from_str::<serde_json::Value>(&line) {
            let size = |k: &str| {
                h["term"][k]
                    .as_u64()
                    .filter(|&n| n > 0 && n <= u64::from(MAX_SIDE))
            };
            cols = size("cols").unwrap_or(80) as u16;
            rows = size("rows").unwrap_or(24) as u16;
        }
    }
    let (term_cols, term_rows) = (cols, rows);
    let mut screen = vt100::Parser::new(rows, cols, 0);
    let mut seg = Segment::new(0.0, cols, rows, String::new());
    let mut prev = 0u64;
    loop {
        line.clear();
        match lines.read_line(&mut line) {
            Ok(0) | Err(_) => break, // the end, or a recording cut mid-frame
            Ok(_) if !line.ends_with('\n') => break,
            Ok(_) => {}
        }
        let Ok(Some(ev)) = parse_v3_line(&line, prev) else {
            continue;
        };
        prev = ev.time;
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
                // Bounded as the header is: a bogus size must not cost gigabytes of cells.
                (cols, rows) = ((*c).clamp(1, MAX_SIDE), (*r).clamp(1, MAX_SIDE));
                screen.screen_mut().set_size(rows, cols);
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
    Ok(Cut {
        cols: term_cols,
        rows: term_rows,
        duration,
    })
}

fn read_segment(dir: PathBuf, e: &Entry) -> Result<Vec<u8>> {
    let path = dir.join(DATA_FILE);
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
    let segments: Vec<_> = b
        .segments
        .iter()
        .enumerate()
        .map(|(i, s)| json!({ "start": s.start, "url": format!("/api/sessions/{}/segments/{i}", meta.id) }))
        .collect();
    let body = json!({
        "version": 1,
        "duration": b.duration,
        "term": { "cols": b.cols, "rows": b.rows },
        "markers": markers.iter().map(|(t, l)| json!([t, l])).collect::<Vec<_>>(),
        "segments": segments,
    });
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
    let dir = state.store().dir(&meta.id);
    let json = blocking(move || read_segment(dir, &entry)).await?;
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

#[cfg(test)]
mod tests {
    use super::segments_of;

    fn snapshot_size(segment: &str) -> (u64, u64) {
        let v: serde_json::Value = serde_json::from_str(segment).unwrap();
        let s = &v["snapshot"];
        (s["cols"].as_u64().unwrap(), s["rows"].as_u64().unwrap())
    }

    /// A resize is bounded like the header (the fuzz target `segments` checks it): a
    /// recording that asks for 65535x65535 must not get a screen of 4 billion cells.
    #[test]
    fn a_resize_past_the_limit_is_clamped() {
        let text = b"{\"version\":3,\"term\":{\"cols\":80,\"rows\":24}}\n\
            [0,\"r\",\"1001x2000\"]\n[1,\"o\",\"x\"]\n";
        let segs = segments_of(text, 1);
        assert_eq!(segs.len(), 2, "{segs:?}");
        assert_eq!(snapshot_size(&segs[1]), (1000, 1000));
        assert!(segs[0].contains("\"1000x1000\""), "{}", segs[0]);
    }

    /// Found by fuzzing (target `segments`); `vt100` 0.16.2 panics on a 1-row screen that
    /// wraps. The fix (a floor on the sizes derivations use) is being made elsewhere.
    #[test]
    #[ignore = "vt100 0.16.2 panics when a 1-row screen wraps; size floor pending"]
    fn a_one_row_screen_that_wraps_is_cut() {
        let text = b"\n[0,\"r\",\"4x1\"]\n[0,\"o\",\"bash;\"]\n";
        assert!(!segments_of(text, 1).is_empty());
    }

    /// Found by fuzzing (target `segments`): a wide character cut in two by a narrowing
    /// resize, then written over, panics in `vt100` 0.16.2 (release builds too):
    /// doy/vt100-rust#37, fixed by its unmerged PR #30 (`Row::resize`).
    #[test]
    #[ignore = "vt100 0.16.2 panics after a resize splits a wide character (vt100-rust#37)"]
    fn a_resize_that_splits_a_wide_character_is_cut() {
        let text = "\n[0,\"o\",\"9l文\"]\n[0,\"r\",\"3x10\"]\n[1,\"o\",\"n\"]\n";
        assert!(!segments_of(text.as_bytes(), 64).is_empty());
    }
}
