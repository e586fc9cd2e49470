//! Sessions cut into commands: real bash with fixcast's integration, nested shells
//! without it, and the cases people debug with (chattr, the loader trick, failures).

use std::time::Duration;

use serde_json::Value;

use crate::on_terminal::OnTerminal;
use crate::util::Home;

pub(crate) const PROMPT: &str = "[fx]$ ";
pub(crate) const WAIT: Duration = Duration::from_secs(20);

/// An interactive bash under `fixcast rec`, with integration and a known prompt.
pub(crate) struct Shell {
    pub(crate) t: OnTerminal,
    pub(crate) prompts: usize,
}

impl Shell {
    pub(crate) fn start(home: &Home) -> Shell {
        let user_home = home.path().join("user");
        std::fs::create_dir_all(&user_home).unwrap();
        std::fs::write(user_home.join(".bashrc"), format!("PS1='{PROMPT}'\n")).unwrap();
        let user_home = user_home.display().to_string();
        let mut t = OnTerminal::start_with(
            home,
            &["rec", "-t", "debugging"],
            &[
                ("SHELL", "/bin/bash"),
                ("HOME", &user_home),
                ("HISTFILE", "/dev/null"),
            ],
        );
        assert!(
            t.wait_for_count(PROMPT, 1, WAIT),
            "no prompt: {}",
            t.seen_text()
        );
        Shell { t, prompts: 1 }
    }

    /// Types `keys` (lines end in `\r`) and waits for the prompt `prompts` more times.
    pub(crate) fn run(&mut self, keys: &str, prompts: usize) {
        self.t.press(keys.as_bytes());
        self.prompts += prompts;
        assert!(
            self.t.wait_for_count(PROMPT, self.prompts, WAIT),
            "after {keys:?}: {}",
            self.t.seen_text()
        );
    }

    /// Types into a program that is not our prompt, and waits for `text`.
    fn type_until(&mut self, keys: &str, text: &str) {
        self.t.press(keys.as_bytes());
        assert!(
            self.t.wait_for(text, WAIT),
            "after {keys:?}: {}",
            self.t.seen_text()
        );
    }

    pub(crate) fn exit(mut self) {
        self.t.press(b"exit\r");
        assert_eq!(self.t.exit_code(WAIT), 0);
    }
}

fn commands(home: &Home) -> Vec<Value> {
    let id = &home.ids()[0];
    let v: Value = serde_json::from_str(&home.ok(&["show", id, "--commands", "--json"])).unwrap();
    v.as_array().unwrap().clone()
}

fn find<'a>(cmds: &'a [Value], line: &str) -> &'a Value {
    cmds.iter()
        .find(|c| c["command"] == line)
        .unwrap_or_else(|| panic!("no command {line:?} in {:#?}", lines(cmds)))
}

fn lines(cmds: &[Value]) -> Vec<String> {
    cmds.iter()
        .map(|c| c["command"].as_str().unwrap().to_owned())
        .collect()
}

fn loader() -> String {
    std::fs::read_dir("/lib64")
        .into_iter()
        .chain(std::fs::read_dir("/lib"))
        .flatten()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("ld-linux")
        })
        .expect("a dynamic loader")
        .display()
        .to_string()
}

#[test]
fn a_fix_session_is_cut_into_its_commands() {
    let home = Home::new();
    let work = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let dir = work.path().display().to_string();
    let ld = loader();
    let mut sh = Shell::start(&home);
    sh.run(&format!("cd {dir}\r"), 1);
    sh.run("echo data > f; lsattr f\r", 1);
    sh.run("chattr +i f\r", 1);
    sh.run("echo more >> f\r", 1);
    sh.run("lsattr f\r", 1);
    sh.run("chattr -i f\r", 1);
    sh.run("echo more >> f\r", 1);
    sh.run("cp /bin/chmod ./chmod && chmod -x ./chmod\r", 1);
    sh.run("./chmod +x ./chmod\r", 1);
    sh.run(&format!("{ld} ./chmod +x ./chmod\r"), 1);
    sh.exit();

    let cmds = commands(&home);
    assert_eq!(
        lines(&cmds),
        vec![
            format!("cd {dir}"),
            "echo data > f; lsattr f".into(),
            "chattr +i f".into(),
            "echo more >> f".into(),
            "lsattr f".into(),
            "chattr -i f".into(),
            "echo more >> f".into(),
            "cp /bin/chmod ./chmod && chmod -x ./chmod".into(),
            "./chmod +x ./chmod".into(),
            format!("{ld} ./chmod +x ./chmod"),
            "exit".into(),
        ]
    );
    assert!(cmds.iter().take(10).all(|c| c["source"] == "integration"));
    let denied = &cmds[3];
    assert_eq!(denied["exit"], 1);
    assert!(
        denied["output"]
            .as_str()
            .unwrap()
            .contains("Operation not permitted"),
        "{denied}"
    );
    assert_eq!(denied["cwd"], dir.as_str(), "cwd after cd");
    assert!(
        cmds[4]["output"].as_str().unwrap().contains("----i"),
        "{}",
        cmds[4]
    );
    assert_eq!(cmds[6]["exit"], 0, "the fix worked");
    assert_eq!(cmds[8]["exit"], 126);
    assert_eq!(cmds[9]["exit"], 0);
    assert_eq!(
        cmds[9]["command"],
        format!("{ld} ./chmod +x ./chmod"),
        "exactly as typed"
    );
    let t: Vec<f64> = cmds.iter().map(|c| c["start"].as_f64().unwrap()).collect();
    assert!(t.windows(2).all(|w| w[0] <= w[1]), "in order: {t:?}");
    let seqs: Vec<u64> = cmds.iter().map(|c| c["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=11).collect::<Vec<u64>>());

    // One command's output on its own, and the table.
    let id = &home.ids()[0];
    let out = home.ok(&["export", id, "--format", "txt", "--command", "4"]);
    assert!(out.contains("Operation not permitted"), "{out}");
    let table = home.ok(&["show", id, "--commands"]);
    assert!(
        table.contains("chattr -i f") && table.contains(&dir),
        "{table}"
    );
    let bad = home.run(&["export", id, "--format", "txt", "--command", "99"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no command 99"));
}

#[test]
fn the_hard_cases_come_out_right() {
    let home = Home::new();
    let mut sh = Shell::start(&home);
    sh.run("ls /nonexistent-dir\r", 1);
    sh.t.press(b"sleep 30\r");
    // Ctrl-C before bash has read the line would flush it from the terminal: wait until
    // the command is marked as started.
    assert!(
        sh.t.wait_for_count("\x1b]133;C", 2, WAIT),
        "{}",
        sh.t.seen_text()
    );
    std::thread::sleep(Duration::from_millis(200));
    sh.run("\x03", 1);
    sh.run("true\r", 1);
    sh.run("for i in 1 2 3\rdo echo n$i\rdone\r", 1);
    sh.run("cat <<EOF\rhello doc\rEOF\r", 1);
    sh.run("echo one \\\rtwo\r", 1);
    sh.run("seq 1 10000\r", 1);
    sh.run("printf '10%%\\r50%%\\r100%%\\n'\r", 1);
    sh.run("echo 'café 中文 🎉'\r", 1);
    // Typed while the previous command still prints.
    sh.t.press(b"seq 1 20000; echo after\r");
    sh.run("echo typed-ahead\r", 2);
    sh.exit();

    let cmds = commands(&home);
    assert_eq!(
        lines(&cmds),
        vec![
            "ls /nonexistent-dir",
            "sleep 30",
            "true",
            "for i in 1 2 3\ndo echo n$i\ndone",
            "cat <<EOF\nhello doc\nEOF",
            "echo one \\\ntwo",
            "seq 1 10000",
            "printf '10%%\\r50%%\\r100%%\\n'",
            "echo 'café 中文 🎉'",
            "seq 1 20000; echo after",
            "echo typed-ahead",
            "exit",
        ],
        "multi-line commands as typed; keys typed ahead are not extra commands"
    );
    assert_eq!(find(&cmds, "ls /nonexistent-dir")["exit"], 2);
    let sleep = find(&cmds, "sleep 30");
    assert_eq!(sleep["exit"], 130, "Ctrl-C");
    let quiet = find(&cmds, "true");
    assert_eq!(
        (&quiet["exit"], quiet["output"].as_str().unwrap()),
        (&Value::from(0), "")
    );
    let for_loop = cmds
        .iter()
        .find(|c| c["command"].as_str().unwrap().starts_with("for i in 1 2 3"))
        .expect("the for loop");
    assert_eq!(for_loop["output"], "n1\nn2\nn3\n");
    let heredoc = find(&cmds, "cat <<EOF\nhello doc\nEOF");
    assert_eq!(heredoc["output"], "hello doc\n");
    let cont = cmds
        .iter()
        .find(|c| c["command"].as_str().unwrap().starts_with("echo one"))
        .unwrap();
    assert_eq!(cont["output"], "one two\n");
    let seq = find(&cmds, "seq 1 10000")["output"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        seq.lines().count(),
        10000,
        "lines that scrolled away are kept"
    );
    assert!(seq.starts_with("1\n2\n") && seq.ends_with("9999\n10000\n"));
    assert_eq!(
        find(&cmds, "printf '10%%\\r50%%\\r100%%\\n'")["output"],
        "100%\n"
    );
    assert_eq!(
        find(&cmds, "echo 'café 中文 🎉'")["output"],
        "café 中文 🎉\n"
    );
    let flood = find(&cmds, "seq 1 20000; echo after");
    assert!(flood["output"]
        .as_str()
        .unwrap()
        .ends_with("20000\nafter\n"));
    assert_eq!(find(&cmds, "echo typed-ahead")["output"], "typed-ahead\n");
}

#[test]
fn nested_shells_without_integration_are_cut_by_the_heuristic() {
    let home = Home::new();
    let mut sh = Shell::start(&home);
    sh.run("echo outer\r", 1);
    sh.t.press(b"PS1='bash-5.2# ' bash --norc --noprofile\r");
    // In the echo of the line typed, in the integration's copy of it (OSC 633;E), and
    // as the nested shell's prompt.
    assert!(sh.t.wait_for_count("bash-5.2# ", 3, WAIT));
    sh.type_until("echo inner-$((2+3))\r", "inner-5\r\n");
    assert!(
        sh.t.wait_for_count("bash-5.2# ", 4, WAIT),
        "the next nested prompt"
    );
    sh.t.press(b"exit\r");
    sh.prompts += 1;
    assert!(sh.t.wait_for_count(PROMPT, sh.prompts, WAIT));
    sh.t.press(b"PS1='/ # ' sh\r");
    assert!(sh.t.wait_for_count("/ # ", 3, WAIT));
    sh.type_until("echo in-sh-$((6*7))\r", "in-sh-42");
    assert!(
        sh.t.wait_for_count("/ # ", 4, WAIT),
        "the next nested prompt"
    );
    sh.t.press(b"exit\r");
    sh.prompts += 1;
    assert!(sh.t.wait_for_count(PROMPT, sh.prompts, WAIT));
    sh.run("echo back\r", 1);
    sh.exit();

    let cmds = commands(&home);
    let got: Vec<(String, String)> = cmds
        .iter()
        .map(|c| {
            (
                c["command"].as_str().unwrap().to_owned(),
                c["source"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("echo outer", "integration"),
        ("PS1='bash-5.2# ' bash --norc --noprofile", "integration"),
        ("echo inner-$((2+3))", "heuristic"),
        ("exit", "heuristic"),
        ("PS1='/ # ' sh", "integration"),
        ("echo in-sh-$((6*7))", "heuristic"),
        ("exit", "heuristic"),
        ("echo back", "integration"),
        ("exit", "integration"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(got, want);
    assert_eq!(find(&cmds, "echo inner-$((2+3))")["output"], "inner-5\n");
    assert!(
        find(&cmds, "echo in-sh-$((6*7))")["exit"].is_null(),
        "a heuristic command's status is unknown"
    );
    assert_eq!(find(&cmds, "echo back")["output"], "back\n");

    // Exports carry every command as a marker (chapters in any player).
    let id = &home.ids()[0];
    let cast = home.ok(&["export", id, "--format", "cast-v3"]);
    for label in [
        "echo outer",
        "echo inner-$((2+3))",
        "echo in-sh-$((6*7))",
        "echo back",
    ] {
        let marker = format!("\"m\", {}", serde_json::to_string(label).unwrap());
        assert!(cast.contains(&marker), "no marker for {label}");
    }
}
