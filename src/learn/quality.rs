//! How good a latent code is, apart from the regressor trained on it: how much of the
//! raster the VAE gives back (reconstruction R²), and how much of each target a linear map
//! of the code explains out of fold (ridge probe R²).

use super::baselines::Baseline;
use super::cv;
use super::error::ensure;
use super::tensor::to_tensor;
use super::vae::{Vae, check_ids};
use super::{LearnError, Result};
use crate::grains::RasterSource;
use ndarray::{Array2, ArrayView2, Axis};
use tch::Kind;

/// Reconstruction error of a VAE on some rasters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Reconstruction {
    /// Mean over records, channels and cells of (decoded − input)².
    pub mse: f64,
    /// Variance of the input values about their one mean (the MSE of predicting every
    /// cell by that mean), over the same records, channels and cells.
    pub variance: f64,
    /// 1 − mse / variance; NaN when the inputs are constant.
    pub r2: f64,
}

/// Records per forward pass.
const BATCH: usize = 64;

impl Vae {
    /// Encodes records `ids` of `source` to their latent means and decodes those (no
    /// sampling), comparing with the inputs.
    pub fn reconstruction(
        &self,
        source: &dyn RasterSource,
        ids: &[usize],
    ) -> Result<Reconstruction> {
        let c = self.config();
        let (nx, ny) = source.grid();
        ensure((nx, ny) == (c.nx, c.ny), || {
            format!(
                "reconstruction: the data are {nx}×{ny} rasters, the VAE was built for {}×{}",
                c.nx, c.ny
            )
        })?;
        ensure(!ids.is_empty(), || {
            "reconstruction: no records given".into()
        })?;
        check_ids(source, ids).map_err(|e| LearnError::msg(format!("reconstruction: {e}")))?;
        let encoding = c.encoding;
        // Sums in f64 over all values: Σ(x̂ − x)², Σx, Σx².
        let (mut sse, mut sum, mut sum_sq, mut count) = (0.0, 0.0, 0.0, 0usize);
        for chunk in ids.chunks(BATCH) {
            crate::interrupt::check().map_err(|_| LearnError::msg("interrupted"))?;
            let x = source
                .encode_many(chunk, encoding)
                .map_err(LearnError::Source)?;
            let t = to_tensor(&x, self.device());
            let err = tch::no_grad(|| {
                let mu = self.net.encode_tensor(&t).0;
                (self.net.decode_tensor(&mu) - &t)
                    .square()
                    .sum(Kind::Double)
                    .double_value(&[])
            });
            sse += err;
            for &v in &x {
                let v = f64::from(v);
                sum += v;
                sum_sq += v * v;
            }
            count += x.len();
        }
        let n = count as f64;
        let mean = sum / n;
        let variance = (sum_sq / n - mean * mean).max(0.0);
        let mse = sse / n;
        let r2 = if variance > 0.0 {
            1.0 - mse / variance
        } else {
            f64::NAN
        };
        Ok(Reconstruction { mse, variance, r2 })
    }
}

/// Out-of-fold R² per target column of ridge regression from `codes` [n, k] to `targets`
/// [n, m]: each of `folds` seeded folds ([`cv::folds`]) is predicted by a ridge
/// ([`Baseline::ridge`], penalty `lambda`) fitted on the others, and
/// R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)² over all rows, ȳ the column mean. Missing targets (NaN)
/// are left out; a column with fewer than two present values or no spread gives NaN.
pub fn probe_r2(
    codes: ArrayView2<f32>,
    targets: ArrayView2<f64>,
    folds: usize,
    lambda: f64,
    seed: u64,
) -> Result<Vec<f64>> {
    let n = codes.nrows();
    ensure(targets.nrows() == n, || {
        format!(
            "probe: codes have {n} rows, targets {} (one row per record each)",
            targets.nrows()
        )
    })?;
    ensure(folds >= 2 && folds <= n, || {
        format!("probe: folds must be in 2..={n} (the number of records), got {folds}")
    })?;
    ensure(codes.iter().all(|v| v.is_finite()), || {
        "probe: codes must be finite numbers".into()
    })?;
    ensure(targets.iter().all(|v| !v.is_infinite()), || {
        "probe: targets must be finite numbers (NaN for missing)".into()
    })?;
    let parts = cv::folds(n, folds, seed);
    let mut predicted = Array2::<f64>::zeros(targets.dim());
    for (f, held) in parts.iter().enumerate() {
        let train = cv::complement(&parts, f);
        let model = Baseline::ridge(
            codes.select(Axis(0), &train).view(),
            targets.select(Axis(0), &train).view(),
            lambda,
        )
        .map_err(|e| LearnError::msg(format!("probe: {e}")))?;
        let p = model.predict(codes.select(Axis(0), held).view())?;
        for (r, &i) in held.iter().enumerate() {
            predicted.row_mut(i).assign(&p.row(r));
        }
    }
    Ok(targets
        .axis_iter(Axis(1))
        .zip(predicted.axis_iter(Axis(1)))
        .map(|(y, p)| {
            let present: Vec<(f64, f64)> = y
                .iter()
                .zip(&p)
                .filter(|(y, _)| y.is_finite())
                .map(|(&y, &p)| (y, p))
                .collect();
            let m = present.len() as f64;
            let mean = present.iter().map(|(y, _)| y).sum::<f64>() / m;
            let total: f64 = present.iter().map(|(y, _)| (y - mean).powi(2)).sum();
            let resid: f64 = present.iter().map(|(y, p)| (y - p).powi(2)).sum();
            if present.len() < 2 || total <= 0.0 {
                f64::NAN
            } else {
                1.0 - resid / total
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grains::{Encoding, Sample, VoronoiOptions};
    use crate::learn::VaeConfig;

    #[test]
    fn probe_scores_a_linear_target_near_one_and_noise_near_zero() {
        let n = 200;
        let mut rng = crate::grains::rng::Rng::new(4);
        let codes = Array2::from_shape_fn((n, 3), |_| (rng.unit() * 2.0 - 1.0) as f32);
        let mut rng = crate::grains::rng::Rng::new(9);
        let targets = Array2::from_shape_fn((n, 3), |(i, t)| match t {
            0 => 3.0 * codes[[i, 0]] as f64 - codes[[i, 2]] as f64 + 0.5,
            1 => rng.unit(),
            _ if i % 3 == 0 => f64::NAN,
            _ => codes[[i, 1]] as f64 + 0.1 * rng.unit(),
        });
        let r2 = probe_r2(codes.view(), targets.view(), 5, 1e-6, 1).unwrap();
        assert!(r2[0] > 0.999_999, "{r2:?}");
        // Pure noise: out of fold, a ridge can only lose against the mean (R² ≤ ~0).
        assert!(r2[1] < 0.05 && r2[1] > -0.2, "{r2:?}");
        // Var(0.1·U) / Var(code) ≈ 0.0025: R² ≈ 0.99, with a third of the rows missing.
        assert!(r2[2] > 0.98 && r2[2] < 1.0, "{r2:?}");
        assert_eq!(
            r2,
            probe_r2(codes.view(), targets.view(), 5, 1e-6, 1).unwrap()
        );
        let e = probe_r2(codes.view(), targets.view(), 1, 1.0, 1).unwrap_err();
        assert!(e.to_string().contains("folds"), "{e}");
        let e = probe_r2(codes.view(), targets.slice(ndarray::s![..5, ..]), 5, 1.0, 1);
        assert!(e.unwrap_err().to_string().contains("rows"));
        let constant = Array2::from_elem((n, 1), 2.0);
        assert!(probe_r2(codes.view(), constant.view(), 5, 1.0, 1).unwrap()[0].is_nan());
    }

    #[test]
    fn reconstruction_compares_decoded_means_with_inputs() {
        tch::set_num_threads(1);
        let sample = Sample::new(VoronoiOptions::square(32), 2, 5).unwrap();
        let vae = Vae::new(
            VaeConfig::new(32, 32, Encoding::Axis, 4),
            tch::Device::Cpu,
            3,
        )
        .unwrap();
        let ids = [0, 2, 4];
        let r = vae.reconstruction(&sample, &ids).unwrap();
        // The same numbers by hand, through the public encode and decode.
        let x = sample
            .encode_many(&ids, Encoding::Axis)
            .unwrap()
            .mapv(f64::from);
        let z = vae
            .encode(&sample.encode_many(&ids, Encoding::Axis).unwrap())
            .unwrap();
        let y = vae.decode(&z).unwrap().mapv(f64::from);
        let mse = (&y - &x).mapv(|d| d * d).mean().unwrap();
        let variance = x.var(0.0);
        assert!((r.mse - mse).abs() < 1e-6 * mse, "{} vs {mse}", r.mse);
        assert!(
            (r.variance - variance).abs() < 1e-9,
            "{} vs {variance}",
            r.variance
        );
        assert!((r.r2 - (1.0 - mse / variance)).abs() < 1e-6);
        let e = vae.reconstruction(&sample, &[5]).unwrap_err().to_string();
        assert!(e.contains("out of range"), "{e}");
        assert!(vae.reconstruction(&sample, &[]).is_err());
    }
}
