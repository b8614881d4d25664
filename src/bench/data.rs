//! `coercive bench data`: the dataset figures of issue #5 — N unlabelled paper-law
//! structures generated into a dataset (seconds, bytes on disk), then shuffled batches of 64
//! `kx` rasters streamed back through [`crate::grains::Batches`] (rasters per second).

use crate::data::{Dataset, GeneratorSpec, Shard, Spec};
use crate::grains::{Batches, Encoding, VoronoiOptions};
use std::fmt;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Clone, Debug)]
pub struct Report {
    pub count: u64,
    pub n: usize,
    pub threads: usize,
    pub generate_seconds: f64,
    pub bytes: u64,
    pub rasters: usize,
    pub stream_seconds: f64,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "data: {} unlabelled {n}×{n} paper-law structures generated in {:.2} s on {} threads, \
             {:.1} MB on disk ({:.1} bytes/record); streamed {} kx rasters in shuffled batches of 64 \
             in {:.2} s: {:.0} rasters/s",
            self.count,
            self.generate_seconds,
            self.threads,
            self.bytes as f64 / 1e6,
            self.bytes as f64 / self.count as f64,
            self.rasters,
            self.stream_seconds,
            self.rasters as f64 / self.stream_seconds,
            n = self.n
        )
    }
}

/// Generates `count` records into `out` (or a temporary directory), then streams `batches`.
pub fn run(
    count: u64,
    n: usize,
    batches: usize,
    out: Option<PathBuf>,
) -> crate::data::Result<Report> {
    let temp = out.is_none();
    let dir = out.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("coercive-bench-data-{}", std::process::id()))
    });
    if temp && dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(crate::data::error::io_at(&dir))?;
    }
    let spec = Spec::new(
        GeneratorSpec::new(&VoronoiOptions::square(n), 2024),
        count,
        None,
        Shard::WHOLE,
    )?;
    let t0 = Instant::now();
    let (manifest, _) = crate::data::generate(&dir, &spec)?;
    let generate_seconds = t0.elapsed().as_secs_f64();
    let bytes = std::fs::read_dir(&dir)
        .map_err(crate::data::error::io_at(&dir))?
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    let ds = Dataset::open(&dir)?;
    let view = ds.view();
    let ids: Vec<usize> = (0..view.len()).collect();
    let t1 = Instant::now();
    let mut rasters = 0;
    for b in Batches::new(&view, &ids, Encoding::Kx, 64, 1, 0).take(batches) {
        let (_, x) = b.map_err(|e| crate::data::DataError::Incompatible(e.to_string()))?;
        rasters += x.shape()[0];
    }
    let stream_seconds = t1.elapsed().as_secs_f64();
    drop(manifest);
    if temp {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(Report {
        count,
        n,
        threads: crate::settings::threads(),
        generate_seconds,
        bytes,
        rasters,
        stream_seconds,
    })
}
