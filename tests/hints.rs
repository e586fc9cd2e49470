//! "Seen before" in `fixcast rec`: a real bash on a real terminal fails with an error a
//! past session fixed, and the line naming that fix comes before the next prompt, on
//! the terminal only (never in the recording); not with `--no-hints` or `[rec] hints =
//! false`, not for an unknown or an unresolved error, and a bad index never breaks rec.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::on_terminal::OnTerminal;
use crate::util::Home;

const PROMPT: &str = "[fx]$ ";
const WAIT: Duration = Duration::from_secs(20);
const SEEN: &str = "fixcast: seen before";

/// bash under `fixcast rec ARGS`, with integration and a known prompt.
struct Shell {
    t: OnTerminal,
    prompts: usize,
}

impl Shell {
    /// `wait_ms`: how long the prompt may wait for a hint (the default 50 ms is too
    /// tight for a debug build on a loaded test machine); `None` keeps the default.
    fn start(home: &Home, args: &[&str], wait_ms: Option<&str>) -> Shell {
        let user_home = home.path().join("user");
        std::fs::create_dir_all(&user_home).unwrap();
        std::fs::write(user_home.join(".bashrc"), format!("PS1='{PROMPT}'\n")).unwrap();
        let user_home = user_home.display().to_string();
        let mut env = vec![
            ("SHELL", "/bin/bash"),
            ("HOME", user_home.as_str()),
            ("HISTFILE", "/dev/null"),
        ];
        if let Some(ms) = wait_ms {
            env.push(("FIXCAST_HINT_WAIT_MS", ms));
        }
        let mut all = vec!["rec"];
        all.extend_from_slice(args);
        let mut t = OnTerminal::start_with(home, &all, &env);
        assert!(
            t.wait_for_count(PROMPT, 1, WAIT),
            "no prompt: {}",
            t.seen_text()
        );
        Shell { t, prompts: 1 }
    }

    /// Runs one line and waits for the next prompt; what was printed for it.
    fn run(&mut self, line: &str) -> String {
        let before = self.t.seen_text().len();
        self.t.press(format!("{line}\r").as_bytes());
        self.prompts += 1;
        assert!(
            self.t.wait_for_count(PROMPT, self.prompts, WAIT),
            "after {line:?}: {}",
            self.t.seen_text()
        );
        self.t.seen_text()[before..].to_owned()
    }

    fn exit(mut self) -> String {
        // `exit` alone would return the last failure's status.
        self.t.press(b"exit 0\r");
        assert_eq!(self.t.exit_code(WAIT), 0, "{}", self.t.seen_text());
        assert!(self.t.terminal_restored());
        self.t.seen_text()
    }
}

/// A session where `cat` fails on a missing file and `touch` fixes it, and a `mkdir`
/// fails for good; indexed when it ends. Its id.
fn fixed_before(home: &Home, dir: &Path) -> String {
    let before = home.ids();
    let mut sh = Shell::start(home, &["-t", "missing config"], None);
    sh.run(&format!("cd {}", dir.display()));
    sh.run(&format!("cat {}/app.conf", dir.display()));
    sh.run("touch app.conf");
    sh.run(&format!("cat {}/app.conf", dir.display()));
    sh.run("mkdir /proc/fixcast-a1/x");
    sh.exit();
    let new: Vec<String> = home
        .ids()
        .into_iter()
        .filter(|i| !before.contains(i))
        .collect();
    assert_eq!(new.len(), 1);
    new[0].clone()
}

/// The text after the last line of a command's output before its prompt.
fn hint_in(printed: &str) -> Option<String> {
    let line = printed.lines().find(|l| l.contains(SEEN))?;
    Some(line.trim_end_matches('\r').to_owned())
}

#[test]
fn a_known_error_gets_a_hint_before_the_prompt_never_in_the_recording() {
    let home = Home::new();
    let work = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let (one, two) = (work.path().join("one"), work.path().join("two"));
    std::fs::create_dir_all(&one).unwrap();
    std::fs::create_dir_all(&two).unwrap();
    let first = fixed_before(&home, &one);

    let mut sh = Shell::start(&home, &[], Some("5000"));
    sh.run(&format!("cd {}", two.display()));
    // Another path, a number in it: the same error once masked.
    let printed = sh.run(&format!("cat {}/other42.conf", two.display()));
    let hint = hint_in(&printed).unwrap_or_else(|| panic!("no hint in {printed:?}"));
    let short = &first[..10];
    assert!(
        hint.ends_with(&format!(
            "fixcast: seen before in \"missing config\" ({}): fixed by touch app.conf — fixcast show {short} --fix",
            time::OffsetDateTime::now_utc().date()
        )),
        "{hint:?}"
    );
    // Before the prompt, and after the error it answers.
    let (at, prompt) = (printed.find(SEEN).unwrap(), printed.rfind(PROMPT).unwrap());
    assert!(
        printed.find("No such file").unwrap() < at && at < prompt,
        "{printed:?}"
    );
    // What the hint names works as it says.
    let fix = home.ok(&["show", short, "--fix"]);
    assert!(fix.contains("touch app.conf"), "{fix}");

    // An error never seen says nothing; one seen but never fixed says nothing either.
    let printed = sh.run("ls --fixcast-no-such-flag");
    assert!(printed.contains("unrecognized option"), "{printed:?}");
    assert!(!printed.contains(SEEN), "{printed:?}");
    let printed = sh.run("mkdir /proc/fixcast-b2/y");
    assert!(printed.contains("No such file"), "{printed:?}");
    assert!(!printed.contains(SEEN), "{printed:?}");
    // A success says nothing, and the next known failure is told again.
    assert!(!sh.run("true").contains(SEEN));
    let printed = sh.run(&format!("cat {}/third.conf", two.display()));
    assert!(hint_in(&printed).is_some(), "{printed:?}");
    let all = sh.exit();
    assert_eq!(all.matches(SEEN).count(), 2, "{all}");

    // The recording and its commands never show the hint.
    let second = home.ids().into_iter().find(|i| *i != first).unwrap();
    let cast = home.zstd_dc(&second);
    let cast = String::from_utf8_lossy(&cast.stdout);
    assert!(
        cast.contains("other42.conf") && cast.contains("No such file"),
        "{cast}"
    );
    assert!(!cast.contains("seen before"), "{cast}");
    let cmds: Value =
        serde_json::from_str(&home.ok(&["show", &second, "--commands", "--json"])).unwrap();
    let cat = cmds
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["command"].as_str().unwrap().contains("other42.conf"))
        .expect("the failure is a command");
    assert_eq!(cat["exit"], 1);
    assert!(!cmds.to_string().contains("seen before"), "{cmds:#}");
}

#[test]
fn no_hints_when_turned_off_by_flag_or_config() {
    let home = Home::new();
    let work = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    fixed_before(&home, work.path());
    let missing = format!("cat {}/nothing7.conf", work.path().display());

    let mut sh = Shell::start(&home, &["--no-hints"], Some("5000"));
    let printed = sh.run(&missing);
    assert!(printed.contains("No such file"), "{printed:?}");
    assert!(!printed.contains(SEEN), "{printed:?}");
    sh.exit();

    std::fs::write(home.path().join("config.toml"), "[rec]\nhints = false\n").unwrap();
    let mut sh = Shell::start(&home, &[], Some("5000"));
    let printed = sh.run(&missing);
    assert!(!printed.contains(SEEN), "{printed:?}");
    sh.exit();

    // The config's `true` (or nothing) keeps them on. Less wait than the redactor holds
    // a line without its end (1 s; the prompt after a failure is one): the writer
    // releases it at the failure's end mark, or no hint could come in time.
    std::fs::write(home.path().join("config.toml"), "[rec]\nhints = true\n").unwrap();
    let mut sh = Shell::start(&home, &[], Some("700"));
    let printed = sh.run(&missing);
    assert!(printed.contains(SEEN), "{printed:?}");
    sh.exit();
}

/// How long the prompt took to come back after a failure, with the default bound.
fn failure_takes(home: &Home, line: &str) -> (Duration, String) {
    let mut sh = Shell::start(home, &[], None);
    let started = Instant::now();
    let printed = sh.run(line);
    let took = started.elapsed();
    sh.exit();
    (took, printed)
}

#[test]
fn a_missing_damaged_or_locked_index_never_breaks_rec() {
    let home = Home::new();
    let work = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let missing = format!("cat {}/nothing9.conf", work.path().display());
    let index = home.path().join("index");

    // No index yet: nothing to say.
    let (_, printed) = failure_takes(&home, &missing);
    assert!(printed.contains("No such file") && !printed.contains(SEEN));

    fixed_before(&home, work.path());
    // Locked by a writer elsewhere: read all the same.
    let lock = std::fs::File::create(index.join(".tantivy-writer.lock")).unwrap();
    rustix::fs::flock(&lock, rustix::fs::FlockOperation::NonBlockingLockExclusive).unwrap();
    let mut sh = Shell::start(&home, &[], Some("5000"));
    assert!(sh.run(&missing).contains(SEEN));
    sh.exit();
    drop(lock);

    // Damaged: every file of the index overwritten. The prompt is not held up, nothing
    // breaks, and it says why there are no hints at most once.
    for e in std::fs::read_dir(&index).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        // The version file stays: an index of another version is rebuilt, not damaged.
        if e.path().is_file() && !name.starts_with('.') && name != "fixcast-index-version" {
            std::fs::write(e.path(), b"garbage").unwrap();
        }
    }
    let mut sh = Shell::start(&home, &[], None);
    let started = Instant::now();
    let first = sh.run(&missing);
    let second = sh.run(&missing);
    let took = started.elapsed();
    let all = sh.exit();
    assert!(
        first.contains("No such file") && !first.contains(SEEN),
        "{first:?}"
    );
    assert!(!second.contains(SEEN), "{second:?}");
    assert_eq!(all.matches("fixcast: no hints").count(), 1, "{all}");
    assert!(took < Duration::from_secs(10), "{took:?}");
}
