//! `fixcast ls`, `show` and `rm`: listing, resolving ids and prefixes, deleting safely.

use std::time::Duration;

use crate::import_export::import;
use crate::on_terminal::OnTerminal;
use crate::util::{fixture, Home};

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// Three sessions, imported one by one (so oldest first): v1, v2, v3.
fn three(home: &Home) -> Vec<String> {
    ["v1.json", "v2.cast", "v3.cast"]
        .iter()
        .map(|f| import(home, &fixture(f)))
        .collect()
}

#[test]
fn an_empty_store_says_how_to_record() {
    let home = Home::new();
    let out = home.run(&["ls"]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    assert!(stderr(&out).contains("fixcast rec"), "{}", stderr(&out));
    assert_eq!(json(&home.ok(&["ls", "--json"])), serde_json::json!([]));
}

#[test]
fn ls_lists_newest_first() {
    let home = Home::new();
    let ids = three(&home);
    let list = json(&home.ok(&["ls", "--json"]));
    let listed: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [&ids[2], &ids[1], &ids[0]]);
    assert_eq!(list[0]["title"], "v3 fixture");
    assert_eq!(list[0]["status"], "complete");
    assert_eq!(list[0]["tags"], serde_json::json!(["disk", "prod"]));

    let limited = json(&home.ok(&["ls", "--json", "--limit", "2"]));
    assert_eq!(limited.as_array().unwrap().len(), 2);
    assert_eq!(limited[0]["id"], ids[2].as_str());
    assert_eq!(limited[1]["id"], ids[1].as_str());

    let table = home.ok(&["ls"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "{table}");
    for col in [
        "ID", "STARTED", "DURATION", "STATUS", "SIZE", "TAGS", "TITLE",
    ] {
        assert!(lines[0].contains(col), "{table}");
    }
    assert!(lines[1].starts_with(&ids[2][..10]), "{table}");
    assert!(
        !lines[1].contains(&ids[2][..11]),
        "short ids are 10 characters: {table}"
    );
    for want in ["2025-11-26 ", "0:00:02", "complete", "disk,prod"] {
        assert!(lines[1].contains(want), "{want:?} not in {:?}", lines[1]);
    }
    assert!(
        lines[1].ends_with("  v3 fixture"),
        "the title last: {:?}",
        lines[1]
    );
    assert!(
        lines[1].contains(" B  ") || lines[1].contains(" KiB  "),
        "a size: {:?}",
        lines[1]
    );
    assert!(lines[3].contains("v1 fixture"));
    assert_eq!(home.ok(&["ls", "--limit", "1"]).lines().count(), 2);
    // Issue 12 item 10: `-n` as for `search`; 0 would list nothing, and is refused.
    assert_eq!(home.ok(&["ls", "-n", "2"]).lines().count(), 3);
    assert_eq!(home.run(&["ls", "-n", "0"]).status.code(), Some(2));
}

#[test]
fn show_accepts_a_unique_prefix() {
    let home = Home::new();
    let ids = three(&home);
    let id = &ids[2];
    let out = home.ok(&["show", &id[..20].to_lowercase()]);
    for want in [
        format!("id:            {id}"),
        "title:         v3 fixture".into(),
        "tags:          disk, prod".into(),
        "status:        complete".into(),
        "term size:     80x24 (xterm-256color)".into(),
        "exit status:   3".into(),
        format!(
            "imported from: {}",
            std::fs::canonicalize(fixture("v3.cast")).unwrap().display()
        ),
        "command:       bash -l".into(),
    ] {
        assert!(out.contains(&want), "{want:?} not in:\n{out}");
    }
    let listed = json(&home.ok(&["ls", "--json"]));
    assert_eq!(json(&home.ok(&["show", id, "--json"])), listed[0]);
}

#[test]
fn an_ambiguous_prefix_lists_the_candidates() {
    let home = Home::new();
    let ids = three(&home);
    // Ids are time first: sessions made the same day share their first characters.
    let prefix = &ids[0][..2];
    assert!(ids.iter().all(|id| id.starts_with(prefix)));
    for cmd in ["show", "export", "play"] {
        let out = home.run(&[cmd, prefix]);
        assert_eq!(out.status.code(), Some(1), "{cmd}");
        let err = stderr(&out);
        assert!(err.contains("ambiguous"), "{cmd}: {err}");
        for id in &ids {
            assert!(err.contains(id.as_str()), "{cmd}: {id} not listed in {err}");
        }
    }
}

#[test]
fn unknown_and_invalid_ids_are_errors_not_panics() {
    let home = Home::new();
    three(&home);
    for cmd in [&["show"][..], &["export"], &["play"], &["rm", "-y"]] {
        let mut args = cmd.to_vec();
        args.push("7ZZZZZ");
        let out = home.run(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&out).contains("session 7ZZZZZ: not found"),
            "{}",
            stderr(&out)
        );

        let mut args = cmd.to_vec();
        args.push("../../etc/passwd");
        let out = home.run(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&out).contains("is not a session id"),
            "{}",
            stderr(&out)
        );
    }
    // Usage errors are clap's: exit 2.
    assert_eq!(home.run(&["show"]).status.code(), Some(2));
    assert_eq!(
        home.run(&["export", "X", "--format", "pdf"]).status.code(),
        Some(2)
    );
}

#[test]
fn rm_with_yes_deletes() {
    let home = Home::new();
    let ids = three(&home);
    let out = home.ok(&["rm", "-y", &ids[0], &ids[2][..20], &ids[0]]);
    assert!(
        out.contains(&format!("deleted {}", ids[0])) && out.contains(&ids[2]),
        "{out}"
    );
    assert_eq!(home.ids(), [ids[1].clone()]);
    assert!(!home.path().join("sessions").join(&ids[0]).exists());
}

#[test]
fn rm_without_yes_and_no_terminal_refuses() {
    let home = Home::new();
    let ids = three(&home);
    let out = home.run(&["rm", &ids[0]]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("-y"), "{}", stderr(&out));
    assert_eq!(home.ids().len(), 3);
}

#[test]
fn rm_deletes_nothing_when_one_id_is_unknown() {
    let home = Home::new();
    let ids = three(&home);
    let out = home.run(&["rm", "-y", &ids[0], "7ZZZZZ"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not found"));
    assert_eq!(home.ids().len(), 3);
}

#[test]
fn a_dead_recorders_session_is_repaired_and_named() {
    let home = Home::new();
    let ids = three(&home);
    let meta_path = home.path().join("sessions").join(&ids[1]).join("meta.json");
    let mut meta = json(&std::fs::read_to_string(&meta_path).unwrap());
    meta["status"] = "recording".into();
    meta["recorder_pid"] = 999_999.into();
    std::fs::write(&meta_path, meta.to_string()).unwrap();

    let out = home.run(&["ls"]);
    assert!(out.status.success());
    let want = format!("session {}: recorder is gone; marked interrupted", ids[1]);
    assert!(stderr(&out).contains(&want), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("interrupted"));
    // Repaired once, for good.
    let show = home.run(&["show", &ids[1]]);
    assert!(!stderr(&show).contains("recorder is gone"));
    assert!(String::from_utf8_lossy(&show.stdout).contains("status:        interrupted"));
}

#[test]
fn unreadable_metadata_is_a_warning() {
    let home = Home::new();
    let ids = three(&home);
    let meta_path = home.path().join("sessions").join(&ids[0]).join("meta.json");
    std::fs::write(&meta_path, b"{ not json").unwrap();
    let out = home.run(&["ls", "--json"]);
    assert!(out.status.success());
    assert!(stderr(&out).contains("bad metadata"), "{}", stderr(&out));
    assert_eq!(
        json(&String::from_utf8_lossy(&out.stdout))
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert!(home.run(&["ls"]).status.success());
}

#[test]
fn rm_on_a_terminal_asks_first() {
    let home = Home::new();
    let ids = three(&home);
    let mut t = OnTerminal::start(&home, &["rm", &ids[0], &ids[1]]);
    assert!(t.wait_for("delete 2 session(s)? [y/N]", Duration::from_secs(5)));
    assert!(t.seen_text().contains("v1 fixture"), "{}", t.seen_text());
    t.press(b"n\r");
    assert_eq!(t.exit_code(Duration::from_secs(5)), 1);
    assert_eq!(home.ids().len(), 3);

    let mut t = OnTerminal::start(&home, &["rm", &ids[0]]);
    assert!(t.wait_for("[y/N]", Duration::from_secs(5)));
    t.press(b"y\r");
    assert_eq!(t.exit_code(Duration::from_secs(5)), 0);
    assert_eq!(home.ids(), [ids[1].clone(), ids[2].clone()]);
}

#[test]
fn a_live_session_is_left_alone() {
    let home = Home::new();
    let ids = three(&home);
    let dir = home.path().join("sessions").join(&ids[2]);
    let meta_path = dir.join("meta.json");
    let mut meta = json(&std::fs::read_to_string(&meta_path).unwrap());
    meta["status"] = "recording".into();
    std::fs::write(&meta_path, meta.to_string()).unwrap();
    // A recorder holds this lock for as long as it writes.
    let cast = std::fs::File::open(dir.join("session.cast.zst")).unwrap();
    cast.lock().unwrap();

    let out = home.run(&["ls"]);
    assert!(
        !stderr(&out).contains("recorder is gone"),
        "{}",
        stderr(&out)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("recording"));
    let out = home.run(&["export", &ids[2]]);
    assert!(out.status.success());
    assert!(
        stderr(&out).contains("still being recorded"),
        "{}",
        stderr(&out)
    );
    let out = home.run(&["rm", "-y", &ids[2]]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("still being recorded"),
        "{}",
        stderr(&out)
    );
    assert!(dir.exists());
}

/// Issue 12 item 9: `last` and `last~N` wherever an id is taken.
#[test]
fn last_and_last_n_work_wherever_an_id_is_taken() {
    let home = Home::new();
    let ids = three(&home);
    let show = home.ok(&["show", "last", "--json"]);
    assert_eq!(json(&show)["id"], ids[2].as_str());
    assert_eq!(
        json(&home.ok(&["show", "LAST~1", "--json"]))["title"],
        "v2 fixture"
    );
    let export = home.ok(&["export", "last~1", "--format", "cast-v2"]);
    assert!(export.contains("\"v2 fixture\""), "{export}");
    home.ok(&["edit", "last~2", "--title", "oldest"]);
    assert_eq!(
        json(&home.ok(&["show", &ids[0], "--json"]))["title"],
        "oldest"
    );
    home.ok(&["redact", "last"]);
    for cmd in [
        &["show"][..],
        &["export"],
        &["play"],
        &["edit", "--title", "x"],
    ] {
        let mut args = cmd.to_vec();
        args.insert(1, "last~3");
        let out = home.run(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&out)
                .contains("session last~3: not found, there are 3 sessions (last to last~2)"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    home.ok(&["rm", "-y", "last", "last~1"]);
    let left = json(&home.ok(&["ls", "--json"]));
    assert_eq!(left.as_array().unwrap().len(), 1);
    assert_eq!(left[0]["id"], ids[0].as_str());
}

/// Issue 12 item 7: `ls` shows tags and a live session's duration so far; to a pipe its
/// lines are whole, on an 80-column terminal they fit.
#[test]
fn ls_shows_tags_and_live_durations_and_fits_the_terminal() {
    let home = Home::new();
    let ids = three(&home);
    let long = format!(
        "node1 kubectl lost its x bit {}",
        "and then more ".repeat(8)
    );
    home.ok(&["edit", &ids[2], "--title", &long, "--tag", "+incident"]);
    // ids[1] is being recorded: started two minutes ago, its cast file locked.
    let dir = home.path().join("sessions").join(&ids[1]);
    let meta_path = dir.join("meta.json");
    let mut meta = json(&std::fs::read_to_string(&meta_path).unwrap());
    let started = time::OffsetDateTime::now_utc() - time::Duration::seconds(125);
    let rfc3339 = &time::format_description::well_known::Rfc3339;
    meta["status"] = "recording".into();
    meta["duration"] = 0.0.into();
    meta["started"] = started.format(rfc3339).unwrap().into();
    std::fs::write(&meta_path, meta.to_string()).unwrap();
    let cast = std::fs::File::open(dir.join("session.cast.zst")).unwrap();
    cast.lock().unwrap();

    let piped = home.ok(&["ls"]);
    let lines: Vec<&str> = piped.lines().collect();
    assert!(lines[0].contains("TAGS"), "{piped}");
    assert!(
        lines[1].contains(long.trim_end()),
        "whole to a pipe: {piped}"
    );
    assert!(lines[1].contains("disk,prod,incident"), "{piped}");
    assert!(lines[2].contains("recording"), "{piped}");
    assert!(lines[2].contains(" 0:02:0"), "the duration so far: {piped}");
    let show = home.ok(&["show", &ids[1]]);
    assert!(show.contains("duration:      0:02:0"), "{show}");
    assert!(show.contains(" so far ("), "{show}");

    let mut t = OnTerminal::start(&home, &["ls"]);
    assert!(
        t.wait_for_count("\r\n", 4, Duration::from_secs(10)),
        "{}",
        t.seen_text()
    );
    assert_eq!(t.exit_code(Duration::from_secs(5)), 0);
    let seen = t.seen_text();
    let rows: Vec<&str> = seen.lines().map(|l| l.trim_end_matches('\r')).collect();
    for row in &rows {
        assert!(
            row.chars().count() <= 80,
            "{} columns: {row:?}",
            row.chars().count()
        );
    }
    assert!(
        rows[0].contains("TAGS") && rows[0].contains("TITLE"),
        "{seen}"
    );
    assert!(
        rows[1].contains("node1 ") && rows[1].ends_with('…'),
        "{seen}"
    );
    assert!(rows[2].contains(" 0:02:0"), "{seen}");
    assert!(rows[3].contains("v1 fixture"), "{seen}");
}

/// `last~N` past the oldest session reaches the server too (session ids in its paths
/// go through the same resolver): a 404 that says how many there are, not a 500.
#[test]
fn last_past_the_oldest_session_is_a_404_on_the_server() {
    let home = Home::new();
    let ids = three(&home);
    let server = crate::web::Server::start(home.path(), None);
    let addr = crate::http_util::addr_of(&server.url);
    let newest = crate::http_util::get(addr, "/api/sessions/last");
    assert_eq!(newest.status, 200, "{}", newest.text());
    assert_eq!(newest.json()["session"]["id"], ids[2].as_str());
    let past = crate::http_util::get(addr, "/api/sessions/last~9");
    assert_eq!(past.status, 404, "{}", past.text());
    assert!(
        past.text().contains("there are 3 sessions"),
        "{}",
        past.text()
    );
}
