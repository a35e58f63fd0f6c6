//! # galmass-plot
//!
//! PNG figures for galmass (population plots of synthetic suites, maps, TARP curves, bias-vs-radius plots), drawn
//! by [`plotters`] into an in-memory RGB buffer (its bitmap backend) with an embedded TrueType font (DejaVu Sans
//! through plotters' `ab_glyph` text) and encoded by the pure-Rust `png` crate: no system font, no fontconfig, no C
//! library, so a fresh machine and CI draw the same bytes.
//!
//! This crate is the galmass layer over plotters: the house style and what reports need.
//! - [`Figure`]: plots in a grid on one image, [`Figure::save_png`] (atomic, through `galmass_core::atomic`) and
//!   [`Figure::to_png_bytes`];
//! - [`Plot`]: one panel: title, axis labels (the y label rotated), linear or log10 axes ([`Scale`], decade labels
//!   `10⁹`), automatic or explicit ranges, optional grid, legend ([`LegendPosition`]), colour bar;
//! - [`series`]: [`series::Scatter`], [`series::Line`] (solid or dashed), [`series::Band`] (filled between lo and
//!   hi, alpha-blended), [`series::Histogram`] (counts or densities, filled or step) and [`series::HeatMap`] (a 2-D
//!   map with a [`Colormap`] and a colour bar);
//! - [`text`]: the embedded font and label markup (`M_{200}`, `10^{9}`); [`axis`]: ticks and their labels;
//!   [`Color`]: RGBA and the tab10 palette;
//! - [`PlotError`]: every failure, naming plot, series and field.
//!
//! Bad data never panics. Non-finite values (and non-positive ones on log10 axes) are skipped and counted
//! ([`Plot::n_skipped`], [`Rendered::n_skipped`]); a plot with nothing to draw, a log10 axis without positive data,
//! mismatched lengths, an invalid range and a zero-size figure are errors. No feature flags.
//!
//! ```
//! use galmass_plot::series::{Band, HeatMap, Histogram, Line, Scatter};
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
//! let histogram = Plot::new().x_label("log_{10}(pred/true)").with(Histogram::new(&ratios).label("bias"))?;
//! let values: Vec<f64> = (0..12).map(|i| f64::from(i)).collect();
//! let map = Plot::new().with(HeatMap::new(&values, 3, 4).colorbar("value"))?;
//! let figure = Figure::new(1200, 360).grid(1, 3).with(scatter).with(histogram).with(map);
//! let png = figure.to_png_bytes()?;
//! assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
//! # Ok::<(), galmass_plot::PlotError>(())
//! ```

pub mod axis;
pub mod color;
mod draw;
pub mod error;
pub mod figure;
pub mod plot;
pub mod raster;
pub mod series;
pub mod text;

pub use axis::Scale;
pub use color::{Color, Colormap};
pub use error::{Axis, PlotError};
pub use figure::{Figure, Rendered};
pub use plot::{LegendPosition, PanelLayout, Plot};
pub use raster::{Image, PixelRect};
