//! One panel: axes (linear or log10, automatic or explicit ranges), nice ticks, optional grid, series, a legend.
//!
//! Automatic ranges span the drawable data with 5 % margins (in log10 on log axes); histograms keep zero as the
//! bottom of a linear y axis. Series are drawn in the order they were added, clipped to the data area.
//!
//! ```
//! use galmass_plot::series::{Histogram, Line, Scatter};
//! use galmass_plot::{Figure, Plot, Scale};
//! let mut plot = Plot::new().title("Stellar masses").x_label("M_{*} [M_{⊙}]").x_scale(Scale::Log10).grid(true);
//! plot.add(Histogram::new(&[3e8, 1e9, 2e9, 5e10, 1e11]).label("suite"))?;
//! let figure = Figure::new(400, 300).with(plot);
//! let rendered = figure.render()?;
//! let layout = &rendered.panels[0];
//! let (px, _) = layout.to_pixel(1e10, 0.0).unwrap();
//! assert!(layout.area.left as f64 <= px && px <= layout.area.right as f64);
//! # Ok::<(), galmass_plot::PlotError>(())
//! ```

use crate::canvas::{Canvas, PixelRect, Stroke};
use crate::color::Color;
use crate::error::{Axis, PlotError};
use crate::series::{Bars, HistKind, Series};
use crate::text::{HAlign, Rotation, TextStyle, VAlign};
use crate::ticks::{linear_ticks, log10_ticks, Tick, DEFAULT_MAX_TICKS};

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

    fn forward(self, v: f64) -> f64 {
        match self {
            Scale::Linear => v,
            Scale::Log10 => v.log10(),
        }
    }

    fn inverse(self, t: f64) -> f64 {
        match self {
            Scale::Linear => t,
            Scale::Log10 => 10f64.powf(t),
        }
    }
}

/// Where the legend goes (inside the data area).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LegendPosition {
    /// The corner covering the fewest data points (ties go upper right, upper left, lower left, lower right).
    #[default]
    Best,
    /// Upper right corner.
    UpperRight,
    /// Upper left corner.
    UpperLeft,
    /// Lower left corner.
    LowerLeft,
    /// Lower right corner.
    LowerRight,
    /// No legend.
    Hidden,
}

/// One panel of a [`crate::Figure`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plot {
    title: Option<String>,
    x_label: Option<String>,
    y_label: Option<String>,
    x_scale: Scale,
    y_scale: Scale,
    x_range: Option<(f64, f64)>,
    y_range: Option<(f64, f64)>,
    grid: bool,
    legend: LegendPosition,
    series: Vec<Series>,
}

impl Plot {
    /// An empty plot: linear axes with automatic ranges, no grid, legend in the best corner.
    pub fn new() -> Plot {
        Plot::default()
    }

    /// Title above the panel (text markup of [`crate::text`]).
    pub fn title(self, title: impl Into<String>) -> Plot {
        Plot { title: Some(title.into()), ..self }
    }

    /// Label under the x axis.
    pub fn x_label(self, label: impl Into<String>) -> Plot {
        Plot { x_label: Some(label.into()), ..self }
    }

    /// Label beside the y axis (drawn rotated).
    pub fn y_label(self, label: impl Into<String>) -> Plot {
        Plot { y_label: Some(label.into()), ..self }
    }

    /// Scale of the x axis.
    pub fn x_scale(self, scale: Scale) -> Plot {
        Plot { x_scale: scale, ..self }
    }

    /// Scale of the y axis.
    pub fn y_scale(self, scale: Scale) -> Plot {
        Plot { y_scale: scale, ..self }
    }

    /// Explicit x range (checked when drawn: finite, `min < max`, positive on log10).
    pub fn x_range(self, min: f64, max: f64) -> Plot {
        Plot { x_range: Some((min, max)), ..self }
    }

    /// Explicit y range (checked when drawn).
    pub fn y_range(self, min: f64, max: f64) -> Plot {
        Plot { y_range: Some((min, max)), ..self }
    }

    /// Grid lines at the labelled ticks, or none.
    pub fn grid(self, grid: bool) -> Plot {
        Plot { grid, ..self }
    }

    /// Legend placement.
    pub fn legend(self, legend: LegendPosition) -> Plot {
        Plot { legend, ..self }
    }

    /// Adds a series after checking its lengths and style ([`PlotError::LengthMismatch`],
    /// [`PlotError::InvalidSeries`]); on error the plot is unchanged.
    pub fn add(&mut self, series: impl Into<Series>) -> Result<&mut Plot, PlotError> {
        let series = series.into();
        series.check(&series.name(self.series.len()))?;
        self.series.push(series);
        Ok(self)
    }

    /// [`Plot::add`] for building by value: `Plot::new().with(a)?.with(b)?`.
    pub fn with(mut self, series: impl Into<Series>) -> Result<Plot, PlotError> {
        self.add(series)?;
        Ok(self)
    }

    /// The series, in drawing order.
    pub fn series(&self) -> &[Series] {
        &self.series
    }

    /// How many points (histogram values) will not be drawn because they are non-finite, non-positive on a log10
    /// axis, or outside a histogram's explicit edges. They are skipped, never an error.
    pub fn n_skipped(&self) -> usize {
        self.series.iter().map(|s| s.n_skipped(self.x_scale, self.y_scale)).sum()
    }

    /// The title, if any.
    pub fn title_text(&self) -> Option<&str> {
        self.title.as_deref()
    }
}

/// The mapping of one axis from data to pixels, with its ticks.
#[derive(Debug, Clone, PartialEq)]
pub struct AxisTransform {
    /// Scale.
    pub scale: Scale,
    /// Data value at `start_px`.
    pub min: f64,
    /// Data value at `end_px`.
    pub max: f64,
    /// Pixel coordinate of `min` (the centre of the frame line: left frame for x, bottom frame for y).
    pub start_px: f64,
    /// Pixel coordinate of `max`.
    pub end_px: f64,
    /// The ticks drawn.
    pub ticks: Vec<Tick>,
}

impl AxisTransform {
    /// The pixel coordinate of `v`; `None` when `v` cannot be drawn on this scale or maps outside f64.
    pub fn to_pixel(&self, v: f64) -> Option<f64> {
        if !self.scale.usable(v) {
            return None;
        }
        let f = fraction(self.scale, self.min, self.max, v);
        let px = self.start_px + f * (self.end_px - self.start_px);
        px.is_finite().then_some(px)
    }
}

/// Where a panel landed on the canvas and how it maps data to pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct PanelLayout {
    /// The figure cell of the panel.
    pub cell: PixelRect,
    /// The data area inside the frame (series are clipped to it).
    pub area: PixelRect,
    /// The x axis.
    pub x: AxisTransform,
    /// The y axis.
    pub y: AxisTransform,
    /// The legend box, when one was drawn.
    pub legend: Option<PixelRect>,
}

impl PanelLayout {
    /// The pixel position of data point `(x, y)`, `None` when it cannot be drawn.
    pub fn to_pixel(&self, x: f64, y: f64) -> Option<(f64, f64)> {
        Some((self.x.to_pixel(x)?, self.y.to_pixel(y)?))
    }
}

/// Sizes shared by the panels of one figure.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Metrics {
    pub(crate) scale: u32,
    pub(crate) antialias: bool,
    pub(crate) ink: Color,
}

impl Metrics {
    fn s(&self) -> i64 {
        i64::from(self.scale)
    }
    fn pad(&self) -> i64 {
        3 * self.s()
    }
    fn tick_major(&self) -> i64 {
        2 * self.s() + 1
    }
    fn tick_minor(&self) -> i64 {
        self.s() + 1
    }
    fn tick_pad(&self) -> i64 {
        2 * self.s()
    }
    fn label_pad(&self) -> i64 {
        3 * self.s()
    }
    pub(crate) fn text(&self) -> TextStyle {
        TextStyle::new(self.scale).color(self.ink)
    }
    pub(crate) fn title(&self) -> TextStyle {
        self.text().bold(true)
    }
}

/// Position of `v` along `[min, max]` as a fraction (0 at min, 1 at max) on `scale`.
fn fraction(scale: Scale, min: f64, max: f64, v: f64) -> f64 {
    let (a, b, t) = (scale.forward(min), scale.forward(max), scale.forward(v));
    (t - a) / (b - a)
}

/// The data of a plot once the scales are known: histogram bars computed, ranges resolved.
struct Resolved {
    bars: Vec<Option<Bars>>,
    x: (f64, f64),
    y: (f64, f64),
}

impl Plot {
    fn resolve(&self, name: &str) -> Result<Resolved, PlotError> {
        if self.series.is_empty() {
            return Err(PlotError::EmptyPlot { plot: name.to_owned() });
        }
        let mut bars = Vec::with_capacity(self.series.len());
        for (i, s) in self.series.iter().enumerate() {
            bars.push(match s {
                Series::Histogram(h) => h.bars(self.x_scale, &s.name(i))?,
                _ => None,
            });
        }
        // Finite data per axis (for the log10 checks) and drawable data (for the ranges).
        let (mut finite_x, mut finite_y) = (Vec::new(), Vec::new());
        let (mut xs, mut ys) = (Vec::new(), Vec::new());
        let mut sticky_zero = false;
        let (sx, sy) = (self.x_scale, self.y_scale);
        for (s, bars) in self.series.iter().zip(&bars) {
            match s {
                Series::Scatter(crate::series::Scatter { x, y, .. })
                | Series::Line(crate::series::Line { x, y, .. }) => {
                    for (&a, &b) in x.iter().zip(y) {
                        if a.is_finite() && b.is_finite() {
                            finite_x.push(a);
                            finite_y.push(b);
                            if sx.usable(a) && sy.usable(b) {
                                xs.push(a);
                                ys.push(b);
                            }
                        }
                    }
                }
                Series::Band(band) => {
                    for ((&a, &l), &h) in band.x.iter().zip(&band.lo).zip(&band.hi) {
                        if a.is_finite() && l.is_finite() && h.is_finite() {
                            finite_x.push(a);
                            finite_y.extend([l, h]);
                            if sx.usable(a) && sy.usable(l) && sy.usable(h) {
                                xs.push(a);
                                ys.extend([l, h]);
                            }
                        }
                    }
                }
                Series::Histogram(h) => {
                    finite_x.extend(h.values.iter().copied().filter(|v| v.is_finite()));
                    if let Some(b) = bars {
                        let heights: Vec<f64> = b.heights.iter().copied().filter(|&v| sy.usable(v)).collect();
                        finite_y.extend(b.heights.iter().copied());
                        if heights.iter().any(|&v| v > 0.0) {
                            xs.extend([b.edges[0], b.edges[b.edges.len() - 1]]);
                            ys.extend(heights);
                            if sy == Scale::Linear {
                                ys.push(0.0);
                                sticky_zero = true;
                            }
                        }
                    }
                }
            }
        }
        if finite_x.is_empty() && finite_y.is_empty() {
            return Err(PlotError::EmptyPlot { plot: name.to_owned() });
        }
        for (axis, scale, finite) in [(Axis::X, sx, &finite_x), (Axis::Y, sy, &finite_y)] {
            if scale == Scale::Log10 && !finite.iter().any(|&v| v > 0.0) {
                return Err(PlotError::NoPositiveData { plot: name.to_owned(), axis });
            }
        }
        if xs.is_empty() || ys.is_empty() {
            return Err(PlotError::EmptyPlot { plot: name.to_owned() });
        }
        let x = resolve_range(name, Axis::X, sx, self.x_range, &xs, false)?;
        let y = resolve_range(name, Axis::Y, sy, self.y_range, &ys, sticky_zero)?;
        Ok(Resolved { bars, x, y })
    }
}

/// The explicit range (checked) or the data's range with 5 % margins.
fn resolve_range(
    name: &str,
    axis: Axis,
    scale: Scale,
    explicit: Option<(f64, f64)>,
    values: &[f64],
    sticky_zero: bool,
) -> Result<(f64, f64), PlotError> {
    let invalid = |min: f64, max: f64, reason: &'static str| PlotError::InvalidRange {
        plot: name.to_owned(),
        axis,
        min,
        max,
        reason,
    };
    if let Some((min, max)) = explicit {
        if !(min.is_finite() && max.is_finite()) {
            return Err(invalid(min, max, "the ends must be finite"));
        }
        if min >= max {
            return Err(invalid(min, max, "min must be below max"));
        }
        if scale == Scale::Log10 && min <= 0.0 {
            return Err(invalid(min, max, "a log10 axis needs a positive minimum"));
        }
        if !(max - min).is_finite() {
            return Err(invalid(min, max, "the span overflows"));
        }
        return Ok((min, max));
    }
    let (lo, hi) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let (a, b) = (scale.forward(lo), scale.forward(hi));
    let (a, b) = if a == b {
        let pad = match scale {
            Scale::Log10 => 0.5,
            Scale::Linear if a == 0.0 => 1.0,
            Scale::Linear => 0.1 * a.abs(),
        };
        (a - pad, b + pad)
    } else {
        let pad = 0.05 * (b - a);
        let bottom = if sticky_zero && scale == Scale::Linear && lo == 0.0 { a } else { a - pad };
        (bottom, b + pad)
    };
    let (min, max) = (scale.inverse(a), scale.inverse(b));
    if !(min.is_finite() && max.is_finite() && min < max && (max - min).is_finite()) {
        return Err(invalid(lo, hi, "the data span more than the axis can hold"));
    }
    Ok((min, max))
}

/// Ticks for an axis of `length_px` whose labels do not collide.
fn choose_ticks(scale: Scale, range: (f64, f64), length_px: i64, horizontal: bool, metrics: &Metrics) -> Vec<Tick> {
    let style = metrics.text();
    let spacing = if horizontal { 30 } else { 22 } * metrics.s();
    let most = (length_px / spacing.max(1)).clamp(2, DEFAULT_MAX_TICKS as i64 + 3) as usize;
    let mut chosen = Vec::new();
    for max_ticks in (2..=most).rev() {
        let ticks = match scale {
            Scale::Linear => linear_ticks(range.0, range.1, max_ticks),
            Scale::Log10 => log10_ticks(range.0, range.1, max_ticks),
        };
        let labelled: Vec<(f64, (u32, u32))> = ticks
            .iter()
            .filter_map(|t| {
                Some((
                    fraction(scale, range.0, range.1, t.value) * length_px as f64,
                    style.measure(t.label.as_deref()?),
                ))
            })
            .collect();
        let fits = labelled.windows(2).all(|w| {
            let ((at_a, (width_a, height_a)), (at_b, (width_b, height_b))) = (w[0], w[1]);
            let distance = (at_b - at_a).abs();
            if horizontal {
                distance >= f64::from(width_a + width_b) / 2.0 + 3.0 * metrics.s() as f64
            } else {
                distance >= f64::from(height_a.max(height_b)) + metrics.s() as f64
            }
        });
        chosen = ticks;
        if fits {
            break;
        }
    }
    chosen
}

fn label_extent(ticks: &[Tick], style: &TextStyle) -> (i64, i64) {
    ticks
        .iter()
        .filter_map(|t| t.label.as_deref())
        .map(|l| style.measure(l))
        .fold((0, 0), |(w, h), (lw, lh)| (w.max(i64::from(lw)), h.max(i64::from(lh))))
}

/// Draws `plot` into `cell` of `canvas`; `name` is how errors name the plot.
pub(crate) fn render_plot(
    plot: &Plot,
    canvas: &mut Canvas,
    cell: PixelRect,
    name: &str,
    metrics: &Metrics,
) -> Result<PanelLayout, PlotError> {
    let resolved = plot.resolve(name)?;
    let text = metrics.text();
    let s = metrics.s();
    let too_small = || PlotError::PanelTooSmall { plot: name.to_owned(), width: cell.width(), height: cell.height() };
    let line_height = i64::from(text.measure("0").1);

    // Vertical margins depend on text heights only.
    let title_height = plot.title.as_deref().map_or(0, |t| i64::from(metrics.title().measure(t).1));
    let top = metrics.pad() + if title_height > 0 { title_height + metrics.label_pad() } else { line_height / 2 };
    let x_label_height = plot.x_label.as_deref().map_or(0, |t| i64::from(text.measure(t).1) + metrics.label_pad());
    let provisional_x = choose_ticks(plot.x_scale, resolved.x, i64::from(cell.width()) * 3 / 4, true, metrics);
    let x_tick_height = label_extent(&provisional_x, &text).1.max(line_height);
    let bottom = metrics.tick_major() + metrics.tick_pad() + x_tick_height + x_label_height + metrics.pad();
    let area_top = cell.top + top;
    let area_bottom = cell.bottom - bottom;
    if area_bottom - area_top < 4 * s {
        return Err(too_small());
    }
    let y_ticks = choose_ticks(plot.y_scale, resolved.y, area_bottom - area_top, false, metrics);
    let y_tick_width = label_extent(&y_ticks, &text).0;
    let y_label_width = plot
        .y_label
        .as_deref()
        .map_or(0, |t| i64::from(text.rotation(Rotation::Ccw90).measure(t).0) + metrics.label_pad());
    let left = metrics.pad() + y_label_width + y_tick_width + metrics.tick_pad() + metrics.tick_major();
    let area_left = cell.left + left;
    // The right margin makes room for half of the last x tick label; two passes settle it.
    let mut right = metrics.pad() + 2 * s;
    let mut x_ticks = Vec::new();
    for _ in 0..2 {
        let width = cell.right - right - area_left;
        if width < 4 * s {
            return Err(too_small());
        }
        x_ticks = choose_ticks(plot.x_scale, resolved.x, width, true, metrics);
        let overhang = x_ticks
            .iter()
            .filter_map(|t| {
                let label = t.label.as_deref()?;
                let at = fraction(plot.x_scale, resolved.x.0, resolved.x.1, t.value) * width as f64;
                Some(at + f64::from(text.measure(label).0) / 2.0 - width as f64)
            })
            .fold(0.0f64, f64::max);
        let needed = metrics.pad() + overhang.ceil() as i64;
        if needed <= right {
            break;
        }
        right = needed;
    }
    let area = PixelRect { left: area_left, top: area_top, right: cell.right - right, bottom: area_bottom };
    if area.width() < 4 * metrics.scale || area.height() < 4 * metrics.scale {
        return Err(too_small());
    }
    let x = AxisTransform {
        scale: plot.x_scale,
        min: resolved.x.0,
        max: resolved.x.1,
        start_px: area.left as f64 - 0.5,
        end_px: area.right as f64 + 0.5,
        ticks: x_ticks,
    };
    let y = AxisTransform {
        scale: plot.y_scale,
        min: resolved.y.0,
        max: resolved.y.1,
        start_px: area.bottom as f64 + 0.5,
        end_px: area.top as f64 - 0.5,
        ticks: y_ticks,
    };
    let mut layout = PanelLayout { cell, area, x, y, legend: None };

    // Grid, series, frame.
    if plot.grid {
        for tick in layout.x.ticks.iter().filter(|t| t.label.is_some()) {
            if let Some(px) = layout.x.to_pixel(tick.value) {
                let col = px.floor() as i64;
                canvas.fill_rect(
                    PixelRect { left: col, right: col + 1, top: area.top, bottom: area.bottom }.intersect(&area),
                    Color::LIGHT_GREY,
                );
            }
        }
        for tick in layout.y.ticks.iter().filter(|t| t.label.is_some()) {
            if let Some(py) = layout.y.to_pixel(tick.value) {
                let row = py.floor() as i64;
                canvas.fill_rect(
                    PixelRect { left: area.left, right: area.right, top: row, bottom: row + 1 }.intersect(&area),
                    Color::LIGHT_GREY,
                );
            }
        }
    }
    canvas.set_clip(Some(area));
    for (i, (series, bars)) in plot.series.iter().zip(&resolved.bars).enumerate() {
        draw_series(canvas, &layout, series, bars.as_ref(), series.color(i), metrics.antialias);
    }
    canvas.set_clip(None);
    let frame = PixelRect { left: area.left - 1, top: area.top - 1, right: area.right + 1, bottom: area.bottom + 1 };
    for edge in [
        PixelRect { bottom: frame.top + 1, ..frame },
        PixelRect { top: frame.bottom - 1, ..frame },
        PixelRect { right: frame.left + 1, ..frame },
        PixelRect { left: frame.right - 1, ..frame },
    ] {
        canvas.fill_rect(edge, metrics.ink);
    }

    // Ticks and their labels.
    for tick in &layout.x.ticks {
        let Some(px) = layout.x.to_pixel(tick.value) else { continue };
        let col = (px.floor() as i64).clamp(frame.left, frame.right - 1);
        let length = if tick.label.is_some() { metrics.tick_major() } else { metrics.tick_minor() };
        canvas.fill_rect(
            PixelRect { left: col, right: col + 1, top: frame.bottom, bottom: frame.bottom + length },
            metrics.ink,
        );
        if let Some(label) = &tick.label {
            let y_text = (frame.bottom + metrics.tick_major() + metrics.tick_pad()) as f64;
            canvas.draw_text(col as f64 + 0.5, y_text, label, &text.align(HAlign::Center, VAlign::Top));
        }
    }
    for tick in &layout.y.ticks {
        let Some(py) = layout.y.to_pixel(tick.value) else { continue };
        let row = (py.floor() as i64).clamp(frame.top, frame.bottom - 1);
        let length = if tick.label.is_some() { metrics.tick_major() } else { metrics.tick_minor() };
        canvas.fill_rect(
            PixelRect { left: frame.left - length, right: frame.left, top: row, bottom: row + 1 },
            metrics.ink,
        );
        if let Some(label) = &tick.label {
            let x_text = (frame.left - metrics.tick_major() - metrics.tick_pad()) as f64;
            canvas.draw_text(x_text, row as f64 + 0.5, label, &text.align(HAlign::Right, VAlign::Center));
        }
    }

    // Labels and title.
    let centre_x = (area.left + area.right) as f64 / 2.0;
    if let Some(label) = &plot.x_label {
        let y_text =
            (frame.bottom + metrics.tick_major() + metrics.tick_pad() + x_tick_height + metrics.label_pad()) as f64;
        canvas.draw_text(centre_x, y_text, label, &text.align(HAlign::Center, VAlign::Top));
    }
    if let Some(label) = &plot.y_label {
        let style = text.rotation(Rotation::Ccw90).align(HAlign::Left, VAlign::Center);
        canvas.draw_text((cell.left + metrics.pad()) as f64, (area.top + area.bottom) as f64 / 2.0, label, &style);
    }
    if let Some(title) = &plot.title {
        canvas.draw_text(
            centre_x,
            (cell.top + metrics.pad()) as f64,
            title,
            &metrics.title().align(HAlign::Center, VAlign::Top),
        );
    }
    layout.legend = draw_legend(canvas, plot, &layout, &resolved, metrics);
    Ok(layout)
}

/// Pixel points of a series (NaN pairs where it breaks).
fn pixel_points(layout: &PanelLayout, x: &[f64], y: &[f64]) -> Vec<(f64, f64)> {
    x.iter().zip(y).map(|(&a, &b)| layout.to_pixel(a, b).unwrap_or((f64::NAN, f64::NAN))).collect()
}

/// The pixel row of a histogram's base: zero on a linear y axis, below the frame on a log10 one.
fn bar_base(layout: &PanelLayout) -> f64 {
    match layout.y.scale {
        Scale::Linear => layout.y.to_pixel(0.0).unwrap_or(layout.y.start_px),
        Scale::Log10 => layout.y.start_px + 1.0,
    }
}

fn draw_series(
    canvas: &mut Canvas,
    layout: &PanelLayout,
    series: &Series,
    bars: Option<&Bars>,
    color: Color,
    antialias: bool,
) {
    match series {
        Series::Scatter(s) => {
            for (px, py) in pixel_points(layout, &s.x, &s.y) {
                canvas.draw_marker(px, py, s.marker, s.size_px, color, antialias);
            }
        }
        Series::Line(s) => {
            let stroke = Stroke::new(color, s.width_px).dashed(s.dashed).antialias(antialias);
            canvas.stroke_polyline(&pixel_points(layout, &s.x, &s.y), &stroke);
        }
        Series::Band(b) => {
            let upper = pixel_points(layout, &b.x, &b.hi);
            let lower = pixel_points(layout, &b.x, &b.lo);
            let usable: Vec<bool> = upper.iter().zip(&lower).map(|(u, l)| u.0.is_finite() && l.0.is_finite()).collect();
            let mut start = 0;
            while start < usable.len() {
                if !usable[start] {
                    start += 1;
                    continue;
                }
                let end = usable[start..].iter().position(|u| !u).map_or(usable.len(), |n| start + n);
                if end - start >= 2 {
                    let polygon: Vec<(f64, f64)> =
                        upper[start..end].iter().chain(lower[start..end].iter().rev()).copied().collect();
                    canvas.fill_polygon(&polygon, color, antialias);
                }
                start = end;
            }
        }
        Series::Histogram(h) => {
            let Some(bars) = bars else { return };
            let base = bar_base(layout);
            let xs: Vec<f64> = bars.edges.iter().map(|&e| layout.x.to_pixel(e).unwrap_or(f64::NAN)).collect();
            let tops: Vec<f64> = bars
                .heights
                .iter()
                .map(|&v| if v > 0.0 { layout.y.to_pixel(v).unwrap_or(base) } else { base })
                .collect();
            match h.kind {
                HistKind::Filled => {
                    for (i, &top) in tops.iter().enumerate() {
                        if bars.heights[i] > 0.0 {
                            canvas.fill_rect_snapped(xs[i], base, xs[i + 1], top, color);
                        }
                    }
                }
                HistKind::Step => {
                    let mut outline = vec![(xs[0], base)];
                    for (i, &top) in tops.iter().enumerate() {
                        outline.extend([(xs[i], top), (xs[i + 1], top)]);
                    }
                    outline.push((xs[xs.len() - 1], base));
                    let stroke = Stroke::new(color, h.line_width_px).antialias(antialias);
                    canvas.stroke_polyline(&outline, &stroke);
                }
            }
        }
    }
}

/// Sample positions (pixels) standing for where a series has ink, for choosing the legend corner.
fn ink_samples(layout: &PanelLayout, series: &Series, bars: Option<&Bars>) -> Vec<(f64, f64)> {
    let along = |points: &[(f64, f64)]| -> Vec<(f64, f64)> {
        let mut out: Vec<(f64, f64)> = points.iter().copied().filter(|p| p.0.is_finite()).collect();
        for w in points.windows(2) {
            if w[0].0.is_finite() && w[1].0.is_finite() {
                out.extend((1..8).map(|k| {
                    let t = f64::from(k) / 8.0;
                    (w[0].0 + t * (w[1].0 - w[0].0), w[0].1 + t * (w[1].1 - w[0].1))
                }));
            }
        }
        out
    };
    match series {
        Series::Scatter(s) => pixel_points(layout, &s.x, &s.y),
        Series::Line(s) => along(&pixel_points(layout, &s.x, &s.y)),
        Series::Band(b) => {
            let mut out = along(&pixel_points(layout, &b.x, &b.hi));
            out.extend(along(&pixel_points(layout, &b.x, &b.lo)));
            out
        }
        Series::Histogram(_) => {
            let Some(bars) = bars else { return Vec::new() };
            let base = bar_base(layout);
            let mut out = Vec::new();
            for (i, &v) in bars.heights.iter().enumerate() {
                let (Some(x0), Some(x1)) = (layout.x.to_pixel(bars.edges[i]), layout.x.to_pixel(bars.edges[i + 1]))
                else {
                    continue;
                };
                let top = if v > 0.0 { layout.y.to_pixel(v).unwrap_or(base) } else { base };
                for a in 0..4 {
                    for b in 0..=4 {
                        let (fa, fb) = (f64::from(a) / 3.0, f64::from(b) / 4.0);
                        out.push((x0 + fa * (x1 - x0), top + fb * (base - top)));
                    }
                }
            }
            out
        }
    }
}

fn draw_legend(
    canvas: &mut Canvas,
    plot: &Plot,
    layout: &PanelLayout,
    resolved: &Resolved,
    metrics: &Metrics,
) -> Option<PixelRect> {
    if plot.legend == LegendPosition::Hidden {
        return None;
    }
    let entries: Vec<(usize, &Series, &str)> =
        plot.series.iter().enumerate().filter_map(|(i, s)| Some((i, s, s.label()?))).collect();
    if entries.is_empty() {
        return None;
    }
    let s = metrics.s();
    let text = metrics.text();
    let inner = 2 * s;
    let swatch = 10 * s;
    let sizes: Vec<(i64, i64)> =
        entries.iter().map(|(_, _, l)| text.measure(l)).map(|(w, h)| (i64::from(w), i64::from(h))).collect();
    let row_heights: Vec<i64> = sizes.iter().map(|&(_, h)| h + s).collect();
    let width = inner + swatch + 2 * s + sizes.iter().map(|&(w, _)| w).max().unwrap_or(0) + inner;
    let height = 2 * inner + row_heights.iter().sum::<i64>() - s;
    let area = layout.area;
    let inset = 3 * s;
    let corner = |position: LegendPosition| {
        let left = match position {
            LegendPosition::UpperLeft | LegendPosition::LowerLeft => area.left + inset,
            _ => area.right - inset - width,
        };
        let top = match position {
            LegendPosition::UpperLeft | LegendPosition::UpperRight => area.top + inset,
            _ => area.bottom - inset - height,
        };
        PixelRect::from_size(left, top, width, height)
    };
    let position = match plot.legend {
        LegendPosition::Best => {
            let samples: Vec<(f64, f64)> = plot
                .series
                .iter()
                .zip(&resolved.bars)
                .flat_map(|(series, bars)| ink_samples(layout, series, bars.as_ref()))
                .collect();
            let candidates = [
                LegendPosition::UpperRight,
                LegendPosition::UpperLeft,
                LegendPosition::LowerLeft,
                LegendPosition::LowerRight,
            ];
            let covered = |p: LegendPosition| {
                let r = corner(p);
                samples
                    .iter()
                    .filter(|(x, y)| {
                        *x >= r.left as f64 && *x < r.right as f64 && *y >= r.top as f64 && *y < r.bottom as f64
                    })
                    .count()
            };
            candidates.into_iter().min_by_key(|&p| covered(p)).unwrap_or(LegendPosition::UpperRight)
        }
        other => other,
    };
    let rect = corner(position);
    if rect.left < area.left || rect.top < area.top || rect.right > area.right || rect.bottom > area.bottom {
        return None; // no room for it
    }
    canvas.fill_rect(rect, Color::rgba(255, 255, 255, 217));
    let border = Color::rgb(0xcc, 0xcc, 0xcc);
    for edge in [
        PixelRect { bottom: rect.top + 1, ..rect },
        PixelRect { top: rect.bottom - 1, ..rect },
        PixelRect { right: rect.left + 1, ..rect },
        PixelRect { left: rect.right - 1, ..rect },
    ] {
        canvas.fill_rect(edge, border);
    }
    let mut row_top = rect.top + inner;
    for (((index, series, label), (_, label_height)), row_height) in entries.iter().zip(&sizes).zip(&row_heights) {
        let color = series.color(*index);
        let middle = row_top as f64 + *label_height as f64 / 2.0 - 0.5 * s as f64;
        let (x0, x1) = ((rect.left + inner) as f64, (rect.left + inner + swatch) as f64);
        let box_half = (3 * s) as f64;
        match series {
            Series::Scatter(sc) => {
                let size = sc.size_px.min((4 * s) as f64 + 2.0);
                canvas.draw_marker((x0 + x1) / 2.0, middle, sc.marker, size, color, metrics.antialias);
            }
            Series::Line(l) => {
                let stroke =
                    Stroke::new(color, l.width_px.min((3 * s) as f64)).dashed(l.dashed).antialias(metrics.antialias);
                canvas.stroke_polyline(&[(x0 + 1.0, middle), (x1 - 1.0, middle)], &stroke);
            }
            Series::Band(_) => canvas.fill_rect_snapped(x0, middle - box_half, x1, middle + box_half, color),
            Series::Histogram(h) => match h.kind {
                HistKind::Filled => canvas.fill_rect_snapped(x0, middle - box_half, x1, middle + box_half, color),
                HistKind::Step => {
                    let (t, b) = (middle - box_half, middle + box_half);
                    let stroke = Stroke::new(color, h.line_width_px.min((2 * s) as f64)).antialias(metrics.antialias);
                    canvas.stroke_polyline(&[(x0 + 1.0, b), (x0 + 1.0, t), (x1 - 1.0, t), (x1 - 1.0, b)], &stroke);
                }
            },
        }
        canvas.draw_text(x1 + (2 * s) as f64, row_top as f64, label, &text.align(HAlign::Left, VAlign::Top));
        row_top += row_height;
    }
    Some(rect)
}
