//! Size: a 2,000-command debugging session, as fixcast stores it (fresh, once
//! compacted, compacted and served), against the same recording as a plain asciicast v3
//! file compressed by the `zstd` CLI. Twice: a fixed session (one real recording of the
//! bench's script, made once and kept in `bench/data/size-session.cast.zst`: the same
//! bytes each run, the headline) and a new recording of the same script (another session
//! each run: its outputs are the machine's).
//!
//! `fixcast-bench size --record-fixture PATH` records the script as the second row does
//! and writes its cast-v3 export under `zstd -19` to PATH: how the fixture was made
//! (bench/data/README.md).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context};

use crate::http;
use crate::serve::Server;
use crate::util::{self, mb, Rng, TempDir};

pub(crate) const COMMANDS: usize = 2_000;
const RECORD_LIMIT: Duration = Duration::from_secs(300);
const ZSTD_LIMIT: Duration = Duration::from_secs(180);
const COMPACT_LIMIT: Duration = Duration::from_secs(300);
const SERVE_LIMIT: Duration = Duration::from_secs(120);

/// The fixed session: the cast-v3 export of one recording of the bench's script under
/// `zstd -19`, made by `--record-fixture` (bench/data/README.md).
const FIXTURE: &[u8] = include_bytes!("../data/size-session.cast.zst");

/// (command, weight): what people type while debugging a box.
const MIX: &[(&str, u64)] = &[
    ("ls --color=always -la /usr/bin", 1),
    ("ls --color=always -la /etc", 3),
    ("ls --color=always -la /proc/self/", 2),
    ("ls -la /tmp", 3),
    ("ps aux", 4),
    ("cat /proc/meminfo", 3),
    ("cat /proc/cpuinfo", 1),
    ("cat /proc/self/status", 2),
    ("cat /proc/loadavg", 2),
    ("seq 1 500", 1),
    ("env", 2),
    ("df -h", 3),
    ("free -m", 2),
    ("mount", 2),
    ("cat /etc/passwd", 1),
    ("uname -a", 2),
    ("date", 3),
    ("uptime", 2),
    ("id", 1),
];

/// Only if the machine has them / lets us.
const OPTIONAL: &[(&str, u64, &str)] = &[
    ("ip addr", 3, "command -v ip"),
    ("dmesg | tail", 3, "dmesg"),
];

const PROMPT_DIRS: &[&str] = &["/var/log", "/etc", "/root", "/tmp", "/srv/app"];

pub fn run(fixcast: &Path) -> anyhow::Result<()> {
    // The headline: one fixed session, the same bytes every run.
    let tmp = TempDir::new("size")?;
    let cast = zstd::decode_all(FIXTURE).context("bench/data/size-session.cast.zst")?;
    if cast.is_empty() {
        bail!("bench/data/size-session.cast.zst is empty (make it: fixcast-bench size --record-fixture PATH)");
    }
    println!(
        "== size (fixed session): one recording of the bench's script (as in the second row), made once and kept \
         in bench/data/size-session.cast.zst ({} B; its cast-v3 export {} B, {} events); brought in by `fixcast import`, \
         then compacted and served",
        FIXTURE.len(),
        cast.len(),
        cast.iter().filter(|&&b| b == b'\n').count().saturating_sub(1)
    );
    let home = tmp.path().join("home");
    let file = tmp.path().join("debug-session.cast");
    std::fs::write(&file, &cast)?;
    drop(cast);
    let file_arg = file.display().to_string();
    util::output_of(
        &mut util::fixcast_cmd(fixcast, &home, &["import", &file_arg]),
        RECORD_LIMIT,
        "fixcast import (size)",
    )?;
    std::fs::remove_file(&file)?;
    measure(fixcast, &home, tmp.path(), "fixed session")?;
    drop(tmp);

    // A real recording too: another session each run (its outputs are the machine's).
    let tmp = TempDir::new("size-rec")?;
    let home = tmp.path().join("home");
    record(fixcast, &home, tmp.path(), false)?;
    measure(fixcast, &home, tmp.path(), "recorded")
}

/// `size --record-fixture PATH`: records the script once, as `run`'s second row does (but
/// in a minimal environment, so that `env` shows nothing of the caller's, and `ps aux`
/// without the sandbox's own processes), and writes its cast-v3 export under `zstd -19`
/// to `out`.
pub fn record_fixture(fixcast: &Path, out: &Path) -> anyhow::Result<()> {
    let tmp = TempDir::new("size-fixture")?;
    let home = tmp.path().join("home");
    record(fixcast, &home, tmp.path(), true)?;
    let id = only_session(fixcast, &home)?;
    let cast = tmp.path().join("session.cast");
    export_cast(fixcast, &home, &id, &cast)?;
    let mut cmd = Command::new("zstd");
    cmd.args(["-q", "-f", "-19"]).arg(&cast).arg("-o").arg(out);
    util::run_measured(&mut cmd, ZSTD_LIMIT, "zstd -19 (fixture)")?;
    println!(
        "size: wrote {} ({} B): zstd -19 of the cast-v3 export ({} B) of that recording",
        out.display(),
        std::fs::metadata(out)?.len(),
        std::fs::metadata(&cast)?.len()
    );
    Ok(())
}

/// Records the bench's script into `home` with `fixcast rec`; `clean_env`: in a minimal
/// environment instead of the caller's, `ps` filtered (for the fixture).
fn record(fixcast: &Path, home: &Path, tmp: &Path, clean_env: bool) -> anyhow::Result<()> {
    let (script, names) = generate_script()?;
    let script_path = tmp.join("debug-session.sh");
    std::fs::write(&script_path, script)?;
    println!(
        "== size (recorded): one recording of `fixcast rec -c 'bash SCRIPT' --cols 200 --rows 50`, SCRIPT = {COMMANDS} commands drawn (seeded) from \
         [{}], each after a colored prompt line; its outputs are this machine's, so the session differs from run to run",
        names.join(", ")
    );
    let mut cmd = util::fixcast_cmd(
        fixcast,
        home,
        &[
            "rec",
            "-c",
            &format!("bash {}", script_path.display()),
            "--cols",
            "200",
            "--rows",
            "50",
        ],
    );
    if clean_env {
        // `ps aux` without the sandbox's own processes: their command lines carry its
        // configuration, not to be kept in a file in the repository. Cut at the PTY's
        // 200 columns as `ps` on the terminal is.
        let bin = tmp.join("bin");
        std::fs::create_dir_all(&bin)?;
        let ps = bin.join("ps");
        std::fs::write(
            &ps,
            "#!/bin/sh\nCOLUMNS=200 /usr/bin/ps \"$@\" | grep -v -E 'process_api|binary_backend|line_io_tools'\n",
        )?;
        std::fs::set_permissions(&ps, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
        cmd.env_clear()
            .env("FIXCAST_HOME", home)
            .env("FIXCAST_NO_COMPACT", "1")
            .env("HOME", tmp)
            .env("LANG", "C.UTF-8")
            .env(
                "PATH",
                format!(
                    "{}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    bin.display()
                ),
            );
    }
    cmd.env("SHELL", "/bin/bash")
        .env("TERM", "xterm-256color")
        .current_dir(tmp);
    let rec = util::run_measured(&mut cmd, RECORD_LIMIT, "fixcast rec (size)")?;
    println!("size: recorded in {:.2} s", rec.wall.as_secs_f64());
    Ok(())
}

/// The id of the one session in `home`.
fn only_session(fixcast: &Path, home: &Path) -> anyhow::Result<String> {
    let sessions = util::sessions(fixcast, home)?;
    let [s] = sessions.as_slice() else {
        bail!("expected one session, found {}", sessions.len());
    };
    Ok(s["id"].as_str().context("session without id")?.to_owned())
}

/// `fixcast export ID --format cast-v3 -o OUT`.
fn export_cast(fixcast: &Path, home: &Path, id: &str, out: &Path) -> anyhow::Result<()> {
    util::output_of(
        &mut util::fixcast_cmd(
            fixcast,
            home,
            &[
                "export",
                id,
                "--format",
                "cast-v3",
                "-o",
                &out.display().to_string(),
            ],
        ),
        Duration::from_secs(120),
        "fixcast export",
    )?;
    Ok(())
}

/// Measures the one session in `home` as stored fresh, compacted, and compacted and
/// served, against zstd of its cast-v3 export; reports the served + compacted ratio.
fn measure(fixcast: &Path, home: &Path, tmp: &Path, what: &str) -> anyhow::Result<()> {
    let sessions = util::sessions(fixcast, home)?;
    let [s] = sessions.as_slice() else {
        bail!("expected one session, found {}", sessions.len());
    };
    let id = s["id"].as_str().context("session without id")?.to_owned();
    let output = s["bytes"]["output"].as_u64().unwrap_or(0);
    let dropped = s["bytes"]["dropped"].as_u64().unwrap_or(0);
    let dir = home.join("sessions").join(&id);
    let folder = util::dir_bytes(&dir)?;
    let files = listing(&dir)?;
    let cast = tmp.join("session.cast");
    export_cast(fixcast, home, &id, &cast)?;
    let cast_size = std::fs::metadata(&cast)?.len();

    let z3 = zstd(&cast, &["-3"], tmp)?;
    let z19 = zstd(&cast, &["-19"], tmp)?;
    let vs = |bytes: u64| {
        format!(
            "{:.3}x of zstd -3, {:.3}x of zstd -19",
            bytes as f64 / z3.0 as f64,
            bytes as f64 / z19.0 as f64
        )
    };
    println!(
        "size: session folder fresh {} ({folder} B: {}); {}",
        mb(folder),
        files,
        vs(folder)
    );
    println!(
        "size: zstd -3 of the cast-v3 export {} ({} B), zstd -19 {} ({} B, {:.3}x of -3)",
        mb(z3.0),
        z3.0,
        mb(z19.0),
        z19.0,
        z19.0 as f64 / z3.0 as f64
    );

    // Compacted (as `rec` does in the background), then served (the player's segments
    // built, as the page opens it); the segments and the time of a first seek (the index
    // and the last segment from a server that has built nothing yet).
    let segments = |what: &str| -> anyhow::Result<(usize, Duration)> {
        let server = Server::start(fixcast, home, tmp)?;
        let t0 = std::time::Instant::now();
        let (status, body) = http::get(
            server.addr,
            &format!("/api/sessions/{id}/segments"),
            SERVE_LIMIT,
        )?;
        if status != 200 {
            bail!("segments ({what}): HTTP {status}");
        }
        let index: serde_json::Value = serde_json::from_slice(&body)?;
        let n = index["segments"].as_array().map_or(0, Vec::len);
        // The last segment, served from the recording's own frames.
        let (status, _) = http::get(
            server.addr,
            &format!("/api/sessions/{id}/segments/{}", n.saturating_sub(1)),
            SERVE_LIMIT,
        )?;
        if status != 200 {
            bail!("last segment ({what}): HTTP {status}");
        }
        Ok((n, t0.elapsed()))
    };
    let m = util::run_measured(
        &mut util::fixcast_cmd(fixcast, home, &["compact", &id]),
        COMPACT_LIMIT,
        "fixcast compact",
    )?;
    let compacted = util::dir_bytes(&dir)?;
    println!(
        "size: compacted {} ({compacted} B: {}); {}; compaction {:.2} s wall, {:.2} s CPU, peak RSS {} MiB ({:.1} MB/s of cast)",
        mb(compacted),
        listing(&dir)?,
        vs(compacted),
        m.wall.as_secs_f64(),
        m.cpu.as_secs_f64(),
        m.maxrss_kib / 1024,
        cast_size as f64 / 1e6 / m.wall.as_secs_f64()
    );
    let (n, first_seek) = segments("compacted")?;
    let both = util::dir_bytes(&dir)?;
    let served_files = listing(&dir)?;
    println!(
        "size: compacted + served ({n} segments; a first seek, the index and the last segment from a fresh server, {} ms) {} ({both} B: {served_files}); {}",
        first_seek.as_millis(),
        mb(both),
        vs(both)
    );
    let ratio = both as f64 / z3.0 as f64;
    crate::report::figure(
        "size",
        format!(
            "bytes on disk, {COMMANDS}-command session, {what} (served + compacted folder vs v3 + zstd -3)"
        ),
        format!("{ratio:.3}x ({both} B: {served_files})"),
        format!("zstd -19: {:.3}x", z19.0 as f64 / z3.0 as f64),
        "≤ 0.40x",
        Some(ratio <= 0.40),
    );
    crate::report::figure(
        "size",
        format!("first seek into the {what}, served by a fresh server (index + last segment, its segments built)"),
        format!("{} ms", first_seek.as_millis()),
        "—",
        "≤ 300 ms",
        Some(first_seek <= Duration::from_millis(300)),
    );
    crate::report::figure(
        "size",
        format!("compaction, {what} ({} of cast)", mb(cast_size)),
        format!(
            "{:.2} s, {:.2} s CPU, peak RSS {} MiB",
            m.wall.as_secs_f64(),
            m.cpu.as_secs_f64(),
            m.maxrss_kib / 1024
        ),
        format!("zstd -19: {:.2} s", z19.1),
        "—",
        None,
    );
    println!(
        "size: cast-v3 export uncompressed {} ({cast_size} B); terminal output {} ({output} B, dropped {dropped})",
        mb(cast_size),
        mb(output),
    );
    println!(
        "size: compression ratio (cast / stored): fixcast folder fresh {:.1}:1, served + compacted {:.1}:1, zstd -3 {:.1}:1",
        cast_size as f64 / folder as f64,
        cast_size as f64 / both as f64,
        cast_size as f64 / z3.0 as f64
    );
    for args in [
        &["-6"][..],
        &["-3", "--long=27"],
        &["-9", "--long=27"],
        &["-19", "--long=27"],
    ] {
        let (bytes, secs) = zstd(&cast, args, tmp)?;
        println!(
            "size: zstd {:<13} {:>9} ({bytes} B); vs zstd -3 {:.3}x, vs fixcast served + compacted {:.3}x; compress {secs:.2} s",
            args.join(" "),
            mb(bytes),
            bytes as f64 / z3.0 as f64,
            bytes as f64 / both as f64
        );
    }
    std::fs::remove_file(&cast)?;
    Ok(())
}

/// A folder's files and their sizes, `name size, …`.
fn listing(dir: &Path) -> anyhow::Result<String> {
    let mut files: Vec<(String, u64)> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            Some((
                e.file_name().to_string_lossy().into_owned(),
                e.metadata().ok()?.len(),
            ))
        })
        .collect();
    files.sort();
    Ok(files
        .iter()
        .map(|(n, l)| format!("{n} {l}"))
        .collect::<Vec<_>>()
        .join(", "))
}

/// Compresses `file` with the zstd CLI; the compressed size and the time it took.
fn zstd(file: &Path, args: &[&str], dir: &Path) -> anyhow::Result<(u64, f64)> {
    let out = dir.join("out.zst");
    let mut cmd = Command::new("zstd");
    cmd.args(["-q", "-f"])
        .args(args)
        .arg(file)
        .arg("-o")
        .arg(&out);
    let m = util::run_measured(&mut cmd, ZSTD_LIMIT, &format!("zstd {}", args.join(" ")))?;
    let len = std::fs::metadata(&out)?.len();
    std::fs::remove_file(&out)?;
    Ok((len, m.wall.as_secs_f64()))
}

/// The session script and the names of the commands in its mix.
pub(crate) fn generate_script() -> anyhow::Result<(String, Vec<String>)> {
    let mut mix: Vec<(&str, u64)> = MIX.to_vec();
    for &(c, w, probe) in OPTIONAL {
        let ok = Command::new("sh")
            .args(["-c", &format!("{probe} >/dev/null 2>&1")])
            .stdin(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            mix.push((c, w));
        }
    }
    let total: u64 = mix.iter().map(|&(_, w)| w).sum();
    let mut rng = Rng::new(2_000);
    let mut s = String::from("#!/bin/bash\n# fixcast-bench: a generated debugging session\n");
    for _ in 0..COMMANDS {
        let mut pick = rng.below(total);
        let cmd = mix
            .iter()
            .find(|&&(_, w)| {
                if pick < w {
                    true
                } else {
                    pick -= w;
                    false
                }
            })
            .map_or(mix[0].0, |&(c, _)| c);
        let dir = PROMPT_DIRS[rng.below(PROMPT_DIRS.len() as u64) as usize];
        writeln!(
            s,
            "printf '\\033[01;32mroot@node1\\033[00m:\\033[01;34m%s\\033[00m# %s\\n' {} {}",
            quote(dir),
            quote(cmd)
        )?;
        writeln!(s, "{cmd} 2>&1")?;
    }
    Ok((s, mix.iter().map(|&(c, _)| c.to_owned()).collect()))
}

/// Single-quoted for sh.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}
