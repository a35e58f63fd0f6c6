//! Batches for training: plain arrays in, tensors inside the crate only.
//!
//! A [`BatchSource`] hands out the rows it is asked for as a [`Batch`] of named input maps
//! (`(batch, channels, height, width)`), optional scalars `(batch, n_scalars)` and targets `(batch, n_targets)`, all
//! float32. [`ArraySource`] holds them in memory; the pipeline supplies sources that stream from HDF5 datasets (this
//! crate does no file I/O beyond checkpoints). A flow trains on batches whose `scalars` are its context and whose
//! `targets` are its parameters.
//!
//! A source also says in which order its rows are visited in each training epoch ([`BatchSource::epoch_order`]):
//! by default a seeded full shuffle ([`successive_shuffles`]); a streaming source overrides it so that the rows of a
//! batch share the few stored chunks it has to read. [`seeded_shuffle`] is the one seeded shuffle such sources use.
//!
//! ```
//! use galmass_models::data::{ArraySource, BatchSource};
//! use ndarray::Array2;
//! let source = ArraySource::tabular(Array2::zeros((10, 3)), Array2::zeros((10, 1))).unwrap();
//! let batch = source.batch(&[0, 4, 9]).unwrap();
//! assert_eq!(batch.targets.dim(), (3, 1));
//! ```

use std::cell::RefCell;
use std::collections::BTreeMap;

use ndarray::{Array2, ArrayD, Axis};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tch::{Device, Tensor};

use crate::error::ModelError;

/// One batch: named input maps, scalars and targets, rows in the same order.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// Input maps by name, each `(batch, channels, height, width)`.
    pub inputs: BTreeMap<String, ArrayD<f32>>,
    /// Scalar inputs `(batch, n_scalars)` (a flow's context), if any.
    pub scalars: Option<Array2<f32>>,
    /// Targets `(batch, n_targets)`.
    pub targets: Array2<f32>,
}

impl Batch {
    /// Rows in the batch.
    pub fn len(&self) -> usize {
        self.targets.nrows()
    }

    /// Whether the batch is empty.
    pub fn is_empty(&self) -> bool {
        self.targets.nrows() == 0
    }
}

/// Where training rows come from.
pub trait BatchSource: Sync {
    /// Number of rows.
    fn len(&self) -> usize;

    /// Whether there are no rows.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rows `indices`, in that order.
    fn batch(&self, indices: &[usize]) -> Result<Batch, ModelError>;

    /// The order in which training visits the rows in epoch `epoch` (0-based) of a run seeded by `seed`: every row
    /// of `0..len()` exactly once, the same for the same arguments. Training asks for epochs 0, 1, 2, ... in turn and
    /// cuts the order into consecutive batches. The default is [`successive_shuffles`] (a full seeded shuffle per
    /// epoch); a source whose reads are cheaper for nearby rows overrides it.
    fn epoch_order(&self, epoch: usize, seed: u64) -> Vec<usize> {
        successive_shuffles(self.len(), epoch, seed)
    }
}

/// The order of `0..n` in epoch `epoch` when one ChaCha8 generator seeded by `seed` shuffles the same list once per
/// epoch in place, starting from `0..n` (the order training has always used, so a seed gives the same weights as
/// before [`BatchSource::epoch_order`] existed).
///
/// Epoch `e` depends on every shuffle before it. The last order computed on each thread is kept, so asking for the
/// epochs in turn costs one shuffle each; any other epoch replays the shuffles from the start.
///
/// ```
/// use galmass_models::data::successive_shuffles;
/// let first = successive_shuffles(5, 0, 7);
/// let mut sorted = first.clone();
/// sorted.sort();
/// assert_eq!(sorted, vec![0, 1, 2, 3, 4]);
/// assert_eq!(successive_shuffles(5, 0, 7), first);
/// ```
pub fn successive_shuffles(n: usize, epoch: usize, seed: u64) -> Vec<usize> {
    /// The order after epoch `epoch` of `n` rows seeded by `seed`, and the generator after it.
    struct Last {
        n: usize,
        seed: u64,
        epoch: usize,
        order: Vec<usize>,
        rng: ChaCha8Rng,
    }
    thread_local! {
        static LAST: RefCell<Option<Last>> = const { RefCell::new(None) };
    }
    LAST.with(|cell| {
        let mut cell = cell.borrow_mut();
        let mut last = match cell.take() {
            Some(l) if l.n == n && l.seed == seed && l.epoch <= epoch => l,
            _ => {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                let mut order: Vec<usize> = (0..n).collect();
                order.shuffle(&mut rng);
                Last { n, seed, epoch: 0, order, rng }
            }
        };
        while last.epoch < epoch {
            last.order.shuffle(&mut last.rng);
            last.epoch += 1;
        }
        let order = last.order.clone();
        *cell = Some(last);
        order
    })
}

/// Shuffles `items` with a ChaCha8 generator seeded by `seed` on its stream `stream` (independent streams for, e.g.,
/// the epochs or the parts of one seeded run). Same arguments, same order, on every platform.
///
/// ```
/// use galmass_models::data::seeded_shuffle;
/// let (mut a, mut b) = ((0..10).collect::<Vec<_>>(), (0..10).collect::<Vec<_>>());
/// seeded_shuffle(&mut a, 3, 1);
/// seeded_shuffle(&mut b, 3, 1);
/// assert_eq!(a, b);
/// ```
pub fn seeded_shuffle<T>(items: &mut [T], seed: u64, stream: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    items.shuffle(&mut rng);
}

/// Rows held in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct ArraySource {
    inputs: BTreeMap<String, ArrayD<f32>>,
    scalars: Option<Array2<f32>>,
    targets: Array2<f32>,
}

impl ArraySource {
    /// A source of maps, optional scalars and targets; every array has the same number of rows and finite values.
    pub fn new(
        inputs: BTreeMap<String, ArrayD<f32>>,
        scalars: Option<Array2<f32>>,
        targets: Array2<f32>,
    ) -> Result<Self, ModelError> {
        let n = targets.nrows();
        let bad = |field: &'static str, reason: String| ModelError::InvalidData { field, reason };
        for (name, map) in &inputs {
            if map.ndim() != 4 || map.shape()[0] != n {
                return Err(bad(
                    "inputs",
                    format!("map {name:?} has shape {:?}, expected ({n}, C, H, W)", map.shape()),
                ));
            }
        }
        if let Some(s) = &scalars {
            if s.nrows() != n {
                return Err(bad("scalars", format!("{} rows, expected {n}", s.nrows())));
            }
        }
        let finite = |name: &str, mut values: Box<dyn Iterator<Item = &f32> + '_>| -> Result<(), ModelError> {
            match values.position(|v| !v.is_finite()) {
                Some(i) => Err(bad("values", format!("{name} holds a non-finite value at flat index {i}"))),
                None => Ok(()),
            }
        };
        finite("targets", Box::new(targets.iter()))?;
        if let Some(s) = &scalars {
            finite("scalars", Box::new(s.iter()))?;
        }
        for (name, map) in &inputs {
            finite(name, Box::new(map.iter()))?;
        }
        Ok(Self { inputs, scalars, targets })
    }

    /// A table: `context` (or features) as scalars, `targets` as targets, no maps.
    pub fn tabular(context: Array2<f32>, targets: Array2<f32>) -> Result<Self, ModelError> {
        Self::new(BTreeMap::new(), Some(context), targets)
    }

    /// The rows `indices` as a new in-memory source (a split or a bootstrap resample).
    pub fn subset(&self, indices: &[usize]) -> Result<Self, ModelError> {
        let b = self.batch(indices)?;
        Ok(Self { inputs: b.inputs, scalars: b.scalars, targets: b.targets })
    }
}

impl BatchSource for ArraySource {
    fn len(&self) -> usize {
        self.targets.nrows()
    }

    fn batch(&self, indices: &[usize]) -> Result<Batch, ModelError> {
        if let Some(&i) = indices.iter().find(|&&i| i >= self.len()) {
            return Err(ModelError::InvalidData {
                field: "indices",
                reason: format!("row {i} of a source of {} rows", self.len()),
            });
        }
        Ok(Batch {
            inputs: self.inputs.iter().map(|(k, v)| (k.clone(), v.select(Axis(0), indices))).collect(),
            scalars: self.scalars.as_ref().map(|s| s.select(Axis(0), indices)),
            targets: self.targets.select(Axis(0), indices),
        })
    }
}

/// A batch on a device (crate-internal: tch stays inside this crate).
#[derive(Debug)]
pub(crate) struct TensorBatch {
    #[allow(dead_code)] // read by the CNNs' losses
    pub(crate) inputs: BTreeMap<String, Tensor>,
    pub(crate) scalars: Option<Tensor>,
    pub(crate) targets: Tensor,
}

/// A float32 tensor of `values` with `shape` on `device`.
pub(crate) fn tensor(values: &[f32], shape: &[usize], device: Device) -> Tensor {
    let shape: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
    Tensor::from_slice(values).reshape(shape.as_slice()).to_device(device)
}

/// A tensor as an ndarray of its shape (float32, on the CPU).
pub(crate) fn to_arrayd(t: &Tensor) -> Result<ArrayD<f32>, ModelError> {
    let t = t.to_device(Device::Cpu).to_kind(tch::Kind::Float).contiguous();
    let shape: Vec<usize> = t.size().iter().map(|&d| d as usize).collect();
    let n = t.numel();
    let mut out = vec![0f32; n];
    t.copy_data(&mut out, n);
    ArrayD::from_shape_vec(shape, out).map_err(|e| ModelError::InvalidData { field: "tensor", reason: e.to_string() })
}

/// The rows of a tensor `(n, k)` as an ndarray.
pub(crate) fn to_array2(t: &Tensor) -> Result<Array2<f32>, ModelError> {
    to_arrayd(t)?.into_dimensionality().map_err(|e| ModelError::InvalidData {
        field: "tensor",
        reason: format!("expected 2 dimensions, got {:?}: {e}", t.size()),
    })
}

impl Batch {
    /// The batch on `device`.
    pub(crate) fn to_tensors(&self, device: Device) -> TensorBatch {
        let owned = |a: &ArrayD<f32>| {
            let c = a.as_standard_layout();
            tensor(c.as_slice().unwrap_or(&[]), a.shape(), device)
        };
        TensorBatch {
            inputs: self.inputs.iter().map(|(k, v)| (k.clone(), owned(v))).collect(),
            scalars: self.scalars.as_ref().map(|s| owned(&s.clone().into_dyn())),
            targets: owned(&self.targets.clone().into_dyn()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_check_shapes_and_values_and_select_rows() {
        let _lock = crate::torch_lock();
        let x = Array2::from_shape_fn((5, 2), |(i, j)| (i * 2 + j) as f32);
        let y = Array2::from_shape_fn((5, 1), |(i, _)| i as f32);
        let s = ArraySource::tabular(x.clone(), y.clone()).unwrap();
        let b = s.batch(&[4, 1]).unwrap();
        assert_eq!(b.scalars.as_ref().unwrap().row(0).to_vec(), vec![8.0, 9.0]);
        assert!(s.batch(&[5]).is_err());
        let mut bad = x.clone();
        bad[[2, 1]] = f32::NAN;
        assert!(ArraySource::tabular(bad, y.clone()).unwrap_err().to_string().contains("non-finite"));
        assert!(ArraySource::tabular(x, Array2::zeros((4, 1))).is_err());
        let t = b.targets.clone();
        let back = to_array2(&b.to_tensors(Device::Cpu).targets).unwrap();
        assert_eq!(back, t);
    }

    #[test]
    fn successive_shuffles_are_the_in_place_shuffles_in_any_call_order() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut order: Vec<usize> = (0..50).collect();
        let mut expected = Vec::new();
        for _ in 0..6 {
            order.shuffle(&mut rng);
            expected.push(order.clone());
        }
        for (epoch, e) in expected.iter().enumerate() {
            assert_eq!(&successive_shuffles(50, epoch, 11), e);
        }
        // Backwards, repeated, skipping and interleaved with another seed: still the same orders.
        for epoch in [5, 2, 2, 0, 4] {
            assert_eq!(successive_shuffles(50, epoch, 11), expected[epoch]);
            let _ = successive_shuffles(50, epoch, 12);
        }
        assert_ne!(successive_shuffles(50, 1, 12), expected[1]);
        let source = ArraySource::tabular(Array2::zeros((50, 1)), Array2::zeros((50, 1))).unwrap();
        assert_eq!(source.epoch_order(3, 11), expected[3]);
    }
}
