//! The dataset configs `configs/<paper>{,-medium,-quick}.toml` (galmass_pipeline::dataset::config::DatasetConfig):
//! each parses and follows its paper, the full configs use the lines of sight of configs/projections.toml, and the
//! CPU-sized variants keep the full config's recipe, changing sizes only, on synthetic suites.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail the test by panicking

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use galmass_core::geometry::DirectionSet;
use galmass_core::params::Params;
use galmass_pipeline::dataset::config::{DatasetConfig, SuiteSource, PAPERS};

/// The size variants of a full config, by file-name suffix.
const VARIANTS: [&str; 2] = ["medium", "quick"];

/// Filters that need a galaxy's catalogue context or high-resolution flags, which synthetic galaxy files lack.
const CATALOGUE_FILTERS: [&str; 4] = ["central", "subhalo-flag", "min-sfr", "high-res-fraction"];

fn configs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs")
}

/// Every `configs/*.toml` with a top-level `paper` key, by file stem.
fn dataset_configs() -> BTreeMap<String, (PathBuf, DatasetConfig)> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(configs_dir()).expect("configs/ exists") {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let table: toml::Table = toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if !table.contains_key("paper") {
            continue;
        }
        let config = DatasetConfig::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let stem = path.file_stem().unwrap().to_str().unwrap().to_owned();
        out.insert(stem, (path, config));
    }
    out
}

/// The full config's stem and the variant (None for the full config itself) a stem names.
fn split_stem(stem: &str) -> (&str, Option<&str>) {
    match stem.rsplit_once('-') {
        Some((base, variant)) if VARIANTS.contains(&variant) => (base, Some(variant)),
        _ => (stem, None),
    }
}

/// A value as a TOML table (for comparisons that ignore some keys).
fn table<T: serde::Serialize>(value: &T) -> toml::Table {
    toml::Table::try_from(value).unwrap()
}

/// `a` and `b` with the keys in `sizes` removed are equal; `what` names them in the message.
fn equal_except(a: &toml::Table, b: &toml::Table, sizes: &[&str], what: &str) {
    let strip = |t: &toml::Table| -> toml::Table {
        t.iter().filter(|(k, _)| !sizes.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect()
    };
    assert_eq!(strip(a), strip(b), "{what}: differs from the full config in more than {sizes:?}");
}

/// Every recipe of a config resolves to parameters that pass their own check (DatasetConfig::check resolves them
/// but does not check them).
fn recipes_check(stem: &str, c: &DatasetConfig) {
    if let Some(p) = c.inputs.star_maps_params().unwrap() {
        p.check().unwrap_or_else(|e| panic!("{stem}: star maps: {e}"));
    }
    if let Some(p) = c.inputs.hi_params().unwrap() {
        p.check().unwrap_or_else(|e| panic!("{stem}: hi: {e}"));
    }
    if let Some((images, kinematic)) = c.inputs.sph_params().unwrap() {
        images.check().unwrap_or_else(|e| panic!("{stem}: sph images: {e}"));
        kinematic.check().unwrap_or_else(|e| panic!("{stem}: kinematic maps: {e}"));
    }
    if let Some(p) = c.inputs.optical_params().unwrap() {
        p.check().unwrap_or_else(|e| panic!("{stem}: optical frames: {e}"));
    }
}

#[test]
fn every_paper_has_a_full_medium_and_quick_config_that_parse_and_name_their_paper() {
    let configs = dataset_configs();
    for paper in PAPERS {
        for stem in [paper.to_owned(), format!("{paper}-medium"), format!("{paper}-quick")] {
            assert!(configs.contains_key(&stem), "configs/{stem}.toml is missing");
        }
    }
    for (stem, (path, c)) in &configs {
        let (base, _) = split_stem(stem);
        assert_eq!(c.paper, base, "{}: paper {:?} does not match the file name", path.display(), c.paper);
        assert_eq!(&c.name, stem, "{}: name {:?} is not the file stem", path.display(), c.name);
        recipes_check(stem, c);
        // The resolved config round-trips (what the dataset records).
        let again = DatasetConfig::from_toml(&c.to_toml().unwrap(), stem).unwrap();
        assert_eq!(&again, c, "{stem}: the resolved TOML does not read back");
    }
}

#[test]
fn full_configs_use_the_papers_lines_of_sight_and_real_suites() {
    let text = std::fs::read_to_string(configs_dir().join("projections.toml")).unwrap();
    let projections: BTreeMap<String, DirectionSet> = toml::from_str(&text).unwrap();
    let configs = dataset_configs();
    for paper in PAPERS {
        let (path, c) = &configs[paper];
        assert_eq!(Some(&c.projections), projections.get(paper), "{}: projections differ", path.display());
        for s in &c.suites {
            let SuiteSource::Galaxies { path: folder, .. } = s else {
                panic!("{}: suite {} is not a folder of galaxy files", path.display(), s.name())
            };
            assert!(
                folder.starts_with(configs_dir()),
                "{}: {} is not made relative to the file",
                paper,
                folder.display()
            );
        }
        let expected = c.expected.as_ref().unwrap_or_else(|| panic!("{paper}: no [expected] counts"));
        assert!(expected.source.starts_with(paper), "{paper}: expected.source {:?} names no paper", expected.source);
        assert!(
            !expected.galaxies.is_empty() || expected.projections.is_some() || expected.projections_per_suite.is_some(),
            "{paper}: [expected] quotes no count"
        );
    }
    // The papers' own numbers.
    let (_, sarrato) = &configs["sarrato2025"];
    let balance = sarrato.balance.clone().expect("sarrato2025 balances its suites");
    assert_eq!((balance.bins, balance.log10_mass_range, balance.radius_rh), (30, [7.5, 11.0], 1.0));
    assert_eq!(sarrato.expected.as_ref().unwrap().projections_per_suite, Some(32412));
    let (_, chu) = &configs["chu2024"];
    assert_eq!(chu.expected.as_ref().unwrap().projections, Some(28110));
    let s = chu.splits;
    for (fraction, count) in [(s.train, 16000.0), (s.validation, 4000.0), (s.test, 8110.0)] {
        assert!((fraction * 28110.0 - count).abs() < 1e-6, "chu2024 splits {s:?}");
    }
    let (_, delosrios) = &configs["delosrios2023"];
    let radii = &delosrios.targets[0].radii;
    assert_eq!(radii.len(), 20);
    for (k, r) in radii.iter().enumerate() {
        let expected = 10f64.powf(2.0 * k as f64 / 19.0);
        assert!((r / expected - 1.0).abs() < 1e-12, "delosrios2023 radius {k}: {r} vs {expected}");
    }
}

#[test]
fn medium_and_quick_configs_keep_the_full_recipe_on_synthetic_suites() {
    let configs = dataset_configs();
    for (stem, (path, c)) in &configs {
        let (base, Some(_)) = split_stem(stem) else { continue };
        let (_, full) = configs.get(base).unwrap_or_else(|| panic!("{}: no configs/{base}.toml", path.display()));
        let what = |part: &str| format!("{}: {part}", path.display());
        assert_eq!(c.paper, full.paper, "{}", what("paper"));
        // The recipe: the same inputs, scalars, targets, sampling rule and kind of lines of sight.
        assert_eq!(c.inputs.names(), full.inputs.names(), "{}", what("input names"));
        assert_eq!(c.scalars, full.scalars, "{}", what("scalars"));
        assert_eq!(c.targets, full.targets, "{}", what("targets"));
        assert_eq!(c.estimators, full.estimators, "{}", what("estimators"));
        assert_eq!(c.splits, full.splits, "{}", what("splits"));
        assert_eq!(c.stars, full.stars, "{}", what("star sampling"));
        equal_except(&table(&c.projections), &table(&full.projections), &["n"], &what("projections"));
        // The mock recipes change their sizes only.
        let (a, b) = (&c.inputs, &full.inputs);
        if let (Some(x), Some(y)) = (a.star_maps_params().unwrap(), b.star_maps_params().unwrap()) {
            equal_except(&table(&x), &table(&y), &["grid_size"], &what("star maps"));
        }
        if let (Some(x), Some(y)) = (a.hi_params().unwrap(), b.hi_params().unwrap()) {
            equal_except(&table(&x), &table(&y), &["npix", "pixel"], &what("hi"));
            // The field of view stays the paper's.
            let field = |t: &toml::Table| -> Option<f64> {
                let arcsec = t.get("pixel")?.get("arcsec")?.as_float()?;
                Some(arcsec * t.get("npix")?.as_integer()? as f64)
            };
            let (fx, fy) = (field(&table(&x)), field(&table(&y)));
            if let (Some(fx), Some(fy)) = (fx, fy) {
                assert!((fx / fy - 1.0).abs() < 1e-12, "{}: {fx}'' vs {fy}''", what("hi field"));
            } else {
                assert_eq!(table(&x).get("pixel"), table(&y).get("pixel"), "{}", what("hi pixel"));
            }
        }
        if let (Some((xi, xk)), Some((yi, yk))) = (a.sph_params().unwrap(), b.sph_params().unwrap()) {
            equal_except(&table(&xi), &table(&yi), &["npix", "output_npix"], &what("sph images"));
            equal_except(&table(&xk), &table(&yk), &["npix"], &what("kinematic maps"));
        }
        if let (Some(x), Some(y)) = (a.optical_params().unwrap(), b.optical_params().unwrap()) {
            equal_except(&table(&x), &table(&y), &["npix", "pixel_arcsec"], &what("optical frames"));
            let (fx, fy) = (x.npix as f64 * x.pixel_arcsec, y.npix as f64 * y.pixel_arcsec);
            assert!((fx / fy - 1.0).abs() < 1e-12, "{}: {fx}'' vs {fy}''", what("optical field"));
        }
        assert_eq!(
            a.optical.as_ref().map(|o| o.distance_mpc),
            b.optical.as_ref().map(|o| o.distance_mpc),
            "{}",
            what("distances")
        );
        // Synthetic suites only, and no filter they cannot be evaluated on; the others are the full config's.
        for s in &c.suites {
            assert!(
                matches!(s, SuiteSource::Synthetic { .. }),
                "{}: suite {} is not synthetic",
                path.display(),
                s.name()
            );
        }
        for f in &c.selection {
            assert!(
                !CATALOGUE_FILTERS.contains(&f.name()),
                "{}: filter {} needs a catalogue",
                path.display(),
                f.name()
            );
            assert!(full.selection.contains(f), "{}: filter {f:?} is not the full config's", path.display());
        }
    }
}
