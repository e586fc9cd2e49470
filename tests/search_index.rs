//! The index behind `fixcast search` kept current: `reindex` and a rebuild from nothing
//! give the same hits, a damaged index is rebuilt, a session recorded while the index is
//! locked is queued, a flood is indexed by the next search.

use crate::search::{first_command, hit_keys, rec, search, story};
use crate::util::Home;

#[test]
fn reindex_gives_the_same_hits_as_incremental_indexing() {
    let s = story();
    let h = &s.home;
    let queries = [
        "chattr",
        "resolv.conf",
        "chmod",
        "exit:!0",
        "nameserver OR kubectl",
        "-zzzz",
    ];
    let before: Vec<_> = queries.iter().map(|q| hit_keys(h, q)).collect();
    assert!(before.iter().all(|k| !k.is_empty()));
    let out = h.run(&["reindex"]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("indexed") && err.contains("sessions") && err.contains("commands"),
        "{err}"
    );
    let after: Vec<_> = queries.iter().map(|q| hit_keys(h, q)).collect();
    assert_eq!(before, after);
    // And from nothing.
    std::fs::remove_dir_all(h.path().join("index")).unwrap();
    let from_scratch: Vec<_> = queries.iter().map(|q| hit_keys(h, q)).collect();
    assert_eq!(before, from_scratch);
}

#[test]
fn a_damaged_index_is_rebuilt_with_a_message() {
    let home = Home::new();
    rec(&home, home.path(), "lsattr -d /", "attrs");
    rec(&home, home.path(), "echo second", "other");
    let index = home.path().join("index");
    assert_eq!(first_command(&home, "lsattr"), "lsattr -d /");

    std::fs::write(index.join("meta.json"), "{ not json").unwrap();
    let (code, v, err) = search(&home, &["lsattr"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v[0]["command"], "lsattr -d /");
    assert!(
        err.contains("damaged") && err.contains("rebuilding"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "one message: {err}");

    // Every segment file overwritten with junk of the same size.
    for e in std::fs::read_dir(&index).unwrap() {
        let p = e.unwrap().path();
        let ext = p.extension().and_then(|x| x.to_str()).unwrap_or_default();
        if ["idx", "term", "store", "pos", "fast", "fieldnorm"].contains(&ext) {
            let len = std::fs::metadata(&p).unwrap().len() as usize;
            std::fs::write(&p, vec![0xa5u8; len]).unwrap();
        }
    }
    let (code, v, err) = search(&home, &["lsattr"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v[0]["command"], "lsattr -d /");
    assert!(err.contains("rebuilding"), "{err}");

    // An index from another version of fixcast.
    std::fs::write(index.join("fixcast-index-version"), "0\n").unwrap();
    let (code, _, err) = search(&home, &["lsattr"]);
    assert_eq!(code, 0);
    assert!(err.contains("another version"), "{err}");
}

#[test]
fn a_session_recorded_while_the_index_is_locked_is_queued_not_lost() {
    let home = Home::new();
    rec(&home, home.path(), "echo first", "one");
    let lock_path = home.path().join("index/.tantivy-writer.lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .unwrap();
    lock.lock().unwrap();
    let out = home.run(&["rec", "-c", "echo queued-session", "-t", "two"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("queued"), "{err}");
    let pending: Vec<_> = std::fs::read_dir(home.path().join("index/pending"))
        .unwrap()
        .collect();
    assert_eq!(pending.len(), 1);
    lock.unlock().unwrap();
    drop(lock);
    assert_eq!(
        first_command(&home, "queued-session"),
        "echo queued-session"
    );
    assert!(!home.path().join("index/pending").exists());
    // Sessions removed behind the index's back leave it too.
    let id = home.ids()[1].clone();
    home.ok(&["rm", "-y", &id]);
    assert_eq!(search(&home, &["queued-session"]).0, 1);
}

#[test]
fn a_flood_is_indexed_by_the_next_search_not_at_exit() {
    let home = Home::new();
    let out = home
        .cmd(&[
            "rec",
            "-c",
            "head -c 40000000 /dev/zero | tr '\\0' 'x' | fold -w 100; echo needle-after-flood",
        ])
        .stdout(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the next `fixcast search` indexes it"),
        "{err}"
    );
    let (code, hits, err) = search(&home, &["needle-after-flood"]);
    assert_eq!(
        code, 0,
        "the queued session was indexed by the search: {err}"
    );
    assert_eq!(hits.as_array().unwrap().len(), 1);
}
