//! Serving one segment: its snapshot from the cache, its events from the recording's
//! frame it starts in (see the parent module).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path as FsPath, PathBuf};

use fixcast_sessions::CastDecoder;

use super::{io_err, Entry, Segment, READ_BYTES};
use crate::error::Result;

/// A segment's JSON: its snapshot from the data file, its events decoded from the
/// recording's frame it starts in. `Ok(None)` when the recording is not the one the
/// index was made for (rewritten meanwhile): the index is stale.
pub(super) fn read_segment(cast: PathBuf, data: PathBuf, e: &Entry) -> Result<Option<Vec<u8>>> {
    let mut f = File::open(&data).map_err(io_err(&data))?;
    f.seek(SeekFrom::Start(e.offset)).map_err(io_err(&data))?;
    let mut packed = vec![0; e.len as usize];
    f.read_exact(&mut packed).map_err(io_err(&data))?;
    let group = zstd::decode_all(&packed[..]).map_err(io_err(&data))?;
    let bad = || io_err(&data)(std::io::Error::other("segments: bad snapshot place"));
    let place = usize::try_from(e.within).map_err(|_| bad())?
        ..usize::try_from(e.within + e.size).map_err(|_| bad())?;
    let snapshot = group.get(place).ok_or_else(bad)?;
    let snapshot = String::from_utf8(snapshot.to_vec())
        .map_err(|e| io_err(&data)(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
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

/// A segment's events decompressed from its frame with no line parsed but its own: the
/// fast way, for an undamaged recording. False if anything is not as the index says
/// (then `seg` holds part of them, and the caller reads the recording event by event).
fn events_from_text(cast: &FsPath, e: &Entry, text_at: u64, seg: &mut Segment) -> bool {
    use std::io::BufRead;
    let Ok(mut f) = File::open(cast) else {
        return false;
    };
    if f.seek(SeekFrom::Start(e.at)).is_err() {
        return false;
    }
    // zstd's own decoder: skips the seek marks, goes on across frames.
    let Ok(dec) = zstd::stream::read::Decoder::new(f) else {
        return false;
    };
    let mut text = std::io::BufReader::with_capacity(READ_BYTES, dec);
    let skipped = std::io::copy(&mut (&mut text).take(text_at), &mut std::io::sink());
    if skipped.ok() != Some(text_at) {
        return false;
    }
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
