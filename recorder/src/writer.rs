//! The writer thread: takes what the passthrough threads queued, turns it into events
//! (output decoded as UTF-8, redacted when asked, chapters found in it) and feeds the
//! sinks, flushing them at least once a second. During a flood it tells the sinks to go
//! fast (see [`Sink::pressure`]).

use std::time::{Duration, Instant};

use fixcast_sessions::{Event, EventKind};

use crate::commands::Chapters;
use crate::notes::FailedEnds;
use crate::queue::{Chunk, Queue, BACKLOG};
use crate::redact::Redactor;
use crate::sink::Sink;
use crate::utf8::Utf8Stream;

/// How often what was recorded is written to disk (and fdatasync'd), at the most.
const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// Output within [`FLOOD_WINDOW`] that means a flood (about 1 MiB/s, far more than a
/// person reads): the writer goes fast, whether or not it has fallen behind yet.
const BEHIND: usize = 256 << 10;
const FLOOD_WINDOW: Duration = Duration::from_millis(250);
/// Bytes in one batch that mean the writer caught up.
const CAUGHT_UP: usize = 32 << 10;
/// Output buffer kept between batches: what the queue holds while the writer is working
/// (see [`BACKLOG`]); a larger one (a stuck writer's backlog) is released.
const SPARE_OUTPUT: usize = 2 * BACKLOG;
/// Reads of output that one event may hold: taken together, up to this many bytes and
/// [`MERGE_WITHIN`] of the first read, they are one event, so the work per event (its
/// UTF-8 check, redaction, chapter scan, JSON line and the sinks' calls) is done per
/// ~64 KiB of a flood, not per 4 KiB read. Anything else queued between two reads (a
/// key, a resize, a dropped gap, the exit) ends the event there, so order is kept.
const MERGE_BYTES: usize = 64 << 10;
/// How far apart in time (µs) reads merged into one event may be: the event takes the
/// first read's time, so no byte is shown more than this early in a replay. A flood's
/// reads are microseconds apart; a person's echoes are not merged.
const MERGE_WITHIN: u64 = 10_000;
/// How long the writer stays fast after it last fell behind.
const STAY_FAST: Duration = Duration::from_secs(2);

/// What the writer thread did.
#[derive(Default)]
pub(crate) struct Written {
    pub dropped: u64,
    pub redacted: u64,
    pub sink_errors: Vec<String>,
}

/// The writer thread: turns chunks into events (output redacted first, when asked) and
/// feeds the sinks.
pub(crate) fn write_events(
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
        let mut chunks = batch.drain(..).peekable();
        while let Some((t, chunk)) = chunks.next() {
            let time = if t == u64::MAX { last } else { t.max(last) };
            last = time;
            if let Chunk::Output(mut len) = chunk {
                // Only what was taken in this batch: nothing is held for a later one.
                while let Some(&(next, Chunk::Output(more))) = chunks.peek() {
                    if next == u64::MAX
                        || next.saturating_sub(time) > MERGE_WITHIN
                        || len + more > MERGE_BYTES
                    {
                        break;
                    }
                    len += more;
                    last = last.max(next);
                    chunks.next();
                }
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
    use std::sync::{Arc, Mutex};
    use std::thread;

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

    /// Keeps every event.
    struct Keep(Arc<Mutex<Vec<Event>>>);

    impl Sink for Keep {
        fn event(&mut self, ev: &Event) -> Result<(), crate::SinkError> {
            self.0.lock().unwrap().push(ev.clone());
            Ok(())
        }
        fn flush(&mut self) -> Result<(), crate::SinkError> {
            Ok(())
        }
        fn finish(&mut self) -> Result<(), crate::SinkError> {
            Ok(())
        }
    }

    /// Queues `reads` (time, bytes) and `between` (after read `k`, this chunk), then the
    /// exit, all before the writer starts, so it takes them in one batch as it would a
    /// flood's backlog; the events it wrote (with redaction when `redact`).
    fn written(
        reads: &[(u64, Vec<u8>)],
        between: Option<(usize, Chunk)>,
        redact: bool,
    ) -> Vec<Event> {
        let queue = Queue::default();
        let mut between = between;
        let mut last = 0;
        for (k, (t, b)) in reads.iter().enumerate() {
            let mut p = queue.push_output(*t, b);
            assert!(p.recorded);
            queue.wake(&mut p);
            if between.as_ref().is_some_and(|(at, _)| *at == k) {
                let (_, chunk) = between.take().unwrap();
                assert!(queue.push(*t, chunk));
            }
            last = *t;
        }
        queue.push(last + 1, Chunk::Exit(0));
        queue.close();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let redactor = redact.then(|| crate::Rules::builtin().redactor());
        write_events(&queue, vec![Box::new(Keep(seen.clone()))], redactor, None);
        let events = seen.lock().unwrap().clone();
        events
    }

    /// Reads of distinct base64-like lines, `gap` µs apart.
    fn flood(reads: usize, gap: u64) -> Vec<(u64, Vec<u8>)> {
        (0..reads)
            .map(|i| {
                let line = format!(
                    "{i:08} QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2\r\n"
                );
                let read: Vec<u8> = line.bytes().cycle().take(4095).collect();
                (i as u64 * gap, read)
            })
            .collect()
    }

    fn output_of(events: &[Event]) -> (Vec<u8>, usize) {
        let mut all = Vec::new();
        let mut n = 0;
        for ev in events {
            if let EventKind::Output(t) = &ev.kind {
                all.extend_from_slice(t.as_bytes());
                n += 1;
            }
        }
        (all, n)
    }

    /// A flood's reads become a few events of up to [`MERGE_BYTES`], not one per read,
    /// and decode to exactly the bytes read, in order (redacted or not).
    #[test]
    fn a_flood_is_merged_into_events_of_many_reads_that_keep_every_byte() {
        let reads = flood(100, 20);
        let want: Vec<u8> = reads.iter().flat_map(|(_, b)| b.clone()).collect();
        for redact in [false, true] {
            let events = written(&reads, None, redact);
            let (got, n) = output_of(&events);
            assert!(got == want, "the bytes differ (redact {redact})");
            let most = events
                .iter()
                .filter_map(|e| match &e.kind {
                    EventKind::Output(t) => Some(t.len()),
                    _ => None,
                })
                .max();
            assert!(most <= Some(MERGE_BYTES), "an event of {most:?} bytes");
            // The redactor gives back whole lines and holds a partial one: a few pieces more.
            let most_events = (100 * 4095 / (MERGE_BYTES - 4095) + 2) * if redact { 2 } else { 1 };
            assert!(
                n <= most_events,
                "{n} events for 100 reads (redact {redact})"
            );
            assert!(matches!(
                events.last().map(|e| &e.kind),
                Some(EventKind::Exit(0))
            ));
        }
    }

    /// A key pressed during a flood is recorded between the outputs around it: merging
    /// stops at it.
    #[test]
    fn a_key_during_a_flood_stays_between_the_outputs_around_it() {
        let reads = flood(40, 20);
        let events = written(&reads, Some((9, Chunk::Input(b"q".to_vec()))), false);
        let key = events
            .iter()
            .position(|e| matches!(&e.kind, EventKind::Input(k) if k == "q"))
            .expect("the key is recorded");
        let (before, _) = output_of(&events[..key]);
        let want: Vec<u8> = reads[..10].iter().flat_map(|(_, b)| b.clone()).collect();
        assert!(
            before == want,
            "{} bytes before the key, not the 10 reads' {}",
            before.len(),
            want.len()
        );
        let (after, _) = output_of(&events[key..]);
        assert_eq!(after.len(), 30 * 4095);
    }

    /// Reads further apart than [`MERGE_WITHIN`] are not merged: no byte is replayed
    /// earlier than that before it was read; reads closer than that are.
    #[test]
    fn reads_are_merged_only_within_the_time_bound() {
        let within = MERGE_WITHIN / 2;
        let times = [0, within, 3 * MERGE_WITHIN, 3 * MERGE_WITHIN + within];
        let reads: Vec<_> = times.iter().map(|&t| (t, vec![b'x'; 100])).collect();
        let events = written(&reads, None, false);
        let outputs: Vec<(u64, usize)> = events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Output(t) => Some((e.time, t.len())),
                _ => None,
            })
            .collect();
        assert_eq!(outputs, [(0, 200), (3 * MERGE_WITHIN, 200)]);
    }
}
