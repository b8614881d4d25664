//! The symmetries of the square grid that leave the demagnetisation curve unchanged, for
//! augmenting training data.
//!
//! The field is along +y and M = mean m_y. A mirror x → −x maps an easy axis (sin ψ, cos ψ)
//! to (−sin ψ, cos ψ), i.e. ψ → −ψ, and the magnetisation likewise, so every energy term and
//! M are kept. A mirror y → −y maps the axis to (sin ψ, −cos ψ), the same line as
//! (−sin ψ, cos ψ), i.e. again ψ → −ψ; it would reverse the field, but composed with m → −m
//! (which every term except Zeeman ignores) field and M are kept. Rotation by 180° is the
//! product of both mirrors and keeps ψ. The 90° rotations are not symmetries: they turn
//! the axes against the field.
//!
//! The four form the group Z₂ × Z₂: a transform is its pair (flip columns, flip rows), and
//! composing two XORs the pairs; ψ is negated when exactly one of the two flips is made.

use super::encode::Encoding;
use super::error::{Result, invalid};
use super::rng::splitmix64;
use super::structure::Structure;
use ndarray::{ArrayViewMut1, ArrayViewMut3, Axis};

/// Output index of the run seed's SplitMix64 stream that keys the augmentation draws.
const AUGMENT_STREAM: u64 = 0xa06;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Symmetry {
    Identity,
    /// x → −x: columns i → nx−1−i, ψ → −ψ.
    MirrorX,
    /// y → −y: rows j → ny−1−j, ψ → −ψ.
    MirrorY,
    /// (x, y) → (−x, −y): both flips, ψ kept.
    Rotate180,
}

crate::named::named!(Symmetry {
    Identity => "identity",
    MirrorX => "mirror_x",
    MirrorY => "mirror_y",
    Rotate180 => "rotate180",
});

impl Symmetry {
    /// What a name must be, for error messages.
    pub const EXPECTED: &str =
        "\"identity\", \"mirror_x\" (x → −x), \"mirror_y\" (y → −y) or \"rotate180\"";

    /// (flip columns, flip rows).
    pub fn flips(self) -> (bool, bool) {
        match self {
            Symmetry::Identity => (false, false),
            Symmetry::MirrorX => (true, false),
            Symmetry::MirrorY => (false, true),
            Symmetry::Rotate180 => (true, true),
        }
    }

    fn from_flips(fx: bool, fy: bool) -> Symmetry {
        match (fx, fy) {
            (false, false) => Symmetry::Identity,
            (true, false) => Symmetry::MirrorX,
            (false, true) => Symmetry::MirrorY,
            (true, true) => Symmetry::Rotate180,
        }
    }

    /// Whether the transform maps ψ to −ψ (the mirrors).
    pub fn negates_angle(self) -> bool {
        let (fx, fy) = self.flips();
        fx != fy
    }

    /// `self` after `first`: `a.after(b)` applied to s is a applied to (b applied to s).
    pub fn after(self, first: Symmetry) -> Symmetry {
        let ((ax, ay), (bx, by)) = (self.flips(), first.flips());
        Symmetry::from_flips(ax != bx, ay != by)
    }

    /// Every element is its own inverse.
    pub fn inverse(self) -> Symmetry {
        self
    }

    /// The transform drawn for record `record` in epoch `epoch` of a run seeded `seed`:
    /// a function of the three numbers alone (not of batch order), so a resumed run draws
    /// what an uninterrupted one would. Uniform over [`Symmetry::ALL`].
    pub fn draw(seed: u64, epoch: u64, record: u64) -> Symmetry {
        // Chained SplitMix64 outputs: distinct (epoch, record) give unrelated bits; the
        // first link moves off the state the epoch shuffle keys from (seed, epoch).
        let base = splitmix64(seed, AUGMENT_STREAM);
        let bits = splitmix64(splitmix64(base, epoch), record);
        Symmetry::ALL[(bits >> 62) as usize]
    }

    /// Transforms an encoded raster [channels, ny, nx] in place, as if `e` encoded the
    /// transformed structure: flips columns and/or rows, and for ψ → −ψ negates k_x = sin ψ
    /// (`Kx`) or the sin 2ψ channel (`Axis`; cos 2ψ is even in ψ).
    pub fn apply_encoded(self, mut raster: ArrayViewMut3<f32>, e: Encoding) -> Result<()> {
        if raster.shape()[0] != e.channels() {
            return Err(invalid(
                "Symmetry::apply_encoded: raster channels",
                format!("{} for this encoding", e.channels()),
                raster.shape()[0],
            ));
        }
        let (fx, fy) = self.flips();
        if fx {
            raster.lanes_mut(Axis(2)).into_iter().for_each(reverse);
        }
        if fy {
            raster.lanes_mut(Axis(1)).into_iter().for_each(reverse);
        }
        if self.negates_angle() {
            let odd = match e {
                Encoding::Kx => 0,
                Encoding::Axis => 1,
            };
            raster.index_axis_mut(Axis(0), odd).mapv_inplace(|v| -v);
        }
        Ok(())
    }
}

fn reverse(mut lane: ArrayViewMut1<f32>) {
    let n = lane.len();
    for k in 0..n / 2 {
        lane.swap(k, n - 1 - k);
    }
}

impl Structure {
    /// The image of this structure under `t`: same grid, cell size and grain ids (moved
    /// with their cells), grain angles negated by the mirrors. −ψ is not wrapped: every
    /// range the crate draws or decodes angles in is symmetric ([−|θ|, |θ|], asin's
    /// [−π/2, π/2]) except the axis decoder's (−90°, 90°], whose +90° becomes −90°, the
    /// same axis; wrapping it back would flip k_x = sin ψ. The generator is dropped (the
    /// seeds of a mirrored tessellation need not assign cells identically on ties).
    pub fn transformed(&self, t: Symmetry) -> Structure {
        let (nx, ny) = (self.nx(), self.ny());
        let (fx, fy) = t.flips();
        let old = self.grains();
        let mut grain = vec![0u32; nx * ny];
        for j in 0..ny {
            let jt = if fy { ny - 1 - j } else { j };
            for i in 0..nx {
                let it = if fx { nx - 1 - i } else { i };
                grain[jt * nx + it] = old[j * nx + i];
            }
        }
        let sign = if t.negates_angle() { -1.0 } else { 1.0 };
        let angles = self.grain_angles().iter().map(|a| sign * a).collect();
        // The grid, the ids and the (finite) angles are those of a valid structure.
        Structure::from_grains(nx, ny, self.cell_nm(), grain, angles)
            .expect("a transformed valid structure is valid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grains::{VoronoiOptions, voronoi};

    /// A Voronoi structure without its generator (transforms drop it), so that equality
    /// compares cells and angles only.
    fn structure(nx: usize, ny: usize, grains: usize, theta: f64, seed: u64) -> Structure {
        let v = voronoi(&VoronoiOptions {
            nx,
            ny,
            grains: Some(grains),
            theta: Some(theta),
            seed,
            ..Default::default()
        })
        .unwrap();
        Structure::from_grains(
            nx,
            ny,
            v.cell_nm(),
            v.grains().to_vec(),
            v.grain_angles().to_vec(),
        )
        .unwrap()
    }

    #[test]
    fn grains_apply_encoded_equals_encoding_the_transformed_structure() {
        let s = structure(12, 20, 5, 1.2, 3);
        for e in [Encoding::Kx, Encoding::Axis] {
            for t in Symmetry::ALL {
                let mut x = e.encode(&s);
                t.apply_encoded(x.view_mut(), e).unwrap();
                assert_eq!(x, e.encode(&s.transformed(t)), "{t:?} {e:?}");
            }
            let mut x = e.encode(&s);
            let wrong = if e == Encoding::Kx {
                Encoding::Axis
            } else {
                Encoding::Kx
            };
            let err = Symmetry::MirrorX
                .apply_encoded(x.view_mut(), wrong)
                .unwrap_err();
            assert!(err.to_string().contains("apply_encoded"), "{err}");
        }
        // A cell moves where the transform says, with its angle negated by the mirrors.
        let (nx, ny) = (s.nx(), s.ny());
        let m = s.transformed(Symmetry::MirrorY);
        assert_eq!(m.angle_at(2, ny - 1 - 5), -s.angle_at(2, 5));
        let r = s.transformed(Symmetry::Rotate180);
        assert_eq!(r.angle_at(nx - 1 - 2, ny - 1 - 5), s.angle_at(2, 5));
        assert_ne!(m, s);
    }

    #[test]
    fn grains_symmetries_compose_as_a_group() {
        use Symmetry::*;
        assert_eq!(MirrorX.after(MirrorY), Rotate180);
        assert_eq!(MirrorY.after(MirrorX), Rotate180);
        assert_eq!(Rotate180.after(MirrorX), MirrorY);
        let s = structure(8, 16, 5, 1.2, 1);
        for a in Symmetry::ALL {
            assert_eq!(a.after(a.inverse()), Identity);
            assert_eq!(s.transformed(a).transformed(a), s, "{a:?} twice");
            for b in Symmetry::ALL {
                // The table agrees with the action on structures.
                assert_eq!(
                    s.transformed(b).transformed(a),
                    s.transformed(a.after(b)),
                    "{a:?} after {b:?}"
                );
            }
        }
    }

    #[test]
    fn grains_symmetry_draws_are_uniform_and_keyed() {
        let mut count = [0usize; 4];
        for r in 0..4000 {
            let t = Symmetry::draw(7, 2, r);
            assert_eq!(t, Symmetry::draw(7, 2, r));
            count[Symmetry::ALL.iter().position(|&a| a == t).unwrap()] += 1;
        }
        // Binomial(4000, ¼): sd ≈ 27, so ±150 is over 5 sd.
        assert!(count.iter().all(|&c| c.abs_diff(1000) < 150), "{count:?}");
        let row = |seed, epoch| {
            (0..64)
                .map(|r| Symmetry::draw(seed, epoch, r))
                .collect::<Vec<_>>()
        };
        assert_ne!(row(7, 2), row(7, 3));
        assert_ne!(row(7, 2), row(8, 2));
    }

    /// The physics behind the augmentation: the solver's curve (F32 demag) of every image
    /// equals the original's, on structures that switch inside the sweep. With each field's
    /// descent started afresh (from the last state, with the first step tau_init: neither of
    /// the sweep's speed-ups) the images take the same path up to rounding: measured (24²,
    /// 4–6 grains, 0.5 rad cap) |ΔM| ≤ 7e-7 off the switching steps, ≤ 4e-6 on them (the F32 demag's
    /// rounding differs inside an avalanche), anchors ≤ 4e-8. The default's secant start is
    /// taken where the last step turned no cell more than 0.05 rad, a threshold rounding can
    /// tip one way in one image and the other in another, and its carried step starts with
    /// a step length that rounding has touched; each descent then stops elsewhere within
    /// the stopping rule (torque < 1e-4 HA leaves a cell about 1e-4 rad from its minimum):
    /// measured |ΔM| ≤ 2.1e-5 and anchors ≤ 7.9e-6, held to that resolution, 1e-4.
    #[test]
    fn grains_symmetries_keep_the_demagnetisation_curve() {
        use crate::solver::SweepOptions;
        let n = 24;
        let default = SweepOptions {
            h_step: 0.02,
            ..Default::default()
        };
        let afresh = SweepOptions {
            predict_max: 0.0,
            carry_step: false,
            ..default
        };
        for (opts, limit) in [(afresh, 1e-6), (default, 1e-4)] {
            check_symmetries(n, &opts, limit);
        }
    }

    fn check_symmetries(n: usize, opts: &crate::solver::SweepOptions, limit: f64) {
        use crate::solver::{Curve, Mesh, Problem, sweep};
        let curve = |s: &Structure| -> Curve {
            let p = Problem::new(Mesh::paper(n, n).unwrap(), &s.cell_angles()).unwrap();
            let c = sweep(&p, opts).unwrap();
            assert_eq!(c.non_converged(), 0);
            c
        };
        for (seed, grains) in [(11, 4), (12, 5), (13, 6)] {
            let s = structure(n, n, grains, 60f64.to_radians(), seed);
            let a = curve(&s);
            let (m, h) = (a.my(), a.fields());
            // It must switch inside the sweep, or the comparison would prove little.
            assert!(m[0] > 0.9 && *m.last().unwrap() < -0.5, "{m:?}");
            for t in &Symmetry::ALL[1..] {
                let b = curve(&s.transformed(*t)).my();
                let (mut worst, mut skipped) = (0.0f64, 0);
                for k in 0..m.len() {
                    let jump = |v: &[f64]| k > 0 && (v[k] - v[k - 1]).abs() > 0.02;
                    if jump(&m) || jump(&b) {
                        skipped += 1;
                    } else {
                        worst = worst.max((m[k] - b[k]).abs());
                    }
                }
                assert!(worst <= limit, "seed {seed} {t:?}: worst |ΔM| {worst:e}");
                let mut worst_anchor = 0.0f64;
                for ((name, u), (_, v)) in anchors_of(&h, &m).iter().zip(&anchors_of(&h, &b)) {
                    let (u, v) = (u.expect("anchor"), v.expect("anchor"));
                    assert!(
                        (u - v).abs() <= limit,
                        "seed {seed} {t:?} {name}: {u} vs {v}"
                    );
                    worst_anchor = worst_anchor.max((u - v).abs());
                }
                let all = m
                    .iter()
                    .zip(&b)
                    .map(|(x, y)| (x - y).abs())
                    .fold(0.0, f64::max);
                eprintln!(
                    "seed {seed} {t:?}: |ΔM| ≤ {worst:.1e} off {skipped} switching steps, \
                     {all:.1e} on all, anchors {worst_anchor:.1e}"
                );
            }
            // Control: rows flipped without ψ → −ψ is no symmetry; the comparison sees it.
            let flipped = s.transformed(Symmetry::MirrorY);
            let wrong = Structure::from_grains(
                n,
                n,
                s.cell_nm(),
                flipped.grains().to_vec(),
                s.grain_angles().to_vec(),
            )
            .unwrap();
            let c = curve(&wrong).my();
            let off = m
                .iter()
                .zip(&c)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert!(
                off > 1e-3,
                "seed {seed}: the control should differ, |ΔM| {off:e}"
            );
        }
    }

    fn anchors_of(h: &[f64], m: &[f64]) -> [(&'static str, Option<f64>); 6] {
        crate::solver::anchors(h, m).named()
    }
}
