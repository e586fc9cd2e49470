use super::*;
// Every cutting test below also checks that each command renders again to its output.
use super::again::cut_checked as cut_commands;

fn out(t: u64, s: &str) -> Event {
    Event::new(t, EventKind::Output(s.to_owned()))
}

fn enter(t: u64) -> Event {
    Event::new(t, EventKind::Input(String::new()))
}

fn osc(s: &str) -> String {
    format!("\x1b]{s}\x07")
}

fn integrated(prompt_cwd: &str, line: &str, output: &str, status: i32) -> String {
    format!(
        "{}{}$ {}{line}\r\n{}{}{output}{}",
        osc(&format!("7;file://host{prompt_cwd}")),
        osc("133;A"),
        osc("133;B"),
        osc(&format!("633;E;{}", line.replace(';', "\\x3b"))),
        osc("133;C"),
        osc(&format!("133;D;{status}")),
    )
}

#[test]
fn integration_marks_make_commands_with_status_cwd_and_output() {
    let events = vec![
        out(
            1_000_000,
            &integrated("/root", "lsattr f", "----i---------e------- f\r\n", 0),
        ),
        out(
            2_000_000,
            &integrated(
                "/root",
                "echo x > f; ls",
                "bash: f: Operation not permitted\r\n",
                1,
            ),
        ),
        out(3_000_000, &format!("{}{}$ ", osc("133;A"), osc("133;B"))),
    ];
    let cmds = cut_commands(80, 24, None, &events);
    assert_eq!(cmds.len(), 2);
    assert_eq!(cmds[0].command, "lsattr f");
    assert_eq!(cmds[0].exit, Some(0));
    assert_eq!(cmds[0].cwd.as_deref(), Some("/root"));
    assert_eq!(cmds[0].output, "----i---------e------- f\n");
    assert_eq!(cmds[0].source, CommandSource::Integration);
    assert_eq!(cmds[1].command, "echo x > f; ls");
    assert_eq!(cmds[1].exit, Some(1));
    assert_eq!(cmds[1].output, "bash: f: Operation not permitted\n");
    assert_eq!((cmds[0].seq, cmds[1].seq), (1, 2));
    assert_eq!(cmds[1].start, 2.0);
}

#[test]
fn a_command_with_look_alike_characters_is_flagged_on_its_record() {
    let events = vec![
        out(1_000_000, &integrated("/root", "kubeсtl get pods", "", 0)),
        out(2_000_000, &integrated("/root", "kubectl get pods", "", 0)),
        out(3_000_000, &format!("{}{}$ ", osc("133;A"), osc("133;B"))),
    ];
    let cmds = cut_commands(80, 24, None, &events);
    assert!(cmds[0].suspicious);
    assert_eq!(cmds[0].confusables[0].code_point, "U+0441");
    assert_eq!(cmds[0].confusables[0].looks_like, "c");
    assert!(!cmds[1].suspicious && cmds[1].confusables.is_empty());
}

/// A bash session typing `lines` at a prompt and its continuation prompts, reported by
/// history as `reported`.
fn typed_over_lines(lines: &[&str], reported: &str) -> Vec<CommandRecord> {
    let mut typed = format!("{}[fx]$ {}", osc("133;A"), osc("133;B"));
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            typed += &format!("{}> {}", osc("133;A;k=s"), osc("133;B"));
        }
        typed += &format!("{line}\r\n");
    }
    typed += &osc(&format!("633;E;{}", reported.replace(';', "\\x3b")));
    typed += &osc("133;C");
    typed += &format!("out\r\n{}", osc("133;D;0"));
    let events = vec![
        out(1_000_000, &typed),
        out(2_000_000, &format!("{}{}$ ", osc("133;A"), osc("133;B"))),
    ];
    cut_commands(80, 24, None, &events)
}

#[test]
fn a_multi_line_command_keeps_its_lines_as_typed() {
    let cmds = typed_over_lines(
        &["for i in 1 2", "do echo \"n;$i\"", "done"],
        "for i in 1 2; do echo \"n;$i\"; done",
    );
    assert_eq!(cmds[0].command, "for i in 1 2\ndo echo \"n;$i\"\ndone");
    assert_eq!(cmds[0].output, "out\n");
    let cmds = typed_over_lines(&["echo one \\", "two"], "echo one two");
    assert_eq!(cmds[0].command, "echo one \\\ntwo");
}

#[test]
fn a_screen_that_disagrees_with_the_shell_leaves_its_line() {
    // Something else printed between the prompts: the shell's line is the truth.
    let cmds = typed_over_lines(&["for i in 1 2", "do echo $i", "done"], "echo other");
    assert_eq!(cmds[0].command, "echo other");
    let cmds = typed_over_lines(&["ls"], "ls -la");
    assert_eq!(cmds[0].command, "ls -la");
}

#[test]
fn enter_at_an_integrated_prompt_is_left_to_integration() {
    let events = vec![
        out(1, &format!("{}{}$ ls", osc("133;A"), osc("133;B"))),
        enter(2),
        out(
            3,
            &format!(
                "\r\n{}{}a b\r\n{}",
                osc("633;E;ls"),
                osc("133;C"),
                osc("133;D;0")
            ),
        ),
    ];
    let cmds = cut_commands(80, 24, None, &events);
    assert_eq!(cmds.len(), 1);
    assert_eq!(cmds[0].source, CommandSource::Integration);
}

#[test]
fn plain_shells_are_cut_at_enter_with_the_prompt_stripped() {
    let events = vec![
        out(1, "root@node1:/# ls /srv"),
        enter(2),
        out(3, "\r\nweb  db\r\nroot@node1:/# cat /etc/hostname"),
        enter(4),
        out(5, "\r\nnode1\r\nroot@node1:/# "),
        enter(6),
        out(7, "\r\nroot@node1:/# "),
    ];
    let cmds = cut_commands(80, 24, None, &events);
    assert_eq!(cmds.len(), 2, "{cmds:?}");
    assert_eq!(cmds[0].command, "ls /srv");
    assert_eq!(cmds[0].output, "web  db\n");
    assert_eq!(cmds[0].exit, None);
    assert_eq!(cmds[0].source, CommandSource::Heuristic);
    assert_eq!(cmds[1].command, "cat /etc/hostname");
    assert_eq!(cmds[1].output, "node1\n");
}

#[test]
fn continuation_lines_join_the_command() {
    let events = vec![
        out(1, "$ for i in 1 2; do"),
        enter(2),
        out(3, "\r\n> echo $i"),
        enter(4),
        out(5, "\r\n> done"),
        enter(6),
        out(7, "\r\n1\r\n2\r\n$ "),
        enter(8),
    ];
    let cmds = cut_commands(80, 24, None, &events);
    assert_eq!(cmds.len(), 1, "{cmds:?}");
    assert_eq!(cmds[0].command, "for i in 1 2; do\necho $i\ndone");
    assert_eq!(cmds[0].output, "1\n2\n");
}

#[test]
fn nested_plain_shells_inside_an_integrated_one() {
    let events = vec![
        out(
            1,
            &format!(
                "{}{}$ sh\r\n{}{}",
                osc("133;A"),
                osc("133;B"),
                osc("633;E;sh"),
                osc("133;C")
            ),
        ),
        out(2, "# echo nested"),
        enter(3),
        out(4, "\r\nnested\r\n# exit"),
        enter(5),
        out(
            6,
            &format!("\r\n{}{}{}$ ", osc("133;D;0"), osc("133;A"), osc("133;B")),
        ),
        out(7, &integrated("/", "echo back", "back\r\n", 0)),
    ];
    let cmds = cut_commands(80, 24, None, &events);
    let lines: Vec<_> = cmds
        .iter()
        .map(|c| (c.command.as_str(), c.source))
        .collect();
    assert_eq!(
        lines,
        vec![
            ("sh", CommandSource::Integration),
            ("echo nested", CommandSource::Heuristic),
            ("exit", CommandSource::Heuristic),
            ("echo back", CommandSource::Integration),
        ]
    );
    assert_eq!(cmds[1].output, "nested\n");
    assert_eq!(cmds[0].exit, Some(0));
}

#[test]
fn enter_in_a_full_screen_program_is_not_a_command() {
    let events = vec![
        out(1, "$ vim notes"),
        enter(2),
        out(3, "\r\n\x1b[?1049h\x1b[Hediting"),
        enter(4),
        enter(5),
        out(6, "\x1b[H\x1b[2Ksaved\x1b[?1049l$ "),
        enter(7),
    ];
    let cmds = cut_commands(80, 24, None, &events);
    assert_eq!(cmds.len(), 1, "{cmds:?}");
    assert_eq!(cmds[0].command, "vim notes");
    assert!(cmds[0].full_screen);
    assert_eq!(cmds[0].output, "saved\n");
}

#[test]
fn a_recorded_command_is_one_command_with_the_session_exit_status() {
    let events = vec![
        out(1, "10%\r50%\r100%\r\ndone\r\n"),
        Event::new(2, EventKind::Exit(3)),
    ];
    let cmds = cut_commands(80, 24, Some("./install.sh"), &events);
    assert_eq!(cmds.len(), 1);
    assert_eq!(cmds[0].command, "./install.sh");
    assert_eq!(cmds[0].exit, Some(3));
    assert_eq!(
        cmds[0].output, "100%\ndone\n",
        "progress collapses to its final state"
    );
}

#[test]
fn wrapped_command_lines_are_joined() {
    let long = "x".repeat(30);
    let events = vec![out(1, &format!("$ echo {long}")), enter(2), out(3, "\r\n")];
    let cmds = cut_commands(20, 5, None, &events);
    assert_eq!(cmds[0].command, format!("echo {long}"));
}

#[test]
fn enter_before_its_echo_waits_for_the_line_break() {
    // Keys typed ahead (or pasted) reach the recorder before the terminal echoes them.
    let events = vec![
        out(1, "$ "),
        enter(2),
        out(3, "ls /srv"),
        out(4, "\r\nweb  db\r\n$ "),
        enter(5),
        out(6, "pwd\r\n/\r\n$ "),
    ];
    let cmds = cut_commands(80, 24, None, &events);
    let got: Vec<(&str, &str)> = cmds
        .iter()
        .map(|c| (c.command.as_str(), c.output.as_str()))
        .collect();
    assert_eq!(got, vec![("ls /srv", "web  db\n"), ("pwd", "/\n")]);
    assert_eq!(
        cmds[0].start, 2e-6,
        "the command starts when Enter was pressed"
    );
}

#[test]
fn keys_typed_ahead_in_an_integrated_shell_are_not_extra_commands() {
    let events = vec![
        out(
            1,
            &format!(
                "{}{}$ seq 3\r\n{}{}",
                osc("133;A"),
                osc("133;B"),
                osc("633;E;seq 3"),
                osc("133;C")
            ),
        ),
        out(2, "1\r\n"),
        enter(3),
        out(
            4,
            &format!(
                "2\r\n3\r\n{}{}{}$ ",
                osc("133;D;0"),
                osc("133;A"),
                osc("133;B")
            ),
        ),
        out(
            5,
            &format!(
                "pwd\r\n{}{}/\r\n{}",
                osc("633;E;pwd"),
                osc("133;C"),
                osc("133;D;0")
            ),
        ),
    ];
    let cmds = cut_commands(80, 24, None, &events);
    let got: Vec<&str> = cmds.iter().map(|c| c.command.as_str()).collect();
    assert_eq!(got, vec!["seq 3", "pwd"]);
}

/// Keys typed (or piped) before an integrated shell is up: the terminal echoes them
/// before any mark, then the shell runs them at its first prompt, marked.
fn typed_before_the_first_prompt(lines: &[&str]) -> Vec<Event> {
    let mut events = vec![enter(1)];
    let mut t = 2;
    for line in lines {
        events.push(out(t, &format!("{line}\r\n")));
        events.push(enter(t + 1));
        t += 2;
    }
    events.pop();
    events.push(out(t, "welcome from bashrc\r\n"));
    for line in lines {
        t += 1;
        events.push(out(
            t,
            &integrated("/srv", line, &format!("ran {line}\r\n"), 0),
        ));
    }
    events.push(out(t + 1, &format!("{}{}$ ", osc("133;A"), osc("133;B"))));
    events
}

#[test]
fn lines_typed_before_an_integrated_shell_starts_are_one_command_each() {
    let events = typed_before_the_first_prompt(&["ls /", "pwd"]);
    let cmds = cut_commands(80, 24, None, &events);
    let got: Vec<(&str, CommandSource, &str)> = cmds
        .iter()
        .map(|c| (c.command.as_str(), c.source, c.output.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("ls /", CommandSource::Integration, "ran ls /\n"),
            ("pwd", CommandSource::Integration, "ran pwd\n"),
        ]
    );
    assert_eq!((cmds[0].seq, cmds[1].seq), (1, 2));
    assert_snapshots_match(&events);
}

#[test]
fn lines_typed_ahead_that_no_integrated_command_ran_are_kept() {
    // A plain shell (no marks ever): its commands are cut at Enter as usual.
    let events = vec![
        enter(1),
        out(2, "ls /\r\n"),
        out(3, "bin etc\r\n$ "),
        enter(4),
        out(5, "pwd\r\n/\r\n$ "),
    ];
    let got: Vec<String> = cut_commands(80, 24, None, &events)
        .into_iter()
        .map(|c| c.command)
        .collect();
    assert_eq!(got, ["ls /", "pwd"]);
    // Integration that starts later and runs something else leaves the line alone.
    let mut events = vec![enter(1), out(2, "read x\r\n")];
    events.push(out(3, &integrated("/srv", "true", "", 0)));
    let got: Vec<String> = cut_commands(80, 24, None, &events)
        .into_iter()
        .map(|c| c.command)
        .collect();
    assert_eq!(got, ["read x", "true"]);
}

/// Feeds `events` one by one; after each output (when no Enter waits for its echo), the
/// snapshot is what cutting the recording up to there gives.
fn assert_snapshots_match(events: &[Event]) {
    let mut cutter = Cutter::new(80, 24, None);
    for (i, ev) in events.iter().enumerate() {
        cutter.event(ev);
        if matches!(ev.kind, EventKind::Output(_)) {
            assert_eq!(
                cutter.snapshot(true),
                cut_commands(80, 24, None, &events[..=i]),
                "after event {i}"
            );
        }
    }
}

#[test]
fn a_snapshot_of_a_growing_recording_is_what_cutting_it_so_far_gives() {
    assert_snapshots_match(&[
        out(
            1_000_000,
            &integrated("/root", "lsattr f", "----i---- f\r\n", 0),
        ),
        out(2_000_000, &format!("{}{}$ ", osc("133;A"), osc("133;B"))),
        out(2_500_000, "make\r\n"),
        out(3_000_000, &format!("{}{}", osc("633;E;make"), osc("133;C"))),
        out(3_100_000, "cc -c a.c\r\n\x1b[1mbuilding\x1b[0m 10%"),
        out(3_200_000, "\r100%\r\n"),
        out(
            4_000_000,
            &format!("{}{}{}$ ", osc("133;D;2"), osc("133;A"), osc("133;B")),
        ),
    ]);
    assert_snapshots_match(&[
        out(1, "root@node1:/# ls /srv"),
        enter(2),
        out(3, "\r\nweb  db\r\nroot@node1:/# cat /etc/hostname"),
        enter(4),
        out(5, "\r\nnode1\r\n"),
        out(6, "more\r\nroot@node1:/# "),
    ]);
}

#[test]
fn a_snapshot_leaves_the_running_command_open() {
    let mut cutter = Cutter::new(80, 24, None);
    cutter.event(&out(
        1_000_000,
        &format!("{}{}$ ", osc("133;A"), osc("133;B")),
    ));
    cutter.event(&out(
        2_000_000,
        &format!("{}{}first\r\n", osc("633;E;tail -f log"), osc("133;C")),
    ));
    let early = cutter.snapshot(true);
    assert_eq!(cutter.snapshot(false)[0].output, "");
    assert_eq!((early.len(), early[0].output.as_str()), (1, "first\n"));
    assert_eq!(early[0].exit, None);
    cutter.event(&out(3_000_000, &format!("second\r\n{}", osc("133;D;130"))));
    let done = cutter.finish();
    assert_eq!(done[0].output, "first\nsecond\n");
    assert_eq!(done[0].exit, Some(130));
}

/// What fish 4 prints by itself: A with an option, no B, the command line in C
/// (percent-encoded, BEL-terminated), its own OSC 7 when PWD changes, and an A for
/// `read`'s prompt inside a command.
#[test]
fn fish_4_marks_make_each_command_once_with_the_line_from_c() {
    let a = osc("133;A;special_key=1");
    let events = vec![
        out(1, &format!("{}{a}> ", osc("7;file://host/root"))),
        out(
            2,
            &format!(
                "cd /tmp\r\n{}{}{}",
                osc("133;C;cmdline_url=cd%20/tmp"),
                osc("7;file://host/tmp"),
                osc("133;D;0")
            ),
        ),
        out(3, &format!("{}{a}> ", osc("7;file://host/tmp"))),
        out(
            4,
            &format!(
                "for i in 1\r\n echo \"n;$i\"\r\nend\r\n{}n;1\r\n{}",
                osc("133;C;cmdline_url=for%20i%20in%201%0Aecho%20%22n%3B%24i%22%0Aend"),
                osc("133;D;3")
            ),
        ),
        out(5, &format!("{}{a}> ", osc("7;file://host/tmp"))),
        out(
            6,
            &format!(
                "read x; echo got-$x\r\n{}{a}read> ",
                osc("133;C;cmdline_url=read%20x%3B%20echo%20got-%24x"),
            ),
        ),
        out(7, "bob"),
        enter(8),
        out(9, &format!("\r\ngot-bob\r\n{}{a}> ", osc("133;D;0"))),
    ];
    let cmds = cut_commands(80, 24, None, &events);
    let got: Vec<_> = cmds
        .iter()
        .map(|c| {
            (
                c.command.as_str(),
                c.cwd.as_deref(),
                c.exit,
                c.output.as_str(),
                c.source,
            )
        })
        .collect();
    let i = CommandSource::Integration;
    assert_eq!(
        got,
        vec![
            ("cd /tmp", Some("/root"), Some(0), "", i),
            (
                "for i in 1\necho \"n;$i\"\nend",
                Some("/tmp"),
                Some(3),
                "n;1\n",
                i
            ),
            (
                "read x; echo got-$x",
                Some("/tmp"),
                Some(0),
                "read> bob\ngot-bob\n",
                i
            ),
        ]
    );
}

#[test]
fn a_command_line_is_never_carried_over_to_a_later_command() {
    let events = vec![out(
        1,
        &format!(
            "{}{}{}$ ls\r\n{}{}{}$ pwd\r\n{}{}{}",
            osc("133;C;cmdline_url=true"),
            osc("633;E;late"),
            osc("133;D;0"),
            osc("133;C"),
            osc("133;D;0"),
            osc("133;A"),
            osc("133;C"),
            osc("633;E;pwd -P"),
            osc("133;D;0"),
        ),
    )];
    let cmds = cut_commands(80, 24, None, &events);
    let got: Vec<&str> = cmds.iter().map(|c| c.command.as_str()).collect();
    // A late line replaces one read off the screen, and is never the next one's.
    assert_eq!(got, vec!["true", "ls", "pwd -P"]);
}

#[test]
fn one_row_and_one_column_terminals_are_cut_with_their_text() {
    // `vt100` panics below 2×2: a wrap on one row, a wide character on one column.
    let long = "a line longer than ten 中文";
    let events = vec![
        out(
            100_000,
            &integrated("/tmp", "echo narrow", &format!("{long}\r\n"), 0),
        ),
        Event::new(200_000, EventKind::Resize { cols: 1, rows: 1 }),
        out(300_000, &integrated("/tmp", "echo tiny", "中 wraps\r\n", 0)),
    ];
    for (cols, rows) in [(10, 1), (1, 1), (1, 10), (0, 0)] {
        let cmds = cut_commands(cols, rows, None, &events);
        let lines: Vec<&str> = cmds.iter().map(|c| c.command.as_str()).collect();
        assert_eq!(lines, ["echo narrow", "echo tiny"], "{cols}x{rows}");
        assert!(
            cmds[0].output.contains(long) || cols < 2,
            "{cols}x{rows}: {cmds:#?}"
        );
        assert!(cmds[1].output.contains("wraps"), "{cols}x{rows}: {cmds:#?}");
    }
}
