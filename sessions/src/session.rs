//! One session's folder, as other crates see it: the operations they need on it, so
//! that no crate but this one builds a path inside `sessions/<id>/` or knows which
//! files are there. A cache another crate owns the format of (the web's segments) is
//! still placed by the store ([`Session::derived_path`]), and dropped with the others.

use std::fs::{self, File};
use std::io::Write;
use std::path::PathBuf;

use crate::asciicast::Header;
use crate::atomic::{commit, temp_beside, write_atomic, Temp};
use crate::cast_file::CastWriter;
use crate::cast_reader::CastReader;
use crate::cast_tail::CastTail;
use crate::command::CacheKey;
use crate::error::{Error, Result};
use crate::event::Event;
use crate::id::SessionId;
use crate::meta::SessionMeta;
use crate::store::{Store, CAST_FILE, META_FILE, UPLOAD_KEY_FILE};

/// A session of a [`Store`], by id (see [`Store::session`]); it need not exist.
#[derive(Debug, Clone, Copy)]
pub struct Session<'a> {
    store: &'a Store,
    id: &'a SessionId,
}

impl Store {
    /// The session `id` of this store, to act on its folder.
    pub fn session<'a>(&'a self, id: &'a SessionId) -> Session<'a> {
        Session { store: self, id }
    }

    /// How many people watch a live session, as the server that streams it last wrote
    /// (see [`Store::set_viewers`]); 0 when nobody does or the count cannot be read.
    pub fn viewers(&self, id: &SessionId) -> usize {
        fs::read_to_string(self.viewers_path(id))
            .ok()
            .and_then(|s| s.trim().parse::<usize>().ok())
            .unwrap_or(0)
    }

    /// Tells a live session's recorder how many people watch it; 0 removes the count.
    /// Best effort: a count that cannot be written only means the recorder is not told.
    pub fn set_viewers(&self, id: &SessionId, n: usize) {
        let path = self.viewers_path(id);
        if n == 0 {
            let _ = fs::remove_file(&path);
            return;
        }
        if let Some(dir) = path.parent() {
            let _ = fs::create_dir_all(dir);
        }
        let _ = write_atomic(&path, n.to_string().as_bytes());
    }

    /// `<home>/live/<id>.viewers`, a decimal number, absent when nobody watches.
    fn viewers_path(&self, id: &SessionId) -> PathBuf {
        self.home()
            .join("live")
            .join(format!("{}.viewers", id.as_str()))
    }
}

impl Session<'_> {
    pub fn id(&self) -> &SessionId {
        self.id
    }

    /// Whether the session's folder exists (it may hold no metadata yet: an upload that
    /// was cut off between its two first steps).
    pub fn exists(&self) -> bool {
        self.store.dir(self.id).exists()
    }

    /// The recording's file, for a caller that reads its bytes as they are (the upload
    /// client sends them); events are read with [`Session::cast_reader`].
    pub fn cast_path(&self) -> PathBuf {
        self.store.cast_path(self.id)
    }

    /// The metadata's file, for a caller that sends it as it is (the upload client).
    pub fn meta_path(&self) -> PathBuf {
        self.store.dir(self.id).join(META_FILE)
    }

    /// The metadata as it is on disk, with no repair (see [`Store::load`]); `None` when
    /// there is none yet.
    pub fn meta_as_stored(&self) -> Result<Option<SessionMeta>> {
        let path = self.meta_path();
        if !path.exists() {
            return Ok(None);
        }
        SessionMeta::load(&path).map(Some)
    }

    /// What caches of the recording are keyed by: it changes whenever the recording does.
    pub fn cast_key(&self) -> Result<CacheKey> {
        CacheKey::of(&self.cast_path())
    }

    /// The recording's events from its start, read as they are needed.
    pub fn cast_reader(&self) -> Result<CastReader> {
        CastReader::open(&self.cast_path())
    }

    /// The recording followed as it grows.
    pub fn cast_tail(&self) -> Result<CastTail> {
        CastTail::open(&self.cast_path())
    }

    /// The recording's size in bytes (compressed); 0 when there is none yet.
    pub fn cast_size(&self) -> Result<u64> {
        let path = self.cast_path();
        match fs::metadata(&path) {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(Error::io(&path)(e)),
        }
    }

    /// Bytes the session's files take, caches included (its folder's files).
    pub fn size_on_disk(&self) -> u64 {
        fs::read_dir(self.store.dir(self.id))
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok()?.metadata().ok())
                    .filter(|m| m.is_file())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0)
    }

    /// Where a cache derived from the recording lives, for a cache whose format another
    /// crate owns. `name` is a plain file name; it is dropped with the other caches
    /// ([`Session::drop_derived`]).
    pub fn derived_path(&self, name: &str) -> PathBuf {
        debug_assert!(
            !name.contains('/') && !name.starts_with('.') && !OWN.contains(&name),
            "{name:?} is not a cache's file name"
        );
        self.store.dir(self.id).join(name)
    }

    /// Removes every cache derived from the recording: after a rewrite none may hold
    /// what the recording no longer does (a redacted secret). Files being written (temp
    /// files, hidden) are left to their writers.
    pub fn drop_derived(&self) -> Result<()> {
        let dir = self.store.dir(self.id);
        for e in fs::read_dir(&dir).map_err(Error::io(&dir))?.flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            let cache = !name.starts_with('.') && !OWN.contains(&name.as_ref());
            if cache && e.file_type().is_ok_and(|t| t.is_file()) {
                let path = e.path();
                fs::remove_file(&path).map_err(Error::io(&path))?;
            }
        }
        Ok(())
    }

    /// Replaces the recording with `events` under `header` (a new file renamed over the
    /// old one, so a failure leaves the old one whole), then drops the derived caches.
    /// Returns the new recording's size. The caller makes sure nobody records it.
    pub fn replace_recording(&self, header: &Header, events: &[Event]) -> Result<u64> {
        let path = self.cast_path();
        let temp = Temp(temp_beside(&path));
        let _ = fs::remove_file(&temp.0);
        let mut w = CastWriter::create(&temp.0, header)?;
        for ev in events {
            w.write(ev)?;
        }
        let stored = w.finish()?;
        // Under the home's edit lock, as a compaction renames its rewrite: neither
        // lands over the other's file unseen (a compaction checks the file it read is
        // still there, so it never puts a redacted secret back).
        let _lock = crate::edit::lock_home(self.store)?;
        commit(temp, &path)?;
        self.drop_derived()?;
        Ok(stored)
    }

    /// Opens the recording of a session an upload writes, for appending, and locks it
    /// for as long as the [`UploadFile`] lives (created if absent). `None` when another
    /// process holds the lock: the session is being recorded on this machine.
    pub fn open_upload(&self) -> Result<Option<UploadFile>> {
        let path = self.cast_path();
        let file = File::options()
            .append(true)
            .create(true)
            .open(&path)
            .map_err(Error::io(&path))?;
        if file.try_lock().is_err() {
            return Ok(None);
        }
        Ok(Some(UploadFile { file, path }))
    }
}

/// The files of a session folder that are not caches.
const OWN: [&str; 3] = [CAST_FILE, META_FILE, UPLOAD_KEY_FILE];

/// An uploaded session's recording, open and locked (see [`Session::open_upload`]).
#[derive(Debug)]
pub struct UploadFile {
    file: File,
    path: PathBuf,
}

impl UploadFile {
    /// Appends `bytes` if the recording is `offset` bytes long, synced: `Ok(size after)`;
    /// else nothing is written and it is `Err(size now)`, from which the uploader resumes.
    pub fn append(&mut self, offset: u64, bytes: &[u8]) -> Result<std::result::Result<u64, u64>> {
        let io = || Error::io(&self.path);
        let size = self.file.metadata().map_err(io())?.len();
        if size != offset {
            return Ok(Err(size));
        }
        self.file.write_all(bytes).map_err(io())?;
        self.file.sync_data().map_err(io())?;
        Ok(Ok(size + bytes.len() as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventKind;

    fn stored(store: &Store) -> SessionId {
        let meta = SessionMeta::new(SessionId::generate(), 80, 24);
        let mut w = store.create(&meta, &Header::default()).unwrap();
        w.write(&Event::new(1_000, EventKind::Output("secret\r\n".into())))
            .unwrap();
        w.finish().unwrap();
        meta.id
    }

    #[test]
    fn replacing_the_recording_drops_the_caches_and_keeps_the_rest() {
        let home = tempfile::tempdir().unwrap();
        let store = Store::open(home.path()).unwrap();
        let id = stored(&store);
        let s = store.session(&id);
        fs::write(s.derived_path("segments.v1.bin"), b"secret").unwrap();
        let events = [Event::new(
            1_000,
            EventKind::Output("[REDACTED]\r\n".into()),
        )];
        let size = s.replace_recording(&Header::default(), &events).unwrap();
        assert_eq!(s.cast_size().unwrap(), size);
        let mut names: Vec<_> = fs::read_dir(store.dir(&id))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, [META_FILE, CAST_FILE]);
        assert_eq!(store.read(&id).unwrap().events, events);
    }

    #[test]
    fn an_upload_appends_only_at_the_size_it_was_told() {
        let home = tempfile::tempdir().unwrap();
        let store = Store::open(home.path()).unwrap();
        let id = SessionId::generate();
        assert!(store.create_uploaded(&id, "k").unwrap());
        let s = store.session(&id);
        let mut f = s.open_upload().unwrap().expect("nobody else holds it");
        assert!(s.open_upload().unwrap().is_none(), "the lock is held");
        assert_eq!(f.append(0, b"abc").unwrap(), Ok(3));
        assert_eq!(f.append(0, b"abc").unwrap(), Err(3));
        assert_eq!(s.cast_size().unwrap(), 3);
    }

    #[test]
    fn the_viewer_count_is_written_read_and_removed() {
        let home = tempfile::tempdir().unwrap();
        let store = Store::open(home.path()).unwrap();
        let id = SessionId::generate();
        assert_eq!(store.viewers(&id), 0);
        store.set_viewers(&id, 3);
        assert_eq!(store.viewers(&id), 3);
        store.set_viewers(&id, 0);
        assert_eq!(store.viewers(&id), 0);
    }
}
