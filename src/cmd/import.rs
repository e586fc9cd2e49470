//! `fixcast import`: asciicast v1/v2/v3 files (plain, zstd or gzip) become sessions.
//!
//! Each file is parsed strictly and whole before anything is stored, and the store
//! writes a session in a hidden folder that is renamed into place, so a bad file leaves
//! nothing behind and never stops the other files.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{anyhow, Context};
use fixcast_sessions::asciicast::{self, Recording};
use fixcast_sessions::{EventKind, SessionId, SessionMeta, Store};

use super::printable;
use crate::cli::ImportArgs;

pub fn run(store: Store, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let mut failed = 0;
    for file in &args.files {
        let shown = file.display().to_string();
        match import_one(&store, file) {
            Ok(id) => {
                println!("imported {} as {id}", printable(&shown));
            }
            Err(e) => {
                eprintln!("fixcast: {}: {e:#}", printable(&shown));
                failed += 1;
            }
        }
    }
    if failed > 0 && args.files.len() > 1 {
        eprintln!(
            "fixcast: {failed} of {} files not imported",
            args.files.len()
        );
    }
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn import_one(store: &Store, path: &Path) -> anyhow::Result<SessionId> {
    let raw = std::fs::read(path).map_err(|e| anyhow!("cannot read: {e}"))?;
    let bytes = decompress(raw)?;
    let text = to_text(&bytes)?;
    let (_, rec) = asciicast::parse(text)?;
    let meta = session_meta(&rec, path, SessionId::generate());
    let meta = store.import(&rec, meta).context("cannot store")?;
    super::index::index_session_quietly(store, &meta);
    Ok(meta.id)
}

/// The most a compressed file may expand to.
const MAX_DECOMPRESSED: u64 = 4 << 30;

/// What the file holds once its compression (told by magic bytes, not the name) is undone.
fn decompress(raw: Vec<u8>) -> anyhow::Result<Vec<u8>> {
    const ZSTD: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
    const GZIP: [u8; 2] = [0x1f, 0x8b];
    // A zstd stream may open with a skippable frame (magic 0x184D2A5?, little-endian).
    let skippable = raw.len() >= 4 && raw[0] & 0xf0 == 0x50 && raw[1..4] == [0x2a, 0x4d, 0x18];
    let mut out = Vec::new();
    // A small file can expand to anything: stop before it exhausts the memory.
    let mut read_all = |r: &mut dyn Read, what: &str| -> anyhow::Result<()> {
        r.take(MAX_DECOMPRESSED + 1)
            .read_to_end(&mut out)
            .map_err(|e| anyhow!("not a valid {what} file: {e}"))?;
        if out.len() as u64 > MAX_DECOMPRESSED {
            anyhow::bail!("more than {} GiB once decompressed", MAX_DECOMPRESSED >> 30);
        }
        Ok(())
    };
    if raw.starts_with(&ZSTD) || skippable {
        let mut d = zstd::stream::read::Decoder::new(raw.as_slice())
            .map_err(|e| anyhow!("not a valid zstd file: {e}"))?;
        read_all(&mut d, "zstd")?;
    } else if raw.starts_with(&GZIP) {
        read_all(
            &mut flate2::read::MultiGzDecoder::new(raw.as_slice()),
            "gzip",
        )?;
    } else {
        return Ok(raw);
    }
    Ok(out)
}

/// The file as text: asciicast is UTF-8 JSON lines; anything else is refused with the
/// line of the first bad byte.
fn to_text(bytes: &[u8]) -> anyhow::Result<&str> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        anyhow::bail!("line 1: empty file, expected an asciicast header");
    }
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        let line = 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        anyhow!("line {line}: not UTF-8 text (binary data?)")
    })
}

fn session_meta(rec: &Recording, path: &Path, id: SessionId) -> SessionMeta {
    let h = &rec.header;
    let mut meta = SessionMeta::new(id, h.cols, h.rows);
    meta.title = h.title.clone().or_else(|| file_stem(path));
    meta.tags = h.tags.clone();
    meta.command = h.command.clone();
    meta.term.term_type = h.term_type.clone();
    meta.idle_time_limit = h.idle_time_limit;
    meta.shell = h.env.get("SHELL").cloned().unwrap_or_default();
    if let Some(t) = h
        .timestamp
        .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
    {
        meta.started = t;
    }
    meta.imported_from = path.file_name().map(|n| n.to_string_lossy().into_owned());
    meta.exit_status = rec.events.iter().rev().find_map(|e| match e.kind {
        EventKind::Exit(s) => Some(s),
        _ => None,
    });
    meta.bytes.input = rec
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Input(s) => Some(s.len() as u64),
            _ => None,
        })
        .sum();
    meta.record_input = meta.bytes.input > 0;
    meta
}

/// `demo` for `demo.cast.zst`, `demo.cast.gz`, `demo.cast`, `demo.json`.
fn file_stem(path: &Path) -> Option<String> {
    let mut name = path.file_name()?.to_string_lossy().into_owned();
    for ext in [".zst", ".gz", ".cast", ".json"] {
        if let Some(stem) = name.strip_suffix(ext).filter(|s| !s.is_empty()) {
            name = stem.to_owned();
        }
    }
    Some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_drop_cast_and_compression_extensions() {
        assert_eq!(file_stem(Path::new("/x/demo.cast.zst")).unwrap(), "demo");
        assert_eq!(file_stem(Path::new("demo.cast")).unwrap(), "demo");
        assert_eq!(file_stem(Path::new("a.b.txt")).unwrap(), "a.b.txt");
        assert_eq!(file_stem(Path::new(".cast")).unwrap(), ".cast");
    }

    #[test]
    fn bad_utf8_names_its_line() {
        let e = to_text(b"{}\n\n\xff").unwrap_err();
        assert!(e.to_string().starts_with("line 3:"), "{e}");
        assert!(to_text(b" \n").unwrap_err().to_string().contains("empty"));
    }
}
