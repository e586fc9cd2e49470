//! A damaged index: every kind of file in it deleted, truncated or overwritten with
//! random bytes, one at a time. Search still answers correctly (rebuilding the index
//! where it can write), never panics and prints no Rust panic text.
//!
//! `FIXCAST_RELIABILITY=long` adds random damage (bytes flipped, cut, zeroed, files
//! deleted, several at once) over many rounds, and prints what it saw.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::disk_full::{search, SmallHome};
use crate::util::Home;

/// Sessions of three commands each: `needle-<n>` is in session n only, `common` in
/// every command.
const SESSIONS: usize = 4;

fn cast(path: &Path, n: usize) {
    let mut lines = vec![format!(
        r#"{{"version":3,"term":{{"cols":80,"rows":24}},"title":"incident {n}"}}"#
    )];
    for (k, cmd) in [
        format!("echo needle-{n} common"),
        format!("ls /srv/common-{n}"),
        format!("grep -r common /etc/app-{n}"),
    ]
    .iter()
    .enumerate()
    {
        let prompt = "\x1b]133;A\x07$ \x1b]133;B\x07";
        let out = format!("common output line {k} of session {n}");
        let run = format!("{cmd}\r\n\x1b]633;E;{cmd}\x07\x1b]133;C\x07{out}\r\n\x1b]133;D;0\x07");
        lines.push(serde_json::json!([0.5, "o", prompt]).to_string());
        lines.push(serde_json::json!([0.5, "o", run]).to_string());
    }
    lines.push(serde_json::json!([0.1, "x", "0"]).to_string());
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

/// A home with [`SESSIONS`] imported one by one (a segment each), one of them removed
/// again (deletes in a segment), and the index caught up.
fn indexed_home(home: &Home) -> Vec<String> {
    for n in 0..=SESSIONS {
        let file = home.path().join(format!("s{n}.cast"));
        cast(&file, n);
        home.ok(&["import", &file.display().to_string()]);
    }
    let ids = home.ids();
    home.ok(&["rm", "-y", &ids[SESSIONS]]);
    assert_eq!(search(home, "common").0, 0);
    ids[..SESSIONS].to_vec()
}

/// Whether search gives exactly the right hits, and says nothing it should not.
fn check(home: &Home, ids: &[String], what: &str) -> Result<(), String> {
    let (code, hits, err) = search(home, "needle-2");
    let sessions = |hits: &[Value]| -> Vec<String> {
        hits.iter()
            .map(|h| h["session"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    if code != 0 || sessions(&hits) != [ids[2].clone()] {
        return Err(format!("{what}: needle-2 gave {code} {hits:?}\n{err}"));
    }
    for bad in ["panicked", "RUST_BACKTRACE"] {
        if err.contains(bad) {
            return Err(format!("{what}: panic text: {err}"));
        }
    }
    let (code, hits, err) = search(home, "common");
    let found: BTreeSet<String> = sessions(&hits).into_iter().collect();
    let want: BTreeSet<String> = ids.iter().cloned().collect();
    if code != 0 || hits.len() != SESSIONS * 3 || found != want {
        return Err(format!(
            "{what}: `common` gave {code}, {} hits in {found:?}\n{err}",
            hits.len()
        ));
    }
    if err.contains("panicked") {
        return Err(format!("{what}: panic text: {err}"));
    }
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
        }
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

/// A small xorshift: reproducible random bytes without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

#[derive(Debug, Clone, Copy)]
enum Damage {
    Deleted,
    Truncated,
    Emptied,
    Random,
}

fn damage(path: &Path, how: Damage, rng: &mut Rng) {
    let len = std::fs::metadata(path).map_or(0, |m| m.len()) as usize;
    match how {
        Damage::Deleted => std::fs::remove_file(path).unwrap(),
        Damage::Truncated => {
            std::fs::write(path, &std::fs::read(path).unwrap()[..len / 2]).unwrap()
        }
        Damage::Emptied => std::fs::write(path, b"").unwrap(),
        Damage::Random => std::fs::write(path, rng.bytes(len.max(64))).unwrap(),
    }
}

/// The kind of an index file, as the brief of this suite names them.
fn kind(path: &Path) -> String {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    match path.extension().and_then(|e| e.to_str()) {
        Some(ext) if name.len() > 30 => format!(".{ext}"),
        _ => name,
    }
}

#[test]
fn every_kind_of_index_file_damaged_is_survived() {
    let home = Home::new();
    let ids = indexed_home(&home);
    let index = home.path().join("index");
    let pristine = home.path().join("index.pristine");
    copy_dir(&index, &pristine);
    let kinds: BTreeSet<String> = files(&pristine).iter().map(|p| kind(p)).collect();
    for want in [
        "meta.json",
        ".managed.json",
        "fixcast-sessions.json",
        ".tantivy-writer.lock",
        ".tantivy-meta.lock",
        ".idx",
        ".pos",
        ".term",
        ".store",
        ".fast",
        ".fieldnorm",
    ] {
        assert!(
            kinds.contains(want),
            "no {want} file to damage in {kinds:?}"
        );
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut failures = Vec::new();
    for file in files(&pristine) {
        for how in [
            Damage::Deleted,
            Damage::Truncated,
            Damage::Emptied,
            Damage::Random,
        ] {
            copy_dir(&pristine, &index);
            let target = index.join(file.file_name().unwrap());
            damage(&target, how, &mut rng);
            let what = format!("{} {how:?}", kind(&file));
            if let Err(e) = check(&home, &ids, &what) {
                failures.push(e);
            }
            // Whatever the first search did, the next one is right too.
            if let Err(e) = check(&home, &ids, &format!("{what}, then again")) {
                failures.push(e);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Damage where the index cannot be rebuilt (a read-only home): still right answers.
#[test]
fn a_damaged_index_on_a_read_only_home_is_still_searched() {
    let Some(small) = SmallHome::new("16m") else {
        return;
    };
    let home = &small.home;
    let ids = indexed_home(home);
    let index = home.path().join("index");
    let pristine = home.path().join("index.pristine");
    copy_dir(&index, &pristine);
    let mut rng = Rng(7);
    let mut failures = Vec::new();
    for file in files(&pristine) {
        let k = kind(&file);
        if !["meta.json", ".store", ".term", ".idx"].contains(&k.as_str()) {
            continue;
        }
        copy_dir(&pristine, &index);
        damage(
            &index.join(file.file_name().unwrap()),
            Damage::Random,
            &mut rng,
        );
        small.fs.read_only(true);
        if let Err(e) = check(home, &ids, &format!("{k} random, read-only")) {
            failures.push(e);
        }
        small.fs.read_only(false);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Random damage over many rounds, with figures: `FIXCAST_RELIABILITY=long`.
#[test]
fn random_damage_long() {
    if std::env::var("FIXCAST_RELIABILITY").as_deref() != Ok("long") {
        eprintln!("skipped: set FIXCAST_RELIABILITY=long for the long form");
        return;
    }
    let rounds: u64 = std::env::var("FIXCAST_RELIABILITY_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(300);
    let home = Home::new();
    let ids = indexed_home(&home);
    let index = home.path().join("index");
    let pristine = home.path().join("index.pristine");
    copy_dir(&index, &pristine);
    let all = files(&pristine);
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let (mut rebuilt, mut warned, mut wrong) = (0, 0, Vec::new());
    let mut times = Vec::new();
    for round in 0..rounds {
        copy_dir(&pristine, &index);
        let mut what = Vec::new();
        for _ in 0..=rng.below(2) {
            let file = &all[rng.below(all.len() as u64) as usize];
            let target = index.join(file.file_name().unwrap());
            let Ok(mut bytes) = std::fs::read(&target) else {
                continue;
            };
            let len = bytes.len() as u64;
            match rng.below(5) {
                0 => {
                    let k = 1 + rng.below(16);
                    for _ in 0..k {
                        if len > 0 {
                            let at = rng.below(len) as usize;
                            bytes[at] ^= 1 << rng.below(8);
                        }
                    }
                    what.push(format!("{} {k} bits flipped", kind(file)));
                }
                1 => {
                    bytes.truncate(rng.below(len) as usize);
                    what.push(format!("{} cut", kind(file)));
                }
                2 => {
                    let at = rng.below(len) as usize;
                    let end = (at + 1 + rng.below(4096) as usize).min(bytes.len());
                    bytes[at..end].fill(0);
                    what.push(format!("{} zeroed", kind(file)));
                }
                3 => {
                    let _ = std::fs::remove_file(&target);
                    what.push(format!("{} deleted", kind(file)));
                    continue;
                }
                _ => {
                    let n = 1 + rng.below(512) as usize;
                    bytes.extend(rng.bytes(n));
                    what.push(format!("{} grown", kind(file)));
                }
            }
            std::fs::write(&target, &bytes).unwrap();
        }
        let what = format!("round {round}: {}", what.join(", "));
        let start = Instant::now();
        let (_, _, err) = search(&home, "needle-2");
        times.push(start.elapsed());
        rebuilt += usize::from(err.contains("rebuilding"));
        warned += usize::from(err.contains("warning"));
        if let Err(e) = check(&home, &ids, &what) {
            wrong.push(e);
        }
    }
    times.sort();
    let total: Duration = times.iter().sum();
    // Right answers, but tantivy's panic (caught) printed by the default panic hook.
    let panic_text = wrong
        .iter()
        .filter(|w| w.contains(": panic text: "))
        .count();
    eprintln!(
        "index damage, long: {rounds} rounds, {} answered right ({panic_text} of them with tantivy's caught panic printed), {rebuilt} rebuilt, {warned} with a warning; first search after the damage: median {:.0} ms, max {:.0} ms, mean {:.0} ms",
        rounds as usize - (wrong.len() - panic_text),
        times[times.len() / 2].as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3,
        total.as_secs_f64() * 1e3 / rounds as f64,
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}
