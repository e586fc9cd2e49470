//! `fixcast-bench index --keep DIR`: the corpus, its recordings and the index built once
//! and kept in DIR, so a change to the query side is measured again in seconds rather
//! than the minutes a build of 1M commands takes. What the build measured is kept beside
//! them and read back.

use std::path::Path;

use anyhow::Context;
use fixcast_indexer::CommandIndex;
use serde::{Deserialize, Serialize};

use crate::index::{BuildFigures, Built};

/// What a build measured, and for how many commands, as kept in `DIR/built.json`.
#[derive(Serialize, Deserialize)]
struct Kept {
    commands: usize,
    figures: BuildFigures,
}

const KEPT: &str = "built.json";

/// The build kept in `root` for `n` commands, or `build()`'s, then kept. A kept build of
/// another size is an error: its figures would be read as this size's.
pub(crate) fn built_or(
    n: usize,
    root: &Path,
    build: impl FnOnce() -> anyhow::Result<Built>,
) -> anyhow::Result<Built> {
    let path = root.join(KEPT);
    match std::fs::read(&path) {
        Ok(bytes) => {
            let k: Kept = serde_json::from_slice(&bytes)
                .with_context(|| format!("{}: not a kept build", path.display()))?;
            anyhow::ensure!(
                k.commands == n,
                "{} holds {} commands, not {n}: give another DIR",
                root.display(),
                k.commands
            );
            println!(
                "  reusing the build kept in {} (its build figures are that run's)",
                root.display()
            );
            Ok(Built {
                index: CommandIndex::open(&root.join("index"))?,
                figures: k.figures,
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            anyhow::ensure!(
                !root.join("index").exists(),
                "{} has an index but no {KEPT} (a build that did not finish): remove it",
                root.display()
            );
            let built = build()?;
            let k = Kept {
                commands: n,
                figures: built.figures,
            };
            std::fs::write(&path, serde_json::to_vec_pretty(&k)?)
                .with_context(|| format!("cannot write {}", path.display()))?;
            Ok(built)
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}
