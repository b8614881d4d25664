//! `.npy` and `.npz` (numpy's `save`, `savez`, `savez_compressed`) read with their sizes
//! checked before anything is allocated: the header's shape × item size must equal the data
//! that follows, and an archive entry may not inflate beyond deflate's ratio. A 160-byte
//! file declaring shape (10⁹, 10⁹) is an error, not an 8 EB allocation.

use ndarray::{Array, Dimension};
use ndarray_npy::npy::header::Header;
use ndarray_npy::{ReadNpyExt, ReadableElement, WritableElement, WriteNpyExt};
use std::io::{Cursor, Read};

/// Deflate's largest possible expansion (1032:1), plus slack for tiny entries.
fn inflate_limit(compressed: u64) -> u64 {
    compressed.saturating_mul(1032).saturating_add(4096)
}

/// Bytes per item of a plain dtype descriptor such as `<f8`, `|b1` or `<u4`.
fn item_size(descr: &str) -> Option<usize> {
    let s = descr.strip_prefix('\'')?.strip_suffix('\'')?;
    let s = s.trim_start_matches(['<', '>', '|', '=']);
    let mut chars = s.chars();
    chars.next().filter(char::is_ascii_alphabetic)?;
    chars.as_str().parse().ok().filter(|&n| n > 0)
}

/// Reads a `.npy` image of element `T` and dimension `D`; the message says what is wrong
/// (the caller names the file).
pub fn read<T: ReadableElement, D: Dimension>(bytes: &[u8]) -> Result<Array<T, D>, String> {
    let mut cur = Cursor::new(bytes);
    let header =
        Header::from_reader(&mut cur).map_err(|e| format!("not a readable .npy header: {e}"))?;
    let data = bytes.len() - cur.position() as usize;
    let descr = header.type_descriptor.to_string();
    let size = item_size(&descr)
        .ok_or_else(|| format!("dtype {descr} is not a plain numeric or boolean dtype"))?;
    // u128: the product of a hostile shape may overflow usize.
    let need = header
        .shape
        .iter()
        .try_fold(size as u128, |n, &d| n.checked_mul(d as u128));
    if need != Some(data as u128) {
        return Err(format!(
            "shape {:?} of {descr} needs {} bytes of data, the file has {data}",
            header.shape,
            need.map_or("more than 2^128".into(), |n| n.to_string())
        ));
    }
    Array::<T, D>::read_npy(bytes).map_err(|e| format!("not a .npy of the expected kind: {e}"))
}

/// The `.npy` image of an array.
pub fn to_bytes<A: WritableElement, S: ndarray::Data<Elem = A>, D: Dimension>(
    a: &ndarray::ArrayBase<S, D>,
) -> Vec<u8> {
    let mut v = Vec::new();
    a.write_npy(&mut v).expect("writing .npy to memory");
    v
}

/// The entries of a `.npz` archive (stored or deflated) as (name without `.npy`, `.npy`
/// bytes), in archive order.
pub fn entries(bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| format!("not a readable .npz (zip) archive: {e}"))?;
    let mut out = Vec::new();
    for k in 0..zip.len() {
        let entry = zip
            .by_index(k)
            .map_err(|e| format!("archive entry {k}: {e}"))?;
        let name = entry.name().trim_end_matches(".npy").to_string();
        let limit = inflate_limit(entry.compressed_size());
        let mut data = Vec::new();
        entry
            .take(limit)
            .read_to_end(&mut data)
            .map_err(|e| format!("archive entry {name:?}: {e}"))?;
        if data.len() as u64 >= limit {
            return Err(format!(
                "archive entry {name:?} inflates beyond {limit} bytes (not deflate data)"
            ));
        }
        out.push((name, data));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, Ix2, IxDyn};

    #[test]
    fn fsio_npy_refuses_a_shape_the_file_cannot_hold_before_allocating() {
        let a = Array2::<f64>::zeros((2, 3));
        let good = to_bytes(&a);
        assert_eq!(read::<f64, Ix2>(&good).unwrap(), a);
        let header =
            "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000, 1000000000), }";
        let mut huge = b"\x93NUMPY\x01\x00".to_vec();
        let pad = 64 - (10 + header.len() + 1) % 64;
        let text = format!("{header}{}\n", " ".repeat(pad));
        huge.extend_from_slice(&(text.len() as u16).to_le_bytes());
        huge.extend_from_slice(text.as_bytes());
        huge.extend_from_slice(&[0u8; 16]);
        let e = read::<f64, IxDyn>(&huge).unwrap_err();
        assert!(
            e.contains("needs 8000000000000000000 bytes") && e.contains("has 16"),
            "{e}"
        );
        assert!(read::<f64, Ix2>(&good[..good.len() - 1]).is_err());
    }
}
