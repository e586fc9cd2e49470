//! "Seen before" while `fixcast rec` runs: when an integrated command fails with an error
//! line a past failure had (once masked), one line before the next prompt names the fix:
//!
//! `fixcast: seen before in "immutable config" (2026-11-20): fixed by chattr -i app.conf — fixcast show 01M8BSC2XK --fix`
//!
//! A sink on the writer thread only counts failed end marks and forwards events; a
//! thread of its own cuts them into commands (a [`Cutter`]) and looks each failure up in
//! the index, opened once, read-only (it takes no lock: a writer elsewhere never stops
//! it). The passthrough waits a bounded time for the answer (see `PromptNotes`): a slow
//! or absent index costs the prompt at most that bound, and gives no hint. Only resolved
//! failures are told: an unresolved one has no fix to offer, so it says nothing.

use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::time::{Duration, Instant};

use fixcast_indexer::{CommandIndex, Error as IndexError, Hit};
use fixcast_recorder::{Cutter, FailedEnds, PromptNotes, Sink, SinkError};
use fixcast_sessions::{CommandRecord, Event, EventKind, SessionId, Store};

/// How long the prompt after a failure waits for its hint at most, unless
/// `FIXCAST_HINT_WAIT_MS` says otherwise (a slow machine, a test under load).
const WAIT: Duration = Duration::from_millis(50);

/// Events queued for the hint thread at most; more (a flood the thread cannot keep up
/// with) are dropped: the hints may miss what they held, the recording does not.
const QUEUED: usize = 4096;

/// How often the index is reopened to see sessions indexed since (a reload is cheap, but
/// not free, and a look-up runs while the prompt waits).
const RELOAD_EVERY: Duration = Duration::from_secs(2);

enum Msg {
    Event(Event),
    /// The `n`th failed command ended, with this status: answer it.
    Ask(u64, i32),
}

/// Starts the hint thread for session `id`; the notes go to the recorder, the sink
/// beside the others.
pub fn start(store: &Store, id: &SessionId, cols: u16, rows: u16) -> (PromptNotes, HintSink) {
    let wait = std::env::var("FIXCAST_HINT_WAIT_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(WAIT, Duration::from_millis);
    let notes = PromptNotes::new(wait);
    let (tx, rx) = mpsc::sync_channel(QUEUED);
    let dir = fixcast_indexer::index_dir(store.home());
    let (answer, session) = (notes.clone(), id.as_str().to_owned());
    let started = std::thread::Builder::new()
        .name("fixcast-hints".into())
        .spawn(move || {
            Looker {
                dir,
                index: None,
                told_damage: false,
                reloaded: Instant::now(),
                session,
                cutter: Cutter::new(cols, rows, None),
                last: None,
                notes: answer,
            }
            .run(rx)
        });
    // No thread, no hints: every failure is answered at once, with none.
    let sink = HintSink::new(started.is_ok().then_some(tx), notes.clone());
    (notes, sink)
}

/// On the writer thread: forwards events, numbers failures as the passthrough does.
pub struct HintSink {
    tx: Option<SyncSender<Msg>>,
    ends: FailedEnds,
    failures: u64,
    notes: PromptNotes,
    /// The writer is behind a flood: output is not forwarded (emulating it on another
    /// thread would take the CPU the recording needs).
    behind: bool,
    /// Events were not forwarded since the last command start the thread saw: its idea
    /// of the command that fails next may be wrong, so that failure gets no hint.
    missed: bool,
}

impl HintSink {
    fn new(tx: Option<SyncSender<Msg>>, notes: PromptNotes) -> HintSink {
        HintSink {
            tx,
            ends: FailedEnds::default(),
            failures: 0,
            notes,
            behind: false,
            missed: false,
        }
    }
}

impl Sink for HintSink {
    fn event(&mut self, ev: &Event) -> Result<(), SinkError> {
        let skip = self.behind && matches!(ev.kind, EventKind::Output(_));
        // The event goes first: the thread has cut it when it reads the questions.
        let forwarded = match &self.tx {
            Some(_) if skip => false,
            Some(tx) => match tx.try_send(Msg::Event(ev.clone())) {
                Ok(()) => true,
                Err(TrySendError::Full(_)) => false,
                Err(TrySendError::Disconnected(_)) => {
                    self.tx = None;
                    false
                }
            },
            None => false,
        };
        self.missed |= !forwarded;
        let EventKind::Output(text) = &ev.kind else {
            return Ok(());
        };
        let mut rest = text.as_bytes();
        loop {
            let starts = self.ends.starts();
            let next = self.ends.next(rest);
            // A command that started in what the thread saw is seen whole from there on.
            if forwarded && self.ends.starts() > starts {
                self.missed = false;
            }
            let Some((end, status)) = next else {
                return Ok(());
            };
            rest = &rest[end..];
            self.failures += 1;
            let asked = !self.missed
                && self
                    .tx
                    .as_ref()
                    .is_some_and(|tx| tx.try_send(Msg::Ask(self.failures, status)).is_ok());
            if !asked {
                self.notes.answer(self.failures, None);
            }
        }
    }
    fn pressure(&mut self, behind: bool) {
        self.behind = behind;
    }
    fn flush(&mut self) -> Result<(), SinkError> {
        Ok(())
    }
    fn finish(&mut self) -> Result<(), SinkError> {
        // The thread ends when its queue closes; nothing waits for it.
        self.tx = None;
        Ok(())
    }
}

/// The hint thread.
struct Looker {
    dir: std::path::PathBuf,
    index: Option<CommandIndex>,
    told_damage: bool,
    reloaded: Instant,
    session: String,
    cutter: Cutter,
    /// The command that ended last (the cutter keeps no history).
    last: Option<CommandRecord>,
    notes: PromptNotes,
}

impl Looker {
    fn run(mut self, rx: Receiver<Msg>) {
        // Opened before the first failure needs it: the first look-up costs no more.
        let mut told = self.open();
        while let Ok(msg) = rx.recv() {
            match msg {
                Msg::Event(ev) => {
                    self.cutter.event(&ev);
                    if let Some(c) = self.cutter.drain_ended().pop() {
                        self.last = Some(c);
                    }
                }
                Msg::Ask(n, status) => {
                    let failed = self.last.take().filter(|c| c.exit == Some(status));
                    let note = match failed.filter(|c| !c.errors.is_empty()) {
                        // Why there are no hints, said once, where a hint would be.
                        Some(_) if told.is_some() => told.take(),
                        Some(c) => self.look_up(&c),
                        None => None,
                    };
                    self.notes.answer(n, note);
                }
            }
            // Off the prompt's path: sessions indexed since are seen by the next one.
            if self.reloaded.elapsed() > RELOAD_EVERY {
                self.reloaded = Instant::now();
                let reloaded = self.index.as_ref().is_some_and(|i| i.reload().is_ok());
                if !reloaded {
                    // A rebuild may have replaced the folder, or made the first index.
                    self.index = None;
                    told = told.or(self.open());
                }
            }
        }
    }

    /// Opens the index, or says (once) why it cannot: a missing or outdated one (no
    /// session indexed yet, or a rebuild due) says nothing.
    fn open(&mut self) -> Option<String> {
        match CommandIndex::open_read_only(&self.dir) {
            Ok(i) => {
                self.index = Some(i);
                None
            }
            Err(IndexError::Missing(_) | IndexError::Outdated { .. }) => None,
            Err(_) if self.told_damage => None,
            Err(_) => {
                self.told_damage = true;
                Some(
                    "fixcast: no hints: the search index could not be read (`fixcast reindex` rebuilds it)"
                        .into(),
                )
            }
        }
    }

    fn look_up(&mut self, failed: &CommandRecord) -> Option<String> {
        let index = self.index.as_ref()?;
        match index.seen_before(&failed.errors, Some(&self.session)) {
            Ok(hit) => hit.as_ref().and_then(told),
            Err(_) => {
                // Damaged under us: tried again at the next reload.
                self.index = None;
                None
            }
        }
    }
}

/// The longest fix shown in a hint; `fixcast show … --fix` has the rest.
const SHOWN: usize = 100;

/// What a hint says of a past failure and its fix.
fn told(hit: &Hit) -> Option<String> {
    let fix = hit.fix.as_ref()?;
    let first = |s: &str| {
        let line = super::printable(s.lines().next().unwrap_or_default()).into_owned();
        match line.char_indices().nth(SHOWN) {
            Some((cut, _)) => format!("{}…", &line[..cut]),
            None => line,
        }
    };
    let how = if fix.commands.is_empty() {
        let v = fix.verification.as_ref()?;
        format!("retrying worked: {}", first(&v.command))
    } else {
        let cmds: Vec<String> = fix.commands.iter().map(|c| first(&c.command)).collect();
        format!("fixed by {}", cmds.join("; "))
    };
    let place = match &hit.title {
        Some(t) if !t.trim().is_empty() => format!(" in \"{}\"", first(t)),
        _ => String::new(),
    };
    let date = hit.started.date();
    let short = hit.session.short();
    Some(format!(
        "fixcast: seen before{place} ({date}): {how} — fixcast show {short} --fix"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(text: &str) -> Event {
        Event::new(0, EventKind::Output(text.into()))
    }

    fn asks(rx: &Receiver<Msg>) -> Vec<(u64, i32)> {
        rx.try_iter()
            .filter_map(|m| match m {
                Msg::Ask(n, s) => Some((n, s)),
                Msg::Event(_) => None,
            })
            .collect()
    }

    #[test]
    fn output_skipped_in_a_flood_costs_hints_only_until_the_next_command_starts() {
        let (tx, rx) = mpsc::sync_channel(64);
        let notes = PromptNotes::new(Duration::from_millis(1));
        let mut sink = HintSink::new(Some(tx), notes);
        let fail = "\x1b]133;C\x1b\\err\r\n\x1b]133;D;1\x1b\\";
        sink.event(&out(fail)).unwrap();
        assert_eq!(asks(&rx), [(1, 1)]);
        // Behind a flood: output is not forwarded, and the failure that ends in it (its
        // command unseen by the thread) is not asked about.
        sink.pressure(true);
        sink.event(&out("\x1b]133;C\x1b\\flood")).unwrap();
        sink.pressure(false);
        sink.event(&out("more\r\n\x1b]133;D;2\x1b\\")).unwrap();
        assert_eq!(asks(&rx), []);
        // The next command is seen from its start: asked about again.
        sink.event(&out(fail)).unwrap();
        sink.event(&out(fail)).unwrap();
        assert_eq!(asks(&rx), [(3, 1), (4, 1)]);
    }
}
