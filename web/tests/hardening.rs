//! What protects the server and its viewers, through `app(state)` with `oneshot`: the
//! token link redirects only within the site, host names are checked on loopback even
//! with a token, every answer carries the security headers, and an edit is an object.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};

use common::*;

const TOKEN: &str = "s3cret-token";

#[tokio::test]
async fn the_token_link_redirects_only_to_a_local_path() {
    let w = world();
    let a = w.app(Some(TOKEN));
    for (uri, to) in [
        ("//evil.example/x?token=s3cret-token", "/evil.example/x"),
        (
            "///evil.example/x?a=1&token=s3cret-token",
            "/evil.example/x?a=1",
        ),
        (
            "/%2F%2Fevil.example?token=s3cret-token",
            "/%2F%2Fevil.example",
        ),
        ("/search?q=x&token=s3cret-token", "/search?q=x"),
    ] {
        let r = get(&a, uri).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{uri}");
        let loc = r.headers[header::LOCATION].to_str().unwrap();
        assert_eq!(loc, to, "{uri}");
        assert!(
            loc.starts_with('/') && !loc.starts_with("//") && !loc.starts_with("/\\"),
            "{uri} -> {loc}"
        );
    }
}

fn with_host(host: &str, token: Option<&str>) -> Request<Body> {
    let mut r = Request::get("/api/sessions").header(header::HOST, host);
    if let Some(t) = token {
        r = r.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    r.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn on_loopback_only_loopback_names_are_answered_even_with_a_token() {
    let w = world();
    // A state is for a loopback bind unless told otherwise.
    let a = w.app(Some(TOKEN));
    let r = send(&a, with_host("evil.example:7878", Some(TOKEN))).await;
    r.error(StatusCode::FORBIDDEN);
    let r = send(&a, with_host("localhost:7878", Some(TOKEN))).await;
    assert_eq!(r.status, StatusCode::OK);
    // A rebinding page has no token: refused for its host name first.
    let r = send(&a, with_host("evil.example", None)).await;
    r.error(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let w = world();
    let open = w.app(None);
    let guarded = w.app(Some(TOKEN));
    let id = w.id.to_string();
    let cases = [
        (&open, "/nope", StatusCode::NOT_FOUND),
        (&open, "/api/nope", StatusCode::NOT_FOUND),
        (&open, "/api/sessions", StatusCode::OK),
        (&open, "/s/not-an-id", StatusCode::BAD_REQUEST),
        (&open, "/favicon.ico", StatusCode::NO_CONTENT),
        (&guarded, "/api/sessions", StatusCode::UNAUTHORIZED),
        (&guarded, "/", StatusCode::UNAUTHORIZED),
    ];
    for (app, uri, status) in cases {
        let r = get(app, uri).await;
        assert_eq!(r.status, status, "{uri}");
        check_headers(uri, &r);
    }
    let r = get(&open, &format!("/api/sessions/{id}/cast")).await;
    check_headers("cast", &r);
    let r = send(&open, with_host("evil.example", None)).await;
    check_headers("evil host", &r);
    // Pages keep their own policy, which lets the player's script run.
    let r = get(&open, &format!("/s/{id}")).await;
    let csp = r.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
}

fn check_headers(what: &str, r: &Res) {
    assert_eq!(
        r.headers
            .get(header::X_CONTENT_TYPE_OPTIONS)
            .map(|v| v.to_str().unwrap()),
        Some("nosniff"),
        "{what}: {:?}",
        r.headers
    );
    let csp = r
        .headers
        .get(header::CONTENT_SECURITY_POLICY)
        .unwrap_or_else(|| panic!("{what}: no CSP: {:?}", r.headers))
        .to_str()
        .unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(
        r.headers.contains_key(header::REFERRER_POLICY),
        "{what}: {:?}",
        r.headers
    );
}

#[tokio::test]
async fn an_edit_is_an_object_of_known_fields() {
    let w = world();
    let a = w.app(None);
    let uri = format!("/api/sessions/{}", w.id);
    let before = std::fs::read(w.store.dir(&w.id).join("meta.json")).unwrap();
    for body in [
        "[]",
        r#"["a title"]"#,
        "null",
        "42",
        r#""title""#,
        "[null, [], null]",
    ] {
        let msg = patch(&a, &uri, "application/json", body)
            .await
            .error(StatusCode::BAD_REQUEST);
        assert!(msg.contains("object"), "{body}: {msg}");
    }
    assert!(before == std::fs::read(w.store.dir(&w.id).join("meta.json")).unwrap());
}
