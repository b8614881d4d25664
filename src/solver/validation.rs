//! Physics checks of the whole solver (issue 4): Stoner–Wohlfarth switching, the
//! non-interacting remanence 2/π, mirror symmetry, and fidimag's reference curves.

use super::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const REF: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/fidimag");

/// Per-cell axes of a reference folder (`cells.csv`: i, j, angle_rad) and its n.
pub(super) fn reference_cells(folder: &str) -> (Mesh, Vec<f64>) {
    let mut r = csv::Reader::from_path(format!("{REF}/{folder}/cells.csv")).expect("cells.csv");
    let rows: Vec<(usize, usize, f64)> = r
        .deserialize::<(usize, usize, f64, f64, usize, f64, f64, f64, f64)>()
        .map(|row| {
            let (i, j, _, _, _, a, ..) = row.expect("cells row");
            (i, j, a)
        })
        .collect();
    let n = rows.iter().map(|r| r.0).max().expect("cells") + 1;
    let mesh = Mesh::paper(n, n).expect("mesh");
    let mut psi = vec![0.0; n * n];
    for (i, j, a) in rows {
        psi[mesh.index(i, j)] = a;
    }
    (mesh, psi)
}

/// (h, my) of a reference curve.
pub(super) fn reference_curve(folder: &str) -> (Vec<f64>, Vec<f64>) {
    let mut r = csv::Reader::from_path(format!("{REF}/{folder}/curve.csv")).expect("curve.csv");
    let head = r.headers().expect("header").clone();
    let col = |name: &str| head.iter().position(|h| h == name).expect("column");
    let (ih, im) = (col("h"), col("my"));
    r.records()
        .map(|rec| {
            let rec = rec.expect("row");
            (
                rec[ih].parse::<f64>().expect("h"),
                rec[im].parse::<f64>().expect("my"),
            )
        })
        .unzip()
}

/// Asserts that curve `m` follows `m_ref` (both on the fields `h`): every step outside the
/// switching steps (where either curve jumps by more than 0.02 from the previous step)
/// within 0.005 Ms, and the anchors within 0.005 Ms / 0.01 HA. Returns the worst deviations
/// (M off switching, anchor M, anchor H).
pub(super) fn assert_curves_agree(
    label: &str,
    h: &[f64],
    m: &[f64],
    m_ref: &[f64],
) -> (f64, f64, f64) {
    assert_eq!(m.len(), h.len(), "{label}");
    assert_eq!(m_ref.len(), h.len(), "{label}");
    let mut worst_m = 0.0f64;
    for k in 0..h.len() {
        let jump = |v: &[f64]| k > 0 && (v[k] - v[k - 1]).abs() > 0.02;
        if jump(m) || jump(m_ref) {
            continue;
        }
        worst_m = worst_m.max((m[k] - m_ref[k]).abs());
    }
    assert!(worst_m < 0.005, "{label}: worst |ΔM| {worst_m}");
    let (a, b) = (anchors(h, m), anchors(h, m_ref));
    let (mut worst_ms, mut worst_h) = (0.0f64, 0.0f64);
    for (k, ((name, x), (_, y))) in a.named().iter().zip(b.named()).enumerate() {
        let (x, y) = (x.expect("anchor"), y.expect("reference anchor"));
        if k < 2 {
            worst_ms = worst_ms.max((x - y).abs());
        } else {
            worst_h = worst_h.max((x - y).abs());
        }
        let tol = if k < 2 { 0.005 } else { 0.01 };
        assert!((x - y).abs() < tol, "{label} {name}: {x} vs reference {y}");
    }
    (worst_m, worst_ms, worst_h)
}

/// Compares the curve of a fidimag reference structure with fidimag's curve.
fn compare(folder: &str, terms: Terms, opts: &SweepOptions) -> (f64, f64, f64) {
    let (mesh, psi) = reference_cells(folder);
    let p = Problem::new(mesh, &psi).unwrap().with_terms(terms);
    let curve = sweep(&p, opts).unwrap();
    assert_eq!(curve.non_converged(), 0, "{folder}");
    let (h, m_ref) = reference_curve(folder);
    for (pt, h) in curve.points.iter().zip(&h) {
        assert!((pt.h - h).abs() < 1e-9);
    }
    let worst = assert_curves_agree(folder, &h, &curve.my(), &m_ref);
    eprintln!(
        "{folder} {:?}: worst |ΔM| {:.2e} off switching, anchors |ΔM| {:.2e} |ΔH| {:.2e}, {} evaluations",
        opts.min.method,
        worst.0,
        worst.1,
        worst.2,
        curve.evaluations()
    );
    worst
}

/// The default descent takes long BB steps with a capped turn; it must follow the path of
/// the short-step descent (steps ≤ 1/HA, no cap: the slow, safe method) on paper-law
/// structures with many grains, whose soft modes are what the long steps speed up.
#[test]
fn long_steps_follow_the_short_step_path() {
    let long = SweepOptions::default();
    let short = long.short_step();
    let mesh = Mesh::paper(40, 40).unwrap();
    let (mut evals_long, mut evals_short) = (0, 0);
    for seed in 1..=4 {
        let psi = crate::grains::voronoi(&crate::grains::VoronoiOptions {
            nx: 40,
            ny: 40,
            seed,
            ..Default::default()
        })
        .unwrap()
        .cell_angles();
        let p = Problem::new(mesh, &psi).unwrap();
        let a = sweep(&p, &long).unwrap();
        let b = sweep(&p, &short).unwrap();
        assert_eq!(a.non_converged() + b.non_converged(), 0);
        assert_curves_agree(&format!("seed {seed}"), &a.fields(), &a.my(), &b.my());
        evals_long += a.evaluations();
        evals_short += b.evaluations();
    }
    eprintln!("evaluations: long steps {evals_long}, short steps {evals_short}");
}

/// How often the default descent leaves the short-step path, against a reckless one. Inside
/// an avalanche every long-step descent sometimes reaches another local minimum than the
/// short steps do: on the 4 200 small structures of seven runs of
/// `scripts/validate_sweep_speedups.rhai` each setting measured (0.3 or 0.5 rad cap, with
/// or without the sweep's speed-ups) left it on 14–18, mostly not the same ones. Here, 300
/// structures of the setup where it happens most (20², 12 grains, h_step 0.02, demag on):
/// the default left it on 2 (as the 0.3 rad cap without speed-ups did), a 2 rad cap with
/// both speed-ups on 14. The line at 2 % of the curves lies between the two, so the test
/// tells a descent that crosses barriers from one that keeps the path.
#[test]
fn the_default_descent_rarely_leaves_the_short_step_path() {
    use crate::grains::{Sample, VoronoiOptions};
    let count = 300;
    let options = VoronoiOptions {
        nx: 20,
        ny: 20,
        grains: Some(12),
        ..Default::default()
    };
    let sample = Sample::new(options, 23, count).unwrap();
    let mesh = Mesh::paper(20, 20).unwrap();
    let default = SweepOptions {
        h_step: 0.02,
        ..Default::default()
    };
    let mut reckless = default;
    reckless.min.max_turn = 2.0;
    let problems: Vec<Problem> = (0..count)
        .map(|k| Problem::new(mesh, &sample.get(k).unwrap().cell_angles()).unwrap())
        .collect();
    let anchors = |o: &SweepOptions| -> Vec<Anchors> {
        super::batch::sweep_many(&problems, o, 0)
            .unwrap()
            .into_iter()
            .map(|c| c.unwrap().anchors())
            .collect()
    };
    let reference = anchors(&default.short_step());
    let left = |o: &SweepOptions| {
        let a = anchors(o);
        (0..count)
            .filter(|&k| {
                Anchor::ALL
                    .into_iter()
                    .any(|x| match (a[k].get(x), reference[k].get(x)) {
                        (Some(u), Some(v)) => (u - v).abs() > x.path_limits().0,
                        (u, v) => u.is_some() != v.is_some(),
                    })
            })
            .count()
    };
    let (by_default, by_reckless) = (left(&default), left(&reckless));
    let line = count / 50;
    eprintln!("left the short-step path: default {by_default}, 2 rad cap {by_reckless} of {count}");
    assert!(
        by_default <= line,
        "the default left the path on {by_default} of {count}"
    );
    assert!(
        by_reckless > line,
        "the 2 rad cap left it on only {by_reckless} of {count}: the count no longer tells \
         a reckless descent apart; find another control with scripts/validate_sweep_speedups.rhai"
    );
}

fn with_method(method: Method) -> SweepOptions {
    let mut o = SweepOptions::default();
    o.min.method = method;
    o
}

#[test]
fn fidimag_small_fixed_40x40() {
    for m in Method::ALL {
        compare("small_fixed_dm1e-6", Terms::all(), &with_method(m));
    }
}

#[test]
fn fidimag_sw_8x8_with_and_without_demag() {
    for m in Method::ALL {
        compare("sw_8x8_30deg_demag", Terms::all(), &with_method(m));
        compare(
            "sw_8x8_30deg_nodemag",
            Terms::all().without_demag(),
            &with_method(m),
        );
    }
}

fn h_sw(psi: f64) -> f64 {
    (psi.cos().powf(2.0 / 3.0) + psi.sin().powf(2.0 / 3.0)).powf(-1.5)
}

#[test]
fn stoner_wohlfarth_switching_fields() {
    let mesh = Mesh::paper(4, 4).unwrap();
    for method in Method::ALL {
        let opts = SweepOptions {
            min: MinimizeOptions {
                tol: 1e-6,
                method,
                ..Default::default()
            },
            ..Default::default()
        };
        for deg in [10.0f64, 30.0, 45.0, 60.0, 80.0] {
            let psi = deg.to_radians();
            let p = Problem::new(mesh, &[psi; 16])
                .unwrap()
                .with_terms(Terms::all().without_demag());
            let curve = sweep(&p, &opts).unwrap();
            assert_eq!(curve.non_converged(), 0);
            // The switching step: the largest drop of k·m (the component along the easy axis,
            // which reverses at switching) between consecutive fields.
            let m: Vec<f64> = curve
                .points
                .iter()
                .map(|q| psi.sin() * q.mx + psi.cos() * q.my)
                .collect();
            let k = (1..m.len())
                .max_by(|&a, &b| (m[a - 1] - m[a]).total_cmp(&(m[b - 1] - m[b])))
                .unwrap();
            assert!(m[k - 1] - m[k] > 0.5, "{deg}°: no jump");
            let (before, after) = (-curve.points[k - 1].h, -curve.points[k].h);
            let want = h_sw(psi);
            // Switching happens at the first field step beyond h_sw.
            assert!(
                before < want + 1e-9 && want <= after + 1e-9,
                "{method:?} {deg}°: switched between {before} and {after}, h_sw {want}"
            );
        }
    }
}

#[test]
fn decoupled_grains_remanence_is_two_over_pi() {
    let n = 64;
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let half = std::f64::consts::FRAC_PI_2;
    let psi: Vec<f64> = (0..n * n).map(|_| rng.random_range(-half..half)).collect();
    let mat = Material {
        a: 0.0,
        ..Material::nd2fe14b()
    };
    let p = Problem::new(Mesh::paper(n, n).unwrap(), &psi)
        .unwrap()
        .with_material(mat)
        .unwrap()
        .with_terms(Terms::all().without_demag());
    let opts = SweepOptions {
        h_end: 0.0,
        min: MinimizeOptions {
            tol: 1e-7,
            ..Default::default()
        },
        ..Default::default()
    };
    let curve = sweep(&p, &opts).unwrap();
    let mr = curve.anchors().get(Anchor::Mr).unwrap();
    // Each decoupled cell relaxes onto its axis on the +y side: m_y = |cos ψ| exactly.
    let cos: Vec<f64> = psi.iter().map(|a| a.cos().abs()).collect();
    let mean = cos.iter().sum::<f64>() / cos.len() as f64;
    assert!(
        (mr - mean).abs() < 1e-6,
        "Mr {mr} vs sample mean |cos ψ| {mean}"
    );
    // Sampling error of the mean of |cos ψ|: sd ≈ 0.308, SE = sd/√4096 ≈ 0.0048; allow 3 SE.
    let sd = (cos.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / (cos.len() - 1) as f64).sqrt();
    let se = sd / (cos.len() as f64).sqrt();
    let two_pi = 2.0 / std::f64::consts::PI;
    assert!(
        (mr - two_pi).abs() < 3.0 * se,
        "Mr {mr} vs 2/π {two_pi} (3 SE = {})",
        3.0 * se
    );
}

#[test]
fn mirror_x_leaves_curve_unchanged() {
    let (nx, ny) = (24, 16);
    let mesh = Mesh::paper(nx, ny).unwrap();
    // Four quadrant grains with axes of both signs.
    let psi: Vec<f64> = (0..nx * ny)
        .map(|c| {
            let (i, j) = (c % nx, c / nx);
            [[0.3, -0.6], [0.9, -0.15]][(j >= ny / 2) as usize][(i >= nx / 3) as usize]
        })
        .collect();
    let p = Problem::new(mesh, &psi).unwrap();
    let opts = SweepOptions {
        min: MinimizeOptions {
            precision: Precision::F64,
            tol: 1e-6,
            ..Default::default()
        },
        ..Default::default()
    };
    let a = sweep(&p, &opts).unwrap();
    let b = sweep(&p.mirrored_x(), &opts).unwrap();
    for (x, y) in a.points.iter().zip(&b.points) {
        assert!(
            (x.my - y.my).abs() < 1e-5,
            "h {}: {} vs {}",
            x.h,
            x.my,
            y.my
        );
        assert!(
            (x.mx + y.mx).abs() < 1e-5,
            "h {}: mx {} vs {}",
            x.h,
            x.mx,
            y.mx
        );
    }
}
