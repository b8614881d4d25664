//! Fuzz test of the file readers: for each format, 2 000 deterministic cases — random bytes
//! (half behind the format's magic) and valid files mutated (bit flips, truncation,
//! insertions, deletions, duplicated ranges, extreme numbers, edited digits; PNG chunks and
//! dataset manifests re-signed so the damage reaches past their checksums). Every reader
//! must return a value or an error: no panic, no abort (an abort ends this process and so
//! fails the test too).

use coercive::data::{self, GeneratorSpec, Manifest, Shard, Spec};
use coercive::grains::{PngOptions, PngReadOptions, Structure, VoronoiOptions, voronoi};
use coercive::learn::{Regressor, RegressorConfig};
use coercive::solver::SolverSettings;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

const CASES: usize = 2000;

const EXTREMES: &[u64] = &[
    0,
    1,
    0x7f,
    0xff,
    0xffff,
    0xffff_ffff,
    0x7fff_ffff_ffff_ffff,
    u64::MAX,
    1_000_000_000,
    0x7ff8_0000_0000_0000, // NaN
    0x7ff0_0000_0000_0000, // +inf
];

/// One damaged version of `valid`.
fn mutate(rng: &mut ChaCha8Rng, valid: &[u8]) -> Vec<u8> {
    let mut b = valid.to_vec();
    for _ in 0..rng.random_range(1..=3) {
        let len = b.len().max(1);
        let at = rng.random_range(0..len);
        match rng.random_range(0..8) {
            0 => {
                if !b.is_empty() {
                    let k = at.min(b.len() - 1);
                    b[k] ^= 1 << rng.random_range(0..8);
                }
            }
            1 => b.truncate(rng.random_range(0..len)),
            2 => {
                let v = EXTREMES[rng.random_range(0..EXTREMES.len())].to_le_bytes();
                let n = [1, 2, 4, 8][rng.random_range(0..4)];
                for (x, &y) in b.iter_mut().skip(at).zip(&v[..n]) {
                    *x = y;
                }
            }
            3 => {
                let extra: Vec<u8> = (0..rng.random_range(1..16)).map(|_| rng.random()).collect();
                let at = at.min(b.len());
                b.splice(at..at, extra);
            }
            4 => {
                let end = (at + rng.random_range(1..64)).min(b.len());
                if at < end {
                    b.drain(at..end);
                }
            }
            5 => {
                let end = (at + rng.random_range(1..64)).min(b.len());
                if at < end {
                    let chunk = b[at..end].to_vec();
                    b.splice(at..at, chunk);
                }
            }
            6 => {
                // Text formats: a digit becomes another number, possibly a huge one.
                let digits: Vec<usize> = (0..b.len()).filter(|&k| b[k].is_ascii_digit()).collect();
                if !digits.is_empty() {
                    let k = digits[rng.random_range(0..digits.len())];
                    let with = ["0", "9", "99999999999", "-1", "1e308", "4294967296", ""]
                        [rng.random_range(0..7)];
                    b.splice(k..k + 1, with.bytes());
                }
            }
            _ => {
                let v = b[at.min(b.len().saturating_sub(1))..].to_vec();
                b.truncate(at.min(b.len()));
                b.extend(v.iter().rev());
            }
        }
    }
    b
}

/// Case `k`: a quarter random bytes (half of them behind the valid file's first bytes),
/// the rest mutations of the valid file.
fn case(rng: &mut ChaCha8Rng, k: usize, valid: &[u8]) -> Vec<u8> {
    if k % 4 == 0 {
        let n = rng.random_range(0..600);
        let mut b: Vec<u8> = if k % 8 == 0 {
            valid[..valid.len().min(16)].to_vec()
        } else {
            Vec::new()
        };
        b.extend((0..n).map(|_| rng.random::<u8>()));
        b
    } else {
        mutate(rng, valid)
    }
}

/// Runs `check` on every case of `name`; panics are counted, and the test fails on any.
fn fuzz(name: &str, valid: &[u8], mut check: impl FnMut(&mut ChaCha8Rng, Vec<u8>)) {
    let seed = name
        .bytes()
        .fold(12u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64));
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut panicked = Vec::new();
    for k in 0..CASES {
        let bytes = case(&mut rng, k, valid);
        let mut inner = ChaCha8Rng::seed_from_u64(seed ^ k as u64);
        if catch_unwind(AssertUnwindSafe(|| check(&mut inner, bytes))).is_err() {
            panicked.push(k);
        }
    }
    assert!(
        panicked.is_empty(),
        "{name}: {} of {CASES} cases panicked (cases {:?})",
        panicked.len(),
        &panicked[..panicked.len().min(10)]
    );
}

fn structure() -> Structure {
    voronoi(&VoronoiOptions {
        grains: Some(4),
        seed: 5,
        ..VoronoiOptions::square(12)
    })
    .unwrap()
}

/// Files of the cases: in memory (`/dev/shm`) where there is one, the writes are the cost.
fn scratch() -> tempfile::TempDir {
    tempfile::tempdir_in("/dev/shm").unwrap_or_else(|_| tempfile::tempdir().unwrap())
}

fn engine() -> rhai::Engine {
    coercive::engine::new_engine(None).unwrap()
}

fn call(engine: &rhai::Engine, f: &str, path: &Path) {
    let _ = engine.eval::<rhai::Dynamic>(&format!("{f}({:?})", path.display().to_string()));
}

#[test]
fn fuzz_npy() {
    let t = scratch();
    let p = t.path().join("a.npy");
    structure().write_npy(&p).unwrap();
    let valid = std::fs::read(&p).unwrap();
    let e = engine();
    fuzz("npy", &valid, |_, b| {
        std::fs::write(&p, &b).unwrap();
        let _ = Structure::read_npy(&p, 2.0);
        call(&e, "io::load_npy", &p);
    });
}

#[test]
fn fuzz_npz() {
    let t = scratch();
    let p = t.path().join("a.npz");
    structure().write_npz(&p).unwrap();
    let stored = std::fs::read(&p).unwrap();
    let e = engine();
    fuzz("npz", &stored, |_, b| {
        std::fs::write(&p, &b).unwrap();
        let _ = Structure::read_npz(&p, None);
        call(&e, "io::load_npz", &p);
    });
    // Deflated archives (numpy's savez_compressed).
    let entries = coercive::fsio::npy::entries(&stored).unwrap();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in &entries {
        use std::io::Write;
        zip.start_file(
            format!("{name}.npy"),
            zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated),
        )
        .unwrap();
        zip.write_all(bytes).unwrap();
    }
    let deflated = zip.finish().unwrap().into_inner();
    std::fs::write(&p, &deflated).unwrap();
    Structure::read_npz(&p, None).unwrap();
    fuzz("npz deflated", &deflated, |_, b| {
        std::fs::write(&p, &b).unwrap();
        let _ = Structure::read_npz(&p, None);
    });
}

#[test]
fn fuzz_native_struct() {
    let path = Path::new("fuzz.grains");
    let generated = structure().to_bytes();
    fuzz("struct generated", &generated, |_, b| {
        let _ = Structure::from_bytes(&b, path);
    });
    let raster = Structure::from_grains(
        4,
        3,
        2.0,
        (0..12).map(|c| c % 3).collect(),
        vec![0.1, 0.2, 0.3],
    )
    .unwrap()
    .to_bytes();
    fuzz("struct raster", &raster, |_, b| {
        let _ = Structure::from_bytes(&b, path);
    });
}

/// Recomputes the CRC of every whole chunk, so damage inside chunks reaches the decoder.
fn fix_png_crcs(b: &mut [u8]) {
    let mut at = 8;
    while at + 12 <= b.len() {
        let len = u32::from_be_bytes(b[at..at + 4].try_into().unwrap()) as usize;
        let Some(end) = (at + 8).checked_add(len).filter(|&e| e + 4 <= b.len()) else {
            break;
        };
        let crc = crc32fast::hash(&b[at + 4..end]);
        b[end..end + 4].copy_from_slice(&crc.to_be_bytes());
        at = end + 4;
    }
}

#[test]
fn fuzz_png() {
    let t = scratch();
    let p = t.path().join("a.png");
    structure()
        .write_png(
            &p,
            &PngOptions {
                scale: 2,
                ..Default::default()
            },
        )
        .unwrap();
    let valid = std::fs::read(&p).unwrap();
    let one = PngReadOptions {
        scale: Some(1),
        ..Default::default()
    };
    fuzz("png", &valid, |rng, mut b| {
        if rng.random_bool(0.5) {
            fix_png_crcs(&mut b);
        }
        std::fs::write(&p, &b).unwrap();
        let _ = Structure::read_png(&p, &PngReadOptions::default());
        let _ = Structure::read_png(&p, &one);
    });
}

#[test]
fn fuzz_csv() {
    let t = scratch();
    let p = t.path().join("a.csv");
    let s = voronoi(&VoronoiOptions {
        grains: Some(3),
        seed: 2,
        ..VoronoiOptions::square(5)
    })
    .unwrap();
    s.write_csv(&p).unwrap();
    let valid = std::fs::read(&p).unwrap();
    let e = engine();
    fuzz("csv", &valid, |_, b| {
        std::fs::write(&p, &b).unwrap();
        let _ = Structure::read_csv(&p, None);
        let _ = Structure::read_csv(&p, Some(2.0));
        call(&e, "io::read_csv", &p);
    });
}

#[test]
fn fuzz_checkpoints() {
    let t = scratch();
    let stem = t.path().join("r");
    let config = RegressorConfig {
        trunk: vec![8, 4],
        head: vec![4, 2],
        ..RegressorConfig::new(3, vec!["Mr".into(), "Hc".into()])
    };
    Regressor::new(config, tch::Device::Cpu, 1)
        .unwrap()
        .save(&stem)
        .unwrap();
    let weights = t.path().join("r.safetensors");
    let json = t.path().join("r.json");
    let (valid_w, valid_j) = (
        std::fs::read(&weights).unwrap(),
        std::fs::read(&json).unwrap(),
    );
    Regressor::load(&stem, tch::Device::Cpu).unwrap();
    fuzz("safetensors", &valid_w, |_, b| {
        std::fs::write(&weights, &b).unwrap();
        let _ = Regressor::load(&stem, tch::Device::Cpu);
    });
    std::fs::write(&weights, &valid_w).unwrap();
    fuzz("checkpoint json", &valid_j, |_, b| {
        std::fs::write(&json, &b).unwrap();
        let _ = Regressor::load(&stem, tch::Device::Cpu);
    });
}

#[test]
fn fuzz_dataset_manifest_and_columns() {
    let t = scratch();
    let dir = t.path().join("d");
    let mut solver = SolverSettings::default();
    solver.sweep.h_step = 0.5;
    let spec = Spec::new(
        GeneratorSpec::new(
            &VoronoiOptions {
                grains: Some(2),
                ..VoronoiOptions::square(4)
            },
            1,
        ),
        3,
        Some(solver),
        Shard::WHOLE,
    )
    .unwrap();
    data::generate(&dir, &spec).unwrap();
    let mpath = dir.join("manifest.json");
    let valid = std::fs::read(&mpath).unwrap();
    let manifest: Manifest = serde_json::from_slice(&valid).unwrap();
    let columns: Vec<(String, Vec<u8>)> = manifest
        .files
        .iter()
        .map(|f| (f.name.clone(), std::fs::read(dir.join(&f.name)).unwrap()))
        .collect();
    // The manifest as edited by hand: refused by its checksum, or re-signed to go deeper.
    fuzz("manifest", &valid, |rng, b| {
        let resigned = serde_json::from_slice::<Manifest>(&b)
            .ok()
            .filter(|_| rng.random_bool(0.5))
            .map(|m| serde_json::to_vec(&Manifest::new(m.spec, m.records, m.files)).unwrap());
        std::fs::write(&mpath, resigned.unwrap_or(b)).unwrap();
        let _ = data::Dataset::open(&dir);
    });
    // A damaged column behind a re-signed manifest (its size and SHA-256 updated).
    std::fs::write(&mpath, &valid).unwrap();
    let m_npy = columns.iter().position(|(n, _)| n == "m.npy").unwrap();
    fuzz("dataset columns", &columns[m_npy].1, |rng, b| {
        let k = rng.random_range(0..columns.len());
        let mut m = manifest.clone();
        let name = m.files[k].name.clone();
        let b = if k == m_npy {
            b
        } else {
            mutate(rng, &columns[k].1)
        };
        use sha2::Digest;
        m.files[k].bytes = b.len() as u64;
        m.files[k].sha256 = sha2::Sha256::digest(&b)
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect();
        std::fs::write(dir.join(&name), &b).unwrap();
        let m = Manifest::new(m.spec, m.records, m.files);
        std::fs::write(&mpath, serde_json::to_vec(&m).unwrap()).unwrap();
        let _ = data::Dataset::open(&dir);
        std::fs::write(dir.join(&name), &columns[k].1).unwrap();
    });
}
