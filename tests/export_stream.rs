//! `export --format txt` and `raw` are written as the recording is read (issue 15): the
//! same text as rendering the whole recording at once, in memory that does not grow
//! with the recording.

use fixcast_recorder::ScreenText;
use fixcast_sessions::synthetic::{self, Long};
use fixcast_sessions::{read_cast, EventKind, SessionId, SessionMeta, Store};

use crate::util::Home;

/// The txt export as it was made before it streamed: the whole recording read, then
/// rendered through one screen.
fn whole_text(home: &Home, id: &str) -> String {
    let rec = read_cast(&home.cast_path(id)).unwrap();
    let mut screen = ScreenText::new(rec.header.rows, rec.header.cols);
    for ev in &rec.events {
        match &ev.kind {
            EventKind::Output(s) => screen.write(s.as_bytes()),
            EventKind::Resize { cols, rows } => screen.resize(*rows, *cols),
            _ => {}
        }
    }
    screen.finish().text
}

fn whole_raw(home: &Home, id: &str) -> Vec<u8> {
    let rec = read_cast(&home.cast_path(id)).unwrap();
    let mut out = Vec::new();
    for ev in &rec.events {
        if let EventKind::Output(s) = &ev.kind {
            out.extend_from_slice(s.as_bytes());
        }
    }
    out
}

/// A real bash in a real PTY printing a flood of plain lines (which the screen takes the
/// short way), then lines of every kind (colours, wide characters, lines that wrap, runs
/// of blank lines), then `end`.
fn record(home: &Home, end: &str) -> String {
    let script = home.path().join("print.sh");
    std::fs::write(
        &script,
        format!(
            r#"seq 1 20000
for i in $(seq 1 6000); do
  case $((i % 7)) in
    0) printf '\033[31mred %d\033[0m  \n' $i ;;
    1) printf 'wide 中文 %d 🎉\n' $i ;;
    2) printf 'long %d %0200d\n' $i 0 ;;
    3) printf '\n\n\n' ;;
    4) printf 'over %d\rO\n' $i ;;
    *) printf 'line %d   \n' $i ;;
  esac
done
{end}"#
        ),
    )
    .unwrap();
    home.ok(&["rec", "-c", &format!("bash {}", script.display())]);
    home.ids().pop().unwrap()
}

fn assert_same(home: &Home, id: &str) {
    let want = whole_text(home, id);
    assert!(want.len() > 200_000, "long enough to be written in pieces");
    let got = home.ok(&["export", id, "--format", "txt"]);
    assert!(got == want, "streamed text differs from the whole render");
    let file = home.path().join("out.txt");
    home.ok(&["export", id, "-f", "txt", "-o", file.to_str().unwrap()]);
    assert!(
        std::fs::read_to_string(&file).unwrap() == want,
        "-o differs"
    );
    let raw = home.run(&["export", id, "-f", "raw"]);
    assert!(raw.status.success());
    assert!(raw.stdout == whole_raw(home, id), "raw differs");
}

#[test]
fn streamed_txt_is_the_whole_render_of_a_real_recording() {
    // Text after the last blank lines: they are kept.
    let home = Home::new();
    let id = record(&home, "printf '\\n\\n\\n\\n\\nthe end\\n'");
    assert_same(&home, &id);
    assert!(whole_text(&home, &id).ends_with("\n\n\n\n\nthe end\n"));
}

#[test]
fn streamed_txt_drops_the_blank_lines_that_end_it() {
    // Blank lines scrolled off, then the screen cleared: the text ends at its last line
    // with text, as a whole render ends it, though the blank lines were written out first.
    let home = Home::new();
    let id = record(
        &home,
        "for i in $(seq 1 100); do echo; done; printf '\\033[H\\033[2J'",
    );
    assert_same(&home, &id);
    assert!(whole_text(&home, &id).ends_with("wide 中文 6000 🎉\n"));
}

/// An 80 MB session exported under a 150 MB address-space limit: the whole recording
/// (its events, then its text) does not fit, one frame and one screen do.
#[test]
fn txt_and_raw_exports_stream_in_bounded_memory() {
    let home = Home::new();
    let store = Store::open(home.path()).unwrap();
    let meta = SessionMeta::new(SessionId::generate(), 100, 30);
    let line = |n: u64| format!("{n:>9} {:064x} step of the long job\r\n", n * 7919);
    let last = |n| format!("\x1b[1mdone\x1b[0m after {n} lines\r\n$ ");
    let built = synthetic::long_session(&store, meta, &Long::mb(80), line, last).unwrap();
    let id = built.meta.id.to_string();
    let out = home.path().join("out");
    for format in ["txt", "raw"] {
        let limited = format!(
            "ulimit -v 150000 && exec \"$0\" export {id} -f {format} -o {}",
            out.display()
        );
        let run = std::process::Command::new("bash")
            .args(["-c", &limited])
            .arg(crate::util::bin())
            .env("FIXCAST_HOME", home.path())
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{format}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let written = std::fs::read(&out).unwrap();
        assert!(
            written.len() > 75_000_000,
            "{format}: {} bytes",
            written.len()
        );
        let end = match format {
            "txt" => format!("done after {} lines\n$\n", built.lines),
            _ => format!("\x1b[1mdone\x1b[0m after {} lines\r\n$ ", built.lines),
        };
        assert!(
            written.ends_with(end.as_bytes()),
            "{format}: the end is missing"
        );
    }
}
