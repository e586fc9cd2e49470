//! Helpers the fuzz targets (and the seed generator, `examples/seeds.rs`) share: turning
//! fuzz input into events, and events into a `session.cast.zst` laid out as the recorder
//! lays it out (zstd frames, each after the first behind a seek mark), so that the reader
//! targets reach the line parser and the frame logic, not only zstd's header checks.

use std::path::PathBuf;

use fixcast_sessions::asciicast::{Header, V3Encoder};
use fixcast_sessions::{Event, EventKind};
use libfuzzer_sys::arbitrary::{Result, Unstructured};

/// A short string from the input, any text (lossy UTF-8, so every byte sequence counts).
pub fn text(u: &mut Unstructured, max: usize) -> Result<String> {
    let len = u.int_in_range(0..=max)?;
    let bytes = u.bytes(len.min(u.len()))?;
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

/// A screen side: mostly small (1..=40, where the odd cases are), sometimes any `u16`.
pub fn side(u: &mut Unstructured) -> Result<u16> {
    Ok(if u.ratio(1, 8)? {
        u.arbitrary()?
    } else {
        u.int_in_range(1..=40)?
    })
}

/// Events with increasing times, of every kind the recorder writes.
pub fn events(u: &mut Unstructured, max: usize) -> Result<Vec<Event>> {
    let mut time = 0u64;
    let mut out = Vec::new();
    while out.len() < max && !u.is_empty() {
        time += u64::from(u.int_in_range(0..=3_000_000u32)?);
        let kind = match u.int_in_range(0..=9u8)? {
            0..=5 => EventKind::Output(text(u, 200)?),
            6 => EventKind::Input(text(u, 20)?),
            7 => EventKind::Marker(text(u, 40)?),
            8 => EventKind::Resize {
                cols: side(u)?.max(1),
                rows: side(u)?.max(1),
            },
            _ => EventKind::Exit(u.arbitrary()?),
        };
        out.push(Event::new(time, kind));
    }
    Ok(out)
}

/// A header as the recorder writes it.
pub fn header(cols: u16, rows: u16) -> Header {
    Header {
        cols: cols.max(1),
        rows: rows.max(1),
        term_type: Some("xterm-256color".into()),
        timestamp: Some(1_760_000_000),
        ..Header::default()
    }
}

const SKIPPABLE_MAGIC: [u8; 4] = 0x184D_2A5E_u32.to_le_bytes();

/// A `session.cast.zst` holding `events`, a new zstd frame starting before each event
/// whose index is in `frame_starts` (sorted), behind a seek mark as `CastWriter` writes
/// it: a skippable frame `fixcast-seek:{"base":<time before>,"offset":<its offset>}`.
pub fn cast_file(header: &Header, events: &[Event], frame_starts: &[usize]) -> Vec<u8> {
    let mut enc = V3Encoder::new();
    let mut file = Vec::new();
    let mut frame = enc.header(header);
    let mut base = 0u64;
    for (i, ev) in events.iter().enumerate() {
        if frame_starts.contains(&i) {
            file.extend(zstd::bulk::compress(frame.as_bytes(), 1).expect("zstd compresses"));
            let payload = format!("fixcast-seek:{{\"base\":{base},\"offset\":{}}}", file.len());
            file.extend_from_slice(&SKIPPABLE_MAGIC);
            file.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            file.extend_from_slice(payload.as_bytes());
            frame.clear();
        }
        enc.event(ev, &mut frame);
        base = ev.time;
    }
    file.extend(zstd::bulk::compress(frame.as_bytes(), 1).expect("zstd compresses"));
    file
}

/// A file path of this process's own, on tmpfs when there is one: the reader targets go
/// through the path API the store uses.
pub fn scratch(name: &str) -> PathBuf {
    let base = ["/dev/shm", "/tmp"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_dir())
        .unwrap_or_else(std::env::temp_dir);
    let dir = base.join(format!("fixcast-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir.join(name)
}

/// Whether the known crash `name` is to be stepped around: `FIXCAST_FUZZ_KNOWN` lists
/// the names (comma-separated, or `all`). The targets' docs say what each one steps
/// around: `screen-sizes` (vt100 on 1-row/1-column screens, the cutter's unbounded
/// resize: being fixed in `recorder`), `wide-resize` (vt100 after a narrowing resize cut
/// a wide character in two: upstream doy/vt100-rust#37, unfixed in 0.16.2),
/// `tantivy-phrase` (an upstream debug assertion).
pub fn step_over(name: &str) -> bool {
    static KNOWN: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    KNOWN
        .get_or_init(|| {
            std::env::var("FIXCAST_FUZZ_KNOWN")
                .unwrap_or_default()
                .split(',')
                .map(|s| s.trim().to_owned())
                .collect()
        })
        .iter()
        .any(|k| k == name || k == "all")
}

/// The smallest screen side the screen targets use: 2 when stepping over
/// `screen-sizes`, else 0 (0 and 1 as the input gives them).
pub fn min_side() -> u16 {
    if step_over("screen-sizes") {
        2
    } else {
        0
    }
}

/// Whether `s` may hold a double-width character (anything from U+1100, where the
/// East Asian wide ranges start): what `wide-resize` steps around.
pub fn maybe_wide(s: &str) -> bool {
    s.chars().any(|c| c >= '\u{1100}')
}
