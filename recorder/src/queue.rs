//! The hand-off between the passthrough threads and the writer thread: a queue bounded
//! by bytes. While the writer works through its backlog, the output passthrough waits
//! for it once [`BACKLOG`] bytes are queued, so a flood is paced to the writer instead
//! of piling up in memory (nothing is lost while the disk keeps up). A writer that takes
//! nothing for [`STALL`] is stuck (a slow disk): it is waited for no more until it takes
//! again, the queue grows to [`CAPACITY`], and output beyond that is dropped from the
//! recording (never from the user's terminal) and counted.
//!
//! During a flood, the writer is woken per batch, not per read: the PTY gives at most
//! 4 KiB a read, and a writer woken for each (a futex wake and a context switch, on the
//! cores the program and the passthrough need) costs a flood more than its encoding.
//! A writer that asks to gather sleeps, once output is queued, until [`BATCH`] bytes are
//! ready or [`GATHER`] has passed since the first of them; anything but output (keys,
//! resizes, the exit) and [`Queue::wake_now`] end the wait at once. Every chunk keeps
//! the time it was read at, so gathering changes no event's time. Outside a flood the
//! writer takes each read's output at once: an interactive shell's writer then runs
//! once per echo, as it always did, not a second time a few ms later.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How far (in bytes) a stuck writer may fall behind before output is dropped.
pub const CAPACITY: usize = 64 << 20;
/// How far (in bytes) a working writer may fall behind before the output passthrough
/// waits for it: the memory a flood takes (twice this: the queue's buffer and the
/// writer's batch), against how often the program is paused while the writer syncs.
pub const BACKLOG: usize = 2 << 20;
/// How long the passthrough waits for a writer that takes nothing before calling it
/// stuck (longer than a sync of a second's output on a working disk).
pub const STALL: Duration = Duration::from_millis(250);
/// Queued output that wakes a gathering writer (16 of the PTY's reads).
pub const BATCH: usize = 64 << 10;
/// How long the writer gathers output that fills no batch: short next to a live
/// viewer's or a note's wait, and to the once-a-second flush.
pub const GATHER: Duration = Duration::from_millis(4);

/// Raw material for an event, as the passthrough threads saw it.
#[derive(Debug)]
pub enum Chunk {
    /// This many bytes of output, next in the batch's output buffer (see [`Queue::take`]).
    Output(usize),
    Input(Vec<u8>),
    Resize(u16, u16),
    /// Enter was pressed (with echo on): a timing mark, no content.
    Enter,
    /// `n` output bytes were not recorded: the writer was too far behind.
    Dropped(u64),
    /// The program exited with this status; the last chunk.
    Exit(i32),
}

/// What [`Queue::push_output`] did. The writer is woken by [`Queue::wake`], after the
/// output has gone to the terminal: waking it first would let it take the CPU (and its
/// encoding and compression) between a key's echo and the user's screen.
#[must_use = "pass it to Queue::wake"]
#[derive(Debug)]
pub struct Pushed {
    /// Whether the output was queued (false: dropped).
    pub recorded: bool,
    wake: bool,
}

struct State {
    chunks: VecDeque<(u64, Chunk)>,
    /// The bytes of the queued `Output` chunks, in order. The writer swaps it for the
    /// buffer it is done with, so output is copied once and nothing is allocated per read
    /// (or freed on another thread than the one that allocated it).
    output: Vec<u8>,
    bytes: usize,
    dropped: u64,
    closed: bool,
    /// How the writer waits in [`Queue::take`], and so which push wakes it.
    writer_waits: Waits,
    /// When the queue last went from empty to holding chunks: a gathering writer takes
    /// them [`GATHER`] after it.
    first_at: Option<Instant>,
    /// Something not to gather (see [`Queue::wake_now`]) is queued.
    urgent: bool,
    /// The passthrough waits for room: the writer's next take wakes it.
    passthrough_waits: bool,
    /// The passthrough waited [`STALL`] and the writer took nothing: it is not waited for
    /// again until it takes.
    stuck: bool,
}

impl Default for State {
    fn default() -> Self {
        State {
            chunks: VecDeque::new(),
            // Sized once (see the writer's batch buffer, which it is swapped with).
            output: Vec::with_capacity(BACKLOG),
            bytes: 0,
            dropped: 0,
            closed: false,
            writer_waits: Waits::No,
            first_at: None,
            urgent: false,
            passthrough_waits: false,
            stuck: false,
        }
    }
}

/// How the writer waits for chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Waits {
    No,
    /// For the first chunk: any push wakes it.
    ForAny,
    /// For a batch to fill: only the push that fills it, or anything urgent, wakes it.
    ForBatch,
}

pub struct Queue {
    state: Mutex<State>,
    /// Chunks for the writer.
    ready: Condvar,
    /// Room for the passthrough: the writer took its backlog.
    room: Condvar,
    /// [`GATHER`], longer in tests.
    gather: Duration,
}

impl Default for Queue {
    fn default() -> Self {
        Queue::with_gather(GATHER)
    }
}

impl Queue {
    /// A queue whose writer gathers output for `gather` (see [`GATHER`]).
    pub fn with_gather(gather: Duration) -> Self {
        Queue {
            state: Mutex::default(),
            ready: Condvar::new(),
            room: Condvar::new(),
            gather,
        }
    }

    /// Adds a copy of `bytes` as output stamped `time` (µs), first waiting (at most
    /// [`STALL`]) for a writer that is [`BACKLOG`] behind. The writer is woken by
    /// [`Queue::wake`] with what this returns.
    pub fn push_output(&self, time: u64, bytes: &[u8]) -> Pushed {
        let mut s = self.lock();
        if s.bytes + bytes.len() > BACKLOG && !s.stuck && !s.closed {
            let give_up = Instant::now() + STALL;
            while s.bytes > 0 && s.bytes + bytes.len() > BACKLOG && !s.stuck {
                let now = Instant::now();
                if now >= give_up {
                    s.stuck = true;
                    break;
                }
                s.passthrough_waits = true;
                s = self
                    .room
                    .wait_timeout(s, give_up - now)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
            s.passthrough_waits = false;
        }
        if s.bytes + bytes.len() > CAPACITY {
            s.dropped += bytes.len() as u64;
            return Pushed {
                recorded: false,
                wake: false,
            };
        }
        s.output.extend_from_slice(bytes);
        let wake = Self::queue(&mut s, time, Chunk::Output(bytes.len()), bytes.len(), false);
        Pushed {
            recorded: true,
            wake,
        }
    }

    /// Wakes the writer if the push left it waiting (once: again is a no-op).
    pub fn wake(&self, pushed: &mut Pushed) {
        if std::mem::take(&mut pushed.wake) {
            self.ready.notify_one();
        }
    }

    /// Makes the writer take what is queued now, without gathering more: for output
    /// someone waits on the writer for (a failed command's end, which its note needs).
    /// A push whose [`Pushed`] still holds the wake has not woken the writer yet: pass it
    /// to [`Queue::wake`] too.
    pub fn wake_now(&self) {
        let mut s = self.lock();
        s.urgent = true;
        let waits = std::mem::replace(&mut s.writer_waits, Waits::No) != Waits::No;
        drop(s);
        if waits {
            self.ready.notify_one();
        }
    }

    /// Adds a chunk (anything but output) stamped `time` (µs), and wakes the writer.
    /// Returns false if it was dropped.
    pub fn push(&self, time: u64, chunk: Chunk) -> bool {
        debug_assert!(
            !matches!(chunk, Chunk::Output(_)),
            "output goes through push_output"
        );
        let len = match &chunk {
            Chunk::Input(b) => b.len(),
            _ => 0,
        };
        let mut s = self.lock();
        if s.bytes + len > CAPACITY {
            return false;
        }
        let wake = Self::queue(&mut s, time, chunk, len, true);
        drop(s);
        if wake {
            self.ready.notify_one();
        }
        true
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `chunk` (after a gap's marker, if output was dropped); whether the writer
    /// waits for it (`urgent`: for it to be taken without gathering).
    fn queue(s: &mut State, time: u64, chunk: Chunk, len: usize, urgent: bool) -> bool {
        if s.chunks.is_empty() {
            s.first_at = Some(Instant::now());
        }
        if s.dropped > 0 {
            // Say where the gap is, in order, before the output that follows it.
            let n = std::mem::take(&mut s.dropped);
            s.chunks.push_back((time, Chunk::Dropped(n)));
        }
        s.bytes += len;
        s.chunks.push_back((time, chunk));
        s.urgent |= urgent;
        let wake = match s.writer_waits {
            Waits::No => false,
            Waits::ForAny => true,
            Waits::ForBatch => s.urgent || s.bytes >= BATCH,
        };
        // Woken once: it takes everything at once.
        if wake {
            s.writer_waits = Waits::No;
        }
        wake
    }

    /// No more chunks will come.
    pub fn close(&self) {
        let mut s = self.lock();
        s.closed = true;
        drop(s);
        self.ready.notify_all();
        self.room.notify_all();
    }

    /// Waits until chunks are queued (with `gather`, until a batch is ready: see the
    /// module's doc), the queue is closed, or `deadline` passes, then takes everything
    /// queued: the chunks into `into`, the bytes of their output into `output` (which is
    /// cleared first, and whose allocation the queue keeps for the next batch). Returns
    /// whether the queue is closed (and now empty), and the bytes taken.
    pub fn take(
        &self,
        deadline: Instant,
        gather: bool,
        into: &mut Vec<(u64, Chunk)>,
        output: &mut Vec<u8>,
    ) -> (bool, usize) {
        let mut s = self.lock();
        while !s.closed && !s.urgent && (s.chunks.is_empty() || gather && s.bytes < BATCH) {
            let until = match s.first_at {
                Some(first) if !s.chunks.is_empty() => deadline.min(first + self.gather),
                _ => deadline,
            };
            let now = Instant::now();
            if now >= until {
                break;
            }
            s.writer_waits = if s.chunks.is_empty() {
                Waits::ForAny
            } else {
                Waits::ForBatch
            };
            s = self
                .ready
                .wait_timeout(s, (until - now).min(Duration::from_secs(1)))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        s.writer_waits = Waits::No;
        s.urgent = false;
        s.first_at = None;
        into.extend(s.chunks.drain(..));
        output.clear();
        std::mem::swap(output, &mut s.output);
        let bytes = std::mem::take(&mut s.bytes);
        let closed = s.closed;
        if closed && s.dropped > 0 {
            let n = std::mem::take(&mut s.dropped);
            into.push((u64::MAX, Chunk::Dropped(n)));
        }
        // Working again: worth waiting for.
        s.stuck = false;
        let room = bytes > 0 && std::mem::take(&mut s.passthrough_waits);
        drop(s);
        if room {
            self.room.notify_all();
        }
        (closed, bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    #[test]
    fn a_stuck_writer_is_waited_for_once_then_output_is_dropped_and_the_gap_reported() {
        let q = Queue::default();
        assert!(q.push_output(1, &vec![b'a'; CAPACITY]).recorded);
        let t = Instant::now();
        assert!(!q.push_output(2, &[b'b'; 10]).recorded);
        assert!(t.elapsed() >= STALL, "waited {:?}", t.elapsed());
        // Stuck: not waited for again.
        let t = Instant::now();
        assert!(!q.push_output(2, &[b'b'; 5]).recorded);
        assert!(t.elapsed() < STALL, "waited {:?}", t.elapsed());
        let (mut got, mut out) = (Vec::new(), Vec::new());
        q.take(Instant::now(), false, &mut got, &mut out);
        assert_eq!(out.len(), CAPACITY);
        assert!(q.push_output(3, b"c").recorded);
        q.take(Instant::now(), false, &mut got, &mut out);
        assert!(matches!(got[1], (3, Chunk::Dropped(15))));
        assert!(matches!(&got[2], (3, Chunk::Output(1))));
        assert_eq!(out, b"c");
    }

    /// A writer slower than the program, but working: the program is paced to it, so
    /// the queue never holds more than the backlog, and nothing is dropped.
    #[test]
    fn a_working_writer_paces_the_passthrough_instead_of_queueing_a_flood() {
        let q = Arc::new(Queue::default());
        let writer = {
            let q = q.clone();
            std::thread::spawn(move || {
                let (mut got, mut out) = (Vec::new(), Vec::new());
                let (mut most, mut total) = (0, 0);
                loop {
                    got.clear();
                    let (closed, n) = q.take(Instant::now() + STALL, false, &mut got, &mut out);
                    most = most.max(n);
                    total += n;
                    if closed {
                        return (most, total);
                    }
                    // Compressing and syncing what it took.
                    std::thread::sleep(Duration::from_millis(5));
                }
            })
        };
        let piece = vec![b'x'; 64 << 10];
        let pieces = 3 * CAPACITY / piece.len() / 2;
        for i in 0..pieces {
            let mut pushed = q.push_output(i as u64, &piece);
            assert!(pushed.recorded, "piece {i} dropped");
            q.wake(&mut pushed);
        }
        q.close();
        let (most, total) = writer.join().unwrap();
        assert_eq!(total, pieces * piece.len());
        assert!(most <= BACKLOG, "the writer took {most} bytes at once");
    }

    #[test]
    fn output_wakes_the_writer_only_when_told() {
        let q = Arc::new(Queue::default());
        let took = Arc::new(AtomicBool::new(false));
        let writer = {
            let (q, took) = (q.clone(), took.clone());
            std::thread::spawn(move || {
                let (mut got, mut out) = (Vec::new(), Vec::new());
                q.take(
                    Instant::now() + Duration::from_secs(30),
                    false,
                    &mut got,
                    &mut out,
                );
                took.store(true, Ordering::SeqCst);
                got.len()
            })
        };
        // The writer is waiting once the queue's state says so.
        while q.lock().writer_waits != Waits::ForAny {
            std::thread::sleep(Duration::from_millis(1));
        }
        let mut pushed = q.push_output(1, b"echo");
        std::thread::sleep(Duration::from_millis(100));
        assert!(
            !took.load(Ordering::SeqCst),
            "woken before the terminal got it"
        );
        q.wake(&mut pushed);
        assert_eq!(writer.join().unwrap(), 1);
    }

    /// A writer that takes (gathering or not) in a thread of its own, from `q`; what it
    /// took first, and how long it waited.
    fn one_take_as(
        q: &Arc<Queue>,
        gather: bool,
    ) -> std::thread::JoinHandle<(usize, usize, Duration)> {
        let q = q.clone();
        std::thread::spawn(move || {
            let (mut got, mut out) = (Vec::new(), Vec::new());
            let t = Instant::now();
            q.take(t + Duration::from_secs(60), gather, &mut got, &mut out);
            (got.len(), out.len(), t.elapsed())
        })
    }

    fn one_take(q: &Arc<Queue>) -> std::thread::JoinHandle<(usize, usize, Duration)> {
        one_take_as(q, true)
    }

    /// Outside a flood, a read's output is taken at once: no second wake per echo.
    #[test]
    fn a_writer_that_does_not_gather_takes_output_at_once() {
        let q = Arc::new(Queue::with_gather(Duration::from_secs(60)));
        let writer = one_take_as(&q, false);
        until_writer_waits(&q, Waits::ForAny);
        let mut p = q.push_output(0, b"a");
        q.wake(&mut p);
        let (_, bytes, waited) = writer.join().unwrap();
        assert_eq!(bytes, 1);
        assert!(waited < Duration::from_secs(30), "waited {waited:?}");
    }

    fn until_writer_waits(q: &Queue, how: Waits) {
        let give_up = Instant::now() + Duration::from_secs(20);
        while q.lock().writer_waits != how {
            assert!(Instant::now() < give_up, "the writer never waits {how:?}");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn the_writer_is_woken_per_batch_not_per_read() {
        let q = Arc::new(Queue::with_gather(Duration::from_secs(30)));
        let writer = one_take(&q);
        until_writer_waits(&q, Waits::ForAny);
        let piece = [b'x'; 4095];
        let mut first = q.push_output(0, &piece);
        assert!(first.wake, "the first output wakes a waiting writer");
        q.wake(&mut first);
        until_writer_waits(&q, Waits::ForBatch);
        let (mut queued, mut wakes) = (piece.len(), 0);
        while queued < BATCH {
            let mut p = q.push_output(1, &piece);
            queued += piece.len();
            wakes += usize::from(p.wake);
            q.wake(&mut p);
        }
        assert_eq!(
            wakes, 1,
            "only the read that fills the batch wakes the writer"
        );
        let (chunks, bytes, _) = writer.join().unwrap();
        assert_eq!((chunks, bytes), (queued.div_ceil(piece.len()), queued));
    }

    #[test]
    fn output_that_fills_no_batch_is_taken_after_the_gather_time() {
        let gather = Duration::from_millis(100);
        let q = Arc::new(Queue::with_gather(gather));
        let writer = one_take(&q);
        until_writer_waits(&q, Waits::ForAny);
        let mut p = q.push_output(0, b"$ ");
        q.wake(&mut p);
        let (chunks, bytes, waited) = writer.join().unwrap();
        assert_eq!((chunks, bytes), (1, 2));
        assert!(
            waited >= gather,
            "taken after {waited:?}, before the gather ended"
        );
        assert!(waited < Duration::from_secs(30), "waited {waited:?}");
    }

    #[test]
    fn keys_and_wake_now_end_the_gathering_at_once() {
        let q = Arc::new(Queue::with_gather(Duration::from_secs(60)));
        let key = |q: &Queue| assert!(q.push(1, Chunk::Input(b"q".to_vec())));
        let now = |q: &Queue| q.wake_now();
        for urgent in [&key as &dyn Fn(&Queue), &now] {
            let writer = one_take(&q);
            until_writer_waits(&q, Waits::ForAny);
            let mut p = q.push_output(0, b"out");
            q.wake(&mut p);
            until_writer_waits(&q, Waits::ForBatch);
            urgent(&q);
            let (_, bytes, waited) = writer.join().unwrap();
            assert_eq!(bytes, 3);
            assert!(waited < Duration::from_secs(30), "waited {waited:?}");
        }
    }

    #[test]
    fn take_returns_at_the_deadline_when_idle() {
        let q = Queue::default();
        let (mut got, mut out) = (Vec::new(), Vec::new());
        let start = Instant::now();
        assert!(
            !q.take(start + Duration::from_millis(30), false, &mut got, &mut out)
                .0
        );
        assert!(start.elapsed() >= Duration::from_millis(30));
        q.close();
        assert!(
            q.take(
                Instant::now() + Duration::from_secs(5),
                false,
                &mut got,
                &mut out
            )
            .0
        );
        assert!(got.is_empty());
    }
}
