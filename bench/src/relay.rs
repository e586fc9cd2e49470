//! The "bare relay": the smallest PTY relay there is, a floor for any recorder whose
//! output passes through a PTY. `fixcast-bench relay -- CMD` opens a PTY (200×50, as
//! the throughput bench gives fixcast), runs `$SHELL -c CMD` on its slave as the session
//! leader, and copies the master to stdout until the slave is closed; nothing is
//! recorded. Its variants (read size, how it waits, the slave's termios) show what can
//! and cannot move the kernel's part of the hand-off cat → PTY → reader.

use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use anyhow::{bail, Context};

/// How the relay waits for output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Wait {
    /// A blocking `read`: no `poll` at all.
    Block,
    /// `O_NONBLOCK`, and `poll` on `EAGAIN` (what `fixcast rec` does).
    Poll,
    /// `O_NONBLOCK`, and `read` again at once on `EAGAIN` (burns a core).
    Spin,
}

/// The slave's termios when the command starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Termios {
    /// The kernel's default (cooked; `opost onlcr`: every `\n` leaves as `\r\n`), as
    /// under `script` with stdin no terminal, and under `fixcast rec`.
    Cooked,
    /// `-opost`: output untouched by the line discipline (no `\r` added).
    NoOpost,
    /// `cfmakeraw`: no output processing, no echo, no line editing.
    Raw,
}

/// What `fixcast-bench relay` was asked to do.
#[derive(Debug, Clone)]
pub struct Relay {
    pub read: usize,
    pub wait: Wait,
    pub termios: Termios,
    pub command: String,
}

impl Relay {
    /// The arguments of `fixcast-bench relay` that run this relay.
    pub fn args(&self) -> Vec<String> {
        vec![
            "relay".into(),
            "--read".into(),
            self.read.to_string(),
            "--wait".into(),
            name(&self.wait),
            "--termios".into(),
            name(&self.termios),
            "--".into(),
            self.command.clone(),
        ]
    }

    /// A short name for the bench's rows.
    pub fn label(&self) -> String {
        format!(
            "relay read={}K wait={} termios={}",
            self.read >> 10,
            name(&self.wait),
            name(&self.termios)
        )
    }
}

/// A value's name on the command line.
fn name(x: &impl clap::ValueEnum) -> String {
    x.to_possible_value()
        .map_or_else(String::new, |p| p.get_name().to_owned())
}

fn os_err(what: &str) -> anyhow::Error {
    anyhow::Error::new(std::io::Error::last_os_error()).context(what.to_owned())
}

/// Runs the relay until the command's terminal is closed; fails if the command failed.
pub fn run(r: &Relay) -> anyhow::Result<()> {
    if r.read == 0 {
        bail!("--read must be at least 1 byte");
    }
    let (master, slave) = open_pty(r.termios)?;
    let shell = std::env::var("SHELL").unwrap_or_else(|_| "/bin/sh".into());
    let io = |what| -> anyhow::Result<Stdio> { Ok(Stdio::from(slave.try_clone().context(what)?)) };
    let mut cmd = Command::new(&shell);
    cmd.args(["-c", &r.command])
        .stdin(io("dup the slave")?)
        .stdout(io("dup the slave")?)
        .stderr(io("dup the slave")?);
    // SAFETY: only async-signal-safe syscalls between fork and exec: a new session, and
    // its controlling terminal the slave (fd 0 by now), as a terminal emulator does.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY as _, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot start {shell}"))?;
    // Only the child holds the slave now (`cmd` keeps the copies it was given), or reads
    // never see it closed.
    drop(cmd);
    drop(slave);
    let fd = master.as_raw_fd();
    if r.wait != Wait::Block {
        // SAFETY: fcntl on a descriptor we own.
        let ok = unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFL);
            flags >= 0 && libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) == 0
        };
        if !ok {
            return Err(os_err("cannot make the master non-blocking"));
        }
    }
    let mut buf = vec![0u8; r.read];
    let mut out = std::io::stdout().lock();
    let mut bytes = 0u64;
    loop {
        // SAFETY: reads into a buffer we own, at most its length.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n > 0 {
            out.write_all(&buf[..n as usize])
                .context("cannot write to stdout")?;
            bytes += n as u64;
            continue;
        }
        if n == 0 {
            break;
        }
        match std::io::Error::last_os_error().raw_os_error() {
            Some(libc::EINTR) => {}
            Some(libc::EAGAIN) if r.wait == Wait::Spin => {}
            Some(libc::EAGAIN) => {
                let mut pfd = libc::pollfd {
                    fd,
                    events: libc::POLLIN,
                    revents: 0,
                };
                // SAFETY: one pollfd of ours.
                unsafe { libc::poll(&mut pfd, 1, -1) };
            }
            // EIO: the slave's last holder has gone.
            _ => break,
        }
    }
    out.flush().context("cannot write to stdout")?;
    let status = child.wait().context("cannot wait for the command")?;
    if !status.success() {
        bail!("{} failed ({status}) after {bytes} bytes", r.command);
    }
    Ok(())
}

/// A PTY pair 200×50 with the slave's termios set as asked.
fn open_pty(termios: Termios) -> anyhow::Result<(OwnedFd, OwnedFd)> {
    let (mut m, mut s) = (-1, -1);
    let ws = libc::winsize {
        ws_row: 50,
        ws_col: 200,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: out-pointers to locals; no name buffer, default termios.
    if unsafe { libc::openpty(&mut m, &mut s, std::ptr::null_mut(), std::ptr::null(), &ws) } < 0 {
        return Err(os_err("openpty"));
    }
    // SAFETY: openpty just gave us these two descriptors, owned by nobody else.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(m), OwnedFd::from_raw_fd(s)) };
    if termios != Termios::Cooked {
        // SAFETY: termios is plain old data, filled by tcgetattr before use.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: a descriptor we own and a local termios.
        if unsafe { libc::tcgetattr(s, &mut t) } < 0 {
            return Err(os_err("tcgetattr"));
        }
        match termios {
            Termios::NoOpost => t.c_oflag &= !libc::OPOST,
            // SAFETY: edits the local termios only.
            Termios::Raw => unsafe { libc::cfmakeraw(&mut t) },
            Termios::Cooked => {}
        }
        // SAFETY: as for tcgetattr.
        if unsafe { libc::tcsetattr(s, libc::TCSANOW, &t) } < 0 {
            return Err(os_err("tcsetattr"));
        }
    }
    Ok((master, slave))
}
