//! Predictions that do not depend on how a magnet is turned: the model's prediction (mean,
//! σ, spread) averaged over the magnet's four symmetric images (`Symmetry::ALL`).
//!
//! The labels are the same on every image (the field is along y; see docs/physics.md
//! §3.8), and so are the cheap descriptors, but coarse-mesh anchors break tied blocks by
//! raster order and differ between images; averaging the predictions removes that and,
//! on the 700-curve 64² set, lowers the test error of every anchor (README, "Coarse cells
//! without ties").

use super::Result;
use super::ensemble::Ensemble;
use crate::grains::{DescriptorSet, Structure, Symmetry};
use ndarray::{Array2, ArrayView2, Axis};
use std::borrow::Borrow;

/// Images per structure: the rows of structure k are `k·IMAGES … k·IMAGES + IMAGES − 1`,
/// in the order of `Symmetry::ALL` (the identity first).
pub const IMAGES: usize = Symmetry::ALL.len();

/// The descriptors of `set` for every image of structures `0..n`, [n·IMAGES, set.len()]
/// (see [`IMAGES`] for the order), on all cores through the curve cache.
pub fn image_rows<S: Borrow<Structure>>(
    set: &DescriptorSet,
    n: usize,
    get: impl Fn(usize) -> std::result::Result<S, String> + Sync,
) -> std::result::Result<Array2<f64>, String> {
    crate::grains::descriptor_rows(set, n * IMAGES, |k| {
        Ok(get(k / IMAGES)?
            .borrow()
            .transformed(Symmetry::ALL[k % IMAGES]))
    })
}

/// `e.predict_spread` of rows from [`image_rows`], each structure's [`IMAGES`] rows
/// averaged: (mean, σ, spread), [n, targets] each.
pub fn predict_images(
    e: &Ensemble,
    x: ArrayView2<f32>,
) -> Result<(Array2<f64>, Array2<f64>, Array2<f64>)> {
    if x.nrows() % IMAGES != 0 {
        return Err(super::LearnError::msg(format!(
            "predict_images: {} rows are not {IMAGES} images per structure",
            x.nrows()
        )));
    }
    let (mean, sigma, spread) = e.predict_spread(x)?;
    let per_structure = |a: Array2<f64>| -> Array2<f64> {
        let (n, t) = (a.nrows() / IMAGES, a.ncols());
        a.into_shape_with_order((n, IMAGES, t))
            .expect("rows checked above")
            .mean_axis(Axis(1))
            .expect("IMAGES > 0")
    };
    Ok((
        per_structure(mean),
        per_structure(sigma),
        per_structure(spread),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grains::VoronoiOptions;

    #[test]
    fn image_rows_follow_symmetry_order() {
        let s = crate::grains::voronoi(&VoronoiOptions {
            grains: Some(5),
            seed: 3,
            ..VoronoiOptions::square(16)
        })
        .unwrap();
        let set = DescriptorSet::default();
        let rows = image_rows(&set, 2, |_| Ok(&s)).unwrap();
        assert_eq!(rows.nrows(), 2 * IMAGES);
        for (k, t) in Symmetry::ALL.iter().enumerate() {
            let own = s.transformed(*t).descriptors().unwrap();
            for (a, b) in rows.row(IMAGES + k).iter().zip(&own) {
                assert!(a == b || (a.is_nan() && b.is_nan()), "{t:?}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn each_structure_gets_the_mean_of_its_images() {
        use crate::learn::ensemble::EnsembleTrain;
        use crate::learn::regressor::RegressorConfig;
        tch::set_num_threads(1);
        let x = Array2::from_shape_fn((24, 3), |(i, j)| ((i * 5 + j * 7) % 11) as f32 / 11.0);
        let y = Array2::from_shape_fn((24, 1), |(i, _)| x[[i, 0]] as f64 + x[[i, 2]] as f64);
        let cfg = RegressorConfig {
            inputs: 3,
            targets: vec!["Hc".into()],
            trunk: vec![8],
            head: vec![4],
            scale_inputs: true,
            linear_skip: false,
        };
        let opts = EnsembleTrain {
            members: 2,
            epochs: 5,
            batch: 8,
            seed: 1,
            trees: None,
            gp: None,
            ..EnsembleTrain::default()
        };
        let e = Ensemble::train(cfg, x.view(), y.view(), &opts, tch::Device::Cpu).unwrap();
        let rows = x.slice(ndarray::s![..2 * IMAGES, ..]);
        let (m, s, d) = predict_images(&e, rows).unwrap();
        let (m4, s4, d4) = e.predict_spread(rows).unwrap();
        assert_eq!(m.shape(), &[2, 1]);
        for k in 0..2 {
            let mean = |a: &Array2<f64>| {
                (0..IMAGES).map(|i| a[[k * IMAGES + i, 0]]).sum::<f64>() / IMAGES as f64
            };
            assert!((m[[k, 0]] - mean(&m4)).abs() < 1e-12);
            assert!((s[[k, 0]] - mean(&s4)).abs() < 1e-12);
            assert!((d[[k, 0]] - mean(&d4)).abs() < 1e-12);
        }
        let err = predict_images(&e, x.slice(ndarray::s![..5, ..])).unwrap_err();
        assert!(err.to_string().contains("not 4 images"), "{err}");
    }
}
