//! The schema: one document per command. Bump [`SCHEMA_VERSION`] on any change to the
//! fields or to the tokenizer: an index of another version is rebuilt.

use tantivy::schema::{
    DateOptions, DateTimePrecision, Field, IndexRecordOption, NumericOptions, Schema,
    TextFieldIndexing, TextOptions, FAST, STORED,
};

use crate::tokenizer::{OUTPUT_TOKENIZER, SHELL_TOKENIZER};

/// Version of the schema and tokenizer; stored beside the index.
///
/// 4: output has its own tokenizer (words with digits by their atoms), the stemmed
/// output leaves out words with digits, `started` is a fast field only, raw-term fields
/// have no field norms, `session` and `marked` are fast fields (hits are ordered and
/// collapsed without loading documents).
/// 5: the stemmed output has only the stems that differ from their word, numbers and the
/// fields asked only by name (`cwd`, `host`, `user`, `shell`) have no field norms,
/// `offset` and `duration` are stored in microseconds, `started` is not stored.
/// 6: the output is not stored (snippets are cut from the recordings), but for long
/// outputs (`out_kept`).
/// 7: where a command's output is rendered again from (`again`) and its terminal's size
/// (`size`) are stored: a snippet is cut without reading the session's commands.
pub const SCHEMA_VERSION: u32 = 7;

/// The field handles, kept from the schema builder.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields {
    /// Full session id (raw term: deletes and `session:` prefixes).
    pub session: Field,
    pub seq: Field,
    /// Seconds into the recording, in microseconds.
    pub offset: Field,
    pub cmd: Field,
    /// The command with look-alike characters replaced by ASCII (only when different).
    pub cmd_twin: Field,
    pub out: Field,
    /// A long output's text, stored (only for those: see `writer::KEEP_OUTPUT_OVER`).
    pub out_kept: Field,
    /// Where rendering the output again starts, in microseconds before `offset` (see
    /// `fixcast_sessions::again_from`); none when from the recording's start.
    pub again: Field,
    /// The terminal's size when the command started, columns << 16 | rows (none when not
    /// known).
    pub size: Field,
    /// The output again, stemmed: word forms (`denied`, `deny`) meet.
    pub out_stem: Field,
    pub cwd: Field,
    pub exit: Field,
    /// In microseconds.
    pub duration: Field,
    /// When the command started (session start + offset), in seconds: a fast field only.
    pub started: Field,
    pub host: Field,
    pub user: Field,
    pub shell: Field,
    pub title: Field,
    pub tags: Field,
    pub notes: Field,
    /// `integration` or `heuristic`.
    pub source: Field,
    /// 1 when the command has look-alike characters.
    pub suspicious: Field,
    /// JSON list of the look-alike characters.
    pub confusables: Field,
    /// JSON of what the command's fix records say of it (see `fixes::FixInfo`).
    pub fix_info: Field,
    /// 1 for a failed command whose fix is known (ranked above unresolved ones).
    pub resolved: Field,
    /// A failed command's error signatures (`error_signature` of each error line): raw
    /// terms, so "seen before" is a term look-up, not a search.
    pub error_sig: Field,
    /// How good a failure is as a "seen before" answer: its class (2 a marked fix, 1
    /// another fix, 0 unresolved) above its start in seconds, so the best is the
    /// largest (see `seen::rank`).
    pub hint_rank: Field,
    /// 1 for the command marked as its session's fix (a fast field: hits standing for
    /// their session are collapsed without loading documents).
    pub marked: Field,
}

pub(crate) fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    // `norms`: whether a match counts for less in a longer value.
    let shell_text = |stored: bool, positions: bool, norms: bool| {
        let record = if positions {
            IndexRecordOption::WithFreqsAndPositions
        } else {
            IndexRecordOption::WithFreqs
        };
        let o = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(SHELL_TOKENIZER)
                .set_fieldnorms(norms)
                .set_index_option(record),
        );
        if stored {
            o.set_stored()
        } else {
            o
        }
    };
    let stored_only = || -> NumericOptions { STORED.into() };
    // Numbers are one term each: a field norm (a byte per command) would say nothing.
    let number = || NumericOptions::default().set_indexed();
    // Raw terms (ids, signatures) are looked up, never scored by length: no field norms.
    let raw = || {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer("raw")
                .set_fieldnorms(false)
                .set_index_option(IndexRecordOption::Basic),
        )
    };
    let fields = Fields {
        session: b.add_text_field("session", raw().set_stored().set_fast("raw")),
        seq: b.add_u64_field("seq", NumericOptions::from(STORED) | FAST),
        // Seconds as microseconds (what a recording's times hold): an f64's bytes are as
        // good as random to the doc store's compression, a count's high bytes are zeros.
        offset: b.add_u64_field("offset", stored_only()),
        cmd: b.add_text_field("cmd", shell_text(true, true, true)),
        cmd_twin: b.add_text_field("cmd_twin", shell_text(false, true, true)),
        // Not stored: a hit's snippet is made from its output rendered again from the
        // recording (see `outputs.rs`); stored, it was a quarter of the index.
        out: b.add_text_field(
            "out",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(OUTPUT_TOKENIZER)
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions),
            ),
        ),
        out_kept: b.add_text_field("out_kept", STORED),
        again: b.add_u64_field("again", stored_only()),
        size: b.add_u64_field("size", stored_only()),
        out_stem: b.add_text_field(
            "out_stem",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(crate::stem::STEM_TOKENIZER)
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions),
            ),
        ),
        // Asked only by name (`cwd:`, `host:`) and a word or two long: no field norms.
        cwd: b.add_text_field("cwd", shell_text(true, true, false)),
        exit: b.add_i64_field("exit", number().set_stored().set_fast()),
        duration: b.add_u64_field("duration", stored_only()),
        // `after:`/`before:` are ranges over the fast field, and hits read it there (in
        // seconds): no terms, nothing stored.
        started: b.add_date_field(
            "started",
            DateOptions::default()
                .set_fast()
                .set_precision(DateTimePrecision::Seconds),
        ),
        host: b.add_text_field("host", shell_text(true, true, false)),
        user: b.add_text_field("user", shell_text(true, true, false)),
        shell: b.add_text_field("shell", shell_text(true, true, false)),
        title: b.add_text_field("title", shell_text(true, true, true)),
        tags: b.add_text_field("tags", shell_text(true, true, true)),
        notes: b.add_text_field("notes", shell_text(false, true, true)),
        source: b.add_text_field("source", raw().set_stored()),
        // Looked up only (a hit's look-alikes are in `confusables`): not stored.
        suspicious: b.add_u64_field("suspicious", number()),
        confusables: b.add_text_field("confusables", STORED),
        fix_info: b.add_text_field("fix_info", STORED),
        resolved: b.add_u64_field("resolved", number().set_fast()),
        error_sig: b.add_text_field("error_sig", raw()),
        hint_rank: b.add_u64_field("hint_rank", FAST),
        marked: b.add_u64_field("marked", FAST),
    };
    (b.build(), fields)
}

impl Fields {
    /// Looks the fields up in a schema read from disk; `None` if one is missing.
    pub fn from_schema(schema: &Schema) -> Option<Fields> {
        let f = |name: &str| schema.get_field(name).ok();
        Some(Fields {
            session: f("session")?,
            seq: f("seq")?,
            offset: f("offset")?,
            cmd: f("cmd")?,
            cmd_twin: f("cmd_twin")?,
            out: f("out")?,
            out_kept: f("out_kept")?,
            again: f("again")?,
            size: f("size")?,
            out_stem: f("out_stem")?,
            cwd: f("cwd")?,
            exit: f("exit")?,
            duration: f("duration")?,
            started: f("started")?,
            host: f("host")?,
            user: f("user")?,
            shell: f("shell")?,
            title: f("title")?,
            tags: f("tags")?,
            notes: f("notes")?,
            source: f("source")?,
            suspicious: f("suspicious")?,
            confusables: f("confusables")?,
            fix_info: f("fix_info")?,
            resolved: f("resolved")?,
            error_sig: f("error_sig")?,
            hint_rank: f("hint_rank")?,
            marked: f("marked")?,
        })
    }
}
