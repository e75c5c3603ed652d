//! Whether a check's sample settles it: a 95% interval that crosses the rule's bound is compatible
//! with a pass and with a fail.

use super::round2;

/// The bound the 95% interval reaches across (the one nearer the estimate when it spans both): the
/// sample is compatible with a passing and a failing value, so the check's status is not settled. A
/// value on a bound passes (`max = 10` passes 10), so an interval that ends on `max` holds no failing
/// value and one that starts on it holds a passing one: an invalid rate of 0 [0, 16] against `max = 0`
/// is unsettled (it was called settled), 8 [5.5, 10] against `max = 10` settled.
pub(super) fn crossed_bound(value: f64, interval: Option<[f64; 2]>, min: Option<f64>, max: Option<f64>) -> Option<f64> {
    let [low, high] = interval?;
    let below = min.filter(|&b| low < b && b <= high);
    let above = max.filter(|&b| low <= b && b < high);
    [below, above]
        .into_iter()
        .flatten()
        .min_by(|a, b| (a - value).abs().total_cmp(&(b - value).abs()))
}

/// "unsettled at n 840: its interval crosses 10" for a check whose interval crosses `bound`. No
/// sample size is promised: the (half-width / distance)^2 that would settle it at the estimate swung from
/// 1.2x to 49x between nested samples of the default suite (its first 40 to 840 commands), since the
/// distance it divides by is itself the noisy quantity.
pub(super) fn unsettled_note(value: f64, bound: f64, n: Option<usize>) -> String {
    let at = n.map(|n| format!(" at n {n}")).unwrap_or_default();
    let on = if (value - bound).abs() < 1e-9 {
        " and the estimate sits on it"
    } else {
        ""
    };
    format!("unsettled{at}: its interval crosses {}{on}", round2(bound))
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
        // An estimate on its bound with the interval reaching past it: compatible with a fail.
        assert_eq!(crossed_bound(0.0, Some([0.0, 16.1]), None, Some(0.0)), Some(0.0));
        assert_eq!(
            crossed_bound(100.0, Some([83.9, 100.0]), Some(100.0), None),
            Some(100.0)
        );
        // An interval that starts on `min` holds no failing value.
        assert_eq!(crossed_bound(95.0, Some([90.0, 99.0]), Some(90.0), None), None);
    }

    #[test]
    fn the_note_names_the_sample_and_the_bound() {
        assert_eq!(
            unsettled_note(17.5, 10.0, Some(40)),
            "unsettled at n 40: its interval crosses 10"
        );
        assert_eq!(
            unsettled_note(10.0, 10.0, None),
            "unsettled: its interval crosses 10 and the estimate sits on it"
        );
    }
}
