//! Dispersion-supported spheroidal galaxies in dark haloes: the first synthetic suite (`spheroids`), built from the
//! halo model and the distribution-function sampler. Discs, HI gas, stellar populations and the four
//! simulation-like suites of the synthetic-suites issue build on the same pieces later.
//!
//! For galaxy `index` of a suite with seed `seed` (every draw from its own ChaCha8 stream, so galaxies can be built
//! in any order and resumed):
//! 1. log10 M200 uniform in `log_m200_range`; c200 from Dutton & Maccio 2014 with `concentration_scatter_dex`;
//! 2. M* from Moster, Naab & White 2013 with `stellar_mass_scatter_dex` (their 0.15 dex);
//! 3. projected half-mass radius `R_e = re_at_1e8_kpc (M*/1e8)^re_slope` with `re_scatter_dex`;
//! 4. the halo: truncated NFW, or DC14 with X = log10(M*/M200) (`halo = "dc14"`), normalised to M200 within r200;
//! 5. stars (Plummer with a = R_e, or Hernquist with a = R_e / 1.8153) with constant beta drawn uniformly in
//!    `beta_range`, and dark matter (isotropic), both sampled from their distribution functions in the total potential;
//! 6. the truth: analytic cumulative mass of stars and dark matter on 256 log-spaced radii, half-mass radii.
//!
//! ```
//! use galmass_synth::spheroid::{SpheroidSuiteParams, build_spheroid};
//! let params = SpheroidSuiteParams { n_stars: 500, n_dm: 2000, ..SpheroidSuiteParams::spheroids() }.check().unwrap();
//! let built = build_spheroid(&params, 0, 42).unwrap();
//! assert_eq!(built.galaxy.stars().unwrap().len(), 500);
//! assert!(built.row.stellar_mass_msun > 0.0);
//! ```

use galmass_core::galaxy::{log_spaced_radii, TruthProfiles, TruthSource};
use galmass_core::{Galaxy, GalaxyMeta, Particles, Species};
use ndarray::Array1;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::df::{DfAnisotropy, SphericalDf};
use crate::error::SynthError;
use crate::halo::{stellar_mass_moster2013, Cosmology, Dc14Shape, HaloModel};
use crate::profiles::{Composite, Hernquist, Plummer, SphericalProfile};
use crate::tabulated::TabulatedProfile;

/// Stellar density profile of the spheroid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StellarProfile {
    /// Plummer (cored).
    Plummer,
    /// Hernquist (cusped).
    Hernquist,
}

/// Dark halo profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HaloProfile {
    /// NFW truncated beyond r200 (Kazantzidis et al. 2004).
    Nfw,
    /// Di Cintio et al. 2014 baryon-modified profile, truncated likewise.
    Dc14,
}

/// Parameters of a spheroid suite (unchecked; see [`SpheroidSuiteParams::check`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpheroidSuiteParams {
    /// Suite name written into every galaxy file.
    pub suite: String,
    /// Range of log10(M200 / Msun), drawn uniformly.
    pub log_m200_range: (f64, f64),
    /// Scatter of log10 c200 about Dutton & Maccio 2014, dex.
    pub concentration_scatter_dex: f64,
    /// Scatter of log10 M* about Moster et al. 2013, dex.
    pub stellar_mass_scatter_dex: f64,
    /// Projected half-mass radius at M* = 1e8 Msun, kpc.
    pub re_at_1e8_kpc: f64,
    /// Slope of log R_e against log M*.
    pub re_slope: f64,
    /// Scatter of log10 R_e, dex.
    pub re_scatter_dex: f64,
    /// Stellar profile.
    pub stellar_profile: StellarProfile,
    /// Range of the constant velocity anisotropy beta, drawn uniformly.
    pub beta_range: (f64, f64),
    /// Halo profile.
    pub halo: HaloProfile,
    /// Star particles per galaxy.
    pub n_stars: usize,
    /// Dark-matter particles per galaxy.
    pub n_dm: usize,
    /// Redshift.
    pub redshift: f64,
}

impl SpheroidSuiteParams {
    /// The `spheroids` suite: dwarf to Milky-Way-mass haloes hosting dispersion-supported Plummer spheroids in
    /// baryon-modified (DC14) haloes, mildly tangential to isotropic. The size relation (R_e = 0.5 kpc at 1e8 Msun,
    /// slope 0.25, 0.15 dex) roughly follows Local Group dwarf spheroidals and is our choice (configs/synth/spheroids.toml).
    pub fn spheroids() -> Self {
        Self {
            suite: "spheroids".into(),
            log_m200_range: (9.5, 11.5),
            concentration_scatter_dex: 0.11,
            stellar_mass_scatter_dex: 0.15,
            re_at_1e8_kpc: 0.5,
            re_slope: 0.25,
            re_scatter_dex: 0.15,
            stellar_profile: StellarProfile::Plummer,
            beta_range: (-0.5, 0.0),
            halo: HaloProfile::Dc14,
            n_stars: 20_000,
            n_dm: 50_000,
            redshift: 0.0,
        }
    }

    /// A preset by suite name.
    pub fn preset(name: &str) -> Option<Self> {
        (name == "spheroids").then(Self::spheroids)
    }

    /// Checks ranges.
    pub fn check(self) -> Result<ValidSpheroidSuiteParams, SynthError> {
        let bad = |name: &'static str, reason: String| Err(SynthError::InvalidParameter { name, reason });
        let (lo, hi) = self.log_m200_range;
        if !(lo.is_finite() && hi.is_finite() && lo <= hi && lo > 6.0 && hi < 16.0) {
            return bad("log_m200_range", format!("{lo}..{hi} is not within 6..16"));
        }
        let (b0, b1) = self.beta_range;
        if !(b0 <= b1 && b0 > -3.0 && b1 < 1.0) {
            return bad("beta_range", format!("{b0}..{b1} must lie in (-3, 1)"));
        }
        if self.stellar_profile == StellarProfile::Plummer && b1 > 0.0 {
            return bad("beta_range", "a cored (Plummer) spheroid has no equilibrium with beta > 0 (An & Evans 2006)".into());
        }
        for (name, v) in [
            ("concentration_scatter_dex", self.concentration_scatter_dex),
            ("stellar_mass_scatter_dex", self.stellar_mass_scatter_dex),
            ("re_scatter_dex", self.re_scatter_dex),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return bad(name, format!("must be finite and non-negative, got {v}"));
            }
        }
        if !(self.re_at_1e8_kpc > 0.0 && self.re_slope.is_finite() && self.redshift >= 0.0) {
            return bad("re_at_1e8_kpc", "size relation and redshift must be positive".into());
        }
        if self.n_stars < 2 || self.n_dm < 2 {
            return bad("n_stars", format!("need at least two particles per species, got {} and {}", self.n_stars, self.n_dm));
        }
        Ok(ValidSpheroidSuiteParams(self))
    }
}

/// Checked [`SpheroidSuiteParams`].
#[derive(Debug, Clone, PartialEq)]
pub struct ValidSpheroidSuiteParams(SpheroidSuiteParams);

impl ValidSpheroidSuiteParams {
    /// The checked values.
    pub fn params(&self) -> &SpheroidSuiteParams {
        &self.0
    }
}

/// One galaxy's line in the suite catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CatalogueRow {
    /// Galaxy id (its index in the suite).
    pub galaxy_id: i64,
    /// Stellar mass, Msun.
    pub stellar_mass_msun: f64,
    /// M200, Msun.
    pub halo_mass_msun: f64,
    /// Projected (2-d) half-mass radius of the stars, kpc.
    pub r_h_kpc: f64,
    /// Velocity anisotropy of the stars.
    pub beta: f64,
    /// Fraction of the stellar kinetic energy in ordered rotation of co-rotating stars (Correa et al. 2017).
    pub kappa_co: f64,
    /// Cold gas mass, Msun (0: the spheroids carry no gas yet).
    pub cold_gas_mass_msun: f64,
}

/// A built galaxy and its catalogue line.
#[derive(Debug, Clone)]
pub struct BuiltGalaxy {
    /// The galaxy, with its truth.
    pub galaxy: Galaxy,
    /// The catalogue line.
    pub row: CatalogueRow,
}

fn stream(seed: u64, index: u64, purpose: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index.wrapping_mul(16).wrapping_add(purpose));
    rng
}

/// Builds galaxy `index` of a suite, deterministically for `seed`.
pub fn build_spheroid(params: &ValidSpheroidSuiteParams, index: u64, seed: u64) -> Result<BuiltGalaxy, SynthError> {
    let p = params.params();
    let cosmo = Cosmology::PLANCK2013;
    let mut rng = stream(seed, index, 0);
    let normal = |rng: &mut ChaCha8Rng| -> f64 { StandardNormal.sample(rng) };
    let log_m200 = rng.random_range(p.log_m200_range.0..=p.log_m200_range.1);
    let m200 = 10f64.powf(log_m200);
    let c200 = cosmo.concentration_dm14(m200, p.redshift) * 10f64.powf(p.concentration_scatter_dex * normal(&mut rng));
    let m_star = stellar_mass_moster2013(m200) * 10f64.powf(p.stellar_mass_scatter_dex * normal(&mut rng));
    let r_e = p.re_at_1e8_kpc * (m_star / 1e8).powf(p.re_slope) * 10f64.powf(p.re_scatter_dex * normal(&mut rng));
    let beta = rng.random_range(p.beta_range.0..=p.beta_range.1);
    let nfw = HaloModel::nfw_from_m200(m200, c200.max(1.5), p.redshift, &cosmo)?;
    let halo = match p.halo {
        HaloProfile::Nfw => TabulatedProfile::truncated_nfw(nfw.nfw, nfw.r200_kpc, 0.1)?,
        HaloProfile::Dc14 => {
            let shape = Dc14Shape::from_log_stellar_to_halo((m_star / m200).log10());
            TabulatedProfile::dc14(shape, m200, nfw.r200_kpc, nfw.nfw.r_s_kpc / shape.concentration_factor)?
        }
    };
    let (stars, star_half_mass_3d): (Box<dyn SphericalProfile>, f64) = match p.stellar_profile {
        StellarProfile::Plummer => (Box::new(Plummer { mass_msun: m_star, a_kpc: r_e }), 1.3048 * r_e),
        StellarProfile::Hernquist => {
            let a = r_e / 1.8153;
            (Box::new(Hernquist { mass_msun: m_star, a_kpc: a }), (1.0 + 2f64.sqrt()) * a)
        }
    };
    let star_profile: &dyn SphericalProfile = stars.as_ref();
    let total = Composite(vec![clone_profile(p.stellar_profile, m_star, r_e), Box::new(halo.clone())]);
    let anisotropy = if beta == 0.0 { DfAnisotropy::Isotropic } else { DfAnisotropy::ConstantBeta { beta } };
    let star_df = SphericalDf::new(star_profile, &total, anisotropy)?;
    let dm_df = SphericalDf::new(&halo, &total, DfAnisotropy::Isotropic)?;
    let (star_pos, star_vel) = star_df.sample(p.n_stars, stream(seed, index, 1).random())?;
    let (dm_pos, dm_vel) = dm_df.sample(p.n_dm, stream(seed, index, 2).random())?;
    let star_particles = Particles::new(star_pos, star_vel, Array1::from_elem(p.n_stars, m_star / p.n_stars as f64))?;
    let dm_particles = Particles::new(dm_pos, dm_vel, Array1::from_elem(p.n_dm, halo.total_mass_msun() / p.n_dm as f64))?;
    let (rotation, kappa_co) = galmass_core::kinematics::aligned_frame_and_kappa_co(&star_particles)?;
    let mut meta = GalaxyMeta::new(&p.suite, index as i64);
    meta.redshift = p.redshift;
    meta.source = format!("galmass-synth {} seed {seed} galaxy {index}", p.suite);
    meta.rotation_to_aligned = rotation;
    let mut galaxy = Galaxy::new(meta);
    galaxy.set_species(Species::Stars, star_particles);
    galaxy.set_species(Species::Dm, dm_particles);
    // Analytic truth from the profiles the particles were drawn from.
    let radii = log_spaced_radii(1e-3 * r_e.min(nfw.nfw.r_s_kpc), 10.0 * nfw.r200_kpc, 256)?;
    let star_mass: Array1<f64> = radii.mapv(|r| star_profile.enclosed_mass_msun(r));
    let dm_mass: Array1<f64> = radii.mapv(|r| halo.enclosed_mass_msun(r));
    let total_mass = |r: f64| star_profile.enclosed_mass_msun(r) + halo.enclosed_mass_msun(r);
    let half = |f: &dyn Fn(f64) -> f64, target: f64| bisect(f, target, radii[0], radii[radii.len() - 1]);
    let dm_half = half(&|r| halo.enclosed_mass_msun(r), 0.5 * halo.total_mass_msun());
    let total_half = half(&total_mass, 0.5 * (m_star + halo.total_mass_msun()));
    let cumulative = BTreeMap::from([(Species::Stars, star_mass), (Species::Dm, dm_mass)]);
    let half_radii = BTreeMap::from([(Species::Stars, star_half_mass_3d), (Species::Dm, dm_half)]);
    let model = format!("{:?} stars (beta {beta:.3}) in a {:?} halo", p.stellar_profile, p.halo).to_lowercase();
    galaxy.truth = Some(TruthProfiles::new(radii, cumulative, half_radii, total_half, TruthSource::Analytic(model))?);
    let row = CatalogueRow {
        galaxy_id: index as i64,
        stellar_mass_msun: m_star,
        halo_mass_msun: m200,
        r_h_kpc: r_e,
        beta,
        kappa_co,
        cold_gas_mass_msun: 0.0,
    };
    Ok(BuiltGalaxy { galaxy, row })
}

fn clone_profile(kind: StellarProfile, m_star: f64, r_e: f64) -> Box<dyn SphericalProfile> {
    match kind {
        StellarProfile::Plummer => Box::new(Plummer { mass_msun: m_star, a_kpc: r_e }),
        StellarProfile::Hernquist => Box::new(Hernquist { mass_msun: m_star, a_kpc: r_e / 1.8153 }),
    }
}

/// Radius where the increasing function `f` reaches `target`, by bisection in ln r.
fn bisect(f: &dyn Fn(f64) -> f64, target: f64, lo: f64, hi: f64) -> f64 {
    let (mut a, mut b) = (lo.ln(), hi.ln());
    for _ in 0..100 {
        let m = 0.5 * (a + b);
        if f(m.exp()) < target {
            a = m;
        } else {
            b = m;
        }
    }
    (0.5 * (a + b)).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn galaxies_are_deterministic_and_carry_consistent_truth() {
        let params = SpheroidSuiteParams { n_stars: 2000, n_dm: 5000, ..SpheroidSuiteParams::spheroids() }.check().unwrap();
        let a = build_spheroid(&params, 3, 11).unwrap();
        let b = build_spheroid(&params, 3, 11).unwrap();
        assert_eq!(a.galaxy, b.galaxy);
        assert_ne!(build_spheroid(&params, 4, 11).unwrap().row, a.row);
        let g = &a.galaxy;
        let truth = g.truth.as_ref().unwrap();
        // Particle masses add up to the analytic totals.
        let star_total = g.stars().unwrap().total_mass_msun();
        assert!((star_total / a.row.stellar_mass_msun - 1.0).abs() < 1e-9);
        let r_big = truth.radii_kpc()[truth.radii_kpc().len() - 1];
        let dm_total = g.species(Species::Dm).unwrap().total_mass_msun();
        assert!((truth.enclosed_mass_msun(Some(Species::Dm), r_big).unwrap() / dm_total - 1.0).abs() < 1e-3);
        // Counted and analytic stellar mass agree within Poisson error at the half-mass radius.
        let r_half = truth.half_mass_radius_kpc(Some(Species::Stars)).unwrap();
        let inside = g.stars().unwrap().radii_kpc().iter().filter(|&&r| r < r_half).count() as f64 / 2000.0;
        assert!((inside - 0.5).abs() < 4.0 * (0.25f64 / 2000.0).sqrt(), "{inside}");
        // Dispersion-supported: kappa_co well below 0.5 (isotropic spheroids sit near 0.17).
        assert!(a.row.kappa_co < 0.3, "{}", a.row.kappa_co);
        // Dark matter dominates the mass within 4/3 R_e of these dwarfs.
        let r = 4.0 / 3.0 * a.row.r_h_kpc;
        assert!(truth.enclosed_mass_msun(Some(Species::Dm), r).unwrap() > truth.enclosed_mass_msun(Some(Species::Stars), r).unwrap());
    }

    #[test]
    fn parameters_are_checked() {
        let base = SpheroidSuiteParams::spheroids();
        assert!(SpheroidSuiteParams { beta_range: (0.0, 0.5), ..base.clone() }.check().is_err());
        assert!(SpheroidSuiteParams { log_m200_range: (12.0, 11.0), ..base.clone() }.check().is_err());
        assert!(SpheroidSuiteParams { n_stars: 1, ..base.clone() }.check().is_err());
        assert!(SpheroidSuiteParams { stellar_profile: StellarProfile::Hernquist, beta_range: (0.0, 0.5), ..base }.check().is_ok());
    }
}
