//! Writing sessions into the index: one document per command, with what its fix
//! records say of it.

use fixcast_sessions::{
    again_from, ascii_twin_text, derive_fixes, error_signature, micros, CommandRecord,
    CommandSource, ReadOnly, SessionMeta,
};
use tantivy::directory::error::LockError;
use tantivy::indexer::NoMergePolicy;
use tantivy::query::{BooleanQuery, RangeQuery, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{DateTime, IndexWriter, TantivyDocument, TantivyError, Term};

use crate::error::{Error, Result};
use crate::fixes::{self, FixInfo};
use crate::schema::Fields;

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

/// The output text as indexed: whole, or its head and tail around a marker (a snippet is
/// made from the same, so it shows what was indexed).
pub(crate) fn indexed_text(out: &str) -> std::borrow::Cow<'_, str> {
    match indexed_output(out) {
        (head, "") => head.into(),
        (head, tail) => format!("{head}\n[fixcast: output cut here in the index]\n{tail}").into(),
    }
}

/// Output text longer than this is kept in the index for its snippet: rendering it again
/// from the recording would cost a search more than reading it (a 20 MB `seq` took a
/// second). Nearly all output is shorter, and is rendered again instead.
const KEEP_OUTPUT_OVER: usize = 16 * 1024;

/// Writes sessions into the index. Nothing is visible to searches before
/// [`CommandWriter::commit`].
pub struct CommandWriter {
    pub(crate) writer: IndexWriter,
    pub(crate) fields: Fields,
    /// What counts as a look rather than a fix, for the fix records.
    pub(crate) read_only: ReadOnly,
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

    /// The list the fix records are derived with.
    pub fn read_only(&self) -> &ReadOnly {
        &self.read_only
    }

    /// Adds a session's commands, without looking for older copies (a fresh index).
    pub fn add_session(&mut self, meta: &SessionMeta, commands: &[CommandRecord]) -> Result<()> {
        let records = derive_fixes(commands, meta.fix_seq, &self.read_only);
        let mut info = fixes::by_command(commands, &records);
        if let Some(seq) = meta.fix_seq {
            info.entry(seq).or_default().marked = true;
        }
        for (i, c) in commands.iter().enumerate() {
            let mut doc = self.document(meta, c, info.get(&c.seq));
            let f = &self.fields;
            let from = again_from(commands, i);
            if from > 0 {
                doc.add_u64(f.again, micros(c.start).saturating_sub(from));
            }
            if let Some((cols, rows)) = c.size {
                doc.add_u64(f.size, u64::from(cols) << 16 | u64::from(rows));
            }
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
        let index = self.writer.index().clone();
        // The merge policy may be merging some segments in the background (after any of
        // the earlier commits): a merge naming those fails ("the segments that were
        // merged could not be found"). Let them finish, then merge what is left with no
        // policy racing it.
        self.writer.wait_merging_threads().map_err(Error::index)?;
        if index.searchable_segment_ids().map_err(Error::index)?.len() <= 1 {
            return Ok(());
        }
        let mut writer: IndexWriter<TantivyDocument> =
            match index.writer_with_num_threads(1, 15_000_000) {
                Ok(w) => w,
                // Another writer came in between: the index is whole, in more segments.
                Err(TantivyError::LockFailure(LockError::LockBusy, _)) => return Ok(()),
                Err(e) => return Err(Error::index(e)),
            };
        writer.set_merge_policy(Box::new(NoMergePolicy));
        let ids = index.searchable_segment_ids().map_err(Error::index)?;
        if ids.len() > 1 {
            writer.merge(&ids).wait().map_err(Error::index)?;
        }
        writer.wait_merging_threads().map_err(Error::index)
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
        doc.add_u64(f.offset, micros(c.start));
        doc.add_text(f.cmd, &c.command);
        if let Some(twin) = ascii_twin_text(&c.command) {
            doc.add_text(f.cmd_twin, &twin);
        }
        let out = indexed_text(&c.output);
        doc.add_text(f.out, &*out);
        doc.add_text(f.out_stem, &*out);
        if out.len() > KEEP_OUTPUT_OVER {
            doc.add_text(f.out_kept, &*out);
        }
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
        doc.add_u64(f.duration, micros(c.duration()));
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
        if info.is_some_and(|i| i.marked) {
            doc.add_u64(f.marked, 1);
        }
        if let Some(info) = info.filter(|i| !i.is_empty()) {
            doc.add_text(
                f.fix_info,
                serde_json::to_string(info).expect("fix records serialise"),
            );
            doc.add_u64(f.resolved, u64::from(info.fix.is_some()));
        }
        if fixcast_sessions::failed(c) && !c.errors.is_empty() {
            let fix = info.and_then(|i| i.fix.as_ref());
            let mut sigs: Vec<String> = c.errors.iter().map(|e| error_signature(e)).collect();
            sigs.sort();
            sigs.dedup();
            for s in sigs.iter().filter(|s| !s.is_empty()) {
                doc.add_text(f.error_sig, s);
            }
            let secs = (started / 1_000_000_000).max(0) as u64;
            doc.add_u64(f.hint_rank, crate::seen::rank(fix.map(|n| n.found), secs));
        }
        doc
    }
}
