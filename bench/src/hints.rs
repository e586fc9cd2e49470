//! `hints`: the look-up `fixcast rec` makes after each failed command ("seen before"),
//! at scale. The synthetic corpus (see [`crate::corpus`]) gets its error lines noted and,
//! in every session, its last three commands replaced by a failure, its fix and the
//! retry that worked (an error drawn from a list, with its own paths, numbers and ids),
//! so the index holds many failures per signature, fixed and unfixed. Then the look-up
//! (`CommandIndex::seen_before`, as `rec` calls it: one index opened read-only) is timed
//! on error lines that a past failure had with other paths and numbers (hits), on the
//! corpus's own error lines, and on errors never seen (misses).
//!
//! Self-contained (only the corpus builder and the timing helpers are shared), so it
//! moves with the bench binary.

use std::time::Instant;

use fixcast_indexer::CommandIndex;
use fixcast_sessions::{CommandRecord, CommandSource, SessionMeta};

use crate::corpus;
use crate::util::{percentile, Rng, TempDir};

/// Errors whose `{p}` (a path), `{n}` (a number) and `{h}` (an id) change at each
/// occurrence, with the command that fails and the one that fixes it.
const FAILURES: &[(&str, &str, &str)] = &[
    ("echo x >> {p}", "bash: {p}: Operation not permitted", "chattr -i {p}"),
    ("cat {p}", "cat: {p}: No such file or directory", "touch {p}"),
    ("./deploy.sh", "bash: ./deploy.sh: Permission denied", "chmod +x deploy.sh"),
    ("systemctl start app{n}", "Job for app{n}.service failed because the control process exited with error code.", "systemctl daemon-reload"),
    ("docker start {h}", "Error response from daemon: container {h} is not running", "docker rm -f {h}"),
    ("git push", "fatal: unable to access 'https://git.example/{n}.git/': Could not resolve host: git.example", "echo 'nameserver 10.0.0.{n}' >> /etc/resolv.conf"),
    ("pip install app{n}", "ERROR: Could not find a version that satisfies the requirement app{n}", "pip install --upgrade pip"),
    ("mount {p} /mnt", "mount: /mnt: can't find {p} in /etc/fstab.", "losetup -fP {p}"),
    ("kubectl apply -f {p}", "error: error validating \"{p}\": error validating data: invalid type for io.k8s.api.core.v1.Container.ports", "sed -i 's/port: \"{n}\"/port: {n}/' {p}"),
    ("psql -h db{n}", "psql: error: connection to server at \"db{n}\" (10.0.0.{n}), port 5432 failed: Connection refused", "systemctl start postgresql"),
    ("rm -r {p}", "rm: cannot remove '{p}': Device or resource busy", "umount {p}"),
    ("make -j{n}", "make: *** [Makefile:{n}: build] Error 1", "apt-get install -y libssl-dev"),
    ("ssh node{n}", "ssh: connect to host node{n} port 22: Connection timed out", "ip route add 10.{n}.0.0/16 via 10.0.0.1"),
    ("npm ci", "npm ERR! nospc ENOSPC: no space left on device, write -{n}", "rm -rf ~/.npm/_cacache"),
    ("cp a {p}", "cp: cannot create regular file '{p}': Read-only file system", "mount -o remount,rw /"),
    ("useradd u{n}", "useradd: cannot lock /etc/passwd; try again later.", "rm -f /etc/passwd.lock"),
];

/// Error lines no session has.
const NEVER_SEEN: &[&str] = &[
    "zsh: segmentation fault (core dumped)  ./a.out {n}",
    "thread 'main' panicked at src/main.rs:{n}:5: index out of bounds",
    "terraform: Error: Invalid provider configuration {h}",
    "gcc: fatal error: no input files {p}",
    "java.lang.IllegalStateException: Duplicate key {n}",
];

fn fill(r: &mut Rng, template: &str) -> String {
    let path = format!(
        "/{}/{}{}.conf",
        ["etc", "srv", "var/lib", "opt/app"][r.below(4) as usize],
        ["app", "svc", "db", "web"][r.below(4) as usize],
        r.below(1000)
    );
    let id = format!("{:012x}", r.next_u64() & 0xffff_ffff_ffff);
    template
        .replace("{p}", &path)
        .replace("{n}", &(1 + r.below(99_999)).to_string())
        .replace("{h}", &id)
}

/// The corpus of `n` commands with its errors noted and a fixed failure per session.
fn sessions(n: usize, r: &mut Rng) -> Vec<(SessionMeta, Vec<CommandRecord>)> {
    corpus::sessions(n, 42)
        .map(|(meta, mut cmds)| {
            if cmds.len() >= 6 {
                let (cmd, error, fix) = FAILURES[r.below(FAILURES.len() as u64) as usize];
                // The same path and number in the command, the error and the fix.
                let seed = r.next_u64();
                let filled = |t: &str| fill(&mut Rng::new(seed), t);
                let last = cmds.len();
                let mut at = cmds[last - 4].end;
                let parts = [
                    (filled(cmd), filled(error), 1),
                    (filled(fix), String::new(), 0),
                ];
                let retry = (filled(cmd), String::new(), 0);
                for (k, (line, out, exit)) in parts.into_iter().chain([retry]).enumerate() {
                    let i = last - 3 + k;
                    at += 2.0;
                    let mut c = CommandRecord::new(
                        i as u32 + 1,
                        at,
                        at + 0.1,
                        line,
                        CommandSource::Integration,
                    );
                    c.cwd.clone_from(&cmds[i].cwd);
                    c.exit = Some(exit);
                    c.output = out;
                    cmds[i] = c;
                }
            }
            for c in &mut cmds {
                c.note_errors();
            }
            (meta, cmds)
        })
        .collect()
}

pub fn run(sizes: &[usize]) -> anyhow::Result<()> {
    for &n in sizes {
        one(n)?;
    }
    Ok(())
}

fn one(n: usize) -> anyhow::Result<()> {
    println!("hints: {n} commands");
    let tmp = TempDir::new("hints")?;
    let dir = tmp.path().join("index");
    let mut r = Rng::new(7);
    let t = Instant::now();
    let sessions = sessions(n, &mut r);
    let failed = sessions
        .iter()
        .flat_map(|(_, c)| c)
        .filter(|c| fixcast_sessions::failed(c) && !c.errors.is_empty())
        .count();
    // Error lines of the corpus's own failures: known, resolved or not.
    let own: Vec<String> = sessions
        .iter()
        .flat_map(|(_, c)| c)
        .filter(|c| c.exit != Some(0) && !c.errors.is_empty())
        .step_by(97)
        .take(100)
        .map(|c| c.errors[0].clone())
        .collect();
    println!(
        "  corpus: {} sessions, {failed} failures with an error line (generated in {:.1} s)",
        sessions.len(),
        t.elapsed().as_secs_f64()
    );
    let (index, build) = crate::corpus::build_index(&dir, &sessions)?;
    drop(sessions);
    println!("  build: {build:.1} s");
    drop(index);

    // As `rec` has it: opened once, read-only.
    let index = CommandIndex::open_read_only(&dir)?;
    let mut asks: Vec<(&str, Vec<String>)> = Vec::new();
    for _ in 0..200 {
        let (_, error, _) = FAILURES[r.below(FAILURES.len() as u64) as usize];
        asks.push(("known", vec![fill(&mut r, error)]));
    }
    for line in &own {
        asks.push(("corpus", vec![line.clone()]));
    }
    for _ in 0..100 {
        let e = NEVER_SEEN[r.below(NEVER_SEEN.len() as u64) as usize];
        asks.push(("unknown", vec![fill(&mut r, e)]));
    }
    // A warm-up pass (the first touches the files), then three timed.
    let mut told = 0;
    let mut answered: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    for (kind, errors) in &asks {
        let hit = index.seen_before(errors, None)?.is_some();
        told += usize::from(hit);
        let a = answered.entry(kind).or_default();
        *a = (a.0 + usize::from(hit), a.1 + 1);
    }
    let mut ms: Vec<f64> = Vec::new();
    let mut by_kind: std::collections::BTreeMap<&str, Vec<f64>> = Default::default();
    for _ in 0..3 {
        for (kind, errors) in &asks {
            let t = Instant::now();
            let hit = index.seen_before(errors, None)?;
            let e = t.elapsed().as_secs_f64() * 1e3;
            std::hint::black_box(hit);
            ms.push(e);
            by_kind.entry(kind).or_default().push(e);
        }
    }
    println!(
        "  look-up ({} error lines x 3, {told} answered with a fix): p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms (goal p99 <= 20 ms)",
        asks.len(),
        percentile(&ms, 50.0),
        percentile(&ms, 99.0),
        percentile(&ms, 100.0),
    );
    let p99 = percentile(&ms, 99.0);
    crate::report::figure(
        "hints",
        format!(
            "\"seen before\" look-up p99, {} commands",
            crate::report::count(n)
        ),
        format!("{p99:.2} ms (p50 {:.3} ms)", percentile(&ms, 50.0)),
        "—",
        "p99 ≤ 20 ms at 1M",
        Some(p99 <= 20.0),
    );
    for (kind, v) in &by_kind {
        let (hits, of) = answered.get(kind).copied().unwrap_or_default();
        println!(
            "    {kind:<8} p50 {:.3} ms, p99 {:.3} ms ({hits} of {of} answered with a fix)",
            percentile(v, 50.0),
            percentile(v, 99.0)
        );
    }
    Ok(())
}
