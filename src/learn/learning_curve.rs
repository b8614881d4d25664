//! Learning curves of active-learning loops (`active.rs`): test MAE per anchor against the
//! labels spent, one curve per acquisition with its spread over seeds, and the labels each
//! acquisition needs to reach the MAE that the reference (random selection) reaches with
//! its most labels. Written as a JSON of the figures and a plot of six panels.

use super::active::ActiveState;
use super::{LearnError, Result};
use crate::plot::{Figure, Legend, Plot, Series, XyPlot};
use serde::Serialize;
use std::path::Path;

/// One acquisition over its seeds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AcquisitionCurve {
    pub acquisition: String,
    pub seeds: Vec<u64>,
    /// Labels after each round (the same for every seed).
    pub labels: Vec<usize>,
    /// [round][anchor] mean, least and largest MAE over the seeds (NaN: none).
    pub mean: Vec<Vec<f64>>,
    pub min: Vec<Vec<f64>>,
    pub max: Vec<Vec<f64>>,
    /// [anchor][seed]: the fewest labels at which that seed's MAE is at most the target
    /// (`None`: never within the rounds run).
    pub reach: Vec<Vec<Option<usize>>>,
    /// [anchor]: the same for the mean curve.
    pub reach_mean: Vec<Option<usize>>,
}

/// What [`summarise`] finds, as the JSON holds it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LearningCurves {
    pub anchors: Vec<String>,
    /// The acquisition whose final MAE is the target.
    pub reference: String,
    /// [anchor]: the reference's mean MAE at its most labels.
    pub target: Vec<f64>,
    /// Relative slack: an MAE reaches the target when it is at most target × (1 + this).
    pub tolerance: f64,
    pub target_labels: usize,
    pub acquisitions: Vec<AcquisitionCurve>,
}

fn stats(values: &[f64]) -> (f64, f64, f64) {
    let fin: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if fin.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let mean = fin.iter().sum::<f64>() / fin.len() as f64;
    let min = fin.iter().copied().fold(f64::INFINITY, f64::min);
    let max = fin.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (mean, min, max)
}

/// The first label count whose MAE is at most `target` (within a relative 1e-12).
fn first_reaching(labels: &[usize], mae: impl Iterator<Item = f64>, target: f64) -> Option<usize> {
    labels
        .iter()
        .zip(mae)
        .find(|(_, m)| m.is_finite() && *m <= target * (1.0 + 1e-12))
        .map(|(l, _)| *l)
}

/// Groups finished loops by acquisition (in order of appearance) and measures them against
/// `reference` (usually "random"): an MAE reaches the reference's final mean MAE when it is
/// at most that × (1 + `tolerance`).
pub fn summarise(
    states: &[ActiveState],
    reference: &str,
    tolerance: f64,
) -> Result<LearningCurves> {
    let first = states
        .first()
        .ok_or_else(|| LearnError::msg("no loops to summarise"))?;
    let anchors = first.anchors.clone();
    let mut names: Vec<&str> = vec![];
    for s in states {
        if !names.contains(&s.acquisition.as_str()) {
            names.push(&s.acquisition);
        }
        if s.anchors != anchors {
            return Err(LearnError::msg(format!(
                "loops with other anchors: {:?} and {:?}",
                anchors, s.anchors
            )));
        }
    }
    let mut curves = vec![];
    for name in &names {
        let runs: Vec<&ActiveState> = states.iter().filter(|s| s.acquisition == *name).collect();
        let (labels, _) = runs[0].curve();
        let per_seed: Vec<Vec<Vec<Option<f64>>>> = runs
            .iter()
            .map(|s| {
                let (l, m) = s.curve();
                if l == labels {
                    Ok(m)
                } else {
                    Err(LearnError::msg(format!(
                        "{name} seed {}: labels {l:?}, but seed {} has {labels:?} (unfinished?)",
                        s.seed, runs[0].seed
                    )))
                }
            })
            .collect::<Result<_>>()?;
        let value =
            |seed: usize, round: usize, a: usize| per_seed[seed][round][a].unwrap_or(f64::NAN);
        let (mut mean, mut min, mut max) = (vec![], vec![], vec![]);
        for round in 0..labels.len() {
            let s: Vec<(f64, f64, f64)> = (0..anchors.len())
                .map(|a| {
                    stats(
                        &(0..runs.len())
                            .map(|k| value(k, round, a))
                            .collect::<Vec<_>>(),
                    )
                })
                .collect();
            mean.push(s.iter().map(|v| v.0).collect());
            min.push(s.iter().map(|v| v.1).collect());
            max.push(s.iter().map(|v| v.2).collect());
        }
        curves.push(AcquisitionCurve {
            acquisition: name.to_string(),
            seeds: runs.iter().map(|s| s.seed).collect(),
            labels,
            mean,
            min,
            max,
            reach: vec![],
            reach_mean: vec![],
        });
    }
    let r = curves
        .iter()
        .find(|c| c.acquisition == reference)
        .ok_or_else(|| {
            LearnError::msg(format!(
                "no loop of the reference acquisition {reference:?}"
            ))
        })?;
    let last =
        r.labels.len().checked_sub(1).ok_or_else(|| {
            LearnError::msg(format!("the {reference} loops have no finished round"))
        })?;
    let target: Vec<f64> = r.mean[last].clone();
    let target_labels = r.labels[last];
    let bar: Vec<f64> = target.iter().map(|t| t * (1.0 + tolerance)).collect();
    for (c, name) in curves.iter_mut().zip(&names) {
        let runs: Vec<&ActiveState> = states.iter().filter(|s| s.acquisition == *name).collect();
        c.reach = (0..anchors.len())
            .map(|a| {
                runs.iter()
                    .map(|s| {
                        let (l, m) = s.curve();
                        first_reaching(&l, m.iter().map(|r| r[a].unwrap_or(f64::NAN)), bar[a])
                    })
                    .collect()
            })
            .collect();
        c.reach_mean = (0..anchors.len())
            .map(|a| first_reaching(&c.labels, c.mean.iter().map(|r| r[a]), bar[a]))
            .collect();
    }
    Ok(LearningCurves {
        anchors,
        reference: reference.into(),
        target,
        tolerance,
        target_labels,
        acquisitions: curves,
    })
}

impl LearningCurves {
    /// The JSON of the figures, written atomically.
    pub fn write_json(&self, path: &Path) -> Result<()> {
        let mut json = serde_json::to_vec_pretty(self)?;
        json.push(b'\n');
        crate::fsio::write(path, json)?;
        Ok(())
    }

    /// Six panels (one per anchor): the mean MAE of each acquisition against labels, with
    /// thin lines at the least and largest MAE over its seeds. PNG or SVG by extension.
    pub fn plot(&self, path: &Path) -> Result<()> {
        let mut fig = Figure::new(self.anchors.len().div_ceil(3).max(1), 3)
            .title("test MAE against labels (mean; thin: least and largest over seeds)");
        for (a, name) in self.anchors.iter().enumerate() {
            let mut p = XyPlot::new()
                .title(name.as_str())
                .labels("labels", format!("MAE ({})", super::metrics::unit(name)))
                .legend(if a == 0 {
                    Legend::UpperRight
                } else {
                    Legend::Hidden
                });
            for (k, c) in self.acquisitions.iter().enumerate() {
                let x: Vec<f64> = c.labels.iter().map(|&l| l as f64).collect();
                let col = |v: &Vec<Vec<f64>>| v.iter().map(|r| r[a]).collect::<Vec<f64>>();
                let color = crate::plot::palette(k);
                p = p
                    .series(
                        Series::line(c.acquisition.as_str(), &x, &col(&c.mean))
                            .with_markers(true)
                            .with_color(color),
                    )
                    .series(Series::line("", &x, &col(&c.min)).with_color(color))
                    .series(Series::line("", &x, &col(&c.max)).with_color(color));
            }
            fig = fig.panel(p);
        }
        fig.save(path)
            .map_err(|e| LearnError::msg(format!("{}: {e}", path.display())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::active::RoundState;

    fn state(acq: &str, seed: u64, mae: &[f64]) -> ActiveState {
        ActiveState {
            format: "coercive-active".into(),
            settings: serde_json::Value::Null,
            acquisition: acq.into(),
            seed,
            anchors: vec!["Mr".into()],
            rounds: mae
                .iter()
                .enumerate()
                .map(|(r, &m)| RoundState {
                    round: r,
                    batch: vec![],
                    labels: 10 * (r + 1),
                    mae: Some(vec![Some(m)]),
                })
                .collect(),
        }
    }

    #[test]
    fn labels_to_reach_the_reference_final_mae() {
        let states = [
            state("random", 0, &[0.5, 0.4, 0.3, 0.2]),
            state("random", 1, &[0.5, 0.3, 0.3, 0.3]),
            state("uncertainty", 0, &[0.5, 0.2, 0.1, 0.1]),
            state("uncertainty", 1, &[0.5, 0.4, 0.3, 0.3]),
        ];
        let s = summarise(&states, "random", 0.0).unwrap();
        assert_eq!(s.target_labels, 40);
        assert!((s.target[0] - 0.25).abs() < 1e-12);
        let r = &s.acquisitions[0];
        assert_eq!(r.reach[0], vec![Some(40), None]);
        assert_eq!(r.reach_mean[0], Some(40));
        let u = &s.acquisitions[1];
        assert_eq!(u.reach[0], vec![Some(20), None]);
        assert_eq!(u.mean[2][0], 0.2);
        assert_eq!((u.min[1][0], u.max[1][0]), (0.2, 0.4));
        assert_eq!(u.reach_mean[0], Some(30));
        assert!(summarise(&states, "diverse", 0.0).is_err());
        // Within 25 %: 0.3125 is reached by random seed 1 at 20 labels.
        let s = summarise(&states, "random", 0.25).unwrap();
        assert_eq!(s.acquisitions[0].reach[0], vec![Some(30), Some(20)]);
    }
}
