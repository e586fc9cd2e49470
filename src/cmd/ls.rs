//! `fixcast ls`: the sessions, newest first, as a table or one JSON array.

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use fixcast_sessions::{error_chain, Listed, SessionMeta, Store};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::{format_duration, format_local, format_size, printable, warn, warn_repaired};
use crate::cli::LsArgs;

/// Titles longer than this are cut in the table (the JSON has them whole).
const TITLE_MAX: usize = 40;

pub fn run(store: Store, args: LsArgs) -> anyhow::Result<ExitCode> {
    let (mut sessions, unreadable) = store.list()?;
    for err in &unreadable {
        warn(format_args!("skipped a session: {}", error_chain(err)));
    }
    // Listing repairs every dead recorder's session, shown or not: tell about each.
    for s in sessions.iter().filter(|s| s.repaired) {
        warn_repaired(&s.meta.id);
    }
    let none = sessions.is_empty() && unreadable.is_empty();
    if let Some(n) = args.limit {
        sessions.truncate(n);
    }
    let mut out = io::stdout().lock();
    if args.json {
        let metas: Vec<&SessionMeta> = sessions.iter().map(|s| &s.meta).collect();
        serde_json::to_writer_pretty(&mut out, &metas)?;
        writeln!(out)?;
    } else if none {
        eprintln!("no sessions yet: record one with `fixcast rec`");
    } else if !sessions.is_empty() {
        write_table(&mut out, &store, &sessions)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn write_table(out: &mut impl Write, store: &Store, sessions: &[Listed]) -> io::Result<()> {
    let rows: Vec<[String; 6]> = sessions
        .iter()
        .map(|s| {
            let m = &s.meta;
            [
                m.id.short().to_owned(),
                format_local(m.started),
                format_duration(m.duration),
                cut(&printable(m.display_title()), TITLE_MAX),
                m.status.as_str().to_owned(),
                format_size(dir_size(&store.dir(&m.id))),
            ]
        })
        .collect();
    let head = ["ID", "STARTED", "DURATION", "TITLE", "STATUS", "SIZE"].map(String::from);
    let mut widths = [0usize; 6];
    for row in std::iter::once(&head).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.width());
        }
    }
    for row in std::iter::once(&head).chain(&rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(cell);
            // Right-align the numbers, left-align the words; no padding after the last.
            let pad = widths[i] - cell.width();
            if i == 2 || i == 5 {
                line.insert_str(line.len() - cell.len(), &" ".repeat(pad));
            } else if i + 1 < row.len() {
                line.push_str(&" ".repeat(pad));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// Cuts `s` to at most `max` columns, marking the cut with `…`.
fn cut(s: &str, max: usize) -> String {
    if s.width() <= max {
        return s.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > max {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// What a session takes on disk: the files in its folder.
fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_titles_are_cut_by_columns() {
        assert_eq!(cut("short", 10), "short");
        assert_eq!(cut("abcdefghijkl", 10), "abcdefghi…");
        assert_eq!(cut("中文中文中文中文", 10).width(), 9);
    }
}
