//! Latency: how long a typed key takes to come back as its echo, in a bare bash and in the
//! same bash under `fixcast rec`, both on PTYs this process owns.

use std::io::{Read, Write};
use std::os::fd::RawFd;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use portable_pty::{native_pty_system, Child, CommandBuilder, MasterPty, PtySize};

use crate::util::{self, median_f64, percentile, TempDir};

const WARMUP: usize = 20;
/// Keys typed on one line before Ctrl-U clears it.
const PER_LINE: usize = 40;
const ECHO_LIMIT: Duration = Duration::from_secs(2);
const KEY: u8 = b'a';

/// One program on a PTY of our own.
struct Term {
    child: Box<dyn Child + Send + Sync>,
    _master: Box<dyn MasterPty + Send>,
    reader: Box<dyn Read + Send>,
    writer: Box<dyn Write + Send>,
    fd: RawFd,
    seen: Vec<u8>,
    buf: Vec<u8>,
}

impl Term {
    fn start(cmd: CommandBuilder) -> anyhow::Result<Term> {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: 24,
                cols: 80,
                pixel_width: 0,
                pixel_height: 0,
            })
            .map_err(|e| anyhow::anyhow!("openpty: {e}"))?;
        let child = pair
            .slave
            .spawn_command(cmd)
            .map_err(|e| anyhow::anyhow!("spawn on the PTY: {e}"))?;
        drop(pair.slave);
        let reader = pair
            .master
            .try_clone_reader()
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let writer = pair
            .master
            .take_writer()
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let fd = pair.master.as_raw_fd().context("PTY master without fd")?;
        Ok(Term {
            child,
            _master: pair.master,
            reader,
            writer,
            fd,
            seen: Vec::new(),
            buf: vec![0; 64 << 10],
        })
    }

    /// Waits up to `timeout` for output and reads what is there; 0 bytes on timeout.
    fn read_some(&mut self, timeout: Duration) -> anyhow::Result<usize> {
        let mut pfd = libc::pollfd {
            fd: self.fd,
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
        // SAFETY: one valid pollfd for the master fd, which `self` keeps open.
        let r = unsafe { libc::poll(&mut pfd, 1, ms) };
        if r < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                return Ok(0);
            }
            return Err(e).context("poll");
        }
        if r == 0 {
            return Ok(0);
        }
        let n = self
            .reader
            .read(&mut self.buf)
            .context("read from the PTY")?;
        if n == 0 {
            bail!("the program on the PTY exited");
        }
        Ok(n)
    }

    fn wait_for(&mut self, pat: &[u8], limit: Duration, what: &str) -> anyhow::Result<()> {
        let deadline = Instant::now() + limit;
        while !self.seen.windows(pat.len()).any(|w| w == pat) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                bail!(
                    "no {what} within {}s; output so far: {:?}",
                    limit.as_secs(),
                    String::from_utf8_lossy(&self.seen)
                );
            }
            let n = self.read_some(left)?;
            let got = self.buf[..n].to_vec();
            self.seen.extend_from_slice(&got);
        }
        Ok(())
    }

    /// Reads until the output has been quiet for `quiet`.
    fn settle(&mut self, quiet: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.read_some(quiet)? > 0 {
            if Instant::now() > deadline {
                bail!("the terminal never went quiet");
            }
        }
        Ok(())
    }

    fn press(&mut self, keys: &[u8]) -> anyhow::Result<()> {
        self.writer.write_all(keys)?;
        self.writer.flush()?;
        Ok(())
    }

    /// Types one key and times its echo.
    fn echo(&mut self) -> anyhow::Result<Duration> {
        self.settle(Duration::ZERO)?;
        let t0 = Instant::now();
        self.press(&[KEY])?;
        loop {
            let left = ECHO_LIMIT.saturating_sub(t0.elapsed());
            if left.is_zero() {
                bail!("no echo within {}s", ECHO_LIMIT.as_secs());
            }
            let n = self.read_some(left)?;
            if self.buf[..n].contains(&KEY) {
                return Ok(t0.elapsed());
            }
        }
    }

    /// Types `exit`, waits for the program to end; its exit code.
    fn exit(&mut self) -> anyhow::Result<u32> {
        self.press(b"\x15exit\r")?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(st) = self.child.try_wait()? {
                return Ok(st.exit_code());
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                bail!("did not exit within 10s of `exit`");
            }
            // Keep the PTY drained so the program never blocks on a full buffer.
            match self.read_some(Duration::from_millis(10)) {
                Ok(_) => {}
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub fn run(fixcast: &Path, samples: usize) -> anyhow::Result<()> {
    println!(
        "== latency: keystroke echo time (write '{}' to the PTY master until its echo is read back) in interactive `bash --norc --noprofile`: \
         bare, under `fixcast rec`, and under util-linux `script -q /dev/null` (a plain PTY relay, for reference); 80x24 PTYs, \
         {samples} samples each after {WARMUP} warm-up, taken in rotation; Ctrl-U every {PER_LINE} keys",
        KEY as char
    );
    let tmp = TempDir::new("latency")?;
    let wrapper = tmp.path().join("bash-norc");
    std::fs::write(
        &wrapper,
        "#!/bin/sh\nexec /bin/bash --norc --noprofile \"$@\"\n",
    )?;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755))?;
    let home = tmp.path().join("home");
    let builder = |program: &Path, args: &[&str]| {
        let mut cmd = CommandBuilder::new(program);
        cmd.args(args);
        cmd.cwd(tmp.path());
        cmd.env("SHELL", &wrapper);
        cmd.env("PS1", "$ ");
        cmd.env("TERM", "xterm-256color");
        cmd.env("HISTFILE", "/dev/null");
        cmd.env("INPUTRC", "/dev/null");
        cmd.env("FIXCAST_HOME", &home);
        cmd.env_remove("FIXCAST_SESSION");
        cmd.env_remove("PROMPT_COMMAND");
        cmd
    };
    // [bare, fixcast rec, script]
    let names = ["bare bash", "fixcast rec", "script"];
    let mut terms = [
        Term::start(builder(&wrapper, &[]))?,
        Term::start(builder(fixcast, &["rec"]))?,
        Term::start(builder(Path::new("script"), &["-q", "/dev/null"]))?,
    ];
    for (t, name) in terms.iter_mut().zip(names) {
        t.wait_for(
            b"$ ",
            Duration::from_secs(15),
            &format!("prompt from {name}"),
        )?;
        t.settle(Duration::from_millis(100))?;
    }

    let mut times: [Vec<f64>; 3] = Default::default();
    let mut on_line = 0;
    for i in 0..WARMUP + samples {
        for k in 0..3 {
            let j = (i + k) % 3;
            let d = terms[j].echo().with_context(|| names[j])?;
            if i >= WARMUP {
                times[j].push(d.as_secs_f64() * 1e6);
            }
        }
        on_line += 1;
        if on_line == PER_LINE {
            on_line = 0;
            for t in terms.iter_mut() {
                t.press(b"\x15")?;
                t.settle(Duration::from_millis(20))?;
            }
        }
    }

    let mut exits = [0; 3];
    for (j, t) in terms.iter_mut().enumerate() {
        exits[j] = t.exit().context(names[j])?;
    }
    drop(terms);
    let sessions = util::sessions(fixcast, &home)?;
    let status = match sessions.as_slice() {
        [s] => format!(
            "status {}, exit_status {}",
            s["status"].as_str().unwrap_or("?"),
            s["exit_status"]
        ),
        other => format!("{} sessions found", other.len()),
    };

    let [bare, rec, script] = &times;
    let med = |v: &[f64]| median_f64(v);
    let p99 = |v: &[f64]| percentile(v, 99.0);
    let paired = |v: &[f64]| {
        let d: Vec<f64> = bare.iter().zip(v).map(|(x, y)| y - x).collect();
        median_f64(&d)
    };
    println!(
        "latency: bare bash median {:.1} µs, p99 {:.1} µs; under fixcast rec median {:.1} µs, p99 {:.1} µs; under script median {:.1} µs, p99 {:.1} µs ({samples} samples each)",
        med(bare), p99(bare), med(rec), p99(rec), med(script), p99(script)
    );
    println!(
        "latency: added by fixcast rec: median {:+.1} µs (median of paired differences {:+.1} µs), p99 {:+.1} µs; ratio {:.2}x",
        med(rec) - med(bare),
        paired(rec),
        p99(rec) - p99(bare),
        med(rec) / med(bare)
    );
    println!(
        "latency: added by script (reference: one more PTY, single-threaded relay): median {:+.1} µs (paired {:+.1} µs), p99 {:+.1} µs; fixcast rec - script: median {:+.1} µs",
        med(script) - med(bare),
        paired(script),
        p99(script) - p99(bare),
        med(rec) - med(script)
    );
    println!(
        "latency: min bare {:.1} µs, fixcast rec {:.1} µs, script {:.1} µs; after `exit`: fixcast rec exited {} ({status}), bare bash {}, script {}",
        percentile(bare, 0.0),
        percentile(rec, 0.0),
        percentile(script, 0.0),
        exits[1],
        exits[0],
        exits[2]
    );
    // Paired differences: each sample against the bare bash's in the same round, so a
    // load that comes and goes shifts both alike.
    let (added, by_script) = (paired(rec), paired(script));
    crate::report::figure(
        "latency",
        "added keystroke echo latency (median of paired differences vs bare bash)",
        format!(
            "{added:+.1} µs (p99 {:+.1} µs; {samples} samples)",
            p99(rec) - p99(bare)
        ),
        format!(
            "script: {by_script:+.1} µs (p99 {:+.1} µs), same rotation",
            p99(script) - p99(bare)
        ),
        "≤ script's",
        Some(added <= by_script),
    );
    Ok(())
}
