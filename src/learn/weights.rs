//! What every trained model carries besides its layers: the var store (weights), the NAdam
//! state once trained, and the history; with device moves and the checkpoint round trip.

use super::Result;
use super::checkpoint::{self, Meta};
use super::nadam::{NAdam, NAdamConfig};
use super::train::{EpochRecord, seed_torch};
use serde::Serialize;
use std::path::Path;
use tch::Device;
use tch::nn::VarStore;

pub struct Weights {
    pub vs: VarStore,
    pub opt: Option<NAdam>,
    pub history: Vec<EpochRecord>,
}

impl Weights {
    /// An empty store on `device`; layers created next draw their weights from `seed`.
    pub fn new(device: Device, seed: u64) -> Weights {
        crate::memory::keep_freed_memory();
        seed_torch(seed, u64::MAX);
        Weights {
            vs: VarStore::new(device),
            opt: None,
            history: vec![],
        }
    }

    pub fn device(&self) -> Device {
        self.vs.device()
    }

    /// Moves weights and optimiser state.
    pub fn to_device(&mut self, device: Device) {
        if device != self.vs.device() {
            self.vs.set_device(device);
            if let Some(o) = &mut self.opt {
                o.to_device(device);
            }
        }
    }

    pub fn parameter_count(&self) -> usize {
        super::tensor::parameter_count(&self.vs)
    }

    /// The store, the optimiser (created on first use) at learning rate `lr` and the
    /// history, borrowed together for a training loop.
    pub fn parts(&mut self, lr: f64) -> (&VarStore, &mut NAdam, &mut Vec<EpochRecord>) {
        let Weights { vs, opt, history } = self;
        let opt = opt.get_or_insert_with(|| NAdam::new(vs, NAdamConfig::default()));
        opt.set_lr(lr);
        (vs, opt, history)
    }

    /// Writes the checkpoint of a model of `kind` whose own config is `model`.
    pub fn save<M: Serialize>(&self, path: impl AsRef<Path>, kind: &str, model: &M) -> Result<()> {
        checkpoint::save(
            path,
            kind,
            model,
            &self.history,
            &self.vs,
            self.opt.as_ref(),
        )
    }

    /// Fills a freshly built model's store from its checkpoint (weights checked against
    /// the architecture, optimiser state, history), then moves it to `device`.
    pub fn restore<M>(
        &mut self,
        path: impl AsRef<Path>,
        meta: &Meta<M>,
        device: Device,
    ) -> Result<()> {
        checkpoint::load_weights(&path, &mut self.vs, meta.checksum.as_deref())?;
        self.opt = checkpoint::load_optimizer(&path, meta.optimizer.clone(), &self.vs)?;
        self.history = meta.history.clone();
        self.to_device(device);
        Ok(())
    }
}
