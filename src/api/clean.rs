//! `grains::clean`: decoded rasters (or any structure) → physical grains, see
//! [`crate::grains::clean`]. Merged into the `grains` module.

use super::grains::SharedStructure;
use super::opts::Opts;
use super::{RResult, error, error_in, fail};
use crate::array::NdArray;
use crate::grains::{CleanOptions, Encoding};
use ndarray::{Array3, Ix3};
use rhai::Map;
use rhai::plugin::*;
use std::sync::Arc;

/// Clean-up options from `#{ min_cells, k, encoding, cell_nm }` (absent: defaults, with
/// `encoding` as given).
pub fn clean_options(
    f: &'static str,
    v: Option<Dynamic>,
    encoding: Encoding,
) -> RResult<CleanOptions> {
    let d = CleanOptions {
        encoding,
        ..CleanOptions::default()
    };
    let Some(v) = v else { return Ok(d) };
    let Some(m) = v.try_cast::<Map>() else {
        return fail(
            f,
            "clean options must be a map #{ min_cells: 16, k: 30, encoding: \"axis\", cell_nm: 2.0 }",
        );
    };
    let mut o = Opts::new(f, m);
    let c = CleanOptions {
        min_cells: o.int("min_cells", d.min_cells as i64, 1, 1 << 28)? as usize,
        k: o.float("k", d.k, 0.0, 1e12)?,
        encoding: match o.string_opt("encoding")? {
            Some(n) => super::grains::encoding(f, &n)?,
            None => d.encoding,
        },
        cell_nm: o.float("cell_nm", d.cell_nm, 1e-3, 1e6)?,
    };
    o.finish()?;
    Ok(c)
}

/// A raster [channels, ny, nx] from an image NdArray: [ny, nx] is k_x, [c, ny, nx] has c
/// channels.
fn raster_of(f: &str, a: &NdArray) -> RResult<Array3<f32>> {
    let a = match a.shape().len() {
        2 => a.0.view().insert_axis(ndarray::Axis(0)).to_owned(),
        3 => (*a.0).clone(),
        _ => {
            return fail(
                f,
                format!(
                    "an image must be [ny, nx] (k_x) or [channels, ny, nx], got shape {:?}",
                    a.shape()
                ),
            );
        }
    };
    let a = a.into_dimensionality::<Ix3>().map_err(error_in(f))?;
    Ok(a.mapv(|v| v as f32))
}

#[export_module]
pub mod clean_module {
    use super::*;

    /// Physical grains from a decoded image: `grains::clean(v.decode(z), #{ min_cells: 16,
    /// k: 30, encoding: "axis", cell_nm: 2.0 })`. Takes the map `v.decode(z)` returns, its
    /// `image` ([ny, nx] for k_x, [2, ny, nx] for axis; the encoding follows the shape
    /// unless given) or a Structure (cleaned through its axis encoding). Per cell an axis
    /// (axis: atan2(sin 2ψ, cos 2ψ); k_x: ψ = asin k_x); 4-neighbour regions merged
    /// Felzenszwalb–Huttenlocher style on the axis misorientation (degrees) with scale `k`
    /// (larger: fewer grains); regions under `min_cells` joined to the neighbour of most
    /// similar axis; one ψ per grain, the circular mean of 2ψ halved.
    ///
    /// ```rhai
    /// let s = grains::voronoi(#{ n: 32, grains: 4, theta_deg: 90.0, seed: 3 });
    /// let c = grains::clean(s, #{ min_cells: 8 });
    /// assert(c.grains <= s.grains, "clean-up only merges");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn clean(ctx: NativeCallContext, x: Dynamic, opts: Map) -> RResult<SharedStructure> {
        let f = "grains::clean";
        crate::api::located(
            &ctx,
            (|| {
                if let Some(s) = x.clone().try_cast::<SharedStructure>() {
                    let o = clean_options(f, Some(opts.into()), Encoding::Axis)?;
                    return s.cleaned(&o).map(Arc::new).map_err(error_in(f));
                }
                let image = match x.clone().try_cast::<Map>() {
                    Some(m) => m.get("image").cloned().ok_or_else(|| {
                        error(f, "a map must hold `image` (as v.decode(z) returns)")
                    })?,
                    None => x,
                };
                let Some(a) = image.clone().try_cast::<NdArray>() else {
                    return fail(
                        f,
                        format!(
                            "expected a decoded image (NdArray or v.decode(z)) or a Structure, got {}",
                            crate::docs::type_of(&image)
                        ),
                    );
                };
                let raster = raster_of(f, &a)?;
                let by_shape = if raster.dim().0 == 1 {
                    Encoding::Kx
                } else {
                    Encoding::Axis
                };
                let o = clean_options(f, Some(opts.into()), by_shape)?;
                crate::grains::clean(raster.view(), &o)
                    .map(Arc::new)
                    .map_err(error_in(f))
            })(),
        )
    }

    /// Clean-up without options (the defaults: `min_cells: 16, k: 30`).
    #[rhai_fn(name = "clean", return_raw)]
    pub fn clean_default(ctx: NativeCallContext, x: Dynamic) -> RResult<SharedStructure> {
        clean(ctx, x, Map::new())
    }
}
