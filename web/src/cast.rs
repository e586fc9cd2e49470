//! The recording as asciicast v3, decoded while it is sent: the first byte leaves at
//! once, however long the recording, and memory stays small.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use fixcast_sessions::asciicast::V3Encoder;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use crate::access::load;
use crate::error::Result;
use crate::AppState;

/// Bytes sent per chunk.
const CHUNK: usize = 256 * 1024;

pub async fn cast(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response> {
    let meta = load(&state, id).await?;
    let mut reader = state.store().session(&meta.id).cast_reader()?;
    let (tx, rx) = mpsc::channel::<std::io::Result<Bytes>>(4);
    let fallback = meta.header();
    tokio::task::spawn_blocking(move || {
        // The store's reader: whole events only (a recording still being written, or cut
        // by a crash, ends mid-frame), and as far as it goes past any damage.
        let mut enc = V3Encoder::new();
        let mut buf = match reader.header() {
            Ok(h) => enc.header(h.unwrap_or(&fallback)),
            Err(e) => {
                let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
                return;
            }
        };
        // An error past the header (the file vanished) ends the cast where it is.
        while let Ok(Some(ev)) = reader.next_event() {
            enc.event(&ev, &mut buf);
            if buf.len() >= CHUNK {
                let chunk = Bytes::from(std::mem::replace(
                    &mut buf,
                    String::with_capacity(CHUNK + 4096),
                ));
                if tx.blocking_send(Ok(chunk)).is_err() {
                    return; // the client went away
                }
            }
        }
        let _ = tx.blocking_send(Ok(Bytes::from(buf)));
    });
    let name = format!("inline; filename=\"{}.cast\"", meta.id);
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/x-asciicast; charset=utf-8".to_owned(),
            ),
            (header::CONTENT_DISPOSITION, name),
            (header::CACHE_CONTROL, "no-cache".to_owned()),
        ],
        Body::from_stream(ReceiverStream::new(rx)),
    )
        .into_response())
}
