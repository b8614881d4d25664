//! Which unlabelled structures to simulate next: the acquisition rules of the active-learning
//! loop (`active.rs`). Each picks `k` candidates (positions into the candidate rows) from
//! what the current model says about them, deterministically given its seed:
//!
//! * **random** — a seeded uniform draw (the baseline every other rule must beat);
//! * **uncertainty** — ensemble disagreement: the `k` largest scores, a score being the
//!   ensemble's σ per anchor divided by that anchor's median σ over the candidates, summed
//!   over the anchors (so every anchor counts alike whatever its unit);
//! * **diverse** — batch-aware: greedy farthest points weighted by that score. In
//!   descriptor space standardised by the candidates' own mean and spread, each pick is the
//!   candidate with the largest score × distance to its nearest labelled structure or
//!   earlier pick, so one batch does not spend its labels on near-duplicates of one
//!   uncertain region.

use ndarray::{Array2, ArrayView2};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// An acquisition rule (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acquisition {
    Random,
    Uncertainty,
    Diverse,
}

crate::named::named!(Acquisition {
    Random => "random",
    Uncertainty => "uncertainty",
    Diverse => "diverse",
});

impl Acquisition {
    /// Whether the rule needs the model's σ (random does not).
    pub fn uses_model(self) -> bool {
        self != Acquisition::Random
    }
}

/// `k` of `n` positions drawn uniformly without replacement from `seed`.
pub fn random(n: usize, k: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(
        crate::grains::rng::splitmix64(seed, 0xac01),
    ));
    order.truncate(k.min(n));
    order
}

/// Per candidate: Σ over anchors of σ / (median σ of that anchor over the candidates).
/// Non-finite σ count as 0; an anchor whose median σ is not positive is left out.
pub fn scores(sigma: ArrayView2<f64>) -> Vec<f64> {
    let mut s = vec![0.0; sigma.nrows()];
    for col in sigma.columns() {
        let mut finite: Vec<f64> = col.iter().copied().filter(|v| v.is_finite()).collect();
        if finite.is_empty() {
            continue;
        }
        finite.sort_by(f64::total_cmp);
        let median = finite[finite.len() / 2];
        if median <= 0.0 {
            continue;
        }
        for (a, v) in s.iter_mut().zip(col) {
            if v.is_finite() {
                *a += v / median;
            }
        }
    }
    s
}

/// Positions of the `k` largest scores (ties: the lower position first).
pub fn top(scores: &[f64], k: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    order.truncate(k.min(scores.len()));
    order
}

/// Columns standardised by the mean and standard deviation of `fit`'s rows; columns that
/// do not vary there (or are not finite) become 0.
pub fn standardise(x: ArrayView2<f64>, fit: ArrayView2<f64>) -> Array2<f64> {
    let n = fit.nrows().max(1) as f64;
    let mut z = Array2::zeros(x.raw_dim());
    for j in 0..x.ncols() {
        let c = fit.column(j);
        let mean = c.sum() / n;
        let sd = (c.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt();
        if !(sd.is_finite() && sd > 0.0) {
            continue;
        }
        for i in 0..x.nrows() {
            let v = (x[[i, j]] - mean) / sd;
            z[[i, j]] = if v.is_finite() { v } else { 0.0 };
        }
    }
    z
}

fn distance2(a: ndarray::ArrayView1<f64>, b: ndarray::ArrayView1<f64>) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Greedy score-weighted farthest points: `k` positions of the candidates `z` (standardised
/// descriptors, [n, d]), each maximising score × distance to the nearest row of `labelled`
/// ([m, d], same space) or earlier pick. With nothing labelled the first pick is the top
/// score. Ties: the lower position.
pub fn diverse(
    z: ArrayView2<f64>,
    labelled: ArrayView2<f64>,
    scores: &[f64],
    k: usize,
) -> Vec<usize> {
    let n = z.nrows();
    let mut nearest: Vec<f64> = (0..n)
        .map(|i| {
            labelled
                .rows()
                .into_iter()
                .map(|l| distance2(z.row(i), l))
                .fold(f64::INFINITY, f64::min)
        })
        .collect();
    let mut taken = vec![false; n];
    let mut picks = Vec::with_capacity(k.min(n));
    while picks.len() < k.min(n) {
        let value = |i: usize| {
            let d = nearest[i].sqrt();
            if d.is_infinite() {
                scores[i]
            } else {
                scores[i] * d
            }
        };
        let Some(best) = (0..n)
            .filter(|&i| !taken[i])
            .max_by(|&a, &b| value(a).total_cmp(&value(b)).then(b.cmp(&a)))
        else {
            break;
        };
        taken[best] = true;
        picks.push(best);
        for i in 0..n {
            let d = distance2(z.row(i), z.row(best));
            if d < nearest[i] {
                nearest[i] = d;
            }
        }
    }
    picks
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn random_is_seeded_and_without_replacement() {
        let a = random(100, 10, 3);
        assert_eq!(a, random(100, 10, 3));
        assert_ne!(a, random(100, 10, 4));
        let mut s = a.clone();
        s.sort_unstable();
        s.dedup();
        assert_eq!(s.len(), 10);
        assert_eq!(random(5, 10, 0).len(), 5);
    }

    #[test]
    fn scores_weigh_anchors_alike_and_top_takes_the_largest() {
        // Column 2 is 100 times larger in magnitude but weighs the same.
        let sigma = array![[1.0, 100.0], [2.0, 100.0], [1.0, 300.0], [f64::NAN, 100.0]];
        let s = scores(sigma.view());
        assert_eq!(s, vec![2.0, 3.0, 4.0, 1.0]);
        assert_eq!(top(&s, 2), vec![2, 1]);
    }

    #[test]
    fn diverse_avoids_near_duplicates() {
        // Two uncertain twins at 0 and a slightly less uncertain point far away.
        let z = array![[0.0, 0.0], [0.01, 0.0], [5.0, 5.0], [1.0, 1.0]];
        let labelled = Array2::<f64>::zeros((0, 2));
        let s = [1.0, 1.0, 0.8, 0.1];
        assert_eq!(top(&s, 2), vec![0, 1], "uncertainty takes both twins");
        assert_eq!(diverse(z.view(), labelled.view(), &s, 2), vec![0, 2]);
        // A labelled structure next to the twins pushes the first pick away from them.
        let labelled = array![[0.0, 0.0]];
        assert_eq!(diverse(z.view(), labelled.view(), &s, 1), vec![2]);
    }

    #[test]
    fn standardise_uses_the_fit_rows_and_drops_constant_columns() {
        let x = array![[1.0, 7.0], [3.0, 7.0]];
        let z = standardise(x.view(), x.view());
        assert_eq!(z, array![[-1.0, 0.0], [1.0, 0.0]]);
    }
}
