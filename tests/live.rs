//! Live sessions: `fixcast rec` in one terminal, `fixcast serve` on the same home. The
//! live stream (asciinema-player's eventsource protocol), the viewer count told to the
//! recorder, the page in a real browser, and commands found by search while the session
//! is still being recorded.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::on_terminal::OnTerminal;
use crate::util::Home;
use crate::web::{browser_ready, Server};

const PROMPT: &str = "live-prompt$ ";
const WAIT: Duration = Duration::from_secs(20);

/// `fixcast rec` running bash (with fixcast's integration) on a terminal.
fn live_shell(home: &Home) -> OnTerminal {
    let user_home = home.path().join("user");
    std::fs::create_dir_all(&user_home).unwrap();
    std::fs::write(user_home.join(".bashrc"), format!("PS1='{PROMPT}'\n")).unwrap();
    let mut t = OnTerminal::start_with(
        home,
        &["rec", "-t", "live fix"],
        &[
            ("SHELL", "/bin/bash"),
            ("HOME", user_home.to_str().unwrap()),
            ("HISTFILE", "/dev/null"),
        ],
    );
    assert!(t.wait_for(PROMPT, WAIT), "no prompt: {}", t.seen_text());
    t
}

/// The id of the only session in the home.
fn only_session(home: &Home) -> String {
    let ids = home.ids();
    assert_eq!(ids.len(), 1, "{ids:?}");
    ids[0].clone()
}

/// Reads an event stream's messages (`data:` lines; `event: done` as "DONE") on a
/// thread, sent on a channel as they come.
fn subscribe(url: &str, path: &str) -> mpsc::Receiver<String> {
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n"
    )
    .unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(s);
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            // Chunked encoding: sizes are lines of hex digits; skip them.
            let l = line.trim_end();
            let msg = if let Some(d) = l.strip_prefix("data: ").or(l.strip_prefix("data:")) {
                d.to_owned()
            } else if l == "event: done" || l == "event:done" {
                "DONE".to_owned()
            } else {
                continue;
            };
            if tx.send(msg).is_err() {
                return;
            }
        }
    });
    rx
}

/// Waits for a message that satisfies `f`; every message seen, for the failure message.
fn wait_msg(rx: &mpsc::Receiver<String>, seen: &mut Vec<String>, f: impl Fn(&str) -> bool) {
    let deadline = Instant::now() + WAIT;
    while let Ok(m) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        let hit = f(&m);
        seen.push(m);
        if hit {
            return;
        }
    }
    panic!("not seen in the live stream: {seen:#?}");
}

#[test]
fn a_live_session_streams_to_late_joiners_and_ends() {
    let home = Home::new();
    let mut t = live_shell(&home);
    let id = only_session(&home);
    let server = Server::start(home.path(), None);
    let path = format!("/api/sessions/{id}/live");

    let first = subscribe(&server.url, &path);
    let mut seen = Vec::new();
    wait_msg(&first, &mut seen, |m| m.contains("\"cols\":80"));
    assert!(
        t.wait_for("1 viewer watching live", WAIT),
        "the recorder was not told: {}",
        t.seen_text()
    );
    t.press(b"echo live-$((6*7))-out\r");
    wait_msg(&first, &mut seen, |m| m.contains("live-42-out"));

    // A late joiner: the current screen first, as a reset message.
    let late = subscribe(&server.url, &path);
    let mut late_seen = Vec::new();
    wait_msg(&late, &mut late_seen, |m| {
        serde_json::from_str::<Value>(m)
            .ok()
            .and_then(|v| v["init"].as_str().map(|s| s.contains("live-42-out")))
            .unwrap_or(false)
    });
    let api = crate::web::get_json(&server.url, &format!("/api/sessions/{id}"));
    assert_eq!(api["session"]["viewers"], 2, "{api}");

    t.press(b"exit\r");
    assert_eq!(t.exit_code(WAIT), 0);
    wait_msg(&first, &mut seen, |m| m == "DONE");
    wait_msg(&late, &mut late_seen, |m| m == "DONE");
    // The server lets go of the count as its viewers' streams end, just after `done`.
    let count = home.path().join("live").join(format!("{id}.viewers"));
    let deadline = Instant::now() + WAIT;
    while count.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!count.exists(), "the viewer count outlived the session");
}

#[test]
fn a_command_of_a_live_session_is_found_within_two_seconds() {
    let home = Home::new();
    let mut t = live_shell(&home);
    let id = only_session(&home);
    // An index exists before the session's first command, as it would on any machine.
    home.run(&["search", "nothing-yet"]);
    t.press(b"echo zebrafish$((6*7))\r");
    assert!(t.wait_for("zebrafish42", WAIT), "{}", t.seen_text());
    let ended = Instant::now();
    assert!(t.wait_for_count(PROMPT, 2, WAIT), "{}", t.seen_text());
    let found = loop {
        let out = home.run(&["search", "zebrafish42"]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if text.contains(&id[..10]) && text.contains("echo zebrafish") {
            break ended.elapsed();
        }
        assert!(
            ended.elapsed() < Duration::from_secs(10),
            "never found: {text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    eprintln!(
        "live command found by search {} ms after it ended",
        found.as_millis()
    );
    assert!(found < Duration::from_secs(2), "found after {found:?}");
    t.press(b"exit\r");
    assert_eq!(t.exit_code(WAIT), 0);
}

#[test]
fn a_live_session_in_the_browser() {
    if !browser_ready() {
        return;
    }
    let home = Home::new();
    let mut t = live_shell(&home);
    let id = only_session(&home);
    let server = Server::start(home.path(), None);
    let web = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("web");
    let mut node = Command::new("node")
        .arg(web.join("tests/browser.mjs"))
        .args([
            "live",
            &server.url,
            &format!("s/{id}"),
            PROMPT.trim(),
            "browser-42-out",
        ])
        .current_dir(&web)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut to_node = node.stdin.take().unwrap();
    let mut from_node = BufReader::new(node.stdout.take().unwrap());
    let mut next_line = || {
        let mut l = String::new();
        from_node.read_line(&mut l).unwrap();
        l
    };
    let mut line = next_line();
    if line.starts_with("STEP typing") {
        t.press(b"echo browser-$((6*7))-out\r");
        writeln!(to_node, "go").unwrap();
        line = next_line();
    }
    if line.starts_with("STEP ending") {
        t.press(b"exit\r");
        assert_eq!(t.exit_code(WAIT), 0);
        writeln!(to_node, "go").unwrap();
        line = next_line();
    }
    let status = node.wait().unwrap();
    let mut err = String::new();
    let _ = node.stderr.take().unwrap().read_to_string(&mut err);
    let v: Value = serde_json::from_str(&line)
        .unwrap_or_else(|_| panic!("browser live: {line}\nstderr: {err}"));
    assert!(
        status.success() && v.get("error").is_none(),
        "browser live failed: {v:#}\nstderr: {err}"
    );
    assert_eq!(v["problems"], serde_json::json!([]), "{v:#}");
    eprintln!(
        "live in the browser: output on screen {} ms after typing; late joiner {} ms",
        v["latency"], v["lateMs"]
    );
    let commands = v["commands"].as_array().unwrap();
    assert!(
        commands
            .iter()
            .any(|c| c.as_str().unwrap().contains("echo browser-")),
        "the replay lists the command: {v:#}"
    );
    assert!(
        t.wait_for("2 viewers watching live", Duration::from_secs(1))
            || t.wait_for("1 viewer watching live", Duration::from_secs(1)),
        "the recorder was not told: {}",
        t.seen_text()
    );
}
