//! chu2024's kinematic maps (§2.1): the mean line-of-sight velocity and the velocity dispersion of the stars in each
//! pixel of a 48 x 48 grid over +-3 R_hsm (8 pixels per R_hsm), stars assigned to pixels by nearest grid point.
//!
//! The weighting is not stated by the paper: mass (the default here) or luminosity in a band, a named choice. The
//! dispersion is the weighted standard deviation about the pixel's weighted mean,
//! `sigma^2 = sum w (v - vbar)^2 / sum w` (no small-sample correction). Pixels with fewer stars than
//! `min_count_mean` (mean) or `min_count_disp` (dispersion) are NaN; the counts are returned. v_los = v . n,
//! positive receding; sky axes `x = p . e1`, `y = p . e2` as in [`crate::optical::sph`].

use galmass_core::params::Params;
use galmass_core::{LineOfSight, Particles};
use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::error::MockError;
use crate::optical::sph::{band_luminosities, ImageGrid};

/// How stars are weighted in the kinematic maps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum KinematicWeight {
    /// By particle mass.
    Mass,
    /// By luminosity in a band (`lum_<band>`).
    Luminosity(String),
}

impl KinematicWeight {
    /// `mass` or `luminosity-<band>`.
    pub fn name(&self) -> String {
        match self {
            KinematicWeight::Mass => "mass".into(),
            KinematicWeight::Luminosity(b) => format!("luminosity-{b}"),
        }
    }
}

/// Parameters of the kinematic maps (unchecked; [`Params::check`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KinematicParams {
    /// Pixels per side (chu2024: 48).
    pub npix: usize,
    /// Half the field in units of R_hsm (chu2024: 3).
    pub half_width_rhsm: f64,
    /// The weighting.
    pub weight: KinematicWeight,
    /// Fewest stars for a mean velocity.
    pub min_count_mean: u32,
    /// Fewest stars for a dispersion.
    pub min_count_disp: u32,
}

impl KinematicParams {
    /// The paper presets.
    pub const PRESETS: [&'static str; 1] = ["chu2024"];

    /// chu2024 §2.1: 48 x 48 over +-3 R_hsm; mass-weighted (not stated); a mean from one star, a dispersion from
    /// two.
    pub fn chu2024() -> Self {
        Self { npix: 48, half_width_rhsm: 3.0, weight: KinematicWeight::Mass, min_count_mean: 1, min_count_disp: 2 }
    }

    /// A preset by name.
    pub fn preset(name: &str) -> Option<Self> {
        (name == "chu2024").then(Self::chu2024)
    }
}

/// Checked [`KinematicParams`].
#[derive(Debug, Clone, PartialEq)]
pub struct KinematicValidParams(KinematicParams);

impl KinematicValidParams {
    /// The parameters.
    pub fn params(&self) -> &KinematicParams {
        &self.0
    }
}

impl Params for KinematicParams {
    type Valid = KinematicValidParams;
    type Error = MockError;

    fn check(&self) -> Result<KinematicValidParams, MockError> {
        ImageGrid::new(self.npix, 1.0)?;
        if !self.half_width_rhsm.is_finite() || self.half_width_rhsm <= 0.0 {
            return Err(MockError::InvalidParameter {
                name: "half_width_rhsm",
                reason: format!("{}, expected a positive number", self.half_width_rhsm),
            });
        }
        if self.min_count_mean == 0 || self.min_count_disp < 2 {
            return Err(MockError::InvalidParameter {
                name: "min_count",
                reason: format!(
                    "mean from {} and dispersion from {} stars: need at least 1 and 2",
                    self.min_count_mean, self.min_count_disp
                ),
            });
        }
        Ok(KinematicValidParams(self.clone()))
    }
}

/// The kinematic maps of one projection.
#[derive(Debug, Clone, PartialEq)]
pub struct KinematicMaps {
    /// The grid (kpc).
    pub grid: ImageGrid,
    /// Weighted mean v_los per pixel, km/s (NaN where too few stars).
    pub v_mean: Array2<f64>,
    /// Weighted dispersion per pixel, km/s (NaN where too few stars).
    pub v_disp: Array2<f64>,
    /// Stars per pixel.
    pub count: Array2<u32>,
}

/// Nearest-grid-point maps of values `v` with weights `w` at plane positions `(x, y)` on `grid` (module docs).
pub fn ngp_maps(
    x: &[f64],
    y: &[f64],
    v: &[f64],
    w: &[f64],
    grid: &ImageGrid,
    min_count_mean: u32,
    min_count_disp: u32,
) -> Result<KinematicMaps, MockError> {
    let n = x.len();
    for (name, len) in [("y", y.len()), ("v", v.len()), ("w", w.len())] {
        if len != n {
            return Err(MockError::BadInput { name, expected: format!("{n} values (as x)"), got: len.to_string() });
        }
    }
    let m = grid.npix;
    let (mut sw, mut swv, mut count) =
        (Array2::<f64>::zeros((m, m)), Array2::<f64>::zeros((m, m)), Array2::zeros((m, m)));
    let mut cells = Vec::with_capacity(n);
    for i in 0..n {
        if !(x[i].is_finite() && y[i].is_finite() && v[i].is_finite()) {
            return Err(MockError::BadInput {
                name: "stars",
                expected: "finite positions and velocities".into(),
                got: format!("a NaN or infinity at index {i}"),
            });
        }
        if !w[i].is_finite() || w[i] < 0.0 {
            return Err(MockError::BadInput {
                name: "w",
                expected: "finite weights >= 0".into(),
                got: format!("{} at index {i}", w[i]),
            });
        }
        let cell = grid.pixel_of(x[i]).zip(grid.pixel_of(y[i])).map(|(ix, iy)| (iy, ix));
        if let Some(c) = cell {
            sw[c] += w[i];
            swv[c] += w[i] * v[i];
            count[c] += 1u32;
        }
        cells.push(cell);
    }
    let v_mean = ndarray::Zip::from(&swv).and(&sw).and(&count).map_collect(|&a, &b, &c: &u32| {
        if c >= min_count_mean && b > 0.0 {
            a / b
        } else {
            f64::NAN
        }
    });
    // Second pass about the pixel means (numerically stable).
    let mut sdev = Array2::<f64>::zeros((m, m));
    for (i, cell) in cells.iter().enumerate() {
        if let Some(c) = *cell {
            let mean = if sw[c] > 0.0 { swv[c] / sw[c] } else { 0.0 };
            sdev[c] += w[i] * (v[i] - mean).powi(2);
        }
    }
    let v_disp = ndarray::Zip::from(&sdev).and(&sw).and(&count).map_collect(|&a, &b, &c: &u32| {
        if c >= min_count_disp && b > 0.0 {
            (a / b).sqrt()
        } else {
            f64::NAN
        }
    });
    Ok(KinematicMaps { grid: *grid, v_mean, v_disp, count })
}

/// chu2024's kinematic maps of `stars` along `los` over `+-half_width_rhsm * r_hsm_kpc`.
pub fn kinematic_maps(
    stars: &Particles,
    los: &LineOfSight,
    r_hsm_kpc: f64,
    params: &KinematicValidParams,
) -> Result<KinematicMaps, MockError> {
    let p = params.params();
    if !r_hsm_kpc.is_finite() || r_hsm_kpc <= 0.0 {
        return Err(MockError::InvalidParameter { name: "r_hsm_kpc", reason: format!("{r_hsm_kpc}, expected > 0") });
    }
    let grid = ImageGrid::new(p.npix, p.half_width_rhsm * r_hsm_kpc)?;
    let (x, y) = los.project_rows(stars.pos_kpc());
    let v = los.v_los_rows(stars.vel_kms());
    let w = match &p.weight {
        KinematicWeight::Mass => stars.mass_msun().to_vec(),
        KinematicWeight::Luminosity(band) => band_luminosities(stars, band)?.0.to_vec(),
    };
    ngp_maps(&x.to_vec(), &y.to_vec(), &v.to_vec(), &w, &grid, p.min_count_mean, p.min_count_disp)
}

#[cfg(test)]
mod tests {
    use ndarray::Array1;
    use rand::{Rng, SeedableRng};
    use rand_distr::{Distribution, Normal};

    use super::*;

    #[test]
    fn a_rotating_disc_and_a_gaussian_field() {
        // A flat disc in the x-y plane rotating at 200 km/s with a 30 km/s Gaussian scatter in v_z, seen at 60 deg.
        let n = 200_000;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let scatter = Normal::new(0.0, 30.0).unwrap();
        let mut pos = Array2::zeros((n, 3));
        let mut vel = Array2::zeros((n, 3));
        for i in 0..n {
            let r: f64 = rng.random_range(0.5..6.0);
            let phi: f64 = rng.random_range(0.0..std::f64::consts::TAU);
            pos[[i, 0]] = r * phi.cos();
            pos[[i, 1]] = r * phi.sin();
            vel[[i, 0]] = -200.0 * phi.sin();
            vel[[i, 1]] = 200.0 * phi.cos();
            vel[[i, 2]] = scatter.sample(&mut rng);
        }
        let stars = Particles::new(pos, vel, Array1::from_elem(n, 1.0)).unwrap();
        let inc = 60f64.to_radians();
        let los = LineOfSight::new([0.0, inc.sin(), inc.cos()]).unwrap();
        let params = KinematicParams::chu2024().check().unwrap();
        let maps = kinematic_maps(&stars, &los, 2.0, &params).unwrap();
        assert_eq!(maps.v_mean.dim(), (48, 48));
        // Along the kinematic major axis (the sky direction of the disc's x axis) |v| = 200 sin i.
        let (e1, e2) = los.sky_basis();
        let major = [e1[0], e2[0]]; // the disc's x axis on the sky
        let at = |d: f64| {
            let (px, py) = (d * major[0], d * major[1]);
            let (ix, iy) = (maps.grid.pixel_of(px).unwrap(), maps.grid.pixel_of(py).unwrap());
            (maps.v_mean[[iy, ix]], maps.v_disp[[iy, ix]])
        };
        let (v_plus, _) = at(4.0);
        let (v_minus, _) = at(-4.0);
        assert!((v_plus.abs() - 200.0 * inc.sin()).abs() < 12.0, "{v_plus}");
        assert!(v_plus * v_minus < 0.0, "opposite sides recede and approach");
        // On the minor axis the rotation is across the line of sight: v ~ 0, dispersion ~ 30 cos i (plus the
        // pixel's velocity gradient).
        let minor = [e1[1], e2[1]];
        let (px, py) = (4.0 * minor[0], 4.0 * minor[1]);
        let (ix, iy) = (maps.grid.pixel_of(px).unwrap(), maps.grid.pixel_of(py).unwrap());
        assert!(maps.v_mean[[iy, ix]].abs() < 10.0);
        assert!(maps.v_disp[[iy, ix]] > 10.0 && maps.v_disp[[iy, ix]] < 40.0, "{}", maps.v_disp[[iy, ix]]);
        // Corners of the field (beyond the disc) are empty and marked.
        assert!(maps.v_mean[[0, 0]].is_nan() && maps.count[[0, 0]] == 0);
    }

    #[test]
    fn a_gaussian_velocity_field_gives_its_dispersion() {
        // A static uniform square of stars with v_los drawn from N(-40, 25^2): every pixel's mean is -40 and its
        // dispersion 25, to the sampling error of ~430 stars per pixel (sigma / sqrt(2 n) ~ 0.85 km/s).
        let (n, m) = (1_000_000, 48);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let normal = Normal::new(-40.0, 25.0).unwrap();
        let x: Vec<f64> = (0..n).map(|_| rng.random_range(-3.0..3.0)).collect();
        let y: Vec<f64> = (0..n).map(|_| rng.random_range(-3.0..3.0)).collect();
        let v: Vec<f64> = (0..n).map(|_| normal.sample(&mut rng)).collect();
        let w = vec![1.0; n];
        let grid = ImageGrid::new(m, 3.0).unwrap();
        let maps = ngp_maps(&x, &y, &v, &w, &grid, 1, 2).unwrap();
        assert_eq!(maps.count.iter().map(|&c| c as usize).sum::<usize>(), n);
        let disp_mean = maps.v_disp.mean().unwrap();
        assert!((disp_mean - 25.0).abs() < 0.2, "mean dispersion {disp_mean}");
        // Each pixel within 5 standard errors of its count (sigma / sqrt(n) for the mean, sigma / sqrt(2 n) for the
        // dispersion).
        for ((&u, &s), &c) in maps.v_mean.iter().zip(maps.v_disp.iter()).zip(maps.count.iter()) {
            let c = f64::from(c);
            assert!((u + 40.0).abs() < 5.0 * 25.0 / c.sqrt(), "mean {u} from {c} stars");
            assert!((s - 25.0).abs() < 5.0 * 25.0 / (2.0 * c).sqrt(), "dispersion {s} from {c} stars");
        }
        // Weights: doubling the weight of the stars above the mean pulls each pixel's mean up.
        let w2: Vec<f64> = v.iter().map(|&u| if u > -40.0 { 2.0 } else { 1.0 }).collect();
        let weighted = ngp_maps(&x, &y, &v, &w2, &grid, 1, 2).unwrap();
        assert!(weighted.v_mean.iter().all(|&u| u > -40.0));
    }

    #[test]
    fn ngp_statistics_are_exact_on_a_known_pixel() {
        let grid = ImageGrid::new(2, 1.0).unwrap();
        let x = [-0.5, -0.4, -0.6, 0.5];
        let y = [-0.5, -0.5, -0.5, 0.5];
        let v = [10.0, 20.0, 30.0, 5.0];
        let w = [1.0, 1.0, 2.0, 1.0];
        let maps = ngp_maps(&x, &y, &v, &w, &grid, 1, 2).unwrap();
        assert_eq!(maps.count[[0, 0]], 3);
        assert!((maps.v_mean[[0, 0]] - 22.5).abs() < 1e-12);
        let var = (1.0 * 12.5f64.powi(2) + 2.5f64.powi(2) + 2.0 * 7.5f64.powi(2)) / 4.0;
        assert!((maps.v_disp[[0, 0]] - var.sqrt()).abs() < 1e-12);
        assert_eq!(maps.v_mean[[1, 1]], 5.0);
        assert!(maps.v_disp[[1, 1]].is_nan(), "one star: no dispersion");
        assert!(maps.v_mean[[0, 1]].is_nan());
        assert!(ngp_maps(&x, &y, &v, &[1.0, -1.0, 1.0, 1.0], &grid, 1, 2).is_err());
        assert!(ngp_maps(&x, &y[..2], &v, &w, &grid, 1, 2).is_err());
        assert!(KinematicParams { min_count_disp: 1, ..KinematicParams::chu2024() }.check().is_err());
    }
}
