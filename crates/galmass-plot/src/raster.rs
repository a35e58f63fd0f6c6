//! The pixels: an RGB buffer that plotters' bitmap backend draws into, PNG encoding, and the geometry that keeps
//! series inside their panel (plotters does not clip elements to a chart's plotting area).
//!
//! Series are drawn into a copy of their data area ([`draw_clipped`]), so nothing spills onto the frame or a
//! neighbouring panel, after their coordinates are clipped to a slightly larger rectangle ([`clip_polyline`],
//! [`clip_polygon`]), so a point at 1e300 never asks the rasterizer for billions of pixels.

use plotters::backend::BitMapBackend;
use plotters::coord::Shift;
use plotters::drawing::{DrawingArea, IntoDrawingArea};

use crate::color::Color;
use crate::error::PlotError;

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

/// An RGB image, row by row from the top.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
}

impl Image {
    /// A `width` x `height` image filled with `background` (its alpha is ignored: PNGs here are opaque RGB).
    pub(crate) fn new(width: u32, height: u32, background: Color) -> Image {
        let n = width as usize * height as usize;
        let rgb = [background.r, background.g, background.b].repeat(n);
        Image { width, height, rgb }
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The pixels, 3 bytes per pixel, row by row.
    pub fn as_rgb(&self) -> &[u8] {
        &self.rgb
    }

    /// The colour of pixel `(x, y)` (opaque), `None` outside the image.
    pub fn pixel(&self, x: u32, y: u32) -> Option<Color> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let i = 3 * (y as usize * self.width as usize + x as usize);
        Some(Color::rgb(self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]))
    }

    /// Runs `draw` on a plotters drawing area over the whole image.
    pub(crate) fn draw(
        &mut self,
        draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> Result<(), PlotError>,
    ) -> Result<(), PlotError> {
        let root = BitMapBackend::with_buffer(&mut self.rgb, (self.width, self.height)).into_drawing_area();
        draw(&root)?;
        root.present().map_err(PlotError::draw)
    }

    /// Runs `draw` on a copy of the pixels of `rect` (coordinates relative to its top-left corner) and copies the
    /// result back: whatever `draw` puts outside `rect` is lost.
    pub(crate) fn draw_clipped(
        &mut self,
        rect: PixelRect,
        draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> Result<(), PlotError>,
    ) -> Result<(), PlotError> {
        let full = PixelRect { left: 0, top: 0, right: i64::from(self.width), bottom: i64::from(self.height) };
        let rect = rect.intersect(&full);
        if rect.is_empty() {
            return Ok(());
        }
        let (w, h) = (rect.width() as usize, rect.height() as usize);
        let stride = 3 * self.width as usize;
        let (x0, y0) = (rect.left as usize, rect.top as usize);
        let mut sub = Vec::with_capacity(3 * w * h);
        for row in y0..y0 + h {
            sub.extend_from_slice(&self.rgb[row * stride + 3 * x0..row * stride + 3 * (x0 + w)]);
        }
        {
            let area = BitMapBackend::with_buffer(&mut sub, (rect.width(), rect.height())).into_drawing_area();
            draw(&area)?;
            area.present().map_err(PlotError::draw)?;
        }
        for (i, row) in (y0..y0 + h).enumerate() {
            self.rgb[row * stride + 3 * x0..row * stride + 3 * (x0 + w)]
                .copy_from_slice(&sub[3 * w * i..3 * w * (i + 1)]);
        }
        Ok(())
    }

    /// The image as PNG bytes: 8-bit RGB, no time or text chunks, so equal pixels give equal bytes.
    pub fn to_png_bytes(&self) -> Result<Vec<u8>, PlotError> {
        let encode_error = |e: png::EncodingError| PlotError::Encode { reason: e.to_string() };
        let mut bytes = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut bytes, self.width, self.height);
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_depth(png::BitDepth::Eight);
            encoder.set_compression(png::Compression::Balanced);
            let mut writer = encoder.write_header().map_err(encode_error)?;
            writer.write_image_data(&self.rgb).map_err(encode_error)?;
            writer.finish().map_err(encode_error)?;
        }
        Ok(bytes)
    }
}

/// A point in pixels (x right, y down).
pub(crate) type Point = (f64, f64);

/// A clip rectangle in pixels: `(left, top, right, bottom)`.
pub(crate) type ClipRect = (f64, f64, f64, f64);

/// The part of segment `a`-`b` inside `clip` (Liang-Barsky), `None` when it misses.
fn clip_segment(a: Point, b: Point, (left, top, right, bottom): ClipRect) -> Option<(Point, Point)> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [(-dx, a.0 - left), (dx, right - a.0), (-dy, a.1 - top), (dy, bottom - a.1)] {
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
    // Measured from the nearer end, so a huge far end does not swamp the near one.
    let at = |t: f64| if t < 0.5 { (a.0 + t * dx, a.1 + t * dy) } else { (b.0 + (t - 1.0) * dx, b.1 + (t - 1.0) * dy) };
    (t0 <= t1).then(|| (at(t0), at(t1)))
}

/// The pieces of a polyline inside `clip`; a non-finite point breaks it.
pub(crate) fn clip_polyline(points: &[Point], clip: ClipRect) -> Vec<Vec<Point>> {
    let mut pieces: Vec<Vec<Point>> = Vec::new();
    let mut current: Vec<Point> = Vec::new();
    for w in points.windows(2) {
        let (a, b) = (w[0], w[1]);
        let finite = a.0.is_finite() && a.1.is_finite() && b.0.is_finite() && b.1.is_finite();
        match clip_segment(a, b, clip).filter(|_| finite) {
            Some((p, q)) => {
                if current.last() != Some(&p) {
                    if current.len() >= 2 {
                        pieces.push(std::mem::take(&mut current));
                    }
                    current.clear();
                    current.push(p);
                }
                current.push(q);
            }
            None => {
                if current.len() >= 2 {
                    pieces.push(std::mem::take(&mut current));
                }
                current.clear();
            }
        }
    }
    if current.len() >= 2 {
        pieces.push(current);
    }
    pieces
}

/// A polygon clipped to `clip` (Sutherland-Hodgman; the polygon's points must be finite).
pub(crate) fn clip_polygon(polygon: &[Point], (left, top, right, bottom): ClipRect) -> Vec<Point> {
    type Inside = fn(Point, f64) -> bool;
    type Cut = fn(Point, Point, f64) -> Point;
    let edges: [(f64, Inside, Cut); 4] = [
        (left, |p, e| p.0 >= e, |a, b, e| (e, a.1 + (b.1 - a.1) * (e - a.0) / (b.0 - a.0))),
        (right, |p, e| p.0 <= e, |a, b, e| (e, a.1 + (b.1 - a.1) * (e - a.0) / (b.0 - a.0))),
        (top, |p, e| p.1 >= e, |a, b, e| (a.0 + (b.0 - a.0) * (e - a.1) / (b.1 - a.1), e)),
        (bottom, |p, e| p.1 <= e, |a, b, e| (a.0 + (b.0 - a.0) * (e - a.1) / (b.1 - a.1), e)),
    ];
    let mut output = polygon.to_vec();
    for (edge, inside, cut) in edges {
        let input = std::mem::take(&mut output);
        let Some(&last) = input.last() else { break };
        let mut previous = last;
        for &p in &input {
            match (inside(p, edge), inside(previous, edge)) {
                (true, true) => output.push(p),
                (true, false) => output.extend([cut(previous, p, edge), p]),
                (false, true) => output.push(cut(previous, p, edge)),
                (false, false) => {}
            }
            previous = p;
        }
    }
    output
}

/// The dashes of a polyline: `on` pixels drawn, `off` skipped, along its length.
pub(crate) fn dashes(path: &[Point], on: f64, off: f64) -> Vec<Vec<Point>> {
    let mut out = Vec::new();
    let mut current: Vec<Point> = Vec::new();
    let (mut drawing, mut left) = (true, on);
    for w in path.windows(2) {
        let (mut a, b) = (w[0], w[1]);
        let mut length = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
        while length > 0.0 {
            let step = left.min(length);
            let t = step / length;
            let next = (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1));
            if drawing {
                if current.is_empty() {
                    current.push(a);
                }
                current.push(next);
            }
            left -= step;
            length -= step;
            a = next;
            if left <= 1e-9 {
                if drawing && current.len() >= 2 {
                    out.push(std::mem::take(&mut current));
                }
                current.clear();
                drawing = !drawing;
                left = if drawing { on } else { off };
            }
        }
    }
    if drawing && current.len() >= 2 {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_and_polylines_are_clipped() {
        let clip = (0.0, 0.0, 10.0, 10.0);
        let Some(((x0, y0), (x1, y1))) = clip_segment((-10.0, 5.0), (20.0, 5.0), clip) else { panic!("missed") };
        assert!(x0.abs() < 1e-12 && (x1 - 10.0).abs() < 1e-12 && y0 == 5.0 && y1 == 5.0);
        assert_eq!(clip_segment((-10.0, -5.0), (20.0, -5.0), clip), None);
        let pieces =
            clip_polyline(&[(5.0, 5.0), (5.0, 1e6), (6.0, 5.0), (f64::NAN, 1.0), (7.0, 7.0), (8.0, 8.0)], clip);
        assert_eq!(pieces.len(), 3);
        assert_eq!(pieces[0], [(5.0, 5.0), (5.0, 10.0)]);
        let [(x0, y0), (x1, y1)] = pieces[1][..] else { panic!("{pieces:?}") };
        assert!((x0 - 6.0).abs() < 1e-5 && (y0 - 10.0).abs() < 1e-9 && (x1, y1) == (6.0, 5.0), "{pieces:?}");
        assert_eq!(pieces[2], [(7.0, 7.0), (8.0, 8.0)]);
        // A point at 1e300 leaves finite pieces.
        let far = clip_polyline(&[(5.0, 5.0), (5.0, 1e300), (6.0, 5.0)], clip);
        assert!(far.iter().flatten().all(|p| p.0.is_finite() && p.1.is_finite() && p.1 <= 10.0), "{far:?}");
    }

    #[test]
    fn polygons_are_clipped_to_the_rectangle() {
        let square = [(-5.0, -5.0), (15.0, -5.0), (15.0, 15.0), (-5.0, 15.0)];
        let clipped = clip_polygon(&square, (0.0, 0.0, 10.0, 10.0));
        assert_eq!(clipped.len(), 4);
        assert!(clipped.iter().all(|p| (p.0 == 0.0 || p.0 == 10.0) && (p.1 == 0.0 || p.1 == 10.0)), "{clipped:?}");
        assert!(clip_polygon(&[(20.0, 20.0), (30.0, 20.0), (30.0, 30.0)], (0.0, 0.0, 10.0, 10.0)).is_empty());
    }

    #[test]
    fn dashes_alternate_along_the_path() {
        let d = dashes(&[(0.0, 0.0), (10.0, 0.0), (10.0, 10.0)], 4.0, 2.0);
        let lengths: Vec<f64> =
            d.iter().map(|p| p.windows(2).map(|w| (w[1].0 - w[0].0).abs() + (w[1].1 - w[0].1).abs()).sum()).collect();
        assert_eq!(lengths, [4.0, 4.0, 4.0, 2.0]); // 0-4, 6-10 (up to the corner), 12-16, then 18-20 ends mid-dash
    }

    #[test]
    fn png_bytes_decode_to_the_image() {
        let image = Image::new(3, 2, Color::TAB_RED);
        let png = image.to_png_bytes().unwrap();
        let mut reader = png::Decoder::new(std::io::Cursor::new(png)).read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height, info.color_type), (3, 2, png::ColorType::Rgb));
        assert_eq!(&buf[..info.buffer_size()], image.as_rgb());
    }
}
