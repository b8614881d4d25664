//! Builds the Rhai engine: native modules, the stdlib resolver, the prelude, interrupt
//! polling and the documentation index.

use crate::api;
use rhai::{Dynamic, Engine};
use std::path::PathBuf;

/// Native modules reached as `name::function` (the array type and helpers are global).
pub fn static_modules() -> Vec<(&'static str, rhai::Module)> {
    vec![
        ("io", api::io::module()),
        ("grains", api::grains::module()),
        ("plot", api::plot::module()),
        ("solver", api::solver::module()),
        ("data", api::data::module()),
        ("vae", api::vae::module()),
        ("regressor", api::regressor::module()),
        ("ensemble", api::ensemble::module()),
        ("graphnet", api::graphnet::module()),
        ("latent", api::latent::module()),
        ("active", api::active::module()),
        ("design", api::design::module()),
    ]
}

/// An engine with every coercive module. `script_dir` is where relative imports resolve.
pub fn new_engine(script_dir: Option<PathBuf>) -> Result<Engine, Box<rhai::EvalAltResult>> {
    let mut engine = Engine::new();
    engine.set_strict_variables(true);
    engine.set_fail_on_invalid_map_property(true);
    engine.set_max_expr_depths(128, 64);
    engine.register_type_with_name::<crate::array::NdArray>("NdArray");
    engine.register_type_with_name::<api::grains::SharedStructure>("Structure");
    engine.register_type_with_name::<api::grains::SharedSample>("Sample");
    engine.register_type_with_name::<api::solver::SharedCurve>("Curve");
    engine.register_type_with_name::<api::solver::SharedState>("State");
    engine.register_type_with_name::<api::forc::SharedForc>("Forc");
    engine.register_type_with_name::<api::data::SharedDataset>("Dataset");
    engine.register_iterator_result::<api::data::SharedDataset, rhai::Map>();
    engine.register_type_with_name::<api::vae::SharedVae>("Vae");
    engine.register_type_with_name::<api::regressor::SharedRegressor>("Regressor");
    engine.register_type_with_name::<api::regressor::SharedBaseline>("Baseline");
    engine.register_type_with_name::<api::ensemble::SharedEnsemble>("Ensemble");
    engine.register_type_with_name::<api::graphnet::SharedGraphNet>("GraphNet");
    engine.register_type_with_name::<api::latent::SharedPca>("PCA");
    engine.register_global_module(api::array::module().into());
    engine.register_global_module(api::core::module().into());
    engine.register_global_module(api::random::module().into());
    // The scripts' random stream (`rand`, `shuffle`, …), one per engine, from `--seed`.
    engine.set_default_tag(Dynamic::from(api::random::ScriptRng::new(
        crate::settings::seed(),
    )));
    for (name, module) in static_modules() {
        engine.register_static_module(name, module.into());
    }
    engine.set_module_resolver(crate::stdlib::Resolver::new(script_dir));
    engine.on_print(print_line);
    // Ctrl-C ends the running script (Rhai checks this between operations).
    engine.on_progress(|_| {
        crate::interrupt::requested().then(|| Dynamic::from("interrupted by Ctrl-C"))
    });
    let prelude = crate::stdlib::prelude(&engine)?;
    engine.register_global_module(prelude.into());
    crate::docs::init(&engine);
    Ok(engine)
}

/// A script's `print` on stdout. A reader that has gone (`coercive run s.rhai | head`) ends
/// the run as a closed pipe ends any Unix filter, with status 141 (128 + SIGPIPE) and no
/// message; any other failure to write is said and ends it with status 1, since what the
/// script prints would be lost.
fn print_line(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{text}") {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(141);
        }
        eprintln!("coercive: cannot write to stdout: {e}");
        std::process::exit(1);
    }
}
