use super::*;
use crate::grains::{Batches, Encoding, RasterSource, Sample, VoronoiOptions};
use crate::solver::SolverSettings;
use std::path::Path;

fn options(n: usize) -> VoronoiOptions {
    VoronoiOptions {
        grains: Some(3),
        ..VoronoiOptions::square(n)
    }
}

/// A tiny spec: n × n cells, 3 grains, θ by the paper's law; labelled with a coarse sweep.
fn tiny(count: u64, n: usize, label: bool, shard: Shard) -> Spec {
    let solver = label.then(|| {
        let mut s = SolverSettings::default();
        s.sweep.h_step = 0.1;
        s
    });
    Spec::new(GeneratorSpec::new(&options(n), 3), count, solver, shard).unwrap()
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn data_records_regenerate_exactly_the_sample_and_stream_as_a_raster_source() {
    let t = tempfile::tempdir().unwrap();
    let spec = tiny(40, 20, false, Shard::WHOLE);
    let (m, s) = generate(t.path(), &spec).unwrap();
    assert_eq!((m.records, s.generated), (40, 40));
    assert!(!t.path().join(generate::PARTIAL).exists());
    let ds = Dataset::open(t.path()).unwrap();
    let sample = Sample::new(options(20), 3, 40).unwrap();
    for k in 0..40 {
        let st = ds.structure(k).unwrap();
        assert_eq!(st, sample.get(k).unwrap());
        let r = ds.record(k);
        assert_eq!(
            (r.id, r.seed, r.ng as usize),
            (k as u64, sample.seed_of(k), st.n_grains())
        );
        assert_eq!(Some(r.theta), st.generator().unwrap().theta);
    }
    let idx = [5, 0, 39];
    assert_eq!(
        RasterSource::encode_many(&*ds, &idx, Encoding::Axis).unwrap(),
        sample.encode_many(&idx, Encoding::Axis).unwrap()
    );
    // Split: disjoint, complete, and stable by id (a subset splits the same way).
    let view = ds.view();
    let (train, test) = view.split(0.75, 9);
    assert_eq!(train.len() + test.len(), 40);
    assert!(train.len() > 20 && !test.is_empty());
    assert!(train.ids().iter().all(|id| !test.ids().contains(id)));
    let (sub_train, _) = view.filter(|r| r.id % 2 == 0).split(0.75, 9);
    let even: Vec<u64> = train.ids().into_iter().filter(|i| i % 2 == 0).collect();
    assert_eq!(sub_train.ids(), even);
    // A view streams its own records: position k of `test` is record test.ids()[k].
    let all: Vec<usize> = (0..test.len()).collect();
    let mut seen = 0;
    for b in Batches::new(&test, &all, Encoding::Kx, 4, 1, 0) {
        let (pos, x) = b.unwrap();
        for (j, &p) in pos.iter().enumerate() {
            let id = test.ids()[p] as usize;
            assert_eq!(
                x.index_axis(ndarray::Axis(0), j),
                sample.get(id).unwrap().encode_kx().view()
            );
        }
        seen += pos.len();
    }
    assert_eq!(seen, test.len());
    assert!(RasterSource::encode_many(&test, &[test.len()], Encoding::Kx).is_err());
    // Generating again finds it finished; other options are refused.
    let (_, again) = generate(t.path(), &spec).unwrap();
    assert_eq!(again.generated, 0);
    let e = generate(t.path(), &tiny(41, 20, false, Shard::WHOLE)).unwrap_err();
    assert!(
        e.to_string().contains("other settings") && e.to_string().contains("count"),
        "{e}"
    );
}

/// A refused resume names the settings that differ down to the nested key, so an older
/// dataset's solver settings can be given back (`--max-turn 0.3 …`).
#[test]
fn differing_keys_follow_nested_settings() {
    let old = serde_json::json!({ "count": 8, "solver": { "sweep": { "min": { "max_turn": 0.3, "tol": 1e-4 }, "carry_step": false } } });
    let new = serde_json::json!({ "count": 8, "solver": { "sweep": { "min": { "max_turn": 0.5, "tol": 1e-4 }, "carry_step": true } }, "extra": 1 });
    assert_eq!(
        crate::data::generate::differing_keys(&old, &new),
        "solver.sweep.carry_step: false there, true asked; \
         solver.sweep.min.max_turn: 0.3 there, 0.5 asked; extra: null there, 1 asked"
    );
    assert_eq!(crate::data::generate::differing_keys(&old, &old), "");
}

#[test]
fn data_labelled_records_keep_curves_and_anchors() {
    let t = tempfile::tempdir().unwrap();
    let spec = tiny(3, 8, true, Shard::WHOLE);
    generate(t.path(), &spec).unwrap();
    let ds = Dataset::open(t.path()).unwrap();
    let sol = spec.solver.as_ref().unwrap();
    for k in 0..3 {
        let s = ds.structure(k).unwrap();
        let c = crate::solver::sweep(&s.problem(&sol).unwrap(), &sol.sweep).unwrap();
        let l = ds.record(k).label.as_ref().unwrap();
        assert_eq!(**l, Label::from_curve(&c));
        let stored = ds.curve(k).unwrap();
        assert_eq!(stored.fields(), c.fields());
        assert_eq!(l.anchors(), c.anchors());
    }
    let csv = std::fs::read_to_string(t.path().join("anchors.csv")).unwrap();
    assert!(csv.starts_with("id,seed,ng,theta,non_converged,M1,Mr,Hk90,Hk80,Hk70,Hc\n0,"));
    assert_eq!(csv.lines().count(), 4);
}

#[test]
fn data_shards_merge_into_the_single_process_dataset_and_bad_parts_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let single = t.path().join("single");
    generate(&single, &tiny(7, 8, true, Shard::WHOLE)).unwrap();
    let parts: Vec<_> = (0..3)
        .map(|i| {
            let d = t.path().join(format!("part{i}"));
            generate(&d, &tiny(7, 8, true, Shard { index: i, count: 3 })).unwrap();
            d
        })
        .collect();
    let merged = t.path().join("merged");
    merge(&merged, &parts).unwrap();
    assert_eq!(files(&merged), files(&single));
    // The same part twice: duplicate records.
    let e = merge(
        &t.path().join("m2"),
        &[
            parts[0].clone(),
            parts[0].clone(),
            parts[1].clone(),
            parts[2].clone(),
        ],
    )
    .unwrap_err();
    assert!(matches!(e, DataError::Duplicate { .. }), "{e}");
    assert!(e.to_string().contains("duplicate record id 0"), "{e}");
    // A missing shard.
    let e = merge(&t.path().join("m3"), &parts[..2]).unwrap_err();
    assert!(e.to_string().contains("first missing id: 4"), "{e}");
    // A part of another dataset (another seed).
    let other = t.path().join("other");
    let mut spec = tiny(7, 8, true, Shard { index: 2, count: 3 });
    spec.generator.base_seed = 4;
    generate(&other, &spec).unwrap();
    let e = merge(
        &t.path().join("m4"),
        &[parts[0].clone(), parts[1].clone(), other],
    )
    .unwrap_err();
    assert!(e.to_string().contains("generator"), "{e}");
}

#[test]
fn data_corrupted_or_truncated_files_name_the_file_and_record() {
    let t = tempfile::tempdir().unwrap();
    generate(t.path(), &tiny(5, 8, true, Shard::WHOLE)).unwrap();
    let m = t.path().join("m.npy");
    let good = std::fs::read(&m).unwrap();
    // One byte of record 3's curve (201 → 21 steps of f32 per row after the header).
    let header = good.len() - 5 * 21 * 4;
    let mut bad = good.clone();
    bad[header + 3 * 21 * 4 + 10] ^= 1;
    std::fs::write(&m, &bad).unwrap();
    let e = Dataset::open(t.path()).unwrap_err().to_string();
    assert!(e.contains("m.npy") && e.contains("record 3 (id 3)"), "{e}");
    // Truncated.
    std::fs::write(&m, &good[..good.len() - 7]).unwrap();
    let e = Dataset::open(t.path()).unwrap_err().to_string();
    assert!(e.contains("m.npy") && e.contains("truncated"), "{e}");
    std::fs::write(&m, &good).unwrap();
    Dataset::open(t.path()).unwrap();
    // Missing dataset.
    let e = Dataset::open(t.path().join("nope"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("manifest.json") && e.contains("not a coercive dataset"),
        "{e}"
    );
}

#[test]
fn data_log_cuts_a_torn_tail_but_refuses_damage_inside() {
    let t = tempfile::tempdir().unwrap();
    let spec = tiny(6, 8, false, Shard::WHOLE);
    let path = t.path().join("records.log");
    let sample = spec.generator.sample(6).unwrap();
    let recs: Vec<Record> = (0..4)
        .map(|id| {
            let o = sample.options_of(id).unwrap();
            let d = crate::grains::draw(&o).unwrap();
            Record {
                id: id as u64,
                seed: o.seed,
                ng: d.ng as u32,
                theta: d.theta,
                label: None,
            }
        })
        .collect();
    let mut r = log::Log::recover(&path, 0, 0..6, &[7; 32]).unwrap();
    r.log.append(&recs).unwrap();
    r.log.sync().unwrap();
    drop(r);
    let n = record::record_bytes(0);
    let full = std::fs::read(&path).unwrap();
    // A torn append: 3 whole records and part of the fourth.
    let h = log::HEADER;
    std::fs::write(&path, &full[..h + 3 * n + 5]).unwrap();
    let r = log::Log::recover(&path, 0, 0..6, &[7; 32]).unwrap();
    assert_eq!((r.records.len(), r.cut_bytes), (3, 5));
    assert_eq!(std::fs::metadata(&path).unwrap().len(), (h + 3 * n) as u64);
    drop(r);
    // A flipped byte in record 1 of 4.
    let mut bad = full.clone();
    bad[h + n + 14] ^= 0x40;
    std::fs::write(&path, &bad).unwrap();
    let e = log::Log::recover(&path, 0, 0..6, &[7; 32])
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("records.log: record 1 (id 1) is corrupted"),
        "{e}"
    );
    // A record twice.
    let mut dup = full[..h + 2 * n].to_vec();
    dup.extend_from_slice(&full[h..h + n]);
    dup.extend_from_slice(&full[h + 3 * n..]);
    std::fs::write(&path, &dup).unwrap();
    let e = log::Log::recover(&path, 0, 0..6, &[7; 32])
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("duplicate record id 0"), "{e}");
    // A header torn by a kill (empty, or part of it): a fresh log with the whole header.
    for cut in [0, 9] {
        std::fs::write(&path, &full[..cut]).unwrap();
        let r = log::Log::recover(&path, 0, 0..6, &[7; 32]).unwrap();
        assert_eq!((r.records.len(), r.cut_bytes), (0, 0));
        assert_eq!(std::fs::read(&path).unwrap(), full[..h]);
    }
    // A new log is never seen without its header.
    std::fs::remove_file(&path).unwrap();
    drop(log::Log::recover(&path, 0, 0..6, &[7; 32]).unwrap());
    assert_eq!(std::fs::read(&path).unwrap(), full[..h]);
}

#[test]
fn data_one_writer_per_directory() {
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("lock");
    let held = log::Lock::take(&path).unwrap();
    let e = log::Lock::take(&path).err().unwrap().to_string();
    assert!(e.contains("another coercive process"), "{e}");
    drop(held);
    log::Lock::take(&path).unwrap();
}

#[test]
fn data_generation_takes_the_records_of_finished_datasets_of_other_counts_and_shards() {
    let t = tempfile::tempdir().unwrap();
    let p = |name: &str| t.path().join(name);
    let (single, _) = generate(&p("single"), &tiny(10, 8, true, Shard::WHOLE)).unwrap();
    generate(&p("first6"), &tiny(6, 8, true, Shard::WHOLE)).unwrap();
    // Grown: the 6 finished records taken, 4 made.
    let (m, s) = generate_from(
        &p("grown"),
        &tiny(10, 8, true, Shard::WHOLE),
        &[p("first6")],
    )
    .unwrap();
    assert_eq!((m.records, s.taken, s.generated), (10, 6, 4));
    assert!(
        s.to_string().contains("4 made now, 0 resumed, 6 taken"),
        "{s}"
    );
    assert_eq!(files(&p("grown")), files(&p("single")));
    assert_eq!(m, single);
    // From a smaller dataset and a shard of another count that overlap on id 5: nothing
    // left to make.
    let last = tiny(12, 8, true, Shard { index: 1, count: 2 });
    assert_eq!(last.ids, [6, 12]);
    generate(&p("last"), &last).unwrap();
    let (_, s) = generate_from(
        &p("whole"),
        &tiny(10, 8, true, Shard::WHOLE),
        &[p("first6"), p("last")],
    )
    .unwrap();
    assert_eq!((s.taken, s.generated), (10, 0));
    // Nothing made: no rate, but the labels' statistics.
    let line = s.to_string();
    assert!(
        !line.contains("/s") && !line.contains("/min") && line.contains("non-converged"),
        "{line}"
    );
    assert_eq!(files(&p("whole")), files(&p("single")));
    // A shard takes only its own ids.
    let (m, s) = generate_from(
        &p("part"),
        &tiny(10, 8, true, Shard { index: 0, count: 2 }),
        &[p("last"), p("first6")],
    )
    .unwrap();
    assert_eq!((m.records, s.taken, s.generated), (5, 5, 0));
    // Other settings (seed, labels) and a directory that is no dataset are refused before
    // anything is written.
    let mut other_seed = tiny(10, 8, true, Shard::WHOLE);
    other_seed.generator.base_seed = 4;
    let e = generate_from(&p("r1"), &other_seed, &[p("first6")]).unwrap_err();
    assert!(
        e.to_string()
            .contains("generator.base_seed: 3 there, 4 asked"),
        "{e}"
    );
    let e = generate_from(&p("r2"), &tiny(10, 8, false, Shard::WHOLE), &[p("first6")]).unwrap_err();
    assert!(e.to_string().contains("solver"), "{e}");
    std::fs::create_dir(p("empty")).unwrap();
    let e = generate_from(&p("r3"), &tiny(10, 8, true, Shard::WHOLE), &[p("empty")]).unwrap_err();
    assert!(e.to_string().contains("not a coercive dataset"), "{e}");
    for r in ["r1", "r2", "r3"] {
        assert!(!p(r).exists(), "{r} was written");
    }
}
