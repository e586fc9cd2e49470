//! The size of the screen that derived data (commands, the player's segments, live
//! snapshots) is emulated at with `vt100`: the recorded size, kept within what `vt100`
//! handles safely. Both the recorder and the web server go through this one rule.
//!
//! `vt100` 0.16 panics on a screen smaller than 2×2: with one row, a line that wraps
//! scrolls the cursor's row below zero (`Grid::col_wrap`); with one column, a wide
//! character is placed at `cols - 2`. Driven at every size from 1×1 to 4×4 (and resized
//! within them) with text that wraps, wide and combining characters, scroll regions,
//! insert and delete line, the alternate screen and resizes, it never panicked from 2×2
//! up; `fixcast-recorder`'s `vt100_sizes` test keeps that proven. A terminal that small
//! shows next to nothing anyway: its text is still found, emulated one cell wider.
//!
//! One thing no size avoids: a resize that narrows the screen through a wide character
//! leaves half of it behind, which a later write at that column trips over. That is a
//! `vt100` bug; derivations contain it (see [`crate::contain`]) and skip the session.

/// The smallest side (rows or columns) emulated.
pub const MIN_SIDE: u16 = 2;
/// The largest side emulated: a bogus header or resize cannot ask for gigabytes of cells.
pub const MAX_SIDE: u16 = 1000;

/// The `(cols, rows)` to emulate a terminal of `cols` × `rows` at.
pub fn emulated_size(cols: u16, rows: u16) -> (u16, u16) {
    (
        cols.clamp(MIN_SIDE, MAX_SIDE),
        rows.clamp(MIN_SIDE, MAX_SIDE),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn degenerate_and_absurd_sizes_are_brought_within_bounds() {
        assert_eq!(emulated_size(80, 24), (80, 24));
        assert_eq!(emulated_size(1, 1), (2, 2));
        assert_eq!(emulated_size(10, 1), (10, 2));
        assert_eq!(emulated_size(0, 0), (2, 2));
        assert_eq!(emulated_size(u16::MAX, 3), (1000, 3));
    }
}
