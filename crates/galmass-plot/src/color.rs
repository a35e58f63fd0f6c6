//! Colours: 8-bit RGBA with straight (not premultiplied) alpha, the tab10 palette series cycle through, and the
//! [`Colormap`]s heat maps use (plotters' `colormaps`).
//!
//! ```
//! use galmass_plot::Color;
//! let band = Color::TAB_BLUE.with_alpha(0.3);
//! assert_eq!((band.r, band.g, band.b, band.a), (31, 119, 180, 77));
//! assert_eq!(Color::palette(11), Color::TAB_ORANGE); // the cycle wraps after ten colours
//! ```

/// An sRGB colour with straight alpha (255 is opaque).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Color {
    /// Red.
    pub r: u8,
    /// Green.
    pub g: u8,
    /// Blue.
    pub b: u8,
    /// Opacity: 0 transparent, 255 opaque.
    pub a: u8,
}

impl Color {
    /// tab10 blue (`#1f77b4`).
    pub const TAB_BLUE: Color = Color::rgb(0x1f, 0x77, 0xb4);
    /// tab10 orange (`#ff7f0e`).
    pub const TAB_ORANGE: Color = Color::rgb(0xff, 0x7f, 0x0e);
    /// tab10 green (`#2ca02c`).
    pub const TAB_GREEN: Color = Color::rgb(0x2c, 0xa0, 0x2c);
    /// tab10 red (`#d62728`).
    pub const TAB_RED: Color = Color::rgb(0xd6, 0x27, 0x28);
    /// tab10 purple (`#9467bd`).
    pub const TAB_PURPLE: Color = Color::rgb(0x94, 0x67, 0xbd);
    /// tab10 brown (`#8c564b`).
    pub const TAB_BROWN: Color = Color::rgb(0x8c, 0x56, 0x4b);
    /// tab10 pink (`#e377c2`).
    pub const TAB_PINK: Color = Color::rgb(0xe3, 0x77, 0xc2);
    /// tab10 grey (`#7f7f7f`).
    pub const TAB_GREY: Color = Color::rgb(0x7f, 0x7f, 0x7f);
    /// tab10 olive (`#bcbd22`).
    pub const TAB_OLIVE: Color = Color::rgb(0xbc, 0xbd, 0x22);
    /// tab10 cyan (`#17becf`).
    pub const TAB_CYAN: Color = Color::rgb(0x17, 0xbe, 0xcf);
    /// Black.
    pub const BLACK: Color = Color::rgb(0, 0, 0);
    /// White.
    pub const WHITE: Color = Color::rgb(255, 255, 255);
    /// Light grey of grid lines (`#dddddd`).
    pub const LIGHT_GREY: Color = Color::rgb(0xdd, 0xdd, 0xdd);
    /// Fully transparent.
    pub const TRANSPARENT: Color = Color::rgba(0, 0, 0, 0);

    /// The ten tab10 colours in matplotlib's order.
    pub const TAB10: [Color; 10] = [
        Color::TAB_BLUE,
        Color::TAB_ORANGE,
        Color::TAB_GREEN,
        Color::TAB_RED,
        Color::TAB_PURPLE,
        Color::TAB_BROWN,
        Color::TAB_PINK,
        Color::TAB_GREY,
        Color::TAB_OLIVE,
        Color::TAB_CYAN,
    ];

    /// An opaque colour.
    pub const fn rgb(r: u8, g: u8, b: u8) -> Color {
        Color { r, g, b, a: 255 }
    }

    /// A colour with opacity `a` (0 transparent, 255 opaque).
    pub const fn rgba(r: u8, g: u8, b: u8, a: u8) -> Color {
        Color { r, g, b, a }
    }

    /// The `index`-th palette colour, cycling through [`Color::TAB10`].
    pub const fn palette(index: usize) -> Color {
        Color::TAB10[index % Color::TAB10.len()]
    }

    /// The same colour with opacity `alpha` in [0, 1] (clamped; NaN gives transparent), rounded to 8 bits.
    pub fn with_alpha(self, alpha: f64) -> Color {
        let alpha = if alpha.is_nan() { 0.0 } else { alpha.clamp(0.0, 1.0) };
        Color { a: (alpha * 255.0).round() as u8, ..self }
    }

    /// Parses `#rrggbb` or `#rrggbbaa` (the `#` is optional); `None` when malformed.
    ///
    /// ```
    /// use galmass_plot::Color;
    /// assert_eq!(Color::from_hex("#1f77b4"), Some(Color::TAB_BLUE));
    /// assert_eq!(Color::from_hex("ff000080"), Some(Color::rgba(255, 0, 0, 128)));
    /// assert_eq!(Color::from_hex("#12345"), None);
    /// ```
    pub fn from_hex(text: &str) -> Option<Color> {
        let hex = text.strip_prefix('#').unwrap_or(text);
        if !(hex.len() == 6 || hex.len() == 8) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let byte = |i: usize| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok();
        let a = if hex.len() == 8 { byte(6)? } else { 255 };
        Some(Color::rgba(byte(0)?, byte(2)?, byte(4)?, a))
    }
}

impl Color {
    /// The plotters colour (alpha as a fraction).
    pub(crate) fn to_plotters(self) -> plotters::style::RGBAColor {
        plotters::style::RGBAColor(self.r, self.g, self.b, f64::from(self.a) / 255.0)
    }
}

/// How a heat map turns a value into a colour: `t` in [0, 1] from the low to the high end of its colour range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Colormap {
    /// matplotlib's default, perceptually uniform, dark blue to yellow (plotters' `ViridisRGB`).
    #[default]
    Viridis,
    /// Black to white (plotters' `BlackWhite`).
    Greys,
    /// Black over blue to white (plotters' `Bone`).
    Bone,
    /// Black over brown to orange (plotters' `Copper`).
    Copper,
}

impl Colormap {
    /// The colour at `t` (clamped to [0, 1]; NaN gives the low end).
    ///
    /// ```
    /// use galmass_plot::{Color, Colormap};
    /// assert_eq!(Colormap::Viridis.at(0.0), Color::rgb(68, 1, 84));
    /// assert_eq!(Colormap::Viridis.at(1.0), Color::rgb(254, 232, 37));
    /// assert_eq!(Colormap::Greys.at(f64::NAN), Color::BLACK);
    /// ```
    pub fn at(self, t: f64) -> Color {
        use plotters::style::colors::colormaps::{BlackWhite, Bone, Copper, ViridisRGB};
        let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
        let c = match self {
            Colormap::Viridis => ViridisRGB::get_color(t),
            Colormap::Greys => BlackWhite::get_color(t),
            Colormap::Bone => Bone::get_color(t),
            Colormap::Copper => Copper::get_color(t),
        };
        Color::rgb(c.0, c.1, c.2)
    }
}

impl Default for Color {
    /// Black.
    fn default() -> Self {
        Color::BLACK
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpha_is_clamped_and_rounded() {
        assert_eq!(Color::TAB_RED.with_alpha(2.0).a, 255);
        assert_eq!(Color::TAB_RED.with_alpha(-1.0).a, 0);
        assert_eq!(Color::TAB_RED.with_alpha(f64::NAN).a, 0);
        assert_eq!(Color::TAB_RED.with_alpha(0.5).a, 128);
    }

    #[test]
    fn hex_round_trips_the_palette() {
        for c in Color::TAB10 {
            let text = format!("#{:02x}{:02x}{:02x}", c.r, c.g, c.b);
            assert_eq!(Color::from_hex(&text), Some(c));
        }
        assert_eq!(Color::from_hex("#gg0000"), None);
        assert_eq!(Color::from_hex("#ééé"), None);
    }

    #[test]
    fn colormaps_run_from_dark_to_light() {
        let luminance = |c: Color| 0.2126 * f64::from(c.r) + 0.7152 * f64::from(c.g) + 0.0722 * f64::from(c.b);
        for map in [Colormap::Viridis, Colormap::Greys, Colormap::Bone, Colormap::Copper] {
            let steps: Vec<f64> = (0..=10).map(|i| luminance(map.at(f64::from(i) / 10.0))).collect();
            assert!(steps.windows(2).all(|w| w[1] >= w[0]), "{map:?}: {steps:?}");
            assert_eq!(map.at(-3.0), map.at(0.0));
            assert_eq!(map.at(7.0), map.at(1.0));
        }
    }
}
