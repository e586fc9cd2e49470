//! bash-preexec and atuin (its bash hooks run on bash-preexec; its zsh ones are zsh
//! hooks) next to fixcast's integration, alone and with starship and a user's hooks.
//! The tools come from the environment: see `integration_tools`.

use std::time::Duration;

use crate::integration_shells::{raw, shell_path, wait_ready, User, LIMIT};
use crate::integration_tools::{
    assert_no_errors, assert_starship_prompts, atuin, atuin_history, bash_preexec, cut, history,
    path_to, session_cut, starship, type_session, with_starship,
};
use crate::util::Home;

/// The user's own bash-preexec hooks, which log to ~/hooks.log.
const BASH_HOOKS: &str = "mine_pre() { printf 'pre:%s\\n' \"$1\" >>~/hooks.log; }
mine_post() { printf 'post:%s\\n' \"$?\" >>~/hooks.log; }
preexec_functions+=(mine_pre)
precmd_functions+=(mine_post)
";

/// What the user's hooks logged for the standard session.
fn hooks_log(user: &User) -> Vec<String> {
    let log = std::fs::read_to_string(user.dir.join("hooks.log")).unwrap_or_default();
    log.lines()
        // bash-preexec runs no preexec hook for a line that is only a subshell (it
        // sees none of it in its DEBUG trap), with fixcast or without
        .filter(|l| *l != "pre:(exit 2)")
        .map(str::to_owned)
        .collect()
}

fn session_hooks() -> Vec<String> {
    [
        "post:0",
        "pre:echo hi",
        "post:0",
        "pre:false",
        "post:1",
        "post:2",
        "pre:cd /tmp",
        "post:0",
        "pre:for i in 1 2; do echo \"n;$i\"; done",
        "post:0",
        "pre:sleep 30",
        "post:130",
        "pre:exit",
    ]
    .map(str::to_owned)
    .to_vec()
}

#[test]
fn bash_preexec_keeps_the_users_hooks_and_cuts_each_command_once() {
    let (Some(bash), Some(bp)) = (shell_path("bash"), bash_preexec()) else {
        return;
    };
    let home = Home::new();
    let user = User::new(&home);
    user.write(
        ".bashrc",
        &format!("PS1='bp> '\n{BASH_HOOKS}source '{bp}'\n"),
    );
    let mut t = user.rec(&home, &bash);
    type_session(&mut t);
    let text = raw(&home);
    assert_no_errors(&text);
    assert_eq!(
        text.matches("\x1b]133;A\x1b\\bp> \x1b]133;B\x1b\\").count(),
        7,
        "{text:?}"
    );
    assert_eq!(cut(&home), session_cut(&user, "exit\n"));
    assert_eq!(hooks_log(&user), session_hooks());
}

/// bash-preexec sourced last, as its README asks, after starship, atuin and a
/// PROMPT_COMMAND of the user's: starship sets PS1 in PROMPT_COMMAND after
/// bash-preexec's precmd hooks, and the user's preexec hooks see the first command too.
#[test]
fn bash_preexec_sourced_last_after_starship_and_atuin() {
    let (Some(bash), Some(bp), Some(starship), Some(atuin)) =
        (shell_path("bash"), bash_preexec(), starship(), atuin())
    else {
        return;
    };
    let home = Home::new();
    let user = User::new(&home);
    let rc = format!(
        "{}{}eval \"$(atuin init bash)\"\nPROMPT_COMMAND+=('echo pc >>~/pc.log')\n{BASH_HOOKS}source '{bp}'\n",
        path_to(&atuin),
        with_starship(&user, &starship, "bash"),
    );
    user.write(".bashrc", &rc);
    let mut t = user.rec(&home, &bash);
    type_session(&mut t);
    let text = raw(&home);
    assert_no_errors(&text);
    assert_starship_prompts(&text);
    assert_eq!(cut(&home), session_cut(&user, "exit\n"));
    assert_eq!(hooks_log(&user), session_hooks());
    let pc = std::fs::read_to_string(user.dir.join("pc.log")).unwrap();
    assert_eq!(
        pc.lines().count(),
        7,
        "the user's PROMPT_COMMAND at each prompt"
    );
    let want = history(&[
        ("0", "echo hi"),
        ("1", "false"),
        ("0", "cd /tmp"),
        ("0", "for i in 1 2; do echo \"n;$i\"; done"),
        ("130", "sleep 30"),
        ("-1", "exit"),
    ]);
    assert_eq!(atuin_history(&atuin, &user, &want), want);
}

/// atuin (on bash-preexec in bash) still records history, with starship's prompt.
fn atuin_session(shell: &str, rc: &str, history_for: &str) {
    let (Some(path), Some(starship), Some(atuin)) = (shell_path(shell), starship(), atuin()) else {
        return;
    };
    let bp = if shell == "bash" {
        let Some(bp) = bash_preexec() else { return };
        format!("source '{bp}'\n")
    } else {
        String::new()
    };
    let home = Home::new();
    let user = User::new(&home);
    let init = format!(
        "{}{bp}{}eval \"$(atuin init {shell})\"\n",
        path_to(&atuin),
        with_starship(&user, &starship, shell),
    );
    user.write(rc, &init);
    let mut t = user.rec(&home, &path);
    type_session(&mut t);
    let text = raw(&home);
    assert_no_errors(&text);
    assert_starship_prompts(&text);
    let exit_output = if shell == "bash" { "exit\n" } else { "" };
    assert_eq!(cut(&home), session_cut(&user, exit_output));
    let mut want = vec![("0", "echo hi"), ("1", "false")];
    if shell == "zsh" {
        want.push(("2", "(exit 2)"));
    }
    want.extend([
        ("0", "cd /tmp"),
        ("0", history_for),
        ("130", "sleep 30"),
        ("-1", "exit"),
    ]);
    let want = history(&want);
    assert_eq!(atuin_history(&atuin, &user, &want), want);
}

#[test]
fn bash_with_atuin_and_starship_cuts_each_command_once() {
    atuin_session("bash", ".bashrc", "for i in 1 2; do echo \"n;$i\"; done");
}

#[test]
fn zsh_with_atuin_and_starship_cuts_each_command_once() {
    atuin_session("zsh", ".zshrc", "for i in 1 2\ndo echo \"n;$i\"\ndone");
}

/// A command picked in atuin's search (Ctrl-R) and run at once (enter_accept): in
/// bash, atuin runs it from its key binding, then PROMPT_COMMAND, itself.
fn atuin_search_runs_a_command(shell: &str, rc: &str, exit_output: &str) {
    let (Some(path), Some(atuin)) = (shell_path(shell), atuin()) else {
        return;
    };
    let bp = if shell == "bash" {
        let Some(bp) = bash_preexec() else { return };
        format!("source '{bp}'\n")
    } else {
        String::new()
    };
    let home = Home::new();
    let user = User::new(&home);
    std::fs::create_dir_all(user.dir.join(".config/atuin")).unwrap();
    user.write(
        ".config/atuin/config.toml",
        "enter_accept = true\nupdate_check = false\n",
    );
    let init = format!(
        "PS1='at> '\n{}{bp}eval \"$(atuin init {shell})\"\n",
        path_to(&atuin)
    );
    user.write(rc, &init);
    let mut t = user.rec(&home, &path);
    wait_ready(&mut t, 0);
    for (i, line) in ["echo one-1", "echo two-2", "true"].iter().enumerate() {
        t.press(line.as_bytes());
        t.press(b"\r");
        wait_ready(&mut t, i + 1);
    }
    t.press(b"\x12");
    // atuin's search asks where the cursor is, as a terminal would be asked
    assert!(t.wait_for("\x1b[6n", LIMIT), "{:?}", t.seen_text());
    t.press(b"\x1b[5;1R");
    // Then it draws its list (and keeps redrawing it: it is never quiet), and redraws
    // it for the query.
    std::thread::sleep(Duration::from_millis(1000));
    t.press(b"two");
    std::thread::sleep(Duration::from_millis(1000));
    t.press(b"\r");
    wait_ready(&mut t, 4);
    // the next command is cut as usual
    t.press(b"echo three\r");
    wait_ready(&mut t, 5);
    t.press(b"exit\r");
    t.exit_code(LIMIT);
    let text = raw(&home);
    assert_no_errors(&text);
    let start = user.dir.display().to_string();
    let want = [
        ("echo one-1", "one-1\n"),
        ("echo two-2", "two-2\n"),
        ("true", ""),
        ("echo two-2", "two-2\n"),
        ("echo three", "three\n"),
        ("exit", exit_output),
    ];
    let want: Vec<_> = want
        .iter()
        .map(|(c, o)| {
            let s = if *c == "exit" { None } else { Some(0) };
            ((*c).to_owned(), start.clone(), s, (*o).to_owned())
        })
        .collect();
    assert_eq!(cut(&home), want);
    let lines: Vec<_> = want[..5].iter().map(|w| ("0", w.0.as_str())).collect();
    let mut lines = history(&lines);
    lines.push(("-1".to_owned(), "exit".to_owned()));
    assert_eq!(atuin_history(&atuin, &user, &lines), lines);
}

#[test]
fn bash_atuin_search_runs_a_command_that_is_cut_once() {
    atuin_search_runs_a_command("bash", ".bashrc", "exit\n");
}

#[test]
fn zsh_atuin_search_runs_a_command_that_is_cut_once() {
    atuin_search_runs_a_command("zsh", ".zshrc", "");
}
