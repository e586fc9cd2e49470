//! The one error type of the server: a clear message for the client (JSON under
//! `/api/`, a small page elsewhere) with the right status; the cause goes to the log.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// What can go wrong while answering a request.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is malformed (bad query parameter, bad JSON, a field too long).
    #[error("{0}")]
    BadRequest(String),
    /// A search query that cannot be run (the message tells the parse error; it is not
    /// also a `source()`, so it is told once).
    #[error("query: {0}")]
    Query(fixcast_indexer::QueryError),
    #[error("{0}")]
    NotFound(String),
    /// Valid but refused in the current state (an ambiguous id, editing a live session).
    #[error("{0}")]
    Conflict(String),
    #[error("missing or wrong token: send `Authorization: Bearer <token>` or open the link with ?token= once")]
    Unauthorized,
    /// A request for a host name the server does not answer to (DNS rebinding).
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A request body over its route's limit.
    #[error("{0}")]
    TooLarge(String),
    /// A request body that came too slowly.
    #[error("{0}")]
    Timeout(String),
    #[error(transparent)]
    Store(#[from] fixcast_sessions::Error),
    /// The index or the command cutter failed (what the binary's knowledge source said).
    #[error("{0}")]
    Knowledge(String),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<fixcast_indexer::QueryError> for Error {
    fn from(e: fixcast_indexer::QueryError) -> Self {
        Error::Query(e)
    }
}

/// A refused edit: bad fields and a fix that is not a command are the client's 400, a
/// session still recording a 409 (try again when it ends).
impl From<fixcast_sessions::EditError> for Error {
    fn from(e: fixcast_sessions::EditError) -> Self {
        use fixcast_sessions::EditError as E;
        match e {
            E::Store(e) => Error::Store(e),
            E::Recording(_) => Error::Conflict(e.to_string()),
            e => Error::BadRequest(e.to_string()),
        }
    }
}

impl Error {
    pub fn status(&self) -> StatusCode {
        use fixcast_sessions::Error as S;
        match self {
            Error::BadRequest(_) | Error::Query(_) => StatusCode::BAD_REQUEST,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::Conflict(_) => StatusCode::CONFLICT,
            Error::Unauthorized => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            Error::Store(S::InvalidId(_)) => StatusCode::BAD_REQUEST,
            Error::Store(S::NotFound(_) | S::NoSuchLast { .. }) => StatusCode::NOT_FOUND,
            Error::Store(S::Ambiguous { .. }) => StatusCode::CONFLICT,
            // This session cannot be cut or replayed (the screen emulator panicked on
            // its recording): the request is fine, the session is not; others are.
            Error::Store(S::Unreadable { .. }) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::Store(S::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                StatusCode::NOT_FOUND
            }
            Error::Store(_) | Error::Knowledge(_) | Error::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    /// A blocking task that panicked or was cancelled.
    pub(crate) fn join(e: tokio::task::JoinError) -> Error {
        Error::Internal(format!("background task failed: {e}"))
    }

    /// What the client is told: store errors name paths inside the home, which a remote
    /// viewer has no business knowing.
    fn public_message(&self) -> String {
        match self {
            Error::Store(fixcast_sessions::Error::Io { .. }) if self.status().is_client_error() => {
                "not found".to_owned()
            }
            Error::Store(fixcast_sessions::Error::Io { .. })
            | Error::Store(fixcast_sessions::Error::Meta { .. })
            | Error::Store(fixcast_sessions::Error::Format { .. }) => {
                "cannot read the session from the store (see the server log)".to_owned()
            }
            other => other.to_string(),
        }
    }
}

/// An error as the API answers it: `{"error": "...", "status": 400}`.
#[derive(serde::Serialize)]
struct ErrorBody {
    error: String,
    status: u16,
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            eprintln!("fixcast serve: {}", fixcast_sessions::error_chain(&self));
        }
        let body = ErrorBody {
            error: self.public_message(),
            status: status.as_u16(),
        };
        (status, Json(body)).into_response()
    }
}

/// An [`Error`] answered as a small HTML page (for the pages, not the API).
#[derive(Debug)]
pub struct PageError(pub Error);

impl<E: Into<Error>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        if status.is_server_error() {
            eprintln!("fixcast serve: {}", fixcast_sessions::error_chain(&self.0));
        }
        let title = status.canonical_reason().unwrap_or("error");
        let message = self.0.public_message();
        let body = crate::html::layout(
            title,
            "",
            maud::html! {
                main class="error" {
                    h1 { (title) }
                    p { (crate::html::Text(&message)) }
                    p { a href="/" { "Home" } }
                }
            },
        )
        .into_string();
        (status, axum::response::Html(body)).into_response()
    }
}
