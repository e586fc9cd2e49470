//! `fixcast serve` in a real browser (Chromium driven by playwright-core, see
//! web/tests/browser.mjs): search then replay at the hit, the XSS corpus as text, a
//! wrong token refused, and a long recording opened at its very end.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use fixcast_sessions::synthetic::{self, Long};
use fixcast_sessions::{SessionId, SessionMeta, Store};
use serde_json::Value;

use crate::util::{bin, have, Home};

/// A `fixcast serve` on a free port, stopped when dropped.
pub struct Server {
    child: Child,
    pub url: String,
}

impl Server {
    pub fn start(home: &Path, token: Option<&str>) -> Server {
        Server::start_at(home, token, "127.0.0.1:0")
    }

    /// A server on a given address (a port used before, to restart one).
    pub fn start_at(home: &Path, token: Option<&str>, bind: &str) -> Server {
        let mut cmd = Command::new(bin());
        cmd.args(["serve", "--bind", bind])
            .env("FIXCAST_HOME", home)
            .env_remove("FIXCAST_TOKEN")
            .stdin(Stdio::null())
            .stdout(Stdio::piped());
        if let Some(t) = token {
            cmd.args(["--token", t]);
        }
        let mut child = cmd.spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_owned();
        Server { child, url }
    }

    /// The server's process id (to read its memory and open files in `/proc`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn web_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("web")
}

/// Whether the browser tests can run: Chromium installed (required in CI) and
/// playwright-core in web/node_modules (installed with `npm ci` when missing).
pub fn browser_ready() -> bool {
    if !have("chromium") || !have("node") {
        return false;
    }
    if !web_dir().join("node_modules/playwright-core").is_dir() {
        let ok = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(web_dir())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "npm ci in web/ failed: playwright-core is needed for browser tests"
        );
    }
    true
}

/// Runs one scenario of browser.mjs; its JSON result, or a panic with what it saw.
pub fn browser(scenario: &str, base: &str, args: &[&str]) -> Value {
    browser_with(scenario, base, args, &[])
}

/// [`browser`] with environment variables for the script (`FIXCAST_SHOTS`).
pub fn browser_with(scenario: &str, base: &str, args: &[&str], env: &[(&str, PathBuf)]) -> Value {
    let out = Command::new("node")
        .arg(web_dir().join("tests/browser.mjs"))
        .arg(scenario)
        .arg(base)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(web_dir())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let v: Value = stdout
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| {
            panic!(
                "browser {scenario}: no result\nstdout: {stdout}\nstderr: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    assert!(
        out.status.success() && v.get("error").is_none(),
        "browser {scenario} failed: {v:#}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(v["problems"], serde_json::json!([]), "{scenario}: {v:#}");
    v
}

pub(crate) fn osc(s: &str) -> String {
    format!("\x1b]{s}\x07")
}

/// One command as fixcast's shell integration prints it.
pub(crate) fn integrated(cwd: &str, line: &str, output: &str, status: i32) -> String {
    format!(
        "{}{}{}$ {line}\r\n{}{}{output}{}",
        osc(&format!("7;file://host{cwd}")),
        osc("133;A"),
        osc("133;B"),
        osc(&format!("633;E;{}", line.replace(';', "\\x3b"))),
        osc("133;C"),
        osc(&format!("133;D;{status}")),
    )
}

/// One command as a shell prints it over time: the prompt and the typed line a moment
/// before its C mark at `t` (the command's start), then the output.
fn typed_then_run(t: f64, cwd: &str, line: &str, output: &str, status: i32) -> [(f64, String); 2] {
    let all = integrated(cwd, line, output, status);
    let at = all.find(&osc("133;C")).unwrap();
    [(t - 0.3, all[..at].to_owned()), (t, all[at..].to_owned())]
}

/// Writes an asciicast v3 file of `(seconds, output)` and imports it; the session id.
pub(crate) fn import_cast(home: &Home, title: &str, outputs: &[(f64, String)]) -> String {
    let path = home.path().join(format!("{}.cast", outputs.len()));
    let mut f = std::fs::File::create(&path).unwrap();
    let head = serde_json::json!({"version": 3, "term": {"cols": 80, "rows": 24}, "title": title});
    writeln!(f, "{head}").unwrap();
    let mut prev = 0.0;
    for (t, o) in outputs {
        writeln!(f, "{}", serde_json::json!([t - prev, "o", o])).unwrap();
        prev = *t;
    }
    drop(f);
    let before = home.ids();
    home.ok(&["import", path.to_str().unwrap()]);
    home.ids()
        .into_iter()
        .find(|i| !before.contains(i))
        .unwrap()
}

/// A debugging story: many commands before and after the fix, so a seek matters.
fn story(home: &Home) -> (String, f64) {
    let mut out = Vec::new();
    let mut t = 0.5;
    out.extend(typed_then_run(
        t,
        "/etc",
        "lsattr /etc/resolv.conf",
        "----i---------e------- /etc/resolv.conf\r\n",
        0,
    ));
    for i in 0..30 {
        t += 1.0;
        out.extend(typed_then_run(
            t,
            "/root",
            &format!("echo step {i}"),
            &format!("step {i}\r\n"),
            0,
        ));
    }
    t += 2.0;
    out.extend(typed_then_run(
        t,
        "/etc",
        "echo nameserver 1.1.1.1 >> /etc/resolv.conf",
        "bash: /etc/resolv.conf: Operation not permitted\r\n",
        1,
    ));
    t += 3.0;
    let fix_at = t;
    out.extend(typed_then_run(
        t,
        "/etc",
        "chattr -i /etc/resolv.conf",
        "RESOLV-UNLOCKED immutable bit cleared\r\n",
        0,
    ));
    for i in 0..30 {
        t += 1.0;
        out.extend(typed_then_run(
            t,
            "/root",
            // Long enough to wrap in the command list, under where its button goes.
            &format!("echo after {i}: the resolver file takes writes again, nameserver line kept"),
            &format!("after {i}\r\n"),
            0,
        ));
    }
    t += 1.0;
    out.push((t, format!("{}{}$ ", osc("133;A"), osc("133;B"))));
    (import_cast(home, "resolv.conf is stuck", &out), fix_at)
}

#[test]
fn search_then_replay_at_the_hit() {
    if !browser_ready() {
        return;
    }
    let home = Home::new();
    let (id, fix_at) = story(&home);
    let server = Server::start(home.path(), None);
    // The hit opens with its command line on screen, its output in the panel.
    let v = browser(
        "search",
        &server.url,
        &["$ chattr -i /etc/resolv.conf", "RESOLV-UNLOCKED"],
    );
    assert_eq!(v["highlighted"], 1, "{v}");
    assert_eq!(v["start"].as_f64().unwrap(), fix_at, "{id}: {v}");
    let t = v["time"].as_f64().unwrap();
    assert!(
        (fix_at - 0.1..fix_at).contains(&t),
        "player at {t}, the hit at {fix_at}: it opens just before the command runs"
    );
}

/// Where the browser tests leave their screenshots for a person to look at.
pub fn shots_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots")
}

#[test]
fn the_pages_at_a_desk_and_on_a_phone() {
    if !browser_ready() {
        return;
    }
    let home = Home::new();
    let (id, _) = story(&home);
    let notes = "resolv.conf was made immutable by the provisioning script.\n\
        Clear the bit with chattr -i, then fix the script.\n\
        Seen on node1, node2 and node3 after the base image upgrade.\n\
        Ticket OPS-1234 has the timeline.";
    // The chattr command is the fix.
    home.ok(&["edit", &id, "--note", notes, "--fix", "33"]);
    let server = Server::start(home.path(), None);
    let v = browser_with(
        "pages",
        &server.url,
        &[&id, "resolv.conf"],
        &[("FIXCAST_SHOTS", shots_dir())],
    );
    eprintln!("screenshots in {}", shots_dir().display());
    let px = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    // Every check is told, not just the first that fails.
    let mut bad = Vec::new();
    let mut check = |ok: bool, what: &str| {
        if !ok {
            bad.push(what.to_owned());
        }
    };
    // Side padding: nothing touches the window's edge.
    for page in ["home", "results", "session"] {
        check(
            px(&v[page]["h1"]["left"]) >= 8.0,
            &format!("{page}: the title touches the window's edge"),
        );
    }
    check(
        px(&v["session"]["player"]["left"]) >= 8.0,
        "the player touches the window's edge",
    );
    // With notes, the control bar stays in a 1400x900 window.
    check(
        px(&v["session"]["controls"]["bottom"]) <= 900.0,
        "with notes, the control bar is below the fold at 1400x900",
    );
    check(v["groups"] == 1, "hits are not grouped by session");
    // Opened with no time: the fix's screen, not a blank 0:00.
    check(
        v["poster"]["seq"] == "33",
        "the marked fix is not the poster's command",
    );
    check(
        v["poster"]["screen"]
            .as_str()
            .unwrap_or("")
            .contains("RESOLV-UNLOCKED"),
        "opened with no time, the screen is not the fix's",
    );
    check(
        v["poster"]["overlay"] == true,
        "the play button is missing on the poster",
    );
    check(
        v["overlayAfterSeek"] == false,
        "the play button stays over the text after a seek",
    );
    check(
        v["markIdle"] == "hidden",
        "mark as the fix shows on a row neither selected nor hovered",
    );
    check(
        v["markHover"] == "visible",
        "mark as the fix is missing on the hovered row",
    );
    check(
        v["markCovers"] == false,
        "mark as the fix covers the hovered row's command line",
    );
    let c = &v["chapter"];
    check(
        c["hit"] == serde_json::json!([c["seq"].clone()]),
        "a chapter click leaves the highlight where it was",
    );
    check(
        c["shown"] == c["want"],
        "a chapter click leaves the Output of panel as it was",
    );
    check(
        v["tags"] == serde_json::json!(["alpha", "beta-2"]),
        "the tag chips are stale after Save",
    );
    check(
        v["dark"]["edge"] != "none" && !v["dark"]["edge"].is_null(),
        "in dark mode the terminal has no edge",
    );
    // A phone: readable text and a Search button.
    check(
        px(&v["narrow"]["fontPx"]) >= 9.0,
        "at 400 px the terminal's text is too small to read",
    );
    for page in ["homeNarrow", "narrow"] {
        let b = &v[page]["button"];
        check(
            b["visible"] == true && px(&b["right"]) <= 400.0,
            &format!("{page}: at 400 px the Search button is hidden"),
        );
    }
    assert!(bad.is_empty(), "{bad:#?}\n{v:#}");
}

/// Payloads set `window.__pwned` if they ever run.
pub(crate) const XSS: &[&str] = &[
    "<script>window.__pwned=1</script>",
    "<img src=x onerror=\"window.__pwned=2\">",
    "<a href=\"javascript:window.__pwned=3\">click</a>",
    "\"><svg onload=window.__pwned=4>",
    "' onmouseover='window.__pwned=5",
    "</textarea><script>window.__pwned=6</script>",
];

#[test]
fn an_xss_corpus_shows_as_text() {
    if !browser_ready() {
        return;
    }
    let home = Home::new();
    let corpus = XSS.join(" ");
    let out = vec![
        (
            0.5,
            integrated(
                "/tmp",
                &format!("echo pwned {}", XSS[1]),
                &format!("{corpus}\r\n"),
                0,
            ),
        ),
        (1.5, format!("{}{}$ ", osc("133;A"), osc("133;B"))),
    ];
    let id = import_cast(&home, &format!("pwned {corpus}"), &out);
    home.ok(&["reindex"]);
    let server = Server::start(home.path(), None);
    let v = browser("xss", &server.url, &[&format!("s/{id}?t=1&hit=1")]);
    assert_eq!(v["pwned"], 0, "{v:#}");
    assert_eq!(v["injected"], 0, "{v:#}");
    assert_eq!(v["title"], format!("pwned {corpus}"));
    assert_eq!(v["commands"][0], format!("echo pwned {}", XSS[1]));
    assert!(v["output"].as_str().unwrap().contains(&corpus), "{v:#}");
    assert!(
        v["screen"]
            .as_str()
            .unwrap()
            .contains("<script>window.__pwned=1</script>"),
        "{v:#}"
    );
    assert!(
        v["results"]
            .as_str()
            .unwrap()
            .contains("<img src=x onerror="),
        "{v:#}"
    );
}

#[test]
fn a_wrong_token_gets_401() {
    if !browser_ready() {
        return;
    }
    let home = Home::new();
    story(&home);
    let token = "correct-horse-battery";
    let server = Server::start(home.path(), Some(token));
    let v = browser("token", &server.url, &[token]);
    assert_eq!(v["wrong"], 401, "{v}");
    assert_eq!(v["none"], 401, "{v}");
    assert_eq!(v["right"], 200, "{v}");
    assert_eq!(v["api"], 200, "{v}");
    assert!(!v["url"].as_str().unwrap().contains("token"), "{v}");
}

/// A recording with about `mb` MB of varied output, ending on a screen that says
/// `LAST-SCREEN-<mb>`; stored straight through the store (importing text would only
/// slow the test down). Returns the id and the duration.
pub fn long_session(home: &Path, mb: usize) -> (SessionId, f64) {
    let store = Store::open(home).unwrap();
    let mut meta = SessionMeta::new(SessionId::generate(), 120, 30);
    meta.title = Some(format!("{mb} MB of build output"));
    let line = |n: u64| {
        format!(
            "\x1b[32m{n:>9}\x1b[0m {:016x} build step {} of the long job: ok\r\n",
            n.wrapping_mul(0x9E37_79B9_7F4A_7C15),
            n % 977
        )
    };
    let last = |n| format!("\x1b[2J\x1b[H\x1b[1mLAST-SCREEN-{mb}\x1b[0m after {n} lines\r\n$ ");
    let built = synthetic::long_session(&store, meta, &Long::mb(mb), line, last).unwrap();
    (built.meta.id, built.duration)
}

#[test]
fn a_long_session_opens_at_its_end() {
    if !browser_ready() {
        return;
    }
    let home = Home::new();
    let t0 = Instant::now();
    let (id, duration) = long_session(home.path(), 200);
    eprintln!(
        "long session: 200 MB stored in {:.1}s",
        t0.elapsed().as_secs_f64()
    );
    let server = Server::start(home.path(), None);
    // The first open builds the segments (one pass through vt100) and caches them.
    let path = format!("s/{id}?t={duration}");
    let first = browser("open", &server.url, &[&path, "LAST-SCREEN-200", "1"]);
    let again = browser("open", &server.url, &[&path, "LAST-SCREEN-200", "3"]);
    eprintln!(
        "long session at its end: first {} ms (builds segments), then {} ms",
        first["times"], again["times"]
    );
    let best = again["times"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_u64)
        .min()
        .unwrap();
    assert!(best < 5_000, "opening at the end took {best} ms: {again}");
}

/// `GET path` on a server over HTTP/1.0 (so a streamed body comes whole, not in
/// chunks); the body as text.
pub fn get_text(base: &str, path: &str) -> String {
    use std::io::Read;
    let addr = base.trim_start_matches("http://").trim_end_matches('/');
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut res = Vec::new();
    s.read_to_end(&mut res).unwrap();
    let res = String::from_utf8_lossy(&res).into_owned();
    res.split_once("\r\n\r\n")
        .map_or(String::new(), |(_, b)| b.to_owned())
}

/// `GET path` on a server; the JSON body.
pub fn get_json(base: &str, path: &str) -> Value {
    use std::io::Read;
    let addr = base.trim_start_matches("http://").trim_end_matches('/');
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut res = String::new();
    s.read_to_string(&mut res).unwrap();
    let body = res.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    serde_json::from_str(body).unwrap_or_else(|e| panic!("GET {path}: {e}: {res}"))
}
