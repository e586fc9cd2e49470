//! `fixcast-bench`: figures for the recorder, printed, not asserted.
//!
//! ```text
//! cargo build --release -p fixcast -p fixcast-bench && ./target/release/fixcast-bench all --table t.md
//! ./target/release/fixcast-bench all --ten-million      # adds the 10M-command index
//! ./target/release/fixcast-bench throughput --runs 7 [--relay-variants] [--baseline PATH]
//! ./target/release/fixcast-bench latency --samples 1000 --fixcast /path/to/fixcast
//! ./target/release/fixcast-bench size [--record-fixture bench/data/size-session.cast.zst]
//! ./target/release/fixcast-bench cut --runs 7 [--no-flood]
//! ./target/release/fixcast-bench index [--commands 100000]
//! ./target/release/fixcast-bench hints [--commands 100000]
//! ./target/release/fixcast-bench web --runs 3 [--mb 1024]
//! ./target/release/fixcast-bench live --runs 3 [--viewers 100] [--max-viewers 1000]
//! ./target/release/fixcast-bench live-growth --runs 5 [--mb 40]
//! ```
//!
//! - `throughput`: `fixcast rec -c 'cat FILE'` vs util-linux `script` on ~135 MB of base64;
//!   wall-time medians, ratio, MB/s, CPU, peak RSS, and a check that nothing was dropped;
//!   with a bare PTY relay in the rotation as the floor (`--relay-variants`: also its read
//!   size, blocking/poll/spin reads, and the slave's termios cooked/-opost/raw).
//! - `size`: a 2,000-command debugging session (a fixed recording kept in bench/data, and
//!   a new one): session folder vs its cast-v3 export under `zstd -3` (and a few other
//!   zstd settings).
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
//! `all` runs every section (throughput, size, cut, latency, index at 100k and 1M, hints,
//! web at 256 MB, live) and ends with one table of the headline figures (`report.rs`),
//! each against its anchor measured in the same run and the goal of issue 15.
//!
//! Needs `script` (util-linux), `zstd`, `bash`; no network, but for `cut` installing
//! asciinema 3 from crates.io when it is absent (`FIXCAST_BENCH_NO_INSTALL=1` skips it). Everything happens in temp
//! dirs (each run gets its own FIXCAST_HOME) that are removed at the end, on error and on
//! Ctrl-C. Competing candidates run interleaved (A, B, A, B…) so machine noise hits both.

mod asciinema;
mod corpus;
mod corpus_cast;
mod cut;
mod cut_export;
mod cut_fixes;
mod hints;
mod http;
mod index;
mod index_keep;
mod index_per_query;
mod latency;
mod live;
mod live_growth;
mod live_session;
mod live_viewers;
mod redact;
mod relay;
mod report;
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
    /// `throughput`: another fixcast binary (main's, say) run as one more interleaved
    /// candidate, so a change is compared in the same run
    #[arg(long, global = true, value_name = "PATH")]
    baseline: Option<PathBuf>,
    /// Also write the closing table of figures as Markdown to FILE (PERFORMANCE.md's table)
    #[arg(long, global = true, value_name = "FILE")]
    table: Option<PathBuf>,
    /// `all` and `index`: also build and query an index of 10M commands (about 15 min and
    /// up to 17 GB of temp disk more)
    #[arg(long, global = true)]
    ten_million: bool,
    #[command(subcommand)]
    what: Option<What>,
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
enum What {
    /// Recording a flood of output vs `script`
    Throughput {
        /// Also run the bare relay's variants (read size, wait, termios) in the rotation
        #[arg(long)]
        relay_variants: bool,
    },
    /// Stored size of a 2,000-command session vs zstd
    Size {
        /// Only record the bench's script once and write its cast-v3 export under
        /// `zstd -19` to PATH (how bench/data/size-session.cast.zst was made)
        #[arg(long, value_name = "PATH")]
        record_fixture: Option<PathBuf>,
    },
    /// Added keystroke echo latency
    Latency,
    /// Cutting recordings into commands, and `export --format txt`, vs `asciinema convert
    /// -f txt` (ASCIINEMA=path; installed when absent), and what fix records add to the
    /// cut and to indexing (FIXCAST_BASE=path: another fixcast's export too)
    Cut {
        /// Only the 2,000-command sessions, not the ~135 MB flood
        #[arg(long)]
        no_flood: bool,
    },
    /// Recording the flood with redaction on vs `--no-redact`
    Redact,
    /// Every figure: all of the above and below, in a bounded time, ending with one table
    /// (the default)
    All,
    /// The search index: build rate, size, query latency vs grep (100k and 1M commands)
    Index {
        /// Only this many commands
        #[arg(long, value_name = "N")]
        commands: Option<usize>,
        /// Also print each query's times and its first page (session:seq of each hit)
        #[arg(long)]
        per_query: bool,
        /// Build the corpus and the index in DIR and keep them there; a later run given
        /// the same DIR queries them again without building (its build figures are the
        /// first run's, read back). One size only.
        #[arg(long, value_name = "DIR")]
        keep: Option<PathBuf>,
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
    /// The bare PTY relay `throughput` runs as a floor: `$SHELL -c CMD` on a PTY's slave,
    /// the master copied to stdout, nothing recorded
    #[command(hide = true)]
    Relay {
        /// Bytes asked of each read of the master
        #[arg(long, value_name = "N", default_value_t = 64 << 10)]
        read: usize,
        #[arg(long, value_enum, default_value_t = relay::Wait::Block)]
        wait: relay::Wait,
        /// The slave's termios
        #[arg(long, value_enum, default_value_t = relay::Termios::Cooked)]
        termios: relay::Termios,
        /// The command, run by $SHELL -c
        #[arg(last = true, required = true)]
        command: String,
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
    let what = cli.what.clone().unwrap_or(What::All);
    let runs = cli.runs as usize;
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
    let mut index_sizes = vec![100_000, 1_000_000];
    if cli.ten_million {
        index_sizes.push(10_000_000);
    }
    match what {
        // Through the indexer's API: no fixcast binary needed.
        What::Index {
            commands,
            per_query,
            keep,
        } => {
            let sizes = commands.map_or(index_sizes, |n| vec![n.max(1)]);
            if keep.is_some() && sizes.len() != 1 {
                bail!("--keep holds one size: give --commands N");
            }
            section("index", &|| index::run(&sizes, per_query, keep.as_deref()));
            return finish(&cli, t0, &failed);
        }
        What::Relay {
            read,
            wait,
            termios,
            command,
        } => {
            return relay::run(&relay::Relay {
                read,
                wait,
                termios,
                command,
            })
        }
        What::Hints { commands } => {
            let sizes = commands.map_or(vec![100_000, 1_000_000], |n| vec![n.max(1)]);
            section("hints", &|| hints::run(&sizes));
            return finish(&cli, t0, &failed);
        }
        _ => {}
    }
    let fixcast = fixcast_binary(&cli)?;
    println!(
        "fixcast-bench: {} ({}), runs={runs}, cpus={}, load {}",
        fixcast.display(),
        version(&fixcast),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        util::load_average()
    );
    let all = what == What::All;
    match what {
        What::Throughput { relay_variants } => section("throughput", &|| {
            throughput::run(&fixcast, cli.baseline.as_deref(), runs, relay_variants)
        }),
        What::All => section("throughput", &|| {
            throughput::run(&fixcast, cli.baseline.as_deref(), runs, false)
        }),
        _ => {}
    }
    match &what {
        What::Size {
            record_fixture: Some(out),
        } => section("size", &|| size::record_fixture(&fixcast, out)),
        What::Size { .. } | What::All => section("size", &|| size::run(&fixcast)),
        _ => {}
    }
    match what {
        What::Cut { no_flood } => section("cut", &|| cut::run(&fixcast, runs, no_flood)),
        What::All => section("cut", &|| cut::run(&fixcast, runs, false)),
        _ => {}
    }
    if all || what == What::Latency {
        section("latency", &|| latency::run(&fixcast, cli.samples as usize));
    }
    if all {
        section("index", &|| index::run(&index_sizes, false, None));
        section("hints", &|| hints::run(&[100_000, 1_000_000]));
    }
    match what {
        What::Web { mb } => section("web", &|| web::run(&fixcast, runs, mb as usize)),
        // A 1 GB session takes minutes to record; 256 MB shows the same seek.
        What::All => section("web", &|| web::run(&fixcast, runs.min(3), 256)),
        _ => {}
    }
    match what {
        What::Live {
            viewers,
            max_viewers,
        } => section("live", &|| {
            live::run(&fixcast, runs, viewers as usize, max_viewers as usize)
        }),
        What::All => section("live", &|| live::run(&fixcast, runs.min(3), 100, 1000)),
        _ => {}
    }
    if let What::LiveGrowth { mb } = what {
        section("live-growth", &|| {
            live_growth::run(&fixcast, runs, mb as usize)
        });
    }
    if what == What::Redact {
        section("redact", &|| redact::run(&fixcast, runs));
    }
    finish(&cli, t0, &failed)
}

/// Prints the table of figures (and writes it with `--table`), then the verdict.
fn finish(cli: &Cli, t0: Instant, failed: &[String]) -> anyhow::Result<()> {
    let rows = report::rows();
    if !rows.is_empty() {
        let table = report::markdown(&rows);
        println!("== figures\n{table}");
        if let Some(path) = &cli.table {
            std::fs::write(path, &table)
                .with_context(|| format!("cannot write the table to {}", path.display()))?;
            println!("fixcast-bench: wrote the table to {}", path.display());
        }
    }
    println!("fixcast-bench: done in {:.1} s", t0.elapsed().as_secs_f64());
    if !failed.is_empty() {
        bail!("failed: {}", failed.join(", "));
    }
    Ok(())
}

fn fixcast_binary(cli: &Cli) -> anyhow::Result<PathBuf> {
    let fixcast = match &cli.fixcast {
        Some(p) => p.clone(),
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
    Ok(fixcast.canonicalize()?)
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
