//! The `NdArray` type in scripts: construction, arithmetic with broadcasting, indexing,
//! reductions and conversion to and from Rhai arrays.

use super::{RResult, error, fail};
use crate::array::NdArray;
use ndarray::{ArrayD, Axis, IxDyn};
use rhai::plugin::*;
use rhai::{Array, FuncRegistration, Module};

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
fn shape_of(func: &str, shape: &Dynamic) -> RResult<Vec<usize>> {
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

fn to_dynamic(a: ArrayD<f64>) -> Dynamic {
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
    /// `randn(512, 7)` (a random latent code).
    ///
    /// ```rhai
    /// let a = randn([1000], 7);
    /// assert(a == randn([1000], 7), "the same seed draws the same numbers");
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

    /// Elementwise absolute value.
    #[rhai_fn(pure)]
    pub fn abs(a: &mut NdArray) -> NdArray {
        a.map(f64::abs)
    }

    /// Elementwise square root.
    #[rhai_fn(pure)]
    pub fn sqrt(a: &mut NdArray) -> NdArray {
        a.map(f64::sqrt)
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

    /// Joins arrays along an existing axis; every other dimension must agree:
    /// `concat([codes, descriptors], 1)` puts columns side by side.
    #[rhai_fn(return_raw)]
    pub fn concat(parts: Array, axis: i64) -> RResult<NdArray> {
        let f = "concat";
        let arrays = parts
            .iter()
            .map(|p| {
                p.read_lock::<NdArray>().map(|a| a.clone()).ok_or_else(|| {
                    error(
                        f,
                        format!(
                            "expected an array of NdArrays, found {}",
                            crate::docs::type_of(p)
                        ),
                    )
                })
            })
            .collect::<RResult<Vec<_>>>()?;
        let Some(first) = arrays.first() else {
            return Err(error(f, "nothing to join"));
        };
        if axis < 0 || axis as usize >= first.shape().len() {
            return Err(error(
                f,
                format!("axis must be in 0..{}, got {axis}", first.shape().len()),
            ));
        }
        let views: Vec<_> = arrays.iter().map(|a| a.0.view()).collect();
        ndarray::concatenate(ndarray::Axis(axis as usize), &views)
            .map(NdArray::new)
            .map_err(|_| {
                let shapes: Vec<_> = arrays.iter().map(|a| a.shape().to_vec()).collect();
                error(f, format!("shapes {shapes:?} differ off axis {axis}"))
            })
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

    /// Whether two arrays have the same shape and elements.
    #[rhai_fn(name = "==", pure)]
    pub fn eq(a: &mut NdArray, b: NdArray) -> bool {
        *a == b
    }

    /// Whether two arrays differ in shape or any element.
    #[rhai_fn(name = "!=", pure)]
    pub fn ne(a: &mut NdArray, b: NdArray) -> bool {
        *a != b
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

/// Registers `+ - * /` between arrays (broadcasting) and between arrays and numbers.
pub fn register_operators(module: &mut Module) {
    fn op(module: &mut Module, name: &'static str, word: &'static str, f: fn(f64, f64) -> f64) {
        let both = format!("/// Elementwise {word} of two arrays (numpy broadcasting).");
        let scalar = format!("/// Elementwise {word} of an array and a number.");
        FuncRegistration::new(name)
            .with_comments([both.as_str()])
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
        let reg = |params: [&str; 3]| {
            FuncRegistration::new(name)
                .with_comments([scalar.as_str()])
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
    op(module, "+", "sum", |a, b| a + b);
    op(module, "-", "difference", |a, b| a - b);
    op(module, "*", "product", |a, b| a * b);
    op(module, "/", "quotient", |a, b| a / b);
    FuncRegistration::new("-")
        .with_comments(["/// Elementwise negation."])
        .with_params_info(["a: NdArray", "NdArray"])
        .set_into_module(module, |a: NdArray| a.map(|v| -v));
}

/// The array module with its operators.
pub fn module() -> Module {
    let mut m = exported_module!(array_module);
    m.set_custom_type::<NdArray>("NdArray");
    register_operators(&mut m);
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
