//! Whether a check's sample settles it: a 95% interval that crosses the rule's bound is compatible
//! with a pass and with a fail, and how many more inputs would tell them apart.

use super::round2;

/// The bound the 95% interval reaches across (the one nearer the estimate when it spans both): the
/// sample is compatible with the value on either side of it, so the check's status is not settled.
pub(super) fn crossed_bound(value: f64, interval: Option<[f64; 2]>, min: Option<f64>, max: Option<f64>) -> Option<f64> {
    let [low, high] = interval?;
    [min, max]
        .into_iter()
        .flatten()
        .filter(|&b| low < b && b < high)
        .min_by(|a, b| (a - value).abs().total_cmp(&(b - value).abs()))
}

/// How many times the run's inputs would settle a check whose interval crosses `bound`, if the
/// estimate held: a 95% interval narrows as 1/sqrt(n) (Wilson and the bootstrap alike, for large n),
/// so its half-width `h` towards the bound shrinks to the estimate's distance `m` from it at
/// (h/m)^2 times the inputs. None when the estimate sits on the bound (no n settles it).
fn settle_factor(value: f64, interval: [f64; 2], bound: f64) -> Option<f64> {
    let [low, high] = interval;
    let half = if bound > value { high - value } else { value - low };
    let distance = (bound - value).abs();
    (distance > 1e-9 * half.abs().max(1.0)).then(|| (half / distance).powi(2))
}

/// "unsettled: ..." for a check whose interval crosses `bound`.
pub(super) fn unsettled_note(value: f64, interval: Option<[f64; 2]>, bound: f64, n: Option<usize>) -> String {
    let at = n.map(|n| format!(" at n {n}")).unwrap_or_default();
    let settle = interval.and_then(|i| settle_factor(value, i, bound));
    match settle {
        None => format!(
            "unsettled{at}: its interval crosses {} and the estimate sits on it, so no number of inputs settles it",
            round2(bound)
        ),
        Some(f) if f > 100.0 => format!(
            "unsettled{at}: its interval crosses {}; more than 100x the inputs would settle it if the estimate held",
            round2(bound)
        ),
        Some(f) => format!(
            "unsettled{at}: its interval crosses {}; about {}x the inputs would settle it if the estimate held",
            round2(bound),
            if f < 10.0 { format!("{f:.1}") } else { format!("{f:.0}") }
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interval_crosses_the_bound_nearer_the_estimate() {
        assert_eq!(crossed_bound(8.1, Some([5.48, 10.83]), None, Some(10.0)), Some(10.0));
        // Reaching the bound is not crossing it: a pass on [5.5, 10] is settled.
        assert_eq!(crossed_bound(8.0, Some([5.5, 10.0]), None, Some(10.0)), None);
        assert_eq!(crossed_bound(8.0, None, None, Some(10.0)), None);
        // Wider than the bounds: the nearer one is named.
        assert_eq!(crossed_bound(4.0, Some([-5.0, 15.0]), Some(0.0), Some(5.0)), Some(5.0));
    }

    #[test]
    fn the_factor_is_the_squared_ratio_of_half_width_to_distance() {
        // 8.1 with the interval's upper half 2.73 and 1.9 to the bound: (2.73 / 1.9)^2.
        let f = settle_factor(8.1, [5.48, 10.83], 10.0).unwrap();
        assert!((f - (2.73f64 / 1.9).powi(2)).abs() < 1e-9, "{f}");
        // A failing estimate 7.5 past the bound with 15 points of interval towards it: 4x.
        assert!((settle_factor(17.5, [2.5, 30.0], 10.0).unwrap() - 4.0).abs() < 1e-9);
        assert_eq!(settle_factor(10.0, [5.0, 15.0], 10.0), None);
    }

    #[test]
    fn the_note_says_what_would_settle_it() {
        let note = unsettled_note(17.5, Some([2.5, 30.0]), 10.0, Some(40));
        assert_eq!(
            note,
            "unsettled at n 40: its interval crosses 10; about 4.0x the inputs would settle it if the estimate held"
        );
        assert!(unsettled_note(12.5, Some([0.0, 25.0]), 10.0, Some(40)).contains("about 25x"));
        assert!(unsettled_note(10.2, Some([0.0, 25.0]), 10.0, None).contains("more than 100x"));
        assert!(unsettled_note(10.0, Some([0.0, 25.0]), 10.0, None).contains("no number of inputs settles it"));
    }
}
