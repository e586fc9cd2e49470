//! How output is indexed and found again: words with digits by their pieces, the stemmed
//! copy's word forms, snippets made from the output the index keeps.

use crate::tests::{cmd, index_of, search, session};

#[test]
fn output_words_with_digits_are_found_as_typed_by_their_pieces() {
    let i = index_of(&[session(
        "upstream down",
        vec![
            cmd(
                1,
                "tail -n1 /var/log/nginx/error.log",
                "nginx[4321]: connect() to 10.0.3.17:8443 failed (111: Connection refused)",
                Some(0),
            ),
            cmd(
                2,
                "tail -n1 app.log",
                "app[77]: upstream 10.0.3.170:80 is down",
                Some(0),
            ),
            cmd(
                3,
                "dmesg | tail -n1",
                "[  812.004113] EXT4-fs error (device sda1)",
                Some(0),
            ),
            cmd(
                4,
                "tail -n1 access.log",
                "GET http://10.0.9.9:8080/healthz 200",
                Some(0),
            ),
        ],
    )]);
    let seqs = |q: &str| search(&i, q).iter().map(|h| h.seq).collect::<Vec<_>>();
    assert_eq!(seqs("out:10.0.3.17"), vec![1]);
    assert_eq!(seqs("out:10.0.3.17:8443"), vec![1]);
    assert_eq!(seqs("out:\":8443\""), vec![1]);
    assert_eq!(seqs("out:nginx[4321]:"), vec![1]);
    assert_eq!(seqs("\"to 10.0.3.17:8443 failed\""), vec![1]);
    assert_eq!(seqs("\"812.004113] EXT4-fs error\""), vec![3]);
    assert_eq!(seqs("out:10.0.3.170"), vec![2]);
    assert!(seqs("out:10.0.3.18").is_empty());
    // An address inside a URL is found as typed.
    assert_eq!(seqs("out:10.0.9.9"), vec![4]);
    // The snippet highlights the address.
    let hit = &search(&i, "out:10.0.3.17")[0];
    let lit: Vec<&str> = hit
        .snippet
        .highlights
        .iter()
        .map(|r| &hit.snippet.text[r.clone()])
        .collect();
    assert!(lit.contains(&"10.0.3.17"), "{lit:?}");
}

/// A hit's snippet is made from the output text the caller hands back for it (the index
/// keeps no copy: the recordings have it).
#[test]
fn a_snippet_is_made_from_the_output_handed_back() {
    let output = "make[1]: Entering directory\nerror: marker-word seen\n";
    let (m, c) = session("big", vec![cmd(1, "make", output, Some(2))]);
    let i = index_of(&[(m, c)]);
    let hits = search(&i, "marker-word");
    assert_eq!(hits.len(), 1);
    let s = &hits[0].snippet;
    assert!(s.text.contains("marker-word seen"), "{s:?}");
    assert_eq!(&s.text[s.highlights[0].clone()], "marker-word");
}

/// A snippet holds the whole line of its match: tantivy's fragment, cut at a count of
/// characters, ended inside it (`cat: missing.conf: No such file or`).
#[test]
fn a_snippet_ends_at_the_end_of_its_line() {
    let mut output: String = (101..141).map(|n| format!("{n}\n")).collect();
    output.push_str("cat: missing.conf: No such file or directory\n");
    let (m, c) = session(
        "lines",
        vec![cmd(1, "seq 101 140; cat missing.conf", &output, Some(1))],
    );
    let i = index_of(&[(m, c)]);
    let hits = search(&i, "missing.conf");
    let s = &hits[0].snippet;
    assert!(
        s.text
            .ends_with("cat: missing.conf: No such file or directory"),
        "{s:?}"
    );
    for r in &s.highlights {
        assert!(
            s.text[r.clone()].eq_ignore_ascii_case("missing.conf")
                || s.text[r.clone()].eq_ignore_ascii_case("missing")
                || s.text[r.clone()].eq_ignore_ascii_case("conf"),
            "{s:?}"
        );
    }
}

/// The stemmed field has only the words stemming changes: a word that is its own stem
/// (`fail`, `exist`) is found by its other forms through the exact output, and the words
/// of a query, unquoted, by the forms they stand in.
#[test]
fn a_word_that_is_its_own_stem_is_found_by_its_other_forms() {
    // One session each: matches by another form alone stand for their session once.
    let sessions = vec![
        session("a", vec![cmd(1, "make", "step 3: fail", Some(2))]),
        session("b", vec![cmd(2, "test -e x", "does not exist", Some(1))]),
        session(
            "c",
            vec![cmd(
                3,
                "systemctl start app",
                "app.service fails to start",
                Some(1),
            )],
        ),
    ];
    let i = index_of(&sessions);
    let seqs = |q: &str| {
        let mut s: Vec<u32> = search(&i, q).iter().map(|h| h.seq).collect();
        s.sort();
        s
    };
    assert_eq!(seqs("failure"), vec![1, 3]);
    assert_eq!(seqs("out:exists"), vec![2]);
    assert_eq!(seqs("failed to start"), vec![3]);
    assert!(seqs("\"failed to stop\"").is_empty());
}

/// A word glued to one with a digit in output (a CSV line of `mactime`) is indexed by its
/// atoms alone: a phrase naming it by its core (`payload.sh`) found nothing once the
/// stemmed copy no longer held every word (the demo's `"payload.sh (deleted)"`).
#[test]
fn a_phrase_finds_a_word_output_glued_to_digits() {
    let sessions = vec![session(
        "a",
        vec![
            cmd(
                1,
                "mactime -b body.txt -d",
                "Tue Dec 01 2026 18:12:58,70,macb,r/rrw-r--r--,0,0,13,\"/payload.sh (deleted)\"\n",
                Some(0),
            ),
            cmd(
                2,
                "debugfs -R 'write payload.sh payload.sh' disk.img",
                "Allocated inode: 13\n",
                Some(0),
            ),
        ],
    )];
    let i = index_of(&sessions);
    for q in [
        "\"payload.sh (deleted)\"",
        "out:\"payload.sh (deleted)\"",
        "out:\"/payload.sh (deleted)\"",
    ] {
        let seqs: Vec<u32> = search(&i, q).iter().map(|h| h.seq).collect();
        assert_eq!(seqs, vec![1], "{q}");
    }
    // Still a phrase: the words in another order are not it.
    assert!(search(&i, "out:\"(deleted) payload.sh\"").is_empty());
}

/// The index keeps no copy of the output (it was a quarter of the index): without the
/// text handed back, a hit still matches by its output but has no snippet.
#[test]
fn the_index_keeps_no_copy_of_the_output() {
    let (m, c) = session(
        "big",
        vec![cmd(1, "make", "error: marker-word seen\n", Some(2))],
    );
    let i = index_of(&[(m, c)]);
    let hits = search(&i.index, "marker-word");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].snippet.text, "");
}

/// A long output is kept, for its snippet: rendering it again would cost a search more
/// than reading it (a 20 MB `seq` took a second).
#[test]
fn a_long_output_is_kept_for_its_snippet() {
    let mut long: String = (0..3000).map(|n| format!("line {n}\n")).collect();
    long.push_str("error: far-marker at the end\n");
    let (m, c) = session("big", vec![cmd(1, "make", &long, Some(2))]);
    let i = index_of(&[(m, c)]);
    let hits = search(&i.index, "far-marker");
    assert_eq!(hits.len(), 1);
    assert!(
        hits[0].snippet.text.contains("far-marker at the end"),
        "{:?}",
        hits[0].snippet
    );
}

/// What the index hands the output source for each hit is what rendering it again from
/// the session's commands takes ([`fixcast_sessions::again_from`], the terminal's size):
/// a search renders snippets without reading the session's commands.
#[test]
fn each_hit_comes_with_where_its_output_is_rendered_again_from() {
    use fixcast_sessions::{again_from, Again, CommandSource};
    use std::collections::HashMap;
    use std::sync::Mutex;

    struct Asked(Mutex<Vec<Again>>);
    impl crate::Outputs for Asked {
        fn outputs(&self, _: &str, wanted: &[Again]) -> HashMap<u32, String> {
            self.0.lock().unwrap().extend(wanted.iter().cloned());
            HashMap::new()
        }
    }

    let mut cmds: Vec<_> = (1..=5)
        .map(|i| cmd(i, &format!("probe-{i} x"), "some output", Some(0)))
        .collect();
    cmds[0].size = Some((80, 24));
    cmds[1].size = Some((80, 24));
    // Cut at Enter: rendered from its own start.
    cmds[2].size = Some((132, 43));
    cmds[2].source = CommandSource::Heuristic;
    cmds[3].size = Some((132, 43));
    // Its size not known (a cache an older fixcast made): from the recording's start.
    cmds[4].size = None;
    let (meta, cmds) = session("again", cmds);
    let i = index_of(&[(meta, cmds.clone())]);
    let asked = Asked(Mutex::new(Vec::new()));
    let q = crate::parse("x", &crate::ParseContext::default()).unwrap();
    let hits = i.index.search(&q, 10, &asked).unwrap();
    assert_eq!(hits.len(), 5);
    let mut got = asked.0.into_inner().unwrap();
    got.sort_by_key(|a| a.record.seq);
    type Told = (u32, u64, Option<(u16, u16)>, CommandSource);
    let wanted: Vec<Told> = (0..cmds.len())
        .map(|n| {
            let c = &cmds[n];
            (c.seq, again_from(&cmds, n), c.size, c.source)
        })
        .collect();
    let got: Vec<_> = got
        .iter()
        .map(|a| (a.record.seq, a.from, a.record.size, a.record.source))
        .collect();
    assert_eq!(got, wanted);
    // Not all from the start: the first from 0, the second from the first's end, the one
    // cut at Enter from its own start, the unsized one from 0.
    assert_eq!(
        got.iter().map(|g| g.1).collect::<Vec<_>>(),
        [0, 1_500_000, 3_000_000, 3_500_000, 0]
    );
    let ends: Vec<(f64, f64)> = hits
        .iter()
        .map(|h| (h.offset, h.offset + h.duration))
        .collect();
    assert!(ends.iter().all(|&(s, e)| e - s == 0.5), "{ends:?}");
}
