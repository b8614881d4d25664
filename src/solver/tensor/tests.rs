//! The tensor backend on the CPU against the plain solver: the same gradient, the same
//! curves' anchors, fidimag's references, and curves independent of batch company.

use super::super::validation::{assert_curves_agree, reference_cells, reference_curve};
use super::super::*;
use super::terms::BatchEnergy;
use super::{TensorOptions, sweep_batched};
use crate::settings::Device;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::Tensor;

fn tensor(batch: usize) -> TensorOptions {
    TensorOptions {
        device: Device::Cpu,
        batch,
    }
}

fn voronoi(n: usize, seed: u64) -> Problem {
    let psi = crate::grains::voronoi(&crate::grains::VoronoiOptions {
        nx: n,
        ny: n,
        seed,
        ..Default::default()
    })
    .unwrap()
    .cell_angles();
    Problem::new(Mesh::paper(n, n).unwrap(), &psi).unwrap()
}

/// The batched gradient and torque equal `Energy::gradient` slot by slot (f64 tensors
/// against the f64 plain solver: to rounding; f32 tensors: to f32 rounding), for uniform
/// and per-cell materials, with and without demag, on a non-square grid.
#[test]
fn batched_gradient_equals_energy_gradient() {
    let mesh = Mesh::new(13, 9, 2e-9, 2.5e-9, 36e-6).unwrap();
    let n = mesh.cells();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let psi: Vec<f64> = (0..n).map(|_| rng.random_range(-1.5..1.5)).collect();
    let uniform = Problem::new(mesh, &psi).unwrap();
    let mixed = uniform
        .clone()
        .with_cell_materials(
            (0..n)
                .map(|c| Material {
                    a: 8e-12 * (1.0 + 0.2 * (c % 3) as f64),
                    ms: 1.2e6 + 1e4 * (c % 5) as f64,
                    k1: if c % 7 == 0 {
                        0.0
                    } else {
                        4e6 - 1e4 * c as f64
                    },
                })
                .collect(),
        )
        .unwrap();
    for terms in [Terms::all(), Terms::all().without_demag()] {
        let problems = [
            uniform.clone().with_terms(terms),
            mixed.clone().with_terms(terms),
        ];
        for (precision, tol) in [(Precision::F64, 1e-11), (Precision::F32, 2e-5)] {
            let mut be = BatchEnergy::new(mesh, terms, 3, precision, tch::Device::Cpu).unwrap();
            be.load(0, &problems[0]).unwrap();
            be.load(2, &problems[1]).unwrap();
            for state in 0..3 {
                let phis: Vec<Vec<f64>> = (0..3)
                    .map(|_| (0..n).map(|_| rng.random_range(-4.0..4.0)).collect())
                    .collect();
                let hs = [0.3 - 0.4 * state as f64, 0.0, -0.7];
                let flat: Vec<f64> = phis.concat();
                let phi = Tensor::from_slice(&flat)
                    .view([3, mesh.ny as i64, mesh.nx as i64])
                    .to_kind(super::kind(precision));
                let h = Tensor::from_slice(&hs).to_kind(super::kind(precision));
                let gr = be.gradient(&phi, &h);
                let g = Vec::<f64>::try_from(gr.g.to_kind(tch::Kind::Double).view([-1])).unwrap();
                let torque = Vec::<f64>::try_from(gr.torque.to_kind(tch::Kind::Double)).unwrap();
                for (slot, p) in [(0, &problems[0]), (2, &problems[1])] {
                    let mut e = Energy::new(p, Precision::F64).unwrap();
                    let mut want = vec![0.0; n];
                    let t = e.gradient(&phis[slot], [0.0, hs[slot]], &mut want).unwrap();
                    let got = &g[slot * n..(slot + 1) * n];
                    let worst = got
                        .iter()
                        .zip(&want)
                        .map(|(a, b)| (a - b).abs())
                        .fold(0.0, f64::max);
                    assert!(
                        worst < tol,
                        "{terms:?} {precision:?} slot {slot}: worst |Δg| {worst}"
                    );
                    assert!((torque[slot] - t).abs() < tol, "{} vs {t}", torque[slot]);
                }
            }
        }
    }
}

/// Anchors of the default sweep (f32 and f64 tensors) against the plain solver on paper-law
/// structures of 32²–48²: within 1e-3 Ms (M1, Mr) and 2e-3 HA (Hk90 … Hc).
#[test]
fn anchors_match_plain_solver_on_random_structures() {
    let opts = SweepOptions::default();
    let problems: Vec<Problem> = (0..8u64)
        .map(|k| voronoi([32, 40, 48, 36][k as usize % 4], 100 + k))
        .collect();
    let plain = sweep_many(&problems, &opts, 0).unwrap();
    for precision in [Precision::F32] {
        let mut o = opts;
        o.min.precision = precision;
        let t0 = std::time::Instant::now();
        let batched = sweep_batched(&problems, &o, &tensor(4), |_, _| ()).unwrap();
        let mut worst = [0.0f64; 6];
        for (k, (a, b)) in plain.iter().zip(&batched).enumerate() {
            let (a, b) = (a.as_ref().unwrap(), b.as_ref().unwrap());
            assert_eq!(b.non_converged(), 0, "structure {k}");
            assert_eq!(a.fields(), b.fields());
            for (i, (x, y)) in a
                .anchors()
                .values()
                .iter()
                .zip(b.anchors().values())
                .enumerate()
            {
                match (x, y) {
                    (Some(x), Some(y)) => worst[i] = worst[i].max((x - y).abs()),
                    (None, None) => {}
                    _ => panic!("structure {k}: anchor {} {x:?} vs {y:?}", ANCHOR_NAMES[i]),
                }
            }
        }
        eprintln!(
            "{precision:?}: worst |Δ| per anchor {:?} in {:.1} s",
            ANCHOR_NAMES.iter().zip(worst).collect::<Vec<_>>(),
            t0.elapsed().as_secs_f64()
        );
        for (i, w) in worst.iter().enumerate() {
            let lim = if i < 2 { 1e-3 } else { 2e-3 };
            assert!(*w <= lim, "{precision:?} {}: |Δ| {w}", ANCHOR_NAMES[i]);
        }
    }
}

/// fidimag's reference curves through the tensor backend, at the plain solver's
/// tolerances (`validation.rs`).
#[test]
fn fidimag_references_through_tensors() {
    for (folder, terms) in [
        ("small_fixed_dm1e-6", Terms::all()),
        ("sw_8x8_30deg_demag", Terms::all()),
        ("sw_8x8_30deg_nodemag", Terms::all().without_demag()),
    ] {
        let (mesh, psi) = reference_cells(folder);
        let p = Problem::new(mesh, &psi).unwrap().with_terms(terms);
        let opts = SweepOptions::default();
        let curve = sweep_batched(&[p], &opts, &tensor(2), |_, _| ())
            .unwrap()
            .remove(0)
            .unwrap();
        assert_eq!(curve.non_converged(), 0, "{folder}");
        let (h, m_ref) = reference_curve(folder);
        let worst = assert_curves_agree(folder, &h, &curve.my(), &m_ref);
        eprintln!(
            "{folder}: worst |ΔM| {:.2e}, anchors {:.2e} Ms {:.2e} HA",
            worst.0, worst.1, worst.2
        );
    }
}

/// Continuous batching: a structure's curve is the same whether it runs alone or enters
/// a full batch late, after others left (bit for bit on the CPU).
#[test]
fn curve_does_not_depend_on_batch_company() {
    let mut opts = SweepOptions::default();
    opts.h_step = 0.05;
    let others: Vec<Problem> = (0..5).map(|k| voronoi(24, 300 + k)).collect();
    let target = voronoi(24, 299);
    let alone = sweep_batched(std::slice::from_ref(&target), &opts, &tensor(3), |_, _| ())
        .unwrap()
        .remove(0)
        .unwrap();
    let mut all = others.clone();
    all.push(target);
    let mut order = Vec::new();
    let together = sweep_batched(&all, &opts, &tensor(3), |k, _| order.push(k)).unwrap();
    let late = together[5].as_ref().unwrap();
    assert_eq!(alone.points, late.points);
    assert_eq!(order.len(), 6);
    assert!(
        order.iter().position(|&k| k == 5) >= Some(3),
        "entered after others left: {order:?}"
    );
}
