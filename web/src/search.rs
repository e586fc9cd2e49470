//! Search as the API and the results page run it: the query run against the knowledge
//! source, hits grouped by session, and the replay link of a hit.

use std::collections::HashMap;

use fixcast_indexer::{parse, Hit, ParseContext};
use fixcast_sessions::{error_chain, SessionId};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

use crate::access::{blocking, open_session};
use crate::error::{Error, Result};
use crate::AppState;

/// The query: `?q=` of `/api/search` and of the results page.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Text {
    #[serde(default)]
    pub q: String,
}

/// How `/api/search` answers.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Grouping {
    /// `group=session`: hits grouped as the results page shows them.
    #[serde(default, rename = "group", deserialize_with = "by_session")]
    pub by_session: bool,
}

fn by_session<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<bool, D::Error> {
    match String::deserialize(d)?.as_str() {
        "" => Ok(false),
        "session" => Ok(true),
        other => Err(D::Error::custom(format!(
            "{other:?} is not a grouping; use group=session"
        ))),
    }
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

/// Hits grouped by session, sessions in the order of their best hit, hits in rank order.
pub(crate) fn group(hits: &[Hit]) -> Vec<Vec<&Hit>> {
    let mut groups: Vec<Vec<&Hit>> = Vec::new();
    for h in hits {
        match groups.iter_mut().find(|g| g[0].session == h.session) {
            Some(g) => g.push(h),
            None => groups.push(vec![h]),
        }
    }
    groups
}

/// The notes of the sessions hits are in (a session that cannot be read has none: its
/// hits still show).
pub(crate) async fn session_notes(state: &AppState, hits: &[Hit]) -> HashMap<String, String> {
    let mut ids: Vec<String> = hits.iter().map(|h| h.session.to_string()).collect();
    ids.sort();
    ids.dedup();
    let store = state.store().clone();
    blocking(move || {
        Ok(ids
            .into_iter()
            .filter_map(|id| {
                let meta = open_session(&store, &id).ok()?.meta;
                Some((id, meta.notes?))
            })
            .collect())
    })
    .await
    .unwrap_or_default()
}

/// The short form of a hit's session id, as listings show it.
pub(crate) fn short_id(session: &SessionId) -> &str {
    session.short()
}

pub(crate) fn hit_url(h: &Hit) -> String {
    step_url(h.session.as_str(), h.offset, h.seq)
}

/// The replay link of command `seq` of a session, starting at `start` seconds (built by
/// the indexer, as search hits' JSON carries it).
pub(crate) fn step_url(session: &str, start: f64, seq: u32) -> String {
    fixcast_indexer::play_url(session, start, seq)
}
