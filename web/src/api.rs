//! The JSON API under `/api/` (documented in the README).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use fixcast_indexer::{parse, Hit, ParseContext};
use fixcast_sessions::{
    error_chain, CommandRecord, Edit, Listed, SessionMeta, Status, Store, TagEdit,
};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/sessions", get(list))
        .route("/sessions/{id}", get(show).patch(edit))
        .route("/sessions/{id}/commands", get(commands))
        .route("/sessions/{id}/commands/{seq}", get(command))
        .route("/sessions/{id}/cast", get(crate::cast::cast))
        .route("/sessions/{id}/segments", get(crate::segments::index))
        .route("/sessions/{id}/live", get(crate::live::live))
        .route("/sessions/{id}/segments/{n}", get(crate::segments::segment))
        .route("/search", get(search))
        .nest("/upload", crate::upload::routes())
        .fallback(|| async { Error::NotFound("no such API route; see the README".into()) })
}

/// Most sessions or hits one call returns.
pub const MAX_LIMIT: usize = 200;

/// Runs blocking work (file system, index, decompression) off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(Error::join)?
}

/// Query-string parameters, percent-decoded; never fails (a bad escape stays as it is).
pub(crate) fn params(raw: Option<String>) -> HashMap<String, String> {
    raw.unwrap_or_default()
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (
                crate::auth::percent_decode(k),
                crate::auth::percent_decode(v),
            )
        })
        .collect()
}

/// A non-negative integer parameter, with a default and a ceiling.
pub(crate) fn number(
    p: &HashMap<String, String>,
    name: &str,
    default: usize,
    max: usize,
) -> Result<usize> {
    match p.get(name) {
        None => Ok(default),
        Some(v) => v
            .parse::<usize>()
            .map(|n| n.min(max))
            .map_err(|_| Error::BadRequest(format!("{name}: expected a whole number, got {v:?}"))),
    }
}

/// A session from a path segment: a full id or a unique prefix, validated before it
/// touches the file system.
pub(crate) fn open_session(store: &Store, raw: &str) -> Result<Listed> {
    let id = store.resolve(raw)?;
    Ok(store.load(&id)?)
}

pub(crate) async fn load(state: &AppState, raw: String) -> Result<SessionMeta> {
    let store = state.store().clone();
    blocking(move || open_session(&store, &raw).map(|l| l.meta)).await
}

pub(crate) fn session_json(meta: &SessionMeta) -> Value {
    let mut v = serde_json::to_value(meta).unwrap_or_default();
    v["short_id"] = json!(meta.id.short());
    v["display_title"] = json!(meta.display_title());
    v["live"] = json!(meta.status == Status::Recording);
    v
}

pub(crate) fn command_json(c: &CommandRecord, with_output: bool) -> Value {
    let mut v = serde_json::to_value(c).unwrap_or_default();
    v["duration"] = json!(c.duration());
    if !with_output {
        if let Some(o) = v.as_object_mut() {
            o.remove("output");
            o.remove("output_cut");
        }
    }
    v
}

/// The sessions a listing shows, newest first: filtered by `q` (words in the title,
/// command, tags, host, user), `tag` and `status`.
pub(crate) fn filter_sessions(
    store: &Store,
    p: &HashMap<String, String>,
) -> Result<Vec<SessionMeta>> {
    let status = match p.get("status").map(String::as_str) {
        None | Some("") => None,
        Some(s) => Some(match s {
            "recording" | "live" => Status::Recording,
            "complete" => Status::Complete,
            "interrupted" => Status::Interrupted,
            other => {
                return Err(Error::BadRequest(format!(
                    "status: {other:?} is not one of recording, complete, interrupted"
                )))
            }
        }),
    };
    let words: Vec<String> = p
        .get("q")
        .map(|q| q.split_whitespace().map(str::to_lowercase).collect())
        .unwrap_or_default();
    let tag = p.get("tag").filter(|t| !t.is_empty());
    let (listed, _unreadable) = store.list()?;
    Ok(listed
        .into_iter()
        .map(|l| l.meta)
        .filter(|m| status.is_none_or(|s| m.status == s))
        .filter(|m| tag.is_none_or(|t| m.tags.iter().any(|x| x == t)))
        .filter(|m| {
            let hay = format!(
                "{} {} {} {} {} {}",
                m.title.as_deref().unwrap_or(""),
                m.command.as_deref().unwrap_or(""),
                m.tags.join(" "),
                m.host,
                m.user,
                m.id
            )
            .to_lowercase();
            words.iter().all(|w| hay.contains(w.as_str()))
        })
        .collect())
}

async fn list(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Result<Json<Value>> {
    let p = params(raw);
    let limit = number(&p, "limit", 50, MAX_LIMIT)?;
    let offset = number(&p, "offset", 0, usize::MAX)?;
    let store = state.store().clone();
    let all = blocking(move || filter_sessions(&store, &p)).await?;
    let page: Vec<Value> = all
        .iter()
        .skip(offset)
        .take(limit)
        .map(session_json)
        .collect();
    Ok(Json(json!({
        "total": all.len(),
        "offset": offset,
        "limit": limit,
        "sessions": page,
    })))
}

pub(crate) async fn session_commands(
    state: &AppState,
    meta: &SessionMeta,
    with_output: bool,
) -> Result<Vec<CommandRecord>> {
    let (store, k, meta) = (
        state.store().clone(),
        state.knowledge().clone(),
        meta.clone(),
    );
    blocking(move || {
        k.commands(&store, &meta, with_output)
            .map_err(|e| knowledge_error(&meta, e))
    })
    .await
}

/// What the knowledge source's failure to give a session's commands is told as.
fn knowledge_error(meta: &SessionMeta, e: crate::KnowledgeError) -> Error {
    match e.downcast::<fixcast_sessions::Error>() {
        // Said as it is: a 422 that names the session and why.
        Ok(e) if matches!(*e, fixcast_sessions::Error::Unreadable { .. }) => Error::Store(*e),
        Ok(e) => Error::Knowledge(format!(
            "session {}: commands: {}",
            meta.id,
            error_chain(&*e)
        )),
        Err(e) => Error::Knowledge(format!(
            "session {}: commands: {}",
            meta.id,
            error_chain(&*e)
        )),
    }
}

async fn show(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<Value>> {
    let meta = load(&state, id).await?;
    let cmds = session_commands(&state, &meta, false).await?;
    let mut session = session_json(&meta);
    session["viewers"] = json!(state.viewers(&meta.id));
    Ok(Json(json!({
        "session": session,
        "commands": cmds.iter().map(|c| command_json(c, false)).collect::<Vec<_>>(),
    })))
}

async fn commands(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<Value>> {
    let meta = load(&state, id).await?;
    let cmds = session_commands(&state, &meta, false).await?;
    Ok(Json(json!(cmds
        .iter()
        .map(|c| command_json(c, false))
        .collect::<Vec<_>>())))
}

async fn command(
    State(state): State<AppState>,
    Path((id, seq)): Path<(String, String)>,
) -> Result<Json<Value>> {
    let seq: u32 = seq
        .parse()
        .map_err(|_| Error::BadRequest(format!("command: {seq:?} is not a command number")))?;
    let meta = load(&state, id).await?;
    let cmds = session_commands(&state, &meta, true).await?;
    let c = cmds
        .iter()
        .find(|c| c.seq == seq)
        .ok_or_else(|| Error::NotFound(format!("session {}: no command {seq}", meta.id.short())))?;
    Ok(Json(command_json(c, true)))
}

/// An edit as the web sends it: each field present is set (`null` clears it), absent
/// fields are kept. Validated and applied by [`fixcast_sessions::Edit`], as `fixcast edit`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EditBody {
    #[serde(default, deserialize_with = "present")]
    title: Option<Option<String>>,
    #[serde(default)]
    tags: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    notes: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    fix_seq: Option<Option<u32>>,
}

/// An edit from a request body: a JSON object of known fields (serde would also read
/// a struct from an array, so `[]` or `["title"]` must be refused first).
fn parse_edit(body: &[u8]) -> Result<Edit> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| Error::BadRequest(format!("edit: {e}")))?;
    if !value.is_object() {
        return Err(Error::BadRequest(
            "edit: send a JSON object with any of title, tags, notes, fix_seq".into(),
        ));
    }
    let body: EditBody =
        serde_json::from_value(value).map_err(|e| Error::BadRequest(format!("edit: {e}")))?;
    Ok(Edit {
        title: body.title,
        // The web sends the whole list.
        tags: body.tags.map(TagEdit::Set).into_iter().collect(),
        notes: body.notes,
        fix_seq: body.fix_seq,
    })
}

fn present<'de, T: Deserialize<'de>, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// Edits title, tags, notes and the fix of a session: meta.json is rewritten atomically,
/// then the session is indexed again. JSON only, which also keeps other web sites from
/// posting here (a cross-site JSON request needs a CORS preflight this server refuses).
async fn edit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
        });
    if !json_type {
        return Err(Error::UnsupportedMediaType(
            "send the edit as JSON (Content-Type: application/json)".into(),
        ));
    }
    let edit = parse_edit(&body)?;
    let (store, k) = (state.store().clone(), state.knowledge().clone());
    let meta = blocking(move || {
        let id = store.resolve(&id)?;
        let edited = edit.apply(&store, &id, |meta| {
            k.commands(&store, meta, false)
                .map_err(|e| knowledge_error(meta, e))
        })?;
        k.reindex(&store, &edited.meta).map_err(|e| {
            Error::Knowledge(format!(
                "session {}: saved, but not re-indexed: {}",
                edited.meta.id,
                error_chain(&*e)
            ))
        })?;
        Ok(edited.meta)
    })
    .await?;
    Ok((StatusCode::OK, Json(session_json(&meta))).into_response())
}

/// Runs a search; `offset` hits are skipped (pagination).
pub(crate) async fn run_search(
    state: &AppState,
    q: &str,
    limit: usize,
    offset: usize,
) -> Result<Vec<Hit>> {
    if q.trim().is_empty() {
        return Err(Error::BadRequest("q: give a query, e.g. ?q=chattr".into()));
    }
    let ctx = ParseContext {
        now: time::OffsetDateTime::now_utc(),
        offset: time::UtcOffset::UTC,
    };
    let mut query = parse(q, &ctx)?;
    let (store, k) = (state.store().clone(), state.knowledge().clone());
    let want = offset.saturating_add(limit);
    let hits = blocking(move || {
        if store.ids()?.is_empty() {
            return Ok(Vec::new());
        }
        // `session:last~1`, as wherever an id is taken (past the oldest: a 404).
        query.resolve_recent(|name| store.resolve(name).map(|id| id.to_string()))?;
        k.search(&store, &query, want)
            .map_err(|e| Error::Knowledge(format!("search: {}", error_chain(&*e))))
    })
    .await?;
    Ok(hits.into_iter().skip(offset).collect())
}

pub(crate) fn hit_url(h: &Hit) -> String {
    format!("/s/{}?t={}&hit={}", h.session, play_time(h.offset), h.seq)
}

/// How long before a command starts its replay link opens: the player shows the screen
/// as it is at the link's time, so opening a hair early puts the command line on it.
const PLAY_LEAD: f64 = 0.05;

/// The `t=` of a link to a command starting at `start` seconds: a little before it,
/// floored to hundredths. Rounding (`2.0` for 1.978) would open mid-output.
pub(crate) fn play_time(start: f64) -> String {
    let t = if start.is_finite() {
        (start - PLAY_LEAD).max(0.0)
    } else {
        0.0
    };
    format!("{:.2}", (t * 100.0).floor() / 100.0)
}

async fn search(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Result<Json<Value>> {
    let p = params(raw);
    let limit = number(&p, "limit", 20, MAX_LIMIT)?;
    let offset = number(&p, "offset", 0, 10_000)?;
    let q = p.get("q").cloned().unwrap_or_default();
    let by_session = match p.get("group").map(String::as_str) {
        None | Some("") => false,
        Some("session") => true,
        Some(other) => {
            return Err(Error::BadRequest(format!(
                "group: {other:?} is not a grouping; use group=session"
            )))
        }
    };
    let found = run_search(&state, &q, limit, offset).await?;
    let hit_json = |h: &Hit| {
        let mut v = serde_json::to_value(h).unwrap_or_default();
        v["short_id"] = json!(h.session.short());
        v["url"] = json!(hit_url(h));
        v
    };
    // No command had every word: these are the closest matches.
    let partial = found.first().is_some_and(|h| h.partial);
    let mut answer = json!({ "query": q, "offset": offset, "limit": limit, "partial": partial });
    if by_session {
        // The same hits, grouped as the results page shows them.
        let notes = crate::results::session_notes(&state, &found).await;
        let sessions: Vec<Value> = crate::results::group(&found)
            .into_iter()
            .map(|g| {
                json!({
                    "session": g[0].session,
                    "short_id": g[0].session.short(),
                    "title": g[0].title,
                    "notes": notes.get(g[0].session.as_str()),
                    "hits": g.iter().map(|h| hit_json(h)).collect::<Vec<_>>(),
                })
            })
            .collect();
        answer["sessions"] = json!(sessions);
    } else {
        answer["hits"] = found.iter().map(hit_json).collect();
    }
    Ok(Json(answer))
}
