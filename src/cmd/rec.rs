//! `fixcast rec`: record a shell into a new session.

use std::process::ExitCode;

use anyhow::{bail, Context};
use fixcast_recorder::{integrate, record_then, tty, Command, Options, Sink, SinkError};
use fixcast_sessions::asciicast::Header;
use fixcast_sessions::suspicious_chars;
use fixcast_sessions::{
    CastWriter, Event, EventKind, Redaction, SessionId, SessionMeta, Status, Store,
};

use crate::cli::RecArgs;
use crate::config::first_set;

/// The recording on disk, as a recorder sink.
struct FileSink {
    writer: Option<CastWriter>,
}

impl Sink for FileSink {
    fn event(&mut self, ev: &Event) -> Result<(), SinkError> {
        match &mut self.writer {
            Some(w) => Ok(w.write(ev)?),
            None => Err(SinkError("recording already finished".into())),
        }
    }
    fn flush(&mut self) -> Result<(), SinkError> {
        match &mut self.writer {
            Some(w) => Ok(w.flush()?),
            None => Ok(()),
        }
    }
    fn pressure(&mut self, behind: bool) {
        if let Some(w) = &mut self.writer {
            // Only the ratio changes; a failure here shows at the next write.
            let _ = w.set_fast(behind);
        }
    }
    fn tick(&mut self) {
        if let Some(w) = &mut self.writer {
            // The mtime tells a dead recorder's duration; a failure only makes it shorter.
            let _ = w.touch();
        }
    }
    fn finish(&mut self) -> Result<(), SinkError> {
        match self.writer.take() {
            Some(w) => w.finish().map(|_| ()).map_err(Into::into),
            None => Ok(()),
        }
    }
}

/// Warns, on the user's terminal, when a command about to run has look-alike characters
/// (`kubeсtl` with a Cyrillic `с`). Integrated shells announce each command as it starts
/// (a marker labelled with its line), so the warning comes as it runs, once.
struct HomoglyphWarning;

impl Sink for HomoglyphWarning {
    fn event(&mut self, ev: &Event) -> Result<(), SinkError> {
        if let EventKind::Marker(line) = &ev.kind {
            let chars = suspicious_chars(line);
            if !chars.is_empty() {
                let list: Vec<String> = chars.iter().map(|c| c.to_string()).collect();
                // The terminal is raw: lines need their `\r`.
                eprint!(
                    "\r\nfixcast: warning: this command has look-alike characters: {}\r\n",
                    super::printable(&list.join(", "))
                );
            }
        }
        Ok(())
    }
    fn flush(&mut self) -> Result<(), SinkError> {
        Ok(())
    }
    fn finish(&mut self) -> Result<(), SinkError> {
        Ok(())
    }
}

/// Tells the user when people start watching: `fixcast serve` writes the viewer count of
/// a live session to `<home>/live/<id>.viewers`; this reads it at most once a second on
/// the writer thread (a small file read; nothing waits on the server).
struct ViewerNotice {
    store: Store,
    id: SessionId,
    next: std::time::Instant,
    viewers: usize,
}

impl ViewerNotice {
    fn check(&mut self) {
        let now = std::time::Instant::now();
        if now < self.next {
            return;
        }
        self.next = now + std::time::Duration::from_secs(1);
        let n = self.store.viewers(&self.id);
        if n > 0 && self.viewers == 0 {
            let who = if n == 1 { "viewer" } else { "viewers" };
            eprint!("\r\nfixcast: {n} {who} watching live\r\n");
        }
        self.viewers = n;
    }
}

impl Sink for ViewerNotice {
    fn event(&mut self, _ev: &Event) -> Result<(), SinkError> {
        self.check();
        Ok(())
    }
    fn flush(&mut self) -> Result<(), SinkError> {
        Ok(())
    }
    fn tick(&mut self) {
        self.check();
    }
    fn finish(&mut self) -> Result<(), SinkError> {
        self.store.set_viewers(&self.id, 0);
        Ok(())
    }
}

pub fn run(store: Store, args: RecArgs) -> anyhow::Result<ExitCode> {
    if let Some(outer) = std::env::var_os("FIXCAST_SESSION").filter(|s| !s.is_empty()) {
        if !args.force {
            bail!(
                "already recording session {} in this shell; exit it first, or pass --force to record inside it",
                outer.to_string_lossy()
            );
        }
    }
    if args
        .idle_time_limit
        .is_some_and(|s| !(s.is_finite() && s > 0.0))
    {
        bail!("--idle-time-limit must be a positive number of seconds");
    }
    // Before anything starts: a bad config or pattern is an error, not a silent leak.
    let (config, config_path) = crate::config::load(&store)?;
    let rules = if args.no_redact {
        None
    } else {
        Some(super::redact::rules_of(&config, config_path.as_deref())?)
    };
    // What `-c` runs is kept in the metadata and header: redacted as the output is.
    let shown_command = match (&rules, &args.command) {
        (Some(r), Some(c)) => Some(r.redact_text(c)),
        (_, c) => c.clone(),
    };
    let interactive = tty::stdin_is_tty();
    let measured = if interactive {
        tty::size_of(std::io::stdin()).or_else(|| tty::size_of(std::io::stdout()))
    } else {
        None
    };
    let (cols, rows) = match (args.cols, args.rows, measured) {
        (Some(c), Some(r), _) => (c, r),
        (c, r, Some((mc, mr))) => (c.unwrap_or(mc), r.unwrap_or(mr)),
        (c, r, None) => (c.unwrap_or(80), r.unwrap_or(24)),
    };
    let shell = std::env::var("SHELL")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "/bin/sh".into());
    let term_type = std::env::var("TERM").ok().filter(|t| !t.is_empty());

    let id = SessionId::generate();
    let mut meta = SessionMeta::new(id.clone(), cols, rows);
    meta.title = args.title.clone();
    meta.tags = args.tags.clone();
    meta.host = hostname();
    meta.user = username();
    meta.shell = shell.clone();
    meta.command = shown_command.clone();
    meta.cwd = std::env::current_dir()
        .map(|d| d.display().to_string())
        .unwrap_or_default();
    meta.term.term_type = term_type.clone();
    meta.idle_time_limit = args.idle_time_limit;
    meta.record_input = args.record_input;
    meta.recorder_pid = Some(std::process::id());
    let header = Header {
        cols,
        rows,
        term_type: term_type.clone(),
        timestamp: Some(meta.started.unix_timestamp()),
        idle_time_limit: args.idle_time_limit,
        command: shown_command,
        title: args.title.clone(),
        env: [("SHELL".to_owned(), shell.clone())]
            .into_iter()
            .chain(term_type.map(|t| ("TERM".to_owned(), t)))
            .collect(),
        tags: args.tags.clone(),
    };
    let server = first_set([args.server.as_ref(), config.server.url.as_ref()])
        .map(|url| super::upload::ServerUrl::parse(&url))
        .transpose()?;
    let server_token = first_set([args.token.as_ref(), config.server.token.as_ref()]);
    let writer = store
        .create(&meta, &header)
        .context("cannot create the session")?;
    // Held until the final metadata is saved, after the writer has unlocked the file.
    let held = store.hold(&id).context("cannot create the session")?;

    let mut program = shell;
    let mut shell_args = Vec::new();
    let mut env = vec![("FIXCAST_SESSION".to_owned(), id.to_string())];
    // Kept until the recording ends: it removes the shell's generated startup files.
    let mut integration = None;
    if let Some(c) = &args.command {
        shell_args = vec!["-c".to_owned(), c.clone()];
    } else {
        match integrate(std::path::Path::new(&program), id.as_str()) {
            Ok(Some(i)) => {
                program = i.program.clone();
                shell_args = i.args.clone();
                env.extend(i.env.iter().cloned());
                integration = Some(i);
            }
            Ok(None) => {}
            Err(e) => eprintln!(
                "fixcast: warning: {}; commands will not be marked",
                fixcast_sessions::error_chain(&e)
            ),
        }
    }
    // Hints need the integration's marks (a failure's end), and are for a person at a
    // prompt: not for `rec -c`.
    let hints = !args.no_hints && config.rec.hints.unwrap_or(true) && integration.is_some();
    let (notes, hint_sink) = if hints {
        let (notes, sink) = super::hint::start(&store, &id, cols, rows);
        (Some(notes), Some(sink))
    } else {
        (None, None)
    };
    let opts = Options {
        command: Command {
            program,
            args: shell_args,
            env,
            // portable-pty would start in $HOME: the shell starts where `rec` was run.
            cwd: std::env::current_dir().ok(),
        },
        cols,
        rows,
        interactive,
        record_input: args.record_input,
        redact: rules,
        // A CI log or a file would show the integration's marks as `]133;A\`.
        hide_marks: integration.is_some() && !tty::stdout_is_tty(),
        notes,
    };
    let short = id.short().to_owned();
    // Said once the shell runs, and only to someone at it: `-c` and piped input end by
    // themselves, and a shell that cannot start is an error instead.
    let announce = args.command.is_none() && interactive;
    let started = || {
        if announce {
            eprintln!("fixcast: recording session {short}; exit the shell to stop");
        }
    };
    let mut sinks: Vec<Box<dyn Sink>> = vec![
        Box::new(FileSink {
            writer: Some(writer),
        }),
        Box::new(HomoglyphWarning),
        Box::new(ViewerNotice {
            store: store.clone(),
            id: id.clone(),
            next: std::time::Instant::now(),
            viewers: 0,
        }),
    ];
    if let Some(sink) = hint_sink {
        sinks.push(Box::new(sink));
    }
    let uploader = server.map(|url| {
        let (uploader, sink) = super::upload::Uploader::start(&store, &id, url, server_token);
        sinks.push(Box::new(sink));
        uploader
    });
    let outcome = match record_then(opts, sinks, started) {
        Ok(o) => o,
        Err(e) => {
            // Nothing was recorded: leave no empty session behind.
            drop(held);
            let _ = store.remove(&id);
            if let fixcast_recorder::Error::Spawn { .. } = e {
                bail!("cannot record: {e}; set SHELL to a shell that is installed");
            }
            return Err(e).context("cannot record");
        }
    };

    meta.status = Status::Complete;
    meta.duration = outcome.duration as f64 / 1e6;
    meta.exit_status = Some(outcome.exit_status);
    meta.recorder_pid = None;
    meta.bytes.output = outcome.output_bytes;
    meta.bytes.input = outcome.input_bytes;
    meta.bytes.dropped = outcome.dropped_bytes;
    meta.bytes.withheld = outcome.input_withheld;
    meta.redaction = Some(Redaction {
        redacted: !args.no_redact,
        count: outcome.redacted,
    });
    meta.bytes.stored = store.session(&id).cast_size().unwrap_or(0);
    if !outcome.sink_errors.is_empty() {
        meta.status = Status::Interrupted;
    }
    if let Err(e) = store.save_meta(&meta) {
        // A full disk, say. The recording keeps what was written, and a session whose
        // end was never written reads as interrupted (its recorder is gone): the shell's
        // status is still what `rec` returns.
        eprintln!(
            "fixcast: warning: session {short}: its end could not be saved ({}); it reads as interrupted",
            fixcast_sessions::error_chain(&e)
        );
        meta.status = Status::Interrupted;
    }
    drop(held);
    if outcome.dropped_bytes > 0 {
        eprintln!(
            "fixcast: warning: {} bytes of output were shown but not recorded (the disk could not keep up); marked in the recording",
            outcome.dropped_bytes
        );
    }
    for e in &outcome.sink_errors {
        eprintln!("fixcast: warning: recording stopped early: {e}");
    }
    if let Some(u) = uploader {
        u.finish(&id, super::upload::FINISH_WITHIN);
    }
    super::index::index_session_quietly(&store, &meta);
    // Once the upload is done with the bytes as they were recorded.
    super::compact::spawn_background(store.home(), std::slice::from_ref(&id));
    eprintln!(
        "fixcast: session {short} saved ({:.1}s, exit {}); replay: fixcast play {short}",
        meta.duration, outcome.exit_status
    );
    Ok(ExitCode::from(outcome.exit_status.clamp(0, 255) as u8))
}

fn hostname() -> String {
    rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned()
}

fn username() -> String {
    if let Some(u) = std::env::var("USER").ok().filter(|u| !u.is_empty()) {
        return u;
    }
    let uid = rustix::process::getuid().as_raw();
    std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|p| {
            p.lines().find_map(|l| {
                let mut f = l.split(':');
                let name = f.next()?;
                (f.nth(1)? == uid.to_string()).then(|| name.to_owned())
            })
        })
        .unwrap_or_else(|| uid.to_string())
}
