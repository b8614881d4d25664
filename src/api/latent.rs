//! The `latent` module: latent codes as NdArrays (1-d [latent] for one structure, 2-d
//! [n, latent] for many), interpolation between them, PCA codes (a baseline for the VAE's
//! codes) and the conversions the `vae` and `regressor` modules share.

use super::grains::SharedStructure;
use super::opts::Opts;
use super::{RResult, error, error_in, fail};
use crate::array::NdArray;
use crate::grains::{Encoding, RasterSource, Structure};
use crate::learn::baselines::Pca;
use ndarray::{Array2, Axis};
use rhai::Map;
use rhai::plugin::*;
use std::sync::Arc;

/// PCA of rasters as scripts hold it.
pub type SharedPca = Arc<(Pca, Encoding, (usize, usize))>;

/// Codes [n, k] from a 1-d (one code; `true`) or 2-d NdArray.
pub fn codes_in(func: &str, a: &NdArray) -> RResult<(Array2<f32>, bool)> {
    if a.0.iter().any(|v| !v.is_finite()) {
        return fail(func, "codes must be finite numbers");
    }
    match a.shape() {
        [n] => Ok((
            Array2::from_shape_fn((1, *n), |(_, j)| a.0[[j]] as f32),
            true,
        )),
        [n, k] => Ok((
            Array2::from_shape_fn((*n, *k), |(i, j)| a.0[[i, j]] as f32),
            false,
        )),
        s => fail(
            func,
            format!("codes must be a 1-d [latent] or 2-d [n, latent] array, got shape {s:?}"),
        ),
    }
}

/// Codes back to a script array: 1-d when `single`.
pub fn codes_out(z: Array2<f32>, single: bool) -> NdArray {
    let z = z.mapv(f64::from);
    if single {
        NdArray::new(z.index_axis(Axis(0), 0).to_owned().into_dyn())
    } else {
        NdArray::new(z.into_dyn())
    }
}

/// Runs `f` on the raster source a script value names: a `Sample`, a `Dataset` (or a
/// subset of one) or an array of structures of one grid. `one` is true for a
/// single structure (results are then 1-d).
pub fn with_source<R>(
    func: &str,
    v: &Dynamic,
    f: impl FnOnce(&dyn RasterSource, bool) -> RResult<R>,
) -> RResult<R> {
    use crate::api::structures::Structures;
    match Structures::from_value(func, v)? {
        Structures::Sample(s) => f(&*s, false),
        Structures::Data(d) => f(&d, false),
        Structures::One(s) => f(&vec![s], true),
        Structures::List(list) => {
            if list.is_empty() {
                return fail(func, "no structures given");
            }
            let g = (list[0].nx(), list[0].ny());
            if let Some(s) = list.iter().find(|s| (s.nx(), s.ny()) != g) {
                return fail(
                    func,
                    format!(
                        "structures must share one grid: {}×{} and {}×{}",
                        g.0,
                        g.1,
                        s.nx(),
                        s.ny()
                    ),
                );
            }
            f(&list, false)
        }
    }
}

/// Most records a script may encode or fit at once through these functions.
pub const MAX_RECORDS: usize = 1 << 22;

/// All record indices of a source (bounded, so fuzzed huge samples fail fast).
pub fn all_ids(func: &str, src: &dyn RasterSource) -> RResult<Vec<usize>> {
    if src.len() > MAX_RECORDS {
        return fail(
            func,
            format!("at most {MAX_RECORDS} records at once, got {}", src.len()),
        );
    }
    Ok((0..src.len()).collect())
}

/// Rasters of a structure as an NdArray: [ny, nx] for k_x, [2, ny, nx] for axis.
pub fn image_of(raster: ndarray::ArrayView3<f32>) -> NdArray {
    let a = raster.mapv(f64::from);
    if a.shape()[0] == 1 {
        NdArray::new(a.index_axis(Axis(0), 0).to_owned().into_dyn())
    } else {
        NdArray::new(a.into_dyn())
    }
}

pub fn structure_of(
    func: &str,
    raster: ndarray::ArrayView3<f32>,
    e: Encoding,
    cell_nm: f64,
) -> RResult<SharedStructure> {
    Structure::from_raster(raster, e, cell_nm)
        .map(Arc::new)
        .map_err(error_in(func))
}

#[export_module]
pub mod latent_module {
    use super::*;

    /// Linear interpolation of codes, z(α) = (1 − α)·za + α·zb (the paper's morphing):
    /// `latent::lerp(za, zb, 0.25)`.
    #[rhai_fn(return_raw)]
    pub fn lerp(ctx: NativeCallContext, za: NdArray, zb: NdArray, alpha: f64) -> RResult<NdArray> {
        let f = "latent::lerp";
        crate::api::located(
            &ctx,
            (|| {
                if za.shape() != zb.shape() {
                    return fail(
                        f,
                        format!(
                            "codes of different shapes {:?} and {:?}",
                            za.shape(),
                            zb.shape()
                        ),
                    );
                }
                if !alpha.is_finite() {
                    return fail(f, "alpha must be a finite number");
                }
                za.zip_with(&zb, |a, b| (1.0 - alpha) * a + alpha * b)
                    .ok_or_else(|| error(f, "shapes do not match"))
            })(),
        )
    }

    /// Principal components of the rasters of a Dataset, a Sample or an array of Structures — the
    /// linear baseline for the VAE: `let p = latent::pca(sample, #{ components: 32,
    /// encoding: "kx" }); let codes = p.encode(sample);` (thin SVD of all rasters in memory).
    #[rhai_fn(return_raw)]
    pub fn pca(ctx: NativeCallContext, source: Dynamic, opts: Map) -> RResult<SharedPca> {
        let f = "latent::pca";
        crate::api::located(
            &ctx,
            (|| {
                let mut o = Opts::new(f, opts);
                let k = o.int("components", 32, 1, 4096)? as usize;
                let e = match o.string_opt("encoding")? {
                    Some(name) => crate::api::grains::encoding(f, &name)?,
                    None => crate::grains::Encoding::Kx,
                };
                o.finish()?;
                with_source(f, &source, |src, _| {
                    let ids = all_ids(f, src)?;
                    if ids.len() * src.grid().0 * src.grid().1 > 1 << 28 {
                        return fail(
                            f,
                            "too many raster cells for an in-memory PCA (at most 2^28)",
                        );
                    }
                    let x = src.encode_many(&ids, e).map_err(error_in(f))?;
                    let n = x.shape()[0];
                    let flat = x
                        .into_shape_with_order((n, x_len(src, e)))
                        .map_err(error_in(f))?;
                    let pca = Pca::fit(flat.view(), k).map_err(error_in(f))?;
                    Ok(Arc::new((pca, e, src.grid())))
                })
            })(),
        )
    }

    /// PCA codes [n, components] (1-d for one structure) of a Dataset, Sample, Structure or array of
    /// Structures: `p.encode(s)`.
    #[rhai_fn(global, name = "encode", return_raw)]
    pub fn pca_encode(p: &mut SharedPca, source: Dynamic) -> RResult<NdArray> {
        let f = "PCA.encode";
        let (pca, e, grid) = &**p;
        with_source(f, &source, |src, one| {
            if src.grid() != *grid {
                return fail(
                    f,
                    format!(
                        "the PCA was fitted on {}×{} rasters, got {}×{}",
                        grid.0,
                        grid.1,
                        src.grid().0,
                        src.grid().1
                    ),
                );
            }
            let ids = all_ids(f, src)?;
            let x = src.encode_many(&ids, *e).map_err(error_in(f))?;
            let flat = x
                .into_shape_with_order((ids.len(), x_len(src, *e)))
                .map_err(error_in(f))?;
            Ok(codes_out(
                pca.transform(flat.view()).map_err(error_in(f))?,
                one,
            ))
        })
    }

    /// Linear probe of codes: the out-of-fold R² of ridge regression from codes [n, latent]
    /// to each column of `targets` ([n] or [n, m]; NaN = missing), one fold at a time
    /// predicted by a ridge fitted on the other folds: `latent::probe(z, y, #{ folds: 5,
    /// lambda: 1.0, seed: 0 })` → [m] R² values (1: linear in the code, ≤ 0: no better than
    /// the mean).
    #[rhai_fn(return_raw)]
    pub fn probe(
        ctx: NativeCallContext,
        codes: NdArray,
        targets: NdArray,
        opts: Map,
    ) -> RResult<NdArray> {
        let f = "latent::probe";
        crate::api::located(
            &ctx,
            (|| {
                let mut o = Opts::new(f, opts);
                let folds = o.int("folds", 5, 2, MAX_RECORDS as i64)? as usize;
                let lambda = o.float("lambda", 1.0, 0.0, 1e12)?;
                let seed = o.seed("seed", crate::settings::seed())?;
                o.finish()?;
                let (z, one) = codes_in(f, &codes)?;
                if one {
                    return fail(
                        f,
                        "codes must be a 2-d array [n, latent], one row per record",
                    );
                }
                let y = match targets.shape() {
                    [n] => Array2::from_shape_fn((*n, 1), |(i, _)| targets.0[[i]]),
                    [n, m] => Array2::from_shape_fn((*n, *m), |(i, t)| targets.0[[i, t]]),
                    s => {
                        return fail(
                            f,
                            format!(
                                "targets must be a 1-d [n] or 2-d [n, m] array, got shape {s:?}"
                            ),
                        );
                    }
                };
                if z.ncols() * z.nrows() > 1 << 26 || y.len() > 1 << 26 {
                    return fail(f, "at most 2^26 code or target values at once");
                }
                if lambda <= 0.0 {
                    return fail(f, format!("lambda must be > 0, got {lambda}"));
                }
                let r2 = crate::learn::probe_r2(z.view(), y.view(), folds, lambda, seed)
                    .map_err(error_in(f))?;
                Ok(NdArray::from_vec(r2))
            })(),
        )
    }

    /// `PCA(k components of 160×160 kx rasters)`.
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn pca_to_string(p: &mut SharedPca) -> String {
        format!(
            "PCA({} components of {}×{} {} rasters)",
            p.0.components.ncols(),
            p.2.0,
            p.2.1,
            p.1
        )
    }
}

/// Cells × channels of one raster.
fn x_len(src: &dyn RasterSource, e: Encoding) -> usize {
    src.grid().0 * src.grid().1 * e.channels()
}

pub fn module() -> Module {
    let mut m = exported_module!(latent_module);
    m.set_custom_type::<SharedPca>("PCA");
    m
}
