//! The query parser (`indexer/src/query/`): any text parses or gives an error that points
//! inside the query; a query that parses runs against a small in-RAM index, snippets
//! included, without an error.
//!
//! KNOWN: tantivy 0.27.0's `PhraseScorer::seek_danger` debug-asserts that it is never
//! asked for a document before its own, which an exclusion (`-e!1`, a phrase of atoms
//! with no match) does once the phrase scorer is exhausted: a panic in debug builds
//! only (upstream, quickwit-oss/tantivy#2811). With `FIXCAST_FUZZ_KNOWN=tantivy-phrase` that
//! one panic is let through to the indexer's guard and the input counts as passed.
#![no_main]

use std::cell::Cell;
use std::panic::AssertUnwindSafe;
use std::sync::Once;

use fixcast_indexer::{parse, CommandIndex, OutputTexts, ParseContext, WriterOptions};
use fixcast_sessions::{CommandRecord, CommandSource, SessionId, SessionMeta};
use libfuzzer_sys::fuzz_target;
use time::{OffsetDateTime, UtcOffset};

thread_local! {
    /// The index and the output its snippets are made from.
    static INDEX: (CommandIndex, OutputTexts) = index();
}

fn index() -> (CommandIndex, OutputTexts) {
    let index = CommandIndex::in_ram();
    let mut meta = SessionMeta::new(SessionId::generate(), 80, 24);
    meta.title = Some("resolv.conf is immutable".into());
    meta.tags = vec!["dns".into(), "incident".into()];
    meta.host = "node1".into();
    let lines = [
        ("chattr -i /etc/resolv.conf", "", Some(0)),
        (
            "echo nameserver 1.1.1.1 > /etc/resolv.conf",
            "bash: /etc/resolv.conf: Operation not permitted",
            Some(1),
        ),
        (
            "/lib64/ld-linux-x86-64.so.2 /bin/chmod +x /bin/chmod",
            "",
            Some(0),
        ),
        (
            "kubeсtl get pods -n kube-system",
            "NAME READY STATUS\ncoredns-1 1/1 Running",
            None,
        ),
        (
            "lsattr /etc/resolv.conf",
            "----i---------e------- /etc/resolv.conf",
            Some(0),
        ),
    ];
    let cmds: Vec<CommandRecord> = lines
        .iter()
        .enumerate()
        .map(|(i, (cmd, out, exit))| {
            let mut c = CommandRecord::new(
                i as u32 + 1,
                i as f64,
                i as f64 + 0.5,
                (*cmd).into(),
                CommandSource::Integration,
            );
            c.output = (*out).into();
            c.exit = *exit;
            c.cwd = Some("/root".into());
            c.flag_confusables();
            c
        })
        .collect();
    let mut w = index
        .writer(WriterOptions {
            heap_bytes: 15 << 20,
            threads: 1,
        })
        .expect("in-RAM writer");
    w.index_session(&meta, &cmds).expect("indexed");
    w.commit().expect("committed");
    index.reload().expect("reloaded");
    let mut outputs = OutputTexts::default();
    outputs.add(meta.id.as_str(), &cmds);
    (index, outputs)
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let ctx = ParseContext {
        now: OffsetDateTime::from_unix_timestamp(1_777_600_000).expect("a date"),
        offset: UtcOffset::from_hms(2, 0, 0).expect("an offset"),
    };
    match parse(&text, &ctx) {
        Ok(q) => INDEX.with(|(index, outputs)| {
            let search = || index.search(&q, 5, outputs);
            let result = if fixcast_fuzz::step_over("tantivy-phrase") {
                match catch_known(search) {
                    Some(r) => r,
                    None => return,
                }
            } else {
                search()
            };
            if let Err(e) = result {
                // The indexer contains panics itself, naming where they happened.
                let known = e.to_string().contains("phrase_scorer.rs");
                if known && fixcast_fuzz::step_over("tantivy-phrase") {
                    return;
                }
                panic!("query {text:?} parsed but failed: {e}");
            }
        }),
        Err(e) => {
            let chars = text.chars().count();
            assert!(
                (1..=chars + 1).contains(&e.column),
                "column {} outside a query of {chars} characters: {e}",
                e.column
            );
        }
    }
});

/// The message of the known tantivy assertion (see the module docs).
const KNOWN: &str = "should be greater than or equal to doc";

thread_local! {
    static HIT_KNOWN: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f`; `None` if it hit the known assertion (which the indexer's own guard turns
/// into an error). Any other panic goes on to libFuzzer, which aborts.
fn catch_known<R>(f: impl FnOnce() -> R) -> Option<R> {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        // libFuzzer's hook aborts on any panic: let the known one unwind instead.
        let theirs = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let known = info.payload_as_str().is_some_and(|m| m.contains(KNOWN))
                && info
                    .location()
                    .is_some_and(|l| l.file().ends_with("phrase_scorer.rs"));
            if known {
                HIT_KNOWN.with(|h| h.set(true));
            } else {
                theirs(info);
            }
        }));
    });
    HIT_KNOWN.with(|h| h.set(false));
    let r = std::panic::catch_unwind(AssertUnwindSafe(f)).ok();
    if HIT_KNOWN.with(Cell::get) {
        return None;
    }
    r
}
