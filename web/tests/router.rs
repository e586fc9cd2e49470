//! Every route through `app(state)` with `oneshot`: status codes, error shape, tokens,
//! escaping. The commands and search come from a fake [`Knowledge`] over an in-RAM index
//! (the real one, in the binary, is tested end to end in the root crate).

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::Value;

use common::*;

#[tokio::test]
async fn sessions_list_filters_and_paginates() {
    let w = world();
    let a = w.app(None);
    let r = get(&a, "/api/sessions").await;
    assert_eq!(r.status, StatusCode::OK);
    let j = r.json();
    assert_eq!(j["total"], 2);
    assert_eq!(j["sessions"][0]["id"], w.long.as_str(), "newest first");
    assert_eq!(get(&a, "/api/sessions?q=resolv").await.json()["total"], 1);
    assert_eq!(
        get(&a, "/api/sessions?tag=dns&limit=1").await.json()["sessions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        get(&a, "/api/sessions?offset=5").await.json()["sessions"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        get(&a, "/api/sessions?status=live").await.json()["total"],
        0
    );
    assert!(get(&a, "/api/sessions?status=bogus")
        .await
        .error(StatusCode::BAD_REQUEST)
        .contains("status"));
    assert!(get(&a, "/api/sessions?limit=-1")
        .await
        .error(StatusCode::BAD_REQUEST)
        .contains("limit"));
}

#[tokio::test]
async fn one_session_by_id_or_prefix_and_bad_ids() {
    let w = world();
    let a = w.app(None);
    let r = get(&a, &format!("/api/sessions/{}", w.id)).await;
    assert_eq!(r.status, StatusCode::OK);
    let j = r.json();
    assert_eq!(j["session"]["id"], w.id.as_str());
    assert_eq!(j["commands"][1]["command"], "chattr -i /etc/resolv.conf");
    assert!(
        j["commands"][1].get("output").is_none(),
        "listing leaves output out"
    );
    let r = get(
        &a,
        &format!("/api/sessions/{}", &w.id.as_str()[..20].to_lowercase()),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "a unique prefix, any case");
    get(&a, "/api/sessions/..%2F..%2Fetc%2Fpasswd")
        .await
        .error(StatusCode::BAD_REQUEST);
    get(&a, "/api/sessions/%00")
        .await
        .error(StatusCode::BAD_REQUEST);
    get(&a, "/api/sessions/7ZZZZZZZZZZZZZZZZZZZZZZZZZ")
        .await
        .error(StatusCode::NOT_FOUND);
    get(&a, "/api/sessions/0").await.error(StatusCode::CONFLICT);
}

#[tokio::test]
async fn commands_and_one_command_with_output() {
    let w = world();
    let a = w.app(None);
    let r = get(&a, &format!("/api/sessions/{}/commands", w.id)).await;
    assert_eq!(r.json().as_array().unwrap().len(), 2);
    let c = get(&a, &format!("/api/sessions/{}/commands/2", w.id))
        .await
        .json();
    assert_eq!(c["output"], format!("unlocked {XSS}\n"));
    assert_eq!(c["exit"], 0);
    get(&a, &format!("/api/sessions/{}/commands/9", w.id))
        .await
        .error(StatusCode::NOT_FOUND);
    get(&a, &format!("/api/sessions/{}/commands/x", w.id))
        .await
        .error(StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn look_alike_commands_are_pointed_out() {
    let w = world();
    let a = w.app(None);
    let cmds = get(&a, &format!("/api/sessions/{}/commands", w.long))
        .await
        .json();
    assert_eq!(cmds[0]["suspicious"], false);
    assert_eq!(cmds[1]["suspicious"], true);
    assert_eq!(cmds[1]["confusables"][0]["code_point"], "U+0441");
    let page = get(&a, &format!("/s/{}", w.long)).await.text();
    assert!(page.contains("look-alike characters: U+0441"), "{page}");
}

#[tokio::test]
async fn search_uses_the_query_language_and_highlights() {
    let w = world();
    let a = w.app(None);
    let j = get(&a, "/api/search?q=chattr").await.json();
    let hit = &j["hits"][0];
    assert_eq!(hit["command"], "chattr -i /etc/resolv.conf");
    assert_eq!(hit["url"], format!("/s/{}?t=1.95&hit=2", w.id));
    assert!(hit["snippet"]["highlights"].is_array());
    assert_eq!(
        get(&a, "/api/search?q=cmd:lsattr%20exit:0").await.json()["hits"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    get(&a, "/api/search").await.error(StatusCode::BAD_REQUEST);
    let msg = get(&a, "/api/search?q=comand:x")
        .await
        .error(StatusCode::BAD_REQUEST);
    assert!(msg.starts_with("query:"), "{msg}");
    get(&a, "/api/search?q=x&limit=lots")
        .await
        .error(StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn edits_are_saved_atomically_and_reindexed() {
    let w = world();
    let a = w.app(None);
    let uri = format!("/api/sessions/{}", w.id);
    let r = patch(
        &a,
        &uri,
        "application/json",
        r#"{"title":"fixed it","tags":["dns","immutable"],"notes":"use chattr","fix_seq":2}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let saved: Value =
        serde_json::from_slice(&std::fs::read(w.store.dir(&w.id).join("meta.json")).unwrap())
            .unwrap();
    assert_eq!(saved["title"], "fixed it");
    assert_eq!(saved["tags"][1], "immutable");
    assert_eq!(saved["notes"], "use chattr");
    assert_eq!(saved["fix_seq"], 2);
    assert_eq!(
        w.fake
            .reindexed
            .lock()
            .unwrap()
            .last()
            .unwrap()
            .title
            .as_deref(),
        Some("fixed it")
    );
    let hits = get(&a, "/api/search?q=title:fixed").await.json();
    assert_eq!(
        hits["hits"].as_array().unwrap().len(),
        2,
        "re-indexed with the new title"
    );
    // null clears, absent keeps
    let r = patch(&a, &uri, "application/json", r#"{"title":null}"#)
        .await
        .json();
    assert_eq!(r["title"], Value::Null);
    assert_eq!(r["notes"], "use chattr");

    patch(&a, &uri, "text/plain", "{}")
        .await
        .error(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    patch(&a, &uri, "application/json", "{")
        .await
        .error(StatusCode::BAD_REQUEST);
    patch(&a, &uri, "application/json", r#"{"owner":"me"}"#)
        .await
        .error(StatusCode::BAD_REQUEST);
    patch(&a, &uri, "application/json", r#"{"fix_seq":99}"#)
        .await
        .error(StatusCode::BAD_REQUEST);
    patch(&a, &uri, "application/json", r#"{"tags":["two words"]}"#)
        .await
        .error(StatusCode::BAD_REQUEST);
    let long = format!(r#"{{"title":"{}"}}"#, "t".repeat(400));
    patch(&a, &uri, "application/json", long)
        .await
        .error(StatusCode::BAD_REQUEST);
    let huge = format!(r#"{{"notes":"{}"}}"#, "n".repeat(200_000));
    let r = patch(&a, &uri, "application/json", huge).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    patch(&a, "/api/sessions/..", "application/json", "{}")
        .await
        .error(StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn unknown_routes_are_404_json_under_api_and_html_elsewhere() {
    let w = world();
    let a = w.app(None);
    get(&a, "/api/nope").await.error(StatusCode::NOT_FOUND);
    get(&a, "/api").await.error(StatusCode::NOT_FOUND);
    let r = get(&a, "/nope%3Cscript%3E").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.text().contains("<!doctype html>") && !r.text().contains("<script>alert"));
    let r = get(&a, "/s/not-an-id").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(get(&a, "/assets/app.js").await.status, StatusCode::OK);
    let player = get(&a, "/assets/asciinema-player.min.js").await;
    assert_eq!(
        player.headers[header::CONTENT_TYPE],
        "text/javascript; charset=utf-8"
    );
    assert!(player.body.len() > 100_000);
    assert_eq!(
        get(&a, "/assets/../../etc/passwd").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn pages_show_recordings_as_text() {
    let w = world();
    let a = w.app(None);
    for uri in [
        "/".to_owned(),
        "/?tag=dns".to_owned(),
        "/search?q=chattr".to_owned(),
        format!("/s/{}?t=2&hit=2", w.id),
    ] {
        let r = get(&a, &uri).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}");
        let html = r.text();
        assert!(!html.contains("<script>alert"), "{uri}: {html}");
        assert!(!html.contains("<img src=x"), "{uri}");
        assert!(!html.contains("href=\"javascript:"), "{uri}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{uri}"
        );
        assert!(r.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("script-src 'self'"));
    }
    let results = get(&a, "/search?q=chattr").await.text();
    let marked = get(&a, "/search?q=out:unlocked").await.text();
    assert!(marked.contains("<mark>unlocked</mark>"), "{marked}");
    assert!(results.contains(&format!("/s/{}?t=1.95&amp;hit=2", w.id)));
    let page = get(&a, &format!("/s/{}?hit=2", w.id)).await.text();
    assert!(page.contains(r#"class="cmd hit""#));
    assert!(
        page.contains(r#"data-start="2""#),
        "the hit's time when ?t= is absent"
    );
    let r = get(&a, "/search?q=comand:x").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text().contains("did you mean"), "{}", r.text());
    assert_eq!(get(&a, "/search?q=").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_token_guards_everything() {
    let w = world();
    let a = w.app(Some("s3cret-token"));
    for uri in ["/api/sessions", "/api/nope"] {
        get(&a, uri).await.error(StatusCode::UNAUTHORIZED);
    }
    for uri in ["/", "/assets/app.js"] {
        assert_eq!(get(&a, uri).await.status, StatusCode::UNAUTHORIZED, "{uri}");
    }
    let with = |h: &str, v: &str| {
        Request::get("/api/sessions")
            .header(h, v)
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(
        send(&a, with("authorization", "Bearer s3cret-token"))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        send(&a, with("authorization", "Bearer s3cret-tokex"))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(&a, with("authorization", "Bearer s3cret"))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(&a, with("cookie", "a=b; fixcast_token=s3cret-token"))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        send(&a, with("cookie", "fixcast_token=nope")).await.status,
        StatusCode::UNAUTHORIZED
    );
    // The one-time link sets the cookie and leaves the token out of the address.
    let r = get(&a, "/search?q=chattr&token=s3cret-token").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.headers[header::LOCATION], "/search?q=chattr");
    let cookie = r.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.starts_with("fixcast_token=s3cret-token;") && cookie.contains("HttpOnly"));
    assert_eq!(
        get(&a, "/?token=wrong").await.status,
        StatusCode::UNAUTHORIZED
    );
    // Bound beyond loopback with a token, any host name is fine (it is served to other
    // machines).
    let any: std::net::SocketAddr = "0.0.0.0:7878".parse().unwrap();
    let a = w.app_bound(Some("s3cret-token"), &any);
    let r = send(
        &a,
        Request::get("/api/sessions")
            .header("host", "kb.example:7878")
            .header("authorization", "Bearer s3cret-token")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn without_a_token_only_loopback_names_are_answered() {
    let w = world();
    let a = w.app(None);
    let r = send(
        &a,
        Request::get("/api/sessions")
            .header("host", "evil.example:7878")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    r.error(StatusCode::FORBIDDEN);
    let r = send(
        &a,
        Request::get("/api/sessions")
            .header("host", "localhost:7878")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[test]
fn binding_beyond_loopback_needs_a_token() {
    let any: std::net::SocketAddr = "0.0.0.0:7878".parse().unwrap();
    let local: std::net::SocketAddr = "127.0.0.1:7878".parse().unwrap();
    assert!(fixcast_web::check_bind(&any, None).is_err());
    assert!(fixcast_web::check_bind(&any, Some("")).is_err());
    assert!(fixcast_web::check_bind(&any, Some("t")).is_ok());
    assert!(fixcast_web::check_bind(&local, None).is_ok());
}

#[tokio::test]
async fn damaged_and_empty_recordings_are_served_as_far_as_they_go() {
    let w = world();
    let a = w.app(None);
    // A recorder killed after its last flush, then garbage after it.
    let meta = fixcast_sessions::SessionMeta::new(fixcast_sessions::SessionId::generate(), 80, 24);
    let mut writer = w.store.create(&meta, &meta.header()).unwrap();
    for i in 0..20u64 {
        let ev = fixcast_sessions::Event::new(
            i * 100_000,
            fixcast_sessions::EventKind::Output(format!("line {i}\r\n")),
        );
        writer.write(&ev).unwrap();
    }
    writer.flush().unwrap();
    drop(writer);
    let cast = w.store.cast_path(&meta.id);
    let mut bytes = std::fs::read(&cast).unwrap();
    bytes.extend((0..100u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8));
    std::fs::write(&cast, bytes).unwrap();
    let r = get(&a, &format!("/api/sessions/{}/cast", meta.id)).await;
    assert_eq!(r.status, StatusCode::OK);
    let text = r.text();
    assert_eq!(
        text.lines().count(),
        21,
        "the header and every event: {text}"
    );
    assert!(text.contains("line 19"));
    let idx = get(&a, &format!("/api/sessions/{}/segments", meta.id))
        .await
        .json();
    let url = idx["segments"][0]["url"].as_str().unwrap().to_owned();
    let seg = get(&a, &url).await;
    assert_eq!(seg.status, StatusCode::OK);
    assert!(seg.text().contains("line 19"), "{}", seg.text());

    // A recording left empty: a header (from the session) and no events.
    std::fs::write(&cast, b"").unwrap();
    let r = get(&a, &format!("/api/sessions/{}/cast", meta.id)).await;
    assert_eq!(r.status, StatusCode::OK);
    let text = r.text();
    let head: Value = serde_json::from_str(text.lines().next().unwrap_or("null")).unwrap();
    assert_eq!(head["version"], 3, "{text}");
    assert_eq!(head["term"]["cols"], 80);
    assert_eq!(text.lines().count(), 1);
}

/// A session recorded at `cols` × `rows`, imported.
fn import_sized(w: &World, cols: u16, rows: u16, events: Vec<(u64, &str, &str)>) -> String {
    use fixcast_sessions::asciicast::{Header, Recording};
    use fixcast_sessions::{Event, EventKind, SessionId, SessionMeta};
    let events = events
        .into_iter()
        .map(|(t, code, data)| {
            Event::new(t, EventKind::from_code(code, data.into()).unwrap().unwrap())
        })
        .collect();
    let rec = Recording {
        header: Header {
            cols,
            rows,
            ..Header::default()
        },
        events,
        damage: Vec::new(),
    };
    let meta = SessionMeta::new(SessionId::generate(), cols, rows);
    w.store.import(&rec, meta).unwrap().id.to_string()
}

#[tokio::test]
async fn a_one_row_session_is_served_like_any_other() {
    // `vt100` panics below 2×2 (a wrap on one row): the screens are emulated at 2.
    let w = world();
    let a = w.app(None);
    let line = "a line longer than ten\r\n";
    for id in [
        import_sized(&w, 10, 1, vec![(100_000, "o", line)]),
        import_sized(&w, 1, 1, vec![(100_000, "o", "中 wide\r\n")]),
        import_sized(
            &w,
            80,
            24,
            vec![(1, "o", "x\r\n"), (2, "r", "10x1"), (3, "o", line)],
        ),
    ] {
        for path in ["", "/segments", "/segments/0", "/commands"] {
            let r = get(&a, &format!("/api/sessions/{id}{path}")).await;
            assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text());
        }
        assert_eq!(get(&a, &format!("/s/{id}")).await.status, StatusCode::OK);
    }
    let r = get(&a, "/api/search?q=chattr").await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn a_session_the_emulator_panics_on_is_a_422_and_the_rest_goes_on() {
    // Narrowed through a wide character, then written where its second half was: a
    // panic in `vt100` at any size.
    let w = world();
    let a = w.app_on_disk();
    let id = import_sized(
        &w,
        5,
        3,
        vec![(1, "o", "abc中"), (2, "r", "4x3"), (3, "o", "\x1b[1;4Hx")],
    );
    for _ in 0..2 {
        let said = get(&a, &format!("/api/sessions/{id}/segments"))
            .await
            .error(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            said.starts_with(&format!("session {id}: cannot be cut into segments: ")),
            "{said}"
        );
    }
    assert!(!w
        .store
        .dir(&id.parse().unwrap())
        .join("segments.v3.json.zst")
        .exists());
    let r = get(&a, &format!("/api/sessions/{}/segments", w.id)).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = get(&a, "/api/search?q=chattr").await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn bad_query_strings_are_a_400_naming_the_parameter() {
    let w = world();
    let a = w.app(None);
    let msg = get(&a, "/api/sessions?limit=abc")
        .await
        .error(StatusCode::BAD_REQUEST);
    assert_eq!(msg, r#"limit: expected a whole number, got "abc""#);
    let msg = get(&a, "/api/search?q=x&group=host")
        .await
        .error(StatusCode::BAD_REQUEST);
    assert!(msg.starts_with("group: "), "{msg}");
    // Given twice: the last one counts, as links that append a parameter expect.
    let r = get(&a, "/api/sessions?limit=abc&limit=1").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["limit"], 1);
    // A page answers a page, not JSON.
    let r = get(&a, "/?page=x%3Cb%3E").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let html = r.text();
    assert!(html.starts_with("<!doctype html>"), "{html}");
    assert!(
        html.contains("page: expected a whole number, got &quot;x&lt;b&gt;&quot;"),
        "{html}"
    );
    // Links' hints on a session page are never refused.
    let r = get(&a, &format!("/s/{}?hit=bogus&t=soon", w.id)).await;
    assert_eq!(r.status, StatusCode::OK);
}
