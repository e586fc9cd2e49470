//! Cutting commands: how fast fixcast turns a recording into commands (screen text
//! rendered through `vt100`), against asciinema 3's `convert -f txt` on the same
//! recordings, in the same run. Also the flood of the throughput benchmark recorded with
//! an integrated interactive shell against `rec -c` (no integration), what fix records
//! add to the cut and to indexing (`cut_fixes`), and the recording as text: `export
//! --format txt` against the same `convert -f txt` (`cut_export`). `--no-flood` skips the
//! flood. asciinema 3 is installed from crates.io when absent (see `asciinema`).

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use fixcast_recorder::cut_commands;
use fixcast_sessions::read_cast;

use crate::util::{self, list, mb, median_f64, TempDir};

const RUN_LIMIT: Duration = Duration::from_secs(300);
/// Random bytes behind the flood (base64 makes it 4/3 of this), as in `throughput`.
const FLOOD_RAW: usize = 100_000_000;

pub fn run(fixcast: &Path, runs: usize, no_flood: bool) -> anyhow::Result<()> {
    let tmp = TempDir::new("cut")?;
    println!(
        "== cut: commands cut from a recording (decompress + parse, then cut with vt100 text), MB/s of asciicast text; \
         vs `asciinema convert -f txt` on the same recordings exported as plain .cast; medians of {runs}"
    );
    let found = crate::asciinema::find_or_install();
    let asciinema = found.as_ref().map(|(p, _)| p.clone());
    if let Some((path, version)) = &found {
        println!("cut: anchor {version} ({})", path.display());
    }
    let mut recorded = Vec::new();
    if !no_flood {
        let flood = tmp.path().join("flood.b64");
        crate::throughput::write_base64_file(&flood, FLOOD_RAW)?;

        // The flood, recorded as `rec -c` (one command) and through an integrated bash.
        let plain_home = tmp.path().join("plain");
        let plain = record(
            fixcast,
            &plain_home,
            &["rec", "-c", &format!("cat {}", flood.display())],
            None,
        )?;
        let integrated_home = tmp.path().join("integrated");
        let integrated = record(
            fixcast,
            &integrated_home,
            &["rec"],
            Some(format!("cat {}\nexit\n", flood.display())),
        )?;
        println!(
            "cut: flood recorded: rec -c {:.2} s, integrated interactive bash {:.2} s (one run each; see `throughput` for medians)",
            plain.1, integrated.1
        );
        recorded.push(("flood", plain_home, plain.0));
    }

    // A 2,000-command session through an integrated bash (piped keys, as typed ahead).
    let (script, _) = crate::size::generate_script()?;
    let lines: Vec<String> = script
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("printf"))
        .map(str::to_owned)
        .collect();
    let keys: String = lines
        .iter()
        .map(|l| format!("{l}\n"))
        .chain(std::iter::once("exit\n".to_owned()))
        .collect();
    let session_home = tmp.path().join("session");
    let session = record(
        fixcast,
        &session_home,
        &["rec", "--cols", "200", "--rows", "50"],
        Some(keys),
    )?;
    recorded.push(("2000-command session", session_home, session.0));

    // The first half of the same commands, with a failure, two looks, a fix and a retry in every
    // ten, in a folder of its own (the fixes write files).
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work)?;
    let failing_home = tmp.path().join("failing");
    let failing = record(
        fixcast,
        &failing_home,
        &["rec", "--cols", "200", "--rows", "50"],
        Some(crate::cut_fixes::keys_with_failures(&lines, &work)),
    )?;
    recorded.push(("2000 commands, every 10th failing", failing_home, failing.0));

    for (name, home, id) in &recorded {
        let (name, id) = (*name, id.as_str());
        let cast = home.join("sessions").join(id).join("session.cast.zst");
        let exported = tmp.path().join(format!("{id}.cast"));
        let mut export =
            util::fixcast_cmd(fixcast, home, &["export", id, "--format", "cast-v3", "-o"]);
        export.arg(&exported);
        util::output_of(&mut export, RUN_LIMIT, "fixcast export")?;
        let text_bytes = std::fs::metadata(&exported)?.len();
        // Before this process reads a whole recording: a child's peak RSS counts this
        // process's own at exec (see `cut_export`). The figure is the flood's;
        // without it, the session's.
        let headline = name == "flood" || no_flood && name == "2000-command session";
        crate::cut_export::measure(
            fixcast,
            home,
            id,
            &exported,
            asciinema.as_deref(),
            runs,
            name,
            headline,
        )?;
        let (mut read_s, mut cut_s, mut conv_s) = (Vec::new(), Vec::new(), Vec::new());
        let mut commands = 0;
        for _ in 0..runs {
            let t = Instant::now();
            let contents =
                read_cast(&cast).with_context(|| format!("reading {}", cast.display()))?;
            read_s.push(t.elapsed().as_secs_f64());
            let t = Instant::now();
            let cmds = cut_commands(
                contents.header.cols,
                contents.header.rows,
                contents.header.command.as_deref(),
                &contents.events,
            );
            cut_s.push(t.elapsed().as_secs_f64());
            commands = cmds.len();
            if let Some(a) = &asciinema {
                let out = tmp.path().join("converted.txt");
                let _ = std::fs::remove_file(&out);
                let mut c = Command::new(a);
                c.args(["convert", "-f", "txt"]).arg(&exported).arg(&out);
                let m = util::run_measured(&mut c, RUN_LIMIT, "asciinema convert")?;
                conv_s.push(m.wall.as_secs_f64());
            }
        }
        let rate = |s: f64| text_bytes as f64 / 1e6 / s;
        let (r, c) = (median_f64(&read_s), median_f64(&cut_s));
        println!(
            "cut: {name}: {} of asciicast text, {commands} commands; fixcast read {r:.3} s + cut {c:.3} s = {:.0} MB/s (cut alone {:.0} MB/s)",
            mb(text_bytes),
            rate(r + c),
            rate(c)
        );
        if !conv_s.is_empty() {
            let a = median_f64(&conv_s);
            println!(
                "cut: {name}: asciinema convert -f txt {a:.3} s = {:.0} MB/s; fixcast (read + cut) / asciinema = {:.2}x the time",
                rate(a),
                (r + c) / a
            );
            println!(
                "cut: {name}: runs asciinema {}, fixcast read {}, cut {}",
                list(&conv_s, 3),
                list(&read_s, 3),
                list(&cut_s, 3)
            );
            crate::report::figure(
                "cut",
                format!("cut into commands (read + cut), {name}, vs `asciinema convert -f txt`"),
                format!(
                    "{} ({:.2} s vs {a:.2} s, {:.0} MB/s)",
                    crate::report::ratio(r + c, a),
                    r + c,
                    rate(r + c)
                ),
                format!("asciinema 3: {a:.2} s"),
                "—",
                None,
            );
        }
        if name != "flood" {
            crate::cut_fixes::measure(name, &cast, runs)?;
        }
    }
    Ok(())
}

/// Records one session in `home`; its id and the wall time.
fn record(
    fixcast: &Path,
    home: &Path,
    args: &[&str],
    keys: Option<String>,
) -> anyhow::Result<(String, f64)> {
    let user = home.join("user");
    std::fs::create_dir_all(&user)?;
    let mut cmd = util::fixcast_cmd(fixcast, home, args);
    cmd.env("SHELL", "/bin/bash")
        .env("HOME", &user)
        .env("TERM", "xterm-256color")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let t = Instant::now();
    match keys {
        None => {
            util::run_measured(&mut cmd, RUN_LIMIT, "fixcast rec")?;
        }
        Some(keys) => {
            let mut child = cmd.stdin(Stdio::piped()).spawn().context("fixcast rec")?;
            let mut stdin = child.stdin.take().context("stdin")?;
            let writer = std::thread::spawn(move || stdin.write_all(keys.as_bytes()));
            let status = child.wait()?;
            let _ = writer.join();
            if !status.success() {
                bail!("fixcast rec exited {status}");
            }
        }
    }
    let wall = t.elapsed().as_secs_f64();
    let sessions = util::sessions(fixcast, home)?;
    let id = sessions
        .first()
        .and_then(|s| s["id"].as_str())
        .context("no session recorded")?
        .to_owned();
    Ok((id, wall))
}
