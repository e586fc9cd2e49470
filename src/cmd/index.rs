//! The command layer's side of the index: where it lives (`<home>/index/`), keeping it in
//! step with the store, and rebuilding it when it is missing, outdated or damaged.
//!
//! The index is derived data. Beside tantivy's files it keeps `fixcast-sessions.json`,
//! the sessions it holds with a fingerprint of each (meta.json's mtime, the recording's
//! size, the digest of the config file's read-only list the fix records were derived
//! with), so any command that opens it can catch up with sessions recorded, imported,
//! changed or removed behind its back. A session that could not be indexed because
//! another fixcast held the writer leaves a marker in `index/pending/`; the next writer
//! takes it.
//!
//! Reading never needs free space: when the index cannot be written (a full disk, a
//! read-only home or index folder), searches read it as it is, told once; when it
//! cannot be read either (missing or damaged, and no room to rebuild it), they search an
//! index built in memory from the sessions.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use fixcast_indexer::{CommandIndex, CommandWriter, Error as IndexError, WriterOptions};
use fixcast_sessions::{ReadOnly, SessionId, SessionMeta, Store, CAST_FILE, META_FILE};

use super::commands::{is_unreadable, session_commands, Output};
use super::index_live;
use super::{warn, warn_once};

const STATE_FILE: &str = "fixcast-sessions.json";
const PENDING_DIR: &str = "pending";

/// Writers of one session at a time: small and quick.
const SMALL_WRITER: WriterOptions = WriterOptions {
    heap_bytes: 50_000_000,
    threads: 1,
};
/// Rebuilds: as much as a 2-core machine can use.
const REBUILD_WRITER: WriterOptions = WriterOptions {
    heap_bytes: 200_000_000,
    threads: 2,
};

pub fn index_dir(store: &Store) -> PathBuf {
    store.home().join("index")
}

/// Indexed sessions and their fingerprints.
type State = BTreeMap<String, String>;

fn load_state(dir: &Path) -> State {
    std::fs::read(dir.join(STATE_FILE))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

fn save_state(dir: &Path, state: &State) -> anyhow::Result<()> {
    let path = dir.join(STATE_FILE);
    fixcast_sessions::write_atomic(&path, &serde_json::to_vec(state)?)
        .context("cannot save the index's state")
}

/// What a session looks like on disk now, and the read-only list its fix records are
/// derived with; a different value means "index it again". Without additions to the
/// list there is no digest, so an index from before the list existed stays valid.
fn fingerprint(store: &Store, id: &SessionId, read_only: &ReadOnly) -> String {
    let dir = store.dir(id);
    let meta_mtime = std::fs::metadata(dir.join(META_FILE))
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let cast = std::fs::metadata(dir.join(CAST_FILE)).map_or(0, |m| m.len());
    match read_only.digest() {
        Some(d) => format!("{meta_mtime}:{cast}:{d}"),
        None => format!("{meta_mtime}:{cast}"),
    }
}

/// The index's writer, deriving fix records with the configured read-only list: every
/// writer this binary makes comes from here.
fn writer(
    store: &Store,
    index: &CommandIndex,
    opts: WriterOptions,
) -> anyhow::Result<CommandWriter> {
    let read_only = crate::config::read_only(store)?;
    let mut writer = index.writer(opts)?;
    writer.set_read_only(read_only);
    Ok(writer)
}

fn is_locked(e: &anyhow::Error) -> bool {
    matches!(e.downcast_ref::<IndexError>(), Some(IndexError::Locked))
}

/// Writes one session into the index, replacing what it had of it.
fn write_session(
    store: &Store,
    writer: &mut CommandWriter,
    meta: &SessionMeta,
    fresh: bool,
) -> anyhow::Result<(usize, u64)> {
    let commands = session_commands(store, meta, None, Output::Keep)?;
    let bytes = commands
        .iter()
        .map(|c| (c.command.len() + c.output.len()) as u64)
        .sum();
    index_live::write(writer, meta, &commands, fresh)?;
    Ok((commands.len(), bytes))
}

/// Why a session is not in the index. One that cannot be cut is left out for good (its
/// recording is kept; `fixcast play` still replays it), the others until the next try.
fn not_indexed(id: &SessionId, e: &anyhow::Error) -> String {
    if is_unreadable(e) {
        format!("{e}; it is left out of search")
    } else {
        format!("session {id}: not indexed: {e:#}")
    }
}

/// Sessions with more output than this are queued for the next search instead of being
/// indexed as they end.
const INDEX_AT_ONCE: u64 = 32 << 20;

/// Indexes a session that was just recorded or imported. Never fails: a problem is told
/// on stderr, and the session is caught up with later (`fixcast search` or `reindex`).
pub fn index_session_quietly(store: &Store, meta: &SessionMeta) {
    if meta.bytes.output > INDEX_AT_ONCE {
        // Cutting a flood into commands takes seconds: never hold up the shell's exit.
        let queued = queue(&index_dir(store), &meta.id);
        if queued.is_ok() {
            eprintln!(
                "fixcast: session {} is large ({} MB of output); the next `fixcast search` indexes it",
                meta.id.short(),
                meta.bytes.output >> 20
            );
            return;
        }
    }
    match index_session(store, meta).map_err(|e| diagnose(&index_dir(store), e)) {
        Ok(()) => {}
        Err(e) if is_unreadable(&e) => warn(not_indexed(&meta.id, &e)),
        Err(e) => warn(format_args!(
            "session {}: not indexed for search yet: {e:#}; `fixcast reindex` will do it",
            meta.id.short()
        )),
    }
}

fn index_session(store: &Store, meta: &SessionMeta) -> anyhow::Result<()> {
    let dir = index_dir(store);
    let index = match CommandIndex::open(&dir) {
        Ok(i) => i,
        // A rebuild reads every session, this one included.
        Err(e) if e.needs_rebuild() => {
            return rebuild_fresh(store, &rebuild_reason(&e), false).map(|_| ())
        }
        Err(e) => return Err(e.into()),
    };
    let mut writer = match writer(store, &index, SMALL_WRITER) {
        Ok(w) => w,
        Err(e) if is_locked(&e) => {
            queue(&dir, &meta.id)?;
            eprintln!(
                "fixcast: the search index is busy (another fixcast is writing it); session {} is queued and will be indexed by the next search",
                meta.id.short()
            );
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    let mut state = load_state(&dir);
    write_session(store, &mut writer, meta, false)?;
    state.insert(
        meta.id.to_string(),
        fingerprint(store, &meta.id, writer.read_only()),
    );
    // Take whatever else is waiting while the writer is ours.
    catch_up(store, &mut writer, &mut state)?;
    commit(&mut writer)?;
    save_state(&dir, &state)?;
    clear_pending(&dir);
    Ok(())
}

fn queue(dir: &Path, id: &SessionId) -> anyhow::Result<()> {
    let pending = dir.join(PENDING_DIR);
    std::fs::create_dir_all(&pending)?;
    std::fs::write(pending.join(id.as_str()), b"")
        .with_context(|| format!("cannot queue session {id} in {}", pending.display()))
}

fn clear_pending(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir.join(PENDING_DIR));
}

/// Brings the index in step with the store: sessions new or changed since they were
/// indexed, and those removed. A session still being recorded is indexed with the
/// commands it has so far (the one running included, with its output so far), and again
/// whenever its recording grows, so live commands are found while they happen.
/// Returns how many sessions it wrote.
fn catch_up(store: &Store, writer: &mut CommandWriter, state: &mut State) -> anyhow::Result<usize> {
    let ids = store.ids()?;
    let mut changed = 0;
    let present: std::collections::BTreeSet<&str> = ids.iter().map(|i| i.as_str()).collect();
    let gone: Vec<String> = state
        .keys()
        .filter(|k| !present.contains(k.as_str()))
        .cloned()
        .collect();
    for id in gone {
        writer.remove_session(&id);
        index_live::forget(&id);
        state.remove(&id);
        changed += 1;
    }
    for id in &ids {
        let fp = fingerprint(store, id, writer.read_only());
        if state.get(id.as_str()) == Some(&fp) {
            continue;
        }
        match store.load(id) {
            Ok(listed) => match write_session(store, writer, &listed.meta, false) {
                Ok(_) => {}
                // The index's fault (no room, say), not the session's: stop here.
                Err(e) if e.is::<IndexError>() => return Err(e),
                Err(e) => warn_once(format_args!("{}", not_indexed(id, &e))),
            },
            Err(e) => warn_once(format_args!(
                "session {id}: not indexed: {}",
                fixcast_sessions::error_chain(&e)
            )),
        }
        // Recorded even when it failed, so a bad session is not retried at every search.
        state.insert(id.to_string(), fingerprint(store, id, writer.read_only()));
        changed += 1;
    }
    Ok(changed)
}

/// Commits, or forgets what was written of live sessions (it may not be in the index).
fn commit(writer: &mut CommandWriter) -> anyhow::Result<()> {
    writer.commit().inspect_err(|_| index_live::forget_all())?;
    Ok(())
}

/// The index, ready to search: rebuilt (with one message) when missing, outdated or
/// damaged, and caught up with the store. Where it cannot be written, it is read as it
/// is (one warning); where it can be neither read nor rebuilt, it is built in memory.
pub fn open_for_search(store: &Store) -> anyhow::Result<CommandIndex> {
    // A bad config file is the user's to fix, not an index to search as it is.
    crate::config::read_only(store)?;
    let dir = index_dir(store);
    let index = match CommandIndex::open(&dir) {
        Ok(i) => i,
        Err(e) if e.needs_rebuild() => return rebuild_or_read(store, &e),
        Err(e) if e.is_unwritable() => return read_as_is(store, &dir, &e.into()),
        Err(e) => return Err(e.into()),
    };
    match bring_up_to_date(store, &dir, &index).map_err(|e| diagnose(&dir, e)) {
        Ok(()) => {
            STALE.store(false, Ordering::Relaxed);
            Ok(index)
        }
        Err(e) => match e.downcast::<IndexError>() {
            Ok(e) if e.needs_rebuild() => rebuild_or_read(store, &e),
            // A full disk, a read-only folder: what the index has is still searched.
            Ok(e) => {
                warn_stale(&e.into());
                Ok(index)
            }
            Err(e) => {
                warn_stale(&e);
                Ok(index)
            }
        },
    }
}

/// Writes into the index what changed in the store since it was last written.
fn bring_up_to_date(store: &Store, dir: &Path, index: &CommandIndex) -> anyhow::Result<()> {
    let mut state = load_state(dir);
    let pending = dir.join(PENDING_DIR).is_dir();
    match writer(store, index, SMALL_WRITER) {
        Ok(mut writer) => {
            if catch_up(store, &mut writer, &mut state)? > 0 || pending {
                commit(&mut writer)?;
                // What was committed is searched even if the state cannot be saved
                // (its sessions are only written again next time).
                let saved = save_state(dir, &state);
                if saved.is_ok() {
                    clear_pending(dir);
                }
                index.reload()?;
                saved?;
            }
        }
        Err(e) if is_locked(&e) => {
            if pending {
                warn("the search index is busy (another fixcast is writing it); sessions queued for it are not searchable yet");
            }
        }
        Err(e) => return Err(e),
    }
    Ok(())
}

/// Set while the index could not be brought up to date, so that a server searching
/// twice a second tells it once (and again only after it was up to date meanwhile).
static STALE: AtomicBool = AtomicBool::new(false);

/// Whether the last search found the index out of date and unwritable (a server then
/// retries less often).
pub fn is_stale() -> bool {
    STALE.load(Ordering::Relaxed)
}

fn warn_stale(e: &anyhow::Error) {
    if !STALE.swap(true, Ordering::Relaxed) {
        warn(format_args!(
            "the search index could not be brought up to date ({e:#}); searching what it has"
        ));
    }
}

/// The index as it is on disk, written nothing: for a folder that cannot be written.
fn read_as_is(store: &Store, dir: &Path, why: &anyhow::Error) -> anyhow::Result<CommandIndex> {
    match CommandIndex::open_read_only(dir) {
        Ok(index) => {
            warn_stale(why);
            Ok(index)
        }
        Err(e) if e.needs_rebuild() => rebuild_or_read(store, &e),
        Err(e) => Err(e.into()),
    }
}

/// Rebuilds a missing or damaged index; where that cannot be done on disk (no room, a
/// read-only home), builds one in memory from the sessions, so search still answers.
pub fn rebuild_or_read(store: &Store, why: &IndexError) -> anyhow::Result<CommandIndex> {
    let e = match rebuild_fresh(store, &rebuild_reason(why), false) {
        Ok(index) => return Ok(index),
        Err(e) => e,
    };
    if !STALE.swap(true, Ordering::Relaxed) {
        warn(format_args!("{e:#}; searching the sessions without it"));
    }
    in_memory(store)
}

/// Every session indexed in memory: slower than the index on disk, and forgotten at exit.
fn in_memory(store: &Store) -> anyhow::Result<CommandIndex> {
    let index = CommandIndex::in_ram();
    let mut writer = writer(store, &index, REBUILD_WRITER)?;
    let filled = fill(store, &mut writer, false).map(|(_, state, _)| state);
    // What was written of live sessions is in this index, not the one on disk.
    index_live::forget_all();
    filled?;
    writer.finish()?;
    index.reload()?;
    Ok(index)
}

/// The one message told when the index is rebuilt by itself.
pub fn rebuild_reason(e: &IndexError) -> String {
    match e {
        IndexError::Missing(_) => "no search index yet; building it".to_owned(),
        IndexError::Outdated { .. } => {
            "the search index is from another version of fixcast".to_owned()
        }
        other => format!(
            "the search index is damaged ({})",
            fixcast_sessions::error_chain(other)
        ),
    }
}

/// What a rebuild did.
pub struct Built {
    pub sessions: usize,
    pub commands: usize,
    pub bytes: u64,
}

/// Builds a new index from every session in a folder beside the old one, then puts it
/// in its place: a reader never sees a half-built index, and a failure leaves the old one.
pub fn rebuild_fresh(store: &Store, reason: &str, progress: bool) -> anyhow::Result<CommandIndex> {
    let dir = index_dir(store);
    if !reason.is_empty() {
        let verb = if reason.contains("building it") {
            ""
        } else {
            "; rebuilding it"
        };
        eprintln!("fixcast: {reason}{verb} from the sessions");
    }
    let tmp = store
        .home()
        .join(format!("index.new-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let built = (|| -> anyhow::Result<Built> {
        let index = CommandIndex::create(&tmp)?;
        let mut writer = writer(store, &index, REBUILD_WRITER)?;
        let (built, state, p) = fill(store, &mut writer, progress)?;
        writer.finish()?;
        save_state(&tmp, &state)?;
        p.done(&built);
        Ok(built)
    })();
    if let Err(e) = built.map_err(|e| diagnose(&tmp, e)) {
        index_live::forget_all();
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e.context("cannot rebuild the search index"));
    }
    let old = store
        .home()
        .join(format!("index.old-{}", std::process::id()));
    if dir.exists() {
        std::fs::rename(&dir, &old).with_context(|| format!("cannot replace {}", dir.display()))?;
    }
    std::fs::rename(&tmp, &dir)
        .with_context(|| format!("cannot move the new index to {}", dir.display()))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(CommandIndex::open(&dir)?)
}

/// Rebuilds the index where it is (a writer's lock held): used when it is healthy, so a
/// reader keeps its view until the commit.
pub fn rebuild_in_place(store: &Store, index: &CommandIndex) -> anyhow::Result<Built> {
    let dir = index_dir(store);
    let mut writer = match writer(store, index, REBUILD_WRITER) {
        Ok(w) => w,
        Err(e) if is_locked(&e) => anyhow::bail!(
            "the search index is in use by another fixcast (a recording or server writing it); try again when it ends"
        ),
        Err(e) => return Err(e),
    };
    let built = (|| {
        writer.clear()?;
        index_live::forget_all();
        let (built, state, p) = fill(store, &mut writer, true)?;
        writer.finish().inspect_err(|_| index_live::forget_all())?;
        save_state(&dir, &state)?;
        p.done(&built);
        anyhow::Ok(built)
    })()
    .map_err(|e| diagnose(&dir, e))?;
    clear_pending(&dir);
    index.reload()?;
    Ok(built)
}

/// A writer that failed in one of its threads tells only that it did ("an index writer
/// was killed"), not why. When the index's folder cannot be written now (a full disk),
/// that is why, and it is no damage: the index is still there to read.
fn diagnose(dir: &Path, e: anyhow::Error) -> anyhow::Error {
    if !matches!(e.downcast_ref::<IndexError>(), Some(IndexError::Index(_))) {
        return e;
    }
    let probe = dir.join(format!(".fixcast-probe-{}", std::process::id()));
    let written = std::fs::write(&probe, [0u8; 4096]);
    let _ = std::fs::remove_file(&probe);
    match written {
        Err(source) => {
            let why = IndexError::Io {
                path: dir.to_owned(),
                source,
            };
            if why.is_unwritable() {
                why.into()
            } else {
                e
            }
        }
        Ok(()) => e,
    }
}

/// Adds every session (oldest first, like incremental indexing) to an empty index. The
/// caller tells the progress done once the index is written (not before it failed).
fn fill(
    store: &Store,
    writer: &mut CommandWriter,
    progress: bool,
) -> anyhow::Result<(Built, State, Progress)> {
    let ids = store.ids()?;
    let mut p = Progress::new(progress, ids.len());
    let mut state = State::new();
    let mut built = Built {
        sessions: 0,
        commands: 0,
        bytes: 0,
    };
    for id in &ids {
        match store.load(id) {
            Ok(listed) => match write_session(store, writer, &listed.meta, true) {
                Ok((n, bytes)) => {
                    built.commands += n;
                    built.bytes += bytes;
                }
                // The index's fault (no room, say): the build cannot go on.
                Err(e) if e.is::<IndexError>() => return Err(e),
                Err(e) => p.warn(format_args!("{}", not_indexed(id, &e))),
            },
            Err(e) => p.warn(format_args!(
                "session {id}: not indexed: {}",
                fixcast_sessions::error_chain(&e)
            )),
        }
        // After loading: a repair of a dead recorder's session rewrites its meta.json.
        state.insert(id.to_string(), fingerprint(store, id, writer.read_only()));
        built.sessions += 1;
        p.update(&built);
    }
    Ok((built, state, p))
}

/// Progress on stderr: one line rewritten in place on a terminal, plain lines (at most
/// one a second) otherwise.
struct Progress {
    on: bool,
    tty: bool,
    total: usize,
    start: Instant,
    last: Option<Instant>,
}

impl Progress {
    fn new(on: bool, total: usize) -> Progress {
        Progress {
            on,
            tty: std::io::stderr().is_terminal(),
            total,
            start: Instant::now(),
            last: None,
        }
    }

    fn line(&self, b: &Built) -> String {
        format!(
            "indexing: {}/{} sessions, {} commands, {:.1} MB",
            b.sessions,
            self.total,
            b.commands,
            b.bytes as f64 / 1e6
        )
    }

    fn update(&mut self, b: &Built) {
        if !self.on {
            return;
        }
        let every = if self.tty {
            Duration::from_millis(100)
        } else {
            Duration::from_secs(1)
        };
        if self.last.is_some_and(|t| t.elapsed() < every) {
            return;
        }
        self.last = Some(Instant::now());
        let mut err = std::io::stderr().lock();
        let _ = if self.tty {
            write!(err, "\r\x1b[K{}", self.line(b))
        } else {
            writeln!(err, "{}", self.line(b))
        };
    }

    fn warn(&self, msg: std::fmt::Arguments<'_>) {
        if self.on && self.tty {
            eprint!("\r\x1b[K");
        }
        warn_once(msg);
    }

    fn done(&self, b: &Built) {
        if !self.on {
            return;
        }
        if self.tty {
            eprint!("\r\x1b[K");
        }
        eprintln!(
            "indexed {} sessions, {} commands, {:.1} MB in {:.1} s",
            b.sessions,
            b.commands,
            b.bytes as f64 / 1e6,
            self.start.elapsed().as_secs_f64()
        );
    }
}
