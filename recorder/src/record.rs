//! The recording loop. Four threads:
//! - passthrough out (the hot path): PTY -> user's terminal, then a copy to the queue;
//! - passthrough in: user's keys -> PTY (a copy to the queue only with `record_input`),
//!   in [`crate::input`];
//! - signals: window resizes and hang-ups;
//! - writer: queue -> events -> sinks, with a flush at least every second, in
//!   [`crate::writer`].
//!
//! The hot path only moves bytes: no terminal emulation, no encoding, no disk.

use std::os::fd::AsFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use filedescriptor::FileDescriptor;
use rustix::event::{poll, PollFd, PollFlags};
use rustix::process::Signal;
use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGWINCH};
use signal_hook::iterator::Signals;

use crate::error::Error;
use crate::input::{pass_input, Input};
use crate::notes::{FailedEnds, NotePass, PromptNotes};
use crate::pty::{Command, Pty};
use crate::queue::{Chunk, Queue};
use crate::redact::Rules;
use crate::resize::Resizer;
use crate::sink::Sink;
use crate::strip::MarkStripper;
use crate::tty::{self, RawMode};
use crate::writer::{write_events, Written};

/// How a recording is run.
#[derive(Debug, Clone)]
pub struct Options {
    pub command: Command,
    /// PTY size to start with (the real terminal's, or `--cols/--rows`).
    pub cols: u16,
    pub rows: u16,
    /// Treat stdin as the user's terminal: raw mode, resizes followed. Without it, stdin
    /// is forwarded as it comes until EOF, then the PTY gets an end-of-file (Ctrl-D).
    pub interactive: bool,
    /// Store keystrokes as `i` events.
    pub record_input: bool,
    /// Redact secrets before any sink sees them (`None`: record as is). Only the
    /// recording is redacted: the user's terminal shows everything.
    pub redact: Option<Rules>,
    /// Take the shell integration's marks out of what is passed through to stdout (for
    /// a stdout that is no terminal, where they are noise); the recording keeps them.
    pub hide_marks: bool,
    /// Notes to show before the prompt after a failed command (see [`PromptNotes`]);
    /// with them, the writer also releases held output at each failed command's end
    /// mark, so whoever writes the notes sees the failure at once.
    pub notes: Option<PromptNotes>,
}

/// How a recording ended.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The program's exit status (128 + signal if a signal ended it).
    pub exit_status: i32,
    /// Microseconds from start to the last event.
    pub duration: u64,
    pub output_bytes: u64,
    pub input_bytes: u64,
    /// Bytes typed while the terminal read a secret (echo off), which were not recorded
    /// (counted only with `record_input`).
    pub input_withheld: u64,
    /// Secrets replaced in the recording.
    pub redacted: u64,
    /// Output that reached the terminal but not the sinks (the writer fell behind).
    pub dropped_bytes: u64,
    /// Sinks that failed, and why; a failed sink gets no more events.
    pub sink_errors: Vec<String>,
}

/// How long output is still drained after the program exits (for a last write racing
/// the exit, or background jobs that hold the terminal open).
const DRAIN_AFTER_EXIT: Duration = Duration::from_millis(500);

/// How long a program hung up by SIGTERM/SIGHUP to fixcast has to exit before it is
/// killed, so that the recording always ends.
const HANGUP_GRACE: Duration = Duration::from_secs(5);

/// Runs `opts.command` in a PTY, passing it through to the user's terminal and every
/// event to `sinks`, until the program exits.
pub fn record(opts: Options, sinks: Vec<Box<dyn Sink>>) -> Result<Outcome, Error> {
    record_then(opts, sinks, || {})
}

/// Like [`record`], calling `started` once the program has started: before any of its
/// output is passed through, and before the terminal is raw (a plain `\n` ends a line).
/// A program that cannot be started is an error, and `started` is not called.
pub fn record_then(
    opts: Options,
    sinks: Vec<Box<dyn Sink>>,
    started: impl FnOnce(),
) -> Result<Outcome, Error> {
    // Caught before the program starts: a SIGTERM that comes as soon as it prints must
    // hang it up like any other, not kill fixcast with the terminal left raw.
    let mut signals = Signals::new([SIGWINCH, SIGTERM, SIGHUP, SIGINT, SIGQUIT])?;
    let pty = Pty::spawn(&opts.command, opts.cols, opts.rows)?;
    started();
    let start = Instant::now();
    let micros = move || start.elapsed().as_micros() as u64;
    let (reader, writer) = pty.endpoints()?;
    let raw = if opts.interactive {
        RawMode::enable()
    } else {
        None
    };
    let pty = Arc::new(pty);
    let queue = Arc::new(Queue::default());
    // Changes of the user's terminal are followed from its size now (the PTY may have
    // been given another with --cols/--rows).
    let resizer = Arc::new(Resizer::new(
        tty::size_of(std::io::stdin()).unwrap_or((opts.cols, opts.rows)),
    ));

    let writer_thread = {
        let queue = queue.clone();
        let redactor = opts.redact.as_ref().map(Rules::redactor);
        let ends = opts.notes.as_ref().map(|_| FailedEnds::default());
        thread::Builder::new()
            .name("fixcast-writer".into())
            .spawn(move || write_events(&queue, sinks, redactor, ends))?
    };
    let (out_done_tx, out_done) = mpsc::channel();
    let last_output = Arc::new(AtomicU64::new(0));
    let output_bytes = Arc::new(AtomicU64::new(0));
    {
        let queue = queue.clone();
        let (last_output, output_bytes) = (last_output.clone(), output_bytes.clone());
        let stripper = opts.hide_marks.then(MarkStripper::default);
        let notes = opts.notes.clone().map(NotePass::new);
        thread::Builder::new()
            .name("fixcast-out".into())
            .spawn(move || {
                let counts = (&*last_output, &*output_bytes);
                pass_output(reader, &queue, counts, stripper, micros, notes);
                let _ = out_done_tx.send(());
            })?;
    }
    let (stop_r, stop_w) = rustix::pipe::pipe().map_err(std::io::Error::from)?;
    let input_thread = {
        let queue = queue.clone();
        let input = Input {
            pty: pty.clone(),
            record: opts.record_input,
            interactive: opts.interactive,
            last_output,
            resizer: resizer.clone(),
        };
        thread::Builder::new()
            .name("fixcast-in".into())
            .spawn(move || pass_input(writer, stop_r, &queue, micros, input))?
    };
    let signal_handle = signals.handle();
    let signal_thread = {
        let (pty, queue, resizer) = (pty.clone(), queue.clone(), resizer.clone());
        let interactive = opts.interactive;
        thread::Builder::new()
            .name("fixcast-signals".into())
            .spawn(move || {
                for sig in signals.forever() {
                    match sig {
                        SIGWINCH if interactive => resizer.follow(&pty, &queue, micros()),
                        SIGINT => pty.signal_foreground(Signal::INT),
                        SIGQUIT => pty.signal_foreground(Signal::QUIT),
                        SIGTERM | SIGHUP => pty.hang_up_until_gone(HANGUP_GRACE),
                        _ => {}
                    }
                }
            })?
    };

    let exit_status = pty.wait();
    // Background jobs may hold the terminal open: what they print later is not recorded.
    let _ = out_done.recv_timeout(DRAIN_AFTER_EXIT);
    let output_bytes = output_bytes.load(Ordering::Relaxed);
    let duration = micros();
    queue.push(duration, Chunk::Exit(exit_status));
    queue.close();
    let _ = rustix::io::write(&stop_w, b"x");
    signal_handle.close();
    let _ = signal_thread.join();
    let (input_bytes, input_withheld) = input_thread.join().unwrap_or((0, 0));
    let Written {
        dropped: dropped_bytes,
        redacted,
        sink_errors,
    } = writer_thread.join().unwrap_or_else(|_| Written {
        sink_errors: vec!["writer thread panicked".into()],
        ..Written::default()
    });
    drop(raw);
    Ok(Outcome {
        exit_status,
        duration,
        output_bytes,
        input_bytes,
        input_withheld,
        redacted,
        dropped_bytes,
        sink_errors,
    })
}

/// The hot path, until the terminal closes; notes the time of the latest output and
/// counts the bytes passed through (`last_output`, `total`), with the integration's
/// marks taken out of what stdout gets when there is a `stripper`. `reader` is
/// non-blocking (see [`Pty::endpoints`]): it is waited for with `poll`.
fn pass_output(
    reader: FileDescriptor,
    queue: &Queue,
    (last_output, total): (&AtomicU64, &AtomicU64),
    mut stripper: Option<MarkStripper>,
    micros: impl Fn() -> u64,
    mut notes: Option<NotePass>,
) {
    let stdout = std::io::stdout();
    let out = stdout.as_fd();
    let stderr = std::io::stderr();
    let err = stderr.as_fd();
    let mut terminal_ok = true;
    let mut buf = vec![0u8; 128 << 10];
    let mut shown = Vec::new();
    loop {
        let n = match rustix::io::read(&reader, &mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(rustix::io::Errno::INTR) => continue,
            Err(rustix::io::Errno::AGAIN) => {
                let mut fds = [PollFd::new(&reader, PollFlags::IN)];
                match poll(&mut fds, None) {
                    Ok(_) if fds[0].revents().contains(PollFlags::NVAL) => break,
                    Ok(_) | Err(rustix::io::Errno::INTR) => continue,
                    Err(_) => break,
                }
            }
            // EIO: the last process holding the terminal has gone.
            Err(_) => break,
        };
        let t = micros();
        last_output.store(t, Ordering::Relaxed);
        let bytes = &buf[..n];
        // Queued before the user can see it: a key pressed in answer to this output is
        // then always recorded after it (commands are cut by that order).
        let mut pushed = queue.push_output(t, bytes);
        let recorded = pushed.recorded;
        if terminal_ok {
            let mut write = |b: &[u8]| match &mut stripper {
                Some(s) => {
                    s.filter(b, &mut shown);
                    write_all(out, &shown)
                }
                None => write_all(out, b),
            };
            terminal_ok = match &mut notes {
                // Never into the recording: the note is not queued. The note's writer
                // learns of the failure from the writer thread: woken before waiting
                // (the push may have left the wake to `pushed`), and told not to gather
                // more output first.
                Some(n) => n.pass(
                    bytes,
                    recorded,
                    &mut write,
                    &mut |note| {
                        write_all(err, note);
                    },
                    &mut || {
                        queue.wake_now();
                        queue.wake(&mut pushed);
                    },
                ),
                None => write(bytes),
            };
        }
        // Only now, with the output on its way to the user: see [`Queue::wake`].
        queue.wake(&mut pushed);
        total.fetch_add(n as u64, Ordering::Relaxed);
    }
}

fn write_all(fd: std::os::fd::BorrowedFd<'_>, mut bytes: &[u8]) -> bool {
    while !bytes.is_empty() {
        match rustix::io::write(fd, bytes) {
            Ok(0) => return false,
            Ok(n) => bytes = &bytes[n..],
            Err(rustix::io::Errno::INTR) => {}
            Err(rustix::io::Errno::AGAIN) => thread::sleep(Duration::from_millis(1)),
            Err(_) => return false,
        }
    }
    true
}
