//! A session's commands: from the cache beside the recording, or cut afresh (and cached).

use anyhow::Context;
use fixcast_recorder::cut_commands;
use fixcast_sessions::{CacheKey, CastContents, CommandRecord, SessionMeta, Status, Store};

/// The commands of a session, cutting them if the cache is missing or stale. `contents`
/// may pass a recording already read, to avoid reading it twice.
pub fn session_commands(
    store: &Store,
    meta: &SessionMeta,
    contents: Option<&CastContents>,
) -> anyhow::Result<Vec<CommandRecord>> {
    let id = &meta.id;
    if let Some(cached) = store.cached_commands(id)? {
        return Ok(cached);
    }
    let key = CacheKey::of(&store.cast_path(id))?;
    let read;
    let contents = match contents {
        Some(c) => c,
        None => {
            read = store.read(id).with_context(|| format!("session {id}"))?;
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
        store.save_commands(id, key, commands.clone())?;
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
