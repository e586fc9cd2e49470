//! `fixcast edit`: a session's title, tags, notes and marked fix, changed from the
//! command line. The flags become a [`fixcast_sessions::Edit`], the one implementation
//! the web's `PATCH /api/sessions/<id>` uses too; the session is then indexed again, so
//! that search answers with a newly marked fix at once.

use std::process::ExitCode;

use fixcast_sessions::{Edit, EditError, SessionMeta, Store, TagEdit};

use super::commands::{session_commands, Output};
use super::{index, open_session, printable};
use crate::cli::EditArgs;

pub fn run(store: Store, args: EditArgs) -> anyhow::Result<ExitCode> {
    let edit = edit_of(&args);
    let id = open_session(&store, &args.id)?.meta.id;
    let edited = edit
        .apply(&store, &id, |meta| {
            session_commands(&store, meta, None, Output::Skip)
        })
        .map_err(with_hint)?;
    index::index_session_quietly(&store, &edited.meta);
    println!(
        "session {}: {}",
        edited.meta.id.short(),
        changes(&edited.before, &edited.meta)
    );
    Ok(ExitCode::SUCCESS)
}

/// The flags as an edit. Clap has made sure there is at least one.
fn edit_of(args: &EditArgs) -> Edit {
    // An empty value clears, as `null` does on the web.
    let set = |v: &Option<String>| {
        v.as_ref()
            .map(|s| Some(s.clone()).filter(|s| !s.is_empty()))
    };
    Edit {
        title: set(&args.title),
        tags: args
            .tags
            .iter()
            .map(|t| match (t.strip_prefix('+'), t.strip_prefix('-')) {
                (Some(t), _) => TagEdit::Add(t.to_owned()),
                (_, Some(t)) => TagEdit::Remove(t.to_owned()),
                _ => TagEdit::Add(t.clone()),
            })
            .collect(),
        notes: set(&args.note),
        fix_seq: match (args.fix, args.no_fix) {
            (Some(seq), _) => Some(Some(seq)),
            (None, true) => Some(None),
            (None, false) => None,
        },
    }
}

/// A fix that is not a command: where to see which ones there are.
fn with_hint(e: anyhow::Error) -> anyhow::Error {
    match e.downcast_ref::<EditError>() {
        Some(EditError::NoCommand { id, seq, count }) => {
            let has = match count {
                0 => "none".to_owned(),
                n => n.to_string(),
            };
            anyhow::anyhow!(
                "session {}: no command {seq} (it has {has}; see fixcast show {} --commands)",
                id.short(),
                id.short()
            )
        }
        _ => e,
    }
}

/// What the edit changed, as one line: `title "fixed", tags +dns -old, fix #5`.
fn changes(before: &SessionMeta, after: &SessionMeta) -> String {
    let mut said = Vec::new();
    if before.title != after.title {
        said.push(match &after.title {
            Some(t) => format!("title \"{}\"", printable(t)),
            None => "title cleared".to_owned(),
        });
    }
    let added = after.tags.iter().filter(|t| !before.tags.contains(t));
    let removed = before.tags.iter().filter(|t| !after.tags.contains(t));
    let tags: Vec<String> = added
        .map(|t| format!("+{}", printable(t)))
        .chain(removed.map(|t| format!("-{}", printable(t))))
        .collect();
    if !tags.is_empty() {
        said.push(format!("tags {}", tags.join(" ")));
    }
    if before.notes != after.notes {
        said.push(match &after.notes {
            Some(n) => format!("notes set ({} characters)", n.chars().count()),
            None => "notes cleared".to_owned(),
        });
    }
    if before.fix_seq != after.fix_seq {
        said.push(match after.fix_seq {
            Some(seq) => format!("fix #{seq}"),
            None => "fix mark cleared (the inferred fix counts again)".to_owned(),
        });
    }
    if said.is_empty() {
        return "nothing changed".to_owned();
    }
    said.join(", ")
}
