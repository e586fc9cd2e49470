//! asciicast v3: a header line, then `[interval, code, data]` lines, times relative to
//! the previous event; `#` lines are comments.

use std::fmt::Write;

use serde_json::json;

use super::v2::{event_triple, out_of_range};
use super::{dimension, env_map, insert_optional, json_str, FormatError, Header, Recording};
use crate::event::{micros_from_seconds, Event, EventKind, Seconds, MAX_MICROS};

pub(super) fn parse(
    text: &str,
    lenient: bool,
) -> Result<(Recording, Vec<FormatError>), FormatError> {
    let mut lines = text.lines().enumerate();
    let (_, first) = lines.next().unwrap_or((0, ""));
    let header = parse_header(first)?;
    let mut events = Vec::new();
    let mut damage = Vec::new();
    let mut time = 0u64;
    for (i, line) in lines {
        match parse_v3_line(line, time) {
            Ok(None) => {}
            Ok(Some(ev)) => {
                time = ev.time;
                events.push(ev);
            }
            Err(reason) => {
                let e = FormatError::new(i + 1, reason);
                if !lenient {
                    return Err(e);
                }
                damage.push(e);
            }
        }
    }
    Ok((
        Recording {
            header,
            events,
            damage: Vec::new(),
        },
        damage,
    ))
}

pub(super) fn parse_header(line: &str) -> Result<Header, FormatError> {
    let h: serde_json::Value = serde_json::from_str(line)
        .map_err(|e| FormatError::new(1, format!("invalid header JSON: {e}")))?;
    if h.get("version").and_then(|v| v.as_u64()) != Some(3) {
        return Err(FormatError::new(1, "header: expected \"version\": 3"));
    }
    let term = h
        .get("term")
        .ok_or_else(|| FormatError::new(1, "header: missing \"term\""))?;
    Ok(Header {
        cols: dimension(term.get("cols"), "term.cols")?,
        rows: dimension(term.get("rows"), "term.rows")?,
        term_type: term.get("type").and_then(json_str),
        timestamp: h.get("timestamp").and_then(|t| t.as_i64()),
        idle_time_limit: h.get("idle_time_limit").and_then(|t| t.as_f64()),
        command: h.get("command").and_then(json_str),
        title: h.get("title").and_then(json_str),
        env: env_map(h.get("env")),
        tags: h
            .get("tags")
            .and_then(|t| t.as_array())
            .map(|a| a.iter().filter_map(json_str).collect())
            .unwrap_or_default(),
    })
}

/// Parses one v3 event line, `prev` being the previous event's time in microseconds.
/// Blank and comment lines and unknown codes give `Ok(None)`.
pub fn parse_v3_line(line: &str, prev: u64) -> Result<Option<Event>, String> {
    let trimmed = line.trim();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return Ok(None);
    }
    let (interval, code, data) = event_triple(trimmed)?;
    let dt = micros_from_seconds(interval).ok_or_else(|| out_of_range("interval", interval))?;
    let time = prev.saturating_add(dt);
    if time > MAX_MICROS {
        return Err(format!(
            "time {} is out of range (seconds from 0 to 10^12)",
            Seconds(time)
        ));
    }
    Ok(EventKind::from_code(&code, data)?.map(|kind| Event::new(time, kind)))
}

/// Writes v3 text incrementally: remembers the previous event's time.
#[derive(Debug, Default)]
pub struct V3Encoder {
    last: u64,
}

impl V3Encoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// The header line, newline included.
    pub fn header(&mut self, h: &Header) -> String {
        let mut term = json!({"cols": h.cols, "rows": h.rows});
        if let Some(t) = &h.term_type {
            term["type"] = t.clone().into();
        }
        let mut header = json!({"version": 3, "term": term});
        let m = header.as_object_mut().expect("object literal");
        insert_optional(m, h);
        if !h.env.is_empty() {
            m.insert("env".into(), json!(h.env));
        }
        if !h.tags.is_empty() {
            m.insert("tags".into(), json!(h.tags));
        }
        let mut s = header.to_string();
        s.push('\n');
        s
    }

    /// Appends one event line to `out`.
    pub fn event(&mut self, ev: &Event, out: &mut String) {
        let dt = ev.time.saturating_sub(self.last);
        self.last = self.last.max(ev.time);
        let _ = write!(out, "[{}, \"{}\", ", Seconds(dt), ev.kind.code());
        write_json_str(&ev.kind.data(), out);
        out.push_str("]\n");
    }
}

/// JSON string escaping without an intermediate `Value`: this runs for every output chunk.
fn write_json_str(s: &str, out: &mut String) {
    out.reserve(s.len() + 2);
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f | 0x7f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if esc.is_empty() {
            let _ = write!(out, "\\u{:04x}", b);
        } else {
            out.push_str(esc);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escaping_matches_serde() {
        let s = "a\"b\\c\n\r\t\u{1b}[31m\u{7f}é中";
        let mut out = String::new();
        write_json_str(s, &mut out);
        let back: String = serde_json::from_str(&out).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn intervals_are_relative() {
        let mut enc = V3Encoder::new();
        let mut out = String::new();
        enc.event(
            &Event::new(1_000_000, EventKind::Output("a".into())),
            &mut out,
        );
        enc.event(
            &Event::new(1_500_000, EventKind::Output("b".into())),
            &mut out,
        );
        assert_eq!(out, "[1.000000, \"o\", \"a\"]\n[0.500000, \"o\", \"b\"]\n");
    }
}
