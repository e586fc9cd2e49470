//! Sessions being recorded, cut into commands as they grow. Each is followed by a
//! [`CastTail`] feeding a [`Cutter`], so a look at a live session costs what the recording
//! gained since the last look (and a copy of the commands), not a read and cut of the
//! whole recording: a server whose viewers poll a two-hour live session every second,
//! or whose search catches up with it twice a second, does not slow down as it grows.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::Context;
use fixcast_recorder::Cutter;
use fixcast_sessions::{contain, CastTail, CommandRecord, SessionId, SessionMeta, Store};

use super::commands::unreadable;

/// A followed session nobody looked at for this long is forgotten (its recording may
/// have ended without anyone asking again).
const FORGET_AFTER: Duration = Duration::from_secs(120);

struct Followed {
    tail: CastTail,
    /// Made once the header is read (the size to emulate).
    cutter: Option<Cutter>,
    /// Why the recording cannot be cut (the cutter panicked on it and was dropped):
    /// told again at every look, without reading it again.
    failed: Option<String>,
}

/// A followed session, and when it was last looked at.
type Entry = (Arc<Mutex<Followed>>, Instant);

/// The live sessions followed by this process.
#[derive(Default)]
pub struct LiveCuts {
    followed: Mutex<HashMap<SessionId, Entry>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl LiveCuts {
    /// The commands of a session being recorded, as of now (the running one with its
    /// output so far when `output`).
    pub fn commands(
        &self,
        store: &Store,
        meta: &SessionMeta,
        output: bool,
    ) -> anyhow::Result<Vec<CommandRecord>> {
        let id = &meta.id;
        let entry = {
            let mut followed = lock(&self.followed);
            followed.retain(|_, (_, last)| last.elapsed() < FORGET_AFTER);
            let f = match followed.get(id) {
                Some((f, _)) => f.clone(),
                None => {
                    let tail = store
                        .session(id)
                        .cast_tail()
                        .with_context(|| format!("session {id}"))?;
                    Arc::new(Mutex::new(Followed {
                        tail,
                        cutter: None,
                        failed: None,
                    }))
                }
            };
            followed.insert(id.clone(), (f.clone(), Instant::now()));
            f
        };
        // Another look at the same session waits here, then finds little left to read.
        let mut f = lock(&entry);
        let Followed {
            tail,
            cutter,
            failed,
        } = &mut *f;
        if let Some(reason) = failed {
            return Err(unreadable(id, "cut", reason.clone()).into());
        }
        let events = tail
            .read_events()
            .with_context(|| format!("session {id}"))?;
        let cutter = match cutter {
            Some(c) => c,
            None => {
                let Some(h) = tail.header().with_context(|| format!("session {id}"))? else {
                    // Not even the header is flushed yet: no commands.
                    return Ok(Vec::new());
                };
                cutter.insert(Cutter::new(h.cols, h.rows, meta.command.as_deref()))
            }
        };
        // The screen emulator may panic on a recording: this session is then left out
        // (with a message), never the process that looks at it.
        let cut = contain(|| {
            for ev in &events {
                cutter.event(ev);
            }
            cutter.snapshot(output)
        });
        match cut {
            Ok(commands) => Ok(commands),
            Err(panic) => {
                *failed = Some(panic.to_string());
                f.cutter = None;
                Err(unreadable(id, "cut", panic.to_string()).into())
            }
        }
    }

    /// Stops following a session (it ended: its commands come from the whole recording
    /// from now on).
    pub fn forget(&self, id: &SessionId) {
        lock(&self.followed).remove(id);
    }
}
