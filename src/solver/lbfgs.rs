//! Limited-memory BFGS on the angles φ: the quasi-Newton direction from the last few
//! (s, y) pairs, capped so that no cell turns by more than `max_turn` per iteration, with
//! an Armijo backtracking on the energy (which comes with the gradient at no extra FFT).
//! Curvature pairs with s·y ≤ 0 are dropped; a non-descent direction restarts the memory.
//! A hysteresis curve must stay on the branch of local minima it is on: a long
//! quasi-Newton step along a soft mode near a switching field can land beyond the barrier
//! in a lower basin, which the Armijo test alone accepts. So a step along which the slope
//! got steeper (impossible within one convex basin) is backtracked until it is short.
//! Same stopping rule as the BB descent: max torque below `tol`.

use super::SolverError;
use super::demag::Precision;
use super::energy::Energy;
use super::minimizer::{MinimizeOptions, StepStats, wrap_angles};

/// Armijo constant.
const C1: f64 = 1e-4;
/// Fraction of `max_turn` up to which a step with growing slope (non-convex along the step)
/// is still taken.
const SHORT_TURN: f64 = 0.1;

/// Buffers of the L-BFGS memory (one per thread).
#[derive(Default)]
pub struct LbfgsWorkspace {
    s: Vec<Vec<f64>>,
    y: Vec<Vec<f64>>,
    rho: Vec<f64>,
    /// Index of the oldest pair and number of pairs held.
    head: usize,
    len: usize,
    g: Vec<f64>,
    g_new: Vec<f64>,
    d: Vec<f64>,
    phi_new: Vec<f64>,
    alpha: Vec<f64>,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

impl LbfgsWorkspace {
    fn reset(&mut self, n: usize, memory: usize) {
        self.s.resize_with(memory, Vec::new);
        self.y.resize_with(memory, Vec::new);
        for v in self.s.iter_mut().chain(self.y.iter_mut()) {
            v.resize(n, 0.0);
        }
        self.rho.resize(memory, 0.0);
        self.alpha.resize(memory, 0.0);
        self.head = 0;
        self.len = 0;
        for v in [&mut self.g, &mut self.g_new, &mut self.d, &mut self.phi_new] {
            v.resize(n, 0.0);
        }
    }

    /// d = −H g by the two-loop recursion, H0 = (s·y)/(y·y) of the newest pair.
    fn direction(&mut self, tau0: f64) {
        let m = self.s.len();
        self.d.copy_from_slice(&self.g);
        for k in (0..self.len).rev() {
            let i = (self.head + k) % m;
            let a = self.rho[i] * dot(&self.s[i], &self.d);
            self.alpha[i] = a;
            for (d, y) in self.d.iter_mut().zip(&self.y[i]) {
                *d -= a * y;
            }
        }
        let gamma = if self.len > 0 {
            let i = (self.head + self.len - 1) % m;
            1.0 / (self.rho[i] * dot(&self.y[i], &self.y[i]))
        } else {
            tau0
        };
        self.d.iter_mut().for_each(|d| *d *= gamma);
        for k in 0..self.len {
            let i = (self.head + k) % m;
            let b = self.rho[i] * dot(&self.y[i], &self.d);
            let a = self.alpha[i];
            for (d, s) in self.d.iter_mut().zip(&self.s[i]) {
                *d += (a - b) * s;
            }
        }
        self.d.iter_mut().for_each(|d| *d = -*d);
    }

    fn push(&mut self, phi_new: &[f64], phi: &[f64]) {
        let m = self.s.len();
        let i = if self.len < m {
            self.len += 1;
            (self.head + self.len - 1) % m
        } else {
            let i = self.head;
            self.head = (self.head + 1) % m;
            i
        };
        for c in 0..phi.len() {
            self.s[i][c] = phi_new[c] - phi[c];
            self.y[i][c] = self.g_new[c] - self.g[c];
        }
        let sy = dot(&self.s[i], &self.y[i]);
        if sy > 1e-16 * (dot(&self.s[i], &self.s[i]) * dot(&self.y[i], &self.y[i])).sqrt()
            && sy > 0.0
        {
            self.rho[i] = 1.0 / sy;
        } else {
            // Drop the pair again: no positive curvature along s.
            if self.head == i && self.len == m {
                self.head = (self.head + m - 1) % m;
            }
            self.len -= 1;
        }
    }
}

/// How an L-BFGS minimisation ended.
pub enum LbfgsEnd {
    Done(StepStats),
    /// With `give_up_at_ridge`: a step crossed non-convex ground after this many
    /// evaluations; `phi` is part-way and the caller redoes the field another way.
    Ridge {
        evaluations: usize,
    },
}

/// L-BFGS minimisation from `phi` (updated in place) at the applied field `h`. With
/// `give_up_at_ridge`, the first step that crosses non-convex ground ends it (the field
/// step is then an avalanche, whose path the caller follows by steepest descent).
pub fn minimize_lbfgs(
    energy: &mut Energy,
    phi: &mut [f64],
    h: [f64; 2],
    opts: &MinimizeOptions,
    ws: &mut LbfgsWorkspace,
    give_up_at_ridge: bool,
) -> Result<LbfgsEnd, SolverError> {
    let n = phi.len();
    // The curvature pairs of the previous field stay valid to O(Δh) (only the Zeeman
    // Hessian changes), so a warm-started sweep keeps them: its first step is then close
    // to Newton's.
    if !(opts.keep_memory && ws.g.len() == n && ws.s.len() == opts.memory.max(1)) {
        ws.reset(n, opts.memory.max(1));
    }
    // Energy rounding noise of the f32 demag convolution (measured ~1e-7 relative per cell).
    let noise = match opts.precision {
        Precision::F32 => 1e-6 * (n as f64).sqrt(),
        Precision::F64 => 1e-12 * n as f64,
    };
    let (mut torque, mut e) = energy.gradient_energy(phi, h, &mut ws.g)?;
    let mut iterations = 1;
    while torque >= opts.tol {
        if iterations >= opts.max_iter {
            return Ok(LbfgsEnd::Done(StepStats {
                iterations,
                torque,
                converged: false,
            }));
        }
        if iterations % 100 < 4 {
            crate::interrupt::check()?;
        }
        ws.direction(opts.tau_init);
        let mut gd = dot(&ws.g, &ws.d);
        if gd >= 0.0 {
            ws.len = 0;
            ws.direction(opts.tau_init);
            gd = dot(&ws.g, &ws.d);
        }
        let big = ws.d.iter().fold(0.0f64, |a, d| a.max(d.abs()));
        let mut alpha = if big > opts.max_turn {
            opts.max_turn / big
        } else {
            1.0
        };
        let (mut t_new, mut e_new);
        let mut tries = 0;
        loop {
            for c in 0..n {
                ws.phi_new[c] = phi[c] + alpha * ws.d[c];
            }
            (t_new, e_new) = energy.gradient_energy(&ws.phi_new, h, &mut ws.g_new)?;
            iterations += 1;
            tries += 1;
            let decrease = e_new <= e + C1 * alpha * gd + noise;
            // Inside one basin the slope along d can only flatten (convexity); a slope that
            // got steeper means the step went over a ridge into another basin. Such a step
            // is taken only when it is short (an unstable state really moving downhill).
            let convex = dot(&ws.g_new, &ws.d) >= gd;
            let short = alpha * big <= opts.max_turn * SHORT_TURN;
            if give_up_at_ridge && !convex {
                return Ok(LbfgsEnd::Ridge {
                    evaluations: iterations,
                });
            }
            if (decrease && (convex || short)) || tries >= 8 || iterations >= opts.max_iter {
                break;
            }
            alpha *= 0.3;
        }
        let phi_new = std::mem::take(&mut ws.phi_new);
        ws.push(&phi_new, phi);
        phi.copy_from_slice(&phi_new);
        ws.phi_new = phi_new;
        std::mem::swap(&mut ws.g, &mut ws.g_new);
        torque = t_new;
        e = e_new;
    }
    wrap_angles(phi);
    Ok(LbfgsEnd::Done(StepStats {
        iterations,
        torque,
        converged: true,
    }))
}
