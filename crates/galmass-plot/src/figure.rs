//! A figure: [`Plot`]s laid out in a grid (row by row) on one image, with an optional overall title, drawn by
//! plotters into memory and written as PNG.
//!
//! ```
//! use galmass_plot::series::{Histogram, Scatter};
//! use galmass_plot::{Figure, Plot};
//! let left = Plot::new().title("a").with(Scatter::new(&[1.0, 2.0], &[2.0, 1.0]))?;
//! let right = Plot::new().title("b").with(Histogram::new(&[1.0, 2.0, 2.5]))?;
//! let figure = Figure::new(600, 250).grid(1, 2).with(left).with(right);
//! let png = figure.to_png_bytes()?;
//! assert_eq!(png, figure.to_png_bytes()?); // deterministic
//! # Ok::<(), galmass_plot::PlotError>(())
//! ```

use std::path::Path;

use crate::color::Color;
use crate::draw::render_panels;
use crate::error::PlotError;
use crate::plot::{PanelLayout, Plot, Style};
use crate::raster::{Image, PixelRect};
use crate::text::{ensure_font, HAlign, Label, Rotation, VAlign};

/// Smallest tick-label font size accepted, in pixels.
pub const MIN_FONT_SIZE_PX: f64 = 6.0;
/// Largest tick-label font size accepted, in pixels.
pub const MAX_FONT_SIZE_PX: f64 = 120.0;
/// Most pixels a figure may have.
pub const MAX_PIXELS: u64 = 1 << 26;

/// Plots in a grid on one image.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    width_px: u32,
    height_px: u32,
    rows: usize,
    cols: usize,
    title: Option<String>,
    font_size_px: f64,
    background: Color,
    ink: Color,
    plots: Vec<Plot>,
}

/// A drawn figure: the pixels and where each panel landed.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// The pixels.
    pub image: Image,
    /// One layout per plot, in the order they were added.
    pub panels: Vec<PanelLayout>,
    /// Points skipped over all plots ([`Plot::n_skipped`]).
    pub n_skipped: usize,
}

impl Figure {
    /// A white figure of `width_px` x `height_px` with a 1 x 1 grid and 15 px tick labels (titles and axis labels
    /// scale with it).
    pub fn new(width_px: u32, height_px: u32) -> Figure {
        Figure {
            width_px,
            height_px,
            rows: 1,
            cols: 1,
            title: None,
            font_size_px: 15.0,
            background: Color::WHITE,
            ink: Color::BLACK,
            plots: Vec::new(),
        }
    }

    /// Lays plots out on `rows` x `cols` equal cells, filled row by row.
    pub fn grid(self, rows: usize, cols: usize) -> Figure {
        Figure { rows, cols, ..self }
    }

    /// An overall title above the grid.
    pub fn title(self, title: impl Into<String>) -> Figure {
        Figure { title: Some(title.into()), ..self }
    }

    /// The tick-label font size in pixels ([`MIN_FONT_SIZE_PX`] to [`MAX_FONT_SIZE_PX`]); titles, axis labels,
    /// legends, tick lengths and paddings follow it.
    pub fn font_size(self, font_size_px: f64) -> Figure {
        Figure { font_size_px, ..self }
    }

    /// Background colour (opaque: its alpha is ignored, the PNG is RGB).
    pub fn background(self, background: Color) -> Figure {
        Figure { background: Color { a: 255, ..background }, ..self }
    }

    /// Colour of frames, ticks and text.
    pub fn ink(self, ink: Color) -> Figure {
        Figure { ink, ..self }
    }

    /// Appends a plot to the next free cell.
    pub fn add(&mut self, plot: Plot) -> &mut Figure {
        self.plots.push(plot);
        self
    }

    /// [`Figure::add`] for building by value.
    pub fn with(mut self, plot: Plot) -> Figure {
        self.plots.push(plot);
        self
    }

    /// The plots, in cell order.
    pub fn plots(&self) -> &[Plot] {
        &self.plots
    }

    /// Points skipped over all plots ([`Plot::n_skipped`]).
    pub fn n_skipped(&self) -> usize {
        self.plots.iter().map(Plot::n_skipped).sum()
    }

    /// Draws the figure. Errors: a zero or oversized figure, no plots, a grid too small, a font size out of range,
    /// and each plot's own errors (empty, log10 axis without positive data, invalid range, panel too small).
    pub fn render(&self) -> Result<Rendered, PlotError> {
        let (width, height) = (self.width_px, self.height_px);
        if width == 0 || height == 0 {
            return Err(PlotError::ZeroSizeCanvas { width, height });
        }
        if u64::from(width) * u64::from(height) > MAX_PIXELS {
            return Err(PlotError::CanvasTooLarge { width, height, max_pixels: MAX_PIXELS });
        }
        if !(MIN_FONT_SIZE_PX..=MAX_FONT_SIZE_PX).contains(&self.font_size_px) {
            return Err(PlotError::InvalidFontSize {
                size_px: self.font_size_px,
                min: MIN_FONT_SIZE_PX,
                max: MAX_FONT_SIZE_PX,
            });
        }
        if self.plots.is_empty() {
            return Err(PlotError::EmptyFigure);
        }
        let n_cells = self.rows.saturating_mul(self.cols);
        if self.rows == 0 || self.cols == 0 || self.plots.len() > n_cells {
            return Err(PlotError::GridTooSmall { rows: self.rows, cols: self.cols, n_plots: self.plots.len() });
        }
        ensure_font()?;
        let style = Style { font_px: self.font_size_px, ink: self.ink, background: self.background };
        let title = self.title.as_deref().map(|t| Label::new(t, 1.15 * style.title_px()));
        let pad = 0.5 * self.font_size_px;
        let grid_top = title.as_ref().map_or(0, |t| (t.height() + 2.0 * pad).ceil() as i64);
        let (w, h) = (i64::from(width), i64::from(height));
        let (rows, cols) = (self.rows as i64, self.cols as i64);
        let panels: Vec<(&Plot, PixelRect, String)> = self
            .plots
            .iter()
            .enumerate()
            .map(|(i, plot)| {
                let (row, col) = (i as i64 / cols, i as i64 % cols);
                let cell = PixelRect {
                    left: col * w / cols,
                    right: (col + 1) * w / cols,
                    top: grid_top + row * (h - grid_top) / rows,
                    bottom: grid_top + (row + 1) * (h - grid_top) / rows,
                };
                let name = match plot.title_text() {
                    Some(title) => format!("plot {title:?}"),
                    None => format!("panel {}", i + 1),
                };
                (plot, cell, name)
            })
            .collect();
        let mut image = Image::new(width, height, self.background);
        let panels = render_panels(&mut image, &panels, &style, |root| match &title {
            Some(t) => t.draw(root, (w as f64 / 2.0, pad), (HAlign::Center, VAlign::Top), Rotation::None, self.ink),
            None => Ok(()),
        })?;
        Ok(Rendered { image, panels, n_skipped: self.n_skipped() })
    }

    /// The figure as PNG bytes (8-bit RGB); the same figure gives the same bytes.
    pub fn to_png_bytes(&self) -> Result<Vec<u8>, PlotError> {
        self.render()?.image.to_png_bytes()
    }

    /// Writes the figure as a PNG file through `galmass_core::atomic::write_bytes_atomic` (a temporary beside
    /// `path`, fsync, rename; the temporary is removed on every error path).
    pub fn save_png(&self, path: impl AsRef<Path>) -> Result<(), PlotError> {
        let path = path.as_ref();
        let bytes = self.to_png_bytes()?;
        galmass_core::atomic::write_bytes_atomic(path, &bytes)
            .map_err(|source| PlotError::Io { path: path.to_owned(), source })
    }
}
