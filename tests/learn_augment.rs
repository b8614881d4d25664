//! Symmetry augmentation keeps VAE training reproducible: the same seed gives the same
//! weights, and a run split over two calls draws what one call does (its own process:
//! libtorch's random generator is process-wide, so tests running beside it would draw
//! from it too).

use coercive::grains::{Encoding, Sample, VoronoiOptions};
use coercive::learn::tensor::to_array;
use coercive::learn::{Vae, VaeConfig, VaeTrain};
use std::collections::BTreeMap;

/// Every weight, by name, as numbers.
fn weights_of(v: &Vae) -> BTreeMap<String, Vec<f32>> {
    v.var_store()
        .variables()
        .into_iter()
        .map(|(n, t)| (n, to_array(&t).iter().copied().collect()))
        .collect()
}

#[test]
fn augmented_training_is_reproducible_and_resumable() {
    tch::set_num_threads(1);
    coercive::progress::set_quiet(true);
    let sample = Sample::new(VoronoiOptions::square(32), 3, 12).unwrap();
    let ids: Vec<usize> = (0..12).collect();
    let cfg = VaeConfig::new(32, 32, Encoding::Kx, 4);
    let opts = VaeTrain {
        epochs: 2,
        batch: 4,
        lr: 1e-3,
        seed: 5,
        augment: true,
    };
    let run = |o: &VaeTrain, calls: usize| {
        let mut v = Vae::new(cfg.clone(), tch::Device::Cpu, 1).unwrap();
        for _ in 0..calls {
            v.train(&sample, &ids, o).unwrap();
        }
        weights_of(&v)
    };
    let a = run(&opts, 1);
    assert_eq!(a, run(&opts, 1), "same seed, same weights");
    let once = VaeTrain { epochs: 1, ..opts };
    assert_eq!(a, run(&once, 2), "two calls of one epoch = one call of two");
    let plain = VaeTrain {
        augment: false,
        ..opts
    };
    assert_ne!(a, run(&plain, 1), "augmentation changes what is learnt");
}
