//! The store: a home folder with `sessions/<id>/{meta.json,session.cast.zst}`.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use crate::asciicast::{Header, Recording};
use crate::cast_file::{read_cast, read_cast_parts, CastWriter};
use crate::command::{CacheKey, CommandRecord};
use crate::error::{Error, Result};
use crate::event::{Event, EventKind};
use crate::id::SessionId;
use crate::meta::{SessionMeta, Status};

pub const CAST_FILE: &str = "session.cast.zst";
pub const META_FILE: &str = "meta.json";
pub const COMMANDS_FILE: &str = "commands.json.zst";
/// Beside a session streamed to this home by `fixcast rec --server`: a digest of the key
/// of the uploader that started it (the server makes and checks it). A session without
/// one was recorded or imported here, and no upload ever writes it.
pub const UPLOAD_KEY_FILE: &str = "upload.key";
/// Folders of imports under way: `sessions/.import-<id>`.
const IMPORT_PREFIX: &str = ".import-";

/// A fixcast home.
#[derive(Debug, Clone)]
pub struct Store {
    home: PathBuf,
}

/// A recorder's hold on its session (see [`Store::hold`]); released when dropped, or
/// when the recorder dies.
#[derive(Debug)]
pub struct RecordingLock {
    _dir: File,
}

/// A session listed or opened from the store, with what was noticed on the way.
#[derive(Debug, Clone)]
pub struct Listed {
    pub meta: SessionMeta,
    /// Set when a dead recorder's session was found and repaired just now.
    pub repaired: bool,
}

impl Store {
    /// The home given, else `$FIXCAST_HOME`, else the platform data dir.
    pub fn default_home() -> Option<PathBuf> {
        std::env::var_os("FIXCAST_HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
            .or_else(|| dirs::data_dir().map(|d| d.join("fixcast")))
    }

    /// Opens (and creates if needed) a store at `home`.
    pub fn open(home: impl Into<PathBuf>) -> Result<Store> {
        let home = home.into();
        let sessions = home.join("sessions");
        fs::create_dir_all(&sessions).map_err(Error::io(&sessions))?;
        Ok(Store { home })
    }

    pub fn home(&self) -> &Path {
        &self.home
    }

    fn sessions_dir(&self) -> PathBuf {
        self.home.join("sessions")
    }

    /// The folder of a session (the id is validated, so this never leaves the home).
    pub fn dir(&self, id: &SessionId) -> PathBuf {
        self.sessions_dir().join(id.as_str())
    }

    pub fn cast_path(&self, id: &SessionId) -> PathBuf {
        self.dir(id).join(CAST_FILE)
    }

    /// What a session looks like on disk now: meta.json's mtime and the recording's
    /// size. A different value means it changed (an index keeps this to notice).
    pub fn fingerprint(&self, id: &SessionId) -> String {
        let dir = self.dir(id);
        let meta_mtime = fs::metadata(dir.join(META_FILE))
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        let cast = fs::metadata(dir.join(CAST_FILE)).map_or(0, |m| m.len());
        format!("{meta_mtime}:{cast}")
    }

    /// All session ids, oldest first.
    pub fn ids(&self) -> Result<Vec<SessionId>> {
        let dir = self.sessions_dir();
        let mut ids: Vec<SessionId> = fs::read_dir(&dir)
            .map_err(Error::io(&dir))?
            .filter_map(|e| e.ok())
            .filter(|e| e.path().join(META_FILE).is_file())
            .filter_map(|e| e.file_name().to_str()?.parse().ok())
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// Resolves what a person typed for a session: a full id, any unique prefix of one
    /// (case-insensitive), or `last` (the newest session) and `last~N` (the N-th before
    /// it). Ids start with their time, so every session of one day shares its first six
    /// characters: `last` is the short name that is never ambiguous.
    pub fn resolve(&self, prefix: &str) -> Result<SessionId> {
        if let Some(back) = parse_last(prefix)? {
            let ids = self.ids()?;
            return match ids.len().checked_sub(1 + back) {
                Some(i) => Ok(ids[i].clone()),
                None => Err(Error::NoSuchLast {
                    arg: prefix.to_owned(),
                    count: ids.len(),
                }),
            };
        }
        if !SessionId::is_valid_prefix(prefix) {
            return Err(Error::InvalidId(prefix.to_owned()));
        }
        let want = prefix.to_ascii_uppercase();
        let matches: Vec<SessionId> = self
            .ids()?
            .into_iter()
            .filter(|id| id.as_str().starts_with(&want))
            .collect();
        match matches.len() {
            0 => Err(Error::NotFound(prefix.to_owned())),
            1 => Ok(matches.into_iter().next().expect("one match")),
            _ => Err(Error::Ambiguous {
                prefix: prefix.to_owned(),
                candidates: matches.iter().map(|i| i.to_string()).collect(),
            }),
        }
    }

    /// A session's metadata, repairing it first if its recorder died.
    pub fn load(&self, id: &SessionId) -> Result<Listed> {
        let path = self.dir(id).join(META_FILE);
        let mut meta = SessionMeta::load(&path)?;
        if meta.status == Status::Recording && !self.is_being_recorded(id) {
            // A recorder saves its final metadata before it lets go of the session, so
            // what is read now is final: the first read may be from just before that save.
            meta = SessionMeta::load(&path)?;
            if meta.status == Status::Recording {
                return self.repair(meta).map(|meta| Listed {
                    meta,
                    repaired: true,
                });
            }
        }
        Ok(Listed {
            meta,
            repaired: false,
        })
    }

    /// Every session, newest first. A session whose metadata cannot be read is skipped
    /// and reported in the second list, never hidden silently.
    pub fn list(&self) -> Result<(Vec<Listed>, Vec<Error>)> {
        let mut ok = Vec::new();
        let mut bad = Vec::new();
        for id in self.ids()?.into_iter().rev() {
            match self.load(&id) {
                Ok(l) => ok.push(l),
                Err(e) => bad.push(e),
            }
        }
        Ok((ok, bad))
    }

    pub fn save_meta(&self, meta: &SessionMeta) -> Result<()> {
        meta.save(&self.dir(&meta.id).join(META_FILE))
    }

    /// A recorder holds a lock on the cast file while it writes, and one on the session's
    /// folder (see [`Store::hold`]) until its metadata is final; a session nobody locks
    /// belongs to a recorder that is gone (exited, killed, or its host crashed).
    pub fn is_being_recorded(&self, id: &SessionId) -> bool {
        let locked = |path: PathBuf| match File::open(path) {
            Ok(f) => f.try_lock_shared().is_err(),
            Err(_) => false,
        };
        locked(self.cast_path(id)) || locked(self.dir(id))
    }

    /// Marks a session as being recorded until the lock is dropped. A recorder takes it
    /// right after [`Store::create`] and drops it once it has saved the final metadata:
    /// the cast file is unlocked as soon as its writer finishes, a moment before that,
    /// and a reader in between would otherwise take the recorder for dead and mark its
    /// session `interrupted` (over the `complete` it was about to get).
    pub fn hold(&self, id: &SessionId) -> Result<RecordingLock> {
        let dir = self.dir(id);
        let f = File::open(&dir).map_err(Error::io(&dir))?;
        f.try_lock().map_err(|e| Error::Io {
            path: dir.clone(),
            source: io::Error::other(e.to_string()),
        })?;
        Ok(RecordingLock { _dir: f })
    }

    /// Marks a dead recorder's session `interrupted`, with the sizes of what it flushed
    /// and its duration: up to its last event, or to its recording's last write when that
    /// is later (a recorder killed during a quiet spell flushed the quiet too).
    fn repair(&self, mut meta: SessionMeta) -> Result<SessionMeta> {
        let path = self.cast_path(&meta.id);
        meta.status = Status::Interrupted;
        meta.recorder_pid = None;
        if let Ok(contents) = read_cast(&path) {
            meta.duration = contents.events.last().map_or(0.0, |e| e.seconds());
            meta.bytes.output = output_bytes(&contents);
        }
        let file = fs::metadata(&path).ok();
        meta.bytes.stored = file.as_ref().map_or(0, |m| m.len());
        let written = file
            .and_then(|m| m.modified().ok())
            .map(|t| (time::OffsetDateTime::from(t) - meta.started).as_seconds_f64());
        if let Some(s) = written.filter(|s| s.is_finite()) {
            meta.duration = meta.duration.max(s);
        }
        // Reading never needs free space: where meta.json cannot be rewritten (a full
        // disk, a read-only home) the repair holds in memory, and is made again next time.
        let _ = self.save_meta(&meta);
        Ok(meta)
    }

    /// Creates a session folder and its recording; the caller writes events and calls
    /// [`Store::finish`]. Metadata is on disk (status `recording`) before any event.
    pub fn create(&self, meta: &SessionMeta, header: &Header) -> Result<CastWriter> {
        let dir = self.dir(&meta.id);
        fs::create_dir(&dir).map_err(Error::io(&dir))?;
        // The header is on disk (synced) before any event, so a disk that fills up
        // during the first burst of output still leaves a recording that can be read;
        // the folder's entries are synced too, so a host crash keeps the session.
        let made = CastWriter::create(&dir.join(CAST_FILE), header)
            .and_then(|w| self.save_meta(meta).map(|_| w))
            .and_then(|w| {
                File::open(&dir)
                    .and_then(|d| d.sync_all())
                    .map_err(Error::io(&dir))
                    .map(|_| w)
            });
        if made.is_err() {
            // A full disk, say: no folder without metadata is left behind.
            let _ = fs::remove_dir_all(&dir);
        }
        made
    }

    /// The owner of an uploaded session: what its [`UPLOAD_KEY_FILE`] holds; `None` for a
    /// session recorded or imported here, or absent.
    pub fn upload_key(&self, id: &SessionId) -> Result<Option<String>> {
        let path = self.dir(id).join(UPLOAD_KEY_FILE);
        match fs::read_to_string(&path) {
            Ok(s) => Ok(Some(s.trim().to_owned())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(&path)(e)),
        }
    }

    /// Creates the folder of a session that an upload starts, owned by `key`, which is
    /// written before anything else so that the folder never holds a recording without
    /// its owner. False when the session exists already (an empty folder, left by an
    /// upload cut off between the two steps, is taken over).
    pub fn create_uploaded(&self, id: &SessionId, key: &str) -> Result<bool> {
        let dir = self.dir(id);
        match fs::create_dir(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let empty = fs::read_dir(&dir)
                    .map_err(Error::io(&dir))?
                    .next()
                    .is_none();
                if !empty {
                    return Ok(false);
                }
            }
            Err(e) => return Err(Error::io(&dir)(e)),
        }
        crate::atomic::write_atomic(&dir.join(UPLOAD_KEY_FILE), format!("{key}\n").as_bytes())?;
        Ok(true)
    }

    /// The session's cached commands, if a cache exists for its recording as it is now.
    pub fn cached_commands(&self, id: &SessionId) -> Result<Option<Vec<CommandRecord>>> {
        let key = CacheKey::of(&self.cast_path(id))?;
        Ok(crate::command::load_cache(
            &self.dir(id).join(COMMANDS_FILE),
            &key,
        ))
    }

    /// Caches commands cut from the recording whose key was taken before cutting (so a
    /// recording that grew meanwhile leaves a stale cache, rebuilt next time).
    pub fn save_commands(
        &self,
        id: &SessionId,
        key: CacheKey,
        commands: Vec<CommandRecord>,
    ) -> Result<()> {
        crate::command::save_cache(&self.dir(id).join(COMMANDS_FILE), key, commands)
    }

    /// Reads a session's recording (tolerating damage; see [`read_cast`]). A recording
    /// with no header (its recorder died before writing one, or its start is damaged)
    /// gets one from the session's metadata.
    pub fn read(&self, id: &SessionId) -> Result<Recording> {
        let (header, events, damage) = read_cast_parts(&self.cast_path(id))?;
        let header = match header {
            Some(h) => h,
            None => SessionMeta::load(&self.dir(id).join(META_FILE))?.header(),
        };
        Ok(Recording {
            header,
            events,
            damage,
        })
    }

    /// The newest session imported from a file with this digest (see
    /// [`SessionMeta::import_digest`]). Sessions whose metadata cannot be read are
    /// passed over: a damaged one must not stop an import.
    pub fn find_import(&self, digest: &str) -> Result<Option<SessionId>> {
        Ok(self.ids()?.into_iter().rev().find(|id| {
            SessionMeta::load(&self.dir(id).join(META_FILE))
                .is_ok_and(|m| m.import_digest.as_deref() == Some(digest))
        }))
    }

    /// Stores a whole recording as a new, complete session (see [`Store::begin_import`]).
    pub fn import(&self, rec: &Recording, meta: SessionMeta) -> Result<SessionMeta> {
        let mut import = self.begin_import(meta, &rec.header)?;
        for ev in &rec.events {
            import.write(ev)?;
        }
        import.commit()
    }

    /// Starts storing a new, complete session from a recording streamed in: events are
    /// written to a hidden folder as they come, and [`Import::commit`] renames it into
    /// place, so a failure (or a dropped `Import`) leaves nothing half-imported. Folders
    /// left by an import that was killed are removed first.
    pub fn begin_import(&self, meta: SessionMeta, header: &Header) -> Result<Import> {
        self.remove_stale_imports();
        let staging = self
            .sessions_dir()
            .join(format!("{IMPORT_PREFIX}{}", meta.id));
        fs::create_dir(&staging).map_err(Error::io(&staging))?;
        let mut import = Import {
            staging,
            dest: self.dir(&meta.id),
            lock: None,
            writer: None,
            meta,
        };
        // Locked for as long as the import runs: an unlocked staging folder is stale.
        let lock = File::open(&import.staging).map_err(Error::io(&import.staging))?;
        lock.try_lock().map_err(|e| Error::Io {
            path: import.staging.clone(),
            source: std::io::Error::other(e.to_string()),
        })?;
        import.lock = Some(lock);
        import.writer = Some(CastWriter::create(&import.staging.join(CAST_FILE), header)?);
        import.meta.duration = 0.0;
        import.meta.bytes = Default::default();
        import.meta.exit_status = None;
        Ok(import)
    }

    /// Removes the staging folders of imports whose process is gone (nobody holds their
    /// lock). Listings ignore them anyway; this gives their space back.
    pub fn remove_stale_imports(&self) {
        let Ok(entries) = fs::read_dir(self.sessions_dir()) else {
            return;
        };
        for e in entries.filter_map(|e| e.ok()) {
            let name = e.file_name();
            if !name.to_string_lossy().starts_with(IMPORT_PREFIX) {
                continue;
            }
            let path = e.path();
            let stale = File::open(&path).is_ok_and(|f| f.try_lock().is_ok());
            if stale {
                let _ = fs::remove_dir_all(&path);
            }
        }
    }

    /// Deletes a session. A session still being recorded is refused.
    pub fn remove(&self, id: &SessionId) -> Result<()> {
        if self.is_being_recorded(id) {
            return Err(Error::Io {
                path: self.dir(id),
                source: std::io::Error::other("still being recorded; stop the recorder first"),
            });
        }
        let dir = self.dir(id);
        fs::remove_dir_all(&dir).map_err(Error::io(&dir))
    }
}

/// `last` is 0, `last~N` is N; `None` for anything else (an id or a prefix: `l` is not
/// in the id alphabet, so nothing is both). `last~` with no number, or not a number, is
/// an error rather than a prefix that finds nothing.
fn parse_last(arg: &str) -> Result<Option<usize>> {
    let lower = arg.to_ascii_lowercase();
    let Some(rest) = lower.strip_prefix("last") else {
        return Ok(None);
    };
    if rest.is_empty() {
        return Ok(Some(0));
    }
    rest.strip_prefix('~')
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|_| rest[1..].bytes().all(|b| b.is_ascii_digit()))
        .map(Some)
        .ok_or_else(|| Error::InvalidId(arg.to_owned()))
}

/// A session being imported: see [`Store::import`].
pub struct Import {
    staging: PathBuf,
    dest: PathBuf,
    /// The staging folder, locked while this lives.
    lock: Option<File>,
    writer: Option<CastWriter>,
    meta: SessionMeta,
}

impl Import {
    /// Appends an event; times must not go backwards.
    pub fn write(&mut self, ev: &Event) -> Result<()> {
        let w = self.writer.as_mut().expect("writer present until commit");
        w.write(ev)?;
        let m = &mut self.meta;
        m.duration = m.duration.max(ev.seconds());
        match &ev.kind {
            EventKind::Output(s) => m.bytes.output += s.len() as u64,
            EventKind::Input(s) => m.bytes.input += s.len() as u64,
            EventKind::Exit(status) => m.exit_status = Some(*status),
            _ => {}
        }
        Ok(())
    }

    /// Bytes of recording written so far, compressed.
    pub fn stored_bytes(&self) -> u64 {
        self.writer.as_ref().map_or(0, |w| w.stored_bytes())
    }

    /// Finishes the recording and puts the session in place, complete.
    pub fn commit(mut self) -> Result<SessionMeta> {
        let w = self.writer.take().expect("writer present until commit");
        let mut meta = self.meta.clone();
        meta.bytes.stored = w.finish()?;
        meta.record_input = meta.bytes.input > 0;
        meta.status = Status::Complete;
        meta.save(&self.staging.join(META_FILE))?;
        fs::rename(&self.staging, &self.dest).map_err(Error::io(&self.dest))?;
        self.lock = None;
        Ok(meta)
    }
}

impl Drop for Import {
    fn drop(&mut self) {
        // Not committed (an error, a refusal, a panic): leave nothing behind. After a
        // commit the folder has moved and this finds nothing.
        drop(self.writer.take());
        let _ = fs::remove_dir_all(&self.staging);
    }
}

fn output_bytes(c: &Recording) -> u64 {
    c.events
        .iter()
        .filter_map(|e| match &e.kind {
            crate::EventKind::Output(s) => Some(s.len() as u64),
            _ => None,
        })
        .sum()
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
