//! File formats: round trips (CSV, NPY, NPZ exact; PNG to colormap resolution; native
//! save/load bit for bit) and clear refusals of bad files.

use coercive::colormap;
use coercive::grains::{PngOptions, PngReadOptions, Structure, VoronoiOptions, voronoi};
use std::path::PathBuf;

const REF: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/reference/fidimag/small_fixed_dm1e-6"
);

fn sample(seed: u64, nx: usize, ny: usize, periodic: bool) -> Structure {
    voronoi(&VoronoiOptions {
        nx,
        ny,
        seed,
        periodic,
        grains: Some(40),
        ..Default::default()
    })
    .unwrap()
}

fn tmp(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

fn same_cells(a: &Structure, b: &Structure) {
    assert_eq!((a.nx(), a.ny()), (b.nx(), b.ny()));
    for c in 0..a.n_cells() {
        assert_eq!(
            a.cell_angle(c).to_bits(),
            b.cell_angle(c).to_bits(),
            "cell {c}"
        );
    }
}

#[test]
fn grains_csv_round_trip_is_exact() {
    let dir = tempfile::tempdir().unwrap();
    let s = voronoi(&VoronoiOptions {
        nx: 37,
        ny: 23,
        cell_nm: 2.5,
        seed: 3,
        ..Default::default()
    })
    .unwrap();
    s.write_csv(tmp(&dir, "s.csv")).unwrap();
    let r = Structure::read_csv(tmp(&dir, "s.csv"), None).unwrap();
    assert_eq!(r.cell_nm(), 2.5);
    assert_eq!(r.grains(), s.grains());
    assert_eq!(r.n_owning(), s.n_owning());
    same_cells(&s, &r);
    assert!(r.generator().is_none());
}

#[test]
fn grains_csv_reads_the_reference_cells() {
    let r = Structure::read_csv(format!("{REF}/cells.csv"), None).unwrap();
    assert_eq!(
        (r.nx(), r.ny(), r.cell_nm(), r.n_owning()),
        (40, 40, 2.0, 8)
    );
    let mut csv = csv::Reader::from_path(format!("{REF}/grains.csv")).unwrap();
    for (g, rec) in csv.records().enumerate() {
        let a: f64 = rec.unwrap()[3].parse().unwrap();
        assert_eq!(r.grain_angles()[g].to_bits(), a.to_bits());
    }
}

#[test]
fn grains_csv_without_grain_column_groups_equal_angles() {
    let dir = tempfile::tempdir().unwrap();
    let p = tmp(&dir, "a.csv");
    std::fs::write(
        &p,
        "j,i,angle_rad,note\n0,0,0.5,x\n0,1,0.25,y\n1,0,0.5,z\n1,1,0.5,w\n",
    )
    .unwrap();
    let r = Structure::read_csv(&p, None).unwrap();
    assert_eq!((r.nx(), r.ny(), r.cell_nm()), (2, 2, 2.0));
    assert_eq!(r.grains(), &[0, 1, 0, 0]);
    assert_eq!(r.grain_angles(), &[0.5, 0.25]);
}

#[test]
fn grains_csv_refuses_bad_files_naming_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("i,j,angle_rad\n0,0,0\n1,0,0\n0,1,0\n1,0,0\n", "row 5"), // duplicate cell
        ("i,j,angle_rad\n0,0,0\n1,0,0\n0,1,0\n", "2 × 2 cells"),  // missing cell
        ("i,j,angle_rad\n0,0,0\n1,0,abc\n", "row 3, column angle_rad"), // not a number
        ("i,j,angle\n0,0,0\n", "a column \"angle_rad\""),         // missing column
        ("i,j,grain,angle_rad\n0,0,0,0.1\n1,0,0,0.2\n", "row 3"), // one grain, two angles
        ("i,j,angle_rad\n-1,0,0\n", "row 2, column i"),
        ("i,j,angle_rad\n", "no rows"),
    ];
    for (k, (text, needle)) in cases.iter().enumerate() {
        let p = tmp(&dir, &format!("bad{k}.csv"));
        std::fs::write(&p, text).unwrap();
        let e = Structure::read_csv(&p, None).unwrap_err().to_string();
        assert!(
            e.contains(needle) && e.contains("expected"),
            "case {k}: {e}"
        );
    }
}

#[test]
fn grains_npy_and_npz_round_trips_are_exact() {
    let dir = tempfile::tempdir().unwrap();
    // .npy keeps no grain ids: grains come back as 4-connected regions of one angle, each
    // inside one original grain (a grain wrapping round the border, or touching itself
    // only at a corner, comes back in pieces; .npz keeps the ids).
    let s = sample(8, 31, 17, true);
    s.write_npy(tmp(&dir, "a.npy")).unwrap();
    let r = Structure::read_npy(tmp(&dir, "a.npy"), 2.0).unwrap();
    same_cells(&s, &r);
    let mut owner = std::collections::HashMap::new();
    for c in 0..s.n_cells() {
        assert_eq!(
            *owner.entry(r.grains()[c]).or_insert(s.grains()[c]),
            s.grains()[c]
        );
    }
    assert!(r.n_grains() >= s.n_owning());
    assert_eq!(s.angle_array().dim(), (17, 31));

    s.write_npz(tmp(&dir, "a.npz")).unwrap();
    let z = Structure::read_npz(tmp(&dir, "a.npz"), None).unwrap();
    assert_eq!(z.grains(), s.grains());
    assert_eq!(z.grain_angles(), s.grain_angles());
    assert_eq!(z.cell_nm(), s.cell_nm());

    std::fs::write(tmp(&dir, "junk.npy"), b"not numpy").unwrap();
    let e = Structure::read_npy(tmp(&dir, "junk.npy"), 2.0)
        .unwrap_err()
        .to_string();
    assert!(e.contains("junk.npy") && e.contains("expected"), "{e}");
}

#[test]
fn grains_png_round_trip_to_colormap_resolution() {
    let dir = tempfile::tempdir().unwrap();
    for (k, scale) in [1usize, 3].into_iter().enumerate() {
        let s = sample(20 + k as u64, 45, 30, false);
        let p = tmp(&dir, &format!("s{k}.png"));
        s.write_png(
            &p,
            &PngOptions {
                scale,
                ..Default::default()
            },
        )
        .unwrap();
        let r = Structure::read_png(&p, &PngReadOptions::default()).unwrap();
        assert_eq!((r.nx(), r.ny()), (45, 30));
        for c in 0..s.n_cells() {
            let (a, b) = (s.cell_angle(c).sin(), r.cell_angle(c).sin());
            assert!((a - b).abs() <= 0.02, "cell {c}: k_x {a} came back as {b}");
            assert!(r.cell_angle(c).abs() <= std::f64::consts::FRAC_PI_2);
        }
        // Neighbours in one grain stay together; neighbours read as one grain share a colour.
        for j in 0..30 {
            for i in 0..45 {
                for (di, dj) in [(1, 0), (0, 1)] {
                    let (a, b) = (s.index(i, j), s.index((i + di).min(44), (j + dj).min(29)));
                    if s.grains()[a] == s.grains()[b] {
                        assert_eq!(r.grains()[a], r.grains()[b]);
                    }
                    if r.grains()[a] == r.grains()[b] {
                        assert_eq!(
                            colormap::rgb(s.cell_angle(a).sin()),
                            colormap::rgb(s.cell_angle(b).sin())
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn grains_png_puts_y_up_and_draws_boundaries_and_bar() {
    // One column, two cells: bottom ψ = −π/2 (k_x = −1, red), top ψ = +π/2 (blue).
    let half = std::f64::consts::FRAC_PI_2;
    let s = Structure::from_grains(1, 2, 2.0, vec![0, 1], vec![-half, half]).unwrap();
    let (w, h, img) = s
        .render_rgb(&PngOptions {
            scale: 1,
            ..Default::default()
        })
        .unwrap();
    assert_eq!((w, h), (1, 2));
    assert_eq!(&img[0..3], &colormap::rgb(1.0));
    assert_eq!(&img[3..6], &colormap::rgb(-1.0));

    let big = sample(4, 40, 40, false);
    let o = PngOptions {
        scale: 4,
        boundaries: true,
        scale_bar_nm: Some(20.0),
    };
    let (w, h, img) = big.render_rgb(&o).unwrap();
    let black = (0..w * h)
        .filter(|p| img[3 * p..3 * p + 3] == [0, 0, 0])
        .count();
    // Bar: 20 nm = 10 cells = 40 px long, 2 px thick, bottom left with a 4 px margin.
    assert_eq!(
        &img[3 * ((h - 5) * w + 4)..3 * ((h - 5) * w + 4) + 3],
        &[0, 0, 0]
    );
    assert!(black > 80);
    let dir = tempfile::tempdir().unwrap();
    big.write_png(tmp(&dir, "b.png"), &o).unwrap();
    let e = Structure::read_png(tmp(&dir, "b.png"), &PngReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("pixel") && e.contains("#000000"), "{e}");
    let e = big
        .render_rgb(&PngOptions {
            scale_bar_nm: Some(1000.0),
            ..o
        })
        .unwrap_err()
        .to_string();
    assert!(e.contains("scale bar"), "{e}");
}

#[test]
fn grains_png_refuses_foreign_colours() {
    let dir = tempfile::tempdir().unwrap();
    let p = tmp(&dir, "green.png");
    let f = std::fs::File::create(&p).unwrap();
    let mut enc = png::Encoder::new(std::io::BufWriter::new(f), 2, 1);
    enc.set_color(png::ColorType::Rgb);
    let mut wr = enc.write_header().unwrap();
    wr.write_image_data(&[0xf7, 0xf7, 0xf7, 0, 200, 0]).unwrap();
    wr.finish().unwrap();
    let one = PngReadOptions {
        scale: Some(1),
        ..Default::default()
    };
    let e = Structure::read_png(&p, &one).unwrap_err().to_string();
    assert!(
        e.contains("green.png") && e.contains("#00c800") && e.contains("x 1, y 0"),
        "{e}"
    );
}

#[test]
fn grains_save_load_is_exact() {
    let dir = tempfile::tempdir().unwrap();
    let generated = sample(77, 50, 20, true);
    let imported = Structure::read_csv(format!("{REF}/cells.csv"), None).unwrap();
    let given = Structure::from_seeds(
        10,
        12,
        1.5,
        vec![[1.0, 2.0], [9.5, 3.25]],
        vec![0.1, -0.2],
        false,
    )
    .unwrap();
    for (k, s) in [generated, imported, given].iter().enumerate() {
        let p = tmp(&dir, &format!("s{k}.grains"));
        s.save(&p).unwrap();
        let r = Structure::load(&p).unwrap();
        assert_eq!(&r, s);
        assert_eq!(r.to_bytes(), s.to_bytes());
    }
    let bytes = std::fs::read(tmp(&dir, "s0.grains")).unwrap();
    let bad = |b: &[u8], needle: &str| {
        let p = tmp(&dir, "bad.grains");
        std::fs::write(&p, b).unwrap();
        let e = Structure::load(&p).unwrap_err().to_string();
        assert!(e.contains(needle) && e.contains("expected"), "{e}");
    };
    bad(&bytes[..bytes.len() - 3], "checksum");
    bad(b"hello", "byte 0");
    let mut wrong = bytes.clone();
    *wrong.last_mut().unwrap() ^= 1;
    bad(&wrong, "checksum");
    let mut more = bytes.clone();
    more.push(0);
    bad(&more, "checksum");
}

#[test]
fn grains_png_reads_rgba_pictures_and_checks_the_scale() {
    // 4 × 2 pixels RGBA, 2 px per cell: left cell k_x = −1 (red), right k_x = 0.5.
    let (a, b) = (colormap::rgb(-1.0), colormap::rgb(0.5));
    let mut data = Vec::new();
    for _ in 0..2 {
        for c in [a, a, b, b] {
            data.extend_from_slice(&[c[0], c[1], c[2], 255]);
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let p = tmp(&dir, "rgba.png");
    let mut enc = png::Encoder::new(
        std::io::BufWriter::new(std::fs::File::create(&p).unwrap()),
        4,
        2,
    );
    enc.set_color(png::ColorType::Rgba);
    let mut wr = enc.write_header().unwrap();
    wr.write_image_data(&data).unwrap();
    wr.finish().unwrap();
    let e = Structure::read_png(&p, &PngReadOptions::default()).unwrap_err();
    assert!(e.to_string().contains("`scale`"), "{e}");
    let two = PngReadOptions {
        scale: Some(2),
        ..Default::default()
    };
    let r = Structure::read_png(&p, &two).unwrap();
    assert_eq!((r.nx(), r.ny(), r.n_grains()), (2, 1, 2));
    assert!((r.angle_at(0, 0) + std::f64::consts::FRAC_PI_2).abs() < 1e-9);
    assert!((r.angle_at(1, 0).sin() - 0.5).abs() < 0.02);
    let e = Structure::read_png(
        &p,
        &PngReadOptions {
            scale: Some(3),
            ..Default::default()
        },
    );
    assert!(
        e.unwrap_err()
            .to_string()
            .contains("multiple of the scale 3")
    );
    let one = Structure::read_png(
        &p,
        &PngReadOptions {
            scale: Some(1),
            ..Default::default()
        },
    );
    assert_eq!(one.unwrap().nx(), 4);
}
