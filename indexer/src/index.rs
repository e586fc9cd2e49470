//! The index on disk (or in RAM): creating, opening (read-only too), its writer.

use std::fs;
use std::path::{Path, PathBuf};

use fixcast_sessions::{contain, ReadOnly};
use tantivy::directory::error::LockError;
use tantivy::store::{Compressor, ZstdCompressor};
use tantivy::{Index, IndexReader, IndexSettings, ReloadPolicy, TantivyDocument, TantivyError};

use crate::columns::Columns;
use crate::error::{Error, Result};
use crate::read_only::ReadOnlyDirectory;
use crate::schema::{self, Fields, SCHEMA_VERSION};
use crate::stored::Stores;
use crate::tokenizer::{output_analyzer, shell_analyzer, OUTPUT_TOKENIZER, SHELL_TOKENIZER};
use crate::writer::CommandWriter;

/// The file beside tantivy's that tells which schema the index was built with.
const VERSION_FILE: &str = "fixcast-index-version";

/// An index of commands.
pub struct CommandIndex {
    pub(crate) index: Index,
    pub(crate) reader: IndexReader,
    pub(crate) fields: Fields,
    /// Stored documents are read through these, checked (`stored.rs`), never through
    /// `Searcher::doc`: a damaged store can make tantivy's own reader abort the process.
    pub(crate) stores: Stores,
    /// The fast fields a search reads, per segment (`columns.rs`).
    pub(crate) columns: Columns,
}

/// How a writer is sized.
#[derive(Debug, Clone, Copy)]
pub struct WriterOptions {
    /// Memory for buffering documents before they are written as a segment.
    pub heap_bytes: usize,
    pub threads: usize,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            heap_bytes: 50_000_000,
            threads: 1,
        }
    }
}

/// Stored text (mostly command output, which repeats a lot) compresses well with zstd in
/// large blocks; a hit costs one block's decompression. Measured at 100k commands:
/// level 12 or 256 KiB blocks save 2-8% of the store (1-2% of the index) for a slower
/// build or a slower hit; level 15 halves the build rate.
const COMPRESSION_LEVEL: i32 = 9;
const DOCSTORE_BLOCK: usize = 128 * 1024;

fn settings() -> IndexSettings {
    IndexSettings {
        docstore_compression: Compressor::Zstd(ZstdCompressor {
            compression_level: Some(COMPRESSION_LEVEL),
        }),
        docstore_blocksize: DOCSTORE_BLOCK,
        ..IndexSettings::default()
    }
}

impl CommandIndex {
    /// An index in memory (tests, benchmarks).
    pub fn in_ram() -> CommandIndex {
        let (schema, fields) = schema::build();
        let index = Index::builder()
            .schema(schema)
            .settings(settings())
            .create_in_ram()
            .expect("an in-RAM index can always be made");
        Self::wrap(index, fields).expect("an in-RAM index can always be read")
    }

    /// Creates an empty index in `dir`, which must not exist or be empty.
    pub fn create(dir: &Path) -> Result<CommandIndex> {
        fs::create_dir_all(dir).map_err(Error::io(dir))?;
        let (schema, fields) = schema::build();
        let index = Index::builder()
            .schema(schema)
            .settings(settings())
            .create_in_dir(dir)
            .map_err(|e| Error::opening(dir, e))?;
        let version = dir.join(VERSION_FILE);
        fs::write(&version, format!("{SCHEMA_VERSION}\n")).map_err(Error::io(&version))?;
        Self::wrap(index, fields).map_err(|e| Error::opening(dir, e))
    }

    /// Opens the index in `dir`: [`Error::Missing`], [`Error::Outdated`] or
    /// [`Error::Corrupt`] say it has to be rebuilt.
    pub fn open(dir: &Path) -> Result<CommandIndex> {
        if !dir.join("meta.json").is_file() {
            return Err(Error::Missing(dir.to_owned()));
        }
        let version = fs::read_to_string(dir.join(VERSION_FILE)).unwrap_or_default();
        match version.trim().parse::<u32>() {
            Ok(SCHEMA_VERSION) => {}
            Ok(v) => return Err(Error::Outdated { found: v }),
            Err(_) => return Err(Error::Outdated { found: 0 }),
        }
        // Damaged files can make tantivy panic rather than fail: both mean "rebuild"
        // (contained: nothing of the panic reaches the user's screen).
        let opened = contain(|| -> tantivy::Result<(Index, Fields)> {
            let index = Index::open_in_dir(dir)?;
            let fields = Fields::from_schema(&index.schema()).ok_or_else(|| {
                TantivyError::SchemaError("a field is missing from the schema".into())
            })?;
            Ok((index, fields))
        });
        let (index, fields) = match opened {
            Ok(Ok(x)) => x,
            Ok(Err(e)) => return Err(Error::opening(dir, e)),
            Err(_) => return Err(Error::corrupt(dir, "could not be read")),
        };
        let wrapped = contain(|| Self::wrap(index, fields));
        match wrapped {
            Ok(Ok(i)) => Ok(i),
            Ok(Err(e)) => Err(Error::opening(dir, e)),
            Err(_) => Err(Error::corrupt(dir, "could not be read")),
        }
    }

    /// Opens the index in `dir` to read it as it is, writing nothing there (not even
    /// the lock file tantivy's reader takes): for a folder that cannot be written.
    /// Its [`CommandIndex::writer`] fails with [`Error::Unwritable`].
    pub fn open_read_only(dir: &Path) -> Result<CommandIndex> {
        if !dir.join("meta.json").is_file() {
            return Err(Error::Missing(dir.to_owned()));
        }
        let version = fs::read_to_string(dir.join(VERSION_FILE)).unwrap_or_default();
        match version.trim().parse::<u32>() {
            Ok(SCHEMA_VERSION) => {}
            found => {
                return Err(Error::Outdated {
                    found: found.unwrap_or(0),
                })
            }
        }
        // Damaged files can make tantivy panic: `guard` makes that an error too.
        guard(|| {
            let directory = ReadOnlyDirectory::open(dir).map_err(|e| Error::opening(dir, e))?;
            let index = Index::open(directory).map_err(|e| Error::opening(dir, e))?;
            let fields = Fields::from_schema(&index.schema())
                .ok_or_else(|| Error::corrupt(dir, "a field is missing from the schema"))?;
            Self::wrap(index, fields).map_err(|e| Error::opening(dir, e))
        })
    }

    fn wrap(index: Index, fields: Fields) -> tantivy::Result<CommandIndex> {
        index
            .tokenizers()
            .register(SHELL_TOKENIZER, shell_analyzer());
        index
            .tokenizers()
            .register(OUTPUT_TOKENIZER, output_analyzer());
        index
            .tokenizers()
            .register(crate::stem::STEM_TOKENIZER, crate::stem::stem_analyzer());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(CommandIndex {
            index,
            reader,
            fields,
            stores: Stores::default(),
            columns: Columns::default(),
        })
    }

    /// The index's writer. [`Error::Locked`] when another one (maybe in another
    /// process) is open.
    pub fn writer(&self, opts: WriterOptions) -> Result<CommandWriter> {
        let heap = opts.heap_bytes.max(15_000_000 * opts.threads.max(1));
        match self
            .index
            .writer_with_num_threads::<TantivyDocument>(opts.threads.max(1), heap)
        {
            Ok(w) => Ok(CommandWriter {
                writer: w,
                fields: self.fields,
                read_only: ReadOnly::default(),
            }),
            Err(TantivyError::LockFailure(LockError::LockBusy, _)) => Err(Error::Locked),
            Err(e) => Err(Error::index(e)),
        }
    }

    /// Sees what writers have committed since the last reload.
    pub fn reload(&self) -> Result<()> {
        self.reader.reload().map_err(Error::index)
    }

    /// Commands in the index.
    pub fn num_commands(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Checks every file of the index against its checksum; the damaged ones.
    pub fn damaged_files(&self) -> Result<Vec<PathBuf>> {
        let set = self.index.validate_checksum().map_err(Error::index)?;
        Ok(set.into_iter().collect())
    }
}

/// Runs a read of the index, turning a panic in tantivy (damaged files) into an error,
/// silently: the caller rebuilds the index with a message of its own.
pub(crate) fn guard<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    match contain(f) {
        Ok(r) => r,
        // The panic's place is kept: it tells damage from a known upstream bug.
        Err(panic) => Err(Error::Index(format!(
            "the index could not be read ({panic})"
        ))),
    }
}
