//! The per-projection products file: everything galmass makes of one projection of one galaxy (today the stellar
//! kinematic maps; later HI cubes and moments, optical images and scalars), in one HDF5 file readable by h5py.
//!
//! # Layout, version 1
//!
//! Root attributes (the projection):
//! - `format` = `"galmass-products"`, `version` = 1 (u32);
//! - `galaxy` (path of the galaxy file, as given), `galaxy_id` (i64), `suite` (string);
//! - `los` (f64[3], unit vector from the observer to the galaxy in the box frame), `seed` (u64, of the star
//!   subsample);
//! - the sampled stars' shared quantities: `n_stars` (u64), `r_h_kpc` (projected half-number radius),
//!   `sigma_los_kms` (line-of-sight dispersion, ddof = 1).
//!
//! Group `stars/` (the two kinematic maps of sarrato2025/exposito2026), attributes `preset`, `params` (the
//! resolved `StarMapParams` as JSON), `r_h_kpc`, `sigma_los_kms`, `v_p98_kms`, `n_stars`, `n_in_aperture`,
//! `n_in_rv_aperture`, and two float64 datasets:
//! - `star_xy` (y, x): the KDE of (x / R_h, y / R_h);
//! - `star_rv` (v, R): the KDE of (R / R_h, v_los / v_p98);
//!
//! each with `axis0`, `axis1` (what the axes are), `axis0_coords`, `axis1_coords` (grid coordinates),
//! `grid_sampling` (`endpoints` or `centres`) and `units`. Root soft links `star_xy` and `star_rv` point at them (the
//! names of version 0, the `maps stars` files written before this layout, format `"galmass-star-maps"`, which
//! [`read_products`] also reads).
//!
//! Group `hi/` holds an HI cube, its moment maps and the gas scalars ([`hi`] documents it); groups `optical/`
//! (SDSS-like ugriz frames), `sph/` (chu2024's SPH images and kinematic maps) and `scalars/` (chu2024's summary
//! statistics) are documented in [`optical`]. A reader ignores groups it does not know. The file is written
//! atomically.
//!
//! ```no_run
//! use galmass_pipeline::products::read_products;
//! let products = read_products("maps.h5".as_ref()).unwrap();
//! let maps = products.stars.unwrap();
//! println!("R_h = {} kpc, star_xy {:?}", products.projection.r_h_kpc, maps.maps.star_xy.dim());
//! ```

use std::path::Path;

use galmass_core::atomic::write_atomic_with;
use galmass_core::params::Params;
use galmass_mock::kde::GridSampling;
use galmass_mock::star_maps::{StarMapParams, StarMaps};
use ndarray::Array2;

use crate::h5::{h5err, missing, read_scalar, read_str, write_array, write_scalar, write_str};
use crate::PipelineError;

pub mod hi;
pub mod optical;

pub use hi::HiProduct;
pub use optical::{BandFrameProduct, OpticalProduct, ScalarValue, ScalarsProduct, ScaledMap, SphProduct};

/// The `format` attribute of a products file.
pub const FORMAT: &str = "galmass-products";
/// The layout version this code writes.
pub const VERSION: u32 = 1;
/// The `format` of version-0 star-map files (read, never written).
pub const LEGACY_STAR_MAPS_FORMAT: &str = "galmass-star-maps";

/// The projection a products file describes (its root attributes).
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectionInfo {
    /// The galaxy file, as given.
    pub galaxy: String,
    /// The galaxy's id in its suite or snapshot.
    pub galaxy_id: i64,
    /// The suite or simulation.
    pub suite: String,
    /// Unit line of sight, observer to galaxy, box frame.
    pub los: [f64; 3],
    /// Seed of the star subsample.
    pub seed: u64,
    /// Stars sampled.
    pub n_stars: u64,
    /// Projected half-number radius of the sampled stars, kpc.
    pub r_h_kpc: f64,
    /// Line-of-sight dispersion of the sampled stars, km/s.
    pub sigma_los_kms: f64,
}

/// The stellar kinematic maps of a projection with the parameters that made them.
#[derive(Debug, Clone, PartialEq)]
pub struct StarMapsProduct {
    /// The paper preset the parameters came from (or `custom`).
    pub preset: String,
    /// The resolved parameters.
    pub params: StarMapParams,
    /// The maps and their scalars.
    pub maps: StarMaps,
}

/// Everything in one products file.
#[derive(Debug, Clone, PartialEq)]
pub struct Products {
    /// The layout version the file was written with (0 for legacy star-map files).
    pub version: u32,
    /// The projection.
    pub projection: ProjectionInfo,
    /// The stellar kinematic maps, when made.
    pub stars: Option<StarMapsProduct>,
    /// The HI cube and moment maps, when made.
    pub hi: Option<HiProduct>,
    /// SDSS-like ugriz frames, when made.
    pub optical: Option<OpticalProduct>,
    /// chu2024's SPH images and kinematic maps, when made.
    pub sph: Option<SphProduct>,
    /// Summary statistics, when measured.
    pub scalars: Option<ScalarsProduct>,
}

impl Products {
    /// A products file of `projection` with no product yet.
    pub fn new(projection: ProjectionInfo) -> Self {
        Self { version: VERSION, projection, stars: None, hi: None, optical: None, sph: None, scalars: None }
    }
}

type Result<T> = std::result::Result<T, PipelineError>;

/// Writes `products` to `path` atomically (layout: module docs). The file is replaced as a whole.
pub fn write_products(path: &Path, products: &Products) -> Result<()> {
    write_atomic_with(path, |tmp| write_to(tmp, path, products), PipelineError::from)
}

fn write_to(tmp: &Path, path: &Path, products: &Products) -> Result<()> {
    let file = hdf5::File::create(tmp).map_err(h5err(path, "creating the file"))?;
    let root: &hdf5::Location = &file;
    let p = &products.projection;
    write_str(path, root, "format", FORMAT)?;
    write_scalar(path, root, "version", VERSION)?;
    write_str(path, root, "galaxy", &p.galaxy)?;
    write_scalar(path, root, "galaxy_id", p.galaxy_id)?;
    write_str(path, root, "suite", &p.suite)?;
    write_array(path, root, "los", &p.los)?;
    write_scalar(path, root, "seed", p.seed)?;
    write_scalar(path, root, "n_stars", p.n_stars)?;
    write_scalar(path, root, "r_h_kpc", p.r_h_kpc)?;
    write_scalar(path, root, "sigma_los_kms", p.sigma_los_kms)?;
    if let Some(stars) = &products.stars {
        write_star_maps(path, &file, stars)?;
    }
    if let Some(product) = &products.hi {
        hi::write_hi(path, &file, product)?;
    }
    if let Some(product) = &products.optical {
        optical::write_optical(path, &file, product)?;
    }
    if let Some(product) = &products.sph {
        optical::write_sph(path, &file, product)?;
    }
    if let Some(product) = &products.scalars {
        optical::write_scalars(path, &file, product)?;
    }
    file.flush().map_err(h5err(path, "flushing"))?;
    Ok(())
}

fn write_star_maps(path: &Path, file: &hdf5::File, product: &StarMapsProduct) -> Result<()> {
    let group = file.create_group("stars").map_err(h5err(path, "creating group stars"))?;
    let g: &hdf5::Location = &group;
    let maps = &product.maps;
    let params_json = serde_json::to_string(&product.params)
        .map_err(|e| PipelineError::invalid("star map parameters", e.to_string()))?;
    write_str(path, g, "preset", &product.preset)?;
    write_str(path, g, "params", &params_json)?;
    write_scalar(path, g, "r_h_kpc", maps.r_h_kpc)?;
    write_scalar(path, g, "sigma_los_kms", maps.sigma_los_kms)?;
    write_scalar(path, g, "v_p98_kms", maps.v_p98_kms)?;
    write_scalar(path, g, "n_stars", maps.n_stars as u64)?;
    write_scalar(path, g, "n_in_aperture", maps.n_in_aperture as u64)?;
    write_scalar(path, g, "n_in_rv_aperture", maps.n_in_rv_aperture as u64)?;
    let valid = product.params.check()?;
    for (name, data, grid, axis0, axis1) in [
        ("star_xy", &maps.star_xy, valid.xy_grid(), "y / R_h", "x / R_h"),
        ("star_rv", &maps.star_rv, valid.rv_grid(), "v_los / v_p98", "R / R_h"),
    ] {
        let ds = group
            .new_dataset_builder()
            .with_data(data)
            .create(name)
            .map_err(h5err(path, format!("writing dataset stars/{name}")))?;
        let d: &hdf5::Location = &ds;
        write_str(path, d, "axis0", axis0)?;
        write_str(path, d, "axis1", axis1)?;
        write_array(path, d, "axis0_coords", &grid.y.coords())?;
        write_array(path, d, "axis1_coords", &grid.x.coords())?;
        let sampling = match grid.x.sampling {
            GridSampling::Endpoints => "endpoints",
            GridSampling::Centres => "centres",
        };
        write_str(path, d, "grid_sampling", sampling)?;
        write_str(path, d, "units", "probability density per unit axis0 x axis1")?;
        file.link_soft(&format!("/stars/{name}"), name)
            .map_err(h5err(path, format!("linking /{name} to /stars/{name}")))?;
    }
    Ok(())
}

fn read_los(path: &Path, loc: &hdf5::Location) -> Result<[f64; 3]> {
    let attr = loc.attr("los").map_err(|_| missing(path, "/", "los"))?;
    let v = attr.read_raw::<f64>().map_err(h5err(path, "reading attribute los"))?;
    match v.as_slice() {
        [x, y, z] if v.iter().all(|c| c.is_finite()) => Ok([*x, *y, *z]),
        _ => Err(PipelineError::BadFile {
            path: path.to_owned(),
            field: "/los".into(),
            reason: format!("expected 3 finite numbers, got {v:?}"),
        }),
    }
}

fn read_map(path: &Path, loc: &hdf5::Group, name: &str, n: usize) -> Result<Array2<f64>> {
    let ds = loc.dataset(name).map_err(|_| missing(path, &format!("{}/", loc.name()), name))?;
    let map = ds.read_2d::<f64>().map_err(h5err(path, format!("reading dataset {name}")))?;
    if map.dim() != (n, n) {
        return Err(PipelineError::BadFile {
            path: path.to_owned(),
            field: name.into(),
            reason: format!("expected a {n}x{n} map (the params' grid_size), got {:?}", map.dim()),
        });
    }
    Ok(map)
}

/// Reads a products file (version 1, or a version-0 `maps stars` file).
pub fn read_products(path: &Path) -> Result<Products> {
    let file = hdf5::File::open(path).map_err(h5err(path, "opening"))?;
    let root: &hdf5::Location = &file;
    let format = read_str(path, root, "/", "format")?;
    let version = match format.as_str() {
        FORMAT => {
            let v: u32 = read_scalar(path, root, "/", "version")?;
            if v > VERSION {
                return Err(PipelineError::BadFile {
                    path: path.to_owned(),
                    field: "/version".into(),
                    reason: format!("version {v} is newer than this galmass reads ({VERSION}): upgrade galmass"),
                });
            }
            v
        }
        LEGACY_STAR_MAPS_FORMAT => 0,
        other => {
            return Err(PipelineError::BadFile {
                path: path.to_owned(),
                field: "/format".into(),
                reason: format!("expected {FORMAT:?}, got {other:?}"),
            })
        }
    };
    // Version 0 files record neither the galaxy's id nor its suite.
    let (galaxy_id, suite) = if version == 0 {
        (0, "unknown".to_owned())
    } else {
        (read_scalar(path, root, "/", "galaxy_id")?, read_str(path, root, "/", "suite")?)
    };
    let projection = ProjectionInfo {
        galaxy: read_str(path, root, "/", "galaxy")?,
        galaxy_id,
        suite,
        los: read_los(path, root)?,
        seed: read_scalar(path, root, "/", "seed")?,
        n_stars: read_scalar(path, root, "/", "n_stars")?,
        r_h_kpc: read_scalar(path, root, "/", "r_h_kpc")?,
        sigma_los_kms: read_scalar(path, root, "/", "sigma_los_kms")?,
    };
    let stars_group =
        if version == 0 { Some(file.group("/").map_err(h5err(path, "opening /"))?) } else { file.group("stars").ok() };
    let stars = match stars_group {
        None => None,
        Some(group) => {
            let where_ = if version == 0 { "/" } else { "stars/" };
            let g: &hdf5::Location = &group;
            let preset = read_str(path, g, where_, "preset")?;
            let json = read_str(path, g, where_, "params")?;
            let params: StarMapParams = serde_json::from_str(&json).map_err(|e| PipelineError::BadFile {
                path: path.to_owned(),
                field: format!("{where_}params"),
                reason: format!("not star-map parameters: {e}"),
            })?;
            let n = params.grid_size;
            let maps = StarMaps {
                star_xy: read_map(path, &group, "star_xy", n)?,
                star_rv: read_map(path, &group, "star_rv", n)?,
                r_h_kpc: read_scalar(path, g, where_, "r_h_kpc")?,
                sigma_los_kms: read_scalar(path, g, where_, "sigma_los_kms")?,
                v_p98_kms: read_scalar(path, g, where_, "v_p98_kms")?,
                n_stars: read_scalar::<u64>(path, g, where_, "n_stars")? as usize,
                n_in_aperture: read_scalar::<u64>(path, g, where_, "n_in_aperture")? as usize,
                n_in_rv_aperture: read_scalar::<u64>(path, g, where_, "n_in_rv_aperture")? as usize,
            };
            Some(StarMapsProduct { preset, params, maps })
        }
    };
    if version == 0 {
        return Ok(Products { version, stars, ..Products::new(projection) });
    }
    Ok(Products {
        version,
        projection,
        stars,
        hi: hi::read_hi(path, &file)?,
        optical: optical::read_optical(path, &file)?,
        sph: optical::read_sph(path, &file)?,
        scalars: optical::read_scalars(path, &file)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdf5::types::VarLenUnicode;

    fn sample() -> Products {
        let params = StarMapParams::EXPOSITO2026;
        let n = params.grid_size;
        let maps = StarMaps {
            star_xy: Array2::from_shape_fn((n, n), |(i, j)| (i * n + j) as f64 * 1e-3),
            star_rv: Array2::from_shape_fn((n, n), |(i, j)| ((i + 2 * j) % 7) as f64),
            r_h_kpc: 0.512,
            sigma_los_kms: 9.75,
            v_p98_kms: 21.5,
            n_stars: 2000,
            n_in_aperture: 1890,
            n_in_rv_aperture: 1000,
        };
        Products {
            version: VERSION,
            projection: ProjectionInfo {
                galaxy: "out/synth/spheroids/galaxy_000003.h5".into(),
                galaxy_id: 3,
                suite: "spheroids".into(),
                los: [0.0, 0.6, 0.8],
                seed: 11,
                n_stars: 2000,
                r_h_kpc: 0.512,
                sigma_los_kms: 9.75,
            },
            stars: Some(StarMapsProduct { preset: "exposito2026".into(), params, maps }),
            hi: None,
            optical: None,
            sph: None,
            scalars: None,
        }
    }

    #[test]
    fn products_round_trip_and_keep_the_legacy_names() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.h5");
        let written = sample();
        write_products(&path, &written).unwrap();
        assert_eq!(read_products(&path).unwrap(), written);
        // h5py-style access by the version-0 names goes through the soft links.
        let file = hdf5::File::open(&path).unwrap();
        let xy = file.dataset("star_xy").unwrap().read_2d::<f64>().unwrap();
        assert_eq!(xy, written.stars.as_ref().unwrap().maps.star_xy);
        let coords = file.dataset("stars/star_rv").unwrap().attr("axis1_coords").unwrap().read_1d::<f64>().unwrap();
        assert_eq!((coords[0], coords[63]), (0.0, 1.0));
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn a_file_without_maps_and_a_legacy_file_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bare.h5");
        let mut bare = sample();
        bare.stars = None;
        write_products(&path, &bare).unwrap();
        assert_eq!(read_products(&path).unwrap(), bare);
        // A version-0 file: maps and scalars at the root.
        let legacy = dir.path().join("v0.h5");
        let s = sample();
        let maps = &s.stars.as_ref().unwrap().maps;
        {
            let f = hdf5::File::create(&legacy).unwrap();
            let st = |n: &str, v: &str| {
                f.new_attr::<VarLenUnicode>()
                    .create(n)
                    .unwrap()
                    .write_scalar(&v.parse::<VarLenUnicode>().unwrap())
                    .unwrap()
            };
            st("format", LEGACY_STAR_MAPS_FORMAT);
            st("galaxy", "g.h5");
            st("preset", "exposito2026");
            st("params", &serde_json::to_string(&StarMapParams::EXPOSITO2026).unwrap());
            f.new_attr_builder().with_data(&[0.0, 0.6, 0.8]).create("los").unwrap();
            for (n, v) in
                [("r_h_kpc", maps.r_h_kpc), ("sigma_los_kms", maps.sigma_los_kms), ("v_p98_kms", maps.v_p98_kms)]
            {
                f.new_attr::<f64>().create(n).unwrap().write_scalar(&v).unwrap();
            }
            for (n, v) in [("n_stars", 2000u64), ("n_in_aperture", 1890), ("n_in_rv_aperture", 1000), ("seed", 11)] {
                f.new_attr::<u64>().create(n).unwrap().write_scalar(&v).unwrap();
            }
            f.new_dataset_builder().with_data(&maps.star_xy).create("star_xy").unwrap();
            f.new_dataset_builder().with_data(&maps.star_rv).create("star_rv").unwrap();
        }
        let read = read_products(&legacy).unwrap();
        assert_eq!(read.version, 0);
        assert_eq!(read.stars.unwrap().maps, *maps);
        assert_eq!(read.projection.n_stars, 2000);
    }

    #[test]
    fn wrong_files_are_typed_errors_naming_the_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("other.h5");
        {
            let f = hdf5::File::create(&path).unwrap();
            f.new_attr::<VarLenUnicode>()
                .create("format")
                .unwrap()
                .write_scalar(&"galmass-galaxy".parse::<VarLenUnicode>().unwrap())
                .unwrap();
        }
        assert!(matches!(read_products(&path), Err(PipelineError::BadFile { ref field, .. }) if field == "/format"));
        let newer = dir.path().join("newer.h5");
        write_products(&newer, &sample()).unwrap();
        {
            let f = hdf5::File::open_rw(&newer).unwrap();
            f.attr("version").unwrap().write_scalar(&(VERSION + 1)).unwrap();
        }
        assert!(matches!(read_products(&newer), Err(PipelineError::BadFile { ref field, .. }) if field == "/version"));
        assert!(matches!(read_products(&dir.path().join("absent.h5")), Err(PipelineError::Hdf5 { .. })));
    }
}
