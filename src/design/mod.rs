//! Inverse design: black-box optimisers over a box of real genes, asked for whole
//! generations at once (so a model predicts a population in one batch) and told their
//! costs (lower is better; NaN counts as the worst).
//!
//! * [`ga`]: a real-coded genetic algorithm (tournament selection, SBX crossover, Gaussian
//!   mutation, elitism);
//! * [`cmaes`]: CMA-ES, (μ/μ_w, λ) with rank-one and rank-μ updates and cumulative
//!   step-size adaptation, in box-normalised coordinates.
//!
//! Every draw of generation g comes from the crate's ChaCha stream keyed by
//! splitmix64(seed, g), so a state saved after generation g (its JSON, written atomically
//! by [`drive`]) resumes exactly where an uninterrupted run would be. Ctrl-C stops
//! [`drive`] between generations; the population of the last finished generation is kept.

pub mod cmaes;
pub mod ga;

use crate::grains::rng::{Rng, splitmix64};
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum DesignError {
    #[error("{0}")]
    Msg(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("optimiser state: {0}")]
    Json(#[from] serde_json::Error),
}

pub type Result<T> = std::result::Result<T, DesignError>;

fn msg<T>(m: impl Into<String>) -> Result<T> {
    Err(DesignError::Msg(m.into()))
}

/// A box of genes: lo[j] ≤ x[j] ≤ hi[j].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bounds {
    pub lo: Vec<f64>,
    pub hi: Vec<f64>,
}

impl Bounds {
    pub fn new(lo: Vec<f64>, hi: Vec<f64>) -> Result<Bounds> {
        if lo.is_empty() || lo.len() != hi.len() {
            return msg(format!(
                "bounds: lo and hi must have one entry per gene (≥ 1), got {} and {}",
                lo.len(),
                hi.len()
            ));
        }
        if let Some(j) =
            (0..lo.len()).find(|&j| !(lo[j].is_finite() && hi[j].is_finite() && lo[j] < hi[j]))
        {
            return msg(format!(
                "bounds: gene {j} needs finite lo < hi, got [{}, {}]",
                lo[j], hi[j]
            ));
        }
        Ok(Bounds { lo, hi })
    }

    pub fn dim(&self) -> usize {
        self.lo.len()
    }

    pub fn clip(&self, x: &mut [f64]) {
        for (j, v) in x.iter_mut().enumerate() {
            *v = v.clamp(self.lo[j], self.hi[j]);
        }
    }

    /// x in the box from u in [0, 1]^d.
    pub fn from_unit(&self, u: &[f64]) -> Vec<f64> {
        u.iter()
            .enumerate()
            .map(|(j, &u)| {
                (self.lo[j] + u * (self.hi[j] - self.lo[j])).clamp(self.lo[j], self.hi[j])
            })
            .collect()
    }

    pub fn to_unit(&self, x: &[f64]) -> Vec<f64> {
        x.iter()
            .enumerate()
            .map(|(j, &x)| (x - self.lo[j]) / (self.hi[j] - self.lo[j]))
            .collect()
    }
}

/// Draws of one generation: uniform and standard normal (Box–Muller).
pub(crate) struct Draws(Rng);

impl Draws {
    pub fn new(seed: u64, generation: usize) -> Draws {
        Draws(Rng::new(splitmix64(seed, generation as u64)))
    }

    pub fn unit(&mut self) -> f64 {
        self.0.unit()
    }

    pub fn below(&mut self, n: usize) -> usize {
        self.0.below(n as u64) as usize
    }

    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.0.unit(); // (0, 1]
        let u2 = self.0.unit();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

/// A cost with NaN as the largest finite number (so broken candidates lose) and ±∞
/// clamped to finite numbers (so states stay valid JSON).
pub(crate) fn sane(f: f64) -> f64 {
    if f.is_nan() {
        f64::MAX
    } else {
        f.clamp(-f64::MAX, f64::MAX)
    }
}

/// One evaluated candidate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    pub x: Vec<f64>,
    pub cost: f64,
    pub generation: usize,
}

/// The best distinct candidates seen so far, best first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Archive {
    pub keep: usize,
    pub best: Vec<Scored>,
}

impl Archive {
    pub fn new(keep: usize) -> Archive {
        Archive {
            keep: keep.max(1),
            best: vec![],
        }
    }

    pub fn add(&mut self, xs: &[Vec<f64>], f: &[f64], generation: usize) {
        for (x, &c) in xs.iter().zip(f) {
            if self.best.iter().any(|s| &s.x == x) {
                continue;
            }
            self.best.push(Scored {
                x: x.clone(),
                cost: sane(c),
                generation,
            });
        }
        // Stable: earlier candidates win ties.
        self.best.sort_by(|a, b| a.cost.total_cmp(&b.cost));
        self.best.truncate(self.keep);
    }
}

/// The common face of the optimisers.
pub trait Optimiser {
    /// The candidates of the next generation (the same ones until [`Optimiser::tell`]).
    fn ask(&mut self) -> Result<Vec<Vec<f64>>>;
    /// Their costs, in the order asked; ends the generation.
    fn tell(&mut self, xs: &[Vec<f64>], costs: &[f64]) -> Result<()>;
    /// Finished generations.
    fn generation(&self) -> usize;
    fn archive(&self) -> &Archive;
}

fn check_told(xs: &[Vec<f64>], costs: &[f64], asked: usize, dim: usize) -> Result<()> {
    if xs.len() != asked || costs.len() != asked {
        return msg(format!(
            "tell: expected {asked} candidates and costs, got {} and {}",
            xs.len(),
            costs.len()
        ));
    }
    if let Some(x) = xs.iter().find(|x| x.len() != dim) {
        return msg(format!(
            "tell: candidates have {dim} genes, got {}",
            x.len()
        ));
    }
    Ok(())
}

/// Either optimiser, as saved and resumed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Search {
    Ga(ga::Ga),
    Cmaes(cmaes::Cmaes),
}

impl Search {
    fn inner(&self) -> &dyn Optimiser {
        match self {
            Search::Ga(o) => o,
            Search::Cmaes(o) => o,
        }
    }

    fn inner_mut(&mut self) -> &mut dyn Optimiser {
        match self {
            Search::Ga(o) => o,
            Search::Cmaes(o) => o,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Search::Ga(_) => "ga",
            Search::Cmaes(_) => "cmaes",
        }
    }

    pub fn bounds(&self) -> &Bounds {
        match self {
            Search::Ga(o) => &o.bounds,
            Search::Cmaes(o) => &o.bounds,
        }
    }

    /// Writes the state as JSON, atomically.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let json = serde_json::to_vec_pretty(self)?;
        Ok(crate::fsio::write(path, json)?)
    }

    pub fn load(path: impl AsRef<Path>) -> Result<Search> {
        let bytes = std::fs::read(path)?;
        Ok(serde_json::from_slice(&bytes)?)
    }
}

impl Optimiser for Search {
    fn ask(&mut self) -> Result<Vec<Vec<f64>>> {
        self.inner_mut().ask()
    }
    fn tell(&mut self, xs: &[Vec<f64>], costs: &[f64]) -> Result<()> {
        self.inner_mut().tell(xs, costs)
    }
    fn generation(&self) -> usize {
        self.inner().generation()
    }
    fn archive(&self) -> &Archive {
        self.inner().archive()
    }
}

/// How [`drive`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// `generations` generations are done.
    Done,
    /// Ctrl-C between generations; the state of the last finished one is kept (and saved).
    Interrupted,
}

/// Runs `search` until it has finished `generations` generations in all (a resumed state
/// counts its earlier ones): each generation is asked, evaluated at once by `eval` (costs
/// in order), told, and saved to `state` when given; a progress bar counts generations.
pub fn drive<E: From<DesignError>>(
    search: &mut Search,
    generations: usize,
    state: Option<&Path>,
    label: &str,
    mut eval: impl FnMut(&[Vec<f64>]) -> std::result::Result<Vec<f64>, E>,
) -> std::result::Result<Stop, E> {
    let done = search.generation();
    let bar = crate::progress::Progress::new(generations.saturating_sub(done) as u64, label);
    while search.generation() < generations {
        if crate::interrupt::requested() {
            return Ok(Stop::Interrupted);
        }
        let xs = search.ask()?;
        let costs = eval(&xs)?;
        if crate::interrupt::requested() {
            return Ok(Stop::Interrupted);
        }
        search.tell(&xs, &costs)?;
        if let Some(p) = state {
            search.save(p)?;
        }
        if let Some(b) = search.archive().best.first() {
            bar.set_message(format!("best {:.4}", b.cost));
        }
        bar.inc(1);
    }
    bar.finish();
    Ok(Stop::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn sphere(x: &[f64]) -> f64 {
        x.iter()
            .enumerate()
            .map(|(j, v)| (v - 0.3 - 0.1 * j as f64).powi(2))
            .sum()
    }

    pub fn rosenbrock(x: &[f64]) -> f64 {
        x.windows(2)
            .map(|w| 100.0 * (w[1] - w[0] * w[0]).powi(2) + (1.0 - w[0]).powi(2))
            .sum()
    }

    fn box5() -> Bounds {
        Bounds::new(vec![-2.0; 5], vec![2.0; 5]).unwrap()
    }

    fn searches(seed: u64) -> Vec<Search> {
        vec![
            Search::Ga(ga::Ga::new(box5(), ga::GaConfig::default(), seed).unwrap()),
            Search::Cmaes(cmaes::Cmaes::new(box5(), cmaes::CmaesConfig::default(), seed).unwrap()),
        ]
    }

    fn run(s: &mut Search, generations: usize, f: fn(&[f64]) -> f64, state: Option<&Path>) -> Stop {
        drive::<DesignError>(s, generations, state, "test", |xs| {
            Ok(xs.iter().map(|x| f(x)).collect())
        })
        .unwrap()
    }

    #[test]
    fn design_optimisers_find_the_shifted_sphere() {
        for mut s in searches(1) {
            run(&mut s, 300, sphere, None);
            let b = &s.archive().best[0];
            assert!(b.cost < 1e-6, "{}: {}", s.kind(), b.cost);
            for (j, v) in b.x.iter().enumerate() {
                assert!(
                    (v - 0.3 - 0.1 * j as f64).abs() < 1e-3,
                    "{}: {:?}",
                    s.kind(),
                    b.x
                );
            }
        }
    }

    #[test]
    fn design_optimisers_find_rosenbrock() {
        // CMA-ES to the optimum (1, …, 1); the GA (48, slower decay, rate 0.5) close to it
        // (0.001–0.007 over seeds 0–2).
        let ga = ga::GaConfig {
            population: 48,
            decay: 0.995,
            mutation_rate: Some(0.5),
            mutation: 0.05,
            ..Default::default()
        };
        let mut all = searches(2);
        all[0] = Search::Ga(ga::Ga::new(box5(), ga, 2).unwrap());
        for (mut s, tol) in all.into_iter().zip([0.05, 1e-6]) {
            run(&mut s, 1500, rosenbrock, None);
            let b = &s.archive().best[0];
            assert!(b.cost < tol, "{}: {} at {:?}", s.kind(), b.cost, b.x);
        }
    }

    #[test]
    fn design_same_seed_same_result_and_resume_equals_uninterrupted() {
        let dir = tempfile::tempdir().unwrap();
        for (a, (b, c)) in searches(3)
            .into_iter()
            .zip(searches(3).into_iter().zip(searches(4)))
        {
            let (mut a, mut b, mut c) = (a, b, c);
            run(&mut a, 40, rosenbrock, None);
            // b: 15 generations, saved, loaded, 25 more.
            let p = dir.path().join(format!("{}.json", b.kind()));
            run(&mut b, 15, rosenbrock, Some(&p));
            let mut b = Search::load(&p).unwrap();
            assert_eq!(b.generation(), 15);
            run(&mut b, 40, rosenbrock, Some(&p));
            assert_eq!(a, b, "{}", a.kind());
            run(&mut c, 40, rosenbrock, None);
            assert_ne!(a.archive().best[0], c.archive().best[0], "another seed");
        }
    }

    #[test]
    fn design_refuses_bad_bounds_and_tells() {
        assert!(Bounds::new(vec![0.0], vec![0.0]).is_err());
        assert!(Bounds::new(vec![0.0, 1.0], vec![1.0]).is_err());
        assert!(Bounds::new(vec![f64::NAN], vec![1.0]).is_err());
        for mut s in searches(0) {
            let xs = s.ask().unwrap();
            assert!(s.tell(&xs, &[1.0]).is_err());
            let costs = vec![f64::NAN; xs.len()];
            s.tell(&xs, &costs).unwrap();
            assert_eq!(s.generation(), 1);
        }
    }
}
