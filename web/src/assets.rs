//! Files embedded in the binary: asciinema-player (copied from npm into OUT_DIR by
//! build.rs) and the small front end of the pages. Nothing is fetched at run time.

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::error::Error;

/// asciinema-player's script, as npm built it.
pub const PLAYER_JS: &str = include_str!(concat!(env!("OUT_DIR"), "/asciinema-player.min.js"));
/// asciinema-player's style sheet, as npm built it.
pub const PLAYER_CSS: &str = include_str!(concat!(env!("OUT_DIR"), "/asciinema-player.css"));

const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "asciinema-player.min.js",
        "text/javascript; charset=utf-8",
        PLAYER_JS.as_bytes(),
    ),
    (
        "asciinema-player.css",
        "text/css; charset=utf-8",
        PLAYER_CSS.as_bytes(),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/app.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/app.css"),
    ),
];

pub async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, mime, body)) => (
            [
                (header::CONTENT_TYPE, *mime),
                (header::CACHE_CONTROL, "public, max-age=300"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            *body,
        )
            .into_response(),
        None => {
            crate::error::PageError(Error::NotFound(format!("no asset {name:?}"))).into_response()
        }
    }
}

/// The player's script and style sheet made fit to sit inside a standalone HTML file's
/// `<script>` and `<style>`: the style sheet without its comments (credits with theme
/// links), and the script with `http://` written `http:\/\/`. The script's only such
/// strings are the SVG namespace name and a base for relative URLs, never fetched, and
/// all inside string literals, where `\/` is `/`; so the file carries no URL a reader,
/// a ticket system or a scanner would take for a link.
///
/// Fails (naming what) if the bundle would end its element early: a new player version
/// that holds `</script` or `<!--` must be looked at, not inlined.
pub fn player_inline() -> Result<(String, String), String> {
    let js = PLAYER_JS
        .replace("http://", "http:\\/\\/")
        .replace("https://", "https:\\/\\/");
    let css = strip_css_comments(PLAYER_CSS);
    for (what, text, end) in [
        ("script", &js, "</script"),
        ("style sheet", &css, "</style"),
    ] {
        let lower = text.to_ascii_lowercase();
        if lower.contains(end) || lower.contains("<!--") {
            return Err(format!(
                "asciinema-player's {what} holds {end:?} or \"<!--\": it cannot be inlined"
            ));
        }
        if lower.contains("http://") || lower.contains("https://") {
            return Err(format!("asciinema-player's {what} still holds a URL"));
        }
    }
    Ok((js, css))
}

/// CSS without `/* ... */` comments (the player's style sheet has no strings holding `/*`).
fn strip_css_comments(css: &str) -> String {
    let mut out = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(at) = rest.find("/*") {
        out.push_str(&rest[..at]);
        match rest[at + 2..].find("*/") {
            Some(end) => rest = &rest[at + 2 + end + 2..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inlined_player_holds_no_url_and_cannot_end_its_element() {
        let (js, css) = player_inline().unwrap();
        assert!(PLAYER_JS.contains("http://www.w3.org/2000/svg"));
        assert!(js.contains("http:\\/\\/www.w3.org/2000/svg"));
        assert!(!css.contains("draculatheme") && css.contains(".ap-term"));
    }

    #[test]
    fn css_comments_go() {
        assert_eq!(strip_css_comments("a/* x */b/*y*/c"), "abc");
        assert_eq!(strip_css_comments("a/* open"), "a");
    }
}
