//! `fixcast reindex`: rebuild the search index from the sessions alone.

use std::process::ExitCode;

use fixcast_indexer::CommandIndex;
use fixcast_sessions::Store;

use super::index::{index_dir, rebuild_fresh, rebuild_in_place};
use super::warn;
use crate::cli::ReindexArgs;

pub fn run(store: Store, _args: ReindexArgs) -> anyhow::Result<ExitCode> {
    match CommandIndex::open(&index_dir(&store)) {
        // In place, under the writer's lock: searches keep working meanwhile, and a
        // fixcast writing the index is waited for rather than overrun.
        Ok(index) => match rebuild_in_place(&store, &index) {
            Ok(_) => {}
            Err(e)
                if e.downcast_ref::<fixcast_indexer::Error>()
                    .is_some_and(|e| e.needs_rebuild()) =>
            {
                warn(format_args!("{e:#}; building a new index instead"));
                drop(index);
                rebuild_fresh(&store, "", true)?;
            }
            Err(e) => return Err(e),
        },
        Err(e) if e.needs_rebuild() => {
            rebuild_fresh(&store, "", true)?;
        }
        Err(e) => return Err(e.into()),
    }
    Ok(ExitCode::SUCCESS)
}
