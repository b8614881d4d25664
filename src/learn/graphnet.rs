//! A message-passing network on grain graphs (issue #10): it reads grains and their
//! boundaries instead of a raster. Node encoder MLP → `layers` residual message-passing
//! layers → readout of the area-weighted mean, the max and the min of the node states →
//! MLP → one output per target. Inputs are standardised by scalers fitted on the training
//! graphs and targets as in [`super::regressor`] (NaN = missing, masked out of the loss);
//! [`GraphNet::train`] chooses the epoch count by k-fold CV like [`Regressor::train`]
//! and can keep the fold models, each at its best validation epoch, as an ensemble.
//!
//! [`Regressor::train`]: super::Regressor::train

use super::checkpoint;
use super::cv::{self, CvReport};
use super::error::ensure;
use super::nadam::NAdam;
use super::regressor::{
    check_labels, check_targets, finite_predictions, masked_mse, targets_and_mask,
};
use super::scaler::Scaler;
use super::tensor::{to_array, to_tensor};
use super::train::{EpochRecord, Fit, fit_batches, scalar};
use super::weights::Weights;
use super::{LearnError, Result};
use crate::grains::{EDGE_FEATURES, GrainGraph, NODE_FEATURES};
use ndarray::{Array2, ArrayView2, Axis, Ix2, s};
use serde::{Deserialize, Serialize};
use tch::nn::{self, Module, VarStore};
use tch::{Device, Kind, Tensor};

/// Node inputs: the graph's node features, ln(grain area / nm²) and ln(grain count).
pub const NODE_INPUTS: usize = NODE_FEATURES.len() + 2;
/// Edge inputs: the graph's edge features and boundary length / √(mean grain area).
pub const EDGE_INPUTS: usize = EDGE_FEATURES.len() + 1;
pub const MAX_HIDDEN: i64 = 4096;
pub const MAX_LAYERS: usize = 64;
/// Graphs per forward pass in prediction and validation (bounds memory, not results).
const EVAL_CHUNK: usize = 256;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GraphNetConfig {
    pub targets: Vec<String>,
    /// Width of node states, messages and every hidden layer.
    pub hidden: i64,
    /// Message-passing layers.
    pub layers: usize,
}

impl GraphNetConfig {
    /// Width 64 and 3 message-passing layers for the given targets.
    pub fn new(targets: Vec<String>) -> GraphNetConfig {
        GraphNetConfig {
            targets,
            hidden: 64,
            layers: 3,
        }
    }

    pub fn validate(&self) -> Result<()> {
        check_targets(&self.targets)?;
        ensure((1..=MAX_HIDDEN).contains(&self.hidden), || {
            format!("hidden must be in 1..={MAX_HIDDEN}, got {}", self.hidden)
        })?;
        ensure(self.layers <= MAX_LAYERS, || {
            format!("layers must be in 0..={MAX_LAYERS}, got {}", self.layers)
        })
    }
}

/// Options of [`GraphNet::train`].
#[derive(Clone, Debug, PartialEq)]
pub struct GraphNetTrain {
    pub fit: Fit,
    /// Keep the CV fold models, each restored to its least validation loss, as an ensemble.
    pub keep_folds: bool,
}

impl Default for GraphNetTrain {
    fn default() -> Self {
        GraphNetTrain {
            fit: Fit {
                epochs: 100,
                folds: 4,
                batch: 16,
                lr: 1e-3,
                seed: 0,
            },
            keep_folds: false,
        }
    }
}

/// Standardisation of node and edge inputs, fitted on the training graphs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputScalers {
    pub nodes: Scaler,
    pub edges: Scaler,
}

/// A graph's unscaled inputs: [nodes, NODE_INPUTS] and [edges, EDGE_INPUTS].
struct RawInputs {
    nodes: Array2<f64>,
    edges: Array2<f64>,
}

fn raw_inputs(g: &GrainGraph) -> RawInputs {
    let n = g.nodes.len();
    let nf = NODE_FEATURES.len();
    let mut nodes = Array2::zeros((n, NODE_INPUTS));
    nodes.slice_mut(s![.., ..nf]).assign(&g.node_features());
    for k in 0..n {
        nodes[[k, nf]] = g.area_nm2(k).ln();
        nodes[[k, nf + 1]] = (n as f64).ln();
    }
    let ef = EDGE_FEATURES.len();
    let mut edges = Array2::zeros((g.edges.len(), EDGE_INPUTS));
    edges.slice_mut(s![.., ..ef]).assign(&g.edge_features());
    let scale = (g.sample_area_nm2 / n as f64).sqrt();
    for (k, e) in g.edges.iter().enumerate() {
        edges[[k, ef]] = e.boundary_nm / scale;
    }
    RawInputs { nodes, edges }
}

/// A graph ready for batching: scaled inputs and the directed edges (both ways).
struct Prepared {
    x: Array2<f32>,
    /// Inputs of each directed edge, [2·edges, EDGE_INPUTS].
    e: Array2<f32>,
    src: Vec<i64>,
    dst: Vec<i64>,
    /// Per directed edge: boundary length over the receiver's total boundary, and
    /// 1 / (receiver's neighbours) for the mean.
    w: Vec<[f32; 2]>,
    area: Vec<f32>,
}

fn prepare(g: &GrainGraph, raw: &RawInputs, sc: &InputScalers) -> Prepared {
    let f32s = |a: Array2<f64>| a.mapv(|v| v as f32);
    let x = f32s(sc.nodes.transform(raw.nodes.view()));
    let e1 = f32s(sc.edges.transform(raw.edges.view()));
    let n = g.nodes.len();
    let (mut total, mut degree) = (vec![0.0; n], vec![0usize; n]);
    for e in &g.edges {
        for v in [e.a, e.b] {
            total[v] += e.boundary_nm;
            degree[v] += 1;
        }
    }
    let (mut src, mut dst, mut w) = (vec![], vec![], vec![]);
    for e in &g.edges {
        for (from, to) in [(e.b, e.a), (e.a, e.b)] {
            src.push(from as i64);
            dst.push(to as i64);
            w.push([(e.boundary_nm / total[to]) as f32, 1.0 / degree[to] as f32]);
        }
    }
    // Row 2k and 2k+1 are edge k's two directions.
    let e = Array2::from_shape_fn((2 * g.edges.len(), EDGE_INPUTS), |(r, c)| e1[[r / 2, c]]);
    let area = g.nodes.iter().map(|v| v.area_fraction as f32).collect();
    Prepared {
        x,
        e,
        src,
        dst,
        w,
        area,
    }
}

/// Many graphs as one: nodes concatenated, edge indices offset, each node tagged with its
/// graph.
pub struct GraphBatch {
    x: Tensor,
    e: Tensor,
    src: Tensor,
    dst: Tensor,
    /// [2·edges, 2]: boundary weight and mean weight.
    w: Tensor,
    graph: Tensor,
    /// [nodes, 1]: area fraction within its graph.
    area: Tensor,
    graphs: i64,
}

impl GraphBatch {
    fn new(prepared: &[Prepared], ids: &[usize], device: Device) -> GraphBatch {
        let parts: Vec<&Prepared> = ids.iter().map(|&i| &prepared[i]).collect();
        let (mut x, mut e, mut src, mut dst, mut w, mut graph, mut area) =
            (vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
        let mut offset = 0i64;
        for (k, p) in parts.iter().enumerate() {
            x.extend(p.x.iter());
            e.extend(p.e.iter());
            src.extend(p.src.iter().map(|v| v + offset));
            dst.extend(p.dst.iter().map(|v| v + offset));
            w.extend(p.w.iter().flatten());
            graph.extend(std::iter::repeat_n(k as i64, p.area.len()));
            area.extend(&p.area);
            offset += p.area.len() as i64;
        }
        let f = |v: &[f32], cols: i64| Tensor::from_slice(v).view([-1, cols]).to_device(device);
        let i = |v: &[i64]| Tensor::from_slice(v).to_device(device);
        GraphBatch {
            x: f(&x, NODE_INPUTS as i64),
            e: f(&e, EDGE_INPUTS as i64),
            src: i(&src),
            dst: i(&dst),
            w: f(&w, 2),
            graph: i(&graph),
            area: f(&area, 1),
            graphs: ids.len() as i64,
        }
    }
}

/// Linear → elu → Linear, with elu after the last layer when `out_elu`.
struct Mlp {
    first: nn::Linear,
    second: nn::Linear,
    out_elu: bool,
}

impl Mlp {
    fn new(p: nn::Path, inputs: i64, hidden: i64, outputs: i64, out_elu: bool) -> Mlp {
        Mlp {
            first: nn::linear(&p / "dense1", inputs, hidden, Default::default()),
            second: nn::linear(&p / "dense2", hidden, outputs, Default::default()),
            out_elu,
        }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        self.rest(self.first.forward(x))
    }

    /// Everything after the first layer, given its output.
    fn rest(&self, first: Tensor) -> Tensor {
        let y = self.second.forward(&first.elu());
        if self.out_elu { y.elu() } else { y }
    }

    /// `forward([h[dst], h[src], e])` of a message MLP without that [edges, 2H + E]
    /// matrix: the first layer's node parts are applied once per node, then gathered
    /// (there are several times more directed edges than nodes).
    fn messages(&self, h: &Tensor, b: &GraphBatch) -> Tensor {
        let (w, width) = (&self.first.ws, h.size()[1]);
        let part = |x: &Tensor, from: i64, len: i64| x.matmul(&w.narrow(1, from, len).tr());
        let mut first = part(h, 0, width).index_select(0, &b.dst)
            + part(h, width, width).index_select(0, &b.src)
            + part(&b.e, 2 * width, EDGE_INPUTS as i64);
        if let Some(bias) = &self.first.bs {
            first += bias;
        }
        self.rest(first)
    }
}

pub struct Net {
    encoder: Mlp,
    /// (message, update) per layer.
    layers: Vec<(Mlp, Mlp)>,
    head: Mlp,
}

impl Net {
    fn new(vs: &VarStore, c: &GraphNetConfig) -> Net {
        let root = vs.root();
        let h = c.hidden;
        let e = EDGE_INPUTS as i64;
        Net {
            encoder: Mlp::new(&root / "encoder", NODE_INPUTS as i64, h, h, true),
            layers: (0..c.layers)
                .map(|k| {
                    let p = &root / format!("layer{}", k + 1);
                    (
                        Mlp::new(&p / "message", 2 * h + e, h, h, true),
                        Mlp::new(&p / "update", 3 * h, h, h, false),
                    )
                })
                .collect(),
            head: Mlp::new(&root / "head", 3 * h, h, c.targets.len() as i64, false),
        }
    }

    /// Standardised predictions [graphs, targets].
    pub fn forward(&self, b: &GraphBatch) -> Tensor {
        let mut h = self.encoder.forward(&b.x);
        let (n, width) = (h.size()[0], h.size()[1]);
        let options = (h.kind(), h.device());
        let zeros = |rows: i64, cols: i64| Tensor::zeros([rows, cols], options);
        for (message, update) in &self.layers {
            let m = message.messages(&h, b);
            // [Σ by boundary length, mean] over each node's incoming messages.
            let weighted = Tensor::cat(&[&m * b.w.narrow(1, 0, 1), &m * b.w.narrow(1, 1, 1)], 1);
            let agg = zeros(n, 2 * width).index_add(0, &b.dst, &weighted);
            h = &h + update.forward(&Tensor::cat(&[&h, &agg], 1));
        }
        let g = b.graphs;
        let mean = zeros(g, width).index_add(0, &b.graph, &(&h * &b.area));
        // scatter_reduce, not index_reduce: libtorch warns that the latter is in beta.
        let index = b.graph.unsqueeze(1).expand_as(&h);
        let max = zeros(g, width).internal_scatter_reduce(0, &index, &h, "amax", false);
        let min = zeros(g, width).internal_scatter_reduce(0, &index, &h, "amin", false);
        self.head.forward(&Tensor::cat(&[mean, max, min], 1))
    }

    /// One NAdam step on a batch: the masked loss before the update.
    pub fn step(&self, opt: &mut NAdam, b: &GraphBatch, y: &Tensor, mask: &Tensor) -> f64 {
        let loss = masked_mse(&self.forward(b), y, mask);
        opt.step(&loss);
        scalar(&loss)
    }
}

/// Standardised targets with missing = 0 and the mask, as tensors.
struct Targets {
    y: Tensor,
    mask: Tensor,
}

impl Targets {
    fn rows(&self, ids: &[usize]) -> (Tensor, Tensor) {
        let idx = Tensor::from_slice(&ids.iter().map(|&i| i as i64).collect::<Vec<_>>())
            .to_device(self.y.device());
        (
            self.y.index_select(0, &idx),
            self.mask.index_select(0, &idx),
        )
    }
}

pub struct GraphNet {
    pub config: GraphNetConfig,
    net: Net,
    pub scaler: Option<Scaler>,
    pub inputs: Option<InputScalers>,
    weights: Weights,
    pub cv: Option<CvReport>,
    folds: Vec<GraphNet>,
}

impl GraphNet {
    pub fn new(config: GraphNetConfig, device: Device, seed: u64) -> Result<GraphNet> {
        config.validate()?;
        let weights = Weights::new(device, seed);
        let net = Net::new(&weights.vs, &config);
        Ok(GraphNet {
            config,
            net,
            scaler: None,
            inputs: None,
            weights,
            cv: None,
            folds: vec![],
        })
    }

    pub fn parameter_count(&self) -> usize {
        self.weights.parameter_count()
    }

    pub fn device(&self) -> Device {
        self.weights.device()
    }

    /// Moves the model and its fold models.
    pub fn to_device(&mut self, device: Device) {
        self.weights.to_device(device);
        for f in &mut self.folds {
            f.to_device(device);
        }
    }

    /// Every finished epoch of the (final) fit; a fold model's ends at its best epoch.
    pub fn history(&self) -> &[EpochRecord] {
        &self.weights.history
    }

    /// The CV fold models of the last `train` with `keep_folds`, each at the epoch of its
    /// least validation loss (empty otherwise).
    pub fn fold_models(&self) -> &[GraphNet] {
        &self.folds
    }

    /// Takes the fold models out of the model.
    pub fn take_fold_models(&mut self) -> Vec<GraphNet> {
        std::mem::take(&mut self.folds)
    }

    /// Predictions in the targets' units, [graphs, targets].
    pub fn predict(&self, graphs: &[GrainGraph]) -> Result<Array2<f64>> {
        let (Some(scaler), Some(inputs)) = (&self.scaler, &self.inputs) else {
            return Err(LearnError::msg(
                "the graph network is not trained yet (no scalers)",
            ));
        };
        let raw = checked_inputs(graphs)?;
        let prepared: Vec<Prepared> = graphs
            .iter()
            .zip(&raw)
            .map(|(g, r)| prepare(g, r, inputs))
            .collect();
        let all: Vec<usize> = (0..graphs.len()).collect();
        let mut z = Array2::zeros((0, self.config.targets.len()));
        for ids in all.chunks(EVAL_CHUNK) {
            let b = GraphBatch::new(&prepared, ids, self.device());
            let out = tch::no_grad(|| self.net.forward(&b));
            let out = to_array(&out).into_dimensionality::<Ix2>().expect("2-d");
            z.append(Axis(0), out.mapv(f64::from).view())
                .expect("one column per target");
        }
        let mut y = scaler.inverse(z.view());
        super::ordering::order_anchors(&self.config.targets, &mut y);
        finite_predictions(y)
    }

    /// Trains on graphs and targets `y` [graphs, targets] (NaN = missing), like
    /// [`super::Regressor::train`]: with `folds ≥ 2`, k-fold CV over at most `epochs`
    /// epochs picks the epoch count, then a model re-initialised from `seed` is fitted on
    /// all graphs for that many epochs (and keeps the fold models when `keep_folds`).
    /// Without: `epochs` more epochs, continuing a loaded checkpoint's training.
    pub fn train(
        &mut self,
        graphs: &[GrainGraph],
        y: ArrayView2<f64>,
        opts: &GraphNetTrain,
    ) -> Result<()> {
        ensure(
            y.ncols() == self.config.targets.len() && y.nrows() == graphs.len(),
            || {
                format!(
                    "targets must be [{}, {}] for {} graphs, got {:?}",
                    graphs.len(),
                    self.config.targets.len(),
                    graphs.len(),
                    y.shape()
                )
            },
        )?;
        ensure(!graphs.is_empty(), || "no graphs to train on".into())?;
        check_labels(y, &self.config.targets)?;
        let raw = checked_inputs(graphs)?;
        let data = (graphs, raw.as_slice(), y);
        let all: Vec<usize> = (0..graphs.len()).collect();
        if opts.fit.folds < 2 {
            self.fit(data, &all, None, &opts.fit, "graphnet")?;
            return Ok(());
        }
        let (config, device) = (self.config.clone(), self.device());
        let chosen = cv::cross_validate(
            graphs.len(),
            &opts.fit,
            opts.keep_folds,
            "graphnet",
            |seed| GraphNet::new(config.clone(), device, seed),
            |m, train_ids, val_ids, fit, label| m.fit(data, train_ids, val_ids, fit, label),
        )?;
        *self = chosen.model;
        self.cv = Some(chosen.report);
        self.folds = chosen.folds;
        Ok(())
    }

    /// `opts.epochs` epochs on graphs `train_ids`. With `val_ids`: records the validation
    /// loss per epoch, returns it, and ends with the weights (and history) of the epoch of
    /// least validation loss.
    fn fit(
        &mut self,
        (graphs, raw, y): (&[GrainGraph], &[RawInputs], ArrayView2<f64>),
        train_ids: &[usize],
        val_ids: Option<&[usize]>,
        opts: &Fit,
        label: &str,
    ) -> Result<Vec<f64>> {
        if self.scaler.is_none() {
            self.scaler = Some(Scaler::fit(y.select(Axis(0), train_ids).view()));
        }
        let inputs = self.inputs.get_or_insert_with(|| {
            let stack = |f: &dyn Fn(&RawInputs) -> ArrayView2<f64>| {
                let views: Vec<_> = train_ids.iter().map(|&i| f(&raw[i])).collect();
                ndarray::concatenate(Axis(0), &views).expect("same columns")
            };
            InputScalers {
                nodes: Scaler::fit(stack(&|r| r.nodes.view()).view()),
                edges: Scaler::fit(stack(&|r| r.edges.view()).view()),
            }
        });
        let prepared: Vec<Prepared> = graphs
            .iter()
            .zip(raw)
            .map(|(g, r)| prepare(g, r, inputs))
            .collect();
        let z = self.scaler.as_ref().expect("set").transform(y);
        let (yz, mask) = targets_and_mask(&z);
        let device = self.device();
        let targets = Targets {
            y: to_tensor(&yz, device),
            mask: to_tensor(&mask, device),
        };
        let net = &self.net;
        let (vs, opt, history) = self.weights.parts(opts.lr);
        let (prepared, targets) = (&prepared, &targets);
        let mut validate = val_ids.map(|v| move || masked_loss(net, prepared, targets, v, device));
        let kept = fit_batches(
            vs,
            opt,
            label,
            opts,
            train_ids,
            history,
            |opt, ids| {
                let b = GraphBatch::new(prepared, ids, device);
                let (yb, mb) = targets.rows(ids);
                net.step(opt, &b, &yb, &mb)
            },
            validate.as_mut().map(|f| f as &mut dyn FnMut() -> f64),
            val_ids.is_some(),
        )?;
        let curve = history
            .iter()
            .filter_map(|r| r.parts.get("validation").copied())
            .collect();
        if val_ids.is_some() {
            history.retain(|r| r.epoch <= kept);
        }
        Ok(curve)
    }
}

/// The masked mean squared error (standardised units) over graphs `ids`, evaluated in
/// chunks: the sum of squared errors over the count of present targets.
fn masked_loss(
    net: &Net,
    prepared: &[Prepared],
    targets: &Targets,
    ids: &[usize],
    device: Device,
) -> f64 {
    let (mut sse, mut count) = (0.0, 0.0);
    for chunk in ids.chunks(EVAL_CHUNK) {
        let b = GraphBatch::new(prepared, chunk, device);
        let (y, mask) = targets.rows(chunk);
        let d = tch::no_grad(|| (net.forward(&b) - &y) * &mask);
        sse += scalar(&d.square().sum(Kind::Double));
        count += scalar(&mask.sum(Kind::Double));
    }
    sse / count.max(1.0)
}

/// The inputs of each graph, once checked: every graph has a node, sizes are positive,
/// edges join two of its nodes and features are finite.
fn checked_inputs(graphs: &[GrainGraph]) -> Result<Vec<RawInputs>> {
    let mut out = Vec::with_capacity(graphs.len());
    for (k, g) in graphs.iter().enumerate() {
        let n = g.nodes.len();
        ensure(n > 0, || format!("graph {k} has no nodes"))?;
        ensure(
            g.sample_area_nm2.is_finite()
                && g.sample_area_nm2 > 0.0
                && g.nodes.iter().all(|v| v.area_fraction > 0.0)
                && g.edges.iter().all(|e| e.boundary_nm > 0.0),
            || format!("graph {k} has a node or edge of no size"),
        )?;
        ensure(
            g.edges.iter().all(|e| e.a < n && e.b < n && e.a != e.b),
            || format!("graph {k} has an edge between missing nodes or a loop"),
        )?;
        let raw = raw_inputs(g);
        ensure(
            raw.nodes
                .iter()
                .chain(raw.edges.iter())
                .all(|v| v.is_finite()),
            || format!("graph {k} has non-finite features"),
        )?;
        out.push(raw);
    }
    Ok(out)
}

#[derive(Serialize, Deserialize)]
struct GraphNetMeta {
    config: GraphNetConfig,
    scaler: Option<Scaler>,
    inputs: Option<InputScalers>,
    cv: Option<CvReport>,
}

impl GraphNet {
    /// Writes the checkpoint (fold models are not part of it: save each on its own).
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        let meta = GraphNetMeta {
            config: self.config.clone(),
            scaler: self.scaler.clone(),
            inputs: self.inputs.clone(),
            cv: self.cv.clone(),
        };
        self.weights.save(path, "graphnet", &meta)
    }

    pub fn load(path: impl AsRef<std::path::Path>, device: Device) -> Result<GraphNet> {
        let meta: checkpoint::Meta<GraphNetMeta> = checkpoint::read_meta(&path, "graphnet")?;
        let mut g = GraphNet::new(meta.model.config.clone(), Device::Cpu, 0)?;
        if let Some(s) = &meta.model.scaler {
            ensure(s.fits(g.config.targets.len()), || {
                "the target scaler does not have one entry per target".into()
            })?;
        }
        if let Some(s) = &meta.model.inputs {
            ensure(
                s.nodes.fits(NODE_INPUTS) && s.edges.fits(EDGE_INPUTS),
                || {
                    format!(
                        "the input scalers must have {NODE_INPUTS} node and {EDGE_INPUTS} edge entries"
                    )
                },
            )?;
        }
        g.weights.restore(&path, &meta, device)?;
        g.scaler = meta.model.scaler;
        g.inputs = meta.model.inputs;
        g.cv = meta.model.cv;
        Ok(g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grains::{VoronoiOptions, voronoi};

    /// Small Voronoi structures of 3…10 grains and their area-weighted mean cos 2ψ.
    fn toy(n: usize) -> (Vec<GrainGraph>, Array2<f64>) {
        let graphs: Vec<GrainGraph> = (0..n)
            .map(|i| {
                voronoi(&VoronoiOptions {
                    nx: 16,
                    ny: 16,
                    grains: Some(3 + i % 8),
                    theta: Some(1.2),
                    seed: 100 + i as u64,
                    ..Default::default()
                })
                .unwrap()
                .grain_graph()
            })
            .collect();
        let y = Array2::from_shape_fn((n, 1), |(i, _)| {
            graphs[i]
                .nodes
                .iter()
                .map(|v| v.area_fraction * v.axis[0])
                .sum()
        });
        (graphs, y)
    }

    fn small(targets: &[&str]) -> GraphNetConfig {
        GraphNetConfig {
            targets: targets.iter().map(|t| t.to_string()).collect(),
            hidden: 16,
            layers: 2,
        }
    }

    #[test]
    fn graphnet_shapes_and_parameter_count() {
        tch::set_num_threads(1);
        let g = GraphNet::new(
            GraphNetConfig::new(vec!["a".into(), "b".into()]),
            Device::Cpu,
            0,
        )
        .unwrap();
        let (h, ni, ei) = (64, NODE_INPUTS, EDGE_INPUTS);
        let mlp = |i: usize, o: usize| i * h + h + h * o + o;
        let want = mlp(ni, h) + 3 * (mlp(2 * h + ei, h) + mlp(3 * h, h)) + mlp(3 * h, 2);
        assert_eq!(g.parameter_count(), want);
        let (graphs, _) = toy(3);
        let sc = InputScalers {
            nodes: Scaler::fit(raw_inputs(&graphs[0]).nodes.view()),
            edges: Scaler::fit(raw_inputs(&graphs[0]).edges.view()),
        };
        let p: Vec<Prepared> = graphs
            .iter()
            .map(|x| prepare(x, &raw_inputs(x), &sc))
            .collect();
        let b = GraphBatch::new(&p, &[0, 1, 2], Device::Cpu);
        assert_eq!(tch::no_grad(|| g.net.forward(&b)).size(), vec![3, 2]);
        // Messages gathered from per-node projections equal the MLP on [h_i, h_j, e_ij].
        tch::manual_seed(7);
        let h = Tensor::randn([b.x.size()[0], 64], (Kind::Float, Device::Cpu));
        let message = &g.net.layers[0].0;
        let direct = message.forward(&Tensor::cat(
            &[
                h.index_select(0, &b.dst),
                h.index_select(0, &b.src),
                b.e.shallow_clone(),
            ],
            1,
        ));
        let diff = (message.messages(&h, &b) - direct).abs().max();
        assert!(scalar(&diff) < 1e-5, "{}", scalar(&diff));
        let nodes: usize = graphs.iter().map(|x| x.nodes.len()).sum();
        assert_eq!(b.x.size(), vec![nodes as i64, ni as i64]);
        let edges: usize = graphs.iter().map(|x| x.edges.len()).sum();
        assert_eq!(b.e.size(), vec![2 * edges as i64, ei as i64]);
        assert!(
            g.predict(&graphs)
                .unwrap_err()
                .to_string()
                .contains("not trained")
        );
        assert!(GraphNet::new(small(&["a", "a"]), Device::Cpu, 0).is_err());
    }

    #[test]
    fn graphnet_batches_predict_like_one_by_one() {
        tch::set_num_threads(1);
        let (graphs, y) = toy(12);
        let mut g = GraphNet::new(small(&["t"]), Device::Cpu, 3).unwrap();
        let opts = GraphNetTrain {
            fit: Fit {
                epochs: 2,
                folds: 0,
                batch: 4,
                lr: 1e-2,
                seed: 0,
            },
            keep_folds: false,
        };
        g.train(&graphs, y.view(), &opts).unwrap();
        let all = g.predict(&graphs).unwrap();
        for (k, graph) in graphs.iter().enumerate() {
            let one = g.predict(std::slice::from_ref(graph)).unwrap();
            assert!((one[[0, 0]] - all[[k, 0]]).abs() < 1e-5, "graph {k}");
        }
        // Differing graphs give differing outputs: the batch does not mix them up.
        assert!(
            all.column(0)
                .iter()
                .any(|&v| (v - all[[0, 0]]).abs() > 1e-4)
        );
    }

    /// Relative mean squared errors (over the target variance) on the first `n_train`
    /// graphs and on the rest, after `epochs` epochs of batches of 16 at lr 3e-3.
    fn fitted(layers: usize, graphs: &[GrainGraph], y: &Array2<f64>, n_train: usize) -> (f64, f64) {
        let config = GraphNetConfig {
            layers,
            ..small(&["t"])
        };
        let mut g = GraphNet::new(config, Device::Cpu, 5).unwrap();
        let opts = GraphNetTrain {
            fit: Fit {
                epochs: 300 * 16 / n_train,
                folds: 0,
                batch: 16,
                lr: 3e-3,
                seed: 1,
            },
            keep_folds: false,
        };
        g.train(&graphs[..n_train], y.slice(s![..n_train, ..]), &opts)
            .unwrap();
        let p = g.predict(graphs).unwrap();
        let rel = |r: std::ops::Range<usize>| {
            let d = &p.slice(s![r.clone(), ..]) - &y.slice(s![r, ..]);
            d.mapv(|v| v * v).mean().unwrap() / y.var(0.0)
        };
        (rel(0..n_train), rel(n_train..graphs.len()))
    }

    #[test]
    fn graphnet_learns_toy_targets_in_300_steps() {
        tch::set_num_threads(1);
        let (graphs, axis_order) = toy(320);
        // A node-level target: the area-weighted mean cos 2ψ.
        let (train, held_out) = fitted(2, &graphs, &axis_order, 256);
        assert!(train < 0.1 && held_out < 0.4, "{train:.3} / {held_out:.3}");
        // A boundary-level target only messages carry: the boundary-weighted mean
        // cos 2Δψ (1 without boundaries). Without message passing the net cannot see it.
        let misorientation = Array2::from_shape_fn((graphs.len(), 1), |(i, _)| {
            let e = &graphs[i].edges;
            let length: f64 = e.iter().map(|e| e.boundary_nm).sum();
            if e.is_empty() {
                1.0
            } else {
                e.iter().map(|e| e.boundary_nm * e.cos2dpsi).sum::<f64>() / length
            }
        });
        let (with, _) = fitted(2, &graphs, &misorientation, 256);
        let (without, _) = fitted(0, &graphs, &misorientation, 256);
        assert!(
            with < 0.15 && with < 0.5 * without,
            "{with:.3} vs {without:.3}"
        );
    }

    #[test]
    fn graphnet_masks_missing_targets() {
        tch::set_num_threads(1);
        let (graphs, c2) = toy(16);
        // Target b is missing on every other graph.
        let y = Array2::from_shape_fn((16, 2), |(i, j)| match j {
            0 => c2[[i, 0]],
            _ if i % 2 == 0 => f64::NAN,
            _ => graphs[i].nodes.len() as f64,
        });
        let mut g = GraphNet::new(small(&["a", "b"]), Device::Cpu, 2).unwrap();
        let opts = GraphNetTrain {
            fit: Fit {
                epochs: 3,
                folds: 2,
                batch: 4,
                lr: 1e-2,
                seed: 0,
            },
            keep_folds: false,
        };
        g.train(&graphs, y.view(), &opts).unwrap();
        let cv = g.cv.clone().unwrap();
        assert!(cv.validation.iter().flatten().all(|v| v.is_finite()));
        let scaler = g.scaler.clone().unwrap();
        let odd: Vec<f64> = (1..16).step_by(2).map(|i| y[[i, 1]]).collect();
        assert!((scaler.mean[1] - odd.iter().sum::<f64>() / 8.0).abs() < 1e-12);
        let p = g.predict(&graphs).unwrap();
        assert!(p.iter().all(|v| v.is_finite()));
        // The chunked validation loss is the mean over present entries only.
        let (yz, mask) = targets_and_mask(&scaler.transform(y.view()));
        let t = Targets {
            y: to_tensor(&yz, Device::Cpu),
            mask: to_tensor(&mask, Device::Cpu),
        };
        let inputs = g.inputs.as_ref().unwrap();
        let prep: Vec<Prepared> = graphs
            .iter()
            .map(|x| prepare(x, &raw_inputs(x), inputs))
            .collect();
        let ids: Vec<usize> = (0..16).collect();
        let loss = masked_loss(&g.net, &prep, &t, &ids, Device::Cpu);
        let pz = scaler.transform(p.view());
        let z = scaler.transform(y.view());
        let present: Vec<f64> = pz
            .iter()
            .zip(z.iter())
            .filter(|(_, t)| t.is_finite())
            .map(|(p, t)| (p - t) * (p - t))
            .collect();
        assert_eq!(present.len(), 24);
        let want = present.iter().sum::<f64>() / 24.0;
        assert!(
            (loss - want).abs() < 1e-4 * want.max(1.0),
            "{loss} vs {want}"
        );
    }

    #[test]
    fn graphnet_cv_keeps_fold_models_and_checkpoint_round_trips() {
        tch::set_num_threads(1);
        let (graphs, y) = toy(18);
        let mut g = GraphNet::new(small(&["c2"]), Device::Cpu, 1).unwrap();
        let opts = GraphNetTrain {
            fit: Fit {
                epochs: 6,
                folds: 3,
                batch: 4,
                lr: 1e-2,
                seed: 4,
            },
            keep_folds: true,
        };
        g.train(&graphs, y.view(), &opts).unwrap();
        let cv = g.cv.clone().unwrap();
        assert_eq!((cv.validation.len(), cv.validation[0].len()), (3, 6));
        assert_eq!(Some(cv.best_epochs), cv::best_epoch(&cv.validation));
        assert_eq!(g.history().len(), cv.best_epochs);
        assert_eq!(g.fold_models().len(), 3);
        let folds = cv::folds(18, 3, 4);
        for (f, m) in g.fold_models().iter().enumerate() {
            let curve = &cv.validation[f];
            let best = cv::best_epoch(std::slice::from_ref(curve)).unwrap();
            assert_eq!(m.history().len(), best, "fold {f} ends at its best epoch");
            // The restored weights give the best epoch's validation loss.
            let val: Vec<GrainGraph> = folds[f].iter().map(|&i| graphs[i].clone()).collect();
            let yv = y.select(Axis(0), &folds[f]);
            let sc = m.scaler.as_ref().unwrap();
            let d = sc.transform(m.predict(&val).unwrap().view()) - sc.transform(yv.view());
            let loss = d.mapv(|v| v * v).mean().unwrap();
            assert!((loss - curve[best - 1]).abs() < 1e-4 * curve[best - 1].max(1e-3));
        }
        let p = g.predict(&graphs).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g");
        g.save(&path).unwrap();
        let back = GraphNet::load(&path, Device::Cpu).unwrap();
        assert_eq!(back.predict(&graphs).unwrap(), p);
        assert_eq!(
            (back.cv.clone(), back.history().len()),
            (g.cv.clone(), g.history().len())
        );
        let e = crate::learn::Regressor::load(&path, Device::Cpu)
            .err()
            .unwrap();
        assert!(e.to_string().contains("not a `regressor` one"), "{e}");
    }
}
