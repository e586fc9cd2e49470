//! Stored documents, decoded here rather than by tantivy, every length checked first.
//!
//! tantivy's doc store keeps no checksum per block, and its reader trusts every length in
//! a document: noise in a `.store` file (a bad disk, bit rot: nothing that changes the
//! file's size or time) can decompress into a text value whose length prefix says
//! petabytes, which tantivy reserves before reading a byte (`String::with_capacity` in
//! tantivy-common's `BinarySerializable for String`). That allocation fails, and the
//! process aborts: no panic to contain, no rebuild, nothing for the user. So a document's
//! raw bytes are decoded here, every count and length against the bytes left, and one
//! that does not add up is [`Error::Index`]: damage, which the catalog rebuilds.
//!
//! The format (tantivy 0.27's doc store, pinned in Cargo.toml; `stored_tests.rs` checks
//! every kind of document the writer stores decodes as tantivy decodes it): a VInt count
//! of values, then each as its field id (u32, little-endian), a type code and the value:
//! text as a VInt length and UTF-8 bytes, u64 and i64 as 8 bytes little-endian. fixcast
//! stores nothing else, so any other type is damage too.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tantivy::index::SegmentId;
use tantivy::schema::{Field, FieldType, Schema};
use tantivy::store::StoreReader;
use tantivy::{DocAddress, Searcher, TantivyDocument};

use crate::error::{Error, Result};

/// tantivy's type codes of the values fixcast stores (`schema::document::type_codes`).
const TEXT_CODE: u8 = 0;
const U64_CODE: u8 = 1;
const I64_CODE: u8 = 2;

/// Decompressed blocks kept per segment: what tantivy's own reader keeps.
const CACHE_BLOCKS: usize = 100;

/// The doc stores of the segments searched, each with its cache of decompressed blocks:
/// kept across searches, as the searcher's own readers are (a hit costs a block's
/// decompression only the first time).
#[derive(Default)]
pub(crate) struct Stores {
    open: Mutex<HashMap<SegmentId, Arc<StoreReader>>>,
}

impl Stores {
    /// The stored document at `addr`, checked: damage is [`Error::Index`].
    pub(crate) fn doc(&self, searcher: &Searcher, addr: DocAddress) -> Result<TantivyDocument> {
        let store = self.store(searcher, addr.segment_ord)?;
        let bytes = store
            .get_document_bytes(addr.doc_id)
            .map_err(Error::index)?;
        decode(&bytes, searcher.schema()).map_err(|why| {
            let segment = searcher.segment_reader(addr.segment_ord).segment_id();
            Error::Index(format!(
                "stored command {} of segment {} is damaged: {why}",
                addr.doc_id,
                segment.short_uuid_string()
            ))
        })
    }

    fn store(&self, searcher: &Searcher, ord: u32) -> Result<Arc<StoreReader>> {
        let segment = searcher.segment_reader(ord);
        let id = segment.segment_id();
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(store) = open.get(&id) {
            return Ok(store.clone());
        }
        // Segments merged away since let go of their blocks.
        open.retain(|id, _| {
            searcher
                .segment_readers()
                .iter()
                .any(|s| s.segment_id() == *id)
        });
        let store = segment
            .get_store_reader(CACHE_BLOCKS)
            .map(Arc::new)
            .map_err(|e| Error::Index(format!("cannot open a document store: {e}")))?;
        open.insert(id, store.clone());
        Ok(store)
    }
}

/// A document from its stored bytes; why not, when they do not add up.
pub(crate) fn decode(bytes: &[u8], schema: &Schema) -> Result<TantivyDocument, String> {
    let mut r = Reader(bytes);
    let count = r.vint()?;
    // A value takes six bytes at least (field, type, a length or more): a larger count is
    // noise, not something to make room for.
    if count > (bytes.len() / 6) as u64 {
        return Err(format!("{count} values in {} bytes", bytes.len()));
    }
    let mut doc = TantivyDocument::default();
    for _ in 0..count {
        let id = u32::from_le_bytes(r.array()?);
        if id as usize >= schema.num_fields() {
            return Err(format!("field {id} is not in the schema"));
        }
        let field = Field::from_field_id(id);
        let code = r.byte()?;
        let expected = match schema.get_field_entry(field).field_type() {
            FieldType::Str(_) => TEXT_CODE,
            FieldType::U64(_) => U64_CODE,
            FieldType::I64(_) => I64_CODE,
            _ => return Err(format!("field {id} is of a type fixcast does not store")),
        };
        if code != expected {
            return Err(format!("field {id} holds a value of type {code}"));
        }
        match code {
            TEXT_CODE => {
                let len = r.vint()?;
                let text = r.take(len)?;
                let text =
                    std::str::from_utf8(text).map_err(|_| format!("field {id} is not UTF-8"))?;
                doc.add_text(field, text);
            }
            U64_CODE => doc.add_u64(field, u64::from_le_bytes(r.array()?)),
            _ => doc.add_i64(field, i64::from_le_bytes(r.array()?)),
        }
    }
    if !r.0.is_empty() {
        return Err(format!("{} bytes after its last value", r.0.len()));
    }
    Ok(doc)
}

/// The bytes of a document not read yet.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, len: u64) -> Result<&'a [u8], String> {
        let left = self.0.len();
        match usize::try_from(len) {
            Ok(len) if len <= left => {
                let (head, rest) = self.0.split_at(len);
                self.0 = rest;
                Ok(head)
            }
            _ => Err(format!("a length of {len} with {left} bytes left")),
        }
    }

    fn byte(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let bytes = self.take(N as u64)?;
        Ok(bytes.try_into().expect("take gives N bytes"))
    }

    /// tantivy's VInt: 7 bits a byte, low first, the last byte's high bit set.
    fn vint(&mut self) -> Result<u64, String> {
        let mut value = 0u64;
        for i in 0..10 {
            let b = self.byte()?;
            let bits = u64::from(b & 0x7f);
            if i == 9 && bits > 1 {
                return Err("a number past 64 bits".into());
            }
            value |= bits << (7 * i);
            if b & 0x80 != 0 {
                return Ok(value);
            }
        }
        Err("a number past 64 bits".into())
    }
}
