//! `fixcast export --format html`: one standalone page that plays the session, opened
//! from `file://` in Chromium with no server: chapters per command, seeking from them
//! and from the runbook under the player, nothing fetched, a hostile session kept text.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::{fixture, Home};
use crate::web::{browser, browser_ready, import_cast, integrated, osc, XSS};

/// Exports session `id` as HTML to `dir`; the file, its text, and what stderr said.
fn export(home: &Home, id: &str, dir: &Path) -> (PathBuf, String, String) {
    let file = dir.join("runbook.html");
    let out = home.run(&[
        "export",
        id,
        "--format",
        "html",
        "-o",
        file.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    assert!(out.stdout.is_empty(), "-o writes nothing to stdout");
    let html = std::fs::read_to_string(&file).unwrap();
    (file, html, err)
}

/// Where the screenshots go: kept after the test (under the target dir) to be looked at.
fn shots(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_html_export_plays_from_disk_with_chapters() {
    let home = Home::new();
    home.ok(&["import", fixture("immutable-fix.cast").to_str().unwrap()]);
    let id = home.ids().remove(0);
    let work = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let (file, html, err) = export(&home, &id, work.path());

    // Everything inline, no URL anywhere, the size told.
    assert!(
        err.contains("runbook.html: ") && err.contains("KiB"),
        "{err}"
    );
    assert!(err.contains("7 commands"), "{err}");
    assert!(!html.contains("http://") && !html.contains("https://"));
    assert!(
        !html.contains(" src=") && !html.contains("<link"),
        "nothing loaded"
    );
    assert!(html.contains("<script type=\"application/x-asciicast\" id=\"cast\">"));
    assert!(html.contains("AsciinemaPlayer"));
    for want in [
        "<h1 id=\"title\">immutable config</h1>",
        "<h2>1. <code>echo x &gt;&gt; app.conf</code> failed</h2>",
        "<h3>Fix <span class=\"note\">(retry 3.3s later succeeded)</span></h3>",
        "<pre class=\"out\">----i---------e------- app.conf</pre>",
        "<h3>Verification</h3>",
    ] {
        assert!(html.contains(want), "{want}");
    }
    // To standard output, the same page.
    let stdout = home.ok(&["export", &id, "--format", "html"]);
    assert_eq!(stdout, html);

    if !browser_ready() {
        return;
    }
    let shots = shots("html-export-shots");
    let url = format!("file://{}", file.display());
    let v = browser(
        "standalone",
        &url,
        &[
            shots.to_str().unwrap(),
            "lsattr app.conf",
            "----i---------e------- app.conf",
            "Operation not permitted",
        ],
    );
    assert_eq!(v["requests"], serde_json::json!([]), "{v:#}");
    assert_eq!(v["chapters"], 7, "a chapter per command: {v:#}");
    assert_eq!(v["markers"], 7, "a marker per command in the player: {v:#}");
    assert_eq!(v["title"], "immutable config");
    assert_eq!(v["commands"][4], "chattr -i app.conf");
    assert!(
        v["time"].as_f64().unwrap() >= v["start"].as_f64().unwrap() - 0.01,
        "playing from the chapter: {v:#}"
    );
    assert_eq!(v["current"], 1, "{v:#}");
    assert!(
        v["linkTime"].as_f64().unwrap() >= v["linkStart"].as_f64().unwrap() - 0.01,
        "{v:#}"
    );
    assert!(
        v["runbook"]
            .as_str()
            .unwrap()
            .contains("bash: app.conf: Operation not permitted"),
        "{v:#}"
    );
    for shot in ["wide-1400x900.png", "narrow-400x800.png"] {
        let len = std::fs::metadata(shots.join(shot)).unwrap().len();
        assert!(len > 5000, "{shot}: {len} bytes");
    }
    eprintln!("screenshots in {}", shots.display());
}

/// A session whose title, command and output hold markup, `</script>`, `<!--` and a
/// URL: the page shows them as text, the recording's block is not broken out of, it
/// plays, and the URL is nowhere in the file as one.
#[test]
fn a_hostile_session_stays_text_in_the_html_export() {
    let home = Home::new();
    let corpus = format!(
        "{} <!-- </script> <!--<script> --> https://example.com/hook?a=1&b=2",
        XSS.join(" ")
    );
    let line = format!("echo pwned {}", XSS[0]);
    let out = vec![
        (0.5, integrated("/tmp", &line, &format!("{corpus}\r\n"), 1)),
        (1.5, format!("{}{}$ ", osc("133;A"), osc("133;B"))),
    ];
    let id = import_cast(&home, &format!("pwned {corpus}"), &out);
    home.ok(&[
        "edit",
        &id,
        "--note",
        &format!("notes {corpus}"),
        "--tag",
        "+<b>t</b>",
    ]);
    let work = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let (file, html, _) = export(&home, &id, work.path());

    // One script end per script element: the player, the page, the recording.
    assert_eq!(
        html.matches("</script>").count(),
        3,
        "no recording text ends a script"
    );
    assert_eq!(html.matches("<!--").count(), 0);
    assert!(!html.contains("http://") && !html.contains("https://"));
    // Outside the recording's block (whose text no HTML parser reads), no markup of it.
    let start = html
        .find("<script type=\"application/x-asciicast\"")
        .unwrap();
    let end = start + html[start..].find("</script>").unwrap();
    assert!(
        !html[start + 1..end].contains('<'),
        "the recording has no `<` left"
    );
    let page = format!("{}{}", &html[..start], &html[end..]);
    for x in XSS {
        assert!(!page.contains(x), "{x} is in the page as markup");
    }
    assert!(html.contains("&lt;script&gt;window.__pwned=1&lt;/script&gt;"));
    assert!(html.contains("<code class=\"tag\">&lt;b&gt;t&lt;/b&gt;</code>"));

    if !browser_ready() {
        return;
    }
    let shots = shots("html-export-hostile-shots");
    let url = format!("file://{}", file.display());
    let v: Value = browser(
        "standalone",
        &url,
        &[shots.to_str().unwrap(), "echo pwned", "</script>", "<!--"],
    );
    assert_eq!(v["pwned"], 0, "{v:#}");
    assert_eq!(v["injected"], 0, "{v:#}");
    assert_eq!(v["requests"], serde_json::json!([]), "{v:#}");
    assert_eq!(v["title"], format!("pwned {corpus}"));
    assert_eq!(v["commands"][0], line);
    assert!(
        v["chapterScreen"].as_str().unwrap().contains(XSS[1]),
        "the recording plays, markup as text: {v:#}"
    );
    assert!(v["runbook"].as_str().unwrap().contains(&corpus), "{v:#}");
}
