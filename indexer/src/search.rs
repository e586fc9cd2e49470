//! Searching the index: the best commands for a query, the closest matches when no
//! command has every word, and what followed a command in its session.

use std::collections::HashMap;

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, RangeQuery, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocId, Score, SegmentReader, TantivyDocument, Term};

use crate::error::{Error, Result};
use crate::hit::{quantize, snippet, CommandSummary, Hit};
use crate::index::{guard, CommandIndex};
use crate::query::Query;

/// What followed each command asked about, keyed by (session, seq).
pub type Following = HashMap<(String, u32), Vec<CommandSummary>>;

/// A knowledge base of fixes: among equally good matches, the command that worked (exit
/// 0) comes before the attempts that failed, and those with an unknown status between.
/// A failure whose fix is known answers "what fixed it" and so comes before both.
const SUCCESS_WEIGHT: f32 = 1.3;
const UNKNOWN_WEIGHT: f32 = 1.15;
const RESOLVED_WEIGHT: f32 = 1.5;

impl CommandIndex {
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
            let mut hit = Hit::of(&self.fields, &doc, score)?;
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
            let hit = Hit::of(&self.fields, &doc, score)?;
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
                    standing.insert(session.as_str(), (kept.len(), *marked));
                    kept.push(Some((*score, *addr)));
                }
                Some(&(at, false)) if *marked => {
                    // The marked fix stands for the session, at the place of its best.
                    kept[at] = Some((kept[at].map_or(*score, |k| k.0), *addr));
                    standing.insert(session.as_str(), (at, true));
                }
                Some(_) => {}
            }
        }
        Ok(kept.into_iter().flatten().collect())
    }

    /// The `k` commands that followed command `seq` of `session`.
    pub fn following(&self, session: &str, seq: u32, k: usize) -> Result<Vec<CommandSummary>> {
        let mut all = self.following_each(&[(session, seq)], k)?;
        Ok(all.remove(&(session.to_owned(), seq)).unwrap_or_default())
    }

    /// The `k` commands that followed each of these commands (session, seq), in one
    /// query for them all, not one each: keyed by the command they followed.
    pub fn following_each(&self, at: &[(&str, u32)], k: usize) -> Result<Following> {
        guard(|| {
            let mut out = Following::new();
            if k == 0 || at.is_empty() {
                return Ok(out);
            }
            let f = &self.fields;
            let after = |session: &str, seq: u32| -> Box<dyn tantivy::query::Query> {
                Box::new(BooleanQuery::new(vec![
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
                ]))
            };
            let q = BooleanQuery::new(
                at.iter()
                    .map(|&(session, seq)| (Occur::Should, after(session, seq)))
                    .collect(),
            );
            let searcher = self.reader.searcher();
            // No window holds more than `k`: their union fits in this.
            let top = searcher
                .search(&q, &TopDocs::with_limit(at.len() * k).order_by_score())
                .map_err(Error::index)?;
            for &(session, seq) in at {
                out.entry((session.to_owned(), seq)).or_default();
            }
            for (_, addr) in top {
                let doc: TantivyDocument = searcher.doc(addr).map_err(Error::index)?;
                let h = Hit::of(&self.fields, &doc, 0.0)?;
                // In every window it falls in (two hits close together share some).
                for &(session, seq) in at {
                    if session == h.session.as_str()
                        && h.seq > seq
                        && u64::from(h.seq) <= u64::from(seq) + k as u64
                    {
                        if let Some(list) = out.get_mut(&(session.to_owned(), seq)) {
                            list.push(CommandSummary {
                                seq: h.seq,
                                offset: h.offset,
                                command: h.command.clone(),
                                exit: h.exit,
                            });
                        }
                    }
                }
            }
            for list in out.values_mut() {
                list.sort_by_key(|c| c.seq);
                list.dedup_by_key(|c| c.seq);
            }
            Ok(out)
        })
    }
}
