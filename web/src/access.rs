//! How handlers reach the store and the knowledge source: blocking work off the async
//! threads, a session from a path segment, a session's commands. Shared by the API and
//! the pages, so neither imports the other.

use fixcast_sessions::{error_chain, CommandRecord, Listed, SessionMeta, Store};

use crate::error::{Error, Result};
use crate::AppState;

/// Runs blocking work (file system, index, decompression) off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(Error::join)?
}

/// A session from a path segment: a full id or a unique prefix, validated before it
/// touches the file system.
pub(crate) fn open_session(store: &Store, raw: &str) -> Result<Listed> {
    let id = store.resolve(raw)?;
    Ok(store.load(&id)?)
}

pub(crate) async fn load(state: &AppState, raw: String) -> Result<SessionMeta> {
    let store = state.store().clone();
    blocking(move || open_session(&store, &raw).map(|l| l.meta)).await
}

pub(crate) async fn session_commands(
    state: &AppState,
    meta: &SessionMeta,
    with_output: bool,
) -> Result<Vec<CommandRecord>> {
    let (store, k, meta) = (
        state.store().clone(),
        state.knowledge().clone(),
        meta.clone(),
    );
    blocking(move || {
        k.commands(&store, &meta, with_output)
            .map_err(|e| knowledge_error(&meta, e))
    })
    .await
}

/// What the knowledge source's failure to give a session's commands is told as.
pub(crate) fn knowledge_error(meta: &SessionMeta, e: crate::KnowledgeError) -> Error {
    match e.downcast::<fixcast_sessions::Error>() {
        // Said as it is: a 422 that names the session and why.
        Ok(e) if matches!(*e, fixcast_sessions::Error::Unreadable { .. }) => Error::Store(*e),
        Ok(e) => Error::Knowledge(format!(
            "session {}: commands: {}",
            meta.id,
            error_chain(&*e)
        )),
        Err(e) => Error::Knowledge(format!(
            "session {}: commands: {}",
            meta.id,
            error_chain(&*e)
        )),
    }
}
