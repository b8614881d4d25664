//! The FORC distribution ρ(h_r, h) = −½ ∂²M/∂h_r∂h by local quadratic regression (Pike,
//! Roberts & Verosub 1999), on any set of points: the solver's lattice or a measurement's
//! slightly irregular fields.

use super::{Reversal, Reversals};
use faer::linalg::solvers::Solve;
use faer::{Mat, Side};

/// ρ at the points (h_r, h ≥ h_r) whose whole smoothing window lies inside the curves.
#[derive(Debug, Clone, PartialEq)]
pub struct Distribution {
    pub h_r: Vec<f64>,
    pub h: Vec<f64>,
    /// Coercivity (h − h_r)/2 and bias field (h + h_r)/2 of each point.
    pub h_c: Vec<f64>,
    pub h_u: Vec<f64>,
    /// ρ in units of M per field².
    pub rho: Vec<f64>,
    /// The spacings of the reversal fields and of the fields along the curves.
    pub steps: (f64, f64),
}

impl Reversals {
    /// ρ = −½ ∂²M/∂h_r∂h at each point of each curve, from the quadratic surface fitted
    /// by least squares to M over the points within `smoothing` + ½ spacings of it along
    /// both axes: the (2·smoothing + 1)² lattice points of Pike et al. on the solver's
    /// lattice, where 1 is the plain central difference. Below its first field each curve
    /// is extended by its first value (Pike, Phys. Rev. B 68, 104424 (2003)), so the
    /// reversible part shows on h = h_r. Points whose window would leave the curves (the
    /// first and last `smoothing` curves, the last `smoothing` fields) get no ρ.
    pub fn distribution(&self, smoothing: usize) -> Result<Distribution, String> {
        let w = Window::new(self, smoothing)?;
        let curves = self.curves();
        let n = curves.len();
        let dh = w.steps.1;
        let mut out = Distribution {
            h_r: vec![],
            h: vec![],
            h_c: vec![],
            h_u: vec![],
            rho: vec![],
            steps: w.steps,
        };
        // Lattice fields carry rounding: a bias of 1e-17 is none.
        let snap = |x: f64| {
            if x.abs() < 1e-12 * dh.max(1.0) {
                0.0
            } else {
                x
            }
        };
        let mut points = Vec::new();
        for a in smoothing..n - smoothing {
            let x0 = curves[a].h_r;
            let near = w.near(x0);
            let top = w.top(&near);
            for &y0 in curves[a].h.iter().take_while(|&&y| w.below_top(y, top)) {
                if let Some(rho) = w.rho(x0, y0, &near, &mut points) {
                    out.h_r.push(x0);
                    out.h.push(y0);
                    out.h_c.push(snap((y0 - x0) / 2.0));
                    out.h_u.push(snap((y0 + x0) / 2.0));
                    out.rho.push(rho);
                }
            }
        }
        Ok(out)
    }
}

/// The local least-squares window of one smoothing factor over a set of curves: which
/// points enter the fit about a centre (h_r, h), and whether the window lies inside the
/// curves there.
pub(super) struct Window<'a> {
    curves: &'a [Reversal],
    /// The spacings of the reversal fields and of the fields along the curves.
    pub steps: (f64, f64),
    smoothing: f64,
    /// Half-widths along h_r and h: smoothing + ½ spacings, and a part in 1e9 of a
    /// spacing more, so that a centre halfway between lattice points takes the points at
    /// exactly that distance on both sides, not whichever rounding lets in.
    half: (f64, f64),
    /// Points added below a curve's first field: a window reaches at most wr + wh below
    /// a neighbour's first field.
    extension: usize,
}

impl<'a> Window<'a> {
    pub fn new(r: &'a Reversals, smoothing: usize) -> Result<Self, String> {
        let curves = r.curves();
        let n = curves.len();
        if smoothing == 0 || n < 2 * smoothing + 1 {
            return Err(format!(
                "bad option smoothing = {smoothing} (with {n} reversal fields): expected a \
                 smoothing factor ≥ 1 with at least 2·smoothing + 1 reversal fields"
            ));
        }
        let (dr, dh) = r.steps();
        let s = smoothing as f64;
        let half = ((s + 0.5 + 1e-9) * dr, (s + 0.5 + 1e-9) * dh);
        Ok(Self {
            curves,
            steps: (dr, dh),
            smoothing: s,
            half,
            extension: ((half.0 + half.1) / dh).ceil() as usize,
        })
    }

    /// The curves whose reversal field lies within the window of `x0`.
    pub fn near(&self, x0: f64) -> Vec<usize> {
        // The curves fall in h_r.
        let first = self.curves.partition_point(|c| c.h_r > x0 + self.half.0);
        let end = self.curves.partition_point(|c| c.h_r >= x0 - self.half.0);
        (first..end).collect()
    }

    /// The highest field that every curve of `near` reaches.
    pub fn top(&self, near: &[usize]) -> f64 {
        near.iter()
            .map(|&b| *self.curves[b].h.last().unwrap_or(&f64::NEG_INFINITY))
            .fold(f64::INFINITY, f64::min)
    }

    /// Whether a window about field `y0` stays below `top` (a quarter step of slack for
    /// fields that an instrument set near, not on, a value).
    pub fn below_top(&self, y0: f64, top: f64) -> bool {
        y0 + self.smoothing * self.steps.1 <= top + 0.25 * self.steps.1
    }

    /// Whether a window about reversal field `x0` stays among the reversal fields.
    pub fn inside_reversals(&self, x0: f64) -> bool {
        let (dr, s) = (self.steps.0, self.smoothing);
        let (first, last) = match (self.curves.first(), self.curves.last()) {
            (Some(a), Some(b)) => (a.h_r, b.h_r),
            _ => return false,
        };
        x0 + s * dr <= first + 0.25 * dr && x0 - s * dr >= last - 0.25 * dr
    }

    /// ρ at (x0, y0) from the points of the curves `near` within the window, the curves
    /// extended below their first field by its value; None when they do not fix the
    /// surface. `points` is scratch space.
    pub fn rho(
        &self,
        x0: f64,
        y0: f64,
        near: &[usize],
        points: &mut Vec<(f64, f64, f64)>,
    ) -> Option<f64> {
        let (dr, dh) = self.steps;
        let wh = self.half.1;
        points.clear();
        for &b in near {
            let c = &self.curves[b];
            let u = (c.h_r - x0) / dr;
            let lo = c.h.partition_point(|&h| h < y0 - wh);
            let hi = c.h.partition_point(|&h| h <= y0 + wh);
            points.extend((lo..hi).map(|j| (u, (c.h[j] - y0) / dh, c.m[j])));
            points.extend(
                (1..=self.extension)
                    .map(|k| c.h[0] - k as f64 * dh)
                    .filter(|h| (h - y0).abs() <= wh)
                    .map(|h| (u, (h - y0) / dh, c.m[0])),
            );
        }
        mixed_coefficient(points).map(|mixed| -0.5 * mixed / (dr * dh))
    }
}

/// The uv coefficient of the least-squares surface c0 + c1 u + c2 v + c3 u² + c4 uv + c5 v²
/// through `points` (u, v, M); None when they do not fix it.
fn mixed_coefficient(points: &[(f64, f64, f64)]) -> Option<f64> {
    if points.len() < 6 {
        return None;
    }
    let basis = |u: f64, v: f64| [1.0, u, v, u * u, u * v, v * v];
    let mut a = Mat::<f64>::zeros(6, 6);
    let mut b = Mat::<f64>::zeros(6, 1);
    for &(u, v, m) in points {
        let f = basis(u, v);
        for i in 0..6 {
            b[(i, 0)] += f[i] * m;
            for j in 0..6 {
                a[(i, j)] += f[i] * f[j];
            }
        }
    }
    let x = a.llt(Side::Lower).ok()?.solve(&b);
    let c = x[(4, 0)];
    c.is_finite().then_some(c)
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::{Reversal, Reversals};

    /// Curves on the lattice h_r = top − a·step, h = h_r + j·step up to `top`, with M from
    /// `m(h_r, h)`.
    pub fn lattice(n: usize, step: f64, top: f64, m: impl Fn(f64, f64) -> f64) -> Reversals {
        let curves = (0..n)
            .map(|a| {
                let h_r = top - a as f64 * step;
                let h: Vec<f64> = (0..=a).map(|j| h_r + j as f64 * step).collect();
                let m = h.iter().map(|&h| m(h_r, h)).collect();
                Reversal { h_r, h, m }
            })
            .collect();
        Reversals::new(curves, None, true).unwrap()
    }

    #[test]
    fn the_mixed_derivative_is_exact_on_cubic_surfaces_away_from_the_diagonal() {
        // ∂²/∂x∂y of the cubic below is 2 + 3y + 4x, whatever the window (it is symmetric on
        // a lattice); the diagonal's extension is not a cubic, so only points clear of it.
        let cubic = |x: f64, y: f64| {
            0.3 + x - y + 2.0 * x * y + 1.5 * x * y * y + 2.0 * x * x * y + x.powi(3)
        };
        for s in 1..=4 {
            let r = lattice(31, 0.1, 1.0, cubic);
            let d = r.distribution(s).unwrap();
            let mut checked = 0;
            for k in 0..d.rho.len() {
                let (x, y) = (d.h_r[k], d.h[k]);
                if y - x > (2 * s) as f64 * 0.1 + 1e-9 {
                    let exact = -0.5 * (2.0 + 3.0 * y + 4.0 * x);
                    assert!(
                        (d.rho[k] - exact).abs() < 1e-8,
                        "s {s} at ({x}, {y}): {}",
                        d.rho[k]
                    );
                    checked += 1;
                }
            }
            assert!(checked > 50, "s {s}: {checked} points");
            assert!((d.steps.0 - d.steps.1).abs() < 1e-12, "{:?}", d.steps);
        }
    }

    #[test]
    fn on_scattered_fields_a_quadratic_surface_is_recovered() {
        // Fields off the lattice by up to a fifth of a step, as a magnetometer sets them.
        let mut jitter = 0x2545_f491_u64;
        let mut next = move || {
            jitter ^= jitter << 13;
            jitter ^= jitter >> 7;
            jitter ^= jitter << 17;
            (jitter % 1000) as f64 / 1000.0 - 0.5
        };
        let step = 0.05;
        let quadratic =
            |x: f64, y: f64| 0.1 + 0.2 * x - 0.3 * y + 0.7 * x * y - x * x + 0.4 * y * y;
        let curves = (0..30)
            .map(|a| {
                let h_r = 0.5 - a as f64 * step + 0.2 * step * next();
                let mut h = vec![h_r];
                h.extend((1..=a).map(|j| h_r + j as f64 * step + 0.2 * step * next()));
                let m = h.iter().map(|&h| quadratic(h_r, h)).collect();
                Reversal { h_r, h, m }
            })
            .collect();
        let r = Reversals::new(curves, None, false).unwrap();
        let d = r.distribution(2).unwrap();
        let mut checked = 0;
        for k in 0..d.rho.len() {
            if d.h[k] - d.h_r[k] > 5.0 * step {
                assert!((d.rho[k] + 0.35).abs() < 1e-9, "{}", d.rho[k]);
                checked += 1;
            }
        }
        assert!(checked > 100, "{checked} points");
        assert!((d.steps.1 - step).abs() < 0.02 * step, "{:?}", d.steps);
    }

    #[test]
    fn reversible_magnetisation_shows_only_on_the_diagonal() {
        // M = tanh(h) on every curve: no irreversible part, so ρ is zero clear of h = h_r,
        // where the extension below h_r puts the reversible ridge.
        let r = lattice(21, 0.1, 1.0, |_, h| h.tanh());
        let d = r.distribution(1).unwrap();
        for k in 0..d.rho.len() {
            if d.h[k] - d.h_r[k] > 0.15 {
                assert!(d.rho[k].abs() < 1e-12, "{}", d.rho[k]);
            } else if d.h[k] == d.h_r[k] {
                assert!(d.rho[k].abs() > 1e-3, "on the diagonal: {}", d.rho[k]);
            }
        }
    }

    /// A Preisach model with up- and down-switching fields α, β drawn from logistic
    /// densities f (centre 0.4) and g (centre −0.4), width 0.06: from positive saturation
    /// M(h_r, h) = 1 − 2·S_f(h)·S_g(h_r), S the survival functions, so ρ = f(h)·g(h_r)
    /// exactly. The curves are read at fields off the lattice by up to a fifth of a step,
    /// with optional noise on M, as a magnetometer gives them.
    pub fn preisach(step: f64, noise: f64, seed: u64) -> (Reversals, impl Fn(f64, f64) -> f64) {
        let w = 0.06;
        let survival = move |x: f64, centre: f64| 1.0 / (1.0 + ((x - centre) / w).exp());
        let density = move |x: f64, centre: f64| {
            let s = survival(x, centre);
            s * (1.0 - s) / w
        };
        let m = move |h_r: f64, h: f64| 1.0 - 2.0 * survival(h, 0.4) * survival(h_r, -0.4);
        let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        let mut uniform = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        let n = (1.6 / step).round() as usize;
        let curves = (0..=n)
            .map(|a| {
                let h_r = 0.8 - a as f64 * step + 0.2 * step * uniform();
                let mut h = vec![h_r];
                h.extend((1..=a).map(|j| h_r + j as f64 * step + 0.2 * step * uniform()));
                let m = h.iter().map(|&h| m(h_r, h) + noise * uniform()).collect();
                Reversal { h_r, h, m }
            })
            .collect();
        let rho = move |h_r: f64, h: f64| density(h, 0.4) * density(h_r, -0.4);
        (Reversals::new(curves, None, false).unwrap(), rho)
    }

    #[test]
    fn a_preisach_models_density_is_recovered_from_scattered_noisy_curves() {
        // The peak is 1/(16 w²) ≈ 17.4 at (h_c, h_u) = (0.4, 0).
        let error = |r: &Reversals, exact: &dyn Fn(f64, f64) -> f64, s: usize| {
            let d = r.distribution(s).unwrap();
            let peak = 1.0 / (16.0 * 0.06 * 0.06);
            let worst = (0..d.rho.len())
                .map(|k| (d.rho[k] - exact(d.h_r[k], d.h[k])).abs())
                .fold(0.0, f64::max);
            let k = (0..d.rho.len())
                .max_by(|&i, &j| d.rho[i].total_cmp(&d.rho[j]))
                .unwrap();
            (worst / peak, d.h_c[k], d.h_u[k])
        };
        let (clean, exact) = preisach(0.01, 0.0, 1);
        let (worst, hc, hu) = error(&clean, &exact, 2);
        assert!(worst < 0.03, "clean, smoothing 2: {worst}");
        assert!(
            (hc - 0.4).abs() <= 0.01 && hu.abs() <= 0.01,
            "peak at ({hc}, {hu})"
        );
        // Noise of 1e-3 Ms: the central difference is dominated by it; a window of 3
        // steps averages it away; a wider one blurs the peak (the bias grows as its
        // width²).
        let (noisy, exact) = preisach(0.01, 1e-3, 2);
        let [s1, s3, s5] = [1, 3, 5].map(|s| error(&noisy, &exact, s).0);
        assert!(s3 < 0.06 && s3 < s1 / 3.0, "smoothing 3: {s3} (1: {s1})");
        assert!(s5 > s3, "smoothing 5: {s5} (3: {s3})");
    }

    #[test]
    fn too_wide_a_window_is_refused() {
        let r = lattice(5, 0.1, 1.0, |_, h| h);
        assert!(r.distribution(2).is_ok());
        let e = r.distribution(3).unwrap_err();
        assert!(e.contains("smoothing = 3 (with 5 reversal fields)"), "{e}");
        assert!(r.distribution(0).is_err());
    }
}
