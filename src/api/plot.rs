//! The `plot` module: line plots, parity plots, scalar-field images and panels of them,
//! as PNG or SVG (chosen by the file extension), with a bundled font.

use super::array::vector;
use super::grains::SharedStructure;
use super::opts::Opts;
use super::{RResult, error, error_in, fail};
use crate::array::NdArray;
use crate::plot::{FieldImage, Figure, Legend, Plot, Series, Symbol, XyPlot};
use rhai::plugin::*;
use rhai::{Array, Map};

fn range(func: &str, v: Dynamic) -> RResult<(f64, f64)> {
    match vector(func, &v)?.as_slice() {
        [lo, hi] => Ok((*lo, *hi)),
        _ => fail(func, "a range must be [lo, hi]"),
    }
}

fn size(o: &mut Opts, default: (u32, u32)) -> RResult<(u32, u32)> {
    let w = o.int("width", default.0 as i64, 32, 8192)? as u32;
    let h = o.int("height", default.1 as i64, 32, 8192)? as u32;
    Ok((w, h))
}

fn map_of<'a>(func: &str, what: &str, v: &'a Dynamic) -> RResult<rhai::Map> {
    v.read_lock::<Map>().map(|m| m.clone()).ok_or_else(|| {
        error(
            func,
            format!("each {what} must be a map, got {}", crate::docs::type_of(v)),
        )
    })
}

/// Axis titles, title, ranges, legend and marks shared by line and parity plots.
fn xy_common(func: &'static str, mut p: XyPlot, o: &mut Opts) -> RResult<XyPlot> {
    if let Some(t) = o.string_opt("title")? {
        p = p.title(t);
    }
    let xl = o.string_opt("x_label")?.unwrap_or_default();
    let yl = o.string_opt("y_label")?.unwrap_or_default();
    p = p.labels(xl, yl);
    if let Some(r) = o.value("x_range") {
        let (lo, hi) = range(func, r)?;
        p = p.x_range(lo, hi);
    }
    if let Some(r) = o.value("y_range") {
        let (lo, hi) = range(func, r)?;
        p = p.y_range(lo, hi);
    }
    p = p.legend(
        match o.choice(
            "legend",
            &[
                "upper_left",
                "upper_right",
                "lower_left",
                "lower_right",
                "hidden",
            ],
        )? {
            "upper_right" => Legend::UpperRight,
            "lower_left" => Legend::LowerLeft,
            "lower_right" => Legend::LowerRight,
            "hidden" => Legend::Hidden,
            _ => Legend::UpperLeft,
        },
    );
    if let Some(marks) = o.value("marks") {
        let marks = marks
            .read_lock::<Array>()
            .map(|a| a.clone())
            .ok_or_else(|| error(func, "marks must be an array of #{ label, x, y }"))?;
        for m in &marks {
            let m = map_of(func, "mark", m)?;
            let mut mo = Opts::new(func, m);
            let label = mo.string_opt("label")?.unwrap_or_default();
            let x = mo.float("x", f64::NAN, f64::MIN, f64::MAX)?;
            let y = mo.float("y", f64::NAN, f64::MIN, f64::MAX)?;
            mo.finish()?;
            p = p.mark(label, x, y, Symbol::Diamond);
        }
    }
    Ok(p)
}

/// One coordinate list of series `k`: NaN stays (the plot leaves a gap), `()` — a missing
/// value from a map, e.g. an anchor — is refused with the series and index, since a silent
/// gap there would hide a bug in how the values were gathered.
fn coordinates(func: &str, label: &str, k: usize, axis: &str, v: &Dynamic) -> RResult<Vec<f64>> {
    let name = if label.is_empty() {
        format!("series {k}")
    } else {
        format!("series {k} (`{label}`)")
    };
    if let Some(a) = v.read_lock::<Array>() {
        if let Some(i) = a.iter().position(|x| x.is_unit()) {
            return fail(
                func,
                format!(
                    "{name}: {axis}[{i}] is () (a missing value); use NaN to leave a gap, or \
                     leave the point out"
                ),
            );
        }
    }
    vector(func, v).map_err(|e| {
        let msg = match *e {
            rhai::EvalAltResult::ErrorRuntime(ref d, _) => d.to_string(),
            ref other => other.to_string(),
        };
        let msg = msg.strip_prefix(&format!("{func}: ")).unwrap_or(&msg);
        error(func, format!("{name}: `{axis}`: {msg}"))
    })
}

/// `#{ x, y, label }` maps into series.
fn series(func: &'static str, items: &Array, points: bool) -> RResult<Vec<Series>> {
    items
        .iter()
        .enumerate()
        .map(|(k, item)| {
            let mut o = Opts::new(func, map_of(func, "series", item)?);
            let label = o.string_opt("label")?.unwrap_or_default();
            let mut get = |axis: &'static str| {
                let v = o
                    .value(axis)
                    .ok_or_else(|| error(func, format!("each series needs `{axis}`")))?;
                coordinates(func, &label, k, axis, &v)
            };
            let x = get("x")?;
            let y = get("y")?;
            let markers = o.bool("markers", false)?;
            o.finish()?;
            Ok(if points {
                Series::points(label, &x, &y)
            } else {
                Series::line(label, &x, &y).with_markers(markers)
            })
        })
        .collect()
}

/// A panel image of a 2-d array or of a structure (k_x with grain boundaries).
pub fn field_image(func: &str, v: &Dynamic) -> RResult<FieldImage> {
    if let Some(s) = v.read_lock::<SharedStructure>() {
        let kx = s
            .encode_kx()
            .index_axis(ndarray::Axis(0), 0)
            .mapv(f64::from);
        return FieldImage::new(kx.view())
            .colorbar_label("k_x")
            .grains(s.grain_array().view())
            .map_err(error_in(func));
    }
    if let Some(a) = v.read_lock::<NdArray>() {
        let f = super::grains::field_of(func, &a)?;
        return Ok(FieldImage::new(f.view()));
    }
    fail(
        func,
        format!(
            "expected a Structure or a 2-d NdArray, got {}",
            crate::docs::type_of(v)
        ),
    )
}

/// Colour range and colorbar label of field images.
struct FieldStyle {
    vmin: f64,
    vmax: f64,
    label: Option<String>,
}

impl FieldStyle {
    fn read(o: &mut Opts) -> RResult<FieldStyle> {
        Ok(FieldStyle {
            vmin: o.float("vmin", -1.0, f64::MIN, f64::MAX)?,
            vmax: o.float("vmax", 1.0, f64::MIN, f64::MAX)?,
            label: o.string_opt("label")?,
        })
    }

    fn apply(&self, img: FieldImage) -> FieldImage {
        let img = img.range(self.vmin, self.vmax);
        match &self.label {
            Some(l) => img.colorbar_label(l.clone()),
            None => img,
        }
    }
}

/// An x–y plot of `items` (lines, or points when `points`) on `base`, saved to `path`.
fn xy_series(
    f: &'static str,
    path: &str,
    items: &Array,
    opts: Map,
    base: XyPlot,
    points: bool,
    default_size: (u32, u32),
) -> RResult<()> {
    let mut o = Opts::new(f, opts);
    let mut p = xy_common(f, base, &mut o)?;
    for s in series(f, items, points)? {
        p = p.series(s);
    }
    let sz = size(&mut o, default_size)?;
    o.finish()?;
    p.save_sized(path, sz).map_err(error_in(f))
}

#[export_module]
pub mod plot_module {
    use super::*;

    /// Line plot of several series: `plot::lines("curve.png", [#{ x: h, y: m, label: "M" }],
    /// #{ title, x_label, y_label, x_range: [lo, hi], y_range, legend: "lower_right",
    /// marks: [#{ label: "Mr", x: 0.0, y: 0.96 }], width, height })`. A NaN point leaves a
    /// gap in its line; a `()` in `x` or `y` is an error naming the series and index
    /// (missing values: see `solver::anchor_names`).
    ///
    /// ```rhai
    /// let h = linspace(1.0, -1.0, 5);
    /// plot::lines("gap.svg", [#{ x: h, y: array([1.0, 0.9, 0.0 / 0.0, -0.9, -1.0]), label: "M" }], #{});
    /// ```
    #[rhai_fn(return_raw)]
    pub fn lines(ctx: NativeCallContext, path: &str, items: Array, opts: Map) -> RResult<()> {
        let f = "plot::lines";
        let sz = crate::plot::DEFAULT_SIZE;
        crate::api::located(
            &ctx,
            xy_series(f, path, &items, opts, XyPlot::new(), false, sz),
        )
    }

    /// Parity plot (predicted against computed) with the y = x line and equal ranges:
    /// `plot::parity("hc.png", [#{ x: computed, y: predicted, label: "test" }], #{ title })`.
    /// A point with a NaN coordinate (a missing anchor in a table) is left out; a `()` is an
    /// error naming the series and index, as in `plot::lines`.
    #[rhai_fn(return_raw)]
    pub fn parity(ctx: NativeCallContext, path: &str, items: Array, opts: Map) -> RResult<()> {
        let f = "plot::parity";
        let base = XyPlot::new().diagonal(true).equal_ranges(true);
        crate::api::located(
            &ctx,
            xy_series(f, path, &items, opts, base, true, (600, 600)),
        )
    }

    /// Scatter plot: unconnected points per series, e.g. Hc against Mr of a training set
    /// and of designs: `plot::scatter("pareto.png", [#{ x: mr, y: hc, label: "train" }],
    /// #{ title, x_label, y_label, x_range, y_range, legend })`. NaN points are left out.
    #[rhai_fn(return_raw)]
    pub fn scatter(ctx: NativeCallContext, path: &str, items: Array, opts: Map) -> RResult<()> {
        let f = "plot::scatter";
        let sz = crate::plot::DEFAULT_SIZE;
        crate::api::located(
            &ctx,
            xy_series(f, path, &items, opts, XyPlot::new(), true, sz),
        )
    }

    /// Image of a 2-d field [ny, nx] (row 0 at the bottom) or of a structure (k_x with
    /// grain boundaries) in the paper's colormap (red −1 … blue +1) with a colorbar:
    /// `plot::field("kx.png", s, #{ title, vmin: -1.0, vmax: 1.0, label: "k_x" })`.
    #[rhai_fn(return_raw)]
    pub fn field(ctx: NativeCallContext, path: &str, value: Dynamic, opts: Map) -> RResult<()> {
        let f = "plot::field";
        crate::api::located(
            &ctx,
            (|| {
                let mut o = Opts::new(f, opts);
                let mut img = FieldStyle::read(&mut o)?.apply(field_image(f, &value)?);
                if let Some(t) = o.string_opt("title")? {
                    img = img.title(t);
                }
                let sz = size(&mut o, (640, 560))?;
                o.finish()?;
                img.save_sized(path, sz).map_err(error_in(f))
            })(),
        )
    }

    /// A grid of field images (structures or 2-d arrays), like the paper's Figure 6:
    /// `plot::fields("gallery.png", [s1, s2, s3], #{ cols: 3, titles: ["a", "b", "c"], title })`.
    #[rhai_fn(return_raw)]
    pub fn fields(ctx: NativeCallContext, path: &str, items: Array, opts: Map) -> RResult<()> {
        let f = "plot::fields";
        crate::api::located(
            &ctx,
            (|| {
                if items.is_empty() {
                    return fail(f, "no fields to draw");
                }
                let mut o = Opts::new(f, opts);
                let cols = o.int("cols", items.len().min(3) as i64, 1, 64)? as usize;
                let titles: Vec<String> = match o.value("titles") {
                    Some(t) => t
                        .read_lock::<Array>()
                        .ok_or_else(|| error(f, "titles must be an array of strings"))?
                        .iter()
                        .map(|x| x.to_string())
                        .collect(),
                    None => vec![],
                };
                let rows = items.len().div_ceil(cols);
                let mut fig = Figure::new(rows, cols);
                if let Some(t) = o.string_opt("title")? {
                    fig = fig.title(t);
                }
                let style = FieldStyle::read(&mut o)?;
                for (k, item) in items.iter().enumerate() {
                    let mut img = style.apply(field_image(f, item)?);
                    if let Some(t) = titles.get(k) {
                        img = img.title(t.clone());
                    }
                    fig = fig.panel(img);
                }
                let sz = size(&mut o, (cols as u32 * 360, rows as u32 * 320 + 48))?;
                o.finish()?;
                fig.save_sized(path, sz).map_err(error_in(f))
            })(),
        )
    }

    /// A strip like the paper's Figures 6–8: one column per map `#{ image, anchors, curve,
    /// title }` — the image (a Structure or a 2-d array) above a demagnetisation panel with
    /// the anchors (e.g. predicted) marked and joined, over the computed `curve` if given:
    /// `plot::strip("morph.png", [#{ image: s, anchors: a, title: "α = 0" }], #{ title })`.
    #[rhai_fn(return_raw)]
    pub fn strip(ctx: NativeCallContext, path: &str, columns: Array, opts: Map) -> RResult<()> {
        let f = "plot::strip";
        crate::api::located(
            &ctx,
            (|| {
                if columns.is_empty() || columns.len() > 64 {
                    return fail(f, "between 1 and 64 columns");
                }
                let mut o = Opts::new(f, opts);
                let title = o.string_opt("title")?;
                let n = columns.len();
                let sz = size(&mut o, (n as u32 * 300, 620))?;
                o.finish()?;
                let (mut images, mut curves) = (vec![], vec![]);
                for c in &columns {
                    let mut co = Opts::new(f, map_of(f, "column", c)?);
                    let img = co
                        .value("image")
                        .ok_or_else(|| error(f, "each column needs `image`"))?;
                    let t = co.string_opt("title")?.unwrap_or_default();
                    let a = match co.value("anchors") {
                        Some(a) => {
                            crate::api::solver::anchors_from_map(f, &map_of(f, "anchors", &a)?)?
                        }
                        None => Default::default(),
                    };
                    let curve = co
                        .value("curve")
                        .map(|c| {
                            c.read_lock::<crate::api::solver::SharedCurve>()
                                .map(|c| c.clone())
                                .ok_or_else(|| error(f, "`curve` must be a Curve"))
                        })
                        .transpose()?;
                    co.finish()?;
                    images.push(field_image(f, &img)?.title(t));
                    // A column with neither anchors nor a curve leaves its lower cell blank.
                    curves.push(if curve.is_none() && a.points().is_empty() {
                        crate::plot::Panel::Empty
                    } else {
                        crate::plot::anchors_plot("", curve.as_deref(), &a, true).into()
                    });
                }
                let mut fig = Figure::new(2, n);
                if let Some(t) = title {
                    fig = fig.title(t);
                }
                for p in images {
                    fig = fig.panel(p);
                }
                for p in curves {
                    fig = fig.panel(p);
                }
                fig.save_sized(path, sz).map_err(error_in(f))
            })(),
        )
    }
}

pub fn module() -> Module {
    exported_module!(plot_module)
}

#[cfg(test)]
mod tests {
    #[test]
    fn lines_leave_gaps_at_nan_and_name_the_series_and_index_of_a_unit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.svg");
        let p = path.to_str().unwrap();
        let engine = crate::engine::new_engine(None).unwrap();
        engine
            .run(&format!(
                "plot::lines({p:?}, [#{{ x: [1, 2, 3], y: [1.0, 0.0 / 0.0, 3.0], label: \"M\" }}], #{{}})"
            ))
            .unwrap();
        assert!(path.exists());
        for (items, msg) in [
            (
                "[#{ x: [1, 2], y: [1, 2] }, #{ x: [1, 2, 3], y: [0.5, (), 1], label: \"Hc\" }]",
                "plot::lines: series 1 (`Hc`): y[1] is () (a missing value)",
            ),
            (
                "[#{ x: [(), 2], y: [1, 2] }]",
                "plot::lines: series 0: x[0] is ()",
            ),
            (
                "[#{ x: [1, 2], y: \"no\", label: \"M\" }]",
                "plot::lines: series 0 (`M`): `y`: expected an NdArray or an array of numbers, got string",
            ),
        ] {
            let e = engine
                .run(&format!("plot::lines({p:?}, {items}, #{{}})"))
                .unwrap_err()
                .to_string();
            assert!(e.contains(msg), "{e}");
        }
    }
}
