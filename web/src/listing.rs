//! The session listing of the home page and `/api/sessions`: its parameters and its
//! filter (words in the title, command, tags, host, user; a tag; a status).

use fixcast_sessions::{SessionMeta, Status, Store};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

use crate::error::Result;

/// The filter in a listing's query string (its paging is [`crate::query::Paging`] in
/// the API, [`crate::query::PageNo`] on the home page).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Listing {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub tag: String,
    #[serde(default, deserialize_with = "status")]
    pub status: Option<Status>,
}

impl Listing {
    /// Any filter: an empty listing then says nothing matched, not that there is nothing.
    pub fn filtered(&self) -> bool {
        !self.q.is_empty() || !self.tag.is_empty() || self.status.is_some()
    }
}

/// `status=`: empty is any; `live` is `recording`.
fn status<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<Status>, D::Error> {
    Ok(Some(match String::deserialize(d)?.as_str() {
        "" => return Ok(None),
        "recording" | "live" => Status::Recording,
        "complete" => Status::Complete,
        "interrupted" => Status::Interrupted,
        other => {
            return Err(D::Error::custom(format!(
                "{other:?} is not one of recording, complete, interrupted"
            )))
        }
    }))
}

/// The sessions a listing shows, newest first.
pub(crate) fn filter_sessions(store: &Store, p: &Listing) -> Result<Vec<SessionMeta>> {
    let words: Vec<String> = p.q.split_whitespace().map(str::to_lowercase).collect();
    let tag = Some(&p.tag).filter(|t| !t.is_empty());
    let (listed, _unreadable) = store.list()?;
    Ok(listed
        .into_iter()
        .map(|l| l.meta)
        .filter(|m| p.status.is_none_or(|s| m.status == s))
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
