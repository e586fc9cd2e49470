//! Error text across word forms: `permitted` finds `permission`, `denied` finds `deny`.
//! Output is indexed a second time through an English stemmer (beside the exact shell
//! tokens, which stay what a query matches first); a query word also asks for the stems
//! of its word family, where the stemmer alone would not join them.
//!
//! Only the words stemming changes are in the stemmed field (`denied` as `deni`; not
//! `error`, `to` or `fail`, which the exact output has as they are): that halves the
//! field. A query asks for a stem in both, see [`query`].

use tantivy::query::{BooleanQuery, Occur, PhraseQuery, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer, Token,
    TokenFilter, TokenStream, Tokenizer,
};
use tantivy::Term;

use crate::schema::Fields;

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

/// What the stemmed field indexes: the stems that differ from their word. Words with a
/// digit (`4321`, `sda1`, `x86`) have no other forms: they are left out too (they were
/// most of its terms and a third of its postings). Phrases keep their places: the
/// others' positions do not move.
pub fn stem_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(64))
        .filter(NoDigits)
        .filter(LowerCaser)
        .filter(Stemmer::new(Language::English))
        .filter(Changed)
        .build()
}

/// Every word's stem (a query's words, whether stemming changes them or not).
fn all_stems() -> TextAnalyzer {
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
    tokens(all_stems(), text)
}

/// The words of `text` as the stemmer sees them before stemming (lowercased), with
/// their positions.
fn words_at(text: &str) -> Vec<(usize, String)> {
    let analyzer = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(64))
        .filter(NoDigits)
        .filter(LowerCaser)
        .build();
    tokens(analyzer, text)
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

/// Keeps the tokens whose text (once the filters before it are done) differs from the
/// lowercased word it came from: the last filter, it sees both.
#[derive(Clone)]
struct Changed;

impl TokenFilter for Changed {
    type Tokenizer<T: Tokenizer> = ChangedTokenizer<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> ChangedTokenizer<T> {
        ChangedTokenizer(tokenizer)
    }
}

#[derive(Clone)]
struct ChangedTokenizer<T>(T);

impl<T: Tokenizer> Tokenizer for ChangedTokenizer<T> {
    type TokenStream<'a> = ChangedStream<'a, T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        ChangedStream(text, self.0.token_stream(text))
    }
}

struct ChangedStream<'a, S>(&'a str, S);

impl<S: TokenStream> TokenStream for ChangedStream<'_, S> {
    fn advance(&mut self) -> bool {
        while self.1.advance() {
            let t = self.1.token();
            let word = self.0.get(t.offset_from..t.offset_to).unwrap_or("");
            if t.text != word.to_lowercase() {
                return true;
            }
        }
        false
    }

    fn token(&self) -> &Token {
        self.1.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.1.token_mut()
    }
}

/// `text` in the stemmed output: each word by its stem or its family's, a phrase in
/// order; `None` where stemming changes nothing (the exact field has said it all:
/// counting the word twice would favour output matches over command matches).
///
/// A stem that is a word as it stands (`fail`, `exist`) is not in the stemmed field
/// where the output has that word: it is asked of the exact output too. A phrase has its
/// other forms only where stemming changes each of its words.
pub(crate) fn query(f: &Fields, text: &str, phrase: bool) -> Option<Box<dyn Query>> {
    let stems = stems_at(text);
    let words = words_at(text);
    let kept = |(s, w): &(&(usize, String), &(usize, String))| s.1 != w.1 || family(&s.1).len() > 1;
    let pairs: Vec<_> = stems.iter().zip(&words).collect();
    if stems.len() != words.len() || !pairs.iter().any(kept) {
        return None;
    }
    let term = |field, s: &str| -> Box<dyn Query> {
        Box::new(TermQuery::new(
            Term::from_field_text(field, s),
            IndexRecordOption::WithFreqs,
        ))
    };
    let one = |stem: &str| -> Box<dyn Query> {
        let mut alts: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for s in family(stem) {
            alts.push((Occur::Should, term(f.out_stem, &s)));
            if let Some(exact) = crate::tokenizer::normalize(&s) {
                alts.push((Occur::Should, term(f.out, &exact)));
            }
        }
        Box::new(BooleanQuery::new(alts))
    };
    match stems.as_slice() {
        [] => None,
        [(_, s)] => Some(one(s)),
        _ if phrase => {
            // The stemmed field has only the stems that differ from their words, at their
            // places: a phrase with a word stemming leaves alone cannot be checked there
            // (a word beside a stem in the exact output is another field's position), and
            // its words in any order are no phrase ("memory out of" for "out of
            // memory"). Such a phrase is matched as it is written.
            let (changed, same): (Vec<_>, Vec<_>) = pairs.into_iter().partition(kept);
            if !same.is_empty() {
                return None;
            }
            let first = changed.first().map_or(0, |(s, _)| s.0);
            Some(Box::new(PhraseQuery::new_with_offset(
                changed
                    .iter()
                    .map(|(s, _)| (s.0 - first, Term::from_field_text(f.out_stem, &s.1)))
                    .collect(),
            )))
        }
        _ => Some(Box::new(BooleanQuery::new(
            stems.iter().map(|s| (Occur::Must, one(&s.1))).collect(),
        ))),
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
    fn only_what_stemming_changes_is_indexed() {
        let indexed = tokens(
            stem_analyzer(),
            "Failed to start: permission Denied 13 times",
        );
        assert_eq!(
            indexed,
            vec![
                (0, "fail".to_owned()),
                (3, "permiss".to_owned()),
                (4, "deni".to_owned()),
                (6, "time".to_owned())
            ]
        );
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
