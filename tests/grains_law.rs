//! The paper's sampling law, tested on fixed seeds with stated critical values (each test at
//! significance 0.001, so a correct generator fails one of them about once in a thousand
//! seed choices; with the fixed seeds the outcome is deterministic):
//! ng uniform integer in [16, 256]; θ uniform in [−π, π]; ψ | θ uniform in [−|θ|, |θ|];
//! seeds uniform in the rectangle.

use coercive::grains::{Draws, Sample, VoronoiOptions, draw};
use std::f64::consts::PI;

/// Kolmogorov–Smirnov critical value √(−ln(α/2)/2)/√n at α = 0.001 (asymptotic).
fn ks_critical(n: usize) -> f64 {
    (-(0.001f64 / 2.0).ln() / 2.0).sqrt() / (n as f64).sqrt()
}

/// KS distance of `u` (values in [0, 1]) from the uniform law.
fn ks_uniform(mut u: Vec<f64>) -> f64 {
    u.sort_by(f64::total_cmp);
    let n = u.len() as f64;
    u.iter().enumerate().fold(0.0, |d, (k, &x)| {
        d.max((k as f64 + 1.0) / n - x).max(x - k as f64 / n)
    })
}

/// χ² quantile at 1 − 0.001 by Wilson–Hilferty (accurate to < 0.5 % at df ≥ 30).
fn chi2_critical(df: f64) -> f64 {
    let z = 3.0902; // standard normal 0.999 quantile
    let a = 2.0 / (9.0 * df);
    df * (1.0 - a + z * a.sqrt()).powi(3)
}

fn draws(n: usize, base: u64) -> Vec<Draws> {
    let s = Sample::new(
        VoronoiOptions {
            nx: 100,
            ny: 60,
            ..Default::default()
        },
        base,
        n,
    )
    .unwrap();
    (0..n)
        .map(|i| draw(&s.options_of(i).unwrap()).unwrap())
        .collect()
}

fn mean_sd(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let m = x.iter().sum::<f64>() / n;
    (
        m,
        (x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (n - 1.0)).sqrt(),
    )
}

#[test]
fn grains_law_grain_count_is_uniform_on_16_to_256() {
    let n = 241 * 200;
    let d = draws(n, 1);
    let mut count = [0usize; 241];
    for x in &d {
        assert!((16..=256).contains(&x.ng), "{}", x.ng);
        count[x.ng - 16] += 1;
    }
    let expect = n as f64 / 241.0;
    let chi2: f64 = count
        .iter()
        .map(|&c| (c as f64 - expect).powi(2) / expect)
        .sum();
    assert!(
        chi2 < chi2_critical(240.0),
        "χ² = {chi2} ≥ {}",
        chi2_critical(240.0)
    );
    let ng: Vec<f64> = d.iter().map(|x| x.ng as f64).collect();
    let (m, _) = mean_sd(&ng);
    let sd = ((241.0f64 * 241.0 - 1.0) / 12.0).sqrt();
    assert!(
        (m - 136.0).abs() < 4.0 * sd / (n as f64).sqrt(),
        "mean ng {m}"
    );
    // Successive structures independent: lag-1 correlation within 4 standard errors.
    let lag: f64 =
        ng.windows(2).map(|w| (w[0] - m) * (w[1] - m)).sum::<f64>() / ((n - 1) as f64 * sd * sd);
    assert!(
        lag.abs() < 4.0 / (n as f64).sqrt(),
        "lag-1 correlation {lag}"
    );
}

#[test]
fn grains_law_theta_is_uniform_on_minus_pi_to_pi() {
    let n = 20_000;
    let theta: Vec<f64> = draws(n, 2).iter().map(|x| x.theta).collect();
    assert!(theta.iter().all(|t| (-PI..=PI).contains(t)));
    let d = ks_uniform(theta.iter().map(|t| (t + PI) / (2.0 * PI)).collect());
    assert!(d < ks_critical(n), "KS D = {d} ≥ {}", ks_critical(n));
    let (m, _) = mean_sd(&theta);
    assert!(
        m.abs() < 4.0 * PI / 3f64.sqrt() / (n as f64).sqrt(),
        "mean θ {m}"
    );
}

#[test]
fn grains_law_psi_given_theta_is_uniform_on_plus_minus_theta() {
    let d = draws(4_000, 3);
    // Conditional on θ: split structures by |θ| into quarters of [0, π], test each.
    for q in 0..4 {
        let (lo, hi) = (q as f64 * PI / 4.0, (q + 1) as f64 * PI / 4.0);
        let mut u = Vec::new();
        for x in d
            .iter()
            .filter(|x| (lo..hi).contains(&x.theta.abs()) && x.theta != 0.0)
        {
            for &psi in &x.angles {
                assert!(psi.abs() <= x.theta.abs(), "ψ {psi} outside ±{}", x.theta);
                u.push(0.5 * (psi / x.theta.abs() + 1.0));
            }
        }
        let n = u.len();
        assert!(n > 50_000, "{n}");
        let (m, _) = mean_sd(&u);
        assert!(
            (m - 0.5).abs() < 4.0 / 12f64.sqrt() / (n as f64).sqrt(),
            "quarter {q}: mean {m}"
        );
        let ks = ks_uniform(u);
        assert!(
            ks < ks_critical(n),
            "quarter {q}: KS D = {ks} ≥ {}",
            ks_critical(n)
        );
    }
}

#[test]
fn grains_law_seeds_are_uniform_in_the_rectangle() {
    let d = draws(1_000, 4);
    let (lx, ly) = (200.0, 120.0);
    let (x, y): (Vec<f64>, Vec<f64>) = d
        .iter()
        .flat_map(|s| s.seeds_nm.iter().map(|p| (p[0] / lx, p[1] / ly)))
        .unzip();
    let n = x.len();
    assert!(x.iter().chain(&y).all(|v| (0.0..1.0).contains(v)));
    for (name, v) in [("x", &x), ("y", &y)] {
        let ks = ks_uniform(v.clone());
        assert!(
            ks < ks_critical(n),
            "{name}: KS D = {ks} ≥ {}",
            ks_critical(n)
        );
    }
    let corr = x
        .iter()
        .zip(&y)
        .map(|(a, b)| (a - 0.5) * (b - 0.5))
        .sum::<f64>()
        / (n as f64 / 12.0);
    assert!(
        corr.abs() < 4.0 / (n as f64).sqrt(),
        "x–y correlation {corr}"
    );
}

#[test]
fn grains_law_structures_are_built_from_these_draws() {
    let s = Sample::new(
        VoronoiOptions {
            nx: 40,
            ny: 40,
            ..Default::default()
        },
        9,
        20,
    )
    .unwrap();
    for i in 0..20 {
        let d = draw(&s.options_of(i).unwrap()).unwrap();
        let st = s.get(i).unwrap();
        let g = st.generator().unwrap();
        assert_eq!(
            (&g.seeds_nm, st.grain_angles(), g.theta),
            (&d.seeds_nm, &d.angles[..], Some(d.theta))
        );
    }
}
