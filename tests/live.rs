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
use crate::web::{browser_ready, get_json, Server};

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

/// The hits of a web search: (seq, exit, command).
fn web_hits(url: &str, q: &str) -> Vec<(u64, Value, String)> {
    let v = get_json(url, &format!("/api/search?q={q}"));
    v["hits"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .iter()
        .map(|h| {
            let cmd = h["command"].as_str().unwrap().to_owned();
            (h["seq"].as_u64().unwrap(), h["exit"].clone(), cmd)
        })
        .collect()
}

/// Polls a web search until `done` holds for its hits; false after `WAIT`.
fn web_search_until(url: &str, q: &str, done: impl Fn(&[(u64, Value, String)]) -> bool) -> bool {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if done(&web_hits(url, q)) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
fn a_server_keeps_a_live_sessions_commands_current_one_copy_each() {
    let home = Home::new();
    let mut t = live_shell(&home);
    let server = Server::start(home.path(), None);
    t.press(b"echo alpha-$((6*7))\r");
    assert!(t.wait_for_count(PROMPT, 2, WAIT), "{}", t.seen_text());
    assert!(web_search_until(&server.url, "alpha-42", |h| h.len() == 1));
    // Found while it runs, with its output so far; then again once it ends.
    t.press(b"echo beta-$((6*7)); sleep 2; echo gamma-$((6*7)); false\r");
    assert!(t.wait_for("beta-42", WAIT), "{}", t.seen_text());
    assert!(
        web_search_until(&server.url, "beta-42", |h| h.len() == 1 && h[0].1.is_null()),
        "the running command: {:?}",
        web_hits(&server.url, "beta-42")
    );
    assert!(t.wait_for_count(PROMPT, 3, WAIT), "{}", t.seen_text());
    assert!(
        web_search_until(&server.url, "gamma-42", |h| h.len() == 1 && h[0].1 == 1),
        "the ended command: {:?}",
        web_hits(&server.url, "gamma-42")
    );
    assert_eq!(
        web_hits(&server.url, "beta-42").len(),
        1,
        "replaced, not added"
    );
    t.press(b"echo delta-$((6*7))\r");
    assert!(t.wait_for_count(PROMPT, 4, WAIT), "{}", t.seen_text());
    assert!(web_search_until(&server.url, "delta-42", |h| h.len() == 1));
    let all = web_hits(&server.url, "echo");
    let mut seqs: Vec<u64> = all.iter().map(|h| h.0).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, vec![1, 2, 3], "one document per command: {all:?}");
    let id = only_session(&home);
    let listed = get_json(&server.url, &format!("/api/sessions/{id}"));
    let lines: Vec<&str> = listed["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["command"].as_str().unwrap())
        .collect();
    assert_eq!(
        lines,
        vec![
            "echo alpha-$((6*7))",
            "echo beta-$((6*7)); sleep 2; echo gamma-$((6*7)); false",
            "echo delta-$((6*7))"
        ]
    );
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
        .env("FIXCAST_SHOTS", crate::web::shots_dir())
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
    // Every check is told, not just the first that fails.
    let mut bad: Vec<String> = Vec::new();
    // The live player's buffer is fixed and small: an adaptive one grows as the viewer
    // watches, until the screen lags seconds behind.
    let live_src = &v["created"][0]["src"];
    let buffer = live_src["bufferTime"].as_f64();
    if live_src["driver"] != "eventsource" || !buffer.is_some_and(|b| (0.0..=250.0).contains(&b)) {
        bad.push(format!(
            "the live player has no fixed small buffer: {live_src}"
        ));
    }
    if v["listed"].as_u64().is_none_or(|ms| ms >= 5_000) {
        bad.push("the live command list did not show the new command within 5 s".into());
    }
    let (d1, d2) = (v["duration"][0].as_f64(), v["duration"][1].as_f64());
    if !d1.zip(d2).is_some_and(|(a, b)| b >= a + 1.0) {
        bad.push(format!("the live duration stands still: {:?}", (d1, d2)));
    }
    let watching = v["watching"].as_f64().unwrap_or(0.0);
    let at = v["replay"]["at"].as_f64().unwrap_or(0.0);
    if !(watching > 0.5 && at >= watching - 0.5) {
        bad.push(format!(
            "the replay starts at {at}, the viewer was at {watching}"
        ));
    }
    if !v["replay"]["screen"]
        .as_str()
        .unwrap_or("")
        .contains("browser-42-out")
    {
        bad.push("the replay's screen lost what the viewer saw".into());
    }
    assert!(bad.is_empty(), "{bad:#?}\n{v:#}");
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
