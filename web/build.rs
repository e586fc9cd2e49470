//! Puts asciinema-player's built files (pinned in package.json + package-lock.json) in
//! OUT_DIR, where `src/assets.rs` embeds them. Runs `npm ci` when `node_modules` lacks
//! them, so a fresh clone builds with plain `cargo build` on a machine with npm; nothing
//! is fetched at run time.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Files of the player's bundle that the binary embeds.
const FILES: &[&str] = &["asciinema-player.min.js", "asciinema-player.css"];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=package.json");
    println!("cargo:rerun-if-changed=package-lock.json");
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it"));
    let bundle = manifest.join("node_modules/asciinema-player/dist/bundle");
    println!("cargo:rerun-if-changed={}", bundle.display());

    if !FILES.iter().all(|f| bundle.join(f).is_file()) {
        npm_ci(&manifest);
    }
    for f in FILES {
        let from = bundle.join(f);
        let to = out.join(f);
        if let Err(e) = std::fs::copy(&from, &to) {
            fail(&format!(
                "cannot copy {} to {}: {e}",
                from.display(),
                to.display()
            ));
        }
    }
}

fn npm_ci(dir: &Path) {
    println!(
        "cargo:warning=fixcast-web: asciinema-player is not in web/node_modules; running `npm ci` in {}",
        dir.display()
    );
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(dir)
        .status();
    match status {
        Ok(s) if s.success() => {
            println!("cargo:warning=fixcast-web: npm ci done");
        }
        Ok(s) => fail(&format!(
            "`npm ci` in {} failed ({s}); check the network and npm's output above, then build again",
            dir.display()
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => fail(
            "npm is not installed: the web player (asciinema-player) comes from npm at build time. \
             Install Node.js and npm (Debian/Ubuntu: `apt-get install npm`), then build again",
        ),
        Err(e) => fail(&format!("cannot run npm: {e}")),
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("error: fixcast-web: {msg}");
    panic!("fixcast-web: {msg}");
}
