//! The command layer's side of the index: the store (and the live cutter, through
//! `session_commands`) handed to `fixcast_indexer::Catalog`, which owns the index's life
//! (state file, pending queue, catch-up, rebuild-and-swap), and the progress line a
//! rebuild draws on stderr.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use fixcast_indexer::{Built, Catalog, Progress, SessionError, Sessions};
use fixcast_sessions::{
    error_chain, Again, CommandRecord, ReadOnly, SessionId, SessionMeta, Store,
};

use super::commands::{is_unreadable, live_commands, Output};
use super::live_cut::LiveCuts;
use super::{warn, warn_once};

/// The sessions of a store, as the catalog sees them.
pub struct StoreSessions {
    store: Store,
    /// Sessions being recorded, followed as they grow, for as long as the catalog lives.
    live: LiveCuts,
}

impl StoreSessions {
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The live sessions this catalog follows (a server cuts them once for both its
    /// pages and its search).
    pub fn live(&self) -> &LiveCuts {
        &self.live
    }
}

/// The catalog of a store's index.
pub fn catalog(store: &Store) -> Catalog<StoreSessions> {
    Catalog::new(
        store.home(),
        StoreSessions {
            store: store.clone(),
            live: LiveCuts::default(),
        },
    )
}

/// Indexes a session that was just recorded, imported or edited. Never fails: a problem
/// is told on stderr, and the session is caught up with later.
pub fn index_session_quietly(store: &Store, meta: &SessionMeta) {
    catalog(store).index_new(meta);
}

impl Sessions for StoreSessions {
    fn ids(&self) -> Result<Vec<SessionId>, SessionError> {
        self.store
            .ids()
            .map_err(|e| SessionError::new(error_chain(&e)))
    }

    fn meta(&self, id: &SessionId) -> Result<SessionMeta, SessionError> {
        self.store
            .load(id)
            .map(|listed| listed.meta)
            .map_err(|e| SessionError::new(error_chain(&e)))
    }

    fn commands(&self, meta: &SessionMeta) -> Result<Vec<CommandRecord>, SessionError> {
        live_commands(&self.store, &self.live, meta, None, Output::Keep).map_err(|e| {
            let unreadable = is_unreadable(&e);
            SessionError {
                // One that cannot be cut names itself; the others carry their causes.
                message: if unreadable {
                    e.to_string()
                } else {
                    format!("{e:#}")
                },
                unreadable,
            }
        })
    }

    fn outputs(
        &self,
        id: &SessionId,
        wanted: &[Again],
    ) -> Result<HashMap<u32, String>, SessionError> {
        super::outputs::outputs_of(&self.store, &self.live, id, wanted)
            .map_err(|e| SessionError::new(format!("{e:#}")))
    }

    fn fingerprint(&self, id: &SessionId) -> String {
        self.store.fingerprint(id)
    }

    fn read_only(&self) -> Result<ReadOnly, SessionError> {
        crate::config::read_only(&self.store).map_err(|e| SessionError::new(format!("{e:#}")))
    }

    fn warn(&self, msg: &str) {
        warn(msg);
    }

    fn warn_once(&self, msg: &str) {
        warn_once(format_args!("{msg}"));
    }

    fn notice(&self, msg: &str) {
        eprintln!("fixcast: {msg}");
    }
}

/// Progress on stderr: one line rewritten in place on a terminal, plain lines (at most
/// one a second) otherwise.
pub struct Bar {
    tty: bool,
    total: usize,
    start: Instant,
    last: Option<Instant>,
}

impl Bar {
    pub fn new() -> Bar {
        Bar {
            tty: std::io::stderr().is_terminal(),
            total: 0,
            start: Instant::now(),
            last: None,
        }
    }

    fn line(&self, b: &Built) -> String {
        format!(
            "indexing: {}/{} sessions, {} commands, {:.1} MB",
            b.sessions,
            self.total,
            b.commands,
            b.bytes as f64 / 1e6
        )
    }
}

impl Progress for Bar {
    fn start(&mut self, sessions: usize) {
        self.total = sessions;
        self.start = Instant::now();
    }

    fn update(&mut self, b: &Built) {
        let every = if self.tty {
            Duration::from_millis(100)
        } else {
            Duration::from_secs(1)
        };
        if self.last.is_some_and(|t| t.elapsed() < every) {
            return;
        }
        self.last = Some(Instant::now());
        let mut err = std::io::stderr().lock();
        let _ = if self.tty {
            write!(err, "\r\x1b[K{}", self.line(b))
        } else {
            writeln!(err, "{}", self.line(b))
        };
    }

    fn warn(&mut self, msg: &str) {
        if self.tty {
            eprint!("\r\x1b[K");
        }
        warn_once(format_args!("{msg}"));
    }

    fn done(&mut self, b: &Built) {
        if self.tty {
            eprint!("\r\x1b[K");
        }
        eprintln!(
            "indexed {} sessions, {} commands, {:.1} MB in {:.1} s",
            b.sessions,
            b.commands,
            b.bytes as f64 / 1e6,
            self.start.elapsed().as_secs_f64()
        );
    }
}
