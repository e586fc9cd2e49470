//! The recording reader: `read_cast` (whole file, damage tolerated) and `CastTail` (a file
//! read as it grows), on cut and corrupted `session.cast.zst` files.
//!
//! First byte even: the rest is the file as it is (the seed corpus holds real files that
//! `CastWriter` wrote, whole and cut). Odd: the rest describes events, which are written
//! as the recorder lays them out (frames behind seek marks), then cut and corrupted as the
//! input says; an undamaged file must read back exactly, by both readers.
#![no_main]

use fixcast_fuzz::{cast_file, events, header, scratch, side};
use fixcast_sessions::asciicast::Recording;
use fixcast_sessions::{read_cast, CastTail, Event};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        let grow = usize::from(mode / 2).max(1) * 7;
        read_both(rest, grow);
    } else {
        let _ = structured(rest);
    }
});

fn structured(data: &[u8]) -> Result<()> {
    let mut u = Unstructured::new(data);
    let head = header(side(&mut u)?, side(&mut u)?);
    let evs = events(&mut u, 40)?;
    let mut starts: Vec<usize> = Vec::new();
    for _ in 0..u.int_in_range(0..=3u8)? {
        starts.push(u.int_in_range(0..=evs.len())?);
    }
    starts.sort_unstable();
    let mut file = cast_file(&head, &evs, &starts);
    let cut = u.ratio(1, 2)?;
    if cut {
        let at = u.int_in_range(0..=file.len())?;
        file.truncate(at);
    }
    let flips = u.int_in_range(0..=3u8)?;
    for _ in 0..flips {
        if file.is_empty() {
            break;
        }
        let at = u.int_in_range(0..=file.len() - 1)?;
        file[at] ^= u.int_in_range(1..=255u8)?;
    }
    let grow = u.int_in_range(1..=4096usize)?;
    let (whole, tail) = read_both(&file, grow);
    if !cut && flips == 0 {
        let whole = whole.expect("an undamaged file reads");
        assert!(
            whole.damage.is_empty(),
            "damage in a clean file: {:?}",
            whole.damage
        );
        assert_eq!(whole.header, head);
        assert_eq!(whole.events, evs, "read_cast");
        assert_eq!(tail.expect("an undamaged file tails"), evs, "CastTail");
    }
    Ok(())
}

/// Reads `file` whole, and as a tail that grows `grow` bytes at a time.
fn read_both(file: &[u8], grow: usize) -> (Option<Recording>, Option<Vec<Event>>) {
    let path = scratch("whole.cast.zst");
    std::fs::write(&path, file).expect("scratch file");
    let whole = read_cast(&path).ok();

    let path = scratch("tail.cast.zst");
    std::fs::write(&path, b"").expect("scratch file");
    let mut tail = CastTail::open(&path).expect("scratch file opens");
    let mut got = Vec::new();
    let mut ok = true;
    let mut at = 0;
    while at < file.len() {
        let end = (at + grow).min(file.len());
        append(&path, &file[at..end]);
        at = end;
        match tail.read_events() {
            Ok(evs) => got.extend(evs),
            Err(_) => {
                ok = false;
                break;
            }
        }
    }
    if ok && tail.header().is_err() {
        ok = false;
    }
    (whole, ok.then_some(got))
}

fn append(path: &std::path::Path, bytes: &[u8]) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .expect("scratch file");
    f.write_all(bytes).expect("scratch write");
}
