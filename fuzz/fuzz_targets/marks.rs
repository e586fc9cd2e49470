//! The marks scanner (OSC 133 / 633 / 7): any byte stream, split at any points, gives
//! the same marks as the stream in one piece, and every call makes progress.
#![no_main]

use fixcast_recorder::{Mark, MarkScanner};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte seeds the split points (0: no splits beyond the whole).
    let Some((&seed, stream)) = data.split_first() else {
        return;
    };
    let whole = scan(&[stream]);
    let mut pieces = Vec::new();
    let mut at = 0;
    let mut x = u32::from(seed) | 1;
    while at < stream.len() {
        // xorshift: cheap, deterministic split lengths from 1 to 16
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let len = if seed == 0 {
            stream.len()
        } else {
            1 + (x % 16) as usize
        };
        let end = (at + len).min(stream.len());
        pieces.push(&stream[at..end]);
        at = end;
    }
    assert_eq!(
        scan(&pieces),
        whole,
        "marks differ when the stream is split"
    );
});

fn scan(pieces: &[&[u8]]) -> Vec<Mark> {
    let mut s = MarkScanner::default();
    let mut marks = Vec::new();
    for piece in pieces {
        let mut rest = *piece;
        while !rest.is_empty() {
            let (n, mark) = s.next(rest);
            assert!(
                n > 0 && n <= rest.len(),
                "next() consumed {n} of {}",
                rest.len()
            );
            assert!(
                mark.is_some() || n == rest.len(),
                "stopped early with no mark"
            );
            marks.extend(mark);
            rest = &rest[n..];
        }
    }
    marks
}
