//! The damage suite: recordings truncated, overwritten and given garbage at every flush
//! and frame boundary, mid-block, in the header's frame and in seek marks. Whatever the
//! damage, every event flushed before it is read and nothing panics; the frames after
//! overwritten bytes are read too. `FIXCAST_RELIABILITY=long` runs more sizes and random
//! damage, and prints what was kept next to what `zstd -dc` keeps.

use super::*;
use crate::event::EventKind;
use crate::{frame_marks, CastTail};

/// A recording as written, and what its bytes hold where.
struct Written {
    events: Vec<Event>,
    raw: Vec<u8>,
    /// (file size, events in it) after each flush: what a crash there would keep.
    flushes: Vec<(usize, usize)>,
    marks: Vec<FrameMark>,
    /// Whether the writer finished (else it was "killed" after its last flush).
    finished: bool,
}

impl Written {
    /// Events certainly readable when the bytes from `at` on are damaged.
    fn safe_before(&self, at: usize) -> usize {
        self.flushes
            .iter()
            .filter(|(size, _)| *size <= at)
            .map(|(_, n)| *n)
            .max()
            .unwrap_or(0)
    }

    /// Events before the first frame that starts at or after `at`: those after it are
    /// read again once the damage ends.
    fn frame_after(&self, at: usize) -> Option<usize> {
        let mark = self.marks.iter().find(|m| m.offset as usize >= at)?;
        Some(self.events.iter().filter(|e| e.time <= mark.base).count())
    }

    /// Places worth damaging: every flush and frame boundary, inside every mark, the
    /// header's frame, and the middle of every flushed chunk.
    fn boundaries(&self) -> Vec<usize> {
        let mut at = vec![0, 1, 5, 10, 20];
        let mut prev = 0;
        for &(size, _) in &self.flushes {
            at.extend([size, (prev + size) / 2]);
            prev = size;
        }
        for m in &self.marks[1..] {
            let m = m.offset as usize;
            at.extend([m, m + 3, m + 8, m + 20]);
        }
        at.push(self.raw.len());
        at.retain(|&a| a <= self.raw.len());
        at.sort();
        at.dedup();
        at
    }
}

/// A recording of `n` events (text that compresses like terminal output), flushed every
/// `flush_every`, in frames of `frame_bytes` compressed.
fn record(dir: &Path, n: usize, flush_every: usize, frame_bytes: u64, finish: bool) -> Written {
    let path = dir.join("session.cast.zst");
    let _ = std::fs::remove_file(&path);
    let header = Header {
        cols: 100,
        rows: 30,
        title: Some("damage".into()),
        ..Header::default()
    };
    let mut w = CastWriter::create(&path, &header).unwrap();
    w.frame_limit = (u64::MAX, frame_bytes);
    let mut events = Vec::new();
    let mut flushes = vec![(std::fs::metadata(&path).unwrap().len() as usize, 0)];
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    for i in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let time = events.last().map_or(0, |e: &Event| e.time) + x % 3_000_000;
        let kind = match i % 40 {
            7 => EventKind::Marker(format!("cmd {i}")),
            23 => EventKind::Resize {
                cols: 80 + (x % 40) as u16,
                rows: 24,
            },
            _ => EventKind::Output(format!(
                "{i:06} \u{1b}[3{}m{:x}\u{1b}[0m é中 {}\r\n",
                x % 8,
                x,
                "ok ".repeat((x % 30) as usize)
            )),
        };
        let ev = Event::new(time, kind);
        w.write(&ev).unwrap();
        events.push(ev);
        if i % flush_every == flush_every - 1 {
            w.flush().unwrap();
            flushes.push((w.stored_bytes() as usize, events.len()));
        }
    }
    w.flush().unwrap();
    flushes.push((w.stored_bytes() as usize, events.len()));
    let raw = if finish {
        let size = w.finish().unwrap() as usize;
        flushes.push((size, events.len()));
        std::fs::read(&path).unwrap()
    } else {
        // A recorder killed here leaves what it flushed.
        let raw = std::fs::read(&path).unwrap();
        drop(w);
        raw
    };
    let marks = frame_marks(&raw);
    Written {
        events,
        raw,
        flushes,
        marks,
        finished: finish,
    }
}

/// Ways to damage a file at a byte.
#[derive(Debug, Clone, Copy)]
enum Damage {
    /// Cut off there.
    Cut,
    /// Random bytes in place of the rest of the file: what a crash mid-write leaves.
    Garbage(usize),
    /// Random bytes over some of the file, the rest intact.
    Overwrite(usize),
}

fn garbage(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn damaged(raw: &[u8], at: usize, d: Damage, seed: u64) -> Vec<u8> {
    let mut out = raw[..at].to_vec();
    match d {
        Damage::Cut => {}
        Damage::Garbage(n) => out.extend(garbage(n, seed)),
        Damage::Overwrite(n) => {
            out.extend(garbage(n, seed));
            out.extend_from_slice(raw.get(at + n..).unwrap_or_default());
        }
    }
    out
}

/// Reads a damaged copy every way there is, checks what each kept; the events kept.
fn check(dir: &Path, w: &Written, at: usize, d: Damage, seed: u64) -> usize {
    let bytes = damaged(&w.raw, at, d, seed);
    let path = dir.join("damaged.cast.zst");
    std::fs::write(&path, &bytes).unwrap();
    let what = format!("{d:?} at byte {at} of {}", w.raw.len());
    let got = read_cast(&path).unwrap_or_else(|e| panic!("{what}: {e}"));
    let safe = w.safe_before(at);
    assert!(
        got.events.len() >= safe && got.events[..safe] == w.events[..safe],
        "{what}: {} events read, the first {safe} were flushed before the damage",
        got.events.len()
    );
    if at >= w.marks[1].offset as usize {
        assert_eq!(got.header.cols, 100, "{what}: the header is lost");
    }
    if bytes == w.raw && w.finished {
        assert_eq!(got.damage, Vec::<String>::new(), "{what}");
    }
    // A cut where a frame ends leaves a file that is whole, only shorter; bytes changed
    // inside a block may decode to other text, found only by a finished frame's checksum.
    let at_frame_end = w.marks[1..].iter().any(|m| {
        let m = m.offset as usize;
        let len = u32::from_le_bytes(w.raw[m + 4..m + 8].try_into().unwrap()) as usize;
        at == m || at == m + 8 + len
    });
    let silent = matches!(d, Damage::Overwrite(_)) || matches!(d, Damage::Cut) && at_frame_end;
    if got.events != w.events && !silent {
        assert!(
            !got.damage.is_empty(),
            "{what}: events lost, no damage told"
        );
    }
    let after = match d {
        Damage::Overwrite(n) => w.frame_after(at + n),
        _ => None,
    };
    if let Some(from) = after {
        let tail = &w.events[from..];
        assert!(
            got.events.ends_with(tail),
            "{what}: the {} events of the frames after the damage are lost",
            tail.len()
        );
    }
    // A live reader fed the file in pieces keeps the same events.
    let mut tail = CastTail::open(&path).unwrap();
    let mut live = Vec::new();
    live.extend(tail.read_events().unwrap());
    assert!(
        live.len() >= safe && live[..safe] == w.events[..safe],
        "{what}: the live reader read {} events, the first {safe} were flushed before the damage",
        live.len()
    );
    got.events.len()
}

#[test]
fn damage_at_every_boundary_keeps_every_event_before_it() {
    let dir = tempfile::tempdir().unwrap();
    for (n, flush_every, frame_bytes, finish) in [
        (300, 7, 2 << 10, false),
        (300, 25, 3 << 10, true),
        (40, 3, 1 << 20, false),
    ] {
        let w = record(dir.path(), n, flush_every, frame_bytes, finish);
        assert!(w.marks.len() > 2 || frame_bytes > 4096, "{:?}", w.marks);
        for (i, at) in w.boundaries().into_iter().enumerate() {
            for d in [Damage::Cut, Damage::Garbage(100), Damage::Overwrite(60)] {
                check(dir.path(), &w, at, d, i as u64 + 1);
            }
        }
    }
}

#[test]
fn garbage_after_an_interrupted_recording_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let w = record(dir.path(), 30, 30, 1 << 20, false);
    let kept = check(dir.path(), &w, w.raw.len(), Damage::Garbage(100), 7);
    assert_eq!(kept, w.events.len());
}

#[test]
fn an_empty_file_reads_as_a_recording_with_no_events() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("session.cast.zst");
    std::fs::write(&path, b"").unwrap();
    let got = read_cast(&path).unwrap();
    assert!(got.events.is_empty());
    assert!(!got.damage.is_empty());
    assert!(got.header.cols > 0 && got.header.rows > 0);
    let mut tail = CastTail::open(&path).unwrap();
    assert!(tail.header().unwrap().is_none());
    assert!(tail.read_events().unwrap().is_empty());
}

#[test]
fn a_new_recording_has_its_header_on_disk_before_any_event() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("session.cast.zst");
    let w = CastWriter::create(
        &path,
        &Header {
            cols: 132,
            rows: 43,
            ..Header::default()
        },
    )
    .unwrap();
    // Nothing flushed, nothing finished: a recorder killed at once leaves this.
    let raw = std::fs::read(&path).unwrap();
    drop(w);
    std::fs::write(&path, &raw).unwrap();
    let got = read_cast(&path).unwrap();
    assert_eq!((got.header.cols, got.header.rows), (132, 43));
    assert!(got.events.is_empty());
    let text = zstd::stream::decode_all(&raw[..]).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.ends_with('\n') && text.contains("\"version\":3"),
        "zstd -dc reads the header too: {text}"
    );
}

/// `zstd -dc`'s events of a damaged file (complete lines after the header), if the tool
/// is there.
fn zstd_dc_events(path: &Path) -> Option<usize> {
    let out = std::process::Command::new("zstd")
        .arg("-dcq")
        .arg(path)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let complete = text.rfind('\n').map_or("", |end| &text[..end]);
    Some(
        complete
            .lines()
            .skip(1)
            .filter(|l| crate::asciicast::parse_v3_line(l, 0).is_ok_and(|e| e.is_some()))
            .count(),
    )
}

#[test]
fn long_form_random_damage() {
    if std::env::var("FIXCAST_RELIABILITY").as_deref() != Ok("long") {
        eprintln!("skipped: set FIXCAST_RELIABILITY=long for the long damage suite");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut x = 0x2545_f491_4f6c_dd1d_u64;
    let mut rand = |n: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % n as u64) as usize
    };
    let (mut trials, mut safe, mut kept, mut dc, mut dc_trials, mut dc_kept_ours) =
        (0, 0, 0, 0, 0, 0);
    let (mut boundary_trials, mut fewer_than_dc) = (0, 0);
    for (n, flush_every, frame_bytes) in [
        (200, 5, 2 << 10),
        (2_000, 20, 8 << 10),
        (20_000, 50, 64 << 10),
        (100_000, 200, FRAME_BYTES),
    ] {
        for finish in [false, true] {
            let w = record(dir.path(), n, flush_every, frame_bytes, finish);
            if n <= 2_000 {
                for (i, at) in w.boundaries().into_iter().enumerate() {
                    for d in [Damage::Cut, Damage::Garbage(100), Damage::Overwrite(60)] {
                        check(dir.path(), &w, at, d, i as u64 + 1);
                        boundary_trials += 1;
                    }
                }
            }
            for t in 0..150 {
                let at = rand(w.raw.len() + 1);
                let d = match rand(3) {
                    0 => Damage::Cut,
                    1 => Damage::Garbage(1 + rand(300)),
                    _ => Damage::Overwrite(1 + rand(300)),
                };
                let got = check(dir.path(), &w, at, d, t + 1);
                trials += 1;
                safe += w.safe_before(at);
                kept += got;
                if let Some(z) = zstd_dc_events(&dir.path().join("damaged.cast.zst")) {
                    dc += z;
                    dc_trials += 1;
                    dc_kept_ours += got;
                    if got < z {
                        fewer_than_dc += 1;
                        eprintln!(
                            "  fewer than zstd -dc: {d:?} at byte {at} of {} ({n} events, \
                             finished: {finish}): {got} vs {z}",
                            w.raw.len()
                        );
                    }
                }
            }
        }
    }
    eprintln!(
        "damage suite (long): {boundary_trials} boundary trials, {trials} random trials: \
         {safe} events flushed before the damage, {kept} read ({:.1}%)",
        100.0 * kept as f64 / safe.max(1) as f64
    );
    if dc_trials > 0 {
        eprintln!(
            "  vs zstd -dc over {dc_trials} trials: fixcast read {dc_kept_ours} events, zstd -dc \
             {dc}; trials where fixcast read fewer: {fewer_than_dc}"
        );
    }
}
