//! Serving one segment: its snapshot from the cache, its events from the recording's
//! frame it starts in (see the parent module); and the snapshots' compression against
//! the recording's text before them, both ways.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path as FsPath, PathBuf};

use fixcast_sessions::CastDecoder;

use super::{io_err, Entry, Segment, PREFIX_BYTES, READ_BYTES, SNAPSHOT_LEVEL};
use crate::error::Result;

/// A segment's JSON: its snapshot as held (`held`) or from the data file, its events
/// decoded from the recording's frame it starts in. `Ok(None)` when the recording is not
/// the one the index was made for (rewritten meanwhile): the index is stale.
pub(super) fn read_segment(
    cast: PathBuf,
    data: PathBuf,
    e: &Entry,
    held: Option<String>,
) -> Result<Option<Vec<u8>>> {
    let snapshot = match held {
        Some(s) => s,
        None => {
            let mut f = File::open(&data).map_err(io_err(&data))?;
            f.seek(SeekFrom::Start(e.offset)).map_err(io_err(&data))?;
            let mut packed = vec![0; e.len as usize];
            f.read_exact(&mut packed).map_err(io_err(&data))?;
            if e.prefix > 0 {
                return Ok(prefixed(&cast, &packed, e));
            }
            let group = zstd::decode_all(&packed[..]).map_err(io_err(&data))?;
            let bad = || io_err(&data)(std::io::Error::other("segments: bad snapshot place"));
            let place = usize::try_from(e.within).map_err(|_| bad())?
                ..usize::try_from(e.within + e.size).map_err(|_| bad())?;
            let snapshot = group.get(place).ok_or_else(bad)?;
            String::from_utf8(snapshot.to_vec()).map_err(|e| {
                io_err(&data)(std::io::Error::new(std::io::ErrorKind::InvalidData, e))
            })?
        }
    };
    let mut seg = Segment::with_snapshot(e.start, snapshot.clone());
    let fast = e
        .text_at
        .is_some_and(|at| events_from_text(&cast, e, at, &mut seg));
    if !fast {
        seg = Segment::with_snapshot(e.start, snapshot);
    }
    if e.count > 0 && !fast {
        let mut f = File::open(&cast).map_err(io_err(&cast))?;
        f.seek(SeekFrom::Start(e.at)).map_err(io_err(&cast))?;
        let mut decoder = if e.frame == 0 {
            CastDecoder::new()
        } else {
            CastDecoder::at_mark(e.at)
        };
        let (mut seen, want) = (0u64, e.skip + e.count);
        let (mut buf, mut batch) = (vec![0; READ_BYTES], Vec::new());
        while seen < want {
            let n = f.read(&mut buf).map_err(io_err(&cast))?;
            if n == 0 {
                decoder.end(&mut batch);
            } else {
                decoder.push(&buf[..n], &mut batch);
            }
            // The frame must begin where the index says, before any event is taken.
            let begun = decoder.frames().first();
            let decoded = begun.is_some() || !batch.is_empty();
            if e.frame > 0 && decoded && begun != Some(&(0, e.at)) {
                return Ok(None);
            }
            for ev in batch.drain(..) {
                if (e.skip..want).contains(&seen) {
                    seg.push_event(&ev);
                }
                seen += 1;
            }
            if n == 0 {
                break;
            }
        }
        if seen < want {
            return Ok(None);
        }
    }
    seg.finish();
    Ok(Some(seg.json().into_bytes()))
}

/// A segment whose snapshot was compressed against the text before it: the text is
/// decoded up to the segment, the snapshot against its end, then the segment's events
/// from the text that follows. `None` if anything is not as the index says (the
/// recording was rewritten since): the snapshot cannot be had without that text.
fn prefixed(cast: &FsPath, packed: &[u8], e: &Entry) -> Option<Vec<u8>> {
    let text_at = e.text_at?;
    let from = text_at.checked_sub(e.prefix)?;
    let mut text = frame_text(cast, e.at)?;
    let skipped = std::io::copy(&mut (&mut text).take(from), &mut std::io::sink());
    if skipped.ok() != Some(from) {
        return None;
    }
    let mut prefix = vec![0; usize::try_from(e.prefix).ok()?];
    text.read_exact(&mut prefix).ok()?;
    let group = unpack(packed, &prefix)?;
    let place = usize::try_from(e.within).ok()?..usize::try_from(e.within + e.size).ok()?;
    let snapshot = String::from_utf8(group.get(place)?.to_vec()).ok()?;
    let mut seg = Segment::with_snapshot(e.start, snapshot);
    if !events_after(&mut text, e, &mut seg) {
        return None;
    }
    seg.finish();
    Some(seg.json().into_bytes())
}

/// Snapshots as one zstd frame (with a checksum: a prefix that is not the one they
/// were compressed against must not decode to another screen), against `prefix`.
pub(super) fn pack_snapshots(text: &[u8], prefix: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut enc =
        zstd::stream::write::Encoder::with_ref_prefix(Vec::new(), SNAPSHOT_LEVEL, prefix)?;
    enc.set_parameter(zstd::stream::raw::CParameter::ChecksumFlag(true))?;
    enc.write_all(text)?;
    enc.finish()
}

/// Snapshots compressed against `prefix`; `None` if they do not decode against it
/// whole (their checksum tells a wrong prefix).
fn unpack(packed: &[u8], prefix: &[u8]) -> Option<Vec<u8>> {
    let mut dec = zstd::stream::read::Decoder::with_ref_prefix(packed, prefix).ok()?;
    let mut out = Vec::new();
    dec.read_to_end(&mut out).ok()?;
    Some(out)
}

type FrameText = std::io::BufReader<zstd::stream::read::Decoder<'static, std::io::BufReader<File>>>;

/// The recording's text from the frame at `at` on (zstd's own decoder: it skips the
/// seek marks and goes on across frames).
fn frame_text(cast: &FsPath, at: u64) -> Option<FrameText> {
    let mut f = File::open(cast).ok()?;
    f.seek(SeekFrom::Start(at)).ok()?;
    let dec = zstd::stream::read::Decoder::new(f).ok()?;
    Some(std::io::BufReader::with_capacity(READ_BYTES, dec))
}

/// The text before each segment's first event, as the build reads it for each snapshot
/// in turn (frames and places in order): the same bytes [`prefixed`] reads back.
pub(crate) struct Prefixes {
    cast: PathBuf,
    text: Option<(usize, FrameText)>,
    /// Where `text` is in its frame's text, and the bytes just before there.
    pos: u64,
    tail: Vec<u8>,
}

impl Prefixes {
    pub(crate) fn new(cast: PathBuf) -> Prefixes {
        Prefixes {
            cast,
            text: None,
            pos: 0,
            tail: Vec::new(),
        }
    }

    /// Appends frame `frame`'s (at `at`) text before `text_at`, [`PREFIX_BYTES`] at most,
    /// to `out`; false if it cannot be read.
    pub(crate) fn before(
        &mut self,
        frame: usize,
        at: u64,
        text_at: u64,
        out: &mut Vec<u8>,
    ) -> bool {
        if self.text.as_ref().is_none_or(|t| t.0 != frame) || text_at < self.pos {
            let Some(text) = frame_text(&self.cast, at) else {
                return false;
            };
            (self.text, self.pos) = (Some((frame, text)), 0);
            self.tail.clear();
        }
        let Some((_, text)) = self.text.as_mut() else {
            return false;
        };
        let from = text_at.saturating_sub(PREFIX_BYTES);
        if from > self.pos {
            let skip = from - self.pos;
            let skipped = std::io::copy(&mut text.take(skip), &mut std::io::sink());
            if skipped.ok() != Some(skip) {
                return false;
            }
            self.pos = from;
            self.tail.clear();
        }
        let more = (text_at - self.pos) as usize;
        let start = self.tail.len();
        self.tail.resize(start + more, 0);
        if text.read_exact(&mut self.tail[start..]).is_err() {
            return false;
        }
        self.pos = text_at;
        let keep = (text_at - from) as usize;
        self.tail.drain(..self.tail.len().saturating_sub(keep));
        out.extend_from_slice(&self.tail);
        true
    }
}

/// A segment's events decompressed from its frame with no line parsed but its own: the
/// fast way, for an undamaged recording. False if anything is not as the index says
/// (then `seg` holds part of them, and the caller reads the recording event by event).
fn events_from_text(cast: &FsPath, e: &Entry, text_at: u64, seg: &mut Segment) -> bool {
    let Some(mut text) = frame_text(cast, e.at) else {
        return false;
    };
    let skipped = std::io::copy(&mut (&mut text).take(text_at), &mut std::io::sink());
    if skipped.ok() != Some(text_at) {
        return false;
    }
    events_after(&mut text, e, seg)
}

/// The segment's events from `text`, at its first event's line.
fn events_after(text: &mut FrameText, e: &Entry, seg: &mut Segment) -> bool {
    use std::io::BufRead;
    let (mut prev, mut seen, mut line) = (e.base, 0u64, Vec::new());
    while seen < e.count {
        line.clear();
        if !matches!(text.read_until(b'\n', &mut line), Ok(n) if n > 0) || line.pop() != Some(b'\n')
        {
            return false;
        }
        let Ok(s) = std::str::from_utf8(&line) else {
            return false;
        };
        match fixcast_sessions::asciicast::parse_v3_line(s, prev) {
            Ok(Some(ev)) => {
                prev = ev.time;
                seg.push_event(&ev);
                seen += 1;
            }
            Ok(None) => {}
            Err(_) => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::{pack_snapshots, unpack};

    #[test]
    fn snapshots_decode_only_against_their_own_prefix() {
        let prefix =
            b"[0.1, \"o\", \"root@node1:/etc# ls\\r\\nhosts  passwd  resolv.conf\\r\\n\"]\n";
        let screen = b"{\"cols\":80,\"rows\":24,\"init\":\"root@node1:/etc# ls\\r\\nhosts  passwd  resolv.conf\"}";
        let packed = pack_snapshots(screen, prefix).unwrap();
        assert_eq!(unpack(&packed, prefix).as_deref(), Some(&screen[..]));
        // Another text before the segment (the recording rewritten under the index):
        // no screen at all rather than a wrong one.
        let mut other = prefix.to_vec();
        other[20] = b'X';
        assert_eq!(unpack(&packed, &other), None);
        assert_eq!(unpack(&packed, b""), None);
    }
}
