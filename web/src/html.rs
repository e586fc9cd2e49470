//! HTML building blocks. Everything from a recording goes through [`esc`]: it is text,
//! never markup.

use std::fmt::Write;

/// Escapes text for HTML element content and quoted attribute values.
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

/// Text with byte ranges to highlight, as escaped HTML with `<mark>`s. Ranges that are
/// out of bounds or not on character boundaries are ignored.
pub fn highlighted(text: &str, ranges: &[std::ops::Range<usize>]) -> String {
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
    let mut out = String::new();
    let mut at = 0;
    for r in ranges {
        if r.start < at {
            continue;
        }
        out.push_str(&esc(&text[at..r.start]));
        out.push_str("<mark>");
        out.push_str(&esc(&text[r.clone()]));
        out.push_str("</mark>");
        at = r.end;
    }
    out.push_str(&esc(&text[at..]));
    out
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
pub fn who(user: &str, host: &str) -> String {
    match (user.is_empty(), host.is_empty()) {
        (true, true) => String::new(),
        (false, true) => format!(" · {}", esc(user)),
        _ => format!(" · {}@{}", esc(user), esc(host)),
    }
}

/// `2026-01-02 15:04 UTC`.
pub fn date(t: time::OffsetDateTime) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    t.to_offset(time::UtcOffset::UTC)
        .format(&fmt)
        .unwrap_or_default()
}

/// A whole page: head with the embedded styles and scripts, a top bar with the search
/// box, then `body`.
pub fn layout(title: &str, query: &str, body: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{title} · fixcast</title>
<link rel="stylesheet" href="/assets/asciinema-player.css">
<link rel="stylesheet" href="/assets/app.css">
</head>
<body>
<header class="top">
<a class="brand" href="/">fixcast</a>
<form class="search" action="/search" method="get" role="search">
<input id="q" name="q" type="search" value="{query}" placeholder="Search commands and output (press /)" aria-label="Search" autocomplete="off">
<button type="submit">Search</button>
</form>
</header>
{body}
<script src="/assets/asciinema-player.min.js"></script>
<script src="/assets/app.js"></script>
</body>
</html>
"#,
        title = esc(title),
        query = esc(query),
    )
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
    }

    #[test]
    fn highlights_escape_inside_and_out_and_skip_bad_ranges() {
        let text = "<b>chattr</b> é";
        let html = highlighted(text, &[3..9, 100..200, 14..15]);
        assert_eq!(html, "&lt;b&gt;<mark>chattr</mark>&lt;/b&gt; é");
    }

    #[test]
    fn urls_encode_everything_odd() {
        assert_eq!(url_encode("a b&c/\"é"), "a%20b%26c%2F%22%C3%A9");
    }
}
