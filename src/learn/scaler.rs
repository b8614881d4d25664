//! Per-target standardisation (z = (y − mean)/std) fitted on the training targets that are
//! present (NaN = missing); stored with the regressor so predictions come back in units.

use ndarray::{Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scaler {
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
}

impl Scaler {
    /// Whether it has one mean and one std for each of `n` columns (a checkpoint's check).
    pub fn fits(&self, n: usize) -> bool {
        self.mean.len() == n && self.std.len() == n
    }

    /// Mean and standard deviation of each column over its finite entries; a column with
    /// fewer than two distinct values gets std 1 (and mean 0 when it has none).
    pub fn fit(y: ArrayView2<f64>) -> Scaler {
        let (mut mean, mut std) = (vec![], vec![]);
        for col in y.axis_iter(Axis(1)) {
            let v: Vec<f64> = col.iter().copied().filter(|x| x.is_finite()).collect();
            let n = v.len().max(1) as f64;
            let m = v.iter().sum::<f64>() / n;
            let s = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n).sqrt();
            mean.push(m);
            std.push(if s > 1e-12 { s } else { 1.0 });
        }
        Scaler { mean, std }
    }

    pub fn transform(&self, y: ArrayView2<f64>) -> Array2<f64> {
        let mut out = y.to_owned();
        for (k, mut col) in out.axis_iter_mut(Axis(1)).enumerate() {
            col.mapv_inplace(|v| (v - self.mean[k]) / self.std[k]);
        }
        out
    }

    pub fn inverse(&self, z: ArrayView2<f64>) -> Array2<f64> {
        let mut out = z.to_owned();
        for (k, mut col) in out.axis_iter_mut(Axis(1)).enumerate() {
            col.mapv_inplace(|v| v * self.std[k] + self.mean[k]);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaler_ignores_missing_and_inverts() {
        let y = ndarray::array![[1.0, f64::NAN], [3.0, 5.0], [f64::NAN, 5.0]];
        let s = Scaler::fit(y.view());
        assert_eq!(s.mean, vec![2.0, 5.0]);
        assert_eq!(s.std, vec![1.0, 1.0]);
        let z = s.transform(y.view());
        assert_eq!(z[[0, 0]], -1.0);
        assert!(z[[0, 1]].is_nan());
        assert_eq!(s.inverse(z.view())[[1, 0]], 3.0);
    }
}
