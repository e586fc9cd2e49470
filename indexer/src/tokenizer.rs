//! The shell-aware tokenizer: text that behaves like shell text.
//!
//! A *word* is a run of non-whitespace. Each word gives:
//! - the whole word as typed (`/lib64/ld-linux-x86-64.so.2`, `-i`, `+x`, `10.0.0.12:8080`),
//! - its *core*, the word without wrapping quotes, brackets and trailing `:,;.!?`
//!   (`permitted.` → `permitted`, `12:` → `12`, `'chattr` → `chattr`),
//! - its *components*, split at `/ = , : @ ;` (`lib64`, `ld-linux-x86-64.so.2`,
//!   `10.0.0.12`), and `:PORT` for a numeric component after a colon (`:8080`),
//! - its *atoms*, the runs between punctuation (`lib64 ld linux x86 64 so 2`).
//!
//! Atoms take consecutive positions; the whole word, the core and each component sit at
//! the position of their first atom. So a phrase of whole words or cores (`"chattr -i"`,
//! `"operation not permitted"`) matches at the positions the query tokenizer gives it, and
//! a run of atoms (`ld-linux`, `x86-64.so`) matches as a phrase of atoms, without
//! indexing every sub-span. Lowercasing and ASCII folding are filters after this one.

use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RawTokenizer, RemoveLongFilter, TextAnalyzer, Token,
    TokenStream, Tokenizer,
};

/// The name the tokenizer is registered under in the index.
pub const SHELL_TOKENIZER: &str = "fixcast_shell";

/// The name of its output variant (see [`ShellTokenizer::for_output`]).
pub const OUTPUT_TOKENIZER: &str = "fixcast_shell_out";

/// Tokens longer than this (in bytes) are not indexed (their atoms still are).
const MAX_TOKEN_BYTES: usize = 200;

/// The analyzer registered as [`SHELL_TOKENIZER`]: shell words, lowercased, ASCII-folded.
pub fn shell_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(ShellTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// The analyzer registered as [`OUTPUT_TOKENIZER`], for command output: as
/// [`shell_analyzer`], but a word with digits and several atoms gives only its atoms
/// (and a `:PORT`), see [`atoms_only`].
pub fn output_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(ShellTokenizer::for_output())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// Whether the output tokenizer indexes `w` by its atoms alone: a word of several atoms
/// with a digit in it (`nginx[4321]:`, `10.0.3.17`, `total-vm:81234kB`,
/// `[12.345678]`). Such words are nearly all unique (pids, sizes, times, addresses), so
/// as whole words, cores and components they were most of the output's term dictionary,
/// postings and positions; their atoms, in order, still find them (a query word like
/// them becomes a phrase of its atoms, see `plan::word_query`).
///
/// An IPv4 address (`10.0.3.17`), or one with a port (`10.0.3.17:8443`), is the
/// exception: it is what people search for, and as a run of small numbers it would be a
/// costly phrase of very common terms.
pub(crate) fn atoms_only(text: &str, w: &Word) -> bool {
    w.atoms.len() >= 2
        && text[w.whole.0..w.whole.1]
            .bytes()
            .any(|b| b.is_ascii_digit())
        && !is_address(&text[w.core.0..w.core.1])
}

/// `a.b.c.d` of 1-3 digits each, with an optional `:port`.
pub(crate) fn is_address(s: &str) -> bool {
    let ip = match s.split_once(':') {
        Some((ip, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => ip,
        Some(_) => return false,
        None => s,
    };
    let parts: Vec<&str> = ip.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
}

/// What the analyzer does to one token's text: lowercase and fold. `None` when the
/// token would not be indexed (too long).
pub(crate) fn normalize(raw: &str) -> Option<String> {
    let mut analyzer = TextAnalyzer::builder(RawTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build();
    let mut stream = analyzer.token_stream(raw);
    stream.next().map(|t| t.text.clone())
}

/// One whitespace-delimited word, cut into its parts (byte ranges into the text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Word {
    /// Position of its first atom (or of the word, when it has none).
    pub position: usize,
    pub whole: (usize, usize),
    pub core: (usize, usize),
    /// Components with the position of their first atom; only those that differ from
    /// the whole word, the core, and from a single atom.
    pub components: Vec<(usize, usize, usize)>,
    /// Atoms, at `position`, `position + 1`, ...
    pub atoms: Vec<(usize, usize)>,
}

impl Word {
    /// Positions this word takes up.
    pub fn width(&self) -> usize {
        self.atoms.len().max(1)
    }
}

/// Punctuation that splits atoms: ASCII punctuation, and any non-ASCII character that is
/// neither a letter/digit nor a combining mark (box drawing, smart quotes, dashes).
fn is_separator(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_punctuation();
    }
    !(c.is_alphanumeric() || is_combining(c))
}

fn is_combining(c: char) -> bool {
    matches!(c as u32, 0x300..=0x36f | 0x1ab0..=0x1aff | 0x1dc0..=0x1dff | 0x20d0..=0x20ff | 0xfe20..=0xfe2f)
}

/// Where components split.
fn is_component_separator(c: char) -> bool {
    matches!(c, '/' | '=' | ',' | ':' | '@' | ';')
}

const OPENERS: &[char] = &['"', '\'', '`', '(', '[', '{', '<', '“', '‘', '«'];
const CLOSERS: &[char] = &[
    '"', '\'', '`', ')', ']', '}', '>', ',', ';', ':', '.', '!', '?', '”', '’', '»',
];

/// Cuts `text` into words, positions starting at 0.
pub(crate) fn words(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut position = 0;
    let mut start = None;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        if c.is_whitespace() {
            if let Some(s) = start.take() {
                let w = word(text, s, i, position);
                position += w.width();
                out.push(w);
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    out
}

fn word(text: &str, from: usize, to: usize, position: usize) -> Word {
    let s = &text[from..to];
    let mut atoms = Vec::new();
    let mut atom_start = None;
    for (i, c) in s.char_indices().chain(std::iter::once((s.len(), '/'))) {
        if is_separator(c) {
            if let Some(a) = atom_start.take() {
                atoms.push((from + a, from + i));
            }
        } else if atom_start.is_none() {
            atom_start = Some(i);
        }
    }
    let trimmed_start = s.trim_start_matches(OPENERS);
    let core_from = from + (s.len() - trimmed_start.len());
    let core_to = core_from + trimmed_start.trim_end_matches(CLOSERS).len();
    let core = if core_to > core_from {
        (core_from, core_to)
    } else {
        (from, to)
    };
    let atom_index = |byte: usize| atoms.iter().position(|a| a.0 >= byte);
    let mut components = Vec::new();
    let core_text = &text[core.0..core.1];
    if core_text.contains(is_component_separator) {
        let mut comp_start = core.0;
        let mut after_colon = false;
        for (i, c) in core_text
            .char_indices()
            .chain(std::iter::once((core_text.len(), '/')))
        {
            if !is_component_separator(c) {
                continue;
            }
            let (cf, ct) = (comp_start, core.0 + i);
            if ct > cf {
                let atoms_in: Vec<_> = atoms.iter().filter(|a| a.0 >= cf && a.1 <= ct).collect();
                let single_atom = atoms_in.len() == 1 && *atoms_in[0] == (cf, ct);
                if let (Some(k), false) = (atom_index(cf), atoms_in.is_empty()) {
                    if !single_atom {
                        components.push((cf, ct, position + k));
                    }
                    // `:8080` as typed: a port after an address.
                    let digits = text[cf..ct].bytes().all(|b| b.is_ascii_digit());
                    if after_colon && digits && cf > core.0 {
                        components.push((cf - 1, ct, position + k));
                    }
                }
            }
            after_colon = c == ':';
            comp_start = core.0 + i + c.len_utf8();
        }
    }
    Word {
        position,
        whole: (from, to),
        core,
        components,
        atoms,
    }
}

/// The tokenizer registered (with its filters) as [`SHELL_TOKENIZER`].
#[derive(Clone, Default)]
pub struct ShellTokenizer {
    token: Token,
    /// The output variant: words for which [`atoms_only`] holds give their atoms and a
    /// `:PORT` only, and a word with punctuation around its core gives the core alone.
    output: bool,
}

impl ShellTokenizer {
    /// The variant for command output (registered as [`OUTPUT_TOKENIZER`]).
    pub fn for_output() -> ShellTokenizer {
        ShellTokenizer {
            token: Token::default(),
            output: true,
        }
    }
}

pub struct ShellTokenStream<'a> {
    text: &'a str,
    /// (from, to, position) of every token, in order.
    pending: std::vec::IntoIter<(usize, usize, usize)>,
    token: &'a mut Token,
}

impl Tokenizer for ShellTokenizer {
    type TokenStream<'a> = ShellTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> ShellTokenStream<'a> {
        self.token.reset();
        let mut spans = Vec::new();
        for w in words(text) {
            let first = spans.len();
            self.word_spans(text, &w, &mut spans);
            // In the order they begin: tantivy's snippets need offsets that never go
            // back (positions follow the offsets within a word, so they stay in order).
            spans[first..].sort_unstable_by_key(|&(from, to, position)| (from, position, to));
        }
        ShellTokenStream {
            text,
            pending: spans.into_iter(),
            token: &mut self.token,
        }
    }
}

impl ShellTokenizer {
    /// Every token of one word as (from, to, position).
    fn word_spans(&self, text: &str, w: &Word, spans: &mut Vec<(usize, usize, usize)>) {
        if self.output && atoms_only(text, w) {
            // A port (`:8080`) and an address in the word (a URL's) stay as typed.
            spans.extend(
                w.components
                    .iter()
                    .filter(|c| text[c.0..].starts_with(':') || is_address(&text[c.0..c.1]))
                    .copied(),
            );
            for (k, &(f, t)) in w.atoms.iter().enumerate() {
                spans.push((f, t, w.position + k));
            }
            return;
        }
        // In output, a word as typed that is its core with punctuation around it
        // (`error:`, `(deleted)`, `'/etc/passwd'`) is only its core: a query word
        // matches the core either way (see `plan::word_query`) and phrases are of cores,
        // and one word in eight of output is such (a term and a position each).
        if !self.output || w.core == w.whole {
            spans.push((w.whole.0, w.whole.1, w.position));
        }
        if w.core != w.whole {
            spans.push((w.core.0, w.core.1, w.position));
        }
        spans.extend(w.components.iter().copied());
        for (k, &(f, t)) in w.atoms.iter().enumerate() {
            // The first atom may already be there as the whole word or the core.
            if k == 0 && ((f, t) == w.whole || (f, t) == w.core) {
                continue;
            }
            spans.push((f, t, w.position + k));
        }
    }
}

impl TokenStream for ShellTokenStream<'_> {
    fn advance(&mut self) -> bool {
        let Some((from, to, position)) = self.pending.next() else {
            return false;
        };
        self.token.text.clear();
        self.token.text.push_str(&self.text[from..to]);
        self.token.offset_from = from;
        self.token.offset_to = to;
        self.token.position = position;
        self.token.position_length = 1;
        true
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<(String, usize)> {
        let mut a = shell_analyzer();
        let mut s = a.token_stream(text);
        let mut v = Vec::new();
        while let Some(t) = s.next() {
            v.push((t.text.clone(), t.position));
        }
        v
    }

    fn texts(text: &str) -> Vec<String> {
        tokens(text).into_iter().map(|t| t.0).collect()
    }

    #[test]
    fn the_loader_trick_is_found_by_its_parts() {
        let t = texts("/lib64/ld-linux-x86-64.so.2 /bin/chmod +x /bin/chmod");
        for want in [
            "/lib64/ld-linux-x86-64.so.2",
            "ld-linux-x86-64.so.2",
            "lib64",
            "ld",
            "linux",
            "x86",
            "64",
            "so",
            "2",
            "/bin/chmod",
            "chmod",
            "bin",
            "+x",
            "x",
        ] {
            assert!(t.contains(&want.to_owned()), "{want} in {t:?}");
        }
    }

    #[test]
    fn atoms_are_consecutive_and_words_share_their_first_position() {
        let t = tokens("chattr -i /tmp/f");
        assert_eq!(
            t,
            vec![
                ("chattr".into(), 0),
                ("-i".into(), 1),
                ("i".into(), 1),
                ("/tmp/f".into(), 2),
                ("tmp".into(), 2),
                ("f".into(), 3),
            ]
        );
    }

    #[test]
    fn wrapping_punctuation_is_trimmed_into_the_core() {
        let t = texts("chattr: Operation not permitted. r/r 12: file ('quoted')");
        for want in [
            "chattr:",
            "chattr",
            "operation",
            "permitted",
            "r/r",
            "12:",
            "12",
            "quoted",
        ] {
            assert!(t.contains(&want.to_owned()), "{want} in {t:?}");
        }
    }

    #[test]
    fn addresses_and_ports_as_typed() {
        let t = texts("connect to 10.0.0.12:8080 failed");
        for want in ["10.0.0.12:8080", "10.0.0.12", ":8080", "8080", "10", "12"] {
            assert!(t.contains(&want.to_owned()), "{want} in {t:?}");
        }
    }

    #[test]
    fn flags_keep_their_dashes_and_values() {
        let t = texts("kubectl -n kube-system --selector=app=web");
        for want in [
            "-n",
            "kube-system",
            "--selector=app=web",
            "--selector",
            "kube",
            "system",
            "web",
        ] {
            assert!(t.contains(&want.to_owned()), "{want} in {t:?}");
        }
    }

    fn output_texts(text: &str) -> Vec<(String, usize)> {
        let mut a = output_analyzer();
        let mut s = a.token_stream(text);
        let mut v = Vec::new();
        while let Some(t) = s.next() {
            v.push((t.text.clone(), t.position));
        }
        v
    }

    /// In output, punctuation around a word makes no term of its own (one word in eight
    /// of output had one); on a command line it does (`'-i'` as typed).
    #[test]
    fn output_words_in_punctuation_are_indexed_by_their_core() {
        let texts = |v: Vec<(String, usize)>| v.into_iter().map(|t| t.0).collect::<Vec<_>>();
        assert_eq!(
            texts(output_texts("error: (deleted) 'chattr'")),
            ["error", "deleted", "chattr"]
        );
        assert_eq!(
            texts(tokens("error: (deleted)")),
            ["error", "error:", "(deleted)", "deleted"]
        );
    }

    #[test]
    fn output_words_with_digits_are_indexed_by_their_atoms_and_port() {
        assert_eq!(
            output_texts("nginx[4321]: GET http://10.0.0.12:8080/x EXT4-fs"),
            vec![
                ("nginx".into(), 0),
                ("4321".into(), 1),
                ("get".into(), 2),
                ("http".into(), 3),
                ("10".into(), 4),
                ("10.0.0.12".into(), 4),
                ("0".into(), 5),
                ("0".into(), 6),
                ("12".into(), 7),
                (":8080".into(), 8),
                ("8080".into(), 8),
                ("x".into(), 9),
                ("ext4".into(), 10),
                ("fs".into(), 11),
            ]
        );
        // An address, with or without a port, keeps every form.
        let t: Vec<String> = output_texts("10.0.0.12:8080 10.1.2.3")
            .into_iter()
            .map(|t| t.0)
            .collect();
        assert_eq!(t, texts("10.0.0.12:8080 10.1.2.3"));
        // Without digits, or of one atom, a word is indexed as the shell tokenizer does.
        let t: Vec<String> = output_texts("/etc/resolv.conf psycopg2 -i")
            .into_iter()
            .map(|t| t.0)
            .collect();
        assert_eq!(t, texts("/etc/resolv.conf psycopg2 -i"));
    }

    #[test]
    fn case_and_accents_fold() {
        assert_eq!(texts("Café NAÏVE"), vec!["cafe", "naive"]);
    }

    #[test]
    fn nothing_but_punctuation_is_still_a_token() {
        assert_eq!(
            tokens("a | b"),
            vec![("a".into(), 0), ("|".into(), 1), ("b".into(), 2)]
        );
    }

    /// tantivy's snippet generator subtracts a fragment's first offset from each later
    /// token's end: a token that ends before an earlier one began overflowed it (a URL's
    /// address and a `:PORT` came before the word's first atom), and a search with
    /// snippets failed on such output.
    #[test]
    fn offsets_never_go_backwards() {
        for text in [
            "GET http://10.0.3.17:8080/healthz refused",
            "host:8080 nginx[4321]: total-vm:81234kB [812.004113] a/b/c.d:9",
            "(\"/proc/12/fd/3\") -> /tmp/payload.sh (deleted) x=1,y=2",
        ] {
            for mut a in [shell_analyzer(), output_analyzer()] {
                let mut s = a.token_stream(text);
                let mut last = (0, 0);
                while let Some(t) = s.next() {
                    assert!(
                        t.offset_from >= last.0 && t.offset_to >= last.0,
                        "{text:?}: {:?} at {}..{} after a token at {}..{}",
                        t.text,
                        t.offset_from,
                        t.offset_to,
                        last.0,
                        last.1
                    );
                    last = (t.offset_from, t.offset_to);
                }
            }
        }
    }

    #[test]
    fn any_text_tokenizes_without_panicking() {
        for s in [
            "",
            " ",
            "\u{0}\u{301}x",
            "é́́",
            "::::",
            "a:1:2:3",
            "/ / /",
            "「x」",
        ] {
            let _ = texts(s);
        }
    }
}
