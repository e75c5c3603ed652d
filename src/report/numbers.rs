//! Figures as people read them, the same in the terminal, `summary.md` and the HTML report: a
//! change always with its sign and never "-0.0", and retrieval's [0, 1] metrics in percent like every
//! other accuracy figure (gate rules are written in percent).

/// `x` with its sign and `decimals` decimals; a value that rounds to zero reads "+0.0", not "-0.0".
pub fn signed(x: f64, decimals: usize) -> String {
    let s = format!("{x:+.decimals$}");
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        format!("+{}", &s[1..])
    } else {
        s
    }
}

/// A fraction in [0, 1] as percent with one decimal ("84.4"); never "-0.0".
pub fn percent(fraction: f64) -> String {
    let s = format!("{:.1}", fraction * 100.0);
    if s == "-0.0" {
        "0.0".into()
    } else {
        s
    }
}

/// A change of a fraction in points, with its sign ("-3.9").
pub fn signed_points(fraction: f64) -> String {
    signed(fraction * 100.0, 1)
}

/// Which side a retrieval run corrupts, as a sentence ends: "the queries", "the corpus", or both.
pub fn corrupted_side(side: &str) -> String {
    match side {
        "both" => "the queries and the corpus".into(),
        other => format!("the {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_negative_zero_and_percent_of_fractions() {
        assert_eq!(signed(-1e-9, 1), "+0.0");
        assert_eq!(signed(-0.0, 3), "+0.000");
        assert_eq!(signed(-0.04, 1), "+0.0");
        assert_eq!(signed(-0.06, 1), "-0.1");
        assert_eq!(signed(2.25, 1), "+2.2");
        assert_eq!(percent(0.8444), "84.4");
        assert_eq!(percent(-0.0), "0.0");
        assert_eq!(signed_points(-0.039), "-3.9");
        assert_eq!(signed_points(0.25), "+25.0");
    }
}
