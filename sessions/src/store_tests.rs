//! The store's view of who is recording a session.

use super::*;
use crate::{Event, EventKind};

fn recording(store: &Store) -> (SessionMeta, CastWriter) {
    let meta = SessionMeta::new(SessionId::generate(), 80, 24);
    let mut w = store.create(&meta, &Header::default()).unwrap();
    w.write(&Event::new(1_000, EventKind::Output("hi\r\n".into())))
        .unwrap();
    (meta, w)
}

#[test]
fn a_recorder_finishing_its_metadata_is_not_taken_for_dead() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let (mut meta, writer) = recording(&store);
    let held = store.hold(&meta.id).unwrap();
    // The recording is finished (its file unlocked); the metadata is not yet final.
    writer.finish().unwrap();
    assert!(store.is_being_recorded(&meta.id));
    let seen = store.load(&meta.id).unwrap();
    assert!(!seen.repaired, "a reader now must not mark it interrupted");
    assert_eq!(seen.meta.status, Status::Recording);
    meta.status = Status::Complete;
    store.save_meta(&meta).unwrap();
    drop(held);
    assert!(!store.is_being_recorded(&meta.id));
    assert_eq!(store.load(&meta.id).unwrap().meta.status, Status::Complete);
}

#[test]
fn a_recorder_that_died_holding_its_session_is_repaired() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let (meta, writer) = recording(&store);
    let held = store.hold(&meta.id).unwrap();
    assert!(store.is_being_recorded(&meta.id));
    assert!(store.hold(&meta.id).is_err(), "one recorder per session");
    assert!(store.remove(&meta.id).is_err(), "not removed while held");
    // What dying releases: both locks.
    writer.finish().unwrap();
    drop(held);
    let seen = store.load(&meta.id).unwrap();
    assert!(seen.repaired);
    assert_eq!(seen.meta.status, Status::Interrupted);
}
