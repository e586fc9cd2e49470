//! `fixcast`: parse the command line, run the subcommand, map the outcome to an exit code.

mod cli;
mod cmd;
mod config;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cmd::run(cli) {
        Ok(code) => code,
        Err(err) => {
            // A closed pipe (`fixcast ls | head`) is how a reader says "enough", not an error.
            if err
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            eprintln!("fixcast: {err:#}");
            ExitCode::FAILURE
        }
    }
}
