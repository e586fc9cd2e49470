//! Secrets that span lines, followed line by line: PEM private key blocks (from the
//! `BEGIN` line to the `END` line, however many reads and lines they come in) and the
//! values of a Kubernetes Secret's `data:` / `stringData:` map in YAML.

use regex::Regex;

use super::Edit;

/// The patterns of the block detectors (compiled once, shared by every stream).
pub(super) struct BlockRules {
    begin: Regex,
    end: Regex,
    body: Regex,
    data: Regex,
    entry: Regex,
}

impl BlockRules {
    pub fn new() -> Self {
        let re = |s: &str| Regex::new(s).expect("built-in block pattern compiles");
        BlockRules {
            begin: re(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"),
            end: re(r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"),
            // Base64 lines, and the `Proc-Type:`/`DEK-Info:` headers of encrypted keys.
            body: re(r"^\s*(?:[A-Za-z0-9+/=]{1,128}|[A-Za-z-]+: .*)\s*$"),
            data: re(r"^(\s*(?:-\s+)?)(data|stringData):\s*$"),
            entry: re(r"^(\s*)[^\s:]+:\s+(\S.*?)\s*$"),
        }
    }
}

/// Where a stream stands in the blocks.
#[derive(Debug, Clone, Default)]
pub(super) struct Blocks {
    /// Inside a private key block.
    pem: bool,
    /// Inside a `data:` map (its indentation), and whether it is `stringData:`.
    data: Option<(usize, bool)>,
}

impl Blocks {
    /// Whether every line must be looked at (not only those with a trigger).
    pub fn active(&self) -> bool {
        self.pem || self.data.is_some()
    }

    /// Handles one line: `content` (without its line end) starts at `at`, and the line
    /// with its end runs to `line_end`. True when the line was consumed whole (no other
    /// detector needs to see it).
    pub fn line(
        &mut self,
        rules: &BlockRules,
        content: &str,
        at: usize,
        line_end: usize,
        edits: &mut Vec<Edit>,
    ) -> bool {
        if self.pem {
            if content.trim().is_empty() || rules.body.is_match(content) {
                edits.push(Edit::delete(at, line_end));
                return true;
            }
            if let Some(m) = rules.end.find(content) {
                let rest_blank = content[m.end()..].trim().is_empty();
                edits.push(Edit::delete(
                    at,
                    if rest_blank { line_end } else { at + m.end() },
                ));
                self.pem = false;
                return false;
            }
            // Not key material: the block was cut short (a truncated `cat`).
            self.pem = false;
        }
        if let Some(b) = rules.begin.find(content) {
            match rules.end.find_at(content, b.end()) {
                Some(e) => edits.push(Edit::redact(at + b.start(), at + e.end(), KIND)),
                None => {
                    edits.push(Edit::redact(at + b.start(), at + content.len(), KIND));
                    self.pem = true;
                }
            }
            return true;
        }
        if let Some((indent, plain)) = self.data {
            let own = content.len() - content.trim_start().len();
            if content.trim().is_empty() {
                return true;
            }
            if own <= indent {
                self.data = None;
            } else {
                match rules.entry.captures(content) {
                    Some(c) => {
                        let v = c.get(2).expect("value group");
                        let v_str = v.as_str();
                        let done = v_str.starts_with(super::REDACTED);
                        if done {
                            return true;
                        }
                        if (plain && !matches!(v_str, "|" | ">" | "|-" | ">-"))
                            || looks_base64(v_str)
                        {
                            edits.push(Edit::redact(at + v.start(), at + v.end(), K8S));
                            return true;
                        }
                    }
                    // A continuation line of a `stringData` block value.
                    None if plain && !content.trim().starts_with(super::REDACTED) => {
                        edits.push(Edit::redact(at + own, at + content.trim_end().len(), K8S));
                        return true;
                    }
                    None => {}
                }
                // Not a Secret's value (a ConfigMap's `level: info`, a `|` block's
                // line): the one-line detectors still look at it (`password: …`).
                return false;
            }
        }
        if let Some(c) = rules.data.captures(content) {
            let indent = c.get(1).map_or(0, |m| m.as_str().len());
            self.data = Some((indent, &c[2] == "stringData"));
            return true;
        }
        false
    }
}

const KIND: &str = "private-key";
const K8S: &str = "k8s-secret";

/// A padded base64 value as `kubectl` prints Secret data. Short unpadded words (`info`,
/// `true`, `8080` in a ConfigMap's `data:`) are left alone.
fn looks_base64(v: &str) -> bool {
    let body = v.trim_end_matches('=');
    let padding = v.len() - body.len();
    v.len().is_multiple_of(4)
        && padding <= 2
        && (v.len() >= 8 || padding > 0)
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}
