//! An event's time read from its line's interval alone, for lines a reader passes over
//! (the frame's events before the moment it starts at): no JSON parse of the line.

/// The time of the event on `line`, the previous at `prev`, read from its interval alone
/// (`[0.25, "o", …]`), as [`crate::asciicast::parse_v3_line`] reads it; `None` if it does not start so.
pub(crate) fn time_only(line: &[u8], prev: u64) -> Option<u64> {
    let rest = line.strip_prefix(b"[")?;
    let comma = memchr::memchr(b',', rest)?;
    let number = &rest[..comma];
    // A JSON number (what the writer writes) parses to the same nearest f64 in Rust's
    // parser, which is quicker to start; anything else (spaces) goes to JSON's.
    let interval: f64 = if is_json_number(number) {
        std::str::from_utf8(number).ok()?.parse().ok()?
    } else {
        serde_json::from_slice(number).ok()?
    };
    let time = prev.saturating_add(crate::event::micros_from_seconds(interval)?);
    (time <= crate::event::MAX_MICROS).then_some(time)
}

/// Whether `b` is a JSON number: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
fn is_json_number(b: &[u8]) -> bool {
    let digits = |b: &[u8]| b.iter().take_while(|c| c.is_ascii_digit()).count();
    let b = b.strip_prefix(b"-").unwrap_or(b);
    let int = digits(b);
    if int == 0 || (int > 1 && b[0] == b'0') {
        return false;
    }
    let mut b = &b[int..];
    if let Some(frac) = b.strip_prefix(b".") {
        let n = digits(frac);
        if n == 0 {
            return false;
        }
        b = &frac[n..];
    }
    if let Some(exp) = b.strip_prefix(b"e").or_else(|| b.strip_prefix(b"E")) {
        let exp = exp
            .strip_prefix(b"+")
            .or_else(|| exp.strip_prefix(b"-"))
            .unwrap_or(exp);
        let n = digits(exp);
        return n > 0 && n == exp.len();
    }
    b.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_numbers_are_told_from_the_rest() {
        for ok in ["0", "-0", "0.25", "12.5", "1e3", "1E-3", "2.5e+2", "-1.0"] {
            assert!(is_json_number(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "", "-", "01", ".5", "1.", "+1", "1e", "1e+", "inf", "NaN", " 1", "1 ",
        ] {
            assert!(!is_json_number(bad.as_bytes()), "{bad}");
        }
    }

    /// The time read alone is the time the full parse gives, and a line the full parse
    /// rejects gives none.
    #[test]
    fn the_time_alone_is_the_full_parse_s() {
        for (line, prev) in [
            (r#"[0.25, "o", "x"]"#, 0),
            (r#"[1e-6,"o","x"]"#, 7),
            (r#"[3.000001, "i", "y"]"#, 1_000_000),
            (r#"[ 0.5, "o", "x"]"#, 0),
        ] {
            let full = crate::asciicast::parse_v3_line(line, prev)
                .unwrap()
                .unwrap();
            assert_eq!(time_only(line.as_bytes(), prev), Some(full.time), "{line}");
        }
        for line in [
            r#"[.5, "o", "x"]"#,
            r#"[-1, "o", "x"]"#,
            r#"["a", "o", "x"]"#,
            "0.5",
        ] {
            assert!(crate::asciicast::parse_v3_line(line, 0).is_err(), "{line}");
            assert_eq!(time_only(line.as_bytes(), 0), None, "{line}");
        }
    }
}
