//! Where a hit's output text comes from. The index keeps no copy of most command output
//! (it was a quarter of the index, and the recordings hold it): a snippet is made from the
//! text the caller hands back for the hits of a page, cut again from their recordings.
//! The index tells it what that takes of each command ([`Again`]: where in the recording
//! to start, the terminal's size), so it need not read the session's commands.

use std::collections::HashMap;

use fixcast_sessions::{micros, Again, CommandRecord};
use tantivy::schema::Value;
use tantivy::TantivyDocument;

use crate::hit::Hit;
use crate::schema::Fields;

/// Output text of commands, asked for the few a page of hits shows: for several sessions
/// at once, from the threads a page is made on (see `page.rs`).
pub trait Outputs: Sync {
    /// The output text of commands `wanted` of session `session` (its full id), by seq,
    /// as it was indexed (`CommandRecord::output`). A command left out gets a snippet of
    /// nothing: a search never fails for want of a snippet.
    fn outputs(&self, session: &str, wanted: &[Again]) -> HashMap<u32, String>;
}

/// What rendering a hit's output again takes, from its stored document: its place, the
/// terminal's size, where in the recording to start (see `fixcast_sessions::again_from`).
pub(crate) fn again_of(f: &Fields, doc: &TantivyDocument, hit: &Hit) -> Again {
    let u64_of = |field| doc.get_first(field).and_then(|v| v.as_u64());
    let mut record = CommandRecord::new(
        hit.seq,
        hit.offset,
        hit.offset + hit.duration,
        hit.command.clone(),
        hit.source,
    );
    record.size = u64_of(f.size).map(|s| ((s >> 16) as u16, s as u16));
    let start = micros(hit.offset);
    Again {
        from: u64_of(f.again).map_or(0, |gap| start.saturating_sub(gap)),
        record,
    }
}

/// No output text at all: hits without snippets (a caller that shows none).
pub struct NoOutputs;

impl Outputs for NoOutputs {
    fn outputs(&self, _: &str, _: &[Again]) -> HashMap<u32, String> {
        HashMap::new()
    }
}

/// Output text held in memory, by session and seq: the commands a caller indexed and
/// still has (an import that searches what it just read, tests).
#[derive(Debug, Default, Clone)]
pub struct OutputTexts(HashMap<(String, u32), String>);

impl OutputTexts {
    /// Keeps the output of `commands`, of session `session`.
    pub fn add(&mut self, session: &str, commands: &[CommandRecord]) {
        for c in commands {
            self.0.insert((session.to_owned(), c.seq), c.output.clone());
        }
    }
}

impl Outputs for OutputTexts {
    fn outputs(&self, session: &str, wanted: &[Again]) -> HashMap<u32, String> {
        wanted
            .iter()
            .filter_map(|w| {
                let seq = w.record.seq;
                let text = self.0.get(&(session.to_owned(), seq))?;
                Some((seq, text.clone()))
            })
            .collect()
    }
}
