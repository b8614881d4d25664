//! PyTorch's `torch.optim.NAdam` (Dozat 2016, with PyTorch's momentum schedule), which tch
//! lacks. Transcribed from `_single_tensor_nadam` of torch 2.11 (no weight decay):
//!
//! ```text
//! t += 1
//! μ_t   = β1 (1 − ½ · 0.96^(t·ψ)),  μ_t+1 = β1 (1 − ½ · 0.96^((t+1)·ψ))   ψ = momentum_decay
//! Π    *= μ_t                       (kept in f32, as PyTorch keeps its scalar state)
//! m     = m + (1 − β1)(g − m);  v = β2 v + (1 − β2) g²
//! d     = sqrt(v / (1 − β2^t)) + ε
//! θ    -= lr (1 − μ_t)/(1 − Π) · g/d + lr μ_t+1/(1 − Π μ_t+1) · m/d
//! ```
//!
//! The same arithmetic as PyTorch's, but in one fused pass over each variable on the CPU;
//! gradients come straight from the backward pass and are never zeroed or accumulated.

use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor, nn::VarStore};

/// Hyper-parameters (PyTorch's defaults except the paper's lr).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct NAdamConfig {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub momentum_decay: f64,
}

impl Default for NAdamConfig {
    fn default() -> Self {
        NAdamConfig {
            lr: 1e-4,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            momentum_decay: 4e-3,
        }
    }
}

/// Step count and μ-product: the scalar state, stored in checkpoint configs.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct NAdamScalars {
    pub step: u64,
    pub mu_product: f32,
}

impl Default for NAdamScalars {
    fn default() -> Self {
        NAdamScalars {
            step: 0,
            mu_product: 1.0,
        }
    }
}

/// Moments per parameter, in the order of [`NAdam`]'s variables.
pub type Moments = Vec<(Tensor, Tensor)>;

pub struct NAdam {
    pub config: NAdamConfig,
    pub scalars: NAdamScalars,
    /// (name, parameter, first moment, second moment), sorted by name.
    vars: Vec<(String, Tensor, Tensor, Tensor)>,
    /// Each moment of all variables in one buffer, of which the per-variable moments are
    /// views (when the variables share kind and device): off the CPU a step is then a
    /// dozen whole-buffer kernels plus one add per variable, not eleven per variable.
    flat: Option<(Tensor, Tensor)>,
}

impl NAdam {
    /// An optimiser over every trainable variable of `vs`, moments zero.
    pub fn new(vs: &VarStore, config: NAdamConfig) -> NAdam {
        NAdam::from_named(vs.variables().into_iter().collect(), config)
    }

    /// An optimiser over named tensors that require gradients.
    pub fn from_named(mut named: Vec<(String, Tensor)>, config: NAdamConfig) -> NAdam {
        named.sort_by(|a, b| a.0.cmp(&b.0));
        let vars = named
            .into_iter()
            .filter(|(_, t)| t.requires_grad())
            .map(|(n, t)| {
                let (m, v) = (t.zeros_like(), t.zeros_like());
                (n, t, m, v)
            })
            .collect();
        let mut opt = NAdam {
            config,
            scalars: NAdamScalars::default(),
            vars,
            flat: None,
        };
        opt.lay_out();
        opt
    }

    /// Gathers the moments into [`NAdam::flat`] and makes the per-variable ones views of
    /// it; after every change of the moment tensors.
    fn lay_out(&mut self) {
        self.flat = None;
        let Some((_, first, _, _)) = self.vars.first() else {
            return;
        };
        let (kind, device) = (first.kind(), first.device());
        if self
            .vars
            .iter()
            .any(|(_, p, _, _)| (p.kind(), p.device()) != (kind, device))
        {
            return;
        }
        let cat = |pick: fn(&(String, Tensor, Tensor, Tensor)) -> &Tensor| {
            let parts: Vec<Tensor> = self.vars.iter().map(|x| pick(x).reshape([-1])).collect();
            Tensor::cat(&parts, 0)
        };
        let (mf, vf) = (cat(|x| &x.2), cat(|x| &x.3));
        let mut offset = 0;
        for (_, p, m, v) in &mut self.vars {
            let n = p.numel() as i64;
            *m = mf.narrow(0, offset, n).view_as(p);
            *v = vf.narrow(0, offset, n).view_as(p);
            offset += n;
        }
        self.flat = Some((mf, vf));
    }

    pub fn set_lr(&mut self, lr: f64) {
        self.config.lr = lr;
    }

    /// One update from `loss`: its gradients with respect to every variable, taken from
    /// the backward pass directly (PyTorch's `zero_grad(set_to_none=True)`: no zeroing
    /// and no accumulation into `.grad`), then the NAdam step.
    pub fn step(&mut self, loss: &Tensor) {
        self.step_with(loss, true)
    }

    /// [`NAdam::step`]; `fuse` false keeps the CPU on the tensor-op paths (for tests).
    fn step_with(&mut self, loss: &Tensor, fuse: bool) {
        if self.vars.is_empty() {
            return;
        }
        let params: Vec<&Tensor> = self.vars.iter().map(|(_, p, _, _)| p).collect();
        let grads = Tensor::f_run_backward(&[loss], &params, false, false)
            .expect("the loss is computed from the optimised variables");
        let k = self.advance();
        let on_cpu = fuse && self.vars[0].1.device() == Device::Cpu;
        tch::no_grad(|| match &mut self.flat {
            Some((mf, vf)) if !on_cpu && grads.iter().all(Tensor::defined) => {
                let g = Tensor::cat(
                    &grads.iter().map(|g| g.reshape([-1])).collect::<Vec<_>>(),
                    0,
                );
                let _ = mf.lerp_(&g, k.w1);
                let _ = vf.g_mul_scalar_(k.beta2);
                let _ = vf.addcmul_(&g, &g.g_mul_scalar(k.w2));
                let mut d = vf.g_div_scalar(k.bc2);
                let _ = d.sqrt_();
                let _ = d.g_add_scalar_(k.eps);
                let u = (g.g_mul_scalar(k.a) + mf.g_mul_scalar(k.b)) / d;
                let mut offset = 0;
                for (_, p, _, _) in &mut self.vars {
                    let n = p.numel() as i64;
                    let _ = p.g_add_(&u.narrow(0, offset, n).view_as(p));
                    offset += n;
                }
            }
            _ => {
                for ((_, p, m, v), g) in self.vars.iter_mut().zip(&grads) {
                    if g.defined() {
                        update(p, m, v, g, &k, fuse);
                    }
                }
            }
        });
    }

    /// Counts the step and returns its coefficients.
    fn advance(&mut self) -> Coefficients {
        let c = self.config;
        self.scalars.step += 1;
        let t = self.scalars.step as f64;
        let mu = c.beta1 * (1.0 - 0.5 * 0.96f64.powf(t * c.momentum_decay));
        let mu_next = c.beta1 * (1.0 - 0.5 * 0.96f64.powf((t + 1.0) * c.momentum_decay));
        self.scalars.mu_product *= mu as f32;
        let prod = self.scalars.mu_product as f64;
        Coefficients {
            w1: 1.0 - c.beta1,
            beta2: c.beta2,
            w2: 1.0 - c.beta2,
            bc2: 1.0 - c.beta2.powf(t),
            eps: c.eps,
            a: -c.lr * (1.0 - mu) / (1.0 - prod),
            b: -c.lr * mu_next / (1.0 - prod * mu_next),
        }
    }

    /// The moments as named tensors (`exp_avg.<var>`, `exp_avg_sq.<var>`), for checkpoints.
    pub fn state(&self) -> Vec<(String, Tensor)> {
        self.vars
            .iter()
            .flat_map(|(n, _, m, v)| {
                [
                    (format!("exp_avg.{n}"), m.shallow_clone()),
                    (format!("exp_avg_sq.{n}"), v.shallow_clone()),
                ]
            })
            .collect()
    }

    /// Restores moments saved by [`NAdam::state`]; names or shapes that do not fit are an
    /// error.
    pub fn load_state(
        &mut self,
        scalars: NAdamScalars,
        named: &[(String, Tensor)],
    ) -> super::Result<()> {
        let find = |key: &str, like: &Tensor| -> super::Result<Tensor> {
            let (_, t) = named
                .iter()
                .find(|(n, _)| n == key)
                .ok_or_else(|| super::LearnError::msg(format!("optimizer state lacks `{key}`")))?;
            super::error::ensure(t.size() == like.size(), || {
                format!(
                    "optimizer state `{key}` has shape {:?}, the model needs {:?}",
                    t.size(),
                    like.size()
                )
            })?;
            Ok(t.to_kind(like.kind()).to_device(like.device()))
        };
        let mut restored = Vec::with_capacity(self.vars.len());
        for (n, p, _, _) in &self.vars {
            restored.push((
                find(&format!("exp_avg.{n}"), p)?,
                find(&format!("exp_avg_sq.{n}"), p)?,
            ));
        }
        self.restore((scalars, restored));
        Ok(())
    }

    /// Copies of the moments and scalars, to roll back an interrupted epoch.
    pub fn snapshot(&self) -> (NAdamScalars, Moments) {
        (
            self.scalars,
            self.vars
                .iter()
                .map(|(_, _, m, v)| (m.copy(), v.copy()))
                .collect(),
        )
    }

    pub fn restore(&mut self, snap: (NAdamScalars, Moments)) {
        self.scalars = snap.0;
        for ((_, _, m, v), (m2, v2)) in self.vars.iter_mut().zip(snap.1) {
            *m = m2;
            *v = v2;
        }
        self.lay_out();
    }

    /// Moves the moments along with the model (after `VarStore::set_device`).
    pub fn to_device(&mut self, device: tch::Device) {
        for (_, _, m, v) in &mut self.vars {
            *m = m.to_device(device);
            *v = v.to_device(device);
        }
        self.lay_out();
    }
}

/// The scalars of one step (f64; the kernels round them to the tensor's kind as
/// PyTorch's do).
struct Coefficients {
    /// lerp weight of the first moment, 1 − β1.
    w1: f64,
    beta2: f64,
    /// 1 − β2.
    w2: f64,
    /// Bias correction 1 − β2^t.
    bc2: f64,
    eps: f64,
    /// Factors of g/d and m/d in the update.
    a: f64,
    b: f64,
}

/// Updates one variable `p` and its moments from gradient `g`: on the CPU in one fused
/// pass over contiguous memory (PyTorch's eager step makes eight passes and allocates two
/// temporaries per variable: a third of a VAE step's time), elsewhere with tensor ops.
fn update(
    p: &mut Tensor,
    m: &mut Tensor,
    v: &mut Tensor,
    g: &Tensor,
    k: &Coefficients,
    fuse: bool,
) {
    let n = p.numel();
    let same = |t: &Tensor| {
        t.device() == Device::Cpu && t.kind() == p.kind() && t.numel() == n && t.is_contiguous()
    };
    if fuse && n > 0 && [&*p, &*m, &*v, g].into_iter().all(same) {
        // SAFETY: four contiguous CPU buffers of n elements of the matched kind; p, m and
        // v are distinct tensors this optimiser owns (written), g is only read.
        unsafe {
            match p.kind() {
                Kind::Float => return fused::<f32>(p, m, v, g, n, k),
                Kind::Double => return fused::<f64>(p, m, v, g, n, k),
                _ => {}
            }
        }
    }
    let _ = m.lerp_(g, k.w1);
    let _ = v.g_mul_scalar_(k.beta2);
    let _ = v.addcmul_(g, &g.g_mul_scalar(k.w2));
    let mut d = v.g_div_scalar(k.bc2);
    let _ = d.sqrt_();
    let _ = d.g_add_scalar_(k.eps);
    let _ = p.addcdiv_(&g.g_mul_scalar(k.a), &d);
    let _ = p.addcdiv_(&m.g_mul_scalar(k.b), &d);
}

/// Element types of the fused step.
trait Real:
    Copy
    + Send
    + Sync
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
{
    fn of(x: f64) -> Self;
    fn sqrt(self) -> Self;
}

impl Real for f32 {
    fn of(x: f64) -> f32 {
        x as f32
    }
    fn sqrt(self) -> f32 {
        f32::sqrt(self)
    }
}

impl Real for f64 {
    fn of(x: f64) -> f64 {
        x
    }
    fn sqrt(self) -> f64 {
        f64::sqrt(self)
    }
}

/// Below this many elements a variable is updated on one thread.
const PARALLEL_MIN: usize = 1 << 16;

/// The step of [`update`] element by element, in the order of PyTorch's kernels (lerp_,
/// mul_, addcmul_, div, sqrt, add_, two addcdiv_), split over libtorch's intra-op thread
/// count for large variables.
///
/// # Safety
/// `p`, `m`, `v` and `g` are contiguous CPU tensors of `n` > 0 elements of type `T`, and
/// `p`, `m`, `v` share no memory with each other or with `g`.
unsafe fn fused<T: Real>(
    p: &Tensor,
    m: &Tensor,
    v: &Tensor,
    g: &Tensor,
    n: usize,
    k: &Coefficients,
) {
    use rayon::prelude::*;
    let (p, m, v, g) = unsafe {
        (
            std::slice::from_raw_parts_mut(p.data_ptr() as *mut T, n),
            std::slice::from_raw_parts_mut(m.data_ptr() as *mut T, n),
            std::slice::from_raw_parts_mut(v.data_ptr() as *mut T, n),
            std::slice::from_raw_parts(g.data_ptr() as *const T, n),
        )
    };
    let (w1, beta2, w2, bc2) = (T::of(k.w1), T::of(k.beta2), T::of(k.w2), T::of(k.bc2));
    let (eps, a, b) = (T::of(k.eps), T::of(k.a), T::of(k.b));
    let kernel = |p: &mut [T], m: &mut [T], v: &mut [T], g: &[T]| {
        for (((p, m), v), &g) in p.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()).zip(g) {
            *m = *m + w1 * (g - *m);
            *v = *v * beta2 + w2 * g * g;
            let d = (*v / bc2).sqrt() + eps;
            *p = *p + a * (g / d);
            *p = *p + b * (*m / d);
        }
    };
    let threads = tch::get_num_threads().max(1) as usize;
    if threads == 1 || n < PARALLEL_MIN {
        kernel(p, m, v, g);
    } else {
        let chunk = n.div_ceil(threads);
        p.par_chunks_mut(chunk)
            .zip(m.par_chunks_mut(chunk))
            .zip(v.par_chunks_mut(chunk))
            .zip(g.par_chunks(chunk))
            .for_each(|(((p, m), v), g)| kernel(p, m, v, g));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Kind;

    /// Reference: three steps of `torch.optim.NAdam([p], lr=0.1)` on
    /// f(p) = ½p0² + p1² + 2p2² + p0·p1 from p = (1, −2, 0.5), in f64. The numbers come from
    /// a plain-Python transcription of torch 2.11's `_single_tensor_nadam` (the torch in
    /// `.venv` is a CUDA wheel that does not import here without cuDNN), including the f32
    /// μ-product state; the first step is checked by hand below.
    const REFERENCE: [[f64; 3]; 3] = [
        [
            1.105645178077027e+00,
            -1.894354821218672e+00,
            3.943548213947468e-01,
        ],
        [
            1.175329350730300e+00,
            -1.819973068830741e+00,
            3.246706483715265e-01,
        ],
        [
            1.234990772106293e+00,
            -1.752651833919785e+00,
            2.647270413376194e-01,
        ],
    ];

    #[test]
    fn nadam_matches_pytorch_on_a_hand_checked_case() {
        let p = Tensor::from_slice(&[1.0f64, -2.0, 0.5]).set_requires_grad(true);
        let c = Tensor::from_slice(&[0.5f64, 1.0, 2.0]);
        let mut opt = NAdam::from_named(
            vec![("p".into(), p.shallow_clone())],
            NAdamConfig {
                lr: 0.1,
                ..NAdamConfig::default()
            },
        );
        for want in REFERENCE {
            let loss = (&p * &p * &c).sum(Kind::Double) + p.get(0) * p.get(1);
            opt.step(&loss);
            let got = Vec::<f64>::try_from(&p).unwrap();
            for (g, w) in got.iter().zip(want) {
                assert!((g - w).abs() < 1e-12, "{got:?} vs {want:?}");
            }
        }
        // By hand, step 1: m = 0.1 g, v = 0.001 g², so d = |g| after bias correction, and
        // every parameter moves by −lr·sign(g)·(1 + 0.1 μ2/(1 − μ1 μ2)) with
        // μ1 = 0.9(1 − ½·0.96^0.004) = 0.4500735, μ2 = 0.9(1 − ½·0.96^0.008) = 0.4501469:
        // a step of 0.1 × 1.0564518 against the gradient g = (−1, −3, 2).
        let mu = |t: f64| 0.9 * (1.0 - 0.5 * 0.96f64.powf(t * 4e-3));
        let step = 0.1 * (1.0 + 0.1 * mu(2.0) / (1.0 - mu(1.0) * mu(2.0)));
        assert!((step - 0.10564518).abs() < 1e-7);
        for (k, sign) in [-1.0, -1.0, 1.0].iter().enumerate() {
            let start = [1.0, -2.0, 0.5][k];
            assert!((REFERENCE[0][k] - (start - sign * step)).abs() < 1e-7);
        }
    }

    /// Four steps of `torch.optim.NAdam([p], lr=0.01)` in f32 (torch 2.11.0 on the CPU),
    /// recorded by:
    /// ```text
    /// p = torch.tensor([1.0, -2.0, 0.5, 3.0, -0.25], requires_grad=True)
    /// c = torch.tensor([0.5, 1.0, 2.0, 0.1, 4.0])
    /// opt = torch.optim.NAdam([p], lr=0.01)
    /// for _ in range(4):
    ///     opt.zero_grad(); ((c * p * p).sum() + p[0] * p[1] + p[3].sin()).backward()
    ///     opt.step(); print(p.tolist())
    /// ```
    #[test]
    fn nadam_matches_torch_optim_nadam_in_f32() {
        const TORCH: [[f32; 5]; 4] = [
            [
                1.010564566,
                -1.989435434,
                0.4894354939,
                3.010564566,
                -0.2394354790,
            ],
            [
                1.018326879,
                -1.981635571,
                0.4816731811,
                3.018395424,
                -0.2317502499,
            ],
            [
                1.025539160,
                -1.974367619,
                0.4744607210,
                3.025707960,
                -0.2246522605,
            ],
            [
                1.032703876,
                -1.967128754,
                0.4672956169,
                3.033004761,
                -0.2176405340,
            ],
        ];
        let p = Tensor::from_slice(&[1.0f32, -2.0, 0.5, 3.0, -0.25]).set_requires_grad(true);
        let c = Tensor::from_slice(&[0.5f32, 1.0, 2.0, 0.1, 4.0]);
        let config = NAdamConfig {
            lr: 0.01,
            ..NAdamConfig::default()
        };
        let mut opt = NAdam::from_named(vec![("p".into(), p.shallow_clone())], config);
        for want in TORCH {
            let loss = (&p * &p * &c).sum(Kind::Float) + p.get(0) * p.get(1) + p.get(3).sin();
            opt.step(&loss);
            let got = Vec::<f32>::try_from(&p).unwrap();
            for (g, w) in got.iter().zip(want) {
                assert!(
                    (g - w).abs() <= 2e-7 * w.abs().max(1.0),
                    "{got:?} vs {want:?}"
                );
            }
        }
    }

    /// The fused CPU pass (split over threads) and the tensor-op path (CUDA's) agree.
    #[test]
    fn fused_step_equals_tensor_ops() {
        tch::manual_seed(3);
        let n = 3 * PARALLEL_MIN as i64 + 7;
        let start = Tensor::randn([n], (Kind::Float, Device::Cpu));
        let grads: Vec<Tensor> = (0..3).map(|_| start.randn_like()).collect();
        let run = |fuse: bool| {
            let (mut p, mut m, mut v) = (start.copy(), start.zeros_like(), start.zeros_like());
            let mut opt = NAdam::from_named(vec![], NAdamConfig::default());
            for g in &grads {
                let k = opt.advance();
                update(&mut p, &mut m, &mut v, g, &k, fuse);
            }
            [p, m, v]
        };
        let threads = tch::get_num_threads();
        tch::set_num_threads(2);
        let (fused, ops) = (run(true), run(false));
        tch::set_num_threads(threads);
        for (f, o) in fused.iter().zip(&ops) {
            let err = (f - o).abs().max().double_value(&[]);
            let scale = o.abs().max().double_value(&[]);
            assert!(err <= 1e-6 * scale, "max difference {err} (scale {scale})");
        }
        assert!((&fused[0] - &start).abs().max().double_value(&[]) > 0.0);
    }

    /// Several variables: the whole-buffer path (CUDA's) equals the fused per-variable
    /// CPU pass, and the moments stay views of the flat buffers through a restore.
    #[test]
    fn flat_step_equals_fused_step() {
        tch::manual_seed(4);
        let shapes: [&[i64]; 3] = [&[3, 5], &[7], &[2, 2, 4]];
        let start: Vec<Tensor> = shapes
            .iter()
            .map(|s| Tensor::randn(*s, (Kind::Float, Device::Cpu)))
            .collect();
        let run = |fuse: bool| {
            let ps: Vec<Tensor> = start
                .iter()
                .map(|t| t.copy().set_requires_grad(true))
                .collect();
            let named = ps
                .iter()
                .enumerate()
                .map(|(i, p)| (format!("p{i}"), p.shallow_clone()))
                .collect();
            let mut opt = NAdam::from_named(named, NAdamConfig::default());
            for step in 0..4 {
                if step == 2 {
                    let snap = opt.snapshot();
                    opt.restore(snap);
                }
                let loss = ps
                    .iter()
                    .map(|p| (p * p * p).sum(Kind::Float))
                    .fold(Tensor::zeros([], (Kind::Float, Device::Cpu)), |a, b| a + b);
                opt.step_with(&loss, fuse);
            }
            let (mf, _) = opt.flat.as_ref().expect("one kind, one device");
            let first = &opt.vars[0].2;
            assert_eq!(
                first.data_ptr(),
                mf.data_ptr(),
                "moments are views of the buffer"
            );
            // Views at an offset save their own values (checkpoints).
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("o.safetensors");
            Tensor::write_safetensors(&opt.state(), &file).unwrap();
            for (n, t) in Tensor::read_safetensors(&file).unwrap() {
                let (_, want) = opt.state().into_iter().find(|(k, _)| *k == n).unwrap();
                assert!(t.equal(&want), "{n}");
            }
            ps
        };
        let (fused, flat) = (run(true), run(false));
        for (f, o) in fused.iter().zip(&flat) {
            let err = (f - o).abs().max().double_value(&[]);
            assert!(err <= 1e-6, "max difference {err}");
            assert_eq!(f.size(), o.size());
        }
    }
}
