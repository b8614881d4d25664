//! Script values that name a set of structures — one `Structure`, an array of them, a
//! `Sample` or a `Dataset` — read by natives that work per structure (descriptors, grain
//! graphs). Structures of samples and datasets are regenerated on demand, not held.

use super::grains::{SharedSample, SharedStructure};
use super::{RResult, fail};
use crate::api::data::SharedDataset;
use crate::grains::Structure;
use rhai::{Array, Dynamic};
use std::sync::Arc;

pub enum Structures {
    One(SharedStructure),
    List(Vec<SharedStructure>),
    Sample(SharedSample),
    Data(SharedDataset),
}

impl Structures {
    pub fn from_value(func: &str, v: &Dynamic) -> RResult<Structures> {
        if let Some(s) = v.read_lock::<SharedStructure>() {
            return Ok(Structures::One(s.clone()));
        }
        if let Some(s) = v.read_lock::<SharedSample>() {
            return Ok(Structures::Sample(s.clone()));
        }
        if let Some(d) = v.read_lock::<SharedDataset>() {
            return Ok(Structures::Data(d.clone()));
        }
        if let Some(a) = v.read_lock::<Array>() {
            let list = crate::api::convert::items(func, "structures", "a Structure", &a)?;
            return Ok(Structures::List(list));
        }
        fail(
            func,
            format!(
                "expected a Structure, an array of Structures, a Sample or a Dataset, got {}",
                crate::docs::type_of(v)
            ),
        )
    }

    pub fn len(&self) -> usize {
        match self {
            Structures::One(_) => 1,
            Structures::List(l) => l.len(),
            Structures::Sample(s) => s.len(),
            Structures::Data(d) => d.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True for a single structure (results are then one row, not a table).
    pub fn single(&self) -> bool {
        matches!(self, Structures::One(_))
    }

    /// Structure `k` (built for samples and datasets).
    pub fn get(&self, k: usize) -> Result<Arc<Structure>, String> {
        match self {
            Structures::One(s) => Ok(s.clone()),
            Structures::List(l) => Ok(l[k].clone()),
            Structures::Sample(s) => s.get(k).map(Arc::new).map_err(|e| e.to_string()),
            Structures::Data(d) => d
                .dataset()
                .structure(d.rows()[k])
                .map(Arc::new)
                .map_err(|e| e.to_string()),
        }
    }
}
