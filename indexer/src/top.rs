//! The best documents for a query by their ranked score: the query's score times what
//! the command's outcome is worth (a known fix, a success, an unknown status).
//!
//! tantivy's `TopDocs::tweak_score` scores every matching document. This collector asks
//! the query to skip what cannot enter the page instead (`Weight::for_each_pruning`,
//! block-WAND for a union of terms): no outcome is worth more than [`MAX_WEIGHT`], so a
//! document whose query score times that is below the page's last cannot enter. A tie on
//! the ranked score is broken by what the command is (newest first, then session id, then
//! seq: see [`Ranked`]), never by document id, so one index built twice (other threads,
//! other segments) gives the same page; the documents kept are those `tweak_score` keeps
//! over every match sorted so.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::query::Weight;
use tantivy::{DocAddress, DocId, Score, SegmentReader};

/// A knowledge base of fixes: among equally good matches, the command that worked (exit
/// 0) comes before the attempts that failed, and those with an unknown status between.
/// A failure whose fix is known answers "what fixed it" and so comes before both.
const SUCCESS_WEIGHT: f32 = 1.3;
const UNKNOWN_WEIGHT: f32 = 1.15;
const RESOLVED_WEIGHT: f32 = 1.5;
/// The most any outcome multiplies a score by.
const MAX_WEIGHT: f32 = RESOLVED_WEIGHT;

/// The `limit` best documents by ranked score, best first, ties broken by [`Ranked`]'s
/// key (never by document id).
pub(crate) struct RankedTop {
    pub limit: usize,
    /// More than one segment: sessions are compared by id, not by place.
    pub by_id: bool,
}

/// What a command's outcome is worth, read from a segment's fast fields.
struct Outcome {
    exit: Option<std::sync::Arc<dyn tantivy::columnar::ColumnValues<i64>>>,
    resolved: Option<std::sync::Arc<dyn tantivy::columnar::ColumnValues<u64>>>,
}

impl Outcome {
    fn of(segment: &SegmentReader) -> Outcome {
        let ff = segment.fast_fields();
        Outcome {
            exit: ff
                .i64("exit")
                .ok()
                .map(|c: Column<i64>| c.first_or_default_col(i64::MIN)),
            resolved: ff
                .u64("resolved")
                .ok()
                .map(|c: Column<u64>| c.first_or_default_col(0)),
        }
    }

    #[inline]
    fn rank(&self, doc: DocId, score: Score) -> Score {
        if self.resolved.as_ref().is_some_and(|c| c.get_val(doc) == 1) {
            return score * RESOLVED_WEIGHT;
        }
        match self.exit.as_ref().map(|c| c.get_val(doc)) {
            Some(0) => score * SUCCESS_WEIGHT,
            Some(i64::MIN) | None => score * UNKNOWN_WEIGHT,
            Some(_) => score,
        }
    }
}

/// The ranked score of a segment's documents, for `TopDocs::tweak_score`: what the
/// collector must agree with.
#[cfg(test)]
pub(crate) fn rank_of(segment: &SegmentReader) -> impl Fn(DocId, Score) -> Score {
    let outcome = Outcome::of(segment);
    move |doc, score| outcome.rank(doc, score)
}

/// Which session a document is of, ordered as the session ids are. In an index of one
/// segment (as a rebuild leaves it), the id's place in the segment's sorted dictionary
/// says it: reading the id itself decodes a block of that dictionary. Across segments
/// those places differ: the id, read for the documents kept only.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum SessionKey {
    Ord(u64),
    Id(String),
}

/// A kept document with what breaks a tie on its score, so that the page does not depend
/// on document ids (how the indexing threads interleaved): the newest first, then the
/// session (by id, the greater first), then the later command.
#[derive(Debug, Clone)]
pub(crate) struct Ranked {
    pub score: Score,
    /// Seconds since 1970.
    pub started: i64,
    pub session: SessionKey,
    pub seq: u64,
    pub addr: DocAddress,
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Ranked {}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The greater is the better.
impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        self.score
            .total_cmp(&other.score)
            .then(self.started.cmp(&other.started))
            .then_with(|| self.session.cmp(&other.session))
            .then(self.seq.cmp(&other.seq))
            // Only between copies of one command (never in one searcher): any order.
            .then_with(|| other.addr.cmp(&self.addr))
    }
}

/// A kept document of one segment: its tie-breaking key in that segment's terms.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    started: i64,
    session: u64,
    seq: u64,
}

/// The greater is the better (see [`Ranked`]).
#[derive(Clone, Copy)]
struct Entry {
    score: Score,
    key: Key,
    doc: DocId,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        self.score
            .total_cmp(&other.score)
            .then(self.key.cmp(&other.key))
            .then_with(|| other.doc.cmp(&self.doc))
    }
}

/// The fast fields a tie is broken with.
struct Keys {
    started: Option<Column<tantivy::DateTime>>,
    session: Option<tantivy::columnar::StrColumn>,
    seq: Option<Column<u64>>,
}

impl Keys {
    fn of(segment: &SegmentReader) -> tantivy::Result<Keys> {
        let ff = segment.fast_fields();
        Ok(Keys {
            started: ff.date("started").ok(),
            session: ff.str("session")?,
            seq: ff.u64("seq").ok(),
        })
    }

    #[inline]
    fn key(&self, doc: DocId) -> Key {
        Key {
            started: self
                .started
                .as_ref()
                .and_then(|c| c.first(doc))
                .map_or(0, |d| d.into_timestamp_secs()),
            session: self
                .session
                .as_ref()
                .and_then(|c| c.ords().first(doc))
                .unwrap_or(0),
            seq: self.seq.as_ref().and_then(|c| c.first(doc)).unwrap_or(0),
        }
    }
}

/// One segment's best, the worst on top of a min-heap.
pub(crate) struct SegmentTop {
    limit: usize,
    segment: u32,
    outcome: Outcome,
    keys: Keys,
    heap: BinaryHeap<Reverse<Entry>>,
}

impl SegmentTop {
    #[inline]
    fn push(&mut self, doc: DocId, score: Score) {
        let score = self.outcome.rank(doc, score);
        if self.heap.len() < self.limit {
            let key = self.keys.key(doc);
            self.heap.push(Reverse(Entry { score, key, doc }));
            return;
        }
        let Some(worst) = self.heap.peek().map(|w| w.0) else {
            return;
        };
        // Most documents lose on the score alone: the key is read for the others.
        if score.total_cmp(&worst.score) == Ordering::Less {
            return;
        }
        let e = Entry {
            score,
            key: self.keys.key(doc),
            doc,
        };
        if e > worst {
            self.heap.pop();
            self.heap.push(Reverse(e));
        }
    }

    /// The query score a document must beat to be worth ranking: at or below it, even the
    /// best outcome leaves it below the page's last (one equal to it may still enter, on
    /// its key). Exactly the largest such score, in the collector's own arithmetic: many
    /// matches score alike (a phrase once in a line), and a bound a hair lower would let
    /// every one of them through.
    #[inline]
    fn threshold(&self) -> Score {
        match self.heap.peek() {
            Some(worst) if self.heap.len() >= self.limit => below(worst.0.score),
            _ => Score::MIN,
        }
    }

    /// The kept documents, best first, their sessions by id when `by_id`.
    fn ranked(self, by_id: bool) -> tantivy::Result<Vec<Ranked>> {
        let mut kept: Vec<Entry> = self.heap.into_iter().map(|Reverse(e)| e).collect();
        kept.sort_unstable_by(|a, b| b.cmp(a));
        let mut id = String::new();
        kept.into_iter()
            .map(|e| {
                let session = match (&self.keys.session, by_id) {
                    (Some(col), true) => {
                        id.clear();
                        col.ord_to_str(e.key.session, &mut id)?;
                        SessionKey::Id(id.clone())
                    }
                    (None, true) => SessionKey::Id(String::new()),
                    (_, false) => SessionKey::Ord(e.key.session),
                };
                Ok(Ranked {
                    score: e.score,
                    started: e.key.started,
                    session,
                    seq: e.key.seq,
                    addr: DocAddress::new(self.segment, e.doc),
                })
            })
            .collect()
    }
}

/// The largest query score that, times [`MAX_WEIGHT`], is below `last`.
fn below(last: Score) -> Score {
    if !last.is_finite() {
        return Score::MIN;
    }
    let mut t = last / MAX_WEIGHT;
    // Rounding may leave the quotient one step off either way.
    while t * MAX_WEIGHT >= last {
        t = t.next_down();
    }
    while (t.next_up() * MAX_WEIGHT) < last {
        t = t.next_up();
    }
    t
}

impl SegmentCollector for SegmentTop {
    type Fruit = Vec<Ranked>;

    fn collect(&mut self, doc: DocId, score: Score) {
        self.push(doc, score);
    }

    fn harvest(self) -> Self::Fruit {
        // Only the sessions' places: the collector's own path reads ids where needed.
        self.ranked(false).unwrap_or_default()
    }
}

impl RankedTop {
    /// The `limit` best of what `searcher` finds.
    pub(crate) fn new(limit: usize, searcher: &tantivy::Searcher) -> RankedTop {
        RankedTop {
            limit,
            by_id: searcher.segment_readers().len() > 1,
        }
    }
}

impl Collector for RankedTop {
    type Fruit = Vec<Ranked>;
    type Child = SegmentTop;

    fn for_segment(&self, segment: u32, reader: &SegmentReader) -> tantivy::Result<SegmentTop> {
        Ok(SegmentTop {
            limit: self.limit,
            segment,
            outcome: Outcome::of(reader),
            keys: Keys::of(reader)?,
            heap: BinaryHeap::with_capacity(self.limit.min(4096) + 1),
        })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, fruits: Vec<Self::Fruit>) -> tantivy::Result<Self::Fruit> {
        let mut all: Vec<Ranked> = fruits.into_iter().flatten().collect();
        all.sort_unstable_by(|a, b| b.cmp(a));
        all.truncate(self.limit);
        Ok(all)
    }

    fn collect_segment(
        &self,
        weight: &dyn Weight,
        segment: u32,
        reader: &SegmentReader,
    ) -> tantivy::Result<Self::Fruit> {
        let mut top = self.for_segment(segment, reader)?;
        if self.limit == 0 {
            return Ok(Vec::new());
        }
        let alive = reader.alive_bitset();
        weight.for_each_pruning(Score::MIN, reader, &mut |doc, score| {
            if alive.is_none_or(|a| a.is_alive(doc)) {
                top.push(doc, score);
            }
            top.threshold()
        })?;
        top.ranked(self.by_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_threshold_is_the_largest_score_that_cannot_enter_nor_tie() {
        for last in [1.0f32, 1.5, 3.3333333, 7.123456, 0.0001, 12345.678] {
            let t = below(last);
            assert!(t * MAX_WEIGHT < last, "{last}: {t} could enter");
            assert!(
                t.next_up() * MAX_WEIGHT >= last,
                "{last}: {t} is not the largest"
            );
        }
    }
}
