//! "Nice" tick positions and their labels: 1-2-5 steps on linear axes, decades on log10 axes.
//!
//! Labels use the text markup of [`crate::text`] (`10^{9}` draws a raised exponent). Linear labels share one number
//! of decimals (`0.0, 0.2, 0.4`); values from 10^6 up or below 10^-4 switch to `2.5×10^{7}` form.
//!
//! ```
//! use galmass_plot::ticks::{linear_ticks, log10_ticks};
//! let values: Vec<f64> = linear_ticks(0.0, 0.93, 6).iter().map(|t| t.value).collect();
//! assert_eq!(values, [0.0, 0.2, 0.4, 0.6, 0.8]);
//! let decades: Vec<f64> = log10_ticks(3e8, 2e12, 6).iter().filter(|t| t.label.is_some()).map(|t| t.value).collect();
//! assert_eq!(decades, [1e9, 1e10, 1e11, 1e12]);
//! ```

/// The tick count plots aim at when the axis is long enough.
pub const DEFAULT_MAX_TICKS: usize = 6;

/// One tick: labelled (major) or not (minor).
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    /// Position in data units.
    pub value: f64,
    /// The label in text markup; `None` for a minor tick.
    pub label: Option<String>,
}

/// Ticks at multiples of the finest 1-2-5 step (1, 2 or 5 times a power of ten) that puts at most `max_ticks`
/// (at least 2) ticks in `[min, max]`. Empty for a non-finite or empty range.
pub fn linear_ticks(min: f64, max: f64, max_ticks: usize) -> Vec<Tick> {
    if !(min.is_finite() && max.is_finite() && min < max && (max - min).is_finite()) {
        return Vec::new();
    }
    let max_ticks = max_ticks.max(2) as i64;
    let span = max - min;
    let mut exponent = ((span / max_ticks as f64).log10().floor() as i32).saturating_sub(1);
    loop {
        for mantissa in [1i64, 2, 5] {
            let step = mantissa as f64 * pow10(exponent);
            let (k_lo, k_hi) = ((min / step - 1e-9).ceil(), (max / step + 1e-9).floor());
            if k_lo.abs().max(k_hi.abs()) > 1e15 {
                // The range is too narrow for its magnitude to step through exactly: label its two ends.
                return [min, max].iter().map(|&v| Tick { value: v, label: Some(format!("{v}")) }).collect();
            }
            if (k_hi - k_lo + 1.0) as i64 <= max_ticks {
                let multiples: Vec<i64> = ((k_lo as i64)..=(k_hi as i64)).map(|k| k * mantissa).collect();
                return label_multiples(&multiples, exponent);
            }
        }
        exponent += 1;
    }
}

/// Ticks of a log10 axis over `[min, max]` (both positive), at most `max_labels` (at least 2) of them labelled:
/// - two or more decades inside: labels at decades (every n-th when they are too many), minor ticks at 2..9 times
///   each decade (or at the unlabelled decades);
/// - less: labels at 1, 2 and 5 times powers of ten, minor ticks at the other integers times them;
/// - a range inside one such step: linear ticks.
///
/// Empty for a non-positive, non-finite or empty range.
pub fn log10_ticks(min: f64, max: f64, max_labels: usize) -> Vec<Tick> {
    if !(min.is_finite() && max.is_finite() && min > 0.0 && min < max) {
        return Vec::new();
    }
    let max_labels = max_labels.max(2);
    let (lo, hi) = (min.log10(), max.log10());
    let first = (lo - 1e-10).ceil() as i32;
    let last = (hi + 1e-10).floor() as i32;
    let inside = |v: f64| v >= min * (1.0 - 1e-12) && v <= max * (1.0 + 1e-12);
    let n_decades = i64::from(last) - i64::from(first) + 1;
    if n_decades >= 2 {
        let stride = ((n_decades as usize).div_ceil(max_labels)).max(1) as i32;
        let multiples = (first..=last).filter(|e| e.rem_euclid(stride) == 0).count();
        let labelled = |e: i32| if multiples >= 2 { e.rem_euclid(stride) == 0 } else { (e - first) % stride == 0 };
        let mut ticks = Vec::new();
        for e in (first - 1)..=last {
            let decade = scaled_power(1, e);
            if inside(decade) {
                ticks.push(Tick { value: decade, label: labelled(e).then(|| power_label(1, e)) });
            }
            if stride == 1 {
                for j in 2..=9 {
                    let v = scaled_power(j, e);
                    if inside(v) {
                        ticks.push(Tick { value: v, label: None });
                    }
                }
            }
        }
        return ticks;
    }
    // Less than two decades: 1-2-5 (or 1-5, or 1) times powers of ten.
    let candidates: Vec<(i64, i32)> = ((first - 1)..=last)
        .flat_map(|e| (1..=9).map(move |j| (j, e)))
        .filter(|&(j, e)| inside(scaled_power(j, e)))
        .collect();
    for labelled_mantissas in [&[1i64, 2, 5][..], &[1, 5], &[1]] {
        let n_labels = candidates.iter().filter(|(j, _)| labelled_mantissas.contains(j)).count();
        if n_labels >= 2 && n_labels <= max_labels {
            let labelled: Vec<(i64, i32)> =
                candidates.iter().copied().filter(|(j, _)| labelled_mantissas.contains(j)).collect();
            let plain = labelled.iter().all(|&(j, e)| (-3..=3).contains(&e) && !(e == 3 && j > 1));
            return candidates
                .iter()
                .map(|&(j, e)| {
                    let label =
                        labelled_mantissas.contains(&j).then(|| if plain { decimal(j, e) } else { power_label(j, e) });
                    Tick { value: scaled_power(j, e), label }
                })
                .collect();
        }
    }
    linear_ticks(min, max, max_labels)
}

/// `10^exponent` as an exact decimal step (correctly rounded).
fn pow10(exponent: i32) -> f64 {
    scaled_power(1, exponent)
}

/// `mantissa × 10^exponent`, correctly rounded (parsed from its decimal form).
fn scaled_power(mantissa: i64, exponent: i32) -> f64 {
    format!("{mantissa}e{exponent}").parse().unwrap_or(f64::NAN)
}

/// Labels for `n × 10^exponent`, `n` in `multiples`, in one shared style.
fn label_multiples(multiples: &[i64], exponent: i32) -> Vec<Tick> {
    let largest = multiples.iter().map(|n| scaled_power(n.abs(), exponent)).fold(0.0, f64::max);
    let scientific = largest >= 1e6 || (largest > 0.0 && largest < 1e-4);
    multiples
        .iter()
        .map(|&n| {
            let label = if scientific { scientific_label(n, exponent) } else { decimal(n, exponent) };
            Tick { value: scaled_power(n, exponent), label: Some(label) }
        })
        .collect()
}

/// `n × 10^exponent` written out in decimals, with `max(0, -exponent)` digits after the point.
fn decimal(n: i64, exponent: i32) -> String {
    let sign = if n < 0 { "-" } else { "" };
    let digits = n.unsigned_abs().to_string();
    if exponent >= 0 {
        let zeros = if n == 0 { String::new() } else { "0".repeat(exponent as usize) };
        return format!("{sign}{digits}{zeros}");
    }
    let places = exponent.unsigned_abs() as usize;
    let padded = format!("{digits:0>width$}", width = places + 1);
    let (whole, fraction) = padded.split_at(padded.len() - places);
    format!("{sign}{whole}.{fraction}")
}

/// `n × 10^exponent` as `m×10^{e}` with one leading digit (`10^{e}` when the mantissa is 1); `0` for zero.
fn scientific_label(n: i64, exponent: i32) -> String {
    if n == 0 {
        return "0".into();
    }
    let sign = if n < 0 { "-" } else { "" };
    let digits = n.unsigned_abs().to_string();
    let e = exponent + digits.len() as i32 - 1;
    let rest = digits[1..].trim_end_matches('0');
    let mantissa = if rest.is_empty() { digits[..1].to_string() } else { format!("{}.{rest}", &digits[..1]) };
    if mantissa == "1" {
        format!("{sign}10^{{{e}}}")
    } else {
        format!("{sign}{mantissa}×10^{{{e}}}")
    }
}

/// `mantissa × 10^exponent` on a log axis: `10^{e}` or `2×10^{e}`.
fn power_label(mantissa: i64, exponent: i32) -> String {
    if mantissa == 1 {
        format!("10^{{{exponent}}}")
    } else {
        format!("{mantissa}×10^{{{exponent}}}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(ticks: &[Tick]) -> Vec<f64> {
        ticks.iter().map(|t| t.value).collect()
    }

    fn labels(ticks: &[Tick]) -> Vec<&str> {
        ticks.iter().filter_map(|t| t.label.as_deref()).collect()
    }

    #[test]
    fn linear_ticks_step_by_one_two_or_five() {
        let t = linear_ticks(0.0, 0.93, 6);
        assert_eq!(values(&t), [0.0, 0.2, 0.4, 0.6, 0.8]);
        assert_eq!(labels(&t), ["0.0", "0.2", "0.4", "0.6", "0.8"]);
        assert_eq!(values(&linear_ticks(-0.0465, 0.9765, 6)), [0.0, 0.2, 0.4, 0.6, 0.8]);
        assert_eq!(labels(&linear_ticks(-3.0, 7.0, 6)), ["-2", "0", "2", "4", "6"]);
        assert_eq!(
            labels(&linear_ticks(0.0, 1.0, 12)),
            ["0.0", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1.0"]
        );
        assert_eq!(labels(&linear_ticks(100.0, 400.0, 4)), ["100", "200", "300", "400"]);
        assert_eq!(labels(&linear_ticks(0.0, 0.0012, 3)), ["0.0000", "0.0005", "0.0010"]);
    }

    #[test]
    fn large_and_small_linear_values_use_powers_of_ten() {
        assert_eq!(labels(&linear_ticks(0.0, 2.6e10, 3)), ["0", "10^{10}", "2×10^{10}"]);
        assert_eq!(labels(&linear_ticks(0.0, 3e-5, 4)), ["0", "10^{-5}", "2×10^{-5}", "3×10^{-5}"]);
        assert_eq!(scientific_label(-25, 6), "-2.5×10^{7}");
    }

    #[test]
    fn empty_and_degenerate_ranges_give_no_ticks() {
        assert!(linear_ticks(1.0, 1.0, 6).is_empty());
        assert!(linear_ticks(f64::NAN, 1.0, 6).is_empty());
        assert!(linear_ticks(-f64::MAX, f64::MAX, 6).is_empty());
        assert!(log10_ticks(0.0, 1.0, 6).is_empty());
        assert_eq!(linear_ticks(1e17, 1e17 + 64.0, 6).len(), 2);
    }

    #[test]
    fn log_ticks_label_decades_with_minor_ticks_between() {
        let t = log10_ticks(3e8, 2e12, 6);
        let major: Vec<f64> = t.iter().filter(|t| t.label.is_some()).map(|t| t.value).collect();
        assert_eq!(major, [1e9, 1e10, 1e11, 1e12]);
        assert_eq!(labels(&t), ["10^{9}", "10^{10}", "10^{11}", "10^{12}"]);
        assert!(t.iter().any(|t| t.value == 4e8 && t.label.is_none()));
        assert!(t.iter().all(|t| t.value >= 3e8 && t.value <= 2e12));
        let wide = log10_ticks(1e-3, 1e9, 5);
        assert_eq!(labels(&wide), ["10^{-3}", "10^{0}", "10^{3}", "10^{6}", "10^{9}"]);
        assert_eq!(wide.len(), 13);
    }

    #[test]
    fn narrow_log_ranges_use_one_two_five_then_linear() {
        assert_eq!(labels(&log10_ticks(3.0, 60.0, 6)), ["5", "10", "20", "50"]);
        assert_eq!(labels(&log10_ticks(3e8, 6e9, 6)), ["5×10^{8}", "10^{9}", "2×10^{9}", "5×10^{9}"]);
        assert_eq!(values(&log10_ticks(3.0, 4.5, 6)), [3.0, 3.5, 4.0, 4.5]);
    }
}
