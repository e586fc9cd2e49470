//! `fixcast import` and `fixcast export`: every asciicast version in, v3/v2/raw/txt out,
//! compressed files, malformed files, damaged recordings.

use std::io::Write;
use std::path::{Path, PathBuf};

use fixcast_sessions::asciicast::{self, Recording};
use fixcast_sessions::{Event, EventKind};

use crate::util::{fixture, have, Home};

/// Imports one file, returns its new session's id.
pub fn import(home: &Home, file: &Path) -> String {
    let out = home.ok(&["import", file.to_str().unwrap()]);
    let id = out
        .trim()
        .rsplit(" as ")
        .next()
        .unwrap_or_else(|| panic!("no id in {out:?}"));
    assert_eq!(id.len(), 26, "{out:?}");
    id.to_owned()
}

pub fn parse(text: &[u8]) -> Recording {
    asciicast::parse(std::str::from_utf8(text).unwrap())
        .unwrap()
        .1
}

fn parse_file(path: &Path) -> Recording {
    parse(&std::fs::read(path).unwrap())
}

/// Same events: kinds equal, times within a microsecond.
fn assert_same_events(got: &[Event], want: &[Event], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: event count");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g.kind, w.kind, "{what}: event {i}");
        assert!(
            g.time.abs_diff(w.time) <= 1,
            "{what}: event {i} at {} not {}",
            g.time,
            w.time
        );
    }
}

/// A v3 file with these `[interval, code, data]` events.
pub fn write_v3(path: &Path, cols: u16, rows: u16, events: &[(f64, &str, String)]) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(
        f,
        r#"{{"version": 3, "term": {{"cols": {cols}, "rows": {rows}}}}}"#
    )
    .unwrap();
    for (t, code, data) in events {
        writeln!(
            f,
            "[{t:.6}, {:?}, {}]",
            code,
            serde_json::Value::from(data.as_str())
        )
        .unwrap();
    }
    f.flush().unwrap();
}

fn compress(path: &Path, kind: &str, dest: &Path) {
    let plain = std::fs::read(path).unwrap();
    let bytes = match kind {
        "zst" => zstd::encode_all(plain.as_slice(), 3).unwrap(),
        "gz" => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(&plain).unwrap();
            e.finish().unwrap()
        }
        _ => unreachable!(),
    };
    std::fs::write(dest, bytes).unwrap();
}

fn session_dirs(home: &Home) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(home.path().join("sessions"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn each_version_round_trips_through_v3_and_v2() {
    let home = Home::new();
    for name in ["v1.json", "v2.cast", "v3.cast"] {
        let original = parse_file(&fixture(name));
        let id = import(&home, &fixture(name));

        let v3 = parse(home.ok(&["export", &id, "--format", "cast-v3"]).as_bytes());
        assert_same_events(&v3.events, &original.events, &format!("{name} as v3"));
        assert_eq!(
            (v3.header.cols, v3.header.rows),
            (original.header.cols, original.header.rows)
        );
        assert_eq!(v3.header.title, original.header.title);
        assert_eq!(v3.header.tags, original.header.tags);
        assert_eq!(v3.header.timestamp, original.header.timestamp);

        let v2 = parse(home.ok(&["export", &id, "--format", "cast-v2"]).as_bytes());
        let no_exit: Vec<Event> = original
            .events
            .iter()
            .filter(|e| !matches!(e.kind, EventKind::Exit(_)))
            .cloned()
            .collect();
        assert_same_events(&v2.events, &no_exit, &format!("{name} as v2"));
    }
    // The fixtures hold what the round trips must keep.
    let v3 = parse_file(&fixture("v3.cast"));
    for code in ["o", "m", "r", "x"] {
        assert!(
            v3.events.iter().any(|e| e.kind.code() == code),
            "v3 fixture lacks {code}"
        );
    }
    let v2 = parse_file(&fixture("v2.cast"));
    for code in ["o", "i", "m", "r"] {
        assert!(
            v2.events.iter().any(|e| e.kind.code() == code),
            "v2 fixture lacks {code}"
        );
    }
}

#[test]
fn imported_metadata_comes_from_the_header() {
    let home = Home::new();
    let id = import(&home, &fixture("v3.cast"));
    let meta: serde_json::Value = serde_json::from_str(&home.ok(&["show", &id, "--json"])).unwrap();
    assert_eq!(meta["id"], id.as_str());
    assert_eq!(meta["title"], "v3 fixture");
    assert_eq!(meta["tags"], serde_json::json!(["disk", "prod"]));
    let source = std::fs::canonicalize(fixture("v3.cast")).unwrap();
    assert_eq!(meta["imported_from"], source.to_str().unwrap());
    assert_eq!(meta["started"], "2025-11-26T10:14:00Z");
    assert_eq!(meta["status"], "complete");
    assert_eq!(meta["exit_status"], 3);
    assert_eq!(meta["term"]["cols"], 80);
    assert_eq!(meta["command"], "bash -l");

    // No title in the header: the file's name without its extensions.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("untitled-debug.cast");
    write_v3(&file, 80, 24, &[(0.5, "o", "hi\r\n".into())]);
    let id = import(&home, &file);
    let meta: serde_json::Value = serde_json::from_str(&home.ok(&["show", &id, "--json"])).unwrap();
    assert_eq!(meta["title"], "untitled-debug");
}

#[test]
fn compressed_files_are_told_by_their_bytes() {
    let home = Home::new();
    let dir = tempfile::tempdir().unwrap();
    let plain = fixture("v3.cast");
    let want = parse_file(&plain);
    let zst = dir.path().join("v3.cast.zst");
    let gz = dir.path().join("v3.cast.gz");
    // Misnamed: gzip and zstd content behind plain names.
    let gz_misnamed = dir.path().join("gzip-inside.cast");
    let zst_misnamed = dir.path().join("zstd-inside.json");
    compress(&plain, "zst", &zst);
    compress(&plain, "gz", &gz);
    compress(&fixture("v2.cast"), "gz", &gz_misnamed);
    compress(&fixture("v1.json"), "zst", &zst_misnamed);
    for file in [&zst, &gz] {
        let id = import(&home, file);
        let got = parse(home.ok(&["export", &id]).as_bytes());
        assert_same_events(&got.events, &want.events, &file.display().to_string());
    }
    for (file, original) in [(&gz_misnamed, "v2.cast"), (&zst_misnamed, "v1.json")] {
        let id = import(&home, file);
        let got = parse(home.ok(&["export", &id]).as_bytes());
        assert_same_events(
            &got.events,
            &parse_file(&fixture(original)).events,
            original,
        );
    }
}

#[test]
fn the_stored_file_is_the_v3_export_for_any_zstd_decoder() {
    if !have("zstd") {
        return;
    }
    let home = Home::new();
    for name in ["v1.json", "v2.cast", "v3.cast"] {
        let id = import(&home, &fixture(name));
        let out = home.zstd_dc(&id);
        assert!(out.status.success(), "zstd -dc failed on {name}");
        let export = home.ok(&["export", &id, "--format", "cast-v3"]);
        assert_eq!(String::from_utf8(out.stdout).unwrap(), export, "{name}");
    }
}

#[test]
fn txt_export_keeps_every_line_in_order() {
    let home = Home::new();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("long.cast");
    let lines: Vec<String> = (0..12_000)
        .map(|i| format!("line {i:05} of the build log"))
        .collect();
    // Several lines per event, some coloured, chunks not aligned to lines.
    let mut stream = String::new();
    for (i, l) in lines.iter().enumerate() {
        if i % 3 == 0 {
            stream.push_str(&format!("\x1b[3{}m{l}\x1b[0m\r\n", i % 8));
        } else {
            stream.push_str(l);
            stream.push_str("\r\n");
        }
    }
    stream.push_str("$ ");
    let events: Vec<(f64, &str, String)> = stream
        .as_bytes()
        .chunks(4093)
        .map(|c| (0.001, "o", String::from_utf8_lossy(c).into_owned()))
        .collect();
    assert!(events.iter().all(|(_, _, d)| !d.contains('\u{fffd}')));
    write_v3(&file, 80, 24, &events);
    let id = import(&home, &file);

    let txt = home.ok(&["export", &id, "--format", "txt"]);
    assert!(!txt.contains('\x1b'), "escape codes in the text");
    let mut want = lines.join("\n");
    want.push_str("\n$\n");
    assert_eq!(txt.len(), want.len());
    assert!(txt == want, "lines lost or out of order");

    // -o writes the same, whole, with no temp file left beside it.
    let out = dir.path().join("long.txt");
    home.ok(&["export", &id, "-f", "txt", "-o", out.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), txt);
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["long.cast", "long.txt"]);
}

#[test]
fn txt_and_raw_exports_of_a_fixture() {
    let home = Home::new();
    let id = import(&home, &fixture("v3.cast"));
    let txt = home.ok(&["export", &id, "--format", "txt"]);
    assert_eq!(txt, "$ df -h /var\nFilesystem full: é 中文 🎉\n$ exit\n");
    let raw = home.run(&["export", &id, "--format", "raw"]).stdout;
    let want: String = parse_file(&fixture("v3.cast"))
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Output(s) => Some(s.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(String::from_utf8(raw).unwrap(), want);
    assert!(want.contains("\x1b[31m"));
}

#[test]
fn export_to_a_missing_folder_fails_cleanly() {
    let home = Home::new();
    let id = import(&home, &fixture("v2.cast"));
    let out = home.run(&["export", &id, "-o", "/nonexistent-dir/x.cast"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent-dir/x.cast"));
}

#[test]
fn malformed_files_are_refused_and_the_others_imported() {
    let home = Home::new();
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.cast");
    std::fs::write(&empty, b"").unwrap();
    let binary = dir.path().join("junk.bin");
    let junk: Vec<u8> = (0u32..4096)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&binary, &junk).unwrap();
    let cut_zst = dir.path().join("cut.cast.zst");
    compress(&fixture("v3.cast"), "zst", &cut_zst);
    let bytes = std::fs::read(&cut_zst).unwrap();
    std::fs::write(&cut_zst, &bytes[..bytes.len() / 2]).unwrap();
    let bad_gz = dir.path().join("bad.cast.gz");
    std::fs::write(&bad_gz, b"\x1f\x8b\x08\x00garbage").unwrap();

    let files: Vec<PathBuf> = vec![
        fixture("v2.cast"),
        fixture("truncated-header.cast"),
        fixture("bad-line.cast"),
        fixture("bad-line-v3.cast"),
        fixture("junk.txt"),
        empty,
        binary,
        cut_zst,
        bad_gz,
        fixture("v3.cast"),
    ];
    let mut args = vec!["import"];
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    let out = home.run(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    for want in [
        "truncated-header.cast: line 1: ",
        "bad-line.cast: line 3: ",
        "bad-line-v3.cast: line 4: ",
        "junk.txt: line 1: ",
        "empty.cast: line 1: empty file",
        "junk.bin: line ",
        "cut.cast.zst: not a valid zstd file",
        "bad.cast.gz: not a valid gzip file",
    ] {
        assert!(stderr.contains(want), "missing {want:?} in:\n{stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert!(stdout.contains("v2.cast as ") && stdout.contains("v3.cast as "));
    // Nothing half-imported: exactly the two good sessions, no staging folders.
    let dirs = session_dirs(&home);
    assert_eq!(dirs.len(), 2, "{dirs:?}");
    assert!(dirs.iter().all(|d| !d.starts_with('.')), "{dirs:?}");
    assert_eq!(home.ids().len(), 2);

    // A single bad file: exit 1 too, and still nothing left behind.
    let out = home.run(&["import", fixture("bad-line.cast").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(session_dirs(&home).len(), 2);
}

/// A recording big enough that the stored file has many zstd blocks, so half of it
/// still holds a readable beginning. Its header says `rows`: the same events in another
/// file make another session (the same file would be told as imported already).
fn big_session(home: &Home, dir: &Path, rows: u16) -> (String, Recording) {
    let file = dir.join(format!("big-{rows}.cast"));
    let events: Vec<(f64, &str, String)> = (0..4000)
        .map(|i| {
            let noise: String = (0..12)
                .map(|k| format!("{:08x}", (i * 7919 + k) * 2_654_435_761u64 % 4_294_967_291))
                .collect();
            (0.01, "o", format!("{i} {noise}\r\n"))
        })
        .collect();
    write_v3(&file, 80, rows, &events);
    (import(home, &file), parse_file(&file))
}

#[test]
fn damaged_recordings_still_show_and_export_with_a_warning() {
    let home = Home::new();
    let dir = tempfile::tempdir().unwrap();
    let (cut_id, original) = big_session(&home, dir.path(), 24);
    let (junk_id, _) = big_session(&home, dir.path(), 25);
    let cast = |id: &str| home.cast_path(id);

    let bytes = std::fs::read(cast(&cut_id)).unwrap();
    std::fs::write(cast(&cut_id), &bytes[..bytes.len() / 2]).unwrap();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(cast(&junk_id))
        .unwrap();
    f.write_all(b"\x00\x01garbage after the end\n").unwrap();

    for id in [&cut_id, &junk_id] {
        let show = home.run(&["show", id]);
        assert!(show.status.success());
        let stderr = String::from_utf8_lossy(&show.stderr);
        assert!(
            stderr.contains(&format!("session {id}: recording is damaged")),
            "{stderr}"
        );

        let export = home.run(&["export", id]);
        assert!(export.status.success());
        assert!(String::from_utf8_lossy(&export.stderr).contains("damaged"));
        let got = parse(&export.stdout);
        if *id == junk_id {
            assert_same_events(&got.events, &original.events, "garbage appended");
        } else {
            let n = got.events.len();
            assert!(
                n > 0 && n < original.events.len(),
                "{n} events after the cut"
            );
            assert_same_events(&got.events, &original.events[..n], "cut in half");
        }
        let txt = home.run(&["export", id, "-f", "txt"]);
        assert!(txt.status.success());
        let play = home.run(&["play", id]);
        assert!(play.status.success());
    }
}

/// Issue 12 item 10: `--command N` is one command's text, so it needs no `--format txt`.
#[test]
fn export_of_one_command_is_text_without_a_format() {
    let home = Home::new();
    let path = home.path().join("two.cast");
    let run = |cmd: &str, out: &str| {
        format!(
            "\x1b]133;A\x07$ \x1b]133;B\x07{cmd}\r\n\x1b]633;E;{cmd}\x07\x1b]133;C\x07{out}\r\n\x1b]133;D;0\x07"
        )
    };
    write_v3(
        &path,
        80,
        24,
        &[
            (0.5, "o", run("echo one", "first-out")),
            (0.5, "o", run("echo two", "second-out")),
        ],
    );
    let id = import(&home, &path);
    let out = home.ok(&["export", &id, "--command", "2"]);
    assert!(out.contains("second-out"), "{out}");
    assert!(
        !out.contains("first-out") && !out.contains("\"version\""),
        "{out}"
    );
    let bad = home.run(&["export", &id, "--command", "2", "--format", "raw"]);
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("--command goes with --format txt"), "{err}");
}

/// Issue 12 item 10: the same file imported twice was two sessions; it is now told as
/// the session it already is (exit 0, as `cp -n`), unless `--force`. The source is
/// remembered as an absolute path.
#[test]
fn importing_a_file_again_names_the_session_it_became() {
    let home = Home::new();
    let work = home.path().join("work");
    std::fs::create_dir(&work).unwrap();
    std::fs::copy(fixture("v3.cast"), work.join("incident.cast")).unwrap();
    let first = home
        .cmd(&["import", "incident.cast"])
        .current_dir(&work)
        .output()
        .unwrap();
    assert!(first.status.success());
    let id = home.ids()[0].clone();
    let meta: serde_json::Value = serde_json::from_str(&home.ok(&["show", &id, "--json"])).unwrap();
    let abs = std::fs::canonicalize(work.join("incident.cast")).unwrap();
    assert_eq!(meta["imported_from"], abs.to_str().unwrap());

    // Again, from elsewhere and by another name for the same bytes.
    std::fs::copy(fixture("v3.cast"), home.path().join("copy.cast")).unwrap();
    let again = home.run(&["import", home.path().join("copy.cast").to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(0));
    let said = String::from_utf8_lossy(&again.stdout);
    assert!(
        said.contains(&format!("already imported as {id}")),
        "{said}"
    );
    assert_eq!(home.ids(), std::slice::from_ref(&id), "no second session");

    let forced = home.ok(&[
        "import",
        "--force",
        home.path().join("copy.cast").to_str().unwrap(),
    ]);
    assert!(forced.starts_with("imported "), "{forced}");
    assert_eq!(home.ids().len(), 2);
}
