//! The kill suite, recorder side (see RELIABILITY.md): `fixcast rec` is SIGKILLed at a
//! random moment of slow output, of a flood, and before its first flush. Afterwards its
//! session is listed by `ls` as `interrupted`, `show --commands` and `export --format txt`
//! read it, at most about a second of output is lost, and search finds what it kept
//! (and agrees after a `reindex`). The index side is in `kill_index.rs`.

use std::io::{BufRead, BufReader, Read};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::reliability::{cli_search, epoch_now, figures, trials, Rng};
use crate::util::Home;

/// The most output a killed recorder may lose, in seconds of recording: it flushes every
/// second, and output takes a moment to go from the program through the recorder to the
/// writer (longer on a loaded machine).
pub const LOSS_LIMIT: f64 = 1.25;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Scenario {
    /// A line every 50 ms.
    Slow,
    /// Lines as fast as bash prints them, 1000 at a time.
    Flood,
    /// Killed within a second of starting: before the first flush.
    Early,
}

/// What the program prints: lines `TOKEN SEQ TIME`, TIME when it printed them ($EPOCHREALTIME).
fn script(s: Scenario, token: &str) -> String {
    match s {
        Scenario::Slow => format!(
            "for i in $(seq 1 100000); do echo \"{token} $i $EPOCHREALTIME\"; sleep 0.05; done"
        ),
        Scenario::Flood => format!(
            "n=0; while :; do n=$((n+1)); printf \"{token} $n.%d $EPOCHREALTIME\\n\" {{1..1000}}; done"
        ),
        Scenario::Early => format!(
            "i=0; while :; do i=$((i+1)); echo \"{token} $i $EPOCHREALTIME\"; sleep 0.02; done"
        ),
    }
}

/// One recorder, killed.
struct Trial {
    scenario: Scenario,
    token: String,
    /// Its session (none if it was killed before creating one).
    id: Option<String>,
    /// When it was killed (epoch seconds).
    killed: f64,
    /// When the program printed its first line, if it did (epoch seconds).
    first_printed: Option<f64>,
    stderr: String,
}

/// A line `TOKEN SEQ TIME` of `token`'s program: (batch, line in batch) and TIME.
fn parse_line(line: &str, token: &str) -> Option<((u64, u64), f64)> {
    let mut f = line.trim_end().split(' ');
    if f.next()? != token {
        return None;
    }
    let seq = f.next()?;
    let (a, b) = seq.split_once('.').unwrap_or((seq, "0"));
    let time = f.next()?;
    // A cut-off time ("17330431") would parse: only whole ones count.
    let (_, micros) = time.split_once('.')?;
    if micros.len() != 6 || f.next().is_some() {
        return None;
    }
    Some(((a.parse().ok()?, b.parse().ok()?), time.parse().ok()?))
}

fn run_trial(home: &Home, scenario: Scenario, token: &str, rng: &mut Rng) -> Trial {
    let before = home.ids();
    let spawned = Instant::now();
    let mut child = home
        .cmd(&["rec", "-c", &script(scenario, token)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    // The first line, then the rest is drained (a flood must not wait on this test).
    let (tx, first_line) = mpsc::channel();
    std::thread::spawn(move || {
        let mut r = BufReader::new(stdout);
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) > 0 {
            let _ = tx.send(line);
        }
        let _ = std::io::copy(&mut r, &mut std::io::sink());
    });
    let mut first = None;
    let mut await_first = || {
        let line = first_line
            .recv_timeout(Duration::from_secs(60))
            .expect("the recorded program printed nothing in 60 s");
        first = Some(line);
        Instant::now()
    };
    let kill_at = match scenario {
        // After the first flush (a second after the start); before it is `Early`.
        Scenario::Slow => await_first() + rng.between(ms(1500), ms(4500)),
        Scenario::Flood => await_first() + rng.between(ms(1500), ms(3500)),
        // Half the time from the start (maybe before a session exists), half just after
        // the program's first output.
        Scenario::Early if rng.next().is_multiple_of(2) => spawned + rng.between(ms(0), ms(1000)),
        Scenario::Early => await_first() + rng.between(ms(0), ms(400)),
    };
    std::thread::sleep(kill_at.saturating_duration_since(Instant::now()));
    let killed = epoch_now();
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    let first = first.or_else(|| first_line.recv_timeout(ms(500)).ok());
    let after = home.ids();
    let new: Vec<String> = after.into_iter().filter(|i| !before.contains(i)).collect();
    assert!(new.len() <= 1, "one recorder made {new:?}");
    Trial {
        scenario,
        token: token.to_owned(),
        id: new.into_iter().next(),
        killed,
        first_printed: first.and_then(|l| parse_line(&l, token)).map(|(_, t)| t),
        stderr: err_reader.join().unwrap_or_default(),
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// What a killed recorder's session turned out to hold.
#[derive(Default)]
struct Checked {
    /// Seconds of output lost before the kill.
    loss: f64,
    lines: usize,
    /// Places where lines are missing in the middle (only when the recorder said so).
    gaps: usize,
    /// Listed by `ls` as interrupted, read by `show --commands` and `export`.
    readable: bool,
    /// Whether `show --commands` lists the program's command.
    listed: bool,
    /// What is wrong, if anything.
    problems: Vec<String>,
}

fn check(home: &Home, t: &Trial) -> Checked {
    let ctx = format!("{:?} {}", t.scenario, t.token);
    let mut c = Checked::default();
    let Some(id) = &t.id else {
        // Killed before the session was created: nothing can have been printed.
        if t.first_printed.is_some() {
            c.problems.push(format!("{ctx}: output but no session"));
        }
        c.readable = true;
        return c;
    };
    let ls: serde_json::Value = serde_json::from_str(&home.ok(&["ls", "--json"])).unwrap();
    match ls
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id.as_str())
    {
        None => c.problems.push(format!("{ctx}: {id} not listed by ls")),
        Some(e) if e["status"] != "interrupted" => c
            .problems
            .push(format!("{ctx}: status {} in ls", e["status"])),
        Some(_) => {}
    }
    let commands = home.run(&["show", id, "--commands"]);
    if !commands.status.success() {
        c.problems.push(format!(
            "{ctx}: show --commands fails: {}",
            String::from_utf8_lossy(&commands.stderr).trim()
        ));
    }
    let txt = home.run(&["export", id, "--format", "txt"]);
    if !txt.status.success() {
        c.problems.push(format!(
            "{ctx}: export --format txt fails: {}",
            String::from_utf8_lossy(&txt.stderr).trim()
        ));
    }
    c.readable = c.problems.is_empty();
    let raw = home.run(&["export", id, "--format", "raw"]);
    let raw = String::from_utf8_lossy(&raw.stdout);
    // Whole lines only: the recording may end in the middle of one.
    let recorded: Vec<((u64, u64), f64)> = raw
        .split_inclusive('\n')
        .filter(|l| l.ends_with('\n'))
        .filter_map(|l| parse_line(l, &t.token))
        .collect();
    for w in recorded.windows(2) {
        let ((a, b), (x, y)) = (w[0].0, w[1].0);
        if (x, y) <= (a, b) {
            c.problems.push(format!("{ctx}: lines out of order: {w:?}"));
        }
        let next = match t.scenario {
            Scenario::Flood if b == 1000 => (a + 1, 1),
            Scenario::Flood => (a, b + 1),
            _ => (a + 1, 0),
        };
        if (x, y) != next {
            c.gaps += 1;
        }
    }
    if c.gaps > 0 {
        let v3 = home.ok(&["export", id, "--format", "cast-v3"]);
        if !v3.contains("bytes of output not recorded") {
            c.problems
                .push(format!("{ctx}: {} gaps in the output, no marker", c.gaps));
        }
    }
    // Lost: from the last line kept (or the first printed, if none was) to the kill.
    let kept_until = recorded.last().map(|l| l.1).or(t.first_printed);
    c.loss = kept_until.map_or(0.0, |k| (t.killed - k).max(0.0));
    if c.loss > LOSS_LIMIT {
        c.problems.push(format!(
            "{ctx}: {:.3} s of output lost (limit {LOSS_LIMIT} s)",
            c.loss
        ));
    }
    c.lines = recorded.len();
    c.listed = String::from_utf8_lossy(&commands.stdout).contains(&t.token);
    if !recorded.is_empty() {
        if !c.listed {
            c.problems
                .push(format!("{ctx}: output kept but no command listed"));
        }
        if !String::from_utf8_lossy(&txt.stdout).contains(&t.token) {
            c.problems
                .push(format!("{ctx}: export txt lacks the output"));
        }
    }
    if !c.problems.is_empty() {
        c.problems
            .push(format!("{ctx}: rec said: {}", t.stderr.trim()));
    }
    c
}

/// Runs the planned trials into one home and checks each session, then the index;
/// prints the figures, then fails with every problem found.
fn kill_recorders(suite: &str, plan: &[(Scenario, usize)]) {
    let home = Home::new();
    let mut rng = Rng::new(suite);
    let mut done = Vec::new();
    for (i, &(scenario, n)) in plan.iter().enumerate() {
        for j in 0..n {
            let token = format!("killtok{i}x{j:03}");
            let t = run_trial(&home, scenario, &token, &mut rng);
            let c = check(&home, &t);
            done.push((t, c));
        }
    }
    // The index: each session with a command is found by its token, before and after
    // a reindex.
    let mut problems: Vec<String> = done.iter().flat_map(|(_, c)| c.problems.clone()).collect();
    let listed: Vec<&Trial> = done
        .iter()
        .filter(|(_, c)| c.listed)
        .map(|(t, _)| t)
        .collect();
    let found: Vec<Vec<String>> = listed.iter().map(|t| cli_search(&home, &t.token)).collect();
    let right = |t: &Trial, hits: &Vec<String>| hits == &vec![t.id.clone().unwrap()];
    for (t, hits) in listed.iter().zip(&found) {
        if !right(t, hits) {
            problems.push(format!("search {} finds {hits:?}, not {:?}", t.token, t.id));
        }
    }
    home.ok(&["reindex"]);
    let mut agree = 0;
    for (t, hits) in listed.iter().zip(&found) {
        let again = cli_search(&home, &t.token);
        if &again == hits {
            agree += 1;
        } else {
            problems.push(format!(
                "after reindex, search {} finds {again:?}, not {hits:?}",
                t.token
            ));
        }
    }

    let mut lines = Vec::new();
    for &(scenario, _) in plan {
        let of: Vec<&(Trial, Checked)> = done
            .iter()
            .filter(|(t, _)| t.scenario == scenario)
            .collect();
        let count =
            |f: &dyn Fn(&Trial, &Checked) -> bool| of.iter().filter(|(t, c)| f(t, c)).count();
        let mut losses: Vec<f64> = of.iter().map(|(_, c)| c.loss).collect();
        losses.sort_by(f64::total_cmp);
        lines.push(format!(
            "{scenario:?}: trials={} sessions={} readable={} with_commands={} lines_kept={} gaps={} loss_median={:.3}s loss_worst={:.3}s",
            of.len(),
            count(&|t, _| t.id.is_some()),
            count(&|t, c| t.id.is_some() && c.readable),
            count(&|_, c| c.listed),
            of.iter().map(|(_, c)| c.lines).sum::<usize>(),
            of.iter().map(|(_, c)| c.gaps).sum::<usize>(),
            losses.get(losses.len() / 2).copied().unwrap_or(0.0),
            losses.last().copied().unwrap_or(0.0),
        ));
    }
    lines.push(format!(
        "index: sessions_with_commands={} found_by_search={} agree_after_reindex={agree}",
        listed.len(),
        listed
            .iter()
            .zip(&found)
            .filter(|(t, h)| right(t, h))
            .count(),
    ));
    figures(suite, &lines);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn sigkill_during_slow_output_and_a_flood_loses_at_most_a_second() {
    kill_recorders(
        "kill/rec",
        &[
            (Scenario::Slow, trials(2, 15)),
            (Scenario::Flood, trials(2, 15)),
        ],
    );
}

#[test]
fn sigkill_before_the_first_flush_leaves_a_readable_session() {
    kill_recorders("kill/early", &[(Scenario::Early, trials(3, 20))]);
}
