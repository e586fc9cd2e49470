//! The user's real terminal: is there one, how big is it, and raw mode that is always
//! restored (on drop, on panic, on a fatal signal handled by the recorder).

use std::os::fd::AsFd;
use std::sync::Mutex;

use rustix::termios::{self, OptionalActions, Termios};

/// The terminal's size in cells, or `None` when `fd` is not a terminal.
pub fn size_of(fd: impl AsFd) -> Option<(u16, u16)> {
    let ws = termios::tcgetwinsize(fd).ok()?;
    (ws.ws_col > 0 && ws.ws_row > 0).then_some((ws.ws_col, ws.ws_row))
}

/// Whether standard input is a terminal.
pub fn stdin_is_tty() -> bool {
    termios::isatty(std::io::stdin())
}

/// Whether standard output is a terminal.
pub fn stdout_is_tty() -> bool {
    termios::isatty(std::io::stdout())
}

/// Settings to put back if the process panics while raw.
static SAVED: Mutex<Option<(Termios, OptionalActions)>> = Mutex::new(None);

/// Standard input in raw mode until dropped: keys go to the program unprocessed (Ctrl-C
/// reaches the recorded shell, not fixcast) and nothing is echoed twice.
pub struct RawMode {
    saved: Termios,
    /// When the old settings take over again: as they were switched.
    when: OptionalActions,
}

impl RawMode {
    /// Switches stdin to raw mode, input and output (the recorder passes the program's
    /// output through as it is); `None` when stdin is not a terminal.
    pub fn enable() -> Option<RawMode> {
        // Now, not Flush: keys typed before the shell is up (`fixcast rec` Enter, then a
        // command, in one paste) wait in the terminal's input and must reach the shell.
        Self::switch(false, OptionalActions::Now).ok()
    }

    /// Raw for input only (keys one by one, unechoed, Ctrl-C as a byte), for a program
    /// that reads keys and writes text of its own (`fixcast play`): its `\n`s still reach
    /// the screen as new lines. Output written before the switch is drained first, so
    /// it is shown as the terminal was set when it was written.
    pub fn enable_keys() -> std::io::Result<RawMode> {
        Ok(Self::switch(true, OptionalActions::Drain)?)
    }

    fn switch(keys_only: bool, when: OptionalActions) -> rustix::io::Result<RawMode> {
        let stdin = std::io::stdin();
        let saved = termios::tcgetattr(&stdin)?;
        let mut raw = saved.clone();
        raw.make_raw();
        if keys_only {
            raw.output_modes = saved.output_modes;
        }
        termios::tcsetattr(&stdin, when, &raw)?;
        *SAVED.lock().unwrap_or_else(|p| p.into_inner()) = Some((saved.clone(), when));
        install_panic_hook();
        Ok(RawMode { saved, when })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(std::io::stdin(), self.when, &self.saved);
        SAVED.lock().unwrap_or_else(|p| p.into_inner()).take();
    }
}

/// Restores the terminal before the panic message prints, whatever thread panics.
fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // A contained panic is no crash: the recording goes on, raw.
            if !fixcast_sessions::containing() {
                restore_saved();
            }
            previous(info);
        }));
    });
}

/// Puts the terminal back as it was before [`RawMode::enable`], if it is raw now.
pub fn restore_saved() {
    if let Some((t, when)) = SAVED.lock().unwrap_or_else(|p| p.into_inner()).take() {
        let _ = termios::tcsetattr(std::io::stdin(), when, &t);
    }
}
