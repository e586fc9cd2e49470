//! asciicast v1, v2 and v3: one [`Header`] and [`Event`] model, a submodule per version.
//!
//! fixcast stores v3; it imports all three and exports v2 and v3.

mod stream;
mod v1;
mod v2;
mod v3;

use std::collections::BTreeMap;

use crate::event::Event;

pub use stream::{CastStream, StreamError};
pub use v2::write_v2;
pub use v3::{parse_v3_line, V3Encoder};

/// The asciicast header, across versions.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Header {
    pub cols: u16,
    pub rows: u16,
    /// `TERM` of the recording terminal.
    pub term_type: Option<String>,
    /// Unix time the recording started.
    pub timestamp: Option<i64>,
    pub idle_time_limit: Option<f64>,
    pub command: Option<String>,
    pub title: Option<String>,
    pub env: BTreeMap<String, String>,
    pub tags: Vec<String>,
}

/// A whole recording in memory: parsed from an asciicast, or read from a session.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Recording {
    pub header: Header,
    pub events: Vec<Event>,
    /// Damage found reading a stored recording (see [`crate::read_cast`]): a cut tail, a
    /// corrupt frame, a bad line. Empty for a clean file, and for one parsed from text
    /// (its parsers report what they skip themselves).
    pub damage: Vec<String>,
}

/// Why a cast could not be read: the line (1-based) and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct FormatError {
    pub line: usize,
    pub reason: String,
}

impl FormatError {
    pub(crate) fn new(line: usize, reason: impl Into<String>) -> Self {
        FormatError {
            line,
            reason: reason.into(),
        }
    }
}

/// Which asciicast version a text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
    V3,
}

/// Parses a whole asciicast of any version, strictly: any malformed line or
/// out-of-range value is an error.
pub fn parse(text: &str) -> Result<(Version, Recording), FormatError> {
    let mut stream = CastStream::open(text.as_bytes()).map_err(format_error)?;
    let mut events = Vec::new();
    while let Some(ev) = stream.next_event().map_err(format_error)? {
        events.push(ev);
    }
    let header = stream.header().clone();
    Ok((
        stream.version(),
        Recording {
            header,
            events,
            damage: Vec::new(),
        },
    ))
}

/// A stream over text in memory fails only in its format.
fn format_error(e: StreamError) -> FormatError {
    match e {
        StreamError::Format(e) => e,
        StreamError::Io(e) => FormatError::new(0, e.to_string()),
    }
}

/// A number as a message shows it: `-1`, `0.5`, `1e300` (not 300 digits).
pub(crate) fn number(n: f64) -> String {
    if n.abs() < 1e15 {
        n.to_string()
    } else {
        format!("{n:e}")
    }
}

/// The largest terminal a recording may say it had: beyond it the screens that replay
/// it would take gigabytes (the web's screens are capped at it too).
pub const MAX_TERM_SIZE: u16 = 1000;
/// The latest start a header may give (9999-12-31T23:59:59Z, the last RFC 3339 time).
const MAX_TIMESTAMP: i64 = 253_402_300_799;

impl Header {
    /// Refuses values no real recording has, which would break what is derived from it.
    pub fn check(&self) -> Result<(), FormatError> {
        let bad = |what: String| Err(FormatError::new(1, format!("header: {what}")));
        if self.cols > MAX_TERM_SIZE || self.rows > MAX_TERM_SIZE {
            return bad(format!(
                "terminal size {}x{} is out of range (at most {MAX_TERM_SIZE}x{MAX_TERM_SIZE})",
                self.cols, self.rows
            ));
        }
        if let Some(t) = self.timestamp.filter(|t| !(0..=MAX_TIMESTAMP).contains(t)) {
            return bad(format!(
                "timestamp {t} is out of range (Unix seconds from 1970 to the year 9999)"
            ));
        }
        if let Some(l) = self
            .idle_time_limit
            .filter(|l| !(l.is_finite() && *l > 0.0 && *l <= 1e9))
        {
            return bad(format!(
                "idle_time_limit {} is out of range (seconds above 0, at most 10^9)",
                number(l)
            ));
        }
        Ok(())
    }
}

/// Parses fixcast's own v3 text leniently: malformed lines (a cut tail, garbage) are
/// skipped and counted, never fatal once the header is good.
pub fn parse_v3_lenient(text: &str) -> Result<(Recording, Vec<FormatError>), FormatError> {
    v3::parse(text, true)
}

/// Serialises a recording as asciicast v3 text.
pub fn write_v3(rec: &Recording) -> String {
    let mut enc = V3Encoder::new();
    let mut out = enc.header(&rec.header);
    for ev in &rec.events {
        enc.event(ev, &mut out);
    }
    out
}

/// The header fields v2 and v3 share, each only when set.
pub(crate) fn insert_optional(m: &mut serde_json::Map<String, serde_json::Value>, h: &Header) {
    if let Some(t) = h.timestamp {
        m.insert("timestamp".into(), t.into());
    }
    if let Some(t) = h.idle_time_limit {
        m.insert("idle_time_limit".into(), t.into());
    }
    if let Some(c) = &h.command {
        m.insert("command".into(), c.clone().into());
    }
    if let Some(t) = &h.title {
        m.insert("title".into(), t.clone().into());
    }
}

pub(crate) fn json_str(v: &serde_json::Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

pub(crate) fn env_map(v: Option<&serde_json::Value>) -> BTreeMap<String, String> {
    v.and_then(|v| v.as_object())
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn dimension(v: Option<&serde_json::Value>, what: &str) -> Result<u16, FormatError> {
    v.and_then(|v| v.as_u64())
        .filter(|n| (1..=u16::MAX as u64).contains(n))
        .map(|n| n as u16)
        .ok_or_else(|| FormatError::new(1, format!("header: missing or bad {what}")))
}
