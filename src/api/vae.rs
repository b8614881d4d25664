//! The `vae` module: the variational autoencoder of the paper's Table 1 — build, train on
//! a Sample (or any raster source), encode structures to latent codes, decode codes to
//! images and structures, save and load checkpoints.

use super::convert::{device_option, history_array, lock, seed_and_device, shared};
use super::latent::{all_ids, codes_in, codes_out, image_of, structure_of, with_source};
use super::opts::Opts;
use super::{MAX_EPOCHS, RResult, error, error_in, fail};
use crate::array::NdArray;
use crate::learn::{Supervision, Vae, VaeConfig, VaeTrain};
use rhai::plugin::*;
use rhai::{Array, Map};
use std::sync::{Arc, Mutex};

/// A VAE as scripts hold it: one network shared by every copy of the handle.
pub type SharedVae = Arc<Mutex<Vae>>;

fn config(func: &'static str, o: &mut Opts) -> RResult<VaeConfig> {
    let n = o.int_opt("n", 1, 1 << 14)?;
    let nx = o.int_opt("nx", 1, 1 << 14)?.or(n).unwrap_or(160) as usize;
    let ny = o.int_opt("ny", 1, 1 << 14)?.or(n).unwrap_or(160) as usize;
    let channels = o.int_opt("channels", 1, 2)?;
    let enc = match (o.string_opt("encoding")?, channels) {
        (Some(e), c) => {
            let e = crate::api::grains::encoding(func, &e)?;
            if c.is_some_and(|c| c as usize != e.channels()) {
                return fail(
                    func,
                    format!(
                        "encoding \"{}\" has {} channel(s), not {}",
                        e,
                        e.channels(),
                        c.unwrap_or(0)
                    ),
                );
            }
            e
        }
        (None, Some(2)) => crate::grains::Encoding::Axis,
        (None, _) => crate::grains::Encoding::Kx,
    };
    let latent = o.int("latent", 512, 1, crate::learn::vae::MAX_LATENT as i64)? as usize;
    let mut c = VaeConfig::new(nx, ny, enc, latent);
    c.kl_weight = o.float("kl_weight", c.kl_weight, 0.0, 1e6)?;
    if o.bool("label_head", false)? {
        c.labels = crate::solver::ANCHOR_NAMES.len();
    }
    Ok(c)
}

/// The `labelled` option of `Vae.train`, read.
struct Labelled {
    structures: Dynamic,
    anchors: ndarray::Array2<f64>,
    weight: f64,
    batch: usize,
}

fn labelled_opts(f: &'static str, v: Dynamic) -> RResult<Labelled> {
    let Some(map) = v.read_lock::<Map>().map(|m| m.clone()) else {
        return fail(
            f,
            format!(
                "option `labelled` must be a map #{{ structures, anchors, weight, batch }}, got {}",
                crate::docs::type_of(&v)
            ),
        );
    };
    let mut o = Opts::new(f, map);
    let need = |what: &str| error(f, format!("option `labelled` needs `{what}`"));
    let structures = o.value("structures").ok_or_else(|| need("structures"))?;
    let anchors = o.value("anchors").ok_or_else(|| need("anchors"))?;
    let names: Vec<String> = crate::solver::ANCHOR_NAMES
        .iter()
        .map(|s| s.to_string())
        .collect();
    let anchors = crate::api::regressor::targets_in(f, &anchors, &names)?;
    let n = crate::api::structures::Structures::from_value(f, &structures)?.len();
    if anchors.nrows() != n {
        return fail(
            f,
            format!(
                "`labelled` has {n} structures and {} row(s) of anchors; they must match",
                anchors.nrows()
            ),
        );
    }
    let l = Labelled {
        structures,
        anchors,
        weight: o.float("weight", 1.0, 0.0, 1e6)?,
        batch: o.int("batch", 16, 1, 1 << 16)? as usize,
    };
    o.finish()?;
    Ok(l)
}

fn describe(v: &Vae) -> String {
    let c = v.config();
    let (e, d) = v.parameter_counts();
    let head = match c.labels {
        0 => String::new(),
        n => format!(", label head {n}"),
    };
    format!(
        "Vae({}×{} {}, latent {}{head}, {} + {} parameters, {} epochs trained)",
        c.nx,
        c.ny,
        c.encoding,
        c.latent,
        e,
        d,
        v.history().len()
    )
}

#[export_module]
pub mod vae_module {
    use super::*;

    /// The paper's VAE: 160×160 k_x rasters, latent 512 (Table 1).
    #[rhai_fn(name = "create", return_raw)]
    pub fn new_default(ctx: NativeCallContext) -> RResult<SharedVae> {
        new(ctx, Map::new())
    }

    /// A freshly initialised VAE sized from the grid and encoding: `vae::create(#{ n: 64,
    /// encoding: "kx", latent: 32, kl_weight: 1e-4, label_head: false, seed: 1, device:
    /// "cpu" })`. `n` (or `nx`/`ny`) must be a multiple of 32; `channels: 2` is the same as
    /// `encoding: "axis"`. `label_head: true` adds a linear map from the code to the six
    /// anchors, for training with `labelled` structures.
    #[rhai_fn(name = "create", return_raw)]
    pub fn new(ctx: NativeCallContext, opts: Map) -> RResult<SharedVae> {
        let f = "vae::create";
        crate::api::located(
            &ctx,
            (|| {
                let mut o = Opts::new(f, opts);
                let c = config(f, &mut o)?;
                let (seed, device) = seed_and_device(f, o)?;
                shared(f, Vae::new(c, device, seed))
            })(),
        )
    }

    /// Loads a checkpoint written by `v.save(path)` (`path` with or without
    /// `.safetensors`/`.json`); weights that do not match the config are refused.
    #[rhai_fn(return_raw)]
    pub fn load(ctx: NativeCallContext, path: &str) -> RResult<SharedVae> {
        let f = "vae::load";
        crate::api::located(
            &ctx,
            (|| shared(f, Vae::load(path, crate::settings::device().to_tch())))(),
        )
    }

    /// Trains on a Dataset, a Sample or an array of Structures: `v.train(sample, #{ epochs: 10,
    /// batch: 64, lr: 1e-4, seed: 0, ids: [0, 1, …], augment: false, device: "cpu" })`
    /// (NAdam; every record unless `ids`). `augment: true` shows each raster mirrored in x
    /// or y, turned by 180° or as is — transforms that keep its demagnetisation curve —
    /// drawn per (seed, epoch, record). More calls continue training (also after
    /// `vae::load`). Returns the history of this call; Ctrl-C keeps the weights of the
    /// last finished epoch.
    ///
    /// `labelled: #{ structures: train, anchors: y, weight: 1.0, batch: 16 }` (a VAE made
    /// with `label_head: true`) adds `batch` labelled structures to every step; the label
    /// head must read their anchors (maps like `curve.anchors()`, or an NdArray [n, 6])
    /// from the code, so the codes carry what the regressors need. Only training labels
    /// belong here: a test structure's label in the VAE leaks into every code model.
    #[rhai_fn(global, name = "train", return_raw)]
    pub fn train(v: &mut SharedVae, source: Dynamic, opts: Map) -> RResult<Array> {
        let f = "Vae.train";
        let mut o = Opts::new(f, opts);
        let d = VaeTrain::default();
        let t = VaeTrain {
            epochs: o.int("epochs", d.epochs as i64, 0, MAX_EPOCHS)? as usize,
            batch: o.int("batch", d.batch as i64, 1, 1 << 16)? as usize,
            lr: o.float("lr", d.lr, 0.0, 10.0)?,
            seed: o.seed("seed", crate::settings::seed())?,
            augment: o.bool("augment", d.augment)?,
        };
        let ids = o.value("ids");
        let labelled = o
            .value("labelled")
            .map(|l| labelled_opts(f, l))
            .transpose()?;
        let device = device_option(f, &mut o)?;
        o.finish()?;
        let mut vae = lock(v);
        vae.to_device(device);
        let before = vae.history().len();
        with_source(f, &source, |src, _| {
            let ids = match &ids {
                Some(d) => crate::api::convert::positions(f, "ids", d, src.len())?,
                None => all_ids(f, src)?,
            };
            let Some(l) = &labelled else {
                return crate::api::trained(f, vae.train(src, &ids, &t));
            };
            with_source(f, &l.structures, |lsrc, _| {
                let sup = Supervision {
                    source: lsrc,
                    ids: all_ids(f, lsrc)?,
                    targets: l.anchors.clone(),
                    weight: l.weight,
                    batch: l.batch,
                };
                crate::api::trained(f, vae.train_supervised(src, &ids, &t, Some(&sup)))
            })
        })?;
        Ok(history_array(&vae.history()[before..]))
    }

    /// Latent means: a Structure gives a 1-d code [latent], a Dataset, a Sample or an array of
    /// Structures a 2-d array [n, latent]: `let z = v.encode(s);`.
    #[rhai_fn(global, name = "encode", return_raw)]
    pub fn encode(v: &mut SharedVae, source: Dynamic) -> RResult<NdArray> {
        let f = "Vae.encode";
        let vae = lock(v);
        with_source(f, &source, |src, one| {
            let ids = all_ids(f, src)?;
            let z = vae.encode_source(src, &ids, 64).map_err(error_in(f))?;
            Ok(codes_out(z, one))
        })
    }

    /// How much of the rasters of a Structure, an array of Structures, a Sample or a Dataset
    /// the VAE gives back: each is encoded to its latent mean and decoded (no sampling);
    /// `#{ mse, variance, r2 }` with `mse` the mean squared error over records, channels
    /// and cells, `variance` that of the input values and r2 = 1 − mse / variance
    /// (NaN for constant inputs): `v.reconstruction(test).r2`.
    #[rhai_fn(global, name = "reconstruction", return_raw)]
    pub fn reconstruction(v: &mut SharedVae, source: Dynamic) -> RResult<Map> {
        let f = "Vae.reconstruction";
        let vae = lock(v);
        let r = with_source(f, &source, |src, _| {
            let ids = all_ids(f, src)?;
            vae.reconstruction(src, &ids).map_err(error_in(f))
        })?;
        let mut m = Map::new();
        m.insert("mse".into(), r.mse.into());
        m.insert("variance".into(), r.variance.into());
        m.insert("r2".into(), r.r2.into());
        Ok(m)
    }

    /// Decodes codes: a 1-d code gives `#{ image, structure }` (the tanh output, [ny, nx]
    /// for k_x or [2, ny, nx] for axis, and its nearest-colormap Structure of 2 nm cells);
    /// a 2-d array [n, latent] gives an array of such maps: `v.decode(z).structure`.
    #[rhai_fn(global, name = "decode", return_raw)]
    pub fn decode(v: &mut SharedVae, z: NdArray) -> RResult<Dynamic> {
        let f = "Vae.decode";
        let (z, one) = codes_in(f, &z)?;
        if z.nrows() > 4096 {
            return fail(f, "at most 4096 codes at once");
        }
        let vae = lock(v);
        let x = vae.decode(&z).map_err(error_in(f))?;
        let e = vae.config().encoding;
        let maps = x
            .outer_iter()
            .map(|r| {
                let mut m = Map::new();
                m.insert("image".into(), Dynamic::from(image_of(r.view())));
                m.insert(
                    "structure".into(),
                    Dynamic::from(structure_of(
                        f,
                        r.view(),
                        e,
                        crate::grains::DEFAULT_CELL_NM,
                    )?),
                );
                Ok(Dynamic::from_map(m))
            })
            .collect::<RResult<Array>>()?;
        Ok(if one {
            maps.into_iter().next().unwrap_or(Dynamic::UNIT)
        } else {
            Dynamic::from_array(maps)
        })
    }

    /// Writes `path.safetensors` (weights), `path.json` (architecture, encoding, history,
    /// optimiser settings) and, once trained, `path.optim.safetensors`: `v.save("out/vae")`.
    #[rhai_fn(global, name = "save", return_raw)]
    pub fn save(v: &mut SharedVae, path: &str) -> RResult<()> {
        lock(v).save(path).map_err(error_in("Vae.save"))
    }

    /// Trainable parameters of encoder and decoder together (29 720 057 at 160², latent 512).
    #[rhai_fn(global, pure)]
    pub fn parameter_count(v: &mut SharedVae) -> i64 {
        lock(v).parameter_count() as i64
    }

    /// `#{ encoder, decoder }` parameter counts (Table 1: 15 382 256 and 14 338 801).
    #[rhai_fn(global, pure)]
    pub fn parameter_counts(v: &mut SharedVae) -> Map {
        let (e, d) = lock(v).parameter_counts();
        let mut m = Map::new();
        m.insert("encoder".into(), (e as i64).into());
        m.insert("decoder".into(), (d as i64).into());
        m
    }

    /// Latent size.
    #[rhai_fn(global, get = "latent", pure)]
    pub fn latent(v: &mut SharedVae) -> i64 {
        lock(v).config().latent as i64
    }

    /// The architecture as a map `#{ nx, ny, encoding, channels, latent, kl_weight, … }`.
    #[rhai_fn(global, name = "config", pure, return_raw)]
    pub fn vae_config(v: &mut SharedVae) -> RResult<Dynamic> {
        rhai::serde::to_dynamic(lock(v).config()).map_err(|e| error("Vae.config", e))
    }

    /// Every finished epoch: `#{ epoch, loss, reconstruction, kl, seconds, samples }`.
    #[rhai_fn(global, name = "history", pure)]
    pub fn vae_history(v: &mut SharedVae) -> Array {
        history_array(lock(v).history())
    }

    /// `Vae(160×160 kx, latent 512, 15382256 + 14338801 parameters, 0 epochs trained)`.
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn vae_to_string(v: &mut SharedVae) -> String {
        describe(&lock(v))
    }
}

pub fn module() -> Module {
    let mut m = exported_module!(vae_module);
    m.set_custom_type::<SharedVae>("Vae");
    m
}
