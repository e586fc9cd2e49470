//! Sessions being recorded, kept in the index as they grow. A catch-up (twice a second
//! in a server that is searched) would otherwise delete and re-add every command of a
//! live session each time it grew, so that keeping a long session current would cost
//! more and more. A catalog remembers what it last wrote of each live session, a
//! signature per command, and rewrites only from the first command that changed (the
//! one that was running, and any new ones): completed commands never change.
//!
//! The memory is only a shortcut: when a write may not have reached the index (a failed
//! commit, a rebuild), it is forgotten and the next write of the session is whole. When
//! the session ends, it is written whole once more.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use fixcast_sessions::{CommandRecord, SessionId, SessionMeta, Status};

use crate::error::Result;
use crate::writer::CommandWriter;

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

/// What was last written of each live session.
#[derive(Default)]
pub(crate) struct Written {
    sigs: Mutex<HashMap<SessionId, Vec<Sig>>>,
}

impl Written {
    fn lock(&self) -> MutexGuard<'_, HashMap<SessionId, Vec<Sig>>> {
        self.sigs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes a session's commands into the index, replacing what it had of them: for a
    /// session being recorded, only from the first command that changed since this
    /// catalog last wrote it. `fresh`: the index holds nothing of it (a rebuild).
    pub(crate) fn write(
        &self,
        writer: &mut CommandWriter,
        meta: &SessionMeta,
        commands: &[CommandRecord],
        fresh: bool,
    ) -> Result<()> {
        let mut written = self.lock();
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
    pub(crate) fn forget_all(&self) {
        self.lock().clear();
    }

    /// Forgets one session (removed from the index).
    pub(crate) fn forget(&self, id: &str) {
        self.lock().retain(|k, _| k.as_str() != id);
    }
}
