//! Test helpers: synthetic galaxies written as galaxy files.

use std::path::{Path, PathBuf};

use galmass_core::params::Params;
use galmass_core::Galaxy;
use galmass_synth::suite::{build_galaxy, SuiteParams};

/// Galaxy `index` (seed `seed`) of preset `suite` with the given particle counts.
pub(crate) fn synth_galaxy(suite: &str, counts: (usize, usize, Option<usize>), index: u64, seed: u64) -> Galaxy {
    let mut params = SuiteParams::preset(suite).unwrap();
    params.particles.set_counts(Some(counts.0), Some(counts.1), counts.2);
    build_galaxy(&params.check().unwrap(), index, seed).unwrap().galaxy
}

/// Writes `galaxy` as `dir/name` and returns the path.
pub(crate) fn write_galaxy(dir: &Path, name: &str, galaxy: &Galaxy) -> PathBuf {
    let path = dir.join(name);
    galmass_snapshot::galaxy_file::write(&path, galaxy).unwrap();
    path
}
