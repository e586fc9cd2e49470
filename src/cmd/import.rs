use std::process::ExitCode;

use fixcast_sessions::Store;

use crate::cli::ImportArgs;

pub fn run(_store: Store, _args: ImportArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not yet")
}
