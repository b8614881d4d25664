//! Random draws in scripts from the session's stream: `rand`, `randint`, `randn(shape)`,
//! `choice`, `shuffle`.
//!
//! Each engine holds one stream, seeded from `--seed` when the engine is built (kept as the
//! engine's default tag, so every run on that engine — each REPL line, each imported
//! module — continues the same stream). Two runs of a script with the same `--seed` draw the
//! same numbers; another seed draws others. The stream is ChaCha8's stream 1 of the seed,
//! so it does not repeat what `randn(shape, seed)` and `seed` options draw from stream 0.

use super::array::{shape_of, to_dynamic};
use super::{RResult, error, fail};
use crate::array::NdArray;
use ndarray::{ArrayD, Axis, IxDyn};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rhai::plugin::*;
use rhai::{Array, Dynamic};
use std::sync::{Arc, Mutex};

/// An engine's random stream (shared by every run on that engine).
#[derive(Clone)]
pub struct ScriptRng(Arc<Mutex<ChaCha8Rng>>);

impl ScriptRng {
    pub fn new(seed: u64) -> ScriptRng {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(1);
        ScriptRng(Arc::new(Mutex::new(rng)))
    }
}

/// Runs `f` with the engine's stream.
fn with_rng<T>(
    ctx: &NativeCallContext,
    func: &str,
    f: impl FnOnce(&mut ChaCha8Rng) -> T,
) -> RResult<T> {
    let rng = ctx
        .tag()
        .and_then(|t| t.read_lock::<ScriptRng>().map(|r| r.clone()))
        .ok_or_else(|| {
            error(
                func,
                "this engine has no random stream (build it with coercive::engine::new_engine)",
            )
        })?;
    // A panic elsewhere while drawing cannot leave the generator half-updated.
    let mut guard = rng.0.lock().unwrap_or_else(|p| p.into_inner());
    Ok(f(&mut guard))
}

#[export_module]
pub mod random_module {
    use super::*;

    /// A uniform draw in [0, 1) from the session's stream (seeded by `--seed`: the same
    /// seed gives the same draws, run after run).
    ///
    /// ```rhai
    /// let x = rand();
    /// assert(x >= 0.0 && x < 1.0, "in [0, 1)");
    /// ```
    #[rhai_fn(name = "rand", return_raw)]
    pub fn rand_one(ctx: NativeCallContext) -> RResult<f64> {
        with_rng(&ctx, "rand", |r| r.random::<f64>())
    }

    /// Uniform draws in [0, 1) of the given shape from the session's stream:
    /// `rand([2, 3])` or `rand(5)`.
    ///
    /// ```rhai
    /// let a = rand([100, 2]);
    /// assert(a.shape == [100, 2] && a.min() >= 0.0 && a.max() < 1.0, "in [0, 1)");
    /// ```
    #[rhai_fn(name = "rand", return_raw)]
    pub fn rand_shape(ctx: NativeCallContext, shape: Dynamic) -> RResult<NdArray> {
        let shape = shape_of("rand", &shape)?;
        let n = shape.iter().product::<usize>();
        let v = with_rng(&ctx, "rand", |r| {
            (0..n).map(|_| r.random::<f64>()).collect()
        })?;
        ArrayD::from_shape_vec(IxDyn(&shape), v)
            .map(NdArray::new)
            .map_err(crate::api::error_in("rand"))
    }

    /// Standard normal draws of the given shape from the session's stream: `randn([4, 8])`
    /// (`randn(shape, seed)` takes an explicit seed instead).
    ///
    /// ```rhai
    /// let a = randn(2000);
    /// assert(a.mean().abs() < 0.1 && (a.std() - 1.0).abs() < 0.1, "standard normal");
    /// ```
    #[rhai_fn(name = "randn", return_raw)]
    pub fn randn_stream(ctx: NativeCallContext, shape: Dynamic) -> RResult<NdArray> {
        use ndarray_rand::RandomExt;
        let shape = shape_of("randn", &shape)?;
        with_rng(&ctx, "randn", |r| {
            NdArray::new(ArrayD::random_using(
                IxDyn(&shape),
                rand_distr::StandardNormal,
                r,
            ))
        })
    }

    /// A uniform integer with a ≤ x < b (numpy's `randint`) from the session's stream.
    ///
    /// ```rhai
    /// let k = randint(0, 6);
    /// assert(k >= 0 && k < 6, "a die from 0");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn randint(ctx: NativeCallContext, a: i64, b: i64) -> RResult<i64> {
        if a >= b {
            return fail(
                "randint",
                format!("needs a < b (draws a ≤ x < b), got {a} and {b}"),
            );
        }
        with_rng(&ctx, "randint", |r| r.random_range(a..b))
    }

    /// One element drawn uniformly from a Rhai array, or one row (along the first axis)
    /// of an NdArray (a number for a 1-d array).
    ///
    /// ```rhai
    /// let pick = choice(["kx", "axis"]);
    /// assert(pick == "kx" || pick == "axis", "one of them");
    /// assert(choice(array([[1, 2], [3, 4]])).shape == [2], "a row");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn choice(ctx: NativeCallContext, items: Dynamic) -> RResult<Dynamic> {
        let f = "choice";
        if let Some(a) = items.read_lock::<NdArray>().map(|a| a.clone()) {
            if a.0.ndim() == 0 || a.shape()[0] == 0 {
                return fail(f, format!("nothing to choose from: shape {:?}", a.shape()));
            }
            let k = with_rng(&ctx, f, |r| r.random_range(0..a.shape()[0]))?;
            return Ok(to_dynamic(a.0.index_axis(Axis(0), k).to_owned()));
        }
        if let Some(a) = items.read_lock::<Array>().map(|a| a.clone()) {
            if a.is_empty() {
                return fail(f, "nothing to choose from: the array is empty");
            }
            let k = with_rng(&ctx, f, |r| r.random_range(0..a.len()))?;
            return Ok(a[k].clone());
        }
        fail(
            f,
            format!(
                "expected an array or an NdArray, got {}",
                crate::docs::type_of(&items)
            ),
        )
    }

    /// A shuffled copy of a Rhai array, or of an NdArray along its first axis (rows keep
    /// their contents, as numpy's `shuffle`); the argument is left as it was.
    ///
    /// ```rhai
    /// let order = shuffle([0, 1, 2, 3, 4]);
    /// order.sort();
    /// assert(order == [0, 1, 2, 3, 4], "a permutation");
    /// let rows = shuffle(array([[1, 1], [2, 2], [3, 3]]));
    /// assert(rows.sum(1).sum() == 12.0 && rows.shape == [3, 2], "rows kept whole");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn shuffle(ctx: NativeCallContext, items: Dynamic) -> RResult<Dynamic> {
        let f = "shuffle";
        if let Some(a) = items.read_lock::<NdArray>().map(|a| a.clone()) {
            if a.0.ndim() == 0 {
                return fail(f, "a 0-d array has no rows to shuffle");
            }
            let mut order: Vec<usize> = (0..a.shape()[0]).collect();
            with_rng(&ctx, f, |r| order.shuffle(r))?;
            return Ok(Dynamic::from(NdArray::new(a.0.select(Axis(0), &order))));
        }
        if let Some(a) = items.read_lock::<Array>().map(|a| a.clone()) {
            let mut a = a;
            with_rng(&ctx, f, |r| a.shuffle(r))?;
            return Ok(Dynamic::from_array(a));
        }
        fail(
            f,
            format!(
                "expected an array or an NdArray, got {}",
                crate::docs::type_of(&items)
            ),
        )
    }
}

pub fn module() -> Module {
    exported_module!(random_module)
}

#[cfg(test)]
mod tests {
    use super::ScriptRng;

    fn draws(seed: u64) -> Vec<String> {
        let mut engine = crate::engine::new_engine(None).unwrap();
        engine.set_default_tag(rhai::Dynamic::from(ScriptRng::new(seed)));
        let script = "[rand(), randint(0, 1000000), rand([3]).sum(), randn(2).sum(), \
                      choice([1, 2, 3, 4, 5, 6, 7, 8]), shuffle([1, 2, 3, 4, 5, 6, 7, 8])]";
        // Two runs on one engine continue one stream, as REPL lines do.
        let first: rhai::Array = engine.eval(script).unwrap();
        let second: rhai::Array = engine.eval(script).unwrap();
        assert_ne!(format!("{first:?}"), format!("{second:?}"));
        vec![format!("{first:?}"), format!("{second:?}")]
    }

    #[test]
    fn the_same_seed_draws_the_same_stream_and_another_seed_another() {
        assert_eq!(draws(5), draws(5));
        assert_ne!(draws(5), draws(6));
    }

    #[test]
    fn draws_are_in_range_and_errors_are_clear() {
        let engine = crate::engine::new_engine(None).unwrap();
        let ok: bool = engine
            .eval("let ok = true; for i in 0..200 { let k = randint(-2, 3); ok = ok && k >= -2 && k < 3; } ok")
            .unwrap();
        assert!(ok);
        for (script, msg) in [
            ("randint(3, 3)", "randint: needs a < b"),
            ("choice([])", "choice: nothing to choose from"),
            ("choice(zeros([0, 2]))", "choice: nothing to choose from"),
            (
                "shuffle(5)",
                "shuffle: expected an array or an NdArray, got int",
            ),
            ("rand([-1])", "rand: shape entries"),
        ] {
            let e = engine
                .eval::<rhai::Dynamic>(script)
                .unwrap_err()
                .to_string();
            assert!(e.contains(msg), "{script}: {e}");
        }
    }
}
