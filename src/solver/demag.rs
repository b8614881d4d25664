//! Demagnetising field h_d = −N ∗ m of one layer by zero-padded FFT convolution (open
//! boundaries). Kernel spectra are built once per mesh (in f64) and shared; each evaluator
//! owns its FFT buffers. Only the in-plane components enter (m_z = 0, N_xz = N_yz = 0).
//!
//! The kernel spectra are real (N_xx, N_yy even; N_xy odd in x and in y), so the product is
//! three real multiplies per frequency. Rows are transformed with a real FFT (only the ny
//! rows that hold data), columns with a complex FFT; the inverse row transform is done only
//! for the ny rows that are read back. On one thread each column pair goes forward, through
//! the kernel product and back in one pass while it is in cache; split over a pool, the two
//! components are transformed side by side and the product is taken in two halves.

use super::SolverError;
use super::mesh::Mesh;
use super::newell::layer_tensor;
use realfft::num_complex::Complex;
use realfft::{ComplexToReal, FftNum, RealFftPlanner, RealToComplex};
use rustfft::{Fft, FftPlanner};
use std::sync::{Arc, Mutex};

/// The float types the convolution runs in.
trait Real: FftNum + realfft::num_traits::Float {}
impl Real for f32 {}
impl Real for f64 {}

/// Floating-point type of the demag FFT (the energy, gradient and angles are always f64).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Precision {
    /// Single precision: ~1e-7 relative field error, about twice as fast.
    #[default]
    F32,
    F64,
}

/// The FFT plans of one padded grid.
struct Plan<T: Real> {
    px: usize,
    py: usize,
    nkx: usize,
    r2c: Arc<dyn RealToComplex<T>>,
    c2r: Arc<dyn ComplexToReal<T>>,
    fwd: Arc<dyn Fft<T>>,
    inv: Arc<dyn Fft<T>>,
}

impl<T: Real> Plan<T> {
    fn new(px: usize, py: usize) -> Self {
        let mut rp = RealFftPlanner::<T>::new();
        let mut cp = FftPlanner::<T>::new();
        Plan {
            px,
            py,
            nkx: px / 2 + 1,
            r2c: rp.plan_fft_forward(px),
            c2r: rp.plan_fft_inverse(px),
            fwd: cp.plan_fft_forward(py),
            inv: cp.plan_fft_inverse(py),
        }
    }
}

/// Row-transform buffers of one field component.
struct RowBuffers<T: Real> {
    row: Vec<T>,
    /// The spectra of [`TILE`] consecutive rows, row after row: moved to and from the
    /// column-major spectrum a cache line (TILE values of one column) at a time.
    tile: Vec<Complex<T>>,
    scratch: Vec<Complex<T>>,
    /// Scratch of the column transforms of this component's lane.
    columns: Vec<Complex<T>>,
}

/// Rows transformed together before their spectra move to the columns (8 × 8-byte f32
/// complex values: one 64-byte line per column).
const TILE: usize = 8;

impl<T: Real> RowBuffers<T> {
    fn new(p: &Plan<T>) -> Self {
        let zero = Complex::new(T::zero(), T::zero());
        let sr = p.r2c.get_scratch_len().max(p.c2r.get_scratch_len());
        RowBuffers {
            row: vec![T::zero(); p.px],
            tile: vec![zero; TILE * p.nkx],
            scratch: vec![zero; sr],
            columns: column_scratch(p),
        }
    }
}

fn column_scratch<T: Real>(p: &Plan<T>) -> Vec<Complex<T>> {
    let sc = p
        .fwd
        .get_inplace_scratch_len()
        .max(p.inv.get_inplace_scratch_len());
    vec![Complex::new(T::zero(), T::zero()); sc]
}

fn fft_err(e: impl std::fmt::Display) -> SolverError {
    SolverError::Fft(e.to_string())
}

/// Row half of the forward transform: the `ny` data rows of an `nx × ny` real array
/// (row-major, x fastest) zero-padded to `px`, stored column-major (`spec[kx*py + ky]`),
/// with the padding rows of every column zeroed. Columns are transformed by the caller.
fn forward_rows<T: Real>(
    p: &Plan<T>,
    input: &[f64],
    nx: usize,
    ny: usize,
    spec: &mut [Complex<T>],
    b: &mut RowBuffers<T>,
) -> Result<(), SolverError> {
    let zero = Complex::new(T::zero(), T::zero());
    let nkx = p.nkx;
    for col in spec.chunks_exact_mut(p.py) {
        col[ny..].fill(zero);
    }
    for j0 in (0..ny).step_by(TILE) {
        let rows = TILE.min(ny - j0);
        for (r, out) in b.tile.chunks_exact_mut(nkx).take(rows).enumerate() {
            let j = j0 + r;
            for (x, &v) in b.row[..nx].iter_mut().zip(&input[j * nx..(j + 1) * nx]) {
                *x = T::from_f64(v).unwrap_or_else(T::zero);
            }
            b.row[nx..].fill(T::zero());
            p.r2c
                .process_with_scratch(&mut b.row, out, &mut b.scratch)
                .map_err(fft_err)?;
        }
        for kx in 0..nkx {
            let col = &mut spec[kx * p.py + j0..kx * p.py + j0 + rows];
            for (r, c) in col.iter_mut().enumerate() {
                *c = b.tile[r * nkx + kx];
            }
        }
    }
    Ok(())
}

/// Row half of the inverse transform: the first `nx × ny` values of the real array whose
/// column-transformed spectrum is `spec` (not normalised).
fn inverse_rows<T: Real>(
    p: &Plan<T>,
    spec: &[Complex<T>],
    nx: usize,
    ny: usize,
    out: &mut [f64],
    b: &mut RowBuffers<T>,
) -> Result<(), SolverError> {
    let nkx = p.nkx;
    for j0 in (0..ny).step_by(TILE) {
        let rows = TILE.min(ny - j0);
        for kx in 0..nkx {
            let col = &spec[kx * p.py + j0..kx * p.py + j0 + rows];
            for (r, &c) in col.iter().enumerate() {
                b.tile[r * nkx + kx] = c;
            }
        }
        for (r, rowc) in b.tile.chunks_exact_mut(nkx).take(rows).enumerate() {
            // The spectrum is Hermitian: these imaginary parts are rounding only.
            rowc[0].im = T::zero();
            if p.px % 2 == 0 {
                rowc[nkx - 1].im = T::zero();
            }
            p.c2r
                .process_with_scratch(rowc, &mut b.row, &mut b.scratch)
                .map_err(fft_err)?;
            let j = j0 + r;
            for (o, &v) in out[j * nx..(j + 1) * nx].iter_mut().zip(&b.row[..nx]) {
                *o = v.to_f64().unwrap_or(0.0);
            }
        }
    }
    Ok(())
}

/// Full forward 2-D transform (rows, then columns) into `spec`, column-major.
fn forward<T: Real>(
    p: &Plan<T>,
    input: &[f64],
    nx: usize,
    ny: usize,
    spec: &mut [Complex<T>],
) -> Result<(), SolverError> {
    let mut b = RowBuffers::new(p);
    forward_rows(p, input, nx, ny, spec, &mut b)?;
    p.fwd.process_with_scratch(spec, &mut column_scratch(p));
    Ok(())
}

/// Spectra of N_xx, N_yy, N_xy on the padded grid, real, divided by px·py.
struct Kernel<T: Real> {
    nx: usize,
    ny: usize,
    plan: Plan<T>,
    kxx: Vec<T>,
    kyy: Vec<T>,
    kxy: Vec<T>,
}

impl<T: Real> Kernel<T> {
    fn new(mesh: &Mesh) -> Result<Self, SolverError> {
        let (nx, ny) = (mesh.nx, mesh.ny);
        let (px, py) = (2 * nx, 2 * ny);
        let t = layer_tensor(nx, ny, mesh.dx, mesh.dy, mesh.dz);
        let wrap = |a: usize, n: usize, p: usize| -> Option<isize> {
            if a < n {
                Some(a as isize)
            } else if a > p - n {
                Some(a as isize - p as isize)
            } else {
                None
            }
        };
        let mut real = [vec![0.0; px * py], vec![0.0; px * py], vec![0.0; px * py]];
        for b in 0..py {
            for a in 0..px {
                if let (Some(x), Some(y)) = (wrap(a, nx, px), wrap(b, ny, py)) {
                    let (xx, yy, xy) = t.at(x, y);
                    real[0][b * px + a] = xx;
                    real[1][b * px + a] = yy;
                    real[2][b * px + a] = xy;
                }
            }
        }
        // Transform in f64 whatever T is, then round once.
        let p64 = Plan::<f64>::new(px, py);
        let plan = Plan::<T>::new(px, py);
        let norm = 1.0 / (px * py) as f64;
        let mut spectra = Vec::with_capacity(3);
        let mut spec = vec![Complex::new(0.0, 0.0); p64.nkx * py];
        for r in &real {
            forward(&p64, r, px, py, &mut spec)?;
            spectra.push(
                spec.iter()
                    .map(|c| T::from_f64(c.re * norm).unwrap_or_else(T::zero))
                    .collect(),
            );
        }
        let kxy = spectra.pop().unwrap_or_default();
        let kyy = spectra.pop().unwrap_or_default();
        let kxx = spectra.pop().unwrap_or_default();
        Ok(Kernel {
            nx,
            ny,
            plan,
            kxx,
            kyy,
            kxy,
        })
    }
}

/// One evaluator's convolution: a shared kernel plus private buffers.
struct Conv<T: Real> {
    kernel: Arc<Kernel<T>>,
    /// Spectra of m_x and m_y, column-major.
    sx: Vec<Complex<T>>,
    sy: Vec<Complex<T>>,
    rows: [RowBuffers<T>; 2],
    scratch: Vec<Complex<T>>,
}

impl<T: Real> Conv<T> {
    fn new(kernel: Arc<Kernel<T>>) -> Self {
        let p = &kernel.plan;
        let zero = Complex::new(T::zero(), T::zero());
        Conv {
            sx: vec![zero; p.nkx * p.py],
            sy: vec![zero; p.nkx * p.py],
            rows: [RowBuffers::new(p), RowBuffers::new(p)],
            scratch: column_scratch(p),
            kernel,
        }
    }

    /// One column pair: forward FFTs, the kernel product h = −N m, inverse FFTs, all
    /// while the two columns are in cache.
    fn column(
        k: &Kernel<T>,
        kx: usize,
        cx: &mut [Complex<T>],
        cy: &mut [Complex<T>],
        scratch: &mut [Complex<T>],
    ) {
        let p = &k.plan;
        p.fwd.process_with_scratch(cx, scratch);
        p.fwd.process_with_scratch(cy, scratch);
        Self::product(k, kx, cx, cy);
        p.inv.process_with_scratch(cx, scratch);
        p.inv.process_with_scratch(cy, scratch);
    }

    /// h = −N m on column kx of the spectra.
    fn product(k: &Kernel<T>, kx: usize, cx: &mut [Complex<T>], cy: &mut [Complex<T>]) {
        let py = k.plan.py;
        let at = kx * py..(kx + 1) * py;
        let (kxx, kyy, kxy) = (&k.kxx[at.clone()], &k.kyy[at.clone()], &k.kxy[at]);
        for i in 0..py {
            let (a, c) = (cx[i], cy[i]);
            cx[i] = -(a * kxx[i] + c * kxy[i]);
            cy[i] = -(a * kxy[i] + c * kyy[i]);
        }
    }

    /// h = −N ∗ m; `split` transforms the two components side by side on the rayon pool.
    fn field(
        &mut self,
        mx: &[f64],
        my: &[f64],
        hx: &mut [f64],
        hy: &mut [f64],
        split: bool,
    ) -> Result<(), SolverError> {
        let k = &*self.kernel;
        let (nx, ny, py) = (k.nx, k.ny, k.plan.py);
        let [bx, by] = &mut self.rows;
        let (sx, sy) = (&mut self.sx, &mut self.sy);
        if split {
            // One lane per component, two joins per evaluation: each wake-up of a pool
            // thread costs tens of µs, so the work is dealt out in as few pieces as possible.
            let lane = |m: &[f64], spec: &mut Vec<Complex<T>>, b: &mut RowBuffers<T>| {
                forward_rows(&k.plan, m, nx, ny, spec, b)?;
                k.plan.fwd.process_with_scratch(spec, &mut b.columns);
                Ok::<(), SolverError>(())
            };
            let (a, b) = rayon::join(|| lane(mx, sx, bx), || lane(my, sy, by));
            a.and(b)?;
            // The product in two halves of the columns, so that no thread idles (and
            // falls asleep) between the forward and the inverse transforms.
            let half = k.plan.nkx / 2 * py;
            let (sx0, sx1) = sx.split_at_mut(half);
            let (sy0, sy1) = sy.split_at_mut(half);
            let products = |first: usize, sx: &mut [Complex<T>], sy: &mut [Complex<T>]| {
                for (kx, (cx, cy)) in sx
                    .chunks_exact_mut(py)
                    .zip(sy.chunks_exact_mut(py))
                    .enumerate()
                {
                    Self::product(k, first + kx, cx, cy);
                }
            };
            rayon::join(
                || products(0, sx0, sy0),
                || products(k.plan.nkx / 2, sx1, sy1),
            );
            let lane = |spec: &mut Vec<Complex<T>>, h: &mut [f64], b: &mut RowBuffers<T>| {
                k.plan.inv.process_with_scratch(spec, &mut b.columns);
                inverse_rows(&k.plan, spec, nx, ny, h, b)
            };
            let (a, b) = rayon::join(|| lane(sx, hx, bx), || lane(sy, hy, by));
            a.and(b)
        } else {
            forward_rows(&k.plan, mx, nx, ny, sx, bx)?;
            forward_rows(&k.plan, my, nx, ny, sy, by)?;
            for (kx, (cx, cy)) in sx
                .chunks_exact_mut(py)
                .zip(sy.chunks_exact_mut(py))
                .enumerate()
            {
                Self::column(k, kx, cx, cy, &mut self.scratch);
            }
            inverse_rows(&k.plan, sx, nx, ny, hx, bx)?;
            inverse_rows(&k.plan, sy, nx, ny, hy, by)
        }
    }
}

/// Shared kernel spectra of one mesh at one precision; cheap to clone.
#[derive(Clone)]
pub struct DemagKernel {
    mesh: Mesh,
    inner: KernelInner,
}

#[derive(Clone)]
enum KernelInner {
    F32(Arc<Kernel<f32>>),
    F64(Arc<Kernel<f64>>),
}

static CACHE: Mutex<Vec<(Mesh, Precision, DemagKernel)>> = Mutex::new(Vec::new());
const CACHE_LEN: usize = 4;

impl DemagKernel {
    /// Builds the kernel spectra of `mesh` (Newell tensor, f64 FFT, rounded to `precision`).
    pub fn new(mesh: &Mesh, precision: Precision) -> Result<Self, SolverError> {
        let inner = match precision {
            Precision::F32 => KernelInner::F32(Arc::new(Kernel::new(mesh)?)),
            Precision::F64 => KernelInner::F64(Arc::new(Kernel::new(mesh)?)),
        };
        Ok(DemagKernel { mesh: *mesh, inner })
    }

    /// Like [`DemagKernel::new`], reusing one of the last few kernels built this way.
    pub fn cached(mesh: &Mesh, precision: Precision) -> Result<Self, SolverError> {
        if let Ok(cache) = CACHE.lock() {
            if let Some((_, _, k)) = cache.iter().find(|(m, p, _)| m == mesh && *p == precision) {
                return Ok(k.clone());
            }
        }
        let k = Self::new(mesh, precision)?;
        if let Ok(mut cache) = CACHE.lock() {
            if cache.len() >= CACHE_LEN {
                cache.remove(0);
            }
            cache.push((*mesh, precision, k.clone()));
        }
        Ok(k)
    }

    pub fn mesh(&self) -> &Mesh {
        &self.mesh
    }

    /// The spectra of N_xx, N_yy, N_xy (real, divided by px·py) as rows ky of the padded
    /// grid's px/2 + 1 frequencies kx: the layout of a real 2-D FFT over (y, x), for the
    /// tensor backend.
    pub(crate) fn spectra(&self) -> [Vec<f64>; 3] {
        fn rows<T: Real>(k: &Kernel<T>) -> [Vec<f64>; 3] {
            let (py, nkx) = (k.plan.py, k.plan.nkx);
            [&k.kxx, &k.kyy, &k.kxy].map(|v| {
                let mut out = vec![0.0; py * nkx];
                for kx in 0..nkx {
                    for ky in 0..py {
                        out[ky * nkx + kx] = v[kx * py + ky].to_f64().unwrap_or(0.0);
                    }
                }
                out
            })
        }
        match &self.inner {
            KernelInner::F32(k) => rows(k),
            KernelInner::F64(k) => rows(k),
        }
    }
}

/// A demag field evaluator (kernel + own FFT buffers): one per thread, or one per curve
/// that splits each evaluation over the rayon pool.
pub struct Demag {
    conv: ConvInner,
}

enum ConvInner {
    F32(Conv<f32>),
    F64(Conv<f64>),
}

impl Demag {
    pub fn new(kernel: &DemagKernel) -> Self {
        let conv = match &kernel.inner {
            KernelInner::F32(k) => ConvInner::F32(Conv::new(k.clone())),
            KernelInner::F64(k) => ConvInner::F64(Conv::new(k.clone())),
        };
        Demag { conv }
    }

    /// h = −N ∗ m for in-plane m (no material weight), all slices one value per cell;
    /// `split` spreads it over the current rayon pool (one curve on many cores) instead of
    /// the calling thread (one curve per core).
    pub fn field(
        &mut self,
        mx: &[f64],
        my: &[f64],
        hx: &mut [f64],
        hy: &mut [f64],
        split: bool,
    ) -> Result<(), SolverError> {
        match &mut self.conv {
            ConvInner::F32(c) => c.field(mx, my, hx, hy, split),
            ConvInner::F64(c) => c.field(mx, my, hx, hy, split),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mean self-field of the uniformly magnetised 160 × 160 paper grid: Aharoni's
    /// Nx = Ny = 0.49790 for the 320 × 320 × 36 000 nm³ block.
    #[test]
    fn uniform_block_gives_aharoni_factor() {
        let mesh = Mesh::paper(160, 160).unwrap();
        for precision in [Precision::F64, Precision::F32] {
            let mut d = Demag::new(&DemagKernel::new(&mesh, precision).unwrap());
            let n = mesh.cells();
            let (ones, zeros) = (vec![1.0; n], vec![0.0; n]);
            let (mut hx, mut hy) = (vec![0.0; n], vec![0.0; n]);
            d.field(&ones, &zeros, &mut hx, &mut hy, false).unwrap();
            let nx = -hx.iter().sum::<f64>() / n as f64;
            assert!((nx - 0.49790).abs() < 1e-4, "{precision:?}: Nx = {nx}");
            assert!(hy.iter().sum::<f64>().abs() / (n as f64) < 1e-6);
            d.field(&zeros, &ones, &mut hx, &mut hy, false).unwrap();
            let ny = -hy.iter().sum::<f64>() / n as f64;
            assert!((ny - 0.49790).abs() < 1e-4, "{precision:?}: Ny = {ny}");
        }
    }

    /// The FFT convolution equals the direct sum over the tensor on a small non-square grid.
    #[test]
    fn fft_equals_direct_sum() {
        let (nx, ny) = (7, 5);
        let mesh = Mesh::new(nx, ny, 2e-9, 3e-9, 50e-9).unwrap();
        let t = layer_tensor(nx, ny, mesh.dx, mesh.dy, mesh.dz);
        let n = nx * ny;
        let phi: Vec<f64> = (0..n).map(|c| 0.7 * c as f64).collect();
        let mx: Vec<f64> = phi.iter().map(|p| p.sin()).collect();
        let my: Vec<f64> = phi.iter().map(|p| p.cos()).collect();
        let mut d = Demag::new(&DemagKernel::new(&mesh, Precision::F64).unwrap());
        let (mut hx, mut hy) = (vec![0.0; n], vec![0.0; n]);
        d.field(&mx, &my, &mut hx, &mut hy, false).unwrap();
        for j in 0..ny {
            for i in 0..nx {
                let (mut ex, mut ey) = (0.0, 0.0);
                for q in 0..ny {
                    for p in 0..nx {
                        let (xx, yy, xy) = t.at(i as isize - p as isize, j as isize - q as isize);
                        let s = q * nx + p;
                        ex -= xx * mx[s] + xy * my[s];
                        ey -= xy * mx[s] + yy * my[s];
                    }
                }
                let c = j * nx + i;
                assert!((hx[c] - ex).abs() < 1e-12 && (hy[c] - ey).abs() < 1e-12);
            }
        }
    }
}
