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
static SAVED: Mutex<Option<Termios>> = Mutex::new(None);

/// Standard input in raw mode until dropped: keys go to the program unprocessed (Ctrl-C
/// reaches the recorded shell, not fixcast) and nothing is echoed twice.
pub struct RawMode {
    saved: Termios,
}

impl RawMode {
    /// Switches stdin to raw mode; `None` when stdin is not a terminal.
    pub fn enable() -> Option<RawMode> {
        let stdin = std::io::stdin();
        let saved = termios::tcgetattr(&stdin).ok()?;
        let mut raw = saved.clone();
        raw.make_raw();
        // Now, not Flush: keys typed before the shell is up (`fixcast rec` Enter, then a
        // command, in one paste) wait in the terminal's input and must reach the shell.
        termios::tcsetattr(&stdin, OptionalActions::Now, &raw).ok()?;
        *SAVED.lock().unwrap_or_else(|p| p.into_inner()) = Some(saved.clone());
        install_panic_hook();
        Some(RawMode { saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(std::io::stdin(), OptionalActions::Now, &self.saved);
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
    if let Some(t) = SAVED.lock().unwrap_or_else(|p| p.into_inner()).take() {
        let _ = termios::tcsetattr(std::io::stdin(), OptionalActions::Now, &t);
    }
}
