//! Which lines of a command's output read as errors: what a failure is known by.

/// Words that tell an error line from other output (lowercase).
const ERROR_WORDS: &[&str] = &[
    "error",
    "denied",
    "not permitted",
    "no such",
    "not found",
    "refused",
    "failed",
    "failure",
    "fatal",
    "cannot",
    "can't",
    "could not",
    "couldn't",
    "unable to",
    "traceback",
    "exception",
    "read-only file system",
    "bad interpreter",
    "invalid",
    "not empty",
    "timed out",
    "unknown",
    "unrecognized",
    "segmentation fault",
    "panic",
    "no space left",
    "please tell me who you are",
    "expecting",
    "missing",
    "not a directory",
    "is a directory",
    "already in use",
    "unreachable",
];

/// How many error lines a command keeps.
pub const ERROR_LINES: usize = 3;

/// The first lines of `output` that read as errors (at most [`ERROR_LINES`], each
/// trimmed and at most 300 bytes).
pub fn error_lines(output: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in output.lines() {
        let t = line.trim();
        if t.is_empty() || t.len() > 2000 {
            continue;
        }
        let lower = t.to_lowercase();
        if ERROR_WORDS.iter().any(|w| lower.contains(w)) {
            let mut cut = t.len().min(300);
            while !t.is_char_boundary(cut) {
                cut -= 1;
            }
            out.push(t[..cut].to_owned());
            if out.len() == ERROR_LINES {
                break;
            }
        }
    }
    out
}

/// What an error line is known by across runs: lower-cased, with what changes from one
/// run to the next masked (quoted names `'…'`, paths `/…`, ids and hex `#`, runs of
/// digits `0`) and blanks squeezed. `chattr: Operation not permitted while setting
/// flags on /etc/app.conf` and `… on /srv/app2.conf` have one signature. The same
/// function makes the index's keys and `rec`'s look-ups, so they always meet.
pub fn error_signature(line: &str) -> String {
    let unquoted = mask_quoted(&line.to_lowercase());
    let mut out = String::with_capacity(unquoted.len());
    for word in unquoted.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        // Punctuation around a word (`(/tmp/x):`) stays: it is part of the message.
        let start = word.find(|c: char| !is_edge(c)).unwrap_or(word.len());
        let core = word[start..].trim_end_matches(is_edge);
        let end = start + core.len();
        out.push_str(&word[..start]);
        out.push_str(&mask_word(core));
        out.push_str(&word[end..]);
    }
    out
}

fn is_edge(c: char) -> bool {
    matches!(
        c,
        '(' | ')' | '[' | ']' | '{' | '}' | '<' | '>' | ',' | ';' | ':' | '.' | '!' | '?'
    )
}

/// A quoted name (`'app.conf'`, `"x y"`, `` `x' ``, `‘x’`) becomes `'…'`. A quote that
/// follows a letter (`can't`) opens nothing.
fn mask_quoted(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let close = match c {
            '\'' | '"' => Some(c),
            '`' => Some('\''),
            '‘' => Some('’'),
            '“' => Some('”'),
            _ => None,
        };
        let opens = i == 0 || !chars[i - 1].is_alphanumeric();
        if let (Some(close), true) = (close, opens) {
            let found = chars[i + 1..]
                .iter()
                .take(200)
                .position(|&d| d == close || (c == '`' && d == '`'));
            if let Some(n) = found {
                out.push_str("'…'");
                i += n + 2;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

/// One word: a path is `/…` (a file name such as `app.conf` or `.bashrc` is a path
/// relative to where the command ran), an id (long hex, or long letters and digits
/// mixed) is `#`, other digits are `0` per run.
fn mask_word(w: &str) -> String {
    if w.contains('/') || is_file_name(w) {
        return "/…".into();
    }
    let alnum = w.chars().filter(|c| c.is_ascii_alphanumeric()).count();
    let digits = w.chars().filter(|c| c.is_ascii_digit()).count();
    let hex = w.len() >= 6 && digits > 0 && w.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    let id = alnum >= 16 && digits > 0 && digits < alnum;
    if hex || id {
        return "#".into();
    }
    digits_masked(w)
}

/// `w` with each run of digits made one `0` (`pid 4711` and `pid 12` read alike): what
/// error signatures and command-line normalisation share.
pub(crate) fn digits_masked(w: &str) -> String {
    let mut out = String::with_capacity(w.len());
    let mut in_digits = false;
    for c in w.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                out.push('0');
            }
            in_digits = true;
        } else {
            out.push(c);
            in_digits = false;
        }
    }
    out
}

/// `app.conf`, `.bashrc`, `ld-linux-x86-64.so.2`: a dot between (or before) letters or
/// digits, and a letter somewhere; `1.5` and `...` are not names.
fn is_file_name(w: &str) -> bool {
    let b = w.as_bytes();
    let dotted = (0..b.len()).any(|i| {
        b[i] == b'.'
            && b.get(i + 1).is_some_and(u8::is_ascii_alphanumeric)
            && (i == 0 || b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_' || b[i - 1] == b'-')
    });
    dotted && b.iter().any(u8::is_ascii_alphabetic)
}

#[cfg(test)]
mod tests {
    use super::error_signature as sig;

    #[test]
    fn a_signature_masks_what_changes_between_runs() {
        let a = sig("chattr: Operation not permitted while setting flags on /etc/app.conf");
        assert_eq!(
            a,
            "chattr: operation not permitted while setting flags on /…"
        );
        assert_eq!(
            a,
            sig("chattr:  Operation not permitted while setting flags on /srv/app2.conf")
        );
        assert_eq!(
            sig("bash: line 12: cd: /tmp/x: No such file or directory"),
            sig("bash: line 3: cd: /var/tmp/y: No such file or directory")
        );
        assert_eq!(
            sig("error: container 3f2a9c1be0d4 is not running (pid 4711)"),
            "error: container # is not running (pid 0)"
        );
        assert_eq!(
            sig("cp: cannot stat 'old file.txt': No such file"),
            "cp: cannot stat '…': no such file"
        );
        assert_eq!(
            sig("session 01J8BSC2XK4M5N6P7Q8R9S0T1V not found"),
            "session # not found"
        );
        // What the error says stays: another error, another signature.
        assert_ne!(
            a,
            sig("chattr: Permission denied while setting flags on /etc/a")
        );
        // A file name is a path relative to where the command ran: another file, the
        // same failure (the demo's `app.conf` is known when `other.conf` fails).
        assert_eq!(
            sig("bash: other.conf: Operation not permitted"),
            sig("bash: app.conf: Operation not permitted")
        );
        assert_eq!(sig("can't open app.conf"), "can't open /…");
        assert_eq!(sig("cannot read ~/.bashrc"), "cannot read /…");
        assert_eq!(sig("python3.11: error"), "/…: error");
        // Numbers and ellipses are not names; a sentence's full stop is punctuation.
        assert_eq!(sig("timeout after 1.5 s"), "timeout after 0.0 s");
        assert_eq!(sig("failed... retrying"), "failed... retrying");
        assert_eq!(sig("Permission denied."), "permission denied.");
        assert_eq!(sig("   "), "");
    }
}
