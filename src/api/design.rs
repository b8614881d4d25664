//! The `design` module: inverse design with the optimisers of [`crate::design`] over real
//! generator parameters or decoded latent codes, scored by an ensemble's predictions
//! through Rhai closures, with switchable guards against exploiting the model.

use super::clean::clean_options;
use super::ensemble::SharedEnsemble;
use super::grains::{SharedStructure, read_voronoi_options};
use super::opts::Opts;
use super::vae::SharedVae;
use super::{RResult, error, error_in, fail};
use crate::array::NdArray;
use crate::design::cmaes::{Cmaes, CmaesConfig};
use crate::design::ga::{Ga, GaConfig};
use crate::design::{Bounds, DesignError, Optimiser, Search, Stop, drive};
use crate::grains::DescriptorSet;
use crate::grains::rng::mix64;
use crate::grains::{CleanOptions, Structure, VoronoiOptions};
use crate::learn::images::IMAGES;
use ndarray::{Array2, Array4};
use rhai::plugin::*;
use rhai::{Array, FnPtr, Map};
use std::path::PathBuf;
use std::sync::Arc;

/// Cost of a candidate that breaks a constraint: above any feasible one, and growing with
/// the total violation (so the search still moves towards feasibility).
const INFEASIBLE: f64 = 1e6;

/// Where candidates live.
enum Space {
    /// Genes (ng, θ in degrees); each candidate a real Voronoi structure of `law`.
    Generator { law: VoronoiOptions, seed: u64 },
    /// Genes z in [−box, box]^latent, decoded by `vae` and cleaned by `clean`.
    Latent { vae: SharedVae, clean: CleanOptions },
}

/// What the model reads.
#[derive(Clone, Copy, PartialEq)]
enum Inputs {
    /// The candidates' descriptors (with `coarse`, their coarse-mesh anchors too).
    Descriptors(DescriptorSet),
    /// The search's own genes z.
    Codes,
    /// encode(clean(decode(z))): the code of the structure the solver will see.
    Recoded,
}

/// Distance to the data: standardised RMS distance to the nearest of `points`, or the
/// latent prior ‖z‖²/d when there are none.
struct NearData {
    points: Option<Array2<f64>>,
    scale: Vec<f64>,
    weight: f64,
}

impl NearData {
    fn new(f: &'static str, v: Dynamic) -> RResult<NearData> {
        let form = "#{ weight: w, points: NdArray [n, d] } (the model's training inputs: \
                    descriptors, or codes with inputs: \"codes\"; without points, in the latent \
                    space only: the prior ‖z‖²)";
        let Some(m) = v.try_cast::<Map>() else {
            return fail(f, format!("option `near_data` must be {form}"));
        };
        let mut o = Opts::new(f, m);
        let weight = o.float("weight", 1.0, 0.0, 1e12)?;
        let points = match o.value("points") {
            None => None,
            Some(p) => match p.try_cast::<NdArray>() {
                Some(a) if a.shape().len() == 2 && a.shape()[0] > 0 => Some(
                    a.0.view()
                        .into_dimensionality::<ndarray::Ix2>()
                        .map_err(error_in(f))?
                        .to_owned(),
                ),
                _ => {
                    return fail(
                        f,
                        format!("near_data.points must be a 2-d NdArray [n, d]; {form}"),
                    );
                }
            },
        };
        o.finish()?;
        let scale = match &points {
            Some(p) => p
                .columns()
                .into_iter()
                .map(|c| {
                    let m = c.mean().unwrap_or(0.0);
                    let s =
                        (c.iter().map(|v| (v - m).powi(2)).sum::<f64>() / c.len() as f64).sqrt();
                    if s > 1e-12 { s } else { 1.0 }
                })
                .collect(),
            None => vec![],
        };
        Ok(NearData {
            points,
            scale,
            weight,
        })
    }

    fn distance(&self, f: &str, x: &[f64]) -> RResult<f64> {
        let Some(p) = &self.points else {
            return Ok(x.iter().map(|v| v * v).sum::<f64>() / x.len().max(1) as f64);
        };
        if p.ncols() != x.len() {
            return fail(
                f,
                format!(
                    "near_data.points have {} columns, the candidates {}",
                    p.ncols(),
                    x.len()
                ),
            );
        }
        Ok(p.rows()
            .into_iter()
            .map(|r| {
                let s: f64 = r
                    .iter()
                    .zip(x)
                    .zip(&self.scale)
                    .map(|((a, b), s)| ((a - b) / s).powi(2))
                    .sum();
                (s / x.len() as f64).sqrt()
            })
            .fold(f64::INFINITY, f64::min))
    }
}

/// Everything a design run reads from its options.
struct Problem {
    space: Space,
    inputs: Inputs,
    model: SharedEnsemble,
    objective: FnPtr,
    constraints: Vec<FnPtr>,
    disagreement: f64,
    spread: f64,
    /// κ: constraints are judged at g(μ) − κ·σ_g (σ_g from the calibrated σ).
    margin: f64,
    /// Predictions averaged over each candidate's four symmetric images
    /// (`crate::learn::images`); descriptor inputs only.
    images: bool,
    /// Fewest grains a candidate's structure may have (a decoded image that cleans up
    /// into a handful of grains is not a nanocrystalline magnet).
    min_grains: usize,
    near_data: Option<NearData>,
    consistency: f64,
    bounds: Bounds,
    seed: u64,
}

/// One evaluated candidate.
struct Evaluated {
    structure: Structure,
    prediction: Map,
    objective: f64,
    violation: f64,
    penalties: Map,
    cost: f64,
}

impl Problem {
    /// The structures (and model inputs) of a batch of genes.
    fn realise(
        &self,
        f: &str,
        xs: &[Vec<f64>],
    ) -> RResult<(Vec<Structure>, Array2<f32>, Vec<f64>)> {
        use rayon::prelude::*;
        type Realised = (Vec<Structure>, Vec<f64>, Option<Array2<f32>>);
        let (structures, consistency, recoded): Realised = match &self.space {
            Space::Generator { law, seed } => {
                let s = xs
                    .par_iter()
                    .map(|x| generator_structure(law, *seed, x).map_err(|e| e.to_string()))
                    .collect::<Result<Vec<_>, String>>()
                    .map_err(|e| error(f, e))?;
                let n = s.len();
                (s, vec![0.0; n], None)
            }
            Space::Latent { vae, clean } => {
                let z = Array2::from_shape_fn((xs.len(), xs[0].len()), |(i, j)| xs[i][j] as f32);
                let vae = super::convert::lock(vae);
                let images = vae.decode(&z).map_err(error_in(f))?;
                let s = images
                    .outer_iter()
                    .collect::<Vec<_>>()
                    .into_par_iter()
                    .map(|im| crate::grains::clean(im, clean).map_err(|e| e.to_string()))
                    .collect::<Result<Vec<_>, String>>()
                    .map_err(|e| error(f, e))?;
                // The cleaned structures' own codes, for the consistency guard and for a
                // model on them.
                let zz = if self.consistency > 0.0 || self.inputs == Inputs::Recoded {
                    let e = vae.config().encoding;
                    let (ny, nx) = (images.shape()[2], images.shape()[3]);
                    let mut back = Array4::zeros((s.len(), e.channels(), ny, nx));
                    for (k, st) in s.iter().enumerate() {
                        e.encode_into(st, back.index_axis_mut(ndarray::Axis(0), k));
                    }
                    Some(vae.encode(&back).map_err(error_in(f))?)
                } else {
                    None
                };
                let c = match &zz {
                    Some(zz) if self.consistency > 0.0 => (0..s.len())
                        .map(|i| {
                            let d: f64 = (0..z.ncols())
                                .map(|j| (zz[[i, j]] as f64 - z[[i, j]] as f64).powi(2))
                                .sum();
                            (d / z.ncols() as f64).sqrt()
                        })
                        .collect(),
                    _ => vec![0.0; s.len()],
                };
                (s, c, zz)
            }
        };
        let inputs = match self.inputs {
            Inputs::Codes => {
                Array2::from_shape_fn((xs.len(), xs[0].len()), |(i, j)| xs[i][j] as f32)
            }
            // Recoded inputs exist only in the latent space, which `problem` enforces.
            Inputs::Recoded => recoded
                .ok_or_else(|| error(f, "option `inputs: \"recoded\"` needs space: \"latent\""))?,
            Inputs::Descriptors(set) if self.images => {
                crate::learn::images::image_rows(&set, structures.len(), |k| Ok(&structures[k]))
                    .map_err(|e| error(f, e))?
                    .mapv(|v| v as f32)
            }
            Inputs::Descriptors(set) => {
                crate::grains::descriptor_rows(&set, structures.len(), |k| Ok(&structures[k]))
                    .map_err(|e| error(f, e))?
                    .mapv(|v| v as f32)
            }
        };
        Ok((structures, inputs, consistency))
    }

    fn call(
        &self,
        ctx: &NativeCallContext,
        f: &str,
        what: &str,
        g: &FnPtr,
        p: &Map,
    ) -> RResult<f64> {
        let v: Dynamic = g.call_within_context(ctx, (p.clone(),))?;
        v.as_float()
            .ok()
            .or_else(|| v.as_int().ok().map(|i| i as f64))
            .ok_or_else(|| {
                error(
                    f,
                    format!(
                        "{what} must return a number, got {}",
                        crate::docs::type_of(&v)
                    ),
                )
            })
    }

    /// The standard deviation of closure `g` (value `g0` at `p`) propagated from
    /// per-anchor deviations `dev` by finite differences: √Σ_a (g(p + dev_a·e_a) − g0)².
    #[allow(clippy::too_many_arguments)]
    fn propagated(
        &self,
        ctx: &NativeCallContext,
        f: &str,
        what: &str,
        g: &FnPtr,
        p: &Map,
        mu: &Map,
        dev: &Map,
        names: &[String],
        g0: f64,
    ) -> RResult<f64> {
        let get = |m: &Map, n: &str| m.get(n).and_then(|v| v.as_float().ok()).unwrap_or(0.0);
        let mut var = 0.0;
        for n in names {
            let s = get(dev, n);
            if s > 0.0 {
                let mut q = p.clone();
                q.insert(n.as_str().into(), Dynamic::from_float(get(mu, n) + s));
                var += (self.call(ctx, f, what, g, &q)? - g0).powi(2);
            }
        }
        Ok(var.sqrt())
    }

    /// Predictions, objective, constraints and guards of a batch of genes.
    fn evaluate(
        &self,
        ctx: &NativeCallContext,
        f: &str,
        xs: &[Vec<f64>],
    ) -> RResult<Vec<Evaluated>> {
        if xs.is_empty() {
            return Ok(vec![]);
        }
        let (structures, inputs, consistency) = self.realise(f, xs)?;
        let (mean, sigma, spread, names) = {
            let e = super::convert::lock(&self.model);
            if e.config.inputs != inputs.ncols() {
                return fail(
                    f,
                    format!(
                        "the model takes {} inputs but the candidates give {} ({})",
                        e.config.inputs,
                        inputs.ncols(),
                        match self.inputs {
                            Inputs::Codes => "latent codes",
                            Inputs::Recoded => "codes of the cleaned structures",
                            Inputs::Descriptors(set) if set.coarse.is_some() =>
                                "descriptors with coarse-mesh anchors",
                            Inputs::Descriptors(_) =>
                                "descriptors; a model trained with coarse-mesh anchors needs the same `coarse`",
                        }
                    ),
                );
            }
            let (m, s, d) = if self.images {
                crate::learn::images::predict_images(&e, inputs.view())
            } else {
                e.predict_spread(inputs.view())
            }
            .map_err(error_in(f))?;
            (m, s, d, e.config.targets.clone())
        };
        let mut out = Vec::with_capacity(xs.len());
        for (i, structure) in structures.into_iter().enumerate() {
            super::check_interrupt(f)?;
            let row = |a: &Array2<f64>| -> Map {
                names
                    .iter()
                    .zip(a.row(i))
                    .map(|(n, &v)| (n.as_str().into(), Dynamic::from_float(v)))
                    .collect()
            };
            let (mu, sd, sp) = (row(&mean), row(&sigma), row(&spread));
            let mut p = mu.clone();
            p.insert("sigma".into(), sd.clone().into());
            p.insert("spread".into(), sp.clone().into());
            let objective = self.call(ctx, f, "objective", &self.objective, &p)?;
            let mut violation = 0.0;
            for (k, g) in self.constraints.iter().enumerate() {
                let what = format!("constraint {k}");
                let mut v = self.call(ctx, f, &what, g, &p)?;
                if self.margin > 0.0 && v.is_finite() {
                    // Judged κσ on the unsafe side: a constraint the model only
                    // believes in is not met.
                    v -=
                        self.margin * self.propagated(ctx, f, &what, g, &p, &mu, &sd, &names, v)?;
                }
                violation += if v.is_nan() { 1.0 } else { (-v).max(0.0) };
            }
            let grains = structure.n_grains();
            if grains < self.min_grains {
                violation += (self.min_grains - grains) as f64 / self.min_grains as f64;
            }
            let mut penalties = Map::new();
            let mut penalty = 0.0;
            for (key, lambda, dev) in [
                ("disagreement", self.disagreement, &sd),
                ("spread", self.spread, &sp),
            ] {
                if lambda > 0.0 {
                    let d = lambda
                        * self.propagated(
                            ctx,
                            f,
                            "objective",
                            &self.objective,
                            &p,
                            &mu,
                            dev,
                            &names,
                            objective,
                        )?;
                    penalties.insert(key.into(), d.into());
                    penalty += d;
                }
            }
            if let Some(nd) = &self.near_data {
                // Near the data the model learned from: its inputs (descriptors of the
                // candidate's structure, or its code); without points, the latent prior.
                let x: Vec<f64> = if nd.points.is_some() {
                    // With images, the candidate's own (the identity image's) descriptors.
                    let own = if self.images { i * IMAGES } else { i };
                    inputs.row(own).iter().map(|&v| v as f64).collect()
                } else {
                    xs[i].clone()
                };
                let d = nd.weight * nd.distance(f, &x)?;
                penalties.insert("near_data".into(), d.into());
                penalty += d;
            }
            if self.consistency > 0.0 {
                let d = self.consistency * consistency[i];
                penalties.insert("consistency".into(), d.into());
                penalty += d;
            }
            let base = if objective.is_finite() {
                -objective
            } else {
                f64::MAX / 4.0
            };
            let cost = if violation > 0.0 {
                INFEASIBLE * (1.0 + violation)
            } else {
                base + penalty
            };
            out.push(Evaluated {
                structure,
                prediction: p,
                objective,
                violation,
                penalties,
                cost,
            });
        }
        Ok(out)
    }
}

/// The structure of generator genes [ng, θ°]: ng rounded into the law's range, the seed a
/// hash of the run's seed and the rounded genes (so equal genes give equal structures).
fn generator_structure(
    law: &VoronoiOptions,
    seed: u64,
    x: &[f64],
) -> crate::grains::Result<Structure> {
    let (lo, hi) = law.grains_range;
    let ng = (x[0].round() as usize).clamp(lo, hi);
    let theta_deg = (x[1] * 1e6).round() / 1e6;
    let s = mix64(seed ^ mix64(ng as u64) ^ mix64(theta_deg.to_bits().rotate_left(17)));
    crate::grains::voronoi(&VoronoiOptions {
        grains: Some(ng),
        theta: Some(theta_deg.to_radians()),
        seed: s,
        ..law.clone()
    })
}

/// Reads the options both optimisers share; `kind` is "ga" or "cmaes".
fn problem(f: &'static str, o: &mut Opts) -> RResult<Problem> {
    let model = match o.value("model") {
        Some(m) => m.try_cast::<SharedEnsemble>().ok_or_else(|| {
            error(
                f,
                "option `model` must be an Ensemble (ensemble::train / ensemble::load)",
            )
        })?,
        None => {
            return fail(
                f,
                "option `model` is required: an Ensemble (ensemble::train / ensemble::load)",
            );
        }
    };
    let closure = |v: Option<Dynamic>, what: &str| -> RResult<FnPtr> {
        v.and_then(|v| v.try_cast::<FnPtr>())
            .ok_or_else(|| error(f, format!("option `{what}` must be a function |p| … returning a number (p = #{{ M1, Mr, …, Hc, sigma: #{{ … }} }})")))
    };
    let objective = closure(o.value("objective"), "objective")?;
    let constraints = match o.value("constraints") {
        None => vec![],
        Some(v) => {
            let Some(a) = v.try_cast::<Array>() else {
                return fail(
                    f,
                    "option `constraints` must be an array of functions |p| … (≥ 0 when satisfied)",
                );
            };
            a.into_iter()
                .map(|c| closure(Some(c), "constraints[k]"))
                .collect::<RResult<Vec<_>>>()?
        }
    };
    let disagreement = o.float("disagreement", 0.0, 0.0, 1e12)?;
    let spread = o.float("spread", 0.0, 0.0, 1e12)?;
    let consistency = o.float("consistency", 0.0, 0.0, 1e12)?;
    let margin = o.float("margin", 0.0, 0.0, 1e6)?;
    let min_grains = o.int("min_grains", 1, 1, 1_000_000)? as usize;
    let near_data = o
        .value("near_data")
        .map(|v| NearData::new(f, v))
        .transpose()?;
    let seed = o.seed("seed", crate::settings::seed())?;
    let space = o.choice("space", &["generator", "latent"])?;
    let asked = o.descriptor_set()?;
    let choice = o.choice("inputs", &["descriptors", "codes", "recoded"])?;
    let set = if choice == "descriptors" {
        super::ensemble::descriptor_set_of(f, &model, asked)?
    } else {
        asked
    };
    let inputs = match choice {
        "codes" => Inputs::Codes,
        "recoded" => Inputs::Recoded,
        _ => Inputs::Descriptors(set),
    };
    let images = o.bool("images", false)?;
    if images && !matches!(inputs, Inputs::Descriptors(_)) {
        return fail(
            f,
            "option `images` averages predictions over a structure's symmetric images: it \
             needs inputs: \"descriptors\" (codes have no images)",
        );
    }
    if set.coarse.is_some() && !matches!(inputs, Inputs::Descriptors(_)) {
        return fail(
            f,
            "option `coarse` adds to descriptors; it does not go with inputs: \"codes\" or \"recoded\"",
        );
    }
    let (space, bounds) = if space == "generator" {
        let law = match o.value("generator") {
            None => VoronoiOptions::square(64),
            Some(v) => {
                let Some(m) = v.try_cast::<Map>() else {
                    return fail(
                        f,
                        "option `generator` must be a map like grains::voronoi's: #{ n: 64, cell_nm: 2.0, grains_range: \"density\" }",
                    );
                };
                let mut g = Opts::new(f, m);
                let law = read_voronoi_options(f, &mut g)?;
                g.finish()?;
                law
            }
        };
        let theta = o.range_opt("theta_deg")?.unwrap_or((0.0, 180.0));
        let (lo, hi) = law.grains_range;
        let bounds = Bounds::new(
            vec![lo as f64 - 0.49, theta.0],
            vec![hi as f64 + 0.49, theta.1],
        )
        .map_err(error_in(f))?;
        for key in ["vae", "box", "clean"] {
            if o.value(key).is_some() {
                return fail(f, format!("option `{key}` needs space: \"latent\""));
            }
        }
        if consistency > 0.0 {
            return fail(f, "option `consistency` needs space: \"latent\"");
        }
        if near_data.as_ref().is_some_and(|n| n.points.is_none()) {
            return fail(
                f,
                "option `near_data` needs `points` (the training descriptors) in the generator \
                 space; the prior without points is for space: \"latent\"",
            );
        }
        if !matches!(inputs, Inputs::Descriptors(_)) {
            return fail(
                f,
                "option `inputs: \"codes\"` or `\"recoded\"` needs space: \"latent\" (a \
                 generator's candidates have descriptors, not codes)",
            );
        }
        (Space::Generator { law, seed }, bounds)
    } else {
        for key in ["generator", "theta_deg"] {
            if o.value(key).is_some() {
                return fail(f, format!("option `{key}` needs space: \"generator\""));
            }
        }
        let vae = o
            .value("vae")
            .and_then(|v| v.try_cast::<SharedVae>())
            .ok_or_else(|| {
                error(
                    f,
                    "space \"latent\" needs option `vae`: a Vae (vae::create / vae::load)",
                )
            })?;
        let latent = super::convert::lock(&vae).config().latent;
        let encoding = super::convert::lock(&vae).config().encoding;
        let half = o.float("box", 3.0, 1e-6, 1e6)?;
        let clean = clean_options(f, o.value("clean"), encoding)?;
        let bounds = Bounds::new(vec![-half; latent], vec![half; latent]).map_err(error_in(f))?;
        (Space::Latent { vae, clean }, bounds)
    };
    Ok(Problem {
        space,
        inputs,
        model,
        objective,
        constraints,
        disagreement,
        spread,
        margin,
        images,
        min_grains,
        near_data,
        consistency,
        bounds,
        seed,
    })
}

/// The run: search, drive, best candidates.
fn run(ctx: &NativeCallContext, f: &'static str, opts: Map, kind: &str) -> RResult<Map> {
    let mut o = Opts::new(f, opts);
    let pb = problem(f, &mut o)?;
    let seed = pb.seed;
    let generations = o.int("generations", 15, 0, 1_000_000)? as usize;
    let top = o.int("top", 8, 1, 10_000)? as usize;
    let state: Option<PathBuf> = o.string_opt("state")?.map(PathBuf::from);
    let resume = o.bool("resume", true)?;
    let fresh = if kind == "ga" {
        let d = GaConfig::default();
        let config = GaConfig {
            population: o.int("population", d.population as i64, 2, 100_000)? as usize,
            elite: o.int("elite", d.elite as i64, 0, 100_000)? as usize,
            tournament: o.int("tournament", d.tournament as i64, 1, 1000)? as usize,
            crossover: o.float("crossover", d.crossover, 0.0, 1.0)?,
            eta: o.float("eta", d.eta, 0.0, 1e6)?,
            mutation: o.float("mutation", d.mutation, 0.0, 10.0)?,
            mutation_rate: o.float_opt("mutation_rate", 0.0, 1.0)?,
            decay: o.float("decay", d.decay, 1e-6, 1.0)?,
            keep: top,
        };
        Search::Ga(Ga::new(pb.bounds.clone(), config, seed).map_err(error_in(f))?)
    } else {
        let d = CmaesConfig::default();
        let config = CmaesConfig {
            population: o.int_opt("population", 4, 100_000)?.map(|p| p as usize),
            sigma: o.float("sigma", d.sigma, 1e-9, 1.0)?,
            mean: None,
            keep: top,
        };
        Search::Cmaes(Cmaes::new(pb.bounds.clone(), config, seed).map_err(error_in(f))?)
    };
    o.finish()?;
    let mut search = match &state {
        Some(p) if resume && p.exists() => {
            let s = Search::load(p).map_err(|e| error(f, format!("state {}: {e}", p.display())))?;
            if s.kind() != fresh.kind() || s.bounds() != fresh.bounds() {
                return fail(
                    f,
                    format!(
                        "state {} holds a {} run over another box; remove it or pass resume: false",
                        p.display(),
                        s.kind()
                    ),
                );
            }
            s
        }
        _ => fresh,
    };
    let mut evaluations = 0usize;
    let r = drive::<Box<EvalAltResult>>(&mut search, generations, state.as_deref(), f, |xs| {
        evaluations += xs.len();
        Ok(pb.evaluate(ctx, f, xs)?.iter().map(|e| e.cost).collect())
    });
    let stop = match r {
        Ok(s) => s,
        Err(_) if crate::interrupt::requested() => Stop::Interrupted,
        Err(e) => return Err(e),
    };
    if stop == Stop::Interrupted {
        crate::display::note(&format!(
            "{f}: interrupted after generation {}; the state keeps it; the script goes on (Ctrl-C again stops it)",
            search.generation()
        ));
        crate::interrupt::reset();
    }
    // The archive's best, evaluated again for their structures and predictions.
    let best = &search.archive().best;
    let xs: Vec<Vec<f64>> = best.iter().map(|s| s.x.clone()).collect();
    let evaluated = pb.evaluate(ctx, f, &xs)?;
    let mut out = Array::new();
    for (s, e) in best.iter().zip(evaluated) {
        let mut m = Map::new();
        m.insert(
            "structure".into(),
            Dynamic::from(Arc::new(e.structure) as SharedStructure),
        );
        m.insert(
            "genes".into(),
            s.x.iter()
                .map(|&v| Dynamic::from_float(v))
                .collect::<Array>()
                .into(),
        );
        if let Space::Generator { law, .. } = &pb.space {
            let (lo, hi) = law.grains_range;
            m.insert(
                "grains".into(),
                Dynamic::from_int((s.x[0].round() as i64).clamp(lo as i64, hi as i64)),
            );
            m.insert(
                "theta_deg".into(),
                Dynamic::from_float((s.x[1] * 1e6).round() / 1e6),
            );
        }
        m.insert("predicted".into(), e.prediction.into());
        m.insert("objective".into(), e.objective.into());
        m.insert("feasible".into(), (e.violation == 0.0).into());
        m.insert("penalties".into(), e.penalties.into());
        m.insert("cost".into(), e.cost.into());
        m.insert("generation".into(), Dynamic::from_int(s.generation as i64));
        out.push(m.into());
    }
    let mut r = Map::new();
    r.insert("best".into(), out.into());
    r.insert(
        "generations".into(),
        Dynamic::from_int(search.generation() as i64),
    );
    r.insert("evaluations".into(), Dynamic::from_int(evaluations as i64));
    r.insert(
        "stopped".into(),
        (if stop == Stop::Interrupted {
            "interrupted"
        } else {
            "done"
        })
        .into(),
    );
    Ok(r)
}

impl From<DesignError> for Box<EvalAltResult> {
    fn from(e: DesignError) -> Self {
        error("design", e)
    }
}

#[export_module]
pub mod design_module {
    use super::*;

    /// Inverse design by a genetic algorithm (tournament selection, SBX crossover,
    /// Gaussian mutation, elitism, box bounds): `design::ga(#{ model: e, objective: |p| p.Hc,
    /// constraints: [|p| p.Mr - 0.8], space: "generator", generator: #{ n: 64, cell_nm:
    /// 2.0, grains_range: "density" }, theta_deg: [0, 180], generations: 15, population:
    /// 24, elite: 2, tournament: 2, crossover: 0.9, eta: 15, mutation: 0.1, mutation_rate:
    /// 0.5, decay: 0.98, seed: 1, top: 8, state: "ga.json", resume: true, disagreement:
    /// 1.0, near_data: #{ points: X, weight: 0.1 } })`.
    ///
    /// `model`: an Ensemble on descriptors (`grains::descriptors`) or, with `space:
    /// "latent"`, on latent codes: `inputs: "codes"` gives it the search's code z,
    /// `inputs: "recoded"` the code of the structure the solver will see,
    /// encode(clean(decode(z))), as the training records' codes are those of real
    /// structures (`v.encode(records)`); `coarse: f` (and `coarse_exchange`, `coarse_anisotropy`) for a model
    /// trained on `grains::descriptors(…, #{ coarse: f })` (each candidate's curve on the
    /// coarse mesh is then computed, through the curve cache). `objective` is maximised; every
    /// constraint must be ≥ 0 (a broken one costs 1e6·(1 + violation)). Both are closures
    /// over `p = #{ M1, Mr, Hk90, Hk80, Hk70, Hc, sigma: #{ … }, spread: #{ … } }`: the
    /// predicted mean, its calibrated σ and the members' spread.
    ///
    /// Spaces: `"generator"` — genes (ng, θ°), ng rounded into the law's `grains_range`;
    /// every candidate is a real `grains::voronoi` structure whose seed hashes the run's
    /// seed and the genes. `"latent"` — `vae: v`, z in [−box, box]^latent (`box: 3`), each
    /// decoded and cleaned (`clean: #{ min_cells, k }`, see `grains::clean`).
    ///
    /// Guards, each off unless given: `disagreement: λ` adds λ·σ of the objective
    /// (propagated from the anchors' calibrated σ); `spread: λ` the same with the
    /// members' spread (their disagreement before the error model); `near_data: #{
    /// points, weight }` adds weight × the standardised RMS distance from the model's
    /// inputs (the candidate's descriptors, or its code with `inputs: "codes"|"recoded"`) to the
    /// nearest of `points` (the training inputs); without `points`, in the latent space
    /// only, the prior ‖z‖²/d;
    /// `consistency: w` (latent only) adds w·‖encode(clean(decode(z))) − z‖/√d;
    /// `margin: κ` judges every constraint at g(μ) − κ·σ_g (σ_g propagated like the
    /// objective's), so a constraint the model is unsure of is not taken as met.
    /// `images: true` averages each candidate's prediction (mean, σ, spread) over its four
    /// symmetric images (`e.predict_images`), so a magnet and its mirror image score the
    /// same: with coarse-mesh anchors, four coarse curves per candidate.
    /// `min_grains: n` (default 1) makes a candidate whose structure has fewer than n
    /// grains infeasible (decoded latent codes can clean up into a handful of grains).
    ///
    /// `state`: the optimiser's JSON, written atomically after each generation; an
    /// existing one is resumed (`resume: false` starts afresh). Ctrl-C stops between
    /// generations and keeps the last one. Returns `#{ best: [#{ structure, genes,
    /// grains, theta_deg, predicted, objective, feasible, penalties, cost, generation }],
    /// generations, evaluations, stopped }`, best first.
    #[rhai_fn(return_raw)]
    pub fn ga(ctx: NativeCallContext, opts: Map) -> RResult<Map> {
        crate::api::located(&ctx, run(&ctx, "design::ga", opts, "ga"))
    }

    /// Inverse design by CMA-ES ((μ/μ_w, λ), rank-one and rank-μ updates, step-size
    /// adaptation, in the box mapped to [0, 1]^d): the options of `design::ga` with
    /// `population` (λ, default 4 + ⌊3 ln d⌋) and `sigma` (initial step in box units,
    /// 0.3) instead of the GA's operators: `design::cmaes(#{ model: e, objective: |p| p.Hk90,
    /// constraints: [|p| 0.02 - (p.Mr - 0.85).abs()], generations: 15, seed: 1 })`.
    #[rhai_fn(return_raw)]
    pub fn cmaes(ctx: NativeCallContext, opts: Map) -> RResult<Map> {
        crate::api::located(&ctx, run(&ctx, "design::cmaes", opts, "cmaes"))
    }
}

pub fn module() -> Module {
    exported_module!(design_module)
}
