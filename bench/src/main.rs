//! `fixcast-bench`: figures for the recorder, printed, not asserted.
//!
//! ```text
//! cargo build --release -p fixcast -p fixcast-bench && ./target/release/fixcast-bench all
//! ./target/release/fixcast-bench throughput --runs 7
//! ./target/release/fixcast-bench latency --samples 1000 --fixcast /path/to/fixcast
//! ./target/release/fixcast-bench cut --runs 7 [--no-flood]
//! ./target/release/fixcast-bench index [--commands 100000]
//! ./target/release/fixcast-bench hints [--commands 100000]
//! ./target/release/fixcast-bench web --runs 3 [--mb 1024]
//! ./target/release/fixcast-bench live --runs 3 [--viewers 100] [--max-viewers 1000]
//! ./target/release/fixcast-bench live-growth --runs 5 [--mb 40]
//! ```
//!
//! - `throughput`: `fixcast rec -c 'cat FILE'` vs util-linux `script` on ~135 MB of base64;
//!   wall-time medians, ratio, MB/s, CPU, peak RSS, and a check that nothing was dropped.
//! - `size`: a 2,000-command debugging session: session folder vs its cast-v3 export
//!   under `zstd -3` (and a few other zstd settings).
//! - `latency`: keystroke echo time in bash, bare vs under `fixcast rec`.
//! - `index`: a seeded synthetic corpus of debugging commands (100k and 1M) indexed
//!   through fixcast-indexer: build rate, size vs raw text, query latency p50/p99 over 50
//!   queries, and `grep -c` over the same text.
//! - `hints`: `rec`'s "seen before" look-up on that corpus with fixed failures in it
//!   (100k and 1M commands): p50/p99 over known, corpus and never-seen error lines.
//! - `web`: `fixcast serve`: opening a ~1 GB session at its end in headless Chromium,
//!   segmented vs the plain cast; search API latency under 50 concurrent clients.
//! - `live`: `fixcast serve` streaming a session being recorded: latency from PTY output
//!   to 100 EventSource viewers, how many viewers one server holds and its RSS, and
//!   `fixcast rec` on the flood with 0 vs 100 viewers.
//! - `live-growth`: `fixcast serve` on a live session growing to 40 MB of output: the live
//!   page's poll (`GET /api/sessions/<id>`) and a search catching the index up, at 1, 5,
//!   10, 20, 40 MB, vs a whole read and cut (`fixcast show --commands --json`, what every
//!   look used to cost); medians, max, and how each grew.
//!
//! Needs `script` (util-linux), `zstd`, `bash`; no network. Everything happens in temp
//! dirs (each run gets its own FIXCAST_HOME) that are removed at the end, on error and on
//! Ctrl-C. Competing candidates run interleaved (A, B, A, B…) so machine noise hits both.

mod corpus;
mod cut;
mod cut_fixes;
mod hints;
mod http;
mod index;
mod latency;
mod live;
mod live_growth;
mod live_session;
mod live_viewers;
mod redact;
mod serve;
mod size;
mod throughput;
mod util;
mod web;
mod web_search;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "fixcast-bench",
    about = "Benchmarks for fixcast rec (figures, not asserts)"
)]
struct Cli {
    /// Timed runs per candidate; medians are reported
    #[arg(long, global = true, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    runs: u32,
    /// Keystrokes timed per shell in `latency`
    #[arg(long, global = true, default_value_t = 500, value_parser = clap::value_parser!(u32).range(10..=100_000))]
    samples: u32,
    /// The fixcast binary [default: `fixcast` next to this executable]
    #[arg(long, global = true, value_name = "PATH")]
    fixcast: Option<PathBuf>,
    #[command(subcommand)]
    what: Option<What>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Subcommand)]
enum What {
    /// Recording a flood of output vs `script`
    Throughput,
    /// Stored size of a 2,000-command session vs zstd
    Size,
    /// Added keystroke echo latency
    Latency,
    /// Cutting recordings into commands vs `asciinema convert -f txt` (ASCIINEMA=path),
    /// and what fix records add to the cut and to indexing
    Cut {
        /// Only the 2,000-command sessions, not the ~135 MB flood
        #[arg(long)]
        no_flood: bool,
    },
    /// Recording the flood with redaction on vs `--no-redact`
    Redact,
    /// All of the above (the default)
    All,
    /// The search index: build rate, size, query latency vs grep (100k and 1M commands)
    Index {
        /// Only this many commands
        #[arg(long, value_name = "N")]
        commands: Option<usize>,
    },
    /// rec's "seen before" look-up: p50/p99 at 100k and 1M commands
    Hints {
        /// Only this many commands
        #[arg(long, value_name = "N")]
        commands: Option<usize>,
    },
    /// fixcast serve: opening a long session at its end (Chromium), search under load
    Web {
        /// MB of output in the long session
        #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=4096))]
        mb: u64,
    },
    /// fixcast serve's live stream: latency to viewers, viewers per server, recorder cost
    Live {
        /// Viewers for the latency and the recorder figures
        #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=10_000))]
        viewers: u64,
        /// The capacity ramp doubles the viewers up to this many
        #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=10_000))]
        max_viewers: u64,
    },
    /// fixcast serve on a growing live session: poll and search latency vs a whole cut
    LiveGrowth {
        /// MB of output the session grows to
        #[arg(long, value_name = "N", default_value_t = 40, value_parser = clap::value_parser!(u64).range(1..=4096))]
        mb: u64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fixcast-bench: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    util::clean_up_on_signals();
    if let Some(What::Index { commands }) = cli.what {
        // Through the indexer's API: no fixcast binary needed.
        let sizes = commands.map_or(vec![100_000, 1_000_000], |n| vec![n.max(1)]);
        let t = Instant::now();
        index::run(&sizes)?;
        println!("fixcast-bench: done in {:.1} s", t.elapsed().as_secs_f64());
        return Ok(());
    }
    if let Some(What::Hints { commands }) = cli.what {
        let sizes = commands.map_or(vec![100_000, 1_000_000], |n| vec![n.max(1)]);
        let t = Instant::now();
        hints::run(&sizes)?;
        println!("fixcast-bench: done in {:.1} s", t.elapsed().as_secs_f64());
        return Ok(());
    }
    let fixcast = match cli.fixcast {
        Some(p) => p,
        None => std::env::current_exe()
            .context("cannot find this executable")?
            .parent()
            .context("this executable has no directory")?
            .join("fixcast"),
    };
    if !fixcast.is_file() {
        bail!(
            "no fixcast binary at {} (build it: cargo build --release -p fixcast, or pass --fixcast PATH)",
            fixcast.display()
        );
    }
    let fixcast = fixcast.canonicalize()?;
    let what = cli.what.unwrap_or(What::All);
    let runs = cli.runs as usize;
    println!(
        "fixcast-bench: {} ({}), runs={runs}, cpus={}",
        fixcast.display(),
        version(&fixcast),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let t0 = Instant::now();
    let mut failed = Vec::new();
    let mut section = |name: &str, f: &dyn Fn() -> anyhow::Result<()>| {
        let t = Instant::now();
        if let Err(e) = f() {
            println!("{name}: ERROR {e:#}");
            failed.push(name.to_owned());
        }
        println!("({name} took {:.1} s)\n", t.elapsed().as_secs_f64());
    };
    if matches!(what, What::Throughput | What::All) {
        section("throughput", &|| throughput::run(&fixcast, runs));
    }
    if matches!(what, What::Size | What::All) {
        section("size", &|| size::run(&fixcast));
    }
    match what {
        What::Cut { no_flood } => section("cut", &|| cut::run(&fixcast, runs, no_flood)),
        What::All => section("cut", &|| cut::run(&fixcast, runs, false)),
        _ => {}
    }
    if let What::Web { mb } = what {
        section("web", &|| web::run(&fixcast, runs, mb as usize));
    }
    if let What::Live {
        viewers,
        max_viewers,
    } = what
    {
        section("live", &|| {
            live::run(&fixcast, runs, viewers as usize, max_viewers as usize)
        });
    }
    if let What::LiveGrowth { mb } = what {
        section("live-growth", &|| {
            live_growth::run(&fixcast, runs, mb as usize)
        });
    }
    if what == What::Redact {
        section("redact", &|| redact::run(&fixcast, runs));
    }
    if matches!(what, What::Latency | What::All) {
        section("latency", &|| latency::run(&fixcast, cli.samples as usize));
    }
    println!("fixcast-bench: done in {:.1} s", t0.elapsed().as_secs_f64());
    if !failed.is_empty() {
        bail!("failed: {}", failed.join(", "));
    }
    Ok(())
}

fn version(fixcast: &std::path::Path) -> String {
    util::output_of(
        std::process::Command::new(fixcast).arg("--version"),
        std::time::Duration::from_secs(10),
        "fixcast --version",
    )
    .map(|o| String::from_utf8_lossy(&o).trim().to_owned())
    .unwrap_or_else(|e| format!("version unknown: {e:#}"))
}
