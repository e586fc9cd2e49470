//! Replaying a recording from elsewhere cannot drive the viewer's terminal, and
//! commands with look-alike characters are flagged.

use std::time::Duration;

use crate::import_export::{import, write_v3};
use crate::on_terminal::OnTerminal;
use crate::util::{fixture, Home};

/// What no replay may pass on from `hostile.cast`.
const HOSTILE: &[&str] = &[
    "\x1b]52",
    "file:///etc/passwd",
    "\x1bP",
    "\x1b_",
    "\x1b^",
    "\x1bX",
    "evil\ntitle",
    "\x1b[c",
    "\x1b[>c",
    "\x1b[5n",
    "\x1b[6n",
    "\x1b[14t",
    "\x1b[18t",
    "\x1b[21t",
    "\x1b[?1000h",
    "\x1bZ",
    "\x05",
    "ZWNobyBzcGxpdA",
];

fn imported(home: &Home) -> String {
    home.ok(&["import", fixture("hostile.cast").to_str().unwrap()]);
    home.ids().remove(0)
}

fn assert_harmless(out: &str) {
    for s in HOSTILE {
        assert!(!out.contains(s), "{s:?} passed in {out:?}");
    }
    for kept in [
        "\x1b[1;32mgreen",
        "\x1b]2;fine title\x07",
        "https://example.com",
        "click",
        "done",
    ] {
        assert!(out.contains(kept), "{kept:?} lost in {out:?}");
    }
}

#[test]
fn play_passes_on_drawing_only_unless_trusted() {
    let home = Home::new();
    let id = imported(&home);
    let out = home.run(&["play", &id]);
    assert!(out.status.success());
    assert_harmless(&String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--trust"));
    let trusted = home.ok(&["play", &id, "--trust"]);
    assert!(trusted.contains("\x1b]52;c;cm0gLXJmIH4K\x07"));
}

#[test]
fn export_raw_is_filtered_on_a_terminal_and_exact_elsewhere() {
    let home = Home::new();
    let id = imported(&home);
    let piped = home.ok(&["export", &id, "--format", "raw"]);
    assert!(
        piped.contains("\x1b]52;c;cm0gLXJmIH4K\x07"),
        "byte-exact when piped"
    );
    assert!(piped.contains("\x1b[6n"));

    let mut t = OnTerminal::start(&home, &["export", &id, "--format", "raw"]);
    assert!(t.wait_for("done", Duration::from_secs(10)));
    assert_eq!(t.exit_code(Duration::from_secs(10)), 0);
    // The PTY's output side turns `\n` into `\r\n`; the sequences are what matter.
    let seen = t.seen_text().replace("\r\n", "\n");
    assert_harmless(&seen);
    // What was left out is named by kind, as `play` names it.
    assert!(seen.contains("warning: not written: "), "{seen:?}");
    assert!(seen.contains("clipboard write"), "{seen:?}");
}

#[test]
fn a_command_with_look_alike_characters_is_flagged_as_it_runs_and_after() {
    let home = Home::new();
    let mut t = OnTerminal::start_with(
        &home,
        &["rec"],
        &[
            ("SHELL", "/bin/bash"),
            ("HOME", home.path().to_str().unwrap()),
        ],
    );
    // The integrated prompt's end mark.
    assert!(
        t.wait_for("133;B", Duration::from_secs(10)),
        "{}",
        t.seen_text()
    );
    t.press("echo kubeсtl get pods\r".as_bytes());
    assert!(
        t.wait_for("look-alike characters", Duration::from_secs(10)),
        "{}",
        t.seen_text()
    );
    t.press(b"echo plain-$((6*7))\r");
    assert!(t.wait_for("plain-42", Duration::from_secs(10)));
    t.press(b"exit\r");
    assert_eq!(t.exit_code(Duration::from_secs(10)), 0);
    assert_eq!(
        t.seen_text().matches("look-alike characters").count(),
        1,
        "warned once, for that command only"
    );
    let id = &home.ids()[0];
    let table = home.ok(&["show", id, "--commands"]);
    let flagged: Vec<&str> = table.lines().filter(|l| l.contains("look-alike")).collect();
    assert_eq!(flagged.len(), 1, "{table}");
    assert!(flagged[0].contains("U+0441"), "{table}");
    let json: serde_json::Value =
        serde_json::from_str(&home.ok(&["show", id, "--commands", "--json"])).unwrap();
    let suspicious: Vec<bool> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["suspicious"].as_bool().unwrap())
        .collect();
    assert!(
        suspicious.contains(&true) && suspicious.contains(&false),
        "{json}"
    );
    let hits = home.ok(&["search", "--json", "suspicious:true"]);
    assert!(hits.contains("U+0441"), "{hits}");
}

#[test]
fn the_look_alike_warning_comes_as_the_command_starts() {
    let home = Home::new();
    let user = crate::integration_shells::User::new(&home);
    let mut t = user.rec(&home, "/bin/bash");
    assert!(
        t.wait_for("133;B", Duration::from_secs(10)),
        "{}",
        t.seen_text()
    );
    t.press("sleep 3; echo kubeсtl-$((6*7))\r".as_bytes());
    // The shell announces the command (633;E, then 133;C) as it starts it.
    assert!(
        t.wait_for("\x1b]133;C", Duration::from_secs(10)),
        "{}",
        t.seen_text()
    );
    let started = std::time::Instant::now();
    assert!(
        t.wait_for("look-alike characters", Duration::from_secs(10)),
        "{}",
        t.seen_text()
    );
    let late = started.elapsed();
    let seen = t.seen_text();
    assert!(
        !seen.contains("kubeсtl-42"),
        "warned only after the command's output: {seen:?}"
    );
    // Held back with the line, it came a second late (the redactor's hold time); the
    // margin is for a loaded machine.
    assert!(
        late < Duration::from_millis(700),
        "warned {late:?} after the command started"
    );
    assert!(t.wait_for("kubeсtl-42", Duration::from_secs(10)));
    t.press(b"exit\r");
    assert_eq!(t.exit_code(Duration::from_secs(10)), 0);
}

#[test]
fn benign_mode_switches_play_and_the_warning_names_what_did_not() {
    let home = Home::new();
    let dir = tempfile::tempdir().unwrap();
    // bash at three prompts: bracketed paste on while it reads a line, off while it runs one.
    let prompt = "\x1b[?2004h$ ";
    let mut events = Vec::new();
    for cmd in ["ls", "vim", "true"] {
        events.push((0.1, "o", prompt.to_string()));
        events.push((0.1, "o", format!("{cmd}\r\n\x1b[?2004l\r")));
    }
    // vim: alternate screen, keypad and cursor keys, a hidden cursor, the mouse.
    events.push((
        0.1,
        "o",
        "\x1b[?1049h\x1b[?1h\x1b=\x1b[?25l\x1b[?1000h\x1b[?1006h~".into(),
    ));
    events.push((0.1, "o", "\x1b[?25h\x1b[?1l\x1b>\x1b[?1049l".into()));
    let file = dir.path().join("benign.cast");
    write_v3(&file, 80, 24, &events);
    let id = import(&home, &file);
    let out = home.run(&["play", &id]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.matches("\x1b[?2004h").count(), 3, "{stdout:?}");
    for kept in [
        "\x1b[?1049h",
        "\x1b[?1h",
        "\x1b=",
        "\x1b[?25l",
        "\x1b[?1049l",
    ] {
        assert!(stdout.contains(kept), "{kept:?} lost in {stdout:?}");
    }
    assert!(!stdout.contains("\x1b[?1000h"), "{stdout:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.trim().is_empty(), "a false alarm: {stderr}");

    // What could act on the viewer's terminal is named by kind, on a line of its own.
    let home = Home::new();
    let id = imported(&home);
    let out = home.run(&["play", &id]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.contains("not played"))
        .unwrap_or_else(|| panic!("no warning in {stderr:?}"));
    assert_eq!(
        line,
        "fixcast: warning: not played: 2 clipboard writes, 9 terminal queries, \
         1 link to a file or program, 5 device control strings, \
         1 title with control characters (--trust plays them)",
    );
}
