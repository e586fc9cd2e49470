//! Search answers with the fix: fix records reach the hits.

use fixcast_sessions::{CommandRecord, CommandSource, Found, SessionId, SessionMeta};

use crate::{parse, CommandIndex, Hit, ParseContext, WriterOptions};

fn cmd(seq: u32, command: &str, output: &str, exit: i32) -> CommandRecord {
    let start = f64::from(seq) * 2.0;
    let mut c = CommandRecord::new(
        seq,
        start,
        start + 0.5,
        command.into(),
        CommandSource::Integration,
    );
    c.exit = Some(exit);
    c.output = output.into();
    c.note_errors();
    c
}

fn immutable_file(fix_seq: Option<u32>) -> (SessionMeta, Vec<CommandRecord>) {
    let mut meta = SessionMeta::new(SessionId::generate(), 80, 24);
    meta.title = Some("immutable config".into());
    meta.fix_seq = fix_seq;
    let cmds = vec![
        cmd(
            1,
            "echo x >> app.conf",
            "bash: app.conf: Operation not permitted",
            1,
        ),
        cmd(2, "ls -l app.conf", "-rw-r--r-- 1 root root 2 app.conf", 0),
        cmd(3, "lsattr app.conf", "----i---------e------- app.conf", 0),
        cmd(4, "chattr -i app.conf", "", 0),
        cmd(5, "echo x >> app.conf", "", 0),
        cmd(
            6,
            "cat /nonexistent",
            "cat: /nonexistent: No such file or directory",
            1,
        ),
    ];
    (meta, cmds)
}

fn search(
    (index, sessions): &(CommandIndex, Vec<(SessionMeta, Vec<CommandRecord>)>),
    q: &str,
) -> Vec<Hit> {
    let q = parse(q, &ParseContext::default()).unwrap();
    let mut outputs = crate::OutputTexts::default();
    for (meta, cmds) in sessions {
        outputs.add(meta.id.as_str(), cmds);
    }
    index.search(&q, 10, &outputs).unwrap()
}

/// The index, with the sessions whose output the snippets are made from.
fn indexed(
    sessions: &[(SessionMeta, Vec<CommandRecord>)],
) -> (CommandIndex, Vec<(SessionMeta, Vec<CommandRecord>)>) {
    let index = CommandIndex::in_ram();
    let mut w = index.writer(WriterOptions::default()).unwrap();
    for (meta, cmds) in sessions {
        w.index_session(meta, cmds).unwrap();
    }
    w.commit().unwrap();
    index.reload().unwrap();
    (index, sessions.to_vec())
}

#[test]
fn a_hit_on_a_failure_names_its_fix_and_when_the_retry_worked() {
    let index = indexed(&[immutable_file(None)]);
    let hits = search(&index, "\"Operation not permitted\" app.conf");
    let top = &hits[0];
    assert_eq!((top.seq, top.exit), (1, Some(1)));
    let fix = top.fix.as_ref().expect("the failure carries its fix");
    assert_eq!(fix.found, Found::Retry);
    assert_eq!(fix.commands.len(), 1);
    assert_eq!(fix.commands[0].command, "chattr -i app.conf");
    assert_eq!(fix.commands[0].offset, 8.0);
    assert_eq!(fix.verification.as_ref().map(|v| v.seq), Some(5));
    assert_eq!(fix.after, Some(8.0));
    // JSON carries it under `fix`.
    let json = serde_json::to_value(crate::HitJson::new(top, None)).unwrap();
    assert_eq!(json["fix"]["found"], "retry");
    assert_eq!(json["fix"]["commands"][0]["command"], "chattr -i app.conf");
    // Each step of it carries both ways to replay it.
    let step = &json["fix"]["commands"][0];
    assert_eq!(step["url"], format!("/s/{}?t=7.95&hit=4", top.session));
    assert_eq!(
        step["play"],
        format!("fixcast play {} --at 7.9", &top.session.as_str()[..10])
    );
}

#[test]
fn a_hit_on_a_fix_names_the_failure_it_fixed_and_a_retry_both() {
    let index = indexed(&[immutable_file(None)]);
    let hits = search(&index, "cmd:chattr");
    let fixes = hits[0].fixes.as_ref().expect("the fix names its symptom");
    assert_eq!(fixes.step.seq, 1);
    assert_eq!(fixes.error, vec!["bash: app.conf: Operation not permitted"]);
    let retry = search(&index, "exit:0 cmd:app.conf")
        .into_iter()
        .find(|h| h.seq == 5)
        .unwrap();
    let v = retry.verifies.expect("the retry verifies the fix");
    assert_eq!((v.symptom.step.seq, v.fix.commands[0].seq), (1, 4));
}

#[test]
fn an_unresolved_failure_shows_next_steps_and_ranks_below_a_fixed_one() {
    let mut other = immutable_file(None);
    // The same error in another session, never fixed.
    other.1.truncate(3);
    let index = indexed(&[immutable_file(None), other.clone()]);
    let hits = search(&index, "\"Operation not permitted\"");
    assert_eq!(hits.len(), 2);
    assert!(
        hits[0].fix.is_some(),
        "the fixed failure comes first: {hits:#?}"
    );
    assert_eq!(hits[1].session, other.0.id);
    assert!(hits[1].fix.is_none());
    let next: Vec<u32> = hits[1].next_steps.iter().map(|s| s.seq).collect();
    assert_eq!(next, vec![2, 3]);
}

#[test]
fn a_marked_fix_wins_in_the_hits() {
    let index = indexed(&[immutable_file(Some(3))]);
    let hits = search(&index, "\"Operation not permitted\"");
    let fix = hits[0].fix.as_ref().unwrap();
    assert_eq!(fix.found, Found::Marked);
    assert_eq!(fix.commands[0].command, "lsattr app.conf");
}

#[test]
fn without_a_command_having_every_word_the_closest_matches_come_marked_partial() {
    let index = indexed(&[immutable_file(None)]);
    // `will`, `not` and `save` occur nowhere; two words match the failure.
    let hits = search(&index, "app.conf permitted will not save operation");
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| h.partial));
    assert_eq!(
        hits[0].seq, 1,
        "the command with most words first: {hits:#?}"
    );
    // Filters still hold in a closest match.
    assert!(search(&index, "exit:0 permitted operation nothing")
        .iter()
        .all(|h| h.exit == Some(0)));
    // A full match is not partial, and a lone missing word matches nothing.
    assert!(search(&index, "lsattr app.conf").iter().all(|h| !h.partial));
    assert!(search(&index, "nosuchword").is_empty());
}

#[test]
fn the_end_of_a_long_output_is_searchable_as_well_as_its_start() {
    let mut meta = SessionMeta::new(SessionId::generate(), 80, 24);
    meta.title = Some("seq".into());
    let out: String = (1..=200_000).map(|n| format!("{n}\n")).collect();
    let c = cmd(1, "seq 1 200000", &out, 0);
    let index = indexed(&[(meta, vec![c])]);
    assert_eq!(search(&index, "\"199999\"").len(), 1, "the tail is indexed");
    assert_eq!(search(&index, "\"4400\"").len(), 1, "so is the head");
    // The middle is what the index leaves out (as the README says).
    assert!(search(&index, "\"100000\"").is_empty());
}

#[test]
fn a_word_only_in_a_session_s_title_or_notes_matches_the_session_once() {
    let (mut meta, cmds) = immutable_file(None);
    meta.title = Some("frozen app.conf".into());
    meta.notes = Some("root cause: someone ran chattr +i; lsattr shows it".into());
    let index = indexed(&[(meta.clone(), cmds.clone())]);
    let hits = search(&index, "frozen");
    assert_eq!(hits.len(), 1, "{hits:#?}");
    // A word in the notes that is also a command: that command alone.
    let hits = search(&index, "lsattr");
    assert_eq!(hits.iter().map(|h| h.seq).collect::<Vec<_>>(), vec![3]);
    // A word in a command and another in the title or notes: every such command counts.
    let hits = search(&index, "frozen chattr");
    assert_eq!(hits.iter().map(|h| h.seq).collect::<Vec<_>>(), vec![4]);
    // So does a word in the output by its other name (`Operation not permitted` is EPERM).
    let hits = search(&index, "EPERM frozen");
    assert_eq!(hits.iter().map(|h| h.seq).collect::<Vec<_>>(), vec![1]);
    // The marked fix stands for its session.
    meta.fix_seq = Some(4);
    let index = indexed(&[(meta, cmds)]);
    let hits = search(&index, "frozen");
    assert_eq!((hits.len(), hits[0].seq, hits[0].marked_fix), (1, 4, true));
}

/// A search skips looking for commands that stand for their session only when a word it
/// requires is in no title, tags or notes (then every match is by what a command is).
#[test]
fn only_words_in_no_session_s_title_tags_or_notes_match_by_content_alone() {
    let (mut meta, cmds) = immutable_file(None);
    meta.title = Some("EPERM on app.conf".into());
    meta.notes = Some("root cause: someone ran chattr +i; lsattr shows it".into());
    meta.tags = vec!["incident".into()];
    let (index, _) = indexed(&[(meta, cmds)]);
    let searcher = index.reader.searcher();
    let only = |q: &str| {
        let q = parse(q, &ParseContext::default()).unwrap();
        crate::plan::only_by_content(&q, &index.fields, &searcher)
    };
    for q in [
        "Operation",
        "\"No such file\"",
        "nonexistent app.conf",
        "lsattr nonexistent",
        // Another name of the words is in the output too.
        "EACCES",
        "\"Operation not permitted\"",
    ] {
        assert!(only(q), "{q}: a word in no title, tags or notes");
    }
    for q in [
        // In the title, the notes, the tags.
        "EPERM",
        "lsattr",
        "incident",
        "EPERM chattr",
        "\"app.conf\"",
        // Only in a group of alternatives, or excluded: not required.
        "nonexistent OR lsattr",
        "-nonexistent lsattr",
        // No plain word.
        "exit:1",
    ] {
        assert!(!only(q), "{q}");
    }
}

#[test]
fn error_words_match_across_their_forms_in_the_output() {
    let index = indexed(&[immutable_file(None)]);
    // `Operation not permitted` is found by `permission` and `permit`.
    for q in [
        "permission",
        "permit",
        "out:permission",
        "\"operation not permitted\"",
    ] {
        let hits = search(&index, q);
        assert_eq!(hits.first().map(|h| h.seq), Some(1), "{q}: {hits:#?}");
    }
    // Not in command lines: `cmd:` stays exact.
    assert!(search(&index, "cmd:permission").is_empty());
}

#[test]
fn seen_before_finds_a_fixed_failure_by_its_masked_error_line() {
    let (old, mut old_cmds) = immutable_file(None);
    old_cmds[0].output = "bash: line 1: /srv/a1/app.conf: Operation not permitted".into();
    old_cmds[0].note_errors();
    let index = indexed(&[(old.clone(), old_cmds)]);
    // Another path, another line number: the same error once masked.
    let errors = vec!["bash: line 37: /etc/app.conf: Operation not permitted".to_owned()];
    let hit = index
        .0
        .seen_before(&errors, None)
        .unwrap()
        .expect("seen before");
    assert_eq!((hit.session.as_str(), hit.seq), (old.id.as_str(), 1));
    // Its start (read from the fast field): the session's, plus the command's 2 s.
    assert_eq!(
        hit.started.unix_timestamp(),
        old.started.unix_timestamp() + 2
    );
    assert_eq!(hit.title.as_deref(), Some("immutable config"));
    let fix = hit.fix.expect("with its fix");
    assert_eq!(fix.commands[0].command, "chattr -i app.conf");
    // The session asking is left out; an unknown error, and an unresolved one, say nothing.
    assert!(index
        .0
        .seen_before(&errors, Some(old.id.as_str()))
        .unwrap()
        .is_none());
    let unknown = vec!["zsh: segmentation fault  ./a.out".to_owned()];
    assert!(index.0.seen_before(&unknown, None).unwrap().is_none());
    let unresolved = vec!["cat: /etc/gone: No such file or directory".to_owned()];
    assert!(index.0.seen_before(&unresolved, None).unwrap().is_none());
    assert!(index.0.seen_before(&[], None).unwrap().is_none());
}

#[test]
fn seen_before_prefers_a_marked_fix_then_the_most_recent() {
    let (a, a_cmds) = immutable_file(None);
    let (mut b, mut b_cmds) = immutable_file(None);
    b.started = a.started + time::Duration::days(1);
    b_cmds[3].command = "chattr -i -V app.conf".into();
    let errors = vec!["bash: app.conf: Operation not permitted".to_owned()];
    let index = indexed(&[(a.clone(), a_cmds.clone()), (b.clone(), b_cmds)]);
    let hit = index.0.seen_before(&errors, None).unwrap().unwrap();
    assert_eq!(hit.session, b.id, "the most recent fix");
    let (mut c, c_cmds) = immutable_file(Some(4));
    c.started = a.started - time::Duration::days(30);
    let index = indexed(&[
        (a, a_cmds),
        (b, immutable_file(None).1),
        (c.clone(), c_cmds),
    ]);
    let hit = index.0.seen_before(&errors, None).unwrap().unwrap();
    assert_eq!(hit.session, c.id, "a marked fix, however old");
    assert_eq!(hit.fix.unwrap().found, Found::Marked);
}
