//! Materials as scripts give them: `material: #{ A, Js | Ms, K1 }` with each constant a
//! number, an array with one value per grain, or an NdArray [ny, nx] with one per cell; and
//! `boundary: #{ width_nm, A, Js | Ms, K1 }`, a grain-boundary phase. Fields stay in units of
//! the reference material's HA: the constants given as numbers, Nd2Fe14B's for the others.

use super::opts::Opts;
use super::{RResult, error, error_in, fail};
use crate::array::NdArray;
use crate::grains::Structure;
use crate::solver::material::MU0;
use crate::solver::{BoundaryPhase, Material};
use rhai::{Array, Dynamic, Map};

/// One constant of the grains: one number, one per grain, or one per cell.
#[derive(Clone, Debug)]
enum Constant {
    Uniform(f64),
    PerGrain(Vec<f64>),
    PerCell(NdArray),
}

/// The grains' material: the reference (units) and the constants that vary.
#[derive(Clone, Debug)]
pub struct Grains {
    pub reference: Material,
    a: Constant,
    ms: Constant,
    k1: Constant,
}

impl Grains {
    pub fn uniform(reference: Material) -> Self {
        Grains {
            reference,
            a: Constant::Uniform(reference.a),
            ms: Constant::Uniform(reference.ms),
            k1: Constant::Uniform(reference.k1),
        }
    }

    /// Whether every constant is one number (the problem needs no per-cell materials).
    pub fn is_uniform(&self) -> bool {
        [&self.a, &self.ms, &self.k1]
            .iter()
            .all(|c| matches!(c, Constant::Uniform(_)))
    }

    /// One material per cell of `s`, or `None` when uniform.
    pub fn cells(&self, func: &str, s: &Structure) -> RResult<Option<Vec<Material>>> {
        if self.is_uniform() {
            return Ok(None);
        }
        let a = values(func, "A", &self.a, s)?;
        let ms = values(func, "Ms", &self.ms, s)?;
        let k1 = values(func, "K1", &self.k1, s)?;
        let cells = (0..a.len())
            .map(|c| {
                Material {
                    a: a[c],
                    ms: ms[c],
                    k1: k1[c],
                }
                .validated_phase()
                .map_err(|e| {
                    error(
                        func,
                        format!("material of cell {c} (grain {}): {e}", s.grains()[c]),
                    )
                })
            })
            .collect::<RResult<Vec<_>>>()?;
        Ok(Some(cells))
    }
}

/// A constant's value in every cell of `s`.
fn values(func: &str, name: &str, c: &Constant, s: &Structure) -> RResult<Vec<f64>> {
    let cells = s.nx() * s.ny();
    match c {
        Constant::Uniform(x) => Ok(vec![*x; cells]),
        Constant::PerGrain(v) => {
            if v.len() != s.n_grains() {
                return fail(
                    func,
                    format!(
                        "material.{name} has {} values, the structure {} grains: expected one per grain",
                        v.len(),
                        s.n_grains()
                    ),
                );
            }
            Ok(s.grains().iter().map(|&g| v[g as usize]).collect())
        }
        Constant::PerCell(a) => {
            if a.shape() != [s.ny(), s.nx()] {
                return fail(
                    func,
                    format!(
                        "material.{name} is an NdArray of shape {:?}, the structure [{}, {}]: expected [ny, nx]",
                        a.shape(),
                        s.ny(),
                        s.nx()
                    ),
                );
            }
            Ok(a.0.iter().copied().collect())
        }
    }
}

/// A constant from a script value; `scale` converts the given unit (Js in T → Ms in A/m).
fn constant(func: &str, key: &str, v: &Dynamic, scale: f64) -> RResult<Constant> {
    let expected = || {
        error(
            func,
            format!(
                "material.{key} must be a number, an array with one number per grain or an NdArray [ny, nx]; got {}",
                crate::docs::type_of(&v)
            ),
        )
    };
    if let Ok(x) = super::array::number(func, v) {
        return Ok(Constant::Uniform(x * scale));
    }
    if let Some(list) = v.read_lock::<Array>() {
        return list
            .iter()
            .map(|x| {
                super::array::number(func, x)
                    .map(|x| x * scale)
                    .map_err(|_| expected())
            })
            .collect::<RResult<Vec<_>>>()
            .map(Constant::PerGrain);
    }
    if let Some(a) = v.read_lock::<NdArray>() {
        return Ok(Constant::PerCell(a.map(|x| x * scale)));
    }
    Err(expected())
}

/// Reads `#{ A, Js | Ms, K1 }` (absent keys from Nd2Fe14B; no others).
fn read(func: &'static str, what: &str, v: Dynamic) -> RResult<Grains> {
    let m = v
        .try_cast::<Map>()
        .ok_or_else(|| error(func, format!("{what} must be a map #{{ A, Js, K1 }}")))?;
    let mut o = Opts::new(func, m);
    let (a, js, ms, k1) = (o.value("A"), o.value("Js"), o.value("Ms"), o.value("K1"));
    o.finish()?;
    let d = Material::nd2fe14b();
    let get = |k: &str, v: Option<Dynamic>, default: f64, scale: f64| {
        v.map_or(Ok(Constant::Uniform(default)), |v| {
            constant(func, k, &v, scale)
        })
    };
    let ms = match (js, ms) {
        (Some(_), Some(_)) => {
            return fail(func, format!("{what}: give Js (T) or Ms (A/m), not both"));
        }
        (Some(js), None) => get("Js", Some(js), d.ms, 1.0 / MU0)?,
        (None, ms) => get("Ms", ms, d.ms, 1.0)?,
    };
    let a = get("A", a, d.a, 1.0)?;
    let k1 = get("K1", k1, d.k1, 1.0)?;
    let number = |c: &Constant, default: f64| match c {
        Constant::Uniform(x) => *x,
        _ => default,
    };
    Ok(Grains {
        reference: Material {
            a: number(&a, d.a),
            ms: number(&ms, d.ms),
            k1: number(&k1, d.k1),
        },
        a,
        ms,
        k1,
    })
}

/// The `material` option: the grains' constants (Nd2Fe14B when absent).
pub fn grains(func: &'static str, v: Option<Dynamic>) -> RResult<Grains> {
    match v {
        None => Ok(Grains::uniform(Material::nd2fe14b())),
        Some(v) => {
            let g = read(func, "material", v)?;
            g.reference.validated().map_err(error_in(func))?;
            Ok(g)
        }
    }
}

/// The `boundary` option: `#{ width_nm, A, Js | Ms, K1 }` (constants as numbers).
pub fn boundary(func: &'static str, v: Option<Dynamic>) -> RResult<Option<BoundaryPhase>> {
    let Some(v) = v else { return Ok(None) };
    let mut m = v.try_cast::<Map>().ok_or_else(|| {
        error(
            func,
            "option `boundary` must be a map #{ width_nm, A, Js, K1 }",
        )
    })?;
    let width = m.remove("width_nm").ok_or_else(|| {
        error(
            func,
            "option `boundary` needs width_nm (the layer's width in nm)",
        )
    })?;
    let width_nm = super::array::number(func, &width)?;
    let g = read(func, "boundary", Dynamic::from_map(m))?;
    if !g.is_uniform() {
        return fail(
            func,
            "boundary constants must be numbers (the phase is one material)",
        );
    }
    Ok(Some(BoundaryPhase {
        width_nm,
        material: g.reference,
    }))
}
