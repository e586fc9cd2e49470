//! The HTML pages' papercuts (issue 12): replay links that open on the command line,
//! look-alike commands flagged in results, empty states that say what is going on,
//! and hits grouped by session with the session's notes.

mod common;

use axum::http::StatusCode;
use fixcast_web::Knowledge;

use common::*;

/// Every `t=` of a page's replay links.
fn link_times(html: &str) -> Vec<f64> {
    html.split("?t=")
        .skip(1)
        .filter_map(|s| s.split('&').next()?.parse().ok())
        .collect()
}

#[tokio::test]
async fn a_hit_link_opens_just_before_its_command_line() {
    let w = world();
    let a = w.app(None);
    // `chattr` starts at 2.0 s: a link that rounds (or floors to 2.0) opens with the
    // prompt already printed, a hair later it is mid-output.
    let j = get(&a, "/api/search?q=chattr").await.json();
    let url = j["hits"][0]["url"].as_str().unwrap();
    let t = link_times(url)[0];
    assert!((1.9..2.0).contains(&t), "{url}: opens at {t}");
    let html = get(&a, "/search?q=chattr").await.text();
    let times = link_times(&html);
    assert!(!times.is_empty(), "{html}");
    for t in times {
        assert!((1.9..2.0).contains(&t), "results open at {t}: {html}");
    }
}

#[tokio::test]
async fn results_flag_look_alike_commands() {
    let w = world();
    let meta = w.store.load(&w.long).unwrap().meta;
    w.fake.reindex(&w.store, &meta).unwrap();
    let a = w.app(None);
    let html = get(&a, "/search?q=pods").await.text();
    assert!(html.contains("get pods"), "{html}");
    assert!(
        html.contains("look-alike characters: U+0441"),
        "the results page flags kubeсtl: {html}"
    );
}

#[tokio::test]
async fn empty_states_say_what_is_empty() {
    let w = world();
    let a = w.app(None);
    let html = get(&a, "/?tag=nosuchtag").await.text();
    assert!(!html.contains("No sessions yet"), "{html}");
    assert!(html.contains("No sessions are tagged"), "{html}");
    let html = get(&a, "/?page=99").await.text();
    assert!(html.contains("past the end"), "{html}");
    assert!(html.contains(r#"href="/?page=1""#), "{html}");
    let html = get(&a, "/search?q=chattr&page=9").await.text();
    assert!(html.contains("past the end"), "{html}");
}

#[tokio::test]
async fn the_results_heading_adds_no_quotes_of_its_own() {
    let w = world();
    let a = w.app(None);
    let html = get(&a, "/search?q=%22unlocked%22").await.text();
    assert!(!html.contains("<q>"), "{html}");
    assert!(
        html.contains(r#"Results for <code class="query">&quot;unlocked&quot;</code>"#),
        "{html}"
    );
}

#[tokio::test]
async fn a_command_with_no_output_has_no_snippet_bar() {
    let w = world();
    let meta = w.store.load(&w.long).unwrap().meta;
    w.fake.reindex(&w.store, &meta).unwrap();
    let a = w.app(None);
    let html = get(&a, "/search?q=pods").await.text();
    assert!(html.contains("get pods"), "{html}");
    assert!(
        !html.contains(r#"<pre class="snippet"></pre>"#),
        "an empty snippet: {html}"
    );
}

#[tokio::test]
async fn hits_are_grouped_by_session_with_its_notes() {
    let w = world();
    let a = w.app(None);
    let notes = "The immutable bit was set by the provisioning script.\nSecond line.";
    let body = serde_json::json!({ "notes": notes }).to_string();
    let r = patch(
        &a,
        &format!("/api/sessions/{}", w.id),
        "application/json",
        body,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // Both commands of the session match `resolv.conf`: one group, two hits.
    let r = get(&a, "/search?q=resolv.conf").await;
    assert_eq!(r.status, StatusCode::OK);
    let html = r.text();
    assert_eq!(html.matches(r#"<li class="group""#).count(), 1, "{html}");
    assert_eq!(html.matches(r#"<li class="hit""#).count(), 2, "{html}");
    assert!(
        html.contains("The immutable bit was set by the provisioning script."),
        "the session's notes: {html}"
    );
    // The API keeps its flat list.
    let j = get(&a, "/api/search?q=resolv.conf").await.json();
    assert_eq!(j["hits"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn the_api_groups_hits_by_session_when_asked() {
    let w = world();
    let a = w.app(None);
    let body = serde_json::json!({ "notes": "the provisioning script" }).to_string();
    let r = patch(
        &a,
        &format!("/api/sessions/{}", w.id),
        "application/json",
        body,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let j = get(&a, "/api/search?q=resolv.conf&group=session")
        .await
        .json();
    let sessions = j["sessions"].as_array().expect("sessions");
    assert_eq!(sessions.len(), 1, "{j:#}");
    assert_eq!(sessions[0]["session"], w.id.as_str());
    assert_eq!(sessions[0]["notes"], "the provisioning script");
    assert_eq!(sessions[0]["hits"].as_array().unwrap().len(), 2, "{j:#}");
    assert!(j.get("hits").is_none(), "{j:#}");
    let msg = get(&a, "/api/search?q=x&group=host")
        .await
        .error(StatusCode::BAD_REQUEST);
    assert!(msg.starts_with("group:"), "{msg}");
}

/// `session:last~N` in the web's search names sessions by recency, as in the CLI; past
/// the oldest it is a 404 that says how many there are (it found nothing before).
#[tokio::test]
async fn session_last_in_a_web_query_names_the_newest_sessions() {
    let w = world();
    let a = w.app(None);
    // The world's sessions: the fix (w.id), then "long", imported after it.
    let j = get(&a, "/api/search?q=session:last~1+chattr").await.json();
    let hits = j["hits"].as_array().unwrap();
    assert!(!hits.is_empty(), "{j}");
    assert!(hits.iter().all(|h| h["session"] == w.id.to_string()), "{j}");
    let j = get(&a, "/api/search?q=session:last+chattr").await.json();
    assert_eq!(j["hits"].as_array().unwrap().len(), 0, "{j}");
    let msg = get(&a, "/api/search?q=session:last~9+chattr")
        .await
        .error(StatusCode::NOT_FOUND);
    assert!(msg.contains("last~9"), "{msg}");
}
