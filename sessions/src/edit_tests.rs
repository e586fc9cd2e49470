//! Edits: what is accepted, what is refused (and then nothing written).

use super::*;
use crate::asciicast::Header;
use crate::command::CommandSource;

fn complete(store: &Store) -> SessionMeta {
    let mut meta = SessionMeta::new(SessionId::generate(), 80, 24);
    let w = store.create(&meta, &Header::default()).unwrap();
    w.finish().unwrap();
    meta.status = Status::Complete;
    meta.tags = vec!["old".into()];
    store.save_meta(&meta).unwrap();
    meta
}

fn three(_: &SessionMeta) -> Result<Vec<CommandRecord>, EditError> {
    Ok((1..=3)
        .map(|seq| CommandRecord::new(seq, 0.0, 1.0, "true".into(), CommandSource::Integration))
        .collect())
}

fn on_disk(store: &Store, id: &SessionId) -> Vec<u8> {
    std::fs::read(store.dir(id).join(crate::META_FILE)).unwrap()
}

#[test]
fn an_edit_sets_clears_adds_and_removes() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let meta = complete(&store);
    let edit = Edit {
        title: Some(Some("  fixed it ".into())),
        tags: vec![
            TagEdit::Add("dns".into()),
            TagEdit::Add("dns".into()),
            TagEdit::Remove("old".into()),
            TagEdit::Remove("never-there".into()),
        ],
        notes: Some(Some("use chattr".into())),
        fix_seq: Some(Some(2)),
    };
    let edited = edit.apply(&store, &meta.id, three).unwrap();
    assert_eq!(edited.before.tags, ["old"]);
    let saved = store.load(&meta.id).unwrap().meta;
    assert_eq!(saved, edited.meta);
    assert_eq!(saved.title.as_deref(), Some("fixed it"));
    assert_eq!(saved.tags, ["dns"]);
    assert_eq!(saved.notes.as_deref(), Some("use chattr"));
    assert_eq!(saved.fix_seq, Some(2));

    let clear = Edit {
        title: Some(Some("   ".into())),
        notes: Some(None),
        fix_seq: Some(None),
        tags: vec![TagEdit::Set(vec![
            "a".into(),
            "".into(),
            "a".into(),
            "b".into(),
        ])],
    };
    let never = |_: &SessionMeta| -> Result<Vec<CommandRecord>, EditError> {
        panic!("commands are asked for only to check a fix")
    };
    let saved = clear.apply(&store, &meta.id, never).unwrap().meta;
    assert_eq!(saved.title, None);
    assert_eq!(saved.notes, None);
    assert_eq!(saved.fix_seq, None);
    assert_eq!(saved.tags, ["a", "b"]);
}

#[test]
fn a_refused_edit_writes_nothing() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let meta = complete(&store);
    let before = on_disk(&store, &meta.id);
    let refused = |edit: Edit| edit.apply(&store, &meta.id, three).unwrap_err();

    let e = refused(Edit {
        fix_seq: Some(Some(9)),
        title: Some(Some("kept out".into())),
        ..Edit::default()
    });
    assert!(
        matches!(
            e,
            EditError::NoCommand {
                seq: 9,
                count: 3,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        format!("session {}: no command 9 (it has 3)", meta.id.short())
    );
    let e = refused(Edit {
        title: Some(Some("t".repeat(MAX_TITLE + 1))),
        ..Edit::default()
    });
    assert_eq!(e.to_string(), "title: at most 300 characters");
    let e = refused(Edit {
        notes: Some(Some("n".repeat(MAX_NOTES + 1))),
        ..Edit::default()
    });
    assert!(matches!(e, EditError::TooLong { field: "notes", .. }));
    for bad in ["two words", "a,b", "tab\there", &"x".repeat(MAX_TAG + 1)] {
        let e = refused(Edit {
            tags: vec![TagEdit::Add(bad.into())],
            ..Edit::default()
        });
        assert!(matches!(e, EditError::BadTag(_)), "{bad:?}: {e}");
    }
    let e = refused(Edit {
        tags: vec![TagEdit::Add(" ".into())],
        ..Edit::default()
    });
    assert!(matches!(e, EditError::EmptyTag), "{e}");
    let many: Vec<TagEdit> = (0..MAX_TAGS)
        .map(|i| TagEdit::Add(format!("t{i}")))
        .collect();
    let e = refused(Edit {
        tags: many,
        ..Edit::default()
    });
    assert!(matches!(e, EditError::TooManyTags), "with the one it had");
    let e = refused(Edit {
        tags: vec![TagEdit::Set(
            (0..=MAX_TAGS).map(|i| format!("t{i}")).collect(),
        )],
        ..Edit::default()
    });
    assert!(matches!(e, EditError::TooManyTags));
    let e = Edit::default()
        .apply(&store, &SessionId::generate(), three)
        .unwrap_err();
    assert!(matches!(e, EditError::Store(Error::Io { .. })), "{e}");
    assert!(before == on_disk(&store, &meta.id));
}

#[test]
fn a_session_being_recorded_is_not_edited() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let meta = SessionMeta::new(SessionId::generate(), 80, 24);
    let _writer = store.create(&meta, &Header::default()).unwrap();
    let _held = store.hold(&meta.id).unwrap();
    let before = on_disk(&store, &meta.id);
    let e = Edit {
        title: Some(Some("mine".into())),
        ..Edit::default()
    }
    .apply(&store, &meta.id, three)
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "session {}: being recorded; edit it when it ends",
            meta.id.short()
        )
    );
    assert!(before == on_disk(&store, &meta.id));
}

#[test]
fn edits_made_at_once_keep_each_other() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let meta = complete(&store);
    // Each edit is a read, a change and a write: without the lock, one overwrites
    // another's tag.
    std::thread::scope(|s| {
        for i in 0..16 {
            let (store, id) = (&store, &meta.id);
            s.spawn(move || {
                Edit {
                    tags: vec![TagEdit::Add(format!("t{i}"))],
                    ..Edit::default()
                }
                .apply(store, id, three)
                .unwrap();
            });
        }
    });
    assert_eq!(store.load(&meta.id).unwrap().meta.tags.len(), 17);
}
