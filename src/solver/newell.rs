//! Newell's cell-averaged demagnetising tensor (Newell, Williams and Dunlop, J. Geophys. Res.
//! 98, 9551, 1993) for one layer of cells, in f64, with H = −N M.
//!
//! The layer's z-stencil is summed analytically: both cells span the same z range, so the
//! three z terms of Newell's 27-point second difference collapse to 2f(·,·,0) − 2f(·,·,dz)
//! (f and g are even in z). f and g are tabulated once on the lattice of cell corners, so
//! each tensor element is a 3 × 3 second difference of tabulated values.
//!
//! Cancellation: for dz = 36 000 nm against dx = 2 nm the tabulated values reach
//! dz³/6 ≈ 8e12 nm³ while the tensor needs their second differences; rounding then costs
//! about 1e-3 nm³ per value, i.e. an absolute error of ~1e-8 in N at every offset
//! (measured: the self term's trace is 1 − 1.4e-8; the 160 × 160 block's 1 − 2e-7). That is well inside the 1e-6 agreement with
//! fidimag and the 1e-4 of Aharoni's block factors the tests check, so no asymptotic
//! expansion is needed for single-layer grids of the paper's size. Lengths are scaled to
//! the cell's dx internally to keep numbers O(1) for ordinary meshes.

use std::f64::consts::PI;

/// Newell's f (for N_xx), even in x, y, z; call with |x|, |y|, |z|.
fn f(x: f64, y: f64, z: f64) -> f64 {
    let (x2, y2, z2) = (x * x, y * y, z * z);
    let r = (x2 + y2 + z2).sqrt();
    let mut s = (2.0 * x2 - y2 - z2) * r / 6.0;
    let xz = (x2 + z2).sqrt();
    if xz > 0.0 && y > 0.0 {
        s += 0.5 * y * (z2 - x2) * (y / xz).asinh();
    }
    let xy = (x2 + y2).sqrt();
    if xy > 0.0 && z > 0.0 {
        s += 0.5 * z * (y2 - x2) * (z / xy).asinh();
    }
    if x > 0.0 && y > 0.0 && z > 0.0 {
        s -= x * y * z * (y * z / (x * r)).atan();
    }
    s
}

/// Newell's g (for N_xy), odd in x and y, even in z; call with signed x, y and |z|.
fn g(x: f64, y: f64, z: f64) -> f64 {
    let (x2, y2, z2) = (x * x, y * y, z * z);
    let r = (x2 + y2 + z2).sqrt();
    let mut s = -x * y * r / 3.0;
    let xy = (x2 + y2).sqrt();
    if xy > 0.0 && z > 0.0 {
        s += x * y * z * (z / xy).asinh();
    }
    let yz = (y2 + z2).sqrt();
    if yz > 0.0 && y != 0.0 {
        s += y / 6.0 * (3.0 * z2 - y2) * (x / yz).asinh();
    }
    let xz = (x2 + z2).sqrt();
    if xz > 0.0 && x != 0.0 {
        s += x / 6.0 * (3.0 * z2 - x2) * (y / xz).asinh();
    }
    if z > 0.0 && r > 0.0 {
        s -= z2 * z / 6.0 * (x * y / (z * r)).atan();
        if y != 0.0 {
            s -= z * y2 / 2.0 * (x * z / (y * r)).atan();
        }
        if x != 0.0 {
            s -= z * x2 / 2.0 * (y * z / (x * r)).atan();
        }
    }
    s
}

/// The in-layer tensor at offsets (I·dx, J·dy), I in 0..nx, J in 0..ny (first quadrant;
/// N_xx, N_yy, N_zz are even in I and J, N_xy is odd in each; N_xz = N_yz = 0 in a layer).
#[derive(Debug, Clone)]
pub struct LayerTensor {
    pub nx: usize,
    pub ny: usize,
    pub xx: Vec<f64>,
    pub yy: Vec<f64>,
    pub zz: Vec<f64>,
    pub xy: Vec<f64>,
}

impl LayerTensor {
    /// Element index of offset (I, J) with I < nx, J < ny.
    pub fn index(&self, i: usize, j: usize) -> usize {
        j * self.nx + i
    }

    /// (N_xx, N_yy, N_xy) at a signed offset (|I| < nx, |J| < ny).
    pub fn at(&self, i: isize, j: isize) -> (f64, f64, f64) {
        let c = self.index(i.unsigned_abs(), j.unsigned_abs());
        let sign = if (i < 0) != (j < 0) { -1.0 } else { 1.0 };
        (self.xx[c], self.yy[c], sign * self.xy[c])
    }
}

/// Newell's tensor for offsets I in 0..nx, J in 0..ny of cells dx × dy × dz in one layer.
pub fn layer_tensor(nx: usize, ny: usize, dx: f64, dy: f64, dz: f64) -> LayerTensor {
    // Work in units of dx: Newell's f and g are homogeneous of degree 3 and the prefactor
    // 1/(4πV) of degree −3, so N is scale-free.
    let (ax, ay, az) = (1.0, dy / dx, dz / dx);
    let pref = 1.0 / (4.0 * PI * ax * ay * az);
    // Lattice of corner offsets x = (p − 1)·ax, p in 0..nx+2 (x from −ax to nx·ax).
    let (px, py) = (nx + 2, ny + 2);
    let xs: Vec<f64> = (0..px).map(|p| (p as f64 - 1.0) * ax).collect();
    let ys: Vec<f64> = (0..py).map(|q| (q as f64 - 1.0) * ay).collect();
    // z-collapsed tabulations: F(x,y) = 2 f(x,y,0) − 2 f(x,y,dz) etc.
    let mut fxx = vec![0.0; px * py];
    let mut fyy = vec![0.0; px * py];
    let mut fzz = vec![0.0; px * py];
    let mut gxy = vec![0.0; px * py];
    for q in 0..py {
        for p in 0..px {
            let (x, y) = (xs[p], ys[q]);
            let (xa, ya) = (x.abs(), y.abs());
            let c = q * px + p;
            fxx[c] = 2.0 * (f(xa, ya, 0.0) - f(xa, ya, az));
            fyy[c] = 2.0 * (f(ya, xa, 0.0) - f(ya, xa, az));
            fzz[c] = 2.0 * (f(0.0, ya, xa) - f(az, ya, xa));
            gxy[c] = 2.0 * (g(x, y, 0.0) - g(x, y, az));
        }
    }
    let w = [-1.0, 2.0, -1.0];
    let stencil = |t: &[f64], i: usize, j: usize| -> f64 {
        // Offset (i, j) sits at lattice (i+1, j+1); neighbours at ±1.
        let mut s = 0.0;
        for (b, wb) in w.iter().enumerate() {
            for (a, wa) in w.iter().enumerate() {
                s += wa * wb * t[(j + b) * px + (i + a)];
            }
        }
        s * pref
    };
    let n = nx * ny;
    let mut out = LayerTensor {
        nx,
        ny,
        xx: vec![0.0; n],
        yy: vec![0.0; n],
        zz: vec![0.0; n],
        xy: vec![0.0; n],
    };
    for j in 0..ny {
        for i in 0..nx {
            let c = j * nx + i;
            out.xx[c] = stencil(&fxx, i, j);
            out.yy[c] = stencil(&fyy, i, j);
            out.zz[c] = stencil(&fzz, i, j);
            out.xy[c] = stencil(&gxy, i, j);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference() -> Vec<[f64; 8]> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/reference/fidimag/demag_tensor_2x2x36000.csv"
        );
        let text = std::fs::read_to_string(path).expect("reference tensor csv");
        text.lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with('I'))
            .map(|l| {
                let v: Vec<f64> = l
                    .split(',')
                    .map(|s| s.trim().parse().expect("number"))
                    .collect();
                [v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]]
            })
            .collect()
    }

    #[test]
    fn matches_fidimag_tensor_to_1e_6() {
        let t = layer_tensor(40, 40, 2.0, 2.0, 36000.0);
        let rows = reference();
        assert_eq!(rows.len(), 1600);
        let mut worst = 0.0f64;
        for r in &rows {
            let c = t.index(r[0] as usize, r[1] as usize);
            for (mine, theirs) in [
                (t.xx[c], r[2]),
                (t.yy[c], r[3]),
                (t.zz[c], r[4]),
                (t.xy[c], r[5]),
            ] {
                worst = worst.max((mine - theirs).abs());
            }
        }
        assert!(worst < 1e-6, "worst deviation from fidimag {worst:e}");
    }

    #[test]
    fn self_term_trace_is_one_and_scale_free() {
        let t = layer_tensor(2, 2, 2.0, 2.0, 36000.0);
        let s = t.xx[0] + t.yy[0] + t.zz[0];
        assert!((s - 1.0).abs() < 3e-8, "trace {s}");
        let cube = layer_tensor(1, 1, 1.0, 1.0, 1.0);
        assert!((cube.xx[0] - 1.0 / 3.0).abs() < 1e-12);
        assert!((cube.zz[0] - 1.0 / 3.0).abs() < 1e-12);
        let si = layer_tensor(3, 3, 2e-9, 2e-9, 36e-6);
        let nm = layer_tensor(3, 3, 2.0, 2.0, 36000.0);
        for c in 0..9 {
            assert!((si.xx[c] - nm.xx[c]).abs() < 1e-12 && (si.xy[c] - nm.xy[c]).abs() < 1e-12);
        }
    }

    /// Aharoni's factors of the 320 × 320 × 36 000 nm³ block from the tensor summed over all
    /// pairs of its 160 × 160 cells: Nx = Ny = 0.49790, Nz = 0.00419 (J. Appl. Phys. 83,
    /// 3432, 1998: N_z = 1 − 2N_x for the square block).
    #[test]
    fn block_factors_match_aharoni() {
        let n = 160;
        let t = layer_tensor(n, n, 2.0, 2.0, 36000.0);
        let (mut sx, mut sy, mut sz) = (0.0, 0.0, 0.0);
        for j in 0..n {
            for i in 0..n {
                let mult = if i == 0 { 1.0 } else { 2.0 } * if j == 0 { 1.0 } else { 2.0 };
                let pairs = mult * ((n - i) * (n - j)) as f64;
                let c = t.index(i, j);
                sx += pairs * t.xx[c];
                sy += pairs * t.yy[c];
                sz += pairs * t.zz[c];
            }
        }
        let cells = (n * n) as f64;
        let (nx, ny, nz) = (sx / cells, sy / cells, sz / cells);
        assert!((nx - 0.49790).abs() < 1e-4, "Nx {nx}");
        assert!((ny - 0.49790).abs() < 1e-4, "Ny {ny}");
        assert!((nz - 0.00419).abs() < 1e-4, "Nz {nz}");
        assert!((nx + ny + nz - 1.0).abs() < 1e-6, "trace {}", nx + ny + nz);
    }
}
