use super::*;

fn p(s: &str) -> Result<Query, QueryError> {
    parse(s, &ParseContext::default())
}

fn text(field: TextField, t: &str, phrase: bool) -> Term {
    Term::Text {
        field,
        text: t.into(),
        phrase,
    }
}

fn single(q: &Query) -> Vec<(bool, Term)> {
    q.groups
        .iter()
        .map(|g| (g[0].negated, g[0].term.clone()))
        .collect()
}

#[test]
fn bare_words_phrases_and_flags() {
    let q = p(r#"chattr -i "Operation not permitted""#).unwrap();
    assert_eq!(
        single(&q),
        vec![
            (false, text(TextField::Any, "chattr", false)),
            (false, text(TextField::Any, "-i", false)),
            (false, text(TextField::Any, "Operation not permitted", true)),
        ]
    );
}

#[test]
fn dash_excludes_words_but_not_flags() {
    let q = p("error -warning --force -rf NOT x").unwrap();
    let s = single(&q);
    assert_eq!(s[1], (true, text(TextField::Any, "warning", false)));
    assert_eq!(s[2], (false, text(TextField::Any, "--force", false)));
    assert_eq!(s[3], (false, text(TextField::Any, "-rf", false)));
    assert_eq!(s[4], (true, text(TextField::Any, "x", false)));
}

#[test]
fn or_joins_neighbours() {
    let q = p("a b OR c d").unwrap();
    assert_eq!(q.groups.len(), 3);
    assert_eq!(q.groups[1].len(), 2);
    assert!(p("OR a").is_err());
    assert!(p("a OR").is_err());
    assert!(p("a OR OR b").is_err());
}

#[test]
fn fields() {
    let q =
        p(r#"cmd:chmod out:"not permitted" exit:!0 exit:2 session:01j8 suspicious:true tag:prod"#)
            .unwrap();
    let s = single(&q);
    assert_eq!(s[0].1, text(TextField::Cmd, "chmod", false));
    assert_eq!(s[1].1, text(TextField::Out, "not permitted", true));
    assert_eq!(s[2].1, Term::Exit { code: 0, not: true });
    assert_eq!(
        s[3].1,
        Term::Exit {
            code: 2,
            not: false
        }
    );
    assert_eq!(s[4].1, Term::Session("01J8".into()));
    assert_eq!(s[5].1, Term::Suspicious(true));
    assert_eq!(s[6].1, text(TextField::Tag, "prod", false));
}

#[test]
fn colons_that_are_not_fields_are_text() {
    for q in [
        "https://example.com",
        "std::io",
        "10.0.0.12:8080",
        "Error:",
        "\"foo:bar\"",
    ] {
        let s = single(&p(q).unwrap());
        assert!(
            matches!(
                s[0].1,
                Term::Text {
                    field: TextField::Any,
                    ..
                }
            ),
            "{q}"
        );
    }
}

#[test]
fn errors_say_where_and_what_to_do() {
    let e = p("ls comand:chmod").unwrap_err();
    assert_eq!(e.column, 4);
    assert!(
        e.message
            .contains("unknown field 'comand' (did you mean 'cmd'?)"),
        "{e}"
    );
    let e = p("cmd:x \"oops").unwrap_err();
    assert_eq!(e.column, 7);
    assert!(e.message.contains("unclosed quote"), "{e}");
    let e = p("after:2026-13-01").unwrap_err();
    assert_eq!(e.column, 7);
    assert!(e.message.contains("bad date"), "{e}");
    assert!(p("exit:x").unwrap_err().message.contains("exit:!0"));
    assert!(p("   ").unwrap_err().message.contains("empty query"));
    assert!(p("zzzzzz:1").unwrap_err().message.contains("quote it"));
}

#[test]
fn dates() {
    let ctx = ParseContext::default();
    let q = parse("after:2026-01-01 before:7d", &ctx).unwrap();
    let s = single(&q);
    assert_eq!(
        s[0].1,
        Term::After(time::macros::datetime!(2026-01-01 0:00 UTC))
    );
    assert_eq!(s[1].1, Term::Before(ctx.now - Duration::days(7)));
}

#[test]
fn random_bytes_never_panic() {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let alphabet: Vec<char> = "ab:-\"\\ OR NOT exit:!0 after:20 é\u{0}\t)(*"
        .chars()
        .collect();
    for _ in 0..20_000 {
        let len = (x % 24) as usize;
        let s: String = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                alphabet[(x % alphabet.len() as u64) as usize]
            })
            .collect();
        let _ = p(&s);
    }
}

proptest::proptest! {
    #[test]
    fn any_string_parses_or_errs(s in "\\PC*") {
        let _ = p(&s);
    }

    #[test]
    fn any_bytes_lossy_parse_or_err(b in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
        let _ = p(&String::from_utf8_lossy(&b));
    }
}

/// Issue 12 item 10: `cmd:` with no value was the text `cmd:`, which matched nothing.
#[test]
fn a_field_with_no_value_is_an_error_and_unknown_names_stay_text() {
    for (q, column) in [
        ("cmd:", 5),
        ("ls exit:", 9),
        ("cmd: chattr", 5),
        ("-Tag:", 6),
    ] {
        let e = p(q).unwrap_err();
        assert_eq!(e.column, column, "{q}: {e}");
        assert!(e.message.contains("needs a value"), "{q}: {e}");
    }
    let e = p("out:").unwrap_err();
    assert!(e.message.contains("quote it: \"out:\""), "{e}");
    let q = p(r#"error: "cmd:""#).unwrap();
    assert_eq!(
        single(&q),
        vec![
            (false, text(TextField::Any, "error:", false)),
            (false, text(TextField::Any, "cmd:", true)),
        ]
    );
}

/// Issue 12 item 9: `session:last` and `session:last~N`, resolved by the caller.
#[test]
fn session_last_is_resolved_by_the_caller() {
    let mut q = p("session:last session:LAST~2 x").unwrap();
    assert_eq!(single(&q)[0].1, Term::SessionBack(0));
    assert_eq!(single(&q)[1].1, Term::SessionBack(2));
    let mut asked = Vec::new();
    q.resolve_recent(|name| {
        asked.push(name.to_owned());
        Ok::<_, ()>(format!("01j8{}", name.len()))
    })
    .unwrap();
    assert_eq!(asked, ["last", "last~2"]);
    assert_eq!(single(&q)[0].1, Term::Session("01J84".into()));
    assert_eq!(single(&q)[1].1, Term::Session("01J86".into()));
    for bad in ["session:last~", "session:last~x", "session:lastly"] {
        let e = p(bad).unwrap_err();
        assert!(e.message.contains("last~N"), "{bad}: {e}");
    }
}
