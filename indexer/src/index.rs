//! The index on disk (or in RAM): opening it, writing sessions into it, searching it.

use std::fs;
use std::ops::Range;
use std::path::{Path, PathBuf};

use fixcast_sessions::{
    contain, derive_fixes, CommandRecord, CommandSource, ReadOnly, SessionMeta,
};
use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
use tantivy::directory::error::LockError;
use tantivy::query::{BooleanQuery, Occur, RangeQuery, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::store::{Compressor, ZstdCompressor};
use tantivy::{
    DateTime, DocId, Index, IndexReader, IndexSettings, IndexWriter, ReloadPolicy, Score,
    SegmentReader, TantivyDocument, TantivyError, Term,
};
use time::OffsetDateTime;

use crate::error::{Error, Result};
use crate::fixes::{self, FixInfo, FixNote, Step, SymptomNote, Verifies};
use crate::query::Query;
use crate::read_only::ReadOnlyDirectory;
use crate::schema::{self, Fields, SCHEMA_VERSION};
use crate::tokenizer::{shell_analyzer, SHELL_TOKENIZER};
use fixcast_sessions::{ascii_twin_text, Confusable};

/// The file beside tantivy's that tells which schema the index was built with.
const VERSION_FILE: &str = "fixcast-index-version";

/// A knowledge base of fixes: among equally good matches, the command that worked (exit
/// 0) comes before the attempts that failed, and those with an unknown status between.
/// A failure whose fix is known answers "what fixed it" and so comes before both.
const SUCCESS_WEIGHT: f32 = 1.3;
const UNKNOWN_WEIGHT: f32 = 1.15;
const RESOLVED_WEIGHT: f32 = 1.5;

/// The most output text stored and indexed per command: its first and last half of this,
/// since an error is as often at the end of a long output as at its start.
const MAX_OUTPUT_BYTES: usize = 256 * 1024;

/// The head and tail of an output longer than [`MAX_OUTPUT_BYTES`] (whole lines where
/// the cut falls inside one), or the whole output and an empty tail.
fn indexed_output(out: &str) -> (&str, &str) {
    if out.len() <= MAX_OUTPUT_BYTES {
        return (out, "");
    }
    let half = MAX_OUTPUT_BYTES / 2;
    let mut a = half;
    while !out.is_char_boundary(a) {
        a -= 1;
    }
    let head = &out[..a];
    let head = head.rfind('\n').map_or(head, |n| &head[..n]);
    let mut b = out.len() - half;
    while !out.is_char_boundary(b) {
        b += 1;
    }
    let tail = &out[b..];
    let tail = tail.find('\n').map_or(tail, |n| &tail[n + 1..]);
    (head, tail)
}

/// An index of commands.
pub struct CommandIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
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

/// A matching part of a command's output, with the ranges (bytes of `text`) to highlight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snippet {
    pub text: String,
    pub highlights: Vec<Range<usize>>,
}

/// One command found by a search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// Full session id.
    pub session: String,
    pub seq: u32,
    /// Seconds into the recording.
    pub offset: f64,
    pub command: String,
    pub exit: Option<i32>,
    pub duration: f64,
    #[serde(with = "time::serde::rfc3339")]
    pub started: OffsetDateTime,
    pub cwd: Option<String>,
    pub host: String,
    pub user: String,
    pub shell: String,
    pub title: Option<String>,
    pub tags: Vec<String>,
    /// `integration` or `heuristic`.
    pub source: String,
    /// Look-alike characters in the command (empty for most).
    pub confusables: Vec<Confusable>,
    pub score: f32,
    /// Matching output (or its first lines when the output did not match).
    pub snippet: Snippet,
    /// A failed command: what fixed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<FixNote>,
    /// A failed command nothing fixed: what was tried next.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub next_steps: Vec<Step>,
    /// A fix: the failure it fixed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixes: Option<SymptomNote>,
    /// A retry that succeeded: the failure and the fix it verifies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verifies: Option<Verifies>,
    /// The command the person marked as the session's fix.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub marked_fix: bool,
    /// No command had every word of the query: this is one of the closest matches.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
}

/// A command by its place in a session (what came next after a hit).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandSummary {
    pub seq: u32,
    pub offset: f64,
    pub command: String,
    pub exit: Option<i32>,
}

/// Stored text (mostly command output, which repeats a lot) compresses well with zstd in
/// large blocks; a hit costs one block's decompression.
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
            .register(crate::stem::STEM_TOKENIZER, crate::stem::stem_analyzer());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(CommandIndex {
            index,
            reader,
            fields,
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

    /// The best `limit` commands for `query`, best first. Equal scores are ordered newest
    /// first, so the order does not depend on how the index was built.
    pub fn search(&self, query: &Query, limit: usize) -> Result<Vec<Hit>> {
        guard(|| self.search_inner(query, limit))
    }

    fn search_inner(&self, query: &Query, limit: usize) -> Result<Vec<Hit>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let content = crate::plan::plan_content(query, &self.fields);
        let content = content.as_deref();
        let hits = self.run(&*crate::plan::plan(query, &self.fields), content, limit)?;
        if !hits.is_empty() {
            return Ok(hits);
        }
        // No command has every word: the closest matches, most words first.
        for at_least in crate::plan::closest_levels(query).rev() {
            let Some(q) = crate::plan::plan_closest(query, &self.fields, at_least) else {
                continue;
            };
            let mut hits = self.run(&*q, content, limit)?;
            if !hits.is_empty() {
                hits.iter_mut().for_each(|h| h.partial = true);
                return Ok(hits);
            }
        }
        Ok(Vec::new())
    }

    /// The best `limit` hits of `q`; commands that match none of `content` (only their
    /// session's title, tags or notes) count once per session: its marked fix, else its
    /// best.
    fn run(
        &self,
        q: &dyn tantivy::query::Query,
        content: Option<&dyn tantivy::query::Query>,
        limit: usize,
    ) -> Result<Vec<Hit>> {
        let searcher = self.reader.searcher();
        // A few more than asked, so ties at the edge are ordered the same however the
        // segments fell.
        let fetch = limit.saturating_add(16);
        // Commands standing for their session collapse into one: look further.
        let fetch = if content.is_some() {
            fetch.saturating_mul(4)
        } else {
            fetch
        }
        .min(100_000);
        let collector = TopDocs::with_limit(fetch).tweak_score(|segment: &SegmentReader| {
            let exit = segment
                .fast_fields()
                .i64("exit")
                .ok()
                .map(|c| c.first_or_default_col(i64::MIN));
            let resolved = segment
                .fast_fields()
                .u64("resolved")
                .ok()
                .map(|c| c.first_or_default_col(0));
            move |doc: DocId, score: Score| {
                if resolved.as_ref().is_some_and(|c| c.get_val(doc) == 1) {
                    return score * RESOLVED_WEIGHT;
                }
                match exit.as_ref().map(|c| c.get_val(doc)) {
                    Some(0) => score * SUCCESS_WEIGHT,
                    Some(i64::MIN) | None => score * UNKNOWN_WEIGHT,
                    Some(_) => score,
                }
            }
        });
        let mut top = searcher.search(q, &collector).map_err(Error::index)?;
        if let Some(content) = content {
            top = self.one_per_session_unless(&searcher, content, top)?;
        }
        let mut snippets =
            SnippetGenerator::create(&searcher, q, self.fields.out).map_err(Error::index)?;
        snippets.set_max_num_chars(200);
        let mut hits = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let doc: TantivyDocument = searcher.doc(addr).map_err(Error::index)?;
            let mut hit = self.hit(&doc, score);
            hit.snippet = snippet(&snippets, &doc, self.fields.out);
            hits.push(hit);
        }
        hits.sort_by(|a, b| {
            quantize(b.score)
                .cmp(&quantize(a.score))
                .then(b.started.cmp(&a.started))
                .then(b.session.cmp(&a.session))
                .then(b.seq.cmp(&a.seq))
        });
        hits.truncate(limit);
        Ok(hits)
    }

    /// Keeps the hits that match `content`, and of the rest one per session (its marked
    /// fix if among them, else its best), in score order.
    fn one_per_session_unless(
        &self,
        searcher: &tantivy::Searcher,
        content: &dyn tantivy::query::Query,
        top: Vec<(Score, tantivy::DocAddress)>,
    ) -> Result<Vec<(Score, tantivy::DocAddress)>> {
        use tantivy::query::EnableScoring;
        use tantivy::DocSet;
        let weight = content
            .weight(EnableScoring::disabled_from_searcher(searcher))
            .map_err(Error::index)?;
        let matches = |addr: tantivy::DocAddress| -> Result<bool> {
            let segment = searcher.segment_reader(addr.segment_ord);
            let mut scorer = weight.scorer(segment, 1.0).map_err(Error::index)?;
            // A fresh scorer stands on its first document; seek only moves forward.
            let at = scorer.doc();
            Ok(at == addr.doc_id || (at < addr.doc_id && scorer.seek(addr.doc_id) == addr.doc_id))
        };
        let mut docs = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let doc: TantivyDocument = searcher.doc(addr).map_err(Error::index)?;
            let hit = self.hit(&doc, score);
            docs.push((score, addr, hit.session, hit.marked_fix, matches(addr)?));
        }
        let with_content: std::collections::HashSet<&str> =
            docs.iter().filter(|d| d.4).map(|d| d.2.as_str()).collect();
        let mut kept: Vec<Option<(Score, tantivy::DocAddress)>> = Vec::with_capacity(docs.len());
        // Sessions standing for themselves: where in `kept`, and whether by the marked fix.
        let mut standing: std::collections::HashMap<&str, (usize, bool)> = Default::default();
        for (score, addr, session, marked, content) in &docs {
            if *content {
                kept.push(Some((*score, *addr)));
                continue;
            }
            if with_content.contains(session.as_str()) {
                continue;
            }
            match standing.get(session.as_str()) {
                None => {
                    standing.insert(session, (kept.len(), *marked));
                    kept.push(Some((*score, *addr)));
                }
                Some(&(at, false)) if *marked => {
                    // The marked fix stands for the session, at the place of its best.
                    kept[at] = Some((kept[at].map_or(*score, |k| k.0), *addr));
                    standing.insert(session, (at, true));
                }
                Some(_) => {}
            }
        }
        Ok(kept.into_iter().flatten().collect())
    }

    /// The `k` commands that followed command `seq` of `session`.
    pub fn following(&self, session: &str, seq: u32, k: usize) -> Result<Vec<CommandSummary>> {
        guard(|| {
            if k == 0 {
                return Ok(Vec::new());
            }
            let f = &self.fields;
            let q = BooleanQuery::new(vec![
                (
                    Occur::Must,
                    Box::new(TermQuery::new(
                        Term::from_field_text(f.session, session),
                        IndexRecordOption::Basic,
                    )),
                ),
                (
                    Occur::Must,
                    Box::new(RangeQuery::new(
                        std::ops::Bound::Excluded(Term::from_field_u64(f.seq, u64::from(seq))),
                        std::ops::Bound::Included(Term::from_field_u64(
                            f.seq,
                            u64::from(seq) + k as u64,
                        )),
                    )),
                ),
            ]);
            let searcher = self.reader.searcher();
            let top = searcher
                .search(&q, &TopDocs::with_limit(k).order_by_score())
                .map_err(Error::index)?;
            let mut out = Vec::new();
            for (_, addr) in top {
                let doc: TantivyDocument = searcher.doc(addr).map_err(Error::index)?;
                let h = self.hit(&doc, 0.0);
                out.push(CommandSummary {
                    seq: h.seq,
                    offset: h.offset,
                    command: h.command,
                    exit: h.exit,
                });
            }
            out.sort_by_key(|c| c.seq);
            Ok(out)
        })
    }

    fn hit(&self, doc: &TantivyDocument, score: f32) -> Hit {
        let f = &self.fields;
        let s = |field| {
            doc.get_first(field)
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        };
        let opt = |field| {
            doc.get_first(field)
                .and_then(|v| v.as_str().map(str::to_owned))
        };
        let started = doc
            .get_first(f.started)
            .and_then(|v| v.as_datetime())
            .and_then(|d| OffsetDateTime::from_unix_timestamp(d.into_timestamp_secs()).ok())
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let info: FixInfo = opt(f.fix_info)
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default();
        Hit {
            session: s(f.session),
            seq: doc.get_first(f.seq).and_then(|v| v.as_u64()).unwrap_or(0) as u32,
            offset: doc
                .get_first(f.offset)
                .and_then(|v| v.as_f64())
                .unwrap_or(0.0),
            command: s(f.cmd),
            exit: doc
                .get_first(f.exit)
                .and_then(|v| v.as_i64())
                .map(|e| e as i32),
            duration: doc
                .get_first(f.duration)
                .and_then(|v| v.as_f64())
                .unwrap_or(0.0),
            started,
            cwd: opt(f.cwd),
            host: s(f.host),
            user: s(f.user),
            shell: s(f.shell),
            title: opt(f.title),
            tags: doc
                .get_all(f.tags)
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            source: s(f.source),
            confusables: serde_json::from_str(&s(f.confusables)).unwrap_or_default(),
            score,
            snippet: Snippet {
                text: String::new(),
                highlights: Vec::new(),
            },
            fix: info.fix,
            next_steps: info.next_steps,
            fixes: info.fixes,
            verifies: info.verifies,
            marked_fix: info.marked,
            partial: false,
        }
    }
}

/// Runs a read of the index, turning a panic in tantivy (damaged files) into an error,
/// silently: the caller rebuilds the index with a message of its own.
fn guard<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    match contain(f) {
        Ok(r) => r,
        Err(_) => Err(Error::Index("the index could not be read".into())),
    }
}

/// Scores equal to 5 significant digits count as a tie (segment layout changes the sum
/// order of floats in the last bits).
fn quantize(score: f32) -> i64 {
    (f64::from(score) * 10_000.0).round() as i64
}

fn snippet(gen: &SnippetGenerator, doc: &TantivyDocument, out: tantivy::schema::Field) -> Snippet {
    let s = gen.snippet_from_doc(doc);
    if !s.is_empty() && !s.highlighted().is_empty() {
        let mut ranges: Vec<Range<usize>> = s.highlighted().to_vec();
        ranges.sort_by_key(|r| (r.start, r.end));
        let mut merged: Vec<Range<usize>> = Vec::new();
        for r in ranges {
            match merged.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => merged.push(r),
            }
        }
        return Snippet {
            text: s.fragment().to_owned(),
            highlights: merged,
        };
    }
    // No match in the output: its first lines, for context.
    let text = doc
        .get_first(out)
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let head: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(2)
        .collect();
    let mut head = head.join("\n");
    if head.len() > 200 {
        let mut cut = 200;
        while !head.is_char_boundary(cut) {
            cut -= 1;
        }
        head.truncate(cut);
    }
    Snippet {
        text: head,
        highlights: Vec::new(),
    }
}

/// Writes sessions into the index. Nothing is visible to searches before
/// [`CommandWriter::commit`].
pub struct CommandWriter {
    writer: IndexWriter,
    fields: Fields,
    /// What counts as a look rather than a fix, for the fix records.
    read_only: ReadOnly,
}

impl CommandWriter {
    /// Replaces whatever the index has of this session with these commands.
    pub fn index_session(&mut self, meta: &SessionMeta, commands: &[CommandRecord]) -> Result<()> {
        self.remove_session(meta.id.as_str());
        self.add_session(meta, commands)
    }

    /// The programs that only look (the built-in list and the user's), for telling
    /// diagnostics from fixes.
    pub fn set_read_only(&mut self, read_only: ReadOnly) {
        self.read_only = read_only;
    }

    /// Adds a session's commands, without looking for older copies (a fresh index).
    pub fn add_session(&mut self, meta: &SessionMeta, commands: &[CommandRecord]) -> Result<()> {
        let records = derive_fixes(commands, meta.fix_seq, &self.read_only);
        let mut info = fixes::by_command(commands, &records);
        if let Some(seq) = meta.fix_seq {
            info.entry(seq).or_default().marked = true;
        }
        for c in commands {
            let doc = self.document(meta, c, info.get(&c.seq));
            self.writer.add_document(doc).map_err(Error::index)?;
        }
        Ok(())
    }

    /// Replaces a session's commands from sequence number `from` on with `commands`:
    /// for a session still being recorded, whose earlier commands are in the index
    /// already and have not changed (the running one has, and new ones came).
    pub fn replace_from(
        &mut self,
        meta: &SessionMeta,
        from: u32,
        commands: &[CommandRecord],
    ) -> Result<()> {
        let f = &self.fields;
        let session: Box<dyn tantivy::query::Query> = Box::new(TermQuery::new(
            Term::from_field_text(f.session, meta.id.as_str()),
            IndexRecordOption::Basic,
        ));
        let later: Box<dyn tantivy::query::Query> = Box::new(RangeQuery::new(
            std::ops::Bound::Included(Term::from_field_u64(f.seq, u64::from(from))),
            std::ops::Bound::Unbounded,
        ));
        self.writer
            .delete_query(Box::new(BooleanQuery::intersection(vec![session, later])))
            .map_err(Error::index)?;
        self.add_session(meta, commands)
    }

    pub fn remove_session(&mut self, id: &str) {
        self.writer
            .delete_term(Term::from_field_text(self.fields.session, id));
    }

    /// Removes every command (a rebuild in place).
    pub fn clear(&mut self) -> Result<()> {
        self.writer
            .delete_all_documents()
            .map(|_| ())
            .map_err(Error::index)
    }

    /// Makes everything written so far visible and durable.
    pub fn commit(&mut self) -> Result<()> {
        self.writer.commit().map(|_| ()).map_err(Error::index)
    }

    /// Commits, then waits for background merges, releasing the lock.
    pub fn finish(mut self) -> Result<()> {
        self.commit()?;
        self.writer.wait_merging_threads().map_err(Error::index)
    }

    /// Commits, merges every segment into one (smaller, and faster to search: for bulk
    /// builds), and releases the lock.
    pub fn finish_compact(mut self) -> Result<()> {
        self.commit()?;
        let ids = self
            .writer
            .index()
            .searchable_segment_ids()
            .map_err(Error::index)?;
        if ids.len() > 1 {
            self.writer.merge(&ids).wait().map_err(Error::index)?;
        }
        self.writer.wait_merging_threads().map_err(Error::index)
    }

    fn document(
        &self,
        meta: &SessionMeta,
        c: &CommandRecord,
        info: Option<&FixInfo>,
    ) -> TantivyDocument {
        let f = &self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.session, meta.id.as_str());
        doc.add_u64(f.seq, u64::from(c.seq));
        doc.add_f64(f.offset, c.start);
        doc.add_text(f.cmd, &c.command);
        if let Some(twin) = ascii_twin_text(&c.command) {
            doc.add_text(f.cmd_twin, &twin);
        }
        let (head, tail) = indexed_output(&c.output);
        let joined;
        let out = if tail.is_empty() {
            head
        } else {
            joined = format!("{head}\n[fixcast: output cut here in the index]\n{tail}");
            joined.as_str()
        };
        doc.add_text(f.out, out);
        doc.add_text(f.out_stem, out);
        if let Some(cwd) = c
            .cwd
            .as_deref()
            .or(Some(meta.cwd.as_str()).filter(|s| !s.is_empty()))
        {
            doc.add_text(f.cwd, cwd);
        }
        if let Some(e) = c.exit {
            doc.add_i64(f.exit, i64::from(e));
        }
        doc.add_f64(f.duration, c.duration());
        let started =
            meta.started.unix_timestamp_nanos() as i64 + (c.start.max(0.0) * 1e9).min(1e18) as i64;
        doc.add_date(f.started, DateTime::from_timestamp_nanos(started));
        doc.add_text(f.host, &meta.host);
        doc.add_text(f.user, &meta.user);
        doc.add_text(f.shell, &meta.shell);
        if let Some(t) = &meta.title {
            doc.add_text(f.title, t);
        }
        for t in &meta.tags {
            doc.add_text(f.tags, t);
        }
        if let Some(n) = &meta.notes {
            doc.add_text(f.notes, n);
        }
        doc.add_text(
            f.source,
            match c.source {
                CommandSource::Integration => "integration",
                CommandSource::Heuristic => "heuristic",
            },
        );
        doc.add_u64(f.suspicious, u64::from(c.suspicious));
        if !c.confusables.is_empty() {
            doc.add_text(
                f.confusables,
                serde_json::to_string(&c.confusables).expect("confusables serialise"),
            );
        }
        if let Some(info) = info.filter(|i| !i.is_empty()) {
            doc.add_text(
                f.fix_info,
                serde_json::to_string(info).expect("fix records serialise"),
            );
            doc.add_u64(f.resolved, u64::from(info.fix.is_some()));
        }
        doc
    }
}
