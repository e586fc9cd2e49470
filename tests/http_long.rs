//! The long form of the HTTP suite, with `FIXCAST_RELIABILITY=long` (it returns at
//! once otherwise): rounds of held connections, many slow clients at once, clients that
//! stop reading a 40 MB recording, thousands of normal and hostile requests; it prints
//! the figures (`http long: ...`) and checks the same bounds as the short form.
//!
//! `FIXCAST_RELIABILITY=long cargo test --test integration http_long -- --nocapture`

use std::collections::BTreeMap;
use std::io::Write;
use std::thread;
use std::time::{Duration, Instant};

use crate::http::{hold, outcomes, site};
use crate::http_util::*;

/// A slow client: the head it sends at once, and the bytes it then drips.
type Slow = (String, &'static [u8]);

fn say(line: String) {
    eprintln!("http long: {line}");
}

#[test]
fn long_form_figures() {
    if !long() {
        return;
    }
    let t0 = Instant::now();
    let s = site(None, 40);
    let (addr, p) = (s.addr, &s.proc);
    s.answers();
    let (fd0, rss0) = (p.fds(), p.rss_kib());
    say(format!("at start: {fd0} open files, {rss0} KiB resident"));

    // Rounds of 200 held connections.
    for round in 1..=5 {
        let mut held = hold(addr, 200);
        // Past the refused ones' last words (200 ms each).
        thread::sleep(Duration::from_millis(1000));
        let during = p.fds();
        let got = outcomes(&mut held);
        let refused = got.iter().filter(|o| **o == Some(429)).count();
        assert!(
            got.iter()
                .flatten()
                .all(|s| *s == 0 || (400..500).contains(s)),
            "{got:?}"
        );
        drop(held);
        let after = p.settle_fds(fd0, Duration::from_secs(10));
        say(format!(
            "round {round}: 200 held connections: {} open files while held, {refused} told 429, {after} open files after, {} KiB resident",
            during,
            p.rss_kib()
        ));
        assert!(during <= fd0 + 64 + 4 && after <= fd0, "{during} / {after}");
        s.answers();
    }

    // 64 slow header senders at once (the address's limit), then 32 slow edits and 32
    // slow uploads at once.
    let edit = format!(
        "PATCH /api/sessions/{} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n",
        s.id
    );
    let phases: [(&str, Vec<Slow>); 2] = [
        (
            "slow headers",
            (0..64)
                .map(|_| (format!("GET / HTTP/1.1\r\nHost: {addr}\r\n"), &b"X-Slow: 1\r\n"[..]))
                .collect(),
        ),
        (
            "slow edit and upload bodies",
            (0..64)
                .map(|i| {
                    if i % 2 == 0 {
                        (edit.clone(), &b"{"[..])
                    } else {
                        let id = fixcast_sessions::SessionId::generate();
                        let head = format!("POST /api/upload/{id}/append?offset=0 HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 4000000\r\n\r\n");
                        (head, &b"x"[..])
                    }
                })
                .collect(),
        ),
    ];
    for (what, clients) in phases {
        let threads: Vec<_> = clients
            .into_iter()
            .map(|(head, bytes)| {
                thread::spawn(move || {
                    let c =
                        std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5)).ok()?;
                    drip(c, head.as_bytes(), bytes, Duration::from_secs(40))
                })
            })
            .collect();
        let ends: Vec<Option<Ending>> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert!(
            ends.iter().all(Option::is_some),
            "{what}: clients held over 40 s"
        );
        let mut statuses = BTreeMap::new();
        for e in ends.iter().flatten() {
            *statuses.entry(e.status.unwrap_or(0)).or_insert(0) += 1;
        }
        let times = spread(ends.iter().flatten().map(|e| e.after).collect());
        say(format!(
            "{what}: cut off after {times}; answers {statuses:?} (0: closed without one)"
        ));
        assert!(
            statuses.keys().all(|s| *s == 0 || (400..500).contains(s)),
            "{statuses:?}"
        );
        say(format!(
            "after the {what}: {} open files",
            p.settle_fds(fd0, Duration::from_secs(10))
        ));
        s.answers();
    }

    // Clients that ask for the 40 MB recording and never read, three rounds (what the
    // allocator keeps from one round serves the next).
    for round in 1..=3 {
        let start = Instant::now();
        let stuck: Vec<_> = (0..16)
            .map(|_| {
                let mut c = connect(addr);
                write!(
                    c,
                    "GET /api/sessions/{}/cast HTTP/1.1\r\nHost: {addr}\r\n\r\n",
                    s.id
                )
                .unwrap();
                c
            })
            .collect();
        thread::sleep(Duration::from_secs(2));
        let during = p.fds();
        let after = p.settle_fds(fd0, Duration::from_secs(90));
        say(format!(
            "round {round}: 16 clients not reading a 40 MB cast: {during} open files while stuck, {after} after {:.0} s (the write-stall limit is 30 s); {} KiB resident",
            start.elapsed().as_secs_f64(),
            p.rss_kib()
        ));
        assert!(after <= fd0, "{after} open files after the stuck readers");
        drop(stuck);
    }
    let rss_mid = p.rss_kib();

    // Thousands of normal and hostile requests, one after another.
    let hostile: Vec<(String, Vec<u8>)> = vec![
        (format!("/api/sessions/{}", "%2e%2e%2f".repeat(20)), vec![]),
        ("/s/..%2F..%2Fetc%2Fpasswd".into(), vec![]),
        ("/assets/..%2Fsecret".into(), vec![]),
        (
            format!("/api/sessions/{}/segments/99999999999999999999", s.id),
            vec![],
        ),
        (format!("/api/sessions/{}/commands/-1", s.id), vec![]),
        ("/api/search?q=%28%28%28%28%28%28".into(), vec![]),
        (format!("/api/search?q={}", "a".repeat(5000)), vec![]),
        ("/api/sessions?limit=-1".into(), vec![]),
        (
            "/api/upload/ZZZZZZZZZZZZZZZZZZZZZZZZZZ/start".into(),
            b"{}".to_vec(),
        ),
        (format!("/api/sessions/{}", s.id), b"[]".to_vec()),
    ];
    let mut statuses = BTreeMap::new();
    let start = Instant::now();
    let n = 3000;
    for i in 0..n {
        let a = if i % 3 == 0 {
            get(addr, "/api/sessions")
        } else {
            let (path, body) = &hostile[i % hostile.len()];
            let method = if body.is_empty() {
                "GET"
            } else if path.contains("upload") {
                "POST"
            } else {
                "PATCH"
            };
            request(
                addr,
                method,
                path,
                &[("Content-Type", "application/json")],
                body,
            )
        };
        *statuses.entry(a.status).or_insert(0) += 1;
        assert!(a.status < 500, "{a:?}");
    }
    let secs = start.elapsed().as_secs_f64();
    say(format!(
        "{n} requests (a third normal) in {secs:.1} s ({:.0}/s): statuses {statuses:?}",
        n as f64 / secs
    ));
    let (fd1, rss1) = (p.settle_fds(fd0, Duration::from_secs(10)), p.rss_kib());
    say(format!(
        "at the end: {fd1} open files ({fd0} at start), {rss1} KiB resident ({rss0} at start); {:.0} s in all",
        t0.elapsed().as_secs_f64()
    ));
    assert!(fd1 <= fd0);
    // The allocator keeps what the stuck readers took (about 3.5 MB each, in the arenas
    // of the threads that served them), and the search index is open now: bounded, not
    // growing with the rounds.
    say(format!(
        "resident after the stuck readers {rss_mid} KiB, at the end {rss1} KiB"
    ));
    assert!(
        rss1.saturating_sub(rss0) < 160 * 1024,
        "RSS grew {rss0} -> {rss1} KiB"
    );
    s.answers();
}
