//! A recording read from its file event by event, in bounded memory, through the
//! [`CastDecoder`].

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::asciicast::Header;
use crate::cast_decode::CastDecoder;
use crate::error::{Error, Result};
use crate::event::Event;

/// A whole recording read event by event, in bounded memory (the decoder's window and a
/// read buffer), for readers that stream: the web's cast and segments.
pub struct CastReader {
    path: PathBuf,
    file: File,
    decoder: CastDecoder,
    buf: Vec<u8>,
    ready: std::collections::VecDeque<Event>,
    /// Where each ready event's line is in its frame, when tracked.
    ready_at: std::collections::VecDeque<u64>,
    batch: Vec<Event>,
    ended: bool,
}

impl CastReader {
    pub fn open(path: &Path) -> Result<CastReader> {
        let file = File::open(path).map_err(Error::io(path))?;
        Ok(CastReader {
            path: path.to_owned(),
            file,
            decoder: CastDecoder::new(),
            buf: vec![0; 256 << 10],
            ready: Default::default(),
            ready_at: Default::default(),
            batch: Vec::new(),
            ended: false,
        })
    }

    /// The header, reading as far as it takes to find it; `None` when the recording has
    /// none (empty, or its start is damaged).
    pub fn header(&mut self) -> Result<Option<&Header>> {
        while !self.decoder.header_settled() && !self.ended {
            self.fill()?;
        }
        Ok(self.decoder.header())
    }

    /// The next event, `None` at the end (of the file, or of what could be read).
    pub fn next_event(&mut self) -> Result<Option<Event>> {
        Ok(self.next_event_at()?.map(|(ev, _)| ev))
    }

    /// Tells where each event's line is in its frame's text (see
    /// [`CastReader::next_event_at`]); only before anything is read (false after).
    pub fn track_lines(&mut self) -> bool {
        if self.decoder.events_read() > 0 || self.decoder.header_settled() {
            return false;
        }
        self.decoder.track_lines();
        true
    }

    /// The next event and where its line starts in its frame's decompressed text (0 if
    /// lines are not tracked).
    pub fn next_event_at(&mut self) -> Result<Option<(Event, u64)>> {
        while self.ready.is_empty() && !self.ended {
            self.fill()?;
        }
        let at = self.ready_at.pop_front().unwrap_or(0);
        Ok(self.ready.pop_front().map(|ev| (ev, at)))
    }

    /// What was found damaged (complete once [`next_event`](Self::next_event) gave `None`).
    pub fn damage(&self) -> Vec<String> {
        self.decoder.damage()
    }

    /// The decoder, to ask where the frames read so far are ([`CastDecoder::frames`]).
    pub fn decoder(&self) -> &CastDecoder {
        &self.decoder
    }

    fn fill(&mut self) -> Result<()> {
        let n = loop {
            match self.file.read(&mut self.buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::io(&self.path)(e)),
            }
        };
        if n == 0 {
            self.decoder.end(&mut self.batch);
            self.ended = true;
        } else {
            self.decoder.push(&self.buf[..n], &mut self.batch);
        }
        self.ready.extend(self.batch.drain(..));
        self.ready_at.extend(self.decoder.take_lines_at());
        Ok(())
    }
}
