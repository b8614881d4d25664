//! Timing of `coercive bench grains` (ignored by default; run with
//! `cargo test --test grains_bench -- --ignored --nocapture`, threads from GRAINS_THREADS).

#[test]
fn grains_bench_runs_and_reports() {
    let r = coercive::bench::grains::run(40, Some(1)).unwrap();
    assert_eq!(r.count, 40);
    assert!(r.mean_grains >= 16.0 && r.mean_grains <= 256.0);
    assert!(r.to_string().contains("structures/s"), "{r}");
}

#[test]
#[ignore]
fn grains_bench_rate() {
    let threads = std::env::var("GRAINS_THREADS")
        .ok()
        .and_then(|t| t.parse().ok());
    let count = std::env::var("GRAINS_COUNT")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(10_000);
    println!("{}", coercive::bench::grains::run(count, threads).unwrap());
}
