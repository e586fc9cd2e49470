//! Recordings that survive: damaged tails, recorders killed at once, decompression bombs,
//! out-of-range headers. Every event before damage is kept, and `ls`, `show --commands`
//! and `export` keep working. (The damage suite over every boundary is a unit test of
//! the store: `sessions/src/cast_file/damage_tests.rs`.)

use std::io::Write;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::import_export::{import, write_v3};
use crate::util::Home;

/// `rec -c CMD` in the background, killed with SIGKILL (no chance to clean up) once
/// `ready` says so.
fn killed_recording(home: &Home, cmd: &str, ready: impl Fn(&Home) -> bool) -> String {
    let mut child: Child = home
        .cmd(&["rec", "-c", cmd])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !ready(home) {
        assert!(start.elapsed() < Duration::from_secs(30), "never ready");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let dir = home.path().join("sessions");
    let id = std::fs::read_dir(dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .file_name();
    id.into_string().unwrap()
}

fn has_meta(home: &Home) -> bool {
    std::fs::read_dir(home.path().join("sessions"))
        .map(|mut d| d.any(|e| e.is_ok_and(|e| e.path().join("meta.json").exists())))
        .unwrap_or(false)
}

/// `show --commands`, `export` (v3, raw, txt) and `ls` all work; the raw output.
fn everything_works(home: &Home, id: &str) -> String {
    home.ok(&["ls"]);
    home.ok(&["show", id, "--commands"]);
    home.ok(&["export", id]);
    home.ok(&["export", id, "-f", "txt"]);
    home.ok(&["export", id, "-f", "raw"])
}

fn garbage(n: usize) -> Vec<u8> {
    let mut x = 0x9e37_79b9_u64;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn append(path: &Path, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(bytes).unwrap();
}

#[test]
fn garbage_after_an_interrupted_recording_loses_nothing() {
    let home = Home::new();
    let cmd = "for i in $(seq 1 50); do echo line$i; done; sleep 30";
    // Killed once line50 is flushed (`zstd -dc` shows it).
    let id = killed_recording(&home, cmd, |h| {
        h.ids_quiet()
            .first()
            .is_some_and(|id| String::from_utf8_lossy(&h.zstd_dc(id).stdout).contains("line50"))
    });
    let before = everything_works(&home, &id);
    append(&home.cast_path(&id), &garbage(100));
    let after = everything_works(&home, &id);
    assert_eq!(after, before, "garbage after the end lost events");
    assert!(after.contains("line50"));
    let show = home.run(&["show", &id]);
    assert!(String::from_utf8_lossy(&show.stderr).contains("recording is damaged"));
}

#[test]
fn damage_anywhere_keeps_what_comes_before_it() {
    let home = Home::new();
    let dir = tempfile::tempdir().unwrap();
    // Enough text for several zstd blocks (each holds up to 128 KiB).
    let events: Vec<(f64, &str, String)> = (0..20_000)
        .map(|i| {
            (
                0.01,
                "o",
                format!("line {i} {:x}\r\n", i * 2_654_435_761u64),
            )
        })
        .collect();
    let file = dir.path().join("long.cast");
    write_v3(&file, 80, 24, &events);
    let id = import(&home, &file);
    let whole = everything_works(&home, &id);
    let cast = home.cast_path(&id);
    let raw = std::fs::read(&cast).unwrap();
    let marks = fixcast_sessions::frame_marks(&raw);
    let header_end = marks[1].offset as usize;
    // What each place of damage must keep (the unit tests check every boundary exactly).
    enum Keep {
        All,
        Prefix,
        AThird,
    }
    for (at, len, overwrite, keep) in [
        // The header's frame: the events' frame after it is read whole.
        (10, 30, true, Keep::All),
        // Inside the seek mark before the events' frame.
        (header_end + 12, 20, true, Keep::All),
        (raw.len() / 2, 40, true, Keep::AThird),
        (raw.len() / 2, 100, false, Keep::Prefix),
        (raw.len() - 5, 100, false, Keep::Prefix),
    ] {
        let mut bytes = raw[..at].to_vec();
        bytes.extend(garbage(len));
        if overwrite {
            bytes.extend_from_slice(&raw[at + len..]);
        }
        std::fs::write(&cast, &bytes).unwrap();
        let got = everything_works(&home, &id);
        let what = format!("{len} bytes of garbage at byte {at} of {}", raw.len());
        match keep {
            Keep::All => assert!(got == whole, "{what}: events lost"),
            Keep::Prefix => assert!(whole.starts_with(&got), "{what}: not a prefix"),
            Keep::AThird => {}
        }
        if at > header_end {
            assert!(got.len() > whole.len() / 3, "{what}: too little read");
        }
    }
    std::fs::write(&cast, &raw).unwrap();
}

#[test]
fn a_recorder_killed_at_once_leaves_a_readable_session() {
    let home = Home::new();
    // Killed as soon as the session exists: before its first flush.
    let id = killed_recording(&home, "sleep 30", has_meta);
    let cast = home.cast_path(&id);
    assert!(
        std::fs::metadata(&cast).unwrap().len() > 0,
        "the header is on disk before recording starts"
    );
    let raw = everything_works(&home, &id);
    assert_eq!(raw, "");
    let v3 = home.ok(&["export", &id]);
    assert!(v3.starts_with('{') && v3.contains("\"version\":3"), "{v3}");
    // An empty file (as older versions left) is a session with no events too.
    std::fs::write(&cast, b"").unwrap();
    assert_eq!(everything_works(&home, &id), "");
    let json: serde_json::Value =
        serde_json::from_str(&home.ok(&["show", &id, "--commands", "--json"])).unwrap();
    assert!(json.is_array(), "{json}");
}

#[test]
fn a_killed_session_lasts_until_its_recorder_died() {
    let home = Home::new();
    let start = Instant::now();
    let id = killed_recording(&home, "echo hi; sleep 30", |_| {
        start.elapsed() > Duration::from_millis(3_000)
    });
    let ls: serde_json::Value = serde_json::from_str(&home.ok(&["ls", "--json"])).unwrap();
    assert_eq!(ls[0]["id"], id.as_str());
    assert_eq!(ls[0]["status"], "interrupted");
    let duration = ls[0]["duration"].as_f64().unwrap();
    assert!(
        duration >= 1.5,
        "killed after 3 s, its last output at 0 s: duration {duration}"
    );
}

/// A zstd file of `size` bytes of cast text (a header, then the same line again and again).
fn bomb(dir: &Path, size: usize) -> std::path::PathBuf {
    let path = dir.join("bomb.cast.zst");
    let f = std::fs::File::create(&path).unwrap();
    let mut enc = zstd::stream::write::Encoder::new(f, 19).unwrap();
    enc.write_all(b"{\"version\":3,\"term\":{\"cols\":80,\"rows\":24}}\n")
        .unwrap();
    let line = format!("[0.000001, \"o\", \"{}\\r\\n\"]\n", "A".repeat(1000));
    let chunk = line.repeat(1000);
    let mut written = 0;
    while written < size {
        enc.write_all(chunk.as_bytes()).unwrap();
        written += chunk.len();
    }
    enc.finish().unwrap();
    path
}

fn nothing_left(home: &Home) {
    let left: Vec<String> = std::fs::read_dir(home.path().join("sessions"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, Vec::<String>::new(), "left behind");
}

#[test]
fn a_decompression_bomb_is_refused_and_the_cap_can_be_raised() {
    let home = Home::new();
    let dir = tempfile::tempdir().unwrap();
    let big = bomb(dir.path(), 300 << 20);
    assert!(std::fs::metadata(&big).unwrap().len() < 1 << 20);
    let out = home.run(&["import", big.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("larger than 256.0 MiB once decompressed") && stderr.contains("--max-size"),
        "{stderr}"
    );
    nothing_left(&home);

    let small = bomb(dir.path(), 3 << 20);
    let path = small.to_str().unwrap();
    let out = home.run(&["import", "--max-size", "2M", path]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("larger than 2.0 MiB"));
    nothing_left(&home);
    home.ok(&["import", "--max-size", "4M", path]);
    let bad = home.run(&["import", "--max-size", "lots", path]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn out_of_range_values_are_clear_errors_and_leave_nothing() {
    let home = Home::new();
    let dir = tempfile::tempdir().unwrap();
    // A folder left by an import that was killed.
    let stale = home
        .path()
        .join("sessions")
        .join(".import-01M8RD79W68SC94JNHEFTER7N5");
    std::fs::create_dir_all(&stale).unwrap();
    let event = r#"[0.5, "o", "hi"]"#;
    for (name, text, want) in [
        (
            "negative-timestamp",
            format!("{{\"version\": 3, \"term\": {{\"cols\": 80, \"rows\": 24}}, \"timestamp\": -5}}\n{event}\n"),
            "timestamp -5 is out of range",
        ),
        (
            "far-future",
            "{\"version\": 2, \"width\": 80, \"height\": 24, \"timestamp\": 99999999999999}\n[0.5, \"o\", \"hi\"]\n".to_owned(),
            "timestamp 99999999999999 is out of range",
        ),
        (
            "huge-terminal",
            format!("{{\"version\": 3, \"term\": {{\"cols\": 60000, \"rows\": 24}}}}\n{event}\n"),
            "terminal size 60000x24 is out of range",
        ),
        (
            "idle-limit",
            format!("{{\"version\": 3, \"term\": {{\"cols\": 80, \"rows\": 24}}, \"idle_time_limit\": -1}}\n{event}\n"),
            "idle_time_limit -1 is out of range",
        ),
        (
            "huge-time",
            "{\"version\": 2, \"width\": 80, \"height\": 24}\n[1e300, \"o\", \"hi\"]\n".to_owned(),
            "line 2: time 1e300 is out of range",
        ),
        (
            "huge-resize",
            "{\"version\": 3, \"term\": {\"cols\": 80, \"rows\": 24}}\n[0.5, \"r\", \"50000x50000\"]\n".to_owned(),
            "line 2: resize to 50000x50000 is out of range",
        ),
    ] {
        let file = dir.path().join(format!("{name}.cast"));
        std::fs::write(&file, text).unwrap();
        let out = home.run(&["import", file.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
        assert!(stderr.contains(want), "{name}: {stderr}");
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        nothing_left(&home);
    }
    // Many intervals, each in range, adding up to more than any recording lasts.
    let file = dir.path().join("sum.cast");
    let mut text = "{\"version\": 3, \"term\": {\"cols\": 80, \"rows\": 24}}\n".to_owned();
    for _ in 0..30 {
        text.push_str("[999999999999, \"o\", \"x\"]\n");
    }
    std::fs::write(&file, text).unwrap();
    let out = home.run(&["import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("out of range"));
    nothing_left(&home);
}
