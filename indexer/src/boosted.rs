//! tantivy's `BoostQuery` with the query it boosts in reach: an exclusion asks a union's
//! parts one by one (`excluding.rs`), and tantivy keeps a boost's query private.

use tantivy::query::{BoostWeight, EnableScoring, Query, Weight};
use tantivy::{Score, Term};

/// tantivy's `BoostQuery`: the same weight.
#[derive(Debug)]
pub(crate) struct Boosted {
    inner: Box<dyn Query>,
    boost: Score,
}

/// `q`, its score times `boost`.
pub(crate) fn boosted(q: Box<dyn Query>, boost: Score) -> Box<dyn Query> {
    Box::new(Boosted { inner: q, boost })
}

impl Boosted {
    /// The query boosted.
    pub(crate) fn inner(&self) -> &dyn Query {
        self.inner.as_ref()
    }
}

impl Clone for Boosted {
    fn clone(&self) -> Boosted {
        Boosted {
            inner: self.inner.box_clone(),
            boost: self.boost,
        }
    }
}

impl Query for Boosted {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let weight = self.inner.weight(scoring)?;
        Ok(if scoring.is_scoring_enabled() {
            Box::new(BoostWeight::new(weight, self.boost))
        } else {
            weight
        })
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        self.inner.query_terms(visitor);
    }
}
