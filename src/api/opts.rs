//! Typed reading of option maps (`#{ n: 160, seed: 7 }`) with errors that name the
//! function, the key, the expected form and the allowed keys.

use super::{RResult, error, fail};
use rhai::{Dynamic, Map};
use std::collections::BTreeSet;

pub struct Opts {
    func: &'static str,
    map: Map,
    allowed: BTreeSet<&'static str>,
}

impl Opts {
    pub fn new(func: &'static str, map: Map) -> Self {
        Opts {
            func,
            map,
            allowed: BTreeSet::new(),
        }
    }

    fn take(&mut self, key: &'static str) -> Option<Dynamic> {
        self.allowed.insert(key);
        self.map.remove(key).filter(|v| !v.is_unit())
    }

    fn wrong(&self, key: &str, expected: &str, got: &Dynamic) -> Box<rhai::EvalAltResult> {
        let ty = crate::docs::type_of(got);
        error(
            self.func,
            format!("option `{key}` must be {expected}, got {ty} ({got})"),
        )
    }

    /// An integer option within `range`, or `None` when absent or `()`.
    pub fn int_opt(&mut self, key: &'static str, lo: i64, hi: i64) -> RResult<Option<i64>> {
        let Some(v) = self.take(key) else {
            return Ok(None);
        };
        let expected = format!("an integer in {lo}..={hi}");
        match v.as_int() {
            Ok(i) if (lo..=hi).contains(&i) => Ok(Some(i)),
            _ => Err(self.wrong(key, &expected, &v)),
        }
    }

    pub fn int(&mut self, key: &'static str, default: i64, lo: i64, hi: i64) -> RResult<i64> {
        Ok(self.int_opt(key, lo, hi)?.unwrap_or(default))
    }

    /// A seed: any non-negative integer.
    pub fn seed(&mut self, key: &'static str, default: u64) -> RResult<u64> {
        Ok(self
            .int_opt(key, 0, i64::MAX)?
            .map(|s| s as u64)
            .unwrap_or(default))
    }

    /// A finite number (int or float) within `[lo, hi]`, or `None`.
    pub fn float_opt(&mut self, key: &'static str, lo: f64, hi: f64) -> RResult<Option<f64>> {
        let Some(v) = self.take(key) else {
            return Ok(None);
        };
        let x = v
            .as_float()
            .ok()
            .or_else(|| v.as_int().ok().map(|i| i as f64));
        match x {
            Some(x) if x.is_finite() && x >= lo && x <= hi => Ok(Some(x)),
            _ if lo == f64::MIN && hi == f64::MAX => Err(self.wrong(key, "a finite number", &v)),
            _ => Err(self.wrong(key, &format!("a number in [{lo}, {hi}]"), &v)),
        }
    }

    /// Any finite number, for settings whose limits the core types check.
    pub fn number(&mut self, key: &'static str, default: f64) -> RResult<f64> {
        Ok(self.float_opt(key, f64::MIN, f64::MAX)?.unwrap_or(default))
    }

    pub fn float(&mut self, key: &'static str, default: f64, lo: f64, hi: f64) -> RResult<f64> {
        Ok(self.float_opt(key, lo, hi)?.unwrap_or(default))
    }

    /// A range `[lo, hi]` of finite numbers with lo < hi, or `None`.
    pub fn range_opt(&mut self, key: &'static str) -> RResult<Option<(f64, f64)>> {
        let Some(v) = self.take(key) else {
            return Ok(None);
        };
        let num = |d: &Dynamic| {
            d.as_float()
                .ok()
                .or_else(|| d.as_int().ok().map(|i| i as f64))
        };
        if let Some(a) = v.read_lock::<rhai::Array>()
            && let [lo, hi] = a.as_slice()
            && let (Some(lo), Some(hi)) = (num(lo), num(hi))
            && lo.is_finite()
            && hi.is_finite()
            && lo < hi
        {
            return Ok(Some((lo, hi)));
        }
        Err(self.wrong(key, "[lo, hi], finite numbers with lo < hi", &v))
    }

    pub fn bool(&mut self, key: &'static str, default: bool) -> RResult<bool> {
        let Some(v) = self.take(key) else {
            return Ok(default);
        };
        v.as_bool()
            .map_err(|_| self.wrong(key, "true or false", &v))
    }

    pub fn string_opt(&mut self, key: &'static str) -> RResult<Option<String>> {
        let Some(v) = self.take(key) else {
            return Ok(None);
        };
        if v.is_string() {
            Ok(Some(v.to_string()))
        } else {
            Err(self.wrong(key, "a string", &v))
        }
    }

    /// One of `choices` (the first is the default).
    pub fn choice(&mut self, key: &'static str, choices: &[&'static str]) -> RResult<&'static str> {
        Ok(self.choice_opt(key, choices)?.unwrap_or(choices[0]))
    }

    /// One of `choices`, or `None` when not given.
    pub fn choice_opt(
        &mut self,
        key: &'static str,
        choices: &[&'static str],
    ) -> RResult<Option<&'static str>> {
        let Some(s) = self.string_opt(key)? else {
            return Ok(None);
        };
        choices
            .iter()
            .find(|c| **c == s)
            .copied()
            .map(Some)
            .ok_or_else(|| {
                error(
                    self.func,
                    format!("option `{key}` must be one of {choices:?}, got \"{s}\""),
                )
            })
    }

    /// Layer widths: an array of integers in 1..=65536 (at least one), or `default`.
    pub fn widths(&mut self, key: &'static str, default: &[i64]) -> RResult<Vec<i64>> {
        let Some(v) = self.take(key) else {
            return Ok(default.to_vec());
        };
        let expected = "an array of layer widths, integers in 1..=65536, e.g. [128, 64]";
        let Some(a) = v.read_lock::<rhai::Array>().map(|a| a.clone()) else {
            return Err(self.wrong(key, expected, &v));
        };
        let w: Option<Vec<i64>> = a
            .iter()
            .map(|x| x.as_int().ok().filter(|w| (1..=65536).contains(w)))
            .collect();
        match w {
            Some(w) if !w.is_empty() => Ok(w),
            _ => Err(self.wrong(key, expected, &v)),
        }
    }

    /// The descriptors a model takes: option `coarse: f` adds the anchors of the curve on
    /// cells f times larger; with it, `coarse_exchange: "kept" | "scaled"` the exchange
    /// stiffness those cells take and `coarse_anisotropy: "majority" | "averaged"` their
    /// anisotropy.
    pub fn descriptor_set(&mut self) -> RResult<crate::grains::DescriptorSet> {
        use crate::grains::{Coarse, CoarseAnisotropy, CoarseExchange};
        let factor = self.int_opt("coarse", 2, crate::grains::MAX_COARSE as i64)?;
        let exchange = self.choice_opt("coarse_exchange", &CoarseExchange::NAMES)?;
        let anisotropy = self.choice_opt("coarse_anisotropy", &CoarseAnisotropy::NAMES)?;
        for (key, sets, given) in [
            ("coarse_exchange", "exchange", exchange.is_some()),
            ("coarse_anisotropy", "anisotropy", anisotropy.is_some()),
        ] {
            if given && factor.is_none() {
                return Err(error(
                    self.func,
                    format!("option `{key}` sets the coarse mesh's {sets}: it needs `coarse: f`"),
                ));
            }
        }
        let exchange = exchange.map_or(CoarseExchange::default(), |name| {
            CoarseExchange::from_name(name).expect("one of its names")
        });
        let anisotropy = anisotropy.map_or(CoarseAnisotropy::default(), |name| {
            CoarseAnisotropy::from_name(name).expect("one of its names")
        });
        Ok(crate::grains::DescriptorSet {
            coarse: factor.map(|f| Coarse {
                factor: f as usize,
                exchange,
                anisotropy,
            }),
        })
    }

    /// Any value (the caller converts it), or `None`.
    pub fn value(&mut self, key: &'static str) -> Option<Dynamic> {
        self.take(key)
    }

    /// Fails on keys nobody asked for: a misspelt option must not be silently ignored.
    pub fn finish(self) -> RResult<()> {
        if let Some(k) = self.map.keys().next() {
            let allowed: Vec<_> = self.allowed.iter().copied().collect();
            return fail(
                self.func,
                format!("unknown option `{k}`; allowed: {}", allowed.join(", ")),
            );
        }
        Ok(())
    }
}
