//! A damaged document store: noise that decompresses into a document with a garbage
//! length is an error (the catalog rebuilds), never an abort.

use std::path::Path;
use std::process::Command;

use fixcast_sessions::{CommandRecord, SessionMeta};
use time::macros::datetime;

use crate::tests::cmd;
use crate::{CommandIndex, WriterOptions};

/// The child's half of [`a_damaged_store_is_an_error_not_an_abort`] finds the damaged
/// index here.
const CHILD_ENV: &str = "FIXCAST_TEST_DAMAGED_INDEX";
const SESSION: &str = "01JD3QZ9X5K2M8N4P6R7S9T0VW";

/// 200 commands of one session (one block of the doc store), every byte fixed (id, start, host): the same index, so
/// the same store file, whenever it is built.
pub(crate) fn fixed_session() -> (SessionMeta, Vec<CommandRecord>) {
    let mut meta = SessionMeta::new(SESSION.parse().unwrap(), 80, 24);
    meta.started = datetime!(2026-01-02 03:04:05 UTC);
    meta.host = "node1".into();
    meta.user = "root".into();
    meta.shell = "/bin/bash".into();
    let cmds = (1..=200)
        .map(|i| {
            let out = format!("stored output {i} ").repeat(20);
            cmd(i, &format!("echo stored {i}"), &out, Some(0))
        })
        .collect();
    (meta, cmds)
}

/// The fixed session indexed in `dir` by one thread: one segment, one store file.
pub(crate) fn build_fixed(dir: &Path) -> std::path::PathBuf {
    let index = CommandIndex::create(dir).unwrap();
    let mut w = index
        .writer(WriterOptions {
            threads: 1,
            ..WriterOptions::default()
        })
        .unwrap();
    let (meta, cmds) = fixed_session();
    w.index_session(&meta, &cmds).unwrap();
    w.commit().unwrap();
    let stores: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "store"))
        .collect();
    assert_eq!(stores.len(), 1, "one segment");
    stores[0].clone()
}

fn u32_at(b: &[u8], at: usize) -> usize {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize
}

/// Damage that still decompresses, as noise in a block sometimes does (tantivy's blocks
/// have no checksum): the store's one block decompressed, the length of document `doc`'s
/// first text (its session id) written over with 4 TB (9 bytes of VInt), compressed
/// again and padded to its old size with a zstd skippable frame. The file keeps its
/// size; tantivy 0.27 reserved the 4 TB when it read that document, and aborted.
fn damage(store: &Path, doc: usize) {
    let mut file = std::fs::read(store).unwrap();
    // tantivy's file footer (JSON, its length, a magic number), then the store's own
    // (28 bytes: version, where the blocks end, compressor, reserved).
    let body = file.len() - 8 - u32_at(&file, file.len() - 8);
    let blocks_end = u64::from_le_bytes(file[body - 24..body - 16].try_into().unwrap()) as usize;
    let size = u32_at(&file, 0);
    let mut block = zstd::bulk::decompress(&file[4..blocks_end], size).unwrap();
    // The block's end: each document's start, then how many.
    let docs = u32_at(&block, block.len() - 4);
    let starts = block.len() - 4 * (docs + 1);
    let at = u32_at(&block, starts + 4 * doc) + 6;
    assert_eq!(block[at], 0x80 | 26, "the session id's length");
    block[at..at + 9].copy_from_slice(&[0, 0, 0, 0, 0, 0x7f, 0, 0, 0x80]);
    let packed = zstd::bulk::compress(&block, 19).unwrap();
    let room = blocks_end - 4;
    assert!(
        packed.len() + 8 <= room,
        "the block compresses smaller again"
    );
    let pad = room - packed.len() - 8;
    let mut rewritten = (size as u32).to_le_bytes().to_vec();
    rewritten.extend(&packed);
    rewritten.extend(0x184d_2a50u32.to_le_bytes());
    rewritten.extend((pad as u32).to_le_bytes());
    rewritten.resize(blocks_end, 0);
    file[..blocks_end].copy_from_slice(&rewritten);
    std::fs::write(store, file).unwrap();
}

#[test]
fn a_damaged_store_is_an_error_not_an_abort() {
    for doc in [0, 117] {
        let dir = tempfile::tempdir().unwrap();
        damage(&build_fixed(dir.path()), doc);
        // An abort takes the whole process: the reads run in a child.
        let out = Command::new(std::env::current_exe().unwrap())
            .args([
                "stored_tests::child_reads_the_damaged_index",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, dir.path())
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "damage in document {doc}: the child ended with {:?}\n{said}\n{err}",
            out.status
        );
        assert!(
            said.contains("search: rebuild") && said.contains("following: rebuild"),
            "damage in document {doc}: {said}"
        );
    }
}

/// The child: every document read by a search and by `following`, on the index in
/// [`CHILD_ENV`] (only when run by the test above).
#[test]
fn child_reads_the_damaged_index() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let index = CommandIndex::open(Path::new(&dir)).unwrap();
    let q = crate::parse("stored", &crate::ParseContext::default()).unwrap();
    let tell = |what: &str, r: crate::Result<usize>| match r {
        Ok(n) => println!("{what}: {n} read"),
        Err(e) if e.needs_rebuild() => println!("{what}: rebuild ({e})"),
        Err(e) => println!("{what}: error {e}"),
    };
    tell(
        "search",
        index.search(&q, 200, &crate::NoOutputs).map(|h| h.len()),
    );
    tell(
        "following",
        index.following(SESSION, 0, 200).map(|h| h.len()),
    );
}

/// Every kind of document the writer stores: every optional field there and not, tags
/// one and many, long and multi-byte text (lengths of one, two and three VInt bytes),
/// look-alikes, fix records and a marked fix, failures with and without an exit status.
fn every_kind() -> Vec<(SessionMeta, Vec<CommandRecord>)> {
    let plain = fixed_session();
    let mut rich = SessionMeta::new(fixcast_sessions::SessionId::generate(), 80, 24);
    rich.title = Some("résolv.conf est immuable 中".into());
    rich.tags = vec!["prod".into(), "dns".into(), "".into()];
    rich.notes = Some("notes are indexed, not stored".into());
    rich.cwd = "/etc".into();
    rich.fix_seq = Some(4);
    let mut cmds = vec![
        cmd(
            1,
            "echo x >> app.conf",
            "bash: app.conf: Operation not permitted",
            Some(1),
        ),
        cmd(
            2,
            "lsattr app.conf",
            "----i---------e------- app.conf",
            Some(0),
        ),
        cmd(3, "kubeсtl get pods", "", None),
        cmd(4, "chattr -i app.conf", "", Some(0)),
        cmd(
            5,
            "echo x >> app.conf",
            &"long line 中\n".repeat(3000),
            Some(0),
        ),
        cmd(6, "false", &"x".repeat(200), Some(-1)),
    ];
    cmds[0].note_errors();
    cmds[0].cwd = None;
    // Sizes known: where each renders again from and its terminal's size are stored.
    for c in &mut cmds[1..5] {
        c.size = Some((132, 43));
    }
    cmds[5].source = fixcast_sessions::CommandSource::Heuristic;
    vec![plain, (rich, cmds)]
}

#[test]
fn every_kind_of_document_the_writer_stores_decodes_as_tantivy_decodes_it() {
    let index = CommandIndex::in_ram();
    let mut w = index.writer(WriterOptions::default()).unwrap();
    for (meta, cmds) in every_kind() {
        w.index_session(&meta, &cmds).unwrap();
    }
    w.commit().unwrap();
    index.reload().unwrap();
    let searcher = index.reader.searcher();
    let schema = searcher.schema();
    let mut seen = std::collections::BTreeSet::new();
    let mut docs = 0;
    for (ord, segment) in searcher.segment_readers().iter().enumerate() {
        for doc in 0..segment.max_doc() {
            let addr = tantivy::DocAddress::new(ord as u32, doc);
            let theirs: tantivy::TantivyDocument = searcher.doc(addr).unwrap();
            let ours = index.stores.doc(&searcher, addr).unwrap();
            assert_eq!(ours, theirs, "document {doc}");
            seen.extend(ours.field_values().map(|(f, _)| f));
            docs += 1;
        }
    }
    assert_eq!(docs, 206);
    // Every stored field was there at least once: a field stored as a new type fails.
    let stored: std::collections::BTreeSet<_> = schema
        .fields()
        .filter(|(_, e)| e.is_stored())
        .map(|(f, _)| f)
        .collect();
    assert_eq!(seen, stored);
}

#[test]
fn a_length_past_the_end_a_bad_type_or_trailing_bytes_are_damage() {
    let index = CommandIndex::in_ram();
    let schema = index.index.schema();
    let mut w = index.writer(WriterOptions::default()).unwrap();
    let (meta, cmds) = fixed_session();
    w.index_session(&meta, &cmds[..1]).unwrap();
    w.commit().unwrap();
    index.reload().unwrap();
    let searcher = index.reader.searcher();
    let store = searcher.segment_readers()[0].get_store_reader(0).unwrap();
    let good = store.get_document_bytes(0).unwrap().as_slice().to_vec();
    assert!(crate::stored::decode(&good, &schema).is_ok());
    // The session id's length (the first value: field, type, then its VInt) says 2^56.
    let mut huge = good.clone();
    let at = 1 + 4 + 1;
    assert_eq!(huge[at], 0x80 | 26, "the session id's length");
    huge.splice(at..=at, [0, 0, 0, 0, 0, 0, 0, 0, 0x81]);
    let why = crate::stored::decode(&huge, &schema).unwrap_err();
    assert!(why.contains("a length of 72057594037927936"), "{why}");
    let mut count = good.clone();
    count[0] = 0x80 | 100;
    assert!(crate::stored::decode(&count, &schema).is_err());
    let mut kind = good.clone();
    kind[5] = 7;
    assert!(crate::stored::decode(&kind, &schema).is_err());
    let mut trailing = good.clone();
    trailing.push(0);
    assert!(crate::stored::decode(&trailing, &schema).is_err());
    for cut in 0..good.len() {
        assert!(
            crate::stored::decode(&good[..cut], &schema).is_err(),
            "cut at {cut}"
        );
    }
}
