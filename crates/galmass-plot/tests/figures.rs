//! Figures drawn end to end and read back through the `png` decoder: sizes, pixel positions of data, ticks, bars,
//! text, determinism and errors.

use galmass_plot::canvas::{Marker, PixelRect};
use galmass_plot::series::{Band, Bins, Histogram, Line, Scatter};
use galmass_plot::text::{HAlign, Rotation, TextStyle, VAlign};
use galmass_plot::ticks::{linear_ticks, log10_ticks};
use galmass_plot::{Axis, Canvas, Color, Figure, LegendPosition, Plot, PlotError, Scale};

/// A decoded PNG as RGBA rows.
struct Image {
    width: u32,
    height: u32,
    rgba: Vec<u8>,
}

impl Image {
    fn decode(bytes: &[u8]) -> Image {
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().expect("png header");
        let mut buf = vec![0; reader.output_buffer_size().expect("buffer size")];
        let info = reader.next_frame(&mut buf).expect("png frame");
        assert_eq!(info.bit_depth, png::BitDepth::Eight);
        let rgba = match info.color_type {
            png::ColorType::Rgba => buf[..info.buffer_size()].to_vec(),
            png::ColorType::Rgb => {
                buf[..info.buffer_size()].chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect()
            }
            other => panic!("unexpected colour type {other:?}"),
        };
        Image { width: info.width, height: info.height, rgba }
    }

    fn pixel(&self, x: i64, y: i64) -> Color {
        assert!(x >= 0 && y >= 0 && (x as u32) < self.width && (y as u32) < self.height, "({x}, {y}) outside");
        let i = 4 * (y as usize * self.width as usize + x as usize);
        Color::rgba(self.rgba[i], self.rgba[i + 1], self.rgba[i + 2], self.rgba[i + 3])
    }
}

fn unit_plot() -> Plot {
    Plot::new().x_range(0.0, 1.0).y_range(0.0, 1.0).legend(LegendPosition::Hidden)
}

#[test]
fn png_decodes_to_the_stated_size() {
    let plot = Plot::new().title("size").with(Scatter::new(&[1.0, 2.0, 3.0], &[3.0, 1.0, 2.0])).unwrap();
    let figure = Figure::new(640, 360).with(plot);
    let image = Image::decode(&figure.to_png_bytes().unwrap());
    assert_eq!((image.width, image.height), (640, 360));
    let rendered = figure.render().unwrap();
    assert_eq!(image.rgba, rendered.canvas.as_rgba());
    // A transparent background is kept as RGBA.
    let transparent = figure.clone().background(Color::TRANSPARENT).to_png_bytes().unwrap();
    assert_eq!(Image::decode(&transparent).pixel(0, 0), Color::TRANSPARENT);
}

#[test]
fn horizontal_line_at_half_lands_on_the_middle_row() {
    let plot = unit_plot().with(Line::new(&[0.0, 1.0], &[0.5, 0.5]).color(Color::TAB_RED).width(3.0)).unwrap();
    let figure = Figure::new(500, 400).with(plot);
    let rendered = figure.render().unwrap();
    let image = Image::decode(&figure.to_png_bytes().unwrap());
    let area = rendered.panels[0].area;
    // Independently of the layout's own transform: y = 0.5 is halfway between the frame lines.
    let expected_row = (area.top - 1 + area.bottom) as f64 / 2.0;
    assert!((rendered.panels[0].y.to_pixel(0.5).unwrap() - (expected_row + 0.5)).abs() < 1e-9);
    for x in [area.left + 5, (area.left + area.right) / 2, area.right - 5] {
        let red: Vec<i64> = (area.top..area.bottom).filter(|&y| image.pixel(x, y) == Color::TAB_RED).collect();
        assert!(!red.is_empty(), "no line pixel in column {x}");
        let middle = (red[0] + red[red.len() - 1]) as f64 / 2.0;
        assert!((middle - expected_row).abs() <= 1.0, "line centred on row {middle}, expected {expected_row}");
        assert!(red.len() <= 3, "a 3 px line covers at most 3 full rows, got {red:?}");
    }
}

#[test]
fn scatter_point_colours_its_pixel() {
    let plot = unit_plot().with(Scatter::new(&[0.25], &[0.75]).color(Color::TAB_GREEN).size(8.0)).unwrap();
    let figure = Figure::new(400, 400).with(plot);
    let rendered = figure.render().unwrap();
    let image = Image::decode(&figure.to_png_bytes().unwrap());
    let area = rendered.panels[0].area;
    let (px, py) = rendered.panels[0].to_pixel(0.25, 0.75).unwrap();
    let expected_x = (area.left - 1) as f64 + 0.5 + 0.25 * (area.right - area.left + 1) as f64;
    let expected_y = (area.bottom as f64 + 0.5) - 0.75 * (area.bottom - area.top + 1) as f64;
    assert!((px - expected_x).abs() < 1e-9 && (py - expected_y).abs() < 1e-9);
    assert_eq!(image.pixel(px.floor() as i64, py.floor() as i64), Color::TAB_GREEN);
    assert_eq!(image.pixel(px.floor() as i64 + 6, py.floor() as i64), Color::WHITE);
    // Nothing else in the data area is green.
    let n_green = (area.top..area.bottom)
        .flat_map(|y| (area.left..area.right).map(move |x| (x, y)))
        .filter(|&(x, y)| image.pixel(x, y) == Color::TAB_GREEN)
        .count();
    assert!((30..=64).contains(&n_green), "an 8 px disc has about 50 full pixels, got {n_green}");
}

#[test]
fn log_ticks_for_3e8_to_2e12_are_the_decades() {
    let labelled = |ticks: &[galmass_plot::ticks::Tick]| -> Vec<f64> {
        ticks.iter().filter(|t| t.label.is_some()).map(|t| t.value).collect()
    };
    assert_eq!(labelled(&log10_ticks(3e8, 2e12, 6)), [1e9, 1e10, 1e11, 1e12]);
    // The same through a plot whose data spans [3e8, 2e12].
    let plot = Plot::new().x_scale(Scale::Log10).with(Scatter::new(&[3e8, 2e12], &[1.0, 2.0])).unwrap();
    let rendered = Figure::new(600, 400).with(plot).render().unwrap();
    assert_eq!(labelled(&rendered.panels[0].x.ticks), [1e9, 1e10, 1e11, 1e12]);
    let labels: Vec<&str> = rendered.panels[0].x.ticks.iter().filter_map(|t| t.label.as_deref()).collect();
    assert_eq!(labels, ["10^{9}", "10^{10}", "10^{11}", "10^{12}"]);
}

#[test]
fn linear_ticks_for_0_to_0_93_step_by_0_2() {
    let values: Vec<f64> = linear_ticks(0.0, 0.93, 6).iter().map(|t| t.value).collect();
    assert_eq!(values, [0.0, 0.2, 0.4, 0.6, 0.8]);
    let plot = Plot::new().with(Line::new(&[0.0, 0.93], &[0.0, 0.93])).unwrap();
    let rendered = Figure::new(400, 400).with(plot).render().unwrap();
    for axis in [&rendered.panels[0].x, &rendered.panels[0].y] {
        let values: Vec<f64> = axis.ticks.iter().map(|t| t.value).collect();
        assert_eq!(values, [0.0, 0.2, 0.4, 0.6, 0.8]);
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
    let image = Image::decode(&figure.to_png_bytes().unwrap());
    let layout = &rendered.panels[0];
    let area = layout.area;
    let pixels_per_count = (area.bottom - area.top + 1) as f64 / 5.0;
    let mut heights = Vec::new();
    for (i, count) in counts.iter().enumerate() {
        let column = layout.x.to_pixel(i as f64 + 0.5).unwrap().floor() as i64;
        let filled: Vec<i64> =
            (area.top..area.bottom).filter(|&y| image.pixel(column, y) == Color::TAB_PURPLE).collect();
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
fn text_renders_inside_its_bounding_box() {
    for rotation in [Rotation::None, Rotation::Ccw90] {
        let mut canvas = Canvas::new(200, 200, Color::WHITE).unwrap();
        let style = TextStyle::new(2).rotation(rotation).align(HAlign::Center, VAlign::Center);
        let text = "M_{pred}/10^9 (x) <=%";
        let drawn = canvas.draw_text(100.0, 100.0, text, &style);
        assert_eq!(style.measure(text), (drawn.width(), drawn.height()));
        let (mut inside, mut outside) = (0, 0);
        for y in 0..200 {
            for x in 0..200 {
                if canvas.pixel(x, y) != Some(Color::WHITE) {
                    if drawn.contains(i64::from(x), i64::from(y)) {
                        inside += 1;
                    } else {
                        outside += 1;
                    }
                }
            }
        }
        assert!(inside > 100, "{rotation:?}: only {inside} inked pixels");
        assert_eq!(outside, 0, "{rotation:?}: ink outside the box {drawn:?}");
    }
}

#[test]
fn exponents_are_raised_above_the_capitals() {
    let ink_rows = |text: &str| {
        let mut canvas = Canvas::new(100, 60, Color::WHITE).unwrap();
        canvas.draw_text(10.0, 40.0, text, &TextStyle::new(2));
        let rows: Vec<u32> = (0..60).filter(|&y| (0..100).any(|x| canvas.pixel(x, y) != Some(Color::WHITE))).collect();
        (rows[0], rows[rows.len() - 1])
    };
    let (top_plain, bottom_plain) = ink_rows("10");
    let (top_power, bottom_power) = ink_rows("10^9");
    assert_eq!((top_plain, bottom_plain), (26, 39), "capitals are 14 px tall, ending on the baseline");
    assert!(top_power < top_plain, "the exponent starts above the capitals");
    assert_eq!(bottom_power, bottom_plain);
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
        Figure::new(700, 300).grid(1, 2).title("determinism").with(left).with(right).to_png_bytes().unwrap()
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
}

#[test]
fn empty_plots_bad_figures_and_zero_size_canvases_are_errors() {
    let scatter = || Plot::new().with(Scatter::new(&[1.0], &[1.0])).unwrap();
    assert!(matches!(Figure::new(300, 300).with(Plot::new()).render(), Err(PlotError::EmptyPlot { .. })));
    let nan = Plot::new().with(Scatter::new(&[f64::NAN], &[1.0])).unwrap();
    let err = Figure::new(300, 300).with(nan).render().unwrap_err();
    assert_eq!(err.to_string(), "panel 1 has no drawable data (finite, and positive on log10 axes)");
    assert!(matches!(Figure::new(0, 300).with(scatter()).render(), Err(PlotError::ZeroSizeCanvas { width: 0, .. })));
    assert!(matches!(Figure::new(300, 300).render(), Err(PlotError::EmptyFigure)));
    let too_many = Figure::new(300, 300).grid(1, 1).with(scatter()).with(scatter());
    assert!(matches!(too_many.render(), Err(PlotError::GridTooSmall { rows: 1, cols: 1, n_plots: 2 })));
    assert!(matches!(Figure::new(300, 300).grid(0, 2).with(scatter()).render(), Err(PlotError::GridTooSmall { .. })));
    assert!(matches!(
        Figure::new(300, 300).text_scale(0).with(scatter()).render(),
        Err(PlotError::InvalidTextScale { .. })
    ));
    assert!(matches!(Figure::new(40, 30).with(scatter()).render(), Err(PlotError::PanelTooSmall { .. })));
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
    let blend = |c: u8| (f64::from(c) * alpha + 255.0 * (1.0 - alpha)).round() as u8;
    let expected = Color::rgb(blend(color.r), blend(color.g), blend(color.b));
    assert_eq!(rendered.canvas.pixel(px as u32, py as u32), Some(expected));
    let (_, outside) = layout.to_pixel(0.5, 0.9).unwrap();
    assert_eq!(rendered.canvas.pixel(px as u32, outside as u32), Some(Color::WHITE));
}

#[test]
fn dashed_lines_have_gaps_and_hard_edges_have_pure_colours() {
    let dashed =
        unit_plot().with(Line::new(&[0.0, 1.0], &[0.5, 0.5]).color(Color::BLACK).width(2.0).dashed(true)).unwrap();
    let rendered = Figure::new(400, 300).antialias(false).with(dashed).render().unwrap();
    let layout = &rendered.panels[0];
    let row = layout.y.to_pixel(0.5).unwrap().floor() as u32;
    let area = layout.area;
    let on: Vec<bool> =
        (area.left..area.right).map(|x| rendered.canvas.pixel(x as u32, row) == Some(Color::BLACK)).collect();
    let n_dashes = on.windows(2).filter(|w| !w[0] && w[1]).count();
    assert!(n_dashes > 10, "{n_dashes} dashes");
    for y in area.top..area.bottom {
        for x in area.left..area.right {
            let c = rendered.canvas.pixel(x as u32, y as u32).unwrap();
            assert!(c == Color::WHITE || c == Color::BLACK, "blended pixel {c:?} at ({x}, {y}) without anti-aliasing");
        }
    }
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
}

#[test]
fn save_png_writes_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("figure.png");
    std::fs::write(&path, b"old").unwrap();
    let figure = Figure::new(320, 240).with(Plot::new().with(Scatter::new(&[1.0], &[2.0])).unwrap());
    figure.save_png(&path).unwrap();
    let image = Image::decode(&std::fs::read(&path).unwrap());
    assert_eq!((image.width, image.height), (320, 240));
    let names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["figure.png"], "no temporary file is left behind");
    let err = figure.save_png(dir.path().join("missing").join("figure.png")).unwrap_err();
    assert!(matches!(err, PlotError::Io { .. }), "{err:?}");
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
                    .unwrap();
                outcomes.push(Figure::new(160, 120).text_scale(1).with(plot).render().is_ok());
            }
        }
    }
    assert!(outcomes.iter().any(|ok| *ok) && outcomes.iter().any(|ok| !ok));
    // Oversized text in a small figure is an error, not a panic.
    let plot = Plot::new().title("t").x_label("x").y_label("y").with(Scatter::new(&[1.0], &[1.0])).unwrap();
    assert!(matches!(Figure::new(100, 80).text_scale(16).with(plot).render(), Err(PlotError::PanelTooSmall { .. })));
}
