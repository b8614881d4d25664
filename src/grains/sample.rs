//! Many structures drawn lazily: a `Sample` holds only the generator options, a base seed and
//! a count, and builds structure i on demand. Structure i's rng seed is output i of a
//! SplitMix64 generator started at the base seed — a function of (base seed, i) alone, so the
//! same structure comes back whatever order or subset is asked for.

use super::encode::Encoding;
use super::error::{GrainsError, Result, invalid};
use super::rng::splitmix64;
use super::structure::Structure;
use super::voronoi::{VoronoiOptions, voronoi};
use ndarray::{Array4, Axis};
use rayon::prelude::*;

#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    options: VoronoiOptions,
    base_seed: u64,
    count: usize,
}

impl Sample {
    /// `count` structures drawn with `options` (its `seed` is ignored: each structure gets
    /// its own from `base_seed`).
    pub fn new(options: VoronoiOptions, base_seed: u64, count: usize) -> Result<Sample> {
        options.validate()?;
        Ok(Sample {
            options,
            base_seed,
            count,
        })
    }

    pub fn len(&self) -> usize {
        self.count
    }
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
    pub fn base_seed(&self) -> u64 {
        self.base_seed
    }
    pub fn options(&self) -> &VoronoiOptions {
        &self.options
    }

    /// The rng seed of structure i.
    pub fn seed_of(&self, i: usize) -> u64 {
        splitmix64(self.base_seed, i as u64)
    }

    /// The generator options of structure i.
    pub fn options_of(&self, i: usize) -> Result<VoronoiOptions> {
        if i >= self.count {
            return Err(invalid(
                "sample index",
                format!("< {} (sample size)", self.count),
                i,
            ));
        }
        Ok(VoronoiOptions {
            seed: self.seed_of(i),
            ..self.options.clone()
        })
    }

    /// Structure i.
    pub fn get(&self, i: usize) -> Result<Structure> {
        voronoi(&self.options_of(i)?)
    }

    /// Structures 0, 1, … built one at a time as the iterator advances.
    pub fn iter(&self) -> impl Iterator<Item = Result<Structure>> + '_ {
        (0..self.count).map(|i| self.get(i))
    }

    /// Structures of `indices`, built in parallel, in the order asked; stops on Ctrl-C.
    pub fn get_many(&self, indices: &[usize]) -> Result<Vec<Structure>> {
        indices
            .par_iter()
            .map(|&i| {
                crate::interrupt::check()?;
                self.get(i)
            })
            .collect()
    }

    /// A network batch: `encoding` of each structure of `indices` stacked into
    /// [batch, channels, ny, nx], built in parallel without keeping the structures.
    pub fn encode_many(&self, indices: &[usize], encoding: Encoding) -> Result<Array4<f32>> {
        let (nx, ny) = (self.options.nx, self.options.ny);
        let mut out = Array4::zeros((indices.len(), encoding.channels(), ny, nx));
        out.axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(indices)
            .try_for_each(|(view, &i)| {
                crate::interrupt::check()?;
                encoding.encode_into(&self.get(i)?, view);
                Ok::<_, GrainsError>(())
            })?;
        Ok(out)
    }
}
