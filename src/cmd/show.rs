use std::process::ExitCode;

use fixcast_sessions::Store;

use crate::cli::ShowArgs;

pub fn run(_store: Store, _args: ShowArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not yet")
}
