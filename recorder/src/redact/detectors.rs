//! The built-in detectors of one-line secrets: tokens with a recognisable prefix, and
//! values that follow a telling key (`password=`, `Authorization: Bearer`).
//!
//! Every value class excludes whitespace and control characters, so a match never takes
//! an escape sequence (or part of one) with it. A value after a key ends where the shell
//! word ends (`;`, `&`, `|`, `)`, `<`, `>`, a backtick, a quote), or at the quote that
//! opened it: the replacement covers the secret and nothing else, so
//! `export API_TOKEN=…; echo $API_TOKEN` keeps its `;`.

use regex::Regex;

/// Substrings without which no detector here, nor a block in [`super::blocks`], can
/// match a line: most output has none of them, and is passed on after one fast scan.
/// Matched as they are (token prefixes are case-sensitive, and a case-blind `eyj` or
/// `pwd` would hit every few KiB of base64): words come in their usual three cases.
pub(super) fn triggers() -> Vec<String> {
    const EXACT: &[&str] = &[
        "AKIA",
        "ASIA",
        "ghp_",
        "gho_",
        "ghu_",
        "ghs_",
        "ghr_",
        "github_pat_",
        "glpat-",
        "xox",
        "eyJ",
        "-----BEGIN",
        "://",
        "SecretAccessKey",
        "SessionToken",
        "ApiKey",
        "client-key-data",
        "Data:",
    ];
    const WORDS: &[&str] = &[
        "secret",
        "token",
        "bearer",
        "authorization",
        "passw",
        "pwd",
        "data:",
        "api_key",
        "apikey",
        "access_key",
        "private_key",
    ];
    let mut all: Vec<String> = EXACT.iter().map(|s| s.to_string()).collect();
    for w in WORDS {
        let mut cap = w.to_string();
        cap[..1].make_ascii_uppercase();
        all.extend([w.to_string(), w.to_ascii_uppercase(), cap]);
    }
    all
}

/// One kind of secret: the regex, and which group of it is the secret (0: all of it;
/// otherwise the first group from `group` on that took part, so a quoted and an
/// unquoted value can be alternatives with a group each).
pub(super) struct Detector {
    pub kind: &'static str,
    pub re: Regex,
    pub group: usize,
}

/// A character of an unquoted value: anything but whitespace, quotes, what ends a shell
/// word (`;&|)<>` and the backtick) and control characters.
const WORD: &str = r#"[^\s"'`&;|)<>\x00-\x1f\x7f]"#;

/// A character between double quotes: the closing quote, whitespace, a backtick
/// (a command inside) and control characters end it; `;`, `&`, `|` are the value's.
const IN_DOUBLE: &str = r#"[^\s"`\x00-\x1f\x7f]"#;

/// A character between single quotes.
const IN_SINGLE: &str = r#"[^\s'\x00-\x1f\x7f]"#;

/// A value after `password=` and the like, each shape with its own group: between
/// double quotes, between single quotes, or a shell word (where `,` also ends it, as in
/// `password=x,user=y`).
fn value() -> String {
    format!(r#"(?:"({IN_DOUBLE}+)|'({IN_SINGLE}+)|([[^,]&&{WORD}]+))"#)
}

/// [`value`] that is not a path: the shell's own `PWD=/root` and `OLDPWD=/tmp` (every
/// `env`) hold directories, not passwords.
fn value_not_path() -> String {
    format!(
        r#"(?:"([[^/]&&{IN_DOUBLE}]{IN_DOUBLE}*)|'([[^/]&&{IN_SINGLE}]{IN_SINGLE}*)|([[^,/]&&{WORD}][[^,]&&{WORD}]*))"#
    )
}

pub(super) fn builtin() -> Vec<Detector> {
    let d = |kind, re: &str, group| Detector {
        kind,
        re: Regex::new(re).expect("built-in redaction pattern compiles"),
        group,
    };
    vec![
        // Access key ids are 20 characters; a shorter tail is one cut by a line wrap.
        d("aws-key", r"(?:AKIA|ASIA)[0-9A-Z]{12,16}", 0),
        d(
            "aws-secret",
            r#"(?i)(?:aws_?secret_?access_?key|secretaccesskey|aws_?session_?token|sessiontoken)["']?\s*[:=]\s*["']?([A-Za-z0-9/+]{16,}={0,2})"#,
            1,
        ),
        d(
            "github-token",
            r"(?:gh[pousr]_[A-Za-z0-9]{8,255}|github_pat_[A-Za-z0-9_]{8,255})",
            0,
        ),
        d("gitlab-token", r"glpat-[A-Za-z0-9_\-]{8,}", 0),
        d("slack-token", r"xox[baprs]-[A-Za-z0-9\-]{8,}", 0),
        d("bearer", r"(?i)\bbearer\s+([A-Za-z0-9\-._~+/]{16,}=*)", 1),
        d(
            "basic-auth",
            r"(?i)\bauthorization\s*:\s*basic\s+([A-Za-z0-9+/]{8,}=*)",
            1,
        ),
        // Header and payload both start `eyJ` (`{"`); the signature may be cut by a wrap.
        d(
            "jwt",
            r"eyJ[A-Za-z0-9_\-]{5,}\.eyJ[A-Za-z0-9_\-]{5,}(?:\.[A-Za-z0-9_\-]*)?",
            0,
        ),
        d(
            "password",
            &format!(
                r#"(?i)(?:pass(?:word|wd)["']?\s*[:=]\s*{}|pwd["']?\s*[:=]\s*{})"#,
                value(),
                value_not_path()
            ),
            1,
        ),
        d(
            "url-password",
            r#"(?i)\b[a-z][a-z0-9+.\-]{1,20}://[^\s:/@'"]+:([^\s@/'"]+)@"#,
            1,
        ),
        // `KEY=value` as `env` prints it, for names that say what they hold.
        d(
            "secret",
            // A value starting `$` or `/` is a variable or a path (`TOKEN_FILE=/run/…`).
            &format!(
                r#"(?i)\b[A-Z0-9_]*(?:SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY)[A-Z0-9_]*=(?:"([[^$/]&&{IN_DOUBLE}]{IN_DOUBLE}{{7,}})|'([[^$/]&&{IN_SINGLE}]{IN_SINGLE}{{7,}})|([[^$/]&&{WORD}]{WORD}{{7,}}))"#
            ),
            1,
        ),
        // YAML `token:` (kubeconfig users) and `client-key-data:` (a private key, base64).
        d(
            "token",
            &format!(r#"(?i)(?:^|\s)token:\s+["']?({WORD}{{16,}})"#),
            1,
        ),
        d(
            "private-key",
            r#"(?i)\bclient-key-data:\s+["']?([A-Za-z0-9+/=]{8,})"#,
            1,
        ),
    ]
}
