//! The hand-off between the passthrough threads and the writer thread: a queue bounded
//! by bytes. Pushing never blocks; when the writer falls [`CAPACITY`] behind, output is
//! dropped from the recording (never from the user's terminal) and counted.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// How far (in bytes) the writer may fall behind before output is dropped.
pub const CAPACITY: usize = 64 << 20;

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

#[derive(Default)]
struct State {
    chunks: VecDeque<(u64, Chunk)>,
    /// The bytes of the queued `Output` chunks, in order. The writer swaps it for the
    /// buffer it is done with, so output is copied once and nothing is allocated per read
    /// (or freed on another thread than the one that allocated it).
    output: Vec<u8>,
    bytes: usize,
    dropped: u64,
    closed: bool,
}

#[derive(Default)]
pub struct Queue {
    state: Mutex<State>,
    ready: Condvar,
}

impl Queue {
    /// Adds a copy of `bytes` as output stamped `time` (µs). Returns false if it was
    /// dropped.
    pub fn push_output(&self, time: u64, bytes: &[u8]) -> bool {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if s.bytes + bytes.len() > CAPACITY {
            s.dropped += bytes.len() as u64;
            return false;
        }
        s.output.extend_from_slice(bytes);
        self.queue(s, time, Chunk::Output(bytes.len()), bytes.len());
        true
    }

    /// Adds a chunk (anything but output) stamped `time` (µs). Returns false if it was
    /// dropped.
    pub fn push(&self, time: u64, chunk: Chunk) -> bool {
        debug_assert!(
            !matches!(chunk, Chunk::Output(_)),
            "output goes through push_output"
        );
        let len = match &chunk {
            Chunk::Input(b) => b.len(),
            _ => 0,
        };
        let s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if s.bytes + len > CAPACITY {
            return false;
        }
        self.queue(s, time, chunk, len);
        true
    }

    fn queue(&self, mut s: std::sync::MutexGuard<'_, State>, time: u64, chunk: Chunk, len: usize) {
        if s.dropped > 0 {
            // Say where the gap is, in order, before the output that follows it.
            let n = std::mem::take(&mut s.dropped);
            s.chunks.push_back((time, Chunk::Dropped(n)));
        }
        s.bytes += len;
        let was_empty = s.chunks.is_empty();
        s.chunks.push_back((time, chunk));
        drop(s);
        // The writer takes everything at once: only an empty queue can have it waiting.
        if was_empty {
            self.ready.notify_one();
        }
    }

    /// No more chunks will come.
    pub fn close(&self) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.closed = true;
        drop(s);
        self.ready.notify_all();
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
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        while s.chunks.is_empty() && !s.closed {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            let wait = (deadline - now).min(Duration::from_secs(1));
            s = self
                .ready
                .wait_timeout(s, wait)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        into.extend(s.chunks.drain(..));
        output.clear();
        std::mem::swap(output, &mut s.output);
        let bytes = std::mem::take(&mut s.bytes);
        let closed = s.closed;
        if closed && s.dropped > 0 {
            let n = std::mem::take(&mut s.dropped);
            into.push((u64::MAX, Chunk::Dropped(n)));
        }
        (closed, bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_drops_output_and_reports_the_gap_in_order() {
        let q = Queue::default();
        assert!(q.push_output(1, &vec![b'a'; CAPACITY]));
        assert!(!q.push_output(2, &[b'b'; 10]));
        let (mut got, mut out) = (Vec::new(), Vec::new());
        q.take(Instant::now(), &mut got, &mut out);
        assert_eq!(out.len(), CAPACITY);
        assert!(q.push_output(3, b"c"));
        q.take(Instant::now(), &mut got, &mut out);
        assert!(matches!(got[1], (3, Chunk::Dropped(10))));
        assert!(matches!(&got[2], (3, Chunk::Output(1))));
        assert_eq!(out, b"c");
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
