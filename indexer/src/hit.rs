//! What a search answers with: hits, their snippets, and commands by their place.

use std::ops::Range;

use fixcast_sessions::{CommandSource, Confusable, SessionId};
use serde::{Deserialize, Serialize};
use tantivy::schema::Value;
use tantivy::snippet::SnippetGenerator;
use tantivy::TantivyDocument;
use time::OffsetDateTime;

use crate::error::{Error, Result};
use crate::fixes::{FixInfo, FixNote, Step, SymptomNote, Verifies};
use crate::schema::Fields;

/// A matching part of a command's output, with the ranges (bytes of `text`) to highlight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    pub text: String,
    pub highlights: Vec<Range<usize>>,
}

/// One command found by a search. Its JSON is [`crate::HitJson`], the one shape the CLI
/// and the API share.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub session: SessionId,
    pub seq: u32,
    /// Seconds into the recording.
    pub offset: f64,
    pub command: String,
    pub exit: Option<i32>,
    pub duration: f64,
    pub started: OffsetDateTime,
    pub cwd: Option<String>,
    pub host: String,
    pub user: String,
    pub shell: String,
    pub title: Option<String>,
    pub tags: Vec<String>,
    /// How the command was found: by shell integration or the heuristic cutter.
    pub source: CommandSource,
    /// Look-alike characters in the command (empty for most).
    pub confusables: Vec<Confusable>,
    pub score: f32,
    /// Matching output (or its first lines when the output did not match).
    pub snippet: Snippet,
    /// A failed command: what fixed it.
    pub fix: Option<FixNote>,
    /// A failed command nothing fixed: what was tried next.
    pub next_steps: Vec<Step>,
    /// A fix: the failure it fixed.
    pub fixes: Option<SymptomNote>,
    /// A retry that succeeded: the failure and the fix it verifies.
    pub verifies: Option<Verifies>,
    /// The command the person marked as the session's fix.
    pub marked_fix: bool,
    /// No command had every word of the query: this is one of the closest matches.
    pub partial: bool,
}

/// A command by its place in a session (what came next after a hit).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandSummary {
    pub seq: u32,
    pub offset: f64,
    pub command: String,
    pub exit: Option<i32>,
}

impl Hit {
    /// The hit a stored document makes, with `score` and its start (seconds since 1970,
    /// from the fast field), its snippet still empty. A document without a valid session
    /// id or source is damage: rebuild.
    pub(crate) fn of(f: &Fields, doc: &TantivyDocument, score: f32, started: i64) -> Result<Hit> {
        let s = |field| {
            doc.get_first(field)
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        };
        let opt = |field| {
            doc.get_first(field)
                .and_then(|v| v.as_str().map(str::to_owned))
        };
        let started =
            OffsetDateTime::from_unix_timestamp(started).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let secs = |field| {
            doc.get_first(field)
                .and_then(|v| v.as_u64())
                .map_or(0.0, |us| us as f64 / 1e6)
        };
        let info: FixInfo = opt(f.fix_info)
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default();
        let session: SessionId = s(f.session)
            .parse()
            .map_err(|_| Error::Index("a command in the index has no valid session id".into()))?;
        let source = match s(f.source).as_str() {
            "integration" => CommandSource::Integration,
            "heuristic" => CommandSource::Heuristic,
            other => {
                return Err(Error::Index(format!(
                    "a command in the index has an unknown source {other:?}"
                )))
            }
        };
        Ok(Hit {
            session,
            seq: doc.get_first(f.seq).and_then(|v| v.as_u64()).unwrap_or(0) as u32,
            offset: secs(f.offset),
            command: s(f.cmd),
            exit: doc
                .get_first(f.exit)
                .and_then(|v| v.as_i64())
                .map(|e| e as i32),
            duration: secs(f.duration),
            started,
            cwd: opt(f.cwd),
            host: s(f.host),
            user: s(f.user),
            shell: s(f.shell),
            title: opt(f.title),
            tags: doc
                .get_all(f.tags)
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            source,
            confusables: serde_json::from_str(&s(f.confusables)).unwrap_or_default(),
            score,
            snippet: Snippet {
                text: String::new(),
                highlights: Vec::new(),
            },
            fix: info.fix,
            next_steps: info.next_steps,
            fixes: info.fixes,
            verifies: info.verifies,
            marked_fix: info.marked,
            partial: false,
        })
    }
}

/// When the command at `addr` started, in seconds since 1970 (its fast field).
pub(crate) fn started_at(searcher: &tantivy::Searcher, addr: tantivy::DocAddress) -> Result<i64> {
    let column = searcher
        .segment_reader(addr.segment_ord)
        .fast_fields()
        .date("started")
        .map_err(Error::index)?;
    Ok(column
        .first(addr.doc_id)
        .map_or(0, |d| d.into_timestamp_secs()))
}

/// Scores equal to 5 significant digits count as a tie (segment layout changes the sum
/// order of floats in the last bits).
pub(crate) fn quantize(score: f32) -> i64 {
    (f64::from(score) * 10_000.0).round() as i64
}

/// How far a fragment is widened to the line it cuts into, at either end.
const WIDEN: usize = 160;

/// tantivy cuts a fragment at a count of characters, so it can end in the middle of the
/// very line that matched (`cat: app.conf: No such file or`): widen it to the start of
/// its first line and the end of its last, each by at most [`WIDEN`] bytes.
fn whole_lines(text: &str, fragment: &str, highlights: Vec<Range<usize>>) -> Snippet {
    let Some(at) = text.find(fragment) else {
        return Snippet {
            text: fragment.to_owned(),
            highlights,
        };
    };
    let end = at + fragment.len();
    let floor = |mut i: usize| {
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let back = floor(at.saturating_sub(WIDEN));
    let start = text[back..at].rfind('\n').map_or(back, |i| back + i + 1);
    let start = if start == back && back > 0 { at } else { start };
    let ahead = floor((end + WIDEN).min(text.len()));
    let stop = text[end..ahead].find('\n').map_or(ahead, |i| end + i);
    let stop = if stop == ahead && ahead < text.len() {
        end
    } else {
        stop
    };
    let shift = at - start;
    Snippet {
        text: text[start..stop].trim_end_matches('\r').to_owned(),
        highlights: highlights
            .into_iter()
            .map(|r| r.start + shift..r.end + shift)
            .collect(),
    }
}

/// The snippet of `output` (the command's whole output, cut as it was indexed): its best
/// matching part, or its first lines when the output did not match.
pub(crate) fn snippet(gen: &SnippetGenerator, text: &str) -> Snippet {
    let s = gen.snippet(text);
    if !s.is_empty() && !s.highlighted().is_empty() {
        let mut ranges: Vec<Range<usize>> = s.highlighted().to_vec();
        ranges.sort_by_key(|r| (r.start, r.end));
        let mut merged: Vec<Range<usize>> = Vec::new();
        for r in ranges {
            match merged.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => merged.push(r),
            }
        }
        return whole_lines(text, s.fragment(), merged);
    }
    // No match in the output: its first lines, for context.
    let head: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(2)
        .collect();
    let mut head = head.join("\n");
    if head.len() > 200 {
        let mut cut = 200;
        while !head.is_char_boundary(cut) {
            cut -= 1;
        }
        head.truncate(cut);
    }
    Snippet {
        text: head,
        highlights: Vec::new(),
    }
}
