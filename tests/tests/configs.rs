//! Every file under configs/ parses into the type that reads it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail the test by panicking

use std::collections::BTreeMap;
use std::path::Path;

use galmass_core::geometry::{DirectionSet, Rotation};
use galmass_core::params::Params;

#[test]
fn projection_presets_parse_and_give_the_papers_counts() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/projections.toml");
    let text = std::fs::read_to_string(&path).expect("configs/projections.toml exists");
    let presets: BTreeMap<String, DirectionSet> = toml::from_str(&text).expect("every table is a DirectionSet");
    let counts: BTreeMap<&str, usize> =
        [("sarrato2025", 64), ("exposito2026", 12), ("chu2024", 3), ("delosrios2023", 3)].into();
    assert_eq!(presets.keys().map(String::as_str).collect::<Vec<_>>(), counts.keys().copied().collect::<Vec<_>>());
    for (paper, set) in &presets {
        let lines = set.directions(&Rotation::random(1)).expect("valid direction set");
        assert_eq!(lines.len(), counts[paper.as_str()], "{paper}");
    }
    // Unknown keys are rejected rather than ignored.
    assert!(toml::from_str::<DirectionSet>("kind = \"fibonacci\"\nn = 3\nseed = 1").is_err());
}

#[test]
fn hi_presets_equal_the_pipeline_config() {
    use galmass_mock::hi::params::HiParams;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/maps/hi.toml");
    let text = std::fs::read_to_string(&path).expect("configs/maps/hi.toml exists");
    let configs: BTreeMap<String, HiParams> = toml::from_str(&text).expect("every table is a HiParams");
    assert_eq!(configs.keys().map(String::as_str).collect::<Vec<_>>(), {
        let mut names = HiParams::PRESETS.to_vec();
        names.sort_unstable();
        names
    });
    for (name, params) in &configs {
        assert_eq!(Some(*params), HiParams::preset(name), "{name}: config and preset differ");
        params.check().expect("valid preset");
    }
}

#[test]
fn star_map_presets_equal_the_pipeline_config() {
    use galmass_mock::star_maps::StarMapParams;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/maps/stars.toml");
    let text = std::fs::read_to_string(&path).expect("configs/maps/stars.toml exists");
    let configs: BTreeMap<String, StarMapParams> = toml::from_str(&text).expect("every table is a StarMapParams");
    assert_eq!(configs.keys().map(String::as_str).collect::<Vec<_>>(), {
        let mut names = StarMapParams::PRESETS.to_vec();
        names.sort_unstable();
        names
    });
    for (name, params) in &configs {
        assert_eq!(Some(*params), StarMapParams::preset(name), "{name}: config and preset differ");
        params.check().expect("valid preset");
    }
}

#[test]
fn synth_suite_configs_equal_their_presets() {
    use galmass_synth::suite::{SuiteParams, PRESETS};
    for name in PRESETS {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../configs/synth/{name}.toml"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let params: SuiteParams = toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(Some(params.clone()), SuiteParams::preset(name), "{} differs from the preset", path.display());
        params.check().expect("valid suite");
    }
}

#[test]
fn optical_presets_equal_the_pipeline_configs() {
    use galmass_mock::optical::kinematic::KinematicParams;
    use galmass_mock::optical::sdss::SdssParams;
    use galmass_mock::optical::sph::SphImageParams;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/maps");
    let text = std::fs::read_to_string(dir.join("optical.toml")).expect("configs/maps/optical.toml exists");
    let sdss: BTreeMap<String, SdssParams> = toml::from_str(&text).expect("every table is an SdssParams");
    assert_eq!(sdss.keys().map(String::as_str).collect::<Vec<_>>(), SdssParams::PRESETS.to_vec());
    for (name, params) in &sdss {
        assert_eq!(Some(*params), SdssParams::preset(name), "{name}: config and preset differ");
        params.check().expect("valid preset");
    }
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Sph {
        images: SphImageParams,
        kinematic: KinematicParams,
    }
    let text = std::fs::read_to_string(dir.join("sph.toml")).expect("configs/maps/sph.toml exists");
    let sph: BTreeMap<String, Sph> = toml::from_str(&text).expect("every table holds images and kinematic");
    assert_eq!(sph.keys().map(String::as_str).collect::<Vec<_>>(), SphImageParams::PRESETS.to_vec());
    for (name, s) in &sph {
        assert_eq!(Some(s.images), SphImageParams::preset(name), "{name}: images differ");
        assert_eq!(Some(s.kinematic.clone()), KinematicParams::preset(name), "{name}: kinematic maps differ");
        s.images.check().expect("valid preset");
        s.kinematic.check().expect("valid preset");
    }
}
