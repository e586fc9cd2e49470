//! A query's matches less another's (`checkout -staging`), able to skip what cannot enter
//! the page. tantivy's exclusion scores every match of the words kept before the page can
//! say it is not wanted; here the words kept are walked as they would be alone (a union of
//! terms skips by block-WAND) and only a match that may enter the page is looked for among
//! the excluded. Everything but that walk is the plain query's (`Must` and `MustNot`
//! clauses in one boolean query), so scores, counts and snippets are the same.
//!
//! An excluded union (a phrase in any field, with its other forms) is asked part by part
//! ([`members`]): a union sought to one document fills a window of the thousands after
//! it, and for phrases that means reading their positions in every one of them
//! (`curl -"connection refused"` took 85 ms at 1M).

use tantivy::query::{BooleanQuery, EnableScoring, Explanation, Occur, Query, Scorer, Weight};
use tantivy::{DocId, DocSet, Score, SeekDangerResult, SegmentReader, Term};

use crate::boosted::Boosted;

/// `kept` less `excluded`; `plain` is the same as one boolean query.
#[derive(Debug)]
pub(crate) struct Excluding {
    kept: Box<dyn Query>,
    excluded: Vec<Box<dyn Query>>,
    plain: BooleanQuery,
}

impl Excluding {
    pub(crate) fn new(
        kept: Box<dyn Query>,
        excluded: Vec<Box<dyn Query>>,
        plain: BooleanQuery,
    ) -> Excluding {
        Excluding {
            kept,
            excluded,
            plain,
        }
    }
}

impl Clone for Excluding {
    fn clone(&self) -> Excluding {
        Excluding {
            kept: self.kept.box_clone(),
            excluded: self.excluded.iter().map(|q| q.box_clone()).collect(),
            plain: self.plain.clone(),
        }
    }
}

impl Query for Excluding {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let plain = self.plain.weight(scoring)?;
        if !scoring.is_scoring_enabled() {
            return Ok(plain);
        }
        let kept = self.kept.weight(scoring)?;
        let mut parts = Vec::new();
        for q in &self.excluded {
            members(q.as_ref(), &mut parts);
        }
        let excluded = parts
            .iter()
            .map(|q| q.weight(scoring))
            .collect::<tantivy::Result<Vec<_>>>()?;
        Ok(Box::new(ExcludingWeight {
            plain,
            kept,
            excluded,
        }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        self.plain.query_terms(visitor);
    }
}

struct ExcludingWeight {
    plain: Box<dyn Weight>,
    kept: Box<dyn Weight>,
    excluded: Vec<Box<dyn Weight>>,
}

impl ExcludingWeight {
    fn excluded_sets(&self, reader: &SegmentReader) -> tantivy::Result<Vec<Excluded>> {
        self.excluded
            .iter()
            .map(|w| {
                let scorer = w.scorer(reader, 1.0)?;
                Ok(Excluded {
                    floor: scorer.doc(),
                    scorer,
                })
            })
            .collect()
    }
}

/// One excluded query's matches, asked in increasing order.
struct Excluded {
    scorer: Box<dyn Scorer>,
    /// No match below it: a scorer is sought (`seek_danger`) only at or past where it
    /// stands, which tantivy's scorers require.
    floor: DocId,
}

impl Excluded {
    fn has(&mut self, doc: DocId) -> bool {
        if doc < self.floor {
            return false;
        }
        match self.scorer.seek_danger(doc) {
            SeekDangerResult::Found => {
                self.floor = doc.saturating_add(1);
                true
            }
            SeekDangerResult::SeekLowerBound(next) => {
                self.floor = next.max(doc.saturating_add(1));
                false
            }
        }
    }
}

impl Weight for ExcludingWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        self.plain.scorer(reader, boost)
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        self.plain.explain(reader, doc)
    }

    fn count(&self, reader: &SegmentReader) -> tantivy::Result<u32> {
        self.plain.count(reader)
    }

    fn for_each_pruning(
        &self,
        threshold: Score,
        reader: &SegmentReader,
        callback: &mut dyn FnMut(DocId, Score) -> Score,
    ) -> tantivy::Result<()> {
        let mut excluded = self.excluded_sets(reader)?;
        // A walk hands its matches over in order, as each excluded scorer is sought.
        let mut last: Option<DocId> = None;
        let mut current = threshold;
        self.kept
            .for_each_pruning(threshold, reader, &mut |doc, score| {
                debug_assert!(last.is_none_or(|l| l < doc), "{doc} after {last:?}");
                last = Some(doc);
                if !excluded.iter_mut().any(|e| e.has(doc)) {
                    current = callback(doc, score);
                }
                current
            })
    }
}

/// The queries a document must match one of to match `q`: the parts of a union (any
/// depth, boosts aside, a phrase's fields), else `q` itself.
fn members(q: &dyn Query, out: &mut Vec<Box<dyn Query>>) {
    if let Some(b) = q.downcast_ref::<Boosted>() {
        return members(b.inner(), out);
    }
    if let Some(p) = q.downcast_ref::<crate::phrase::PhraseInFields>() {
        for part in p.parts() {
            members(part.query().as_ref(), out);
        }
        return;
    }
    if let Some(b) = q.downcast_ref::<BooleanQuery>() {
        let clauses = b.clauses();
        let any_one = b.get_minimum_number_should_match() <= 1;
        if any_one && !clauses.is_empty() && clauses.iter().all(|(o, _)| *o == Occur::Should) {
            for (_, c) in clauses {
                members(c.as_ref(), out);
            }
            return;
        }
    }
    out.push(q.box_clone());
}
