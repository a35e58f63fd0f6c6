//! The raster canvas every figure is drawn on: 8-bit RGBA pixels, "over" alpha blending, optional anti-aliasing,
//! and the primitives plots are made of (rectangles, strokes with width and dashes, filled polygons, markers, text).
//!
//! Coordinates are pixels with the origin at the top-left corner of the top-left pixel, x to the right and y down;
//! pixel `(i, j)` covers `[i, i + 1) x [j, j + 1)` and its centre is `(i + 0.5, j + 0.5)`. Drawing outside the canvas
//! (or outside the clip rectangle) is silently cut; coordinates may be arbitrarily large or NaN without a panic.
//!
//! ```
//! use galmass_plot::canvas::{Marker, Stroke};
//! use galmass_plot::{Canvas, Color};
//! let mut canvas = Canvas::new(64, 32, Color::WHITE).unwrap();
//! canvas.stroke_polyline(&[(4.0, 16.0), (60.0, 16.0)], &Stroke::new(Color::TAB_BLUE, 3.0));
//! canvas.draw_marker(32.0, 8.0, Marker::Circle, 6.0, Color::TAB_RED, true);
//! assert_eq!(canvas.pixel(30, 16), Some(Color::TAB_BLUE));
//! assert_eq!(canvas.pixel(32, 8), Some(Color::TAB_RED));
//! let png = canvas.to_png_bytes().unwrap();
//! assert_eq!(&png[1..4], b"PNG");
//! ```

use std::path::Path;

use crate::color::Color;
use crate::error::PlotError;
use crate::output;
use crate::text::{self, TextStyle};

/// The largest canvas accepted, in pixels (width x height): 1 GiB of RGBA.
pub const MAX_PIXELS: u64 = 1 << 28;

/// A rectangle of whole pixels: columns `left..right`, rows `top..bottom` (right and bottom exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PixelRect {
    /// First column.
    pub left: i64,
    /// First row.
    pub top: i64,
    /// One past the last column.
    pub right: i64,
    /// One past the last row.
    pub bottom: i64,
}

impl PixelRect {
    /// The rectangle with top-left corner `(left, top)` and the given size.
    pub fn from_size(left: i64, top: i64, width: i64, height: i64) -> PixelRect {
        PixelRect { left, top, right: left.saturating_add(width), bottom: top.saturating_add(height) }
    }

    /// Width in pixels (0 when empty).
    pub fn width(&self) -> u32 {
        u32::try_from((self.right - self.left).max(0)).unwrap_or(u32::MAX)
    }

    /// Height in pixels (0 when empty).
    pub fn height(&self) -> u32 {
        u32::try_from((self.bottom - self.top).max(0)).unwrap_or(u32::MAX)
    }

    /// Whether the rectangle holds no pixel.
    pub fn is_empty(&self) -> bool {
        self.right <= self.left || self.bottom <= self.top
    }

    /// Whether pixel `(x, y)` lies inside.
    pub fn contains(&self, x: i64, y: i64) -> bool {
        x >= self.left && x < self.right && y >= self.top && y < self.bottom
    }

    /// The overlap of two rectangles (possibly empty).
    pub fn intersect(&self, other: &PixelRect) -> PixelRect {
        PixelRect {
            left: self.left.max(other.left),
            top: self.top.max(other.top),
            right: self.right.min(other.right),
            bottom: self.bottom.min(other.bottom),
        }
    }
}

/// Marker shapes of scatter series; all are filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Marker {
    /// A disc.
    Circle,
    /// An axis-aligned square.
    Square,
    /// A triangle pointing up.
    Triangle,
    /// A square turned by 45 degrees.
    Diamond,
}

/// A dash pattern: `on_px` drawn, `off_px` skipped, along the stroke's length (round caps lengthen each dash by
/// the stroke width).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dash {
    /// Length of each drawn piece, in pixels.
    pub on_px: f64,
    /// Length of each gap, in pixels.
    pub off_px: f64,
}

impl Dash {
    /// The pattern galmass uses for dashed lines of width `width_px`: dashes about three widths long with gaps of
    /// about two widths, as seen after the round caps.
    pub fn for_width(width_px: f64) -> Dash {
        let w = if width_px.is_finite() { width_px.max(0.5) } else { 1.0 };
        Dash { on_px: 2.0 * w + 3.0, off_px: 3.0 * w + 2.0 }
    }
}

/// How a polyline is stroked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stroke {
    /// Colour (its alpha is applied once, where pieces overlap too).
    pub color: Color,
    /// Width in pixels.
    pub width_px: f64,
    /// Dash pattern, `None` for a solid line.
    pub dash: Option<Dash>,
    /// Smooth edges (coverage-weighted) or hard ones.
    pub antialias: bool,
}

impl Stroke {
    /// A solid anti-aliased stroke.
    pub fn new(color: Color, width_px: f64) -> Stroke {
        Stroke { color, width_px, dash: None, antialias: true }
    }

    /// Dashed with [`Dash::for_width`], or solid.
    pub fn dashed(self, dashed: bool) -> Stroke {
        Stroke { dash: dashed.then(|| Dash::for_width(self.width_px)), ..self }
    }

    /// Anti-aliased or not.
    pub fn antialias(self, antialias: bool) -> Stroke {
        Stroke { antialias, ..self }
    }
}

/// Per-pixel coverage in [0, 1] over a rectangle of the canvas, blended in one pass so that overlapping pieces of
/// one shape do not darken each other.
struct Mask {
    rect: PixelRect,
    coverage: Vec<f32>,
}

impl Mask {
    fn new(rect: PixelRect) -> Mask {
        let n = rect.width() as usize * rect.height() as usize;
        Mask { rect, coverage: vec![0.0; n] }
    }

    fn index(&self, x: i64, y: i64) -> Option<usize> {
        self.rect
            .contains(x, y)
            .then(|| ((y - self.rect.top) as usize) * self.rect.width() as usize + (x - self.rect.left) as usize)
    }

    fn max_at(&mut self, x: i64, y: i64, value: f64) {
        if let Some(i) = self.index(x, y) {
            let v = value.clamp(0.0, 1.0) as f32;
            if v > self.coverage[i] {
                self.coverage[i] = v;
            }
        }
    }

    fn add_at(&mut self, x: i64, y: i64, value: f64) {
        if let Some(i) = self.index(x, y) {
            self.coverage[i] = (self.coverage[i] + value as f32).min(1.0);
        }
    }
}

/// An RGBA raster with a clip rectangle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canvas {
    width: u32,
    height: u32,
    rgba: Vec<u8>,
    clip: PixelRect,
}

impl Canvas {
    /// A canvas filled with `background`. Errors for a zero side or more than [`MAX_PIXELS`] pixels.
    pub fn new(width: u32, height: u32, background: Color) -> Result<Canvas, PlotError> {
        if width == 0 || height == 0 {
            return Err(PlotError::ZeroSizeCanvas { width, height });
        }
        let n_pixels = u64::from(width) * u64::from(height);
        if n_pixels > MAX_PIXELS {
            return Err(PlotError::CanvasTooLarge { width, height, max_pixels: MAX_PIXELS });
        }
        let rgba = [background.r, background.g, background.b, background.a].repeat(n_pixels as usize);
        Ok(Canvas { width, height, rgba, clip: PixelRect::from_size(0, 0, width.into(), height.into()) })
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The whole canvas as a rectangle.
    pub fn bounds(&self) -> PixelRect {
        PixelRect::from_size(0, 0, self.width.into(), self.height.into())
    }

    /// The colour of pixel `(x, y)`, `None` outside the canvas.
    pub fn pixel(&self, x: u32, y: u32) -> Option<Color> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let i = 4 * (y as usize * self.width as usize + x as usize);
        Some(Color::rgba(self.rgba[i], self.rgba[i + 1], self.rgba[i + 2], self.rgba[i + 3]))
    }

    /// The pixels, row by row from the top, 4 bytes (R, G, B, A) each.
    pub fn as_rgba(&self) -> &[u8] {
        &self.rgba
    }

    /// Restricts later drawing to `clip` (within the canvas); `None` lifts the restriction.
    pub fn set_clip(&mut self, clip: Option<PixelRect>) {
        self.clip = clip.map_or(self.bounds(), |c| c.intersect(&self.bounds()));
    }

    /// The current clip rectangle.
    pub fn clip(&self) -> PixelRect {
        self.clip
    }

    /// Blends `color` over pixel `(x, y)` with weight `coverage` in [0, 1] (source-over, straight alpha); pixels
    /// outside the clip rectangle are left alone.
    pub fn blend_pixel(&mut self, x: i64, y: i64, color: Color, coverage: f64) {
        if !self.clip.contains(x, y) || coverage.is_nan() || coverage <= 0.0 || color.a == 0 {
            return;
        }
        let i = 4 * (y as usize * self.width as usize + x as usize);
        let src_a = f64::from(color.a) / 255.0 * coverage.min(1.0);
        let dst_a = f64::from(self.rgba[i + 3]) / 255.0;
        let out_a = src_a + dst_a * (1.0 - src_a);
        if out_a <= 0.0 {
            return;
        }
        for (k, src) in [color.r, color.g, color.b].into_iter().enumerate() {
            let dst = f64::from(self.rgba[i + k]);
            let value = (f64::from(src) * src_a + dst * dst_a * (1.0 - src_a)) / out_a;
            self.rgba[i + k] = value.round().clamp(0.0, 255.0) as u8;
        }
        self.rgba[i + 3] = (out_a * 255.0).round().clamp(0.0, 255.0) as u8;
    }

    /// Fills whole pixels of `rect` (cut to the clip rectangle).
    pub fn fill_rect(&mut self, rect: PixelRect, color: Color) {
        let r = rect.intersect(&self.clip);
        for y in r.top..r.bottom {
            for x in r.left..r.right {
                self.blend_pixel(x, y, color, 1.0);
            }
        }
    }

    /// Fills the rectangle between corners `(x0, y0)` and `(x1, y1)` with its edges snapped to the nearest pixel
    /// boundaries (crisp bars: adjacent rectangles share edges without seams). Non-finite corners draw nothing.
    pub fn fill_rect_snapped(&mut self, x0: f64, y0: f64, x1: f64, y1: f64, color: Color) {
        if ![x0, y0, x1, y1].iter().all(|v| v.is_finite()) {
            return;
        }
        let snap = |v: f64| v.round().clamp(-1e15, 1e15) as i64;
        let rect = PixelRect {
            left: snap(x0.min(x1)),
            right: snap(x0.max(x1)),
            top: snap(y0.min(y1)),
            bottom: snap(y0.max(y1)),
        };
        self.fill_rect(rect, color);
    }

    /// Strokes the polyline through `points` (round caps and joins, optional dashes). A non-finite point breaks the
    /// line into separate pieces; a piece of one point draws nothing.
    pub fn stroke_polyline(&mut self, points: &[(f64, f64)], stroke: &Stroke) {
        if !(stroke.width_px.is_finite() && stroke.width_px > 0.0) {
            return;
        }
        let half = if stroke.antialias { stroke.width_px / 2.0 } else { (stroke.width_px / 2.0).max(0.5) };
        let reach = half + 1.0;
        let Some(bounds) = bounding_rect(points, reach, &self.clip) else {
            return;
        };
        let mut mask = Mask::new(bounds);
        let limit = expand(&mask.rect, reach);
        let mut dash_state = stroke.dash.filter(valid_dash).map(DashState::new);
        for piece in points.split(|(x, y)| !(x.is_finite() && y.is_finite())) {
            if let Some(state) = dash_state.as_mut() {
                state.restart();
            }
            for pair in piece.windows(2) {
                let (p0, p1) = (pair[0], pair[1]);
                let (dx, dy) = (p1.0 - p0.0, p1.1 - p0.1);
                let length = dx.hypot(dy);
                if !(length.is_finite() && length > 0.0) {
                    continue;
                }
                match dash_state.as_mut() {
                    None => {
                        if let Some((a, b)) = clip_segment(p0, p1, &limit) {
                            stroke_segment(&mut mask, a, b, half, stroke.antialias);
                        }
                    }
                    Some(state) => {
                        let Some((t0, t1)) = clip_parameters(p0, p1, &limit) else {
                            state.advance(length);
                            continue;
                        };
                        // Walk the visible part in its own coordinates: its length is bounded by the canvas,
                        // whatever the magnitude of the end points.
                        let a = (p0.0 + t0 * dx, p0.1 + t0 * dy);
                        let b = (p0.0 + t1 * dx, p0.1 + t1 * dy);
                        let visible = (b.0 - a.0).hypot(b.1 - a.1);
                        state.advance(t0 * length);
                        let at = |d: f64| (a.0 + (b.0 - a.0) * d / visible, a.1 + (b.1 - a.1) * d / visible);
                        let mut walked = 0.0;
                        while visible.is_finite() && walked < visible {
                            let (on, left_in_phase) = state.current();
                            let step = left_in_phase.min(visible - walked);
                            if on {
                                stroke_segment(&mut mask, at(walked), at(walked + step), half, stroke.antialias);
                            }
                            state.advance(step);
                            walked += step;
                        }
                        state.advance((1.0 - t1) * length);
                    }
                }
            }
        }
        self.blend_mask(&mask, stroke.color);
    }

    /// Fills the polygon through `points` (closed automatically; nonzero winding rule). Anti-aliased edges are
    /// sampled on four sub-rows per pixel with exact horizontal coverage. Non-finite points are dropped.
    pub fn fill_polygon(&mut self, points: &[(f64, f64)], color: Color, antialias: bool) {
        let finite: Vec<(f64, f64)> = points.iter().copied().filter(|(x, y)| x.is_finite() && y.is_finite()).collect();
        let Some(bounds) = bounding_rect(&finite, 1.0, &self.clip) else {
            return;
        };
        let polygon = clip_polygon(&finite, &expand(&bounds, 2.0));
        if polygon.len() < 3 {
            return;
        }
        let mut mask = Mask::new(bounds);
        let sub_rows: usize = if antialias { 4 } else { 1 };
        // Edges sorted by their upper end; the active ones are those crossing the current sub-row.
        let mut edges: Vec<Edge> = (0..polygon.len())
            .filter_map(|i| {
                let (a, b) = (polygon[i], polygon[(i + 1) % polygon.len()]);
                let (top, bottom, direction) = if a.1 < b.1 { (a, b, 1) } else { (b, a, -1) };
                (top.1 < bottom.1).then(|| Edge {
                    y_top: top.1,
                    y_bottom: bottom.1,
                    x_top: top.0,
                    slope: (bottom.0 - top.0) / (bottom.1 - top.1),
                    direction,
                })
            })
            .collect();
        edges.sort_by(|p, q| p.y_top.total_cmp(&q.y_top));
        let mut next_edge = 0;
        let mut active: Vec<Edge> = Vec::new();
        let mut crossings: Vec<(f64, i32)> = Vec::new();
        for y in bounds.top..bounds.bottom {
            for k in 0..sub_rows {
                let sy = y as f64 + (k as f64 + 0.5) / sub_rows as f64;
                while next_edge < edges.len() && edges[next_edge].y_top <= sy {
                    active.push(edges[next_edge]);
                    next_edge += 1;
                }
                active.retain(|e| e.y_bottom > sy);
                crossings.clear();
                crossings.extend(
                    active.iter().filter(|e| e.y_top <= sy).map(|e| (e.x_top + (sy - e.y_top) * e.slope, e.direction)),
                );
                crossings.sort_by(|p, q| p.0.total_cmp(&q.0));
                let mut winding = 0;
                for pair in crossings.windows(2) {
                    winding += pair[0].1;
                    if winding != 0 {
                        add_span(&mut mask, y, pair[0].0, pair[1].0, 1.0 / sub_rows as f64, antialias);
                    }
                }
            }
        }
        self.blend_mask(&mask, color);
    }

    /// Draws a filled marker of `size_px` (diameter, or side for squares) centred on `(x, y)`.
    pub fn draw_marker(&mut self, x: f64, y: f64, marker: Marker, size_px: f64, color: Color, antialias: bool) {
        if !(x.is_finite() && y.is_finite() && size_px.is_finite() && size_px > 0.0) {
            return;
        }
        let r = size_px / 2.0;
        match marker {
            Marker::Circle => {
                let Some(bounds) = bounding_rect(&[(x, y)], r + 1.0, &self.clip) else {
                    return;
                };
                let mut mask = Mask::new(bounds);
                for py in bounds.top..bounds.bottom {
                    for px in bounds.left..bounds.right {
                        let d = (px as f64 + 0.5 - x).hypot(py as f64 + 0.5 - y);
                        let coverage = if antialias {
                            r + 0.5 - d
                        } else if d <= r.max(0.5) {
                            1.0
                        } else {
                            0.0
                        };
                        mask.max_at(px, py, coverage);
                    }
                }
                self.blend_mask(&mask, color);
            }
            Marker::Square => {
                let Some(bounds) = bounding_rect(&[(x, y)], r + 1.0, &self.clip) else {
                    return;
                };
                let mut mask = Mask::new(bounds);
                for py in bounds.top..bounds.bottom {
                    for px in bounds.left..bounds.right {
                        let coverage = if antialias {
                            overlap(px as f64, x - r, x + r) * overlap(py as f64, y - r, y + r)
                        } else {
                            let inside = |c: f64, centre: f64| (c + 0.5 - centre).abs() <= r.max(0.5);
                            f64::from(u8::from(inside(px as f64, x) && inside(py as f64, y)))
                        };
                        mask.max_at(px, py, coverage);
                    }
                }
                self.blend_mask(&mask, color);
            }
            Marker::Triangle => {
                // Equal area to the circle of the same size, centred on the centroid.
                let side = r * (4.0 * std::f64::consts::PI / 3.0_f64.sqrt()).sqrt();
                let h = side * 3.0_f64.sqrt() / 2.0;
                let points = [(x, y - 2.0 * h / 3.0), (x + side / 2.0, y + h / 3.0), (x - side / 2.0, y + h / 3.0)];
                self.fill_polygon(&points, color, antialias);
            }
            Marker::Diamond => {
                let d = r * 1.25;
                self.fill_polygon(&[(x, y - d), (x + d, y), (x, y + d), (x - d, y)], color, antialias);
            }
        }
    }

    /// Draws `text` against the anchor `(x, y)` (module [`crate::text`]) and returns its box, which holds every pixel
    /// the text inks.
    pub fn draw_text(&mut self, x: f64, y: f64, text: &str, style: &TextStyle) -> PixelRect {
        let placed = text::place_text(x, y, text, style);
        for (px, py) in placed.pixels {
            self.blend_pixel(px, py, style.color, 1.0);
        }
        PixelRect::from_size(placed.left, placed.top, placed.width, placed.height)
    }

    /// The canvas as PNG bytes (RGB when every pixel is opaque, RGBA otherwise); the same pixels give the same bytes.
    pub fn to_png_bytes(&self) -> Result<Vec<u8>, PlotError> {
        output::encode_png(self.width, self.height, &self.rgba)
    }

    /// Writes the canvas as a PNG file atomically: to `<name>.tmp-<pid>` in the same folder, then renamed.
    pub fn save_png(&self, path: impl AsRef<Path>) -> Result<(), PlotError> {
        output::write_atomically(path.as_ref(), &self.to_png_bytes()?)
    }

    fn blend_mask(&mut self, mask: &Mask, color: Color) {
        let width = mask.rect.width() as usize;
        for (i, &coverage) in mask.coverage.iter().enumerate() {
            if coverage > 0.0 {
                let x = mask.rect.left + (i % width) as i64;
                let y = mask.rect.top + (i / width) as i64;
                self.blend_pixel(x, y, color, f64::from(coverage));
            }
        }
    }
}

/// A non-horizontal polygon edge, from its upper end (smaller y) down.
#[derive(Debug, Clone, Copy)]
struct Edge {
    y_top: f64,
    y_bottom: f64,
    x_top: f64,
    /// dx / dy.
    slope: f64,
    /// +1 when the polygon runs down along it, -1 when up (nonzero winding).
    direction: i32,
}

/// Walks a dash pattern along a stroke.
#[derive(Debug, Clone, Copy)]
struct DashState {
    dash: Dash,
    on: bool,
    left_in_phase: f64,
}

impl DashState {
    fn new(dash: Dash) -> DashState {
        DashState { dash, on: true, left_in_phase: dash.on_px }
    }

    fn restart(&mut self) {
        *self = DashState::new(self.dash);
    }

    fn current(&self) -> (bool, f64) {
        (self.on, self.left_in_phase)
    }

    fn advance(&mut self, mut distance: f64) {
        let period = self.dash.on_px + self.dash.off_px;
        if distance > period {
            distance %= period;
            // Whole periods change nothing; the remainder is walked phase by phase below.
        }
        while distance > 0.0 {
            if distance < self.left_in_phase {
                self.left_in_phase -= distance;
                return;
            }
            distance -= self.left_in_phase;
            self.on = !self.on;
            self.left_in_phase = if self.on { self.dash.on_px } else { self.dash.off_px };
        }
        if self.left_in_phase <= 0.0 {
            self.on = !self.on;
            self.left_in_phase = if self.on { self.dash.on_px } else { self.dash.off_px };
        }
    }
}

fn valid_dash(dash: &Dash) -> bool {
    dash.on_px.is_finite() && dash.off_px.is_finite() && dash.on_px > 0.0 && dash.off_px > 0.0
}

/// The pixels within `reach` of the finite points, cut to `clip`; `None` when empty.
fn bounding_rect(points: &[(f64, f64)], reach: f64, clip: &PixelRect) -> Option<PixelRect> {
    let finite = points.iter().filter(|(x, y)| x.is_finite() && y.is_finite());
    let (mut x0, mut y0, mut x1, mut y1) = (f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY);
    for &(x, y) in finite {
        x0 = x0.min(x);
        y0 = y0.min(y);
        x1 = x1.max(x);
        y1 = y1.max(y);
    }
    if !(x0.is_finite() && x1.is_finite()) {
        return None;
    }
    let to_pixel = |v: f64| v.clamp(-1e15, 1e15) as i64;
    let rect = PixelRect {
        left: to_pixel((x0 - reach).floor()),
        top: to_pixel((y0 - reach).floor()),
        right: to_pixel((x1 + reach).ceil()) + 1,
        bottom: to_pixel((y1 + reach).ceil()) + 1,
    }
    .intersect(clip);
    (!rect.is_empty()).then_some(rect)
}

/// `(left, top, right, bottom)` of `rect` grown by `by` pixels, as floats.
fn expand(rect: &PixelRect, by: f64) -> [f64; 4] {
    [rect.left as f64 - by, rect.top as f64 - by, rect.right as f64 + by, rect.bottom as f64 + by]
}

/// Liang-Barsky: the parameter range `[t0, t1]` of the segment inside `limit`, `None` when outside.
fn clip_parameters(p0: (f64, f64), p1: (f64, f64), limit: &[f64; 4]) -> Option<(f64, f64)> {
    let (dx, dy) = (p1.0 - p0.0, p1.1 - p0.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [(-dx, p0.0 - limit[0]), (dx, limit[2] - p0.0), (-dy, p0.1 - limit[1]), (dy, limit[3] - p0.1)] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
        }
    }
    (t0 <= t1 && t0.is_finite() && t1.is_finite()).then_some((t0, t1))
}

fn clip_segment(p0: (f64, f64), p1: (f64, f64), limit: &[f64; 4]) -> Option<((f64, f64), (f64, f64))> {
    let (t0, t1) = clip_parameters(p0, p1, limit)?;
    let at = |t: f64| (p0.0 + t * (p1.0 - p0.0), p0.1 + t * (p1.1 - p0.1));
    let (a, b) = (at(t0), at(t1));
    [a.0, a.1, b.0, b.1].iter().all(|v| v.is_finite()).then_some((a, b))
}

/// Sutherland-Hodgman clipping of a polygon to the rectangle `limit` (left, top, right, bottom).
fn clip_polygon(points: &[(f64, f64)], limit: &[f64; 4]) -> Vec<(f64, f64)> {
    let mut polygon = points.to_vec();
    // (axis, bound, keep when coordinate >= bound)
    for (axis, bound, keep_above) in
        [(0, limit[0], true), (0, limit[2], false), (1, limit[1], true), (1, limit[3], false)]
    {
        if polygon.is_empty() {
            break;
        }
        let coord = |p: (f64, f64)| if axis == 0 { p.0 } else { p.1 };
        let inside = |p: (f64, f64)| if keep_above { coord(p) >= bound } else { coord(p) <= bound };
        let mut out = Vec::with_capacity(polygon.len() + 4);
        for i in 0..polygon.len() {
            let (a, b) = (polygon[i], polygon[(i + 1) % polygon.len()]);
            let cross = || {
                let t = (bound - coord(a)) / (coord(b) - coord(a));
                (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1))
            };
            match (inside(a), inside(b)) {
                (true, true) => out.push(b),
                (true, false) => out.push(cross()),
                (false, true) => {
                    out.push(cross());
                    out.push(b);
                }
                (false, false) => {}
            }
        }
        polygon = out.into_iter().filter(|(x, y)| x.is_finite() && y.is_finite()).collect();
    }
    polygon
}

/// The length of `[lo, hi]` inside pixel `[i, i + 1)`.
fn overlap(i: f64, lo: f64, hi: f64) -> f64 {
    (hi.min(i + 1.0) - lo.max(i)).clamp(0.0, 1.0)
}

/// Adds `weight` times the horizontal coverage of span `[xa, xb]` on row `y`.
fn add_span(mask: &mut Mask, y: i64, xa: f64, xb: f64, weight: f64, antialias: bool) {
    let lo = xa.max(mask.rect.left as f64);
    let hi = xb.min(mask.rect.right as f64);
    if hi.is_nan() || lo.is_nan() || hi <= lo {
        return;
    }
    if antialias {
        let (first, last) = (lo.floor() as i64, (hi.ceil() as i64 - 1).max(lo.floor() as i64));
        for x in first..=last {
            mask.add_at(x, y, weight * overlap(x as f64, lo, hi));
        }
    } else {
        // Pixels whose centre lies in [lo, hi).
        let first = (lo - 0.5).ceil() as i64;
        let last = (hi - 0.5).ceil() as i64 - 1;
        for x in first..=last {
            mask.add_at(x, y, weight);
        }
    }
}

/// Coverage of the capsule of radius `half` around segment `p0`-`p1`, max-combined into `mask`.
fn stroke_segment(mask: &mut Mask, p0: (f64, f64), p1: (f64, f64), half: f64, antialias: bool) {
    let reach = half + 1.0;
    let (dx, dy) = (p1.0 - p0.0, p1.1 - p0.1);
    let length_sq = dx * dx + dy * dy;
    let row_lo = ((p0.1.min(p1.1) - reach).floor() as i64).max(mask.rect.top);
    let row_hi = ((p0.1.max(p1.1) + reach).ceil() as i64).min(mask.rect.bottom - 1);
    for y in row_lo..=row_hi {
        let cy = y as f64 + 0.5;
        // The segment's parameter range within `reach` of this row, hence its x range.
        let (ta, tb) = if dy.abs() < 1e-12 {
            if (cy - p0.1).abs() > reach {
                continue;
            }
            (0.0, 1.0)
        } else {
            let (a, b) = ((cy - reach - p0.1) / dy, (cy + reach - p0.1) / dy);
            let (a, b) = (a.min(b).max(0.0), a.max(b).min(1.0));
            if a > b {
                continue;
            }
            (a, b)
        };
        let (xa, xb) = (p0.0 + ta * dx, p0.0 + tb * dx);
        let col_lo = ((xa.min(xb) - reach).floor() as i64).max(mask.rect.left);
        let col_hi = ((xa.max(xb) + reach).ceil() as i64).min(mask.rect.right - 1);
        for x in col_lo..=col_hi {
            let cx = x as f64 + 0.5;
            let t =
                if length_sq > 0.0 { (((cx - p0.0) * dx + (cy - p0.1) * dy) / length_sq).clamp(0.0, 1.0) } else { 0.0 };
            let d = (cx - (p0.0 + t * dx)).hypot(cy - (p0.1 + t * dy));
            let coverage = if antialias {
                half + 0.5 - d
            } else if d <= half {
                1.0
            } else {
                0.0
            };
            if coverage > 0.0 {
                mask.max_at(x, y, coverage);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(canvas: &Canvas, color: Color) -> usize {
        (0..canvas.height())
            .flat_map(|y| (0..canvas.width()).map(move |x| (x, y)))
            .filter(|&(x, y)| canvas.pixel(x, y) == Some(color))
            .count()
    }

    #[test]
    fn zero_and_huge_canvases_are_errors() {
        assert!(matches!(Canvas::new(0, 10, Color::WHITE), Err(PlotError::ZeroSizeCanvas { width: 0, height: 10 })));
        assert!(matches!(Canvas::new(1 << 16, 1 << 16, Color::WHITE), Err(PlotError::CanvasTooLarge { .. })));
    }

    #[test]
    fn blending_half_transparent_red_over_white_gives_pink() {
        let mut canvas = Canvas::new(2, 1, Color::WHITE).unwrap();
        canvas.blend_pixel(0, 0, Color::rgba(255, 0, 0, 128), 1.0);
        assert_eq!(canvas.pixel(0, 0), Some(Color::rgb(255, 127, 127)));
        canvas.blend_pixel(5, 0, Color::BLACK, 1.0); // outside: ignored
        canvas.blend_pixel(1, 0, Color::BLACK, f64::NAN);
        assert_eq!(canvas.pixel(1, 0), Some(Color::WHITE));
    }

    #[test]
    fn strokes_cover_their_width_and_dashes_leave_gaps() {
        let mut solid = Canvas::new(100, 20, Color::WHITE).unwrap();
        solid.stroke_polyline(&[(10.0, 10.0), (90.0, 10.0)], &Stroke::new(Color::BLACK, 4.0).antialias(false));
        // Rows 8..12 (centres within 2 px of y = 10), columns 8..92 including the round caps.
        assert_eq!(count(&solid, Color::BLACK), 4 * 80 + 2 * 6);
        let mut dashed = Canvas::new(100, 20, Color::WHITE).unwrap();
        dashed.stroke_polyline(&[(10.0, 10.0), (90.0, 10.0)], &Stroke::new(Color::BLACK, 2.0).dashed(true));
        let row: Vec<bool> = (0..100).map(|x| dashed.pixel(x, 9) != Some(Color::WHITE)).collect();
        let switches = row.windows(2).filter(|w| w[0] != w[1]).count();
        assert!(switches >= 10, "a dashed line has several dashes: {switches} switches");
    }

    #[test]
    fn huge_and_non_finite_coordinates_do_not_panic() {
        let mut canvas = Canvas::new(50, 50, Color::WHITE).unwrap();
        let stroke = Stroke::new(Color::BLACK, 2.0).dashed(true);
        canvas.stroke_polyline(&[(-1e300, 25.0), (1e300, 25.0), (f64::NAN, 1.0), (25.0, 1e308)], &stroke);
        canvas.fill_polygon(
            &[(-1e300, -1e300), (1e300, -1e300), (0.0, 1e300), (f64::INFINITY, 0.0)],
            Color::TAB_RED,
            true,
        );
        canvas.draw_marker(f64::NAN, 3.0, Marker::Circle, 5.0, Color::BLACK, true);
        canvas.fill_rect_snapped(-1e300, 0.0, 1e300, f64::INFINITY, Color::BLACK);
        assert_eq!(canvas.pixel(25, 10), Some(Color::TAB_RED));
        assert_ne!(canvas.pixel(10, 25), Some(Color::TAB_RED));
    }

    #[test]
    fn polygons_fill_their_area() {
        let mut canvas = Canvas::new(40, 40, Color::WHITE).unwrap();
        canvas.fill_polygon(&[(10.0, 10.0), (30.0, 10.0), (30.0, 20.0), (10.0, 20.0)], Color::TAB_GREEN, true);
        assert_eq!(count(&canvas, Color::TAB_GREEN), 200);
        let mut hard = Canvas::new(40, 40, Color::WHITE).unwrap();
        hard.fill_polygon(&[(10.0, 10.0), (30.0, 10.0), (30.0, 20.0), (10.0, 20.0)], Color::TAB_GREEN, false);
        assert_eq!(hard, canvas);
    }

    #[test]
    fn markers_are_centred_and_clipped() {
        let mut canvas = Canvas::new(40, 40, Color::WHITE).unwrap();
        canvas.set_clip(Some(PixelRect::from_size(0, 0, 20, 40)));
        canvas.draw_marker(20.0, 20.0, Marker::Square, 10.0, Color::BLACK, true);
        assert_eq!(count(&canvas, Color::BLACK), 5 * 10);
        canvas.set_clip(None);
        for marker in [Marker::Circle, Marker::Triangle, Marker::Diamond] {
            let mut c = Canvas::new(40, 40, Color::WHITE).unwrap();
            c.draw_marker(20.0, 20.0, marker, 10.0, Color::BLACK, true);
            assert_eq!(c.pixel(20, 20), Some(Color::BLACK), "{marker:?}");
            assert_eq!(c.pixel(20, 30), Some(Color::WHITE), "{marker:?}");
        }
    }
}
