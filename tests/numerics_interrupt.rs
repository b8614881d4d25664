//! Issue #12 item 12: long native loops without a progress hook stop on Ctrl-C (own
//! process: the interrupt flag is process-wide).

use coercive::grains::{VoronoiOptions, voronoi};

#[test]
fn item12_voronoi_and_pca_stop_on_ctrl_c() {
    coercive::interrupt::request();
    let big = VoronoiOptions {
        nx: 4096,
        ny: 4096,
        grains: Some(64),
        ..VoronoiOptions::default()
    };
    let t = std::time::Instant::now();
    let e = voronoi(&big).unwrap_err();
    assert!(e.to_string().contains("interrupted"), "{e}");
    let x = ndarray::Array2::<f32>::from_shape_fn((64, 32), |(i, j)| (i * j) as f32);
    let e = coercive::learn::baselines::Pca::fit(x.view(), 4).unwrap_err();
    assert!(e.to_string().contains("interrupted"), "{e}");
    assert!(t.elapsed().as_secs_f64() < 1.0, "{:?}", t.elapsed());
    coercive::interrupt::reset();
    assert!(voronoi(&big).is_ok());
}
