//! The CPU's vector-register state after faer's kernels.

/// Clears the upper halves of the vector registers after faer's AVX-512 kernels (matrix
/// products, eigendecompositions of 64 × 64 and larger), which leave them dirty: until
/// then every SSE instruction on the thread (libm's `exp`, the scalar loops) pays a
/// transition penalty: a Gaussian-process fit ran 4–5× slower (`coercive bench gp`, 5.8 s
/// against 1.2 s at 490 rows), a loop of `exp` 2.8× slower after CMA-ES's 64 × 64
/// eigendecomposition (none below 64). Call it after faer's work on a thread that goes on.
pub fn clean_upper() {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: the CPU has AVX (checked above), all `vzeroupper` needs.
        unsafe { std::arch::x86_64::_mm256_zeroupper() }
    }
}
