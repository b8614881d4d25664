//! CSV, one row per cell, the layout of the reference `cells.csv`.
//!
//! Written: `i,j,x_nm,y_nm,grain,angle_rad` (centres in nm; numbers in Rust's shortest
//! round-trip form, so reading back is exact).
//! Read: columns by header name; `i`, `j`, `angle_rad` required, `grain` and `x_nm`
//! optional, any other column ignored. The grid is (max i + 1) × (max j + 1) and every cell
//! must appear exactly once. Grains: the `grain` column when present (all its cells must
//! share one angle; ids without cells get angle 0), else 4-connected regions of equal angle.
//! Cell size: the argument when given, else from `x_nm` = (i + ½)·Δ when present, else 2 nm.

use super::error::{Result, format_err, in_file, io_err};
use super::structure::{MAX_CELLS, MAX_GRAINS, Structure};
use std::path::Path;
use std::str::FromStr;

/// Default cell size (nm) when a file does not say.
pub const DEFAULT_CELL_NM: f64 = 2.0;

struct Cell {
    line: u64,
    i: usize,
    j: usize,
    angle: f64,
    grain: Option<u32>,
    x_nm: Option<f64>,
}

fn field<T: FromStr>(
    path: &Path,
    rec: &csv::StringRecord,
    line: u64,
    col: (usize, &str),
    what: &str,
) -> Result<T> {
    let text = rec.get(col.0).unwrap_or("");
    text.parse().map_err(|_| {
        format_err(
            path,
            format!("row {line}, column {}", col.1),
            what,
            format!("{text:?}"),
        )
    })
}

fn read_cells(path: &Path) -> Result<Vec<Cell>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| format_err(path, "opening", "a readable CSV file", e))?;
    let head = reader
        .headers()
        .map_err(|e| format_err(path, "header", "a CSV header row", e))?
        .clone();
    let find = |name: &'static str| head.iter().position(|h| h == name).map(|k| (k, name));
    let need = |name: &'static str| {
        find(name).ok_or_else(|| {
            format_err(
                path,
                "header",
                format!("a column {name:?}"),
                format!("{:?}", head.iter().collect::<Vec<_>>()),
            )
        })
    };
    let (ci, cj, ca) = (need("i")?, need("j")?, need("angle_rad")?);
    let (cg, cx) = (find("grain"), find("x_nm"));
    let mut cells = Vec::new();
    for rec in reader.records() {
        let rec = rec.map_err(|e| format_err(path, "record", "well-formed CSV", e))?;
        let line = rec.position().map_or(0, |p| p.line());
        let angle: f64 = field(path, &rec, line, ca, "an angle in radians")?;
        if !angle.is_finite() {
            return Err(format_err(
                path,
                format!("row {line}, column angle_rad"),
                "a finite angle",
                angle,
            ));
        }
        let grain = match cg {
            Some(c) => {
                let g: u32 = field(path, &rec, line, c, "a grain id ≥ 0")?;
                if g as usize >= MAX_GRAINS {
                    return Err(format_err(
                        path,
                        format!("row {line}, column grain"),
                        format!("a grain id < {MAX_GRAINS}"),
                        g,
                    ));
                }
                Some(g)
            }
            None => None,
        };
        let x_nm = cx
            .map(|c| field(path, &rec, line, c, "a coordinate in nm"))
            .transpose()?;
        cells.push(Cell {
            line,
            i: field(path, &rec, line, ci, "a cell index i ≥ 0")?,
            j: field(path, &rec, line, cj, "a cell index j ≥ 0")?,
            angle,
            grain,
            x_nm,
        });
        if cells.len() > MAX_CELLS {
            return Err(format_err(
                path,
                format!("row {line}"),
                format!("at most {MAX_CELLS} cells"),
                "more",
            ));
        }
    }
    Ok(cells)
}

/// Δ = x_nm/(i + ½) at the largest i, checked against every row.
fn cell_from_x(path: &Path, cells: &[Cell]) -> Result<Option<f64>> {
    let Some(far) = cells
        .iter()
        .filter(|c| c.x_nm.is_some())
        .max_by_key(|c| c.i)
    else {
        return Ok(None);
    };
    let cell = far.x_nm.unwrap_or(0.0) / (far.i as f64 + 0.5);
    for c in cells {
        let x = c.x_nm.unwrap_or(f64::NAN);
        let want = (c.i as f64 + 0.5) * cell;
        if !((x - want).abs() <= 1e-5 * cell.abs()) {
            return Err(format_err(
                path,
                format!("row {}, column x_nm", c.line),
                format!("(i + ½)·{cell} = {want}"),
                x,
            ));
        }
    }
    Ok(Some(cell))
}

impl Structure {
    /// Writes one row per cell: `i,j,x_nm,y_nm,grain,angle_rad`.
    pub fn write_csv(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let mut out = String::with_capacity(self.n_cells() * 48);
        out.push_str("i,j,x_nm,y_nm,grain,angle_rad\n");
        for j in 0..self.ny() {
            for i in 0..self.nx() {
                let c = self.index(i, j);
                let (x, y) = (
                    (i as f64 + 0.5) * self.cell_nm(),
                    (j as f64 + 0.5) * self.cell_nm(),
                );
                out.push_str(&format!(
                    "{i},{j},{x},{y},{},{}\n",
                    self.grains()[c],
                    self.cell_angle(c)
                ));
            }
        }
        crate::fsio::write(path, out).map_err(|e| io_err(path, e))
    }

    /// Reads a per-cell CSV (see the module notes); `cell_nm` overrides the file's.
    pub fn read_csv(path: impl AsRef<Path>, cell_nm: Option<f64>) -> Result<Structure> {
        let path = path.as_ref();
        let cells = read_cells(path)?;
        if cells.is_empty() {
            return Err(format_err(path, "rows", "one row per cell", "no rows"));
        }
        let nx = cells
            .iter()
            .map(|c| c.i)
            .max()
            .unwrap_or(0)
            .saturating_add(1);
        let ny = cells
            .iter()
            .map(|c| c.j)
            .max()
            .unwrap_or(0)
            .saturating_add(1);
        if nx.checked_mul(ny) != Some(cells.len()) {
            return Err(format_err(
                path,
                "rows",
                format!("{nx} × {ny} cells (from max i, j), each exactly once"),
                format!("{} rows", cells.len()),
            ));
        }
        let mut seen = vec![0u64; nx * ny];
        for c in &cells {
            let k = c.j * nx + c.i;
            if seen[k] != 0 {
                return Err(format_err(
                    path,
                    format!("row {}", c.line),
                    format!("cell (i {}, j {}) once", c.i, c.j),
                    format!("it again (first at row {})", seen[k]),
                ));
            }
            seen[k] = c.line.max(1);
        }
        let cell_nm = match cell_nm {
            Some(c) => c,
            None => cell_from_x(path, &cells)?.unwrap_or(DEFAULT_CELL_NM),
        };
        if cells[0].grain.is_none() {
            let mut angles = vec![0.0; nx * ny];
            for c in &cells {
                angles[c.j * nx + c.i] = c.angle;
            }
            return Structure::from_cell_angles(nx, ny, cell_nm, &angles)
                .map_err(|e| in_file(path, e));
        }
        let ng = cells.iter().filter_map(|c| c.grain).max().unwrap_or(0) as usize + 1;
        let mut grain = vec![0u32; nx * ny];
        let mut angle: Vec<Option<(f64, u64)>> = vec![None; ng];
        for c in &cells {
            let g = c.grain.unwrap_or(0);
            grain[c.j * nx + c.i] = g;
            match angle[g as usize] {
                None => angle[g as usize] = Some((c.angle, c.line)),
                Some((a, first)) if a.to_bits() != c.angle.to_bits() => {
                    return Err(format_err(
                        path,
                        format!("row {}, column angle_rad", c.line),
                        format!("grain {g}'s angle {a} (as at row {first})"),
                        c.angle,
                    ));
                }
                Some(_) => {}
            }
        }
        let angles = angle.into_iter().map(|a| a.map_or(0.0, |a| a.0)).collect();
        Structure::from_grains(nx, ny, cell_nm, grain, angles).map_err(|e| in_file(path, e))
    }
}
