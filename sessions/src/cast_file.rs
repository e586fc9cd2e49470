//! `session.cast.zst`: asciicast v3 in a chain of zstd frames.
//!
//! - The encoder keeps its context across flushes: [`CastWriter::flush`] ends the current
//!   zstd *block*, not the frame, so a once-a-second flush costs almost no ratio, and a file
//!   cut anywhere still decodes up to the last flush (`zstd -dc` prints that much too).
//! - A frame ends once it holds [`FRAME_LIMIT`] of text; the next one starts with a zstd
//!   *skippable* frame (ignored by standard decoders) holding a seek mark: the byte
//!   offset and the time of the event before it. Readers find marks by scanning the
//!   compressed bytes and can decode any frame on its own, so seeking never decompresses
//!   from the start, and damage in one frame does not hide the frames after it.
//! - Frames hold whole event lines. The first frame holds the header line alone, synced
//!   before the first event, so a recording is readable from its first moment.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use zstd::stream::raw::{self, Operation};
use zstd::stream::zio;

use crate::asciicast::{Header, Recording, V3Encoder};
use crate::cast_reader::CastReader;
use crate::error::{Error, Result};
use crate::event::Event;

/// A frame ends once this much compressed data is in it, so that reading from any point
/// decompresses at most this much before it.
pub const FRAME_BYTES: u64 = 4 << 20;
/// ... or once it holds this much text (a frame of highly repetitive output).
pub const FRAME_LIMIT: u64 = 64 << 20;
/// zstd level while the writer keeps up: terminal text repeats itself (the same `ps`,
/// the same prompt), and a strong level halves the file compared with `zstd -3`.
pub const LEVEL: i32 = 12;
/// zstd level during a flood of output (the writer falls behind, or would): a negative
/// level, which stores literals as they are instead of Huffman-coding them, and skips
/// ahead faster where nothing matches. A flood of base64 recorded as v3 (142 MB) takes
/// 0.08 s of CPU at -5 against 0.48 s at 1 and 0.16 s at -1, for a third more bytes on
/// disk (text like `find -ls` still shrinks eightfold); that CPU is what the program and
/// the passthrough need during the flood, and `fixcast compact` recompresses the
/// session once it is over.
pub const FAST_LEVEL: i32 = -5;
/// An 8 MiB window holds minutes of typical debugging output; together with the match
/// tables below, the encoder stays within about 12 MiB.
const WINDOW_LOG: u32 = 23;
const HASH_LOG: u32 = 19;
const CHAIN_LOG: u32 = 19;
/// The window of a fast frame (a flood's): a fast level gains little from a longer one,
/// and zstd picks this one for level 1 itself when the size is unknown.
const FAST_WINDOW_LOG: u32 = 19;

pub(crate) const SKIPPABLE_MAGIC: [u8; 4] = 0x184D_2A5E_u32.to_le_bytes();
const SEEK_TAG: &[u8] = b"fixcast-seek:";

struct Counted {
    file: File,
    written: u64,
}

impl Write for Counted {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// A frame being written: zstd's streaming writer over the file.
type FrameWriter = zio::Writer<Counted, raw::Encoder<'static>>;

/// Appends events to a new `session.cast.zst`.
pub struct CastWriter {
    path: PathBuf,
    enc: Option<FrameWriter>,
    /// Whether `enc`'s context is set up for the fast mode (see [`CastWriter::set_fast`]).
    enc_fast: bool,
    v3: V3Encoder,
    line: String,
    frame_text: u64,
    /// Compressed bytes written before the current frame.
    frame_start: u64,
    last_time: u64,
    fast: bool,
    /// [`FRAME_LIMIT`] and [`FRAME_BYTES`], smaller in tests.
    frame_limit: (u64, u64),
}

impl CastWriter {
    /// Creates the file (it must not exist), locks it for as long as the writer lives
    /// (so readers can tell a live recording from a dead one), and writes the header.
    pub fn create(path: &Path, header: &Header) -> Result<Self> {
        let err = Error::io(path);
        let file = File::options()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(err)?;
        file.try_lock().map_err(|e| Error::Io {
            path: path.to_owned(),
            source: io::Error::other(e.to_string()),
        })?;
        let mut w = CastWriter {
            path: path.to_owned(),
            enc: None,
            enc_fast: false,
            v3: V3Encoder::new(),
            line: String::new(),
            frame_text: 0,
            frame_start: 0,
            last_time: 0,
            fast: false,
            frame_limit: (FRAME_LIMIT, FRAME_BYTES),
        };
        // The header is a frame of its own, on disk before anything is recorded: a
        // recorder killed at once still leaves a readable (empty) recording, and damage
        // to the events never takes the header with it.
        w.enc = Some(w.new_frame(Counted { file, written: 0 })?);
        let head = w.v3.header(header);
        w.put(head.as_bytes())?;
        w.end_frame()?;
        let enc = w.enc.as_ref().expect("encoder present until finish");
        enc.writer().file.sync_data().map_err(Error::io(path))?;
        Ok(w)
    }

    /// A frame in a new zstd context for the current mode.
    fn new_frame(&mut self, out: Counted) -> Result<FrameWriter> {
        use zstd::stream::raw::CParameter;
        // A fast frame keeps level 1's own small tables: each frame has an encoder of
        // its own, so a flood's frames hold about 1 MiB instead of 12.
        let (level, tables): (_, &[CParameter]) = if self.fast {
            (FAST_LEVEL, &[CParameter::WindowLog(FAST_WINDOW_LOG)])
        } else {
            (
                LEVEL,
                &[
                    CParameter::WindowLog(WINDOW_LOG),
                    CParameter::HashLog(HASH_LOG),
                    CParameter::ChainLog(CHAIN_LOG),
                ],
            )
        };
        let mut enc = raw::Encoder::new(level).map_err(Error::io(&self.path))?;
        // Damage inside a finished frame is found (and told) at its end.
        for &p in tables.iter().chain(&[CParameter::ChecksumFlag(true)]) {
            enc.set_parameter(p).map_err(Error::io(&self.path))?;
        }
        self.enc_fast = self.fast;
        Ok(zio::Writer::new(out, enc))
    }

    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        self.frame_text += bytes.len() as u64;
        let enc = self.enc.as_mut().ok_or_else(|| stopped(&self.path))?;
        enc.write_all(bytes).map_err(Error::io(&self.path))
    }

    /// Appends one event (buffered in the encoder until the next [`flush`](Self::flush)).
    pub fn write(&mut self, ev: &Event) -> Result<()> {
        let frame_bytes = self.stored_bytes().saturating_sub(self.frame_start);
        if self.frame_text >= self.frame_limit.0 || frame_bytes >= self.frame_limit.1 {
            self.end_frame()?;
        }
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        self.v3.event(ev, &mut line);
        self.last_time = self.last_time.max(ev.time);
        let r = self.put(line.as_bytes());
        self.line = line;
        r
    }

    /// Ends the current frame and starts the next behind a seek mark.
    fn end_frame(&mut self) -> Result<()> {
        let mut enc = self.enc.take().ok_or_else(|| stopped(&self.path))?;
        enc.finish().map_err(Error::io(&self.path))?;
        let (mut out, mut context) = enc.into_inner();
        let mark = seek_mark(self.last_time, out.written);
        out.write_all(&mark).map_err(Error::io(&self.path))?;
        self.frame_start = out.written;
        // The next frame in the same mode reuses the context: a new one per frame is a
        // large allocation each time (12 MiB at the strong level), and a flood's fast
        // frames, each freed among the writer's small allocations, left the allocator's
        // memory fragmented and growing. A change of mode takes a new context, so that
        // a fast frame never keeps the strong level's tables.
        self.enc = Some(if self.enc_fast == self.fast {
            context.reinit().map_err(Error::io(&self.path))?;
            zio::Writer::new(out, context)
        } else {
            drop(context);
            self.new_frame(out)?
        });
        self.frame_text = 0;
        Ok(())
    }

    /// Trades ratio (and memory) for speed while the caller falls behind. Takes effect at
    /// once: the frame ends and the next one starts at the new level. (zstd applies a new
    /// level mid-frame only with worker threads, so changing it in place would wait for
    /// the frame's end, megabytes later, with the strong level's 12 MiB held meanwhile.)
    pub fn set_fast(&mut self, fast: bool) -> Result<()> {
        if fast == self.fast {
            return Ok(());
        }
        self.fast = fast;
        self.end_frame()
    }

    /// Pushes everything written so far to the disk (ends a zstd block, then fsync), so
    /// that a crash from now on loses nothing before this point.
    pub fn flush(&mut self) -> Result<()> {
        let enc = self.enc.as_mut().ok_or_else(|| stopped(&self.path))?;
        enc.flush().map_err(Error::io(&self.path))?;
        enc.writer().file.sync_data().map_err(Error::io(&self.path))
    }

    /// Sets the file's mtime to now: the recording still went on at this time, though
    /// nothing was written. A recorder killed during a quiet spell leaves a session whose
    /// duration is told by it (see [`crate::Store::load`]).
    pub fn touch(&mut self) -> Result<()> {
        let enc = self.enc.as_ref().ok_or_else(|| stopped(&self.path))?;
        enc.writer()
            .file
            .set_modified(std::time::SystemTime::now())
            .map_err(Error::io(&self.path))
    }

    /// Compressed bytes on disk so far (after the last flush).
    pub fn stored_bytes(&self) -> u64 {
        self.enc.as_ref().map_or(0, |e| e.writer().written)
    }

    /// Ends the last frame and syncs; returns the file's size.
    pub fn finish(mut self) -> Result<u64> {
        let mut enc = self.enc.take().ok_or_else(|| stopped(&self.path))?;
        enc.finish().map_err(Error::io(&self.path))?;
        let (out, _) = enc.into_inner();
        out.file.sync_all().map_err(Error::io(&self.path))?;
        Ok(out.written)
    }
}

/// What every call says once a frame could not be ended (a full disk, say): the encoder
/// went with it, and the file ends at the last frame or flush that made it to disk.
fn stopped(path: &Path) -> Error {
    Error::Io {
        path: path.to_owned(),
        source: io::Error::other("not written: an earlier write to this recording failed"),
    }
}

/// The seek mark (a skippable frame) that begins a frame at `offset` of a file, after
/// an event at `base` µs: what [`CastWriter`] writes between frames, and a rewriter of
/// the file ([`crate::Store::compact`]) writes the same.
pub(crate) fn seek_mark(base: u64, offset: u64) -> Vec<u8> {
    let payload = format!("{{\"base\":{base},\"offset\":{offset}}}");
    let len = (SEEK_TAG.len() + payload.len()) as u32;
    let mut mark = Vec::with_capacity(8 + len as usize);
    mark.extend_from_slice(&SKIPPABLE_MAGIC);
    mark.extend_from_slice(&len.to_le_bytes());
    mark.extend_from_slice(SEEK_TAG);
    mark.extend_from_slice(payload.as_bytes());
    mark
}

/// A frame of the file: where it starts and the time of the event before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameMark {
    /// Byte offset of the frame (of its seek mark, for all but the first).
    pub offset: u64,
    /// Time (µs) of the last event before the frame: its first interval counts from here.
    pub base: u64,
}

/// Reads a whole `session.cast.zst`, tolerating any damage: every event before it is
/// returned (and those of the frames after it), the damage is described in `damage`. A
/// file with no readable header (empty, or its start damaged) gets an 80x24 one.
pub fn read_cast(path: &Path) -> Result<Recording> {
    let (header, events, damage) = read_cast_parts(path)?;
    Ok(Recording {
        header: header.unwrap_or_else(|| Header {
            cols: 80,
            rows: 24,
            ..Header::default()
        }),
        events,
        damage,
    })
}

/// [`read_cast`], with the header `None` when the recording has none.
pub(crate) fn read_cast_parts(path: &Path) -> Result<(Option<Header>, Vec<Event>, Vec<String>)> {
    let mut reader = CastReader::open(path)?;
    let mut events = Vec::new();
    while let Some(ev) = reader.next_event()? {
        events.push(ev);
    }
    let header = reader.header()?.cloned();
    Ok((header, events, reader.damage()))
}

/// A seek mark's offset and base, if `frame` (a whole skippable frame) is one.
pub(crate) fn parse_mark(frame: &[u8]) -> Option<(u64, u64)> {
    let json = frame.get(8..)?.strip_prefix(SEEK_TAG)?;
    let v = serde_json::from_slice::<serde_json::Value>(json).ok()?;
    let offset = v.get("offset")?.as_u64()?;
    Some((offset, v.get("base").and_then(|b| b.as_u64()).unwrap_or(0)))
}

#[cfg(test)]
mod damage_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventKind;
    use crate::frame_marks;

    /// Frames of 4 MiB of text keep the tests fast.
    const TEST_FRAME_TEXT: u64 = 4 << 20;

    #[test]
    fn frames_end_at_their_compressed_size_too() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("session.cast.zst");
        let mut w = CastWriter::create(&path, &header()).unwrap();
        w.frame_limit = (u64::MAX, 64 << 10);
        // Incompressible text: the compressed size reaches the limit first.
        let mut x = 1u64;
        for i in 0..400u64 {
            let s: String = (0..1000)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    char::from(b'a' + (x % 26) as u8)
                })
                .collect();
            w.write(&Event::new(i, EventKind::Output(s))).unwrap();
            w.flush().unwrap();
        }
        w.finish().unwrap();
        let marks = frame_marks(&std::fs::read(&path).unwrap());
        assert!(marks.len() >= 4, "{marks:?}");
        assert_eq!(read_cast(&path).unwrap().events.len(), 400);
    }

    /// The window a zstd frame declares; `at` is the offset of the seek mark before it.
    fn window_after_mark(raw: &[u8], at: usize) -> u64 {
        let len = u32::from_le_bytes(raw[at + 4..at + 8].try_into().unwrap()) as usize;
        let f = &raw[at + 8 + len..];
        assert_eq!(
            f[..4],
            0xFD2F_B528_u32.to_le_bytes(),
            "a zstd frame follows the mark"
        );
        // Not single-segment (the size is unknown while streaming): a window descriptor.
        assert_eq!(f[4] & 0x20, 0);
        let (exp, mantissa) = (u64::from(f[5] >> 3), u64::from(f[5] & 7));
        let base = 1u64 << (10 + exp);
        base + base / 8 * mantissa
    }

    #[test]
    fn the_fast_mode_takes_a_small_window_at_once_and_gives_it_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("session.cast.zst");
        let mut w = CastWriter::create(&path, &header()).unwrap();
        let evs = events(300, 200);
        for (i, ev) in evs.iter().enumerate() {
            match i {
                100 => w.set_fast(true).unwrap(),
                200 => w.set_fast(false).unwrap(),
                _ => {}
            }
            w.write(ev).unwrap();
        }
        w.finish().unwrap();
        let raw = std::fs::read(&path).unwrap();
        let marks = frame_marks(&raw);
        // The header's frame, then one frame per mode: each switch ends a frame.
        assert_eq!(marks.len(), 4, "{marks:?}");
        let windows: Vec<u64> = marks[1..]
            .iter()
            .map(|m| window_after_mark(&raw, m.offset as usize))
            .collect();
        assert_eq!(windows[0], 1 << WINDOW_LOG, "{windows:?}");
        assert!(windows[1] <= 1 << FAST_WINDOW_LOG, "{windows:?}");
        assert_eq!(windows[2], 1 << WINDOW_LOG, "{windows:?}");
        assert_eq!(marks[2].base, evs[99].time);
        let back = read_cast(&path).unwrap();
        assert_eq!(back.damage, Vec::<String>::new());
        assert!(back.events == evs, "events differ after the round trip");
    }

    fn header() -> Header {
        Header {
            cols: 80,
            rows: 24,
            title: Some("cast file test".into()),
            ..Header::default()
        }
    }

    /// Events with uneven times (some µs apart, some seconds) and text that compresses
    /// like real output: repetitive, but not one string over and over.
    fn events(n: usize, line_len: usize) -> Vec<Event> {
        let mut t = 0u64;
        (0..n)
            .map(|i| {
                t += (i as u64 * 7919) % 2_000_003 + 1;
                let kind = match i % 50 {
                    13 => EventKind::Marker(format!("cmd {i}")),
                    29 => EventKind::Resize {
                        cols: 80 + (i % 7) as u16,
                        rows: 24,
                    },
                    _ => {
                        let mut s = format!("{i:08} \u{1b}[3{}mé中🎉\u{1b}[0m ", i % 8);
                        while s.len() < line_len {
                            s.push_str(&format!("{:x}", (i * 2_654_435_761) % 65_521));
                        }
                        s.push_str("\r\n");
                        EventKind::Output(s)
                    }
                };
                Event::new(t, kind)
            })
            .collect()
    }

    /// Writes `evs` to a new file in `dir`, flushing every `flush_every` events.
    fn write(dir: &Path, evs: &[Event], flush_every: usize) -> PathBuf {
        let path = dir.join("session.cast.zst");
        let mut w = CastWriter::create(&path, &header()).unwrap();
        w.frame_limit = (TEST_FRAME_TEXT, FRAME_BYTES);
        for (i, ev) in evs.iter().enumerate() {
            w.write(ev).unwrap();
            if i % flush_every == flush_every - 1 {
                w.flush().unwrap();
            }
        }
        w.finish().unwrap();
        path
    }

    #[test]
    fn round_trip_across_frames_keeps_every_event_and_time() {
        let dir = tempfile::tempdir().unwrap();
        // Just over two frames of text.
        let evs = events(2 * (TEST_FRAME_TEXT as usize) / 1000 + 500, 1000);
        let path = write(dir.path(), &evs, 5000);
        let raw = std::fs::read(&path).unwrap();
        let marks = frame_marks(&raw);
        // The header's frame, then three of events.
        assert_eq!(marks.len(), 4, "{marks:?}");
        assert_eq!(marks[1].base, 0);
        for m in &marks[2..] {
            assert!(m.base > 0 && evs.iter().any(|e| e.time == m.base), "{m:?}");
        }
        let back = read_cast(&path).unwrap();
        assert_eq!(back.damage, Vec::<String>::new());
        assert_eq!(back.header, header());
        assert_eq!(back.events.len(), evs.len());
        assert!(back.events == evs, "events differ after the round trip");

        // A cut inside the last frame keeps all earlier frames whole.
        let cut_at = marks[3].offset as usize + (raw.len() - marks[3].offset as usize) / 2;
        std::fs::write(&path, &raw[..cut_at]).unwrap();
        let cut = read_cast(&path).unwrap();
        assert!(!cut.damage.is_empty());
        assert!(cut.events.len() < evs.len());
        assert_eq!(cut.events[..], evs[..cut.events.len()]);
        let before_last_frame = evs.iter().filter(|e| e.time <= marks[3].base).count();
        assert!(cut.events.len() > before_last_frame);
    }

    /// A recorder killed during a flood (fast mode, switched to mid-recording) leaves
    /// every event up to its last flush readable, at the fast level as at the strong one.
    #[test]
    fn a_writer_killed_in_the_fast_mode_leaves_every_flushed_event() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("session.cast.zst");
        let mut w = CastWriter::create(&path, &header()).unwrap();
        let evs = events(1200, 300);
        for (i, ev) in evs[..1000].iter().enumerate() {
            if i == 300 {
                w.set_fast(true).unwrap();
            }
            w.write(ev).unwrap();
            if i % 100 == 99 {
                w.flush().unwrap();
            }
        }
        for ev in &evs[1000..] {
            w.write(ev).unwrap();
        }
        // Read while the writer lives (never finished): what a crash leaves.
        let got = read_cast(&path).unwrap();
        assert_eq!(got.events.len(), 1000);
        assert!(got.events[..] == evs[..1000], "flushed events differ");
        drop(w);
    }

    #[test]
    fn a_cut_file_decodes_to_a_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let evs = events(3000, 120);
        let path = write(dir.path(), &evs, 20);
        let raw = std::fs::read(&path).unwrap();
        let mut last = 0;
        for k in 1..7 {
            let len = raw.len() * k / 7;
            std::fs::write(&path, &raw[..len]).unwrap();
            let got = read_cast(&path).unwrap_or_else(|e| panic!("cut at {k}/7: {e}"));
            let n = got.events.len();
            assert_eq!(got.events[..], evs[..n], "cut at {k}/7 is not a prefix");
            assert!(
                n > last,
                "cut at {k}/7 decoded {n} events, fewer than before"
            );
            assert!(!got.damage.is_empty(), "cut at {k}/7 reported no damage");
            last = n;
        }
        // The uncut file reads whole and clean.
        std::fs::write(&path, &raw).unwrap();
        let whole = read_cast(&path).unwrap();
        assert!(whole.events == evs && whole.damage.is_empty());
    }

    #[test]
    fn garbage_after_the_end_is_damage_not_loss() {
        let dir = tempfile::tempdir().unwrap();
        let evs = events(500, 80);
        let path = write(dir.path(), &evs, 100);
        let mut raw = std::fs::read(&path).unwrap();
        raw.extend_from_slice(b"\x00\xffnot zstd at all\n[1.0, \"o\", \"x\"]\n");
        std::fs::write(&path, &raw).unwrap();
        let got = read_cast(&path).unwrap();
        assert!(got.events == evs);
        assert!(!got.damage.is_empty());
    }

    #[test]
    fn standard_decoders_read_the_file_as_plain_v3() {
        let dir = tempfile::tempdir().unwrap();
        let evs = events(200, 60);
        let path = write(dir.path(), &evs, 30);
        let text = zstd::stream::decode_all(File::open(&path).unwrap()).unwrap();
        let (rec, damage) =
            crate::asciicast::parse_v3_lenient(std::str::from_utf8(&text).unwrap()).unwrap();
        assert!(damage.is_empty());
        assert!(rec.events == evs);
    }
}
