//! The optical groups of the products file: SDSS-like ugriz frames (`optical/`, delosrios2023), chu2024's
//! SPH-smoothed images and kinematic maps (`sph/`) and chu2024's summary statistics (`scalars/`).
//!
//! # Layout (products version 1)
//!
//! Group `optical/` (`galmass maps optical`), attributes `input` (the galaxy file), `preset`, `params` (the resolved
//! frame parameters as JSON), `distance_mpc`, `npix` (u64), `pixel_arcsec`, `pixel_kpc`, `seed` (u64), `psf` and
//! `noise` (u8 flags), `dust` (the attenuation recipe, `none` without one), `luminosities` (where the stars'
//! luminosities came from), `orientation` (`x = -e1 (west), y = e2`: the same pixels as `hi/` of one projection).
//! One float64 dataset per band, `u`, `g`, `r`, `i`, `z`, each (y, x) in nanomaggies, with attributes `unit`
//! (`nanomaggy`), `axes` (`y, x`), `pixel_arcsec`, `psf_fwhm_arcsec` (0 without a PSF), `sky_rms_nanomaggies` (per
//! pixel; 0 without noise) and the pixel-centre offsets `x_arcsec`, `y_arcsec` from the field centre.
//!
//! Group `sph/` (`galmass maps sph`), attributes `input`, `preset`, `params` (JSON), `r_hsm_kpc` (the 3-D half
//! stellar mass radius the grids are scaled to), `npix` (u64), `half_width_kpc`, `pixel_kpc`, `kinematic_npix`
//! (u64), `kinematic_half_width_kpc`, `kinematic_weight`, `scaling` (`none`, `per-image` or `per-dataset`),
//! `luminosities`, `dust`, `orientation` (`x = e1, y = e2`, as `stars/`). Datasets, each with `unit` (of the
//! physical values), `axes`, the pixel-centre coordinates `x_kpc`, `y_kpc`, and, when scaled to [0, 1], `scale_min`
//! and `scale_max` (physical = `scale_min + value (scale_max - scale_min)`):
//! - `r`, `g` (y, x): luminosity per pixel in solar units of the band; `g_r` (y, x): g - r colour in AB magnitudes,
//!   NaN where a pixel has no light;
//! - `v_mean`, `v_disp` (y, x) in km/s (NaN where empty), `count` (y, x) uint32: stars per kinematic pixel.
//!
//! Group `scalars/` (`galmass features --out`), attributes `preset`, `params` (JSON) and per statistic `KEY`
//! (float64), `KEY_unit` and `KEY_aperture` (strings); the keys are those of `galmass features --json` (`M_r`,
//! `g_r`, `sfr`, `sersic_n`, `c_over_a`, `sigma_v`, `lambda_r`, `kinematic_bt`, `f_cold`, `f_hot`).

use std::collections::BTreeMap;
use std::path::Path;

use ndarray::Array2;

use super::{h5err, missing, read_scalar, read_str, write_array, write_scalar, write_str, Result};
use crate::PipelineError;

/// The five SDSS bands, in wavelength order (the dataset names of `optical/`).
pub const SDSS_BANDS: [&str; 5] = ["u", "g", "r", "i", "z"];

/// One band of the SDSS-like frames.
#[derive(Debug, Clone, PartialEq)]
pub struct BandFrameProduct {
    /// Band name (`u` ... `z`).
    pub band: String,
    /// The frame (y, x) in nanomaggies.
    pub image: Array2<f64>,
    /// FWHM of the Gaussian PSF, arcsec (0: none).
    pub psf_fwhm_arcsec: f64,
    /// Per-pixel sky noise rms, nanomaggies (0: no noise).
    pub sky_rms_nanomaggies: f64,
}

/// SDSS-like frames of one projection (group `optical/`).
#[derive(Debug, Clone, PartialEq)]
pub struct OpticalProduct {
    /// The galaxy file.
    pub input: String,
    /// The preset (or `custom`).
    pub preset: String,
    /// The resolved frame parameters as JSON.
    pub params_json: String,
    /// Distance, Mpc.
    pub distance_mpc: f64,
    /// Pixel size, arcsec.
    pub pixel_arcsec: f64,
    /// Seed of the noise.
    pub seed: u64,
    /// Whether a PSF was applied.
    pub psf: bool,
    /// Whether sky noise was added.
    pub noise: bool,
    /// The dust recipe (`none` without one).
    pub dust: String,
    /// Where the luminosities came from.
    pub luminosities: String,
    /// The bands, in the order written.
    pub bands: Vec<BandFrameProduct>,
}

impl OpticalProduct {
    /// kpc per pixel at the distance.
    pub fn pixel_kpc(&self) -> f64 {
        (self.pixel_arcsec / galmass_mock::hi::cube::ARCSEC_PER_RAD).tan() * self.distance_mpc * 1e3
    }

    /// Pixels per side (0 without bands).
    pub fn npix(&self) -> usize {
        self.bands.first().map_or(0, |b| b.image.ncols())
    }

    /// The band called `name`.
    pub fn band(&self, name: &str) -> Option<&BandFrameProduct> {
        self.bands.iter().find(|b| b.band == name)
    }
}

/// A map of `sph/` with its unit and, when scaled to [0, 1], the physical range it was scaled from.
#[derive(Debug, Clone, PartialEq)]
pub struct ScaledMap {
    /// The values (scaled when `scale` is set).
    pub data: Array2<f64>,
    /// Unit of the physical values.
    pub unit: String,
    /// `(scale_min, scale_max)`: physical = min + value (max - min).
    pub scale: Option<(f64, f64)>,
}

impl ScaledMap {
    /// The physical values (the data itself when unscaled).
    pub fn physical(&self) -> Array2<f64> {
        match self.scale {
            Some((lo, hi)) => self.data.mapv(|v| lo + v * (hi - lo)),
            None => self.data.clone(),
        }
    }
}

/// chu2024's images and kinematic maps of one projection (group `sph/`).
#[derive(Debug, Clone, PartialEq)]
pub struct SphProduct {
    /// The galaxy file.
    pub input: String,
    /// The preset (or `custom`).
    pub preset: String,
    /// The resolved parameters as JSON.
    pub params_json: String,
    /// 3-D half stellar mass radius, kpc.
    pub r_hsm_kpc: f64,
    /// Half width of the image field, kpc.
    pub half_width_kpc: f64,
    /// Half width of the kinematic maps' field, kpc.
    pub kinematic_half_width_kpc: f64,
    /// `mass` or `luminosity-<band>`.
    pub kinematic_weight: String,
    /// `none`, `per-image` or `per-dataset`.
    pub scaling: String,
    /// Where the luminosities came from.
    pub luminosities: String,
    /// The dust recipe (`none` without one).
    pub dust: String,
    /// r-band image.
    pub r: ScaledMap,
    /// g-band image.
    pub g: ScaledMap,
    /// g - r colour map.
    pub g_r: ScaledMap,
    /// Mean line-of-sight velocity.
    pub v_mean: ScaledMap,
    /// Line-of-sight velocity dispersion.
    pub v_disp: ScaledMap,
    /// Stars per kinematic pixel.
    pub count: Array2<u32>,
}

/// One summary statistic.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ScalarValue {
    /// The value.
    pub value: f64,
    /// Its unit.
    pub unit: String,
    /// Where it is measured.
    pub aperture: String,
}

/// Summary statistics of one projection (group `scalars/`).
#[derive(Debug, Clone, PartialEq)]
pub struct ScalarsProduct {
    /// The preset (or `custom`).
    pub preset: String,
    /// The resolved parameters as JSON.
    pub params_json: String,
    /// The statistics by key.
    pub values: BTreeMap<String, ScalarValue>,
}

fn bad(path: &Path, field: &str, reason: impl Into<String>) -> PipelineError {
    PipelineError::BadFile { path: path.to_owned(), field: field.into(), reason: reason.into() }
}

fn centres(n: usize, half_width: f64) -> Vec<f64> {
    let p = 2.0 * half_width / n.max(1) as f64;
    (0..n).map(|i| -half_width + (i as f64 + 0.5) * p).collect()
}

fn map_dataset<T: hdf5::H5Type>(
    path: &Path,
    group: &hdf5::Group,
    name: &str,
    data: &Array2<T>,
) -> Result<hdf5::Dataset> {
    let where_ = format!("{}/{name}", group.name().trim_start_matches('/'));
    group.new_dataset_builder().with_data(data).create(name).map_err(h5err(path, format!("writing dataset {where_}")))
}

/// Writes `product` as group `optical/` of `file`.
pub(super) fn write_optical(path: &Path, file: &hdf5::File, product: &OpticalProduct) -> Result<()> {
    let group = file.create_group("optical").map_err(h5err(path, "creating group optical"))?;
    let g: &hdf5::Location = &group;
    write_str(path, g, "input", &product.input)?;
    write_str(path, g, "preset", &product.preset)?;
    write_str(path, g, "params", &product.params_json)?;
    write_scalar(path, g, "distance_mpc", product.distance_mpc)?;
    write_scalar(path, g, "npix", product.npix() as u64)?;
    write_scalar(path, g, "pixel_arcsec", product.pixel_arcsec)?;
    write_scalar(path, g, "pixel_kpc", product.pixel_kpc())?;
    write_scalar(path, g, "seed", product.seed)?;
    write_scalar(path, g, "psf", u8::from(product.psf))?;
    write_scalar(path, g, "noise", u8::from(product.noise))?;
    write_str(path, g, "dust", &product.dust)?;
    write_str(path, g, "luminosities", &product.luminosities)?;
    write_str(path, g, "orientation", "x = -e1 (west), y = e2")?;
    for band in &product.bands {
        let (ny, nx) = band.image.dim();
        let ds = map_dataset(path, &group, &band.band, &band.image)?;
        let d: &hdf5::Location = &ds;
        write_str(path, d, "unit", "nanomaggy")?;
        write_str(path, d, "axes", "y, x")?;
        write_scalar(path, d, "pixel_arcsec", product.pixel_arcsec)?;
        write_scalar(path, d, "psf_fwhm_arcsec", band.psf_fwhm_arcsec)?;
        write_scalar(path, d, "sky_rms_nanomaggies", band.sky_rms_nanomaggies)?;
        let half = |n: usize| 0.5 * n as f64 * product.pixel_arcsec;
        write_array(path, d, "x_arcsec", &centres(nx, half(nx)))?;
        write_array(path, d, "y_arcsec", &centres(ny, half(ny)))?;
    }
    Ok(())
}

/// Reads group `optical/` of `file` (`None` when absent).
pub(super) fn read_optical(path: &Path, file: &hdf5::File) -> Result<Option<OpticalProduct>> {
    let Ok(group) = file.group("optical") else { return Ok(None) };
    let g: &hdf5::Location = &group;
    let w = "optical/";
    let npix = read_scalar::<u64>(path, g, w, "npix")? as usize;
    let mut bands = Vec::new();
    for name in SDSS_BANDS {
        let Ok(ds) = group.dataset(name) else { continue };
        let image = ds.read_2d::<f64>().map_err(h5err(path, format!("reading dataset optical/{name}")))?;
        if image.dim() != (npix, npix) {
            return Err(bad(
                path,
                &format!("optical/{name}"),
                format!("expected {npix} x {npix}, got {:?}", image.dim()),
            ));
        }
        let d: &hdf5::Location = &ds;
        let dw = format!("optical/{name}/");
        bands.push(BandFrameProduct {
            band: name.to_owned(),
            image,
            psf_fwhm_arcsec: read_scalar(path, d, &dw, "psf_fwhm_arcsec")?,
            sky_rms_nanomaggies: read_scalar(path, d, &dw, "sky_rms_nanomaggies")?,
        });
    }
    if bands.is_empty() {
        return Err(bad(path, "optical/", "no band dataset (u, g, r, i, z)"));
    }
    Ok(Some(OpticalProduct {
        input: read_str(path, g, w, "input")?,
        preset: read_str(path, g, w, "preset")?,
        params_json: read_str(path, g, w, "params")?,
        distance_mpc: read_scalar(path, g, w, "distance_mpc")?,
        pixel_arcsec: read_scalar(path, g, w, "pixel_arcsec")?,
        seed: read_scalar(path, g, w, "seed")?,
        psf: read_scalar::<u8>(path, g, w, "psf")? != 0,
        noise: read_scalar::<u8>(path, g, w, "noise")? != 0,
        dust: read_str(path, g, w, "dust")?,
        luminosities: read_str(path, g, w, "luminosities")?,
        bands,
    }))
}

/// Writes `product` as group `sph/` of `file`.
pub(super) fn write_sph(path: &Path, file: &hdf5::File, product: &SphProduct) -> Result<()> {
    let group = file.create_group("sph").map_err(h5err(path, "creating group sph"))?;
    let g: &hdf5::Location = &group;
    let npix = product.r.data.ncols();
    let knpix = product.v_mean.data.ncols();
    write_str(path, g, "input", &product.input)?;
    write_str(path, g, "preset", &product.preset)?;
    write_str(path, g, "params", &product.params_json)?;
    write_scalar(path, g, "r_hsm_kpc", product.r_hsm_kpc)?;
    write_scalar(path, g, "npix", npix as u64)?;
    write_scalar(path, g, "half_width_kpc", product.half_width_kpc)?;
    write_scalar(path, g, "pixel_kpc", 2.0 * product.half_width_kpc / npix.max(1) as f64)?;
    write_scalar(path, g, "kinematic_npix", knpix as u64)?;
    write_scalar(path, g, "kinematic_half_width_kpc", product.kinematic_half_width_kpc)?;
    write_str(path, g, "kinematic_weight", &product.kinematic_weight)?;
    write_str(path, g, "scaling", &product.scaling)?;
    write_str(path, g, "luminosities", &product.luminosities)?;
    write_str(path, g, "dust", &product.dust)?;
    write_str(path, g, "orientation", "x = e1, y = e2")?;
    let coords = |d: &hdf5::Location, n: usize, half: f64| -> Result<()> {
        write_str(path, d, "axes", "y, x")?;
        let c = centres(n, half);
        write_array(path, d, "x_kpc", &c)?;
        write_array(path, d, "y_kpc", &c)
    };
    for (name, map, half) in [
        ("r", &product.r, product.half_width_kpc),
        ("g", &product.g, product.half_width_kpc),
        ("g_r", &product.g_r, product.half_width_kpc),
        ("v_mean", &product.v_mean, product.kinematic_half_width_kpc),
        ("v_disp", &product.v_disp, product.kinematic_half_width_kpc),
    ] {
        let ds = map_dataset(path, &group, name, &map.data)?;
        let d: &hdf5::Location = &ds;
        write_str(path, d, "unit", &map.unit)?;
        coords(d, map.data.ncols(), half)?;
        if let Some((lo, hi)) = map.scale {
            write_scalar(path, d, "scale_min", lo)?;
            write_scalar(path, d, "scale_max", hi)?;
        }
    }
    let ds = map_dataset(path, &group, "count", &product.count)?;
    write_str(path, &ds, "unit", "stars per pixel")?;
    coords(&ds, product.count.ncols(), product.kinematic_half_width_kpc)?;
    Ok(())
}

fn read_scaled(path: &Path, group: &hdf5::Group, name: &str, n: usize) -> Result<ScaledMap> {
    let ds = group.dataset(name).map_err(|_| missing(path, "sph/", name))?;
    let data = ds.read_2d::<f64>().map_err(h5err(path, format!("reading dataset sph/{name}")))?;
    if data.dim() != (n, n) {
        return Err(bad(path, &format!("sph/{name}"), format!("expected {n} x {n}, got {:?}", data.dim())));
    }
    let d: &hdf5::Location = &ds;
    let w = format!("sph/{name}/");
    let scale = match (ds.attr("scale_min"), ds.attr("scale_max")) {
        (Ok(_), Ok(_)) => Some((read_scalar(path, d, &w, "scale_min")?, read_scalar(path, d, &w, "scale_max")?)),
        _ => None,
    };
    Ok(ScaledMap { data, unit: read_str(path, d, &w, "unit")?, scale })
}

/// Reads group `sph/` of `file` (`None` when absent).
pub(super) fn read_sph(path: &Path, file: &hdf5::File) -> Result<Option<SphProduct>> {
    let Ok(group) = file.group("sph") else { return Ok(None) };
    let g: &hdf5::Location = &group;
    let w = "sph/";
    let npix = read_scalar::<u64>(path, g, w, "npix")? as usize;
    let knpix = read_scalar::<u64>(path, g, w, "kinematic_npix")? as usize;
    let count: Array2<u32> = group
        .dataset("count")
        .map_err(|_| missing(path, w, "count"))?
        .read_2d()
        .map_err(h5err(path, "reading dataset sph/count"))?;
    if count.dim() != (knpix, knpix) {
        return Err(bad(path, "sph/count", format!("expected {knpix} x {knpix}, got {:?}", count.dim())));
    }
    Ok(Some(SphProduct {
        input: read_str(path, g, w, "input")?,
        preset: read_str(path, g, w, "preset")?,
        params_json: read_str(path, g, w, "params")?,
        r_hsm_kpc: read_scalar(path, g, w, "r_hsm_kpc")?,
        half_width_kpc: read_scalar(path, g, w, "half_width_kpc")?,
        kinematic_half_width_kpc: read_scalar(path, g, w, "kinematic_half_width_kpc")?,
        kinematic_weight: read_str(path, g, w, "kinematic_weight")?,
        scaling: read_str(path, g, w, "scaling")?,
        luminosities: read_str(path, g, w, "luminosities")?,
        dust: read_str(path, g, w, "dust")?,
        r: read_scaled(path, &group, "r", npix)?,
        g: read_scaled(path, &group, "g", npix)?,
        g_r: read_scaled(path, &group, "g_r", npix)?,
        v_mean: read_scaled(path, &group, "v_mean", knpix)?,
        v_disp: read_scaled(path, &group, "v_disp", knpix)?,
        count,
    }))
}

/// Writes `product` as group `scalars/` of `file`.
pub(super) fn write_scalars(path: &Path, file: &hdf5::File, product: &ScalarsProduct) -> Result<()> {
    let group = file.create_group("scalars").map_err(h5err(path, "creating group scalars"))?;
    let g: &hdf5::Location = &group;
    write_str(path, g, "preset", &product.preset)?;
    write_str(path, g, "params", &product.params_json)?;
    for (key, v) in &product.values {
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(PipelineError::invalid("scalar name", format!("{key:?} is not a plain identifier")));
        }
        write_scalar(path, g, key, v.value)?;
        write_str(path, g, &format!("{key}_unit"), &v.unit)?;
        write_str(path, g, &format!("{key}_aperture"), &v.aperture)?;
    }
    Ok(())
}

/// Reads group `scalars/` of `file` (`None` when absent).
pub(super) fn read_scalars(path: &Path, file: &hdf5::File) -> Result<Option<ScalarsProduct>> {
    let Ok(group) = file.group("scalars") else { return Ok(None) };
    let g: &hdf5::Location = &group;
    let w = "scalars/";
    let names = group.attr_names().map_err(h5err(path, "listing the attributes of scalars/"))?;
    let mut values = BTreeMap::new();
    for name in &names {
        let Some(key) = name.strip_suffix("_unit") else { continue };
        values.insert(
            key.to_owned(),
            ScalarValue {
                value: read_scalar(path, g, w, key)?,
                unit: read_str(path, g, w, name)?,
                aperture: read_str(path, g, w, &format!("{key}_aperture"))?,
            },
        );
    }
    Ok(Some(ScalarsProduct {
        preset: read_str(path, g, w, "preset")?,
        params_json: read_str(path, g, w, "params")?,
        values,
    }))
}

#[cfg(test)]
mod tests {
    use super::super::{read_products, write_products, Products, ProjectionInfo};
    use super::*;

    fn projection() -> ProjectionInfo {
        ProjectionInfo {
            galaxy: "g.h5".into(),
            galaxy_id: 4,
            suite: "tng-like".into(),
            los: [1.0, 0.0, 0.0],
            seed: 2,
            n_stars: 100,
            r_h_kpc: 2.5,
            sigma_los_kms: 80.0,
        }
    }

    fn map(n: usize, f: impl Fn(usize, usize) -> f64) -> Array2<f64> {
        Array2::from_shape_fn((n, n), |(i, j)| f(i, j))
    }

    #[test]
    fn optical_sph_and_scalars_groups_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.h5");
        let mut products = Products::new(projection());
        products.optical = Some(OpticalProduct {
            input: "g.h5".into(),
            preset: "delosrios2023".into(),
            params_json: "{\"npix\":8}".into(),
            distance_mpc: 15.0,
            pixel_arcsec: 8.0625,
            seed: 9,
            psf: true,
            noise: false,
            dust: "none".into(),
            luminosities: "galaxy file".into(),
            bands: SDSS_BANDS
                .iter()
                .enumerate()
                .map(|(k, b)| BandFrameProduct {
                    band: (*b).into(),
                    image: map(8, |i, j| (i * 8 + j + k) as f64 * 0.5),
                    psf_fwhm_arcsec: 1.3 + k as f64 * 0.01,
                    sky_rms_nanomaggies: 0.0,
                })
                .collect(),
        });
        let scaled = |n, lo, hi| ScaledMap {
            data: map(n, |i, j| (i + j) as f64 / (2 * n) as f64),
            unit: "Lsun_r".into(),
            scale: Some((lo, hi)),
        };
        products.sph = Some(SphProduct {
            input: "g.h5".into(),
            preset: "chu2024".into(),
            params_json: "{}".into(),
            r_hsm_kpc: 3.0,
            half_width_kpc: 9.0,
            kinematic_half_width_kpc: 9.0,
            kinematic_weight: "mass".into(),
            scaling: "per-image".into(),
            luminosities: "galaxy file".into(),
            dust: "none".into(),
            r: scaled(6, 0.0, 5e7),
            g: scaled(6, 0.0, 3e7),
            g_r: ScaledMap {
                data: map(6, |i, _| if i == 0 { f64::NAN } else { 0.6 }),
                unit: "mag".into(),
                scale: None,
            },
            v_mean: ScaledMap { data: map(4, |i, j| i as f64 - j as f64), unit: "km/s".into(), scale: None },
            v_disp: ScaledMap { data: map(4, |_, _| 40.0), unit: "km/s".into(), scale: None },
            count: Array2::from_shape_fn((4, 4), |(i, j)| (i * j) as u32),
        });
        let mut values = BTreeMap::new();
        for (k, v, u) in [("M_r", -21.2, "mag"), ("sersic_n", 2.5, "1"), ("f_cold", 0.4, "1")] {
            values.insert(k.to_owned(), ScalarValue { value: v, unit: u.into(), aperture: "2 R_hsm projected".into() });
        }
        products.scalars = Some(ScalarsProduct { preset: "chu2024".into(), params_json: "{}".into(), values });
        write_products(&path, &products).unwrap();
        let back = read_products(&path).unwrap();
        // NaN pixels compare unequal: check the colour map's NaNs, then the rest with them replaced.
        let sph = back.sph.as_ref().unwrap();
        assert!(sph.g_r.data.row(0).iter().all(|v| v.is_nan()));
        let mut a = back.clone();
        let mut b = products.clone();
        for p in [&mut a, &mut b] {
            p.sph.as_mut().unwrap().g_r.data.mapv_inplace(|v| if v.is_nan() { -1.0 } else { v });
        }
        assert_eq!(a, b);
        assert!((sph.r.physical()[[5, 5]] - 5e7 * 10.0 / 12.0).abs() < 1e-6);
        // The layout by name, as h5py sees it.
        let file = hdf5::File::open(&path).unwrap();
        let r = file.dataset("optical/r").unwrap();
        assert_eq!(r.attr("psf_fwhm_arcsec").unwrap().read_scalar::<f64>().unwrap(), 1.32);
        let xs = r.attr("x_arcsec").unwrap().read_1d::<f64>().unwrap();
        assert!((xs[0] + 3.5 * 8.0625).abs() < 1e-12 && (xs[7] - 3.5 * 8.0625).abs() < 1e-12);
        let unit = file.group("scalars").unwrap().attr("M_r_unit").unwrap();
        assert_eq!(galmass_snapshot::gadget_hdf5::read_string_attr(&unit).unwrap(), "mag");
    }

    #[test]
    fn a_truncated_optical_group_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.h5");
        write_products(&path, &Products::new(projection())).unwrap();
        {
            let file = hdf5::File::open_rw(&path).unwrap();
            let g = file.create_group("optical").unwrap();
            g.new_attr::<u64>().create("npix").unwrap().write_scalar(&4u64).unwrap();
            g.new_dataset_builder().with_data(&Array2::<f64>::zeros((3, 4))).create("r").unwrap();
        }
        let err = read_products(&path).unwrap_err().to_string();
        assert!(err.contains("optical/r") && err.contains("expected 4 x 4"), "{err}");
    }
}
