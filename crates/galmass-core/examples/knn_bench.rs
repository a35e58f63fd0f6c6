//! Benchmark of the k-nearest-neighbour distances (not a test):
//! `cargo run --release -p galmass-core --example knn_bench -- --positions FILE --k K [--out FILE] [--repeat R]`.
//!
//! Reads N x 3 positions from a raw little-endian float64 file (row-major, as scripts/knn_compare.py writes them),
//! times [`knn_distances`] (tree build included; best of `--repeat`, default 3) and the tree build alone, writes the
//! distances as little-endian float64 to `--out` and prints one JSON line. Threads: rayon's global pool, so set
//! `RAYON_NUM_THREADS`.

use std::time::Instant;

use galmass_core::neighbours::{knn_distances, KdTree};
use ndarray::Array2;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = arg(&args, "--positions").ok_or("--positions FILE is required")?;
    let k: usize = arg(&args, "--k").ok_or("--k K is required")?.parse().map_err(|e| format!("--k: {e}"))?;
    let repeat: usize = match arg(&args, "--repeat") {
        Some(r) => r.parse().map_err(|e| format!("--repeat: {e}"))?,
        None => 3,
    };
    let bytes = std::fs::read(&path).map_err(|e| format!("{path}: {e}"))?;
    let values: Vec<f64> =
        bytes.chunks_exact(8).map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])).collect();
    let n = values.len() / 3;
    let positions = Array2::from_shape_vec((n, 3), values).map_err(|e| format!("{path}: not N x 3 float64: {e}"))?;

    let mut build_s = f64::INFINITY;
    let mut total_s = f64::INFINITY;
    let mut distances = None;
    for _ in 0..repeat.max(1) {
        let t = Instant::now();
        let tree = KdTree::new(positions.view())?;
        build_s = build_s.min(t.elapsed().as_secs_f64());
        std::hint::black_box(&tree);
        drop(tree);
        let t = Instant::now();
        let d = knn_distances(positions.view(), k)?;
        total_s = total_s.min(t.elapsed().as_secs_f64());
        distances = Some(d);
    }
    if let (Some(out), Some(d)) = (arg(&args, "--out"), distances) {
        let bytes: Vec<u8> = d.iter().flat_map(|x| x.to_le_bytes()).collect();
        std::fs::write(&out, bytes).map_err(|e| format!("{out}: {e}"))?;
    }
    println!(
        "{{\"n\": {n}, \"k\": {k}, \"threads\": {}, \"build_s\": {build_s:.6e}, \"total_s\": {total_s:.6e}}}",
        rayon::current_num_threads()
    );
    Ok(())
}
