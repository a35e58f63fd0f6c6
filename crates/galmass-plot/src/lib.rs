//! # galmass-plot
//!
//! PNG figures for galmass (population plots of synthetic suites, TARP curves, bias-vs-radius plots) with no
//! system font and no C library: an RGBA raster, an embedded bitmap font, and the pure-Rust `png` encoder, so a
//! fresh machine and CI draw the same bytes.
//!
//! - [`Figure`]: plots in a grid on one canvas, [`Figure::save_png`] (atomic: temporary file, then rename) and
//!   [`Figure::to_png_bytes`];
//! - [`Plot`]: one panel: title, axis labels, linear or log10 axes ([`Scale`]), automatic or explicit ranges,
//!   1-2-5 or decade ticks ([`ticks`]), optional grid, legend ([`LegendPosition`]);
//! - [`series`]: [`series::Scatter`], [`series::Line`] (solid or dashed), [`series::Band`] (filled, alpha-blended)
//!   and [`series::Histogram`] (counts or densities, filled or step);
//! - [`canvas`]: the raster and its primitives, usable on their own; [`text`]: the bitmap font with `10^{9}`
//!   exponents and rotated labels; [`Color`]: RGBA and the tab10 palette;
//! - [`PlotError`]: every failure, naming plot, series and field.
//!
//! Bad data never panics. Non-finite values (and non-positive ones on log10 axes) are skipped and counted
//! ([`Plot::n_skipped`], [`Rendered::n_skipped`]); a plot with nothing to draw, a log10 axis without positive data,
//! mismatched lengths, an invalid range and a zero-size canvas are errors. No feature flags.
//!
//! ```
//! use galmass_plot::series::{Band, Histogram, Line, Scatter};
//! use galmass_plot::{Color, Figure, Plot, Scale};
//! let m_true = [1e9, 3e9, 1e10, 3e10, 1e11];
//! let m_pred = [1.2e9, 2.5e9, 1.1e10, 3.3e10, 0.9e11];
//! let scatter = Plot::new()
//!     .title("Mass within R_h")
//!     .x_label("M_{true} [M_{⊙}]")
//!     .y_label("M_{pred} [M_{⊙}]")
//!     .x_scale(Scale::Log10)
//!     .y_scale(Scale::Log10)
//!     .with(Band::new(&m_true, &m_true.map(|m| m / 1.5), &m_true.map(|m| m * 1.5)).label("±0.18 dex"))?
//!     .with(Line::new(&m_true, &m_true).color(Color::BLACK).dashed(true).label("1:1"))?
//!     .with(Scatter::new(&m_true, &m_pred).label("galaxies"))?;
//! let ratios: Vec<f64> = m_pred.iter().zip(&m_true).map(|(p, t)| (p / t).log10()).collect();
//! let histogram = Plot::new().x_label("log10(pred/true)").with(Histogram::new(&ratios).label("bias"))?;
//! let figure = Figure::new(800, 360).grid(1, 2).with(scatter).with(histogram);
//! let png = figure.to_png_bytes()?;
//! assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
//! # Ok::<(), galmass_plot::PlotError>(())
//! ```

pub mod canvas;
pub mod color;
pub mod error;
pub mod figure;
mod font;
pub mod output;
pub mod plot;
pub mod series;
pub mod text;
pub mod ticks;

pub use canvas::Canvas;
pub use color::Color;
pub use error::{Axis, PlotError};
pub use figure::{Figure, Rendered};
pub use plot::{LegendPosition, PanelLayout, Plot, Scale};
