//! Chapter markers for the recording: the command lines integrated shells announce, as
//! the writer sees them, so every asciicast player shows each command as a chapter.

use super::marks::{Mark, MarkScanner};

/// Integrated shells announce each command (`633;E` then `133;C`, or fish 4's
/// `133;C;cmdline_url=…` alone): it becomes a marker, so every player shows the command
/// as a chapter.
#[derive(Default)]
pub(crate) struct Chapters {
    scanner: MarkScanner,
    line: Option<String>,
    /// A C was seen and no prompt or D since: a command line now is that command's,
    /// printed late, not the next one's.
    running: bool,
}

impl Chapters {
    /// The labels of the commands that start in `text` (the stream, piece by piece).
    pub(crate) fn scan(&mut self, text: &str) -> Vec<String> {
        let mut labels = Vec::new();
        let mut bytes = text.as_bytes();
        while !bytes.is_empty() {
            let (n, mark) = self.scanner.next(bytes);
            match mark {
                Some(Mark::CommandLine(line)) if !self.running => self.line = Some(line),
                Some(Mark::CommandStart(carried)) => {
                    let pending = self.line.take();
                    labels.extend(carried.or(pending));
                    self.running = true;
                }
                Some(Mark::PromptStart | Mark::InputStart | Mark::CommandEnd(_)) => {
                    self.running = false
                }
                _ => {}
            }
            bytes = &bytes[n..];
        }
        labels
    }
}
