//! A page of hits made from its ranked candidates: each hit's stored document, its output
//! rendered again from its recording, its snippet. The sessions on a page are read from
//! recordings of their own, independently, so they are spread over the machine's cores:
//! making a page was half of a search, most of it in snippets.

use std::collections::HashMap;

use fixcast_sessions::Again;
use rayon::prelude::*;
use tantivy::schema::Value;
use tantivy::snippet::SnippetGenerator;
use tantivy::Searcher;

use crate::error::{Error, Result};
use crate::hit::{snippet, Hit};
use crate::index::{guard, CommandIndex};
use crate::outputs::{again_of, Outputs};
use crate::search::{Candidate, SessionKey};
use crate::writer::indexed_text;

/// What makes one session's hits: the index, the searcher's view, the snippet maker and
/// where output text comes from.
struct Maker<'a> {
    index: &'a CommandIndex,
    searcher: &'a Searcher,
    snippets: &'a SnippetGenerator,
    outputs: &'a dyn Outputs,
}

impl Maker<'_> {
    /// The hits of one session's candidates (each with its place on the page), in that
    /// order: the output of those the index keeps no copy of asked of `outputs` at once.
    fn session(&self, group: &[(usize, Candidate)]) -> Result<Vec<(usize, Hit)>> {
        let fields = &self.index.fields;
        let mut hits = Vec::with_capacity(group.len());
        let mut texts: HashMap<u32, String> = HashMap::new();
        let mut wanted: Vec<Again> = Vec::new();
        for (at, c) in group {
            let doc = self.index.stores.doc(self.searcher, c.addr)?;
            let hit = Hit::of(fields, &doc, c.score, c.started)?;
            match doc.get_first(fields.out_kept).and_then(|v| v.as_str()) {
                Some(text) => {
                    texts.insert(hit.seq, text.to_owned());
                }
                None => wanted.push(again_of(fields, &doc, &hit)),
            }
            hits.push((*at, hit));
        }
        if let Some((_, first)) = hits.first().filter(|_| !wanted.is_empty()) {
            texts.extend(self.outputs.outputs(first.session.as_str(), &wanted));
        }
        for (_, h) in &mut hits {
            let text = texts.get(&h.seq).map_or("", String::as_str);
            h.snippet = snippet(self.snippets, &indexed_text(text));
        }
        Ok(hits)
    }
}

impl CommandIndex {
    /// The hits of these commands, in their order, with snippets of what `q` matched in
    /// their output (asked of `outputs` once per session on the page).
    pub(crate) fn hits(
        &self,
        searcher: &Searcher,
        q: &dyn tantivy::query::Query,
        top: Vec<Candidate>,
        outputs: &dyn Outputs,
    ) -> Result<Vec<Hit>> {
        let mut snippets =
            SnippetGenerator::create(searcher, q, self.fields.out).map_err(Error::index)?;
        snippets.set_max_num_chars(200);
        let maker = Maker {
            index: self,
            searcher,
            snippets: &snippets,
            outputs,
        };
        // The page's sessions, in the order each first appears.
        let count = top.len();
        let mut groups: Vec<Vec<(usize, Candidate)>> = Vec::new();
        let mut group_of: HashMap<SessionKey, usize> = HashMap::new();
        for (at, c) in top.into_iter().enumerate() {
            let g = *group_of.entry(c.session.clone()).or_insert_with(|| {
                groups.push(Vec::new());
                groups.len() - 1
            });
            groups[g].push((at, c));
        }
        let made = on_cores(&groups, |group| maker.session(group));
        let mut page: Vec<Option<Hit>> = (0..count).map(|_| None).collect();
        for hits in made {
            for (at, hit) in hits? {
                page[at] = Some(hit);
            }
        }
        Ok(page.into_iter().flatten().collect())
    }
}

/// `work` done on each of `items` on the threads of rayon's pool, one per core, kept
/// for the process's life (so what a thread keeps, a zstd context for one, is made once);
/// the results in the items' order. Each item is guarded as the search is
/// ([`guard`]): a panic on a pool thread is an error, and prints nothing.
fn on_cores<T: Sync, R: Send>(
    items: &[T],
    work: impl Fn(&T) -> Result<R> + Sync,
) -> Vec<Result<R>> {
    if items.len() <= 1 {
        return items.iter().map(&work).collect();
    }
    items.par_iter().map(|item| guard(|| work(item))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_on_cores_comes_back_in_order_and_whole() {
        let items: Vec<u64> = (0..37).collect();
        let out = on_cores(&items, |&i| {
            // Uneven work, so the threads finish items out of order.
            std::thread::sleep(std::time::Duration::from_micros((i % 5) * 300));
            Ok(i * i)
        });
        let out: Vec<u64> = out.into_iter().map(|r| r.unwrap()).collect();
        assert_eq!(out, items.iter().map(|i| i * i).collect::<Vec<_>>());
    }

    #[test]
    fn a_panic_on_a_pool_thread_is_that_items_error() {
        let items: Vec<u32> = (0..8).collect();
        let out = on_cores(&items, |&i| {
            if i == 5 {
                panic!("item five");
            }
            Ok(i)
        });
        for (i, r) in out.iter().enumerate() {
            match r {
                Err(e) if i == 5 => assert!(e.to_string().contains("item five"), "{e}"),
                Ok(v) => assert_eq!(*v as usize, i),
                Err(e) => panic!("item {i}: {e}"),
            }
        }
    }
}
