//! Checkpoints: the weights as safetensors (loadable from Python with the `safetensors` package:
//! `safetensors.torch.load_file("model.safetensors")`) and a JSON file of provenance beside them.
//!
//! # Layout
//! A checkpoint is a folder holding `model.safetensors` (every variable by its stable name, float32, on the CPU)
//! and `model.json` ([`CheckpointMeta`]: `format` = `"galmass-checkpoint"`, `version`, the `architecture` and its
//! `config`, the input `recipe` (which maps, grids and presets, and a hash of them), the input, context and target
//! normalisations, the training domain (each scalar input's range), the training suites, the galmass version, the
//! device it was trained on, and `not_for_scientific_use` (true for models trained on synthetic suites)). Both are
//! written atomically. No device is baked in: weights load on the CPU or on CUDA whatever they were trained on.
//!
//! Loading refuses, with a [`ModelError::Checkpoint`] naming the file: another format or a newer version, another
//! architecture or configuration than the model it loads into, another input recipe than the caller's, and any
//! difference in the set of variable names or shapes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tch::nn;
use tch::{Device, Tensor};

use crate::error::ModelError;
use crate::normalise::ZScore;

/// The `format` of `model.json`.
pub const FORMAT: &str = "galmass-checkpoint";
/// The layout version written.
pub const VERSION: u32 = 1;
/// The weights' file name in a checkpoint folder.
pub const WEIGHTS_FILE: &str = "model.safetensors";
/// The provenance's file name in a checkpoint folder.
pub const META_FILE: &str = "model.json";

/// How the inputs of a model were made: a checkpoint applies only to inputs made the same way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputRecipe {
    /// The input maps, in order.
    pub maps: Vec<String>,
    /// The scalar inputs, in order.
    pub scalars: Vec<String>,
    /// Grids, presets and anything else the maps depend on.
    pub settings: serde_json::Value,
    /// A hash of the above (FNV-1a of the canonical JSON), for a quick comparison.
    pub hash: String,
}

impl InputRecipe {
    /// A recipe with its hash computed.
    pub fn new(maps: Vec<String>, scalars: Vec<String>, settings: serde_json::Value) -> Self {
        let mut recipe = Self { maps, scalars, settings, hash: String::new() };
        recipe.hash = recipe.compute_hash();
        recipe
    }

    fn compute_hash(&self) -> String {
        let text =
            serde_json::json!({"maps": self.maps, "scalars": self.scalars, "settings": self.settings}).to_string();
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in text.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        format!("{h:016x}")
    }
}

/// The provenance of a checkpoint (`model.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointMeta {
    /// `"galmass-checkpoint"`.
    pub format: String,
    /// Layout version.
    pub version: u32,
    /// What the weights belong to (e.g. `maf`, `sarrato2025`).
    pub architecture: String,
    /// The architecture's configuration (its serde form).
    pub config: serde_json::Value,
    /// How the inputs were made.
    pub recipe: Option<InputRecipe>,
    /// z-scoring of the scalar inputs or a flow's context.
    pub input_normalisation: Option<ZScore>,
    /// z-scoring of the targets.
    pub target_normalisation: Option<ZScore>,
    /// The range of every scalar input seen in training (name -> [min, max]).
    pub training_domain: BTreeMap<String, [f64; 2]>,
    /// The suites the model was trained on.
    pub training_suites: Vec<String>,
    /// The galmass version that trained it.
    pub galmass_version: String,
    /// The device it was trained on (`cpu`, `cuda:0`).
    pub trained_on: String,
    /// True for models trained on synthetic suites.
    pub not_for_scientific_use: bool,
    /// Anything else the model needs (e.g. an ensemble's member count).
    pub extra: serde_json::Value,
}

impl CheckpointMeta {
    /// Provenance for `architecture` with `config`, everything else empty (fill in what applies).
    pub fn new(architecture: &str, config: serde_json::Value) -> Self {
        Self {
            format: FORMAT.into(),
            version: VERSION,
            architecture: architecture.into(),
            config,
            recipe: None,
            input_normalisation: None,
            target_normalisation: None,
            training_domain: BTreeMap::new(),
            training_suites: Vec::new(),
            galmass_version: env!("CARGO_PKG_VERSION").into(),
            trained_on: "cpu".into(),
            not_for_scientific_use: false,
            extra: serde_json::Value::Null,
        }
    }
}

fn error(path: &Path, reason: impl Into<String>) -> ModelError {
    ModelError::Checkpoint { path: path.display().to_string(), reason: reason.into() }
}

/// Writes `vs` and `meta` into the folder `dir` (created if needed), atomically file by file.
pub(crate) fn save(dir: &Path, vs: &nn::VarStore, meta: &CheckpointMeta) -> Result<(), ModelError> {
    std::fs::create_dir_all(dir).map_err(|e| error(dir, format!("creating the folder: {e}")))?;
    let weights = dir.join(WEIGHTS_FILE);
    let mut named: Vec<(String, Tensor)> = tch::no_grad(|| {
        vs.variables().into_iter().map(|(k, t)| (k, t.to_device(Device::Cpu).to_kind(tch::Kind::Float))).collect()
    });
    named.sort_by(|a, b| a.0.cmp(&b.0));
    galmass_core::atomic::write_atomic_with(
        &weights,
        |tmp| Tensor::write_safetensors(&named, tmp).map_err(|e| error(&weights, e.to_string())),
        |e| error(&weights, e.to_string()),
    )?;
    let json = serde_json::to_string_pretty(meta).map_err(|e| error(dir, e.to_string()))?;
    let meta_path = dir.join(META_FILE);
    galmass_core::atomic::write_bytes_atomic(&meta_path, json.as_bytes()).map_err(|e| error(&meta_path, e.to_string()))
}

/// Reads `dir/model.json`.
pub fn read_meta(dir: &Path) -> Result<CheckpointMeta, ModelError> {
    let path = dir.join(META_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| error(&path, e.to_string()))?;
    let meta: CheckpointMeta =
        serde_json::from_str(&text).map_err(|e| error(&path, format!("not a checkpoint: {e}")))?;
    if meta.format != FORMAT {
        return Err(error(&path, format!("format {:?}, expected {FORMAT:?}", meta.format)));
    }
    if meta.version > VERSION {
        return Err(error(&path, format!("version {} is newer than this galmass reads ({VERSION})", meta.version)));
    }
    Ok(meta)
}

/// Loads the weights of `dir` into `vs` after checking that they belong to `architecture` with `config` (and, when
/// given, to inputs made by `recipe`); returns the provenance.
pub(crate) fn load(
    dir: &Path,
    vs: &nn::VarStore,
    architecture: &str,
    config: &serde_json::Value,
    recipe: Option<&InputRecipe>,
) -> Result<CheckpointMeta, ModelError> {
    let meta = read_meta(dir)?;
    let meta_path = dir.join(META_FILE);
    if meta.architecture != architecture {
        return Err(error(&meta_path, format!("holds a {:?}, not a {architecture:?}", meta.architecture)));
    }
    if &meta.config != config {
        return Err(error(&meta_path, format!("configuration {} differs from the model's {config}", meta.config)));
    }
    if let (Some(want), Some(have)) = (recipe, meta.recipe.as_ref()) {
        if want.hash != have.hash {
            return Err(error(
                &meta_path,
                format!(
                    "trained on inputs made by recipe {} (maps {:?}, scalars {:?}), these were made by {} (maps {:?}, \
                     scalars {:?})",
                    have.hash, have.maps, have.scalars, want.hash, want.maps, want.scalars
                ),
            ));
        }
    }
    let weights: PathBuf = dir.join(WEIGHTS_FILE);
    let tensors: BTreeMap<String, Tensor> =
        Tensor::read_safetensors(&weights).map_err(|e| error(&weights, e.to_string()))?.into_iter().collect();
    let vars = vs.variables();
    let mine: Vec<&String> = vars.keys().collect();
    let missing: Vec<&&String> = mine.iter().filter(|k| !tensors.contains_key(k.as_str())).collect();
    let extra: Vec<&String> = tensors.keys().filter(|k| !vars.contains_key(k.as_str())).collect();
    if !missing.is_empty() || !extra.is_empty() {
        return Err(error(&weights, format!("variables differ: missing {missing:?}, unexpected {extra:?}")));
    }
    for (name, var) in &vars {
        let src = &tensors[name];
        if src.size() != var.size() {
            return Err(error(&weights, format!("{name} has shape {:?}, the model {:?}", src.size(), var.size())));
        }
        let mut dst = var.shallow_clone();
        tch::no_grad(|| dst.f_copy_(&src.to_device(var.device()).to_kind(var.kind())))
            .map_err(|e| error(&weights, format!("{name}: {e}")))?;
    }
    Ok(meta)
}

#[cfg(test)]
mod tests {
    use tch::nn::Module;

    use super::*;
    use crate::mlp::MlpConfig;

    #[test]
    fn checkpoints_round_trip_and_refuse_mismatches() {
        let _lock = crate::torch_lock();
        let dir = tempfile::tempdir().unwrap();
        let config = MlpConfig { n_inputs: 3, hidden: vec![8], n_outputs: 2 };
        let json = serde_json::to_value(&config).unwrap();
        tch::manual_seed(4);
        let vs = nn::VarStore::new(Device::Cpu);
        let net = config.build(&(vs.root() / "mlp")).unwrap();
        let recipe = InputRecipe::new(vec!["star_xy".into()], vec!["r_h".into()], serde_json::json!({"grid": 64}));
        let mut meta = CheckpointMeta::new("mlp", json.clone());
        meta.recipe = Some(recipe.clone());
        meta.trained_on = "cuda:0".into(); // a CUDA-trained model's provenance loads on the CPU
        save(dir.path(), &vs, &meta).unwrap();
        let x = Tensor::from_slice(&[0.1f32, -0.4, 2.0]).reshape([1, 3]);
        let y = net.forward(&x);
        tch::manual_seed(99);
        let vs2 = nn::VarStore::new(Device::Cpu);
        let net2 = config.build(&(vs2.root() / "mlp")).unwrap();
        let back = load(dir.path(), &vs2, "mlp", &json, Some(&recipe)).unwrap();
        assert_eq!(back, meta);
        assert_eq!(
            Vec::<f32>::try_from(net2.forward(&x).flatten(0, -1)).unwrap(),
            Vec::<f32>::try_from(y.flatten(0, -1)).unwrap()
        );
        // Mismatches are refused with the file named.
        let other = InputRecipe::new(vec!["star_rv".into()], vec![], serde_json::json!({}));
        assert!(load(dir.path(), &vs2, "mlp", &json, Some(&other)).unwrap_err().to_string().contains("recipe"));
        assert!(load(dir.path(), &vs2, "maf", &json, None).is_err());
        let wider = MlpConfig { hidden: vec![9], ..config };
        let vs3 = nn::VarStore::new(Device::Cpu);
        let _ = wider.build(&(vs3.root() / "mlp")).unwrap();
        let err = load(dir.path(), &vs3, "mlp", &json, None).unwrap_err();
        assert!(err.to_string().contains("shape"), "{err}");
        // The weights file is plain safetensors: its header names every variable.
        let bytes = std::fs::read(dir.path().join(WEIGHTS_FILE)).unwrap();
        let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + header_len]).unwrap();
        assert!(header.get("mlp.layer0.weight").is_some(), "{header}");
    }
}
