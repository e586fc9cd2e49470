//! asciicast v1, v2 and v3: one [`Header`] and [`Event`] model, a submodule per version.
//!
//! fixcast stores v3; it imports all three and exports v2 and v3.

mod v1;
mod v2;
mod v3;

use std::collections::BTreeMap;

use crate::event::Event;

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

/// A whole recording in memory.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Recording {
    pub header: Header,
    pub events: Vec<Event>,
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

/// Parses a whole asciicast of any version, strictly: any malformed line is an error.
pub fn parse(text: &str) -> Result<(Version, Recording), FormatError> {
    let first = text
        .lines()
        .next()
        .filter(|l| !l.trim().is_empty())
        .ok_or_else(|| FormatError::new(1, "empty file, expected an asciicast header"))?;
    // v1 is one JSON document that may span many lines; v2/v3 start with a one-line header.
    let version = match serde_json::from_str::<serde_json::Value>(first) {
        Ok(v) => v.get("version").and_then(|v| v.as_u64()),
        Err(_) => match serde_json::from_str::<serde_json::Value>(text) {
            Ok(v) => v.get("version").and_then(|v| v.as_u64()),
            // Neither a header line nor a v1 document: say where the JSON breaks.
            Err(e) => {
                return Err(FormatError::new(
                    e.line().max(1),
                    format!("not an asciicast file: invalid JSON: {e}"),
                ))
            }
        },
    };
    match version {
        Some(1) => Ok((Version::V1, v1::parse(text)?)),
        Some(2) => Ok((Version::V2, v2::parse(text)?)),
        Some(3) => Ok((Version::V3, v3::parse(text, false)?.0)),
        Some(n) => Err(FormatError::new(
            1,
            format!("unsupported asciicast version {n}"),
        )),
        None => Err(FormatError::new(
            1,
            "not an asciicast header (expected a JSON object with \"version\")",
        )),
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
