//! Figures drawn end to end and read back through the `png` decoder: sizes, pixel positions of data, ticks, bars,
//! text (horizontal and rotated), heat maps and colour bars, determinism, errors and atomic saves.

use galmass_plot::axis::Tick;
use galmass_plot::series::{Band, Bins, HeatMap, Histogram, Line, Marker, Scatter};
use galmass_plot::{Axis, Color, Colormap, Figure, LegendPosition, PixelRect, Plot, PlotError, Scale};

/// A decoded PNG as RGB rows.
struct Decoded {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
}

impl Decoded {
    fn new(bytes: &[u8]) -> Decoded {
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap_or_else(|e| panic!("png header: {e}"));
        let mut buf = vec![0; reader.output_buffer_size().unwrap_or_else(|| panic!("png buffer size"))];
        let info = reader.next_frame(&mut buf).unwrap_or_else(|e| panic!("png frame: {e}"));
        assert_eq!(info.bit_depth, png::BitDepth::Eight);
        assert_eq!(info.color_type, png::ColorType::Rgb);
        Decoded { width: info.width, height: info.height, rgb: buf[..info.buffer_size()].to_vec() }
    }

    fn pixel(&self, x: i64, y: i64) -> Color {
        assert!(x >= 0 && y >= 0 && (x as u32) < self.width && (y as u32) < self.height, "({x}, {y}) outside");
        let i = 3 * (y as usize * self.width as usize + x as usize);
        Color::rgb(self.rgb[i], self.rgb[i + 1], self.rgb[i + 2])
    }

    /// Pixels of `rect` that differ from `background`.
    fn count_ink(&self, rect: PixelRect, background: Color) -> usize {
        (rect.top.max(0)..rect.bottom.min(i64::from(self.height)))
            .flat_map(|y| (rect.left.max(0)..rect.right.min(i64::from(self.width))).map(move |x| (x, y)))
            .filter(|&(x, y)| self.pixel(x, y) != background)
            .count()
    }
}

fn unit_plot() -> Plot {
    Plot::new().x_range(0.0, 1.0).y_range(0.0, 1.0).legend(LegendPosition::Hidden)
}

fn labels(ticks: &[Tick]) -> Vec<&str> {
    ticks.iter().filter_map(|t| t.label.as_deref()).collect()
}

#[test]
fn png_decodes_to_the_stated_size() {
    let plot = Plot::new().title("size").with(Scatter::new(&[1.0, 2.0, 3.0], &[3.0, 1.0, 2.0])).unwrap();
    let figure = Figure::new(640, 360).with(plot);
    let decoded = Decoded::new(&figure.to_png_bytes().unwrap());
    assert_eq!((decoded.width, decoded.height), (640, 360));
    let rendered = figure.render().unwrap();
    assert_eq!(decoded.rgb, rendered.image.as_rgb());
    // The background is the corner's colour (opaque: alpha is dropped).
    let grey = figure.clone().background(Color::rgba(10, 20, 30, 0)).to_png_bytes().unwrap();
    assert_eq!(Decoded::new(&grey).pixel(0, 0), Color::rgb(10, 20, 30));
}

#[test]
fn horizontal_line_at_half_lands_on_the_middle_row() {
    let plot = unit_plot().with(Line::new(&[0.0, 1.0], &[0.5, 0.5]).color(Color::TAB_RED).width(3.0)).unwrap();
    let figure = Figure::new(500, 400).with(plot);
    let rendered = figure.render().unwrap();
    let decoded = Decoded::new(&figure.to_png_bytes().unwrap());
    let area = rendered.panels[0].area;
    // Independently of the layout's own transform: y = 0.5 is halfway between the first and last rows.
    let expected_row = (area.top + area.bottom - 1) as f64 / 2.0;
    assert!((rendered.panels[0].y.to_pixel(0.5).unwrap() - expected_row).abs() < 1e-9);
    for x in [area.left + 5, (area.left + area.right) / 2, area.right - 5] {
        let red: Vec<i64> = (area.top..area.bottom).filter(|&y| decoded.pixel(x, y) == Color::TAB_RED).collect();
        assert!(!red.is_empty(), "no line pixel in column {x}");
        let middle = (red[0] + red[red.len() - 1]) as f64 / 2.0;
        assert!((middle - expected_row).abs() <= 1.5, "line centred on row {middle}, expected {expected_row}");
        assert!(red.len() <= 4, "a 3 px line covers at most 4 full rows, got {red:?}");
    }
}

#[test]
fn scatter_point_colours_its_pixel() {
    let plot = unit_plot().with(Scatter::new(&[0.25], &[0.75]).color(Color::TAB_GREEN).size(8.0)).unwrap();
    let figure = Figure::new(400, 400).with(plot);
    let rendered = figure.render().unwrap();
    let decoded = Decoded::new(&figure.to_png_bytes().unwrap());
    let area = rendered.panels[0].area;
    let (px, py) = rendered.panels[0].to_pixel(0.25, 0.75).unwrap();
    let expected_x = area.left as f64 + 0.25 * (area.right - 1 - area.left) as f64;
    let expected_y = (area.bottom - 1) as f64 - 0.75 * (area.bottom - 1 - area.top) as f64;
    assert!((px - expected_x).abs() < 1e-9 && (py - expected_y).abs() < 1e-9);
    assert_eq!(decoded.pixel(px.floor() as i64, py.floor() as i64), Color::TAB_GREEN);
    assert_eq!(decoded.pixel(px.floor() as i64 + 7, py.floor() as i64), Color::WHITE);
    // Nothing else in the data area is green.
    let n_green = (area.top..area.bottom)
        .flat_map(|y| (area.left..area.right).map(move |x| (x, y)))
        .filter(|&(x, y)| decoded.pixel(x, y) == Color::TAB_GREEN)
        .count();
    assert!((30..=81).contains(&n_green), "an 8 px disc has about 50 full pixels, got {n_green}");
}

#[test]
fn log_axis_from_3e8_to_2e12_is_labelled_by_decades() {
    let plot = Plot::new().x_scale(Scale::Log10).with(Scatter::new(&[3e8, 2e12], &[1.0, 2.0])).unwrap();
    let rendered = Figure::new(600, 400).with(plot).render().unwrap();
    let x = &rendered.panels[0].x;
    assert_eq!(labels(&x.ticks), ["10⁹", "10¹⁰", "10¹¹", "10¹²"]);
    let majors: Vec<f64> = x.ticks.iter().filter(|t| t.label.is_some()).map(|t| t.value).collect();
    assert_eq!(majors, [1e9, 1e10, 1e11, 1e12]);
    // Minor ticks at 2..9 x 10^n, unlabelled.
    assert!(x.ticks.iter().any(|t| t.label.is_none() && (t.value - 5e10).abs() < 1.0));
}

#[test]
fn linear_ticks_for_0_to_0_93_step_by_0_2() {
    let plot = Plot::new().with(Line::new(&[0.0, 0.93], &[0.0, 0.93])).unwrap();
    let rendered = Figure::new(400, 400).with(plot).render().unwrap();
    for axis in [&rendered.panels[0].x, &rendered.panels[0].y] {
        let values: Vec<f64> = axis.ticks.iter().map(|t| t.value).collect();
        assert_eq!(values, [0.0, 0.2, 0.4, 0.6, 0.8]);
        assert_eq!(labels(&axis.ticks), ["0.0", "0.2", "0.4", "0.6", "0.8"]);
    }
}

#[test]
fn histogram_bar_heights_are_proportional_to_counts() {
    let values = [0.5, 1.2, 1.7, 2.1, 2.2, 2.8, 2.9];
    let counts = [1.0, 2.0, 4.0];
    let plot = Plot::new()
        .x_range(0.0, 3.0)
        .y_range(0.0, 5.0)
        .legend(LegendPosition::Hidden)
        .with(Histogram::new(&values).bins(Bins::Edges(vec![0.0, 1.0, 2.0, 3.0])).color(Color::TAB_PURPLE))
        .unwrap();
    let figure = Figure::new(500, 420).with(plot);
    let rendered = figure.render().unwrap();
    let decoded = Decoded::new(&figure.to_png_bytes().unwrap());
    let layout = &rendered.panels[0];
    let area = layout.area;
    let pixels_per_count = (area.bottom - area.top) as f64 / 5.0;
    let mut heights = Vec::new();
    for (i, count) in counts.iter().enumerate() {
        let column = layout.x.to_pixel(i as f64 + 0.5).unwrap().floor() as i64;
        let filled: Vec<i64> =
            (area.top..area.bottom).filter(|&y| decoded.pixel(column, y) == Color::TAB_PURPLE).collect();
        // One contiguous run down to the bottom of the area.
        assert_eq!(filled.last().copied(), Some(area.bottom - 1), "bar {i} does not reach the axis");
        assert_eq!(filled.len() as i64, filled[filled.len() - 1] - filled[0] + 1, "bar {i} has holes");
        let height = filled.len() as f64;
        assert!((height - count * pixels_per_count).abs() <= 1.5, "bar {i}: {height} px for count {count}");
        heights.push(height);
    }
    assert!((heights[1] / heights[0] - 2.0).abs() < 0.05 && (heights[2] / heights[0] - 4.0).abs() < 0.1, "{heights:?}");
}

#[test]
fn title_axis_labels_and_the_rotated_y_label_draw_ink() {
    let plot = Plot::new()
        .title("Enclosed mass")
        .x_label("M_{true} [M_{⊙}]")
        .y_label("M_{pred} [10^{9} M_{⊙}]")
        .with(Scatter::new(&[1.0, 2.0], &[1.0, 2.0]))
        .unwrap();
    let rendered = Figure::new(600, 450).with(plot.clone()).render().unwrap();
    let bare = Plot::new().with(Scatter::new(&[1.0, 2.0], &[1.0, 2.0])).unwrap();
    let blank = Figure::new(600, 450).with(bare).render().unwrap();
    let decoded = Decoded::new(&rendered.image.to_png_bytes().unwrap());
    let layout = &rendered.panels[0];
    let area = layout.area;
    let cell = layout.cell;
    // Title: the band above the data area.
    let title_band = PixelRect { left: area.left, right: area.right, top: cell.top, bottom: area.top - 2 };
    // y label: the strip left of the tick labels, beside the data area.
    let y_band = PixelRect { left: cell.left, right: cell.left + 30, top: area.top, bottom: area.bottom };
    // x label: below the tick labels.
    let x_band = PixelRect { left: area.left, right: area.right, top: area.bottom + 35, bottom: cell.bottom };
    for (what, band) in [("title", title_band), ("y label", y_band), ("x label", x_band)] {
        let ink = decoded.count_ink(band, Color::WHITE);
        assert!(ink > 150, "{what}: only {ink} inked pixels in {band:?}");
    }
    // The rotated label is taller than wide: its ink spans more rows than columns.
    let rows: Vec<i64> = (y_band.top..y_band.bottom)
        .filter(|&y| (y_band.left..y_band.right).any(|x| decoded.pixel(x, y) != Color::WHITE))
        .collect();
    let cols: Vec<i64> = (y_band.left..y_band.right)
        .filter(|&x| (y_band.top..y_band.bottom).any(|y| decoded.pixel(x, y) != Color::WHITE))
        .collect();
    let (height, width) = (rows[rows.len() - 1] - rows[0], cols[cols.len() - 1] - cols[0]);
    assert!(height > 5 * width, "rotated label {width} px wide, {height} px tall");
    // Without labels those bands are empty (the panel then uses the room for data instead).
    let blank_decoded = Decoded::new(&blank.image.to_png_bytes().unwrap());
    let blank_cell = blank.panels[0].cell;
    let strip = PixelRect { left: blank_cell.left, right: blank_cell.left + 5, top: 0, bottom: 450 };
    assert_eq!(blank_decoded.count_ink(strip, Color::WHITE), 0);
}

#[test]
fn tick_labels_draw_ink_beside_their_ticks() {
    let plot = Plot::new().y_scale(Scale::Log10).with(Scatter::new(&[0.0, 1.0], &[1e9, 1e12])).unwrap();
    let rendered = Figure::new(500, 400).with(plot).render().unwrap();
    let decoded = Decoded::new(&rendered.image.to_png_bytes().unwrap());
    let layout = &rendered.panels[0];
    for tick in layout.y.ticks.iter().filter(|t| t.label.is_some()) {
        let row = layout.y.to_pixel(tick.value).unwrap().floor() as i64;
        let label_box =
            PixelRect { left: layout.cell.left, right: layout.area.left - 8, top: row - 10, bottom: row + 10 };
        let ink = decoded.count_ink(label_box, Color::WHITE);
        assert!(ink > 40, "tick {:?}: {ink} inked pixels", tick.label);
        // Centred on the tick: as much ink above the row as below, within a few rows' worth.
        let above = decoded.count_ink(PixelRect { bottom: row, ..label_box }, Color::WHITE) as f64;
        let below = decoded.count_ink(PixelRect { top: row + 1, ..label_box }, Color::WHITE) as f64;
        assert!((above - below).abs() < 0.45 * (above + below), "tick {:?}: {above} above, {below} below", tick.label);
    }
}

#[test]
fn identical_inputs_give_identical_bytes() {
    let build = |shift: f64| {
        let x: Vec<f64> = (0..50).map(|i| f64::from(i) * 0.1).collect();
        let y: Vec<f64> = x.iter().map(|v| (v + shift).sin()).collect();
        let lo: Vec<f64> = y.iter().map(|v| v - 0.2).collect();
        let hi: Vec<f64> = y.iter().map(|v| v + 0.2).collect();
        let left = Plot::new()
            .title("sin")
            .with(Band::new(&x, &lo, &hi).label("band"))
            .unwrap()
            .with(Line::new(&x, &y).dashed(true).label("line"))
            .unwrap()
            .with(Scatter::new(&x, &y).marker(Marker::Triangle).label("points"))
            .unwrap();
        let right = Plot::new().with(Histogram::new(&y).label("hist")).unwrap();
        let values: Vec<f64> = (0..100).map(|i| (f64::from(i) * 0.1 + shift).cos()).collect();
        let map = Plot::new().with(HeatMap::new(&values, 10, 10).colorbar("cos")).unwrap();
        Figure::new(1000, 300).grid(1, 3).title("determinism").with(left).with(right).with(map).to_png_bytes().unwrap()
    };
    assert_eq!(build(0.0), build(0.0));
    assert_ne!(build(0.0), build(0.3));
}

#[test]
fn mismatched_lengths_are_an_error() {
    let mut plot = Plot::new();
    let err = plot.add(Scatter::new(&[1.0, 2.0, 3.0], &[1.0, 2.0]).label("stars")).unwrap_err();
    assert!(
        matches!(&err, PlotError::LengthMismatch { field: "y", expected: 3, got: 2, series, .. } if series.contains("stars")),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "series \"stars\" (scatter): `y` has 2 values, expected 3 (the length of `x`)");
    assert!(plot.series().is_empty(), "a rejected series is not added");
    let err = plot.add(Band::new(&[1.0, 2.0], &[0.0, 1.0], &[2.0])).unwrap_err();
    assert_eq!(err.to_string(), "series 1 (band): `hi` has 1 values, expected 2 (the length of `x`)");
    let err = plot.add(Line::new(&[1.0], &[])).unwrap_err();
    assert!(matches!(err, PlotError::LengthMismatch { field: "y", .. }));
    let err = plot.add(HeatMap::new(&[1.0, 2.0, 3.0], 2, 2)).unwrap_err();
    assert!(matches!(err, PlotError::LengthMismatch { field: "values", expected: 4, got: 3, .. }), "{err:?}");
}

#[test]
fn log_axis_with_non_positive_data_is_an_error() {
    let plot = Plot::new().title("masses").y_scale(Scale::Log10).with(Scatter::new(&[1.0, 2.0], &[0.0, -3.0])).unwrap();
    let err = Figure::new(300, 300).with(plot).render().unwrap_err();
    assert!(matches!(&err, PlotError::NoPositiveData { axis: Axis::Y, plot } if plot == "plot \"masses\""), "{err:?}");
    assert_eq!(err.to_string(), "plot \"masses\": the log10 y axis has no positive data");
    let hist = Plot::new().x_scale(Scale::Log10).with(Histogram::new(&[-1.0, 0.0])).unwrap();
    let err = Figure::new(300, 300).with(hist).render().unwrap_err();
    assert!(matches!(err, PlotError::NoPositiveData { axis: Axis::X, .. }), "{err:?}");
    let range = Plot::new().x_scale(Scale::Log10).x_range(0.0, 10.0).with(Scatter::new(&[1.0], &[1.0])).unwrap();
    let err = Figure::new(300, 300).with(range).render().unwrap_err();
    assert!(matches!(err, PlotError::InvalidRange { axis: Axis::X, .. }), "{err:?}");
    let map = Plot::new().with(HeatMap::new(&[0.0, -1.0, 0.0, -2.0], 2, 2).color_scale(Scale::Log10)).unwrap();
    let err = Figure::new(300, 300).with(map).render().unwrap_err();
    assert!(matches!(err, PlotError::NoPositiveData { axis: Axis::Color, .. }), "{err:?}");
}

#[test]
fn empty_plots_bad_figures_and_zero_size_figures_are_errors() {
    let scatter = || Plot::new().with(Scatter::new(&[1.0], &[1.0])).unwrap();
    assert!(matches!(Figure::new(300, 300).with(Plot::new()).render(), Err(PlotError::EmptyPlot { .. })));
    let nan = Plot::new().with(Scatter::new(&[f64::NAN], &[1.0])).unwrap();
    let err = Figure::new(300, 300).with(nan).render().unwrap_err();
    assert_eq!(err.to_string(), "panel 1 has no drawable data (finite, and positive on log10 axes)");
    assert!(matches!(Figure::new(0, 300).with(scatter()).render(), Err(PlotError::ZeroSizeCanvas { width: 0, .. })));
    assert!(matches!(Figure::new(300, 0).with(scatter()).to_png_bytes(), Err(PlotError::ZeroSizeCanvas { .. })));
    assert!(matches!(Figure::new(300, 300).render(), Err(PlotError::EmptyFigure)));
    let too_many = Figure::new(300, 300).grid(1, 1).with(scatter()).with(scatter());
    assert!(matches!(too_many.render(), Err(PlotError::GridTooSmall { rows: 1, cols: 1, n_plots: 2 })));
    assert!(matches!(Figure::new(300, 300).grid(0, 2).with(scatter()).render(), Err(PlotError::GridTooSmall { .. })));
    assert!(matches!(
        Figure::new(300, 300).font_size(0.0).with(scatter()).render(),
        Err(PlotError::InvalidFontSize { .. })
    ));
    assert!(matches!(Figure::new(40, 30).with(scatter()).render(), Err(PlotError::PanelTooSmall { .. })));
    assert!(matches!(Figure::new(100_000, 100_000).with(scatter()).render(), Err(PlotError::CanvasTooLarge { .. })));
    let backwards = Plot::new().y_range(1.0, 0.0).with(Scatter::new(&[1.0], &[1.0])).unwrap();
    assert!(matches!(
        Figure::new(300, 300).with(backwards).render(),
        Err(PlotError::InvalidRange { axis: Axis::Y, .. })
    ));
}

#[test]
fn non_finite_values_are_skipped_and_counted() {
    let x = [1.0, 2.0, f64::NAN, 4.0, -1.0, 6.0];
    let y = [1.0, f64::INFINITY, 3.0, 4.0, 5.0, 6.0];
    let plot = Plot::new()
        .x_scale(Scale::Log10)
        .with(Scatter::new(&x, &y))
        .unwrap()
        .with(Line::new(&x, &y))
        .unwrap()
        .with(Histogram::new(&[1.0, f64::NAN, 2.0, 50.0]).bins(Bins::Edges(vec![0.5, 1.5, 2.5])))
        .unwrap();
    // Per point series: the infinite y, the NaN x and the negative x on the log axis; the histogram: NaN and 50.
    assert_eq!(plot.n_skipped(), 3 + 3 + 2);
    let figure = Figure::new(400, 300).with(plot);
    let rendered = figure.render().unwrap();
    assert_eq!(rendered.n_skipped, 8);
    assert_eq!(figure.n_skipped(), 8);
}

#[test]
fn bands_are_alpha_blended() {
    let color = Color::TAB_BLUE.with_alpha(0.5);
    let plot = unit_plot().with(Band::new(&[0.0, 1.0], &[0.25, 0.25], &[0.75, 0.75]).color(color)).unwrap();
    let rendered = Figure::new(300, 300).with(plot).render().unwrap();
    let layout = &rendered.panels[0];
    let (px, py) = layout.to_pixel(0.5, 0.5).unwrap();
    let alpha = f64::from(color.a) / 255.0;
    let blend = |c: u8| f64::from(c) * alpha + 255.0 * (1.0 - alpha);
    let got = rendered.image.pixel(px as u32, py as u32).unwrap();
    for (g, c) in [(got.r, color.r), (got.g, color.g), (got.b, color.b)] {
        assert!((f64::from(g) - blend(c)).abs() <= 1.0, "{got:?} is not a 50 % blend of {color:?} over white");
    }
    let (_, outside) = layout.to_pixel(0.5, 0.9).unwrap();
    assert_eq!(rendered.image.pixel(px as u32, outside as u32), Some(Color::WHITE));
}

#[test]
fn dashed_lines_have_gaps() {
    let dashed =
        unit_plot().with(Line::new(&[0.0, 1.0], &[0.5, 0.5]).color(Color::BLACK).width(2.0).dashed(true)).unwrap();
    let rendered = Figure::new(400, 300).with(dashed).render().unwrap();
    let layout = &rendered.panels[0];
    let row = layout.y.to_pixel(0.5).unwrap().floor() as u32;
    let area = layout.area;
    let on: Vec<bool> =
        (area.left..area.right).map(|x| rendered.image.pixel(x as u32, row) == Some(Color::BLACK)).collect();
    let n_dashes = on.windows(2).filter(|w| !w[0] && w[1]).count();
    assert!(n_dashes > 10, "{n_dashes} dashes");
    let n_on = on.iter().filter(|o| **o).count();
    assert!(n_on > on.len() / 3 && n_on < on.len() * 5 / 6, "{n_on} of {} columns inked", on.len());
}

#[test]
fn series_are_clipped_to_the_data_area() {
    // A line and markers reaching far outside an explicit range, a band beyond it, in the left of two panels.
    let plot = unit_plot()
        .with(Line::new(&[-10.0, 10.0], &[-10.0, 10.0]).color(Color::TAB_RED).width(4.0))
        .unwrap()
        .with(Scatter::new(&[1.0, 0.0, 1e300], &[1.02, -0.03, 0.5]).color(Color::TAB_RED).size(12.0))
        .unwrap()
        .with(Band::new(&[-5.0, 5.0], &[-5.0, -5.0], &[5.0, 5.0]).color(Color::TAB_RED.with_alpha(0.2)))
        .unwrap();
    let right = Plot::new().with(Scatter::new(&[0.0], &[0.0]).color(Color::TAB_BLUE)).unwrap();
    let rendered = Figure::new(800, 400).grid(1, 2).with(plot).with(right).render().unwrap();
    let area = rendered.panels[0].area;
    let is_reddish = |c: Color| c.r > c.g.saturating_add(40) && c.r > c.b.saturating_add(40);
    for y in 0..400u32 {
        for x in 0..800u32 {
            let c = rendered.image.pixel(x, y).unwrap();
            if is_reddish(c) {
                assert!(area.contains(i64::from(x), i64::from(y)), "red pixel {c:?} at ({x}, {y}) outside {area:?}");
            }
        }
    }
}

#[test]
fn heat_map_with_colour_bar_renders() {
    let (n_rows, n_cols) = (20, 30);
    let values: Vec<f64> = (0..n_rows * n_cols).map(|i| (i / n_cols) as f64).collect(); // rises with the row
    let plot = Plot::new()
        .title("Σ map")
        .x_label("x [kpc]")
        .y_label("y [kpc]")
        .with(HeatMap::new(&values, n_rows, n_cols).extent(-3.0, 3.0, -2.0, 2.0).colorbar("row index"))
        .unwrap();
    let figure = Figure::new(640, 420).with(plot);
    let rendered = figure.render().unwrap();
    let layout = &rendered.panels[0];
    // The map fills the axes exactly.
    assert_eq!((layout.x.min, layout.x.max, layout.y.min, layout.y.max), (-3.0, 3.0, -2.0, 2.0));
    // Bottom rows are the low end of viridis, top rows the high end.
    let (cx, _) = layout.to_pixel(0.0, 0.0).unwrap();
    let (_, bottom) = layout.to_pixel(0.0, -1.95).unwrap();
    let (_, top) = layout.to_pixel(0.0, 1.95).unwrap();
    assert_eq!(rendered.image.pixel(cx as u32, bottom as u32), Some(Colormap::Viridis.at(0.0)));
    assert_eq!(rendered.image.pixel(cx as u32, top as u32), Some(Colormap::Viridis.at(1.0)));
    // The colour bar sits right of the area, its gradient dark at the bottom and light at the top.
    let bar = layout.colorbar.expect("a colour bar");
    assert!(bar.left > layout.area.right && bar.right < layout.cell.right, "{bar:?}");
    assert_eq!((bar.top, bar.bottom), (layout.area.top, layout.area.bottom));
    let mid = ((bar.left + bar.right) / 2) as u32;
    assert_eq!(rendered.image.pixel(mid, (bar.bottom - 1) as u32), Some(Colormap::Viridis.at(0.0)));
    assert_eq!(rendered.image.pixel(mid, bar.top as u32), Some(Colormap::Viridis.at(1.0)));
    // Its tick labels and rotated label draw ink right of the bar.
    let decoded = Decoded::new(&figure.to_png_bytes().unwrap());
    let labels = PixelRect { left: bar.right + 2, right: layout.cell.right, top: bar.top, bottom: bar.bottom };
    assert!(decoded.count_ink(labels, Color::WHITE) > 300);
    // A log colour scale over positive values draws too; non-positive cells are skipped.
    let positive: Vec<f64> = values.iter().map(|v| 10f64.powf(*v / 5.0) - 1.0).collect();
    let log =
        Plot::new().with(HeatMap::new(&positive, n_rows, n_cols).color_scale(Scale::Log10).colorbar("Σ")).unwrap();
    let log_figure = Figure::new(640, 420).with(log);
    assert_eq!(log_figure.n_skipped(), n_cols);
    assert!(log_figure.render().unwrap().panels[0].colorbar.is_some());
}

#[test]
fn the_legend_goes_where_the_data_is_not() {
    // Data in the upper right: the best corner is another one.
    let plot = Plot::new()
        .x_range(0.0, 1.0)
        .y_range(0.0, 1.0)
        .with(Scatter::new(&[0.8, 0.85, 0.9, 0.95], &[0.8, 0.85, 0.9, 0.95]).label("upper right"))
        .unwrap();
    let rendered = Figure::new(400, 300).with(plot.clone()).render().unwrap();
    let layout = &rendered.panels[0];
    let legend = layout.legend.expect("a labelled series gets a legend");
    let area = layout.area;
    assert!(legend.intersect(&area) == legend, "legend {legend:?} inside the area {area:?}");
    assert!(legend.right < (area.left + area.right) / 2, "legend {legend:?} moved to the left half");
    let fixed = Figure::new(400, 300).with(plot.clone().legend(LegendPosition::LowerRight)).render().unwrap();
    let lower_right = fixed.panels[0].legend.unwrap();
    assert!(lower_right.left > (area.left + area.right) / 2 && lower_right.top > (area.top + area.bottom) / 2);
    let hidden = Figure::new(400, 300).with(plot.legend(LegendPosition::Hidden)).render().unwrap();
    assert_eq!(hidden.panels[0].legend, None);
}

#[test]
fn panels_fill_the_grid_row_by_row() {
    let plot = || Plot::new().with(Scatter::new(&[1.0, 2.0], &[1.0, 2.0])).unwrap();
    let figure = Figure::new(600, 400).grid(2, 2).title("grid").with(plot()).with(plot()).with(plot());
    let rendered = figure.render().unwrap();
    let cells: Vec<PixelRect> = rendered.panels.iter().map(|p| p.cell).collect();
    assert_eq!((cells[0].left, cells[0].right, cells[1].left, cells[1].right), (0, 300, 300, 600));
    assert_eq!(cells[2].left, 0);
    assert!(cells[0].top > 0, "the figure title sits above the grid");
    assert_eq!(cells[0].bottom, cells[2].top);
    assert_eq!(cells[2].bottom, 400);
    for p in &rendered.panels {
        assert!(p.area.intersect(&p.cell) == p.area, "data area {:?} inside its cell {:?}", p.area, p.cell);
    }
}

#[test]
fn save_png_writes_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("figure.png");
    std::fs::write(&path, b"old").unwrap();
    let figure = Figure::new(320, 240).with(Plot::new().with(Scatter::new(&[1.0], &[2.0])).unwrap());
    figure.save_png(&path).unwrap();
    let decoded = Decoded::new(&std::fs::read(&path).unwrap());
    assert_eq!((decoded.width, decoded.height), (320, 240));
    let names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["figure.png"], "no temporary file is left behind");
    // A destination under a regular file cannot be written: an I/O error naming it, nothing left behind.
    let blocked = path.join("figure.png");
    let err = figure.save_png(&blocked).unwrap_err();
    assert!(matches!(&err, PlotError::Io { path: p, .. } if *p == blocked), "{err:?}");
    assert!(err.to_string().starts_with("could not write "), "{err}");
    let names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["figure.png"]);
}

#[test]
fn extreme_values_never_panic() {
    let weird = [0.0, -0.0, 1e-320, -1e-320, 1e308, -1e308, f64::MAX, f64::MIN_POSITIVE, f64::NAN, f64::INFINITY, 1.0];
    let mut outcomes = Vec::new();
    for (i, &a) in weird.iter().enumerate() {
        for &b in &weird[i..] {
            for (x_scale, y_scale) in
                [(Scale::Linear, Scale::Linear), (Scale::Log10, Scale::Log10), (Scale::Linear, Scale::Log10)]
            {
                let x = [a, b, 1.0];
                let y = [b, a, 2.0];
                let plot = Plot::new()
                    .x_scale(x_scale)
                    .y_scale(y_scale)
                    .with(Scatter::new(&x, &y).label("s"))
                    .unwrap()
                    .with(Line::new(&x, &y).dashed(true))
                    .unwrap()
                    .with(Band::new(&x, &y, &x))
                    .unwrap()
                    .with(Histogram::new(&[a, b]).bins(Bins::Count(3)).normalised(true))
                    .unwrap()
                    .with(HeatMap::new(&[a, b, 1.0, 2.0], 2, 2).extent(1.0, 2.0, 1.0, 2.0))
                    .unwrap();
                outcomes.push(Figure::new(160, 120).font_size(8.0).with(plot).render().is_ok());
            }
        }
    }
    assert!(outcomes.iter().any(|ok| *ok) && outcomes.iter().any(|ok| !ok));
    // Oversized text in a small figure is an error, not a panic.
    let plot = Plot::new().title("t").x_label("x").y_label("y").with(Scatter::new(&[1.0], &[1.0])).unwrap();
    assert!(matches!(Figure::new(100, 80).font_size(60.0).with(plot).render(), Err(PlotError::PanelTooSmall { .. })));
}
