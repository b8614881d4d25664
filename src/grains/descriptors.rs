//! Physical descriptors of a structure: named numbers for what sets its demagnetisation
//! curve — the easy axes against the field (+y), the curve of the same grains without
//! exchange and demagnetisation (Stoner–Wohlfarth), the spread of their switching fields,
//! the orientation averaged over exchange lengths, grain sizes, boundaries and the edges
//! that carry the demagnetising charges, and the first-order response of the
//! Stoner–Wohlfarth state to exchange and demagnetisation. Inputs for regressors and a
//! readable summary.
//!
//! An easy axis is a line, so every orientation measure uses ψ folded into [0, π/2] (the
//! angle between the axis and the field line): cos²ψ, the switching field h_sw(ψ) =
//! (cos^⅔ψ + sin^⅔ψ)^−3/2 (1 along or across the field, ½ at 45°).

use super::structure::Structure;

/// One descriptor: its name, unit and what it measures.
#[derive(Clone, Copy, Debug)]
pub struct Descriptor {
    pub name: &'static str,
    pub unit: &'static str,
    pub doc: &'static str,
}

const fn d(name: &'static str, unit: &'static str, doc: &'static str) -> Descriptor {
    Descriptor { name, unit, doc }
}

/// Every descriptor, in the order of [`Structure::descriptors`].
pub const DESCRIPTORS: [Descriptor; 46] = [
    d(
        "cos2_mean",
        "1",
        "mean of cos²ψ over cells: alignment of the axes with the field",
    ),
    d(
        "axis_order",
        "1",
        "|⟨e^{2iψ}⟩| over cells: 1 for parallel axes, 0 for isotropic ones",
    ),
    d(
        "cos2_min_grain",
        "1",
        "least cos²ψ of any grain: the worst-aligned grain",
    ),
    d("cos2_q05", "1", "5th percentile of cos²ψ over cells"),
    d("cos2_q10", "1", "10th percentile of cos²ψ over cells"),
    d("cos2_q25", "1", "25th percentile of cos²ψ over cells"),
    d("cos2_median", "1", "median of cos²ψ over cells"),
    d(
        "frac_beyond_45deg",
        "1",
        "fraction of cells whose axis is more than 45° from the field",
    ),
    d(
        "frac_beyond_60deg",
        "1",
        "fraction of cells whose axis is more than 60° from the field",
    ),
    d(
        "sw_M1",
        "Ms",
        "M1 of the grains as independent Stoner–Wohlfarth particles",
    ),
    d(
        "sw_Mr",
        "Ms",
        "Mr of independent Stoner–Wohlfarth grains, = mean |cos ψ| over cells",
    ),
    d(
        "sw_Hk90",
        "HA",
        "Hk90 of independent Stoner–Wohlfarth grains",
    ),
    d(
        "sw_Hk80",
        "HA",
        "Hk80 of independent Stoner–Wohlfarth grains",
    ),
    d(
        "sw_Hk70",
        "HA",
        "Hk70 of independent Stoner–Wohlfarth grains",
    ),
    d(
        "sw_Hc",
        "HA",
        "Hc of independent Stoner–Wohlfarth grains (sweep continued to h = −2)",
    ),
    d(
        "hsw_min_grain",
        "HA",
        "least switching field h_sw(ψ) of any grain",
    ),
    d("hsw_q05", "HA", "5th percentile of h_sw over cells"),
    d("hsw_q10", "HA", "10th percentile of h_sw over cells"),
    d("hsw_q25", "HA", "25th percentile of h_sw over cells"),
    d("hsw_median", "HA", "median of h_sw over cells"),
    d("hsw_mean", "HA", "mean of h_sw over cells"),
    d(
        "cos_local_4nm_mean",
        "1",
        "mean over cells of |cos| of the axis averaged over 4 nm: the remanence of exchange-smoothed axes",
    ),
    d(
        "cos_local_10nm_mean",
        "1",
        "mean over cells of |cos| of the axis averaged over 10 nm",
    ),
    d(
        "cos2_local_4nm_min",
        "1",
        "least cos² of the axis averaged over 4 nm (a domain wall width) around a cell",
    ),
    d(
        "cos2_local_4nm_q05",
        "1",
        "5th percentile over cells of cos² of the axis averaged over 4 nm",
    ),
    d(
        "hsw_local_4nm_min",
        "HA",
        "least h_sw of the axis averaged over 4 nm around a cell",
    ),
    d(
        "hsw_local_4nm_q05",
        "HA",
        "5th percentile over cells of h_sw of the axis averaged over 4 nm",
    ),
    d(
        "cos2_local_10nm_min",
        "1",
        "least cos² of the axis averaged over 10 nm around a cell",
    ),
    d(
        "cos2_local_10nm_q05",
        "1",
        "5th percentile over cells of cos² of the axis averaged over 10 nm",
    ),
    d(
        "hsw_local_10nm_min",
        "HA",
        "least h_sw of the axis averaged over 10 nm around a cell",
    ),
    d(
        "hsw_local_10nm_q05",
        "HA",
        "5th percentile over cells of h_sw of the axis averaged over 10 nm",
    ),
    d("grains", "1", "grains that own cells"),
    d(
        "ecd_mean_nm",
        "nm",
        "mean equivalent-circle diameter of the grains",
    ),
    d(
        "ecd_cv",
        "1",
        "coefficient of variation of the grains' equivalent-circle diameters",
    ),
    d(
        "ecd_area_weighted_nm",
        "nm",
        "area-weighted mean equivalent-circle diameter (the size a random cell sees)",
    ),
    d(
        "largest_grain_fraction",
        "1",
        "area fraction of the largest grain",
    ),
    d(
        "ecd_weakest_nm",
        "nm",
        "equivalent-circle diameter of the grain with the least h_sw",
    ),
    d(
        "boundary_fraction",
        "1",
        "fraction of neighbouring cell pairs that straddle a grain boundary",
    ),
    d(
        "misorientation_mean",
        "1",
        "mean |sin Δψ| over cell pairs across grain boundaries (0 when there are none)",
    ),
    d(
        "misorientation_q90",
        "1",
        "90th percentile of |sin Δψ| across grain boundaries",
    ),
    d(
        "edge_cos2_mean",
        "1",
        "mean cos²ψ of the cells on the edges normal to the field (they carry the surface charges)",
    ),
    d(
        "edge_hsw_min",
        "HA",
        "least h_sw of a cell on the edges normal to the field",
    ),
    d(
        "lr_M1",
        "Ms",
        "M1 of the Stoner–Wohlfarth state turned by one Newton step under exchange and demagnetisation (solver::response, paper material)",
    ),
    d(
        "lr_Mr",
        "Ms",
        "Mr of the Stoner–Wohlfarth state turned by one Newton step under exchange and demagnetisation",
    ),
    d(
        "lr_dMr_exchange",
        "Ms",
        "exchange part of lr_Mr − sw_Mr: boundaries between misaligned grains pulled towards the field",
    ),
    d(
        "lr_dMr_demag",
        "Ms",
        "demagnetisation part of lr_Mr − sw_Mr: the Stoner–Wohlfarth state's charges pushing it back",
    ),
];

/// The position of descriptor `name`.
pub fn descriptor_index(name: &str) -> Option<usize> {
    DESCRIPTORS.iter().position(|d| d.name == name)
}

/// Per anchor, the column of its Stoner–Wohlfarth estimate (`sw_<anchor>`): the prior a
/// learner of that anchor can correct rather than relearn.
pub fn anchor_priors() -> Vec<(&'static str, usize)> {
    DESCRIPTORS
        .iter()
        .enumerate()
        .filter_map(|(k, d)| d.name.strip_prefix("sw_").map(|a| (a, k)))
        .collect()
}

/// ψ folded into [0, π/2]: the angle between an axis (a line) and the field line.
pub fn fold_axis(psi: f64) -> f64 {
    (psi - std::f64::consts::PI * (psi / std::f64::consts::PI).round()).abs()
}

/// Stoner–Wohlfarth switching field (units of HA) of a particle whose axis makes angle `a`
/// with the field.
pub fn switching_field(a: f64) -> f64 {
    let (s, c) = a.sin_cos();
    (c.abs().powf(2.0 / 3.0) + s.abs().powf(2.0 / 3.0)).powf(-1.5)
}

/// m_y of one Stoner–Wohlfarth particle (axis at `a` from +y) along the descending fields
/// `h`, starting aligned with +y: e(φ) = sin²(φ − a) − 2h cos φ in units of K1, each
/// field's local minimum followed from the previous one.
pub fn stoner_wohlfarth(a: f64, h: &[f64]) -> Vec<f64> {
    // A hair towards the axis so a particle across the field leaves the energy maximum.
    let mut phi = 1e-6 * a.signum();
    h.iter()
        .map(|&h| {
            for _ in 0..500 {
                let g = (2.0 * (phi - a)).sin() + 2.0 * h * phi.sin();
                let c = 2.0 * (2.0 * (phi - a)).cos() + 2.0 * h * phi.cos();
                if g.abs() < 1e-12 && c > 0.0 {
                    break;
                }
                // Newton inside a minimum's basin; past an instability (the minimum gone)
                // a full step downhill.
                let step = if c > 1e-3 { g / c } else { g.signum() };
                phi -= step.clamp(-0.3, 0.3);
            }
            phi.cos()
        })
        .collect()
}

/// Value below which a fraction `q` of the total weight lies; `v` sorted by value.
fn weighted_quantile(v: &[(f64, f64)], q: f64) -> f64 {
    let total: f64 = v.iter().map(|x| x.1).sum();
    let mut acc = 0.0;
    for &(x, w) in v {
        acc += w;
        if acc >= q * total {
            return x;
        }
    }
    v.last().map_or(f64::NAN, |x| x.0)
}

fn sorted(mut v: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    v
}

/// Mean of (cos 2ψ, sin 2ψ) over the (2r+1)² window around each cell, clipped at the
/// edges (summed-area tables).
fn local_axis(s: &Structure, r: usize) -> Vec<(f64, f64)> {
    let (nx, ny) = (s.nx(), s.ny());
    let mut table = vec![(0.0, 0.0); (nx + 1) * (ny + 1)];
    let at = |i: usize, j: usize| j * (nx + 1) + i;
    for j in 0..ny {
        for i in 0..nx {
            let psi = s.angle_at(i, j);
            let (c, sn) = ((2.0 * psi).cos(), (2.0 * psi).sin());
            let (a, b, e) = (table[at(i, j + 1)], table[at(i + 1, j)], table[at(i, j)]);
            table[at(i + 1, j + 1)] = (c + a.0 + b.0 - e.0, sn + a.1 + b.1 - e.1);
        }
    }
    let mut out = Vec::with_capacity(nx * ny);
    for j in 0..ny {
        for i in 0..nx {
            let (i0, i1) = (i.saturating_sub(r), (i + r + 1).min(nx));
            let (j0, j1) = (j.saturating_sub(r), (j + r + 1).min(ny));
            let sum = |k: usize| {
                let pick = |p: (f64, f64)| if k == 0 { p.0 } else { p.1 };
                pick(table[at(i1, j1)]) - pick(table[at(i0, j1)]) - pick(table[at(i1, j0)])
                    + pick(table[at(i0, j0)])
            };
            let n = ((i1 - i0) * (j1 - j0)) as f64;
            out.push((sum(0) / n, sum(1) / n));
        }
    }
    out
}

/// Of the mean axis of each window of `scale_nm`: cos² (min, 5th percentile), h_sw (min,
/// 5th percentile) and the mean |cos| of its angle to the field.
fn local_measures(s: &Structure, scale_nm: f64) -> [f64; 5] {
    let r = ((scale_nm / s.cell_nm()) / 2.0).round() as usize;
    let local = local_axis(s, r);
    // The mean axis of (cos 2ψ, sin 2ψ): its angle from the field line, and cos² of it
    // weighted by how ordered the window is ((1 + ⟨cos 2ψ⟩)/2 is ⟨cos²ψ⟩ itself).
    let cos2: Vec<(f64, f64)> = local.iter().map(|&(c, _)| ((1.0 + c) / 2.0, 1.0)).collect();
    let hsw: Vec<(f64, f64)> = local
        .iter()
        .map(|&(c, sn)| (switching_field(0.5 * sn.atan2(c)), 1.0))
        .collect();
    let cos_mean = local
        .iter()
        .map(|&(c, sn)| (0.5 * sn.atan2(c)).cos().abs())
        .sum::<f64>()
        / local.len() as f64;
    let (cos2, hsw) = (sorted(cos2), sorted(hsw));
    [
        cos2[0].0,
        weighted_quantile(&cos2, 0.05),
        hsw[0].0,
        weighted_quantile(&hsw, 0.05),
        cos_mean,
    ]
}

impl Structure {
    /// The values of [`DESCRIPTORS`], in that order. The `lr_` ones take the paper's
    /// material (solver defaults) at this structure's cell size.
    pub fn descriptors(&self) -> Result<Vec<f64>, crate::solver::SolverError> {
        let settings = crate::solver::SolverSettings::default();
        let lr = crate::solver::response::response(&self.problem(&settings)?, &[1.0, 0.0])?;
        let st = self.stats();
        // Grains owning cells: (folded angle, area in cells, ecd).
        let grains: Vec<(f64, f64, f64)> = (0..self.n_grains())
            .filter(|&g| st.area_cells[g] > 0)
            .map(|g| {
                (
                    fold_axis(self.grain_angles()[g]),
                    st.area_cells[g] as f64,
                    st.ecd_nm[g],
                )
            })
            .collect();
        let cells = self.n_cells() as f64;
        let cos2 = sorted(grains.iter().map(|g| (g.0.cos().powi(2), g.1)).collect());
        let hsw = sorted(grains.iter().map(|g| (switching_field(g.0), g.1)).collect());
        let mean = |v: &[(f64, f64)]| v.iter().map(|x| x.0 * x.1).sum::<f64>() / cells;
        let frac_beyond = |deg: f64| {
            grains
                .iter()
                .filter(|g| g.0 > deg.to_radians())
                .map(|g| g.1)
                .sum::<f64>()
                / cells
        };

        // Independent Stoner–Wohlfarth grains, swept on the solver's field steps and on
        // to h = −2 so that aligned grains (switching at h = −1) still give an Hc.
        let h: Vec<f64> = (0..=300).map(|k| 1.0 - 0.01 * k as f64).collect();
        let mut m = vec![0.0; h.len()];
        for g in &grains {
            for (mk, my) in m.iter_mut().zip(stoner_wohlfarth(g.0, &h)) {
                *mk += my * g.1 / cells;
            }
        }
        let sw = crate::solver::anchors::anchors(&h, &m);
        let or_nan = |v: Option<f64>| v.unwrap_or(f64::NAN);

        let l4 = local_measures(self, 4.0);
        let l10 = local_measures(self, 10.0);

        let ecd_mean = st.mean_size_nm;
        let ecd_var =
            grains.iter().map(|g| (g.2 - ecd_mean).powi(2)).sum::<f64>() / grains.len() as f64;
        let weakest = grains
            .iter()
            .min_by(|a, b| switching_field(a.0).total_cmp(&switching_field(b.0)))
            .map_or(f64::NAN, |g| g.2);

        // Cell pairs across boundaries, with |sin Δψ|.
        let (nx, ny) = (self.nx(), self.ny());
        let mut pairs = 0usize;
        let mut across = vec![];
        let mut visit = |a: usize, b: usize| {
            pairs += 1;
            if self.grains()[a] != self.grains()[b] {
                across.push(((self.cell_angle(a) - self.cell_angle(b)).sin().abs(), 1.0));
            }
        };
        for j in 0..ny {
            for i in 0..nx {
                if i + 1 < nx {
                    visit(self.index(i, j), self.index(i + 1, j));
                }
                if j + 1 < ny {
                    visit(self.index(i, j), self.index(i, j + 1));
                }
            }
        }
        let across = sorted(across);
        let mis_mean = if across.is_empty() {
            0.0
        } else {
            across.iter().map(|x| x.0).sum::<f64>() / across.len() as f64
        };
        let mis_q90 = if across.is_empty() {
            0.0
        } else {
            weighted_quantile(&across, 0.9)
        };

        // The edges normal to the field: rows j = 0 and j = ny − 1.
        let edge: Vec<f64> = (0..nx)
            .flat_map(|i| [self.angle_at(i, 0), self.angle_at(i, ny - 1)])
            .map(fold_axis)
            .collect();
        let edge_cos2 = edge.iter().map(|a| a.cos().powi(2)).sum::<f64>() / edge.len() as f64;
        let edge_hsw = edge
            .iter()
            .map(|&a| switching_field(a))
            .fold(f64::INFINITY, f64::min);

        let mut values = vec![
            mean(&cos2),
            st.axis_order,
            cos2[0].0,
            weighted_quantile(&cos2, 0.05),
            weighted_quantile(&cos2, 0.10),
            weighted_quantile(&cos2, 0.25),
            weighted_quantile(&cos2, 0.5),
            frac_beyond(45.0),
            frac_beyond(60.0),
        ];
        // sw_M1 … sw_Hc, in the anchors' order.
        values.extend(sw.values().map(or_nan));
        values.extend([
            hsw[0].0,
            weighted_quantile(&hsw, 0.05),
            weighted_quantile(&hsw, 0.10),
            weighted_quantile(&hsw, 0.25),
            weighted_quantile(&hsw, 0.5),
            mean(&hsw),
            l4[4],
            l10[4],
            l4[0],
            l4[1],
            l4[2],
            l4[3],
            l10[0],
            l10[1],
            l10[2],
            l10[3],
            grains.len() as f64,
            ecd_mean,
            ecd_var.sqrt() / ecd_mean,
            st.mean_size_area_weighted_nm,
            grains.iter().map(|g| g.1).fold(0.0, f64::max) / cells,
            weakest,
            across.len() as f64 / pairs.max(1) as f64,
            mis_mean,
            mis_q90,
            edge_cos2,
            edge_hsw,
            lr[0].total(),
            lr[1].total(),
            lr[1].exchange,
            lr[1].demag,
        ]);
        debug_assert_eq!(values.len(), DESCRIPTORS.len());
        Ok(values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::{FRAC_PI_4, FRAC_PI_6, PI};

    fn value(s: &Structure, name: &str) -> f64 {
        s.descriptors().unwrap()[descriptor_index(name).unwrap()]
    }

    #[test]
    fn descriptors_are_the_same_for_every_image_of_a_magnet() {
        // The curve-preserving symmetries keep the physics, so a model on the descriptors
        // sees one magnet, and the spread of its images' labels is noise it cannot learn.
        let s = crate::grains::voronoi(&crate::grains::VoronoiOptions {
            nx: 24,
            ny: 20,
            grains: Some(7),
            theta: Some(1.4),
            seed: 5,
            ..Default::default()
        })
        .unwrap();
        let d = s.descriptors().unwrap();
        for t in crate::grains::Symmetry::ALL {
            let e = s.transformed(t).descriptors().unwrap();
            for (k, (a, b)) in d.iter().zip(&e).enumerate() {
                let name = DESCRIPTORS[k].name;
                assert!(
                    (a - b).abs() <= 1e-9 * (1.0 + a.abs()),
                    "{t:?} {name}: {a} vs {b}"
                );
            }
        }
    }

    #[test]
    fn descriptor_names_are_distinct() {
        let mut names: Vec<&str> = DESCRIPTORS.iter().map(|d| d.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), DESCRIPTORS.len());
    }

    #[test]
    fn folding_and_switching_field() {
        assert!((fold_axis(PI - 0.2) - 0.2).abs() < 1e-12);
        assert!((fold_axis(-0.3) - 0.3).abs() < 1e-12);
        assert!((fold_axis(0.5 * PI) - 0.5 * PI).abs() < 1e-12);
        assert!((switching_field(FRAC_PI_4) - 0.5).abs() < 1e-12);
        assert!((switching_field(0.0) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn stoner_wohlfarth_particle_switches_at_the_astroid() {
        // Axis at 30°: switching at h_sw(30°) ≈ 0.524, remanence cos 30°.
        let h: Vec<f64> = (0..=200).map(|k| 1.0 - 0.01 * k as f64).collect();
        let m = stoner_wohlfarth(FRAC_PI_6, &h);
        assert!((m[100] - FRAC_PI_6.cos()).abs() < 1e-9, "Mr {}", m[100]);
        let hsw = switching_field(FRAC_PI_6);
        let k = m.iter().position(|&v| v < 0.0).unwrap();
        assert!(
            -h[k] >= hsw - 1e-9 && -h[k] < hsw + 0.01 + 1e-9,
            "switched at {}",
            h[k]
        );
        // Before switching the moment sits between field and axis; after, near −axis.
        assert!(m[k - 1] > 0.0 && m[k] < -0.8);
    }

    #[test]
    fn descriptors_of_a_two_grain_structure() {
        // 4 × 2 cells of 2 nm: grain 0 (6 cells, axis along the field), grain 1 (2 cells,
        // right column, axis at 60°, written as 60° − 180° to test the folding).
        let s = Structure::from_grains(
            4,
            2,
            2.0,
            vec![0, 0, 0, 1, 0, 0, 0, 1],
            vec![0.0, (60f64).to_radians() - PI],
        )
        .unwrap();
        let c60 = (60f64).to_radians().cos().powi(2); // 0.25
        assert!((value(&s, "cos2_mean") - (0.75 + 0.25 * c60)).abs() < 1e-12);
        assert!((value(&s, "cos2_min_grain") - c60).abs() < 1e-12);
        assert!((value(&s, "cos2_q10") - c60).abs() < 1e-12);
        assert!((value(&s, "cos2_median") - 1.0).abs() < 1e-12);
        assert!((value(&s, "frac_beyond_45deg") - 0.25).abs() < 1e-12);
        assert!((value(&s, "frac_beyond_60deg") - 0.0).abs() < 1e-9);
        assert!((value(&s, "sw_Mr") - (0.75 + 0.25 * 0.5)).abs() < 1e-9);
        assert!((value(&s, "hsw_min_grain") - switching_field((60f64).to_radians())).abs() < 1e-12);
        assert_eq!(value(&s, "grains"), 2.0);
        assert!((value(&s, "largest_grain_fraction") - 0.75).abs() < 1e-12);
        let ecd = |a: f64| 2.0 * (a / PI).sqrt();
        assert!((value(&s, "ecd_weakest_nm") - ecd(8.0)).abs() < 1e-12);
        // 10 neighbour pairs (6 horizontal, 4 vertical), 2 across the boundary, |sin 60°|.
        assert!((value(&s, "boundary_fraction") - 0.2).abs() < 1e-12);
        assert!((value(&s, "misorientation_mean") - (60f64).to_radians().sin()).abs() < 1e-12);
        // Both rows are edges normal to the field here.
        assert!((value(&s, "edge_cos2_mean") - (0.75 + 0.25 * c60)).abs() < 1e-12);
    }

    #[test]
    fn aligned_grains_have_the_ideal_curve() {
        // One grain along the field: no boundaries, the SW square loop switching at h = −1.
        let s = Structure::from_grains(6, 6, 2.0, vec![0; 36], vec![0.0]).unwrap();
        let v = s.descriptors().unwrap();
        let at = |n: &str| v[descriptor_index(n).unwrap()];
        assert_eq!(at("sw_M1"), 1.0);
        assert_eq!(at("sw_Mr"), 1.0);
        // Switching at h = −1 exactly (within the 0.01 field step).
        for n in ["sw_Hk90", "sw_Hc"] {
            assert!((0.99..=1.0).contains(&at(n)), "{n} {}", at(n));
        }
        assert_eq!(at("boundary_fraction"), 0.0);
        assert_eq!(at("misorientation_mean"), 0.0);
        assert_eq!(at("axis_order"), 1.0);
        assert_eq!(at("cos2_local_10nm_min"), 1.0);
        // m ∥ axis ∥ field everywhere: no coupling turns it.
        assert_eq!(at("lr_M1"), 1.0);
        assert_eq!(at("lr_Mr"), 1.0);
        assert!(v.iter().all(|x| x.is_finite()));
    }

    #[test]
    fn response_descriptors_split_into_sw_and_couplings() {
        // Two grains at ±60°: the boundary between them turns towards +y (exchange), so
        // the first-order Mr lies above the Stoner–Wohlfarth ½.
        let grains: Vec<u32> = (0..16 * 8).map(|c| u32::from(c % 16 >= 8)).collect();
        let s = Structure::from_grains(16, 8, 2.0, grains, vec![FRAC_PI_6 * 2.0, -FRAC_PI_6 * 2.0])
            .unwrap();
        let (sw, lr) = (value(&s, "sw_Mr"), value(&s, "lr_Mr"));
        assert!((sw - 0.5).abs() < 1e-12);
        let (ex, de) = (value(&s, "lr_dMr_exchange"), value(&s, "lr_dMr_demag"));
        assert!(ex > 0.0, "exchange enhances the remanence: {ex}");
        assert!((lr - (sw + ex + de)).abs() < 1e-12);
        // At h = 1 the grains sit nearer the field than at remanence.
        assert!(value(&s, "lr_M1") > lr);
    }

    #[test]
    fn local_average_sees_a_crossed_pair_as_disordered() {
        // Alternating columns at 0° and 90°: averaged over a window, cos 2ψ cancels, so the
        // local cos² is ½ and the local axis is undetermined but finite.
        let angles: Vec<f64> = (0..64)
            .map(|c| if c % 2 == 0 { 0.0 } else { PI / 2.0 })
            .collect();
        let s = Structure::from_cell_angles(8, 8, 2.0, &angles).unwrap();
        let v = local_axis(&s, 2);
        // Interior window 5 × 5 has columns 0,90,0,90,0 or 90,0,90,0,90: mean cos 2ψ = ±1/5.
        assert!((v[s.index(4, 4)].0.abs() - 0.2).abs() < 1e-12);
        assert!(s.descriptors().unwrap().iter().all(|x| x.is_finite()));
    }
}
