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
use super::sweep::{Curve, Start, SweepOptions, sweep_observed};
use crate::forc::{Recoil, Reversal, Reversals};
use crate::progress::Progress;
use rayon::prelude::*;

/// A magnet's first-order reversal curves.
#[derive(Debug, Clone)]
pub struct Forc {
    /// The sweep's settings; its fields run from `h_start` (saturation) down to `h_end`.
    pub opts: SweepOptions,
    /// The reference material, whose HA and Ms are the units of h and M.
    pub material: Material,
    /// The descending branch; its state at each field starts one reversal curve.
    pub descending: Curve,
    /// One curve per field of the descending branch, in its order: from that field (h_r)
    /// up to `h_start`, on the same lattice of fields.
    pub reversals: Vec<Curve>,
    /// Wall-clock seconds of the call that made the set (curves taken from the cache cost
    /// none).
    pub seconds: f64,
}

/// The FORCs of `problem` on `threads` threads (0 = all cores): the descending branch
/// first, then the reversal curves side by side, each starting from its branch state.
/// With a `cache`, each curve is kept there as it finishes and taken from there when it
/// is already: after an error or interrupt the same call computes only what is missing.
pub fn forc(
    problem: &Problem,
    opts: &SweepOptions,
    threads: usize,
    cache: Option<&CurveCache>,
) -> Result<Forc, SolverError> {
    let opts = opts.validated()?;
    if opts.h_end >= opts.h_start {
        return Err(SolverError::BadOption {
            name: "h_end",
            value: opts.h_end.to_string(),
            expected: "a field below h_start: the reversal fields run down from saturation",
        });
    }
    let t0 = std::time::Instant::now();
    // The branch is the demagnetisation curve of these options, and is kept as one; a
    // reversal curve is fixed by the same and its index.
    let branch_key = CurveCache::key(problem, &opts);
    let fields = opts.fields()?;
    let keys: Vec<String> = (0..fields.len())
        .map(|k| format!("{branch_key}-reversal{k}"))
        .collect();
    let from_cache = |key: &str| cache.and_then(|c| c.get(key));
    let mut reversals: Vec<Option<Curve>> = keys.iter().map(|k| from_cache(k)).collect();
    if let (Some(descending), true) = (
        from_cache(&branch_key),
        reversals.iter().all(Option::is_some),
    ) {
        return Ok(Forc {
            opts,
            material: *problem.material(),
            descending,
            reversals: reversals.into_iter().flatten().collect(),
            seconds: t0.elapsed().as_secs_f64(),
        });
    }
    let kernel = DemagKernel::cached(problem.mesh(), opts.min.precision)?;
    let pool = super::batch::pool(threads)?;
    let n = pool.current_num_threads();
    let mut states = Vec::new();
    let descending = pool.install(|| {
        let mut energy = Energy::with_kernel(problem, &kernel)?;
        energy.set_split(super::fork::fits(1, n));
        let start = Start::SaturatedTracing(&mut states);
        sweep_observed(&mut energy, &opts, start, None, None)
    })?;
    if let Some(c) = cache {
        keep(c, &branch_key, &descending);
    }
    let todo: Vec<usize> = (0..fields.len())
        .filter(|&k| reversals[k].is_none())
        .collect();
    let split = super::fork::fits(todo.len(), n);
    let progress = Progress::new(fields.len() as u64, "forc");
    progress.inc((fields.len() - todo.len()) as u64);
    let computed: Vec<Result<Curve, SolverError>> = pool.install(|| {
        todo.par_iter()
            .map(|&k| {
                crate::interrupt::check()?;
                let up = SweepOptions {
                    h_start: fields[k],
                    h_end: opts.h_start,
                    ..opts
                };
                let mut energy = Energy::with_kernel(problem, &kernel)?;
                energy.set_split(split);
                let curve = sweep_observed(&mut energy, &up, Start::From(&states[k]), None, None)?;
                if let Some(c) = cache {
                    keep(c, &keys[k], &curve);
                }
                progress.inc(1);
                Ok(curve)
            })
            .collect()
    });
    progress.finish();
    for (k, curve) in todo.into_iter().zip(computed) {
        reversals[k] = Some(curve?);
    }
    Ok(Forc {
        opts,
        material: *problem.material(),
        descending,
        reversals: reversals.into_iter().flatten().collect(),
        seconds: t0.elapsed().as_secs_f64(),
    })
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
        let f = forc(&particle(psi), &options(0.05), 2, None).unwrap();
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
            let f = forc(&particle(psi), &opts, 2, None).unwrap();
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
        let f = forc(&particle(psi), &options(0.05), 2, None).unwrap();
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
        let f = forc(&particle(psi), &off, 1, None).unwrap();
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
            let f = forc(p, &options(0.1), 2, None).unwrap();
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
        let first = forc(&p, &options(0.25), 1, Some(&cache)).unwrap();
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
        let again = forc(&p, &options(0.25), 1, Some(&cache)).unwrap();
        assert_eq!(names().len(), first.reversals.len() + 1);
        assert_eq!(points(&again), points(&first));
        let cached = forc(&p, &options(0.25), 1, Some(&cache)).unwrap();
        assert_eq!(points(&cached), points(&first));
        assert_eq!(cached.descending.points, first.descending.points);
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
            forc(&p, &rising, 1, None),
            Err(SolverError::BadOption { name: "h_end", .. })
        ));
        let f = forc(&p, &options(0.5), 1, None).unwrap();
        assert_eq!(f.reversal_fields().len(), 5);
        assert!(f.data().unwrap().distribution(2).is_ok());
        for s in [0, 3] {
            assert!(f.data().unwrap().distribution(s).is_err());
        }
    }
}
