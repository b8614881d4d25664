//! Remanence curves and Kelly's ΔM (Henkel) plot: what a field leaves of the remanence,
//! from positive saturation (DC demagnetisation, DCD) and from a demagnetised state
//! (isothermal remanent magnetisation, IRM). Non-interacting particles obey Wohlfarth's
//! m_d = 1 − 2·m_r; ΔM = m_d − (1 − 2·m_r) > 0 says the grains' coupling helps them
//! switch together (exchange), < 0 that it opposes (magnetostatic) (docs/physics.md
//! §3.10).

use super::SolverError;
use super::cache::{CurveCache, keep};
use super::demag::DemagKernel;
use super::energy::Energy;
use super::material::Material;
use super::problem::Problem;
use super::sweep::{Curve, Start, SweepOptions, sweep_observed};
use crate::progress::Progress;
use rayon::prelude::*;

/// A magnet's remanence curves on the fields 0, h_step, …, h_start.
#[derive(Debug, Clone)]
pub struct Remanence {
    pub opts: SweepOptions,
    pub material: Material,
    pub fields: Vec<f64>,
    /// M_y back at h = 0 after the field rose to fields[k] from the demagnetised state:
    /// the mean of the state and its mirror image (every moment reversed), so that a
    /// demagnetised magnet starts at IRM = 0 whatever its grains' draw.
    pub irm: Vec<f64>,
    /// M_y back at h = 0 after the field fell to −fields[k] from positive saturation;
    /// dcd[0] is the saturation remanence Mr.
    pub dcd: Vec<f64>,
    /// Every sweep: the descending branch, the two rising IRM branches, then the returns
    /// to h = 0 (DCD, then IRM from the state, then from its mirror, each by field).
    pub curves: Vec<Curve>,
    pub seconds: f64,
}

impl Remanence {
    /// IRM / Mr.
    pub fn m_r(&self) -> Vec<f64> {
        self.irm.iter().map(|m| m / self.dcd[0]).collect()
    }

    /// DCD / Mr.
    pub fn m_d(&self) -> Vec<f64> {
        self.dcd.iter().map(|m| m / self.dcd[0]).collect()
    }

    /// ΔM = m_d − (1 − 2·m_r): zero for non-interacting particles.
    pub fn delta_m(&self) -> Vec<f64> {
        self.m_d()
            .iter()
            .zip(self.m_r())
            .map(|(d, r)| d - (1.0 - 2.0 * r))
            .collect()
    }

    pub fn evaluations(&self) -> usize {
        self.curves.iter().map(Curve::evaluations).sum()
    }

    pub fn non_converged(&self) -> usize {
        self.curves.iter().map(Curve::non_converged).sum()
    }

    /// A sample's remanence curves: the mean of magnets' (the moment a magnetometer sums,
    /// each magnet counting once as magnets of one size do), which must share their fields
    /// and material. m_r and m_d then divide by the sample's
    /// Mr, so magnets weigh by their moments, as in the measurement. The curves and the
    /// seconds are all the magnets'.
    pub fn mean(sets: Vec<Remanence>) -> Result<Remanence, String> {
        let Some(first) = sets.first() else {
            return Err("no remanence curves to average".into());
        };
        for (k, r) in sets.iter().enumerate().skip(1) {
            let same = r.fields.len() == first.fields.len()
                && r.fields
                    .iter()
                    .zip(&first.fields)
                    .all(|(a, b)| (a - b).abs() <= 1e-9 * first.opts.h_step);
            if !same {
                return Err(format!(
                    "magnet {} has fields 0…{} and magnet 1 0…{}: expected the same fields \
                     (the same h_start and h_step)",
                    k + 1,
                    r.fields.last().unwrap_or(&0.0),
                    first.fields.last().unwrap_or(&0.0)
                ));
            }
            if r.material != first.material {
                return Err(format!(
                    "magnet {} has another material than magnet 1: expected one material",
                    k + 1
                ));
            }
        }
        let n = sets.len() as f64;
        let mean = |of: fn(&Remanence) -> &Vec<f64>| -> Vec<f64> {
            (0..first.fields.len())
                .map(|i| sets.iter().map(|r| of(r)[i]).sum::<f64>() / n)
                .collect()
        };
        let (irm, dcd) = (mean(|r| &r.irm), mean(|r| &r.dcd));
        let (opts, material, fields) = (first.opts, first.material, first.fields.clone());
        let seconds = sets.iter().map(|r| r.seconds).sum();
        let curves = sets.into_iter().flat_map(|r| r.curves).collect();
        Ok(Remanence {
            opts,
            material,
            fields,
            irm,
            dcd,
            curves,
            seconds,
        })
    }
}

/// The demagnetised state of a magnet whose cells belong to `grains`: every grain along its
/// easy axis ψ, pointing its own way by a fair draw from `seed` (SplitMix64 of the grain's
/// label, so a grain's way does not depend on the others).
pub fn demagnetised(psi: &[f64], grains: &[u32], seed: u64) -> Result<Vec<f64>, SolverError> {
    if grains.len() != psi.len() {
        return Err(SolverError::LengthMismatch {
            what: "grain labels",
            expected: psi.len(),
            got: grains.len(),
        });
    }
    Ok(psi
        .iter()
        .zip(grains)
        .map(|(&p, &g)| {
            let reversed = crate::grains::rng::splitmix64(seed, u64::from(g)) & 1 == 1;
            if reversed {
                p + std::f64::consts::PI
            } else {
                p
            }
        })
        .collect())
}

/// The remanence curves of `problem` on the fields 0, h_step, …, h_start (a multiple of
/// h_step): the descending branch from h_start to −h_start, the field raised from
/// `demagnetised` (angles, one per cell) and from its mirror image up to h_start, and from
/// each of their states at ±fields[k] a sweep back to h = 0, side by side on `threads`
/// threads. With a `cache`, each sweep back is kept as it finishes, so after an interrupt
/// the same call computes only what is missing.
pub fn remanence(
    problem: &Problem,
    opts: &SweepOptions,
    demagnetised: &[f64],
    threads: usize,
    cache: Option<&CurveCache>,
) -> Result<Remanence, SolverError> {
    let opts = opts.validated()?;
    super::check_cells("demagnetised angles", demagnetised, problem.mesh().cells())?;
    let steps = (opts.h_start / opts.h_step).round();
    if opts.h_start <= 0.0 || (steps * opts.h_step - opts.h_start).abs() > 1e-9 * opts.h_step {
        return Err(SolverError::BadOption {
            name: "h_start",
            value: opts.h_start.to_string(),
            expected: "a saturating field > 0, a multiple of h_step",
        });
    }
    let t0 = std::time::Instant::now();
    let n = steps as usize;
    let fields: Vec<f64> = (0..=n).map(|k| k as f64 * opts.h_step).collect();
    let down = SweepOptions {
        h_end: -opts.h_start,
        ..opts
    };
    let up = SweepOptions {
        h_start: 0.0,
        h_end: opts.h_start,
        ..opts
    };
    let (down_fields, up_fields) = (down.fields()?, up.fields()?);
    let mirror: Vec<f64> = demagnetised
        .iter()
        .map(|p| p + std::f64::consts::PI)
        .collect();
    // Sweep back to 0 number j: from the branch (0), the demagnetised state (1) or its
    // mirror (2), at fields[k], k ≥ 1 (at k = 0 the branch is already at 0).
    let returns: Vec<(usize, usize)> = (0..3).flat_map(|b| (1..=n).map(move |k| (b, k))).collect();
    let up_key = CurveCache::key(problem, &up);
    let base_keys = [
        CurveCache::key(problem, &down),
        format!("{up_key}-irm-{}", angles_key(demagnetised)),
        format!("{up_key}-irm-{}", angles_key(&mirror)),
    ];
    let keys: Vec<String> = returns
        .iter()
        .map(|&(b, k)| format!("{}-back{k}", base_keys[b]))
        .collect();
    let from_cache = |key: &str| cache.and_then(|c| c.get(key));
    let cached: Vec<Option<Curve>> = keys.iter().map(|k| from_cache(k)).collect();
    let cached_bases: Vec<Option<Curve>> = base_keys.iter().map(|k| from_cache(k)).collect();
    let kernel = DemagKernel::cached(problem.mesh(), opts.min.precision)?;
    let pool = super::batch::pool(threads)?;
    let workers = pool.current_num_threads();
    let all_cached = cached.iter().chain(&cached_bases).all(Option::is_some);
    let (bases, states) = if all_cached {
        (cached_bases.into_iter().flatten().collect(), vec![])
    } else {
        let mut bases = vec![];
        let mut states = vec![];
        // The branch from saturation, then the rising ones from the two given states.
        for (b, from) in [None, Some(demagnetised), Some(&mirror[..])]
            .into_iter()
            .enumerate()
        {
            let mut traced = vec![];
            let (start, sweep, steps) = match from {
                Some(angles) => (Start::FromTracing(angles, &mut traced), &up, &up_fields),
                None => (Start::SaturatedTracing(&mut traced), &down, &down_fields),
            };
            let progress = Progress::new(
                steps.len() as u64,
                &format!("remanence, branch {} of 3", b + 1),
            );
            let curve = pool.install(|| {
                let mut energy = Energy::with_kernel(problem, &kernel)?;
                energy.set_split(super::fork::fits(1, workers));
                sweep_observed(&mut energy, sweep, start, None, Some(&progress), None)
            })?;
            progress.finish();
            if let Some(c) = cache {
                keep(c, &base_keys[b], &curve);
            }
            bases.push(curve);
            states.push(traced);
        }
        (bases, states)
    };
    let todo: Vec<usize> = (0..returns.len())
        .filter(|&j| cached[j].is_none())
        .collect();
    let split = super::fork::fits(todo.len(), workers);
    let progress = Progress::new(returns.len() as u64, "remanence");
    progress.inc((returns.len() - todo.len()) as u64);
    let back = |j: usize| -> Result<Curve, SolverError> {
        crate::interrupt::check()?;
        let (b, k) = returns[j];
        // The branch passes −fields[k] at step n + k, the rising ones fields[k] at step k:
        // each sweep back starts at its branch's own field, rounding and all, so a DCD
        // sweep is the FORC reversal curve from there.
        let (h, state) = match b {
            0 => (down_fields[n + k], &states[0][n + k]),
            _ => (up_fields[k], &states[b][k]),
        };
        let to_zero = SweepOptions {
            h_start: h,
            h_end: 0.0,
            ..opts
        };
        let mut energy = Energy::with_kernel(problem, &kernel)?;
        energy.set_split(split);
        let curve = sweep_observed(&mut energy, &to_zero, Start::From(state), None, None, None);
        if let (Ok(c), Some(cache)) = (&curve, cache) {
            keep(cache, &keys[j], c);
        }
        progress.inc(1);
        curve
    };
    let computed: Vec<(usize, Result<Curve, SolverError>)> =
        pool.install(|| todo.par_iter().map(|&j| (j, back(j))).collect());
    progress.finish();
    let mut backs = cached;
    for (j, curve) in computed {
        backs[j] = Some(curve?);
    }
    let backs: Vec<Curve> = backs.into_iter().flatten().collect();
    let last_my = |c: &Curve| c.points.last().map_or(f64::NAN, |p| p.my);
    // The rising branches start at h = 0: their first points are IRM(0).
    let at_zero = |b: usize, k: usize| -> f64 {
        if k == 0 {
            match b {
                0 => bases[0].points[n].my,
                _ => bases[b].points[0].my,
            }
        } else {
            last_my(&backs[b * n + k - 1])
        }
    };
    let dcd = (0..=n).map(|k| at_zero(0, k)).collect();
    let irm = (0..=n)
        .map(|k| 0.5 * (at_zero(1, k) + at_zero(2, k)))
        .collect();
    let mut curves = bases;
    curves.extend(backs);
    Ok(Remanence {
        opts,
        material: *problem.material(),
        fields,
        irm,
        dcd,
        curves,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

/// A key for a start state: the hex SHA-256 of its angles.
fn angles_key(phi: &[f64]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in phi {
        h.update(p.to_le_bytes());
    }
    format!("{:x}", h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solver::{Mesh, MinimizeOptions, Terms};

    fn options(step: f64) -> SweepOptions {
        SweepOptions {
            h_start: 1.5,
            h_end: -1.5,
            h_step: step,
            min: MinimizeOptions {
                tol: 1e-8,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    /// 8 × 8 cells in 16 grains of 2 × 2, each with its own axis between −80° and 80°.
    fn grains() -> (Mesh, Vec<f64>, Vec<u32>) {
        let mesh = Mesh::paper(8, 8).unwrap();
        let mut psi = vec![0.0; 64];
        let mut label = vec![0u32; 64];
        for j in 0..8 {
            for i in 0..8 {
                let g = (j / 2 * 4 + i / 2) as u32;
                label[j * 8 + i] = g;
                psi[j * 8 + i] = (-80.0 + 160.0 * f64::from(g) / 15.0).to_radians();
            }
        }
        (mesh, psi, label)
    }

    #[test]
    fn non_interacting_grains_obey_wohlfarths_relation() {
        // Without exchange and demag every cell is a Stoner–Wohlfarth particle on its own:
        // m_d = 1 − 2·m_r exactly on the shared fields, whichever way the grains start.
        let (mesh, psi, label) = grains();
        let p = Problem::new(mesh, &psi).unwrap().with_terms(Terms {
            exchange: false,
            demag: false,
            ..Terms::all()
        });
        let start = demagnetised(&psi, &label, 7).unwrap();
        let r = remanence(&p, &options(0.1), &start, 2, None).unwrap();
        assert_eq!(r.non_converged(), 0);
        assert_eq!(r.fields.len(), 16);
        let mr: f64 = psi.iter().map(|p| p.cos().abs()).sum::<f64>() / 64.0;
        assert!((r.dcd[0] - mr).abs() < 1e-6, "Mr {} against {mr}", r.dcd[0]);
        assert!(r.irm[0].abs() < 1e-9, "IRM(0) = {}", r.irm[0]);
        let (m_r, m_d) = (r.m_r(), r.m_d());
        assert!((m_r[15] - 1.0).abs() < 1e-6 && (m_d[15] + 1.0).abs() < 1e-6);
        for (k, dm) in r.delta_m().iter().enumerate() {
            assert!(dm.abs() < 1e-6, "h = {}: ΔM = {dm}", r.fields[k]);
        }
        // Some grains switched between the end fields: the relation is not trivially met.
        assert!(m_r.iter().any(|m| *m > 0.2 && *m < 0.8), "{m_r:?}");
    }

    #[test]
    fn exchange_coupled_grains_switch_together_so_delta_m_is_positive() {
        // Exchange between the grains (4 nm across, shorter than the exchange length): from
        // saturation the magnet reverses as one at a high field, while from the
        // demagnetised state the grains that the field favours pull the others over early.
        // IRM runs ahead of 1 − m_d's half: ΔM > 0, Kelly's sign of exchange coupling.
        let (mesh, psi, label) = grains();
        let p = Problem::new(mesh, &psi)
            .unwrap()
            .with_terms(Terms::all().without_demag());
        let start = demagnetised(&psi, &label, 7).unwrap();
        let r = remanence(&p, &options(0.05), &start, 2, None).unwrap();
        let dm = r.delta_m();
        let largest = dm.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let lowest = dm.iter().cloned().fold(f64::INFINITY, f64::min);
        assert!(
            largest > 0.5 && lowest > -1e-6,
            "ΔM in [{lowest}, {largest}]"
        );
        // Saturated and demagnetised ends are the same on both curves.
        let (m_r, m_d) = (r.m_r(), r.m_d());
        assert!(
            m_r[0].abs() < 1e-9 && (m_r[30] - 1.0).abs() < 1e-6,
            "{m_r:?}"
        );
        assert!((m_d[30] + 1.0).abs() < 1e-6, "{m_d:?}");
    }

    #[test]
    fn the_dcd_curve_is_the_forc_recoil() {
        // Down from saturation to −h and back to 0 at the same step: the DC demagnetisation
        // remanence is the reversal curve's value at h = 0, to the last bit.
        let (mesh, psi, label) = grains();
        let p = Problem::new(mesh, &psi).unwrap();
        let opts = options(0.1);
        let start = demagnetised(&psi, &label, 3).unwrap();
        let r = remanence(&p, &opts, &start, 2, None).unwrap();
        let f = crate::solver::forc(&p, &opts, None, 2, None).unwrap();
        let recoil = f.recoil().unwrap();
        assert_eq!(recoil.h_r.len(), r.fields.len() - 1);
        for (h_r, back) in recoil.h_r.iter().zip(&recoil.m_back) {
            let k = r
                .fields
                .iter()
                .position(|h| (h + h_r).abs() < 1e-9)
                .unwrap();
            assert!(
                (r.dcd[k] - back).abs() < 1e-12,
                "h_r = {h_r}: DCD {} against the FORC's {back}",
                r.dcd[k]
            );
        }
    }

    #[test]
    fn a_samples_curves_are_the_mean_moments_and_obey_wohlfarth_without_interactions() {
        // Two magnets of non-interacting grains with other axes: each obeys Wohlfarth's
        // relation, and so does their sum, though the two Mr differ.
        let (mesh, psi, label) = grains();
        let other: Vec<f64> = psi.iter().map(|p| 0.5 * p + 0.3).collect();
        let terms = Terms {
            exchange: false,
            demag: false,
            ..Terms::all()
        };
        let one = |psi: &[f64], h_start: f64| {
            let p = Problem::new(mesh.clone(), psi).unwrap().with_terms(terms);
            let start = demagnetised(psi, &label, 4).unwrap();
            let opts = SweepOptions {
                h_start,
                ..options(0.1)
            };
            remanence(&p, &opts, &start, 2, None).unwrap()
        };
        let (a, b) = (one(&psi, 1.5), one(&other, 1.5));
        let m = Remanence::mean(vec![a.clone(), b.clone()]).unwrap();
        assert_eq!(m.evaluations(), a.evaluations() + b.evaluations());
        assert!(
            (a.dcd[0] - b.dcd[0]).abs() > 0.05,
            "Mr {} and {}",
            a.dcd[0],
            b.dcd[0]
        );
        for k in 0..m.fields.len() {
            assert_eq!(m.irm[k], 0.5 * (a.irm[k] + b.irm[k]));
            assert_eq!(m.dcd[k], 0.5 * (a.dcd[k] + b.dcd[k]));
            assert!(m.delta_m()[k].abs() < 1e-6, "ΔM {}", m.delta_m()[k]);
        }
        let e = Remanence::mean(vec![a.clone(), one(&psi, 1.0)]).unwrap_err();
        assert!(
            e.contains("magnet 2 has fields 0…1 and magnet 1 0…1.5"),
            "{e}"
        );
        let mut soft = b;
        soft.material.k1 *= 0.5;
        let e = Remanence::mean(vec![a, soft]).unwrap_err();
        assert!(e.contains("another material"), "{e}");
        assert!(Remanence::mean(vec![]).is_err());
    }

    #[test]
    fn a_saturating_field_off_the_lattice_is_refused() {
        let (mesh, psi, label) = grains();
        let p = Problem::new(mesh, &psi).unwrap();
        let start = demagnetised(&psi, &label, 1).unwrap();
        let opts = SweepOptions {
            h_start: 1.03,
            ..options(0.1)
        };
        let e = remanence(&p, &opts, &start, 1, None).unwrap_err();
        assert!(e.to_string().contains("h_start"), "{e}");
        assert!(demagnetised(&psi, &label[1..], 1).is_err());
    }
}
