//! The one error type of the crate, [`PlotError`]: what was wrong, naming the plot, series and field.
//!
//! Non-finite values are not errors: they are skipped (and counted, [`crate::Plot::n_skipped`]). Everything that
//! leaves nothing sensible to draw is, and so is a write that fails ([`PlotError::Io`], naming the file).

use std::fmt;
use std::path::PathBuf;

use galmass_core::atomic::AtomicWriteError;
use thiserror::Error;

/// Which axis of a plot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Axis {
    /// The horizontal axis.
    X,
    /// The vertical axis.
    Y,
    /// The colour axis of a heat map (its colour bar).
    Color,
}

impl fmt::Display for Axis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Axis::X => "x",
            Axis::Y => "y",
            Axis::Color => "colour",
        })
    }
}

/// A figure could not be built, drawn or written.
#[derive(Debug, Error)]
pub enum PlotError {
    /// A figure with a zero width or height.
    #[error("figure of {width}x{height} px has a zero side")]
    ZeroSizeCanvas {
        /// Requested width in pixels.
        width: u32,
        /// Requested height in pixels.
        height: u32,
    },
    /// A figure too large to allocate sensibly.
    #[error("figure of {width}x{height} px exceeds the limit of {max_pixels} pixels")]
    CanvasTooLarge {
        /// Requested width in pixels.
        width: u32,
        /// Requested height in pixels.
        height: u32,
        /// The limit on width x height.
        max_pixels: u64,
    },
    /// Two data fields of one series differ in length.
    #[error("{series}: `{field}` has {got} values, expected {expected} (the length of `{reference}`)")]
    LengthMismatch {
        /// The series, e.g. `series "data" (scatter)` or `series 2 (line)`.
        series: String,
        /// The field whose length is off.
        field: &'static str,
        /// The field whose length it must match.
        reference: &'static str,
        /// The length `reference` asks for.
        expected: usize,
        /// The length of `field`.
        got: usize,
    },
    /// A style, binning or shape parameter of a series is out of range.
    #[error("{series}: invalid `{field}`: {reason}")]
    InvalidSeries {
        /// The series.
        series: String,
        /// The parameter.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// A plot with no point that can be drawn (no series, or every value non-finite or outside a log axis).
    #[error("{plot} has no drawable data (finite, and positive on log10 axes)")]
    EmptyPlot {
        /// The plot, e.g. `plot "masses"` or `panel 2`.
        plot: String,
    },
    /// A log10 axis (or log10 colour scale) whose data has no positive finite value.
    #[error("{plot}: the log10 {axis} axis has no positive data")]
    NoPositiveData {
        /// The plot.
        plot: String,
        /// The axis.
        axis: Axis,
    },
    /// An explicit or derived axis range that cannot be drawn.
    #[error("{plot}: invalid {axis} axis range [{min}, {max}]: {reason}")]
    InvalidRange {
        /// The plot.
        plot: String,
        /// The axis.
        axis: Axis,
        /// Lower end.
        min: f64,
        /// Upper end.
        max: f64,
        /// Why.
        reason: &'static str,
    },
    /// A panel too small for its margins (title, labels, tick labels, colour bar).
    #[error("{plot}: a panel of {width}x{height} px leaves no room for data after its labels")]
    PanelTooSmall {
        /// The plot.
        plot: String,
        /// Panel width in pixels.
        width: u32,
        /// Panel height in pixels.
        height: u32,
    },
    /// A figure without plots.
    #[error("figure has no plots")]
    EmptyFigure,
    /// A figure grid with fewer cells than plots (or a zero side).
    #[error("figure grid of {rows}x{cols} cannot hold {n_plots} plots")]
    GridTooSmall {
        /// Rows of the grid.
        rows: usize,
        /// Columns of the grid.
        cols: usize,
        /// Plots added.
        n_plots: usize,
    },
    /// A font size outside [`crate::figure::MIN_FONT_SIZE_PX`] to [`crate::figure::MAX_FONT_SIZE_PX`].
    #[error("invalid font size {size_px} px: expected {min} to {max}")]
    InvalidFontSize {
        /// The size given.
        size_px: f64,
        /// The smallest size accepted.
        min: f64,
        /// The largest size accepted.
        max: f64,
    },
    /// The embedded font could not be registered with plotters.
    #[error("the embedded font {name} could not be loaded")]
    Font {
        /// The font's name.
        name: &'static str,
    },
    /// plotters failed while drawing.
    #[error("could not draw the figure: {reason}")]
    Draw {
        /// plotters' message.
        reason: String,
    },
    /// The PNG encoder failed.
    #[error("could not encode png: {reason}")]
    Encode {
        /// The encoder's message.
        reason: String,
    },
    /// Writing the file failed (the source names the destination and the step).
    #[error("could not write {}", path.display())]
    Io {
        /// The destination.
        path: PathBuf,
        /// The cause.
        #[source]
        source: AtomicWriteError,
    },
}

impl PlotError {
    /// A plotters drawing error, as text (plotters' error types borrow the backend).
    pub(crate) fn draw(error: impl fmt::Display) -> PlotError {
        PlotError::Draw { reason: error.to_string() }
    }
}
