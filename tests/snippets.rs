//! A hit's snippet comes from the index: a search reads no recording.

use crate::util::Home;
use crate::web::{import_cast, integrated};

/// The snippet shows the hit's output from what the index keeps. It was made by cutting
/// the hit's recording again (the commands cache keeps no output): a search took 0.45 s
/// on a session of 23 MB, and showed nothing of a recording damaged since.
#[test]
fn a_snippet_is_shown_without_reading_the_recording() {
    let home = Home::new();
    let run = integrated("/src", "make", "error: marker-word seen\r\n", 2);
    let id = import_cast(&home, "build", &[(0.5, run)]);
    let out = home.ok(&["search", "marker-word"]);
    assert!(out.contains("marker-word seen"), "{out}");
    let cast = home
        .path()
        .join("sessions")
        .join(&id)
        .join("session.cast.zst");
    let before = std::fs::metadata(&cast).unwrap();
    // Garbage of the same size and time: to the index, the session has not changed.
    std::fs::write(&cast, vec![b'x'; before.len() as usize]).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&cast)
        .unwrap()
        .set_modified(before.modified().unwrap())
        .unwrap();
    let out = home.ok(&["search", "marker-word"]);
    assert!(out.contains("marker-word seen"), "{out}");
}
