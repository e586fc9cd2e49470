//! Error text across word forms: `permitted` finds `permission`, `denied` finds `deny`.
//! Output is indexed a second time through an English stemmer (beside the exact shell
//! tokens, which stay what a query matches first); a query word also asks for the stems
//! of its word family, where the stemmer alone would not join them.

use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer, Token,
    TokenFilter, TokenStream, Tokenizer,
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

/// Words with a digit (`4321`, `sda1`, `x86`) have no other forms: they are left out of
/// the stemmed field (the exact one has them), where they were most of its terms and a
/// third of its postings. Phrases keep their places: the others' positions do not move.
pub fn stem_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(64))
        .filter(NoDigits)
        .filter(LowerCaser)
        .filter(Stemmer::new(Language::English))
        .build()
}

/// The stems of `text`'s words, in order.
pub(crate) fn stems(text: &str) -> Vec<String> {
    stems_at(text).into_iter().map(|s| s.1).collect()
}

/// The stems of `text`'s words with their positions (a word with a digit leaves a gap).
pub(crate) fn stems_at(text: &str) -> Vec<(usize, String)> {
    tokens(stem_analyzer(), text)
}

/// The words of `text` as the stemmer sees them before stemming (lowercased).
pub(crate) fn words(text: &str) -> Vec<String> {
    let analyzer = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(64))
        .filter(NoDigits)
        .filter(LowerCaser)
        .build();
    tokens(analyzer, text).into_iter().map(|s| s.1).collect()
}

fn tokens(mut analyzer: TextAnalyzer, text: &str) -> Vec<(usize, String)> {
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        let t = stream.token();
        out.push((t.position, t.text.clone()));
    }
    out
}

/// Drops tokens with an ASCII digit in them.
#[derive(Clone)]
struct NoDigits;

impl TokenFilter for NoDigits {
    type Tokenizer<T: Tokenizer> = NoDigitsTokenizer<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> NoDigitsTokenizer<T> {
        NoDigitsTokenizer(tokenizer)
    }
}

#[derive(Clone)]
struct NoDigitsTokenizer<T>(T);

impl<T: Tokenizer> Tokenizer for NoDigitsTokenizer<T> {
    type TokenStream<'a> = NoDigitsStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        NoDigitsStream(self.0.token_stream(text))
    }
}

struct NoDigitsStream<S>(S);

impl<S: TokenStream> TokenStream for NoDigitsStream<S> {
    fn advance(&mut self) -> bool {
        while self.0.advance() {
            if !self.0.token().text.bytes().any(|b| b.is_ascii_digit()) {
                return true;
            }
        }
        false
    }

    fn token(&self) -> &Token {
        self.0.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.0.token_mut()
    }
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

    #[test]
    fn words_with_digits_leave_a_gap() {
        assert_eq!(
            stems_at("errno 13 denied on sda1 now"),
            vec![
                (0, "errno".to_owned()),
                (2, "deni".to_owned()),
                (3, "on".to_owned()),
                (5, "now".to_owned())
            ]
        );
    }
}
