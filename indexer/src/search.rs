//! Searching the index: the best commands for a query, the closest matches when no
//! command has every word, and what followed a command in its session.

use std::collections::HashMap;
use std::sync::Arc;

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, EnableScoring, Occur, RangeQuery, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, DocId, DocSet, Score, Searcher, Term};

use crate::columns::SegmentColumns;
use crate::error::{Error, Result};
use crate::hit::{quantize, CommandSummary, Hit};
use crate::index::{guard, CommandIndex};
use crate::outputs::Outputs;
use crate::query::Query;

/// A command among the best for a query, with what orders and collapses hits (read from
/// fast fields, not from the stored document).
pub(crate) struct Candidate {
    pub(crate) score: Score,
    pub(crate) addr: DocAddress,
    pub(crate) started: i64,
    pub(crate) session: SessionKey,
    seq: u64,
    marked: bool,
}

/// Which session a candidate is of, ordered as the session ids are. In an index of one
/// segment (as a rebuild leaves it), the id's place in the segment's sorted dictionary
/// says it: reading the id itself decodes a block of that dictionary, for each of the
/// hundred candidates of every search. Across segments those places differ: the id.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum SessionKey {
    Ord(u64),
    Id(String),
}

/// The collected documents with their fast fields (`columns`: each segment's, by ord).
fn candidates(
    searcher: &Searcher,
    columns: &[Arc<SegmentColumns>],
    top: Vec<(Score, DocAddress)>,
) -> Result<Vec<Candidate>> {
    let mut out = Vec::with_capacity(top.len());
    let one_segment = searcher.segment_readers().len() == 1;
    for (score, addr) in top {
        let c = columns
            .get(addr.segment_ord as usize)
            .ok_or_else(|| Error::Index(format!("no segment {}", addr.segment_ord)))?;
        let doc = addr.doc_id;
        let ord = c.session.as_ref().and_then(|col| col.term_ords(doc).next());
        let session = match (ord, &c.session) {
            (Some(ord), _) if one_segment => SessionKey::Ord(ord),
            (Some(ord), Some(col)) => {
                let mut id = String::new();
                col.ord_to_str(ord, &mut id)
                    .map_err(|e| Error::Index(format!("cannot read a session id: {e}")))?;
                SessionKey::Id(id)
            }
            _ => SessionKey::Id(String::new()),
        };
        out.push(Candidate {
            score,
            addr,
            started: c.started.first(doc).map_or(0, |d| d.into_timestamp_secs()),
            session,
            seq: c.seq.first(doc).unwrap_or(0),
            marked: c.marked.first(doc) == Some(1),
        });
    }
    Ok(out)
}

/// Keeps the candidates that match `content`, and of the rest one per session (its
/// marked fix if among them, else its best), in score order.
fn one_per_session_unless(
    searcher: &Searcher,
    content: &dyn tantivy::query::Query,
    top: Vec<Candidate>,
) -> Result<Vec<Candidate>> {
    let weight = content
        .weight(EnableScoring::disabled_from_searcher(searcher))
        .map_err(Error::index)?;
    // Which match `content`: one scorer per segment, walked forward through its docs.
    let mut matching = vec![false; top.len()];
    let mut by_segment: HashMap<u32, Vec<(DocId, usize)>> = HashMap::new();
    for (i, c) in top.iter().enumerate() {
        by_segment
            .entry(c.addr.segment_ord)
            .or_default()
            .push((c.addr.doc_id, i));
    }
    for (segment, mut docs) in by_segment {
        docs.sort_unstable();
        let reader = searcher.segment_reader(segment);
        let mut scorer = weight.scorer(reader, 1.0).map_err(Error::index)?;
        for (doc, i) in docs {
            if scorer.doc() < doc {
                scorer.seek(doc);
            }
            matching[i] = scorer.doc() == doc;
        }
    }
    let with_content: std::collections::HashSet<&SessionKey> = top
        .iter()
        .zip(&matching)
        .filter(|(_, m)| **m)
        .map(|(c, _)| &c.session)
        .collect();
    // Sessions standing for themselves: where in `kept`, and whether by the marked fix.
    let mut kept: Vec<usize> = Vec::with_capacity(top.len());
    let mut score_at: Vec<Score> = Vec::with_capacity(top.len());
    let mut standing: HashMap<&SessionKey, (usize, bool)> = HashMap::new();
    for (i, c) in top.iter().enumerate() {
        if matching[i] {
            kept.push(i);
            score_at.push(c.score);
            continue;
        }
        if with_content.contains(&c.session) {
            continue;
        }
        match standing.get(&c.session) {
            None => {
                standing.insert(&c.session, (kept.len(), c.marked));
                kept.push(i);
                score_at.push(c.score);
            }
            Some(&(at, false)) if c.marked => {
                // The marked fix stands for the session, at the place of its best.
                kept[at] = i;
                standing.insert(&c.session, (at, true));
            }
            Some(_) => {}
        }
    }
    let mut slots: Vec<Option<Candidate>> = top.into_iter().map(Some).collect();
    Ok(kept
        .into_iter()
        .zip(score_at)
        .filter_map(|(i, score)| {
            slots[i].take().map(|mut c| {
                c.score = score;
                c
            })
        })
        .collect())
}

/// What followed each command asked about, keyed by (session, seq).
pub type Following = HashMap<(String, u32), Vec<CommandSummary>>;

impl CommandIndex {
    /// The best `limit` commands for `query`, best first, their snippets made from the
    /// output text `outputs` gives. Equal scores are ordered newest first, so the order
    /// does not depend on how the index was built.
    pub fn search(&self, query: &Query, limit: usize, outputs: &dyn Outputs) -> Result<Vec<Hit>> {
        guard(|| self.search_inner(query, limit, outputs))
    }

    fn search_inner(&self, query: &Query, limit: usize, outputs: &dyn Outputs) -> Result<Vec<Hit>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        // One view of the index for every pass, and documents loaded (and snippets made)
        // only for the pass that answers: a pass that falls short is only ranked.
        let searcher = self.reader.searcher();
        let content = crate::plan::plan_content(query, &self.fields);
        let content = content.as_deref();
        // While every word is required, a query whose words are in no session's title,
        // tags or notes matches commands by what they are alone.
        let every_word =
            content.filter(|_| !crate::plan::only_by_content(query, &self.fields, &searcher));
        // The words as typed first: for a common phrase that fills the page, the other
        // forms (stems, pieces in order) would double the work for hits ranked below.
        if let Some(q) = crate::plan::plan_as_typed(query, &self.fields) {
            let top = self.top(&searcher, &*q, every_word, limit)?;
            if top.len() >= limit {
                return self.hits(&searcher, &*q, top, outputs);
            }
        }
        let q = crate::plan::plan(query, &self.fields);
        let top = self.top(&searcher, &*q, every_word, limit)?;
        if !top.is_empty() {
            return self.hits(&searcher, &*q, top, outputs);
        }
        // No command has every word: the closest matches, most words first.
        for at_least in crate::plan::closest_levels(query).rev() {
            let Some(q) = crate::plan::plan_closest(query, &self.fields, at_least) else {
                continue;
            };
            let top = self.top(&searcher, &*q, content, limit)?;
            if !top.is_empty() {
                let mut hits = self.hits(&searcher, &*q, top, outputs)?;
                hits.iter_mut().for_each(|h| h.partial = true);
                return Ok(hits);
            }
        }
        Ok(Vec::new())
    }

    /// The best `limit` commands for `q`, best first; commands that match none of
    /// `content` (only their session's title, tags or notes) count once per session: its
    /// marked fix, else its best.
    fn top(
        &self,
        searcher: &Searcher,
        q: &dyn tantivy::query::Query,
        content: Option<&dyn tantivy::query::Query>,
        limit: usize,
    ) -> Result<Vec<Candidate>> {
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
        // Ranked by outcome too (a fix, a success), skipping what cannot enter the page.
        let columns = self.columns.of(searcher)?;
        let collector = crate::top::RankedTop {
            limit: fetch,
            columns: &columns,
        };
        let top = collector.page(searcher, q).map_err(Error::index)?;
        // Ordered and collapsed by fast fields: only the hits kept are loaded and get a
        // snippet (loading a document decompresses a block of the doc store).
        let mut top = candidates(searcher, &columns, top)?;
        if let Some(content) = content {
            top = one_per_session_unless(searcher, content, top)?;
        }
        top.sort_by(|a, b| {
            quantize(b.score)
                .cmp(&quantize(a.score))
                .then(b.started.cmp(&a.started))
                .then(b.session.cmp(&a.session))
                .then(b.seq.cmp(&a.seq))
        });
        top.truncate(limit);
        Ok(top)
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
                let doc = self.stores.doc(&searcher, addr)?;
                // Only its place, command and exit are told: no start needed.
                let h = Hit::of(&self.fields, &doc, 0.0, 0)?;
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
