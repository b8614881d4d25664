//! First-order reversal curves (FORCs): from saturation down to a reversal field h_r, then
//! back up to saturation, one curve for every field of the descending branch. Their
//! distribution ρ(h_r, h) = −½ ∂²M/∂h_r∂h maps the irreversible switching by coercivity
//! h_c = (h − h_r)/2 and bias (interaction) field h_u = (h + h_r)/2 (Pike, Roberts &
//! Verosub, J. Appl. Phys. 85, 6660 (1999); docs/physics.md §3.9).

use super::SolverError;
use super::cache::{CurveCache, keep};
use super::demag::DemagKernel;
use super::energy::Energy;
use super::material::Material;
use super::problem::Problem;
use super::sweep::{Curve, Start, SweepOptions, sweep_observed};
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

/// The FORC distribution at the lattice points (h_r, h ≥ h_r) whose whole smoothing window
/// lies inside the measured fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Distribution {
    pub h_r: Vec<f64>,
    pub h: Vec<f64>,
    /// Coercivity (h − h_r)/2 and bias field (h + h_r)/2 of each point.
    pub h_c: Vec<f64>,
    pub h_u: Vec<f64>,
    /// ρ in Ms per HA².
    pub rho: Vec<f64>,
}

/// What each reversal field below zero leaves at h = 0, as a motor designer reads a magnet
/// exposed to it: one entry per h_r < 0, in the branch's order.
#[derive(Debug, Clone, PartialEq)]
pub struct Recoil {
    pub h_r: Vec<f64>,
    /// M at h = 0 on the way back (units of Ms).
    pub m_back: Vec<f64>,
    /// The irreversible loss Mr − m_back (units of Ms).
    pub loss: Vec<f64>,
    /// Relative recoil permeability of the chord from h_r to 0: 1 + ΔM/ΔH in SI, as the
    /// slope of B = μ0(H + M) over μ0.
    pub mu_rec: Vec<f64>,
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

    /// The recoil from every reversal field below zero back to h = 0 ([`Recoil`]); needs
    /// h = 0 on the lattice of fields.
    pub fn recoil(&self) -> Result<Recoil, SolverError> {
        let fields = self.reversal_fields();
        let zero = fields.iter().position(|&h| h == 0.0).ok_or(SolverError::BadOption {
            name: "h_step",
            value: self.opts.h_step.to_string(),
            expected: "a lattice of fields through h = 0 (h_start a multiple of h_step) for the recoil",
        })?;
        let mr = self.descending.points[zero].my;
        // ΔM/ΔH in SI is (Ms/HA)·Δm/Δh; the permeability is in units of μ0.
        let ms_per_ha = self.material.ms / self.material.ha();
        let mut out = Recoil {
            h_r: vec![],
            m_back: vec![],
            loss: vec![],
            mu_rec: vec![],
        };
        for (a, &h_r) in fields.iter().enumerate().skip(zero + 1) {
            let points = &self.reversals[a].points;
            // Point j of reversal a is at the branch's field a − j.
            let back = points[a - zero].my;
            let slope = (back - points[0].my) / (0.0 - h_r);
            out.h_r.push(h_r);
            out.m_back.push(back);
            out.loss.push(mr - back);
            out.mu_rec.push(1.0 + ms_per_ha * slope);
        }
        Ok(out)
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

    /// M at lattice point (a, c): reversal curve a at the field of step c of the descending
    /// branch. Below its reversal field (c > a) a curve is extended by its first value
    /// (Pike, Phys. Rev. B 68, 104424 (2003)), so the reversible part shows on h = h_r.
    fn m(&self, a: usize, c: usize) -> f64 {
        self.reversals[a].points[a - c.min(a)].my
    }

    /// ρ(h_r, h) = −½ ∂²M/∂h_r∂h by a quadratic surface fitted to M over the
    /// (2·smoothing + 1)² lattice points around each point (the smoothing factor of Pike et
    /// al. 1999; 1 is the plain central difference), at every point whose window lies
    /// inside the fields.
    pub fn distribution(&self, smoothing: usize) -> Result<Distribution, SolverError> {
        let n = self.reversals.len();
        if smoothing == 0 || n < 2 * smoothing + 1 {
            return Err(SolverError::BadOption {
                name: "smoothing",
                value: format!("{smoothing} (with {n} reversal fields)"),
                expected: "a smoothing factor ≥ 1 with at least 2·smoothing + 1 reversal fields",
            });
        }
        let step = self.opts.h_step;
        let fields = self.reversal_fields();
        let mut out = Distribution {
            h_r: vec![],
            h: vec![],
            h_c: vec![],
            h_u: vec![],
            rho: vec![],
        };
        // Lattice fields carry rounding: a bias of 1e-17 is none.
        let snap = |x: f64| if x.abs() < 1e-12 { 0.0 } else { x };
        for a in smoothing..n - smoothing {
            for c in smoothing..=a {
                out.h_r.push(fields[a]);
                out.h.push(fields[c]);
                out.h_c.push(snap((fields[c] - fields[a]) / 2.0));
                out.h_u.push(snap((fields[c] + fields[a]) / 2.0));
                out.rho
                    .push(-0.5 * mixed_derivative(|a, c| self.m(a, c), a, c, smoothing, step));
            }
        }
        Ok(out)
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

/// ∂²M/∂x∂y at lattice point (a, c) from the least-squares quadratic surface over the
/// window |i|, |j| ≤ s (spacing `step` along both axes). On a symmetric window xy is
/// orthogonal to 1, x, y, x² and y², so its coefficient is Σ ij·M / (step² Σ i²j²).
fn mixed_derivative(
    m: impl Fn(usize, usize) -> f64,
    a: usize,
    c: usize,
    s: usize,
    step: f64,
) -> f64 {
    let s = s as i64;
    let mut sum = 0.0;
    for i in -s..=s {
        for j in -s..=s {
            if i != 0 && j != 0 {
                let v = m((a as i64 + i) as usize, (c as i64 + j) as usize);
                sum += (i * j) as f64 * v;
            }
        }
    }
    let squares = (s * (s + 1) * (2 * s + 1) / 3) as f64;
    sum / (step * step * squares * squares)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solver::{CurvePoint, Material, Mesh, MinimizeOptions, Terms};

    #[test]
    fn the_mixed_derivative_is_exact_on_cubic_surfaces() {
        // On lattice x = 0.3 − 0.05 a, y = 0.3 − 0.05 c (fields fall with the index).
        let (x0, step) = (0.3, 0.05);
        let p = |a: usize, c: usize| {
            let (x, y) = (x0 - step * a as f64, x0 - step * c as f64);
            1.0 + 2.0 * x - 3.0 * y + 0.7 * x * y - 1.1 * x * x + 0.4 * y * y + 2.0 * x * x * x
                - 0.6 * x * x * y
        };
        for s in 1..=4 {
            for (a, c) in [(4, 4), (5, 7), (9, 4)] {
                // ∂²/∂x∂y of the surface: 0.7 − 1.2x.
                let x = x0 - step * a as f64;
                let d = mixed_derivative(p, a, c, s, step);
                assert!((d - (0.7 - 1.2 * x)).abs() < 1e-9, "s = {s}: {d}");
            }
        }
    }

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
        let d = f.distribution(1).unwrap();
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
            let slope = (r.mu_rec[0] - 1.0) / (m.ms / m.ha());
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
        assert!(matches!(
            f.recoil(),
            Err(SolverError::BadOption { name: "h_step", .. })
        ));
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
                .map(|(a, c)| f.m(a, c))
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
        assert!(f.distribution(2).is_ok());
        for s in [0, 3] {
            assert!(matches!(
                f.distribution(s),
                Err(SolverError::BadOption {
                    name: "smoothing",
                    ..
                })
            ));
        }
    }
}
