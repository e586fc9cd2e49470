//! The pages fit a phone's screen: at 400 px nothing makes the page scroll sideways
//! (the terminal scrolls inside its own box), and a desk's 1400 px keeps its wide player.

use serde_json::Value;

use crate::util::Home;
use crate::web::{browser_ready, browser_with, shots_dir, Server};

/// The player page of a real recording, with its "Output of" panel open, was 554 px
/// wide in a 400 px window: the one grid column took the terminal's width (80 columns
/// at a readable 11 px), the panel and the command list with it.
#[test]
fn the_player_page_fits_a_phone() {
    if !browser_ready() {
        return;
    }
    let home = Home::new();
    // A full-width screen of text, and a command line with a word longer than a phone.
    let word = "x".repeat(120);
    let command = format!(
        "for i in $(seq 1 20); do printf 'row %02d %070d\\n' $i 0; done; echo fit-marker {word}"
    );
    let out = home.run(&["rec", "-c", &command, "-t", "wide output"]);
    assert!(out.status.success(), "{out:?}");
    let id = home.ids()[0].clone();
    let server = Server::start(home.path(), None);
    let v = browser_with(
        "fits",
        &server.url,
        &[&format!("s/{id}?t=5&hit=1"), "fit-marker"],
        &[("FIXCAST_SHOTS", shots_dir())],
    );
    eprintln!("screenshots in {}", shots_dir().display());
    let px = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    let mut bad = Vec::new();
    for page in ["session", "results", "home"] {
        for size in ["400x800", "1400x900"] {
            let p = &v[format!("{page}-{size}")];
            if px(&p["scrollWidth"]) > px(&p["width"]) || p["out"] != serde_json::json!([]) {
                bad.push(format!(
                    "{page} at {size}: {} px wide in {} px, past the edge: {}",
                    p["scrollWidth"], p["width"], p["out"]
                ));
            }
        }
    }
    let narrow = &v["session-400x800"];
    for part in ["box", "output"] {
        let r = &narrow[part];
        if px(&r["left"]) < 8.0 || px(&r["right"]) > 392.0 {
            bad.push(format!("at 400 px the {part} is not inside the page: {r}"));
        }
    }
    // Too wide for the box at a readable size: the box scrolls to the terminal's end,
    // and the control bar (Play, the progress bar) stays over the box.
    let reach = &narrow["reach"];
    if px(&reach["scrollWidth"]) + 1.0 < px(&reach["term"]) {
        bad.push(format!(
            "at 400 px the terminal's right side is cut off: {reach}"
        ));
    }
    if px(&reach["barLeft"]).abs() > 1.0 || px(&reach["barRight"]).abs() > 1.0 {
        bad.push(format!("at 400 px the control bar scrolls away: {reach}"));
    }
    if px(&narrow["fontPx"]) < 9.0 {
        bad.push("at 400 px the terminal's text is too small to read".to_owned());
    }
    // A desk keeps the wide player beside the command list.
    let wide = &v["session-1400x900"];
    if px(&wide["box"]["width"]) < 900.0 || px(&wide["player"]["width"]) < 900.0 {
        bad.push(format!("at 1400 px the player shrank: {}", wide["box"]));
    }
    assert!(bad.is_empty(), "{bad:#?}\n{v:#}");
}
