use std::process::ExitCode;

use fixcast_sessions::Store;

use crate::cli::ExportArgs;

pub fn run(_store: Store, _args: ExportArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not yet")
}
