//! Just enough of shell syntax to compare command lines: a line split into the simple
//! commands of its lists and pipelines, each split into words, quotes respected.

/// One simple command of a line: its words (quotes removed), and whether it redirects
/// output into a file (`>`, `>>`), which makes any program change state.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Simple {
    pub words: Vec<String>,
    pub writes_file: bool,
}

impl Simple {
    /// The words after the wrappers that do not change what runs (`sudo`, `env`,
    /// `VAR=value`, `time`, `command`, `nohup`, `exec`), and whether there were any.
    pub fn unwrapped(&self) -> (&[String], bool) {
        let mut w = &self.words[..];
        let mut wrapped = false;
        loop {
            match w.first().map(String::as_str) {
                Some("sudo" | "doas") => {
                    w = &w[1..];
                    // sudo's own options (`-u root`, `-E`).
                    while let Some(opt) = w.first().filter(|s| s.starts_with('-')) {
                        let takes_value = matches!(opt.as_str(), "-u" | "-g" | "-C" | "-D");
                        w = &w[1 + usize::from(takes_value && w.len() > 1)..];
                    }
                }
                Some("env" | "time" | "command" | "nohup" | "exec" | "builtin") => w = &w[1..],
                Some(s) if is_assignment(s) => w = &w[1..],
                _ => return (w, wrapped),
            }
            wrapped = true;
        }
    }
}

fn is_assignment(word: &str) -> bool {
    match word.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit())
        }
        None => false,
    }
}

/// The simple commands of a command line, in order (`a && b | c; d` gives four).
pub(crate) fn simple_commands(line: &str) -> Vec<Simple> {
    let mut out = Vec::new();
    let mut cur = Simple::default();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    let end_word = |cur: &mut Simple, word: &mut String, in_word: &mut bool| {
        if *in_word {
            cur.words.push(std::mem::take(word));
            *in_word = false;
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    word.push(q);
                }
            }
            '"' => {
                in_word = true;
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => {
                            if let Some(n) = chars.next() {
                                word.push(n);
                            }
                        }
                        _ => word.push(q),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(n) = chars.next() {
                    if n != '\n' {
                        word.push(n);
                    }
                }
            }
            ';' | '|' | '&' | '\n' | '(' | ')' => {
                end_word(&mut cur, &mut word, &mut in_word);
                // `2>&1`, `&>file`: a redirection, not a list.
                if c == '&' && chars.peek() == Some(&'>') {
                    continue;
                }
                if !cur.words.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                cur = Simple::default();
            }
            '>' => {
                end_word(&mut cur, &mut word, &mut in_word);
                if chars.peek() == Some(&'>') {
                    chars.next();
                }
                if chars.peek() == Some(&'&') {
                    // `>&2`: to another descriptor.
                    chars.next();
                    while chars.peek().is_some_and(|c| c.is_ascii_digit()) {
                        chars.next();
                    }
                    continue;
                }
                // The target is the next word; `/dev/null` changes nothing.
                while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
                    chars.next();
                }
                let target: String = chars
                    .clone()
                    .take_while(|c| !c.is_whitespace() && !matches!(c, ';' | '|' | '&' | ')'))
                    .collect();
                for _ in 0..target.chars().count() {
                    chars.next();
                }
                if target != "/dev/null" && !target.is_empty() {
                    cur.writes_file = true;
                }
            }
            '<' => {
                end_word(&mut cur, &mut word, &mut in_word);
                while chars.peek().is_some_and(|c| *c == '<' || *c == ' ') {
                    chars.next();
                }
                // The input file is not an argument.
                while chars
                    .peek()
                    .is_some_and(|c| !c.is_whitespace() && !matches!(c, ';' | '|' | '&' | ')'))
                {
                    chars.next();
                }
            }
            c if c.is_whitespace() => end_word(&mut cur, &mut word, &mut in_word),
            c => {
                // A descriptor number right before `>` (`2>`) is part of the redirection.
                if c.is_ascii_digit() && !in_word && chars.peek() == Some(&'>') {
                    continue;
                }
                in_word = true;
                word.push(c);
            }
        }
    }
    end_word(&mut cur, &mut word, &mut in_word);
    if !cur.words.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<Vec<String>> {
        simple_commands(line).into_iter().map(|s| s.words).collect()
    }

    #[test]
    fn lists_and_pipelines_split_into_simple_commands() {
        assert_eq!(
            words("touch a; chattr +i a && echo x >> a | cat"),
            vec![
                vec!["touch", "a"],
                vec!["chattr", "+i", "a"],
                vec!["echo", "x"],
                vec!["cat"]
            ]
        );
    }

    #[test]
    fn quotes_keep_separators_inside_a_word() {
        assert_eq!(
            words("python3 -c \"import socket; print('a b')\" && sed -i 's/,}/}/' c.json"),
            vec![
                vec!["python3", "-c", "import socket; print('a b')"],
                vec!["sed", "-i", "s/,}/}/", "c.json"]
            ]
        );
    }

    #[test]
    fn redirections_are_not_words_and_file_writes_are_seen() {
        let s = simple_commands("python3 -m http.server 1 >/dev/null 2>&1 &");
        assert_eq!(s[0].words, vec!["python3", "-m", "http.server", "1"]);
        assert!(!s[0].writes_file);
        let s = simple_commands("echo x >> app.conf");
        assert_eq!(s[0].words, vec!["echo", "x"]);
        assert!(s[0].writes_file);
        assert!(!simple_commands("wc -l < big")[0].writes_file);
        assert_eq!(simple_commands("wc -l < big")[0].words, vec!["wc", "-l"]);
    }

    #[test]
    fn wrappers_are_looked_through() {
        let s = &simple_commands("sudo -u root FOO=1 env /usr/bin/chattr -i f")[0];
        assert_eq!(s.unwrapped().0, ["/usr/bin/chattr", "-i", "f"]);
        assert!(s.unwrapped().1);
        assert!(!simple_commands("chattr -i f")[0].unwrapped().1);
    }
}
