//! The concurrency suite (see RELIABILITY.md): 20 recorders (`fixcast rec -c` with real
//! bash, each printing its own text over a few seconds) into one home, while `fixcast
//! serve` indexes and clients search it over HTTP. Every recording completes and is found
//! by its text, by the CLI and by `/api/search`; the server stays up, answers no 5xx,
//! and nobody prints an error.

use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::reliability::{
    cli_search, error_lines, figures, http_get, trials, wait_until, Rng, Server,
};
use crate::util::{exit_within, Home};

const RECORDERS: usize = 20;

/// Recorder `k`'s command in round `r`: its token in the command line, and a word only
/// its output has (`cxo0x07q`, made by printf), over about three seconds.
fn script(r: usize, k: usize) -> String {
    format!(
        "for i in $(seq 1 12); do printf 'cxo{r}x%02dq line %d\\n' {k} $i; sleep 0.25; done; echo conctok{r}x{k:02} done"
    )
}

/// What the HTTP clients saw.
#[derive(Default)]
struct Http {
    requests: usize,
    server_errors: Vec<String>,
    failures: Vec<String>,
    slowest: Duration,
    /// Times the server process was found gone.
    dead: usize,
}

/// Searches the server over and over until `stop`, for a random recorder's token.
fn client(
    addr: std::net::SocketAddr,
    r: usize,
    seed: u64,
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Http>>,
) {
    let mut rng = Rng::quiet(seed);
    while !stop.load(Ordering::Relaxed) {
        let k = rng.next() as usize % RECORDERS;
        let path = match rng.next() % 3 {
            0 => format!("/api/search?q=cxo{r}x{k:02}q"),
            1 => format!("/api/search?q=conctok{r}x{k:02}"),
            _ => "/api/sessions".to_owned(),
        };
        let start = Instant::now();
        let res = http_get(addr, &path, Duration::from_secs(60));
        let took = start.elapsed();
        let mut s = seen.lock().unwrap();
        s.requests += 1;
        s.slowest = s.slowest.max(took);
        match res {
            Ok((status, body)) if status >= 500 => {
                s.server_errors.push(format!("{path}: {status} {body}"))
            }
            Ok((200, _)) => {}
            Ok((status, body)) => s.failures.push(format!("{path}: {status} {body}")),
            Err(e) => s.failures.push(format!("{path}: {e}")),
        }
        drop(s);
        std::thread::sleep(Duration::from_millis(rng.next() % 100));
    }
}

/// One round: the recorders start together while the server runs and clients search.
fn round(
    home: &Home,
    server: &mut Server,
    r: usize,
    seed: u64,
    http: &Arc<Mutex<Http>>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..3)
        .map(|c| {
            let (stop, seen, addr) = (stop.clone(), http.clone(), server.addr);
            std::thread::spawn(move || client(addr, r, seed + c, stop, seen))
        })
        .collect();
    let recorders: Vec<(usize, Child)> = (0..RECORDERS)
        .map(|k| {
            let child = home
                .cmd(&["rec", "-c", &script(r, k)])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            (k, child)
        })
        .collect();
    for (k, mut child) in recorders {
        let mut stderr = child.stderr.take().unwrap();
        let status = exit_within(&mut child, Duration::from_secs(180));
        let mut err = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut err).unwrap();
        match status {
            Some(s) if s.success() => {}
            other => problems.push(format!("recorder {k}: {other:?}: {err}")),
        }
        for l in error_lines(&err) {
            problems.push(format!("recorder {k} said: {l}"));
        }
        if !server.alive() {
            http.lock().unwrap().dead += 1;
        }
    }
    // Each recorder's session, by its command (two sessions started in the same
    // millisecond share the short id rec prints).
    let ls: serde_json::Value = serde_json::from_str(&home.ok(&["ls", "--json"])).unwrap();
    let mut ids = vec![String::new(); RECORDERS];
    for (k, id) in ids.iter_mut().enumerate() {
        let mine: Vec<&serde_json::Value> = ls
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["command"] == script(r, k).as_str())
            .collect();
        match mine.as_slice() {
            [s] if s["status"] == "complete" => *id = s["id"].as_str().unwrap().to_owned(),
            [s] => problems.push(format!("recorder {k}: {} is {}", s["id"], s["status"])),
            other => problems.push(format!("recorder {k}: {} sessions", other.len())),
        }
    }
    // Found by the server (which catches up with the store by itself), then by the CLI.
    for (k, id) in ids.iter().enumerate().filter(|(_, id)| !id.is_empty()) {
        for word in [format!("conctok{r}x{k:02}"), format!("cxo{r}x{k:02}q")] {
            let found_by_api = wait_until(Duration::from_secs(60), || {
                matches!(
                    http_get(server.addr, &format!("/api/search?q={word}"), Duration::from_secs(60)),
                    Ok((200, body)) if body.contains(id.as_str())
                )
            });
            if !found_by_api {
                problems.push(format!("/api/search?q={word} does not find {id}"));
            }
            let hits = cli_search(home, &word);
            if hits != [id.clone()] {
                problems.push(format!("search {word} finds {hits:?}, not {id}"));
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    if !server.alive() {
        http.lock().unwrap().dead += 1;
    }
    problems
}

#[test]
fn twenty_recorders_while_serve_indexes_and_clients_search() {
    let home = Home::new();
    let mut server = Server::start(&home, &home.path().join("serve.err"));
    let http = Arc::new(Mutex::new(Http::default()));
    let mut rng = Rng::new("concurrency");
    let rounds = trials(1, 5);
    let mut problems = Vec::new();
    let start = Instant::now();
    for r in 0..rounds {
        problems.extend(
            round(&home, &mut server, r, rng.next(), &http)
                .into_iter()
                .map(|p| format!("round {r}: {p}")),
        );
    }
    let alive = server.alive();
    let server_err = server.stderr();
    let stopped = server.stop();
    let h = http.lock().unwrap();
    figures(
        "concurrency",
        &[format!(
            "rounds={rounds} recorders={} problems={} http_requests={} http_5xx={} http_other_failures={} slowest_request={:.2}s server_alive={} server_error_lines={} took={:.1}s",
            rounds * RECORDERS,
            problems.len(),
            h.requests,
            h.server_errors.len(),
            h.failures.len(),
            h.slowest.as_secs_f64(),
            alive && h.dead == 0,
            error_lines(&server_err).len(),
            start.elapsed().as_secs_f64()
        )],
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(h.server_errors.is_empty(), "5xx: {:?}", h.server_errors);
    assert!(h.failures.is_empty(), "failed requests: {:?}", h.failures);
    assert!(alive && h.dead == 0, "the server died: {server_err}");
    assert!(h.requests > 0, "the clients searched");
    assert_eq!(
        error_lines(&server_err),
        Vec::<String>::new(),
        "server stderr"
    );
    assert!(stopped.is_some_and(|s| s.success()), "serve stops cleanly");
}
