//! The energy terms of B structures of one mesh at once, on tensors [B, ny, nx]: the same
//! reduced fields as `energy.rs` (exchange, anisotropy, Zeeman along +y, demag by the
//! zero-padded FFT with the Newell spectra of `demag.rs`), each slot with its own easy
//! axes and per-cell constants. ∂ε/∂φ = h_y m_x − h_x m_y; the torque is |∂ε/∂φ|/σ.

use super::super::demag::{DemagKernel, Precision};
use super::super::energy::{Terms, ms_ratio};
use super::super::{Mesh, Problem, SolverError, anisotropy::Anisotropy, exchange::Exchange};
use tch::{Device, Kind, Tensor};

/// One batched evaluation: the gradient and, per slot, the largest torque (units of HA),
/// the largest |∂ε/∂φ| and the mean m.
pub struct Gradient {
    /// ∂ε/∂φ, [B, ny, nx].
    pub g: Tensor,
    /// max_c |g_c|/σ_c, [B].
    pub torque: Tensor,
    /// max_c |g_c|, [B] (what the turn cap divides by).
    pub gmax: Tensor,
    /// Mean (m_x, m_y), [B, 2].
    pub mean_m: Tensor,
}

/// The evaluator of B slots: shared kernel spectra, per-slot constants.
pub struct BatchEnergy {
    mesh: Mesh,
    terms: Terms,
    kind: Kind,
    device: Device,
    batch: usize,
    /// N_xx, N_yy, N_xy spectra [2ny, nx + 1] (demag on).
    kernel: Option<[Tensor; 3]>,
    /// Per slot: axes k, κ = K1_cell/K1_ref, σ = Ms_cell/Ms_ref, [B, ny, nx].
    kx: Tensor,
    ky: Tensor,
    kappa: Tensor,
    sigma: Tensor,
    /// Exchange weights of each cell's east, west, north, south link (0 off the grid).
    links: [Tensor; 4],
    /// Demag weight μ0Ms_ref²/(2K1_ref) times σ, [B, ny, nx].
    demag_sigma: Tensor,
}

impl BatchEnergy {
    /// Empty slots for `batch` structures of `mesh` with `terms`.
    pub fn new(
        mesh: Mesh,
        terms: Terms,
        batch: usize,
        precision: Precision,
        device: Device,
    ) -> Result<Self, SolverError> {
        if !(terms.exchange || terms.anisotropy || terms.zeeman || terms.demag) {
            return Err(SolverError::NoTerms);
        }
        let kind = super::kind(precision);
        let (nx, ny) = (mesh.nx as i64, mesh.ny as i64);
        let kernel = if terms.demag {
            // Always the f64 spectra, rounded once to the tensors' type.
            let k = DemagKernel::cached(&mesh, Precision::F64)?;
            let shape = [2 * ny, nx + 1];
            Some(k.spectra().map(|v| {
                Tensor::from_slice(&v)
                    .view(shape)
                    .to_kind(kind)
                    .to_device(device)
            }))
        } else {
            None
        };
        let zeros = || Tensor::zeros([batch as i64, ny, nx], (kind, device));
        Ok(BatchEnergy {
            mesh,
            terms,
            kind,
            device,
            batch,
            kernel,
            kx: zeros(),
            ky: zeros(),
            kappa: zeros(),
            sigma: Tensor::ones([batch as i64, ny, nx], (kind, device)),
            links: [zeros(), zeros(), zeros(), zeros()],
            demag_sigma: zeros(),
        })
    }

    pub fn mesh(&self) -> Mesh {
        self.mesh
    }
    pub fn terms(&self) -> Terms {
        self.terms
    }
    pub fn kind(&self) -> Kind {
        self.kind
    }
    pub fn device(&self) -> Device {
        self.device
    }
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Puts `problem` into slot `slot` (its constants from the plain solver's own terms).
    pub fn load(&mut self, slot: usize, problem: &Problem) -> Result<(), SolverError> {
        if *problem.mesh() != self.mesh || problem.terms() != self.terms {
            return Err(SolverError::BadOption {
                name: "tensor batch",
                value: format!("{:?} with {:?}", problem.mesh(), problem.terms()),
                expected: "every structure of one batch on the same grid with the same energy terms",
            });
        }
        if slot >= self.batch {
            return Err(SolverError::BadOption {
                name: "slot",
                value: slot.to_string(),
                expected: "a slot below the batch size",
            });
        }
        let (nx, ny) = (self.mesh.nx, self.mesh.ny);
        let up = |v: &[f64]| {
            Tensor::from_slice(v)
                .view([ny as i64, nx as i64])
                .to_kind(self.kind)
                .to_device(self.device)
        };
        let put = |dst: &Tensor, v: &[f64]| {
            dst.get(slot as i64).copy_(&up(v));
        };
        let [kx, ky, kappa] = Anisotropy::new(problem).axes().map(<[f64]>::to_vec);
        put(&self.kx, &kx);
        put(&self.ky, &ky);
        put(&self.kappa, &kappa);
        let sigma = ms_ratio(problem);
        put(&self.sigma, &sigma);
        let w = problem.material().demag_weight();
        let ws: Vec<f64> = sigma.iter().map(|s| w * s).collect();
        put(&self.demag_sigma, &ws);
        let ex = Exchange::new(problem);
        let (wx, wy) = ex.weights();
        let n = nx * ny;
        let mut west = vec![0.0; n];
        let mut south = vec![0.0; n];
        for c in 0..n {
            if c % nx > 0 {
                west[c] = wx[c - 1];
            }
            if c >= nx {
                south[c] = wy[c - nx];
            }
        }
        for (dst, v) in self.links.iter().zip([wx, &west, wy, &south]) {
            put(dst, v);
        }
        Ok(())
    }

    /// h = −N ∗ m of every slot (no material weight), by the zero-padded real FFT.
    fn demag(&self, kernel: &[Tensor; 3], sx: &Tensor, sy: &Tensor) -> (Tensor, Tensor) {
        let (nx, ny) = (self.mesh.nx as i64, self.mesh.ny as i64);
        let pad = [2 * ny, 2 * nx];
        let m = Tensor::stack(&[sx, sy], 1);
        let f = m.fft_rfft2(Some(pad.as_slice()), [-2, -1], "backward");
        let (fx, fy) = (f.select(1, 0), f.select(1, 1));
        let [kxx, kyy, kxy] = kernel;
        // The spectra carry the 1/(px·py) already: the inverse is unnormalised.
        let hx = -(&fx * kxx + &fy * kxy);
        let hy = -(&fx * kxy + &fy * kyy);
        let h = Tensor::stack(&[hx, hy], 1)
            .fft_irfft2(Some(pad.as_slice()), [-2, -1], "forward")
            .narrow(2, 0, ny)
            .narrow(3, 0, nx);
        (h.select(1, 0), h.select(1, 1))
    }

    /// Σ_j w_ij m_j over the four neighbours (missing ones have weight 0).
    fn exchange(&self, m: &Tensor) -> Tensor {
        let (nx, ny) = (self.mesh.nx as i64, self.mesh.ny as i64);
        let [we, ww, wn, ws] = &self.links;
        // Neighbour values shifted onto each cell; the pad value meets a zero weight.
        let east = m.narrow(2, 1, nx - 1).constant_pad_nd([0, 1]);
        let west = m.narrow(2, 0, nx - 1).constant_pad_nd([1, 0]);
        let north = m.narrow(1, 1, ny - 1).constant_pad_nd([0, 0, 0, 1]);
        let south = m.narrow(1, 0, ny - 1).constant_pad_nd([0, 0, 1, 0]);
        we * east + ww * west + wn * north + ws * south
    }

    /// The gradient at angles `phi` [B, ny, nx] and applied fields `h` [B] (along +y).
    pub fn gradient(&self, phi: &Tensor, h: &Tensor) -> Gradient {
        let (mx, my) = (phi.sin(), phi.cos());
        let (mut hx, mut hy) = match &self.kernel {
            Some(k) => {
                let (dx, dy) = self.demag(k, &(&mx * &self.sigma), &(&my * &self.sigma));
                (dx * &self.demag_sigma, dy * &self.demag_sigma)
            }
            None => (mx.zeros_like(), my.zeros_like()),
        };
        if self.terms.exchange {
            hx += self.exchange(&mx);
            hy += self.exchange(&my);
        }
        if self.terms.anisotropy {
            let s = &self.kappa * (&self.kx * &mx + &self.ky * &my);
            hx += &s * &self.kx;
            hy += &s * &self.ky;
        }
        if self.terms.zeeman {
            hy += &self.sigma * h.view([-1, 1, 1]);
        }
        let g = &hy * &mx - &hx * &my;
        let abs = g.abs();
        let torque = (&abs / &self.sigma).amax([1, 2], false);
        let gmax = abs.amax([1, 2], false);
        let mean_m = Tensor::stack(
            &[
                mx.mean_dim([1i64, 2].as_slice(), false, None),
                my.mean_dim([1i64, 2].as_slice(), false, None),
            ],
            1,
        );
        Gradient {
            g,
            torque,
            gmax,
            mean_m,
        }
    }
}
