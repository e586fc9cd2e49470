//! Lines as the cutter reads them: logical lines off the vt100 screen (soft-wrapped
//! rows joined) and a command's text trimmed of its frame.

/// The logical line (soft-wrapped rows joined) that ends on the row above the cursor,
/// from column `col` of its first row, without trailing blanks.
pub(super) fn line_above_cursor(screen: &vt100::Screen, col: u16) -> Option<String> {
    let (row, _) = screen.cursor_position();
    let last = row.checked_sub(1)?;
    let mut first = last;
    while first > 0 && screen.row_wrapped(first - 1) {
        first -= 1;
    }
    let cols = screen.size().1;
    let text = screen.contents_between(first, col.min(cols), last, cols);
    Some(text.trim_end().to_owned())
}

/// The cursor's logical line: its row joined with the rows it wrapped from and onto.
pub(super) fn cursor_line(screen: &vt100::Screen) -> String {
    let (rows, cols) = screen.size();
    let (row, _) = screen.cursor_position();
    let mut first = row;
    while first > 0 && screen.row_wrapped(first - 1) {
        first -= 1;
    }
    let mut last = row;
    while last + 1 < rows && screen.row_wrapped(last) {
        last += 1;
    }
    let mut line: String = screen
        .rows(0, cols)
        .skip(usize::from(first))
        .take(usize::from(last - first) + 1)
        .collect();
    line.truncate(line.trim_end().len());
    line
}

/// `text` without its last line (trailing newlines do not count as lines).
pub(super) fn without_last_line(text: &str) -> &str {
    let t = text.trim_end_matches('\n');
    match t.rfind('\n') {
        Some(i) => &t[..=i],
        None => "",
    }
}

/// `text` without its leading and trailing blank lines, ending in one newline (empty
/// when it is all blank).
pub(super) fn trim_blank_lines(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let first = lines.iter().position(|l| !l.trim().is_empty());
    let last = lines.iter().rposition(|l| !l.trim().is_empty());
    match (first, last) {
        (Some(a), Some(b)) => {
            let mut s = lines[a..=b].join("\n");
            s.push('\n');
            s
        }
        _ => String::new(),
    }
}
