//! Degenerate screens and contained panics: a session recorded in a 1-row or 1-column
//! terminal is cut and searched like any other (below 2×2 `vt100` panics, so screens are
//! emulated at 2 at least), and a session the screen emulator still panics on is left
//! out with a message, never taking search, reindex, import, the server or another
//! session down, and never printing Rust's panic text.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use fixcast_sessions::asciicast::Header;
use fixcast_sessions::{Event, EventKind, SessionId, SessionMeta, Status, Store};
use serde_json::{json, Value};

use crate::util::Home;
use crate::web::{get_json, Server};

fn osc(s: &str) -> String {
    format!("\x1b]{s}\x07")
}

/// One command as fixcast's shell integration prints it.
fn integrated(line: &str, output: &str) -> String {
    format!(
        "{}{}$ {line}\r\n{}{}{output}{}",
        osc("133;A"),
        osc("133;B"),
        osc(&format!("633;E;{line}")),
        osc("133;C"),
        osc("133;D;0"),
    )
}

/// An asciicast v3 file: a header of `cols` × `rows`, then `(code, data)` events.
fn cast_file(home: &Home, name: &str, cols: u16, rows: u16, events: &[(&str, String)]) -> PathBuf {
    let path = home.path().join(name);
    let mut text = json!({"version": 3, "term": {"cols": cols, "rows": rows}}).to_string();
    for (code, data) in events {
        text.push('\n');
        text.push_str(&json!([0.1, code, data]).to_string());
    }
    text.push('\n');
    std::fs::write(&path, text).unwrap();
    path
}

/// Imports a file; the new session's id.
fn import(home: &Home, path: &Path) -> String {
    let before = home.ids();
    let out = home.run(&["import", path.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "import: {err}");
    assert!(!err.contains("panicked"), "{err}");
    home.ids()
        .into_iter()
        .find(|i| !before.contains(i))
        .unwrap()
}

/// `fixcast search --json QUERY`: the commands found, and stderr.
fn search(home: &Home, query: &str) -> (Vec<String>, String) {
    let out = home.run(&["search", "--json", query]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "search {query}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let hits = v.as_array().cloned().unwrap_or_default();
    let found = hits
        .iter()
        .map(|h| h["command"].as_str().unwrap_or_default().to_owned());
    (found.collect(), err)
}

/// What every reproduction is followed by: search, reindex, an import of another file
/// and `show --commands` all work, and the narrow session's text is found.
fn everything_goes_on(home: &Home, id: &str, text: &str, command: &str) {
    let (found, _) = search(home, &format!("out:\"{text}\""));
    assert_eq!(found, [command], "{text:?}");
    let out = home.run(&["reindex"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && !err.contains("panicked"), "{err}");
    let other = cast_file(
        home,
        "other.cast",
        80,
        24,
        &[("o", integrated("echo other", "other output\r\n"))],
    );
    import(home, &other);
    assert_eq!(search(home, "out:other").0, ["echo other"]);
    assert_eq!(search(home, &format!("out:\"{text}\"")).0, [command]);
    let shown = home.ok(&["show", id, "--commands"]);
    assert!(shown.contains(command), "{shown}");
}

#[test]
fn a_one_by_one_terminal_records_and_everything_goes_on() {
    let home = Home::new();
    let out = home.run(&[
        "rec",
        "--cols",
        "1",
        "--rows",
        "1",
        "-c",
        "echo hello wide 中",
    ]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    // The shell's status, not a panic's 101.
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked") && err.contains("saved"), "{err}");
    let id = home.ids().pop().unwrap();
    everything_goes_on(&home, &id, "hello wide", "echo hello wide 中");
}

#[test]
fn a_resize_to_one_row_mid_session_and_a_one_row_import_are_cut_and_found() {
    let home = Home::new();
    let resized = cast_file(
        &home,
        "resized.cast",
        80,
        24,
        &[
            ("o", integrated("echo before", "before the resize\r\n")),
            ("r", "10x1".into()),
            ("o", integrated("echo narrow", "a line longer than ten\r\n")),
        ],
    );
    let id = import(&home, &resized);
    everything_goes_on(&home, &id, "a line longer than ten", "echo narrow");

    let home = Home::new();
    let one_row = cast_file(
        &home,
        "one-row.cast",
        10,
        1,
        &[
            ("o", "a line longer than ten\r\n".into()),
            ("o", integrated("echo wrapped", "wraps on one row\r\n")),
        ],
    );
    let id = import(&home, &one_row);
    everything_goes_on(&home, &id, "wraps on one row", "echo wrapped");
}

/// A recording `vt100` 0.16 panics on at any size: a resize narrows the screen through a
/// wide character, then the cursor writes where its second half was.
fn panicking_cast(home: &Home) -> PathBuf {
    cast_file(
        home,
        "wide.cast",
        5,
        3,
        &[
            ("o", "abc中".into()),
            ("r", "4x3".into()),
            ("o", "\x1b[1;4Hx\r\n".into()),
            ("o", integrated("echo unreachable", "never cut\r\n")),
        ],
    )
}

#[test]
fn a_session_the_emulator_panics_on_is_left_out_with_a_message() {
    let home = Home::new();
    let good = cast_file(
        &home,
        "good.cast",
        80,
        24,
        &[("o", integrated("echo good", "good output\r\n"))],
    );
    import(&home, &good);
    let bad = import(&home, &panicking_cast(&home));
    let said = format!("session {bad}: cannot be cut: ");

    // Search finds the rest; the bad session is named once, when it is indexed.
    let (found, err) = search(&home, "out:good");
    assert_eq!(found, ["echo good"], "{err}");
    let out = home.run(&["reindex"]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(&said) && err.contains("left out of search"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(search(&home, "out:good").0, ["echo good"]);
    let other = cast_file(
        &home,
        "other.cast",
        80,
        24,
        &[("o", integrated("echo other", "other output\r\n"))],
    );
    import(&home, &other);
    assert_eq!(search(&home, "out:other").0, ["echo other"]);

    // Its own commands: a clear error, not a crash; everything else as usual.
    let out = home.run(&["show", &bad, "--commands"]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&said) && !err.contains("panicked"), "{err}");
    let good_id = home.ids()[0].clone();
    assert!(home
        .ok(&["show", &good_id, "--commands"])
        .contains("echo good"));
    // Its recording is whole: it still exports.
    assert!(home.ok(&["export", &bad]).contains("abc中"));
}

#[test]
fn a_damaged_index_store_is_rebuilt_without_panic_text() {
    let home = Home::new();
    // Enough commands for document stores of several blocks.
    let events: Vec<(&str, String)> = (0..300)
        .map(|i| {
            let out = format!("stored output {i} ").repeat(20);
            (
                "o",
                integrated(&format!("echo stored {i}"), &format!("{out}\r\n")),
            )
        })
        .collect();
    import(&home, &cast_file(&home, "many.cast", 80, 24, &events));
    assert!(!search(&home, "out:stored").0.is_empty());
    let index = home.path().join("index");
    let healthy: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&index)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| (p.clone(), std::fs::read(&p).unwrap()))
        .collect();
    // 512 bytes of noise (a fixed xorshift stream) written over each document store at
    // a few places: some make tantivy fail, some make it panic (an index read out of
    // bounds), which used to print Rust's panic text before the rebuild.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for trial in 0..12 {
        // The healthy index again, then damaged.
        std::fs::remove_dir_all(&index).unwrap();
        std::fs::create_dir(&index).unwrap();
        for (path, bytes) in &healthy {
            let mut bytes = bytes.clone();
            if path.extension().is_some_and(|x| x == "store") {
                let room = bytes.len().saturating_sub(512 + 60).max(1);
                let at = (next() as usize) % room;
                for b in bytes.iter_mut().skip(at).take(512) {
                    *b = next() as u8;
                }
            }
            std::fs::write(path, bytes).unwrap();
        }
        let (found, err) = search(&home, "out:stored");
        assert!(!found.is_empty(), "trial {trial}: {err}");
    }
}

fn u32_at(b: &[u8], at: usize) -> usize {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize
}

/// Damage that still decompresses, as noise in a doc store block sometimes does
/// (tantivy's blocks have no checksum): the store's one block decompressed, the length of
/// each `nth` document's session id written over with 4 TB, compressed again and padded
/// to its old size with a zstd skippable frame. Size and time of the file stay as
/// they were; tantivy 0.27's reader reserved the 4 TB and aborted the process.
fn rot_lengths(store: &Path, nth: usize) {
    let mut file = std::fs::read(store).unwrap();
    // tantivy's file footer (JSON, its length, a magic number), then the store's (28
    // bytes: version, where the blocks end, compressor, reserved).
    let body = file.len() - 8 - u32_at(&file, file.len() - 8);
    let blocks_end = u64::from_le_bytes(file[body - 24..body - 16].try_into().unwrap()) as usize;
    let size = u32_at(&file, 0);
    let mut block = zstd::bulk::decompress(&file[4..blocks_end], size).expect("one block");
    let docs = u32_at(&block, block.len() - 4);
    let starts = block.len() - 4 * (docs + 1);
    for doc in (0..docs).step_by(nth) {
        // A count, the session field's id and type, then the id's length.
        let at = u32_at(&block, starts + 4 * doc) + 6;
        assert_eq!(block[at], 0x80 | 26, "the session id's length");
        block[at..at + 9].copy_from_slice(&[0, 0, 0, 0, 0, 0x7f, 0, 0, 0x80]);
        // What follows is never read past that length: zeros, so that the block still
        // compresses into its old place (the store holds no output to make room).
        let end = if doc + 1 < docs {
            u32_at(&block, starts + 4 * (doc + 1))
        } else {
            starts
        };
        block[at + 9..end].fill(0);
    }
    let packed = zstd::bulk::compress(&block, 19).unwrap();
    assert!(packed.len() + 8 <= blocks_end - 4, "it compresses as small");
    let pad = blocks_end - 4 - packed.len() - 8;
    let mut rewritten = (size as u32).to_le_bytes().to_vec();
    rewritten.extend(&packed);
    rewritten.extend(0x184d_2a50u32.to_le_bytes());
    rewritten.extend((pad as u32).to_le_bytes());
    rewritten.resize(blocks_end, 0);
    file[..blocks_end].copy_from_slice(&rewritten);
    std::fs::write(store, file).unwrap();
}

#[test]
fn a_store_with_a_garbage_length_is_rebuilt_not_an_abort() {
    let home = Home::new();
    let events: Vec<(&str, String)> = (0..100)
        .map(|i| {
            let out = format!("rotten output {i} ").repeat(10);
            (
                "o",
                integrated(&format!("echo rotten {i}"), &format!("{out}\r\n")),
            )
        })
        .collect();
    import(&home, &cast_file(&home, "rot.cast", 80, 24, &events));
    assert_eq!(search(&home, "out:rotten").0.len(), 10);
    let stores: Vec<PathBuf> = std::fs::read_dir(home.path().join("index"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "store"))
        .collect();
    assert!(!stores.is_empty());
    for store in &stores {
        rot_lengths(store, 7);
    }
    // `search` itself here, not the helper: an abort must fail with what ended it.
    let out = home.run(&["search", "--json", "out:rotten"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {err}", out.status);
    assert!(
        err.contains("damaged") && !err.contains("panicked"),
        "{err}"
    );
    let hits: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(hits.as_array().map(Vec::len), Some(10), "{err}");
    // Rebuilt: searched again, quietly.
    let (found, err) = search(&home, "cmd:\"echo rotten 7\"");
    assert_eq!(found, ["echo rotten 7"], "{err}");
    assert!(!err.contains("damaged"), "{err}");
}

/// `POST path` with a body; the status and the JSON answer.
/// The uploader's key of these tests' uploads (a server writes only what its key started).
const UPLOAD_KEY: &str = "0123456789abcdef0123456789abcdef";

fn post(base: &str, path: &str, body: &[u8]) -> (u16, Value) {
    let addr = base.trim_start_matches("http://").trim_end_matches('/');
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nFixcast-Upload-Key: {UPLOAD_KEY}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(body).unwrap();
    let mut res = String::new();
    s.read_to_string(&mut res).unwrap();
    let code = res
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = res.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (code, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// `GET path`: the status code.
fn status_of(base: &str, path: &str) -> u16 {
    let addr = base.trim_start_matches("http://").trim_end_matches('/');
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut res = Vec::new();
    s.read_to_end(&mut res).unwrap();
    let res = String::from_utf8_lossy(&res);
    res.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// Waits for a search on the server to find `query`'s command.
fn server_finds(url: &str, query: &str) -> Vec<Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let v = get_json(url, &format!("/api/search?q={query}"));
        let hits = v["hits"].as_array().cloned().unwrap_or_default();
        if !hits.is_empty() || std::time::Instant::now() > deadline {
            return hits;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

#[test]
fn a_one_row_upload_is_served_live_and_complete() {
    // The recording as a recorder in a 10×1 terminal writes it.
    let scratch = Home::new();
    let store = Store::open(scratch.path()).unwrap();
    let mut meta = SessionMeta::new(SessionId::generate(), 10, 1);
    let header = Header {
        cols: 10,
        rows: 1,
        ..Header::default()
    };
    let mut w = store.create(&meta, &header).unwrap();
    let ev = |t, s: String| Event::new(t, EventKind::Output(s));
    w.write(&ev(100_000, "a line longer than ten\r\n".into()))
        .unwrap();
    w.write(&ev(
        200_000,
        integrated("echo uploaded", "narrow upload text\r\n"),
    ))
    .unwrap();
    w.finish().unwrap();
    let bytes = std::fs::read(store.cast_path(&meta.id)).unwrap();

    let home = Home::new();
    let server = Server::start(home.path(), None);
    let url = server.url.clone();
    let id = meta.id.to_string();
    let (code, _) = post(
        &url,
        &format!("/api/upload/{id}/start"),
        &serde_json::to_vec(&meta).unwrap(),
    );
    assert_eq!(code, 200);
    let (code, v) = post(&url, &format!("/api/upload/{id}/append?offset=0"), &bytes);
    assert_eq!((code, v["size"].as_u64()), (200, Some(bytes.len() as u64)));

    let pages = [
        format!("/s/{id}"),
        format!("/api/sessions/{id}"),
        format!("/api/sessions/{id}/commands"),
        format!("/api/sessions/{id}/commands/1"),
        format!("/api/sessions/{id}/segments"),
        format!("/api/sessions/{id}/segments/0"),
    ];
    // Live (the server holds its lock), then complete.
    let hits = server_finds(&url, "out:narrow");
    assert_eq!(hits.len(), 1, "{hits:?}");
    for p in &pages {
        assert_eq!(status_of(&url, p), 200, "{p} while live");
    }
    meta.status = Status::Complete;
    let finish = format!("/api/upload/{id}/finish?offset={}", bytes.len());
    let (code, v) = post(&url, &finish, &serde_json::to_vec(&meta).unwrap());
    assert_eq!(code, 200, "{v}");
    assert_eq!(
        server_finds(&url, "out:narrow")[0]["command"],
        "echo uploaded"
    );
    for p in &pages {
        assert_eq!(status_of(&url, p), 200, "{p}");
    }
}

#[test]
fn the_server_answers_422_for_a_session_the_emulator_panics_on() {
    let home = Home::new();
    let good = cast_file(
        &home,
        "good.cast",
        80,
        24,
        &[("o", integrated("echo good", "good output\r\n"))],
    );
    let good = import(&home, &good);
    let bad = import(&home, &panicking_cast(&home));
    let server = Server::start(home.path(), None);
    let url = server.url.clone();
    assert_eq!(server_finds(&url, "out:good")[0]["command"], "echo good");
    for p in [
        format!("/s/{bad}"),
        format!("/api/sessions/{bad}"),
        format!("/api/sessions/{bad}/commands"),
        format!("/api/sessions/{bad}/segments"),
    ] {
        assert_eq!(status_of(&url, &p), 422, "{p}");
    }
    let v = get_json(&url, &format!("/api/sessions/{bad}/commands"));
    let said = v["error"].as_str().unwrap_or_default();
    assert!(
        said.starts_with(&format!("session {bad}: cannot be cut: ")),
        "{v}"
    );
    for p in [
        format!("/s/{good}"),
        format!("/api/sessions/{good}/commands"),
        format!("/api/sessions/{good}/segments"),
        "/api/sessions".to_owned(),
        "/".to_owned(),
    ] {
        assert_eq!(status_of(&url, &p), 200, "{p}");
    }
}
