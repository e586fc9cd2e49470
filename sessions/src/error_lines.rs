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
