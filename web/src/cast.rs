//! The recording as asciicast v3, decompressed while it is sent: the first byte leaves
//! at once, however long the recording, and memory stays small.

use std::fs::File;
use std::io::{BufRead, BufReader};

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use crate::api::load;
use crate::error::Result;
use crate::AppState;

/// Bytes sent per chunk.
const CHUNK: usize = 256 * 1024;

pub async fn cast(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response> {
    let meta = load(&state, id).await?;
    let path = state.store().cast_path(&meta.id);
    let file = File::open(&path).map_err(|e| fixcast_sessions::Error::Io {
        path: path.clone(),
        source: e,
    })?;
    let (tx, rx) = mpsc::channel::<std::io::Result<Bytes>>(4);
    tokio::task::spawn_blocking(move || {
        let mut lines = match zstd::stream::read::Decoder::new(file) {
            Ok(d) => BufReader::with_capacity(CHUNK, d),
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        };
        // Whole lines only: a recording still being written (or cut by a crash) ends
        // mid-frame, and its last partial line would make the whole file unreadable.
        let mut buf = Vec::with_capacity(CHUNK + 4096);
        loop {
            match lines.read_until(b'\n', &mut buf) {
                Ok(0) => break,
                Ok(_) if buf.last() != Some(&b'\n') => break,
                Ok(_) if buf.len() < CHUNK => continue,
                Ok(_) => {
                    let chunk = Bytes::from(std::mem::replace(
                        &mut buf,
                        Vec::with_capacity(CHUNK + 4096),
                    ));
                    if tx.blocking_send(Ok(chunk)).is_err() {
                        return; // the client went away
                    }
                }
                Err(_) => {
                    // Damage: send the complete lines read so far, and stop.
                    if let Some(end) = buf.iter().rposition(|&b| b == b'\n') {
                        buf.truncate(end + 1);
                    } else {
                        buf.clear();
                    }
                    break;
                }
            }
        }
        if let Some(end) = buf.iter().rposition(|&b| b == b'\n') {
            buf.truncate(end + 1);
            let _ = tx.blocking_send(Ok(Bytes::from(buf)));
        }
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
