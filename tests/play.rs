//! `fixcast play`: at full speed without a terminal; in time, with keys, on one (a PTY).

use std::path::Path;
use std::time::{Duration, Instant};

use crate::import_export::{import, write_v3};
use crate::on_terminal::OnTerminal;
use crate::util::{fixture, Home};

#[test]
fn without_a_terminal_all_output_is_written_at_once() {
    let home = Home::new();
    // The fixture waits 5 s before its last output; without a terminal nobody waits.
    let id = import(&home, &fixture("v2.cast"));
    let raw = home.run(&["export", &id, "-f", "raw"]).stdout;
    let started = Instant::now();
    let out = home.run(&["play", &id]);
    assert!(out.status.success());
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(out.stdout, raw);
    // --at and the other options change nothing of what is written.
    for args in [
        &["--at", "1.5"][..],
        &["--at", "999"],
        &["--speed", "0.01"],
        &["--idle-time-limit", "0.1"],
    ] {
        let mut a = vec!["play", id.as_str()];
        a.extend_from_slice(args);
        let out = home.run(&a);
        assert!(out.status.success(), "{a:?}");
        assert_eq!(out.stdout, raw, "{a:?}");
    }
}

#[test]
fn bad_numbers_are_usage_errors() {
    let home = Home::new();
    let id = import(&home, &fixture("v3.cast"));
    for bad in [
        &["--speed", "0"][..],
        &["--speed", "-2"],
        &["--speed", "nan"],
        &["--speed", "inf"],
        &["--speed", "fast"],
        &["--idle-time-limit", "0"],
        &["--at=-1"],
        &["--at", "NaN"],
    ] {
        let mut a = vec!["play", id.as_str()];
        a.extend_from_slice(bad);
        let out = home.run(&a);
        assert_eq!(out.status.code(), Some(2), "{a:?}");
        assert!(!out.stderr.is_empty());
    }
}

/// Output at 0 s, 1 s, 2 s and (after a 30 s pause) 32 s.
fn timed_session(home: &Home, dir: &Path) -> String {
    let file = dir.join("timed.cast");
    write_v3(
        &file,
        80,
        24,
        &[
            (0.0, "o", "first\r\n".into()),
            (1.0, "o", "second\r\n".into()),
            (1.0, "o", "third\r\n".into()),
            (30.0, "o", "last\r\n".into()),
        ],
    );
    import(home, &file)
}

#[test]
fn on_a_terminal_output_keeps_time() {
    let home = Home::new();
    let dir = tempfile::tempdir().unwrap();
    let id = timed_session(&home, dir.path());

    // 2 s at double speed, the 30 s pause cut to 1 s (0.5 s at double speed).
    let started = Instant::now();
    let mut p = OnTerminal::start(
        &home,
        &["play", &id, "--speed", "2", "--idle-time-limit", "1"],
    );
    assert!(p.wait_for("first", Duration::from_secs(5)));
    assert!(p.wait_for("third", Duration::from_secs(5)));
    let at_third = started.elapsed();
    assert!(p.wait_for("last", Duration::from_secs(5)));
    let at_last = started.elapsed();
    assert_eq!(p.exit_code(Duration::from_secs(5)), 0);
    assert!(
        at_third >= Duration::from_millis(950),
        "third after {at_third:?}"
    );
    assert!(
        at_last >= at_third + Duration::from_millis(450),
        "last after {at_last:?}"
    );
    assert!(at_last < Duration::from_secs(5), "last after {at_last:?}");
    assert!(p.terminal_restored());

    // --at 1.5: the first two at once, then the third half a second later.
    let started = Instant::now();
    let mut p = OnTerminal::start(
        &home,
        &["play", &id, "--at", "1.5", "--idle-time-limit", "0.2"],
    );
    assert!(p.wait_for("second", Duration::from_secs(5)));
    let at_second = started.elapsed();
    assert!(p.wait_for("third", Duration::from_secs(5)));
    let at_third = started.elapsed();
    assert_eq!(p.exit_code(Duration::from_secs(5)), 0);
    assert!(
        at_third >= Duration::from_millis(190),
        "third after {at_third:?}"
    );
    assert!(at_second < at_third);
}

#[test]
fn on_a_terminal_keys_pause_step_and_quit() {
    let home = Home::new();
    let dir = tempfile::tempdir().unwrap();
    let id = timed_session(&home, dir.path());

    let mut p = OnTerminal::start(&home, &["play", &id]);
    assert!(p.wait_for("first", Duration::from_secs(5)));
    p.press(b" ");
    // Paused: "second" is due after 1 s but does not come.
    assert!(!p.wait_for("second", Duration::from_millis(1500)));
    p.press(b".");
    assert!(p.wait_for("second", Duration::from_secs(2)));
    assert!(!p.wait_for("third", Duration::from_millis(1200)));
    // Resumed: "third" is 1 s after "second".
    p.press(b" ");
    assert!(p.wait_for("third", Duration::from_secs(3)));
    p.press(b"q");
    assert_eq!(p.exit_code(Duration::from_secs(3)), 0);
    assert!(!p.seen_text().contains("last"));
    assert!(p.terminal_restored());

    // Ctrl-C arrives as a byte in raw mode, and quits too.
    let mut p = OnTerminal::start(&home, &["play", &id]);
    assert!(p.wait_for("first", Duration::from_secs(5)));
    p.press(b"\x03");
    assert_eq!(p.exit_code(Duration::from_secs(3)), 0);
    assert!(p.terminal_restored());
}
