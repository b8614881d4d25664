//! The n-d array that scripts handle: latent codes, curves, fields. Backed by ndarray and
//! shared behind an `Arc`, because Rhai clones values on every pass.

use ndarray::{ArrayD, ArrayView1, Axis, IxDyn, Zip};
use std::fmt;
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq)]
pub struct NdArray(pub Arc<ArrayD<f64>>);

impl NdArray {
    pub fn new(a: ArrayD<f64>) -> Self {
        NdArray(Arc::new(a))
    }

    pub fn from_vec(v: Vec<f64>) -> Self {
        let n = v.len();
        NdArray::new(ArrayD::from_shape_vec(IxDyn(&[n]), v).expect("length equals shape"))
    }

    pub fn shape(&self) -> &[usize] {
        self.0.shape()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Elementwise `f(a, b)` with numpy broadcasting; `None` if the shapes do not broadcast.
    pub fn zip_with(&self, other: &NdArray, f: impl Fn(f64, f64) -> f64) -> Option<NdArray> {
        let shape = broadcast_shape(self.shape(), other.shape())?;
        let a = self.0.broadcast(IxDyn(&shape))?;
        let b = other.0.broadcast(IxDyn(&shape))?;
        Some(NdArray::new(
            Zip::from(&a).and(&b).map_collect(|&x, &y| f(x, y)),
        ))
    }

    pub fn map(&self, f: impl Fn(f64) -> f64) -> NdArray {
        NdArray::new(self.0.mapv(f))
    }

    pub fn sum(&self) -> f64 {
        self.0.sum()
    }

    pub fn norm(&self) -> f64 {
        self.0.iter().map(|x| x * x).sum::<f64>().sqrt()
    }

    /// `f` over every lane along `axis` (< ndim), dropping that axis, like numpy's
    /// `a.sum(axis=k)`.
    pub fn reduce_axis(&self, axis: usize, f: impl Fn(ArrayView1<f64>) -> f64) -> ArrayD<f64> {
        self.0.map_axis(Axis(axis), f)
    }

    /// Whether every element is 0 or 1: a mask, as comparisons make them.
    pub fn is_mask(&self) -> bool {
        self.0.iter().all(|&x| x == 0.0 || x == 1.0)
    }

    /// The elements where `mask` (same shape, 0/1) is 1, in row-major order: numpy's
    /// `a[mask]`.
    pub fn select(&self, mask: &NdArray) -> Option<NdArray> {
        (self.shape() == mask.shape()).then(|| {
            NdArray::from_vec(
                self.0
                    .iter()
                    .zip(mask.0.iter())
                    .filter(|&(_, &m)| m != 0.0)
                    .map(|(&x, _)| x)
                    .collect(),
            )
        })
    }

    /// numpy.where: `a` where `mask` is nonzero, else `b`, all three broadcast together.
    pub fn choose(mask: &NdArray, a: &NdArray, b: &NdArray) -> Option<NdArray> {
        let shape = broadcast_shape(&broadcast_shape(mask.shape(), a.shape())?, b.shape())?;
        let m = mask.0.broadcast(IxDyn(&shape))?;
        let x = a.0.broadcast(IxDyn(&shape))?;
        let y = b.0.broadcast(IxDyn(&shape))?;
        Some(NdArray::new(
            Zip::from(&m)
                .and(&x)
                .and(&y)
                .map_collect(|&m, &x, &y| if m != 0.0 { x } else { y }),
        ))
    }

    /// The axes reversed (numpy's `a.T`), stored row-major again.
    pub fn transpose(&self) -> NdArray {
        NdArray::new(
            self.0
                .view()
                .reversed_axes()
                .as_standard_layout()
                .into_owned(),
        )
    }
}

/// A truth value as a mask element. Masks are ordinary arrays of 0.0 (false) and 1.0
/// (true): they add up to counts and multiply as "and", with no second array type.
pub fn truth(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

/// A script's axis (negative counts from the end) among `ndim` axes.
pub fn resolve_axis(axis: i64, ndim: usize) -> Option<usize> {
    let n = ndim as i64;
    let k = if axis < 0 { axis + n } else { axis };
    (0..n).contains(&k).then_some(k as usize)
}

/// Index of the first smallest (`less` = true) or largest value, numpy's argmin/argmax: the
/// first NaN wins, as NaN propagates through min and max. `None` when empty.
pub fn arg_extreme(values: impl Iterator<Item = f64>, less: bool) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (k, v) in values.enumerate() {
        if v.is_nan() {
            return Some(k);
        }
        let better = match best {
            None => true,
            Some((_, b)) => (less && v < b) || (!less && v > b),
        };
        if better {
            best = Some((k, v));
        }
    }
    best.map(|(k, _)| k)
}

/// The numpy broadcast of two shapes, if they are compatible.
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let n = a.len().max(b.len());
    let dim = |s: &[usize], k: usize| {
        if k + s.len() < n {
            1
        } else {
            s[k + s.len() - n]
        }
    };
    (0..n)
        .map(|k| match (dim(a, k), dim(b, k)) {
            (x, y) if x == y => Some(x),
            (1, y) => Some(y),
            (x, 1) => Some(x),
            _ => None,
        })
        .collect()
}

/// A number in numpy's style: six significant digits, no trailing zeros, exponent form
/// outside [1e-4, 1e6). Deterministic, so golden outputs are stable.
pub fn fmt_g(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    if !x.is_finite() {
        return if x.is_nan() {
            "nan".into()
        } else if x > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    let e = x.abs().log10().floor() as i32;
    if (-4..6).contains(&e) {
        let s = format!("{:.*}", (5 - e).max(0) as usize, x);
        trim_zeros(&s)
    } else {
        let s = format!("{:.5e}", x);
        let (m, exp) = s.split_once('e').unwrap_or((&s, "0"));
        format!("{}e{}", trim_zeros(m), exp)
    }
}

fn trim_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

impl fmt::Display for NdArray {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn rec(a: ndarray::ArrayViewD<f64>, out: &mut String) {
            if a.ndim() == 0 {
                out.push_str(&fmt_g(a[IxDyn(&[])]));
                return;
            }
            let n = a.shape()[0];
            // Long axes are elided like numpy's repr: first and last three.
            let idx: Vec<Option<usize>> = if n > 8 {
                (0..3)
                    .map(Some)
                    .chain([None])
                    .chain((n - 3..n).map(Some))
                    .collect()
            } else {
                (0..n).map(Some).collect()
            };
            out.push('[');
            for (k, i) in idx.iter().enumerate() {
                if k > 0 {
                    out.push_str(", ");
                }
                match i {
                    Some(i) => rec(a.index_axis(ndarray::Axis(0), *i), out),
                    None => out.push_str("..."),
                }
            }
            out.push(']');
        }
        let mut s = String::new();
        rec(self.0.view(), &mut s);
        write!(f, "array({s}, shape={:?})", self.shape())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_numpy_g() {
        assert_eq!(fmt_g(1.0), "1");
        assert_eq!(fmt_g(0.5), "0.5");
        assert_eq!(fmt_g(2.0 / 3.0), "0.666667");
        assert_eq!(fmt_g(123456.0), "123456");
        assert_eq!(fmt_g(1234567.0), "1.23457e6");
        assert_eq!(fmt_g(-1.5e-7), "-1.5e-7");
    }

    #[test]
    fn broadcasting_rules() {
        assert_eq!(broadcast_shape(&[3, 1], &[4]), Some(vec![3, 4]));
        assert_eq!(broadcast_shape(&[3], &[4]), None);
        let a = NdArray::from_vec(vec![1.0, 2.0]);
        let b = NdArray::new(ArrayD::from_elem(IxDyn(&[3, 1]), 10.0));
        assert_eq!(a.zip_with(&b, |x, y| x + y).unwrap().shape(), &[3, 2]);
    }

    #[test]
    fn axes_resolve_from_either_end() {
        assert_eq!(resolve_axis(0, 2), Some(0));
        assert_eq!(resolve_axis(-1, 2), Some(1));
        assert_eq!(resolve_axis(-2, 2), Some(0));
        assert_eq!(resolve_axis(2, 2), None);
        assert_eq!(resolve_axis(-3, 2), None);
        assert_eq!(resolve_axis(0, 0), None);
    }

    #[test]
    fn reductions_along_an_axis_drop_it() {
        let a = NdArray::new(
            ArrayD::from_shape_vec(IxDyn(&[2, 3]), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap(),
        );
        let cols = a.reduce_axis(0, |l| l.sum());
        assert_eq!(cols.shape(), &[3]);
        assert_eq!(cols.iter().copied().collect::<Vec<_>>(), [5.0, 7.0, 9.0]);
        let rows = a.reduce_axis(1, |l| l.sum());
        assert_eq!(rows.iter().copied().collect::<Vec<_>>(), [6.0, 15.0]);
        assert_eq!(
            a.transpose().0.iter().copied().collect::<Vec<_>>(),
            [1.0, 4.0, 2.0, 5.0, 3.0, 6.0]
        );
    }

    #[test]
    fn argmin_argmax_take_the_first_and_nan_wins() {
        let v = [3.0, 1.0, 1.0, 5.0, 5.0];
        assert_eq!(arg_extreme(v.iter().copied(), true), Some(1));
        assert_eq!(arg_extreme(v.iter().copied(), false), Some(3));
        assert_eq!(arg_extreme([2.0, f64::NAN, 0.0].into_iter(), true), Some(1));
        assert_eq!(arg_extreme(std::iter::empty(), true), None);
    }

    #[test]
    fn masks_select_and_choose() {
        let a = NdArray::from_vec(vec![1.0, 2.0, 3.0]);
        let m = NdArray::from_vec(vec![1.0, 0.0, 1.0]);
        assert!(m.is_mask() && !a.is_mask());
        assert_eq!(a.select(&m).unwrap(), NdArray::from_vec(vec![1.0, 3.0]));
        assert!(a.select(&NdArray::from_vec(vec![1.0])).is_none());
        let zero = NdArray::new(ArrayD::from_elem(IxDyn(&[]), 0.0));
        assert_eq!(
            NdArray::choose(&m, &a, &zero).unwrap(),
            NdArray::from_vec(vec![1.0, 0.0, 3.0])
        );
    }
}
