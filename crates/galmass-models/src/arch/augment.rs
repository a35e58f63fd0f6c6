//! Seeded training augmentation: random 90-degree rotations and flips of a batch of square maps.
//!
//! sarrato2025 randomly rotates and/or flips the projected-position map `{x/R_h, y/R_h}` during training "to improve
//! rotational invariance and to avoid over-fitting"; the phase-space map `{R/R_h, v_los/v_p98}` is left alone (its
//! axes are a radius and a velocity, which a rotation would scramble). [`dihedral`] draws, per sample, one of the 8
//! symmetries of the square (rotation by k x 90 degrees, k = 0..3, optionally followed by a left-right flip) from a
//! SplitMix64 stream seeded by the caller, so the same seed gives the same batch on every device and thread count.
//! Architectures apply it to the inputs whose [`InputSpec`](super::InputSpec) says
//! [`Augmentation::Dihedral`](super::Augmentation) through [`MultiInputNet::augment`](super::MultiInputNet::augment).
//!
//! ```
//! use galmass_models::arch::augment::{dihedral, dihedral_choices};
//! use tch::{Device, Kind, Tensor};
//! let maps = Tensor::arange(2 * 3 * 3, (Kind::Float, Device::Cpu)).view([2, 1, 3, 3]);
//! let out = dihedral(&maps, 42)?;
//! assert_eq!(out.size(), [2, 1, 3, 3]);
//! assert_eq!(dihedral(&maps, 42)?, out); // seeded
//! assert_eq!(dihedral_choices(2, 42).len(), 2);
//! # Ok::<(), galmass_models::ModelError>(())
//! ```

use tch::Tensor;

use super::input_error;
use crate::error::ModelError;

/// One step of SplitMix64 (Steele, Lea & Flood 2014).
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The symmetry drawn for each of `batch` samples: `k + 4 * flip` with `k` quarter turns (counter-clockwise in
/// (row, column) order, as `torch.rot90` on the last two axes) and `flip` a reversal of the columns afterwards.
pub fn dihedral_choices(batch: usize, seed: u64) -> Vec<u8> {
    let mut state = seed;
    // The top 3 bits of each draw: all 8 symmetries equally likely.
    (0..batch).map(|_| (splitmix64(&mut state) >> 61) as u8).collect()
}

/// Applies symmetry `choice` (see [`dihedral_choices`]) to `(.., H, W)` maps.
pub fn apply_symmetry(maps: &Tensor, choice: u8) -> Tensor {
    let rotated = maps.rot90(i64::from(choice % 4), [-2, -1]);
    if choice >= 4 {
        rotated.flip([-1])
    } else {
        rotated
    }
}

/// A seeded random rotation by a multiple of 90 degrees, optionally followed by a flip, of each sample of a
/// `(batch, channels, H, W)` batch of square maps (the same symmetry for all channels of a sample). Call it on
/// training batches only. A tensor that is not 4-D or not square is an error.
pub fn dihedral(maps: &Tensor, seed: u64) -> Result<Tensor, ModelError> {
    let size = maps.size();
    if size.len() != 4 || size[2] != size[3] {
        return Err(input_error(
            "inputs",
            format!("dihedral augmentation needs (batch, channels, n, n) maps, got {size:?}"),
        ));
    }
    let batch = usize::try_from(size[0]).unwrap_or(0);
    let choices = dihedral_choices(batch, seed);
    let mut out = maps.copy();
    for choice in 1u8..8 {
        let idx: Vec<i64> = (0..batch).filter(|&b| choices[b] == choice).map(|b| b as i64).collect();
        if idx.is_empty() {
            continue;
        }
        let index = Tensor::from_slice(&idx).to_device(maps.device());
        let transformed = apply_symmetry(&maps.index_select(0, &index), choice);
        out = out.index_copy(0, &index, &transformed);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    fn long_index(values: &[i64]) -> Tensor {
        Tensor::from_slice(values)
    }

    #[test]
    fn every_sample_gets_one_of_the_eight_symmetries() {
        let _lock = crate::torch_lock();
        let maps = Tensor::rand([64, 2, 5, 5], (Kind::Float, Device::Cpu));
        let out = dihedral(&maps, 7).unwrap();
        let choices = dihedral_choices(64, 7);
        // All 8 symmetries occur in 64 draws for this seed, and they are 8 distinct maps.
        for c in 0u8..8 {
            assert!(choices.contains(&c), "{choices:?}");
        }
        let one = maps.narrow(0, 0, 1);
        for a in 0u8..8 {
            for b in (a + 1)..8 {
                assert_ne!(apply_symmetry(&one, a), apply_symmetry(&one, b), "{a} {b}");
            }
        }
        for (b, &c) in choices.iter().enumerate() {
            let b = b as i64;
            assert_eq!(out.narrow(0, b, 1), apply_symmetry(&maps.narrow(0, b, 1), c));
        }
        // A permutation of pixels: sums are unchanged; the input is untouched.
        let diff = (out.sum_dim_intlist([2i64, 3].as_slice(), false, Kind::Float)
            - maps.sum_dim_intlist([2i64, 3].as_slice(), false, Kind::Float))
        .abs()
        .max()
        .double_value(&[]);
        assert!(diff < 1e-5, "{diff}");
        assert_eq!(dihedral(&maps, 7).unwrap(), out);
        assert_ne!(dihedral(&maps, 8).unwrap(), out);
    }

    #[test]
    fn quarter_turn_matches_rot90_convention() {
        let _lock = crate::torch_lock();
        // [[0, 1], [2, 3]] turned once counter-clockwise is [[1, 3], [0, 2]].
        let m = long_index(&[0, 1, 2, 3]).view([1, 1, 2, 2]);
        assert_eq!(apply_symmetry(&m, 1), long_index(&[1, 3, 0, 2]).view([1, 1, 2, 2]));
        assert_eq!(apply_symmetry(&m, 4), long_index(&[1, 0, 3, 2]).view([1, 1, 2, 2]));
    }

    #[test]
    fn non_square_maps_are_refused() {
        let _lock = crate::torch_lock();
        let maps = Tensor::zeros([2, 1, 4, 5], (Kind::Float, Device::Cpu));
        assert!(matches!(dihedral(&maps, 0), Err(ModelError::InvalidData { field: "inputs", .. })));
        assert!(dihedral(&Tensor::zeros([4, 4], (Kind::Float, Device::Cpu)), 0).is_err());
    }
}
