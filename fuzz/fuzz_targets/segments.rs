//! The segment builder of the web player (`web/src/segments.rs`, through
//! `fixcast_web::segments_of`): any asciicast v3 text, cut into segments every few bytes
//! of output so that snapshots of the screen are taken often, at the sizes the text's
//! header and resize events give. Every segment must be JSON the player can read, with a
//! snapshot of a sane size.
//!
//! KNOWN: `vt100` 0.16.2 panics on 1-row and 1-column screens (see `screen.rs`). To fuzz
//! past that until the fix, set `FIXCAST_FUZZ_KNOWN=screen-sizes`: texts whose header or
//! resizes ask for a side under 2 are skipped.
#![no_main]

use fixcast_sessions::asciicast::parse_v3_line;
use fixcast_sessions::EventKind;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&every, text)) = data.split_first() else {
        return;
    };
    if fixcast_fuzz::min_side() > 1 && asks_for_a_small_side(text) {
        return;
    }
    if fixcast_fuzz::step_over("wide-resize") && resizes_wide_text(text) {
        return;
    }
    let segment_bytes = usize::from(every) * 64;
    for seg in fixcast_web::segments_of(text, segment_bytes) {
        let v: serde_json::Value = serde_json::from_str(&seg)
            .unwrap_or_else(|e| panic!("segment is not JSON: {e}\n{seg}"));
        let snap = &v["snapshot"];
        for side in ["cols", "rows"] {
            let n = snap[side].as_u64().unwrap_or(0);
            assert!((1..=1000).contains(&n), "snapshot {side} {n}\n{seg}");
        }
        assert!(v["events"].is_array(), "{seg}");
    }
});

/// Whether the header or a resize sets a side smaller than [`fixcast_fuzz::min_side`].
fn asks_for_a_small_side(text: &[u8]) -> bool {
    let min = u64::from(fixcast_fuzz::min_side());
    let text = String::from_utf8_lossy(text);
    let mut lines = text.split_inclusive('\n');
    let header = lines.next().unwrap_or("");
    if let Ok(h) = serde_json::from_str::<serde_json::Value>(header) {
        let small = |k: &str| h["term"][k].as_u64().is_some_and(|n| n < min);
        if small("rows") || small("cols") {
            return true;
        }
    }
    lines.any(|l| {
        matches!(parse_v3_line(l, 0), Ok(Some(ev))
            if matches!(ev.kind, EventKind::Resize { rows, cols }
                if u64::from(rows.min(cols)) < min))
    })
}

/// Whether the text has a resize event and a character that may be wide.
fn resizes_wide_text(text: &[u8]) -> bool {
    let text = String::from_utf8_lossy(text);
    let mut resize = false;
    let mut wide = false;
    for l in text.split_inclusive('\n').skip(1) {
        match parse_v3_line(l, 0) {
            Ok(Some(ev)) => match ev.kind {
                EventKind::Resize { .. } => resize = true,
                EventKind::Output(s) => wide |= fixcast_fuzz::maybe_wide(&s),
                _ => {}
            },
            _ => continue,
        }
    }
    resize && wide
}
