//! One record: a structure's generating parameters and, when labelled, its demagnetisation
//! curve and anchors. Records have a fixed size for a given number of field steps, so a log
//! of them can be checked and cut at record boundaries.
//!
//! Bytes (little-endian), the same in the generation log and behind `crc32.npy`:
//!
//! | bytes | field |
//! |---|---|
//! | 4 | magic `CREC` |
//! | 8 | id (u64) |
//! | 8 | rng seed (u64) = splitmix64(base_seed, id) |
//! | 4 | ng, grains drawn (u32) |
//! | 8 | θ (f64, radians) |
//! | 17 × steps | per field step: m_y f32, m_x f32, iterations u32, torque f32, converged u8 |
//! | 6 × 8 + 1 | anchors M1, Mr, Hk90, Hk80, Hk70, Hc (f64, NaN when missing), missing bitmask u8 |
//! | 4 | CRC-32 (IEEE) of everything before it |
//!
//! The last two rows of label data are absent in unlabelled datasets.

use crate::solver::{Anchors, Curve, CurvePoint};

const MAGIC: &[u8; 4] = b"CREC";
const HEAD: usize = 4 + 8 + 8 + 4 + 8;
const STEP: usize = 17;
const ANCHORS: usize = 6 * 8 + 1;

/// Bytes of one record with `steps` field steps (0 = unlabelled).
pub fn record_bytes(steps: usize) -> usize {
    HEAD + if steps > 0 { steps * STEP + ANCHORS } else { 0 } + 4
}

#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    pub my: Vec<f32>,
    pub mx: Vec<f32>,
    pub iterations: Vec<u32>,
    pub torque: Vec<f32>,
    pub converged: Vec<bool>,
    /// M1, Mr, Hk90, Hk80, Hk70, Hc from the full-precision curve.
    pub anchors: [Option<f64>; 6],
}

impl Label {
    pub fn from_curve(c: &Curve) -> Label {
        let col = |f: fn(&CurvePoint) -> f32| c.points.iter().map(f).collect();
        Label {
            my: col(|p| p.my as f32),
            mx: col(|p| p.mx as f32),
            iterations: c
                .points
                .iter()
                .map(|p| p.iterations.min(u32::MAX as usize) as u32)
                .collect(),
            torque: col(|p| p.torque as f32),
            converged: c.points.iter().map(|p| p.converged).collect(),
            anchors: c.anchors().named().map(|(_, v)| v),
        }
    }

    /// The stored curve on `fields` (`seconds` is not stored: 0).
    pub fn curve(&self, fields: &[f64]) -> Curve {
        let points = (0..self.my.len())
            .map(|k| CurvePoint {
                h: fields.get(k).copied().unwrap_or(f64::NAN),
                mx: self.mx[k] as f64,
                my: self.my[k] as f64,
                iterations: self.iterations[k] as usize,
                torque: self.torque[k] as f64,
                converged: self.converged[k],
            })
            .collect();
        Curve {
            points,
            seconds: 0.0,
            snapshots: vec![],
        }
    }

    pub fn anchors(&self) -> Anchors {
        Anchors::from_values(self.anchors)
    }

    /// Per anchor: whether it depends on a non-converged step, with the curve on `fields`.
    pub fn unreliable(&self, fields: &[f64]) -> [bool; 6] {
        self.anchors().unreliable(fields, &self.converged)
    }

    pub fn non_converged(&self) -> usize {
        self.converged.iter().filter(|c| !**c).count()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub id: u64,
    pub seed: u64,
    /// Grains drawn (seed points), including any that own no cell.
    pub ng: u32,
    /// θ in radians.
    pub theta: f64,
    /// Boxed: unlabelled records stay small (320 000 of them in memory ≈ 13 MB).
    pub label: Option<Box<Label>>,
}

impl Record {
    /// The record's bytes, checksum included; `steps` is the layout's step count.
    pub fn encode(&self, steps: usize) -> Vec<u8> {
        let mut b = Vec::with_capacity(record_bytes(steps));
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&self.id.to_le_bytes());
        b.extend_from_slice(&self.seed.to_le_bytes());
        b.extend_from_slice(&self.ng.to_le_bytes());
        b.extend_from_slice(&self.theta.to_le_bytes());
        if steps > 0 {
            let l = self.label.as_ref().expect("labelled layout needs a label");
            for k in 0..steps {
                b.extend_from_slice(&l.my[k].to_le_bytes());
                b.extend_from_slice(&l.mx[k].to_le_bytes());
                b.extend_from_slice(&l.iterations[k].to_le_bytes());
                b.extend_from_slice(&l.torque[k].to_le_bytes());
                b.push(l.converged[k] as u8);
            }
            let mut missing = 0u8;
            for (k, a) in l.anchors.iter().enumerate() {
                b.extend_from_slice(&a.unwrap_or(f64::NAN).to_le_bytes());
                missing |= (a.is_none() as u8) << k;
            }
            b.push(missing);
        }
        let crc = crc32fast::hash(&b);
        b.extend_from_slice(&crc.to_le_bytes());
        b
    }

    /// The record's CRC-32 (the last four bytes of [`Record::encode`]).
    pub fn crc(&self, steps: usize) -> u32 {
        let b = self.encode(steps);
        u32::from_le_bytes(bytes_at(&b, b.len() - 4))
    }

    /// Reads one record of `record_bytes(steps)` bytes; the error says what is wrong.
    /// The id is returned with the error when the bytes up to it look sound.
    pub fn decode(b: &[u8], steps: usize) -> Result<Record, (Option<u64>, String)> {
        let n = record_bytes(steps);
        if b.len() < n {
            return Err((None, format!("truncated: {} of {n} bytes", b.len())));
        }
        let b = &b[..n];
        let id = (&b[..4] == MAGIC).then(|| u64_at(b, 4));
        let want = u32::from_le_bytes(bytes_at(b, n - 4));
        let got = crc32fast::hash(&b[..n - 4]);
        if id.is_none() {
            return Err((None, "bad magic (not the start of a record)".into()));
        }
        if got != want {
            return Err((id, format!("CRC-32 {got:08x}, stored {want:08x}")));
        }
        let label = (steps > 0).then(|| {
            let at = |k: usize, o: usize| HEAD + k * STEP + o;
            let f32_at = |p: usize| f32::from_le_bytes(bytes_at(b, p));
            let base = HEAD + steps * STEP;
            let missing = b[base + 48];
            Box::new(Label {
                my: (0..steps).map(|k| f32_at(at(k, 0))).collect(),
                mx: (0..steps).map(|k| f32_at(at(k, 4))).collect(),
                iterations: (0..steps)
                    .map(|k| u32::from_le_bytes(bytes_at(b, at(k, 8))))
                    .collect(),
                torque: (0..steps).map(|k| f32_at(at(k, 12))).collect(),
                converged: (0..steps).map(|k| b[at(k, 16)] != 0).collect(),
                anchors: std::array::from_fn(|k| {
                    (missing >> k & 1 == 0).then(|| f64::from_bits(u64_at(b, base + 8 * k)))
                }),
            })
        });
        Ok(Record {
            id: u64_at(b, 4),
            seed: u64_at(b, 12),
            ng: u32::from_le_bytes(bytes_at(b, 20)),
            theta: f64::from_bits(u64_at(b, 24)),
            label,
        })
    }
}

fn u64_at(b: &[u8], p: usize) -> u64 {
    u64::from_le_bytes(bytes_at(b, p))
}

/// The `N` bytes at `p`; callers have checked the record's length first.
fn bytes_at<const N: usize>(b: &[u8], p: usize) -> [u8; N] {
    let mut out = [0; N];
    out.copy_from_slice(&b[p..p + N]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labelled() -> Record {
        Record {
            id: 7,
            seed: 99,
            ng: 20,
            theta: 0.5,
            label: Some(Box::new(Label {
                my: vec![1.0, 0.5, -0.2],
                mx: vec![0.0, 0.1, 0.2],
                iterations: vec![3, 40, 500],
                torque: vec![1e-5, 2e-5, 3e-5],
                converged: vec![true, false, true],
                anchors: [Some(1.0), Some(0.5), None, Some(0.3), None, Some(0.9)],
            })),
        }
    }

    #[test]
    fn data_record_round_trips_and_detects_any_flipped_byte() {
        for (r, steps) in [
            (labelled(), 3),
            (
                Record {
                    label: None,
                    ..labelled()
                },
                0,
            ),
        ] {
            let b = r.encode(steps);
            assert_eq!(b.len(), record_bytes(steps));
            assert_eq!(Record::decode(&b, steps).unwrap(), r);
            for k in 0..b.len() {
                let mut c = b.clone();
                c[k] ^= 0x10;
                assert!(Record::decode(&c, steps).is_err(), "byte {k}");
            }
            assert!(Record::decode(&b[..b.len() - 1], steps).is_err());
        }
    }
}
