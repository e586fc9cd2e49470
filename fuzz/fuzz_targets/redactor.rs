//! The redactor, streaming: any text with a known secret planted on a line of its own
//! (perhaps indented), fed in pieces cut at arbitrary points (and flushed where a line
//! ends, as a non-output event does), optionally with a user pattern. It must never
//! panic, never give a secret back in plain, and keep the pieces' times in order.
#![no_main]

use fixcast_recorder::Rules;
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;

/// Secret lines: the context a detector needs, and the secret itself. Every secret holds
/// a `Z`, and the fuzzer's own text has its `Z`s taken out, so a secret in the output
/// can only be the planted one.
const SECRETS: &[(&str, &str)] = &[
    ("export AWS_ACCESS_KEY_ID=", "AKIAZZZZ0EXAMPLE0001"),
    (
        "aws_secret_access_key = ",
        "FakeSecretKeyZ00000000000000000000000000",
    ),
    ("token ", "ghp_ZAKEfakeFAKEfakeFAKEfakeFAKEfake0001"),
    ("", "glpat-ZAKEfake0000fake0000"),
    ("slack ", "xoxb-0000000000-ZAKEfakeFAKEfake"),
    (
        "curl -H 'Authorization: Bearer ",
        "ZAKEfakeFAKEfake0000.abc",
    ),
    (
        "jwt ",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJmYWtlIn0.ZmFrZXNpZ25hdHVyZQ",
    ),
    ("password=", "fake-pass-Z001"),
    ("passwd: ", "fakepassZ002"),
    ("git clone https://fakeuser:", "fakepassZ003"),
    ("GITHUB_TOKEN=", "Zx9fakeFAKEfake0004"),
];

thread_local! {
    static BUILTIN: Rules = Rules::builtin();
}

fuzz_target!(|data: &[u8]| {
    let _ = run(data);
});

fn run(data: &[u8]) -> Result<()> {
    let mut u = Unstructured::new(data);
    let (context, secret) = *u.choose(SECRETS)?;
    let tail = if secret == "fakepassZ003" {
        "@git.example.com/r"
    } else {
        ""
    };
    let before = own_text(&mut u, 600)?;
    let after = own_text(&mut u, 600)?;
    let line_end = *u.choose(&["\n", "\r\n", "\r"])?;
    // Indented now and then: a line inside a YAML map (`data:`) is looked at by the
    // block rules first.
    let indent = " ".repeat(u.int_in_range(0..=4)?);
    let text = format!("{before}\n{indent}{context}{secret}{tail}{line_end}{after}");
    let custom = if u.ratio(1, 8)? {
        let p = own_text(&mut u, 12)?;
        Rules::with_patterns(&[p]).ok()
    } else {
        None
    };
    let rules = custom.unwrap_or_else(|| BUILTIN.with(Rules::clone));

    let mut r = rules.redactor();
    let mut out: Vec<(u64, String)> = Vec::new();
    let mut at = 0;
    let mut time = 0u64;
    while at < text.len() {
        let mut end = at + u.int_in_range(1..=64usize)?.min(text.len() - at);
        while !text.is_char_boundary(end) {
            end += 1;
        }
        time += 1;
        r.push(time, &text[at..end], &mut out);
        if text[..end].ends_with('\n') && u.ratio(1, 4)? {
            r.flush(&mut out);
        }
        at = end;
    }
    r.flush(&mut out);
    let joined: String = out.iter().map(|(_, s)| s.as_str()).collect();
    assert!(
        !joined.contains(secret),
        "{secret} left in plain:\n{joined:?}"
    );
    assert!(
        out.windows(2).all(|w| w[0].0 <= w[1].0),
        "times out of order"
    );
    Ok(())
}

/// Text from the input with no `Z` (see [`SECRETS`]).
fn own_text(u: &mut Unstructured, max: usize) -> Result<String> {
    Ok(fixcast_fuzz::text(u, max)?.replace('Z', ""))
}
