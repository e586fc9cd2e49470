//! "Seen before": the best known fix of a new failure, found by its error signatures
//! (exact terms, see `fixcast_sessions::error_signature`) rather than by a search, so a
//! look-up costs a few term look-ups and a fast-field scan of the failures that share a
//! signature, whatever the size of the index. `fixcast rec` asks it after each failure.

use fixcast_sessions::{error_signature, Found};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{Order, Term};

use crate::error::{Error, Result};
use crate::hit::Hit;
use crate::index::{guard, CommandIndex};

/// How far the class of a failure is shifted above its start time (seconds since 1970
/// fit in 40 bits until the year 36812).
const CLASS_SHIFT: u32 = 40;

/// The `hint_rank` of a failure: a marked fix beats another fix beats none, then the
/// most recent wins (`started` in seconds since 1970).
pub(crate) fn rank(found: Option<Found>, started: u64) -> u64 {
    let class = match found {
        Some(Found::Marked) => 2,
        Some(Found::Retry | Found::Alternative) => 1,
        Some(Found::Unresolved) | None => 0,
    };
    (class << CLASS_SHIFT) | started.min((1 << CLASS_SHIFT) - 1)
}

impl CommandIndex {
    /// The best resolved past failure with one of these error lines (once masked),
    /// outside session `except` (the one asking): a marked fix first, then the most
    /// recent. `None` when no known failure shares a signature, or none was fixed: an
    /// unresolved one has nothing to tell.
    pub fn seen_before(&self, errors: &[String], except: Option<&str>) -> Result<Option<Hit>> {
        let f = self.fields;
        let mut sigs: Vec<String> = errors.iter().map(|e| error_signature(e)).collect();
        sigs.retain(|s| !s.is_empty());
        sigs.sort();
        sigs.dedup();
        if sigs.is_empty() {
            return Ok(None);
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = sigs
            .iter()
            .map(|s| {
                let q: Box<dyn Query> = Box::new(TermQuery::new(
                    Term::from_field_text(f.error_sig, s),
                    IndexRecordOption::Basic,
                ));
                (Occur::Should, q)
            })
            .collect();
        if let Some(id) = except {
            clauses.push((
                Occur::MustNot,
                Box::new(TermQuery::new(
                    Term::from_field_text(f.session, id),
                    IndexRecordOption::Basic,
                )),
            ));
        }
        let query = BooleanQuery::new(clauses);
        guard(|| {
            let searcher = self.reader.searcher();
            let top = searcher
                .search(
                    &query,
                    &TopDocs::with_limit(1).order_by_u64_field("hint_rank", Order::Desc),
                )
                .map_err(Error::index)?;
            let Some((Some(rank), addr)) = top.into_iter().next() else {
                return Ok(None);
            };
            if rank >> CLASS_SHIFT == 0 {
                return Ok(None);
            }
            let doc = self.stores.doc(&searcher, addr)?;
            let started = crate::hit::started_at(&searcher, addr)?;
            let hit = Hit::of(&f, &doc, 0.0, started)?;
            Ok(hit.fix.is_some().then_some(hit))
        })
    }
}
