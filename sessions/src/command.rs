//! Commands: the unit of the knowledge base, cut out of a recording. The list is derived
//! data, cached in `commands.json.zst` beside the recording and rebuilt when stale.

use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::confusable::{suspicious_chars, Confusable};
use crate::error::{Error, Result};

/// How a command was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CommandSource {
    /// The shell said so, through fixcast's shell integration (OSC 133/633/7 marks).
    Integration,
    /// Read off the screen when Enter was pressed, in a shell without integration.
    Heuristic,
}

/// One command run in a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandRecord {
    /// 1-based position in the session.
    pub seq: u32,
    /// Seconds from the start of the recording to the start of the command.
    pub start: f64,
    /// Seconds from the start of the recording to its end.
    pub end: f64,
    /// The command line as typed (newlines of multi-line commands kept).
    pub command: String,
    /// Working directory, when known.
    pub cwd: Option<String>,
    /// Exit status; `None` when unknown (heuristic commands, or cut short).
    pub exit: Option<i32>,
    pub source: CommandSource,
    /// What the screen showed, as plain text.
    pub output: String,
    /// Bytes of output left out of `output` (its head and tail are kept).
    #[serde(default)]
    pub output_cut: u64,
    /// `output` is the last screen of a full-screen program (vim, less, top).
    #[serde(default)]
    pub full_screen: bool,
    /// The command line has characters that pass for others (`kubeсtl` with a Cyrillic
    /// `с`), as [`CommandRecord::flag_confusables`] finds them.
    #[serde(default)]
    pub suspicious: bool,
    /// Those characters, each once, in the order they appear.
    #[serde(default)]
    pub confusables: Vec<Confusable>,
    /// The first lines of the output that read as errors (see [`crate::error_lines`]):
    /// kept in the cache, so a failure's symptom is known without its output.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// The terminal's (columns, rows) when the command started, as the cutter emulated
    /// it: rendering its output again from the recording starts from it (the index keeps
    /// no copy of the output). `None` in caches made before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<(u16, u16)>,
}

impl CommandRecord {
    /// A command found at `start`..`end` seconds: no cwd, status or output known yet,
    /// and its look-alike characters not looked for (see
    /// [`CommandRecord::flag_confusables`]).
    pub fn new(seq: u32, start: f64, end: f64, command: String, source: CommandSource) -> Self {
        CommandRecord {
            seq,
            start,
            end,
            command,
            cwd: None,
            exit: None,
            source,
            output: String::new(),
            output_cut: 0,
            full_screen: false,
            suspicious: false,
            confusables: Vec::new(),
            errors: Vec::new(),
            size: None,
        }
    }

    pub fn duration(&self) -> f64 {
        (self.end - self.start).max(0.0)
    }

    /// The record without its output text (a listing, the cache).
    pub fn without_output(&self) -> CommandRecord {
        CommandRecord {
            seq: self.seq,
            start: self.start,
            end: self.end,
            command: self.command.clone(),
            cwd: self.cwd.clone(),
            exit: self.exit,
            source: self.source,
            output: String::new(),
            output_cut: self.output_cut,
            full_screen: self.full_screen,
            suspicious: self.suspicious,
            confusables: self.confusables.clone(),
            errors: self.errors.clone(),
            size: self.size,
        }
    }

    /// Sets `suspicious` and `confusables` from the command line (UTS #39: characters
    /// confusable with ASCII, and confusables in words that mix scripts).
    pub fn flag_confusables(&mut self) {
        self.confusables = suspicious_chars(&self.command);
        self.suspicious = !self.confusables.is_empty();
    }

    /// Sets `errors` from the output.
    pub fn note_errors(&mut self) {
        self.errors = crate::error_lines::error_lines(&self.output);
    }
}

/// Bump when the cutting rules change: older caches are rebuilt.
pub const COMMANDS_VERSION: u32 = 3;

/// What a cache was built from: a cache is fresh only for the same recording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheKey {
    pub version: u32,
    /// Size of `session.cast.zst` when the cache was made.
    pub cast_size: u64,
    /// Its modification time, in nanoseconds since the epoch.
    pub cast_mtime: u128,
}

impl CacheKey {
    /// The key of the recording at `cast` as it is now.
    pub fn of(cast: &Path) -> Result<CacheKey> {
        let m = fs::metadata(cast).map_err(Error::io(cast))?;
        let mtime = m
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        Ok(CacheKey {
            version: COMMANDS_VERSION,
            cast_size: m.len(),
            cast_mtime: mtime,
        })
    }
}

/// The cache file opens with its key in a zstd skippable frame of a fixed length, then a
/// zstd frame of the commands' JSON (`zstd -dc` passes over the key). Compressed with the
/// commands, the key's mtime (19 digits of nanoseconds) made the file a byte or two
/// longer or shorter from one recording of the same commands to the next.
const KEY_FRAME_MAGIC: [u8; 4] = 0x184D_2A5C_u32.to_le_bytes();
/// The key's bytes: version, cast size, cast mtime, little-endian.
const KEY_LEN: usize = 4 + 8 + 16;
const KEY_FRAME_LEN: usize = 8 + KEY_LEN;

fn key_frame(key: &CacheKey) -> [u8; KEY_FRAME_LEN] {
    let mut frame = [0; KEY_FRAME_LEN];
    frame[..4].copy_from_slice(&KEY_FRAME_MAGIC);
    frame[4..8].copy_from_slice(&(KEY_LEN as u32).to_le_bytes());
    frame[8..12].copy_from_slice(&key.version.to_le_bytes());
    frame[12..20].copy_from_slice(&key.cast_size.to_le_bytes());
    frame[20..].copy_from_slice(&key.cast_mtime.to_le_bytes());
    frame
}

#[derive(Serialize, Deserialize)]
struct Cache {
    commands: Vec<CommandRecord>,
}

/// The cached commands at `path`, if the cache exists and was made for `key` (a cache
/// of the format before the key frame is none: it is rebuilt).
pub(crate) fn load_cache(path: &Path, key: &CacheKey) -> Option<Vec<CommandRecord>> {
    let bytes = fs::read(path).ok()?;
    let (head, body) = bytes.split_at_checked(KEY_FRAME_LEN)?;
    if head != key_frame(key) {
        return None;
    }
    let json = zstd::decode_all(body).ok()?;
    let cache: Cache = serde_json::from_slice(&json).ok()?;
    Some(cache.commands)
}

pub(crate) fn save_cache(path: &Path, key: CacheKey, commands: Vec<CommandRecord>) -> Result<()> {
    let json = serde_json::to_vec(&Cache { commands }).expect("commands serialise");
    let mut packed = key_frame(&key).to_vec();
    zstd::stream::copy_encode(&json[..], &mut packed, 3).map_err(Error::io(path))?;
    crate::atomic::write_atomic(path, &packed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(cast_size: u64, cast_mtime: u128) -> CacheKey {
        CacheKey {
            version: COMMANDS_VERSION,
            cast_size,
            cast_mtime,
        }
    }

    fn commands() -> Vec<CommandRecord> {
        (1..=3)
            .map(|seq| {
                let line = format!("echo step {seq}");
                CommandRecord::new(
                    seq,
                    seq as f64,
                    seq as f64 + 0.5,
                    line,
                    CommandSource::Heuristic,
                )
            })
            .collect()
    }

    /// The key's mtime was compressed with the commands: the same commands of the same
    /// recording, made at another moment, made a cache a byte or two longer or shorter,
    /// so a session's folder changed size from run to run.
    #[test]
    fn the_cache_is_as_long_whatever_the_recording_s_mtime() {
        let dir = tempfile::tempdir().unwrap();
        let len = |mtime: u128| {
            let path = dir.path().join(format!("{mtime}.zst"));
            save_cache(&path, key(376, mtime), commands()).unwrap();
            fs::metadata(&path).unwrap().len()
        };
        let lens: Vec<u64> = [
            1_000_000_000_000_000_000,
            1_796_154_257_234_112_710,
            1_111_111_111_111_111_111,
            0,
            u128::MAX,
        ]
        .into_iter()
        .map(len)
        .collect();
        assert!(lens.windows(2).all(|w| w[0] == w[1]), "{lens:?}");
    }

    /// A cache is for one recording: a change of its size or mtime (or of the cutting
    /// rules) makes it stale, and what is not a cache is none.
    #[test]
    fn a_cache_holds_only_for_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("commands.json.zst");
        let k = key(376, 1_796_154_257_234_112_710);
        save_cache(&path, k.clone(), commands()).unwrap();
        assert_eq!(load_cache(&path, &k), Some(commands()));
        for stale in [
            key(377, k.cast_mtime),
            key(376, k.cast_mtime + 1),
            CacheKey {
                version: COMMANDS_VERSION + 1,
                ..k.clone()
            },
        ] {
            assert_eq!(load_cache(&path, &stale), None, "{stale:?}");
        }
        for junk in [&b""[..], b"not zstd", &[0x50, 0x2a, 0x4d, 0x18, 0xff]] {
            fs::write(&path, junk).unwrap();
            assert_eq!(load_cache(&path, &k), None);
        }
        assert_eq!(load_cache(&dir.path().join("missing"), &k), None);
    }
}
