//! The one JSON shape of a search hit, for `fixcast search --json` and `/api/search`
//! alike (docs/reference.md, "`--json` output"). Defined here, once, so the two cannot
//! drift: every link is built by [`crate::links`], every flag is always present.

use fixcast_sessions::{CommandSource, Confusable};
use serde::{Serialize, Serializer};
use time::OffsetDateTime;

use crate::fixes::{FixNote, Step, SymptomNote, Verifies};
use crate::hit::{CommandSummary, Hit, Snippet};
use crate::links::{play_command, play_url};

/// A hit as JSON. `following` (what came next) only when the caller asked for context.
#[derive(Serialize)]
pub struct HitJson<'a> {
    session: &'a str,
    short_id: &'a str,
    seq: u32,
    offset: f64,
    command: &'a str,
    exit: Option<i32>,
    duration: f64,
    #[serde(serialize_with = "rfc3339")]
    started: &'a OffsetDateTime,
    cwd: Option<&'a str>,
    host: &'a str,
    user: &'a str,
    shell: &'a str,
    title: Option<&'a str>,
    tags: &'a [String],
    source: CommandSource,
    suspicious: bool,
    confusables: Vec<ConfusableJson<'a>>,
    score: f32,
    snippet: SnippetJson<'a>,
    play: String,
    url: String,
    partial: bool,
    marked_fix: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<FixJson<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    next_steps: Vec<StepJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fixes: Option<SymptomJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    verifies: Option<VerifiesJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    following: Option<&'a [CommandSummary]>,
}

impl<'a> HitJson<'a> {
    /// `hit` as JSON; `following` is `Some` (maybe empty) when context was asked for.
    pub fn new(hit: &'a Hit, following: Option<&'a [CommandSummary]>) -> HitJson<'a> {
        let session = hit.session.as_str();
        let step = |s: &'a Step| StepJson::new(session, s);
        let fix = |f: &'a FixNote| FixJson {
            found: f.found,
            commands: f.commands.iter().map(step).collect(),
            verification: f.verification.as_ref().map(step),
            after: f.after,
        };
        let symptom = |s: &'a SymptomNote| SymptomJson {
            step: step(&s.step),
            error: &s.error,
        };
        HitJson {
            session,
            short_id: hit.session.short(),
            seq: hit.seq,
            offset: hit.offset,
            command: &hit.command,
            exit: hit.exit,
            duration: hit.duration,
            started: &hit.started,
            cwd: hit.cwd.as_deref(),
            host: &hit.host,
            user: &hit.user,
            shell: &hit.shell,
            title: hit.title.as_deref(),
            tags: &hit.tags,
            source: hit.source,
            suspicious: !hit.confusables.is_empty(),
            confusables: hit.confusables.iter().map(ConfusableJson::new).collect(),
            score: hit.score,
            snippet: SnippetJson::new(&hit.snippet),
            play: play_command(session, hit.offset),
            url: play_url(session, hit.offset, hit.seq),
            partial: hit.partial,
            marked_fix: hit.marked_fix,
            fix: hit.fix.as_ref().map(fix),
            next_steps: hit.next_steps.iter().map(step).collect(),
            fixes: hit.fixes.as_ref().map(symptom),
            verifies: hit.verifies.as_ref().map(|v: &'a Verifies| VerifiesJson {
                symptom: symptom(&v.symptom),
                fix: fix(&v.fix),
            }),
            following,
        }
    }
}

fn rfc3339<S: Serializer>(t: &&OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
    time::serde::rfc3339::serialize(t, s)
}

/// `{char, code_point, looks_like}`, the character as a one-character string.
#[derive(Serialize)]
struct ConfusableJson<'a> {
    char: String,
    code_point: &'a str,
    looks_like: &'a str,
}

impl<'a> ConfusableJson<'a> {
    fn new(c: &'a Confusable) -> ConfusableJson<'a> {
        ConfusableJson {
            char: c.char.to_string(),
            code_point: &c.code_point,
            looks_like: &c.looks_like,
        }
    }
}

/// The snippet, its highlights as `[start, end]` byte pairs into `text`.
#[derive(Serialize)]
struct SnippetJson<'a> {
    text: &'a str,
    highlights: Vec<[usize; 2]>,
}

impl<'a> SnippetJson<'a> {
    fn new(s: &'a Snippet) -> SnippetJson<'a> {
        SnippetJson {
            text: &s.text,
            highlights: s.highlights.iter().map(|r| [r.start, r.end]).collect(),
        }
    }
}

/// A command a fix note names, with both ways to replay it.
#[derive(Serialize)]
struct StepJson<'a> {
    seq: u32,
    offset: f64,
    command: &'a str,
    play: String,
    url: String,
}

impl<'a> StepJson<'a> {
    fn new(session: &str, s: &'a Step) -> StepJson<'a> {
        StepJson {
            seq: s.seq,
            offset: s.offset,
            command: &s.command,
            play: play_command(session, s.offset),
            url: play_url(session, s.offset, s.seq),
        }
    }
}

#[derive(Serialize)]
struct FixJson<'a> {
    found: fixcast_sessions::Found,
    commands: Vec<StepJson<'a>>,
    verification: Option<StepJson<'a>>,
    after: Option<f64>,
}

#[derive(Serialize)]
struct SymptomJson<'a> {
    #[serde(flatten)]
    step: StepJson<'a>,
    error: &'a [String],
}

#[derive(Serialize)]
struct VerifiesJson<'a> {
    symptom: SymptomJson<'a>,
    fix: FixJson<'a>,
}
