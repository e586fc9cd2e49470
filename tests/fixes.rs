//! Fix records end to end: a real bash session where something fails and gets fixed,
//! then `search`, `show --commands` and `show --fix` answer with the fix.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::commands::Shell;
use crate::util::Home;

/// Makes a file mutable again when the test ends, whatever happened.
struct Mutable<'a>(&'a Path);

impl Drop for Mutable<'_> {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(self.0).output();
    }
}

#[test]
fn a_failure_is_answered_with_what_fixed_it() {
    let home = Home::new();
    let work = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let file = work.path().join("app.conf");
    let _guard = Mutable(&file);
    let mut sh = Shell::start(&home);
    sh.run(&format!("cd {}\r", work.path().display()), 1);
    sh.run(
        "touch app.conf; chattr +i app.conf; echo x >> app.conf\r",
        1,
    );
    sh.run("ls -l app.conf\r", 1);
    sh.run("lsattr app.conf\r", 1);
    sh.run("chattr -i app.conf\r", 1);
    sh.run("echo x >> app.conf\r", 1);
    sh.exit();
    let id = home.ids().remove(0);

    // The hit on the failure names the fix, how it was found, and where to replay it.
    let out = home.ok(&["search", "--json", "\"Operation not permitted\" app.conf"]);
    let hits: Vec<Value> = serde_json::from_str(&out).unwrap();
    let top = &hits[0];
    assert_eq!(top["exit"], 1, "{top:#}");
    assert_eq!(top["fix"]["found"], "retry", "{top:#}");
    assert_eq!(top["fix"]["commands"][0]["command"], "chattr -i app.conf");
    assert_eq!(top["fix"]["commands"][0]["seq"], 5);
    assert_eq!(top["fix"]["verification"]["seq"], 6);
    assert!(top["fix"]["after"].as_f64().unwrap() > 0.0);
    assert!(top["fix"]["commands"][0]["play"]
        .as_str()
        .unwrap()
        .starts_with("fixcast play "));

    let text = home.ok(&["search", "\"Operation not permitted\" app.conf"]);
    assert!(text.contains("fixed by: chattr -i app.conf"), "{text}");
    assert!(text.contains("later succeeded)"), "{text}");

    // A hit on the fix names the failure it fixed.
    let out = home.ok(&["search", "--json", "cmd:chattr exit:0 -- -i"]);
    let hits: Vec<Value> = serde_json::from_str(&out).unwrap();
    let fix = hits
        .iter()
        .find(|h| h["seq"] == 5)
        .expect("the fix is found");
    assert_eq!(fix["fixes"]["seq"], 2, "{fix:#}");
    assert!(fix["fixes"]["error"][0]
        .as_str()
        .unwrap()
        .contains("Operation not permitted"));

    // The command table marks each part; `--fix` tells the story.
    let table = home.ok(&["show", &id, "--commands"]);
    let row = |seq: &str| {
        table
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{seq} ")))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(row("2").contains("failed, fixed by #5"), "{table}");
    assert!(
        row("3").contains("ls -l") && !row("3").contains('['),
        "{table}"
    );
    assert!(row("5").contains("fix of #2"), "{table}");
    assert!(row("6").contains("verifies #2"), "{table}");
    let story = home.ok(&["show", &id, "--fix"]);
    for want in [
        "failed:    #2 $ touch app.conf; chattr +i app.conf; echo x >> app.conf",
        "Operation not permitted",
        "looked:    #3 $ ls -l app.conf",
        "looked:    #4 $ lsattr app.conf",
        "fixed by:  #5 $ chattr -i app.conf",
        "verified:  #6 $ echo x >> app.conf",
    ] {
        assert!(story.contains(want), "{want:?} in:\n{story}");
    }
    let records: Vec<Value> =
        serde_json::from_str(&home.ok(&["show", &id, "--fix", "--json"])).unwrap();
    assert_eq!(records[0]["fix"], serde_json::json!([5]));

    // `fixcast fix`, with the error as words or piped in as it was printed.
    let text = home.ok(&["fix", "Operation not permitted"]);
    assert!(text.contains("fixed by: $ chattr -i app.conf"), "{text}");
    let mut child = home
        .cmd(&["fix", "--json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        child.stdin.as_mut().unwrap(),
        b"deploy: writing config\nbash: /srv/app/app.conf: Operation not permitted\n",
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let fixes: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        fixes[0]["fix"]["commands"][0]["command"],
        "chattr -i app.conf"
    );
    let none = home.run(&["fix", "no such error anywhere"]);
    assert_eq!(none.status.code(), Some(1));

    // Words that do not all occur: the closest matches, said to be so.
    let out = home.run(&["search", "app.conf config will not save"]);
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no command has all words; closest matches:"),
        "{err}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("app.conf"));
}

#[test]
fn a_session_exports_as_a_markdown_runbook() {
    let home = Home::new();
    let out = home.ok(&[
        "import",
        &crate::util::fixture("immutable-fix.cast")
            .display()
            .to_string(),
    ]);
    assert!(out.contains("imported"), "{out}");
    let id = home.ids().remove(0);
    let md = home.ok(&["export", &id, "--format", "md"]);
    let md = md.replace(&id, "SESSION_ID").replace(&id[..10], "SESSION");
    let want = std::fs::read_to_string(crate::util::fixture("immutable-fix.md")).unwrap();
    assert_eq!(
        md, want,
        "the runbook changed; if on purpose, update tests/fixtures/immutable-fix.md"
    );
}

/// `[fixes] read_only` in the config file: `chattr` taken for a look makes `chattr -i` a
/// diagnostic rather than the fix, in the web's search, `show --fix` and the CLI's search
/// alike (the index notices the new list by itself, no `reindex`); an empty entry is an
/// error naming the file.
#[test]
fn the_config_files_read_only_list_changes_the_fix_everywhere() {
    let home = Home::new();
    let cast = crate::util::fixture("immutable-fix.cast");
    home.ok(&["import", &cast.display().to_string()]);
    let id = home.ids().remove(0);
    let fix_of = |home: &Home| -> (Value, Value) {
        let shown: Value =
            serde_json::from_str(&home.ok(&["show", &id, "--fix", "--json"])).unwrap();
        let hits: Value =
            serde_json::from_str(&home.ok(&["search", "--json", "\"Operation not permitted\""]))
                .unwrap();
        (shown[0].clone(), hits[0]["fix"].clone())
    };

    let (shown, hit) = fix_of(&home);
    assert_eq!(shown["diagnostics"], serde_json::json!([3, 4]), "{shown:#}");
    assert_eq!(shown["fix"], serde_json::json!([5]), "{shown:#}");
    assert_eq!(
        hit["commands"][0]["command"], "chattr -i app.conf",
        "{hit:#}"
    );

    let config = home.path().join("config.toml");
    std::fs::write(&config, "[fixes]\nread_only = [\"chattr\"]\n").unwrap();
    // The server first: its own catch-up re-indexes with the new list.
    {
        let server = crate::web::Server::start(home.path(), None);
        let got = crate::web::get_json(
            &server.url,
            "/api/search?q=%22Operation%20not%20permitted%22",
        );
        let fix = &got["hits"][0]["fix"];
        assert_eq!(fix["commands"], serde_json::json!([]), "{got:#}");
        assert_eq!(fix["verification"]["seq"], 6, "{got:#}");
    }
    let (shown, hit) = fix_of(&home);
    assert_eq!(
        shown["diagnostics"],
        serde_json::json!([3, 4, 5]),
        "{shown:#}"
    );
    assert_eq!(shown["fix"], serde_json::json!([]), "{shown:#}");
    assert_eq!(shown["verification"], 6, "{shown:#}");
    assert_eq!(hit["commands"], serde_json::json!([]), "{hit:#}");
    assert_eq!(hit["verification"]["seq"], 6, "{hit:#}");
    let text = home.ok(&["show", &id, "--fix"]);
    assert!(
        text.contains("looked:    #5 $ chattr -i app.conf"),
        "{text}"
    );

    std::fs::write(&config, "[fixes]\nread_only = [\"helm status\", \"\"]\n").unwrap();
    for args in [
        vec!["show", id.as_str(), "--fix"],
        vec!["search", "chattr"],
        vec!["export", id.as_str(), "--format", "md"],
    ] {
        let out = home.run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}: {err}");
        assert!(
            err.contains(&config.display().to_string()) && err.contains("entry 2 is empty"),
            "{args:?}: {err}"
        );
    }
}

/// `fixcast fix` shows the failure's error line, the one its search matched, even when the
/// failure printed lines before it (the snippet's fragment starts lines earlier).
#[test]
fn fix_shows_the_error_line_after_other_output() {
    let home = Home::new();
    let work = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let mut sh = Shell::start(&home);
    sh.run(&format!("cd {}\r", work.path().display()), 1);
    sh.run("seq 101 140; cat missing.conf\r", 1);
    sh.run("touch missing.conf\r", 1);
    sh.run("seq 101 140; cat missing.conf\r", 1);
    sh.exit();
    let text = home.ok(&["fix", "missing.conf: No such file or directory"]);
    assert!(text.contains("fixed by: $ touch missing.conf"), "{text}");
    let shown = text
        .lines()
        .find(|l| l.trim_start().starts_with('│'))
        .unwrap_or_default();
    assert!(
        shown.contains("missing.conf: No such file or directory"),
        "the error line, not the output before it: {text}"
    );
}

/// A nested shell fixcast's integration does not reach: its commands are cut by the
/// heuristic, with no exit status, so the failure is known only by its error line. It
/// still gets a fix record (the `mkdir`, verified by the retry), and search says so.
#[test]
fn a_failure_in_a_nested_bash_is_known_by_its_error_line() {
    nested_failure("bash --norc --noprofile", "No such file or directory");
}

/// The same in dash, whose error reads differently (`sh: 1: cannot create …: Directory
/// nonexistent`).
#[test]
fn a_failure_in_a_nested_dash_is_known_by_its_error_line() {
    if !crate::util::have("dash") {
        return;
    }
    nested_failure("dash", "Directory nonexistent");
}

/// In a recorded bash, `shell` started with no integration: a write into a folder that
/// is not there fails, `ls` looks, `mkdir` fixes it, the retry works, and `exit`.
fn nested_failure(shell: &str, error: &str) {
    use crate::commands::{PROMPT, WAIT};
    let home = Home::new();
    let work = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let mut sh = Shell::start(&home);
    sh.run(&format!("cd {}\r", work.path().display()), 1);
    const INNER: &str = "inner# ";
    sh.t.press(format!("PS1='{INNER}' {shell}\r").as_bytes());
    // In the echo of the line typed, in the integration's copy of it, and as the prompt.
    let mut inner = 3;
    assert!(
        sh.t.wait_for_count(INNER, inner, WAIT),
        "{}",
        sh.t.seen_text()
    );
    for line in [
        "echo x >> logs/app.log",
        "ls",
        "mkdir logs",
        "echo x >> logs/app.log",
    ] {
        sh.t.press(format!("{line}\r").as_bytes());
        inner += 1;
        assert!(
            sh.t.wait_for_count(INNER, inner, WAIT),
            "after {line:?}: {}",
            sh.t.seen_text()
        );
    }
    sh.t.press(b"exit\r");
    sh.prompts += 1;
    assert!(sh.t.wait_for_count(PROMPT, sh.prompts, WAIT));
    sh.exit();
    assert!(work.path().join("logs/app.log").is_file());
    let id = home.ids().remove(0);

    let cmds: Vec<Value> =
        serde_json::from_str(&home.ok(&["show", &id, "--commands", "--json"])).unwrap();
    let seq_of = |line: &str, nth: usize| -> u64 {
        let c = cmds
            .iter()
            .filter(|c| c["command"] == line)
            .nth(nth)
            .unwrap_or_else(|| panic!("no {line:?} #{nth} in {cmds:#?}"));
        assert_eq!(c["source"], "heuristic", "{c:#}");
        assert!(c["exit"].is_null(), "{c:#}");
        c["seq"].as_u64().unwrap()
    };
    let failure = seq_of("echo x >> logs/app.log", 0);
    let look = seq_of("ls", 0);
    let fix = seq_of("mkdir logs", 0);
    let retry = seq_of("echo x >> logs/app.log", 1);

    let records: Vec<Value> =
        serde_json::from_str(&home.ok(&["show", &id, "--fix", "--json"])).unwrap();
    assert_eq!(records.len(), 1, "only the write failed: {records:#?}");
    let record = &records[0];
    assert_eq!(record["symptom"], failure, "{record:#}");
    assert!(
        record["error"][0].as_str().unwrap().contains(error),
        "{record:#}"
    );
    assert_eq!(record["found"], "retry", "{record:#}");
    assert_eq!(
        record["diagnostics"],
        serde_json::json!([look]),
        "{record:#}"
    );
    assert_eq!(record["fix"], serde_json::json!([fix]), "{record:#}");
    assert_eq!(record["verification"], retry, "{record:#}");

    let text = home.ok(&["search", &format!("\"{error}\"")]);
    assert!(text.contains("fixed by: mkdir logs"), "{text}");
}

/// A running `fixcast serve` follows edits of the config file's `[fixes] read_only`
/// (looked at about once a second): the session page's roles change with no restart, a
/// bad edit keeps the list in force, and removing the file brings the built-in list back.
#[test]
fn a_running_server_follows_the_config_files_read_only_list() {
    let home = Home::new();
    let cast = crate::util::fixture("immutable-fix.cast");
    home.ok(&["import", &cast.display().to_string()]);
    let id = home.ids().remove(0);
    let server = crate::web::Server::start(home.path(), None);
    let page = format!("/s/{id}");
    let row = |page: &str, seq: u32| -> String {
        let at = page
            .find(&format!("id=\"cmd-{seq}\""))
            .unwrap_or_else(|| panic!("no row {seq} in {page}"));
        page[at..].split("</li>").next().unwrap().to_owned()
    };
    // The page once `ok` holds for it, tried for up to 10 s.
    let wait_for = |what: &str, ok: &dyn Fn(&str) -> bool| -> String {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let got = crate::web::get_text(&server.url, &page);
            if ok(&got) {
                return got;
            }
            assert!(std::time::Instant::now() < until, "{what}: {got}");
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    };
    let fix_of_2 = |p: &str| row(p, 5).contains("<span class=\"role\">fix of #2</span>");

    let got = wait_for("chattr -i is the fix", &fix_of_2);
    assert!(row(&got, 2).contains("failed, fixed by #5"), "{got}");

    let config = home.path().join("config.toml");
    std::fs::write(&config, "[fixes]\nread_only = [\"chattr\"]\n").unwrap();
    let got = wait_for("chattr taken for a look", &|p| !fix_of_2(p));
    assert!(row(&got, 2).contains("failed, worked on retry"), "{got}");
    assert!(row(&got, 6).contains("verifies #2"), "{got}");

    // A bad edit: the page is still served, with the list read before.
    std::fs::write(&config, "[fixes]\nread_only = [\"chattr\", \"\"]\n").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let got = crate::web::get_text(&server.url, &page);
    assert!(row(&got, 2).contains("failed, worked on retry"), "{got}");

    std::fs::remove_file(&config).unwrap();
    let got = wait_for("the built-in list again", &fix_of_2);
    assert!(row(&got, 2).contains("failed, fixed by #5"), "{got}");
}
