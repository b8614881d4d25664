//! The `grains` module: Voronoi grain structures, their statistics, encodings and files.

use super::opts::Opts;
use super::{RResult, error, error_in, fail};
use crate::array::NdArray;
use crate::grains::{
    Encoding, PngOptions, PngReadOptions, Sample, Structure, Symmetry, VoronoiOptions,
};
use ndarray::ArrayD;
use rhai::plugin::*;
use rhai::{Array, Map};
use std::sync::Arc;

/// A structure as scripts hold it: shared, so passing it around copies no raster.
pub type SharedStructure = Arc<Structure>;
/// A lazily drawn collection of structures.
pub type SharedSample = Arc<Sample>;

/// Generator options from a script map (keys: n, nx, ny, cell_nm, grains, grains_range,
/// theta_deg, seed, periodic); absent `grains`/`theta_deg` follow the paper's law, with the
/// grain count drawn from `grains_range`: `[lo, hi]`, "paper" (16…256, the default) or
/// "density" (the paper's range scaled by area, so grains keep the paper's 20–80 nm).
pub fn voronoi_options(func: &'static str, map: Map) -> RResult<VoronoiOptions> {
    let mut o = Opts::new(func, map);
    let options = read_voronoi_options(func, &mut o)?;
    o.finish()?;
    Ok(options)
}

/// The generator's keys read from `o`, which may hold other keys too (`data::generate`).
pub fn read_voronoi_options(func: &'static str, o: &mut Opts) -> RResult<VoronoiOptions> {
    // Sizes are checked once, by `VoronoiOptions::validate` (as for the CLI).
    let n = o.int_opt("n", 1, i64::MAX)?;
    let nx = o.int_opt("nx", 1, i64::MAX)?;
    let ny = o.int_opt("ny", 1, i64::MAX)?;
    let defaults = VoronoiOptions::default();
    let side = |v: Option<i64>, d: usize| v.or(n).map_or(d, |v| v as usize);
    let (nx, ny) = (side(nx, defaults.nx), side(ny, defaults.ny));
    let cell_nm = o.number("cell_nm", defaults.cell_nm)?;
    let grains_range = match o.value("grains_range") {
        None => defaults.grains_range,
        Some(v) => grains_range(func, v, nx, ny, cell_nm)?,
    };
    let options = VoronoiOptions {
        nx,
        ny,
        cell_nm,
        grains_range,
        grains: o
            .int_opt("grains", 1, crate::grains::MAX_GRAINS as i64)?
            .map(|g| g as usize),
        theta: o
            .float_opt("theta_deg", f64::MIN, f64::MAX)?
            .map(f64::to_radians),
        seed: o.seed("seed", crate::settings::seed())?,
        periodic: o.bool("periodic", false)?,
    };
    options.validate().map_err(error_in(func))?;
    Ok(options)
}

fn grains_range(
    func: &str,
    v: Dynamic,
    nx: usize,
    ny: usize,
    cell_nm: f64,
) -> RResult<(usize, usize)> {
    let bad = || {
        fail(
            func,
            format!(
                "option `grains_range` must be [smallest, largest], \"paper\" or \"density\", got {}",
                v
            ),
        )
    };
    if let Ok(s) = v.clone().into_immutable_string() {
        return VoronoiOptions::named_range(&s, nx, ny, cell_nm).map_or_else(bad, Ok);
    }
    let Some(a) = v.read_lock::<Array>().map(|a| a.clone()) else {
        return bad();
    };
    match a.as_slice() {
        [lo, hi] => match (lo.as_int(), hi.as_int()) {
            (Ok(lo), Ok(hi)) if lo >= 1 && hi >= lo => Ok((lo as usize, hi as usize)),
            _ => bad(),
        },
        _ => bad(),
    }
}

pub(crate) fn encoding(func: &str, name: &str) -> RResult<Encoding> {
    Encoding::from_name(name).map_or_else(
        || {
            fail(
                func,
                format!("encoding must be {}, got \"{name}\"", Encoding::EXPECTED),
            )
        },
        Ok,
    )
}

fn to_nd<T: Copy + Into<f64>, D: ndarray::Dimension>(a: ndarray::Array<T, D>) -> NdArray {
    NdArray::new(a.mapv(Into::into).into_dyn())
}

fn describe(s: &Structure) -> String {
    let mut t = format!(
        "Structure({}×{} cells of {} nm, {} grains",
        s.nx(),
        s.ny(),
        crate::array::fmt_g(s.cell_nm()),
        s.n_owning()
    );
    if let Some(g) = s.generator() {
        if let Some(theta) = g.theta {
            t.push_str(&format!(
                ", θ = {}°",
                crate::array::fmt_g((theta.to_degrees() * 100.0).round() / 100.0)
            ));
        }
        if let Some(seed) = g.rng_seed {
            t.push_str(&format!(", seed {seed}"));
        }
    }
    t + ")"
}

fn read_npz(path: &str, cell_nm: Option<f64>) -> RResult<SharedStructure> {
    Structure::read_npz(path, cell_nm)
        .map(Arc::new)
        .map_err(error_in("grains::from_npz"))
}

fn png_options(func: &'static str, map: Map) -> RResult<PngOptions> {
    let mut o = Opts::new(func, map);
    let d = PngOptions::default();
    let p = PngOptions {
        scale: o.int("scale", d.scale as i64, 1, 64)? as usize,
        boundaries: o.bool("boundaries", d.boundaries)?,
        scale_bar_nm: o.float_opt("scale_bar_nm", 1e-3, 1e9)?,
    };
    o.finish()?;
    Ok(p)
}

/// The descriptor set of options that hold nothing else (`#{ coarse: f, coarse_exchange,
/// coarse_anisotropy }`).
fn descriptor_set(f: &'static str, opts: Map) -> RResult<crate::grains::DescriptorSet> {
    let mut o = Opts::new(f, opts);
    let set = o.descriptor_set()?;
    o.finish()?;
    Ok(set)
}

/// `grains::descriptor_names(opts)`.
fn names_of(opts: Map) -> RResult<Array> {
    let set = descriptor_set("grains::descriptor_names", opts)?;
    Ok(set.names().into_iter().map(Dynamic::from).collect())
}

/// `grains::descriptor_info(opts)`.
fn info_of(opts: Map) -> RResult<Array> {
    let set = descriptor_set("grains::descriptor_info", opts)?;
    Ok(set
        .info()
        .into_iter()
        .map(|(name, unit, doc)| {
            let mut m = Map::new();
            m.insert("name".into(), name.into());
            m.insert("unit".into(), unit.into());
            m.insert("doc".into(), doc.into());
            Dynamic::from_map(m)
        })
        .collect())
}

#[export_module]
pub mod grains_module {
    use super::*;

    /// A 160×160 structure of 2 nm cells drawn by the paper's law from the session seed.
    #[rhai_fn(name = "voronoi", return_raw)]
    pub fn voronoi_default(ctx: NativeCallContext) -> RResult<SharedStructure> {
        voronoi(ctx, Map::new())
    }

    /// A Voronoi grain structure: `grains::voronoi(#{ n: 160, cell_nm: 2.0, grains: 64,
    /// theta_deg: 45.0, seed: 7, periodic: false })`. `grains_range: [lo, hi] | "paper" |
    /// "density"` sets the range the grain count is drawn from when `grains` is absent
    /// ("density": the paper's 16…256 scaled by area). Omit `grains`/`theta_deg` to draw
    /// them by the paper's law (ng uniform in [16, 256], θ uniform in [−180°, 180°]);
    /// `nx`/`ny` give non-square grids. Each grain's axis ψ is uniform in [−θ, θ].
    ///
    /// ```rhai
    /// let s = grains::voronoi(#{ n: 32, grains: 6, seed: 3 });
    /// assert(s.nx == 32 && s.ny == 32, "a 32 × 32 raster");
    /// assert(s == grains::voronoi(#{ n: 32, grains: 6, seed: 3 }), "seeded: the same structure");
    /// ```
    #[rhai_fn(name = "voronoi", return_raw)]
    pub fn voronoi(ctx: NativeCallContext, opts: Map) -> RResult<SharedStructure> {
        crate::api::located(
            &ctx,
            (|| {
                let options = voronoi_options("grains::voronoi", opts)?;
                crate::grains::voronoi(&options)
                    .map(Arc::new)
                    .map_err(error_in("grains::voronoi"))
            })(),
        )
    }

    /// A lazy, indexable collection of `count` structures: structure i depends only on
    /// (seed, i), whatever order or subset is asked for. Options as `grains::voronoi`.
    /// `sample[i]`, `for s in sample { … }` (each built when reached), and accepted
    /// wherever an array of structures is (`solver::demag_curves`, `descriptors`, …).
    ///
    /// ```rhai
    /// let sample = grains::sample(3, #{ n: 16, seed: 2 });
    /// let grains = [];
    /// for s in sample { grains.push(s.grains); }
    /// assert(grains.len() == 3 && grains[1] == sample[1].grains, "in order");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn sample(ctx: NativeCallContext, count: i64, opts: Map) -> RResult<SharedSample> {
        crate::api::located(
            &ctx,
            (|| {
                let count = super::super::to_usize("grains::sample", "count", count, 1, 1 << 40)?;
                let options = voronoi_options("grains::sample", opts)?;
                let seed = options.seed;
                Sample::new(options, seed, count)
                    .map(Arc::new)
                    .map_err(error_in("grains::sample"))
            })(),
        )
    }

    /// Loads a structure saved with `s.save(path)`.
    #[rhai_fn(return_raw)]
    pub fn load(ctx: NativeCallContext, path: &str) -> RResult<SharedStructure> {
        crate::api::located(
            &ctx,
            (|| {
                Structure::load(path)
                    .map(Arc::new)
                    .map_err(error_in("grains::load"))
            })(),
        )
    }

    /// Reads a structure from CSV with columns `i, j, angle_rad` (extra columns ignored;
    /// the format of fidimag's `cells.csv`; i along x, j along y).
    #[rhai_fn(return_raw)]
    pub fn from_csv(ctx: NativeCallContext, path: &str) -> RResult<SharedStructure> {
        crate::api::located(
            &ctx,
            (|| {
                Structure::read_csv(path, None)
                    .map(Arc::new)
                    .map_err(error_in("grains::from_csv"))
            })(),
        )
    }

    /// Reads a structure from a `.npy` angle array (radians, shape [ny, nx]) with the given
    /// cell size in nm.
    #[rhai_fn(return_raw)]
    pub fn from_npy(ctx: NativeCallContext, path: &str, cell_nm: f64) -> RResult<SharedStructure> {
        crate::api::located(
            &ctx,
            (|| {
                Structure::read_npy(path, cell_nm)
                    .map(Arc::new)
                    .map_err(error_in("grains::from_npy"))
            })(),
        )
    }

    /// Reads a structure from a `.npz` with `grain` (ids, [ny, nx]), `angle` (per grain)
    /// and `cell_nm` (2 nm when absent); numpy's `savez` and `savez_compressed` both read.
    #[rhai_fn(name = "from_npz", return_raw)]
    pub fn from_npz_own(ctx: NativeCallContext, path: &str) -> RResult<SharedStructure> {
        crate::api::located(&ctx, read_npz(path, None))
    }

    /// As `grains::from_npz(path)` with the cell size in nm for a file without `cell_nm`;
    /// a file whose `cell_nm` differs is refused.
    #[rhai_fn(name = "from_npz", return_raw)]
    pub fn from_npz(ctx: NativeCallContext, path: &str, cell_nm: f64) -> RResult<SharedStructure> {
        crate::api::located(&ctx, read_npz(path, Some(cell_nm)))
    }

    /// Reads a PNG painted with the paper's colormap (k_x: −1 red … +1 blue) back into a
    /// structure; ψ = asin k_x, grains are connected regions of one colour. The grid and
    /// cell size come from the picture's metadata (written by `to_png`).
    #[rhai_fn(name = "from_png", return_raw)]
    pub fn from_png(ctx: NativeCallContext, path: &str) -> RResult<SharedStructure> {
        from_png_with(ctx, path, Map::new())
    }

    /// As `grains::from_png(path)` for pictures without coercive's metadata:
    /// `#{ scale: 4, cell_nm: 2.0 }` (pixels per cell side, required; cell size, default
    /// 2 nm). Values that differ from a picture's own metadata are refused.
    #[rhai_fn(name = "from_png", return_raw)]
    pub fn from_png_with(
        ctx: NativeCallContext,
        path: &str,
        opts: Map,
    ) -> RResult<SharedStructure> {
        crate::api::located(
            &ctx,
            (|| {
                let f = "grains::from_png";
                let mut o = Opts::new(f, opts);
                let options = PngReadOptions {
                    scale: o.int_opt("scale", 1, 4096)?.map(|s| s as usize),
                    cell_nm: o.float_opt("cell_nm", 1e-3, 1e6)?,
                    ..PngReadOptions::default()
                };
                o.finish()?;
                Structure::read_png(path, &options)
                    .map(Arc::new)
                    .map_err(error_in(f))
            })(),
        )
    }

    /// Cells along x.
    #[rhai_fn(global, get = "nx", pure)]
    pub fn nx(s: &mut SharedStructure) -> i64 {
        s.nx() as i64
    }

    /// Cells along y.
    #[rhai_fn(global, get = "ny", pure)]
    pub fn ny(s: &mut SharedStructure) -> i64 {
        s.ny() as i64
    }

    /// Cell size in nm.
    #[rhai_fn(global, get = "cell_nm", pure)]
    pub fn cell_nm(s: &mut SharedStructure) -> f64 {
        s.cell_nm()
    }

    /// Number of grains that own at least one cell.
    #[rhai_fn(global, get = "grains", pure)]
    pub fn grains(s: &mut SharedStructure) -> i64 {
        s.n_owning() as i64
    }

    /// Number of grains drawn (seeds), including any that own no cell.
    #[rhai_fn(global, get = "grains_drawn", pure)]
    pub fn grains_drawn(s: &mut SharedStructure) -> i64 {
        s.n_grains() as i64
    }

    /// Misorientation θ in radians, as records and datasets keep it; `theta_deg` is the
    /// same angle in degrees, as the `theta_deg` option and the printout give it (`()` for an
    /// imported structure).
    #[rhai_fn(global, get = "theta", pure)]
    pub fn theta(s: &mut SharedStructure) -> Dynamic {
        s.generator()
            .and_then(|g| g.theta)
            .map_or(Dynamic::UNIT, Dynamic::from_float)
    }

    /// Misorientation θ in degrees, as the `theta_deg` option takes it and the printout
    /// (`θ = 45°`) shows it; `theta` is the same angle in radians (`()` for an imported
    /// structure). Rounded to 1e-9°, so the option's value reads back unchanged:
    /// ```rhai
    /// let s = grains::voronoi(#{ n: 8, grains: 2, theta_deg: 30.0, seed: 1 });
    /// assert(s.theta_deg == 30.0, "degrees");
    /// assert_close(s.theta, PI() / 6.0, 1e-12, "radians");
    /// ```
    #[rhai_fn(global, get = "theta_deg", pure)]
    pub fn theta_deg(s: &mut SharedStructure) -> Dynamic {
        s.generator()
            .and_then(|g| g.theta)
            .map_or(Dynamic::UNIT, |t| {
                Dynamic::from_float(crate::grains::degrees(t))
            })
    }

    /// The rng seed it was drawn from (`()` if imported or built from explicit seeds).
    #[rhai_fn(global, get = "seed", pure)]
    pub fn seed(s: &mut SharedStructure) -> Dynamic {
        s.generator()
            .and_then(|g| g.rng_seed)
            .map_or(Dynamic::UNIT, |v| Dynamic::from_int(v as i64))
    }

    /// Per-cell grain ids, shape [ny, nx] (row j = y index).
    #[rhai_fn(global, get = "grain_id", pure)]
    pub fn grain_id(s: &mut SharedStructure) -> NdArray {
        to_nd(s.grain_array())
    }

    /// Per-cell easy-axis angle ψ in radians from +y towards +x, shape [ny, nx].
    #[rhai_fn(global, get = "angle", pure)]
    pub fn angle(s: &mut SharedStructure) -> NdArray {
        to_nd(s.angle_array())
    }

    /// The cells of a grain-boundary layer `width_nm` wide as an NdArray [ny, nx] of 1 and 0:
    /// those whose centre lies within width/2 of a boundary (the midline between cells of
    /// different grains; at exactly width/2 only on the lower grain id's side, so a width of
    /// k cells is k cells wide). The cells `boundary: #{ width_nm, … }` gives its phase.
    ///
    /// ```rhai
    /// let s = grains::voronoi(#{ n: 32, grains: 5, seed: 3 });
    /// let layer = s.boundary_cells(2.0);
    /// assert(layer.sum() > 0.0 && layer.sum() < s.boundary_cells(4.0).sum(), "wider, more cells");
    /// ```
    #[rhai_fn(global, pure, return_raw)]
    pub fn boundary_cells(s: &mut SharedStructure, width_nm: f64) -> RResult<NdArray> {
        let inside = s
            .boundary_cells(width_nm)
            .map_err(|e| error("boundary_cells", e.to_string()))?;
        let values = inside
            .iter()
            .map(|&b| if b { 1.0 } else { 0.0 })
            .collect::<Vec<_>>();
        Ok(NdArray::new(
            ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&[s.ny(), s.nx()]), values)
                .expect("one value per cell"),
        ))
    }

    /// Per-grain easy-axis angles in radians.
    #[rhai_fn(global, get = "grain_angles", pure)]
    pub fn grain_angles(s: &mut SharedStructure) -> NdArray {
        NdArray::from_vec(s.grain_angles().to_vec())
    }

    /// The same grains with other easy axes: `angles` holds one angle per grain (radians;
    /// an NdArray or an array of numbers), as `grain_angles` gives them. The field stays
    /// along +y, so turning every axis by −α puts the field at α to the texture: the
    /// angular dependence of coercivity (docs/physics.md §3.11). The magnet no longer
    /// follows its law, so `theta` and `seed` are `()`.
    ///
    /// ```rhai
    /// let s = grains::voronoi(#{ n: 16, grains: 4, theta_deg: 10.0, seed: 2 });
    /// let alpha = 30.0 * PI() / 180.0;
    /// let t = s.with_grain_angles(s.grain_angles - alpha);
    /// assert(t.grains == s.grains && t.theta == (), "the same grains, no law");
    /// assert_close(t.grain_angles[1], s.grain_angles[1] - alpha, 1e-15, "turned");
    /// assert((t.grain_id - s.grain_id).abs().max() == 0.0, "cells keep their grains");
    /// // A grain on its own (no exchange, no demag) in a field at 30° to its axis switches
    /// // at Stoner–Wohlfarth's h_sw = (cos^⅔ α + sin^⅔ α)^−3/2.
    /// let g = grains::voronoi(#{ n: 4, grains: 1, theta_deg: 0.0, seed: 1 });
    /// let a = 30.0 * PI() / 180.0;
    /// let c = solver::demag_curve(g.with_grain_angles([-a]),
    ///                             #{ exchange: false, demag: false, h_step: 0.001 });
    /// let h_sw = (a.cos() ** (2.0 / 3.0) + a.sin() ** (2.0 / 3.0)) ** -1.5;
    /// assert_close(c.anchors().Hc, h_sw, 2e-3, "Stoner–Wohlfarth at 30°");
    /// ```
    #[rhai_fn(global, pure, return_raw)]
    pub fn with_grain_angles(s: &mut SharedStructure, angles: Dynamic) -> RResult<SharedStructure> {
        let f = "Structure.with_grain_angles";
        let angles = super::super::array::vector(f, &angles)?;
        s.with_grain_angles(angles)
            .map(Arc::new)
            .map_err(error_in(f))
    }

    /// Grain statistics: `n_grains`, `mean_size_nm` (mean equivalent-circle diameter),
    /// `mean_size_area_weighted_nm`, `mean_area_nm2`, `psi_mean_deg`, `psi_std_deg`,
    /// `psi_std_area_weighted_deg`, `psi_max_abs_deg`, `axis_order` (|⟨e^{2iψ}⟩|), and per
    /// grain `area_nm2` and `ecd_nm` arrays.
    #[rhai_fn(global, pure)]
    pub fn stats(s: &mut SharedStructure) -> Map {
        let st = s.stats();
        let mut m = Map::new();
        let mut put = |k: &str, v: Dynamic| {
            m.insert(k.into(), v);
        };
        put("n_grains", Dynamic::from_int(st.n_grains as i64));
        put("mean_size_nm", Dynamic::from_float(st.mean_size_nm));
        put(
            "mean_size_area_weighted_nm",
            Dynamic::from_float(st.mean_size_area_weighted_nm),
        );
        put("mean_area_nm2", Dynamic::from_float(st.mean_area_nm2));
        put(
            "psi_mean_deg",
            Dynamic::from_float(st.psi_mean.to_degrees()),
        );
        put("psi_std_deg", Dynamic::from_float(st.psi_std.to_degrees()));
        put(
            "psi_std_area_weighted_deg",
            Dynamic::from_float(st.psi_std_area_weighted.to_degrees()),
        );
        put(
            "psi_max_abs_deg",
            Dynamic::from_float(st.psi_max_abs.to_degrees()),
        );
        put("axis_order", Dynamic::from_float(st.axis_order));
        put(
            "area_nm2",
            Dynamic::from(NdArray::from_vec(st.area_nm2.clone())),
        );
        put(
            "ecd_nm",
            Dynamic::from(NdArray::from_vec(st.ecd_nm.clone())),
        );
        m
    }

    /// The same magnet on cells `factor` times larger: each factor × factor block takes the
    /// grain owning most of it (the first met in raster order on a tie); grain ids and
    /// angles are kept. `factor` must divide nx and ny.
    ///
    /// ```rhai
    /// let s = grains::voronoi(#{ n: 32, grains: 5, seed: 3 });
    /// let c = s.coarsen(4);
    /// assert(c.nx == 8 && c.cell_nm == 4.0 * s.cell_nm && c.grains == s.grains, "8² cells of 8 nm, the same grains");
    /// ```
    #[rhai_fn(global, pure, return_raw)]
    pub fn coarsen(s: &mut SharedStructure, factor: i64) -> RResult<SharedStructure> {
        let f = "Structure.coarsen";
        let factor = usize::try_from(factor).map_err(|_| {
            error(
                f,
                format!("factor must be a whole number ≥ 1, got {factor}"),
            )
        })?;
        s.coarsen(factor).map(Arc::new).map_err(error_in(f))
    }

    /// The magnet's image under a symmetry of the grid that keeps its demagnetisation curve
    /// (field along +y): `"mirror_x"`, `"mirror_y"`, `"rotate180"` or `"identity"`. Cells
    /// move with their grain ids; the mirrors negate ψ. The same physics on other floating
    /// point paths: labelling the images measures the solver's path noise.
    ///
    /// ```rhai
    /// let s = grains::voronoi(#{ n: 16, grains: 4, theta_deg: 60.0, seed: 2 });
    /// let m = s.transformed("mirror_x");
    /// assert(m.grains == s.grains && m.grain_angles[0] == -s.grain_angles[0], "ψ → −ψ");
    /// assert_close(m.descriptors().sw_Hc, s.descriptors().sw_Hc, 1e-12, "the same physics");
    /// ```
    #[rhai_fn(global, pure, return_raw)]
    pub fn transformed(s: &mut SharedStructure, symmetry: &str) -> RResult<SharedStructure> {
        let t = Symmetry::from_name(symmetry).ok_or_else(|| {
            error(
                "Structure.transformed",
                format!(
                    "symmetry must be {}, got \"{symmetry}\"",
                    Symmetry::EXPECTED
                ),
            )
        })?;
        Ok(Arc::new(s.transformed(t)))
    }

    /// The names `s.transformed` takes, the identity first: a magnet's images are
    /// `grains::symmetries().map(|t| s.transformed(t))`.
    ///
    /// ```rhai
    /// let names = grains::symmetries();
    /// assert(names.len() == 4 && names[0] == "identity", `${names}`);
    /// let s = grains::voronoi(#{ n: 16, grains: 3, seed: 1 });
    /// for t in names { assert(s.transformed(t).grains == s.grains, t); }
    /// ```
    pub fn symmetries() -> Array {
        Symmetry::NAMES.iter().map(|&n| n.into()).collect()
    }

    /// Physical descriptors by name (see `grains::descriptor_info()` for what each
    /// measures): `s.descriptors().sw_Hc`.
    ///
    /// ```rhai
    /// // Every grain's axis at 0° (θ = 0): perfectly aligned.
    /// let d = grains::voronoi(#{ n: 16, grains: 4, theta_deg: 0.0, seed: 2 }).descriptors();
    /// assert_close(d.cos2_mean, 1.0, 1e-12, "cos²ψ = 1 everywhere");
    /// assert_close(d.sw_Mr, 1.0, 1e-12, "independent aligned grains keep full remanence");
    /// ```
    #[rhai_fn(global, name = "descriptors", pure, return_raw)]
    pub fn descriptors_map(ctx: NativeCallContext, s: &mut SharedStructure) -> RResult<Map> {
        descriptors_map_with(ctx, s, Map::new())
    }

    /// Descriptors by name with options `#{ coarse: f, coarse_exchange, coarse_anisotropy }`: `coarse` adds
    /// `coarse{f}_M1` … `coarse{f}_Hc`, the anchors of the same magnet's curve on cells f
    /// times larger (`s.coarsen(f)`, f = 2 … 8 dividing nx and ny; the solver's defaults,
    /// swept on to h = −2 so that every anchor exists), a cheap second fidelity of the
    /// label. `coarse_exchange: "scaled"` (default `"kept"`) multiplies the exchange
    /// stiffness on those cells by f², so that they resolve the exchange length as the
    /// label's 2 nm cells do (columns `coarse{f}_A{f²}_M1` …): the coarse curve then
    /// follows the label more closely on Hk80, Hk70 and Hc. `coarse_anisotropy:
    /// "averaged"` (default `"majority"`, the grain owning most of each f × f block) gives
    /// each coarse cell its block's mean anisotropy instead (columns `coarse{f}_avg_…`): no
    /// tie between grains to break, so the coarse anchors are the same on every image of
    /// the magnet (`s.transformed(…)`), as the other descriptors are.
    ///
    /// ```rhai
    /// let s = grains::voronoi(#{ n: 16, grains: 3, seed: 4 });
    /// let d = s.descriptors(#{ coarse: 2 });
    /// let c = solver::demag_curve(s.coarsen(2), #{ h_end: -2.0 }).anchors();
    /// assert_close(d.coarse2_Hc, c.Hc, 1e-12, "the anchors of the coarse mesh's curve");
    /// assert(d.len() == grains::descriptor_names(#{ coarse: 2 }).len(), "one name per value");
    /// let a = s.descriptors(#{ coarse: 2, coarse_exchange: "scaled" });
    /// let m = #{ A: 4 * 8e-12, Js: 1.61, K1: 4.2e6 };
    /// let c4 = solver::demag_curve(s.coarsen(2), #{ h_end: -2.0, material: m }).anchors();
    /// assert_close(a.coarse2_A4_Hc, c4.Hc, 1e-12, "exchange stiffness × 4 on 4 nm cells");
    /// let o = #{ coarse: 2, coarse_anisotropy: "averaged" };
    /// let own = s.descriptors(o).coarse2_avg_Hc;
    /// let image = s.transformed("mirror_x").descriptors(o).coarse2_avg_Hc;
    /// assert_close(own, image, 1e-4, "the same on a mirror image, to the solver's tolerance");
    /// ```
    #[rhai_fn(global, name = "descriptors", pure, return_raw)]
    pub fn descriptors_map_with(
        ctx: NativeCallContext,
        s: &mut SharedStructure,
        opts: Map,
    ) -> RResult<Map> {
        let f = "Structure.descriptors";
        let s: &Structure = s;
        crate::api::located(
            &ctx,
            (|| {
                let set = descriptor_set(f, opts)?;
                let values =
                    crate::grains::descriptor_rows(&set, 1, |_| Ok(s)).map_err(|e| error(f, e))?;
                Ok(set
                    .names()
                    .into_iter()
                    .zip(values.row(0).iter().copied())
                    .map(|(n, v)| (n.into(), Dynamic::from_float(v)))
                    .collect())
            })(),
        )
    }

    /// Descriptors of many structures as one array [n, descriptors] (columns in the order
    /// of `grains::descriptor_names()`), computed on all cores: `grains::descriptors(ds)`
    /// for a Dataset, a Sample or an array of Structures (one Structure: a 1-d row).
    #[rhai_fn(name = "descriptors", return_raw)]
    pub fn descriptors_table(ctx: NativeCallContext, source: Dynamic) -> RResult<NdArray> {
        descriptors_table_with(ctx, source, Map::new())
    }

    /// `grains::descriptors(src, #{ coarse: f, coarse_exchange, coarse_anisotropy })`: with the coarse-mesh
    /// anchors (see `s.descriptors(#{ coarse })`), one coarse curve per structure on all
    /// cores, through the curve cache, with a progress line.
    #[rhai_fn(name = "descriptors", return_raw)]
    pub fn descriptors_table_with(
        ctx: NativeCallContext,
        source: Dynamic,
        opts: Map,
    ) -> RResult<NdArray> {
        let f = "grains::descriptors";
        crate::api::located(
            &ctx,
            (|| {
                let set = descriptor_set(f, opts)?;
                let src = crate::api::structures::Structures::from_value(f, &source)?;
                let x = crate::grains::descriptor_rows(&set, src.len(), |i| src.get(i))
                    .map_err(|e| error(f, e))?;
                let shape = if src.single() {
                    vec![set.len()]
                } else {
                    vec![src.len(), set.len()]
                };
                Ok(NdArray::new(
                    x.into_dyn()
                        .into_shape_with_order(shape)
                        .expect("rows of equal length"),
                ))
            })(),
        )
    }

    /// The coarse-mesh curves behind `grains::descriptors(src, #{ coarse: f,
    /// coarse_exchange, coarse_anisotropy })`, one per structure, on all cores through the curve cache: to
    /// plot the second fidelity beside the label or count its evaluations.
    ///
    /// ```rhai
    /// let s = grains::voronoi(#{ n: 16, grains: 3, seed: 4 });
    /// let o = #{ coarse: 2, coarse_exchange: "scaled" };
    /// let c = grains::coarse_curves([s], o)[0];
    /// assert(c.h[c.h.len() - 1] < -1.99, "swept on to h = −2");
    /// assert_close(c.anchors().Hc, s.descriptors(o).coarse2_A4_Hc, 1e-12, "the same curve");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn coarse_curves(ctx: NativeCallContext, source: Dynamic, opts: Map) -> RResult<Array> {
        let f = "grains::coarse_curves";
        crate::api::located(
            &ctx,
            (|| {
                let Some(c) = descriptor_set(f, opts)?.coarse else {
                    return fail(f, "needs option `coarse: f` (2 … 8), the coarsening factor");
                };
                let src = crate::api::structures::Structures::from_value(f, &source)?;
                let curves = crate::grains::coarse_curves(c, src.len(), |i| src.get(i))
                    .map_err(|e| error(f, e))?;
                Ok(curves
                    .into_iter()
                    .map(|c| Dynamic::from(Arc::new(c)))
                    .collect())
            })(),
        )
    }

    /// Names of the descriptors, in column order.
    ///
    /// ```rhai
    /// let names = grains::descriptor_names();
    /// assert(names[0] == "cos2_mean" && names.len() == grains::voronoi(#{ n: 16, seed: 1 }).descriptors().len(), "one name per value");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn descriptor_names() -> RResult<Array> {
        names_of(Map::new())
    }

    /// Names with options `#{ coarse: f, coarse_exchange, coarse_anisotropy }` (see `s.descriptors(#{ coarse
    /// })`).
    #[rhai_fn(name = "descriptor_names", return_raw)]
    pub fn descriptor_names_with(ctx: NativeCallContext, opts: Map) -> RResult<Array> {
        crate::api::located(&ctx, names_of(opts))
    }

    /// Per anchor, the descriptor column of its Stoner–Wohlfarth estimate, `#{ M1: 9, … }`:
    /// `ensemble::train(x, y, #{ priors: grains::descriptor_priors() })` lets the trees
    /// learn the correction to it.
    ///
    /// ```rhai
    /// let p = grains::descriptor_priors();
    /// assert(grains::descriptor_names()[p.Mr] == "sw_Mr", "the Stoner–Wohlfarth Mr column");
    /// ```
    pub fn descriptor_priors() -> Map {
        crate::grains::anchor_priors()
            .into_iter()
            .map(|(a, k)| (a.into(), Dynamic::from_int(k as i64)))
            .collect()
    }

    /// What each descriptor measures: an array of `#{ name, unit, doc }`.
    #[rhai_fn(return_raw)]
    pub fn descriptor_info() -> RResult<Array> {
        info_of(Map::new())
    }

    /// `grains::descriptor_info(#{ coarse: f, coarse_exchange, coarse_anisotropy })`: with the coarse-mesh
    /// anchors.
    #[rhai_fn(name = "descriptor_info", return_raw)]
    pub fn descriptor_info_with(ctx: NativeCallContext, opts: Map) -> RResult<Array> {
        crate::api::located(&ctx, info_of(opts))
    }

    /// The network input: `"kx"` (sin ψ, shape [1, ny, nx], the paper's encoding) or
    /// `"axis"` (cos 2ψ and sin 2ψ, shape [2, ny, nx]: an easy axis is a line, not an arrow).
    #[rhai_fn(global, return_raw, pure)]
    pub fn encode(s: &mut SharedStructure, name: &str) -> RResult<NdArray> {
        Ok(to_nd(encoding("Structure.encode", name)?.encode(s)))
    }

    /// Writes a PNG coloured by k_x = sin ψ (−1 red … +1 blue), 4 pixels per cell.
    #[rhai_fn(global, name = "to_png", return_raw, pure)]
    pub fn to_png(s: &mut SharedStructure, path: &str) -> RResult<()> {
        s.write_png(path, &PngOptions::default())
            .map_err(error_in("Structure.to_png"))
    }

    /// Writes a PNG with options `#{ scale: 4, boundaries: true, scale_bar_nm: 50.0 }`.
    #[rhai_fn(global, name = "to_png", return_raw, pure)]
    pub fn to_png_with(s: &mut SharedStructure, path: &str, opts: Map) -> RResult<()> {
        let o = png_options("Structure.to_png", opts)?;
        s.write_png(path, &o).map_err(error_in("Structure.to_png"))
    }

    /// Writes CSV with columns `i, j, x_nm, y_nm, grain, angle_rad` (fidimag's cells.csv).
    #[rhai_fn(global, return_raw, pure)]
    pub fn to_csv(s: &mut SharedStructure, path: &str) -> RResult<()> {
        s.write_csv(path).map_err(error_in("Structure.to_csv"))
    }

    /// Writes the angle array ψ (radians, float64, [ny, nx]) as `.npy`.
    #[rhai_fn(global, return_raw, pure)]
    pub fn to_npy(s: &mut SharedStructure, path: &str) -> RResult<()> {
        s.write_npy(path).map_err(error_in("Structure.to_npy"))
    }

    /// Writes VTK XML image data (`.vti`, for ParaView or VisIt), coordinates in nm, with
    /// the cell arrays `grain` (id), `easy_axis` (k = (sin ψ, cos ψ, 0)) and `psi` (radians).
    #[rhai_fn(global, return_raw, pure)]
    pub fn to_vtk(s: &mut SharedStructure, path: &str) -> RResult<()> {
        s.write_vtk(path).map_err(error_in("Structure.to_vtk"))
    }

    /// Writes `.npz` with `grain` ([ny, nx] ids), `angle` (per grain) and `cell_nm`.
    #[rhai_fn(global, return_raw, pure)]
    pub fn to_npz(s: &mut SharedStructure, path: &str) -> RResult<()> {
        s.write_npz(path).map_err(error_in("Structure.to_npz"))
    }

    /// Saves the structure exactly (generated ones by their generating parameters).
    #[rhai_fn(global, return_raw, pure)]
    pub fn save(s: &mut SharedStructure, path: &str) -> RResult<()> {
        s.save(path).map_err(error_in("Structure.save"))
    }

    /// One-line description.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn structure_to_string(s: &mut SharedStructure) -> String {
        describe(s)
    }

    /// Whether two structures are identical cell by cell.
    #[rhai_fn(global, name = "==", pure)]
    pub fn structure_eq(a: &mut SharedStructure, b: SharedStructure) -> bool {
        **a == *b
    }

    /// Number of structures in the sample.
    #[rhai_fn(global, name = "len", get = "len", pure)]
    pub fn sample_len(s: &mut SharedSample) -> i64 {
        s.len() as i64
    }

    /// Structure `i` of the sample (negative counts from the end).
    #[rhai_fn(global, index_get, name = "get", return_raw, pure)]
    pub fn sample_get(s: &mut SharedSample, i: i64) -> RResult<SharedStructure> {
        let n = s.len();
        let Some(k) = crate::api::convert::from_end(i, n) else {
            return fail(
                "Sample.get",
                format!("index {i} out of range for {n} structures"),
            );
        };
        s.get(k).map(Arc::new).map_err(error_in("Sample.get"))
    }

    /// Encoded rasters of the given indices as one array [batch, channels, ny, nx].
    #[rhai_fn(global, return_raw, pure)]
    pub fn encode_many(s: &mut SharedSample, indices: Array, name: &str) -> RResult<NdArray> {
        let f = "Sample.encode_many";
        let enc = encoding(f, name)?;
        let idx = crate::api::convert::positions(f, "indices", &indices.into(), s.len())?;
        let a = s.encode_many(&idx, enc).map_err(error_in(f))?;
        Ok(NdArray::new(a.mapv(f64::from).into_dyn()))
    }

    /// One-line description.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn sample_to_string(s: &mut SharedSample) -> String {
        format!(
            "Sample({} structures of {}×{} cells, seed {})",
            s.len(),
            s.options().nx,
            s.options().ny,
            s.base_seed()
        )
    }
}

/// A 2-d field of an NdArray, for plotting.
pub fn field_of(func: &str, a: &NdArray) -> RResult<ndarray::Array2<f64>> {
    let a: ArrayD<f64> = (*a.0).clone();
    a.into_dimensionality::<ndarray::Ix2>()
        .map_err(|_| error(func, "expected a 2-d array [ny, nx]"))
}

pub fn module() -> Module {
    let mut m = exported_module!(grains_module);
    m.combine_flatten(exported_module!(super::clean::clean_module));
    m.set_custom_type::<SharedStructure>("Structure");
    m.set_custom_type::<SharedSample>("Sample");
    // `for s in sample { … }`: structures in order, each built when the loop reaches it.
    m.set_iter_result(std::any::TypeId::of::<SharedSample>(), |v| {
        let sample = v.cast::<SharedSample>();
        Box::new((0..sample.len()).map(move |k| {
            sample
                .get(k)
                .map(|s| Dynamic::from(Arc::new(s)))
                .map_err(error_in("Sample iteration"))
        }))
    });
    m
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_sample_iterates_in_order_and_serves_as_a_list_of_structures() {
        let engine = crate::engine::new_engine(None).unwrap();
        let same: bool = engine
            .eval(
                "let sample = grains::sample(4, #{ n: 8, seed: 5 });
                 let seen = [];
                 for s in sample { seen.push(s); }
                 let listed = [];
                 for i in 0..4 { listed.push(sample[i]); }
                 seen.len() == 4 && seen == listed",
            )
            .unwrap();
        assert!(same);
        let counts: rhai::Array = engine
            .eval(
                "let sample = grains::sample(2, #{ n: 4, grains: 1, seed: 1 });
                 let opts = #{ h_step: 0.5, demag: false };
                 let a = solver::demag_curves(sample, opts);
                 let b = solver::demag_curves([sample[0], sample[1]], opts);
                 [a.len(), a[1].my.equals(b[1].my), a[0].h.len()]",
            )
            .unwrap();
        assert_eq!(format!("{counts:?}"), "[2, true, 5]");
    }
}
