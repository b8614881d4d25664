//! Total energy and its gradient with respect to the in-plane angles φ, m = (sin φ, cos φ, 0).
//!
//! Reduced units: fields in HA of the reference material, energy ε = E/(2K1V) summed over
//! cells, so that h_eff = −∂ε/∂m and ∂ε/∂φ_c = h_y m_x − h_x m_y = (m × h_eff)_z. The torque
//! of cell c in units of HA is |∂ε/∂φ_c|/σ_c (σ = Ms_cell/Ms_ref, 1 for uniform material).

use super::anisotropy::Anisotropy;
use super::demag::{Band, ConvInner, Demag, DemagKernel, Passes, Precision, Real, band_rows};
use super::exchange::Exchange;
use super::fork::Fork;
use super::problem::Problem;
use super::{SolverError, check_cells, trig, zeeman};
use std::ops::Range;

mod local;
pub use local::{Densities, LocalFields};

/// Which energy terms enter (all on by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terms {
    pub exchange: bool,
    pub anisotropy: bool,
    pub zeeman: bool,
    pub demag: bool,
}

impl Default for Terms {
    fn default() -> Self {
        Terms {
            exchange: true,
            anisotropy: true,
            zeeman: true,
            demag: true,
        }
    }
}

impl Terms {
    pub fn all() -> Self {
        Self::default()
    }
    pub fn without_demag(self) -> Self {
        Terms {
            demag: false,
            ..self
        }
    }
    fn any(&self) -> bool {
        self.exchange || self.anisotropy || self.zeeman || self.demag
    }
}

/// Mean energy densities per term (J/m³ over the magnet's volume). Anisotropy is −K1(k·m)²
/// as in docs/physics.md §3.2 (fidimag's K1(1 − (k·m)²) is this plus K1).
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Energies {
    pub exchange: f64,
    pub anisotropy: f64,
    pub zeeman: f64,
    pub demag: f64,
    pub total: f64,
}

/// The energy evaluator of one problem: precomputed term weights, the shared demag kernel
/// and private scratch. Not shared between threads: build one per thread.
pub struct Energy {
    problem_mesh: super::Mesh,
    material: super::Material,
    terms: Terms,
    exchange: Exchange,
    anisotropy: Anisotropy,
    /// σ = Ms_cell/Ms_ref, None when uniform.
    sigma: Option<Vec<f64>>,
    demag: Option<(Demag, f64)>,
    mx: Vec<f64>,
    my: Vec<f64>,
    hx: Vec<f64>,
    hy: Vec<f64>,
    dx: Vec<f64>,
    dy: Vec<f64>,
    evaluations: u64,
    /// Who runs the second half of each pass ([`Energy::set_split`]).
    fork: Fork,
}

impl Energy {
    /// Evaluator with the demag kernel from the process-wide cache.
    pub fn new(problem: &Problem, precision: Precision) -> Result<Self, SolverError> {
        let kernel = if problem.terms().demag {
            Some(DemagKernel::cached(problem.mesh(), precision)?)
        } else {
            None
        };
        Self::build(problem, kernel.as_ref())
    }

    /// Evaluator reusing a kernel built for the same mesh (ignored when demag is off).
    pub fn with_kernel(problem: &Problem, kernel: &DemagKernel) -> Result<Self, SolverError> {
        if problem.terms().demag && kernel.mesh() != problem.mesh() {
            return Err(SolverError::BadOption {
                name: "demag kernel",
                value: format!("{:?}", kernel.mesh()),
                expected: "a kernel built for the problem's mesh",
            });
        }
        Self::build(problem, Some(kernel))
    }

    fn build(problem: &Problem, kernel: Option<&DemagKernel>) -> Result<Self, SolverError> {
        let terms = problem.terms();
        if !terms.any() {
            return Err(SolverError::NoTerms);
        }
        let mesh = *problem.mesh();
        let n = mesh.cells();
        let material = *problem.material();
        let sigma = ms_ratio(problem);
        let sigma = if sigma.iter().all(|&s| s == 1.0) {
            None
        } else {
            Some(sigma)
        };
        let demag = match (terms.demag, kernel) {
            (true, Some(k)) => Some((Demag::new(k), material.demag_weight())),
            _ => None,
        };
        Ok(Energy {
            problem_mesh: mesh,
            material,
            terms,
            exchange: Exchange::new(problem),
            anisotropy: Anisotropy::new(problem),
            sigma,
            demag,
            mx: vec![0.0; n],
            my: vec![0.0; n],
            hx: vec![0.0; n],
            hy: vec![0.0; n],
            dx: vec![0.0; n],
            dy: vec![0.0; n],
            evaluations: 0,
            fork: Fork::One,
        })
    }

    /// Split each evaluation between the calling thread and a partner thread of this
    /// evaluator's own (one curve on two cores), instead of running it on the calling
    /// thread alone (one curve per core). The numbers are the same either way.
    pub fn set_split(&mut self, split: bool) {
        if split != self.fork.is_split() {
            self.fork = Fork::new(split);
        }
    }

    /// Whether evaluations are split with a partner thread.
    pub fn is_split(&self) -> bool {
        self.fork.is_split()
    }

    /// The mesh of the problem this evaluator was built for.
    pub fn mesh(&self) -> super::Mesh {
        self.problem_mesh
    }

    pub fn cells(&self) -> usize {
        self.mx.len()
    }

    /// Gradient evaluations done so far.
    pub fn evaluations(&self) -> u64 {
        self.evaluations
    }

    /// Cells in each of the two bands that every pass of an evaluation is split into.
    fn bands(&self) -> [Range<usize>; 2] {
        let nx = self.problem_mesh.nx;
        band_rows(self.problem_mesh.ny).map(|r| r.start * nx..r.end * nx)
    }

    /// m from φ, the demag field (weighted, kept in dx, dy), the total effective field into
    /// hx, hy and, with `grad`, ∂ε/∂φ into it. Each band of rows goes through the passes on
    /// its own lane: `before` on its angles, m, rows forward; then the demag columns; then
    /// rows inverse, the local terms, `after` on its gradient. Returns the largest torque in
    /// units of HA (NaN when a gradient entry is not finite; 0 without `grad`) and what
    /// `after` returned per band.
    fn fields<P, R>(
        &mut self,
        ask: Ask<
            '_,
            P,
            impl Fn(Range<usize>, &mut P) + Sync,
            impl Fn(Range<usize>, &[f64]) -> R + Sync,
        >,
    ) -> Result<(f64, [R; 2]), SolverError>
    where
        P: AsRef<[f64]> + Send,
        R: Send,
    {
        let bands = self.bands();
        let Energy {
            terms,
            exchange,
            anisotropy,
            sigma,
            demag,
            mx,
            my,
            hx,
            hy,
            dx,
            dy,
            evaluations,
            fork,
            ..
        } = self;
        let pass = Pass {
            bands,
            fork,
            terms: *terms,
            exchange,
            anisotropy,
            sigma: sigma.as_deref(),
            demag_weight: demag.as_ref().map(|(_, w)| *w),
            m: [mx, my],
            fields: [hx, hy, dx, dy],
        };
        let out = match demag.as_mut().map(|(d, _)| d.conv()) {
            Some(ConvInner::F32(c)) => pass.run(Some(c.passes()), ask),
            Some(ConvInner::F64(c)) => pass.run(Some(c.passes()), ask),
            None => pass.run::<f32, _, _>(None, ask),
        }?;
        *evaluations += 1;
        Ok(out)
    }

    /// Fills `grad` with ∂ε/∂φ and returns the largest torque |m × h_eff| in units of HA.
    pub fn gradient(
        &mut self,
        phi: &[f64],
        h: [f64; 2],
        grad: &mut [f64],
    ) -> Result<f64, SolverError> {
        self.check_gradient_args(phi, grad)?;
        let torque = self.fields_at(phi, h, Some(&mut *grad))?;
        finite_torque(torque, grad)
    }

    /// [`Energy::fields`] at the angles as given, with no work of the caller's in the passes.
    fn fields_at(
        &mut self,
        phi: &[f64],
        h: [f64; 2],
        grad: Option<&mut [f64]>,
    ) -> Result<f64, SolverError> {
        let [a, b] = self.bands();
        let (torque, _) = self.fields(Ask {
            phi: [&phi[a], &phi[b]],
            before: keep_angles,
            h,
            grad,
            after: |_, _: &[f64]| (),
        })?;
        Ok(torque)
    }

    /// [`Energy::gradient`] with a caller's per-cell work done inside the evaluation's
    /// passes, so that a split descent hands work to its partner three times per step:
    /// on each band of cells `before(cells, φ[cells])` runs before the band's angles are
    /// read and `after(cells, grad[cells])` once its gradient is written. The bands are
    /// the same whether split or not, so the results are too. Returns the torque and
    /// `after`'s result per band.
    pub fn gradient_with<R: Send>(
        &mut self,
        phi: &mut [f64],
        h: [f64; 2],
        grad: &mut [f64],
        before: impl Fn(Range<usize>, &mut [f64]) + Sync,
        after: impl Fn(Range<usize>, &[f64]) -> R + Sync,
    ) -> Result<(f64, [R; 2]), SolverError> {
        self.check_gradient_args(phi, grad)?;
        let [a, _] = self.bands();
        let (pa, pb) = phi.split_at_mut(a.end);
        let (torque, out) = self.fields(Ask {
            phi: [pa, pb],
            before: |cells, p: &mut &mut [f64]| before(cells, p),
            h,
            grad: Some(&mut *grad),
            after,
        })?;
        Ok((finite_torque(torque, grad)?, out))
    }

    fn check_gradient_args(&self, phi: &[f64], grad: &[f64]) -> Result<(), SolverError> {
        if grad.len() != phi.len() {
            return Err(SolverError::LengthMismatch {
                what: "gradient buffer",
                expected: phi.len(),
                got: grad.len(),
            });
        }
        check_cells("angles phi", phi, self.cells())
    }

    /// [`Energy::gradient`] plus the total reduced energy ε from the same fields
    /// (ε = Σ_links w − ½Σ h_eff·m − ½Σ h_zeeman·m), at O(cells) extra cost.
    pub fn gradient_energy(
        &mut self,
        phi: &[f64],
        h: [f64; 2],
        grad: &mut [f64],
    ) -> Result<(f64, f64), SolverError> {
        let torque = self.gradient(phi, h, grad)?;
        let (mx, my) = (&self.mx, &self.my);
        let mut hm = 0.0;
        for c in 0..mx.len() {
            hm += self.hx[c] * mx[c] + self.hy[c] * my[c];
        }
        let mut e = -0.5 * hm;
        if self.terms.exchange {
            e += self.exchange.link_sum();
        }
        if self.terms.zeeman {
            e += 0.5 * zeeman::energy(h, self.sigma.as_deref(), mx, my);
        }
        Ok((torque, e))
    }

    /// The reduced energy ε = E/(2K1V) of each term at φ, field h (units of HA).
    fn reduced_terms(&mut self, phi: &[f64], h: [f64; 2]) -> Result<[f64; 4], SolverError> {
        check_cells("angles phi", phi, self.cells())?;
        self.fields_at(phi, h, None)?;
        let (mx, my) = (&self.mx, &self.my);
        let ex = if self.terms.exchange {
            self.exchange.energy(mx, my)
        } else {
            0.0
        };
        let an = if self.terms.anisotropy {
            self.anisotropy.energy(mx, my)
        } else {
            0.0
        };
        let ze = if self.terms.zeeman {
            zeeman::energy(h, self.sigma.as_deref(), mx, my)
        } else {
            0.0
        };
        let de = if self.demag.is_some() {
            -0.5 * (0..mx.len())
                .map(|c| self.dx[c] * mx[c] + self.dy[c] * my[c])
                .sum::<f64>()
        } else {
            0.0
        };
        Ok([ex, an, ze, de])
    }

    /// Total reduced energy ε = E/(2K1V) (what `gradient` differentiates).
    pub fn reduced_energy(&mut self, phi: &[f64], h: [f64; 2]) -> Result<f64, SolverError> {
        Ok(self.reduced_terms(phi, h)?.iter().sum())
    }

    /// Mean energy density per term in J/m³.
    pub fn energies(&mut self, phi: &[f64], h: [f64; 2]) -> Result<Energies, SolverError> {
        let r = self.reduced_terms(phi, h)?;
        let d = |v: f64| self.material.energy_density(v, &self.problem_mesh);
        Ok(Energies {
            exchange: d(r[0]),
            anisotropy: d(r[1]),
            zeeman: d(r[2]),
            demag: d(r[3]),
            total: d(r.iter().sum()),
        })
    }
}

/// σ = Ms_cell/Ms_ref of every cell.
pub(crate) fn ms_ratio(problem: &Problem) -> Vec<f64> {
    let ms_ref = problem.material().ms;
    (0..problem.mesh().cells())
        .map(|c| problem.cell_material(c).ms / ms_ref)
        .collect()
}

/// The torque of an evaluation, or the first non-finite gradient entry as an error.
fn finite_torque(torque: f64, grad: &[f64]) -> Result<f64, SolverError> {
    if torque.is_finite() {
        return Ok(torque);
    }
    let index = grad.iter().position(|g| !g.is_finite()).unwrap_or(0);
    Err(SolverError::NonFinite {
        what: "torque",
        index,
        value: grad.get(index).copied().unwrap_or(f64::NAN),
    })
}

/// The `before` of an evaluation that leaves the angles as given.
fn keep_angles<P>(_: Range<usize>, _: &mut P) {}

/// What one evaluation is asked for: the angles of each band, the caller's work on a band
/// before its angles are read and after its gradient is written, the applied field, and
/// where the gradient goes (none for the energy alone).
struct Ask<'g, P, B, A> {
    phi: [P; 2],
    before: B,
    h: [f64; 2],
    grad: Option<&'g mut [f64]>,
    after: A,
}

/// One evaluation's borrowed state, run by [`Energy::fields`] at the demag's precision.
struct Pass<'a> {
    bands: [Range<usize>; 2],
    fork: &'a Fork,
    terms: Terms,
    exchange: &'a Exchange,
    anisotropy: &'a Anisotropy,
    sigma: Option<&'a [f64]>,
    demag_weight: Option<f64>,
    m: [&'a mut Vec<f64>; 2],
    fields: [&'a mut Vec<f64>; 4],
}

impl Pass<'_> {
    fn run<T: Real, P: AsRef<[f64]> + Send, R: Send>(
        self,
        demag: Option<Passes<'_, T>>,
        ask: Ask<
            '_,
            P,
            impl Fn(Range<usize>, &mut P) + Sync,
            impl Fn(Range<usize>, &[f64]) -> R + Sync,
        >,
    ) -> Result<(f64, [R; 2]), SolverError> {
        let Ask {
            phi,
            before,
            h,
            grad,
            after,
        } = ask;
        let Pass {
            bands: [ca, cb],
            fork,
            terms,
            exchange,
            anisotropy,
            sigma,
            demag_weight,
            m: [mx, my],
            fields: [hx, hy, dx, dy],
        } = self;
        let mid = ca.end;
        let (kernel, [mut band_a, mut band_b], columns) = match demag {
            Some((k, [a, b], c)) => (Some(k), [Some(a), Some(b)], Some(c)),
            None => (None, [None, None], None),
        };
        // Rows forward: the band's angles, its m and its row spectra.
        let first = |cells: Range<usize>,
                     p: &mut P,
                     mx: &mut [f64],
                     my: &mut [f64],
                     band: Option<&mut Band<T>>| {
            before(cells.clone(), p);
            trig::sin_cos_slice(p.as_ref(), mx, my);
            match (kernel, band) {
                (Some(k), Some(b)) => b.forward(k, [mx, my], sigma.map(|s| &s[cells])),
                _ => Ok(()),
            }
        };
        let [mut pa, mut pb] = phi;
        {
            let (mxa, mxb) = mx.split_at_mut(mid);
            let (mya, myb) = my.split_at_mut(mid);
            let (a, b) = fork.both(
                || first(ca.clone(), &mut pa, mxa, mya, band_a.as_deref_mut()),
                || first(cb.clone(), &mut pb, mxb, myb, band_b.as_deref_mut()),
            );
            a.and(b)?;
        }
        let lanes = match (columns, &band_a, &band_b) {
            (Some(c), Some(a), Some(b)) => Some(c.run([&**a, &**b], fork)),
            _ => None,
        };
        // Rows inverse: the band's demag field, every local term and its gradient.
        let local = LocalTerms {
            terms,
            exchange,
            anisotropy,
            sigma,
            demag_weight,
            mx,
            my,
            h,
        };
        let last = |cells: Range<usize>,
                    [hx, hy, dx, dy]: [&mut [f64]; 4],
                    mut grad: Option<&mut [f64]>,
                    band: Option<&mut Band<T>>|
         -> Result<(f64, R), SolverError> {
            if let (Some(k), Some(b), Some(lanes)) = (kernel, band, lanes) {
                b.inverse(k, lanes, [&mut *dx, &mut *dy])?;
            }
            let torque = local.apply(cells.clone(), [hx, hy, dx, dy], grad.as_deref_mut());
            Ok((torque, after(cells, grad.as_deref().unwrap_or(&[]))))
        };
        let (hxa, hxb) = hx.split_at_mut(mid);
        let (hya, hyb) = hy.split_at_mut(mid);
        let (dxa, dxb) = dx.split_at_mut(mid);
        let (dya, dyb) = dy.split_at_mut(mid);
        let (ga, gb) = match grad {
            Some(g) => {
                let (a, b) = g.split_at_mut(mid);
                (Some(a), Some(b))
            }
            None => (None, None),
        };
        let (a, b) = fork.both(
            || last(ca.clone(), [hxa, hya, dxa, dya], ga, band_a),
            || last(cb.clone(), [hxb, hyb, dxb, dyb], gb, band_b),
        );
        let ((ta, ra), (tb, rb)) = (a?, b?);
        let torque = if ta.is_nan() || tb.is_nan() {
            f64::NAN
        } else {
            ta.max(tb)
        };
        Ok((torque, [ra, rb]))
    }
}

/// Cells per block of the local pass: every term of a block is added while it is in cache.
const BLOCK: usize = 2048;

/// The terms that act cell by cell, borrowed for one evaluation.
struct LocalTerms<'a> {
    terms: Terms,
    exchange: &'a Exchange,
    anisotropy: &'a Anisotropy,
    sigma: Option<&'a [f64]>,
    demag_weight: Option<f64>,
    mx: &'a [f64],
    my: &'a [f64],
    h: [f64; 2],
}

impl LocalTerms<'_> {
    /// For `cells` (the slices hold just those cells): weights the raw demag field in
    /// `dx`, `dy`, sums every term into `hx`, `hy` and fills `grad`; returns the largest
    /// torque (NaN when a gradient entry is not finite).
    fn apply(
        &self,
        cells: std::ops::Range<usize>,
        [hx, hy, dx, dy]: [&mut [f64]; 4],
        mut grad: Option<&mut [f64]>,
    ) -> f64 {
        let mut torque = 0.0f64;
        let mut finite = true;
        let mut b0 = cells.start;
        while b0 < cells.end {
            let b1 = (b0 + BLOCK).min(cells.end);
            let at = b0 - cells.start..b1 - cells.start;
            let (hx, hy) = (&mut hx[at.clone()], &mut hy[at.clone()]);
            let sigma = self.sigma.map(|s| &s[b0..b1]);
            match self.demag_weight {
                Some(w) => {
                    let (dx, dy) = (&mut dx[at.clone()], &mut dy[at.clone()]);
                    match sigma {
                        None => {
                            dx.iter_mut().for_each(|v| *v *= w);
                            dy.iter_mut().for_each(|v| *v *= w);
                        }
                        Some(s) => {
                            for c in 0..s.len() {
                                dx[c] *= w * s[c];
                                dy[c] *= w * s[c];
                            }
                        }
                    }
                    hx.copy_from_slice(dx);
                    hy.copy_from_slice(dy);
                }
                None => {
                    hx.fill(0.0);
                    hy.fill(0.0);
                }
            }
            if self.terms.exchange {
                self.exchange.add_field(self.mx, self.my, b0..b1, hx, hy);
            }
            if self.terms.anisotropy {
                self.anisotropy.add_field(self.mx, self.my, b0..b1, hx, hy);
            }
            if self.terms.zeeman {
                zeeman::add_field(self.h, sigma, hx, hy);
            }
            if let Some(g) = grad.as_deref_mut() {
                let g = &mut g[at];
                let (mx, my) = (&self.mx[b0..b1], &self.my[b0..b1]);
                for c in 0..g.len() {
                    g[c] = hy[c] * mx[c] - hx[c] * my[c];
                }
                match sigma {
                    None => {
                        for v in g.iter() {
                            finite &= v.is_finite();
                            torque = torque.max(v.abs());
                        }
                    }
                    Some(s) => {
                        for (v, s) in g.iter().zip(s) {
                            finite &= v.is_finite();
                            torque = torque.max(v.abs() / s);
                        }
                    }
                }
            }
            b0 = b1;
        }
        if finite { torque } else { f64::NAN }
    }
}

/// `problem` with Ms graded over the cells (down to 1 − `depth` in steps of `period`): per-cell
/// material for the tests.
#[cfg(test)]
pub(crate) fn with_graded_ms(problem: Problem, depth: f64, period: usize) -> Problem {
    let cells = (0..problem.mesh().cells())
        .map(|c| {
            let mut m = super::Material::nd2fe14b();
            m.ms *= 1.0 - depth * ((c % period) as f64 / period as f64);
            m
        })
        .collect();
    problem.with_cell_materials(cells).unwrap()
}

/// Mean (m_x, m_y) of the angles φ.
pub fn mean_m(phi: &[f64]) -> [f64; 2] {
    let n = phi.len().max(1) as f64;
    let (sx, sy) = phi.iter().fold((0.0, 0.0), |(a, b), p| {
        let (s, c) = p.sin_cos();
        (a + s, b + c)
    });
    [sx / n, sy / n]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solver::material::MU0;
    use crate::solver::{Material, Mesh};

    /// |a − b| within `tol` of |b| (absolutely below 1).
    pub(super) fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1.0)
    }

    /// An nx × ny problem of 2 nm cells with axes and angles that vary from cell to cell
    /// without pattern, and those angles.
    pub(super) fn scrambled(nx: usize, ny: usize) -> (Problem, Vec<f64>) {
        let mesh = Mesh::new(nx, ny, 2e-9, 2e-9, 36e-6).unwrap();
        let n = mesh.cells();
        let psi: Vec<f64> = (0..n).map(|c| (c as f64 * 0.37).sin()).collect();
        let phi: Vec<f64> = (0..n).map(|c| 2.0 * (c as f64 * 0.11).cos()).collect();
        (Problem::new(mesh, &psi).unwrap(), phi)
    }

    /// Splitting an evaluation with a partner thread changes who computes, not what: the gradient
    /// and energy are bit-for-bit those of one thread (so a curve does not depend on the
    /// thread count), with uniform and with per-cell material.
    #[test]
    fn split_evaluation_is_identical() {
        let (uniform, phi) = scrambled(37, 23);
        let n = phi.len();
        let mixed = with_graded_ms(uniform.clone(), 0.3, 7);
        for p in [uniform, mixed] {
            let mut one = Energy::new(&p, Precision::F32).unwrap();
            let mut two = Energy::new(&p, Precision::F32).unwrap();
            two.set_split(true);
            let (mut g1, mut g2) = (vec![0.0; n], vec![0.0; n]);
            let a = one.gradient_energy(&phi, [0.1, -0.4], &mut g1).unwrap();
            let b = two.gradient_energy(&phi, [0.1, -0.4], &mut g2).unwrap();
            assert_eq!(a, b);
            assert_eq!(g1, g2);
        }
    }

    #[test]
    fn hand_computed_terms() {
        let m = Material::nd2fe14b();
        // Exchange: two cells at 90°: density A/Δ² (one pair, two cells).
        let p = Problem::new(Mesh::paper(2, 1).unwrap(), &[0.0, 0.0]).unwrap();
        let mut e = Energy::new(&p, Precision::F64).unwrap();
        let en = e
            .energies(&[0.0, std::f64::consts::FRAC_PI_2], [0.0, 0.0])
            .unwrap();
        assert!(close(en.exchange, m.a / 4e-18, 1e-12), "{en:?}");
        // Anisotropy, ψ = 30°, φ = 0: −K1 cos²30°.
        let p = Problem::new(Mesh::paper(1, 1).unwrap(), &[30f64.to_radians()]).unwrap();
        let mut e = Energy::new(&p, Precision::F64).unwrap();
        let en = e.energies(&[0.0], [0.0, 0.5]).unwrap();
        assert!(close(en.anisotropy, -m.k1 * 0.75, 1e-12), "{en:?}");
        // Zeeman, h = 0.5 along y, φ = 0: −μ0Ms·0.5HA = −K1.
        assert!(close(en.zeeman, -m.k1, 1e-12), "{en:?}");
        // Demag of one cell along y: (μ0/2)Ms²·N_yy(self) with fidimag's N_yy = 0.49998686.
        let want = 0.5 * MU0 * m.ms * m.ms * 0.49998686176720775;
        assert!(close(en.demag, want, 3e-8), "{} vs {want}", en.demag);
        assert!(close(
            en.total,
            en.exchange + en.anisotropy + en.zeeman + en.demag,
            1e-12
        ));
        // Zeeman with the field along x and m along x: −2K1·h.
        let en = e
            .energies(&[std::f64::consts::FRAC_PI_2], [0.3, 0.0])
            .unwrap();
        assert!(close(en.zeeman, -2.0 * m.k1 * 0.3, 1e-12));
    }

    fn check_gradient(p: &Problem, precision: Precision, tol: f64) {
        let mut e = Energy::new(p, precision).unwrap();
        let n = p.mesh().cells();
        let phi: Vec<f64> = (0..n).map(|c| (c as f64 * 1.37).sin() * 2.5).collect();
        let h = [0.13, -0.41];
        let mut g = vec![0.0; n];
        e.gradient(&phi, h, &mut g).unwrap();
        let step = 1e-6;
        for c in (0..n).step_by(3) {
            let mut q = phi.clone();
            q[c] += step;
            let ep = e.reduced_energy(&q, h).unwrap();
            let mut gq = vec![0.0; n];
            let (_, e2) = e.gradient_energy(&q, h, &mut gq).unwrap();
            assert!((e2 - ep).abs() < 1e-9 * ep.abs().max(1.0), "{e2} vs {ep}");
            q[c] -= 2.0 * step;
            let em = e.reduced_energy(&q, h).unwrap();
            let fd = (ep - em) / (2.0 * step);
            assert!((fd - g[c]).abs() < tol, "cell {c}: fd {fd} vs {}", g[c]);
        }
    }

    #[test]
    fn gradient_equals_finite_differences() {
        let mesh = Mesh::new(6, 5, 2e-9, 2.5e-9, 36e-6).unwrap();
        let psi: Vec<f64> = (0..30).map(|c| (c as f64 * 0.77).cos()).collect();
        let p = Problem::new(mesh, &psi).unwrap();
        check_gradient(&p, Precision::F64, 1e-7);
        check_gradient(
            &p.clone().with_terms(Terms::all().without_demag()),
            Precision::F64,
            1e-7,
        );
        // Per-cell materials (Ms, K1, A varying).
        let cells: Vec<Material> = (0..30)
            .map(|c| Material {
                a: 8e-12 * (1.0 + 0.1 * (c % 3) as f64),
                ms: 1.2e6 + 1e4 * c as f64,
                k1: 4e6 - 1e4 * c as f64,
            })
            .collect();
        check_gradient(&p.with_cell_materials(cells).unwrap(), Precision::F64, 1e-7);
    }

    #[test]
    fn rejects_bad_input() {
        let mesh = Mesh::paper(2, 2).unwrap();
        assert!(matches!(
            Problem::new(mesh, &[0.0; 3]),
            Err(SolverError::LengthMismatch { .. })
        ));
        assert!(matches!(
            Problem::new(mesh, &[0.0, f64::NAN, 0.0, 0.0]),
            Err(SolverError::NonFinite { index: 1, .. })
        ));
        assert!(matches!(
            Mesh::paper(0, 3),
            Err(SolverError::EmptyGrid { .. })
        ));
        assert!(Mesh::new(2, 2, -1.0, 1.0, 1.0).is_err());
        let p = Problem::new(mesh, &[0.0; 4]).unwrap();
        let none = Terms {
            exchange: false,
            anisotropy: false,
            zeeman: false,
            demag: false,
        };
        assert!(matches!(
            Energy::new(&p.clone().with_terms(none), Precision::F32),
            Err(SolverError::NoTerms)
        ));
        let mut e = Energy::new(&p, Precision::F32).unwrap();
        let mut g = vec![0.0; 4];
        assert!(e.gradient(&[0.0; 5], [0.0, 0.0], &mut g).is_err());
        assert!(
            Material {
                a: -1.0,
                ..Material::default()
            }
            .validated()
            .is_err()
        );
    }
}
