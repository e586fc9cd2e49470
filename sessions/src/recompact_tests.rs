use super::*;
use crate::asciicast::Header;
use crate::cast_file::read_cast;
use crate::command::{CommandRecord, CommandSource};
use crate::event::{Event, EventKind};
use crate::frame_marks;

fn header() -> Header {
    Header {
        cols: 100,
        rows: 30,
        title: Some("compaction test".into()),
        ..Header::default()
    }
}

/// Output that compresses like a debugging session's: repetitive, not constant.
fn events(n: usize) -> Vec<Event> {
    let mut t = 0u64;
    (0..n)
        .map(|i| {
            t += (i as u64 * 7919) % 300_007 + 1;
            let kind = match i % 40 {
                7 => EventKind::Marker(format!("cmd {i}")),
                19 => EventKind::Resize {
                    cols: 100 + (i % 5) as u16,
                    rows: 30,
                },
                _ => EventKind::Output(format!(
                    "\u{1b}[01;32mroot@node1\u{1b}[00m:/var/log# ps aux | grep {} é中\r\n{}\r\n",
                    i % 17,
                    "x".repeat(i % 90)
                )),
            };
            Event::new(t, kind)
        })
        .collect()
}

/// A finished session of `evs` in several frames (each switch of the writer's mode ends
/// one): complete, its writer gone.
fn recorded(store: &Store, evs: &[Event]) -> SessionId {
    let mut meta = SessionMeta::new(SessionId::generate(), 100, 30);
    let mut w = store.create(&meta, &header()).unwrap();
    for (i, ev) in evs.iter().enumerate() {
        if i > 0 && i % 700 == 0 {
            w.set_fast(i % 1400 == 0).unwrap();
        }
        w.write(ev).unwrap();
        if i % 50 == 0 {
            w.flush().unwrap();
        }
    }
    w.finish().unwrap();
    meta.status = Status::Complete;
    store.save_meta(&meta).unwrap();
    meta.id
}

fn names(dir: &Path) -> Vec<String> {
    let mut n: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    n.sort();
    n
}

#[test]
fn a_compacted_recording_reads_back_the_same_events_with_valid_seek_marks() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let evs = events(3000);
    let id = recorded(&store, &evs);
    let path = store.cast_path(&id);
    let before_raw = fs::read(&path).unwrap();
    let before_marks = frame_marks(&before_raw);
    assert!(before_marks.len() >= 5, "{before_marks:?}");
    let key = CacheKey::of(&path).unwrap();
    let cmd = CommandRecord {
        seq: 1,
        start: 0.5,
        end: 0.6,
        command: "ps aux".into(),
        cwd: None,
        exit: Some(0),
        source: CommandSource::Integration,
        output: "root".into(),
        output_cut: 0,
        full_screen: false,
        suspicious: false,
        confusables: Vec::new(),
        errors: Vec::new(),
        size: None,
    };
    store.save_commands(&id, key, vec![cmd.clone()]).unwrap();

    let done = store.compact(&id).unwrap();
    let Compacted::Done {
        before,
        after,
        frames,
        ..
    } = done
    else {
        panic!("not compacted: {done:?}");
    };
    assert_eq!(before, before_raw.len() as u64);
    assert!(after < before, "{after} >= {before}");
    // The writer's short frames (each switch of mode ends one) are regrouped: the
    // header's, then one of all the events; a cache of the old frames does not hold.
    assert_eq!(frames, 2);
    assert!(is_compacted(&path).unwrap());
    assert_eq!(compacted_from(&path).unwrap(), None);

    let back = read_cast(&path).unwrap();
    assert_eq!(back.damage, Vec::<String>::new());
    assert_eq!(back.header, header());
    assert!(back.events == evs, "events differ after compaction");
    // Each mark is where it says it is (frame_marks checks), with the same base, and a
    // reader starting at it reads the events of that frame on.
    let raw = fs::read(&path).unwrap();
    let marks = frame_marks(&raw);
    assert_eq!(marks.len(), 2);
    assert_eq!(marks[1].base, 0);
    let at = marks[1];
    let mut dec = crate::CastDecoder::at_mark(at.offset);
    let mut got = Vec::new();
    dec.push(&raw[at.offset as usize..], &mut got);
    dec.end(&mut got);
    assert!(got == evs, "a frame read alone");
    // Standard decoders read plain asciicast v3.
    let text = zstd::stream::decode_all(&raw[..]).unwrap();
    let (rec, damage) =
        crate::asciicast::parse_v3_lenient(std::str::from_utf8(&text).unwrap()).unwrap();
    assert!(damage.is_empty() && rec.events == evs);

    // The commands cut before still hold; once is enough; no temp file is left.
    assert_eq!(store.cached_commands(&id).unwrap(), Some(vec![cmd]));
    assert_eq!(store.compact(&id).unwrap(), Compacted::Already);
    assert_eq!(
        names(&store.dir(&id)),
        [COMMANDS_FILE, META_FILE, CAST_FILE]
    );
    assert_eq!(store.load(&id).unwrap().meta.bytes.stored, after);
}

#[test]
fn a_live_session_is_refused_and_left_alone() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let meta = SessionMeta::new(SessionId::generate(), 80, 24);
    let mut w = store.create(&meta, &header()).unwrap();
    for ev in events(200) {
        w.write(&ev).unwrap();
    }
    w.flush().unwrap();
    let raw = fs::read(store.cast_path(&meta.id)).unwrap();
    let err = store.compact(&meta.id).unwrap_err();
    assert!(matches!(err, CompactError::Recording(_)), "{err}");
    assert!(err.to_string().contains("being recorded"), "{err}");
    assert_eq!(fs::read(store.cast_path(&meta.id)).unwrap(), raw);
    w.finish().unwrap();
}

#[test]
fn a_dead_compactions_temp_file_is_ignored_then_removed() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let evs = events(1500);
    let id = recorded(&store, &evs);
    let dir = store.dir(&id);
    // What a compactor killed halfway leaves: half a file, nobody holding its lock.
    let raw = fs::read(store.cast_path(&id)).unwrap();
    let leftover = dir.join(format!("{TEMP_PREFIX}4194301"));
    fs::write(&leftover, &raw[..raw.len() / 2]).unwrap();
    assert!(store.read(&id).unwrap().events == evs);
    assert_eq!(store.list().unwrap().0.len(), 1);
    assert!(matches!(
        store.compact(&id).unwrap(),
        Compacted::Done { .. }
    ));
    assert!(!leftover.exists());
    assert!(store.read(&id).unwrap().events == evs);
}

#[test]
fn a_running_compaction_is_not_disturbed() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let id = recorded(&store, &events(300));
    let running = TempFile::create(&store.dir(&id)).unwrap().unwrap();
    let got = store.compact(&id).unwrap();
    assert!(matches!(got, Compacted::Skipped(_)), "{got:?}");
    assert!(running.path.exists());
}

#[test]
fn a_crash_cut_recording_compacts_to_what_it_held() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let id = recorded(&store, &events(3000));
    let path = store.cast_path(&id);
    let raw = fs::read(&path).unwrap();
    let last = frame_marks(&raw).last().unwrap().offset as usize;
    fs::write(&path, &raw[..last + (raw.len() - last) * 2 / 3]).unwrap();
    let cut = read_cast(&path).unwrap();
    assert!(!cut.damage.is_empty());
    assert!(matches!(
        store.compact(&id).unwrap(),
        Compacted::Done { .. }
    ));
    let back = read_cast(&path).unwrap();
    assert_eq!(back.damage, Vec::<String>::new());
    assert!(back.events == cut.events);
}

#[test]
fn damage_before_the_last_frame_is_refused_and_left_as_it_is() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let id = recorded(&store, &events(3000));
    let path = store.cast_path(&id);
    let mut raw = fs::read(&path).unwrap();
    let marks = frame_marks(&raw);
    let mid = (marks[2].offset + marks[3].offset) as usize / 2;
    for b in &mut raw[mid..mid + 64] {
        *b ^= 0x5a;
    }
    fs::write(&path, &raw).unwrap();
    let err = store.compact(&id).unwrap_err();
    assert!(matches!(err, CompactError::Damaged { .. }), "{err}");
    assert_eq!(fs::read(&path).unwrap(), raw);
    assert_eq!(names(&store.dir(&id)), [META_FILE, CAST_FILE]);
}

#[test]
fn a_tiny_recording_is_kept_as_it_is_and_marked_done() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let evs = events(3);
    let id = recorded(&store, &evs);
    let path = store.cast_path(&id);
    let raw = fs::read(&path).unwrap();
    assert!(matches!(
        store.compact(&id).unwrap(),
        Compacted::Done { .. }
    ));
    let now = fs::read(&path).unwrap();
    assert_eq!(now[..raw.len()], raw[..], "the old bytes, then the trailer");
    assert!(is_compacted(&path).unwrap());
    let back = read_cast(&path).unwrap();
    assert!(back.damage.is_empty() && back.events == evs);
    assert_eq!(store.compact(&id).unwrap(), Compacted::Already);
}

#[test]
fn a_recording_of_long_runs_is_compacted_too() {
    // `yes`-like output, where level 22 does worse than the live level 12: level 19
    // does better, so the recording still shrinks.
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let mut meta = SessionMeta::new(SessionId::generate(), 80, 24);
    let mut w = store.create(&meta, &header()).unwrap();
    let evs: Vec<Event> = (0..12_000u64)
        .map(|i| {
            let line = format!("{i:06} {}\r\n", "y".repeat((i % 300) as usize));
            Event::new(1_000 * (i + 1), EventKind::Output(line))
        })
        .collect();
    for (i, ev) in evs.iter().enumerate() {
        if i > 0 && i % 2000 == 0 {
            w.set_fast(i % 4000 == 0).unwrap();
        }
        w.write(ev).unwrap();
    }
    w.finish().unwrap();
    meta.status = Status::Complete;
    store.save_meta(&meta).unwrap();
    let Compacted::Done { before, after, .. } = store.compact(&meta.id).unwrap() else {
        panic!("not compacted");
    };
    assert!(after < before, "{after} of {before}");
    assert_eq!(read_cast(&store.cast_path(&meta.id)).unwrap().events, evs);
}

#[test]
fn a_recording_in_one_frame_keeps_its_frames_and_its_caches_of_them() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let evs = events(3000);
    let mut meta = SessionMeta::new(SessionId::generate(), 100, 30);
    let mut w = store.create(&meta, &header()).unwrap();
    for ev in &evs {
        w.write(ev).unwrap();
    }
    w.finish().unwrap();
    meta.status = Status::Complete;
    store.save_meta(&meta).unwrap();
    let path = store.cast_path(&meta.id);
    let before_marks = frame_marks(&fs::read(&path).unwrap());
    assert_eq!(before_marks.len(), 2, "the header's frame, the events'");
    let Compacted::Done { before, frames, .. } = store.compact(&meta.id).unwrap() else {
        panic!("not compacted");
    };
    assert_eq!(frames, 2);
    // The same lines in the same frames: a cache that points into them still holds.
    assert_eq!(compacted_from(&path).unwrap(), Some(before));
    let marks = frame_marks(&fs::read(&path).unwrap());
    assert_eq!(marks.len(), 2);
    assert_eq!(marks[1].base, before_marks[1].base);
    assert!(read_cast(&path).unwrap().events == evs);
}
