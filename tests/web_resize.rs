//! The player follows the window's size: opened at a desk's 1400 px and the window made
//! a phone's 400, it is laid out as a page opened at 400 (a readable size that scrolls
//! sideways), back at 1400 it fits the column's width again, and in a lower window the
//! height left; in place, at the same moment, without fetching the recording again.

use serde_json::Value;

use crate::util::Home;
use crate::web::{browser_ready, browser_with, shots_dir, Server};

/// The player's size was worked out once, when the page loaded: made narrower, a
/// page opened at 1400 px kept fitting the terminal's 80 columns into 384 px (7.7 px
/// text, too small to read) where a page opened at that size scrolls it at 11 px.
#[test]
fn the_player_is_laid_out_again_when_the_window_is_resized() {
    if !browser_ready() {
        return;
    }
    let home = Home::new();
    let command =
        "for i in $(seq 1 30); do printf 'row %02d %070d\\n' $i 0; done; sleep 1.5; echo resize-marker";
    let out = home.run(&["rec", "-c", command, "-t", "resize"]);
    assert!(out.status.success(), "{out:?}");
    let id = home.ids()[0].clone();
    let server = Server::start(home.path(), None);
    let v = browser_with(
        "resize",
        &server.url,
        &[&format!("s/{id}?t=1")],
        &[("FIXCAST_SHOTS", shots_dir())],
    );
    eprintln!("screenshots in {}", shots_dir().display());
    let px = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    let near = |a: &Value, b: &Value, by: f64| (px(a) - px(b)).abs() <= by;
    let mut bad = Vec::new();
    let opened = &v["fresh"]["1400x900"];
    for (name, now, fresh) in [
        ("narrowed to 400 px", &v["narrow"], &v["fresh"]["400x800"]),
        ("widened back to 1400 px", &v["wide"], opened),
        ("lowered to 600 px", &v["low"], &v["fresh"]["1400x600"]),
    ] {
        // As a page opened at that size: the same text size, player and box.
        let same = near(&now["fontPx"], &fresh["fontPx"], 0.3)
            && near(&now["player"]["width"], &fresh["player"]["width"], 2.0)
            && near(&now["box"]["width"], &fresh["box"]["width"], 2.0)
            && now["fit"] == fresh["fit"];
        if !same {
            bad.push(format!(
                "{name}: laid out unlike a page opened at that size:\n{now}\nopened: {fresh}"
            ));
        }
        // Where it was, the same player, the page no wider than the window.
        if !near(&now["time"], &opened["time"], 0.01) || now["screen"] != opened["screen"] {
            bad.push(format!("{name}: the player moved: {now}"));
        }
        if now["created"] != 1 {
            bad.push(format!("{name}: the player was made again: {now}"));
        }
        if px(&now["scrollWidth"]) > px(&now["width"]) {
            bad.push(format!("{name}: the page scrolls sideways: {now}"));
        }
        // The control bar (Play, the progress bar) in the window.
        if px(&now["bar"]["bottom"]) > px(&now["height"]) {
            bad.push(format!(
                "{name}: the control bar is below the window: {now}"
            ));
        }
    }
    let narrow = &v["narrow"];
    if px(&narrow["fontPx"]) < 9.0 {
        bad.push(format!("at 400 px the text is too small to read: {narrow}"));
    }
    // Too wide for the box at a readable size: all of it in reach by scrolling the box.
    if px(&narrow["boxScrollWidth"]) + 1.0 < px(&narrow["term"]) {
        bad.push(format!("at 400 px the terminal is cut off: {narrow}"));
    }
    let wide = &v["wide"];
    if px(&wide["player"]["width"]) < 900.0
        || px(&wide["player"]["width"]) > px(&wide["box"]["width"]) + 1.0
    {
        bad.push(format!(
            "at 1400 px the player does not fit the column: {wide}"
        ));
    }
    if v["fetched"] != serde_json::json!([]) {
        bad.push(format!("the recording was fetched again: {}", v["fetched"]));
    }
    assert!(bad.is_empty(), "{bad:#?}\n{v:#}");
}
