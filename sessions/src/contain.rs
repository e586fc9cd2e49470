//! Containing a panic: [`contain`] runs a closure and turns a panic in it into a
//! [`Panicked`] value, printing nothing. fixcast derives everything it shows (commands,
//! the player's segments, live screens, search) from recordings and index files that may
//! be damaged or odd, through libraries (`vt100`, tantivy) that can panic on them; one
//! such session or file must be skipped with a message, never take the program down, and
//! never put Rust's panic text on the user's screen.
//!
//! The panic hook is process-wide, so it is wrapped once: while the *calling thread*
//! runs a contained closure, the hook only keeps the message; any other panic, on any
//! thread, prints as it always did.

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe, PanicHookInfo};
use std::sync::Once;

thread_local! {
    /// How many contained closures this thread is inside.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    /// What the hook saw of this thread's last contained panic.
    static LAST: RefCell<Option<Panicked>> = const { RefCell::new(None) };
}

static HOOK: Once = Once::new();

/// A panic that was contained: its message and where it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panicked {
    message: String,
    location: Option<String>,
}

impl Panicked {
    /// What the panic said (`attempt to subtract with overflow`).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// `crate-1.0/src/file.rs:12`: the last components of the file, and the line.
    pub fn location(&self) -> Option<&str> {
        self.location.as_deref()
    }
}

impl std::fmt::Display for Panicked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.location {
            Some(at) => write!(f, "{} ({at})", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for Panicked {}

/// Runs `f`; a panic in it comes back as [`Panicked`] instead of unwinding further, and
/// prints nothing. Whatever `f` was changing when it panicked must be thrown away by the
/// caller (it is treated as unwind safe).
pub fn contain<T>(f: impl FnOnce() -> T) -> Result<T, Panicked> {
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if containing() {
                LAST.with(|l| *l.borrow_mut() = Some(describe(info)));
            } else {
                previous(info);
            }
        }));
    });
    DEPTH.with(|d| d.set(d.get() + 1));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    DEPTH.with(|d| d.set(d.get() - 1));
    result.map_err(|payload| {
        LAST.with(|l| l.borrow_mut().take())
            .unwrap_or_else(|| Panicked {
                message: payload_text(payload.as_ref()),
                location: None,
            })
    })
}

/// Whether the calling thread is inside [`contain`] now: other panic hooks (the ones
/// that give a raw-mode terminal back) leave a contained panic alone.
pub fn containing() -> bool {
    DEPTH.with(|d| d.get() > 0)
}

fn describe(info: &PanicHookInfo<'_>) -> Panicked {
    Panicked {
        message: payload_text(info.payload()),
        location: info.location().map(|l| {
            let parts: Vec<&str> = l.file().rsplit(['/', '\\']).take(3).collect();
            let file: Vec<&str> = parts.into_iter().rev().collect();
            format!("{}:{}", file.join("/"), l.line())
        }),
    }
}

fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panicked".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_comes_back_as_its_message_and_place() {
        let v: Vec<u16> = vec![];
        let (got, line) = (contain(|| v[3]).unwrap_err(), line!());
        assert!(got.message().contains("index out of bounds"), "{got}");
        let at = format!("sessions/src/contain.rs:{line}");
        assert!(got.location().unwrap().ends_with(&at), "{got}");
        assert_eq!(contain(|| 7), Ok(7));
        assert!(!containing());
    }

    #[test]
    fn nested_and_repeated_containment_keep_each_message() {
        let outer = contain(|| {
            let inner = contain(|| panic!("inner {}", 1)).unwrap_err();
            assert_eq!(inner.message(), "inner 1");
            assert!(containing());
            panic!("outer");
        });
        assert_eq!(outer.unwrap_err().message(), "outer");
        for i in 0..3 {
            let e = contain(|| std::panic::panic_any(i)).unwrap_err();
            assert_eq!(e.message(), "panicked");
        }
    }

    /// Run again as a child process, where nothing captures stderr: a contained panic
    /// prints nothing, and one on another thread prints as usual.
    #[test]
    fn a_contained_panic_prints_nothing_and_others_still_print() {
        const CHILD: &str = "FIXCAST_TEST_CONTAIN_CHILD";
        const NAME: &str =
            "contain::tests::a_contained_panic_prints_nothing_and_others_still_print";
        if std::env::var_os(CHILD).is_some() {
            let e = contain(|| panic!("quiet please")).unwrap_err();
            println!("contained: {e}");
            let _ = std::thread::spawn(|| panic!("loud on purpose")).join();
            return;
        }
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", NAME, "--nocapture", "--test-threads=1"])
            .env(CHILD, "1")
            .output()
            .unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(out.status.success(), "{stdout}\n{stderr}");
        assert!(stdout.contains("contained: quiet please ("), "{stdout}");
        assert!(!stderr.contains("quiet please"), "{stderr}");
        assert!(
            stderr.contains("panicked") && stderr.contains("loud on purpose"),
            "{stderr}"
        );
    }
}
