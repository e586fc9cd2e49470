//! Writing a file whole or not at all: a temp file beside it, synced, renamed over it,
//! then the folder synced so the rename survives a host crash. Every file fixcast
//! replaces (metadata, caches, the index's state, an export, a viewer count) is written
//! this way, so a reader never sees half of one and a failure leaves the old one.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Writes `bytes` to `path` atomically (see the module).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes).map_err(Error::io(path)))
}

/// Like [`write_atomic`], for contents made while they are written: `fill` writes to the
/// temp file, which replaces `path` only if it returns `Ok`. On an error, or a panic in
/// `fill`, the temp file is removed and `path` is left as it was.
pub fn write_atomic_with<T, E: From<Error>>(
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<File>) -> std::result::Result<T, E>,
) -> std::result::Result<T, E> {
    let temp = Temp(temp_beside(path));
    // Errors name the file asked for: the temp file is ours, not the caller's.
    let file = File::create(&temp.0).map_err(Error::io(path))?;
    let mut out = BufWriter::new(file);
    let made = fill(&mut out)?;
    out.into_inner()
        .map_err(|e| e.into_error())
        .and_then(|f| f.sync_all())
        .map_err(Error::io(path))?;
    commit(temp, path)?;
    Ok(made)
}

/// Where a file is made before it is renamed over `path`: hidden, beside it (the same
/// file system, so the rename is atomic), and named by this process, so two processes
/// never write the same temp file.
pub(crate) fn temp_beside(path: &Path) -> PathBuf {
    let mut name = std::ffi::OsString::from(".");
    name.push(path.file_name().unwrap_or_default());
    name.push(format!(".tmp{}", std::process::id()));
    path.with_file_name(name)
}

/// A temp file, removed when dropped unless it was renamed into place.
pub(crate) struct Temp(pub(crate) PathBuf);

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

/// Renames a synced temp file over `path`, then syncs the folder.
pub(crate) fn commit(temp: Temp, path: &Path) -> Result<()> {
    fs::rename(&temp.0, path).map_err(Error::io(path))?;
    std::mem::forget(temp);
    sync_dir(path).map_err(Error::io(path))
}

fn sync_dir(path: &Path) -> io::Result<()> {
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(dir) => File::open(dir)?.sync_all(),
        None => File::open(".")?.sync_all(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_fill_leaves_the_old_file_and_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        write_atomic(&path, b"old").unwrap();
        let r: Result<()> = write_atomic_with(&path, |w| {
            w.write_all(b"half").unwrap();
            Err(Error::io(&path)(io::Error::other("boom")))
        });
        assert!(r.is_err());
        assert_eq!(fs::read(&path).unwrap(), b"old");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["f.json"]);
    }

    #[test]
    fn a_panic_in_fill_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.bin");
        let r = std::panic::catch_unwind(|| {
            let _: Result<()> = write_atomic_with(&path, |_| panic!("emulator"));
        });
        assert!(r.is_err());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
