//! Acceptance: the reference fidimag structure's seeds reproduce its cell assignment exactly.

use coercive::grains::Structure;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/reference/fidimag/small_fixed_dm1e-6"
);

fn rows(name: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(format!("{DIR}/{name}")).expect("reference file");
    let head = r.headers().unwrap().iter().map(String::from).collect();
    let body = r
        .records()
        .map(|x| x.unwrap().iter().map(String::from).collect())
        .collect();
    (head, body)
}

fn col(head: &[String], name: &str) -> usize {
    head.iter().position(|h| h == name).unwrap()
}

#[test]
fn grains_reference_seeds_give_the_reference_cells_exactly() {
    let (gh, grains) = rows("grains.csv");
    let seeds: Vec<[f64; 2]> = grains
        .iter()
        .map(|r| {
            [
                r[col(&gh, "seed_x_nm")].parse().unwrap(),
                r[col(&gh, "seed_y_nm")].parse().unwrap(),
            ]
        })
        .collect();
    let angles: Vec<f64> = grains
        .iter()
        .map(|r| r[col(&gh, "angle_rad")].parse().unwrap())
        .collect();
    let s = Structure::from_seeds(40, 40, 2.0, seeds, angles, false).unwrap();
    assert_eq!(s.n_owning(), 8);

    let (ch, cells) = rows("cells.csv");
    assert_eq!(cells.len(), 1600);
    for r in &cells {
        let i: usize = r[col(&ch, "i")].parse().unwrap();
        let j: usize = r[col(&ch, "j")].parse().unwrap();
        let g: u32 = r[col(&ch, "grain")].parse().unwrap();
        let a: f64 = r[col(&ch, "angle_rad")].parse().unwrap();
        let c = s.index(i, j);
        assert_eq!(s.grains()[c], g, "cell ({i}, {j})");
        assert_eq!(s.cell_angle(c).to_bits(), a.to_bits(), "cell ({i}, {j})");
    }
}
