//! Conversions from script values shared by several modules: one rule and one message per
//! kind of value.

use super::opts::Opts;
use super::{RResult, error_in, fail};
use crate::array::NdArray;
use crate::learn::{EpochRecord, Fit};
use crate::settings::Device;
use rhai::{Array, Dynamic, Map};
use std::sync::{Mutex, MutexGuard};

/// A model built or loaded by the learning layer, as the shared handle scripts hold; its
/// error names `func`.
pub fn shared<T>(func: &str, r: crate::learn::Result<T>) -> RResult<std::sync::Arc<Mutex<T>>> {
    r.map(|m| std::sync::Arc::new(Mutex::new(m)))
        .map_err(error_in(func))
}

/// The elements of a Rhai array that must all be of one script type `T`; an element of
/// another type is an error naming the argument, index and both types:
/// `items::<SharedCurve>(f, "curves", "a Curve", &curves)`.
pub fn items<T: std::any::Any + Clone + Send + Sync>(
    func: &str,
    arg: &str,
    what: &str,
    a: &Array,
) -> RResult<Vec<T>> {
    a.iter()
        .enumerate()
        .map(|(k, x)| {
            x.read_lock::<T>().map(|v| v.clone()).ok_or_else(|| {
                super::error(
                    func,
                    format!(
                        "{arg}[{k}] must be {what}, got {}",
                        crate::docs::type_of(&x)
                    ),
                )
            })
        })
        .collect()
}

/// The position index `i` names among `len` items: negative counts from the end (−1 =
/// last); `None` outside. The one indexing rule of scripts.
pub fn from_end(i: i64, len: usize) -> Option<usize> {
    let k = if i < 0 { i.checked_add(len as i64)? } else { i };
    (0..len as i64).contains(&k).then_some(k as usize)
}

/// Positions into something of `len` items from an array of integers or an NdArray of
/// integral values, by [`from_end`].
pub fn positions(func: &str, what: &str, v: &Dynamic, len: usize) -> RResult<Vec<usize>> {
    let one = |x: f64, shown: &dyn std::fmt::Display| {
        let k = (x.fract() == 0.0 && x.abs() < 2f64.powi(62))
            .then(|| from_end(x as i64, len))
            .flatten();
        k.map_or_else(
            || {
                fail(
                    func,
                    format!(
                        "{what} must be integers in 0..{len} (negative: from the end), got {shown}"
                    ),
                )
            },
            Ok,
        )
    };
    if let Some(a) = v.read_lock::<NdArray>() {
        if a.0.ndim() != 1 {
            return fail(
                func,
                format!("{what} must be a 1-d array, got shape {:?}", a.shape()),
            );
        }
        return a.0.iter().map(|&x| one(x, &x)).collect();
    }
    if let Some(a) = v.read_lock::<Array>() {
        return a
            .iter()
            .map(|x| match x.as_int() {
                Ok(i) => one(i as f64, x),
                Err(_) => fail(func, format!("{what} must be integers, got {x}")),
            })
            .collect();
    }
    fail(
        func,
        format!(
            "{what} must be an array of integers, got {}",
            crate::docs::type_of(v)
        ),
    )
}

/// A seed: a non-negative integer (every random draw flows from one).
pub fn seed(func: &str, what: &str, v: i64) -> RResult<u64> {
    if v < 0 {
        return fail(
            func,
            format!("{what} must be a non-negative integer, got {v}"),
        );
    }
    Ok(v as u64)
}

/// The model behind a handle (a panic in another thread does not lock it forever).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The `device` option: the session's `--device` unless given; CUDA refused clearly.
pub fn device_option(func: &'static str, o: &mut Opts) -> RResult<tch::Device> {
    let d = match o.string_opt("device")? {
        Some(s) => Device::parse(&s).map_err(error_in(func))?,
        None => crate::settings::device(),
    };
    d.check_available().map_err(error_in(func))?;
    Ok(d.to_tch())
}

/// The last options of a model's `create`: `seed` (over the session seed) and `device`,
/// then no other key may be left.
pub fn seed_and_device(func: &'static str, mut o: Opts) -> RResult<(u64, tch::Device)> {
    let seed = o.seed("seed", crate::settings::seed())?;
    let device = device_option(func, &mut o)?;
    o.finish()?;
    Ok((seed, device))
}

/// The training history as an array of maps `#{ epoch, loss, seconds, samples, … }`.
pub fn history_array(h: &[EpochRecord]) -> Array {
    h.iter()
        .map(|r| {
            let mut m = Map::new();
            m.insert("epoch".into(), (r.epoch as i64).into());
            m.insert("loss".into(), r.loss.into());
            m.insert("seconds".into(), r.seconds.into());
            m.insert("samples".into(), (r.samples as i64).into());
            for (k, v) in &r.parts {
                m.insert(k.as_str().into(), (*v).into());
            }
            Dynamic::from_map(m)
        })
        .collect()
}

/// What every cross-validated network fit reads: `epochs`, `folds`, `batch`, `lr` (over the
/// model's defaults) and `seed` (over the session seed).
pub fn read_fit(o: &mut Opts, d: &Fit) -> RResult<Fit> {
    Ok(Fit {
        epochs: o.int("epochs", d.epochs as i64, 1, super::MAX_EPOCHS)? as usize,
        folds: o.int("folds", d.folds as i64, 0, 100)? as usize,
        batch: o.int("batch", d.batch as i64, 1, 1 << 16)? as usize,
        lr: o.float("lr", d.lr, 0.0, 10.0)?,
        seed: o.seed("seed", crate::settings::seed())?,
    })
}

/// `#{ epochs, validation }` after a fit: the model's epochs and the mean validation loss
/// per epoch of its cross-validation (`()` when it ran without).
pub fn fit_summary(epochs: usize, folds: usize, cv_mean: Option<&[f64]>) -> Map {
    let mut m = Map::new();
    m.insert("epochs".into(), (epochs as i64).into());
    m.insert(
        "validation".into(),
        cv_mean.filter(|_| folds >= 2).map_or(Dynamic::UNIT, |c| {
            Dynamic::from(NdArray::from_vec(c.to_vec()))
        }),
    );
    m
}
