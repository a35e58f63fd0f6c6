//! Population plots of a synthetic suite (`galmass synth --plots`): each galaxy of the catalogue against the relation
//! the suite's config draws it from, so a reader sees at a glance that a suite is what its TOML says.
//!
//! Written under `OUT/plots/`:
//! - `stellar_vs_halo_mass.png`: M* against M200 with Moster et al. 2013 and its configured scatter;
//! - `size_vs_mass.png`: the drawn R_e and the measured projected half-mass radius against M*, with the size relation;
//! - `kappa_co.png`: the kappa_co distribution (0.5 marks the sarrato2025 dispersion-supported cut), and B/T against M*;
//! - `cold_gas.png`: M_HI / M* against M* with the configured relation, and the M_HI distribution (suites with gas);
//! - `inner_slope.png`: the dark-matter density slope between 1% and 2% of r200 against log10(M*/M200), with the
//!   suite's halo prescription at the median halo mass.

use std::path::{Path, PathBuf};

use crate::PipelineError;
use galmass_plot::series::{Band, Histogram, Line, Scatter};
use galmass_plot::{Color, Figure, LegendPosition, Plot, Scale};
use galmass_synth::suite::{CatalogueRow, SuiteParams};

/// `n` points log-spaced between the smallest and largest of `values` (padded by 5%).
fn log_grid(values: impl Iterator<Item = f64>, n: usize) -> Vec<f64> {
    let (lo, hi) =
        values.filter(|v| v.is_finite() && *v > 0.0).fold((f64::INFINITY, 0.0f64), |(a, b), v| (a.min(v), b.max(v)));
    if !(lo.is_finite() && hi > 0.0) {
        return Vec::new();
    }
    let (a, b) = ((lo / 1.05).ln(), (hi * 1.05).ln().max((lo / 1.05).ln() + 1e-6));
    (0..n).map(|i| (a + (b - a) * i as f64 / (n - 1) as f64).exp()).collect()
}

/// The band `median / factor .. median * factor` about a relation (its log-normal scatter).
fn scatter_band(grid: &[f64], median: &[f64], factor: f64, label: String) -> Band {
    let lo: Vec<f64> = median.iter().map(|m| m / factor).collect();
    let hi: Vec<f64> = median.iter().map(|m| m * factor).collect();
    Band::new(grid, &lo, &hi).label(label)
}

type Result<T> = std::result::Result<T, PipelineError>;

fn save(figure: &Figure, dir: &Path, name: &str, written: &mut Vec<PathBuf>) -> Result<()> {
    let path = dir.join(name);
    figure.save_png(&path).map_err(|source| PipelineError::Plot { path: path.clone(), source })?;
    written.push(path);
    Ok(())
}

/// Writes the population plots of `rows` (galaxies of the suite `params`) into `dir`; returns the files written.
pub fn write_population_plots(dir: &Path, params: &SuiteParams, rows: &[CatalogueRow]) -> Result<Vec<PathBuf>> {
    if rows.is_empty() {
        return Err(PipelineError::invalid("population plots", "no galaxies to plot"));
    }
    std::fs::create_dir_all(dir).map_err(|source| PipelineError::Io {
        path: dir.to_owned(),
        context: "creating the plot folder".into(),
        source,
    })?;
    let mut written = Vec::new();
    let suite = &params.suite;
    let col = |f: fn(&CatalogueRow) -> f64| rows.iter().map(f).collect::<Vec<f64>>();
    let (m_star, m200) = (col(|r| r.stellar_mass_msun), col(|r| r.halo_mass_msun));
    let centrals: Vec<&CatalogueRow> = rows.iter().filter(|r| r.central).collect();
    let satellites: Vec<&CatalogueRow> = rows.iter().filter(|r| !r.central).collect();
    let pick = |set: &[&CatalogueRow], f: fn(&CatalogueRow) -> f64| set.iter().map(|r| f(r)).collect::<Vec<f64>>();

    // Stellar vs halo mass.
    let grid = log_grid(m200.iter().copied(), 60);
    let median: Vec<f64> = grid.iter().map(|&m| params.median_stellar_mass_msun(m)).collect();
    let s = 10f64.powf(params.stellar_mass_scatter_dex);
    let mut plot = Plot::new()
        .title(format!("{suite}: stellar-to-halo mass"))
        .x_label("M_{200} [Msun]")
        .y_label("M_{*} [Msun]")
        .x_scale(Scale::Log10)
        .y_scale(Scale::Log10)
        .legend(LegendPosition::UpperLeft)
        .with(scatter_band(&grid, &median, s, format!("+-{} dex", params.stellar_mass_scatter_dex)))?
        .with(Line::new(&grid, &median).color(Color::BLACK).label("Moster+2013"))?;
    plot.add(
        Scatter::new(&pick(&centrals, |r| r.halo_mass_msun), &pick(&centrals, |r| r.stellar_mass_msun))
            .color(Color::TAB_BLUE)
            .label("centrals"),
    )?;
    if !satellites.is_empty() {
        plot.add(
            Scatter::new(&pick(&satellites, |r| r.halo_mass_msun), &pick(&satellites, |r| r.stellar_mass_msun))
                .color(Color::TAB_ORANGE)
                .label("satellites (M200 at infall)"),
        )?;
    }
    save(&Figure::new(900, 650).with(plot), dir, "stellar_vs_halo_mass.png", &mut written)?;

    // Size vs stellar mass.
    let grid = log_grid(m_star.iter().copied(), 60);
    let median: Vec<f64> = grid.iter().map(|&m| params.median_re_kpc(m)).collect();
    let s = 10f64.powf(params.re_scatter_dex);
    let plot = Plot::new()
        .title(format!("{suite}: size-mass relation"))
        .x_label("M_{*} [Msun]")
        .y_label("R [kpc]")
        .x_scale(Scale::Log10)
        .y_scale(Scale::Log10)
        .legend(LegendPosition::UpperLeft)
        .with(scatter_band(&grid, &median, s, format!("+-{} dex", params.re_scatter_dex)))?
        .with(
            Line::new(&grid, &median)
                .color(Color::BLACK)
                .label(format!("R_e = {} (M*/1e8)^{}", params.re_at_1e8_kpc, params.re_slope)),
        )?
        .with(Scatter::new(&m_star, &col(|r| r.r_e_kpc)).color(Color::TAB_BLUE).label("R_e drawn"))?
        .with(
            Scatter::new(&m_star, &col(|r| r.r_h_kpc))
                .color(Color::TAB_RED)
                .size(3.0)
                .label("R_h of the particles (face-on)"),
        )?;
    save(&Figure::new(900, 650).with(plot), dir, "size_vs_mass.png", &mut written)?;

    // Kinematics: kappa_co and B/T.
    let kappa = Plot::new()
        .title(format!("{suite}: kappa_co (0.5: dispersion-supported cut)"))
        .x_label("kappa_{co}")
        .y_label("galaxies")
        .x_range(0.0, 1.0)
        .with(Histogram::new(&col(|r| r.kappa_co)).color(Color::TAB_BLUE).label(format!("{} galaxies", rows.len())))?
        .with(
            Line::new(&[0.5, 0.5], &[0.0, rows.len() as f64 * 0.25])
                .color(Color::BLACK)
                .dashed(true)
                .label("kappa_co = 0.5"),
        )?;
    let median: Vec<f64> = grid.iter().map(|&m| params.median_bulge_fraction(m).clamp(0.0, 1.0)).collect();
    let bt = Plot::new()
        .title("bulge fraction")
        .x_label("M_{*} [Msun]")
        .y_label("B/T")
        .x_scale(Scale::Log10)
        .y_range(-0.02, 1.02)
        .with(Line::new(&grid, &median).color(Color::BLACK).label("configured median"))?
        .with(Scatter::new(&m_star, &col(|r| r.bulge_fraction)).color(Color::TAB_GREEN).label("galaxies"))?;
    save(&Figure::new(1400, 600).grid(1, 2).with(kappa).with(bt), dir, "kappa_co.png", &mut written)?;

    // Cold gas.
    if params.gas.is_some() {
        let with_gas: Vec<&CatalogueRow> = centrals.iter().copied().filter(|r| r.cold_gas_mass_msun > 0.0).collect();
        let median: Vec<f64> = grid.iter().map(|&m| params.median_hi_ratio(m).unwrap_or(f64::NAN)).collect();
        let s = params.gas.as_ref().map_or(1.0, |g| 10f64.powf(g.hi_scatter_dex));
        let mut ratio = Plot::new()
            .title(format!("{suite}: cold gas fraction"))
            .x_label("M_{*} [Msun]")
            .y_label("M_{HI} / M_{*}")
            .x_scale(Scale::Log10)
            .y_scale(Scale::Log10)
            .legend(LegendPosition::LowerLeft)
            .with(scatter_band(&grid, &median, s, "configured scatter".into()))?
            .with(Line::new(&grid, &median).color(Color::BLACK).label("configured relation"))?;
        if !with_gas.is_empty() {
            ratio.add(
                Scatter::new(
                    &pick(&with_gas, |r| r.stellar_mass_msun),
                    &with_gas.iter().map(|r| r.cold_gas_mass_msun / r.stellar_mass_msun).collect::<Vec<_>>(),
                )
                .color(Color::TAB_BLUE)
                .label("centrals"),
            )?;
        }
        let stripped: Vec<&CatalogueRow> = satellites.iter().copied().filter(|r| r.cold_gas_mass_msun > 0.0).collect();
        if !stripped.is_empty() {
            ratio.add(
                Scatter::new(
                    &pick(&stripped, |r| r.stellar_mass_msun),
                    &stripped.iter().map(|r| r.cold_gas_mass_msun / r.stellar_mass_msun).collect::<Vec<_>>(),
                )
                .color(Color::TAB_ORANGE)
                .label("satellites (stripped)"),
            )?;
        }
        let log_hi: Vec<f64> =
            rows.iter().filter(|r| r.cold_gas_mass_msun > 0.0).map(|r| r.cold_gas_mass_msun.log10()).collect();
        let mut figure = Figure::new(1400, 600).grid(1, 2).with(ratio);
        if !log_hi.is_empty() {
            figure = figure.with(
                Plot::new()
                    .title("cold gas mass")
                    .x_label("log10 M_{HI} [Msun]")
                    .y_label("galaxies")
                    .with(Histogram::new(&log_hi).color(Color::TAB_CYAN).label("M_HI (HI as the cold gas)"))?,
            );
        }
        save(&figure, dir, "cold_gas.png", &mut written)?;
    }

    // Inner dark-matter slope.
    let x: Vec<f64> = rows.iter().map(|r| (r.stellar_mass_msun / r.halo_mass_msun).log10()).collect();
    let (x_lo, x_hi) = x.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    let mut log_m200: Vec<f64> = m200.iter().map(|m| m.log10()).collect();
    log_m200.sort_by(f64::total_cmp);
    let median_m200 = 10f64.powf(log_m200[log_m200.len() / 2]);
    let x_grid: Vec<f64> = (0..60).map(|i| x_lo - 0.1 + (x_hi - x_lo + 0.2) * i as f64 / 59.0).collect();
    let model: Vec<f64> =
        x_grid.iter().map(|&xi| params.inner_slope_model(median_m200, xi).unwrap_or(f64::NAN)).collect();
    let plot = Plot::new()
        .title(format!("{suite}: inner dark-matter slope (1-2% r200)"))
        .x_label("log10 M_{*}/M_{200}")
        .y_label("d ln rho / d ln r")
        .legend(LegendPosition::LowerLeft)
        .with(
            Line::new(&x_grid, &model)
                .color(Color::BLACK)
                .label(format!("halo prescription at M200 = 10^{:.1}", median_m200.log10())),
        )?
        .with(
            Line::new(&[x_grid[0], x_grid[59]], &[-1.0, -1.0])
                .color(Color::TAB_GREY)
                .dashed(true)
                .label("NFW cusp (-1)"),
        )?
        .with(Scatter::new(&x, &col(|r| r.dm_inner_slope)).color(Color::TAB_PURPLE).label("galaxies"))?;
    save(&Figure::new(900, 650).with(plot), dir, "inner_slope.png", &mut written)?;
    Ok(written)
}
