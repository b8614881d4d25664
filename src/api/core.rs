//! Global helpers every script has: formatting numbers, the session's seed, threads and
//! device, and `help`.

use super::{RResult, fail};
use rhai::plugin::*;

#[export_module]
pub mod core_module {
    use super::*;

    /// A number with a fixed count of decimals: `fmt(0.51037, 3)` gives "0.510".
    #[rhai_fn(name = "fmt", return_raw)]
    pub fn fmt_float(x: f64, decimals: i64) -> RResult<String> {
        if !(0..=17).contains(&decimals) {
            return fail("fmt", format!("decimals must be in 0..=17, got {decimals}"));
        }
        Ok(format!("{:.*}", decimals as usize, x))
    }

    /// An integer as text (`fmt(42, 0)` gives "42"; decimals are ignored for integers).
    #[rhai_fn(name = "fmt", return_raw)]
    pub fn fmt_int(x: i64, decimals: i64) -> RResult<String> {
        if !(0..=17).contains(&decimals) {
            return fail("fmt", format!("decimals must be in 0..=17, got {decimals}"));
        }
        Ok(x.to_string())
    }

    /// `()` (a missing value, e.g. an anchor never reached) as "—" under `fmt`.
    #[rhai_fn(name = "fmt", return_raw)]
    pub fn fmt_unit(_x: (), decimals: i64) -> RResult<String> {
        if !(0..=17).contains(&decimals) {
            return fail("fmt", format!("decimals must be in 0..=17, got {decimals}"));
        }
        Ok("—".into())
    }

    /// A number with six significant digits, numpy-style: `fmt_g(2.0/3.0)` gives "0.666667".
    pub fn fmt_g(x: f64) -> String {
        crate::array::fmt_g(x)
    }

    /// The session seed (`coercive --seed N`, default 0): the default of every `seed` option.
    pub fn seed() -> i64 {
        crate::settings::seed() as i64
    }

    /// Worker threads (`--threads`) used by the solver, generators and libtorch.
    pub fn threads() -> i64 {
        crate::settings::threads() as i64
    }

    /// The tensor device (`--device cpu|cuda`).
    pub fn device() -> String {
        crate::settings::device().name().to_string()
    }

    /// Prints an overview of the modules and how to get help.
    #[rhai_fn(name = "help")]
    pub fn help_overview() {
        crate::display::print(&crate::docs::help_text(None));
    }

    /// Prints the documentation of a function or module: `help("grains::voronoi")`.
    #[rhai_fn(name = "help")]
    pub fn help_name(name: &str) {
        crate::display::print(&crate::docs::help_text(Some(name)));
    }
}

pub fn module() -> Module {
    exported_module!(core_module)
}
