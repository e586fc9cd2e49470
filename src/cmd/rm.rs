use std::process::ExitCode;

use fixcast_sessions::Store;

use crate::cli::RmArgs;

pub fn run(_store: Store, _args: RmArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not yet")
}
