//! The native format (`save`/`load`): small, binary, exact to the bit.
//!
//! All numbers little-endian; f64 as their IEEE bits.
//! ```text
//! magic    16 bytes  "coercive-grains\n"
//! version  u32       2
//! nx, ny   u32, u32
//! cell_nm  f64
//! ng       u32
//! angles   ng × f64          per-grain ψ (radians)
//! kind     u8                0: raster, 1: Voronoi generator
//! kind 0:  nx·ny × u32       grain id per cell, c = j·nx + i
//! kind 1:  periodic u8 (0/1)
//!          theta    u8 (0/1 present) + f64
//!          rng_seed u8 (0/1 present) + u64
//!          seeds    ng × (f64 x, f64 y) nm
//!          check    u64      FNV-1a 64 of the grain ids as u32 LE
//! sum      u64       FNV-1a 64 of every byte before it (version 2)
//! ```
//! A generated structure stores its seeds, not its raster (a 160² structure of 100 grains
//! takes ~2.5 kB); `load` rebuilds the raster and refuses it unless its check matches. The
//! final sum covers every field (cell size, angles, seeds, flags), so no flipped bit loads.
//! Version 1 files (no final sum) are still read.

use super::error::{Result, format_err, in_file, io_err};
use super::structure::{Generator, MAX_CELLS, MAX_GRAINS, Structure};
use std::path::Path;

const MAGIC: &[u8; 16] = b"coercive-grains\n";
const VERSION: u32 = 2;

fn fnv1a_bytes(bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes.into_iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

fn fnv1a(grain: &[u32]) -> u64 {
    fnv1a_bytes(grain.iter().flat_map(|g| g.to_le_bytes()))
}

/// Reads fields in order and says where a short or bad file went wrong.
struct Cursor<'a> {
    path: &'a Path,
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn take<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        let got = self
            .bytes
            .get(self.at..self.at + N)
            .and_then(|b| <[u8; N]>::try_from(b).ok());
        let b = got.ok_or_else(|| {
            format_err(
                self.path,
                format!("byte {}", self.at),
                format!("{N} bytes of {what}"),
                "the end of the file",
            )
        })?;
        self.at += N;
        Ok(b)
    }
    fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.take::<1>(what)?[0])
    }
    fn u32(&mut self, what: &str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take(what)?))
    }
    fn u64(&mut self, what: &str) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take(what)?))
    }
    fn f64(&mut self, what: &str) -> Result<f64> {
        Ok(f64::from_bits(self.u64(what)?))
    }
    fn flag(&mut self, what: &str) -> Result<bool> {
        let at = self.at;
        match self.u8(what)? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(format_err(
                self.path,
                format!("byte {at}"),
                format!("{what} as 0 or 1"),
                b,
            )),
        }
    }
    /// `n` items of `size` bytes must fit in what is left (before allocating for them).
    fn room(&self, n: usize, size: usize, what: &str) -> Result<()> {
        let need = n.saturating_mul(size);
        if need > self.bytes.len() - self.at {
            return Err(format_err(
                self.path,
                format!("byte {}", self.at),
                format!("{need} bytes of {what}"),
                format!("{} left", self.bytes.len() - self.at),
            ));
        }
        Ok(())
    }
}

impl Structure {
    /// The native encoding (see the module notes).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(MAGIC);
        for v in [VERSION, self.nx() as u32, self.ny() as u32] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b.extend_from_slice(&self.cell_nm().to_le_bytes());
        b.extend_from_slice(&(self.n_grains() as u32).to_le_bytes());
        self.grain_angles()
            .iter()
            .for_each(|a| b.extend_from_slice(&a.to_le_bytes()));
        match self.generator() {
            None => {
                b.push(0);
                self.grains()
                    .iter()
                    .for_each(|g| b.extend_from_slice(&g.to_le_bytes()));
            }
            Some(g) => {
                b.push(1);
                b.push(g.periodic as u8);
                b.push(g.theta.is_some() as u8);
                b.extend_from_slice(&g.theta.unwrap_or(0.0).to_le_bytes());
                b.push(g.rng_seed.is_some() as u8);
                b.extend_from_slice(&g.rng_seed.unwrap_or(0).to_le_bytes());
                g.seeds_nm
                    .iter()
                    .flatten()
                    .for_each(|v| b.extend_from_slice(&v.to_le_bytes()));
                b.extend_from_slice(&fnv1a(self.grains()).to_le_bytes());
            }
        }
        let sum = fnv1a_bytes(b.iter().copied());
        b.extend_from_slice(&sum.to_le_bytes());
        b
    }

    /// Decodes [`Structure::to_bytes`]; `path` names the source in errors.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Structure> {
        let mut r = Cursor { path, bytes, at: 0 };
        let magic: [u8; 16] = r.take("magic")?;
        if &magic != MAGIC {
            return Err(format_err(
                path,
                "byte 0",
                "the magic \"coercive-grains\\n\"",
                String::from_utf8_lossy(&magic),
            ));
        }
        let version = r.u32("version")?;
        if version != VERSION && version != 1 {
            return Err(format_err(
                path,
                "byte 16",
                format!("version 1 or {VERSION}"),
                version,
            ));
        }
        let bytes = if version == 1 {
            bytes
        } else {
            let (body, sum) = bytes
                .split_last_chunk::<8>()
                .filter(|(body, _)| body.len() >= r.at)
                .ok_or_else(|| {
                    format_err(
                        path,
                        "byte 20",
                        "8 bytes of checksum",
                        "the end of the file",
                    )
                })?;
            let (got, want) = (fnv1a_bytes(body.iter().copied()), u64::from_le_bytes(*sum));
            if got != want {
                return Err(format_err(
                    path,
                    "checksum",
                    format!("the content's {got:#018x}"),
                    format!("{want:#018x} (the file is damaged)"),
                ));
            }
            r.bytes = body;
            body
        };
        let (nx, ny) = (r.u32("nx")? as usize, r.u32("ny")? as usize);
        let cell_nm = r.f64("cell_nm")?;
        let ng = r.u32("ng")? as usize;
        if ng > MAX_GRAINS || nx.saturating_mul(ny) > MAX_CELLS {
            return Err(format_err(
                path,
                "header",
                format!("≤ {MAX_GRAINS} grains and ≤ {MAX_CELLS} cells"),
                format!("{ng} grains, {nx} × {ny} cells"),
            ));
        }
        r.room(ng, 8, "angles")?;
        let angles = (0..ng)
            .map(|_| r.f64("angles"))
            .collect::<Result<Vec<_>>>()?;
        let kind_at = r.at;
        let s = match r.u8("kind")? {
            0 => {
                r.room(nx * ny, 4, "grain ids")?;
                let grain = (0..nx * ny)
                    .map(|_| r.u32("grain ids"))
                    .collect::<Result<Vec<_>>>()?;
                Structure::from_grains(nx, ny, cell_nm, grain, angles)
            }
            1 => {
                let periodic = r.flag("periodic")?;
                let has_theta = r.flag("theta present")?;
                let theta = Some(r.f64("theta")?).filter(|_| has_theta);
                let has_seed = r.flag("rng_seed present")?;
                let rng_seed = Some(r.u64("rng_seed")?).filter(|_| has_seed);
                r.room(ng, 16, "seeds")?;
                let seeds_nm = (0..ng)
                    .map(|_| Ok([r.f64("seeds")?, r.f64("seeds")?]))
                    .collect::<Result<Vec<_>>>()?;
                let check = r.u64("checksum")?;
                let s = Structure::voronoi_raw(
                    nx,
                    ny,
                    cell_nm,
                    Generator {
                        seeds_nm,
                        periodic,
                        theta,
                        rng_seed,
                    },
                    angles,
                )
                .map_err(|e| in_file(path, e))?;
                if fnv1a(s.grains()) != check {
                    return Err(format_err(
                        path,
                        "checksum",
                        format!("the rebuilt raster's {:#018x}", fnv1a(s.grains())),
                        format!("{check:#018x}"),
                    ));
                }
                Ok(s)
            }
            k => {
                return Err(format_err(
                    path,
                    format!("byte {kind_at}"),
                    "kind 0 (raster) or 1 (Voronoi)",
                    k,
                ));
            }
        }
        .map_err(|e| in_file(path, e))?;
        if r.at != bytes.len() {
            return Err(format_err(
                path,
                format!("byte {}", r.at),
                "the end of the file",
                format!("{} B of trailing data", bytes.len() - r.at),
            ));
        }
        Ok(s)
    }

    /// Saves in the native format.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        crate::fsio::write(path, self.to_bytes()).map_err(|e| io_err(path, e))
    }

    /// Loads the native format; the exact structure saved.
    pub fn load(path: impl AsRef<Path>) -> Result<Structure> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| io_err(path, e))?;
        Structure::from_bytes(&bytes, path)
    }
}
