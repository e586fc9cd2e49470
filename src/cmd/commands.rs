//! A session's commands: from the cache beside the recording, or cut afresh (and cached).

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use fixcast_recorder::cut_commands;
use fixcast_sessions::{
    asciicast::Recording, contain, CacheKey, CommandRecord, Panicked, SessionId, SessionMeta,
    Status, Store,
};

use super::live_cut::LiveCuts;

/// Recordings that could not be cut, as they were then: a server asked for one again
/// answers at once instead of cutting it again.
static UNCUTTABLE: LazyLock<Uncuttable> = LazyLock::new(Uncuttable::default);

#[derive(Default)]
struct Uncuttable {
    known: Mutex<HashMap<SessionId, (CacheKey, String)>>,
}

impl Uncuttable {
    /// Why the recording cannot be cut, if it was tried as it is now.
    fn known(&self, id: &SessionId, key: &CacheKey) -> Option<fixcast_sessions::Error> {
        let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        let (k, reason) = known.get(id)?;
        (k == key).then(|| unreadable(id, "cut", reason.clone()))
    }

    /// Notes that cutting `id` panicked; the error that says so.
    fn remember(
        &self,
        id: &SessionId,
        key: CacheKey,
        what: &'static str,
        panic: &Panicked,
    ) -> fixcast_sessions::Error {
        let reason = panic.to_string();
        self.known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.clone(), (key, reason.clone()));
        unreadable(id, what, reason)
    }
}

/// `session 01J…: cannot be cut: <why>`.
pub fn unreadable(id: &SessionId, what: &'static str, reason: String) -> fixcast_sessions::Error {
    fixcast_sessions::Error::Unreadable {
        id: id.to_string(),
        what,
        reason,
    }
}

/// Whether an error says a session cannot be cut or replayed (it is skipped, not fatal).
pub fn is_unreadable(e: &anyhow::Error) -> bool {
    matches!(
        e.downcast_ref::<fixcast_sessions::Error>(),
        Some(fixcast_sessions::Error::Unreadable { .. })
    )
}

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
/// A session being recorded is cut as it is now (a process that looks again and again,
/// a server, follows it with [`live_commands`] instead).
/// `contents` may pass a recording already read, to avoid reading it twice.
pub fn session_commands(
    store: &Store,
    meta: &SessionMeta,
    contents: Option<&Recording>,
    output: Output,
) -> anyhow::Result<Vec<CommandRecord>> {
    live_commands(store, &LiveCuts::default(), meta, contents, output)
}

/// [`session_commands`], with the sessions being recorded followed as they grow in
/// `live` (see [`LiveCuts`]): a look costs what the recording gained since the last.
pub fn live_commands(
    store: &Store,
    live: &LiveCuts,
    meta: &SessionMeta,
    contents: Option<&Recording>,
    output: Output,
) -> anyhow::Result<Vec<CommandRecord>> {
    let id = &meta.id;
    if contents.is_none() {
        if meta.status == Status::Recording {
            return live.commands(store, meta, output == Output::Keep);
        }
        live.forget(id);
    }
    if output == Output::Skip {
        if let Some(cached) = store.cached_commands(id)? {
            return Ok(cached);
        }
    }
    let key = store.session(id).cast_key()?;
    let read;
    let contents = match contents {
        Some(c) => c,
        None => {
            // Its error names the session's folder: no "session …" in front again.
            read = store.read(id)?;
            // Indexed (or listed) as far as it reads, and said so; an interrupted
            // recording's cut tail is what a crash leaves, not news.
            if meta.status == Status::Complete {
                super::warn_damage(id, &read.damage);
            }
            &read
        }
    };
    if let Some(e) = UNCUTTABLE.known(id, &key) {
        return Err(e.into());
    }
    // The screen emulator may panic on a recording (see `fixcast_sessions::contain`):
    // that session is left out with a message, never the program.
    let cut = contain(|| {
        cut_commands(
            contents.header.cols,
            contents.header.rows,
            meta.command.as_deref(),
            &contents.events,
        )
    });
    let commands = match cut {
        Ok(c) => c,
        Err(panic) => return Err(UNCUTTABLE.remember(id, key, "cut", &panic).into()),
    };
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
