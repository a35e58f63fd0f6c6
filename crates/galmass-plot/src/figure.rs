//! A figure: [`Plot`]s laid out in a grid (row by row) on one canvas, with an optional overall title, written as
//! PNG.
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

use crate::canvas::{Canvas, PixelRect};
use crate::color::Color;
use crate::error::PlotError;
use crate::output;
use crate::plot::{render_plot, Metrics, PanelLayout, Plot};
use crate::text::{HAlign, VAlign};

/// Largest text scale accepted.
pub const MAX_TEXT_SCALE: u32 = 16;

/// Plots in a grid on one canvas.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    width_px: u32,
    height_px: u32,
    rows: usize,
    cols: usize,
    title: Option<String>,
    text_scale: u32,
    antialias: bool,
    background: Color,
    ink: Color,
    plots: Vec<Plot>,
}

/// A drawn figure: the canvas and where each panel landed.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// The pixels.
    pub canvas: Canvas,
    /// One layout per plot, in the order they were added.
    pub panels: Vec<PanelLayout>,
    /// Points skipped over all plots ([`Plot::n_skipped`]).
    pub n_skipped: usize,
}

impl Figure {
    /// A white figure of `width_px` x `height_px` with a 1 x 1 grid, text at scale 2 (capitals 14 px tall),
    /// anti-aliased.
    pub fn new(width_px: u32, height_px: u32) -> Figure {
        Figure {
            width_px,
            height_px,
            rows: 1,
            cols: 1,
            title: None,
            text_scale: 2,
            antialias: true,
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

    /// The integer text scale (1 to [`MAX_TEXT_SCALE`]); tick lengths and paddings follow it.
    pub fn text_scale(self, text_scale: u32) -> Figure {
        Figure { text_scale, ..self }
    }

    /// Smooth or hard edges for lines, markers and bands (text and bars are always crisp).
    pub fn antialias(self, antialias: bool) -> Figure {
        Figure { antialias, ..self }
    }

    /// Background colour (may be transparent).
    pub fn background(self, background: Color) -> Figure {
        Figure { background, ..self }
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

    /// Draws the figure. Errors: a zero or oversized canvas, no plots, a grid too small, a text scale out of range,
    /// and each plot's own errors (empty, log10 axis without positive data, invalid range, panel too small).
    pub fn render(&self) -> Result<Rendered, PlotError> {
        if !(1..=MAX_TEXT_SCALE).contains(&self.text_scale) {
            return Err(PlotError::InvalidTextScale { scale: self.text_scale });
        }
        let mut canvas = Canvas::new(self.width_px, self.height_px, self.background)?;
        if self.plots.is_empty() {
            return Err(PlotError::EmptyFigure);
        }
        let n_cells = self.rows.saturating_mul(self.cols);
        if self.rows == 0 || self.cols == 0 || self.plots.len() > n_cells {
            return Err(PlotError::GridTooSmall { rows: self.rows, cols: self.cols, n_plots: self.plots.len() });
        }
        let metrics = Metrics { scale: self.text_scale, antialias: self.antialias, ink: self.ink };
        let (width, height) = (i64::from(self.width_px), i64::from(self.height_px));
        let mut grid_top = 0;
        if let Some(title) = &self.title {
            let s = i64::from(self.text_scale);
            let style = metrics.title().align(HAlign::Center, VAlign::Top);
            canvas.draw_text(width as f64 / 2.0, (3 * s) as f64, title, &style);
            grid_top = 3 * s + i64::from(style.measure(title).1) + s;
        }
        let (rows, cols) = (self.rows as i64, self.cols as i64);
        let mut panels = Vec::with_capacity(self.plots.len());
        for (i, plot) in self.plots.iter().enumerate() {
            let (row, col) = (i as i64 / cols, i as i64 % cols);
            let cell = PixelRect {
                left: col * width / cols,
                right: (col + 1) * width / cols,
                top: grid_top + row * (height - grid_top) / rows,
                bottom: grid_top + (row + 1) * (height - grid_top) / rows,
            };
            let name = match plot.title_text() {
                Some(title) => format!("plot {title:?}"),
                None => format!("panel {}", i + 1),
            };
            panels.push(render_plot(plot, &mut canvas, cell, &name, &metrics)?);
        }
        Ok(Rendered { canvas, panels, n_skipped: self.n_skipped() })
    }

    /// The figure as PNG bytes; the same figure gives the same bytes.
    pub fn to_png_bytes(&self) -> Result<Vec<u8>, PlotError> {
        self.render()?.canvas.to_png_bytes()
    }

    /// Writes the figure as a PNG file atomically: to `<name>.tmp-<pid>` in the same folder
    /// ([`output::temporary_path`]), then renamed over `path`.
    pub fn save_png(&self, path: impl AsRef<Path>) -> Result<(), PlotError> {
        output::write_atomically(path.as_ref(), &self.to_png_bytes()?)
    }
}
