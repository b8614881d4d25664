//! Ctrl-C handling: a process-wide flag that long native work polls, so an interrupt stops
//! the computation (and the script) rather than the process or the REPL.

use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// The error long-running functions return when the user pressed Ctrl-C.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("interrupted")]
pub struct Interrupted;

extern "C" fn on_sigint(_: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Makes SIGINT raise the flag. Call it again after anything that takes SIGINT over (the
/// line editor installs its own handler for its lifetime, which would swallow Ctrl-C
/// pressed during a computation).
pub fn install_handler() {
    // SAFETY: the handler only performs an atomic store.
    unsafe {
        libc::signal(libc::SIGINT, on_sigint as *const () as libc::sighandler_t);
    }
}

/// True once Ctrl-C was pressed since the last [`reset`].
pub fn requested() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

/// `Err(Interrupted)` once Ctrl-C was pressed; call it between units of work.
pub fn check() -> Result<(), Interrupted> {
    if requested() {
        Err(Interrupted)
    } else {
        Ok(())
    }
}

/// Runs `f` on a thread of its own and waits for it, but returns `Err(Interrupted)` within
/// 50 ms of Ctrl-C: for long library calls (an SVD) that cannot poll the flag themselves.
/// An abandoned `f` finishes in the background and its result is dropped.
pub fn interruptible<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Interrupted> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    loop {
        check()?;
        match rx.recv_timeout(std::time::Duration::from_millis(50)) {
            Ok(v) => return Ok(v),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            // `f` panicked: surface it here, where `guard::catch` turns it into a message.
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                panic!("a background computation failed")
            }
        }
    }
}

/// Raises the flag as Ctrl-C would (tests, and callers that cancel work).
pub fn request() {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Clears the flag before the next REPL line or script.
pub fn reset() {
    INTERRUPTED.store(false, Ordering::SeqCst);
}
