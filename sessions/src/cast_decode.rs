//! Decoding `session.cast.zst` as far as it goes: the one reader behind [`read_cast`],
//! [`CastTail`] and [`CastReader`](crate::CastReader).
//!
//! zstd's streaming decoder forgets what it decoded in a call that ends in an error, and
//! one call may decode many blocks: fed a recording with garbage after its last flush, it
//! returned nothing of the blocks before the garbage. So this decoder splits the input
//! itself along the zstd format (frame headers, blocks, checksums, skippable frames) and
//! hands zstd one whole block per call: damage costs the block it is in, never the blocks
//! before it. After damage it looks for the next seek mark (see [`crate::cast_file`]), so
//! the frames after a damaged one are read too, their times counted from the mark.
//!
//! [`read_cast`]: crate::read_cast
//! [`CastTail`]: crate::CastTail

use zstd::stream::raw::{InBuffer, Operation, OutBuffer};

use crate::asciicast::{parse_v3_lenient, parse_v3_line, Header};
use crate::cast_file::{parse_mark, SKIPPABLE_MAGIC};
use crate::error::Result;
use crate::event::Event;
use crate::time_only::time_only;
use crate::zstd_spare::{Lent, Parts};

const ZSTD_MAGIC: [u8; 4] = 0xFD2F_B528_u32.to_le_bytes();
/// The largest block the zstd format allows.
const MAX_BLOCK: usize = 128 << 10;
/// A skippable frame larger than this is skipped unread (seek marks are tiny).
const MAX_MARK: usize = 4 << 10;
/// Damage notes kept; the rest are counted.
const MAX_NOTES: usize = 100;

/// Where the next compressed bytes stand in the zstd format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between frames: a zstd frame or a skippable frame starts here.
    Between,
    /// Inside a frame, after its header: blocks, then a checksum if `checksum`.
    Blocks { checksum: bool },
    /// After the last block of a frame with a content checksum.
    Checksum,
    /// Inside a skippable frame too large to be a seek mark: bytes left to skip.
    Skip(u64),
    /// After damage: looking for the next seek mark.
    Lost,
}

/// Compressed bytes in, header and events out, whatever the damage.
pub struct CastDecoder {
    /// The zstd context and the buffer it decodes into.
    parts: Lent,
    state: State,
    /// Compressed bytes not decoded yet, from `start`: an incomplete block, header or mark.
    pending: Vec<u8>,
    start: usize,
    /// File offset of `pending[start]`.
    offset: u64,
    /// Decoded text not yet ending in a newline.
    text: Vec<u8>,
    /// Where `text` starts in the current frame's text (from its seek mark, or the file's
    /// start), and, when asked for, each event's line's place there.
    text_at: u64,
    lines_at: Option<Vec<u64>>,
    /// Whether the next line is the first of the recording (the header).
    first_line: bool,
    header: Option<Header>,
    /// Whether a damaged header line was told.
    header_noted: bool,
    /// Time (µs) of the last event, which the next interval counts from.
    time: u64,
    events: u64,
    damage: Vec<String>,
    more_damage: u64,
    /// Each frame started by a seek mark, as (events decoded before it, its offset).
    frames: Vec<(u64, u64)>,
    /// Whether a frame began after something was found damaged.
    damage_before_a_frame: bool,
    /// Events before this time (µs) are passed over: only their time is read.
    skip_before: u64,
    /// Decoding stops at the first event after this time (µs).
    stop_after: u64,
    stopped: bool,
}

impl Default for CastDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl CastDecoder {
    pub fn new() -> Self {
        CastDecoder {
            parts: Lent::new(MAX_BLOCK * 2),
            state: State::Between,
            pending: Vec::new(),
            start: 0,
            offset: 0,
            text: Vec::new(),
            first_line: true,
            header: None,
            header_noted: false,
            time: 0,
            events: 0,
            damage: Vec::new(),
            more_damage: 0,
            frames: Vec::new(),
            damage_before_a_frame: false,
            text_at: 0,
            lines_at: None,
            skip_before: 0,
            stop_after: u64::MAX,
            stopped: false,
        }
    }

    /// A decoder for the bytes of a file from `offset` on, where a seek mark begins a
    /// frame (see [`CastDecoder::frames`]): its events have their times from the mark,
    /// and no header line comes first.
    pub fn at_mark(offset: u64) -> Self {
        CastDecoder {
            offset,
            first_line: offset == 0,
            header_noted: offset != 0,
            ..Self::new()
        }
    }

    /// Passes over the events before `at` (µs): their lines are not parsed beyond their
    /// time, for a reader that wants what comes from `at` on (a frame's events before a
    /// command whose output is rendered again).
    pub fn skip_before(&mut self, at: u64) {
        self.skip_before = at;
    }

    /// Stops decoding at the first event after `at` (µs): a reader that wants no more
    /// leaves the rest of the file undecoded (see [`CastDecoder::stopped`]).
    pub fn stop_after(&mut self, at: u64) {
        self.stop_after = at;
    }

    /// Whether decoding stopped (see [`CastDecoder::stop_after`]): nothing more comes.
    pub fn stopped(&self) -> bool {
        self.stopped
    }

    /// The header, once its line is decoded.
    pub fn header(&self) -> Option<&Header> {
        self.header.as_ref()
    }

    /// Whether the header line has been seen (or is known to be lost).
    pub fn header_settled(&self) -> bool {
        !self.first_line
    }

    /// Events decoded so far.
    pub fn events_read(&self) -> u64 {
        self.events
    }

    /// What was found damaged so far, in the order found.
    pub fn damage(&self) -> Vec<String> {
        let mut d = self.damage.clone();
        if self.more_damage > 0 {
            d.push(format!("and {} more damaged places", self.more_damage));
        }
        d
    }

    /// The frames begun by a seek mark so far, each as (events decoded before it, the
    /// mark's offset): which frame an event came from, for a reader that rewrites the
    /// recording frame by frame or points into it.
    pub fn frames(&self) -> &[(u64, u64)] {
        &self.frames
    }

    /// Whether damage was found before a later frame began: damage only in the last
    /// frame is a recording cut by a crash; damage before a frame is in its middle.
    pub fn damage_before_a_frame(&self) -> bool {
        self.damage_before_a_frame
    }

    /// From now on, tells for each event where its line starts in its frame's text
    /// (decompressed, from the frame's start), in [`CastDecoder::take_lines_at`]: a
    /// reader can then decompress a frame and skip to an event without parsing the lines
    /// before it.
    pub fn track_lines(&mut self) {
        self.lines_at.get_or_insert_with(Vec::new);
    }

    /// The places of the events decoded since the last call (see `track_lines`).
    pub fn take_lines_at(&mut self) -> Vec<u64> {
        self.lines_at
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    fn note(&mut self, msg: String) {
        if self.damage.len() < MAX_NOTES {
            self.damage.push(msg);
        } else {
            self.more_damage += 1;
        }
    }

    /// Decodes what `bytes` (the next bytes of the file) complete, appending the events
    /// on whole lines to `events`. An incomplete block waits for the next call.
    pub fn push(&mut self, bytes: &[u8], events: &mut Vec<Event>) {
        if self.start > 0 && self.start >= self.pending.len() / 2 {
            self.pending.drain(..self.start);
            self.start = 0;
        }
        if self.stopped {
            return;
        }
        self.pending.extend_from_slice(bytes);
        while !self.stopped && self.step(events) {}
    }

    /// The file ends here: what is left unfinished is a cut tail.
    pub fn end(&mut self, events: &mut Vec<Event>) {
        loop {
            let left = self.pending.len() - self.start;
            match self.state {
                State::Lost | State::Skip(_) => break,
                State::Between if left == 0 => break,
                _ if left == 0 => {
                    let at = self.offset;
                    self.note(format!(
                        "cut off at byte {at}: the last frame is incomplete"
                    ));
                    break;
                }
                _ => {
                    // Usually a block cut by a crash; but a damaged block header may claim
                    // the bytes of the frames after it, so look for their marks.
                    self.lose("a block is cut off or damaged".into(), events);
                    while self.step(events) {}
                }
            }
        }
        self.take_lines(events);
        self.drop_partial_line("cut last line");
        if self.header.is_none() && !self.header_noted {
            self.first_line = false;
            self.note(
                "no asciicast header (the recording is empty or its start is damaged)".into(),
            );
        }
    }

    /// One unit of the zstd format, if it is all there; whether to go on.
    fn step(&mut self, events: &mut Vec<Event>) -> bool {
        let avail = &self.pending[self.start..];
        match self.state {
            State::Between => {
                if avail.len() < 4 {
                    return false;
                }
                if avail[..4] == ZSTD_MAGIC {
                    let Some(len) = frame_header_len(avail) else {
                        return false;
                    };
                    match len {
                        Ok((len, checksum)) if avail.len() >= len => {
                            self.decode(len, State::Blocks { checksum }, events)
                        }
                        Ok(_) => false,
                        Err(why) => self.lose(why, events),
                    }
                } else if avail[0] & 0xf0 == 0x50 && avail[1..4] == SKIPPABLE_MAGIC[1..4] {
                    self.skippable(events)
                } else {
                    self.lose("not a zstd frame".into(), events)
                }
            }
            State::Blocks { checksum } => {
                if avail.len() < 3 {
                    return false;
                }
                let bh = u32::from_le_bytes([avail[0], avail[1], avail[2], 0]);
                let (last, kind, size) = (bh & 1 == 1, (bh >> 1) & 3, (bh >> 3) as usize);
                if kind == 3 || size > MAX_BLOCK {
                    return self.lose("bad zstd block header".into(), events);
                }
                let len = 3 + if kind == 1 { 1 } else { size };
                if avail.len() < len {
                    return false;
                }
                // A damaged block header can claim the bytes of the next frame: a seek
                // mark inside a block's bytes tells that the block is not one.
                if let Some(at) = self.mark_inside(len) {
                    self.lose("bad zstd block size".into(), events);
                    self.advance(at - 1);
                    return true;
                }
                let next = match (last, checksum) {
                    (false, _) => self.state,
                    (true, true) => State::Checksum,
                    (true, false) => State::Between,
                };
                self.decode(len, next, events)
            }
            State::Checksum => avail.len() >= 4 && self.decode(4, State::Between, events),
            State::Skip(left) => {
                let n = (avail.len() as u64).min(left);
                self.advance(n as usize);
                self.state = if n == left {
                    State::Between
                } else {
                    State::Skip(left - n)
                };
                n == left
            }
            State::Lost => self.resync(),
        }
    }

    /// A skippable frame: a seek mark starts a frame whose times count from its base.
    fn skippable(&mut self, events: &mut Vec<Event>) -> bool {
        let avail = &self.pending[self.start..];
        if avail.len() < 8 {
            return false;
        }
        let len = u32::from_le_bytes(avail[4..8].try_into().expect("4 bytes")) as usize;
        if len > MAX_MARK {
            self.advance(8);
            self.state = State::Skip(len as u64);
            return true;
        }
        if avail.len() < 8 + len {
            return false;
        }
        if let Some((_, base)) = parse_mark(&avail[..8 + len]) {
            // Frames hold whole lines: anything left over belongs to a damaged frame.
            self.take_lines(events);
            self.drop_partial_line("cut line before a seek mark");
            self.time = base;
            self.damage_before_a_frame |= !self.damage.is_empty();
            self.frames.push((self.events, self.offset));
            self.text_at = 0;
        }
        self.advance(8 + len);
        true
    }

    /// After damage: skips to the next seek mark that is where it says it is (a chance
    /// match inside compressed data names another offset).
    fn resync(&mut self) -> bool {
        let avail = &self.pending[self.start..];
        let mut at = 0;
        while let Some(pos) = memchr::memmem::find(&avail[at..], &SKIPPABLE_MAGIC) {
            let cand = at + pos;
            let here = self.offset + cand as u64;
            match avail.get(cand + 4..cand + 8) {
                None => {
                    self.advance(cand);
                    return false;
                }
                Some(len) => {
                    let len = u32::from_le_bytes(len.try_into().expect("4 bytes")) as usize;
                    if len <= MAX_MARK && avail.len() < cand + 8 + len {
                        self.advance(cand);
                        return false;
                    }
                    let mark = avail.get(cand..cand + 8 + len).and_then(parse_mark);
                    if mark.is_some_and(|(offset, _)| offset == here) {
                        self.advance(cand);
                        self.parts.get().reset();
                        self.state = State::Between;
                        return true;
                    }
                    at = cand + 1;
                }
            }
        }
        // Keep a tail that may be the start of a mark's magic.
        let keep = avail.len().min(SKIPPABLE_MAGIC.len() - 1);
        self.advance(avail.len() - keep);
        false
    }

    /// Where (from `start`) a seek mark that is where it says it is lies within the next
    /// `len` bytes, if one does.
    fn mark_inside(&self, len: usize) -> Option<usize> {
        let avail = &self.pending[self.start..];
        let mut at = 1;
        while let Some(pos) = memchr::memmem::find(&avail[at..len], &SKIPPABLE_MAGIC) {
            let cand = at + pos;
            let mark_len = avail
                .get(cand + 4..cand + 8)
                .map(|l| u32::from_le_bytes(l.try_into().expect("4 bytes")) as usize);
            let mark = mark_len.and_then(|l| avail.get(cand..cand + 8 + l.min(MAX_MARK)));
            let here = self.offset + cand as u64;
            if mark.and_then(parse_mark).is_some_and(|(o, _)| o == here) {
                return Some(cand);
            }
            at = cand + 1;
        }
        None
    }

    /// Records damage at the current offset and starts looking for the next frame.
    fn lose(&mut self, why: String, events: &mut Vec<Event>) -> bool {
        self.note(format!("damaged at byte {}: {why}", self.offset));
        self.take_lines(events);
        self.drop_partial_line("cut line before damage");
        self.state = State::Lost;
        // The first line of a later frame is an event, not the header.
        self.first_line = false;
        // Step past the damaged byte so that the search for a mark moves on.
        self.advance(1);
        true
    }

    fn advance(&mut self, n: usize) {
        self.start += n;
        self.offset += n as u64;
    }

    /// Feeds zstd the next `len` bytes (one whole unit) and takes the text it gives.
    fn decode(&mut self, len: usize, next: State, events: &mut Vec<Event>) -> bool {
        let input = &self.pending[self.start..self.start + len];
        let mut src = InBuffer::around(input);
        let Parts { zstd, out } = self.parts.get();
        let failed = loop {
            let mut dst = OutBuffer::around(&mut out[..]);
            let before = src.pos();
            if let Err(e) = zstd.run(&mut src, &mut dst) {
                break Some(e.to_string());
            }
            let produced = dst.pos();
            self.text.extend_from_slice(&out[..produced]);
            if src.pos() == len && produced < out.len() {
                break None;
            }
            if src.pos() == before && produced == 0 {
                break Some("zstd made no progress".into());
            }
        };
        if let Some(why) = failed {
            self.parts.get().reset();
            return self.lose(why, events);
        }
        self.advance(len);
        self.state = next;
        self.take_lines(events);
        true
    }

    fn drop_partial_line(&mut self, what: &str) {
        if !self.text.is_empty() {
            let n = self.text.len();
            self.text_at += n as u64;
            self.text.clear();
            self.note(format!("{what} ({n} bytes)"));
        }
    }

    /// Parses the complete lines of decoded text.
    fn take_lines(&mut self, events: &mut Vec<Event>) {
        let Some(end) = memchr::memrchr(b'\n', &self.text) else {
            return;
        };
        let text = std::mem::take(&mut self.text);
        let mut at = self.text_at;
        let mut rest = &text[..=end];
        while let Some(n) = memchr::memchr(b'\n', rest) {
            let line = &rest[..n];
            rest = &rest[n + 1..];
            let line_at = at;
            at += line.len() as u64 + 1;
            if !self.first_line && (self.time < self.skip_before || self.stop_after < u64::MAX) {
                match time_only(line, self.time) {
                    Some(t) if t < self.skip_before => {
                        self.time = t;
                        continue;
                    }
                    Some(t) if t > self.stop_after => {
                        self.stopped = true;
                        break;
                    }
                    _ => {}
                }
            }
            let line = String::from_utf8_lossy(line);
            if std::mem::take(&mut self.first_line) {
                match parse_v3_lenient(&line) {
                    Ok((rec, _)) => {
                        self.header = Some(rec.header);
                        continue;
                    }
                    Err(e) => {
                        self.header_noted = true;
                        self.note(format!("no asciicast header: {e}"));
                    }
                }
            }
            match parse_v3_line(&line, self.time) {
                Ok(Some(ev)) => {
                    self.time = ev.time;
                    self.events += 1;
                    events.push(ev);
                    if let Some(l) = &mut self.lines_at {
                        l.push(line_at);
                    }
                }
                Ok(None) => {}
                Err(why) => self.note(format!("bad line skipped: {why}")),
            }
        }
        self.text = text;
        self.text.drain(..=end);
        self.text_at = at;
    }
}

/// A zstd frame header's length and whether the frame ends in a checksum; `None` until
/// its descriptor byte is there.
fn frame_header_len(b: &[u8]) -> Option<Result<(usize, bool), String>> {
    let fhd = *b.get(4)?;
    if fhd & 0x08 != 0 {
        return Some(Err("bad zstd frame header".into()));
    }
    let single = fhd & 0x20 != 0;
    let dict = [0, 1, 2, 4][(fhd & 3) as usize];
    let size = match fhd >> 6 {
        0 => usize::from(single),
        1 => 2,
        2 => 4,
        _ => 8,
    };
    Some(Ok((
        5 + usize::from(!single) + dict + size,
        fhd & 0x04 != 0,
    )))
}
