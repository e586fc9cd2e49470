//! The query language, parsed by hand so that every error says where it is and what to
//! do, and no input panics.
//!
//! ```text
//! query  := group (WS group)*            all groups must match
//! group  := clause (WS "OR" WS clause)*  any clause of a group may match
//! clause := ["-" | "NOT" WS] term        "-" excludes (but `-i`, `-rf`, `--force` are flags)
//! term   := FIELD ":" value | value
//! value  := WORD | '"' phrase '"'
//! ```

use std::fmt;

use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Where a text term is looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextField {
    /// Bare words: command, output, title, tags, notes.
    Any,
    Cmd,
    Out,
    Cwd,
    Host,
    User,
    Shell,
    Tag,
    Title,
    Notes,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Term {
    Text {
        field: TextField,
        text: String,
        /// Quoted: the words must follow each other.
        phrase: bool,
    },
    /// `exit:N`, or `exit:!N` when `not`.
    Exit {
        code: i64,
        not: bool,
    },
    /// A session id prefix (upper case).
    Session(String),
    /// `session:last` (0) or `session:last~N`: a session named by recency, which only
    /// the store can tell; see [`Query::resolve_recent`].
    SessionBack(usize),
    After(OffsetDateTime),
    Before(OffsetDateTime),
    Suspicious(bool),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Clause {
    pub negated: bool,
    pub term: Term,
}

/// A parsed query: every group must match; a group matches when any of its clauses does.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub(crate) groups: Vec<Vec<Clause>>,
}

impl Query {
    /// Puts the session id `resolve` gives for each `session:last` or `session:last~N`
    /// (it is called with `last` or `last~N`) in its place. A query whose recency names
    /// are not resolved finds nothing for them.
    pub fn resolve_recent<E>(
        &mut self,
        mut resolve: impl FnMut(&str) -> Result<String, E>,
    ) -> Result<(), E> {
        for clause in self.groups.iter_mut().flatten() {
            if let Term::SessionBack(n) = clause.term {
                let name = match n {
                    0 => "last".to_owned(),
                    n => format!("last~{n}"),
                };
                clause.term = Term::Session(resolve(&name)?.to_ascii_uppercase());
            }
        }
        Ok(())
    }
}

/// What dates in a query are relative to.
#[derive(Debug, Clone, Copy)]
pub struct ParseContext {
    pub now: OffsetDateTime,
    /// The zone `after:2026-01-01` is midnight in.
    pub offset: UtcOffset,
}

impl Default for ParseContext {
    fn default() -> Self {
        ParseContext {
            now: OffsetDateTime::now_utc(),
            offset: UtcOffset::UTC,
        }
    }
}

/// A query that cannot be run: where (1-based column, in characters), what, and the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct QueryError {
    pub column: usize,
    pub message: String,
}

fn err<T>(column: usize, message: impl Into<String>) -> Result<T, QueryError> {
    Err(QueryError {
        column,
        message: message.into(),
    })
}

/// The fields a user can name, with the aliases accepted for them.
const FIELDS: &[(&str, &str)] = &[
    ("cmd", "cmd"),
    ("command", "cmd"),
    ("out", "out"),
    ("output", "out"),
    ("cwd", "cwd"),
    ("dir", "cwd"),
    ("exit", "exit"),
    ("status", "exit"),
    ("host", "host"),
    ("user", "user"),
    ("shell", "shell"),
    ("tag", "tag"),
    ("tags", "tag"),
    ("title", "title"),
    ("notes", "notes"),
    ("note", "notes"),
    ("session", "session"),
    ("id", "session"),
    ("after", "after"),
    ("since", "after"),
    ("before", "before"),
    ("until", "before"),
    ("suspicious", "suspicious"),
];

/// One whitespace-separated piece of the query, quotes resolved.
#[derive(Debug)]
struct Piece {
    column: usize,
    /// The text as typed (for `OR`, `NOT`, fields and flags).
    raw: String,
    /// Column (in characters, from the piece start) of the first quote, if any.
    quote_at: Option<usize>,
}

fn split(input: &str) -> Result<Vec<Piece>, QueryError> {
    let mut pieces = Vec::new();
    let mut chars = input.chars().enumerate().peekable();
    while let Some(&(col, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut raw = String::new();
        let mut quote_at = None;
        let mut in_quote: Option<usize> = None;
        while let Some(&(i, c)) = chars.peek() {
            if in_quote.is_none() && c.is_whitespace() {
                break;
            }
            chars.next();
            if c == '"' {
                if in_quote.is_some() {
                    in_quote = None;
                } else {
                    in_quote = Some(i);
                    quote_at.get_or_insert(raw.chars().count());
                }
            } else if c == '\\' && in_quote.is_some() {
                if let Some(&(_, next)) = chars.peek() {
                    if next == '"' || next == '\\' {
                        chars.next();
                        raw.push('\u{0}');
                        raw.push(next);
                        continue;
                    }
                }
            }
            raw.push(c);
        }
        if let Some(q) = in_quote {
            return err(
                q + 1,
                "unclosed quote; add a closing \" (or escape a literal one as \\\")",
            );
        }
        pieces.push(Piece {
            column: col + 1,
            raw,
            quote_at,
        });
    }
    Ok(pieces)
}

/// The text of a value: quotes removed, escapes resolved.
fn unquote(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut escaped = false;
    for c in s.chars() {
        if escaped {
            out.push(c);
            escaped = false;
        } else if c == '\u{0}' {
            escaped = true;
        } else if c != '"' {
            out.push(c);
        }
    }
    out
}

/// `-i`, `-rf`, `-xvf`, `--force`: searched as typed, not exclusions.
fn looks_like_flag(s: &str) -> bool {
    let rest = &s[1..];
    rest.starts_with('-') && rest.len() > 1
        || (1..=3).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Parses a query.
pub fn parse(input: &str, ctx: &ParseContext) -> Result<Query, QueryError> {
    let pieces = split(input)?;
    let mut groups: Vec<Vec<Clause>> = Vec::new();
    let mut join_next = false;
    let mut negate_next: Option<usize> = None;
    for (i, p) in pieces.iter().enumerate() {
        if p.quote_at.is_none() && p.raw == "OR" {
            if groups.is_empty() || join_next || negate_next.is_some() {
                return err(
                    p.column,
                    "OR needs a term before it (to search for the word, quote it: \"OR\")",
                );
            }
            if i + 1 == pieces.len() {
                return err(
                    p.column,
                    "OR needs a term after it (to search for the word, quote it: \"OR\")",
                );
            }
            join_next = true;
            continue;
        }
        if p.quote_at.is_none() && p.raw == "NOT" {
            if negate_next.is_some() || i + 1 == pieces.len() {
                return err(
                    p.column,
                    "NOT needs a term after it (to search for the word, quote it: \"NOT\")",
                );
            }
            negate_next = Some(p.column);
            continue;
        }
        let mut clause = clause(p, ctx)?;
        if negate_next.take().is_some() {
            clause.negated = !clause.negated;
        }
        if join_next {
            groups.last_mut().expect("checked above").push(clause);
            join_next = false;
        } else {
            groups.push(vec![clause]);
        }
    }
    if groups.is_empty() {
        return err(
            1,
            "empty query; give a word to look for, e.g. fixcast search 'chattr'",
        );
    }
    Ok(Query { groups })
}

fn clause(p: &Piece, ctx: &ParseContext) -> Result<Clause, QueryError> {
    let mut raw = p.raw.as_str();
    let mut column = p.column;
    let mut negated = false;
    let quoted_from_start = p.quote_at == Some(0);
    if raw.len() > 1 && raw.starts_with('-') && p.quote_at != Some(0) && !looks_like_flag(raw) {
        negated = true;
        raw = &raw[1..];
        column += 1;
    }
    // `field:value`: a name of ASCII letters, then a value that is not `//…` (URLs) or
    // `:…` (`std::io`).
    if p.quote_at.is_none_or(|q| q > 0) && !quoted_from_start {
        if let Some((name, value)) = raw.split_once(':') {
            let is_name = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphabetic());
            let value_ok = !value.is_empty() && !value.starts_with("//") && !value.starts_with(':');
            let quote_in_name = p.quote_at.is_some_and(|q| q < name.chars().count());
            // `cmd:` alone (or `cmd: chattr`, with a space) would search for the text
            // `cmd:` and find nothing: a known field with no value is an error. An unknown
            // name stays text (`error:` is what output says).
            let lower = name.to_ascii_lowercase();
            let field = FIELDS.iter().find(|(n, _)| *n == lower);
            if let Some((_, canonical)) = field.filter(|_| value.is_empty() && !quote_in_name) {
                return err(
                    column + name.chars().count() + 1,
                    format!(
                        "{canonical}: needs a value right after the colon, e.g. {name}:VALUE; to search for the text itself, quote it: \"{name}:\""
                    ),
                );
            }
            if is_name && value_ok && !quote_in_name {
                let value_column = column + name.chars().count() + 1;
                let term = field_term(name, value, column, value_column, ctx)?;
                return Ok(Clause { negated, term });
            }
        }
    }
    let phrase = p.quote_at.is_some();
    let text = unquote(raw);
    if text.trim().is_empty() {
        return err(column, "empty term; put some text between the quotes");
    }
    Ok(Clause {
        negated,
        term: Term::Text {
            field: TextField::Any,
            text,
            phrase,
        },
    })
}

fn field_term(
    name: &str,
    value: &str,
    column: usize,
    value_column: usize,
    ctx: &ParseContext,
) -> Result<Term, QueryError> {
    let lower = name.to_ascii_lowercase();
    let Some(&(_, canonical)) = FIELDS.iter().find(|(n, _)| *n == lower) else {
        let quote = format!(
            "to search for the text itself, quote it: \"{name}:{}\"",
            unquote(value)
        );
        let hint = match did_you_mean(&lower) {
            Some(f) => format!(" (did you mean '{f}'?); {quote}"),
            None => format!(
                "; fields are cmd, out, cwd, exit, host, user, shell, tag, title, notes, session, after, before, suspicious; {quote}"
            ),
        };
        return err(column, format!("unknown field '{name}'{hint}"));
    };
    let quoted = value.contains('"');
    let text = unquote(value);
    if text.trim().is_empty() {
        return err(value_column, format!("{canonical}: needs a value"));
    }
    let text_field = |field| {
        Ok(Term::Text {
            field,
            text: text.clone(),
            phrase: quoted,
        })
    };
    match canonical {
        "cmd" => text_field(TextField::Cmd),
        "out" => text_field(TextField::Out),
        "cwd" => text_field(TextField::Cwd),
        "host" => text_field(TextField::Host),
        "user" => text_field(TextField::User),
        "shell" => text_field(TextField::Shell),
        "tag" => text_field(TextField::Tag),
        "title" => text_field(TextField::Title),
        "notes" => text_field(TextField::Notes),
        "exit" => {
            let (not, digits) = match text.strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, text.as_str()),
            };
            match digits.parse::<i64>() {
                Ok(code) => Ok(Term::Exit { code, not }),
                Err(_) => err(
                    value_column,
                    format!("exit: expects a number, e.g. exit:0, or exit:!0 for any failure (got '{text}')"),
                ),
            }
        }
        "session" => {
            let lower = text.to_ascii_lowercase();
            if let Some(back) = lower.strip_prefix("last") {
                let n = match back.strip_prefix('~') {
                    None if back.is_empty() => Some(0),
                    Some(d) if !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()) => {
                        d.parse().ok()
                    }
                    _ => None,
                };
                return n.map(Term::SessionBack).ok_or_else(|| QueryError {
                    column: value_column,
                    message: format!(
                        "session: expects last or last~N (N a number, e.g. session:last~1; got '{text}')"
                    ),
                });
            }
            let ok = text.len() <= 26 && text.bytes().all(|b| b.is_ascii_alphanumeric());
            if !ok {
                return err(
                    value_column,
                    format!("session: expects a session id or the start of one, e.g. session:01J8 (got '{text}')"),
                );
            }
            Ok(Term::Session(text.to_ascii_uppercase()))
        }
        "after" | "before" => {
            let t = parse_time(&text, ctx).ok_or_else(|| QueryError {
                column: value_column,
                message: format!(
                    "{canonical}: bad date '{text}'; use YYYY-MM-DD (e.g. {canonical}:2026-01-31), YYYY-MM-DDTHH:MM, today, yesterday, or an age like 12h, 7d, 2w"
                ),
            })?;
            Ok(if canonical == "after" {
                Term::After(t)
            } else {
                Term::Before(t)
            })
        }
        "suspicious" => match text.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Ok(Term::Suspicious(true)),
            "false" | "no" | "0" => Ok(Term::Suspicious(false)),
            _ => err(
                value_column,
                format!("suspicious: expects true or false (got '{text}')"),
            ),
        },
        _ => unreachable!("every canonical field is handled"),
    }
}

/// The canonical name of the field closest to `name`, if it is close enough to be a typo.
fn did_you_mean(name: &str) -> Option<&'static str> {
    FIELDS
        .iter()
        .map(|(alias, canonical)| (edit_distance(name, alias), *canonical))
        .filter(|(d, _)| *d <= 2.max(name.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// A point in time from `after:`/`before:` values. A day means its midnight (in the
/// context's zone); `before:` a day excludes that day, `after:` includes it.
fn parse_time(s: &str, ctx: &ParseContext) -> Option<OffsetDateTime> {
    let today = ctx.now.to_offset(ctx.offset).date();
    let midnight = |d: Date| PrimitiveDateTime::new(d, Time::MIDNIGHT).assume_offset(ctx.offset);
    match s.to_ascii_lowercase().as_str() {
        "today" => return Some(midnight(today)),
        "yesterday" => return Some(midnight(today.previous_day()?)),
        _ => {}
    }
    if let Some(unit) = s.chars().last().filter(|c| "hdw".contains(*c)) {
        if let Ok(n) = s[..s.len() - 1].parse::<i64>() {
            let d = match unit {
                'h' => Duration::hours(n.clamp(0, 1_000_000)),
                'd' => Duration::days(n.clamp(0, 100_000)),
                _ => Duration::weeks(n.clamp(0, 10_000)),
            };
            return ctx.now.checked_sub(d);
        }
    }
    let date_fmt = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(d) = Date::parse(s, &date_fmt) {
        return Some(midnight(d));
    }
    let dt_fmts = [
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]"),
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
    ];
    dt_fmts
        .iter()
        .find_map(|f| PrimitiveDateTime::parse(s, f).ok())
        .map(|t| t.assume_offset(ctx.offset))
}

impl fmt::Display for TextField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TextField::Any => "any",
            TextField::Cmd => "cmd",
            TextField::Out => "out",
            TextField::Cwd => "cwd",
            TextField::Host => "host",
            TextField::User => "user",
            TextField::Shell => "shell",
            TextField::Tag => "tag",
            TextField::Title => "title",
            TextField::Notes => "notes",
        })
    }
}

#[cfg(test)]
mod tests;
