//! A curve's steps as a CSV table.

use super::Curve;

impl Curve {
    /// The steps as CSV (k, h, my, mx, iterations, torque, converged), written atomically.
    pub fn write_csv(&self, path: &str) -> Result<(), String> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let io = |e: csv::Error| format!("{path}: {e}");
        w.write_record(["k", "h", "my", "mx", "iterations", "torque", "converged"])
            .map_err(io)?;
        for (k, p) in self.points.iter().enumerate() {
            w.write_record([
                k.to_string(),
                p.h.to_string(),
                p.my.to_string(),
                p.mx.to_string(),
                p.iterations.to_string(),
                p.torque.to_string(),
                (p.converged as u8).to_string(),
            ])
            .map_err(io)?;
        }
        let bytes = w.into_inner().map_err(|e| format!("{path}: {e}"))?;
        crate::fsio::write(path, bytes).map_err(|e| format!("{path}: {e}"))
    }
}
