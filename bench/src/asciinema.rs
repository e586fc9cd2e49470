//! asciinema 3, the anchor of `throughput` and `cut`: found (`ASCIINEMA=path`, `PATH`, the bench's cache),
//! else installed from crates.io into the bench's cache, once, with cargo
//! (`FIXCAST_BENCH_NO_INSTALL=1` says not to).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// The version installed when none is found: the one the figures are quoted against.
const VERSION: &str = "3.2.0";

/// An asciinema 3 binary and its version, installing one if need be; `None` (said why
/// on stdout) when there is none and it cannot be installed.
pub fn find_or_install() -> Option<(PathBuf, String)> {
    let cached = cache_root().map(|r| r.join("bin").join("asciinema"));
    let found = std::env::var_os("ASCIINEMA")
        .map(PathBuf::from)
        .into_iter()
        .chain(std::env::var_os("PATH").into_iter().flat_map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("asciinema"))
                .collect::<Vec<_>>()
        }))
        // Where a plain `cargo install asciinema` puts it, then the bench's own install.
        .chain(std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin/asciinema")))
        .chain(cached.clone())
        .find_map(|p| version_3(&p).map(|v| (p, v)));
    if found.is_some() {
        return found;
    }
    let Some(root) = cache_root() else {
        println!("bench: asciinema 3 not found, and no cache folder to install it in (set HOME or XDG_CACHE_HOME)");
        return None;
    };
    if std::env::var_os("FIXCAST_BENCH_NO_INSTALL").is_some_and(|v| !v.is_empty() && v != "0") {
        println!(
            "bench: asciinema 3 not found (FIXCAST_BENCH_NO_INSTALL is set: not installing it)"
        );
        return None;
    }
    install(&root)
}

/// `cargo install asciinema --version 3.2.0 --locked --root ROOT`, its progress shown.
fn install(root: &Path) -> Option<(PathBuf, String)> {
    println!(
        "bench: asciinema 3 not found: installing asciinema {VERSION} from crates.io into {} \
         (cargo install, a few minutes; FIXCAST_BENCH_NO_INSTALL=1 skips this)",
        root.display()
    );
    let t = Instant::now();
    let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args([
            "install",
            "asciinema",
            "--version",
            VERSION,
            "--locked",
            "--root",
        ])
        .arg(root)
        // Its own build folder, not the one this bench may have been built in.
        .env_remove("CARGO_TARGET_DIR")
        .stdin(Stdio::null())
        .status();
    let took = t.elapsed().as_secs_f64();
    let bin = root.join("bin").join("asciinema");
    match status {
        Ok(s) if s.success() => match version_3(&bin) {
            Some(v) => {
                println!("bench: installed {v} in {took:.0} s: {}", bin.display());
                Some((bin, v))
            }
            None => {
                println!(
                    "bench: cargo install ran ({took:.0} s) but {} is not asciinema 3",
                    bin.display()
                );
                None
            }
        },
        Ok(s) => {
            println!(
                "bench: cargo install asciinema failed ({s}, {took:.0} s): no asciinema figures"
            );
            None
        }
        Err(e) => {
            println!("bench: cannot run cargo to install asciinema ({e}): no asciinema figures");
            None
        }
    }
}

/// Where the bench keeps what it installs: `$XDG_CACHE_HOME/fixcast-bench/asciinema`, else
/// `~/.cache/fixcast-bench/asciinema`.
fn cache_root() -> Option<PathBuf> {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(cache.join("fixcast-bench").join("asciinema"))
}

/// `asciinema --version` when `path` is an asciinema 3.
fn version_3(path: &Path) -> Option<String> {
    if !path.is_file() {
        return None;
    }
    let out = Command::new(path).arg("--version").output().ok()?;
    let v = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    v.contains(" 3.").then_some(v)
}
