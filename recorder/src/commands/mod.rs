//! Cutting a recording into commands.
//!
//! Two sources, integration first:
//! - **Integration**: the marks fixcast's shell integration prints (see [`marks`]): a
//!   command starts at `133;C` with the line from `633;E` (or from the C itself, as
//!   fish 4 prints it: `133;C;cmdline_url=…`), ends at `133;D;status`, and the cwd
//!   comes from OSC 7.
//! - **Heuristic**, for shells without it (ssh, `kubectl exec`, `sudo -i`, `sh`): at each
//!   Enter (an input event; the recorder notes Enter even when keys are not recorded) the
//!   command is the cursor's line on the `vt100` screen minus its prompt, and its output
//!   runs to the next Enter. Enter is ignored at an integrated prompt (integration wins),
//!   on the alternate screen (vim, less, top) and, by the recorder, with echo off.
//!
//! Output text is rendered by [`ScreenText`], capped at [`OUTPUT_CAP`] (head and tail).

mod again;
mod chapters;
mod lines;
mod marks;
mod prompt;

use fixcast_sessions::{emulated_size, CommandRecord, CommandSource, Event, EventKind};

use crate::screen_text::ScreenText;
pub use again::outputs_again;
pub(crate) use chapters::Chapters;
use lines::{cursor_line, line_above_cursor, trim_blank_lines, without_last_line};
pub use marks::{Mark, MarkScanner};
pub use prompt::split_prompt;

/// Output text kept per command; past it, the head and tail are kept.
pub const OUTPUT_CAP: usize = 1 << 20;

/// Cuts the commands out of a whole recording. `command` is what `rec -c` ran, if
/// anything: the recording is then that one command (plus any found inside it).
pub fn cut_commands<'a>(
    cols: u16,
    rows: u16,
    command: Option<&str>,
    events: impl IntoIterator<Item = &'a Event>,
) -> Vec<CommandRecord> {
    let mut cutter = Cutter::new(cols, rows, command);
    for ev in events {
        cutter.event(ev);
    }
    cutter.finish()
}

/// Where integration says the shell is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shell {
    /// No integration mark seen (yet): Enter means a command.
    Plain,
    /// An integrated shell shows its prompt: it will report the command itself.
    AtPrompt,
    /// An integrated shell runs a command: Enter goes to that program (a nested shell).
    Running,
}

/// A command whose end has not been seen.
struct Open {
    start: u64,
    command: String,
    cwd: Option<String>,
    source: CommandSource,
    text: ScreenText,
    /// (columns, rows) when it started.
    size: (u16, u16),
}

/// Cuts commands as events arrive (so it can run after a session or lag behind one).
pub struct Cutter {
    /// The screen while no `rec -c` command or integrated command runs; while one does,
    /// its own screen text is the screen (one emulation of the output, not two).
    screen: vt100::Parser,
    size: (u16, u16),
    scanner: MarkScanner,
    shell: Shell,
    cwd: Option<String>,
    pending_line: Option<String>,
    /// The running integrated command's line was read off the screen (its C came with
    /// none): a command line that comes while it runs replaces it.
    guessed_line: bool,
    integrated: Option<Open>,
    heuristic: Option<Open>,
    whole: Option<Open>,
    done: Vec<CommandRecord>,
    now: u64,
    /// The lines of the command line typed at an integrated prompt so far, read off the
    /// screen: one per prompt (PS1, then each PS2), for multi-line commands.
    typed: Vec<String>,
    /// Where typing started on the screen (`133;B`): the cursor's column.
    input_col: Option<u16>,
    /// An Enter whose line has not been echoed yet (keys typed ahead or pasted reach the
    /// recorder before the terminal shows them): it is read off the screen when the
    /// echo's line break arrives.
    pending_enter: Option<u64>,
    /// An integration mark has been seen: the shell reports its own commands.
    marked: bool,
    /// Commands cut at Enter before any integration mark: lines typed or piped ahead,
    /// echoed by the terminal before the shell was up. An integrated shell then runs
    /// and marks them itself, and each integrated command takes the place of its copy
    /// here; those no integrated command claims are kept.
    typed_ahead: Vec<CommandRecord>,
    /// An Enter (its time) that makes a command even when its line reads empty: the
    /// command is being rendered again from its Enter on (see [`again`]), with nothing
    /// before it on the screen.
    force_enter: Option<u64>,
}

impl Cutter {
    pub fn new(cols: u16, rows: u16, command: Option<&str>) -> Self {
        // The size `vt100` is safe at: a 1-row or 1-column terminal is emulated at 2.
        let (cols, rows) = emulated_size(cols, rows);
        let mut c = Cutter {
            screen: vt100::Parser::new(rows, cols, 0),
            size: (rows, cols),
            scanner: MarkScanner::default(),
            shell: Shell::Plain,
            cwd: None,
            pending_line: None,
            guessed_line: false,
            integrated: None,
            heuristic: None,
            whole: None,
            done: Vec::new(),
            now: 0,
            typed: Vec::new(),
            input_col: None,
            pending_enter: None,
            marked: false,
            typed_ahead: Vec::new(),
            force_enter: None,
        };
        if let Some(cmd) = command {
            c.whole = Some(c.open(0, cmd.to_owned(), CommandSource::Heuristic));
        }
        c
    }

    fn open(&self, start: u64, command: String, source: CommandSource) -> Open {
        Open {
            start,
            command,
            cwd: self.cwd.clone(),
            source,
            text: ScreenText::with_cap(self.size.0, self.size.1, OUTPUT_CAP),
            size: (self.size.1, self.size.0),
        }
    }

    pub fn event(&mut self, ev: &Event) {
        self.now = ev.time;
        match &ev.kind {
            EventKind::Output(s) => self.output(s.as_bytes()),
            EventKind::Input(s) if s.is_empty() || s.contains(['\r', '\n']) => {
                if self.shell == Shell::AtPrompt {
                    // Integration reports this command itself.
                    return;
                }
                if let Some(t) = self.pending_enter.replace(ev.time) {
                    self.enter(t, true);
                }
            }
            EventKind::Resize { cols, rows } => {
                let (cols, rows) = emulated_size(*cols, *rows);
                self.size = (rows, cols);
                self.screen.screen_mut().set_size(rows, cols);
                for open in self.open_mut() {
                    open.text.resize(rows, cols);
                }
            }
            EventKind::Exit(code) => {
                if let Some(open) = self.whole.take() {
                    self.close(open, Some(*code), false);
                }
            }
            _ => {}
        }
    }

    fn open_mut(&mut self) -> impl Iterator<Item = &mut Open> {
        [&mut self.whole, &mut self.integrated, &mut self.heuristic]
            .into_iter()
            .flatten()
    }

    fn output(&mut self, mut bytes: &[u8]) {
        // A pending Enter is looked at on each line break until its line shows up.
        while let Some(t) = self.pending_enter {
            let Some(cut) = bytes.iter().position(|&b| b == b'\r' || b == b'\n') else {
                break;
            };
            self.feed(&bytes[..cut]);
            if self.enter(t, false) {
                self.pending_enter = None;
            }
            self.feed(&bytes[cut..=cut]);
            bytes = &bytes[cut + 1..];
        }
        self.feed(bytes);
    }

    fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let (n, mark) = self.scanner.next(bytes);
            let piece = &bytes[..n];
            if self.whole.is_none() && self.integrated.is_none() {
                self.screen.process(piece);
            }
            for open in self.open_mut() {
                open.text.write(piece);
            }
            if let Some(mark) = mark {
                self.mark(mark);
            }
            bytes = &bytes[n..];
        }
    }

    fn mark(&mut self, mark: Mark) {
        let now = self.now;
        if let Some(t) = self.pending_enter.take() {
            self.enter(t, true);
        }
        match mark {
            Mark::PromptStart | Mark::InputStart => {
                // A prompt inside a running command (fish 4 marks `read`'s prompt with
                // A; a nested integrated shell) does not end it: its D (with the
                // status) does, or else the next C. Enter at that prompt is not a
                // command either.
                self.end_heuristic(false);
                self.shell = Shell::AtPrompt;
                if mark == Mark::PromptStart {
                    self.typed.clear();
                    self.input_col = None;
                } else {
                    self.input_col = Some(self.with_screen(|s| s.cursor_position().1));
                }
            }
            Mark::ContinuationStart => self.take_typed_line(),
            Mark::CommandLine(line) => match self.integrated.as_mut() {
                // After the C, with no prompt since: the running command's own line,
                // printed late (a fish_preexec hook runs after fish 4's C). It is
                // never kept for the next command.
                Some(open) if self.shell == Shell::Running => {
                    if std::mem::take(&mut self.guessed_line) {
                        open.command = line;
                    }
                }
                _ => self.pending_line = Some(line),
            },
            Mark::CommandStart(carried) => {
                self.end_heuristic(false);
                self.take_typed_line();
                let typed = std::mem::take(&mut self.typed);
                if let Some(open) = self.take_integrated() {
                    self.close(open, None, false);
                }
                // A line that came before this C is for it; none is kept for the next.
                // One the C carries (fish 4) is exactly what was typed.
                let pending = self.pending_line.take();
                self.guessed_line = carried.is_none() && pending.is_none();
                let line = match (carried, pending) {
                    (Some(line), _) => line,
                    (None, Some(line)) => with_lines_as_typed(line, &typed),
                    (None, None) => self.previous_line(),
                };
                if let Some(i) = self
                    .typed_ahead
                    .iter()
                    .position(|c| c.command.trim() == line.trim())
                {
                    self.typed_ahead.remove(i);
                }
                self.integrated = Some(self.open(now, line, CommandSource::Integration));
                self.shell = Shell::Running;
            }
            Mark::CommandEnd(status) => {
                self.end_heuristic(false);
                if let Some(open) = self.take_integrated() {
                    self.close(open, status, false);
                }
                self.shell = Shell::AtPrompt;
            }
            Mark::Cwd(dir) => {
                self.cwd = Some(dir);
                // OSC 7 is printed by more than fixcast's integration (vte.sh): it
                // tells nothing about who reports commands.
                return;
            }
        }
        self.marked = true;
    }

    /// Enter was pressed at `time`; the screen may now show the line it ended. Returns
    /// whether the Enter is dealt with; `last_chance` when no better line will come.
    fn enter(&mut self, time: u64, last_chance: bool) -> bool {
        if self.shell == Shell::AtPrompt {
            return true;
        }
        let (alternate, line) = self.with_screen(|s| (s.alternate_screen(), cursor_line(s)));
        if alternate {
            return true;
        }
        let (prompt, command) = split_prompt(&line);
        // Inside an integrated shell's command, Enter is a command only at a prompt (a
        // nested shell, a REPL); keys typed ahead for the integrated shell itself, or
        // answers to a program, are not.
        // A nested shell reprints a line typed ahead after its prompt: wait for that.
        if self.shell == Shell::Running && prompt.is_empty() {
            return last_chance;
        }
        // A continuation line (`> ` after an unfinished `for …; do`) joins the command.
        let continuation = prompt.trim() == ">";
        let command = command.to_owned();
        if let Some(open) = self.heuristic.take() {
            let Open {
                start,
                command: first,
                cwd,
                source,
                text,
                size,
            } = open;
            let rendered = text.finish();
            if continuation && without_last_line(&rendered.text).trim().is_empty() {
                let mut joined = self.open(start, format!("{first}\n{command}"), source);
                joined.cwd = cwd;
                self.heuristic = Some(joined);
                return true;
            }
            let mut rec = open_from(start, first, source);
            rec.cwd = cwd;
            rec.size = Some(size);
            let n = self.done.len();
            self.push(rec, rendered, None, true, time);
            self.hold_if_typed_ahead(n);
        }
        if !command.is_empty() || self.force_enter == Some(time) {
            let mut open = self.open(time, command, CommandSource::Heuristic);
            // A nested shell's cwd is not known.
            open.cwd = None;
            self.heuristic = Some(open);
        }
        true
    }

    /// At a continuation prompt or the command's start, the cursor is on the line after
    /// the one just typed: that line, from where typing started, joins `typed`.
    fn take_typed_line(&mut self) {
        let Some(col) = self.input_col.take() else {
            return;
        };
        if let Some(line) = self.with_screen(|s| line_above_cursor(s, col)) {
            self.typed.push(line);
        }
    }

    /// The line above the cursor, for a `133;C` that came without a command line.
    fn previous_line(&mut self) -> String {
        let line = self.with_screen(|screen| {
            let (row, _) = screen.cursor_position();
            let above = row.saturating_sub(1);
            screen
                .rows(0, screen.size().1)
                .nth(usize::from(above))
                .unwrap_or_default()
        });
        split_prompt(&line).1.to_owned()
    }

    /// Runs `f` on the screen as it stands now.
    fn with_screen<R>(&mut self, f: impl FnOnce(&vt100::Screen) -> R) -> R {
        if let Some(open) = self.whole.as_mut().or(self.integrated.as_mut()) {
            open.text.with_screen(f)
        } else {
            f(self.screen.screen())
        }
    }

    /// Ends the integrated command, if one runs. The screen it kept goes with it, so
    /// ours starts afresh (blank) from here.
    fn take_integrated(&mut self) -> Option<Open> {
        let open = self.integrated.take()?;
        if self.whole.is_none() {
            self.screen = vt100::Parser::new(self.size.0, self.size.1, 0);
        }
        Some(open)
    }

    fn end_heuristic(&mut self, at_enter: bool) {
        if let Some(open) = self.heuristic.take() {
            let n = self.done.len();
            self.close(open, None, at_enter);
            self.hold_if_typed_ahead(n);
        }
    }

    /// Before any integration mark, the commands cut at Enter since `done[from]` may be
    /// lines typed ahead that an integrated shell will report itself.
    fn hold_if_typed_ahead(&mut self, from: usize) {
        if !self.marked {
            self.typed_ahead.extend(self.done.drain(from..));
        }
    }

    /// Finishes a command; `at_enter`: ended by the next Enter, whose prompt line is the
    /// last line of the text and not output.
    fn close(&mut self, open: Open, exit: Option<i32>, at_enter: bool) {
        let Open {
            start,
            command,
            cwd,
            source,
            text,
            size,
        } = open;
        let rendered = text.finish();
        let mut rec = open_from(start, command, source);
        rec.cwd = cwd;
        rec.size = Some(size);
        self.push(rec, rendered, exit, at_enter, self.now);
    }

    fn push(
        &mut self,
        rec: CommandRecord,
        rendered: crate::Rendered,
        exit: Option<i32>,
        at_enter: bool,
        end: u64,
    ) {
        self.done.push(ended(rec, rendered, exit, at_enter, end));
    }

    /// The commands so far as [`Cutter::finish`] would give them if the recording ended
    /// here (those still running with their output so far), without ending anything: for
    /// a recording still being made, fed as it grows. Without `output`, records leave
    /// their output text out (and cost no rendering).
    pub fn snapshot(&mut self, output: bool) -> Vec<CommandRecord> {
        let now = self.now;
        let kept = self.done.iter().chain(&self.typed_ahead);
        let mut all: Vec<CommandRecord> = if output {
            kept.cloned().collect()
        } else {
            kept.map(CommandRecord::without_output).collect()
        };
        for open in [&mut self.heuristic, &mut self.integrated, &mut self.whole]
            .into_iter()
            .flatten()
        {
            let mut rec = open_from(open.start, open.command.clone(), open.source);
            rec.cwd.clone_from(&open.cwd);
            rec.size = Some(open.size);
            let rendered = if output {
                open.text.peek()
            } else {
                crate::Rendered::default()
            };
            all.push(ended(rec, rendered, None, false, now));
        }
        numbered(all)
    }

    /// Takes the commands that ended since the last call, in the order they ended (not
    /// numbered): for a cutter that only watches for ends, so it holds no history.
    /// [`Cutter::finish`] and [`Cutter::snapshot`] then know only the later ones.
    pub fn drain_ended(&mut self) -> Vec<CommandRecord> {
        std::mem::take(&mut self.done)
    }

    /// The commands, in the order they started, numbered from 1.
    pub fn finish(mut self) -> Vec<CommandRecord> {
        if let Some(t) = self.pending_enter.take() {
            self.enter(t, true);
        }
        self.end_heuristic(false);
        for open in [self.integrated.take(), self.whole.take()]
            .into_iter()
            .flatten()
        {
            self.close(open, None, false);
        }
        self.done.append(&mut self.typed_ahead);
        numbered(self.done)
    }
}

/// `commands` in the order they started, numbered from 1.
fn numbered(mut commands: Vec<CommandRecord>) -> Vec<CommandRecord> {
    commands.sort_by(|a, b| a.start.total_cmp(&b.start));
    for (i, c) in commands.iter_mut().enumerate() {
        c.seq = i as u32 + 1;
    }
    commands
}

/// A command's record once it ended at `end` (µs) with `exit`, its screen rendered;
/// `at_enter`: ended by the next Enter, whose line is not output.
fn ended(
    mut rec: CommandRecord,
    rendered: crate::Rendered,
    exit: Option<i32>,
    at_enter: bool,
    end: u64,
) -> CommandRecord {
    let mut text = rendered.text;
    let last = text.trim_end().rsplit('\n').next().unwrap_or_default();
    let bare_prompt = rec.source == CommandSource::Heuristic && {
        let (prompt, command) = split_prompt(last);
        !prompt.is_empty() && command.is_empty()
    };
    // The line of the next Enter, or a prompt waiting when the session ended, is
    // not output.
    if at_enter || bare_prompt {
        text = without_last_line(&text).to_owned();
    }
    rec.end = secs(end);
    rec.exit = exit;
    rec.output = trim_blank_lines(&text);
    rec.output_cut = rendered.cut_bytes;
    if rec.output.is_empty() {
        // A full-screen program: what it showed last is what the person saw.
        if let Some(alt) = rendered.alternate {
            rec.output = trim_blank_lines(&alt);
            rec.full_screen = true;
        }
    }
    rec.flag_confusables();
    rec.note_errors();
    rec
}

fn open_from(start: u64, command: String, source: CommandSource) -> CommandRecord {
    CommandRecord::new(0, secs(start), secs(start), command, source)
}

/// The command line as the shell reported it (`633;E`), or, when it was typed over
/// several lines (a continuation prompt was marked), those lines as typed: bash's history
/// joins them with `;` and drops backslash-newlines. The typed lines win only when they
/// hold the same command, whitespace and `;` aside; what the screen shows is not always
/// what was typed.
fn with_lines_as_typed(reported: String, typed: &[String]) -> String {
    if typed.len() < 2 {
        return reported;
    }
    let joined = typed.join("\n");
    let essence = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_whitespace() && *c != ';')
            .collect()
    };
    if essence(&joined.replace("\\\n", "")) == essence(&reported) {
        joined
    } else {
        reported
    }
}

fn secs(micros: u64) -> f64 {
    micros as f64 / 1e6
}

#[cfg(test)]
mod tests;
