//! The output text of a page of hits, rendered again from their recordings: the index
//! keeps no copy of most output (see `fixcast_recorder::outputs_again`), and tells where
//! in the recording each starts (`fixcast_sessions::Again`).

use std::collections::HashMap;

use anyhow::Context;
use fixcast_recorder::outputs_again;
use fixcast_sessions::{contain, Again, CastReader, Plan, SessionId, Status, Store};

use super::commands::{live_commands, unreadable, Output};
use super::live_cut::LiveCuts;

/// The output of commands `wanted` of session `id`, by seq, as cutting gave it: from the
/// live cut of a session being recorded, else rendered again from the recording by one
/// reader that starts at the frame of the earliest (frames before it are not
/// decompressed, the session's commands are not read).
pub fn outputs_of(
    store: &Store,
    live: &LiveCuts,
    id: &SessionId,
    wanted: &[Again],
) -> anyhow::Result<HashMap<u32, String>> {
    let meta = store.load(id)?.meta;
    if meta.status == Status::Recording {
        let cmds = live_commands(store, live, &meta, None, Output::Keep)?;
        return Ok(cmds
            .into_iter()
            .filter(|c| wanted.iter().any(|w| w.record.seq == c.seq))
            .map(|c| (c.seq, c.output))
            .collect());
    }
    let Some(plan) = Plan::of(wanted.to_vec()) else {
        return Ok(HashMap::new());
    };
    let wanted = plan.wanted;
    let cast = store.cast_path(id);
    let mut reader = CastReader::open_between(&cast, plan.from, plan.until)?;
    let size = match reader.header()? {
        Some(h) => (h.cols, h.rows),
        None => (meta.term.cols, meta.term.rows),
    };
    let events = std::iter::from_fn(|| reader.next_event().ok().flatten());
    let texts = contain(|| outputs_again(size, meta.command.as_deref(), events, &wanted))
        .map_err(|panic| unreadable(id, "cut", panic.to_string()))
        .with_context(|| format!("cannot render the output of {}", cast.display()))?;
    let mut missing: Vec<u32> = wanted
        .iter()
        .zip(&texts)
        .filter(|(_, t)| t.is_none())
        .map(|(w, _)| w.record.seq)
        .collect();
    missing.sort_unstable();
    let missing: Vec<String> = missing.iter().map(u32::to_string).collect();
    if !missing.is_empty() {
        let why = reader
            .damage()
            .into_iter()
            .next()
            .unwrap_or_else(|| "it ends before them".into());
        super::warn_once(format_args!(
            "session {id}: no snippets for command {}: its recording: {why}",
            missing.join(", ")
        ));
    }
    Ok(wanted
        .iter()
        .zip(texts)
        .filter_map(|(w, text)| Some((w.record.seq, text?)))
        .collect())
}
