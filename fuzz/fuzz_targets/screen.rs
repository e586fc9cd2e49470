//! The screen renderer at odd sizes (1×1 up, sizes from the input): `ScreenText` fed
//! terminal output in pieces with resizes and peeks between them, and the cutter
//! (`cut_commands`) on events that carry shell-integration marks, Enters and resizes.
//!
//! KNOWN: `vt100` 0.16.2 panics when a 1-row screen wraps, and (in builds with overflow
//! checks) when a wide character is drawn on a 1-column screen; the fix (clamping the
//! size the derivations use) is being made in `recorder`. To fuzz past them until then,
//! set `FIXCAST_FUZZ_KNOWN=screen-sizes`: every side the input gives is raised to at least 2
//! (and kept within 1000: the cutter does not bound a resize yet, and a huge one takes
//! gigabytes).
//!
//! KNOWN: `vt100` 0.16.2 panics (release builds too) when a wide character was cut in two
//! by a narrowing resize and its cell is written again (upstream doy/vt100-rust#37). With
//! `FIXCAST_FUZZ_KNOWN=wide-resize`, no resize follows output that may hold a wide
//! character.
#![no_main]

use fixcast_recorder::{cut_commands, ScreenText};
use fixcast_sessions::{Event, EventKind};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;

/// Pieces of terminal output that matter to the screen and the cutter; the fuzzer
/// strings them together with text of its own.
const PIECES: &[&str] = &[
    "\x1b]133;A\x07",
    "\x1b]133;A;k=s\x07",
    "\x1b]133;B\x07",
    "\x1b]133;C\x07",
    "\x1b]133;C;cmdline_url=ls%20-l\x07",
    "\x1b]133;D;0\x07",
    "\x1b]133;D;1\x1b\\",
    "\x1b]633;E;make test\x07",
    "\x1b]7;file://host/tmp\x07",
    "$ ",
    "\r\n",
    "\n",
    "\r",
    "\x08",
    "\t",
    "\x1b[2J",
    "\x1b[H",
    "\x1b[J",
    "\x1b[K",
    "\x1b[3;1H",
    "\x1b[5S",
    "\x1b[2T",
    "\x1b[3L",
    "\x1b[2M",
    "\x1b[4@",
    "\x1b[r",
    "\x1b[2;3r",
    "\x1b[?1049h",
    "\x1b[?1049l",
    "\x1b[?47h",
    "\x1b[?47l",
    "\x1b[?7l",
    "\x1b[?7h",
    "\x1b[?6h",
    "\x1bc",
    "\x1bM",
    "\x1bD",
    "\x1bE",
    "\x1b7",
    "\x1b8",
    "\x1b[31;1m",
    "\x1b[0m",
    "中文字",
    "e\u{301}",
    "🙂",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
];

/// `(rows, cols)`: mostly 0..=12 (0 is clamped to 1), now and then any `u16`.
fn size(u: &mut Unstructured) -> Result<(u16, u16)> {
    let side = |u: &mut Unstructured| -> Result<u16> {
        Ok(if u.ratio(1, 64)? {
            u.arbitrary()?
        } else {
            u.int_in_range(0..=12)?
        })
    };
    let min = fixcast_fuzz::min_side();
    // With the known crashes stepped around, so is the known unbounded resize of the
    // cutter's screen (`r 15140x2836` takes 2.8 GB): sides stay within 1000.
    let max = if min > 1 { 1000 } else { u16::MAX };
    Ok((side(u)?.clamp(min, max), side(u)?.clamp(min, max)))
}

fn output(u: &mut Unstructured) -> Result<String> {
    let mut s = String::new();
    for _ in 0..u.int_in_range(1..=6u8)? {
        if u.ratio(1, 2)? {
            s.push_str(u.choose(PIECES)?);
        } else {
            s.push_str(&fixcast_fuzz::text(u, 24)?);
        }
    }
    Ok(s)
}

fuzz_target!(|data: &[u8]| {
    let _ = run(data);
});

fn run(data: &[u8]) -> Result<()> {
    let mut u = Unstructured::new(data);
    let (rows, cols) = size(&mut u)?;
    let cap = if u.ratio(1, 4)? {
        u.int_in_range(0..=64)?
    } else {
        usize::MAX
    };
    let mut screen = ScreenText::with_cap(rows, cols, cap);
    let mut events = Vec::new();
    let mut time = 0;
    let mut wide = false;
    while !u.is_empty() && events.len() < 64 {
        time += 1_000;
        let kind = match u.int_in_range(0..=9u8)? {
            0..=5 => {
                let out = output(&mut u)?;
                wide |= fixcast_fuzz::maybe_wide(&out);
                screen.write(out.as_bytes());
                EventKind::Output(out)
            }
            6 | 7 if wide && fixcast_fuzz::step_over("wide-resize") => continue,
            6 | 7 => {
                let (rows, cols) = size(&mut u)?;
                screen.resize(rows, cols);
                EventKind::Resize {
                    cols: cols.max(1),
                    rows: rows.max(1),
                }
            }
            8 => {
                check(&screen.peek());
                EventKind::Input("\r".into())
            }
            _ => EventKind::Input(fixcast_fuzz::text(&mut u, 4)?),
        };
        events.push(Event::new(time, kind));
    }
    check(&screen.finish());
    let command = u.ratio(1, 4)?.then_some("make");
    for c in cut_commands(cols, rows, command, &events) {
        assert!(
            c.start <= c.end,
            "command {:?} ends before it starts",
            c.command
        );
    }
    Ok(())
}

fn check(r: &fixcast_recorder::Rendered) {
    assert!(r.text.is_empty() || r.text.ends_with('\n'), "{:?}", r.text);
}
