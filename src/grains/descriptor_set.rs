//! Which descriptors a model takes: the cheap ones of [`DESCRIPTORS`], and optionally the
//! six anchors of the same magnet's curve on a coarser mesh (cells f times larger: f² fewer
//! cells, about as many evaluations, so a 2× coarser curve costs about 0.3 of the label at
//! 64², half that with the exchange scaled). The coarse curve has the physics the
//! statistics only approximate (exchange, demagnetisation, the avalanche), with the mesh's
//! bias, which a model learns away: a second, cheaper fidelity of the label as an input.
//! With the exchange stiffness scaled by f² the coarse cells resolve the exchange length as
//! the label's cells do, and the coarse curve follows the label's more closely (README,
//! "Accuracy per label").

use super::descriptors::DESCRIPTORS;
use super::structure::Structure;
use crate::solver::cache::{CurveCache, cached_sweep};
use crate::solver::demag::DemagKernel;
use crate::solver::{ANCHOR_NAMES, Anchor, Curve, SolverError, SolverSettings, SweepOptions};

/// Largest coarsening factor scripts may ask for (beyond it a 2 nm grid keeps little of a
/// grain's shape).
pub const MAX_COARSE: usize = 8;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DescriptorSet {
    /// With `Some`: the anchors of the curve on a coarser mesh, after the cheap
    /// descriptors.
    pub coarse: Option<Coarse>,
}

/// The coarse mesh of a [`DescriptorSet`]: cells `factor` times larger, the anisotropy
/// and the exchange stiffness they take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Coarse {
    pub factor: usize,
    pub exchange: CoarseExchange,
    pub anisotropy: CoarseAnisotropy,
}

/// How a coarse cell takes the anisotropy of the f × f cells it covers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CoarseAnisotropy {
    /// The axis of the grain owning most of the block ([`Structure::coarsen`]; a tie goes
    /// to the cell met first in raster order, so a magnet's mirror images can coarsen
    /// differently).
    #[default]
    Majority,
    /// The block's mean anisotropy ([`Structure::block_anisotropy`]): a boundary cell takes
    /// a weaker, intermediate axis, as the block would feel turning as one. No ties: the
    /// same on every image of a magnet.
    Averaged,
}

crate::named::named!(CoarseAnisotropy { Majority => "majority", Averaged => "averaged" });

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CoarseExchange {
    /// The material's A: the cells resolve the exchange length f times worse than the
    /// label's, so walls pin on the mesh and reversal nucleates late.
    #[default]
    Kept,
    /// A·f²: the cells resolve the exchange length as the label's do. This is the label's
    /// mesh on the same magnet f times smaller (the 36 µm layer's demagnetising field does
    /// not change with scale), so the mesh's bias on nucleation is the label's own.
    Scaled,
}

crate::named::named!(CoarseExchange { Kept => "kept", Scaled => "scaled" });

impl Coarse {
    /// Plain coarse cells (`exchange: Kept`).
    pub fn kept(factor: usize) -> Coarse {
        Coarse {
            factor,
            exchange: CoarseExchange::Kept,
            anisotropy: CoarseAnisotropy::Majority,
        }
    }

    /// The multiplier on the material's exchange stiffness.
    pub fn exchange_scale(&self) -> f64 {
        match self.exchange {
            CoarseExchange::Kept => 1.0,
            CoarseExchange::Scaled => (self.factor * self.factor) as f64,
        }
    }

    /// The column prefix: `coarse2`, then `_avg` with the anisotropy averaged and `_A4`
    /// with the exchange scaled.
    fn prefix(&self) -> String {
        let mut p = format!("coarse{}", self.factor);
        if self.anisotropy == CoarseAnisotropy::Averaged {
            p += "_avg";
        }
        if self.exchange == CoarseExchange::Scaled {
            p += &format!("_A{}", self.exchange_scale());
        }
        p
    }

    /// Every coarse mesh scripts may ask for.
    pub fn all() -> impl Iterator<Item = Coarse> {
        (2..=MAX_COARSE).flat_map(|factor| {
            CoarseAnisotropy::ALL
                .into_iter()
                .flat_map(move |anisotropy| {
                    CoarseExchange::ALL.map(move |exchange| Coarse {
                        factor,
                        exchange,
                        anisotropy,
                    })
                })
        })
    }

    /// The micromagnetic problem of `s` on this mesh under `settings` ([`coarse_curve`]'s:
    /// the defaults with the exchange stiffness scaled, no boundary phase).
    fn problem(
        &self,
        s: &Structure,
        settings: &SolverSettings,
    ) -> Result<crate::solver::Problem, SolverError> {
        let refused = |_| SolverError::BadOption {
            name: "coarse",
            value: format!("{} (grid {} × {})", self.factor, s.nx(), s.ny()),
            expected: "a coarsening factor that divides nx and ny",
        };
        match self.anisotropy {
            CoarseAnisotropy::Majority => {
                s.coarsen(self.factor).map_err(refused)?.problem(settings)
            }
            CoarseAnisotropy::Averaged => {
                let (axis, strength) = s.block_anisotropy(self.factor).map_err(refused)?;
                let f = self.factor;
                let (cx, cy, cell_nm) = (s.nx() / f, s.ny() / f, s.cell_nm() * f as f64);
                let m = settings.material;
                let cells = strength
                    .iter()
                    .map(|r| crate::solver::Material { k1: r * m.k1, ..m });
                settings
                    .problem(cx, cy, cell_nm, &axis)?
                    .with_cell_materials(cells.collect())
            }
        }
    }
}

impl std::fmt::Display for Coarse {
    /// As a script writes it: `coarse: 2` or `coarse: 2, coarse_exchange: "scaled"`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "coarse: {}", self.factor)?;
        if self.anisotropy != CoarseAnisotropy::Majority {
            write!(f, ", coarse_anisotropy: \"{}\"", self.anisotropy.name())?;
        }
        if self.exchange != CoarseExchange::Kept {
            write!(f, ", coarse_exchange: \"{}\"", self.exchange.name())?;
        }
        Ok(())
    }
}

impl DescriptorSet {
    /// Every set scripts may ask for: the cheap descriptors alone, then with each coarse
    /// mesh.
    pub fn all() -> impl Iterator<Item = DescriptorSet> {
        std::iter::once(DescriptorSet::default())
            .chain(Coarse::all().map(|c| DescriptorSet { coarse: Some(c) }))
    }

    /// Column names, in order: the cheap descriptors, then `coarse{f}_{anchor}` (or
    /// `coarse{f}_A{f²}_{anchor}` with the exchange scaled).
    pub fn names(&self) -> Vec<String> {
        self.info().into_iter().map(|(name, _, _)| name).collect()
    }

    /// (name, unit, what it measures) of every column, in order.
    pub fn info(&self) -> Vec<(String, &'static str, String)> {
        let mut info: Vec<_> = DESCRIPTORS
            .iter()
            .map(|d| (d.name.to_string(), d.unit, d.doc.to_string()))
            .collect();
        if let Some(c) = self.coarse {
            let f = c.factor;
            let exchange = match c.exchange {
                CoarseExchange::Kept => String::new(),
                CoarseExchange::Scaled => format!(", exchange stiffness × {}", c.exchange_scale()),
            };
            let cells = match c.anisotropy {
                CoarseAnisotropy::Majority => "majority",
                CoarseAnisotropy::Averaged => "mean anisotropy",
            };
            info.extend(Anchor::ALL.map(|a| {
                (
                    format!("{}_{}", c.prefix(), a.name()),
                    a.unit(),
                    format!(
                        "{} of the curve on cells {f}× larger ({cells} of each {f} × {f} block; the solver's defaults{exchange})",
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
        if let Some(c) = self.coarse {
            v.extend(coarse_anchors(s, c, cache)?);
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
    let rows = per_structure(n, set.coarse.is_some(), "descriptors", get, |s, cache| {
        set.of(s, cache)
    })?;
    let flat: Vec<f64> = rows.concat();
    Ok(ndarray::Array2::from_shape_vec((n, set.len()), flat).expect("rows of equal length"))
}

/// The curves on the mesh `c` of structures `0..n`, as [`descriptor_rows`] sweeps them.
pub fn coarse_curves<S: std::borrow::Borrow<Structure>>(
    c: Coarse,
    n: usize,
    get: impl Fn(usize) -> Result<S, String> + Sync,
) -> Result<Vec<Curve>, String> {
    per_structure(n, true, "coarse curves", get, |s, cache| {
        coarse_curve(s, c, cache)
    })
}

/// `work` on structures `0..n` on all cores, stopping at Ctrl-C; with `sweeps` (work that
/// sweeps curves) through the curve cache and with a progress line.
fn per_structure<S: std::borrow::Borrow<Structure>, T: Send>(
    n: usize,
    sweeps: bool,
    what: &str,
    get: impl Fn(usize) -> Result<S, String> + Sync,
    work: impl Fn(&Structure, Option<&CurveCache>) -> Result<T, SolverError> + Sync,
) -> Result<Vec<T>, String> {
    use rayon::prelude::*;
    let cache = crate::settings::curve_cache()
        .filter(|_| sweeps)
        .map(CurveCache::at);
    let progress = sweeps.then(|| crate::progress::Progress::new(n as u64, what));
    let done = (0..n)
        .into_par_iter()
        .map(|k| {
            crate::interrupt::check().map_err(|e| e.to_string())?;
            let out = work(get(k)?.borrow(), cache.as_ref()).map_err(|e| e.to_string());
            if let Some(p) = &progress {
                p.inc(1);
            }
            out
        })
        .collect::<Result<Vec<T>, String>>();
    if let Some(p) = &progress {
        p.finish();
    }
    done
}

/// The anchors of `s` on the mesh `c` ([`coarse_curve`]; NaN where the curve still has
/// none: only a magnet that never reverses).
pub fn coarse_anchors(
    s: &Structure,
    c: Coarse,
    cache: Option<&CurveCache>,
) -> Result<[f64; 6], SolverError> {
    let curve = coarse_curve(s, c, cache)?;
    Ok(curve.anchors().values().map(|a| a.unwrap_or(f64::NAN)))
}

/// The curve of `s` on the mesh `c` with the solver's defaults (the exchange stiffness
/// scaled as `c` says), swept from h = 1 to −2, through `cache` when given.
pub fn coarse_curve(
    s: &Structure,
    c: Coarse,
    cache: Option<&CurveCache>,
) -> Result<Curve, SolverError> {
    let mut settings = SolverSettings::default();
    settings.material.a *= c.exchange_scale();
    let p = c.problem(s, &settings)?;
    // On to h = −2 (as the Stoner–Wohlfarth descriptors) so that a magnet holding out past
    // −1 still has every anchor: a model's input must not be missing.
    let opts = &SweepOptions {
        h_end: -2.0,
        ..settings.sweep.clone()
    };
    cached_sweep(cache, &p, opts, || {
        let kernel = DemagKernel::cached(p.mesh(), opts.min.precision)?;
        crate::solver::sweep::sweep_with_kernel(&p, &kernel, opts, false)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_units_follow_the_columns() {
        let set = DescriptorSet {
            coarse: Some(Coarse::kept(2)),
        };
        let names = set.names();
        assert_eq!(names.len(), set.len());
        assert_eq!(names[DESCRIPTORS.len()], "coarse2_M1");
        assert_eq!(names.last().unwrap(), "coarse2_Hc");
        assert_eq!(set.info()[DESCRIPTORS.len() + 2].1, "HA", "Hk90 is a field");
        assert_eq!(DescriptorSet::default().len(), DESCRIPTORS.len());
        let scaled = DescriptorSet {
            coarse: Some(Coarse {
                factor: 3,
                exchange: CoarseExchange::Scaled,
                anisotropy: CoarseAnisotropy::Majority,
            }),
        };
        assert_eq!(scaled.names().last().unwrap(), "coarse3_A9_Hc");
        assert!(
            scaled
                .info()
                .last()
                .unwrap()
                .2
                .contains("exchange stiffness × 9")
        );
        // Names tell every set apart: a model's columns name the one it reads.
        let all: Vec<_> = DescriptorSet::all().map(|s| s.names()).collect();
        for (i, a) in all.iter().enumerate() {
            assert!(all[i + 1..].iter().all(|b| b != a), "{:?}", a.last());
        }
        for name in CoarseExchange::NAMES {
            assert_eq!(CoarseExchange::from_name(name).unwrap().name(), name);
        }
        for name in CoarseAnisotropy::NAMES {
            assert_eq!(CoarseAnisotropy::from_name(name).unwrap().name(), name);
        }
    }

    fn two_grains() -> Structure {
        // One grain along the field and one at 60°, side by side.
        let grain: Vec<u32> = (0..256).map(|c| u32::from(c % 16 >= 8)).collect();
        Structure::from_grains(16, 16, 2.0, grain, vec![0.0, 60f64.to_radians()]).unwrap()
    }

    fn anchors_of(s: &Structure) -> [f64; 6] {
        let settings = SolverSettings::default();
        let opts = SweepOptions {
            h_end: -2.0,
            ..settings.sweep.clone()
        };
        crate::solver::sweep(&s.problem(&settings).unwrap(), &opts)
            .unwrap()
            .anchors()
            .values()
            .map(|a| a.unwrap_or(f64::NAN))
    }

    #[test]
    fn scaled_exchange_is_the_label_mesh_on_the_magnet_made_smaller() {
        // Cells 2× larger with A × 4 is the 2 nm mesh on the same grains at half the size:
        // exchange fields scale as A/Δx², and the demagnetising field of a layer far
        // thicker than its cells does not change with scale (the kernels differ only in
        // the 36 µm thickness's ratio to the cell, 9 000 against 18 000).
        let s = two_grains();
        let c = s.coarsen(2).unwrap();
        let smaller =
            Structure::from_grains(8, 8, 2.0, c.grains().to_vec(), c.grain_angles().to_vec())
                .unwrap();
        let reference = anchors_of(&smaller);
        let scaled = coarse_anchors(
            &s,
            Coarse {
                exchange: CoarseExchange::Scaled,
                ..Coarse::kept(2)
            },
            None,
        )
        .unwrap();
        let kept = coarse_anchors(&s, Coarse::kept(2), None).unwrap();
        for k in 0..6 {
            assert!(
                (scaled[k] - reference[k]).abs() < 1e-4,
                "anchor {k}: {scaled:?} against {reference:?}"
            );
        }
        // And it is another curve than the plain coarse mesh's.
        assert!((kept[0] - scaled[0]).abs() > 1e-3, "{kept:?} {scaled:?}");
    }

    #[test]
    fn averaged_anisotropy_is_the_same_on_every_image_of_a_magnet() {
        // A boundary through the middle of a column of blocks: each such block ties 2 to 2.
        let grain: Vec<u32> = (0..256).map(|c| u32::from(c % 16 >= 7)).collect();
        let s = Structure::from_grains(16, 16, 2.0, grain, vec![0.0, 60f64.to_radians()]).unwrap();
        let averaged = Coarse {
            anisotropy: CoarseAnisotropy::Averaged,
            ..Coarse::kept(2)
        };
        let mirror = s.transformed(super::super::Symmetry::MirrorX);
        let a = coarse_anchors(&s, averaged, None).unwrap();
        let b = coarse_anchors(&mirror, averaged, None).unwrap();
        // Equal to the solver's tolerance: the images' sums run in other orders.
        for k in 0..6 {
            assert!(
                (a[k] - b[k]).abs() < 1e-4,
                "anchor {k}: {a:?} against {b:?}"
            );
        }
        // The majority breaks the ties by raster order: the mirror image coarsens to
        // another magnet.
        let a = coarse_anchors(&s, Coarse::kept(2), None).unwrap();
        let b = coarse_anchors(&mirror, Coarse::kept(2), None).unwrap();
        assert!((a[0] - b[0]).abs() > 1e-3, "{a:?} against {b:?}");
        // Where no block straddles a boundary the two rules are one magnet.
        let s = two_grains();
        let a = coarse_anchors(&s, averaged, None).unwrap();
        let b = coarse_anchors(&s, Coarse::kept(2), None).unwrap();
        for k in 0..6 {
            assert!(
                (a[k] - b[k]).abs() < 1e-4,
                "anchor {k}: {a:?} against {b:?}"
            );
        }
        let names = DescriptorSet {
            coarse: Some(averaged),
        }
        .names();
        assert_eq!(names.last().unwrap(), "coarse2_avg_Hc");
        assert_eq!(
            averaged.to_string(),
            "coarse: 2, coarse_anisotropy: \"averaged\""
        );
    }

    #[test]
    fn coarse_anchors_are_the_default_curve_of_the_coarsened_magnet() {
        // M1 and Mr are the cells' mean projections, and the coarse mesh keeps the grains'
        // areas.
        let s = two_grains();
        let set = DescriptorSet {
            coarse: Some(Coarse::kept(2)),
        };
        let v = set.of(&s, None).unwrap();
        assert_eq!(&v[..DESCRIPTORS.len()], &s.descriptors().unwrap()[..]);
        let a = &v[DESCRIPTORS.len()..];
        let direct = anchors_of(&s.coarsen(2).unwrap());
        for (k, d) in direct.iter().enumerate() {
            assert_eq!(a[k].to_bits(), d.to_bits(), "anchor {k}");
        }
        // Mr near the grains' mean cos ψ (0.75), exchange and charges pull it a little.
        assert!(
            (a[1] - 0.75).abs() < 0.1 && a[0] >= a[1] && a[5] > 0.0,
            "{a:?}"
        );
        let e = DescriptorSet {
            coarse: Some(Coarse::kept(3)),
        }
        .of(&s, None)
        .unwrap_err()
        .to_string();
        assert!(e.contains("divides nx and ny"), "{e}");
    }
}
