//! Where a hit's output text comes from. The index keeps no copy of command output (it
//! was a quarter of the index, and the recordings hold it): a snippet is made from the
//! text the caller hands back for the hits of a page, cut again from their recordings.

use std::collections::HashMap;

use fixcast_sessions::CommandRecord;

/// Output text of commands, asked for the few a page of hits shows.
pub trait Outputs {
    /// The output text of commands `seqs` of session `session` (its full id), as it was
    /// indexed (`CommandRecord::output`). A command left out gets a snippet of nothing:
    /// a search never fails for want of a snippet.
    fn outputs(&self, session: &str, seqs: &[u32]) -> HashMap<u32, String>;
}

/// No output text at all: hits without snippets (a caller that shows none).
pub struct NoOutputs;

impl Outputs for NoOutputs {
    fn outputs(&self, _: &str, _: &[u32]) -> HashMap<u32, String> {
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
    fn outputs(&self, session: &str, seqs: &[u32]) -> HashMap<u32, String> {
        seqs.iter()
            .filter_map(|&seq| {
                let text = self.0.get(&(session.to_owned(), seq))?;
                Some((seq, text.clone()))
            })
            .collect()
    }
}
