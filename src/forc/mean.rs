//! The mean of FORC sets on one lattice of fields: a sample's diagram from many simulated
//! magnets, as a magnetometer measures the sum over its grains. ρ is linear in M, so the
//! mean set's ρ is the mean of the sets' ρ.

use super::{Reversal, Reversals};

impl Reversals {
    /// The pointwise mean of `sets`, which must share their reversal fields, each curve's
    /// fields (to a part in 1e9 of a step), their units and Ms/HA.
    pub fn mean(sets: &[&Reversals]) -> Result<Reversals, String> {
        let Some(first) = sets.first() else {
            return Err("no FORC sets to average".into());
        };
        let (dr, dh) = first.steps();
        let tol = 1e-9 * dr.min(dh);
        for (k, set) in sets.iter().enumerate().skip(1) {
            let at = format!("set {}", k + 1);
            if set.reduced != first.reduced {
                return Err(format!(
                    "{at} is in {} and set 1 in {}: expected one unit",
                    set.units().0,
                    first.units().0
                ));
            }
            let same_material = match (set.ms_per_ha, first.ms_per_ha) {
                (Some(a), Some(b)) => (a - b).abs() <= 1e-12 * b.abs(),
                (a, b) => a.is_none() && b.is_none(),
            };
            if !same_material {
                return Err(format!(
                    "{at} has Ms/HA {:?} and set 1 {:?}: expected one material",
                    set.ms_per_ha, first.ms_per_ha
                ));
            }
            if set.curves.len() != first.curves.len() {
                return Err(format!(
                    "{at} has {} reversal curves and set 1 {}: expected the same lattice of \
                     fields (the same h_start, h_end and h_step)",
                    set.curves.len(),
                    first.curves.len()
                ));
            }
            for (j, (a, b)) in set.curves.iter().zip(&first.curves).enumerate() {
                let differ = (a.h_r - b.h_r).abs() > tol
                    || a.h.len() != b.h.len()
                    || a.h.iter().zip(&b.h).any(|(x, y)| (x - y).abs() > tol);
                if differ {
                    return Err(format!(
                        "{at}, curve {} (h_r = {}): its fields differ from set 1's: expected the \
                         same lattice of fields (the same h_start, h_end and h_step)",
                        j + 1,
                        a.h_r
                    ));
                }
            }
        }
        let n = sets.len() as f64;
        let curves = first
            .curves
            .iter()
            .enumerate()
            .map(|(j, c)| Reversal {
                h_r: c.h_r,
                h: c.h.clone(),
                m: (0..c.m.len())
                    .map(|i| sets.iter().map(|s| s.curves[j].m[i]).sum::<f64>() / n)
                    .collect(),
            })
            .collect();
        Reversals::new(curves, first.ms_per_ha, first.reduced)
    }
}

#[cfg(test)]
mod tests {
    use super::super::distribution::tests::lattice;
    use super::*;

    #[test]
    fn the_mean_sets_distribution_is_the_mean_of_the_distributions() {
        let a = lattice(15, 0.1, 1.0, |x, y| (x * y).sin() + 0.3 * y);
        let b = lattice(15, 0.1, 1.0, |x, y| (2.0 * x - y).tanh() * y);
        let m = Reversals::mean(&[&a, &b]).unwrap();
        let [da, db, dm] = [&a, &b, &m].map(|r| r.distribution(2).unwrap());
        assert_eq!(dm.rho.len(), da.rho.len());
        for k in 0..dm.rho.len() {
            let expected = 0.5 * (da.rho[k] + db.rho[k]);
            assert!(
                (dm.rho[k] - expected).abs() < 1e-9,
                "{} against {expected}",
                dm.rho[k]
            );
        }
        assert_eq!(Reversals::mean(&[&a]).unwrap(), a);
    }

    #[test]
    fn sets_on_different_lattices_or_units_are_refused() {
        let a = lattice(15, 0.1, 1.0, |_, y| y);
        let fewer = lattice(14, 0.1, 1.0, |_, y| y);
        let e = Reversals::mean(&[&a, &fewer]).unwrap_err();
        assert!(
            e.contains("set 2 has 14 reversal curves and set 1 15"),
            "{e}"
        );
        let shifted = lattice(15, 0.1, 1.05, |_, y| y);
        let e = Reversals::mean(&[&a, &shifted]).unwrap_err();
        assert!(
            e.contains("set 2, curve 1 (h_r = 1.05): its fields differ"),
            "{e}"
        );
        let mut other = a.clone();
        other.ms_per_ha = Some(0.25);
        let e = Reversals::mean(&[&a, &other]).unwrap_err();
        assert!(e.contains("expected one material"), "{e}");
        let mut file = a.clone();
        file.reduced = false;
        let e = Reversals::mean(&[&a, &file]).unwrap_err();
        assert!(e.contains("set 2 is in file units and set 1 in HA"), "{e}");
        assert!(Reversals::mean(&[]).is_err());
    }
}
