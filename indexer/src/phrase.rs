//! A phrase looked for in several fields at once (`"connection refused"` in the command,
//! its title, tags, notes and output), scored exactly as the union of one tantivy phrase
//! query per field, but able to skip what cannot enter the page.
//!
//! A common phrase in output matches a quarter of all commands; tantivy's phrase scorer
//! reads the positions of every document that has all the words before it can score it.
//! A phrase occurs at most as often as its rarest word, and BM25 grows with the count:
//! so the score with each field's count taken as its words' least frequency bounds the
//! real one from above, from frequencies alone. When that bound cannot beat the page's
//! last (the collector's threshold, see `top.rs`), the positions are never read. And a
//! run of documents is passed over whole where the best its rarest word's block allows
//! (tantivy keeps, per block of 128, the count and length that score best) cannot.
//!
//! Everything but the top-of-page walk (`for_each_pruning`, and the ranked page's own,
//! [`RankedWalk`]) is the plain union's.

use tantivy::fastfield::AliveBitSet;
use tantivy::fieldnorm::FieldNormReader;
use tantivy::postings::{BlockSegmentPostings, Postings, SegmentPostings};
use tantivy::query::{
    Bm25Weight, BooleanQuery, EnableScoring, Explanation, Occur, PhraseQuery, Query, Scorer,
    TermQuery, Weight,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, Score, SegmentReader, Term, TERMINATED};

use crate::top::{RankedWalk, SegmentTop};

/// The phrase in one field: its terms at their offsets, and how much a match counts.
#[derive(Debug, Clone)]
pub(crate) struct Part {
    pub field: Field,
    pub boost: f32,
    /// (offset, term): one term is a word; several, a phrase in order with no slop.
    pub terms: Vec<(usize, Term)>,
}

impl Part {
    /// The plain query for this part, as the union has it.
    pub(crate) fn query(&self) -> Box<dyn Query> {
        let q: Box<dyn Query> = match self.terms.as_slice() {
            [(_, t)] => Box::new(TermQuery::new(t.clone(), IndexRecordOption::WithFreqs)),
            _ => Box::new(PhraseQuery::new_with_offset(self.terms.clone())),
        };
        if self.boost == 1.0 {
            q
        } else {
            crate::boosted::boosted(q, self.boost)
        }
    }
}

/// The same phrase in several fields: any of them, scores summed.
#[derive(Debug, Clone)]
pub(crate) struct PhraseInFields {
    parts: Vec<Part>,
    union: BooleanQuery,
}

impl PhraseInFields {
    /// Its parts: the phrase in each field.
    pub(crate) fn parts(&self) -> &[Part] {
        &self.parts
    }

    pub(crate) fn new(parts: Vec<Part>) -> PhraseInFields {
        let union = BooleanQuery::new(parts.iter().map(|p| (Occur::Should, p.query())).collect());
        PhraseInFields { parts, union }
    }
}

impl PhraseInFields {
    /// The walk that fills a ranked page (`top.rs`), scored with `searcher`'s statistics
    /// (the plain union's weight is not needed for it).
    pub(crate) fn ranked_walk(
        &self,
        searcher: &tantivy::Searcher,
    ) -> tantivy::Result<Box<dyn RankedWalk>> {
        Ok(Box::new(self.walk(searcher)?))
    }

    /// Each part weighed as the phrase (or term) query weighs it: its terms by offset,
    /// then boosted.
    fn walk(
        &self,
        statistics: &dyn tantivy::query::Bm25StatisticsProvider,
    ) -> tantivy::Result<PhraseWalk> {
        let mut parts = Vec::with_capacity(self.parts.len());
        for p in &self.parts {
            let mut by_offset = p.terms.clone();
            by_offset.sort_by_key(|(offset, _)| *offset);
            let terms: Vec<Term> = by_offset.iter().map(|(_, t)| t.clone()).collect();
            let bm25 = Bm25Weight::for_terms(statistics, &terms)?.boost_by(p.boost);
            parts.push(PartWeight {
                field: p.field,
                terms: by_offset,
                bm25,
            });
        }
        Ok(PhraseWalk { parts })
    }
}

impl Query for PhraseInFields {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let union = self.union.weight(scoring)?;
        // Without scores nothing can be skipped: the plain union's.
        let EnableScoring::Enabled {
            statistics_provider,
            ..
        } = scoring
        else {
            return Ok(union);
        };
        let walk = self.walk(statistics_provider)?;
        Ok(Box::new(PhraseInFieldsWeight { union, walk }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        self.union.query_terms(visitor);
    }
}

struct PartWeight {
    field: Field,
    terms: Vec<(usize, Term)>,
    bm25: Bm25Weight,
}

/// The parts, weighed: what walks the matches.
struct PhraseWalk {
    parts: Vec<PartWeight>,
}

/// The plain union for everything but the walk.
struct PhraseInFieldsWeight {
    union: Box<dyn Weight>,
    walk: PhraseWalk,
}

impl Weight for PhraseInFieldsWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        self.union.scorer(reader, boost)
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        self.union.explain(reader, doc)
    }

    fn count(&self, reader: &SegmentReader) -> tantivy::Result<u32> {
        self.union.count(reader)
    }

    fn for_each_pruning(
        &self,
        threshold: Score,
        reader: &SegmentReader,
        callback: &mut dyn FnMut(DocId, Score) -> Score,
    ) -> tantivy::Result<()> {
        self.walk.walk_into(
            reader,
            &mut Callback {
                threshold,
                callback,
            },
        )
    }
}

/// What the walk fills: a page of the best matches.
trait Page {
    /// At or below this score nothing can enter, whatever it is (`Score::MIN` or below
    /// 0: anything can).
    fn threshold(&self) -> Score;
    /// Whether document `doc`, scoring at most `bound`, is worth scoring exactly.
    fn wanted(&self, doc: DocId, bound: Score) -> bool;
    fn push(&mut self, doc: DocId, score: Score);
}

/// tantivy's walk: a callback that takes a match and says the new threshold.
struct Callback<'a> {
    threshold: Score,
    callback: &'a mut dyn FnMut(DocId, Score) -> Score,
}

impl Page for Callback<'_> {
    fn threshold(&self) -> Score {
        self.threshold
    }

    fn wanted(&self, _doc: DocId, bound: Score) -> bool {
        bound > self.threshold
    }

    fn push(&mut self, doc: DocId, score: Score) {
        if score > self.threshold {
            self.threshold = (self.callback)(doc, score);
        }
    }
}

/// The ranked page (`top.rs`): a document is weighed by its own outcome before its
/// positions are read, not by the best any outcome could give.
struct Ranked<'a> {
    top: &'a mut SegmentTop,
    alive: Option<&'a AliveBitSet>,
}

impl Page for Ranked<'_> {
    fn threshold(&self) -> Score {
        self.top.threshold()
    }

    fn wanted(&self, doc: DocId, bound: Score) -> bool {
        self.alive.is_none_or(|a| a.is_alive(doc)) && !self.top.cannot_enter(doc, bound)
    }

    fn push(&mut self, doc: DocId, score: Score) {
        self.top.push(doc, score);
    }
}

impl RankedWalk for PhraseWalk {
    fn walk(&self, reader: &SegmentReader, top: &mut SegmentTop) -> tantivy::Result<()> {
        let alive = reader.alive_bitset();
        self.walk_into(reader, &mut Ranked { top, alive })
    }
}

impl PhraseWalk {
    /// Every document with the phrase in some field that `page` may want, in order.
    ///
    /// Each part's cursor stands on its rarest word's documents. A phrase occurs no more
    /// often there than that word does, so its count alone bounds the part's score: a
    /// document whose bound cannot beat the page's last is passed over before the other
    /// words are looked for in it (for `"failed to start"`, nine in ten commands with all
    /// three words), and only the rest have the words' least count, then positions, read.
    fn walk_into(&self, reader: &SegmentReader, page: &mut dyn Page) -> tantivy::Result<()> {
        // Clause order, as the union sums them.
        let mut cursors = Vec::with_capacity(self.parts.len());
        for (i, p) in self.parts.iter().enumerate() {
            if let Some(c) = Cursor::open(p, i, reader)? {
                cursors.push(c);
            }
        }
        let mut positions = Positions::default();
        let mut at: Vec<usize> = Vec::with_capacity(cursors.len());
        // Only a push moves it.
        let mut threshold = page.threshold();
        loop {
            let doc = cursors.iter().map(|c| c.doc).min().unwrap_or(TERMINATED);
            if doc == TERMINATED {
                return Ok(());
            }
            // A full page: the documents up to the end of the blocks here cannot beat its
            // last if their blocks' best, summed, cannot.
            if threshold >= 0.0 {
                if let Some(end) = skippable(&mut cursors, &self.parts, threshold) {
                    for c in cursors.iter_mut().filter(|c| c.doc <= end) {
                        c.seek(end + 1);
                    }
                    continue;
                }
            }
            at.clear();
            at.extend((0..cursors.len()).filter(|&k| cursors[k].doc == doc));
            let by_rarest: Score = at
                .iter()
                .map(|&k| cursors[k].bound(&self.parts[cursors[k].part], doc))
                .sum();
            if by_rarest <= threshold {
                for &k in &at {
                    cursors[k].advance();
                }
                continue;
            }
            // The parts that have every word here; the others move on to their next
            // document that has.
            at.retain(|&k| cursors[k].has_all(doc));
            let mut bound: Score = 0.0;
            for &k in &at {
                let c = &cursors[k];
                bound += c.score(&self.parts[c.part], doc, c.least_freq());
            }
            if !at.is_empty() && page.wanted(doc, bound) {
                let mut score: Score = 0.0;
                let mut found = false;
                for &k in &at {
                    let c = &mut cursors[k];
                    let count = c.phrase_count(&mut positions);
                    if count > 0 {
                        found = true;
                        score += c.score(&self.parts[c.part], doc, count);
                    }
                }
                if found {
                    page.push(doc, score);
                    threshold = page.threshold();
                }
            }
            for &k in &at {
                cursors[k].advance();
            }
        }
    }
}

/// The last document of a run starting at the smallest cursor's document in which no
/// document can score above `threshold`, if there is one: each cursor's run ends with its
/// rarest term's block, where the block's best bounds the part's score (see
/// [`Cursor::block_bound`]); a cursor whose next document is past the run adds nothing.
fn skippable(cursors: &mut [Cursor], parts: &[PartWeight], threshold: Score) -> Option<DocId> {
    let mut end = TERMINATED;
    for c in cursors.iter_mut().filter(|c| c.doc != TERMINATED) {
        let (last, _) = c.block_bound(&parts[c.part])?;
        end = end.min(last);
    }
    let mut bound: Score = 0.0;
    for c in cursors.iter().filter(|c| c.doc <= end) {
        bound += c.block.map_or(Score::MAX, |(_, b)| b);
    }
    (end != TERMINATED && bound <= threshold).then_some(end)
}

/// One part's documents, walked forward on its rarest term's: those that have all of its
/// terms are found among them.
struct Cursor {
    part: usize,
    /// (offset, postings) of each term, the rarest first: it leads.
    postings: Vec<(u32, SegmentPostings)>,
    max_offset: u32,
    fieldnorms: FieldNormReader,
    /// The rarest term's document.
    doc: DocId,
    /// Whether every term is known to be at `doc`.
    all: bool,
    /// The rarest term's blocks (with the best score each allows), for skipping: every
    /// document of the part has that term, as often as the phrase at least. `None` for a
    /// field without norms.
    pivot: Option<BlockSegmentPostings>,
    /// The last document of the pivot's block at `doc`, and the most the part can score
    /// in that block.
    block: Option<(DocId, Score)>,
}

impl Cursor {
    /// `None` when a term is not in the segment: the part matches nothing there.
    fn open(
        p: &PartWeight,
        part: usize,
        reader: &SegmentReader,
    ) -> tantivy::Result<Option<Cursor>> {
        let record = if p.terms.len() == 1 {
            IndexRecordOption::WithFreqs
        } else {
            IndexRecordOption::WithFreqsAndPositions
        };
        let inverted = reader.inverted_index(p.field)?;
        let mut lists = Vec::with_capacity(p.terms.len());
        for (offset, term) in &p.terms {
            let Some(list) = inverted.read_postings(term, record)? else {
                return Ok(None);
            };
            lists.push((*offset as u32, term, list));
        }
        // The rarest first. Positions are matched by offset, in any order of the terms.
        lists.sort_by_key(|(_, _, list)| list.doc_freq());
        let rarest = lists.first().map(|(_, term, _)| *term);
        let postings: Vec<(u32, SegmentPostings)> =
            lists.into_iter().map(|(o, _, list)| (o, list)).collect();
        let max_offset = postings.iter().map(|(o, _)| *o).max().unwrap_or(0);
        // As the phrase scorer reads them: a field without norms counts every doc as 1.
        let norms = reader.fieldnorms_readers().get_field(p.field)?;
        let pivot = match (&norms, rarest) {
            (Some(_), Some(t)) => inverted.read_block_postings(t, IndexRecordOption::WithFreqs)?,
            _ => None,
        };
        let fieldnorms = norms.unwrap_or_else(|| FieldNormReader::constant(reader.max_doc(), 1));
        let doc = postings.first().map_or(TERMINATED, |(_, l)| l.doc());
        Ok(Some(Cursor {
            part,
            postings,
            max_offset,
            fieldnorms,
            doc,
            all: false,
            pivot,
            block: None,
        }))
    }

    /// Whether every term is at `doc` (the cursor's); if not, the cursor moves on to the
    /// next document that has them all.
    fn has_all(&mut self, doc: DocId) -> bool {
        if !self.all {
            self.doc = self.align(doc);
            self.all = true;
        }
        self.doc == doc
    }

    /// The first document at or after `target` that has every term.
    fn align(&mut self, mut target: DocId) -> DocId {
        'again: loop {
            if target == TERMINATED {
                return TERMINATED;
            }
            for (_, p) in &mut self.postings {
                let d = if p.doc() < target {
                    p.seek(target)
                } else {
                    p.doc()
                };
                if d > target {
                    target = d;
                    continue 'again;
                }
            }
            return target;
        }
    }

    /// On to the rarest term's next document.
    fn advance(&mut self) {
        self.doc = self.postings[0].1.advance();
        self.all = false;
    }

    /// On to the rarest term's first document at or after `target`.
    fn seek(&mut self, target: DocId) {
        let lead = &mut self.postings[0].1;
        self.doc = if lead.doc() < target {
            lead.seek(target)
        } else {
            lead.doc()
        };
        self.all = false;
    }

    /// The most the part can score at `doc` (the cursor's), from its rarest term's count.
    fn bound(&self, p: &PartWeight, doc: DocId) -> Score {
        self.score(p, doc, self.postings[0].1.term_freq())
    }

    /// The last document of the pivot's block that holds `doc`, and the most the part can
    /// score there: the block's best (term count, length) pair scored as the phrase (the
    /// phrase occurs no more often than its rarest word, and BM25 grows with the count).
    /// `None` without a pivot.
    fn block_bound(&mut self, p: &PartWeight) -> Option<(DocId, Score)> {
        if let Some((last, bound)) = self.block {
            if self.doc <= last {
                return Some((last, bound));
            }
        }
        let pivot = self.pivot.as_mut()?;
        pivot.seek(self.doc);
        let last = *pivot.docs().last()?;
        if last < self.doc {
            return None;
        }
        let bound = pivot.block_max_score(&self.fieldnorms, &p.bm25);
        self.block = Some((last, bound));
        self.block
    }

    /// The most times the phrase can occur here: its rarest word's count.
    fn least_freq(&self) -> u32 {
        self.postings
            .iter()
            .map(|(_, p)| p.term_freq())
            .min()
            .unwrap_or(0)
    }

    fn score(&self, p: &PartWeight, doc: DocId, count: u32) -> Score {
        p.bm25.score(self.fieldnorms.fieldnorm_id(doc), count)
    }

    /// How often the phrase occurs in the current document: the places where every term
    /// stands at its offset from the first (a single term: its count).
    fn phrase_count(&mut self, buf: &mut Positions) -> u32 {
        if self.postings.len() == 1 {
            return self.postings[0].1.term_freq();
        }
        let (first, rest) = self.postings.split_at_mut(1);
        let (o, p) = &mut first[0];
        p.positions_with_offset(self.max_offset - *o, &mut buf.left);
        for (o, p) in rest {
            if buf.left.is_empty() {
                return 0;
            }
            p.positions_with_offset(self.max_offset - *o, &mut buf.right);
            intersect(&mut buf.left, &buf.right);
        }
        buf.left.len() as u32
    }
}

#[derive(Default)]
struct Positions {
    left: Vec<u32>,
    right: Vec<u32>,
}

/// Keeps in `left` (sorted) only what is also in `right` (sorted).
fn intersect(left: &mut Vec<u32>, right: &[u32]) {
    let (mut i, mut j, mut kept) = (0, 0, 0);
    while i < left.len() && j < right.len() {
        match left[i].cmp(&right[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                left[kept] = left[i];
                kept += 1;
                i += 1;
                j += 1;
            }
        }
    }
    left.truncate(kept);
}
