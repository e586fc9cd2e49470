//! Recompaction: a finished session's recording rewritten once, at a level no live
//! recorder could keep up with.
//!
//! The recorder compresses at a level that keeps up with a flood of output (see
//! [`crate::CastWriter`]); once the session has ended nothing is in a hurry, so its
//! recording is written again at [`LEVEL`] with a longer window, the header in a frame
//! of its own and the events in frames of up to [`FRAME_TEXT`] of text, each behind a
//! seek mark, so seeking, damage tolerance and standard decoders work as before. A
//! trailer (a skippable frame, [`COMPACTED_TAG`]) marks the file as compacted, so it
//! happens once, and says whether the frames hold the same lines as before (then a
//! cache that points into frames by number still holds: [`compacted_from`]).
//!
//! Crash safety: the new file is made beside the old one (a hidden temp file, locked
//! while it is written), read back and compared event for event with the old one,
//! synced, and renamed over it (the folder synced after). A crash at any moment leaves
//! the old recording or the new one, whole; a temp file left by a dead compactor is
//! ignored by every reader and removed by the next compaction. Readers holding the old
//! file keep reading it (the rename leaves their inode alone).

use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::asciicast::V3Encoder;
use crate::cast_file::{seek_mark, SKIPPABLE_MAGIC};
use crate::cast_reader::CastReader;
use crate::command::{load_cache, save_cache, CacheKey};
use crate::error::{Error, Result};
use crate::id::SessionId;
use crate::meta::{SessionMeta, Status};
use crate::store::{Store, CAST_FILE, COMMANDS_FILE, META_FILE, UPLOAD_KEY_FILE};

/// zstd level of a compacted recording: the strongest (`--ultra -22`'s optimal parser),
/// its window capped (below); compresses at 2-5 MB/s, decompresses as fast as any level.
/// On the size bench's sessions it is 2-3% smaller than level 19 with the same window.
pub const LEVEL: i32 = 22;
/// Output of long runs of one byte (`yes`, a progress bar's padding) is where level 22
/// does worse than 19 (15% on such a recording) and than the live level 12 even: a
/// rewrite no smaller than the recording is made again at this level.
pub const FALLBACK_LEVEL: i32 = 19;
/// An 8 MiB window, the live recording's: every reader of a frame (an export, the web's
/// segments) holds that much to decode it, and a 16 MiB one took a streamed export of a
/// compacted session from 24 to 38 MiB, for no gain in size on the bench's session.
pub const WINDOW_LOG: u32 = 23;
/// Level 22's match tables are sized for its 128 MiB window (hash 2^25, chain 2^27:
/// 640 MiB); for an 8 MiB one these find the same matches in about 100 MiB.
const HASH_LOG: u32 = 23;
const CHAIN_LOG: u32 = 24;
/// Long-distance matching, sparser than zstd's defaults for level 22 (2^19 entries, one
/// position in 16, 32-byte matches): its matches are taken as they are, before the
/// optimal parser looks, and many of them crowd out better short ones. One position in
/// 256 into 2^16 entries: the size bench's fixed session (12 MB of cast in one frame)
/// compresses to 130.3 kB where the defaults make 132.5 kB and no long-distance matching
/// 133.5 kB, in about the same time. (Swept on that session: denser or sparser hashing,
/// shorter or longer matches, smaller buckets each cost 0.1-0.9%.)
const LDM_HASH_LOG: u32 = 16;
const LDM_HASH_RATE_LOG: u32 = 8;
const LDM_MIN_MATCH: u32 = 32;
const LDM_BUCKET_SIZE_LOG: u32 = 8;
/// The tag of the trailer that marks a file as compacted.
pub const COMPACTED_TAG: &[u8] = b"fixcast-compacted:";
/// The temp files of compactions start with this (then the compactor's pid).
const TEMP_PREFIX: &str = ".session.cast.zst.compact";

/// What [`Store::compact`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Compacted {
    /// The recording was rewritten: its size before and after, and its frames.
    Done {
        before: u64,
        after: u64,
        frames: usize,
        millis: u64,
    },
    /// It was compacted already.
    Already,
    /// It is left as it is, for this reason (told to the user, lowercase).
    Skipped(String),
}

/// Why a compaction was refused; the recording is as it was.
#[derive(Debug, thiserror::Error)]
pub enum CompactError {
    #[error("session {}: being recorded; compact it once it has ended", .0.short())]
    Recording(SessionId),
    #[error("session {}: the recording is damaged ({reason}); left as it is", id.short())]
    Damaged { id: SessionId, reason: String },
    #[error("session {}: the recording changed while it was compacted; run compact again", .0.short())]
    Changed(SessionId),
    #[error(transparent)]
    Store(#[from] Error),
}

/// Whether the recording at `path` was compacted (ends in the trailer).
pub fn is_compacted(path: &Path) -> Result<bool> {
    Ok(trailer_of(path)?.is_some())
}

/// The size the recording at `path` had before it was compacted, if it was compacted
/// into the same frames; `None` if it was not compacted, or its frames were regrouped. A
/// cache of the recording as it was (the same events and frames) still holds if its
/// key had that size and the same mtime (compaction keeps the mtime).
pub fn compacted_from(path: &Path) -> Result<Option<u64>> {
    Ok(trailer_of(path)?.and_then(|t| t.same_frames.then_some(t.from_size)))
}

/// What the trailer of a compacted file says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Trailer {
    from_size: u64,
    /// Whether its frames hold the lines the old file's did (else the events are the
    /// same, but a cache that points into frames by number does not hold).
    same_frames: bool,
}

fn trailer_of(path: &Path) -> Result<Option<Trailer>> {
    let mut f = File::open(path).map_err(Error::io(path))?;
    let len = f.metadata().map_err(Error::io(path))?.len();
    let tail = len.min(MAX_TRAILER as u64);
    f.seek(SeekFrom::Start(len - tail))
        .map_err(Error::io(path))?;
    let mut buf = vec![0; tail as usize];
    f.read_exact(&mut buf).map_err(Error::io(path))?;
    Ok(parse_trailer(&buf))
}

/// Trailers are short; this much of a file's end is read to find one.
const MAX_TRAILER: usize = 256;

/// The trailer that `tail` (a file's last bytes) ends with, if any: `from_size` for a
/// file of the same frames, `regrouped_from` for one whose frames were regrouped (a
/// name older readers do not know: to them the file is not compacted, so they never
/// point a cache of the old frames into it).
fn parse_trailer(tail: &[u8]) -> Option<Trailer> {
    let start = tail
        .windows(SKIPPABLE_MAGIC.len())
        .rposition(|w| w == SKIPPABLE_MAGIC)?;
    let frame = &tail[start..];
    let len = u32::from_le_bytes(frame.get(4..8)?.try_into().ok()?) as usize;
    let json = frame.get(8..)?.strip_prefix(COMPACTED_TAG)?;
    if frame.len() != 8 + len {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(json).ok()?;
    if let Some(from_size) = v.get("from_size").and_then(|n| n.as_u64()) {
        return Some(Trailer {
            from_size,
            same_frames: true,
        });
    }
    Some(Trailer {
        from_size: v.get("regrouped_from")?.as_u64()?,
        same_frames: false,
    })
}

/// The skippable frame at the end of a compacted file.
fn trailer(t: Trailer) -> Vec<u8> {
    let name = if t.same_frames {
        "from_size"
    } else {
        "regrouped_from"
    };
    let payload = format!("{{\"{name}\":{}}}", t.from_size);
    let len = (COMPACTED_TAG.len() + payload.len()) as u32;
    let mut t = SKIPPABLE_MAGIC.to_vec();
    t.extend_from_slice(&len.to_le_bytes());
    t.extend_from_slice(COMPACTED_TAG);
    t.extend_from_slice(payload.as_bytes());
    t
}

impl Store {
    /// Rewrites a finished session's recording once, strongly compressed (see the
    /// module). Refuses a session being recorded, or one damaged before its last frame
    /// (a cut last frame, a crash's, is fine: nothing readable is lost). An uploaded
    /// session is compacted only once its upload has finished.
    pub fn compact(&self, id: &SessionId) -> Result<Compacted, CompactError> {
        let started = Instant::now();
        let meta = self.load(id)?.meta;
        if meta.status == Status::Recording || self.is_being_recorded(id) {
            return Err(CompactError::Recording(id.clone()));
        }
        let dir = self.dir(id);
        if dir.join(UPLOAD_KEY_FILE).exists() && meta.status != Status::Complete {
            return Ok(Compacted::Skipped(
                "its upload has not finished; it may still be appended to".into(),
            ));
        }
        let path = dir.join(CAST_FILE);
        if is_compacted(&path)? {
            return Ok(Compacted::Already);
        }
        let Some(temp) = TempFile::create(&dir)? else {
            return Ok(Compacted::Skipped(
                "another compaction of it is running".into(),
            ));
        };
        let key = CacheKey::of(&path)?;
        let mtime = fs::metadata(&path)
            .and_then(|m| m.modified())
            .map_err(Error::io(&path))?;
        let (mut frames, _) = rewrite(&path, temp.file()?, &temp.path, id, key.cast_size, LEVEL)?;
        let size = |t: &TempFile| -> Result<u64> {
            Ok(t.file()?.metadata().map_err(Error::io(&t.path))?.len())
        };
        if size(&temp)? >= key.cast_size {
            temp.truncate()?;
            (frames, _) = rewrite(
                &path,
                temp.file()?,
                &temp.path,
                id,
                key.cast_size,
                FALLBACK_LEVEL,
            )?;
        }
        let mut kept = false;
        if size(&temp)? >= key.cast_size {
            // A tiny recording (a few hundred bytes) gains nothing: it is kept as it is,
            // the trailer after it, so that it too is done once.
            keep_as_it_is(&path, &temp, key.cast_size)?;
            kept = true;
        }
        frames = verify(&path, &temp.path, id, (!kept).then_some(frames))?;
        temp.file()?
            .set_modified(mtime)
            .map_err(Error::io(&temp.path))?;
        let after = size(&temp)?;

        // Renamed into place under the home's edit lock, which a redaction's rewrite
        // holds too: the recording must be the one that was read.
        let lock = crate::edit::lock_home(self)?;
        if CacheKey::of(&path)? != key || self.is_being_recorded(id) {
            return Err(CompactError::Changed(id.clone()));
        }
        temp.commit(&path)?;
        let new_key = CacheKey::of(&path)?;
        // The events are the same, so the commands cut from them still hold.
        let commands = dir.join(COMMANDS_FILE);
        if let Some(cmds) = load_cache(&commands, &key) {
            let _ = save_cache(&commands, new_key, cmds);
        }
        if let Ok(mut meta) = SessionMeta::load(&dir.join(META_FILE)) {
            meta.bytes.stored = after;
            let _ = self.save_meta(&meta);
        }
        drop(lock);
        Ok(Compacted::Done {
            before: key.cast_size,
            after,
            frames,
            millis: started.elapsed().as_millis() as u64,
        })
    }
}

/// A compaction's temp file beside the recording, locked while it lives (so another
/// compactor tells a running compaction from a dead one's leftover), removed on drop
/// unless committed.
struct TempFile {
    path: PathBuf,
    file: Option<File>,
}

impl TempFile {
    /// Removes leftovers of dead compactions, then creates this process's temp file;
    /// `None` when another compaction of the session is running.
    fn create(dir: &Path) -> Result<Option<TempFile>> {
        for e in fs::read_dir(dir).map_err(Error::io(dir))?.flatten() {
            if !e.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
                continue;
            }
            let stale = File::open(e.path()).is_ok_and(|f| f.try_lock().is_ok());
            if !stale {
                return Ok(None);
            }
            let _ = fs::remove_file(e.path());
        }
        let path = dir.join(format!("{TEMP_PREFIX}{}", std::process::id()));
        let _ = fs::remove_file(&path);
        let file = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(Error::io(&path))?;
        let temp = TempFile {
            path,
            file: Some(file),
        };
        temp.file()?.try_lock().map_err(|e| Error::Io {
            path: temp.path.clone(),
            source: io::Error::other(e.to_string()),
        })?;
        Ok(Some(temp))
    }

    /// Empties the temp file for another rewrite.
    fn truncate(&self) -> Result<()> {
        let mut f = self.file()?;
        f.set_len(0)
            .and_then(|_| f.seek(SeekFrom::Start(0)))
            .map(|_| ())
            .map_err(Error::io(&self.path))
    }

    fn file(&self) -> Result<&File> {
        self.file
            .as_ref()
            .ok_or_else(|| Error::io(&self.path)(io::Error::other("temp file closed")))
    }

    /// Syncs the temp file, renames it over `path`, syncs the folder.
    fn commit(mut self, path: &Path) -> Result<()> {
        let file = self.file.take().expect("open until committed");
        file.sync_all().map_err(Error::io(&self.path))?;
        fs::rename(&self.path, path).map_err(Error::io(path))?;
        self.path = PathBuf::new();
        drop(file);
        if let Some(dir) = path.parent() {
            File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(Error::io(dir))?;
        }
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Makes `temp` the recording at `path` (`from_size` bytes) as it is, then the trailer.
fn keep_as_it_is(path: &Path, temp: &TempFile, from_size: u64) -> Result<()> {
    let io = Error::io(&temp.path);
    let mut out = temp.file()?;
    let mut old = File::open(path).map_err(Error::io(path))?;
    out.set_len(0)
        .and_then(|_| out.seek(SeekFrom::Start(0)))
        .and_then(|_| io::copy(&mut (&mut old).take(from_size), &mut out))
        .and_then(|_| {
            out.write_all(&trailer(Trailer {
                from_size,
                same_frames: true,
            }))
        })
        .map_err(io)
}

/// Counts what is written, for the seek marks' offsets.
struct Counted<W> {
    out: W,
    written: u64,
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

type Encoder<'a> = zstd::stream::write::Encoder<'static, Counted<BufWriter<&'a File>>>;

fn frame_encoder(out: Counted<BufWriter<&File>>, level: i32) -> io::Result<Encoder<'_>> {
    use zstd::stream::raw::CParameter;
    let mut enc = zstd::stream::write::Encoder::new(out, level)?;
    for p in [
        CParameter::WindowLog(WINDOW_LOG),
        CParameter::HashLog(HASH_LOG),
        CParameter::ChainLog(CHAIN_LOG),
        CParameter::EnableLongDistanceMatching(true),
        CParameter::LdmHashLog(LDM_HASH_LOG),
        CParameter::LdmHashRateLog(LDM_HASH_RATE_LOG),
        CParameter::LdmMinMatch(LDM_MIN_MATCH),
        CParameter::LdmBucketSizeLog(LDM_BUCKET_SIZE_LOG),
        CParameter::ChecksumFlag(true),
    ] {
        enc.set_parameter(p)?;
    }
    Ok(enc)
}

/// Ends the frame and begins the next behind its mark (at its new offset), after an
/// event at `last` µs.
fn next_frame(enc: Encoder<'_>, last: u64, level: i32) -> io::Result<Encoder<'_>> {
    let mut sink = enc.finish()?;
    let mark = seek_mark(last, sink.written);
    sink.write_all(&mark)?;
    frame_encoder(sink, level)
}

/// Text a frame of the rewrite holds before the next begins (after the line that
/// reaches it): a reader seeking into the recording decodes at most this much of it
/// (about 20 ms at level 22's speed of decoding), and each frame starts its window
/// afresh. A live recording's frames are far shorter where its writer switched modes
/// (each switch ends one): the size bench's recorded session, made on a loaded machine
/// mostly at the fast level, compacted to 1.77x `zstd -19` of its text with its frames
/// kept, 0.96x regrouped.
const FRAME_TEXT: u64 = 16 << 20;

/// Writes the recording at `path` into `out` at zstd `level`: the header in a frame of
/// its own (as the live file has it), then frames of [`FRAME_TEXT`] of text; the number
/// of frames, and whether they hold the same lines as the old file's.
fn rewrite(
    path: &Path,
    out: &File,
    out_path: &Path,
    id: &SessionId,
    from_size: u64,
    level: i32,
) -> Result<(usize, bool), CompactError> {
    let io = |e| Error::io(out_path)(e);
    let damaged = |reason: String| CompactError::Damaged {
        id: id.clone(),
        reason,
    };
    let mut reader = CastReader::open(path)?;
    let Some(header) = reader.header()?.cloned() else {
        return Err(damaged("it has no header".into()));
    };
    let mut v3 = V3Encoder::new();
    let mut line = v3.header(&header);
    let sink = Counted {
        out: BufWriter::with_capacity(1 << 20, out),
        written: 0,
    };
    let mut enc = frame_encoder(sink, level).map_err(io)?;
    enc.write_all(line.as_bytes()).map_err(io)?;
    enc = next_frame(enc, 0, level).map_err(io)?;
    // Events before each frame after the first, as the old file's are counted.
    let mut starts = vec![0u64];
    let (mut events, mut last, mut text) = (0u64, 0u64, 0u64);
    while let Some(ev) = reader.next_event()? {
        if text >= FRAME_TEXT {
            enc = next_frame(enc, last, level).map_err(io)?;
            starts.push(events);
            text = 0;
        }
        line.clear();
        v3.event(&ev, &mut line);
        enc.write_all(line.as_bytes()).map_err(io)?;
        text += line.len() as u64;
        last = last.max(ev.time);
        events += 1;
    }
    if reader.decoder().damage_before_a_frame() {
        let d = reader.damage();
        return Err(damaged(d.first().cloned().unwrap_or_default()));
    }
    let old: Vec<u64> = reader.decoder().frames().iter().map(|f| f.0).collect();
    let same_frames = old == starts;
    let mut sink = enc.finish().map_err(io)?;
    let t = Trailer {
        from_size,
        same_frames,
    };
    sink.write_all(&trailer(t)).map_err(io)?;
    sink.out.flush().map_err(io)?;
    Ok((starts.len() + 1, same_frames))
}

/// Reads both recordings through and compares them: the same header, the same events,
/// and the new one undamaged, in `frames` frames (`None`: as many as the old one); its
/// frames.
fn verify(
    old: &Path,
    new: &Path,
    id: &SessionId,
    frames: Option<usize>,
) -> Result<usize, CompactError> {
    let mut a = CastReader::open(old)?;
    let mut b = CastReader::open(new)?;
    let bad = |what: &str| {
        Err(CompactError::Store(Error::Unreadable {
            id: id.to_string(),
            what: "compacted",
            reason: format!("the rewrite {what}; the recording is left as it was"),
        }))
    };
    if a.header()?.cloned() != b.header()?.cloned() {
        return bad("has another header");
    }
    loop {
        match (a.next_event()?, b.next_event()?) {
            (None, None) => break,
            (x, y) if x == y => {}
            _ => return bad("reads back other events"),
        }
    }
    let got = b.decoder().frames().len() + 1;
    let want = frames.unwrap_or(a.decoder().frames().len() + 1);
    if !b.damage().is_empty() || got != want {
        return bad("reads back damaged");
    }
    Ok(got)
}

#[cfg(test)]
#[path = "recompact_tests.rs"]
mod tests;
