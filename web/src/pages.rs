//! The pages: home (search box, recent sessions) and a session (the
//! player beside its commands). Rendered on the server; everything from a recording is
//! escaped. `assets/app.js` adds the player and the few interactions.

use std::fmt::Write;

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, Uri};
use axum::response::{Html, IntoResponse, Response};
use fixcast_sessions::{derive_fixes, CommandRecord, Confusable, FixRoles, SessionMeta, Status};

use crate::access::{blocking, load, session_commands};
use crate::error::{Error, PageError};
use crate::html::{date, duration, esc, layout, offset, url_encode, who};
use crate::listing::{filter_sessions, Listing};
use crate::query::{lenient, whole, PageNo, Query};
use crate::search::play_time;
use crate::AppState;

/// Sessions per page of the home listing; hits per page of results.
pub(crate) const PER_PAGE: usize = 30;

/// A page; its security headers (a strict Content-Security-Policy) are set for every
/// answer in [`crate::headers`].
pub(crate) fn page(title: &str, query: &str, body: &str) -> Response {
    let mut res = Html(layout(title, query, body)).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}

fn session_item(m: &SessionMeta) -> String {
    let live = if m.status == Status::Recording {
        r#" <span class="badge live">LIVE</span>"#
    } else if m.status == Status::Interrupted {
        r#" <span class="badge">interrupted</span>"#
    } else {
        ""
    };
    let tags: String = m
        .tags
        .iter()
        .map(|t| {
            format!(
                r#"<a class="tag" href="/?tag={}">{}</a>"#,
                url_encode(t),
                esc(t)
            )
        })
        .collect();
    format!(
        r#"<li class="session"><a class="title" href="/s/{id}">{title}</a>{live}
<div class="meta"><span>{started}</span> · <span>{dur}</span>{who} · <code>{short}</code> {tags}</div></li>
"#,
        id = m.id,
        title = esc(m.display_title()),
        started = esc(&date(m.started)),
        dur = esc(&duration(m.duration)),
        who = who(&m.user, &m.host),
        short = esc(m.id.short()),
    )
}

pub(crate) fn pager(base: &str, page_no: usize, has_more: bool) -> String {
    let mut s = String::from(r#"<nav class="pager">"#);
    if page_no > 1 {
        let _ = write!(
            s,
            r#"<a href="{}page={}">← newer</a> "#,
            esc(base),
            page_no - 1
        );
    }
    if has_more {
        let _ = write!(
            s,
            r#"<a href="{}page={}">older →</a>"#,
            esc(base),
            page_no + 1
        );
    }
    s.push_str("</nav>");
    s
}

pub async fn home(
    State(state): State<AppState>,
    page_no: Result<Query<PageNo>, Error>,
    p: Result<Query<Listing>, Error>,
) -> Result<Response, PageError> {
    let page_no = whole(page_no?.0.page, 1, 100_000).max(1);
    let Query(p) = p?;
    let store = state.store().clone();
    let tag = p.tag.clone();
    let filtered = p.filtered();
    let base = if tag.is_empty() {
        "/?".to_owned()
    } else {
        format!("/?tag={}&", url_encode(&tag))
    };
    let all = blocking(move || filter_sessions(&store, &p)).await?;
    let shown: Vec<&SessionMeta> = all
        .iter()
        .skip((page_no - 1) * PER_PAGE)
        .take(PER_PAGE)
        .collect();
    let mut body = String::from(r#"<main class="home">"#);
    if !tag.is_empty() {
        let _ = write!(
            body,
            r#"<h1>Sessions tagged <span class="tag">{}</span></h1>"#,
            esc(&tag)
        );
    } else {
        body.push_str("<h1>Recent sessions</h1>");
    }
    if all.is_empty() && !filtered {
        body.push_str(r#"<p class="empty">No sessions yet. Record one with <code>fixcast rec</code>, or bring asciicasts in with <code>fixcast import FILE</code>.</p>"#);
    } else if all.is_empty() && !tag.is_empty() {
        let _ = write!(
            body,
            r#"<p class="empty">No sessions are tagged <span class="tag">{}</span>. <a href="/">All sessions</a></p>"#,
            esc(&tag)
        );
    } else if all.is_empty() {
        body.push_str(r#"<p class="empty">No sessions match. <a href="/">All sessions</a></p>"#);
    } else if shown.is_empty() {
        let last = all.len().div_ceil(PER_PAGE);
        let _ = write!(
            body,
            r#"<p class="empty">Page {page_no} is past the end: {n} sessions fill {last} {pages}. <a href="{base}page={last}">Last page</a> · <a href="{base}page=1">First page</a></p>"#,
            n = all.len(),
            pages = if last == 1 { "page" } else { "pages" },
            base = esc(&base),
        );
    }
    // Filled and kept current by app.js: sessions being recorded right now.
    body.push_str(r#"<section id="live-now" class="live-now" hidden><h2>Live now</h2><ul class="sessions"></ul></section>"#);
    body.push_str(r#"<ul class="sessions">"#);
    for m in &shown {
        body.push_str(&session_item(m));
    }
    body.push_str("</ul>");
    body.push_str(&pager(&base, page_no, all.len() > page_no * PER_PAGE));
    body.push_str("</main>");
    Ok(page("Sessions", "", &body))
}

pub(crate) fn exit_badge(exit: Option<i32>) -> String {
    match exit {
        Some(0) => r#"<span class="exit ok" title="exit status">0</span>"#.to_owned(),
        Some(n) => format!(r#"<span class="exit fail" title="exit status">{n}</span>"#),
        None => r#"<span class="exit unknown" title="exit status unknown">?</span>"#.to_owned(),
    }
}

fn command_row(c: &CommandRecord, hit: Option<u32>, fix: Option<u32>, roles: &FixRoles) -> String {
    let mut class = String::from("cmd");
    if hit == Some(c.seq) {
        class.push_str(" hit");
    }
    if fix == Some(c.seq) {
        class.push_str(" fix");
    }
    format!(
        r#"<li class="{class}" id="cmd-{seq}" data-seq="{seq}" data-start="{start}"><button type="button" class="seek" title="play from here">{exit}<code class="line">{cmd}</code></button>
<div class="meta"><span class="at">{at}</span> · <span>{dur}</span>{cwd}{fixed} <button type="button" class="mark-fix" data-seq="{seq}">{fix_label}</button></div>{suspicious}</li>
"#,
        seq = c.seq,
        start = c.start.max(0.0),
        exit = exit_badge(c.exit),
        cmd = esc(&c.command),
        at = esc(&offset(c.start)),
        dur = esc(&duration(c.duration())),
        cwd = c
            .cwd
            .as_deref()
            .map(|d| format!(r#" · <code class="cwd">{}</code>"#, esc(d)))
            .unwrap_or_default(),
        fixed = if fix == Some(c.seq) {
            r#" · <strong class="fix-label">the fix</strong>"#.to_owned()
        } else {
            roles
                .notes(c.seq)
                .iter()
                .map(|n| format!(r#" · <span class="role">{}</span>"#, esc(n)))
                .collect()
        },
        fix_label = if fix == Some(c.seq) {
            "unmark fix"
        } else {
            "mark as the fix"
        },
        suspicious = suspicious_note(&c.confusables),
    )
}

/// A visible warning for a command typed with look-alike characters (`kubeсtl` with a
/// Cyrillic `с`), naming each by its code point.
pub(crate) fn suspicious_note(chars: &[Confusable]) -> String {
    if chars.is_empty() {
        return String::new();
    }
    let list: Vec<String> = chars.iter().map(ToString::to_string).collect();
    format!(
        r#"<div class="suspicious" role="note">⚠ look-alike characters: {}</div>"#,
        esc(&list.join(", "))
    )
}

/// When a poster frame of command `i` is drawn: a moment after it ended (the player
/// draws what came before a time, and its last output may be stamped with its end),
/// before the next command's prompt and within the recording.
fn poster_time(cmds: &[CommandRecord], i: usize, duration: f64) -> f64 {
    let c = &cmds[i];
    let mut t = c.end.max(c.start) + 0.25;
    if let Some(next) = cmds.get(i + 1) {
        t = t.min(next.start);
    }
    if duration > 0.0 {
        t = t.min(duration);
    }
    t.max(0.0)
}

/// A time from `?t=`: seconds, `90.5`, or `1:30`.
fn parse_time(s: &str) -> Option<f64> {
    let mut total = 0.0;
    for part in s.split(':') {
        let v: f64 = part.trim().parse().ok()?;
        total = total * 60.0 + v;
    }
    (total.is_finite() && total >= 0.0).then_some(total)
}

/// The query string of a session page: where to open it and how (links' hints, so
/// nothing here is refused).
#[derive(Debug, serde::Deserialize)]
pub(crate) struct Opening {
    /// `?t=`: seconds or `m:ss`; any `t`, even a bad one, means no poster frame.
    t: Option<String>,
    /// `?hit=`: the command a search hit is on.
    #[serde(default, deserialize_with = "lenient")]
    hit: Option<u32>,
    /// `?player=cast`: the plain asciicast rather than segments.
    player: Option<String>,
}

pub async fn session(
    State(state): State<AppState>,
    Path(id): Path<String>,
    p: Result<Query<Opening>, Error>,
) -> Result<Response, PageError> {
    let Query(p) = p?;
    let meta = load(&state, id).await?;
    let cmds = match session_commands(&state, &meta, false).await {
        Ok(cmds) => cmds,
        // A session that cannot be cut says so, with a 422, rather than show nothing.
        Err(e @ Error::Store(fixcast_sessions::Error::Unreadable { .. })) => return Err(e.into()),
        Err(_) => Vec::new(),
    };
    let hit = p.hit;
    let start =
        p.t.as_deref()
            .and_then(parse_time)
            .or_else(|| {
                hit.and_then(|s| cmds.iter().find(|c| c.seq == s))
                    .and_then(|c| play_time(c.start).parse().ok())
            })
            .unwrap_or(0.0);
    let format = if p.player.as_deref() == Some("cast") {
        "cast"
    } else {
        "segmented"
    };
    // Opened with no time: a poster frame, the end of the fix (marked, else inferred),
    // else of the first command, rather than a blank screen at 0:00.
    let read_only = state.knowledge().read_only(state.store());
    let records = derive_fixes(&cmds, meta.fix_seq, &read_only);
    let (poster, poster_seq) = if p.t.is_some() || hit.is_some() {
        (String::new(), String::new())
    } else {
        let inferred = records
            .iter()
            .filter(|r| r.is_resolved())
            .find_map(|r| r.fix.first().copied().or(r.verification));
        let at = meta
            .fix_seq
            .or(inferred)
            .and_then(|s| cmds.iter().position(|c| c.seq == s))
            .or((!cmds.is_empty()).then_some(0));
        at.map(|i| {
            (
                poster_time(&cmds, i, meta.duration).to_string(),
                cmds[i].seq.to_string(),
            )
        })
        .unwrap_or_default()
    };
    // A live session's length so far (meta.json has it only once the recording ends);
    // app.js keeps it current.
    let dur = if meta.status == Status::Recording {
        let since = (time::OffsetDateTime::now_utc() - meta.started).as_seconds_f64();
        meta.duration.max(since)
    } else {
        meta.duration
    };
    let live = if meta.status == Status::Recording {
        r#" <span class="badge live">LIVE</span> <span class="note" id="viewers" role="status"></span>"#
    } else {
        ""
    };
    let tags = meta.tags.join(", ");
    let mut body = format!(
        r#"<main class="session" id="session" data-id="{id}" data-start="{start}" data-format="{format}" data-hit="{hit}" data-poster="{poster}" data-poster-seq="{poster_seq}" data-cols="{cols}" data-rows="{rows}" data-live="{is_live}">
<div class="head"><h1 id="title">{title}</h1>{live}
<div class="meta"><code>{short}</code> · {started} · <span id="duration">{dur}</span>{who} · <a href="/api/sessions/{id}/cast" download="{id}.cast">download .cast</a></div>
<div class="tags">{tag_links}</div>
<details class="edit"><summary>Edit title, tags, notes</summary>
<form id="edit-form">
<label>Title <input name="title" value="{title_v}" maxlength="300"></label>
<label>Tags (comma separated) <input name="tags" value="{tags_v}"></label>
<label>Notes <textarea name="notes" rows="4" maxlength="32768">{notes_v}</textarea></label>
<button type="submit">Save</button> <span class="status" id="edit-status" role="status"></span>
</form></details>
{notes}
</div>
<div class="body">
<div class="player-col"><div id="player" class="player"></div>
<section id="hit-output" class="hit-output" hidden><h2>Output of <code id="hit-command"></code></h2><pre id="hit-text"></pre></section>
</div>
<aside class="commands"><h2>Commands <span class="count">{n}</span></h2><ol class="cmds">
"#,
        id = meta.id,
        start = start,
        format = format,
        hit = hit.map(|h| h.to_string()).unwrap_or_default(),
        cols = meta.term.cols,
        rows = meta.term.rows,
        is_live = if meta.status == Status::Recording {
            "1"
        } else {
            ""
        },
        title = esc(meta.display_title()),
        short = esc(meta.id.short()),
        started = esc(&date(meta.started)),
        dur = esc(&duration(dur)),
        who = who(&meta.user, &meta.host),
        tag_links = meta
            .tags
            .iter()
            .map(|t| format!(
                r#"<a class="tag" href="/?tag={}">{}</a>"#,
                url_encode(t),
                esc(t)
            ))
            .collect::<String>(),
        title_v = esc(meta.title.as_deref().unwrap_or("")),
        tags_v = esc(&tags),
        notes_v = esc(meta.notes.as_deref().unwrap_or("")),
        notes = meta
            .notes
            .as_deref()
            .map(|n| format!(r#"<div class="notes">{}</div>"#, esc(n)))
            .unwrap_or_default(),
        n = cmds.len(),
    );
    if cmds.is_empty() {
        body.push_str(r#"<li class="empty">No commands found in this recording.</li>"#);
    }
    let roles = FixRoles::of(&records);
    for c in &cmds {
        body.push_str(&command_row(c, hit, meta.fix_seq, &roles));
    }
    body.push_str("</ol></aside></div></main>");
    Ok(page(meta.display_title(), "", &body))
}

pub async fn not_found(uri: Uri) -> Response {
    let e = Error::NotFound(format!("no page at {}", uri.path()));
    if uri.path().starts_with("/api/") || uri.path() == "/api" {
        e.into_response()
    } else {
        PageError(e).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_seconds_or_minutes() {
        assert_eq!(parse_time("90.5"), Some(90.5));
        assert_eq!(parse_time("1:30"), Some(90.0));
        assert_eq!(parse_time("-1"), None);
        assert_eq!(parse_time("x"), None);
        assert_eq!(parse_time("inf"), None);
    }
}
