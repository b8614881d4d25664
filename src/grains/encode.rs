//! Network inputs, shape [channels, ny, nx] (row j = y index, j = 0 at the bottom).
//!
//! * `Kx`: the paper's single channel k_x = sin ψ in [−1, 1]. An easy axis is a line, so ψ
//!   and ψ ± π are the same magnet; sin ψ tells them apart yet cannot tell ψ from π − ψ.
//! * `Axis`: (cos 2ψ, sin 2ψ), the same for ψ and ψ ± π and distinct otherwise.

use super::structure::Structure;
use ndarray::{Array3, ArrayViewMut3};

/// How a raster of easy axes becomes network input (named "kx" and "axis" in scripts,
/// options and checkpoints).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    Kx,
    Axis,
}

impl std::fmt::Display for Encoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Encoding {
    pub const ALL: [Encoding; 2] = [Encoding::Kx, Encoding::Axis];
    /// What a name must be, for error messages.
    pub const EXPECTED: &str = "\"kx\" (sin ψ) or \"axis\" (cos 2ψ, sin 2ψ)";

    pub fn name(self) -> &'static str {
        match self {
            Encoding::Kx => "kx",
            Encoding::Axis => "axis",
        }
    }

    pub fn from_name(name: &str) -> Option<Encoding> {
        Encoding::ALL.into_iter().find(|e| e.name() == name)
    }

    pub fn channels(self) -> usize {
        match self {
            Encoding::Kx => 1,
            Encoding::Axis => 2,
        }
    }

    /// Per-grain channel values, so trigonometry runs once per grain, not per cell.
    fn per_grain(self, s: &Structure) -> Vec<[f32; 2]> {
        let f = |a: f64| match self {
            Encoding::Kx => [a.sin() as f32, 0.0],
            Encoding::Axis => [(2.0 * a).cos() as f32, (2.0 * a).sin() as f32],
        };
        s.grain_angles().iter().map(|&a| f(a)).collect()
    }

    /// Writes the encoding of `s` into `out` of shape [channels, ny, nx].
    pub fn encode_into(self, s: &Structure, mut out: ArrayViewMut3<f32>) {
        let v = self.per_grain(s);
        let nx = s.nx();
        for ch in 0..self.channels() {
            for ((j, i), o) in out.index_axis_mut(ndarray::Axis(0), ch).indexed_iter_mut() {
                *o = v[s.grains()[j * nx + i] as usize][ch];
            }
        }
    }

    pub fn encode(self, s: &Structure) -> Array3<f32> {
        let mut out = Array3::zeros((self.channels(), s.ny(), s.nx()));
        self.encode_into(s, out.view_mut());
        out
    }
}

impl Structure {
    /// The paper's encoding: k_x = sin ψ per cell, shape [1, ny, nx].
    pub fn encode_kx(&self) -> Array3<f32> {
        Encoding::Kx.encode(self)
    }

    /// Axis-faithful encoding (cos 2ψ, sin 2ψ) per cell, shape [2, ny, nx].
    pub fn encode_axis(&self) -> Array3<f32> {
        Encoding::Axis.encode(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grains_encodings_follow_cells_and_rows() {
        // 3 × 2: bottom row (j = 0) grain 0, top row grain 1.
        let s = Structure::from_grains(3, 2, 2.0, vec![0, 0, 0, 1, 1, 1], vec![0.3, -1.2]).unwrap();
        let kx = s.encode_kx();
        assert_eq!(kx.shape(), &[1, 2, 3]);
        assert_eq!(kx[[0, 0, 2]], 0.3f64.sin() as f32);
        assert_eq!(kx[[0, 1, 0]], (-1.2f64).sin() as f32);
        let ax = s.encode_axis();
        assert_eq!(ax.shape(), &[2, 2, 3]);
        assert_eq!(ax[[0, 1, 1]], (-2.4f64).cos() as f32);
        assert_eq!(ax[[1, 0, 1]], 0.6f64.sin() as f32);
        // ψ and ψ + π: same axis, opposite k_x.
        let t =
            Structure::from_grains(1, 1, 2.0, vec![0], vec![0.3 + std::f64::consts::PI]).unwrap();
        assert!((t.encode_axis()[[0, 0, 0]] - ax[[0, 0, 0]]).abs() < 1e-6);
        assert!((t.encode_kx()[[0, 0, 0]] + kx[[0, 0, 0]]).abs() < 1e-6);
    }
}
