//! Training batches streamed from `dataset.h5` files: a [`StreamSource`] is a
//! [`galmass_models::data::BatchSource`] over the projections of one split of one or several dataset files, whose
//! memory is bounded by its chunk cache, not by the files.
//!
//! # Rows
//! The rows of the source are the projections of the chosen [`Split`], file by file in the order the files are
//! given, each file's rows in file order (row `r` of the source is [`StreamSource::row_origin`]`(r)`). The chosen
//! inputs become the batch's maps (under their names), the chosen scalars its `scalars` columns, the chosen targets
//! its `targets` columns (each target's radii in turn, targets in the chosen order). Each part may be z-scored with
//! the files' normalisation tables ([`Scaling::ZScore`]): per channel, per scalar, per radius; the tables of several
//! files are pooled by their training rows ([`NormalisationTable::pooled`]), and a zero standard deviation divides
//! by 1. Every value in a batch must be finite.
//!
//! # Order and reads
//! Rows are read a *block* at a time: the rows of one HDF5 chunk of the first chosen input (else target, else
//! scalar). [`BatchSource::epoch_order`] is chunk-aware: the blocks holding rows of the split are shuffled, then the
//! rows of each window of `window_chunks` consecutive blocks of that order are shuffled, so a batch touches a few
//! whole chunks and every row comes exactly once per epoch (the same order for the same epoch and seed). Decoded
//! blocks live in an LRU cache of `cache_chunks` blocks; a background thread decodes the next `prefetch_chunks`
//! blocks of the current epoch's order while the batch in hand trains. Memory is at most the cache, one block being
//! decoded and the blocks of the batch being assembled, plus 16 bytes per row for the index.
//!
//! ```no_run
//! use galmass_core::params::Params;
//! use galmass_models::data::BatchSource;
//! use galmass_pipeline::dataset::reader::Split;
//! use galmass_pipeline::dataset::stream::{Scaling, StreamParams, StreamSource};
//! let params = StreamParams::new(Split::Train, &["star_xy", "star_rv"], &[], &["log10_mtot"], Scaling::ZScore);
//! let source = StreamSource::open(&["runs/a/dataset.h5".as_ref(), "runs/b/dataset.h5".as_ref()], &params.check()?)?;
//! let order = source.epoch_order(0, 7);
//! let batch = source.batch(&order[..64])?;
//! println!("{} rows; a batch of {}", source.len(), batch.len());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use galmass_core::params::Params;
use galmass_models::data::{seeded_shuffle, Batch, BatchSource};
use galmass_models::ModelError;
use ndarray::{Array2, ArrayD};
use serde::{Deserialize, Serialize};

use super::reader::{DatasetFile, InputShape, NormalisationTable, Part, Split};
use crate::PipelineError;

type Result<T> = std::result::Result<T, PipelineError>;

/// Rows per block when the chosen datasets are stored contiguously (no chunk shape to follow).
pub const CONTIGUOUS_BLOCK_ROWS: usize = 64;

/// How the values of a part reach the batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scaling {
    /// As stored.
    Raw,
    /// `(value - mean) / std` with the files' normalisation tables (training split).
    ZScore,
}

/// What a [`StreamSource`] hands out and how it reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamParams {
    /// The split whose projections are the rows.
    pub split: Split,
    /// Inputs (`inputs/<name>`), the batch's maps.
    pub inputs: Vec<String>,
    /// Scalars (`scalars/<name>`), the batch's scalar columns (none: the batch has no scalars).
    pub scalars: Vec<String>,
    /// Targets (`targets/<name>`), flattened into the batch's target columns.
    pub targets: Vec<String>,
    /// Scaling of the inputs (per channel).
    pub input_scaling: Scaling,
    /// Scaling of the scalars.
    pub scalar_scaling: Scaling,
    /// Scaling of the targets (per radius).
    pub target_scaling: Scaling,
    /// Blocks whose rows are shuffled together in an epoch's order (1: rows shuffled within each block only).
    pub window_chunks: usize,
    /// Blocks of the epoch's order decoded ahead by the background thread (0: no prefetching).
    pub prefetch_chunks: usize,
    /// Decoded blocks kept (the memory bound); at least `2 * (window_chunks + prefetch_chunks)`.
    pub cache_chunks: usize,
}

impl StreamParams {
    /// Rows of `split` with these inputs, scalars and targets, every part scaled by `scaling`; a window of 4 blocks,
    /// 8 prefetched, 32 cached.
    pub fn new(split: Split, inputs: &[&str], scalars: &[&str], targets: &[&str], scaling: Scaling) -> Self {
        let owned = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect();
        StreamParams {
            split,
            inputs: owned(inputs),
            scalars: owned(scalars),
            targets: owned(targets),
            input_scaling: scaling,
            scalar_scaling: scaling,
            target_scaling: scaling,
            window_chunks: 4,
            prefetch_chunks: 8,
            cache_chunks: 32,
        }
    }
}

/// Checked [`StreamParams`].
#[derive(Debug, Clone, PartialEq)]
pub struct StreamValidParams {
    params: StreamParams,
}

impl StreamValidParams {
    /// The parameters.
    pub fn params(&self) -> &StreamParams {
        &self.params
    }
}

impl Params for StreamParams {
    type Valid = StreamValidParams;
    type Error = PipelineError;

    fn check(&self) -> Result<StreamValidParams> {
        for (what, names) in [("inputs", &self.inputs), ("scalars", &self.scalars), ("targets", &self.targets)] {
            for (i, n) in names.iter().enumerate() {
                if n.is_empty() || names[..i].contains(n) {
                    return Err(PipelineError::invalid(
                        format!("stream {what}"),
                        format!("name {i} ({n:?}) is empty or named twice"),
                    ));
                }
            }
        }
        if self.inputs.is_empty() && self.scalars.is_empty() && self.targets.is_empty() {
            return Err(PipelineError::invalid("stream", "choose at least one input, scalar or target"));
        }
        if self.window_chunks == 0 {
            return Err(PipelineError::invalid("stream window_chunks", "must be at least 1"));
        }
        let least = 2 * (self.window_chunks + self.prefetch_chunks);
        if self.cache_chunks < least {
            return Err(PipelineError::invalid(
                "stream cache_chunks",
                format!(
                    "{} is less than 2 * (window_chunks {} + prefetch_chunks {}) = {least}",
                    self.cache_chunks, self.window_chunks, self.prefetch_chunks
                ),
            ));
        }
        Ok(StreamValidParams { params: self.clone() })
    }
}

/// What the cache and the prefetcher have done so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StreamStats {
    /// Blocks decoded by the thread asking for a batch (not ready in the cache).
    pub decoded_on_demand: u64,
    /// Blocks decoded by the prefetching thread.
    pub prefetched: u64,
    /// Blocks found in the cache when a batch needed them.
    pub cache_hits: u64,
    /// Times a batch waited for a block the prefetcher was decoding.
    pub waits: u64,
    /// Blocks dropped from the cache to make room.
    pub evictions: u64,
}

/// Rows `start..start + count` of file `file`, holding source rows `first_row..first_row + n_selected`.
#[derive(Debug, Clone, Copy)]
struct Block {
    file: usize,
    start: usize,
    count: usize,
    first_row: usize,
    n_selected: usize,
}

/// Subtract `mean`, multiply by `scale` (one pair per channel, scalar or radius).
#[derive(Debug, Clone)]
struct Affine {
    mean: Vec<f64>,
    scale: Vec<f64>,
}

impl Affine {
    fn from_table(table: &NormalisationTable, field: &str) -> Result<Affine> {
        let mut scale = Vec::with_capacity(table.len());
        for (j, (&m, &s)) in table.mean.iter().zip(&table.std).enumerate() {
            if !m.is_finite() || !s.is_finite() || s < 0.0 {
                return Err(PipelineError::invalid(
                    format!("normalisation of {field}"),
                    format!("row {j}: mean {m}, std {s} cannot z-score"),
                ));
            }
            scale.push(if s > 0.0 { 1.0 / s } else { 1.0 });
        }
        Ok(Affine { mean: table.mean.clone(), scale })
    }

    fn apply(&self, j: usize, v: f64) -> f32 {
        ((v - self.mean[j]) * self.scale[j]) as f32
    }
}

/// One decoded block: every chosen part of its `count` rows, row-major, scaled.
#[derive(Debug)]
struct Chunk {
    inputs: Vec<Vec<f32>>,
    scalars: Vec<f32>,
    targets: Vec<f32>,
}

#[derive(Debug, Default)]
struct Cache {
    entries: HashMap<usize, (Arc<Chunk>, u64)>,
    in_flight: HashSet<usize>,
    tick: u64,
}

#[derive(Debug, Default)]
struct Counters {
    decoded_on_demand: AtomicU64,
    prefetched: AtomicU64,
    cache_hits: AtomicU64,
    waits: AtomicU64,
    evictions: AtomicU64,
}

/// What the caller and the prefetching thread share.
#[derive(Debug)]
struct Shared {
    files: Vec<DatasetFile>,
    blocks: Vec<Block>,
    inputs: Vec<String>,
    input_shapes: Vec<InputShape>,
    scalars: Vec<String>,
    targets: Vec<String>,
    target_widths: Vec<usize>,
    input_scaling: Vec<Option<Affine>>,
    scalar_scaling: Vec<Option<Affine>>,
    target_scaling: Vec<Option<Affine>>,
    capacity: usize,
    cache: Mutex<Cache>,
    ready: Condvar,
    counters: Counters,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn n_target_columns(&self) -> usize {
        self.target_widths.iter().sum()
    }

    /// Reads and scales block `b`.
    fn decode(&self, b: usize) -> Result<Chunk> {
        let Block { file, start, count, .. } = self.blocks[b];
        let f = &self.files[file];
        let mut inputs = Vec::with_capacity(self.inputs.len());
        for ((name, shape), scaling) in self.inputs.iter().zip(&self.input_shapes).zip(&self.input_scaling) {
            let rows = f.read_input_rows(name, start, count)?;
            let mut values = if rows.is_standard_layout() {
                rows.into_raw_vec_and_offset().0
            } else {
                rows.iter().copied().collect()
            };
            if let Some(affine) = scaling {
                let plane = shape.y * shape.x;
                let per_channel = affine.mean.len() == shape.channels;
                for (k, v) in values.iter_mut().enumerate() {
                    let channel = if per_channel { (k / plane) % shape.channels } else { 0 };
                    *v = affine.apply(channel, f64::from(*v));
                }
            }
            inputs.push(values);
        }
        let n_scalars = self.scalars.len();
        let mut scalars = vec![0f32; count * n_scalars];
        for (j, (name, scaling)) in self.scalars.iter().zip(&self.scalar_scaling).enumerate() {
            for (i, v) in f.scalar_rows(name, start, count)?.iter().enumerate() {
                scalars[i * n_scalars + j] = scaling.as_ref().map_or(*v as f32, |a| a.apply(0, *v));
            }
        }
        let width = self.n_target_columns();
        let mut targets = vec![0f32; count * width];
        let mut column = 0;
        for ((name, &k), scaling) in self.targets.iter().zip(&self.target_widths).zip(&self.target_scaling) {
            let values = f.target_rows(name, start, count)?;
            for ((i, r), v) in values.indexed_iter() {
                targets[i * width + column + r] = scaling.as_ref().map_or(*v as f32, |a| a.apply(r, *v));
            }
            column += k;
        }
        Ok(Chunk { inputs, scalars, targets })
    }

    /// Block `b` from the cache, or decoded (waiting if the prefetcher is on it). With `prefetching`, `None` when it
    /// is cached or being decoded already.
    fn fetch(&self, b: usize, prefetching: bool) -> Result<Option<Arc<Chunk>>> {
        let mut cache = lock(&self.cache);
        loop {
            cache.tick += 1;
            let tick = cache.tick;
            if let Some((chunk, used)) = cache.entries.get_mut(&b) {
                if prefetching {
                    return Ok(None);
                }
                *used = tick;
                self.counters.cache_hits.fetch_add(1, Ordering::Relaxed);
                return Ok(Some(Arc::clone(chunk)));
            }
            if !cache.in_flight.contains(&b) {
                break;
            }
            if prefetching {
                return Ok(None);
            }
            self.counters.waits.fetch_add(1, Ordering::Relaxed);
            cache = self.ready.wait(cache).unwrap_or_else(PoisonError::into_inner);
        }
        cache.in_flight.insert(b);
        drop(cache);
        let decoded = self.decode(b).map(Arc::new);
        let mut cache = lock(&self.cache);
        cache.in_flight.remove(&b);
        if let Ok(chunk) = &decoded {
            while cache.entries.len() >= self.capacity {
                let oldest = cache.entries.iter().min_by_key(|(_, (_, used))| *used).map(|(k, _)| *k);
                match oldest {
                    Some(k) => {
                        cache.entries.remove(&k);
                        self.counters.evictions.fetch_add(1, Ordering::Relaxed);
                    }
                    None => break,
                }
            }
            cache.tick += 1;
            let tick = cache.tick;
            cache.entries.insert(b, (Arc::clone(chunk), tick));
            let counter = if prefetching { &self.counters.prefetched } else { &self.counters.decoded_on_demand };
            counter.fetch_add(1, Ordering::Relaxed);
        }
        drop(cache);
        self.ready.notify_all();
        decoded.map(Some)
    }
}

/// The current epoch's block order and how far the prefetcher has been asked to go.
#[derive(Debug)]
struct Plan {
    order: Vec<usize>,
    position: Vec<usize>,
    requested: usize,
}

impl Plan {
    fn new(order: Vec<usize>, n_blocks: usize) -> Plan {
        let mut position = vec![usize::MAX; n_blocks];
        for (p, &b) in order.iter().enumerate() {
            position[b] = p;
        }
        Plan { order, position, requested: 0 }
    }
}

/// A [`BatchSource`] streaming the rows of one split of one or several dataset files (module docs).
#[derive(Debug)]
pub struct StreamSource {
    shared: Arc<Shared>,
    /// Per source row: its block and its offset within the block.
    rows: Vec<(u32, u32)>,
    window_chunks: usize,
    prefetch_chunks: usize,
    plan: Mutex<Plan>,
    prefetch: Option<SyncSender<usize>>,
    worker: Option<JoinHandle<()>>,
    tables: BTreeMap<(Part, String), NormalisationTable>,
}

/// The pooled table of `part`/`name` over `files`, weighted by each table's training rows (else the file's count).
fn pooled_table(files: &[DatasetFile], splits: &[Vec<Split>], part: Part, name: &str) -> Result<NormalisationTable> {
    let mut tables = Vec::with_capacity(files.len());
    for (f, split) in files.iter().zip(splits) {
        let t = f.normalisation(part, name)?;
        let weight = t.n_rows.unwrap_or_else(|| split.iter().filter(|s| **s == Split::Train).count() as u64);
        tables.push((t, weight));
    }
    let refs: Vec<(&NormalisationTable, u64)> = tables.iter().map(|(t, w)| (t, *w)).collect();
    NormalisationTable::pooled(&refs).ok_or_else(|| {
        PipelineError::invalid(
            format!("normalisation/{}/{name}", part.name()),
            "the files' tables differ in length or cover no training rows".to_owned(),
        )
    })
}

fn bad(path: &Path, field: impl Into<String>, reason: impl Into<String>) -> PipelineError {
    PipelineError::BadFile { path: path.to_owned(), field: field.into(), reason: reason.into() }
}

impl StreamSource {
    /// Opens `paths` (at least one) and indexes the rows of the chosen split. Every file must have the chosen
    /// inputs with equal shapes and the chosen scalars and targets with equal radii and radius units.
    pub fn open(paths: &[&Path], params: &StreamValidParams) -> Result<StreamSource> {
        let p = &params.params;
        if paths.is_empty() {
            return Err(PipelineError::invalid("stream files", "no dataset file given"));
        }
        let files = paths.iter().map(|path| DatasetFile::open(path)).collect::<Result<Vec<_>>>()?;
        let first = &files[0];
        let input_shapes = p.inputs.iter().map(|n| first.input_shape(n)).collect::<Result<Vec<_>>>()?;
        let target_infos = p.targets.iter().map(|n| first.target_info(n)).collect::<Result<Vec<_>>>()?;
        for name in &p.scalars {
            first.scalar_unit(name)?;
        }
        for f in &files[1..] {
            for (name, shape) in p.inputs.iter().zip(&input_shapes) {
                let other = f.input_shape(name)?;
                if other != *shape {
                    return Err(bad(
                        f.path(),
                        format!("inputs/{name}"),
                        format!("rows of shape {other:?}, {} has {shape:?}", first.path().display()),
                    ));
                }
            }
            for name in &p.scalars {
                f.scalar_unit(name)?;
            }
            for (name, info) in p.targets.iter().zip(&target_infos) {
                let other = f.target_info(name)?;
                if other.radii != info.radii || other.radius_unit != info.radius_unit || other.unit != info.unit {
                    return Err(bad(
                        f.path(),
                        format!("targets/{name}"),
                        format!(
                            "radii {:?} {} ({}), {} has {:?} {} ({})",
                            other.radii,
                            other.radius_unit,
                            other.unit,
                            first.path().display(),
                            info.radii,
                            info.radius_unit,
                            info.unit
                        ),
                    ));
                }
            }
        }
        let splits = files.iter().map(DatasetFile::split).collect::<Result<Vec<_>>>()?;
        let mut tables = BTreeMap::new();
        let mut scaling_of = |part: Part, names: &[String], scaling: Scaling| -> Result<Vec<Option<Affine>>> {
            names
                .iter()
                .map(|name| match scaling {
                    Scaling::Raw => Ok(None),
                    Scaling::ZScore => {
                        let table = pooled_table(&files, &splits, part, name)?;
                        let affine = Affine::from_table(&table, &format!("{}/{name}", part.name()))?;
                        tables.insert((part, name.clone()), table);
                        Ok(Some(affine))
                    }
                })
                .collect()
        };
        let input_scaling = scaling_of(Part::Inputs, &p.inputs, p.input_scaling)?;
        let scalar_scaling = scaling_of(Part::Scalars, &p.scalars, p.scalar_scaling)?;
        let target_scaling = scaling_of(Part::Targets, &p.targets, p.target_scaling)?;
        for (name, (affine, shape)) in p.inputs.iter().zip(input_scaling.iter().zip(&input_shapes)) {
            if let Some(a) = affine {
                if a.mean.len() != shape.channels && a.mean.len() != 1 {
                    return Err(bad(
                        first.path(),
                        format!("normalisation/inputs/{name}"),
                        format!(
                            "{} rows for {} channels (expected one per channel, or 1)",
                            a.mean.len(),
                            shape.channels
                        ),
                    ));
                }
            }
        }
        let target_widths: Vec<usize> = target_infos.iter().map(|t| t.radii.len()).collect();
        for (name, (affine, &k)) in p.targets.iter().zip(target_scaling.iter().zip(&target_widths)) {
            if let Some(a) = affine {
                if a.mean.len() != k {
                    return Err(bad(
                        first.path(),
                        format!("normalisation/targets/{name}"),
                        format!("{} rows for {k} radii", a.mean.len()),
                    ));
                }
            }
        }

        // Blocks: the chunks of the first chosen dataset, keeping those that hold rows of the split.
        let mut blocks = Vec::new();
        let mut rows = Vec::new();
        for (fi, (f, split)) in files.iter().zip(&splits).enumerate() {
            let field = match (p.inputs.first(), p.targets.first(), p.scalars.first()) {
                (Some(n), _, _) => format!("inputs/{n}"),
                (None, Some(n), _) => format!("targets/{n}"),
                (None, None, Some(n)) => format!("scalars/{n}"),
                (None, None, None) => "split".to_owned(),
            };
            let block_rows = f.chunk_rows(&field)?.unwrap_or(CONTIGUOUS_BLOCK_ROWS).max(1);
            for start in (0..f.n_projections()).step_by(block_rows) {
                let count = block_rows.min(f.n_projections() - start);
                let first_row = rows.len();
                let b = u32::try_from(blocks.len())
                    .map_err(|_| PipelineError::invalid("stream", "more than 2^32 blocks".to_owned()))?;
                for (offset, s) in split[start..start + count].iter().enumerate() {
                    if *s == p.split {
                        rows.push((b, offset as u32));
                    }
                }
                if rows.len() > first_row {
                    blocks.push(Block { file: fi, start, count, first_row, n_selected: rows.len() - first_row });
                }
            }
        }
        let n_blocks = blocks.len();
        let shared = Arc::new(Shared {
            files,
            blocks,
            inputs: p.inputs.clone(),
            input_shapes,
            scalars: p.scalars.clone(),
            targets: p.targets.clone(),
            target_widths,
            input_scaling,
            scalar_scaling,
            target_scaling,
            capacity: p.cache_chunks,
            cache: Mutex::new(Cache::default()),
            ready: Condvar::new(),
            counters: Counters::default(),
        });
        let (prefetch, worker) = if p.prefetch_chunks > 0 && n_blocks > 0 {
            let (tx, rx) = mpsc::sync_channel::<usize>(p.prefetch_chunks);
            let worker_shared = Arc::clone(&shared);
            let handle = std::thread::Builder::new()
                .name("galmass-stream-prefetch".into())
                .spawn(move || prefetch_loop(&worker_shared, &rx))
                .map_err(|e| PipelineError::Io {
                    path: paths[0].to_owned(),
                    context: "starting the prefetching thread".into(),
                    source: e,
                })?;
            (Some(tx), Some(handle))
        } else {
            (None, None)
        };
        Ok(StreamSource {
            shared,
            rows,
            window_chunks: p.window_chunks,
            prefetch_chunks: p.prefetch_chunks,
            plan: Mutex::new(Plan::new((0..n_blocks).collect(), n_blocks)),
            prefetch,
            worker,
            tables,
        })
    }

    /// The files, in the order of the row index space.
    pub fn files(&self) -> &[DatasetFile] {
        &self.shared.files
    }

    /// Where source row `row` comes from: (index into [`files`](Self::files), row within that file).
    pub fn row_origin(&self, row: usize) -> Option<(usize, usize)> {
        let &(b, offset) = self.rows.get(row)?;
        let block = &self.shared.blocks[b as usize];
        Some((block.file, block.start + offset as usize))
    }

    /// The inputs of a batch and the shape of a row of each.
    pub fn inputs(&self) -> Vec<(String, InputShape)> {
        self.shared.inputs.iter().cloned().zip(self.shared.input_shapes.iter().copied()).collect()
    }

    /// The scalar columns of a batch.
    pub fn scalars(&self) -> &[String] {
        &self.shared.scalars
    }

    /// The targets of a batch and their widths (radii), in column order.
    pub fn targets(&self) -> Vec<(String, usize)> {
        self.shared.targets.iter().cloned().zip(self.shared.target_widths.iter().copied()).collect()
    }

    /// The pooled normalisation table applied to `part`/`name` (`None` when that part is not z-scored), e.g. to
    /// bring predicted targets back to log10 values.
    pub fn table(&self, part: Part, name: &str) -> Option<&NormalisationTable> {
        self.tables.get(&(part, name.to_owned()))
    }

    /// Blocks holding rows of the split.
    pub fn n_blocks(&self) -> usize {
        self.shared.blocks.len()
    }

    /// Bytes of the largest decoded block (the cache holds at most `cache_chunks` of them).
    pub fn block_bytes(&self) -> usize {
        let s = &self.shared;
        let per_row =
            s.input_shapes.iter().map(|shape| shape.row_len()).sum::<usize>() + s.scalars.len() + s.n_target_columns();
        s.blocks.iter().map(|b| b.count).max().unwrap_or(0) * per_row * std::mem::size_of::<f32>()
    }

    /// What the cache and the prefetcher have done so far.
    pub fn stats(&self) -> StreamStats {
        let c = &self.shared.counters;
        StreamStats {
            decoded_on_demand: c.decoded_on_demand.load(Ordering::Relaxed),
            prefetched: c.prefetched.load(Ordering::Relaxed),
            cache_hits: c.cache_hits.load(Ordering::Relaxed),
            waits: c.waits.load(Ordering::Relaxed),
            evictions: c.evictions.load(Ordering::Relaxed),
        }
    }

    /// Asks the prefetcher for the blocks of the plan after position `after` (or from the start), up to
    /// `prefetch_chunks` ahead; a full queue stops the asking until the next batch.
    fn request_ahead(&self, plan: &mut Plan, after: Option<usize>) {
        let Some(tx) = &self.prefetch else { return };
        let next = after.map_or(0, |p| p + 1);
        let end = (next + self.prefetch_chunks).min(plan.order.len());
        let mut p = plan.requested.max(next);
        while p < end {
            match tx.try_send(plan.order[p]) {
                Ok(()) => p += 1,
                Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => break,
            }
        }
        plan.requested = plan.requested.max(p);
    }

    fn batch_inner(&self, indices: &[usize]) -> Result<Batch> {
        let s = &*self.shared;
        if let Some(&i) = indices.iter().find(|&&i| i >= self.rows.len()) {
            return Err(PipelineError::invalid(
                "stream rows",
                format!("row {i} of a source of {} rows", self.rows.len()),
            ));
        }
        let mut needed: Vec<usize> = Vec::new();
        for &i in indices {
            let b = self.rows[i].0 as usize;
            if !needed.contains(&b) {
                needed.push(b);
            }
        }
        {
            let mut plan = lock(&self.plan);
            let furthest = needed.iter().map(|&b| plan.position[b]).filter(|&p| p != usize::MAX).max();
            self.request_ahead(&mut plan, furthest);
        }
        let mut chunks: HashMap<usize, Arc<Chunk>> = HashMap::with_capacity(needed.len());
        for &b in &needed {
            if let Some(chunk) = s.fetch(b, false)? {
                chunks.insert(b, chunk);
            }
        }
        let n = indices.len();
        let mut inputs: Vec<Vec<f32>> =
            s.input_shapes.iter().map(|shape| Vec::with_capacity(n * shape.row_len())).collect();
        let n_scalars = s.scalars.len();
        let width = s.n_target_columns();
        let mut scalars = Vec::with_capacity(n * n_scalars);
        let mut targets = Vec::with_capacity(n * width);
        for &i in indices {
            let (b, offset) = self.rows[i];
            let offset = offset as usize;
            let chunk =
                chunks.get(&(b as usize)).ok_or_else(|| PipelineError::invalid("stream", "a block went missing"))?;
            let finite = |values: &[f32], what: &str| -> Result<()> {
                if values.iter().all(|v| v.is_finite()) {
                    return Ok(());
                }
                let block = &s.blocks[b as usize];
                Err(bad(
                    s.files[block.file].path(),
                    what.to_owned(),
                    format!("non-finite value in row {} (source row {i})", block.start + offset),
                ))
            };
            for ((out, values), (name, shape)) in
                inputs.iter_mut().zip(&chunk.inputs).zip(s.inputs.iter().zip(&s.input_shapes))
            {
                let len = shape.row_len();
                let row = &values[offset * len..(offset + 1) * len];
                finite(row, &format!("inputs/{name}"))?;
                out.extend_from_slice(row);
            }
            let row = &chunk.scalars[offset * n_scalars..(offset + 1) * n_scalars];
            finite(row, "scalars")?;
            scalars.extend_from_slice(row);
            let row = &chunk.targets[offset * width..(offset + 1) * width];
            finite(row, "targets")?;
            targets.extend_from_slice(row);
        }
        let shape_err = |e: ndarray::ShapeError| PipelineError::invalid("stream batch", e.to_string());
        let mut maps = BTreeMap::new();
        for ((name, shape), values) in s.inputs.iter().zip(&s.input_shapes).zip(inputs) {
            let map = ArrayD::from_shape_vec(vec![n, shape.channels, shape.y, shape.x], values).map_err(shape_err)?;
            maps.insert(name.clone(), map);
        }
        let scalars = if n_scalars == 0 {
            None
        } else {
            Some(Array2::from_shape_vec((n, n_scalars), scalars).map_err(shape_err)?)
        };
        let targets = Array2::from_shape_vec((n, width), targets).map_err(shape_err)?;
        Ok(Batch { inputs: maps, scalars, targets })
    }
}

fn prefetch_loop(shared: &Shared, rx: &Receiver<usize>) {
    while let Ok(b) = rx.recv() {
        // A failed read is left to the batch that needs the block, which reads it again and reports the error.
        if let Err(e) = shared.fetch(b, true) {
            tracing::debug!("prefetching block {b}: {e}");
        }
    }
}

impl BatchSource for StreamSource {
    fn len(&self) -> usize {
        self.rows.len()
    }

    fn batch(&self, indices: &[usize]) -> std::result::Result<Batch, ModelError> {
        self.batch_inner(indices).map_err(|e| ModelError::InvalidData { field: "stream", reason: e.to_string() })
    }

    /// Blocks shuffled (ChaCha8 stream `epoch << 32` of `seed`), then the rows of each window of `window_chunks`
    /// blocks shuffled (stream `epoch << 32 | (window + 1)`); the prefetcher starts on the first blocks.
    fn epoch_order(&self, epoch: usize, seed: u64) -> Vec<usize> {
        let stream = (epoch as u64) << 32;
        let mut block_order: Vec<usize> = (0..self.shared.blocks.len()).collect();
        seeded_shuffle(&mut block_order, seed, stream);
        let mut order = Vec::with_capacity(self.rows.len());
        for (w, window) in block_order.chunks(self.window_chunks).enumerate() {
            let start = order.len();
            for &b in window {
                let block = &self.shared.blocks[b];
                order.extend(block.first_row..block.first_row + block.n_selected);
            }
            seeded_shuffle(&mut order[start..], seed, stream | (w as u64 + 1));
        }
        let mut plan = lock(&self.plan);
        *plan = Plan::new(block_order, self.shared.blocks.len());
        self.request_ahead(&mut plan, None);
        order
    }
}

impl Drop for StreamSource {
    fn drop(&mut self) {
        // Closing the channel ends the prefetching thread after the block in hand.
        self.prefetch.take();
        if let Some(worker) = self.worker.take() {
            if worker.join().is_err() {
                tracing::warn!("the prefetching thread panicked");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::super::reader::test_files::{self, Spec};
    use super::*;

    fn files(dir: &Path, specs: &[Spec]) -> Vec<PathBuf> {
        specs
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                let path = dir.join(format!("dataset{i}.h5"));
                test_files::write(&path, spec);
                path
            })
            .collect()
    }

    fn open(paths: &[PathBuf], params: &StreamParams) -> StreamSource {
        let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
        StreamSource::open(&refs, &params.check().unwrap()).unwrap()
    }

    fn params(scaling: Scaling) -> StreamParams {
        StreamParams {
            window_chunks: 2,
            prefetch_chunks: 2,
            cache_chunks: 8,
            ..StreamParams::new(Split::Train, &["hi_mom0", "star_xy"], &["r_h_kpc"], &["log10_mtot"], scaling)
        }
    }

    #[test]
    fn every_training_row_once_per_epoch_across_files_in_chunk_windows() {
        let dir = tempfile::tempdir().unwrap();
        // Two files; the second starts at global row 50, with chunks of 5 rows.
        let paths = files(dir.path(), &[Spec::small(50, 0), Spec { chunk_rows: 5, ..Spec::small(23, 50) }]);
        let source = open(&paths, &params(Scaling::Raw));
        let train: Vec<usize> = (0..73).filter(|&g| test_files::split_of(g) == Split::Train).collect();
        assert_eq!(source.len(), train.len());
        // Row r of the source is the r-th training row, file by file.
        let origins: Vec<usize> = (0..source.len())
            .map(|r| source.row_origin(r).map(|(f, i)| if f == 0 { i } else { 50 + i }).unwrap())
            .collect();
        assert_eq!(origins, train);
        assert!(source.row_origin(source.len()).is_none());
        let mut orders = Vec::new();
        for epoch in 0..3 {
            let order = source.epoch_order(epoch, 9);
            let mut sorted = order.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, (0..source.len()).collect::<Vec<_>>(), "epoch {epoch}");
            // Each window of 2 blocks of the epoch's block order is a contiguous stretch of the order.
            let block_order = lock(&source.plan).order.clone();
            assert_eq!(block_order.len(), source.n_blocks());
            let mut rest = order.as_slice();
            for window in block_order.chunks(2) {
                let n: usize = window.iter().map(|&b| source.shared.blocks[b].n_selected).sum();
                let (stretch, tail) = rest.split_at(n);
                assert!(stretch.iter().all(|&r| window.contains(&(source.rows[r].0 as usize))));
                rest = tail;
            }
            assert!(rest.is_empty());
            assert_eq!(order, source.epoch_order(epoch, 9));
            orders.push(order);
        }
        assert_ne!(orders[0], orders[1]);
        assert_ne!(orders[1], orders[2]);
        assert_ne!(source.epoch_order(0, 10), orders[0]);
    }

    #[test]
    fn batches_equal_the_rows_read_directly() {
        let dir = tempfile::tempdir().unwrap();
        let paths = files(dir.path(), &[Spec::small(30, 0), Spec::small(17, 30)]);
        // A cache of every block: no block can be dropped before its batch, whatever the prefetcher's timing.
        let source = open(&paths, &StreamParams { cache_chunks: 16, ..params(Scaling::Raw) });
        let readers: Vec<DatasetFile> = paths.iter().map(|p| DatasetFile::open(p).unwrap()).collect();
        let order = source.epoch_order(1, 3);
        let mut rows_seen = 0;
        for indices in order.chunks(7) {
            let batch = source.batch(indices).unwrap();
            assert_eq!(batch.len(), indices.len());
            assert_eq!(batch.inputs.keys().collect::<Vec<_>>(), ["hi_mom0", "star_xy"]);
            for (k, &r) in indices.iter().enumerate() {
                let (f, i) = source.row_origin(r).unwrap();
                for name in ["hi_mom0", "star_xy"] {
                    let direct = readers[f].read_input_rows(name, i, 1).unwrap();
                    let got = batch.inputs[name].index_axis(ndarray::Axis(0), k);
                    assert_eq!(got, direct.index_axis(ndarray::Axis(0), 0).into_dyn());
                }
                let scalars = batch.scalars.as_ref().unwrap();
                assert_eq!(scalars.dim().1, 1);
                assert_eq!(scalars[[k, 0]], readers[f].scalar("r_h_kpc").unwrap()[i] as f32);
                let t = readers[f].target("log10_mtot").unwrap();
                assert_eq!(batch.targets.row(k).to_vec(), t.row(i).iter().map(|v| *v as f32).collect::<Vec<_>>());
            }
            rows_seen += indices.len();
        }
        assert_eq!(rows_seen, source.len());
        // The whole epoch read each block once (cache large enough, prefetch or on demand).
        let stats = source.stats();
        assert!(source.n_blocks() <= 16);
        assert_eq!(stats.decoded_on_demand + stats.prefetched, source.n_blocks() as u64, "{stats:?}");
        // Any order works, including rows outside the epoch's order; bad rows are errors.
        let b = source.batch(&[5, 0, 5]).unwrap();
        assert_eq!(b.targets.row(0), b.targets.row(2));
        assert!(source.batch(&[source.len()]).is_err());
        // Scalars can be left out; validation rows are another source.
        let p = StreamParams { split: Split::Validation, scalars: vec![], ..params(Scaling::Raw) };
        let validation = open(&paths, &p);
        assert_eq!(validation.len(), (0..47).filter(|&g| test_files::split_of(g) == Split::Validation).count());
        assert!(validation.batch(&[0, 1]).unwrap().scalars.is_none());
    }

    #[test]
    fn memory_stays_within_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let paths = files(dir.path(), &[Spec { chunk_rows: 2, ..Spec::small(80, 0) }]);
        let p = StreamParams { window_chunks: 1, prefetch_chunks: 1, cache_chunks: 4, ..params(Scaling::Raw) };
        let source = open(&paths, &p);
        for epoch in 0..2 {
            let order = source.epoch_order(epoch, 1);
            for indices in order.chunks(3) {
                source.batch(indices).unwrap();
                assert!(lock(&source.shared.cache).entries.len() <= 4);
            }
        }
        assert!(source.stats().evictions > 0);
    }

    #[test]
    fn z_scoring_uses_the_pooled_normalisation_tables() {
        let dir = tempfile::tempdir().unwrap();
        let paths = files(dir.path(), &[Spec::small(12, 0)]);
        let raw = open(&paths, &params(Scaling::Raw));
        let z = open(&paths, &params(Scaling::ZScore));
        assert!(raw.table(Part::Targets, "log10_mtot").is_none());
        let (a, b) = (raw.batch(&[0, 3]).unwrap(), z.batch(&[0, 3]).unwrap());
        let row = |part: usize, j: usize| test_files::table_row(part, j);
        for k in 0..3 {
            let [m, s, ..] = row(2, k);
            assert!((b.targets[[1, k]] - ((f64::from(a.targets[[1, k]]) - m) / s) as f32).abs() < 1e-5);
        }
        let [m, s, ..] = row(1, 0);
        let expected = ((f64::from(a.scalars.as_ref().unwrap()[[0, 0]]) - m) / s) as f32;
        assert!((b.scalars.as_ref().unwrap()[[0, 0]] - expected).abs() < 1e-5);
        // hi_mom0 has 2 channels, each with its own row of the table.
        for c in 0..2 {
            let [m, s, ..] = row(0, c);
            let (raw_v, z_v) = (a.inputs["hi_mom0"][[1, c, 2, 3]], b.inputs["hi_mom0"][[1, c, 2, 3]]);
            assert!((z_v - ((f64::from(raw_v) - m) / s) as f32).abs() < 1e-5);
        }
        assert_eq!(z.table(Part::Inputs, "hi_mom0").unwrap().mean, vec![row(0, 0)[0], row(0, 1)[0]]);
        // Inputs raw, targets z-scored.
        let mixed = open(&paths, &StreamParams { input_scaling: Scaling::Raw, ..params(Scaling::ZScore) });
        let c = mixed.batch(&[0, 3]).unwrap();
        assert_eq!(c.inputs, a.inputs);
        assert_eq!(c.targets, b.targets);
    }

    #[test]
    fn pooled_tables_are_the_statistics_of_the_union() {
        let xs = [1.0, 2.0, 4.0];
        let ys = [3.0, 7.0];
        let stats = |v: &[f64]| {
            let m = v.iter().sum::<f64>() / v.len() as f64;
            let s = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
            NormalisationTable {
                mean: vec![m],
                std: vec![s],
                min: vec![v.iter().copied().fold(f64::INFINITY, f64::min)],
                max: vec![v.iter().copied().fold(f64::NEG_INFINITY, f64::max)],
                n_rows: Some(v.len() as u64),
            }
        };
        let all = stats(&[1.0, 2.0, 4.0, 3.0, 7.0]);
        let pooled = NormalisationTable::pooled(&[(&stats(&xs), 3), (&stats(&ys), 2)]).unwrap();
        assert!((pooled.mean[0] - all.mean[0]).abs() < 1e-12);
        assert!((pooled.std[0] - all.std[0]).abs() < 1e-12);
        assert_eq!((pooled.min[0], pooled.max[0], pooled.n_rows), (1.0, 7.0, Some(5)));
        assert!(NormalisationTable::pooled(&[(&stats(&xs), 0)]).is_none());
    }

    #[test]
    fn files_that_disagree_and_bad_params_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let wide = Spec { targets: vec![("log10_mtot", 4)], ..Spec::small(8, 8) };
        let paths = files(dir.path(), &[Spec::small(8, 0), wide]);
        let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
        let err = StreamSource::open(&refs, &params(Scaling::Raw).check().unwrap()).unwrap_err();
        assert!(
            matches!(&err, PipelineError::BadFile { field, path, .. } if field == "targets/log10_mtot" && path == &paths[1]),
            "{err}"
        );
        let p = StreamParams { inputs: vec!["star_rv".into()], ..params(Scaling::Raw) };
        assert!(matches!(StreamSource::open(&refs[..1], &p.check().unwrap()), Err(PipelineError::BadFile { .. })));
        assert!(StreamParams { cache_chunks: 7, ..params(Scaling::Raw) }.check().is_err());
        assert!(StreamParams { window_chunks: 0, ..params(Scaling::Raw) }.check().is_err());
        assert!(StreamParams { targets: vec!["a".into(), "a".into()], ..params(Scaling::Raw) }.check().is_err());
        assert!(StreamSource::open(&[], &params(Scaling::Raw).check().unwrap()).is_err());
    }
}
