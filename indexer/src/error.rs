use std::io;
use std::path::{Path, PathBuf};

use tantivy::directory::error::{LockError, OpenReadError, OpenWriteError};
use tantivy::TantivyError;

/// Everything that can go wrong with the index. `Missing`, `Outdated` and `Corrupt` mean
/// "rebuild it from the sessions"; `Locked` means another writer is open; `Unwritable`
/// means its folder cannot be written now (a full disk, a read-only mount), which is no
/// damage: it can still be read as it is ([`crate::CommandIndex::open_read_only`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no index at {}", .0.display())]
    Missing(PathBuf),
    #[error("index was built by another version of fixcast (schema {found})")]
    Outdated { found: u32 },
    #[error("index at {} is damaged: {reason}", path.display())]
    Corrupt { path: PathBuf, reason: String },
    #[error("index is locked by another fixcast (a recording or server is writing it)")]
    Locked,
    #[error("cannot write the index: {0}")]
    Unwritable(String),
    /// The message leaves the cause to `source()`, so it is told once.
    #[error("{}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("index: {0}")]
    Index(String),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }

    pub(crate) fn corrupt(path: &std::path::Path, reason: impl std::fmt::Display) -> Error {
        Error::Corrupt {
            path: path.to_owned(),
            reason: reason.to_string(),
        }
    }

    /// A failure to use an index: a folder that cannot be written is told apart.
    pub(crate) fn index(e: TantivyError) -> Error {
        match io_of(&e) {
            Some(io) if unwritable(io.kind()) => Error::Unwritable(io.to_string()),
            _ => Error::Index(e.to_string()),
        }
    }

    /// A failure to open or create the index in `path`: damage, unless it is a folder
    /// that cannot be written or a lock someone else holds.
    pub(crate) fn opening(path: &Path, e: TantivyError) -> Error {
        match &e {
            TantivyError::LockFailure(LockError::LockBusy, _) => Error::Locked,
            _ => match io_of(&e) {
                Some(io) if unwritable(io.kind()) => {
                    Error::Unwritable(format!("{}: {io}", path.display()))
                }
                _ => Error::corrupt(path, e),
            },
        }
    }

    /// Whether the index's folder cannot be written now (the index may be read).
    pub fn is_unwritable(&self) -> bool {
        match self {
            Error::Unwritable(_) => true,
            Error::Io { source, .. } => unwritable(source.kind()),
            _ => false,
        }
    }

    /// Whether rebuilding the index from the sessions is the cure.
    pub fn needs_rebuild(&self) -> bool {
        matches!(
            self,
            Error::Missing(_) | Error::Outdated { .. } | Error::Corrupt { .. } | Error::Index(_)
        )
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The I/O error under a tantivy error, when that is what it is.
fn io_of(e: &TantivyError) -> Option<&io::Error> {
    match e {
        TantivyError::IoError(io)
        | TantivyError::LockFailure(LockError::IoError(io), _)
        | TantivyError::OpenWriteError(OpenWriteError::IoError { io_error: io, .. })
        | TantivyError::OpenReadError(OpenReadError::IoError { io_error: io, .. }) => Some(io),
        _ => None,
    }
}

/// I/O errors that say "this cannot be written here", not "this is damaged".
fn unwritable(kind: io::ErrorKind) -> bool {
    use io::ErrorKind::*;
    matches!(
        kind,
        StorageFull | QuotaExceeded | FileTooLarge | ReadOnlyFilesystem | PermissionDenied
    )
}
