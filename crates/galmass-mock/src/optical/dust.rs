//! An optional dust attenuation of star particles: a foreground screen per star from the gas metals in front of it
//! along the line of sight.
//!
//! # The recipe
//! - **Column.** The hydrogen of each gas particle (`X m` with `X =` [`HYDROGEN_MASS_FRACTION`] `= 0.76`, or the
//!   `HiMassMsun` field: [`HydrogenMass`], a named choice) is spread by its cubic-spline SPH kernel of compact
//!   support `SmoothingLengthKpc`. Along the ray through a star, parallel to the line of sight, the part of each
//!   kernel's line integral lying in front of the star (closer to the observer) is integrated **analytically**
//!   (the spline's pieces in `r = sqrt(R^2 + z^2)` have closed-form antiderivatives in `z`), so the column is exact
//!   for SPH gas; a star inside a gas particle's kernel gets the part in front of it. Each particle's hydrogen is
//!   weighted by its metallicity in solar units, `Z / Z_sun` with `Z_sun =` [`SOLAR_METALLICITY`] `= 0.0134`
//!   (Asplund et al. 2009, the bulk present-day solar value): the metal-weighted column `N_H Z / Z_sun`.
//! - **A_V** `= N_H (Z / Z_sun) / 1.87e21 cm^-2` mag ([`NH_PER_AV_CM2`]): Bohlin, Savage & Drake (1978)
//!   `N_H / E(B-V) = 5.8e21 cm^-2 mag^-1` with `R_V = 3.1`, i.e. the Milky Way's dust-to-gas ratio at solar
//!   metallicity, scaled linearly with metallicity (a constant dust-to-metal ratio).
//! - **A_lambda** `= A_V (lambda_eff / 5500 A)^-0.7`: the ISM slope of Charlot & Fall (2000), with the SDSS
//!   effective wavelengths u 3551, g 4686, r 6166, i 7480, z 8932 A (Fukugita et al. 1996 / the SDSS DR7 filter
//!   pages) and Johnson U 3600, B 4380, V 5450, K 21900 A (Bessell 1990, 2005) for the bands TNG files carry.
//!   Each luminosity is multiplied by `10^(-0.4 A_lambda)`.
//!
//! Rays are parallel to the line of sight (the galaxy subtends well under a degree at 10 Mpc, so perspective moves
//! a ray by less than the galaxy's size over the distance).
//!
//! # What this is not (delosrios2023 used SKIRT)
//! delosrios2023 ran SKIRT radiative transfer (dust-to-metal 0.3, Zubko 2004 grains, MAPPINGS-III for stars younger
//! than 10 Myr). galmass does not: there is **no scattering** (light scattered back into the line of sight, the
//! glow beside dust lanes, is missing), **no emission by dust**, **no nebular emission or birth-cloud attenuation
//! of young stars** (MAPPINGS-III) and no geometry beyond a screen per star. Compared with SKIRT, edge-on discs are
//! bluer and brighter (young stars in their birth clouds are not dimmed), and dust lanes are darker and sharper
//! (no scattered light fills them).
//!
//! # Example
//! ```
//! use galmass_core::params::Params;
//! use galmass_mock::optical::dust::DustParams;
//! let params = DustParams::preset("delosrios2023").unwrap().check().unwrap();
//! assert_eq!(params.params().slope, -0.7);
//! ```
//!
//! # Efficiency
//! Gas particles are binned on sky grids of cell size a power of two times the smallest kernel, each particle in
//! the level whose cells are at least its kernel's diameter (so it touches at most 2 x 2 cells); a star visits one
//! cell per level. Stars run in parallel (rayon); each star's sum runs in gas-index order, so results do not depend
//! on the thread count.

use std::collections::HashMap;

use galmass_core::params::Params;
use galmass_core::units::{KPC_CM, MSUN_G, PROTON_MASS_G};
use galmass_core::{LineOfSight, Particles, ScalarField};
use ndarray::Array1;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::MockError;

/// Hydrogen mass fraction of gas when no hydrogen field is used (primordial, the value TNG and most SPH codes use).
pub const HYDROGEN_MASS_FRACTION: f64 = 0.76;
/// Solar metal mass fraction (Asplund et al. 2009, present-day bulk).
pub const SOLAR_METALLICITY: f64 = 0.0134;
/// Hydrogen column per magnitude of A_V at solar metallicity, cm^-2 (Bohlin, Savage & Drake 1978: 5.8e21 / 3.1).
pub const NH_PER_AV_CM2: f64 = 5.8e21 / 3.1;
/// The attenuation curve's slope, `A_lambda ∝ lambda^slope` (Charlot & Fall 2000, diffuse ISM).
pub const CHARLOT_FALL_SLOPE: f64 = -0.7;
/// The wavelength of A_V, Angstrom.
pub const V_WAVELENGTH_ANGSTROM: f64 = 5500.0;

/// Effective wavelengths, Angstrom: SDSS ugriz (Fukugita et al. 1996) and Johnson U, B, V, K (Bessell 1990, 2005).
pub const EFFECTIVE_WAVELENGTHS_ANGSTROM: [(&str, f64); 9] = [
    ("u", 3551.0),
    ("g", 4686.0),
    ("r", 6166.0),
    ("i", 7480.0),
    ("z", 8932.0),
    ("U", 3600.0),
    ("B", 4380.0),
    ("V", 5450.0),
    ("K", 21900.0),
];

/// The effective wavelength of `band`, Angstrom.
pub fn effective_wavelength_angstrom(band: &str) -> Option<f64> {
    EFFECTIVE_WAVELENGTHS_ANGSTROM.iter().find(|(b, _)| *b == band).map(|(_, w)| *w)
}

/// Where the gas's hydrogen mass comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HydrogenMass {
    /// `hydrogen_mass_fraction` times the gas mass (all hydrogen, ionised included).
    Total,
    /// The gas's `HiMassMsun` field (atomic hydrogen only: no H2, no ionised gas).
    Hi,
}

/// Parameters of the screen (unchecked; [`Params::check`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DustParams {
    /// Where the hydrogen mass comes from.
    pub hydrogen: HydrogenMass,
    /// Hydrogen mass fraction used by [`HydrogenMass::Total`].
    pub hydrogen_mass_fraction: f64,
    /// Solar metal mass fraction.
    pub solar_metallicity: f64,
    /// Hydrogen column per magnitude of A_V at solar metallicity, cm^-2.
    pub nh_per_av_cm2: f64,
    /// Slope of the attenuation curve.
    pub slope: f64,
}

impl DustParams {
    /// The presets.
    pub const PRESETS: [&'static str; 1] = ["delosrios2023"];

    /// galmass's stand-in for delosrios2023's SKIRT dust (module docs): all hydrogen, Asplund 2009 solar
    /// metallicity, Bohlin et al. 1978, Charlot & Fall 2000.
    pub const DELOSRIOS2023: DustParams = DustParams {
        hydrogen: HydrogenMass::Total,
        hydrogen_mass_fraction: HYDROGEN_MASS_FRACTION,
        solar_metallicity: SOLAR_METALLICITY,
        nh_per_av_cm2: NH_PER_AV_CM2,
        slope: CHARLOT_FALL_SLOPE,
    };

    /// A preset by name.
    pub fn preset(name: &str) -> Option<Self> {
        (name == "delosrios2023").then_some(Self::DELOSRIOS2023)
    }
}

/// Checked [`DustParams`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DustValidParams(DustParams);

impl DustValidParams {
    /// The parameters.
    pub fn params(&self) -> &DustParams {
        &self.0
    }
}

impl Params for DustParams {
    type Valid = DustValidParams;
    type Error = MockError;

    fn check(&self) -> Result<DustValidParams, MockError> {
        let positive = |name: &'static str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(MockError::invalid(name, format!("{v}, expected a positive number")))
            }
        };
        positive("hydrogen_mass_fraction", self.hydrogen_mass_fraction)?;
        if self.hydrogen_mass_fraction > 1.0 {
            return Err(MockError::invalid(
                "hydrogen_mass_fraction",
                format!("{}, expected <= 1", self.hydrogen_mass_fraction),
            ));
        }
        positive("solar_metallicity", self.solar_metallicity)?;
        positive("nh_per_av_cm2", self.nh_per_av_cm2)?;
        if !self.slope.is_finite() {
            return Err(MockError::invalid("slope", format!("{}, expected a finite number", self.slope)));
        }
        Ok(DustValidParams(*self))
    }
}

/// The screen in front of each star.
#[derive(Debug, Clone, PartialEq)]
pub struct DustScreen {
    /// Metal-weighted hydrogen column in front of each star, `N_H Z / Z_sun`, cm^-2.
    pub column_cm2: Array1<f64>,
    /// A_V of each star, mag.
    pub a_v_mag: Array1<f64>,
    /// The slope the screen was made with.
    pub slope: f64,
}

impl DustScreen {
    /// A_lambda of each star in `band`, mag.
    pub fn a_band_mag(&self, band: &str) -> Result<Array1<f64>, MockError> {
        let factor = self.band_factor(band)?;
        Ok(self.a_v_mag.mapv(|a| a * factor))
    }

    fn band_factor(&self, band: &str) -> Result<f64, MockError> {
        let wavelength = effective_wavelength_angstrom(band).ok_or_else(|| MockError::BadInput {
            name: "band",
            expected: format!(
                "a band with a known effective wavelength ({})",
                EFFECTIVE_WAVELENGTHS_ANGSTROM.map(|(b, _)| b).join(", ")
            ),
            got: band.to_owned(),
        })?;
        Ok((wavelength / V_WAVELENGTH_ANGSTROM).powf(self.slope))
    }

    /// A copy of `stars` with every band's luminosity attenuated (an unknown band is an error naming it).
    pub fn attenuate(&self, stars: &Particles) -> Result<Particles, MockError> {
        if stars.len() != self.a_v_mag.len() {
            return Err(MockError::BadInput {
                name: "stars",
                expected: format!("{} stars (the screen's)", self.a_v_mag.len()),
                got: stars.len().to_string(),
            });
        }
        let mut out = stars.clone();
        for (band, lum) in stars.luminosities() {
            let factor = self.band_factor(band)?;
            let mut attenuated = lum.clone();
            attenuated.lum_lsun = Array1::from_shape_fn(lum.lum_lsun.len(), |i| {
                lum.lum_lsun[i] * 10f64.powf(-0.4 * factor * self.a_v_mag[i])
            });
            out.set_luminosity(band, attenuated)?;
        }
        Ok(out)
    }
}

/// The fraction of a cubic-spline kernel's line integral (compact support `h`, 3-D normalisation `8 / (pi h^3)`)
/// at impact parameter `r_perp` that lies at `z < z_max` (z along the ray, 0 at the particle), per unit area: the
/// column density in units of the particle's mass, kpc^-2 when lengths are in kpc.
pub fn cubic_spline_partial_column(r_perp: f64, z_max: f64, h: f64) -> f64 {
    if r_perp >= h || h.is_nan() || h <= 0.0 {
        return 0.0;
    }
    let (b, zc) = (r_perp / h, z_max / h);
    let half_outer = (1.0 - b * b).sqrt();
    if zc <= -half_outer {
        return 0.0;
    }
    let top = zc.min(half_outer);
    // Units of h: W = 8/pi {1 - 6q^2 + 6q^3 (q < 1/2); 2 (1 - q)^3 (q < 1)}, q = sqrt(b^2 + t^2).
    let inner = |t: f64| t - 6.0 * int_q2(b, t) + 6.0 * int_q3(b, t);
    let outer = |t: f64| 2.0 * (t - 3.0 * int_q1(b, t) + 3.0 * int_q2(b, t) - int_q3(b, t));
    if zc >= half_outer {
        // The whole line integral: the antiderivatives are odd in t, so each symmetric piece is twice its top.
        let full = if b < 0.5 {
            let half_inner = (0.25 - b * b).sqrt();
            2.0 * (outer(half_outer) - outer(half_inner) + inner(half_inner))
        } else {
            2.0 * outer(half_outer)
        };
        return full * 8.0 / std::f64::consts::PI / (h * h);
    }
    let mut sum = 0.0;
    let mut piece = |f: &dyn Fn(f64) -> f64, lo: f64, hi: f64| {
        let hi = hi.min(top);
        if hi > lo {
            sum += f(hi) - f(lo);
        }
    };
    if b < 0.5 {
        let half_inner = (0.25 - b * b).sqrt();
        piece(&outer, -half_outer, -half_inner);
        piece(&inner, -half_inner, half_inner);
        piece(&outer, half_inner, half_outer);
    } else {
        piece(&outer, -half_outer, half_outer);
    }
    sum * 8.0 / std::f64::consts::PI / (h * h)
}

/// `b^2 asinh(t / b)`, 0 at `b = 0`.
fn b2_asinh(b: f64, t: f64) -> f64 {
    if b == 0.0 {
        0.0
    } else {
        b * b * (t / b).asinh()
    }
}

/// Antiderivative in `t` of `q = sqrt(b^2 + t^2)`.
fn int_q1(b: f64, t: f64) -> f64 {
    0.5 * (t * (b * b + t * t).sqrt() + b2_asinh(b, t))
}

/// Antiderivative in `t` of `q^2`.
fn int_q2(b: f64, t: f64) -> f64 {
    b * b * t + t * t * t / 3.0
}

/// Antiderivative in `t` of `q^3`.
fn int_q3(b: f64, t: f64) -> f64 {
    let q = (b * b + t * t).sqrt();
    t * (2.0 * t * t + 5.0 * b * b) * q / 8.0 + 3.0 / 8.0 * b * b * b2_asinh(b, t)
}

/// Gas binned on one sky grid level.
struct Level {
    cell_kpc: f64,
    cells: HashMap<(i64, i64), Vec<usize>>,
}

/// The screen in front of each of `stars` from `gas` (fields `Metallicity`, `SmoothingLengthKpc`, and `HiMassMsun`
/// for [`HydrogenMass::Hi`]) seen along `los` (module docs).
pub fn dust_screen(
    stars: &Particles,
    gas: &Particles,
    los: &LineOfSight,
    params: &DustValidParams,
) -> Result<DustScreen, MockError> {
    let p = params.params();
    let need = |field: ScalarField| {
        gas.field(field).ok_or_else(|| MockError::BadInput {
            name: "gas",
            expected: format!("the gas field {}", field.dataset_name()),
            got: "none".into(),
        })
    };
    let metallicity = need(ScalarField::Metallicity)?;
    let h = need(ScalarField::SmoothingLengthKpc)?;
    let hydrogen: Array1<f64> = match p.hydrogen {
        HydrogenMass::Total => gas.mass_msun().mapv(|m| m * p.hydrogen_mass_fraction),
        HydrogenMass::Hi => need(ScalarField::HiMassMsun)?.clone(),
    };
    let (e1, e2) = los.sky_basis();
    let n = los.direction();
    let project = |pos: &ndarray::Array2<f64>, i: usize| {
        let v = [pos[[i, 0]], pos[[i, 1]], pos[[i, 2]]];
        let dot = |a: [f64; 3]| v[0] * a[0] + v[1] * a[1] + v[2] * a[2];
        [dot(e1), dot(e2), dot(n)]
    };
    // Weights: metal-weighted hydrogen mass, Msun, of gas that can dim anything.
    let mut gas_xyz = Vec::with_capacity(gas.len());
    let mut weight = Vec::with_capacity(gas.len());
    for i in 0..gas.len() {
        let (w, hi, z) = (hydrogen[i], h[i], metallicity[i]);
        if !(w.is_finite() && hi.is_finite() && z.is_finite()) || w < 0.0 || z < 0.0 || hi <= 0.0 {
            return Err(MockError::BadInput {
                name: "gas",
                expected: "finite non-negative hydrogen mass and metallicity, positive smoothing length".into(),
                got: format!("particle {i}: hydrogen {w} Msun, metallicity {z}, smoothing length {hi} kpc"),
            });
        }
        gas_xyz.push(project(gas.pos_kpc(), i));
        weight.push(w * z / p.solar_metallicity);
    }
    let h_min = h.iter().copied().filter(|v| *v > 0.0).fold(f64::INFINITY, f64::min);
    let mut levels: Vec<Level> = Vec::new();
    for i in 0..gas.len() {
        if weight[i] == 0.0 {
            continue;
        }
        let k = ((2.0 * h[i] / (2.0 * h_min)).log2().ceil().max(0.0)) as usize;
        while levels.len() <= k {
            let cell_kpc = 2.0 * h_min * 2f64.powi(levels.len() as i32);
            levels.push(Level { cell_kpc, cells: HashMap::new() });
        }
        let level = &mut levels[k];
        let c = level.cell_kpc;
        let [x, y, _] = gas_xyz[i];
        let (x0, x1) = (((x - h[i]) / c).floor() as i64, ((x + h[i]) / c).floor() as i64);
        let (y0, y1) = (((y - h[i]) / c).floor() as i64, ((y + h[i]) / c).floor() as i64);
        for ix in x0..=x1 {
            for iy in y0..=y1 {
                level.cells.entry((ix, iy)).or_default().push(i);
            }
        }
    }
    let to_cm2 = MSUN_G / PROTON_MASS_G / (KPC_CM * KPC_CM);
    let column: Vec<f64> = (0..stars.len())
        .into_par_iter()
        .map(|s| {
            let [x, y, z] = project(stars.pos_kpc(), s);
            let mut sum = 0.0;
            for level in &levels {
                let key = ((x / level.cell_kpc).floor() as i64, (y / level.cell_kpc).floor() as i64);
                if let Some(members) = level.cells.get(&key) {
                    for &j in members {
                        let [gx, gy, gz] = gas_xyz[j];
                        let r2 = (x - gx).powi(2) + (y - gy).powi(2);
                        if r2 < h[j] * h[j] && z - gz > -h[j] {
                            sum += weight[j] * cubic_spline_partial_column(r2.sqrt(), z - gz, h[j]);
                        }
                    }
                }
            }
            sum * to_cm2
        })
        .collect();
    let column_cm2 = Array1::from(column);
    let a_v_mag = column_cm2.mapv(|c| c / p.nh_per_av_cm2);
    Ok(DustScreen { column_cm2, a_v_mag, slope: p.slope })
}

#[cfg(test)]
mod tests {
    use galmass_core::particles::BandLuminosity;
    use ndarray::Array2;

    use super::*;

    #[test]
    fn the_partial_column_is_exact() {
        // The whole line integral, by brute-force quadrature of the 3-D kernel, and its halves.
        let w = |q: f64| {
            8.0 / std::f64::consts::PI
                * if q < 0.5 {
                    1.0 - 6.0 * q * q + 6.0 * q * q * q
                } else if q < 1.0 {
                    2.0 * (1.0 - q).powi(3)
                } else {
                    0.0
                }
        };
        for (b, zc) in [(0.0f64, 0.3f64), (0.1, -0.2), (0.3, 2.0), (0.45, 0.05), (0.7, -0.1), (0.99, 0.0), (0.6, 0.55)]
        {
            let n = 200_000;
            let (lo, hi) = (-1.0f64, zc.min(1.0));
            let dz = (hi - lo) / n as f64;
            let brute: f64 = (0..n).map(|k| w((b * b + (lo + (k as f64 + 0.5) * dz).powi(2)).sqrt()) * dz).sum();
            let exact = cubic_spline_partial_column(b * 2.0, zc * 2.0, 2.0) * 4.0;
            assert!((exact - brute).abs() < 1e-7, "b {b} z {zc}: {exact} vs {brute}");
        }
        // Half in front at the centre; nothing beyond the support; the full projected kernel integrates to 1.
        let full = cubic_spline_partial_column(0.2, 5.0, 1.0);
        assert!((cubic_spline_partial_column(0.2, 0.0, 1.0) / full - 0.5).abs() < 1e-12);
        assert_eq!(cubic_spline_partial_column(1.0, 5.0, 1.0), 0.0);
        let n = 2000;
        let total: f64 = (0..n)
            .map(|k| {
                let r = (k as f64 + 0.5) / n as f64;
                2.0 * std::f64::consts::PI * r * cubic_spline_partial_column(r, 5.0, 1.0) / n as f64
            })
            .sum();
        assert!((total - 1.0).abs() < 1e-5, "{total}");
    }

    fn stars_at(pos: &[[f64; 3]]) -> Particles {
        let n = pos.len();
        let mut stars =
            Particles::new(Array2::from_shape_fn((n, 3), |(i, k)| pos[i][k]), Array2::zeros((n, 3)), Array1::ones(n))
                .unwrap();
        for band in ["u", "g", "r", "i", "z"] {
            stars.set_luminosity(band, BandLuminosity { lum_lsun: Array1::ones(n), solar_abs_mag_ab: 4.65 }).unwrap();
        }
        stars
    }

    /// A slab of gas in |z| < 0.5 kpc: a lattice of spacing 0.1 kpc over 8 x 8 kpc, kernels of 0.4 kpc, each
    /// particle 1e4 Msun at metallicity 2 Z_sun.
    fn slab() -> (Particles, f64) {
        let (s, m, half) = (0.1, 1e4, 40i32);
        let mut pos = vec![];
        for ix in -half..half {
            for iy in -half..half {
                for iz in -5..5 {
                    pos.push([(ix as f64 + 0.5) * s, (iy as f64 + 0.5) * s, (iz as f64 + 0.5) * s]);
                }
            }
        }
        let n = pos.len();
        let mut gas = Particles::new(
            Array2::from_shape_fn((n, 3), |(i, k)| pos[i][k]),
            Array2::zeros((n, 3)),
            Array1::from_elem(n, m),
        )
        .unwrap();
        gas.set_field(ScalarField::SmoothingLengthKpc, Array1::from_elem(n, 0.4)).unwrap();
        gas.set_field(ScalarField::Metallicity, Array1::from_elem(n, 2.0 * SOLAR_METALLICITY)).unwrap();
        // Column of hydrogen: 10 particles per s^2 of sky, X m each, in cm^-2; metals double it.
        let column = 10.0 * m * HYDROGEN_MASS_FRACTION / (s * s) * MSUN_G / PROTON_MASS_G / (KPC_CM * KPC_CM) * 2.0;
        (gas, column)
    }

    #[test]
    fn a_star_behind_a_slab_gets_the_analytic_attenuation_and_one_in_front_none() {
        let (gas, column) = slab();
        // The observer looks along +z: behind is +z.
        let los = LineOfSight::new([0.0, 0.0, 1.0]).unwrap();
        let stars = stars_at(&[[0.03, -0.07, 3.0], [1.21, 0.4, -3.0], [0.5, 0.5, 0.0]]);
        let params = DustParams::DELOSRIOS2023.check().unwrap();
        let screen = dust_screen(&stars, &gas, &los, &params).unwrap();
        let a_v = column / NH_PER_AV_CM2;
        assert!((screen.a_v_mag[0] / a_v - 1.0).abs() < 2e-3, "{} vs {a_v}", screen.a_v_mag[0]);
        assert_eq!(screen.a_v_mag[1], 0.0);
        assert!((screen.a_v_mag[2] / a_v - 0.5).abs() < 2e-3, "mid-plane: half, {}", screen.a_v_mag[2] / a_v);
        let attenuated = screen.attenuate(&stars).unwrap();
        for (band, wavelength) in [("u", 3551.0), ("g", 4686.0), ("r", 6166.0), ("i", 7480.0), ("z", 8932.0)] {
            let a = screen.a_v_mag[0] * (wavelength / 5500.0f64).powf(-0.7);
            let l = attenuated.luminosity(band).unwrap().lum_lsun[0];
            assert!((l - 10f64.powf(-0.4 * a)).abs() < 1e-12, "{band}");
            assert_eq!(attenuated.luminosity(band).unwrap().lum_lsun[1], 1.0);
        }
        assert!(screen.a_band_mag("u").unwrap()[0] > screen.a_band_mag("z").unwrap()[0]);
        // Seen from the other side, the roles swap.
        let back = dust_screen(&stars, &gas, &LineOfSight::new([0.0, 0.0, -1.0]).unwrap(), &params).unwrap();
        assert_eq!(back.a_v_mag[0], 0.0);
        assert!((back.a_v_mag[1] / a_v - 1.0).abs() < 2e-3);
    }

    #[test]
    fn bad_inputs_are_errors() {
        let (mut gas, _) = slab();
        let stars = stars_at(&[[0.0, 0.0, 1.0]]);
        let los = LineOfSight::new([0.0, 0.0, 1.0]).unwrap();
        let params = DustParams::DELOSRIOS2023.check().unwrap();
        let hi = DustParams { hydrogen: HydrogenMass::Hi, ..DustParams::DELOSRIOS2023 }.check().unwrap();
        let err = dust_screen(&stars, &gas, &los, &hi).unwrap_err().to_string();
        assert!(err.contains("hi_mass"), "{err}");
        gas.set_field(ScalarField::Metallicity, Array1::from_elem(gas.len(), -0.01)).unwrap();
        assert!(dust_screen(&stars, &gas, &los, &params).is_err());
        assert!(DustParams { solar_metallicity: 0.0, ..DustParams::DELOSRIOS2023 }.check().is_err());
        assert!(DustParams { hydrogen_mass_fraction: 1.5, ..DustParams::DELOSRIOS2023 }.check().is_err());
        let mut odd = stars_at(&[[0.0, 0.0, 1.0]]);
        odd.set_luminosity("w1", BandLuminosity { lum_lsun: Array1::ones(1), solar_abs_mag_ab: 3.0 }).unwrap();
        let screen = DustScreen { column_cm2: Array1::zeros(1), a_v_mag: Array1::zeros(1), slope: -0.7 };
        let err = screen.attenuate(&odd).unwrap_err().to_string();
        assert!(err.contains("w1"), "{err}");
        let toml: Result<DustParams, _> = serde_json::from_str(r#"{"hydrogen": "total", "bogus": 1}"#);
        assert!(toml.is_err());
    }
}
