//! `fixcast show`: one session's metadata, its commands or its fixes, as text or JSON.

use std::io::{self, Write};
use std::process::ExitCode;

use fixcast_sessions::{
    derive_fixes, CommandRecord, CommandSource, FixRecord, FixRoles, SessionMeta, Store,
};

use super::commands::{format_offset, session_commands, Output};
use super::{
    format_duration, format_local, format_size, open_session, printable, read_recording, warn,
};
use crate::cli::ShowArgs;

pub fn run(store: Store, args: ShowArgs) -> anyhow::Result<ExitCode> {
    let meta = open_session(&store, &args.id)?.meta;
    // Only a whole read tells whether the recording is damaged.
    let contents = match read_recording(&store, &meta.id) {
        Ok(c) => Some(c),
        Err(e) => {
            warn(format_args!(
                "session {}: recording unreadable: {e:#}",
                meta.id
            ));
            None
        }
    };
    let mut out = io::stdout().lock();
    if args.commands {
        // The table shows no output: the cache answers it without cutting again.
        let output = if args.json {
            Output::Keep
        } else {
            Output::Skip
        };
        let commands = session_commands(&store, &meta, contents.as_ref(), output)?;
        let records = derive_fixes(&commands, meta.fix_seq, &crate::config::read_only(&store)?);
        if args.json {
            serde_json::to_writer_pretty(&mut out, &commands_json(&commands, &records))?;
            writeln!(out)?;
        } else {
            write_commands(&mut out, &commands, &records)?;
        }
    } else if args.fix {
        let commands = session_commands(&store, &meta, contents.as_ref(), Output::Skip)?;
        let records = derive_fixes(&commands, meta.fix_seq, &crate::config::read_only(&store)?);
        if args.json {
            serde_json::to_writer_pretty(&mut out, &records)?;
            writeln!(out)?;
        } else {
            super::fixes::write_episodes(&mut out, &meta, &commands, &records)?;
        }
    } else if args.json {
        serde_json::to_writer_pretty(&mut out, &meta)?;
        writeln!(out)?;
    } else {
        for (key, value) in fields(&meta) {
            writeln!(out, "{key:<14} {}", printable(&value))?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The commands as JSON, each with what the fix records say of it: `fixed_by` (seqs) on
/// a failure, `fixes` (the failure's seq) on a fix, `verifies` on a successful retry.
fn commands_json(commands: &[CommandRecord], records: &[FixRecord]) -> Vec<serde_json::Value> {
    let roles = FixRoles::of(records);
    commands
        .iter()
        .map(|c| {
            let mut v = serde_json::to_value(c).expect("commands serialise");
            if let Some(r) = roles.symptom.get(&c.seq) {
                v["fixed_by"] = serde_json::json!(r.fix);
                v["found"] = serde_json::json!(r.found.as_str());
            }
            if let Some(s) = roles.fixes.get(&c.seq) {
                v["fixes"] = serde_json::json!(s);
            }
            if let Some(s) = roles.verifies.get(&c.seq) {
                v["verifies"] = serde_json::json!(s);
            }
            v
        })
        .collect()
}

/// The command table: one line per command, its first line if it has several.
fn write_commands(
    out: &mut impl Write,
    commands: &[CommandRecord],
    records: &[FixRecord],
) -> io::Result<()> {
    let roles = FixRoles::of(records);
    if commands.is_empty() {
        return writeln!(out, "no commands found in this session");
    }
    writeln!(
        out,
        "{:>4}  {:>8}  {:>8}  {:>4}  {:<20}  COMMAND",
        "SEQ", "AT", "TOOK", "EXIT", "CWD"
    )?;
    for c in commands {
        let exit = c.exit.map_or_else(|| "?".to_owned(), |e| e.to_string());
        let mut line = c.command.lines().next().unwrap_or_default().to_owned();
        if c.command.contains('\n') {
            line.push_str(" …");
        }
        let mut notes = roles.notes(c.seq);
        if c.source == CommandSource::Heuristic {
            notes.push("heuristic".into());
        }
        if c.full_screen {
            notes.push("full screen".into());
        }
        if !notes.is_empty() {
            line.push_str(&format!("  [{}]", notes.join(", ")));
        }
        if c.suspicious {
            let list: Vec<String> = c.confusables.iter().map(|l| l.to_string()).collect();
            line.push_str(&format!("  [! look-alike: {}]", list.join(", ")));
        }
        writeln!(
            out,
            "{:>4}  {:>8}  {:>8}  {:>4}  {:<20}  {}",
            c.seq,
            format_offset(c.start),
            format_duration(c.duration()),
            exit,
            printable(c.cwd.as_deref().unwrap_or("-")),
            printable(&line)
        )?;
    }
    Ok(())
}

/// The human form: every field that has a value, in the order people look for them.
fn fields(m: &SessionMeta) -> Vec<(&'static str, String)> {
    let mut f = vec![
        ("id:", m.id.to_string()),
        ("title:", m.display_title().to_owned()),
    ];
    let mut opt = |key, value: Option<String>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            f.push((key, v));
        }
    };
    opt("tags:", Some(m.tags.join(", ")));
    opt("status:", Some(m.status.as_str().to_owned()));
    opt(
        "started:",
        Some(format!(
            "{} ({})",
            format_local(m.started),
            rfc3339(m.started)
        )),
    );
    let duration = super::duration_so_far(m);
    let so_far = if m.status == fixcast_sessions::Status::Recording {
        " so far"
    } else {
        ""
    };
    opt(
        "duration:",
        Some(format!(
            "{}{so_far} ({duration:.3} s)",
            format_duration(duration),
        )),
    );
    opt("host:", Some(m.host.clone()));
    opt("user:", Some(m.user.clone()));
    opt("shell:", Some(m.shell.clone()));
    opt("command:", m.command.clone());
    opt("cwd:", Some(m.cwd.clone()));
    let term_type = m.term.term_type.as_deref().map(|t| format!(" ({t})"));
    opt(
        "term size:",
        Some(format!(
            "{}x{}{}",
            m.term.cols,
            m.term.rows,
            term_type.unwrap_or_default()
        )),
    );
    opt("exit status:", m.exit_status.map(|s| s.to_string()));
    let b = &m.bytes;
    let mut bytes = format!(
        "{} output, {} stored ({})",
        b.output,
        b.stored,
        format_size(b.stored)
    );
    if m.record_input || b.input > 0 {
        bytes.push_str(&format!(", {} input", b.input));
    }
    if b.withheld > 0 {
        bytes.push_str(&format!(
            ", {} input withheld (typed with echo off)",
            b.withheld
        ));
    }
    if b.dropped > 0 {
        bytes.push_str(&format!(
            ", {} DROPPED (the disk could not keep up)",
            b.dropped
        ));
    }
    opt("bytes:", Some(bytes));
    opt(
        "redaction:",
        Some(match &m.redaction {
            Some(r) if r.redacted => format!("on ({} redacted)", super::count(r.count, "secret")),
            Some(_) => "off (recorded with --no-redact)".to_owned(),
            None => "none (`fixcast redact` redacts it)".to_owned(),
        }),
    );
    opt("idle limit:", m.idle_time_limit.map(|s| format!("{s} s")));
    opt("recorder pid:", m.recorder_pid.map(|p| p.to_string()));
    opt("imported from:", m.imported_from.clone());
    opt("notes:", m.notes.clone());
    opt("fixcast:", Some(m.fixcast_version.clone()));
    f
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}
