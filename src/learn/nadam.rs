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

use serde::{Deserialize, Serialize};
use tch::{Tensor, nn::VarStore};

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
        NAdam {
            config,
            scalars: NAdamScalars::default(),
            vars,
        }
    }

    pub fn set_lr(&mut self, lr: f64) {
        self.config.lr = lr;
    }

    pub fn zero_grad(&mut self) {
        for (_, p, _, _) in &mut self.vars {
            p.zero_grad();
        }
    }

    /// One update from the gradients accumulated in the parameters.
    pub fn step(&mut self) {
        let c = self.config;
        self.scalars.step += 1;
        let t = self.scalars.step as f64;
        let mu = c.beta1 * (1.0 - 0.5 * 0.96f64.powf(t * c.momentum_decay));
        let mu_next = c.beta1 * (1.0 - 0.5 * 0.96f64.powf((t + 1.0) * c.momentum_decay));
        self.scalars.mu_product *= mu as f32;
        let prod = self.scalars.mu_product as f64;
        let bc2 = 1.0 - c.beta2.powf(t);
        let a = -c.lr * (1.0 - mu) / (1.0 - prod);
        let b = -c.lr * mu_next / (1.0 - prod * mu_next);
        tch::no_grad(|| {
            for (_, p, m, v) in &mut self.vars {
                let g = p.grad();
                if !g.defined() {
                    continue;
                }
                let _ = m.lerp_(&g, 1.0 - c.beta1);
                let _ = v.g_mul_scalar_(c.beta2);
                let _ = v.addcmul_(&g, &g.g_mul_scalar(1.0 - c.beta2));
                let d = (&*v / bc2).sqrt() + c.eps;
                let _ = p.addcdiv_(&g.g_mul_scalar(a), &d);
                let _ = p.addcdiv_(&m.g_mul_scalar(b), &d);
            }
        });
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
    }

    /// Moves the moments along with the model (after `VarStore::set_device`).
    pub fn to_device(&mut self, device: tch::Device) {
        for (_, _, m, v) in &mut self.vars {
            *m = m.to_device(device);
            *v = v.to_device(device);
        }
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
            opt.zero_grad();
            let loss = (&p * &p * &c).sum(Kind::Double) + p.get(0) * p.get(1);
            loss.backward();
            opt.step();
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
}
