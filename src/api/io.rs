//! The `io` module: CSV, NPY/NPZ, JSON and text files, so results can be read in numpy,
//! pandas, ParaView or a plotting tool.

use super::{RResult, error, fail};
use crate::array::NdArray;
use crate::fsio::npy;
use ndarray::IxDyn;
use rhai::plugin::*;
use rhai::{Array, Map};
use std::path::Path;

/// Wraps an I/O failure with the function and the path.
pub fn io_error(func: &str, path: &str, e: impl std::fmt::Display) -> Box<EvalAltResult> {
    error(func, format!("{path}: {e}"))
}

/// Writes `columns` (NdArray or Rhai arrays of equal length) as CSV in the given order.
pub fn write_columns(func: &str, path: &str, columns: &Map, order: &[String]) -> RResult<()> {
    let mut cols: Vec<Vec<String>> = Vec::new();
    for name in order {
        let v = columns
            .get(name.as_str())
            .ok_or_else(|| error(func, format!("no column `{name}` in the map")))?;
        let cells: Vec<String> = if let Some(a) = v.read_lock::<NdArray>() {
            if a.0.ndim() != 1 {
                return fail(
                    func,
                    format!("column `{name}` must be 1-d, got shape {:?}", a.shape()),
                );
            }
            a.0.iter().map(|x| x.to_string()).collect()
        } else if let Some(a) = v.read_lock::<Array>() {
            a.iter()
                .map(|x| {
                    if x.is_unit() {
                        String::new()
                    } else {
                        x.to_string()
                    }
                })
                .collect()
        } else {
            return fail(
                func,
                format!(
                    "column `{name}` must be an NdArray or an array, got {}",
                    crate::docs::type_of(v)
                ),
            );
        };
        if let Some(first) = cols.first() {
            if first.len() != cells.len() {
                return fail(
                    func,
                    format!(
                        "column `{name}` has {} rows, `{}` has {}",
                        cells.len(),
                        order[0],
                        first.len()
                    ),
                );
            }
        }
        cols.push(cells);
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(order).map_err(|e| io_error(func, path, e))?;
    let rows = cols.first().map_or(0, |c| c.len());
    for r in 0..rows {
        w.write_record(cols.iter().map(|c| c[r].as_str()))
            .map_err(|e| io_error(func, path, e))?;
    }
    let bytes = w.into_inner().map_err(|e| io_error(func, path, e))?;
    crate::fsio::write(path, bytes).map_err(|e| io_error(func, path, e))
}

/// The whole file at `path`, for readers that check sizes before allocating.
fn read_bytes(func: &str, path: &str) -> RResult<Vec<u8>> {
    std::fs::read(path).map_err(|e| io_error(func, path, e))
}

/// `what` names the value in errors (an npz entry).
fn npy_array(func: &str, what: &str, v: &Dynamic) -> RResult<NdArray> {
    if let Some(a) = v.read_lock::<NdArray>() {
        return Ok(a.clone());
    }
    if let Some(a) = v.read_lock::<Array>() {
        return super::array::from_rhai(func, &a);
    }
    // A number is a 0-d array, as numpy.savez keeps a scalar.
    if let Some(x) = v
        .as_float()
        .ok()
        .or_else(|| v.as_int().ok().map(|i| i as f64))
    {
        return Ok(NdArray::new(ndarray::arr0(x).into_dyn()));
    }
    fail(
        func,
        format!(
            "{what}expected an NdArray, an array of numbers or a number, got {}",
            crate::docs::type_of(v)
        ),
    )
}

#[export_module]
pub mod io_module {
    use super::*;

    /// Reads a CSV file with a header into a map of columns: numeric columns become
    /// NdArrays, others arrays of strings.
    #[rhai_fn(return_raw)]
    pub fn read_csv(ctx: NativeCallContext, path: &str) -> RResult<Map> {
        crate::api::located(
            &ctx,
            (|| {
                let f = "io::read_csv";
                let mut r = csv::Reader::from_path(path).map_err(|e| io_error(f, path, e))?;
                let headers: Vec<String> = r
                    .headers()
                    .map_err(|e| io_error(f, path, e))?
                    .iter()
                    .map(String::from)
                    .collect();
                let mut cols: Vec<Vec<String>> = vec![Vec::new(); headers.len()];
                for (row, rec) in r.records().enumerate() {
                    let rec =
                        rec.map_err(|e| io_error(f, path, format!("row {}: {e}", row + 2)))?;
                    for (c, v) in rec.iter().enumerate() {
                        cols[c].push(v.to_string());
                    }
                }
                let mut out = Map::new();
                for (name, col) in headers.into_iter().zip(cols) {
                    let nums: Option<Vec<f64>> =
                        col.iter().map(|s| s.trim().parse::<f64>().ok()).collect();
                    let v = match nums {
                        Some(v) => Dynamic::from(NdArray::from_vec(v)),
                        None => Dynamic::from_array(col.into_iter().map(Dynamic::from).collect()),
                    };
                    out.insert(name.into(), v);
                }
                Ok(out)
            })(),
        )
    }

    /// Writes a map of equal-length columns (NdArrays or arrays) as CSV, columns in key
    /// order.
    #[rhai_fn(name = "write_csv", return_raw)]
    pub fn write_csv(ctx: NativeCallContext, path: &str, columns: Map) -> RResult<()> {
        crate::api::located(
            &ctx,
            (|| {
                let order: Vec<String> = columns.keys().map(|k| k.to_string()).collect();
                write_columns("io::write_csv", path, &columns, &order)
            })(),
        )
    }

    /// Writes a map of equal-length columns as CSV with the columns in the given order.
    #[rhai_fn(name = "write_csv", return_raw)]
    pub fn write_csv_ordered(
        ctx: NativeCallContext,
        path: &str,
        columns: Map,
        order: Array,
    ) -> RResult<()> {
        crate::api::located(
            &ctx,
            (|| {
                let order: Vec<String> = order.iter().map(|c| c.to_string()).collect();
                write_columns("io::write_csv", path, &columns, &order)
            })(),
        )
    }

    /// Saves an array as a `.npy` file (float64), readable with `numpy.load`.
    #[rhai_fn(return_raw)]
    pub fn save_npy(ctx: NativeCallContext, path: &str, a: Dynamic) -> RResult<()> {
        crate::api::located(
            &ctx,
            (|| {
                let a = npy_array("io::save_npy", "", &a)?;
                crate::fsio::write(path, npy::to_bytes(&*a.0))
                    .map_err(|e| io_error("io::save_npy", path, e))
            })(),
        )
    }

    /// Loads a float64 `.npy` file as an NdArray.
    #[rhai_fn(return_raw)]
    pub fn load_npy(ctx: NativeCallContext, path: &str) -> RResult<NdArray> {
        crate::api::located(
            &ctx,
            (|| {
                let f = "io::load_npy";
                let a = npy::read::<f64, IxDyn>(&read_bytes(f, path)?)
                    .map_err(|e| io_error(f, path, format!("expected float64: {e}")))?;
                Ok(NdArray::new(a))
            })(),
        )
    }

    /// Saves a map of arrays as a `.npz` archive (`numpy.load(path)["key"]`); a number is a
    /// 0-d array, which `load_npz` gives back as a number.
    #[rhai_fn(return_raw)]
    pub fn save_npz(ctx: NativeCallContext, path: &str, arrays: Map) -> RResult<()> {
        crate::api::located(
            &ctx,
            (|| {
                let f = "io::save_npz";
                // Every entry is checked before anything is written.
                let arrays = arrays
                    .iter()
                    .map(|(k, v)| npy_array(f, &format!("entry `{k}`: "), v).map(|a| (k, a)))
                    .collect::<RResult<Vec<_>>>()?;
                let mut npz = ndarray_npy::NpzWriter::new(std::io::Cursor::new(Vec::new()));
                for (k, a) in &arrays {
                    npz.add_array(k.as_str(), &*a.0)
                        .map_err(|e| io_error(f, path, e))?;
                }
                let bytes = npz.finish().map_err(|e| io_error(f, path, e))?;
                crate::fsio::write(path, bytes.into_inner()).map_err(|e| io_error(f, path, e))
            })(),
        )
    }

    /// Loads every float64 array of a `.npz` archive into a map.
    #[rhai_fn(return_raw)]
    pub fn load_npz(ctx: NativeCallContext, path: &str) -> RResult<Map> {
        crate::api::located(
            &ctx,
            (|| {
                let f = "io::load_npz";
                let entries =
                    npy::entries(&read_bytes(f, path)?).map_err(|e| io_error(f, path, e))?;
                let mut out = Map::new();
                for (name, bytes) in entries {
                    let a = npy::read::<f64, IxDyn>(&bytes).map_err(|e| {
                        io_error(f, path, format!("entry `{name}`: expected float64: {e}"))
                    })?;
                    // A 0-d entry (numpy's scalar) comes back as the number save_npz took.
                    let v = match a.ndim() {
                        0 => Dynamic::from_float(a.iter().copied().next().unwrap_or(f64::NAN)),
                        _ => Dynamic::from(NdArray::new(a)),
                    };
                    out.insert(name.into(), v);
                }
                Ok(out)
            })(),
        )
    }

    /// Writes any value (maps, arrays, numbers, strings; NdArrays as nested lists) as
    /// pretty JSON.
    #[rhai_fn(return_raw)]
    pub fn write_json(ctx: NativeCallContext, path: &str, value: Dynamic) -> RResult<()> {
        crate::api::located(
            &ctx,
            (|| {
                let v = to_json("io::write_json", &value)?;
                let text = serde_json::to_string_pretty(&v)
                    .map_err(|e| io_error("io::write_json", path, e))?;
                crate::fsio::write(path, text + "\n")
                    .map_err(|e| io_error("io::write_json", path, e))
            })(),
        )
    }

    /// Reads a JSON file into Rhai values (objects become maps, null becomes `()`).
    #[rhai_fn(return_raw)]
    pub fn read_json(ctx: NativeCallContext, path: &str) -> RResult<Dynamic> {
        crate::api::located(
            &ctx,
            (|| {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| io_error("io::read_json", path, e))?;
                let v: serde_json::Value =
                    serde_json::from_str(&text).map_err(|e| io_error("io::read_json", path, e))?;
                rhai::serde::to_dynamic(v).map_err(|e| io_error("io::read_json", path, e))
            })(),
        )
    }

    /// Writes a string to a file.
    #[rhai_fn(return_raw)]
    pub fn write_text(ctx: NativeCallContext, path: &str, text: &str) -> RResult<()> {
        crate::api::located(
            &ctx,
            (|| crate::fsio::write(path, text).map_err(|e| io_error("io::write_text", path, e)))(),
        )
    }

    /// Reads a whole text file.
    #[rhai_fn(return_raw)]
    pub fn read_text(ctx: NativeCallContext, path: &str) -> RResult<String> {
        crate::api::located(
            &ctx,
            (|| std::fs::read_to_string(path).map_err(|e| io_error("io::read_text", path, e)))(),
        )
    }

    /// Whether a file or directory exists.
    pub fn exists(path: &str) -> bool {
        Path::new(path).exists()
    }

    /// Creates a directory and its parents (no error if it exists).
    #[rhai_fn(return_raw)]
    pub fn mkdir(ctx: NativeCallContext, path: &str) -> RResult<()> {
        crate::api::located(
            &ctx,
            (|| std::fs::create_dir_all(path).map_err(|e| io_error("io::mkdir", path, e)))(),
        )
    }
}

/// Converts script values to JSON; NdArrays become nested lists, non-finite numbers null.
pub fn to_json(func: &str, v: &Dynamic) -> RResult<serde_json::Value> {
    use serde_json::Value;
    if let Some(a) = v.read_lock::<NdArray>() {
        let mut a = a.clone();
        let nested = super::array::array_module::to_array(&mut a);
        return to_json(func, &Dynamic::from_array(nested));
    }
    if let Some(a) = v.read_lock::<Array>() {
        return Ok(Value::Array(
            a.iter().map(|x| to_json(func, x)).collect::<RResult<_>>()?,
        ));
    }
    if let Some(m) = v.read_lock::<Map>() {
        let mut o = serde_json::Map::new();
        for (k, x) in m.iter() {
            o.insert(k.to_string(), to_json(func, x)?);
        }
        return Ok(Value::Object(o));
    }
    if v.is_unit() {
        return Ok(Value::Null);
    }
    if let Ok(b) = v.as_bool() {
        return Ok(Value::Bool(b));
    }
    if let Ok(i) = v.as_int() {
        return Ok(Value::from(i));
    }
    if let Ok(x) = v.as_float() {
        return Ok(serde_json::Number::from_f64(x)
            .map(Value::Number)
            .unwrap_or(Value::Null));
    }
    if v.is_string() {
        return Ok(Value::String(v.to_string()));
    }
    fail(
        func,
        format!("cannot write a {} as JSON", crate::docs::type_of(v)),
    )
}

pub fn module() -> Module {
    let mut m = exported_module!(io_module);
    m.combine_flatten(exported_module!(super::forc::forc_io_module));
    m
}
