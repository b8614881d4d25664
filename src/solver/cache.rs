//! Finished curves kept on disk, keyed by everything that determines them: the problem
//! (mesh, easy axes, per-cell material, terms), the sweep options and the solver's own
//! source. A batch cut short by an error or Ctrl-C, or a script rerun after a typo later
//! on, takes its finished curves from here instead of computing them again.

use super::problem::Problem;
use super::sweep::{Curve, SweepOptions};
use super::tensor::Backend;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The solver's code, fingerprinted at build time (build/solver_source.rs: tokens
/// without comments, docs or test code): a curve cached by other solver code is never
/// taken.
const SOLVER_SOURCE: &str = env!("COERCIVE_SOLVER_SOURCE");

/// A directory of finished curves, one JSON file per key.
#[derive(Clone, Debug, PartialEq)]
pub struct CurveCache {
    dir: PathBuf,
}

impl CurveCache {
    pub fn at(dir: impl Into<PathBuf>) -> CurveCache {
        CurveCache { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The key of `problem` swept with `opts` (hex SHA-256).
    pub fn key(problem: &Problem, opts: &SweepOptions) -> String {
        let mut h = Sha256::new();
        h.update(SOLVER_SOURCE.as_bytes());
        h.update(serde_json::to_string(opts).unwrap_or_default().as_bytes());
        h.update(format!("{:?}|{:?}", problem.mesh(), problem.terms()).as_bytes());
        for (c, psi) in problem.psi().iter().enumerate() {
            h.update(psi.to_le_bytes());
            let m = problem.cell_material(c);
            for v in [m.a, m.ms, m.k1] {
                h.update(v.to_le_bytes());
            }
        }
        format!("{:x}", h.finalize())
    }

    /// The key of `problem` swept with `opts` by `backend`: the plain solver's is
    /// [`CurveCache::key`]; a tensor curve (other rounding) is kept under its own.
    pub fn key_on(problem: &Problem, opts: &SweepOptions, backend: &Backend) -> String {
        let plain = Self::key(problem, opts);
        match backend {
            Backend::Plain => plain,
            Backend::Tensor(t) => {
                let mut h = Sha256::new();
                h.update(plain.as_bytes());
                h.update(serde_json::to_string(t).unwrap_or_default().as_bytes());
                format!("{:x}", h.finalize())
            }
        }
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }

    /// The cached curve of `key`; `None` when absent or unreadable (it is then recomputed
    /// and written over).
    pub fn get(&self, key: &str) -> Option<Curve> {
        let text = std::fs::read_to_string(self.path(key)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Keeps `curve` under `key` (written atomically).
    pub fn put(&self, key: &str, curve: &Curve) -> std::io::Result<()> {
        let text = serde_json::to_string(curve).map_err(std::io::Error::other)?;
        std::fs::create_dir_all(&self.dir)?;
        crate::fsio::write(self.path(key), text)
    }
}

/// The curve of `problem` swept with `opts`: from `cache` when it holds one, else
/// computed by `sweep` and kept there.
pub fn cached_sweep(
    cache: Option<&CurveCache>,
    problem: &Problem,
    opts: &SweepOptions,
    sweep: impl FnOnce() -> Result<Curve, super::SolverError>,
) -> Result<Curve, super::SolverError> {
    let Some(cache) = cache else { return sweep() };
    let key = CurveCache::key(problem, opts);
    if let Some(c) = cache.get(&key) {
        return Ok(c);
    }
    let c = sweep()?;
    keep(cache, &key, &c);
    Ok(c)
}

/// Keeps `curve` in `cache`; a cache that cannot be written costs only the warning, never
/// the curve.
pub fn keep(cache: &CurveCache, key: &str, curve: &Curve) {
    if let Err(e) = cache.put(key, curve) {
        crate::display::note(&format!(
            "warning: cannot keep a finished curve in {}: {e}",
            cache.dir().display()
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solver::{Material, Mesh, sweep};

    fn problem(psi: f64) -> Problem {
        Problem::new(Mesh::paper(8, 8).unwrap(), &vec![psi; 64]).unwrap()
    }

    #[test]
    fn key_follows_everything_that_sets_the_curve() {
        let opts = SweepOptions::default();
        let k = CurveCache::key(&problem(0.3), &opts);
        assert_eq!(k, CurveCache::key(&problem(0.3), &opts));
        assert_ne!(k, CurveCache::key(&problem(0.3000001), &opts));
        let coarser = SweepOptions {
            h_step: 0.02,
            ..opts
        };
        assert_ne!(k, CurveCache::key(&problem(0.3), &coarser));
        let soft = problem(0.3)
            .with_material(Material {
                k1: 1e6,
                ..Material::nd2fe14b()
            })
            .unwrap();
        assert_ne!(k, CurveCache::key(&soft, &opts));
        let no_demag = problem(0.3).with_terms(crate::solver::Terms::all().without_demag());
        assert_ne!(k, CurveCache::key(&no_demag, &opts));
    }

    #[test]
    fn a_kept_curve_comes_back_whole_and_a_damaged_one_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CurveCache::at(dir.path().join("curves"));
        let opts = SweepOptions {
            h_step: 0.1,
            ..Default::default()
        };
        let p = problem(0.5);
        let key = CurveCache::key(&p, &opts);
        assert!(cache.get(&key).is_none());
        let c = sweep(&p, &opts).unwrap();
        cache.put(&key, &c).unwrap();
        assert_eq!(cache.get(&key).unwrap(), c);
        std::fs::write(cache.path(&key), "{\"points\": [").unwrap();
        assert!(cache.get(&key).is_none());
    }
}
