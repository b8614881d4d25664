//! Anything that hands out encoded rasters by record index — a lazy [`Sample`], a dataset on
//! disk — and the shuffled mini-batches a network trains on. Training code sees only this
//! trait, so it streams from any source without loading all rasters into memory.

use super::encode::Encoding;
use super::sample::Sample;
use ndarray::Array4;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// Error of a raster source (each source has its own error type; training only reports it).
pub type SourceError = Box<dyn std::error::Error + Send + Sync>;

pub trait RasterSource: Send + Sync {
    /// Number of records.
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Grid of every raster, (nx, ny).
    fn grid(&self) -> (usize, usize);
    /// Rasters of `indices`, stacked into [batch, channels, ny, nx], in the order asked.
    fn encode_many(
        &self,
        indices: &[usize],
        encoding: Encoding,
    ) -> Result<Array4<f32>, SourceError>;
}

/// Structures in memory, all on the first one's grid.
impl RasterSource for Vec<std::sync::Arc<super::Structure>> {
    fn len(&self) -> usize {
        self.as_slice().len()
    }
    fn grid(&self) -> (usize, usize) {
        self.first().map_or((0, 0), |s| (s.nx(), s.ny()))
    }
    fn encode_many(&self, ids: &[usize], e: Encoding) -> Result<Array4<f32>, SourceError> {
        let (nx, ny) = self.grid();
        let mut out = Array4::zeros((ids.len(), e.channels(), ny, nx));
        for (k, &i) in ids.iter().enumerate() {
            let s = self
                .get(i)
                .ok_or_else(|| format!("record {i} of {}", self.len()))?;
            if (s.nx(), s.ny()) != (nx, ny) {
                return Err(format!(
                    "structure {i} is {}×{}, not {nx}×{ny} like the first",
                    s.nx(),
                    s.ny()
                )
                .into());
            }
            e.encode_into(s, out.index_axis_mut(ndarray::Axis(0), k));
        }
        Ok(out)
    }
}

impl RasterSource for Sample {
    fn len(&self) -> usize {
        Sample::len(self)
    }
    fn grid(&self) -> (usize, usize) {
        (self.options().nx, self.options().ny)
    }
    fn encode_many(
        &self,
        indices: &[usize],
        encoding: Encoding,
    ) -> Result<Array4<f32>, SourceError> {
        Ok(Sample::encode_many(self, indices, encoding)?)
    }
}

/// The record order of one epoch: a permutation of `ids` drawn from (seed, epoch) alone, so
/// a run resumed at epoch e sees the batches an uninterrupted run would have seen.
pub fn epoch_order(ids: &[usize], seed: u64, epoch: u64) -> Vec<usize> {
    let mut order = ids.to_vec();
    let key = super::rng::splitmix64(seed, epoch);
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(key));
    order
}

/// Shuffled mini-batches of one epoch over the records `ids` of `source` (the last batch may
/// be shorter). Rasters are built batch by batch as the iterator advances.
pub struct Batches<'a> {
    source: &'a dyn RasterSource,
    encoding: Encoding,
    order: Vec<usize>,
    batch: usize,
    next: usize,
}

impl<'a> Batches<'a> {
    pub fn new(
        source: &'a dyn RasterSource,
        ids: &[usize],
        encoding: Encoding,
        batch: usize,
        seed: u64,
        epoch: u64,
    ) -> Batches<'a> {
        Batches {
            source,
            encoding,
            order: epoch_order(ids, seed, epoch),
            batch: batch.max(1),
            next: 0,
        }
    }

    /// Number of batches in the epoch.
    pub fn batch_count(&self) -> usize {
        self.order.len().div_ceil(self.batch)
    }
}

impl Iterator for Batches<'_> {
    /// The record indices of the batch and their rasters.
    type Item = Result<(Vec<usize>, Array4<f32>), SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.order.len() {
            return None;
        }
        let end = (self.next + self.batch).min(self.order.len());
        let ids = self.order[self.next..end].to_vec();
        self.next = end;
        Some(
            self.source
                .encode_many(&ids, self.encoding)
                .map(|x| (ids, x)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grains::VoronoiOptions;

    #[test]
    fn batches_cover_each_record_once_in_a_seeded_order() {
        let opts = VoronoiOptions {
            nx: 16,
            ny: 12,
            grains: Some(4),
            ..VoronoiOptions::default()
        };
        let s = Sample::new(opts, 5, 10).unwrap();
        let ids: Vec<usize> = (0..10).collect();
        let b = Batches::new(&s, &ids, Encoding::Kx, 4, 1, 0);
        assert_eq!(b.batch_count(), 3);
        let got: Vec<_> = b.map(|r| r.unwrap()).collect();
        assert_eq!(
            got.iter().map(|(i, _)| i.len()).collect::<Vec<_>>(),
            vec![4, 4, 2]
        );
        assert_eq!(got[0].1.shape(), &[4, 1, 12, 16]);
        let mut all: Vec<usize> = got.iter().flat_map(|(i, _)| i.clone()).collect();
        assert_ne!(all, ids, "shuffled");
        all.sort();
        assert_eq!(all, ids);
        // Same (seed, epoch) → same order; another epoch → another order.
        assert_eq!(epoch_order(&ids, 1, 0), epoch_order(&ids, 1, 0));
        assert_ne!(epoch_order(&ids, 1, 0), epoch_order(&ids, 1, 1));
        // Rasters are those of the records named.
        assert_eq!(
            got[0].1.index_axis(ndarray::Axis(0), 0),
            s.get(got[0].0[0]).unwrap().encode_kx().view()
        );
    }
}
