//! The order the anchors obey by their definition: Hk90 ≤ Hk80 ≤ Hk70 ≤ Hc (a lower level is
//! first reached later in the descending sweep) and Mr ≤ M1 ≤ 1 (the curve descends from
//! saturation). Predictions are projected onto that set: each chain is replaced by its
//! least-squares isotonic fit (pool adjacent violators), clipped at the bound. The set is
//! convex and holds every true anchor vector, so the projection never moves a prediction
//! further (in the Euclidean sense) from the truth.

use ndarray::Array2;

use crate::solver::Anchor;

/// Chains of anchors that must be non-decreasing, and the upper bound of the last.
const CHAINS: [(&[Anchor], f64); 2] = [
    (&[Anchor::Mr, Anchor::M1], 1.0),
    (
        &[Anchor::Hk90, Anchor::Hk80, Anchor::Hk70, Anchor::Hc],
        f64::INFINITY,
    ),
];

/// Least-squares non-decreasing fit of `x` (equal weights).
pub fn isotonic(x: &[f64]) -> Vec<f64> {
    // Blocks of (mean, count), merged while a block is below its predecessor.
    let mut blocks: Vec<(f64, usize)> = Vec::with_capacity(x.len());
    for &v in x {
        blocks.push((v, 1));
        while blocks.len() > 1 {
            let (m2, n2) = blocks[blocks.len() - 1];
            let (m1, n1) = blocks[blocks.len() - 2];
            if m1 <= m2 {
                break;
            }
            blocks.truncate(blocks.len() - 2);
            blocks.push((
                (m1 * n1 as f64 + m2 * n2 as f64) / (n1 + n2) as f64,
                n1 + n2,
            ));
        }
    }
    blocks
        .into_iter()
        .flat_map(|(m, n)| std::iter::repeat_n(m, n))
        .collect()
}

/// The columns of each chain present among `targets` (in chain order), with its bound.
fn chains(targets: &[String]) -> Vec<(Vec<usize>, f64)> {
    CHAINS
        .iter()
        .map(|(names, bound)| {
            let cols = names
                .iter()
                .filter_map(|a| targets.iter().position(|t| t == a.name()))
                .collect();
            (cols, *bound)
        })
        .filter(|(c, _): &(Vec<usize>, f64)| !c.is_empty())
        .collect()
}

/// Projects every row of predictions `y` [n, targets] onto the anchors' order. Non-finite
/// entries are left alone and do not take part.
pub fn order_anchors(targets: &[String], y: &mut Array2<f64>) {
    let chains = chains(targets);
    for mut row in y.rows_mut() {
        for (cols, bound) in &chains {
            let cols: Vec<usize> = cols
                .iter()
                .copied()
                .filter(|&c| row[c].is_finite())
                .collect();
            let fit = isotonic(&cols.iter().map(|&c| row[c]).collect::<Vec<_>>());
            for (&c, v) in cols.iter().zip(fit) {
                row[c] = v.min(*bound);
            }
        }
    }
}

/// Rows of `y` that break the anchors' order by more than `tol`.
pub fn violations(targets: &[String], y: &Array2<f64>, tol: f64) -> usize {
    let chains = chains(targets);
    y.rows()
        .into_iter()
        .filter(|row| {
            chains.iter().any(|(cols, bound)| {
                let v: Vec<f64> = cols
                    .iter()
                    .map(|&c| row[c])
                    .filter(|v| v.is_finite())
                    .collect();
                v.windows(2).any(|w| w[0] > w[1] + tol)
                    || v.last().is_some_and(|&l| l > bound + tol)
            })
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn names() -> Vec<String> {
        ["M1", "Mr", "Hk90", "Hk80", "Hk70", "Hc"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn isotonic_pools_adjacent_violators() {
        assert_eq!(isotonic(&[1.0, 3.0, 2.0, 4.0]), vec![1.0, 2.5, 2.5, 4.0]);
        assert_eq!(isotonic(&[3.0, 2.0, 1.0]), vec![2.0, 2.0, 2.0]);
        assert_eq!(isotonic(&[0.1, 0.2]), vec![0.1, 0.2]);
    }

    #[test]
    fn random_predictions_come_out_ordered_and_no_further_from_ordered_truth() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let t = names();
        let mut y = Array2::from_shape_fn((500, 6), |_| rng.random_range(-0.5..1.5));
        let truth = {
            let mut tr = Array2::from_shape_fn((500, 6), |_| rng.random_range(0.0..1.0));
            order_anchors(&t, &mut tr);
            tr
        };
        assert!(violations(&t, &y, 0.0) > 400);
        let before: Vec<f64> = (0..500)
            .map(|i| (&y.row(i) - &truth.row(i)).pow2().sum())
            .collect();
        order_anchors(&t, &mut y);
        assert_eq!(violations(&t, &y, 0.0), 0);
        for (i, b) in before.iter().enumerate() {
            let after = (&y.row(i) - &truth.row(i)).pow2().sum();
            assert!(after <= b + 1e-12, "row {i}: {after} > {b}");
        }
    }

    #[test]
    fn missing_entries_and_partial_target_lists() {
        let t = names();
        let mut y = ndarray::array![[1.2, 0.9, 0.5, f64::NAN, 0.4, 0.6]];
        order_anchors(&t, &mut y);
        assert_eq!(y[[0, 0]], 1.0);
        assert_eq!(y[[0, 1]], 0.9);
        assert!(y[[0, 3]].is_nan());
        assert_eq!((y[[0, 2]], y[[0, 4]], y[[0, 5]]), (0.45, 0.45, 0.6));
        // Only Hc and Hk70, in the other order.
        let t2: Vec<String> = vec!["Hc".into(), "Hk70".into()];
        let mut y2 = ndarray::array![[0.3, 0.5]];
        order_anchors(&t2, &mut y2);
        assert_eq!(y2, ndarray::array![[0.4, 0.4]]);
    }
}
