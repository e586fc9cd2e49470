//! Recordings streamed by `fixcast rec --server`, through `app(state)` with `oneshot`.

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use fixcast_sessions::asciicast::Header;
use fixcast_sessions::{CastWriter, Event, EventKind, SessionId, SessionMeta};

use common::*;

#[tokio::test]
async fn uploads_append_at_the_servers_size_and_end_complete() {
    let w = world();
    let app = w.app(None);
    let meta = SessionMeta::new(SessionId::generate(), 80, 24);
    let id = meta.id.clone();
    let json = serde_json::to_vec(&meta).unwrap();
    let start = format!("/api/upload/{id}/start");
    let r = post(&app, &start, json.clone()).await;
    assert_eq!(
        (r.status, r.json()["size"].as_u64()),
        (StatusCode::OK, Some(0))
    );
    // Live while uploaded: this server holds the recording's lock.
    let r = get(&app, &format!("/api/sessions/{id}")).await;
    assert_eq!(r.json()["session"]["live"], true, "{}", r.text());

    let r = post(&app, &format!("/api/upload/{id}/append?offset=5"), "x").await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.json()["size"], 0);
    // Larger than other requests may be, within the upload limit.
    let chunk = vec![7u8; 100 * 1024];
    let r = post(&app, &format!("/api/upload/{id}/append?offset=0"), chunk).await;
    assert_eq!(r.json()["size"], 100 * 1024, "{}", r.text());
    let big = vec![0u8; fixcast_web::UPLOAD_LIMIT + 1];
    let r = post(&app, &format!("/api/upload/{id}/append?offset=102400"), big).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);

    let r = post(
        &app,
        &format!("/api/upload/{id}/finish?offset=0"),
        json.clone(),
    )
    .await;
    r.error(StatusCode::BAD_REQUEST); // still says recording
    let mut done = meta.clone();
    done.status = fixcast_sessions::Status::Complete;
    let done = serde_json::to_vec(&done).unwrap();
    let r = post(
        &app,
        &format!("/api/upload/{id}/finish?offset=1"),
        done.clone(),
    )
    .await;
    assert_eq!(
        (r.status, r.json()["size"].as_u64()),
        (StatusCode::CONFLICT, Some(102400))
    );
    let r = post(
        &app,
        &format!("/api/upload/{id}/finish?offset=102400"),
        done,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(std::fs::read(w.store.cast_path(&id)).unwrap().len(), 102400);
    assert!(
        w.fake.reindexed.lock().unwrap().iter().any(|m| m.id == id),
        "not indexed when complete"
    );

    // A complete session is never appended to, nor restarted.
    let r = post(&app, &format!("/api/upload/{id}/append?offset=102400"), "x").await;
    r.error(StatusCode::CONFLICT);
    post(&app, &start, json).await.error(StatusCode::CONFLICT);
    let r = post(&app, &format!("/api/upload/{}/start", w.id), "{}").await;
    r.error(StatusCode::BAD_REQUEST);
    post(&app, "/api/upload/not-an-id/start", "{}")
        .await
        .error(StatusCode::BAD_REQUEST);
    // A session id in the metadata that is not the one in the path.
    let other = serde_json::to_vec(&SessionMeta::new(SessionId::generate(), 80, 24)).unwrap();
    post(&app, &start.replace(id.as_str(), w.id.as_str()), other)
        .await
        .error(StatusCode::BAD_REQUEST);
}

/// The files of a session, to check that a refused upload changed nothing.
fn files(store: &fixcast_sessions::Store, id: &SessionId) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(store.dir(id))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// A session `fixcast rec` records on the server's own machine: its writer alive
/// (`live`) or dropped as if the recorder was killed.
fn local_session(store: &fixcast_sessions::Store) -> (SessionMeta, CastWriter) {
    let mut meta = SessionMeta::new(SessionId::generate(), 80, 24);
    meta.title = Some("local work".into());
    meta.host = "here".into();
    let header = Header {
        cols: 80,
        rows: 24,
        ..Header::default()
    };
    let mut w = store.create(&meta, &header).unwrap();
    w.write(&Event::new(100_000, EventKind::Output("$ ls\r\n".into())))
        .unwrap();
    w.flush().unwrap();
    (meta, w)
}

#[tokio::test]
async fn uploads_never_write_a_session_recorded_here() {
    let w = world();
    let app = w.app(None);
    for killed in [false, true] {
        let (meta, writer) = local_session(&w.store);
        if killed {
            drop(writer);
        } else {
            std::mem::forget(writer); // still recording (its lock held)
        }
        let id = meta.id.clone();
        let before = files(&w.store, &id);
        let size = std::fs::metadata(w.store.cast_path(&id)).unwrap().len();
        let mut theirs = meta.clone();
        theirs.title = Some("taken over".into());
        theirs.host = "elsewhere".into();
        let start = serde_json::to_vec(&theirs).unwrap();
        theirs.status = fixcast_sessions::Status::Complete;
        let done = serde_json::to_vec(&theirs).unwrap();
        for key in [None, Some(KEY_A)] {
            let r = post_with(&app, &format!("/api/upload/{id}/start"), key, start.clone()).await;
            assert_refused(&r, killed);
            let uri = format!("/api/upload/{id}/append?offset={size}");
            assert_refused(&post_with(&app, &uri, key, "junk").await, killed);
            let uri = format!("/api/upload/{id}/finish?offset={size}");
            assert_refused(&post_with(&app, &uri, key, done.clone()).await, killed);
        }
        assert!(before == files(&w.store, &id), "session {id} changed");
        let listed = get(&app, &format!("/api/sessions/{id}")).await.json();
        assert_eq!(listed["session"]["title"], "local work");
    }
    // An imported (complete) session is no one's upload either.
    let imported = w.store.load(&w.id).unwrap().meta;
    let size = std::fs::metadata(w.store.cast_path(&w.id)).unwrap().len();
    let uri = format!("/api/upload/{}/finish?offset={size}", w.id);
    let r = post_with(
        &app,
        &uri,
        Some(KEY_A),
        serde_json::to_vec(&imported).unwrap(),
    )
    .await;
    assert_refused(&r, false);
}

fn assert_refused(r: &Res, killed: bool) {
    assert!(
        r.status == StatusCode::FORBIDDEN || r.status == StatusCode::CONFLICT,
        "killed: {killed}: {} {}",
        r.status,
        r.text()
    );
    assert!(r.json()["error"].as_str().is_some_and(|m| !m.is_empty()));
}

const KEY_A: &str = "a3f1c0d2e4b5968778695a4b3c2d1e0f";
const KEY_B: &str = "b3f1c0d2e4b5968778695a4b3c2d1e0f";

#[tokio::test]
async fn an_upload_is_written_only_by_the_uploader_that_started_it() {
    let w = world();
    let app = w.app(None);
    let meta = SessionMeta::new(SessionId::generate(), 80, 24);
    let id = meta.id.clone();
    let json = serde_json::to_vec(&meta).unwrap();
    let start = format!("/api/upload/{id}/start");
    let r = post_with(&app, &start, Some(KEY_A), json.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let append = format!("/api/upload/{id}/append?offset=0");
    for key in [None, Some(KEY_B)] {
        let r = post_with(&app, &start, key, json.clone()).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
        let r = post_with(&app, &append, key, "theirs").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    }
    assert_eq!(std::fs::metadata(w.store.cast_path(&id)).unwrap().len(), 0);
    let r = post_with(&app, &append, Some(KEY_A), "mine").await;
    assert_eq!(r.json()["size"], 4, "{}", r.text());
    // A reconnect with the key resumes, after a restart too (a new state on the same
    // home, once the old one let go of the recording's lock).
    drop(app);
    let again = w.app(None);
    let r = post_with(&again, &start, Some(KEY_A), json.clone()).await;
    assert_eq!(r.json()["size"], 4, "{}", r.text());
    // The key is never shown.
    let listed = get(&again, &format!("/api/sessions/{id}")).await.text();
    assert!(!listed.contains(KEY_A), "{listed}");
    let r = get(&again, &format!("/api/sessions/{id}/nope")).await;
    assert!(!r.text().contains(KEY_A));

    // An uploader without a key of its own is given one by the server.
    let meta = SessionMeta::new(SessionId::generate(), 80, 24);
    let json = serde_json::to_vec(&meta).unwrap();
    let r = post_with(
        &again,
        &format!("/api/upload/{}/start", meta.id),
        None,
        json,
    )
    .await;
    let key = r.json()["key"].as_str().expect("a key").to_owned();
    assert!(key.len() >= 32, "{key}");
    let append = format!("/api/upload/{}/append?offset=0", meta.id);
    let r = post_with(&again, &append, Some(&key), "abc").await;
    assert_eq!(r.json()["size"], 3, "{}", r.text());
    let r = post_with(&again, &append, None, "abc").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn upload_ids_are_real_session_ids_from_about_now() {
    let w = world();
    let app = w.app(None);
    for bad in [
        "ZZZZZZZZZZZZZZZZZZZZZZZZZZ",
        // A valid ULID dated in the year 10889.
        "7ZZZZZZZZZZZZZZZZZZZZZZZZZ",
    ] {
        let mut meta =
            serde_json::to_value(SessionMeta::new(SessionId::generate(), 80, 24)).unwrap();
        meta["id"] = bad.into();
        let body = serde_json::to_vec(&meta).unwrap();
        let r = post_with(&app, &format!("/api/upload/{bad}/start"), Some(KEY_A), body).await;
        r.error(StatusCode::BAD_REQUEST);
        assert!(!w.store.home().join("sessions").join(bad).exists(), "{bad}");
    }
    let listed = get(&app, "/api/sessions").await.json();
    assert_eq!(listed["total"], 2, "{listed}");
}

/// A POST by the uploader whose key is [`KEY_A`].
async fn post(app: &Router, uri: &str, body: impl Into<Body>) -> Res {
    post_with(app, uri, Some(KEY_A), body).await
}

/// A POST that presents an uploader's key (`Fixcast-Upload-Key`), or none.
async fn post_with(app: &Router, uri: &str, key: Option<&str>, body: impl Into<Body>) -> Res {
    let mut req = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::HOST, "127.0.0.1:7878");
    if let Some(k) = key {
        req = req.header("fixcast-upload-key", k);
    }
    send(app, req.body(body.into()).unwrap()).await
}
