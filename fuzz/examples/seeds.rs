//! Writes the seed corpora, `fuzz/corpus/<target>/`: small real inputs each target starts
//! from. Run from the repository root, after changing a format:
//!
//!     cargo run --manifest-path fuzz/Cargo.toml --example seeds
//!
//! The recordings are written by `CastWriter` itself (whole, cut at several points, and
//! with a byte flipped), so the reader target starts from files as the recorder leaves them.

use std::fs;
use std::path::{Path, PathBuf};

use fixcast_fuzz::{cast_file, header};
use fixcast_sessions::asciicast::{write_v2, write_v3, Recording};
use fixcast_sessions::{CastWriter, Event, EventKind};

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let events = session();
    cast_reader(&root.join("cast_reader"), &events);
    asciicast_import(&root.join("asciicast_import"), &events);
    marks(&root.join("marks"));
    redactor(&root.join("redactor"));
    query(&root.join("query"));
    screen(&root.join("screen"));
    segments(&root.join("segments"), &events);
    println!("seeds written under {}", root.display());
}

/// A short integrated bash session: prompt, a failing command, a fix, a resize.
fn session() -> Vec<Event> {
    let out = |t, s: &str| Event::new(t, EventKind::Output(s.into()));
    vec![
        out(10_000, "\x1b]7;file://node1/root\x07\x1b]133;A\x07$ \x1b]133;B\x07"),
        Event::new(900_000, EventKind::Input("\r".into())),
        out(
            910_000,
            "\r\n\x1b]633;E;echo nameserver 1.1.1.1 > /etc/resolv.conf\x07\x1b]133;C\x07",
        ),
        out(
            920_000,
            "bash: /etc/resolv.conf: Operation not permitted\r\n\x1b]133;D;1\x07",
        ),
        Event::new(1_500_000, EventKind::Resize { cols: 40, rows: 10 }),
        out(
            1_600_000,
            "\x1b]133;A\x07$ \x1b]133;B\x07\x1b]633;E;chattr -i /etc/resolv.conf\x07\x1b]133;C\x07\x1b]133;D;0\x07",
        ),
        Event::new(1_700_000, EventKind::Marker("chattr -i /etc/resolv.conf".into())),
        out(2_000_000, "\x1b[?1049h\x1b[Hvim\x1b[?1049l中文 \x1b[31mred\x1b[0m\r\n"),
        Event::new(2_100_000, EventKind::Exit(0)),
    ]
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    fs::create_dir_all(dir).expect("corpus dir");
    fs::write(dir.join(name), bytes).expect("seed written");
}

fn cast_reader(dir: &Path, events: &[Event]) {
    let tmp = std::env::temp_dir().join(format!("fixcast-seeds-{}", std::process::id()));
    fs::create_dir_all(&tmp).expect("temp dir");
    let path = tmp.join("session.cast.zst");
    let _ = fs::remove_file(&path);
    let mut w = CastWriter::create(&path, &header(100, 30)).expect("writer");
    for (i, ev) in events.iter().enumerate() {
        w.write(ev).expect("written");
        if i % 3 == 2 {
            w.flush().expect("flushed"); // a zstd block per flush, as `rec` does
        }
    }
    w.finish().expect("finished");
    let file = fs::read(&path).expect("written file");
    fs::remove_dir_all(&tmp).expect("temp dir removed");
    // Mode byte 0: the rest is the file as it is (the target reads it growing 7 bytes a time).
    let raw = |bytes: &[u8]| [&[0u8][..], bytes].concat();
    write(dir, "whole", &raw(&file));
    for cut in [file.len() / 3, file.len() / 2, file.len() - 5] {
        write(dir, &format!("cut-{cut}"), &raw(&file[..cut]));
    }
    let mut flipped = file.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x40;
    write(dir, "flipped", &raw(&flipped));
    // Several frames behind seek marks, as a long recording has them.
    write(
        dir,
        "frames",
        &raw(&cast_file(&header(80, 24), events, &[2, 5])),
    );
    // Mode byte 1: the rest describes events to write, cut and damage.
    write(
        dir,
        "structured",
        b"\x01\x50\x18\x05hello\x00\x06\x12\x08\x01\x02\x02abc\x00",
    );
}

fn asciicast_import(dir: &Path, events: &[Event]) {
    let rec = Recording {
        header: header(100, 30),
        events: events.to_vec(),
        damage: Vec::new(),
    };
    write(dir, "v3.cast", write_v3(&rec).as_bytes());
    write(dir, "v2.cast", write_v2(&rec).as_bytes());
    let v1 = r#"{"version": 1, "width": 80, "height": 24, "duration": 1.5, "command": "/bin/bash",
 "title": "demo", "env": {"TERM": "xterm-256color", "SHELL": "/bin/bash"},
 "stdout": [[0.25, "$ "], [1.0, "ls\r\n"], [0.25, "a  b\r\n"]]}"#;
    write(dir, "v1.json", v1.as_bytes());
}

fn marks(dir: &Path) {
    // First byte: the split seed.
    write(
        dir,
        "integrated",
        b"\x07\x1b]7;file://h/tmp\x07\x1b]133;A\x07$ \x1b]133;B\x07\x1b]633;E;ls -l\x07\x1b]133;C\x07out\r\n\x1b]133;D;0\x1b\\",
    );
    write(
        dir,
        "fish4",
        b"\x03\x1b]133;A;click_events=1\x07> \x1b]133;C;cmdline_url=echo%20hi\x07hi\n\x1b]133;D;1\x07\x1b]133;A;k=s\x07",
    );
}

fn redactor(dir: &Path) {
    write(dir, "plain", b"\x03\x05ls -l\r\ntotal 0\r\n\x02$ ");
    write(
        dir,
        "blocks",
        b"\x07\x40-----BEGIN RSA PRIVATE KEY-----\r\nMIIEfake\r\n\x30apiVersion: v1\ndata:\n  password: ZmFrZQ==\n",
    );
}

fn query(dir: &Path) {
    let queries = [
        "lsattr",
        "out:\"Operation not permitted\"",
        "cmd:chattr exit:0",
        "ld-linux.so +x -i --force",
        "chmod OR chattr NOT exit:!0",
        "after:2026-01-01 before:yesterday tag:dns",
        "since:3d until:2026-04-30T12:00 session:01J",
        "suspicious:true host:node1 cwd:/root",
        "titel:dns \"unclosed",
    ];
    for (i, q) in queries.iter().enumerate() {
        write(dir, &format!("q{i}"), q.as_bytes());
    }
}

fn screen(dir: &Path) {
    write(
        dir,
        "small",
        b"\x03\x05\x00\x01\x03\x22hello world\x06\x02\x02\x00\x23\x30\x08",
    );
    write(
        dir,
        "one-by-one",
        b"\x01\x01\x00\x00\x02\x10\x41\x42\x43\x07\x05\x05",
    );
}

fn segments(dir: &Path, events: &[Event]) {
    let rec = Recording {
        header: header(30, 8),
        events: events.to_vec(),
        damage: Vec::new(),
    };
    // First byte: segment size in units of 64 bytes of output (1: cut often).
    write(
        dir,
        "session",
        &[&[1u8][..], write_v3(&rec).as_bytes()].concat(),
    );
}
