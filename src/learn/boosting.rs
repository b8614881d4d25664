//! Gradient-boosted regression trees (Friedman, Ann. Stat. 29, 1189 (2001)): squared loss,
//! trees of limited depth grown level by level with exact greedy splits, shrinkage and row
//! subsampling. Trees cut where a descriptor crosses a threshold — a grain that nucleates
//! before remanence, a tail of misaligned grains — which smooth networks of a few hundred
//! labels round off; the ensemble blends both. Optionally a tree model learns the
//! correction to a prior estimate of its target held in one input column (e.g. the
//! Stoner–Wohlfarth anchor of the same grains), so the trees spend their splits on what the
//! prior misses.
//!
//! Written here rather than taken from a crate: the maintained Rust GBM (`perpetual`) was
//! measured 5–40× slower and less accurate on these descriptors than this textbook
//! algorithm, and the others are unmaintained.

use super::Result;
use super::error::ensure;
use ndarray::ArrayView2;
use rand::SeedableRng;
use rand::seq::index::sample;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Settings of one boosted model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoostConfig {
    pub trees: usize,
    pub depth: usize,
    pub learning_rate: f64,
    /// Fraction of the rows each tree sees (drawn without replacement).
    pub subsample: f64,
    /// Fewest rows in a leaf.
    pub min_leaf: usize,
}

impl Default for BoostConfig {
    fn default() -> Self {
        BoostConfig {
            trees: 300,
            depth: 3,
            learning_rate: 0.05,
            subsample: 0.8,
            min_leaf: 1,
        }
    }
}

impl BoostConfig {
    pub fn validate(&self) -> Result<()> {
        ensure(
            (1..=100_000).contains(&self.trees)
                && (1..=16).contains(&self.depth)
                && self.learning_rate > 0.0
                && self.learning_rate <= 1.0
                && self.subsample > 0.0
                && self.subsample <= 1.0
                && self.min_leaf >= 1,
            || {
                format!(
                    "boosted trees need trees in 1..=100000, depth in 1..=16, learning_rate \
                     and subsample in (0, 1], min_leaf ≥ 1; got {self:?}"
                )
            },
        )
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
enum Node {
    Leaf(f64),
    Split {
        feature: u32,
        threshold: f32,
        left: u32,
        right: u32,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Tree(Vec<Node>);

impl Tree {
    fn eval(&self, row: impl Fn(usize) -> f32) -> f64 {
        let mut k = 0;
        loop {
            match &self.0[k] {
                Node::Leaf(v) => return *v,
                Node::Split {
                    feature,
                    threshold,
                    left,
                    right,
                } => {
                    k = if row(*feature as usize) <= *threshold {
                        *left as usize
                    } else {
                        *right as usize
                    }
                }
            }
        }
    }
}

/// A boosted model of one target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Boosted {
    /// Input column holding a prior estimate of the target; the trees model the rest.
    pub prior: Option<usize>,
    init: f64,
    rate: f64,
    trees: Vec<Tree>,
}

/// Best split of one node: (gain, feature, threshold).
type Best = Option<(f64, usize, f32)>;

impl Boosted {
    /// Fits target `y` (finite entries only count) on inputs `x` [n, inputs] (finite).
    pub fn fit(
        x: ArrayView2<f32>,
        y: &[f64],
        prior: Option<usize>,
        cfg: &BoostConfig,
        seed: u64,
    ) -> Result<Boosted> {
        cfg.validate()?;
        ensure(y.len() == x.nrows(), || {
            format!("{} targets for {} input rows", y.len(), x.nrows())
        })?;
        ensure(prior.is_none_or(|p| p < x.ncols()), || {
            format!("prior column {prior:?} outside the {} inputs", x.ncols())
        })?;
        ensure(x.iter().all(|v| v.is_finite()), || {
            "boosted trees need finite inputs".to_string()
        })?;
        let rows: Vec<usize> = (0..y.len()).filter(|&i| y[i].is_finite()).collect();
        ensure(!rows.is_empty(), || "no finite target to fit".to_string())?;
        let base = |i: usize| prior.map_or(0.0, |p| x[[i, p]] as f64);
        let target: Vec<f64> = rows.iter().map(|&i| y[i] - base(i)).collect();
        let init = target.iter().sum::<f64>() / target.len() as f64;
        let mut fitted = vec![init; rows.len()];
        // Rows (positions in `rows`) in increasing order of each feature, once.
        let order: Vec<Vec<(u32, f32)>> = (0..x.ncols())
            .map(|f| {
                let mut o: Vec<(u32, f32)> = (0..rows.len())
                    .map(|r| (r as u32, x[[rows[r], f]]))
                    .collect();
                o.sort_by(|a, b| a.1.total_cmp(&b.1));
                o
            })
            .collect();
        let mut rng = ChaCha8Rng::seed_from_u64(crate::grains::rng::splitmix64(seed, 0xb005));
        let take = ((cfg.subsample * rows.len() as f64).round() as usize).clamp(1, rows.len());
        let mut trees = Vec::with_capacity(cfg.trees);
        let value = |r: u32, f: usize| x[[rows[r as usize], f]];
        for _ in 0..cfg.trees {
            let residual: Vec<f64> = target.iter().zip(&fitted).map(|(t, f)| t - f).collect();
            let mut in_sample = vec![false; rows.len()];
            for r in sample(&mut rng, rows.len(), take) {
                in_sample[r] = true;
            }
            let tree = grow(&order, &residual, &in_sample, value, cfg);
            for (r, f) in fitted.iter_mut().enumerate() {
                *f += cfg.learning_rate * tree.eval(|c| value(r as u32, c));
            }
            trees.push(tree);
        }
        Ok(Boosted {
            prior,
            init,
            rate: cfg.learning_rate,
            trees,
        })
    }

    /// Prediction for each row of `x`.
    pub fn predict(&self, x: ArrayView2<f32>) -> Vec<f64> {
        x.rows()
            .into_iter()
            .map(|row| {
                let base = self.prior.map_or(0.0, |p| row[p] as f64);
                base + self.init
                    + self.rate * self.trees.iter().map(|t| t.eval(|c| row[c])).sum::<f64>()
            })
            .collect()
    }

    /// Keeps the first trees whose prediction of the held-out rows `x`, `y` (finite
    /// entries) has the least absolute error: early stopping on a validation fold.
    /// Returns the number kept.
    pub fn keep_best_prefix(&mut self, x: ArrayView2<f32>, y: &[f64]) -> usize {
        let rows: Vec<usize> = (0..y.len()).filter(|&i| y[i].is_finite()).collect();
        if rows.is_empty() {
            return self.trees.len();
        }
        let mut p: Vec<f64> = rows
            .iter()
            .map(|&i| self.prior.map_or(0.0, |c| x[[i, c]] as f64) + self.init)
            .collect();
        let mae = |p: &[f64]| {
            rows.iter()
                .zip(p)
                .map(|(&i, v)| (y[i] - v).abs())
                .sum::<f64>()
        };
        let mut best = (mae(&p), 0);
        for (k, t) in self.trees.iter().enumerate() {
            for (v, &i) in p.iter_mut().zip(&rows) {
                *v += self.rate * t.eval(|c| x[[i, c]]);
            }
            let e = mae(&p);
            if e < best.0 {
                best = (e, k + 1);
            }
        }
        self.trees.truncate(best.1);
        best.1
    }

    /// The largest input column the model reads (to check inputs on load).
    pub fn max_feature(&self) -> Option<usize> {
        self.trees
            .iter()
            .flat_map(|t| &t.0)
            .filter_map(|n| match n {
                Node::Split { feature, .. } => Some(*feature as usize),
                Node::Leaf(_) => None,
            })
            .chain(self.prior)
            .max()
    }
}

/// One tree on the sampled rows, grown level by level: each level scans every feature's
/// presorted rows once and keeps, per open node, the split of largest squared-loss gain.
/// `order[f]` holds (row, value of feature f) in increasing value.
fn grow(
    order: &[Vec<(u32, f32)>],
    residual: &[f64],
    in_sample: &[bool],
    value: impl Fn(u32, usize) -> f32,
    cfg: &BoostConfig,
) -> Tree {
    const NONE: u32 = u32::MAX;
    let mut nodes = vec![Node::Leaf(0.0)];
    let mut node_of: Vec<u32> = in_sample
        .iter()
        .map(|&s| if s { 0 } else { NONE })
        .collect();
    let mut open: Vec<u32> = vec![0];
    for _ in 0..cfg.depth {
        // Position in `open` of each node, NONE for closed ones.
        let mut slot = vec![NONE; nodes.len()];
        for (s, &n) in open.iter().enumerate() {
            slot[n as usize] = s as u32;
        }
        let slot_of = |n: u32| if n == NONE { NONE } else { slot[n as usize] };
        let mut total = vec![(0.0f64, 0usize); open.len()];
        for (r, &n) in node_of.iter().enumerate() {
            let s = slot_of(n);
            if s != NONE {
                total[s as usize].0 += residual[r];
                total[s as usize].1 += 1;
            }
        }
        let mut best: Vec<Best> = vec![None; open.len()];
        let mut left = vec![(0.0f64, 0usize, f32::NAN); open.len()];
        for (f, ord) in order.iter().enumerate() {
            // Running left sums and the last value seen, per open node.
            left.fill((0.0, 0, f32::NAN));
            for &(r, v) in ord {
                let s = slot_of(node_of[r as usize]);
                if s == NONE {
                    continue;
                }
                let s = s as usize;
                let (sl, nl, last) = left[s];
                if nl >= cfg.min_leaf && total[s].1 - nl >= cfg.min_leaf && v > last {
                    let (st, nt) = total[s];
                    let (sr, nr) = (st - sl, nt - nl);
                    let gain = sl * sl / nl as f64 + sr * sr / nr as f64 - st * st / nt as f64;
                    if gain > 1e-12 && best[s].is_none_or(|b| gain > b.0) {
                        let mid = last + 0.5 * (v - last);
                        best[s] = Some((gain, f, if mid < v { mid } else { last }));
                    }
                }
                left[s] = (sl + residual[r as usize], nl + 1, v);
            }
        }
        let mut next = Vec::new();
        // Per node: (feature, threshold, left child) when it split.
        let mut split = vec![None; nodes.len()];
        for (s, &n) in open.iter().enumerate() {
            if let Some((_, feature, threshold)) = best[s] {
                let left = nodes.len() as u32;
                nodes.push(Node::Leaf(0.0));
                nodes.push(Node::Leaf(0.0));
                nodes[n as usize] = Node::Split {
                    feature: feature as u32,
                    threshold,
                    left,
                    right: left + 1,
                };
                split[n as usize] = Some((feature, threshold, left));
                next.extend([left, left + 1]);
            }
        }
        for (r, n) in node_of.iter_mut().enumerate() {
            if *n == NONE {
                continue;
            }
            if let Some((f, t, l)) = split[*n as usize] {
                *n = if value(r as u32, f) <= t { l } else { l + 1 };
            }
        }
        open = next;
        if open.is_empty() {
            break;
        }
    }
    // Leaf values: the mean residual of the sampled rows that reach them.
    let mut sums = vec![(0.0f64, 0usize); nodes.len()];
    for (r, &n) in node_of.iter().enumerate() {
        if n != NONE {
            sums[n as usize].0 += residual[r];
            sums[n as usize].1 += 1;
        }
    }
    for (k, node) in nodes.iter_mut().enumerate() {
        if let Node::Leaf(v) = node {
            *v = sums[k].0 / sums[k].1.max(1) as f64;
        }
    }
    Tree(nodes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn a_step_is_found_exactly_and_a_prior_is_corrected() {
        // y = 1 where x0 > 0.3 else 0; x1 is noise: one split of depth 1 recovers it.
        let n = 200;
        let x = Array2::from_shape_fn((n, 2), |(i, j)| {
            if j == 0 {
                i as f32 / n as f32
            } else {
                ((i * 7919) % 13) as f32
            }
        });
        let y: Vec<f64> = (0..n)
            .map(|i| if x[[i, 0]] > 0.3 { 1.0 } else { 0.0 })
            .collect();
        let cfg = BoostConfig {
            trees: 200,
            depth: 1,
            learning_rate: 0.1,
            subsample: 1.0,
            min_leaf: 1,
        };
        let m = Boosted::fit(x.view(), &y, None, &cfg, 0).unwrap();
        let p = m.predict(x.view());
        let worst = p
            .iter()
            .zip(&y)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(worst < 1e-6, "worst error {worst}");
        // The same step on top of a prior column: the trees learn only the step.
        let xp = Array2::from_shape_fn(
            (n, 3),
            |(i, j)| if j < 2 { x[[i, j]] } else { 5.0 * x[[i, 0]] },
        );
        let yp: Vec<f64> = (0..n).map(|i| y[i] + xp[[i, 2]] as f64).collect();
        let m = Boosted::fit(xp.view(), &yp, Some(2), &cfg, 0).unwrap();
        let worst = m
            .predict(xp.view())
            .iter()
            .zip(&yp)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(worst < 1e-5, "worst error with prior {worst}");
    }

    #[test]
    fn boosting_fits_a_smooth_function_and_ignores_missing_targets() {
        let n = 400;
        let x = Array2::from_shape_fn((n, 2), |(i, j)| {
            let u = ((i * 37 + j * 101) % n) as f32 / n as f32;
            u * 2.0 - 1.0
        });
        let truth = |i: usize| (x[[i, 0]] as f64 * 2.0).sin() + (x[[i, 1]] as f64).powi(2);
        let mut y: Vec<f64> = (0..n).map(truth).collect();
        for v in y.iter_mut().step_by(10) {
            *v = f64::NAN;
        }
        let m = Boosted::fit(x.view(), &y, None, &BoostConfig::default(), 3).unwrap();
        let p = m.predict(x.view());
        let mae = (0..n).map(|i| (p[i] - truth(i)).abs()).sum::<f64>() / n as f64;
        let spread = (0..n).map(|i| truth(i).abs()).sum::<f64>() / n as f64;
        assert!(mae < 0.05 * spread, "mae {mae} against mean |y| {spread}");
        // Seeded: the same seed gives the same model, another a different one.
        assert_eq!(
            m,
            Boosted::fit(x.view(), &y, None, &BoostConfig::default(), 3).unwrap()
        );
        assert_ne!(
            m,
            Boosted::fit(x.view(), &y, None, &BoostConfig::default(), 4).unwrap()
        );
        assert!(
            Boosted::fit(
                x.view(),
                &vec![f64::NAN; n],
                None,
                &BoostConfig::default(),
                0
            )
            .is_err()
        );
    }

    #[test]
    fn early_stopping_keeps_the_prefix_best_on_held_out_rows() {
        // Noisy labels and many aggressive trees: the late trees fit the noise.
        use rand::Rng;
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let n = 300;
        let x = Array2::from_shape_fn((n, 3), |_| rng.random::<f32>());
        let y: Vec<f64> = (0..n)
            .map(|i| x[[i, 0]] as f64 + 0.3 * (rng.random::<f64>() - 0.5))
            .collect();
        let (train, held) = (200, 100);
        let mut y_train = y.clone();
        y_train[train..].iter_mut().for_each(|v| *v = f64::NAN);
        let cfg = BoostConfig {
            trees: 400,
            depth: 4,
            learning_rate: 0.3,
            ..Default::default()
        };
        let full = Boosted::fit(x.view(), &y_train, None, &cfg, 1).unwrap();
        let xh = x.slice(ndarray::s![train.., ..]);
        let yh = &y[train..];
        let mae = |m: &Boosted| {
            m.predict(xh)
                .iter()
                .zip(yh)
                .map(|(p, t)| (p - t).abs())
                .sum::<f64>()
                / held as f64
        };
        let mut kept = full.clone();
        let k = kept.keep_best_prefix(xh, yh);
        assert!(k < 400 && kept.trees.len() == k, "kept {k}");
        assert!(mae(&kept) < mae(&full), "{} ≥ {}", mae(&kept), mae(&full));
        // No prefix of the full model does better on those rows.
        for j in 0..=400 {
            let mut p = full.clone();
            p.trees.truncate(j);
            assert!(mae(&p) >= mae(&kept) - 1e-12);
        }
    }
}
