//! Mock HI observations of one projection of a galaxy file, into the products file's `hi/` group
//! ([`crate::products::hi`]): the gas seen along a line of sight at a distance as a data cube, its moment maps and
//! exposito2026's gas scalars (`galmass maps hi`).
//!
//! [`hi_of_galaxy`] reads the galaxy file, measures the gas scalars (R_HI sets the field of the exposito2026
//! preset), builds the source from the gas (`galmass_mock::hi::source`), observes it and takes the moments; the root
//! attributes of the products file describe the projection (the stars' R_h and sigma_los along the same line of
//! sight when the galaxy has stars; NaN and 0 stars otherwise).
//!
//! ```no_run
//! use galmass_mock::hi::params::HiParams;
//! use galmass_pipeline::hi::{hi_of_galaxy, HiRequest};
//! let request = HiRequest::preset("delosrios2023", [0.0, 0.0, 1.0], 7).unwrap();
//! let products = hi_of_galaxy("galaxy.h5".as_ref(), &request).unwrap();
//! let hi = products.hi.unwrap();
//! println!("M_HI from the cube: {:.3e} Msun", hi.cube.hi_mass_msun(hi.distance_mpc.unwrap()));
//! ```

use std::path::{Path, PathBuf};

use galmass_core::cosmology::Cosmology;
use galmass_mock::hi::fits_cube::{write_cube, write_sky_maps, CubeHeader, SkyMap, SkyPosition};
use galmass_plot::series::HeatMap;
use galmass_plot::{Colormap, Figure, Plot, Scale};

use galmass_core::params::Params;
use galmass_core::particles::Species;
use galmass_core::projection::{Aperture, ProjectedStars};
use galmass_core::{Galaxy, LineOfSight};
use galmass_mock::hi::fits_cube::read_cube;
use galmass_mock::hi::moments::{moments, MomentMask};
use galmass_mock::hi::params::HiParams;
use galmass_mock::hi::recipe::{match_recipe, RecipeTarget};
use galmass_mock::hi::render::observe_streamed;
use galmass_mock::hi::scalars::{gas_scalars, GasScalars};
use galmass_mock::hi::source::HiSource;
use galmass_snapshot::galaxy_file;

use crate::products::{HiProduct, Products, ProjectionInfo};
use crate::PipelineError;

/// Gas particles turned into sky coordinates at a time (the renderer is fed chunk by chunk, so memory does not
/// grow with the particle count beyond the galaxy itself).
pub const SOURCE_CHUNK: usize = 1 << 16;

/// Which HI observation to make of a galaxy file.
#[derive(Debug, Clone, PartialEq)]
pub struct HiRequest {
    /// Line of sight in the box frame, observer to galaxy (normalised for you).
    pub los: [f64; 3],
    /// The preset the parameters came from (`custom` when changed).
    pub preset: String,
    /// The observation's parameters.
    pub params: HiParams,
    /// Seed of the noise.
    pub seed: u64,
}

impl HiRequest {
    /// A paper preset (`delosrios2023`, `exposito2026`) along `los`.
    pub fn preset(name: &str, los: [f64; 3], seed: u64) -> Result<Self, PipelineError> {
        let params = HiParams::preset(name).ok_or_else(|| {
            PipelineError::invalid("HI preset", format!("unknown {name:?} (known: {:?})", HiParams::PRESETS))
        })?;
        Ok(Self { los, preset: name.to_owned(), params, seed })
    }
}

/// The HI cube, moments and gas scalars of one projection of the galaxy file at `path`.
pub fn hi_of_galaxy(path: &Path, request: &HiRequest) -> Result<Products, PipelineError> {
    hi_of_loaded(path, &galaxy_file::read(path)?, request)
}

/// [`hi_of_galaxy`] of a galaxy already read from `path` (the datasets observe one galaxy along many lines of
/// sight).
pub fn hi_of_loaded(path: &Path, galaxy: &Galaxy, request: &HiRequest) -> Result<Products, PipelineError> {
    let gas = galaxy.species(Species::Gas).filter(|g| !g.is_empty()).ok_or_else(|| PipelineError::BadFile {
        path: path.to_owned(),
        field: "gas".into(),
        reason: "no gas particles to observe in HI".into(),
    })?;
    let los = LineOfSight::new(request.los)
        .map_err(|e| PipelineError::invalid("line of sight", format!("{:?}: {e}", request.los)))?;
    let valid = request.params.check()?;
    let maps_error =
        |source| PipelineError::Maps { path: path.to_owned(), los: los.direction(), source: Box::new(source) };
    let scalars = match gas_scalars(gas) {
        Ok(s) => Some(s),
        Err(e) if valid.needs_r_hi() => return Err(maps_error(e)),
        Err(e) => {
            tracing::warn!("{}: gas scalars not measured: {e}", path.display());
            None
        }
    };
    let p = valid.params();
    let observation = valid.observation(scalars.as_ref().map(|s: &GasScalars| s.r_hi_kpc), request.seed)?;
    let chunks = HiSource::gas_chunks(gas, &los, p.distance_mpc, p.line, SOURCE_CHUNK);
    let cube = observe_streamed(&observation, chunks).map_err(maps_error)?;
    let hi_field = gas.field(galmass_core::particles::ScalarField::HiMassMsun);
    let n_emitting = hi_field.map_or(0, |m| m.iter().filter(|v| **v != 0.0).count());
    let noise_rms = observation.noise_rms_in_cube_unit()?;
    let clip = p.clip_rms * noise_rms;
    let moment_maps = moments(&cube, p.mask, clip).map_err(maps_error)?;
    let hi_mass_msun = gas.field(galmass_core::particles::ScalarField::HiMassMsun).map_or(0.0, |m| m.sum());
    tracing::info!(
        particles = n_emitting,
        pixel_arcsec = observation.grid.pixel_arcsec,
        cube_hi_mass = cube.hi_mass_msun(p.distance_mpc),
        particle_hi_mass = hi_mass_msun,
        "observed the gas in HI"
    );
    let product = HiProduct {
        source: "galaxy".into(),
        input: path.display().to_string(),
        preset: request.preset.clone(),
        params: Some(request.params),
        distance_mpc: Some(p.distance_mpc),
        seed: request.seed,
        n_particles: n_emitting as u64,
        hi_mass_msun,
        noise_rms,
        clip,
        mask: p.mask,
        scalars,
        cube,
        moments: moment_maps,
    };
    Ok(Products { hi: Some(product), ..Products::new(projection_info(path, galaxy, &los, request.seed)?) })
}

/// How to make moments of a real cube.
#[derive(Debug, Clone, PartialEq)]
pub struct FitsHiRequest {
    /// The moment mask.
    pub mask: MomentMask,
    /// Velocity moments use voxels above this many times the cube's noise rms (estimated from the data: 1.4826
    /// times the median absolute deviation of the finite voxels, which emission-free voxels dominate).
    pub clip_rms: f64,
    /// The galaxy's distance, Mpc (recorded; needed for physical pixels).
    pub distance_mpc: Option<f64>,
    /// Bring the cube to this recipe first (beam, channels, pixels), with its preset's name.
    pub recipe: Option<(String, RecipeTarget)>,
}

/// Moments of the real cube at `path` (FITS), optionally brought to a training recipe first.
pub fn hi_of_fits(path: &Path, request: &FitsHiRequest) -> Result<Products, PipelineError> {
    let real = read_cube(path)?;
    let (cube, preset) = match &request.recipe {
        Some((name, target)) => {
            let matched = match_recipe(&real, target)?;
            tracing::info!(systemic_kms = matched.systemic_velocity_kms, "brought the cube to the {name} recipe");
            (matched.cube, name.clone())
        }
        None => (real.cube.clone(), "fits".to_owned()),
    };
    let noise_rms = robust_rms(cube.data.iter().copied());
    let clip = request.clip_rms * noise_rms;
    let moment_maps = moments(&cube, request.mask, clip)?;
    let product = HiProduct {
        source: "fits".into(),
        input: path.display().to_string(),
        preset,
        params: None,
        distance_mpc: request.distance_mpc,
        seed: 0,
        n_particles: 0,
        hi_mass_msun: f64::NAN,
        noise_rms,
        clip,
        mask: request.mask,
        scalars: None,
        cube,
        moments: moment_maps,
    };
    let projection = ProjectionInfo {
        galaxy: path.display().to_string(),
        galaxy_id: 0,
        suite: real.object.clone().unwrap_or_else(|| "observed".into()),
        los: [0.0, 0.0, 1.0],
        seed: 0,
        n_stars: 0,
        r_h_kpc: f64::NAN,
        sigma_los_kms: f64::NAN,
    };
    Ok(Products { hi: Some(product), ..Products::new(projection) })
}

/// 1.4826 times the median absolute deviation of the finite values (the rms of Gaussian noise; 0 when none), the
/// medians by `galmass_core::stats` (numpy's convention).
pub fn robust_rms(values: impl Iterator<Item = f64>) -> f64 {
    galmass_core::stats::robust_rms(values)
}

/// Where the FITS files of [`write_hi_fits`] go for a products file `out`: `<out>.cube.fits` and
/// `<out>.moments.fits` (the extension of `out` replaced).
pub fn hi_fits_paths(out: &Path) -> (PathBuf, PathBuf) {
    (out.with_extension("cube.fits"), out.with_extension("moments.fits"))
}

/// Writes the cube and its moments as FITS (for DS9 and astropy): the cube with a `RA---SIN`/`DEC--SIN`/`VRAD` WCS
/// centred on RA = Dec = 0 (a mock has no position on the sky), the beam, `RESTFRQ`, `SPECSYS`, and the systemic
/// velocity `CRVAL3` of the Hubble flow at the distance (Planck 2018 H0) for a mock, the file's own velocities for a
/// real cube; the moments as `MOM0`/`MOM1`/`MOM2` images with the same celestial WCS.
pub fn write_hi_fits(out: &Path, product: &HiProduct, object: &str) -> Result<(PathBuf, PathBuf), PipelineError> {
    let systemic_kms = match (product.source.as_str(), product.distance_mpc) {
        ("galaxy", Some(d)) => Cosmology::PLANCK2018.h * 100.0 * d,
        _ => 0.0,
    };
    let object: String = object.chars().filter(|c| c.is_ascii_graphic() || *c == ' ').take(68).collect();
    let header = CubeHeader::new(object, SkyPosition { ra_deg: 0.0, dec_deg: 0.0 }, systemic_kms);
    let (cube_path, moments_path) = hi_fits_paths(out);
    write_cube(&cube_path, &product.cube, &header)?;
    let m = &product.moments;
    let maps = [
        SkyMap::moment0(m.mom0.view(), product.cube.unit),
        SkyMap::moment1(m.mom1.view()),
        SkyMap::moment2(m.mom2.view()),
    ];
    write_sky_maps(&moments_path, &maps, &product.cube.grid, product.cube.beam.as_ref(), &header)?;
    Ok((cube_path, moments_path))
}

/// The moment maps as a figure: moment 0 (log10 colour scale), moment 1 and moment 2 side by side, on the sky
/// offsets in arcsec from the field centre (x grows westwards, north up), masked pixels blank.
pub fn hi_figure(product: &HiProduct, title: &str) -> Result<Figure, PipelineError> {
    let grid = product.cube.grid;
    let (x0, x1) = (grid.x_edge_arcsec(), -grid.x_edge_arcsec());
    let (y0, y1) = (grid.y_edge_arcsec(), -grid.y_edge_arcsec());
    let m = &product.moments;
    let panel =
        |name: &str, values: &ndarray::Array2<f64>, label: String, scale: Scale| -> Result<Plot, PipelineError> {
            let flat: Vec<f64> = values.iter().copied().collect();
            Ok(Plot::new().title(name).x_label("x (west) ['']").y_label("y (north) ['']").with(
                HeatMap::new(&flat, grid.ny, grid.nx)
                    .extent(x0, x1, y0, y1)
                    .colormap(Colormap::Viridis)
                    .color_scale(scale)
                    .colorbar(label),
            )?)
        };
    Ok(Figure::new(1650, 520)
        .grid(1, 3)
        .title(title)
        .with(panel("moment 0", &m.mom0, m.mom0_unit.clone(), Scale::Log10)?)
        .with(panel("moment 1", &m.mom1, "v [km/s]".into(), Scale::Linear)?)
        .with(panel("moment 2", &m.mom2, "σ [km/s]".into(), Scale::Linear)?))
}

/// Saves [`hi_figure`] as a PNG.
pub fn save_hi_figure(path: &Path, product: &HiProduct, title: &str) -> Result<(), PipelineError> {
    hi_figure(product, title)?.save_png(path).map_err(|source| PipelineError::Plot { path: path.to_owned(), source })
}

/// The root attributes: the galaxy and, when it has stars, their R_h and sigma_los along `los` (every star).
pub(crate) fn projection_info(
    path: &Path,
    galaxy: &Galaxy,
    los: &LineOfSight,
    seed: u64,
) -> Result<ProjectionInfo, PipelineError> {
    let (mut n_stars, mut r_h_kpc, mut sigma_los_kms) = (0, f64::NAN, f64::NAN);
    if let Some(stars) = galaxy.species(Species::Stars).filter(|s| s.len() >= 2) {
        let projected = ProjectedStars::new(stars, los, None)?;
        n_stars = projected.len() as u64;
        r_h_kpc = projected.half_number_radius_kpc()?;
        sigma_los_kms = projected.sigma_los_kms(&Aperture::All, r_h_kpc)?;
    }
    Ok(ProjectionInfo {
        galaxy: path.display().to_string(),
        galaxy_id: galaxy.meta.galaxy_id,
        suite: galaxy.meta.suite.clone(),
        los: los.direction(),
        seed,
        n_stars,
        r_h_kpc,
        sigma_los_kms,
    })
}

#[cfg(test)]
mod tests {
    use galmass_mock::hi::cube::CubeUnit;
    use galmass_mock::hi::params::BeamSize;

    use galmass_mock::hi::recipe::SystemicVelocity;

    use super::*;
    use crate::products::{read_products, write_products};
    use crate::test_support::{synth_galaxy, write_galaxy};

    /// A gas-rich disc galaxy (auriga-like preset) with 6000 gas particles, as a galaxy file.
    fn gas_galaxy(dir: &Path) -> std::path::PathBuf {
        write_galaxy(dir, "disc.h5", &synth_galaxy("auriga-like", (3000, 3000, Some(6000)), 0, 2))
    }

    #[test]
    fn a_synthetic_galaxy_in_hi_round_trips_through_the_products_file() {
        let dir = tempfile::tempdir().unwrap();
        let galaxy = gas_galaxy(dir.path());
        let request = HiRequest::preset("exposito2026", [0.2, 0.3, 0.9], 5).unwrap();
        let products = hi_of_galaxy(&galaxy, &request).unwrap();
        let hi = products.hi.as_ref().unwrap();
        assert_eq!(hi.cube.data.dim(), (64, 64, 64));
        assert_eq!(hi.cube.unit, CubeUnit::JyPerBeam);
        let r_hi = hi.scalars.unwrap().r_hi_kpc;
        // exposito2026: the field spans +-2 R_HI.
        assert!((hi.pixel_kpc() * 64.0 / (4.0 * r_hi) - 1.0).abs() < 1e-6, "{} {r_hi}", hi.pixel_kpc());
        assert!(hi.moments.mask.iter().any(|m| *m));
        let out = dir.path().join("hi.h5");
        write_products(&out, &products).unwrap();
        let back = read_products(&out).unwrap();
        let back_hi = back.hi.as_ref().unwrap();
        let same = |a: &ndarray::Array2<f64>, b: &ndarray::Array2<f64>| {
            a.iter().zip(b).all(|(x, y)| x == y || (x.is_nan() && y.is_nan()))
        };
        let (m, n) = (&back_hi.moments, &hi.moments);
        assert!(same(&m.mom0, &n.mom0) && same(&m.mom1, &n.mom1) && same(&m.mom2, &n.mom2));
        assert_eq!((&m.mask, &m.mom0_unit), (&n.mask, &n.mom0_unit));
        assert_eq!(back_hi.params, hi.params);
        assert_eq!(back_hi.scalars, hi.scalars);
        let worst = (&back_hi.cube.data - &hi.cube.data).iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let peak = hi.cube.data.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(worst <= peak * 1e-6, "float32 storage: {worst} of {peak}");
        assert_eq!(back.projection, products.projection);
    }

    #[test]
    fn an_unconvolved_noiseless_cube_holds_the_galaxy_hi_mass() {
        let dir = tempfile::tempdir().unwrap();
        let galaxy = gas_galaxy(dir.path());
        let mut request = HiRequest::preset("delosrios2023", [0.0, 0.0, 1.0], 1).unwrap();
        request.params.beam = BeamSize::None;
        request.params.noise = galmass_mock::hi::noise::NoiseRms::None;
        // 150 kpc and 800 km/s: every particle inside the field and the band.
        request.params.npix = 256;
        request.params.channels = 160;
        let products = hi_of_galaxy(&galaxy, &request).unwrap();
        let hi = products.hi.unwrap();
        let ratio = hi.cube.hi_mass_msun(15.0) / hi.hi_mass_msun;
        assert!((ratio - 1.0).abs() < 0.01, "{ratio}");
    }

    #[test]
    fn a_real_cube_gives_its_unmasked_moment_zero_and_comes_to_a_recipe() {
        let Some(path) = galmass_core::fixtures::fixture("fits/NGC_2903.fits") else { return };
        let request = FitsHiRequest { mask: MomentMask::None, clip_rms: 5.0, distance_mpc: Some(8.9), recipe: None };
        let products = hi_of_fits(&path, &request).unwrap();
        let hi = products.hi.unwrap();
        // expected_by_peers.json: nansum over channels x |CDELT3| in km/s, summed over the map (astropy).
        let total: f64 = hi.moments.mom0.iter().filter(|v| v.is_finite()).sum();
        assert!((total / 1993.3987776591418 - 1.0).abs() < 1e-6, "{total}");
        assert!(hi.noise_rms > 0.0 && hi.noise_rms < 0.01, "{}", hi.noise_rms);
        // delosrios2023's 10'' beam is finer than the data's (57'' x 48''): refused.
        let fine = HiParams::DELOSRIOS2023.check().unwrap();
        let target = fine.recipe_target(None, SystemicVelocity::FluxWeightedMean).unwrap();
        let refused = FitsHiRequest { recipe: Some(("delosrios2023".into(), target)), ..request.clone() };
        assert!(hi_of_fits(&path, &refused).unwrap_err().to_string().contains("cannot be sharpened"));
        // exposito2026 at 8.9 Mpc: R_HI = 30 kpc would give 64 pixels of 0.94 kpc (21.7'') and a 2-pixel beam of
        // 43'', still finer than the data's; R_HI = 40 kpc gives a 58'' beam and works.
        let coarse = HiParams { distance_mpc: 8.9, ..HiParams::EXPOSITO2026 }.check().unwrap();
        let target = coarse.recipe_target(Some(40.0), SystemicVelocity::FluxWeightedMean).unwrap();
        let matched = FitsHiRequest {
            mask: MomentMask::ColumnDensityCm2(3.16e19),
            recipe: Some(("exposito2026".into(), target)),
            ..request
        };
        let hi = hi_of_fits(&path, &matched).unwrap().hi.unwrap();
        assert_eq!(hi.cube.data.dim(), (64, 64, 64));
        assert_eq!(hi.preset, "exposito2026");
        assert!(hi.moments.mask.iter().any(|m| *m));
    }
}
