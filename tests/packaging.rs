//! What `cargo install --path .` puts on a user's PATH: `fixcast`, and nothing else (the
//! benchmarks are a developer's tool in the `bench/` workspace member).

use std::process::Command;

/// The root package's binary targets, read through `cargo metadata` (cheap: no build), which
/// is exactly what `cargo install --path .` would install.
#[test]
fn cargo_install_installs_fixcast_alone() {
    // Cargo sets CARGO for the tests it runs; fall back to the PATH's for a manual run.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .args(["--manifest-path", manifest])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let root = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "fixcast")
        .expect("no fixcast package in cargo metadata");
    let bins: Vec<&str> = root["targets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"].as_array().unwrap().iter().any(|k| k == "bin"))
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        bins,
        ["fixcast"],
        "cargo install --path . would install these binaries"
    );
    // The benchmarks still build, as their own package.
    let bench = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "fixcast-bench")
        .expect("no fixcast-bench workspace member");
    assert_eq!(
        bench["publish"],
        serde_json::json!([]),
        "fixcast-bench is not to be published"
    );
}
