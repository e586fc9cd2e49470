//! What can go wrong keeping the index in step with the sessions: the index's own
//! errors, the sessions' source's, and the catalog's files (state, queue, swap).

use std::path::PathBuf;

use crate::error::Error;

/// Why a session could not be indexed, as its source tells it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct SessionError {
    /// The whole message, causes included (`session 01J…: …: …`).
    pub message: String,
    /// The recording cannot be cut: it is left out for good (and still replays), not
    /// tried again until it changes.
    pub unreadable: bool,
}

impl SessionError {
    pub fn new(message: impl Into<String>) -> SessionError {
        SessionError {
            message: message.into(),
            unreadable: false,
        }
    }
}

/// An error of the catalog. Its message with its causes (`{:#}` through anyhow, or
/// [`fixcast_sessions::error_chain`]) is what the user is told.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error(transparent)]
    Index(#[from] Error),
    /// A session could not be read or cut (the index is not at fault).
    #[error(transparent)]
    Session(#[from] SessionError),
    /// A file written through the store's one atomic write (the state file).
    #[error(transparent)]
    Store(#[from] fixcast_sessions::Error),
    /// The catalog's own files: the state file, the pending queue, the swap of a rebuild.
    #[error("{what} {}", path.display())]
    File {
        what: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Another fixcast holds the writer while a rebuild in place was asked for.
    #[error("the search index is in use by another fixcast (a recording or server writing it); try again when it ends")]
    Busy,
    #[error("{what}")]
    Context {
        what: &'static str,
        #[source]
        source: Box<CatalogError>,
    },
}

impl CatalogError {
    /// The index's error under this one, if that is what it is.
    pub fn index_error(&self) -> Option<&Error> {
        match self {
            CatalogError::Index(e) => Some(e),
            CatalogError::Context { source, .. } => source.index_error(),
            _ => None,
        }
    }

    /// Whether a session's recording cannot be cut (it is skipped, not fatal).
    pub fn is_unreadable(&self) -> bool {
        matches!(self, CatalogError::Session(s) if s.unreadable)
    }

    pub(crate) fn context(self, what: &'static str) -> CatalogError {
        CatalogError::Context {
            what,
            source: Box::new(self),
        }
    }

    pub(crate) fn file(
        what: impl Into<String>,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> CatalogError {
        let (what, path) = (what.into(), path.into());
        move |source| CatalogError::File { what, path, source }
    }
}
