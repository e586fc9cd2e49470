//! `fixcast rec`: real shells in real PTYs, with and without a terminal of its own.

use std::time::Duration;

use crate::on_terminal::OnTerminal;
use crate::util::{have, Home};

fn meta(home: &Home, id: &str) -> serde_json::Value {
    serde_json::from_str(&home.ok(&["show", id, "--json"])).unwrap()
}

/// The v3 event lines of a session, parsed.
fn events(home: &Home, id: &str) -> Vec<(f64, String, String)> {
    home.ok(&["export", id, "--format", "cast-v3"])
        .lines()
        .skip(1)
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v[0].as_f64().unwrap(),
                v[1].as_str().unwrap().to_owned(),
                v[2].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn output_of(events: &[(f64, String, String)]) -> String {
    events
        .iter()
        .filter(|e| e.1 == "o")
        .map(|e| e.2.as_str())
        .collect()
}

#[test]
fn a_command_is_recorded_with_its_output_and_exit_status() {
    let home = Home::new();
    let out = home
        .cmd(&[
            "rec",
            "-c",
            "echo hello; printf 'caf\\303\\251 \\344\\270\\255\\n'; exit 3",
            "-t",
            "greeting",
            "--tag",
            "demo",
            "--cols",
            "100",
            "--rows",
            "30",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "the command's exit status is fixcast's"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("hello"),
        "output passes through: {stdout:?}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("recording session") && stderr.contains("fixcast play"),
        "`-c` ends by itself: no \"exit the shell\", only where it was saved: {stderr}"
    );

    let ids = home.ids();
    assert_eq!(ids.len(), 1);
    let m = meta(&home, &ids[0]);
    assert_eq!(m["status"], "complete");
    assert_eq!(m["exit_status"], 3);
    assert_eq!(m["title"], "greeting");
    assert_eq!(m["tags"][0], "demo");
    assert_eq!(m["term"]["cols"], 100);
    assert_eq!(m["term"]["rows"], 30);
    assert!(m["recorder_pid"].is_null());
    assert!(m["bytes"]["output"].as_u64().unwrap() >= 12);

    let evs = events(&home, &ids[0]);
    let text = output_of(&evs);
    assert!(text.contains("hello\r\n"), "{text:?}");
    assert!(text.contains("café 中"), "utf-8 kept: {text:?}");
    let last = evs.last().unwrap();
    assert_eq!(
        (last.1.as_str(), last.2.as_str()),
        ("x", "3"),
        "exit event last"
    );
}

#[test]
fn the_file_on_disk_is_asciicast_v3_to_zstd() {
    if !have("zstd") {
        return;
    }
    let home = Home::new();
    home.cmd(&["rec", "-c", "seq 1 2000"]).output().unwrap();
    let id = &home.ids()[0];
    let out = home.zstd_dc(id);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let header: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(header["version"], 3);
    assert_eq!(header["term"]["cols"], 80);
    assert_eq!(text, home.ok(&["export", id, "--format", "cast-v3"]));
    assert!(text.contains("1999\\r\\n2000\\r\\n"));
}

#[test]
fn piped_input_drives_an_interactive_shell_until_eof() {
    let home = Home::new();
    let shell = home.plain_bash();
    let mut child = home
        .cmd(&["rec"])
        .env("SHELL", &shell)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"echo piped-$((6*7))\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "the shell exits at end of input"
    );
    let text = output_of(&events(&home, &home.ids()[0]));
    assert!(text.contains("piped-42"), "{text:?}");
}

#[test]
fn an_interactive_shell_on_a_terminal_is_recorded_with_resizes() {
    let home = Home::new();
    let shell = home.plain_bash();
    let mut t = OnTerminal::start_with(&home, &["rec"], &[("SHELL", &shell)]);
    assert!(
        t.wait_for("$ ", Duration::from_secs(10)),
        "prompt: {}",
        t.seen_text()
    );
    t.press(b"echo one-$((1+1))\r");
    assert!(t.wait_for("one-2", Duration::from_secs(10)));
    t.resize(120, 40);
    // Typed right after the resize: the keys must not overtake it (the recorder gives
    // the PTY the new size before it passes them on).
    t.press(b"stty size\r");
    assert!(
        t.wait_for("40 120", Duration::from_secs(10)),
        "resize forwarded before the keys: {}",
        t.seen_text()
    );
    t.press(b"exit 7\r");
    assert_eq!(t.exit_code(Duration::from_secs(10)), 7);
    assert!(t.terminal_restored(), "raw mode undone");

    let evs = events(&home, &home.ids()[0]);
    assert!(
        evs.iter().any(|e| e.1 == "r" && e.2 == "120x40"),
        "resize event: {evs:?}"
    );
    let text = output_of(&evs);
    assert!(text.contains("one-2") && text.contains("40 120"));
    assert!(
        evs.iter().all(|e| e.1 != "i" || e.2.is_empty()),
        "keys are not recorded by default, only that Enter was pressed"
    );
}

#[test]
fn record_input_stores_keystrokes() {
    let home = Home::new();
    let shell = home.plain_bash();
    let mut t = OnTerminal::start_with(&home, &["rec", "--record-input"], &[("SHELL", &shell)]);
    assert!(t.wait_for("$ ", Duration::from_secs(10)));
    t.press(b"echo typed-$((6*7))\r");
    assert!(t.wait_for("typed-42", Duration::from_secs(10)));
    t.press(b"exit\r");
    assert_eq!(t.exit_code(Duration::from_secs(10)), 0);
    let evs = events(&home, &home.ids()[0]);
    let typed: String = evs
        .iter()
        .filter(|e| e.1 == "i")
        .map(|e| e.2.as_str())
        .collect();
    assert!(typed.contains("echo typed-$((6*7))\r"), "{typed:?}");
}

#[test]
fn ctrl_c_reaches_the_shell_not_fixcast() {
    let home = Home::new();
    let shell = home.plain_bash();
    let mut t = OnTerminal::start_with(&home, &["rec"], &[("SHELL", &shell)]);
    assert!(t.wait_for("$ ", Duration::from_secs(10)));
    t.press(b"sleep 30; echo not-interrupted\r");
    std::thread::sleep(Duration::from_millis(300));
    t.press(b"\x03");
    t.press(b"echo status=$?\r");
    assert!(
        t.wait_for("status=130", Duration::from_secs(10)),
        "{}",
        t.seen_text()
    );
    t.press(b"exit\r");
    assert_eq!(t.exit_code(Duration::from_secs(10)), 0);
    assert!(
        !t.seen_text().contains("\nnot-interrupted"),
        "sleep was interrupted"
    );
}

#[test]
fn sigterm_ends_the_session_cleanly_and_restores_the_terminal() {
    let home = Home::new();
    let shell = home.plain_bash();
    let mut t = OnTerminal::start_with(&home, &["rec"], &[("SHELL", &shell)]);
    assert!(t.wait_for("$ ", Duration::from_secs(10)));
    t.press(b"echo before-$((6*7))-term\r");
    assert!(t.wait_for("before-42-term", Duration::from_secs(10)));
    let pid = t.pid();
    std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    let code = t.exit_code(Duration::from_secs(10));
    assert_eq!(code, 128 + 1, "the shell was hung up (SIGHUP)");
    assert!(t.terminal_restored());
    let id = &home.ids()[0];
    assert_eq!(meta(&home, id)["status"], "complete");
    assert!(output_of(&events(&home, id)).contains("before-42-term"));
}

/// Sends SIGTERM to the recorder once `ready` is on screen; its exit code and how long
/// it took to exit.
fn terminate_recording_of(home: &Home, command: &str) -> (u32, Duration, OnTerminal) {
    let mut t = OnTerminal::start(home, &["rec", "-c", command]);
    assert!(t.wait_for("ready-42", Duration::from_secs(10)));
    let start = std::time::Instant::now();
    std::process::Command::new("kill")
        .args(["-TERM", &t.pid().to_string()])
        .status()
        .unwrap();
    let code = t.exit_code(Duration::from_secs(15));
    (code, start.elapsed(), t)
}

#[test]
fn sigterm_as_soon_as_the_program_prints_hangs_it_up() {
    // The signal handlers are in place before the program starts: a SIGTERM sent the
    // moment its first output shows must not kill fixcast outright (exit by signal,
    // terminal left raw, session left "recording").
    let home = Home::new();
    for _ in 0..20 {
        let mut t = OnTerminal::start(&home, &["rec", "-c", "echo up-$((6*7)); sleep 30"]);
        assert!(t.wait_for("up-42", Duration::from_secs(10)));
        std::process::Command::new("kill")
            .args(["-TERM", &t.pid().to_string()])
            .status()
            .unwrap();
        assert_eq!(t.exit_code(Duration::from_secs(15)), 128 + 1, "hung up");
        assert!(t.terminal_restored());
    }
    for id in home.ids() {
        assert_eq!(meta(&home, &id)["status"], "complete");
    }
}

#[test]
fn a_shell_that_misses_the_first_hangup_gets_another() {
    // bash can miss a SIGHUP that lands between a command and its next prompt; this
    // program ignores exactly one.
    let home = Home::new();
    let (code, took, t) = terminate_recording_of(
        &home,
        "trap 'trap - HUP' HUP; echo ready-$((6*7)); while :; do sleep 0.1; done",
    );
    assert_eq!(code, 128 + 1, "ended by the second hangup");
    assert!(took < Duration::from_secs(4), "took {took:?}");
    assert!(t.terminal_restored());
    assert_eq!(meta(&home, &home.ids()[0])["status"], "complete");
}

#[test]
fn a_program_that_ignores_hangups_is_killed_and_the_session_kept() {
    let home = Home::new();
    let (code, took, t) = terminate_recording_of(
        &home,
        "trap '' HUP; echo ready-$((6*7)); while :; do sleep 0.1; done",
    );
    assert_eq!(code, 128 + 9, "killed after the grace period");
    assert!(took >= Duration::from_secs(4), "took {took:?}");
    assert!(t.terminal_restored());
    let id = &home.ids()[0];
    assert_eq!(meta(&home, id)["status"], "complete");
    assert!(output_of(&events(&home, id)).contains("ready-42"));
}

#[test]
fn recording_inside_a_recording_is_refused_unless_forced() {
    let home = Home::new();
    let out = home
        .cmd(&["rec", "-c", "true"])
        .env("FIXCAST_SESSION", "01ABCDEFGHJKMNPQRSTVWXYZ01")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("already recording session 01ABCDEFGHJKMNPQRSTVWXYZ01")
            && err.contains("--force"),
        "{err}"
    );
    assert!(home.ids().is_empty(), "nothing created");
    let out = home
        .cmd(&["rec", "--force", "-c", "echo inner $FIXCAST_SESSION"])
        .env("FIXCAST_SESSION", "01ABCDEFGHJKMNPQRSTVWXYZ01")
        .output()
        .unwrap();
    assert!(out.status.success());
    let id = &home.ids()[0];
    assert!(
        output_of(&events(&home, id)).contains(&format!("inner {id}")),
        "the child sees its own session id"
    );
}

#[test]
fn a_shell_that_cannot_start_is_a_clear_error_and_leaves_nothing() {
    let home = Home::new();
    let out = home
        .cmd(&["rec", "-c", "true"])
        .env("SHELL", "/nonexistent/shell")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/nonexistent/shell") && err.contains("set SHELL"),
        "{err}"
    );
    assert!(!err.contains("recording session"), "{err}");
    assert!(home.ids().is_empty());
}

#[test]
fn the_shell_starts_in_the_directory_rec_was_run_from() {
    let home = Home::new();
    let dir = tempfile::tempdir().unwrap();
    let out = home
        .cmd(&["rec", "-c", "pwd"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let id = &home.ids()[0];
    let text = output_of(&events(&home, id));
    let want = dir.path().canonicalize().unwrap();
    assert!(
        text.contains(&format!("{}\r\n", want.display())),
        "{text:?}"
    );
    assert_eq!(meta(&home, id)["cwd"], want.display().to_string());
}
