//! HTML building blocks, as maud templates: everything spliced into one is escaped
//! unless it is already [`Markup`], so a recording is text, never markup. [`Text`]
//! also shows control characters (escape codes in command lines) as a symbol.

use std::fmt::Write;

use fixcast_sessions::{Confusable, SessionMeta, Status};
use maud::{html, Markup, PreEscaped, Render};

/// Escapes text for HTML element content and quoted attribute values (the standalone
/// HTML export uses it too).
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters (escape codes in command lines) show as a symbol.
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Text in a template, escaped by [`esc`].
pub struct Text<'a>(pub &'a str);

impl Render for Text<'_> {
    fn render_to(&self, buffer: &mut String) {
        buffer.push_str(&esc(self.0));
    }
}

/// Percent-encodes a query-string value.
pub fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Text with byte ranges to highlight, with `<mark>`s. Ranges that are out of bounds or
/// not on character boundaries are ignored.
pub fn highlighted(text: &str, ranges: &[std::ops::Range<usize>]) -> Markup {
    let mut ranges: Vec<_> = ranges
        .iter()
        .filter(|r| {
            r.start < r.end
                && r.end <= text.len()
                && text.is_char_boundary(r.start)
                && text.is_char_boundary(r.end)
        })
        .cloned()
        .collect();
    ranges.sort_by_key(|r| r.start);
    let mut parts: Vec<(&str, bool)> = Vec::new();
    let mut at = 0;
    for r in ranges {
        if r.start < at {
            continue;
        }
        parts.push((&text[at..r.start], false));
        parts.push((&text[r.clone()], true));
        at = r.end;
    }
    parts.push((&text[at..], false));
    html! {
        @for (part, marked) in parts {
            @if marked { mark { (Text(part)) } } @else { (Text(part)) }
        }
    }
}

/// A snippet from the line before its first match on (earlier when fewer than `lines`
/// lines follow), its highlights moved along: the index's fragment (about 200
/// characters) can start many short lines before the match, which a box showing
/// `lines` lines would hide below its fold. No usable highlight: the text as it is.
pub fn from_first_match(
    text: &str,
    ranges: &[std::ops::Range<usize>],
    lines: usize,
) -> (String, Vec<std::ops::Range<usize>>) {
    let first = ranges
        .iter()
        .filter(|r| r.start < r.end && r.end <= text.len() && text.is_char_boundary(r.start))
        .map(|r| r.start)
        .min();
    let Some(first) = first else {
        return (text.to_owned(), ranges.to_vec());
    };
    // Where every line starts, and which of them the match is on.
    let starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let hit = starts.iter().rposition(|&s| s <= first).unwrap_or(0);
    let from = hit
        .saturating_sub(1)
        .min(starts.len().saturating_sub(lines));
    let cut = starts[from];
    let kept = ranges
        .iter()
        .filter(|r| r.start >= cut)
        .map(|r| r.start - cut..r.end.saturating_sub(cut))
        .collect();
    (text[cut..].to_owned(), kept)
}

/// `1:02.5`: an offset into a recording.
pub fn offset(seconds: f64) -> String {
    let s = if seconds.is_finite() {
        seconds.max(0.0)
    } else {
        0.0
    };
    let m = (s / 60.0).floor();
    format!("{}:{:04.1}", m as u64, s - m * 60.0)
}

/// `3.2 s`, `4 min`, `1 h 05 min`.
pub fn duration(seconds: f64) -> String {
    let s = if seconds.is_finite() {
        seconds.max(0.0)
    } else {
        0.0
    };
    if s < 60.0 {
        format!("{s:.1} s")
    } else if s < 3600.0 {
        format!("{} min {:02} s", (s / 60.0) as u64, (s % 60.0) as u64)
    } else {
        format!(
            "{} h {:02} min",
            (s / 3600.0) as u64,
            (s % 3600.0 / 60.0) as u64
        )
    }
}

/// `user@host` with its ` · ` separator in a meta line; nothing when neither is known
/// (an imported asciicast), rather than a lone `@`.
pub fn who(user: &str, host: &str) -> Markup {
    html! {
        @match (user.is_empty(), host.is_empty()) {
            (true, true) => {},
            (false, true) => { " · " (Text(user)) },
            _ => { " · " (Text(user)) "@" (Text(host)) },
        }
    }
}

/// `2026-01-02 15:04 UTC`.
pub fn date(t: time::OffsetDateTime) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    t.to_offset(time::UtcOffset::UTC)
        .format(&fmt)
        .unwrap_or_default()
}

/// A link to the sessions with a tag.
pub fn tag_link(tag: &str) -> Markup {
    html! { a class="tag" href={ "/?tag=" (url_encode(tag)) } { (Text(tag)) } }
}

/// A session's state, when it is not simply complete.
pub fn status_badge(status: Status) -> Markup {
    html! {
        @match status {
            Status::Recording => { " " span class="badge live" { "LIVE" } },
            Status::Interrupted => { " " span class="badge" { "interrupted" } },
            Status::Complete => {},
        }
    }
}

/// One session of a listing.
pub fn session_row(m: &SessionMeta) -> Markup {
    html! {
        li class="session" {
            a class="title" href={ "/s/" (m.id) } { (Text(m.display_title())) }
            (status_badge(m.status))
            "\n"
            div class="meta" {
                span { (date(m.started)) } " · " span { (duration(m.duration)) }
                (who(&m.user, &m.host)) " · " code { (Text(m.id.short())) } " "
                @for t in &m.tags { (tag_link(t)) }
            }
        }
        "\n"
    }
}

/// A command's exit status.
pub fn exit_badge(exit: Option<i32>) -> Markup {
    html! {
        @match exit {
            Some(0) => span class="exit ok" title="exit status" { "0" },
            Some(n) => span class="exit fail" title="exit status" { (n) },
            None => span class="exit unknown" title="exit status unknown" { "?" },
        }
    }
}

/// A visible warning for a command typed with look-alike characters (`kubeсtl` with a
/// Cyrillic `с`), naming each by its code point.
pub fn suspicious_note(chars: &[Confusable]) -> Markup {
    let list: Vec<String> = chars.iter().map(ToString::to_string).collect();
    html! {
        @if !chars.is_empty() {
            div class="suspicious" role="note" { "⚠ look-alike characters: " (Text(&list.join(", "))) }
        }
    }
}

/// Newer/older links of a listing; `base` ends in `?` or `&`.
pub fn pager(base: &str, page_no: usize, has_more: bool) -> Markup {
    html! {
        nav class="pager" {
            @if page_no > 1 {
                a href={ (base) "page=" (page_no - 1) } { "← newer" } " "
            }
            @if has_more {
                a href={ (base) "page=" (page_no + 1) } { "older →" }
            }
        }
    }
}

/// A whole page: head with the embedded styles and scripts, a top bar with the search
/// box, then `body`.
pub fn layout(title: &str, query: &str, body: Markup) -> Markup {
    html! {
        (PreEscaped("<!doctype html>\n"))
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (Text(title)) " · fixcast" }
                link rel="stylesheet" href="/assets/asciinema-player.css";
                link rel="stylesheet" href="/assets/app.css";
            }
            body {
                header class="top" {
                    a class="brand" href="/" { "fixcast" }
                    form class="search" action="/search" method="get" role="search" {
                        input id="q" name="q" type="search" value=(Text(query)) placeholder="Search commands and output (press /)" aria-label="Search" autocomplete="off";
                        button type="submit" { "Search" }
                    }
                }
                "\n"
                (body)
                "\n"
                script src="/assets/asciinema-player.min.js" {}
                script src="/assets/app.js" {}
            }
        }
        "\n"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            esc(r#"<img src=x onerror="alert('1')">&"#),
            "&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;"
        );
        assert_eq!(esc("a\x1b[31mb"), "a\u{FFFD}[31mb");
        assert_eq!(
            html! { (Text("<b>\x07")) }.into_string(),
            "&lt;b&gt;\u{FFFD}"
        );
    }

    #[test]
    fn templates_escape_what_they_splice_by_default() {
        let evil = r#""><script>alert(1)</script>"#;
        let page = layout(evil, evil, html! { p { (evil) } }).into_string();
        assert!(!page.contains("<script>alert"), "{page}");
        assert!(
            page.contains(r#"value="&quot;&gt;&lt;script&gt;"#),
            "{page}"
        );
    }

    #[test]
    fn highlights_escape_inside_and_out_and_skip_bad_ranges() {
        let text = "<b>chattr</b> é";
        let html = highlighted(text, &[3..9, 100..200, 14..15]).into_string();
        assert_eq!(html, "&lt;b&gt;<mark>chattr</mark>&lt;/b&gt; é");
    }

    #[test]
    fn a_snippet_starts_at_the_line_before_its_match() {
        let text = "1\n2\n3\n4\n5\n6\nzq here\n7\n8";
        let at = text.find("zq").unwrap();
        let marks = [at..at + 2, at + 3..at + 7];
        let (shown, moved) = from_first_match(text, &marks, 2);
        assert_eq!(shown, "6\nzq here\n7\n8");
        assert_eq!(&shown[moved[0].clone()], "zq");
        assert_eq!(&shown[moved[1].clone()], "here");
        // Fewer lines after the match than the box shows: earlier lines fill it.
        let (shown, moved) = from_first_match(text, &marks, 5);
        assert_eq!(shown, "5\n6\nzq here\n7\n8");
        assert_eq!(&shown[moved[0].clone()], "zq");
        // No match (a hit on the command line), or none usable: the text as it is.
        assert_eq!(from_first_match(text, &[], 2).0, text);
        assert_eq!(from_first_match(text, &[100..200, 3..3], 2).0, text);
    }

    #[test]
    fn urls_encode_everything_odd() {
        assert_eq!(url_encode("a b&c/\"é"), "a%20b%26c%2F%22%C3%A9");
    }
}
