//! Zeeman energy −μ0MsV H·m of an applied in-plane field H = h·HA. Reduced: ε = −Σ σ h·m
//! with σ = Ms_cell/Ms_ref; the field is σh.

/// Adds σ_c·h to every cell's field (`ms` = None means σ = 1).
pub fn add_field(h: [f64; 2], ms: Option<&[f64]>, hx: &mut [f64], hy: &mut [f64]) {
    match ms {
        None => {
            hx.iter_mut().for_each(|v| *v += h[0]);
            hy.iter_mut().for_each(|v| *v += h[1]);
        }
        Some(s) => {
            for c in 0..hx.len() {
                hx[c] += s[c] * h[0];
                hy[c] += s[c] * h[1];
            }
        }
    }
}

pub fn energy(h: [f64; 2], ms: Option<&[f64]>, mx: &[f64], my: &[f64]) -> f64 {
    let mut e = 0.0;
    for c in 0..mx.len() {
        let s = ms.map_or(1.0, |v| v[c]);
        e -= s * (h[0] * mx[c] + h[1] * my[c]);
    }
    e
}
