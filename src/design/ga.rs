//! A real-coded genetic algorithm (minimises).
//!
//! Generation 0 asks `population` uniform points of the box. Every later generation asks
//! `population − elite` children: two parents by binary tournament (the lower cost wins,
//! the lower index on ties), SBX crossover (Deb & Agrawal 1995, index `eta`) with
//! probability `crossover`, then per gene with probability `mutation_rate` (default 1/d) a
//! Gaussian step of σ = `mutation`·(hi − lo)·`decay`^g, clipped to the box. The next
//! population is the `elite` best of the old one and the children.

use super::{Archive, Bounds, DesignError, Draws, Optimiser, Result, check_told, sane};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GaConfig {
    pub population: usize,
    pub elite: usize,
    pub tournament: usize,
    pub crossover: f64,
    pub eta: f64,
    pub mutation: f64,
    /// Per-gene mutation probability; None: 1/d.
    pub mutation_rate: Option<f64>,
    pub decay: f64,
    /// Best candidates kept in the archive.
    pub keep: usize,
}

impl Default for GaConfig {
    fn default() -> Self {
        GaConfig {
            population: 24,
            elite: 2,
            tournament: 2,
            crossover: 0.9,
            eta: 15.0,
            mutation: 0.1,
            mutation_rate: None,
            decay: 0.98,
            keep: 16,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ga {
    pub config: GaConfig,
    pub bounds: Bounds,
    pub seed: u64,
    generation: usize,
    /// The evaluated population and its costs (empty before generation 0 is told).
    population: Vec<Vec<f64>>,
    costs: Vec<f64>,
    archive: Archive,
}

impl Ga {
    pub fn new(bounds: Bounds, config: GaConfig, seed: u64) -> Result<Ga> {
        let c = &config;
        let ok = c.population >= 2
            && c.elite < c.population
            && c.tournament >= 1
            && (0.0..=1.0).contains(&c.crossover)
            && c.eta.is_finite()
            && c.eta >= 0.0
            && c.mutation.is_finite()
            && c.mutation >= 0.0
            && c.mutation_rate.is_none_or(|r| (0.0..=1.0).contains(&r))
            && c.decay > 0.0
            && c.decay <= 1.0;
        if !ok {
            return Err(DesignError::Msg(format!(
                "ga: needs population ≥ 2, 0 ≤ elite < population, tournament ≥ 1, \
                 crossover and mutation_rate in [0, 1], eta ≥ 0, mutation ≥ 0, decay in \
                 (0, 1]; got {c:?}"
            )));
        }
        Ok(Ga {
            archive: Archive::new(config.keep),
            config,
            bounds,
            seed,
            generation: 0,
            population: vec![],
            costs: vec![],
        })
    }

    fn tournament(&self, d: &mut Draws) -> usize {
        let mut best = d.below(self.population.len());
        for _ in 1..self.config.tournament {
            let k = d.below(self.population.len());
            if (self.costs[k], k) < (self.costs[best], best) {
                best = k;
            }
        }
        best
    }

    /// SBX of one gene pair within [lo, hi].
    fn sbx(&self, a: f64, b: f64, u: f64) -> (f64, f64) {
        let e = self.config.eta;
        let beta = if u <= 0.5 {
            (2.0 * u).powf(1.0 / (e + 1.0))
        } else {
            (1.0 / (2.0 * (1.0 - u))).powf(1.0 / (e + 1.0))
        };
        (
            0.5 * ((1.0 + beta) * a + (1.0 - beta) * b),
            0.5 * ((1.0 - beta) * a + (1.0 + beta) * b),
        )
    }

    /// Indices of the population, best first (stable).
    fn ranked(&self) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..self.population.len()).collect();
        idx.sort_by(|&a, &b| self.costs[a].total_cmp(&self.costs[b]));
        idx
    }

    fn asked(&self) -> usize {
        if self.population.is_empty() {
            self.config.population
        } else {
            self.config.population - self.config.elite
        }
    }

    /// The evaluated population and its costs.
    pub fn population(&self) -> (&[Vec<f64>], &[f64]) {
        (&self.population, &self.costs)
    }
}

impl Optimiser for Ga {
    fn ask(&mut self) -> Result<Vec<Vec<f64>>> {
        let mut d = Draws::new(self.seed, self.generation);
        let b = &self.bounds;
        let dim = b.dim();
        if self.population.is_empty() {
            return Ok((0..self.config.population)
                .map(|_| {
                    let u: Vec<f64> = (0..dim).map(|_| d.unit()).collect();
                    b.from_unit(&u)
                })
                .collect());
        }
        let c = &self.config;
        let rate = c.mutation_rate.unwrap_or(1.0 / dim as f64);
        let scale = c.mutation * c.decay.powi(self.generation as i32);
        let n = self.asked();
        let mut children = Vec::with_capacity(n + 1);
        while children.len() < n {
            let (p, q) = (self.tournament(&mut d), self.tournament(&mut d));
            let (mut x, mut y) = (self.population[p].clone(), self.population[q].clone());
            if d.unit() < c.crossover {
                for j in 0..dim {
                    let u = d.unit();
                    if d.unit() < 0.5 {
                        (x[j], y[j]) = self.sbx(x[j], y[j], u);
                    }
                }
            }
            for child in [&mut x, &mut y] {
                for (j, v) in child.iter_mut().enumerate() {
                    if d.unit() < rate {
                        *v += scale * (b.hi[j] - b.lo[j]) * d.normal();
                    }
                }
                b.clip(child);
            }
            children.push(x);
            children.push(y);
        }
        children.truncate(n);
        Ok(children)
    }

    fn tell(&mut self, xs: &[Vec<f64>], costs: &[f64]) -> Result<()> {
        check_told(xs, costs, self.asked(), self.bounds.dim())?;
        let costs: Vec<f64> = costs.iter().map(|&c| sane(c)).collect();
        self.archive.add(xs, &costs, self.generation);
        let (mut pop, mut cost) = (vec![], vec![]);
        if !self.population.is_empty() {
            for i in self.ranked().into_iter().take(self.config.elite) {
                pop.push(self.population[i].clone());
                cost.push(self.costs[i]);
            }
        }
        pop.extend(xs.iter().cloned());
        cost.extend(costs);
        self.population = pop;
        self.costs = cost;
        self.generation += 1;
        Ok(())
    }

    fn generation(&self) -> usize {
        self.generation
    }

    fn archive(&self) -> &Archive {
        &self.archive
    }
}
