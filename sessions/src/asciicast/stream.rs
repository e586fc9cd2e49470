//! Reading an asciicast of any version from a stream, strictly, an event at a time: v2 and
//! v3 a line at a time (so importing a large file holds one line, not the file), v1 (one
//! JSON document) whole.

use std::io::{self, BufRead};

use super::{v1, v2, v3, FormatError, Header, Version, MAX_TERM_SIZE};
use crate::event::Event;

/// Why a stream could not be read: its reader failed, or its text is not an asciicast.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error(transparent)]
    Io(#[from] io::Error),
    #[error(transparent)]
    Format(#[from] FormatError),
}

/// An asciicast read as it streams in.
pub struct CastStream<R> {
    reader: R,
    version: Version,
    header: Header,
    /// 1-based number of the last line read.
    line: usize,
    /// The previous event's time (µs): v3 intervals count from it, v2 times never go
    /// below it.
    time: u64,
    /// v1's events, parsed with the whole document.
    whole: Option<std::vec::IntoIter<Event>>,
    buf: Vec<u8>,
}

impl<R: BufRead> CastStream<R> {
    /// Reads the header (for v1, the whole document).
    pub fn open(mut reader: R) -> Result<Self, StreamError> {
        let mut buf = Vec::new();
        let mut line = 0;
        // The header is the first line that is not blank.
        let first = loop {
            buf.clear();
            if reader.read_until(b'\n', &mut buf)? == 0 {
                return Err(FormatError::new(1, "empty file, expected an asciicast header").into());
            }
            line += 1;
            let text = utf8(&buf, line)?;
            let text = if line == 1 {
                text.strip_prefix('\u{feff}').unwrap_or(text)
            } else {
                text
            };
            if !text.trim().is_empty() {
                break text.to_owned();
            }
        };
        let version = match serde_json::from_str::<serde_json::Value>(&first) {
            Ok(v) => v.get("version").and_then(|v| v.as_u64()),
            // Not a one-line header: a v1 document spread over lines, or not JSON at all.
            Err(_) => None,
        };
        let mut stream = CastStream {
            reader,
            version: Version::V3,
            header: Header::default(),
            line,
            time: 0,
            whole: None,
            buf,
        };
        match version {
            Some(2) => {
                stream.version = Version::V2;
                stream.header = v2::parse_header(&first)?;
            }
            Some(3) => stream.header = v3::parse_header(&first)?,
            Some(1) | None => {
                let mut text = first;
                let mut rest = Vec::new();
                stream.reader.read_to_end(&mut rest)?;
                text.push_str(utf8(&rest, line + 1)?);
                let doc_version = match serde_json::from_str::<serde_json::Value>(&text) {
                    Ok(v) => v.get("version").and_then(|v| v.as_u64()),
                    Err(e) => {
                        return Err(FormatError::new(
                            e.line().max(1),
                            format!("not an asciicast file: invalid JSON: {e}"),
                        )
                        .into())
                    }
                };
                match doc_version {
                    Some(1) => {}
                    Some(n) => return Err(unsupported(n).into()),
                    None => {
                        return Err(FormatError::new(
                            1,
                            "not an asciicast header (expected a JSON object with \"version\")",
                        )
                        .into())
                    }
                }
                let rec = v1::parse(&text)?;
                stream.version = Version::V1;
                stream.header = rec.header;
                stream.whole = Some(rec.events.into_iter());
            }
            Some(n) => return Err(unsupported(n).into()),
        }
        stream.header.check()?;
        Ok(stream)
    }

    pub fn version(&self) -> Version {
        self.version
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The next event, `None` at the end; a malformed line is an error naming it.
    pub fn next_event(&mut self) -> Result<Option<Event>, StreamError> {
        if let Some(events) = &mut self.whole {
            return Ok(events.next());
        }
        loop {
            self.buf.clear();
            if self.reader.read_until(b'\n', &mut self.buf)? == 0 {
                return Ok(None);
            }
            self.line += 1;
            let n = self.line;
            let text = utf8(&self.buf, n)?;
            // As `str::lines` does: the line break is not part of the line.
            let text = text.strip_suffix('\n').unwrap_or(text);
            let text = text.strip_suffix('\r').unwrap_or(text);
            let ev = match self.version {
                Version::V2 => v2::parse_line(text, self.time),
                _ => v3::parse_v3_line(text, self.time),
            }
            .map_err(|reason| FormatError::new(n, reason))?;
            if let Some(ev) = ev {
                if let crate::EventKind::Resize { cols, rows } = ev.kind {
                    if cols > MAX_TERM_SIZE || rows > MAX_TERM_SIZE {
                        return Err(FormatError::new(
                            n,
                            format!("resize to {cols}x{rows} is out of range (at most {MAX_TERM_SIZE}x{MAX_TERM_SIZE})"),
                        )
                        .into());
                    }
                }
                self.time = ev.time;
                return Ok(Some(ev));
            }
        }
    }
}

fn unsupported(n: u64) -> FormatError {
    FormatError::new(1, format!("unsupported asciicast version {n}"))
}

fn utf8(bytes: &[u8], line: usize) -> Result<&str, FormatError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let line = line
            + bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
        FormatError::new(line, "not UTF-8 text (binary data?)")
    })
}
