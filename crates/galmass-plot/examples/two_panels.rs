//! Draws a two-panel figure: predicted against true masses (scatter, 1:1 line, scatter band) and the histogram of
//! their log ratios, from seeded synthetic numbers.
//! `cargo run -p galmass-plot --example two_panels -- OUT.png`

use galmass_plot::series::{Band, Bins, HistKind, Histogram, Line, Marker, Scatter};
use galmass_plot::{Color, Figure, Plot, PlotError, Scale};

/// A small deterministic generator (SplitMix64), so the example needs no dependency.
struct SplitMix(u64);

impl SplitMix {
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A standard normal deviate (Box-Muller).
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform().max(1e-300), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

fn figure() -> Result<Figure, PlotError> {
    let mut rng = SplitMix(7);
    let n = 300;
    let log_true: Vec<f64> = (0..n).map(|_| 8.5 + 3.0 * rng.uniform()).collect();
    let log_ratio: Vec<f64> = log_true.iter().map(|&m| 0.05 * (m - 10.0) + 0.15 * rng.normal()).collect();
    let m_true: Vec<f64> = log_true.iter().map(|m| 10f64.powf(*m)).collect();
    let m_pred: Vec<f64> = m_true.iter().zip(&log_ratio).map(|(m, r)| m * 10f64.powf(*r)).collect();
    let grid: Vec<f64> = (0..=40).map(|i| 10f64.powf(8.5 + 3.0 * f64::from(i) / 40.0)).collect();
    let lo: Vec<f64> = grid.iter().map(|m| m * 10f64.powf(-0.15)).collect();
    let hi: Vec<f64> = grid.iter().map(|m| m * 10f64.powf(0.15)).collect();

    let masses = Plot::new()
        .title("Enclosed mass at R_{h}")
        .x_label("M_{true} [M_{⊙}]")
        .y_label("M_{pred} [M_{⊙}]")
        .x_scale(Scale::Log10)
        .y_scale(Scale::Log10)
        .grid(true)
        .with(Band::new(&grid, &lo, &hi).color(Color::TAB_GREY.with_alpha(0.25)).label("±0.15 dex"))?
        .with(Scatter::new(&m_true, &m_pred).color(Color::TAB_BLUE.with_alpha(0.7)).size(5.0).label("mock galaxies"))?
        .with(Line::new(&grid, &grid).color(Color::BLACK).width(1.5).dashed(true).label("1:1"))?;
    let edges: Vec<f64> = (0..=24).map(|i| -0.6 + 0.05 * f64::from(i)).collect();
    let ratios = Plot::new()
        .title("Bias")
        .x_label("log_{10}(M_{pred}/M_{true})")
        .y_label("density")
        .x_range(-0.6, 0.6)
        .with(
            Histogram::new(&log_ratio)
                .bins(Bins::Edges(edges.clone()))
                .normalised(true)
                .color(Color::TAB_ORANGE.with_alpha(0.6))
                .label("all"),
        )?
        .with(
            Histogram::new(&log_ratio[..n / 2])
                .bins(Bins::Edges(edges))
                .normalised(true)
                .kind(HistKind::Step)
                .color(Color::TAB_PURPLE)
                .label("first half"),
        )?
        .with(
            Scatter::new(&[0.0], &[0.2]).marker(Marker::Diamond).size(9.0).color(Color::TAB_RED).label("zero bias"),
        )?;
    Ok(Figure::new(1100, 480).grid(1, 2).title("galmass-plot example").with(masses).with(ratios))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args().nth(1).unwrap_or_else(|| "two_panels.png".into());
    let figure = figure()?;
    figure.save_png(&out)?;
    eprintln!("wrote {out} ({} points skipped)", figure.n_skipped());
    Ok(())
}
