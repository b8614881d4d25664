//! CMA-ES (Hansen, "The CMA Evolution Strategy: A Tutorial", 2016), minimising, in the box
//! mapped to [0, 1]^d: (μ/μ_w, λ) recombination, cumulation paths p_σ and p_c, rank-one
//! and rank-μ covariance updates, cumulative step-size adaptation. Samples are
//! m + σ·B·D·z with z standard normal (B, D from faer's symmetric eigendecomposition of C),
//! clipped to the box; the update uses the clipped points, so the mean never leaves it.

use super::{Archive, Bounds, DesignError, Draws, Optimiser, Result, check_told, sane};
use faer::{Mat, Side};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CmaesConfig {
    /// λ; None: 4 + ⌊3 ln d⌋.
    pub population: Option<usize>,
    /// Initial step in box units (the box is [0, 1]^d).
    pub sigma: f64,
    /// Initial mean in box units; None: the centre.
    pub mean: Option<Vec<f64>>,
    pub keep: usize,
}

impl Default for CmaesConfig {
    fn default() -> Self {
        CmaesConfig {
            population: None,
            sigma: 0.3,
            mean: None,
            keep: 16,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cmaes {
    pub config: CmaesConfig,
    pub bounds: Bounds,
    pub seed: u64,
    generation: usize,
    lambda: usize,
    mean: Vec<f64>,
    sigma: f64,
    /// C, row-major d × d.
    cov: Vec<f64>,
    p_sigma: Vec<f64>,
    p_c: Vec<f64>,
    archive: Archive,
}

/// Strategy constants of dimension d and population λ.
struct Constants {
    mu: usize,
    weights: Vec<f64>,
    mu_eff: f64,
    c_sigma: f64,
    d_sigma: f64,
    c_c: f64,
    c_1: f64,
    c_mu: f64,
    chi_n: f64,
}

fn constants(d: usize, lambda: usize) -> Constants {
    let n = d as f64;
    let mu = lambda / 2;
    let raw: Vec<f64> = (0..mu)
        .map(|i| ((lambda as f64 + 1.0) / 2.0).ln() - ((i + 1) as f64).ln())
        .collect();
    let s: f64 = raw.iter().sum();
    let weights: Vec<f64> = raw.iter().map(|w| w / s).collect();
    let mu_eff = 1.0 / weights.iter().map(|w| w * w).sum::<f64>();
    let c_sigma = (mu_eff + 2.0) / (n + mu_eff + 5.0);
    let d_sigma = 1.0 + 2.0 * (((mu_eff - 1.0) / (n + 1.0)).sqrt() - 1.0).max(0.0) + c_sigma;
    let c_c = (4.0 + mu_eff / n) / (n + 4.0 + 2.0 * mu_eff / n);
    let c_1 = 2.0 / ((n + 1.3).powi(2) + mu_eff);
    let c_mu = (1.0 - c_1).min(2.0 * (mu_eff - 2.0 + 1.0 / mu_eff) / ((n + 2.0).powi(2) + mu_eff));
    let chi_n = n.sqrt() * (1.0 - 1.0 / (4.0 * n) + 1.0 / (21.0 * n * n));
    Constants {
        mu,
        weights,
        mu_eff,
        c_sigma,
        d_sigma,
        c_c,
        c_1,
        c_mu,
        chi_n,
    }
}

impl Cmaes {
    pub fn new(bounds: Bounds, config: CmaesConfig, seed: u64) -> Result<Cmaes> {
        let d = bounds.dim();
        let lambda = config
            .population
            .unwrap_or(4 + (3.0 * (d as f64).ln()).floor() as usize);
        let mean = config.mean.clone().unwrap_or(vec![0.5; d]);
        let ok = lambda >= 4
            && config.sigma.is_finite()
            && config.sigma > 0.0
            && mean.len() == d
            && mean.iter().all(|m| (0.0..=1.0).contains(m));
        if !ok {
            return Err(DesignError::Msg(format!(
                "cmaes: needs population ≥ 4, sigma > 0 and a mean of {d} numbers in [0, 1] \
                 (box units); got population {lambda}, sigma {}, mean of {}",
                config.sigma,
                mean.len()
            )));
        }
        let mut cov = vec![0.0; d * d];
        for j in 0..d {
            cov[j * d + j] = 1.0;
        }
        Ok(Cmaes {
            archive: Archive::new(config.keep),
            sigma: config.sigma,
            config,
            bounds,
            seed,
            generation: 0,
            lambda,
            mean,
            cov,
            p_sigma: vec![0.0; d],
            p_c: vec![0.0; d],
        })
    }

    pub fn sigma(&self) -> f64 {
        self.sigma
    }

    /// B (columns: eigenvectors, row-major d × d) and D (square roots of the eigenvalues).
    fn eigen(&self) -> Result<(Vec<f64>, Vec<f64>)> {
        let d = self.mean.len();
        let c = Mat::from_fn(d, d, |i, j| {
            0.5 * (self.cov[i * d + j] + self.cov[j * d + i])
        });
        let e = c
            .self_adjoint_eigen(Side::Lower)
            .map_err(|e| DesignError::Msg(format!("cmaes: eigendecomposition failed: {e:?}")))?;
        crate::cpu::clean_upper();
        let (u, s) = (e.U(), e.S());
        let b = (0..d * d).map(|k| u[(k / d, k % d)]).collect();
        let dd = (0..d).map(|k| s[k].max(1e-20).sqrt()).collect();
        Ok((b, dd))
    }
}

impl Optimiser for Cmaes {
    fn ask(&mut self) -> Result<Vec<Vec<f64>>> {
        let d = self.mean.len();
        let (b, dd) = self.eigen()?;
        let mut r = Draws::new(self.seed, self.generation);
        Ok((0..self.lambda)
            .map(|_| {
                let z: Vec<f64> = (0..d).map(|_| r.normal()).collect();
                let u: Vec<f64> = (0..d)
                    .map(|i| {
                        let bdz: f64 = (0..d).map(|k| b[i * d + k] * dd[k] * z[k]).sum();
                        (self.mean[i] + self.sigma * bdz).clamp(0.0, 1.0)
                    })
                    .collect();
                self.bounds.from_unit(&u)
            })
            .collect())
    }

    fn tell(&mut self, xs: &[Vec<f64>], costs: &[f64]) -> Result<()> {
        let d = self.mean.len();
        check_told(xs, costs, self.lambda, d)?;
        let costs: Vec<f64> = costs.iter().map(|&c| sane(c)).collect();
        self.archive.add(xs, &costs, self.generation);
        let k = constants(d, self.lambda);
        let mut order: Vec<usize> = (0..xs.len()).collect();
        order.sort_by(|&a, &b| costs[a].total_cmp(&costs[b]));
        let us: Vec<Vec<f64>> = order[..k.mu]
            .iter()
            .map(|&i| self.bounds.to_unit(&xs[i]))
            .collect();
        let old = self.mean.clone();
        let mut mean = vec![0.0; d];
        for (w, u) in k.weights.iter().zip(&us) {
            for j in 0..d {
                mean[j] += w * u[j];
            }
        }
        // y_w = (m' − m)/σ; C^{-1/2} y_w = B D^{-1} Bᵀ y_w.
        let yw: Vec<f64> = (0..d).map(|j| (mean[j] - old[j]) / self.sigma).collect();
        let (b, dd) = self.eigen()?;
        let bty: Vec<f64> = (0..d)
            .map(|k2| (0..d).map(|i| b[i * d + k2] * yw[i]).sum::<f64>() / dd[k2])
            .collect();
        let cinv_y: Vec<f64> = (0..d)
            .map(|i| (0..d).map(|k2| b[i * d + k2] * bty[k2]).sum())
            .collect();
        let cs = k.c_sigma;
        for j in 0..d {
            self.p_sigma[j] =
                (1.0 - cs) * self.p_sigma[j] + (cs * (2.0 - cs) * k.mu_eff).sqrt() * cinv_y[j];
        }
        let ps_norm = self.p_sigma.iter().map(|v| v * v).sum::<f64>().sqrt();
        let g = (self.generation + 1) as f64;
        let h_sigma = ps_norm / (1.0 - (1.0 - cs).powf(2.0 * g)).sqrt() / k.chi_n
            < 1.4 + 2.0 / (d as f64 + 1.0);
        let hs = if h_sigma { 1.0 } else { 0.0 };
        let cc = k.c_c;
        for j in 0..d {
            self.p_c[j] =
                (1.0 - cc) * self.p_c[j] + hs * (cc * (2.0 - cc) * k.mu_eff).sqrt() * yw[j];
        }
        let delta = (1.0 - hs) * cc * (2.0 - cc);
        let ys: Vec<Vec<f64>> = us
            .iter()
            .map(|u| (0..d).map(|j| (u[j] - old[j]) / self.sigma).collect())
            .collect();
        for i in 0..d {
            for j in 0..d {
                let rank_mu: f64 = k
                    .weights
                    .iter()
                    .zip(&ys)
                    .map(|(w, y)| w * y[i] * y[j])
                    .sum();
                let c = &mut self.cov[i * d + j];
                *c = (1.0 - k.c_1 - k.c_mu) * *c
                    + k.c_1 * (self.p_c[i] * self.p_c[j] + delta * *c)
                    + k.c_mu * rank_mu;
            }
        }
        self.sigma *= ((cs / k.d_sigma) * (ps_norm / k.chi_n - 1.0)).exp();
        // Keep σ sane in box units: never larger than the box, never vanishing to 0.
        self.sigma = self.sigma.clamp(1e-300, 1.0);
        self.mean = mean;
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
