//! The kill suite, index side (see RELIABILITY.md): `fixcast reindex` and `fixcast
//! serve` are SIGKILLed at a random moment while they index. Afterwards a search finds
//! every session's command, a `reindex` completes and agrees, and every session still
//! reads. The recorder side is in `kill.rs`.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::reliability::{cli_search, figures, http_get, trials, Rng, Server};
use crate::util::{exit_within, Home};

/// A home of `n` recorded sessions, each with a command found by its own token and
/// enough output that indexing them all takes a few seconds.
fn home_with_sessions(n: usize) -> (Home, Vec<(String, String)>) {
    let home = Home::new();
    let mut sessions = Vec::new();
    for i in 0..n {
        let token = format!("idxtok{i:03}");
        let mut child = home
            .cmd(&["rec", "-c", &format!("echo {token}; seq 1 150000")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let status = exit_within(&mut child, Duration::from_secs(120)).expect("rec exits");
        assert!(status.success(), "rec {token}: {status}");
        let id = home.ids().pop().unwrap();
        sessions.push((token, id));
    }
    (home, sessions)
}

/// How long a full `reindex` of the home takes (the span a kill is drawn from).
fn time_reindex(home: &Home) -> Duration {
    let start = Instant::now();
    home.ok(&["reindex"]);
    start.elapsed()
}

/// What is wrong with the index now: a session whose token does not find it alone.
fn search_problems(home: &Home, sessions: &[(String, String)], when: &str) -> Vec<String> {
    sessions
        .iter()
        .filter_map(|(token, id)| {
            let hits = cli_search(home, token);
            (hits != [id.clone()]).then(|| format!("{when}: search {token} finds {hits:?}"))
        })
        .collect()
}

/// After a kill: search agrees with the sessions, a full reindex succeeds and agrees too,
/// and every session still reads.
fn check_consistent(home: &Home, sessions: &[(String, String)], ctx: &str) -> Vec<String> {
    let mut problems = search_problems(home, sessions, &format!("{ctx}, after the kill"));
    let out = home.run(&["reindex"]);
    if !out.status.success() {
        problems.push(format!(
            "{ctx}: reindex fails: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    problems.extend(search_problems(
        home,
        sessions,
        &format!("{ctx}, after reindex"),
    ));
    for (_, id) in sessions {
        if !home.run(&["show", id, "--commands"]).status.success() {
            problems.push(format!("{ctx}: show {id} --commands fails"));
        }
    }
    problems
}

/// Index folders left behind by a killed rebuild (`index.new-PID`).
fn leftovers(home: &Home) -> usize {
    std::fs::read_dir(home.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("index."))
        .count()
}

/// How a trial makes the indexer work: a rebuild from nothing, or catching up with
/// sessions that all changed (their metadata touched).
#[derive(Debug, Clone, Copy)]
enum Start {
    NoIndex,
    AllChanged,
}

fn prepare(home: &Home, sessions: &[(String, String)], start: Start) {
    match start {
        Start::NoIndex => {
            let _ = std::fs::remove_dir_all(home.path().join("index"));
        }
        Start::AllChanged => {
            for (_, id) in sessions {
                let meta = home.path().join("sessions").join(id).join("meta.json");
                let f = std::fs::File::options().append(true).open(&meta).unwrap();
                f.set_modified(std::time::SystemTime::now()).unwrap();
            }
        }
    }
}

#[test]
fn sigkill_of_reindex_mid_index_leaves_a_consistent_index() {
    let (home, sessions) = home_with_sessions(trials(4, 10));
    let mut rng = Rng::new("kill/reindex");
    let full = time_reindex(&home);
    let mut problems = Vec::new();
    let (mut mid, mut consistent, n) = (0, 0, trials(2, 20));
    for i in 0..n {
        let start = if i % 2 == 0 {
            Start::NoIndex
        } else {
            Start::AllChanged
        };
        prepare(&home, &sessions, start);
        let mut child = home
            .cmd(&["reindex"])
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(rng.between(Duration::ZERO, full));
        if child.try_wait().unwrap().is_none() {
            mid += 1;
        }
        let _ = child.kill();
        child.wait().unwrap();
        let found = check_consistent(&home, &sessions, &format!("trial {i} {start:?}"));
        consistent += usize::from(found.is_empty());
        problems.extend(found);
    }
    figures(
        "kill/reindex",
        &[format!(
            "sessions={} full_reindex={:.2}s trials={n} killed_mid_index={mid} consistent={} leftover_index_dirs={}",
            sessions.len(),
            full.as_secs_f64(),
            consistent,
            leftovers(&home)
        )],
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn sigkill_of_serve_mid_index_leaves_a_consistent_index() {
    let (home, sessions) = home_with_sessions(trials(4, 10));
    let mut rng = Rng::new("kill/serve");
    let full = time_reindex(&home);
    let mut problems = Vec::new();
    let (mut mid, mut consistent, n) = (0, 0, trials(2, 20));
    for i in 0..n {
        let start = if i % 2 == 0 {
            Start::NoIndex
        } else {
            Start::AllChanged
        };
        prepare(&home, &sessions, start);
        let stderr = home.path().join(format!("serve-{i}.err"));
        let server = Server::start(&home, &stderr);
        // The first search makes the server index (rebuild or catch up) before answering.
        let (addr, token) = (server.addr, sessions[0].0.clone());
        let search = std::thread::spawn(move || {
            http_get(
                addr,
                &format!("/api/search?q={token}"),
                Duration::from_secs(120),
            )
        });
        std::thread::sleep(rng.between(Duration::ZERO, full));
        if !search.is_finished() {
            mid += 1;
        }
        drop(server); // SIGKILL
        if let Ok(Ok((status, body))) = search.join() {
            if status >= 500 {
                problems.push(format!("trial {i}: search answered {status}: {body}"));
            }
        }
        let found = check_consistent(&home, &sessions, &format!("trial {i} {start:?}"));
        consistent += usize::from(found.is_empty());
        problems.extend(found);
    }
    figures(
        "kill/serve",
        &[format!(
            "sessions={} full_reindex={:.2}s trials={n} killed_mid_index={mid} consistent={} leftover_index_dirs={}",
            sessions.len(),
            full.as_secs_f64(),
            consistent,
            leftovers(&home)
        )],
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
