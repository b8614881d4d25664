//! The `coercive` command line.

use crate::{engine, runner, settings};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "coercive",
    version,
    about = "Grain structures, micromagnetic demagnetisation curves and learned hysteresis, scripted in Rhai"
)]
pub struct Cli {
    /// Session seed: the default of every `seed` option (reproducible runs).
    #[arg(long, global = true, default_value_t = 0)]
    pub seed: u64,
    /// Worker threads for the solver, generators and libtorch (default: all cores).
    #[arg(long, global = true)]
    pub threads: Option<usize>,
    /// Tensor device for the networks: cpu or cuda.
    #[arg(long, global = true, default_value = "cpu")]
    pub device: String,
    /// No progress bars.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Interactive Rhai session (the default without a command).
    Repl,
    /// Runs a script; the ARGS after it are visible to the script as `ARGS`.
    Run {
        file: PathBuf,
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Evaluates an expression and prints its value.
    Eval { expr: String },
    /// Documentation of native and stdlib functions: all, or one function or module.
    Doc { name: Option<String> },
    /// Benchmarks that print the figures the issues ask for.
    #[command(subcommand)]
    Bench(Bench),
}

#[derive(Subcommand, Debug)]
pub enum Bench {
    /// Paper-law 160×160 structures generated per second.
    Grains {
        #[arg(long, default_value_t = 20_000)]
        count: usize,
    },
    /// Paper-law 160×160 demagnetisation curves: seconds per curve, curves per minute,
    /// evaluations, µs per energy+gradient evaluation, non-converged steps.
    Solver {
        /// Number of structures (fixed seeds).
        #[arg(long, default_value_t = 8)]
        structures: usize,
        /// Grid size n (n × n cells of 2 nm).
        #[arg(long, default_value_t = 160)]
        n: usize,
    },
    /// Training samples/s of the Table-1 VAE (160², batch 64, NAdam) on `--device`.
    Vae {
        #[arg(long, default_value_t = 10)]
        steps: usize,
        #[arg(long, default_value_t = 64)]
        batch: usize,
        /// Grid size n (a multiple of 32).
        #[arg(long, default_value_t = 160)]
        n: usize,
    },
    /// Training samples/s of the Table-2 regressor (batch 16, NAdam) on `--device`.
    Regressor {
        #[arg(long, default_value_t = 200)]
        steps: usize,
        #[arg(long, default_value_t = 16)]
        batch: usize,
    },
}

/// Runs the command line; returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    crate::interrupt::install_handler();
    crate::progress::set_quiet(cli.quiet);
    settings::set_seed(cli.seed);
    settings::set_threads(cli.threads);
    let device = match settings::Device::parse(&cli.device) {
        Ok(d) => d,
        Err(e) => return usage_error(&format!("--device: {e}")),
    };
    if let Err(e) = settings::set_device(device) {
        return usage_error(&e);
    }
    match cli.command.unwrap_or(Command::Repl) {
        Command::Repl => crate::repl::run(),
        Command::Run { file, args } => {
            let dir = file.parent().map(|p| p.to_path_buf());
            with_engine(dir, |e| runner::run_file(e, &file, &args).map(|_| ()))
        }
        Command::Eval { expr } => with_engine(None, |e| {
            let mut scope = runner::scope_with_args(&[]);
            let ast = runner::compile_text(e, "<eval>", &expr, &scope)?;
            let v = runner::run_ast(e, "<eval>", &mut scope, &ast)?;
            if !v.is_unit() {
                println!("{}", runner::display(e, &v));
            }
            Ok(())
        }),
        Command::Bench(b) => bench(b, cli.threads),
        Command::Doc { name } => with_engine(None, |_| {
            let docs = crate::docs::get();
            match name {
                None => print!("{}", docs.listing()),
                Some(n) => match docs.describe(&n) {
                    Some(text) => print!("{text}"),
                    None => {
                        return Err(runner::ScriptError(format!(
                            "coercive doc: no function or module named `{n}`"
                        )));
                    }
                },
            }
            Ok(())
        }),
    }
}

fn bench(b: Bench, threads: Option<usize>) -> i32 {
    let result = match b {
        Bench::Grains { count } => crate::bench::grains::run(count, threads)
            .map(|r| r.to_string())
            .map_err(|e| e.to_string()),
        Bench::Solver { structures, n } => {
            let opts = crate::bench::solver::SolverBenchOptions {
                n,
                structures,
                threads: threads.unwrap_or(0),
                ..Default::default()
            };
            crate::bench::solver::run(&opts)
                .map(|r| r.to_string())
                .map_err(|e| e.to_string())
        }
        Bench::Vae { steps, batch, n } => crate::bench::learn::vae(n, batch, steps)
            .map(|r| r.to_string())
            .map_err(|e| e.to_string()),
        Bench::Regressor { steps, batch } => crate::bench::learn::regressor(batch, steps)
            .map(|r| r.to_string())
            .map_err(|e| e.to_string()),
    };
    match result {
        Ok(report) => {
            println!("{report}");
            0
        }
        Err(e) => {
            eprintln!("coercive bench: {e}");
            1
        }
    }
}

fn usage_error(msg: &str) -> i32 {
    eprintln!("coercive: {msg}");
    2
}

/// Builds the engine and runs `f`, turning errors and panics into messages and exit codes.
fn with_engine(
    dir: Option<PathBuf>,
    f: impl FnOnce(&rhai::Engine) -> Result<(), runner::ScriptError>,
) -> i32 {
    let engine = match engine::new_engine(dir) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("{}", runner::format_eval_error("stdlib/prelude.rhai", &e));
            return 1;
        }
    };
    match crate::guard::catch(|| f(&engine)) {
        Ok(Ok(())) => 0,
        Ok(Err(e)) => {
            eprintln!("{e}");
            if crate::interrupt::requested() {
                130
            } else {
                1
            }
        }
        Err(msg) => {
            eprintln!("{msg}");
            101
        }
    }
}
