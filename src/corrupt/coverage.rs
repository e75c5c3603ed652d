//! How much of a suite a family's noise reaches: the share of test texts it changed at all. A family that
//! leaves most texts untouched (a jargon lexicon with none of the suite's terms) shows "100.0 (-0.0)", which
//! reads as robustness but measures nothing; runs and `corruptions` flag it instead.

/// Coverage below this share (at `COVERAGE_SEVERITY`) is low.
pub const LOW_COVERAGE: f64 = 0.5;

/// The severity coverage is judged at: the middle of the scale.
pub const COVERAGE_SEVERITY: u8 = 3;

/// The warning for a family that changed only `changed` (a share, 0..1) of the texts at `severity`, or None
/// when the coverage is not low.
pub fn warning(family: &str, severity: &str, changed: f64, texts: usize) -> Option<String> {
    (changed < LOW_COVERAGE && texts > 0).then(|| {
        format!(
            "{family} changed only {:.0}% of the {texts} test texts at severity {severity}: its figures say little \
             about robustness to it",
            100.0 * changed
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warns_below_half() {
        assert!(warning("jargon", "3", 0.03, 30)
            .unwrap()
            .contains("only 3% of the 30 test texts"));
        assert!(warning("typo", "3", 0.9, 30).is_none());
        assert!(warning("typo", "3", 0.0, 0).is_none());
    }
}
