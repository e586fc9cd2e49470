//! `meta.json`: what fixcast knows about a session besides its recording.

use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::{Error, Result};
use crate::id::SessionId;

/// Where a session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// A recorder is writing it now.
    Recording,
    /// The recorder finished it.
    Complete,
    /// The recorder died before finishing; everything it flushed is kept.
    Interrupted,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Recording => "recording",
            Status::Complete => "complete",
            Status::Interrupted => "interrupted",
        }
    }
}

/// The terminal a session was recorded in (its size at the start).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Term {
    pub cols: u16,
    pub rows: u16,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub term_type: Option<String>,
}

/// Byte counts of a session.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bytes {
    /// Output bytes the shell printed.
    pub output: u64,
    /// Input bytes stored (0 unless `--record-input`).
    pub input: u64,
    /// Size of `session.cast.zst` on disk.
    pub stored: u64,
    /// Output bytes that reached the terminal but not the disk because the disk could
    /// not keep up (see the README); 0 in a healthy recording.
    #[serde(default)]
    pub dropped: u64,
    /// Input bytes typed with echo off (at a password prompt) and so not stored, with
    /// `--record-input`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub withheld: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Whether secrets in a session's recording were redacted, and how many.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redaction {
    /// Redacted (when recorded, or since by `fixcast redact`); false for `rec
    /// --no-redact`, imports, and sessions recorded before fixcast redacted.
    pub redacted: bool,
    /// Secrets replaced by `[REDACTED:kind]`.
    #[serde(default)]
    pub count: u64,
}

/// Everything in `meta.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionMeta {
    pub id: SessionId,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub notes: Option<String>,
    #[serde(default)]
    pub host: String,
    #[serde(default)]
    pub user: String,
    #[serde(default)]
    pub shell: String,
    /// The command given with `rec -c`, if any.
    #[serde(default)]
    pub command: Option<String>,
    /// Working directory at the start.
    #[serde(default)]
    pub cwd: String,
    #[serde(with = "time::serde::rfc3339")]
    pub started: OffsetDateTime,
    /// Seconds from the start to the last event.
    #[serde(default)]
    pub duration: f64,
    pub term: Term,
    pub status: Status,
    #[serde(default)]
    pub exit_status: Option<i32>,
    #[serde(default)]
    pub bytes: Bytes,
    #[serde(default)]
    pub idle_time_limit: Option<f64>,
    #[serde(default)]
    pub record_input: bool,
    /// The recorder's pid while it records.
    #[serde(default)]
    pub recorder_pid: Option<u32>,
    /// The file an imported session came from (its absolute path).
    #[serde(default)]
    pub imported_from: Option<String>,
    /// A digest of that file's bytes (`sha256:…`): importing the same file again finds
    /// this session instead of making a copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import_digest: Option<String>,
    /// The command (its `seq`) marked as "the fix" from the web page, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix_seq: Option<u32>,
    /// Secrets redacted from the recording; `None` when they were not looked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redaction: Option<Redaction>,
    pub fixcast_version: String,
}

impl SessionMeta {
    /// A fresh `recording` session starting now.
    pub fn new(id: SessionId, cols: u16, rows: u16) -> Self {
        SessionMeta {
            id,
            title: None,
            tags: Vec::new(),
            notes: None,
            host: String::new(),
            user: String::new(),
            shell: String::new(),
            command: None,
            cwd: String::new(),
            started: OffsetDateTime::now_utc(),
            duration: 0.0,
            term: Term {
                cols,
                rows,
                term_type: None,
            },
            status: Status::Recording,
            exit_status: None,
            bytes: Bytes::default(),
            idle_time_limit: None,
            record_input: false,
            recorder_pid: None,
            imported_from: None,
            import_digest: None,
            fix_seq: None,
            redaction: None,
            fixcast_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }

    /// The title, or the command, or the shell: what a listing shows.
    pub fn display_title(&self) -> &str {
        self.title
            .as_deref()
            .or(self.command.as_deref())
            .unwrap_or(&self.shell)
    }

    pub(crate) fn load(path: &Path) -> Result<Self> {
        let text = fs::read(path).map_err(Error::io(path))?;
        serde_json::from_slice(&text).map_err(|source| Error::Meta {
            path: path.to_owned(),
            source,
        })
    }

    /// Writes `path` atomically: a temp file beside it, synced, then renamed over it.
    pub(crate) fn save(&self, path: &Path) -> Result<()> {
        // Only a start outside RFC 3339's years (0 to 9999) fails to serialise.
        let mut json = serde_json::to_vec_pretty(self).map_err(|source| Error::Meta {
            path: path.to_owned(),
            source,
        })?;
        json.push(b'\n');
        crate::atomic::write_atomic(path, &json)
    }

    /// An asciicast header for a recording that lost its own: the size, title and start
    /// this session was recorded with.
    pub fn header(&self) -> crate::asciicast::Header {
        crate::asciicast::Header {
            cols: self.term.cols.max(1),
            rows: self.term.rows.max(1),
            term_type: self.term.term_type.clone(),
            timestamp: Some(self.started.unix_timestamp()),
            idle_time_limit: self.idle_time_limit,
            command: self.command.clone(),
            title: self.title.clone(),
            env: Default::default(),
            tags: self.tags.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_start_rfc_3339_cannot_write_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let mut meta = SessionMeta::new(SessionId::generate(), 80, 24);
        meta.started = OffsetDateTime::from_unix_timestamp(-100_000_000_000).unwrap();
        let path = dir.path().join("meta.json");
        assert!(matches!(meta.save(&path), Err(Error::Meta { .. })));
        assert!(!path.exists());
    }
}
