//! `fixcast serve` started by a benchmark: on loopback port 0, its address read from what
//! it prints, its memory and CPU read from `/proc`, stopped by pid when dropped.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::util;

/// `fixcast serve --bind 127.0.0.1:0` on a home; stopped (SIGTERM, then SIGKILL) by pid on
/// drop.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT/`, as the server printed it.
    pub url: String,
}

impl Server {
    pub fn start(fixcast: &Path, home: &Path, tmp: &Path) -> anyhow::Result<Server> {
        let log = std::fs::File::create(tmp.join(format!(
            "serve-{}.log",
            home.file_name().and_then(|n| n.to_str()).unwrap_or("home")
        )))?;
        // Every viewer of a benchmark comes from 127.0.0.1: lift the per-client limit.
        let args = [
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--max-connections-per-ip",
            "100000",
        ];
        let mut child = util::fixcast_cmd(fixcast, home, &args)
            .env_remove("FIXCAST_TOKEN")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .context("cannot start fixcast serve")?;
        let out = child.stdout.take().context("stdout")?;
        let mut server = Server {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            url: String::new(),
        };
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut out = BufReader::new(out);
            let mut line = String::new();
            let _ = out.read_line(&mut line);
            let _ = tx.send(line);
            // Keep draining, so the server never blocks on a full pipe.
            let _ = std::io::copy(&mut out, &mut std::io::sink());
        });
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .context("fixcast serve printed no address within 30 s")?;
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .with_context(|| format!("no address in {line:?}"))?;
        server.addr = url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .with_context(|| format!("bad address in {line:?}"))?;
        if !server.addr.ip().is_loopback() {
            bail!("fixcast serve is not on loopback: {line:?}");
        }
        server.url = url.to_owned();
        Ok(server)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// (VmRSS KiB, VmHWM KiB, threads) from `/proc/<pid>/status`.
    pub fn memory(&self) -> (u64, u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        (field("VmRSS:"), field("VmHWM:"), field("Threads:"))
    }
}

impl Server {
    /// CPU seconds (user + system) the server used so far, from `/proc/<pid>/stat`.
    pub fn cpu(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // After the command name in parentheses: state is field 3, utime 14, stime 15.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let f: Vec<f64> = rest
            .split_whitespace()
            .map(|x| x.parse().unwrap_or(f64::NAN))
            .collect();
        // SAFETY: plain sysconf query.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
        match f.get(11..13) {
            Some([u, s]) if hz > 0.0 => (u + s) / hz,
            _ => f64::NAN,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        stop_child(&mut self.child);
    }
}

/// SIGTERM, up to 5 s, then SIGKILL; reaped.
pub fn stop_child(child: &mut Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    // SAFETY: plain syscall on our own child, not reaped yet.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(5) {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}
