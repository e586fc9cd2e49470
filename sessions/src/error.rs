use std::path::PathBuf;

use crate::asciicast::FormatError;

/// Everything that can go wrong in the store. A message never repeats its cause: that
/// is `source()`'s, and [`error_chain`] (or anyhow's `{:#}`) tells the two together.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}", path.display())]
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
    #[error(
        "{0:?} is not a session id (ids are 26 letters and digits, or a prefix of one; \
         last is the newest session, last~1 the one before)"
    )]
    InvalidId(String),
    /// `last~N` past the oldest session.
    #[error("session {arg}: not found, {}", no_such_last(*count))]
    NoSuchLast { arg: String, count: usize },
    #[error("{}", path.display())]
    Format {
        path: PathBuf,
        #[source]
        source: FormatError,
    },
    #[error("{}: bad metadata", path.display())]
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

/// What there is instead of `last~N`.
fn no_such_last(count: usize) -> String {
    match count {
        0 => "there are no sessions yet".to_owned(),
        1 => "there is one session (last)".to_owned(),
        n => format!("there are {n} sessions (last to last~{})", n - 1),
    }
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error and each of its causes once, `outer: inner: innermost`: how errors are told
/// to people where no anyhow is at hand (libraries, the server's log).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_is_told_once() {
        let e = Error::Io {
            path: "/h/meta.json".into(),
            source: std::io::Error::from(std::io::ErrorKind::StorageFull),
        };
        assert_eq!(e.to_string(), "/h/meta.json");
        assert_eq!(error_chain(&e), "/h/meta.json: no storage space");
    }
}
