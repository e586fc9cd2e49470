//! Commands typed with look-alike characters (`kubeсtl` with a Cyrillic `с`): found by
//! their ASCII twin and marked suspicious, after UTS #39 (confusable skeletons and
//! mixed-script detection).

use serde::{Deserialize, Serialize};
use unicode_security::{is_potential_mixed_script_confusable_char, skeleton, MixedScript};

/// A character in a command that could pass for another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confusable {
    /// The character itself.
    pub char: char,
    /// `U+0441`.
    pub code_point: String,
    /// What it looks like, when that is ASCII (`c`); else empty.
    pub looks_like: String,
}

impl std::fmt::Display for Confusable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {:?}", self.code_point, self.char)?;
        if !self.looks_like.is_empty() {
            write!(f, " looks like {:?}", self.looks_like)?;
        }
        Ok(())
    }
}

/// The ASCII look-alike of a non-ASCII character, if it has one (`с` → `c`).
fn ascii_twin(c: char) -> Option<String> {
    if c.is_ascii() {
        return None;
    }
    let mut buf = [0u8; 4];
    let s: String = skeleton(c.encode_utf8(&mut buf)).collect();
    (!s.is_empty() && s.is_ascii()).then_some(s)
}

/// The characters of `text` that make it suspicious: non-ASCII characters confusable
/// with ASCII, and confusable characters in words that mix scripts. Each is listed once.
pub fn suspicious_chars(text: &str) -> Vec<Confusable> {
    let mut found: Vec<Confusable> = Vec::new();
    if text.is_ascii() {
        return found;
    }
    for word in text.split(|c: char| c.is_ascii_whitespace()) {
        if word.is_ascii() {
            continue;
        }
        let mixed = !word.is_single_script();
        for c in word.chars().filter(|c| !c.is_ascii()) {
            let twin = ascii_twin(c);
            let flagged = twin.is_some() || (mixed && is_potential_mixed_script_confusable_char(c));
            if flagged && !found.iter().any(|f| f.char == c) {
                found.push(Confusable {
                    char: c,
                    code_point: format!("U+{:04X}", c as u32),
                    looks_like: twin.unwrap_or_default(),
                });
            }
        }
    }
    found
}

/// `text` with each character that has an ASCII look-alike replaced by it, so that
/// `kubeсtl` is indexed as `kubectl` too. `None` when that changes nothing.
pub fn ascii_twin_text(text: &str) -> Option<String> {
    if text.is_ascii() {
        return None;
    }
    let mut changed = false;
    let twin: String = text
        .chars()
        .map(|c| match ascii_twin(c) {
            Some(t) => {
                changed = true;
                t
            }
            None => c.to_string(),
        })
        .collect();
    changed.then_some(twin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cyrillic_es_in_kubectl_is_suspicious_and_has_a_twin() {
        let s = suspicious_chars("kubeсtl get pods");
        assert_eq!(s.len(), 1, "{s:?}");
        assert_eq!(s[0].code_point, "U+0441");
        assert_eq!(s[0].looks_like, "c");
        assert_eq!(
            ascii_twin_text("kubeсtl get pods").unwrap(),
            "kubectl get pods"
        );
    }

    #[test]
    fn plain_text_and_honest_accents_are_not() {
        assert!(suspicious_chars("ls -la /etc").is_empty());
        assert!(suspicious_chars("echo café naïve 中文 ✓").is_empty());
        assert!(ascii_twin_text("echo café").is_none());
    }

    #[test]
    fn a_whole_word_in_another_script_is_flagged_only_for_confusables() {
        // Cyrillic `рs` (er + Latin s): mixed, and `р` looks like `p`.
        let s = suspicious_chars("рs aux");
        assert_eq!(s[0].code_point, "U+0440");
    }
}
