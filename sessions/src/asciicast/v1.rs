//! asciicast v1: one JSON document with a `stdout` array of `[delay, data]`.

use super::{dimension, env_map, json_str, FormatError, Header, Recording};
use crate::event::{micros_from_seconds, Event, EventKind, MAX_MICROS};

pub(super) fn parse(text: &str) -> Result<Recording, FormatError> {
    let doc: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| FormatError::new(e.line(), format!("invalid JSON: {e}")))?;
    let env = env_map(doc.get("env"));
    let header = Header {
        cols: dimension(doc.get("width"), "width")?,
        rows: dimension(doc.get("height"), "height")?,
        term_type: env.get("TERM").cloned(),
        timestamp: None,
        idle_time_limit: None,
        command: doc.get("command").and_then(json_str),
        title: doc.get("title").and_then(json_str),
        env,
        tags: Vec::new(),
    };
    let frames = doc
        .get("stdout")
        .and_then(|s| s.as_array())
        .ok_or_else(|| FormatError::new(1, "v1: missing \"stdout\" array"))?;
    let mut time = 0u64;
    let mut events = Vec::with_capacity(frames.len());
    for (i, frame) in frames.iter().enumerate() {
        let bad = || FormatError::new(1, format!("v1: stdout[{i}] is not [delay, \"data\"]"));
        let pair = frame.as_array().filter(|a| a.len() == 2).ok_or_else(bad)?;
        let delay = pair[0]
            .as_f64()
            .and_then(micros_from_seconds)
            .ok_or_else(bad)?;
        let data = pair[1].as_str().ok_or_else(bad)?;
        time = time.saturating_add(delay);
        if time > MAX_MICROS {
            return Err(FormatError::new(
                1,
                format!("v1: stdout[{i}] is out of range (more than 10^12 seconds in)"),
            ));
        }
        events.push(Event::new(time, EventKind::Output(data.to_owned())));
    }
    Ok(Recording {
        header,
        events,
        damage: Vec::new(),
    })
}
