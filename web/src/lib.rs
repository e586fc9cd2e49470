//! fixcast-web owns `fixcast serve`: the axum [`Router`] with the JSON API under `/api/`,
//! the pages (home, search results, session), the embedded asciinema-player, and the
//! player's *segmented* form of a recording (an index plus segments that each start from
//! a `vt100` screen snapshot, cached beside the session), so a seek anywhere in a long
//! recording downloads one small segment.
//!
//! It must not depend on `fixcast-recorder` or build a runtime: the binary hands it a
//! [`Knowledge`] (commands of a session, search, re-indexing) and runs [`serve`].
//!
//! ```no_run
//! # async fn demo(store: fixcast_sessions::Store, knowledge: std::sync::Arc<dyn fixcast_web::Knowledge>) -> std::io::Result<()> {
//! let state = fixcast_web::AppState::new(store, knowledge, None);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! fixcast_web::serve(listener, fixcast_web::app(state), std::future::pending()).await
//! # }
//! ```
#![forbid(unsafe_code)]

mod access;
mod api;
mod assets;
mod auth;
mod body;
mod cast;
mod error;
mod headers;
mod html;
mod knowledge;
mod listing;
mod live;
mod owner;
mod pages;
mod query;
mod results;
mod search;
mod segments;
mod server;
mod upload;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::Router;
use fixcast_sessions::Store;

pub use assets::{player_inline, PLAYER_CSS, PLAYER_JS};
pub use error::{Error, Result};
pub use html::esc;
pub use knowledge::{Knowledge, KnowledgeError};
pub use live::BACKLOG as LIVE_BACKLOG;
pub use segments::{segments_of, DISK_FROM as SEGMENTS_ON_DISK_FROM, SEGMENT_BYTES};
pub use server::Limits;
pub use upload::UPLOAD_LIMIT;

/// Largest request body accepted (an edit of title, tags and notes).
pub const BODY_LIMIT: usize = 64 * 1024;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    knowledge: Arc<dyn Knowledge>,
    token: Option<String>,
    /// Set when the server listens beyond loopback: then any host name is answered (the
    /// token guards it); on loopback only loopback names are, token or not.
    any_host: AtomicBool,
    segments: segments::Cache,
    live: Arc<live::Hub>,
    /// Recordings streamed here by `fixcast rec --server`.
    uploads: Arc<upload::Uploads>,
}

impl AppState {
    /// State over a store; with `token`, every request must carry it.
    pub fn new(store: Store, knowledge: Arc<dyn Knowledge>, token: Option<String>) -> Self {
        AppState {
            inner: Arc::new(Inner {
                store,
                knowledge,
                token: token.filter(|t| !t.is_empty()),
                any_host: AtomicBool::new(false),
                segments: segments::Cache::default(),
                live: Arc::default(),
                uploads: upload::new(),
            }),
        }
    }

    /// Tells where the server listens. A state is for a loopback bind until told
    /// otherwise: it answers only to loopback host names, so that a web page elsewhere
    /// cannot reach it through DNS rebinding.
    pub fn bound_to(self, addr: &SocketAddr) -> Self {
        self.inner
            .any_host
            .store(!addr.ip().is_loopback(), Ordering::Relaxed);
        self
    }

    /// Caches the player's segments on disk for recordings of at least `output_bytes`
    /// of output (default [`SEGMENTS_ON_DISK_FROM`]); shorter ones' are held in memory.
    pub fn segments_on_disk_from(self, output_bytes: u64) -> Self {
        self.inner
            .segments
            .disk_from
            .store(output_bytes, Ordering::Relaxed);
        self
    }

    /// Whether requests must name a loopback host.
    pub(crate) fn loopback_hosts_only(&self) -> bool {
        !self.inner.any_host.load(Ordering::Relaxed)
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    pub(crate) fn knowledge(&self) -> &Arc<dyn Knowledge> {
        &self.inner.knowledge
    }

    /// Viewers watching a live session through this server now.
    pub(crate) fn viewers(&self, id: &fixcast_sessions::SessionId) -> usize {
        self.inner.live.viewers(id)
    }

    pub(crate) fn token(&self) -> Option<&str> {
        self.inner.token.as_deref()
    }
}

/// The whole application: pages, assets and the API, behind the token guard.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/", get(pages::home))
        .route("/search", get(results::results))
        .route("/s/{id}", get(pages::session))
        .route("/assets/{name}", get(assets::asset))
        .route(
            "/favicon.ico",
            get(|| async { axum::http::StatusCode::NO_CONTENT }),
        )
        .nest("/api", api::routes())
        .fallback(pages::not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(body::read_in_time))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::guard,
        ))
        .layer(axum::middleware::map_response(headers::secure))
        .with_state(state)
}

/// Refuses to serve beyond this machine without a token.
pub fn check_bind(addr: &SocketAddr, token: Option<&str>) -> Result<()> {
    if addr.ip().is_loopback() || token.is_some_and(|t| !t.is_empty()) {
        Ok(())
    } else {
        Err(Error::Forbidden(format!(
            "binding {addr} serves other machines; give a token with --token or FIXCAST_TOKEN (viewers then open http://HOST:PORT/?token=...)"
        )))
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then finishes the requests in
/// flight, with the default [`Limits`].
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, app, Limits::default(), shutdown).await
}

/// [`serve`] with other [`Limits`] on time and connections.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    server::run(listener, app, limits, shutdown).await
}
