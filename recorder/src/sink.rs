//! Where recorded events go. The recorder knows only this trait; the command layer
//! wires in the file writer (and, later, live streams).

use fixcast_sessions::Event;

/// Why a sink could not take an event.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SinkError(pub String);

impl From<fixcast_sessions::Error> for SinkError {
    fn from(e: fixcast_sessions::Error) -> Self {
        SinkError(fixcast_sessions::error_chain(&e))
    }
}

/// Receives every event of a recording, in order, on the recorder's writer thread
/// (never on the passthrough thread, so a slow sink cannot stall the shell).
pub trait Sink: Send {
    /// Takes one event.
    fn event(&mut self, ev: &Event) -> Result<(), SinkError>;
    /// Makes everything so far durable; called at least once a second while events come.
    fn flush(&mut self) -> Result<(), SinkError>;
    /// Whether the writer is falling behind the program's output: a sink may then trade
    /// quality (compression ratio) for speed until told otherwise.
    fn pressure(&mut self, _behind: bool) {}
    /// Called about once a second even when no events come (idle shell): for sinks that
    /// watch something outside the recording.
    fn tick(&mut self) {}
    /// The recording is over; `Exit` was the last event.
    fn finish(&mut self) -> Result<(), SinkError>;
}
