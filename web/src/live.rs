//! Live sessions: a session being recorded is followed by tailing its growing
//! `session.cast.zst` (the recorder flushes a complete zstd block at least once a second,
//! so a streaming decoder fed the new bytes yields whole lines), through a `vt100` screen.
//! Viewers get asciinema-player's `eventsource` protocol: a reset message with the
//! current screen (`{cols, rows, init, time}`), then events (`[time, "o", text]`), then a
//! `done` event when the recording ends.
//!
//! One tail thread per watched session feeds a bounded broadcast channel; a viewer that
//! falls behind by more than [`BACKLOG`] messages is resynchronised from a fresh snapshot,
//! so neither a slow viewer nor many of them ever hold anything up (the recorder never
//! even knows they exist, beyond the viewer count the server writes for it).

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use fixcast_sessions::{contain, emulated_size, CastTail, EventKind, SessionId, Status, Store};
use serde_json::json;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;

use crate::access::{blocking, load};
use crate::error::{Error, Result};
use crate::AppState;

/// Messages kept for viewers (shared, not per viewer): one that lags further behind is
/// sent a fresh snapshot instead.
pub const BACKLOG: usize = 512;
/// How often the recording is read for new bytes.
const POLL: Duration = Duration::from_millis(50);
/// How long a tail thread outlives its last viewer (a page reload comes back at once).
const LINGER: Duration = Duration::from_secs(5);
/// The message that says the recording ended.
const DONE: &str = "";

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The live sessions being watched through this server.
#[derive(Default)]
pub(crate) struct Hub {
    sessions: Mutex<HashMap<SessionId, Arc<Live>>>,
}

impl Hub {
    /// How many viewers watch `id` now.
    pub(crate) fn viewers(&self, id: &SessionId) -> usize {
        lock(&self.sessions)
            .get(id)
            .map_or(0, |l| l.tx.receiver_count())
    }

    /// Joins a live session: its screen now and the stream after it. Blocking: the
    /// first viewer of a session reads the recording so far.
    fn join(
        self: &Arc<Self>,
        store: &Store,
        id: &SessionId,
    ) -> Result<(String, broadcast::Receiver<Arc<str>>)> {
        let mut sessions = lock(&self.sessions);
        if let Some(live) = sessions.get(id) {
            return Ok(live.subscribe());
        }
        let mut tail = Tail::open(store.session(id).cast_tail()?)?;
        let (tx, _) = broadcast::channel(BACKLOG);
        let live = Arc::new(Live {
            tx,
            screen: Mutex::new(Screen::new(tail.cols, tail.rows)),
        });
        // `vt100` may panic on a recording: that session is a 422, never the server.
        contain(|| tail.pump(&live)).map_err(|panic| {
            Error::Store(fixcast_sessions::Error::Unreadable {
                id: id.to_string(),
                what: "followed live",
                reason: panic.to_string(),
            })
        })??;
        let joined = live.subscribe();
        sessions.insert(id.clone(), live.clone());
        drop(sessions);
        let (hub, store, id) = (self.clone(), store.clone(), id.clone());
        std::thread::Builder::new()
            .name("fixcast-live".into())
            .spawn(move || hub.follow(&store, &id, tail, &live))
            .map_err(|e| Error::Internal(format!("cannot follow the live session: {e}")))?;
        Ok(joined)
    }

    /// The tail thread: reads what the recorder flushes until the recording ends or
    /// nobody has watched for [`LINGER`]; keeps `<home>/live/<id>.viewers` up to date.
    fn follow(&self, store: &Store, id: &SessionId, mut tail: Tail, live: &Live) {
        let mut told = usize::MAX;
        let mut alone_since: Option<Instant> = None;
        let mut next_check = Instant::now();
        loop {
            std::thread::sleep(POLL);
            // A panic in the screen emulator ends the stream, as a read error does.
            let failed = !matches!(contain(|| tail.pump(live)), Ok(Ok(())));
            let viewers = live.tx.receiver_count();
            if viewers != told {
                store.set_viewers(id, viewers);
                told = viewers;
            }
            let mut ended = failed;
            if !ended && Instant::now() >= next_check {
                next_check = Instant::now() + Duration::from_millis(500);
                // The recorder locks the file as long as it writes: once it is unlocked,
                // read what was written last, then end.
                if !store.is_being_recorded(id) {
                    let _ = contain(|| tail.pump(live));
                    ended = true;
                }
            }
            if ended {
                let mut screen = lock(&live.screen);
                screen.ended = true;
                let _ = live.tx.send(Arc::from(DONE));
                drop(screen);
                lock(&self.sessions).remove(id);
                break;
            }
            if viewers == 0 {
                let since = *alone_since.get_or_insert_with(Instant::now);
                let mut sessions = lock(&self.sessions);
                // Under the hub's lock: nobody can join between the count and the removal.
                if since.elapsed() >= LINGER && live.tx.receiver_count() == 0 {
                    sessions.remove(id);
                    break;
                }
            } else {
                alone_since = None;
            }
        }
        store.set_viewers(id, 0);
    }
}

/// One watched session.
struct Live {
    tx: broadcast::Sender<Arc<str>>,
    /// Locked while a message is sent, so a snapshot and a subscription taken together
    /// miss nothing and repeat nothing.
    screen: Mutex<Screen>,
}

impl Live {
    fn subscribe(&self) -> (String, broadcast::Receiver<Arc<str>>) {
        let screen = lock(&self.screen);
        let rx = self.tx.subscribe();
        (screen.reset(), rx)
    }
}

/// The screen as viewers see it now.
struct Screen {
    parser: vt100::Parser,
    cols: u16,
    rows: u16,
    /// Time of the last event, µs.
    time: u64,
    ended: bool,
}

impl Screen {
    fn new(cols: u16, rows: u16) -> Screen {
        // Viewers are told the recorded size; the screen is kept at the size `vt100` is
        // safe at (a 1-row or 1-column terminal is emulated at 2).
        let (c, r) = emulated_size(cols, rows);
        Screen {
            parser: vt100::Parser::new(r, c, 0),
            cols,
            rows,
            time: 0,
            ended: false,
        }
    }

    /// The player's reset message: the screen now, as escape codes.
    fn reset(&self) -> String {
        // A screen the emulator panicked on is sent blank: the events after it still play.
        let init = contain(|| self.parser.screen().contents_formatted()).unwrap_or_default();
        let init = String::from_utf8_lossy(&init).into_owned();
        json!({ "cols": self.cols, "rows": self.rows, "init": init, "time": secs(self.time) })
            .to_string()
    }
}

fn secs(micros: u64) -> f64 {
    micros as f64 / 1e6
}

/// A growing recording and where viewers' screen stands in it.
struct Tail {
    cast: CastTail,
    cols: u16,
    rows: u16,
}

impl Tail {
    fn open(mut cast: CastTail) -> Result<Tail> {
        let size = |n: u16| if n == 0 { None } else { Some(n.min(1000)) };
        let (cols, rows) = match cast.header()? {
            Some(h) => (size(h.cols).unwrap_or(80), size(h.rows).unwrap_or(24)),
            None => (80, 24),
        };
        Ok(Tail { cast, cols, rows })
    }

    /// Reads new events and sends them to viewers.
    fn pump(&mut self, live: &Live) -> Result<()> {
        let events = self.cast.read_events()?;
        if events.is_empty() {
            return Ok(());
        }
        let mut screen = lock(&live.screen);
        for ev in events {
            screen.time = ev.time;
            let msg = match &ev.kind {
                EventKind::Output(s) => {
                    screen.parser.process(s.as_bytes());
                    json!([secs(ev.time), "o", s])
                }
                EventKind::Resize { cols, rows } => {
                    (screen.cols, screen.rows) = (*cols, *rows);
                    let (c, r) = emulated_size(*cols, *rows);
                    screen.parser.screen_mut().set_size(r, c);
                    json!([secs(ev.time), "r", { "cols": cols, "rows": rows }])
                }
                _ => continue,
            };
            // Nobody listening is not an error: the screen is still kept current.
            let _ = live.tx.send(Arc::from(msg.to_string()));
        }
        Ok(())
    }
}

/// `GET /api/sessions/{id}/live`: the session as it is recorded, in asciinema-player's
/// `eventsource` protocol. A session that is not being recorded gets `done` at once.
pub async fn live(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response> {
    let meta = load(&state, id).await?;
    let (tx, rx) = mpsc::channel::<std::result::Result<SseEvent, Infallible>>(16);
    let done = || SseEvent::default().event("done").data("ended");
    if meta.status != Status::Recording {
        let _ = tx.try_send(Ok(done()));
    } else {
        let hub = state.inner.live.clone();
        let (store, id) = (state.store().clone(), meta.id.clone());
        let (first, sub) = {
            let hub = hub.clone();
            blocking(move || hub.join(&store, &id)).await?
        };
        let id = meta.id;
        tokio::spawn(async move {
            let mut sub = sub;
            if tx.send(Ok(SseEvent::default().data(first))).await.is_err() {
                return;
            }
            loop {
                let msg = tokio::select! {
                    m = sub.recv() => m,
                    _ = tx.closed() => return,
                };
                let (event, last) = match msg {
                    Ok(m) if &*m == DONE => (done(), true),
                    Ok(m) => (SseEvent::default().data(&*m), false),
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        // Too far behind: start again from the screen as it is now.
                        let live = lock(&hub.sessions).get(&id).cloned();
                        match live {
                            Some(live) => {
                                let (reset, again) = live.subscribe();
                                sub = again;
                                (SseEvent::default().data(reset), false)
                            }
                            None => (done(), true),
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => (done(), true),
                };
                if tx.send(Ok(event)).await.is_err() || last {
                    return;
                }
            }
        });
    }
    Ok(Sse::new(ReceiverStream::new(rx))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

#[cfg(test)]
mod tests {
    use fixcast_sessions::asciicast::Header;
    use fixcast_sessions::{Event, SessionMeta};

    use super::*;

    fn output(time: u64, text: String) -> Event {
        Event::new(time, EventKind::Output(text))
    }

    #[test]
    fn a_viewer_that_falls_behind_is_resynchronised_from_a_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let meta = SessionMeta::new(SessionId::generate(), 80, 24);
        let header = Header {
            cols: 80,
            rows: 24,
            ..Header::default()
        };
        let mut w = store.create(&meta, &header).unwrap();
        w.write(&output(1, "hello\r\n".into())).unwrap();
        w.flush().unwrap();
        let hub = Arc::new(Hub::default());
        let (reset, mut rx) = hub.join(&store, &meta.id).unwrap();
        assert!(reset.contains("hello"), "{reset}");
        assert_eq!(hub.viewers(&meta.id), 1);

        // A flood the viewer does not read: the backlog stays bounded, the viewer lags.
        let n = BACKLOG * 3;
        for i in 0..n {
            w.write(&output(10 + i as u64, format!("line {i}\r\n")))
                .unwrap();
        }
        w.flush().unwrap();
        let last = format!("line {}", n - 1);
        let deadline = Instant::now() + Duration::from_secs(10);
        let live = lock(&hub.sessions).get(&meta.id).cloned().unwrap();
        loop {
            let (reset, _) = live.subscribe();
            if reset.contains(&last) {
                break;
            }
            assert!(Instant::now() < deadline, "the tail never caught up");
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(matches!(
            rx.try_recv(),
            Err(broadcast::error::TryRecvError::Lagged(_))
        ));
        assert!(live.tx.len() <= BACKLOG);

        // The end of the recording ends the stream (subscribed first: the tail may see
        // the end at once).
        let (_, mut rx) = live.subscribe();
        w.finish().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match rx.try_recv() {
                Ok(m) if &*m == DONE => break,
                Ok(_) | Err(broadcast::error::TryRecvError::Empty) => {}
                Err(e) => panic!("{e}"),
            }
            assert!(Instant::now() < deadline, "no end");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn a_live_screen_the_emulator_panics_on_is_a_422_not_a_dead_thread() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let hub = Arc::new(Hub::default());
        let live = |cols, rows, events: &[EventKind]| {
            let meta = SessionMeta::new(SessionId::generate(), cols, rows);
            let header = Header {
                cols,
                rows,
                ..Header::default()
            };
            let mut w = store.create(&meta, &header).unwrap();
            for (i, kind) in events.iter().enumerate() {
                w.write(&Event::new(i as u64 + 1, kind.clone())).unwrap();
            }
            w.flush().unwrap();
            (meta.id, w)
        };
        // A 10x1 terminal: emulated at 2 rows, it wraps without panicking.
        let (id, _w1) = live(
            10,
            1,
            &[EventKind::Output("a line longer than ten\r\n".into())],
        );
        let (reset, _rx) = hub.join(&store, &id).unwrap();
        assert!(reset.contains("\"rows\":1"), "{reset}");
        // Narrowed through a wide character: `vt100` panics at any size.
        let (id, _w2) = live(
            5,
            3,
            &[
                EventKind::Output("abc中".into()),
                EventKind::Resize { cols: 4, rows: 3 },
                EventKind::Output("\x1b[1;4Hx".into()),
            ],
        );
        let err = hub.join(&store, &id).unwrap_err();
        assert_eq!(err.status(), axum::http::StatusCode::UNPROCESSABLE_ENTITY);
        assert!(err.to_string().contains("cannot be followed live"), "{err}");
        assert_eq!(hub.viewers(&id), 0);
    }
}
