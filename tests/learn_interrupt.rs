//! Ctrl-C during training keeps the weights of the last finished epoch and says so (its own
//! process: the interrupt flag is process-wide).

use coercive::grains::{Encoding, RasterSource, Sample, SourceError, VoronoiOptions};
use coercive::learn::{LearnError, Vae, VaeConfig, VaeTrain};
use ndarray::Array4;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A sample that presses Ctrl-C when batch number `at` is asked for.
struct Interrupting {
    sample: Sample,
    calls: AtomicUsize,
    at: usize,
}

impl RasterSource for Interrupting {
    fn len(&self) -> usize {
        self.sample.len()
    }
    fn grid(&self) -> (usize, usize) {
        RasterSource::grid(&self.sample)
    }
    fn encode_many(&self, ids: &[usize], e: Encoding) -> Result<Array4<f32>, SourceError> {
        if self.calls.fetch_add(1, Ordering::SeqCst) + 1 == self.at {
            coercive::interrupt::request();
        }
        RasterSource::encode_many(&self.sample, ids, e)
    }
}

#[test]
fn interrupted_training_keeps_the_last_finished_epoch() {
    tch::set_num_threads(1);
    coercive::progress::set_quiet(true);
    let opts = VoronoiOptions {
        nx: 32,
        ny: 32,
        ..VoronoiOptions::default()
    };
    let sample = Sample::new(opts, 3, 8).unwrap();
    let ids: Vec<usize> = (0..8).collect();
    let train = VaeTrain {
        epochs: 3,
        batch: 4,
        lr: 1e-3,
        seed: 5,
        augment: false,
    };
    let cfg = VaeConfig::new(32, 32, Encoding::Kx, 4);
    // Reference: exactly one epoch.
    let mut one = Vae::new(cfg.clone(), tch::Device::Cpu, 1).unwrap();
    one.train(
        &sample,
        &ids,
        &VaeTrain {
            epochs: 1,
            ..train.clone()
        },
    )
    .unwrap();
    // Interrupted in the first batch of epoch 2 (two batches per epoch).
    let src = Interrupting {
        sample: sample.clone(),
        calls: AtomicUsize::new(0),
        at: 3,
    };
    let mut vae = Vae::new(cfg, tch::Device::Cpu, 1).unwrap();
    let err = vae.train(&src, &ids, &train).unwrap_err();
    coercive::interrupt::reset();
    assert!(
        matches!(err, LearnError::Interrupted { epoch: 2, .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("keeps the weights of epoch 1"),
        "{err}"
    );
    assert_eq!(vae.history().len(), 1);
    assert_eq!(
        vae.encode_source(&sample, &ids, 8).unwrap(),
        one.encode_source(&sample, &ids, 8).unwrap()
    );
}
