//! The search results page: hits grouped by session (sessions in the order of their
//! best hit, as `fixcast search --sessions` groups them), each group headed by its
//! session and the start of its notes. The API keeps its flat list.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use fixcast_indexer::{Hit, Step};
use maud::{html, Markup};

use crate::error::{Error, PageError};
use crate::html::{
    date, duration, exit_badge, from_first_match, highlighted, offset, pager, suspicious_note,
    url_encode, who, Text,
};
use crate::pages::{page, PER_PAGE};
use crate::query::{whole, PageNo, Query};
use crate::search::{group, hit_url, run_search, session_notes, short_id, step_url, Text as Q};
use crate::AppState;

/// Lines a hit's snippet box shows whole before it scrolls: `.snippet` in app.css is at
/// most 12em high (156 px, 12 px of it padding) with lines of 13 px × 1.45.
const SNIPPET_LINES: usize = 7;

/// Characters of a session's notes shown above its hits.
const NOTES_EXCERPT: usize = 240;

pub async fn results(
    State(state): State<AppState>,
    text: Result<Query<Q>, Error>,
    page_no: Result<Query<PageNo>, Error>,
) -> Result<Response, PageError> {
    let q = text?.0.q;
    if q.trim().is_empty() {
        return Ok(axum::response::Redirect::to("/").into_response());
    }
    let page_no = whole(page_no?.0.page, 1, 1_000).max(1);
    let hits = match run_search(&state, &q, PER_PAGE + 1, (page_no - 1) * PER_PAGE).await {
        Ok(h) => h,
        Err(e @ (Error::Query(_) | Error::BadRequest(_))) => {
            let body = html! {
                main class="results" { p class="error" role="alert" { (Text(&e.to_string())) } }
            };
            let mut res = page("Search", &q, body);
            *res.status_mut() = e.status();
            return Ok(res);
        }
        Err(e) => return Err(e.into()),
    };
    let shown: Vec<Hit> = hits.iter().take(PER_PAGE).cloned().collect();
    let notes = session_notes(&state, &shown).await;
    let base = format!("/search?q={}&", url_encode(&q));
    // The query is shown as typed: quoting it again would double its own quotes.
    let body = html! {
        main class="results" {
            h1 { "Results for " code class="query" { (Text(&q)) } }
            @if hits.is_empty() && page_no > 1 {
                p class="empty" {
                    "Page " (page_no) " is past the end of the results. "
                    a href={ "/search?q=" (url_encode(&q)) } { "First page" }
                }
            } @else if hits.is_empty() {
                p class="empty" { "No matches; try fewer or looser terms." }
            } @else if hits[0].partial {
                p class="partial" role="status" { "No command has all words; closest matches:" }
            }
            ol class="groups" {
                @for g in group(&shown) { (group_html(&g, notes.get(g[0].session.as_str()))) }
            }
            (pager(&base, page_no, hits.len() > PER_PAGE))
        }
    };
    Ok(page(&format!("{q} – search"), &q, body))
}

/// The first line of the notes that says something, cut at a word near
/// [`NOTES_EXCERPT`] characters.
fn excerpt(notes: &str) -> Option<String> {
    let line = notes.lines().map(str::trim).find(|l| !l.is_empty())?;
    if line.chars().count() <= NOTES_EXCERPT {
        let more = notes.trim().len() > line.len();
        return Some(if more {
            format!("{line} …")
        } else {
            line.to_owned()
        });
    }
    let cut: String = line.chars().take(NOTES_EXCERPT).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(a, _)| a);
    Some(format!("{cut} …"))
}

fn group_html(hits: &[&Hit], notes: Option<&String>) -> Markup {
    let first = hits[0];
    let title = first.title.as_deref().unwrap_or("");
    html! {
        li class="group" {
            div class="group-head" {
                a class="title" href={ "/s/" (Text(first.session.as_str())) } {
                    (Text(if title.is_empty() { "session" } else { title }))
                }
                "\n"
                div class="meta" {
                    code { (Text(short_id(&first.session))) } " · " (date(first.started))
                    (who(&first.user, &first.host)) " · "
                    @if hits.len() == 1 { "1 hit" } @else { (hits.len()) " hits" }
                }
                @if let Some(n) = notes.and_then(|n| excerpt(n)) {
                    p class="notes-excerpt" { (Text(&n)) }
                }
            }
            ol class="hits" {
                "\n"
                @for h in hits { (hit_html(h)) }
            }
        }
        "\n"
    }
}

fn hit_html(h: &Hit) -> Markup {
    html! {
        li class="hit" {
            a class="cmdline" href=(hit_url(h)) { (exit_badge(h.exit)) code { (Text(&h.command)) } }
            (suspicious_note(&h.confusables))
            "\n"
            div class="meta" {
                "at " (offset(h.offset)) " · " (duration(h.duration))
                @if let Some(c) = &h.cwd { " · " code { (Text(c)) } }
            }
            "\n"
            // A command with no output has nothing to show: no empty bar.
            @if !h.snippet.text.trim().is_empty() {
                @let (text, marks) = from_first_match(&h.snippet.text, &h.snippet.highlights, SNIPPET_LINES);
                pre class="snippet" { (highlighted(&text, &marks)) }
            }
            (fix_lines(h))
        }
        "\n"
    }
}

/// A command of a fix record, with its replay link.
fn step_link(h: &Hit, step: &Step) -> Markup {
    html! {
        a href=(step_url(h.session.as_str(), step.offset, step.seq)) {
            code { (Text(step.command.lines().next().unwrap_or_default())) }
        }
    }
}

/// Steps as links, `sep` between them.
fn step_links(h: &Hit, steps: &[Step], sep: &str) -> Markup {
    html! {
        @for (i, s) in steps.iter().enumerate() {
            @if i > 0 { (sep) }
            (step_link(h, s))
        }
    }
}

/// What the fix records say of a hit, each command with its replay link: a failure's
/// fix (or that nothing fixed it), the failure a fix fixed, the fix a retry verified.
fn fix_lines(h: &Hit) -> Markup {
    html! {
        @if let Some(fix) = &h.fix {
            @let (label, steps) = if fix.commands.is_empty() {
                ("fixed by retrying:", fix.verification.as_slice())
            } else {
                ("fixed by:", fix.commands.as_slice())
            };
            div class="fix" {
                span class="label" { (label) } " " (step_links(h, steps, " then ")) " "
                span class="how" { "(" (Text(&fix.found.told(fix.after))) ")" }
            }
        } @else if h.exit.is_some_and(|e| e != 0) && !h.next_steps.is_empty() {
            div class="fix unresolved" {
                span class="label" { "unresolved; next steps:" } " "
                (step_links(h, &h.next_steps, " · "))
            }
        }
        @if let Some(s) = &h.fixes {
            div class="fix" {
                span class="label" { "fixes:" } " " (step_link(h, &s.step))
                @if let Some(e) = s.error.first() { " " span class="how" { "(" (Text(e)) ")" } }
            }
        }
        @if let Some(v) = &h.verifies {
            div class="fix" {
                span class="label" { "worked again after the fix of:" } " " (step_link(h, &v.symptom.step))
            }
        }
    }
}
