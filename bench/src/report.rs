//! The one table `fixcast-bench all` ends with: every section adds its headline figures
//! here as it measures them, and the table is printed (and written as Markdown with
//! `--table FILE`, the table PERFORMANCE.md holds) once all sections have run.
//!
//! A row says what was measured, the figure, what it is measured against (the anchor,
//! measured in the same run where there is one), and the goal it is read against. The
//! "reads" column is a reading for people, never an assertion: a missed goal does not
//! fail the run.

use std::fmt::Write as _;
use std::sync::Mutex;

/// One figure of the table.
#[derive(Debug, Clone)]
pub struct Row {
    /// The section that measured it (`throughput`, `index`, …).
    pub section: String,
    /// What was measured, e.g. "wall vs `script -q -c`, 135 MB flood".
    pub figure: String,
    /// The figure itself with its unit, e.g. "0.78× (1.52 s vs 1.95 s)".
    pub value: String,
    /// What it is compared with, e.g. "asciinema 3.2: 0.97×" ("—" when nothing).
    pub anchor: String,
    /// The goal, e.g. "≤ 0.80×" ("—" when none).
    pub goal: String,
    /// Whether the goal is met, when the row has a goal that can be read off.
    pub met: Option<bool>,
}

static ROWS: Mutex<Vec<Row>> = Mutex::new(Vec::new());

/// Adds a row to the table (sections call this with their headline figures).
pub fn figure(
    section: &str,
    figure: impl Into<String>,
    value: impl Into<String>,
    anchor: impl Into<String>,
    goal: impl Into<String>,
    met: Option<bool>,
) {
    let row = Row {
        section: section.to_owned(),
        figure: figure.into(),
        value: value.into(),
        anchor: anchor.into(),
        goal: goal.into(),
        met,
    };
    ROWS.lock().unwrap_or_else(|p| p.into_inner()).push(row);
}

/// The rows added so far, in the order they were added.
pub fn rows() -> Vec<Row> {
    ROWS.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

/// The table as Markdown (GitHub tables; `|` in cells escaped).
pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::from(
        "| section | figure | measured | anchor (same run) | goal | reads |\n|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let reads = match r.met {
            Some(true) => "met",
            Some(false) => "not met",
            None => "—",
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {reads} |",
            cell(&r.section),
            cell(&r.figure),
            cell(&r.value),
            cell(&r.anchor),
            cell(&r.goal)
        );
    }
    out
}

fn cell(s: &str) -> String {
    let s = s.trim();
    if s.is_empty() {
        "—".to_owned()
    } else {
        s.replace('|', "\\|").replace('\n', " ")
    }
}

/// `a / b` as a ratio `0.78×`, or "—" when `b` is not positive.
pub fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 && a.is_finite() {
        format!("{:.2}×", a / b)
    } else {
        "—".to_owned()
    }
}

/// A count as people say it: `100k`, `1M`, `10M`, `2,000`.
pub fn count(n: usize) -> String {
    match n {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}
