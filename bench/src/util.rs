//! Shared pieces: temp dirs that clean up, a PRNG, timed child runs with their rusage,
//! statistics and number formatting.

use std::ffi::OsStr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{mpsc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};

/// Temp dirs alive right now, removed by the Ctrl-C handler too.
static LIVE_DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// A directory under the system temp dir, removed (with everything in it) on drop.
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub fn new(tag: &str) -> anyhow::Result<TempDir> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = std::env::temp_dir().join(format!(
            "fixcast-bench-{tag}-{}-{nanos:08x}",
            std::process::id()
        ));
        std::fs::create_dir(&path).with_context(|| format!("cannot create {}", path.display()))?;
        LIVE_DIRS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(path.clone());
        Ok(TempDir { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
        LIVE_DIRS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|p| p != &self.path);
    }
}

/// On Ctrl-C (or SIGTERM/SIGHUP): remove the temp dirs, then exit 130. The children share
/// the terminal's process group and get the signal themselves.
pub fn clean_up_on_signals() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return;
    };
    thread::spawn(move || {
        if signals.forever().next().is_some() {
            // Give children that got the same signal a moment to let go of their files.
            thread::sleep(Duration::from_millis(300));
            for dir in LIVE_DIRS.lock().unwrap_or_else(|e| e.into_inner()).iter() {
                let _ = std::fs::remove_dir_all(dir);
            }
            eprintln!("fixcast-bench: interrupted; temp dirs removed");
            std::process::exit(130);
        }
    });
}

/// xorshift64*: fast, deterministic, good enough for test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform-ish in `0..n` (n small: the modulo bias is negligible).
    pub fn below(&mut self, n: u64) -> u64 {
        (self.next_u64() >> 11) % n
    }
}

/// One finished child: how long it took and what the kernel accounted to it.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    pub wall: Duration,
    /// user + system CPU of the child and every descendant it waited for.
    pub cpu: Duration,
    /// Peak RSS in KiB: the maximum over the child and its waited-for descendants.
    pub maxrss_kib: u64,
}

/// Runs `cmd` with stdin, stdout and stderr on /dev/null, kills
/// it after `limit`, and reaps it with `wait4` to get its resource usage. Fails on a
/// non-zero exit or a timeout.
pub fn run_measured(cmd: &mut Command, limit: Duration, what: &str) -> anyhow::Result<Measured> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own process group, so a timeout takes what runs under it too (a candidate
        // run through GNU time would outlive a kill of `time` alone).
        .process_group(0);
    let t0 = Instant::now();
    let child = cmd
        .spawn()
        .with_context(|| format!("cannot start {what}"))?;
    let pid = child.id() as libc::pid_t;
    let (done, watch) = mpsc::channel::<()>();
    let dog = thread::spawn(move || {
        if watch.recv_timeout(limit) != Err(mpsc::RecvTimeoutError::Timeout) {
            return false;
        }
        // SAFETY: plain syscall on the group of a pid we spawned and have not reaped yet
        // (the main thread is blocked in wait4 on it and only drops `done` after reaping).
        unsafe { libc::kill(-pid, libc::SIGTERM) };
        if watch.recv_timeout(Duration::from_secs(3)) == Err(mpsc::RecvTimeoutError::Timeout) {
            // SAFETY: as above.
            unsafe { libc::kill(-pid, libc::SIGKILL) };
        }
        true
    });
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data; all-zero is a valid value.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: valid pointers to locals; `pid` is our unreaped child.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
        if r == pid {
            break;
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(err).context("wait4");
        }
    }
    let wall = t0.elapsed();
    drop(done);
    drop(child); // already reaped: dropping a Child neither waits nor kills
    if dog.join().unwrap_or(false) {
        bail!(
            "{what} took longer than {}s and was killed",
            limit.as_secs()
        );
    }
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        bail!("{what} failed (wait status {status:#x})");
    }
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Ok(Measured {
        wall,
        cpu: tv(ru.ru_utime) + tv(ru.ru_stime),
        maxrss_kib: ru.ru_maxrss as u64,
    })
}

/// Runs a command to completion (with a time limit), returning its stdout.
pub fn output_of(cmd: &mut Command, limit: Duration, what: &str) -> anyhow::Result<Vec<u8>> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot start {what}"))?;
    let mut out = child.stdout.take().expect("piped");
    let mut err = child.stderr.take().expect("piped");
    let reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = std::io::Read::read_to_end(&mut out, &mut buf);
        buf
    });
    let err_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = std::io::Read::read_to_end(&mut err, &mut buf);
        buf
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "{what} took longer than {}s and was killed",
                limit.as_secs()
            );
        }
        thread::sleep(Duration::from_millis(5));
    };
    let out = reader.join().unwrap_or_default();
    let err = err_reader.join().unwrap_or_default();
    if !status.success() {
        bail!(
            "{what} failed ({status}): {}",
            String::from_utf8_lossy(&err).trim()
        );
    }
    Ok(out)
}

/// A `fixcast` command with a private home, and never nested in the caller's session.
pub fn fixcast_cmd(fixcast: &Path, home: &Path, args: &[impl AsRef<OsStr>]) -> Command {
    let mut cmd = Command::new(fixcast);
    cmd.args(args)
        .env("FIXCAST_HOME", home)
        .env_remove("FIXCAST_SESSION")
        // No compaction in the background after `rec`/`import`: it would take a core
        // from whatever is measured next (the size section compacts on purpose).
        .env("FIXCAST_NO_COMPACT", "1");
    cmd
}

/// The sessions in `home`, from `fixcast ls --json`.
pub fn sessions(fixcast: &Path, home: &Path) -> anyhow::Result<Vec<serde_json::Value>> {
    let out = output_of(
        &mut fixcast_cmd(fixcast, home, &["ls", "--json"]),
        Duration::from_secs(60),
        "fixcast ls --json",
    )?;
    let v: serde_json::Value =
        serde_json::from_slice(&out).context("fixcast ls --json printed no JSON")?;
    match v {
        serde_json::Value::Array(a) => Ok(a),
        _ => bail!("fixcast ls --json printed no array"),
    }
}

/// Sum of the sizes of the files in `dir` (not recursive; `du -b` style for a flat dir).
pub fn dir_bytes(dir: &Path) -> anyhow::Result<u64> {
    let mut total = 0;
    for e in std::fs::read_dir(dir)? {
        let m = e?.metadata()?;
        if m.is_file() {
            total += m.len();
        }
    }
    Ok(total)
}

pub fn median_f64(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Nearest-rank percentile (`p` in 0..=100).
pub fn percentile(xs: &[f64], p: f64) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

/// `12.3 MB` (decimal units, as `du --si` and MB/s figures use).
pub fn mb(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e6 {
        format!("{:.2} MB", b / 1e6)
    } else {
        format!("{:.1} kB", b / 1e3)
    }
}

pub fn list(xs: &[f64], digits: usize) -> String {
    let parts: Vec<String> = xs.iter().map(|x| format!("{x:.digits$}")).collect();
    format!("[{}]", parts.join(", "))
}

/// The 1, 5 and 15 minute load averages, as `/proc/loadavg` says them.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "unknown".into(),
        |l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    )
}

/// Runs `cmd` through GNU `time -f %M` (see [`via_time`]), with its peak RSS from
/// there, and its wall and CPU time as [`run_measured`] has them; `scratch`: a folder
/// for time's report.
pub fn run_measured_rss(
    cmd: &mut Command,
    limit: Duration,
    scratch: &Path,
    what: &str,
) -> anyhow::Result<Measured> {
    let report = scratch.join("maxrss.txt");
    let _ = std::fs::remove_file(&report);
    let mut m = run_measured(&mut via_time(cmd, &report), limit, what)?;
    let text = std::fs::read_to_string(&report)
        .with_context(|| format!("{TIME} wrote no {}", report.display()))?;
    // The figure is the last line ("Command exited with…" may come before it).
    m.maxrss_kib = text
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .with_context(|| format!("{TIME}: expected a peak RSS in KiB, got {text:?}"))?;
    Ok(m)
}

/// GNU time, the small process between the bench and each candidate.
const TIME: &str = "/usr/bin/time";

/// A clear error when GNU time, through which peak RSS is measured, is missing.
pub fn require_gnu_time() -> anyhow::Result<()> {
    if !Path::new(TIME).exists() {
        bail!("{TIME} not found: install GNU time (`apt-get install time`); the candidates' peak RSS is measured through it");
    }
    Ok(())
}

/// `cmd` run by GNU `time -f %M -o report`. A child's `wait4` peak RSS starts from its
/// parent's: Linux carries the pre-exec memory map's high-water mark over `exec`, and a
/// forked (or vforked) child's is the bench's own. The bench holds megabytes (the flood's
/// generator, serde, asciinema's finder), so measured directly, a candidate smaller than
/// that reads as the bench's size (script read 8 MiB, its own peak is about 3). `time`
/// is small: its child's figure is the candidate's.
fn via_time(cmd: &Command, report: &Path) -> Command {
    let mut t = Command::new(TIME);
    t.arg("-f").arg("%M").arg("-o").arg(report).arg("--");
    t.arg(cmd.get_program()).args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => t.env(k, v),
            None => t.env_remove(k),
        };
    }
    if let Some(dir) = cmd.get_current_dir() {
        t.current_dir(dir);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run past its limit is killed with everything it started (a candidate under
    /// GNU time outlived a kill of `time` alone).
    #[test]
    fn a_timeout_kills_what_the_run_started() {
        let tmp = TempDir::new("fixcast-bench-util").unwrap();
        let pid_file = tmp.path().join("pid");
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(format!("sleep 60 & echo $! > {}; wait", pid_file.display()));
        let r = run_measured(&mut cmd, Duration::from_millis(500), "sleeper");
        assert!(r.is_err(), "the run was not reported as killed");
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        let stat = PathBuf::from(format!("/proc/{}/stat", pid.trim()));
        // Killed, it may linger as a zombie until init reaps it: that counts as gone.
        let running = || {
            std::fs::read_to_string(&stat).is_ok_and(|s| {
                s.rsplit(')')
                    .next()
                    .is_some_and(|r| !r.trim_start().starts_with('Z'))
            })
        };
        let t0 = Instant::now();
        while running() && t0.elapsed() < Duration::from_secs(5) {
            thread::sleep(Duration::from_millis(20));
        }
        let alive = running();
        if alive {
            let _ = Command::new("kill").arg("-9").arg(pid.trim()).status();
        }
        assert!(
            !alive,
            "the run's child {} survived the timeout",
            pid.trim()
        );
    }
}
