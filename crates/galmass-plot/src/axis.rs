//! Axes: [`Scale`] (linear or log10), the ticks of a range (plotters' key points: 1-2-5 steps on linear axes,
//! decades on log10 axes, with 2..9 minor ticks between decades) and their labels (`10⁹` for decades, `2×10⁵`
//! for large linear values, a true minus sign).
//!
//! [`AxisCoord`] is the plotters coordinate of one axis: it maps values as plotters' `RangedCoordf64` or
//! `LogCoord` do and hands plotters' mesh the ticks chosen here, so the grid, the tick marks and the labels agree.
//!
//! ```
//! use galmass_plot::axis::{ticks, Scale};
//! let (major, minor) = ticks(Scale::Log10, 3e8, 2e12, 6);
//! let labels: Vec<&str> = major.iter().filter_map(|t| t.label.as_deref()).collect();
//! assert_eq!(labels, ["10⁹", "10¹⁰", "10¹¹", "10¹²"]);
//! assert!(minor.contains(&5e9));
//! let (major, _) = ticks(Scale::Linear, 0.0, 0.93, 6);
//! let labels: Vec<&str> = major.iter().filter_map(|t| t.label.as_deref()).collect();
//! assert_eq!(labels, ["0.0", "0.2", "0.4", "0.6", "0.8"]);
//! ```

use std::ops::Range;

use plotters::coord::combinators::{IntoLogRange, LogCoord};
use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;

/// How an axis maps data to position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Scale {
    /// Linear.
    #[default]
    Linear,
    /// Logarithmic (base 10): only positive values can be drawn.
    Log10,
}

impl Scale {
    /// Whether `v` can be drawn on this scale: finite, and positive for log10.
    pub fn usable(self, v: f64) -> bool {
        v.is_finite() && (self == Scale::Linear || v > 0.0)
    }

    /// `v` in the scale's linear space (log10 for log axes).
    pub(crate) fn forward(self, v: f64) -> f64 {
        match self {
            Scale::Linear => v,
            Scale::Log10 => v.log10(),
        }
    }

    /// The inverse of [`Scale::forward`].
    pub(crate) fn inverse(self, t: f64) -> f64 {
        match self {
            Scale::Linear => t,
            Scale::Log10 => 10f64.powf(t),
        }
    }

    /// Position of `v` along `[min, max]` as a fraction (0 at min, 1 at max).
    pub(crate) fn fraction(self, min: f64, max: f64, v: f64) -> f64 {
        let (a, b, t) = (self.forward(min), self.forward(max), self.forward(v));
        (t - a) / (b - a)
    }
}

/// A labelled tick.
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    /// Where it sits, in data units.
    pub value: f64,
    /// Its label (always present on major ticks).
    pub label: Option<String>,
}

/// The smallest span of a linear range relative to its ends' magnitude that gets ticks (and that
/// [`crate::Plot`] accepts).
pub const MIN_RELATIVE_SPAN: f64 = 1e-12;

/// Most labelled ticks on one axis.
pub const MAX_TICKS: usize = 12;

/// The major ticks (labelled) and minor tick values of `[min, max]` on `scale`, with at most `max_ticks` labels
/// (clamped to 2..=[`MAX_TICKS`]). `min < max`, both finite (and positive on log10); otherwise no ticks.
pub fn ticks(scale: Scale, min: f64, max: f64, max_ticks: usize) -> (Vec<Tick>, Vec<f64>) {
    if !(min.is_finite() && max.is_finite() && min < max && scale.usable(min)) {
        return (Vec::new(), Vec::new());
    }
    let n = max_ticks.clamp(2, MAX_TICKS);
    match scale {
        Scale::Linear => {
            let values = linear_key_points(min, max, n);
            let labels = linear_labels(&values);
            (values.into_iter().zip(labels).map(|(value, l)| Tick { value, label: Some(l) }).collect(), Vec::new())
        }
        Scale::Log10 => log_ticks(min, max, n),
    }
}

/// plotters' 1-2-5 key points of `[min, max]`, computed on the range scaled to a span of order one (plotters' own
/// loop compares against `f64::EPSILON` in data units, which tiny spans would defeat).
fn linear_key_points(min: f64, max: f64, n: usize) -> Vec<f64> {
    let span = max - min;
    if !(span.is_finite() && span > MIN_RELATIVE_SPAN * min.abs().max(max.abs())) {
        return Vec::new();
    }
    let unit = 10f64.powf(span.log10().floor());
    let (a, b) = (min / unit, max / unit);
    if !(a.is_finite() && b.is_finite() && a < b) {
        return Vec::new();
    }
    let tolerance = 1e-9 * (b - a);
    RangedCoordf64::from(a..b)
        .key_points(n)
        .into_iter()
        .filter(|v| *v >= a - tolerance && *v <= b + tolerance)
        .map(|v| snap(v * unit, unit))
        .filter(|v| v.is_finite())
        .collect()
}

/// `v` rounded to a multiple of `unit / 1000` (removes the 0.30000000000000004 of repeated additions).
fn snap(v: f64, unit: f64) -> f64 {
    let grain = unit / 1000.0;
    let snapped = (v / grain).round() * grain;
    if snapped.is_finite() {
        snapped
    } else {
        v
    }
}

/// Decades from plotters' `LogCoord` (every decade, or every 2nd, 3rd.. when they do not fit), with minor ticks at
/// 2..9 between consecutive decades; ranges spanning fewer than two decades get 1-2-5 (then 1..9) multiples.
fn log_ticks(min: f64, max: f64, n: usize) -> (Vec<Tick>, Vec<f64>) {
    let (lo, hi) = (min.log10(), max.log10());
    let inside = |v: f64| v >= min * (1.0 - 1e-9) && v <= max * (1.0 + 1e-9);
    let decades: Vec<i32> = if (max / min).is_finite() {
        let coord: LogCoord<f64> = (min..max).log_scale().into();
        coord
            .key_points(n)
            .into_iter()
            .filter(|v| v.is_finite() && *v > 0.0 && inside(*v))
            .map(|v| v.log10().round() as i32)
            .collect()
    } else {
        // plotters counts decades through max / min, which overflows here: every k-th decade, k chosen alike.
        let (first, last) = (lo.ceil() as i32, hi.floor() as i32);
        let every = ((last - first) as usize / n + 1) as i32;
        (first..=last).filter(|e| e.rem_euclid(every) == 0).collect()
    };
    if decades.len() >= 2 {
        let major: Vec<Tick> =
            decades.iter().map(|&e| Tick { value: 10f64.powi(e), label: Some(decade_label(e)) }).collect();
        let consecutive = decades.windows(2).all(|w| w[1] - w[0] == 1);
        let mut minor = Vec::new();
        if consecutive {
            let (first, last) = (lo.floor() as i32, hi.ceil() as i32);
            for e in first..=last {
                for k in 2..=9 {
                    let v = f64::from(k) * 10f64.powi(e);
                    if inside(v) {
                        minor.push(v);
                    }
                }
            }
        } else {
            let skipped = (lo.floor() as i32..=hi.ceil() as i32).filter(|e| !decades.contains(e));
            minor.extend(skipped.map(|e| 10f64.powi(e)).filter(|&v| inside(v)));
        }
        return (major, minor);
    }
    for multiples in [&[1.0, 2.0, 5.0][..], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0][..]] {
        let mut values = Vec::new();
        for e in (lo.floor() as i32 - 1)..=(hi.ceil() as i32) {
            for &m in multiples {
                let v = m * 10f64.powi(e);
                if inside(v) {
                    values.push(v);
                }
            }
        }
        if values.len() >= 2 && values.len() <= n {
            let labels: Vec<String> = values.iter().map(|&v| plain_label(v)).collect();
            return (values.into_iter().zip(labels).map(|(value, l)| Tick { value, label: Some(l) }).collect(), vec![]);
        }
        if values.len() > n {
            break;
        }
    }
    // A sliver of a decade: linear steps within it.
    let values = linear_key_points(min, max, n);
    let labels = linear_labels(&values);
    (values.into_iter().zip(labels).map(|(value, l)| Tick { value, label: Some(l) }).collect(), Vec::new())
}

/// Superscript digits and minus sign.
fn superscript(n: i32) -> String {
    n.to_string()
        .chars()
        .map(|c| match c {
            '-' => '⁻',
            '0' => '⁰',
            '1' => '¹',
            '2' => '²',
            '3' => '³',
            '4' => '⁴',
            '5' => '⁵',
            '6' => '⁶',
            '7' => '⁷',
            '8' => '⁸',
            _ => '⁹',
        })
        .collect()
}

/// `10⁹`, `10⁻²`.
pub(crate) fn decade_label(exponent: i32) -> String {
    format!("10{}", superscript(exponent))
}

/// Replaces the ASCII hyphen of a negative number by a true minus sign.
fn with_minus(text: String) -> String {
    match text.strip_prefix('-') {
        Some(rest) => format!("−{rest}"),
        None => text,
    }
}

/// The fewest decimals (0..=12) that write every value to within a millionth of `step`.
fn decimals_for(values: &[f64], step: f64) -> usize {
    (0..=12)
        .find(|&d| {
            let scale = 10f64.powi(d as i32);
            values.iter().all(|v| ((v * scale).round() / scale - v).abs() <= 1e-6 * step.abs())
        })
        .unwrap_or(12)
}

/// Labels of evenly stepped linear ticks: fixed decimals, or `m×10ⁿ` beyond 10⁵ and below 10⁻³.
fn linear_labels(values: &[f64]) -> Vec<String> {
    let step = match values {
        [a, b, ..] => b - a,
        [a] => a.abs().max(1.0),
        [] => return Vec::new(),
    };
    let largest = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    // A lone tick at 0 (a narrow axis about zero) has no exponent: it is written `0` below.
    if largest > 0.0 && !(1e-3..1e5).contains(&largest) {
        let exponent = largest.log10().floor() as i32;
        let unit = 10f64.powi(exponent);
        let mantissas: Vec<f64> = values.iter().map(|v| v / unit).collect();
        let decimals = decimals_for(&mantissas, step / unit);
        return mantissas
            .iter()
            .map(|&m| {
                if m.abs() < 1e-9 * (step / unit).abs() {
                    "0".to_owned()
                } else {
                    with_minus(format!("{m:.decimals$}×{}", decade_label(exponent)))
                }
            })
            .collect();
    }
    let decimals = decimals_for(values, step);
    values
        .iter()
        .map(|&v| {
            let v = if v.abs() < 1e-9 * step.abs() { 0.0 } else { v };
            with_minus(format!("{v:.decimals$}"))
        })
        .collect()
}

/// One value written with the decimals it needs (`0.5`, `20`, `3×10⁻⁴`).
fn plain_label(v: f64) -> String {
    if v.abs() >= 1e5 || (v != 0.0 && v.abs() < 1e-3) {
        let exponent = v.abs().log10().floor() as i32;
        let m = v / 10f64.powi(exponent);
        let decimals = decimals_for(&[m], 1.0);
        return with_minus(format!("{m:.decimals$}×{}", decade_label(exponent)));
    }
    let decimals = decimals_for(&[v], v.abs().max(f64::MIN_POSITIVE));
    with_minus(format!("{v:.decimals$}"))
}

/// The plotters coordinate of one axis: plotters' own mapping, the ticks chosen by [`ticks`].
pub(crate) struct AxisCoord {
    min: f64,
    max: f64,
    linear: Option<RangedCoordf64>,
    log: Option<LogCoord<f64>>,
    major: Vec<Tick>,
}

impl AxisCoord {
    /// The coordinate of `[min, max]` (checked by the caller) with these major ticks.
    pub(crate) fn new(scale: Scale, min: f64, max: f64, major: Vec<Tick>) -> AxisCoord {
        let (linear, log) = match scale {
            Scale::Linear => (Some(RangedCoordf64::from(min..max)), None),
            Scale::Log10 => (None, Some((min..max).log_scale().into())),
        };
        AxisCoord { min, max, linear, log, major }
    }
}

impl Ranged for AxisCoord {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        match (&self.linear, &self.log) {
            (Some(linear), _) => linear.map(value, limit),
            (None, Some(log)) if *value > 0.0 => log.map(value, limit),
            _ => limit.0,
        }
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new() // no light mesh lines: minor ticks are drawn as ticks only
        } else {
            self.major.iter().map(|t| t.value).collect()
        }
    }

    fn range(&self) -> Range<f64> {
        self.min..self.max
    }
}

impl ValueFormatter<f64> for AxisCoord {
    fn format(value: &f64) -> String {
        plain_label(*value)
    }

    fn format_ext(&self, value: &f64) -> String {
        self.major
            .iter()
            .find(|t| t.value == *value)
            .and_then(|t| t.label.clone())
            .unwrap_or_else(|| plain_label(*value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(ticks: &[Tick]) -> Vec<String> {
        ticks.iter().filter_map(|t| t.label.clone()).collect()
    }

    #[test]
    fn linear_ticks_step_by_one_two_five() {
        let (major, minor) = ticks(Scale::Linear, -1.0, 1.0, 5);
        assert_eq!(labels(&major), ["−1.0", "−0.5", "0.0", "0.5", "1.0"]);
        assert!(minor.is_empty());
        let (major, _) = ticks(Scale::Linear, 0.0, 64.0, 6);
        assert_eq!(labels(&major), ["0", "20", "40", "60"]);
        let (major, _) = ticks(Scale::Linear, 0.0, 3e6, 4);
        assert_eq!(labels(&major), ["0", "1×10⁶", "2×10⁶", "3×10⁶"]);
        // A single tick at zero (a narrow axis about 0) is written `0`, not NaN×10^(i32::MIN).
        assert_eq!(linear_labels(&[0.0]), ["0"]);
        // A tiny span far from zero keeps its ticks inside the range; a span of a few ulps gets none.
        let (major, _) = ticks(Scale::Linear, 1.0, 1.0 + 1e-9, 5);
        assert!(major.len() >= 2 && major.iter().all(|t| t.value >= 1.0 && t.value <= 1.0 + 1e-9), "{major:?}");
        assert!(ticks(Scale::Linear, 1.0, 1.0 + 4.0 * f64::EPSILON, 5).0.is_empty());
        let (major, _) = ticks(Scale::Linear, 1e-320, 3e-320, 5);
        assert!(major.len() <= MAX_TICKS);
    }

    #[test]
    fn log_ticks_are_decades_or_multiples() {
        let (major, minor) = ticks(Scale::Log10, 0.5, 2000.0, 8);
        assert_eq!(labels(&major), ["10⁰", "10¹", "10²", "10³"]);
        assert_eq!(minor.len(), 5 + 8 + 8 + 8 + 1); // 0.5..0.9, the three full decades, 2000
        let (major, _) = ticks(Scale::Log10, 1e-3, 1e9, 4);
        assert!((2..=5).contains(&major.len()), "{major:?}"); // every third decade
        let (major, _) = ticks(Scale::Log10, 0.3, 4.0, 6);
        assert_eq!(labels(&major), ["0.5", "1", "2"]);
        let (major, _) = ticks(Scale::Log10, 1.1, 1.4, 6);
        assert!(major.len() >= 2, "{major:?}");
        assert_eq!(decade_label(-2), "10⁻²");
        assert!(ticks(Scale::Log10, -1.0, 1.0, 5).0.is_empty());
        // 616 decades: max / min overflows.
        let (major, _) = ticks(Scale::Log10, 1e-308, 1e308, 6);
        assert!((2..=7).contains(&major.len()), "{major:?}");
    }
}
