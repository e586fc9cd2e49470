//! Telling a prompt from the command typed after it, for shells without integration.

/// Characters that end common prompts (`$ `, `# `, `% `, `> `, and the arrows of popular
/// zsh and starship themes), each followed by a space.
const PROMPT_ENDS: [char; 6] = ['$', '#', '%', '>', '❯', '➜'];

/// The longest prompt recognised.
const MAX_PROMPT: usize = 120;

/// Splits a screen line into (prompt, command). A prompt is the shortest prefix that ends
/// in one of [`PROMPT_ENDS`] plus a space and has no spaces but inside brackets or right
/// after a bracket group (`user@host:~/src$ `, `[root@host dir]# `, `(venv) user@host:~$ `,
/// `/ # `, `bash-5.2# `, `mysql> `). A line with no such prefix is all command.
pub fn split_prompt(line: &str) -> (&str, &str) {
    let mut depth = 0i32;
    let mut prev = None;
    for (i, c) in line.char_indices() {
        if i > MAX_PROMPT {
            break;
        }
        let after = i + c.len_utf8();
        if ends_prompt(line, i, c) {
            let end = (after + 1).min(line.len());
            return (&line[..end], line[end..].trim());
        }
        match c {
            '[' | '(' | '{' => depth += 1,
            ']' | ')' | '}' => depth -= 1,
            // `/ # `: a space may stand before the prompt's last character.
            ' ' if line[after..]
                .chars()
                .next()
                .is_some_and(|n| ends_prompt(line, after, n)) => {}
            ' ' if depth <= 0 && !matches!(prev, Some(')' | ']')) => return ("", line.trim()),
            _ => {}
        }
        prev = Some(c);
    }
    ("", line.trim())
}

/// Whether `c` at `i` ends a prompt: a prompt character followed by a space or the end
/// of the line (screen lines come with trailing spaces trimmed).
fn ends_prompt(line: &str, i: usize, c: char) -> bool {
    let rest = &line[i + c.len_utf8()..];
    PROMPT_ENDS.contains(&c) && (rest.is_empty() || rest.starts_with(' '))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_prompts_are_stripped() {
        for (line, cmd) in [
            ("$ ls -la", "ls -la"),
            ("# chattr -i /etc/resolv.conf", "chattr -i /etc/resolv.conf"),
            ("% echo hi", "echo hi"),
            ("> done", "done"),
            ("user@host:~/src$ make test", "make test"),
            ("root@node1:/var/log# tail -f syslog", "tail -f syslog"),
            ("[root@host dir]# ls", "ls"),
            ("/ # cat /etc/os-release", "cat /etc/os-release"),
            ("bash-5.2# id", "id"),
            ("bash-5.2$ echo a # not a prompt", "echo a # not a prompt"),
            ("(venv) user@host:~$ pip list", "pip list"),
            ("mysql> select 1;", "select 1;"),
            ("❯ git status", "git status"),
            ("$ ", ""),
            ("root@node1:/#", ""),
        ] {
            assert_eq!(split_prompt(line).1, cmd, "{line}");
        }
    }

    #[test]
    fn lines_without_a_prompt_are_all_command() {
        assert_eq!(split_prompt("echo a > b").1, "echo a > b");
        assert_eq!(split_prompt("yes").1, "yes");
        assert_eq!(split_prompt("").1, "");
    }
}
