//! Reading a finished dataset: [`Dataset`] holds its records (parameters and labels, not
//! rasters) and regenerates structure rasters on demand from the stored parameters, exactly
//! as `grains::Sample` with the dataset's options and seed would ([`Dataset::structure`]).
//! [`DatasetView`] is a subset of its records (all, filtered, or one side of a split); both
//! are [`RasterSource`]s, so training streams shuffled batches from them without holding
//! more than one batch of rasters.

use super::error::{DataError, Result};
use super::record::Record;
use super::spec::{Manifest, Spec};
use super::store;
use crate::grains::{Encoding, RasterSource, Sample, SourceError, Structure, VoronoiOptions};
use crate::solver::Curve;
use ndarray::Array4;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug)]
pub struct Dataset {
    dir: PathBuf,
    manifest: Manifest,
    records: Vec<Record>,
    /// Structure id of the dataset is structure id of this sample.
    sample: Sample,
    fields: Vec<f64>,
}

impl Dataset {
    /// Opens and checks (sizes, SHA-256, per-record CRC-32) the finished dataset in `dir`.
    pub fn open(dir: impl AsRef<Path>) -> Result<Arc<Dataset>> {
        let dir = dir.as_ref();
        let manifest = store::read_manifest(dir)?;
        let records = store::read_records(dir, &manifest)?;
        Self::from_parts(dir, manifest, records)
    }

    fn from_parts(dir: &Path, manifest: Manifest, records: Vec<Record>) -> Result<Arc<Dataset>> {
        let sample = manifest.spec.generator.sample(manifest.spec.count)?;
        if let Some((k, r)) = records
            .iter()
            .enumerate()
            .find(|(_, r)| r.seed != sample.seed_of(r.id as usize))
        {
            return Err(DataError::CorruptRecord {
                path: dir.join("seed.npy").display().to_string(),
                position: k,
                id: Some(r.id),
                what: "its seed is not splitmix64(base_seed, id)".into(),
            });
        }
        let fields = manifest.spec.fields();
        Ok(Arc::new(Dataset {
            dir: dir.to_path_buf(),
            manifest,
            records,
            sample,
            fields,
        }))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }
    pub fn spec(&self) -> &Spec {
        &self.manifest.spec
    }
    pub fn len(&self) -> usize {
        self.records.len()
    }
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
    pub fn labelled(&self) -> bool {
        self.spec().labelled()
    }
    /// All records, sorted by id (position k holds id `spec().ids[0] + k`).
    pub fn records(&self) -> &[Record] {
        &self.records
    }
    pub fn record(&self, pos: usize) -> &Record {
        &self.records[pos]
    }
    /// The applied fields of every curve (empty when unlabelled).
    pub fn fields(&self) -> &[f64] {
        &self.fields
    }

    /// The lazy sample whose structure i is record id i.
    pub fn sample(&self) -> &Sample {
        &self.sample
    }

    /// Generator options of the record at `pos` (its own rng seed).
    pub fn options_of(&self, pos: usize) -> Result<VoronoiOptions> {
        Ok(self.sample.options_of(self.records[pos].id as usize)?)
    }

    /// The structure of the record at `pos`, regenerated from its parameters.
    pub fn structure(&self, pos: usize) -> Result<Structure> {
        Ok(self.sample.get(self.records[pos].id as usize)?)
    }

    /// The stored curve of the record at `pos` (None when unlabelled).
    pub fn curve(&self, pos: usize) -> Option<Curve> {
        self.records[pos]
            .label
            .as_ref()
            .map(|l| l.curve(&self.fields))
    }

    /// A view of every record.
    pub fn view(self: &Arc<Self>) -> DatasetView {
        DatasetView {
            data: self.clone(),
            rows: Arc::new((0..self.len()).collect()),
        }
    }

    /// Rasters of the records at dataset positions `rows`.
    fn encode_rows(&self, rows: &[usize], encoding: Encoding) -> Result<Array4<f32>> {
        check_rows(rows, self.len())?;
        let ids: Vec<usize> = rows.iter().map(|&p| self.records[p].id as usize).collect();
        Ok(self.sample.encode_many(&ids, encoding)?)
    }
}

impl RasterSource for Dataset {
    fn len(&self) -> usize {
        Dataset::len(self)
    }
    fn grid(&self) -> (usize, usize) {
        (self.spec().generator.nx, self.spec().generator.ny)
    }
    /// `indices` are positions 0..len.
    fn encode_many(
        &self,
        indices: &[usize],
        encoding: Encoding,
    ) -> std::result::Result<Array4<f32>, SourceError> {
        Ok(self.encode_rows(indices, encoding)?)
    }
}

fn check_rows(indices: &[usize], len: usize) -> Result<()> {
    match indices.iter().find(|&&i| i >= len) {
        Some(i) => Err(DataError::BadOption {
            name: "index",
            got: i.to_string(),
            expected: format!("a record position in 0..{len}"),
        }),
        None => Ok(()),
    }
}

/// A subset of a dataset's records, in ascending id order. Position k of the view is
/// record `rows()[k]` of the dataset.
#[derive(Clone, Debug)]
pub struct DatasetView {
    data: Arc<Dataset>,
    rows: Arc<Vec<usize>>,
}

impl DatasetView {
    pub fn dataset(&self) -> &Arc<Dataset> {
        &self.data
    }
    pub fn len(&self) -> usize {
        self.rows.len()
    }
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
    /// Dataset positions of the view's records.
    pub fn rows(&self) -> &[usize] {
        &self.rows
    }
    /// Record ids of the view's records.
    pub fn ids(&self) -> Vec<u64> {
        self.rows.iter().map(|&p| self.data.records[p].id).collect()
    }
    /// The record at view position `k`.
    pub fn record(&self, k: usize) -> &Record {
        self.data.record(self.rows[k])
    }

    /// The records for which `keep` holds.
    pub fn filter(&self, mut keep: impl FnMut(&Record) -> bool) -> DatasetView {
        self.filter_rows(|&p| keep(self.data.record(p)))
    }

    /// The records at dataset positions for which `keep` holds.
    pub fn filter_rows(&self, keep: impl FnMut(&usize) -> bool) -> DatasetView {
        let mut keep = keep;
        DatasetView {
            data: self.data.clone(),
            rows: Arc::new(self.rows.iter().copied().filter(|p| keep(p)).collect()),
        }
    }

    /// Labelled records whose every field step converged.
    pub fn converged(&self) -> DatasetView {
        self.filter(|r| r.label.as_ref().is_some_and(|l| l.non_converged() == 0))
    }

    /// Labelled records with all six anchors.
    pub fn complete(&self) -> DatasetView {
        self.filter(|r| {
            r.label
                .as_ref()
                .is_some_and(|l| l.anchors.iter().all(Option::is_some))
        })
    }

    /// (train, test): a record goes to train when a hash of (id, seed) falls below `frac`,
    /// so each record's side depends only on its id and the seed — not on its position,
    /// the view or the dataset size.
    pub fn split(&self, frac: f64, seed: u64) -> (DatasetView, DatasetView) {
        let train = |r: &Record| in_train(r.id, frac, seed);
        (self.filter(train), self.filter(|r| !train(r)))
    }
}

/// Whether record `id` falls on the train side of a split at `frac` with `seed`.
pub fn in_train(id: u64, frac: f64, seed: u64) -> bool {
    let u = (crate::grains::rng::splitmix64(seed ^ 0x5eed_da7a, id) >> 11) as f64
        * (1.0 / (1u64 << 53) as f64);
    u < frac
}

impl RasterSource for DatasetView {
    fn len(&self) -> usize {
        DatasetView::len(self)
    }
    fn grid(&self) -> (usize, usize) {
        self.data.grid()
    }
    /// `indices` are view positions 0..len.
    fn encode_many(
        &self,
        indices: &[usize],
        encoding: Encoding,
    ) -> std::result::Result<Array4<f32>, SourceError> {
        check_rows(indices, self.len())?;
        let rows: Vec<usize> = indices.iter().map(|&k| self.rows[k]).collect();
        Ok(self.data.encode_rows(&rows, encoding)?)
    }
}
