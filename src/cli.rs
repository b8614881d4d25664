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
    /// Worker threads for the solver, generators and libtorch (default: all cores; 1 … 4 per
    /// core, at least 16).
    #[arg(long, global = true)]
    pub threads: Option<usize>,
    /// Tensor device for the networks: cpu or cuda.
    #[arg(long, global = true, default_value = "cpu")]
    pub device: String,
    /// No progress bars.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Keep finished demagnetisation curves in DIR, so a batch cut short or a rerun takes
    /// them from there (default: $COERCIVE_CACHE, else ~/.cache/coercive/curves).
    #[arg(long, global = true, value_name = "DIR", conflicts_with = "no_cache")]
    pub cache: Option<PathBuf>,
    /// Keep no curves on disk (every curve is computed).
    #[arg(long, global = true)]
    pub no_cache: bool,
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
    /// Datasets of structures, curves and anchors: generate (sharded, resumable), merge,
    /// describe, upgrade. The base seed is the global `--seed`.
    #[command(subcommand)]
    Data(DataCommand),
}

#[derive(Subcommand, Debug)]
pub enum DataCommand {
    /// Generates (or resumes) a dataset: rerun the same command after a crash or Ctrl-C.
    Generate(GenerateArgs),
    /// Combines the finished shards of one dataset into OUT (refuses mixed or duplicate parts).
    Merge {
        #[arg(long)]
        out: PathBuf,
        #[arg(required = true)]
        parts: Vec<PathBuf>,
    },
    /// Checks a finished dataset (every file and record) and summarises it.
    Info { dir: PathBuf },
    /// Rewrites a finished dataset of an older format as the current one, its records
    /// checked and kept (anchors re-derived by today's rules); a current one is left as is.
    Upgrade { dir: PathBuf },
}

#[derive(clap::Args, Debug)]
pub struct GenerateArgs {
    /// Dataset directory (one per shard).
    #[arg(long)]
    pub out: PathBuf,
    /// Records of the whole dataset (all shards).
    #[arg(long)]
    pub count: u64,
    /// Grid n × n cells.
    #[arg(long, default_value_t = 160)]
    pub n: usize,
    /// Cell size (nm).
    #[arg(long, default_value_t = 2.0)]
    pub cell_nm: f64,
    /// Fixed grain count (default: the paper's law, uniform in [16, 256]).
    #[arg(long)]
    pub grains: Option<usize>,
    /// Range of the drawn grain count: `paper` (16…256), `density` (the paper's range scaled
    /// by area, so grains keep the paper's 20–80 nm) or `LO,HI`.
    #[arg(long, default_value = "paper")]
    pub grains_range: String,
    /// Fixed misorientation θ in degrees (default: the paper's law, uniform in ±180°).
    #[arg(long)]
    pub theta_deg: Option<f64>,
    /// Periodic (minimum-image) Voronoi distances.
    #[arg(long)]
    pub periodic: bool,
    /// Add each structure's demagnetisation curve and anchors.
    #[arg(long)]
    pub label: bool,
    /// This process's part `i/n` of the ids (0-based), for job arrays.
    #[arg(long)]
    pub shard: Option<String>,
    /// Solver torque tolerance (units of HA).
    #[arg(long)]
    pub tol: Option<f64>,
    /// Solver evaluations allowed per field step.
    #[arg(long)]
    pub max_iter: Option<usize>,
    /// Field step (units of HA).
    #[arg(long)]
    pub h_step: Option<f64>,
}

#[derive(Subcommand, Debug)]
pub enum Bench {
    /// Paper-law 160×160 structures generated per second.
    Grains {
        #[arg(long, default_value_t = 20_000)]
        count: usize,
    },
    /// Dataset generation and streaming: N unlabelled paper-law structures written to a
    /// dataset (time, size on disk), then shuffled batches of `kx` rasters read back.
    Data {
        #[arg(long, default_value_t = 320_000)]
        count: u64,
        /// Grid size n (n × n cells of 2 nm).
        #[arg(long, default_value_t = 160)]
        n: usize,
        /// Batches of 64 rasters to stream.
        #[arg(long, default_value_t = 300)]
        batches: usize,
        /// Dataset directory (default: a temporary one, removed afterwards).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Paper-law 160×160 demagnetisation curves: seconds per curve, curves per minute,
    /// evaluations, µs per energy+gradient evaluation, non-converged steps.
    Solver {
        /// Number of structures (seeds 1, 2, …).
        #[arg(long, default_value_t = 32)]
        structures: usize,
        /// Grid size n (n × n cells of 2 nm).
        #[arg(long, default_value_t = 160)]
        n: usize,
        /// Descent method: the default, or bb / lbfgs / lbfgs-bb.
        #[arg(long)]
        method: Option<String>,
        /// Largest turn of a cell per iteration (rad), instead of the default's.
        #[arg(long)]
        max_turn: Option<f64>,
        /// JSON file of the short-step reference anchors (computed for the seeds it lacks
        /// and written back; slow the first time): compare every anchor with that path.
        #[arg(long)]
        reference: Option<PathBuf>,
        /// Also time the first curve alone on one thread and split over all threads.
        #[arg(long)]
        single_curve: bool,
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
    if cli.no_cache {
        settings::set_curve_cache(None);
    } else if let Some(dir) = &cli.cache {
        settings::set_curve_cache(Some(dir.clone()));
    }
    if let Err(e) = settings::set_threads(cli.threads) {
        return usage_error(&e);
    }
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
        Command::Data(d) => data_command(d, cli.seed),
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
        Bench::Data {
            count,
            n,
            batches,
            out,
        } => crate::bench::data::run(count, n, batches, out)
            .map(|r| r.to_string())
            .map_err(|e| e.to_string()),
        Bench::Solver {
            structures,
            n,
            method,
            max_turn,
            reference,
            single_curve,
        } => (|| {
            let mut opts = crate::bench::solver::SolverBenchOptions {
                n,
                structures,
                threads: threads.unwrap_or(0),
                reference,
                single_curve,
                ..Default::default()
            };
            if let Some(m) = method {
                opts.sweep.min.method = crate::solver::Method::from_name(&m).ok_or(format!(
                    "--method {m:?}: expected one of {}",
                    crate::solver::Method::NAMES.join(", ")
                ))?;
            }
            if let Some(t) = max_turn {
                opts.sweep.min.max_turn = t;
            }
            opts.sweep.min = opts.sweep.min.validated().map_err(|e| e.to_string())?;
            crate::bench::solver::run(&opts)
                .map(|r| r.to_string())
                .map_err(|e| e.to_string())
        })(),
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

/// `--grains-range`: a name of [`crate::grains::VoronoiOptions::named_range`] or `LO,HI`.
fn grains_range(text: &str, n: usize, cell_nm: f64) -> crate::data::Result<(usize, usize)> {
    let named = crate::grains::VoronoiOptions::named_range(text, n, n, cell_nm);
    let pair = || {
        let (lo, hi) = text.split_once(',')?;
        Some((lo.trim().parse().ok()?, hi.trim().parse().ok()?))
    };
    named
        .or_else(pair)
        .ok_or_else(|| crate::data::DataError::BadOption {
            name: "--grains-range",
            got: format!("{text:?}"),
            expected: "paper, density or LO,HI".into(),
        })
}

/// The spec of `data generate`'s arguments with base seed `seed`.
fn generate_spec(a: &GenerateArgs, seed: u64) -> crate::data::Result<crate::data::Spec> {
    use crate::data::{GeneratorSpec, Shard, Spec};
    use crate::solver::SolverSettings;
    let options = crate::grains::VoronoiOptions {
        nx: a.n,
        ny: a.n,
        cell_nm: a.cell_nm,
        grains: a.grains,
        grains_range: grains_range(&a.grains_range, a.n, a.cell_nm)?,
        theta: a.theta_deg.map(f64::to_radians),
        seed,
        periodic: a.periodic,
    };
    let solver = a.label.then(|| {
        let mut s = SolverSettings::default();
        s.sweep.min.tol = a.tol.unwrap_or(s.sweep.min.tol);
        s.sweep.min.max_iter = a.max_iter.unwrap_or(s.sweep.min.max_iter);
        s.sweep.h_step = a.h_step.unwrap_or(s.sweep.h_step);
        s
    });
    if !a.label && (a.tol.is_some() || a.max_iter.is_some() || a.h_step.is_some()) {
        return Err(crate::data::DataError::BadOption {
            name: "--tol/--max-iter/--h-step",
            got: "given".into(),
            expected: "--label as well (they are solver settings)".into(),
        });
    }
    let shard = a.shard.as_deref().map_or(Ok(Shard::WHOLE), Shard::parse)?;
    Spec::new(GeneratorSpec::new(&options, seed), a.count, solver, shard)
}

fn data_command(d: DataCommand, seed: u64) -> i32 {
    let result = match d {
        DataCommand::Generate(a) => generate_spec(&a, seed)
            .and_then(|spec| crate::data::generate(&a.out, &spec))
            .map(|(m, summary)| format!("{summary}\n{}", crate::data::describe(&a.out, &m))),
        DataCommand::Merge { out, parts } => {
            crate::data::merge(&out, &parts).map(|m| crate::data::describe(&out, &m))
        }
        DataCommand::Upgrade { dir } => crate::data::upgrade(&dir).map(|u| u.to_string()),
        DataCommand::Info { dir } => crate::data::Dataset::open(&dir).map(|d| {
            let mut s = crate::data::Summary::default();
            s.count(d.records());
            let mut about = crate::data::describe(&dir, d.manifest());
            if d.labelled() {
                about = format!("{about}\n{}", s.labels());
            }
            let partial = dir.join(crate::data::generate::PARTIAL);
            if partial.exists() {
                about.push_str(&format!(
                    "\nnote: {} is left from a generation killed after finishing; the dataset \
                     is complete (rerun the same `data generate` or delete it)",
                    partial.display()
                ));
            }
            about
        }),
    };
    match result {
        Ok(report) => {
            println!("{report}");
            0
        }
        Err(crate::data::DataError::Interrupted) => {
            eprintln!("coercive data: {}", crate::data::DataError::Interrupted);
            130
        }
        Err(e) => {
            eprintln!("coercive data: {e}");
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
