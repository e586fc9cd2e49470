//! The page's collector skips documents (block-WAND, phrases bounded by their words'
//! counts): it must keep exactly what scoring every match keeps.

use fixcast_sessions::{CommandRecord, CommandSource, SessionId, SessionMeta};
use tantivy::collector::TopDocs;
use tantivy::{DocAddress, Score};

use crate::top::{rank_of, RankedTop};
use crate::{parse, CommandIndex, ParseContext, WriterOptions};

const LINES: &[&str] = &[
    "dial tcp 10.0.0.7:5432: connect: connection refused",
    "curl: (7) Failed to connect to localhost port 80: Connection refused",
    "refused connection from 10.0.0.9",
    "the connection was refused by the peer",
    "Job for nginx.service failed. Failed to start nginx.service",
    "failed to start the worker: out of memory",
    "memory out of range",
    "Out of memory: Killed process 4242 (java)",
    "ok",
    "listening on :8080",
    "connection reset by peer",
    "start failed to",
    "Error: connect ECONNREFUSED 127.0.0.1:6379",
];

const COMMANDS: &[&str] = &[
    "curl -sS localhost",
    "systemctl start nginx",
    "psql -h db -U app",
    "echo connection refused",
    "journalctl -u nginx --no-pager",
    "dmesg | tail",
    // A phrase in the command and the output: excluded, it is a union tantivy can seek.
    "echo reset by peer",
];

/// The commands indexed, by session: what snippets and phrase counts are read from.
type Sessions = Vec<(SessionMeta, Vec<CommandRecord>)>;

/// Two thousand commands, their output a few lines drawn from [`LINES`] (a fixed seed).
fn corpus() -> (CommandIndex, Sessions) {
    let index = CommandIndex::in_ram();
    let mut w = index.writer(WriterOptions::default()).unwrap();
    let mut x: u64 = 42;
    let mut next = |n: usize| {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) as usize % n
    };
    let mut sessions = Sessions::new();
    for _ in 0..40 {
        let mut meta = SessionMeta::new(SessionId::generate(), 80, 24);
        meta.title = Some("incident".into());
        let cmds: Vec<CommandRecord> = (1..=50)
            .map(|seq| {
                let command = COMMANDS[next(COMMANDS.len())].to_owned();
                let mut c = CommandRecord::new(
                    seq,
                    f64::from(seq),
                    f64::from(seq) + 0.5,
                    command,
                    CommandSource::Integration,
                );
                let lines: Vec<&str> = (0..1 + next(8)).map(|_| LINES[next(LINES.len())]).collect();
                c.output = lines.join("\n");
                c.exit = [Some(0), Some(1), None][next(3)];
                c
            })
            .collect();
        w.index_session(&meta, &cmds).unwrap();
        sessions.push((meta, cmds));
    }
    w.commit().unwrap();
    index.reload().unwrap();
    (index, sessions)
}

const QUERIES: &[&str] = &[
    "\"connection refused\"",
    "\"Failed to start\"",
    "\"out of memory\"",
    "\"was refused\"",
    "connection",
    "curl refused",
    "\"connection refused\" curl",
    "out:\"connection refused\"",
    "cmd:\"connection refused\"",
    "connection -refused",
    "refused -curl -psql",
    "\"connection refused\" -curl",
    "curl -\"connection refused\"",
    "connection -out:reset refused",
    "curl -\"by peer\"",
];

/// Every match scored, ranked by outcome: what the collector must agree with.
fn every_match(
    searcher: &tantivy::Searcher,
    q: &dyn tantivy::query::Query,
    k: usize,
) -> Vec<(Score, DocAddress)> {
    let collector = TopDocs::with_limit(k).tweak_score(rank_of);
    searcher.search(q, &collector).unwrap()
}

#[test]
fn the_page_is_what_scoring_every_match_gives() {
    let (index, _) = corpus();
    let searcher = index.reader.searcher();
    for text in QUERIES {
        let parsed = parse(text, &ParseContext::default()).unwrap();
        let plans = [
            crate::plan::plan(&parsed, &index.fields),
            crate::plan::plan_as_typed(&parsed, &index.fields).unwrap(),
        ];
        for (which, q) in plans.iter().enumerate() {
            for k in [1, 10, 26, 104] {
                let want = every_match(&searcher, q.as_ref(), k);
                let got = RankedTop {
                    limit: k,
                    columns: &[],
                }
                .page(&searcher, q.as_ref())
                .unwrap();
                assert!(!want.is_empty(), "{text}: no match at all");
                let docs = |v: &[(Score, DocAddress)]| v.iter().map(|h| h.1).collect::<Vec<_>>();
                assert_eq!(docs(&got), docs(&want), "{text} (plan {which}), top {k}");
                for (g, w) in got.iter().zip(&want) {
                    assert!(
                        (g.0 - w.0).abs() <= w.0.abs() * 1e-5,
                        "{text}: score {} where every match gives {}",
                        g.0,
                        w.0
                    );
                }
            }
        }
    }
}

/// How many commands have the words of `phrase` next to each other, in order, in their
/// output, or with `command_too` in their command line too (the corpus has no other
/// spelling of them but `ECONNREFUSED`, the other name of `connection refused`).
fn with_phrase(sessions: &Sessions, phrase: &str, command_too: bool) -> usize {
    let phrase = phrase.to_lowercase();
    // Lines follow each other: a phrase may run from one to the next.
    let flat = |s: &str| {
        s.to_lowercase()
            .replace('\n', " ")
            .replace("econnrefused", "connection refused")
    };
    sessions
        .iter()
        .flat_map(|(_, cmds)| cmds)
        .filter(|c| {
            (command_too && flat(&c.command).contains(&phrase)) || flat(&c.output).contains(&phrase)
        })
        .count()
}

#[test]
fn a_phrase_still_needs_its_words_next_to_each_other_in_order() {
    let (index, sessions) = corpus();
    for phrase in ["connection refused", "failed to start", "out of memory"] {
        // In output only (no session to collapse into), and anywhere.
        for (query, command_too) in [
            (format!("out:\"{phrase}\""), false),
            (format!("\"{phrase}\""), true),
        ] {
            let q = parse(&query, &ParseContext::default()).unwrap();
            let hits = index.search(&q, 100_000, &crate::NoOutputs).unwrap();
            let want = with_phrase(&sessions, phrase, command_too);
            assert!(want > 100, "{query}: the corpus should have it often");
            // "refused connection", "connection was refused", "start failed to" and
            // "memory out of" have the words, not the phrase.
            assert_eq!(hits.len(), want, "{query}");
            assert!(hits.iter().all(|h| !h.partial));
        }
    }
}
