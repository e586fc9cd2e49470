//! The config file: `[server]` sends `rec` to a server without flags, `[serve]` sets the
//! server's token, a flag wins over the file, and a bad file stops before anything runs.

use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use std::time::Duration;

use crate::upload::{assert_same, printer, wait};
use crate::util::Home;
use crate::web::Server;

fn write_config(home: &Home, text: &str, mode: u32) {
    let path = home.path().join("config.toml");
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn rec_streams_to_the_server_named_in_the_config_file() {
    let (local, remote) = (Home::new(), Home::new());
    let server = Server::start(remote.path(), Some("cfg-token-1"));
    write_config(
        &local,
        &format!(
            "[server]\nurl = \"{}\"\ntoken = \"cfg-token-1\"\n",
            server.url
        ),
        0o600,
    );
    let child = local
        .cmd(&["rec", "-c", &printer(2)])
        .env_remove("FIXCAST_SERVER")
        .env_remove("FIXCAST_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = wait(child, Duration::from_secs(30));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("others can read"), "{stderr}");
    assert_same(&local, &remote, &stderr);
}

#[test]
fn a_flag_wins_over_the_config_file_and_a_readable_token_is_warned_about() {
    let (local, remote) = (Home::new(), Home::new());
    let server = Server::start(remote.path(), Some("right-token"));
    write_config(
        &local,
        &format!(
            "[server]\nurl = \"{}\"\ntoken = \"wrong-token\"\n",
            server.url
        ),
        0o644,
    );
    let out = local
        .cmd(&["rec", "-c", "echo upload line 10", "--token", "right-token"])
        .env_remove("FIXCAST_SERVER")
        .env_remove("FIXCAST_TOKEN")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("others can read it"), "{stderr}");
    assert!(stderr.contains("uploaded to"), "{stderr}");
    assert_eq!(remote.ids(), local.ids());
}

#[test]
fn serve_takes_its_token_from_the_config_file() {
    let home = Home::new();
    write_config(&home, "[serve]\ntoken = \"cfg-serve-token\"\n", 0o600);
    let server = Server::start(home.path(), None);
    assert_eq!(status_of(&server.url, None), 401);
    assert_eq!(status_of(&server.url, Some("cfg-serve-token")), 200);
}

/// The status code of `GET /api/sessions`, with a bearer token if given.
fn status_of(base: &str, token: Option<&str>) -> u16 {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://").trim_end_matches('/');
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    write!(
        s,
        "GET /api/sessions HTTP/1.0\r\nHost: {addr}\r\n{auth}\r\n"
    )
    .unwrap();
    let mut res = String::new();
    s.read_to_string(&mut res).unwrap();
    res.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn a_bad_config_file_stops_rec_and_serve_with_its_path() {
    let home = Home::new();
    for (text, says) in [
        ("[server]\nulr = \"http://x\"\n", "ulr"),
        ("[serve]\nbind = \"not an address\"\n", "bind"),
        ("[redact\n", "config.toml"),
    ] {
        write_config(&home, text, 0o600);
        for args in [
            &["rec", "-c", "echo hi"][..],
            &["serve", "--bind", "127.0.0.1:0"],
        ] {
            let out = home.cmd(args).stdin(Stdio::null()).output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{args:?} {text:?}: {err}");
            assert!(
                err.contains("config.toml") && err.contains(says),
                "{args:?} {text:?}: {err}"
            );
        }
    }
    assert!(home.ids().is_empty(), "nothing was recorded");
}
