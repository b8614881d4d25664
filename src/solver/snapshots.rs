//! States kept during a sweep: at chosen fields, or where the curve passes its anchors —
//! what a micromagnetician looks at first (the remanent state, the reversal nuclei at the
//! knee, the state at coercivity).

use super::SolverError;
use super::anchors::Anchor;
use super::relax::Relaxed;

/// Which states a sweep keeps besides its curve.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Snapshots {
    #[default]
    None,
    /// At the field steps nearest these fields (units of HA).
    Fields(Vec<f64>),
    /// At M1 and Mr (the steps nearest h = +1 and 0), and at the first step on or past
    /// 0.9, 0.8 and 0.7 of Mr and zero magnetisation (Hk90, Hk80, Hk70, Hc).
    Anchors,
}

/// A state kept during a sweep, named by its anchor or its field.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    pub label: String,
    pub state: Relaxed,
}

/// Decides, step by step, which states of one sweep to keep.
pub(crate) struct Picker {
    /// (step index, label) of the field requests.
    at_steps: Vec<(usize, String)>,
    anchors: bool,
    /// m_y at the step nearest h = 0, once passed.
    mr: Option<(f64, f64)>,
    /// Anchors below Mr already kept.
    taken: Vec<Anchor>,
}

impl Picker {
    pub(crate) fn new(request: &Snapshots, fields: &[f64]) -> Result<Picker, SolverError> {
        let step = if fields.len() > 1 {
            (fields[1] - fields[0]).abs()
        } else {
            0.0
        };
        let nearest = |h: f64| {
            (0..fields.len())
                .min_by(|&a, &b| (fields[a] - h).abs().total_cmp(&(fields[b] - h).abs()))
        };
        let mut at_steps = vec![];
        let mut anchors = false;
        match request {
            Snapshots::None => {}
            Snapshots::Anchors => {
                anchors = true;
                for (a, h) in [(Anchor::M1, 1.0), (Anchor::Mr, 0.0)] {
                    if let Some(k) =
                        nearest(h).filter(|&k| (fields[k] - h).abs() <= step / 2.0 + 1e-12)
                    {
                        at_steps.push((k, a.name().to_string()));
                    }
                }
            }
            Snapshots::Fields(hs) => {
                for &h in hs {
                    let k = nearest(h)
                        .filter(|&k| h.is_finite() && (fields[k] - h).abs() <= step / 2.0 + 1e-12)
                        .ok_or_else(|| SolverError::BadOption {
                            name: "snapshots",
                            value: h.to_string(),
                            expected: "fields within the sweep's range (h_start … h_end)",
                        })?;
                    at_steps.push((k, crate::array::fmt_g(fields[k])));
                }
            }
        }
        Ok(Picker {
            at_steps,
            anchors,
            mr: None,
            taken: vec![],
        })
    }

    /// Labels of the states to keep at step `k` (field `h`, mean m_y `my`).
    pub(crate) fn labels(&mut self, k: usize, h: f64, my: f64) -> Vec<String> {
        let mut out: Vec<String> = self
            .at_steps
            .iter()
            .filter(|(s, _)| *s == k)
            .map(|(_, l)| l.clone())
            .collect();
        if !self.anchors {
            return out;
        }
        if h >= 0.0 || self.mr.is_none() {
            // Mr: m_y at the step nearest zero field seen so far.
            if self.mr.is_none_or(|(h0, _)| h.abs() < h0.abs()) {
                self.mr = Some((h, my));
            }
            if h >= 0.0 {
                return out;
            }
        }
        let mr = self.mr.map_or(my, |(_, m)| m);
        // The Hk at their fraction of Mr (Anchor::level), Hc at zero magnetisation.
        for a in [Anchor::Hk90, Anchor::Hk80, Anchor::Hk70, Anchor::Hc] {
            let level = a.level().map_or(0.0, |f| f * mr);
            if !self.taken.contains(&a) && my <= level {
                self.taken.push(a);
                out.push(a.name().to_string());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Vec<f64> {
        (0..=200).map(|k| 1.0 - 0.01 * k as f64).collect()
    }

    #[test]
    fn fields_pick_the_nearest_step_and_refuse_outside() {
        let f = fields();
        let mut p = Picker::new(&Snapshots::Fields(vec![0.5, -0.304]), &f).unwrap();
        let kept: Vec<(usize, Vec<String>)> = (0..f.len())
            .map(|k| (k, p.labels(k, f[k], 1.0)))
            .filter(|(_, l)| !l.is_empty())
            .collect();
        assert_eq!(
            kept,
            vec![(50, vec!["0.5".into()]), (130, vec!["-0.3".into()])]
        );
        assert!(Picker::new(&Snapshots::Fields(vec![1.5]), &f).is_err());
        assert!(Picker::new(&Snapshots::Fields(vec![f64::NAN]), &f).is_err());
    }

    #[test]
    fn anchors_are_kept_where_the_curve_passes_them() {
        // m_y = 0.8 down to h = 0, then falling linearly to −0.8 at h = −0.8.
        let f = fields();
        let m = |h: f64| {
            if h >= 0.0 {
                0.8
            } else {
                (0.8 + h * 2.0).max(-0.8)
            }
        };
        let mut p = Picker::new(&Snapshots::Anchors, &f).unwrap();
        let mut kept = vec![];
        for (k, &h) in f.iter().enumerate() {
            for l in p.labels(k, h, m(h)) {
                kept.push((l, (h * 100.0).round() / 100.0));
            }
        }
        // 0.9·0.8 = 0.72 first reached at h = −0.04, 0.64 at −0.08, 0.56 at −0.12, 0 at −0.4.
        let want = [
            ("M1", 1.0),
            ("Mr", 0.0),
            ("Hk90", -0.04),
            ("Hk80", -0.08),
            ("Hk70", -0.12),
            ("Hc", -0.4),
        ];
        assert_eq!(kept.len(), want.len(), "{kept:?}");
        for ((l, h), (wl, wh)) in kept.iter().zip(want) {
            assert_eq!((l.as_str(), *h), (wl, wh));
        }
    }
}
