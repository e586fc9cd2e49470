//! Where the index's bytes are: per part (term dictionary, postings, positions, fast
//! fields, field norms, stored documents) and per field, summed over the segments. For
//! the benchmark and for deciding what to store and index.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::index::CommandIndex;

/// Bytes by (part, field); the stored documents are one row, `("store", "")`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpaceUsage {
    pub by_part_field: BTreeMap<(String, String), u64>,
    pub segments: usize,
}

impl SpaceUsage {
    /// All bytes of one part (`positions`, `store`, …).
    pub fn part(&self, part: &str) -> u64 {
        self.by_part_field
            .iter()
            .filter(|((p, _), _)| p == part)
            .map(|(_, b)| b)
            .sum()
    }

    /// All bytes of one field, over every part.
    pub fn field(&self, field: &str) -> u64 {
        self.by_part_field
            .iter()
            .filter(|((_, f), _)| f == field)
            .map(|(_, b)| b)
            .sum()
    }

    pub fn total(&self) -> u64 {
        self.by_part_field.values().sum()
    }
}

impl CommandIndex {
    /// What the index searched now takes, by part and field.
    pub fn space_usage(&self) -> Result<SpaceUsage> {
        let searcher = self.reader.searcher();
        let usage = searcher
            .space_usage()
            .map_err(|e| Error::Index(format!("cannot measure the index: {e}")))?;
        let mut out = SpaceUsage {
            segments: usage.segments().len(),
            ..SpaceUsage::default()
        };
        for seg in usage.segments() {
            let parts = [
                ("termdict", seg.termdict()),
                ("postings", seg.postings()),
                ("positions", seg.positions()),
                ("fast", seg.fast_fields()),
                ("fieldnorms", seg.fieldnorms()),
            ];
            for (part, per_field) in parts {
                for f in per_field.fields() {
                    *out.by_part_field
                        .entry((part.to_owned(), f.field_name().to_owned()))
                        .or_default() += f.total().get_bytes();
                }
            }
            *out.by_part_field
                .entry(("store".to_owned(), String::new()))
                .or_default() += seg.store().total().get_bytes();
            *out.by_part_field
                .entry(("deletes".to_owned(), String::new()))
                .or_default() += seg.deletes().get_bytes();
        }
        Ok(out)
    }
}
