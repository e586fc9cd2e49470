//! The search results page: hits grouped by session (sessions in the order of their
//! best hit, as `fixcast search --sessions` groups them), each group headed by its
//! session and the start of its notes. The API keeps its flat list.

use std::fmt::Write;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use fixcast_indexer::Hit;

use crate::error::{Error, PageError};
use crate::html::{date, duration, esc, highlighted, offset, url_encode, who};
use crate::pages::{exit_badge, page, pager, suspicious_note, PER_PAGE};
use crate::query::{whole, PageNo, Query};
use crate::search::{group, hit_url, run_search, session_notes, short_id, step_url, Text};
use crate::AppState;

/// Characters of a session's notes shown above its hits.
const NOTES_EXCERPT: usize = 240;

pub async fn results(
    State(state): State<AppState>,
    text: Result<Query<Text>, Error>,
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
            let body = format!(
                r#"<main class="results"><p class="error" role="alert">{}</p></main>"#,
                esc(&e.to_string())
            );
            let mut res = page("Search", &q, &body);
            *res.status_mut() = e.status();
            return Ok(res);
        }
        Err(e) => return Err(e.into()),
    };
    let shown: Vec<Hit> = hits.iter().take(PER_PAGE).cloned().collect();
    let notes = session_notes(&state, &shown).await;
    // The query is shown as typed: quoting it again would double its own quotes.
    let mut body = format!(
        r#"<main class="results"><h1>Results for <code class="query">{}</code></h1>"#,
        esc(&q)
    );
    if hits.is_empty() && page_no > 1 {
        let _ = write!(
            body,
            r#"<p class="empty">Page {page_no} is past the end of the results. <a href="/search?q={}">First page</a></p>"#,
            url_encode(&q)
        );
    } else if hits.is_empty() {
        body.push_str(r#"<p class="empty">No matches; try fewer or looser terms.</p>"#);
    } else if hits[0].partial {
        body.push_str(
            r#"<p class="partial" role="status">No command has all words; closest matches:</p>"#,
        );
    }
    body.push_str(r#"<ol class="groups">"#);
    for group in group(&shown) {
        body.push_str(&group_html(&group, notes.get(&group[0].session)));
    }
    body.push_str("</ol>");
    body.push_str(&pager(
        &format!("/search?q={}&", url_encode(&q)),
        page_no,
        hits.len() > PER_PAGE,
    ));
    body.push_str("</main>");
    Ok(page(&format!("{q} – search"), &q, &body))
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

fn group_html(hits: &[&Hit], notes: Option<&String>) -> String {
    let first = hits[0];
    let title = first.title.as_deref().unwrap_or("");
    let mut out = format!(
        r#"<li class="group"><div class="group-head"><a class="title" href="/s/{sid}">{title}</a>
<div class="meta"><code>{short}</code> · {started}{who} · {n}</div>{notes}</div><ol class="hits">
"#,
        sid = esc(&first.session),
        title = esc(if title.is_empty() { "session" } else { title }),
        short = esc(short_id(&first.session)),
        started = esc(&date(first.started)),
        who = who(&first.user, &first.host),
        n = if hits.len() == 1 {
            "1 hit".to_owned()
        } else {
            format!("{} hits", hits.len())
        },
        notes = notes
            .and_then(|n| excerpt(n))
            .map(|n| format!(r#"<p class="notes-excerpt">{}</p>"#, esc(&n)))
            .unwrap_or_default(),
    );
    for h in hits {
        out.push_str(&hit_html(h));
    }
    out.push_str("</ol></li>\n");
    out
}

fn hit_html(h: &Hit) -> String {
    // A command with no output has nothing to show: no empty bar.
    let snippet = if h.snippet.text.trim().is_empty() {
        String::new()
    } else {
        format!(
            r#"<pre class="snippet">{}</pre>"#,
            highlighted(&h.snippet.text, &h.snippet.highlights)
        )
    };
    format!(
        r#"<li class="hit"><a class="cmdline" href="{url}">{exit}<code>{cmd}</code></a>{suspicious}
<div class="meta">at {at} · {dur}{cwd}</div>
{snippet}{fix}</li>
"#,
        url = esc(&hit_url(h)),
        exit = exit_badge(h.exit),
        cmd = esc(&h.command),
        suspicious = suspicious_note(&h.confusables),
        at = esc(&offset(h.offset)),
        dur = esc(&duration(h.duration)),
        cwd = h
            .cwd
            .as_deref()
            .map(|c| format!(" · <code>{}</code>", esc(c)))
            .unwrap_or_default(),
        fix = fix_lines(h),
    )
}

/// What the fix records say of a hit, each command with its replay link: a failure's
/// fix (or that nothing fixed it), the failure a fix fixed, the fix a retry verified.
fn fix_lines(h: &Hit) -> String {
    let link = |step: &fixcast_indexer::Step| {
        format!(
            r#"<a href="{}"><code>{}</code></a>"#,
            esc(&step_url(&h.session, step.offset, step.seq)),
            esc(step.command.lines().next().unwrap_or_default())
        )
    };
    let mut out = String::new();
    if let Some(fix) = &h.fix {
        let how = fix.found.told(fix.after);
        let steps: Vec<String> = if fix.commands.is_empty() {
            fix.verification.iter().map(&link).collect()
        } else {
            fix.commands.iter().map(&link).collect()
        };
        let label = if fix.commands.is_empty() {
            "fixed by retrying:"
        } else {
            "fixed by:"
        };
        let _ = write!(
            out,
            r#"<div class="fix"><span class="label">{label}</span> {} <span class="how">({})</span></div>"#,
            steps.join(" then "),
            esc(&how)
        );
    } else if h.exit.is_some_and(|e| e != 0) && !h.next_steps.is_empty() {
        let steps: Vec<String> = h.next_steps.iter().map(&link).collect();
        let _ = write!(
            out,
            r#"<div class="fix unresolved"><span class="label">unresolved; next steps:</span> {}</div>"#,
            steps.join(" · ")
        );
    }
    if let Some(s) = &h.fixes {
        let error = s
            .error
            .first()
            .map(|e| format!(r#" <span class="how">({})</span>"#, esc(e)))
            .unwrap_or_default();
        let _ = write!(
            out,
            r#"<div class="fix"><span class="label">fixes:</span> {}{error}</div>"#,
            link(&s.step)
        );
    }
    if let Some(v) = &h.verifies {
        let _ = write!(
            out,
            r#"<div class="fix"><span class="label">worked again after the fix of:</span> {}</div>"#,
            link(&v.symptom.step)
        );
    }
    out
}
