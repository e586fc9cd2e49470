//! `fixcast export`: a session as asciicast v3/v2, raw output bytes, plain text, or a
//! runbook (Markdown, or a standalone HTML page that plays the session).

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::{bail, Context};
use fixcast_sessions::asciicast::{write_v2, write_v3, Recording};
use fixcast_sessions::{derive_fixes, CommandRecord, CommandSource, Event, EventKind, Store};

use super::commands::{is_unreadable, session_commands, Output};
use super::{open_session, read_recording, warn};
use super::{runbook, runbook_html};
use crate::cli::{ExportArgs, ExportFormat};

mod stream;

pub fn run(store: Store, args: ExportArgs) -> anyhow::Result<ExitCode> {
    let meta = open_session(&store, &args.id)?.meta;
    // One command's output is text: `--command 3` alone means `--format txt`.
    let format = args.format.unwrap_or(match args.command {
        Some(_) => ExportFormat::Txt,
        None => ExportFormat::CastV3,
    });
    if args.command.is_none() && stream::streams(format) {
        stream::export(&store, &meta, &args, format)?;
        return Ok(ExitCode::SUCCESS);
    }
    let contents = read_recording(&store, &meta.id)?;
    if let Some(n) = args.command {
        if format != ExportFormat::Txt {
            bail!("--command goes with --format txt");
        }
        let commands = session_commands(&store, &meta, Some(&contents), Output::Keep)?;
        let Some(c) = commands.iter().find(|c| c.seq == n) else {
            bail!(
                "session {}: no command {n} (it has {}; see `fixcast show {} --commands`)",
                meta.id,
                commands.len(),
                meta.id.short()
            );
        };
        return write_out(&args, c.output.as_bytes());
    }
    // A runbook reads the commands with their output, before the events move below.
    let runbook = match format {
        ExportFormat::Md | ExportFormat::Html => {
            let commands = session_commands(&store, &meta, Some(&contents), Output::Keep)?;
            let records = derive_fixes(&commands, meta.fix_seq, &crate::config::read_only(&store)?);
            Some((commands, records))
        }
        _ => None,
    };
    let commands = match format {
        ExportFormat::Html => runbook.as_ref().map(|(commands, _)| commands.clone()),
        ExportFormat::CastV3 | ExportFormat::CastV2 => {
            match session_commands(&store, &meta, Some(&contents), Output::Skip) {
                Ok(commands) => Some(commands),
                // The recording itself is whole: it is exported without chapter markers.
                Err(e) if is_unreadable(&e) => {
                    warn(format_args!("{e}; exported without markers"));
                    None
                }
                Err(e) => return Err(e),
            }
        }
        _ => None,
    };
    let mut rec = contents;
    if let Some(commands) = commands {
        add_markers(&mut rec, &commands);
    }
    let bytes = match format {
        ExportFormat::CastV3 => write_v3(&rec).into_bytes(),
        ExportFormat::CastV2 => write_v2(&rec).into_bytes(),
        // Written as they are read (see `stream`).
        ExportFormat::Raw | ExportFormat::Txt => unreachable!("streamed above"),
        ExportFormat::Md => runbook
            .map(|(commands, records)| runbook::markdown(&meta, &commands, &records))
            .unwrap_or_default()
            .into_bytes(),
        ExportFormat::Html => {
            let cast = write_v3(&rec);
            let (commands, records) = runbook.unwrap_or_default();
            let (js, css) = fixcast_web::player_inline().map_err(anyhow::Error::msg)?;
            let page = runbook_html::html(&meta, &commands, &records, &cast, (&js, &css));
            // A long session makes a large page (the recording is in it, whole): say how
            // large, and how much of it is the recording.
            eprintln!(
                "fixcast: {}: {} ({} of it the recording, {} commands)",
                args.output
                    .as_deref()
                    .map_or_else(|| "html runbook".to_owned(), |p| p.display().to_string()),
                super::format_size(page.len() as u64),
                super::format_size(cast.len() as u64),
                commands.len()
            );
            page.into_bytes()
        }
    };
    write_out(&args, &bytes)
}

fn write_out(args: &ExportArgs, bytes: &[u8]) -> anyhow::Result<ExitCode> {
    match &args.output {
        // The error names the file.
        Some(path) => fixcast_sessions::write_atomic(path, bytes).context("cannot write")?,
        None => {
            let mut out = io::stdout().lock();
            out.write_all(bytes)?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Commands found by the heuristic have no marker in the recording (integration's are
/// written live): exports get one for each, so every player shows every command.
fn add_markers(rec: &mut Recording, commands: &[CommandRecord]) {
    let has_marker = |rec: &Recording, t: u64, label: &str| {
        rec.events
            .iter()
            .any(|e| e.time == t && matches!(&e.kind, EventKind::Marker(l) if l == label))
    };
    let mut added = false;
    for c in commands
        .iter()
        .filter(|c| c.source == CommandSource::Heuristic)
    {
        let t = (c.start * 1e6).round() as u64;
        if t == 0 || has_marker(rec, t, &c.command) {
            continue;
        }
        rec.events
            .push(Event::new(t, EventKind::Marker(c.command.clone())));
        added = true;
    }
    if added {
        // Stable: a marker lands after the events of its own instant.
        rec.events.sort_by_key(|e| e.time);
    }
}
