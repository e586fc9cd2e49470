//! `fixcast export`: a session as asciicast v3/v2, raw output bytes, plain text, or a
//! runbook (Markdown, or a standalone HTML page that plays the session).

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{bail, Context};
use fixcast_recorder::{SafeReplay, ScreenText};
use fixcast_sessions::asciicast::{write_v2, write_v3, Recording};
use fixcast_sessions::{
    contain, derive_fixes, CommandRecord, CommandSource, Event, EventKind, Store,
};

use super::commands::{is_unreadable, session_commands, unreadable, Output};
use super::{open_session, read_recording, warn};
use super::{runbook, runbook_html};
use crate::cli::{ExportArgs, ExportFormat};

pub fn run(store: Store, args: ExportArgs) -> anyhow::Result<ExitCode> {
    let meta = open_session(&store, &args.id)?.meta;
    let contents = read_recording(&store, &meta.id)?;
    // One command's output is text: `--command 3` alone means `--format txt`.
    let format = args.format.unwrap_or(match args.command {
        Some(_) => ExportFormat::Txt,
        None => ExportFormat::CastV3,
    });
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
        // On a terminal, the bytes are played: drawing only, unless trusted. Anywhere
        // else they are exactly what the terminal received.
        ExportFormat::Raw if args.output.is_none() && !args.trust && io::stdout().is_terminal() => {
            safe_raw_output(&rec)
        }
        ExportFormat::Raw => raw_output(&rec),
        ExportFormat::Txt => contain(|| render_text(&rec))
            .map_err(|panic| unreadable(&meta.id, "rendered as text", panic.to_string()))?
            .into_bytes(),
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

/// Plain text as the screen showed it, scrollback and final screen.
fn render_text(rec: &Recording) -> String {
    let mut screen = ScreenText::new(rec.header.rows, rec.header.cols);
    for ev in &rec.events {
        match &ev.kind {
            EventKind::Output(s) => screen.write(s.as_bytes()),
            EventKind::Resize { cols, rows } => screen.resize(*rows, *cols),
            _ => {}
        }
    }
    screen.finish().text
}

/// The output bytes as the terminal received them.
fn raw_output(rec: &Recording) -> Vec<u8> {
    let mut out = Vec::new();
    for ev in &rec.events {
        if let EventKind::Output(s) = &ev.kind {
            out.extend_from_slice(s.as_bytes());
        }
    }
    out
}

/// The output bytes through the safe-replay filter.
fn safe_raw_output(rec: &Recording) -> Vec<u8> {
    let mut filter = SafeReplay::default();
    let mut out = Vec::new();
    for ev in &rec.events {
        if let EventKind::Output(s) = &ev.kind {
            out.extend_from_slice(filter.filter(s).as_bytes());
        }
    }
    if let Some(summary) = filter.summary() {
        warn(format_args!(
            "not written: {summary} (--trust or -o FILE writes them)"
        ));
    }
    out
}
