//! Ctrl-C handling: a process-wide flag that long native work polls, so an interrupt stops
//! the computation (and the script) rather than the process or the REPL.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static INSTALL: Once = Once::new();

/// The error long-running functions return when the user pressed Ctrl-C.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("interrupted")]
pub struct Interrupted;

/// Installs the SIGINT handler once; later calls do nothing.
pub fn install_handler() {
    INSTALL.call_once(|| {
        // Failure means another handler is installed (embedding); polling still works then.
        let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst));
    });
}

/// True once Ctrl-C was pressed since the last [`reset`].
pub fn requested() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

/// `Err(Interrupted)` once Ctrl-C was pressed; call it between units of work.
pub fn check() -> Result<(), Interrupted> {
    if requested() { Err(Interrupted) } else { Ok(()) }
}

/// Raises the flag as Ctrl-C would (tests, and callers that cancel work).
pub fn request() {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Clears the flag before the next REPL line or script.
pub fn reset() {
    INTERRUPTED.store(false, Ordering::SeqCst);
}
