//! Rebuilding a catalog's index from every session: beside the old one and swapped in
//! (a reader never sees a half-built index), in place under the writer's lock (a reader
//! keeps its view until the commit), or in memory when the disk allows neither.

use std::sync::atomic::Ordering;

use fixcast_sessions::error_chain;

use crate::catalog::{clear_pending, not_indexed, rebuild_reason, save_state, Catalog, Result};
use crate::catalog::{Sessions, State};
use crate::catalog_error::CatalogError;
use crate::error::Error;
use crate::index::{CommandIndex, WriterOptions};
use crate::writer::CommandWriter;

/// Rebuilds: as much as a 2-core machine can use.
const REBUILD_WRITER: WriterOptions = WriterOptions {
    heap_bytes: 200_000_000,
    threads: 2,
};

/// What a rebuild did.
#[derive(Debug, Clone, Default)]
pub struct Built {
    pub sessions: usize,
    pub commands: usize,
    pub bytes: u64,
}

/// Told how a rebuild goes (the CLI draws a progress line).
pub trait Progress {
    /// The rebuild starts with this many sessions.
    fn start(&mut self, sessions: usize);
    /// One more session is written.
    fn update(&mut self, built: &Built);
    /// A session was left out (the caller tells the message once).
    fn warn(&mut self, msg: &str);
    /// The index is written.
    fn done(&mut self, built: &Built);
}

/// No progress shown: a session left out is warned of once, as any other.
pub(crate) struct Quiet<'a, S>(pub(crate) &'a S);

impl<S: Sessions> Progress for Quiet<'_, S> {
    fn start(&mut self, _: usize) {}
    fn update(&mut self, _: &Built) {}
    fn warn(&mut self, msg: &str) {
        self.0.warn_once(msg);
    }
    fn done(&mut self, _: &Built) {}
}

impl<S: Sessions> Catalog<S> {
    /// Rebuilds the index from the sessions alone (`fixcast reindex`): in place when it
    /// is healthy, so searches keep working meanwhile and a fixcast writing it is waited
    /// for rather than overrun; else a new one beside it.
    pub fn rebuild(&self, progress: &mut dyn Progress) -> Result<Built> {
        match CommandIndex::open(&self.dir) {
            Ok(index) => match self.rebuild_in_place(&index, progress) {
                Ok(built) => Ok(built),
                // Damaged, or its folder (a file in it) cannot be written: a new index
                // beside it may be. Its warnings about sessions are not told again.
                Err(e)
                    if e.index_error()
                        .is_some_and(|e| e.needs_rebuild() || e.is_unwritable()) =>
                {
                    self.sessions.warn(&format!(
                        "{}; building a new index instead",
                        error_chain(&e)
                    ));
                    drop(index);
                    self.rebuild_fresh("", progress).map(|(_, b)| b)
                }
                Err(e) => Err(e.context("cannot rebuild the search index")),
            },
            Err(e) if e.needs_rebuild() => self.rebuild_fresh("", progress).map(|(_, b)| b),
            Err(e) => Err(CatalogError::from(e).context("cannot rebuild the search index")),
        }
    }

    /// Rebuilds a missing or damaged index; where that cannot be done on disk (no room,
    /// a read-only home), builds one in memory from the sessions, so search still answers.
    pub(crate) fn rebuild_or_read(&self, why: &Error) -> Result<CommandIndex> {
        let e = match self.rebuild_fresh(&rebuild_reason(why), &mut Quiet(&self.sessions)) {
            Ok((index, _)) => return Ok(index),
            Err(e) => e,
        };
        if !self.stale.swap(true, Ordering::Relaxed) {
            self.sessions.warn(&format!(
                "{}; searching the sessions without it",
                error_chain(&e)
            ));
        }
        self.in_memory()
    }

    /// Every session indexed in memory: slower than the index on disk, and forgotten at
    /// exit.
    fn in_memory(&self) -> Result<CommandIndex> {
        let index = CommandIndex::in_ram();
        let mut writer = self.writer(&index, REBUILD_WRITER)?;
        let filled = self
            .fill(&mut writer, &mut Quiet(&self.sessions))
            .map(|(_, state)| state);
        // What was written of live sessions is in this index, not the one on disk.
        self.written.forget_all();
        filled?;
        writer.finish()?;
        index.reload()?;
        Ok(index)
    }

    /// Builds a new index from every session in a folder beside the old one, then puts
    /// it in its place: a reader never sees a half-built index, and a failure leaves the
    /// old one. `reason`, when not empty, is told first.
    pub(crate) fn rebuild_fresh(
        &self,
        reason: &str,
        progress: &mut dyn Progress,
    ) -> Result<(CommandIndex, Built)> {
        let dir = &self.dir;
        if !reason.is_empty() {
            let verb = if reason.contains("building it") {
                ""
            } else {
                "; rebuilding it"
            };
            self.sessions
                .notice(&format!("{reason}{verb} from the sessions"));
        }
        let tmp = self.home.join(format!("index.new-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        let built = (|| -> Result<Built> {
            let index = CommandIndex::create(&tmp)?;
            let mut writer = self.writer(&index, REBUILD_WRITER)?;
            let (built, state) = self.fill(&mut writer, &mut *progress)?;
            // One segment: one term dictionary, not one per segment (smaller, faster).
            writer.finish_compact()?;
            save_state(&tmp, &state)?;
            progress.done(&built);
            Ok(built)
        })();
        let built = match built.map_err(|e| self.diagnose(&tmp, e)) {
            Ok(b) => b,
            Err(e) => {
                self.written.forget_all();
                let _ = std::fs::remove_dir_all(&tmp);
                return Err(e.context("cannot rebuild the search index"));
            }
        };
        let old = self.home.join(format!("index.old-{}", std::process::id()));
        if dir.exists() {
            std::fs::rename(dir, &old).map_err(CatalogError::file("cannot replace", dir))?;
        }
        std::fs::rename(&tmp, dir)
            .map_err(CatalogError::file("cannot move the new index to", dir))?;
        let _ = std::fs::remove_dir_all(&old);
        Ok((CommandIndex::open(dir)?, built))
    }

    /// Rebuilds the index where it is (a writer's lock held): used when it is healthy, so
    /// a reader keeps its view until the commit.
    fn rebuild_in_place(&self, index: &CommandIndex, progress: &mut dyn Progress) -> Result<Built> {
        let dir = &self.dir;
        let mut writer = match self.writer(index, REBUILD_WRITER) {
            Ok(w) => w,
            Err(CatalogError::Index(Error::Locked)) => return Err(CatalogError::Busy),
            Err(e) => return Err(e),
        };
        let built = (|| {
            writer.clear()?;
            self.written.forget_all();
            let (built, state) = self.fill(&mut writer, &mut *progress)?;
            writer
                .finish_compact()
                .inspect_err(|_| self.written.forget_all())?;
            save_state(dir, &state)?;
            progress.done(&built);
            Ok(built)
        })()
        .map_err(|e| self.diagnose(dir, e))?;
        clear_pending(dir);
        index.reload()?;
        Ok(built)
    }

    /// A writer that failed in one of its threads tells only that it did ("an index
    /// writer was killed"), not why. When the index's folder cannot be written now (a
    /// full disk), that is why, and it is no damage: the index is still there to read.
    pub(crate) fn diagnose(&self, dir: &std::path::Path, e: CatalogError) -> CatalogError {
        if !matches!(e, CatalogError::Index(Error::Index(_))) {
            return e;
        }
        let probe = dir.join(format!(".fixcast-probe-{}", std::process::id()));
        let written = std::fs::write(&probe, [0u8; 4096]);
        let _ = std::fs::remove_file(&probe);
        match written {
            Err(source) => {
                let why = Error::Io {
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

    /// Adds every session (oldest first, like incremental indexing) to an empty index.
    /// The caller tells the progress done once the index is written (not before it
    /// failed).
    fn fill(
        &self,
        writer: &mut CommandWriter,
        progress: &mut dyn Progress,
    ) -> Result<(Built, State)> {
        let ids = self.sessions.ids()?;
        progress.start(ids.len());
        let mut state = State::new();
        let mut built = Built::default();
        for id in &ids {
            let skipped = match self.sessions.meta(id) {
                Ok(meta) => match self.write_session(writer, &meta, true) {
                    Ok((n, bytes)) => {
                        built.commands += n;
                        built.bytes += bytes;
                        None
                    }
                    Err(e @ CatalogError::Session(_)) => Some(not_indexed(id, &e)),
                    // The index's fault (no room, say): the build cannot go on.
                    Err(e) => return Err(e),
                },
                Err(e) => Some(format!("session {id}: not indexed: {e}")),
            };
            if let Some(msg) = skipped {
                progress.warn(&msg);
            }
            // After loading: a repair of a dead recorder's session rewrites its meta.json.
            state.insert(id.to_string(), self.fingerprint(id, writer.read_only()));
            built.sessions += 1;
            progress.update(&built);
        }
        Ok((built, state))
    }
}
