//! A hit's snippet is cut again from its recording (the index keeps no copy of the
//! output), but for a long output, which the index keeps.

use crate::util::Home;
use crate::web::{import_cast, integrated};

/// Garbage of the same size and time over a session's recording: to the index, the
/// session has not changed.
fn spoil_recording(home: &Home, id: &str) {
    let cast = home
        .path()
        .join("sessions")
        .join(id)
        .join("session.cast.zst");
    let before = std::fs::metadata(&cast).unwrap();
    std::fs::write(&cast, vec![b'x'; before.len() as usize]).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&cast)
        .unwrap()
        .set_modified(before.modified().unwrap())
        .unwrap();
}

/// The snippet is the hit's output as its recording shows it; a recording damaged since
/// it was indexed still lets the search answer, with the hit and no snippet, and says why.
#[test]
fn a_snippet_is_cut_from_the_recording_and_a_damaged_one_costs_only_the_snippet() {
    let home = Home::new();
    let run = integrated("/src", "make", "error: marker-word seen\r\n", 2);
    let id = import_cast(&home, "build", &[(0.5, run)]);
    let out = home.ok(&["search", "marker-word"]);
    assert!(out.contains("marker-word seen"), "{out}");
    spoil_recording(&home, &id);
    let run = home.run(&["search", "marker-word"]);
    let (out, err) = (
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr),
    );
    assert!(run.status.success(), "{err}");
    assert!(
        out.contains("$ make") && !out.contains("marker-word seen"),
        "{out}"
    );
    assert!(
        err.contains("no snippets") && !err.contains("panicked"),
        "{err}"
    );
}

/// The commands a damaged recording cost their snippets are named once, in order (the
/// page's order, newest first among equals, named them backwards).
#[test]
fn the_commands_without_snippets_are_named_in_order() {
    let home = Home::new();
    let runs: Vec<(f64, String)> = (1..=3)
        .map(|n| {
            let run = integrated(
                "/src",
                &format!("make part{n}"),
                "error: same-marker\r\n",
                2,
            );
            (0.5 + f64::from(n), run)
        })
        .collect();
    let id = import_cast(&home, "build", &runs);
    spoil_recording(&home, &id);
    let run = home.run(&["search", "same-marker"]);
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{err}");
    assert_eq!(err.matches("no snippets").count(), 1, "{err}");
    assert!(err.contains("for command 1, 2, 3:"), "{err}");
}

/// A long output's snippet is read from the index: rendering it again would cost a search
/// more than reading it (a 20 MB `seq` took a second), so the recording is not read.
#[test]
fn a_long_output_s_snippet_is_read_from_the_index() {
    let home = Home::new();
    let mut long: String = (0..3000).map(|n| format!("step {n} done\r\n")).collect();
    long.push_str("error: far-marker at the end\r\n");
    let run = integrated("/src", "make all", &long, 2);
    let id = import_cast(&home, "build", &[(0.5, run)]);
    spoil_recording(&home, &id);
    let out = home.ok(&["search", "far-marker"]);
    assert!(out.contains("far-marker at the end"), "{out}");
}
