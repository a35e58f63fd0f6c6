//! Optical mock observations of one projection of a galaxy file, into the products file's `optical/`, `sph/` and
//! `scalars/` groups ([`crate::products::optical`]): SDSS-like ugriz frames (delosrios2023, `galmass maps
//! optical`), chu2024's SPH images and kinematic maps (`galmass maps sph`) and chu2024's summary statistics
//! (`galmass features`), with figures of each.

use std::path::Path;

use galmass_core::params::Params;
use galmass_core::particles::Species;
use galmass_core::{Galaxy, LineOfSight, Particles};
use galmass_mock::features::{chu2024_features, FeatureParams, Features};
use galmass_mock::hi::fits_cube::SkyPosition;
use galmass_mock::optical::kinematic::{kinematic_maps, KinematicParams};
use galmass_mock::optical::sdss::{sdss_frames, write_frames_fits, SdssParams};
use galmass_mock::optical::sph::{sph_images, ScaledImage, SphImageParams};
use galmass_mock::MockError;
use galmass_plot::series::HeatMap;
use galmass_plot::{Colormap, Figure, Plot, Scale};
use galmass_snapshot::galaxy_file;
use ndarray::Array2;

use crate::hi::projection_info;
use crate::photometry::{stars_with_luminosities, LuminositySource};

/// The stars dimmed by the foreground dust screen of the galaxy's gas (`galmass_mock::optical::dust`,
/// delosrios2023's preset of the recipe), and the recipe's name; the stars unchanged and `none` without `dust`.
fn with_dust<'a>(
    path: &Path,
    galaxy: &Galaxy,
    stars: std::borrow::Cow<'a, Particles>,
    los: &LineOfSight,
    dust: bool,
) -> Result<(std::borrow::Cow<'a, Particles>, String), PipelineError> {
    use galmass_mock::optical::dust::{dust_screen, DustParams};
    if !dust {
        return Ok((stars, "none".into()));
    }
    let gas = galaxy.species(Species::Gas).filter(|g| !g.is_empty()).ok_or_else(|| PipelineError::BadFile {
        path: path.to_owned(),
        field: "gas".into(),
        reason: "no gas particles: the dust screen needs the gas's metals".into(),
    })?;
    let params = DustParams::DELOSRIOS2023;
    let screen = dust_screen(&stars, gas, los, &params.check()?).map_err(mock_error(path, los))?;
    let attenuated = screen.attenuate(&stars).map_err(mock_error(path, los))?;
    let recipe = format!("foreground screen: {}", serde_json::to_string(&params).unwrap_or_default());
    Ok((std::borrow::Cow::Owned(attenuated), recipe))
}
use crate::products::{BandFrameProduct, OpticalProduct, Products, ScalarValue, ScalarsProduct, ScaledMap, SphProduct};
use crate::PipelineError;

/// Which chu2024 images and kinematic maps to make of a galaxy file.
#[derive(Debug, Clone, PartialEq)]
pub struct SphRequest {
    /// Line of sight in the box frame, observer to galaxy (normalised for you).
    pub los: [f64; 3],
    /// The preset the parameters came from (`custom` when changed).
    pub preset: String,
    /// The images.
    pub images: SphImageParams,
    /// The kinematic maps.
    pub kinematic: KinematicParams,
    /// Where the stars' g and r luminosities come from.
    pub luminosities: LuminositySource,
    /// Dim the stars by the gas's foreground dust screen.
    pub dust: bool,
}

impl SphRequest {
    /// A paper preset (`chu2024`) along `los`.
    pub fn preset(name: &str, los: [f64; 3]) -> Result<Self, PipelineError> {
        let unknown = || PipelineError::invalid("SPH image preset", format!("unknown {name:?} (known: chu2024)"));
        Ok(Self {
            los,
            preset: name.to_owned(),
            images: SphImageParams::preset(name).ok_or_else(unknown)?,
            kinematic: KinematicParams::preset(name).ok_or_else(unknown)?,
            luminosities: LuminositySource::Auto,
            dust: false,
        })
    }
}

pub(crate) fn mock_error(path: &Path, los: &LineOfSight) -> impl Fn(MockError) -> PipelineError {
    let (path, los) = (path.to_owned(), los.direction());
    move |source| PipelineError::Maps { path: path.clone(), los, source: Box::new(source) }
}

/// The galaxy's stars (at least two), or an error naming the file.
pub(crate) fn stars_of<'a>(path: &Path, galaxy: &'a Galaxy) -> Result<&'a Particles, PipelineError> {
    galaxy.species(Species::Stars).filter(|s| s.len() >= 2).ok_or_else(|| PipelineError::BadFile {
        path: path.to_owned(),
        field: "stars".into(),
        reason: "fewer than two star particles: no image to make".into(),
    })
}

/// The 3-D half stellar mass radius of `stars` (chu2024's R_hsm), or an error naming the file.
pub(crate) fn r_hsm_kpc(path: &Path, stars: &Particles) -> Result<f64, PipelineError> {
    stars.half_mass_radius_kpc().filter(|r| *r > 0.0).ok_or_else(|| PipelineError::BadFile {
        path: path.to_owned(),
        field: "stars/mass".into(),
        reason: "no positive stellar mass: the half-mass radius is undefined".into(),
    })
}

/// chu2024's r, g and g - r images and mean-velocity and dispersion maps of one projection of the galaxy file at
/// `path`, into the products file's `sph/` group.
pub fn sph_of_galaxy(path: &Path, request: &SphRequest) -> Result<Products, PipelineError> {
    sph_of_loaded(path, &galaxy_file::read(path)?, request)
}

/// [`sph_of_galaxy`] of a galaxy already read from `path`.
pub fn sph_of_loaded(path: &Path, galaxy: &Galaxy, request: &SphRequest) -> Result<Products, PipelineError> {
    let los = LineOfSight::new(request.los)
        .map_err(|e| PipelineError::invalid("line of sight", format!("{:?}: {e}", request.los)))?;
    let (stars, luminosities) =
        stars_with_luminosities(path, stars_of(path, galaxy)?, &["g", "r"], request.luminosities)?;
    let (stars, dust) = with_dust(path, galaxy, stars, &los, request.dust)?;
    let stars = stars.as_ref();
    let r_hsm = r_hsm_kpc(path, stars)?;
    let (images_params, kinematic_params) = (request.images.check()?, request.kinematic.check()?);
    let err = mock_error(path, &los);
    let images = sph_images(stars, &los, r_hsm, &images_params).map_err(&err)?;
    let kin = kinematic_maps(stars, &los, r_hsm, &kinematic_params).map_err(&err)?;
    let params_json = serde_json::json!({ "images": request.images, "kinematic": request.kinematic }).to_string();
    let scaled = |(data, scale): ScaledImage, unit: &str| ScaledMap { data, unit: unit.into(), scale };
    let (r_unit, g_unit) = ("Lsun_r per pixel", "Lsun_g per pixel");
    let kinematic_half_width = kinematic_params.params().half_width_rhsm * r_hsm;
    let kinematic_scaling = request.images.scaling;
    let product = SphProduct {
        input: path.display().to_string(),
        preset: request.preset.clone(),
        params_json,
        r_hsm_kpc: r_hsm,
        half_width_kpc: images.grid.half_width,
        kinematic_half_width_kpc: kinematic_half_width,
        kinematic_weight: request.kinematic.weight.name(),
        scaling: request.images.scaling.name().into(),
        luminosities,
        dust: dust.clone(),
        r: scaled(images.r_scaled, r_unit),
        g: scaled(images.g_scaled, g_unit),
        g_r: scaled(images.g_r_scaled, "mag (AB)"),
        v_mean: scaled(kinematic_scaling.apply(&kin.v_mean).map_err(&err)?, "km/s"),
        v_disp: scaled(kinematic_scaling.apply(&kin.v_disp).map_err(&err)?, "km/s"),
        count: kin.count,
    };
    tracing::info!(
        r_hsm_kpc = r_hsm,
        stars = stars.len(),
        lum_r_in_field = images.r.sum(),
        lum_r_total = images.total_lum_r,
        "SPH images and kinematic maps"
    );
    Ok(Products { sph: Some(product), ..Products::new(projection_info(path, galaxy, &los, 0)?) })
}

/// Which SDSS-like frames to make of a galaxy file.
#[derive(Debug, Clone, PartialEq)]
pub struct OpticalRequest {
    /// Line of sight in the box frame, observer to galaxy (normalised for you).
    pub los: [f64; 3],
    /// Distance to the galaxy, Mpc.
    pub distance_mpc: f64,
    /// The preset the parameters came from (`custom` when changed).
    pub preset: String,
    /// The frames.
    pub params: SdssParams,
    /// Seed of the noise.
    pub seed: u64,
    /// Where the stars' ugriz luminosities come from.
    pub luminosities: LuminositySource,
    /// Dim the stars by the gas's foreground dust screen.
    pub dust: bool,
}

impl OpticalRequest {
    /// A paper preset (`delosrios2023`) along `los` at `distance_mpc`.
    pub fn preset(name: &str, los: [f64; 3], distance_mpc: f64, seed: u64) -> Result<Self, PipelineError> {
        let params = SdssParams::preset(name).ok_or_else(|| {
            PipelineError::invalid("optical preset", format!("unknown {name:?} (known: {:?})", SdssParams::PRESETS))
        })?;
        Ok(Self {
            los,
            distance_mpc,
            preset: name.to_owned(),
            params,
            seed,
            luminosities: LuminositySource::Auto,
            dust: false,
        })
    }
}

/// delosrios2023's SDSS-like ugriz frames of one projection of the galaxy file at `path`, into the products
/// file's `optical/` group.
pub fn optical_of_galaxy(path: &Path, request: &OpticalRequest) -> Result<Products, PipelineError> {
    optical_of_loaded(path, &galaxy_file::read(path)?, request)
}

/// [`optical_of_galaxy`] of a galaxy already read from `path`.
pub fn optical_of_loaded(path: &Path, galaxy: &Galaxy, request: &OpticalRequest) -> Result<Products, PipelineError> {
    let los = LineOfSight::new(request.los)
        .map_err(|e| PipelineError::invalid("line of sight", format!("{:?}: {e}", request.los)))?;
    let bands = ["u", "g", "r", "i", "z"];
    let (stars, luminosities) = stars_with_luminosities(path, stars_of(path, galaxy)?, &bands, request.luminosities)?;
    let (stars, dust) = with_dust(path, galaxy, stars, &los, request.dust)?;
    let stars = stars.as_ref();
    let valid = request.params.check()?;
    let frames =
        sdss_frames(stars, &los, request.distance_mpc, &valid, request.seed).map_err(mock_error(path, &los))?;
    if frames.n_behind > 0 {
        tracing::warn!(stars = frames.n_behind, "stars behind the observer left out of the frames");
    }
    let bands = frames
        .bands
        .iter()
        .map(|b| BandFrameProduct {
            band: b.constants.band.to_owned(),
            image: b.image.clone(),
            psf_fwhm_arcsec: b.psf_fwhm_arcsec,
            sky_rms_nanomaggies: b.sky_rms_nanomaggies,
        })
        .collect();
    let product = OpticalProduct {
        input: path.display().to_string(),
        preset: request.preset.clone(),
        params_json: serde_json::to_string(&request.params)
            .map_err(|e| PipelineError::invalid("optical parameters", e.to_string()))?,
        distance_mpc: request.distance_mpc,
        pixel_arcsec: frames.pixel_arcsec,
        seed: request.seed,
        psf: request.params.psf,
        noise: request.params.noise,
        dust: dust.clone(),
        luminosities,
        bands,
    };
    tracing::info!(
        distance_mpc = request.distance_mpc,
        pixel_arcsec = frames.pixel_arcsec,
        r_nmgy = product.band("r").map_or(f64::NAN, |b| b.image.sum()),
        "SDSS-like frames"
    );
    Ok(Products { optical: Some(product), ..Products::new(projection_info(path, galaxy, &los, request.seed)?) })
}

/// Writes the frames of `product` as FITS (one HDU per band, TAN WCS about RA = Dec = 0; the header keys of
/// `galmass_mock::optical::sdss::write_frames_fits`).
pub fn write_optical_fits(path: &Path, product: &OpticalProduct, object: &str) -> Result<(), PipelineError> {
    let bands = product
        .bands
        .iter()
        .map(|b| {
            let constants = galmass_mock::optical::sdss::band_constants(&b.band)
                .ok_or_else(|| PipelineError::invalid("band", format!("{:?} is not an SDSS band", b.band)))?;
            Ok(galmass_mock::optical::sdss::BandFrame {
                constants: *constants,
                image: b.image.clone(),
                psf_fwhm_arcsec: b.psf_fwhm_arcsec,
                sky_rms_nanomaggies: b.sky_rms_nanomaggies,
            })
        })
        .collect::<Result<Vec<_>, PipelineError>>()?;
    let frames = galmass_mock::optical::sdss::SdssFrames {
        pixel_arcsec: product.pixel_arcsec,
        distance_mpc: product.distance_mpc,
        n_behind: 0,
        bands,
    };
    write_frames_fits(path, &frames, SkyPosition { ra_deg: 0.0, dec_deg: 0.0 }, object)
        .map_err(|source| PipelineError::Mock(Box::new(source)))
}

/// chu2024's summary statistics of one projection of the galaxy file at `path` (`galmass features`), and the
/// products file holding them in its `scalars/` group.
pub fn features_of_galaxy(
    path: &Path,
    los: [f64; 3],
    preset: &str,
    luminosities: LuminositySource,
) -> Result<(Features, Products), PipelineError> {
    let params = FeatureParams::preset(preset)
        .ok_or_else(|| PipelineError::invalid("feature preset", format!("unknown {preset:?} (known: chu2024)")))?;
    let mut galaxy = galaxy_file::read(path)?;
    let los = LineOfSight::new(los).map_err(|e| PipelineError::invalid("line of sight", format!("{los:?}: {e}")))?;
    let (stars, source) = stars_with_luminosities(path, stars_of(path, &galaxy)?, &["g", "r"], luminosities)?;
    if let std::borrow::Cow::Owned(stars) = stars {
        galaxy.set_species(Species::Stars, stars);
    }
    tracing::info!(luminosities = %source, "summary statistics");
    let features = chu2024_features(&galaxy, &los, &params.check()?).map_err(mock_error(path, &los))?;
    let values = features
        .iter()
        .map(|(k, f)| (k.to_owned(), ScalarValue { value: f.value, unit: f.unit.into(), aperture: f.aperture.clone() }))
        .collect();
    let scalars = ScalarsProduct {
        preset: preset.to_owned(),
        params_json: serde_json::to_string(&params)
            .map_err(|e| PipelineError::invalid("feature parameters", e.to_string()))?,
        values,
    };
    let products = Products { scalars: Some(scalars), ..Products::new(projection_info(path, &galaxy, &los, 0)?) };
    Ok((features, products))
}

pub(crate) fn heat_panel(
    title: &str,
    values: &Array2<f64>,
    extent: [f64; 4],
    axes: [&str; 2],
    label: &str,
    colormap: Colormap,
    scale: Scale,
) -> Result<Plot, PipelineError> {
    let (ny, nx) = values.dim();
    let flat: Vec<f64> = values.iter().copied().collect();
    Ok(Plot::new().title(title).x_label(axes[0]).y_label(axes[1]).with(
        HeatMap::new(&flat, ny, nx)
            .extent(extent[0], extent[1], extent[2], extent[3])
            .colormap(colormap)
            .color_scale(scale)
            .colorbar(label),
    )?)
}

/// The five frames of `product` side by side (log10 of the positive pixels; the sky noise makes some negative).
pub fn optical_figure(product: &OpticalProduct, title: &str) -> Result<Figure, PipelineError> {
    let mut figure = Figure::new(330 * product.bands.len().max(1) as u32 + 60, 380).grid(1, product.bands.len().max(1));
    figure = figure.title(title);
    for band in &product.bands {
        let (ny, nx) = band.image.dim();
        let (hx, hy) = (0.5 * nx as f64 * product.pixel_arcsec, 0.5 * ny as f64 * product.pixel_arcsec);
        // West to the right, as the pixels run (x = -e1).
        let floor = band.sky_rms_nanomaggies.max(1e-6 * band.image.iter().fold(0.0f64, |a, &v| a.max(v)));
        let shown = band.image.mapv(|v| if v > floor { v } else { floor });
        figure = figure.with(heat_panel(
            &format!("{} (PSF {:.2}'')", band.band, band.psf_fwhm_arcsec),
            &shown,
            [-hx, hx, -hy, hy],
            ["x (west) ['']", "y (north) ['']"],
            "nanomaggy",
            Colormap::Viridis,
            Scale::Log10,
        )?);
    }
    Ok(figure)
}

/// chu2024's inputs of `product`: r and g images, g - r colour, mean velocity and dispersion, in physical units.
pub fn sph_figure(product: &SphProduct, title: &str) -> Result<Figure, PipelineError> {
    let (h, k) = (product.half_width_kpc, product.kinematic_half_width_kpc);
    let axes = ["x [kpc]", "y [kpc]"];
    let light = |m: &ScaledMap| {
        let p = m.physical();
        let peak = p.iter().fold(0.0f64, |a, &v| if v.is_finite() { a.max(v) } else { a });
        p.mapv(|v| if v > 1e-4 * peak { v } else { 1e-4 * peak })
    };
    Ok(Figure::new(1750, 380)
        .grid(1, 5)
        .title(title)
        .with(heat_panel(
            "r",
            &light(&product.r),
            [-h, h, -h, h],
            axes,
            &product.r.unit,
            Colormap::Viridis,
            Scale::Log10,
        )?)
        .with(heat_panel(
            "g",
            &light(&product.g),
            [-h, h, -h, h],
            axes,
            &product.g.unit,
            Colormap::Viridis,
            Scale::Log10,
        )?)
        .with(heat_panel(
            "g - r",
            &product.g_r.physical(),
            [-h, h, -h, h],
            axes,
            "mag",
            Colormap::Copper,
            Scale::Linear,
        )?)
        .with(heat_panel(
            "mean v_{los}",
            &product.v_mean.physical(),
            [-k, k, -k, k],
            axes,
            "km/s",
            Colormap::Bone,
            Scale::Linear,
        )?)
        .with(heat_panel(
            "σ_{los}",
            &product.v_disp.physical(),
            [-k, k, -k, k],
            axes,
            "km/s",
            Colormap::Copper,
            Scale::Linear,
        )?))
}

/// `text` with the plot markup's `_` and `^` escaped (file names in titles).
pub fn escape_markup(text: &str) -> String {
    text.replace('_', "\\_").replace('^', "\\^")
}

/// Saves a figure as a PNG.
pub fn save_figure(path: &Path, figure: Figure) -> Result<(), PipelineError> {
    figure.save_png(path).map_err(|source| PipelineError::Plot { path: path.to_owned(), source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::products::{read_products, write_products};
    use crate::test_support::{synth_galaxy, write_galaxy};

    #[test]
    fn a_synthetic_galaxy_through_sph_optical_and_features() {
        let dir = tempfile::tempdir().unwrap();
        let galaxy = synth_galaxy("tng-like", (3000, 2000, Some(1000)), 0, 3);
        let path = write_galaxy(dir.path(), "g.h5", &galaxy);
        let los = [0.0, 0.6, 0.8];
        let mut sph = SphRequest::preset("chu2024", los).unwrap();
        sph.images.output_npix = 60;
        let products = sph_of_galaxy(&path, &sph).unwrap();
        let out = dir.path().join("p.h5");
        write_products(&out, &products).unwrap();
        let back = read_products(&out).unwrap().sph.unwrap();
        assert_eq!((back.r.data.dim(), back.v_mean.data.dim()), ((60, 60), (48, 48)));
        assert!(back.luminosities.starts_with("galaxy file"));
        let (lo, hi) = back.r.scale.unwrap();
        assert!(lo >= 0.0 && hi > lo);
        // The SSP route gives the synthetic galaxy's own luminosities (the same table made them).
        let mut optical = OpticalRequest::preset("delosrios2023", los, 12.0, 1).unwrap();
        optical.params.noise = false;
        let file = optical_of_galaxy(&path, &optical).unwrap().optical.unwrap();
        optical.luminosities = LuminositySource::Ssp;
        let ssp = optical_of_galaxy(&path, &optical).unwrap().optical.unwrap();
        for (a, b) in file.bands.iter().zip(&ssp.bands) {
            let (fa, fb) = (a.image.sum(), b.image.sum());
            assert!((fa / fb - 1.0).abs() < 1e-9, "{}: {fa} vs {fb}", a.band);
        }
        assert!(ssp.luminosities.starts_with("SSP"));
        let fits = dir.path().join("p.fits");
        write_optical_fits(&fits, &file, "g").unwrap();
        let r = galmass_mock::optical::sdss::read_wcs_image(&fits, 2).unwrap();
        assert_eq!(r.unit, "nanomaggy");
        let (features, products) = features_of_galaxy(&path, los, "chu2024", LuminositySource::Auto).unwrap();
        let scalars = products.scalars.unwrap();
        assert_eq!(scalars.values.len(), 10);
        assert_eq!(scalars.values["sersic_n"].value, features.get("sersic_n").unwrap().value);
        assert!(features_of_galaxy(&path, los, "nope", LuminositySource::Auto).is_err());
        // Dust: synthetic gas carries no metallicity, a clear error; with one, the frames dim, u most.
        optical.dust = true;
        let err = optical_of_galaxy(&path, &optical).unwrap_err().to_string();
        assert!(err.contains("metallicity"), "{err}");
        let mut dusty = galaxy.clone();
        let mut gas = dusty.species(Species::Gas).unwrap().clone();
        gas.set_field(galmass_core::particles::ScalarField::Metallicity, ndarray::Array1::from_elem(gas.len(), 0.02))
            .unwrap();
        dusty.set_species(Species::Gas, gas);
        let path = write_galaxy(dir.path(), "dusty.h5", &dusty);
        let dimmed = optical_of_galaxy(&path, &optical).unwrap().optical.unwrap();
        assert!(dimmed.dust.starts_with("foreground screen"));
        let ratio = |k: usize| dimmed.bands[k].image.sum() / ssp.bands[k].image.sum();
        assert!(ratio(0) < ratio(4) && ratio(4) < 1.0, "u {} z {}", ratio(0), ratio(4));
    }
}
