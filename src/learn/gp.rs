//! Gaussian-process regression (Rasmussen & Williams, *Gaussian Processes for Machine
//! Learning*, 2006, ch. 2 and 5): a Matérn-5/2 kernel with one length scale per input
//! (automatic relevance determination), a signal and a noise variance, all chosen by
//! maximising the log marginal likelihood. With a few hundred labels and tens of smooth
//! descriptors a GP interpolates where trees step and networks underfit: on the 64²
//! density-law set it beat scikit-learn's boosted trees out of fold on every anchor but M1
//! (equal there).
//!
//! The hyperparameter search costs O(m³) per step on the m rows it sees, so beyond
//! [`GpConfig::fit_rows`] it sees an evenly spread subset; the weights then use every
//! row (one O(n³/3) factorisation). Length scales and variances are a few dozen numbers
//! that a thousand rows fix well; the posterior mean gains from every label.
//!
//! A model holds its hyperparameters and weights α = K⁻¹y, not its inputs: the caller
//! keeps the (standardised) training rows once for all the models fitted on them.

use super::Result;
use super::error::ensure;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt;
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatRef, Par};
use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

/// Settings of the hyperparameter search.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GpConfig {
    /// Adam steps on the log hyperparameters.
    pub iterations: usize,
    pub learning_rate: f64,
    /// The search sees at most this many rows (spread evenly through them); the weights
    /// use all.
    pub fit_rows: usize,
}

impl Default for GpConfig {
    fn default() -> Self {
        // Adam at 0.05 levels off within ~100 steps on the descriptors (the log
        // likelihood changes by < 0.1 % over the last 50 of 150).
        GpConfig {
            iterations: 150,
            learning_rate: 0.05,
            fit_rows: FIT_ROWS,
        }
    }
}

/// Rows the hyperparameter search sees by default (README, "Accuracy per label": at 2 800
/// rows per fit, 500 and 1 000 give the same test error).
pub const FIT_ROWS: usize = 1000;

/// Bounds on the log hyperparameters (inputs and targets standardised): length scales
/// 0.05–10⁴ (beyond, an input is simply ignored), signal 10⁻³–10³, noise 10⁻⁶–1.
const LOG_LENGTH: (f64, f64) = (-3.0, 9.2);
const LOG_SIGNAL: (f64, f64) = (-6.9, 6.9);
const LOG_NOISE: (f64, f64) = (-13.8, 0.0);
const SQRT5: f64 = 2.236_067_977_499_79;

/// One fitted GP over rows `rows` of its training inputs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gp {
    /// Indices of the training rows it was fitted on.
    pub rows: Vec<u32>,
    pub log_length: Vec<f64>,
    /// Log signal variance and log noise variance (of the standardised target).
    pub log_signal: f64,
    pub log_noise: f64,
    pub y_mean: f64,
    pub y_scale: f64,
    /// K⁻¹ (y − mean) / scale over `rows`.
    pub alpha: Vec<f64>,
    /// Log marginal likelihood per row at the optimum (for reports).
    pub evidence: f64,
}

/// Matérn-5/2 value and its factor for the length-scale derivative, at scaled distance²
/// `r2`: k = s (1 + √5 r + 5r²/3) e^(−√5 r), ∂k/∂log ℓ_d = g · (Δ_d/ℓ_d)² with
/// g = s (5/3)(1 + √5 r) e^(−√5 r).
fn matern52(r2: f64, signal: f64) -> (f64, f64) {
    let r = r2.sqrt();
    let e = (-SQRT5 * r).exp();
    let k = signal * (1.0 + SQRT5 * r + 5.0 / 3.0 * r2) * e;
    let g = signal * 5.0 / 3.0 * (1.0 + SQRT5 * r) * e;
    (k, g)
}

/// Dense algebra runs on the calling thread: callers fit many GPs side by side (every
/// member and target of an ensemble), which uses the cores better than splitting each
/// small matrix.
const PAR: Par = Par::Seq;

/// The inputs divided by their length scales ℓ = e^(log_length), [n, d].
fn scaled(x: ArrayView2<f64>, log_length: &[f64]) -> Mat<f64> {
    let inv: Vec<f64> = log_length.iter().map(|l| (-l).exp()).collect();
    Mat::from_fn(x.nrows(), x.ncols(), |i, c| x[[i, c]] * inv[c])
}

fn squared_norms(m: MatRef<f64>) -> Vec<f64> {
    (0..m.nrows())
        .map(|i| (0..m.ncols()).map(|c| m[(i, c)] * m[(i, c)]).sum())
        .collect()
}

/// Squared distances [m, n] between the rows of `a` [m, d] and of `b` [n, d], as
/// |a|² + |b|² − 2 a·b: one matrix product (clamped at 0 against rounding).
fn distances2(a: MatRef<f64>, b: MatRef<f64>) -> Mat<f64> {
    let (na, nb) = (squared_norms(a), squared_norms(b));
    let mut r2 = Mat::<f64>::zeros(a.nrows(), b.nrows());
    matmul(r2.as_mut(), Accum::Replace, a, b.transpose(), -2.0, PAR);
    crate::cpu::clean_upper();
    for j in 0..b.nrows() {
        for i in 0..a.nrows() {
            r2[(i, j)] = (r2[(i, j)] + na[i] + nb[j]).max(0.0);
        }
    }
    r2
}

/// K + noise·I over the rows of the scaled inputs `xs`, and with `factors` the
/// length-scale factor g of every pair.
fn kernel_matrix(
    xs: MatRef<f64>,
    signal: f64,
    noise: f64,
    factors: bool,
) -> (Mat<f64>, Option<Mat<f64>>) {
    let n = xs.nrows();
    let mut k = distances2(xs, xs);
    let mut g = factors.then(|| Mat::<f64>::zeros(n, n));
    for j in 0..n {
        for i in 0..n {
            let (v, f) = matern52(if i == j { 0.0 } else { k[(i, j)] }, signal);
            k[(i, j)] = if i == j { v + noise } else { v };
            if let Some(g) = g.as_mut() {
                g[(i, j)] = f;
            }
        }
    }
    (k, g)
}

/// Log marginal likelihood of standardised `y` on `x` (rows already selected) and its
/// gradient with respect to θ = (log ℓ₁ … log ℓ_d, log signal, log noise); with α.
fn evidence(x: ArrayView2<f64>, y: &[f64], theta: &[f64]) -> Option<(f64, Vec<f64>, Vec<f64>)> {
    let (n, d) = x.dim();
    let signal = theta[d].exp();
    let noise = theta[d + 1].exp();
    let xs = scaled(x, &theta[..d]);
    let (k, g) = kernel_matrix(xs.as_ref(), signal, noise, true);
    let g = g.expect("asked for the factors");
    let (value, alpha, l) = solve(k.clone(), y)?;
    // ∂/∂θ = ½ tr(W ∂K/∂θ), W = ααᵀ − K⁻¹. With W' = W∘g (zero diagonal), r = W'1 and
    // the scaled inputs x̃: ½ Σᵢⱼ W'ᵢⱼ (x̃ᵢ_c − x̃ⱼ_c)² = Σᵢ x̃ᵢ_c² rᵢ − Σᵢ x̃ᵢ_c (W'x̃)ᵢ_c.
    let inv = inverse_lower(l.as_ref());
    let k0 = matern52(0.0, signal).0;
    let mut grad = vec![0.0; d + 2];
    let mut wg = Mat::<f64>::zeros(n, n);
    let mut r = vec![0.0; n];
    for j in 0..n {
        let w = alpha[j] * alpha[j] - inv[(j, j)];
        grad[d] += 0.5 * w * k0;
        grad[d + 1] += 0.5 * w * noise;
        for i in j + 1..n {
            // Each pair below the diagonal stands for two entries of the trace.
            let w = alpha[i] * alpha[j] - inv[(i, j)];
            grad[d] += w * k[(i, j)];
            let v = w * g[(i, j)];
            wg[(i, j)] = v;
            wg[(j, i)] = v;
            r[i] += v;
            r[j] += v;
        }
    }
    let mut wx = Mat::<f64>::zeros(n, d);
    matmul(
        wx.as_mut(),
        Accum::Replace,
        wg.as_ref(),
        xs.as_ref(),
        1.0,
        PAR,
    );
    for (c, gr) in grad[..d].iter_mut().enumerate() {
        *gr = (0..n)
            .map(|i| xs[(i, c)] * (xs[(i, c)] * r[i] - wx[(i, c)]))
            .sum();
    }
    Some((value, grad, alpha))
}

/// The log marginal likelihood of `y` under covariance `k`, α = K⁻¹y and the Cholesky
/// factor L (in the lower triangle); `None` when `k` is not positive definite.
fn solve(mut k: Mat<f64>, y: &[f64]) -> Option<(f64, Vec<f64>, Mat<f64>)> {
    let n = y.len();
    let mut buf = MemBuffer::new(llt::factor::cholesky_in_place_scratch::<f64>(
        n,
        PAR,
        Default::default(),
    ));
    let factored = llt::factor::cholesky_in_place(
        k.as_mut(),
        Default::default(),
        PAR,
        MemStack::new(&mut buf),
        Default::default(),
    )
    .is_ok();
    crate::cpu::clean_upper();
    if !factored {
        return None;
    }
    let mut a = Mat::from_fn(n, 1, |i, _| y[i]);
    let mut none = MemBuffer::new(llt::solve::solve_in_place_scratch::<f64>(n, 1, PAR));
    llt::solve::solve_in_place(k.as_ref(), a.as_mut(), PAR, MemStack::new(&mut none));
    crate::cpu::clean_upper();
    let alpha: Vec<f64> = (0..n).map(|i| a[(i, 0)]).collect();
    let log_det: f64 = (0..n).map(|i| 2.0 * k[(i, i)].ln()).sum();
    let fit: f64 = y.iter().zip(&alpha).map(|(a, b)| a * b).sum();
    let value = -0.5 * fit - 0.5 * log_det - 0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln();
    Some((value, alpha, k))
}

/// K⁻¹ from its Cholesky factor, filled in the lower triangle only.
fn inverse_lower(l: MatRef<f64>) -> Mat<f64> {
    let n = l.nrows();
    let mut out = Mat::<f64>::zeros(n, n);
    let mut buf = MemBuffer::new(llt::inverse::inverse_scratch::<f64>(n, PAR));
    llt::inverse::inverse(out.as_mut(), l, PAR, MemStack::new(&mut buf));
    crate::cpu::clean_upper();
    out
}

/// `m` of the positions 0..n, spread evenly (all when n ≤ m).
fn spread(n: usize, m: usize) -> Vec<usize> {
    (0..m.min(n)).map(|k| k * n / m.min(n)).collect()
}

fn no_kernel() -> super::LearnError {
    super::LearnError::msg(
        "a GP found no positive-definite kernel matrix (duplicate rows with different targets \
         and no noise?)",
    )
}

fn clamp_theta(theta: &mut [f64]) {
    let d = theta.len() - 2;
    for t in &mut theta[..d] {
        *t = t.clamp(LOG_LENGTH.0, LOG_LENGTH.1);
    }
    theta[d] = theta[d].clamp(LOG_SIGNAL.0, LOG_SIGNAL.1);
    theta[d + 1] = theta[d + 1].clamp(LOG_NOISE.0, LOG_NOISE.1);
}

impl Gp {
    /// Fits on rows `rows` of standardised inputs `x` [n, d] with targets `y` (indexed like
    /// `x`'s rows; rows whose target is not finite are left out). Deterministic: the search
    /// starts from length scales √d, signal 1, noise 0.1, on at most `cfg.fit_rows` of the
    /// rows spread evenly through them.
    pub fn fit(x: ArrayView2<f64>, y: &[f64], rows: &[usize], cfg: &GpConfig) -> Result<Gp> {
        ensure(y.len() == x.nrows(), || {
            format!(
                "a GP needs one target per input row: {} against {}",
                y.len(),
                x.nrows()
            )
        })?;
        let rows: Vec<usize> = rows.iter().copied().filter(|&i| y[i].is_finite()).collect();
        ensure(!rows.is_empty(), || {
            "a GP needs at least one labelled row, got none".to_string()
        })?;
        let xs = x.select(ndarray::Axis(0), &rows);
        let raw: Vec<f64> = rows.iter().map(|&i| y[i]).collect();
        let n = raw.len() as f64;
        let y_mean = raw.iter().sum::<f64>() / n;
        let y_scale = (raw.iter().map(|v| (v - y_mean).powi(2)).sum::<f64>() / n)
            .sqrt()
            .max(1e-12);
        let ys: Vec<f64> = raw.iter().map(|v| (v - y_mean) / y_scale).collect();
        let d = x.ncols();
        // The search's rows, as positions in `rows`.
        let seen = spread(rows.len(), cfg.fit_rows.max(1));
        let xs_seen = xs.select(ndarray::Axis(0), &seen);
        let ys_seen: Vec<f64> = seen.iter().map(|&i| ys[i]).collect();
        let mut theta = vec![0.5 * (d.max(1) as f64).ln(); d + 2];
        theta[d] = 0.0;
        theta[d + 1] = (0.1f64).ln();
        // Adam ascent on the log marginal likelihood; the best point seen is kept.
        let (b1, b2, eps) = (0.9, 0.999, 1e-8);
        let m_rows = seen.len() as f64;
        let mut m = vec![0.0; d + 2];
        let mut v = vec![0.0; d + 2];
        let mut best: Option<(f64, Vec<f64>, Vec<f64>)> = None;
        for step in 1..=cfg.iterations.max(1) {
            crate::interrupt::check()
                .map_err(|_| super::LearnError::msg("interrupted while fitting a GP"))?;
            let Some((value, grad, alpha)) = evidence(xs_seen.view(), &ys_seen, &theta) else {
                // Not positive definite: more noise, and go on.
                theta[d + 1] = (theta[d + 1] + 1.0).min(LOG_NOISE.1);
                continue;
            };
            if best.as_ref().is_none_or(|b| value > b.0) {
                best = Some((value, theta.clone(), alpha));
            }
            for k in 0..d + 2 {
                // Per row: the gradient's size does not grow with the label count.
                let g = grad[k] / m_rows;
                m[k] = b1 * m[k] + (1.0 - b1) * g;
                v[k] = b2 * v[k] + (1.0 - b2) * g * g;
                let mh = m[k] / (1.0 - b1.powi(step as i32));
                let vh = v[k] / (1.0 - b2.powi(step as i32));
                theta[k] += cfg.learning_rate * mh / (vh.sqrt() + eps);
            }
            clamp_theta(&mut theta);
        }
        let Some((value, mut theta, alpha)) = best else {
            return Err(no_kernel());
        };
        let (value, alpha) = if seen.len() == rows.len() {
            (value, alpha)
        } else {
            // Every row's weight, at the search's hyperparameters (more noise if the larger
            // matrix is not positive definite in floating point).
            loop {
                let (k, _) = kernel_matrix(
                    scaled(xs.view(), &theta[..d]).as_ref(),
                    theta[d].exp(),
                    theta[d + 1].exp(),
                    false,
                );
                if let Some((value, alpha, _)) = solve(k, &ys) {
                    break (value, alpha);
                }
                if theta[d + 1] >= LOG_NOISE.1 {
                    return Err(no_kernel());
                }
                theta[d + 1] = (theta[d + 1] + 1.0).min(LOG_NOISE.1);
            }
        };
        Ok(Gp {
            rows: rows.iter().map(|&i| i as u32).collect(),
            log_length: theta[..d].to_vec(),
            log_signal: theta[d],
            log_noise: theta[d + 1],
            y_mean,
            y_scale,
            alpha,
            evidence: value / n,
        })
    }

    /// The posterior mean at each row of `q` [m, d], given the training inputs `x` the
    /// model was fitted on (standardised the same way).
    pub fn predict(&self, x: ArrayView2<f64>, q: ArrayView2<f64>) -> Vec<f64> {
        let signal = self.log_signal.exp();
        let rows: Vec<usize> = self.rows.iter().map(|&i| i as usize).collect();
        let xs = scaled(x.select(ndarray::Axis(0), &rows).view(), &self.log_length);
        let qs = scaled(q, &self.log_length);
        // In blocks of queries, side by side: the distance matrix stays small.
        use rayon::prelude::*;
        const BLOCK: usize = 256;
        (0..q.nrows().div_ceil(BLOCK))
            .into_par_iter()
            .flat_map_iter(|b| {
                let block = qs
                    .as_ref()
                    .subrows(b * BLOCK, BLOCK.min(q.nrows() - b * BLOCK));
                let r2 = distances2(xs.as_ref(), block);
                (0..block.nrows())
                    .map(|j| {
                        let s: f64 = (0..xs.nrows())
                            .map(|i| self.alpha[i] * matern52(r2[(i, j)], signal).0)
                            .sum();
                        self.y_mean + self.y_scale * s
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// Bytes one fit on `rows` rows holds at its peak: the search's five m × m matrices
    /// or the weights' one n × n, f64.
    pub fn memory(rows: usize, cfg: &GpConfig) -> u128 {
        let m = rows.min(cfg.fit_rows) as u128;
        8 * (5 * m * m).max((rows as u128).pow(2))
    }

    /// Whether the model fits training inputs of `rows` × `inputs`.
    pub fn fits(&self, rows: usize, inputs: usize) -> bool {
        self.log_length.len() == inputs
            && self.alpha.len() == self.rows.len()
            && self.rows.iter().all(|&i| (i as usize) < rows)
            && self.y_scale.is_finite()
            && self.y_scale > 0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, ArrayView1};

    fn grid(n: usize, d: usize) -> Array2<f64> {
        Array2::from_shape_fn((n, d), |(i, j)| {
            (((i * 7919 + j * 104_729) % 1000) as f64 / 1000.0 - 0.5) * 3.0
        })
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let x = grid(30, 3);
        let y: Vec<f64> = (0..30).map(|i| x[[i, 0]].sin() + 0.1 * x[[i, 2]]).collect();
        let theta = vec![0.3, -0.2, 0.8, 0.1, -2.0];
        let (_, grad, _) = evidence(x.view(), &y, &theta).unwrap();
        for k in 0..theta.len() {
            let h = 1e-5;
            let mut up = theta.clone();
            up[k] += h;
            let mut down = theta.clone();
            down[k] -= h;
            let fd = (evidence(x.view(), &y, &up).unwrap().0
                - evidence(x.view(), &y, &down).unwrap().0)
                / (2.0 * h);
            assert!(
                (fd - grad[k]).abs() < 1e-5 * (1.0 + fd.abs()),
                "θ{k}: {fd} vs {}",
                grad[k]
            );
        }
    }

    #[test]
    fn learns_a_smooth_function_and_ignores_an_irrelevant_input() {
        // y = sin(x0) + x1²/2; x2 is noise-free junk the length scales must drop.
        let x = grid(120, 3);
        let f = |r: ArrayView1<f64>| r[0].sin() + 0.5 * r[1] * r[1];
        let y: Vec<f64> = x.rows().into_iter().map(f).collect();
        let rows: Vec<usize> = (0..100).collect();
        let gp = Gp::fit(x.view(), &y, &rows, &GpConfig::default()).unwrap();
        let q = x.slice(ndarray::s![100.., ..]);
        let p = gp.predict(x.view(), q);
        let mae: f64 = p
            .iter()
            .zip(&y[100..])
            .map(|(a, b)| (a - b).abs())
            .sum::<f64>()
            / p.len() as f64;
        let spread: f64 = y.iter().map(|v| v.abs()).sum::<f64>() / y.len() as f64;
        assert!(
            mae < 0.02 * spread,
            "held-out MAE {mae} against |y| {spread}"
        );
        assert!(
            gp.log_length[2] > gp.log_length[0] + 1.0 && gp.log_length[2] > gp.log_length[1] + 1.0,
            "{:?}",
            gp.log_length
        );
        assert!(gp.fits(120, 3) && !gp.fits(99, 3) && !gp.fits(120, 2));
    }

    #[test]
    fn a_search_on_fewer_rows_still_weights_every_row() {
        let x = grid(160, 3);
        let f = |r: ArrayView1<f64>| r[0].sin() + 0.5 * r[1] * r[1];
        let y: Vec<f64> = x.rows().into_iter().map(f).collect();
        let held_out = |gp: &Gp| {
            let p = gp.predict(x.view(), x.slice(ndarray::s![120.., ..]));
            p.iter()
                .zip(&y[120..])
                .map(|(a, b)| (a - b).abs())
                .sum::<f64>()
                / p.len() as f64
        };
        let rows: Vec<usize> = (0..120).collect();
        let cfg = GpConfig {
            fit_rows: 30,
            ..GpConfig::default()
        };
        let subset = Gp::fit(x.view(), &y, &rows, &cfg).unwrap();
        assert_eq!(subset.alpha.len(), 120);
        let seen: Vec<usize> = spread(120, 30);
        assert_eq!(seen.len(), 30);
        assert!(seen.windows(2).all(|w| w[1] == w[0] + 4));
        let only_seen = Gp::fit(x.view(), &y, &seen, &GpConfig::default()).unwrap();
        // Nearly the same hyperparameters (the search saw the same rows, standardised by
        // all 120), more labels in the mean.
        for (a, b) in subset.log_length.iter().zip(&only_seen.log_length) {
            assert!(
                (a - b).abs() < 0.05,
                "{:?} {:?}",
                subset.log_length,
                only_seen.log_length
            );
        }
        let (a, b) = (held_out(&subset), held_out(&only_seen));
        assert!(a < 0.5 * b, "all rows {a} against the 30 searched {b}");
    }

    #[test]
    fn unlabelled_rows_are_left_out_and_too_few_labels_refused() {
        let x = grid(10, 2);
        let mut y: Vec<f64> = (0..10).map(|i| x[[i, 0]]).collect();
        y[3] = f64::NAN;
        let gp = Gp::fit(
            x.view(),
            &y,
            &(0..10).collect::<Vec<_>>(),
            &GpConfig::default(),
        )
        .unwrap();
        assert_eq!(gp.rows.len(), 9);
        assert!(!gp.rows.contains(&3));
        let e = Gp::fit(x.view(), &y, &[3], &GpConfig::default()).unwrap_err();
        assert!(e.to_string().contains("at least one labelled row"), "{e}");
        // One row: the prediction is its value everywhere.
        let one = Gp::fit(x.view(), &y, &[4], &GpConfig::default()).unwrap();
        assert!(
            one.predict(x.view(), x.view())
                .iter()
                .all(|v| (v - y[4]).abs() < 1e-9)
        );
    }
}
