//! What a `fixcast search` hit shows: its snippet, what was tried next, colour only on
//! a terminal, and one JSON shape with `/api/search`.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::disk_full::get;
use crate::on_terminal::OnTerminal;
use crate::search::{first_command, rec, search};
use crate::util::Home;
use crate::web::{get_text, import_cast, integrated, osc, Server};

/// An asciicast v3 file of a shell with integration marks: one session, many commands.
fn integrated_cast(path: &Path, commands: &[(&str, &str, i32)]) {
    let mut lines =
        vec![r#"{"version":3,"term":{"cols":80,"rows":24},"title":"incident 42"}"#.to_owned()];
    for (cmd, out, exit) in commands {
        let prompt = "\x1b]133;A\x07$ \x1b]133;B\x07";
        let run =
            format!("{cmd}\r\n\x1b]633;E;{cmd}\x07\x1b]133;C\x07{out}\r\n\x1b]133;D;{exit}\x07");
        lines.push(serde_json::json!([0.5, "o", prompt]).to_string());
        lines.push(serde_json::json!([0.5, "o", run]).to_string());
    }
    lines.push(serde_json::json!([0.1, "x", "0"]).to_string());
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

#[test]
fn context_shows_what_was_tried_next() {
    let home = Home::new();
    let cast = home.path().join("incident.cast");
    integrated_cast(
        &cast,
        &[
            (
                "echo x >> /etc/resolv.conf",
                "bash: /etc/resolv.conf: Operation not permitted",
                1,
            ),
            (
                "lsattr /etc/resolv.conf",
                "----i---------e------- /etc/resolv.conf",
                0,
            ),
            ("chattr -i /etc/resolv.conf", "", 0),
            ("echo x >> /etc/resolv.conf", "", 0),
        ],
    );
    home.ok(&["import", cast.to_str().unwrap()]);
    let (code, v, err) = search(&home, &["--context", "2", "\"Operation not permitted\""]);
    assert_eq!(code, 0, "{err}");
    let h = &v[0];
    assert_eq!(h["seq"], 1);
    assert_eq!(h["title"], "incident 42");
    let next: Vec<(&str, i64)> = h["following"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["command"].as_str().unwrap(), c["exit"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        next,
        vec![
            ("lsattr /etc/resolv.conf", 0),
            ("chattr -i /etc/resolv.conf", 0)
        ]
    );
    let human = home.ok(&["search", "-C", "2", "lsattr"]);
    // Issue 12 item 10: each hit names its session's title, after the short id.
    assert!(
        human
            .lines()
            .next()
            .unwrap_or_default()
            .ends_with("  incident 42"),
        "{human}"
    );
    assert!(
        human.contains("then #3 $ chattr -i /etc/resolv.conf   [exit 0]"),
        "{human}"
    );
    assert!(
        human.contains("then #4 $ echo x >> /etc/resolv.conf"),
        "{human}"
    );
    assert_eq!(
        first_command(&home, "chattr -i"),
        "chattr -i /etc/resolv.conf"
    );
    assert_eq!(
        first_command(&home, "exit:!0 resolv.conf"),
        "echo x >> /etc/resolv.conf"
    );
}

#[test]
fn json_hits_have_their_documented_fields() {
    let home = Home::new();
    rec(
        &home,
        home.path(),
        "printf 'line one\\nconnect to 10.0.0.12:8080 refused\\n'; exit 7",
        "net",
    );
    let (code, v, _) = search(&home, &["10.0.0.12:8080"]);
    assert_eq!(code, 0);
    let h = &v[0];
    for key in [
        "session",
        "short_id",
        "seq",
        "offset",
        "command",
        "exit",
        "duration",
        "started",
        "cwd",
        "host",
        "user",
        "shell",
        "title",
        "tags",
        "source",
        "suspicious",
        "confusables",
        "score",
        "snippet",
        "play",
        "url",
        "partial",
        "marked_fix",
    ] {
        assert!(h.get(key).is_some(), "{key} in {h}");
    }
    assert_eq!(h["exit"], 7);
    assert_eq!(h["title"], "net");
    assert_eq!(h["suspicious"], false);
    let text = h["snippet"]["text"].as_str().unwrap();
    let [a, b] = [0, 1].map(|i| h["snippet"]["highlights"][0][i].as_u64().unwrap() as usize);
    assert!(text[a..b].contains("8080"), "{text} {a}..{b}");
    let id = h["session"].as_str().unwrap();
    assert_eq!(h["play"], format!("fixcast play {} --at 0.0", &id[..10]));
    // Inode numbers and ports as typed; no match exits 1, like grep.
    assert_eq!(search(&home, &[":8080"]).0, 0);
    let (code, v, err) = search(&home, &["10.0.0.13"]);
    assert_eq!((code, v), (1, serde_json::json!([])));
    assert!(
        err.contains("no matches; try fewer or looser terms"),
        "{err}"
    );
    // Grouped by session.
    let (_, v, _) = search(&home, &["--sessions", "refused"]);
    assert_eq!(v[0]["session"], id);
    assert_eq!(v[0]["hits"][0]["exit"], 7);
}

#[test]
fn piped_output_is_plain_and_a_terminal_gets_colour() {
    let home = Home::new();
    rec(
        &home,
        home.path(),
        "printf '\\033[31mred alert\\033[0m\\n'",
        "colours",
    );
    let out = home.ok(&["search", "alert"]);
    assert!(out.contains("red alert"), "{out}");
    assert!(!out.contains('\x1b'), "no escapes when piped: {out:?}");
    assert!(out.contains("fixcast play "), "{out}");
    let mut t = OnTerminal::start(&home, &["search", "alert"]);
    assert!(
        t.wait_for("\x1b[1;33malert", Duration::from_secs(20)),
        "{:?}",
        t.seen_text()
    );
    assert_eq!(t.exit_code(Duration::from_secs(20)), 0);
    // https://no-color.org
    let mut t = OnTerminal::start_with(&home, &["search", "alert"], &[("NO_COLOR", "1")]);
    assert!(
        t.wait_for("red alert", Duration::from_secs(20)),
        "{:?}",
        t.seen_text()
    );
    assert_eq!(t.exit_code(Duration::from_secs(20)), 0);
    t.wait_for("\u{0}", Duration::from_millis(300));
    assert!(!t.seen_text().contains("\x1b[1;33m"), "{:?}", t.seen_text());
}

/// `search --json` and `/api/search` answer a query on the same home with the same hits,
/// field for field: one JSON shape (docs/reference.md). `following` only when asked.
#[test]
fn the_cli_and_the_api_show_a_hit_in_one_shape() {
    let home = Home::new();
    let lines = [
        (
            "echo x >> app.conf",
            "bash: app.conf: Operation not permitted\r\n",
            1,
        ),
        ("chattr -i app.conf", "", 0),
        ("echo x >> app.conf", "", 0),
        (
            "echo kube\u{441}tl app.conf",
            "kube\u{441}tl app.conf\r\n",
            0,
        ),
    ];
    let mut out: Vec<(f64, String)> = lines
        .iter()
        .enumerate()
        .map(|(i, (line, output, status))| {
            (
                1.0 + 2.0 * i as f64,
                integrated("/srv", line, output, *status),
            )
        })
        .collect();
    out.push((10.0, format!("{}{}$ ", osc("133;A"), osc("133;B"))));
    let id = import_cast(&home, "app.conf is stuck", &out);
    home.ok(&["edit", &id, "--fix", "2"]);

    let (code, cli, err) = search(&home, &["app.conf"]);
    assert_eq!(code, 0, "{err}");
    let (_, with_context, _) = search(&home, &["--context", "1", "app.conf"]);
    let server = Server::start(home.path(), None);
    let (status, body) = get(&server.url, "/api/search?q=app.conf&limit=20");
    assert_eq!(status, 200, "{body}");
    let api: Value = serde_json::from_str(&body).unwrap();
    let api = api["hits"].as_array().unwrap();
    let cli = cli.as_array().unwrap();
    assert_eq!(cli.len(), 4, "{cli:#?}");
    assert_eq!(api.len(), cli.len(), "{api:#?}");
    let place = |h: &Value| (h["session"].clone(), h["seq"].clone());
    for (c, mut k) in cli.iter().zip(with_context.as_array().unwrap().clone()) {
        let a = api
            .iter()
            .find(|a| place(a) == place(c))
            .expect("the same hit");
        assert_eq!(a, c, "the API's hit, then the CLI's");
        // `--context` adds what followed, and nothing else.
        let following = k.as_object_mut().unwrap().remove("following");
        assert!(following.is_some_and(|f| f.is_array()), "{k:#}");
        let a = api.iter().find(|a| place(a) == place(&k)).unwrap();
        assert_eq!(a, &k, "with --context");
    }
    // The shape: both links on the hit and on each step, flags always there.
    let by_seq = |seq: u64| cli.iter().find(|h| h["seq"] == seq).unwrap();
    let failure = by_seq(1);
    assert_eq!(failure["url"], format!("/s/{id}?t=0.95&hit=1"));
    assert_eq!(
        failure["play"],
        format!("fixcast play {} --at 0.9", &id[..10])
    );
    assert_eq!(
        (&failure["partial"], &failure["marked_fix"]),
        (&false.into(), &false.into())
    );
    let step = &failure["fix"]["commands"][0];
    assert_eq!(step["url"], format!("/s/{id}?t=2.95&hit=2"), "{failure:#}");
    assert_eq!(step["play"], format!("fixcast play {} --at 2.9", &id[..10]));
    assert_eq!(by_seq(2)["marked_fix"], true);
    assert_eq!(by_seq(2)["fixes"]["url"], format!("/s/{id}?t=0.95&hit=1"));
    let twin = by_seq(4);
    assert_eq!(twin["suspicious"], true);
    assert_eq!(
        twin["confusables"][0],
        serde_json::json!({"char": "\u{441}", "code_point": "U+0441", "looks_like": "c"})
    );
    let pair = &twin["snippet"]["highlights"][0];
    assert!(pair.as_array().is_some_and(|p| p.len() == 2), "{twin:#}");
}

/// The index's fragment of a hit's output is about 200 characters, and can start many
/// short lines before the match: `search` printed the fragment's first three lines
/// (`2977`, `2978`, `2979`), the results page put the match below its box's fold, and
/// neither showed the line that matched.
#[test]
fn a_snippet_shows_the_line_of_its_match() {
    let home = Home::new();
    rec(
        &home,
        home.path(),
        "seq 1 3000; echo zqmarker found here",
        "count",
    );
    rec(&home, home.path(), "true lonelyword; seq 101 110", "quiet");
    let out = home.ok(&["search", "zqmarker"]);
    let shown: Vec<&str> = out.lines().filter_map(|l| l.strip_prefix("  │ ")).collect();
    // The match's line, after the line before it.
    let at = shown.iter().position(|l| l.starts_with("zqmarker"));
    assert!(
        shown.len() <= 3 && at.is_some_and(|i| i > 0 && shown[i - 1] == "3000"),
        "{out}"
    );
    // `--json` keeps the whole fragment: its highlight is the match.
    let (code, v, err) = search(&home, &["zqmarker"]);
    assert_eq!(code, 0, "{err}");
    let text = v[0]["snippet"]["text"].as_str().unwrap();
    let [a, b] = [0, 1].map(|i| v[0]["snippet"]["highlights"][0][i].as_u64().unwrap() as usize);
    assert_eq!(&text[a..b], "zqmarker", "{text}");
    assert!(text.lines().count() > 3, "{text}");
    // The results page: the box starts at the line before the match, not lines above it.
    let server = Server::start(home.path(), None);
    let page = get_text(&server.url, "/search?q=zqmarker");
    let snippet = page
        .split("<pre class=\"snippet\">")
        .nth(1)
        .and_then(|s| s.split("</pre>").next())
        .unwrap_or_else(|| panic!("no snippet in {page}"));
    assert!(
        snippet.contains("<mark>zqmarker</mark>") && snippet.lines().count() <= 7,
        "{snippet}"
    );
    assert!(
        !snippet.starts_with(text.lines().next().unwrap()),
        "{snippet}"
    );
    // A hit on the command line alone has no match in its output: its first lines.
    let out = home.ok(&["search", "lonelyword"]);
    let shown: Vec<&str> = out.lines().filter_map(|l| l.strip_prefix("  │ ")).collect();
    assert_eq!(shown.first(), Some(&"101"), "{out}");
}
