//! asciicast v1/v2/v3 import: `asciicast::parse` (strict, any version) and
//! `parse_v3_lenient` (fixcast's own files) on any text. What parses must survive being
//! written back as v3 (and v2) and parsed again: the same recording.
#![no_main]

use fixcast_sessions::asciicast::{parse, parse_v3_lenient, write_v2, write_v3};
use libfuzzer_sys::fuzz_target;

/// Times above this lose microseconds in an f64 of seconds: not a round trip to check.
const EXACT_MICROS: u64 = 1 << 50;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = parse_v3_lenient(&text);
    let Ok((_, rec)) = parse(&text) else {
        return;
    };
    let _ = write_v2(&rec);
    if rec.events.last().is_some_and(|e| e.time > EXACT_MICROS) {
        return;
    }
    let v3 = write_v3(&rec);
    let (_, back) = parse(&v3).unwrap_or_else(|e| panic!("written v3 does not parse: {e}\n{v3}"));
    assert_eq!(back, rec, "v3 round trip");
});
