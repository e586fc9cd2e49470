//! A parsed [`Query`] turned into a tantivy query over the schema.

use std::ops::Bound;

use tantivy::query::{
    AllQuery, BooleanQuery, EmptyQuery, Occur, PhraseQuery, Query as TQuery, RangeQuery,
    RegexQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DateTime, Term as TTerm};

use crate::boosted::boosted;
use crate::excluding::Excluding;
use crate::phrase::{Part, PhraseInFields};
use crate::query::{Clause, Query, Term, TextField};
use crate::schema::Fields;
use crate::tokenizer::{atoms_only, normalize, words};

/// How much a match in each field counts: commands first.
const BOOST_CMD: f32 = 4.0;
const BOOST_TITLE: f32 = 2.0;
const BOOST_TAGS: f32 = 2.0;
const BOOST_NOTES: f32 = 1.0;
const BOOST_OUT: f32 = 1.0;
/// A word matched only in another form counts for less than as typed.
const BOOST_STEM: f32 = 0.5;

pub(crate) fn plan(q: &Query, f: &Fields) -> Box<dyn TQuery> {
    let mut must = Vec::new();
    let mut positive = false;
    for group in &q.groups {
        if let [one] = group.as_slice() {
            let occur = if one.negated {
                Occur::MustNot
            } else {
                positive = true;
                Occur::Must
            };
            must.push((occur, term_query(&one.term, f)));
        } else {
            positive = true;
            must.push((Occur::Must, any_of(group, f)));
        }
    }
    if !positive {
        // Only exclusions: everything else.
        must.push((Occur::Must, Box::new(AllQuery)));
    }
    all_of(must)
}

/// Every one of these clauses. One required clause is that clause itself: the same score,
/// and a union of words under it stays one that can skip what cannot enter the page
/// (block-WAND), which a conjunction around it cannot. Exclusions beside what is required
/// are looked at only for what may enter the page ([`Excluding`]).
fn all_of(mut must: Vec<(Occur, Box<dyn TQuery>)>) -> Box<dyn TQuery> {
    if matches!(must.as_slice(), [(Occur::Must, _)]) {
        if let Some((_, q)) = must.pop() {
            return q;
        }
    }
    let excluded: Vec<Box<dyn TQuery>> = must
        .iter()
        .filter(|(o, _)| *o == Occur::MustNot)
        .map(|(_, q)| q.box_clone())
        .collect();
    let kept: Vec<(Occur, Box<dyn TQuery>)> = must
        .iter()
        .filter(|(o, _)| *o != Occur::MustNot)
        .map(|(o, q)| (*o, q.box_clone()))
        .collect();
    if excluded.is_empty() || kept.is_empty() {
        return Box::new(BooleanQuery::new(must));
    }
    Box::new(Excluding::new(
        all_of(kept),
        excluded,
        BooleanQuery::new(must),
    ))
}

/// The query with its words only as typed (no stems, other names, or pieces of a word
/// in order with room between them), for a first, cheaper pass: when it fills a page the
/// other forms could only add matches ranked below (a match as typed ranks first).
/// Exclusions keep every form. `None` when the query has no word to narrow.
pub(crate) fn plan_as_typed(q: &Query, f: &Fields) -> Option<Box<dyn TQuery>> {
    let narrows = q
        .groups
        .iter()
        .flatten()
        .any(|c| !c.negated && matches!(c.term, Term::Text { .. }));
    if !narrows {
        return None;
    }
    let mut must = Vec::new();
    for group in &q.groups {
        if let [one] = group.as_slice() {
            let occur = if one.negated {
                Occur::MustNot
            } else {
                Occur::Must
            };
            must.push((occur, term_query_in(&one.term, f, !one.negated)));
        } else {
            let alts = group
                .iter()
                .map(|c| (Occur::Should, clause_query_in(c, f, true)))
                .collect();
            must.push((
                Occur::Must,
                Box::new(BooleanQuery::new(alts)) as Box<dyn TQuery>,
            ));
        }
    }
    Some(all_of(must))
}

/// Whether a closest match may leave this clause out: a plain word or phrase, standing
/// alone in its group. Fields (`cmd:`, `exit:`), dates and exclusions always hold.
fn optional(group: &[Clause]) -> bool {
    matches!(group, [one] if !one.negated
        && matches!(one.term, Term::Text { field: TextField::Any, .. }))
}

fn optional_words(q: &Query) -> usize {
    q.groups.iter().filter(|g| optional(g)).count()
}

/// The query with only `at_least` of its [`optional_words`] required, or `None` when it
/// has fewer than two (nothing to relax).
pub(crate) fn plan_closest(q: &Query, f: &Fields, at_least: usize) -> Option<Box<dyn TQuery>> {
    let n = optional_words(q);
    if n < 2 || at_least == 0 || at_least >= n {
        return None;
    }
    let mut must = Vec::new();
    let mut words = Vec::new();
    for group in &q.groups {
        match group.as_slice() {
            [one] if optional(group) => {
                words.push((Occur::Should, term_query(&one.term, f)));
            }
            [one] => {
                let occur = if one.negated {
                    Occur::MustNot
                } else {
                    Occur::Must
                };
                must.push((occur, term_query(&one.term, f)));
            }
            _ => {
                must.push((Occur::Must, any_of(group, f)));
            }
        }
    }
    must.push((
        Occur::Must,
        Box::new(BooleanQuery::with_minimum_required_clauses(words, at_least)),
    ));
    Some(Box::new(BooleanQuery::new(must)))
}

/// Whether a command matched the query by what it *is* (its command line or output) for
/// at least one plain word: `None` when the query has no plain word. A command matched
/// only by its session's title, tags or notes stands for its session, once.
pub(crate) fn plan_content(q: &Query, f: &Fields) -> Option<Box<dyn TQuery>> {
    let mut alts: Vec<(Occur, Box<dyn TQuery>)> = Vec::new();
    for c in q.groups.iter().flatten() {
        if let Term::Text {
            field: TextField::Any,
            text,
            phrase,
        } = &c.term
        {
            if c.negated {
                continue;
            }
            for field in [f.cmd, f.cmd_twin, f.out] {
                if let Some(q) = text_query(field, text, *phrase, field == f.out) {
                    alts.push((Occur::Should, q));
                }
            }
            // A match through another form of the word (`deny` in `Permission denied`)
            // or another name (`ECONNREFUSED`) is in the output as much as one on the
            // word as typed.
            if let Some(q) = crate::stem::query(f, text, *phrase) {
                alts.push((Occur::Should, q));
            }
            for other in crate::aliases::others(text) {
                if let Some(q) = text_query(f.out, other, true, true) {
                    alts.push((Occur::Should, q));
                }
            }
        }
    }
    (!alts.is_empty()).then(|| Box::new(BooleanQuery::new(alts)) as Box<dyn TQuery>)
}

/// Whether every command that matches all of `q`'s words matches [`plan_content`] too,
/// as far as the index's words tell: a word `q` requires has none of its terms in any
/// session's title, tags or notes. Then no command stands for its session, and a search
/// need not look for them (nor fetch more to collapse them).
/// `false` when it cannot tell (every word is somewhere in a title, or `q` has none
/// standing alone). Not for a closest match: it may leave that word out.
pub(crate) fn only_by_content(q: &Query, f: &Fields, searcher: &tantivy::Searcher) -> bool {
    let in_index = |t: &TTerm| searcher.doc_freq(t).map_or(true, |n| n > 0);
    q.groups.iter().any(|group| {
        let [one] = group.as_slice() else {
            return false;
        };
        let Term::Text {
            field: TextField::Any,
            text,
            phrase,
        } = &one.term
        else {
            return false;
        };
        if one.negated {
            return false;
        }
        let mut found = false;
        for field in [f.title, f.tags, f.notes] {
            if let Some(q) = text_query(field, text, *phrase, false) {
                // A match in the field needs at least one of these terms there.
                q.query_terms(&mut |t, _| found |= in_index(t));
            }
        }
        !found
    })
}

/// How many words a closest match may leave out at most (all but one).
pub(crate) fn closest_levels(q: &Query) -> std::ops::Range<usize> {
    1..optional_words(q)
}

/// A group of `a OR b` alternatives: any of them.
fn any_of(group: &[Clause], f: &Fields) -> Box<dyn TQuery> {
    let alts = group
        .iter()
        .map(|c| (Occur::Should, clause_query(c, f)))
        .collect();
    Box::new(BooleanQuery::new(alts))
}

fn clause_query(c: &Clause, f: &Fields) -> Box<dyn TQuery> {
    clause_query_in(c, f, false)
}

/// `as_typed`: see [`plan_as_typed`]; an exclusion always has every form.
fn clause_query_in(c: &Clause, f: &Fields, as_typed: bool) -> Box<dyn TQuery> {
    let q = term_query_in(&c.term, f, as_typed && !c.negated);
    if c.negated {
        Box::new(BooleanQuery::new(vec![
            (Occur::Must, Box::new(AllQuery)),
            (Occur::MustNot, q),
        ]))
    } else {
        q
    }
}

fn term_query(t: &Term, f: &Fields) -> Box<dyn TQuery> {
    term_query_in(t, f, false)
}

/// `as_typed`: only the forms a word has as typed (see [`plan_as_typed`]).
fn term_query_in(t: &Term, f: &Fields, as_typed: bool) -> Box<dyn TQuery> {
    match t {
        Term::Text {
            field,
            text,
            phrase,
        } => {
            let targets: Vec<(Field, f32)> = match field {
                TextField::Any => vec![
                    (f.cmd, BOOST_CMD),
                    (f.cmd_twin, BOOST_CMD),
                    (f.title, BOOST_TITLE),
                    (f.tags, BOOST_TAGS),
                    (f.notes, BOOST_NOTES),
                    (f.out, BOOST_OUT),
                ],
                TextField::Cmd => vec![(f.cmd, 1.0), (f.cmd_twin, 1.0)],
                TextField::Out => vec![(f.out, 1.0)],
                TextField::Cwd => vec![(f.cwd, 1.0)],
                TextField::Host => vec![(f.host, 1.0)],
                TextField::User => vec![(f.user, 1.0)],
                TextField::Shell => vec![(f.shell, 1.0)],
                TextField::Tag => vec![(f.tags, 1.0)],
                TextField::Title => vec![(f.title, 1.0)],
                TextField::Notes => vec![(f.notes, 1.0)],
            };
            if let Some(q) = phrase_in_fields(f, *field, &targets, text, *phrase, as_typed) {
                return q;
            }
            let per_field: Vec<(Occur, Box<dyn TQuery>)> = targets
                .into_iter()
                .filter_map(|(field, boost)| {
                    let q = text_query_in(field, text, *phrase, field == f.out, as_typed)?;
                    let q: Box<dyn TQuery> = if boost == 1.0 { q } else { boosted(q, boost) };
                    Some((Occur::Should, q))
                })
                .collect();
            let mut per_field = per_field;
            if !as_typed && matches!(field, TextField::Any | TextField::Out) {
                if let Some(q) = crate::stem::query(f, text, *phrase) {
                    per_field.push((Occur::Should, boosted(q, BOOST_STEM)));
                }
                // `EACCES` finds `Permission denied`, `"bad interpreter"` bash 5.2's words.
                for other in crate::aliases::others(text) {
                    if let Some(q) = text_query(f.out, other, true, true) {
                        per_field.push((Occur::Should, boosted(q, BOOST_STEM)));
                    }
                }
            }
            if per_field.is_empty() {
                return Box::new(EmptyQuery);
            }
            Box::new(BooleanQuery::new(per_field))
        }
        Term::Exit { code, not: false } => Box::new(TermQuery::new(
            TTerm::from_field_i64(f.exit, *code),
            IndexRecordOption::Basic,
        )),
        Term::Exit { code, not: true } => {
            // Every known status but `code`: the ranges either side of it. (A range over
            // every status, `code` excluded from it, walked the whole index one command
            // at a time once tantivy saw that range hold every command: 9 ms at 1M.)
            let status = |v| TTerm::from_field_i64(f.exit, v);
            let range = |lo, hi| Box::new(RangeQuery::new(lo, hi)) as Box<dyn TQuery>;
            Box::new(BooleanQuery::new(vec![
                (
                    Occur::Should,
                    range(
                        Bound::Included(status(i64::MIN)),
                        Bound::Excluded(status(*code)),
                    ),
                ),
                (
                    Occur::Should,
                    range(
                        Bound::Excluded(status(*code)),
                        Bound::Included(status(i64::MAX)),
                    ),
                ),
            ]))
        }
        Term::Session(prefix) => {
            // The parser allows only ASCII letters and digits: a safe pattern.
            match RegexQuery::from_pattern(&format!("{prefix}.*"), f.session) {
                Ok(q) => Box::new(q),
                Err(_) => Box::new(EmptyQuery),
            }
        }
        // Not resolved by the caller (see `Query::resolve_recent`): no session is named.
        Term::SessionBack(_) => Box::new(EmptyQuery),
        Term::After(t) => Box::new(RangeQuery::new(
            Bound::Included(date_term(f.started, *t)),
            Bound::Unbounded,
        )),
        Term::Before(t) => Box::new(RangeQuery::new(
            Bound::Unbounded,
            Bound::Excluded(date_term(f.started, *t)),
        )),
        Term::Suspicious(b) => Box::new(TermQuery::new(
            TTerm::from_field_u64(f.suspicious, u64::from(*b)),
            IndexRecordOption::Basic,
        )),
    }
}

/// A phrase of several words as one query over its fields (see [`PhraseInFields`]): the
/// same union [`term_query_in`] builds, when each of its clauses is a phrase or a word
/// in one field; else `None`.
fn phrase_in_fields(
    f: &Fields,
    field: TextField,
    targets: &[(Field, f32)],
    text: &str,
    phrase: bool,
    as_typed: bool,
) -> Option<Box<dyn TQuery>> {
    let ws = words(text);
    if !phrase || ws.len() < 2 {
        return None;
    }
    let mut parts: Vec<Part> = targets
        .iter()
        .map(|&(field, boost)| Part {
            field,
            boost,
            terms: phrase_terms(field, text, &ws, field == f.out),
        })
        .filter(|p| !p.terms.is_empty())
        .collect();
    if !as_typed && matches!(field, TextField::Any | TextField::Out) {
        // The stemmed output holds only the stems that differ from their words: a
        // phrase there is its stems in place and the other words anywhere in the output
        // (`stem::query`), which is no phrase of one field. The plain union asks it.
        if crate::stem::query(f, text, true).is_some() {
            return None;
        }
        for other in crate::aliases::others(text) {
            let ws = words(other);
            match ws.as_slice() {
                [] => {}
                // A word the output has as one term (`ECONNREFUSED`) is a part of one
                // term; one matched by its pieces or other forms, the plain union asks.
                [w] if !one_term(other, w) => return None,
                _ => parts.push(Part {
                    field: f.out,
                    boost: BOOST_STEM,
                    terms: phrase_terms(f.out, other, &ws, true),
                }),
            }
        }
    }
    (!parts.is_empty()).then(|| Box::new(PhraseInFields::new(parts)) as Box<dyn TQuery>)
}

/// tantivy keeps dates as nanoseconds in an i64 (years 1677 to 2262); a query's date
/// beyond that (`before:2626-01-01`, `time` allows ±9999) is the nearest one it can hold,
/// which no command is past.
pub(crate) fn date_term(field: Field, t: time::OffsetDateTime) -> TTerm {
    const LIMIT: i64 = i64::MAX / 1_000_000_000;
    let secs = t.unix_timestamp().clamp(-LIMIT, LIMIT);
    TTerm::from_field_date(field, DateTime::from_timestamp_secs(secs))
}

fn term(field: Field, raw: &str) -> Option<TTerm> {
    normalize(raw).map(|t| TTerm::from_field_text(field, &t))
}

fn term_q(t: TTerm) -> Box<dyn TQuery> {
    Box::new(TermQuery::new(t, IndexRecordOption::WithFreqs))
}

/// `text` in one field: a word (as typed, or by its parts), or a phrase of words.
/// `output`: the field is tokenized as output (see [`atoms_only`]).
fn text_query(field: Field, text: &str, phrase: bool, output: bool) -> Option<Box<dyn TQuery>> {
    text_query_in(field, text, phrase, output, false)
}

/// `as_typed`: each word only as typed (see [`plan_as_typed`]).
fn text_query_in(
    field: Field,
    text: &str,
    phrase: bool,
    output: bool,
    as_typed: bool,
) -> Option<Box<dyn TQuery>> {
    let ws = words(text);
    let word = |w, exact| word_query(field, text, w, exact, output, as_typed);
    match ws.as_slice() {
        [] => None,
        [w] => word(w, phrase),
        _ if !phrase => {
            // Several words without quotes (only from a field value): all of them.
            let parts: Vec<_> = ws
                .iter()
                .filter_map(|w| word(w, false))
                .map(|q| (Occur::Must, q))
                .collect();
            (!parts.is_empty()).then(|| Box::new(BooleanQuery::new(parts)) as Box<dyn TQuery>)
        }
        _ => {
            let terms = phrase_terms(field, text, &ws, output);
            match terms.len() {
                0 => None,
                1 => Some(term_q(terms.into_iter().next()?.1)),
                _ => Some(Box::new(PhraseQuery::new_with_offset(terms))),
            }
        }
    }
}

/// Whether `w` is looked for as its one term alone ([`word_query`]): no pieces, no
/// other spelling.
fn one_term(text: &str, w: &crate::tokenizer::Word) -> bool {
    let core = &text[w.core.0..w.core.1];
    text[w.whole.0..w.whole.1] == *core
        && match w.atoms.as_slice() {
            [] => true,
            [(a, b)] => normalize(&text[*a..*b]) == normalize(core),
            _ => false,
        }
}

/// A phrase of several words in one field: each word by its core (or its only atom),
/// which sit at the word's position; in output, a word of several atoms is those atoms,
/// in order: output indexes a word glued to one with a digit (`13,"/payload.sh`, a CSV
/// line) by its atoms alone, so its core (`payload.sh`) may not be there.
fn phrase_terms(
    field: Field,
    text: &str,
    ws: &[crate::tokenizer::Word],
    output: bool,
) -> Vec<(usize, TTerm)> {
    ws.iter()
        .flat_map(|w| {
            if output && (w.atoms.len() > 1 || atoms_only(text, w)) {
                w.atoms
                    .iter()
                    .enumerate()
                    .filter_map(|(k, &(a, b))| Some((w.position + k, term(field, &text[a..b])?)))
                    .collect::<Vec<_>>()
            } else {
                let core = &text[w.core.0..w.core.1];
                term(field, core)
                    .map(|t| (w.position, t))
                    .into_iter()
                    .collect()
            }
        })
        .collect()
}

/// One word: as typed (whole or core), or, when it has several atoms, those atoms in
/// order close together (`ld-linux.so` in `ld-linux-x86-64.so.2`); a path-like word of
/// one atom (`/tmp`) also by that atom. Flags (`-i`, `+x`) only as typed.
///
/// In output (`output`), a word indexed by its atoms alone is only that phrase of atoms.
/// `as_typed`: only the word whole or its core (or, indexed by its atoms alone, those).
fn word_query(
    field: Field,
    text: &str,
    w: &crate::tokenizer::Word,
    exact: bool,
    output: bool,
    as_typed: bool,
) -> Option<Box<dyn TQuery>> {
    let by_atoms_only = output && atoms_only(text, w);
    if as_typed && !by_atoms_only {
        let whole = &text[w.whole.0..w.whole.1];
        let core = &text[w.core.0..w.core.1];
        let mut alts: Vec<(Occur, Box<dyn TQuery>)> = Vec::new();
        for t in [
            term(field, core),
            term(field, whole).filter(|_| whole != core),
        ]
        .into_iter()
        .flatten()
        {
            alts.push((Occur::Should, term_q(t)));
        }
        return match alts.len() {
            0 => None,
            1 => alts.pop().map(|a| a.1),
            _ => Some(Box::new(BooleanQuery::new(alts))),
        };
    }
    let mut alts: Vec<Box<dyn TQuery>> = Vec::new();
    let whole = &text[w.whole.0..w.whole.1];
    let core = &text[w.core.0..w.core.1];
    let core_term = term(field, core).filter(|_| !by_atoms_only);
    if let Some(t) = core_term.clone() {
        alts.push(term_q(t));
    }
    if whole != core && !by_atoms_only {
        if let Some(t) = term(field, whole) {
            alts.push(term_q(t));
        }
    }
    let atoms: Vec<TTerm> = w
        .atoms
        .iter()
        .filter_map(|&(a, b)| term(field, &text[a..b]))
        .collect();
    // An address (without a port) is indexed whole wherever it stands (in a URL, with a
    // port): its numbers in order would only add a costly phrase of very common terms.
    let address = !core.contains(':') && crate::tokenizer::is_address(core);
    if atoms.len() >= 2 && !address {
        let numeric = w
            .atoms
            .iter()
            .all(|&(a, b)| text[a..b].bytes().all(|c| c.is_ascii_digit()));
        let slop = if exact || numeric { 0 } else { 3 };
        let terms = atoms.into_iter().enumerate().collect();
        alts.push(Box::new(PhraseQuery::new_with_offset_and_slop(terms, slop)));
    } else if let [atom] = atoms.as_slice() {
        let flag = core.starts_with(['-', '+']) || core.starts_with(':');
        if !flag && Some(atom) != core_term.as_ref() {
            alts.push(term_q(atom.clone()));
        }
    }
    match alts.len() {
        0 => None,
        1 => alts.pop(),
        _ => Some(Box::new(BooleanQuery::new(
            alts.into_iter().map(|q| (Occur::Should, q)).collect(),
        ))),
    }
}
