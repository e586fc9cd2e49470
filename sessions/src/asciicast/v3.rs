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

/// JSON string escaping without an intermediate `Value`: this runs for every output
/// chunk (every byte of a flood), so runs that need no escaping (almost all of the
/// text) are found eight bytes at a time and copied in one go.
fn write_json_str(s: &str, out: &mut String) {
    out.reserve(s.len() + 2);
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Skip whole words with nothing to escape.
        while let Some(word) = bytes.get(i..i + 8) {
            if needs_escape_in(u64::from_le_bytes(word.try_into().expect("8 bytes"))) {
                break;
            }
            i += 8;
        }
        let Some(off) = bytes[i..]
            .iter()
            .take(8)
            .position(|&b| NEEDS_ESCAPE[b as usize])
        else {
            i = (i + 8).min(bytes.len());
            continue;
        };
        i += off;
        let b = bytes[i];
        // Escaped bytes are ASCII: `start` and `i` are on char boundaries.
        out.push_str(&s[start..i]);
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            _ => {
                let _ = write!(out, "\\u{:04x}", b);
            }
        }
        i += 1;
        start = i;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// The bytes a JSON string cannot hold as they are: controls, DEL (kept readable), `"`
/// and `\`.
static NEEDS_ESCAPE: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = true;
        b += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t[0x7f] = true;
    t
};

/// Whether any byte of `w` may need escaping (exact for "none": a word that says no
/// holds none of [`NEEDS_ESCAPE`]'s bytes).
fn needs_escape_in(w: u64) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH != 0;
    // A byte below 0x20; a byte equal to `"`, `\` or DEL.
    w.wrapping_sub(ONES * 0x20) & !w & HIGH != 0
        || has_zero(w ^ (ONES * 0x22))
        || has_zero(w ^ (ONES * 0x5c))
        || has_zero(w ^ (ONES * 0x7f))
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

    /// Every character below 0x80 (and some wider ones), at every position of a word,
    /// between plain runs of each length: read back whole, and no control left raw.
    #[test]
    fn json_escaping_round_trips_every_byte_anywhere() {
        for c in (0u8..0x80).map(char::from).chain(['é', '中', '🎉']) {
            for before in 0..10 {
                for after in 0..10 {
                    let s = format!("{}{c}{}", "a".repeat(before), "b".repeat(after));
                    let mut out = String::new();
                    write_json_str(&s, &mut out);
                    let back: String = serde_json::from_str(&out).unwrap();
                    assert_eq!(back, s);
                    assert!(!out.bytes().any(|b| b < 0x20 || b == 0x7f), "{out:?}");
                    let plain = !NEEDS_ESCAPE[usize::from(s.as_bytes()[before])];
                    assert_eq!(plain, out.len() == s.len() + 2, "{out:?}");
                }
            }
        }
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
