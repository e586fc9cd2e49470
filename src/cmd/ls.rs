use std::process::ExitCode;

use fixcast_sessions::Store;

use crate::cli::LsArgs;

pub fn run(_store: Store, _args: LsArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not yet")
}
