//! Throughput: `fixcast rec -c 'cat FILE'` against util-linux `script` and asciinema 3
//! (headless) on a flood of base64 text, interleaved in one run.

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::relay::Relay;
use crate::report;
use crate::util::{self, list, mb, median_f64, Measured, Rng, TempDir};

/// Random bytes before base64 (the file is 4/3 of this plus a newline every 76 chars).
const RAW_BYTES: usize = 100_000_000;
/// A run that takes longer than this is killed (and the bench fails).
const RUN_LIMIT: Duration = Duration::from_secs(120);

pub fn run(
    fixcast: &Path,
    baseline: Option<&Path>,
    runs: usize,
    relay_variants: bool,
) -> anyhow::Result<()> {
    util::require_gnu_time()?;
    let tmp = TempDir::new("throughput")?;
    let file = tmp.path().join("flood.b64");
    let t = Instant::now();
    let size = write_base64_file(&file, RAW_BYTES)?;
    let asciinema = crate::asciinema::find_or_install().map(|(path, _)| path);
    println!(
        "== throughput: wall time of `fixcast rec -c 'cat FILE' --cols 200 --rows 50` vs util-linux `script -q -c 'cat FILE' /dev/null` (bare PTY) \
         and `asciinema rec --headless -c 'cat FILE' OUT.cast` ({}), FILE = {} of base64 text (76-col lines), stdin+stdout /dev/null, \
         SHELL=/bin/bash; runs interleaved; load {} at the start",
        asciinema.as_ref().map_or_else(
            || "not found and not installed, skipped".to_owned(),
            |p| p.display().to_string()
        ),
        mb(size),
        util::load_average()
    );
    println!(
        "throughput: generated the file in {:.2} s",
        t.elapsed().as_secs_f64()
    );
    let cat = format!("cat {}", file.display());

    if let Some(b) = baseline {
        println!(
            "throughput: baseline {} (`rec -c` only), run right after fixcast rec each round",
            b.display()
        );
    }
    let mut fx: Vec<Measured> = Vec::new();
    let mut base: Vec<Measured> = Vec::new();
    let mut sc: Vec<Measured> = Vec::new();
    let mut ac: Vec<Measured> = Vec::new();
    let mut integrated: Vec<Measured> = Vec::new();
    let relays = relays(&cat, relay_variants);
    let mut relayed: Vec<Vec<Measured>> = vec![Vec::new(); relays.len()];
    let me = std::env::current_exe().context("cannot find this executable")?;
    let mut recorded = Vec::new();
    let mut dropped_total = 0u64;
    let mut problems = Vec::new();
    // One untimed warm-up each (binaries and the file into the page cache), then A,B,C,A,B,C…
    for i in 0..=runs {
        let warm = i == 0;
        let (m, output, dropped) = rec_flood(fixcast, &tmp, &cat, size, i, &mut problems)?;
        let mb_ = match baseline {
            Some(b) => {
                let mut ignored = Vec::new();
                Some(rec_flood(b, &tmp, &cat, size, i, &mut ignored)?.0)
            }
            None => None,
        };

        let mut cmd = Command::new("script");
        cmd.args(["-q", "-c", &cat, "/dev/null"])
            .env("SHELL", "/bin/bash")
            .env_remove("FIXCAST_SESSION")
            .current_dir(tmp.path());
        let ms = run_measured(&mut cmd, &tmp, "script")?;

        // The floor: the same PTY path with nothing recorded.
        for (r, into) in relays.iter().zip(relayed.iter_mut()) {
            let mut cmd = Command::new(&me);
            cmd.args(r.args())
                .env("SHELL", "/bin/bash")
                .env_remove("FIXCAST_SESSION")
                .current_dir(tmp.path());
            let m = run_measured(&mut cmd, &tmp, &r.label())?;
            if !warm {
                into.push(m);
            }
        }

        let ma = match &asciinema {
            Some(a) => {
                let out = tmp.path().join("asciinema.cast");
                let _ = std::fs::remove_file(&out);
                let mut cmd = Command::new(a);
                cmd.args([
                    "rec",
                    "--headless",
                    "-q",
                    "--window-size",
                    "200x50",
                    "-c",
                    &cat,
                ])
                .arg(&out)
                .env("SHELL", "/bin/bash")
                .env_remove("FIXCAST_SESSION")
                .env_remove("ASCIINEMA_SESSION")
                .current_dir(tmp.path());
                let m = run_measured(&mut cmd, &tmp, "asciinema rec")?;
                std::fs::remove_file(&out)
                    .with_context(|| format!("asciinema wrote no {}", out.display()))?;
                Some(m)
            }
            None => None,
        };

        // The same flood typed into an interactive bash with fixcast's shell integration.
        let home = TempDir::new("throughput-home")?;
        let user = home.path().join("user");
        std::fs::create_dir_all(&user)?;
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg("printf '%s\\nexit\\n' \"$1\" | \"$2\" rec --cols 200 --rows 50")
            .args(["sh", &cat])
            .arg(fixcast)
            .env("FIXCAST_HOME", home.path())
            .env("HOME", &user)
            .env("SHELL", "/bin/bash")
            .env_remove("FIXCAST_SESSION")
            // As `util::fixcast_cmd` does: a compaction of this 130 MB session in the
            // background would take a core from the next round's candidates.
            .env("FIXCAST_NO_COMPACT", "1")
            .current_dir(tmp.path());
        let mi = run_measured(&mut cmd, &tmp, "fixcast rec (integrated bash)")?;
        drop(home);
        if !warm {
            fx.push(m);
            base.extend(mb_);
            sc.push(ms);
            ac.extend(ma);
            integrated.push(mi);
            recorded.push(output);
            dropped_total += dropped;
        }
    }

    let secs = |v: &[Measured]| v.iter().map(|m| m.wall.as_secs_f64()).collect::<Vec<_>>();
    let cpu = |v: &[Measured]| v.iter().map(|m| m.cpu.as_secs_f64()).collect::<Vec<_>>();
    let rss = |v: &[Measured]| {
        v.iter()
            .map(|m| m.maxrss_kib as f64 / 1024.0)
            .collect::<Vec<_>>()
    };
    let med = |v: &[Measured], f: &dyn Fn(&[Measured]) -> Vec<f64>| median_f64(&f(v));
    let (f, s) = (med(&fx, &secs), med(&sc, &secs));
    let a = (!ac.is_empty()).then(|| med(&ac, &secs));
    let mbs = |t: f64| size as f64 / 1e6 / t;
    let vs_asciinema = a.map_or_else(String::new, |a| {
        format!(
            ", asciinema {a:.3} s; ratio fixcast/asciinema {:.2}x, asciinema/script {:.2}x",
            f / a,
            a / s
        )
    });
    println!(
        "throughput: fixcast rec {f:.3} s (median of {runs}), script {s:.3} s; ratio fixcast/script {:.2}x{vs_asciinema}",
        f / s
    );
    println!(
        "throughput: fixcast rec {:.0} MB/s, script {:.0} MB/s{} (file bytes / median wall time)",
        mbs(f),
        mbs(s),
        a.map_or_else(String::new, |a| format!(", asciinema {:.0} MB/s", mbs(a)))
    );
    let (fc, scpu) = (med(&fx, &cpu), med(&sc, &cpu));
    let acpu = (!ac.is_empty()).then(|| med(&ac, &cpu));
    println!(
        "throughput: CPU user+sys (whole process tree) fixcast rec {fc:.2} s, script {scpu:.2} s{} (medians)",
        acpu.map_or_else(String::new, |c| format!(", asciinema {c:.2} s"))
    );
    let (fr, sr) = (med(&fx, &rss), med(&sc, &rss));
    let ar = (!ac.is_empty()).then(|| med(&ac, &rss));
    println!(
        "throughput: peak RSS (max over the process tree, GNU time's %M) fixcast rec {fr:.1} MiB, script {sr:.1} MiB{} (medians)",
        ar.map_or_else(String::new, |r| format!(", asciinema {r:.1} MiB"))
    );
    println!(
        "throughput: recorded bytes.output {} (file {size} + CRs), bytes.dropped {dropped_total} over {runs} runs",
        recorded.iter().min().copied().unwrap_or(0),
    );
    let fi = med(&integrated, &secs);
    println!(
        "throughput: with shell integration (`cat FILE` typed into an integrated bash under fixcast rec) {fi:.3} s, \
         rec -c {f:.3} s; ratio {:.2}x",
        fi / f
    );
    for p in &problems {
        println!("throughput: WARNING incomplete recording: {p}");
    }
    let per_run = |what: &str, f: &dyn Fn(&[Measured]) -> Vec<f64>, digits: usize| {
        let ac = if ac.is_empty() {
            String::new()
        } else {
            format!(", asciinema {}", list(&f(&ac), digits))
        };
        println!(
            "throughput: {what} per run: fixcast rec {}, script {}{ac}, integrated {}",
            list(&f(&fx), digits),
            list(&f(&sc), digits),
            list(&f(&integrated), digits)
        );
    };
    per_run("wall s", &secs, 3);
    per_run("CPU s", &cpu, 2);
    per_run("peak RSS MiB", &rss, 1);
    if let Some(b) = baseline.filter(|_| !base.is_empty()) {
        let bw = med(&base, &secs);
        println!(
            "throughput: baseline {}: wall {bw:.3} s (ratio to script {:.2}x; fixcast rec / baseline {:.2}x), CPU {:.2} s, peak RSS {:.1} MiB (medians)",
            b.display(),
            bw / s,
            f / bw,
            med(&base, &cpu),
            med(&base, &rss)
        );
        println!(
            "throughput: baseline per run: wall s {}, CPU s {}, peak RSS MiB {}",
            list(&secs(&base), 3),
            list(&cpu(&base), 2),
            list(&rss(&base), 1)
        );
    }

    for (r, m) in relays.iter().zip(&relayed) {
        let w = med(m, &secs);
        println!(
            "throughput: {}: {:.2}x script ({w:.3} s; fixcast rec / it {:.2}x), CPU {:.2} s, peak RSS {:.1} MiB (medians); \
             per run: wall s {}, CPU s {}",
            r.label(),
            w / s,
            f / w,
            med(m, &cpu),
            med(m, &rss),
            list(&secs(m), 3),
            list(&cpu(m), 2)
        );
    }

    let ratio = f / s;
    // The baseline (when given) is the figure before the change, from the same run.
    let before = |v: String, then: String| {
        if base.is_empty() {
            v
        } else {
            format!("{v}; baseline rec {then}")
        }
    };
    let (bw, br) = (med(&base, &secs), med(&base, &rss));
    crate::report::figure(
        "throughput",
        format!("wall vs `script -q -c`, {} flood (`rec -c cat`)", mb(size)),
        format!("{} ({f:.2} s vs {s:.2} s)", report::ratio(f, s)),
        before(
            a.map_or_else(
                || "asciinema not installed".to_owned(),
                |a| format!("asciinema 3.2: {} ({a:.2} s)", report::ratio(a, s)),
            ),
            format!("{} ({bw:.2} s)", report::ratio(bw, s)),
        ),
        "≤ 0.80×",
        Some(ratio <= 0.80),
    );
    if let Some(m) = relayed.first() {
        let w = med(m, &secs);
        crate::report::figure(
            "throughput",
            "bare relay (PTY → stdout, 64 KiB reads, nothing recorded) vs `script -q -c`: the floor",
            format!("{} ({w:.2} s vs {s:.2} s)", report::ratio(w, s)),
            format!("fixcast rec: {} of it", report::ratio(f, w)),
            "—",
            None,
        );
    }
    crate::report::figure(
        "throughput",
        "CPU user+sys vs `script -q -c` (the machine's load does not stretch it)",
        format!("{} ({fc:.2} s vs {scpu:.2} s)", report::ratio(fc, scpu)),
        acpu.map_or_else(
            || "asciinema not installed".to_owned(),
            |c| format!("asciinema 3.2: {} ({c:.2} s)", report::ratio(c, scpu)),
        ),
        "—",
        None,
    );
    crate::report::figure(
        "throughput",
        "peak RSS of the recorder during the flood",
        format!("{fr:.1} MiB (median; runs {})", list(&rss(&fx), 1)),
        before(
            format!(
                "script {sr:.1} MiB{}",
                ar.map_or_else(String::new, |r| format!(", asciinema 3.2 {r:.1} MiB"))
            ),
            format!("{br:.1} MiB"),
        ),
        "≤ 16 MiB",
        Some(fr <= 16.0),
    );
    Ok(())
}

/// The bare relay (first: the anchor row), and with `variants` the ones that might
/// move the floor: reads of the n_tty buffer's size, `poll` as fixcast waits, a spin, and
/// the slave's output processing off.
fn relays(cat: &str, variants: bool) -> Vec<Relay> {
    use crate::relay::{Termios, Wait};
    let r = |read: usize, wait, termios| Relay {
        read,
        wait,
        termios,
        command: cat.to_owned(),
    };
    let mut v = vec![r(64 << 10, Wait::Block, Termios::Cooked)];
    if variants {
        v.extend([
            r(4 << 10, Wait::Block, Termios::Cooked),
            r(64 << 10, Wait::Poll, Termios::Cooked),
            r(64 << 10, Wait::Spin, Termios::Cooked),
            r(64 << 10, Wait::Block, Termios::NoOpost),
            r(64 << 10, Wait::Block, Termios::Raw),
        ]);
    }
    v
}

/// One `fixcast rec -c 'cat FILE'` of the flood: its measure, and the session's recorded
/// and dropped bytes; an incomplete recording is added to `problems`.
fn rec_flood(
    fixcast: &Path,
    tmp: &TempDir,
    cat: &str,
    size: u64,
    run: usize,
    problems: &mut Vec<String>,
) -> anyhow::Result<(Measured, u64, u64)> {
    let home = TempDir::new("throughput-home")?;
    let mut cmd = util::fixcast_cmd(
        fixcast,
        home.path(),
        &["rec", "-c", cat, "--cols", "200", "--rows", "50"],
    );
    cmd.env("SHELL", "/bin/bash").current_dir(tmp.path());
    let m = run_measured(&mut cmd, tmp, "fixcast rec")?;
    let sessions = util::sessions(fixcast, home.path())?;
    let [s] = sessions.as_slice() else {
        bail!(
            "expected one session after fixcast rec, found {}",
            sessions.len()
        );
    };
    let output = s["bytes"]["output"].as_u64().unwrap_or(0);
    let dropped = s["bytes"]["dropped"].as_u64().unwrap_or(0);
    let status = s["status"].as_str().unwrap_or("?").to_owned();
    if output < size || dropped > 0 || status != "complete" {
        problems.push(format!(
            "run {run}: bytes.output {output} (file {size}), bytes.dropped {dropped}, status {status}"
        ));
    }
    Ok((m, output, dropped))
}

/// [`util::run_measured_rss`] with this bench's time limit.
fn run_measured(cmd: &mut Command, tmp: &TempDir, what: &str) -> anyhow::Result<Measured> {
    util::run_measured_rss(cmd, RUN_LIMIT, tmp.path(), what)
}

/// Writes base64 (76 chars a line, like `base64`) of `raw` pseudo-random bytes; returns
/// the file's size.
pub(crate) fn write_base64_file(path: &Path, raw: usize) -> anyhow::Result<u64> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const LINE_RAW: usize = 57; // 57 bytes -> 76 chars
    const LINES_PER_BLOCK: usize = 16 << 10;
    let mut rng = Rng::new(0x5EED_F1C5_u64);
    let mut f = std::io::BufWriter::with_capacity(
        1 << 20,
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
    );
    let mut raw_block = vec![0u8; LINE_RAW * LINES_PER_BLOCK];
    let mut text = Vec::with_capacity(77 * LINES_PER_BLOCK + 8);
    let mut left = raw;
    let mut written = 0u64;
    while left > 0 {
        let n = left.min(raw_block.len());
        let block = &mut raw_block[..n];
        for chunk in block.chunks_mut(8) {
            let r = rng.next_u64().to_le_bytes();
            chunk.copy_from_slice(&r[..chunk.len()]);
        }
        text.clear();
        for line in block.chunks(LINE_RAW) {
            for g in line.chunks(3) {
                let b = [g[0], *g.get(1).unwrap_or(&0), *g.get(2).unwrap_or(&0)];
                let v = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
                text.push(ALPHABET[(v >> 18) as usize & 63]);
                text.push(ALPHABET[(v >> 12) as usize & 63]);
                text.push(if g.len() > 1 {
                    ALPHABET[(v >> 6) as usize & 63]
                } else {
                    b'='
                });
                text.push(if g.len() > 2 {
                    ALPHABET[v as usize & 63]
                } else {
                    b'='
                });
            }
            text.push(b'\n');
        }
        f.write_all(&text)?;
        written += text.len() as u64;
        left -= n;
    }
    f.flush()?;
    Ok(written)
}
