//! What the server needs from the rest of fixcast but must not build itself: the commands
//! of a session (cut by `fixcast-recorder`, which this crate never depends on) and the
//! search index kept in step with the store. The binary implements [`Knowledge`] with
//! the same code the CLI uses, so the web and `fixcast search` agree.

use fixcast_indexer::{Hit, Query};
use fixcast_sessions::{CommandRecord, ReadOnly, SessionMeta, Store};

/// An error from the knowledge source, told to the client as a 500 with its message.
pub type KnowledgeError = Box<dyn std::error::Error + Send + Sync>;

/// Commands and search, provided by the binary. Methods are blocking; the server calls
/// them off the async threads.
pub trait Knowledge: Send + Sync + 'static {
    /// The commands of a session. Without `with_output` the cached list is enough
    /// (command lines, times, exit, cwd); with it, each command's output text too.
    fn commands(
        &self,
        store: &Store,
        meta: &SessionMeta,
        with_output: bool,
    ) -> Result<Vec<CommandRecord>, KnowledgeError>;

    /// Runs a query over every session's commands, best first, at most `limit` hits.
    fn search(
        &self,
        store: &Store,
        query: &Query,
        limit: usize,
    ) -> Result<Vec<Hit>, KnowledgeError>;

    /// Indexes a session again after its metadata changed.
    fn reindex(&self, store: &Store, meta: &SessionMeta) -> Result<(), KnowledgeError>;

    /// What only looks (diagnostics, never a fix), for the fix records the session page
    /// shows: the built-in list unless the binary's config adds to it.
    fn read_only(&self, _store: &Store) -> ReadOnly {
        ReadOnly::default()
    }
}
