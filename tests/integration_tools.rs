//! Shell integration next to the tools people load in their shell: starship, atuin,
//! bash-preexec and an oh-my-zsh style setup. Each command is cut once, with its line,
//! cwd, status and output, the user's prompt still shows, and the tools still work.
//!
//! The tools come from the environment: `FIXCAST_TEST_STARSHIP`, `FIXCAST_TEST_ATUIN`
//! (binaries) and `FIXCAST_TEST_BASH_PREEXEC` (bash-preexec.sh), which
//! `.ci/install-prompt-tools` installs and prints. Unset, a test skips, except in CI
//! (CI=true), where it fails.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::integration_shells::{
    assert_runtime_cleaned, raw, screen, shell_path, unintegrated, wait_count, wait_ready, User, C,
    LIMIT,
};
use crate::on_terminal::OnTerminal;
use crate::util::Home;

/// The path in `var`, or None (skipped) when it is unset outside CI. `check` tells
/// whether the file is the tool that is wanted.
fn tool(var: &str, what: &str, check: impl Fn(&str) -> bool) -> Option<String> {
    let path = std::env::var(var).unwrap_or_default();
    if path.is_empty() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{var} ({what}) is required in CI: see .ci/install-prompt-tools"
        );
        eprintln!("skipped: {var} not set (the path of {what})");
        return None;
    }
    assert!(check(&path), "{var}={path} is not {what}");
    Some(path)
}

fn version_says(path: &str, name: &str) -> bool {
    let out = std::process::Command::new(path)
        .arg("--version")
        .output()
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    String::from_utf8_lossy(&out.stdout).starts_with(name)
}

pub(crate) fn starship() -> Option<String> {
    tool("FIXCAST_TEST_STARSHIP", "a starship binary", |p| {
        version_says(p, "starship ")
    })
}

pub(crate) fn atuin() -> Option<String> {
    tool("FIXCAST_TEST_ATUIN", "an atuin binary", |p| {
        version_says(p, "atuin ")
    })
}

pub(crate) fn bash_preexec() -> Option<String> {
    tool("FIXCAST_TEST_BASH_PREEXEC", "bash-preexec.sh", |p| {
        std::fs::read_to_string(p).is_ok_and(|s| s.contains("bash_preexec_imported"))
    })
}

/// Shell code that puts `tool`'s folder first in PATH (atuin's hooks call `atuin`).
pub(crate) fn path_to(tool: &str) -> String {
    let dir = Path::new(tool).parent().unwrap().display();
    format!("export PATH='{dir}':\"$PATH\"\n")
}

/// starship's config: a prompt that shows the last status, and no module that depends
/// on the machine or on time.
pub(crate) const STARSHIP_TOML: &str = r#"add_newline = false
format = 'star$status$character'
[status]
disabled = false
format = '\[$status\]'
[character]
success_symbol = '>'
error_symbol = '!>'
"#;

pub(crate) fn with_starship(user: &User, starship: &str, shell: &str) -> String {
    std::fs::create_dir_all(user.dir.join(".config")).unwrap();
    user.write(".config/starship.toml", STARSHIP_TOML);
    format!(
        "export STARSHIP_CONFIG=\"$HOME/.config/starship.toml\"\neval \"$('{starship}' init {shell})\"\n"
    )
}

/// Types the standard session: a success, a failure, exit 2, `cd /tmp`, a loop over
/// three lines, `sleep 30` stopped by Ctrl-C, then `exit`.
pub(crate) fn type_session(t: &mut OnTerminal) {
    let typed = [
        "echo hi",
        "false",
        "(exit 2)",
        "cd /tmp",
        "for i in 1 2\rdo echo \"n;$i\"\rdone",
    ];
    wait_ready(t, 0);
    for (i, line) in typed.iter().enumerate() {
        // A multi-line command as a person types it: each line once the shell has shown
        // the last (typed in one burst on a loaded machine, the shell can read the next
        // line before it draws its continuation prompt).
        let parts: Vec<&str> = line.split('\r').collect();
        for (k, part) in parts.iter().enumerate() {
            t.press(part.as_bytes());
            t.press(b"\r");
            if k + 1 < parts.len() {
                assert!(t.wait_for(part, LIMIT), "{part:?} not echoed");
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        wait_ready(t, i + 1);
    }
    t.press(b"sleep 30\r");
    wait_count(t, C, typed.len() + 1);
    std::thread::sleep(Duration::from_millis(300));
    t.press(b"\x03");
    wait_ready(t, typed.len() + 1);
    t.press(b"exit\r");
    t.exit_code(LIMIT);
}

pub(crate) type Cut = Vec<(String, String, Option<i64>, String)>;

/// The last session's commands as (line, cwd, exit status, output).
pub(crate) fn cut(home: &Home) -> Cut {
    let id = home.ids().pop().unwrap();
    let v: serde_json::Value =
        serde_json::from_str(&home.ok(&["show", &id, "--commands", "--json"])).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert_eq!(c["source"], "integration", "{c}");
            (
                c["command"].as_str().unwrap().to_owned(),
                c["cwd"].as_str().unwrap_or("?").to_owned(),
                c["exit"].as_i64(),
                c["output"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// What the standard session cuts into, started in `user`'s home; `exit` prints
/// `exit_output` (bash says "exit", zsh nothing).
pub(crate) fn session_cut(user: &User, exit_output: &str) -> Cut {
    let start = user.dir.display().to_string();
    let want = [
        ("echo hi", &*start, Some(0), "hi\n"),
        ("false", &start, Some(1), ""),
        ("(exit 2)", &start, Some(2), ""),
        ("cd /tmp", &start, Some(0), ""),
        (
            "for i in 1 2\ndo echo \"n;$i\"\ndone",
            "/tmp",
            Some(0),
            "n;1\nn;2\n",
        ),
        ("sleep 30", "/tmp", Some(130), "^C\n"),
        ("exit", "/tmp", None, exit_output),
    ];
    want.iter()
        .map(|(c, d, s, o)| ((*c).to_owned(), (*d).to_owned(), *s, (*o).to_owned()))
        .collect()
}

/// The output without CSI sequences (colors, cursor moves), OSC kept.
pub(crate) fn plain(raw: &str) -> String {
    let mut out = String::new();
    let mut rest = raw;
    while let Some(i) = rest.find("\x1b[") {
        out.push_str(&rest[..i]);
        rest = &rest[i + 2..];
        let end = rest
            .find(|c: char| ('@'..='~').contains(&c))
            .map_or(rest.len(), |e| e + 1);
        rest = &rest[end..];
    }
    out + rest
}

/// The shell printed no error (a hook that failed, a command not found).
pub(crate) fn assert_no_errors(text: &str) {
    for bad in [
        "command not found",
        "bash: ",
        "zsh: ",
        "rror",
        "No such file",
    ] {
        assert!(!text.contains(bad), "{bad:?} printed: {text:?}");
    }
}

/// starship drew every prompt, each with the status of the command before it.
pub(crate) fn assert_starship_prompts(text: &str) {
    let text = plain(text);
    let prompts = [
        ("star> ", 4),
        ("star[1]!> ", 1),
        ("star[2]!> ", 1),
        ("star[130]!> ", 1),
    ];
    for (prompt, n) in prompts {
        assert_eq!(text.matches(prompt).count(), n, "{prompt:?}: {text:?}");
        // each one marked as a prompt: A before, B after
        let marked = format!("\x1b]133;A\x1b\\{prompt}\x1b]133;B\x1b\\");
        assert_eq!(text.matches(&marked).count(), n, "{marked:?}: {text:?}");
    }
}

fn starship_session(shell: &str, exit_output: &str) {
    let (Some(path), Some(starship)) = (shell_path(shell), starship()) else {
        return;
    };
    let home = Home::new();
    let user = User::new(&home);
    let rc = with_starship(&user, &starship, shell);
    user.write(if shell == "bash" { ".bashrc" } else { ".zshrc" }, &rc);
    let mut t = user.rec(&home, &path);
    type_session(&mut t);
    let text = raw(&home);
    assert_starship_prompts(&text);
    assert_no_errors(&text);
    assert_eq!(cut(&home), session_cut(&user, exit_output));
    assert_runtime_cleaned(&user, &home);
}

#[test]
fn bash_with_starship_cuts_each_command_once() {
    starship_session("bash", "exit\n");
}

#[test]
fn zsh_with_starship_cuts_each_command_once() {
    starship_session("zsh", "");
}

/// A starship prompt looks the same with integration.
fn starship_looks_the_same(shell: &str, rc: &str) {
    let (Some(path), Some(starship)) = (shell_path(shell), starship()) else {
        return;
    };
    let home = Home::new();
    let user = User::new(&home);
    let init = with_starship(&user, &starship, shell);
    user.write(rc, &init);
    let echo = "echo hi-$((6*7))";
    let plain = screen(&home, &user, &unintegrated(&home, &path), echo, "star> ");
    let marked = screen(&home, &user, &path, echo, "star> ");
    assert!(plain.contains("star> echo hi-$((6*7))"), "{plain}");
    assert_eq!(marked, plain, "the prompt looks the same with integration");
}

#[test]
fn bash_starship_prompt_looks_the_same() {
    starship_looks_the_same("bash", ".bashrc");
}

#[test]
fn zsh_starship_prompt_looks_the_same() {
    starship_looks_the_same("zsh", ".zshrc");
}

/// atuin's history of the session in `user`'s home, as (exit status, command line),
/// once it is `want` (atuin ends each entry in the background), or as it is after
/// [`LIMIT`].
pub(crate) fn atuin_history(
    atuin: &str,
    user: &User,
    want: &[(String, String)],
) -> Vec<(String, String)> {
    let deadline = Instant::now() + LIMIT;
    loop {
        let d = &user.dir;
        let out = std::process::Command::new(atuin)
            .args([
                "history",
                "list",
                "--print0",
                "--format",
                "{exit}\t{command}",
            ])
            .env("HOME", d)
            .env("XDG_CONFIG_HOME", d.join(".config"))
            .env("XDG_DATA_HOME", d.join(".local/share"))
            .env("ATUIN_SESSION", "0")
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let list: Vec<(String, String)> = String::from_utf8(out.stdout)
            .unwrap()
            .split('\0')
            .filter_map(|e| e.split_once('\t'))
            .map(|(s, c)| (s.to_owned(), c.trim_end_matches('\n').to_owned()))
            .collect();
        // atuin writes an entry's exit status after the command, in the background.
        if list == want || Instant::now() > deadline {
            return list;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub(crate) fn history(entries: &[(&str, &str)]) -> Vec<(String, String)> {
    entries
        .iter()
        .map(|(s, c)| ((*s).to_owned(), (*c).to_owned()))
        .collect()
}

/// What oh-my-zsh sets up (it is on no registry this project can reach): hooks added
/// with add-zsh-hook that set the window title, prompt_subst, a theme's PROMPT with
/// `%{…%}` colors and a function call, and an RPROMPT with the last status.
const OH_MY_ZSH_LIKE: &str = r#"autoload -Uz add-zsh-hook colors && colors
setopt prompt_subst
omz_title_precmd() { print -Pn "\e]2;%n: %~\a" }
omz_title_preexec() { print -Pn "\e]2;%100>...>${1//\%/%%}%<<\a" }
add-zsh-hook precmd omz_title_precmd
add-zsh-hook preexec omz_title_preexec
git_prompt_info() { [[ $PWD == /tmp ]] && echo -n "%{$fg[blue]%}git:main%{$reset_color%} " }
PROMPT='%(?:%{$fg_bold[green]%}➜ :%{$fg_bold[red]%}➜ )%{$fg[cyan]%}%c%{$reset_color%} $(git_prompt_info)'
RPROMPT='%(?.[ok].%{$fg[red]%}[%?]%{$reset_color%})'
"#;

#[test]
fn zsh_with_an_oh_my_zsh_style_setup_cuts_each_command_once() {
    let Some(zsh) = shell_path("zsh") else {
        return;
    };
    let home = Home::new();
    let user = User::new(&home);
    user.write(".zshrc", OH_MY_ZSH_LIKE);
    let mut t = user.rec(&home, &zsh);
    type_session(&mut t);
    let text = raw(&home);
    assert_no_errors(&text);
    assert_eq!(cut(&home), session_cut(&user, ""));
    let shown = plain(&text);
    // every prompt marked, the theme's function and RPROMPT ran, the title hooks too
    assert_eq!(shown.matches("\x1b]133;A\x1b\\➜ ").count(), 7, "{shown:?}");
    assert_eq!(shown.matches("➜ /tmp git:main \x1b]133;B").count(), 3);
    assert!(shown.contains("[130]"), "{shown:?}");
    assert!(text.contains("\x1b]2;cd /tmp\x07\x1b]633;E;cd /tmp\x1b\\"));
}

#[test]
fn zsh_oh_my_zsh_style_prompt_looks_the_same() {
    let Some(zsh) = shell_path("zsh") else {
        return;
    };
    let home = Home::new();
    let user = User::new(&home);
    user.write(".zshrc", &format!("{OH_MY_ZSH_LIKE}cd /tmp\n"));
    let echo = "echo hi-$((6*7))";
    let plain = screen(&home, &user, &unintegrated(&home, &zsh), echo, "git:main");
    let marked = screen(&home, &user, &zsh, echo, "git:main");
    assert!(plain.contains("[ok]"), "the RPROMPT: {plain}");
    assert_eq!(marked, plain, "the prompt looks the same with integration");
}
