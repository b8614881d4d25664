//! The demagnetisation curve: start from m ∥ +y, minimise at h_start, then step the field
//! (along +y, units of HA) to h_end, each step warm-started from the previous state.
//! Every step records its iterations, final torque and whether it converged; a step that
//! did not converge is kept and flagged (`Curve::non_converged`), never silently accepted.

use super::SolverError;
use super::anchors::{Anchors, anchors};
use super::demag::DemagKernel;
use super::energy::{Energy, mean_m};
use super::minimizer::{MinimizeOptions, Workspace, minimize_with};
use super::problem::Problem;
use super::relax::Relaxed;
use super::snapshots::{Picker, Snapshot, Snapshots};
use crate::progress::Progress;
use std::sync::Arc;

/// Field schedule and minimiser settings of a sweep.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SweepOptions {
    pub h_start: f64,
    pub h_end: f64,
    /// Field step magnitude (> 0); the sign follows h_end − h_start.
    pub h_step: f64,
    pub min: MinimizeOptions,
    /// Start each field from the previous state plus the previous step's change (secant
    /// predictor), but only where that change is small (max |Δφ| ≤ `predict_max` rad), so
    /// the prediction never carries an avalanche on. 0 turns it off; the default 0.05.
    pub predict_max: f64,
    /// Start each field's descent with the last BB step of the previous field (default on;
    /// off in datasets labelled by earlier versions, docs/physics.md §3.7).
    pub carry_step: bool,
}

impl Default for SweepOptions {
    fn default() -> Self {
        SweepOptions {
            h_start: 1.0,
            h_end: -1.0,
            h_step: 0.01,
            min: MinimizeOptions::default(),
            predict_max: 0.05,
            carry_step: true,
        }
    }
}

impl SweepOptions {
    /// The slow, safe path every faster descent is judged against: this field schedule,
    /// [`MinimizeOptions::short_step`] and neither speed-up of the sweep.
    pub fn short_step(&self) -> Self {
        SweepOptions {
            min: MinimizeOptions::short_step(self.min),
            predict_max: 0.0,
            carry_step: false,
            ..*self
        }
    }

    /// The descent in words, as reports and dataset summaries name it: "bb (max_turn 0.5,
    /// tau_max 100, predict_max 0.05, carry_step on), tol 1e-4 HA".
    pub fn descent(&self) -> String {
        let m = &self.min;
        format!(
            "{} (max_turn {}, tau_max {}, predict_max {}, carry_step {}), tol {:e} HA",
            m.method.name(),
            m.max_turn,
            m.tau_max,
            self.predict_max,
            if self.carry_step { "on" } else { "off" },
            m.tol
        )
    }

    /// Every limit of a sweep: its field schedule and predictor ([`Self::fields`]) and its
    /// minimiser's ([`MinimizeOptions::validated`]).
    pub fn validated(self) -> Result<Self, SolverError> {
        self.fields()?;
        Ok(SweepOptions {
            min: self.min.validated()?,
            ..self
        })
    }

    /// The applied fields h_k = h_start ± k·h_step up to h_end (included when on the grid).
    pub fn fields(&self) -> Result<Vec<f64>, SolverError> {
        let bad = |name: &'static str, v: f64, expected: &'static str| SolverError::BadOption {
            name,
            value: v.to_string(),
            expected,
        };
        let field = -100.0..=100.0;
        if !field.contains(&self.h_start) {
            return Err(bad(
                "h_start",
                self.h_start,
                "a field in [-100, 100] units of HA",
            ));
        }
        if !field.contains(&self.h_end) {
            return Err(bad(
                "h_end",
                self.h_end,
                "a field in [-100, 100] units of HA",
            ));
        }
        if !(self.predict_max.is_finite() && self.predict_max >= 0.0) {
            return Err(bad(
                "predict_max",
                self.predict_max,
                "a finite angle ≥ 0 in radians (0 = off)",
            ));
        }
        if !(1e-6..=10.0).contains(&self.h_step) {
            return Err(bad(
                "h_step",
                self.h_step,
                "a step in [1e-6, 10] units of HA",
            ));
        }
        let span = (self.h_end - self.h_start).abs();
        let steps = (span / self.h_step + 1e-9).floor();
        if steps > 1e7 {
            return Err(bad(
                "h_step",
                self.h_step,
                "at most 1e7 field steps between h_start and h_end",
            ));
        }
        let sign = if self.h_end < self.h_start { -1.0 } else { 1.0 };
        Ok((0..=steps as usize)
            .map(|k| {
                let h = self.h_start + sign * k as f64 * self.h_step;
                // Snap rounding noise so that h = 0 and h_end are hit exactly.
                if (h - self.h_end).abs() < 1e-9 {
                    self.h_end
                } else if h.abs() < 1e-12 {
                    0.0
                } else {
                    h
                }
            })
            .collect())
    }
}

/// One field step of a curve.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CurvePoint {
    /// Applied field along +y (units of HA).
    pub h: f64,
    /// Mean m_x, m_y (units of Ms).
    pub mx: f64,
    pub my: f64,
    /// Gradient evaluations spent at this field.
    pub iterations: usize,
    /// Final max torque (units of HA).
    pub torque: f64,
    pub converged: bool,
}

/// A demagnetisation curve.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Curve {
    pub points: Vec<CurvePoint>,
    /// Wall-clock seconds of the sweep.
    pub seconds: f64,
    /// States kept on the way ([`Snapshots`]), in sweep order; not part of saved curves.
    #[serde(skip)]
    pub snapshots: Vec<Snapshot>,
}

impl Curve {
    pub fn fields(&self) -> Vec<f64> {
        self.points.iter().map(|p| p.h).collect()
    }
    /// M = mean m_y per step.
    pub fn my(&self) -> Vec<f64> {
        self.points.iter().map(|p| p.my).collect()
    }
    /// Gradient evaluations of the whole sweep.
    pub fn evaluations(&self) -> usize {
        self.points.iter().map(|p| p.iterations).sum()
    }
    /// Number of steps that hit the iteration cap.
    pub fn non_converged(&self) -> usize {
        self.points.iter().filter(|p| !p.converged).count()
    }
    /// docs/physics.md §4 anchors of this (descending) curve.
    pub fn anchors(&self) -> Anchors {
        anchors(&self.fields(), &self.my())
    }
    /// Whether the fields decrease step by step (anchors are defined only then).
    pub fn descending(&self) -> bool {
        super::anchors::descending(&self.fields())
    }
    /// Per anchor: whether it depends on a step that did not converge
    /// ([`Anchors::unreliable`]).
    pub fn unreliable_anchors(&self) -> [bool; 6] {
        let converged: Vec<bool> = self.points.iter().map(|p| p.converged).collect();
        self.anchors().unreliable(&self.fields(), &converged)
    }
}

/// The demagnetisation curve of `problem`, each evaluation spread over the current rayon
/// pool when it has more than one thread.
pub fn sweep(problem: &Problem, opts: &SweepOptions) -> Result<Curve, SolverError> {
    sweep_keeping(problem, opts, &Snapshots::None)
}

/// [`sweep`] keeping the states that `snapshots` asks for, with a progress line (field,
/// M, evaluations) on a terminal.
pub fn sweep_keeping(
    problem: &Problem,
    opts: &SweepOptions,
    snapshots: &Snapshots,
) -> Result<Curve, SolverError> {
    let mut energy = Energy::new(problem, opts.min.precision)?;
    energy.set_split(super::fork::fits(1, rayon::current_num_threads()));
    let progress = Progress::new(opts.fields()?.len() as u64, "curve");
    // The kept states share one copy of the problem, for their local fields.
    let keep = (*snapshots != Snapshots::None).then(|| (snapshots, Arc::new(problem.clone())));
    let curve = sweep_observed(
        &mut energy,
        opts,
        Start::Saturated,
        keep,
        Some(&progress),
        None,
    );
    progress.finish();
    curve
}

/// [`sweep`] with a demag kernel built beforehand for the problem's mesh.
/// `split` as in [`Energy::set_split`].
pub fn sweep_with_kernel(
    problem: &Problem,
    kernel: &DemagKernel,
    opts: &SweepOptions,
    split: bool,
) -> Result<Curve, SolverError> {
    let mut energy = Energy::with_kernel(problem, kernel)?;
    energy.set_split(split);
    sweep_with(&mut energy, opts)
}

/// [`sweep`] on a prepared evaluator.
pub fn sweep_with(energy: &mut Energy, opts: &SweepOptions) -> Result<Curve, SolverError> {
    sweep_observed(energy, opts, Start::Saturated, None, None, None)
}

/// Where a sweep starts, and whether it hands back its states.
pub(crate) enum Start<'a> {
    /// m ∥ +y everywhere (the demagnetisation curve).
    Saturated,
    /// m ∥ +y, with the angles of every step's relaxed state pushed onto the vector.
    SaturatedTracing(&'a mut Vec<Vec<f64>>),
    /// These angles, one per cell (a reversal curve starts from a state of another sweep).
    From(&'a [f64]),
    /// These angles, with every step's relaxed state pushed onto the vector.
    FromTracing(&'a [f64], &'a mut Vec<Vec<f64>>),
}

/// Asked after each field step k with its mean m_y and relaxed angles: the rest of the
/// curve, when it is already known from there (a reversal curve back on a path another
/// curve has taken).
pub(crate) type Join<'a> = &'a (dyn Fn(usize, f64, &[f64]) -> Option<Vec<CurvePoint>> + Sync);

/// The sweep on `energy` from `start`, keeping the states `keep` asks for (of its problem),
/// ending early where `join` hands over the rest.
pub(crate) fn sweep_observed(
    energy: &mut Energy,
    opts: &SweepOptions,
    start: Start,
    keep: Option<(&Snapshots, Arc<Problem>)>,
    progress: Option<&Progress>,
    join: Option<Join>,
) -> Result<Curve, SolverError> {
    let fields = opts.fields()?;
    let (snapshots, problem) = match keep {
        Some((s, p)) => (s, Some(p)),
        None => (&Snapshots::None, None),
    };
    let mut picker = Picker::new(snapshots, &fields)?;
    let mut kept = vec![];
    let min = opts.min.validated()?;
    let t0 = std::time::Instant::now();
    let (mut phi, mut trace) = match start {
        Start::Saturated => (vec![0.0; energy.cells()], None),
        Start::SaturatedTracing(t) => (vec![0.0; energy.cells()], Some(t)),
        Start::From(init) => {
            super::check_cells("start angles", init, energy.cells())?;
            (init.to_vec(), None)
        }
        Start::FromTracing(init, t) => {
            super::check_cells("start angles", init, energy.cells())?;
            (init.to_vec(), Some(t))
        }
    };
    // Previous converged state and whether its change may be extrapolated.
    let mut prev: Vec<f64> = Vec::new();
    let mut delta = vec![0.0; phi.len()];
    let mut predict = false;
    let mut ws = Workspace::default();
    let mut points = Vec::with_capacity(fields.len());
    for (k, &h) in fields.iter().enumerate() {
        crate::interrupt::check()?;
        if predict {
            for (p, d) in phi.iter_mut().zip(&delta) {
                *p += d;
            }
        }
        if opts.carry_step && !points.is_empty() {
            ws.tau_next = Some(ws.tau_last);
        }
        let s = minimize_with(energy, &mut phi, [0.0, h], &min, &mut ws)?;
        if opts.predict_max > 0.0 {
            predict = false;
            if prev.len() == phi.len() {
                let mut big = 0.0f64;
                for ((d, p), q) in delta.iter_mut().zip(&phi).zip(&prev) {
                    // Angles may have been wrapped into (−π, π]: take the short way round.
                    let x = p - q;
                    *d = x.sin().atan2(x.cos());
                    big = big.max(d.abs());
                }
                predict = s.converged && big <= opts.predict_max;
            }
            prev.clear();
            prev.extend_from_slice(&phi);
        }
        if let Some(t) = trace.as_mut() {
            t.push(phi.clone());
        }
        let [mx, my] = mean_m(&phi);
        points.push(CurvePoint {
            h,
            mx,
            my,
            iterations: s.iterations,
            torque: s.torque,
            converged: s.converged,
        });
        let labels = picker.labels(k, h, my);
        // Without a problem to keep, no snapshots were asked for and there are no labels.
        if let Some(problem) = &problem {
            for label in labels {
                let state = Relaxed {
                    h: [0.0, h],
                    phi: phi.clone(),
                    energies: energy.energies(&phi, [0.0, h])?,
                    stats: s,
                    problem: problem.clone(),
                    precision: min.precision,
                };
                kept.push(Snapshot { label, state });
            }
        }
        if let Some(p) = progress {
            p.inc(1);
            p.set_message(format!(
                "h = {h:+.3}, M = {my:+.4}, {} evaluations",
                points.iter().map(|p| p.iterations).sum::<usize>()
            ));
        }
        // The rest is taken on this sweep's own fields (the other's may differ by rounding).
        let rest = join.and_then(|j| j(k, my, &phi));
        if let Some(mut rest) = rest.filter(|r| r.len() == fields.len() - k - 1) {
            for (p, &h) in rest.iter_mut().zip(&fields[k + 1..]) {
                p.h = h;
            }
            points.extend(rest);
            break;
        }
    }
    Ok(Curve {
        points,
        seconds: t0.elapsed().as_secs_f64(),
        snapshots: kept,
    })
}
