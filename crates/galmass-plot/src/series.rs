//! The data series a [`crate::Plot`] draws: [`Scatter`], [`Line`], [`Band`], [`Histogram`] and [`HeatMap`], each
//! built from slices (copied) and styled with builder methods.
//!
//! A series without an explicit colour takes the palette colour of its position in the plot
//! ([`Color::palette`]; bands at 25 % opacity). Only labelled series appear in the legend; a heat map shows its
//! scale in a colour bar instead.
//!
//! ```
//! use galmass_plot::series::{Bins, HistKind, Histogram, Line, Marker, Scatter};
//! use galmass_plot::Color;
//! let scatter = Scatter::new(&[1.0, 2.0], &[3.0, 4.0]).marker(Marker::Square).size(5.0).label("galaxies");
//! let line = Line::new(&[1.0, 2.0], &[3.0, 4.0]).color(Color::BLACK).dashed(true).label("1:1");
//! let hist = Histogram::new(&[0.1, 0.2, 0.2]).bins(Bins::Count(10)).kind(HistKind::Step).normalised(true);
//! assert_eq!(scatter.label_text(), Some("galaxies"));
//! # let _ = (line, hist);
//! ```

use crate::axis::Scale;
use crate::color::{Color, Colormap};
use crate::error::PlotError;

/// Most bins a histogram may ask for.
pub const MAX_BINS: usize = 100_000;

/// Most cells a heat map may hold.
pub const MAX_CELLS: usize = 16_777_216;

/// The shape of a scatter marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Marker {
    /// A disc.
    #[default]
    Circle,
    /// An axis-aligned square.
    Square,
    /// A triangle pointing up.
    Triangle,
    /// A square turned by 45 degrees.
    Diamond,
}

/// Points drawn as filled markers.
#[derive(Debug, Clone, PartialEq)]
pub struct Scatter {
    pub(crate) x: Vec<f64>,
    pub(crate) y: Vec<f64>,
    pub(crate) color: Option<Color>,
    pub(crate) marker: Marker,
    pub(crate) size_px: f64,
    pub(crate) label: Option<String>,
}

impl Scatter {
    /// Points `(x[i], y[i])`: circles of 6 px in the series' palette colour.
    pub fn new(x: &[f64], y: &[f64]) -> Scatter {
        Scatter { x: x.to_vec(), y: y.to_vec(), color: None, marker: Marker::Circle, size_px: 6.0, label: None }
    }

    /// Marker colour (its alpha blends overlapping markers).
    pub fn color(self, color: Color) -> Scatter {
        Scatter { color: Some(color), ..self }
    }

    /// Marker shape.
    pub fn marker(self, marker: Marker) -> Scatter {
        Scatter { marker, ..self }
    }

    /// Marker diameter (side for squares) in pixels.
    pub fn size(self, size_px: f64) -> Scatter {
        Scatter { size_px, ..self }
    }

    /// Legend label.
    pub fn label(self, label: impl Into<String>) -> Scatter {
        Scatter { label: Some(label.into()), ..self }
    }

    /// The legend label, if any.
    pub fn label_text(&self) -> Option<&str> {
        self.label.as_deref()
    }
}

/// A polyline through `(x[i], y[i])` in the given order; non-finite points (and non-positive ones on log axes)
/// break it.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub(crate) x: Vec<f64>,
    pub(crate) y: Vec<f64>,
    pub(crate) color: Option<Color>,
    pub(crate) width_px: f64,
    pub(crate) dashed: bool,
    pub(crate) label: Option<String>,
}

impl Line {
    /// A solid line of 2 px in the series' palette colour.
    pub fn new(x: &[f64], y: &[f64]) -> Line {
        Line { x: x.to_vec(), y: y.to_vec(), color: None, width_px: 2.0, dashed: false, label: None }
    }

    /// Line colour.
    pub fn color(self, color: Color) -> Line {
        Line { color: Some(color), ..self }
    }

    /// Line width in pixels.
    pub fn width(self, width_px: f64) -> Line {
        Line { width_px, ..self }
    }

    /// Dashed (dashes of about four line widths, gaps of about three) or solid.
    pub fn dashed(self, dashed: bool) -> Line {
        Line { dashed, ..self }
    }

    /// Legend label.
    pub fn label(self, label: impl Into<String>) -> Line {
        Line { label: Some(label.into()), ..self }
    }
}

/// The filled region between `lo[i]` and `hi[i]` along `x[i]` (sorted `x` gives a band; a non-finite or
/// non-positive-on-log point splits it).
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    pub(crate) x: Vec<f64>,
    pub(crate) lo: Vec<f64>,
    pub(crate) hi: Vec<f64>,
    pub(crate) color: Option<Color>,
    pub(crate) label: Option<String>,
}

impl Band {
    /// A band in the series' palette colour at 25 % opacity.
    pub fn new(x: &[f64], lo: &[f64], hi: &[f64]) -> Band {
        Band { x: x.to_vec(), lo: lo.to_vec(), hi: hi.to_vec(), color: None, label: None }
    }

    /// Fill colour, used as given: set its alpha ([`Color::with_alpha`]) to see through.
    pub fn color(self, color: Color) -> Band {
        Band { color: Some(color), ..self }
    }

    /// Legend label.
    pub fn label(self, label: impl Into<String>) -> Band {
        Band { label: Some(label.into()), ..self }
    }
}

/// How a histogram is binned.
#[derive(Debug, Clone, PartialEq)]
pub enum Bins {
    /// This many equal bins spanning the data (equal in log10 on a log10 x axis).
    Count(usize),
    /// Explicit edges, strictly increasing; each bin is `[e_i, e_i+1)`, the last one closed (numpy's convention).
    Edges(Vec<f64>),
}

/// How histogram bars are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HistKind {
    /// Filled bars.
    Filled,
    /// The outline of the bars.
    Step,
}

/// Counts of `values` in bins, drawn as bars from zero (from the bottom of a log10 y axis).
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    pub(crate) values: Vec<f64>,
    pub(crate) bins: Bins,
    pub(crate) color: Option<Color>,
    pub(crate) label: Option<String>,
    pub(crate) normalised: bool,
    pub(crate) kind: HistKind,
    pub(crate) line_width_px: f64,
}

impl Histogram {
    /// Ten bins of counts, filled, in the series' palette colour.
    pub fn new(values: &[f64]) -> Histogram {
        Histogram {
            values: values.to_vec(),
            bins: Bins::Count(10),
            color: None,
            label: None,
            normalised: false,
            kind: HistKind::Filled,
            line_width_px: 2.0,
        }
    }

    /// Binning.
    pub fn bins(self, bins: Bins) -> Histogram {
        Histogram { bins, ..self }
    }

    /// Bar colour (filled) or outline colour (step).
    pub fn color(self, color: Color) -> Histogram {
        Histogram { color: Some(color), ..self }
    }

    /// Legend label.
    pub fn label(self, label: impl Into<String>) -> Histogram {
        Histogram { label: Some(label.into()), ..self }
    }

    /// Densities instead of counts: each count divided by (counted values x bin width in data units), so the bars
    /// integrate to 1 (numpy's `density=True`).
    pub fn normalised(self, normalised: bool) -> Histogram {
        Histogram { normalised, ..self }
    }

    /// Filled bars or a step outline.
    pub fn kind(self, kind: HistKind) -> Histogram {
        Histogram { kind, ..self }
    }

    /// Outline width in pixels (step histograms).
    pub fn line_width(self, line_width_px: f64) -> Histogram {
        Histogram { line_width_px, ..self }
    }
}

/// A 2-D map drawn as coloured cells: `values[row * n_cols + col]`, row 0 at the bottom (matplotlib's
/// `imshow(origin="lower")`), spanning `extent` in data units; optionally explained by a colour bar beside the
/// panel. Non-finite cells (and non-positive ones on a log10 colour scale) are left undrawn.
///
/// ```
/// use galmass_plot::series::HeatMap;
/// use galmass_plot::{Colormap, Scale};
/// let map = HeatMap::new(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 2, 3)
///     .extent(-1.5, 1.5, -1.0, 1.0)
///     .colormap(Colormap::Viridis)
///     .color_scale(Scale::Log10)
///     .colorbar("Σ [M_{⊙} kpc^{-2}]");
/// # let _ = map;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct HeatMap {
    pub(crate) values: Vec<f64>,
    pub(crate) n_rows: usize,
    pub(crate) n_cols: usize,
    pub(crate) extent: Option<[f64; 4]>,
    pub(crate) colormap: Colormap,
    pub(crate) color_scale: Scale,
    pub(crate) value_range: Option<(f64, f64)>,
    pub(crate) colorbar: Option<String>,
}

impl HeatMap {
    /// `n_rows` x `n_cols` cells, row-major, spanning `[0, n_cols] x [0, n_rows]`, viridis on a linear scale over
    /// the finite values, no colour bar.
    pub fn new(values: &[f64], n_rows: usize, n_cols: usize) -> HeatMap {
        HeatMap {
            values: values.to_vec(),
            n_rows,
            n_cols,
            extent: None,
            colormap: Colormap::Viridis,
            color_scale: Scale::Linear,
            value_range: None,
            colorbar: None,
        }
    }

    /// The data rectangle the map covers: columns from `x_min` to `x_max`, rows from `y_min` to `y_max`.
    pub fn extent(self, x_min: f64, x_max: f64, y_min: f64, y_max: f64) -> HeatMap {
        HeatMap { extent: Some([x_min, x_max, y_min, y_max]), ..self }
    }

    /// The colour map.
    pub fn colormap(self, colormap: Colormap) -> HeatMap {
        HeatMap { colormap, ..self }
    }

    /// Linear or log10 mapping of values to colours.
    pub fn color_scale(self, color_scale: Scale) -> HeatMap {
        HeatMap { color_scale, ..self }
    }

    /// The values at the two ends of the colour map (values beyond are clamped); by default the finite (positive on
    /// log10) values' extremes.
    pub fn value_range(self, min: f64, max: f64) -> HeatMap {
        HeatMap { value_range: Some((min, max)), ..self }
    }

    /// A colour bar beside the panel, labelled `label` (markup of [`crate::text`]).
    pub fn colorbar(self, label: impl Into<String>) -> HeatMap {
        HeatMap { colorbar: Some(label.into()), ..self }
    }

    /// The extent in data units (`[x_min, x_max, y_min, y_max]`).
    pub(crate) fn bounds(&self) -> [f64; 4] {
        self.extent.unwrap_or([0.0, self.n_cols as f64, 0.0, self.n_rows as f64])
    }

    /// The colour range: the explicit one, or the usable values' extremes (`None` when no value is usable).
    pub(crate) fn resolved_value_range(&self) -> Option<(f64, f64)> {
        if let Some(range) = self.value_range {
            return Some(range);
        }
        let usable = self.values.iter().copied().filter(|&v| self.color_scale.usable(v));
        let (lo, hi) = usable.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
        if lo > hi {
            return None;
        }
        if lo < hi {
            return Some((lo, hi));
        }
        Some(match self.color_scale {
            Scale::Linear if lo == 0.0 => (-1.0, 1.0),
            Scale::Linear => (lo - 0.1 * lo.abs(), hi + 0.1 * hi.abs()),
            Scale::Log10 => (lo / 3.0, hi * 3.0),
        })
    }

    /// The colour of `v` within `range` (`None` when `v` cannot be drawn on the colour scale).
    pub(crate) fn color_of(&self, v: f64, (min, max): (f64, f64)) -> Option<Color> {
        if !self.color_scale.usable(v) {
            return None;
        }
        Some(self.colormap.at(self.color_scale.fraction(min, max, v)))
    }
}

/// Any series.
#[derive(Debug, Clone, PartialEq)]
pub enum Series {
    /// Markers.
    Scatter(Scatter),
    /// A polyline.
    Line(Line),
    /// A filled band.
    Band(Band),
    /// A histogram.
    Histogram(Histogram),
    /// A heat map.
    HeatMap(HeatMap),
}

impl From<HeatMap> for Series {
    fn from(s: HeatMap) -> Series {
        Series::HeatMap(s)
    }
}

impl From<Scatter> for Series {
    fn from(s: Scatter) -> Series {
        Series::Scatter(s)
    }
}

impl From<Line> for Series {
    fn from(s: Line) -> Series {
        Series::Line(s)
    }
}

impl From<Band> for Series {
    fn from(s: Band) -> Series {
        Series::Band(s)
    }
}

impl From<Histogram> for Series {
    fn from(s: Histogram) -> Series {
        Series::Histogram(s)
    }
}

/// Bars of a histogram: `heights[i]` over `[edges[i], edges[i + 1])`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bars {
    pub(crate) edges: Vec<f64>,
    pub(crate) heights: Vec<f64>,
}

impl Series {
    /// `"scatter"`, `"line"`, `"band"` or `"histogram"`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Series::Scatter(_) => "scatter",
            Series::Line(_) => "line",
            Series::Band(_) => "band",
            Series::Histogram(_) => "histogram",
            Series::HeatMap(_) => "heat map",
        }
    }

    /// The legend label, if any.
    pub fn label(&self) -> Option<&str> {
        match self {
            Series::Scatter(s) => s.label.as_deref(),
            Series::Line(s) => s.label.as_deref(),
            Series::Band(s) => s.label.as_deref(),
            Series::Histogram(s) => s.label.as_deref(),
            Series::HeatMap(_) => None,
        }
    }

    /// How errors name the series at `index` (0-based) of its plot: `series "label" (kind)` or `series 2 (kind)`.
    pub fn name(&self, index: usize) -> String {
        match self.label() {
            Some(label) => format!("series {label:?} ({})", self.kind_name()),
            None => format!("series {} ({})", index + 1, self.kind_name()),
        }
    }

    /// The colour drawn: the explicit one or the palette colour of `index`.
    pub(crate) fn color(&self, index: usize) -> Color {
        let explicit = match self {
            Series::Scatter(s) => s.color,
            Series::Line(s) => s.color,
            Series::Band(s) => s.color,
            Series::Histogram(s) => s.color,
            Series::HeatMap(_) => None,
        };
        match (explicit, self) {
            (Some(c), _) => c,
            (None, Series::Band(_)) => Color::palette(index).with_alpha(0.25),
            (None, _) => Color::palette(index),
        }
    }

    /// Checks lengths and style parameters; `name` is [`Series::name`].
    pub(crate) fn check(&self, name: &str) -> Result<(), PlotError> {
        let same_length = |field: &'static str, got: usize, expected: usize| {
            if got == expected {
                Ok(())
            } else {
                Err(PlotError::LengthMismatch { series: name.to_owned(), field, reference: "x", expected, got })
            }
        };
        let positive = |field: &'static str, value: f64| {
            if value.is_finite() && value > 0.0 {
                Ok(())
            } else {
                Err(PlotError::InvalidSeries {
                    series: name.to_owned(),
                    field,
                    reason: format!("expected a positive finite size in pixels, got {value}"),
                })
            }
        };
        match self {
            Series::Scatter(s) => {
                same_length("y", s.y.len(), s.x.len())?;
                positive("size", s.size_px)
            }
            Series::Line(s) => {
                same_length("y", s.y.len(), s.x.len())?;
                positive("width", s.width_px)
            }
            Series::Band(s) => {
                same_length("lo", s.lo.len(), s.x.len())?;
                same_length("hi", s.hi.len(), s.x.len())
            }
            Series::HeatMap(h) => h.check(name),
            Series::Histogram(s) => {
                positive("line_width", s.line_width_px)?;
                let invalid =
                    |reason: String| PlotError::InvalidSeries { series: name.to_owned(), field: "bins", reason };
                match &s.bins {
                    Bins::Count(n) if *n == 0 || *n > MAX_BINS => {
                        Err(invalid(format!("expected 1 to {MAX_BINS} bins, got {n}")))
                    }
                    Bins::Count(_) => Ok(()),
                    Bins::Edges(edges) if edges.len() < 2 => {
                        Err(invalid(format!("expected at least 2 edges, got {}", edges.len())))
                    }
                    Bins::Edges(edges) if edges.len() > MAX_BINS + 1 => {
                        Err(invalid(format!("expected at most {} edges, got {}", MAX_BINS + 1, edges.len())))
                    }
                    Bins::Edges(edges) => {
                        match edges.windows(2).position(|w| !(w[0].is_finite() && w[1].is_finite() && w[0] < w[1])) {
                            Some(i) => Err(invalid(format!(
                                "edges must be finite and strictly increasing; edges {i} and {} are {} and {}",
                                i + 1,
                                edges[i],
                                edges[i + 1]
                            ))),
                            None => Ok(()),
                        }
                    }
                }
            }
        }
    }

    /// How many points (values for histograms) cannot be drawn on these axes: non-finite, non-positive on a log10
    /// axis, or (histograms with explicit edges) outside the edges.
    pub(crate) fn n_skipped(&self, x_scale: Scale, y_scale: Scale) -> usize {
        let (ux, uy) = (|v: f64| x_scale.usable(v), |v: f64| y_scale.usable(v));
        match self {
            Series::Scatter(Scatter { x, y, .. }) | Series::Line(Line { x, y, .. }) => {
                x.iter().zip(y).filter(|(&a, &b)| !(ux(a) && uy(b))).count()
            }
            Series::Band(b) => {
                b.x.iter().zip(b.lo.iter().zip(&b.hi)).filter(|(&a, (&l, &h))| !(ux(a) && uy(l) && uy(h))).count()
            }
            Series::Histogram(h) => h
                .values
                .iter()
                .filter(|&&v| match &h.bins {
                    Bins::Edges(e) => {
                        !ux(v) || e.first().is_some_and(|&first| v < first) || e.last().is_some_and(|&last| v > last)
                    }
                    Bins::Count(_) => !ux(v),
                })
                .count(),
            Series::HeatMap(h) => h.values.iter().filter(|&&v| !h.color_scale.usable(v)).count(),
        }
    }
}

impl HeatMap {
    fn check(&self, name: &str) -> Result<(), PlotError> {
        let invalid =
            |field: &'static str, reason: String| PlotError::InvalidSeries { series: name.to_owned(), field, reason };
        let n_cells = self.n_rows.checked_mul(self.n_cols).filter(|&n| n > 0 && n <= MAX_CELLS).ok_or_else(|| {
            invalid("shape", format!("expected 1 to {MAX_CELLS} cells, got {} x {}", self.n_rows, self.n_cols))
        })?;
        if self.values.len() != n_cells {
            return Err(PlotError::LengthMismatch {
                series: name.to_owned(),
                field: "values",
                reference: "n_rows x n_cols",
                expected: n_cells,
                got: self.values.len(),
            });
        }
        if let Some([x0, x1, y0, y1]) = self.extent {
            if !([x0, x1, y0, y1].iter().all(|v| v.is_finite()) && x0 < x1 && y0 < y1) {
                return Err(invalid(
                    "extent",
                    format!("expected finite x_min < x_max, y_min < y_max, got {x0}, {x1}, {y0}, {y1}"),
                ));
            }
        }
        if let Some((min, max)) = self.value_range {
            if !(min.is_finite() && max.is_finite() && min < max && self.color_scale.usable(min)) {
                return Err(invalid(
                    "value_range",
                    format!("expected finite min < max (positive on a log10 colour scale), got {min}, {max}"),
                ));
            }
        }
        Ok(())
    }
}

impl Histogram {
    /// Bins the usable values (finite, and positive on a log10 x axis); `None` when no value is usable. Edges on a
    /// log10 x axis must be positive.
    pub(crate) fn bars(&self, x_scale: Scale, name: &str) -> Result<Option<Bars>, PlotError> {
        let usable: Vec<f64> = self.values.iter().copied().filter(|&v| x_scale.usable(v)).collect();
        let edges = match &self.bins {
            Bins::Edges(edges) => {
                if x_scale == Scale::Log10 && edges.first().is_some_and(|&e| e <= 0.0) {
                    return Err(PlotError::InvalidSeries {
                        series: name.to_owned(),
                        field: "bins",
                        reason: "bin edges must be positive on a log10 x axis".into(),
                    });
                }
                edges.clone()
            }
            Bins::Count(n) => {
                if usable.is_empty() {
                    return Ok(None);
                }
                let n = (*n).clamp(1, MAX_BINS);
                let transform = |v: f64| if x_scale == Scale::Log10 { v.log10() } else { v };
                let (lo, hi) = usable.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                    (lo.min(transform(v)), hi.max(transform(v)))
                });
                let (lo, hi) = if lo == hi { (lo - 0.5, hi + 0.5) } else { (lo, hi) };
                if !(hi - lo).is_finite() {
                    return Err(PlotError::InvalidSeries {
                        series: name.to_owned(),
                        field: "values",
                        reason: "the values span more than a float can hold".into(),
                    });
                }
                let inverse = |t: f64| if x_scale == Scale::Log10 { 10f64.powf(t) } else { t };
                let mut edges: Vec<f64> = (0..=n).map(|i| inverse(lo + (hi - lo) * i as f64 / n as f64)).collect();
                // The outer edges are the data's own extremes, exactly.
                if let (Some(first), Some(last)) =
                    (usable.iter().copied().reduce(f64::min), usable.iter().copied().reduce(f64::max))
                {
                    if first < last {
                        edges[0] = first;
                        edges[n] = last;
                    }
                }
                edges
            }
        };
        let n_bins = edges.len() - 1;
        let (first, last) = (edges[0], edges[n_bins]);
        let mut counts = vec![0usize; n_bins];
        for &v in &usable {
            if v < first || v > last {
                continue;
            }
            // Index of the last edge <= v; values on the last edge go into the last bin.
            let i = edges.partition_point(|&e| e <= v).saturating_sub(1).min(n_bins - 1);
            counts[i] += 1;
        }
        let n_counted: usize = counts.iter().sum();
        if n_counted == 0 {
            return Ok(Some(Bars { heights: vec![0.0; n_bins], edges }));
        }
        let heights = counts
            .iter()
            .enumerate()
            .map(
                |(i, &c)| {
                    if self.normalised {
                        c as f64 / (n_counted as f64 * (edges[i + 1] - edges[i]))
                    } else {
                        c as f64
                    }
                },
            )
            .collect();
        Ok(Some(Bars { edges, heights }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn lengths_and_styles_are_checked() {
        let err =
            Series::from(Scatter::new(&[1.0, 2.0], &[1.0]).label("pts")).check("series \"pts\" (scatter)").unwrap_err();
        assert_eq!(err.to_string(), "series \"pts\" (scatter): `y` has 1 values, expected 2 (the length of `x`)");
        let band = Series::from(Band::new(&[1.0], &[1.0], &[]));
        assert!(matches!(band.check("b"), Err(PlotError::LengthMismatch { field: "hi", .. })));
        let line = Series::from(Line::new(&[1.0], &[1.0]).width(f64::NAN));
        assert!(matches!(line.check("l"), Err(PlotError::InvalidSeries { field: "width", .. })));
        for bins in
            [Bins::Count(0), Bins::Edges(vec![1.0]), Bins::Edges(vec![0.0, 1.0, 1.0]), Bins::Edges(vec![0.0, f64::NAN])]
        {
            let hist = Series::from(Histogram::new(&[1.0]).bins(bins.clone()));
            assert!(matches!(hist.check("h"), Err(PlotError::InvalidSeries { field: "bins", .. })), "{bins:?}");
        }
    }

    #[test]
    fn histograms_follow_numpy_binning() {
        let values = [0.0, 0.5, 1.0, 1.5, 2.0, 2.0, 3.0, f64::NAN, 7.0];
        let hist = Histogram::new(&values).bins(Bins::Edges(vec![0.0, 1.0, 2.0, 3.0]));
        let bars = hist.bars(Scale::Linear, "h").unwrap().unwrap();
        assert_eq!(bars.heights, [2.0, 2.0, 3.0]); // the last bin is closed: 3.0 counts
        assert_eq!(Series::from(hist.clone()).n_skipped(Scale::Linear, Scale::Linear), 2); // NaN and 7.0
        let density = hist.normalised(true).bars(Scale::Linear, "h").unwrap().unwrap();
        assert_relative_eq!(density.heights.iter().sum::<f64>(), 1.0, epsilon = 1e-12);
        let auto =
            Histogram::new(&[1.0, 2.0, 3.0, 4.0]).bins(Bins::Count(3)).bars(Scale::Linear, "h").unwrap().unwrap();
        assert_eq!(auto.edges, [1.0, 2.0, 3.0, 4.0]);
        assert_eq!(auto.heights, [1.0, 1.0, 2.0]);
        let single = Histogram::new(&[5.0, 5.0]).bins(Bins::Count(2)).bars(Scale::Linear, "h").unwrap().unwrap();
        assert_eq!((single.edges.clone(), single.heights.clone()), (vec![4.5, 5.0, 5.5], vec![0.0, 2.0]));
    }

    #[test]
    fn log_histograms_bin_in_log10() {
        let hist = Histogram::new(&[1.0, 10.0, 100.0, -1.0, 0.0]).bins(Bins::Count(2));
        let bars = hist.bars(Scale::Log10, "h").unwrap().unwrap();
        assert_relative_eq!(bars.edges[1], 10.0, epsilon = 1e-12);
        assert_eq!(bars.heights, [1.0, 2.0]);
        assert_eq!(Series::from(hist).n_skipped(Scale::Log10, Scale::Linear), 2);
        let negative_edges = Histogram::new(&[1.0]).bins(Bins::Edges(vec![-1.0, 1.0, 2.0]));
        assert!(negative_edges.bars(Scale::Log10, "h").is_err());
        assert_eq!(Histogram::new(&[f64::NAN]).bars(Scale::Linear, "h").unwrap(), None);
    }

    #[test]
    fn heat_maps_check_their_shape_and_ranges() {
        let ok = Series::from(HeatMap::new(&[1.0; 6], 2, 3));
        assert!(ok.check("m").is_ok());
        let err = Series::from(HeatMap::new(&[1.0; 5], 2, 3)).check("m").unwrap_err();
        assert!(matches!(err, PlotError::LengthMismatch { field: "values", expected: 6, got: 5, .. }), "{err:?}");
        let err = Series::from(HeatMap::new(&[], 0, 3)).check("m").unwrap_err();
        assert!(matches!(err, PlotError::InvalidSeries { field: "shape", .. }), "{err:?}");
        let err = Series::from(HeatMap::new(&[1.0; 6], 2, 3).extent(1.0, 0.0, 0.0, 1.0)).check("m").unwrap_err();
        assert!(matches!(err, PlotError::InvalidSeries { field: "extent", .. }), "{err:?}");
        let log = HeatMap::new(&[1.0; 6], 2, 3).color_scale(Scale::Log10).value_range(0.0, 1.0);
        assert!(matches!(Series::from(log).check("m"), Err(PlotError::InvalidSeries { field: "value_range", .. })));
        let map = HeatMap::new(&[f64::NAN, 0.0, 1.0, 10.0, 100.0, -1.0], 2, 3).color_scale(Scale::Log10);
        assert_eq!(map.resolved_value_range(), Some((1.0, 100.0)));
        assert_eq!(map.color_of(0.0, (1.0, 100.0)), None);
        assert_eq!(map.color_of(10.0, (1.0, 100.0)), Some(Colormap::Viridis.at(0.5)));
        assert_eq!(Series::from(map).n_skipped(Scale::Linear, Scale::Linear), 3);
    }
}
