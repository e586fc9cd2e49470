//! Redaction of secrets in recorded output, before any sink sees it.
//!
//! [`Rules`] are the detectors (built in, plus the user's patterns); a [`Redactor`] runs
//! them over one stream of text as it arrives. A secret is replaced by
//! `[REDACTED:kind]`: plain text, put where the secret was, so the stream stays valid
//! UTF-8 and no escape sequence is ever cut (no detector matches control characters).
//!
//! Most output contains none of the detectors' trigger words, and costs one
//! Aho-Corasick scan; only lines with a trigger (or inside a block being followed) are
//! matched against the regexes.

mod blocks;
mod detectors;
mod stream;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use fixcast_sessions::{Event, EventKind};
use regex::Regex;

use blocks::{BlockRules, Blocks};
use detectors::Detector;
pub use stream::{Redactor, HOLD_TIME};

/// Every kind a built-in detector reports (`[REDACTED:kind]`); user patterns report
/// `custom`.
pub const KINDS: &[&str] = &[
    "aws-key",
    "aws-secret",
    "github-token",
    "gitlab-token",
    "slack-token",
    "bearer",
    "basic-auth",
    "jwt",
    "password",
    "url-password",
    "secret",
    "token",
    "private-key",
    "k8s-secret",
    CUSTOM,
];

const CUSTOM: &str = "custom";
const REDACTED: &str = "[REDACTED:";

/// A user pattern that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("redaction pattern {pattern:?}: {reason}")]
pub struct PatternError {
    pub pattern: String,
    pub reason: String,
}

/// The detectors: cheap to clone, shared by every stream.
#[derive(Clone)]
pub struct Rules {
    inner: Arc<Inner>,
}

struct Inner {
    triggers: AhoCorasick,
    detectors: Vec<Detector>,
    blocks: BlockRules,
    custom: Vec<Regex>,
}

impl std::fmt::Debug for Rules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rules")
            .field("custom", &self.inner.custom.len())
            .finish()
    }
}

impl Rules {
    /// The built-in detectors only.
    pub fn builtin() -> Rules {
        Self::with_patterns::<&str>(&[]).expect("no user patterns")
    }

    /// The built-in detectors and the user's regexes (`regex` crate syntax). A pattern
    /// that does not compile, or that matches the empty string, is refused.
    pub fn with_patterns<S: AsRef<str>>(patterns: &[S]) -> Result<Rules, PatternError> {
        let custom = patterns
            .iter()
            .map(|p| {
                let p = p.as_ref();
                let err = |reason: String| PatternError {
                    pattern: p.to_owned(),
                    reason,
                };
                let re = Regex::new(p).map_err(|e| err(e.to_string()))?;
                if re.is_match("") {
                    return Err(err("it matches the empty string".into()));
                }
                Ok(re)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let triggers = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostFirst)
            .build(detectors::triggers())
            .expect("trigger words build");
        Ok(Rules {
            inner: Arc::new(Inner {
                triggers,
                detectors: detectors::builtin(),
                blocks: BlockRules::new(),
                custom,
            }),
        })
    }

    /// A stream redactor using these rules.
    pub fn redactor(&self) -> Redactor {
        Redactor::new(self.clone())
    }

    /// `text` redacted as a whole (a marker's label, keys typed in one go).
    pub fn redact_text(&self, text: &str) -> String {
        let mut r = self.redactor();
        let mut pieces = Vec::new();
        r.push(0, text, &mut pieces);
        r.flush(&mut pieces);
        pieces.into_iter().map(|(_, s)| s).collect()
    }

    /// A whole recording redacted: output as a stream, markers and keys one by one.
    /// Returns the events and the number of secrets replaced.
    pub fn redact_events(&self, events: &[Event]) -> (Vec<Event>, u64) {
        let mut r = self.redactor();
        let mut count = 0;
        let mut pieces = Vec::new();
        let mut out = Vec::with_capacity(events.len());
        let text_of = |s: &str, count: &mut u64| {
            let mut one = self.redactor();
            let mut p = Vec::new();
            one.push(0, s, &mut p);
            one.flush(&mut p);
            *count += one.redacted();
            p.into_iter().map(|(_, s)| s).collect::<String>()
        };
        for ev in events {
            if let EventKind::Output(s) = &ev.kind {
                r.push(ev.time, s, &mut pieces);
            } else {
                r.flush(&mut pieces);
            }
            out.extend(
                pieces
                    .drain(..)
                    .map(|(t, s)| Event::new(t, EventKind::Output(s))),
            );
            let kind = match &ev.kind {
                EventKind::Output(_) => continue,
                EventKind::Input(s) => EventKind::Input(text_of(s, &mut count)),
                EventKind::Marker(s) => EventKind::Marker(text_of(s, &mut count)),
                other => other.clone(),
            };
            out.push(Event::new(ev.time, kind));
        }
        r.flush(&mut pieces);
        out.extend(
            pieces
                .drain(..)
                .map(|(t, s)| Event::new(t, EventKind::Output(s))),
        );
        (out, count + r.redacted())
    }

    /// Finds what to replace in `region` (whole lines, but perhaps the last), carrying
    /// the block state from line to line. Edits come sorted and without overlaps.
    fn scan(&self, region: &str, blocks: &mut Blocks, edits: &mut Vec<Edit>) {
        let inner = &*self.inner;
        let bytes = region.as_bytes();
        let mut pos = 0;
        while pos < bytes.len() {
            if !blocks.active() {
                match inner.triggers.find(&bytes[pos..]) {
                    None => break,
                    Some(m) => pos = line_start(bytes, pos, pos + m.start()),
                }
            }
            let end = line_end(bytes, pos);
            let content_len = region[pos..end].trim_end_matches(['\r', '\n']).len();
            let content = &region[pos..pos + content_len];
            if !blocks.line(&inner.blocks, content, pos, end, edits) {
                for d in &inner.detectors {
                    for c in d.re.captures_iter(content) {
                        let found = if d.group == 0 {
                            c.get(0)
                        } else {
                            (d.group..c.len()).find_map(|i| c.get(i))
                        }
                        .filter(|m| !m.is_empty());
                        // Already redacted (`fixcast redact` run twice): leave it be.
                        if let Some(m) = found.filter(|m| !m.as_str().starts_with(REDACTED)) {
                            edits.push(Edit::redact(pos + m.start(), pos + m.end(), d.kind));
                        }
                    }
                }
            }
            pos = end;
        }
        for re in &inner.custom {
            for m in re
                .find_iter(region)
                .filter(|m| !m.is_empty() && !m.as_str().starts_with(REDACTED))
            {
                edits.push(Edit::redact(m.start(), m.end(), CUSTOM));
            }
        }
        normalise(edits);
    }
}

/// A span of the stream to replace: by `[REDACTED:kind]`, or by nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Edit {
    start: usize,
    end: usize,
    kind: Option<&'static str>,
}

impl Edit {
    fn redact(start: usize, end: usize, kind: &'static str) -> Edit {
        Edit {
            start,
            end,
            kind: Some(kind),
        }
    }

    fn delete(start: usize, end: usize) -> Edit {
        Edit {
            start,
            end,
            kind: None,
        }
    }

    fn push_replacement(&self, out: &mut String) {
        if let Some(kind) = self.kind {
            out.push_str(REDACTED);
            out.push_str(kind);
            out.push(']');
        }
    }
}

/// Sorts edits and merges those that overlap (two detectors on one secret).
fn normalise(edits: &mut Vec<Edit>) {
    if edits.len() < 2 {
        return;
    }
    edits.sort_by_key(|e| (e.start, std::cmp::Reverse(e.end)));
    let mut merged: Vec<Edit> = Vec::with_capacity(edits.len());
    for e in edits.drain(..) {
        match merged.last_mut() {
            Some(last) if e.start < last.end => {
                last.end = last.end.max(e.end);
                last.kind = last.kind.or(e.kind);
            }
            _ => merged.push(e),
        }
    }
    *edits = merged;
}

/// Where the line holding `hit` starts (not before `from`).
fn line_start(bytes: &[u8], from: usize, hit: usize) -> usize {
    memchr_last_line_end(&bytes[from..hit]).map_or(from, |i| from + i + 1)
}

fn memchr_last_line_end(bytes: &[u8]) -> Option<usize> {
    bytes.iter().rposition(|&b| b == b'\n' || b == b'\r')
}

/// Where the line starting at `pos` ends, its line end (`\n`, `\r\n` or `\r`) included.
fn line_end(bytes: &[u8], pos: usize) -> usize {
    match bytes[pos..].iter().position(|&b| b == b'\n' || b == b'\r') {
        None => bytes.len(),
        Some(i) => {
            let at = pos + i;
            if bytes[at] == b'\r' && bytes.get(at + 1) == Some(&b'\n') {
                at + 2
            } else {
                at + 1
            }
        }
    }
}
