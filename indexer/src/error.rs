use std::path::PathBuf;

/// Everything that can go wrong with the index. `Missing`, `Outdated` and `Corrupt` mean
/// "rebuild it from the sessions"; `Locked` means another writer is open.
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
    #[error("{}: {source}", path.display())]
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

    pub(crate) fn index(e: tantivy::TantivyError) -> Error {
        Error::Index(e.to_string())
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
