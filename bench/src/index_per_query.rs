//! `fixcast-bench index --per-query`: each query's times and first page, slowest first.

use crate::index::QUERIES;
use crate::util::{list, median_f64};

/// Each query, slowest first: its median and runs (wall, then CPU: the machine may be
/// busy), the median of the search alone (no snippets), and its first page as
/// `session:seq` (with `~` for a partial match) and a hash of its snippets, so two
/// builds' answers can be compared line by line.
pub(crate) fn print(
    runs: &[Vec<f64>],
    cpu: &[Vec<f64>],
    search: &[Vec<f64>],
    pages: &[Vec<fixcast_indexer::Hit>],
) {
    let mut order: Vec<usize> = (0..runs.len()).collect();
    order.sort_by(|&a, &b| median_f64(&runs[b]).total_cmp(&median_f64(&runs[a])));
    for i in order {
        let page: Vec<String> = pages[i]
            .iter()
            .map(|h| {
                let partial = if h.partial { "~" } else { "" };
                format!("{partial}{}:{}", h.session, h.seq)
            })
            .collect();
        // The snippets too, as one hash: equal pages show the same text, highlighted alike.
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        for hit in &pages[i] {
            hit.snippet.text.hash(&mut h);
            for r in &hit.snippet.highlights {
                (r.start, r.end).hash(&mut h);
            }
        }
        println!(
            "  per-query {:>8.2} ms {} cpu {:.2} ms {} search alone {:.2} ms {:?} snippets {:016x} [{}]",
            median_f64(&runs[i]),
            list(&runs[i], 1),
            median_f64(&cpu[i]),
            list(&cpu[i], 1),
            median_f64(&search[i]),
            QUERIES[i].0,
            h.finish(),
            page.join(" ")
        );
    }
}
