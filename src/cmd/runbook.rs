//! `fixcast export --format md`: a session as a Markdown runbook. Title, tags and notes,
//! then each episode the fix records found (symptom, investigation, fix, verification),
//! every command in a fenced block with its exit status and trimmed output, and the line
//! that replays it.

use std::collections::HashMap;
use std::fmt::Write;

use fixcast_sessions::{CommandRecord, FixRecord, SessionMeta};

use super::fixes::play_at;

/// Output lines kept per command in a runbook.
const OUTPUT_LINES: usize = 12;

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
    for (i, r) in records.iter().enumerate() {
        let Some(symptom) = by_seq.get(&r.symptom) else {
            continue;
        };
        let first = symptom.command.lines().next().unwrap_or_default();
        let state = if r.is_resolved() { "" } else { " (unresolved)" };
        let _ = writeln!(md, "## {}. `{}` failed{state}\n", i + 1, inline_code(first));
        md.push_str("**Symptom**\n\n");
        block(&mut md, r.symptom);
        if !r.diagnostics.is_empty() {
            md.push_str("**Investigation**\n\n");
            for &d in &r.diagnostics {
                block(&mut md, d);
            }
        }
        let after = r
            .verification
            .and_then(|v| by_seq.get(&v))
            .map(|v| v.start - symptom.start);
        if !r.fix.is_empty() {
            let _ = writeln!(md, "**Fix** ({})\n", r.found.told(after));
            for &f in &r.fix {
                block(&mut md, f);
            }
        }
        if let Some(v) = r.verification {
            md.push_str("**Verification**\n\n");
            block(&mut md, v);
        }
        if !r.is_resolved() && !r.next_steps.is_empty() {
            md.push_str("**Next steps tried**\n\n");
            for &n in &r.next_steps {
                block(&mut md, n);
            }
        }
    }
    md
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
