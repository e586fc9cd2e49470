//! `fixcast rec` with piped input: forwarded until it ends, then an end-of-file; input
//! the program leaves unread never keeps the recorder alive, SIGTERM or not.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::util::{exit_within, Home};

/// Far more than a terminal buffers (a few KiB to 64 KiB): the writer must wait.
const BIG: usize = 400_000;

/// A file of `BIG` bytes of short numbered lines (a terminal in line mode cuts lines
/// longer than 4 KiB).
fn big_input(home: &Home) -> PathBuf {
    let mut text = String::with_capacity(BIG);
    let mut i = 0;
    while text.len() < BIG {
        i += 1;
        text.push_str(&format!("piped input line {i:06} of fixcast's test\n"));
    }
    text.truncate(BIG - 1);
    text.push('\n');
    let path = home.path().join("big-input.txt");
    std::fs::write(&path, &text).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().len(), BIG as u64);
    path
}

fn rec_with_input(home: &Home, command: &str, input: &PathBuf) -> Child {
    home.cmd(&["rec", "-c", command])
        .stdin(std::fs::File::open(input).unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The one session's status and its output as plain text.
fn session(home: &Home) -> (String, String) {
    let ids = home.ids();
    assert_eq!(ids.len(), 1, "one session: {ids:?}");
    let meta: serde_json::Value =
        serde_json::from_str(&home.ok(&["show", &ids[0], "--json"])).unwrap();
    let text = home.ok(&["export", &ids[0], "--format", "txt"]);
    (meta["status"].as_str().unwrap_or_default().to_owned(), text)
}

/// Lines of `child`'s stdout on a channel (read on a thread, so the pipe never fills).
fn lines_of(child: &mut Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// The lines received until the sender is gone or `limit` passes.
fn all_lines(lines: &mpsc::Receiver<String>, limit: Duration) -> Vec<String> {
    let deadline = Instant::now() + limit;
    let mut got = Vec::new();
    while let Ok(line) = lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        got.push(line);
    }
    got
}

#[test]
fn input_the_program_never_reads_does_not_keep_rec_alive() {
    let home = Home::new();
    let input = big_input(&home);
    let mut child = rec_with_input(&home, "echo hi-$((6*7))", &input);
    let lines = lines_of(&mut child);
    let status = exit_within(&mut child, Duration::from_secs(60))
        .expect("rec still runs 60 s after `echo` exited: it waits on input nobody reads");
    assert_eq!(status.code(), Some(0));
    let stdout = all_lines(&lines, Duration::from_secs(10));
    // The terminal echoes the piped lines too, and `hi-42` may land inside one of them.
    assert!(stdout.join("\n").contains("hi-42"), "{stdout:?}");
    let (status, text) = session(&home);
    assert_eq!(status, "complete");
    assert!(text.contains("hi-42"), "{text}");
}

#[test]
fn sigterm_ends_rec_while_input_waits_unread() {
    let home = Home::new();
    let input = big_input(&home);
    let mut child = rec_with_input(&home, "echo ready-$((6*7)); sleep 60", &input);
    let lines = lines_of(&mut child);
    // Whatever the terminal echoes of the input comes first; the program's line after.
    let deadline = Instant::now() + Duration::from_secs(60);
    let started = std::iter::from_fn(|| {
        lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .ok()
    })
    .any(|l| l.trim_end().ends_with("ready-42"));
    assert!(started, "the program started");
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = exit_within(&mut child, Duration::from_secs(30))
        .expect("rec still runs 30 s after SIGTERM: it waits on input nobody reads");
    assert_eq!(status.code(), Some(128 + 1), "the program was hung up");
    let (status, text) = session(&home);
    assert_eq!(status, "complete");
    assert!(text.contains("ready-42"), "{text}");
}

#[test]
fn a_program_that_reads_large_piped_input_gets_every_byte() {
    let home = Home::new();
    let input = big_input(&home);
    let mut child = rec_with_input(&home, "echo \"count=$(wc -c)\"", &input);
    let lines = lines_of(&mut child);
    let status = exit_within(&mut child, Duration::from_secs(120)).expect("rec exits");
    assert_eq!(status.code(), Some(0));
    let want = format!("count={BIG}");
    let stdout = all_lines(&lines, Duration::from_secs(10));
    assert!(
        stdout.iter().any(|l| l.trim_end().ends_with(&want)),
        "{want} in {:?}",
        stdout.iter().rev().take(3).collect::<Vec<_>>()
    );
    let (status, text) = session(&home);
    assert_eq!(status, "complete");
    assert!(text.contains(&want), "recorded: …{}", text.len());
}

#[test]
fn a_piped_integrated_shell_makes_one_record_per_command_and_a_clean_log() {
    let home = Home::new();
    let user = crate::integration_shells::User::new(&home);
    let mut child = home
        .cmd(&["rec"])
        .env("HOME", &user.dir)
        .env("XDG_RUNTIME_DIR", user.runtime())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"ls /\necho piped-$((6*7))\n").unwrap();
    drop(stdin);
    let status = exit_within(&mut child, Duration::from_secs(30)).expect("rec ends at eof");
    let mut log = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut log).unwrap();
    assert!(status.success(), "{status}: {log:?}");
    assert!(log.contains("piped-42"), "output passes through: {log:?}");
    for mark in ["\x1b]133;", "\x1b]633;", "\x1b]7;"] {
        assert!(!log.contains(mark), "{mark:?} in the log: {log:?}");
    }
    let id = &home.ids()[0];
    let raw = home.ok(&["export", id, "--format", "raw"]);
    assert!(
        raw.contains("\x1b]133;C") && raw.contains("\x1b]633;E;ls /"),
        "the recording keeps the marks: {raw:?}"
    );
    let cmds: serde_json::Value =
        serde_json::from_str(&home.ok(&["show", id, "--commands", "--json"])).unwrap();
    let got: Vec<(&str, &str)> = cmds
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["command"].as_str().unwrap(),
                c["source"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("ls /", "integration"),
            ("echo piped-$((6*7))", "integration")
        ],
        "{cmds:#}"
    );
}
