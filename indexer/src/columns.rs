//! The fast-field columns a search reads for its candidates (outcome, start, session,
//! seq, mark), opened once per segment and kept across searches, as the doc stores are
//! (`stored.rs`). Opening a column reads its header and codec (a blockwise-linear column
//! decodes its blocks' metadata): about a tenth of a millisecond a search at 1M commands.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tantivy::columnar::{Column, ColumnValues, StrColumn};
use tantivy::index::SegmentId;
use tantivy::{DateTime, Searcher, SegmentReader};

use crate::error::{Error, Result};

/// One segment's columns.
pub(crate) struct SegmentColumns {
    /// Exit status, `i64::MIN` where unknown (read by the page's collector).
    pub(crate) exit: Option<Arc<dyn ColumnValues<i64>>>,
    /// 1 for a failure whose fix is known.
    pub(crate) resolved: Option<Arc<dyn ColumnValues<u64>>>,
    pub(crate) started: Column<DateTime>,
    pub(crate) session: Option<StrColumn>,
    pub(crate) seq: Column<u64>,
    pub(crate) marked: Column<u64>,
}

impl SegmentColumns {
    pub(crate) fn open(segment: &SegmentReader) -> Result<SegmentColumns> {
        let ff = segment.fast_fields();
        Ok(SegmentColumns {
            exit: ff
                .i64("exit")
                .ok()
                .map(|c: Column<i64>| c.first_or_default_col(i64::MIN)),
            resolved: ff
                .u64("resolved")
                .ok()
                .map(|c: Column<u64>| c.first_or_default_col(0)),
            started: ff.date("started").map_err(Error::index)?,
            session: ff.str("session").map_err(Error::index)?,
            seq: ff.u64("seq").map_err(Error::index)?,
            marked: ff.u64("marked").map_err(Error::index)?,
        })
    }
}

/// The columns of the segments searched, by segment id.
#[derive(Default)]
pub(crate) struct Columns {
    open: Mutex<HashMap<SegmentId, Arc<SegmentColumns>>>,
}

impl Columns {
    /// The columns of each of `searcher`'s segments, in its order (a segment's ord is
    /// its place here). Segments merged away since let go of theirs.
    pub(crate) fn of(&self, searcher: &Searcher) -> Result<Vec<Arc<SegmentColumns>>> {
        let readers = searcher.segment_readers();
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if open.len() > readers.len() || readers.iter().any(|r| !open.contains_key(&r.segment_id()))
        {
            open.retain(|id, _| readers.iter().any(|r| r.segment_id() == *id));
        }
        readers
            .iter()
            .map(|r| match open.get(&r.segment_id()) {
                Some(c) => Ok(c.clone()),
                None => {
                    let c = Arc::new(SegmentColumns::open(r)?);
                    open.insert(r.segment_id(), c.clone());
                    Ok(c)
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{cmd, session};
    use crate::{CommandIndex, WriterOptions};

    /// Each segment's columns are its own (not another segment's taken for them), and a
    /// segment merged away lets go of its columns.
    #[test]
    fn the_columns_follow_the_segments_searched() {
        let index = CommandIndex::in_ram();
        let columns = Columns::default();
        let mut w = index.writer(WriterOptions::default()).unwrap();
        let (m, c) = session("one", vec![cmd(7, "echo one", "one", Some(0))]);
        w.index_session(&m, &c).unwrap();
        w.commit().unwrap();
        index.reload().unwrap();
        assert_eq!(columns.of(&index.reader.searcher()).unwrap().len(), 1);
        let (m, c) = session("two", vec![cmd(9, "echo two", "two", Some(0))]);
        w.index_session(&m, &c).unwrap();
        w.commit().unwrap();
        index.reload().unwrap();
        let searcher = index.reader.searcher();
        let both = columns.of(&searcher).unwrap();
        assert_eq!(searcher.segment_readers().len(), 2);
        for (i, r) in searcher.segment_readers().iter().enumerate() {
            let own = SegmentColumns::open(r).unwrap();
            assert_eq!(both[i].seq.first(0), own.seq.first(0), "segment {i}");
        }
        let mut seqs: Vec<Option<u64>> = both.iter().map(|c| c.seq.first(0)).collect();
        seqs.sort();
        assert_eq!(seqs, vec![Some(7), Some(9)]);
        w.finish_compact().unwrap();
        index.reload().unwrap();
        let merged = columns.of(&index.reader.searcher()).unwrap();
        assert_eq!(merged.len(), 1);
        assert_eq!(
            columns.open.lock().unwrap().len(),
            1,
            "merged-away segments let go"
        );
    }
}
