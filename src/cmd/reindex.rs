//! `fixcast reindex`: rebuild the search index from the sessions alone.

use std::process::ExitCode;

use fixcast_indexer::{CommandIndex, Error as IndexError};
use fixcast_sessions::Store;

use super::index::{index_dir, rebuild_fresh, rebuild_in_place};
use super::warn;
use crate::cli::ReindexArgs;

pub fn run(store: Store, _args: ReindexArgs) -> anyhow::Result<ExitCode> {
    rebuild(&store).map_err(|e| {
        // A full disk or a read-only home is no damage: say what to do, once.
        if index_error(&e).is_some_and(IndexError::is_unwritable) {
            anyhow::anyhow!(
                "{e:#}; make room (or make the home writable), then run `fixcast reindex` again; searches use the index as it is meanwhile"
            )
        } else {
            e
        }
    })?;
    Ok(ExitCode::SUCCESS)
}

fn rebuild(store: &Store) -> anyhow::Result<()> {
    match CommandIndex::open(&index_dir(store)) {
        // In place, under the writer's lock: searches keep working meanwhile, and a
        // fixcast writing the index is waited for rather than overrun.
        Ok(index) => match rebuild_in_place(store, &index) {
            Ok(_) => {}
            // Damaged, or its folder (a file in it) cannot be written: a new index beside
            // it may be. Its warnings about sessions are not told again.
            Err(e) if index_error(&e).is_some_and(|e| e.needs_rebuild() || e.is_unwritable()) => {
                warn(format_args!("{e:#}; building a new index instead"));
                drop(index);
                rebuild_fresh(store, "", true)?;
            }
            Err(e) => return Err(e.context("cannot rebuild the search index")),
        },
        Err(e) if e.needs_rebuild() => {
            rebuild_fresh(store, "", true)?;
        }
        Err(e) => return Err(anyhow::Error::from(e).context("cannot rebuild the search index")),
    }
    Ok(())
}

fn index_error(e: &anyhow::Error) -> Option<&IndexError> {
    e.downcast_ref::<IndexError>()
}
