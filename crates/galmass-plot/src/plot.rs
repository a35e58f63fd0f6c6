//! One panel: axes (linear or log10, automatic or explicit ranges), ticks, optional grid, series, a legend, and a
//! colour bar for a heat map.
//!
//! Automatic ranges span the drawable data with 5 % margins (in log10 on log axes); histograms keep zero as the
//! bottom of a linear y axis and heat maps fill the axes exactly. Series are drawn in the order they were added,
//! clipped to the data area. plotters builds the chart (label areas, mesh, tick marks and tick labels); this module
//! chooses the sizes and draws the series, frame, labels and legend in the house style.
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

use plotters::backend::BitMapBackend;
use plotters::chart::ChartBuilder;
use plotters::coord::Shift;
use plotters::drawing::DrawingArea;
use plotters::style::ShapeStyle;

use crate::axis::{ticks, AxisCoord, Scale, Tick, MIN_RELATIVE_SPAN};
use crate::color::Color;
use crate::draw::draw_colorbar;
use crate::error::{Axis, PlotError};
use crate::raster::PixelRect;
use crate::series::{Bars, Series};
use crate::text::{HAlign, Label, Rotation, VAlign};

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
    pub(crate) title: Option<String>,
    pub(crate) x_label: Option<String>,
    pub(crate) y_label: Option<String>,
    pub(crate) x_scale: Scale,
    pub(crate) y_scale: Scale,
    pub(crate) x_range: Option<(f64, f64)>,
    pub(crate) y_range: Option<(f64, f64)>,
    pub(crate) grid: bool,
    pub(crate) legend: LegendPosition,
    pub(crate) series: Vec<Series>,
}

impl Plot {
    /// An empty plot: linear axes with automatic ranges, no grid, legend in the best corner.
    pub fn new() -> Plot {
        Plot::default()
    }

    /// Title above the panel (markup of [`crate::text`]).
    pub fn title(self, title: impl Into<String>) -> Plot {
        Plot { title: Some(title.into()), ..self }
    }

    /// Label under the x axis.
    pub fn x_label(self, label: impl Into<String>) -> Plot {
        Plot { x_label: Some(label.into()), ..self }
    }

    /// Label beside the y axis (drawn rotated, reading upwards).
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

    /// How many points (histogram values, heat-map cells) will not be drawn because they are non-finite,
    /// non-positive on a log10 axis or colour scale, or outside a histogram's explicit edges. They are skipped,
    /// never an error.
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
    /// Pixel coordinate of `min` (the first column of the data area for x, its last row for y).
    pub start_px: f64,
    /// Pixel coordinate of `max` (the last column for x, the first row for y).
    pub end_px: f64,
    /// The ticks drawn: labelled major ticks, then unlabelled minor ones.
    pub ticks: Vec<Tick>,
}

impl AxisTransform {
    /// The pixel coordinate of `v` (a value inside pixel `floor(px)`); `None` when `v` cannot be drawn on this
    /// scale or maps outside f64.
    pub fn to_pixel(&self, v: f64) -> Option<f64> {
        if !self.scale.usable(v) {
            return None;
        }
        let f = self.scale.fraction(self.min, self.max, v);
        let px = self.start_px + f * (self.end_px - self.start_px);
        px.is_finite().then_some(px)
    }
}

/// Where a panel landed on the figure and how it maps data to pixels.
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
    /// The colour bar (its gradient, inside its frame), when the plot has a heat map with one.
    pub colorbar: Option<PixelRect>,
}

impl PanelLayout {
    /// The pixel position of data point `(x, y)`, `None` when it cannot be drawn.
    pub fn to_pixel(&self, x: f64, y: f64) -> Option<(f64, f64)> {
        Some((self.x.to_pixel(x)?, self.y.to_pixel(y)?))
    }
}

/// Sizes and colours shared by the panels of one figure.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Style {
    /// Tick-label font size in pixels; every other size follows it.
    pub(crate) font_px: f64,
    pub(crate) ink: Color,
    pub(crate) background: Color,
}

impl Style {
    pub(crate) fn tick_px(&self) -> i32 {
        (0.35 * self.font_px).round().max(2.0) as i32
    }
    pub(crate) fn minor_tick_px(&self) -> i32 {
        (0.2 * self.font_px).round().max(1.0) as i32
    }
    pub(crate) fn pad(&self) -> f64 {
        0.45 * self.font_px
    }
    pub(crate) fn title_px(&self) -> f64 {
        1.2 * self.font_px
    }
    pub(crate) fn label_px(&self) -> f64 {
        1.07 * self.font_px
    }
    pub(crate) fn legend_px(&self) -> f64 {
        0.93 * self.font_px
    }
}

/// The data of a plot once the scales are known: histogram bars computed, ranges resolved.
pub(crate) struct Resolved {
    pub(crate) bars: Vec<Option<Bars>>,
    pub(crate) x: (f64, f64),
    pub(crate) y: (f64, f64),
    /// The heat map with a colour bar and its colour range.
    pub(crate) colorbar: Option<(usize, (f64, f64))>,
    /// Colour ranges of the heat maps (`None` for other series).
    pub(crate) color_ranges: Vec<Option<(f64, f64)>>,
}

/// Finite data of one axis (for the log10 checks), drawable data to pad, and drawable data kept tight (heat maps).
#[derive(Default)]
pub(crate) struct AxisData {
    pub(crate) finite: Vec<f64>,
    pub(crate) padded: Vec<f64>,
    pub(crate) tight: Vec<f64>,
}

impl Plot {
    fn resolve(&self, name: &str) -> Result<Resolved, PlotError> {
        if self.series.is_empty() {
            return Err(PlotError::EmptyPlot { plot: name.to_owned() });
        }
        let (sx, sy) = (self.x_scale, self.y_scale);
        let mut bars = Vec::with_capacity(self.series.len());
        let mut color_ranges = Vec::with_capacity(self.series.len());
        let mut colorbar = None;
        for (i, s) in self.series.iter().enumerate() {
            bars.push(match s {
                Series::Histogram(h) => h.bars(sx, &s.name(i))?,
                _ => None,
            });
            color_ranges.push(match s {
                Series::HeatMap(h) => {
                    let range = h.resolved_value_range();
                    if range.is_none() && h.color_scale == Scale::Log10 && h.values.iter().any(|v| v.is_finite()) {
                        return Err(PlotError::NoPositiveData { plot: name.to_owned(), axis: Axis::Color });
                    }
                    if let (Some(range), true, None) = (range, h.colorbar.is_some(), colorbar) {
                        colorbar = Some((i, range));
                    }
                    range
                }
                _ => None,
            });
        }
        let (mut x, mut y) = (AxisData::default(), AxisData::default());
        let mut sticky_zero = false;
        for ((s, bars), color_range) in self.series.iter().zip(&bars).zip(&color_ranges) {
            match s {
                Series::Scatter(crate::series::Scatter { x: xs, y: ys, .. })
                | Series::Line(crate::series::Line { x: xs, y: ys, .. }) => {
                    for (&a, &b) in xs.iter().zip(ys) {
                        if a.is_finite() && b.is_finite() {
                            x.finite.push(a);
                            y.finite.push(b);
                            if sx.usable(a) && sy.usable(b) {
                                x.padded.push(a);
                                y.padded.push(b);
                            }
                        }
                    }
                }
                Series::Band(band) => {
                    for ((&a, &l), &h) in band.x.iter().zip(&band.lo).zip(&band.hi) {
                        if a.is_finite() && l.is_finite() && h.is_finite() {
                            x.finite.push(a);
                            y.finite.extend([l, h]);
                            if sx.usable(a) && sy.usable(l) && sy.usable(h) {
                                x.padded.push(a);
                                y.padded.extend([l, h]);
                            }
                        }
                    }
                }
                Series::Histogram(h) => {
                    x.finite.extend(h.values.iter().copied().filter(|v| v.is_finite()));
                    if let Some(b) = bars {
                        let heights: Vec<f64> = b.heights.iter().copied().filter(|&v| sy.usable(v)).collect();
                        y.finite.extend(b.heights.iter().copied());
                        if heights.iter().any(|&v| v > 0.0) {
                            x.padded.extend([b.edges[0], b.edges[b.edges.len() - 1]]);
                            y.padded.extend(heights);
                            if sy == Scale::Linear {
                                y.padded.push(0.0);
                                sticky_zero = true;
                            }
                        }
                    }
                }
                Series::HeatMap(h) => {
                    let [x0, x1, y0, y1] = h.bounds();
                    x.finite.extend([x0, x1]);
                    y.finite.extend([y0, y1]);
                    if color_range.is_some() && sx.usable(x0) && sx.usable(x1) && sy.usable(y0) && sy.usable(y1) {
                        x.tight.extend([x0, x1]);
                        y.tight.extend([y0, y1]);
                    }
                }
            }
        }
        if x.finite.is_empty() && y.finite.is_empty() {
            return Err(PlotError::EmptyPlot { plot: name.to_owned() });
        }
        for (axis, scale, data) in [(Axis::X, sx, &x), (Axis::Y, sy, &y)] {
            if scale == Scale::Log10 && !data.finite.iter().any(|&v| v > 0.0) {
                return Err(PlotError::NoPositiveData { plot: name.to_owned(), axis });
            }
        }
        let no_data = |d: &AxisData| d.padded.is_empty() && d.tight.is_empty();
        if no_data(&x) || no_data(&y) {
            return Err(PlotError::EmptyPlot { plot: name.to_owned() });
        }
        let x = resolve_range(name, Axis::X, sx, self.x_range, &x, false)?;
        let y = resolve_range(name, Axis::Y, sy, self.y_range, &y, sticky_zero)?;
        Ok(Resolved { bars, x, y, colorbar, color_ranges })
    }
}

/// Checks an explicit range: finite, ordered, positive on log10, a span that can be labelled.
pub(crate) fn check_range(
    name: &str,
    axis: Axis,
    scale: Scale,
    (min, max): (f64, f64),
) -> Result<(f64, f64), PlotError> {
    let invalid = |reason: &'static str| PlotError::InvalidRange { plot: name.to_owned(), axis, min, max, reason };
    if !(min.is_finite() && max.is_finite()) {
        return Err(invalid("the ends must be finite"));
    }
    if min >= max {
        return Err(invalid("min must be below max"));
    }
    if scale == Scale::Log10 && min <= 0.0 {
        return Err(invalid("a log10 axis needs a positive minimum"));
    }
    if !(max - min).is_finite() {
        return Err(invalid("the span overflows"));
    }
    if scale == Scale::Linear && max - min <= MIN_RELATIVE_SPAN * min.abs().max(max.abs()) {
        return Err(invalid("the span is too small to label"));
    }
    Ok((min, max))
}

/// The explicit range (checked) or the data's range: padded values with 5 % margins, tight values as they are.
pub(crate) fn resolve_range(
    name: &str,
    axis: Axis,
    scale: Scale,
    explicit: Option<(f64, f64)>,
    data: &AxisData,
    sticky_zero: bool,
) -> Result<(f64, f64), PlotError> {
    if let Some(range) = explicit {
        return check_range(name, axis, scale, range);
    }
    let extremes =
        |values: &[f64]| values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let (mut a, mut b) = (f64::INFINITY, f64::NEG_INFINITY);
    let (lo, hi) = extremes(&data.padded);
    if lo <= hi {
        let (ta, tb) = (scale.forward(lo), scale.forward(hi));
        (a, b) = if ta == tb {
            let pad = match scale {
                Scale::Log10 => 0.5,
                Scale::Linear if ta == 0.0 => 1.0,
                Scale::Linear => 0.1 * ta.abs(),
            };
            (ta - pad, tb + pad)
        } else {
            let pad = 0.05 * (tb - ta);
            let bottom = if sticky_zero && scale == Scale::Linear && lo == 0.0 { ta } else { ta - pad };
            (bottom, tb + pad)
        };
    }
    let (lo, hi) = extremes(&data.tight);
    if lo <= hi {
        a = a.min(scale.forward(lo));
        b = b.max(scale.forward(hi));
    }
    let (min, max) = (scale.inverse(a), scale.inverse(b));
    check_range(name, axis, scale, (min, max)).map_err(|_| PlotError::InvalidRange {
        plot: name.to_owned(),
        axis,
        min,
        max,
        reason: "the data span more than the axis can hold",
    })
}

/// What step 1 of drawing a panel leaves for the series and decorations.
pub(crate) struct Prepared {
    pub(crate) layout: PanelLayout,
    pub(crate) resolved: Resolved,
    pub(crate) minor_x: Vec<f64>,
    pub(crate) minor_y: Vec<f64>,
}

/// Ticks for an axis of `length_px` whose labels do not collide.
pub(crate) fn choose_ticks(
    scale: Scale,
    range: (f64, f64),
    length_px: f64,
    horizontal: bool,
    style: &Style,
) -> (Vec<Tick>, Vec<f64>) {
    let f = style.font_px;
    let most = ((length_px / if horizontal { 3.5 * f } else { 3.0 * f }) as usize).clamp(2, crate::axis::MAX_TICKS);
    let mut fallback = None;
    for n in (2..=most).rev() {
        let (major, minor) = ticks(scale, range.0, range.1, n);
        let positions: Vec<(f64, f64)> = major
            .iter()
            .filter_map(|t| {
                let at = scale.fraction(range.0, range.1, t.value) * length_px;
                let extent = if horizontal { Label::new(t.label.as_deref()?, f).width } else { 1.3 * f };
                Some((at, extent))
            })
            .collect();
        let fits = positions.windows(2).all(|w| (w[1].0 - w[0].0).abs() >= (w[0].1 + w[1].1) / 2.0 + 0.6 * f);
        if fits && major.len() >= 2 {
            return (major, minor);
        }
        fallback.get_or_insert((major, minor));
    }
    fallback.unwrap_or_default()
}

/// Widest tick label.
pub(crate) fn widest(ticks: &[Tick], font_px: f64) -> f64 {
    ticks.iter().filter_map(|t| t.label.as_deref()).map(|l| Label::new(l, font_px).width).fold(0.0, f64::max)
}

pub(crate) fn rect_of(ranges: &(std::ops::Range<i32>, std::ops::Range<i32>)) -> PixelRect {
    PixelRect {
        left: i64::from(ranges.0.start),
        top: i64::from(ranges.1.start),
        right: i64::from(ranges.0.end),
        bottom: i64::from(ranges.1.end),
    }
}

/// Step 1: lays the panel out in `cell`, draws its mesh, tick labels, axis labels, title and colour bar.
pub(crate) fn prepare(
    root: &DrawingArea<BitMapBackend<'_>, Shift>,
    plot: &Plot,
    cell: PixelRect,
    name: &str,
    style: &Style,
) -> Result<Prepared, PlotError> {
    let resolved = plot.resolve(name)?;
    let too_small = || PlotError::PanelTooSmall { plot: name.to_owned(), width: cell.width(), height: cell.height() };
    let f = style.font_px;
    let pad = style.pad();
    let tick = style.tick_px();
    let title = plot.title.as_deref().map(|t| Label::new(t, style.title_px()));
    let x_label = plot.x_label.as_deref().map(|t| Label::new(t, style.label_px()));
    let y_label = plot.y_label.as_deref().map(|t| Label::new(t, style.label_px()));

    // Colour bar: gap, bar, ticks and labels, its own rotated label.
    let colorbar = match resolved.colorbar {
        Some((index, range)) => match &plot.series[index] {
            Series::HeatMap(map) => {
                let (major, minor) = ticks(map.color_scale, range.0, range.1, 6);
                let label = map.colorbar.as_deref().map(|t| Label::new(t, style.label_px()));
                let label_w = label.as_ref().map_or(0.0, |l| l.height() + pad);
                let width = 0.9 * f + 1.1 * f + 2.0 * f64::from(tick) + widest(&major, f) + pad + label_w;
                Some((map, range, major, minor, label, width))
            }
            _ => None,
        },
        None => None,
    };

    let top = (title.as_ref().map_or(0.0, |t| t.height() + 2.0 * pad) + 0.6 * f).ceil();
    let bottom_labels = x_label.as_ref().map_or(0.0, |l| l.height() + pad) + pad;
    let left_labels = y_label.as_ref().map_or(0.0, |l| l.height() + pad) + pad;
    let x_tick_area = (2.0 * f64::from(tick) + 1.05 * f).ceil();
    let colorbar_w = colorbar.as_ref().map_or(0.0, |c| c.5);

    // Two passes: ticks for the estimated lengths, then for the lengths their labels leave.
    let (mut x_ticks, mut y_ticks) = ((Vec::new(), Vec::new()), (Vec::new(), Vec::new()));
    let (mut y_tick_area, mut right) = (3.0 * f, 0.6 * f);
    for _ in 0..2 {
        let width = f64::from(cell.width()) - left_labels - y_tick_area - right - colorbar_w;
        let height = f64::from(cell.height()) - top - x_tick_area - bottom_labels;
        if width < 2.0 * f || height < 2.0 * f {
            return Err(too_small());
        }
        x_ticks = choose_ticks(plot.x_scale, resolved.x, width, true, style);
        y_ticks = choose_ticks(plot.y_scale, resolved.y, height, false, style);
        y_tick_area = (2.0 * f64::from(tick) + widest(&y_ticks.0, f) + 0.3 * f).ceil();
        // The last x label may hang over the right end.
        let overhang = x_ticks
            .0
            .iter()
            .filter_map(|t| {
                let at = plot.x_scale.fraction(resolved.x.0, resolved.x.1, t.value) * width;
                Some(Label::new(t.label.as_deref()?, f).width / 2.0 - (width - at))
            })
            .fold(0.0f64, f64::max);
        right = (0.6 * f).max(overhang + 2.0).ceil();
    }

    let cell_area = root.clone().shrink((cell.left as i32, cell.top as i32), (cell.width(), cell.height()));
    let x_coord = AxisCoord::new(plot.x_scale, resolved.x.0, resolved.x.1, x_ticks.0.clone());
    let y_coord = AxisCoord::new(plot.y_scale, resolved.y.0, resolved.y.1, y_ticks.0.clone());
    let mut chart = ChartBuilder::on(&cell_area)
        .margin_top(top as i32)
        .margin_bottom(bottom_labels.ceil() as i32)
        .margin_left(left_labels.ceil() as i32)
        .margin_right((right + colorbar_w).ceil() as i32)
        .x_label_area_size(x_tick_area as i32)
        .y_label_area_size(y_tick_area as i32)
        .build_cartesian_2d(x_coord, y_coord)
        .map_err(PlotError::draw)?;
    let area = rect_of(&chart.plotting_area().get_pixel_range());
    if area.width() < 8 || area.height() < 8 {
        return Err(too_small());
    }
    let ink = style.ink.to_plotters();
    let grid = if plot.grid { Color::rgb(0xe0, 0xe0, 0xe0) } else { Color::TRANSPARENT };
    chart
        .configure_mesh()
        .label_style(crate::text::style(f, style.ink))
        .axis_style(ShapeStyle { color: ink, filled: false, stroke_width: 1 })
        .bold_line_style(ShapeStyle { color: grid.to_plotters(), filled: false, stroke_width: 1 })
        .light_line_style(ShapeStyle { color: Color::TRANSPARENT.to_plotters(), filled: false, stroke_width: 1 })
        .set_all_tick_mark_size(tick)
        .y_label_offset(y_label_offset(f))
        .draw()
        .map_err(PlotError::draw)?;

    let x = AxisTransform {
        scale: plot.x_scale,
        min: resolved.x.0,
        max: resolved.x.1,
        start_px: area.left as f64,
        end_px: (area.right - 1) as f64,
        ticks: with_minor(x_ticks.0, &x_ticks.1),
    };
    let y = AxisTransform {
        scale: plot.y_scale,
        min: resolved.y.0,
        max: resolved.y.1,
        start_px: (area.bottom - 1) as f64,
        end_px: area.top as f64,
        ticks: with_minor(y_ticks.0, &y_ticks.1),
    };

    // Axis labels and title.
    let centre_x = (area.left + area.right) as f64 / 2.0;
    if let Some(label) = &x_label {
        let y_text = area.bottom as f64 + x_tick_area + 0.5 * pad;
        label.draw(root, (centre_x, y_text), (HAlign::Center, VAlign::Top), Rotation::None, style.ink)?;
    }
    if let Some(label) = &y_label {
        let at = (cell.left as f64 + pad, (area.top + area.bottom) as f64 / 2.0);
        label.draw(root, at, (HAlign::Center, VAlign::Top), Rotation::Ccw90, style.ink)?;
    }
    if let Some(title) = &title {
        title.draw(
            root,
            (centre_x, cell.top as f64 + pad),
            (HAlign::Center, VAlign::Top),
            Rotation::None,
            style.ink,
        )?;
    }

    let colorbar_rect = match colorbar {
        Some((map, range, major, minor, label, _)) => {
            Some(draw_colorbar(root, map, range, (major, minor), label.as_ref(), area, style)?)
        }
        None => None,
    };
    let layout = PanelLayout { cell, area, x, y, legend: None, colorbar: colorbar_rect };
    Ok(Prepared { layout, resolved, minor_x: x_ticks.1, minor_y: y_ticks.1 })
}

/// Shift that centres plotters' y tick labels on their ticks. Its `ab_glyph` text puts the baseline half a font
/// size below the top of a layout box `size / 1.24` tall, so digits (0.63 of the size tall) anchored at the box's
/// centre sit 0.22 of the size too high.
pub(crate) fn y_label_offset(font_px: f64) -> i32 {
    (font_px / 1.24 / 2.0 - font_px / 2.0 + 0.5 * 0.626 * font_px).round() as i32
}

pub(crate) fn with_minor(mut major: Vec<Tick>, minor: &[f64]) -> Vec<Tick> {
    major.extend(minor.iter().map(|&value| Tick { value, label: None }));
    major
}
