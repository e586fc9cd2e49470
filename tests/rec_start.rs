//! How `fixcast rec` starts: keys typed before the shell is ready, what it says, and
//! what it leaves behind.

use crate::integration_shells::{User, LIMIT};
use crate::on_terminal::OnTerminal;
use crate::util::Home;

/// The output recorded in the home's only session.
fn recorded_output(home: &Home) -> String {
    let ids = home.ids();
    assert_eq!(ids.len(), 1, "{ids:?}");
    home.ok(&["export", &ids[0], "--format", "raw"])
}

/// Types a command the instant `rec` starts (a pasted snippet, or keys typed straight
/// after `fixcast rec` Enter), before the shell has printed anything; it must run.
fn typed_ahead_runs(mut t: OnTerminal, home: &Home) {
    t.press(b"echo typed-$((6*7))-ahead\r");
    assert!(
        t.wait_for("typed-42-ahead", LIMIT),
        "the keys typed ahead were lost: {:?}",
        t.seen_text()
    );
    t.press(b"exit\r");
    assert_eq!(t.exit_code(LIMIT), 0);
    let text = recorded_output(home);
    assert!(
        text.contains("echo typed-$((6*7))-ahead") && text.contains("typed-42-ahead"),
        "{text:?}"
    );
}

#[test]
fn keys_typed_before_the_shell_is_ready_reach_it() {
    // A race: three times, with and without integration.
    for _ in 0..3 {
        let home = Home::new();
        let shell = home.plain_bash();
        let t = OnTerminal::start_with(&home, &["rec"], &[("SHELL", &shell)]);
        typed_ahead_runs(t, &home);
    }
    for _ in 0..3 {
        let home = Home::new();
        let t = User::new(&home).rec(&home, "/bin/bash");
        typed_ahead_runs(t, &home);
    }
}
#[test]
fn keys_typed_ahead_at_an_integrated_shell_are_one_command() {
    let home = Home::new();
    let mut t = User::new(&home).rec(&home, "/bin/bash");
    t.press(b"echo typed-$((6*7))-once\r");
    assert!(t.wait_for("typed-42-once", LIMIT), "{:?}", t.seen_text());
    t.press(b"exit\r");
    assert_eq!(t.exit_code(LIMIT), 0);
    let id = &home.ids()[0];
    let cmds: serde_json::Value =
        serde_json::from_str(&home.ok(&["show", id, "--commands", "--json"])).unwrap();
    let lines: Vec<&str> = cmds
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["command"].as_str().unwrap())
        .collect();
    assert_eq!(lines, ["echo typed-$((6*7))-once", "exit"], "{cmds:#}");
    assert_eq!(cmds[0]["source"], "integration");
    assert!(
        cmds[0]["output"]
            .as_str()
            .unwrap()
            .contains("typed-42-once"),
        "{cmds:#}"
    );
}

#[test]
fn an_interactive_shell_is_announced_once_it_runs() {
    let home = Home::new();
    let shell = home.plain_bash();
    let mut t = OnTerminal::start_with(&home, &["rec"], &[("SHELL", &shell)]);
    assert!(t.wait_for("$ ", LIMIT), "{:?}", t.seen_text());
    let seen = t.seen_text();
    let id = &home.ids_quiet()[0];
    let said = format!(
        "fixcast: recording session {}; exit the shell to stop",
        &id[..10]
    );
    assert!(
        seen.find(&said)
            .is_some_and(|at| at < seen.find("$ ").unwrap()),
        "{seen:?}"
    );
    t.press(b"exit\r");
    assert_eq!(t.exit_code(LIMIT), 0);
}

#[test]
fn a_shell_that_cannot_start_is_an_error_and_not_announced() {
    let home = Home::new();
    let mut t = OnTerminal::start_with(&home, &["rec"], &[("SHELL", "/nonexistent/bash")]);
    assert_eq!(t.exit_code(LIMIT), 1);
    assert!(t.wait_for("set SHELL", LIMIT), "{:?}", t.seen_text());
    let seen = t.seen_text();
    assert!(
        seen.contains("cannot start /nonexistent/bash") && !seen.contains("recording session"),
        "{seen:?}"
    );
    assert!(t.terminal_restored());
    assert!(home.ids_quiet().is_empty(), "no session left behind");
}

/// The folders of generated startup files in `user`'s runtime folder.
fn startup_folders(user: &User) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(user.runtime())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn startup_files_of_a_killed_recorder_are_cleaned_by_the_next_one() {
    let home = Home::new();
    let user = User::new(&home);
    let mut t = user.rec(&home, "/bin/bash");
    assert!(t.wait_for("\x1b]133;B", LIMIT), "{:?}", t.seen_text());
    let left = startup_folders(&user);
    assert_eq!(left.len(), 1, "{left:?}");
    let killed = t.pid();
    std::process::Command::new("kill")
        .args(["-KILL", &killed.to_string()])
        .status()
        .unwrap();
    t.exit_code(LIMIT);
    assert_eq!(startup_folders(&user), left, "SIGKILL leaves the folder");
    // Someone else's folder of that name, and one whose recorder lives, are kept.
    let live = format!("fixcast-01LIVE-{}", std::process::id());
    std::fs::create_dir(user.runtime().join(&live)).unwrap();
    std::fs::create_dir(user.runtime().join("fixcast-notes")).unwrap();

    let mut next = user.rec(&home, "/bin/bash");
    assert!(next.wait_for("\x1b]133;B", LIMIT), "{:?}", next.seen_text());
    let now = startup_folders(&user);
    assert!(!now.contains(&left[0]), "{now:?}");
    assert!(
        now.contains(&live) && now.contains(&"fixcast-notes".to_owned()),
        "{now:?}"
    );
    assert_eq!(now.len(), 3, "{now:?}");
    next.press(b"exit\r");
    assert_eq!(next.exit_code(LIMIT), 0);
    assert_eq!(startup_folders(&user), [live, "fixcast-notes".to_owned()]);
}
