//! Continuous batching: B slots, each with its own structure, φ, field index, step length
//! and evaluations. A slot whose torque falls below tol (or that hits max_iter) records
//! its `CurvePoint` and moves to its next field; a finished curve leaves and the next
//! structure takes the slot, so one slow avalanche holds no other structure up. The
//! tensors keep their shape [B, ny, nx] throughout (empty slots idle), so a structure's
//! numbers do not depend on which others share its batch.

use super::super::problem::Problem;
use super::super::sweep::{Curve, CurvePoint, SweepOptions};
use super::super::{SolverError, minimizer::Method};
use super::descent::Descent;
use super::terms::BatchEnergy;
use super::{TensorOptions, pick};
use std::time::Instant;
use tch::{Kind, Tensor};

/// What a slot holds.
struct Slot {
    tag: u64,
    /// Index of the field being minimised.
    field: usize,
    points: Vec<CurvePoint>,
    /// Evaluations at this field.
    iters: usize,
    started: Instant,
    /// A converged state of the previous field exists (for the secant predictor).
    has_prev: bool,
}

/// The host side of the B slots: what each holds, and the per-slot inputs that are
/// uploaded to the descent when a slot changes field.
struct Slots {
    held: Vec<Option<Slot>>,
    /// Applied field of each slot.
    h: Vec<f64>,
    /// First step length of each slot's current field.
    tau_start: Vec<f64>,
    /// The slot starts a field (its descent restarts from `tau_start`).
    fresh: Vec<bool>,
    /// The slot took a new structure (its φ restarts from m ∥ +y).
    reset: Vec<bool>,
}

impl Slots {
    fn new(b: usize, tau_first: f64) -> Self {
        Slots {
            held: (0..b).map(|_| None).collect(),
            h: vec![0.0; b],
            tau_start: vec![tau_first; b],
            fresh: vec![false; b],
            reset: vec![false; b],
        }
    }

    fn any(&self) -> bool {
        self.held.iter().any(Option::is_some)
    }

    /// Which slots hold a structure.
    fn live(&self) -> Vec<bool> {
        self.held.iter().map(Option::is_some).collect()
    }

    /// Loads a structure into every free slot, `pending` first, then from `next`, each
    /// starting at the first of `fields` with step `tau`.
    fn fill<E: From<SolverError>>(
        &mut self,
        energy: &mut BatchEnergy,
        pending: &mut Option<(u64, Problem)>,
        next: &mut impl FnMut() -> Result<Option<(u64, Problem)>, E>,
        fields: &[f64],
        tau: f64,
    ) -> Result<(), E> {
        for s in 0..self.held.len() {
            if self.held[s].is_some() {
                continue;
            }
            let item = match pending.take() {
                Some(p) => p,
                None => match next()? {
                    Some(p) => p,
                    None => return Ok(()),
                },
            };
            energy.load(s, &item.1)?;
            self.held[s] = Some(Slot {
                tag: item.0,
                field: 0,
                points: Vec::with_capacity(fields.len()),
                iters: 0,
                started: Instant::now(),
                has_prev: false,
            });
            self.h[s] = fields[0];
            self.tau_start[s] = tau;
            self.fresh[s] = true;
            self.reset[s] = true;
        }
        Ok(())
    }
}

/// Sweeps every problem `next` hands out (tagged), `tensor.batch` at a time, and passes
/// each finished curve to `done` as it finishes (in the order they finish). Every problem
/// must share the first one's mesh and energy terms. `next` is asked again whenever a
/// slot frees up; `done` may stop the run by returning an error.
pub fn sweep_stream<E: From<SolverError>>(
    opts: &SweepOptions,
    tensor: &TensorOptions,
    mut next: impl FnMut() -> Result<Option<(u64, Problem)>, E>,
    mut done: impl FnMut(u64, Result<Curve, SolverError>) -> Result<(), E>,
) -> Result<(), E> {
    let fields = opts.fields()?;
    let min = opts.min.validated()?;
    let tensor = tensor.validated()?;
    if min.method != Method::BarzilaiBorwein {
        return Err(SolverError::BadOption {
            name: "method",
            value: min.method.name().into(),
            expected: "\"bb\" on the tensor backend (L-BFGS runs on the plain solver only)",
        }
        .into());
    }
    let Some(first) = next()? else {
        return Ok(());
    };
    let device = tensor.device.to_tch();
    let _threads = TorchThreads::for_device(tensor.device);
    let mut energy = BatchEnergy::new(
        *first.1.mesh(),
        first.1.terms(),
        tensor.batch,
        min.precision,
        device,
    )?;
    let mut descent = Descent::new(&energy, min);
    let b = tensor.batch;
    let tau_first = min.tau_init.clamp(min.tau_min, min.tau_max);
    let mut slots = Slots::new(b, tau_first);
    let mut pending = Some(first);
    let predict = opts.predict_max > 0.0;
    let (mut prev, mut delta) = if predict {
        (descent.phi.zeros_like(), descent.phi.zeros_like())
    } else {
        (Tensor::new(), Tensor::new())
    };
    slots.fill(&mut energy, &mut pending, &mut next, &fields, tau_first)?;
    let o = (energy.kind(), energy.device());
    let mask = |v: &[bool]| {
        Tensor::from_slice(&v.iter().map(|&x| x as u8).collect::<Vec<u8>>())
            .to_device(o.1)
            .ne(0)
    };
    // Set with the other uploads at the first tick (`changed` starts true).
    let mut live_t = Tensor::new();
    let mut changed = true;
    while slots.any() {
        crate::interrupt::check().map_err(SolverError::from)?;
        if changed {
            live_t = mask(&slots.live());
            let new = mask(&slots.reset);
            descent.phi = pick(
                &new.view([-1, 1, 1]),
                &descent.phi.zeros_like(),
                &descent.phi,
            );
            descent.h = Tensor::from_slice(&slots.h).to_kind(o.0).to_device(o.1);
            descent.tau_start = Tensor::from_slice(&slots.tau_start)
                .to_kind(o.0)
                .to_device(o.1);
            descent.fresh = mask(&slots.fresh);
            slots.reset.iter_mut().for_each(|r| *r = false);
            slots.fresh.iter_mut().for_each(|f| *f = false);
            changed = false;
        }
        let stats = descent.tick(&energy, &live_t);
        // Slots done with their field: converged, or out of evaluations.
        let mut ended = vec![false; b];
        let mut converged = vec![false; b];
        for s in 0..b {
            let Some(slot) = slots.held[s].as_mut() else {
                continue;
            };
            slot.iters += 1;
            let torque = stats.torque[s];
            if !torque.is_finite() {
                let tag = slot.tag;
                slots.held[s] = None;
                changed = true;
                done(
                    tag,
                    Err(SolverError::NonFinite {
                        what: "torque",
                        index: 0,
                        value: torque,
                    }),
                )?;
                continue;
            }
            let conv = torque < min.tol;
            if conv || slot.iters >= min.max_iter {
                ended[s] = true;
                converged[s] = conv;
                slot.points.push(CurvePoint {
                    h: fields[slot.field],
                    mx: stats.mx[s],
                    my: stats.my[s],
                    iterations: slot.iters,
                    torque,
                    converged: conv,
                });
            }
        }
        if !ended.iter().any(|&e| e) {
            continue;
        }
        changed = true;
        // Converged states are brought back into (−π, π], as the plain solver does.
        let conv_t = mask(&converged).view([-1, 1, 1]);
        let phi = &descent.phi;
        let wrapped = phi.sin().atan2(&phi.cos());
        descent.phi = pick(
            &conv_t.logical_and(&phi.abs().gt(std::f64::consts::PI)),
            &wrapped,
            phi,
        );
        let mut advancing = vec![false; b];
        for s in 0..b {
            if !ended[s] {
                continue;
            }
            let Some(slot) = slots.held[s].as_mut() else {
                continue;
            };
            slot.field += 1;
            slot.iters = 0;
            if slot.field < fields.len() {
                advancing[s] = true;
                slots.h[s] = fields[slot.field];
                slots.tau_start[s] = if opts.carry_step {
                    stats.tau[s].clamp(min.tau_min, min.tau_max)
                } else {
                    tau_first
                };
                slots.fresh[s] = true;
            }
        }
        if predict {
            // The secant predictor of `sweep.rs`: the last change, where it was small and
            // the field converged, is added to the next field's start.
            let ended_t = mask(&ended).view([-1, 1, 1]);
            let had_prev: Vec<bool> = (0..b)
                .map(|s| slots.held[s].as_ref().is_some_and(|x| x.has_prev))
                .collect();
            let d = &descent.phi - &prev;
            let d = d.sin().atan2(&d.cos());
            let big = d.abs().amax([1, 2], false).to_kind(Kind::Double);
            let use_it = mask(&converged)
                .logical_and(&mask(&had_prev))
                .logical_and(&big.le(opts.predict_max))
                .logical_and(&mask(&advancing));
            delta = pick(&ended_t, &d, &delta);
            prev = pick(&ended_t, &descent.phi, &prev);
            descent.phi =
                &descent.phi + pick(&use_it.view([-1, 1, 1]), &delta, &delta.zeros_like());
            for s in 0..b {
                if let (true, Some(slot)) = (ended[s], slots.held[s].as_mut()) {
                    slot.has_prev = true;
                }
            }
        }
        for s in 0..b {
            if !ended[s] || advancing[s] {
                continue;
            }
            if let Some(slot) = slots.held[s].take() {
                let curve = Curve {
                    points: slot.points,
                    seconds: slot.started.elapsed().as_secs_f64(),
                    snapshots: Vec::new(),
                };
                done(slot.tag, Ok(curve))?;
            }
        }
        slots.fill(&mut energy, &mut pending, &mut next, &fields, tau_first)?;
    }
    Ok(())
}

/// The curves of `problems` (in order), batched on tensors; problems of different meshes
/// or terms run as separate batches. `done(k, curve)` is told of each as it finishes.
pub fn sweep_batched(
    problems: &[Problem],
    opts: &SweepOptions,
    tensor: &TensorOptions,
    mut done: impl FnMut(usize, &Result<Curve, SolverError>),
) -> Result<Vec<Result<Curve, SolverError>>, SolverError> {
    let mut out: Vec<Option<Result<Curve, SolverError>>> =
        (0..problems.len()).map(|_| None).collect();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (k, p) in problems.iter().enumerate() {
        let same = |g: &Vec<usize>| {
            let q = &problems[g[0]];
            q.mesh() == p.mesh() && q.terms() == p.terms()
        };
        match groups.iter_mut().find(|g| same(g)) {
            Some(g) => g.push(k),
            None => groups.push(vec![k]),
        }
    }
    for group in groups {
        let mut queue = group.into_iter();
        sweep_stream::<SolverError>(
            opts,
            tensor,
            || Ok(queue.next().map(|k| (k as u64, problems[k].clone()))),
            |k, curve| {
                done(k as usize, &curve);
                out[k as usize] = Some(curve);
                Ok(())
            },
        )?;
    }
    Ok(out
        .into_iter()
        .map(|c| c.unwrap_or(Err(SolverError::Fft("curve missing".into()))))
        .collect())
}

/// Sets libtorch's intra-op threads for a run and puts the previous count back afterwards.
pub(crate) struct TorchThreads(i32);

impl TorchThreads {
    /// One thread on the CPU: a curve then does not depend on `--threads` (a reduction
    /// split over threads rounds differently, 12 444 vs 12 447 evaluations on 4 bench
    /// structures at 16²), and on 2 loaded cores one thread ran 7× faster than two. On
    /// CUDA the session's threads (host-side work only).
    pub(crate) fn for_device(device: crate::settings::Device) -> Self {
        match device {
            crate::settings::Device::Cpu => Self::set(1),
            crate::settings::Device::Cuda => Self::set(crate::settings::threads()),
        }
    }

    fn set(threads: usize) -> Self {
        let before = tch::get_num_threads();
        let want = threads.max(1) as i32;
        if want != before {
            tch::set_num_threads(want);
        }
        TorchThreads(before)
    }
}

impl Drop for TorchThreads {
    fn drop(&mut self) {
        if tch::get_num_threads() != self.0 {
            tch::set_num_threads(self.0);
        }
    }
}
