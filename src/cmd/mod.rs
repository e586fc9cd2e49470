//! One module per subcommand; the only place that wires the crates together.

mod export;
mod import;
mod ls;
mod play;
mod rec;
mod rm;
mod show;

use std::process::ExitCode;

use anyhow::Context;
use fixcast_sessions::{SessionId, Store};

use crate::cli::{Cli, Command};

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let home = cli.home.clone();
    let store = || open_store(home.clone());
    match cli.command {
        Command::Rec(a) => rec::run(store()?, a),
        Command::Ls(a) => ls::run(store()?, a),
        Command::Show(a) => show::run(store()?, a),
        Command::Play(a) => play::run(store()?, a),
        Command::Export(a) => export::run(store()?, a),
        Command::Import(a) => import::run(store()?, a),
        Command::Rm(a) => rm::run(store()?, a),
    }
}

fn open_store(home: Option<std::path::PathBuf>) -> anyhow::Result<Store> {
    let home = home
        .or_else(Store::default_home)
        .context("no home folder: set FIXCAST_HOME or pass --home")?;
    Ok(Store::open(home)?)
}

/// Resolves a user-typed id or prefix, and warns when the session was just repaired.
fn resolve(store: &Store, prefix: &str) -> anyhow::Result<SessionId> {
    Ok(store.resolve(prefix)?)
}
