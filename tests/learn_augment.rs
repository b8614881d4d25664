//! Symmetry augmentation keeps VAE training reproducible: the same seed gives the same
//! weights, and a run split over two calls draws what one call does (its own process:
//! libtorch's random generator is process-wide, so tests running beside it would draw
//! from it too: the tests here take turns).

use coercive::grains::{Encoding, Sample, VoronoiOptions};
use coercive::learn::tensor::to_array;
use coercive::learn::{Vae, VaeConfig, VaeTrain};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Held by each test: they share libtorch's generator.
static TURN: Mutex<()> = Mutex::new(());

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
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
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

/// Mean cos² of the easy axes over the cells: a label every curve-preserving symmetry keeps.
fn alignment(s: &coercive::grains::Structure) -> f64 {
    let a = s.cell_angles();
    a.iter().map(|t| t.cos().powi(2)).sum::<f64>() / a.len() as f64
}

#[test]
fn labelled_training_teaches_the_codes_and_is_reproducible() {
    use coercive::learn::Supervision;
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    tch::set_num_threads(1);
    coercive::progress::set_quiet(true);
    let sample = Sample::new(VoronoiOptions::square(32), 3, 24).unwrap();
    let labelled = Sample::new(VoronoiOptions::square(32), 4, 12).unwrap();
    let ids: Vec<usize> = (0..24).collect();
    let lids: Vec<usize> = (0..12).collect();
    // Six columns as the anchors have: the alignment, its square, and four missing.
    let targets = ndarray::Array2::from_shape_fn((12, 6), |(i, j)| {
        let c = alignment(&labelled.get(i).unwrap());
        match j {
            0 => c,
            1 => c * c,
            _ => f64::NAN,
        }
    });
    let mut cfg = VaeConfig::new(32, 32, Encoding::Kx, 4);
    cfg.labels = 6;
    let opts = VaeTrain {
        epochs: 8,
        batch: 4,
        lr: 1e-3,
        seed: 5,
        augment: true,
    };
    let run = |weight: f64, epochs: &[usize]| {
        let sup = Supervision {
            source: &labelled,
            ids: lids.clone(),
            targets: targets.clone(),
            weight,
            batch: 4,
        };
        let mut v = Vae::new(cfg.clone(), tch::Device::Cpu, 1).unwrap();
        for &e in epochs {
            let o = VaeTrain {
                epochs: e,
                ..opts.clone()
            };
            v.train_supervised(&sample, &ids, &o, Some(&sup)).unwrap();
        }
        let h = v.history();
        (h.last().unwrap().parts["labels"], weights_of(&v))
    };
    let (taught, a) = run(1.0, &[8]);
    assert!(a == run(1.0, &[8]).1, "same seed, same weights");
    assert!(
        a == run(1.0, &[3, 5]).1,
        "a run split over two calls draws what one call does"
    );
    // Weight 0: the head sees the labels but is never pulled towards them.
    let (untaught, b) = run(0.0, &[8]);
    assert!(a != b, "the label weight changes what is learnt");
    assert!(
        taught < 0.5 * untaught,
        "label MSE {taught} taught against {untaught} untaught"
    );
}
