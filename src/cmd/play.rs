use std::process::ExitCode;

use fixcast_sessions::Store;

use crate::cli::PlayArgs;

pub fn run(_store: Store, _args: PlayArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not yet")
}
