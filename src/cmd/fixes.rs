//! A session's fix records as a person reads them: each failure, what was looked at, what
//! fixed it and the retry that proved it, with the way to replay each.

use std::collections::HashMap;
use std::io::{self, Write};

use fixcast_sessions::{CommandRecord, FixRecord, SessionMeta};

use super::commands::format_offset;
use super::printable;

/// `fixcast play 01M8BSC2 --at 7.9`: a little before the command, so its prompt is on
/// screen when replay starts (built by the indexer, as search hits carry it).
pub fn play_at(session: &str, offset: f64) -> String {
    fixcast_indexer::play_command(session, offset)
}

/// Each episode: symptom, error lines, diagnostics, fix, verification (or next steps).
pub fn write_episodes(
    out: &mut impl Write,
    meta: &SessionMeta,
    commands: &[CommandRecord],
    records: &[FixRecord],
) -> io::Result<()> {
    if records.is_empty() {
        return writeln!(out, "no command failed in this session");
    }
    let by_seq: HashMap<u32, &CommandRecord> = commands.iter().map(|c| (c.seq, c)).collect();
    let id = meta.id.as_str();
    let line = |seq: u32| {
        by_seq.get(&seq).map_or_else(
            || format!("#{seq}"),
            |c| {
                format!(
                    "#{seq} $ {}",
                    printable(c.command.lines().next().unwrap_or_default())
                )
            },
        )
    };
    let at = |seq: u32| by_seq.get(&seq).map_or(0.0, |c| c.start);
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        let exit = by_seq
            .get(&r.symptom)
            .and_then(|c| c.exit)
            .map_or_else(|| "exit ?".to_owned(), |e| format!("exit {e}"));
        writeln!(
            out,
            "failed:    {}   [{exit}, at {}]",
            line(r.symptom),
            format_offset(at(r.symptom))
        )?;
        for e in &r.error {
            writeln!(out, "           │ {}", printable(e))?;
        }
        for &d in &r.diagnostics {
            writeln!(out, "looked:    {}", line(d))?;
        }
        let after = r.verification.map(|v| at(v) - at(r.symptom));
        for (k, &f) in r.fix.iter().enumerate() {
            let label = if k == 0 { "fixed by:" } else { "      and:" };
            writeln!(
                out,
                "{label:<10} {}   ({})   {}",
                line(f),
                r.found.told(after),
                play_at(id, at(f))
            )?;
        }
        if let Some(v) = r.verification {
            writeln!(out, "verified:  {}   {}", line(v), play_at(id, at(v)))?;
        }
        if !r.is_resolved() {
            writeln!(out, "unresolved; next steps:")?;
            for &n in &r.next_steps {
                writeln!(out, "           {}", line(n))?;
            }
        }
    }
    Ok(())
}
