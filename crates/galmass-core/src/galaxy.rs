//! The [`Galaxy`]: one simulated galaxy with its particles, metadata and true mass profile, and the layout of the
//! galaxy file that carries it between stages.
//!
//! # The galaxy file (format `galmass-galaxy`, version 1)
//! An HDF5 file; the reader and writer live in `galmass-snapshot::galaxy_file`. Any tool that writes this layout
//! (h5py included) produces a file galmass reads.
//!
//! Root attributes:
//!
//! | attribute | type | meaning |
//! |---|---|---|
//! | `format` | string | always `galmass-galaxy` |
//! | `version` | integer | layout version, currently 1 |
//! | `suite` | string | the suite the galaxy comes from (`nihao-like`, `tng100`, ...) |
//! | `galaxy_id` | integer | identifier within the suite |
//! | `redshift` | float | redshift of the snapshot |
//! | `source` | string | where the particles come from (snapshot path, or the synthetic generator and seed) |
//! | `source_halo_id` | integer | halo or subhalo id in `source`; -1 when not applicable |
//! | `rotation_to_aligned` | float (3, 3) | rotation from the box frame to the frame whose z axis is the stellar angular momentum (row-major, acts on column vectors) |
//!
//! Groups `stars`, `gas`, `dm`, `bh`, each optional. Each holds `pos` (N, 3) kpc, `vel` (N, 3) km/s and `mass` (N)
//! Msun, physical units, centred on the galaxy, in the box orientation; and optionally `id` (N, unsigned integer),
//! `age_gyr`, `metallicity` (metal mass fraction), `hi_mass` (Msun), `temperature_k`, `smoothing_length_kpc` (radius
//! of compact support of the kernel), `sfr` (Msun/yr), `density` (Msun/kpc^3), `potential` ((km/s)^2), `high_res`
//! (N, bool; h5py's enum of int8, or any integer type, 0 = false) and `lum_<band>` (N, Lsun in that band, with float
//! attribute `solar_abs_mag_ab`). Every dataset carries a string attribute `units`. Missing optional fields are
//! absent, never zero-filled; readers accept float32 or float64.
//!
//! Group `truth` (optional): `radii_kpc` (M >= 200, log-spaced, increasing), `mass_<species>_msun` (M) for each
//! species present (cumulative mass within the 3D sphere of each radius) and `mass_total_msun` (M); float attributes
//! `half_mass_radius_<species>_kpc` and `half_mass_radius_total_kpc`; string attribute `source` saying where the
//! profiles come from (see [`TruthSource`]); optionally further float attributes holding true scalars of the galaxy
//! (the synthetic suites write `kappa_co`, `bulge_fraction`, `r_e_kpc`, `m200_msun`, `c200`, `hi_mass_msun`,
//! `dm_inner_slope`, `central`), listed by name, comma-separated, in the string attribute `scalar_names`.
//!
//! ```
//! use galmass_core::galaxy::{Galaxy, GalaxyMeta, TruthProfiles, TruthSource, log_spaced_radii};
//! use galmass_core::particles::{Particles, Species};
//! use ndarray::{array, Array2};
//! let stars = Particles::new(array![[1.0, 0.0, 0.0], [0.0, 3.0, 0.0]], Array2::zeros((2, 3)), array![1.0, 1.0]).unwrap();
//! let mut galaxy = Galaxy::new(GalaxyMeta::new("example", 0));
//! galaxy.set_species(Species::Stars, stars);
//! let radii = log_spaced_radii(0.1, 10.0, 200).unwrap();
//! let truth = TruthProfiles::from_particles(&galaxy, radii, "all particles of the galaxy").unwrap();
//! assert_eq!(truth.enclosed_mass_msun(None, 2.0).unwrap(), 1.0);
//! galaxy.truth = Some(truth);
//! ```

use std::collections::BTreeMap;

use ndarray::Array1;
use serde::{Deserialize, Serialize};

use crate::error::CoreError;
use crate::geometry::Rotation;
use crate::particles::{Particles, Species};

/// The value of the root `format` attribute.
pub const GALAXY_FORMAT: &str = "galmass-galaxy";
/// The layout version written by this crate.
pub const GALAXY_FORMAT_VERSION: u32 = 1;
/// Minimum number of radii in a truth profile.
pub const MIN_TRUTH_RADII: usize = 200;

/// Metadata of one galaxy (the root attributes of its file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GalaxyMeta {
    /// Suite name.
    pub suite: String,
    /// Identifier within the suite.
    pub galaxy_id: i64,
    /// Snapshot redshift.
    pub redshift: f64,
    /// Where the particles come from.
    pub source: String,
    /// Halo or subhalo id within `source`, when there is one.
    pub source_halo_id: Option<i64>,
    /// Box frame to stellar-angular-momentum frame.
    pub rotation_to_aligned: Rotation,
}

impl GalaxyMeta {
    /// Metadata with redshift 0, no source and the identity rotation.
    pub fn new(suite: &str, galaxy_id: i64) -> Self {
        Self {
            suite: suite.to_owned(),
            galaxy_id,
            redshift: 0.0,
            source: String::new(),
            source_halo_id: None,
            rotation_to_aligned: Rotation::identity(),
        }
    }
}

/// A galaxy: particles per species, metadata and (optionally) its true mass profiles.
#[derive(Debug, Clone, PartialEq)]
pub struct Galaxy {
    /// Root attributes.
    pub meta: GalaxyMeta,
    species: BTreeMap<Species, Particles>,
    /// True cumulative mass profiles, when known.
    pub truth: Option<TruthProfiles>,
}

impl Galaxy {
    /// A galaxy with no particles yet.
    pub fn new(meta: GalaxyMeta) -> Self {
        Self { meta, species: BTreeMap::new(), truth: None }
    }

    /// Sets (or replaces) the particles of one species.
    pub fn set_species(&mut self, species: Species, particles: Particles) {
        self.species.insert(species, particles);
    }

    /// The particles of a species, when present.
    pub fn species(&self, species: Species) -> Option<&Particles> {
        self.species.get(&species)
    }

    /// The particles of a species, or [`CoreError::MissingSpecies`].
    pub fn require(&self, species: Species) -> Result<&Particles, CoreError> {
        self.species(species).ok_or(CoreError::MissingSpecies(species))
    }

    /// The stars, or [`CoreError::MissingSpecies`].
    pub fn stars(&self) -> Result<&Particles, CoreError> {
        self.require(Species::Stars)
    }

    /// Species present, in galaxy-file order, with their particles.
    pub fn all_species(&self) -> impl Iterator<Item = (Species, &Particles)> {
        self.species.iter().map(|(s, p)| (*s, p))
    }
}

/// Where a truth profile comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TruthSource {
    /// An analytic model (named, e.g. `plummer+nfw`).
    Analytic(String),
    /// Counted from particles; the string says which (e.g. `subhalo members`, `all particles within the sphere`).
    Particles(String),
}

impl TruthSource {
    /// The `source` attribute string: `analytic: <model>` or `particles: <selection>`.
    pub fn to_attribute(&self) -> String {
        match self {
            TruthSource::Analytic(m) => format!("analytic: {m}"),
            TruthSource::Particles(s) => format!("particles: {s}"),
        }
    }

    /// Parses a `source` attribute; anything without a known prefix is kept as a particle selection.
    pub fn from_attribute(text: &str) -> Self {
        if let Some(m) = text.strip_prefix("analytic:") {
            TruthSource::Analytic(m.trim().to_owned())
        } else {
            TruthSource::Particles(text.strip_prefix("particles:").unwrap_or(text).trim().to_owned())
        }
    }
}

/// Dense cumulative mass profiles per species, and half-mass radii.
#[derive(Debug, Clone, PartialEq)]
pub struct TruthProfiles {
    radii_kpc: Array1<f64>,
    cumulative_msun: BTreeMap<Species, Array1<f64>>,
    half_mass_radius_kpc: BTreeMap<Species, f64>,
    half_mass_radius_total_kpc: f64,
    scalars: BTreeMap<String, f64>,
    /// Where the profiles come from.
    pub source: TruthSource,
}

/// `n` radii log-spaced from `r_min_kpc` to `r_max_kpc` inclusive.
pub fn log_spaced_radii(r_min_kpc: f64, r_max_kpc: f64, n: usize) -> Result<Array1<f64>, CoreError> {
    if !(r_min_kpc > 0.0 && r_max_kpc > r_min_kpc && r_max_kpc.is_finite()) || n < 2 {
        return Err(CoreError::invalid(
            "radii",
            format!("need 0 < r_min < r_max and n >= 2, got {r_min_kpc}, {r_max_kpc}, {n}"),
        ));
    }
    let (a, b) = (r_min_kpc.ln(), r_max_kpc.ln());
    Ok((0..n).map(|i| (a + (b - a) * i as f64 / (n - 1) as f64).exp()).collect())
}

impl TruthProfiles {
    /// Builds profiles from arrays, checking lengths, monotonicity and the minimum number of radii.
    pub fn new(
        radii_kpc: Array1<f64>,
        cumulative_msun: BTreeMap<Species, Array1<f64>>,
        half_mass_radius_kpc: BTreeMap<Species, f64>,
        half_mass_radius_total_kpc: f64,
        source: TruthSource,
    ) -> Result<Self, CoreError> {
        let m = radii_kpc.len();
        if m < MIN_TRUTH_RADII {
            return Err(CoreError::Shape {
                field: "truth/radii_kpc".into(),
                expected: format!("at least {MIN_TRUTH_RADII} radii"),
                got: format!("{m}"),
            });
        }
        let increasing = radii_kpc.windows(2).into_iter().all(|w| w[1] > w[0]);
        if radii_kpc[0].is_nan() || radii_kpc[0] <= 0.0 || !increasing || !radii_kpc[m - 1].is_finite() {
            return Err(CoreError::Shape {
                field: "truth/radii_kpc".into(),
                expected: "positive, strictly increasing, finite radii".into(),
                got: "a radius out of order or non-finite".into(),
            });
        }
        for (s, prof) in &cumulative_msun {
            let field = format!("truth/mass_{s}_msun");
            if prof.len() != m {
                return Err(CoreError::Shape {
                    field,
                    expected: format!("length {m}"),
                    got: format!("length {}", prof.len()),
                });
            }
            if let Some((index, &value)) = prof.iter().enumerate().find(|(_, v)| !v.is_finite() || **v < 0.0) {
                return Err(CoreError::NonFinite { field, index, value });
            }
        }
        Ok(Self {
            radii_kpc,
            cumulative_msun,
            half_mass_radius_kpc,
            half_mass_radius_total_kpc,
            scalars: BTreeMap::new(),
            source,
        })
    }

    /// Counts the mass of every species present within each radius (3D spheres about the origin) and the half-mass
    /// radii; `selection` says which particles these are (recorded in [`TruthSource::Particles`]).
    pub fn from_particles(galaxy: &Galaxy, radii_kpc: Array1<f64>, selection: &str) -> Result<Self, CoreError> {
        let mut cumulative = BTreeMap::new();
        let mut half = BTreeMap::new();
        let mut all: Vec<(f64, f64)> = Vec::new();
        for (species, particles) in galaxy.all_species() {
            let mut rm: Vec<(f64, f64)> =
                particles.radii_kpc().iter().copied().zip(particles.mass_msun().iter().copied()).collect();
            rm.sort_by(|a, b| a.0.total_cmp(&b.0));
            cumulative.insert(species, cumulative_at(&rm, &radii_kpc));
            if let Some(r) = half_mass_radius(&rm) {
                half.insert(species, r);
            }
            all.extend(rm);
        }
        all.sort_by(|a, b| a.0.total_cmp(&b.0));
        let half_total = half_mass_radius(&all).unwrap_or(f64::NAN);
        Self::new(radii_kpc, cumulative, half, half_total, TruthSource::Particles(selection.to_owned()))
    }

    /// Records a true scalar of the galaxy (kappa_co, B/T, ...). Names are lowercase identifiers (`[a-z0-9_]`, not
    /// starting with `half_mass_radius_`); values may be any float except NaN.
    pub fn set_scalar(&mut self, name: &str, value: f64) -> Result<(), CoreError> {
        let valid_name = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && !name.starts_with("half_mass_radius_")
            && !matches!(name, "source" | "scalar_names");
        if !valid_name {
            return Err(CoreError::invalid(
                "truth scalar",
                format!("`{name}` is not a lowercase identifier free for a truth attribute"),
            ));
        }
        if value.is_nan() {
            return Err(CoreError::NonFinite { field: format!("truth/{name}"), index: 0, value });
        }
        self.scalars.insert(name.to_owned(), value);
        Ok(())
    }

    /// A true scalar recorded with [`TruthProfiles::set_scalar`].
    pub fn scalar(&self, name: &str) -> Option<f64> {
        self.scalars.get(name).copied()
    }

    /// Every true scalar, by name.
    pub fn scalars(&self) -> impl Iterator<Item = (&str, f64)> {
        self.scalars.iter().map(|(k, v)| (k.as_str(), *v))
    }

    /// The radii in kpc.
    pub fn radii_kpc(&self) -> &Array1<f64> {
        &self.radii_kpc
    }

    /// The cumulative profile of one species, when present.
    pub fn cumulative_msun(&self, species: Species) -> Option<&Array1<f64>> {
        self.cumulative_msun.get(&species)
    }

    /// Species with a profile.
    pub fn species(&self) -> impl Iterator<Item = Species> + '_ {
        self.cumulative_msun.keys().copied()
    }

    /// The total cumulative profile (sum over species).
    pub fn total_msun(&self) -> Array1<f64> {
        let mut total = Array1::zeros(self.radii_kpc.len());
        for prof in self.cumulative_msun.values() {
            total += prof;
        }
        total
    }

    /// Half-mass radius of a species (or of all mass, `None`) in kpc, when defined.
    pub fn half_mass_radius_kpc(&self, species: Option<Species>) -> Option<f64> {
        match species {
            Some(s) => self.half_mass_radius_kpc.get(&s).copied(),
            None => Some(self.half_mass_radius_total_kpc).filter(|r| r.is_finite()),
        }
    }

    /// True mass within the sphere of radius `r_kpc`, for one species or all (`None`), interpolated linearly in
    /// log M - log r between tabulated radii (linearly where a bracketing mass is zero). Radii outside the table
    /// are an error, not an extrapolation.
    pub fn enclosed_mass_msun(&self, species: Option<Species>, r_kpc: f64) -> Result<f64, CoreError> {
        let profile = match species {
            Some(s) => self.cumulative_msun.get(&s).cloned().ok_or(CoreError::MissingSpecies(s))?,
            None => self.total_msun(),
        };
        let radii = &self.radii_kpc;
        let (first, last) = (radii[0], radii[radii.len() - 1]);
        if !(first..=last).contains(&r_kpc) {
            return Err(CoreError::invalid(
                "r_kpc",
                format!("{r_kpc} kpc is outside the truth table {first}..{last} kpc"),
            ));
        }
        let hi = radii.iter().position(|&r| r >= r_kpc).unwrap_or(radii.len() - 1).max(1);
        let lo = hi - 1;
        let (r0, r1, m0, m1) = (radii[lo], radii[hi], profile[lo], profile[hi]);
        if m0 > 0.0 && m1 > 0.0 {
            let t = (r_kpc / r0).ln() / (r1 / r0).ln();
            Ok((m0.ln() + t * (m1 / m0).ln()).exp())
        } else {
            Ok(m0 + (r_kpc - r0) / (r1 - r0) * (m1 - m0))
        }
    }
}

/// Cumulative mass within each radius (strictly inside), from (radius, mass) pairs sorted by radius.
fn cumulative_at(sorted: &[(f64, f64)], radii: &Array1<f64>) -> Array1<f64> {
    let mut out = Array1::zeros(radii.len());
    let (mut j, mut acc) = (0, 0.0);
    for (k, &r) in radii.iter().enumerate() {
        while j < sorted.len() && sorted[j].0 < r {
            acc += sorted[j].1;
            j += 1;
        }
        out[k] = acc;
    }
    out
}

/// Radius enclosing half the mass, interpolating linearly in cumulative mass between particles; `None` when the
/// total mass is zero.
pub(crate) fn half_mass_radius(sorted: &[(f64, f64)]) -> Option<f64> {
    let total: f64 = sorted.iter().map(|p| p.1).sum();
    if total.is_nan() || total <= 0.0 {
        return None;
    }
    let (mut acc, mut prev_r, mut prev_m) = (0.0, 0.0, 0.0);
    for &(r, m) in sorted {
        acc += m;
        if acc >= 0.5 * total {
            let t = if acc > prev_m { (0.5 * total - prev_m) / (acc - prev_m) } else { 1.0 };
            return Some(prev_r + t * (r - prev_r));
        }
        prev_r = r;
        prev_m = acc;
    }
    sorted.last().map(|p| p.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;
    use ndarray::Array2;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn truth_scalars_are_named_identifiers_with_values() {
        let radii = log_spaced_radii(0.1, 10.0, 200).unwrap();
        let mut truth = TruthProfiles::new(
            radii.clone(),
            BTreeMap::from([(Species::Stars, radii.mapv(|r| r))]),
            BTreeMap::new(),
            5.0,
            TruthSource::Analytic("test".into()),
        )
        .unwrap();
        truth.set_scalar("kappa_co", 0.25).unwrap();
        truth.set_scalar("kappa_co", 0.3).unwrap();
        assert_eq!(truth.scalar("kappa_co"), Some(0.3));
        assert_eq!(truth.scalars().count(), 1);
        for bad in ["", "Kappa", "half_mass_radius_stars_kpc", "source", "scalar_names", "a,b", "x y"] {
            assert!(matches!(truth.set_scalar(bad, 1.0), Err(CoreError::InvalidParameter { .. })), "{bad:?} accepted");
        }
        assert!(matches!(
            truth.set_scalar("central", f64::NAN),
            Err(CoreError::NonFinite { .. } | CoreError::InvalidParameter { .. })
        ));
        assert_eq!(truth.scalar("missing"), None);
    }

    /// Hernquist sphere of mass `m` and scale `a`: M(<r) = m r^2 / (r + a)^2, half-mass radius (1 + sqrt 2) a.
    fn hernquist(n: usize, m: f64, a: f64, seed: u64) -> Particles {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut pos = Array2::zeros((n, 3));
        for i in 0..n {
            let u: f64 = rng.random_range(1e-12..1.0);
            let r = a * u.sqrt() / (1.0 - u.sqrt());
            let z: f64 = rng.random_range(-1.0..=1.0);
            let phi: f64 = rng.random_range(0.0..std::f64::consts::TAU);
            let s = (1.0 - z * z).sqrt();
            pos[[i, 0]] = r * s * phi.cos();
            pos[[i, 1]] = r * s * phi.sin();
            pos[[i, 2]] = r * z;
        }
        Particles::new(pos, Array2::zeros((n, 3)), Array1::from_elem(n, m / n as f64)).unwrap()
    }

    #[test]
    fn particle_truth_matches_hernquist_within_poisson_error() {
        let (n, m, a) = (50_000, 1e10, 2.0);
        let mut g = Galaxy::new(GalaxyMeta::new("test", 1));
        g.set_species(Species::Dm, hernquist(n, m, a, 3));
        let radii = log_spaced_radii(0.05, 500.0, 256).unwrap();
        let truth = TruthProfiles::from_particles(&g, radii, "all").unwrap();
        for r in [0.5, 1.0, 2.0, 5.0, 20.0] {
            let exact = m * r * r / ((r + a) * (r + a));
            let f = exact / m;
            let poisson = m * (f * (1.0 - f) / n as f64).sqrt();
            let got = truth.enclosed_mass_msun(Some(Species::Dm), r).unwrap();
            // Interpolation error on 256 log radii is far below the Poisson error at these radii.
            assert!((got - exact).abs() < 4.0 * poisson + 2e-3 * exact, "r = {r}: {got} vs {exact}");
        }
        let r_half = truth.half_mass_radius_kpc(Some(Species::Dm)).unwrap();
        assert_relative_eq!(r_half, (1.0 + 2f64.sqrt()) * a, max_relative = 0.03);
        assert!(matches!(truth.enclosed_mass_msun(None, 1e4), Err(CoreError::InvalidParameter { .. })));
        assert!(matches!(
            truth.enclosed_mass_msun(Some(Species::Gas), 1.0),
            Err(CoreError::MissingSpecies(Species::Gas))
        ));
    }

    #[test]
    fn too_few_radii_rejected() {
        let radii = log_spaced_radii(0.1, 10.0, 50).unwrap();
        let err = TruthProfiles::new(radii, BTreeMap::new(), BTreeMap::new(), 1.0, TruthSource::Analytic("x".into()));
        assert!(matches!(err, Err(CoreError::Shape { .. } | CoreError::InvalidParameter { .. })), "{err:?}");
        assert!(matches!(log_spaced_radii(0.0, 1.0, 10), Err(CoreError::InvalidParameter { .. })));
    }

    #[test]
    fn truth_source_attribute_round_trips() {
        for s in [TruthSource::Analytic("plummer+nfw".into()), TruthSource::Particles("subhalo members".into())] {
            assert_eq!(TruthSource::from_attribute(&s.to_attribute()), s);
        }
    }
}
