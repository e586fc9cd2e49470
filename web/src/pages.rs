//! The pages: home (search box, recent sessions) and a session (the
//! player beside its commands). Rendered on the server as maud templates, which escape
//! whatever they splice in (see [`crate::html`]). `assets/app.js` adds the player and
//! the few interactions.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, Uri};
use axum::response::{Html, IntoResponse, Response};
use fixcast_sessions::{derive_fixes, CommandRecord, FixRoles, Status};
use maud::{html, Markup};

use crate::access::{blocking, load, session_commands};
use crate::error::{Error, PageError};
use crate::html::{
    date, duration, exit_badge, layout, offset, pager, session_row, suspicious_note, tag_link,
    url_encode, who, Text,
};
use crate::listing::{filter_sessions, Listing};
use crate::query::{lenient, whole, PageNo, Query};
use crate::AppState;
use fixcast_indexer::play_time;

/// Sessions per page of the home listing; hits per page of results.
pub(crate) const PER_PAGE: usize = 30;

/// A page; its security headers (a strict Content-Security-Policy) are set for every
/// answer in [`crate::headers`].
pub(crate) fn page(title: &str, query: &str, body: Markup) -> Response {
    let mut res = Html(layout(title, query, body).into_string()).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
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
    let shown = all.iter().skip((page_no - 1) * PER_PAGE).take(PER_PAGE);
    let last = all.len().div_ceil(PER_PAGE);
    let body = html! {
        main class="home" {
            @if tag.is_empty() {
                h1 { "Recent sessions" }
            } @else {
                h1 { "Sessions tagged " span class="tag" { (Text(&tag)) } }
            }
            @if all.is_empty() && !filtered {
                p class="empty" {
                    "No sessions yet. Record one with " code { "fixcast rec" }
                    ", or bring asciicasts in with " code { "fixcast import FILE" } "."
                }
            } @else if all.is_empty() && !tag.is_empty() {
                p class="empty" {
                    "No sessions are tagged " span class="tag" { (Text(&tag)) } ". "
                    a href="/" { "All sessions" }
                }
            } @else if all.is_empty() {
                p class="empty" { "No sessions match. " a href="/" { "All sessions" } }
            } @else if (page_no - 1) * PER_PAGE >= all.len() {
                p class="empty" {
                    "Page " (page_no) " is past the end: " (all.len()) " sessions fill "
                    (last) " " (if last == 1 { "page" } else { "pages" }) ". "
                    a href={ (base) "page=" (last) } { "Last page" } " · "
                    a href={ (base) "page=1" } { "First page" }
                }
            }
            // Filled and kept current by app.js: sessions being recorded right now.
            section id="live-now" class="live-now" hidden { h2 { "Live now" } ul class="sessions" {} }
            ul class="sessions" {
                @for m in shown { (session_row(m)) }
            }
            (pager(&base, page_no, all.len() > page_no * PER_PAGE))
        }
    };
    Ok(page("Sessions", "", body))
}

fn command_row(c: &CommandRecord, hit: Option<u32>, fix: Option<u32>, roles: &FixRoles) -> Markup {
    let mut class = String::from("cmd");
    if hit == Some(c.seq) {
        class.push_str(" hit");
    }
    let is_fix = fix == Some(c.seq);
    if is_fix {
        class.push_str(" fix");
    }
    html! {
        li class=(class) id={ "cmd-" (c.seq) } data-seq=(c.seq) data-start=(c.start.max(0.0)) {
            button type="button" class="seek" title="play from here" {
                (exit_badge(c.exit)) code class="line" { (Text(&c.command)) }
            }
            "\n"
            div class="meta" {
                span class="at" { (offset(c.start)) } " · " span { (duration(c.duration())) }
                @if let Some(d) = &c.cwd { " · " code class="cwd" { (Text(d)) } }
                @if is_fix {
                    " · " strong class="fix-label" { "the fix" }
                } @else {
                    @for n in roles.notes(c.seq) { " · " span class="role" { (Text(&n)) } }
                }
                " "
                button type="button" class="mark-fix" data-seq=(c.seq) {
                    (if is_fix { "unmark fix" } else { "mark as the fix" })
                }
            }
            (suspicious_note(&c.confusables))
        }
        "\n"
    }
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
    let is_live = meta.status == Status::Recording;
    let roles = FixRoles::of(&records);
    let body = html! {
        main class="session" id="session" data-id=(meta.id) data-start=(start) data-format=(format)
            data-hit=(hit.map(|h| h.to_string()).unwrap_or_default()) data-poster=(poster) data-poster-seq=(poster_seq)
            data-cols=(meta.term.cols) data-rows=(meta.term.rows)
            data-live=(if is_live { "1" } else { "" }) {
            "\n"
            div class="head" {
                h1 id="title" { (Text(meta.display_title())) }
                @if is_live {
                    " " span class="badge live" { "LIVE" } " " span class="note" id="viewers" role="status" {}
                }
                "\n"
                div class="meta" {
                    code { (Text(meta.id.short())) } " · " (date(meta.started)) " · "
                    span id="duration" { (duration(dur)) } (who(&meta.user, &meta.host)) " · "
                    a href={ "/api/sessions/" (meta.id) "/cast" } download={ (meta.id) ".cast" } { "download .cast" }
                }
                "\n"
                div class="tags" { @for t in &meta.tags { (tag_link(t)) } }
                "\n"
                details class="edit" {
                    summary { "Edit title, tags, notes" }
                    "\n"
                    form id="edit-form" {
                        "\n"
                        label { "Title " input name="title" value=(Text(meta.title.as_deref().unwrap_or(""))) maxlength="300"; }
                        "\n"
                        label { "Tags (comma separated) " input name="tags" value=(Text(&meta.tags.join(", "))); }
                        "\n"
                        label { "Notes " textarea name="notes" rows="4" maxlength="32768" { (Text(meta.notes.as_deref().unwrap_or(""))) } }
                        "\n"
                        button type="submit" { "Save" } " " span class="status" id="edit-status" role="status" {}
                        "\n"
                    }
                }
                "\n"
                @if let Some(n) = &meta.notes { div class="notes" { (Text(n)) } }
                "\n"
            }
            "\n"
            div class="body" {
                "\n"
                div class="player-col" {
                    div id="player" class="player" {}
                    "\n"
                    section id="hit-output" class="hit-output" hidden {
                        h2 { "Output of " code id="hit-command" {} }
                        pre id="hit-text" {}
                    }
                    "\n"
                }
                "\n"
                aside class="commands" {
                    h2 { "Commands " span class="count" { (cmds.len()) } }
                    ol class="cmds" {
                        "\n"
                        @if cmds.is_empty() {
                            li class="empty" { "No commands found in this recording." }
                        }
                        @for c in &cmds { (command_row(c, hit, meta.fix_seq, &roles)) }
                    }
                }
            }
        }
    };
    Ok(page(meta.display_title(), "", body))
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
