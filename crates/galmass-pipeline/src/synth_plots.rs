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
use galmass_plot::series::{Band, Bins, Histogram, Line, Scatter};
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
    Band::new(grid, &lo, &hi).color(Color::TAB_BLUE.with_alpha(0.22)).label(label)
}

/// Size of the catalogue's markers in pixels.
const MARKER_PX: f64 = 7.0;

/// `±0.15 dex`.
fn dex_label(dex: f64) -> String {
    format!("±{dex} dex")
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
        .x_label("M_{200} [M_{⊙}]")
        .y_label("M_{*} [M_{⊙}]")
        .x_scale(Scale::Log10)
        .y_scale(Scale::Log10)
        .grid(true)
        .legend(LegendPosition::UpperLeft)
        .with(scatter_band(&grid, &median, s, dex_label(params.stellar_mass_scatter_dex)))?
        .with(Line::new(&grid, &median).color(Color::BLACK).label("Moster et al. 2013"))?;
    plot.add(
        Scatter::new(&pick(&centrals, |r| r.halo_mass_msun), &pick(&centrals, |r| r.stellar_mass_msun))
            .color(Color::TAB_BLUE)
            .size(MARKER_PX)
            .label("centrals"),
    )?;
    if !satellites.is_empty() {
        plot.add(
            Scatter::new(&pick(&satellites, |r| r.halo_mass_msun), &pick(&satellites, |r| r.stellar_mass_msun))
                .color(Color::TAB_ORANGE)
                .size(MARKER_PX)
                .label("satellites (M_{200} at infall)"),
        )?;
    }
    save(&Figure::new(900, 650).with(plot), dir, "stellar_vs_halo_mass.png", &mut written)?;

    // Size vs stellar mass.
    let grid = log_grid(m_star.iter().copied(), 60);
    let median: Vec<f64> = grid.iter().map(|&m| params.median_re_kpc(m)).collect();
    let s = 10f64.powf(params.re_scatter_dex);
    let plot = Plot::new()
        .title(format!("{suite}: size-mass relation"))
        .x_label("M_{*} [M_{⊙}]")
        .y_label("R [kpc]")
        .x_scale(Scale::Log10)
        .y_scale(Scale::Log10)
        .grid(true)
        .legend(LegendPosition::UpperLeft)
        .with(scatter_band(&grid, &median, s, dex_label(params.re_scatter_dex)))?
        .with(Line::new(&grid, &median).color(Color::BLACK).label(format!(
            "R_{{e}} = {} kpc (M_{{*}}/10^{{8}} M_{{⊙}})^{{{}}}",
            params.re_at_1e8_kpc, params.re_slope
        )))?
        .with(Scatter::new(&m_star, &col(|r| r.r_e_kpc)).color(Color::TAB_BLUE).size(MARKER_PX).label("R_{e} drawn"))?
        .with(
            Scatter::new(&m_star, &col(|r| r.r_h_kpc))
                .color(Color::TAB_RED)
                .size(3.5)
                .label("R_{h} of the particles (face-on)"),
        )?;
    save(&Figure::new(900, 650).with(plot), dir, "size_vs_mass.png", &mut written)?;

    // Kinematics: kappa_co (20 bins of 0.05 on [0, 1]) and B/T.
    let kappa_values = col(|r| r.kappa_co);
    let edges: Vec<f64> = (0..=20).map(|i| f64::from(i) * 0.05).collect();
    let mut counts = [0usize; 20];
    for &k in kappa_values.iter().filter(|k| (0.0..=1.0).contains(*k)) {
        counts[((k / 0.05) as usize).min(19)] += 1;
    }
    let top = 1.12 * counts.iter().copied().max().unwrap_or(1).max(1) as f64;
    let kappa = Plot::new()
        .title(format!("{suite}: κ_{{co}} (0.5: dispersion-supported cut)"))
        .x_label("κ_{co}")
        .y_label("galaxies")
        .x_range(0.0, 1.0)
        .y_range(0.0, top)
        .with(
            Histogram::new(&kappa_values)
                .bins(Bins::Edges(edges))
                .color(Color::TAB_BLUE)
                .label(format!("{} galaxies", rows.len())),
        )?
        .with(Line::new(&[0.5, 0.5], &[0.0, top]).color(Color::BLACK).dashed(true).label("κ_{co} = 0.5"))?;
    let median: Vec<f64> = grid.iter().map(|&m| params.median_bulge_fraction(m).clamp(0.0, 1.0)).collect();
    let bt = Plot::new()
        .title("bulge fraction")
        .x_label("M_{*} [M_{⊙}]")
        .y_label("B/T")
        .x_scale(Scale::Log10)
        .y_range(-0.02, 1.05)
        .grid(true)
        .with(Line::new(&grid, &median).color(Color::BLACK).label("configured median"))?
        .with(
            Scatter::new(&m_star, &col(|r| r.bulge_fraction)).color(Color::TAB_GREEN).size(MARKER_PX).label("galaxies"),
        )?;
    save(&Figure::new(1400, 600).grid(1, 2).with(kappa).with(bt), dir, "kappa_co.png", &mut written)?;

    // Cold gas.
    if params.gas.is_some() {
        let with_gas: Vec<&CatalogueRow> = centrals.iter().copied().filter(|r| r.cold_gas_mass_msun > 0.0).collect();
        let median: Vec<f64> = grid.iter().map(|&m| params.median_hi_ratio(m).unwrap_or(f64::NAN)).collect();
        let s = params.gas.as_ref().map_or(1.0, |g| 10f64.powf(g.hi_scatter_dex));
        let mut ratio = Plot::new()
            .title(format!("{suite}: cold gas fraction"))
            .x_label("M_{*} [M_{⊙}]")
            .y_label("M_{HI} / M_{*}")
            .x_scale(Scale::Log10)
            .y_scale(Scale::Log10)
            .grid(true)
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
                .size(MARKER_PX)
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
                .size(MARKER_PX)
                .label("satellites (stripped)"),
            )?;
        }
        let log_hi: Vec<f64> =
            rows.iter().filter(|r| r.cold_gas_mass_msun > 0.0).map(|r| r.cold_gas_mass_msun.log10()).collect();
        let mut figure = Figure::new(1400, 600).grid(1, 2).with(ratio);
        if !log_hi.is_empty() {
            figure = figure.with(
                Plot::new().title("cold gas mass").x_label("log_{10}(M_{HI} / M_{⊙})").y_label("galaxies").with(
                    Histogram::new(&log_hi)
                        .bins(Bins::Count(12))
                        .color(Color::TAB_CYAN)
                        .label("M_{HI} (HI as the cold gas)"),
                )?,
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
        .title(format!("{suite}: inner dark-matter slope (1-2% of r_{{200}})"))
        .x_label("log_{10}(M_{*} / M_{200})")
        .y_label("d ln ρ / d ln r")
        .grid(true)
        .legend(LegendPosition::LowerLeft)
        .with(
            Line::new(&x_grid, &model)
                .color(Color::BLACK)
                .label(format!("halo prescription at M_{{200}} = 10^{{{:.1}}} M_{{⊙}}", median_m200.log10())),
        )?
        .with(
            Line::new(&[x_grid[0], x_grid[59]], &[-1.0, -1.0])
                .color(Color::TAB_GREY)
                .dashed(true)
                .label("NFW cusp (-1)"),
        )?
        .with(
            Scatter::new(&x, &col(|r| r.dm_inner_slope)).color(Color::TAB_PURPLE).size(MARKER_PX).label("galaxies"),
        )?;
    save(&Figure::new(900, 650).with(plot), dir, "inner_slope.png", &mut written)?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Catalogue rows spread over the nihao-like relations (the numbers are made up, not drawn: the plots only read
    /// them), with one satellite and one gas-free galaxy.
    fn rows(params: &SuiteParams) -> Vec<CatalogueRow> {
        (0..24)
            .map(|i| {
                let t = f64::from(i) / 23.0;
                let halo_mass_msun = 10f64.powf(9.5 + 2.3 * t);
                let stellar_mass_msun =
                    params.median_stellar_mass_msun(halo_mass_msun) * 10f64.powf(0.1 * (t * 7.0).sin());
                CatalogueRow {
                    galaxy_id: i64::from(i),
                    central: i != 5,
                    stellar_mass_msun,
                    halo_mass_msun,
                    c200: 10.0,
                    r_e_kpc: params.median_re_kpc(stellar_mass_msun),
                    r_h_kpc: 0.9 * params.median_re_kpc(stellar_mass_msun),
                    r_half_3d_kpc: 1.2 * params.median_re_kpc(stellar_mass_msun),
                    bulge_fraction: params.median_bulge_fraction(stellar_mass_msun).clamp(0.0, 1.0),
                    kappa_co: 0.15 + 0.6 * t,
                    cold_gas_mass_msun: if i == 7 { 0.0 } else { 2.0 * stellar_mass_msun },
                    dm_inner_slope: -1.3 + 0.8 * t,
                    mass_to_light_r: 1.5,
                    n_stars: 1000,
                    n_dm: 1000,
                    n_gas: 100,
                }
            })
            .collect()
    }

    #[test]
    fn the_five_population_plots_are_written_as_png_and_repeat_byte_for_byte() {
        let params = SuiteParams::preset("nihao-like").unwrap();
        assert!(params.gas.is_some(), "nihao-like has gas, so cold_gas.png is drawn");
        let rows = rows(&params);
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let written = write_population_plots(&a.path().join("plots"), &params, &rows).unwrap();
        let names: Vec<String> =
            written.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(
            names,
            ["stellar_vs_halo_mass.png", "size_vs_mass.png", "kappa_co.png", "cold_gas.png", "inner_slope.png"]
        );
        let again = write_population_plots(&b.path().join("plots"), &params, &rows).unwrap();
        for (first, second) in written.iter().zip(&again) {
            let bytes = std::fs::read(first).unwrap();
            assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{first:?}");
            assert!(bytes.len() > 10_000, "{first:?} holds a drawn figure");
            assert_eq!(bytes, std::fs::read(second).unwrap(), "{first:?} repeats");
        }
        let leftovers: Vec<_> = std::fs::read_dir(a.path().join("plots")).unwrap().collect();
        assert_eq!(leftovers.len(), 5, "no temporary files left behind");
    }

    #[test]
    fn no_rows_is_an_error() {
        let params = SuiteParams::preset("nihao-like").unwrap();
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(write_population_plots(dir.path(), &params, &[]), Err(PipelineError::Invalid { .. })));
    }
}
