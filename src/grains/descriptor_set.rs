//! Which descriptors a model takes: the cheap ones of [`DESCRIPTORS`], and optionally the
//! six anchors of the same magnet's curve on a coarser mesh (cells f times larger: f²
//! fewer cells, about as many evaluations, so a 2× coarser curve costs about 0.3 of the
//! label at 64²). The coarse curve has the physics the statistics only approximate
//! (exchange, demagnetisation, the avalanche), with the mesh's bias, which a model learns
//! away: a second, cheaper fidelity of the label as an input.

use super::descriptors::DESCRIPTORS;
use super::structure::Structure;
use crate::solver::cache::{CurveCache, cached_sweep};
use crate::solver::demag::DemagKernel;
use crate::solver::{ANCHOR_NAMES, Anchor, SolverError, SolverSettings, SweepOptions};

/// Largest coarsening factor scripts may ask for (beyond it a 2 nm grid keeps little of a
/// grain's shape).
pub const MAX_COARSE: usize = 8;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DescriptorSet {
    /// With `Some(f)`: the anchors of the curve on cells f times larger
    /// ([`Structure::coarsen`]), after the cheap descriptors.
    pub coarse: Option<usize>,
}

impl DescriptorSet {
    /// Column names, in order: the cheap descriptors, then `coarse{f}_{anchor}`.
    pub fn names(&self) -> Vec<String> {
        self.info().into_iter().map(|(name, _, _)| name).collect()
    }

    /// (name, unit, what it measures) of every column, in order.
    pub fn info(&self) -> Vec<(String, &'static str, String)> {
        let mut info: Vec<_> = DESCRIPTORS
            .iter()
            .map(|d| (d.name.to_string(), d.unit, d.doc.to_string()))
            .collect();
        if let Some(f) = self.coarse {
            info.extend(Anchor::ALL.map(|a| {
                (
                    format!("coarse{f}_{}", a.name()),
                    a.unit(),
                    format!(
                        "{} of the curve on cells {f}× larger (majority of each {f} × {f} block; the solver's defaults)",
                        a.name()
                    ),
                )
            }));
        }
        info
    }

    pub fn len(&self) -> usize {
        DESCRIPTORS.len() + self.coarse.map_or(0, |_| ANCHOR_NAMES.len())
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    /// The values of [`DescriptorSet::names`] for `s`. Coarse curves are swept on the
    /// calling thread with the solver's defaults (the paper's material and sweep, like the
    /// `lr_` descriptors) on to h = −2, through `cache` when given.
    pub fn of(&self, s: &Structure, cache: Option<&CurveCache>) -> Result<Vec<f64>, SolverError> {
        let mut v = s.descriptors()?;
        if let Some(f) = self.coarse {
            v.extend(coarse_anchors(s, f, cache)?);
        }
        Ok(v)
    }
}

/// The descriptors of `set` for structures `0..n` (`get(k)` builds structure k) as rows
/// [n, set.len()], on all cores; with coarse anchors (seconds per structure at 160²) a
/// progress line on a terminal and the curve cache. Stops at Ctrl-C.
pub fn descriptor_rows<S: std::borrow::Borrow<Structure>>(
    set: &DescriptorSet,
    n: usize,
    get: impl Fn(usize) -> Result<S, String> + Sync,
) -> Result<ndarray::Array2<f64>, String> {
    use rayon::prelude::*;
    let cache = set
        .coarse
        .and(crate::settings::curve_cache())
        .map(CurveCache::at);
    let progress = set
        .coarse
        .map(|_| crate::progress::Progress::new(n as u64, "descriptors"));
    let rows = (0..n)
        .into_par_iter()
        .map(|k| {
            crate::interrupt::check().map_err(|e| e.to_string())?;
            let row = set
                .of(get(k)?.borrow(), cache.as_ref())
                .map_err(|e| e.to_string());
            if let Some(p) = &progress {
                p.inc(1);
            }
            row
        })
        .collect::<Result<Vec<Vec<f64>>, String>>();
    if let Some(p) = &progress {
        p.finish();
    }
    let flat: Vec<f64> = rows?.concat();
    Ok(ndarray::Array2::from_shape_vec((n, set.len()), flat).expect("rows of equal length"))
}

/// The anchors of `s` on cells `factor` times larger, swept from h = 1 to −2 (NaN where
/// the curve still has none: only a magnet that never reverses).
pub fn coarse_anchors(
    s: &Structure,
    factor: usize,
    cache: Option<&CurveCache>,
) -> Result<[f64; 6], SolverError> {
    let coarse = s.coarsen(factor).map_err(|_| SolverError::BadOption {
        name: "coarse",
        value: format!("{factor} (grid {} × {})", s.nx(), s.ny()),
        expected: "a coarsening factor that divides nx and ny",
    })?;
    let settings = SolverSettings::default();
    let p = coarse.problem(&settings)?;
    // On to h = −2 (as the Stoner–Wohlfarth descriptors) so that a magnet holding out past
    // −1 still has every anchor: a model's input must not be missing.
    let opts = &SweepOptions {
        h_end: -2.0,
        ..settings.sweep.clone()
    };
    let curve = cached_sweep(cache, &p, opts, || {
        let kernel = DemagKernel::cached(p.mesh(), opts.min.precision)?;
        crate::solver::sweep::sweep_with_kernel(&p, &kernel, opts, false)
    })?;
    Ok(curve.anchors().values().map(|a| a.unwrap_or(f64::NAN)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_units_follow_the_columns() {
        let set = DescriptorSet { coarse: Some(2) };
        let names = set.names();
        assert_eq!(names.len(), set.len());
        assert_eq!(names[DESCRIPTORS.len()], "coarse2_M1");
        assert_eq!(names.last().unwrap(), "coarse2_Hc");
        assert_eq!(set.info()[DESCRIPTORS.len() + 2].1, "HA", "Hk90 is a field");
        assert_eq!(DescriptorSet::default().len(), DESCRIPTORS.len());
    }

    #[test]
    fn coarse_anchors_are_the_default_curve_of_the_coarsened_magnet() {
        // Two grains, one along the field and one at 60°: M1 and Mr are the cells' mean
        // projections, and the coarse mesh keeps the grains' areas.
        let grain: Vec<u32> = (0..256).map(|c| u32::from(c % 16 >= 8)).collect();
        let s = Structure::from_grains(16, 16, 2.0, grain, vec![0.0, 60f64.to_radians()]).unwrap();
        let set = DescriptorSet { coarse: Some(2) };
        let v = set.of(&s, None).unwrap();
        assert_eq!(&v[..DESCRIPTORS.len()], &s.descriptors().unwrap()[..]);
        let a = &v[DESCRIPTORS.len()..];
        let settings = SolverSettings::default();
        let opts = SweepOptions {
            h_end: -2.0,
            ..settings.sweep.clone()
        };
        let direct =
            crate::solver::sweep(&s.coarsen(2).unwrap().problem(&settings).unwrap(), &opts)
                .unwrap()
                .anchors()
                .values();
        for (k, d) in direct.iter().enumerate() {
            assert_eq!(
                a[k].to_bits(),
                d.unwrap_or(f64::NAN).to_bits(),
                "anchor {k}"
            );
        }
        // Mr near the grains' mean cos ψ (0.75), exchange and charges pull it a little.
        assert!(
            (a[1] - 0.75).abs() < 0.1 && a[0] >= a[1] && a[5] > 0.0,
            "{a:?}"
        );
        let e = DescriptorSet { coarse: Some(3) }
            .of(&s, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("divides nx and ny"), "{e}");
    }
}
