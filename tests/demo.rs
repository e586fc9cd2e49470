//! `fixcast demo`: the scenarios recorded for real into a temp home, the README's searches
//! answering with each scenario's fix, a re-run replacing only the demo's own sessions,
//! nothing left in the temp dir, and the immutable-file session opened in a browser from
//! a search hit (which writes the README's screenshot when FIXCAST_WRITE_SCREENSHOT=1).

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::{have, Home};
use crate::web::{browser, browser_ready, Server};

fn json(home: &Home, args: &[&str]) -> Value {
    let out = home.ok(args);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("fixcast {args:?}: {e}: {out}"))
}

/// The commands of a hit's fix (marked or inferred), as typed.
fn fix_commands(hit: &Value) -> Vec<String> {
    hit["fix"]["commands"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| c["command"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The top hit of a search: its command, and its title.
fn top(home: &Home, query: &str) -> Value {
    let hits = json(home, &["search", "--json", "-n", "3", query]);
    hits.as_array()
        .and_then(|a| a.first())
        .cloned()
        .unwrap_or_else(|| panic!("search {query:?}: no hits"))
}

/// The hit is the fix itself, or carries it as its "fixed by".
fn is_or_fixed_by(hit: &Value, fix: &str) -> bool {
    hit["command"] == fix || fix_commands(hit).iter().any(|c| c == fix)
}

fn loader() -> String {
    ["/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-aarch64.so.1"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("no known dynamic loader on this machine")
        .to_owned()
}

/// `chattr +i` (the immutable-file scenario's whole story) needs root.
fn root() -> bool {
    let out = std::process::Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

#[test]
fn the_demo_records_fixes_the_readme_finds() {
    if !have("bash") || !have("chattr") {
        return;
    }
    let forensics = have("fls") && have("mkfs.ext4");
    let home = Home::new();
    let tmp = tempfile::tempdir().unwrap();
    // A session of the user's in the same home, and one an earlier demo run recorded:
    // a re-run replaces the latter only.
    home.ok(&["rec", "-c", "echo mine-not-the-demos"]);
    let mine = home.ids();
    home.ok(&["rec", "-c", "echo from-an-earlier-demo"]);
    let earlier: Vec<String> = home
        .ids()
        .into_iter()
        .filter(|i| !mine.contains(i))
        .collect();
    std::fs::write(
        home.path().join("demo.json"),
        serde_json::json!({ "sessions": earlier }).to_string(),
    )
    .unwrap();

    let t = Instant::now();
    let out = home
        .cmd(&["--home", home.path().to_str().unwrap(), "demo"])
        .env("TMPDIR", tmp.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let took = t.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "fixcast demo failed: {stderr}");
    eprintln!("fixcast demo took {:.1} s:\n{stderr}", took.as_secs_f64());
    assert!(took < Duration::from_secs(240), "the demo took {took:?}");
    for name in [
        "immutable file",
        "lost executable bit",
        "look-alike character",
        "dns policy",
        "noisy log",
    ] {
        assert!(stderr.contains(&format!("✓ {name}  (")), "{name}: {stderr}");
    }
    if forensics {
        assert!(stderr.contains("✓ forensic timeline  ("), "{stderr}");
    } else {
        assert!(
            stderr.contains("skipped (fls not installed: apt-get install sleuthkit)"),
            "{stderr}"
        );
    }
    // Its sandbox is gone: nothing left in the temp dir.
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "left in TMPDIR: {left:?}");

    let ids = home.ids();
    assert!(ids.contains(&mine[0]), "the user's session was removed");
    assert!(
        !ids.contains(&earlier[0]),
        "the earlier demo's session is still there"
    );
    let recorded = if forensics { 6 } else { 5 };
    assert_eq!(ids.len(), 1 + recorded, "{ids:?}");
    let listed: Value =
        serde_json::from_str(&std::fs::read_to_string(home.path().join("demo.json")).unwrap())
            .unwrap();
    assert_eq!(listed["sessions"].as_array().unwrap().len(), recorded);

    // The README's searches.
    let hit = top(&home, "ld-linux.so");
    let fix = format!("{} ./chmod +x ./chmod", loader());
    assert!(is_or_fixed_by(&hit, &fix), "ld-linux.so: {hit:#}");
    let hit = top(&home, "lsattr");
    assert_eq!(hit["command"], "lsattr app.conf", "{hit:#}");
    assert!(
        hit["snippet"]["text"].as_str().unwrap().contains("i-"),
        "{hit:#}"
    );
    if root() {
        let hit = top(&home, "\"Operation not permitted\"");
        assert!(
            is_or_fixed_by(&hit, "chattr -i app.conf"),
            "Operation not permitted: {hit:#}"
        );
        assert_eq!(hit["fix"]["found"], "marked", "{hit:#}");
    }
    let fixes = json(&home, &["fix", "--json", "command not found"]);
    let first = &fixes[0];
    assert_eq!(
        first["symptom"]["command"], "kube\u{441}tl get pods",
        "{fixes:#}"
    );
    assert_eq!(
        first["fix"]["commands"][0]["command"], "kubectl get pods",
        "{fixes:#}"
    );
    let hit = top(&home, "suspicious:true");
    assert_eq!(hit["suspicious"], true, "{hit:#}");
    let hit = top(&home, "ndots");
    assert!(
        hit["title"].as_str().unwrap().contains("ndots:5"),
        "{hit:#}"
    );
    if forensics {
        let hit = top(&home, "\"payload.sh (deleted)\"");
        assert_eq!(
            hit["command"], "mactime -b body.txt -d | tail -n 6",
            "{hit:#}"
        );
    }
    // The noisy session: a full-screen command and a long output were cut as commands.
    let all = json(&home, &["search", "--json", "-n", "20", "tag:logs"]);
    let cmds: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["command"].as_str())
        .collect();
    assert!(cmds.contains(&"less logs/app.log"), "{cmds:?}");

    // In a browser: the immutable-file session from a search hit, lsattr's output on
    // screen; the README's screenshot when asked for.
    if !browser_ready() {
        return;
    }
    let server = Server::start(home.path(), None);
    let shot = match std::env::var_os("FIXCAST_WRITE_SCREENSHOT") {
        Some(_) => Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/demo.png"),
        None => tmp.path().join("demo.png"),
    };
    let v = browser(
        "demo",
        &server.url,
        &["lsattr", "----i---------e-------", shot.to_str().unwrap()],
    );
    assert!(v["hit"].as_str().unwrap().contains("lsattr"), "{v:#}");
    assert!(v["title"].as_str().unwrap().contains("immutable"), "{v:#}");
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG"), "no PNG at {}", shot.display());
}
