//! `fixcast reindex`: rebuild the search index from the sessions alone.

use std::process::ExitCode;

use fixcast_sessions::Store;

use super::index::{catalog, Bar};
use crate::cli::ReindexArgs;

pub fn run(store: Store, _args: ReindexArgs) -> anyhow::Result<ExitCode> {
    catalog(&store).rebuild(&mut Bar::new()).map_err(|e| {
        // A full disk or a read-only home is no damage: say what to do, once.
        if e.index_error().is_some_and(|e| e.is_unwritable()) {
            anyhow::anyhow!(
                "{:#}; make room (or make the home writable), then run `fixcast reindex` again; searches use the index as it is meanwhile",
                anyhow::Error::from(e)
            )
        } else {
            e.into()
        }
    })?;
    Ok(ExitCode::SUCCESS)
}
