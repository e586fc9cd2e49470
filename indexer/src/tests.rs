//! Real queries against an in-RAM index.

use fixcast_sessions::{CommandRecord, CommandSource, SessionId, SessionMeta};

use crate::{parse, CommandIndex, Hit, OutputTexts, ParseContext, WriterOptions};

pub(crate) fn cmd(seq: u32, command: &str, output: &str, exit: Option<i32>) -> CommandRecord {
    let start = f64::from(seq);
    let mut c = CommandRecord::new(
        seq,
        start,
        start + 0.5,
        command.into(),
        CommandSource::Integration,
    );
    c.cwd = Some("/root/work".into());
    c.exit = exit;
    c.output = output.into();
    c.flag_confusables();
    c
}

pub(crate) fn session(title: &str, cmds: Vec<CommandRecord>) -> (SessionMeta, Vec<CommandRecord>) {
    let mut meta = SessionMeta::new(SessionId::generate(), 80, 24);
    meta.title = Some(title.into());
    meta.host = "node1".into();
    meta.user = "root".into();
    meta.tags = vec!["prod".into()];
    (meta, cmds)
}

fn corpus() -> Vec<(SessionMeta, Vec<CommandRecord>)> {
    vec![
        session(
            "resolv.conf is immutable",
            vec![
                cmd(
                    1,
                    "echo nameserver 1.1.1.1 > /etc/resolv.conf",
                    "bash: /etc/resolv.conf: Operation not permitted",
                    Some(1),
                ),
                cmd(
                    2,
                    "lsattr /etc/resolv.conf",
                    "----i---------e------- /etc/resolv.conf",
                    Some(0),
                ),
                cmd(3, "chattr -i /etc/resolv.conf", "", Some(0)),
                cmd(4, "chattr +i /etc/resolv.conf", "", Some(0)),
            ],
        ),
        session(
            "chmod lost its x bit",
            vec![
                cmd(1, "chmod -x /bin/chmod", "", Some(0)),
                cmd(
                    2,
                    "chmod +x /bin/chmod",
                    "bash: /bin/chmod: Permission denied",
                    Some(126),
                ),
                cmd(
                    3,
                    "/lib64/ld-linux-x86-64.so.2 /bin/chmod +x /bin/chmod",
                    "",
                    Some(0),
                ),
                cmd(
                    4,
                    "ls -l /bin/chmod",
                    "-rwxr-xr-x 1 root root 64448 /bin/chmod",
                    Some(0),
                ),
            ],
        ),
        session(
            "network",
            vec![
                cmd(
                    1,
                    "curl -v http://10.0.0.12:8080/healthz",
                    "* connect to 10.0.0.12 port 8080 failed: Connection refused",
                    Some(7),
                ),
                cmd(
                    2,
                    "fls -r /dev/sdb1",
                    "r/r 12: secrets.txt\nd/d 11: lost+found",
                    Some(0),
                ),
                cmd(
                    3,
                    "kubeсtl get pods",
                    "bash: kubeсtl: command not found",
                    Some(127),
                ),
                cmd(
                    4,
                    "kubectl get pods -n kube-system",
                    "NAME READY STATUS\ncoredns-1 1/1 Running",
                    Some(0),
                ),
                cmd(
                    5,
                    "chattr =i /sys/foo",
                    "chattr: Inappropriate ioctl for device while reading flags on /sys/foo",
                    Some(1),
                ),
            ],
        ),
    ]
}

/// An index and the output of the commands in it: what its snippets are made from, as
/// the recordings are for a home's index.
pub(crate) struct Indexed {
    pub index: CommandIndex,
    pub outputs: OutputTexts,
}

impl std::ops::Deref for Indexed {
    type Target = CommandIndex;
    fn deref(&self) -> &CommandIndex {
        &self.index
    }
}

pub(crate) fn index_of(sessions: &[(SessionMeta, Vec<CommandRecord>)]) -> Indexed {
    let index = CommandIndex::in_ram();
    let mut outputs = OutputTexts::default();
    let mut w = index.writer(WriterOptions::default()).unwrap();
    for (m, c) in sessions {
        w.index_session(m, c).unwrap();
        outputs.add(m.id.as_str(), c);
    }
    w.commit().unwrap();
    index.reload().unwrap();
    Indexed { index, outputs }
}

/// What a test searches: an index, with the output its snippets are made from if known.
pub(crate) trait Searched {
    fn parts(&self) -> (&CommandIndex, &dyn crate::Outputs);
}

impl Searched for Indexed {
    fn parts(&self) -> (&CommandIndex, &dyn crate::Outputs) {
        (&self.index, &self.outputs)
    }
}

impl Searched for CommandIndex {
    fn parts(&self) -> (&CommandIndex, &dyn crate::Outputs) {
        (self, &crate::NoOutputs)
    }
}

pub(crate) fn search(index: &impl Searched, q: &str) -> Vec<Hit> {
    let q = parse(q, &ParseContext::default()).unwrap_or_else(|e| panic!("{q}: {e}"));
    let (index, outputs) = index.parts();
    index.search(&q, 20, outputs).unwrap()
}

fn first(index: &impl Searched, q: &str) -> String {
    let hits = search(index, q);
    assert!(!hits.is_empty(), "{q}: no hits");
    hits[0].command.clone()
}

#[test]
fn the_issues_queries_find_the_right_command_first() {
    let i = index_of(&corpus());
    assert_eq!(first(&i, "lsattr"), "lsattr /etc/resolv.conf");
    assert_eq!(first(&i, "chattr -i"), "chattr -i /etc/resolv.conf");
    assert_eq!(first(&i, "\"chattr -i\""), "chattr -i /etc/resolv.conf");
    assert_eq!(first(&i, "-i"), "chattr -i /etc/resolv.conf");
    let loader = "/lib64/ld-linux-x86-64.so.2 /bin/chmod +x /bin/chmod";
    for q in [
        "ld-linux",
        "ld-linux.so",
        "ld-linux-x86-64.so.2",
        "/lib64/ld-linux-x86-64.so.2",
        "exit:0 chmod +x",
        "\"/bin/chmod +x /bin/chmod\"",
    ] {
        assert_eq!(first(&i, q), loader, "{q}");
    }
    // The failed attempt matches `chmod +x` as well as the fix; both come first.
    let top2: Vec<String> = search(&i, "chmod +x")
        .into_iter()
        .take(2)
        .map(|h| h.command)
        .collect();
    assert!(top2.contains(&loader.to_owned()), "{top2:?}");
    assert_eq!(
        first(&i, "\"Operation not permitted\""),
        "echo nameserver 1.1.1.1 > /etc/resolv.conf"
    );
    assert_eq!(first(&i, "exit:!0 chattr"), "chattr =i /sys/foo");
}

#[test]
fn exit_filters() {
    let i = index_of(&corpus());
    assert_eq!(search(&i, "exit:!0 cmd:chattr").len(), 1);
    assert_eq!(search(&i, "exit:!0 cmd:kubectl").len(), 1);
    assert_eq!(search(&i, "exit:0 cmd:chattr").len(), 2);
    assert_eq!(search(&i, "exit:126")[0].seq, 2);
    assert!(search(&i, "exit:!0").iter().all(|h| h.exit != Some(0)));
}

/// `exit:!N` is every command whose status is known and is not N: no more, no fewer (the
/// ranges either side of N, see `plan.rs`).
#[test]
fn not_an_exit_status_is_every_other_known_one() {
    let sessions = corpus();
    let i = index_of(&sessions);
    let mut codes: Vec<i32> = sessions
        .iter()
        .flat_map(|(_, c)| c.iter().filter_map(|c| c.exit))
        .collect();
    codes.extend([3, 255]);
    codes.sort_unstable();
    codes.dedup();
    assert!(codes.len() >= 4, "{codes:?}");
    for code in codes {
        let q = parse(&format!("exit:!{code}"), &ParseContext::default()).unwrap();
        let mut got: Vec<(String, u32)> = i
            .search(&q, 1000, &crate::NoOutputs)
            .unwrap()
            .into_iter()
            .map(|h| (h.session.to_string(), h.seq))
            .collect();
        let mut want: Vec<(String, u32)> = sessions
            .iter()
            .flat_map(|(m, cmds)| {
                cmds.iter()
                    .filter(|c| c.exit.is_some_and(|e| e != code))
                    .map(|c| (m.id.as_str().to_owned(), c.seq))
            })
            .collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "exit:!{code}");
    }
}

#[test]
fn fields_restrict_where_words_are_looked_for() {
    let i = index_of(&corpus());
    // Word forms meet in the output (`permitted` finds `Permission`), never in `cmd:`.
    let hits = search(&i, "cmd:chmod out:permitted");
    assert_eq!(hits[0].command, "chmod +x /bin/chmod");
    assert!(search(&i, "cmd:permission").is_empty());
    let hits = search(&i, "cmd:chmod out:denied");
    assert_eq!(hits[0].command, "chmod +x /bin/chmod");
    assert!(!hits[0].snippet.highlights.is_empty());
    let hits = search(&i, "cmd:echo out:permitted");
    let h = &hits[0];
    let hl = &h.snippet.text[h.snippet.highlights[0].clone()];
    assert_eq!(hl.to_lowercase(), "permitted");
    assert_eq!(search(&i, "tag:prod").len(), 13);
    assert_eq!(search(&i, "title:immutable").len(), 4);
    assert_eq!(search(&i, "host:node1 user:root cwd:/root/work").len(), 13);
    assert!(search(&i, "host:node2").is_empty());
}

#[test]
fn addresses_ports_and_inodes_as_typed() {
    let i = index_of(&corpus());
    assert_eq!(
        first(&i, "10.0.0.12"),
        "curl -v http://10.0.0.12:8080/healthz"
    );
    assert_eq!(
        first(&i, "10.0.0.12:8080"),
        "curl -v http://10.0.0.12:8080/healthz"
    );
    assert_eq!(first(&i, ":8080"), "curl -v http://10.0.0.12:8080/healthz");
    assert_eq!(first(&i, "\"r/r 12\""), "fls -r /dev/sdb1");
    assert_eq!(first(&i, "\"r/r 12:\""), "fls -r /dev/sdb1");
    assert!(search(&i, "10.0.0.13").is_empty());
}

#[test]
fn commands_rank_above_output() {
    let i = index_of(&corpus());
    // `chmod` is in three commands and in two outputs.
    let hits = search(&i, "chmod");
    assert!(hits[0].command.contains("chmod"));
    let resolv = search(&i, "resolv.conf");
    assert!(resolv[0].command.contains("resolv.conf"));
}

#[test]
fn confusables_are_found_by_their_ascii_twin_and_marked() {
    let i = index_of(&corpus());
    let hits = search(&i, "kubectl get");
    let twin = hits
        .iter()
        .find(|h| h.command == "kubeсtl get pods")
        .expect("twin found");
    assert_eq!(twin.confusables[0].code_point, "U+0441");
    let s = search(&i, "suspicious:true");
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].command, "kubeсtl get pods");
    assert_eq!(search(&i, "suspicious:false").len(), 12);
}

#[test]
fn exclusions_or_and_sessions() {
    let i = index_of(&corpus());
    let hits = search(&i, "chattr -resolv.conf");
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].command, "chattr =i /sys/foo");
    let hits = search(&i, "lsattr OR fls");
    assert_eq!(hits.len(), 2);
    let hits = search(&i, "NOT kubectl cmd:get");
    assert!(hits.is_empty(), "the twin counts as kubectl: {hits:?}");
    let all = search(&i, "-zzzz");
    assert_eq!(all.len(), 13);
    let id = all[0].session.clone();
    let n = all.iter().filter(|h| h.session == id).count();
    assert_eq!(
        search(&i, &format!("session:{}", id.as_str().to_lowercase())).len(),
        n
    );
}

#[test]
fn dates_filter_by_when_the_command_ran() {
    let i = index_of(&corpus());
    assert_eq!(search(&i, "after:2000-01-01 lsattr").len(), 1);
    assert!(search(&i, "before:2000-01-01 lsattr").is_empty());
    assert!(search(&i, "after:1d lsattr").len() == 1);
}

/// Found by fuzzing (`fuzz/`, target `query`): a date past 2262 overflowed tantivy's
/// nanosecond timestamps (a panic in debug builds, a wrong date in release).
#[test]
fn dates_beyond_what_the_index_holds_still_filter() {
    let i = index_of(&corpus());
    assert_eq!(search(&i, "until:2626-04-30 lsattr").len(), 1);
    assert!(search(&i, "after:9999-12-31 lsattr").is_empty());
    assert_eq!(search(&i, "after:-9999-01-01 lsattr").len(), 1);
}

/// Found by fuzzing (`fuzz/`, target `query`): excluding a phrase of atoms that never
/// follow each other (`e!1`: `e` and `1` are in the index, not side by side) tripped a
/// debug assertion in tantivy 0.27's `PhraseScorer::seek_danger` (quickwit-oss/tantivy#2811)
/// through tantivy's exclusion, which seeks a phrase below where it stands. A page's
/// exclusions are asked by `excluding.rs` now, only at or past where each stands, so
/// this runs in debug builds too.
#[test]
fn excluding_a_phrase_that_never_matches_keeps_everything() {
    let i = index_of(&corpus());
    let all = search(&i, "-zzznothing").len();
    assert!(all > 0);
    assert_eq!(search(&i, "-e!1").len(), all);
}

#[test]
fn following_commands_for_context() {
    let sessions = corpus();
    let i = index_of(&sessions);
    let id = sessions[0].0.id.as_str();
    let next = i.following(id, 2, 5).unwrap();
    let seqs: Vec<u32> = next.iter().map(|c| c.seq).collect();
    assert_eq!(seqs, vec![3, 4]);
    assert_eq!(next[0].command, "chattr -i /etc/resolv.conf");
}

#[test]
fn following_each_answers_every_window_in_one_query() {
    let sessions = corpus();
    let i = index_of(&sessions);
    let mut at: Vec<(&str, u32)> = Vec::new();
    for (m, cmds) in &sessions {
        for c in cmds {
            at.push((m.id.as_str(), c.seq));
        }
    }
    // Every command of every session: the windows overlap, and some run past the end.
    for k in [1, 2, 5] {
        let all = i.following_each(&at, k).unwrap();
        assert_eq!(all.len(), at.len());
        for (m, cmds) in &sessions {
            for c in cmds {
                let want: Vec<(u32, &str)> = cmds
                    .iter()
                    .filter(|n| n.seq > c.seq && n.seq <= c.seq + k as u32)
                    .map(|n| (n.seq, n.command.as_str()))
                    .collect();
                let got: Vec<(u32, &str)> = all[&(m.id.to_string(), c.seq)]
                    .iter()
                    .map(|n| (n.seq, n.command.as_str()))
                    .collect();
                assert_eq!(got, want, "{} #{} k={k}", m.id, c.seq);
            }
        }
    }
    assert!(i.following_each(&at, 0).unwrap().is_empty());
}

#[test]
fn updates_replace_and_rebuilds_equal_incremental() {
    let sessions = corpus();
    // Incremental: one commit per session, and the first one indexed twice.
    let inc = CommandIndex::in_ram();
    let mut w = inc.writer(WriterOptions::default()).unwrap();
    for (m, c) in &sessions {
        w.index_session(m, c).unwrap();
        w.commit().unwrap();
    }
    w.index_session(&sessions[0].0, &sessions[0].1).unwrap();
    w.commit().unwrap();
    inc.reload().unwrap();
    assert_eq!(inc.num_commands(), 13);
    let full = index_of(&sessions);
    for q in [
        "chattr",
        "chmod +x",
        "resolv.conf",
        "kubectl",
        "-zzzz",
        "exit:0",
    ] {
        let a: Vec<_> = search(&inc, q)
            .iter()
            .map(|h| (h.session.clone(), h.seq))
            .collect();
        let b: Vec<_> = search(&full, q)
            .iter()
            .map(|h| (h.session.clone(), h.seq))
            .collect();
        assert_eq!(a, b, "{q}");
    }
}

#[test]
fn a_live_session_replaces_only_its_commands_from_a_point_on() {
    let index = CommandIndex::in_ram();
    let (meta, cmds) = session(
        "live",
        vec![
            cmd(1, "uptime", "up 3 days", Some(0)),
            cmd(2, "journalctl -u kubelet", "starting", None),
        ],
    );
    let (other, other_cmds) = session("other", vec![cmd(2, "journalctl -f", "", Some(0))]);
    let mut w = index.writer(WriterOptions::default()).unwrap();
    w.index_session(&meta, &cmds).unwrap();
    w.index_session(&other, &other_cmds).unwrap();
    w.commit().unwrap();
    // The running command ended, and a new one started.
    let later = vec![
        cmd(
            2,
            "journalctl -u kubelet",
            "starting\nfailed: x509 expired",
            Some(1),
        ),
        cmd(3, "openssl x509 -enddate", "notAfter=Jan 1", None),
    ];
    w.replace_from(&meta, 2, &later).unwrap();
    w.commit().unwrap();
    index.reload().unwrap();
    let mut now = cmds[..1].to_vec();
    now.extend(later);
    assert_eq!(index.num_commands(), 4);
    let hits = search(&index, "journalctl");
    assert_eq!(
        hits.len(),
        2,
        "the old copy of seq 2 is gone, the other session's stays"
    );
    assert!(search(&index, "x509 expired")
        .iter()
        .any(|h| h.seq == 2 && h.exit == Some(1)));
    assert_eq!(first(&index, "uptime"), "uptime");
    assert_eq!(first(&index, "openssl"), "openssl x509 -enddate");
}

/// An errno's name finds its message and the other way round; the words people copied
/// from an older bash (`bad interpreter`) find what bash 5.2 prints for the same script.
#[test]
fn an_error_is_found_by_its_other_names() {
    let i = index_of(&[session(
        "names of one error",
        vec![
            cmd(
                1,
                "./crlf.sh",
                "bash: ./crlf.sh: cannot execute: required file not found",
                Some(127),
            ),
            cmd(
                2,
                "node server.js",
                "Error: listen EADDRINUSE: :::8080",
                Some(1),
            ),
            cmd(
                3,
                "touch /proc/x",
                "touch: cannot touch '/proc/x': Permission denied",
                Some(1),
            ),
        ],
    )]);
    assert_eq!(first(&i, "\"bad interpreter\""), "./crlf.sh");
    assert_eq!(first(&i, "\"address already in use\""), "node server.js");
    assert_eq!(first(&i, "EACCES"), "touch /proc/x");
    // Another name is one clause's alternative, not a match of every word.
    assert!(search(&i, "\"bad interpreter\" server.js")
        .iter()
        .all(|h| h.partial));
}

/// A bulk build commits a batch at a time while the merge policy merges segments in
/// the background; it still ends in one segment with everything in it. (The race the
/// 10M bench hit, a final merge naming segments a background merge was taking, did not
/// show in RAM; this checks the outcome.)
#[test]
fn a_bulk_build_ends_in_one_segment_while_merges_run() {
    let index = CommandIndex::in_ram();
    let mut w = index.writer(WriterOptions::default()).unwrap();
    for i in 0..60 {
        let (m, c) = session(
            &format!("s{i}"),
            vec![cmd(1, &format!("echo number{i}"), "out", Some(0))],
        );
        w.add_session(&m, &c).unwrap();
        w.commit().unwrap();
    }
    w.finish_compact().unwrap();
    index.reload().unwrap();
    assert_eq!(index.index.searchable_segment_ids().unwrap().len(), 1);
    assert_eq!(search(&index, "number0").len(), 1);
    assert_eq!(search(&index, "number59").len(), 1);
}

/// A hit's times come back as they were recorded: the offset and duration (stored in
/// microseconds), and its start (read from the fast field, in seconds).
#[test]
fn a_hit_keeps_its_times() {
    let mut c = cmd(3, "sleep 2", "", Some(0));
    c.start = 754.123456;
    c.end = 756.5;
    let (mut m, _) = session("times", Vec::new());
    m.started = time::OffsetDateTime::from_unix_timestamp(1_777_000_000).unwrap();
    let i = index_of(&[(m, vec![c])]);
    let h = &search(&i, "sleep")[0];
    assert_eq!(h.offset, 754.123456);
    assert!((h.duration - 2.376544).abs() < 1e-9, "{}", h.duration);
    assert_eq!(h.started.unix_timestamp(), 1_777_000_754);
}

#[test]
fn a_match_only_through_another_word_form_lists_every_command() {
    // `deny` is in none of them as typed: every match is through the stem of `denied`.
    let i = index_of(&[session(
        "the deploy",
        vec![
            cmd(1, "cat /root/a", "cat: /root/a: Permission denied", Some(1)),
            cmd(2, "cat /root/b", "cat: /root/b: Permission denied", Some(1)),
            cmd(3, "cat /root/c", "cat: /root/c: Permission denied", Some(1)),
        ],
    )]);
    let mut found: Vec<String> = search(&i, "deny").into_iter().map(|h| h.command).collect();
    found.sort();
    assert_eq!(found, ["cat /root/a", "cat /root/b", "cat /root/c"]);
}
