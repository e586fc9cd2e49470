//! Session ids: ULIDs, 26 Crockford base32 characters, time first, so they sort by time.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// A session's id. Always valid: it can be joined to a path without leaving the home.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SessionId(String);

const ALPHABET: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

impl SessionId {
    /// A new id for a session starting now; ids made by one process always increase,
    /// even within one millisecond.
    pub fn generate() -> Self {
        static LAST: std::sync::Mutex<Option<ulid::Ulid>> = std::sync::Mutex::new(None);
        let mut last = LAST.lock().unwrap_or_else(|p| p.into_inner());
        let mut id = ulid::Ulid::new();
        if let Some(prev) = *last {
            if id <= prev {
                id = prev.increment().unwrap_or(id);
            }
        }
        *last = Some(id);
        SessionId(id.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 10 characters: unique in practice for one person's store, and what
    /// listings show.
    pub fn short(&self) -> &str {
        &self.0[..10]
    }

    /// Whether `s` could be the start of an id (used to validate prefixes from users
    /// and URLs before they touch the file system).
    pub fn is_valid_prefix(s: &str) -> bool {
        !s.is_empty()
            && s.len() <= 26
            && s.chars().all(|c| ALPHABET.contains(c.to_ascii_uppercase()))
    }
}

impl FromStr for SessionId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        if s.len() == 26 && Self::is_valid_prefix(s) {
            Ok(SessionId(s.to_ascii_uppercase()))
        } else {
            Err(Error::InvalidId(s.to_owned()))
        }
    }
}

impl TryFrom<String> for SessionId {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        s.parse()
    }
}

impl From<SessionId> for String {
    fn from(id: SessionId) -> String {
        id.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_sort_by_time_and_parse() {
        let a = SessionId::generate();
        let b = SessionId::generate();
        assert!(a < b, "same millisecond still increases");
        assert_eq!(a.as_str().parse::<SessionId>().unwrap(), a);
    }

    #[test]
    fn paths_and_junk_are_not_ids() {
        for bad in [
            "../../etc/passwd",
            "",
            "01J/..",
            "0123456789ABCDEFGHJKMNPQRSTV",
        ] {
            assert!(bad.parse::<SessionId>().is_err(), "{bad}");
        }
        assert!(!SessionId::is_valid_prefix("../x"));
        assert!(SessionId::is_valid_prefix("01j"));
    }
}
