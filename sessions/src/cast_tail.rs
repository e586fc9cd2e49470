//! A `session.cast.zst` that is still being written, read as it grows: each call
//! decodes only the bytes the file gained since the last one (the recorder flushes a
//! complete zstd block at least once a second, so the new bytes hold whole event lines),
//! and returns the events on the complete lines. Reading a live session this way costs
//! what it grew by, not its whole length. Damage is no error: the events before it are
//! returned, and [`CastTail::damage`] tells what was found.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::asciicast::Header;
use crate::cast_decode::CastDecoder;
use crate::error::{Error, Result};
use crate::event::Event;

/// A growing recording, read from where the last read stopped.
pub struct CastTail {
    path: PathBuf,
    file: File,
    decoder: CastDecoder,
    /// Events decoded but not returned yet (read while looking for the header).
    ready: Vec<Event>,
    buf: Vec<u8>,
}

impl CastTail {
    /// Opens the recording and reads what it holds so far (the header at least, once
    /// the recorder has flushed it).
    pub fn open(path: &Path) -> Result<CastTail> {
        let file = File::open(path).map_err(Error::io(path))?;
        Ok(CastTail {
            path: path.to_owned(),
            file,
            decoder: CastDecoder::new(),
            ready: Vec::new(),
            buf: vec![0; 256 << 10],
        })
    }

    /// The header, once it has been read; `None` before it is flushed, or when the
    /// recording's start is damaged.
    pub fn header(&mut self) -> Result<Option<&Header>> {
        if !self.decoder.header_settled() {
            self.read_more()?;
        }
        Ok(self.decoder.header())
    }

    /// The events on the lines the file gained since the last call; a line still being
    /// written waits for the next call.
    pub fn read_events(&mut self) -> Result<Vec<Event>> {
        self.read_more()?;
        Ok(std::mem::take(&mut self.ready))
    }

    /// What was found damaged so far (none in a healthy recording).
    pub fn damage(&self) -> Vec<String> {
        self.decoder.damage()
    }

    /// Decodes whatever the file gained since the last call.
    fn read_more(&mut self) -> Result<()> {
        loop {
            let n = match self.file.read(&mut self.buf) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io(&self.path)(e)),
            };
            self.decoder.push(&self.buf[..n], &mut self.ready);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asciicast::Header;
    use crate::event::EventKind;
    use crate::CastWriter;

    fn header() -> Header {
        Header {
            cols: 100,
            rows: 30,
            ..Header::default()
        }
    }

    fn out(t: u64, s: &str) -> Event {
        Event::new(t, EventKind::Output(s.into()))
    }

    #[test]
    fn a_growing_recording_is_read_a_flush_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("session.cast.zst");
        let mut w = CastWriter::create(&path, &header()).unwrap();
        w.flush().unwrap();
        let mut tail = CastTail::open(&path).unwrap();
        assert_eq!(tail.header().unwrap().map(|h| h.cols), Some(100));
        assert!(tail.read_events().unwrap().is_empty());
        w.write(&out(1_000, "one")).unwrap();
        w.write(&out(2_500, "two")).unwrap();
        w.flush().unwrap();
        let got = tail.read_events().unwrap();
        assert_eq!(got, vec![out(1_000, "one"), out(2_500, "two")]);
        assert!(tail.read_events().unwrap().is_empty(), "nothing new");
        w.write(&out(4_000, "three")).unwrap();
        w.finish().unwrap();
        assert_eq!(tail.read_events().unwrap(), vec![out(4_000, "three")]);
    }

    #[test]
    fn events_across_frames_keep_their_times() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("session.cast.zst");
        let mut w = CastWriter::create(&path, &header()).unwrap();
        // Incompressible-ish text, enough for a few frames.
        let mut events = Vec::new();
        let mut x: u64 = 7;
        for i in 0..2_000u64 {
            let s: String = (0..4_000)
                .map(|_| {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    char::from(b'!' + (x >> 58) as u8)
                })
                .collect();
            events.push(out(i * 1_000, &s));
        }
        let mut tail = CastTail::open(&path).unwrap();
        let mut got = Vec::new();
        for (i, ev) in events.iter().enumerate() {
            w.write(ev).unwrap();
            if i % 300 == 0 {
                w.flush().unwrap();
                got.extend(tail.read_events().unwrap());
            }
        }
        w.finish().unwrap();
        got.extend(tail.read_events().unwrap());
        assert!(
            crate::frame_marks(&std::fs::read(&path).unwrap()).len() > 1,
            "the test needs several frames"
        );
        assert_eq!(got, events);
    }
}
