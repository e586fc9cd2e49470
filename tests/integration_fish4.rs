//! fixcast's integration next to fish 4, which prints OSC 133 itself (the command line
//! in its C): each command is cut once, with its line, cwd and status.

use std::time::{Duration, Instant};

use crate::integration_shells::{assert_runtime_cleaned, marks, raw, User, D, LIMIT};
use crate::integration_tools::cut;
use crate::on_terminal::OnTerminal;
use crate::util::Home;

/// fish 4's binary, which prints OSC 133 itself: `FIXCAST_TEST_FISH4` names it (CI builds
/// it with `.ci/install-fish4`). Unset, the fish 4 tests skip, except in CI (CI=true),
/// where they fail.
fn fish4_path() -> Option<String> {
    let path = std::env::var("FIXCAST_TEST_FISH4").unwrap_or_default();
    if path.is_empty() {
        assert!(
            std::env::var_os("CI").is_none(),
            "FIXCAST_TEST_FISH4 (fish 4's binary) is required in CI: see .ci/install-fish4"
        );
        eprintln!("skipped: FIXCAST_TEST_FISH4 not set (the path of a fish 4 binary)");
        return None;
    }
    let out = std::process::Command::new(&path)
        .arg("--version")
        .output()
        .unwrap_or_else(|e| panic!("FIXCAST_TEST_FISH4={path}: {e}"));
    let version = String::from_utf8_lossy(&out.stdout);
    assert!(
        version.contains("version 4."),
        "FIXCAST_TEST_FISH4={path} is not fish 4: {version}"
    );
    Some(path)
}

/// fish 4's own prompt mark (it has no B).
const FISH4_A: &str = "\x1b]133;A;special_key=1\x07";

/// Waits until `n` commands have finished and fish 4 drew a prompt after the last.
fn wait_fish4_ready(t: &mut OnTerminal, n: usize) {
    let deadline = Instant::now() + LIMIT;
    loop {
        let seen = t.seen_text();
        if seen.matches(D).count() >= n && seen.rfind(FISH4_A) > seen.rfind(D) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no prompt after {n} commands:\n{seen:?}"
        );
        t.wait_for("\u{0}", Duration::from_millis(50));
    }
}

#[test]
fn fish4_own_marks_cut_each_command_once_with_its_line_cwd_and_status() {
    let Some(fish) = fish4_path() else {
        return;
    };
    let home = Home::new();
    let user = User::new(&home);
    user.write(
        ".config/fish/config.fish",
        "set -g FROM_CONFIG yes\nfunction fish_prompt\n    echo -n \"f4[$status]> \"\nend\n",
    );
    let mut t = user.rec(&home, &fish);
    let typed = [
        "echo hi-$FROM_CONFIG",
        "false",
        "sh -c 'exit 2'",
        "cd /tmp",
        "for i in 1 2\recho \"n;$i\"\rend",
    ];
    wait_fish4_ready(&mut t, 0);
    for (i, line) in typed.iter().enumerate() {
        t.press(line.as_bytes());
        t.press(b"\r");
        wait_fish4_ready(&mut t, i + 1);
    }
    // `read` shows a prompt, which fish 4 marks with A, inside the command.
    t.press(b"read -P (string upper ask)'> ' x; echo got-$x\r");
    assert!(t.wait_for("ASK> ", LIMIT), "{:?}", t.seen_text());
    t.press(b"bob\r");
    wait_fish4_ready(&mut t, typed.len() + 1);
    t.press(b"exit\r");
    assert_eq!(t.exit_code(LIMIT), 0);

    let text = raw(&home);
    let m = marks(&text);
    // fish prints A, C and D itself; fixcast adds none of its own, nor 633;E.
    let count = |p: &str| m.iter().filter(|x| x.starts_with(p)).count();
    assert_eq!(count("133;C;cmdline_url="), 7, "{m:?}");
    assert_eq!(count("133;C"), 7, "{m:?}");
    assert_eq!(count("133;D;"), 7, "{m:?}");
    assert_eq!(count("133;B"), 0, "{m:?}");
    assert_eq!(count("633;"), 0, "{m:?}");
    assert!(!text.contains("\x1b]133;A\x1b\\"), "{text:?}");
    // the user's config ran: its prompt, with the last status, and its variable
    assert!(text.contains("f4[1]> "), "{text:?}");

    let id = home.ids().pop().unwrap();
    let got = cut(&home);
    let start = user.dir.display().to_string();
    let want = [
        ("echo hi-$FROM_CONFIG", &*start, Some(0), "hi-yes\n"),
        ("false", &start, Some(1), ""),
        ("sh -c 'exit 2'", &start, Some(2), ""),
        ("cd /tmp", &start, Some(0), ""),
        (
            "for i in 1 2\necho \"n;$i\"\nend",
            "/tmp",
            Some(0),
            "n;1\nn;2\n",
        ),
        (
            "read -P (string upper ask)'> ' x; echo got-$x",
            "/tmp",
            Some(0),
            "ASK> bob\ngot-bob\n",
        ),
        ("exit", "/tmp", Some(0), ""),
    ];
    let want: Vec<_> = want
        .iter()
        .map(|(c, d, s, o)| ((*c).to_owned(), (*d).to_owned(), *s, (*o).to_owned()))
        .collect();
    assert_eq!(got, want);
    // each command is a chapter of the recording, once, under its own line
    let cast = home.ok(&["export", &id, "--format", "cast-v3"]);
    let chapters: Vec<String> = cast
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e[1] == "m")
        .map(|e| e[2].as_str().unwrap().to_owned())
        .collect();
    let lines: Vec<String> = want.iter().map(|w| w.0.clone()).collect();
    assert_eq!(chapters, lines);
    assert_runtime_cleaned(&user, &home);
}
