//! `fixcast compact`: finished recordings rewritten once, strongly compressed, with the
//! same events; in the background after `rec` and `import`; never a live session, and a
//! compaction killed at any moment leaves a readable recording.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::import_export::import;
use crate::util::{fixture, Home};

const TRAILER_TAG: &[u8] = b"fixcast-compacted:";

fn compacted(home: &Home, id: &str) -> bool {
    let raw = std::fs::read(home.cast_path(id)).unwrap();
    raw.len() > 200
        && raw[raw.len() - 200..]
            .windows(TRAILER_TAG.len())
            .any(|w| w == TRAILER_TAG)
}

fn export(home: &Home, id: &str) -> String {
    home.ok(&["export", id, "--format", "cast-v3"])
}

/// An asciicast v2 file of `lines` lines of varied, repetitive output (a few MB).
fn long_cast(dir: &Path, lines: usize) -> PathBuf {
    let path = dir.join("long.cast");
    let mut s = String::from("{\"version\": 2, \"width\": 120, \"height\": 40}\n");
    for i in 0..lines {
        let t = i as f64 * 0.001;
        s.push_str(&format!(
            "[{t:.6}, \"o\", \"root  {:5} 0.{} {:6} pts/{} S+ 12:{:02} /usr/sbin/daemon-{} --flag={}\\r\\n\"]\n",
            i % 9973,
            i % 10,
            (i * 7919) % 100_000,
            i % 7,
            i % 60,
            i % 37,
            (i * 31) % 1009
        ));
    }
    std::fs::write(&path, s).unwrap();
    path
}

#[test]
fn compact_keeps_every_event_and_runs_once() {
    let home = Home::new();
    let ids: Vec<String> = ["v2.cast", "v3.cast"]
        .iter()
        .map(|f| import(&home, &fixture(f)))
        .collect();
    let long = import(&home, &long_cast(home.path(), 40_000));
    let all: Vec<String> = ids.iter().chain([&long]).cloned().collect();
    let before: Vec<String> = all.iter().map(|id| export(&home, id)).collect();
    let size = std::fs::metadata(home.cast_path(&long)).unwrap().len();

    let out = home.ok(&["compact", "--all"]);
    assert!(out.contains("[1/3] session "), "{out}");
    assert!(out.contains(&format!("session {}: ", &long[..10])), "{out}");
    assert!(compacted(&home, &long));
    assert!(std::fs::metadata(home.cast_path(&long)).unwrap().len() < size);
    let after: Vec<String> = all.iter().map(|id| export(&home, id)).collect();
    assert_eq!(before, after, "the same events after compaction");
    // `zstd -dc` still reads it.
    let dc = home.zstd_dc(&long);
    assert!(dc.status.success());
    assert_eq!(String::from_utf8_lossy(&dc.stdout).lines().count(), 40_001);

    assert_eq!(home.ok(&["compact", "--all"]).trim(), "nothing to compact");
    let again = home.ok(&["compact", &long]);
    assert!(again.contains("compacted already"), "{again}");
    // Its metadata tells the new size.
    let ls: serde_json::Value = serde_json::from_str(&home.ok(&["ls", "--json"])).unwrap();
    let entry = ls
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == long.as_str())
        .unwrap();
    let now = std::fs::metadata(home.cast_path(&long)).unwrap().len();
    assert_eq!(entry["bytes"]["stored"], now);
}

#[test]
fn a_live_session_and_bad_ids_are_refused() {
    let home = Home::new();
    let id = import(&home, &fixture("v3.cast"));
    let dir = home.path().join("sessions").join(&id);
    let meta_path = dir.join("meta.json");
    let mut meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&meta_path).unwrap()).unwrap();
    meta["status"] = "recording".into();
    std::fs::write(&meta_path, meta.to_string()).unwrap();
    // A recorder holds this lock for as long as it writes.
    let cast = std::fs::File::open(home.cast_path(&id)).unwrap();
    cast.lock().unwrap();
    let raw = std::fs::read(home.cast_path(&id)).unwrap();

    let out = home.run(&["compact", &id]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("being recorded"), "{err}");
    assert_eq!(std::fs::read(home.cast_path(&id)).unwrap(), raw);
    // --all passes it over.
    let out = home.ok(&["compact", "--all"]);
    assert!(out.contains("nothing to compact"), "{out}");
    drop(cast);

    let out = home.run(&["compact", "01ZZZZZZZZZZZZZZZZZZZZZZZZ"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not found"), "{err}");
    let out = home.run(&["compact"]);
    assert_eq!(out.status.code(), Some(2), "an id or --all is needed");
}

#[test]
fn a_compaction_killed_midway_leaves_a_readable_recording() {
    let home = Home::new();
    let id = import(&home, &fixture("v2.cast"));
    let long = import(&home, &long_cast(home.path(), 120_000));
    let before = export(&home, &long);
    let raw = std::fs::read(home.cast_path(&long)).unwrap();
    let mut child = home.cmd(&["compact", &long]).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    // Killed before its rename (the old file) or after (the new one): whole either way.
    let now = std::fs::read(home.cast_path(&long)).unwrap();
    assert!(now == raw || compacted(&home, &long));
    assert_eq!(export(&home, &long), before);
    assert_eq!(home.ids().len(), 2);
    let _ = id;
    // The next compaction takes the leftover away.
    home.ok(&["compact", &long]);
    assert!(compacted(&home, &long));
    assert_eq!(export(&home, &long), before);
    let names: Vec<String> = std::fs::read_dir(home.path().join("sessions").join(&long))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert_eq!(names, Vec::<String>::new());
}

#[test]
fn rec_compacts_its_session_in_the_background() {
    let home = Home::new();
    let out = home
        .cmd(&["rec", "-c", "seq 1 30000"])
        .env_remove("FIXCAST_NO_COMPACT")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = home.ids().pop().unwrap();
    let until = Instant::now() + Duration::from_secs(60);
    while !compacted(&home, &id) {
        assert!(Instant::now() < until, "not compacted within a minute");
        std::thread::sleep(Duration::from_millis(100));
    }
    let text = export(&home, &id);
    assert!(text.contains("29999\\r\\n30000"), "every line is there");
}
