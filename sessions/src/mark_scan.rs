//! Seek marks, found without decompressing anything: in a whole recording in memory
//! ([`frame_marks`]), or by reading one a piece at a time: a reader that starts at a
//! moment of a long recording (a search's snippet, the player's segments after a
//! compaction) holds a piece of it in memory, not the file, and stops reading at the
//! first mark past that moment.

use std::fs::File;
use std::io::{self, Read};
use std::ops::ControlFlow;
use std::path::Path;

use crate::cast_file::{parse_mark, FrameMark, SKIPPABLE_MAGIC};

/// How much is read at a time.
const PIECE: usize = 64 << 10;
/// A seek mark's frame holds a few dozen bytes: a longer skippable frame is not one.
const MARK_MOST: usize = 1 << 10;

/// The seek marks of the recording `file` reads, in order and with the recording's start
/// first, each handed to `each` until it breaks.
pub(crate) fn scan_marks(
    file: impl Read,
    each: impl FnMut(FrameMark) -> ControlFlow<()>,
) -> io::Result<()> {
    scan_in_pieces(file, PIECE, each)
}

/// Every seek mark of the recording at `path`, read a piece at a time.
pub fn read_frame_marks(path: &Path) -> io::Result<Vec<FrameMark>> {
    all_marks(File::open(path)?, PIECE)
}

/// The frames of a whole recording in memory, found from its seek marks.
pub fn frame_marks(raw: &[u8]) -> Vec<FrameMark> {
    // A slice reads without error.
    all_marks(raw, raw.len().max(1)).unwrap_or_default()
}

fn all_marks(file: impl Read, piece: usize) -> io::Result<Vec<FrameMark>> {
    let mut marks = Vec::new();
    scan_in_pieces(file, piece, |m| {
        marks.push(m);
        ControlFlow::Continue(())
    })?;
    Ok(marks)
}

fn scan_in_pieces(
    mut file: impl Read,
    piece: usize,
    mut each: impl FnMut(FrameMark) -> ControlFlow<()>,
) -> io::Result<()> {
    if each(FrameMark { offset: 0, base: 0 }).is_break() {
        return Ok(());
    }
    let mut buf: Vec<u8> = Vec::new();
    // The file's offset of `buf[0]`, and where in `buf` the search goes on.
    let (mut buf_at, mut from) = (0u64, 0usize);
    let mut ended = false;
    loop {
        let Some(start) = memchr::memmem::find(&buf[from..], &SKIPPABLE_MAGIC).map(|p| from + p)
        else {
            if ended {
                return Ok(());
            }
            // Kept: what may be the start of a magic number the piece's end cut.
            let keep = buf
                .len()
                .saturating_sub(SKIPPABLE_MAGIC.len() - 1)
                .max(from);
            buf.drain(..keep);
            buf_at += keep as u64;
            from = 0;
            ended = fill(&mut file, &mut buf, piece)?;
            continue;
        };
        let len = match buf.get(start + 4..start + 8) {
            Some(len) => u32::from_le_bytes(len.try_into().expect("4 bytes")) as usize,
            // A magic number with no length after it ends the recording's marks.
            None if ended => return Ok(()),
            None => {
                ended = fill(&mut file, &mut buf, piece)?;
                continue;
            }
        };
        if len > MARK_MOST {
            from = start + 1;
            continue;
        }
        if buf.len() < start + 8 + len {
            if ended {
                from = start + 1;
            } else {
                ended = fill(&mut file, &mut buf, piece)?;
            }
            continue;
        }
        from = start + 1;
        // The mark records the offset it was written at: a match elsewhere is a false hit.
        let offset = buf_at + start as u64;
        let mark = parse_mark(&buf[start..start + 8 + len]).filter(|&(o, _)| o == offset);
        if let Some((_, base)) = mark {
            if each(FrameMark { offset, base }).is_break() {
                return Ok(());
            }
            from = start + 8 + len;
        }
    }
}

/// Appends up to `piece` bytes of `file` to `buf`; true at the file's end.
fn fill(file: &mut impl Read, buf: &mut Vec<u8>, piece: usize) -> io::Result<bool> {
    let old = buf.len();
    buf.resize(old + piece, 0);
    let read = loop {
        match file.read(&mut buf[old..]) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => break other,
        }
    };
    buf.truncate(old + *read.as_ref().unwrap_or(&0));
    Ok(read? == 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cast_file::seek_mark;
    use proptest::prelude::*;

    /// Bytes with marks at some places, a false magic number (its offset wrong, its
    /// length cut or huge) at others, noise between.
    fn recording(parts: &[(u8, u16)]) -> Vec<u8> {
        let mut raw = Vec::new();
        for (i, &(kind, noise)) in parts.iter().enumerate() {
            raw.extend((0..noise).map(|k| (k as u8).wrapping_mul(31).wrapping_add(i as u8)));
            let at = raw.len() as u64;
            match kind % 4 {
                0 | 1 => raw.extend(seek_mark(1000 * i as u64, at)),
                2 => raw.extend(seek_mark(7, at + 1)),
                _ => {
                    raw.extend(SKIPPABLE_MAGIC);
                    raw.extend(u32::MAX.to_le_bytes());
                }
            }
        }
        raw
    }

    fn scanned(raw: &[u8], piece: usize) -> Vec<FrameMark> {
        all_marks(raw, piece).unwrap()
    }

    proptest! {
        /// In pieces of any size (a mark cut anywhere between two), what the whole file
        /// gives; and a file cut anywhere too.
        #[test]
        fn pieces_find_what_the_whole_file_has(
            parts in proptest::collection::vec((0u8..4, 0u16..300), 0..12),
            piece in 1usize..200,
            cut in 0usize..4000,
        ) {
            let raw = recording(&parts);
            prop_assert_eq!(scanned(&raw, piece), frame_marks(&raw));
            let cut = &raw[..cut.min(raw.len())];
            prop_assert_eq!(scanned(cut, piece), frame_marks(cut));
        }
    }

    #[test]
    fn the_scan_stops_where_it_is_told_and_reads_no_further() {
        let raw = recording(&[(0, 10), (0, 5000), (0, 5000), (0, 5000)]);
        assert_eq!(frame_marks(&raw).len(), 5);
        let mut reader = io::Cursor::new(&raw);
        let mut seen = Vec::new();
        scan_in_pieces(&mut reader, 1024, |m| {
            seen.push(m.base);
            if m.base >= 1000 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
        assert_eq!(seen, [0, 0, 1000]);
        assert!(
            reader.position() < 7000,
            "read {} of {} bytes",
            reader.position(),
            raw.len()
        );
    }
}
