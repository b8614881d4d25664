//! Baselines that measure what the VAE adds (Table 3 context): the mean predictor, ridge
//! regression on latent codes (normal equations, Cholesky by faer) and PCA codes of the
//! rasters (thin SVD by faer) to feed the same regressor. Missing targets (NaN) are left
//! out per target, as in the regressor's masked loss.

use super::error::ensure;
use super::{LearnError, Result};
use faer::linalg::solvers::Solve;
use faer::{Mat, Side};
use ndarray::{Array1, Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

/// Column means over finite entries (0 for a column without any).
fn finite_means(y: ArrayView2<f64>) -> Vec<f64> {
    y.axis_iter(Axis(1))
        .map(|c| {
            let v: Vec<f64> = c.iter().copied().filter(|v| v.is_finite()).collect();
            if v.is_empty() {
                0.0
            } else {
                v.iter().sum::<f64>() / v.len() as f64
            }
        })
        .collect()
}

/// A fitted baseline predictor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Baseline {
    /// Predicts each target's training mean.
    Mean { mean: Vec<f64>, inputs: usize },
    /// y = (x − x̄)·w + ȳ per target, w = (XᵀX + λI)⁻¹Xᵀy on centred rows.
    Ridge {
        lambda: f64,
        x_mean: Vec<f64>,
        y_mean: Vec<f64>,
        /// [inputs, targets].
        w: Vec<Vec<f64>>,
    },
}

impl Baseline {
    pub fn mean(x: ArrayView2<f32>, y: ArrayView2<f64>) -> Result<Baseline> {
        check_rows(x, y)?;
        Ok(Baseline::Mean {
            mean: finite_means(y),
            inputs: x.ncols(),
        })
    }

    pub fn ridge(x: ArrayView2<f32>, y: ArrayView2<f64>, lambda: f64) -> Result<Baseline> {
        check_rows(x, y)?;
        ensure(lambda.is_finite() && lambda > 0.0, || {
            format!("lambda must be a number > 0, got {lambda}")
        })?;
        let p = x.ncols();
        // Prediction centres on the mean of all rows; each target's intercept is moved
        // there from the mean of its own (present) rows.
        let xm_all: Vec<f64> = (0..p)
            .map(|j| x.column(j).iter().map(|&v| v as f64).sum::<f64>() / x.nrows() as f64)
            .collect();
        let (mut y_mean, mut w) = (vec![], vec![vec![0.0; y.ncols()]; p]);
        for t in 0..y.ncols() {
            let rows: Vec<usize> = (0..x.nrows()).filter(|&i| y[[i, t]].is_finite()).collect();
            let n = rows.len().max(1) as f64;
            let xm: Vec<f64> = (0..p)
                .map(|j| rows.iter().map(|&i| x[[i, j]] as f64).sum::<f64>() / n)
                .collect();
            let ym = rows.iter().map(|&i| y[[i, t]]).sum::<f64>() / n;
            let xc = Mat::from_fn(rows.len(), p, |r, j| x[[rows[r], j]] as f64 - xm[j]);
            let yc = Mat::from_fn(rows.len(), 1, |r, _| y[[rows[r], t]] - ym);
            let mut a = xc.transpose() * &xc;
            for j in 0..p {
                a[(j, j)] += lambda;
            }
            let b = xc.transpose() * &yc;
            let sol = a
                .llt(Side::Lower)
                .map_err(|e| LearnError::msg(format!("ridge: {e:?}")))?
                .solve(&b);
            crate::cpu::clean_upper();
            for (j, wj) in w.iter_mut().enumerate() {
                wj[t] = sol[(j, 0)];
            }
            y_mean.push(
                ym + (0..p)
                    .map(|j| (xm_all[j] - xm[j]) * sol[(j, 0)])
                    .sum::<f64>(),
            );
        }
        Ok(Baseline::Ridge {
            lambda,
            x_mean: xm_all,
            y_mean,
            w,
        })
    }

    pub fn inputs(&self) -> usize {
        match self {
            Baseline::Mean { inputs, .. } => *inputs,
            Baseline::Ridge { x_mean, .. } => x_mean.len(),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Baseline::Mean { .. } => "mean",
            Baseline::Ridge { .. } => "ridge",
        }
    }

    /// Predictions [n, targets].
    pub fn predict(&self, x: ArrayView2<f32>) -> Result<Array2<f64>> {
        ensure(x.ncols() == self.inputs(), || {
            format!(
                "inputs must have {} columns, got {}",
                self.inputs(),
                x.ncols()
            )
        })?;
        Ok(match self {
            Baseline::Mean { mean, .. } => {
                Array2::from_shape_fn((x.nrows(), mean.len()), |(_, t)| mean[t])
            }
            Baseline::Ridge {
                x_mean, y_mean, w, ..
            } => Array2::from_shape_fn((x.nrows(), y_mean.len()), |(i, t)| {
                y_mean[t]
                    + (0..x_mean.len())
                        .map(|j| (x[[i, j]] as f64 - x_mean[j]) * w[j][t])
                        .sum::<f64>()
            }),
        })
    }
}

/// Line-up `x` rows against `y` rows.
fn check_rows(x: ArrayView2<f32>, y: ArrayView2<f64>) -> Result<()> {
    ensure(x.nrows() == y.nrows() && x.nrows() > 0, || {
        format!(
            "inputs ({} rows) and targets ({} rows) must be non-empty and equally long",
            x.nrows(),
            y.nrows()
        )
    })
}

/// Principal components of flattened rasters: codes = (x − x̄)·V_k.
#[derive(Clone, Debug, PartialEq)]
pub struct Pca {
    pub mean: Array1<f64>,
    /// [features, k]: the leading right singular vectors.
    pub components: Array2<f64>,
    /// Singular values of the centred data, descending.
    pub singular: Vec<f64>,
}

impl Pca {
    /// Fits `k` components to rows `x` [n, features] (thin SVD of the centred rows).
    pub fn fit(x: ArrayView2<f32>, k: usize) -> Result<Pca> {
        let (n, p) = x.dim();
        ensure(n >= 2 && k >= 1 && k <= n.min(p), || {
            format!(
                "PCA of {n} rows × {p} features: components must be in 1..={}, got {k}",
                n.min(p)
            )
        })?;
        let mean = x.mapv(f64::from).mean_axis(Axis(0)).expect("n ≥ 2");
        let xc = Mat::from_fn(n, p, |i, j| x[[i, j]] as f64 - mean[j]);
        // The SVD of many rasters takes seconds and cannot poll Ctrl-C itself.
        let svd = crate::interrupt::interruptible(move || {
            let svd = xc
                .thin_svd()
                .map_err(|e| format!("PCA: SVD failed: {e:?}"))?;
            let v = svd.V();
            let components = Array2::from_shape_fn((p, k), |(j, c)| v[(j, c)]);
            let singular: Vec<f64> = (0..k).map(|c| svd.S()[c]).collect();
            Ok::<_, String>((components, singular))
        });
        let (components, singular) = svd
            .map_err(|_| LearnError::msg("interrupted"))?
            .map_err(LearnError::Msg)?;
        Ok(Pca {
            mean,
            components,
            singular,
        })
    }

    pub fn transform(&self, x: ArrayView2<f32>) -> Result<Array2<f32>> {
        ensure(x.ncols() == self.mean.len(), || {
            format!(
                "PCA was fitted on {} features, got {}",
                self.mean.len(),
                x.ncols()
            )
        })?;
        let xc = x.mapv(f64::from) - &self.mean;
        Ok(xc.dot(&self.components).mapv(|v| v as f32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ridge_recovers_a_linear_law_and_mean_is_constant() {
        let x = Array2::from_shape_fn((30, 3), |(i, j)| ((i * (j + 2)) % 7) as f32 - 3.0);
        let y = Array2::from_shape_fn((30, 2), |(i, t)| {
            if t == 1 && i % 4 == 0 {
                f64::NAN
            } else {
                2.0 * x[[i, 0]] as f64 - x[[i, 2]] as f64 + 1.0 + t as f64
            }
        });
        let r = Baseline::ridge(x.view(), y.view(), 1e-8).unwrap();
        let p = r.predict(x.view()).unwrap();
        for i in 0..30 {
            assert!((p[[i, 0]] - (2.0 * x[[i, 0]] as f64 - x[[i, 2]] as f64 + 1.0)).abs() < 1e-6);
            assert!((p[[i, 1]] - (2.0 * x[[i, 0]] as f64 - x[[i, 2]] as f64 + 2.0)).abs() < 1e-6);
        }
        let m = Baseline::mean(x.view(), y.view())
            .unwrap()
            .predict(x.view())
            .unwrap();
        assert_eq!(m[[0, 0]], m[[29, 0]]);
        assert!(Baseline::ridge(x.view(), y.view(), 0.0).is_err());
    }

    #[test]
    fn pca_finds_the_direction_of_largest_variance() {
        let x = Array2::from_shape_fn((20, 4), |(i, j)| {
            if j == 2 {
                i as f32
            } else {
                (i % 2) as f32 * 0.01
            }
        });
        let pca = Pca::fit(x.view(), 1).unwrap();
        assert!(pca.components[[2, 0]].abs() > 0.999);
        let z = pca.transform(x.view()).unwrap();
        assert_eq!(z.shape(), &[20, 1]);
        assert!((z[[19, 0]] - z[[0, 0]]).abs() > 18.0);
    }
}
