//! asciinema-player's segmented recording format (3.17+): an index
//! `{version: 1, duration, term, markers, segments: [{start, url}]}` and segments
//! `{snapshot: {cols, rows, init}, events}`, where `init` is the screen at the segment's
//! start as escape codes (`vt100`'s formatted contents). A seek downloads one segment
//! and replays at most [`SEGMENT_BYTES`] of output, wherever it lands.
//!
//! Segments are derived data. A segment's events stay in the recording: the index says
//! which zstd frame its first event is in (its seek mark's offset, see
//! `fixcast_sessions::frame_marks`), how many events of that frame come before it and
//! where its first line is in the frame's text, and a request decodes them from there.
//! Only the snapshots cannot be had cheaply again, and only for a long recording: one of
//! less than [`DISK_FROM`] bytes of output is replayed through `vt100` again in a blink
//! (about 15 ms per MB), so its snapshots are held in memory ([`MEMORY_BUDGET`], the
//! least recently used dropped first) and nothing is written beside it: serving a
//! session costs it no disk. A longer one's are cached where the store keeps a
//! session's caches ([`Session::derived_path`]) in `segments.v3.json.zst` (the index)
//! and `segments.v3.bin` (the snapshots): each snapshot a zstd frame of its own,
//! compressed against the recording's text just before its segment ([`PREFIX_BYTES`]
//! of it, as a zstd prefix): a screen shows what was just printed, so most of it is a
//! match into that text, and a request decodes that text anyway on its way to the
//! segment's first event. Either way the player gets the same index and segments.
//! The cache is keyed like the commands cache by the recording's size and mtime; a
//! recording compacted since (the same events in the same frames, see `fixcast
//! compact`) keeps it, its frames' new offsets looked up once.

use std::collections::{HashMap, HashSet};
use std::path::Path as FsPath;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use fixcast_sessions::{
    compacted_from, contain, read_frame_marks, CacheKey, Session, SessionId, SessionMeta, Status,
    Store,
};
use serde::{Deserialize, Serialize};

use crate::access::{blocking, load, session_commands};

#[path = "segments_build.rs"]
mod build;
#[path = "segments_read.rs"]
mod read;
use crate::error::{Error, Result};
use crate::AppState;
pub use build::segments_of;
use build::{write_index, Segment};
use read::read_segment;

/// Output a segment holds before the next one starts: a seek replays at most this much
/// in the browser (a few milliseconds) and downloads about as much.
pub const SEGMENT_BYTES: usize = 512 * 1024;

/// A recording of less output than this keeps no segment cache on disk: its snapshots
/// are made again (one pass through `vt100`, about 15 ms of CPU per MB, a third of it
/// `vt100` printing characters) when a server that does not hold them is asked, within a
/// first seek's 300 ms: the size bench's session (11 MB of output) builds in 0.13-0.2 s
/// of CPU on a loaded machine. A longer one's are cached (the 256 MB one takes seconds).
pub const DISK_FROM: u64 = 16 << 20;
/// Snapshots held in memory at most, in all (a screen of 200x50 is up to a few tens of
/// KiB, a session under [`DISK_FROM`] has 64 at most).
pub(crate) const MEMORY_BUDGET: usize = 64 << 20;

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
    /// Bytes of output (and resizes) in the recording, as the build counted them: whether
    /// it is long enough to be cached on disk. `None` in an index written before it was
    /// kept (by a build that cached every recording's snapshots on disk).
    #[serde(default)]
    output: Option<u64>,
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

/// A session's segments as this process has them: the index, and the snapshots when
/// they are held in memory (`None`: in the data file).
#[derive(Clone)]
pub(crate) struct Segments {
    built: Arc<Built>,
    snapshots: Option<Arc<Vec<String>>>,
}

impl Segments {
    /// Bytes of snapshots held in memory.
    fn held(&self) -> usize {
        self.snapshots
            .as_ref()
            .map_or(0, |s| s.iter().map(String::len).sum())
    }
}

/// Segments built or read in this process, and one build at a time.
pub(crate) struct Cache {
    /// Each session's segments, and when they were last asked for (a tick of `clock`).
    held: Mutex<HashMap<SessionId, (Segments, u64)>>,
    clock: AtomicU64,
    /// Recordings the screen emulator panicked on, as they were then, and why: asked
    /// again, the answer comes at once.
    failed: Mutex<HashMap<SessionId, (CacheKey, String)>>,
    building: Mutex<()>,
    /// Bytes of output from which a recording's snapshots are cached on disk.
    pub(crate) disk_from: AtomicU64,
    /// Sessions whose stale cache files could not be removed: said once.
    warned: Mutex<HashSet<SessionId>>,
}

impl Default for Cache {
    fn default() -> Self {
        Cache {
            held: Mutex::default(),
            clock: AtomicU64::new(0),
            failed: Mutex::default(),
            building: Mutex::default(),
            disk_from: AtomicU64::new(DISK_FROM),
            warned: Mutex::default(),
        }
    }
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
        lock(&self.held).remove(id);
    }

    /// The session's segments as held, if they were made from the recording as `key`
    /// says; marked as just used.
    fn fresh(&self, id: &SessionId, key: &CacheKey) -> Option<Segments> {
        let tick = self.clock.fetch_add(1, Ordering::Relaxed);
        let mut held = lock(&self.held);
        let (segs, used) = held.get_mut(id).filter(|(s, _)| s.built.key == *key)?;
        *used = tick;
        Some(segs.clone())
    }

    /// The session's segments, built now if there is no fresh cache. `live`: the session
    /// is being recorded (its folder is its recorder's: no cache file is removed).
    fn get(&self, store: &Store, id: &SessionId, live: bool) -> Result<Segments> {
        let session = store.session(id);
        let key = session.cast_key()?;
        if let Some(s) = self.fresh(id, &key) {
            return Ok(s);
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
        // Built by another request meanwhile.
        if let Some(s) = self.fresh(id, &key) {
            return Ok(s);
        }
        // Held for the recording as it was before a compaction: its frames moved.
        let before = lock(&self.held).get(id).map(|(s, _)| s.clone());
        let remapped = before.and_then(|s| {
            let built = remap((*s.built).clone(), &key, &session.cast_path())?;
            if s.snapshots.is_none() {
                let _ = write_index(&session.derived_path(INDEX_FILE), &built);
            }
            Some(Segments {
                built: Arc::new(built),
                snapshots: s.snapshots,
            })
        });
        let disk_from = self.disk_from.load(Ordering::Relaxed);
        let segs = match remapped.or_else(|| read_index(session, &key, disk_from)) {
            Some(s) => s,
            // `vt100` may panic on a recording: that session is a 422, never the server.
            None => match contain(|| build::build(session, key.clone(), disk_from)) {
                Ok(made) => {
                    let made = made?;
                    let segs = Segments {
                        built: Arc::new(made.built),
                        snapshots: made.snapshots.map(Arc::new),
                    };
                    let live = live || store.is_being_recorded(id);
                    self.drop_stale(session, live, segs.snapshots.is_some());
                    segs
                }
                Err(panic) => {
                    lock(&self.failed).insert(id.clone(), (key, panic.to_string()));
                    return Err(unreadable(panic.to_string()));
                }
            },
        };
        self.hold(id, segs.clone());
        Ok(segs)
    }

    /// Removes the session's segment cache files this server no longer writes: an
    /// earlier version's, and this version's when its snapshots are held in memory (a
    /// short recording cached on disk by an older build: they would double its disk use
    /// forever). Never while it is being recorded (`live`: the folder is its recorder's);
    /// a file that cannot be removed is said once, and the request is served all the same.
    fn drop_stale(&self, session: Session<'_>, live: bool, in_memory: bool) {
        if live {
            return;
        }
        let ours: &[&str] = if in_memory {
            &[INDEX_FILE, DATA_FILE]
        } else {
            &[]
        };
        for name in OLD_FILES.iter().chain(ours) {
            let path = session.derived_path(name);
            let Err(e) = std::fs::remove_file(&path) else {
                continue;
            };
            let gone = e.kind() == std::io::ErrorKind::NotFound;
            if gone || !lock(&self.warned).insert(session.id().clone()) {
                continue;
            }
            eprintln!(
                "fixcast serve: session {}: cannot remove {} (a segment cache no longer used): {e}; remove it by hand",
                session.id(),
                path.display()
            );
        }
    }

    /// Holds a session's segments, dropping the snapshots of the sessions asked for
    /// least recently while more than [`MEMORY_BUDGET`] of them are held (then asked
    /// for, they are built again).
    fn hold(&self, id: &SessionId, segs: Segments) {
        let tick = self.clock.fetch_add(1, Ordering::Relaxed);
        let mut held = lock(&self.held);
        held.insert(id.clone(), (segs, tick));
        let mut total: usize = held.values().map(|(s, _)| s.held()).sum();
        while total > MEMORY_BUDGET {
            let oldest = held
                .iter()
                .filter(|(other, (s, _))| *other != id && s.snapshots.is_some())
                .min_by_key(|(_, (_, used))| *used)
                .map(|(other, (s, _))| (other.clone(), s.held()));
            let Some((other, bytes)) = oldest else { break };
            held.remove(&other);
            total -= bytes;
        }
    }
}

/// The cache of the session's snapshots on disk, if it was made from the recording as
/// `key` says (or as it was before a compaction) and the recording is one whose
/// snapshots are kept on disk (of `disk_from` bytes of output at least; a shorter one's,
/// left by an older build, are built again and held in memory, the files removed).
fn read_index(session: Session<'_>, key: &CacheKey, disk_from: u64) -> Option<Segments> {
    let path = session.derived_path(INDEX_FILE);
    let index = zstd::decode_all(&std::fs::read(&path).ok()?[..]).ok()?;
    let b: Built = serde_json::from_slice(&index).ok()?;
    let data = session.derived_path(DATA_FILE).is_file();
    if b.version != VERSION || !data || !long_enough(&b, disk_from) {
        return None;
    }
    let b = if b.key == *key {
        b
    } else {
        let b = remap(b, key, &session.cast_path())?;
        let _ = write_index(&path, &b);
        b
    };
    Some(Segments {
        built: Arc::new(b),
        snapshots: None,
    })
}

/// Whether a cache on disk is of a recording of `disk_from` bytes of output at least.
/// An index that does not say how much output (an older build's) tells a lower bound:
/// every segment but the last holds [`SEGMENT_BYTES`] at least. Under it, the recording
/// is built again to know (a long one's cache is then written again, saying it).
fn long_enough(b: &Built, disk_from: u64) -> bool {
    match b.output {
        Some(output) => output >= disk_from,
        None => {
            let full = b.segments.len().saturating_sub(1) as u64;
            full.saturating_mul(SEGMENT_BYTES as u64) >= disk_from
        }
    }
}

/// Segments made from a recording compacted since into the one at `cast` (as `key`
/// says): the same events in the same frames, at new offsets. `None` if it was not.
fn remap(mut b: Built, key: &CacheKey, cast: &FsPath) -> Option<Built> {
    let compacted =
        b.key.cast_mtime == key.cast_mtime && compacted_from(cast).ok()? == Some(b.key.cast_size);
    if !compacted {
        return None;
    }
    let marks = read_frame_marks(cast).ok()?;
    for e in &mut b.segments {
        e.at = marks.get(e.frame)?.offset;
    }
    b.key = key.clone();
    Some(b)
}

async fn built(state: &AppState, meta: &SessionMeta) -> Result<Segments> {
    let (s, id) = (state.clone(), meta.id.clone());
    let live = meta.status == Status::Recording;
    blocking(move || s.inner.segments.get(s.store(), &id, live)).await
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
    let b = built(&state, &meta).await?.built;
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
        let segs = built(&state, &meta).await?;
        let entry = segs.built.segments.get(n).cloned().ok_or_else(|| {
            Error::NotFound(format!("session {}: no segment {n}", meta.id.short()))
        })?;
        let snapshot = segs.snapshots.as_ref().and_then(|s| s.get(n).cloned());
        let (cast, data) = (cast.clone(), data.clone());
        json = blocking(move || read_segment(cast, data, &entry, snapshot)).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn held(snapshot_bytes: usize) -> Segments {
        let key = CacheKey {
            version: 0,
            cast_size: 1,
            cast_mtime: 1,
        };
        Segments {
            built: Arc::new(Built {
                version: VERSION,
                key,
                cols: 80,
                rows: 24,
                duration: 0.0,
                segments: Vec::new(),
                output: None,
            }),
            snapshots: Some(Arc::new(vec!["x".repeat(snapshot_bytes)])),
        }
    }

    #[test]
    fn snapshots_in_memory_are_bounded_the_least_recently_asked_for_dropped() {
        let cache = Cache::default();
        let (a, b, c) = (
            SessionId::generate(),
            SessionId::generate(),
            SessionId::generate(),
        );
        let key = held(0).built.key.clone();
        cache.hold(&a, held(MEMORY_BUDGET / 3));
        cache.hold(&b, held(MEMORY_BUDGET / 3));
        // Asked for again: `b` is now the one least recently used.
        assert!(cache.fresh(&a, &key).is_some());
        cache.hold(&c, held(MEMORY_BUDGET / 2));
        assert!(cache.fresh(&b, &key).is_none(), "dropped");
        assert!(cache.fresh(&a, &key).is_some());
        assert!(cache.fresh(&c, &key).is_some());
        // One session over the budget alone is still held (it was just built).
        cache.hold(&b, held(MEMORY_BUDGET + 1));
        assert!(cache.fresh(&b, &key).is_some());
        assert!(cache.fresh(&a, &key).is_none() && cache.fresh(&c, &key).is_none());
    }
}
