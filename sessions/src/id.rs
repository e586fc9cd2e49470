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
    /// and URLs before they touch the file system). 26 base32 characters hold 130 bits
    /// and a ULID 128, so the first one is 0 to 7: `ZZZZ…` would sort after every real
    /// id and list as the newest session.
    pub fn is_valid_prefix(s: &str) -> bool {
        !s.is_empty()
            && s.len() <= 26
            && s.starts_with(|c: char| ('0'..='7').contains(&c))
            && s.chars().all(|c| ALPHABET.contains(c.to_ascii_uppercase()))
    }

    /// When the session started, as the id says: milliseconds since the Unix epoch (the
    /// first 10 characters, 48 bits).
    pub fn timestamp_ms(&self) -> u64 {
        self.0[..10].chars().fold(0u64, |acc, c| {
            // Valid by construction: every character is in the alphabet.
            let digit = ALPHABET.find(c).unwrap_or(0) as u64;
            acc << 5 | digit
        })
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

    #[test]
    fn ids_past_the_48_bit_time_are_not_ids() {
        // 26 base32 characters hold 130 bits, a ULID 128: the first is 0 to 7.
        for bad in ["ZZZZZZZZZZZZZZZZZZZZZZZZZZ", "80000000000000000000000000"] {
            assert!(bad.parse::<SessionId>().is_err(), "{bad}");
            assert!(!SessionId::is_valid_prefix(&bad[..3]), "{bad}");
        }
        assert!("7ZZZZZZZZZZZZZZZZZZZZZZZZZ".parse::<SessionId>().is_ok());
    }

    #[test]
    fn an_id_tells_when_it_was_made() {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let t = SessionId::generate().timestamp_ms();
        assert!(t.abs_diff(now) < 5_000, "{t} vs {now}");
        let max: SessionId = "7ZZZZZZZZZZZZZZZZZZZZZZZZZ".parse().unwrap();
        assert_eq!(max.timestamp_ms(), (1 << 48) - 1);
    }
}
