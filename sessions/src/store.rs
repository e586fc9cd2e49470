//! The store: a home folder with `sessions/<id>/{meta.json,session.cast.zst}`.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use crate::asciicast::{Header, Recording};
use crate::cast_file::{read_cast, CastContents, CastWriter};
use crate::command::{CacheKey, CommandRecord};
use crate::error::{Error, Result};
use crate::id::SessionId;
use crate::meta::{SessionMeta, Status};

pub const CAST_FILE: &str = "session.cast.zst";
pub const META_FILE: &str = "meta.json";
pub const COMMANDS_FILE: &str = "commands.json.zst";
/// Beside a session streamed to this home by `fixcast rec --server`: a digest of the key
/// of the uploader that started it (the server makes and checks it). A session without
/// one was recorded or imported here, and no upload ever writes it.
pub const UPLOAD_KEY_FILE: &str = "upload.key";

/// A fixcast home.
#[derive(Debug, Clone)]
pub struct Store {
    home: PathBuf,
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

    /// How many people watch a live session, as the server that streams it last wrote
    /// (`<home>/live/<id>.viewers`, a decimal number); the recorder reads it to tell
    /// the user. Absent when nobody watches.
    pub fn viewers_path(&self, id: &SessionId) -> PathBuf {
        self.home
            .join("live")
            .join(format!("{}.viewers", id.as_str()))
    }

    pub fn cast_path(&self, id: &SessionId) -> PathBuf {
        self.dir(id).join(CAST_FILE)
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

    /// Resolves a full id or any unique prefix of one (case-insensitive).
    pub fn resolve(&self, prefix: &str) -> Result<SessionId> {
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
        let meta = SessionMeta::load(&path)?;
        if meta.status == Status::Recording && !self.is_being_recorded(id) {
            return self.repair(meta).map(|meta| Listed {
                meta,
                repaired: true,
            });
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

    /// A recorder holds a lock on the cast file while it writes; a file nobody locks
    /// belongs to a recorder that is gone (exited, killed, or its host crashed).
    pub fn is_being_recorded(&self, id: &SessionId) -> bool {
        match File::open(self.cast_path(id)) {
            Ok(f) => f.try_lock_shared().is_err(),
            Err(_) => false,
        }
    }

    /// Marks a dead recorder's session `interrupted`, with the duration and sizes of
    /// what it flushed.
    fn repair(&self, mut meta: SessionMeta) -> Result<SessionMeta> {
        let path = self.cast_path(&meta.id);
        meta.status = Status::Interrupted;
        meta.recorder_pid = None;
        if let Ok(contents) = read_cast(&path) {
            meta.duration = contents.events.last().map_or(0.0, |e| e.seconds());
            meta.bytes.output = output_bytes(&contents);
        }
        meta.bytes.stored = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        self.save_meta(&meta)?;
        Ok(meta)
    }

    /// Creates a session folder and its recording; the caller writes events and calls
    /// [`Store::finish`]. Metadata is on disk (status `recording`) before any event.
    pub fn create(&self, meta: &SessionMeta, header: &Header) -> Result<CastWriter> {
        let dir = self.dir(&meta.id);
        fs::create_dir(&dir).map_err(Error::io(&dir))?;
        let writer = CastWriter::create(&dir.join(CAST_FILE), header)?;
        self.save_meta(meta)?;
        Ok(writer)
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
        crate::meta::write_atomic(&dir.join(UPLOAD_KEY_FILE), format!("{key}\n").as_bytes())?;
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

    /// Reads a session's recording (tolerating damage; see [`read_cast`]).
    pub fn read(&self, id: &SessionId) -> Result<CastContents> {
        read_cast(&self.cast_path(id))
    }

    /// Stores a whole recording as a new, complete session. It is written in a hidden
    /// folder and renamed into place, so a failure leaves nothing half-imported.
    pub fn import(&self, rec: &Recording, mut meta: SessionMeta) -> Result<SessionMeta> {
        let staging = self.sessions_dir().join(format!(".import-{}", meta.id));
        let result = (|| {
            fs::create_dir(&staging).map_err(Error::io(&staging))?;
            let mut w = CastWriter::create(&staging.join(CAST_FILE), &rec.header)?;
            for ev in &rec.events {
                w.write(ev)?;
            }
            meta.bytes.stored = w.finish()?;
            meta.duration = rec.events.last().map_or(0.0, |e| e.seconds());
            meta.bytes.output = rec
                .events
                .iter()
                .filter_map(|e| match &e.kind {
                    crate::EventKind::Output(s) => Some(s.len() as u64),
                    _ => None,
                })
                .sum();
            meta.status = Status::Complete;
            meta.save(&staging.join(META_FILE))?;
            let dest = self.dir(&meta.id);
            fs::rename(&staging, &dest).map_err(Error::io(&dest))
        })();
        if result.is_err() {
            let _ = fs::remove_dir_all(&staging);
        }
        result.map(|_| meta)
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

fn output_bytes(c: &CastContents) -> u64 {
    c.events
        .iter()
        .filter_map(|e| match &e.kind {
            crate::EventKind::Output(s) => Some(s.len() as u64),
            _ => None,
        })
        .sum()
}
