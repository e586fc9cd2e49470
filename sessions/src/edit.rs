//! A person's edit of a session: its title, tags, notes and the command they mark as
//! the fix. Validated and applied here, once, so that `fixcast edit` and the web's
//! `PATCH /api/sessions/<id>` accept and refuse the same things.

use std::fs::{File, OpenOptions};

use crate::command::CommandRecord;
use crate::error::Error;
use crate::id::SessionId;
use crate::meta::{SessionMeta, Status};
use crate::store::Store;

/// Limits of what an edit may set.
pub const MAX_TITLE: usize = 300;
pub const MAX_TAGS: usize = 32;
pub const MAX_TAG: usize = 64;
pub const MAX_NOTES: usize = 32 * 1024;

/// Beside `sessions/` in the home: held while an edit reads, changes and writes
/// `meta.json`, so that two edits (a CLI and a server, say) never lose one another's.
const EDIT_LOCK: &str = "edit.lock";

/// A change to the tags, applied in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagEdit {
    /// Replaces every tag (empty entries and repeats are dropped): the web's edit.
    Set(Vec<String>),
    /// Adds a tag unless it is there already.
    Add(String),
    /// Removes a tag if it is there.
    Remove(String),
}

/// An edit: each field that is `Some` is set (`Some(None)` clears it), the others kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Edit {
    pub title: Option<Option<String>>,
    pub tags: Vec<TagEdit>,
    pub notes: Option<Option<String>>,
    /// The command (its `seq`) marked as the fix; `Some(None)` clears the mark, so the
    /// inferred fix counts again.
    pub fix_seq: Option<Option<u32>>,
}

/// Why an edit was refused; nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("{field}: at most {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("tags: {0:?}: a tag is one word of at most {MAX_TAG} characters, without commas")]
    BadTag(String),
    #[error("tags: a tag cannot be empty")]
    EmptyTag,
    #[error("tags: at most {MAX_TAGS}")]
    TooManyTags,
    /// Its recorder writes `meta.json` when it ends, over any edit made meanwhile.
    #[error("session {}: being recorded; edit it when it ends", .0.short())]
    Recording(SessionId),
    /// The fix marked is not one of the session's commands (`count` of them).
    #[error("session {}: no command {seq} (it has {})", id.short(), has(*count))]
    NoCommand {
        id: SessionId,
        seq: u32,
        count: usize,
    },
    #[error(transparent)]
    Store(#[from] Error),
}

fn has(count: usize) -> String {
    match count {
        0 => "none".to_owned(),
        n => n.to_string(),
    }
}

/// A session's metadata before and after an edit.
#[derive(Debug, Clone)]
pub struct Edited {
    pub before: SessionMeta,
    pub meta: SessionMeta,
}

impl Edit {
    /// Whether the edit changes nothing at all.
    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.tags.is_empty()
            && self.notes.is_none()
            && self.fix_seq.is_none()
    }

    /// Validates the edit, then, holding the home's edit lock, loads the session, refuses
    /// it while it is being recorded, checks a marked fix against its `commands` (asked
    /// for only then), and saves `meta.json` atomically. The caller re-indexes it.
    ///
    /// `commands` may fail with the caller's own error (`E`), which is passed on as it is.
    pub fn apply<E: From<EditError>>(
        &self,
        store: &Store,
        id: &SessionId,
        commands: impl FnOnce(&SessionMeta) -> Result<Vec<CommandRecord>, E>,
    ) -> Result<Edited, E> {
        let title = self
            .title
            .clone()
            .map(|t| clean("title", t, MAX_TITLE))
            .transpose()?;
        let notes = self
            .notes
            .clone()
            .map(|n| clean("notes", n, MAX_NOTES))
            .transpose()?;
        let tags = self
            .tags
            .iter()
            .map(clean_tag_edit)
            .collect::<Result<Vec<_>, _>>()?;

        let _lock = lock_edits(store)?;
        let before = store.load(id).map_err(EditError::from)?.meta;
        if before.status == Status::Recording || store.is_being_recorded(id) {
            return Err(EditError::Recording(id.clone()).into());
        }
        if let Some(Some(seq)) = self.fix_seq {
            let cmds = commands(&before)?;
            if !cmds.iter().any(|c| c.seq == seq) {
                return Err(EditError::NoCommand {
                    id: id.clone(),
                    seq,
                    count: cmds.len(),
                }
                .into());
            }
        }
        let mut meta = before.clone();
        if let Some(t) = title {
            meta.title = t;
        }
        if let Some(n) = notes {
            meta.notes = n;
        }
        for t in tags {
            match t {
                TagEdit::Set(all) => meta.tags = all,
                TagEdit::Add(t) if !meta.tags.contains(&t) => meta.tags.push(t),
                TagEdit::Add(_) => {}
                TagEdit::Remove(t) => meta.tags.retain(|x| *x != t),
            }
        }
        if meta.tags.len() > MAX_TAGS {
            return Err(EditError::TooManyTags.into());
        }
        if let Some(f) = self.fix_seq {
            meta.fix_seq = f;
        }
        store.save_meta(&meta).map_err(EditError::from)?;
        Ok(Edited { before, meta })
    }
}

/// Trimmed; empty is `None` (cleared).
fn clean(field: &'static str, s: Option<String>, max: usize) -> Result<Option<String>, EditError> {
    let s = s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    match s {
        Some(s) if s.chars().count() > max => Err(EditError::TooLong { field, max }),
        s => Ok(s),
    }
}

fn clean_tag_edit(t: &TagEdit) -> Result<TagEdit, EditError> {
    Ok(match t {
        TagEdit::Set(all) => {
            let mut out: Vec<String> = Vec::new();
            for t in all {
                let t = t.trim();
                if t.is_empty() || out.iter().any(|x| x == t) {
                    continue;
                }
                out.push(clean_tag(t)?);
            }
            // Told before the session is even read, as a whole list can be judged alone.
            if out.len() > MAX_TAGS {
                return Err(EditError::TooManyTags);
            }
            TagEdit::Set(out)
        }
        TagEdit::Add(t) => TagEdit::Add(clean_tag(t.trim())?),
        TagEdit::Remove(t) => TagEdit::Remove(clean_tag(t.trim())?),
    })
}

fn clean_tag(t: &str) -> Result<String, EditError> {
    if t.is_empty() {
        return Err(EditError::EmptyTag);
    }
    if t.chars().count() > MAX_TAG
        || t.chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == ',')
    {
        return Err(EditError::BadTag(t.to_owned()));
    }
    Ok(t.to_owned())
}

/// The home's edit lock, waited for (an edit holds it for as long as it takes to read
/// a session's commands, at most seconds); released when the file is dropped.
fn lock_edits(store: &Store) -> Result<File, EditError> {
    Ok(lock_home(store)?)
}

/// [`lock_edits`] for other writers of a session's files: a rewrite of the recording
/// (compaction, redaction) holds it while it renames its file into place.
pub(crate) fn lock_home(store: &Store) -> Result<File, Error> {
    let path = store.home().join(EDIT_LOCK);
    let f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(Error::io(&path))?;
    f.lock().map_err(Error::io(&path))?;
    Ok(f)
}

#[cfg(test)]
#[path = "edit_tests.rs"]
mod tests;
