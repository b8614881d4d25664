//! The `NdArray` type in scripts: construction, arithmetic with broadcasting, indexing,
//! elementwise maths, comparisons, reductions (whole or along an axis) and conversion to
//! and from Rhai arrays.
//!
//! Comparisons (`a > 0.5`, `a == b`) are elementwise, as in numpy, and give a *mask*: an
//! ordinary NdArray of 1.0 (true) and 0.0 (false), so `mask.sum()` counts and `a * mask`
//! zeroes. `where`, `filter`, `any`, `all` and `count_nonzero` read masks; whole-array
//! equality is `array_equal(a, b)` (or `a.equals(b)`). NaN propagates through arithmetic,
//! maths and `min`/`max`; the `nan*` reductions skip it.

use super::{RResult, error, fail};
use crate::array::{NdArray, arg_extreme, resolve_axis, truth};
use ndarray::{ArrayD, ArrayView1, Axis, IxDyn};
use rhai::plugin::*;
use rhai::{Array, FnPtr, FuncRegistration, Module};

/// Reads a (nested, rectangular) Rhai array of numbers.
pub fn from_rhai(func: &str, values: &Array) -> RResult<NdArray> {
    fn walk(
        func: &str,
        v: &Dynamic,
        depth: usize,
        shape: &mut Vec<usize>,
        out: &mut Vec<f64>,
    ) -> RResult<()> {
        if let Some(arr) = v.read_lock::<Array>() {
            match shape.get(depth) {
                None => shape.push(arr.len()),
                Some(&n) if n != arr.len() => {
                    return fail(
                        func,
                        format!(
                            "ragged nested array: a row of {} where {n} was expected",
                            arr.len()
                        ),
                    );
                }
                _ => {}
            }
            for x in arr.iter() {
                walk(func, x, depth + 1, shape, out)?;
            }
            return Ok(());
        }
        if depth != shape.len() {
            return fail(
                func,
                "ragged nested array: a number where a row was expected",
            );
        }
        out.push(number(func, v)?);
        Ok(())
    }
    let mut shape = Vec::new();
    let mut out = Vec::new();
    walk(
        func,
        &Dynamic::from_array(values.clone()),
        0,
        &mut shape,
        &mut out,
    )?;
    ArrayD::from_shape_vec(IxDyn(&shape), out)
        .map(NdArray::new)
        .map_err(super::error_in(func))
}

/// An int or float as f64.
pub fn number(func: &str, v: &Dynamic) -> RResult<f64> {
    v.as_float()
        .ok()
        .or_else(|| v.as_int().ok().map(|i| i as f64))
        .ok_or_else(|| {
            error(
                func,
                format!("expected a number, got {} ({v})", crate::docs::type_of(v)),
            )
        })
}

/// A shape given as `[2, 3]` or as a single integer.
pub fn shape_of(func: &str, shape: &Dynamic) -> RResult<Vec<usize>> {
    const MAX_ELEMENTS: usize = 1 << 28;
    let dims: Vec<i64> = if let Ok(n) = shape.as_int() {
        vec![n]
    } else if let Some(a) = shape.read_lock::<Array>() {
        a.iter()
            .map(|d| {
                d.as_int()
                    .map_err(|_| error(func, "shape must be a list of integers"))
            })
            .collect::<RResult<_>>()?
    } else {
        return fail(
            func,
            format!(
                "shape must be an integer or a list of integers, got {}",
                crate::docs::type_of(shape)
            ),
        );
    };
    let mut total: usize = 1;
    let mut out = Vec::new();
    for d in dims {
        if !(0..=MAX_ELEMENTS as i64).contains(&d) {
            return fail(
                func,
                format!("shape entries must be in 0..={MAX_ELEMENTS}, got {d}"),
            );
        }
        total = total.saturating_mul(d as usize);
        out.push(d as usize);
    }
    if total > MAX_ELEMENTS {
        return fail(
            func,
            format!("{total} elements is more than the {MAX_ELEMENTS} allowed"),
        );
    }
    crate::memory::check(&format!("an array of {total} numbers"), total as u128 * 8)
        .map_err(|e| error(func, e))?;
    Ok(out)
}

/// Resolves a possibly negative index along an axis of length `n`.
fn resolve(func: &str, i: i64, n: usize) -> RResult<usize> {
    crate::api::convert::from_end(i, n)
        .ok_or_else(|| error(func, format!("index {i} out of range for length {n}")))
}

/// A map of named 1-D arrays, as natives hand results to scripts (and `io::save_npz`).
pub fn columns<const N: usize>(cols: [(&str, Vec<f64>); N]) -> rhai::Map {
    cols.into_iter()
        .map(|(name, v)| (name.into(), Dynamic::from(NdArray::from_vec(v))))
        .collect()
}

pub fn to_dynamic(a: ArrayD<f64>) -> Dynamic {
    if a.ndim() == 0 {
        Dynamic::from_float(a[IxDyn(&[])])
    } else {
        Dynamic::from(NdArray::new(a))
    }
}

fn reduce(func: &str, a: &NdArray, f: impl Fn(&ArrayD<f64>) -> f64) -> RResult<f64> {
    if a.is_empty() {
        return fail(func, "the array is empty");
    }
    Ok(f(&a.0))
}

/// The extreme of `values` under `pick` (f64::min or f64::max), NaN if any value is NaN
/// or there is none.
fn extreme(values: impl Iterator<Item = f64>, pick: fn(f64, f64) -> f64) -> f64 {
    let mut acc: Option<f64> = None;
    for v in values {
        if v.is_nan() {
            return f64::NAN;
        }
        acc = Some(acc.map_or(v, |a| pick(a, v)));
    }
    acc.unwrap_or(f64::NAN)
}

fn not_nan(x: &ArrayD<f64>) -> impl Iterator<Item = f64> + '_ {
    x.iter().copied().filter(|v| !v.is_nan())
}

/// The error for an axis a shape does not have, with the range that would do.
fn bad_axis(func: &str, axis: i64, ndim: usize) -> Box<EvalAltResult> {
    if ndim == 0 {
        return error(func, format!("axis {axis}: a 0-d array has no axes"));
    }
    error(
        func,
        format!(
            "axis {axis} is out of range for {ndim} dimension{} (0..{ndim}, or -{ndim}..-1 from the end)",
            if ndim == 1 { "" } else { "s" }
        ),
    )
}

fn axis_of(func: &str, a: &NdArray, axis: i64) -> RResult<usize> {
    resolve_axis(axis, a.0.ndim()).ok_or_else(|| bad_axis(func, axis, a.0.ndim()))
}

/// `f` over the lanes along `axis`; the result has that axis dropped (a number for a 1-d
/// array). `empty_ok`: whether a lane of length 0 has a value (a sum does, a min does not).
fn along(
    func: &str,
    a: &NdArray,
    axis: i64,
    empty_ok: bool,
    f: impl Fn(ArrayView1<f64>) -> f64,
) -> RResult<Dynamic> {
    let k = axis_of(func, a, axis)?;
    if !empty_ok && a.shape()[k] == 0 {
        return fail(func, format!("axis {axis} has length 0: nothing to reduce"));
    }
    Ok(to_dynamic(a.reduce_axis(k, f)))
}

fn lane_mean(l: ArrayView1<f64>) -> f64 {
    l.sum() / l.len() as f64
}

fn lane_std(l: ArrayView1<f64>) -> f64 {
    let m = lane_mean(l.view());
    (l.iter().map(|v| (v - m).powi(2)).sum::<f64>() / l.len() as f64).sqrt()
}

/// nanargmin/nanargmax: the first smallest (`less`) or largest element that is not NaN.
fn nan_arg_extreme(f: &str, a: &NdArray, less: bool) -> RResult<i64> {
    let mut best: Option<(usize, f64)> = None;
    for (k, &v) in a.0.iter().enumerate() {
        if !v.is_nan() && best.is_none_or(|(_, b)| if less { v < b } else { v > b }) {
            best = Some((k, v));
        }
    }
    best.map(|(k, _)| k as i64)
        .ok_or_else(|| error(f, "every element is NaN (or the array is empty)"))
}

/// argmin/argmax along an axis: an int for a 1-d array, else an array of indices.
fn arg_along(func: &str, a: &NdArray, axis: i64, less: bool) -> RResult<Dynamic> {
    let k = axis_of(func, a, axis)?;
    if a.shape()[k] == 0 {
        return fail(
            func,
            format!("axis {axis} has length 0: no element to pick"),
        );
    }
    let idx = a.reduce_axis(k, |l| {
        arg_extreme(l.iter().copied(), less).unwrap_or(0) as f64
    });
    Ok(if idx.ndim() == 0 {
        Dynamic::from_int(idx[IxDyn(&[])] as i64)
    } else {
        Dynamic::from(NdArray::new(idx))
    })
}

/// A number as a 0-d array, or an NdArray, for functions that broadcast either.
fn operand(func: &str, what: &str, v: &Dynamic) -> RResult<NdArray> {
    if let Some(a) = v.read_lock::<NdArray>() {
        return Ok(a.clone());
    }
    number(func, v)
        .map(|x| NdArray::new(ArrayD::from_elem(IxDyn(&[]), x)))
        .map_err(|_| {
            error(
                func,
                format!(
                    "{what} must be a number or an NdArray, got {}",
                    crate::docs::type_of(&v)
                ),
            )
        })
}

/// NdArrays from a Rhai array of them, for joins.
fn arrays_of(func: &str, parts: &Array) -> RResult<Vec<NdArray>> {
    let arrays = crate::api::convert::items(func, "parts", "an NdArray", parts)?;
    if arrays.is_empty() {
        return fail(func, "nothing to join");
    }
    Ok(arrays)
}

/// numpy truthiness: anything but 0 is true (NaN too).
fn nonzero(x: f64) -> bool {
    x != 0.0
}

#[export_module]
pub mod array_module {
    use super::*;

    /// Builds an array from a (nested) Rhai array of numbers: `array([[1, 2], [3, 4]])`.
    #[rhai_fn(return_raw)]
    pub fn array(values: Array) -> RResult<NdArray> {
        from_rhai("array", &values)
    }

    /// An array of zeros: `zeros([2, 3])` or `zeros(5)`.
    ///
    /// ```rhai
    /// let z = zeros([2, 3]);
    /// assert(z.shape == [2, 3] && z.sum() == 0.0, "a 2 × 3 array of zeros");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn zeros(shape: Dynamic) -> RResult<NdArray> {
        Ok(NdArray::new(ArrayD::zeros(IxDyn(&shape_of(
            "zeros", &shape,
        )?))))
    }

    /// An array of ones: `ones([2, 3])` or `ones(5)`.
    #[rhai_fn(return_raw)]
    pub fn ones(shape: Dynamic) -> RResult<NdArray> {
        Ok(NdArray::new(ArrayD::ones(IxDyn(&shape_of(
            "ones", &shape,
        )?))))
    }

    /// `n` evenly spaced numbers from `start` to `end` inclusive: `linspace(1.0, -1.0, 201)`.
    ///
    /// ```rhai
    /// let h = linspace(1.0, -1.0, 5);
    /// assert(h.len() == 5, "five points");
    /// assert_close(h.to_array()[1], 0.5, 1e-12, "steps of -0.5");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn linspace(start: f64, end: f64, n: i64) -> RResult<NdArray> {
        let n = super::super::to_usize("linspace", "n", n, 1, 1 << 28)?;
        if !start.is_finite() || !end.is_finite() {
            return fail("linspace", "start and end must be finite");
        }
        Ok(NdArray::from_vec(
            ndarray::Array1::linspace(start, end, n).to_vec(),
        ))
    }

    /// Standard normal samples of the given shape from an explicit seed:
    /// `randn(512, 7)` (a random latent code). `randn(shape)` draws from the session's
    /// stream instead (see `rand`).
    ///
    /// ```rhai
    /// let a = randn([1000], 7);
    /// assert(array_equal(a, randn([1000], 7)), "the same seed draws the same numbers");
    /// assert(a.mean().abs() < 0.1 && (a.std() - 1.0).abs() < 0.1, "standard normal");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn randn(shape: Dynamic, seed: i64) -> RResult<NdArray> {
        use ndarray_rand::RandomExt;
        use rand::SeedableRng;
        let shape = shape_of("randn", &shape)?;
        let seed = crate::api::convert::seed("randn", "seed", seed)?;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        Ok(NdArray::new(ArrayD::random_using(
            IxDyn(&shape),
            rand_distr::StandardNormal,
            &mut rng,
        )))
    }

    /// The shape as a list of integers.
    #[rhai_fn(get = "shape", pure)]
    pub fn shape(a: &mut NdArray) -> Array {
        a.shape()
            .iter()
            .map(|&d| Dynamic::from_int(d as i64))
            .collect()
    }

    /// Number of dimensions.
    #[rhai_fn(get = "ndim", pure)]
    pub fn ndim(a: &mut NdArray) -> i64 {
        a.0.ndim() as i64
    }

    /// Total number of elements.
    #[rhai_fn(name = "len", get = "len", pure)]
    pub fn len(a: &mut NdArray) -> i64 {
        a.len() as i64
    }

    /// Element `i` of a 1-d array, or slice `i` along the first axis; negative `i` counts
    /// from the end.
    #[rhai_fn(index_get, return_raw, pure)]
    pub fn index(a: &mut NdArray, i: i64) -> RResult<Dynamic> {
        if a.0.ndim() == 0 {
            return fail("NdArray[i]", "a 0-d array cannot be indexed");
        }
        let k = resolve("NdArray[i]", i, a.shape()[0])?;
        Ok(to_dynamic(a.0.index_axis(Axis(0), k).to_owned()))
    }

    /// Element at a full index: `a[[j, i]]`.
    #[rhai_fn(index_get, return_raw, pure)]
    pub fn index_multi(a: &mut NdArray, idx: Array) -> RResult<f64> {
        Ok(a.0[IxDyn(&multi_index(a, &idx)?)])
    }

    /// Sets element `i` of a 1-d array.
    #[rhai_fn(index_set, return_raw)]
    pub fn set_index(a: &mut NdArray, i: i64, value: f64) -> RResult<()> {
        if a.0.ndim() != 1 {
            return fail(
                "NdArray[i] = x",
                format!(
                    "needs a 1-d array (use a[[j, i]] for {} dimensions)",
                    a.0.ndim()
                ),
            );
        }
        let k = resolve("NdArray[i] = x", i, a.len())?;
        std::sync::Arc::make_mut(&mut a.0)[k] = value;
        Ok(())
    }

    /// Sets the element at a full index: `a[[j, i]] = 0.5`.
    #[rhai_fn(index_set, return_raw)]
    pub fn set_index_multi(a: &mut NdArray, idx: Array, value: f64) -> RResult<()> {
        let ix = multi_index(a, &idx)?;
        std::sync::Arc::make_mut(&mut a.0)[IxDyn(&ix)] = value;
        Ok(())
    }

    /// Sum of all elements.
    #[rhai_fn(pure)]
    pub fn sum(a: &mut NdArray) -> f64 {
        a.sum()
    }

    /// Mean of all elements.
    #[rhai_fn(return_raw, pure)]
    pub fn mean(a: &mut NdArray) -> RResult<f64> {
        reduce("mean", a, |x| x.sum() / x.len() as f64)
    }

    /// Smallest element; NaN if any element is NaN (as numpy; `nanmin` skips NaN).
    #[rhai_fn(return_raw, pure)]
    pub fn min(a: &mut NdArray) -> RResult<f64> {
        reduce("min", a, |x| extreme(x.iter().copied(), f64::min))
    }

    /// Largest element; NaN if any element is NaN (as numpy; `nanmax` skips NaN).
    #[rhai_fn(return_raw, pure)]
    pub fn max(a: &mut NdArray) -> RResult<f64> {
        reduce("max", a, |x| extreme(x.iter().copied(), f64::max))
    }

    /// Smallest element that is not NaN (NaN when all are).
    #[rhai_fn(return_raw, pure)]
    pub fn nanmin(a: &mut NdArray) -> RResult<f64> {
        reduce("nanmin", a, |x| extreme(not_nan(x), f64::min))
    }

    /// Largest element that is not NaN (NaN when all are).
    #[rhai_fn(return_raw, pure)]
    pub fn nanmax(a: &mut NdArray) -> RResult<f64> {
        reduce("nanmax", a, |x| extreme(not_nan(x), f64::max))
    }

    /// Sum of the elements that are not NaN (0 when all are).
    #[rhai_fn(pure)]
    pub fn nansum(a: &mut NdArray) -> f64 {
        not_nan(&a.0).sum()
    }

    /// Mean of the elements that are not NaN (NaN when all are).
    #[rhai_fn(return_raw, pure)]
    pub fn nanmean(a: &mut NdArray) -> RResult<f64> {
        reduce("nanmean", a, |x| {
            let n = not_nan(x).count();
            not_nan(x).sum::<f64>() / n as f64
        })
    }

    /// Standard deviation of all elements (population, ddof = 0).
    #[rhai_fn(return_raw, pure)]
    pub fn std(a: &mut NdArray) -> RResult<f64> {
        reduce("std", a, |x| {
            let m = x.sum() / x.len() as f64;
            (x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
        })
    }

    /// Euclidean norm of all elements.
    #[rhai_fn(pure)]
    pub fn norm(a: &mut NdArray) -> f64 {
        a.norm()
    }

    /// Inner product of two arrays of equal shape (flattened).
    ///
    /// ```rhai
    /// assert(dot(array([1, 2, 3]), array([4, 5, 6])) == 32.0, "1·4 + 2·5 + 3·6");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn dot(a: &mut NdArray, b: NdArray) -> RResult<f64> {
        if a.shape() != b.shape() {
            return fail(
                "dot",
                format!("shapes differ: {:?} vs {:?}", a.shape(), b.shape()),
            );
        }
        Ok(a.0.iter().zip(b.0.iter()).map(|(x, y)| x * y).sum())
    }

    /// The same elements in a new shape: `a.reshape([ny, nx])`.
    #[rhai_fn(return_raw, pure)]
    pub fn reshape(a: &mut NdArray, shape: Dynamic) -> RResult<NdArray> {
        let s = shape_of("reshape", &shape)?;
        let v: Vec<f64> = a.0.iter().copied().collect();
        ArrayD::from_shape_vec(IxDyn(&s), v)
            .map(NdArray::new)
            .map_err(|_| {
                error(
                    "reshape",
                    format!(
                        "cannot reshape {:?} ({} elements) into {s:?}",
                        a.shape(),
                        a.len()
                    ),
                )
            })
    }

    /// Joins arrays along an existing axis (negative counts from the end); every other
    /// dimension must agree: `concat([codes, descriptors], 1)` puts columns side by side.
    ///
    /// ```rhai
    /// let a = concat([zeros([2, 3]), ones([2, 1])], -1);
    /// assert(a.shape == [2, 4] && a.sum() == 2.0, "a column of ones appended");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn concat(parts: Array, axis: i64) -> RResult<NdArray> {
        let f = "concat";
        let arrays = arrays_of(f, &parts)?;
        let k = axis_of(f, &arrays[0], axis)?;
        let views: Vec<_> = arrays.iter().map(|a| a.0.view()).collect();
        ndarray::concatenate(Axis(k), &views)
            .map(NdArray::new)
            .map_err(|_| {
                let shapes: Vec<_> = arrays.iter().map(|a| a.shape().to_vec()).collect();
                error(f, format!("shapes {shapes:?} differ off axis {axis}"))
            })
    }

    /// Joins arrays of one shape along a new axis `axis` (0..=ndim, negative from the
    /// end), numpy's `stack`: `stack([a, b], 0)` makes rows of them.
    ///
    /// ```rhai
    /// let rows = stack([linspace(0.0, 1.0, 3), zeros(3)], 0);
    /// assert(rows.shape == [2, 3], "two rows");
    /// assert(stack([zeros(3), zeros(3)], -1).shape == [3, 2], "two columns");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn stack(parts: Array, axis: i64) -> RResult<NdArray> {
        let f = "stack";
        let arrays = arrays_of(f, &parts)?;
        let ndim = arrays[0].0.ndim() + 1;
        let k = resolve_axis(axis, ndim).ok_or_else(|| bad_axis(f, axis, ndim))?;
        let views: Vec<_> = arrays.iter().map(|a| a.0.view()).collect();
        ndarray::stack(Axis(k), &views)
            .map(NdArray::new)
            .map_err(|_| {
                let shapes: Vec<_> = arrays.iter().map(|a| a.shape().to_vec()).collect();
                error(
                    f,
                    format!("shapes {shapes:?} differ: stack needs equal shapes"),
                )
            })
    }

    /// The axes reversed (a matrix transposed): `a.transpose()` or `a.T`.
    ///
    /// ```rhai
    /// let a = array([[1, 2, 3], [4, 5, 6]]);
    /// assert(a.T.shape == [3, 2] && a.T[[2, 0]] == 3.0, "rows become columns");
    /// ```
    #[rhai_fn(name = "transpose", get = "T", pure)]
    pub fn transpose(a: &mut NdArray) -> NdArray {
        a.transpose()
    }

    /// All elements as a 1-d array (row-major order).
    #[rhai_fn(pure)]
    pub fn flatten(a: &mut NdArray) -> NdArray {
        NdArray::from_vec(a.0.iter().copied().collect())
    }

    /// Elements `start..end` of a 1-d array (negative counts from the end).
    #[rhai_fn(return_raw, pure)]
    pub fn slice(a: &mut NdArray, start: i64, end: i64) -> RResult<NdArray> {
        if a.0.ndim() != 1 {
            return fail(
                "slice",
                format!("needs a 1-d array, got {} dimensions", a.0.ndim()),
            );
        }
        let n = a.len() as i64;
        let clamp = |i: i64| (if i < 0 { i + n } else { i }).clamp(0, n) as usize;
        let (s, e) = (clamp(start), clamp(end));
        Ok(NdArray::from_vec(if s < e {
            a.0.iter().skip(s).take(e - s).copied().collect()
        } else {
            vec![]
        }))
    }

    /// A (nested) Rhai array with the same numbers.
    #[rhai_fn(pure)]
    pub fn to_array(a: &mut NdArray) -> Array {
        fn rec(v: ndarray::ArrayViewD<f64>) -> Dynamic {
            if v.ndim() == 0 {
                return Dynamic::from_float(v[IxDyn(&[])]);
            }
            Dynamic::from_array(v.axis_iter(Axis(0)).map(rec).collect())
        }
        if a.0.ndim() == 0 {
            return vec![Dynamic::from_float(a.0[IxDyn(&[])])];
        }
        a.0.axis_iter(Axis(0)).map(rec).collect()
    }

    /// Numpy-style text of the array.
    #[rhai_fn(name = "to_string", name = "to_debug", pure)]
    pub fn to_string(a: &mut NdArray) -> String {
        a.to_string()
    }

    /// Whether two arrays have the same shape and the same elements (numpy's
    /// `array_equal`; NaN equals nothing): `array_equal(a, b)` or `a.equals(b)`. `a == b`
    /// compares elementwise and gives a mask.
    ///
    /// ```rhai
    /// let a = array([1, 2]);
    /// assert(array_equal(a, array([1.0, 2.0])) && !a.equals(array([1, 2, 3])), "shape and values");
    /// ```
    #[rhai_fn(name = "array_equal", name = "equals", pure)]
    pub fn array_equal(a: &mut NdArray, b: NdArray) -> bool {
        *a == b
    }

    /// Elementwise power: `pow(a, 2)` or `pow(a, p)` with an array `p` broadcast against
    /// `a`; also `a ** p`.
    ///
    /// ```rhai
    /// let a = array([1, 2, 3]);
    /// assert(array_equal(pow(a, 2), array([1, 4, 9])), "squares");
    /// assert(array_equal(a ** array([0, 1, 2]), array([1, 2, 9])), "per element");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn pow(a: &mut NdArray, p: Dynamic) -> RResult<NdArray> {
        let p = operand("pow", "the exponent", &p)?;
        a.zip_with(&p, f64::powf).ok_or_else(|| {
            error(
                "pow",
                format!(
                    "shapes {:?} and {:?} do not broadcast",
                    a.shape(),
                    p.shape()
                ),
            )
        })
    }

    /// Elementwise limit to [lo, hi] (NaN stays NaN): `m.clip(-1.0, 1.0)`.
    ///
    /// ```rhai
    /// assert(array_equal(array([-3, 0.5, 3]).clip(-1.0, 1.0), array([-1, 0.5, 1])), "limited");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn clip(a: &mut NdArray, lo: Dynamic, hi: Dynamic) -> RResult<NdArray> {
        let (lo, hi) = (number("clip", &lo)?, number("clip", &hi)?);
        if !(lo <= hi) {
            return fail("clip", format!("needs lo ≤ hi, got {lo} and {hi}"));
        }
        Ok(a.map(|x| x.clamp(lo, hi)))
    }

    /// `f` applied to every element (which must give a number), shape kept:
    /// `a.map(|x| if x > 0.0 { x } else { 0.0 })`.
    ///
    /// ```rhai
    /// let a = array([[1, -2], [-3, 4]]).map(|x| x * x);
    /// assert(a.shape == [2, 2] && a.sum() == 30.0, "squares, same shape");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn map(ctx: NativeCallContext, a: &mut NdArray, f: FnPtr) -> RResult<NdArray> {
        let mut out = Vec::with_capacity(a.len());
        for &x in a.0.iter() {
            let y: Dynamic = f.call_within_context(&ctx, (Dynamic::from_float(x),))?;
            out.push(number("NdArray.map", &y).map_err(|_| {
                error(
                    "NdArray.map",
                    format!(
                        "the function must return a number, got {} for {}",
                        crate::docs::type_of(&y),
                        crate::array::fmt_g(x)
                    ),
                )
            })?);
        }
        ArrayD::from_shape_vec(IxDyn(a.shape()), out)
            .map(NdArray::new)
            .map_err(crate::api::error_in("NdArray.map"))
    }

    // Masks.

    /// numpy.where: elements of `a` where `mask` is nonzero, else of `b`; `a` and `b` are
    /// arrays or numbers, all three broadcast together: `where(m > 0.0, m, 0.0)`.
    ///
    /// ```rhai
    /// let m = array([0.5, -0.2, 1.0]);
    /// assert(array_equal(where(m > 0.0, m, 0.0), array([0.5, 0, 1])), "negatives zeroed");
    /// ```
    #[rhai_fn(name = "where", return_raw)]
    pub fn where_(mask: NdArray, a: Dynamic, b: Dynamic) -> RResult<NdArray> {
        let f = "where";
        let (x, y) = (operand(f, "a", &a)?, operand(f, "b", &b)?);
        NdArray::choose(&mask, &x, &y).ok_or_else(|| {
            error(
                f,
                format!(
                    "shapes {:?} (mask), {:?} and {:?} do not broadcast",
                    mask.shape(),
                    x.shape(),
                    y.shape()
                ),
            )
        })
    }

    /// The elements where a mask of the same shape is 1, as a 1-d array (numpy's
    /// `a[mask]`): `h.filter(m > 0.0)`. The mask must hold only 0 and 1, as comparisons
    /// make them.
    ///
    /// ```rhai
    /// let h = linspace(1.0, -1.0, 5);
    /// assert(array_equal(h.filter(h < 0.0), array([-0.5, -1])), "the negative fields");
    /// ```
    #[rhai_fn(name = "filter", return_raw, pure)]
    pub fn filter_mask(a: &mut NdArray, mask: NdArray) -> RResult<NdArray> {
        let f = "NdArray.filter";
        if !mask.is_mask() {
            return fail(
                f,
                "the mask must hold only 0 and 1 (comparisons like `a > 0.5` make one)",
            );
        }
        a.select(&mask).ok_or_else(|| {
            error(
                f,
                format!(
                    "mask shape {:?} differs from the array's {:?}",
                    mask.shape(),
                    a.shape()
                ),
            )
        })
    }

    /// The elements for which `f` returns true, as a 1-d array: `a.filter(|x| x > 0.5)`.
    ///
    /// ```rhai
    /// assert(array([3, -1, 2]).filter(|x| x > 0.0).len() == 2, "two positive");
    /// ```
    #[rhai_fn(name = "filter", return_raw, pure)]
    pub fn filter_fn(ctx: NativeCallContext, a: &mut NdArray, f: FnPtr) -> RResult<NdArray> {
        let mut out = vec![];
        for &x in a.0.iter() {
            let keep: Dynamic = f.call_within_context(&ctx, (Dynamic::from_float(x),))?;
            let keep = keep.as_bool().map_err(|t| {
                error(
                    "NdArray.filter",
                    format!("the function must return true or false, got {t}"),
                )
            })?;
            if keep {
                out.push(x);
            }
        }
        Ok(NdArray::from_vec(out))
    }

    /// Whether any element is nonzero (a mask holds a 1); false when empty.
    ///
    /// ```rhai
    /// assert(any(linspace(0.0, 1.0, 3) > 0.5) && !any(zeros(3)), "one above 0.5");
    /// ```
    #[rhai_fn(pure)]
    pub fn any(a: &mut NdArray) -> bool {
        a.0.iter().any(|&x| nonzero(x))
    }

    /// Whether every element is nonzero (a mask is all 1); true when empty.
    ///
    /// ```rhai
    /// let a = array([1, 2, 3]);
    /// assert(all(a > 0) && !all(a > 1), "all positive, not all above 1");
    /// ```
    #[rhai_fn(pure)]
    pub fn all(a: &mut NdArray) -> bool {
        a.0.iter().all(|&x| nonzero(x))
    }

    /// Number of nonzero elements (NaN counts, as in numpy): `(a > 0.5).count_nonzero()`.
    ///
    /// ```rhai
    /// assert(count_nonzero(array([0, 1, 2, 0])) == 2, "two nonzero");
    /// ```
    #[rhai_fn(pure)]
    pub fn count_nonzero(a: &mut NdArray) -> i64 {
        a.0.iter().filter(|&&x| nonzero(x)).count() as i64
    }

    // Reductions along an axis: the axis is dropped, a 1-d array gives a number.

    /// Sums along `axis` (negative counts from the end): `t.sum(0)` sums the rows.
    ///
    /// ```rhai
    /// let t = array([[1, 2, 3], [4, 5, 6]]);
    /// assert(array_equal(t.sum(0), array([5, 7, 9])) && array_equal(t.sum(-1), array([6, 15])), "columns, rows");
    /// ```
    #[rhai_fn(name = "sum", return_raw, pure)]
    pub fn sum_axis(a: &mut NdArray, axis: i64) -> RResult<Dynamic> {
        along("sum", a, axis, true, |l| l.sum())
    }

    /// Means along `axis`.
    ///
    /// ```rhai
    /// assert(array_equal(array([[1, 2], [3, 4]]).mean(0), array([2, 3])), "column means");
    /// ```
    #[rhai_fn(name = "mean", return_raw, pure)]
    pub fn mean_axis(a: &mut NdArray, axis: i64) -> RResult<Dynamic> {
        along("mean", a, axis, false, lane_mean)
    }

    /// Smallest elements along `axis` (NaN if the lane holds one).
    ///
    /// ```rhai
    /// assert(array_equal(array([[1, 5], [3, 2]]).min(1), array([1, 2])), "row minima");
    /// ```
    #[rhai_fn(name = "min", return_raw, pure)]
    pub fn min_axis(a: &mut NdArray, axis: i64) -> RResult<Dynamic> {
        along("min", a, axis, false, |l| {
            extreme(l.iter().copied(), f64::min)
        })
    }

    /// Largest elements along `axis` (NaN if the lane holds one).
    ///
    /// ```rhai
    /// assert(array_equal(array([[1, 5], [3, 2]]).max(0), array([3, 5])), "column maxima");
    /// ```
    #[rhai_fn(name = "max", return_raw, pure)]
    pub fn max_axis(a: &mut NdArray, axis: i64) -> RResult<Dynamic> {
        along("max", a, axis, false, |l| {
            extreme(l.iter().copied(), f64::max)
        })
    }

    /// Standard deviations along `axis` (population, ddof = 0).
    ///
    /// ```rhai
    /// assert(array_equal(array([[1, 1], [3, 5]]).std(1), array([0, 1])), "row spreads");
    /// ```
    #[rhai_fn(name = "std", return_raw, pure)]
    pub fn std_axis(a: &mut NdArray, axis: i64) -> RResult<Dynamic> {
        along("std", a, axis, false, lane_std)
    }

    /// Means along `axis` of the elements that are not NaN (NaN for an all-NaN lane):
    /// `t.Hc.nanmean(0)` over anchors with missing values.
    ///
    /// ```rhai
    /// let t = array([[1.0, 0.0 / 0.0], [3.0, 4.0]]);
    /// assert(array_equal(t.nanmean(1), array([1, 3.5])), "NaN skipped");
    /// ```
    #[rhai_fn(name = "nanmean", return_raw, pure)]
    pub fn nanmean_axis(a: &mut NdArray, axis: i64) -> RResult<Dynamic> {
        along("nanmean", a, axis, false, |l| {
            let n = l.iter().filter(|v| !v.is_nan()).count();
            l.iter().filter(|v| !v.is_nan()).sum::<f64>() / n as f64
        })
    }

    /// Flat (row-major) index of the first smallest element; a NaN's index if there is
    /// one, as numpy.
    ///
    /// ```rhai
    /// assert(array([[4, 1], [0, 9]]).argmin() == 2, "the 0 at [1, 0]");
    /// ```
    #[rhai_fn(name = "argmin", return_raw, pure)]
    pub fn argmin(a: &mut NdArray) -> RResult<i64> {
        arg_extreme(a.0.iter().copied(), true)
            .map(|k| k as i64)
            .ok_or_else(|| error("argmin", "the array is empty"))
    }

    /// Flat (row-major) index of the first largest element; a NaN's index if there is one.
    ///
    /// ```rhai
    /// assert(linspace(1.0, -1.0, 5).argmax() == 0, "the first field");
    /// ```
    #[rhai_fn(name = "argmax", return_raw, pure)]
    pub fn argmax(a: &mut NdArray) -> RResult<i64> {
        arg_extreme(a.0.iter().copied(), false)
            .map(|k| k as i64)
            .ok_or_else(|| error("argmax", "the array is empty"))
    }

    /// Flat index of the first smallest element that is not NaN (numpy's nanargmin); an
    /// error when every element is NaN.
    ///
    /// ```rhai
    /// assert(array([0.0 / 0.0, 2.0, 1.0]).nanargmin() == 2, "the NaN is skipped");
    /// ```
    #[rhai_fn(name = "nanargmin", return_raw, pure)]
    pub fn nanargmin(a: &mut NdArray) -> RResult<i64> {
        nan_arg_extreme("nanargmin", a, true)
    }

    /// Flat index of the first largest element that is not NaN (numpy's nanargmax); an
    /// error when every element is NaN.
    ///
    /// ```rhai
    /// assert(array([[0.0 / 0.0, 1.0], [3.0, 0.0 / 0.0]]).nanargmax() == 2, "the 3 at [1, 0]");
    /// ```
    #[rhai_fn(name = "nanargmax", return_raw, pure)]
    pub fn nanargmax(a: &mut NdArray) -> RResult<i64> {
        nan_arg_extreme("nanargmax", a, false)
    }

    /// Indices of the smallest elements along `axis` (an int for a 1-d array).
    ///
    /// ```rhai
    /// assert(array_equal(array([[4, 1], [0, 9]]).argmin(1), array([1, 0])), "per row");
    /// ```
    #[rhai_fn(name = "argmin", return_raw, pure)]
    pub fn argmin_axis(a: &mut NdArray, axis: i64) -> RResult<Dynamic> {
        arg_along("argmin", a, axis, true)
    }

    /// Indices of the largest elements along `axis` (an int for a 1-d array).
    ///
    /// ```rhai
    /// assert(array_equal(array([[4, 1], [0, 9]]).argmax(0), array([0, 1])), "per column");
    /// ```
    #[rhai_fn(name = "argmax", return_raw, pure)]
    pub fn argmax_axis(a: &mut NdArray, axis: i64) -> RResult<Dynamic> {
        arg_along("argmax", a, axis, false)
    }
}

fn multi_index(a: &NdArray, idx: &Array) -> RResult<Vec<usize>> {
    let f = "NdArray[[...]]";
    if idx.len() != a.0.ndim() {
        return fail(
            f,
            format!(
                "needs {} indices for shape {:?}, got {}",
                a.0.ndim(),
                a.shape(),
                idx.len()
            ),
        );
    }
    idx.iter()
        .zip(a.shape())
        .map(|(i, &n)| {
            resolve(
                f,
                i.as_int()
                    .map_err(|_| error(f, "indices must be integers"))?,
                n,
            )
        })
        .collect()
}

/// Registers the operators: `+ - * / **` and the comparisons `> >= < <= == !=` between
/// arrays (broadcasting) and between arrays and numbers, `& | !` on masks, and negation.
pub fn register_operators(module: &mut Module) {
    /// One binary operator for (array, array) and for arrays with floats and ints on
    /// either side. `both` and `scalar` are the doc comments of the two kinds.
    fn op(
        module: &mut Module,
        name: &'static str,
        both: &str,
        scalar: &str,
        f: fn(f64, f64) -> f64,
    ) {
        FuncRegistration::new(name)
            .with_comments([both])
            .with_params_info(["a: NdArray", "b: NdArray", "NdArray"])
            .set_into_module(module, move |a: NdArray, b: NdArray| -> RResult<NdArray> {
                a.zip_with(&b, f).ok_or_else(|| {
                    let hint = if name == "==" || name == "!=" {
                        " (array_equal(a, b) compares whole arrays)"
                    } else {
                        ""
                    };
                    error(
                        name,
                        format!(
                            "shapes {:?} and {:?} do not broadcast{hint}",
                            a.shape(),
                            b.shape()
                        ),
                    )
                })
            });
        let reg = |params: [&str; 3]| {
            FuncRegistration::new(name)
                .with_comments([scalar])
                .with_params_info(params)
        };
        reg(["a: NdArray", "x: f64", "NdArray"])
            .set_into_module(module, move |a: NdArray, x: f64| a.map(|v| f(v, x)));
        reg(["x: f64", "a: NdArray", "NdArray"])
            .set_into_module(module, move |x: f64, a: NdArray| a.map(|v| f(x, v)));
        reg(["a: NdArray", "x: i64", "NdArray"])
            .set_into_module(module, move |a: NdArray, x: i64| a.map(|v| f(v, x as f64)));
        reg(["x: i64", "a: NdArray", "NdArray"])
            .set_into_module(module, move |x: i64, a: NdArray| a.map(|v| f(x as f64, v)));
    }
    fn arithmetic(module: &mut Module, name: &'static str, word: &str, f: fn(f64, f64) -> f64) {
        let both = format!("/// Elementwise {word} of two arrays (numpy broadcasting).");
        let scalar = format!("/// Elementwise {word} of an array and a number.");
        op(module, name, &both, &scalar, f);
    }
    arithmetic(module, "+", "sum", |a, b| a + b);
    arithmetic(module, "-", "difference", |a, b| a - b);
    arithmetic(module, "*", "product", |a, b| a * b);
    arithmetic(module, "/", "quotient", |a, b| a / b);
    arithmetic(module, "**", "power", f64::powf);
    // Comparisons give masks (1.0 true, 0.0 false) as numpy gives boolean arrays; Rhai's
    // default for types without `>` would be a silent `false`.
    fn compare(module: &mut Module, name: &'static str, f: fn(f64, f64) -> f64) {
        let both = format!(
            "/// Elementwise `a {name} b` of two arrays (numpy broadcasting) as a mask: 1.0 \
             where true, 0.0 where false (NaN compares false, except under `!=`)."
        );
        let scalar =
            format!("/// Elementwise `{name}` of an array and a number as a mask: `h {name} 0.5`.");
        op(module, name, &both, &scalar, f);
    }
    compare(module, ">", |a, b| truth(a > b));
    compare(module, ">=", |a, b| truth(a >= b));
    compare(module, "<", |a, b| truth(a < b));
    compare(module, "<=", |a, b| truth(a <= b));
    compare(module, "==", |a, b| truth(a == b));
    compare(module, "!=", |a, b| truth(a != b));
    for (name, word, f) in [
        (
            "&",
            "and",
            (|a, b| truth(a != 0.0 && b != 0.0)) as fn(f64, f64) -> f64,
        ),
        ("|", "or", |a, b| truth(a != 0.0 || b != 0.0)),
    ] {
        let doc = format!(
            "/// Elementwise logical {word} of two masks (nonzero is true), broadcasting: \
             `(h > -0.5) {name} (h < 0.5)`."
        );
        FuncRegistration::new(name)
            .with_comments([doc.as_str()])
            .with_params_info(["a: NdArray", "b: NdArray", "NdArray"])
            .set_into_module(module, move |a: NdArray, b: NdArray| -> RResult<NdArray> {
                a.zip_with(&b, f).ok_or_else(|| {
                    error(
                        name,
                        format!(
                            "shapes {:?} and {:?} do not broadcast",
                            a.shape(),
                            b.shape()
                        ),
                    )
                })
            });
    }
    FuncRegistration::new("!")
        .with_comments(["/// Elementwise logical not of a mask: 1.0 where the element is 0."])
        .with_params_info(["a: NdArray", "NdArray"])
        .set_into_module(module, |a: NdArray| a.map(|v| truth(v == 0.0)));
    FuncRegistration::new("-")
        .with_comments(["/// Elementwise negation."])
        .with_params_info(["a: NdArray", "NdArray"])
        .set_into_module(module, |a: NdArray| a.map(|v| -v));
}

/// Registers the elementwise functions of one number (`sin(a)` or `a.sin()`): a table,
/// since they differ only in the function and its documentation. NaN in gives NaN out.
fn register_elementwise(module: &mut Module) {
    let table: [(&[&'static str], fn(f64) -> f64, &str); 13] = [
        (&["abs"], f64::abs, "/// Elementwise absolute value.
            /// ```rhai
            /// assert(array_equal(abs(array([-1.5, 2])), array([1.5, 2])), \"magnitudes\");
            /// ```"),
        (&["sqrt"], f64::sqrt, "/// Elementwise square root (NaN below 0).
            /// ```rhai
            /// assert(array_equal(sqrt(array([4, 9])), array([2, 3])), \"roots\");
            /// ```"),
        (&["sin"], f64::sin, "/// Elementwise sine (radians).
            /// ```rhai
            /// assert_close(sin(array([0.0, PI() / 2.0])).sum(), 1.0, 1e-12, \"sin 0 + sin π/2\");
            /// ```"),
        (&["cos"], f64::cos, "/// Elementwise cosine (radians).
            /// ```rhai
            /// assert_close(cos(array([0.0, PI()])).sum(), 0.0, 1e-12, \"cos 0 + cos π\");
            /// ```"),
        (&["tan"], f64::tan, "/// Elementwise tangent (radians).
            /// ```rhai
            /// assert_close(tan(array([PI() / 4.0]))[0], 1.0, 1e-12, \"tan π/4\");
            /// ```"),
        (&["exp"], f64::exp, "/// Elementwise e^x.
            /// ```rhai
            /// assert_close(exp(array([0.0, 1.0]))[1], E(), 1e-12, \"e¹\");
            /// ```"),
        (&["ln"], f64::ln, "/// Elementwise natural logarithm (numpy's `log`); NaN below 0, -inf at 0.
            /// ```rhai
            /// assert_close(ln(exp(array([2.0])))[0], 2.0, 1e-12, \"ln ∘ exp\");
            /// ```"),
        (&["log10"], f64::log10, "/// Elementwise base-10 logarithm.
            /// ```rhai
            /// assert(log10(array([1000.0]))[0] == 3.0, \"10³\");
            /// ```"),
        (&["floor"], f64::floor, "/// Elementwise largest integer ≤ x.
            /// ```rhai
            /// assert(array_equal(floor(array([1.5, -1.5])), array([1, -2])), \"towards -∞\");
            /// ```"),
        (&["ceil", "ceiling"], f64::ceil, "/// Elementwise smallest integer ≥ x (`ceil` and `ceiling` are the same).
            /// ```rhai
            /// assert(array_equal(ceil(array([1.5, -1.5])), array([2, -1])), \"towards +∞\");
            /// ```"),
        (&["round"], f64::round_ties_even, "/// Elementwise nearest integer, halves to even as numpy (0.5 → 0, 1.5 → 2, 2.5 → 2).
            /// ```rhai
            /// assert(array_equal(round(array([0.5, 1.5, 2.5, -0.7])), array([0, 2, 2, -1])), \"half to even\");
            /// ```"),
        (&["isnan"], |x| truth(x.is_nan()), "/// A mask of the NaN elements (1.0 where NaN): `a.isnan().sum()` counts them.
            /// ```rhai
            /// assert(array_equal(isnan(array([1.0, 0.0 / 0.0, 3.0])), array([0, 1, 0])), \"the middle one\");
            /// ```"),
        (&["isfinite"], |x| truth(x.is_finite()), "/// A mask of the finite elements (not NaN, not ±inf).
            /// ```rhai
            /// assert(array_equal(isfinite(array([1.0, 1.0 / 0.0])), array([1, 0])), \"inf is not finite\");
            /// ```"),
    ];
    for (names, f, doc) in table {
        for &name in names {
            FuncRegistration::new(name)
                .with_comments([doc])
                .with_params_info(["a: NdArray", "NdArray"])
                .set_into_module(module, move |a: NdArray| a.map(f));
        }
    }
}

/// The array module with its operators.
pub fn module() -> Module {
    let mut m = exported_module!(array_module);
    m.set_custom_type::<NdArray>("NdArray");
    register_operators(&mut m);
    register_elementwise(&mut m);
    m
}

/// A 1-d NdArray or a Rhai array of numbers as a vector.
pub fn vector(func: &str, v: &Dynamic) -> RResult<Vec<f64>> {
    if let Some(a) = v.read_lock::<NdArray>() {
        if a.0.ndim() != 1 {
            return fail(
                func,
                format!("expected a 1-d array, got shape {:?}", a.shape()),
            );
        }
        return Ok(a.0.iter().copied().collect());
    }
    if let Some(a) = v.read_lock::<Array>() {
        return a.iter().map(|x| number(func, x)).collect();
    }
    fail(
        func,
        format!(
            "expected an NdArray or an array of numbers, got {}",
            crate::docs::type_of(v)
        ),
    )
}

#[cfg(test)]
mod tests {
    /// The script's value as its `to_string` gives it, or its error.
    fn eval(script: &str) -> Result<String, String> {
        let engine = crate::engine::new_engine(None).unwrap();
        let mut scope = rhai::Scope::new();
        let v = engine
            .eval_with_scope::<Dynamic>(&mut scope, script)
            .map_err(|e| e.to_string())?;
        scope.push("value", v);
        engine
            .eval_with_scope::<String>(&mut scope, "to_string(value)")
            .map_err(|e| e.to_string())
    }

    fn ok(script: &str) -> String {
        eval(script).unwrap_or_else(|e| panic!("{script}: {e}"))
    }

    fn err(script: &str) -> String {
        eval(script).expect_err(script)
    }

    use rhai::Dynamic;

    #[test]
    fn elementwise_maths_propagates_nan() {
        assert_eq!(
            ok(
                "let a = array([0.0, 1.0, 0.0 / 0.0]); [exp(a).isnan().sum(), sqrt(a).count_nonzero(), ln(a)[0]]"
            ),
            "[1.0, 2, -inf]"
        );
        assert_eq!(
            ok("round(array([0.5, 1.5, -2.5]))"),
            "array([0, 2, -2], shape=[3])"
        );
        assert_eq!(
            ok("array([1, 2, 3]).clip(1.5, 2.5)"),
            "array([1.5, 2, 2.5], shape=[3])"
        );
        assert_eq!(ok("array([0.0 / 0.0]).clip(0, 1).isnan()[0]"), "1.0");
        assert!(err("zeros(2).clip(1, 0)").contains("clip: needs lo ≤ hi, got 1 and 0"));
        assert_eq!(
            ok("pow(array([2, 3]), array([[1], [2]]))"),
            "array([[2, 3], [4, 9]], shape=[2, 2])"
        );
        assert_eq!(
            ok("array([1, 2]).map(|x| x * 10 + 1)"),
            "array([11, 21], shape=[2])"
        );
        let e = err("array([1, 2]).map(|x| ())");
        assert!(
            e.contains("NdArray.map: the function must return a number, got ()"),
            "{e}"
        );
        assert_eq!(
            ok("[floor(array([-0.5]))[0], ceil(array([-0.5]))[0], tan(zeros(1))[0]]"),
            "[-1.0, -0.0, 0.0]"
        );
    }

    #[test]
    fn comparisons_give_masks_and_whole_array_equality_has_a_name() {
        // Was a silent `false` before comparisons were defined on arrays.
        assert_eq!(
            ok("linspace(0.0, 1.0, 3) > 0.5"),
            "array([0, 0, 1], shape=[3])"
        );
        assert_eq!(
            ok("0.5 <= linspace(0.0, 1.0, 3)"),
            "array([0, 1, 1], shape=[3])"
        );
        assert_eq!(
            ok("array([1, 2]) >= array([[2], [1]])"),
            "array([[0, 1], [1, 1]], shape=[2, 2])"
        );
        assert_eq!(
            ok("array([1.0, 0.0 / 0.0]) == array([1.0, 0.0 / 0.0])"),
            "array([1, 0], shape=[2])"
        );
        assert_eq!(
            ok("array([1.0, 0.0 / 0.0]) != 1"),
            "array([0, 1], shape=[2])"
        );
        assert_eq!(ok("array([1, 2]) < 2"), "array([1, 0], shape=[2])");
        assert_eq!(ok("array_equal(array([1, 2]), array([1, 2]))"), "true");
        assert_eq!(ok("array([1, 2]).equals(array([[1, 2]]))"), "false");
        let e = err("array([1, 2]) == array([1, 2, 3])");
        assert!(
            e.contains("==: shapes [2] and [3] do not broadcast (array_equal"),
            "{e}"
        );
        let e = err("assert(zeros(2) == zeros(2), \"same\")");
        assert!(
            e.contains("assert: the condition must be true or false, got NdArray"),
            "{e}"
        );
        let h = "let h = linspace(1.0, -1.0, 5);";
        assert_eq!(
            ok(&format!("{h} h.filter(h < 0.0)")),
            "array([-0.5, -1], shape=[2])"
        );
        assert_eq!(
            ok(&format!("{h} h.filter(|x| x > 0.0)")),
            "array([1, 0.5], shape=[2])"
        );
        assert_eq!(
            ok(&format!("{h} where(h > 0.0, h, -h)")),
            "array([1, 0.5, 0, 0.5, 1], shape=[5])"
        );
        assert_eq!(ok(&format!("{h} ((h > -0.6) & (h < 0.6)).sum()")), "3.0");
        assert_eq!(
            ok(&format!(
                "{h} [any(h > 0.9), all(h > -2), count_nonzero(!(h > 0.0)), all((h > 0.0) | (h <= 0.0))]"
            )),
            "[true, true, 3, true]"
        );
        assert!(err(&format!("{h} h.filter(h)")).contains("the mask must hold only 0 and 1"));
        assert!(
            err(&format!("{h} h.filter(h > 0.0).filter(h > 0.0)"))
                .contains("mask shape [5] differs from the array's [2]")
        );
        assert!(
            err(&format!("{h} where(h > 0, \"a\", 0)"))
                .contains("where: a must be a number or an NdArray, got string")
        );
    }

    #[test]
    fn reductions_along_axes() {
        let t = "let t = array([[1.0, 5.0, 3.0], [4.0, 2.0, 0.0 / 0.0]]);";
        assert_eq!(
            ok(&format!("{t} t.sum(0).slice(0, 2)")),
            "array([5, 7], shape=[2])"
        );
        assert_eq!(ok(&format!("{t} t.mean(-1)[0]")), "3.0");
        assert_eq!(ok(&format!("{t} t.max(1)")), "array([5, nan], shape=[2])");
        assert_eq!(
            ok(&format!("{t} t.min(0)")),
            "array([1, 2, nan], shape=[3])"
        );
        assert_eq!(ok(&format!("{t} t.nanmean(1)")), "array([3, 3], shape=[2])");
        assert_eq!(
            ok(&format!("{t} t.std(0).slice(0, 2)")),
            "array([1.5, 1.5], shape=[2])"
        );
        assert_eq!(
            ok(&format!("{t} [t.argmin(), t.argmax(), t[0].argmax(0)]")),
            "[5, 5, 1]"
        );
        assert_eq!(ok(&format!("{t} t.argmax(1)")), "array([1, 2], shape=[2])");
        assert_eq!(ok("array([1, 2, 3]).sum(0)"), "6.0");
        assert_eq!(ok("zeros([0, 2]).sum(0)"), "array([0, 0], shape=[2])");
        for (script, msg) in [
            (
                "zeros([2, 3]).sum(2)",
                "sum: axis 2 is out of range for 2 dimensions (0..2, or -2..-1 from the end)",
            ),
            (
                "zeros(3).mean(-2)",
                "mean: axis -2 is out of range for 1 dimension",
            ),
            ("zeros([0, 2]).max(0)", "max: axis 0 has length 0"),
            ("zeros([2, 0]).argmin(1)", "argmin: axis 1 has length 0"),
            ("zeros(0).argmax()", "argmax: the array is empty"),
        ] {
            let e = err(script);
            assert!(e.contains(msg), "{script}: {e}");
        }
    }

    #[test]
    fn stack_and_transpose() {
        assert_eq!(
            ok("stack([zeros(2), ones(2)], 0)"),
            "array([[0, 0], [1, 1]], shape=[2, 2])"
        );
        assert_eq!(
            ok("stack([zeros(2), ones(2)], -1)"),
            "array([[0, 1], [0, 1]], shape=[2, 2])"
        );
        assert_eq!(ok("array([[1, 2, 3]]).T.shape"), "[3, 1]");
        assert_eq!(
            ok("array([[1, 2], [3, 4]]).transpose().flatten()"),
            "array([1, 3, 2, 4], shape=[4])"
        );
        assert!(err("stack([zeros(2), zeros(3)], 0)").contains("stack: shapes [[2], [3]] differ"));
        assert!(
            err("stack([zeros(2)], 2)").contains("stack: axis 2 is out of range for 2 dimensions")
        );
        assert!(err("stack([], 0)").contains("stack: nothing to join"));
        assert!(
            err("stack([zeros(2), 1], 0)").contains("stack: parts[1] must be an NdArray, got int")
        );
        assert!(err("concat([zeros(2)], 1)").contains("concat: axis 1 is out of range"));
        assert_eq!(
            ok("concat([zeros([1, 2]), ones([1, 1])], -1).shape"),
            "[1, 3]"
        );
    }
}
