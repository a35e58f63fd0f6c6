//! The two stellar kinematic maps of sarrato2025 and exposito2026.
//!
//! For one projection (a [`ProjectedStars`] sample along a line of sight):
//! - **map 1** (`star_xy`): the KDE of `{x / R_h, y / R_h}` of the stars within `xy_aperture_rh` R_h, on a
//!   `grid_size` x `grid_size` grid over `xy_range` in both axes;
//! - **map 2** (`star_rv`): the KDE of `{R / R_h, v_los / v_p98}` of the stars within `rv_aperture_rh` R_h, over
//!   `r_range` (axis 1) and `v_range` (axis 0).
//!
//! Arrays have axis 0 along y (map 1) or v (map 2) and axis 1 along x or R. R_h, sigma_los and v_p98 come from
//! `galmass_core::projection` and are measured on every sampled star (the same numbers the classic estimators use);
//! v_p98 is the 98th percentile of v_los (sarrato2025) or of |v_los| (exposito2026). The values are the KDE densities
//! themselves (scipy's `gaussian_kde` evaluated at the grid points; they integrate to about 1 over the plane).
//!
//! Presets ([`StarMapParams::preset`]) hold the papers' values; `configs/maps/stars.toml` holds the same values for
//! the pipeline (a workspace test checks they agree). Where the papers are silent the preset says so:
//! - sarrato2025 §2: both maps from stars within 0.5 R_h; map 1 over [-0.5, 0.5]^2; map 2 "R/R_h between -0.5 and
//!   0.5" as the text says (R >= 0, so the left half holds the kernel's spill-over), v in [-1, 1].
//! - exposito2026 §2: map 1 over +-0.5 R_hl from stars within 0.5 R_hl, map 2 over R/R_hl in [0, 1] from stars within
//!   1 R_hl, v/P98 in [-1, 1] with P98 of |v_los|.
//! - Grid points: 64 per axis from the lower to the upper end inclusive (numpy's `mgrid[lo:hi:64j]`), not stated by
//!   either paper.
//!
//! ```
//! use galmass_core::params::Params;
//! use galmass_core::{LineOfSight, Particles};
//! use galmass_core::projection::ProjectedStars;
//! use galmass_mock::star_maps::{star_maps, StarMapParams};
//! use ndarray::Array2;
//! let n = 500;
//! let pos = Array2::from_shape_fn((n, 3), |(i, k)| ((i * (k + 3) * 7919) % 1000) as f64 / 500.0 - 1.0);
//! let vel = Array2::from_shape_fn((n, 3), |(i, k)| ((i * (k + 5) * 104_729) % 200) as f64 / 10.0 - 10.0);
//! let stars = Particles::new(pos, vel, ndarray::Array1::from_elem(n, 1.0)).unwrap();
//! let projected = ProjectedStars::new(&stars, &LineOfSight::new([0.0, 0.0, 1.0]).unwrap(), None).unwrap();
//! let params = StarMapParams::preset("sarrato2025").unwrap().check().unwrap();
//! let maps = star_maps(&projected, &params).unwrap();
//! assert_eq!(maps.star_xy.dim(), (64, 64));
//! ```

use galmass_core::params::Params;
use galmass_core::projection::{half_number_radius_of, Aperture, ProjectedStars, VelocityScale};
use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::error::MockError;
use crate::kde::{Bandwidth, GaussianKde2, Grid2, GridAxis, GridSampling};

/// Parameters of the two star maps (unchecked; [`Params::check`] turns them into [`StarMapValidParams`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StarMapParams {
    /// Grid points per axis.
    pub grid_size: usize,
    /// Range of x / R_h and y / R_h (map 1).
    pub xy_range: (f64, f64),
    /// Map 1 uses stars with R < xy_aperture_rh R_h.
    pub xy_aperture_rh: f64,
    /// Range of R / R_h (map 2, axis 1).
    pub r_range: (f64, f64),
    /// Range of v_los / v_p98 (map 2, axis 0).
    pub v_range: (f64, f64),
    /// Map 2 uses stars with R < rv_aperture_rh R_h.
    pub rv_aperture_rh: f64,
    /// Which velocity v_p98 is the 98th percentile of.
    pub velocity_scale: VelocityScale,
    /// Kernel bandwidth rule.
    pub bandwidth: Bandwidth,
    /// Where grid points sit.
    pub grid_sampling: GridSampling,
    /// Weight each star by its particle mass (default: equal weights, as the papers).
    pub weight_by_mass: bool,
}

impl StarMapParams {
    /// sarrato2025 §2 and appendix A.
    pub const SARRATO2025: StarMapParams = StarMapParams {
        grid_size: 64,
        xy_range: (-0.5, 0.5),
        xy_aperture_rh: 0.5,
        r_range: (-0.5, 0.5),
        v_range: (-1.0, 1.0),
        rv_aperture_rh: 0.5,
        velocity_scale: VelocityScale::P98Signed,
        bandwidth: Bandwidth::Scott,
        grid_sampling: GridSampling::Endpoints,
        weight_by_mass: false,
    };

    /// exposito2026 §2.
    pub const EXPOSITO2026: StarMapParams = StarMapParams {
        grid_size: 64,
        xy_range: (-0.5, 0.5),
        xy_aperture_rh: 0.5,
        r_range: (0.0, 1.0),
        v_range: (-1.0, 1.0),
        rv_aperture_rh: 1.0,
        velocity_scale: VelocityScale::P98Absolute,
        bandwidth: Bandwidth::Scott,
        grid_sampling: GridSampling::Endpoints,
        weight_by_mass: false,
    };

    /// Names of the presets.
    pub const PRESETS: [&'static str; 2] = ["sarrato2025", "exposito2026"];

    /// A paper preset by name.
    pub fn preset(name: &str) -> Option<StarMapParams> {
        match name {
            "sarrato2025" => Some(Self::SARRATO2025),
            "exposito2026" => Some(Self::EXPOSITO2026),
            _ => None,
        }
    }
}

impl Params for StarMapParams {
    type Valid = StarMapValidParams;
    type Error = MockError;

    /// Checks ranges and apertures.
    fn check(&self) -> Result<StarMapValidParams, MockError> {
        let xy = GridAxis::new(self.xy_range.0, self.xy_range.1, self.grid_size, self.grid_sampling)?;
        let r = GridAxis::new(self.r_range.0, self.r_range.1, self.grid_size, self.grid_sampling)?;
        let v = GridAxis::new(self.v_range.0, self.v_range.1, self.grid_size, self.grid_sampling)?;
        for (name, value) in [("xy_aperture_rh", self.xy_aperture_rh), ("rv_aperture_rh", self.rv_aperture_rh)] {
            if !(value.is_finite() && value > 0.0) {
                return Err(MockError::invalid(name, format!("must be a positive number of R_h, got {value}")));
            }
        }
        Ok(StarMapValidParams { params: *self, xy_grid: Grid2 { x: xy, y: xy }, rv_grid: Grid2 { x: r, y: v } })
    }
}

/// Checked [`StarMapParams`] with their grids.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StarMapValidParams {
    params: StarMapParams,
    xy_grid: Grid2,
    rv_grid: Grid2,
}

impl StarMapValidParams {
    /// The checked values.
    pub fn params(&self) -> &StarMapParams {
        &self.params
    }

    /// Grid of map 1 (x / R_h, y / R_h).
    pub fn xy_grid(&self) -> &Grid2 {
        &self.xy_grid
    }

    /// Grid of map 2 (R / R_h along x, v / v_p98 along y).
    pub fn rv_grid(&self) -> &Grid2 {
        &self.rv_grid
    }
}

/// The maps of one projection and the scalars that go with them.
#[derive(Debug, Clone, PartialEq)]
pub struct StarMaps {
    /// Map 1, axis 0 along y / R_h, axis 1 along x / R_h.
    pub star_xy: Array2<f64>,
    /// Map 2, axis 0 along v_los / v_p98, axis 1 along R / R_h.
    pub star_rv: Array2<f64>,
    /// Projected half-number radius, kpc.
    pub r_h_kpc: f64,
    /// Line-of-sight dispersion of the sampled stars, km/s.
    pub sigma_los_kms: f64,
    /// Velocity scale, km/s.
    pub v_p98_kms: f64,
    /// Stars sampled.
    pub n_stars: usize,
    /// Stars inside map 1's aperture.
    pub n_in_aperture: usize,
    /// Stars inside map 2's aperture.
    pub n_in_rv_aperture: usize,
}

/// Maps of many projections, in parallel over projections (rayon's current pool), in input order. Each result is
/// independent: a projection that fails (too few stars, a degenerate sample) does not stop the others, so a
/// dataset builder can record it as a skip.
pub fn star_maps_many(projections: &[ProjectedStars], params: &StarMapValidParams) -> Vec<Result<StarMaps, MockError>> {
    use rayon::prelude::*;
    projections.par_iter().map(|p| star_maps(p, params)).collect()
}

/// Builds both maps of one projection.
///
/// Errors (typed, never NaN): fewer than two sampled stars; fewer than three stars in an aperture
/// ([`MockError::TooFewPoints`]); stars in an aperture on a line ([`MockError::DegenerateCovariance`]); v_p98 = 0.
pub fn star_maps(stars: &ProjectedStars, params: &StarMapValidParams) -> Result<StarMaps, MockError> {
    let p = params.params();
    // The shared per-projection quantities (galmass_core::projection), with the radii computed once.
    let radii = stars.radii_kpc();
    let r_h = half_number_radius_of(&radii)?;
    let sigma_los_kms = stars.sigma_los_kms(&Aperture::All, r_h)?;
    let v_scale = stars.v_p98_kms(p.velocity_scale, &Aperture::All, r_h)?;
    if r_h.is_nan() || r_h <= 0.0 {
        return Err(MockError::BadInput {
            name: "stars",
            expected: "a positive half-number radius".into(),
            got: format!("{r_h}"),
        });
    }
    if v_scale.is_nan() || v_scale <= 0.0 {
        return Err(MockError::BadInput {
            name: "v_los",
            expected: "a positive v_p98".into(),
            got: format!("{v_scale}"),
        });
    }
    let weights = |idx: &[usize]| -> Option<Vec<f64>> {
        p.weight_by_mass.then(|| idx.iter().map(|&i| stars.mass_msun()[i]).collect())
    };

    let xy_idx = Aperture::WithinRh { factor: p.xy_aperture_rh }.select(&radii, r_h)?;
    let rv_idx = Aperture::WithinRh { factor: p.rv_aperture_rh }.select(&radii, r_h)?;
    let build_xy = || -> Result<Array2<f64>, MockError> {
        let x: Vec<f64> = xy_idx.iter().map(|&i| stars.x_kpc()[i] / r_h).collect();
        let y: Vec<f64> = xy_idx.iter().map(|&i| stars.y_kpc()[i] / r_h).collect();
        let kde = GaussianKde2::new(&x, &y, weights(&xy_idx).as_deref(), p.bandwidth, "star_xy")?;
        Ok(kde.evaluate_grid(params.xy_grid()))
    };
    let build_rv = || -> Result<Array2<f64>, MockError> {
        let r: Vec<f64> = rv_idx.iter().map(|&i| radii[i] / r_h).collect();
        let v: Vec<f64> = rv_idx.iter().map(|&i| stars.v_los_kms()[i] / v_scale).collect();
        let kde = GaussianKde2::new(&r, &v, weights(&rv_idx).as_deref(), p.bandwidth, "star_rv")?;
        Ok(kde.evaluate_grid(params.rv_grid()))
    };
    let (star_xy, star_rv) = rayon::join(build_xy, build_rv);
    Ok(StarMaps {
        star_xy: star_xy?,
        star_rv: star_rv?,
        r_h_kpc: r_h,
        sigma_los_kms,
        v_p98_kms: v_scale,
        n_stars: stars.len(),
        n_in_aperture: xy_idx.len(),
        n_in_rv_aperture: rv_idx.len(),
    })
}
