//! Training throughput of the sarrato2025 CNN (two 64x64 map branches, 3 scalars, 10 outputs; 815,082 parameters)
//! on random maps, through `Regressor::fit` (Adam, MSE, batch 32): the galmass side of
//! `scripts/cnn_throughput.py`, which trains the same network in PyTorch.
//!
//! `cargo run --release -p galmass-models --example cnn_bench -- [ROWS] [EPOCHS] [THREADS]`

use std::collections::BTreeMap;

use galmass_models::arch::ArchConfig;
use galmass_models::data::ArraySource;
use galmass_models::regressor::Regressor;
use galmass_models::train::{Schedule, TrainConfig};
use galmass_models::ComputeDevice;
use ndarray::{Array2, Array4};
use rand::{Rng, SeedableRng};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rows: usize = args.first().map_or(Ok(2048), |a| a.parse())?;
    let epochs: usize = args.get(1).map_or(Ok(3), |a| a.parse())?;
    let threads: i32 = args.get(2).map_or(Ok(1), |a| a.parse())?;
    tch::set_num_threads(threads);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let mut map = || Array4::from_shape_fn((rows, 1, 64, 64), |_| rng.random::<f32>()).into_dyn();
    let mut inputs = BTreeMap::new();
    inputs.insert("star_xy".to_string(), map());
    inputs.insert("star_rv".to_string(), map());
    let scalars = Array2::from_shape_fn((rows, 3), |(i, j)| ((i * 7 + j) % 13) as f32);
    let targets = Array2::from_shape_fn((rows, 10), |(i, j)| ((i * 3 + j) % 17) as f32);
    let source = ArraySource::new(inputs, Some(scalars), targets)?;
    let names: Vec<String> = (0..10).map(|k| format!("log_m_{k}")).collect();
    let arch = ArchConfig::preset("sarrato2025")?;
    let n_parameters = arch.n_parameters();
    let mut net = Regressor::new(arch, &names, ComputeDevice::Cpu, 1)?;
    let config = TrainConfig {
        epochs,
        batch_size: 32,
        learning_rate: 1e-4,
        schedule: Schedule::Constant,
        early_stopping_patience: None,
        gradient_clip_norm: None,
        ..TrainConfig::sarrato2025()
    };
    let history = net.fit(&source, None, &config)?;
    println!(
        "{{\"tool\": \"galmass\", \"parameters\": {n_parameters}, \"rows\": {rows}, \"epochs\": {epochs}, \"threads\": \
         {threads}, \"seconds\": {:.3}, \"samples_per_second\": {:.1}}}",
        history.seconds, history.samples_per_second
    );
    Ok(())
}
