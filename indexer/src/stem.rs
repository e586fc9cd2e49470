//! Error text across word forms: `permitted` finds `permission`, `denied` finds `deny`.
//! Output is indexed a second time through an English stemmer (beside the exact shell
//! tokens, which stay what a query matches first); a query word also asks for the stems
//! of its word family, where the stemmer alone would not join them.

use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer,
};

/// The name the stemming analyzer is registered under.
pub const STEM_TOKENIZER: &str = "fixcast_stem";

/// Words of one meaning that English stemming leaves apart (`permitted` → `permit`,
/// `permission` → `permiss`).
const FAMILIES: &[&[&str]] = &[
    &[
        "permit",
        "permitted",
        "permission",
        "permissions",
        "permits",
    ],
    &["deny", "denied", "denial", "denies"],
    &["fail", "failed", "failure", "failing", "fails"],
    &["refuse", "refused", "refusal"],
    &["exist", "exists", "existing", "nonexistent", "existent"],
    &["access", "accessible", "inaccessible"],
    &["connect", "connection", "connected", "connecting"],
    &["resolve", "resolution", "resolved", "resolving"],
    &["mount", "mounted", "unmounted", "mounting"],
    &["execute", "executable", "execution", "exec"],
    &["read", "readable", "unreadable"],
    &["write", "writable", "writeable", "unwritable", "written"],
];

pub fn stem_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(64))
        .filter(LowerCaser)
        .filter(Stemmer::new(Language::English))
        .build()
}

/// The stems of `text`'s words, in order.
pub(crate) fn stems(text: &str) -> Vec<String> {
    tokens(stem_analyzer(), text)
}

/// The words of `text` as the stemmer sees them before stemming (lowercased).
pub(crate) fn words(text: &str) -> Vec<String> {
    let analyzer = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(64))
        .filter(LowerCaser)
        .build();
    tokens(analyzer, text)
}

fn tokens(mut analyzer: TextAnalyzer, text: &str) -> Vec<String> {
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

/// The stems a query word stands for: its own, and its family's.
pub(crate) fn family(stem: &str) -> Vec<String> {
    let mut out = vec![stem.to_owned()];
    for fam in FAMILIES {
        let members: Vec<String> = fam.iter().flat_map(|w| stems(w)).collect();
        if members.iter().any(|m| m == stem) {
            for m in members {
                if !out.contains(&m) {
                    out.push(m);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_forms_meet_in_one_family() {
        let permitted = &stems("permitted")[0];
        let permission = &stems("Permission")[0];
        assert!(family(permitted).contains(permission));
        assert!(family(permission).contains(permitted));
        assert_eq!(stems("denied"), stems("deny"));
        assert_eq!(family(&stems("chattr")[0]), vec!["chattr"]);
    }
}
