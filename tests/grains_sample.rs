//! Lazy samples: structure i depends on (base seed, i) only, whatever order, subset or
//! sample size is asked for.

use coercive::grains::{Encoding, Sample, VoronoiOptions};

fn opts() -> VoronoiOptions {
    VoronoiOptions {
        nx: 48,
        ny: 32,
        ..Default::default()
    }
}

#[test]
fn grains_sample_items_depend_on_base_seed_and_index_only() {
    let small = Sample::new(opts(), 17, 40).unwrap();
    let large = Sample::new(opts(), 17, 320_000).unwrap();
    let forward: Vec<_> = (0..40).map(|i| small.get(i).unwrap()).collect();
    for i in [39, 0, 17, 5, 17, 38] {
        assert_eq!(small.get(i).unwrap(), forward[i]);
        assert_eq!(large.get(i).unwrap(), forward[i]);
    }
    let subset = [31, 2, 2, 19];
    let many = large.get_many(&subset).unwrap();
    for (s, &i) in many.iter().zip(&subset) {
        assert_eq!(s, &forward[i]);
        assert_eq!(s.generator().unwrap().rng_seed, Some(small.seed_of(i)));
    }
    let other = Sample::new(opts(), 18, 40).unwrap();
    assert_ne!(other.get(0).unwrap(), forward[0]);
    let seeds: std::collections::HashSet<u64> = (0..1000).map(|i| large.seed_of(i)).collect();
    assert_eq!(seeds.len(), 1000);
    // The far end of a large sample is reachable without building what comes before.
    assert!(large.get(319_999).is_ok());
    let e = small.get(40).unwrap_err().to_string();
    assert!(e.contains("< 40") && e.contains("got 40"), "{e}");
}

#[test]
fn grains_sample_batches_encode_in_order() {
    let s = Sample::new(opts(), 5, 10).unwrap();
    let idx = [7, 1, 4];
    let kx = s.encode_many(&idx, Encoding::Kx).unwrap();
    assert_eq!(kx.shape(), &[3, 1, 32, 48]);
    let ax = s.encode_many(&idx, Encoding::Axis).unwrap();
    assert_eq!(ax.shape(), &[3, 2, 32, 48]);
    for (b, &i) in idx.iter().enumerate() {
        let one = s.get(i).unwrap();
        assert_eq!(kx.index_axis(ndarray::Axis(0), b), one.encode_kx());
        assert_eq!(ax.index_axis(ndarray::Axis(0), b), one.encode_axis());
    }
    assert_eq!(
        s.encode_many(&[], Encoding::Axis).unwrap().shape(),
        &[0, 2, 32, 48]
    );
}
