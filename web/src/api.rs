//! The JSON API under `/api/` (README, docs/reference.md): its routes, and each
//! answer as a `Serialize` type. Parameters come through [`crate::query::Query`].

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use fixcast_indexer::{Hit, HitJson};
use fixcast_sessions::{
    error_chain, CommandRecord, CommandSource, Confusable, Edit, SessionMeta, Status, TagEdit,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::access::{blocking, knowledge_error, load, session_commands};
use crate::error::{Error, Result};
use crate::listing::{filter_sessions, Listing};
use crate::query::{whole, Paging, Query};
use crate::search::{group, run_search, session_notes, short_id, Grouping, Text};
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

/// A session as the API shows it: its meta.json and what the pages derive from it.
#[derive(Serialize)]
pub(crate) struct SessionJson<'a> {
    #[serde(flatten)]
    meta: &'a SessionMeta,
    short_id: &'a str,
    display_title: &'a str,
    live: bool,
    /// Viewers watching it live through this server (one session's answer only).
    #[serde(skip_serializing_if = "Option::is_none")]
    viewers: Option<usize>,
}

pub(crate) fn session_json(meta: &SessionMeta) -> SessionJson<'_> {
    SessionJson {
        meta,
        short_id: meta.id.short(),
        display_title: meta.display_title(),
        live: meta.status == Status::Recording,
        viewers: None,
    }
}

/// A command as the API shows it: its record, with its duration, and its output only
/// where one command is asked for (listings leave it out).
#[derive(Serialize)]
pub(crate) struct CommandJson<'a> {
    seq: u32,
    start: f64,
    end: f64,
    command: &'a str,
    cwd: Option<&'a str>,
    exit: Option<i32>,
    source: CommandSource,
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_cut: Option<u64>,
    full_screen: bool,
    suspicious: bool,
    confusables: &'a [Confusable],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    errors: &'a [String],
    duration: f64,
}

pub(crate) fn command_json(c: &CommandRecord, with_output: bool) -> CommandJson<'_> {
    CommandJson {
        seq: c.seq,
        start: c.start,
        end: c.end,
        command: &c.command,
        cwd: c.cwd.as_deref(),
        exit: c.exit,
        source: c.source,
        output: with_output.then_some(c.output.as_str()),
        output_cut: with_output.then_some(c.output_cut),
        full_screen: c.full_screen,
        suspicious: c.suspicious,
        confusables: &c.confusables,
        errors: &c.errors,
        duration: c.duration(),
    }
}

#[derive(Serialize)]
struct SessionPage<'a> {
    total: usize,
    offset: usize,
    limit: usize,
    sessions: Vec<SessionJson<'a>>,
}

async fn list(
    State(state): State<AppState>,
    Query(paging): Query<Paging>,
    Query(p): Query<Listing>,
) -> Result<Response> {
    let limit = whole(paging.limit, 50, MAX_LIMIT);
    let offset = whole(paging.offset, 0, usize::MAX);
    let store = state.store().clone();
    let all = blocking(move || filter_sessions(&store, &p)).await?;
    let sessions = all
        .iter()
        .skip(offset)
        .take(limit)
        .map(session_json)
        .collect();
    Ok(Json(SessionPage {
        total: all.len(),
        offset,
        limit,
        sessions,
    })
    .into_response())
}

#[derive(Serialize)]
struct SessionWithCommands<'a> {
    session: SessionJson<'a>,
    commands: Vec<CommandJson<'a>>,
}

async fn show(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response> {
    let meta = load(&state, id).await?;
    let cmds = session_commands(&state, &meta, false).await?;
    let mut session = session_json(&meta);
    session.viewers = Some(state.viewers(&meta.id));
    Ok(Json(SessionWithCommands {
        session,
        commands: cmds.iter().map(|c| command_json(c, false)).collect(),
    })
    .into_response())
}

async fn commands(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response> {
    let meta = load(&state, id).await?;
    let cmds = session_commands(&state, &meta, false).await?;
    let list: Vec<CommandJson> = cmds.iter().map(|c| command_json(c, false)).collect();
    Ok(Json(list).into_response())
}

async fn command(
    State(state): State<AppState>,
    Path((id, seq)): Path<(String, String)>,
) -> Result<Response> {
    let seq: u32 = seq
        .parse()
        .map_err(|_| Error::BadRequest(format!("command: {seq:?} is not a command number")))?;
    let meta = load(&state, id).await?;
    let cmds = session_commands(&state, &meta, true).await?;
    let c = cmds
        .iter()
        .find(|c| c.seq == seq)
        .ok_or_else(|| Error::NotFound(format!("session {}: no command {seq}", meta.id.short())))?;
    Ok(Json(command_json(c, true)).into_response())
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

/// A hit as the API shows it: the shape `search --json` prints too (docs/reference.md).
pub(crate) fn hit_json(hit: &Hit) -> HitJson<'_> {
    HitJson::new(hit, None)
}

#[derive(Serialize)]
struct SearchAnswer<'a> {
    query: &'a str,
    offset: usize,
    limit: usize,
    /// No command had every word: these are the closest matches.
    partial: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    hits: Option<Vec<HitJson<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sessions: Option<Vec<SessionHits<'a>>>,
}

/// The hits of one session, grouped as the results page shows them.
#[derive(Serialize)]
struct SessionHits<'a> {
    session: &'a str,
    short_id: &'a str,
    title: Option<&'a str>,
    notes: Option<&'a str>,
    hits: Vec<HitJson<'a>>,
}

async fn search(
    State(state): State<AppState>,
    Query(paging): Query<Paging>,
    Query(p): Query<Text>,
    Query(grouping): Query<Grouping>,
) -> Result<Response> {
    let limit = whole(paging.limit, 20, MAX_LIMIT);
    let offset = whole(paging.offset, 0, 10_000);
    let found = run_search(&state, &p.q, limit, offset).await?;
    let notes = if grouping.by_session {
        session_notes(&state, &found).await
    } else {
        Default::default()
    };
    let mut answer = SearchAnswer {
        query: &p.q,
        offset,
        limit,
        partial: found.first().is_some_and(|h| h.partial),
        hits: None,
        sessions: None,
    };
    if grouping.by_session {
        answer.sessions = Some(
            group(&found)
                .into_iter()
                .map(|g| SessionHits {
                    session: g[0].session.as_str(),
                    short_id: short_id(&g[0].session),
                    title: g[0].title.as_deref(),
                    notes: notes.get(g[0].session.as_str()).map(String::as_str),
                    hits: g.into_iter().map(hit_json).collect(),
                })
                .collect(),
        );
    } else {
        answer.hits = Some(found.iter().map(hit_json).collect());
    }
    Ok(Json(answer).into_response())
}
