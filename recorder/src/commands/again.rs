//! A command's output rendered again from its recording, for a snippet (where from: see
//! [`fixcast_sessions::again_from`]). A fresh [`Cutter`] is fed the recording from there;
//! for a command cut at Enter it is told to make a command at that Enter even though its
//! line is not on its blank screen. The cutter stops as soon as the command has ended.

use fixcast_sessions::{micros, Again, CommandRecord, CommandSource, Event, EventKind};

use super::Cutter;

/// The output of each of `wanted` (commands of one session) as cutting gave it, rendered
/// again from `events`: the recording in order, from no later than the earliest `from`.
/// `size` is the terminal's (columns, rows) at the first event, for commands whose record
/// does not say; `command` is what `rec -c` ran, if anything. `None` for a command the
/// events do not hold.
pub fn outputs_again(
    size: (u16, u16),
    command: Option<&str>,
    events: impl IntoIterator<Item = Event>,
    wanted: &[Again],
) -> Vec<Option<String>> {
    let mut order: Vec<usize> = (0..wanted.len()).collect();
    order.sort_by_key(|&i| wanted[i].from);
    let mut out: Vec<Option<String>> = vec![None; wanted.len()];
    let mut waiting = order.into_iter().peekable();
    let mut running: Vec<(usize, Cutter)> = Vec::new();
    let mut size = size;
    for ev in events {
        while let Some(&i) = waiting.peek() {
            if wanted[i].from > ev.time {
                break;
            }
            waiting.next();
            let want = &wanted[i].record;
            let (cols, rows) = want.size.unwrap_or(size);
            // What `rec -c` ran is a command from the recording's start.
            let whole = command.filter(|_| want.start == 0.0);
            let mut cutter = Cutter::new(cols, rows, whole);
            if want.source == CommandSource::Heuristic && whole.is_none() {
                cutter.force_enter = Some(micros(want.start));
            }
            running.push((i, cutter));
        }
        if let EventKind::Resize { cols, rows } = ev.kind {
            size = (cols, rows);
        }
        running.retain_mut(|(i, cutter)| {
            cutter.event(&ev);
            match cutter.take_ended(&wanted[*i].record) {
                Some(rec) => {
                    out[*i] = Some(rec.output);
                    false
                }
                None => true,
            }
        });
        if running.is_empty() && waiting.peek().is_none() {
            return out;
        }
    }
    // The events ended with these still open (a session cut short, or the reading
    // window's end): they end here, as cutting the whole recording would end them.
    for (i, cutter) in running {
        let want = &wanted[i].record;
        out[i] = cutter
            .finish()
            .into_iter()
            .find(|c| is(c, want))
            .map(|c| c.output);
    }
    out
}

impl Cutter {
    /// `want`, if it has ended (it is then taken out of what this cutter holds).
    fn take_ended(&mut self, want: &CommandRecord) -> Option<CommandRecord> {
        for list in [&mut self.done, &mut self.typed_ahead] {
            if let Some(at) = list.iter().position(|c| is(c, want)) {
                return Some(list.remove(at));
            }
        }
        None
    }
}

/// Whether `cut` is `want` cut again: the same start (to the recording's microsecond:
/// `want` may come from the index, which keeps it so). At one moment only one command
/// starts, but a line read off the screen may differ (a fresh screen knows less).
fn is(cut: &CommandRecord, want: &CommandRecord) -> bool {
    micros(cut.start) == micros(want.start) && cut.source == want.source
}

#[cfg(test)]
/// Cuts as [`super::cut_commands`] does, and checks that each command's output is what
/// rendering it again gives (what a search's snippet is made from), each alone and all in
/// one pass (the cutting tests cut through this).
pub(super) fn cut_checked<'a>(
    cols: u16,
    rows: u16,
    command: Option<&str>,
    events: impl IntoIterator<Item = &'a Event>,
) -> Vec<CommandRecord> {
    let events: Vec<Event> = events.into_iter().cloned().collect();
    let cmds = super::cut_commands(cols, rows, command, &events);
    let wanted: Vec<Again> = (0..cmds.len())
        .map(|i| Again {
            record: cmds[i].without_output(),
            from: fixcast_sessions::again_from(&cmds, i),
        })
        .collect();
    let expected: Vec<Option<String>> = cmds.iter().map(|c| Some(c.output.clone())).collect();
    for (w, want) in wanted.iter().zip(&expected) {
        let got = outputs_again(
            (cols, rows),
            command,
            events.iter().cloned(),
            std::slice::from_ref(w),
        );
        assert_eq!(
            &got[0], want,
            "command {} ({:?}) rendered again",
            w.record.seq, w.record.command
        );
    }
    let all = outputs_again((cols, rows), command, events.iter().cloned(), &wanted);
    assert_eq!(all, expected, "all rendered again in one pass");
    cmds
}
