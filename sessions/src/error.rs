use std::path::PathBuf;

use crate::asciicast::FormatError;

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("session {0}: not found")]
    NotFound(String),
    #[error("session {prefix}: ambiguous, matches {}", candidates.join(", "))]
    Ambiguous {
        prefix: String,
        candidates: Vec<String>,
    },
    #[error("{0:?} is not a session id (ids are 26 letters and digits, or a prefix of one)")]
    InvalidId(String),
    #[error("{}: {source}", path.display())]
    Format {
        path: PathBuf,
        #[source]
        source: FormatError,
    },
    #[error("{}: bad metadata: {source}", path.display())]
    Meta {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// Deriving something from the recording failed where it should not (the screen
    /// emulator panicked on it, see [`crate::contain`]): this session is left out, and
    /// everything else goes on.
    #[error("session {id}: cannot be {what}: {reason}")]
    Unreadable {
        id: String,
        /// What could not be done: `cut` (into commands), `cut into segments`, ...
        what: &'static str,
        reason: String,
    },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
