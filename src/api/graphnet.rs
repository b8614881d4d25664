//! The `graphnet` module: the message-passing network on grain graphs (structures →
//! anchors), and `s.grain_graph()` to inspect what it reads.

use super::convert::{
    device_option, fit_summary, history_array, lock, read_fit, seed_and_device, shared,
};
use super::data::SharedDataset;
use super::grains::{SharedSample, SharedStructure};
use super::latent::all_ids;
use super::opts::Opts;
use super::regressor::{target_names, targets_in, targets_out};
use super::{RResult, error, error_in, fail};
use crate::array::NdArray;
use crate::grains::{EDGE_FEATURES, GrainGraph, NODE_FEATURES, Structure};
use crate::learn::graphnet::{MAX_HIDDEN, MAX_LAYERS};
use crate::learn::{GraphNet, GraphNetConfig, GraphNetTrain};
use ndarray::{Array2, ArrayD, IxDyn};
use rayon::prelude::*;
use rhai::plugin::*;
use rhai::{Array, Map};
use std::sync::{Arc, Mutex};

pub type SharedGraphNet = Arc<Mutex<GraphNet>>;

/// Grain graphs of a Structure (`true`: one), an array of Structures, a Dataset or a
/// Sample; structures of datasets and samples are rebuilt in parallel.
pub fn graphs_in(func: &str, v: &Dynamic) -> RResult<(Vec<GrainGraph>, bool)> {
    let rebuilt = |n: usize, get: &(dyn Fn(usize) -> Result<Structure, String> + Sync)| {
        (0..n)
            .into_par_iter()
            .map(|k| {
                crate::interrupt::check().map_err(|e| e.to_string())?;
                get(k).map(|s| s.grain_graph())
            })
            .collect::<Result<Vec<_>, String>>()
            .map_err(|e| error(func, e))
    };
    if let Some(s) = v.read_lock::<SharedStructure>() {
        return Ok((vec![s.grain_graph()], true));
    }
    if let Some(d) = v.read_lock::<SharedDataset>().map(|d| d.clone()) {
        let n = all_ids(func, &d)?.len();
        let get = |k: usize| {
            d.dataset()
                .structure(d.rows()[k])
                .map_err(|e| e.to_string())
        };
        return Ok((rebuilt(n, &get)?, false));
    }
    if let Some(s) = v.read_lock::<SharedSample>().map(|s| s.clone()) {
        let n = all_ids(func, &*s)?.len();
        let get = |k: usize| s.get(k).map_err(|e| e.to_string());
        return Ok((rebuilt(n, &get)?, false));
    }
    if let Some(a) = v.read_lock::<Array>() {
        let graphs = a
            .iter()
            .enumerate()
            .map(|(k, x)| {
                x.read_lock::<SharedStructure>()
                    .map(|s| s.grain_graph())
                    .ok_or_else(|| {
                        error(
                            func,
                            format!(
                                "structures[{k}] must be a Structure, got {}",
                                crate::docs::type_of(x)
                            ),
                        )
                    })
            })
            .collect::<RResult<_>>()?;
        return Ok((graphs, false));
    }
    fail(
        func,
        format!(
            "expected a Structure, an array of Structures, a Dataset or a Sample, got {}",
            crate::docs::type_of(v)
        ),
    )
}

fn nd(a: Array2<f64>) -> Dynamic {
    Dynamic::from(NdArray::new(a.into_dyn()))
}

fn names(n: &[&str]) -> Dynamic {
    Dynamic::from_array(n.iter().map(|s| (*s).into()).collect())
}

#[export_module]
pub mod graphnet_module {
    use super::*;

    /// A graph network for the six anchors with the default layout (width 64, 3 layers).
    #[rhai_fn(name = "create", return_raw)]
    pub fn new_default(ctx: NativeCallContext) -> RResult<SharedGraphNet> {
        new(ctx, Map::new())
    }

    /// A fresh message-passing network on grain graphs: `graphnet::create(#{ targets:
    /// ["Mr", "Hc"], hidden: 64, layers: 3, seed: 1, device: "cpu" })`. Node encoder MLP →
    /// `layers` residual message-passing layers (messages from neighbours summed by
    /// boundary length and averaged) → area-weighted mean, max and min of the node states
    /// → MLP → one output per target (elu). Targets default to the six anchors.
    #[rhai_fn(name = "create", return_raw)]
    pub fn new(ctx: NativeCallContext, opts: Map) -> RResult<SharedGraphNet> {
        let f = "graphnet::create";
        crate::api::located(
            &ctx,
            (|| {
                let mut o = Opts::new(f, opts);
                let targets = target_names(f, o.value("targets"))?;
                let hidden = o.int("hidden", 64, 1, MAX_HIDDEN)?;
                let layers = o.int("layers", 3, 0, MAX_LAYERS as i64)? as usize;
                let (seed, device) = seed_and_device(f, o)?;
                let config = GraphNetConfig {
                    targets,
                    hidden,
                    layers,
                };
                shared(f, GraphNet::new(config, device, seed))
            })(),
        )
    }

    /// Loads a checkpoint written by `g.save(path)` (weights, scalers, CV report, history).
    #[rhai_fn(return_raw)]
    pub fn load(ctx: NativeCallContext, path: &str) -> RResult<SharedGraphNet> {
        crate::api::located(
            &ctx,
            shared(
                "graphnet::load",
                GraphNet::load(path, crate::settings::device().to_tch()),
            ),
        )
    }

    /// Trains on structures (an array of Structures, a Dataset or a Sample) and targets
    /// (an array of maps like `curve.anchors()`, missing anchors `()`, or an NdArray
    /// [n, targets] with NaN): `g.train(ds, anchors, #{ folds: 4, epochs: 100, batch: 16,
    /// lr: 1e-3, seed: 0, keep_folds: false })`. With `folds ≥ 2`, k-fold CV over at most
    /// `epochs` epochs picks the epoch count of least mean validation loss, then a fresh
    /// model is fitted on all structures; `folds: 0` trains `epochs` more epochs. Returns
    /// `#{ epochs, validation, folds }`: the chosen count, the mean validation loss per
    /// epoch (`()` without CV) and, with `keep_folds: true`, the fold models (each at its
    /// least validation loss, an ensemble), else `[]`.
    #[rhai_fn(global, name = "train", return_raw)]
    pub fn train(
        g: &mut SharedGraphNet,
        structures: Dynamic,
        targets: Dynamic,
        opts: Map,
    ) -> RResult<Map> {
        let f = "GraphNet.train";
        let mut o = Opts::new(f, opts);
        let d = GraphNetTrain::default();
        let t = GraphNetTrain {
            fit: read_fit(&mut o, &d.fit)?,
            keep_folds: o.bool("keep_folds", d.keep_folds)?,
        };
        let device = device_option(f, &mut o)?;
        o.finish()?;
        let mut net = lock(g);
        let y = targets_in(f, &targets, &net.config.targets.clone())?;
        let (graphs, _) = graphs_in(f, &structures)?;
        if graphs.len() != y.nrows() {
            return fail(
                f,
                format!("{} structures but {} target rows", graphs.len(), y.nrows()),
            );
        }
        net.to_device(device);
        crate::api::trained(f, net.train(&graphs, y.view(), &t))?;
        let folds: Array = net
            .take_fold_models()
            .into_iter()
            .map(|m| Dynamic::from(Arc::new(Mutex::new(m))))
            .collect();
        let cv = net.cv.as_ref().map(|c| c.mean.as_slice());
        let mut m = fit_summary(net.history().len(), t.fit.folds, cv);
        m.insert("folds".into(), folds.into());
        Ok(m)
    }

    /// Predicted anchors: a Structure gives a map like `curve.anchors()`; an array of
    /// Structures, a Dataset or a Sample an array of maps: `g.predict(ds)`.
    #[rhai_fn(global, name = "predict", return_raw)]
    pub fn predict(g: &mut SharedGraphNet, structures: Dynamic) -> RResult<Dynamic> {
        let f = "GraphNet.predict";
        let (graphs, one) = graphs_in(f, &structures)?;
        let net = lock(g);
        let y = net.predict(&graphs).map_err(error_in(f))?;
        Ok(targets_out(&y, &net.config.targets, one))
    }

    /// Writes `path.safetensors`, `path.json` (architecture, scalers, CV report, history)
    /// and `path.optim.safetensors`: `g.save("out/graphnet")`. Fold models are saved on
    /// their own.
    #[rhai_fn(global, name = "save", return_raw)]
    pub fn save(g: &mut SharedGraphNet, path: &str) -> RResult<()> {
        lock(g).save(path).map_err(error_in("GraphNet.save"))
    }

    /// Trainable parameters (105 030 for the default layout and six targets).
    #[rhai_fn(global, name = "parameter_count", pure)]
    pub fn parameter_count(g: &mut SharedGraphNet) -> i64 {
        lock(g).parameter_count() as i64
    }

    /// Target names in output order.
    #[rhai_fn(global, get = "targets", pure)]
    pub fn targets(g: &mut SharedGraphNet) -> Array {
        lock(g)
            .config
            .targets
            .iter()
            .map(|t| t.as_str().into())
            .collect()
    }

    /// Every finished epoch of the final fit: `#{ epoch, loss, seconds, samples }`.
    #[rhai_fn(global, name = "history", pure)]
    pub fn graph_history(g: &mut SharedGraphNet) -> Array {
        history_array(lock(g).history())
    }

    /// `GraphNet(width 64, 3 layers → 6 targets, 105030 parameters, 0 epochs trained)`.
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn graph_to_string(g: &mut SharedGraphNet) -> String {
        let net = lock(g);
        format!(
            "GraphNet(width {}, {} layers → {} targets, {} parameters, {} epochs trained)",
            net.config.hidden,
            net.config.layers,
            net.config.targets.len(),
            net.parameter_count(),
            net.history().len()
        )
    }

    /// The grain graph the network reads: `#{ grains, nodes, node_names, edges,
    /// edge_features, edge_names }` — one node per grain that owns cells (`grains`: its
    /// id), `nodes` [n, 6] (area fraction, cos 2ψ, sin 2ψ, centroid x and y in 0..1,
    /// fraction of cells on the sample edge), `edges` [m, 2] (node indices of grains
    /// sharing cell faces) and `edge_features` [m, 3] (boundary length in nm, cos 2Δψ,
    /// |sin Δψ|).
    #[rhai_fn(global, name = "grain_graph", pure)]
    pub fn grain_graph(s: &mut SharedStructure) -> Map {
        let g = s.grain_graph();
        let ids: Vec<f64> = g.nodes.iter().map(|v| f64::from(v.grain)).collect();
        let edges: Vec<f64> = g
            .edges
            .iter()
            .flat_map(|e| [e.a as f64, e.b as f64])
            .collect();
        let edges = ArrayD::from_shape_vec(IxDyn(&[g.edges.len(), 2]), edges).expect("m × 2");
        let mut m = Map::new();
        m.insert("grains".into(), Dynamic::from(NdArray::from_vec(ids)));
        m.insert("nodes".into(), nd(g.node_features()));
        m.insert("node_names".into(), names(&NODE_FEATURES));
        m.insert("edges".into(), Dynamic::from(NdArray::new(edges)));
        m.insert("edge_features".into(), nd(g.edge_features()));
        m.insert("edge_names".into(), names(&EDGE_FEATURES));
        m
    }
}

pub fn module() -> Module {
    let mut m = exported_module!(graphnet_module);
    m.set_custom_type::<SharedGraphNet>("GraphNet");
    m
}
