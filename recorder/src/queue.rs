//! The hand-off between the passthrough threads and the writer thread: a queue bounded
//! by bytes. While the writer works through its backlog, the output passthrough waits
//! for it once [`BACKLOG`] bytes are queued, so a flood is paced to the writer instead
//! of piling up in memory (nothing is lost while the disk keeps up). A writer that takes
//! nothing for [`STALL`] is stuck (a slow disk): it is waited for no more until it takes
//! again, the queue grows to [`CAPACITY`], and output beyond that is dropped from the
//! recording (never from the user's terminal) and counted.

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
    /// The writer waits in [`Queue::take`] for chunks: the next push wakes it.
    writer_waits: bool,
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
            writer_waits: false,
            stuck: false,
        }
    }
}

#[derive(Default)]
pub struct Queue {
    state: Mutex<State>,
    /// Chunks for the writer.
    ready: Condvar,
    /// Room for the passthrough: the writer took its backlog.
    room: Condvar,
}

impl Queue {
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
                s = self
                    .room
                    .wait_timeout(s, give_up - now)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
        }
        if s.bytes + bytes.len() > CAPACITY {
            s.dropped += bytes.len() as u64;
            return Pushed {
                recorded: false,
                wake: false,
            };
        }
        s.output.extend_from_slice(bytes);
        let wake = Self::queue(&mut s, time, Chunk::Output(bytes.len()), bytes.len());
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
        let wake = Self::queue(&mut s, time, chunk, len);
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
    /// waits for it.
    fn queue(s: &mut State, time: u64, chunk: Chunk, len: usize) -> bool {
        if s.dropped > 0 {
            // Say where the gap is, in order, before the output that follows it.
            let n = std::mem::take(&mut s.dropped);
            s.chunks.push_back((time, Chunk::Dropped(n)));
        }
        s.bytes += len;
        s.chunks.push_back((time, chunk));
        // Woken once: it takes everything at once.
        std::mem::take(&mut s.writer_waits)
    }

    /// No more chunks will come.
    pub fn close(&self) {
        let mut s = self.lock();
        s.closed = true;
        drop(s);
        self.ready.notify_all();
        self.room.notify_all();
    }

    /// Waits until chunks are queued, the queue is closed, or `deadline` passes, then takes
    /// everything queued: the chunks into `into`, the bytes of their output into `output`
    /// (which is cleared first, and whose allocation the queue keeps for the next batch).
    /// Returns whether the queue is closed (and now empty), and the bytes taken.
    pub fn take(
        &self,
        deadline: Instant,
        into: &mut Vec<(u64, Chunk)>,
        output: &mut Vec<u8>,
    ) -> (bool, usize) {
        let mut s = self.lock();
        while s.chunks.is_empty() && !s.closed {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            let wait = (deadline - now).min(Duration::from_secs(1));
            s.writer_waits = true;
            s = self
                .ready
                .wait_timeout(s, wait)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        s.writer_waits = false;
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
        drop(s);
        if bytes > 0 {
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
        q.take(Instant::now(), &mut got, &mut out);
        assert_eq!(out.len(), CAPACITY);
        assert!(q.push_output(3, b"c").recorded);
        q.take(Instant::now(), &mut got, &mut out);
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
                    let (closed, n) = q.take(Instant::now() + STALL, &mut got, &mut out);
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
                q.take(Instant::now() + Duration::from_secs(30), &mut got, &mut out);
                took.store(true, Ordering::SeqCst);
                got.len()
            })
        };
        // The writer is waiting once the queue's state says so.
        while !q.lock().writer_waits {
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

    #[test]
    fn take_returns_at_the_deadline_when_idle() {
        let q = Queue::default();
        let (mut got, mut out) = (Vec::new(), Vec::new());
        let start = Instant::now();
        assert!(
            !q.take(start + Duration::from_millis(30), &mut got, &mut out)
                .0
        );
        assert!(start.elapsed() >= Duration::from_millis(30));
        q.close();
        assert!(
            q.take(Instant::now() + Duration::from_secs(5), &mut got, &mut out)
                .0
        );
        assert!(got.is_empty());
    }
}
