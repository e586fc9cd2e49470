//! Redaction's cost: `fixcast rec -c 'cat FILE'` with redaction on (the default) and
//! off (`--no-redact`) on the throughput bench's ~135 MB base64 flood, interleaved.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::bail;

use crate::util::{self, list, mb, median_f64, TempDir};

const RAW_BYTES: usize = 100_000_000;
const RUN_LIMIT: Duration = Duration::from_secs(120);

pub fn run(fixcast: &Path, runs: usize) -> anyhow::Result<()> {
    let tmp = TempDir::new("redact")?;
    let file = tmp.path().join("flood.b64");
    let size = crate::throughput::write_base64_file(&file, RAW_BYTES)?;
    println!(
        "== redact: wall time of `fixcast rec -c 'cat FILE' --cols 200 --rows 50` with redaction (default) vs `--no-redact`, \
         FILE = {} of base64 text (76-col lines), stdin+stdout /dev/null, SHELL=/bin/bash; runs interleaved, one warm-up each",
        mb(size)
    );
    let cat = format!("cat {}", file.display());
    let (mut on, mut off) = (Vec::new(), Vec::new());
    let mut redacted = Vec::new();
    for i in 0..=runs {
        for no_redact in [false, true] {
            let home = TempDir::new("redact-home")?;
            let mut args = vec!["rec", "-c", &cat, "--cols", "200", "--rows", "50"];
            if no_redact {
                args.push("--no-redact");
            }
            let mut cmd = util::fixcast_cmd(fixcast, home.path(), &args);
            cmd.env("SHELL", "/bin/bash").current_dir(tmp.path());
            let t = Instant::now();
            util::run_measured(&mut cmd, RUN_LIMIT, "fixcast rec")?;
            let wall = t.elapsed().as_secs_f64();
            let sessions = util::sessions(fixcast, home.path())?;
            let [s] = sessions.as_slice() else {
                bail!("expected one session, found {}", sessions.len());
            };
            if s["bytes"]["dropped"].as_u64().unwrap_or(0) > 0 {
                bail!("run {i}: output was dropped");
            }
            if i == 0 {
                continue;
            }
            if no_redact {
                off.push(wall);
            } else {
                on.push(wall);
                redacted.push(s["redaction"]["count"].as_u64().unwrap_or(0));
            }
        }
    }
    let (m_on, m_off) = (median_f64(&on), median_f64(&off));
    let rate = |s: f64| size as f64 / s / 1e6;
    println!(
        "redact: on  {} s, median {m_on:.3} s ({:.0} MB/s)",
        list(&on, 3),
        rate(m_on)
    );
    println!(
        "redact: off {} s, median {m_off:.3} s ({:.0} MB/s)",
        list(&off, 3),
        rate(m_off)
    );
    println!(
        "redact: on/off = {:.3} (goal <= 1.10); secrets redacted in the flood: {redacted:?} (false positives)",
        m_on / m_off
    );
    Ok(())
}
