//! Text: the embedded DejaVu Sans (registered once with plotters' `ab_glyph` font table, so no system font is
//! looked up) and labels with sub- and superscripts drawn through plotters, horizontal or rotated.
//!
//! Markup: `^{...}` raises and `_{...}` lowers a group in a smaller size (`^9` and `_e` take one character);
//! `\^`, `\_` and `\\` are the characters themselves. Everything else is drawn as given, so Unicode (`⊙`, `±`,
//! `κ`) works wherever DejaVu Sans has the glyph.
//!
//! ```
//! use galmass_plot::text::{parse_markup, Shift};
//! let pieces = parse_markup("M_{200} [10^9 M_{⊙}]");
//! let shifts: Vec<Shift> = pieces.iter().map(|p| p.shift).collect();
//! assert_eq!(shifts, [Shift::None, Shift::Sub, Shift::None, Shift::Super, Shift::None, Shift::Sub, Shift::None]);
//! assert_eq!(pieces[3].text, "9");
//! ```

use std::sync::OnceLock;

use plotters::backend::BitMapBackend;
use plotters::coord::Shift as PixelCoords;
use plotters::drawing::DrawingArea;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontDesc, FontFamily, FontStyle, FontTransform, IntoFont, TextStyle};

use crate::color::Color;
use crate::error::PlotError;

/// The name the embedded font is registered under in plotters' font table.
pub const FONT_FAMILY: &str = "galmass-dejavu-sans";

/// DejaVu Sans 2.37 (Bitstream Vera licence, `fonts/LICENSE-DejaVu.txt`), embedded so every machine draws the same
/// glyphs.
static DEJAVU_SANS: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");

/// Height of the tallest glyphs above the baseline (ascenders, brackets), as a fraction of the font size in pixels.
pub(crate) const ASCENT: f64 = 0.68;
/// Depth of descenders below the baseline, as a fraction of the font size.
pub(crate) const DESCENT: f64 = 0.20;
/// Size of a raised or lowered group relative to its surroundings.
const SHIFTED_SIZE: f64 = 0.72;
/// Baseline rise of a superscript, as a fraction of the surrounding font size.
const SUPER_RISE: f64 = 0.36;
/// Baseline drop of a subscript, as a fraction of the surrounding font size.
const SUB_DROP: f64 = 0.16;

/// Registers the embedded font with plotters (once per process); every drawing starts here.
pub(crate) fn ensure_font() -> Result<(), PlotError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, DEJAVU_SANS).is_ok()
            && plotters::style::register_font("sans-serif", FontStyle::Normal, DEJAVU_SANS).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(PlotError::Font { name: "DejaVu Sans" })
    }
}

/// The plotters font of `size_px` pixels.
pub(crate) fn font(size_px: f64) -> FontDesc<'static> {
    FontDesc::new(FontFamily::Name(FONT_FAMILY), size_px, FontStyle::Normal)
}

/// The plotters text style of `size_px` pixels in `color`.
pub(crate) fn style(size_px: f64, color: Color) -> TextStyle<'static> {
    font(size_px).into_font().color(&color.to_plotters())
}

/// Advance width of plain `text` in pixels (plotters' `ab_glyph` layout; 0 when the font cannot measure it).
pub(crate) fn plain_width(text: &str, size_px: f64) -> f64 {
    font(size_px).box_size(text).map_or(0.0, |(w, _)| f64::from(w))
}

/// Where a piece of text sits relative to the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shift {
    /// On the baseline.
    None,
    /// Raised, smaller (`^`).
    Super,
    /// Lowered, smaller (`_`).
    Sub,
}

/// A run of text with one [`Shift`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// The characters.
    pub text: String,
    /// Its position.
    pub shift: Shift,
}

/// Splits markup into runs (see the module docs); never fails: an unclosed `{` runs to the end.
pub fn parse_markup(markup: &str) -> Vec<Piece> {
    let mut pieces: Vec<Piece> = Vec::new();
    let mut push = |text: &str, shift: Shift| {
        if text.is_empty() {
            return;
        }
        match pieces.last_mut() {
            Some(last) if last.shift == shift => last.text.push_str(text),
            _ => pieces.push(Piece { text: text.to_owned(), shift }),
        }
    };
    let mut chars = markup.chars().peekable();
    let mut plain = String::new();
    while let Some(c) = chars.next() {
        match c {
            '\\' if matches!(chars.peek(), Some('^' | '_' | '\\')) => {
                if let Some(next) = chars.next() {
                    plain.push(next);
                }
            }
            '^' | '_' if chars.peek().is_some() => {
                push(&plain, Shift::None);
                plain.clear();
                let shift = if c == '^' { Shift::Super } else { Shift::Sub };
                let mut group = String::new();
                if chars.peek() == Some(&'{') {
                    chars.next();
                    for g in chars.by_ref() {
                        if g == '}' {
                            break;
                        }
                        group.push(g);
                    }
                } else if let Some(g) = chars.next() {
                    group.push(g);
                }
                push(&group, shift);
            }
            _ => plain.push(c),
        }
    }
    push(&plain, Shift::None);
    pieces
}

/// Horizontal anchor of a label (along its reading direction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HAlign {
    /// The anchor is the start of the text.
    Left,
    /// The anchor is the middle of the text.
    Center,
    /// The anchor is the end of the text.
    Right,
}

/// Vertical anchor of a label (across its reading direction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VAlign {
    /// The anchor is the top of the text box.
    Top,
    /// The anchor is the middle of the text box.
    Center,
    /// The anchor is the bottom of the text box.
    Bottom,
}

/// Reading direction of a label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rotation {
    /// Left to right.
    None,
    /// Bottom to top (y-axis labels): rotated 90 degrees counter-clockwise.
    Ccw90,
}

/// A laid-out label: pieces with their sizes and offsets, and its box.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Label {
    /// (text, font size, pen offset along the baseline, baseline rise) per piece.
    runs: Vec<(String, f64, f64, f64)>,
    /// Advance width in pixels.
    pub(crate) width: f64,
    /// Extent above the baseline in pixels.
    pub(crate) ascent: f64,
    /// Extent below the baseline in pixels.
    pub(crate) descent: f64,
}

impl Label {
    /// Lays out `markup` at `size_px`.
    pub(crate) fn new(markup: &str, size_px: f64) -> Label {
        let mut runs = Vec::new();
        let (mut pen, mut ascent, mut descent) = (0.0, ASCENT * size_px, DESCENT * size_px);
        for piece in parse_markup(markup) {
            let (size, rise) = match piece.shift {
                Shift::None => (size_px, 0.0),
                Shift::Super => (SHIFTED_SIZE * size_px, SUPER_RISE * size_px),
                Shift::Sub => (SHIFTED_SIZE * size_px, -SUB_DROP * size_px),
            };
            let width = plain_width(&piece.text, size);
            ascent = f64::max(ascent, rise + ASCENT * size);
            descent = f64::max(descent, -rise + DESCENT * size);
            runs.push((piece.text, size, pen, rise));
            pen += width;
        }
        Label { runs, width: pen, ascent, descent }
    }

    /// Height of the box (ascent + descent).
    pub(crate) fn height(&self) -> f64 {
        self.ascent + self.descent
    }

    /// Draws the label with its anchor point at pixel `(x, y)` of `area`.
    pub(crate) fn draw(
        &self,
        area: &DrawingArea<BitMapBackend<'_>, PixelCoords>,
        (x, y): (f64, f64),
        (h, v): (HAlign, VAlign),
        rotation: Rotation,
        color: Color,
    ) -> Result<(), PlotError> {
        // Text frame: u along the reading direction, w across it (down on horizontal text), baseline at w = 0.
        let u0 = match h {
            HAlign::Left => 0.0,
            HAlign::Center => self.width / 2.0,
            HAlign::Right => self.width,
        };
        let w0 = match v {
            VAlign::Top => -self.ascent,
            VAlign::Center => (self.descent - self.ascent) / 2.0,
            VAlign::Bottom => self.descent,
        };
        type ToPixel = fn(f64, f64) -> (f64, f64);
        let (transform, to_pixel): (FontTransform, ToPixel) = match rotation {
            Rotation::None => (FontTransform::None, |u, w| (u, w)),
            Rotation::Ccw90 => (FontTransform::Rotate270, |u, w| (w, -u)),
        };
        for (text, size, pen, rise) in &self.runs {
            // plotters' ab_glyph text puts the baseline half a font size below the top-left of its layout box.
            let (du, dw) = to_pixel(pen - u0, -rise - size / 2.0 - w0);
            let style = style(*size, color).transform(transform.clone()).pos(Pos::new(HPos::Left, VPos::Top));
            let at = ((x + du).round() as i32, (y + dw).round() as i32);
            area.draw_text(text, &style, at).map_err(PlotError::draw)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_groups_escapes_and_loose_ends() {
        let p = parse_markup("a^{bc}d_e\\_f^");
        assert_eq!(
            p,
            [
                Piece { text: "a".into(), shift: Shift::None },
                Piece { text: "bc".into(), shift: Shift::Super },
                Piece { text: "d".into(), shift: Shift::None },
                Piece { text: "e".into(), shift: Shift::Sub },
                Piece { text: "_f^".into(), shift: Shift::None },
            ]
        );
        assert_eq!(
            parse_markup("x_{unclosed"),
            [Piece { text: "x".into(), shift: Shift::None }, Piece { text: "unclosed".into(), shift: Shift::Sub }]
        );
        assert!(parse_markup("").is_empty());
    }

    #[test]
    fn the_embedded_font_measures_text() {
        ensure_font().unwrap();
        let narrow = plain_width("1", 20.0);
        let wide = plain_width("10000", 20.0);
        assert!(narrow > 5.0 && narrow < 20.0, "{narrow}");
        assert!((wide - 5.0 * narrow).abs() <= 5.0, "{wide} vs 5 x {narrow}");
        let label = Label::new("10^{9}", 20.0);
        assert!(label.width > plain_width("10", 20.0) && label.width < plain_width("109", 20.0));
        assert!(label.ascent > ASCENT * 20.0, "the exponent raises the box");
    }
}
