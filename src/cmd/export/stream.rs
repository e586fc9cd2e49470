//! The exports written as the recording is read (`txt` and `raw`): event by event off
//! the zstd frames, so a recording of any length is exported in the memory of one frame
//! and one screen, never held whole, and neither is what is written.

use std::io::{self, BufWriter, IsTerminal, Write};

use fixcast_recorder::{SafeReplay, ScreenText};
use fixcast_sessions::{contain, CastReader, EventKind, SessionMeta, Store};

use super::super::commands::unreadable;
use super::super::{warn, warn_damage};
use crate::cli::{ExportArgs, ExportFormat};

/// Text is handed to the writer in pieces of about this size.
const TEXT_CHUNK: usize = 64 << 10;
/// Output with no escape sequence is gathered up to about this many bytes.
const GATHER: usize = 64 << 10;
/// The writer's buffer.
const WRITE_BUF: usize = 128 << 10;

/// Whether `format` is written by [`export`].
pub(super) fn streams(format: ExportFormat) -> bool {
    matches!(format, ExportFormat::Txt | ExportFormat::Raw)
}

/// Writes a `txt` or `raw` export of the session as its recording is read: to `-o FILE`
/// atomically (a failure leaves no file), else to standard output.
pub(super) fn export(
    store: &Store,
    meta: &SessionMeta,
    args: &ExportArgs,
    format: ExportFormat,
) -> anyhow::Result<()> {
    let id = &meta.id;
    let live = store.is_being_recorded(id);
    if live {
        warn(format_args!(
            "session {id}: still being recorded; using what it has saved so far"
        ));
    }
    let mut reader = store.session(id).cast_reader()?;
    // On a terminal, the bytes are played: drawing only, unless trusted. Anywhere else
    // they are exactly what the terminal received.
    let safe = format == ExportFormat::Raw
        && args.output.is_none()
        && !args.trust
        && io::stdout().is_terminal();
    let mut write = |out: &mut dyn Write| -> anyhow::Result<()> {
        match format {
            ExportFormat::Txt => {
                let header = match reader.header()? {
                    Some(h) => (h.rows, h.cols),
                    None => {
                        let h = meta.header();
                        (h.rows, h.cols)
                    }
                };
                // A panic in the emulator must not take the command down with it: the
                // session is told as unreadable (on `-o`, no file is left).
                contain(|| text(&mut reader, header, out))
                    .map_err(|p| unreadable(id, "rendered as text", p.to_string()))?
            }
            _ if safe => safe_raw(&mut reader, out),
            _ => raw(&mut reader, out),
        }
    };
    match &args.output {
        Some(path) => fixcast_sessions::write_atomic_with(path, |w| {
            write(w).map_err(|e| match e.downcast::<io::Error>() {
                // The file's, not the recording's (whose errors name it).
                Ok(e) => Failed::Write(anyhow::Error::new(e).context(path.display().to_string())),
                Err(e) => Failed::Other(e),
            })
        })
        .map_err(|e| match e {
            Failed::Write(e) => e.context("cannot write"),
            Failed::Other(e) => e,
        })?,
        None => {
            let mut out = BufWriter::with_capacity(WRITE_BUF, io::stdout().lock());
            write(&mut out)?;
            out.flush()?;
        }
    }
    if !live {
        warn_damage(id, &reader.damage());
    }
    Ok(())
}

/// Why an export to a file failed: writing the file, or reading the recording.
enum Failed {
    Write(anyhow::Error),
    Other(anyhow::Error),
}

impl From<fixcast_sessions::Error> for Failed {
    /// The temp file's creation and renaming (their errors name the file).
    fn from(e: fixcast_sessions::Error) -> Self {
        Failed::Write(e.into())
    }
}

/// Plain text as the screen showed it, scrollback and final screen: what
/// `ScreenText::finish` gives for the whole recording, written as lines finish.
fn text(
    reader: &mut CastReader,
    (rows, cols): (u16, u16),
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let mut screen = ScreenText::new(rows, cols);
    let mut lines = HeldBlanks::default();
    // Output with no escape sequence is gathered and written at once: a flood's lines
    // then come in runs long enough for the screen's shortcut (see `ScreenText`), and
    // the text is the same (such text reads the same however it is cut).
    let mut plain: Vec<u8> = Vec::with_capacity(GATHER);
    while let Some(ev) = reader.next_event()? {
        match &ev.kind {
            EventKind::Output(s) => {
                let s = s.as_bytes();
                let escape_free = !s.contains(&0x1b);
                if escape_free && (!plain.is_empty() || screen.idle()) {
                    plain.extend_from_slice(s);
                    if plain.len() < GATHER {
                        continue;
                    }
                    screen.write(&plain);
                } else {
                    screen.write(&plain);
                    screen.write(s);
                }
                plain.clear();
            }
            EventKind::Resize { cols, rows } => {
                screen.write(&plain);
                plain.clear();
                screen.resize(*rows, *cols);
            }
            _ => continue,
        }
        if screen.text_len() >= TEXT_CHUNK {
            screen.drain_text(|t| lines.write(t, out))?;
        }
    }
    screen.write(&plain);
    screen.drain_text(|t| lines.write(t, out))?;
    let rest = screen.finish().text;
    lines.finish(&rest, out)?;
    Ok(())
}

/// The whole text ends at its last line with text: blank lines are written only once a
/// line with text follows them.
#[derive(Default)]
struct HeldBlanks {
    blank: usize,
}

impl HeldBlanks {
    /// Writes finished lines (each ending in a newline, blank ones empty).
    fn write(&mut self, lines: &str, out: &mut dyn Write) -> io::Result<()> {
        let body = lines.trim_end_matches('\n').len();
        if body == 0 {
            self.blank += lines.len();
            return Ok(());
        }
        self.write_blanks(out)?;
        out.write_all(&lines.as_bytes()[..=body])?;
        self.blank = lines.len() - body - 1;
        Ok(())
    }

    /// Writes the end of the text (`ScreenText::finish`'s, trimmed): the blank lines held
    /// are the middle of the text only if it is not empty.
    fn finish(mut self, rest: &str, out: &mut dyn Write) -> io::Result<()> {
        if !rest.is_empty() {
            self.write_blanks(out)?;
            out.write_all(rest.as_bytes())?;
        }
        Ok(())
    }

    fn write_blanks(&mut self, out: &mut dyn Write) -> io::Result<()> {
        const NEWLINES: [u8; 64] = [b'\n'; 64];
        while self.blank > 0 {
            let n = self.blank.min(NEWLINES.len());
            out.write_all(&NEWLINES[..n])?;
            self.blank -= n;
        }
        Ok(())
    }
}

/// The output bytes as the terminal received them.
fn raw(reader: &mut CastReader, out: &mut dyn Write) -> anyhow::Result<()> {
    while let Some(ev) = reader.next_event()? {
        if let EventKind::Output(s) = &ev.kind {
            out.write_all(s.as_bytes())?;
        }
    }
    Ok(())
}

/// The output bytes through the safe-replay filter.
fn safe_raw(reader: &mut CastReader, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut filter = SafeReplay::default();
    while let Some(ev) = reader.next_event()? {
        if let EventKind::Output(s) = &ev.kind {
            out.write_all(filter.filter(s).as_bytes())?;
        }
    }
    if let Some(summary) = filter.summary() {
        warn(format_args!(
            "not written: {summary} (--trust or -o FILE writes them)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::HeldBlanks;

    /// What [`HeldBlanks`] writes for text handed over in `pieces` then `rest`.
    fn held(pieces: &[&str], rest: &str) -> String {
        let mut out = Vec::new();
        let mut h = HeldBlanks::default();
        for p in pieces {
            h.write(p, &mut out).unwrap();
        }
        h.finish(rest, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn blank_lines_are_kept_between_text_and_dropped_at_the_end() {
        assert_eq!(held(&["a\n\n", "\n", "b\n\n"], "c\n"), "a\n\n\nb\n\nc\n");
        assert_eq!(held(&["a\n\n", "\n\n"], ""), "a\n");
        assert_eq!(held(&["\n\n"], ""), "");
        assert_eq!(held(&["\n\n", ""], "x\n"), "\n\nx\n");
        assert_eq!(held(&[], ""), "");
        let many = "\n".repeat(200);
        assert_eq!(held(&["a\n", &many], "b\n"), format!("a\n{many}b\n"));
    }
}
