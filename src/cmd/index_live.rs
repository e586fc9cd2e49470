//! Sessions being recorded, kept in the index as they grow. A catch-up (twice a second
//! in a server that is searched) would otherwise delete and re-add every command of a
//! live session each time it grew, so that keeping a long session current would cost
//! more and more. This process remembers what it last wrote of each live session, a
//! signature per command, and rewrites only from the first command that changed (the
//! one that was running, and any new ones): completed commands never change.
//!
//! The memory is only a shortcut: when a write may not have reached the index (a failed
//! commit, a rebuild), it is forgotten and the next write of the session is whole. When
//! the session ends, it is written whole once more.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, MutexGuard};

use fixcast_indexer::CommandWriter;
use fixcast_sessions::{CommandRecord, SessionId, SessionMeta, Status};

/// What tells a command's document apart from its last version.
#[derive(Debug, PartialEq)]
struct Sig {
    seq: u32,
    start: u64,
    end: u64,
    exit: Option<i32>,
    command: usize,
    output: usize,
    output_cut: u64,
}

impl Sig {
    fn of(c: &CommandRecord) -> Sig {
        Sig {
            seq: c.seq,
            start: c.start.to_bits(),
            end: c.end.to_bits(),
            exit: c.exit,
            command: c.command.len(),
            output: c.output.len(),
            output_cut: c.output_cut,
        }
    }
}

static WRITTEN: LazyLock<Mutex<HashMap<SessionId, Vec<Sig>>>> = LazyLock::new(Default::default);

fn written() -> MutexGuard<'static, HashMap<SessionId, Vec<Sig>>> {
    WRITTEN.lock().unwrap_or_else(|p| p.into_inner())
}

/// Writes a session's commands into the index, replacing what it had of them: for a
/// session being recorded, only from the first command that changed since this process
/// last wrote it. `fresh`: the index holds nothing of it (a rebuild).
pub fn write(
    writer: &mut CommandWriter,
    meta: &SessionMeta,
    commands: &[CommandRecord],
    fresh: bool,
) -> fixcast_indexer::Result<()> {
    let mut written = written();
    if meta.status != Status::Recording {
        written.remove(&meta.id);
        return if fresh {
            writer.add_session(meta, commands)
        } else {
            writer.index_session(meta, commands)
        };
    }
    let sigs: Vec<Sig> = commands.iter().map(Sig::of).collect();
    let same = match written.get(&meta.id) {
        Some(old) if !fresh => old.iter().zip(&sigs).take_while(|(a, b)| a == b).count(),
        _ => 0,
    };
    // Forgotten until the write is done: an error leaves the next write whole.
    written.remove(&meta.id);
    if fresh {
        writer.add_session(meta, commands)?;
    } else if same == 0 {
        writer.index_session(meta, commands)?;
    } else {
        writer.replace_from(meta, sigs[same - 1].seq + 1, &commands[same..])?;
    }
    written.insert(meta.id.clone(), sigs);
    Ok(())
}

/// Forgets what was written: the next write of each live session is whole.
pub fn forget_all() {
    written().clear();
}

/// Forgets one session (removed from the index).
pub fn forget(id: &str) {
    written().retain(|k, _| k.as_str() != id);
}
