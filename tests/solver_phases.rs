//! Materials per cell against analytic answers: a soft layer in a hard magnet (1D, no
//! demagnetisation). Easy axes along the field; the field is reversed in small steps.
//!
//! - Thick soft layer: it reverses early, and the walls it leaves are pinned at the phase
//!   boundaries until Hp/HA = (1 − εA·εK) / (1 + √(εA·εMs))² (Kronmüller & Goll 2002, the
//!   abrupt interface), with εX = X_soft / X_hard: 1/4 for equal A and Ms, 4/9 for A/4.
//! - Thin soft layer (K1 = 0, width d): reversal nucleates at the lowest h with a bound mode,
//!   k·tan(k·d/2) = κ with k² = h·K1/A, κ² = (1 − h)·K1/A, above Hp, so Hc = hN.
//!   Both check the exchange across cells of different A (the harmonic mean).

use coercive::solver::{Anchor, Material, Mesh, Precision, Problem, SweepOptions, Terms, sweep};

const CELL: f64 = 0.25e-9;

/// Hc of a chain of `hard + soft + hard` cells, the soft ones with `soft` constants.
fn hc(hard_cells: usize, soft_cells: usize, soft: Material) -> f64 {
    let n = 2 * hard_cells + soft_cells;
    let mesh = Mesh::new(n, 1, CELL, CELL, CELL).unwrap();
    // A tilt of 1e-4 rad lets the symmetric state leave its (unstable) equilibrium; it lowers
    // a Stoner–Wohlfarth switching field by 0.3 %.
    let psi = vec![1e-4; n];
    let hard = Material::nd2fe14b();
    let cells = (0..n)
        .map(|i| {
            if (hard_cells..hard_cells + soft_cells).contains(&i) {
                soft
            } else {
                hard
            }
        })
        .collect();
    let p = Problem::new(mesh, &psi)
        .unwrap()
        .with_material(hard)
        .unwrap()
        .with_cell_materials(cells)
        .unwrap()
        .with_terms(Terms {
            demag: false,
            ..Terms::default()
        });
    let mut opts = SweepOptions {
        h_start: 1.0,
        h_end: -1.0,
        h_step: 0.002,
        ..SweepOptions::default()
    };
    // The tilt's torques are far below the default tolerance.
    opts.min.tol = 1e-9;
    opts.min.precision = Precision::F64;
    let c = sweep(&p, &opts).unwrap();
    c.anchors().get(Anchor::Hc).expect("the chain reverses")
}

/// Kronmüller & Goll's pinning field of an abrupt interface.
fn pinning(eps_a: f64, eps_k: f64, eps_ms: f64) -> f64 {
    (1.0 - eps_a * eps_k) / (1.0 + (eps_a * eps_ms).sqrt()).powi(2)
}

#[test]
fn walls_are_pinned_at_a_thick_soft_layer() {
    let hard = Material::nd2fe14b();
    // 10 nm of hard phase each side (7 exchange lengths), 15 nm of soft phase (40 % of the
    // chain, so M only crosses zero when the walls depin). With K1 > 0 the soft layer only
    // reverses above its own anisotropy field, εK·HA: kept well below Hp here.
    for (eps_a, eps_k) in [(1.0, 0.0), (0.25, 0.0), (0.5, 0.1)] {
        let soft = Material {
            a: hard.a * eps_a,
            k1: hard.k1 * eps_k,
            ..hard
        };
        let got = hc(40, 60, soft);
        let want = pinning(eps_a, eps_k, 1.0);
        eprintln!("εA {eps_a}, εK {eps_k}: Hc {got:.4} HA, Hp {want:.4} HA");
        assert!(
            (got - want).abs() < 0.03 * want,
            "εA {eps_a}, εK {eps_k}: Hc {got:.4} HA, expected Hp {want:.4} HA"
        );
    }
}

#[test]
fn a_thin_soft_layer_nucleates_reversal_at_its_bound_mode() {
    let hard = Material::nd2fe14b();
    let soft = Material { k1: 0.0, ..hard };
    let delta = (hard.a / hard.k1).sqrt();
    for soft_cells in [4, 8] {
        let d = soft_cells as f64 * CELL;
        // k tan(k d/2) − κ rises from −κ(0) < 0 at h = 0; its root is hN.
        let f = |h: f64| {
            let (k, kappa) = (h.sqrt() / delta, (1.0 - h).sqrt() / delta);
            k * (k * d / 2.0).tan() - kappa
        };
        let (mut lo, mut hi) = (1e-9, 1.0 - 1e-12);
        for _ in 0..100 {
            let mid = 0.5 * (lo + hi);
            if f(mid) < 0.0 { lo = mid } else { hi = mid }
        }
        let h_n = 0.5 * (lo + hi);
        assert!(h_n > pinning(1.0, 0.0, 1.0), "nucleation must set Hc here");
        let got = hc(40, soft_cells, soft);
        eprintln!("{} nm soft layer: Hc {got:.4} HA, hN {h_n:.4} HA", d * 1e9);
        assert!(
            (got - h_n).abs() < 0.03 * h_n,
            "{} nm soft layer: Hc {got:.4} HA, expected hN {h_n:.4} HA",
            d * 1e9
        );
    }
}
