//! The recording as text: `fixcast export ID --format txt -o FILE` against asciinema 3's
//! `asciinema convert -f txt` of the same recording exported as a plain v3 .cast, in the
//! same run, interleaved (A, B, A, B…): wall time, CPU time and peak RSS of each, medians
//! and every run. `FIXCAST_BASE=path` adds another fixcast binary (say, the last
//! release) as a third candidate, over the same session.
//!
//! Each runs under GNU `time` (see [`util::run_measured_rss`]): a child's own `wait4`
//! peak would start from this bench's.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::util::{self, list, median_f64, Measured};

const RUN_LIMIT: Duration = Duration::from_secs(300);

/// One candidate's runs.
#[derive(Default)]
struct Runs {
    wall: Vec<f64>,
    cpu: Vec<f64>,
    rss_mib: Vec<f64>,
}

impl Runs {
    fn push(&mut self, m: Measured) {
        self.wall.push(m.wall.as_secs_f64());
        self.cpu.push(m.cpu.as_secs_f64());
        self.rss_mib.push(m.maxrss_kib as f64 / 1024.0);
    }

    fn line(&self, who: &str) -> String {
        format!(
            "{who}: wall {:.3} s, CPU {:.3} s, peak RSS {:.1} MiB; runs wall {}, CPU {}, RSS {}",
            median_f64(&self.wall),
            median_f64(&self.cpu),
            median_f64(&self.rss_mib),
            list(&self.wall, 3),
            list(&self.cpu, 3),
            list(&self.rss_mib, 1)
        )
    }
}

/// Times the txt export of session `id` in `home` (`cast`: the same recording as a
/// plain .cast for asciinema). With `headline`, adds the figures to the closing table.
#[allow(clippy::too_many_arguments)]
pub fn measure(
    fixcast: &Path,
    home: &Path,
    id: &str,
    cast: &Path,
    asciinema: Option<&Path>,
    runs: usize,
    name: &str,
    headline: bool,
) -> anyhow::Result<()> {
    util::require_gnu_time()?;
    let dir = cast.parent().unwrap_or(Path::new("."));
    let out = dir.join(format!("{id}.export.txt"));
    let base = std::env::var_os("FIXCAST_BASE")
        .map(PathBuf::from)
        .filter(|p| p.is_file());
    let (mut ours, mut theirs, mut based) = (Runs::default(), Runs::default(), Runs::default());
    let export = |bin: &Path| {
        let mut c = util::fixcast_cmd(bin, home, &["export", id, "--format", "txt", "-o"]);
        c.arg(&out);
        c
    };
    for _ in 0..runs {
        ours.push(util::run_measured_rss(
            &mut export(fixcast),
            RUN_LIMIT,
            dir,
            "fixcast export",
        )?);
        if let Some(a) = asciinema {
            let conv = dir.join("converted.txt");
            let _ = std::fs::remove_file(&conv);
            let mut c = Command::new(a);
            c.args(["convert", "-f", "txt"]).arg(cast).arg(&conv);
            theirs.push(util::run_measured_rss(
                &mut c,
                RUN_LIMIT,
                dir,
                "asciinema convert",
            )?);
        }
        if let Some(b) = &base {
            based.push(util::run_measured_rss(
                &mut export(b),
                RUN_LIMIT,
                dir,
                "base fixcast export",
            )?);
        }
    }
    let text = std::fs::metadata(&out).map_or(0, |m| m.len());
    let rss_of = |r: &Runs| (!r.rss_mib.is_empty()).then(|| median_f64(&r.rss_mib));
    println!(
        "cut: {name}: export --format txt ({}, load {}), medians of {runs}:",
        util::mb(text),
        util::load_average()
    );
    println!("cut:   {}", ours.line("fixcast export"));
    if !theirs.wall.is_empty() {
        println!("cut:   {}", theirs.line("asciinema convert -f txt"));
    }
    if let Some(b) = &base {
        println!(
            "cut:   {}",
            based.line(&format!("FIXCAST_BASE {}", b.display()))
        );
    }
    let (w, cpu) = (median_f64(&ours.wall), median_f64(&ours.cpu));
    if !theirs.wall.is_empty() {
        let (aw, acpu) = (median_f64(&theirs.wall), median_f64(&theirs.cpu));
        println!(
            "cut:   fixcast / asciinema = {:.2}x the wall time, {:.2}x the CPU time",
            w / aw,
            cpu / acpu
        );
    }
    if !based.wall.is_empty() {
        println!(
            "cut:   fixcast / FIXCAST_BASE = {:.2}x the wall time, {:.2}x the CPU time",
            w / median_f64(&based.wall),
            cpu / median_f64(&based.cpu),
        );
    }
    if !headline {
        return Ok(());
    }
    let anchor_wall = (!theirs.wall.is_empty()).then(|| median_f64(&theirs.wall));
    crate::report::figure(
        "cut",
        format!(
            "recording → text (`export --format txt`), {name}, wall vs `asciinema convert -f txt`"
        ),
        match anchor_wall {
            Some(a) => format!(
                "{} ({w:.2} s vs {a:.2} s; CPU {cpu:.2} s vs {:.2} s)",
                crate::report::ratio(w, a),
                median_f64(&theirs.cpu)
            ),
            None => format!("{w:.2} s (CPU {cpu:.2} s)"),
        },
        anchor_wall.map_or("asciinema 3 not found".into(), |a| {
            format!("asciinema 3: {a:.2} s")
        }),
        "≤ 1.00×",
        anchor_wall.map(|a| w <= a),
    );
    let rss = rss_of(&ours);
    crate::report::figure(
        "cut",
        format!("recording → text (`export --format txt`), {name}, peak RSS"),
        rss.map_or("not measured".to_owned(), |r| format!("{r:.1} MiB")),
        rss_of(&theirs).map_or("asciinema 3 not found".to_owned(), |r| {
            format!("asciinema 3: {r:.1} MiB")
        }),
        "≤ 32 MiB (streamed)",
        rss.map(|r| r <= 32.0),
    );
    Ok(())
}
