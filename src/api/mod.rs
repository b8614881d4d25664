//! The Rhai face of coercive: one native module per domain, combined into the engine by
//! [`crate::engine`]. Every function here is documented where it is declared; `help()` and
//! `coercive doc` print those comments.

pub mod active;
pub mod array;
pub mod clean;
pub mod convert;
pub mod core;
pub mod data;
pub mod design;
pub mod ensemble;
pub mod forc;
pub mod grains;
pub mod graphnet;
pub mod io;
pub mod latent;
pub mod materials;
pub mod opts;
pub mod plot;
pub mod random;
pub mod regressor;
pub mod remanence;
pub mod solver;
pub mod structures;
pub mod vae;

use rhai::{Dynamic, EvalAltResult, Position};
use std::fmt::Display;

/// Most epochs a script may ask any training for.
pub const MAX_EPOCHS: i64 = 1_000_000;

/// Result type of native functions.
pub type RResult<T> = Result<T, Box<EvalAltResult>>;

/// A runtime error that names the function (`io::read_csv: …`). Rhai adds the script's
/// position at the call site.
pub fn error(func: &str, msg: impl Display) -> Box<EvalAltResult> {
    EvalAltResult::ErrorRuntime(Dynamic::from(format!("{func}: {msg}")), Position::NONE).into()
}

/// Puts the call site on an error. Rhai does this itself for plain calls, methods and
/// indexers (`s.to_png(p)`, `predict(m, x)`, `ds[i]`) but not for namespace-qualified calls
/// (`grains::voronoi(...)`), so exactly the functions scripts call by namespace take the call
/// context and pass their result through here; `global` methods do not.
pub fn located<T>(ctx: &rhai::NativeCallContext, r: RResult<T>) -> RResult<T> {
    r.map_err(|mut e| {
        if e.position().is_none() {
            e.set_position(ctx.call_position());
        }
        e
    })
}

/// `map_err` adapter: any displayable error becomes [`error`]`(func, e)`.
pub fn error_in<E: Display>(func: &str) -> impl Fn(E) -> Box<EvalAltResult> + '_ {
    move |e| error(func, e)
}

/// Shorthand for `Err(error(func, msg))`.
pub fn fail<T>(func: &str, msg: impl Display) -> RResult<T> {
    Err(error(func, msg))
}

/// A training's outcome in a script. Ctrl-C stops the training but not the script: the
/// model keeps its finished epochs and the script goes on (to save them); a second Ctrl-C
/// stops the script.
pub fn trained(func: &str, r: crate::learn::Result<()>) -> RResult<()> {
    match r {
        Err(e @ crate::learn::LearnError::Interrupted { .. }) => {
            crate::display::note(&format!(
                "{func}: {e}; the script goes on (Ctrl-C again stops it)"
            ));
            crate::interrupt::reset();
            Ok(())
        }
        r => r.map_err(error_in(func)),
    }
}

/// Turns Ctrl-C into a script error, so long native loops end the script, not the REPL.
pub fn check_interrupt(func: &str) -> RResult<()> {
    crate::interrupt::check().map_err(error_in(func))
}

/// Converts a count or index from a script (i64) with a range check.
pub fn to_usize(func: &str, what: &str, v: i64, min: usize, max: usize) -> RResult<usize> {
    if v < min as i64 || v > max as i64 {
        return fail(
            func,
            format!("{what} must be an integer in {min}..={max}, got {v}"),
        );
    }
    Ok(v as usize)
}
