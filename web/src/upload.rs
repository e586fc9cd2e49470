//! Recordings streamed from `fixcast rec --server`: the recorder ships the bytes of its
//! local `session.cast.zst` as they are appended, and this server appends them to the
//! same file in its own home, so both copies end byte-identical.
//!
//! - `POST /api/upload/{id}/start` with the session's `meta.json`: creates the session
//!   (status `recording`) or reopens it after a reconnect; answers `{"size": N}`, the
//!   bytes this server holds, where the recorder resumes.
//! - `POST /api/upload/{id}/append?offset=N` with bytes: appended (and synced) when `N`
//!   is the current size, else 409 with `{"size": N}`.
//! - `POST /api/upload/{id}/finish?offset=N` with the final `meta.json`: when `N` is the
//!   size, the metadata is saved and the session indexed.
//!
//! Every request carries the uploader's key (`Fixcast-Upload-Key`, see [`crate::owner`]):
//! the `start` that creates a session makes it its owner (a `start` without a key gets
//! one made by the server, in `{"size": 0, "key": K}`), and only that key writes it
//! again. A session recorded or imported here, or started by another uploader, is
//! refused with 403 and left as it is. Ids must be dated before a day from now.
//!
//! While a recorder uploads, this server holds the cast file's lock, as a local recorder
//! does, so the session shows as live; a recorder silent for [`IDLE`] is let go (the
//! session then reads as `interrupted` until it comes back). A `complete` session is
//! never appended to.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use fixcast_sessions::upload_protocol::{APPEND, FINISH, START};
use fixcast_sessions::{SessionId, SessionMeta, Status, Store, UploadFile};

use crate::access::blocking;
use crate::error::{Error, Result};
use crate::owner::{self, Key};
use crate::query::{whole, Query, Whole};
use crate::AppState;

pub use fixcast_sessions::upload_protocol::UPLOAD_LIMIT;

/// How long a session's lock is kept without hearing from its recorder.
const IDLE: Duration = Duration::from_secs(60);

/// How far ahead of this server's clock an uploaded session's id may be dated (clocks
/// disagree; an id from the year 10889 would list first forever).
const FUTURE: Duration = Duration::from_secs(24 * 3600);

/// Sessions being uploaded now: the locked cast file, and when the recorder last spoke.
#[derive(Default)]
pub(crate) struct Uploads {
    open: Mutex<HashMap<SessionId, (UploadFile, Instant)>>,
    /// Whether the thread that lets go of silent recorders runs (from the first upload).
    sweeping: std::sync::OnceLock<()>,
    /// Starts one at a time, so two uploaders never both create one session.
    starting: Mutex<()>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(&format!("/{{id}}{START}"), post(start))
        .route(&format!("/{{id}}{APPEND}"), post(append))
        .route(&format!("/{{id}}{FINISH}"), post(finish))
        .layer(DefaultBodyLimit::max(UPLOAD_LIMIT))
}

fn parse_id(raw: &str) -> Result<SessionId> {
    let id = raw
        .parse::<SessionId>()
        .map_err(|_| Error::BadRequest(format!("{raw:?} is not a session id")))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    if id.timestamp_ms() > (now + FUTURE).as_millis() as u64 {
        return Err(Error::BadRequest(format!(
            "session id {id} is dated more than a day after this server's clock; an id starts with the time its recording started"
        )));
    }
    Ok(id)
}

fn parse_meta(id: &SessionId, body: &[u8]) -> Result<SessionMeta> {
    let meta: SessionMeta =
        serde_json::from_slice(body).map_err(|e| Error::BadRequest(format!("meta.json: {e}")))?;
    if &meta.id != id {
        return Err(Error::BadRequest(format!(
            "meta.json is of session {}, not {id}",
            meta.id
        )));
    }
    Ok(meta)
}

/// What an upload request is answered: the size of the server's copy, the key made for
/// a new upload (once), why the request was refused.
#[derive(serde::Serialize)]
struct SizeAnswer {
    size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// The size of the server's copy, as `{"size": N}`.
fn size_json(status: StatusCode, size: u64, error: Option<String>) -> Response {
    let answer = SizeAnswer {
        size,
        key: None,
        error,
    };
    (status, Json(answer)).into_response()
}

/// A session on disk, for an upload: absent, or its metadata.
fn meta_of(store: &Store, id: &SessionId) -> Result<Option<SessionMeta>> {
    Ok(store.session(id).meta_as_stored()?)
}

fn status_of(store: &Store, id: &SessionId) -> Result<Option<Status>> {
    Ok(meta_of(store, id)?.map(|m| m.status))
}

/// The status of a session this uploader started here; an error when it did not.
fn started(store: &Store, id: &SessionId, key: Option<&Key>) -> Result<Status> {
    owner::check(store, id, key)?;
    status_of(store, id)?
        .ok_or_else(|| Error::NotFound(format!("session {id} was not started on this server")))
}

/// 409 with the size this server holds, from which the recorder resumes.
fn wrong_offset(size: u64, offset: u64) -> Response {
    size_json(
        StatusCode::CONFLICT,
        size,
        Some(format!("this server holds {size} bytes, not {offset}")),
    )
}

fn refuse_complete(id: &SessionId) -> Error {
    Error::Conflict(format!(
        "session {id} is complete on this server; it is not appended to"
    ))
}

impl Uploads {
    /// Makes sure this server holds the lock of the session's cast file (taken again
    /// after a restart); lets go of sessions whose recorder went silent.
    fn hold(self: &Arc<Self>, store: &Store, id: &SessionId) -> Result<()> {
        self.sweeping.get_or_init(|| {
            let weak = Arc::downgrade(self);
            let _ = std::thread::Builder::new()
                .name("fixcast-uploads".into())
                .spawn(move || loop {
                    std::thread::sleep(IDLE / 6);
                    let Some(uploads) = weak.upgrade() else {
                        return;
                    };
                    lock(&uploads.open).retain(|_, (_, at)| at.elapsed() < IDLE);
                });
        });
        let mut open = lock(&self.open);
        open.retain(|_, (_, at)| at.elapsed() < IDLE);
        if let Some((_, at)) = open.get_mut(id) {
            *at = Instant::now();
            return Ok(());
        }
        let file = store.session(id).open_upload()?.ok_or_else(|| {
            Error::Conflict(format!(
                "session {id} is being recorded on this server's machine; not uploaded over"
            ))
        })?;
        open.insert(id.clone(), (file, Instant::now()));
        Ok(())
    }

    fn size(&self, store: &Store, id: &SessionId) -> Result<u64> {
        Ok(store.session(id).cast_size()?)
    }

    fn release(&self, id: &SessionId) {
        lock(&self.open).remove(id);
    }
}

/// `?offset=`: where the bytes sent go (what the uploader thinks the server has).
#[derive(serde::Deserialize)]
struct OffsetParam {
    offset: Option<Whole>,
}

async fn start(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let id = parse_id(&raw)?;
    let key = Key::from_headers(&headers)?;
    let mut meta = parse_meta(&id, &body)?;
    let (store, uploads) = (state.store().clone(), state.inner.uploads.clone());
    blocking(move || {
        let made = {
            let _one_at_a_time = lock(&uploads.starting);
            let (key, made) = match key {
                Some(k) => (k, None),
                None => {
                    let k = Key::generate()?;
                    (k.clone(), Some(k))
                }
            };
            if !store.create_uploaded(&id, &key.digest())? {
                // It exists: a reconnect of its uploader, or refused.
                owner::check(&store, &id, made.is_none().then_some(&key))?;
            }
            made
        };
        if status_of(&store, &id)? == Some(Status::Complete) {
            return Err(refuse_complete(&id));
        }
        uploads.hold(&store, &id)?;
        // Live here: a copy marked interrupted while the recorder was away is live again.
        meta.status = Status::Recording;
        meta.recorder_pid = None;
        store.save_meta(&meta)?;
        let size = uploads.size(&store, &id)?;
        let answer = SizeAnswer {
            size,
            key: made.map(|k| k.as_str().to_owned()),
            error: None,
        };
        Ok((StatusCode::OK, Json(answer)).into_response())
    })
    .await
}

async fn append(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    query: Result<Query<OffsetParam>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let id = parse_id(&raw)?;
    let key = Key::from_headers(&headers)?;
    let offset = whole(query?.0.offset, usize::MAX, usize::MAX) as u64;
    let (store, uploads) = (state.store().clone(), state.inner.uploads.clone());
    blocking(move || {
        if started(&store, &id, key.as_ref())? == Status::Complete {
            return Err(refuse_complete(&id));
        }
        uploads.hold(&store, &id)?;
        // The server restarted between two requests and the session was read as
        // interrupted meanwhile (nobody held its lock): it is live again.
        if let Some(mut meta) = meta_of(&store, &id)? {
            if meta.status == Status::Interrupted {
                meta.status = Status::Recording;
                store.save_meta(&meta)?;
            }
        }
        let mut open = lock(&uploads.open);
        let Some((file, _)) = open.get_mut(&id) else {
            return Err(Error::Internal("upload lock lost".into()));
        };
        match file.append(offset, &body)? {
            Ok(size) => Ok(size_json(StatusCode::OK, size, None)),
            Err(size) => Ok(wrong_offset(size, offset)),
        }
    })
    .await
}

async fn finish(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    query: Result<Query<OffsetParam>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let id = parse_id(&raw)?;
    let key = Key::from_headers(&headers)?;
    let offset = whole(query?.0.offset, usize::MAX, usize::MAX) as u64;
    let meta = parse_meta(&id, &body)?;
    if meta.status == Status::Recording {
        return Err(Error::BadRequest(
            "finish: the final meta.json must not say recording".into(),
        ));
    }
    let (store, uploads, k) = (
        state.store().clone(),
        state.inner.uploads.clone(),
        state.knowledge().clone(),
    );
    blocking(move || {
        // Sent again after a lost answer: done already.
        if started(&store, &id, key.as_ref())? == Status::Complete {
            let size = uploads.size(&store, &id)?;
            return Ok(size_json(StatusCode::OK, size, None));
        }
        let size = uploads.size(&store, &id)?;
        if size != offset {
            return Ok(wrong_offset(size, offset));
        }
        let mut meta = meta;
        meta.recorder_pid = None;
        store.save_meta(&meta)?;
        uploads.release(&id);
        k.reindex(&store, &meta).map_err(|e| {
            Error::Knowledge(format!(
                "session {id}: stored, not indexed: {}",
                fixcast_sessions::error_chain(&*e)
            ))
        })?;
        Ok(size_json(StatusCode::OK, size, None))
    })
    .await
}

/// Kept for the state: one per server.
pub(crate) fn new() -> Arc<Uploads> {
    Arc::default()
}
