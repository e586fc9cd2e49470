//! `fixcast demo`: records a handful of scripted fixes through the real recorder (this
//! binary's `rec`, typed into on a real PTY), in a sandbox under a temp dir, into a demo
//! home of its own; marks each fix, indexes, and optionally serves the web page on it.
//! Re-running replaces the demo's own sessions, which it remembers in the demo home.

mod driver;
mod scenarios;

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use fixcast_sessions::{Edit, SessionId, Store};

use self::driver::{Shell, Start};
use self::scenarios::{Scenario, Spec, Step};
use super::commands::{session_commands, Output};
use crate::cli::{DemoArgs, ServeArgs};

/// The demo's own list of its sessions, in its home: what a re-run replaces.
const MARKER: &str = "demo.json";

pub fn run(home: Option<PathBuf>, args: DemoArgs) -> anyhow::Result<ExitCode> {
    let home = match home {
        Some(h) => h,
        None => default_home()?,
    };
    let store = Store::open(&home)?;
    let t0 = Instant::now();
    let exe = std::env::current_exe().context("cannot find this executable to record with")?;
    let removed = forget_previous(&store)?;
    let sandbox = tempfile::Builder::new()
        .prefix("fixcast-demo-")
        .tempdir()
        .context("cannot make the demo's sandbox in the temp dir")?;
    scenarios::prepare_home(sandbox.path())?;
    let progress = Progress::new(scenarios::ALL.len() as u64);
    if removed > 0 {
        progress.say(&format!(
            "replacing the demo's {removed} earlier session(s)"
        ));
    }
    let mut ids: Vec<String> = Vec::new();
    let mut failed = 0;
    for spec in scenarios::ALL {
        progress.start(spec.name);
        let line = match run_one(&store, &exe, sandbox.path(), spec) {
            Ok(Ran::Recorded {
                id,
                commands,
                fix,
                caveat,
            }) => {
                ids.push(id.to_string());
                // Written as it goes: a run stopped half way still replaces its own.
                save_marker(&store, &ids)?;
                let fix = fix.map_or_else(|| "no fix".to_owned(), |f| format!("fix: {f}"));
                let caveat = caveat.map(|c| format!("; {c}")).unwrap_or_default();
                format!("✓ {}  ({commands} commands, {fix}){caveat}", spec.name)
            }
            Ok(Ran::Skipped(why)) => format!("– {}: skipped ({why})", spec.name),
            Err(e) => {
                failed += 1;
                format!("✗ {}: {e:#}", spec.name)
            }
        };
        progress.done(&line);
    }
    progress.finish();
    // Whatever a scenario left locked must not stop the sandbox's removal.
    unlock_all(sandbox.path());
    drop(sandbox);
    let took = t0.elapsed().as_secs_f64();
    let shown = super::printable(&home.to_string_lossy()).into_owned();
    eprintln!("demo: {} session(s) in {shown} in {took:.0} s", ids.len());
    if failed > 0 {
        bail!("{failed} demo scenario(s) failed (above); the others are in {shown}");
    }
    eprintln!("demo: try");
    for q in ["lsattr", "'ld-linux.so'", "'\"Operation not permitted\"'"] {
        eprintln!("  fixcast --home {shown} search {q}");
    }
    eprintln!("  fixcast --home {shown} fix 'command not found'");
    if args.serve {
        return super::serve::run(
            store,
            ServeArgs {
                bind: args.bind,
                token: None,
                open: args.open,
                max_connections_per_ip: 64,
            },
        );
    }
    eprintln!("  fixcast --home {shown} serve --open");
    Ok(ExitCode::SUCCESS)
}

/// `<data dir>/demo`, beside (never inside) the user's own sessions; a data dir that is
/// itself a demo home (FIXCAST_HOME pointed at one) is used as it is.
fn default_home() -> anyhow::Result<PathBuf> {
    let data = Store::default_home().context("no home folder: set FIXCAST_HOME or pass --home")?;
    if data.join(MARKER).is_file() {
        return Ok(data);
    }
    Ok(data.join("demo"))
}

enum Ran {
    Recorded {
        id: SessionId,
        commands: usize,
        fix: Option<String>,
        caveat: Option<String>,
    },
    Skipped(String),
}

fn run_one(store: &Store, exe: &Path, sandbox: &Path, spec: &Spec) -> anyhow::Result<Ran> {
    let scenario = match (spec.prepare)(sandbox)? {
        Ok(s) => s,
        Err(why) => return Ok(Ran::Skipped(why)),
    };
    let before: BTreeSet<SessionId> = store.ids()?.into_iter().collect();
    let recorded = record(store, exe, sandbox, spec, &scenario);
    let new: Vec<SessionId> = store
        .ids()?
        .into_iter()
        .filter(|id| !before.contains(id))
        .collect();
    if let Err(e) = recorded {
        // A half-typed story is no demo, and would not be in the demo's list to be
        // replaced next time: it goes.
        for id in &new {
            let _ = store.remove(id);
        }
        return Err(e);
    }
    let [id] = new.as_slice() else {
        bail!("expected one new session, found {}", new.len());
    };
    let meta = store.load(id)?.meta;
    let commands = session_commands(store, &meta, None, Output::Skip)?;
    let fix_seq = match &scenario.fix {
        Some(fix) => Some(
            commands
                .iter()
                .find(|c| c.command.trim() == fix)
                .map(|c| c.seq)
                .with_context(|| format!("the fix {fix:?} is not among the recorded commands"))?,
        ),
        None => None,
    };
    let edit = Edit {
        title: None,
        tags: Vec::new(),
        notes: Some(Some(scenario.note.clone())),
        fix_seq: fix_seq.map(Some),
    };
    let edited = edit.apply(store, id, |meta| {
        session_commands(store, meta, None, Output::Skip)
    })?;
    super::index::index_session_quietly(store, &edited.meta);
    Ok(Ran::Recorded {
        id: id.clone(),
        // The `exit` that ended the recording is no part of the story.
        commands: commands
            .iter()
            .filter(|c| c.command.trim() != "exit")
            .count(),
        fix: scenario.fix,
        caveat: scenario.caveat,
    })
}

/// Types the scenario into `fixcast rec`, as a person at the keyboard would.
fn record(
    store: &Store,
    exe: &Path,
    sandbox: &Path,
    spec: &Spec,
    scenario: &Scenario,
) -> anyhow::Result<()> {
    let mut shell = Shell::start(&Start {
        exe,
        home: store.home(),
        sandbox,
        cwd: &scenario.cwd,
        title: spec.title,
        tags: spec.tags,
        scenario: spec.name,
    })?;
    for step in &scenario.steps {
        match step {
            Step::Line(l) => shell.line(l)?,
            Step::FullScreen(l, keys) => shell.full_screen(l, keys)?,
        }
    }
    shell.exit()
}

/// Removes the sessions an earlier demo run recorded (and only those); how many.
fn forget_previous(store: &Store) -> anyhow::Result<usize> {
    let path = store.home().join(MARKER);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let ids: Vec<String> = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| serde_json::from_value(v["sessions"].clone()).ok())
        .with_context(|| {
            format!(
                "{}: not the demo's list of sessions; remove it to start afresh",
                path.display()
            )
        })?;
    let present: BTreeSet<String> = store.ids()?.iter().map(|i| i.to_string()).collect();
    let mut removed = 0;
    for id in ids.iter().filter(|i| present.contains(*i)) {
        let id = store.resolve(id)?;
        store
            .remove(&id)
            .with_context(|| format!("session {id}: cannot remove the demo's earlier session"))?;
        removed += 1;
    }
    save_marker(store, &[])?;
    Ok(removed)
}

fn save_marker(store: &Store, ids: &[String]) -> anyhow::Result<()> {
    let path = store.home().join(MARKER);
    let text = serde_json::to_string_pretty(&serde_json::json!({ "sessions": ids }))?;
    fixcast_sessions::write_atomic(&path, (text + "\n").as_bytes())
        .context("cannot save the demo's sessions")
}

/// `chattr -R -i` over the sandbox, quietly: a scenario stopped half way may have left
/// the immutable file locked, and the temp dir could not be removed.
fn unlock_all(sandbox: &Path) {
    if let Some(chattr) = scenarios::find_tool("chattr") {
        let _ = std::process::Command::new(chattr)
            .args(["-R", "-f", "-i"])
            .arg(sandbox)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// One line per scenario; a bar on a terminal, plain lines otherwise (CI logs).
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    n: u64,
    i: std::cell::Cell<u64>,
}

impl Progress {
    fn new(n: u64) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(n);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} demo {msg} ({elapsed})")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Progress {
            bar,
            n,
            i: 0.into(),
        }
    }

    fn say(&self, line: &str) {
        match &self.bar {
            Some(b) => b.println(format!("demo: {line}")),
            None => eprintln!("demo: {line}"),
        }
    }

    fn start(&self, name: &str) {
        self.i.set(self.i.get() + 1);
        match &self.bar {
            Some(b) => b.set_message(format!("[{}/{}] recording {name}", self.i.get(), self.n)),
            None => eprintln!("demo: [{}/{}] recording {name}", self.i.get(), self.n),
        }
    }

    fn done(&self, line: &str) {
        match &self.bar {
            Some(b) => {
                b.println(format!("  {line}"));
                b.inc(1);
            }
            None => eprintln!("  {line}"),
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
