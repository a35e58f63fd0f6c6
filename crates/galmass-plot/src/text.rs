//! Text from the embedded bitmap font (5 x 7 capitals with 2-row descenders; printable ASCII plus `×`, `±`, `°`,
//! `µ`, `⊙`, `α`, `σ`, `Δ`; other characters draw an empty box), at integer scale factors, horizontal or rotated by
//! 90 degrees (reading bottom to top, for y-axis labels), with a small markup for exponents and indices.
//!
//! Markup (on unless [`TextStyle::markup`] is off):
//! - `^{...}` raises its contents as a smaller superscript, `_{...}` lowers them as a subscript;
//! - `^` directly followed by digits, optionally signed (`10^9`, `10^-3`), raises that run;
//! - `\` takes the next character literally (`\^`, `\_`, `\\`); any other `^` or `_` is printed as it is.
//!
//! ```
//! use galmass_plot::text::{HAlign, TextStyle, VAlign};
//! use galmass_plot::{Canvas, Color};
//! let mut canvas = Canvas::new(120, 40, Color::WHITE).unwrap();
//! let style = TextStyle::new(2).align(HAlign::Left, VAlign::Top);
//! let drawn = canvas.draw_text(4.0, 4.0, "10^9 M_{sun}", &style);
//! assert_eq!((drawn.left, drawn.top), (4, 4));
//! assert_eq!(style.measure("10^9 M_{sun}"), (drawn.width(), drawn.height()));
//! ```

use crate::color::Color;
use crate::font::{self, BASELINE_ROWS, GLYPH_COLUMNS, GLYPH_ROWS};

/// Horizontal placement of text against its anchor point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HAlign {
    /// The box starts at the anchor.
    Left,
    /// The box is centred on the anchor.
    Center,
    /// The box ends at the anchor.
    Right,
}

/// Vertical placement of text against its anchor point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VAlign {
    /// The top of the box (capitals and raised exponents) is at the anchor.
    Top,
    /// Horizontal text: the middle of the capitals is at the anchor (tick labels line up with their ticks);
    /// rotated text: the middle of the box.
    Center,
    /// Horizontal text: the baseline is at the anchor; rotated text: as [`VAlign::Center`].
    Baseline,
    /// The bottom of the box (descenders included) is at the anchor.
    Bottom,
}

/// Orientation of text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rotation {
    /// Left to right.
    None,
    /// Turned 90 degrees counter-clockwise: reads bottom to top, as y-axis labels do.
    Ccw90,
}

/// How a string is drawn: scale, colour, alignment, orientation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextStyle {
    /// Integer scale: each font pixel becomes `scale` x `scale` canvas pixels (capitals are `7 * scale` tall).
    pub scale: u32,
    /// Ink colour.
    pub color: Color,
    /// Horizontal alignment against the anchor.
    pub h_align: HAlign,
    /// Vertical alignment against the anchor.
    pub v_align: VAlign,
    /// Orientation.
    pub rotation: Rotation,
    /// Bold: every stroke one canvas pixel wider.
    pub bold: bool,
    /// Whether `^`, `_` and `\` are markup (module docs).
    pub markup: bool,
}

impl TextStyle {
    /// Black, left- and baseline-aligned, horizontal, with markup, at `scale` (0 is treated as 1).
    pub fn new(scale: u32) -> TextStyle {
        TextStyle {
            scale: scale.max(1),
            color: Color::BLACK,
            h_align: HAlign::Left,
            v_align: VAlign::Baseline,
            rotation: Rotation::None,
            bold: false,
            markup: true,
        }
    }

    /// With this ink colour.
    pub fn color(self, color: Color) -> TextStyle {
        TextStyle { color, ..self }
    }

    /// With this alignment.
    pub fn align(self, h_align: HAlign, v_align: VAlign) -> TextStyle {
        TextStyle { h_align, v_align, ..self }
    }

    /// With this orientation.
    pub fn rotation(self, rotation: Rotation) -> TextStyle {
        TextStyle { rotation, ..self }
    }

    /// Bold or regular.
    pub fn bold(self, bold: bool) -> TextStyle {
        TextStyle { bold, ..self }
    }

    /// With markup on or off.
    pub fn markup(self, markup: bool) -> TextStyle {
        TextStyle { markup, ..self }
    }

    /// Width and height in pixels of the box `text` occupies when drawn (after rotation).
    pub fn measure(&self, text: &str) -> (u32, u32) {
        let layout = TextLayout::new(text, self);
        let (w, h) = (layout.width, layout.ascent + layout.descent);
        let (w, h) = (u32::try_from(w).unwrap_or(u32::MAX), u32::try_from(h).unwrap_or(u32::MAX));
        match self.rotation {
            Rotation::None => (w, h),
            Rotation::Ccw90 => (h, w),
        }
    }
}

/// Vertical position of a run of text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Normal,
    Superscript,
    Subscript,
}

/// Splits markup into runs of one level.
fn parse_markup(text: &str, markup: bool) -> Vec<(Level, String)> {
    let mut runs: Vec<(Level, String)> = Vec::new();
    let mut push = |level: Level, c: char| match runs.last_mut() {
        Some((last, s)) if *last == level => s.push(c),
        _ => runs.push((level, c.to_string())),
    };
    if !markup {
        text.chars().for_each(|c| push(Level::Normal, c));
        return runs;
    }
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match (c, next) {
            ('\\', Some(n)) => {
                push(Level::Normal, n);
                i += 2;
            }
            ('^' | '_', Some('{')) => {
                let level = if c == '^' { Level::Superscript } else { Level::Subscript };
                match chars[i + 2..].iter().position(|&x| x == '}') {
                    Some(len) => {
                        chars[i + 2..i + 2 + len].iter().for_each(|&x| push(level, x));
                        i += 3 + len;
                    }
                    None => {
                        push(Level::Normal, c);
                        i += 1;
                    }
                }
            }
            ('^', Some(n))
                if n.is_ascii_digit()
                    || ((n == '-' || n == '+') && chars.get(i + 2).is_some_and(char::is_ascii_digit)) =>
            {
                push(Level::Superscript, n);
                i += 2;
                while let Some(&d) = chars.get(i).filter(|d| d.is_ascii_digit()) {
                    push(Level::Superscript, d);
                    i += 1;
                }
            }
            _ => {
                push(Level::Normal, c);
                i += 1;
            }
        }
    }
    runs
}

/// One glyph placed in text coordinates (origin at the left end of the baseline, y down).
#[derive(Debug, Clone, Copy)]
struct PlacedGlyph {
    glyph: &'static font::Glyph,
    /// Left edge of the glyph's first inked column.
    x: i64,
    /// The glyph's baseline.
    baseline: i64,
    /// First font column drawn.
    first_column: usize,
    scale: i64,
}

/// Text laid out on its baseline, with its nominal box.
#[derive(Debug, Clone)]
struct TextLayout {
    glyphs: Vec<PlacedGlyph>,
    width: i64,
    /// Pixels above the baseline (positive).
    ascent: i64,
    /// Pixels below the baseline.
    descent: i64,
    /// The text's main scale.
    scale: i64,
    bold: bool,
}

impl TextLayout {
    fn new(text: &str, style: &TextStyle) -> TextLayout {
        let scale = i64::from(style.scale.clamp(1, 64));
        let small = ((scale * 3 + 2) / 5).max(1);
        let cap = (BASELINE_ROWS as i64) * scale;
        let mut layout =
            TextLayout { glyphs: Vec::new(), width: 0, ascent: cap, descent: 2 * scale, scale, bold: style.bold };
        let mut x = 0i64;
        for (level, run) in parse_markup(text, style.markup) {
            let (k, baseline) = match level {
                Level::Normal => (scale, 0),
                Level::Superscript => (small, -(3 * scale).max(cap - 7 * small + (scale + 1) / 2)),
                Level::Subscript => (small, scale.max(7 * small - (5 * scale) / 2)),
            };
            layout.ascent = layout.ascent.max(7 * k - baseline);
            layout.descent = layout.descent.max(baseline + 2 * k);
            for c in run.chars() {
                let glyph = font::glyph(c);
                let (first, advance) = if c.is_ascii_digit() {
                    (0, GLYPH_COLUMNS as i64 + 1)
                } else {
                    match font::ink_columns(glyph) {
                        Some((first, last)) => (first, (last - first + 2) as i64),
                        None => (0, 3),
                    }
                };
                layout.glyphs.push(PlacedGlyph { glyph, x, baseline, first_column: first, scale: k });
                x += advance * k;
            }
        }
        // The last glyph's trailing gap is not part of the box.
        layout.width = if layout.glyphs.is_empty() { 0 } else { x - layout.glyphs.last().map_or(0, |g| g.scale) };
        if layout.bold && layout.width > 0 {
            layout.width += 1;
        }
        layout
    }

    /// Inked pixels in box coordinates (origin at the box's top-left corner), unrotated.
    fn ink_pixels(&self) -> Vec<(i64, i64)> {
        let mut pixels = Vec::new();
        for g in &self.glyphs {
            let top = self.ascent + g.baseline - (BASELINE_ROWS as i64) * g.scale;
            for row in 0..GLYPH_ROWS {
                for col in g.first_column..GLYPH_COLUMNS {
                    if !font::ink(g.glyph, row, col) {
                        continue;
                    }
                    let x0 = g.x + (col - g.first_column) as i64 * g.scale;
                    let y0 = top + row as i64 * g.scale;
                    let extra = i64::from(self.bold);
                    for dy in 0..g.scale {
                        for dx in 0..g.scale + extra {
                            pixels.push((x0 + dx, y0 + dy));
                        }
                    }
                }
            }
        }
        pixels
    }
}

/// Where text lands: the top-left corner of its (rotated) box, its size, and its inked pixels in canvas coordinates.
pub(crate) struct PlacedText {
    pub(crate) left: i64,
    pub(crate) top: i64,
    pub(crate) width: i64,
    pub(crate) height: i64,
    pub(crate) pixels: Vec<(i64, i64)>,
}

/// Lays `text` out against the anchor `(x, y)` (rounded to whole pixels).
pub(crate) fn place_text(x: f64, y: f64, text: &str, style: &TextStyle) -> PlacedText {
    let layout = TextLayout::new(text, style);
    let (ax, ay) = (round_to_i64(x), round_to_i64(y));
    let box_w = layout.width;
    let box_h = layout.ascent + layout.descent;
    let (w, h) = match style.rotation {
        Rotation::None => (box_w, box_h),
        Rotation::Ccw90 => (box_h, box_w),
    };
    let left = match style.h_align {
        HAlign::Left => ax,
        HAlign::Center => ax - w / 2,
        HAlign::Right => ax - w,
    };
    let top = match (style.rotation, style.v_align) {
        (_, VAlign::Top) => ay,
        (_, VAlign::Bottom) => ay - h,
        (Rotation::None, VAlign::Baseline) => ay - layout.ascent,
        (Rotation::None, VAlign::Center) => ay - layout.ascent + (BASELINE_ROWS as i64 * layout.scale) / 2,
        (Rotation::Ccw90, VAlign::Center | VAlign::Baseline) => ay - h / 2,
    };
    let pixels = layout
        .ink_pixels()
        .into_iter()
        .map(|(u, v)| match style.rotation {
            Rotation::None => (left + u, top + v),
            Rotation::Ccw90 => (left + v, top + (box_w - 1 - u)),
        })
        .collect();
    PlacedText { left, top, width: w, height: h, pixels }
}

/// `x` rounded to the nearest integer, saturating (NaN gives 0).
pub(crate) fn round_to_i64(x: f64) -> i64 {
    if x.is_nan() {
        0
    } else {
        x.round() as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn levels(text: &str) -> Vec<(Level, String)> {
        parse_markup(text, true)
    }

    #[test]
    fn markup_raises_exponents_and_lowers_indices() {
        assert_eq!(levels("10^9"), vec![(Level::Normal, "10".into()), (Level::Superscript, "9".into())]);
        assert_eq!(
            levels("10^-12 x"),
            vec![(Level::Normal, "10".into()), (Level::Superscript, "-12".into()), (Level::Normal, " x".into())]
        );
        assert_eq!(
            levels("M_{1/2}^{x}"),
            vec![(Level::Normal, "M".into()), (Level::Subscript, "1/2".into()), (Level::Superscript, "x".into())]
        );
        assert_eq!(levels("a^b M_sun"), vec![(Level::Normal, "a^b M_sun".into())]);
        assert_eq!(levels(r"\^{x} a^{"), vec![(Level::Normal, "^{x} a^{".into())]);
        assert_eq!(parse_markup("10^9", false), vec![(Level::Normal, "10^9".into())]);
    }

    #[test]
    fn superscripts_are_raised_and_smaller() {
        let style = TextStyle::new(2);
        let plain = TextLayout::new("10", &style);
        let raised = TextLayout::new("10^9", &style);
        assert_eq!(plain.ascent, 14);
        assert!(raised.ascent > plain.ascent);
        let exponent = raised.glyphs.last().copied().unwrap();
        assert_eq!(exponent.scale, 1);
        assert!(exponent.baseline < -5, "baseline {}", exponent.baseline);
        assert!(raised.width > plain.width && raised.width < plain.width + 12);
    }

    #[test]
    fn rotation_swaps_the_box() {
        let style = TextStyle::new(1);
        let (w, h) = style.measure("Mass");
        assert_eq!(style.rotation(Rotation::Ccw90).measure("Mass"), (h, w));
        assert_eq!(h, 9);
        assert_eq!(style.measure(""), (0, 9));
        let placed = place_text(0.0, 0.0, "Mass", &style.rotation(Rotation::Ccw90).align(HAlign::Left, VAlign::Top));
        assert!(placed.pixels.iter().all(|&(x, y)| (0..h as i64).contains(&x) && (0..w as i64).contains(&y)));
        // Reading bottom to top: the first letter sits at the bottom, the tops of the letters face left.
        let up = style.rotation(Rotation::Ccw90).align(HAlign::Left, VAlign::Top);
        let placed = place_text(0.0, 0.0, "M.", &up);
        let (_, length) = up.measure("M.");
        let dot: Vec<i64> = placed.pixels.iter().filter(|p| p.1 < 2).map(|p| p.0).collect();
        assert!(!dot.is_empty() && dot.iter().all(|&x| (5..7).contains(&x)), "{dot:?}");
        assert!(placed.pixels.iter().any(|&(x, y)| x == 0 && y >= i64::from(length) - 5));
    }

    #[test]
    fn digits_have_a_fixed_advance() {
        let style = TextStyle::new(1);
        assert_eq!(style.measure("111").0, style.measure("888").0);
        assert!(style.measure("i").0 < style.measure("m").0);
    }
}
