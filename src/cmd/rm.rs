//! `fixcast rm`: deletes sessions, all named ones or none when a name is wrong.

use std::io::{self, BufRead, IsTerminal, Write};
use std::process::ExitCode;

use fixcast_sessions::{SessionId, Store};

use super::{printable, resolve};
use crate::cli::RmArgs;

pub fn run(store: Store, args: RmArgs) -> anyhow::Result<ExitCode> {
    // Every id is resolved before anything is deleted: a typo deletes nothing.
    let mut ids: Vec<SessionId> = Vec::new();
    for prefix in &args.ids {
        let id = resolve(&store, prefix)?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    if !args.yes {
        if !io::stdin().is_terminal() {
            anyhow::bail!(
                "not deleting {} session(s) without confirmation: standard input is not a \
                 terminal; pass -y to delete",
                ids.len()
            );
        }
        for id in &ids {
            let title = store
                .load(id)
                .map(|l| l.meta.display_title().to_owned())
                .unwrap_or_default();
            eprintln!("  {}  {}", id.short(), printable(&title));
        }
        if !confirm(&format!("delete {} session(s)? [y/N] ", ids.len()))? {
            eprintln!("nothing deleted");
            return Ok(ExitCode::FAILURE);
        }
    }
    let mut failed = false;
    for id in &ids {
        match store.remove(id) {
            Ok(()) => println!("deleted {id}"),
            Err(e) => {
                eprintln!(
                    "fixcast: session {id}: not deleted: {}",
                    fixcast_sessions::error_chain(&e)
                );
                failed = true;
            }
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn confirm(question: &str) -> io::Result<bool> {
    eprint!("{question}");
    io::stderr().flush()?;
    let mut answer = String::new();
    io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}
