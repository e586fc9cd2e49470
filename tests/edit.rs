//! `fixcast edit`: title, tags, notes and the marked fix, changed from the command line
//! with the web's rules; a marked fix answers search and `show --fix` at once.

use std::process::Output;

use serde_json::Value;

use crate::util::{fixture, Home};

/// A home with the immutable-file session imported: #2 fails with "Operation not
/// permitted", #3 and #4 look (`ls -l`, `lsattr`), #5 fixes (`chattr -i`), #6 verifies,
/// #7 is `exit`.
fn imported() -> (Home, String) {
    let home = Home::new();
    home.ok(&[
        "import",
        &fixture("immutable-fix.cast").display().to_string(),
    ]);
    let id = home.ids().remove(0);
    (home, id)
}

fn meta(home: &Home, id: &str) -> Value {
    serde_json::from_str(&home.ok(&["show", id, "--json"])).unwrap()
}

fn meta_file(home: &Home, id: &str) -> Vec<u8> {
    std::fs::read(home.path().join("sessions").join(id).join("meta.json")).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The top hit on the failure, and its fix.
fn fix_of_failure(home: &Home) -> Value {
    let out = home.ok(&["search", "--json", "\"Operation not permitted\""]);
    let hits: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(hits[0]["seq"], 2, "{out}");
    hits[0]["fix"].clone()
}

#[test]
fn each_flag_changes_what_it_names() {
    let (home, id) = imported();
    let short = &id[..10];
    let out = home.ok(&[
        "edit",
        &id,
        "--title",
        "  config won't save ",
        "--tag",
        "+dns",
        "--tag",
        "chattr",
        "--note",
        "it was immutable",
    ]);
    assert_eq!(
        out.trim(),
        format!(
            "session {short}: title \"config won't save\", tags +dns +chattr, notes set (16 characters)"
        )
    );
    let m = meta(&home, &id);
    assert_eq!(m["title"], "config won't save");
    assert_eq!(m["tags"], serde_json::json!(["dns", "chattr"]));
    assert_eq!(m["notes"], "it was immutable");

    // `-TAG` removes, as its own word or after `=`; a tag there already is kept once.
    let out = home.ok(&[
        "edit",
        &short.to_lowercase(),
        "--tag",
        "-dns",
        "--tag=+chattr",
    ]);
    assert_eq!(out.trim(), format!("session {short}: tags -dns"));
    let out = home.ok(&["edit", &id, "--tag=-chattr", "--tag", "-never-there"]);
    assert_eq!(out.trim(), format!("session {short}: tags -chattr"));
    assert_eq!(meta(&home, &id)["tags"], serde_json::json!([]));

    // '' clears.
    let out = home.ok(&["edit", &id, "--title", "", "--note", ""]);
    assert_eq!(
        out.trim(),
        format!("session {short}: title cleared, notes cleared")
    );
    let m = meta(&home, &id);
    assert_eq!(m["title"], Value::Null);
    assert_eq!(m["notes"], Value::Null);
    let out = home.ok(&["edit", &id, "--note", ""]);
    assert_eq!(out.trim(), format!("session {short}: nothing changed"));

    // Found by the new title at once.
    home.ok(&["edit", &id, "--title", "immutable app.conf"]);
    let out = home.ok(&["search", "--json", "title:immutable"]);
    let hits: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert!(!hits.is_empty(), "{out}");
}

#[test]
fn a_marked_fix_wins_until_it_is_cleared() {
    let (home, id) = imported();
    let fix = fix_of_failure(&home);
    assert_eq!(fix["found"], "retry", "{fix:#}");
    assert_eq!(fix["commands"][0]["seq"], 5);

    let out = home.ok(&["edit", &id, "--fix", "4"]);
    assert_eq!(out.trim(), format!("session {}: fix #4", &id[..10]));
    assert_eq!(meta(&home, &id)["fix_seq"], 4);
    let fix = fix_of_failure(&home);
    assert_eq!(fix["found"], "marked", "{fix:#}");
    assert_eq!(fix["commands"][0]["seq"], 4);
    assert_eq!(fix["commands"][0]["command"], "lsattr app.conf");
    let story = home.ok(&["show", &id, "--fix"]);
    assert!(
        story.contains("fixed by:  #4 $ lsattr app.conf   (marked as the fix)"),
        "{story}"
    );

    let out = home.ok(&["edit", &id, "--no-fix"]);
    assert!(out.contains("fix mark cleared"), "{out}");
    assert_eq!(meta(&home, &id)["fix_seq"], Value::Null);
    let fix = fix_of_failure(&home);
    assert_eq!(fix["found"], "retry", "{fix:#}");
    assert_eq!(fix["commands"][0]["seq"], 5);
    let story = home.ok(&["show", &id, "--fix"]);
    assert!(
        story.contains("fixed by:  #5 $ chattr -i app.conf"),
        "{story}"
    );
}

#[test]
fn a_refused_edit_changes_nothing() {
    let (home, id) = imported();
    let short = &id[..10];
    home.ok(&["edit", &id, "--title", "kept", "--tag", "kept"]);
    let before = meta_file(&home, &id);
    let refused = |args: &[&str], code: i32| {
        let out = home.run(args);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {out:?}");
        assert!(out.stdout.is_empty(), "{args:?}: {out:?}");
        stderr(&out)
    };

    let err = refused(&["edit", &id, "--fix", "9", "--title", "lost"], 1);
    assert_eq!(
        err.trim(),
        format!("fixcast: session {short}: no command 9 (it has 7; see fixcast show {short} --commands)")
    );
    let err = refused(&["edit", "01M8ZZZZZZ", "--title", "x"], 1);
    assert!(err.contains("session 01M8ZZZZZZ: not found"), "{err}");
    let err = refused(&["edit", "../x", "--title", "x"], 1);
    assert!(err.contains("is not a session id"), "{err}");
    let err = refused(&["edit", &id, "--tag", "two words"], 1);
    assert!(err.contains("a tag is one word"), "{err}");
    let err = refused(&["edit", &id, "--tag", "+"], 1);
    assert!(err.contains("a tag cannot be empty"), "{err}");
    let long = "t".repeat(301);
    let err = refused(&["edit", &id, "--title", &long], 1);
    assert!(err.contains("title: at most 300 characters"), "{err}");

    // Usage errors.
    let err = refused(&["edit", &id], 2);
    assert!(err.contains("--title"), "{err}");
    refused(&["edit", &id, "--fix", "4", "--no-fix"], 2);
    refused(&["edit", &id, "--fix", "four"], 2);
    refused(&["edit", "--title", "x"], 2);

    assert!(before == meta_file(&home, &id), "meta.json untouched");
}

#[test]
fn a_session_being_recorded_is_not_edited() {
    let (home, id) = imported();
    let dir = home.path().join("sessions").join(&id);
    let meta_path = dir.join("meta.json");
    let mut m: Value = serde_json::from_slice(&meta_file(&home, &id)).unwrap();
    m["status"] = "recording".into();
    std::fs::write(&meta_path, m.to_string()).unwrap();
    // A recorder holds this lock for as long as it writes.
    let cast = std::fs::File::open(dir.join("session.cast.zst")).unwrap();
    cast.lock().unwrap();
    let before = meta_file(&home, &id);

    for args in [
        vec!["--title", "mine"],
        vec!["--fix", "4"],
        vec!["--tag", "-x"],
    ] {
        let out = home.run(&[&["edit", id.as_str()][..], &args].concat());
        assert_eq!(out.status.code(), Some(1), "{args:?}: {out:?}");
        assert_eq!(
            stderr(&out).trim(),
            format!(
                "fixcast: session {}: being recorded; edit it when it ends",
                &id[..10]
            )
        );
    }
    assert!(before == meta_file(&home, &id), "meta.json untouched");

    // Once the recorder is gone, the session is repaired and can be edited.
    drop(cast);
    let out = home.ok(&["edit", &id, "--title", "mine"]);
    assert!(out.contains("title \"mine\""), "{out}");
}
