//! The n-d array that scripts handle: latent codes, curves, fields. Backed by ndarray and
//! shared behind an `Arc`, because Rhai clones values on every pass.

use ndarray::{ArrayD, IxDyn, Zip};
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
}
