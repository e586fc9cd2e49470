//! The one event type of a recording.

use std::fmt;

/// One thing that happened in a recording, `time` microseconds after it started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Microseconds since the start of the recording.
    pub time: u64,
    pub kind: EventKind,
}

/// What happened. These are the asciicast event codes fixcast reads and writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// `o`: bytes the terminal printed.
    Output(String),
    /// `i`: bytes the user typed (only with `--record-input`).
    Input(String),
    /// `r`: the terminal was resized.
    Resize { cols: u16, rows: u16 },
    /// `m`: a marker (a chapter in players).
    Marker(String),
    /// `x`: the recorded process exited with this status.
    Exit(i32),
}

impl Event {
    pub fn new(time: u64, kind: EventKind) -> Self {
        Event { time, kind }
    }

    /// The event's time in seconds.
    pub fn seconds(&self) -> f64 {
        self.time as f64 / 1_000_000.0
    }
}

impl EventKind {
    /// The asciicast event code.
    pub fn code(&self) -> &'static str {
        match self {
            EventKind::Output(_) => "o",
            EventKind::Input(_) => "i",
            EventKind::Resize { .. } => "r",
            EventKind::Marker(_) => "m",
            EventKind::Exit(_) => "x",
        }
    }

    /// The event's data as asciicast writes it (`"80x24"` for a resize).
    pub fn data(&self) -> std::borrow::Cow<'_, str> {
        match self {
            EventKind::Output(s) | EventKind::Input(s) | EventKind::Marker(s) => s.into(),
            EventKind::Resize { cols, rows } => format!("{cols}x{rows}").into(),
            EventKind::Exit(status) => status.to_string().into(),
        }
    }

    /// Builds an event from an asciicast code and its data; `None` for codes fixcast
    /// does not know (readers skip those, as asciinema does).
    pub fn from_code(code: &str, data: String) -> Result<Option<Self>, String> {
        Ok(Some(match code {
            "o" => EventKind::Output(data),
            "i" => EventKind::Input(data),
            "m" => EventKind::Marker(data),
            "r" => {
                let (cols, rows) = parse_size(&data)
                    .ok_or_else(|| format!("resize event data {data:?} is not COLSxROWS"))?;
                EventKind::Resize { cols, rows }
            }
            "x" => EventKind::Exit(
                data.trim()
                    .parse()
                    .map_err(|_| format!("exit event data {data:?} is not a number"))?,
            ),
            _ => return Ok(None),
        }))
    }
}

/// Parses `"80x24"`.
pub fn parse_size(s: &str) -> Option<(u16, u16)> {
    let (c, r) = s.trim().split_once('x')?;
    let (cols, rows) = (c.parse().ok()?, r.parse().ok()?);
    (cols > 0 && rows > 0).then_some((cols, rows))
}

/// Formats microseconds as asciicast seconds with microsecond precision (`1.250000`).
pub struct Seconds(pub u64);

impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:06}", self.0 / 1_000_000, self.0 % 1_000_000)
    }
}

/// The latest time an event may have: 10^12 s (30,000 years) is no recording, and keeps
/// every sum of times far from overflowing.
pub const MAX_MICROS: u64 = 1_000_000_000_000_000_000;

/// Parses asciicast seconds (a JSON number) into microseconds; negative, non-finite and
/// huge values are refused.
pub fn micros_from_seconds(s: f64) -> Option<u64> {
    (s.is_finite() && (0.0..1e12).contains(&s)).then(|| (s * 1_000_000.0).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_format_keeps_microseconds() {
        assert_eq!(Seconds(1_250_000).to_string(), "1.250000");
        assert_eq!(Seconds(7).to_string(), "0.000007");
    }

    #[test]
    fn sizes_parse_and_refuse_zero() {
        assert_eq!(parse_size("80x24"), Some((80, 24)));
        assert_eq!(parse_size("0x24"), None);
        assert_eq!(parse_size("80"), None);
    }

    #[test]
    fn unknown_codes_are_skipped_and_bad_data_refused() {
        assert_eq!(EventKind::from_code("z", "x".into()), Ok(None));
        assert!(EventKind::from_code("r", "wide".into()).is_err());
        assert_eq!(
            EventKind::from_code("x", "3".into()),
            Ok(Some(EventKind::Exit(3)))
        );
    }
}
