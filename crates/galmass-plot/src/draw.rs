//! Drawing one panel's contents with plotters: the colour bar of a heat map, the frame, the series (markers, lines,
//! bands, histograms, heat maps, clipped to the data area), the legend in the emptiest corner, and the panels of a
//! figure. [`crate::plot`] prepares the layout these functions draw into.

use plotters::backend::BitMapBackend;
use plotters::chart::ChartBuilder;
use plotters::coord::Shift;
use plotters::drawing::DrawingArea;
use plotters::element::{PathElement, Polygon, Rectangle};
use plotters::style::{Color as _, ShapeStyle};

use crate::axis::{AxisCoord, Scale, Tick};
use crate::color::Color;
use crate::error::PlotError;
use crate::raster::{clip_polygon, clip_polyline, dashes, ClipRect, Image, PixelRect, Point};
use crate::series::{Bars, HeatMap, HistKind, Marker, Series};
use crate::text::{HAlign, Label, Rotation, VAlign};

use crate::plot::{
    prepare, rect_of, widest, y_label_offset, AxisTransform, LegendPosition, PanelLayout, Plot, Prepared, Style,
};

/// Draws the colour bar of `map` right of `area`: gradient, frame, ticks and labels (a plotters chart of its own)
/// and the rotated label. Returns the gradient's rectangle.
pub(crate) fn draw_colorbar(
    root: &DrawingArea<BitMapBackend<'_>, Shift>,
    map: &HeatMap,
    range: (f64, f64),
    (major, minor): (Vec<Tick>, Vec<f64>),
    label: Option<&Label>,
    area: PixelRect,
    style: &Style,
) -> Result<PixelRect, PlotError> {
    let f = style.font_px;
    let tick = style.tick_px();
    let left = area.right + (0.9 * f).round() as i64;
    let bar_w = (1.1 * f).round() as i64;
    let labels_w = (2.0 * f64::from(tick) + widest(&major, f) + 0.3 * f).ceil() as i64;
    let bar = PixelRect { left, top: area.top, right: left + bar_w, bottom: area.bottom };
    let holder = root.clone().shrink((bar.left as i32, bar.top as i32), ((bar_w + labels_w) as u32, bar.height()));
    let coord = AxisCoord::new(map.color_scale, range.0, range.1, major.clone());
    let mut chart = ChartBuilder::on(&holder)
        .right_y_label_area_size(labels_w as i32)
        .build_cartesian_2d(0.0..1.0, coord)
        .map_err(PlotError::draw)?;
    let gradient = rect_of(&chart.plotting_area().get_pixel_range());
    let transform = AxisTransform {
        scale: map.color_scale,
        min: range.0,
        max: range.1,
        start_px: (gradient.bottom - 1) as f64,
        end_px: gradient.top as f64,
        ticks: major.clone(),
    };
    let span = (transform.start_px - transform.end_px).max(1.0);
    for row in gradient.top..gradient.bottom {
        let t = (transform.start_px - row as f64) / span;
        let color = map.colormap.at(t).to_plotters();
        root.draw(&Rectangle::new(
            [(gradient.left as i32, row as i32), (gradient.right as i32, row as i32 + 1)],
            color.filled(),
        ))
        .map_err(PlotError::draw)?;
    }
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .label_style(crate::text::style(f, style.ink))
        .axis_style(ShapeStyle { color: style.ink.to_plotters(), filled: false, stroke_width: 1 })
        .set_all_tick_mark_size(tick)
        .y_label_offset(y_label_offset(f))
        .draw()
        .map_err(PlotError::draw)?;
    draw_frame(root, gradient, style.ink)?;
    let minor_len = style.minor_tick_px();
    for v in minor {
        if let Some(py) = transform.to_pixel(v) {
            let py = py.floor() as i32;
            let x0 = gradient.right as i32;
            root.draw(&PathElement::new(vec![(x0, py), (x0 + minor_len, py)], style.ink.to_plotters().stroke_width(1)))
                .map_err(PlotError::draw)?;
        }
    }
    if let Some(label) = label {
        let at =
            ((gradient.right + labels_w) as f64 + style.pad() * 0.5, (gradient.top + gradient.bottom) as f64 / 2.0);
        label.draw(root, at, (HAlign::Center, VAlign::Top), Rotation::Ccw90, style.ink)?;
    }
    Ok(gradient)
}

/// A one-pixel frame just outside `rect`.
pub(crate) fn draw_frame(
    root: &DrawingArea<BitMapBackend<'_>, Shift>,
    rect: PixelRect,
    ink: Color,
) -> Result<(), PlotError> {
    let (l, t, r, b) = (rect.left as i32 - 1, rect.top as i32 - 1, rect.right as i32, rect.bottom as i32);
    root.draw(&Rectangle::new([(l, t), (r, b)], ink.to_plotters().stroke_width(1))).map_err(PlotError::draw)
}

/// Pixel points of a series relative to the data area (NaN where a point cannot be drawn).
pub(crate) fn pixel_points(layout: &PanelLayout, x: &[f64], y: &[f64]) -> Vec<Point> {
    let (dx, dy) = (layout.area.left as f64, layout.area.top as f64);
    x.iter()
        .zip(y)
        .map(|(&a, &b)| layout.to_pixel(a, b).map_or((f64::NAN, f64::NAN), |(px, py)| (px - dx, py - dy)))
        .collect()
}

/// The pixel containing a point.
pub(crate) fn whole(p: Point) -> (i32, i32) {
    (p.0.floor() as i32, p.1.floor() as i32)
}

/// The clip rectangle of geometry in area coordinates: the area and a margin wider than any marker or line.
pub(crate) fn clip_rect(area: PixelRect) -> ClipRect {
    let margin = 64.0;
    (-margin, -margin, f64::from(area.width()) + margin, f64::from(area.height()) + margin)
}

/// The row of a histogram's base in area coordinates: zero on a linear y axis, below the area on a log10 one.
pub(crate) fn bar_base(layout: &PanelLayout) -> f64 {
    let below = f64::from(layout.area.height()) + 1.0;
    match layout.y.scale {
        Scale::Linear => layout.y.to_pixel(0.0).map_or(below, |p| p - layout.area.top as f64).clamp(-1.0, below),
        Scale::Log10 => below,
    }
}

pub(crate) fn marker(
    area: &DrawingArea<BitMapBackend<'_>, Shift>,
    centre: Point,
    shape: Marker,
    size_px: f64,
    color: Color,
) -> Result<(), PlotError> {
    let fill = color.to_plotters().filled();
    let (cx, cy) = whole(centre);
    let r = (size_px / 2.0).max(0.5);
    let ri = r.round().max(1.0) as i32;
    let result = match shape {
        Marker::Circle => return disc(area, centre, 2.0 * r, color),
        Marker::Square => area.draw(&Rectangle::new([(cx - ri + 1, cy - ri + 1), (cx + ri, cy + ri)], fill)),
        Marker::Triangle => {
            let (h, w) = ((1.15 * r).round() as i32, (1.15 * r).round() as i32);
            area.draw(&Polygon::new(
                vec![(cx, cy - h), (cx + w, cy + (0.85 * r) as i32), (cx - w, cy + (0.85 * r) as i32)],
                fill,
            ))
        }
        Marker::Diamond => {
            let d = (1.3 * r).round() as i32;
            area.draw(&Polygon::new(vec![(cx, cy - d), (cx + d, cy), (cx, cy + d), (cx - d, cy)], fill))
        }
    };
    result.map_err(PlotError::draw)
}

/// An anti-aliased disc: each pixel's coverage from 4 x 4 samples scales the colour's opacity.
pub(crate) fn disc(
    area: &DrawingArea<BitMapBackend<'_>, Shift>,
    (cx, cy): Point,
    diameter: f64,
    color: Color,
) -> Result<(), PlotError> {
    let r = diameter / 2.0;
    let base = color.to_plotters();
    for py in (cy - r).floor() as i32..=(cy + r).ceil() as i32 {
        for px in (cx - r).floor() as i32..=(cx + r).ceil() as i32 {
            let inside = (0..16)
                .filter(|k| {
                    let (sx, sy) = (
                        f64::from(px) + (f64::from(k % 4) + 0.5) / 4.0,
                        f64::from(py) + (f64::from(k / 4) + 0.5) / 4.0,
                    );
                    (sx - cx).powi(2) + (sy - cy).powi(2) <= r * r
                })
                .count();
            if inside > 0 {
                area.draw_pixel((px, py), &base.mix(inside as f64 / 16.0)).map_err(PlotError::draw)?;
            }
        }
    }
    Ok(())
}

pub(crate) fn polyline(
    area: &DrawingArea<BitMapBackend<'_>, Shift>,
    points: &[Point],
    clip: ClipRect,
    color: Color,
    width_px: f64,
    dashed: bool,
) -> Result<(), PlotError> {
    let stroke = color.to_plotters().stroke_width(width_px.round().max(1.0) as u32);
    for piece in clip_polyline(points, clip) {
        let pieces = if dashed {
            dashes(&piece, 3.7 * width_px.max(1.0) + 2.0, 2.5 * width_px.max(1.0) + 1.5)
        } else {
            vec![piece]
        };
        for p in pieces {
            let path: Vec<(i32, i32)> = p.into_iter().map(whole).collect();
            area.draw(&PathElement::new(path, stroke)).map_err(PlotError::draw)?;
        }
    }
    Ok(())
}

/// Step 2: draws the series of a prepared panel on `area`, a copy of its data area (coordinates relative to it).
pub(crate) fn draw_series(
    area: &DrawingArea<BitMapBackend<'_>, Shift>,
    plot: &Plot,
    prepared: &Prepared,
) -> Result<(), PlotError> {
    let layout = &prepared.layout;
    let clip = clip_rect(layout.area);
    let inside = |p: &Point| p.0 >= clip.0 && p.0 <= clip.2 && p.1 >= clip.1 && p.1 <= clip.3;
    for (i, (series, (bars, color_range))) in
        plot.series.iter().zip(prepared.resolved.bars.iter().zip(&prepared.resolved.color_ranges)).enumerate()
    {
        let color = series.color(i);
        match series {
            Series::Scatter(s) => {
                for p in pixel_points(layout, &s.x, &s.y).into_iter().filter(inside) {
                    marker(area, p, s.marker, s.size_px, color)?;
                }
            }
            Series::Line(s) => polyline(area, &pixel_points(layout, &s.x, &s.y), clip, color, s.width_px, s.dashed)?,
            Series::Band(b) => {
                let upper = pixel_points(layout, &b.x, &b.hi);
                let lower = pixel_points(layout, &b.x, &b.lo);
                let usable: Vec<bool> =
                    upper.iter().zip(&lower).map(|(u, l)| u.0.is_finite() && l.0.is_finite()).collect();
                let mut start = 0;
                while start < usable.len() {
                    if !usable[start] {
                        start += 1;
                        continue;
                    }
                    let end = usable[start..].iter().position(|u| !u).map_or(usable.len(), |n| start + n);
                    if end - start >= 2 {
                        let polygon: Vec<Point> =
                            upper[start..end].iter().chain(lower[start..end].iter().rev()).copied().collect();
                        let clipped = clip_polygon(&polygon, clip);
                        if clipped.len() >= 3 {
                            let points: Vec<(i32, i32)> =
                                clipped.into_iter().map(|p| (p.0.round() as i32, p.1.round() as i32)).collect();
                            area.draw(&Polygon::new(points, color.to_plotters().filled())).map_err(PlotError::draw)?;
                        }
                    }
                    start = end;
                }
            }
            Series::Histogram(h) => {
                let Some(bars) = bars else { continue };
                let base = bar_base(layout);
                let dx = layout.area.left as f64;
                let xs: Vec<f64> = bars
                    .edges
                    .iter()
                    .map(|&e| layout.x.to_pixel(e).map_or(f64::NAN, |p| (p - dx).clamp(clip.0, clip.2)))
                    .collect();
                let tops: Vec<f64> = bars
                    .heights
                    .iter()
                    .map(|&v| {
                        if v > 0.0 {
                            layout.y.to_pixel(v).map_or(base, |p| (p - layout.area.top as f64).clamp(clip.1, clip.3))
                        } else {
                            base
                        }
                    })
                    .collect();
                match h.kind {
                    HistKind::Filled => {
                        for (i, &top) in tops.iter().enumerate() {
                            if bars.heights[i] > 0.0 && xs[i].is_finite() && xs[i + 1].is_finite() {
                                let (x0, x1) = (xs[i].floor() as i32, xs[i + 1].floor() as i32);
                                let gap = i32::from(x1 - x0 >= 6);
                                let (t, b) = (top.floor() as i32, base.floor() as i32 + 1);
                                area.draw(&Rectangle::new([(x0, t), (x1 - gap, b)], color.to_plotters().filled()))
                                    .map_err(PlotError::draw)?;
                            }
                        }
                    }
                    HistKind::Step => {
                        let mut outline = vec![(xs[0], base)];
                        for (i, &top) in tops.iter().enumerate() {
                            outline.extend([(xs[i], top), (xs[i + 1], top)]);
                        }
                        outline.push((xs[xs.len() - 1], base));
                        polyline(area, &outline, clip, color, h.line_width_px, false)?;
                    }
                }
            }
            Series::HeatMap(map) => {
                let Some(range) = color_range else { continue };
                draw_heat_map(area, layout, map, *range, clip)?;
            }
        }
    }
    Ok(())
}

pub(crate) fn draw_heat_map(
    area: &DrawingArea<BitMapBackend<'_>, Shift>,
    layout: &PanelLayout,
    map: &HeatMap,
    range: (f64, f64),
    clip: ClipRect,
) -> Result<(), PlotError> {
    let [x0, x1, y0, y1] = map.bounds();
    let (dx, dy) = (layout.area.left as f64, layout.area.top as f64);
    // Cell edges in pixels (area coordinates), clamped to the clip rectangle.
    let edges = |n: usize, lo: f64, hi: f64, axis: &AxisTransform, shift: f64, (c0, c1): (f64, f64)| -> Vec<f64> {
        (0..=n)
            .map(|k| {
                let v = lo + (hi - lo) * k as f64 / n as f64;
                axis.to_pixel(v).map_or(f64::NAN, |p| (p - shift).clamp(c0, c1))
            })
            .collect()
    };
    let cols = edges(map.n_cols, x0, x1, &layout.x, dx, (clip.0, clip.2));
    let rows = edges(map.n_rows, y0, y1, &layout.y, dy, (clip.1, clip.3));
    for r in 0..map.n_rows {
        let (top, bottom) = (rows[r + 1], rows[r]);
        if !(top.is_finite() && bottom.is_finite()) || bottom.floor() <= top.floor() {
            continue;
        }
        for c in 0..map.n_cols {
            let (left, right) = (cols[c], cols[c + 1]);
            if !(left.is_finite() && right.is_finite()) || right.floor() <= left.floor() {
                continue;
            }
            let Some(color) = map.color_of(map.values[r * map.n_cols + c], range) else { continue };
            let corners = [(left.floor() as i32, top.floor() as i32), (right.floor() as i32, bottom.floor() as i32)];
            area.draw(&Rectangle::new(corners, color.to_plotters().filled())).map_err(PlotError::draw)?;
        }
    }
    Ok(())
}

/// Sample positions (absolute pixels) standing for where a series has ink, for choosing the legend corner.
pub(crate) fn ink_samples(layout: &PanelLayout, series: &Series, bars: Option<&Bars>) -> Vec<Point> {
    let shift = |points: Vec<Point>| -> Vec<Point> {
        points.into_iter().map(|p| (p.0 + layout.area.left as f64, p.1 + layout.area.top as f64)).collect()
    };
    let along = |points: &[Point]| -> Vec<Point> {
        let mut out: Vec<Point> = points.iter().copied().filter(|p| p.0.is_finite()).collect();
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
        Series::Scatter(s) => shift(pixel_points(layout, &s.x, &s.y)),
        Series::Line(s) => shift(along(&pixel_points(layout, &s.x, &s.y))),
        Series::Band(b) => {
            let (upper, lower) = (pixel_points(layout, &b.x, &b.hi), pixel_points(layout, &b.x, &b.lo));
            let mut out = along(&upper);
            out.extend(along(&lower));
            // The inside of the band too.
            out.extend(upper.iter().zip(&lower).map(|(u, l)| (u.0, (u.1 + l.1) / 2.0)));
            shift(out)
        }
        Series::Histogram(_) => {
            let Some(bars) = bars else { return Vec::new() };
            let base = bar_base(layout) + layout.area.top as f64;
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
        Series::HeatMap(_) => Vec::new(), // a heat map fills the area: every corner covers it alike
    }
}

/// Step 3: the frame, minor ticks and legend of a panel, over its series.
pub(crate) fn finish(
    root: &DrawingArea<BitMapBackend<'_>, Shift>,
    plot: &Plot,
    prepared: &mut Prepared,
    style: &Style,
) -> Result<(), PlotError> {
    let layout = &prepared.layout;
    let area = layout.area;
    draw_frame(root, area, style.ink)?;
    let ink = style.ink.to_plotters().stroke_width(1);
    let len = style.minor_tick_px();
    for &v in &prepared.minor_x {
        if let Some(px) = layout.x.to_pixel(v) {
            let (x, y) = (px.floor() as i32, area.bottom as i32);
            root.draw(&PathElement::new(vec![(x, y), (x, y + len)], ink)).map_err(PlotError::draw)?;
        }
    }
    for &v in &prepared.minor_y {
        if let Some(py) = layout.y.to_pixel(v) {
            let (x, y) = (area.left as i32 - 1, py.floor() as i32);
            root.draw(&PathElement::new(vec![(x - len, y), (x, y)], ink)).map_err(PlotError::draw)?;
        }
    }
    prepared.layout.legend = draw_legend(root, plot, prepared, style)?;
    Ok(())
}

pub(crate) fn draw_legend(
    root: &DrawingArea<BitMapBackend<'_>, Shift>,
    plot: &Plot,
    prepared: &Prepared,
    style: &Style,
) -> Result<Option<PixelRect>, PlotError> {
    if plot.legend == LegendPosition::Hidden {
        return Ok(None);
    }
    let layout = &prepared.layout;
    let entries: Vec<(usize, &Series, Label)> = plot
        .series
        .iter()
        .enumerate()
        .filter_map(|(i, s)| Some((i, s, Label::new(s.label()?, style.legend_px()))))
        .collect();
    if entries.is_empty() {
        return Ok(None);
    }
    let fl = style.legend_px();
    let inner = (0.5 * fl).round() as i64;
    let swatch = (1.9 * fl).round() as i64;
    let row_h = (1.35 * fl).round() as i64;
    let text_w = entries.iter().map(|(_, _, l)| l.width).fold(0.0, f64::max).ceil() as i64;
    let width = inner + swatch + (0.5 * fl).round() as i64 + text_w + inner;
    let height = 2 * (0.35 * fl).round() as i64 + row_h * entries.len() as i64;
    let area = layout.area;
    let inset = (0.5 * style.font_px).round() as i64;
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
            let samples: Vec<Point> = plot
                .series
                .iter()
                .zip(&prepared.resolved.bars)
                .flat_map(|(series, bars)| ink_samples(layout, series, bars.as_ref()))
                .collect();
            let covered = |p: LegendPosition| {
                let r = corner(p);
                samples
                    .iter()
                    .filter(|(x, y)| {
                        *x >= r.left as f64 && *x < r.right as f64 && *y >= r.top as f64 && *y < r.bottom as f64
                    })
                    .count()
            };
            [
                LegendPosition::UpperRight,
                LegendPosition::UpperLeft,
                LegendPosition::LowerLeft,
                LegendPosition::LowerRight,
            ]
            .into_iter()
            .min_by_key(|&p| covered(p))
            .unwrap_or(LegendPosition::UpperRight)
        }
        other => other,
    };
    let rect = corner(position);
    if rect.left < area.left || rect.top < area.top || rect.right > area.right || rect.bottom > area.bottom {
        return Ok(None); // no room for it
    }
    // Filled rectangles of plotters' bitmap backend exclude their bottom-right corner; outlines include it.
    let (l, t, r, b) = (rect.left as i32, rect.top as i32, rect.right as i32, rect.bottom as i32);
    let err = PlotError::draw;
    root.draw(&Rectangle::new([(l, t), (r, b)], style.background.with_alpha(0.85).to_plotters().filled()))
        .map_err(err)?;
    let border = Color::rgb(0xc8, 0xc8, 0xc8).to_plotters().stroke_width(1);
    root.draw(&Rectangle::new([(l, t), (r - 1, b - 1)], border)).map_err(err)?;
    let mut row_top = rect.top + (0.35 * fl).round() as i64;
    for (index, series, label) in &entries {
        let color = series.color(*index);
        let middle = row_top as f64 + row_h as f64 / 2.0;
        let (x0, x1) = ((rect.left + inner) as f64, (rect.left + inner + swatch) as f64);
        let half = 0.32 * fl;
        let bx = |y0: f64, y1: f64| [(x0 as i32, y0.round() as i32), (x1 as i32, y1.round() as i32)];
        match series {
            Series::Scatter(s) => marker(root, ((x0 + x1) / 2.0, middle), s.marker, s.size_px.min(0.9 * fl), color)?,
            Series::Line(s) => {
                let whole_rect = (0.0, 0.0, f64::from(u32::MAX), f64::from(u32::MAX));
                polyline(root, &[(x0, middle), (x1, middle)], whole_rect, color, s.width_px.min(0.3 * fl), s.dashed)?;
            }
            Series::Band(_) => {
                root.draw(&Rectangle::new(bx(middle - half, middle + half), color.to_plotters().filled()))
                    .map_err(err)?;
            }
            Series::Histogram(h) => match h.kind {
                HistKind::Filled => {
                    root.draw(&Rectangle::new(bx(middle - half, middle + half), color.to_plotters().filled()))
                        .map_err(err)?;
                }
                HistKind::Step => {
                    let whole_rect = (0.0, 0.0, f64::from(u32::MAX), f64::from(u32::MAX));
                    let (t, b) = (middle - half, middle + half);
                    let outline = [(x0 + 1.0, b), (x0 + 1.0, t), (x1 - 1.0, t), (x1 - 1.0, b)];
                    polyline(root, &outline, whole_rect, color, h.line_width_px.min(0.2 * fl), false)?;
                }
            },
            Series::HeatMap(_) => {}
        }
        label.draw(root, (x1 + 0.5 * fl, middle), (HAlign::Left, VAlign::Center), Rotation::None, style.ink)?;
        row_top += row_h;
    }
    Ok(Some(rect))
}

/// Draws `plots` into `image`: step 1 (layout, axes, labels) for every panel, step 2 (series, clipped to each
/// data area), step 3 (frames, minor ticks, legends).
pub(crate) fn render_panels(
    image: &mut Image,
    panels: &[(&Plot, PixelRect, String)],
    style: &Style,
    before: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> Result<(), PlotError>,
) -> Result<Vec<PanelLayout>, PlotError> {
    let mut prepared = Vec::with_capacity(panels.len());
    image.draw(|root| {
        before(root)?;
        for (plot, cell, name) in panels {
            prepared.push(prepare(root, plot, *cell, name, style)?);
        }
        Ok(())
    })?;
    for ((plot, _, _), p) in panels.iter().zip(&prepared) {
        image.draw_clipped(p.layout.area, |area| draw_series(area, plot, p))?;
    }
    image.draw(|root| {
        for ((plot, _, _), p) in panels.iter().zip(prepared.iter_mut()) {
            finish(root, plot, p, style)?;
        }
        Ok(())
    })?;
    Ok(prepared.into_iter().map(|p| p.layout).collect())
}
