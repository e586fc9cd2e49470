//! Recordings streamed by `fixcast rec --server`, through `app(state)` with `oneshot`.

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use fixcast_sessions::{SessionId, SessionMeta};

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

async fn post(app: &Router, uri: &str, body: impl Into<Body>) -> Res {
    let req = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::HOST, "127.0.0.1:7878")
        .body(body.into())
        .unwrap();
    send(app, req).await
}
