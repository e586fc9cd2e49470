//! The synthetic corpus (see [`crate::corpus`]) as real sessions in a real store: each
//! session becomes the recording `fixcast rec` makes of bash with its shell integration
//! (recorder/src/integration/bash.sh), which is then cut by the product's cutter and its
//! command listing cached, as `reindex` finds a session recorded for real. What the index
//! gets is the cut commands, so the bench measures what a user's index holds, and a
//! search can read a hit's output back from its recording.
//!
//! Per command, the stream bash prints: at the prompt `133;D;<status>` of the last command
//! (from PROMPT_COMMAND), OSC 7 with the cwd (every prompt, as bash.sh does), then PS1
//! between `133;A` and `133;B` (Debian's coloured prompt with its title); the typed line
//! echoed, Enter (an empty input event, as the recorder notes it), the echoed line break;
//! PS0's `633;E;<line>` and `133;C`, with the chapter marker the recorder adds; the output
//! in a few events over the command's run, lines ending `\r\n` as the tty gives them.

use std::fmt::Write as _;

use anyhow::Context;
use fixcast_sessions::{micros, CommandRecord, Event, EventKind, SessionMeta, Status, Store};

/// A session as stored and cut.
pub struct Recorded {
    /// The metadata as stored (complete, with its duration and byte counts).
    pub meta: SessionMeta,
    /// The commands cut from the recording, output included.
    pub commands: Vec<CommandRecord>,
    /// Bytes of the recording on disk.
    pub stored: u64,
}

/// Lines of output per output event, at most (a command's output comes in a few reads).
const LINES_PER_EVENT: usize = 8;

/// Writes `meta`'s recording of `generated` into `store` (through [`Store::create`], as
/// the recorder does), reads it back and cuts it as `reindex` does, and caches the
/// listing beside it (as src/cmd/commands.rs does).
pub fn record(
    store: &Store,
    mut meta: SessionMeta,
    generated: &[CommandRecord],
) -> anyhow::Result<Recorded> {
    let id = meta.id.clone();
    let mut w = store.create(&meta, &meta.header())?;
    for ev in events(&meta, generated) {
        w.write(&ev)?;
        meta.duration = meta.duration.max(ev.seconds());
        match &ev.kind {
            EventKind::Output(s) => meta.bytes.output += s.len() as u64,
            EventKind::Exit(status) => meta.exit_status = Some(*status),
            _ => {}
        }
    }
    meta.bytes.stored = w.finish()?;
    meta.status = Status::Complete;
    store.save_meta(&meta)?;

    let key = store.session(&id).cast_key()?;
    let rec = store.read(&id)?;
    anyhow::ensure!(
        rec.damage.is_empty(),
        "session {id}: the recording just written reads back damaged: {}",
        rec.damage.join("; ")
    );
    let commands = fixcast_recorder::cut_commands(
        rec.header.cols,
        rec.header.rows,
        meta.command.as_deref(),
        &rec.events,
    );
    anyhow::ensure!(
        commands.len() == generated.len(),
        "session {id}: {} commands generated but {} cut from its recording (the bench's recordings and the cutter disagree)",
        generated.len(),
        commands.len()
    );
    // Every command, at any size: the figures are of the corpus that was generated.
    for (g, c) in generated.iter().zip(&commands) {
        anyhow::ensure!(
            same(g, c),
            "session {id}: command {} cut from its recording differs from the one generated ({:?} vs {:?}): the bench's recordings and the cutter disagree",
            g.seq,
            c.command,
            g.command
        );
    }
    let listing = commands.iter().map(CommandRecord::without_output).collect();
    store
        .save_commands(&id, key, listing)
        .with_context(|| format!("session {id}: cannot cache its commands"))?;
    let stored = meta.bytes.stored;
    Ok(Recorded {
        meta,
        commands,
        stored,
    })
}

/// [`record`] for each session, on `threads` threads; in the order given.
pub fn record_all(
    store: &Store,
    sessions: Vec<(SessionMeta, Vec<CommandRecord>)>,
    threads: usize,
) -> anyhow::Result<Vec<Recorded>> {
    let threads = threads.clamp(1, sessions.len().max(1));
    let mut shares: Vec<Vec<(usize, SessionMeta, Vec<CommandRecord>)>> =
        (0..threads).map(|_| Vec::new()).collect();
    for (i, (meta, cmds)) in sessions.into_iter().enumerate() {
        shares[i % threads].push((i, meta, cmds));
    }
    let done: Vec<anyhow::Result<Vec<(usize, Recorded)>>> = std::thread::scope(|s| {
        let handles: Vec<_> = shares
            .into_iter()
            .map(|share| {
                s.spawn(move || {
                    share
                        .into_iter()
                        .map(|(i, meta, cmds)| Ok((i, record(store, meta, &cmds)?)))
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a recording thread panicked")))
            })
            .collect()
    });
    let mut all = Vec::new();
    for share in done {
        all.extend(share?);
    }
    all.sort_by_key(|(i, _)| *i);
    Ok(all.into_iter().map(|(_, r)| r).collect())
}

/// The events bash with fixcast's integration prints for these commands (their times,
/// lines, cwds, outputs and statuses), then `exit` (Ctrl-D) a second after the last.
pub fn events(meta: &SessionMeta, commands: &[CommandRecord]) -> Vec<Event> {
    let out = |time: u64, text: String| Event::new(time, EventKind::Output(text));
    let mut evs = Vec::with_capacity(commands.len() * 8);
    let mut at = 100_000; // the first prompt, as bash comes up
                          // The prompt before a command shows (and OSC 7 says) where it runs.
    let cwd_of = |c: &CommandRecord| c.cwd.clone().unwrap_or_else(|| meta.cwd.clone());
    let mut prompt = prompt(
        meta,
        &commands.first().map_or(meta.cwd.clone(), cwd_of),
        None,
    );
    for (i, c) in commands.iter().enumerate() {
        let (start, end) = (micros(c.start), micros(c.end));
        evs.push(out(at, std::mem::take(&mut prompt)));
        // Typed a while after the prompt came, then Enter, its echo, and PS0's marks.
        let enter = start.saturating_sub(20_000).max(at);
        evs.push(out(at + (enter - at) / 2, c.command.clone()));
        evs.push(Event::new(enter, EventKind::Input(String::new())));
        evs.push(out(enter + (start - enter) / 2, "\r\n".into()));
        evs.push(out(
            start,
            format!(
                "\x1b]633;E;{}\x1b\\\x1b]133;C\x1b\\",
                escape_line(&c.command)
            ),
        ));
        evs.push(Event::new(start, EventKind::Marker(c.command.clone())));
        let lines: Vec<&str> = c.output.split_inclusive('\n').collect();
        let chunks: Vec<&[&str]> = lines.chunks(LINES_PER_EVENT).collect();
        for (k, chunk) in chunks.iter().enumerate() {
            // Spread over the run, the last piece just before it ends.
            let t = start + (end - start) * (k as u64 + 1) / (chunks.len() as u64 + 1);
            let text: String = chunk.iter().map(|l| l.replace('\n', "\r\n")).collect();
            evs.push(out(t, text));
        }
        at = end;
        let next_cwd = cwd_of(commands.get(i + 1).unwrap_or(c));
        prompt = self::prompt(meta, &next_cwd, Some(c.exit.unwrap_or(0)));
    }
    evs.push(out(at, prompt));
    evs.push(out(at + 1_000_000, "exit\r\n".into()));
    evs.push(Event::new(at + 1_000_000, EventKind::Exit(0)));
    evs
}

/// The prompt: `133;D` for the command before it (if any), OSC 7, then Debian's PS1
/// (title, green user@host, blue cwd) between `133;A` and `133;B`.
fn prompt(meta: &SessionMeta, cwd: &str, ended: Option<i32>) -> String {
    let (u, h) = (&meta.user, &meta.host);
    let sigil = if u == "root" { '#' } else { '$' };
    let mut s = String::new();
    if let Some(exit) = ended {
        let _ = write!(s, "\x1b]133;D;{exit}\x1b\\");
    }
    let _ = write!(
        s,
        "\x1b]7;file://{h}{}\x1b\\\x1b]133;A\x1b\\\x1b]0;{u}@{h}: {cwd}\x07\x1b[01;32m{u}@{h}\x1b[00m:\x1b[01;34m{cwd}\x1b[00m{sigil} \x1b]133;B\x1b\\",
        percent_encode(cwd)
    );
    s
}

/// The command line as bash.sh's `__fixcast_mark_exec` escapes it for `633;E` (as VS Code
/// does): backslash doubled, `;` and control characters as `\xHH`.
fn escape_line(line: &str) -> String {
    let mut s = String::with_capacity(line.len());
    for c in line.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            ';' => s.push_str("\\x3b"),
            c if (c as u32) < 32 || c as u32 == 127 => {
                let _ = write!(s, "\\x{:02x}", c as u32);
            }
            c => s.push(c),
        }
    }
    s
}

/// The cwd as bash.sh's `__fixcast_osc7` puts it in the URL: all but `[a-zA-Z0-9/._~-]`
/// as `%XX`.
fn percent_encode(path: &str) -> String {
    let mut s = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"/._~-".contains(&b) {
            s.push(b as char);
        } else {
            let _ = write!(s, "%{b:02X}");
        }
    }
    s
}

/// Whether `cut` is `generated` as the cutter gives it back: line, status, cwd, times,
/// and the output as a screen shows it ([`as_shown`]).
pub fn same(generated: &CommandRecord, cut: &CommandRecord) -> bool {
    cut.seq == generated.seq
        && cut.command == generated.command
        && cut.exit == generated.exit
        && cut.cwd == generated.cwd
        && (cut.start, cut.end) == (generated.start, generated.end)
        && cut.output_cut == 0
        && cut.output == as_shown(&generated.output)
}

/// What a screen shows of generated output: tabs at 8-column stops, no trailing spaces,
/// no trailing blank lines.
pub fn as_shown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for line in text.lines() {
        let start = out.len();
        let mut col = 0;
        for ch in line.chars() {
            if ch == '\t' {
                let n = 8 - col % 8;
                out.extend(std::iter::repeat_n(' ', n));
                col += n;
            } else {
                out.push(ch);
                col += 1;
            }
        }
        out.truncate(start + out[start..].trim_end().len());
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    if out == "\n" {
        out.clear();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::TempDir;

    /// The figures are honest only if cutting the recordings gives back what was
    /// generated: the same lines, statuses, cwds, times and (as a screen shows it) output.
    #[test]
    fn cutting_the_recordings_gives_back_the_generated_commands() {
        let tmp = TempDir::new("corpus-cast-test").unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let sessions: Vec<_> = crate::corpus::sessions(400, 7).collect();
        let recorded = record_all(&store, sessions.clone(), 2).unwrap();
        assert_eq!(recorded.len(), sessions.len());
        let (mut moved, mut tabs, mut failed) = (0, 0, 0);
        for ((meta, generated), rec) in sessions.iter().zip(&recorded) {
            assert_eq!(rec.meta.id, meta.id);
            assert_eq!(rec.meta.status, Status::Complete);
            assert!(rec.stored > 0);
            let cached = store.cached_commands(&meta.id).unwrap().expect("cached");
            assert_eq!(cached.len(), generated.len());
            for (g, c) in generated.iter().zip(&rec.commands) {
                let at = format!("{} #{}: {:?}", meta.id, g.seq, g.command);
                assert_eq!(c.seq, g.seq, "{at}");
                assert_eq!(c.command, g.command, "{at}");
                assert_eq!(c.exit, g.exit, "{at}");
                assert_eq!(c.cwd, g.cwd, "{at}");
                assert_eq!((c.start, c.end), (g.start, g.end), "{at}");
                assert_eq!(c.output, as_shown(&g.output), "{at}");
                assert_eq!(c.output_cut, 0, "{at}");
                assert!(same(g, c), "{at}");
                moved += usize::from(g.command.starts_with("cd "));
                tabs += usize::from(g.output.contains('\t'));
                failed += usize::from(g.exit != Some(0));
            }
            for (c, l) in rec.commands.iter().zip(&cached) {
                assert_eq!(l.command, c.command);
                assert_eq!(l.end, c.end);
            }
        }
        // The corpus has what the comparison is about: cds, tabs, failures.
        assert!(
            moved > 10 && tabs > 5 && failed > 20,
            "{moved} {tabs} {failed}"
        );
    }

    #[test]
    fn output_is_compared_as_a_screen_shows_it() {
        assert_eq!(as_shown("a\tb  \n\tat x\n\n"), "a       b\n        at x\n");
        assert_eq!(as_shown(""), "");
        assert_eq!(as_shown("\n\n"), "");
        let mut c = CommandRecord::new(
            1,
            1.0,
            2.0,
            "ls".into(),
            fixcast_sessions::CommandSource::Integration,
        );
        c.output = "x\n".into();
        let mut cut = c.clone();
        assert!(same(&c, &cut));
        cut.output = "y\n".into();
        assert!(!same(&c, &cut));
    }

    #[test]
    fn command_lines_are_escaped_as_bash_does() {
        assert_eq!(escape_line(r"a\b;c"), r"a\\b\x3bc");
        assert_eq!(escape_line("x\ty\u{7f}"), r"x\x09y\x7f");
        assert_eq!(percent_encode("/tmp/a b%"), "/tmp/a%20b%25");
    }
}
