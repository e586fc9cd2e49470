//! The best documents for a query by their ranked score: the query's score times what
//! the command's outcome is worth (a known fix, a success, an unknown status).
//!
//! tantivy's `TopDocs::tweak_score` scores every matching document. This collector asks
//! the query to skip what cannot enter the page instead (`Weight::for_each_pruning`,
//! block-WAND for a union of terms): no outcome is worth more than [`MAX_WEIGHT`], so a
//! document whose query score times that is not above the page's last cannot enter. The
//! documents kept are the same as `tweak_score` keeps, ties to the lower document.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use std::sync::Arc;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::query::Weight;
use tantivy::{DocAddress, DocId, Score, SegmentReader};

use crate::columns::SegmentColumns;

/// A knowledge base of fixes: among equally good matches, the command that worked (exit
/// 0) comes before the attempts that failed, and those with an unknown status between.
/// A failure whose fix is known answers "what fixed it" and so comes before both.
const SUCCESS_WEIGHT: f32 = 1.3;
const UNKNOWN_WEIGHT: f32 = 1.15;
const RESOLVED_WEIGHT: f32 = 1.5;
/// The most any outcome multiplies a score by.
const MAX_WEIGHT: f32 = RESOLVED_WEIGHT;

/// The `limit` best documents by ranked score, best first. `columns`: each segment's,
/// by its ord (see [`Columns::of`](crate::columns::Columns::of)).
pub(crate) struct RankedTop<'a> {
    pub limit: usize,
    pub columns: &'a [Arc<SegmentColumns>],
}

/// What a command's outcome is worth, read from a segment's fast fields.
struct Outcome {
    exit: Option<Arc<dyn tantivy::columnar::ColumnValues<i64>>>,
    resolved: Option<Arc<dyn tantivy::columnar::ColumnValues<u64>>>,
}

impl Outcome {
    fn of(columns: &SegmentColumns) -> Outcome {
        Outcome {
            exit: columns.exit.clone(),
            resolved: columns.resolved.clone(),
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
    let columns = SegmentColumns::open(segment).expect("the segment's columns");
    let outcome = Outcome::of(&columns);
    move |doc, score| outcome.rank(doc, score)
}

/// A kept document: the greater is the better (higher score, then lower document).
#[derive(Clone, Copy)]
struct Entry {
    score: Score,
    addr: DocAddress,
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
            .then_with(|| other.addr.cmp(&self.addr))
    }
}

/// One segment's best, the worst on top of a min-heap.
pub(crate) struct SegmentTop {
    limit: usize,
    segment: u32,
    outcome: Outcome,
    heap: BinaryHeap<Reverse<Entry>>,
}

impl SegmentTop {
    #[inline]
    pub(crate) fn push(&mut self, doc: DocId, score: Score) {
        let e = Entry {
            score: self.outcome.rank(doc, score),
            addr: DocAddress::new(self.segment, doc),
        };
        if self.heap.len() < self.limit {
            self.heap.push(Reverse(e));
        } else if self.heap.peek().is_some_and(|worst| e > worst.0) {
            self.heap.pop();
            self.heap.push(Reverse(e));
        }
    }

    /// Whether a document of this segment whose query score is at most `bound` cannot enter
    /// the page, by its own outcome (a page not full takes anything).
    #[inline]
    pub(crate) fn cannot_enter(&self, doc: DocId, bound: Score) -> bool {
        match self.heap.peek() {
            Some(worst) if self.heap.len() >= self.limit => {
                let best = Entry {
                    score: self.outcome.rank(doc, bound),
                    addr: DocAddress::new(self.segment, doc),
                };
                best <= worst.0
            }
            _ => false,
        }
    }

    /// The query score a document must beat to be worth ranking: at or below it, even the
    /// best outcome leaves it not above the page's last. Exactly the largest such score,
    /// in the collector's own arithmetic: many matches score alike (a phrase once in a
    /// line), and a bound a hair lower would let every one of them through.
    #[inline]
    pub(crate) fn threshold(&self) -> Score {
        match self.heap.peek() {
            Some(worst) if self.heap.len() >= self.limit => below(worst.0.score),
            _ => Score::MIN,
        }
    }
}

/// The largest query score that, times [`MAX_WEIGHT`], is not above `last`.
fn below(last: Score) -> Score {
    if !last.is_finite() {
        return Score::MIN;
    }
    let mut t = last / MAX_WEIGHT;
    // Rounding may leave the quotient one step off either way.
    while t * MAX_WEIGHT > last {
        t = t.next_down();
    }
    while (t.next_up() * MAX_WEIGHT) <= last {
        t = t.next_up();
    }
    t
}

impl SegmentCollector for SegmentTop {
    type Fruit = Vec<(Score, DocAddress)>;

    fn collect(&mut self, doc: DocId, score: Score) {
        self.push(doc, score);
    }

    fn harvest(self) -> Self::Fruit {
        self.heap
            .into_iter()
            .map(|Reverse(e)| (e.score, e.addr))
            .collect()
    }
}

/// A query that walks a segment's matches itself, into a page that knows each document's
/// outcome before its score is worked out (see [`SegmentTop::cannot_enter`]).
pub(crate) trait RankedWalk {
    /// Pushes into `top` every live match that may enter it (others may be left out).
    fn walk(&self, reader: &SegmentReader, top: &mut SegmentTop) -> tantivy::Result<()>;
}

impl RankedTop<'_> {
    /// The page for `q`. A phrase weighs each document by its own outcome before reading
    /// its positions (its walk); any other query is collected.
    pub(crate) fn page(
        &self,
        searcher: &tantivy::Searcher,
        q: &dyn tantivy::query::Query,
    ) -> tantivy::Result<Vec<(Score, DocAddress)>> {
        match q.downcast_ref::<crate::phrase::PhraseInFields>() {
            Some(phrase) => self.collect_walk(searcher, &*phrase.ranked_walk(searcher)?),
            None => searcher.search(q, self),
        }
    }

    /// The page `walk` gives over every segment: what [`Collector`] gives for its query.
    fn collect_walk(
        &self,
        searcher: &tantivy::Searcher,
        walk: &dyn RankedWalk,
    ) -> tantivy::Result<Vec<(Score, DocAddress)>> {
        let mut fruits = Vec::with_capacity(searcher.segment_readers().len());
        for (ord, reader) in searcher.segment_readers().iter().enumerate() {
            let mut top = self.for_segment(ord as u32, reader)?;
            if self.limit > 0 {
                walk.walk(reader, &mut top)?;
            }
            fruits.push(top.harvest());
        }
        self.merge_fruits(fruits)
    }
}

impl Collector for RankedTop<'_> {
    type Fruit = Vec<(Score, DocAddress)>;
    type Child = SegmentTop;

    fn for_segment(&self, segment: u32, reader: &SegmentReader) -> tantivy::Result<SegmentTop> {
        Ok(SegmentTop {
            limit: self.limit,
            segment,
            outcome: match self.columns.get(segment as usize) {
                Some(columns) => Outcome::of(columns),
                None => Outcome::of(&SegmentColumns::open(reader).map_err(|e| {
                    tantivy::TantivyError::InternalError(format!("segment {segment}: {e}"))
                })?),
            },
            heap: BinaryHeap::with_capacity(self.limit.min(4096) + 1),
        })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, fruits: Vec<Self::Fruit>) -> tantivy::Result<Self::Fruit> {
        let mut all: Vec<Entry> = fruits
            .into_iter()
            .flatten()
            .map(|(score, addr)| Entry { score, addr })
            .collect();
        all.sort_unstable_by(|a, b| b.cmp(a));
        all.truncate(self.limit);
        Ok(all.into_iter().map(|e| (e.score, e.addr)).collect())
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
        Ok(top.harvest())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_threshold_is_the_largest_score_that_cannot_enter() {
        for last in [1.0f32, 1.5, 3.3333333, 7.123456, 0.0001, 12345.678] {
            let t = below(last);
            assert!(t * MAX_WEIGHT <= last, "{last}: {t} could enter");
            assert!(
                t.next_up() * MAX_WEIGHT > last,
                "{last}: {t} is not the largest"
            );
        }
    }
}
