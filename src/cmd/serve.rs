//! `fixcast serve`: the web knowledge base. The web crate never depends on the recorder;
//! it gets a session's commands, search and re-indexing through [`Knowledge`], which
//! this module implements with the very code the CLI uses (`session_commands`, the
//! index kept in step with the store), so pages and `fixcast search` always agree.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use fixcast_indexer::{Catalog, Hit, Query};
use fixcast_sessions::{CommandRecord, SessionMeta, Store};
use fixcast_web::{Knowledge, KnowledgeError};

use super::commands::{is_unreadable, live_commands, Output};
use super::index::{catalog, StoreSessions};
use crate::cli::ServeArgs;
use crate::config::first_set;

/// Where `serve` listens unless told otherwise: this machine only.
const DEFAULT_BIND: std::net::SocketAddr =
    std::net::SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 7878);

/// How long an opened index is searched before it is caught up with the store again
/// (sessions recorded or imported while the server runs show up within this, and so do
/// the commands of live sessions, which the recorder flushes at least once a second).
const CATCH_UP_EVERY: Duration = Duration::from_millis(500);
/// The same, while the index cannot be written (a full disk, a read-only home): each try
/// may cut sessions again only to fail to write them, so it is tried less often.
const RETRY_STALE_EVERY: Duration = Duration::from_secs(10);

pub fn run(store: Store, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let (config, _) = crate::config::load(&store)?;
    let token = first_set([args.token.as_ref(), config.serve.token.as_ref()]);
    let bind = args.bind.or(config.serve.bind).unwrap_or(DEFAULT_BIND);
    fixcast_web::check_bind(&bind, token.as_deref()).map_err(|e| anyhow::anyhow!("{e}"))?;
    // The `[fixes]` list in force from the start; edits of the file are followed later.
    crate::config::read_only(&store)?;
    let knowledge = Arc::new(CliKnowledge {
        catalog: catalog(&store).refreshing(CATCH_UP_EVERY, RETRY_STALE_EVERY),
    });
    let state = fixcast_web::AppState::new(store, knowledge, token.clone()).bound_to(&bind);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .with_context(|| format!("cannot listen on {bind}"))?;
        let addr = listener.local_addr()?;
        let url = url_of(addr);
        match &token {
            Some(t) => println!(
                "fixcast: serving {url} (token required; open {url}?token={t} once to sign in this browser)"
            ),
            None => println!("fixcast: serving {url} (Ctrl-C to stop)"),
        }
        if args.open {
            open_browser(&url);
        }
        let limits = fixcast_web::Limits {
            per_ip: args.max_connections_per_ip as usize,
            ..fixcast_web::Limits::default()
        };
        fixcast_web::serve_with(listener, fixcast_web::app(state), limits, shutdown_signal())
            .await
            .context("server failed")
    })?;
    Ok(ExitCode::SUCCESS)
}

fn url_of(addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() {
        format!("http://127.0.0.1:{}/", addr.port())
    } else {
        format!("http://{addr}/")
    }
}

fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    if let Err(e) = std::process::Command::new(opener)
        .arg(url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        super::warn(format_args!(
            "cannot open a browser ({opener}: {e}); open {url}"
        ));
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    eprintln!("fixcast: stopping the server");
}

/// Commands and search as the CLI does them; the index is caught up with the store at
/// most every [`CATCH_UP_EVERY`].
struct CliKnowledge {
    catalog: Catalog<StoreSessions>,
}

impl Knowledge for CliKnowledge {
    fn commands(
        &self,
        store: &Store,
        meta: &SessionMeta,
        with_output: bool,
    ) -> Result<Vec<CommandRecord>, KnowledgeError> {
        let output = if with_output {
            Output::Keep
        } else {
            Output::Skip
        };
        // The store's own error, not a message: a session that cannot be cut is the
        // client's 422 (and every other session goes on), not the server's 500.
        let live = self.catalog.sessions().live();
        live_commands(store, live, meta, None, output).map_err(|e| {
            if !is_unreadable(&e) {
                return e.into();
            }
            match e.downcast::<fixcast_sessions::Error>() {
                Ok(unreadable) => KnowledgeError::from(unreadable),
                Err(e) => e.into(),
            }
        })
    }

    fn search(
        &self,
        store: &Store,
        query: &Query,
        limit: usize,
    ) -> Result<Vec<Hit>, KnowledgeError> {
        // The catalog is the server's own store's (the one `state` was made with).
        debug_assert_eq!(store.home(), self.catalog.sessions().store().home());
        Ok(self.catalog.search(query, limit)?.hits)
    }

    fn reindex(&self, store: &Store, meta: &SessionMeta) -> Result<(), KnowledgeError> {
        debug_assert_eq!(store.home(), self.catalog.sessions().store().home());
        self.catalog.index_new(meta);
        Ok(())
    }

    fn read_only(&self, store: &Store) -> fixcast_sessions::ReadOnly {
        // Read when the server started (a bad config file stopped it then), and again
        // when the file changes; a bad edit keeps the list in force (config::read_only).
        crate::config::read_only(store).unwrap_or_default()
    }
}
