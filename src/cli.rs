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
    /// Jupyter kernel: `coercive kernel install` writes its kernelspec; Jupyter starts it as
    /// `coercive kernel -f CONNECTION_FILE`.
    Kernel(KernelArgs),
}

#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct KernelArgs {
    /// The connection file Jupyter writes (ports, key); the kernel runs until shut down.
    #[arg(short = 'f', long = "connection-file", value_name = "CONNECTION_FILE")]
    pub connection_file: Option<PathBuf>,
    #[command(subcommand)]
    pub action: Option<KernelAction>,
}

#[derive(Subcommand, Debug)]
pub enum KernelAction {
    /// Writes the kernelspec (kernel.json, logo) so Jupyter offers "coercive (Rhai)".
    Install {
        /// In the user's Jupyter data directory (the default).
        #[arg(long, conflicts_with = "prefix")]
        user: bool,
        /// Under PREFIX/share/jupyter/kernels (e.g. a virtual environment's directory).
        #[arg(long, value_name = "PREFIX")]
        prefix: Option<PathBuf>,
        /// The kernelspec's name (its directory).
        #[arg(long, default_value = "coercive")]
        name: String,
        /// The name notebooks show.
        #[arg(long, default_value = "coercive (Rhai)")]
        display_name: String,
    },
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
    /// This process's part `i/n` of the ids (0-based), for job arrays. Without it, a Slurm
    /// job array's task sets it: SLURM_ARRAY_TASK_ID (less SLURM_ARRAY_TASK_MIN, if set) of
    /// SLURM_ARRAY_TASK_COUNT, when both are set; otherwise the whole dataset. A task
    /// resubmitted alone (`sbatch --array=7`) needs --shard 7/n.
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
    /// A grain-boundary phase `WIDTH_NM,A,JS,K1` (nm, J/m, T, J/m³; K1 may be 0): the
    /// cells within WIDTH_NM/2 of a grain boundary take these constants.
    #[arg(long)]
    pub boundary: Option<String>,
    /// Solver for the labels: `plain` (the Rust solver, one curve per core; the default
    /// with --device cpu) or `tensor` (batched on libtorch tensors on --device; the
    /// default with --device cuda). The manifest records a tensor backend, its device and
    /// batch: a resume must use the same.
    #[arg(long, value_name = "plain|tensor")]
    pub solver_backend: Option<String>,
    /// Structures in flight on the tensor backend (default 64).
    #[arg(long)]
    pub batch: Option<usize>,
    /// A finished dataset of the same settings but another count or shard (repeatable):
    /// the records it holds are taken, not made again (label 500 curves, then ask for
    /// 1 000 into a new directory with `--from` the first: 500 more curves are computed).
    #[arg(long = "from", value_name = "DIR")]
    pub from: Vec<PathBuf>,
    #[command(flatten)]
    pub descent: DescentArgs,
}

/// The descent and the sweep's speed-ups, where a command departs from the defaults (an
/// older dataset's settings, or a bench of another descent).
#[derive(clap::Args, Debug, Default)]
pub struct DescentArgs {
    /// Descent method: bb (the default), lbfgs or lbfgs-bb.
    #[arg(long)]
    pub method: Option<String>,
    /// Largest turn of a cell per iteration (rad; default 0.5; 0.3 in datasets labelled by
    /// earlier versions).
    #[arg(long)]
    pub max_turn: Option<f64>,
    /// Secant predictor of each field's start where the last step turned no cell more than
    /// this (rad; default 0.05; 0 = off, as in the first datasets).
    #[arg(long)]
    pub predict_max: Option<f64>,
    /// Whether each field's descent starts with the last BB step of the previous field
    /// (on by default; `--carry-step false` for datasets labelled by earlier versions).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub carry_step: Option<bool>,
}

impl DescentArgs {
    fn given(&self) -> bool {
        self.method.is_some()
            || self.max_turn.is_some()
            || self.predict_max.is_some()
            || self.carry_step.is_some()
    }

    /// `sweep` with the given settings in place of its own (limits checked by the caller);
    /// an unknown method is refused with what --method expects.
    fn apply(&self, sweep: &mut crate::solver::SweepOptions) -> Result<(), String> {
        if let Some(m) = &self.method {
            sweep.min.method = crate::solver::Method::from_name(m).ok_or(format!(
                "one of {}",
                crate::solver::Method::NAMES.join(", ")
            ))?;
        }
        sweep.min.max_turn = self.max_turn.unwrap_or(sweep.min.max_turn);
        sweep.predict_max = self.predict_max.unwrap_or(sweep.predict_max);
        sweep.carry_step = self.carry_step.unwrap_or(sweep.carry_step);
        Ok(())
    }
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
        #[command(flatten)]
        descent: DescentArgs,
        /// JSON file of the short-step reference anchors (computed for the seeds it lacks
        /// and written back; slow the first time): compare every anchor with that path.
        #[arg(long)]
        reference: Option<PathBuf>,
        /// Also time the first curve alone on one thread and split over two.
        #[arg(long)]
        single_curve: bool,
        /// Batched tensor solver on --device instead, one run per batch size (e.g.
        /// 64,256,1024): curves/s, evaluations, µs per evaluation per structure, device
        /// memory. The default with --device cuda is 64,256,1024.
        #[arg(long, value_delimiter = ',')]
        batch: Option<Vec<usize>>,
        /// With the tensor solver: compare every anchor with this file's (from
        /// --write-anchors, for the same n and structures).
        #[arg(long, value_name = "FILE")]
        anchors: Option<PathBuf>,
        /// Computes the plain solver's anchors of the structures and writes them to FILE
        /// (for --anchors, e.g. on a GPU machine), then stops.
        #[arg(long, value_name = "FILE", conflicts_with_all = ["batch", "anchors", "reference"])]
        write_anchors: Option<PathBuf>,
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
    /// Seconds of one Gaussian-process fit of the default ensemble at `--rows` labels.
    Gp {
        #[arg(long, default_value_t = 3200)]
        rows: usize,
        #[arg(long, default_value_t = 46)]
        inputs: usize,
        /// Rows the hyperparameter search sees (the weights use all).
        #[arg(long, default_value_t = crate::learn::gp::FIT_ROWS)]
        fit_rows: usize,
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
        Command::Kernel(k) => kernel_command(k),
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

fn kernel_command(k: KernelArgs) -> i32 {
    let done = match (k.action, k.connection_file) {
        (
            Some(KernelAction::Install {
                user: _,
                prefix,
                name,
                display_name,
            }),
            _,
        ) => crate::kernel::install(prefix.as_deref(), &name, &display_name).map(|dir| {
            println!("installed kernelspec `{name}` in {}", dir.display());
        }),
        (None, Some(file)) => crate::kernel::run(&file),
        (None, None) => {
            return usage_error("kernel: give `install`, or `-f CONNECTION_FILE` as Jupyter does");
        }
    };
    match done {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("coercive kernel: {e}");
            1
        }
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
            descent,
            reference,
            single_curve,
            batch,
            anchors,
            write_anchors,
        } => (|| {
            let mut opts = crate::bench::solver::SolverBenchOptions {
                n,
                structures,
                threads: threads.unwrap_or(0),
                reference,
                single_curve,
                ..Default::default()
            };
            descent.apply(&mut opts.sweep).map_err(|e| {
                format!(
                    "--method {:?}: expected {e}",
                    descent.method.as_deref().unwrap_or("")
                )
            })?;
            opts.sweep = opts.sweep.validated().map_err(|e| e.to_string())?;
            if let Some(path) = write_anchors {
                return crate::bench::solver_tensor::write_anchors(
                    &path,
                    n,
                    structures,
                    opts.seed,
                    &opts.sweep,
                    opts.threads,
                )
                .map_err(|e| e.to_string());
            }
            let device = settings::device();
            let batch = batch.or((device == settings::Device::Cuda).then(|| vec![64, 256, 1024]));
            if let Some(batches) = batch {
                let t = crate::bench::solver_tensor::TensorBenchOptions {
                    n,
                    structures,
                    seed: opts.seed,
                    batches,
                    device,
                    sweep: opts.sweep,
                    anchors,
                };
                return crate::bench::solver_tensor::run(&t)
                    .map(|r| r.to_string())
                    .map_err(|e| e.to_string());
            }
            if anchors.is_some() {
                return Err(
                    "--anchors compares the tensor solver: give --batch (or --device cuda)".into(),
                );
            }
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
        Bench::Gp {
            rows,
            inputs,
            fit_rows,
        } => crate::bench::gp::run(rows, inputs, fit_rows).map_err(|e| e.to_string()),
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
    let boundary = a.boundary.as_deref().map(boundary_phase).transpose()?;
    let solver = a.label.then(|| {
        let mut s = SolverSettings::default();
        s.sweep.min.tol = a.tol.unwrap_or(s.sweep.min.tol);
        s.sweep.min.max_iter = a.max_iter.unwrap_or(s.sweep.min.max_iter);
        s.sweep.h_step = a.h_step.unwrap_or(s.sweep.h_step);
        s.boundary = boundary;
        s
    });
    let solver = match solver {
        Some(mut s) => {
            s.backend = solver_backend(a.solver_backend.as_deref(), a.batch)?;
            a.descent
                .apply(&mut s.sweep)
                .map_err(|e| crate::data::DataError::BadOption {
                    name: "--method",
                    got: a.descent.method.clone().unwrap_or_default(),
                    expected: e,
                })?;
            Some(s)
        }
        None => None,
    };
    if !a.label
        && (a.tol.is_some()
            || a.max_iter.is_some()
            || a.h_step.is_some()
            || boundary.is_some()
            || a.solver_backend.is_some()
            || a.batch.is_some()
            || a.descent.given())
    {
        return Err(crate::data::DataError::BadOption {
            name: "--tol/--max-iter/--h-step/--boundary/--solver-backend/--batch/--method/\
                   --max-turn/--predict-max/--carry-step",
            got: "given".into(),
            expected: "--label as well (they are solver settings)".into(),
        });
    }
    let shard = match a.shard.as_deref() {
        Some(s) => Shard::parse(s)?,
        None => {
            let var = |name: &str| std::env::var(name).ok();
            let slurm = slurm_shard(&SlurmArray {
                id: var("SLURM_ARRAY_TASK_ID"),
                count: var("SLURM_ARRAY_TASK_COUNT"),
                min: var("SLURM_ARRAY_TASK_MIN"),
                step: var("SLURM_ARRAY_TASK_STEP"),
            })?;
            if let Some(s) = slurm {
                eprintln!(
                    "coercive data generate: shard {}/{} from SLURM_ARRAY_TASK_ID and \
                     SLURM_ARRAY_TASK_COUNT",
                    s.index, s.count
                );
            }
            slurm.unwrap_or(Shard::WHOLE)
        }
    };
    Spec::new(GeneratorSpec::new(&options, seed), a.count, solver, shard)
}

/// `--solver-backend` and `--batch`: the tensor backend on `--device` when asked (or when
/// that device is cuda), else the plain solver.
fn solver_backend(
    name: Option<&str>,
    batch: Option<usize>,
) -> crate::data::Result<crate::solver::tensor::Backend> {
    use crate::solver::tensor::{Backend, TensorOptions};
    let device = settings::device();
    let tensor = || {
        let mut t = TensorOptions::on(device);
        t.batch = batch.unwrap_or(t.batch);
        Backend::Tensor(t)
    };
    let bad = |got: String, expected: &str| crate::data::DataError::BadOption {
        name: "--solver-backend",
        got,
        expected: expected.into(),
    };
    match name {
        None => match Backend::for_device(device) {
            Backend::Plain if batch.is_some() => Err(bad(
                "plain (with --device cpu) and --batch".into(),
                "--solver-backend tensor with --batch",
            )),
            Backend::Plain => Ok(Backend::Plain),
            Backend::Tensor(_) => Ok(tensor()),
        },
        Some("tensor") => Ok(tensor()),
        Some("plain") if device == settings::Device::Cpu && batch.is_none() => Ok(Backend::Plain),
        Some("plain") => Err(bad(
            "plain with --device cuda or --batch".into(),
            "tensor for --device cuda and --batch (the plain solver runs on the CPU cores)",
        )),
        Some(other) => Err(bad(format!("{other:?}"), "plain or tensor")),
    }
}

/// `--boundary WIDTH_NM,A,JS,K1`; the limits are checked with the other solver settings.
fn boundary_phase(text: &str) -> crate::data::Result<crate::solver::BoundaryPhase> {
    let bad = || crate::data::DataError::BadOption {
        name: "--boundary",
        got: format!("{text:?}"),
        expected: "WIDTH_NM,A,JS,K1: four numbers (nm, J/m, T, J/m³), e.g. 2,4e-12,1.0,1e6".into(),
    };
    let v = text
        .split(',')
        .map(|x| x.trim().parse::<f64>().map_err(|_| bad()))
        .collect::<crate::data::Result<Vec<_>>>()?;
    let [width_nm, a, js, k1] = v[..] else {
        return Err(bad());
    };
    let material = crate::solver::Material {
        a,
        ms: js / crate::solver::material::MU0,
        k1,
    };
    Ok(crate::solver::BoundaryPhase { width_nm, material })
}

/// A Slurm job array task's variables, as read from the environment.
#[derive(Default)]
pub struct SlurmArray {
    /// SLURM_ARRAY_TASK_ID
    pub id: Option<String>,
    /// SLURM_ARRAY_TASK_COUNT
    pub count: Option<String>,
    /// SLURM_ARRAY_TASK_MIN
    pub min: Option<String>,
    /// SLURM_ARRAY_TASK_STEP
    pub step: Option<String>,
}

/// The shard of a Slurm job array task: `None` unless both the task id and the task count
/// are set. The index is the id less the array's first id (`min`, SLURM_ARRAY_TASK_MIN), so
/// `--array=1-8` works as well as `--array=0-7`. Refused, since they do not map onto
/// shards: ids with gaps (`--array=0-15:2`), anything not a number, and an array of one
/// task whose id is not 0 or 1 — that is one task resubmitted (`sbatch --array=7`), which
/// would otherwise label shard 0/1, the whole dataset, and needs `--shard 7/n`.
pub fn slurm_shard(v: &SlurmArray) -> crate::data::Result<Option<crate::data::Shard>> {
    let (Some(id), Some(count)) = (v.id.as_deref(), v.count.as_deref()) else {
        return Ok(None);
    };
    let bad = |name: &'static str, got: String, expected: String| {
        Err(crate::data::DataError::BadOption {
            name,
            got,
            expected,
        })
    };
    let number = |name: &'static str, v: &str| {
        v.trim()
            .parse::<u64>()
            .map_err(|_| crate::data::DataError::BadOption {
                name,
                got: format!("{v:?}"),
                expected: "a non-negative integer".into(),
            })
    };
    let id = number("SLURM_ARRAY_TASK_ID", id)?;
    let count = number("SLURM_ARRAY_TASK_COUNT", count)?;
    let min = v
        .min
        .as_deref()
        .map_or(Ok(0), |m| number("SLURM_ARRAY_TASK_MIN", m))?;
    let step = v
        .step
        .as_deref()
        .map_or(Ok(1), |s| number("SLURM_ARRAY_TASK_STEP", s))?;
    if step != 1 {
        return bad(
            "SLURM_ARRAY_TASK_STEP",
            step.to_string(),
            format!(
                "1: ids with gaps are not shards; use a contiguous --array=0-{} or pass \
                 --shard i/n",
                count.saturating_sub(1)
            ),
        );
    }
    if count == 1 && id > 1 {
        return bad(
            "SLURM_ARRAY_TASK_ID",
            format!("{id} in an array of one task"),
            format!(
                "--shard {id}/N for one resubmitted task (N: the shards of the whole array); \
                 from the environment it would be shard 0/1, the whole dataset"
            ),
        );
    }
    match id.checked_sub(min) {
        Some(index) if index < count => Ok(Some(crate::data::Shard { index, count })),
        _ => bad(
            "SLURM_ARRAY_TASK_ID",
            format!("{id} (first id {min}, {count} tasks)"),
            format!(
                "an id in {min}..{}: use a contiguous --array=0-{} (no step), or pass --shard i/n",
                min + count,
                count.saturating_sub(1)
            ),
        ),
    }
}

fn data_command(d: DataCommand, seed: u64) -> i32 {
    let result = match d {
        DataCommand::Generate(a) => generate_spec(&a, seed)
            .and_then(|spec| crate::data::generate_from(&a.out, &spec, &a.from))
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
        // Ctrl-C can surface as another error first (a system call it cut short): the
        // run was still interrupted, and says so by its exit status.
        Err(e) if crate::interrupt::requested() => {
            eprintln!("coercive data: {e} (interrupted)");
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

#[cfg(test)]
mod tests {
    use super::{SlurmArray, slurm_shard};
    use crate::data::Shard;

    #[test]
    fn slurm_array_tasks_become_shards() {
        let with_step =
            |id: Option<&str>, count: Option<&str>, min: Option<&str>, step: Option<&str>| {
                slurm_shard(&SlurmArray {
                    id: id.map(String::from),
                    count: count.map(String::from),
                    min: min.map(String::from),
                    step: step.map(String::from),
                })
                .map_err(|e| e.to_string())
            };
        let shard = |id, count, min| with_step(id, count, min, None);
        assert_eq!(shard(None, None, None), Ok(None));
        assert_eq!(shard(Some("3"), None, None), Ok(None), "both are needed");
        assert_eq!(shard(None, Some("8"), None), Ok(None), "both are needed");
        assert_eq!(
            shard(Some("3"), Some("8"), None),
            Ok(Some(Shard { index: 3, count: 8 }))
        );
        assert_eq!(
            shard(Some("8"), Some("8"), Some("1")),
            Ok(Some(Shard { index: 7, count: 8 })),
            "--array=1-8"
        );
        assert_eq!(
            with_step(Some("2"), Some("4"), Some("0"), Some("1")),
            Ok(Some(Shard { index: 2, count: 4 })),
            "step 1 is contiguous"
        );
        let e = shard(Some("8"), Some("8"), Some("0")).unwrap_err();
        assert!(
            e.contains("SLURM_ARRAY_TASK_ID") && e.contains("0..8"),
            "{e}"
        );
        let e = shard(Some("0"), Some("4"), Some("2")).unwrap_err();
        assert!(e.contains("2..6"), "{e}");
        let e = shard(Some("x"), Some("4"), None).unwrap_err();
        assert!(
            e.contains("SLURM_ARRAY_TASK_ID") && e.contains("\"x\""),
            "{e}"
        );
        // --array=0-15:2: id 2 would pass the range check as shard 2 of 8.
        let e = with_step(Some("2"), Some("8"), Some("0"), Some("2")).unwrap_err();
        assert!(e.contains("SLURM_ARRAY_TASK_STEP = 2"), "{e}");
        // `sbatch --array=7` to resume one task: an array of one, which is not shard 0/1.
        let e = shard(Some("7"), Some("1"), Some("7")).unwrap_err();
        assert!(
            e.contains("SLURM_ARRAY_TASK_ID = 7 in an array of one task")
                && e.contains("--shard 7/N"),
            "{e}"
        );
        for id in ["0", "1"] {
            assert_eq!(
                shard(Some(id), Some("1"), Some(id)),
                Ok(Some(Shard::WHOLE)),
                "--array={id}: one task, the whole dataset"
            );
        }
        assert!(shard(Some("0"), Some("0"), None).is_err(), "no tasks");
    }
}
