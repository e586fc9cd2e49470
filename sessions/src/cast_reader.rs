//! A recording read from its file event by event, in bounded memory, through the
//! [`CastDecoder`].

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use crate::asciicast::Header;
use crate::cast_decode::CastDecoder;
use crate::error::{Error, Result};
use crate::event::Event;
use crate::mark_scan::scan_marks;

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
    /// The file offset reading began at (0, or a frame's seek mark).
    start: u64,
}

impl CastReader {
    pub fn open(path: &Path) -> Result<CastReader> {
        let file = File::open(path).map_err(Error::io(path))?;
        Ok(Self::reading(path, file, CastDecoder::new(), 256 << 10, 0))
    }

    fn reading(path: &Path, file: File, decoder: CastDecoder, buf: usize, start: u64) -> Self {
        CastReader {
            path: path.to_owned(),
            file,
            decoder,
            buf: vec![0; buf],
            ready: Default::default(),
            ready_at: Default::default(),
            batch: Vec::new(),
            ended: false,
            start,
        }
    }

    /// The recording's events from time `at` (µs) on: the frames before it are found
    /// from their seek marks and not decompressed, and the events of its frame before
    /// `at` are passed over with only their times read. A reader that starts past the
    /// first frame has no header.
    pub fn open_at(path: &Path, at: u64) -> Result<CastReader> {
        Self::open_between(path, at, u64::MAX)
    }

    /// [`CastReader::open_at`], ending at the first event after `until` (µs): the rest
    /// of the file is not decoded, and reads go a block at a time, not 256 KiB.
    pub fn open_between(path: &Path, at: u64, until: u64) -> Result<CastReader> {
        let mut file = File::open(path).map_err(Error::io(path))?;
        // A frame's events are at or after its base: the last frame based before `at`
        // (the file is read up to the mark after it, a piece at a time).
        let mut offset = 0;
        scan_marks(&mut file, |m| {
            if m.offset == 0 || m.base < at {
                offset = m.offset;
                ControlFlow::Continue(())
            } else {
                ControlFlow::Break(())
            }
        })
        .map_err(Error::io(path))?;
        file.seek(SeekFrom::Start(offset))
            .map_err(Error::io(path))?;
        let mut decoder = CastDecoder::at_mark(offset);
        decoder.skip_before(at);
        let buf = if until < u64::MAX {
            decoder.stop_after(until);
            16 << 10
        } else {
            256 << 10
        };
        Ok(Self::reading(path, file, decoder, buf, offset))
    }

    /// Whether this reader began at the recording's start (it then reads the header).
    pub fn from_start(&self) -> bool {
        self.start == 0
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
            self.ended = self.decoder.stopped();
        }
        self.ready.extend(self.batch.drain(..));
        self.ready_at.extend(self.decoder.take_lines_at());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asciicast::Header;
    use crate::cast_file::CastWriter;
    use crate::EventKind;

    /// Five frames of ten events, one every 10 ms (the writer's mode switch ends a frame).
    fn framed(path: &Path) -> Vec<Event> {
        let header = Header {
            cols: 80,
            rows: 24,
            ..Header::default()
        };
        let mut w = CastWriter::create(path, &header).unwrap();
        let mut all = Vec::new();
        for frame in 0..5u64 {
            w.set_fast(frame % 2 == 1).unwrap();
            for i in 0..10u64 {
                let t = (frame * 10 + i + 1) * 10_000;
                let ev = Event::new(t, EventKind::Output(format!("line {frame}.{i}\r\n")));
                w.write(&ev).unwrap();
                all.push(ev);
            }
        }
        w.finish().unwrap();
        all
    }

    fn read_all(mut r: CastReader) -> Vec<Event> {
        std::iter::from_fn(|| r.next_event().unwrap()).collect()
    }

    /// Reading from a moment starts at the frame that holds it: nothing from that moment
    /// on is missed, nothing before it comes (the frames before are not even read), and
    /// the times are the recording's.
    #[test]
    fn a_reader_from_a_moment_starts_at_its_frame() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("session.cast.zst");
        let all = framed(&path);
        assert!(crate::frame_marks(&std::fs::read(&path).unwrap()).len() >= 5);
        for at in [0, 10_000, 205_000, 300_000, 310_000, 500_000, 900_000] {
            let r = CastReader::open_at(&path, at).unwrap();
            // The first frame holds the header alone: only 0 reads it.
            assert_eq!(r.from_start(), at == 0, "at {at}");
            let got = read_all(r);
            let wanted: Vec<Event> = all.iter().filter(|e| e.time >= at).cloned().collect();
            assert_eq!(got, wanted, "at {at}");
        }
        assert_eq!(read_all(CastReader::open_at(&path, 0).unwrap()), all);
    }

    /// Reading between two moments gives the events between them, both included, and
    /// nothing after.
    #[test]
    fn a_reader_between_two_moments_stops_after_the_second() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("session.cast.zst");
        let all = framed(&path);
        for (at, until) in [
            (0, 0),
            (0, 10_000),
            (205_000, 330_000),
            (310_000, 310_000),
            (0, 900_000),
        ] {
            let got = read_all(CastReader::open_between(&path, at, until).unwrap());
            let wanted: Vec<Event> = all
                .iter()
                .filter(|e| (at..=until).contains(&e.time))
                .cloned()
                .collect();
            assert_eq!(got, wanted, "{at}..={until}");
        }
    }
}
