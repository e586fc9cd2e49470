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
fn help_lists_the_keys() {
    let help = Home::new().ok(&["play", "--help"]);
    for key in ["space", "\n  .  ", "\n  ]  ", "\n  [  ", "\n  q  "] {
        assert!(help.contains(key), "{key:?} not in {help}");
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

/// `$ vim notes` at 0 s; at 0.1 s vim takes the terminal over: a title, the alternate screen,
/// application cursor keys and keypad, bracketed paste, a hidden cursor, the mouse and
/// focus reporting, red. With `leaves`, vim leaves 30 s later; without, the recording
/// ends inside it (a recorder that died).
fn vim_session(home: &Home, dir: &Path, leaves: bool) -> String {
    let file = dir.join(format!("vim-{leaves}.cast"));
    let mut events = vec![
        (0.0, "o", "$ vim notes\r\n".to_string()),
        (
            0.1,
            "o",
            "\x1b]2;vim title\x07\x1b[?1049h\x1b[?1h\x1b=\x1b[?2004h\x1b[?25l\x1b[?1000h\x1b[?1006h\x1b[?1004h\
             \x1b[H\x1b[2J\x1b[1;31m~ vim screen"
                .into(),
        ),
    ];
    if leaves {
        events.push((
            30.0,
            "o",
            "\x1b[0m\x1b[?1049l\x1b[?1l\x1b>\x1b[?25h$ ".into(),
        ));
    }
    write_v3(&file, 80, 24, &events);
    import(home, &file)
}

/// The terminal as a shell's prompt needs it: the main screen with what was on it, the
/// cursor at the start of a line and visible, keys and mouse normal, colours off.
fn assert_terminal_given_back(p: &OnTerminal, how: &str) {
    let parser = p.screen();
    let s = parser.screen();
    let seen = p.seen_text();
    assert!(
        !s.alternate_screen(),
        "{how}: still in the alternate screen: {seen:?}"
    );
    assert!(
        !s.application_cursor(),
        "{how}: application cursor keys: {seen:?}"
    );
    assert!(
        !s.application_keypad(),
        "{how}: application keypad: {seen:?}"
    );
    assert!(!s.bracketed_paste(), "{how}: bracketed paste: {seen:?}");
    assert!(!s.hide_cursor(), "{how}: hidden cursor: {seen:?}");
    assert_eq!(
        s.mouse_protocol_mode(),
        vt100::MouseProtocolMode::None,
        "{how}: mouse: {seen:?}"
    );
    assert_eq!(
        s.fgcolor(),
        vt100::Color::Default,
        "{how}: colours: {seen:?}"
    );
    assert!(!s.bold(), "{how}: bold: {seen:?}");
    // vt100 keeps no focus mode: the last switch must be off.
    assert!(
        seen.rfind("\x1b[?1004l") >= seen.rfind("\x1b[?1004h"),
        "{how}: focus reporting: {seen:?}"
    );
    assert!(
        s.contents().contains("$ vim notes") && !s.contents().contains("vim screen"),
        "{how}: not the main screen: {:?}",
        s.contents()
    );
    assert_eq!(s.cursor_position().1, 0, "{how}: cursor mid-line: {seen:?}");
    // The title the replay set is taken back off the title stack it was saved on.
    let (saved, set, taken) = (
        seen.find("\x1b[22;0t"),
        seen.rfind("\x1b]2;vim title"),
        seen.rfind("\x1b[23;0t"),
    );
    assert!(
        saved < set && set < taken && saved.is_some(),
        "{how}: title: {seen:?}"
    );
    assert!(p.terminal_restored(), "{how}: keys not cooked again");
}

#[test]
fn every_way_out_of_a_full_screen_moment_gives_the_terminal_back() {
    use nix::sys::signal::Signal;
    let home = Home::new();
    let dir = tempfile::tempdir().unwrap();
    let id = vim_session(&home, dir.path(), true);
    // Keys, and signals (as a closed window or `kill` sends them), at 1 s: inside vim.
    for (how, trust, code) in [
        ("q", false, 0),
        ("q, trusted", true, 0),
        ("ctrl-c", false, 0),
        ("SIGTERM", true, 128 + 15),
        ("SIGHUP", false, 128 + 1),
    ] {
        let mut args = vec!["play", id.as_str(), "--at", "1"];
        if trust {
            args.push("--trust");
        }
        let mut p = OnTerminal::start(&home, &args);
        assert!(p.wait_for("vim screen", Duration::from_secs(5)), "{how}");
        if trust {
            assert!(p.screen().screen().mouse_protocol_mode() != vt100::MouseProtocolMode::None);
        }
        match how {
            "SIGTERM" => p.signal(Signal::SIGTERM),
            "SIGHUP" => p.signal(Signal::SIGHUP),
            "ctrl-c" => p.press(b"\x03"),
            _ => p.press(b"q"),
        }
        let exited = p.exited_within(Duration::from_secs(5));
        assert_eq!(
            exited,
            Some(code),
            "{how}: still running, or another status"
        );
        p.read_to_end(Duration::from_secs(2));
        assert_terminal_given_back(&p, how);
    }
    // A recording that ends inside vim.
    let id = vim_session(&home, dir.path(), false);
    let mut p = OnTerminal::start(&home, &["play", &id, "--trust"]);
    assert_eq!(p.exit_code(Duration::from_secs(5)), 0);
    p.read_to_end(Duration::from_secs(2));
    assert!(p.seen_text().contains("vim screen"));
    assert_terminal_given_back(&p, "the end");
}

/// Three commands, a marker (a chapter) at each, 10 s apart.
fn chaptered_session(home: &Home, dir: &Path) -> String {
    let file = dir.join("chapters.cast");
    write_v3(
        &file,
        80,
        24,
        &[
            (0.0, "m", "echo one".into()),
            (0.0, "o", "$ echo one\r\none\r\n".into()),
            (10.0, "m", "echo two".into()),
            (0.0, "o", "$ echo two\r\ntwo\r\n".into()),
            (10.0, "m", "echo three".into()),
            (0.0, "o", "$ echo three\r\nthree\r\n".into()),
            (10.0, "o", "$ ".into()),
        ],
    );
    import(home, &file)
}

#[test]
fn brackets_jump_to_the_next_and_previous_command() {
    let home = Home::new();
    let dir = tempfile::tempdir().unwrap();
    let id = chaptered_session(&home, dir.path());
    let mut p = OnTerminal::start(&home, &["play", &id]);
    assert!(p.wait_for("\none", Duration::from_secs(5)));
    // Without the jump, "two" is 10 s away.
    p.press(b"]");
    assert!(
        p.wait_for("$ echo two", Duration::from_secs(2)),
        "{:?}",
        p.seen_text()
    );
    p.press(b"]");
    assert!(
        p.wait_for("$ echo three", Duration::from_secs(2)),
        "{:?}",
        p.seen_text()
    );
    // Back from the start of "three": to "two", the screen drawn as it was then.
    p.press(b"[");
    assert!(
        p.wait_for_count("$ echo two", 2, Duration::from_secs(2)),
        "{:?}",
        p.seen_text()
    );
    let contents = p.screen().screen().contents();
    assert!(
        contents.contains("$ echo one\none\n$ echo two"),
        "{contents:?}"
    );
    assert!(!contents.contains("three"), "{contents:?}");
    // Paused, a jump stays paused: "three" is shown, the prompt after it is not.
    p.press(b" ");
    p.press(b"]");
    assert!(p.wait_for_count("$ echo three", 2, Duration::from_secs(2)));
    p.press(b"]");
    p.wait_for("never", Duration::from_millis(500));
    let contents = p.screen().screen().contents();
    assert!(
        contents.contains("three\nthree\n") && !contents.contains("three\n$"),
        "{contents:?}"
    );
    p.press(b"q");
    assert_eq!(p.exit_code(Duration::from_secs(3)), 0);
    assert!(p.terminal_restored());
}

#[test]
fn a_step_goes_to_the_next_visible_change() {
    let home = Home::new();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("marks.cast");
    // Between "first" and "second", events that change nothing on the screen: shell
    // integration marks, a title, a colour switched on.
    write_v3(
        &file,
        80,
        24,
        &[
            (0.0, "o", "first\r\n".into()),
            (2.0, "o", "\x1b]133;D;0\x1b\\".into()),
            (1.0, "o", "\x1b]2;title\x07".into()),
            (1.0, "o", "\x1b]133;A\x1b\\\x1b[32m".into()),
            (1.0, "o", "second\r\n".into()),
            (1.0, "o", "third\r\n".into()),
        ],
    );
    let id = import(&home, &file);
    let mut p = OnTerminal::start(&home, &["play", &id]);
    assert!(p.wait_for("first", Duration::from_secs(5)));
    p.press(b" ");
    p.press(b".");
    assert!(
        p.wait_for("second", Duration::from_secs(2)),
        "{:?}",
        p.seen_text()
    );
    assert!(!p.wait_for("third", Duration::from_millis(500)));
    p.press(b".");
    assert!(p.wait_for("third", Duration::from_secs(2)));
    p.press(b"q");
    assert_eq!(p.exit_code(Duration::from_secs(3)), 0);
}

#[test]
fn a_paused_replay_says_so_and_puts_the_screen_back_on_resume() {
    let home = Home::new();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bottom.cast");
    // The bottom row full of text, the cursor left after "here" on row 3.
    write_v3(
        &file,
        80,
        24,
        &[
            (
                0.0,
                "o",
                format!("\x1b[24;1H{}\x1b[3;1H\x1b[1mhere", "x".repeat(80)),
            ),
            (30.0, "o", "end\r\n".into()),
        ],
    );
    let id = import(&home, &file);
    let mut p = OnTerminal::start(&home, &["play", &id]);
    assert!(p.wait_for("here", Duration::from_secs(5)));
    let row = |p: &OnTerminal| -> String {
        let parser = p.screen();
        (72..80)
            .map(|c| parser.screen().cell(23, c).unwrap().contents().to_string())
            .collect()
    };
    p.press(b" ");
    assert!(p.wait_for("paused", Duration::from_secs(2)));
    p.wait_for("never", Duration::from_millis(200));
    let parser = p.screen();
    let s = parser.screen();
    assert_eq!(row(&p), " paused ");
    assert!(s.cell(23, 75).unwrap().inverse());
    // The recording goes on drawing where it was, as it was.
    assert_eq!(s.cursor_position(), (2, 4));
    assert!(s.bold() && !s.inverse());
    p.press(b" ");
    p.wait_for("never", Duration::from_millis(300));
    assert_eq!(row(&p), "x".repeat(8));
    assert!(!p.screen().screen().cell(23, 75).unwrap().inverse());
    assert_eq!(p.screen().screen().cursor_position(), (2, 4));
    p.press(b"q");
    assert_eq!(p.exit_code(Duration::from_secs(3)), 0);
}

#[test]
fn a_recording_larger_than_the_terminal_is_warned_of() {
    let home = Home::new();
    let dir = tempfile::tempdir().unwrap();
    for (cols, rows, warned) in [(200, 50, true), (80, 24, false), (60, 20, false)] {
        let file = dir.path().join(format!("{cols}x{rows}.cast"));
        write_v3(&file, cols, rows, &[(0.0, "o", "hello\r\n".into())]);
        let id = import(&home, &file);
        let mut p = OnTerminal::start(&home, &["play", &id]);
        assert_eq!(p.exit_code(Duration::from_secs(5)), 0);
        p.read_to_end(Duration::from_secs(2));
        let seen = p.seen_text();
        let warning = format!(
            "recording is {cols}\u{d7}{rows}, this terminal is 80\u{d7}24: the replay will wrap"
        );
        assert_eq!(seen.contains(&warning), warned, "{seen:?}");
        assert_eq!(seen.contains("will wrap"), warned, "{seen:?}");
    }
}

#[test]
fn a_recording_the_screen_emulator_fails_on_still_plays() {
    let home = Home::new();
    let dir = tempfile::tempdir().unwrap();
    // vt100 0.16 panics on this at any size: a resize narrows the screen through a wide
    // character, then the cursor writes where its second half was. And one row of one
    // column, below what it can emulate.
    let wide = dir.path().join("wide.cast");
    write_v3(
        &wide,
        5,
        3,
        &[
            (0.0, "o", "abc\u{4e2d}".into()),
            (0.1, "r", "4x3".into()),
            (0.1, "o", "\x1b[1;4Hx\r\n".into()),
            (0.1, "o", "\x1b[?1049hafter\r\n".into()),
            (0.1, "o", "end\r\n".into()),
        ],
    );
    let tiny = dir.path().join("tiny.cast");
    write_v3(
        &tiny,
        1,
        1,
        &[(0.0, "o", "a\r\nb".into()), (0.2, "o", "end".into())],
    );
    for file in [wide, tiny] {
        let id = import(&home, &file);
        let mut p = OnTerminal::start(&home, &["play", &id]);
        assert!(
            p.wait_for("end", Duration::from_secs(5)),
            "{:?}",
            p.seen_text()
        );
        assert_eq!(
            p.exit_code(Duration::from_secs(5)),
            0,
            "{:?}",
            p.seen_text()
        );
        p.read_to_end(Duration::from_secs(2));
        let seen = p.seen_text();
        assert!(!seen.contains("panicked"), "{seen:?}");
        let parser = p.screen();
        assert!(!parser.screen().alternate_screen(), "{seen:?}");
        assert!(p.terminal_restored());
    }
}
