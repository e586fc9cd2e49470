//! The two ways to replay a command from the moment it ran, built here once: the CLI's
//! `fixcast play` line and the web's `/s/…` path. Search hits carry both, and the CLI,
//! the API and the pages all call these, so the two links can never disagree.

/// How long before a command starts its replay opens: the player shows the screen as it
/// is at that time, so opening a hair early puts the command line on it.
const PLAY_LEAD: f64 = 0.05;

/// `t` for a command starting at `start` seconds, a little before it, floored to
/// `decimals` (rounding, `2.0` for 1.978, would open mid-output).
fn lead_time(start: f64, scale: f64) -> f64 {
    let t = if start.is_finite() {
        (start - PLAY_LEAD).max(0.0)
    } else {
        0.0
    };
    (t * scale).floor() / scale
}

/// `fixcast play 01M8BSC2XY --at 7.9`: the command that replays `session` from a
/// little before `offset` (the id cut to 10 characters, which still resolves).
pub fn play_command(session: &str, offset: f64) -> String {
    format!(
        "fixcast play {} --at {:.1}",
        session.get(..10).unwrap_or(session),
        lead_time(offset, 10.0)
    )
}

/// The `t=` of a web link to a command starting at `start` seconds (hundredths).
pub fn play_time(start: f64) -> String {
    format!("{:.2}", lead_time(start, 100.0))
}

/// `/s/ID?t=7.95&hit=3`: the web path that replays command `seq` of `session`, starting
/// at `start` seconds.
pub fn play_url(session: &str, start: f64, seq: u32) -> String {
    format!("/s/{session}?t={}&hit={seq}", play_time(start))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_open_a_little_before_the_command_floored() {
        assert_eq!(
            play_command("01J0ABCDEFGHJK", 8.0),
            "fixcast play 01J0ABCDEF --at 7.9"
        );
        assert_eq!(play_time(2.028), "1.97");
        assert_eq!(play_time(0.01), "0.00");
        assert_eq!(play_time(f64::NAN), "0.00");
        assert_eq!(play_url("01J0", 8.0, 3), "/s/01J0?t=7.95&hit=3");
    }
}
