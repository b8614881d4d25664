//! Issue 12, the file half: nothing lost, nothing silently wrong. One test per item; each
//! reproduces the report and failed before the fix. A full disk is a file-size
//! limit (RLIMIT_FSIZE, SIGXFSZ ignored): writes past it fail with EFBIG as on a full disk.

use coercive::data::{self, GeneratorSpec, Shard, Spec};
use coercive::grains::{PngOptions, PngReadOptions, Structure, VoronoiOptions, voronoi};
use coercive::solver::SolverSettings;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

/// The size limit is per process: tests here run one at a time.
fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn run(script: &str) -> Result<(), String> {
    let engine = coercive::engine::new_engine(None).unwrap();
    engine.run(script).map_err(|e| e.to_string())
}

/// Runs `f` with every file this process writes capped at `bytes` (a full disk).
fn with_disk_full<T>(bytes: u64, f: impl FnOnce() -> T) -> T {
    // SAFETY: plain libc calls on this process's own limits and signal disposition.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        let mut old = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        assert_eq!(libc::getrlimit(libc::RLIMIT_FSIZE, &mut old), 0);
        let cap = libc::rlimit {
            rlim_cur: bytes,
            rlim_max: old.rlim_max,
        };
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &cap), 0);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        libc::setrlimit(libc::RLIMIT_FSIZE, &old);
        r.unwrap_or_else(|p| std::panic::resume_unwind(p))
    }
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    names(dir)
        .into_iter()
        .map(|n| {
            let b = std::fs::read(dir.join(&n)).unwrap();
            (n, b)
        })
        .collect()
}

/// Item 1: every script writer, saving again onto a full disk, fails and leaves the
/// previous file byte for byte (and no temporary file behind).
#[test]
fn files_item1_a_save_onto_a_full_disk_keeps_the_previous_file() {
    let _g = serial();
    let writers: &[(&str, &str)] = &[
        (
            "Vae.save",
            "vae::create(#{ n: 32, latent: 4, seed: 1 }).save(`${P}/vae`);",
        ),
        (
            "Regressor.save",
            "regressor::create(#{ inputs: 4, seed: 1 }).save(`${P}/reg`);",
        ),
        (
            "GraphNet.save",
            "graphnet::create(#{ hidden: 8, layers: 1, seed: 1 }).save(`${P}/g`);",
        ),
        (
            "Structure.to_csv",
            "grains::voronoi(#{ n: 16, grains: 3, seed: 1 }).to_csv(`${P}/s.csv`);",
        ),
        (
            "Structure.to_npy",
            "grains::voronoi(#{ n: 16, grains: 3, seed: 1 }).to_npy(`${P}/s.npy`);",
        ),
        (
            "Structure.to_npz",
            "grains::voronoi(#{ n: 16, grains: 3, seed: 1 }).to_npz(`${P}/s.npz`);",
        ),
        (
            "Structure.to_png",
            "grains::voronoi(#{ n: 16, grains: 3, seed: 1 }).to_png(`${P}/s.png`);",
        ),
        (
            "Structure.save",
            "grains::voronoi(#{ n: 16, grains: 3, seed: 1 }).save(`${P}/s.grains`);",
        ),
        (
            "State.to_ovf",
            "solver::relax(grains::voronoi(#{ n: 8, grains: 1, seed: 1 }), 0.0, #{}).to_ovf(`${P}/m.ovf`);",
        ),
        (
            "io::write_csv",
            "io::write_csv(`${P}/t.csv`, #{ a: linspace(0.0, 1.0, 200) });",
        ),
        (
            "io::write_json",
            "io::write_json(`${P}/t.json`, #{ a: linspace(0.0, 1.0, 200) });",
        ),
        (
            "io::write_text",
            "let t = \"x\"; t.pad(2000, 'x'); io::write_text(`${P}/t.txt`, t);",
        ),
        (
            "io::save_npy",
            "io::save_npy(`${P}/t.npy`, linspace(0.0, 1.0, 200));",
        ),
        (
            "io::save_npz",
            "io::save_npz(`${P}/t.npz`, #{ a: linspace(0.0, 1.0, 200) });",
        ),
        (
            "plot::lines",
            "plot::lines(`${P}/p.png`, [#{ x: linspace(0.0, 1.0, 5), y: linspace(0.0, 1.0, 5) }], #{});",
        ),
        (
            "Curve.plot",
            "solver::demag_curve(grains::voronoi(#{ n: 4, grains: 1, seed: 1 }), #{ h_step: 0.5 }).plot(`${P}/c.svg`);",
        ),
        (
            "Curve.to_csv",
            "solver::demag_curve(grains::voronoi(#{ n: 4, grains: 1, seed: 1 }), #{ h_step: 0.1 }).to_csv(`${P}/c.csv`);",
        ),
    ];
    for (name, body) in writers {
        let t = tempfile::tempdir().unwrap();
        let script = format!("const P = {:?};\n{body}", t.path().display().to_string());
        run(&script).unwrap_or_else(|e| panic!("{name}: first save: {e}"));
        let before = snapshot(t.path());
        let largest = before.iter().map(|(_, b)| b.len()).max().unwrap() as u64;
        assert!(largest >= 8, "{name}: {largest} bytes");
        let e = with_disk_full(largest / 2, || run(&script)).expect_err(name);
        assert!(
            e.contains(name),
            "{name}: error does not name the function: {e}"
        );
        assert_eq!(
            snapshot(t.path()),
            before,
            "{name}: the failed save changed the previous files"
        );
    }
}

/// Item 2: `io::save_npz` with a bad entry errors before touching the existing archive.
#[test]
fn files_item2_save_npz_checks_every_entry_before_writing() {
    let _g = serial();
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("keep.npz").display().to_string();
    run(&format!(
        "io::save_npz({p:?}, #{{ a: zeros([3]), b: ones([2]) }});"
    ))
    .unwrap();
    let before = std::fs::read(&p).unwrap();
    let e = run(&format!(
        "io::save_npz({p:?}, #{{ a: zeros([2]), b: \"x\" }});"
    ))
    .unwrap_err();
    assert!(
        e.contains("io::save_npz") && e.contains("entry `b`") && e.contains("line 1"),
        "{e}"
    );
    assert_eq!(std::fs::read(&p).unwrap(), before);
}

fn options(n: usize) -> VoronoiOptions {
    VoronoiOptions {
        grains: Some(3),
        ..VoronoiOptions::square(n)
    }
}

fn spec(count: u64, n: usize, label: bool) -> Spec {
    let solver = label.then(|| {
        let mut s = SolverSettings::default();
        s.sweep.h_step = 0.5;
        s
    });
    Spec::new(
        GeneratorSpec::new(&options(n), 3),
        count,
        solver,
        Shard::WHOLE,
    )
    .unwrap()
}

/// Item 3: generate and merge refuse a directory holding user files; resume still works.
#[test]
fn files_item3_generate_and_merge_never_replace_user_files() {
    let _g = serial();
    let t = tempfile::tempdir().unwrap();
    let user = t.path().join("u");
    std::fs::create_dir(&user).unwrap();
    std::fs::write(user.join("m.npy"), "precious").unwrap();
    let e = data::generate(&user, &spec(4, 8, false))
        .unwrap_err()
        .to_string();
    assert!(e.contains("not empty") && e.contains("m.npy"), "{e}");
    let part = t.path().join("part");
    data::generate(&part, &spec(4, 8, false)).unwrap();
    let e = data::merge(&user, std::slice::from_ref(&part))
        .unwrap_err()
        .to_string();
    assert!(e.contains("not empty") && e.contains("m.npy"), "{e}");
    assert_eq!(std::fs::read(user.join("m.npy")).unwrap(), b"precious");
    assert_eq!(names(&user), ["m.npy"]);
    // A finished dataset of the same spec, an empty directory: accepted.
    data::generate(&part, &spec(4, 8, false)).unwrap();
    let empty = t.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    data::merge(&empty, &[part]).unwrap();
    // The CLI says so too, and exits 1.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_coercive"))
        .args(["data", "generate", "--count", "3", "--n", "8", "--out"])
        .arg(&user)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not empty"));
}

/// Item 4: with `spec.json` deleted, resuming with other settings is refused by the log's
/// own fingerprint.
#[test]
fn files_item4_resume_checks_the_records_not_only_spec_json() {
    let _g = serial();
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("d");
    let s40 = spec(24, 40, false);
    // A run killed after 10 records, then spec.json lost: only the log remains.
    let done = t.path().join("done");
    data::generate(&done, &s40).unwrap();
    let ds = data::Dataset::open(&done).unwrap();
    std::fs::create_dir_all(dir.join(".partial")).unwrap();
    let mut r = data::log::Log::recover(
        &dir.join(".partial/records.log"),
        0,
        0..24,
        &data::log::fingerprint(&s40),
    )
    .unwrap();
    r.log.append(&ds.records()[..10]).unwrap();
    r.log.sync().unwrap();
    drop(r);
    assert!(!dir.join(".partial/spec.json").exists());
    let e = data::generate(&dir, &spec(24, 41, false))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("other settings") && e.contains("records.log"),
        "{e}"
    );
    // The same settings resume.
    let (_, summary) = data::generate(&dir, &s40).unwrap();
    assert_eq!((summary.generated, summary.records), (14, 24));
}

/// Item 5: any edit of the manifest (settings, counts, ids, shard, layout) is detected by
/// `data::open` and `data info`.
#[test]
fn files_item5_an_edited_manifest_is_refused() {
    let _g = serial();
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("d");
    data::generate(&dir, &spec(6, 8, true)).unwrap();
    let path = dir.join("manifest.json");
    let good = std::fs::read_to_string(&path).unwrap();
    let edits: &[(&str, &str)] = &[
        ("\"nx\": 8", "\"nx\": 9"),
        ("\"count\": 6", "\"count\": 7"),
        (
            "\"ids\": [\n    0,\n    6\n  ]",
            "\"ids\": [\n    0,\n    5\n  ]",
        ),
        ("\"count\": 1\n", "\"count\": 2\n"),
        ("\"tol\": 0.0001", "\"tol\": 0.001"),
        ("\"record_bytes\": ", "\"record_bytes\": 1"),
    ];
    for (from, to) in edits {
        assert!(good.contains(from), "manifest has no {from:?}:\n{good}");
        std::fs::write(&path, good.replacen(from, to, 1)).unwrap();
        let e = data::Dataset::open(&dir).unwrap_err().to_string();
        assert!(
            e.contains("manifest.json") && e.contains("edited"),
            "{from}: {e}"
        );
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_coercive"))
            .args(["data", "info"])
            .arg(&dir)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{from}");
    }
    std::fs::write(&path, &good).unwrap();
    data::Dataset::open(&dir).unwrap();
}

/// Item 8 (the native format): a flipped bit anywhere in a `.grains` file — cell size,
/// grain angles, seeds, flags, raster — is refused.
#[test]
fn files_item8_native_format_checks_every_field() {
    let _g = serial();
    let generated = voronoi(&VoronoiOptions {
        grains: Some(5),
        seed: 3,
        theta: Some(0.5),
        ..VoronoiOptions::square(12)
    })
    .unwrap();
    let raster =
        Structure::from_grains(3, 2, 1.5, vec![0, 0, 1, 1, 0, 1], vec![0.1, -0.3]).unwrap();
    for s in [generated, raster] {
        let bytes = s.to_bytes();
        assert_eq!(
            Structure::from_bytes(&bytes, Path::new("s.grains")).unwrap(),
            s
        );
        for k in 0..bytes.len() {
            for bit in [0x01, 0x80] {
                let mut b = bytes.clone();
                b[k] ^= bit;
                assert!(
                    Structure::from_bytes(&b, Path::new("s.grains")).is_err(),
                    "byte {k} bit {bit:#x} flipped loads"
                );
            }
        }
    }
}

fn png_bytes(w: u32, h: u32, rgb: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgb);
    let mut wr = enc.write_header().unwrap();
    wr.write_image_data(rgb).unwrap();
    wr.finish().unwrap();
    out
}

/// Item 9: `from_png` takes the grid and cell size from the picture, not from colour runs;
/// every loader without grain ids makes grains of connected regions.
#[test]
fn files_item9_png_grid_from_metadata_and_one_definition_of_grain() {
    let _g = serial();
    let t = tempfile::tempdir().unwrap();
    // Two grains, each 8 cells wide: the smallest colour run is 8 cells × 4 px.
    let s = Structure::from_grains(
        16,
        16,
        2.5,
        (0..256).map(|c| ((c % 16) / 8) as u32).collect(),
        vec![0.3, -0.6],
    )
    .unwrap();
    let p = t.path().join("s.png");
    s.write_png(&p, &PngOptions::default()).unwrap();
    let r = Structure::read_png(&p, &PngReadOptions::default()).unwrap();
    assert_eq!((r.nx(), r.ny(), r.cell_nm()), (16, 16, 2.5));
    assert_eq!(r.grains(), s.grains());
    // Arguments that contradict the picture are refused; a picture without metadata needs
    // its scale.
    let e = Structure::read_png(
        &p,
        &PngReadOptions {
            scale: Some(2),
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("scale") && e.contains("metadata"), "{e}");
    let (w, h, rgb) = s.render_rgb(&PngOptions::default()).unwrap();
    let bare = t.path().join("bare.png");
    std::fs::write(&bare, png_bytes(w as u32, h as u32, &rgb)).unwrap();
    let e = Structure::read_png(&bare, &PngReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("scale"), "{e}");
    let r = Structure::read_png(
        &bare,
        &PngReadOptions {
            scale: Some(4),
            cell_nm: Some(2.5),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!((r.nx(), r.ny()), (16, 16));
    // Grains: two separate stripes of one angle are two grains in .npy, .csv and .png.
    let stripes =
        Structure::from_grains(3, 2, 2.0, vec![0, 1, 2, 0, 1, 2], vec![0.4, -0.2, 0.4]).unwrap();
    stripes.write_npy(t.path().join("st.npy")).unwrap();
    let a = Structure::read_npy(t.path().join("st.npy"), 2.0).unwrap();
    std::fs::write(
        t.path().join("st.csv"),
        "i,j,angle_rad\n0,0,0.4\n1,0,-0.2\n2,0,0.4\n0,1,0.4\n1,1,-0.2\n2,1,0.4\n",
    )
    .unwrap();
    let c = Structure::read_csv(t.path().join("st.csv"), Some(2.0)).unwrap();
    stripes
        .write_png(
            t.path().join("st.png"),
            &PngOptions {
                scale: 1,
                ..Default::default()
            },
        )
        .unwrap();
    let g = Structure::read_png(t.path().join("st.png"), &PngReadOptions::default()).unwrap();
    for r in [&a, &c, &g] {
        assert_eq!(r.n_grains(), 3);
        assert_eq!(r.grains(), stripes.grains());
    }
}

/// A .npy header declaring `shape` over `data` bytes of float64.
fn npy_declaring(shape: &str, data: usize) -> Vec<u8> {
    let dict = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}");
    let pad = 64 - (10 + dict.len() + 1) % 64;
    let text = format!("{dict}{}\n", " ".repeat(pad));
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    b.extend_from_slice(&(text.len() as u16).to_le_bytes());
    b.extend_from_slice(text.as_bytes());
    b.resize(b.len() + data, 0);
    b
}

fn npz_of(entries: &[(&str, &[u8])], deflate: bool) -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let method = if deflate {
        zip::CompressionMethod::Deflated
    } else {
        zip::CompressionMethod::Stored
    };
    for (name, bytes) in entries {
        zip.start_file(
            format!("{name}.npy"),
            zip::write::SimpleFileOptions::default().compression_method(method),
        )
        .unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// Item 10: a 160-byte `.npy` declaring shape (10⁹, 10⁹) is a clean error in every reader.
#[test]
fn files_item10_a_huge_declared_shape_is_an_error_not_an_abort() {
    let _g = serial();
    let t = tempfile::tempdir().unwrap();
    let huge = npy_declaring("(1000000000, 1000000000)", 32);
    assert!(huge.len() <= 160);
    let npy = t.path().join("huge.npy");
    std::fs::write(&npy, &huge).unwrap();
    let npz = t.path().join("huge.npz");
    std::fs::write(&npz, npz_of(&[("grain", &huge), ("angle", &huge)], false)).unwrap();
    for call in [
        format!("io::load_npy({:?})", npy.display().to_string()),
        format!("grains::from_npy({:?}, 2.0)", npy.display().to_string()),
        format!("io::load_npz({:?})", npz.display().to_string()),
        format!("grains::from_npz({:?})", npz.display().to_string()),
    ] {
        let e = run(&format!("let x = {call};")).unwrap_err();
        assert!(e.contains("needs 8000000000000000000 bytes"), "{call}: {e}");
        assert!(e.contains("line 1, position"), "{call}: {e}");
    }
    // A dataset whose column declares a huge shape (manifest re-signed: sizes match).
    let dir = t.path().join("d");
    data::generate(&dir, &spec(3, 8, false)).unwrap();
    let bad = npy_declaring("(1000000000, 1000000000)", 24);
    let mut m: data::Manifest =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let f = m.files.iter_mut().find(|f| f.name == "theta.npy").unwrap();
    f.bytes = bad.len() as u64;
    std::fs::write(dir.join("theta.npy"), &bad).unwrap();
    let m = data::Manifest::new(m.spec, m.records, m.files);
    std::fs::write(dir.join("manifest.json"), serde_json::to_vec(&m).unwrap()).unwrap();
    let e = data::Dataset::open(&dir).unwrap_err().to_string();
    assert!(e.contains("theta.npy") && e.contains("needs"), "{e}");
}

/// Item 13: a refused `--tol 0` writes nothing; a kill after the manifest leaves a
/// `.partial` that `data info` reports and the next run removes.
#[test]
fn files_item13_refusals_write_nothing_and_stale_partials_are_cleaned() {
    let _g = serial();
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("d");
    let bin = env!("CARGO_BIN_EXE_coercive");
    let gen_args = |tol: &str| -> Vec<String> {
        [
            "data", "generate", "--count", "2", "--n", "8", "--grains", "2", "--label",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain(["--h-step".into(), "0.5".into(), "--tol".into(), tol.into()])
        .collect()
    };
    let out = std::process::Command::new(bin)
        .args(gen_args("0"))
        .arg("--out")
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(!dir.exists(), "a refused run wrote {:?}", names(&dir));
    let ok = std::process::Command::new(bin)
        .args(gen_args("1e-4"))
        .arg("--out")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    // As a kill between the manifest and the removal of `.partial` leaves it.
    std::fs::create_dir(dir.join(".partial")).unwrap();
    std::fs::write(dir.join(".partial/spec.json"), "{}").unwrap();
    let info = std::process::Command::new(bin)
        .args(["data", "info"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(info.status.success());
    assert!(String::from_utf8_lossy(&info.stdout).contains(".partial is left"));
    let again = std::process::Command::new(bin)
        .args(gen_args("1e-4"))
        .arg("--out")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(again.status.success());
    assert!(!dir.join(".partial").exists());
}

/// Item 14 (files): deflated `.npz` (numpy's `savez_compressed`) reads; `from_npz` honours
/// or checks its `cell_nm`; a checkpoint stem without a name is refused.
#[test]
fn files_item14_compressed_npz_cell_size_and_empty_stems() {
    let _g = serial();
    let t = tempfile::tempdir().unwrap();
    let grain = coercive::fsio::npy::to_bytes(&ndarray::arr2(&[[0i32, 1], [1, 1]]));
    let angle = coercive::fsio::npy::to_bytes(&ndarray::arr1(&[0.25f64, -0.5]));
    let cell = coercive::fsio::npy::to_bytes(&ndarray::arr0(3.0f64));
    let with = t.path().join("with.npz");
    std::fs::write(
        &with,
        npz_of(
            &[("grain", &grain), ("angle", &angle), ("cell_nm", &cell)],
            true,
        ),
    )
    .unwrap();
    let without = t.path().join("without.npz");
    std::fs::write(
        &without,
        npz_of(&[("grain", &grain), ("angle", &angle)], true),
    )
    .unwrap();
    let s = Structure::read_npz(&with, None).unwrap();
    assert_eq!((s.nx(), s.n_grains(), s.cell_nm()), (2, 2, 3.0));
    assert_eq!(
        Structure::read_npz(&without, Some(1.5)).unwrap().cell_nm(),
        1.5
    );
    let e = Structure::read_npz(&with, Some(9.0))
        .unwrap_err()
        .to_string();
    assert!(e.contains("9 nm") && e.contains("3 nm in the file"), "{e}");
    let w = with.display().to_string();
    run(&format!(
        "let s = grains::from_npz({w:?}); if s.cell_nm != 3.0 {{ throw 1 }}"
    ))
    .unwrap();
    let floats = t.path().join("floats.npz");
    std::fs::write(&floats, npz_of(&[("angle", &angle)], true)).unwrap();
    let f = floats.display().to_string();
    run(&format!(
        "let m = io::load_npz({f:?}); if m.angle.len() != 2 {{ throw 1 }}"
    ))
    .unwrap();
    // Empty, dot-only and directory stems would write hidden files.
    let dir = t.path().display().to_string();
    for stem in [
        "".to_string(),
        ".".into(),
        "..".into(),
        format!("{dir}/"),
        format!("{dir}/.."),
    ] {
        for model in [
            "regressor::create(#{ inputs: 4 })",
            "vae::create(#{ n: 32, latent: 4 })",
        ] {
            let e = run(&format!("{model}.save({stem:?});")).unwrap_err();
            assert!(e.contains("expected a file stem"), "{model} {stem:?}: {e}");
        }
    }
    assert!(
        names(t.path()).iter().all(|n| !n.starts_with('.')),
        "{:?}",
        names(t.path())
    );
}
