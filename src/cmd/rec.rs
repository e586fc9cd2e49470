use std::process::ExitCode;

use fixcast_sessions::Store;

use crate::cli::RecArgs;

pub fn run(_store: Store, _args: RecArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not yet")
}
