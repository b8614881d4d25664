//! First-order reversal curves (FORCs) of a magnet: from saturation down to a reversal
//! field h_r, then back up to saturation, one curve for every field of the descending
//! branch. Their distribution and recoil are read by [`crate::forc`], as a measured set's
//! are (docs/physics.md §3.9).

use super::SolverError;
use super::cache::{CurveCache, keep};
use super::demag::DemagKernel;
use super::energy::Energy;
use super::material::Material;
use super::problem::Problem;
use super::sweep::{Curve, CurvePoint, Join, Start, SweepOptions, sweep_observed};
use crate::forc::{Recoil, Reversal, Reversals};
use crate::progress::Progress;
use rayon::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

/// A magnet's first-order reversal curves.
#[derive(Debug, Clone)]
pub struct Forc {
    /// The sweep's settings; its fields run from `h_start` (saturation) down to `h_end`.
    pub opts: SweepOptions,
    /// The reference material, whose HA and Ms are the units of h and M.
    pub material: Material,
    /// The angle within which reversal curves rejoined the curves whose path they came
    /// back to (None: every curve computed to the end).
    pub rejoin: Option<f64>,
    /// The descending branch; its state at each field starts one reversal curve.
    pub descending: Curve,
    /// One curve per field of the descending branch, in its order: from that field (h_r)
    /// up to `h_start`, on the same lattice of fields.
    pub reversals: Vec<Curve>,
    /// Wall-clock seconds of the call that made the set (curves taken from the cache cost
    /// none).
    pub seconds: f64,
}

/// How close a reversal curve's state must come to the descending branch's at the same
/// field, as the largest angle between a cell's moments (rad), for the curve to rejoin
/// by default: from there it is the curve reversed at that field. Converged states of one
/// minimum differ by ~1e-4 rad, states of different minima by a switched cell's ~1 rad.
pub const REJOIN_ANGLE: f64 = 1e-2;

/// The FORCs of `problem` on `threads` threads (0 = all cores): the descending branch
/// first, then the reversal curves side by side, each starting from its branch state and
/// taken in order of falling h_r. With `rejoin` (an angle, e.g. [`REJOIN_ANGLE`]), a curve
/// whose state comes back to the branch's state at a field h (every cell within that
/// angle) is the curve reversed at h from
/// there on: same state, same field, same fields upwards. Its remaining points are taken
/// from that curve (recorded with no iterations), which is waited for if still running,
/// so the set does not depend on the threads' timing. With a `cache`, each curve is kept
/// there as it finishes and taken from there when it is already: after an error or
/// interrupt the same call computes only what is missing.
pub fn forc(
    problem: &Problem,
    opts: &SweepOptions,
    rejoin: Option<f64>,
    threads: usize,
    cache: Option<&CurveCache>,
) -> Result<Forc, SolverError> {
    let opts = opts.validated()?;
    if let Some(angle) = rejoin.filter(|a| !(*a > 0.0 && *a <= 0.1)) {
        return Err(SolverError::BadOption {
            name: "rejoin",
            value: angle.to_string(),
            expected: "an angle in (0, 0.1] rad within which a curve's state is the branch's",
        });
    }
    if opts.h_end >= opts.h_start {
        return Err(SolverError::BadOption {
            name: "h_end",
            value: opts.h_end.to_string(),
            expected: "a field below h_start: the reversal fields run down from saturation",
        });
    }
    let t0 = std::time::Instant::now();
    // The branch is the demagnetisation curve of these options, and is kept as one; a
    // reversal curve is fixed by the same, its index and whether curves rejoin.
    let branch_key = CurveCache::key(problem, &opts);
    let fields = opts.fields()?;
    let kind = match rejoin {
        Some(angle) => format!("rejoined{angle}-"),
        None => "reversal".into(),
    };
    let keys: Vec<String> = (0..fields.len())
        .map(|k| format!("{branch_key}-{kind}{k}"))
        .collect();
    let from_cache = |key: &str| cache.and_then(|c| c.get(key));
    let cached: Vec<Option<Curve>> = keys.iter().map(|k| from_cache(k)).collect();
    let done = |descending, reversals: Vec<Option<Curve>>| Forc {
        opts,
        material: *problem.material(),
        rejoin,
        descending,
        reversals: reversals.into_iter().flatten().collect(),
        seconds: t0.elapsed().as_secs_f64(),
    };
    if let (Some(descending), true) = (from_cache(&branch_key), cached.iter().all(Option::is_some))
    {
        return Ok(done(descending, cached));
    }
    let kernel = DemagKernel::cached(problem.mesh(), opts.min.precision)?;
    let pool = super::batch::pool(threads)?;
    let n = pool.current_num_threads();
    let mut states = Vec::new();
    let branch = Progress::new(fields.len() as u64, "forc, descending branch");
    let descending = pool.install(|| {
        let mut energy = Energy::with_kernel(problem, &kernel)?;
        energy.set_split(super::fork::fits(1, n));
        let start = Start::SaturatedTracing(&mut states);
        sweep_observed(&mut energy, &opts, start, None, Some(&branch), None)
    })?;
    branch.finish();
    if let Some(c) = cache {
        keep(c, &branch_key, &descending);
    }
    let branch_my = descending.my();
    let todo: Vec<usize> = (0..fields.len()).filter(|&k| cached[k].is_none()).collect();
    let split = super::fork::fits(todo.len(), n);
    let progress = Progress::new(fields.len() as u64, "forc");
    progress.inc((fields.len() - todo.len()) as u64);
    let board = Board::new(&cached);
    let reversal = |k: usize| -> Result<Curve, SolverError> {
        crate::interrupt::check()?;
        let up = SweepOptions {
            h_start: fields[k],
            h_end: opts.h_start,
            ..opts
        };
        // Step i of curve k is at the branch's field k − i.
        let join = |i: usize, my: f64, phi: &[f64]| -> Option<Vec<CurvePoint>> {
            let at = k.checked_sub(i).filter(|&at| at < k)?;
            let angle = rejoin?;
            // A mean differs no more than its cells: the cheap test first.
            let back = (my - branch_my[at]).abs() <= angle && same_state(phi, &states[at], angle);
            let rest = back.then(|| board.wait(at)).flatten()?;
            Some(
                rest[1..]
                    .iter()
                    .map(|p| CurvePoint {
                        iterations: 0,
                        ..*p
                    })
                    .collect(),
            )
        };
        let mut energy = Energy::with_kernel(problem, &kernel)?;
        energy.set_split(split);
        let join: Option<Join> = rejoin.map(|_| &join as Join);
        sweep_observed(&mut energy, &up, Start::From(&states[k]), None, None, join)
    };
    // Each worker takes the next curve in order, so every curve a running one may wait
    // for has been started.
    let next = AtomicUsize::new(0);
    let computed: Vec<(usize, Result<Curve, SolverError>)> = pool.install(|| {
        (0..n)
            .into_par_iter()
            .flat_map_iter(|_| {
                let mut out = vec![];
                while let Some(&k) = todo.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let curve = reversal(k);
                    match &curve {
                        Ok(c) => {
                            if let Some(cache) = cache {
                                keep(cache, &keys[k], c);
                            }
                            board.finish(k, Some(c.points.clone()));
                        }
                        Err(_) => board.finish(k, None),
                    }
                    progress.inc(1);
                    out.push((k, curve));
                }
                out
            })
            .collect()
    });
    progress.finish();
    let mut reversals = cached;
    for (k, curve) in computed {
        reversals[k] = Some(curve?);
    }
    Ok(done(descending, reversals))
}

/// Whether two relaxed states are one: every cell's moment within `angle`.
fn same_state(a: &[f64], b: &[f64], angle: f64) -> bool {
    let cos_max = angle.cos();
    a.iter().zip(b).all(|(x, y)| (x - y).cos() >= cos_max)
}

/// The reversal curves' points as they finish, for the curves that rejoin them.
struct Board {
    /// Per curve: None while running, Some(None) if it failed, Some(Some(points)) when done.
    slots: Mutex<Vec<Option<Option<Vec<CurvePoint>>>>>,
    changed: Condvar,
}

impl Board {
    fn new(cached: &[Option<Curve>]) -> Self {
        let slots = cached
            .iter()
            .map(|c| c.as_ref().map(|c| Some(c.points.clone())))
            .collect();
        Self {
            slots: Mutex::new(slots),
            changed: Condvar::new(),
        }
    }

    fn finish(&self, k: usize, points: Option<Vec<CurvePoint>>) {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots[k] = Some(points);
        self.changed.notify_all();
    }

    /// Curve k's points once it is done; None if it failed or the run is interrupted.
    fn wait(&self, k: usize) -> Option<Vec<CurvePoint>> {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(done) = &slots[k] {
                return done.clone();
            }
            if crate::interrupt::check().is_err() {
                return None;
            }
            let timeout = std::time::Duration::from_millis(50);
            slots = match self.changed.wait_timeout(slots, timeout) {
                Ok((s, _)) => s,
                Err(e) => e.into_inner().0,
            };
        }
    }
}

impl Forc {
    /// The reversal fields: the descending branch's fields.
    pub fn reversal_fields(&self) -> Vec<f64> {
        self.descending.fields()
    }

    /// The curves as data: h and M = m_y of each, with the material's Ms/HA.
    pub fn data(&self) -> Result<Reversals, String> {
        let fields = self.reversal_fields();
        let curves = self
            .reversals
            .iter()
            .zip(fields)
            .map(|(c, h_r)| Reversal {
                h_r,
                h: c.fields(),
                m: c.my(),
            })
            .collect();
        Reversals::new(curves, Some(self.material.ms / self.material.ha()), true)
    }

    /// The recoil from every reversal field below zero back to h = 0
    /// ([`Reversals::recoil`]); the lattice must pass through h = 0, so it is read, not
    /// interpolated.
    pub fn recoil(&self) -> Result<Recoil, String> {
        if !self.reversal_fields().contains(&0.0) {
            let e = SolverError::BadOption {
                name: "h_step",
                value: self.opts.h_step.to_string(),
                expected: concat!(
                    "a lattice of fields through h = 0 (h_start a multiple of h_step) ",
                    "for the recoil"
                ),
            };
            return Err(e.to_string());
        }
        self.data()?.recoil()
    }

    /// Gradient evaluations of the descending branch and every reversal curve.
    pub fn evaluations(&self) -> usize {
        self.descending.evaluations() + self.reversals.iter().map(Curve::evaluations).sum::<usize>()
    }

    /// Field steps, of all curves, that hit the iteration cap.
    pub fn non_converged(&self) -> usize {
        self.descending.non_converged()
            + self
                .reversals
                .iter()
                .map(Curve::non_converged)
                .sum::<usize>()
    }

    /// The reversal curves as one CSV table (k, h_r, h, my, mx, iterations, torque,
    /// converged; k numbers the curves), written atomically.
    pub fn write_csv(&self, path: &str) -> Result<(), String> {
        let fields = self.reversal_fields();
        let rows = self.reversals.iter().enumerate().flat_map(|(k, c)| {
            let h_r = fields[k];
            c.points
                .iter()
                .map(move |p| (vec![k.to_string(), h_r.to_string()], p))
        });
        super::curve_csv::write_steps(path, &["k", "h_r"], rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solver::{CurvePoint, Material, Mesh, MinimizeOptions, Terms};

    /// One grain of 4 × 4 cells with its axis at `psi`, exchange and anisotropy only: a
    /// Stoner–Wohlfarth particle that turns as one.
    fn particle(psi: f64) -> Problem {
        Problem::new(Mesh::paper(4, 4).unwrap(), &[psi; 16])
            .unwrap()
            .with_terms(Terms::all().without_demag())
    }

    fn options(step: f64) -> SweepOptions {
        SweepOptions {
            h_start: 1.0,
            h_end: -1.0,
            h_step: step,
            min: MinimizeOptions {
                tol: 1e-8,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    /// The Stoner–Wohlfarth switching field of an axis at `psi` from the field.
    fn h_sw(psi: f64) -> f64 {
        let (c, s) = (psi.cos().abs(), psi.sin().abs());
        1.0 / (c.powf(2.0 / 3.0) + s.powf(2.0 / 3.0)).powf(1.5)
    }

    #[test]
    fn a_stoner_wohlfarth_particle_switches_back_at_its_switching_field() {
        let psi = 30f64.to_radians();
        let hsw = h_sw(psi);
        let f = forc(&particle(psi), &options(0.05), None, 2, None).unwrap();
        assert_eq!(f.non_converged(), 0);
        let down = f.descending.my();
        let fields = f.reversal_fields();
        let n = fields.len();
        assert_eq!(f.reversals.len(), n);
        // The branch value at field −h: the particle's reversed state mirrors it.
        let at = |h: f64| {
            let k = fields.iter().position(|&x| (x - h).abs() < 1e-9).unwrap();
            down[k]
        };
        for (a, c) in f.reversals.iter().enumerate() {
            assert_eq!(c.points.len(), a + 1, "from h_r up to h_start");
            let reversed = fields[a] < -hsw;
            for p in &c.points {
                let expected = if reversed && p.h < hsw {
                    -at(-p.h)
                } else {
                    at(p.h)
                };
                assert!(
                    (p.my - expected).abs() < 1e-5,
                    "h_r = {}, h = {}: {} against {expected}",
                    fields[a],
                    p.h,
                    p.my
                );
            }
        }
        // ρ peaks at the switching: h_r just past −h_sw, h just past +h_sw.
        let d = f.data().unwrap().distribution(1).unwrap();
        let k = (0..d.rho.len())
            .max_by(|&i, &j| d.rho[i].total_cmp(&d.rho[j]))
            .unwrap();
        let (hc, hu) = (d.h_c[k], d.h_u[k]);
        assert!(
            (hc - hsw).abs() <= 0.05 && hu.abs() <= 0.025 + 1e-9,
            "peak at h_c {hc}, h_u {hu}"
        );
    }

    #[test]
    fn recoil_from_a_small_field_has_the_particles_reversible_susceptibility() {
        // At remanence a Stoner–Wohlfarth particle turns reversibly with dm/dh = sin²ψ, so
        // the chord from h_r = −0.01 back to 0 has that slope, and μ_rec = 1 + Ms/HA·sin²ψ.
        for deg in [30f64, 60.0] {
            let psi = deg.to_radians();
            let opts = SweepOptions {
                h_end: -0.02,
                ..options(0.01)
            };
            let f = forc(&particle(psi), &opts, None, 2, None).unwrap();
            let r = f.recoil().unwrap();
            assert_eq!(r.h_r.len(), 2, "h_r = −0.01 and −0.02");
            let m = Material::nd2fe14b();
            let slope = (r.mu_rec.unwrap()[0] - 1.0) / (m.ms / m.ha());
            assert!(
                (slope - psi.sin().powi(2)).abs() < 0.01,
                "ψ = {deg}°: {slope}"
            );
            // Nothing switched: no loss.
            assert!(r.loss.iter().all(|l| l.abs() < 1e-6), "{:?}", r.loss);
        }
        // Past the switching field the particle comes back reversed: the loss is 2·Mr.
        let psi = 30f64.to_radians();
        let f = forc(&particle(psi), &options(0.05), None, 2, None).unwrap();
        let r = f.recoil().unwrap();
        let mr = psi.cos();
        for (h_r, loss) in r.h_r.iter().zip(&r.loss) {
            let expected = if *h_r < -h_sw(psi) { 2.0 * mr } else { 0.0 };
            assert!((loss - expected).abs() < 1e-5, "h_r = {h_r}: loss {loss}");
        }
        // A lattice that misses h = 0 has no recoil to report.
        let off = SweepOptions {
            h_start: 1.03,
            ..options(0.1)
        };
        let f = forc(&particle(psi), &off, None, 1, None).unwrap();
        let e = f.recoil().unwrap_err();
        assert!(e.contains("bad option h_step = 0.1"), "{e}");
    }

    #[test]
    fn grains_that_do_not_interact_add_up_and_coupled_ones_do_not() {
        // Two halves with axes 15° and 55°: without exchange and demag every cell is its own
        // particle, so the magnet's curves are the mean of the halves' own.
        let psi = |c: usize| if c % 8 < 4 { 15f64 } else { 55.0 }.to_radians();
        let mesh = Mesh::paper(8, 2).unwrap();
        let two = Problem::new(mesh, &(0..16).map(psi).collect::<Vec<_>>()).unwrap();
        let m = |p: &Problem| {
            let f = forc(p, &options(0.1), None, 2, None).unwrap();
            assert_eq!(f.non_converged(), 0);
            let n = f.reversals.len();
            (0..n)
                .flat_map(|a| (0..=a).map(move |c| (a, c)))
                .map(|(a, c)| f.reversals[a].points[a - c].my)
                .collect::<Vec<_>>()
        };
        let alone = Terms {
            exchange: false,
            demag: false,
            ..Terms::all()
        };
        let sum = m(&two.clone().with_terms(alone));
        let (a, b) = (m(&particle(psi(0))), m(&particle(psi(4))));
        let worst = (0..sum.len())
            .map(|k| (sum[k] - (a[k] + b[k]) / 2.0).abs())
            .fold(0.0, f64::max);
        assert!(worst < 1e-5, "independent halves: {worst}");
        // Exchange across the interface makes the halves switch together.
        let coupled = m(&two.with_terms(Terms::all().without_demag()));
        let apart = (0..sum.len())
            .map(|k| (coupled[k] - (a[k] + b[k]) / 2.0).abs())
            .fold(0.0, f64::max);
        assert!(apart > 0.05, "coupled halves: {apart}");
    }

    #[test]
    fn a_cached_set_comes_back_and_lost_curves_are_computed_again() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CurveCache::at(dir.path());
        let p = particle(0.4);
        let first = forc(&p, &options(0.25), None, 1, Some(&cache)).unwrap();
        let names = || -> Vec<String> {
            let entries = std::fs::read_dir(dir.path()).unwrap();
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into())
                .collect()
        };
        // The branch and every reversal curve, each in its own file.
        assert_eq!(names().len(), first.reversals.len() + 1);
        // Lose two curves, as an interrupt would: only those are computed again.
        for name in names() {
            if name.ends_with("-reversal3.json") || name.ends_with("-reversal5.json") {
                std::fs::remove_file(dir.path().join(name)).unwrap();
            }
        }
        assert_eq!(names().len(), first.reversals.len() - 1);
        let points = |f: &Forc| -> Vec<Vec<CurvePoint>> {
            f.reversals.iter().map(|c| c.points.clone()).collect()
        };
        let again = forc(&p, &options(0.25), None, 1, Some(&cache)).unwrap();
        assert_eq!(names().len(), first.reversals.len() + 1);
        assert_eq!(points(&again), points(&first));
        let cached = forc(&p, &options(0.25), None, 1, Some(&cache)).unwrap();
        assert_eq!(points(&cached), points(&first));
        assert_eq!(cached.descending.points, first.descending.points);
    }

    #[test]
    fn rejoined_curves_are_the_computed_ones_for_less_and_do_not_depend_on_threads() {
        // A Stoner–Wohlfarth particle: above −h_sw a reversal curve is back on the branch
        // after one step; below, once it has switched back past +h_sw.
        let psi = 30f64.to_radians();
        let full = forc(&particle(psi), &options(0.05), None, 2, None).unwrap();
        let fast = forc(&particle(psi), &options(0.05), Some(REJOIN_ANGLE), 2, None).unwrap();
        assert!(fast.rejoin.is_some() && full.rejoin.is_none());
        for (a, b) in full.reversals.iter().zip(&fast.reversals) {
            assert_eq!(a.points.len(), b.points.len());
            for (p, q) in a.points.iter().zip(&b.points) {
                assert_eq!(p.h, q.h);
                assert!((p.my - q.my).abs() < 1e-5 && (p.mx - q.mx).abs() < 1e-5);
            }
        }
        assert!(
            3 * fast.evaluations() < full.evaluations(),
            "{} against {}",
            fast.evaluations(),
            full.evaluations()
        );
        // Curves reversed above the switching field rejoin at their second point.
        let hsw = h_sw(psi);
        for (k, c) in fast.reversals.iter().enumerate().skip(2) {
            if c.points[0].h > -hsw + 0.05 {
                assert!(c.points[2..].iter().all(|p| p.iterations == 0), "curve {k}");
            }
        }
        // A curve waits for the curve it rejoins, so the threads' timing changes nothing.
        let magnet = Problem::new(
            Mesh::paper(8, 8).unwrap(),
            &(0..64)
                .map(|c| [0.2, 0.9, 1.3, 0.5][c % 4])
                .collect::<Vec<_>>(),
        )
        .unwrap();
        let one = forc(&magnet, &options(0.1), Some(REJOIN_ANGLE), 1, None).unwrap();
        let two = forc(&magnet, &options(0.1), Some(REJOIN_ANGLE), 2, None).unwrap();
        let points = |f: &Forc| -> Vec<Vec<CurvePoint>> {
            f.reversals.iter().map(|c| c.points.clone()).collect()
        };
        assert_eq!(points(&one), points(&two));
        // A descent without memory of earlier steps (no secant start, no carried step)
        // makes the same state at the same field go the same way: rejoining then changes
        // nothing but the cost.
        let short = SweepOptions {
            h_step: 0.1,
            ..SweepOptions::default().short_step()
        };
        let full = forc(&magnet, &short, None, 2, None).unwrap();
        let fast = forc(&magnet, &short, Some(REJOIN_ANGLE), 2, None).unwrap();
        let worst = full
            .reversals
            .iter()
            .zip(&fast.reversals)
            .flat_map(|(a, b)| {
                a.points
                    .iter()
                    .zip(&b.points)
                    .map(|(p, q)| (p.my - q.my).abs())
            })
            .fold(0.0, f64::max);
        assert!(worst < 1e-4, "{worst}");
        assert!(fast.evaluations() < full.evaluations());
    }

    #[test]
    fn refuses_a_rising_sweep_and_too_wide_a_window() {
        let p = particle(0.3);
        let rising = SweepOptions {
            h_start: -1.0,
            h_end: 1.0,
            ..options(0.5)
        };
        assert!(matches!(
            forc(&p, &rising, None, 1, None),
            Err(SolverError::BadOption { name: "h_end", .. })
        ));
        let f = forc(&p, &options(0.5), None, 1, None).unwrap();
        assert_eq!(f.reversal_fields().len(), 5);
        assert!(f.data().unwrap().distribution(2).is_ok());
        for s in [0, 3] {
            assert!(f.data().unwrap().distribution(s).is_err());
        }
    }
}
