//! Memory checks before large allocations: an error that names the size, instead of the
//! allocator aborting the process (or a panic) halfway through.

/// Bytes the process may still allocate: the smaller of the kernel's `MemAvailable` and the
/// room left under a cgroup (container) limit; `None` where neither can be read.
pub fn available() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok().and_then(|t| {
        let line = t.lines().find(|l| l.starts_with("MemAvailable:"))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb * 1024)
    });
    let read = |p: &str| std::fs::read_to_string(p).ok()?.trim().parse::<u64>().ok();
    let cgroup = read("/sys/fs/cgroup/memory.max")
        .map(|max| max.saturating_sub(read("/sys/fs/cgroup/memory.current").unwrap_or(0)));
    match (meminfo, cgroup) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Lets freed tensor memory be reused instead of returned to the kernel (glibc only).
/// By default glibc gives every block over 32 MB back with `munmap` and trims the heap
/// above 2 × its threshold, so each training step maps its activations, gradients and
/// temporaries afresh and the kernel zeroes every page: half of a Table-1 VAE step on one
/// thread (`perf stat`: 240 k page faults per step before, none after the first). Blocks up
/// to 1 GiB now come from the heap, and up to 512 MiB stay free at its top; [`release`]
/// hands the rest back after training. Process-wide; done once.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        // SAFETY: mallopt only changes glibc's allocation thresholds.
        ONCE.call_once(|| unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 30);
            libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 29);
        });
    }
}

/// Returns the free memory kept by [`keep_freed_memory`] to the kernel (after training).
pub fn release() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// `bytes` for humans: "8.00 GB".
pub fn human(bytes: u128) -> String {
    let units = ["bytes", "kB", "MB", "GB", "TB", "PB", "EB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < units.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{v:.2} {}", units[u])
    }
}

/// `Err` with a message naming `what` and both sizes unless `bytes` fit in the memory
/// available now (or, where that is unknown, in the address space).
pub fn check(what: &str, bytes: u128) -> Result<(), String> {
    let limit = available().map_or(isize::MAX as u128, u128::from);
    if bytes <= limit {
        return Ok(());
    }
    Err(format!(
        "{what} would need about {} of memory; only {} is available",
        human(bytes),
        human(limit)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_beyond_memory_are_refused_with_their_size() {
        let e = check("zeros([1e9, 1e9])", 8 * 10u128.pow(18)).unwrap_err();
        assert!(
            e.starts_with("zeros([1e9, 1e9]) would need about 8.00 EB"),
            "{e}"
        );
        assert!(check("a byte", 1).is_ok());
    }
}
