//! Who runs the second half of each pass of a split evaluation.
//!
//! A split evaluation hands half of each of its three passes to a second thread: ~150 µs of
//! work each at 160². Through rayon's join the idle worker falls asleep between passes and
//! is woken through the kernel; on the 2-core VM that cost 14–19 µs per pass, 10 % of the
//! work. Here a partner thread spins between passes (and parks after [`SPIN`] without
//! work), so a hand-off costs a cache-line transfer.

use std::cell::UnsafeCell;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How long the partner spins for its next half before it parks: well above the gap
/// between two passes, well below anything a person would notice as a busy core.
const SPIN: Duration = Duration::from_micros(500);

/// Threads that one split evaluation keeps busy.
pub const LANES: usize = 2;

/// Whether `curves` curves run at once may each split with a partner thread on `threads`
/// threads: only when no core then holds two busy threads.
pub fn fits(curves: usize, threads: usize) -> bool {
    LANES * curves <= threads
}

/// The two halves of every pass: one after the other here, or side by side with a partner.
pub enum Fork {
    One,
    Two(Pair),
}

impl Fork {
    /// Two lanes when `split` (one if the partner thread cannot be started: the same
    /// numbers, more slowly), else one.
    pub fn new(split: bool) -> Self {
        match split {
            true => Pair::new().map_or(Fork::One, Fork::Two),
            false => Fork::One,
        }
    }

    pub fn is_split(&self) -> bool {
        matches!(self, Fork::Two(_))
    }

    /// `a` and `b`: `a` on this thread and `b` on the partner when split.
    pub fn both<A, B: Send>(&self, a: impl FnOnce() -> A, b: impl FnOnce() -> B + Send) -> (A, B) {
        match self {
            Fork::One => (a(), b()),
            Fork::Two(pair) => pair.both(a, b),
        }
    }
}

/// The partner's states.
const IDLE: u8 = 0;
const POSTED: u8 = 1;
const DONE: u8 = 2;
const PARKED: u8 = 3;
const QUIT: u8 = 4;

/// A half posted to the partner: a closure on the owner's stack, its lifetime erased.
type Job = *mut (dyn FnMut() + Send + 'static);

struct Shared {
    state: AtomicU8,
    job: UnsafeCell<Option<Job>>,
}

// SAFETY: `job` is written by the owner only while the partner does not look at it (the
// state is not POSTED), and read by the partner only after it has seen POSTED, which the
// owner stores (Release) after writing the job; the owner writes again only after it has
// seen DONE, which the partner stores (Release) after taking the job.
unsafe impl Sync for Shared {}
unsafe impl Send for Shared {}

/// A partner thread for the second half of each pass.
pub struct Pair {
    shared: Arc<Shared>,
    partner: Option<JoinHandle<()>>,
}

impl Pair {
    fn new() -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            state: AtomicU8::new(IDLE),
            job: UnsafeCell::new(None),
        });
        let theirs = shared.clone();
        let partner = thread::Builder::new()
            .name("coercive-lane".into())
            .spawn(move || partner(&theirs))?;
        Ok(Pair {
            shared,
            partner: Some(partner),
        })
    }

    fn both<A, B: Send>(&self, a: impl FnOnce() -> A, b: impl FnOnce() -> B + Send) -> (A, B) {
        let mut b = Some(b);
        let mut out: Option<thread::Result<B>> = None;
        let ra = {
            let mut half = || {
                if let Some(b) = b.take() {
                    out = Some(catch_unwind(AssertUnwindSafe(b)));
                }
            };
            let half: *mut (dyn FnMut() + Send + '_) = &mut half;
            // SAFETY: only the lifetime is erased. `half` and what it borrows outlive the
            // partner's use of it: we wait for its end below before leaving this block, also
            // when `a` panics (caught), and `half` itself never unwinds (it catches).
            let job: Job = unsafe { std::mem::transmute(half) };
            unsafe { *self.shared.job.get() = Some(job) };
            if self.shared.state.swap(POSTED, Ordering::AcqRel) == PARKED {
                if let Some(p) = &self.partner {
                    p.thread().unpark();
                }
            }
            let ra = catch_unwind(AssertUnwindSafe(a));
            // Done is DONE, or PARKED when the partner has since gone to sleep.
            let mut spins = 0u32;
            while self.shared.state.load(Ordering::Acquire) == POSTED {
                spins = spins.wrapping_add(1);
                if spins % 4096 == 0 {
                    thread::yield_now();
                } else {
                    std::hint::spin_loop();
                }
            }
            ra
        };
        let rb = out.expect("the partner ran its half");
        match (ra, rb) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => resume_unwind(e),
        }
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        if self.shared.state.swap(QUIT, Ordering::AcqRel) == PARKED {
            if let Some(p) = &self.partner {
                p.thread().unpark();
            }
        }
        if let Some(p) = self.partner.take() {
            let _ = p.join();
        }
    }
}

/// The partner's loop: spin for a posted half, run it, say DONE; park when nothing comes.
fn partner(s: &Shared) {
    loop {
        let mut since = Instant::now();
        let mut spins = 0u32;
        loop {
            match s.state.load(Ordering::Acquire) {
                POSTED => break,
                QUIT => return,
                _ => {}
            }
            spins = spins.wrapping_add(1);
            if spins % 256 != 0 || since.elapsed() < SPIN {
                std::hint::spin_loop();
                continue;
            }
            for idle in [IDLE, DONE] {
                let parked =
                    s.state
                        .compare_exchange(idle, PARKED, Ordering::AcqRel, Ordering::Acquire);
                if parked.is_ok() {
                    while s.state.load(Ordering::Acquire) == PARKED {
                        thread::park();
                    }
                    break;
                }
            }
            since = Instant::now();
        }
        // SAFETY: POSTED was seen (Acquire) after the owner wrote the job (see `Shared`).
        if let Some(job) = unsafe { (*s.job.get()).take() } {
            // SAFETY: the owner keeps the closure alive until the state leaves POSTED; the
            // closure never unwinds.
            unsafe { (*job)() };
        }
        s.state.store(DONE, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_halves_run_and_return() {
        for split in [false, true] {
            let fork = Fork::new(split);
            assert_eq!(fork.is_split(), split);
            let mut hits = vec![0u32; 64];
            for round in 0..1000u32 {
                let (lo, hi) = hits.split_at_mut(32);
                let (a, b) = fork.both(
                    || {
                        lo.iter_mut().for_each(|h| *h += 1);
                        round
                    },
                    || {
                        hi.iter_mut().for_each(|h| *h += 2);
                        round * 2
                    },
                );
                assert_eq!((a, b), (round, round * 2));
            }
            assert!(hits[..32].iter().all(|&h| h == 1000));
            assert!(hits[32..].iter().all(|&h| h == 2000));
        }
    }

    /// A partner that has parked wakes for the next half.
    #[test]
    fn parked_partner_wakes() {
        let fork = Fork::new(true);
        for _ in 0..3 {
            thread::sleep(SPIN * 4);
            assert_eq!(fork.both(|| 1, || 2), (1, 2));
        }
    }

    /// A panic in either half reaches the caller after both halves have finished, and the
    /// lanes stay usable.
    #[test]
    fn panics_reach_the_caller() {
        let fork = Fork::new(true);
        let r = catch_unwind(AssertUnwindSafe(|| {
            fork.both(|| 1, || -> u32 { panic!("b") })
        }));
        assert!(r.is_err());
        let r = catch_unwind(AssertUnwindSafe(|| {
            fork.both(|| -> u32 { panic!("a") }, || 2)
        }));
        assert!(r.is_err());
        assert_eq!(fork.both(|| 3, || 4), (3, 4));
    }
}
