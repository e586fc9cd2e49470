//! `fixcast export --format md`: a session as a Markdown runbook. Title, tags and notes,
//! then each episode the fix records found (symptom, investigation, fix, verification),
//! every command in a fenced block with its exit status and trimmed output, and the line
//! that replays it. `runbook_html` tells the same episodes as a standalone page.

use std::collections::HashMap;
use std::fmt::Write;

use fixcast_sessions::{CommandRecord, FixRecord, SessionMeta};

use super::fixes::play_at;

/// Output lines kept per command in a runbook.
pub const OUTPUT_LINES: usize = 12;

pub fn markdown(meta: &SessionMeta, commands: &[CommandRecord], records: &[FixRecord]) -> String {
    let mut md = String::new();
    let title = meta.display_title();
    let _ = writeln!(md, "# {}\n", one_line(title));
    let mut facts = vec![format!("session `{}`", meta.id)];
    if !meta.host.is_empty() {
        facts.push(format!("host `{}`", one_line(&meta.host)));
    }
    if let Ok(started) = meta
        .started
        .format(&time::format_description::well_known::Rfc3339)
    {
        facts.push(format!("started {started}"));
    }
    if !meta.tags.is_empty() {
        let tags: Vec<String> = meta
            .tags
            .iter()
            .map(|t| format!("`{}`", one_line(t)))
            .collect();
        facts.push(format!("tags {}", tags.join(", ")));
    }
    let _ = writeln!(md, "{}\n", facts.join(" · "));
    if let Some(notes) = meta.notes.as_deref().filter(|n| !n.trim().is_empty()) {
        let _ = writeln!(md, "## Notes\n\n{}\n", notes.trim());
    }
    let by_seq: HashMap<u32, &CommandRecord> = commands.iter().map(|c| (c.seq, c)).collect();
    let id = meta.id.as_str();
    let block = |md: &mut String, seq: u32| {
        if let Some(c) = by_seq.get(&seq) {
            command_block(md, id, c);
        }
    };
    if records.is_empty() {
        md.push_str("No command failed in this session.\n\n");
    }
    for e in episodes(records, &by_seq) {
        let state = if e.unresolved { " (unresolved)" } else { "" };
        let _ = writeln!(
            md,
            "## {}. `{}` failed{state}\n",
            e.number,
            inline_code(e.first_line)
        );
        for part in e.parts {
            match &part.note {
                Some(note) => {
                    let _ = writeln!(md, "**{}** ({note})\n", part.name);
                }
                None => {
                    let _ = writeln!(md, "**{}**\n", part.name);
                }
            }
            for &seq in &part.seqs {
                block(&mut md, seq);
            }
        }
    }
    md
}

/// One failure as a runbook tells it: its number, the first line of the command that
/// failed, whether anything fixed it, and its parts in order.
pub struct Episode<'a> {
    pub number: usize,
    pub first_line: &'a str,
    pub unresolved: bool,
    pub parts: Vec<Part>,
}

/// The episodes of a session's fix records (the Markdown and the HTML runbook alike);
/// a record whose failing command is not among `by_seq` is left out, its number kept.
pub fn episodes<'a>(
    records: &[FixRecord],
    by_seq: &HashMap<u32, &'a CommandRecord>,
) -> Vec<Episode<'a>> {
    records
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let symptom = by_seq.get(&r.symptom)?;
            Some(Episode {
                number: i + 1,
                first_line: symptom.command.lines().next().unwrap_or_default(),
                unresolved: !r.is_resolved(),
                parts: parts(r, by_seq),
            })
        })
        .collect()
}

/// One part of an episode: its name (`Symptom`, `Fix`…), a note on how it was found,
/// and its commands.
pub struct Part {
    pub name: &'static str,
    pub note: Option<String>,
    pub seqs: Vec<u32>,
}

/// An episode's parts in the order a runbook tells them (the Markdown and the HTML
/// runbook alike): symptom, investigation, fix, verification, or the next steps tried.
pub fn parts(r: &FixRecord, by_seq: &HashMap<u32, &CommandRecord>) -> Vec<Part> {
    let part = |name, seqs: Vec<u32>| Part {
        name,
        note: None,
        seqs,
    };
    let mut out = vec![part("Symptom", vec![r.symptom])];
    if !r.diagnostics.is_empty() {
        out.push(part("Investigation", r.diagnostics.clone()));
    }
    if !r.fix.is_empty() {
        let after = match (
            r.verification.and_then(|v| by_seq.get(&v)),
            by_seq.get(&r.symptom),
        ) {
            (Some(v), Some(s)) => Some(v.start - s.start),
            _ => None,
        };
        out.push(Part {
            note: Some(r.found.told(after)),
            ..part("Fix", r.fix.clone())
        });
    }
    if let Some(v) = r.verification {
        out.push(part("Verification", vec![v]));
    }
    if !r.is_resolved() && !r.next_steps.is_empty() {
        out.push(part("Next steps tried", r.next_steps.clone()));
    }
    out
}

/// One command: a shell block with its exit status, its trimmed output, and its replay.
fn command_block(md: &mut String, id: &str, c: &CommandRecord) {
    let exit = c
        .exit
        .map_or_else(|| "exit ?".to_owned(), |e| format!("exit {e}"));
    let shell = format!("$ {}", c.command);
    let fence = fence_for(&shell);
    let _ = writeln!(md, "{fence}sh\n{shell}\n{fence}\n");
    let lines: Vec<&str> = c.output.lines().collect();
    if !lines.is_empty() {
        let mut shown = lines[..lines.len().min(OUTPUT_LINES)].join("\n");
        if lines.len() > OUTPUT_LINES {
            let _ = write!(shown, "\n… {} more lines", lines.len() - OUTPUT_LINES);
        }
        let fence = fence_for(&shown);
        let _ = writeln!(md, "{fence}text\n{shown}\n{fence}\n");
    }
    let _ = writeln!(md, "{exit} · `{}`\n", play_at(id, c.start));
}

/// A code fence longer than any run of backticks in `text`.
fn fence_for(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

/// Text for inline code: one line, backticks made safe.
fn inline_code(s: &str) -> String {
    s.replace('`', "'")
}

fn one_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().replace('`', "'")
}

#[cfg(test)]
mod tests {
    use super::fence_for;

    #[test]
    fn a_fence_outgrows_the_backticks_inside() {
        assert_eq!(fence_for("plain"), "```");
        assert_eq!(fence_for("a ``` b"), "````");
    }
}
