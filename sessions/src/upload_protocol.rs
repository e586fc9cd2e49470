//! The upload protocol between `fixcast rec --server` (the client, in the root crate's
//! `cmd/upload.rs`) and `fixcast serve` (`fixcast-web`'s upload routes): what both sides
//! must agree on, in the one crate both depend on.
//!
//! - `POST {UPLOAD_PATH}/{id}{START}` with `meta.json`: answers `{"size": N}`, the bytes
//!   the server holds.
//! - `POST {UPLOAD_PATH}/{id}{APPEND}?{OFFSET}=N` with at most [`CHUNK`] bytes of the
//!   cast file from `N`.
//! - `POST {UPLOAD_PATH}/{id}{FINISH}?{OFFSET}=N` with the final `meta.json`.
//!
//! Every request carries the uploader's key in [`KEY_HEADER`].

/// Where the upload routes are, below the server's address and path prefix.
pub const UPLOAD_PATH: &str = "/api/upload";
/// The step that creates (or reopens) a session; after `/{id}`.
pub const START: &str = "/start";
/// The step that appends bytes at an offset.
pub const APPEND: &str = "/append";
/// The step that saves the final metadata.
pub const FINISH: &str = "/finish";
/// The query parameter of [`APPEND`] and [`FINISH`]: the size the client believes the
/// server holds.
pub const OFFSET: &str = "offset";

/// The request header that carries an uploader's key.
pub const KEY_HEADER: &str = "fixcast-upload-key";
/// Shortest key the server takes: 32 hex digits are 128 bits.
pub const MIN_KEY: usize = 32;
/// Longest key the server takes.
pub const MAX_KEY: usize = 128;

/// Largest body of one upload request the server takes.
pub const UPLOAD_LIMIT: usize = 8 * 1024 * 1024;
/// Most bytes of the recording one append carries: half the server's limit, so a
/// request is never refused for its size.
pub const CHUNK: u64 = 4 * 1024 * 1024;

const _: () = assert!(CHUNK as usize <= UPLOAD_LIMIT);
