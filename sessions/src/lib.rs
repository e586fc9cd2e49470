//! fixcast-sessions owns what a session *is* on disk: the one [`Event`] type, the
//! [`SessionMeta`] in `meta.json`, the crash-safe `session.cast.zst` (asciicast v3 in
//! zstd frames), asciicast v1/v2/v3 reading and writing, and the [`Store`] that holds
//! sessions under a home folder.
//!
//! It is small and synchronous on purpose: no async runtime, no index, no HTTP.
//!
//! ```no_run
//! use fixcast_sessions::Store;
//! let store = Store::open("/tmp/fixcast-home")?;
//! let (sessions, _unreadable) = store.list()?;
//! for s in sessions {
//!     println!("{} {}", s.meta.id.short(), s.meta.display_title());
//! }
//! # Ok::<(), fixcast_sessions::Error>(())
//! ```
#![forbid(unsafe_code)]

mod again;
pub mod asciicast;
mod atomic;
mod cast_decode;
mod cast_file;
mod cast_reader;
mod cast_tail;
mod command;
mod confusable;
mod contain;
mod edit;
mod error;
mod error_lines;
mod event;
mod fix;
mod fix_roles;
mod id;
mod mark_scan;
mod meta;
mod read_only;
mod recompact;
mod screen;
mod session;
mod shell_words;
mod store;
#[cfg(feature = "synthetic")]
pub mod synthetic;
mod time_only;
pub mod upload_protocol;
mod zstd_spare;

pub use again::{again_from, micros, Again, Plan, END_SLACK};
pub use atomic::{write_atomic, write_atomic_with};
pub use cast_decode::CastDecoder;
pub use cast_file::{read_cast, CastWriter, FrameMark};
pub use cast_reader::CastReader;
pub use cast_tail::CastTail;
pub use command::{CacheKey, CommandRecord, CommandSource, COMMANDS_VERSION};
pub use confusable::{ascii_twin_text, suspicious_chars, Confusable};
pub use contain::{contain, containing, Panicked};
pub use edit::{Edit, EditError, Edited, TagEdit, MAX_NOTES, MAX_TAG, MAX_TAGS, MAX_TITLE};
pub use error::{error_chain, Error, Result};
pub use error_lines::{error_lines, error_signature, ERROR_LINES};
pub use event::{parse_size, Event, EventKind, Seconds};
pub use fix::{derive as derive_fixes, failed, failed_status, FixRecord, Found};
pub use fix_roles::FixRoles;
pub use id::SessionId;
pub use mark_scan::{frame_marks, read_frame_marks};
pub use meta::{Bytes, Redaction, SessionMeta, Status, Term};
pub use read_only::{ReadOnly, READ_ONLY};
pub use recompact::{compacted_from, is_compacted, CompactError, Compacted};
pub use screen::{emulated_size, MAX_SIDE, MIN_SIDE};
pub use session::{Session, UploadFile};
pub use store::{
    Import, Listed, RecordingLock, Store, CAST_FILE, COMMANDS_FILE, META_FILE, UPLOAD_KEY_FILE,
};
