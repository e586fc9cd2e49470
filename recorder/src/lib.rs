//! fixcast-recorder runs a program in a pseudo-terminal, stays out of the user's way
//! (raw passthrough, resizes followed, exit status kept), and hands every event to
//! [`Sink`]s on a thread of their own.
//!
//! It knows nothing of files, HTTP or indexes: the command layer decides where events go.
//!
//! ```no_run
//! use fixcast_recorder::{record, Command, Options, Sink, SinkError};
//! use fixcast_sessions::Event;
//!
//! struct Count(usize);
//! impl Sink for Count {
//!     fn event(&mut self, _: &Event) -> Result<(), SinkError> { self.0 += 1; Ok(()) }
//!     fn flush(&mut self) -> Result<(), SinkError> { Ok(()) }
//!     fn finish(&mut self) -> Result<(), SinkError> { Ok(()) }
//! }
//! let cmd = Command { program: "bash".into(), args: vec!["-c".into(), "ls".into()], env: vec![], cwd: None };
//! let opts = Options { command: cmd, cols: 80, rows: 24, interactive: false, record_input: false, redact: None, hide_marks: false, notes: None };
//! let outcome = record(opts, vec![Box::new(Count(0))])?;
//! println!("exit {}", outcome.exit_status);
//! # Ok::<(), fixcast_recorder::Error>(())
//! ```
#![forbid(unsafe_code)]

mod commands;
mod error;
mod input;
mod integration;
mod notes;
mod pty;
mod queue;
mod record;
mod redact;
mod resize;
mod safe_replay;
mod screen_text;
mod sink;
mod strip;
pub mod tty;
mod utf8;
#[cfg(test)]
mod vt100_sizes;
mod writer;

pub use commands::{
    cut_commands, outputs_again, split_prompt, Cutter, Mark, MarkScanner, OUTPUT_CAP,
};
pub use error::Error;
pub use integration::{integrate, Integration, IntegrationError, Shell};
pub use notes::{FailedEnds, PromptNotes};
pub use pty::Command;
pub use record::{record, record_then, Options, Outcome};
pub use redact::{PatternError, Redactor, Rules, HOLD_TIME, KINDS};
pub use safe_replay::SafeReplay;
pub use screen_text::{Rendered, ScreenText};
pub use sink::{Sink, SinkError};
