//! Network rasters back into structures (for decoded VAE outputs): each cell's value is
//! snapped to a key, 4-connected cells of one key form a grain, and the key gives ψ.
//!
//! * `Kx`: the key is the value's colour in the paper's colormap (the nearest-colormap
//!   structure: what reading a PNG of the decoded image gives), ψ = asin of the colour's
//!   value, so ψ ∈ [−90°, 90°] (k_x cannot tell ψ from 180° − ψ).
//! * `Axis`: ψ = atan2(sin 2ψ, cos 2ψ)/2 snapped to whole degrees.

use super::encode::Encoding;
use super::error::{Result, invalid};
use super::regions::connected;
use super::structure::Structure;
use crate::colormap;
use ndarray::ArrayView3;
use std::collections::HashMap;

/// Grains of the 4-connected regions of equal `keys` (c = j·nx + i), ψ from each
/// region's key.
pub(crate) fn from_keys<K: PartialEq>(
    nx: usize,
    ny: usize,
    cell_nm: f64,
    keys: &[K],
    angle: impl Fn(&K) -> f64,
) -> Result<Structure> {
    let (grain, firsts) = connected(nx, ny, keys);
    let angles = firsts.iter().map(|&c| angle(&keys[c])).collect();
    Structure::from_grains(nx, ny, cell_nm, grain, angles)
}

impl Structure {
    /// The structure of an encoded raster [channels, ny, nx] (see the module notes).
    pub fn from_raster(
        raster: ArrayView3<f32>,
        encoding: Encoding,
        cell_nm: f64,
    ) -> Result<Structure> {
        let (ch, ny, nx) = raster.dim();
        if ch != encoding.channels() {
            return Err(invalid(
                "raster channels",
                format!("{} for this encoding", encoding.channels()),
                ch,
            ));
        }
        let cell = |k: usize, c: usize| raster[[k, c / nx, c % nx]] as f64;
        match encoding {
            Encoding::Kx => {
                let colours: Vec<[u8; 3]> =
                    (0..nx * ny).map(|c| colormap::rgb(cell(0, c))).collect();
                let mut value: HashMap<[u8; 3], f64> = HashMap::new();
                for col in &colours {
                    value
                        .entry(*col)
                        .or_insert_with(|| colormap::value_of(*col).0);
                }
                from_keys(nx, ny, cell_nm, &colours, |col| {
                    value[col].clamp(-1.0, 1.0).asin()
                })
            }
            Encoding::Axis => {
                let deg: Vec<i32> = (0..nx * ny)
                    .map(|c| {
                        let psi = cell(1, c).atan2(cell(0, c)) / 2.0;
                        let d = psi.to_degrees().round() as i32;
                        if d <= -90 { d + 180 } else { d }
                    })
                    .collect();
                from_keys(nx, ny, cell_nm, &deg, |d| (*d as f64).to_radians())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grains_rasters_decode_to_the_structure_they_encode() {
        let s = Structure::from_grains(4, 2, 2.0, vec![0, 0, 1, 1, 0, 0, 1, 1], vec![0.3, -0.7])
            .unwrap();
        for e in [Encoding::Kx, Encoding::Axis] {
            let back = Structure::from_raster(e.encode(&s).view(), e, 2.0).unwrap();
            assert_eq!(back.n_owning(), 2);
            for (a, b) in back.cell_angles().iter().zip(s.cell_angles()) {
                assert!((a - b).abs() < 0.03, "{e:?}: {a} vs {b}");
            }
        }
        assert!(
            Structure::from_raster(Encoding::Kx.encode(&s).view(), Encoding::Axis, 2.0).is_err()
        );
    }
}
