//! `fixcast search` and `reindex` over real recordings: bash running real `lsattr`,
//! `chattr`, the dynamic loader on a copy of chmod, and failures.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::disk_full::get;
use crate::on_terminal::OnTerminal;
use crate::util::Home;
use crate::web::{import_cast, integrated, osc, Server};

/// A debugging story recorded as one `rec -c` session per command, in a work folder on
/// the disk the home is on.
struct Story {
    home: Home,
    work: PathBuf,
    /// Whether `chattr` works on this file system (not on tmpfs, overlayfs...).
    chattr: bool,
}

impl Drop for Story {
    fn drop(&mut self) {
        // An immutable file would outlive the temp dir.
        let _ = Command::new("chattr").arg("-i").arg(self.file()).output();
    }
}

fn rec(home: &Home, work: &Path, command: &str, title: &str) -> i32 {
    let out = home
        .cmd(&["rec", "-c", command, "-t", title])
        .current_dir(work)
        .output()
        .unwrap();
    out.status.code().unwrap_or(-1)
}

/// The dynamic loader of this machine, as `ldd` names it.
fn loader() -> Option<String> {
    for p in [
        "/lib64/ld-linux-x86-64.so.2",
        "/lib/ld-linux-aarch64.so.1",
        "/lib/ld-linux-armhf.so.3",
    ] {
        if Path::new(p).exists() {
            return Some(p.to_owned());
        }
    }
    let out = Command::new("ldd").arg("/bin/chmod").output().ok()?;
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .find(|w| w.starts_with('/') && w.contains("ld-linux"))
        .map(str::to_owned)
}

fn chattr_works(dir: &Path) -> bool {
    let probe = dir.join("probe");
    std::fs::write(&probe, "x").unwrap();
    let ok = Command::new("chattr")
        .arg("+i")
        .arg(&probe)
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        let _ = Command::new("chattr").arg("-i").arg(&probe).output();
    }
    let _ = std::fs::remove_file(&probe);
    if !ok {
        eprintln!(
            "skipped: chattr does not work on this file system (tmpfs?); chattr checks left out"
        );
    }
    ok
}

impl Story {
    fn file(&self) -> String {
        self.work.join("resolv.conf").display().to_string()
    }
}

/// The loader trick on the copy of chmod.
fn loader_fix(s: &Story) -> String {
    let c = s.work.join("chmod").display().to_string();
    format!("{} {c} +x {c} && ls -l {c}", loader().unwrap_or_default())
}

fn story() -> Story {
    let home = Home::new();
    let work = home.path().join("work");
    std::fs::create_dir(&work).unwrap();
    std::fs::write(work.join("resolv.conf"), "nameserver 10.0.0.2\n").unwrap();
    let chattr = chattr_works(&work);
    let s = Story { home, work, chattr };
    let (h, w) = (&s.home, &s.work);
    // Absolute paths: what the shell's cwd is does not matter.
    let f = w.join("resolv.conf").display().to_string();
    let c = w.join("chmod").display().to_string();
    let t = "resolv.conf is stuck";
    if s.chattr {
        assert_eq!(rec(h, w, &format!("chattr +i {f}"), t), 0);
    }
    let write = rec(h, w, &format!("echo nameserver 1.1.1.1 >> {f}"), t);
    let chmod = rec(h, w, &format!("chmod 600 {f}"), t);
    if s.chattr {
        assert_eq!(
            (write, chmod),
            (1, 1),
            "root cannot write an immutable file"
        );
    }
    assert_eq!(rec(h, w, &format!("lsattr {f}"), t), 0);
    assert_ne!(rec(h, w, "chattr -i /nonexistent/missing.conf", t), 0);
    if s.chattr {
        assert_eq!(rec(h, w, &format!("chattr -i {f}"), t), 0);
    }
    assert_eq!(rec(h, w, &format!("echo nameserver 1.1.1.1 >> {f}"), t), 0);
    let t = "chmod lost its x bit";
    assert_eq!(
        rec(h, w, &format!("cp /bin/chmod {c} && chmod -x {c}"), t),
        0
    );
    assert_eq!(rec(h, w, &format!("{c} +x {c}"), t), 126);
    if let Some(ld) = loader() {
        assert_eq!(rec(h, w, &loader_fix(&s), t), 0, "{ld}");
    } else {
        eprintln!("skipped: no dynamic loader found; loader checks left out");
    }
    assert_eq!(rec(h, w, "echo kubeсtl get pods", "typo"), 0);
    s
}

fn search(home: &Home, args: &[&str]) -> (i32, Value, String) {
    let mut all = vec!["search", "--json", "--limit", "20"];
    all.extend_from_slice(args);
    let out = home.run(&all);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let v = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (
        out.status.code().unwrap_or(-1),
        v,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn first_command(home: &Home, query: &str) -> String {
    let (code, v, err) = search(home, &["--", query]);
    assert_eq!(code, 0, "{query}: {err}");
    v[0]["command"].as_str().unwrap().to_owned()
}

fn hit_keys(home: &Home, query: &str) -> Vec<(String, u64)> {
    let (_, v, _) = search(home, &["--", query]);
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|h| {
                    (
                        h["session"].as_str().unwrap().to_owned(),
                        h["seq"].as_u64().unwrap(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_issues_queries_find_the_right_command_first() {
    let s = story();
    let h = &s.home;
    let f = s.file();
    assert_eq!(first_command(h, "lsattr"), format!("lsattr {f}"));
    assert!(
        first_command(h, "chattr").starts_with("chattr"),
        "a command, not an output, comes first"
    );
    if let Some(ld) = loader() {
        let fix = loader_fix(&s);
        for q in ["ld-linux", "ld-linux.so", "chmod +x", &ld] {
            assert_eq!(first_command(h, q), fix, "{q}");
        }
        // The failed `chmod +x` attempt (shorter) matches `+x` as well as the fix does.
        let (_, v, _) = search(h, &["--", "+x"]);
        let top2: Vec<&str> = v
            .as_array()
            .unwrap()
            .iter()
            .take(2)
            .map(|h| h["command"].as_str().unwrap())
            .collect();
        assert!(top2.contains(&fix.as_str()), "{top2:?}");
    }
    let (_, v, _) = search(h, &["exit:!0 chattr"]);
    assert_eq!(v[0]["command"], "chattr -i /nonexistent/missing.conf");
    assert!(v.as_array().unwrap().iter().all(|h| h["exit"] != 0));
    let twin = first_command(h, "kubectl");
    assert_eq!(twin, "echo kubeсtl get pods");
    let (_, v, _) = search(h, &["suspicious:true"]);
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["confusables"][0]["code_point"], "U+0441");
    let human = h.ok(&["search", "kubectl"]);
    assert!(human.contains("U+0441"), "{human}");
    if s.chattr {
        assert_eq!(first_command(h, "chattr -i"), format!("chattr -i {f}"));
        assert_eq!(first_command(h, "\"chattr -i\""), format!("chattr -i {f}"));
        let (_, v, _) = search(h, &["\"Operation not permitted\""]);
        let first = &v[0];
        // The failed write, or the failed chmod: both said it.
        let failed = [
            format!("echo nameserver 1.1.1.1 >> {f}"),
            format!("chmod 600 {f}"),
        ];
        assert!(
            failed.contains(&first["command"].as_str().unwrap().to_owned()),
            "{first}"
        );
        assert_eq!(first["exit"], 1);
        assert!(first["snippet"]["text"]
            .as_str()
            .unwrap()
            .contains("Operation not permitted"));
        assert_eq!(
            first_command(h, "cmd:chmod out:permitted"),
            format!("chmod 600 {f}")
        );
    }
}

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

#[test]
fn malformed_queries_exit_2_and_say_where() {
    let home = Home::new();
    for (q, want) in [
        (
            "ls comand:chmod",
            "column 4: unknown field 'comand' (did you mean 'cmd'?)",
        ),
        ("cmd:x \"oops", "column 7: unclosed quote"),
        ("after:2026-13-01", "column 7: after: bad date '2026-13-01'"),
        ("exit:maybe", "exit: expects a number"),
        // Issue 12 item 10: a field with no value was the text `cmd:`, "no matches".
        ("cmd:", "column 5: cmd: needs a value"),
    ] {
        let out = home.run(&["search", q]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{q}: {err}");
        assert!(err.contains(want), "{q}: {err}");
    }
}

/// Issue 12 item 10: `-n 0` showed nothing and said "no matches" though there were.
#[test]
fn a_limit_of_zero_is_a_usage_error() {
    let home = Home::new();
    for args in [&["search", "-n", "0", "x"][..], &["fix", "-n", "0", "x"]] {
        let out = home.run(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("'0'") && err.contains("1.."),
            "{args:?}: {err}"
        );
        assert!(!err.contains("no matches"), "{err}");
    }
}

#[test]
fn an_empty_store_says_how_to_record() {
    let home = Home::new();
    let out = home.run(&["search", "anything"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("fixcast rec"));
}

#[test]
fn reindex_gives_the_same_hits_as_incremental_indexing() {
    let s = story();
    let h = &s.home;
    let queries = [
        "chattr",
        "resolv.conf",
        "chmod",
        "exit:!0",
        "nameserver OR kubectl",
        "-zzzz",
    ];
    let before: Vec<_> = queries.iter().map(|q| hit_keys(h, q)).collect();
    assert!(before.iter().all(|k| !k.is_empty()));
    let out = h.run(&["reindex"]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("indexed") && err.contains("sessions") && err.contains("commands"),
        "{err}"
    );
    let after: Vec<_> = queries.iter().map(|q| hit_keys(h, q)).collect();
    assert_eq!(before, after);
    // And from nothing.
    std::fs::remove_dir_all(h.path().join("index")).unwrap();
    let from_scratch: Vec<_> = queries.iter().map(|q| hit_keys(h, q)).collect();
    assert_eq!(before, from_scratch);
}

#[test]
fn a_damaged_index_is_rebuilt_with_a_message() {
    let home = Home::new();
    rec(&home, home.path(), "lsattr -d /", "attrs");
    rec(&home, home.path(), "echo second", "other");
    let index = home.path().join("index");
    assert_eq!(first_command(&home, "lsattr"), "lsattr -d /");

    std::fs::write(index.join("meta.json"), "{ not json").unwrap();
    let (code, v, err) = search(&home, &["lsattr"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v[0]["command"], "lsattr -d /");
    assert!(
        err.contains("damaged") && err.contains("rebuilding"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "one message: {err}");

    // Every segment file overwritten with junk of the same size.
    for e in std::fs::read_dir(&index).unwrap() {
        let p = e.unwrap().path();
        let ext = p.extension().and_then(|x| x.to_str()).unwrap_or_default();
        if ["idx", "term", "store", "pos", "fast", "fieldnorm"].contains(&ext) {
            let len = std::fs::metadata(&p).unwrap().len() as usize;
            std::fs::write(&p, vec![0xa5u8; len]).unwrap();
        }
    }
    let (code, v, err) = search(&home, &["lsattr"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v[0]["command"], "lsattr -d /");
    assert!(err.contains("rebuilding"), "{err}");

    // An index from another version of fixcast.
    std::fs::write(index.join("fixcast-index-version"), "0\n").unwrap();
    let (code, _, err) = search(&home, &["lsattr"]);
    assert_eq!(code, 0);
    assert!(err.contains("another version"), "{err}");
}

#[test]
fn a_session_recorded_while_the_index_is_locked_is_queued_not_lost() {
    let home = Home::new();
    rec(&home, home.path(), "echo first", "one");
    let lock_path = home.path().join("index/.tantivy-writer.lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .unwrap();
    lock.lock().unwrap();
    let out = home.run(&["rec", "-c", "echo queued-session", "-t", "two"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("queued"), "{err}");
    let pending: Vec<_> = std::fs::read_dir(home.path().join("index/pending"))
        .unwrap()
        .collect();
    assert_eq!(pending.len(), 1);
    lock.unlock().unwrap();
    drop(lock);
    assert_eq!(
        first_command(&home, "queued-session"),
        "echo queued-session"
    );
    assert!(!home.path().join("index/pending").exists());
    // Sessions removed behind the index's back leave it too.
    let id = home.ids()[1].clone();
    home.ok(&["rm", "-y", &id]);
    assert_eq!(search(&home, &["queued-session"]).0, 1);
}

#[test]
fn a_flood_is_indexed_by_the_next_search_not_at_exit() {
    let home = Home::new();
    let out = home
        .cmd(&[
            "rec",
            "-c",
            "head -c 40000000 /dev/zero | tr '\\0' 'x' | fold -w 100; echo needle-after-flood",
        ])
        .stdout(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the next `fixcast search` indexes it"),
        "{err}"
    );
    let (code, hits, err) = search(&home, &["needle-after-flood"]);
    assert_eq!(
        code, 0,
        "the queued session was indexed by the search: {err}"
    );
    assert_eq!(hits.as_array().unwrap().len(), 1);
}

/// Issue 12 item 10: an installed fixcast has no README, so `search --help` carries the
/// whole query syntax: every field.
#[test]
fn search_help_has_the_whole_query_syntax() {
    let home = Home::new();
    let help = home.ok(&["search", "--help"]);
    assert!(!help.contains("README"), "{help}");
    for field in [
        "cmd:",
        "out:",
        "cwd:",
        "host:",
        "user:",
        "shell:",
        "tag:",
        "title:",
        "notes:",
        "exit:!0",
        "session:",
        "after:",
        "before:",
        "suspicious:true",
        "a OR b",
        "NOT word",
        "\"a phrase\"",
        "since:",
        "until:",
        "Exit status",
    ] {
        assert!(help.contains(field), "{field} not in:\n{help}");
    }
    let top = home.ok(&["--help"]);
    assert!(!top.contains("README"), "{top}");
}

/// Issue 12 item 9: `session:last` and `session:last~N` in a query, as wherever an id is
/// taken; past the oldest session is a query error.
#[test]
fn session_last_in_a_query_names_the_newest_sessions() {
    let home = Home::new();
    rec(&home, home.path(), "echo older-marker common-word", "older");
    rec(&home, home.path(), "echo newer-marker common-word", "newer");
    let (code, v, err) = search(&home, &["session:last", "common-word"]);
    assert_eq!(code, 0, "{err}");
    let titles: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["newer"]);
    let (code, v, err) = search(&home, &["session:last~1", "common-word"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v[0]["title"], "older");
    let out = home.run(&["search", "session:last~5 common-word"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("session last~5: not found, there are 2 sessions"),
        "{err}"
    );
    // `fix` reads the same queries.
    let out = home.run(&["fix", "session:last~5 common-word"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("session last~5: not found"), "{err}");
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
