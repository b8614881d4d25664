//! The `ensemble` module: k regressors trained on k-fold subsets (each early-stopped on its
//! held-out fold), predicting the members' mean with a calibrated uncertainty; and the
//! measures of such predictions (coverage, ordering violations).

use super::convert::{device_option, lock, shared};
use super::latent::codes_in;
use super::opts::Opts;
use super::regressor::{target_names, targets_in, targets_out};
use super::{MAX_EPOCHS, RResult, error, error_in, fail};
use crate::array::NdArray;
use crate::grains::DescriptorSet;
use crate::learn::boosting::BoostConfig;
use crate::learn::ensemble::{Ensemble, EnsembleTrain};
use crate::learn::gp::{FIT_ROWS, GpConfig};
use crate::learn::{RegressorConfig, metrics, ordering};
use rhai::plugin::*;
use rhai::{Array, Map};
use std::sync::{Arc, Mutex};

pub type SharedEnsemble = Arc<Mutex<Ensemble>>;

/// Widths of an ensemble member unless the script says otherwise: small against the
/// paper's regressor, as fits tens of descriptors and hundreds of labels.
pub const MEMBER_TRUNK: [i64; 3] = [128, 128, 64];
pub const MEMBER_HEAD: [i64; 2] = [32, 16];

/// `priors: #{ Mr: 10, … }` — per target the input column holding a prior estimate of it.
fn prior_columns(
    f: &str,
    priors: Option<Dynamic>,
    targets: &[String],
    inputs: usize,
) -> RResult<Vec<Option<usize>>> {
    let Some(p) = priors else {
        return Ok(vec![]);
    };
    let form = "a map from target name to input column, e.g. #{ Mr: 10 }";
    let Some(map) = p.try_cast::<Map>() else {
        return fail(f, format!("priors must be {form}"));
    };
    let mut cols = vec![None; targets.len()];
    for (name, col) in map {
        let Some(t) = targets.iter().position(|t| t.as_str() == name.as_str()) else {
            return fail(f, format!("priors: `{name}` is not a target ({targets:?})"));
        };
        match col.as_int() {
            Ok(c) if (0..inputs as i64).contains(&c) => cols[t] = Some(c as usize),
            _ => {
                return fail(
                    f,
                    format!("priors: `{name}` must be an input column in 0..{inputs}"),
                );
            }
        }
    }
    Ok(cols)
}

/// The ensemble options of `o` for `inputs` input columns (all of `ensemble::train`'s but
/// `device`): the members' networks and their training.
pub fn ensemble_options(
    f: &'static str,
    o: &mut Opts,
    inputs: usize,
) -> RResult<(RegressorConfig, EnsembleTrain)> {
    let d = EnsembleTrain::default();
    let t = EnsembleTrain {
        members: o.int("members", d.members as i64, 2, 64)? as usize,
        epochs: o.int("epochs", d.epochs as i64, 1, MAX_EPOCHS)? as usize,
        batch: o.int("batch", d.batch as i64, 1, 1 << 16)? as usize,
        lr: o.float("lr", d.lr, 0.0, 10.0)?,
        seed: o.seed("seed", crate::settings::seed())?,
        trees: {
            let b = BoostConfig::default();
            match o.int("trees", b.trees as i64, 0, 100_000)? as usize {
                0 => None,
                trees => Some(BoostConfig {
                    trees,
                    depth: o.int("tree_depth", b.depth as i64, 1, 16)? as usize,
                    ..b
                }),
            }
        },
        gp: {
            let on = o.bool("gp", true)?;
            let fit_rows = o.int("gp_rows", FIT_ROWS as i64, 1, 1 << 20)? as usize;
            on.then(|| GpConfig {
                fit_rows,
                ..GpConfig::default()
            })
        },
        priors: vec![],
    };
    let priors = o.value("priors");
    let config = RegressorConfig {
        trunk: o.widths("trunk", &MEMBER_TRUNK)?,
        head: o.widths("head", &MEMBER_HEAD)?,
        scale_inputs: o.bool("scale_inputs", true)?,
        linear_skip: o.bool("linear_skip", false)?,
        ..RegressorConfig::new(inputs, target_names(f, o.value("targets"))?)
    };
    let t = EnsembleTrain {
        priors: prior_columns(f, priors, &config.targets, inputs)?,
        ..t
    };
    Ok((config, t))
}

fn named_values(names: &[String], v: &[f64]) -> Map {
    names
        .iter()
        .zip(v)
        .map(|(n, &x)| (n.as_str().into(), Dynamic::from_float(x)))
        .collect()
}

/// Option `columns`: one name per input column.
fn column_names(f: &str, v: Dynamic, inputs: usize) -> RResult<Vec<String>> {
    let expected = || {
        format!("option `columns` must be an array of {inputs} strings, one name per input column")
    };
    let a = v.try_cast::<Array>().ok_or_else(|| error(f, expected()))?;
    let names: Vec<String> = a
        .into_iter()
        .map(|n| n.into_string().map_err(|_| error(f, expected())))
        .collect::<RResult<_>>()?;
    if names.len() != inputs {
        return fail(f, format!("{}, got {}", expected(), names.len()));
    }
    Ok(names)
}

/// The descriptor set a model on descriptors reads: from its column names when it has
/// them (`ensemble::train(…, #{ columns })`), which an explicit `coarse` must agree with;
/// else what was asked.
pub fn descriptor_set_of(
    f: &str,
    model: &SharedEnsemble,
    asked: DescriptorSet,
) -> RResult<DescriptorSet> {
    let e = lock(model);
    let Some(columns) = &e.columns else {
        return Ok(asked);
    };
    let Some(own) = DescriptorSet::all().find(|s| s.names() == *columns) else {
        return fail(
            f,
            format!(
                "the model's input columns ({}, …) are not the descriptors of \
                 grains::descriptor_names(), which {f} computes for the structures",
                columns
                    .iter()
                    .take(3)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    };
    if let Some(c) = asked.coarse
        && asked != own
    {
        return fail(
            f,
            format!(
                "option `{c}` disagrees with the model, trained on {}",
                own.coarse.map_or(
                    "the descriptors without coarse-mesh anchors".into(),
                    |c| format!("the descriptors with {c}")
                )
            ),
        );
    }
    Ok(own)
}

#[export_module]
pub mod ensemble_module {
    use super::*;

    /// Trains an ensemble on inputs [n, inputs] (codes, descriptors or both) and targets
    /// (anchor maps or an NdArray [n, targets]): `ensemble::train(x, anchors, #{ members: 8,
    /// epochs: 150, batch: 32, lr: 2e-3, seed: 0, trunk: [128, 128, 64], head: [32, 16],
    /// scale_inputs: true, trees: 300, tree_depth: 3, gp: true, gp_rows: 1000,
    /// priors: #{ Mr: 10, … },
    /// targets: [...], device: "cpu" })`. Member f trains a network, boosted trees and a
    /// Gaussian process (Matérn 5/2, a length scale per input) per target on every row
    /// outside fold f (network and trees stopped at their best on fold f); each member
    /// predicts a blend of the three with weights per target chosen on the out-of-fold
    /// predictions (`trees: 0`, `gp: false`: without them). A GP's hyperparameters are
    /// searched on at most `gp_rows` of its rows (spread evenly); its weights use all.
    /// `priors` names per target an input column
    /// holding a prior estimate (`grains::descriptor_priors()` for descriptors) whose
    /// correction the trees may learn instead. σ = a member's expected |error| at the
    /// input (small trees cross-fitted on the out-of-fold residuals) × a factor per
    /// target calibrated on those residuals. `columns: grains::descriptor_names(…)` names
    /// the input columns; the checkpoint keeps them (`e.columns`), and a design on
    /// descriptors takes its `coarse` from them.
    #[rhai_fn(return_raw)]
    pub fn train(
        ctx: NativeCallContext,
        inputs: NdArray,
        targets: Dynamic,
        opts: Map,
    ) -> RResult<SharedEnsemble> {
        let f = "ensemble::train";
        crate::api::located(
            &ctx,
            (|| {
                let (x, _) = codes_in(f, &inputs)?;
                let mut o = Opts::new(f, opts);
                let (config, t) = ensemble_options(f, &mut o, x.ncols())?;
                let columns = o
                    .value("columns")
                    .map(|v| column_names(f, v, x.ncols()))
                    .transpose()?;
                let device = device_option(f, &mut o)?;
                o.finish()?;
                let y = targets_in(f, &targets, &config.targets)?;
                if y.nrows() != x.nrows() {
                    return fail(
                        f,
                        format!("{} input rows but {} target rows", x.nrows(), y.nrows()),
                    );
                }
                let mut e =
                    Ensemble::train(config, x.view(), y.view(), &t, device).map_err(error_in(f))?;
                e.columns = columns;
                shared(f, Ok(e))
            })(),
        )
    }

    /// Loads an ensemble written by `e.save(path)`.
    #[rhai_fn(return_raw)]
    pub fn load(ctx: NativeCallContext, path: &str) -> RResult<SharedEnsemble> {
        crate::api::located(
            &ctx,
            shared(
                "ensemble::load",
                Ensemble::load(path, crate::settings::device().to_tch()),
            ),
        )
    }

    /// Predictions and their uncertainties: `#{ anchors, sigma }`, each an array of maps
    /// like `curve.anchors()` (for a 1-d input row: one map each).
    #[rhai_fn(global, name = "predict", return_raw)]
    pub fn predict(e: &mut SharedEnsemble, x: NdArray) -> RResult<Map> {
        let f = "Ensemble.predict";
        let (x, one) = codes_in(f, &x)?;
        let e = lock(e);
        let (mean, sigma) = e.predict(x.view()).map_err(error_in(f))?;
        let mut m = Map::new();
        m.insert("anchors".into(), targets_out(&mean, &e.config.targets, one));
        m.insert("sigma".into(), targets_out(&sigma, &e.config.targets, one));
        Ok(m)
    }

    /// `e.predict(grains::descriptors(src))` averaged over each magnet's four symmetric
    /// images (`grains::symmetries()`), σ too: `#{ anchors, sigma }` like `e.predict`, the
    /// same for every image of a magnet. `src` as `grains::descriptors` takes it; the
    /// descriptors are the model's own (its `columns`), else the plain ones. Worth it
    /// with coarse-mesh anchors, which coarsening makes differ between images: four
    /// coarse curves per magnet, and lower errors on the field anchors (README, "Coarse cells
    /// without ties").
    ///
    /// ```rhai
    /// let o = #{ coarse: 2, coarse_exchange: "scaled" };
    /// let ss = [];
    /// for k in 0..6 { ss.push(grains::voronoi(#{ n: 16, grains: 2 + k % 3, seed: k })); }
    /// let y = solver::demag_curves(ss, #{}).map(|c| c.anchors());
    /// let e = ensemble::train(grains::descriptors(ss, o), y, #{ members: 2, epochs: 4,
    ///     trees: 0, gp: false, targets: ["Mr", "Hc"], seed: 1, columns: grains::descriptor_names(o) });
    /// let p = e.predict_images(ss);
    /// let q = e.predict_images(ss.map(|s| s.transformed("mirror_x")), o);
    /// for i in 0..ss.len() {
    ///     assert_close(p.anchors[i].Hc, q.anchors[i].Hc, 1e-12, "the same on a mirror image");
    ///     assert(p.sigma[i].Mr > 0.0, "with its σ");
    /// }
    /// let sum = 0.0;
    /// for t in grains::symmetries() {
    ///     sum += e.predict(grains::descriptors([ss[1].transformed(t)], o)).anchors[0].Hc;
    /// }
    /// assert_close(p.anchors[1].Hc, sum / 4.0, 1e-6, "the mean of the images' predictions");
    /// ```
    #[rhai_fn(global, name = "predict_images", return_raw)]
    pub fn predict_images(
        ctx: NativeCallContext,
        e: &mut SharedEnsemble,
        src: Dynamic,
    ) -> RResult<Map> {
        predict_images_with(ctx, e, src, Map::new())
    }

    /// `e.predict_images(src, #{ coarse: f, coarse_exchange, coarse_anisotropy })`: the
    /// descriptor options, which must agree with the model's columns when it has them.
    #[rhai_fn(global, name = "predict_images", return_raw)]
    pub fn predict_images_with(
        ctx: NativeCallContext,
        e: &mut SharedEnsemble,
        src: Dynamic,
        opts: Map,
    ) -> RResult<Map> {
        let f = "Ensemble.predict_images";
        crate::api::located(
            &ctx,
            (|| {
                let mut o = Opts::new(f, opts);
                let asked = o.descriptor_set()?;
                o.finish()?;
                let set = descriptor_set_of(f, e, asked)?;
                let src = crate::api::structures::Structures::from_value(f, &src)?;
                let model = lock(e);
                if model.config.inputs != set.len() {
                    return fail(
                        f,
                        format!(
                            "the model takes {} inputs but the descriptors{} are {}; pass the \
                             options it was trained with (`coarse: f`, …)",
                            model.config.inputs,
                            set.coarse.map_or(String::new(), |c| format!(" with {c}")),
                            set.len()
                        ),
                    );
                }
                drop(model);
                let x = crate::learn::images::image_rows(&set, src.len(), |k| src.get(k))
                    .map_err(|m| error(f, m))?
                    .mapv(|v| v as f32);
                let model = lock(e);
                let (mean, sigma, _) =
                    crate::learn::images::predict_images(&model, x.view()).map_err(error_in(f))?;
                let one = src.single();
                let mut m = Map::new();
                m.insert(
                    "anchors".into(),
                    targets_out(&mean, &model.config.targets, one),
                );
                m.insert(
                    "sigma".into(),
                    targets_out(&sigma, &model.config.targets, one),
                );
                Ok(m)
            })(),
        )
    }

    /// Writes `path.json` and one regressor checkpoint `path.member{k}.*` per member.
    #[rhai_fn(global, name = "save", return_raw)]
    pub fn save(e: &mut SharedEnsemble, path: &str) -> RResult<()> {
        lock(e).save(path).map_err(error_in("Ensemble.save"))
    }

    /// What training found: `#{ best_epochs: [...], calibration: #{ M1: …, … },
    /// oof_mae: #{ M1: …, … }, blend: #{ M1: …, … }, gp_blend: #{ M1: …, … }, priors: #{
    /// Mr: 10, … } }` (σ factor, single members' out-of-fold MAE, the trees' and the GP's
    /// weights in the blend, and the prior columns the trees kept, per target).
    #[rhai_fn(global, pure)]
    pub fn report(e: &mut SharedEnsemble) -> Map {
        let e = lock(e);
        let r = &e.report;
        let mut m = Map::new();
        m.insert(
            "best_epochs".into(),
            r.best_epochs
                .iter()
                .map(|&b| Dynamic::from_int(b as i64))
                .collect::<Array>()
                .into(),
        );
        m.insert(
            "calibration".into(),
            named_values(&e.config.targets, &r.calibration).into(),
        );
        m.insert(
            "oof_mae".into(),
            named_values(&e.config.targets, &r.oof_mae).into(),
        );
        m.insert(
            "blend".into(),
            named_values(&e.config.targets, &r.blend).into(),
        );
        let gp_blend = if r.gp_blend.is_empty() {
            vec![0.0; r.blend.len()]
        } else {
            r.gp_blend.clone()
        };
        m.insert(
            "gp_blend".into(),
            named_values(&e.config.targets, &gp_blend).into(),
        );
        let priors: Map = e
            .config
            .targets
            .iter()
            .enumerate()
            .filter_map(|(t, name)| {
                let prior = e.trees.first()?.get(t)?.prior?;
                Some((name.as_str().into(), Dynamic::from_int(prior as i64)))
            })
            .collect();
        m.insert("priors".into(), priors.into());
        m
    }

    /// Trainable parameters over all members.
    /// The input columns' names given at training (`columns`), or `()`.
    #[rhai_fn(global, get = "columns", pure)]
    pub fn columns(e: &mut SharedEnsemble) -> Dynamic {
        match &lock(e).columns {
            None => Dynamic::UNIT,
            Some(c) => c
                .iter()
                .cloned()
                .map(Dynamic::from)
                .collect::<Array>()
                .into(),
        }
    }

    #[rhai_fn(global, pure)]
    pub fn parameter_count(e: &mut SharedEnsemble) -> i64 {
        lock(e).parameter_count() as i64
    }

    /// `Ensemble(8 members, 40 → 6 targets)`.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn to_string(e: &mut SharedEnsemble) -> String {
        let e = lock(e);
        format!(
            "Ensemble({} members, {} → {} targets)",
            e.members.len(),
            e.config.inputs,
            e.config.targets.len()
        )
    }

    /// Calibration of uncertainties: the fraction of computed anchors within ±1σ and ±2σ
    /// of the prediction, `#{ "1sigma": …, "2sigma": … }` (0.683 and 0.954 for a calibrated
    /// normal law): `ensemble::coverage(p.anchors, p.sigma, truth)`.
    ///
    /// ```rhai
    /// let p = [#{ Hc: 0.30 }, #{ Hc: 0.40 }, #{ Hc: 0.50 }, #{ Hc: 0.60 }];
    /// let sigma = [#{ Hc: 0.01 }, #{ Hc: 0.01 }, #{ Hc: 0.01 }, #{ Hc: 0.01 }];
    /// let truth = [#{ Hc: 0.305 }, #{ Hc: 0.415 }, #{ Hc: 0.50 }, #{ Hc: 0.65 }];
    /// let c = ensemble::coverage(p, sigma, truth);
    /// assert(c["1sigma"] == 0.5 && c["2sigma"] == 0.75, "2 of 4 within 1σ, 3 within 2σ");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn coverage(
        ctx: NativeCallContext,
        predicted: Dynamic,
        sigma: Dynamic,
        computed: Dynamic,
    ) -> RResult<Map> {
        let f = "ensemble::coverage";
        crate::api::located(
            &ctx,
            (|| {
                let names = crate::learn::regressor::anchor_names();
                let p = targets_in(f, &predicted, &names)?;
                let s = targets_in(f, &sigma, &names)?;
                let c = targets_in(f, &computed, &names)?;
                if p.nrows() != c.nrows() || s.nrows() != c.nrows() {
                    return fail(
                        f,
                        format!(
                            "{} predictions, {} sigmas, {} computed rows",
                            p.nrows(),
                            s.nrows(),
                            c.nrows()
                        ),
                    );
                }
                let mut m = Map::new();
                for (key, k) in [("1sigma", 1.0), ("2sigma", 2.0)] {
                    let v = metrics::coverage(p.view(), s.view(), c.view(), k);
                    m.insert(key.into(), v.map_or(Dynamic::UNIT, Dynamic::from_float));
                }
                Ok(m)
            })(),
        )
    }

    /// Rows of predicted anchors (maps like `curve.anchors()`) that break Hk90 ≤ Hk80 ≤
    /// Hk70 ≤ Hc or Mr ≤ M1 ≤ 1 (by more than 1e-12).
    ///
    /// ```rhai
    /// let p = [#{ Hk90: 0.5, Hk80: 0.4, Hk70: 0.6, Hc: 0.7 }, #{ Hk90: 0.3, Hk80: 0.4, Hk70: 0.5, Hc: 0.6 }];
    /// assert(ensemble::ordering_violations(p) == 1, "Hk90 > Hk80 in the first");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn ordering_violations(ctx: NativeCallContext, predicted: Dynamic) -> RResult<i64> {
        let f = "ensemble::ordering_violations";
        crate::api::located(
            &ctx,
            (|| {
                let names = crate::learn::regressor::anchor_names();
                let p = targets_in(f, &predicted, &names)?;
                Ok(ordering::violations(&names, &p, 1e-12) as i64)
            })(),
        )
    }
}

pub fn module() -> Module {
    let mut m = exported_module!(ensemble_module);
    m.set_custom_type::<SharedEnsemble>("Ensemble");
    m
}
