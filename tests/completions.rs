//! `fixcast completions SHELL` and `fixcast man`: generated from the flags, and quiet when
//! the reader stops early.

use std::process::Stdio;

use crate::util::{have, Home};

#[test]
fn completions_name_every_subcommand_and_bash_loads_them() {
    let home = Home::new();
    for shell in ["bash", "zsh", "fish"] {
        let script = home.ok(&["completions", shell]);
        for sub in ["rec", "search", "demo", "completions", "man"] {
            assert!(
                script.contains(sub),
                "{shell}: no {sub} in the completion script"
            );
        }
    }
    if have("bash") {
        let out = std::process::Command::new("bash")
            .args(["-c", "source /dev/stdin && complete -p fixcast"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                c.stdin
                    .take()
                    .unwrap()
                    .write_all(home.ok(&["completions", "bash"]).as_bytes())?;
                c.wait_with_output()
            })
            .unwrap();
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("-F _fixcast fixcast"),
            "bash did not register the completion: {out:?}"
        );
    }
    let err = home.run(&["completions", "tcsh"]);
    assert_eq!(
        err.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
}

#[test]
fn the_man_page_is_roff_for_fixcast_and_each_subcommand() {
    let home = Home::new();
    let page = home.ok(&["man"]);
    assert!(page.contains(".TH fixcast 1"), "{page}");
    assert!(page.contains("demo"), "{page}");
    let dir = home.path().join("man");
    home.ok(&["man", "--dir", dir.to_str().unwrap()]);
    for f in [
        "fixcast.1",
        "fixcast-rec.1",
        "fixcast-demo.1",
        "fixcast-search.1",
    ] {
        assert!(dir.join(f).is_file(), "no {f} in {}", dir.display());
    }
}

/// `fixcast completions bash | head -1`: the closed pipe ends it quietly, no panic
/// (clap_complete panics on a failed write; fixcast writes the script out itself). The
/// reader is gone before the first byte, so the write fails every time.
#[test]
fn a_reader_that_stops_early_is_no_error() {
    let home = Home::new();
    for args in [
        &["completions", "bash"][..],
        &["completions", "zsh"][..],
        &["man"][..],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = home
            .cmd(args)
            .stdout(Stdio::from(writer))
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {} {stderr}", out.status);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}
