//! fixcast-indexer owns the knowledge base: a tantivy index with one document per
//! command, the shell-aware tokenizer that makes `ld-linux.so` find
//! `/lib64/ld-linux-x86-64.so.2`, look-alike detection (`kubeсtl`), the query language
//! of `fixcast search`, and snippets.
//!
//! It is synchronous, knows nothing of the store's folders (the caller hands it
//! sessions) and returns its own types, never tantivy's.
//!
//! [`Catalog`] owns the index's life under a home: its state file, the pending queue,
//! catching up with the sessions a [`Sessions`] source hands it, rebuild-and-swap, and
//! the one [`Catalog::search`] entry the CLI and the server use.
//!
//! ```
//! use fixcast_indexer::{parse, CommandIndex, NoOutputs, ParseContext, WriterOptions};
//! use fixcast_sessions::{CommandRecord, CommandSource, SessionId, SessionMeta};
//!
//! let index = CommandIndex::in_ram();
//! let meta = SessionMeta::new(SessionId::generate(), 80, 24);
//! let mut cmd = CommandRecord::new(
//!     1, 0.0, 0.1, "chattr -i /etc/resolv.conf".into(), CommandSource::Integration,
//! );
//! cmd.exit = Some(0);
//! let mut w = index.writer(WriterOptions::default())?;
//! w.index_session(&meta, &[cmd])?;
//! w.commit()?;
//! index.reload()?;
//! let q = parse("chattr -i", &ParseContext::default()).unwrap();
//! assert_eq!(index.search(&q, 10, &NoOutputs)?[0].command, "chattr -i /etc/resolv.conf");
//! # Ok::<(), fixcast_indexer::Error>(())
//! ```
#![forbid(unsafe_code)]

mod aliases;
mod boosted;
mod catalog;
mod catalog_error;
mod columns;
mod error;
mod excluding;
mod fixes;
mod hit;
mod hit_json;
mod index;
mod links;
mod live_written;
mod outputs;
mod page;
mod phrase;
mod plan;
mod query;
mod read_only;
mod rebuild;
mod schema;
mod search;
mod seen;
mod space;
mod stem;
mod stored;
mod tokenizer;
mod top;
mod writer;

#[cfg(test)]
mod fix_tests;
#[cfg(test)]
mod output_tests;
#[cfg(test)]
mod ranked_tests;
#[cfg(test)]
mod stored_tests;
#[cfg(test)]
mod tests;

pub use catalog::{index_dir, rebuild_reason, Catalog, Hits, Sessions};
pub use catalog_error::{CatalogError, SessionError};
pub use error::{Error, Result};
pub use fixes::{FixNote, Step, SymptomNote, Verifies};
pub use hit::{CommandSummary, Hit, Snippet};
pub use hit_json::HitJson;
pub use index::{CommandIndex, WriterOptions};
pub use links::{play_command, play_time, play_url};
pub use outputs::{NoOutputs, OutputTexts, Outputs};
pub use query::{parse, ParseContext, Query, QueryError};
pub use rebuild::{Built, Progress};
pub use schema::SCHEMA_VERSION;
pub use search::Following;
pub use space::SpaceUsage;
pub use tokenizer::{shell_analyzer, ShellTokenizer, SHELL_TOKENIZER};
pub use writer::CommandWriter;
