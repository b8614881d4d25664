//! The `regressor` module: the multi-head regressor of the paper's Table 2 (codes →
//! anchors), its baselines (mean predictor, ridge regression) and the Table-3 evaluation
//! (MAE per anchor in Ms / HA, printed beside the paper's figures).

use super::convert::{
    device_option, fit_summary, history_array, lock, read_fit, seed_and_device, shared,
};
use super::latent::codes_in;
use super::opts::Opts;
use super::{RResult, error, error_in, fail};
use crate::array::NdArray;
use crate::learn::baselines::Baseline;
use crate::learn::regressor::anchor_names;
use crate::learn::{Regressor, RegressorConfig, metrics};
use ndarray::Array2;
use rhai::plugin::*;
use rhai::{Array, Map};
use std::sync::{Arc, Mutex};

pub type SharedRegressor = Arc<Mutex<Regressor>>;
pub type SharedBaseline = Arc<Baseline>;

/// Targets [n, names] from an array of maps like `Curve.anchors()` (missing: `()` or
/// absent) or an NdArray [n, names] (missing: NaN).
pub fn targets_in(func: &str, v: &Dynamic, names: &[String]) -> RResult<Array2<f64>> {
    if let Some(a) = v.read_lock::<NdArray>() {
        return match a.shape() {
            [n, k] if *k == names.len() => {
                Ok(Array2::from_shape_fn((*n, *k), |(i, j)| a.0[[i, j]]))
            }
            s => fail(
                func,
                format!("targets must have shape [n, {}], got {s:?}", names.len()),
            ),
        };
    }
    let Some(rows) = v.read_lock::<Array>() else {
        return fail(
            func,
            format!(
                "targets must be an array of anchor maps or an NdArray [n, targets], got {}",
                crate::docs::type_of(v)
            ),
        );
    };
    let mut out = Array2::from_elem((rows.len(), names.len()), f64::NAN);
    for (i, r) in rows.iter().enumerate() {
        let m = r.read_lock::<Map>().ok_or_else(|| {
            error(
                func,
                format!(
                    "targets[{i}] must be a map like curve.anchors(), got {}",
                    crate::docs::type_of(r)
                ),
            )
        })?;
        for (j, name) in names.iter().enumerate() {
            if let Some(x) = m.get(name.as_str()).filter(|x| !x.is_unit()) {
                out[[i, j]] = super::array::number(func, x)?;
            }
        }
    }
    Ok(out)
}

/// A map per row (1 row and `single`: the map itself) with `()` for non-finite values.
pub fn targets_out(y: &Array2<f64>, names: &[String], single: bool) -> Dynamic {
    let maps: Array = y
        .outer_iter()
        .map(|r| {
            let m: Map = names
                .iter()
                .zip(r.iter())
                .map(|(n, &v)| {
                    (
                        n.as_str().into(),
                        if v.is_finite() {
                            Dynamic::from_float(v)
                        } else {
                            Dynamic::UNIT
                        },
                    )
                })
                .collect();
            Dynamic::from_map(m)
        })
        .collect();
    if single {
        maps.into_iter().next().unwrap_or(Dynamic::UNIT)
    } else {
        Dynamic::from_array(maps)
    }
}

pub fn target_names(func: &str, v: Option<Dynamic>) -> RResult<Vec<String>> {
    match v {
        None => Ok(anchor_names()),
        Some(d) => d
            .read_lock::<Array>()
            .ok_or_else(|| {
                error(
                    func,
                    "targets must be an array of names, e.g. [\"Mr\", \"Hc\"]",
                )
            })?
            .iter()
            .map(|x| {
                x.clone()
                    .into_string()
                    .map_err(|_| error(func, "each target must be a string"))
            })
            .collect(),
    }
}

/// Codes and targets of a fit, checked against each other.
fn fit_data(
    func: &str,
    codes: &NdArray,
    targets: &Dynamic,
    names: &[String],
) -> RResult<(Array2<f32>, Array2<f64>)> {
    let (x, _) = codes_in(func, codes)?;
    let y = targets_in(func, targets, names)?;
    if x.nrows() != y.nrows() {
        return fail(
            func,
            format!("{} codes but {} target rows", x.nrows(), y.nrows()),
        );
    }
    Ok((x, y))
}

#[export_module]
pub mod regressor_module {
    use super::*;

    /// The paper's regressor: 512 inputs, targets M1, Mr, Hk90, Hk80, Hk70, Hc (Table 2).
    #[rhai_fn(name = "create", return_raw)]
    pub fn new_default(ctx: NativeCallContext) -> RResult<SharedRegressor> {
        new(ctx, Map::new())
    }

    /// A fresh regressor: `regressor::create(#{ inputs: 512, targets: ["Mr", "Hc"], seed: 1,
    /// device: "cpu" })` — shared trunk 512-1024-512-256-128-64, one head 32-16-8-4-2-1 per
    /// target (elu). Targets default to the six anchors. `trunk` and `head` set other
    /// widths (`#{ trunk: [128, 128], head: [32, 16] }`); `scale_inputs: true`
    /// standardises each input column on the training rows (for descriptors);
    /// `linear_skip: true` adds a linear map of the inputs to the outputs. Predicted
    /// anchors always obey Hk90 ≤ Hk80 ≤ Hk70 ≤ Hc and Mr ≤ M1 ≤ 1.
    #[rhai_fn(name = "create", return_raw)]
    pub fn new(ctx: NativeCallContext, opts: Map) -> RResult<SharedRegressor> {
        let f = "regressor::create";
        crate::api::located(
            &ctx,
            (|| {
                let mut o = Opts::new(f, opts);
                let inputs =
                    o.int("inputs", 512, 1, crate::learn::regressor::MAX_INPUTS as i64)? as usize;
                let config = RegressorConfig {
                    trunk: o.widths("trunk", &crate::learn::regressor::TRUNK)?,
                    head: o.widths("head", &crate::learn::regressor::HEAD)?,
                    scale_inputs: o.bool("scale_inputs", false)?,
                    linear_skip: o.bool("linear_skip", false)?,
                    ..RegressorConfig::new(inputs, target_names(f, o.value("targets"))?)
                };
                let (seed, device) = seed_and_device(f, o)?;
                shared(f, Regressor::new(config, device, seed))
            })(),
        )
    }

    /// Loads a checkpoint written by `r.save(path)` (weights, scaler, CV report, history).
    #[rhai_fn(return_raw)]
    pub fn load(ctx: NativeCallContext, path: &str) -> RResult<SharedRegressor> {
        crate::api::located(
            &ctx,
            shared(
                "regressor::load",
                Regressor::load(path, crate::settings::device().to_tch()),
            ),
        )
    }

    /// Trains on codes [n, inputs] and targets (an array of maps like `curve.anchors()`,
    /// missing anchors `()`, or an NdArray [n, targets] with NaN): `r.train(z, anchors,
    /// #{ folds: 4, epochs: 200, batch: 16, lr: 1e-4, seed: 0 })`. With `folds ≥ 2`,
    /// k-fold CV over at most `epochs` epochs picks the epoch count of least mean
    /// validation loss, then a fresh model is fitted on all rows; `folds: 0` trains
    /// `epochs` more epochs (resuming a loaded model). Returns `#{ epochs, validation }`
    /// (the chosen count and the mean validation loss per epoch, or `()` without CV).
    #[rhai_fn(global, name = "train", return_raw)]
    pub fn train(
        r: &mut SharedRegressor,
        codes: NdArray,
        targets: Dynamic,
        opts: Map,
    ) -> RResult<Map> {
        let f = "Regressor.train";
        let mut o = Opts::new(f, opts);
        let t = read_fit(&mut o, &Regressor::FIT)?;
        let device = device_option(f, &mut o)?;
        o.finish()?;
        let mut reg = lock(r);
        reg.to_device(device);
        let (x, y) = fit_data(f, &codes, &targets, &reg.config.targets.clone())?;
        crate::api::trained(f, reg.train(x.view(), y.view(), &t))?;
        let cv = reg.cv.as_ref().map(|c| c.mean.as_slice());
        Ok(fit_summary(reg.history().len(), t.folds, cv))
    }

    /// Predicted anchors: a 1-d code gives a map like `curve.anchors()`, a 2-d array
    /// [n, inputs] an array of maps: `r.predict(v.encode(s))`.
    #[rhai_fn(global, name = "predict", return_raw)]
    pub fn predict(r: &mut SharedRegressor, z: NdArray) -> RResult<Dynamic> {
        let f = "Regressor.predict";
        let (x, one) = codes_in(f, &z)?;
        let reg = lock(r);
        let y = reg.predict(x.view()).map_err(error_in(f))?;
        Ok(targets_out(&y, &reg.config.targets, one))
    }

    /// Writes `path.safetensors`, `path.json` (architecture, target scaler, CV report,
    /// history) and `path.optim.safetensors`: `r.save("out/regressor")`.
    #[rhai_fn(global, name = "save", return_raw)]
    pub fn save(r: &mut SharedRegressor, path: &str) -> RResult<()> {
        lock(r).save(path).map_err(error_in("Regressor.save"))
    }

    /// Trainable parameters (1 502 006 for the paper's regressor).
    #[rhai_fn(global, name = "parameter_count", pure)]
    pub fn parameter_count(r: &mut SharedRegressor) -> i64 {
        lock(r).parameter_count() as i64
    }

    /// Target names in output order.
    #[rhai_fn(global, get = "targets", pure)]
    pub fn targets(r: &mut SharedRegressor) -> Array {
        lock(r)
            .config
            .targets
            .iter()
            .map(|t| t.as_str().into())
            .collect()
    }

    /// Every finished epoch of the final fit: `#{ epoch, loss, seconds, samples }`.
    #[rhai_fn(global, name = "history", pure)]
    pub fn reg_history(r: &mut SharedRegressor) -> Array {
        history_array(lock(r).history())
    }

    /// `Regressor(512 → 6 targets, 1502006 parameters, 0 epochs trained)`.
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn reg_to_string(r: &mut SharedRegressor) -> String {
        let reg = lock(r);
        format!(
            "Regressor({} → {} targets, {} parameters, {} epochs trained)",
            reg.config.inputs,
            reg.config.targets.len(),
            reg.parameter_count(),
            reg.history().len()
        )
    }

    /// Baseline: predicts each target's mean over the training rows:
    /// `let b = regressor::mean(z_train, anchors_train); b.predict(z_test)`.
    #[rhai_fn(name = "mean", return_raw)]
    pub fn mean(
        ctx: NativeCallContext,
        codes: NdArray,
        targets: Dynamic,
    ) -> RResult<SharedBaseline> {
        let f = "regressor::mean";
        crate::api::located(
            &ctx,
            (|| {
                let (x, y) = fit_data(f, &codes, &targets, &anchor_names())?;
                Baseline::mean(x.view(), y.view())
                    .map(Arc::new)
                    .map_err(error_in(f))
            })(),
        )
    }

    /// Baseline: ridge regression of each anchor on the codes (intercept, penalty
    /// `lambda` > 0; faer Cholesky): `regressor::ridge(z_train, anchors_train, 1.0)`.
    #[rhai_fn(name = "ridge", return_raw)]
    pub fn ridge(
        ctx: NativeCallContext,
        codes: NdArray,
        targets: Dynamic,
        lambda: f64,
    ) -> RResult<SharedBaseline> {
        let f = "regressor::ridge";
        crate::api::located(
            &ctx,
            (|| {
                let (x, y) = fit_data(f, &codes, &targets, &anchor_names())?;
                if x.ncols() > 8192 {
                    return fail(f, "at most 8192 inputs");
                }
                Baseline::ridge(x.view(), y.view(), lambda)
                    .map(Arc::new)
                    .map_err(error_in(f))
            })(),
        )
    }

    /// Baseline predictions, like `Regressor.predict`: `b.predict(z)`.
    #[rhai_fn(global, name = "predict", return_raw)]
    pub fn baseline_predict(b: &mut SharedBaseline, z: NdArray) -> RResult<Dynamic> {
        let f = "Baseline.predict";
        let (x, one) = codes_in(f, &z)?;
        let y = b.predict(x.view()).map_err(error_in(f))?;
        Ok(targets_out(&y, &anchor_names(), one))
    }

    /// `Baseline(ridge, 512 inputs)`.
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn baseline_to_string(b: &mut SharedBaseline) -> String {
        format!("Baseline({}, {} inputs)", b.name(), b.inputs())
    }

    /// Mean absolute error per anchor (rows where both exist) of predicted against computed
    /// anchors, both arrays of maps like `curve.anchors()`: `regressor::mae(pred, truth)` →
    /// `#{ M1: …, Mr: …, … }` (`()` where no row has both).
    ///
    /// ```rhai
    /// let m = regressor::mae([#{ Mr: 0.5, Hc: 0.3 }], [#{ Mr: 0.4, Hc: () }]);
    /// assert_close(m.Mr, 0.1, 1e-12, "|0.5 - 0.4|");
    /// assert(type_of(m.Hc) == "()", "no computed Hc: no error");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn mae(ctx: NativeCallContext, predicted: Dynamic, computed: Dynamic) -> RResult<Map> {
        let f = "regressor::mae";
        crate::api::located(
            &ctx,
            (|| {
                let names = anchor_names();
                let p = targets_in(f, &predicted, &names)?;
                let c = targets_in(f, &computed, &names)?;
                if p.nrows() != c.nrows() {
                    return fail(
                        f,
                        format!("{} predictions but {} computed rows", p.nrows(), c.nrows()),
                    );
                }
                Ok(names
                    .iter()
                    .zip(metrics::mae(p.view(), c.view()))
                    .map(|(n, v)| {
                        (
                            n.as_str().into(),
                            v.map_or(Dynamic::UNIT, Dynamic::from_float),
                        )
                    })
                    .collect())
            })(),
        )
    }

    /// A Table-3-like text table: one row per anchor with its unit (Ms, HA), one column per
    /// `#{ label, mae }` (maps from `regressor::mae`), and the paper's test MAE:
    /// `print(regressor::table([#{ label: "VAE test", mae: m }, #{ label: "mean", mae: b }]))`.
    #[rhai_fn(return_raw)]
    pub fn table(ctx: NativeCallContext, columns: Array) -> RResult<String> {
        let f = "regressor::table";
        crate::api::located(
            &ctx,
            (|| {
                let names = anchor_names();
                let cols = columns
                    .iter()
                    .map(|c| {
                        let m = c
                            .read_lock::<Map>()
                            .map(|m| m.clone())
                            .ok_or_else(|| error(f, "each column must be #{ label, mae }"))?;
                        let mut o = Opts::new(f, m);
                        let label = o.string_opt("label")?.unwrap_or_default();
                        let mae = o
                            .value("mae")
                            .ok_or_else(|| error(f, "each column needs `mae`"))?;
                        o.finish()?;
                        let row = targets_in(f, &Dynamic::from_array(vec![mae]), &names)?;
                        Ok((
                            label,
                            row.row(0)
                                .iter()
                                .map(|v| v.is_finite().then_some(*v))
                                .collect(),
                        ))
                    })
                    .collect::<RResult<Vec<_>>>()?;
                Ok(metrics::table(&names, &cols))
            })(),
        )
    }
}

pub fn module() -> Module {
    let mut m = exported_module!(regressor_module);
    m.set_custom_type::<SharedRegressor>("Regressor");
    m.set_custom_type::<SharedBaseline>("Baseline");
    m
}
