//! One galaxy's rows of a dataset: selection -> lines of sight -> star samples -> projections -> maps and scalars
//! -> targets -> classic-estimator values. [`make_unit`] computes them in memory (deterministically for the
//! dataset seed, the suite and the galaxy); [`super::writer`] stores them as the galaxy's unit file.

use std::borrow::Cow;
use std::path::Path;

use galmass_core::params::Params;
use galmass_core::particles::Species;
use galmass_core::projection::ProjectedStars;
use galmass_core::{Galaxy, Particles};
use galmass_estimators::classic::{estimate_all, EstimatorKind, EstimatorParams, EstimatorValidParams};
use galmass_mock::features::{chu2024_features, FeatureParams, FeatureValidParams};
use galmass_mock::hi::params::{HiParams, PixelScale};
use galmass_mock::hi::scalars::gas_scalars;
use galmass_mock::optical::kinematic::KinematicParams;
use galmass_mock::optical::sdss::SdssParams;
use galmass_mock::optical::sph::SphImageParams;
use galmass_mock::sampling::{projection_samples, SamplingValidParams};
use galmass_mock::star_maps::{star_maps, StarMapParams, StarMapValidParams};
use galmass_snapshot::extract::{apply_filters, GalaxyContext};
use galmass_snapshot::galaxy_file;
use galmass_synth::suite::{build_galaxy, SuiteParams, SuiteValidParams};
use ndarray::{Array1, Array2, Array4};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::config::{DatasetConfig, RadiusUnit, SuiteSource, TargetConfig, TargetQuantity};
use super::plan::Candidate;
use crate::hi::{hi_of_loaded, HiRequest};
use crate::optical::{optical_of_loaded, sph_of_loaded, OpticalRequest, SphRequest};
use crate::photometry::{stars_with_luminosities, LuminositySource};
use crate::projection::counted_truth;
use crate::PipelineError;

/// The stages a unit's time is split into (for the build's report and the benchmark).
pub const STAGES: [&str; 11] =
    ["read", "select", "project", "star_maps", "hi", "sph", "optical", "features", "targets", "estimators", "write"];

/// Wall time spent per stage, summed over threads.
#[derive(Debug, Default)]
pub struct StageTimes {
    nanos: [std::sync::atomic::AtomicU64; 11],
}

impl StageTimes {
    /// Runs `f`, adding its time to `stage` (one of [`STAGES`]).
    pub fn time<T>(&self, stage: &str, f: impl FnOnce() -> T) -> T {
        let start = std::time::Instant::now();
        let out = f();
        self.add(stage, start.elapsed());
        out
    }

    /// Adds `elapsed` to `stage`.
    pub fn add(&self, stage: &str, elapsed: std::time::Duration) {
        if let Some(i) = STAGES.iter().position(|s| *s == stage) {
            let ns = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
            self.nanos[i].fetch_add(ns, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Seconds per stage (stages that took no time left out).
    pub fn seconds(&self) -> std::collections::BTreeMap<String, f64> {
        STAGES
            .iter()
            .zip(&self.nanos)
            .map(|(s, n)| (s.to_string(), n.load(std::sync::atomic::Ordering::Relaxed) as f64 * 1e-9))
            .filter(|(_, v)| *v > 0.0)
            .collect()
    }
}

/// The checked recipes of a config, made once per build.
#[derive(Debug, Clone)]
pub struct Recipes {
    config: DatasetConfig,
    star_maps: Option<(StarMapParams, StarMapValidParams)>,
    hi: Option<HiParams>,
    sph: Option<(SphImageParams, KinematicParams)>,
    optical: Option<SdssParams>,
    sampling: SamplingValidParams,
    estimators: Option<EstimatorValidParams>,
    features: Option<FeatureValidParams>,
    synth: Vec<Option<SuiteValidParams>>,
}

impl Recipes {
    /// Checks every recipe of `config`.
    pub fn new(config: &DatasetConfig) -> Result<Self, PipelineError> {
        let star_maps = match config.inputs.star_maps_params()? {
            Some(p) => Some((p, p.check()?)),
            None => None,
        };
        let estimators = if config.estimators.enabled {
            Some(EstimatorParams { n_bootstrap: config.estimators.n_bootstrap, ..EstimatorParams::default() }.check()?)
        } else {
            None
        };
        let needs_features = config.scalars.iter().any(|s| FEATURE_SCALARS.iter().any(|(n, _)| n == s));
        let features = if needs_features {
            let params = FeatureParams::named("chu2024")?;
            Some(params.check()?)
        } else {
            None
        };
        let synth = config
            .suites
            .iter()
            .map(|s| match s {
                SuiteSource::Synthetic { preset, n_stars, n_dm, n_gas, .. } => {
                    let mut params = SuiteParams::preset(preset).ok_or_else(|| {
                        PipelineError::invalid("synthetic suite", format!("unknown preset {preset:?}"))
                    })?;
                    params.particles.set_counts(*n_stars, *n_dm, *n_gas);
                    Ok(Some(params.check()?))
                }
                SuiteSource::Galaxies { .. } => Ok(None),
            })
            .collect::<Result<Vec<_>, PipelineError>>()?;
        Ok(Self {
            config: config.clone(),
            star_maps,
            hi: config.inputs.hi_params()?,
            sph: config.inputs.sph_params()?,
            optical: config.inputs.optical_params()?,
            sampling: config.stars.check()?,
            estimators,
            features,
            synth,
        })
    }

    /// The config.
    pub fn config(&self) -> &DatasetConfig {
        &self.config
    }
}

/// The dataset scalars that are chu2024 summary statistics, and the feature each reads.
const FEATURE_SCALARS: [(&str, &str); 10] = [
    ("M_r", "M_r"),
    ("g_r", "g_r"),
    ("sfr", "sfr"),
    ("sersic_n", "sersic_n"),
    ("c_over_a", "c_over_a"),
    ("sigma_v_lum", "sigma_v"),
    ("lambda_r", "lambda_r"),
    ("kinematic_bt", "kinematic_bt"),
    ("f_cold", "f_cold"),
    ("f_hot", "f_hot"),
];

/// What an input map's axes and values mean (stored as the input's attributes).
#[derive(Debug, Clone, PartialEq)]
pub struct InputMeta {
    /// Unit of the values.
    pub unit: String,
    /// What x measures.
    pub x_label: String,
    /// What y measures.
    pub y_label: String,
    /// First and last pixel centre along x.
    pub x_range: [f64; 2],
    /// First and last pixel centre along y.
    pub y_range: [f64; 2],
    /// The mock parameters, JSON.
    pub recipe: String,
}

/// One galaxy's rows.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitRows {
    /// The galaxy's id in its file.
    pub galaxy_id: i64,
    /// Input maps `(projection, channel, y, x)` in the config's order, with what they mean.
    pub inputs: Vec<(String, Array4<f32>, InputMeta)>,
    /// Non-finite pixels set to 0, per input.
    pub non_finite: Vec<u64>,
    /// Scalars per projection, in the config's order, with units.
    pub scalars: Vec<(String, Array1<f64>, &'static str)>,
    /// Targets `(projection, radius)` (log10) and their radii in kpc, in the config's order.
    pub targets: Vec<(String, Array2<f64>, Array2<f64>)>,
    /// Lines of sight `(projection, 3)`.
    pub los: Array2<f64>,
    /// Stars sampled per projection.
    pub n_stars: Array1<i64>,
    /// Projected half-number radius of the sampled stars, kpc.
    pub r_h_kpc: Array1<f64>,
    /// Per classic estimator: mass, radius, true mass at the radius, mass error (NaN where skipped).
    pub estimators: Vec<(&'static str, [Array1<f64>; 4])>,
    /// log10 M(< radius_rh R_h) per projection for the balancing (NaN without balancing).
    pub balance_log10_mass: Array1<f64>,
}

impl UnitRows {
    /// Number of projections.
    pub fn len(&self) -> usize {
        self.los.nrows()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A galaxy's unit: its rows, or why it was skipped.
#[derive(Debug, Clone, PartialEq)]
pub enum UnitOutcome {
    /// The rows.
    Rows(Box<UnitRows>),
    /// A documented skip (recorded in the manifest).
    Skipped(String),
}

/// Reads (or, for a synthetic suite, builds and writes once) the candidate's galaxy.
fn acquire(candidate: &Candidate, recipes: &Recipes) -> Result<Galaxy, String> {
    let synth = recipes.synth.get(candidate.suite_index).and_then(Option::as_ref);
    match (synth, candidate.synthetic_index) {
        (Some(params), Some(i)) => {
            if let Ok(g) = galaxy_file::read(&candidate.file) {
                return Ok(g);
            }
            let seed = match &recipes.config.suites[candidate.suite_index] {
                SuiteSource::Synthetic { seed, .. } => *seed,
                SuiteSource::Galaxies { .. } => 0,
            };
            let built = build_galaxy(params, i, seed).map_err(|e| format!("cannot build synthetic galaxy {i}: {e}"))?;
            galaxy_file::write(&candidate.file, &built.galaxy).map_err(|e| e.to_string())?;
            Ok(built.galaxy)
        }
        _ => galaxy_file::read(&candidate.file).map_err(|e| format!("unreadable galaxy file: {e}")),
    }
}

/// Makes one galaxy's rows. Problems of the galaxy itself (unreadable or truncated file, failed filter, too few
/// stars, a projection the maps cannot be made of) are a [`UnitOutcome::Skipped`] with the reason; only failures of
/// the machinery are errors.
pub fn make_unit(candidate: &Candidate, recipes: &Recipes, times: &StageTimes) -> Result<UnitOutcome, PipelineError> {
    let galaxy = match times.time("read", || acquire(candidate, recipes)) {
        Ok(g) => g,
        Err(reason) => return Ok(UnitOutcome::Skipped(reason)),
    };
    match rows_of(candidate, &galaxy, recipes, times) {
        Ok(rows) => Ok(UnitOutcome::Rows(Box::new(rows))),
        Err(Skip(reason)) => Ok(UnitOutcome::Skipped(reason)),
    }
}

/// A galaxy skipped, and why.
struct Skip(String);

impl From<PipelineError> for Skip {
    fn from(e: PipelineError) -> Self {
        Skip(e.to_string())
    }
}

impl From<galmass_core::CoreError> for Skip {
    fn from(e: galmass_core::CoreError) -> Self {
        Skip(e.to_string())
    }
}

impl From<galmass_mock::MockError> for Skip {
    fn from(e: galmass_mock::MockError) -> Self {
        Skip(e.to_string())
    }
}

fn f32_map(values: &Array2<f64>, non_finite: &mut u64) -> Array2<f32> {
    values.mapv(|v| {
        if v.is_finite() {
            v as f32
        } else {
            *non_finite += 1;
            0.0
        }
    })
}

/// Collects the per-projection maps of one input name.
struct InputColumn {
    name: String,
    maps: Vec<Array2<f32>>,
    meta: Option<InputMeta>,
    non_finite: u64,
}

impl InputColumn {
    fn new(name: &str) -> Self {
        Self { name: name.to_owned(), maps: Vec::new(), meta: None, non_finite: 0 }
    }

    fn push(&mut self, values: &Array2<f64>, meta: impl FnOnce() -> InputMeta) {
        let map = f32_map(values, &mut self.non_finite);
        self.maps.push(map);
        if self.meta.is_none() {
            self.meta = Some(meta());
        }
    }

    fn finish(self) -> Result<(String, Array4<f32>, InputMeta, u64), Skip> {
        let (ny, nx) = self.maps.first().map_or((0, 0), |m| m.dim());
        let mut out = Array4::zeros((self.maps.len(), 1, ny, nx));
        for (i, m) in self.maps.iter().enumerate() {
            if m.dim() != (ny, nx) {
                return Err(Skip(format!("input {}: maps of different sizes", self.name)));
            }
            out.slice_mut(ndarray::s![i, 0, .., ..]).assign(m);
        }
        let meta = self.meta.ok_or_else(|| Skip(format!("input {}: no map", self.name)))?;
        Ok((self.name, out, meta, self.non_finite))
    }
}

fn centres(half_width: f64, n: usize) -> [f64; 2] {
    let step = 2.0 * half_width / n as f64;
    [-half_width + 0.5 * step, half_width - 0.5 * step]
}

fn rows_of(candidate: &Candidate, galaxy: &Galaxy, recipes: &Recipes, times: &StageTimes) -> Result<UnitRows, Skip> {
    let config = &recipes.config;
    let path = candidate.file.as_path();
    // Selection: the papers' filters (a galaxy file carries no catalogue context).
    let outcomes = times.time("select", || apply_filters(&config.selection, galaxy, &GalaxyContext::default()))?;
    if let Some(failed) = outcomes.iter().find(|o| !o.passed) {
        return Err(Skip(format!("selection: {} failed (value {})", failed.filter, failed.value)));
    }
    let seed = candidate.seed(config.seed);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let directions = match &config.projections {
        galmass_core::geometry::DirectionSet::Random { n, .. } => {
            galmass_core::geometry::DirectionSet::Random { n: *n, seed: rng.random() }
        }
        other => other.clone(),
    }
    .directions(&galaxy.meta.rotation_to_aligned)?;
    let stars_all = galaxy.stars()?;
    let samples = projection_samples(stars_all.len(), directions.len(), &recipes.sampling, rng.random())?;
    // Luminosities once per galaxy when an input or target needs light (the file's bands, else the SSP table).
    let needs_light = config.inputs.sph.is_some()
        || config.inputs.optical.is_some()
        || recipes.features.is_some()
        || config.targets.iter().any(|t| t.quantity == TargetQuantity::MassToLightR);
    let lit: Cow<'_, Galaxy> = if needs_light {
        let (stars, _) = stars_with_luminosities(path, stars_all, &["u", "g", "r", "i", "z"], LuminositySource::Auto)
            .or_else(|_| stars_with_luminosities(path, stars_all, &["g", "r"], LuminositySource::Auto))?;
        let mut g = galaxy.clone();
        g.set_species(Species::Stars, stars.into_owned());
        Cow::Owned(g)
    } else {
        Cow::Borrowed(galaxy)
    };
    let truth = match &galaxy.truth {
        Some(t) => Cow::Borrowed(t),
        None => Cow::Owned(counted_truth(galaxy)?),
    };
    let r_hsm = truth
        .half_mass_radius_kpc(Some(Species::Stars))
        .or_else(|| stars_all.half_mass_radius_kpc())
        .filter(|r| *r > 0.0);
    let gas = galaxy.species(Species::Gas).filter(|g| !g.is_empty());
    let gas_scalars_value = match gas {
        Some(g) if config.scalars.iter().any(|s| ["r_hi", "v_cold", "sigma_cold"].contains(&s.as_str())) => {
            Some(gas_scalars(g)?)
        }
        _ => None,
    };

    let n = directions.len();
    let mut columns: Vec<InputColumn> = config.inputs.names().iter().map(|s| InputColumn::new(s)).collect();
    let column = |columns: &mut Vec<InputColumn>, name: &str| columns.iter().position(|c| c.name == name);
    let mut scalars: Vec<(String, Array1<f64>, &'static str)> =
        config.scalars.iter().map(|s| (s.clone(), Array1::from_elem(n, f64::NAN), scalar_unit(s))).collect();
    let mut targets: Vec<(String, Array2<f64>, Array2<f64>)> = config
        .targets
        .iter()
        .map(|t| (t.name.clone(), Array2::from_elem((n, t.radii.len()), f64::NAN), Array2::zeros((n, t.radii.len()))))
        .collect();
    let mut los = Array2::zeros((n, 3));
    let mut n_stars = Array1::zeros(n);
    let mut r_h_kpc = Array1::zeros(n);
    let mut balance = Array1::from_elem(n, f64::NAN);
    let mut estimators: Vec<(&'static str, [Array1<f64>; 4])> =
        EstimatorKind::ALL.iter().map(|k| (k.key(), std::array::from_fn(|_| Array1::from_elem(n, f64::NAN)))).collect();
    if recipes.estimators.is_none() {
        estimators.clear();
    }

    for (p, (dir, sample)) in directions.iter().zip(&samples).enumerate() {
        let d = dir.direction();
        los.row_mut(p).assign(&Array1::from(d.to_vec()));
        let (projected, r_h) = times.time("project", || -> Result<_, Skip> {
            let projected = ProjectedStars::new(stars_all, dir, Some(sample))?;
            let r_h = projected.half_number_radius_kpc()?;
            Ok((projected, r_h))
        })?;
        n_stars[p] = projected.len() as i64;
        if !(r_h.is_finite() && r_h > 0.0) {
            return Err(Skip(format!("projection {p}: half-number radius {r_h}")));
        }
        r_h_kpc[p] = r_h;
        let proj_seed = seed.wrapping_add(1 + p as u64);

        if let Some((params, valid)) = &recipes.star_maps {
            let maps = times.time("star_maps", || star_maps(&projected, valid))?;
            let recipe = serde_json::to_string(params).unwrap_or_default();
            let [x0, x1] = [params.xy_range.0, params.xy_range.1];
            if let Some(i) = column(&mut columns, "star_xy") {
                columns[i].push(&maps.star_xy, || InputMeta {
                    unit: "probability density".into(),
                    x_label: "x / R_h".into(),
                    y_label: "y / R_h".into(),
                    x_range: [x0, x1],
                    y_range: [x0, x1],
                    recipe: recipe.clone(),
                });
            }
            if let Some(i) = column(&mut columns, "star_rv") {
                columns[i].push(&maps.star_rv, || InputMeta {
                    unit: "probability density".into(),
                    x_label: "R / R_h".into(),
                    y_label: "v_los / v_p98".into(),
                    x_range: [params.r_range.0, params.r_range.1],
                    y_range: [params.v_range.0, params.v_range.1],
                    recipe: recipe.clone(),
                });
            }
            set_scalar(&mut scalars, "v_p98", p, maps.v_p98_kms);
            set_scalar(&mut scalars, "sigma_los", p, maps.sigma_los_kms);
            set_scalar(&mut scalars, "sigma_v", p, maps.sigma_los_kms);
        }
        if scalars.iter().any(|(s, ..)| s == "sigma_los" || s == "sigma_v" || s == "v_p98")
            && recipes.star_maps.is_none()
        {
            let sigma = projected.sigma_los_kms(&galmass_core::projection::Aperture::All, r_h)?;
            set_scalar(&mut scalars, "sigma_los", p, sigma);
            set_scalar(&mut scalars, "sigma_v", p, sigma);
            let v = projected.v_p98_kms(
                galmass_core::projection::VelocityScale::P98Signed,
                &galmass_core::projection::Aperture::All,
                r_h,
            )?;
            set_scalar(&mut scalars, "v_p98", p, v);
        }
        set_scalar(&mut scalars, "r_h", p, r_h);
        set_scalar(&mut scalars, "r_hl", p, r_h);
        if let Some(g) = &gas_scalars_value {
            set_scalar(&mut scalars, "r_hi", p, g.r_hi_kpc);
            set_scalar(&mut scalars, "v_cold", p, g.v_cold_kms);
            set_scalar(&mut scalars, "sigma_cold", p, g.sigma_cold_kms);
        }

        if let Some(params) = &recipes.hi {
            let request = HiRequest { los: d, preset: "dataset".into(), params: *params, seed: proj_seed };
            let products = times.time("hi", || hi_of_loaded(path, galaxy, &request))?;
            let hi = products.hi.ok_or_else(|| Skip("no HI product".into()))?;
            let npix = params.npix;
            let (label, half) = match params.pixel {
                PixelScale::FieldHalfWidthRHi(h) => ("x / R_HI", h),
                _ => ("x / arcsec", 0.5 * npix as f64 * hi.cube.grid.pixel_arcsec),
            };
            let recipe = serde_json::to_string(params).unwrap_or_default();
            for (name, map, unit) in [
                ("hi_mom0", &hi.moments.mom0, hi.moments.mom0_unit.clone()),
                ("hi_mom1", &hi.moments.mom1, "km/s".to_string()),
                ("hi_mom2", &hi.moments.mom2, "km/s".to_string()),
            ] {
                if let Some(i) = column(&mut columns, name) {
                    columns[i].push(map, || InputMeta {
                        unit,
                        x_label: label.into(),
                        y_label: label.replace('x', "y"),
                        x_range: centres(half, npix),
                        y_range: centres(half, npix),
                        recipe: recipe.clone(),
                    });
                }
            }
        }
        if let Some((images, kinematic)) = &recipes.sph {
            let request = SphRequest {
                los: d,
                preset: "dataset".into(),
                images: *images,
                kinematic: kinematic.clone(),
                luminosities: LuminositySource::Auto,
                dust: false,
            };
            let products = times.time("sph", || sph_of_loaded(path, &lit, &request))?;
            let sph = products.sph.ok_or_else(|| Skip("no SPH product".into()))?;
            let recipe = serde_json::json!({ "images": images, "kinematic": kinematic }).to_string();
            for (name, map, npix, half) in [
                ("r", &sph.r, images.output_npix, images.half_width_rhsm),
                ("g", &sph.g, images.output_npix, images.half_width_rhsm),
                ("g_r", &sph.g_r, images.output_npix, images.half_width_rhsm),
                ("v_mean", &sph.v_mean, kinematic.npix, kinematic.half_width_rhsm),
                ("v_disp", &sph.v_disp, kinematic.npix, kinematic.half_width_rhsm),
            ] {
                if let Some(i) = column(&mut columns, name) {
                    columns[i].push(&map.data, || InputMeta {
                        unit: if map.scale.is_some() {
                            format!("scaled to [0, 1] from {}", map.unit)
                        } else {
                            map.unit.clone()
                        },
                        x_label: "x / R_hsm".into(),
                        y_label: "y / R_hsm".into(),
                        x_range: centres(half, npix),
                        y_range: centres(half, npix),
                        recipe: recipe.clone(),
                    });
                }
            }
        }
        if let (Some(params), Some(o)) = (&recipes.optical, &config.inputs.optical) {
            let [lo, hi] = o.distance_mpc;
            let distance = lo + (hi - lo) * rng.random::<f64>();
            let request = OpticalRequest {
                los: d,
                distance_mpc: distance,
                preset: "dataset".into(),
                params: *params,
                seed: proj_seed,
                luminosities: LuminositySource::Auto,
                dust: false,
            };
            let products = times.time("optical", || optical_of_loaded(path, &lit, &request))?;
            let optical = products.optical.ok_or_else(|| Skip("no optical product".into()))?;
            let recipe = serde_json::to_string(params).unwrap_or_default();
            let half = 0.5 * params.npix as f64 * optical.pixel_arcsec;
            for band in &optical.bands {
                if let Some(i) = column(&mut columns, &band.band) {
                    columns[i].push(&band.image, || InputMeta {
                        unit: "nanomaggies".into(),
                        x_label: "x / arcsec".into(),
                        y_label: "y / arcsec".into(),
                        x_range: centres(half, params.npix),
                        y_range: centres(half, params.npix),
                        recipe: recipe.clone(),
                    });
                }
            }
            set_scalar(&mut scalars, "distance_mpc", p, distance);
        }
        if let Some(params) = &recipes.features {
            let features = times.time("features", || chu2024_features(&lit, dir, params))?;
            for (scalar, feature) in FEATURE_SCALARS {
                if let Some(f) = features.get(feature) {
                    set_scalar(&mut scalars, scalar, p, f.value);
                }
            }
        }

        // Targets.
        let targets_start = std::time::Instant::now();
        let all_projected = if config.targets.iter().any(|t| projected_quantity(t.quantity)) {
            Some(ProjectedStars::new(lit.stars()?, dir, None)?)
        } else {
            None
        };
        for (t, (_, values, radii)) in config.targets.iter().zip(targets.iter_mut()) {
            for (k, &f) in t.radii.iter().enumerate() {
                let r = match t.radius_unit {
                    RadiusUnit::RH => f * r_h,
                    RadiusUnit::RHsm => f * r_hsm.ok_or_else(|| Skip("no 3-D half stellar mass radius".into()))?,
                    RadiusUnit::Kpc => f,
                };
                radii[[p, k]] = r;
                values[[p, k]] = target_value(t, r, &truth, all_projected.as_ref(), lit.stars()?)?;
            }
        }
        if let Some(b) = &config.balance {
            balance[p] = truth.enclosed_mass_msun(None, b.radius_rh * r_h)?.log10();
        }
        times.add("targets", targets_start.elapsed());
        if let Some(valid) = &recipes.estimators {
            if let Ok(report) = times.time("estimators", || estimate_all(&projected, None, valid)) {
                for e in &report.estimates {
                    if let Some((_, cols)) = estimators.iter_mut().find(|(k, _)| *k == e.estimator.key()) {
                        cols[0][p] = e.mass_msun;
                        cols[1][p] = e.radius_kpc;
                        cols[2][p] = truth.enclosed_mass_msun(None, e.radius_kpc).unwrap_or(f64::NAN);
                        cols[3][p] = e.mass_err_msun.unwrap_or(f64::NAN);
                    }
                }
            }
        }
    }
    let mut inputs = Vec::new();
    let mut non_finite = Vec::new();
    for c in columns {
        let (name, data, meta, bad) = c.finish()?;
        inputs.push((name, data, meta));
        non_finite.push(bad);
    }
    Ok(UnitRows {
        galaxy_id: galaxy.meta.galaxy_id,
        inputs,
        non_finite,
        scalars,
        targets,
        los,
        n_stars,
        r_h_kpc,
        estimators,
        balance_log10_mass: balance,
    })
}

fn projected_quantity(q: TargetQuantity) -> bool {
    matches!(q, TargetQuantity::StellarProjected | TargetQuantity::MassToLightR)
}

fn set_scalar(scalars: &mut [(String, Array1<f64>, &'static str)], name: &str, p: usize, value: f64) {
    if let Some((_, col, _)) = scalars.iter_mut().find(|(n, ..)| n == name) {
        col[p] = value;
    }
}

/// The unit of a dataset scalar.
pub fn scalar_unit(name: &str) -> &'static str {
    match name {
        "r_h" | "r_hl" | "r_hi" => "kpc",
        "sigma_los" | "v_p98" | "sigma_v" | "v_cold" | "sigma_cold" | "sigma_v_lum" => "km/s",
        "M_r" => "mag (AB)",
        "g_r" => "mag",
        "sfr" => "Msun/yr",
        "distance_mpc" => "Mpc",
        _ => "",
    }
}

/// log10 of a target quantity within radius `r` kpc.
fn target_value(
    t: &TargetConfig,
    r: f64,
    truth: &galmass_core::galaxy::TruthProfiles,
    projected: Option<&ProjectedStars>,
    stars: &Particles,
) -> Result<f64, Skip> {
    let species = match t.quantity {
        TargetQuantity::Total => None,
        TargetQuantity::Stellar => Some(Species::Stars),
        TargetQuantity::Dark => Some(Species::Dm),
        TargetQuantity::Gas => Some(Species::Gas),
        TargetQuantity::StellarProjected | TargetQuantity::MassToLightR => {
            let p = projected.ok_or_else(|| Skip("no projection".into()))?;
            let radii = p.radii_kpc();
            let inside: Vec<usize> = (0..radii.len()).filter(|&i| radii[i] < r).collect();
            let mass: f64 = inside.iter().map(|&i| p.mass_msun()[i]).sum();
            if t.quantity == TargetQuantity::StellarProjected {
                return Ok(mass.log10());
            }
            let lum = stars.luminosity("r").ok_or_else(|| Skip("stars have no r-band luminosity".into()))?;
            let light: f64 = inside.iter().map(|&i| lum.lum_lsun[i]).sum();
            return Ok((mass / light).log10());
        }
    };
    Ok(truth.enclosed_mass_msun(species, r)?.log10())
}

/// Whether `path` holds a unit of this recipe.
pub fn unit_path(out: &Path, candidate: &Candidate) -> std::path::PathBuf {
    out.join("work").join(&candidate.suite).join(format!("{}.unit.h5", candidate.key))
}

/// The skip record of a candidate.
pub fn skip_path(out: &Path, candidate: &Candidate) -> std::path::PathBuf {
    out.join("work").join(&candidate.suite).join(format!("{}.skip.json", candidate.key))
}
