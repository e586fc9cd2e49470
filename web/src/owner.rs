//! Who may write an uploaded session: only the uploader that started it. Its key (at
//! least 128 random bits, sent as `Fixcast-Upload-Key` with every upload request) is
//! kept as a SHA-256 digest in the session's `upload.key` (see
//! [`Store::upload_key`]), so the server checks it after a restart too, and a copy of
//! the home does not give it away. A session without that file was recorded or
//! imported on this server's machine: no upload writes it.

use axum::http::HeaderMap;
use fixcast_sessions::{SessionId, Store};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::{Error, Result};

pub use fixcast_sessions::upload_protocol::KEY_HEADER;
use fixcast_sessions::upload_protocol::{MAX_KEY, MIN_KEY};

/// An uploader's key, as it presented it.
#[derive(Clone)]
pub(crate) struct Key(String);

impl Key {
    /// The key a request presents, if any; a malformed one is refused.
    pub fn from_headers(headers: &HeaderMap) -> Result<Option<Key>> {
        let Some(v) = headers.get(KEY_HEADER) else {
            return Ok(None);
        };
        let v = v.to_str().unwrap_or("").trim();
        let ok = (MIN_KEY..=MAX_KEY).contains(&v.len())
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok {
            return Err(Error::BadRequest(format!(
                "{KEY_HEADER}: expected {MIN_KEY} to {MAX_KEY} letters, digits, - or _ (at least 128 random bits)"
            )));
        }
        Ok(Some(Key(v.to_owned())))
    }

    /// A new random key (256 bits, hex), for an uploader that did not bring its own.
    pub fn generate() -> Result<Key> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)
            .map_err(|e| Error::Internal(format!("no random numbers for an upload key: {e}")))?;
        Ok(Key(hex(&bytes)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What is stored: the key's SHA-256, hex.
    pub fn digest(&self) -> String {
        hex(&Sha256::digest(self.0.as_bytes()))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Refuses, with a message that says why, unless `key` is the key of the uploader that
/// started the (existing) session `id`.
pub(crate) fn check(store: &Store, id: &SessionId, key: Option<&Key>) -> Result<()> {
    let Some(owner) = store.upload_key(id)? else {
        if store.session(id).exists() {
            return Err(Error::Forbidden(format!(
                "session {id} was recorded or imported on this server's machine, not uploaded; uploads never write it"
            )));
        }
        return Err(Error::NotFound(format!(
            "session {id} was not started on this server; start it first"
        )));
    };
    let Some(key) = key else {
        return Err(Error::Forbidden(format!(
            "session {id} belongs to the uploader that started it; send its key in {KEY_HEADER}"
        )));
    };
    if bool::from(key.digest().as_bytes().ct_eq(owner.as_bytes())) {
        Ok(())
    } else {
        Err(Error::Forbidden(format!(
            "session {id} was started by another uploader; it is not written by this one"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_long_random_and_stored_as_digests() {
        let (a, b) = (Key::generate().unwrap(), Key::generate().unwrap());
        assert_eq!(a.as_str().len(), 64);
        assert_ne!(a.as_str(), b.as_str());
        assert_eq!(a.digest().len(), 64);
        assert_ne!(a.digest(), a.as_str());
        let mut h = HeaderMap::new();
        h.insert(KEY_HEADER, "short".parse().unwrap());
        assert!(Key::from_headers(&h).is_err());
        h.insert(KEY_HEADER, "x".repeat(32).parse().unwrap());
        assert!(Key::from_headers(&h).unwrap().is_some());
        h.insert(
            KEY_HEADER,
            format!("{}/..", "x".repeat(32)).parse().unwrap(),
        );
        assert!(Key::from_headers(&h).is_err());
        assert!(Key::from_headers(&HeaderMap::new()).unwrap().is_none());
    }
}
