//! The recording as the player gets it: the cast, and the segments a seek downloads
//! (made from the recording's own frames, before and after compaction).

mod common;

use axum::http::StatusCode;
use serde_json::Value;

use common::*;

#[tokio::test]
async fn the_cast_is_asciicast_v3() {
    let w = world();
    let a = w.app(None);
    let r = get(&a, &format!("/api/sessions/{}/cast", w.id)).await;
    assert_eq!(r.status, StatusCode::OK);
    let text = r.text();
    let mut lines = text.lines();
    let head: Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(head["version"], 3);
    assert_eq!(lines.count(), 3);
    let r = get(&a, &format!("/api/sessions/{}/cast", w.long)).await;
    assert!(r.body.len() > 3_000_000, "whole, streamed");
}

#[tokio::test]
async fn segments_start_from_the_screen_they_continue() {
    let w = world();
    let a = w.app_on_disk();
    let idx = get(&a, &format!("/api/sessions/{}/segments", w.long))
        .await
        .json();
    assert_eq!(idx["version"], 1, "{idx}");
    assert_eq!(idx["term"]["cols"], 80);
    let segs = idx["segments"].as_array().unwrap();
    assert!(
        segs.len() >= 5,
        "3 MB of output in 512 KiB segments: {}",
        segs.len()
    );
    assert_eq!(segs[0]["start"], 0.0);
    let mut prev = -1.0;
    for (i, s) in segs.iter().enumerate() {
        let start = s["start"].as_f64().unwrap();
        assert!(start > prev);
        prev = start;
        let seg = get(&a, s["url"].as_str().unwrap()).await;
        assert_eq!(seg.status, StatusCode::OK);
        let seg = seg.json();
        let events = seg["events"].as_array().unwrap();
        assert_eq!(
            events[0][0].as_f64().unwrap(),
            start,
            "segment {i} starts with its first event"
        );
        if i > 0 {
            let init = seg["snapshot"]["init"].as_str().unwrap();
            assert!(
                init.contains("xxxx"),
                "segment {i} starts from the screen so far"
            );
        }
        if i == segs.len() - 1 {
            let last = events.last().unwrap();
            assert_eq!(last[0].as_f64().unwrap(), idx["duration"].as_f64().unwrap());
            assert!(last[2].as_str().unwrap().contains("THE END"));
        }
    }
    // Cached beside the session: a second server reads it without building.
    assert!(w.store.dir(&w.long).join("segments.v3.json.zst").is_file());
    let again = get(
        &w.app_on_disk(),
        &format!("/api/sessions/{}/segments", w.long),
    )
    .await
    .json();
    assert_eq!(again["segments"], idx["segments"]);
    get(&a, &format!("/api/sessions/{}/segments/999", w.long))
        .await
        .error(StatusCode::NOT_FOUND);
    get(&a, &format!("/api/sessions/{}/segments/-1", w.long))
        .await
        .error(StatusCode::BAD_REQUEST);
    let small = get(&a, &format!("/api/sessions/{}/segments", w.id))
        .await
        .json();
    assert_eq!(small["markers"][1][1], "chattr -i /etc/resolv.conf");
}

/// The segments of the recording at `cast`, cut from its whole text alone.
fn segments_from_text(cast: &std::path::Path) -> Vec<String> {
    let text = zstd::stream::decode_all(std::fs::File::open(cast).unwrap()).unwrap();
    fixcast_web::segments_of(&text, fixcast_web::SEGMENT_BYTES)
}

/// A recording of several zstd frames (each switch of the writer's mode ends one), with
/// markers between the output, as a recorder writes it: finished.
fn framed(w: &World) -> fixcast_sessions::SessionId {
    use fixcast_sessions::asciicast::Header;
    use fixcast_sessions::{Event, EventKind, SessionId, SessionMeta, Status};
    let mut meta = SessionMeta::new(SessionId::generate(), 80, 24);
    let header = Header {
        cols: 80,
        rows: 24,
        ..Header::default()
    };
    let mut writer = w.store.create(&meta, &header).unwrap();
    for i in 0..12_000u64 {
        if i > 0 && i % 2000 == 0 {
            writer.set_fast(i % 4000 == 0).unwrap();
        }
        let kind = match i % 97 {
            5 => EventKind::Marker(format!("cmd {i}")),
            50 => EventKind::Resize {
                cols: 80 + (i % 3) as u16,
                rows: 24,
            },
            _ => EventKind::Output(format!("{i:06} {}\r\n", "y".repeat((i % 300) as usize))),
        };
        writer.write(&Event::new(1_000 * (i + 1), kind)).unwrap();
    }
    writer.finish().unwrap();
    meta.status = Status::Complete;
    w.store.save_meta(&meta).unwrap();
    meta.id
}

/// Each segment as served, in order.
async fn served_segments(a: &axum::Router, id: &fixcast_sessions::SessionId) -> Vec<String> {
    let idx = get(a, &format!("/api/sessions/{id}/segments")).await.json();
    let mut out = Vec::new();
    for s in idx["segments"].as_array().unwrap() {
        let r = get(a, s["url"].as_str().unwrap()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        out.push(r.text());
    }
    out
}

#[tokio::test]
async fn segments_are_served_from_the_recordings_frames_and_outlive_compaction() {
    let w = world();
    let id = framed(&w);
    let cast = w.store.cast_path(&id);
    // What the segments are, cut from the text alone (what the old cache held).
    let expected = segments_from_text(&cast);
    assert!(expected.len() >= 3, "{} segments", expected.len());
    let marks = fixcast_sessions::frame_marks(&std::fs::read(&cast).unwrap());
    assert!(marks.len() >= 6, "{marks:?}");
    let a = w.app_on_disk();
    assert_eq!(served_segments(&a, &id).await, expected);
    // Only the snapshots are cached: far less than the segments' events.
    let dir = w.store.dir(&id);
    let data = std::fs::read(dir.join("segments.v3.bin")).unwrap();
    let events: usize = expected.iter().map(String::len).sum();
    assert!(data.len() * 20 < events, "{} of {events}", data.len());

    // Compacted: the writer's short frames regrouped into one, so the cache (frames by
    // number) no longer holds: rebuilt, never misread; the same segments.
    let before = std::fs::read(dir.join("segments.v3.json.zst")).unwrap();
    assert!(matches!(
        w.store.compact(&id).unwrap(),
        fixcast_sessions::Compacted::Done { .. }
    ));
    assert_ne!(
        fixcast_sessions::frame_marks(&std::fs::read(&cast).unwrap()),
        marks
    );
    assert_eq!(served_segments(&a, &id).await, expected);
    assert_eq!(served_segments(&w.app_on_disk(), &id).await, expected);
    let after = std::fs::read(dir.join("segments.v3.json.zst")).unwrap();
    assert_ne!(before, after, "the index is made again for the new file");
    assert_eq!(fixcast_sessions::compacted_from(&cast).unwrap(), None);
}

/// A finished session of listings (names and numbers that vary, colors), as a
/// debugging session prints them: 3 MB of output.
fn listings(w: &World) -> fixcast_sessions::SessionId {
    use fixcast_sessions::asciicast::Header;
    use fixcast_sessions::{Event, EventKind, SessionId, SessionMeta, Status};
    let mut meta = SessionMeta::new(SessionId::generate(), 120, 40);
    let header = Header {
        cols: 120,
        rows: 40,
        ..Header::default()
    };
    let mut writer = w.store.create(&meta, &header).unwrap();
    let words = [
        "conf", "log", "app", "ssh", "data", "cache", "net", "sys", "ctl",
    ];
    let mut x = 1u64;
    for i in 0..40_000u64 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let line = format!(
            "-rw-r--r--  1 root root {:>8} Nov {:>2} 10:{:02} \u{1b}[01;32m{}-{}{}\u{1b}[0m\r\n",
            x >> 44,
            1 + (x >> 20) % 28,
            (x >> 30) % 60,
            words[(x >> 8) as usize % words.len()],
            words[(x >> 12) as usize % words.len()],
            (x >> 16) % 100
        );
        writer
            .write(&Event::new(1_000 * (i + 1), EventKind::Output(line)))
            .unwrap();
    }
    writer.finish().unwrap();
    meta.status = Status::Complete;
    w.store.save_meta(&meta).unwrap();
    meta.id
}

#[tokio::test]
async fn snapshots_are_compressed_against_the_text_before_them() {
    let w = world();
    let id = listings(&w);
    let cast = w.store.cast_path(&id);
    let expected = segments_from_text(&cast);
    assert!(expected.len() >= 4, "{} segments", expected.len());
    let a = w.app_on_disk();
    assert_eq!(served_segments(&a, &id).await, expected);
    // Each screen is lines the recording printed just before: smaller than the screens
    // compressed on their own, 16 to a frame (as version 2 stored them; 1,751 B against
    // 2,318 here, 40% less on the size bench's sessions).
    let dir = w.store.dir(&id);
    let data = std::fs::read(dir.join("segments.v3.bin")).unwrap();
    let snapshots: Vec<String> = expected
        .iter()
        .map(|s| serde_json::from_str::<Value>(s).unwrap()["snapshot"].to_string())
        .collect();
    let alone: usize = snapshots
        .chunks(16)
        .map(|g| zstd::encode_all(g.concat().as_bytes(), 19).unwrap().len())
        .sum();
    assert!(
        data.len() * 5 < alone * 4,
        "{} B for {} snapshots, {alone} B on their own",
        data.len(),
        expected.len()
    );
    // A second server serves them from the cache alone, and after a compaction too.
    assert_eq!(served_segments(&w.app_on_disk(), &id).await, expected);
    assert!(matches!(
        w.store.compact(&id).unwrap(),
        fixcast_sessions::Compacted::Done { .. }
    ));
    assert_eq!(served_segments(&w.app_on_disk(), &id).await, expected);
    assert_eq!(std::fs::read(dir.join("segments.v3.bin")).unwrap(), data);
}

#[tokio::test]
async fn an_older_segment_cache_is_removed_and_rebuilt_never_read() {
    let w = world();
    let id = framed(&w);
    let cast = w.store.cast_path(&id);
    let expected = segments_from_text(&cast);
    let dir = w.store.dir(&id);
    // A version 2 cache (its index says so) whose snapshots are not these.
    let old = serde_json::json!({"version": 2, "segments": []}).to_string();
    std::fs::write(
        dir.join("segments.v2.json.zst"),
        zstd::encode_all(old.as_bytes(), 3).unwrap(),
    )
    .unwrap();
    std::fs::write(dir.join("segments.v2.bin"), b"not these snapshots").unwrap();
    assert_eq!(served_segments(&w.app_on_disk(), &id).await, expected);
    assert!(!dir.join("segments.v2.json.zst").exists());
    assert!(!dir.join("segments.v2.bin").exists());
    assert!(dir.join("segments.v3.bin").is_file());
}

#[tokio::test]
async fn a_short_recordings_segments_are_held_in_memory_and_served_the_same() {
    let w = world();
    let id = framed(&w);
    let cast = w.store.cast_path(&id);
    let expected = segments_from_text(&cast);
    assert!(expected.len() >= 3, "{} segments", expected.len());
    let dir = w.store.dir(&id);
    let cached = |dir: &std::path::Path| {
        std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("segments"))
            .collect::<Vec<_>>()
    };
    // What a disk cache holds is what memory holds: the same index, the same segments.
    let on_disk = w.app_on_disk();
    let disk_index = get(&on_disk, &format!("/api/sessions/{id}/segments"))
        .await
        .json();
    assert_eq!(served_segments(&on_disk, &id).await, expected);
    for f in cached(&dir) {
        std::fs::remove_file(dir.join(f)).unwrap();
    }
    // A recording under SEGMENTS_ON_DISK_FROM of output: nothing written beside it.
    let a = w.app(None);
    let index = get(&a, &format!("/api/sessions/{id}/segments"))
        .await
        .json();
    assert_eq!(index, disk_index);
    assert_eq!(served_segments(&a, &id).await, expected);
    assert_eq!(cached(&dir), Vec::<String>::new());
    // A seek straight into a segment, on a server that holds nothing: built again.
    let last = expected.len() - 1;
    let r = get(&w.app(None), &format!("/api/sessions/{id}/segments/{last}")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.text(), expected[last]);
    // Compacted: the frames moved; the server holding the snapshots serves the same,
    // and so does a new one, and still nothing is on disk.
    assert!(matches!(
        w.store.compact(&id).unwrap(),
        fixcast_sessions::Compacted::Done { .. }
    ));
    assert_eq!(served_segments(&a, &id).await, expected);
    assert_eq!(served_segments(&w.app(None), &id).await, expected);
    assert_eq!(cached(&dir), Vec::<String>::new());
}

/// The segment cache files in a session's folder, by name.
fn cache_files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("segments"))
        .collect();
    names.sort();
    names
}

/// Rewrites a segment index as a build that cached every recording on disk wrote it:
/// the same, without the output it counted.
fn as_an_older_build_wrote_it(index: &std::path::Path) {
    let mut json: Value =
        serde_json::from_slice(&zstd::decode_all(&std::fs::read(index).unwrap()[..]).unwrap())
            .unwrap();
    json.as_object_mut().unwrap().remove("output");
    let packed = zstd::encode_all(json.to_string().as_bytes(), 3).unwrap();
    std::fs::write(index, packed).unwrap();
}

#[tokio::test]
async fn a_short_recordings_cache_left_on_disk_is_removed_when_it_is_served_from_memory() {
    use fixcast_sessions::Status;
    let w = world();
    let id = framed(&w);
    let dir = w.store.dir(&id);
    // The cache an older build left (it wrote every recording's), and an older version's.
    let expected = served_segments(&w.app_on_disk(), &id).await;
    assert!(expected.len() >= 3, "{} segments", expected.len());
    as_an_older_build_wrote_it(&dir.join("segments.v3.json.zst"));
    std::fs::write(dir.join("segments.v2.bin"), b"older still").unwrap();
    let stale = cache_files(&dir);
    assert_eq!(
        stale,
        ["segments.v2.bin", "segments.v3.bin", "segments.v3.json.zst"]
    );

    // Being recorded: the folder is its recorder's, nothing in it is removed.
    let mut meta = w.store.load(&id).unwrap().meta;
    meta.status = Status::Recording;
    w.store.save_meta(&meta).unwrap();
    let recorder = w.store.hold(&id).unwrap();
    assert_eq!(served_segments(&w.app(None), &id).await, expected);
    assert_eq!(cache_files(&dir), stale);
    drop(recorder);
    meta.status = Status::Complete;
    w.store.save_meta(&meta).unwrap();

    // Served from memory: the files are gone, the segments the same.
    let a = w.app(None);
    assert_eq!(served_segments(&a, &id).await, expected);
    assert_eq!(cache_files(&dir), Vec::<String>::new());
    assert_eq!(served_segments(&a, &id).await, expected);

    // The same for a cache this build writes (a server told to keep every one on disk).
    assert_eq!(served_segments(&w.app_on_disk(), &id).await, expected);
    assert_eq!(
        cache_files(&dir),
        ["segments.v3.bin", "segments.v3.json.zst"]
    );
    assert_eq!(served_segments(&w.app(None), &id).await, expected);
    assert_eq!(cache_files(&dir), Vec::<String>::new());

    // A file that cannot be removed (a folder by its name) is warned of, and the
    // request is served all the same.
    assert_eq!(served_segments(&w.app_on_disk(), &id).await, expected);
    std::fs::remove_file(dir.join("segments.v3.bin")).unwrap();
    std::fs::create_dir(dir.join("segments.v3.bin")).unwrap();
    assert_eq!(served_segments(&w.app(None), &id).await, expected);
    assert_eq!(cache_files(&dir), ["segments.v3.bin"]);
}

#[tokio::test]
async fn a_long_recordings_cache_on_disk_is_kept_whoever_wrote_it() {
    let w = world();
    // 3 MB of output; a server that keeps the caches of 1 MiB and more.
    let from_1m = || {
        fixcast_web::app(
            fixcast_web::AppState::new(w.store.clone(), w.fake.clone(), None)
                .segments_on_disk_from(1 << 20),
        )
    };
    let expected = served_segments(&from_1m(), &w.long).await;
    let dir = w.store.dir(&w.long);
    let index = dir.join("segments.v3.json.zst");
    let files = cache_files(&dir);
    assert_eq!(files, ["segments.v3.bin", "segments.v3.json.zst"]);
    assert_eq!(served_segments(&from_1m(), &w.long).await, expected);
    // Written by an older build (no output counted): its segments say it is long, so it
    // is read as it is, not built again.
    as_an_older_build_wrote_it(&index);
    let older = std::fs::read(&index).unwrap();
    assert_eq!(served_segments(&from_1m(), &w.long).await, expected);
    assert_eq!(cache_files(&dir), files);
    assert_eq!(std::fs::read(&index).unwrap(), older);
}
