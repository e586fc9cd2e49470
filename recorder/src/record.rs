//! The recording loop. Four threads:
//! - passthrough out (the hot path): PTY -> user's terminal, then a copy to the queue;
//! - passthrough in: user's keys -> PTY (a copy to the queue only with `record_input`),
//!   in [`crate::input`];
//! - signals: window resizes and hang-ups;
//! - writer: queue -> events -> sinks, with a flush at least every second.
//!
//! The hot path only moves bytes: no terminal emulation, no encoding, no disk.

use std::os::fd::AsFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use filedescriptor::FileDescriptor;
use fixcast_sessions::{Event, EventKind};
use rustix::event::{poll, PollFd, PollFlags};
use rustix::process::Signal;
use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGWINCH};
use signal_hook::iterator::Signals;

use crate::commands::Chapters;
use crate::error::Error;
use crate::input::{pass_input, Input};
use crate::notes::{FailedEnds, NotePass, PromptNotes};
use crate::pty::{Command, Pty};
use crate::queue::{Chunk, Queue, BACKLOG};
use crate::redact::{Redactor, Rules};
use crate::resize::Resizer;
use crate::sink::Sink;
use crate::strip::MarkStripper;
use crate::tty::{self, RawMode};
use crate::utf8::Utf8Stream;

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

/// How often what was recorded is written to disk (and fdatasync'd), at the most.
const FLUSH_EVERY: Duration = Duration::from_secs(1);

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

/// Output within [`FLOOD_WINDOW`] that means a flood (about 1 MiB/s, far more than a
/// person reads): the writer goes fast, whether or not it has fallen behind yet.
const BEHIND: usize = 256 << 10;
const FLOOD_WINDOW: Duration = Duration::from_millis(250);
/// Bytes in one batch that mean the writer caught up.
const CAUGHT_UP: usize = 32 << 10;
/// Output buffer kept between batches: what the queue holds while the writer is working
/// (see [`BACKLOG`]); a larger one (a stuck writer's backlog) is released.
const SPARE_OUTPUT: usize = 2 * BACKLOG;
/// How long the writer stays fast after it last fell behind.
const STAY_FAST: Duration = Duration::from_secs(2);

/// What the writer thread did.
#[derive(Default)]
struct Written {
    dropped: u64,
    redacted: u64,
    sink_errors: Vec<String>,
}

/// The writer thread: turns chunks into events (output redacted first, when asked) and
/// feeds the sinks.
fn write_events(
    queue: &Queue,
    sinks: Vec<Box<dyn Sink>>,
    mut redactor: Option<Redactor>,
    mut ends: Option<FailedEnds>,
) -> Written {
    let mut out = Emitter {
        sinks,
        failed: Vec::new(),
        chapters: Chapters::default(),
    };
    out.failed = vec![None; out.sinks.len()];
    let mut out_text = Utf8Stream::default();
    let mut in_text = Utf8Stream::default();
    let mut pieces = Vec::new();
    let mut batch = Vec::new();
    // Sized once for a flood's batches: grown by doubling instead, a flood leaves the
    // smaller buffers behind in the allocator, resident.
    let mut batch_output = Vec::with_capacity(BACKLOG);
    let mut dropped = 0u64;
    let mut last = 0u64;
    let mut dirty = false;
    let mut behind = false;
    let mut behind_until = Instant::now();
    let (mut window_start, mut window_bytes) = (Instant::now(), 0usize);
    let mut next_flush = Instant::now() + FLUSH_EVERY;
    loop {
        // Text held back by the redactor is released in time, even if nothing follows.
        let deadline = redactor
            .as_ref()
            .and_then(Redactor::release_at)
            .map_or(next_flush, |r| r.min(next_flush));
        // Gathered into batches during a flood only (see [`Queue::take`]).
        let (closed, batch_bytes) = queue.take(deadline, behind, &mut batch, &mut batch_output);
        let mut output_at = 0;
        // Much output in a short time is a flood: judged by the rate, not by one batch's
        // size, since a writer woken often keeps its batches small, and at the strong
        // level it would fall behind, then catch up fast, then go strong again. Once
        // fast, the writer stays so for a while: a flood comes in waves, and switching
        // back at the first small batch would fall behind again at once.
        let now = Instant::now();
        if now >= window_start + FLOOD_WINDOW {
            (window_start, window_bytes) = (now, 0);
        }
        window_bytes += batch_bytes;
        if window_bytes > BEHIND {
            behind_until = now + STAY_FAST;
        }
        let now_behind = now < behind_until || (behind && batch_bytes >= CAUGHT_UP);
        if now_behind != behind {
            behind = now_behind;
            for sink in out.sinks.iter_mut() {
                sink.pressure(behind);
            }
        }
        for (t, chunk) in batch.drain(..) {
            let time = if t == u64::MAX { last } else { t.max(last) };
            last = time;
            if let Chunk::Output(len) = chunk {
                let b = &batch_output[output_at..output_at + len];
                output_at += len;
                let text = out_text.decode(b);
                if !text.is_empty() {
                    match &mut redactor {
                        Some(r) => {
                            r.push(time, &text, &mut pieces);
                            // The prompt after a failure would be held (it has no
                            // line end) while the passthrough waits for its note.
                            if ends
                                .as_mut()
                                .is_some_and(|e| !e.all(text.as_bytes()).is_empty())
                            {
                                r.flush(&mut pieces);
                            }
                            out.outputs(&mut pieces);
                        }
                        None => out.output(time, text),
                    }
                    dirty = true;
                }
                continue;
            }
            // Whatever output is held goes first: events keep their order.
            if let Some(r) = &mut redactor {
                if matches!(chunk, Chunk::Exit(_)) {
                    r.push(time, &out_text.finish(), &mut pieces);
                }
                r.flush(&mut pieces);
                out.outputs(&mut pieces);
            }
            let kind = match chunk {
                Chunk::Output(_) => unreachable!("handled above"),
                Chunk::Input(b) => {
                    let text = in_text.decode(&b);
                    if text.is_empty() {
                        continue;
                    }
                    // Keys come a few at a time: only what arrives in one read is
                    // seen whole (the echo, in the output, is redacted as a line).
                    match &redactor {
                        Some(r) => EventKind::Input(r.rules().redact_text(&text)),
                        None => EventKind::Input(text),
                    }
                }
                Chunk::Resize(cols, rows) => EventKind::Resize { cols, rows },
                // An empty input event: Enter was pressed, what was typed is not kept.
                Chunk::Enter => EventKind::Input(String::new()),
                Chunk::Dropped(n) => {
                    dropped += n;
                    EventKind::Marker(format!(
                        "fixcast: {n} bytes of output not recorded (writer fell behind)"
                    ))
                }
                Chunk::Exit(code) => {
                    let tail = out_text.finish();
                    if !tail.is_empty() {
                        out.output(time, tail);
                    }
                    EventKind::Exit(code)
                }
            };
            out.emit(Event::new(time, kind));
            dirty = true;
        }
        // After a stuck writer's backlog, give back the memory it took (the queue gets
        // this buffer next).
        if batch_output.capacity() > SPARE_OUTPUT && batch_bytes < CAUGHT_UP {
            batch_output = Vec::with_capacity(BACKLOG);
        }
        if let Some(r) = redactor.as_mut().filter(|r| {
            r.release_at()
                .is_some_and(|at| closed || Instant::now() >= at)
        }) {
            r.flush(&mut pieces);
            out.outputs(&mut pieces);
            dirty = true;
        }
        if closed || Instant::now() >= next_flush {
            if dirty {
                for (sink, fail) in out.sinks.iter_mut().zip(out.failed.iter_mut()) {
                    if fail.is_none() {
                        if let Err(e) = sink.flush() {
                            report(&e.to_string());
                            *fail = Some(e.to_string());
                        }
                    }
                }
                dirty = false;
            }
            for sink in out.sinks.iter_mut() {
                sink.tick();
            }
            // On a one-second grid, not one second after this flush ended: a slow fsync
            // must not stretch the time output waits before it is written.
            next_flush += FLUSH_EVERY;
            let now = Instant::now();
            if next_flush <= now {
                next_flush = now + FLUSH_EVERY;
            }
        }
        if closed {
            break;
        }
    }
    for (sink, fail) in out.sinks.iter_mut().zip(out.failed.iter_mut()) {
        if fail.is_none() {
            if let Err(e) = sink.finish() {
                *fail = Some(e.to_string());
            }
        }
    }
    Written {
        dropped,
        redacted: redactor.as_ref().map_or(0, Redactor::redacted),
        sink_errors: out.failed.into_iter().flatten().collect(),
    }
}

/// The sinks, those that failed, and the chapters found in the output sent to them.
struct Emitter {
    sinks: Vec<Box<dyn Sink>>,
    failed: Vec<Option<String>>,
    chapters: Chapters,
}

impl Emitter {
    /// An output event, then a marker for each command it starts.
    fn output(&mut self, time: u64, text: String) {
        let markers = self.chapters.scan(&text);
        self.emit(Event::new(time, EventKind::Output(text)));
        for label in markers {
            self.emit(Event::new(time, EventKind::Marker(label)));
        }
    }

    fn outputs(&mut self, pieces: &mut Vec<(u64, String)>) {
        for (time, text) in pieces.drain(..) {
            self.output(time, text);
        }
    }

    fn emit(&mut self, ev: Event) {
        emit(&mut self.sinks, &mut self.failed, ev);
    }
}

fn emit(sinks: &mut [Box<dyn Sink>], failed: &mut [Option<String>], ev: Event) {
    for (sink, fail) in sinks.iter_mut().zip(failed.iter_mut()) {
        if fail.is_none() {
            if let Err(e) = sink.event(&ev) {
                report(&e.to_string());
                *fail = Some(e.to_string());
            }
        }
    }
}

/// One line on stderr, readable even while the terminal is raw.
fn report(msg: &str) {
    eprint!("\r\nfixcast: recording failed: {msg}; the shell keeps running but is no longer recorded\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Keeps the pressure it was told, and the output's length.
    struct Watch(Arc<Mutex<(Vec<bool>, usize)>>);

    impl Sink for Watch {
        fn event(&mut self, ev: &Event) -> Result<(), crate::SinkError> {
            if let EventKind::Output(t) = &ev.kind {
                self.0.lock().unwrap().1 += t.len();
            }
            Ok(())
        }
        fn flush(&mut self) -> Result<(), crate::SinkError> {
            Ok(())
        }
        fn pressure(&mut self, behind: bool) {
            self.0.lock().unwrap().0.push(behind);
        }
        fn finish(&mut self) -> Result<(), crate::SinkError> {
            Ok(())
        }
    }

    /// A flood that the writer keeps up with, read by read (its batches stay small),
    /// still puts it in the fast mode: at the strong level it would soon fall behind.
    #[test]
    fn a_steady_flood_in_small_reads_makes_the_writer_fast() {
        let queue = Arc::new(Queue::default());
        let seen = Arc::new(Mutex::new((Vec::new(), 0)));
        let writer = {
            let (queue, sink) = (queue.clone(), Watch(seen.clone()));
            thread::spawn(move || write_events(&queue, vec![Box::new(sink)], None, None))
        };
        // 8 KiB every 2 ms (4 MB/s) for half a second.
        let piece = [b'x'; 8 << 10];
        let start = Instant::now();
        for i in 0..250u64 {
            let mut p = queue.push_output(i * 2000, &piece);
            queue.wake(&mut p);
            thread::sleep(
                (start + Duration::from_millis(2 * i)).saturating_duration_since(Instant::now()),
            );
        }
        queue.push(500_000, Chunk::Exit(0));
        queue.close();
        writer.join().unwrap();
        let (pressure, bytes) = &*seen.lock().unwrap();
        assert_eq!(*bytes, 250 * piece.len());
        assert_eq!(pressure.first(), Some(&true), "told {pressure:?}");
    }
}
