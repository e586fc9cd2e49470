//! `fixcast fix`: what fixed an error before. The error comes as words or on standard
//! input (`make 2>&1 | fixcast fix`); the answer is the past fixes of failures that
//! printed it, best first.
//!
//! Exit status: 0 when a fix was found, 1 when none was, 2 for a query that cannot run.

use std::io::{self, IsTerminal, Read, Write};
use std::process::ExitCode;

use anyhow::Context;
use fixcast_indexer::{Hit, Snippet};
use fixcast_sessions::{error_lines, Store};
use serde_json::json;

use super::fixes::play_at;
use super::index::catalog;
use super::search::parse_typed;
use super::{format_local, printable};
use crate::cli::FixArgs;

/// How much of standard input is read for the error.
const STDIN_CAP: u64 = 1 << 20;
/// Hits looked through for those with a fix.
const LOOK_AT: usize = 200;

pub fn run(store: Store, args: FixArgs) -> anyhow::Result<ExitCode> {
    let (text, from_stdin) = if args.query.is_empty() {
        if io::stdin().is_terminal() {
            anyhow::bail!(
                "give the error (fixcast fix 'Operation not permitted'), or pipe it in (some-cmd 2>&1 | fixcast fix)"
            );
        }
        let mut input = Vec::new();
        io::stdin()
            .take(STDIN_CAP)
            .read_to_end(&mut input)
            .context("cannot read standard input")?;
        (error_query(&String::from_utf8_lossy(&input)), true)
    } else {
        (args.query.join(" "), false)
    };
    if text.trim().is_empty() {
        anyhow::bail!("no error text to look for (standard input had no words)");
    }
    let Some(query) = parse_typed(&store, &text) else {
        return Ok(ExitCode::from(2));
    };
    if store.ids()?.is_empty() {
        eprintln!("fixcast: no sessions yet; fixes are found in what `fixcast rec` recorded");
        return Ok(ExitCode::from(1));
    }
    let hits = catalog(&store).search(&query, LOOK_AT)?.hits;
    let fixed: Vec<&Hit> = hits
        .iter()
        .filter(|h| h.fix.is_some())
        .take(args.limit)
        .collect();
    if fixed.is_empty() {
        let looked = if from_stdin {
            format!(" (looked for: {text})")
        } else {
            String::new()
        };
        eprintln!("fixcast: no recorded fix for this error{looked}");
        if args.json {
            println!("[]");
        }
        return Ok(ExitCode::from(1));
    }
    let mut out = io::stdout().lock();
    if args.json {
        let v: Vec<_> = fixed.iter().map(|h| fix_json(h)).collect();
        serde_json::to_writer_pretty(&mut out, &v)?;
        writeln!(out)?;
    } else {
        for (i, h) in fixed.iter().enumerate() {
            if i > 0 {
                writeln!(out)?;
            }
            write_fix(&mut out, h)?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The words of the first error line of `text` (its last line when none reads as an
/// error), as plain search words: field syntax, quotes and operators taken out.
fn error_query(text: &str) -> String {
    let line = error_lines(text)
        .into_iter()
        .next()
        .or_else(|| {
            text.lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map(str::to_owned)
        })
        .unwrap_or_default();
    line.split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric() && !"/._-+".contains(c))
                .trim_start_matches(['-', '+'])
        })
        .filter(|w| !w.is_empty() && !matches!(*w, "OR" | "AND" | "NOT"))
        .map(|w| w.replace(':', " "))
        .collect::<Vec<_>>()
        .join(" ")
}

fn write_fix(out: &mut impl Write, h: &Hit) -> io::Result<()> {
    let Some(fix) = &h.fix else {
        return Ok(());
    };
    let title = h.title.as_deref().filter(|t| !t.trim().is_empty());
    writeln!(
        out,
        "{}  {}{}",
        format_local(h.started),
        h.session.short(),
        title
            .map(|t| format!("  {}", printable(t)))
            .unwrap_or_default()
    )?;
    let first = |s: &str| printable(s.lines().next().unwrap_or_default()).into_owned();
    writeln!(
        out,
        "  failed:   $ {}   [exit {}]",
        first(&h.command),
        h.exit.unwrap_or(-1)
    )?;
    if let Some(e) = error_line(&h.snippet) {
        writeln!(out, "            │ {}", printable(e))?;
    }
    let how = fix.found.told(fix.after);
    if fix.commands.is_empty() {
        if let Some(v) = &fix.verification {
            writeln!(
                out,
                "  fixed by retrying: $ {}   ({how})   {}",
                first(&v.command),
                play_at(h.session.as_str(), v.offset)
            )?;
        }
    }
    for (i, c) in fix.commands.iter().enumerate() {
        let label = if i == 0 { "fixed by:" } else { "     and:" };
        writeln!(
            out,
            "  {label} $ {}   ({how})   {}",
            first(&c.command),
            play_at(h.session.as_str(), c.offset)
        )?;
    }
    Ok(())
}

/// The snippet's line with its first match (the error as the failure printed it), else
/// its first line: the fragment can start lines before the match.
fn error_line(s: &Snippet) -> Option<&str> {
    let first = s
        .highlights
        .iter()
        .filter(|r| r.start < r.end && s.text.get(r.start..r.end).is_some())
        .map(|r| r.start)
        .min();
    match first {
        Some(at) => {
            let start = s.text[..at].rfind('\n').map_or(0, |i| i + 1);
            let end = s.text[at..].find('\n').map_or(s.text.len(), |i| at + i);
            Some(s.text[start..end].trim_end_matches('\r'))
        }
        None => s.text.lines().find(|l| !l.trim().is_empty()),
    }
}

fn fix_json(h: &Hit) -> serde_json::Value {
    json!({
        "session": h.session,
        "title": h.title,
        "started": h.started.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        "symptom": {
            "seq": h.seq,
            "offset": h.offset,
            "command": h.command,
            "exit": h.exit,
            "snippet": h.snippet.text,
            "play": play_at(h.session.as_str(), h.offset),
        },
        "fix": h.fix,
    })
}

#[cfg(test)]
mod tests {
    use super::error_query;

    #[test]
    fn the_first_error_line_becomes_plain_words() {
        let out = "building...\nbash: ./app.conf: Operation not permitted\nerror: later";
        assert_eq!(error_query(out), "bash ./app.conf Operation not permitted");
        // No error line: the last line; field syntax and operators are taken out.
        assert_eq!(
            error_query("x\nsaid host:db OR \"y\" -v\n"),
            "said host db y v"
        );
    }
}
