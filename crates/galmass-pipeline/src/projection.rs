//! One projection of one galaxy file: the galaxy read, its stars (optionally a seeded subsample) projected along a
//! line of sight, and its true mass profile (the file's truth group, or counted from its particles when it has
//! none, on demand). Shared by the estimators and the maps, so that both see the same stars.
//!
//! ```no_run
//! use galmass_pipeline::projection::{load_projection, ProjectionRequest};
//! let p = load_projection("galaxy.h5".as_ref(), &ProjectionRequest::new([0.0, 0.0, 1.0])).unwrap();
//! println!("{} stars, truth from {}", p.stars.len(), p.truth().unwrap().source.to_attribute());
//! ```

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use galmass_core::galaxy::{log_spaced_radii, TruthProfiles};
use galmass_core::projection::{subsample_indices, ProjectedStars};
use galmass_core::{Galaxy, LineOfSight};
use galmass_snapshot::galaxy_file;

use crate::PipelineError;

/// Radii (kpc) of the truth profile counted from particles when a galaxy file has no truth group: 400 log-spaced
/// radii from 1 pc to 10 Mpc, wide enough for any estimator radius.
pub const COUNTED_TRUTH_RADII_KPC: (f64, f64, usize) = (1e-3, 1e4, 400);

/// Which projection to make of a galaxy file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProjectionRequest {
    /// Line of sight in the box frame, from the observer to the galaxy (normalised for you).
    pub los: [f64; 3],
    /// A seeded random subsample of this many stars (`None`: every star).
    pub n_stars: Option<usize>,
    /// Seed of the subsample.
    pub seed: u64,
}

impl ProjectionRequest {
    /// Every star, along `los`, seed 0.
    pub fn new(los: [f64; 3]) -> Self {
        Self { los, n_stars: None, seed: 0 }
    }
}

/// A galaxy file and one projection of its stars.
#[derive(Debug, Clone)]
pub struct Projection {
    /// The galaxy file read.
    pub path: PathBuf,
    /// The galaxy.
    pub galaxy: Galaxy,
    /// The normalised line of sight.
    pub los: LineOfSight,
    /// The projected (sub)sample of stars.
    pub stars: ProjectedStars,
}

impl Projection {
    /// The true mass profile: the galaxy file's truth group, or, for a file without one, the profile counted from
    /// its particles (computed on each call: only the estimators need it, never the maps).
    pub fn truth(&self) -> Result<Cow<'_, TruthProfiles>, PipelineError> {
        match &self.galaxy.truth {
            Some(t) => Ok(Cow::Borrowed(t)),
            None => {
                tracing::info!(
                    "{} has no truth group: counting enclosed masses from its particles",
                    self.path.display()
                );
                Ok(Cow::Owned(counted_truth(&self.galaxy)?))
            }
        }
    }

    /// Whether [`Projection::truth`] is counted from particles (the file has no truth group).
    pub fn truth_counted(&self) -> bool {
        self.galaxy.truth.is_none()
    }
}

/// The truth profile counted from all particles of `galaxy` (for files without a truth group).
pub fn counted_truth(galaxy: &Galaxy) -> Result<TruthProfiles, PipelineError> {
    let (lo, hi, n) = COUNTED_TRUTH_RADII_KPC;
    Ok(TruthProfiles::from_particles(galaxy, log_spaced_radii(lo, hi, n)?, "all particles in the galaxy file")?)
}

/// Reads the galaxy file at `path` and projects its stars as `request` says. `purpose` completes the error
/// "no stars to ..." (e.g. "estimate from", "map").
pub fn load_projection_for(
    path: &Path,
    request: &ProjectionRequest,
    purpose: &str,
) -> Result<Projection, PipelineError> {
    let galaxy = galaxy_file::read(path)?;
    let stars = galaxy.stars().map_err(|e| PipelineError::BadFile {
        path: path.to_owned(),
        field: "stars".into(),
        reason: format!("no stars to {purpose} ({e})"),
    })?;
    let los = LineOfSight::new(request.los)
        .map_err(|e| PipelineError::invalid("line of sight", format!("{:?}: {e}", request.los)))?;
    let indices = request.n_stars.map(|n| subsample_indices(stars.len(), n, request.seed));
    let projected = ProjectedStars::new(stars, &los, indices.as_deref())?;
    Ok(Projection { path: path.to_owned(), galaxy, los, stars: projected })
}

/// [`load_projection_for`] with the generic purpose "project".
pub fn load_projection(path: &Path, request: &ProjectionRequest) -> Result<Projection, PipelineError> {
    load_projection_for(path, request, "project")
}
