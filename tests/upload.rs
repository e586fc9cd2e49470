//! `fixcast rec --server`: the recording streams to a `fixcast serve` in another home,
//! which ends with a byte-identical copy, across a server restart too; a server gone for
//! good, or one that wants a token, leaves a complete local session and a clear message.

use std::path::PathBuf;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use crate::util::Home;
use crate::web::Server;

/// Prints a numbered line every 0.2 s for about `secs` seconds.
pub fn printer(secs: u32) -> String {
    format!(
        "for i in $(seq 1 {}); do echo \"upload line $i\"; sleep 0.2; done",
        secs * 5
    )
}

fn rec(home: &Home, url: &str, token: Option<&str>, command: &str) -> Child {
    let mut c = home.cmd(&["rec", "-c", command, "--server", url]);
    c.env_remove("FIXCAST_TOKEN")
        .env_remove("FIXCAST_SERVER")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(t) = token {
        c.args(["--token", t]);
    }
    c.spawn().unwrap()
}

/// Waits for `rec` to end, at most `limit`.
pub fn wait(child: Child, limit: Duration) -> Output {
    let start = Instant::now();
    let mut child = child;
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "rec still running after {limit:?}\nstderr: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn only_id(home: &Home) -> String {
    let ids = home.ids();
    assert_eq!(ids.len(), 1, "{ids:?}");
    ids[0].clone()
}

fn meta(home: &Home, id: &str) -> serde_json::Value {
    let p = home.path().join("sessions").join(id).join("meta.json");
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn decompressed(path: &PathBuf) -> Vec<u8> {
    zstd::decode_all(&std::fs::read(path).unwrap()[..]).unwrap()
}

/// The server's copy is the local one, raw and decompressed, and complete there too.
pub fn assert_same(local: &Home, server: &Home, stderr: &str) {
    let id = only_id(local);
    let (mine, theirs) = (local.cast_path(&id), server.cast_path(&id));
    assert!(theirs.exists(), "no copy on the server; stderr: {stderr}");
    let text = decompressed(&mine);
    assert_eq!(
        String::from_utf8_lossy(&text),
        String::from_utf8_lossy(&decompressed(&theirs)),
        "stderr: {stderr}"
    );
    assert!(std::fs::read(&mine).unwrap() == std::fs::read(&theirs).unwrap());
    assert!(String::from_utf8_lossy(&text).contains("upload line 10"));
    assert_eq!(meta(server, &id)["status"], "complete");
    assert_eq!(meta(local, &id)["status"], "complete");
    assert!(stderr.contains("uploaded to"), "{stderr}");
}

fn port_of(url: &str) -> String {
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned()
}

#[test]
fn a_recording_streams_to_a_server_byte_for_byte() {
    let (local, remote) = (Home::new(), Home::new());
    let server = Server::start(remote.path(), None);
    let child = rec(&local, &server.url, None, &printer(2));
    // Live on the server while it is recorded.
    let start = Instant::now();
    let mut seen_live = false;
    while start.elapsed() < Duration::from_secs(10) && !seen_live {
        if let Ok(ids) = std::fs::read_dir(remote.path().join("sessions")) {
            for e in ids.flatten() {
                let m = e.path().join("meta.json");
                if let Ok(b) = std::fs::read(&m) {
                    let v: serde_json::Value = serde_json::from_slice(&b).unwrap_or_default();
                    seen_live |= v["status"] == "recording";
                }
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        seen_live,
        "the session never showed as recording on the server"
    );
    let out = wait(child, Duration::from_secs(30));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    assert_same(&local, &remote, &stderr);
    // Indexed on the server when complete.
    let id = only_id(&local);
    let found = remote.ok(&["search", "upload"]);
    assert!(found.contains(&id[..10]), "{found}");
}

#[test]
fn a_server_restarted_mid_session_ends_with_the_same_copy() {
    let (local, remote) = (Home::new(), Home::new());
    let server = Server::start(remote.path(), None);
    let addr = port_of(&server.url);
    let child = rec(&local, &server.url, None, &printer(5));
    std::thread::sleep(Duration::from_millis(1200));
    drop(server); // killed, not stopped gracefully
    std::thread::sleep(Duration::from_millis(1500));
    let _again = Server::start_at(remote.path(), None, &addr);
    let out = wait(child, Duration::from_secs(40));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("retrying"), "{stderr}");
    assert!(stderr.contains("reconnected"), "{stderr}");
    assert_same(&local, &remote, &stderr);
}

#[test]
fn a_server_gone_for_good_leaves_a_complete_local_session() {
    let (local, remote) = (Home::new(), Home::new());
    let server = Server::start(remote.path(), None);
    let url = server.url.clone();
    let child = rec(&local, &url, None, &printer(2));
    std::thread::sleep(Duration::from_millis(700));
    drop(server);
    let start = Instant::now();
    let out = wait(child, Duration::from_secs(30));
    // The command runs about 2 s from the start; rec gives the server 10 s more.
    assert!(
        start.elapsed() < Duration::from_secs(14),
        "{:?}",
        start.elapsed()
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("is incomplete"), "{stderr}");
    assert!(stderr.contains("the local session is complete"), "{stderr}");
    let id = only_id(&local);
    assert_eq!(meta(&local, &id)["status"], "complete");
    assert!(
        String::from_utf8_lossy(&decompressed(&local.cast_path(&id))).contains("upload line 10")
    );
}

#[test]
fn a_server_with_a_token_refuses_uploads_without_it() {
    let (local, remote) = (Home::new(), Home::new());
    let server = Server::start(remote.path(), Some("s3cret-token"));
    let out = wait(
        rec(&local, &server.url, None, "echo upload line 10"),
        Duration::from_secs(20),
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("401"), "{stderr}");
    assert!(stderr.contains("--token"), "{stderr}");
    assert!(stderr.contains("the local session is complete"), "{stderr}");
    let id = only_id(&local);
    assert_eq!(meta(&local, &id)["status"], "complete");
    assert!(!remote.path().join("sessions").join(&id).exists());

    let local = Home::new();
    let out = wait(
        rec(&local, &server.url, Some("s3cret-token"), &printer(2)),
        Duration::from_secs(30),
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    assert_same(&local, &remote, &stderr);
}

#[test]
fn an_https_address_of_a_plain_http_server_is_a_tls_error_not_a_hang() {
    let (local, remote) = (Home::new(), Home::new());
    let server = Server::start(remote.path(), None);
    let url = server.url.replacen("http://", "https://", 1);
    let start = Instant::now();
    let out = wait(
        rec(&local, &url, None, "echo upload line 10"),
        Duration::from_secs(30),
    );
    // The recording ends at once; rec gives the server 10 s more, then says why not.
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("tls"), "{stderr}");
    assert!(stderr.contains("https://127.0.0.1"), "{stderr}");
    assert!(stderr.contains("the local session is complete"), "{stderr}");
    let id = only_id(&local);
    assert_eq!(meta(&local, &id)["status"], "complete");
    assert!(!remote.path().join("sessions").join(&id).exists());
}
