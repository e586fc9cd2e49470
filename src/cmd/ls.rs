//! `fixcast ls`: the sessions, newest first, as a table or one JSON array. On a terminal
//! the table fits its width (titles and tags are cut); to a pipe its lines are whole.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use fixcast_sessions::{error_chain, Listed, SessionMeta, Store};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::{
    duration_so_far, format_duration, format_local, format_size, printable, warn, warn_repaired,
};
use crate::cli::LsArgs;

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

/// The table's columns; the title is last, so it is what gives way to a narrow terminal.
const HEAD: [&str; 7] = [
    "ID", "STARTED", "DURATION", "STATUS", "SIZE", "TAGS", "TITLE",
];
const TAGS: usize = 5;
const TITLE: usize = 6;
/// Between two columns.
const GAP: usize = 2;

fn write_table(out: &mut impl Write, store: &Store, sessions: &[Listed]) -> io::Result<()> {
    let mut rows: Vec<[String; 7]> = sessions
        .iter()
        .map(|s| {
            let m = &s.meta;
            [
                m.id.short().to_owned(),
                format_local(m.started),
                format_duration(duration_so_far(m)),
                m.status.as_str().to_owned(),
                format_size(store.session(&m.id).size_on_disk()),
                printable(&m.tags.join(",")).into_owned(),
                printable(m.display_title()).into_owned(),
            ]
        })
        .collect();
    let mut head = HEAD.map(String::from);
    let has_tags = rows.iter().any(|r| !r[TAGS].is_empty());
    if let Some(columns) = width() {
        fit(&mut head, &mut rows, columns, has_tags);
    }
    let mut widths = [0usize; 7];
    for row in std::iter::once(&head).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.width());
        }
    }
    for row in std::iter::once(&head).chain(&rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i == TAGS && !has_tags {
                continue;
            }
            if i > 0 {
                line.push_str(&" ".repeat(GAP));
            }
            // Right-align the numbers, left-align the words; no padding after the last.
            let pad = " ".repeat(widths[i] - cell.width());
            if i == 2 || i == 4 {
                line.push_str(&pad);
                line.push_str(cell);
            } else {
                line.push_str(cell);
                if i != TITLE {
                    line.push_str(&pad);
                }
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// The terminal's width when standard output is one (its size, else `$COLUMNS`, else
/// 80); `None` for a pipe or a file, which get whole lines, as `grep` would want them.
fn width() -> Option<usize> {
    let stdout = io::stdout();
    if !stdout.is_terminal() {
        return None;
    }
    let columns = fixcast_recorder::tty::size_of(&stdout)
        .map(|(cols, _)| usize::from(cols))
        .or_else(|| std::env::var("COLUMNS").ok()?.trim().parse().ok())
        .filter(|&c| c > 0);
    Some(columns.unwrap_or(80))
}

/// Cuts the tags and titles so that rows fit in `columns`: the title keeps most of what
/// the other columns leave, the tags at most a third of it. Below a few columns each
/// they are cut no further (the rows wrap rather than show nothing).
fn fit(head: &mut [String; 7], rows: &mut [[String; 7]], columns: usize, has_tags: bool) {
    let widest = |i: usize, head: &[String; 7], rows: &[[String; 7]]| {
        std::iter::once(head)
            .chain(rows.iter())
            .map(|r| r[i].width())
            .max()
            .unwrap_or(0)
    };
    let fixed: usize = (0..TAGS).map(|i| widest(i, head, rows) + GAP).sum();
    let tags = if has_tags {
        widest(TAGS, head, rows)
    } else {
        0
    };
    let title = widest(TITLE, head, rows);
    let room = columns.saturating_sub(fixed);
    let tags_room = if has_tags { GAP } else { 0 };
    if tags + tags_room + title <= room {
        return;
    }
    let (tags_max, title_max) = if has_tags {
        let t = tags.min((room / 3).max(HEAD[TAGS].len()));
        (t, room.saturating_sub(t + GAP).max(HEAD[TITLE].len()))
    } else {
        (0, room.max(HEAD[TITLE].len()))
    };
    for row in std::iter::once(head).chain(rows.iter_mut()) {
        if has_tags {
            row[TAGS] = cut(&row[TAGS], tags_max);
        }
        row[TITLE] = cut(&row[TITLE], title_max);
    }
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
