//! Request bodies arrive at a steady pace or not at all. hyper bounds the time a
//! request's headers take but not its body, so a client sending one byte a second
//! would hold its connection (and a task) for as long as it likes. Here a body is read
//! before the handler runs, within [`BASE`] plus the time its bytes so far take at
//! [`MIN_RATE`]: a client that falls behind gets a 408 and its connection is closed;
//! a large upload at any reasonable speed is never cut. Bodies over their route's
//! limit are refused (413) as soon as that shows.
//!
//! It runs behind the token guard, so only a client that may ask has its body read.

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::time::Instant;
use tokio_stream::StreamExt;

use crate::error::Error;

/// Time any body gets, whatever its size.
pub const BASE: std::time::Duration = std::time::Duration::from_secs(10);
/// The slowest pace a body may keep beyond [`BASE`], in bytes a second (128 kbit/s).
pub const MIN_RATE: u64 = 16 * 1024;

/// The most a request to `path` may send.
fn limit_of(path: &str) -> usize {
    if path.starts_with("/api/upload/") {
        crate::UPLOAD_LIMIT
    } else {
        crate::BODY_LIMIT
    }
}

/// Whether a request says it has a body (a length above 0, or chunks).
fn has_body(req: &Request) -> bool {
    let h = req.headers();
    if h.contains_key(header::TRANSFER_ENCODING) {
        return true;
    }
    h.get(header::CONTENT_LENGTH)
        .is_some_and(|v| v.to_str().map_or(true, |v| v.trim() != "0"))
}

pub async fn read_in_time(req: Request, next: Next) -> Response {
    if !has_body(&req) {
        return next.run(req).await;
    }
    let limit = limit_of(req.uri().path());
    let too_large = || {
        closing(Error::TooLarge(format!(
            "the request body is over {} KiB, the most this route takes",
            limit / 1024
        )))
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return too_large();
    }
    let (parts, body) = req.into_parts();
    let mut stream = body.into_data_stream();
    let start = Instant::now();
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let allowed =
            start + BASE + std::time::Duration::from_millis(buf.len() as u64 * 1000 / MIN_RATE);
        match tokio::time::timeout_at(allowed, stream.next()).await {
            Err(_) => {
                return closing(Error::Timeout(format!(
                    "the request body came too slowly ({} bytes in {:.0} s); send it faster than {} KiB/s",
                    buf.len(),
                    start.elapsed().as_secs_f64(),
                    MIN_RATE / 1024
                )))
            }
            Ok(None) => break,
            Ok(Some(Ok(chunk))) => {
                if buf.len() + chunk.len() > limit {
                    return too_large();
                }
                buf.extend_from_slice(&chunk);
            }
            Ok(Some(Err(e))) => {
                return closing(Error::BadRequest(format!(
                    "cannot read the request body: {e}"
                )))
            }
        }
    }
    next.run(Request::from_parts(parts, Body::from(Bytes::from(buf))))
        .await
}

/// An error after which the connection is closed: the rest of the body is not read.
fn closing(e: Error) -> Response {
    let mut res = e.into_response();
    res.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_may_send_more_than_edits() {
        assert_eq!(limit_of("/api/upload/X/append"), crate::UPLOAD_LIMIT);
        assert_eq!(limit_of("/api/sessions/X"), crate::BODY_LIMIT);
        // A 4 MiB chunk at the slowest pace allowed: about 4 minutes.
        let secs = BASE.as_secs() + 4 * 1024 * 1024 / MIN_RATE;
        assert!((200..300).contains(&secs), "{secs}");
    }
}
