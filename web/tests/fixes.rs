//! Search answers with the fix, in the API and on the results page.

mod common;

use axum::http::StatusCode;
use fixcast_sessions::{Event, EventKind};

use common::*;

/// A session where `echo x >> app.conf` failed, `lsattr` looked, `chattr -i` fixed it and
/// the echo worked again.
fn with_a_fix(w: &World) -> String {
    let out = |t: u64, s: &str| Event::new(t, EventKind::Output(s.into()));
    let meta = import(&w.store, "immutable config", vec![out(100_000, "$ ")]);
    let cmds = vec![
        cmd(
            1,
            1.0,
            "echo x >> app.conf",
            "bash: app.conf: Operation not permitted\n",
            1,
        ),
        cmd(2, 2.0, "lsattr app.conf", "----i--- app.conf\n", 0),
        cmd(3, 3.5, "chattr -i app.conf", "", 0),
        cmd(4, 4.0, "echo x >> app.conf", "", 0),
    ];
    let cmds = cmds
        .into_iter()
        .map(|mut c| {
            c.note_errors();
            c
        })
        .collect();
    w.fake
        .commands
        .lock()
        .unwrap()
        .insert(meta.id.clone(), cmds);
    fixcast_web::Knowledge::reindex(&*w.fake, &w.store, &meta).unwrap();
    meta.id.as_str().to_owned()
}

#[tokio::test]
async fn a_failure_s_hit_carries_its_fix_in_the_api_and_on_the_page() {
    let w = world();
    let id = with_a_fix(&w);
    let a = w.app(None);
    let r = get(&a, "/api/search?q=%22Operation+not+permitted%22").await;
    assert_eq!(r.status, StatusCode::OK);
    let j = r.json();
    assert_eq!(j["partial"], false);
    let top = &j["hits"][0];
    assert_eq!(top["fix"]["found"], "retry", "{top:#}");
    assert_eq!(top["fix"]["commands"][0]["command"], "chattr -i app.conf");
    assert_eq!(top["fix"]["verification"]["seq"], 4);

    let page = get(&a, "/search?q=%22Operation+not+permitted%22")
        .await
        .text();
    assert!(page.contains("fixed by:"), "{page}");
    assert!(
        page.contains(&format!("/s/{id}?t=3.45&amp;hit=3")),
        "the fix links to its moment: {page}"
    );
    assert!(page.contains("retry 3.0s later succeeded"), "{page}");

    // The fix's own hit names the failure it fixed.
    let page = get(&a, "/search?q=cmd%3Achattr+app.conf").await.text();
    assert!(page.contains("fixes:"), "{page}");
}

#[tokio::test]
async fn closest_matches_are_said_to_be_so() {
    let w = world();
    with_a_fix(&w);
    let a = w.app(None);
    let j = get(&a, "/api/search?q=app.conf+will+not+save").await.json();
    assert_eq!(j["partial"], true, "{j:#}");
    assert!(!j["hits"].as_array().unwrap().is_empty());
    let page = get(&a, "/search?q=app.conf+will+not+save").await.text();
    assert!(
        page.contains("No command has all words; closest matches:"),
        "{page}"
    );
}

#[tokio::test]
async fn the_session_page_marks_each_command_s_part_in_a_fix() {
    let w = world();
    let id = with_a_fix(&w);
    let page = get(&w.app(None), &format!("/s/{id}")).await.text();
    for want in [
        r#"<span class="role">failed, fixed by #3</span>"#,
        r#"<span class="role">fix of #1</span>"#,
        r#"<span class="role">verifies #1</span>"#,
    ] {
        assert!(page.contains(want), "{want} in {page}");
    }
    // `lsattr` only looked.
    let lsattr = page.split("id=\"cmd-2\"").nth(1).unwrap_or_default();
    let lsattr = lsattr.split("</li>").next().unwrap_or_default();
    assert!(!lsattr.contains("class=\"role\""), "{lsattr}");
}
