//! Reading measured reversal curves: the Princeton Measurements (MicroMag) and Lake Shore
//! FORC files that FORCinel, VARIFORC and doFORC read, and column tables with a header
//! (h_r, h and m or my; what `Forc.to_csv` writes). Cells are comma, semicolon, tab or
//! space apart.

use super::{Reversal, Reversals};
use std::path::Path;

/// How a measured file becomes reduced units: h = H/ha, m = M/ms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReadOptions {
    /// The anisotropy field in the file's field unit; None keeps the file's fields.
    pub ha: Option<f64>,
    /// The saturation moment in the file's moment unit; None keeps the file's moments.
    pub ms: Option<f64>,
    /// Whether to correct each curve by its calibration point (PMC files): scaled so the
    /// calibration moment is the first one's, as for a drifting gain.
    pub drift: bool,
    /// Ms/HA in one unit, for the recoil permeability.
    pub ms_per_ha: Option<f64>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            ha: None,
            ms: None,
            drift: true,
            ms_per_ha: None,
        }
    }
}

/// What a file was read as.
#[derive(Debug, Clone, PartialEq)]
pub enum Format {
    /// Blocks of (H, M) lines separated by blank or text lines; `calibration`: whether each
    /// curve came after its calibration point (and was corrected by it when asked).
    Pmc { calibration: bool, corrected: bool },
    /// A table with named columns.
    Columns,
}

/// Reads the reversal curves of `path`: a table whose header names `h_r`, `h` and `m` (or
/// `my`), else a PMC/Lake Shore file.
pub fn read(path: &Path, opts: &ReadOptions) -> Result<(Reversals, Format), String> {
    for (name, v) in [
        ("ha", opts.ha),
        ("ms", opts.ms),
        ("ms_per_ha", opts.ms_per_ha),
    ] {
        if let Some(v) = v.filter(|v| !(v.is_finite() && *v > 0.0)) {
            return Err(format!(
                "bad option {name} = {v}: expected a positive number"
            ));
        }
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let (curves, format) = if header(first).is_some() {
        (columns(&text)?, Format::Columns)
    } else {
        pmc(&text, opts.drift)?
    };
    // Checked in the file's units, so an error quotes the file's numbers.
    let reduced = opts.ha.is_some() && opts.ms.is_some();
    let mut r = Reversals::new(curves, opts.ms_per_ha, reduced)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let (ha, ms) = (opts.ha.unwrap_or(1.0), opts.ms.unwrap_or(1.0));
    for c in &mut r.curves {
        c.h_r /= ha;
        c.h.iter_mut().for_each(|h| *h /= ha);
        c.m.iter_mut().for_each(|m| *m /= ms);
    }
    Ok((r, format))
}

/// A line's cells: comma, semicolon, tab or space apart.
fn cells(line: &str) -> Vec<&str> {
    line.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The columns of h_r, h and M named in a header line, if it is one.
fn header(line: &str) -> Option<[usize; 3]> {
    let names: Vec<String> = cells(line)
        .into_iter()
        .map(|s| s.trim_matches('"').to_ascii_lowercase())
        .collect();
    let find = |want: &[&str]| names.iter().position(|n| want.contains(&n.as_str()));
    Some([find(&["h_r", "hr"])?, find(&["h"])?, find(&["m", "my"])?])
}

fn columns(text: &str) -> Result<Vec<Reversal>, String> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let [r, h, m] = lines
        .next()
        .and_then(|(_, l)| header(l))
        .ok_or("no header")?;
    let mut curves: Vec<Reversal> = vec![];
    for (n, line) in lines {
        let cells = cells(line);
        let value = |c: usize| -> Result<f64, String> {
            cells
                .get(c)
                .and_then(|s| s.parse::<f64>().ok())
                .ok_or_else(|| format!("line {}: expected a number in column {}", n + 1, c + 1))
        };
        let (vr, vh, vm) = (value(r)?, value(h)?, value(m)?);
        match curves.last_mut() {
            Some(c) if c.h_r == vr => {
                c.h.push(vh);
                c.m.push(vm);
            }
            _ => curves.push(Reversal {
                h_r: vr,
                h: vec![vh],
                m: vec![vm],
            }),
        }
    }
    Ok(curves)
}

/// The first two numbers of a line made only of numbers; None for blank and text lines.
fn numbers(line: &str) -> Option<(f64, f64)> {
    let cells = cells(line);
    if cells.len() < 2 {
        return None;
    }
    let values: Option<Vec<f64>> = cells.iter().map(|s| s.parse::<f64>().ok()).collect();
    values.map(|v| (v[0], v[1]))
}

/// A PMC file: runs of number lines apart by blank or text lines. Each curve's first
/// point is at its reversal field; where every curve follows a one-line run (the moment
/// at the saturating field measured before it), those are calibration points.
fn pmc(text: &str, drift: bool) -> Result<(Vec<Reversal>, Format), String> {
    let mut runs: Vec<Vec<(f64, f64)>> = vec![];
    let mut open = false;
    for line in text.lines() {
        match numbers(line) {
            Some(p) if open => runs.last_mut().map_or((), |r| r.push(p)),
            Some(p) => {
                runs.push(vec![p]);
                open = true;
            }
            None => open = false,
        }
    }
    if runs.is_empty() {
        return Err(
            "no reversal curves: expected a header naming h_r, h and m (or my), or blocks of \
             'H, M' lines apart by blank lines (PMC)"
                .into(),
        );
    }
    let calibration = runs.len() % 2 == 0 && runs.iter().step_by(2).all(|r| r.len() == 1);
    let curve = |run: &[(f64, f64)], gain: f64| Reversal {
        h_r: run[0].0,
        h: run.iter().map(|p| p.0).collect(),
        m: run.iter().map(|p| p.1 * gain).collect(),
    };
    if !calibration {
        if runs.iter().any(|r| r.len() == 1) && runs.len() > 1 {
            return Err(format!(
                "{} runs of 'H, M' lines, some of one line: expected a calibration point \
                 before every curve (PMC) or none",
                runs.len()
            ));
        }
        let curves = runs.iter().map(|r| curve(r, 1.0)).collect();
        let format = Format::Pmc {
            calibration: false,
            corrected: false,
        };
        return Ok((curves, format));
    }
    let reference = runs[0][0].1;
    let mut curves = vec![];
    for pair in runs.chunks(2) {
        let m_cal = pair[0][0].1;
        let gain = if drift {
            if m_cal == 0.0 || !m_cal.is_finite() {
                return Err(format!(
                    "calibration moment {m_cal} before the curve at h_r = {}: cannot correct \
                     drift by it (option drift: false reads the curves as they are)",
                    pair[1][0].0
                ));
            }
            reference / m_cal
        } else {
            1.0
        };
        curves.push(curve(&pair[1], gain));
    }
    let format = Format::Pmc {
        calibration: true,
        corrected: drift,
    };
    Ok((curves, format))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, text: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("coercive-forc-read-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    const PMC: &str = "MicroMag 2900/3900 Data File (Series 0016)\n\
        First-order reversal curves\n\
        Averaging time = +1.000000E-01\n\
        \n\
        Field (Oe), Moment (emu)\n\
        \n\
        +1.000000E+04,+2.000000E-03\n\
        \n\
        +1.000000E+03,+1.900000E-03\n\
        +2.000000E+03,+1.950000E-03\n\
        \n\
        +1.000000E+04,+2.020000E-03\n\
        \n\
        -1.000000E+03,-1.000000E-03\n\
        +0.000000E+00,+1.000000E-03\n\
        +1.000000E+03,+1.800000E-03\n\
        \n\
        MicroMag 2900/3900 Data File ends\n";

    #[test]
    fn a_pmc_file_gives_its_curves_corrected_for_drift_and_scaled() {
        let p = write("a.frc", PMC);
        let opts = ReadOptions {
            ha: Some(1e4),
            ms: Some(2e-3),
            ..Default::default()
        };
        let (r, format) = read(&p, &opts).unwrap();
        assert_eq!(
            format,
            Format::Pmc {
                calibration: true,
                corrected: true
            }
        );
        assert!(r.reduced);
        assert_eq!(r.reversal_fields(), vec![0.1, -0.1]);
        let second = &r.curves()[1];
        assert_eq!(second.h, vec![-0.1, 0.0, 0.1]);
        // The second calibration read 1 % high: its curve is scaled back by 2.00/2.02.
        let expected = [-1e-3, 1e-3, 1.8e-3].map(|m| m * (2.0 / 2.02) / 2e-3);
        for (m, e) in second.m.iter().zip(expected) {
            assert!((m - e).abs() < 1e-12, "{m} {e}");
        }
        let (raw, format) = read(
            &p,
            &ReadOptions {
                drift: false,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            format,
            Format::Pmc {
                calibration: true,
                corrected: false
            }
        );
        assert!(!raw.reduced);
        assert_eq!(raw.curves()[1].m, vec![-1e-3, 1e-3, 1.8e-3]);
    }

    #[test]
    fn curves_without_calibration_points_and_tables_are_read() {
        let bare = "H M\n\n0.5 1\n1 1\n\n-0.5 -1\n0 0.2\n1 1\n";
        let (r, format) = read(&write("b.txt", bare), &ReadOptions::default()).unwrap();
        assert_eq!(
            format,
            Format::Pmc {
                calibration: false,
                corrected: false
            }
        );
        assert_eq!(r.reversal_fields(), vec![0.5, -0.5]);
        let table = "k,h_r,h,my,mx\n0,0.5,0.5,1,0\n0,0.5,1,1,0\n1,-0.5,-0.5,-1,0\n1,-0.5,0,0.2,0\n";
        let (t, format) = read(&write("c.csv", table), &ReadOptions::default()).unwrap();
        assert_eq!(format, Format::Columns);
        assert_eq!(t.curves()[1].h, vec![-0.5, 0.0]);
        assert_eq!(t.curves()[1].m, vec![-1.0, 0.2]);
        // Tab apart, the same table: not read as a PMC file of its first two columns.
        let tabs = table.replace(',', "\t");
        let (tt, format) = read(&write("c.tsv", &tabs), &ReadOptions::default()).unwrap();
        assert_eq!((format, tt), (Format::Columns, t));
    }

    #[test]
    fn what_cannot_be_read_is_named() {
        let e = read(&write("d.csv", "h_r,h,m\n0,0,x\n"), &ReadOptions::default()).unwrap_err();
        assert!(e.contains("line 2: expected a number in column 3"), "{e}");
        let e = read(&write("e.txt", "just words\n"), &ReadOptions::default()).unwrap_err();
        assert!(e.contains("no reversal curves"), "{e}");
        let ragged = "1 2\n\n0 1\n0.5 1\n\n0.2 1\n";
        let e = read(&write("f.txt", ragged), &ReadOptions::default()).unwrap_err();
        assert!(e.contains("calibration point before every curve"), "{e}");
        let e = read(&write("g.txt", "0 1\n-1 1\n"), &ReadOptions::default()).unwrap_err();
        assert!(e.contains("does not rise"), "{e}");
        let zero = ReadOptions {
            ha: Some(0.0),
            ..Default::default()
        };
        let e = read(&write("h.txt", "0 1\n1 1\n"), &zero).unwrap_err();
        assert!(e.contains("bad option ha = 0"), "{e}");
        let e = read(Path::new("/nonexistent/x.frc"), &ReadOptions::default()).unwrap_err();
        assert!(e.contains("cannot read /nonexistent/x.frc"), "{e}");
    }
}
