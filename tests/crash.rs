//! A recorder killed with SIGKILL loses at most about a second, and `ls` says so.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::util::{have, Home};

#[test]
fn sigkill_keeps_everything_up_to_about_a_second_before() {
    let home = Home::new();
    let mut child = home
        .cmd(&[
            "rec",
            "-c",
            "for i in $(seq 1 1000); do echo line$i; sleep 0.05; done",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, seen) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx
                .send((Instant::now(), line.trim_end().to_owned()))
                .is_err()
            {
                break;
            }
        }
    });
    std::thread::sleep(Duration::from_millis(3000));
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    let killed = Instant::now();
    child.wait().unwrap();
    let printed: Vec<(Instant, String)> = seen.try_iter().collect();
    let must_have: Vec<&String> = printed
        .iter()
        .filter(|(t, _)| *t + Duration::from_millis(1100) < killed)
        .map(|(_, l)| l)
        .collect();
    assert!(must_have.len() >= 20, "the command printed: {printed:?}");

    let id = home.ids().remove(0);
    let ls: serde_json::Value = serde_json::from_str(&home.ok(&["ls", "--json"])).unwrap();
    assert_eq!(
        ls[0]["status"], "interrupted",
        "a dead recorder's session is repaired"
    );
    assert!(ls[0]["duration"].as_f64().unwrap() >= 1.5);

    let raw = home.run(&["export", &id, "--format", "raw"]);
    assert!(raw.status.success());
    let text = String::from_utf8_lossy(&raw.stdout);
    let recorded: Vec<&str> = text.lines().map(|l| l.trim_end()).collect();
    for line in &must_have {
        assert!(
            recorded.contains(&line.as_str()),
            "{line} was printed >1 s before the kill but is lost"
        );
    }
    // The lines come in order, with no gaps.
    for (i, l) in recorded
        .iter()
        .filter(|l| l.starts_with("line"))
        .enumerate()
    {
        assert_eq!(*l, format!("line{}", i + 1));
    }

    if have("zstd") {
        // What the zstd CLI decodes of the cut file: the output events, joined (a line
        // may straddle two reads of the terminal, so two events).
        let out = home.zstd_dc(&id);
        let output: String = String::from_utf8_lossy(&out.stdout)
            .lines()
            .skip(1)
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|ev| ev[1] == "o")
            .map(|ev| ev[2].as_str().unwrap_or_default().to_owned())
            .collect();
        let lines: Vec<&str> = output.lines().map(str::trim_end).collect();
        for line in &must_have {
            assert!(lines.contains(&line.as_str()), "zstd -dc shows {line}");
        }
    }
}
