//! The descent of `minimizer.rs` (steepest descent on φ, alternating Barzilai–Borwein
//! steps clamped to [tau_min, tau_max], tau_max where s·y ≤ 0, each cell's turn capped at
//! max_turn) for B slots at once, each with its own step length and evaluation count.
//! One tick is one gradient evaluation of every slot; which slots then step is decided on
//! the device (torque ≥ tol and evaluations < max_iter), so a tick needs no host sync.

use super::super::minimizer::MinimizeOptions;
use super::pick;
use super::terms::BatchEnergy;
use tch::{Kind, Tensor};

pub(super) struct Descent {
    opts: MinimizeOptions,
    /// Angles and the gradient at them, [B, ny, nx].
    pub phi: Tensor,
    g: Tensor,
    /// Per slot: step length (BB, before the turn cap), largest |g|, evaluations at this
    /// field, and whether the next evaluation is a field's first.
    tau: Tensor,
    gmax: Tensor,
    iters: Tensor,
    pub fresh: Tensor,
    /// First step of a field, per slot.
    pub tau_start: Tensor,
    /// Applied field along +y per slot (units of HA), [B].
    pub h: Tensor,
}

/// Host copy of one tick's per-slot figures.
pub(super) struct TickStats {
    pub torque: Vec<f64>,
    pub mx: Vec<f64>,
    pub my: Vec<f64>,
    /// The BB step after this evaluation (the next field's first step with carry_step).
    pub tau: Vec<f64>,
}

impl Descent {
    pub fn new(energy: &BatchEnergy, opts: MinimizeOptions) -> Self {
        let (b, ny, nx) = (
            energy.batch() as i64,
            energy.mesh().ny as i64,
            energy.mesh().nx as i64,
        );
        let o = (energy.kind(), energy.device());
        Descent {
            opts,
            phi: Tensor::zeros([b, ny, nx], o),
            g: Tensor::zeros([b, ny, nx], o),
            tau: Tensor::full([b], opts.tau_init, o),
            gmax: Tensor::zeros([b], o),
            iters: Tensor::zeros([b], (Kind::Int64, energy.device())),
            fresh: Tensor::zeros([b], (Kind::Bool, energy.device())),
            tau_start: Tensor::full([b], opts.tau_init, o),
            h: Tensor::zeros([b], o),
        }
    }

    /// One evaluation of every slot, the BB step lengths from it, and the step of the slots
    /// that go on (the others keep φ: converged, capped, or empty). `live` marks the slots
    /// that hold a structure. Returns the per-slot figures (the one host copy of a tick).
    pub fn tick(&mut self, energy: &BatchEnergy, live: &Tensor) -> TickStats {
        let o = &self.opts;
        let gr = energy.gradient(&self.phi, &self.h);
        self.iters = pick(&self.fresh, &self.iters.ones_like(), &(&self.iters + 1));
        // s = −τg, y = g_new − g of the step just taken.
        let s = &self.g * -self.tau.view([-1, 1, 1]);
        let y = &gr.g - &self.g;
        let sum = |t: Tensor| t.sum_dim_intlist([1i64, 2].as_slice(), false, None);
        let ss = sum(&s * &s);
        let sy = sum(&s * &y);
        let yy = sum(&y * &y);
        let even = self.iters.remainder(2).eq(0);
        let bb = pick(&even, &(&ss / &sy), &(&sy / &yy));
        let tau_max = bb.full_like(o.tau_max);
        let bb = pick(&sy.le(0.0), &tau_max, &bb);
        let bb = pick(&bb.isfinite(), &bb.clamp(o.tau_min, o.tau_max), &tau_max);
        self.tau = pick(&self.fresh, &self.tau_start, &bb);
        self.g = gr.g;
        self.gmax = gr.gmax;
        self.fresh = self.fresh.zeros_like();
        // The host compares the same f64 torque with tol, so both agree on who stops.
        let torque = gr.torque.to_kind(Kind::Double);
        let go = live
            .logical_and(&torque.ge(o.tol))
            .logical_and(&self.iters.lt(o.max_iter as i64));
        // No cell turns by more than max_turn in one step.
        let capped = pick(
            &(&self.tau * &self.gmax).gt(o.max_turn),
            &(o.max_turn / &self.gmax),
            &self.tau,
        );
        let step = pick(&go, &capped, &capped.zeros_like());
        let stats = Tensor::stack(
            &[
                torque,
                gr.mean_m.select(1, 0).to_kind(Kind::Double),
                gr.mean_m.select(1, 1).to_kind(Kind::Double),
                self.tau.to_kind(Kind::Double),
            ],
            0,
        );
        self.tau = pick(&go, &capped, &self.tau);
        self.phi -= step.view([-1, 1, 1]) * &self.g;
        let host =
            Vec::<f64>::try_from(stats.to_device(tch::Device::Cpu).view([-1])).unwrap_or_default();
        let b = energy.batch();
        let part = |k: usize| host.get(k * b..(k + 1) * b).unwrap_or(&[]).to_vec();
        TickStats {
            torque: part(0),
            mx: part(1),
            my: part(2),
            tau: part(3),
        }
    }
}
