//! A session's commands: from the cache beside the recording, or cut afresh (and cached).

use std::sync::LazyLock;

use fixcast_recorder::cut_commands;
use fixcast_sessions::{CacheKey, CastContents, CommandRecord, SessionMeta, Status, Store};

use super::live_cut::LiveCuts;

/// Sessions being recorded, followed as they grow (see [`LiveCuts`]).
static LIVE: LazyLock<LiveCuts> = LazyLock::new(LiveCuts::default);

/// Whether the caller needs each command's output text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Command lines, times, status, cwd: the cache has these.
    Skip,
    /// The output text too: cut afresh from the recording.
    Keep,
}

/// The commands of a session. The cache beside the recording keeps everything but the
/// output text (which would make it as large as the recording it is derived from); when
/// the output is wanted, or the cache is missing or stale, the recording is cut again.
/// A session being recorded is followed as it grows instead.
/// `contents` may pass a recording already read, to avoid reading it twice.
pub fn session_commands(
    store: &Store,
    meta: &SessionMeta,
    contents: Option<&CastContents>,
    output: Output,
) -> anyhow::Result<Vec<CommandRecord>> {
    let id = &meta.id;
    if contents.is_none() {
        if meta.status == Status::Recording {
            return LIVE.commands(store, meta, output == Output::Keep);
        }
        LIVE.forget(id);
    }
    if output == Output::Skip {
        if let Some(cached) = store.cached_commands(id)? {
            return Ok(cached);
        }
    }
    let key = CacheKey::of(&store.cast_path(id))?;
    let read;
    let contents = match contents {
        Some(c) => c,
        None => {
            // Its error names the session's folder: no "session …" in front again.
            read = store.read(id)?;
            &read
        }
    };
    let commands = cut_commands(
        contents.header.cols,
        contents.header.rows,
        meta.command.as_deref(),
        &contents.events,
    );
    // A recording still growing would make a cache that is stale at once.
    if meta.status != Status::Recording {
        let listing = commands.iter().map(CommandRecord::without_output).collect();
        // Only a cache: reading never needs free space (a full disk, a read-only home),
        // and a cache that could not be written is cut again next time.
        let _ = store.save_commands(id, key, listing);
    }
    Ok(commands)
}

/// `1:02.5`, `0:00.0`: an offset into a recording.
pub fn format_offset(seconds: f64) -> String {
    let s = seconds.max(0.0);
    let m = (s / 60.0).floor();
    format!("{}:{:04.1}", m as u64, s - m * 60.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_read_as_minutes_and_seconds() {
        assert_eq!(format_offset(62.54), "1:02.5");
        assert_eq!(format_offset(0.0), "0:00.0");
        assert_eq!(format_offset(3600.0), "60:00.0");
    }
}
