//! A home whose disk fills up, or that is read-only: reading never needs free space.
//! Each test mounts a small tmpfs of its own (`mount -t tmpfs -o size=…`), fills it or
//! remounts it read-only, and unmounts it when done; where mounting is not allowed (not
//! root), it says so and skips.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::Home;
use crate::web::Server;

/// A tmpfs mounted by the test, unmounted when dropped (read-write again first, so
/// nothing in it is left busy).
pub struct Tmpfs {
    dir: tempfile::TempDir,
    filler: PathBuf,
}

fn mount(args: &[&str]) -> Result<(), String> {
    let out = Command::new("mount")
        .args(args)
        .output()
        .map_err(|e| format!("mount: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

impl Tmpfs {
    /// A tmpfs of `size` (`16m`), or `None` (with the reason printed) where this
    /// process may not mount.
    pub fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::Builder::new()
            .prefix("fixcast-tmpfs")
            .tempdir()
            .unwrap();
        let at = dir.path().display().to_string();
        if let Err(e) = mount(&["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs", &at]) {
            eprintln!("skipped: cannot mount a tmpfs here (needs root): {e}");
            return None;
        }
        let filler = dir.path().join("filler");
        Some(Tmpfs { dir, filler })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills the file system to the last byte.
    pub fn fill(&self) {
        let mut f = File::options()
            .create(true)
            .append(true)
            .open(&self.filler)
            .unwrap();
        for chunk in [1 << 20, 4096, 1] {
            let block = vec![0x5au8; chunk];
            while f.write_all(&block).is_ok() {}
        }
        let _ = f.sync_all();
    }

    /// Fills the file system but for about `free` bytes.
    pub fn fill_leaving(&self, free: u64) {
        let _ = std::fs::remove_file(&self.filler);
        let st = nix::sys::statvfs::statvfs(self.path()).unwrap();
        let avail = st.blocks_available() as u64 * st.fragment_size() as u64;
        let f = File::create(&self.filler).unwrap();
        let mut left = avail.saturating_sub(free);
        let block = vec![0x5au8; 1 << 20];
        let mut f = std::io::BufWriter::new(f);
        while left > 0 {
            let n = left.min(block.len() as u64) as usize;
            if f.write_all(&block[..n]).is_err() {
                break;
            }
            left -= n as u64;
        }
        let _ = f.flush();
    }

    /// Gives the space back.
    pub fn free(&self) {
        let _ = std::fs::remove_file(&self.filler);
    }

    pub fn read_only(&self, ro: bool) {
        let opt = if ro { "remount,ro" } else { "remount,rw" };
        mount(&["-o", opt, &self.path().display().to_string()]).unwrap();
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let at = self.path().display().to_string();
        let _ = mount(&["-o", "remount,rw", &at]);
        let ok = Command::new("umount").arg(&at).status();
        if !ok.is_ok_and(|s| s.success()) {
            let _ = Command::new("umount").args(["-l", &at]).status();
        }
    }
}

/// A folder bind-mounted read-only onto itself, until dropped.
pub struct ReadOnlyBind(PathBuf);

impl ReadOnlyBind {
    pub fn new(dir: &Path) -> ReadOnlyBind {
        let at = dir.display().to_string();
        mount(&["--bind", &at, &at]).unwrap();
        let bind = ReadOnlyBind(dir.to_owned());
        mount(&["-o", "remount,bind,ro", &at]).unwrap();
        bind
    }
}

impl Drop for ReadOnlyBind {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// A home on its own tmpfs. The home goes before the file system it is on.
pub struct SmallHome {
    pub home: Home,
    pub fs: Tmpfs,
}

impl SmallHome {
    pub fn new(size: &str) -> Option<SmallHome> {
        let fs = Tmpfs::mount(size)?;
        let home = Home::inside(fs.path());
        Some(SmallHome { home, fs })
    }
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// What no command may print, however its disk or index is broken.
pub fn assert_composed(what: &str, err: &str) {
    // A damaged recording is told as such; the index never is, for want of room.
    for bad in ["panicked", "RUST_BACKTRACE", "index is damaged"] {
        assert!(!err.contains(bad), "{what}: {bad:?} in\n{err}");
    }
    for line in err.lines() {
        for cause in ["(os error", "line 1 column"] {
            assert!(
                line.matches(cause).count() <= 1,
                "{what}: a cause told twice: {line}"
            );
        }
    }
}

/// `search --json QUERY`: exit code, hits, stderr.
pub fn search(home: &Home, query: &str) -> (i32, Vec<Value>, String) {
    let out = home.run(&["search", "--json", "--limit", "50", "--", query]);
    let hits = serde_json::from_slice::<Value>(&out.stdout)
        .ok()
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default();
    (out.status.code().unwrap_or(-1), hits, text(&out.stderr))
}

/// A search that must find `command` first, and say nothing untoward.
pub fn finds(home: &Home, query: &str, command: &str) -> String {
    let (code, hits, err) = search(home, query);
    assert_eq!(code, 0, "search {query}: {err}");
    assert_eq!(hits[0]["command"], command, "search {query}: {err}");
    assert_composed(&format!("search {query}"), &err);
    err
}

/// `GET path`: the status and the body.
pub fn get(base: &str, path: &str) -> (u16, String) {
    let addr = base.trim_start_matches("http://").trim_end_matches('/');
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut res = Vec::new();
    s.read_to_end(&mut res).unwrap();
    let res = text(&res);
    let status = res
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = res.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_owned();
    (status, body)
}

/// `/api/search?q=…` answers 200 with `command` among the hits.
fn api_finds(server: &Server, q: &str, command: &str) {
    let (status, body) = get(&server.url, &format!("/api/search?q={q}"));
    assert_eq!(status, 200, "/api/search?q={q}: {body}");
    assert!(body.contains(command), "/api/search?q={q}: {body}");
}

fn rec(home: &Home, command: &str) -> Output {
    home.cmd(&["rec", "-c", command])
        .stdout(Stdio::null())
        .output()
        .unwrap()
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The session of `ls --json` with this id.
fn listed(home: &Home, id: &str) -> Option<Value> {
    let v: Value = serde_json::from_str(&home.ok(&["ls", "--json"])).unwrap();
    v.as_array()?.iter().find(|s| s["id"] == id).cloned()
}

#[test]
fn a_home_that_fills_mid_session_keeps_the_shells_status_and_what_was_written() {
    let Some(small) = SmallHome::new("16m") else {
        return;
    };
    let (home, fs) = (&small.home, &small.fs);
    assert!(rec(home, "echo apple-before-full").status.success());
    // A session that cannot be read: reindex warns about it (once).
    assert!(rec(home, "echo unreadable").status.success());
    let junk = home.ids()[1].clone();
    std::fs::write(home.cast_path(&junk), b"not zstd at all").unwrap();
    finds(home, "apple-before-full", "echo apple-before-full");

    let outside = tempfile::tempdir().unwrap();
    let go = outside.path().join("go");
    let script = format!(
        "echo banana-start; while [ ! -e {} ]; do sleep 0.05; done; head -c 400000 /dev/urandom | base64; echo cherry-end; exit 7",
        go.display()
    );
    let child = home
        .cmd(&["rec", "-c", &script])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let sessions = home.path().join("sessions");
    let mut id = String::new();
    wait_for("the third session", Duration::from_secs(20), || {
        let ids: Vec<String> = std::fs::read_dir(&sessions)
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        if ids.len() < 3 {
            return false;
        }
        id = ids.into_iter().max().unwrap();
        // Its output, not the header's copy of the command line.
        text(&home.zstd_dc(&id).stdout).contains("\"banana-start\\r\\n")
    });
    fs.fill();
    File::create(&go).unwrap();
    let out = child.wait_with_output().unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "the shell's status: {err}");
    assert!(err.contains("warning"), "{err}");
    assert_composed("rec", &err);

    // Readable while the disk is still full: listed, shown, exported, searched.
    let s = listed(home, &id).unwrap_or_else(|| panic!("ls lists {id}"));
    assert_eq!(s["status"], "interrupted");
    let show = home.run(&["show", &id]);
    assert!(show.status.success(), "{}", text(&show.stderr));
    let export = home.run(&["export", &id, "-f", "txt"]);
    assert!(export.status.success(), "{}", text(&export.stderr));
    assert!(text(&export.stdout).contains("banana-start"));
    let err = finds(home, "apple-before-full", "echo apple-before-full");
    assert!(err.contains("could not be brought up to date"), "{err}");
    // That warning once; the session whose recording the disk cut short is told too.
    let stale = err
        .lines()
        .filter(|l| l.contains("could not be brought up to date"));
    assert_eq!(stale.count(), 1, "one warning: {err}");
    assert!(
        err.lines()
            .all(|l| l.contains("could not be brought up to date")
                || l.contains("recording is damaged, using what could be read")),
        "{err}"
    );

    let out = home.run(&["reindex"]);
    let err = text(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert_composed("reindex", &err);
    assert!(err.contains(&junk), "{err}");
    for line in err.lines() {
        assert_eq!(err.matches(line).count(), 1, "told twice: {line}");
    }
    finds(home, "apple-before-full", "echo apple-before-full");

    {
        let server = Server::start(home.path(), None);
        api_finds(&server, "apple-before-full", "echo apple-before-full");
        // And on a read-only remount of the full disk.
        fs.read_only(true);
        finds(home, "apple-before-full", "echo apple-before-full");
        api_finds(&server, "apple-before-full", "echo apple-before-full");
        let out = home.run(&["reindex"]);
        assert!(!out.status.success());
        assert_composed("reindex", &text(&out.stderr));
        fs.read_only(false);
    }

    // Space is back: the index catches up with what it missed, quietly.
    fs.free();
    let (code, hits, err) = search(home, "banana-start");
    assert_eq!(code, 0, "{err}");
    assert_eq!(hits[0]["session"], id.as_str(), "{err}");
    assert!(!err.contains("warning"), "{err}");
    finds(home, "apple-before-full", "echo apple-before-full");
}

#[test]
fn a_read_only_home_is_searched_as_it_is() {
    let Some(small) = SmallHome::new("16m") else {
        return;
    };
    let (home, fs) = (&small.home, &small.fs);
    assert!(rec(home, "echo plum-one").status.success());
    assert!(rec(home, "echo quince-two").status.success());
    finds(home, "plum-one", "echo plum-one");
    // A recorder that died: its session still says `recording`.
    let id = home.ids()[1].clone();
    let meta = home.path().join("sessions").join(&id).join("meta.json");
    let mut m: Value = serde_json::from_slice(&std::fs::read(&meta).unwrap()).unwrap();
    m["status"] = "recording".into();
    std::fs::write(&meta, m.to_string()).unwrap();

    fs.read_only(true);
    let err = finds(home, "plum-one", "echo plum-one");
    assert!(err.contains("could not be brought up to date"), "{err}");
    assert_eq!(err.lines().count(), 1, "one warning: {err}");
    assert_eq!(listed(home, &id).unwrap()["status"], "interrupted");
    let show = home.run(&["show", &id]);
    assert!(show.status.success(), "{}", text(&show.stderr));
    let out = home.run(&["reindex"]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("Read-only file system"), "{err}");
    assert_composed("reindex", &err);
    {
        let server = Server::start(home.path(), None);
        api_finds(&server, "plum-one", "echo plum-one");
        api_finds(&server, "quince-two", "echo quince-two");
    }

    // No index at all, and no way to build one on disk: the sessions are still searched.
    fs.read_only(false);
    std::fs::remove_dir_all(home.path().join("index")).unwrap();
    fs.read_only(true);
    finds(home, "quince-two", "echo quince-two");
    {
        let server = Server::start(home.path(), None);
        api_finds(&server, "quince-two", "echo quince-two");
    }
    fs.read_only(false);
}

#[test]
fn a_read_only_index_folder_is_searched_and_catches_up_later() {
    let Some(small) = SmallHome::new("16m") else {
        return;
    };
    let home = &small.home;
    assert!(rec(home, "echo fig-first").status.success());
    finds(home, "fig-first", "echo fig-first");
    let index = home.path().join("index");
    {
        let _ro = ReadOnlyBind::new(&index);
        let out = rec(home, "echo grape-later");
        assert!(out.status.success());
        assert_composed("rec", &text(&out.stderr));
        let err = finds(home, "fig-first", "echo fig-first");
        assert!(err.contains("could not be brought up to date"), "{err}");
        let (code, _, err) = search(home, "grape-later");
        assert_eq!(code, 1, "not in the index yet: {err}");
        assert_composed("search", &err);
    }
    let err = finds(home, "grape-later", "echo grape-later");
    assert!(!err.contains("warning"), "{err}");
}

#[test]
fn errors_tell_each_cause_once() {
    let home = Home::new();
    assert!(rec(&home, "echo one").status.success());
    let id = home.ids()[0].clone();
    std::fs::write(
        home.path().join("sessions").join(&id).join("meta.json"),
        "{bad",
    )
    .unwrap();
    let out = home.run(&["show", &id]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("bad metadata: key must be a string"), "{err}");
    assert_composed("show", &err);
    let out = home.run(&["ls"]);
    let err = text(&out.stderr);
    assert!(err.contains("bad metadata: key must be a string"), "{err}");
    assert_composed("ls", &err);
}

/// The disk filled to many levels, each time: a recording through it, search, reindex,
/// the server's search, then recovery. `FIXCAST_RELIABILITY=long`; prints its figures.
#[test]
fn disk_full_at_every_level_long() {
    if std::env::var("FIXCAST_RELIABILITY").as_deref() != Ok("long") {
        eprintln!("skipped: set FIXCAST_RELIABILITY=long for the long form");
        return;
    }
    let Some(small) = SmallHome::new("24m") else {
        return;
    };
    let (home, fs) = (&small.home, &small.fs);
    assert!(rec(home, "echo base-session").status.success());
    finds(home, "base-session", "echo base-session");
    let levels: [u64; 9] = [
        0,
        512,
        4 << 10,
        16 << 10,
        64 << 10,
        128 << 10,
        256 << 10,
        1 << 20,
        4 << 20,
    ];
    let rounds: usize = std::env::var("FIXCAST_RELIABILITY_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for round in 0..rounds {
        for &free in &levels {
            let tag = format!("level-{round}-{free}");
            fs.fill_leaving(free);
            let start = Instant::now();
            let out = rec(
                home,
                &format!("echo {tag}; head -c 300000 /dev/urandom | base64; exit 3"),
            );
            let rec_ms = start.elapsed().as_millis();
            let err = text(&out.stderr);
            // No room for even the session's first file: refused, and nothing left.
            let refused = out.status.code() == Some(1) && err.contains("cannot create the session");
            if out.status.code() != Some(3) && !refused {
                problems.push(format!("{tag}: rec exited {:?}: {err}", out.status));
            }
            let left: Vec<_> = std::fs::read_dir(home.path().join("sessions"))
                .unwrap()
                .filter_map(|e| e.ok())
                .filter(|e| !e.path().join("meta.json").exists())
                .collect();
            if !left.is_empty() {
                problems.push(format!("{tag}: folders without metadata left: {left:?}"));
            }
            let rec_warned = err.contains("warning");
            let start = Instant::now();
            let (code, hits, err) = search(home, "base-session");
            let search_ms = start.elapsed().as_millis();
            if code != 0 || hits.is_empty() || err.contains("damaged") || err.contains("panicked") {
                problems.push(format!("{tag}: search gave {code}: {err}"));
            }
            let r = home.run(&["reindex"]);
            let reindex = if r.status.success() {
                "rebuilt"
            } else {
                "refused"
            };
            let rerr = text(&r.stderr);
            if rerr.contains("damaged") || rerr.contains("panicked") {
                problems.push(format!("{tag}: reindex: {rerr}"));
            }
            let listed = home.ids().len();
            fs.free();
            let (code, hits, err) = search(home, &tag);
            let recovered = code == 0 && !hits.is_empty();
            if !recovered && !refused {
                problems.push(format!("{tag}: not found once space was back: {err}"));
            }
            rows.push(format!(
                "{free:>8} B free: rec {} in {rec_ms} ms (warned: {rec_warned}), search {search_ms} ms, reindex {reindex}, {listed} sessions listed, found after recovery: {recovered}",
                if refused { "refused to start".to_owned() } else { format!("exit {:?}", out.status.code()) }
            ));
        }
    }
    eprintln!("disk full, long: {} runs", rows.len());
    for r in &rows {
        eprintln!("  {r}");
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Takes `chattr +i` off a file when dropped (an immutable file outlives its temp dir).
struct Immutable(PathBuf);

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(&self.0).output();
    }
}

#[test]
fn reindex_tells_each_warning_once() {
    if !crate::util::have("chattr") {
        return;
    }
    let home = Home::new();
    assert!(rec(&home, "echo kiwi-one").status.success());
    assert!(rec(&home, "echo unreadable").status.success());
    let junk = home.ids()[1].clone();
    std::fs::write(home.cast_path(&junk), b"not zstd at all").unwrap();
    finds(&home, "kiwi-one", "echo kiwi-one");
    // The index's meta.json cannot be replaced: the rebuild in place fails at its
    // commit, after every session was read, and a new index is built beside it.
    let meta = home.path().join("index/meta.json");
    let made = Command::new("chattr")
        .arg("+i")
        .arg(&meta)
        .output()
        .unwrap();
    if !made.status.success() {
        eprintln!("skipped: chattr +i does not work on this file system");
        return;
    }
    let _undo = Immutable(meta);
    let out = home.run(&["reindex"]);
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert_composed("reindex", &err);
    let told = err.lines().filter(|l| l.contains(junk.as_str())).count();
    assert_eq!(told, 1, "the unreadable session, once: {err}");
    for line in err.lines().filter(|l| l.contains("warning")) {
        assert_eq!(err.matches(line).count(), 1, "told twice: {line}\n{err}");
    }
    finds(&home, "kiwi-one", "echo kiwi-one");
}
