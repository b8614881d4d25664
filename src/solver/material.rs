//! Material constants and the reduced weights they give: fields in units of the anisotropy
//! field HA = 2K1/(μ0Ms), energies in units of 2K1V per cell.

use super::SolverError;
use super::mesh::Mesh;

/// Vacuum permeability μ0 in T·m/A (the SI value before 2019, as fidimag and mumax3 use).
pub const MU0: f64 = 4.0e-7 * std::f64::consts::PI;

/// Exchange stiffness A (J/m), saturation magnetisation Ms (A/m), uniaxial anisotropy K1
/// (J/m³).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Material {
    pub a: f64,
    pub ms: f64,
    pub k1: f64,
}

impl Default for Material {
    fn default() -> Self {
        Self::nd2fe14b()
    }
}

impl Material {
    /// Nd2Fe14B as in docs/physics.md §3.1: A = 8e-12 J/m, μ0Ms = 1.61 T, K1 = 4.2e6 J/m³.
    pub fn nd2fe14b() -> Self {
        Material {
            a: 8e-12,
            ms: 1.61 / MU0,
            k1: 4.2e6,
        }
    }

    /// From A (J/m), polarisation Js = μ0Ms (T) and K1 (J/m³), validated.
    pub fn from_js(a: f64, js: f64, k1: f64) -> Result<Self, SolverError> {
        Material {
            a,
            ms: js / MU0,
            k1,
        }
        .validated()
    }

    /// The limits of every material constant, for scripts and the command line alike: A in
    /// [0, 1e-6] J/m, Js in [1e-6, 100] T, K1 in (0, 1e9] J/m³ (K1 = 0 would make HA, the
    /// unit of every field, zero).
    pub fn validated(self) -> Result<Self, SolverError> {
        if !(0.0..=1e-6).contains(&self.a) {
            return Err(SolverError::BadMaterial {
                what: "A (J/m), expected in [0, 1e-6]",
                value: self.a,
            });
        }
        // Js = μ0Ms in [1e-6, 100] T.
        if !(1e-6 / MU0..=100.0 / MU0).contains(&self.ms) {
            return Err(SolverError::BadMaterial {
                what: "Ms (A/m), expected μ0Ms = Js in [1e-6, 100] T",
                value: self.ms,
            });
        }
        if !(self.k1 > 0.0 && self.k1 <= 1e9) {
            return Err(SolverError::BadMaterial {
                what: "K1 (J/m³), expected in (0, 1e9] (HA = 2K1/(μ0Ms) is the unit of field)",
                value: self.k1,
            });
        }
        Ok(self)
    }

    /// The limits of a cell's or phase's constants: as [`Material::validated`], but K1 may be
    /// 0 (a soft phase); only the reference material sets the unit HA.
    pub fn validated_phase(self) -> Result<Self, SolverError> {
        if self.k1 == 0.0 {
            Material { k1: 1.0, ..self }.validated()?;
            return Ok(self);
        }
        self.validated()
    }

    /// Anisotropy field HA = 2K1/(μ0Ms) in A/m (the unit of every reduced field).
    pub fn ha(&self) -> f64 {
        2.0 * self.k1 / (MU0 * self.ms)
    }

    /// μ0HA in tesla (≈ 6.556 T for Nd2Fe14B).
    pub fn mu0_ha(&self) -> f64 {
        MU0 * self.ha()
    }

    /// Exchange weight A/(K1Δ²) of a link of length `delta` (≈ 0.476 for the paper's 2 nm).
    pub fn exchange_weight(&self, delta: f64) -> f64 {
        self.a / (self.k1 * delta * delta)
    }

    /// Demag weight μ0Ms²/(2K1) (≈ 0.2456 for Nd2Fe14B).
    pub fn demag_weight(&self) -> f64 {
        MU0 * self.ms * self.ms / (2.0 * self.k1)
    }

    /// Exchange length sqrt(2A/(μ0Ms²)) in metres.
    pub fn exchange_length(&self) -> f64 {
        (2.0 * self.a / (MU0 * self.ms * self.ms)).sqrt()
    }

    /// Converts a reduced energy (units of 2K1V, summed over cells) into a mean energy
    /// density in J/m³ over the `mesh`.
    pub fn energy_density(&self, reduced: f64, mesh: &Mesh) -> f64 {
        reduced * self.cell_density_unit() / mesh.cells() as f64
    }

    /// The energy density in J/m³ of one cell's reduced energy of 1 (units of 2K1V_cell).
    pub fn cell_density_unit(&self) -> f64 {
        2.0 * self.k1
    }
}

/// The exchange constant of a link between two cells: the harmonic mean (zero if either is).
pub fn link_exchange(a1: f64, a2: f64) -> f64 {
    if a1 + a2 > 0.0 {
        2.0 * a1 * a2 / (a1 + a2)
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nd2fe14b_weights_match_design() {
        let m = Material::nd2fe14b();
        assert!((m.mu0_ha() - 6.556367277056959).abs() < 1e-9);
        assert!((m.ha() - 5217391.304347826).abs() < 1e-3);
        assert!((m.exchange_weight(2e-9) - 0.47619).abs() < 1e-5);
        assert!((m.demag_weight() - 0.24556).abs() < 1e-4);
        assert_eq!(link_exchange(2.0, 2.0), 2.0);
        assert_eq!(link_exchange(0.0, 0.0), 0.0);
        let soft = Material { k1: 0.0, ..m };
        assert!(soft.validated().is_err(), "K1 = 0 cannot set the unit HA");
        assert!(
            soft.validated_phase().is_ok(),
            "but a soft phase may have it"
        );
        assert!(Material { k1: -1.0, ..m }.validated_phase().is_err());
    }
}
