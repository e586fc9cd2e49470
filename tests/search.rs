//! `fixcast search` over real recordings, and its query language: bash running real
//! `lsattr`, `chattr`, the dynamic loader on a copy of chmod, and failures; which command
//! a query finds first, and what a query it cannot run says. What a hit shows is in
//! search_output.rs, the index kept current behind it in search_index.rs.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::util::Home;

/// A debugging story recorded as one `rec -c` session per command, in a work folder on
/// the disk the home is on.
pub(crate) struct Story {
    pub(crate) home: Home,
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

pub(crate) fn rec(home: &Home, work: &Path, command: &str, title: &str) -> i32 {
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

pub(crate) fn story() -> Story {
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

pub(crate) fn search(home: &Home, args: &[&str]) -> (i32, Value, String) {
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

pub(crate) fn first_command(home: &Home, query: &str) -> String {
    let (code, v, err) = search(home, &["--", query]);
    assert_eq!(code, 0, "{query}: {err}");
    v[0]["command"].as_str().unwrap().to_owned()
}

pub(crate) fn hit_keys(home: &Home, query: &str) -> Vec<(String, u64)> {
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
