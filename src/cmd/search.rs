//! `fixcast search`: the commands of every session, ranked, with the matching output and
//! the way to replay each from the moment it ran.
//!
//! Exit status, like grep: 0 when something matched, 1 when nothing did (or there is
//! nothing to search yet), 2 for a query that cannot be run.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use fixcast_indexer::{parse, CommandSummary, Hit, HitJson, Hits, ParseContext, Query};
use fixcast_sessions::Store;
use serde_json::json;

use super::commands::format_offset;
use super::fixes::play_at;
use super::index::catalog;
use super::{format_duration, format_local, printable};
use crate::cli::SearchArgs;

const BOLD: &str = "\x1b[1m";
const MATCH: &str = "\x1b[1;33m";
const DIM: &str = "\x1b[2m";
const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const RESET: &str = "\x1b[0m";

/// Snippet lines shown per hit.
const SNIPPET_LINES: usize = 3;

pub fn run(store: Store, args: SearchArgs) -> anyhow::Result<ExitCode> {
    let Some(query) = parse_typed(&store, &args.query.join(" ")) else {
        return Ok(ExitCode::from(2));
    };
    if store.ids()?.is_empty() {
        eprintln!(
            "fixcast: no sessions to search yet; record one with `fixcast rec` (or bring asciicasts in with `fixcast import FILE`)"
        );
        return Ok(ExitCode::from(1));
    }
    let fetch = if args.sessions {
        args.limit.saturating_mul(20).clamp(100, 2_000)
    } else {
        args.limit
    };
    let found = catalog(&store).search(&query, fetch)?;
    finish(found, &args)
}

/// A query as typed, against the local clock, its `session:last~N` resolved in `store`;
/// a bad one is told on stderr (with a caret under its column) and the caller exits 2.
pub(super) fn parse_typed(store: &Store, text: &str) -> Option<Query> {
    let mut query = parse_text(text)?;
    // `session:last~1`, as wherever an id is taken.
    match query.resolve_recent(|name| store.resolve(name).map(|id| id.to_string())) {
        Ok(()) => Some(query),
        Err(e) => {
            eprintln!("fixcast: query: {e}");
            None
        }
    }
}

fn parse_text(text: &str) -> Option<Query> {
    let ctx = ParseContext {
        now: time::OffsetDateTime::now_utc(),
        offset: time::UtcOffset::current_local_offset().unwrap_or(time::UtcOffset::UTC),
    };
    match parse(text, &ctx) {
        Ok(q) => Some(q),
        Err(e) => {
            eprintln!("fixcast: query: {e}");
            eprintln!("  {}", printable(text));
            let caret_at = text
                .chars()
                .take(e.column.saturating_sub(1))
                .map(|c| unicode_width::UnicodeWidthChar::width(c).unwrap_or(1));
            eprintln!("  {}^", " ".repeat(caret_at.sum()));
            None
        }
    }
}

fn finish(found: Hits, args: &SearchArgs) -> anyhow::Result<ExitCode> {
    let hits = &found.hits;
    if hits.is_empty() {
        if found.commands_indexed() == 0 {
            eprintln!("fixcast: no commands in any session yet; record some with `fixcast rec`");
        } else {
            eprintln!("fixcast: no matches; try fewer or looser terms");
        }
        if args.json {
            println!("[]");
        }
        return Ok(ExitCode::from(1));
    }
    if hits[0].partial {
        eprintln!("fixcast: no command has all words; closest matches:");
    }
    let mut out = io::stdout().lock();
    let style = Style {
        // https://no-color.org: a set, non-empty NO_COLOR turns colour off.
        color: !args.json
            && io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    // What followed every hit, in one query.
    let next = found.following(args.context)?;
    let following = |h: &Hit| -> anyhow::Result<&[CommandSummary]> {
        Ok(next
            .get(&(h.session.to_string(), h.seq))
            .map_or(&[][..], Vec::as_slice))
    };
    if args.sessions {
        let groups = group(hits, args.limit);
        if args.json {
            let mut v = Vec::new();
            for g in &groups {
                let first = &g[0];
                let mut hs = Vec::new();
                for h in g {
                    hs.push(hit_json(h, following(h)?, args.context > 0));
                }
                v.push(json!({
                    "session": first.session,
                    "short_id": first.session.short(),
                    "title": first.title,
                    "hits": hs,
                }));
            }
            serde_json::to_writer_pretty(&mut out, &v)?;
            writeln!(out)?;
        } else {
            for (i, g) in groups.iter().enumerate() {
                if i > 0 {
                    writeln!(out)?;
                }
                let first = &g[0];
                let n = g.len();
                writeln!(
                    out,
                    "{}  {}  {} ({n} matching command{})",
                    style.paint(BOLD, first.session.short()),
                    format_local(first.started),
                    printable(&title(first)),
                    if n == 1 { "" } else { "s" }
                )?;
                for h in g {
                    write_command(&mut out, &style, h, "  ")?;
                    write_followers(&mut out, &style, following(h)?, "      ")?;
                }
                writeln!(out, "  {}", style.paint(DIM, &play(first)))?;
            }
        }
    } else if args.json {
        let mut v = Vec::new();
        for h in hits {
            v.push(hit_json(h, following(h)?, args.context > 0));
        }
        serde_json::to_writer_pretty(&mut out, &v)?;
        writeln!(out)?;
    } else {
        for (i, h) in hits.iter().enumerate() {
            if i > 0 {
                writeln!(out)?;
            }
            let t = h.title.as_deref().filter(|t| !t.trim().is_empty());
            writeln!(
                out,
                "{}  {}{}",
                format_local(h.started),
                h.session.short(),
                t.map(|t| format!("  {}", style.paint(BOLD, &printable(t))))
                    .unwrap_or_default(),
            )?;
            write_command(&mut out, &style, h, "  ")?;
            write_followers(&mut out, &style, following(h)?, "  ")?;
            writeln!(out, "  {}", style.paint(DIM, &play(h)))?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("{code}{s}{RESET}")
        } else {
            s.to_owned()
        }
    }
}

/// The session's title, or its short id.
fn title(h: &Hit) -> String {
    h.title
        .clone()
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| format!("session {}", h.session.short()))
}

fn play(h: &Hit) -> String {
    play_at(h.session.as_str(), h.offset)
}

/// `0.3s`, `12.0s`, `0:02:05`.
fn took(seconds: f64) -> String {
    if seconds < 60.0 {
        format!("{:.1}s", seconds.max(0.0))
    } else {
        format_duration(seconds)
    }
}

fn exit_text(exit: Option<i32>) -> String {
    exit.map_or_else(|| "exit ?".to_owned(), |e| format!("exit {e}"))
}

/// `$ command   [exit 0, 0:00:01, at 0:12.5]`, the marks of look-alike characters, and
/// the snippet.
fn write_command(out: &mut impl Write, style: &Style, h: &Hit, indent: &str) -> io::Result<()> {
    let mut lines = h.command.lines();
    let first = lines.next().unwrap_or_default();
    let more = if lines.next().is_some() { " …" } else { "" };
    let exit = exit_text(h.exit);
    let exit = if h.exit.is_some_and(|e| e != 0) {
        style.paint(RED, &exit)
    } else {
        exit
    };
    writeln!(
        out,
        "{indent}$ {}{more}   [{exit}, took {}, at {}]",
        style.paint(BOLD, &printable(first)),
        took(h.duration),
        format_offset(h.offset),
    )?;
    if !h.confusables.is_empty() {
        let marks: Vec<String> = h
            .confusables
            .iter()
            .map(|c| printable(&c.to_string()).into_owned())
            .collect();
        writeln!(
            out,
            "{indent}{} look-alike characters: {}",
            style.paint(RED, "! suspicious:"),
            marks.join(", ")
        )?;
    }
    for line in snippet_lines(style, &h.snippet) {
        writeln!(out, "{indent}│ {line}")?;
    }
    write_fix(out, style, h, indent)
}

/// What the fix records say of a hit: a failure's fix (or that nothing fixed it), the
/// failure a fix fixed, the fix a retry verified.
fn write_fix(out: &mut impl Write, style: &Style, h: &Hit, indent: &str) -> io::Result<()> {
    let line = |c: &str| printable(c.lines().next().unwrap_or_default()).into_owned();
    let at = |offset: f64| play_at(h.session.as_str(), offset);
    if let Some(fix) = &h.fix {
        let how = fix.found.told(fix.after);
        if fix.commands.is_empty() {
            if let Some(v) = &fix.verification {
                writeln!(
                    out,
                    "{indent}{} {}   ({how})   {}",
                    style.paint(GREEN, "fixed by retrying:"),
                    style.paint(BOLD, &line(&v.command)),
                    style.paint(DIM, &at(v.offset))
                )?;
            }
        }
        for (i, c) in fix.commands.iter().enumerate() {
            let label = if i == 0 { "fixed by:" } else { "      and:" };
            let how = if i + 1 == fix.commands.len() {
                format!("   ({how})")
            } else {
                String::new()
            };
            writeln!(
                out,
                "{indent}{} {}{how}   {}",
                style.paint(GREEN, label),
                style.paint(BOLD, &line(&c.command)),
                style.paint(DIM, &at(c.offset))
            )?;
        }
    } else if !h.next_steps.is_empty() && h.exit.is_some_and(|e| e != 0) {
        let next: Vec<String> = h.next_steps.iter().map(|s| line(&s.command)).collect();
        writeln!(
            out,
            "{indent}{} next steps: {}",
            style.paint(RED, "unresolved;"),
            next.join("; ")
        )?;
    }
    if let Some(s) = &h.fixes {
        let error = s
            .error
            .first()
            .map(|e| format!(" ({})", printable(e)))
            .unwrap_or_default();
        writeln!(
            out,
            "{indent}{} {}{error}   {}",
            style.paint(GREEN, "fixes:"),
            line(&s.step.command),
            style.paint(DIM, &at(s.step.offset))
        )?;
    }
    if let Some(v) = &h.verifies {
        let fixed_by: Vec<String> = v.fix.commands.iter().map(|c| line(&c.command)).collect();
        let by = if fixed_by.is_empty() {
            String::new()
        } else {
            format!(" after {}", fixed_by.join("; "))
        };
        writeln!(
            out,
            "{indent}{} {}{by}",
            style.paint(GREEN, "worked again:"),
            line(&v.symptom.step.command),
        )?;
    }
    Ok(())
}

fn write_followers(
    out: &mut impl Write,
    style: &Style,
    next: &[CommandSummary],
    indent: &str,
) -> io::Result<()> {
    for c in next {
        let first = c.command.lines().next().unwrap_or_default();
        writeln!(
            out,
            "{indent}{} #{} $ {}   [{}]",
            style.paint(DIM, "then"),
            c.seq,
            printable(first),
            exit_text(c.exit)
        )?;
    }
    Ok(())
}

/// The snippet's lines around its first match (the match's line, after the line before
/// it, as `grep -B1` shows it), at most [`SNIPPET_LINES`] of them, the matches
/// highlighted on a terminal; control characters escaped, so nothing from a recording
/// can steer the terminal. The index's fragment can start well before the match (it is
/// about 200 characters of output): its first lines alone could miss the match.
fn snippet_lines(style: &Style, s: &fixcast_indexer::Snippet) -> Vec<String> {
    let text = s.text.replace('\t', "    ");
    // Highlight ranges are into the text before tabs were widened: map them.
    let shift = |at: usize| at + s.text[..at.min(s.text.len())].matches('\t').count() * 3;
    let mut ranges: Vec<(usize, usize)> = s
        .highlights
        .iter()
        .filter(|r| r.start < r.end && r.end <= s.text.len())
        .map(|r| (shift(r.start), shift(r.end)))
        .filter(|&(a, b)| text.is_char_boundary(a) && text.is_char_boundary(b))
        .collect();
    ranges.sort_unstable();
    // The lines that say something, as byte ranges of `text`.
    let mut spans = Vec::new();
    let mut line_start = 0;
    for line in text.split('\n') {
        let line_end = line_start + line.len();
        if !line.trim().is_empty() {
            spans.push((line_start, line_end));
        }
        line_start = line_end + 1;
    }
    let first = window_start(&spans, ranges.first().map(|r| r.0), SNIPPET_LINES);
    let mut lines = Vec::new();
    for &(line_start, line_end) in spans.iter().skip(first).take(SNIPPET_LINES) {
        let mut shown = String::new();
        let mut at = line_start;
        for &(a, b) in &ranges {
            let (a, b) = (a.max(line_start), b.min(line_end));
            if a >= b || a < at {
                continue;
            }
            shown.push_str(&printable(&text[at..a]));
            shown.push_str(&style.paint(MATCH, &printable(&text[a..b])));
            at = b;
        }
        shown.push_str(&printable(&text[at..line_end]));
        lines.push(shown.trim_end().to_owned());
    }
    lines
}

/// The first of `shown` lines (byte ranges, in order) to show so that the one holding
/// byte `at` is among them: the line before it, or earlier when the lines run out after
/// it (three lines of context beat two). No match: the first lines.
fn window_start(lines: &[(usize, usize)], at: Option<usize>, shown: usize) -> usize {
    let Some(at) = at else { return 0 };
    // The line the match starts on: the last that starts at or before it.
    let Some(hit) = lines.iter().rposition(|&(start, _)| start <= at) else {
        return 0;
    };
    hit.saturating_sub(1).min(lines.len().saturating_sub(shown))
}

/// Hits grouped by session, sessions in the order of their best hit.
fn group(hits: &[Hit], limit: usize) -> Vec<Vec<&Hit>> {
    let mut groups: Vec<Vec<&Hit>> = Vec::new();
    for h in hits {
        if let Some(g) = groups.iter_mut().find(|g| g[0].session == h.session) {
            g.push(h);
        } else if groups.len() < limit {
            groups.push(vec![h]);
        }
    }
    groups
}

/// One hit as JSON: the shape shared with `/api/search` (docs/reference.md), with what
/// followed it when `--context` asked for that.
fn hit_json<'a>(h: &'a Hit, next: &'a [CommandSummary], with_context: bool) -> HitJson<'a> {
    HitJson::new(h, with_context.then_some(next))
}
