//! Giving the terminal back as `play` found it. A replay is a program's output: it can
//! leave the terminal in the alternate screen, with application cursor keys and keypad,
//! the mouse reporting, the cursor hidden, colours on. Every way out (the end, `q`,
//! Ctrl-C, SIGTERM or SIGHUP, a closed output, a panic) goes through [`give_back`], once.
//!
//! What the terminal was in before is taken to be a shell's prompt: the main screen,
//! normal keys, no mouse, and bracketed paste off (a shell turns it off before it runs
//! a command, and on again at its next prompt; it is also what `reset` leaves). The
//! window title, which a replay may set, is saved on the terminal's title stack (`CSI 22 t`,
//! xterm's, also in tmux, VTE, kitty; ignored elsewhere) and taken back from it.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once};

use fixcast_recorder::tty::RawMode;

/// What to undo while a replay owns the terminal; `None` otherwise. The panic hook and
/// the guard's drop both take it, so it is undone once.
static OWNED: Mutex<Option<Owned>> = Mutex::new(None);

/// Whether the replay left the terminal in the alternate screen, as last noted: only then
/// is it left (`?1049l` on the main screen would move the cursor to an old saved place).
static ALT_SCREEN: AtomicBool = AtomicBool::new(false);

/// Whether the cursor is at the start of a line once the main screen is back, as last
/// noted; if not, a new line keeps the prompt (and any warning) off the replay's last line.
static AT_LINE_START: AtomicBool = AtomicBool::new(true);

struct Owned {
    /// Raw mode, when the player reads keys: dropped, it gives the keyboard back.
    raw: Option<RawMode>,
}

/// The terminal, owned by a replay until this is dropped (or [`Terminal::give_back`]).
pub struct Terminal(());

impl Terminal {
    /// Takes the terminal over; with `raw_keys`, standard input goes raw (keys one by one,
    /// unechoed, Ctrl-C as a byte).
    pub fn take(raw_keys: bool) -> io::Result<Terminal> {
        ALT_SCREEN.store(false, Ordering::Relaxed);
        AT_LINE_START.store(true, Ordering::Relaxed);
        install_panic_hook();
        *lock() = Some(Owned { raw: None });
        let mut out = io::stdout().lock();
        out.write_all(SAVE_TITLE).and_then(|_| out.flush())?;
        drop(out);
        if raw_keys {
            // Raw for input only: the recording's `\n`s still reach the screen as new lines.
            match RawMode::enable_keys() {
                Ok(raw) => {
                    if let Some(owned) = lock().as_mut() {
                        owned.raw = Some(raw);
                    }
                }
                Err(e) => {
                    // Nothing was changed: nothing to give back.
                    lock().take();
                    return Err(e);
                }
            }
        }
        Ok(Terminal(()))
    }

    /// Notes where the replay has left the terminal, for whichever way out comes.
    pub fn note(&self, alt_screen: bool, at_line_start: bool) {
        ALT_SCREEN.store(alt_screen, Ordering::Relaxed);
        AT_LINE_START.store(at_line_start, Ordering::Relaxed);
    }

    /// Gives the terminal back now; an error says the reset could not be written.
    pub fn give_back(self) -> io::Result<()> {
        give_back()
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = give_back();
    }
}

fn lock() -> std::sync::MutexGuard<'static, Option<Owned>> {
    OWNED.lock().unwrap_or_else(|e| e.into_inner())
}

/// The one place the terminal is given back (see the module docs); a no-op when no replay
/// owns it.
fn give_back() -> io::Result<()> {
    let Some(owned) = lock().take() else {
        return Ok(());
    };
    let mut reset = reset_sequence(ALT_SCREEN.load(Ordering::Relaxed));
    reset.extend_from_slice(RESTORE_TITLE);
    if !AT_LINE_START.load(Ordering::Relaxed) {
        reset.extend_from_slice(b"\r\n");
    }
    // The keys are given back even when the screen cannot be (a closed terminal).
    let mut out = io::stdout().lock();
    let written = out.write_all(&reset).and_then(|_| out.flush());
    drop(owned.raw);
    written
}

/// Pushes the window and icon titles on the terminal's title stack.
const SAVE_TITLE: &[u8] = b"\x1b[22;0t";
/// Pops them back.
const RESTORE_TITLE: &[u8] = b"\x1b[23;0t";

/// What puts a terminal back from anything a replay may have switched on.
pub fn reset_sequence(alt_screen: bool) -> Vec<u8> {
    let mut s = Vec::new();
    if alt_screen {
        // The main screen, and the cursor where it was on it.
        s.extend_from_slice(b"\x1b[?1049l");
    }
    s.extend_from_slice(
        concat!(
            // Cursor keys and keypad normal.
            "\x1b[?1l\x1b>",
            // Mouse reporting (X10, normal, button, any-event; UTF-8, SGR, urxvt encodings)
            // and focus reporting off.
            "\x1b[?9l\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1005l\x1b[?1006l\x1b[?1015l",
            "\x1b[?1004l",
            // Bracketed paste as a shell running a command has it (see the module docs).
            "\x1b[?2004l",
            // The whole screen scrolls again (DECSTBM homes the cursor: saved around it).
            "\x1b7\x1b[r\x1b8",
            // Characters as they are: no insert mode, ASCII in G0, G0 selected.
            "\x1b[4l\x1b(B\x0f",
            // A visible cursor of the default shape, default colours.
            "\x1b[?25h\x1b[0 q\x1b[0m",
        )
        .as_bytes(),
    );
    s
}

/// Gives the terminal back before a panic message is printed: the guard's drop comes only
/// after, during unwinding, and the message would be printed in the replay's alternate
/// screen (and vanish with it) or garbled by raw mode.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // A contained panic is no crash: the player goes on, with the terminal.
            if !fixcast_sessions::containing() {
                let _ = give_back();
            }
            previous(info);
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reset_undoes_what_a_full_screen_program_switches_on() {
        let mut p = vt100::Parser::new(24, 80, 0);
        p.process(b"$ vim\r\n\x1b[?1049h\x1b[?1h\x1b=\x1b[?25l\x1b[?1000h\x1b[?1006h\x1b[?2004h");
        p.process(b"\x1b[5;20r\x1b[1;31m~");
        p.process(&reset_sequence(p.screen().alternate_screen()));
        let s = p.screen();
        assert!(!s.alternate_screen());
        assert!(!s.application_cursor() && !s.application_keypad());
        assert!(!s.hide_cursor() && !s.bracketed_paste());
        assert_eq!(s.mouse_protocol_mode(), vt100::MouseProtocolMode::None);
        assert_eq!(s.fgcolor(), vt100::Color::Default);
        // Back on the line after the prompt, where the main screen's cursor was.
        assert_eq!(s.cursor_position(), (1, 0));
        assert_eq!(s.contents(), "$ vim");
    }
}
