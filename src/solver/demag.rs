//! Demagnetising field h_d = −N ∗ m of one layer by zero-padded FFT convolution (open
//! boundaries). Kernel spectra are built once per mesh (in f64) and shared; each evaluator
//! owns its FFT buffers. Only the in-plane components enter (m_z = 0, N_xz = N_yz = 0).
//!
//! The kernel spectra are real (N_xx, N_yy even; N_xy odd in x and in y), so the product is
//! three real multiplies per frequency. Rows are transformed with a real FFT (only the ny
//! rows that hold data), columns with a complex FFT; the inverse row transform is done only
//! for the ny rows that are read back. An evaluation is three passes: rows forward (in two
//! bands of rows), columns (in two lanes of columns, a tile of columns at a time forward,
//! through the kernel product and back while it is in cache), rows inverse (the two bands
//! again). The bands are where the energy hangs its per-cell work (angles before, local
//! terms after), so a split evaluation joins its threads three times.

use super::SolverError;
use super::fork::Fork;
use super::mesh::Mesh;
use super::newell::layer_tensor;
use realfft::num_complex::Complex;
use realfft::{ComplexToReal, FftNum, RealFftPlanner, RealToComplex};
use rustfft::{Fft, FftPlanner};
use std::ops::Range;
use std::sync::{Arc, Mutex};

/// The float types the convolution runs in.
pub(super) trait Real: FftNum + realfft::num_traits::Float {}
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

/// Columns moved together between the row and the column passes (8 f32 complex values:
/// one 64-byte line per row).
const TILE: usize = 8;

/// Length of a row spectrum in a band's buffer: nkx rounded up to whole tiles, so that every
/// row, and every tile the column pass reads from it, starts on a tile boundary.
fn row_stride(nkx: usize) -> usize {
    nkx.div_ceil(TILE) * TILE
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

/// Full forward 2-D transform of a `px × py` real array (rows, then columns) into `spec`,
/// column-major (`spec[kx*py + ky]`); for building the kernel spectra.
fn forward<T: Real>(
    p: &Plan<T>,
    input: &[f64],
    spec: &mut [Complex<T>],
) -> Result<(), SolverError> {
    let mut real = vec![T::zero(); p.px];
    let mut row = vec![Complex::new(T::zero(), T::zero()); p.nkx];
    let mut scratch = vec![Complex::new(T::zero(), T::zero()); p.r2c.get_scratch_len()];
    for (j, values) in input.chunks_exact(p.px).enumerate() {
        for (r, &v) in real.iter_mut().zip(values) {
            *r = T::from_f64(v).unwrap_or_else(T::zero);
        }
        p.r2c
            .process_with_scratch(&mut real, &mut row, &mut scratch)
            .map_err(fft_err)?;
        for (kx, &c) in row.iter().enumerate() {
            spec[kx * p.py + j] = c;
        }
    }
    p.fwd.process_with_scratch(spec, &mut column_scratch(p));
    Ok(())
}

/// Spectra of N_xx, N_yy, N_xy on the padded grid, real, divided by px·py.
pub(super) struct Kernel<T: Real> {
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
            forward(&p64, r, &mut spec)?;
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

    /// h = −N m on column kx of the spectra.
    fn product(&self, kx: usize, cx: &mut [Complex<T>], cy: &mut [Complex<T>]) {
        let py = self.plan.py;
        let at = kx * py..(kx + 1) * py;
        let (kxx, kyy, kxy) = (&self.kxx[at.clone()], &self.kyy[at.clone()], &self.kxy[at]);
        for i in 0..py {
            let (a, c) = (cx[i], cy[i]);
            cx[i] = -(a * kxx[i] + c * kxy[i]);
            cy[i] = -(a * kxy[i] + c * kyy[i]);
        }
    }
}

/// The two bands of grid rows that every pass of an evaluation is split into (the first is
/// empty for one row).
pub(super) fn band_rows(ny: usize) -> [Range<usize>; 2] {
    [0..ny / 2, ny / 2..ny]
}

/// A band of grid rows, worked on by one lane in the first and the last pass: the first
/// turns its rows of m into row spectra, the last turns its rows of the convolved spectra
/// back into the field.
pub(super) struct Band<T: Real> {
    rows: Range<usize>,
    /// Row spectra of m_x and m_y, row after row, [`row_stride`] values per row.
    spec: [Vec<Complex<T>>; 2],
    real: Vec<T>,
    row: Vec<Complex<T>>,
    scratch: Vec<Complex<T>>,
}

impl<T: Real> Band<T> {
    fn new(p: &Plan<T>, rows: Range<usize>) -> Self {
        let zero = Complex::new(T::zero(), T::zero());
        let len = rows.len() * row_stride(p.nkx);
        Band {
            rows,
            spec: [vec![zero; len], vec![zero; len]],
            real: vec![T::zero(); p.px],
            row: vec![zero; p.nkx],
            scratch: vec![zero; p.r2c.get_scratch_len().max(p.c2r.get_scratch_len())],
        }
    }

    /// First pass: the real row transforms of this band's rows of `m` (times `weight` when
    /// given), each row zero-padded to px. The slices hold this band's cells only.
    pub(super) fn forward(
        &mut self,
        k: &Kernel<T>,
        m: [&[f64]; 2],
        weight: Option<&[f64]>,
    ) -> Result<(), SolverError> {
        let (nx, p) = (k.nx, &k.plan);
        let stride = row_stride(p.nkx);
        for (spec, m) in self.spec.iter_mut().zip(m) {
            for (r, out) in spec.chunks_exact_mut(stride).enumerate() {
                let cells = r * nx..(r + 1) * nx;
                let (real, pad) = self.real.split_at_mut(nx);
                match weight {
                    None => {
                        for (x, &v) in real.iter_mut().zip(&m[cells]) {
                            *x = T::from_f64(v).unwrap_or_else(T::zero);
                        }
                    }
                    Some(w) => {
                        for ((x, &v), &w) in real.iter_mut().zip(&m[cells.clone()]).zip(&w[cells]) {
                            *x = T::from_f64(w * v).unwrap_or_else(T::zero);
                        }
                    }
                }
                pad.fill(T::zero());
                p.r2c
                    .process_with_scratch(&mut self.real, &mut out[..p.nkx], &mut self.scratch)
                    .map_err(fft_err)?;
            }
        }
        Ok(())
    }

    /// Last pass: the first nx values of the inverse real row transforms of this band's
    /// rows of the lanes' convolved spectra (not normalised), into this band's cells.
    pub(super) fn inverse(
        &mut self,
        k: &Kernel<T>,
        lanes: &[Lane<T>; 2],
        h: [&mut [f64]; 2],
    ) -> Result<(), SolverError> {
        let (nx, p) = (k.nx, &k.plan);
        for (c, h) in h.into_iter().enumerate() {
            for (r, j) in self.rows.clone().enumerate() {
                for lane in lanes {
                    let w = lane.kx.len();
                    self.row[lane.kx.clone()].copy_from_slice(&lane.spec[c][j * w..(j + 1) * w]);
                }
                // The spectrum is Hermitian: these imaginary parts are rounding only.
                self.row[0].im = T::zero();
                if p.px % 2 == 0 {
                    self.row[p.nkx - 1].im = T::zero();
                }
                p.c2r
                    .process_with_scratch(&mut self.row, &mut self.real, &mut self.scratch)
                    .map_err(fft_err)?;
                for (o, &v) in h[r * nx..(r + 1) * nx].iter_mut().zip(&self.real[..nx]) {
                    *o = v.to_f64().unwrap_or(0.0);
                }
            }
        }
        Ok(())
    }
}

/// A range of columns kx, worked on by one lane in the middle pass, [`TILE`] at a time:
/// gathered from the bands' row spectra, transformed, multiplied by the kernel,
/// transformed back, and the ny rows that are read back kept.
pub(super) struct Lane<T: Real> {
    kx: Range<usize>,
    /// Convolved spectra of h_x and h_y in these columns, rows 0..ny, row after row.
    spec: [Vec<Complex<T>>; 2],
    /// One tile of columns of each component, whole padded length py each.
    cols: [Vec<Complex<T>>; 2],
    scratch: Vec<Complex<T>>,
}

impl<T: Real> Lane<T> {
    fn new(p: &Plan<T>, ny: usize, kx: Range<usize>) -> Self {
        let zero = Complex::new(T::zero(), T::zero());
        Lane {
            spec: [vec![zero; kx.len() * ny], vec![zero; kx.len() * ny]],
            cols: [vec![zero; TILE * p.py], vec![zero; TILE * p.py]],
            scratch: column_scratch(p),
            kx,
        }
    }

    /// (first kx, width) of each tile of this lane.
    fn tiles(&self) -> impl Iterator<Item = (usize, usize)> + use<T> {
        let kx = self.kx.clone();
        kx.clone()
            .step_by(TILE)
            .map(move |k0| (k0, TILE.min(kx.end - k0)))
    }

    /// Middle pass over this lane's columns.
    fn columns(&mut self, k: &Kernel<T>, bands: &[&Band<T>; 2]) {
        let (ny, p) = (k.ny, &k.plan);
        let (py, stride) = (p.py, row_stride(p.nkx));
        let zero = Complex::new(T::zero(), T::zero());
        for (kx0, w) in self.tiles() {
            for c in 0..2 {
                let col = &mut self.cols[c][..w * py];
                for band in bands {
                    for (r, j) in band.rows.clone().enumerate() {
                        let at = r * stride + kx0;
                        for (t, &v) in band.spec[c][at..at + w].iter().enumerate() {
                            col[t * py + j] = v;
                        }
                    }
                }
                for column in col.chunks_exact_mut(py) {
                    column[ny..].fill(zero);
                }
                p.fwd.process_with_scratch(col, &mut self.scratch);
            }
            let [cx, cy] = &mut self.cols;
            for (t, (cx, cy)) in cx
                .chunks_exact_mut(py)
                .zip(cy.chunks_exact_mut(py))
                .take(w)
                .enumerate()
            {
                k.product(kx0 + t, cx, cy);
            }
            let (at, width) = (kx0 - self.kx.start, self.kx.len());
            for c in 0..2 {
                let col = &mut self.cols[c][..w * py];
                p.inv.process_with_scratch(col, &mut self.scratch);
                for (j, out) in self.spec[c].chunks_exact_mut(width).enumerate() {
                    for (t, o) in out[at..at + w].iter_mut().enumerate() {
                        *o = col[t * py + j];
                    }
                }
            }
        }
    }
}

/// One evaluator's convolution: a shared kernel plus private buffers, in two bands of rows
/// and two lanes of columns. A split evaluation runs the two of each pass side by side,
/// one after the other otherwise: the same arithmetic either way.
pub(super) struct Conv<T: Real> {
    kernel: Arc<Kernel<T>>,
    bands: [Band<T>; 2],
    lanes: [Lane<T>; 2],
}

impl<T: Real> Conv<T> {
    fn new(kernel: Arc<Kernel<T>>) -> Self {
        let (ny, p) = (kernel.ny, &kernel.plan);
        // Whole tiles in the first lane, so that every tile but the last is full.
        let kx_mid = (p.nkx.div_ceil(TILE) / 2 * TILE).min(p.nkx);
        let [a, b] = band_rows(ny);
        Conv {
            bands: [Band::new(p, a), Band::new(p, b)],
            lanes: [Lane::new(p, ny, 0..kx_mid), Lane::new(p, ny, kx_mid..p.nkx)],
            kernel,
        }
    }

    /// The kernel, the two bands of the first and last passes, and the middle pass.
    pub(super) fn passes(&mut self) -> Passes<'_, T> {
        let Conv {
            kernel,
            bands,
            lanes,
        } = self;
        (&**kernel, bands, Columns { kernel, lanes })
    }

    /// h = −N ∗ m on this thread, the passes' halves one after the other.
    fn field(&mut self, m: [&[f64]; 2], h: [&mut [f64]; 2]) -> Result<(), SolverError> {
        let mid = band_rows(self.kernel.ny)[0].end * self.kernel.nx;
        let (k, [ba, bb], columns) = self.passes();
        let [mx, my] = m.map(|m| m.split_at(mid));
        ba.forward(k, [mx.0, my.0], None)?;
        bb.forward(k, [mx.1, my.1], None)?;
        let lanes = columns.run([&*ba, &*bb], &Fork::One);
        let [hx, hy] = h;
        let (hxa, hxb) = hx.split_at_mut(mid);
        let (hya, hyb) = hy.split_at_mut(mid);
        ba.inverse(k, lanes, [hxa, hya])?;
        bb.inverse(k, lanes, [hxb, hyb])
    }
}

/// A [`Conv`] borrowed for one evaluation: its kernel, the bands of the first and the last
/// pass, and the middle pass.
pub(super) type Passes<'a, T> = (&'a Kernel<T>, &'a mut [Band<T>; 2], Columns<'a, T>);

/// The middle pass of a [`Conv`], borrowed apart from its bands.
pub(super) struct Columns<'a, T: Real> {
    kernel: &'a Kernel<T>,
    lanes: &'a mut [Lane<T>; 2],
}

impl<'a, T: Real> Columns<'a, T> {
    /// Runs both lanes over the bands' row spectra; the lanes' spectra then feed the last
    /// pass.
    pub(super) fn run(self, bands: [&Band<T>; 2], fork: &Fork) -> &'a [Lane<T>; 2] {
        let k = self.kernel;
        {
            let [la, lb] = &mut *self.lanes;
            fork.both(|| la.columns(k, &bands), || lb.columns(k, &bands));
        }
        self.lanes
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

/// A demag field evaluator (kernel + own FFT buffers), one per thread; an [`Energy`]
/// runs its passes itself, with its own work in between.
///
/// [`Energy`]: super::Energy
pub struct Demag {
    conv: ConvInner,
}

pub(super) enum ConvInner {
    F32(Conv<f32>),
    F64(Conv<f64>),
}

impl Demag {
    /// The convolution at its precision, for an evaluation that runs its passes itself.
    pub(super) fn conv(&mut self) -> &mut ConvInner {
        &mut self.conv
    }

    pub fn new(kernel: &DemagKernel) -> Self {
        let conv = match &kernel.inner {
            KernelInner::F32(k) => ConvInner::F32(Conv::new(k.clone())),
            KernelInner::F64(k) => ConvInner::F64(Conv::new(k.clone())),
        };
        Demag { conv }
    }

    /// h = −N ∗ m for in-plane m (no material weight), all slices one value per cell, on
    /// this thread.
    pub fn field(
        &mut self,
        mx: &[f64],
        my: &[f64],
        hx: &mut [f64],
        hy: &mut [f64],
    ) -> Result<(), SolverError> {
        match &mut self.conv {
            ConvInner::F32(c) => c.field([mx, my], [hx, hy]),
            ConvInner::F64(c) => c.field([mx, my], [hx, hy]),
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
            d.field(&ones, &zeros, &mut hx, &mut hy).unwrap();
            let nx = -hx.iter().sum::<f64>() / n as f64;
            assert!((nx - 0.49790).abs() < 1e-4, "{precision:?}: Nx = {nx}");
            assert!(hy.iter().sum::<f64>().abs() / (n as f64) < 1e-6);
            d.field(&zeros, &ones, &mut hx, &mut hy).unwrap();
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
        d.field(&mx, &my, &mut hx, &mut hy).unwrap();
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
