//! Tests of the screen's text (vt100's rendering, scrollback, the plain-lines shortcut).

use super::*;

enum Step<'a> {
    Out(&'a str),
    Resize(u16, u16),
}

fn rec(rows: u16, cols: u16, chunks: &[&str]) -> (u16, u16, Vec<Step<'static>>) {
    let steps = chunks
        .iter()
        .map(|c| Step::Out(Box::leak(c.to_string().into_boxed_str())))
        .collect();
    (rows, cols, steps)
}

fn render((rows, cols, steps): &(u16, u16, Vec<Step<'_>>)) -> String {
    let mut s = ScreenText::new(*rows, *cols);
    for step in steps {
        match step {
            Step::Out(t) => s.write(t.as_bytes()),
            Step::Resize(r, c) => s.resize(*r, *c),
        }
    }
    s.finish().text
}

fn pieces(chunks: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut s = Splitter::default();
    let mut out = Vec::new();
    for c in chunks {
        s.split(c, |p, _| out.push(p.to_vec()));
    }
    out
}

#[test]
fn splitter_isolates_escape_sequences_across_chunks() {
    let got = pieces(&[b"ab\x1b[31mcd\x1b[?10", b"49hx\x1bcy\x1b(Bz"]);
    let want: Vec<&[u8]> = vec![
        b"ab",
        b"\x1b[31m",
        b"cd",
        b"\x1b[?10",
        b"49h",
        b"x",
        b"\x1bc",
        b"y",
        b"\x1b(B",
        b"z",
    ];
    assert_eq!(got, want);
}

#[test]
fn scrolled_lines_are_kept_in_order() {
    let lines: Vec<String> = (0..5000).map(|i| format!("line {i}")).collect();
    let text = lines.join("\r\n");
    // Fed in odd chunk sizes, across the scrollback's capacity.
    let chunks: Vec<&str> = text
        .as_bytes()
        .chunks(777)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let out = render(&rec(24, 80, &chunks));
    assert_eq!(out, lines.join("\n") + "\n");
}

#[test]
fn overwrites_colours_and_wrapping_come_out_as_seen() {
    let out = render(&rec(
        3,
        10,
        &[
            "\x1b[31mred\x1b[0m  \r\n",
            "12345678901234\r\n",
            "abc\rX\r\n",
            "中文é 🎉\r\n",
        ],
    ));
    assert_eq!(out, "red\n12345678901234\nXbc\n中文é 🎉\n");
}

#[test]
fn alternate_screen_and_reset_keep_the_count_right() {
    let out = render(&rec(
        2,
        20,
        &[
            "one\r\ntwo\r\nthree\r\n",
            "\x1b[?1049hfull screen app\r\nmore\r\nmore\r\n\x1b[?1049l",
            "four\r\nfive\r\n",
            "\x1bcsix\r\nseven\r\neight",
        ],
    ));
    assert_eq!(out, "one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\n");
}

#[test]
fn clear_keeps_what_was_on_screen() {
    let out = render(&rec(
        5,
        20,
        &["before\r\n$ clear\r\n", "\x1b[H\x1b[2J\x1b[3J$ after"],
    ));
    assert_eq!(out, "before\n$ clear\n$ after\n");
}

#[test]
fn shrinking_keeps_the_cursor_line() {
    let mut r = rec(6, 20, &["a\r\nb\r\nc\r\nd\r\ne"]);
    r.2.push(Step::Resize(2, 20));
    r.2.push(Step::Out("!\r\nf"));
    assert_eq!(render(&r), "a\nb\nc\nd\ne!\nf\n");
}

#[test]
fn a_full_screen_program_leaves_its_last_screen() {
    let r = rec(
        3,
        20,
        &["\x1b[?1049h\x1b[Hfirst", "\x1b[Hlast screen", "\x1b[?1049l"],
    );
    let mut s = ScreenText::new(3, 20);
    for step in &r.2 {
        if let Step::Out(t) = step {
            s.write(t.as_bytes());
        }
    }
    let out = s.finish();
    assert_eq!(out.alternate.as_deref(), Some("last screen\n"));
    assert_eq!(out.text, "");
}

#[test]
fn the_cap_keeps_head_and_tail() {
    let mut s = ScreenText::with_cap(5, 20, 100);
    for i in 0..1000 {
        s.write(format!("line {i}\r\n").as_bytes());
    }
    let out = s.finish();
    assert!(out.text.starts_with("line 0\nline 1\n"), "{}", out.text);
    assert!(out.text.ends_with("line 999\n"));
    assert!(out.cut_bytes > 8000);
    assert!(out.text.contains("bytes of output cut here"));
    assert!(out.text.len() < 200);
}

#[test]
fn the_scrollback_holds_what_one_piece_pushes() {
    // A whole text piece of line feeds, and the largest scroll, in one piece each.
    let feeds = format!("x{}y", "\n".repeat(TEXT_PIECE));
    let mut whole = ScreenText::new(2, 10);
    whole.write(feeds.as_bytes());
    let mut bytewise = ScreenText::new(2, 10);
    for b in feeds.as_bytes() {
        bytewise.write(std::slice::from_ref(b));
    }
    assert_eq!(whole.finish(), bytewise.finish());
    let lines: Vec<String> = (0..1000).map(|i| format!("l{i}")).collect();
    let mut s = ScreenText::new(1000, 10);
    s.write(format!("{}\x1b[1000Send", lines.join("\r\n")).as_bytes());
    let text = s.finish().text;
    assert!(
        text.starts_with(&format!("{}\n", lines.join("\n"))),
        "lines lost"
    );
    assert!(text.ends_with("end\n"));
}

#[test]
fn absurd_sizes_are_clamped() {
    let out = render(&rec(u16::MAX, u16::MAX, &["hi\x1b[65535S\r\nthere"]));
    assert!(out.contains("hi") && out.ends_with("there\n"), "{out:?}");
}
