//! A curve's steps as a CSV table.

use super::{Curve, CurvePoint};

impl Curve {
    /// The steps as CSV (k, h, my, mx, iterations, torque, converged), written atomically.
    pub fn write_csv(&self, path: &str) -> Result<(), String> {
        let rows = self.points.iter().enumerate();
        write_steps(path, &["k"], rows.map(|(k, p)| (vec![k.to_string()], p)))
    }
}

/// Rows of steps as CSV, written atomically: each row's `lead` columns, then the step's h,
/// my, mx, iterations, torque and converged (1/0).
pub(crate) fn write_steps<'a>(
    path: &str,
    lead: &[&str],
    rows: impl Iterator<Item = (Vec<String>, &'a CurvePoint)>,
) -> Result<(), String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let io = |e: csv::Error| format!("{path}: {e}");
    let step = ["h", "my", "mx", "iterations", "torque", "converged"];
    w.write_record(lead.iter().chain(&step)).map_err(io)?;
    for (mut row, p) in rows {
        row.extend([
            p.h.to_string(),
            p.my.to_string(),
            p.mx.to_string(),
            p.iterations.to_string(),
            p.torque.to_string(),
            (p.converged as u8).to_string(),
        ]);
        w.write_record(&row).map_err(io)?;
    }
    let bytes = w.into_inner().map_err(|e| format!("{path}: {e}"))?;
    crate::fsio::write(path, bytes).map_err(|e| format!("{path}: {e}"))
}
