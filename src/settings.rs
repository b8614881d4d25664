//! Session-wide settings from the command line: seed, threads, device, quiet, curve cache.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// Where tensors (networks) live. The solver and generators always run on the CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    Cpu,
    Cuda,
}

impl Device {
    pub fn parse(s: &str) -> Result<Device, String> {
        match s {
            "cpu" => Ok(Device::Cpu),
            "cuda" | "gpu" => Ok(Device::Cuda),
            other => Err(format!(
                "unknown device `{other}`: expected `cpu` or `cuda`"
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Device::Cpu => "cpu",
            Device::Cuda => "cuda",
        }
    }

    /// Checks that the device can be used by this build on this machine.
    pub fn check_available(self) -> Result<(), String> {
        match self {
            Device::Cpu => Ok(()),
            Device::Cuda if tch::Cuda::is_available() => Ok(()),
            Device::Cuda => Err(format!(
                "--device cuda: CUDA is not available ({}); run with --device cpu",
                if cfg!(feature = "cuda") {
                    "no usable GPU or driver was found"
                } else {
                    "this binary was built without the `cuda` feature: cargo build --release --features cuda"
                }
            )),
        }
    }

    pub fn to_tch(self) -> tch::Device {
        match self {
            Device::Cpu => tch::Device::Cpu,
            Device::Cuda => tch::Device::Cuda(0),
        }
    }
}

static SEED: AtomicU64 = AtomicU64::new(0);
static DEVICE: OnceLock<Device> = OnceLock::new();
static THREADS: OnceLock<usize> = OnceLock::new();

/// The session seed (`--seed`, default 0): the default of every `seed` option.
pub fn seed() -> u64 {
    SEED.load(Ordering::SeqCst)
}

pub fn set_seed(seed: u64) {
    SEED.store(seed, Ordering::SeqCst);
}

pub fn device() -> Device {
    *DEVICE.get().unwrap_or(&Device::Cpu)
}

/// Sets the device once per process (later calls keep the first choice).
pub fn set_device(device: Device) -> Result<(), String> {
    device.check_available()?;
    let _ = DEVICE.set(device);
    Ok(())
}

/// Worker threads for rayon (solver, generators) and libtorch.
pub fn threads() -> usize {
    *THREADS.get().unwrap_or(&default_threads())
}

fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// The most worker threads allowed: 4 per core (at least 16). Far more only costs memory
/// and start-up time (10 000 threads hung for minutes).
pub fn max_threads() -> usize {
    (4 * default_threads()).max(16)
}

/// Sizes the rayon pool and libtorch's intra-op pool deliberately: libtorch threads
/// collapse under contention when left to guess. `None` means all cores; 0 or more than
/// [`max_threads`] is refused. Only the first call takes effect.
pub fn set_threads(n: Option<usize>) -> Result<(), String> {
    let max = max_threads();
    let n = match n {
        None => default_threads(),
        Some(n) if (1..=max).contains(&n) => n,
        Some(n) => {
            return Err(format!(
                "--threads {n}: expected 1 … {max} (4 per core; omit it to use all {} cores)",
                default_threads()
            ));
        }
    };
    if THREADS.set(n).is_ok() {
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global();
        tch::set_num_threads(n as i32);
    }
    Ok(())
}

static CURVE_CACHE: OnceLock<Option<PathBuf>> = OnceLock::new();

/// Where finished demagnetisation curves are kept (`solver::cache`): `--cache DIR`,
/// none with `--no-cache`; by default $COERCIVE_CACHE ("" or "off": none), else
/// $XDG_CACHE_HOME/coercive/curves, else ~/.cache/coercive/curves.
pub fn curve_cache() -> Option<PathBuf> {
    CURVE_CACHE.get_or_init(default_curve_cache).clone()
}

/// Sets the curve cache once per process (later calls keep the first choice).
pub fn set_curve_cache(dir: Option<PathBuf>) {
    let _ = CURVE_CACHE.set(dir);
}

fn default_curve_cache() -> Option<PathBuf> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    match std::env::var("COERCIVE_CACHE") {
        Ok(v) if v.is_empty() || v == "off" => None,
        Ok(v) => Some(v.into()),
        Err(_) => env("XDG_CACHE_HOME")
            .or_else(|| env("HOME").map(|h| h.join(".cache")))
            .map(|d| d.join("coercive").join("curves")),
    }
}
