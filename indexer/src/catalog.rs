//! The index's life: where it lives (`<home>/index/`), keeping it in step with the
//! sessions, and rebuilding it when it is missing, outdated or damaged. The sessions
//! come through [`Sessions`], so this crate still knows no session folder.
//!
//! The index is derived data. Beside tantivy's files it keeps `fixcast-sessions.json`,
//! the sessions it holds with a fingerprint of each (what [`Sessions::fingerprint`]
//! says, and the digest of the read-only list the fix records were derived with), so a
//! catalog that opens it catches up with sessions recorded, imported, changed or
//! removed behind its back. A session that could not be indexed because another fixcast
//! held the writer leaves a marker in `index/pending/`; the next writer takes it.
//!
//! Reading never needs free space, nor the writer: a search takes the writer only when
//! there is something to catch up with, and goes on without it when another fixcast
//! holds it. When the index cannot be written (a full disk, a read-only home or index
//! folder), searches read it as it is, told once; when it cannot be read either
//! (missing or damaged, and no room to rebuild it), they search an index built in
//! memory from the sessions.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fixcast_sessions::{error_chain, Again, CommandRecord, ReadOnly, SessionId, SessionMeta};

use crate::catalog_error::{CatalogError, SessionError};
use crate::error::Error;
use crate::hit::Hit;
use crate::index::{CommandIndex, WriterOptions};
use crate::live_written::Written;
use crate::outputs::Outputs;
use crate::query::Query;
use crate::rebuild::Quiet;
use crate::search::Following;
use crate::writer::CommandWriter;

pub(crate) type Result<T, E = CatalogError> = std::result::Result<T, E>;

pub(crate) const STATE_FILE: &str = "fixcast-sessions.json";
const PENDING_DIR: &str = "pending";

/// Writers of one session at a time: small and quick.
pub(crate) const SMALL_WRITER: WriterOptions = WriterOptions {
    heap_bytes: 50_000_000,
    threads: 1,
};

/// Sessions with more output than this are queued for the next search instead of being
/// indexed as they end.
const INDEX_AT_ONCE: u64 = 32 << 20;

/// Where the index of a home lives.
pub fn index_dir(home: &Path) -> PathBuf {
    home.join("index")
}

/// What the catalog needs of the sessions, and how it tells the user things. The binary
/// implements it over the store (and the live cutter for sessions being recorded). It is
/// shared by the threads a page of hits is made on.
pub trait Sessions: Sync {
    /// Every session's id, oldest first.
    fn ids(&self) -> Result<Vec<SessionId>, SessionError>;
    /// A session's metadata (a dead recorder's session repaired first).
    fn meta(&self, id: &SessionId) -> Result<SessionMeta, SessionError>;
    /// A session's commands with their output text; a live one's so far.
    fn commands(&self, meta: &SessionMeta) -> Result<Vec<CommandRecord>, SessionError>;
    /// The output text of commands `wanted` of a session, by seq, as
    /// [`Sessions::commands`] gives it (for the snippets of a page of hits: the index
    /// keeps no copy of most output). One that cannot be found now is left out.
    fn outputs(
        &self,
        id: &SessionId,
        wanted: &[Again],
    ) -> Result<HashMap<u32, String>, SessionError>;
    /// What the session looks like on disk now: a different value means "index again".
    fn fingerprint(&self, id: &SessionId) -> String;
    /// The read-only list fix records are derived with (a bad config is an error).
    fn read_only(&self) -> Result<ReadOnly, SessionError>;
    /// A warning (`fixcast: warning: …`).
    fn warn(&self, msg: &str);
    /// A warning told once per process.
    fn warn_once(&self, msg: &str);
    /// A note on what the catalog does (`fixcast: …`).
    fn notice(&self, msg: &str);
}

/// Indexed sessions and their fingerprints.
pub(crate) type State = BTreeMap<String, String>;

/// How often an opened index is caught up again, for a process that searches often.
struct Refresh {
    every: Duration,
    /// The same while the index cannot be written: each try may cut sessions again
    /// only to fail to write them.
    stale_every: Duration,
    opened: Mutex<Option<(Arc<CommandIndex>, Instant)>>,
}

/// The index of a home, kept in step with its sessions.
pub struct Catalog<S> {
    pub(crate) sessions: S,
    pub(crate) home: PathBuf,
    pub(crate) dir: PathBuf,
    /// What was last written of live sessions.
    pub(crate) written: Written,
    /// Set while the index could not be brought up to date, so that a server searching
    /// twice a second tells it once (and again only after it was up to date meanwhile).
    pub(crate) stale: AtomicBool,
    refresh: Option<Refresh>,
}

/// What a search found, and the index it came from.
pub struct Hits {
    pub hits: Vec<Hit>,
    index: Arc<CommandIndex>,
}

impl Hits {
    /// Commands in the index searched.
    pub fn commands_indexed(&self) -> u64 {
        self.index.num_commands()
    }

    /// The `k` commands that came after each hit in its session, in one query.
    pub fn following(&self, k: usize) -> crate::Result<Following> {
        let at: Vec<(&str, u32)> = self
            .hits
            .iter()
            .map(|h| (h.session.as_str(), h.seq))
            .collect();
        self.index.following_each(&at, k)
    }
}

impl<S: Sessions> Catalog<S> {
    /// The catalog of the index under `home`; every search catches up with the sessions.
    pub fn new(home: &Path, sessions: S) -> Catalog<S> {
        Catalog {
            sessions,
            home: home.to_owned(),
            dir: index_dir(home),
            written: Written::default(),
            stale: AtomicBool::new(false),
            refresh: None,
        }
    }

    /// For a process that searches often (a server): an opened index is searched for
    /// `every` before it is caught up again (`stale_every` while it cannot be written).
    pub fn refreshing(mut self, every: Duration, stale_every: Duration) -> Catalog<S> {
        self.refresh = Some(Refresh {
            every,
            stale_every,
            opened: Mutex::new(None),
        });
        self
    }

    pub fn sessions(&self) -> &S {
        &self.sessions
    }

    /// The index's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether the last search found the index out of date and unwritable.
    pub fn is_stale(&self) -> bool {
        self.stale.load(Ordering::Relaxed)
    }

    /// The best `limit` hits for `query`, from the index caught up with the sessions
    /// (rebuilt when missing, outdated or damaged). Damage that only shows when the index
    /// is read gets it rebuilt once, and the search retried.
    pub fn search(&self, query: &Query, limit: usize) -> Result<Hits> {
        let index = self.index()?;
        let outputs = FromSessions(&self.sessions);
        match index.search(query, limit, &outputs) {
            Ok(hits) => Ok(Hits { hits, index }),
            Err(e) if e.needs_rebuild() => {
                self.forget();
                let index = Arc::new(self.rebuild_or_read(&e)?);
                let hits = index.search(query, limit, &outputs)?;
                Ok(Hits { hits, index })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The index to search: the one opened last while it is fresh enough, else opened
    /// and caught up.
    fn index(&self) -> Result<Arc<CommandIndex>> {
        let Some(refresh) = &self.refresh else {
            return Ok(Arc::new(self.open_for_search()?));
        };
        let mut slot = refresh.opened.lock().unwrap_or_else(|p| p.into_inner());
        let every = if self.is_stale() {
            refresh.stale_every
        } else {
            refresh.every
        };
        if let Some((index, at)) = slot.as_ref() {
            if at.elapsed() < every {
                return Ok(index.clone());
            }
        }
        let index = Arc::new(self.open_for_search()?);
        *slot = Some((index.clone(), Instant::now()));
        Ok(index)
    }

    /// Drops the index opened last: the next search opens and catches up again.
    fn forget(&self) {
        if let Some(r) = &self.refresh {
            *r.opened.lock().unwrap_or_else(|p| p.into_inner()) = None;
        }
    }

    /// The index, ready to search: rebuilt (with one message) when missing, outdated or
    /// damaged, and caught up with the sessions. Where it cannot be written, it is read
    /// as it is (one warning); where it can be neither read nor rebuilt, it is built in
    /// memory.
    fn open_for_search(&self) -> Result<CommandIndex> {
        // A bad config file is the user's to fix, not an index to search as it is.
        self.sessions.read_only()?;
        let index = match CommandIndex::open(&self.dir) {
            Ok(i) => i,
            Err(e) if e.needs_rebuild() => return self.rebuild_or_read(&e),
            Err(e) if e.is_unwritable() => return self.read_as_is(&e.into()),
            Err(e) => return Err(e.into()),
        };
        match self
            .bring_up_to_date(&index)
            .map_err(|e| self.diagnose(&self.dir, e))
        {
            Ok(()) => {
                self.stale.store(false, Ordering::Relaxed);
                Ok(index)
            }
            Err(CatalogError::Index(e)) if e.needs_rebuild() => self.rebuild_or_read(&e),
            // A full disk, a read-only folder: what the index has is still searched.
            Err(e) => {
                self.warn_stale(&e);
                Ok(index)
            }
        }
    }

    /// Writes into the index what changed in the sessions since it was last written;
    /// the writer is taken only when something did.
    fn bring_up_to_date(&self, index: &CommandIndex) -> Result<()> {
        let dir = &self.dir;
        let mut state = load_state(dir);
        let pending = dir.join(PENDING_DIR).is_dir();
        let read_only = self.sessions.read_only()?;
        let changes = self.changes(&state, &read_only)?;
        if changes.is_empty() && !pending {
            return Ok(());
        }
        match self.writer(index, SMALL_WRITER) {
            Ok(mut writer) => {
                if self.catch_up(&mut writer, &mut state, changes)? > 0 || pending {
                    self.commit(&mut writer)?;
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
            Err(CatalogError::Index(Error::Locked)) => {
                if pending {
                    self.sessions.warn("the search index is busy (another fixcast is writing it); sessions queued for it are not searchable yet");
                }
            }
            Err(e) => return Err(e),
        }
        Ok(())
    }

    pub(crate) fn warn_stale(&self, e: &CatalogError) {
        if !self.stale.swap(true, Ordering::Relaxed) {
            self.sessions.warn(&format!(
                "the search index could not be brought up to date ({}); searching what it has",
                error_chain(e)
            ));
        }
    }

    /// The index as it is on disk, written nothing: for a folder that cannot be written.
    fn read_as_is(&self, why: &CatalogError) -> Result<CommandIndex> {
        match CommandIndex::open_read_only(&self.dir) {
            Ok(index) => {
                self.warn_stale(why);
                Ok(index)
            }
            Err(e) if e.needs_rebuild() => self.rebuild_or_read(&e),
            Err(e) => Err(e.into()),
        }
    }

    /// Indexes a session that was just recorded, imported or edited. Never fails: a
    /// problem is told, and the session is caught up with later (a search or reindex).
    pub fn index_new(&self, meta: &SessionMeta) {
        self.index_new_quietly(meta);
        // The next search sees it.
        self.forget();
    }

    fn index_new_quietly(&self, meta: &SessionMeta) {
        if meta.bytes.output > INDEX_AT_ONCE {
            // Cutting a flood into commands takes seconds: never hold up the shell's exit.
            if self.queue(&meta.id).is_ok() {
                self.sessions.notice(&format!(
                    "session {} is large ({} MB of output); the next `fixcast search` indexes it",
                    meta.id.short(),
                    meta.bytes.output >> 20
                ));
                return;
            }
        }
        match self
            .index_session(meta)
            .map_err(|e| self.diagnose(&self.dir, e))
        {
            Ok(()) => {}
            Err(e) if e.is_unreadable() => self.sessions.warn(&not_indexed(&meta.id, &e)),
            Err(e) => self.sessions.warn(&format!(
                "session {}: not indexed for search yet: {}; `fixcast reindex` will do it",
                meta.id.short(),
                error_chain(&e)
            )),
        }
    }

    fn index_session(&self, meta: &SessionMeta) -> Result<()> {
        let dir = &self.dir;
        let index = match CommandIndex::open(dir) {
            Ok(i) => i,
            // A rebuild reads every session, this one included.
            Err(e) if e.needs_rebuild() => {
                return self
                    .rebuild_fresh(&rebuild_reason(&e), &mut Quiet(&self.sessions))
                    .map(|_| ())
            }
            Err(e) => return Err(e.into()),
        };
        let mut writer = match self.writer(&index, SMALL_WRITER) {
            Ok(w) => w,
            Err(CatalogError::Index(Error::Locked)) => {
                self.queue(&meta.id)?;
                self.sessions.notice(&format!(
                    "the search index is busy (another fixcast is writing it); session {} is queued and will be indexed by the next search",
                    meta.id.short()
                ));
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        let mut state = load_state(dir);
        self.write_session(&mut writer, meta, false)?;
        state.insert(
            meta.id.to_string(),
            self.fingerprint(&meta.id, writer.read_only()),
        );
        // Take whatever else is waiting while the writer is ours.
        let changes = self.changes(&state, writer.read_only())?;
        self.catch_up(&mut writer, &mut state, changes)?;
        self.commit(&mut writer)?;
        save_state(dir, &state)?;
        clear_pending(dir);
        Ok(())
    }

    fn queue(&self, id: &SessionId) -> Result<()> {
        let pending = self.dir.join(PENDING_DIR);
        let what = format!("cannot queue session {id} in");
        std::fs::create_dir_all(&pending)
            .and_then(|_| std::fs::write(pending.join(id.as_str()), b""))
            .map_err(CatalogError::file(what, &pending))
    }

    /// The index's writer, deriving fix records with the sessions' read-only list.
    pub(crate) fn writer(
        &self,
        index: &CommandIndex,
        opts: WriterOptions,
    ) -> Result<CommandWriter> {
        let read_only = self.sessions.read_only()?;
        let mut writer = index.writer(opts)?;
        writer.set_read_only(read_only);
        Ok(writer)
    }

    /// A session's fingerprint under a read-only list. Without additions to the list
    /// there is no digest, so an index from before the list existed stays valid.
    pub(crate) fn fingerprint(&self, id: &SessionId, read_only: &ReadOnly) -> String {
        let on_disk = self.sessions.fingerprint(id);
        match read_only.digest() {
            Some(d) => format!("{on_disk}:{d}"),
            None => on_disk,
        }
    }

    /// Writes one session into the index, replacing what it had of it: its commands and
    /// the bytes of text they hold.
    pub(crate) fn write_session(
        &self,
        writer: &mut CommandWriter,
        meta: &SessionMeta,
        fresh: bool,
    ) -> Result<(usize, u64)> {
        let commands = self.sessions.commands(meta)?;
        let bytes = commands
            .iter()
            .map(|c| (c.command.len() + c.output.len()) as u64)
            .sum();
        self.written.write(writer, meta, &commands, fresh)?;
        Ok((commands.len(), bytes))
    }

    /// What differs between the index's state and the sessions: the sessions gone, and
    /// those new or changed since they were indexed.
    fn changes(&self, state: &State, read_only: &ReadOnly) -> Result<Changes> {
        let ids = self.sessions.ids()?;
        let present: BTreeSet<&str> = ids.iter().map(|i| i.as_str()).collect();
        let gone = state
            .keys()
            .filter(|k| !present.contains(k.as_str()))
            .cloned()
            .collect();
        let changed = ids
            .iter()
            .filter(|id| state.get(id.as_str()) != Some(&self.fingerprint(id, read_only)))
            .cloned()
            .collect();
        Ok(Changes { gone, changed })
    }

    /// Brings the index in step with the sessions. A session still being recorded is
    /// indexed with the commands it has so far (the one running included, with its
    /// output so far), and again whenever its recording grows, so live commands are
    /// found while they happen. Returns how many sessions it wrote.
    fn catch_up(
        &self,
        writer: &mut CommandWriter,
        state: &mut State,
        changes: Changes,
    ) -> Result<usize> {
        let mut written = 0;
        for id in changes.gone {
            writer.remove_session(&id);
            self.written.forget(&id);
            state.remove(&id);
            written += 1;
        }
        for id in &changes.changed {
            match self.sessions.meta(id) {
                Ok(meta) => match self.write_session(writer, &meta, false) {
                    Ok(_) => {}
                    Err(e @ CatalogError::Session(_)) => {
                        self.sessions.warn_once(&not_indexed(id, &e))
                    }
                    // The index's fault (no room, say), not the session's: stop here.
                    Err(e) => return Err(e),
                },
                Err(e) => self
                    .sessions
                    .warn_once(&format!("session {id}: not indexed: {e}")),
            }
            // Recorded even when it failed, so a bad session is not retried at every
            // search; after loading: a repair of a dead recorder's session rewrites its
            // meta.json.
            state.insert(id.to_string(), self.fingerprint(id, writer.read_only()));
            written += 1;
        }
        Ok(written)
    }

    /// Commits, or forgets what was written of live sessions (it may not be in the index).
    fn commit(&self, writer: &mut CommandWriter) -> Result<()> {
        writer.commit().inspect_err(|_| self.written.forget_all())?;
        Ok(())
    }
}

/// What a catch-up has to write.
struct Changes {
    gone: Vec<String>,
    changed: Vec<SessionId>,
}

impl Changes {
    fn is_empty(&self) -> bool {
        self.gone.is_empty() && self.changed.is_empty()
    }
}

/// The sessions' recordings as the source of hits' output text: a session that cannot
/// give it is told once, and its hits have no snippet.
struct FromSessions<'a, S>(&'a S);

impl<S: Sessions> Outputs for FromSessions<'_, S> {
    fn outputs(&self, session: &str, wanted: &[Again]) -> HashMap<u32, String> {
        let Ok(id) = session.parse::<SessionId>() else {
            return HashMap::new();
        };
        self.0.outputs(&id, wanted).unwrap_or_else(|e| {
            self.0
                .warn_once(&format!("session {id}: no snippets: {}", e.message));
            HashMap::new()
        })
    }
}

/// Why a session is not in the index. One that cannot be cut is left out for good (its
/// recording is kept, and still replays), the others until the next try.
pub(crate) fn not_indexed(id: &SessionId, e: &CatalogError) -> String {
    if e.is_unreadable() {
        format!("{e}; it is left out of search")
    } else {
        format!("session {id}: not indexed: {}", error_chain(e))
    }
}

/// The one message told when the index is rebuilt by itself.
pub fn rebuild_reason(e: &Error) -> String {
    match e {
        Error::Missing(_) => "no search index yet; building it".to_owned(),
        Error::Outdated { .. } => "the search index is from another version of fixcast".to_owned(),
        other => format!("the search index is damaged ({})", error_chain(other)),
    }
}

pub(crate) fn load_state(dir: &Path) -> State {
    std::fs::read(dir.join(STATE_FILE))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

pub(crate) fn save_state(dir: &Path, state: &State) -> Result<()> {
    let json = serde_json::to_vec(state).expect("a map of strings always serializes");
    fixcast_sessions::write_atomic(&dir.join(STATE_FILE), &json)
        .map_err(|e| CatalogError::from(e).context("cannot save the index's state"))
}

pub(crate) fn clear_pending(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir.join(PENDING_DIR));
}
