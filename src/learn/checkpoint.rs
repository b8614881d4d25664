//! Checkpoints: `STEM.safetensors` (the weights, named like `encoder.conv1.weight`),
//! `STEM.json` (kind, architecture, encoding, scaler, optimiser settings, training history
//! and the name and shape of every tensor) and, when the model was trained,
//! `STEM.optim.safetensors` (NAdam's moments, to resume training). All three load in
//! Python without coercive (`safetensors.torch.load_file`, `json.load`).
//!
//! Loading builds the model from the JSON and then refuses weights whose names or shapes
//! differ from what that architecture needs, naming the first difference, weights that are
//! not finite, and weights whose checksum differs from the one the JSON recorded.

use super::nadam::{NAdam, NAdamConfig, NAdamScalars};
use super::{LearnError, Result};
use crate::fsio;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use tch::{Tensor, nn::VarStore};

/// Version of the checkpoint layout written by this build.
pub const FORMAT: u32 = 1;

/// The JSON beside the weights; `model` is the model's own config (+ scaler, …).
#[derive(Serialize, Deserialize)]
pub struct Meta<M> {
    pub kind: String,
    pub format: u32,
    #[serde(flatten)]
    pub model: M,
    pub history: Vec<super::EpochRecord>,
    pub optimizer: Option<OptimizerMeta>,
    /// Name → shape of every tensor in the weights file.
    pub tensors: BTreeMap<String, Vec<i64>>,
    /// [`checksum`] of the weights (absent in checkpoints written before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
}

#[derive(Serialize, Deserialize, Clone)]
pub struct OptimizerMeta {
    pub name: String,
    #[serde(flatten)]
    pub config: NAdamConfig,
    #[serde(flatten)]
    pub scalars: NAdamScalars,
}

/// The three files of a checkpoint named by its stem, `STEM.safetensors` or `STEM.json`.
pub struct Paths {
    pub weights: PathBuf,
    pub config: PathBuf,
    pub optim: PathBuf,
}

pub fn paths(path: impl AsRef<Path>) -> Paths {
    let p = path.as_ref();
    let stem = match p.extension().and_then(|e| e.to_str()) {
        Some("safetensors" | "json") => p.with_extension(""),
        _ => p.to_path_buf(),
    };
    let with = |ext: &str| {
        let mut s = stem.clone().into_os_string();
        s.push(ext);
        PathBuf::from(s)
    };
    Paths {
        weights: with(".safetensors"),
        config: with(".json"),
        optim: with(".optim.safetensors"),
    }
}

/// Refuses a stem without a name (`""`, `"."`, `"out/"`), which would write hidden files
/// such as `.safetensors`.
pub fn check_stem(path: impl AsRef<Path>) -> Result<()> {
    let weights = paths(&path).weights;
    let name = weights.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let stem = name.strip_suffix(".safetensors").unwrap_or(name);
    if stem.trim_matches('.').is_empty()
        || path.as_ref().as_os_str().to_string_lossy().ends_with('/')
    {
        return Err(LearnError::msg(format!(
            "checkpoint path {:?}: expected a file stem such as \"out/model\" (the files would be hidden: {})",
            path.as_ref().display(),
            weights.display()
        )));
    }
    Ok(())
}

/// SHA-256 of every tensor's name, shape and values (as f64) in name order; refuses a
/// tensor holding NaN or infinity, which no training keeps (it stops on a non-finite loss).
pub fn checksum(tensors: &BTreeMap<String, Tensor>) -> Result<String> {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for (name, t) in tensors {
        let values = Vec::<f64>::try_from(t.to_kind(tch::Kind::Double).flatten(0, -1))?;
        if let Some(v) = values.iter().find(|v| !v.is_finite()) {
            return Err(LearnError::msg(format!(
                "tensor `{name}` holds {v}: the weights are not finite (diverged training or \
                 a damaged file)"
            )));
        }
        h.update((name.len() as u64).to_le_bytes());
        h.update(name.as_bytes());
        for d in t.size() {
            h.update(d.to_le_bytes());
        }
        for v in values {
            h.update(v.to_le_bytes());
        }
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

fn shapes(vs: &VarStore) -> BTreeMap<String, Vec<i64>> {
    vs.variables()
        .into_iter()
        .map(|(n, t)| (n, t.size()))
        .collect()
}

/// Writes the three files (the optimiser's only when given), each to a temporary file first:
/// they replace the old checkpoint only once all are written.
pub fn save<M: Serialize>(
    path: impl AsRef<Path>,
    kind: &str,
    model: &M,
    history: &[super::EpochRecord],
    vs: &VarStore,
    opt: Option<&NAdam>,
) -> Result<()> {
    check_stem(&path)?;
    let p = paths(path);
    if let Some(dir) = p.weights.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let cpu: BTreeMap<String, Tensor> = vs
        .variables()
        .into_iter()
        .map(|(n, t)| (n, t.to_device(tch::Device::Cpu)))
        .collect();
    let meta = Meta {
        kind: kind.into(),
        format: FORMAT,
        model,
        history: history.to_vec(),
        optimizer: opt.map(|o| OptimizerMeta {
            name: "NAdam".into(),
            config: o.config,
            scalars: o.scalars,
        }),
        tensors: shapes(vs),
        checksum: Some(checksum(&cpu)?),
    };
    let cpu: Vec<(String, Tensor)> = vs
        .variables()
        .into_iter()
        .map(|(n, t)| (n, t.to_device(tch::Device::Cpu)))
        .collect();
    let json = serde_json::to_string_pretty(&meta)?;
    let mut staged = vec![fsio::stage_via(&p.weights, |tmp| {
        Tensor::write_safetensors(&cpu, tmp).map_err(LearnError::from)
    })?];
    if let Some(o) = opt {
        let state: Vec<(String, Tensor)> = o
            .state()
            .into_iter()
            .map(|(n, t)| (n, t.to_device(tch::Device::Cpu)))
            .collect();
        staged.push(fsio::stage_via(&p.optim, |tmp| {
            Tensor::write_safetensors(&state, tmp).map_err(LearnError::from)
        })?);
    }
    staged.push(fsio::stage(&p.config, |w| w.write_all(json.as_bytes()))?);
    fsio::commit_all(staged)?;
    if opt.is_none() {
        let _ = std::fs::remove_file(&p.optim);
    }

    let cpu: Vec<(String, Tensor)> = cpu.into_iter().collect();
    Tensor::write_safetensors(&cpu, &p.weights)?;
    match opt {
        Some(o) => {
            let state: Vec<(String, Tensor)> = o
                .state()
                .into_iter()
                .map(|(n, t)| (n, t.to_device(tch::Device::Cpu)))
                .collect();
            Tensor::write_safetensors(&state, &p.optim)?
        }
        None => {
            let _ = std::fs::remove_file(&p.optim);
        }
    }
    Ok(())
}

/// Reads the JSON of a checkpoint of `kind`.
pub fn read_meta<M: for<'de> Deserialize<'de>>(
    path: impl AsRef<Path>,
    kind: &str,
) -> Result<Meta<M>> {
    let p = paths(path);
    let text = std::fs::read_to_string(&p.config)
        .map_err(|e| LearnError::msg(format!("{}: {e}", p.config.display())))?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| LearnError::msg(format!("{}: {e}", p.config.display())))?;
    let got = v.get("kind").and_then(|k| k.as_str()).unwrap_or("?");
    if got != kind {
        return Err(LearnError::msg(format!(
            "{} is a `{got}` checkpoint, not a `{kind}` one",
            p.config.display()
        )));
    }
    serde_json::from_value(v).map_err(|e| LearnError::msg(format!("{}: {e}", p.config.display())))
}

/// Copies the weights file into `vs`, whose variables the config's architecture made;
/// any missing, extra or differently shaped tensor, non-finite weights or a checksum other
/// than `want_sum` (the JSON's) refuses the checkpoint.
pub fn load_weights(
    path: impl AsRef<Path>,
    vs: &mut VarStore,
    want_sum: Option<&str>,
) -> Result<()> {
    let p = paths(path);
    let named = Tensor::read_safetensors(&p.weights)
        .map_err(|e| LearnError::msg(format!("{}: {e}", p.weights.display())))?;
    let file: BTreeMap<String, Tensor> = named.into_iter().collect();
    let want = vs.variables();
    let mismatch = |what: String| {
        LearnError::msg(format!(
            "checkpoint {} does not match its config {}: {what}",
            p.weights.display(),
            p.config.display()
        ))
    };
    let mut names: Vec<&String> = want.keys().collect();
    names.sort();
    for name in names {
        let t = file
            .get(name)
            .ok_or_else(|| mismatch(format!("tensor `{name}` is missing")))?;
        let need = want[name].size();
        if t.size() != need {
            return Err(mismatch(format!(
                "tensor `{name}` has shape {:?}, the architecture needs {need:?}",
                t.size()
            )));
        }
    }
    if let Some(extra) = file.keys().find(|n| !want.contains_key(*n)) {
        return Err(mismatch(format!("unexpected tensor `{extra}`")));
    }
    let sum =
        checksum(&file).map_err(|e| LearnError::msg(format!("{}: {e}", p.weights.display())))?;
    if want_sum.is_some_and(|w| w != sum) {
        return Err(mismatch(
            "the weights' checksum differs from the one recorded at save (a damaged or \
             replaced file)"
                .into(),
        ));
    }
    tch::no_grad(|| {
        for (name, mut t) in want {
            t.copy_(&file[&name]);
        }
    });
    Ok(())
}

/// The optimiser of a checkpoint that has one, to resume training.
pub fn load_optimizer(
    path: impl AsRef<Path>,
    meta: Option<OptimizerMeta>,
    vs: &VarStore,
) -> Result<Option<NAdam>> {
    let p = paths(path);
    let Some(meta) = meta else { return Ok(None) };
    if !p.optim.exists() {
        return Ok(None);
    }
    let named = Tensor::read_safetensors(&p.optim)
        .map_err(|e| LearnError::msg(format!("{}: {e}", p.optim.display())))?;
    let mut opt = NAdam::new(vs, meta.config);
    opt.load_state(meta.scalars, &named)
        .map_err(|e| LearnError::msg(format!("{}: {e}", p.optim.display())))?;
    Ok(Some(opt))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_and_extensions_name_the_same_files() {
        for p in ["out/m", "out/m.json", "out/m.safetensors"] {
            let q = paths(p);
            assert_eq!(q.weights, PathBuf::from("out/m.safetensors"));
            assert_eq!(q.config, PathBuf::from("out/m.json"));
            assert_eq!(q.optim, PathBuf::from("out/m.optim.safetensors"));
        }
    }
}
