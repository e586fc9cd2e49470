//! `fixcast import`: asciicast v1/v2/v3 files (plain, zstd or gzip) become sessions.
//!
//! Each file is decompressed, parsed and stored as it streams (v2/v3 a line at a time),
//! so memory stays small whatever the file's size; it is parsed strictly, and the store
//! writes the session in a hidden folder that is renamed into place only once the whole
//! file has been read, so a bad file leaves nothing behind and never stops the other files.
//! What a file may expand to is capped (`--max-size`): a few KB of zstd can hold
//! gigabytes, and everything derived from a session (commands, search, export) reads it
//! whole.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{anyhow, Context};
use fixcast_sessions::asciicast::{CastStream, Header, StreamError};
use fixcast_sessions::{SessionId, SessionMeta, Store};

use super::printable;
use crate::cli::ImportArgs;

pub fn run(store: Store, args: ImportArgs) -> anyhow::Result<ExitCode> {
    store.remove_stale_imports();
    let mut failed = 0;
    let mut new = Vec::new();
    for file in &args.files {
        let shown = file.display().to_string();
        match import_one(&store, file, args.max_size, args.force) {
            Ok(Imported::New(id)) => {
                println!("imported {} as {id}", printable(&shown));
                new.push(id);
            }
            Ok(Imported::Before(id)) => {
                println!("skipped {}: already imported as {id}", printable(&shown));
            }
            Err(e) => {
                eprintln!("fixcast: {}: {e:#}", printable(&shown));
                failed += 1;
            }
        }
    }
    super::compact::spawn_background(store.home(), &new);
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

/// What became of a file.
enum Imported {
    New(SessionId),
    /// The same bytes were imported before, as this session: like `cp -n`, nothing is
    /// done and that is no error.
    Before(SessionId),
}

fn import_one(store: &Store, path: &Path, max: u64, force: bool) -> anyhow::Result<Imported> {
    let digest = digest(path)?;
    if !force {
        if let Some(id) = store
            .find_import(&digest)
            .context("cannot read the store")?
        {
            return Ok(Imported::Before(id));
        }
    }
    let file = File::open(path).map_err(|e| anyhow!("cannot read: {e}"))?;
    let (text, what) = decompressed(BufReader::with_capacity(1 << 16, file), max)?;
    let capped = BufReader::with_capacity(
        1 << 16,
        Capped {
            inner: text,
            left: max,
        },
    );
    let explain = |e: StreamError| stream_error(e, what, max);
    let mut stream = CastStream::open(capped).map_err(explain)?;
    let mut meta = session_meta(stream.header(), path, SessionId::generate());
    meta.import_digest = Some(digest);
    let mut import = store
        .begin_import(meta, stream.header())
        .context("cannot store")?;
    while let Some(ev) = stream.next_event().map_err(explain)? {
        import.write(&ev).context("cannot store")?;
    }
    let meta = import.commit().context("cannot store")?;
    super::index::index_session_quietly(store, &meta);
    Ok(Imported::New(meta.id))
}

/// `sha256:…` of the file's bytes as they are (compressed or not), read once before
/// the import: the same file is the same bytes, whatever its name or folder.
fn digest(path: &Path) -> anyhow::Result<String> {
    use sha2::{Digest, Sha256};
    let mut file = File::open(path).map_err(|e| anyhow!("cannot read: {e}"))?;
    let mut hash = Sha256::new();
    io::copy(&mut file, &mut hash).map_err(|e| anyhow!("cannot read: {e}"))?;
    let hex: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("sha256:{hex}"))
}

/// What the file holds once its compression (told by magic bytes, not the name) is
/// undone, and the name of that compression.
fn decompressed<'a>(
    mut file: BufReader<File>,
    max: u64,
) -> anyhow::Result<(Box<dyn Read + 'a>, &'static str)> {
    const ZSTD: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
    const GZIP: [u8; 2] = [0x1f, 0x8b];
    let head = file.fill_buf().map_err(|e| anyhow!("cannot read: {e}"))?;
    // A zstd stream may open with a skippable frame (magic 0x184D2A5?, little-endian).
    let skippable = head.len() >= 4 && head[0] & 0xf0 == 0x50 && head[1..4] == [0x2a, 0x4d, 0x18];
    if head.starts_with(&ZSTD) {
        // A frame that says how large it is, is refused before a byte is decompressed.
        if let Ok(Some(size)) = zstd::zstd_safe::get_frame_content_size(head) {
            if size > max {
                return Err(too_large(max));
            }
        }
    }
    if head.starts_with(&ZSTD) || skippable {
        let d = zstd::stream::read::Decoder::with_buffer(file)
            .map_err(|e| anyhow!("not a valid zstd file: {e}"))?;
        Ok((Box::new(d), "zstd"))
    } else if head.starts_with(&GZIP) {
        Ok((Box::new(flate2::read::MultiGzDecoder::new(file)), "gzip"))
    } else {
        Ok((Box::new(file), "text"))
    }
}

/// Fails once more than `left` bytes have come out of `inner`.
struct Capped<R> {
    inner: R,
    left: u64,
}

/// The error [`Capped`] fails with.
#[derive(Debug)]
struct TooLarge;

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("too large")
    }
}

impl std::error::Error for TooLarge {}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // One byte past the cap tells a file of exactly the cap from a larger one.
        let want = (buf.len() as u64).min(self.left + 1) as usize;
        let n = self.inner.read(&mut buf[..want])?;
        if n as u64 > self.left {
            return Err(io::Error::other(TooLarge));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

fn too_large(max: u64) -> anyhow::Error {
    anyhow!(
        "larger than {} once decompressed, not imported (`fixcast import --max-size 2G FILE` raises the limit)",
        super::format_size(max)
    )
}

fn stream_error(e: StreamError, what: &str, max: u64) -> anyhow::Error {
    match e {
        StreamError::Io(e) if e.get_ref().is_some_and(|e| e.is::<TooLarge>()) => too_large(max),
        StreamError::Io(e) if what == "text" => anyhow!("cannot read: {e}"),
        StreamError::Io(e) => anyhow!("not a valid {what} file: {e}"),
        StreamError::Format(e) => e.into(),
    }
}

fn session_meta(h: &Header, path: &Path, id: SessionId) -> SessionMeta {
    let mut meta = SessionMeta::new(id, h.cols, h.rows);
    meta.title = h.title.clone().or_else(|| file_stem(path));
    meta.tags = h.tags.clone();
    meta.command = h.command.clone();
    meta.term.term_type = h.term_type.clone();
    meta.idle_time_limit = h.idle_time_limit;
    meta.shell = h.env.get("SHELL").cloned().unwrap_or_default();
    // The header's range is checked: the start is a time RFC 3339 can write.
    if let Some(t) = h
        .timestamp
        .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
    {
        meta.started = t;
    }
    // Absolute, so that `show` says where the file is from anywhere, not from where
    // the import ran.
    let source = std::fs::canonicalize(path).or_else(|_| std::path::absolute(path));
    meta.imported_from = Some(source.as_deref().unwrap_or(path).display().to_string());
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
    fn the_cap_tells_exactly_the_cap_from_more() {
        let read = |len: usize, cap: u64| {
            let mut out = Vec::new();
            Capped {
                inner: &vec![b'x'; len][..],
                left: cap,
            }
            .read_to_end(&mut out)
            .map(|_| out.len())
        };
        assert_eq!(read(100, 100).unwrap(), 100);
        assert!(read(101, 100)
            .unwrap_err()
            .get_ref()
            .unwrap()
            .is::<TooLarge>());
    }
}
