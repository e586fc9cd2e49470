//! asciicast v2: a header line, then `[time, code, data]` lines with absolute times.

use std::fmt::Write;

use serde_json::json;

use super::{dimension, env_map, insert_optional, json_str, FormatError, Header, Recording};
use crate::event::{micros_from_seconds, Event, EventKind, Seconds};

pub(super) fn parse_header(first: &str) -> Result<Header, FormatError> {
    let h: serde_json::Value = serde_json::from_str(first)
        .map_err(|e| FormatError::new(1, format!("invalid header JSON: {e}")))?;
    let env = env_map(h.get("env"));
    Ok(Header {
        cols: dimension(h.get("width"), "width")?,
        rows: dimension(h.get("height"), "height")?,
        term_type: env.get("TERM").cloned(),
        timestamp: h.get("timestamp").and_then(|t| t.as_i64()),
        idle_time_limit: h.get("idle_time_limit").and_then(|t| t.as_f64()),
        command: h.get("command").and_then(json_str),
        title: h.get("title").and_then(json_str),
        env,
        tags: Vec::new(),
    })
}

/// Parses one v2 event line, `last` being the previous event's time (µs). Blank lines
/// and unknown codes give `Ok(None)`.
pub(super) fn parse_line(line: &str, last: u64) -> Result<Option<Event>, String> {
    if line.trim().is_empty() {
        return Ok(None);
    }
    let (t, code, data) = event_triple(line)?;
    let time = micros_from_seconds(t).ok_or_else(|| out_of_range("time", t))?;
    // v2 times are absolute; a few recorders emit tiny reorderings, keep time monotonic.
    Ok(EventKind::from_code(&code, data)?.map(|kind| Event::new(last.max(time), kind)))
}

/// Why a time is refused.
pub(super) fn out_of_range(what: &str, t: f64) -> String {
    format!(
        "{what} {} is out of range (seconds from 0 to 10^12)",
        super::number(t)
    )
}

/// Splits a `[number, "code", "data"]` line.
pub(super) fn event_triple(line: &str) -> Result<(f64, String, String), String> {
    // Read as the triple it nearly always is (no JSON tree, no copies of its strings);
    // anything else is read again as JSON to say what is wrong with it.
    if let Ok(triple) = serde_json::from_str::<(f64, String, String)>(line) {
        return Ok(triple);
    }
    let v: serde_json::Value =
        serde_json::from_str(line).map_err(|e| format!("invalid JSON: {e}"))?;
    let a = v
        .as_array()
        .filter(|a| a.len() == 3)
        .ok_or("expected [time, code, data]")?;
    let t = a[0].as_f64().ok_or("time is not a number")?;
    let code = a[1].as_str().ok_or("event code is not a string")?;
    let data = a[2].as_str().ok_or("event data is not a string")?;
    Ok((t, code.to_owned(), data.to_owned()))
}

/// Serialises a recording as asciicast v2 (exit events have no v2 form and are left out).
pub fn write_v2(rec: &Recording) -> String {
    let h = &rec.header;
    let mut header = json!({"version": 2, "width": h.cols, "height": h.rows});
    let m = header.as_object_mut().expect("object literal");
    insert_optional(m, h);
    let mut env = h.env.clone();
    if let Some(term) = &h.term_type {
        env.insert("TERM".into(), term.clone());
    }
    if !env.is_empty() {
        m.insert("env".into(), json!(env));
    }
    let mut out = header.to_string();
    out.push('\n');
    for ev in &rec.events {
        if matches!(ev.kind, EventKind::Exit(_)) {
            continue;
        }
        let data = serde_json::Value::from(ev.kind.data().as_ref()).to_string();
        let _ = writeln!(
            out,
            "[{}, \"{}\", {}]",
            Seconds(ev.time),
            ev.kind.code(),
            data
        );
    }
    out
}
