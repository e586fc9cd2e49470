//! Fix records: for each command that failed, what made it work. Derived from a
//! session's commands (never stored as the only copy of anything), so they are rebuilt
//! whenever the commands are.
//!
//! A failure (the *symptom*) is *resolved* by a later **retry** that succeeded: the same
//! command once paths, numbers and ids are masked, or the same program with wrappers or
//! arguments added (`sudo`, a variable, a flag). The commands between are the
//! investigation: the read-only ones ([`ReadOnly`]) are *diagnostics*, those that changed
//! state are the *fix*, and the retry is the *verification*. A retry that differs from
//! the failure and has nothing between carries its own fix: the difference. With no
//! retry, a later state-changing command on the same operands that succeeded (`rmdir
//! old` failing, then `rm -r old`) did the job instead. A fix the person marked wins over
//! all of it.

use serde::{Deserialize, Serialize};

use crate::command::CommandRecord;
use crate::read_only::ReadOnly;
use crate::shell_words::{simple_commands, Simple};

/// How a symptom's fix was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Found {
    /// A later retry of the failed command succeeded.
    Retry,
    /// The person marked the fix (`fixcast edit --fix`, the web page).
    Marked,
    /// No retry, but a later command on the same operands succeeded instead.
    Alternative,
    /// Nothing later made it work.
    Unresolved,
}

impl Found {
    /// How it was found, in words: `retry 2.4s later succeeded`, with the seconds from
    /// the failure to its successful retry.
    pub fn told(self, after: Option<f64>) -> String {
        match (self, after) {
            (Found::Marked, _) => "marked as the fix".into(),
            (Found::Alternative, _) => "did the job instead".into(),
            (Found::Unresolved, _) => "unresolved".into(),
            (Found::Retry, Some(after)) => format!("retry {after:.1}s later succeeded"),
            (Found::Retry, None) => "retry succeeded".into(),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Found::Retry => "retry",
            Found::Marked => "marked",
            Found::Alternative => "alternative",
            Found::Unresolved => "unresolved",
        }
    }
}

/// One failure and what followed it, by command `seq`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FixRecord {
    /// The failed command.
    pub symptom: u32,
    /// Its first error lines.
    pub error: Vec<String>,
    /// Read-only commands run between the failure and the fix's verification.
    pub diagnostics: Vec<u32>,
    /// The command(s) that made it work; empty when unresolved (or a plain retry worked).
    pub fix: Vec<u32>,
    /// The retry that succeeded.
    pub verification: Option<u32>,
    pub found: Found,
    /// For an unresolved failure: what was tried next.
    pub next_steps: Vec<u32>,
}

impl FixRecord {
    pub fn is_resolved(&self) -> bool {
        self.found != Found::Unresolved
    }
}

/// Exit statuses that mean the person stopped the command (Ctrl-C, Ctrl-Z), not that it
/// failed.
fn interrupted(exit: i32) -> bool {
    matches!(exit, 130 | 146 | 148)
}

/// Whether an exit status is a failure: not zero, and not the person stopping it.
pub fn failed_status(exit: i32) -> bool {
    exit != 0 && !interrupted(exit)
}

/// Whether a command failed: a non-zero status, or (status unknown) an error line.
pub fn failed(c: &CommandRecord) -> bool {
    match c.exit {
        Some(e) => failed_status(e),
        None => !c.errors.is_empty(),
    }
}

fn succeeded(c: &CommandRecord) -> bool {
    match c.exit {
        Some(e) => e == 0,
        None => c.errors.is_empty(),
    }
}

/// How far after a failure its retry, or the command that did the job, is looked for.
const WINDOW: usize = 40;
const ALTERNATIVE_WINDOW: usize = 8;

/// The fix records of a session's commands (in `seq` order), with the command the person
/// marked as the fix, if any.
pub fn derive(commands: &[CommandRecord], marked: Option<u32>, ro: &ReadOnly) -> Vec<FixRecord> {
    let parsed: Vec<Parsed> = commands.iter().map(|c| Parsed::new(c, ro)).collect();
    let mut records = Vec::new();
    for (i, c) in commands.iter().enumerate() {
        // A read-only command that failed quietly (`grep` finding nothing) is a look,
        // not a symptom.
        if !failed(c) || (parsed[i].read_only && c.errors.is_empty()) {
            continue;
        }
        records.push(resolve(commands, &parsed, i));
    }
    if let Some(fix) = marked {
        apply_marked(&mut records, commands, &parsed, fix);
    }
    records
}

/// A command line taken apart once.
struct Parsed {
    simple: Vec<Simple>,
    /// Per simple command: whether it only looks.
    looks: Vec<bool>,
    read_only: bool,
}

impl Parsed {
    fn new(c: &CommandRecord, ro: &ReadOnly) -> Parsed {
        let simple = simple_commands(&c.command);
        let looks: Vec<bool> = simple.iter().map(|s| ro.simple(s)).collect();
        let read_only = looks.iter().all(|&l| l);
        Parsed {
            simple,
            looks,
            read_only,
        }
    }

    /// The simple commands a retry is compared with: in a line that also changes
    /// something, the looks around it (`cd dir && ./tool`) are not what failed.
    fn significant(&self) -> impl Iterator<Item = &Simple> {
        let all = self.read_only;
        self.simple
            .iter()
            .zip(&self.looks)
            .filter(move |(_, &looks)| all || !looks)
            .map(|(s, _)| s)
    }
}

fn resolve(commands: &[CommandRecord], parsed: &[Parsed], i: usize) -> FixRecord {
    let symptom = &commands[i];
    let mut record = FixRecord {
        symptom: symptom.seq,
        error: symptom.errors.clone(),
        diagnostics: Vec::new(),
        fix: Vec::new(),
        verification: None,
        found: Found::Unresolved,
        next_steps: Vec::new(),
    };
    let end = commands.len().min(i + 1 + WINDOW);
    // Where the current attempt at a fix started: after the last retry that failed.
    let mut attempt = i + 1;
    for j in i + 1..end {
        let Some(kind) = retry_of(&parsed[i], &parsed[j]) else {
            continue;
        };
        if failed(&commands[j]) {
            attempt = j + 1;
            continue;
        }
        if !succeeded(&commands[j]) {
            continue;
        }
        record.found = Found::Retry;
        record.verification = Some(commands[j].seq);
        for k in i + 1..j {
            if parsed[k].read_only {
                record.diagnostics.push(commands[k].seq);
            } else if k >= attempt && succeeded(&commands[k]) {
                record.fix.push(commands[k].seq);
            }
        }
        if record.fix.is_empty() && kind == Retry::Changed {
            record.fix.push(commands[j].seq);
        }
        return record;
    }
    // No retry: a later command that did the same job another way.
    let alt_end = commands.len().min(i + 1 + ALTERNATIVE_WINDOW);
    for j in i + 1..alt_end {
        if !parsed[j].read_only && succeeded(&commands[j]) && same_operands(&parsed[i], &parsed[j])
        {
            record.found = Found::Alternative;
            record.fix.push(commands[j].seq);
            record.diagnostics = (i + 1..j)
                .filter(|&k| parsed[k].read_only)
                .map(|k| commands[k].seq)
                .collect();
            return record;
        }
    }
    record.next_steps = commands[i + 1..commands.len().min(i + 4)]
        .iter()
        .map(|c| c.seq)
        .collect();
    record
}

/// The person's mark wins: the failure it fixes is the last one before it.
fn apply_marked(
    records: &mut [FixRecord],
    commands: &[CommandRecord],
    parsed: &[Parsed],
    fix: u32,
) {
    let Some(r) = records.iter_mut().rev().find(|r| r.symptom < fix) else {
        return;
    };
    r.found = Found::Marked;
    r.fix = vec![fix];
    r.next_steps.clear();
    if r.verification.is_some_and(|v| v <= fix) {
        r.verification = None;
    }
    r.diagnostics = commands
        .iter()
        .zip(parsed)
        .filter(|(c, p)| c.seq > r.symptom && c.seq < fix && p.read_only)
        .map(|(c, _)| c.seq)
        .collect();
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retry {
    /// The same command (paths, numbers and ids masked).
    Same,
    /// The same program with something added: its own fix.
    Changed,
}

/// Whether `later` retries `failure`: its first simple command is one of the failure's,
/// masked, or the same program on a superset of its arguments, or (a `-c` script, a
/// long line) mostly the same words.
fn retry_of(failure: &Parsed, later: &Parsed) -> Option<Retry> {
    let first = later.simple.first()?;
    let (lw, l_wrapped) = first.unwrapped();
    let lkey: Vec<String> = lw.iter().map(|w| mask(w)).collect();
    if lkey.is_empty() {
        return None;
    }
    for s in failure.significant() {
        let (fw, f_wrapped) = s.unwrapped();
        let fkey: Vec<String> = fw.iter().map(|w| mask(w)).collect();
        if fkey.is_empty() || fkey[0] != lkey[0] {
            continue;
        }
        if fkey == lkey {
            let changed = l_wrapped && !f_wrapped || first.words.len() > s.words.len();
            return Some(if changed { Retry::Changed } else { Retry::Same });
        }
        if fkey.iter().all(|w| lkey.contains(w)) {
            return Some(Retry::Changed);
        }
        if word_overlap(&fkey, &lkey) >= 0.6 && fkey.len() >= 2 && fkey[1] == lkey[1] {
            return Some(Retry::Same);
        }
    }
    None
}

/// The share of alphanumeric pieces two commands have in common (Jaccard).
fn word_overlap(a: &[String], b: &[String]) -> f64 {
    let pieces = |w: &[String]| -> std::collections::BTreeSet<String> {
        w.iter()
            .flat_map(|s| {
                s.split(|c: char| !c.is_alphanumeric() && c != '_')
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let (a, b) = (pieces(a), pieces(b));
    let union = a.union(&b).count();
    if union == 0 {
        return 0.0;
    }
    a.intersection(&b).count() as f64 / union as f64
}

/// Whether two commands act on the same things: the failure's operands (words that are
/// not the program or options) all appear among the later command's.
fn same_operands(failure: &Parsed, later: &Parsed) -> bool {
    let operands = |p: &Parsed| -> Vec<String> {
        p.simple
            .iter()
            .flat_map(|s| {
                let (w, _) = s.unwrapped();
                w.iter()
                    .skip(1)
                    .filter(|a| !a.starts_with('-'))
                    .map(|a| mask(a))
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let (f, l) = (operands(failure), operands(later));
    !f.is_empty() && f.iter().all(|o| l.contains(o))
}

/// A word with what changes between runs masked: a path is its last part, runs of digits
/// are `0`, long hex ids are `x`.
fn mask(word: &str) -> String {
    let word = word.trim_end_matches('/');
    let base = if word.contains('/') && !word.contains(char::is_whitespace) {
        word.rsplit('/').next().unwrap_or(word)
    } else {
        word
    };
    if base.len() >= 8 && base.chars().all(|c| c.is_ascii_hexdigit()) {
        return "x".into();
    }
    crate::error_lines::digits_masked(base)
}

#[cfg(test)]
#[path = "fix_tests.rs"]
mod tests;
