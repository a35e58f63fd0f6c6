//! Exponential stellar and gas discs as approximate equilibria from Jeans moments.
//!
//! Density `rho(R, z) = M_d / (4 pi R_d^2 z_d) exp(-R / R_d) sech^2(z / z_d)`. Velocities are Gaussian about Jeans
//! moments in the epicyclic approximation (Binney & Tremaine 2008, §4.8):
//! - `sigma_R^2(R) = sigma_R0^2 exp(-R / R_d)` (so `sigma_R^2 Sigma` falls as `exp(-2R/R_d)`), with `sigma_R0` set by
//!   `sigma_r_at_rd_kms`;
//! - `sigma_z^2(R) = pi G Sigma(R) z_d` (the isothermal sheet);
//! - `sigma_phi^2 = sigma_R^2 kappa^2 / (4 Omega^2)`, with `kappa^2 / (4 Omega^2) = (1 + d ln v_c / d ln R) / 2`;
//! - the asymmetric drift (B&T eq. 4.228, the `v_R v_z` term neglected):
//!   `vbar_phi^2 = v_c^2 - sigma_R^2 (sigma_phi^2 / sigma_R^2 - 1 + 2 R / R_d)`, floored at 0.
//!
//! The circular velocity comes from the spherically averaged total mass, `v_c^2 = G M(<R) / R`. A galaxy generator
//! enters the disc into that mass through its monopole, [`ExponentialDisc::spherical_profile`] (the exact mass of the
//! disc within 3-D spheres); a thin exponential disc rotates up to ~15% faster than its spherical equivalent near
//! 2 R_d, which these models neglect. These discs are approximate equilibria: they drift slowly if evolved, which is
//! immaterial for mock observations of a single snapshot.
//!
//! [`GasDisc`] is the cold-gas (HI) counterpart: the same exponential, sech^2 layer with an isotropic, constant
//! dispersion sigma (8-12 km/s in the suites) and pressure support for an isothermal layer of constant thickness,
//! `vbar_phi^2 = v_c^2 + sigma^2 d ln Sigma / d ln R = v_c^2 - sigma^2 R / R_d`, floored at 0.
//!
//! ```
//! use galmass_synth::disc::ExponentialDisc;
//! let disc = ExponentialDisc { mass_msun: 5e10, r_d_kpc: 3.0, z_d_kpc: 0.3, sigma_r_at_rd_kms: 35.0 };
//! let v_c = |r: f64| 220.0 * (r / (r + 0.5)).sqrt();
//! let (pos, vel) = disc.sample(1000, &v_c, 1).unwrap();
//! assert_eq!(pos.dim(), (1000, 3));
//! ```

use std::f64::consts::PI;

use galmass_core::numeric::quad::simpson;
use galmass_core::units::G_KPC_KMS2_PER_MSUN as G;
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::error::SynthError;
use crate::tabulated::TabulatedProfile;

/// An exponential disc with a sech^2 vertical profile.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ExponentialDisc {
    /// Total mass, Msun.
    pub mass_msun: f64,
    /// Scale length, kpc.
    pub r_d_kpc: f64,
    /// Scale height of the sech^2 profile, kpc.
    pub z_d_kpc: f64,
    /// Radial velocity dispersion at R = R_d, km/s.
    pub sigma_r_at_rd_kms: f64,
}

/// The Jeans moments of the disc at one radius.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DiscMoments {
    /// Circular velocity, km/s.
    pub v_c_kms: f64,
    /// Mean azimuthal velocity after the asymmetric drift, km/s.
    pub v_phi_mean_kms: f64,
    /// Radial dispersion, km/s.
    pub sigma_r_kms: f64,
    /// Azimuthal dispersion, km/s.
    pub sigma_phi_kms: f64,
    /// Vertical dispersion, km/s.
    pub sigma_z_kms: f64,
}

impl ExponentialDisc {
    /// Surface density at R, Msun/kpc^2.
    pub fn surface_density(&self, r_kpc: f64) -> f64 {
        self.mass_msun / (2.0 * PI * self.r_d_kpc * self.r_d_kpc) * (-r_kpc / self.r_d_kpc).exp()
    }

    /// Mass within cylindrical radius R (used as the disc's spherically averaged enclosed mass), Msun.
    pub fn enclosed_mass_msun(&self, r_kpc: f64) -> f64 {
        let x = r_kpc / self.r_d_kpc;
        self.mass_msun * (1.0 - (1.0 + x) * (-x).exp())
    }

    /// Spherically averaged density (the monopole), Msun/kpc^3: `rho_0(r) = 1/(2 r z_d) int_0^r Sigma(sqrt(r^2 - z^2))
    /// sech^2(z / z_d) dz`, integrated in `mu = z / r`.
    pub fn spherical_density(&self, r_kpc: f64) -> f64 {
        spherical_density_exp_sech2(self.mass_msun, self.r_d_kpc, self.z_d_kpc, r_kpc)
    }

    /// The disc's monopole as a spherical profile: the exact mass of the disc within 3-D spheres, and the potential
    /// of that spherical average (what the spherical distribution functions and the truth use).
    pub fn spherical_profile(&self) -> Result<TabulatedProfile, SynthError> {
        check_layer(self.mass_msun, self.r_d_kpc, self.z_d_kpc)?;
        let (m, r_d, z_d) = (self.mass_msun, self.r_d_kpc, self.z_d_kpc);
        TabulatedProfile::new(std::sync::Arc::new(move |r| spherical_density_exp_sech2(m, r_d, z_d, r)), r_d, 0.0)
    }

    /// The Jeans moments at radius R in a potential with circular velocity `v_c(R)`.
    pub fn moments(&self, r_kpc: f64, v_c: &dyn Fn(f64) -> f64) -> DiscMoments {
        let vc = v_c(r_kpc);
        let h = 1e-4 * r_kpc.max(1e-6);
        let dln_vc = ((v_c(r_kpc + h)).ln() - (v_c((r_kpc - h).max(1e-9))).ln())
            / ((r_kpc + h).ln() - (r_kpc - h).max(1e-9).ln());
        let sigma_r2 = self.sigma_r_at_rd_kms.powi(2) * (1.0 - r_kpc / self.r_d_kpc).exp();
        let epicyclic = (0.5 * (1.0 + dln_vc)).clamp(0.0, 1.0);
        let sigma_phi2 = sigma_r2 * epicyclic;
        let sigma_z2 = PI * G * self.surface_density(r_kpc) * self.z_d_kpc;
        let drift = sigma_r2 * (epicyclic - 1.0 + 2.0 * r_kpc / self.r_d_kpc);
        DiscMoments {
            v_c_kms: vc,
            v_phi_mean_kms: (vc * vc - drift).max(0.0).sqrt(),
            sigma_r_kms: sigma_r2.sqrt(),
            sigma_phi_kms: sigma_phi2.sqrt(),
            sigma_z_kms: sigma_z2.sqrt(),
        }
    }

    /// Draws `n` particles in the disc's own frame (rotation about +z), deterministic for a seed.
    pub fn sample(
        &self,
        n: usize,
        v_c: &dyn Fn(f64) -> f64,
        seed: u64,
    ) -> Result<(Array2<f64>, Array2<f64>), SynthError> {
        check_layer(self.mass_msun, self.r_d_kpc, self.z_d_kpc)?;
        if !(self.sigma_r_at_rd_kms.is_finite() && self.sigma_r_at_rd_kms >= 0.0) {
            return Err(SynthError::InvalidParameter {
                name: "sigma_r_at_rd_kms",
                reason: format!("{}", self.sigma_r_at_rd_kms),
            });
        }
        sample_layer(n, self.r_d_kpc, self.z_d_kpc, seed, |r| {
            let m = self.moments(r, v_c);
            (m.v_phi_mean_kms, m.sigma_r_kms, m.sigma_phi_kms, m.sigma_z_kms)
        })
    }
}

/// A cold (HI) gas disc: exponential surface density, sech^2 layer, isotropic constant dispersion.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GasDisc {
    /// Total gas mass, Msun.
    pub mass_msun: f64,
    /// Scale length, kpc.
    pub r_d_kpc: f64,
    /// Scale height of the sech^2 profile, kpc.
    pub z_d_kpc: f64,
    /// One-dimensional velocity dispersion (turbulent + thermal), km/s.
    pub sigma_kms: f64,
}

impl GasDisc {
    /// Surface density at R, Msun/kpc^2.
    pub fn surface_density(&self, r_kpc: f64) -> f64 {
        self.mass_msun / (2.0 * PI * self.r_d_kpc * self.r_d_kpc) * (-r_kpc / self.r_d_kpc).exp()
    }

    /// Density at cylindrical radius R and height z, Msun/kpc^3: `Sigma(R) sech^2(z / z_d) / (2 z_d)`.
    pub fn density_msun_kpc3(&self, r_kpc: f64, z_kpc: f64) -> f64 {
        let sech = 1.0 / (z_kpc / self.z_d_kpc).cosh();
        self.surface_density(r_kpc) * sech * sech / (2.0 * self.z_d_kpc)
    }

    /// Mean rotation at R with pressure support, km/s: `sqrt(max(v_c^2 - sigma^2 R / R_d, 0))`.
    pub fn mean_rotation_kms(&self, r_kpc: f64, v_c: &dyn Fn(f64) -> f64) -> f64 {
        let vc = v_c(r_kpc);
        (vc * vc - self.sigma_kms * self.sigma_kms * r_kpc / self.r_d_kpc).max(0.0).sqrt()
    }

    /// The disc's monopole as a spherical profile (see [`ExponentialDisc::spherical_profile`]).
    pub fn spherical_profile(&self) -> Result<TabulatedProfile, SynthError> {
        ExponentialDisc {
            mass_msun: self.mass_msun,
            r_d_kpc: self.r_d_kpc,
            z_d_kpc: self.z_d_kpc,
            sigma_r_at_rd_kms: 0.0,
        }
        .spherical_profile()
    }

    /// Draws `n` gas particles in the disc's own frame (rotation about +z), deterministic for a seed.
    pub fn sample(
        &self,
        n: usize,
        v_c: &dyn Fn(f64) -> f64,
        seed: u64,
    ) -> Result<(Array2<f64>, Array2<f64>), SynthError> {
        check_layer(self.mass_msun, self.r_d_kpc, self.z_d_kpc)?;
        if !(self.sigma_kms.is_finite() && self.sigma_kms >= 0.0) {
            return Err(SynthError::InvalidParameter { name: "sigma_kms", reason: format!("{}", self.sigma_kms) });
        }
        let s = self.sigma_kms;
        sample_layer(n, self.r_d_kpc, self.z_d_kpc, seed, |r| (self.mean_rotation_kms(r, v_c), s, s, s))
    }
}

fn check_layer(mass_msun: f64, r_d_kpc: f64, z_d_kpc: f64) -> Result<(), SynthError> {
    for (name, v) in [("mass_msun", mass_msun), ("r_d_kpc", r_d_kpc), ("z_d_kpc", z_d_kpc)] {
        if !(v.is_finite() && v > 0.0) {
            return Err(SynthError::InvalidParameter { name, reason: format!("must be positive, got {v}") });
        }
    }
    Ok(())
}

/// Monopole of an exponential, sech^2 layer (see [`ExponentialDisc::spherical_density`]): with `z = r mu`,
/// `rho_0(r) = 1/(2 z_d) int_0^mu_max Sigma(r sqrt(1 - mu^2)) sech^2(r mu / z_d) d mu`, by Simpson's rule on 256
/// intervals up to `mu_max = min(1, 40 z_d / r)` (beyond, sech^2 < 1e-34); sech^2 x = 4 e^(-2x) / (1 + e^(-2x))^2.
fn spherical_density_exp_sech2(mass_msun: f64, r_d_kpc: f64, z_d_kpc: f64, r_kpc: f64) -> f64 {
    let sigma0 = mass_msun / (2.0 * PI * r_d_kpc * r_d_kpc);
    if r_kpc <= 0.0 {
        return sigma0 / (2.0 * z_d_kpc);
    }
    let mu_max = (40.0 * z_d_kpc / r_kpc).min(1.0);
    let (a, b) = (r_kpc / r_d_kpc, 2.0 * r_kpc / z_d_kpc);
    let f = |mu: f64| {
        let e = (-b * mu).exp();
        let sech2 = 4.0 * e / ((1.0 + e) * (1.0 + e));
        (-a * (1.0 - mu * mu).max(0.0).sqrt()).exp() * sech2
    };
    sigma0 * simpson(f, 0.0, mu_max, 256) / (2.0 * z_d_kpc)
}

/// Positions of an exponential (Gamma(2, R_d) in R), sech^2 (z = z_d atanh(2u - 1)) layer and Gaussian velocities
/// about the moments `(vbar_phi, sigma_R, sigma_phi, sigma_z)` that `moments(R)` returns.
fn sample_layer(
    n: usize,
    r_d_kpc: f64,
    z_d_kpc: f64,
    seed: u64,
    moments: impl Fn(f64) -> (f64, f64, f64, f64),
) -> Result<(Array2<f64>, Array2<f64>), SynthError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let radius = Gamma::new(2.0, r_d_kpc)
        .map_err(|e| SynthError::InvalidParameter { name: "r_d_kpc", reason: e.to_string() })?;
    let mut pos = Array2::zeros((n, 3));
    let mut vel = Array2::zeros((n, 3));
    for i in 0..n {
        let r: f64 = radius.sample(&mut rng);
        let phi: f64 = rng.random_range(0.0..std::f64::consts::TAU);
        let u: f64 = rng.random_range(1e-12..1.0 - 1e-12);
        let z = z_d_kpc * (2.0 * u - 1.0).atanh();
        let (v_phi_mean, sigma_r, sigma_phi, sigma_z) = moments(r);
        let g = |rng: &mut ChaCha8Rng| -> f64 { StandardNormal.sample(rng) };
        let (v_r, v_phi, v_z) = (sigma_r * g(&mut rng), v_phi_mean + sigma_phi * g(&mut rng), sigma_z * g(&mut rng));
        let (c, s) = (phi.cos(), phi.sin());
        pos[[i, 0]] = r * c;
        pos[[i, 1]] = r * s;
        pos[[i, 2]] = z;
        vel[[i, 0]] = v_r * c - v_phi * s;
        vel[[i, 1]] = v_r * s + v_phi * c;
        vel[[i, 2]] = v_z;
    }
    Ok((pos, vel))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profiles::{Nfw, SphericalProfile};
    use galmass_core::kinematics::aligned_frame_and_kappa_co;
    use galmass_core::Particles;

    #[test]
    fn mean_rotation_is_vc_minus_the_documented_asymmetric_drift() {
        let disc = ExponentialDisc { mass_msun: 5e10, r_d_kpc: 3.0, z_d_kpc: 0.3, sigma_r_at_rd_kms: 40.0 };
        let halo = Nfw { rho_s_msun_kpc3: 8e6, r_s_kpc: 20.0 };
        let v_c = move |r: f64| (G * (halo.enclosed_mass_msun(r) + disc.enclosed_mass_msun(r)) / r).sqrt();
        let n = 200_000;
        let (pos, vel) = disc.sample(n, &v_c, 5).unwrap();
        let mut rows: Vec<(f64, f64, f64)> = (0..n)
            .map(|i| {
                let (x, y) = (pos[[i, 0]], pos[[i, 1]]);
                let r = x.hypot(y);
                (r, (x * vel[[i, 1]] - y * vel[[i, 0]]) / r, (x * vel[[i, 0]] + y * vel[[i, 1]]) / r)
            })
            .collect();
        rows.sort_by(|a, b| a.0.total_cmp(&b.0));
        for bin in rows.chunks(20_000) {
            let m = bin.len() as f64;
            let r = bin[bin.len() / 2].0;
            let v_phi = bin.iter().map(|x| x.1).sum::<f64>() / m;
            let expected = bin.iter().map(|x| disc.moments(x.0, &v_c).v_phi_mean_kms).sum::<f64>() / m;
            let sigma_r = (bin.iter().map(|x| x.2 * x.2).sum::<f64>() / m).sqrt();
            let expected_sigma_r =
                (bin.iter().map(|x| disc.moments(x.0, &v_c).sigma_r_kms.powi(2)).sum::<f64>() / m).sqrt();
            assert!((v_phi / expected - 1.0).abs() < 0.05, "R = {r:.2}: <v_phi> {v_phi:.2} vs {expected:.2}");
            assert!(
                (sigma_r / expected_sigma_r - 1.0).abs() < 0.05,
                "R = {r:.2}: sigma_R {sigma_r:.2} vs {expected_sigma_r:.2}"
            );
            // The drift is real: the mean rotation lags the circular velocity.
            assert!(v_phi < v_c(r));
        }
        // A cold disc is rotation supported.
        let stars = Particles::new(pos, vel, ndarray::Array1::from_elem(n, 5e10 / n as f64)).unwrap();
        let (_, kappa) = aligned_frame_and_kappa_co(&stars).unwrap();
        assert!(kappa > 0.6, "{kappa}");
    }

    #[test]
    fn monopole_holds_the_disc_mass_counted_in_spheres() {
        let disc = ExponentialDisc { mass_msun: 1e10, r_d_kpc: 2.0, z_d_kpc: 0.4, sigma_r_at_rd_kms: 20.0 };
        let sph = disc.spherical_profile().unwrap();
        assert!((sph.total_mass_msun() / 1e10 - 1.0).abs() < 2e-3, "{}", sph.total_mass_msun());
        let n = 100_000;
        let (pos, _) = disc.sample(n, &|_| 100.0, 9).unwrap();
        for r in [0.2, 0.5, 1.0, 2.0, 4.0, 8.0] {
            let counted = (0..n)
                .filter(|&i| (pos[[i, 0]].powi(2) + pos[[i, 1]].powi(2) + pos[[i, 2]].powi(2)).sqrt() < r)
                .count() as f64
                / n as f64;
            let frac = sph.enclosed_mass_msun(r) / 1e10;
            assert!(
                (counted - frac).abs() < 4.0 * (frac * (1.0 - frac) / n as f64).sqrt() + 1e-3,
                "r = {r}: {counted} vs {frac}"
            );
        }
        // Thick at small r (a sphere inside the layer holds less than the cylinder), thin far out.
        assert!(sph.enclosed_mass_msun(0.2) < disc.enclosed_mass_msun(0.2));
        assert!((sph.enclosed_mass_msun(12.0) / disc.enclosed_mass_msun(12.0) - 1.0).abs() < 0.01);
    }

    #[test]
    fn gas_rotates_at_vc_less_pressure_support_with_its_dispersion() {
        let gas = GasDisc { mass_msun: 1e9, r_d_kpc: 3.0, z_d_kpc: 0.2, sigma_kms: 10.0 };
        let v_c = |r: f64| 60.0 * (r / (r + 1.0)).sqrt();
        let n = 100_000;
        let (pos, vel) = gas.sample(n, &v_c, 2).unwrap();
        let mut rows: Vec<(f64, f64, f64)> = (0..n)
            .map(|i| {
                let (x, y) = (pos[[i, 0]], pos[[i, 1]]);
                let r = x.hypot(y);
                (r, (x * vel[[i, 1]] - y * vel[[i, 0]]) / r, vel[[i, 2]])
            })
            .collect();
        rows.sort_by(|a, b| a.0.total_cmp(&b.0));
        for bin in rows.chunks(10_000).take(9) {
            let m = bin.len() as f64;
            let v_phi = bin.iter().map(|x| x.1).sum::<f64>() / m;
            let expected = bin.iter().map(|x| gas.mean_rotation_kms(x.0, &v_c)).sum::<f64>() / m;
            let sigma_z = (bin.iter().map(|x| x.2 * x.2).sum::<f64>() / m).sqrt();
            assert!((v_phi / expected - 1.0).abs() < 0.05, "{v_phi} vs {expected}");
            assert!((sigma_z / 10.0 - 1.0).abs() < 0.05, "{sigma_z}");
        }
        assert!(matches!(
            GasDisc { sigma_kms: -1.0, ..gas }.sample(10, &v_c, 0),
            Err(SynthError::InvalidParameter { name: "sigma_kms", .. })
        ));
        // The density integrates over z to the surface density.
        for r in [0.5, 3.0, 9.0] {
            let dz = 1e-3;
            let column: f64 = (-4000..4000).map(|i| gas.density_msun_kpc3(r, (i as f64 + 0.5) * dz) * dz).sum();
            assert!((column / gas.surface_density(r) - 1.0).abs() < 1e-6, "{column}");
        }
    }

    #[test]
    fn bad_parameters_are_errors() {
        let v_c = |_: f64| 100.0;
        let invalid = |r: Result<(Array2<f64>, Array2<f64>), SynthError>, name: &str| {
            assert!(matches!(r, Err(SynthError::InvalidParameter { name: n, .. }) if n == name), "{name}: {r:?}");
        };
        let disc = ExponentialDisc { mass_msun: 1e9, r_d_kpc: -1.0, z_d_kpc: 0.1, sigma_r_at_rd_kms: 10.0 };
        invalid(disc.sample(10, &v_c, 0), "r_d_kpc");
        assert!(matches!(disc.spherical_profile(), Err(SynthError::InvalidParameter { name: "r_d_kpc", .. })));
        let disc = ExponentialDisc { mass_msun: 1e9, r_d_kpc: 1.0, z_d_kpc: 0.1, sigma_r_at_rd_kms: f64::NAN };
        invalid(disc.sample(10, &v_c, 0), "sigma_r_at_rd_kms");
        let gas = GasDisc { mass_msun: f64::NAN, r_d_kpc: 1.0, z_d_kpc: 0.1, sigma_kms: 10.0 };
        invalid(gas.sample(10, &v_c, 0), "mass_msun");
    }
}
